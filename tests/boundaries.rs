//! Every limit of the protocol and of the configuration, tested on both sides of its edge: the
//! largest value that is accepted and the smallest that is refused.
//!
//! A check written `>` where `>=` was meant (or the other way round) passes every test that
//! stays far from the edge; these tests sit on it. Each is named after the rule it checks:
//! RFC 6455 §5.2 (the three length forms), §5.5 (control frames of 125 bytes), §5.5.1 (close
//! reasons of 123 bytes) and §10.4 (the limits an implementation sets itself, in `Limits`).

use rfc6455::close::CloseCode;
use rfc6455::frame::OpCode;
use rfc6455::frame::encoder::encode_frame;
use rfc6455::handshake::server::ServerHandshake;
use rfc6455::{Config, Connection, Error, Event, HandshakeError, Limits, ProtocolError, UsageError};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// One masked frame, as a client sends it.
fn client_frame(fin: bool, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(&mut out, fin, 0, opcode, payload, Some(KEY));
    out
}

fn server_with(limits: Limits) -> Connection {
    Connection::new(Config::server().with_limits(limits).expect("the test's limits are valid"))
}

/// Feed `bytes` to a fresh server and return the first event, owned, or the error.
fn first_event(limits: Limits, bytes: &[u8]) -> Result<Option<String>, Error> {
    let mut server = server_with(limits);
    server.receive(bytes)?;
    Ok(server.next_event()?.map(|event| describe(&event)))
}

fn describe(event: &Event<'_>) -> String {
    match event {
        Event::Text(text) => format!("text {}", text.len()),
        Event::Binary(data) => format!("binary {}", data.len()),
        Event::Ping(data) => format!("ping {}", data.len()),
        Event::Pong(data) => format!("pong {}", data.len()),
        Event::Close { code, reason } => format!("close {:?} {}", code.map(|c| c.0), reason.len()),
        Event::Fragment { data, is_last, .. } => format!("fragment {} {is_last}", data.len()),
        // `Event` is `#[non_exhaustive]`: a later kind of event is described as it debugs.
        other => format!("{other:?}"),
    }
}

fn assert_protocol_error(result: Result<Option<String>, Error>, expected: ProtocolError, code: u16) {
    match result {
        Err(Error::Protocol(error)) => {
            assert_eq!(error, expected);
            assert_eq!(error.close_code().0, code);
        }
        other => panic!("expected {expected:?} (close {code}), got {other:?}"),
    }
}

// §5.5: "All control frames MUST have a payload length of 125 bytes or less".

#[test]
fn s5_5_control_frame_of_125_bytes_is_accepted() {
    let ping = client_frame(true, OpCode::Ping, &[b'p'; 125]);
    assert_eq!(first_event(Limits::default(), &ping).unwrap(), Some("ping 125".into()));
    let pong = client_frame(true, OpCode::Pong, &[b'p'; 125]);
    assert_eq!(first_event(Limits::default(), &pong).unwrap(), Some("pong 125".into()));
}

#[test]
fn s5_5_control_frame_of_126_bytes_fails_with_1002() {
    let ping = client_frame(true, OpCode::Ping, &[b'p'; 126]);
    assert_protocol_error(first_event(Limits::default(), &ping), ProtocolError::ControlFrameTooLong, 1002);
}

#[test]
fn s5_5_sending_a_control_frame_of_125_bytes_works_and_126_is_refused() {
    let mut conn = Connection::new(Config::server());
    assert_eq!(conn.ping(&[0; 125]), Ok(()));
    assert_eq!(conn.pong(&[0; 125]), Ok(()));
    assert_eq!(conn.ping(&[0; 126]), Err(UsageError::ControlPayloadTooLong));
    assert_eq!(conn.pong(&[0; 126]), Err(UsageError::ControlPayloadTooLong));
}

// §5.5.1: a Close payload is a 2-byte code and a reason, inside the 125 bytes of §5.5.

