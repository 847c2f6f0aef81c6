//! Connection tests, named after the RFC sections they check. Inputs are fed whole, one byte
//! at a time, and split at every index.

use super::*;
use crate::close::CloseCode;
use crate::config::MaskKeySource;
use crate::error::UsageError;
use crate::event::{Event, Message};
use crate::frame::decoder::{FrameDecoder, Step};
use crate::frame::encoder::encode_frame;

fn server() -> Connection {
    Connection::new(Config::server())
}

fn client() -> Connection {
    Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(7)))
}

/// Feed `bytes` split into pieces of `chunk`, pulling every event after each piece.
fn feed(conn: &mut Connection, bytes: &[u8], chunk: usize) -> (Vec<Message>, Option<Error>) {
    let mut messages = Vec::new();
    for piece in bytes.chunks(chunk.max(1)) {
        if conn.receive(piece).is_err() {
            break;
        }
        loop {
            match conn.next_event() {
                Ok(Some(event)) => messages.push(Message::from_event(&event).expect("whole messages")),
                Ok(None) => break,
                Err(e) => return (messages, Some(e)),
            }
        }
    }
    (messages, None)
}

/// Every split of `bytes` into two pieces, plus byte-by-byte, gives the same result as whole.
fn feed_every_way(make: fn() -> Connection, bytes: &[u8]) -> (Vec<Message>, Option<String>) {
    let whole = feed(&mut make(), bytes, bytes.len());
    let whole = (whole.0, whole.1.map(|e| e.to_string()));
    let bytewise = feed(&mut make(), bytes, 1);
    assert_eq!(whole, (bytewise.0, bytewise.1.map(|e| e.to_string())), "byte by byte");
    for cut in 1..bytes.len() {
        let mut conn = make();
        let (mut a, err) = feed(&mut conn, &bytes[..cut], cut);
        let result = if err.is_some() {
            (a, err.map(|e| e.to_string()))
        } else {
            let (b, err) = feed(&mut conn, &bytes[cut..], bytes.len());
            a.extend(b);
            (a, err.map(|e| e.to_string()))
        };
        assert_eq!(whole, result, "split at {cut}");
    }
    whole
}

/// Decode every frame in `bytes` as (opcode, fin, unmasked payload).
fn frames(bytes: &[u8]) -> Vec<(OpCode, bool, Vec<u8>)> {
    let mut decoder = FrameDecoder::new();
    let mut buf = bytes.to_vec();
    let mut pos = 0;
    let mut out: Vec<(OpCode, bool, Vec<u8>)> = Vec::new();
    loop {
        match decoder.decode(&mut buf[pos..]).expect("valid output") {
            Step::NeedMore => break,
            Step::Header { header, len } => {
                pos += len;
                out.push((header.opcode, header.fin, Vec::new()));
            }
            Step::Payload { len, .. } => {
                out.last_mut().expect("header").2.extend_from_slice(&buf[pos..pos + len]);
                pos += len;
            }
        }
    }
    assert_eq!(pos, buf.len(), "output ends on a frame boundary");
    out
}

fn masked(opcode: OpCode, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(&mut out, fin, 0, opcode, payload, Some([0x11, 0x22, 0x33, 0x44]));
    out
}

/// The close code the connection queued in its output.
fn queued_close_code(conn: &Connection) -> Option<u16> {
    frames(conn.output())
        .into_iter()
        .find(|(op, _, _)| *op == OpCode::Close)
        .map(|(_, _, p)| u16::from_be_bytes([p[0], p[1]]))
}

#[test]
fn s5_7_masked_hello_reaches_the_server_at_every_split() {
    let bytes = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
    let (messages, err) = feed_every_way(server, &bytes);
    assert_eq!(messages, vec![Message::Text("Hello".into())]);
    assert_eq!(err, None);
}

#[test]
fn s5_4_fragments_with_a_ping_between_reassemble_at_every_split() {
    let mut bytes = masked(OpCode::Text, false, "Hel".as_bytes());
    bytes.extend(masked(OpCode::Ping, true, b"p"));
    bytes.extend(masked(OpCode::Continuation, false, &[]));
    bytes.extend(masked(OpCode::Continuation, true, "lo κόσμε".as_bytes()));
    bytes.extend(masked(OpCode::Binary, true, &[0, 1, 2]));
    let (messages, err) = feed_every_way(server, &bytes);
    assert_eq!(err, None);
    assert_eq!(
        messages,
        vec![Message::Ping(b"p".to_vec()), Message::Text("Hello κόσμε".into()), Message::Binary(vec![0, 1, 2])]
    );
}

