//! Steady state allocates nothing: once a connection's buffers have grown to their working
//! size, receiving, answering and sending messages makes no heap allocation. Counted with a
//! counting global allocator (counts, not timings: this test does not depend on the machine).

use rfc6455::{Config, Connection, Event, Limits, MaskKeySource, MessageKind};

mod alloc_support;

use alloc_support::{Counting, allocations};

#[global_allocator]
static GLOBAL: Counting = Counting;

fn mixed_text(len: usize) -> String {
    "héllo wörld κόσμε いろは 天地 😀 "
        .chars()
        .cycle()
        .scan(0, |n, c| {
            *n += c.len_utf8();
            (*n <= len).then_some(c)
        })
        .collect()
}

/// Masked client frames: 16 B binary and text, 64 KiB binary and text, a message in four
/// fragments with a Ping between them.
fn client_traffic() -> Vec<u8> {
    let limits = Limits { max_output_buffer: usize::MAX, ..Limits::default() };
    let mut client =
        Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(5)).with_limits(limits).unwrap());
    for i in 0..64u8 {
        client.send_binary(&[i; 16]).unwrap();
        client.send_text("sixteen bytes!!!").unwrap();
    }
    client.send_binary(&vec![7u8; 64 << 10]).unwrap();
    client.send_text(&mixed_text(64 << 10)).unwrap();
    let text = mixed_text(4 << 10);
    let quarter = text.len() / 4;
    client.send_fragment(MessageKind::Text, &text.as_bytes()[..quarter], false).unwrap();
    client.ping(b"ping").unwrap();
    client.send_fragment(MessageKind::Text, &text.as_bytes()[quarter..2 * quarter], false).unwrap();
    client.send_fragment(MessageKind::Text, &text.as_bytes()[2 * quarter..3 * quarter], false).unwrap();
    client.send_fragment(MessageKind::Text, &text.as_bytes()[3 * quarter..], true).unwrap();
    client.output().to_vec()
}

/// Feed `wire` as a socket would (read_buf + commit, `chunk` bytes at most per read), echo
/// every data message through `scratch`, and write the output after every read. Returns the
/// number of messages.
fn serve(conn: &mut Connection, wire: &[u8], chunk: usize, scratch: &mut Vec<u8>) -> usize {
    let mut at = 0;
    let mut messages = 0;
    while at < wire.len() {
        let buf = conn.read_buf();
        let n = buf.len().min(chunk).min(wire.len() - at);
        buf[..n].copy_from_slice(&wire[at..at + n]);
        conn.commit(n);
        at += n;
        loop {
            let kind = match conn.next_event().expect("valid traffic") {
                None => break,
                Some(Event::Text(t)) => {
                    scratch.clear();
                    scratch.extend_from_slice(t.as_bytes());
                    MessageKind::Text
                }
                Some(Event::Binary(b)) => {
                    scratch.clear();
                    scratch.extend_from_slice(b);
                    MessageKind::Binary
                }
                Some(_) => continue,
            };
            conn.send_message(kind, scratch).unwrap();
            messages += 1;
        }
        let pending = conn.output().len();
        conn.consume_output(pending);
    }
    messages
}

#[test]
fn server_receiving_and_echoing_allocates_nothing_per_message_in_steady_state() {
    let wire = client_traffic();
    for chunk in [usize::MAX, 1500, 7] {
        let mut conn = Connection::new(Config::server());
        let mut scratch = Vec::new();
        // Two rounds grow every buffer to its working size.
        serve(&mut conn, &wire, chunk, &mut scratch);
        serve(&mut conn, &wire, chunk, &mut scratch);
        let mut messages = 0;
        let n = allocations(|| {
            for _ in 0..10 {
                messages += serve(&mut conn, &wire, chunk, &mut scratch);
            }
        });
        assert_eq!(messages, 10 * 131);
        assert_eq!(n, 0, "{n} allocations for {messages} messages read {chunk} bytes at a time");
    }
}

/// [`serve`], echoing every data message with `send_received` (from the connection's own
/// buffers: a large message's buffer moves to the output and back) and writing the output in
/// as many pieces as it comes in.
fn serve_received(conn: &mut Connection, wire: &[u8], chunk: usize) -> usize {
    let mut at = 0;
    let mut messages = 0;
    while at < wire.len() {
        let buf = conn.read_buf();
        let n = buf.len().min(chunk).min(wire.len() - at);
        buf[..n].copy_from_slice(&wire[at..at + n]);
        conn.commit(n);
        at += n;
        loop {
            let kind = match conn.next_event().expect("valid traffic") {
                None => break,
                Some(Event::Text(_)) => MessageKind::Text,
                Some(Event::Binary(_)) => MessageKind::Binary,
                Some(_) => continue,
            };
            conn.send_received(kind).unwrap();
            messages += 1;
        }
        while conn.wants_write() {
            let [a, b, c] = conn.output_parts();
            let pending = a.len() + b.len() + c.len();
            conn.consume_output(pending);
        }
    }
    messages
}

#[test]
fn server_echoing_from_its_own_buffers_allocates_nothing_per_message_in_steady_state() {
    let wire = client_traffic();
    for chunk in [usize::MAX, 1500, 7] {
        let mut conn = Connection::new(Config::server());
        serve_received(&mut conn, &wire, chunk);
        serve_received(&mut conn, &wire, chunk);
        let mut messages = 0;
        let n = allocations(|| {
            for _ in 0..10 {
                messages += serve_received(&mut conn, &wire, chunk);
            }
        });
        assert_eq!(messages, 10 * 131);
        assert_eq!(n, 0, "{n} allocations for {messages} messages read {chunk} bytes at a time");
    }
}

