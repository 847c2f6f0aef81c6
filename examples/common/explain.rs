//! Explain WebSocket frames byte by byte: every header field, the masking key, the unmasked
//! payload, and which rule of RFC 6455 a bad field breaks.
//!
//! Used by `examples/explain.rs` (the command line) and `examples/ws_client.rs --verbose`,
//! and shaped so documentation can show its output: [`explain`] returns plain text.
//!
//! ```text
//! $ cargo run --example explain -- 81 85 37 fa 21 3d 7f 9f 4d 51 58
//! frame 1: bytes 0-10 (11 bytes)
//!   byte 0 = 0x81 = 1000 0001
//!     FIN    1    final fragment: this frame ends its message (§5.2)
//!   ...
//! ```
#![allow(dead_code)]

use std::fmt::Write as _;

use rfc6455::close::parse_close_payload;
use rfc6455::frame::OpCode;
use rfc6455::frame::mask::apply_mask;
use rfc6455::utf8::Utf8Validator;

/// Who sent the bytes, which decides the masking rule (§5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// Not known: masking is described but not judged.
    Unknown,
    /// A client: every frame MUST be masked.
    Client,
    /// A server: no frame may be masked.
    Server,
}

/// What [`explain`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The explanation, one line per field.
    pub text: String,
    /// Complete frames explained.
    pub frames: usize,
    /// Rules broken (each is a line starting with `problem:` in the text).
    pub problems: usize,
    /// The bytes end inside a frame.
    pub truncated: bool,
}

impl Report {
    /// The last line the command line prints: how many frames, and whether all were valid.
    pub fn summary(&self) -> String {
        if self.problems > 0 || self.truncated {
            format!(
                "{} frame(s), {} problem(s){}",
                self.frames,
                self.problems,
                if self.truncated { ", incomplete" } else { "" }
            )
        } else {
            format!("{} frame(s), all valid", self.frames)
        }
    }

    /// Everything the command line prints: the explanation and the summary line.
    pub fn output(&self) -> String {
        format!("{}{}\n", self.text, self.summary())
    }
}

/// Payload bytes shown in full; longer payloads are cut in the listing.
const SHOWN_PAYLOAD: usize = 64;

/// Parse hex bytes written any common way: `81 05 48`, `0x81,0x05`, `8105`, `\x81\x05`,
/// `81:05`. Separators are whitespace, commas, colons and dashes.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let mut digits = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '0' if matches!(chars.peek(), Some('x' | 'X')) => {
                chars.next();
                // A "0x" prefix starts a byte: an odd digit count before it is an error.
                if digits.len() % 2 != 0 {
                    return Err("a \"0x\" prefix in the middle of a byte".into());
                }
            }
            '\\' if matches!(chars.peek(), Some('x')) => {
                chars.next();
            }
            c if c.is_ascii_hexdigit() => digits.push(c.to_digit(16).unwrap_or(0) as u8),
            c if c.is_whitespace() || matches!(c, ',' | ':' | '-' | '[' | ']') => {}
            c => return Err(format!("{c:?} is not a hex digit")),
        }
    }
    if digits.len() % 2 != 0 {
        return Err(format!("{} hex digits: bytes take two each", digits.len()));
    }
    Ok(digits.chunks(2).map(|pair| pair[0] << 4 | pair[1]).collect())
}

/// A fragmented message in progress across frames (§5.4).
struct InProgress {
    text: bool,
    utf8: Utf8Validator,
}

/// Explain every frame in `bytes`.
pub fn explain(bytes: &[u8], sender: Sender) -> Report {
    let mut out = Explainer { text: String::new(), problems: 0 };
    let mut pos = 0;
    let mut frames = 0;
    let mut message: Option<InProgress> = None;
    let mut truncated = false;
    while pos < bytes.len() {
        frames += 1;
        match out.frame(frames, &bytes[pos..], pos, sender, &mut message) {
            Some(len) => pos += len,
            None => {
                truncated = true;
                frames -= 1;
                break;
            }
        }
    }
    if bytes.is_empty() {
        out.line("no bytes: a frame has at least 2 (§5.2)");
    }
    if message.is_some() && !truncated {
        out.line("note: the last message is unfinished (no frame with FIN = 1 ended it yet, §5.4)");
    }
    Report { text: out.text, frames, problems: out.problems, truncated }
}

struct Explainer {
    text: String,
    problems: usize,
}

