//! The opening handshake (RFC 6455 §4), sans-IO: bytes in, parsed messages and bytes to send out.
//!
//! Neither side touches a socket. The caller reads bytes from its transport, hands them to
//! [`ServerHandshake::receive`] or [`ClientHandshake::receive`] in whatever pieces they came
//! (one byte at a time works), and writes out the bytes this module builds.
//!
//! **Server** (§4.2):
//! 1. [`ServerHandshake::receive`] until it returns a [`Request`]: any HTTP request head, not yet
//!    checked against the WebSocket rules, so one port can serve plain HTTP pages too.
//! 2. [`Request::is_websocket_upgrade`] tells a WebSocket attempt from a plain request.
//!    A plain request can be answered with [`http_response`].
//! 3. [`Request::validate_websocket`] applies §4.2.1. On error, send [`reject_response`]
//!    (400, 405 or 426 with `Sec-WebSocket-Version: 13`, §4.4). On success, the application
//!    may still decline (e.g. a bad `Origin`, §10.2) with
//!    [`HandshakeError::Rejected`], or accept with
//!    [`accept_response`] (101, §4.2.2).
//! 4. Bytes the client sent behind its request (its first frames) are in
//!    [`ServerHandshake::remainder`]: feed them to the connection before anything else.
//!
//! **Client** (§4.1): [`ClientHandshake::new`] builds the request ([`ClientHandshake::request`])
//! with a fresh random key; [`ClientHandshake::receive`] reads and checks the server's answer;
//! [`ClientHandshake::remainder`] holds the frames the server sent right behind its 101.
//!
//! **Client over HTTP/2** (RFC 8441): [`H2ClientHandshake`] builds the extended CONNECT as a
//! header list and checks the server's status and headers, with the same option checks and
//! subprotocol and extension rules as the HTTP/1.1 client, into the same [`Response`].
//!
//! Both readers look for the end of the head (an empty line) in the new bytes only, so input
//! that dribbles in costs linear time, and give up with
//! [`HandshakeError::HeadersTooLarge`] (431) past
//! `max_handshake_size` bytes or [`MAX_HEADERS`] header lines. Errors are sticky: once a
//! `receive` fails, every later call returns the same error.

pub mod accept;
pub mod client;
pub mod h2_client;
pub mod negotiated;
mod offer;
pub mod server;

pub use accept::{GUID, accept_key};
pub use client::{ClientHandshake, ClientOptions, Refusal, Response};
pub use h2_client::H2ClientHandshake;
pub use negotiated::{Completed, connection_config};
pub use server::{Request, ServerHandshake, accept_response, http_response, reason_phrase, reject_response};

use crate::error::HandshakeError;

/// Most header lines a request or response head may carry; more is answered with 431.
pub const MAX_HEADERS: usize = 64;

/// Where the scan for the empty line that ends a head stands, carried across `receive` calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// Nothing but empty lines so far (RFC 7230 §3.5: ignore empty lines before the start line).
    Start,
    /// Inside a line.
    Mid,
    /// Just after a `\n`.
    LineStart,
    /// Just after `\n\r`.
    LineStartCr,
}

/// Collects a request or response head (start line + headers + empty line) from bytes in any
/// chunking, and keeps whatever follows it.
#[derive(Debug)]
pub(crate) struct HeadReader {
    /// Everything received so far: the head, then the remainder.
    buf: Vec<u8>,
    /// Length of the head, once its end has been seen.
    head_len: Option<usize>,
    scan: Scan,
    max: usize,
    /// Whether the first line has ended (so the start line can be checked early).
    first_line_done: bool,
}

impl HeadReader {
    pub(crate) fn new(max: usize) -> Self {
        HeadReader { buf: Vec::new(), head_len: None, scan: Scan::Start, max, first_line_done: false }
    }