#[test]
fn s5_5_2_ping_is_answered_with_the_same_payload() {
    let mut conn = server();
    let (messages, _) = feed(&mut conn, &masked(OpCode::Ping, true, b"abc"), 100);
    assert_eq!(messages, vec![Message::Ping(b"abc".to_vec())]);
    assert_eq!(frames(conn.output()), vec![(OpCode::Pong, true, b"abc".to_vec())]);
}

#[test]
fn s5_5_2_auto_pong_can_be_turned_off() {
    let mut conn = Connection::new(Config::server().with_auto_pong(false));
    feed(&mut conn, &masked(OpCode::Ping, true, b"abc"), 100);
    assert!(conn.output().is_empty());
}

#[test]
fn s5_1_server_fails_unmasked_frame_with_1002() {
    let mut conn = server();
    let (_, err) = feed(&mut conn, &[0x81, 0x01, b'a'], 10);
    assert!(matches!(err, Some(Error::Protocol(ProtocolError::UnmaskedClientFrame))));
    assert_eq!(queued_close_code(&conn), Some(1002));
    assert!(!conn.should_close_transport(), "the Close must be written first");
    let n = conn.output().len();
    conn.consume_output(n);
    assert!(conn.should_close_transport());
}

#[test]
fn s5_1_client_fails_masked_frame_with_1002() {
    let mut conn = client();
    let (_, err) = feed(&mut conn, &masked(OpCode::Text, true, b"a"), 10);
    assert!(matches!(err, Some(Error::Protocol(ProtocolError::MaskedServerFrame))));
    assert_eq!(queued_close_code(&conn), Some(1002));
}

#[test]
fn s5_2_rsv_bits_without_extension_fail_with_1002() {
    for rsv in [0x40u8, 0x20, 0x10] {
        let mut bytes = masked(OpCode::Text, true, b"a");
        bytes[0] |= rsv;
        let mut conn = server();
        let (_, err) = feed(&mut conn, &bytes, 10);
        assert!(matches!(err, Some(Error::Protocol(ProtocolError::ReservedBitsSet))));
        assert_eq!(queued_close_code(&conn), Some(1002));
    }
}

#[test]
fn s5_2_reserved_opcodes_fail_with_1002() {
    for opcode in [3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
        let mut conn = server();
        let (_, err) = feed(&mut conn, &[0x80 | opcode, 0x80, 1, 2, 3, 4], 10);
        assert!(matches!(err, Some(Error::Protocol(ProtocolError::UnknownOpcode(op))) if op == opcode));
        assert_eq!(queued_close_code(&conn), Some(1002));
    }
}

#[test]
fn s5_4_continuation_without_start_fails_with_1002() {
    let mut conn = server();
    let (_, err) = feed(&mut conn, &masked(OpCode::Continuation, true, b"a"), 10);
    assert!(matches!(err, Some(Error::Protocol(ProtocolError::UnexpectedContinuation))));
    assert_eq!(queued_close_code(&conn), Some(1002));
}

#[test]
fn s5_4_new_message_inside_fragmented_message_fails_with_1002() {
    let mut bytes = masked(OpCode::Text, false, b"a");
    bytes.extend(masked(OpCode::Text, true, b"b"));
    let mut conn = server();
    let (_, err) = feed(&mut conn, &bytes, 100);
    assert!(matches!(err, Some(Error::Protocol(ProtocolError::ExpectedContinuation))));
    assert_eq!(queued_close_code(&conn), Some(1002));
}

#[test]
fn s8_1_invalid_utf8_fails_with_1007_before_the_frame_ends() {
    // A 1000-byte text frame whose 3rd byte is invalid: only the 8-byte header and 3 payload
    // bytes are fed, one at a time.
    let mut payload = vec![b'a'; 1000];
    payload[2] = 0xFF;
    let bytes = masked(OpCode::Text, true, &payload);
    let mut conn = server();
    let (_, err) = feed(&mut conn, &bytes[..11], 1);
    assert!(matches!(err, Some(Error::Protocol(ProtocolError::InvalidUtf8))));
    assert_eq!(queued_close_code(&conn), Some(1007));
}

