//! The blocking layer allocates nothing per message in steady state, and gives memory back
//! after a large message. Counted with a counting global allocator (counts, not timings: this
//! test does not depend on the machine).

use std::thread;

use rfc6455::blocking::{Server, connect};

mod alloc_support;

use alloc_support::{Counting, allocations};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The number a `Debug` string reports for `field`.
fn debug_field(debug: &str, field: &str) -> usize {
    let label = format!("{field}: ");
    let at = debug.find(&label).unwrap_or_else(|| panic!("Debug shows no {field}: {debug}")) + label.len();
    debug[at..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap()
}

/// A split Writer reuses one buffer: sending allocates nothing once it has grown, and after a
/// large message the buffer returns to a small capacity.
#[test]
fn split_writer_allocates_nothing_per_message_and_shrinks_after_a_large_one() {
    let server = Server::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let server = thread::spawn(move || {
        let mut ws = server.accept().unwrap().handshake().unwrap();
        let mut count = 0;
        while let Ok(message) = ws.read() {
            if message.is_data() {
                count += 1;
            }
        }
        count
    });
    let (mut reader, writer) = connect(&format!("ws://{addr}/")).unwrap().split().unwrap();
    for _ in 0..10 {
        writer.send_text("steady state").unwrap();
    }
    let made = allocations(|| {
        for _ in 0..1000 {
            writer.send_text("steady state").unwrap();
        }
    });
    assert_eq!(made, 0, "sending allocated {made} times in 1000 messages");

    writer.send_binary(&vec![7u8; 4 << 20]).unwrap();
    writer.send_text("steady state").unwrap();
    let capacity = debug_field(&format!("{writer:?}"), "outbox_capacity");
    assert!(capacity <= 64 << 10, "the outbox kept {capacity} bytes after a large message");

    writer.close(rfc6455::CloseCode::NORMAL, "").unwrap();
    while reader.read().is_ok() {}
    assert_eq!(server.join().unwrap(), 1012);
}

/// `respond_batch` reuses one reply buffer, and gives it back after a large message.
#[test]
fn respond_batch_gives_back_its_reply_buffer_after_a_large_message() {
    let server = Server::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let server = thread::spawn(move || {
        let mut ws = server.accept().unwrap().handshake().unwrap();
        let mut largest = 0;
        let mut after = 0;
        loop {
            let batch = ws.respond_batch(|event| match event {
                rfc6455::Event::Binary(data) => Some((rfc6455::MessageKind::Binary, data)),
                _ => None,
            });
            if batch.is_err() {
                break;
            }
            after = debug_field(&format!("{ws:?}"), "reply_capacity");
            largest = largest.max(after);
        }
        (largest, after)
    });
    let mut ws = connect(&format!("ws://{addr}/")).unwrap();
    for size in [100, 4 << 20, 100] {
        ws.send_binary(&vec![1u8; size]).unwrap();
        assert_eq!(ws.read().unwrap(), rfc6455::Message::Binary(vec![1u8; size]));
    }
    ws.close(rfc6455::CloseCode::NORMAL, "").unwrap();
    while ws.read().is_ok() {}
    let (largest, after) = server.join().unwrap();
    assert!(largest <= 64 << 10, "the reply buffer kept {largest} bytes after a batch");
    assert!(after > 0 || largest == 0, "the reply buffer is reused");
}