    /// Add `bytes`. Returns `Ok(true)` the one time the end of the head arrives; once complete,
    /// further bytes only grow the remainder.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<bool, HandshakeError> {
        if self.head_len.is_some() {
            self.buf.extend_from_slice(bytes);
            return Ok(false);
        }
        // Scan only the new bytes, and never past the size limit.
        let room = self.max.saturating_sub(self.buf.len());
        let scanned = &bytes[..bytes.len().min(room)];
        if let Some(end) = self.scan(scanned) {
            self.head_len = Some(self.buf.len() + end);
            self.buf.extend_from_slice(bytes);
            return Ok(true);
        }
        if bytes.len() > room {
            return Err(HandshakeError::HeadersTooLarge);
        }
        self.buf.extend_from_slice(bytes);
        Ok(false)
    }

    /// Run the end-of-head scanner over `new`; the index just past the final `\n` if found.
    fn scan(&mut self, new: &[u8]) -> Option<usize> {
        for (i, &b) in new.iter().enumerate() {
            self.scan = match (self.scan, b) {
                (Scan::Start, b'\r' | b'\n') => Scan::Start,
                (Scan::LineStart | Scan::LineStartCr, b'\n') => return Some(i + 1),
                (_, b'\n') => {
                    self.first_line_done = true;
                    Scan::LineStart
                }
                (Scan::LineStart, b'\r') => Scan::LineStartCr,
                _ => Scan::Mid,
            };
        }
        None
    }

    /// Whether the end of the head has been seen.
    pub(crate) fn is_complete(&self) -> bool {
        self.head_len.is_some()
    }

    /// Whether the first (start) line has ended.
    pub(crate) fn first_line_done(&self) -> bool {
        self.first_line_done
    }

    /// The bytes received so far, head first.
    pub(crate) fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// The complete head, or everything so far if it is not complete.
    pub(crate) fn head(&self) -> &[u8] {
        &self.buf[..self.head_len.unwrap_or(self.buf.len())]
    }

    /// Move the head/remainder boundary to what the HTTP parser consumed.
    pub(crate) fn set_head_len(&mut self, len: usize) {
        self.head_len = Some(len.min(self.buf.len()));
    }

    /// Bytes received after the head (empty until the head is complete).
    pub(crate) fn remainder(&self) -> &[u8] {
        match self.head_len {
            Some(len) => &self.buf[len..],
            None => &[],
        }
    }

    /// Take the remainder out, dropping the head.
    pub(crate) fn into_remainder(mut self) -> Vec<u8> {
        match self.head_len {
            Some(len) => {
                self.buf.drain(..len);
                self.buf
            }
            None => Vec::new(),
        }
    }
}

/// Turn an httparse error into ours: too many header lines is a size problem (431).
pub(crate) fn parse_error(e: httparse::Error) -> HandshakeError {
    use httparse::Error as E;
    match e {
        E::TooManyHeaders => HandshakeError::HeadersTooLarge,
        E::HeaderName => HandshakeError::MalformedHttp("invalid header name"),
        E::HeaderValue => HandshakeError::MalformedHttp("invalid header value"),
        E::NewLine => HandshakeError::MalformedHttp("invalid line ending"),
        E::Status => HandshakeError::MalformedHttp("invalid response status"),
        E::Token => HandshakeError::MalformedHttp("invalid token"),
        E::Version => HandshakeError::MalformedHttp("invalid HTTP version"),
    }
}

/// Copy httparse's borrowed headers into owned pairs.
pub(crate) fn owned_headers(headers: &[httparse::Header<'_>]) -> Vec<(String, Vec<u8>)> {
    headers.iter().map(|h| (h.name.to_owned(), h.value.to_vec())).collect()
}

/// Values of every header called `name` (ASCII case-insensitive, RFC 7230 §3.2), in order.
pub(crate) fn header_values<'a, 'n>(
    headers: &'a [(String, Vec<u8>)],
    name: &'n str,
) -> impl Iterator<Item = &'a [u8]> + use<'a, 'n> {
    headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_slice())
}

/// The non-empty, trimmed elements of a comma-separated list value (RFC 7230 §7 `#rule`:
/// empty elements are ignored).
pub(crate) fn list_items(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|&b| b == b',').map(<[u8]>::trim_ascii).filter(|item| !item.is_empty())
}

/// Whether any header called `name` lists `token` (ASCII case-insensitive).
pub(crate) fn has_token(headers: &[(String, Vec<u8>)], name: &str, token: &str) -> bool {
    header_values(headers, name).flat_map(list_items).any(|item| item.eq_ignore_ascii_case(token.as_bytes()))
}

/// The extension names in a `Sec-WebSocket-Extensions` value (§9.1: `extension-token`, the part
/// of each list element before its first `;`).
pub(crate) fn extension_names(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    list_items(value).map(|item| item.split(|&b| b == b';').next().unwrap_or(item).trim_ascii())
}

/// RFC 7230 §3.2.6 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// RFC 7230 §3.2.6 `token`: one or more `tchar`.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// Whether `value` can go into a header line as is: visible ASCII, spaces and tabs, and
/// UTF-8 above (tolerated as obs-text); never CR, LF, NUL or other controls, which would end the
/// line early and let the value forge headers (response splitting).
pub(crate) fn is_safe_value(value: &str) -> bool {
    value.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// Check a header the application wants to add to a message we build.
pub(crate) fn check_extra_header(name: &str, value: &str) -> Result<(), HandshakeError> {
    if !is_token(name) {
        return Err(HandshakeError::MalformedHttp("header name is not an HTTP token"));
    }
    if !is_safe_value(value) {
        return Err(HandshakeError::MalformedHttp("header value contains CR, LF or another control character"));
    }
    Ok(())
}

/// Append `name: value\r\n`.
pub(crate) fn push_header(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}
