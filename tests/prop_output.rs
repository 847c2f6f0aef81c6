//! Property: the output is the same frames whichever way it is queued and written. Messages
//! sent back from the connection's own buffers (`send_received`), handed over (`send_owned`),
//! or copied (`send_message`), with pings between them, reach the peer as the same messages in
//! the same order, whether the output is written one piece at a time (`output`) or vectored
//! (`output_parts`), in writes of any size, in both roles (a client masks what it sends,
//! RFC 6455 §5.3, including a payload masked in place).
//!
//! Cases: `PROPTEST_CASES` (default 32 here) raises the count for a deep run.

use proptest::prelude::*;
use rfc6455::{Config, Connection, Event, Limits, MaskKeySource, Message, MessageKind, Role};

fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

#[derive(Debug, Clone)]
enum Op {
    /// Receive this message from the peer, then send it back with `send_received`.
    Echo(MessageKind, usize),
    /// Send a message of this size with `send_owned`.
    Owned(MessageKind, usize),
    /// Send a message of this size with `send_message`.
    Copied(MessageKind, usize),
    Ping,
}

fn size() -> impl Strategy<Value = usize> {
    prop_oneof![0usize..200, 7000usize..9000, 16000usize..70000]
}

fn kind() -> impl Strategy<Value = MessageKind> {
    prop_oneof![Just(MessageKind::Text), Just(MessageKind::Binary)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (kind(), size()).prop_map(|(k, n)| Op::Echo(k, n)),
        2 => (kind(), size()).prop_map(|(k, n)| Op::Owned(k, n)),
        1 => (kind(), size()).prop_map(|(k, n)| Op::Copied(k, n)),
        1 => Just(Op::Ping),
    ]
}

fn payload(kind: MessageKind, len: usize, seed: usize) -> Vec<u8> {
    match kind {
        // ASCII and 2-byte letters, cut on a code point boundary.
        MessageKind::Text => {
            let mut s = String::new();
            let mut i = seed;
            while s.len() < len {
                s.push(if i.is_multiple_of(5) { 'é' } else { (b'a' + (i % 26) as u8) as char });
                i += 1;
            }
            while s.len() > len {
                s.pop();
            }
            s.into_bytes()
        }
        MessageKind::Binary => (0..len).map(|i| (i + seed) as u8).collect(),
    }
}

fn message(kind: MessageKind, bytes: Vec<u8>) -> Message {
    match kind {
        MessageKind::Text => Message::Text(String::from_utf8(bytes).unwrap()),
        MessageKind::Binary => Message::Binary(bytes),
    }
}

fn limits() -> Limits {
    Limits { max_output_buffer: usize::MAX, ..Limits::default() }
}

/// Write all of `conn`'s output into `wire`, `sizes` (cycled) bytes at most per write.
fn write_out(conn: &mut Connection, wire: &mut Vec<u8>, sizes: &[usize], vectored: bool) {
    let mut i = 0;
    while conn.wants_write() {
        let limit = sizes[i % sizes.len()].max(1);
        i += 1;
        let n = if vectored {
            let mut left = limit;
            for part in conn.output_parts() {
                let take = part.len().min(left);
                wire.extend_from_slice(&part[..take]);
                left -= take;
            }
            limit - left
        } else {
            let out = conn.output();
            let take = out.len().min(limit);
            wire.extend_from_slice(&out[..take]);
            take
        };
        conn.consume_output(n);
    }
}

fn run(role: Role, ops: &[Op], sizes: &[usize], vectored: bool) -> Result<(), TestCaseError> {
    let peer_role = if role == Role::Server { Role::Client } else { Role::Server };
    let mut conn =
        Connection::new(Config::new(role).with_limits(limits()).unwrap().with_mask_keys(MaskKeySource::Seeded(1)));
    let mut peer =
        Connection::new(Config::new(peer_role).with_limits(limits()).unwrap().with_mask_keys(MaskKeySource::Seeded(2)));
    let mut wire = Vec::new();
    let mut expected = Vec::new();
    for (seed, op) in ops.iter().enumerate() {
        match *op {
            Op::Echo(kind, len) => {
                let data = payload(kind, len, seed);
                peer.send_message(kind, &data).unwrap();
                let mut incoming = Vec::new();
                write_out(&mut peer, &mut incoming, &[usize::MAX], false);
                let mut at = 0;
                let mut got = None;
                while got.is_none() {
                    let buf = conn.read_buf();
                    let n = buf.len().min(incoming.len() - at);
                    buf[..n].copy_from_slice(&incoming[at..at + n]);
                    conn.commit(n);
                    at += n;
                    match conn.next_event().unwrap() {
                        Some(Event::Text(t)) => got = Some((MessageKind::Text, t.as_bytes().to_vec())),
                        Some(Event::Binary(b)) => got = Some((MessageKind::Binary, b.to_vec())),
                        Some(other) => panic!("unexpected {other:?}"),
                        None => {}
                    }
                }
                prop_assert_eq!(got, Some((kind, data.clone())));
                conn.send_received(kind).unwrap();
                // Once: the message has been sent.
                prop_assert!(conn.send_received(kind).is_err());
                expected.push(message(kind, data));
            }
            Op::Owned(kind, len) => {
                let data = payload(kind, len, seed);
                conn.send_owned(kind, data.clone()).unwrap();
                expected.push(message(kind, data));
            }
            Op::Copied(kind, len) => {
                let data = payload(kind, len, seed);
                conn.send_message(kind, &data).unwrap();
                expected.push(message(kind, data));
            }
            Op::Ping => {
                conn.ping(b"p").unwrap();
                expected.push(Message::Ping(b"p".to_vec()));
            }
        }
        // Write part of the time only, so frames queue behind an attached payload.
        if !seed.is_multiple_of(2) {
            write_out(&mut conn, &mut wire, sizes, vectored);
        }
    }
    write_out(&mut conn, &mut wire, sizes, vectored);
    let mut checker = Connection::new(
        Config::new(peer_role).with_limits(Limits { max_input_buffer: usize::MAX, ..limits() }).unwrap(),
    );
    checker.receive(&wire).unwrap();
    let mut got = Vec::new();
    while let Some(event) = checker.next_event().unwrap() {
        got.push(Message::from_event(&event).unwrap());
    }
    prop_assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(&expected) {
        prop_assert!(g == e, "message differs");
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(32))]

    #[test]
    fn s5_2_messages_reach_the_peer_however_queued_and_written(
        server in any::<bool>(),
        vectored in any::<bool>(),
        ops in prop::collection::vec(op(), 1..8),
        sizes in prop::collection::vec(prop_oneof![1usize..20, 1usize..70000, Just(usize::MAX)], 1..4),
    ) {
        let role = if server { Role::Server } else { Role::Client };
        run(role, &ops, &sizes, vectored)?;
    }
}

