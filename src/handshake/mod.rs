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
//! **Server over HTTP/2** (RFC 8441): [`h2_server::ConnectRequest`] reads an extended CONNECT's
//! header list into the same [`Request`], checks it (`:method CONNECT`, `:protocol websocket`,
//! then the same version, subprotocol and extension rules), and answers with a status and a
//! header list (200 to accept, [`h2_server::reject`] otherwise). The HTTP/1.1 parser is one
//! producer of a [`Request`]; an HTTP/2 header list is another.
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
pub mod h2_server;
mod head;
pub mod negotiated;
mod offer;
pub mod server;

pub use accept::{GUID, accept_key};
pub use client::{ClientHandshake, ClientOptions, Refusal, Response};
pub use h2_client::H2ClientHandshake;
pub use negotiated::{Completed, connection_config};
pub use server::{Request, ServerHandshake, accept_response, http_response, reason_phrase, reject_response};

pub(crate) use head::{Step, StickyHead};

use crate::error::HandshakeError;

/// Most header lines a request or response head may carry; more is answered with 431.
pub const MAX_HEADERS: usize = 64;

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
pub(crate) fn push_header(out: &mut Vec<u8>, name: &str, value: impl AsRef<[u8]>) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_ref());
    out.extend_from_slice(b"\r\n");
}
