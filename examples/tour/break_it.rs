//! "Break it": frames a browser will never send, sent on purpose to the tour's own WebSocket
//! endpoint, to show what the server answers and which rule of RFC 6455 the frame breaks.
//!
//! A browser's WebSocket API only ever sends valid, masked frames, so the server does it for
//! the page: it opens a raw TCP connection to itself (loopback), runs the opening handshake
//! with the crate's sans-IO [`ClientHandshake`], writes the exact bad bytes of a [`Case`], and
//! reads what comes back until the server's Close frame and its TCP FIN, or a timeout. The
//! answer comes from the same blocking server code every demo runs.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use rfc6455::frame::mask::apply_mask;
use rfc6455::{ClientHandshake, ClientOptions, MaskKeySource};
use serde_json::{Value, json};

use super::explain::{Sender, explain};
use super::wire::{decode_frames, hex};

/// The masking key of every bad frame: the one in RFC 6455 §5.7's examples, so the bytes can
/// be checked by hand against the RFC.
pub const MASKING_KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// One way to break the protocol.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// Short name, used in URLs and tests.
    pub id: &'static str,
    /// What the frame does wrong, in a few words.
    pub title: &'static str,
    /// The RFC section the server enforces.
    pub section: &'static str,
    /// The close code the server must answer with.
    pub expected_code: u16,
    /// Why that code, in a sentence.
    pub why: &'static str,
    /// The guide chapter that explains the rule.
    pub guide: &'static str,
    /// The bytes to send after the handshake.
    build: fn() -> Vec<u8>,
}

impl Case {
    /// The exact bytes this case writes after the opening handshake.
    pub fn bytes(&self) -> Vec<u8> {
        (self.build)()
    }
}

/// A client frame: FIN/RSV/opcode byte, masked with [`MASKING_KEY`], 7-bit or 16-bit length.
fn masked_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![first];
    match payload.len() {
        len @ 0..=125 => frame.push(0x80 | len as u8),
        len => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
    }
    frame.extend_from_slice(&MASKING_KEY);
    let mut masked = payload.to_vec();
    apply_mask(&mut masked, MASKING_KEY, 0);
    frame.extend_from_slice(&masked);
    frame
}

/// Every case the tour offers, in the order the page lists them.
pub const CASES: &[Case] = &[
    Case {
        id: "unmasked",
        title: "a client frame without a mask",
        section: "§5.1",
        expected_code: 1002,
        why: "A client MUST mask every frame it sends; a server MUST close the connection when it \
              receives an unmasked frame (status 1002, protocol error).",
        guide: "03-masking.md",
        build: || [&[0x81u8, 0x05][..], b"Hello"].concat(),
    },
    Case {
        id: "reserved_opcode",
        title: "a reserved opcode (0x3)",
        section: "§5.2",
        expected_code: 1002,
        why: "Opcodes 0x3-0x7 and 0xB-0xF are reserved; a receiver of an unknown opcode MUST fail \
              the connection (1002).",
        guide: "02-framing.md",
        build: || masked_frame(0x83, b"Hello"),
    },
    Case {
        id: "rsv_bit",
        title: "RSV1 set with no extension agreed",
        section: "§5.2",
        expected_code: 1002,
        why: "RSV1-3 MUST be 0 unless an extension that defines them was negotiated; none was, so \
              the receiver MUST fail the connection (1002).",
        guide: "02-framing.md",
        build: || masked_frame(0xC1, b"Hello"),
    },
    Case {
        id: "invalid_utf8",
        title: "invalid UTF-8 in a text frame",
        section: "§8.1",
        expected_code: 1007,
        why: "A text message MUST be valid UTF-8; byte 0xFF never occurs in UTF-8, so the receiver \
              MUST fail the connection, with 1007 (invalid frame payload data, §7.4.1).",
        guide: "04-fragmentation-and-utf8.md",
        build: || masked_frame(0x81, b"caf\xff"),
    },
    Case {
        id: "oversized_control",
        title: "a Ping with 126 bytes of payload",
        section: "§5.5",
        expected_code: 1002,
        why: "All control frames MUST have a payload of 125 bytes or less; this Ping says 126 in \
              the 16-bit length form (1002).",
        guide: "05-control-frames-and-closing.md",
        build: || masked_frame(0x89, &[b'x'; 126]),
    },
    Case {
        id: "fragmented_control",
        title: "a fragmented Ping (FIN = 0)",
        section: "§5.5",
        expected_code: 1002,
        why: "Control frames MUST NOT be fragmented: a Ping with FIN clear is a protocol error (1002).",
        guide: "05-control-frames-and-closing.md",
        build: || masked_frame(0x09, b"hi"),
    },
    Case {
        id: "orphan_continuation",
        title: "a continuation frame with no message to continue",
        section: "§5.4",
        expected_code: 1002,
        why: "A continuation frame only follows a first fragment (FIN = 0); with no message open it \
              breaks the fragmentation rules (1002).",
        guide: "04-fragmentation-and-utf8.md",
        build: || masked_frame(0x80, b"Hello"),
    },
    Case {
        id: "bad_close_code",
        title: "a Close frame with code 1005",
        section: "§7.4.1",
        expected_code: 1002,
        why: "1005 (no status received) is reserved: it MUST NOT be set as a status code in a Close \
              frame. The server answers the invalid Close with 1002.",
        guide: "05-control-frames-and-closing.md",
        build: || masked_frame(0x88, &1005u16.to_be_bytes()),
    },
    Case {
        id: "too_big",
        title: "a text frame announcing 1 MiB (the limit is 64 KiB)",
        section: "§7.4.1, §10.4",
        expected_code: 1009,
        why: "The server limits message size (§10.4); a frame announcing more than it will take is \
              refused from its header alone, before any payload, with 1009 (message too big).",
        guide: "13-keepalive-backpressure-origin.md",
        build: || {
            let mut frame = vec![0x81, 0x80 | 127];
            frame.extend_from_slice(&(1u64 << 20).to_be_bytes());
            frame.extend_from_slice(&MASKING_KEY);
            frame
        },
    },
];