#[test]
fn send_received_without_a_received_message_is_refused() {
    let mut conn = Connection::new(Config::server());
    assert_eq!(conn.send_received(MessageKind::Binary), Err(rfc6455::UsageError::NoReceivedMessage));
}

#[test]
fn a_large_echo_goes_out_as_header_and_payload_pieces() {
    let mut client = Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(3)));
    let mut server = Connection::new(Config::server());
    let data = vec![42u8; 64 << 10];
    client.send_binary(&data).unwrap();
    let wire = client.output().to_vec();
    let mut at = 0;
    loop {
        let buf = server.read_buf();
        let n = buf.len().min(wire.len() - at);
        buf[..n].copy_from_slice(&wire[at..at + n]);
        server.commit(n);
        at += n;
        if let Some(event) = server.next_event().unwrap() {
            assert!(matches!(event, Event::Binary(b) if b == &data[..]));
            break;
        }
    }
    server.send_received(MessageKind::Binary).unwrap();
    let [header, payload, after] = server.output_parts();
    assert_eq!(header, &[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]);
    assert_eq!(payload, &data[..]);
    assert!(after.is_empty());
}

/// A compressed frame's header is written in place, in room left for the longest header the
/// compressed output could need; when the output turns out shorter than a length field's
/// range (RFC 6455 §5.2: the minimal length encoding MUST be used) the payload moves down.
/// Every length class on either side of the boundaries, both directions (a client masks).
#[test]
fn rfc7692_compressed_frames_have_minimal_headers_at_every_length_class() {
    use rfc6455::extensions::permessage_deflate::{DeflateConfig, DeflateParams};
    let params = DeflateParams {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
    };
    let deflate = DeflateConfig::default().with_params(params);
    let mut client = Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(3)).with_deflate(deflate));
    let mut server = Connection::new(Config::server().with_deflate(deflate));
    let mut noise_state = 7u32;
    let mut noise = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                noise_state = noise_state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (noise_state >> 16) as u8
            })
            .collect()
    };
    let mut payloads: Vec<Vec<u8>> = Vec::new();
    for n in [40, 100, 125, 126, 127, 200, 1000, 65535, 65536, 70000, 200_000] {
        payloads.push(vec![b'a'; n]);
        payloads.push(noise(n));
    }
    {
        let (sender, receiver) = (&mut client, &mut server);
        for p in &payloads {
            sender.send_message_with(MessageKind::Binary, p, true).unwrap();
            let wire = sender.output().to_vec();
            sender.consume_output(wire.len());
            // The length field is the minimal one for the payload that follows it (§5.2).
            let len7 = wire[1] & 0x7F;
            let header =
                2 + match len7 {
                    126 => 2,
                    127 => 8,
                    _ => 0,
                } + if wire[1] & 0x80 != 0 { 4 } else { 0 };
            let payload_len = wire.len() - header;
            let minimal = if payload_len < 126 {
                payload_len as u8
            } else if payload_len < 65536 {
                126
            } else {
                127
            };
            assert_eq!(len7, minimal, "{} bytes compressed to {payload_len}", p.len());
            let mut at = 0;
            let mut got = None;
            while at < wire.len() {
                let n = (wire.len() - at).min(64 << 10);
                receiver.receive(&wire[at..at + n]).unwrap();
                at += n;
                if let Some(event) = receiver.next_event().unwrap() {
                    got = Message::from_event(&event);
                }
            }
            assert_eq!(got, Some(Message::Binary(p.clone())));
        }
    }
    for p in &payloads {
        server.send_message_with(MessageKind::Binary, p, true).unwrap();
        let wire = server.output().to_vec();
        server.consume_output(wire.len());
        let mut at = 0;
        let mut got = None;
        while at < wire.len() {
            let n = (wire.len() - at).min(64 << 10);
            client.receive(&wire[at..at + n]).unwrap();
            at += n;
            if let Some(event) = client.next_event().unwrap() {
                got = Message::from_event(&event);
            }
        }
        assert_eq!(got, Some(Message::Binary(p.clone())));
    }
}