#[test]
fn s5_5_1_close_reason_of_123_bytes_is_sent_and_124_is_refused() {
    let mut conn = Connection::new(Config::server());
    assert_eq!(conn.close(CloseCode::NORMAL, &"r".repeat(124)), Err(UsageError::CloseReasonTooLong));
    assert_eq!(conn.close(CloseCode::NORMAL, &"r".repeat(123)), Ok(()));
    // 0x88, length 125, the code 1000, then the reason.
    assert_eq!(&conn.output()[..4], &[0x88, 125, 0x03, 0xe8]);
    assert_eq!(conn.output().len(), 2 + 125);
}

#[test]
fn s5_5_1_close_reason_of_123_bytes_is_received() {
    let mut payload = vec![0x03, 0xe8];
    payload.extend_from_slice(&[b'r'; 123]);
    let close = client_frame(true, OpCode::Close, &payload);
    assert_eq!(first_event(Limits::default(), &close).unwrap(), Some("close Some(1000) 123".into()));
    payload.push(b'r');
    let close = client_frame(true, OpCode::Close, &payload);
    assert_protocol_error(first_event(Limits::default(), &close), ProtocolError::ControlFrameTooLong, 1002);
}

// §5.2: 0-125 in the 7-bit field, 126-65535 after the marker 126, larger after the marker 127.

/// What a server writes for a binary message of `len` bytes: the header bytes after byte 0.
fn written_length_field(len: usize) -> Vec<u8> {
    let mut server = Connection::new(Config::server());
    server.send_binary(&vec![0xab; len]).unwrap();
    let out = server.output();
    assert_eq!(out[0], 0x82, "FIN and opcode 2");
    let header_len = out.len() - len;
    out[1..header_len].to_vec()
}

#[test]
fn s5_2_length_125_uses_the_7_bit_form() {
    assert_eq!(written_length_field(125), [125]);
}

#[test]
fn s5_2_length_126_uses_the_16_bit_form() {
    assert_eq!(written_length_field(126), [126, 0x00, 0x7e]);
}

#[test]
fn s5_2_length_65535_uses_the_16_bit_form() {
    assert_eq!(written_length_field(65535), [126, 0xff, 0xff]);
}

#[test]
fn s5_2_length_65536_uses_the_64_bit_form() {
    assert_eq!(written_length_field(65536), [127, 0, 0, 0, 0, 0, 1, 0, 0]);
}

#[test]
fn s5_2_every_length_form_edge_is_read_back() {
    for len in [0, 125, 126, 127, 65535, 65536] {
        let frame = client_frame(true, OpCode::Binary, &vec![7; len]);
        assert_eq!(first_event(Limits::default(), &frame).unwrap(), Some(format!("binary {len}")), "{len}");
    }
}

#[test]
fn s5_2_receiver_accepts_a_length_in_a_longer_form_than_needed() {
    // The minimal-length MUST binds the sender; the receiver reads any form that is correct.
    // 5 bytes in the 16-bit form, and in the 64-bit form.
    let hello = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
    let mut sixteen = vec![0x81, 0x80 | 126, 0x00, 0x05];
    sixteen.extend_from_slice(&KEY);
    sixteen.extend_from_slice(&hello);
    assert_eq!(first_event(Limits::default(), &sixteen).unwrap(), Some("text 5".into()));
    let mut sixty_four = vec![0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 0x05];
    sixty_four.extend_from_slice(&KEY);
    sixty_four.extend_from_slice(&hello);
    assert_eq!(first_event(Limits::default(), &sixty_four).unwrap(), Some("text 5".into()));
}

