//! permessage-deflate (RFC 7692) through the public API: an in-memory client and server with
//! the extension negotiated, every parameter combination, the errors it adds, and the bound on
//! inflation.

use rfc6455::extensions::permessage_deflate::{DeflateConfig, DeflateParams};
use rfc6455::frame::OpCode;
use rfc6455::frame::decoder::{FrameDecoder, Step};
use rfc6455::frame::encoder::encode_frame;
use rfc6455::{Config, Connection, Delivery, Error, Event, Limits, MaskKeySource, Message, MessageKind, ProtocolError};

fn params(server_nct: bool, client_nct: bool, server_bits: u8, client_bits: u8) -> DeflateParams {
    DeflateParams {
        server_no_context_takeover: server_nct,
        client_no_context_takeover: client_nct,
        server_max_window_bits: server_bits,
        client_max_window_bits: client_bits,
    }
}

fn pair(p: DeflateParams) -> (Connection, Connection) {
    let deflate = DeflateConfig::default().with_params(p);
    let client = Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(3)).with_deflate(deflate));
    let server = Connection::new(Config::server().with_deflate(deflate));
    (client, server)
}

/// Move everything `from` has queued into `to`, in pieces of `chunk` bytes, and collect the
/// messages `to` produces.
fn transfer(from: &mut Connection, to: &mut Connection, chunk: usize) -> Result<Vec<Message>, Error> {
    let bytes = from.output().to_vec();
    from.consume_output(bytes.len());
    let mut messages = Vec::new();
    for piece in bytes.chunks(chunk.max(1)) {
        to.receive(piece)?;
        while let Some(event) = to.next_event()? {
            messages.push(Message::from_event(&event).expect("whole messages"));
        }
    }
    Ok(messages)
}

/// The (opcode, rsv, payload) of every frame in `bytes` (unmasked).
fn frames(bytes: &[u8]) -> Vec<(OpCode, u8, Vec<u8>)> {
    let mut decoder = FrameDecoder::new();
    let mut buf = bytes.to_vec();
    let mut pos = 0;
    let mut out: Vec<(OpCode, u8, Vec<u8>)> = Vec::new();
    while let Ok(step) = decoder.decode(&mut buf[pos..]) {
        match step {
            Step::NeedMore => break,
            Step::Header { header, len } => {
                pos += len;
                out.push((header.opcode, header.rsv, Vec::new()));
            }
            Step::Payload { len, .. } => {
                out.last_mut().unwrap().2.extend_from_slice(&buf[pos..pos + len]);
                pos += len;
            }
        }
    }
    out
}

fn sample_text() -> String {
    "The quick brown fox jumps over the lazy dog. κόσμε. ".repeat(200)
}

#[test]
fn rfc7692_compressed_round_trip_for_every_parameter_combination() {
    let text = sample_text();
    let binary: Vec<u8> = (0..40_000u32).map(|i| (i % 97) as u8).collect();
    for server_nct in [false, true] {
        for client_nct in [false, true] {
            for server_bits in [8u8, 9, 12, 15] {
                for client_bits in [8u8, 9, 12, 15] {
                    let p = params(server_nct, client_nct, server_bits, client_bits);
                    let (mut client, mut server) = pair(p);
                    for _ in 0..3 {
                        client.send_text(&text).unwrap();
                        client.send_binary(&binary).unwrap();
                        let wire = frames(client.output());
                        // The client's window is never 2^8 here unless negotiated: then it
                        // sends uncompressed (zlib cannot compress with it).
                        let compressed = client_bits >= 9;
                        assert_eq!(wire[0].1 == 0x40, compressed, "{p:?}");
                        if compressed {
                            assert!(wire[0].2.len() < text.len() / 4, "{p:?}: {} bytes", wire[0].2.len());
                        }
                        let got = transfer(&mut client, &mut server, 1000).unwrap();
                        assert_eq!(got, vec![Message::Text(text.clone()), Message::Binary(binary.clone())], "{p:?}");

                        server.send_text(&text).unwrap();
                        assert_eq!(frames(server.output())[0].1 == 0x40, server_bits >= 9, "{p:?}");
                        let got = transfer(&mut server, &mut client, 777).unwrap();
                        assert_eq!(got, vec![Message::Text(text.clone())], "{p:?}");
                    }
                }
            }
        }
    }
}