impl Explainer {
    fn line(&mut self, line: impl AsRef<str>) {
        self.text.push_str(line.as_ref());
        self.text.push('\n');
    }

    fn problem(&mut self, rule: impl AsRef<str>) {
        self.problems += 1;
        self.line(format!("    problem: {}", rule.as_ref()));
    }

    /// Explain the frame at the start of `bytes` (found at `offset` of the input). Returns its
    /// length, or `None` (after saying what is missing) when the bytes end inside it.
    fn frame(
        &mut self,
        number: usize,
        bytes: &[u8],
        offset: usize,
        sender: Sender,
        message: &mut Option<InProgress>,
    ) -> Option<usize> {
        let Some(header_len) = header_len(bytes) else {
            self.line(format!("frame {number}: bytes {offset}- (incomplete)"));
            self.line(format!(
                "  only {} byte(s) left: the header needs {} (§5.2)",
                bytes.len(),
                header_len_lower_bound(bytes)
            ));
            return None;
        };
        let first = bytes[0];
        let second = bytes[1];
        let fin = first & 0x80 != 0;
        let opcode_bits = first & 0x0F;
        let opcode = OpCode::try_from(opcode_bits).ok();
        let masked = second & 0x80 != 0;
        let len7 = second & 0x7F;
        let (payload_len, length_form) = match len7 {
            126 => (u64::from(u16::from_be_bytes([bytes[2], bytes[3]])), 16),
            127 => {
                let mut be = [0u8; 8];
                be.copy_from_slice(&bytes[2..10]);
                (u64::from_be_bytes(be), 64)
            }
            short => (u64::from(short), 7),
        };
        let total = (header_len as u64).saturating_add(payload_len);
        let complete = total <= bytes.len() as u64;
        let end = if complete { offset + total as usize - 1 } else { offset + bytes.len() - 1 };
        self.line(format!(
            "frame {number}: bytes {offset}-{end} ({}{} bytes)",
            if complete { "" } else { "incomplete: " },
            if complete { total } else { bytes.len() as u64 }
        ));

        // Byte 0: FIN, RSV1-3, opcode.
        self.line(format!("  byte {offset} = 0x{first:02x} = {}", bits(first)));
        self.line(format!(
            "    FIN    {}    {}",
            u8::from(fin),
            if fin { "final fragment: this frame ends its message (§5.2)" } else { "more fragments follow (§5.4)" }
        ));
        for (name, bit) in [("RSV1", 0x40), ("RSV2", 0x20), ("RSV3", 0x10)] {
            let set = first & bit != 0;
            self.line(format!("    {name}   {}", u8::from(set)));
            if set {
                self.problem(format!(
                    "{name} is set, but it must be 0 unless an extension defining it was negotiated \
                     (§5.2): the receiver MUST fail the connection (close 1002)"
                ));
            }
        }
        let opcode_name = match opcode {
            Some(OpCode::Continuation) => "continuation: the next fragment of a message (§5.4)",
            Some(OpCode::Text) => "text: UTF-8 data (§5.6)",
            Some(OpCode::Binary) => "binary data (§5.6)",
            Some(OpCode::Close) => "close: starts or answers the closing handshake (§5.5.1)",
            Some(OpCode::Ping) => "ping: asks for a pong (§5.5.2)",
            Some(OpCode::Pong) => "pong: answers a ping (§5.5.3)",
            None if opcode_bits < 8 => "reserved for future data frames",
            None => "reserved for future control frames",
        };
        self.line(format!("    opcode 0x{opcode_bits:x}  {opcode_name}"));
        if opcode.is_none() {
            self.problem(format!(
                "opcode 0x{opcode_bits:x} is reserved (§5.2, %x3-7 and %xB-F): the receiver MUST fail \
                 the connection (close 1002)"
            ));
        }
        let is_control = opcode_bits & 0x08 != 0;
        if is_control && !fin {
            self.problem("a control frame with FIN = 0: control frames MUST NOT be fragmented (§5.5)");
        }

        // Byte 1: MASK and the 7-bit length.
        self.line(format!("  byte {} = 0x{second:02x} = {}", offset + 1, bits(second)));
        let mask_text = match (masked, sender) {
            (true, Sender::Server) => "masked, but sent by a server",
            (false, Sender::Client) => "not masked, but sent by a client",
            (true, _) => "the payload is masked: a client's frame (§5.1, §5.3)",
            (false, _) => "the payload is not masked: a server's frame (§5.1)",
        };
        self.line(format!("    MASK   {}    {mask_text}", u8::from(masked)));
        match (masked, sender) {
            (true, Sender::Server) => {
                self.problem("a server MUST NOT mask any frame it sends; the client MUST fail the connection (§5.1)");
            }
            (false, Sender::Client) => {
                self.problem("a client MUST mask every frame it sends; the server MUST fail the connection (§5.1)");
            }
            _ => {}
        }
        match length_form {
            7 => self.line(format!("    length {len7:<4} 7-bit form: 0-125 fit in byte 1 (§5.2)")),
            16 => {
                self.line(format!("    length {len7:<4} 126: the length is in the next 2 bytes (§5.2)"));
                self.line(format!(
                    "  bytes {}-{} = {} = {payload_len}: 16-bit length (§5.2)",
                    offset + 2,
                    offset + 3,
                    hex(&bytes[2..4])
                ));
                if payload_len < 126 {
                    self.problem(format!(
                        "{payload_len} fits the 7-bit form: the minimal number of bytes MUST be used to \
                         encode the length (§5.2)"
                    ));
                }
            }
            _ => {
                self.line(format!("    length {len7:<4} 127: the length is in the next 8 bytes (§5.2)"));
                self.line(format!(
                    "  bytes {}-{} = {} = {payload_len}: 64-bit length (§5.2)",
                    offset + 2,
                    offset + 9,
                    hex(&bytes[2..10])
                ));
                if payload_len >> 63 != 0 {
                    self.problem("the most significant bit of a 64-bit length MUST be 0 (§5.2)");
                } else if payload_len <= 0xFFFF {
                    self.problem(format!(
                        "{payload_len} fits a shorter form: the minimal number of bytes MUST be used to \
                         encode the length (§5.2)"
                    ));
                }
            }
        }
        if is_control && payload_len > 125 {
            self.problem(format!(
                "a control frame with {payload_len} bytes of payload: at most 125 are allowed (§5.5)"
            ));
        }

        let key = if masked {
            let at = header_len - 4;
            let key = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
            self.line(format!(
                "  bytes {}-{} = {}: masking key; payload byte i is XORed with key byte i mod 4 (§5.3)",
                offset + at,
                offset + at + 3,
                hex(&key)
            ));
            Some(key)
        } else {
            None
        };

        // The payload.
        let available = bytes.len() - header_len;
        if !complete {
            self.line(format!(
                "  payload: {payload_len} bytes announced, {available} present: {} more needed",
                payload_len - available as u64
            ));
            return None;
        }
        let payload_len = payload_len as usize;
        let mut payload = bytes[header_len..header_len + payload_len].to_vec();
        if payload_len == 0 {
            self.line("  payload: empty");
        } else {
            let start = offset + header_len;
            self.line(format!("  bytes {start}-{}: payload, {payload_len} bytes", start + payload_len - 1));
            if let Some(key) = key {
                self.line(format!("    masked   {}", hex_shown(&payload)));
                apply_mask(&mut payload, key, 0);
                self.line(format!("    unmasked {}", hex_shown(&payload)));
            } else {
                self.line(format!("    bytes    {}", hex_shown(&payload)));
            }
        }
        self.payload(opcode, fin, &payload, message);
        Some(header_len + payload_len)
    }