#[test]
fn s5_2_64_bit_length_with_only_the_top_bit_clear_is_a_size_not_an_error() {
    // 2^63 - 1 is a legal length (the top bit is 0): refused by the frame limit with 1009,
    // not by the §5.2 rule with 1002. 2^63 is refused by §5.2.
    let mut largest = vec![0x82, 0x80 | 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    largest.extend_from_slice(&KEY);
    assert_protocol_error(first_event(Limits::default(), &largest), ProtocolError::FrameTooLarge, 1009);
    let mut top_bit = vec![0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 0];
    top_bit.extend_from_slice(&KEY);
    assert_protocol_error(first_event(Limits::default(), &top_bit), ProtocolError::PayloadLengthOverflow, 1002);
}

// §10.4: "Implementations that have implementation- and/or platform-specific limitations
// regarding the frame size or total message size after reassembly from multiple frames MUST
// protect themselves against exceeding those limits." Each limit of `Limits`, at its edge.

#[test]
fn s10_4_frame_of_exactly_max_frame_size_is_accepted() {
    let limits = Limits { max_frame_size: 1000, ..Limits::default() };
    let frame = client_frame(true, OpCode::Binary, &[1; 1000]);
    assert_eq!(first_event(limits, &frame).unwrap(), Some("binary 1000".into()));
}

#[test]
fn s10_4_frame_one_byte_over_max_frame_size_fails_with_1009() {
    let limits = Limits { max_frame_size: 1000, ..Limits::default() };
    // The header alone is enough: the payload never arrives.
    let frame = client_frame(true, OpCode::Binary, &[1; 1001]);
    assert_protocol_error(first_event(limits, &frame[..8]), ProtocolError::FrameTooLarge, 1009);
}

#[test]
fn s10_4_message_of_exactly_max_message_size_is_accepted() {
    let limits = Limits { max_message_size: 1000, max_frame_size: 1000, ..Limits::default() };
    let mut bytes = client_frame(false, OpCode::Binary, &[1; 600]);
    bytes.extend(client_frame(true, OpCode::Continuation, &[2; 400]));
    assert_eq!(first_event(limits, &bytes).unwrap(), Some("binary 1000".into()));
}

#[test]
fn s10_4_message_one_byte_over_max_message_size_fails_with_1009() {
    let limits = Limits { max_message_size: 1000, max_frame_size: 1000, ..Limits::default() };
    let mut bytes = client_frame(false, OpCode::Binary, &[1; 600]);
    bytes.extend(client_frame(true, OpCode::Continuation, &[2; 401]));
    assert_protocol_error(first_event(limits, &bytes), ProtocolError::MessageTooLarge, 1009);
}

#[test]
fn s10_4_input_of_exactly_max_input_buffer_is_taken() {
    let mut server = server_with(Limits { max_input_buffer: 64, ..Limits::default() });
    assert_eq!(server.receive(&[0x82; 64]), Ok(()));
    let mut server = server_with(Limits { max_input_buffer: 64, ..Limits::default() });
    assert_eq!(server.receive(&[0x82; 40]), Ok(()));
    assert_eq!(server.receive(&[0x82; 24]), Ok(()), "40 + 24 is exactly the limit");
    // And the zero-copy path offers exactly the limit, no more.
    let mut server = server_with(Limits { max_input_buffer: 64, ..Limits::default() });
    assert_eq!(server.read_buf().len(), 64);
}

#[test]
fn s10_4_input_one_byte_over_max_input_buffer_is_refused_whole() {
    let mut server = server_with(Limits { max_input_buffer: 64, ..Limits::default() });
    assert_eq!(server.receive(&[0x82; 65]), Err(UsageError::InputBufferFull));
    assert_eq!(server.receive(&[0x82; 40]), Ok(()));
    assert_eq!(server.receive(&[0x82; 25]), Err(UsageError::InputBufferFull));
    // Nothing of the refused piece was taken: 24 more bytes still fit.
    assert_eq!(server.receive(&[0x82; 24]), Ok(()));
}

/// A server whose output holds one frame, and how many more payload bytes fit under
/// `max_output_buffer` (the check counts a full 14-byte header for the next frame).
fn server_with_pending_output(max_output_buffer: usize) -> (Connection, usize) {
    let mut server = server_with(Limits { max_output_buffer, ..Limits::default() });
    server.send_binary(&[0; 100]).unwrap();
    let pending = server.output().len();
    (server, max_output_buffer - pending - 14)
}

#[test]
fn s10_4_sending_up_to_max_output_buffer_is_accepted() {
    let (mut server, room) = server_with_pending_output(1000);
    assert_eq!(server.send_binary(&vec![0; room]), Ok(()));
}

#[test]
fn s10_4_sending_one_byte_past_max_output_buffer_is_refused() {
    let (mut server, room) = server_with_pending_output(1000);
    assert_eq!(server.send_binary(&vec![0; room + 1]), Err(UsageError::OutputBufferFull));
    // Writing the output out makes room again.
    let written = server.output().len();
    server.consume_output(written);
    assert_eq!(server.send_binary(&vec![0; room + 1]), Ok(()));
}

/// A server holding `pending` bytes of unwritten output, with a Ping from the client waiting.
fn server_with_output_and_a_ping(max_output_buffer: usize, pending: usize) -> Connection {
    let mut server = server_with(Limits { max_output_buffer, ..Limits::default() });
    // A server's frame has a 2-byte header up to 125 bytes of payload, 4 bytes above (§5.2).
    let payload = if pending - 2 <= 125 { pending - 2 } else { pending - 4 };
    server.send_binary(&vec![0; payload]).unwrap();
    assert_eq!(server.output().len(), pending);
    server.receive(&client_frame(true, OpCode::Ping, b"?")).unwrap();
    server
}

#[test]
fn s10_4_decoding_goes_on_with_output_at_exactly_max_output_buffer() {
    let mut server = server_with_output_and_a_ping(139, 139);
    assert_eq!(server.next_event().unwrap().map(|e| describe(&e)), Some("ping 1".into()));
}

#[test]
fn s10_4_decoding_pauses_with_output_one_byte_over_max_output_buffer() {
    let mut server = server_with_output_and_a_ping(139, 140);
    assert_eq!(server.next_event().unwrap().map(|e| describe(&e)), None, "paused: write the output first");
    let written = server.output().len();
    server.consume_output(written);
    assert_eq!(server.next_event().unwrap().map(|e| describe(&e)), Some("ping 1".into()));
}

const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

#[test]
fn s10_4_handshake_of_exactly_max_handshake_size_is_read() {
    let mut handshake = ServerHandshake::new(REQUEST.len());
    let request = handshake.receive(REQUEST).unwrap().expect("the whole head fits");
    assert_eq!(request.resource_name(), "/chat");
}

#[test]
fn s10_4_handshake_one_byte_over_max_handshake_size_is_431() {
    let mut handshake = ServerHandshake::new(REQUEST.len() - 1);
    let error = handshake.receive(REQUEST).unwrap_err();
    assert_eq!(error, HandshakeError::HeadersTooLarge);
    assert_eq!(error.http_status(), 431);
}

#[test]
fn s10_4_handshake_over_the_limit_is_431_one_byte_at_a_time_too() {
    let mut handshake = ServerHandshake::new(REQUEST.len() - 1);
    let mut outcome = Ok(None);
    for byte in REQUEST {
        outcome = handshake.receive(std::slice::from_ref(byte));
        if outcome.is_err() {
            break;
        }
    }
    assert_eq!(outcome.unwrap_err(), HandshakeError::HeadersTooLarge);
}

// The output buffer's own edge: a non-blocking write may take any part of it, and
// `consume_output(n)` must drop exactly those `n` bytes, no more, no fewer.

#[test]
fn partial_writes_of_every_size_send_the_same_bytes() {
    let queue = |conn: &mut Connection| {
        conn.send_text("Hello").unwrap();
        conn.ping(b"are you there?").unwrap();
        conn.send_binary(&[9; 300]).unwrap();
    };
    let mut whole = Connection::new(Config::server());
    queue(&mut whole);
    let expected = whole.output().to_vec();
    for piece in [1, 2, 3, 7, 64, expected.len() - 1, expected.len()] {
        let mut conn = Connection::new(Config::server());
        queue(&mut conn);
        let mut wire = Vec::new();
        // The transport takes at most `piece` bytes per write; 0 is a write that took nothing.
        while conn.wants_write() {
            conn.consume_output(0);
            let n = piece.min(conn.output().len());
            wire.extend_from_slice(&conn.output()[..n]);
            conn.consume_output(n);
        }
        assert_eq!(wire, expected, "writes of {piece} bytes");
    }
}

// The limits themselves have edges: `Config::with_limits` refuses limits that cannot work.

fn accepted(limits: Limits) -> bool {
    Config::server().with_limits(limits).is_ok()
}

#[test]
fn s5_2_input_buffer_of_14_bytes_holds_the_largest_header_and_13_is_refused() {
    assert!(accepted(Limits { max_input_buffer: 14, ..Limits::default() }));
    assert!(!accepted(Limits { max_input_buffer: 13, ..Limits::default() }));
}

#[test]
fn s10_4_frame_limit_may_equal_the_message_limit_but_not_pass_it() {
    assert!(accepted(Limits { max_frame_size: 1000, max_message_size: 1000, ..Limits::default() }));
    assert!(!accepted(Limits { max_frame_size: 1001, max_message_size: 1000, ..Limits::default() }));
}

#[test]
fn s10_4_every_size_limit_of_one_is_accepted_and_zero_refused() {
    let one = Limits {
        max_frame_size: 1,
        max_send_frame_size: 1,
        max_stream_size: 1,
        max_handshake_size: 1,
        max_output_buffer: 1,
        ..Limits::default()
    };
    assert!(accepted(one));
    assert!(!accepted(Limits { max_output_buffer: 0, ..one }));
    assert!(!accepted(Limits { max_frame_size: 0, ..one }));
    assert!(!accepted(Limits { max_send_frame_size: 0, ..one }));
    assert!(!accepted(Limits { max_stream_size: 0, ..one }));
    assert!(!accepted(Limits { max_handshake_size: 0, ..one }));
}

// Limits::max_send_frame_size: a message longer than it goes out in several frames (§5.4).

/// The opcode, FIN and payload length of every frame in `bytes`, a server's output.
fn frame_lengths(bytes: &[u8]) -> Vec<(OpCode, bool, u64)> {
    let mut frames = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let (header, len) = rfc6455::frame::FrameHeader::parse(&bytes[at..]).unwrap().expect("a whole header");
        frames.push((header.opcode, header.fin, header.payload_len));
        at += len + header.payload_len as usize;
    }
    frames
}