/// About 12 KiB of varied words: little repetition within itself, so a second copy compresses
/// far better than the first only when the context is kept.
fn varied_text() -> String {
    let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo"];
    let mut state = 12345u32;
    (0..2000)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            format!("{}{}", words[(state >> 16) as usize % words.len()], (state >> 8) % 100)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn rfc7692_s7_2_3_2_context_takeover_makes_repeats_cheaper() {
    let text = varied_text();
    let (mut client, _) = pair(params(false, false, 15, 15));
    client.send_text(&text).unwrap();
    let first = frames(client.output())[0].2.len();
    let n = client.output().len();
    client.consume_output(n);
    client.send_text(&text).unwrap();
    let second = frames(client.output())[0].2.len();
    assert!(second < first / 4, "second copy {second} bytes, first {first}");

    let (mut client, _) = pair(params(false, true, 15, 15));
    client.send_text(&text).unwrap();
    let first = frames(client.output())[0].2.len();
    let n = client.output().len();
    client.consume_output(n);
    client.send_text(&text).unwrap();
    assert_eq!(frames(client.output())[0].2.len(), first, "no context takeover: same bytes");
}

#[test]
fn rfc7692_s6_fragmented_compressed_message_with_a_ping_between() {
    let text = sample_text();
    let (mut client, mut server) = pair(params(false, false, 15, 15));
    let (a, b) = text.as_bytes().split_at(1001); // splits inside a multi-byte character or not
    client.send_fragment_with(MessageKind::Text, a, false, true).unwrap();
    client.ping(b"p").unwrap();
    client.send_fragment(MessageKind::Text, b, true).unwrap();
    let wire = frames(client.output());
    assert_eq!((wire[0].0, wire[0].1), (OpCode::Text, 0x40), "RSV1 on the first frame");
    assert_eq!((wire[1].0, wire[1].1), (OpCode::Ping, 0));
    assert_eq!((wire[2].0, wire[2].1), (OpCode::Continuation, 0), "RSV1 only on the first frame");
    for chunk in [1, 7, 4096] {
        let (mut c, mut s) = pair(params(false, false, 15, 15));
        c.send_fragment_with(MessageKind::Text, a, false, true).unwrap();
        c.ping(b"p").unwrap();
        c.send_fragment(MessageKind::Text, b, true).unwrap();
        let got = transfer(&mut c, &mut s, chunk).unwrap();
        assert_eq!(got, vec![Message::Ping(b"p".to_vec()), Message::Text(text.clone())], "chunk {chunk}");
    }
    let got = transfer(&mut client, &mut server, 100).unwrap();
    assert_eq!(got.len(), 2);
}

#[test]
fn rfc7692_s6_sender_chooses_per_message_and_threshold_applies() {
    let (mut client, mut server) = pair(params(false, false, 15, 15));
    client.send_text("tiny").unwrap(); // under the default threshold
    client.send_message_with(MessageKind::Text, sample_text().as_bytes(), false).unwrap();
    client.send_message_with(MessageKind::Binary, b"ab", true).unwrap();
    let rsv: Vec<u8> = frames(client.output()).iter().map(|f| f.1).collect();
    assert_eq!(rsv, vec![0, 0, 0x40]);
    let got = transfer(&mut client, &mut server, 50).unwrap();
    assert_eq!(got, vec![Message::Text("tiny".into()), Message::Text(sample_text()), Message::Binary(b"ab".to_vec())]);
}

/// A server that receives `frame_bytes` (built by `build`), expecting `error`.
fn server_fails_with(frame_bytes: &[u8], error: ProtocolError, code: u16) {
    let (_, mut server) = pair(params(false, false, 15, 15));
    server.receive(frame_bytes).unwrap();
    let got = loop {
        match server.next_event() {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("no error"),
            Err(e) => break e,
        }
    };
    assert!(matches!(got, Error::Protocol(e) if e == error), "{got}");
    let close = frames(server.output()).into_iter().find(|f| f.0 == OpCode::Close).expect("a Close");
    assert_eq!(u16::from_be_bytes([close.2[0], close.2[1]]), code);
}

fn masked(fin: bool, rsv: u8, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(&mut out, fin, rsv, opcode, payload, Some([1, 2, 3, 4]));
    out
}

#[test]
fn rfc7692_s6_1_rsv1_on_a_control_frame_fails_with_1002() {
    server_fails_with(&masked(true, 0x40, OpCode::Ping, b""), ProtocolError::ReservedBitsSet, 1002);
}

#[test]
fn rfc7692_s6_1_rsv1_on_a_continuation_frame_fails_with_1002() {
    let mut bytes = masked(false, 0x40, OpCode::Text, &[0xf2, 0x48]);
    bytes.extend(masked(true, 0x40, OpCode::Continuation, &[0xcd, 0xc9, 0xc9, 0x07, 0x00]));
    server_fails_with(&bytes, ProtocolError::ReservedBitsSet, 1002);
}

#[test]
fn rsv2_and_rsv3_still_fail_with_deflate_negotiated() {
    server_fails_with(&masked(true, 0x20, OpCode::Text, b"a"), ProtocolError::ReservedBitsSet, 1002);
    server_fails_with(&masked(true, 0x10, OpCode::Text, b"a"), ProtocolError::ReservedBitsSet, 1002);
}

#[test]
fn corrupt_compressed_payload_fails_with_1007() {
    server_fails_with(&masked(true, 0x40, OpCode::Binary, &[0xff; 8]), ProtocolError::InvalidCompressedData, 1007);
}

#[test]
fn s8_1_invalid_utf8_inside_compressed_text_fails_with_1007() {
    let (mut client, _) = pair(params(false, false, 15, 15));
    client.send_message_with(MessageKind::Binary, b"valid \xff\xfe then invalid", true).unwrap();
    let mut bytes = client.output().to_vec();
    bytes[0] = (bytes[0] & 0xF0) | 0x1; // the same compressed payload, as a text message
    server_fails_with(&bytes, ProtocolError::InvalidUtf8, 1007);
}

#[test]
fn decompression_bomb_fails_with_1009_without_inflating_past_the_limit() {
    let limits = Limits { max_frame_size: 64 << 10, max_message_size: 64 << 10, ..Limits::default() };
    let deflate = DeflateConfig { level: 9, ..DeflateConfig::default() }.with_params(params(false, false, 15, 15));
    let mut client = Connection::new(Config::client().with_deflate(deflate));
    let mut server = Connection::new(Config::server().with_limits(limits).unwrap().with_deflate(deflate));
    client.send_binary(&vec![0u8; 32 << 20]).unwrap();
    let wire = client.output().to_vec();
    assert!(wire.len() < 64 << 10, "32 MiB of zeros compress to {} bytes", wire.len());
    server.receive(&wire).unwrap();
    let err = server.next_event().unwrap_err();
    assert!(matches!(err, Error::Protocol(ProtocolError::MessageTooLarge)), "{err}");
    assert!(server.buffered_capacity() < 1 << 20, "held {} bytes", server.buffered_capacity());
    let close = frames(server.output()).into_iter().find(|f| f.0 == OpCode::Close).unwrap();
    assert_eq!(u16::from_be_bytes([close.2[0], close.2[1]]), 1009);
}

#[test]
fn streaming_delivery_inflates_piece_by_piece() {
    let deflate = DeflateConfig::default().with_params(params(false, false, 15, 15));
    let mut client = Connection::new(Config::client().with_deflate(deflate));
    let mut server = Connection::new(Config::server().with_deflate(deflate).with_delivery(Delivery::Streaming));
    let text = sample_text();
    client.send_text(&text).unwrap();
    let wire = client.output().to_vec();
    let mut collected = Vec::new();
    let mut lasts = 0;
    for piece in wire.chunks(64) {
        server.receive(piece).unwrap();
        while let Some(event) = server.next_event().unwrap() {
            match event {
                Event::Fragment { kind: MessageKind::Text, data, is_last } => {
                    collected.extend_from_slice(data);
                    lasts += usize::from(is_last);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert_eq!(lasts, 1);
    assert_eq!(String::from_utf8(collected).unwrap(), text);
}

#[test]
fn rfc7692_s7_2_3_6_empty_compressed_messages_in_a_row() {
    // Found by the `inflate` fuzz target: with context takeover, zlib writes nothing for the
    // second empty message, and an empty payload desynchronized the receiver's inflater.
    let (mut client, mut server) = pair(params(false, false, 15, 15));
    for message in [&b""[..], b"", b"", b"\x00\xff\xff", b"", b"after"] {
        client.send_message_with(MessageKind::Binary, message, true).unwrap();
    }
    let got = transfer(&mut client, &mut server, 3).unwrap();
    let expected: Vec<Message> =
        [&b""[..], b"", b"", b"\x00\xff\xff", b"", b"after"].iter().map(|m| Message::Binary(m.to_vec())).collect();
    assert_eq!(got, expected);
}

#[test]
fn rfc7692_an_empty_compressed_payload_from_a_peer_is_an_empty_message() {
    // Another implementation may send an empty payload with RSV1 for an empty message: it is
    // read as empty, and the next message still inflates.
    let (mut client, mut server) = pair(params(false, false, 15, 15));
    let mut wire = masked(true, 0x40, OpCode::Binary, &[]);
    client.send_message_with(MessageKind::Text, b"next one", true).unwrap();
    wire.extend_from_slice(client.output());
    server.receive(&wire).unwrap();
    assert_eq!(Message::from_event(&server.next_event().unwrap().unwrap()), Some(Message::Binary(vec![])));
    assert_eq!(Message::from_event(&server.next_event().unwrap().unwrap()), Some(Message::Text("next one".into())));
}

#[test]
fn the_message_limit_applies_to_the_inflated_size_not_the_compressed_one() {
    // Incompressible data grows a little when compressed: a message at the limit must still
    // be accepted, though its compressed payload is over it.
    let limits = Limits { max_frame_size: 1000, max_message_size: 1000, ..Limits::default() };
    let deflate = DeflateConfig::default().with_params(params(false, false, 15, 15));
    // The sender splits its compressed output into frames the receiver's frame limit accepts.
    let send_limits = Limits { max_send_frame_size: 500, ..Limits::default() };
    let mut client = Connection::new(Config::client().with_limits(send_limits).unwrap().with_deflate(deflate));
    let mut server = Connection::new(Config::server().with_limits(limits).unwrap().with_deflate(deflate));
    let mut state = 1u32;
    let noise: Vec<u8> = (0..1000)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (state >> 16) as u8
        })
        .collect();
    client.send_message_with(MessageKind::Binary, &noise, true).unwrap();
    let compressed: usize = frames(client.output()).iter().map(|f| f.2.len()).sum();
    assert!(compressed > 1000, "the compressed message is over the limit");
    let got = transfer(&mut client, &mut server, 100).unwrap();
    assert_eq!(got, vec![Message::Binary(noise.clone())]);
    // One byte more, inflated, is over the limit.
    let mut bigger = noise;
    bigger.push(0);
    client.send_message_with(MessageKind::Binary, &bigger, true).unwrap();
    let err = transfer(&mut client, &mut server, 100).unwrap_err();
    assert!(matches!(err, Error::Protocol(ProtocolError::MessageTooLarge)), "{err}");
}

#[test]
fn rfc7692_s7_2_3_4_messages_after_a_bfinal_block_arrive_intact() {
    let (mut client, mut server) = pair(params(false, false, 15, 15));
    let mut bytes = Vec::new();
    for i in 0..3 {
        client.send_message_with(MessageKind::Text, b"Hello", true).unwrap();
        let (_, _, mut payload) = frames(client.output()).remove(0);
        client.consume_output(client.output().len());
        if i == 0 {
            // The RFC's example: the same block with BFINAL set, then one padding byte.
            assert_eq!(payload, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
            payload[0] = 0xf3;
            payload.push(0x00);
        }
        bytes.extend(masked(true, 0x40, OpCode::Text, &payload));
    }
    server.receive(&bytes).unwrap();
    let mut got = Vec::new();
    while let Some(event) = server.next_event().unwrap() {
        got.push(Message::from_event(&event).unwrap());
    }
    assert_eq!(got, vec![Message::Text("Hello".into()); 3]);
}

#[test]
fn rfc7692_s7_2_3_4_data_after_a_bfinal_block_fails_with_1007() {
    let payload = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    server_fails_with(&masked(true, 0x40, OpCode::Text, &payload), ProtocolError::InvalidCompressedData, 1007);
}