#[test]
fn s8_1_invalid_utf8_in_a_whole_frame_fails_with_1007() {
    let mut conn = server();
    let (_, err) = feed(&mut conn, &masked(OpCode::Text, true, b"\xce\xba\xed\xa0\x80"), 100);
    assert!(matches!(err, Some(Error::Protocol(ProtocolError::InvalidUtf8))));
    assert_eq!(queued_close_code(&conn), Some(1007));
}

#[test]
fn s7_1_7_errors_are_sticky_and_nothing_more_is_decoded() {
    let mut bytes = masked(OpCode::Continuation, true, b"a");
    bytes.extend(masked(OpCode::Text, true, b"never"));
    let mut conn = server();
    let (messages, err) = feed(&mut conn, &bytes, 100);
    assert!(messages.is_empty());
    let first = err.expect("failed").to_string();
    assert_eq!(conn.next_event().map(|_| ()).unwrap_err().to_string(), first);
    assert_eq!(conn.send_text("x"), Err(UsageError::Closed));
    // Exactly one Close was queued.
    assert_eq!(frames(conn.output()).len(), 1);
}

#[test]
fn limits_frame_over_max_frame_size_fails_with_1009_from_the_header() {
    let limits = Limits { max_frame_size: 100, ..Limits::default() };
    let mut conn = Connection::new(Config::server().with_limits(limits).unwrap());
    let bytes = masked(OpCode::Binary, true, &[0; 101]);
    // The header alone is enough to fail.
    let (_, err) = feed(&mut conn, &bytes[..8], 100);
    assert!(matches!(err, Some(Error::Protocol(ProtocolError::FrameTooLarge))));
    assert_eq!(queued_close_code(&conn), Some(1009));
}

#[test]
fn limits_message_over_max_message_size_fails_with_1009() {
    let limits = Limits { max_frame_size: 10, max_message_size: 10, ..Limits::default() };
    let mut conn = Connection::new(Config::server().with_limits(limits).unwrap());
    let mut bytes = masked(OpCode::Binary, false, &[0; 6]);
    bytes.extend(masked(OpCode::Continuation, true, &[0; 6]));
    let (_, err) = feed(&mut conn, &bytes, 100);
    assert!(matches!(err, Some(Error::Protocol(ProtocolError::MessageTooLarge))));
    assert_eq!(queued_close_code(&conn), Some(1009));
}

#[test]
fn s5_5_1_close_is_echoed_and_server_closes_transport_first() {
    let mut conn = server();
    let mut payload = 1000u16.to_be_bytes().to_vec();
    payload.extend_from_slice(b"bye");
    let (messages, err) = feed(&mut conn, &masked(OpCode::Close, true, &payload), 100);
    assert!(err.is_none());
    assert_eq!(messages, vec![Message::Close(Some(CloseCode::NORMAL), "bye".into())]);
    assert_eq!(queued_close_code(&conn), Some(1000));
    assert_eq!(conn.state(), CloseState::Closed);
    let n = conn.output().len();
    conn.consume_output(n);
    assert!(conn.should_close_transport());
}

#[test]
fn s7_1_1_client_waits_for_the_server_to_close_tcp() {
    let mut conn = client();
    let mut close = Vec::new();
    encode_frame(&mut close, true, 0, OpCode::Close, &1000u16.to_be_bytes(), None);
    feed(&mut conn, &close, 100);
    let n = conn.output().len();
    conn.consume_output(n);
    assert!(!conn.should_close_transport());
    conn.receive_eof();
    assert!(conn.should_close_transport());
}

#[test]
fn s5_5_1_empty_close_is_answered_with_empty_close() {
    let mut conn = server();
    let (messages, _) = feed(&mut conn, &masked(OpCode::Close, true, &[]), 100);
    assert_eq!(messages, vec![Message::Close(None, String::new())]);
    assert_eq!(frames(conn.output()), vec![(OpCode::Close, true, vec![])]);
}

#[test]
fn s7_4_invalid_close_code_fails_with_1002() {
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
        let mut conn = server();
        let (_, err) = feed(&mut conn, &masked(OpCode::Close, true, &code.to_be_bytes()), 100);
        assert!(matches!(err, Some(Error::Protocol(ProtocolError::InvalidCloseCode(c))) if c == code));
        assert_eq!(queued_close_code(&conn), Some(1002));
    }
}