    /// Show a payload as what it carries, and check the message-level rules (§5.4, §5.5.1, §8.1).
    fn payload(&mut self, opcode: Option<OpCode>, fin: bool, payload: &[u8], message: &mut Option<InProgress>) {
        match opcode {
            Some(OpCode::Text | OpCode::Binary) => {
                if message.is_some() {
                    self.problem(
                        "a new text or binary frame while a fragmented message is unfinished: expected a \
                         continuation frame (§5.4)",
                    );
                }
                let text = opcode == Some(OpCode::Text);
                let mut current = InProgress { text, utf8: Utf8Validator::new() };
                self.data(&mut current, fin, payload);
                *message = if fin { None } else { Some(current) };
            }
            Some(OpCode::Continuation) => match message.as_mut() {
                Some(current) => {
                    self.data(current, fin, payload);
                    if fin {
                        *message = None;
                    }
                }
                None => {
                    self.problem("a continuation frame with no fragmented message to continue (§5.4)");
                    if !payload.is_empty() {
                        self.line(format!("    as text  {}", quoted(payload)));
                    }
                }
            },
            Some(OpCode::Close) => match parse_close_payload(payload) {
                Ok(None) => self.line("    no status code: reported as 1005 (§7.1.5)"),
                Ok(Some((code, reason))) => {
                    self.line(format!("    status   {} {} (§7.4)", code.0, close_code_name(code.0)));
                    self.line(format!("    reason   {reason:?}"));
                }
                Err(_) if payload.len() == 1 => {
                    self.problem("a close payload of 1 byte: it is empty or starts with a 2-byte code (§5.5.1)");
                }
                Err(_) => {
                    let code = u16::from_be_bytes([payload[0], payload[1]]);
                    self.line(format!("    status   {code} {}", close_code_name(code)));
                    if std::str::from_utf8(&payload[2..]).is_err() {
                        self.problem("the close reason MUST be UTF-8 (§5.5.1); the connection fails with 1007 (§8.1)");
                    } else {
                        self.problem(format!(
                            "status {code} may not be sent in a Close frame (§7.4.1, §7.4.2): 1000-1003, \
                             1007-1014 and 3000-4999 may"
                        ));
                    }
                }
            },
            Some(OpCode::Ping | OpCode::Pong) if !payload.is_empty() => {
                self.line(format!("    as text  {}", quoted(payload)));
            }
            _ => {}
        }
    }

