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

/// A streaming echo (`respond_fragments`, reads of `set_read_size`) allocates nothing per piece
/// or message once its buffers have grown: a piece goes back from the input buffer, which is
/// taken and given back, not replaced. One message in flight at a time, so every read ends
/// with the piece it brought (pieces that share a read with the next frame go through the
/// reply buffer: `src/blocking/websocket_tests.rs` checks it is sized once).
#[test]
fn respond_fragments_allocates_nothing_per_piece_in_steady_state() {
    const MESSAGES: usize = 40;
    const WARM_UP: usize = 10;
    let config = rfc6455::Config::server().with_delivery(rfc6455::Delivery::Streaming);
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .with_config(rfc6455::blocking::ServerConfig { config, ..Default::default() });
    let addr = server.local_addr().unwrap();
    let server = thread::spawn(move || {
        let mut ws = server.accept().unwrap().handshake().unwrap();
        ws.set_read_size(64 << 10);
        let (mut ended, mut pieces, mut made) = (0, 0, 0);
        loop {
            let mut batch = Ok(0);
            let counted = allocations(|| {
                batch = ws.respond_fragments(|event| match event {
                    rfc6455::Event::Fragment { kind, data, is_last } => {
                        pieces += 1;
                        ended += usize::from(is_last);
                        Some((kind, data, is_last))
                    }
                    _ => None,
                })
            });
            if batch.is_err() {
                break;
            }
            if ended > WARM_UP && ended < MESSAGES {
                made += counted;
            }
        }
        (pieces, made)
    });
    // The echo answers while a message is still being sent: the sender has its own thread,
    // and sends the next message once the last echo is in.
    let (mut reader, writer) = connect(&format!("ws://{addr}/")).unwrap().split().unwrap();
    let message = vec![3u8; 256 << 10];
    let sent = message.clone();
    let (echoed, echoes) = std::sync::mpsc::channel::<()>();
    let sender = thread::spawn(move || {
        for _ in 0..MESSAGES {
            writer.send_binary(&sent).unwrap();
            echoes.recv().unwrap();
        }
        writer
    });
    for _ in 0..MESSAGES {
        assert_eq!(reader.read().unwrap(), rfc6455::Message::Binary(message.clone()));
        echoed.send(()).unwrap();
    }
    let writer = sender.join().unwrap();
    writer.close(rfc6455::CloseCode::NORMAL, "").unwrap();
    while reader.read().is_ok() {}
    let (pieces, made) = server.join().unwrap();
    assert!(pieces >= 4 * MESSAGES, "the echo streamed ({pieces} pieces for {MESSAGES} messages)");
    assert_eq!(made, 0, "the streaming echo allocated {made} times in steady state");
}