#[test]
fn s5_5_2_ping_after_our_close_is_still_answered() {
    let mut conn = server();
    conn.close(CloseCode::NORMAL, "").unwrap();
    let n = conn.output().len();
    conn.consume_output(n);
    let (messages, _) = feed(&mut conn, &masked(OpCode::Ping, true, b"late"), 100);
    assert_eq!(messages, vec![Message::Ping(b"late".to_vec())]);
    assert_eq!(frames(conn.output()), vec![(OpCode::Pong, true, b"late".to_vec())]);
}

#[test]
fn s7_1_2_closing_side_still_receives_data_then_the_close() {
    let mut conn = server();
    conn.close(CloseCode::NORMAL, "done").unwrap();
    assert_eq!(conn.send_text("late"), Err(UsageError::AlreadyClosing));
    let mut bytes = masked(OpCode::Text, true, b"in flight");
    bytes.extend(masked(OpCode::Close, true, &1000u16.to_be_bytes()));
    let (messages, _) = feed(&mut conn, &bytes, 100);
    assert_eq!(messages[0], Message::Text("in flight".into()));
    assert_eq!(conn.state(), CloseState::Closed);
    // Only our own Close went out: the peer's Close answers ours.
    assert_eq!(frames(conn.output()).len(), 1);
}

#[test]
fn s7_1_5_eof_without_close_is_an_abnormal_closure() {
    let mut conn = server();
    conn.receive(&masked(OpCode::Text, true, b"hi")[..3]).unwrap();
    assert!(matches!(conn.next_event(), Ok(None)));
    conn.receive_eof();
    assert!(matches!(conn.next_event(), Err(Error::ConnectionReset)));
}

#[test]
fn s7_4_send_refuses_reserved_close_codes() {
    let mut conn = server();
    for code in [1005u16, 1006, 1015, 999, 5000] {
        assert_eq!(conn.close(CloseCode(code), ""), Err(UsageError::InvalidCloseCode(code)));
    }
    assert_eq!(conn.close(CloseCode::NORMAL, &"x".repeat(124)), Err(UsageError::CloseReasonTooLong));
    assert_eq!(conn.ping(&[0; 126]), Err(UsageError::ControlPayloadTooLong));
}

#[test]
fn client_to_server_round_trip_in_memory() {
    let mut client = client();
    let mut server = server();
    client.send_text("héllo").unwrap();
    client.send_fragment(MessageKind::Binary, &[1, 2], false).unwrap();
    client.ping(b"!").unwrap();
    client.send_fragment(MessageKind::Binary, &[3], true).unwrap();
    let big = vec![7u8; 70_000];
    client.send_binary(&big).unwrap();
    client.close(CloseCode::GOING_AWAY, "bye").unwrap();
    let wire = client.output().to_vec();
    let (messages, err) = feed(&mut server, &wire, 1000);
    assert!(err.is_none());
    assert_eq!(
        messages,
        vec![
            Message::Text("héllo".into()),
            Message::Ping(b"!".to_vec()),
            Message::Binary(vec![1, 2, 3]),
            Message::Binary(big),
            Message::Close(Some(CloseCode::GOING_AWAY), "bye".into()),
        ]
    );
    // The server's reply (pong, close echo) decodes on the client.
    let reply = server.output().to_vec();
    let (messages, err) = feed(&mut client, &reply, 7);
    assert!(err.is_none());
    assert_eq!(
        messages,
        vec![Message::Pong(b"!".to_vec()), Message::Close(Some(CloseCode::GOING_AWAY), String::new())]
    );
    assert_eq!(client.state(), CloseState::Closed);
}