/// The case called `id`.
pub fn case(id: &str) -> Option<&'static Case> {
    CASES.iter().find(|case| case.id == id)
}

/// What the server answered to a case.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The bad bytes written after the handshake.
    pub sent: Vec<u8>,
    /// Everything the server sent after its 101.
    pub received: Vec<u8>,
    /// The code and reason of the server's Close frame, if one came.
    pub close: Option<(u16, String)>,
    /// The server closed TCP (end of stream reached) after its Close.
    pub server_closed_tcp: bool,
    /// The key and the `Sec-WebSocket-Accept` of the raw handshake.
    pub key: String,
    /// Time from writing the bad bytes to the Close frame.
    pub answered_in: Duration,
}

impl Outcome {
    /// The outcome as the page shows it.
    pub fn to_json(&self, case: &Case) -> Value {
        json!({
            "case": case.id,
            "title": case.title,
            "section": case.section,
            "why": case.why,
            "guide": case.guide,
            "expected_code": case.expected_code,
            "key": self.key,
            "sent_hex": hex(&self.sent),
            "sent_explained": explain(&self.sent, Sender::Client).text,
            "received_hex": hex(&self.received),
            "received": decode_frames(&self.received),
            "received_explained": explain(&self.received, Sender::Server).text,
            "close_code": self.close.as_ref().map(|(code, _)| *code),
            "close_reason": self.close.as_ref().map(|(_, reason)| reason.clone()),
            "server_closed_tcp": self.server_closed_tcp,
            "answered_ms": self.answered_in.as_secs_f64() * 1000.0,
        })
    }
}

/// Connect to the WebSocket endpoint `path` at `addr`, complete the handshake, send `case`'s
/// bytes and read the answer, all within `timeout`.
pub fn run(addr: SocketAddr, path: &str, case: &Case, timeout: Duration) -> Result<Outcome, String> {
    let deadline = Instant::now() + timeout;
    let left = || deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(timeout)).map_err(|e| e.to_string())?;

    let mut keys = MaskKeySource::Entropy.generator();
    let mut handshake = ClientHandshake::new(&addr.to_string(), path, &ClientOptions::default(), &mut keys, 16 << 10)
        .map_err(|e| format!("handshake: {e}"))?;
    stream.write_all(handshake.request()).map_err(|e| format!("write the handshake: {e}"))?;
    let mut buf = [0u8; 4096];
    loop {
        stream.set_read_timeout(Some(left())).map_err(|e| e.to_string())?;
        let n = read_some(&mut stream, &mut buf)?;
        if n == 0 {
            return Err("the server closed the connection during the handshake".into());
        }
        if handshake.receive(&buf[..n]).map_err(|e| format!("handshake: {e}"))?.is_some() {
            break;
        }
    }
    let mut received = handshake.remainder().to_vec();

    let sent = case.bytes();
    let written_at = Instant::now();
    stream.write_all(&sent).map_err(|e| format!("write the frame: {e}"))?;
    let mut close = None;
    let mut answered_in = Duration::ZERO;
    let mut server_closed_tcp = false;
    loop {
        if close.is_none() {
            close = close_frame(&received);
            if close.is_some() {
                answered_in = written_at.elapsed();
            }
        }
        if Instant::now() >= deadline {
            break;
        }
        stream.set_read_timeout(Some(left())).map_err(|e| e.to_string())?;
        match read_some(&mut stream, &mut buf) {
            Ok(0) => {
                server_closed_tcp = true;
                break;
            }
            Ok(n) if received.len() < 4096 => received.extend_from_slice(&buf[..n]),
            Ok(_) => {}
            // A timeout (or a reset) ends the wait; what arrived is the answer.
            Err(_) => break,
        }
    }
    if close.is_none() {
        close = close_frame(&received);
    }
    Ok(Outcome { sent, received, close, server_closed_tcp, key: handshake.key().to_owned(), answered_in })
}

fn read_some(stream: &mut TcpStream, buf: &mut [u8]) -> Result<usize, String> {
    loop {
        match stream.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err("timed out waiting for the server".into());
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// The code and reason of the first Close frame in `bytes`, once it is complete.
fn close_frame(bytes: &[u8]) -> Option<(u16, String)> {
    let frames = decode_frames(bytes);
    frames["frames"].as_array()?.iter().find(|frame| frame["opcode"] == 8).map(|frame| {
        let code = frame["close_code"].as_u64().and_then(|code| u16::try_from(code).ok()).unwrap_or(1005);
        (code, frame["close_reason"].as_str().unwrap_or("").to_owned())
    })
}
