//! The permessage-deflate receive path (RFC 7692 §7.2.2), structure-aware: a server with the
//! extension negotiated (any parameters) receives frames built from the input: real compressed
//! messages (some of them decompression bombs), arbitrary bytes marked compressed, fragments,
//! continuations with RSV1, control frames with RSV1, messages that end in a BFINAL block (RFC
//! 7692 §7.2.3.4), all masked and cut into arbitrary chunks.
//! Checks: no panic; no message longer than the limit; memory within the limits; a failure
//! queues a Close with its code; when every frame is a well-formed compressed message, the
//! messages arrive exactly as sent.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rfc6455::extensions::permessage_deflate::{DeflateConfig, DeflateParams};
use rfc6455::frame::OpCode;
use rfc6455::frame::encoder::encode_frame;
use rfc6455::{Config, Connection, Error, MaskKeySource, Message, MessageKind};
use rfc6455_fuzz::{chunks, memory_bound, small_limits};

#[derive(Arbitrary, Debug)]
enum Piece {
    /// A message compressed by a real client: text (when valid UTF-8) or binary.
    Compressed { text: bool, plain: Vec<u8>, repeat: u16 },
    /// A frame with arbitrary payload, flags and opcode.
    Raw { opcode: u8, fin: bool, rsv1: bool, payload: Vec<u8> },
    /// A message sent as one stored DEFLATE block with BFINAL set (RFC 7692 §7.2.3.4), with
    /// or without the padding byte; the client compresses the same bytes (output discarded) so
    /// its context stays in step with what the server inflated.
    FinalBlock { plain: Vec<u8>, pad: bool },
}

#[derive(Arbitrary, Debug)]
struct Input {
    params: [u8; 2],
    chunk_seed: u16,
    pieces: Vec<Piece>,
}

fuzz_target!(|input: Input| {
    let [a, b] = input.params;
    let params = DeflateParams {
        server_no_context_takeover: a & 1 != 0,
        client_no_context_takeover: a & 2 != 0,
        server_max_window_bits: 8 + (a >> 2 & 7),
        client_max_window_bits: 8 + (b & 7),
    };
    let deflate =
        DeflateConfig { level: u32::from(b >> 4 & 7), threshold: 0, ..DeflateConfig::default() }.with_params(params);
    let limits = small_limits();
    let mut client = Connection::new(
        Config::client()
            .with_deflate(deflate)
            .with_mask_keys(MaskKeySource::Seeded(1))
            .with_limits(rfc6455::Limits { max_output_buffer: usize::MAX, ..limits })
            .expect("valid limits"),
    );

    // The wire, and what a correct server must deliver if every piece is well formed.
    let mut wire = Vec::new();
    let mut expected = Vec::new();
    let mut well_formed = true;
    for piece in input.pieces.iter().take(16) {
        match piece {
            Piece::Compressed { text, plain, repeat } => {
                let plain = plain.repeat(usize::from(*repeat % 512).max(1));
                let as_text = *text && std::str::from_utf8(&plain).is_ok();
                let kind = if as_text { MessageKind::Text } else { MessageKind::Binary };
                if client.send_message_with(kind, &plain, true).is_err() {
                    return;
                }
                wire.extend_from_slice(client.output());
                let n = client.output().len();
                // Incompressible data can come out larger than the frame limit: a correct
                // server refuses that frame (1009).
                let frame_too_large = rfc6455::frame::FrameHeader::parse(client.output())
                    .ok()
                    .flatten()
                    .is_none_or(|(header, _)| header.payload_len > limits.max_frame_size as u64);
                client.consume_output(n);
                if plain.len() > limits.max_message_size || frame_too_large {
                    well_formed = false;
                } else if as_text {
                    expected.push(Message::Text(String::from_utf8(plain).unwrap_or_default()));
                } else {
                    expected.push(Message::Binary(plain));
                }
            }
            Piece::FinalBlock { plain, pad } => {
                let plain = &plain[..plain.len().min(usize::from(u16::MAX))];
                if client.send_message_with(MessageKind::Binary, plain, true).is_err() {
                    return;
                }
                let n = client.output().len();
                client.consume_output(n);
                let len = plain.len() as u16;
                let mut payload = vec![0x01];
                payload.extend_from_slice(&len.to_le_bytes());
                payload.extend_from_slice(&(!len).to_le_bytes());
                payload.extend_from_slice(plain);
                if *pad {
                    payload.push(0x00);
                }
                encode_frame(&mut wire, true, 0x40, OpCode::Binary, &payload, Some([7, 1, 3, 9]));
                if plain.len() > limits.max_message_size || payload.len() > limits.max_frame_size {
                    well_formed = false;
                } else {
                    expected.push(Message::Binary(plain.to_vec()));
                }
            }
            Piece::Raw { opcode, fin, rsv1, payload } => {
                let opcode = match opcode % 6 {
                    0 => OpCode::Continuation,
                    1 => OpCode::Text,
                    2 => OpCode::Binary,
                    3 => OpCode::Ping,
                    4 => OpCode::Pong,
                    _ => OpCode::Close,
                };
                let payload = if opcode.is_control() { &payload[..payload.len().min(125)] } else { payload };
                let rsv = if *rsv1 { 0x40 } else { 0 };
                encode_frame(&mut wire, *fin || opcode.is_control(), rsv, opcode, payload, Some([7, 1, 3, 9]));
                well_formed = false;
            }
        }
    }

    let mut server = Connection::new(Config::server().with_deflate(deflate).with_limits(limits).expect("valid limits"));
    let mut got = Vec::new();
    let mut failure = None;
    'feed: for piece in chunks(&wire, u64::from(input.chunk_seed)) {
        let mut rest = piece;
        while !rest.is_empty() {
            // Events are pulled and the output written after every piece, so at most an
            // unfinished header (13 bytes) is left undecoded: a piece this size always fits, and
            // a refusal would be a bug.
            let take = rest.len().min(limits.max_input_buffer - 14);
            if let Err(error) = server.receive(&rest[..take]) {
                assert!(server.is_closed(), "input refused with events pulled: {error}");
                break 'feed;
            }
            rest = &rest[take..];
            loop {
                match server.next_event() {
                    Ok(Some(event)) => {
                        if let Some(message) = Message::from_event(&event) {
                            if let Message::Text(t) = &message {
                                assert!(t.len() <= limits.max_message_size);
                            }
                            if let Message::Binary(d) = &message {
                                assert!(d.len() <= limits.max_message_size);
                            }
                            got.push(message);
                        }
                    }
                    Ok(None) => break,
                    Err(error) => {
                        failure = Some(error);
                        break 'feed;
                    }
                }
                assert!(server.buffered_capacity() <= memory_bound(&limits), "{}", server.buffered_capacity());
            }
            // Write the output out, as an I/O layer would.
            let n = server.output().len();
            server.consume_output(n);
        }
    }
    if let Some(Error::Protocol(error)) = &failure {
        // A failure leaves its Close in the output (RFC 6455 §7.1.7), unless a Close was
        // already sent as the echo of the peer's.
        let echoed = got.iter().any(|m| matches!(m, Message::Close(..)));
        let code = error.close_code().0.to_be_bytes();
        let out = server.output();
        assert!(echoed || out.windows(2).any(|w| w == code), "no Close {code:?} for {error}");
    }
    if well_formed {
        assert!(failure.is_none(), "{failure:?}");
        assert_eq!(got, expected);
    }
});