#[test]
fn streaming_delivery_hands_out_pieces_as_they_arrive() {
    let mut conn = Connection::new(Config::server().with_delivery(Delivery::Streaming));
    let mut bytes = masked(OpCode::Text, false, "κό".as_bytes());
    bytes.extend(masked(OpCode::Continuation, true, "σμε".as_bytes()));
    let mut collected = Vec::new();
    let mut lasts = 0;
    for byte in &bytes {
        conn.receive(std::slice::from_ref(byte)).unwrap();
        while let Some(event) = conn.next_event().unwrap() {
            match event {
                Event::Fragment { kind, data, is_last } => {
                    assert_eq!(kind, MessageKind::Text);
                    collected.extend_from_slice(data);
                    lasts += usize::from(is_last);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert_eq!(String::from_utf8(collected).unwrap(), "κόσμε");
    assert_eq!(lasts, 1);
}

#[test]
fn input_buffer_limit_refuses_without_taking_bytes() {
    let limits = Limits { max_input_buffer: 14, ..Limits::default() };
    let mut conn = Connection::new(Config::server().with_limits(limits).unwrap());
    assert_eq!(conn.receive(&[0; 15]), Err(UsageError::InputBufferFull));
    let bytes = masked(OpCode::Text, true, b"ab");
    conn.receive(&bytes).unwrap();
    assert!(matches!(conn.next_event(), Ok(Some(Event::Text("ab")))));
}

#[test]
fn zero_copy_read_buf_and_commit() {
    let mut conn = server();
    let bytes = masked(OpCode::Binary, true, &[9; 300]);
    let buf = conn.read_buf();
    buf[..bytes.len()].copy_from_slice(&bytes);
    conn.commit(bytes.len());
    assert!(matches!(conn.next_event(), Ok(Some(Event::Binary(data))) if data == [9; 300]));
}

#[test]
fn transition_table() {
    use CloseInput::*;
    use CloseState::*;
    assert_eq!(transition(Open, SentClose), Closing);
    assert_eq!(transition(Open, ReceivedClose), Closed);
    assert_eq!(transition(Closing, ReceivedClose), Closed);
    assert_eq!(transition(Closing, SentClose), Closing);
    for state in [Open, Closing, Closed] {
        assert_eq!(transition(state, Failed), Closed);
        assert_eq!(transition(Closed, SentClose), Closed);
    }
}

#[test]
fn s5_6_sending_invalid_utf8_as_text_is_refused() {
    let mut conn = server();
    for bytes in [&[0xff, 0xfe][..], b"ok \xed\xa0\x80", b"cut \xce", b"\xc0\xaf"] {
        assert_eq!(conn.send_message(MessageKind::Text, bytes), Err(UsageError::InvalidUtf8), "{bytes:02x?}");
        assert_eq!(conn.send_message_with(MessageKind::Text, bytes, false), Err(UsageError::InvalidUtf8));
    }
    assert!(conn.output().is_empty(), "nothing queued");
    // The same bytes as binary are fine, and so is valid text given as bytes.
    conn.send_message(MessageKind::Binary, &[0xff, 0xfe]).unwrap();
    conn.send_message(MessageKind::Text, "κόσμε".as_bytes()).unwrap();
    let sent = frames(conn.output());
    assert_eq!(sent.len(), 2);
    assert_eq!((sent[1].0, &sent[1].2[..]), (OpCode::Text, "κόσμε".as_bytes()));
}

#[test]
fn s5_6_text_fragments_are_checked_across_code_points() {
    let mut conn = server();
    let text = "κόσμε €".as_bytes();
    // Split inside a two-byte and inside the three-byte code point: allowed, the whole is UTF-8.
    conn.send_fragment(MessageKind::Text, &text[..1], false).unwrap();
    conn.send_fragment(MessageKind::Text, &text[1..10], false).unwrap();
    conn.send_fragment(MessageKind::Text, &text[10..], true).unwrap();
    // A continuation that breaks the code point the previous fragment began.
    conn.send_fragment(MessageKind::Text, &[0xce], false).unwrap();
    let queued = conn.output().len();
    assert_eq!(conn.send_fragment(MessageKind::Text, b"a", true), Err(UsageError::InvalidUtf8));
    assert_eq!(conn.output().len(), queued, "the refused fragment queued nothing");
    // The message can still be finished correctly.
    conn.send_fragment(MessageKind::Text, &[0xba], true).unwrap();
    let payloads: Vec<u8> = frames(conn.output()).into_iter().flat_map(|f| f.2).collect();
    assert_eq!(payloads, [text, "κ".as_bytes()].concat());
}

#[test]
fn s5_6_last_text_fragment_may_not_end_inside_a_code_point() {
    let mut conn = server();
    assert_eq!(conn.send_fragment(MessageKind::Text, &[b'a', 0xe2, 0x82], true), Err(UsageError::InvalidUtf8));
    conn.send_fragment(MessageKind::Text, &[b'a', 0xe2, 0x82], false).unwrap();
    assert_eq!(conn.send_fragment(MessageKind::Text, b"", true), Err(UsageError::InvalidUtf8));
    conn.send_fragment(MessageKind::Text, &[0xac], true).unwrap();
    assert!(!conn.output().is_empty());
}