    fn data(&mut self, message: &mut InProgress, fin: bool, payload: &[u8]) {
        if !message.text {
            return;
        }
        match message.utf8.feed(payload) {
            Ok(()) if fin && !message.utf8.is_complete() => {
                self.line(format!("    text     {}", quoted(payload)));
                self.problem("the text message ends inside a UTF-8 sequence (§5.6, §8.1): close 1007");
            }
            Ok(()) => self.line(format!("    text     {}", quoted(payload))),
            Err(_) => {
                self.line(format!("    as text  {}", quoted(payload)));
                self.problem("a text message MUST be valid UTF-8 (§5.6, §8.1): the receiver fails it with 1007");
            }
        }
    }
}

/// The header length, once enough bytes are there to know it and hold it.
fn header_len(bytes: &[u8]) -> Option<usize> {
    let second = *bytes.get(1)?;
    let ext = match second & 0x7F {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let len = 2 + ext + if second & 0x80 != 0 { 4 } else { 0 };
    (bytes.len() >= len).then_some(len)
}

/// How many header bytes are known to be needed, from what is there.
fn header_len_lower_bound(bytes: &[u8]) -> usize {
    match bytes.get(1) {
        None => 2,
        Some(&second) => {
            2 + match second & 0x7F {
                126 => 2,
                127 => 8,
                _ => 0,
            } + if second & 0x80 != 0 { 4 } else { 0 }
        }
    }
}

fn close_code_name(code: u16) -> &'static str {
    match code {
        1000 => "normal closure",
        1001 => "going away",
        1002 => "protocol error",
        1003 => "unsupported data",
        1004 => "reserved",
        1005 => "no status received (never sent)",
        1006 => "abnormal closure (never sent)",
        1007 => "invalid payload data",
        1008 => "policy violation",
        1009 => "message too big",
        1010 => "mandatory extension",
        1011 => "internal error",
        1012 => "service restart",
        1013 => "try again later",
        1014 => "bad gateway",
        1015 => "TLS handshake failure (never sent)",
        3000..=3999 => "registered for libraries and frameworks",
        4000..=4999 => "private use by applications",
        _ => "undefined",
    }
}

fn bits(byte: u8) -> String {
    format!("{:04b} {:04b}", byte >> 4, byte & 0x0F)
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, byte) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{byte:02x}");
    }
    out
}

fn hex_shown(bytes: &[u8]) -> String {
    if bytes.len() <= SHOWN_PAYLOAD {
        hex(bytes)
    } else {
        format!("{} ... ({} more)", hex(&bytes[..SHOWN_PAYLOAD]), bytes.len() - SHOWN_PAYLOAD)
    }
}

/// The payload as a quoted string (invalid UTF-8 shown as U+FFFD), cut when long.
fn quoted(bytes: &[u8]) -> String {
    let shown = &bytes[..bytes.len().min(SHOWN_PAYLOAD * 4)];
    let text = String::from_utf8_lossy(shown);
    if shown.len() < bytes.len() {
        format!("{text:?} ... ({} more bytes)", bytes.len() - shown.len())
    } else {
        format!("{text:?}")
    }
}