#[test]
fn client_sending_allocates_nothing_per_message_in_steady_state() {
    let mut conn = Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(9)));
    let big = vec![1u8; 64 << 10];
    let text = mixed_text(64 << 10);
    let round = |conn: &mut Connection| {
        for _ in 0..100 {
            conn.send_binary(b"sixteen bytes!!!").unwrap();
            conn.send_text("sixteen bytes!!!").unwrap();
        }
        conn.send_binary(&big).unwrap();
        conn.send_text(&text).unwrap();
        conn.ping(b"p").unwrap();
        let n = conn.output().len();
        conn.consume_output(n);
    };
    round(&mut conn);
    let n = allocations(|| {
        for _ in 0..10 {
            round(&mut conn);
        }
    });
    assert_eq!(n, 0, "{n} allocations sending 2030 messages");
}

#[test]
fn an_idle_connection_holds_no_heap_buffers_until_data_arrives() {
    // The counter counts.
    assert_eq!(allocations(|| drop(std::hint::black_box(vec![1u8; 10]))), 1);
    let mut conn = Connection::new(Config::server());
    assert_eq!(conn.buffered_capacity(), 0);
    // After a small message, only the input buffer is held, at its first size: 8 KiB.
    let mut client = Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(1)));
    client.send_binary(b"small").unwrap();
    let buf = conn.read_buf();
    let n = client.output().len();
    buf[..n].copy_from_slice(client.output());
    conn.commit(n);
    assert!(matches!(conn.next_event(), Ok(Some(Event::Binary(b"small")))));
    assert!(matches!(conn.next_event(), Ok(None)));
    assert_eq!(conn.buffered_capacity(), 8 << 10);
    // The connection's own state, for the record (`cargo test -- --nocapture`).
    println!("size_of::<Connection>() = {} bytes", std::mem::size_of::<Connection>());
}

#[test]
fn an_empty_input_buffer_can_be_handed_out_and_given_back_without_allocating() {
    let mut conn =
        Connection::new(Config::server().with_limits(Limits { max_input_buffer: 2048, ..Limits::default() }).unwrap());
    let mut client = Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(1)));
    let deliver = |conn: &mut Connection, bytes: &[u8]| {
        let buf = conn.read_buf();
        assert!(buf.len() <= 2048, "read room {} over the input limit", buf.len());
        buf[..bytes.len()].copy_from_slice(bytes);
        conn.commit(bytes.len());
    };
    client.send_binary(b"small").unwrap();
    let frame = client.output().to_vec();
    client.consume_output(frame.len());
    // Nothing held before the first read; nothing to hand out.
    assert!(conn.take_input_buffer().is_none());
    deliver(&mut conn, &frame);
    assert!(matches!(conn.next_event(), Ok(Some(Event::Binary(b"small")))));
    assert!(matches!(conn.next_event(), Ok(None)));
    let buf = conn.take_input_buffer().expect("an empty input buffer is handed out");
    assert_eq!(conn.buffered_capacity(), 0);
    // A larger buffer is used within the limit; while one is held another is refused.
    let mut spare = Some(vec![0u8; 64 << 10]);
    assert!(conn.give_input_buffer(spare.take().unwrap()).is_ok());
    assert!(conn.give_input_buffer(buf).is_err());
    // Half a frame waiting to be decoded keeps the buffer.
    deliver(&mut conn, &frame[..3]);
    assert!(matches!(conn.next_event(), Ok(None)));
    assert!(conn.take_input_buffer().is_none());
    deliver(&mut conn, &frame[3..]);
    assert!(matches!(conn.next_event(), Ok(Some(Event::Binary(b"small")))));
    assert!(matches!(conn.next_event(), Ok(None)));
    // Steady state: hand out, give back, read, decode: no allocation.
    let n = allocations(|| {
        for _ in 0..100 {
            let buf = conn.take_input_buffer().unwrap();
            conn.give_input_buffer(buf).unwrap();
            deliver(&mut conn, &frame);
            assert!(matches!(conn.next_event(), Ok(Some(Event::Binary(b"small")))));
            assert!(matches!(conn.next_event(), Ok(None)));
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn an_observed_connection_allocates_nothing_per_frame_either() {
    // The frame log (rfc6455::observe) when on: fixed-size records into a queue allocated once,
    // taken into a reused vector.
    use rfc6455::observe::FrameLog;
    use std::sync::Arc;
    use std::time::Duration;
    let wire = client_traffic();
    let log = Arc::new(FrameLog::new(4096));
    let mut taken = Vec::with_capacity(4096);
    for chunk in [usize::MAX, 1500, 7] {
        let mut conn = Connection::new(Config::server().with_observer(log.clone()));
        serve_received(&mut conn, &wire, chunk);
        serve_received(&mut conn, &wire, chunk);
        log.take(&mut taken, Duration::ZERO);
        taken.clear();
        let mut messages = 0;
        let mut entries = 0;
        let n = allocations(|| {
            for _ in 0..10 {
                messages += serve_received(&mut conn, &wire, chunk);
                assert_eq!(log.take(&mut taken, Duration::ZERO), 0, "nothing dropped");
                entries += taken.len();
                taken.clear();
            }
        });
        assert_eq!(messages, 10 * 131);
        // Per round: 135 frames (131 messages, one in four fragments, and a Ping) and 131
        // messages received; 131 messages echoed in one frame each, and a Pong.
        assert_eq!(entries, 10 * (135 + 131 + 132 + 131), "every frame and message reported");
        assert_eq!(n, 0, "{n} allocations for {messages} observed messages read {chunk} bytes at a time");
    }
}