fn sent_frames(max_send_frame_size: usize, message_len: usize) -> Vec<(OpCode, bool, u64)> {
    let mut server = server_with(Limits { max_send_frame_size, ..Limits::default() });
    server.send_binary(&vec![1; message_len]).unwrap();
    frame_lengths(server.output())
}

#[test]
fn s5_4_message_of_exactly_max_send_frame_size_goes_in_one_frame() {
    assert_eq!(sent_frames(1000, 1000), [(OpCode::Binary, true, 1000)]);
}

#[test]
fn s5_4_message_one_byte_over_max_send_frame_size_goes_in_two_frames() {
    assert_eq!(sent_frames(1000, 1001), [(OpCode::Binary, false, 1000), (OpCode::Continuation, true, 1)]);
}

// Limits::max_stream_size: how long one message may go on in streaming delivery (§10.4).

/// Stream a message of `len` bytes, in frames of 400, to a server limited to 1000 bytes.
fn stream_of(len: usize) -> Result<u64, Error> {
    let limits = Limits { max_stream_size: 1000, ..Limits::default() };
    let config = Config::server().with_delivery(rfc6455::Delivery::Streaming).with_limits(limits);
    let mut server = Connection::new(config.expect("valid limits"));
    let mut bytes = Vec::new();
    let mut left = len;
    let mut opcode = OpCode::Binary;
    while left > 0 {
        let n = left.min(400);
        left -= n;
        bytes.extend(client_frame(left == 0, opcode, &vec![5; n]));
        opcode = OpCode::Continuation;
    }
    server.receive(&bytes)?;
    let mut delivered = 0;
    while let Some(event) = server.next_event()? {
        if let Event::Fragment { data, .. } = event {
            delivered += data.len() as u64;
        }
    }
    Ok(delivered)
}

#[test]
fn s10_4_stream_of_exactly_max_stream_size_is_delivered() {
    assert_eq!(stream_of(1000).unwrap(), 1000);
}

#[test]
fn s10_4_stream_one_byte_over_max_stream_size_fails_with_1009() {
    match stream_of(1001) {
        Err(Error::Protocol(error)) => assert_eq!(error.close_code().0, 1009),
        other => panic!("expected 1009, got {other:?}"),
    }
}
