//! The server's side of the opening handshake (RFC 6455 §4.2): read the client's request
//! (§4.2.1), then answer it with a 101 (§4.2.2), an error status (§4.2.1, §4.4), or a plain
//! HTTP page.
//!
//! Reading and checking are two steps. [`ServerHandshake::receive`] returns any well-formed
//! HTTP request head as a [`Request`]; [`Request::validate_websocket`] then applies the
//! WebSocket rules. So a server can serve an HTML page on the same port as its WebSocket
//! endpoint, with [`Request::is_websocket_upgrade`] telling the two apart.
//!
//! ```
//! use rfc6455::handshake::{ServerHandshake, accept_response, reject_response};
//!
//! let mut handshake = ServerHandshake::new(16 * 1024);
//! let bytes = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
//!     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
//!     Sec-WebSocket-Version: 13\r\n\r\n";
//! let request = handshake.receive(bytes).unwrap().expect("complete");
//! let answer = match request.validate_websocket() {
//!     Ok(()) => accept_response(&request, None, &[]).unwrap(),
//!     Err(e) => reject_response(&e),
//! };
//! assert!(answer.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
//! assert!(handshake.remainder().is_empty());
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};

use super::{
    MAX_HEADERS, Step, StickyHead, accept_key, check_extra_header, extension_names, has_token, header_values, is_token,
    list_items, owned_headers, parse_error, push_header,
};
use crate::error::HandshakeError;

/// Decodes `Sec-WebSocket-Key`: standard alphabet, canonical padding, but non-zero trailing
/// bits allowed: RFC 6455's own example key in §4.1 (`AQIDBAUGBwgJCgsMDQ4PEC==`) has them, and
/// §4.2.2 hashes the key as text, so they change nothing.
const KEY_DECODER: GeneralPurpose =
    GeneralPurpose::new(&base64::alphabet::STANDARD, GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true));

/// Reads a client's request head from bytes in any chunking (sans-IO).
///
/// Feed it with [`receive`](Self::receive) until it returns a [`Request`]; then send the
/// answer and hand [`remainder`](Self::remainder) (frames the client sent right behind its
/// request) to the connection.
#[derive(Debug)]
pub struct ServerHandshake {
    head: StickyHead,
}

impl ServerHandshake {
    /// A reader that fails with [`HandshakeError::HeadersTooLarge`] (431) if the request head is
    /// longer than `max_handshake_size` bytes (see [`crate::Limits::max_handshake_size`]).
    pub fn new(max_handshake_size: usize) -> Self {
        ServerHandshake { head: StickyHead::new(max_handshake_size) }
    }

    /// Take the next bytes from the client.
    ///
    /// Returns `Ok(None)` while the head is incomplete, `Ok(Some(request))` once, when it
    /// completes. The request is only parsed as HTTP here; call
    /// [`Request::validate_websocket`] before accepting it. Bytes after the head go to
    /// [`remainder`](Self::remainder), including those passed in later calls (which return
    /// `Ok(None)`).
    ///
    /// Errors: [`HandshakeError::HeadersTooLarge`] past the size limit or with more than
    /// [`MAX_HEADERS`] header lines, [`HandshakeError::MalformedHttp`] for
    /// bytes that are not an HTTP request. A malformed request line is reported as soon as it
    /// ends, without waiting for the rest. Errors are sticky.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<Option<Request>, HandshakeError> {
        let result = match self.head.push(bytes)? {
            Step::Waiting => Ok(None),
            Step::StartLine => self.check_request_line().map(|()| None),
            Step::Head => self.parse().map(Some),
        };
        self.head.settle(result)
    }

    /// Fail early on garbage (a TLS hello on a plain port, say) instead of waiting for the size
    /// limit: once the first line is in, httparse can already tell if it is a request line.
    fn check_request_line(&self) -> Result<(), HandshakeError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        match httparse::Request::new(&mut headers).parse(self.head.reader().buffer()) {
            Ok(_) => Ok(()),
            Err(e) => Err(parse_error(e)),
        }
    }

    /// Parse the complete head.
    fn parse(&mut self) -> Result<Request, HandshakeError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Request::new(&mut headers);
        let len = match parsed.parse(self.head.reader().head()) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => {
                return Err(HandshakeError::MalformedHttp("incomplete request head"));
            }
            Err(e) => return Err(parse_error(e)),
        };
        let (Some(method), Some(path), Some(version)) = (parsed.method, parsed.path, parsed.version) else {
            return Err(HandshakeError::MalformedHttp("incomplete request line"));
        };
        let request = Request::from_parts(method, path, version, owned_headers(parsed.headers));
        self.head.reader_mut().set_head_len(len);
        Ok(request)
    }

    /// Whether a complete request has been returned.
    pub fn is_complete(&self) -> bool {
        self.head.is_done()
    }

    /// The request head as received, up to and including its blank line (everything received
    /// so far while it is incomplete).
    pub fn request_head(&self) -> &[u8] {
        self.head.reader().head()
    }

    /// Bytes received after the end of the request head: the client's first frames, which
    /// must go to the connection before any later input. Empty until the head is complete.
    pub fn remainder(&self) -> &[u8] {
        self.head.reader().remainder()
    }

    /// Take the bytes after the request head (see [`remainder`](Self::remainder)).
    pub fn into_remainder(self) -> Vec<u8> {
        self.head.into_remainder()
    }
}

/// A parsed HTTP request head. Nothing WebSocket-specific has been checked yet: see
/// [`validate_websocket`](Self::validate_websocket).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method, e.g. `GET`.
    pub method: String,
    /// The request target as sent, e.g. `/chat?x=1` (the /resource name/ of §3), or an absolute
    /// `http://host/chat` URI (§4.1 step 3 allows both; see [`resource_name`](Self::resource_name)).
    pub path: String,
    /// The HTTP version: its minor number for HTTP/1.x (`1` for HTTP/1.1, `0` for HTTP/1.0),
    /// and `2` for a request that came over HTTP/2 ([`h2_server`](super::h2_server)).
    pub version: u8,
    /// The `Host` header (§4.2.1 item 2), if there is exactly one; over HTTP/2, the
    /// `:authority` pseudo-header (RFC 9113 §8.3.1).
    pub host: Option<String>,
    /// The `Origin` header (§4.2.1 item 7), sent by every browser.
    pub origin: Option<String>,
    /// The `Sec-WebSocket-Key` header, trimmed, if there is exactly one (§4.2.1 item 5).
    pub key: Option<String>,
    /// The subprotocols the client offers, in its order of preference: every
    /// `Sec-WebSocket-Protocol` header split at commas, trimmed, empty items dropped (§4.2.1
    /// item 8).
    pub subprotocols: Vec<String>,
    /// The raw values of the `Sec-WebSocket-Extensions` headers, one per header line
    /// (§4.2.1 item 9; the grammar is §9.1's).
    pub extensions: Vec<String>,
    /// Every header in order, names as sent.
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Request {
    /// A request from a head that another HTTP parser already read (hyper's, say): the method,
    /// the request target, the HTTP minor version (`1` for HTTP/1.1) and every header in order.
    /// The same fields are derived from them as when [`ServerHandshake`] parses the bytes, and
    /// nothing is checked yet: see [`validate_websocket`](Self::validate_websocket).
    pub fn from_parts(method: &str, path: &str, version: u8, headers: Vec<(String, Vec<u8>)>) -> Self {
        let single = |name: &str| {
            let mut values = header_values(&headers, name);
            match (values.next(), values.next()) {
                (Some(value), None) => Some(String::from_utf8_lossy(value.trim_ascii()).into_owned()),
                _ => None,
            }
        };
        let host = single("Host");
        let origin = single("Origin");
        let key = single("Sec-WebSocket-Key");
        let subprotocols = header_values(&headers, "Sec-WebSocket-Protocol")
            .flat_map(list_items)
            .map(|item| String::from_utf8_lossy(item).into_owned())
            .collect();
        let extensions = header_values(&headers, "Sec-WebSocket-Extensions")
            .map(|value| String::from_utf8_lossy(value.trim_ascii()).into_owned())
            .collect();
        Request {
            method: method.to_owned(),
            path: path.to_owned(),
            version,
            host,
            origin,
            key,
            subprotocols,
            extensions,
            headers,
        }
    }

    /// The first header called `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        header_values(&self.headers, name).next()
    }

    /// Every header called `name` (ASCII case-insensitive), in order.
    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        header_values(&self.headers, name)
    }

    /// The /resource name/ (§3): [`path`](Self::path), with the scheme and authority removed
    /// when the client sent an absolute `http://` or `https://` URI (§4.1 step 3).
    pub fn resource_name(&self) -> &str {
        let path = self.path.as_str();
        for scheme in ["http://", "https://"] {
            if path.len() >= scheme.len() && path.as_bytes()[..scheme.len()].eq_ignore_ascii_case(scheme.as_bytes()) {
                let rest = &path[scheme.len()..];
                return match rest.find(['/', '?']) {
                    Some(i) if rest.as_bytes()[i] == b'/' => &rest[i..],
                    // An empty path: the resource name is "/" (plus the query, which we drop
                    // rather than allocate; such requests do not occur in practice).
                    _ => "/",
                };
            }
        }
        path
    }

    /// Whether the client attempts a WebSocket upgrade: it sends `Upgrade: websocket`, or any
    /// `Sec-WebSocket-Key` or `Sec-WebSocket-Version` header. An attempt must be answered with
    /// [`accept_response`] or [`reject_response`]; anything else is a plain HTTP request
    /// (a browser fetching the page, a health check) that the server may answer with
    /// [`http_response`].
    pub fn is_websocket_upgrade(&self) -> bool {
        has_token(&self.headers, "Upgrade", "websocket")
            || self.header("Sec-WebSocket-Key").is_some()
            || self.header("Sec-WebSocket-Version").is_some()
    }

    /// Check the request against §4.2.1, in the order of its items.
    ///
    /// Errors and the status [`HandshakeError::http_status`] gives them:
    /// - [`MethodNotGet`](HandshakeError::MethodNotGet), 405: the method is known but this
    ///   resource only supports GET (RFC 7231 §6.5.5). 405 rather than 400 because the request
    ///   is well-formed; [`reject_response`] adds the `Allow: GET` header that 405 requires.
    /// - [`UnsupportedHttpVersion`](HandshakeError::UnsupportedHttpVersion), 400: HTTP/1.0.
    /// - [`MissingHost`](HandshakeError::MissingHost), 400: no or empty `Host`;
    ///   [`MalformedHttp`](HandshakeError::MalformedHttp), 400: more than one `Host`.
    /// - [`MissingUpgrade`](HandshakeError::MissingUpgrade), 400: no `websocket` in `Upgrade`.
    /// - [`MissingConnectionUpgrade`](HandshakeError::MissingConnectionUpgrade), 400: no
    ///   `upgrade` token in `Connection`.
    /// - [`InvalidKey`](HandshakeError::InvalidKey), 400: `Sec-WebSocket-Key` missing,
    ///   repeated, or not the base64 of exactly 16 bytes.
    /// - [`UnsupportedVersion`](HandshakeError::UnsupportedVersion), 426: `Sec-WebSocket-Version`
    ///   missing, repeated, or not `13`; [`reject_response`] adds `Sec-WebSocket-Version: 13`.
    /// - [`MalformedHttp`](HandshakeError::MalformedHttp), 400: `Sec-WebSocket-Protocol` lists
    ///   something other than unique tokens (§4.1 item 10).
    pub fn validate_websocket(&self) -> Result<(), HandshakeError> {
        // RFC 6455 §4.2.1 item 1: the handshake MUST be a GET ...
        if self.method != "GET" {
            return Err(HandshakeError::MethodNotGet);
        }
        // ... of HTTP/1.1 or higher.
        if self.version < 1 {
            return Err(HandshakeError::UnsupportedHttpVersion);
        }
        // RFC 6455 §4.2.1 item 2: a Host header with the server's authority. RFC 7230 §5.4: a
        // server MUST answer 400 to a request with more than one Host header.
        match header_values(&self.headers, "Host").count() {
            0 => return Err(HandshakeError::MissingHost),
            1 => {}
            _ => return Err(HandshakeError::MalformedHttp("more than one Host header")),
        }
        if self.host.as_deref().is_none_or(str::is_empty) {
            return Err(HandshakeError::MissingHost);
        }
        // RFC 6455 §4.2.1 item 3: Upgrade contains "websocket", ASCII case-insensitive.
        if !has_token(&self.headers, "Upgrade", "websocket") {
            return Err(HandshakeError::MissingUpgrade);
        }
        // RFC 6455 §4.2.1 item 4: Connection includes the token "Upgrade", case-insensitive.
        if !has_token(&self.headers, "Connection", "upgrade") {
            return Err(HandshakeError::MissingConnectionUpgrade);
        }
        // RFC 6455 §4.2.1 item 5: Sec-WebSocket-Key, base64 that decodes to 16 bytes.
        // (`key` is None when the header is missing or repeated.)
        let key = self.key.as_deref().ok_or(HandshakeError::InvalidKey)?;
        let mut decoded = [0u8; 18];
        match KEY_DECODER.decode_slice(key, &mut decoded) {
            Ok(16) => {}
            _ => return Err(HandshakeError::InvalidKey),
        }
        self.validate_websocket_fields()
    }

    /// The rules of §4.2.1 that do not depend on how the request travels, shared by HTTP/1.1's
    /// Upgrade and HTTP/2's extended CONNECT (RFC 8441 §5: `sec-websocket-version`,
    /// `sec-websocket-protocol` and `sec-websocket-extensions` keep their meaning): the
    /// version, the subprotocol list and the extension offers.
    pub(crate) fn validate_websocket_fields(&self) -> Result<(), HandshakeError> {
        // RFC 6455 §4.2.1 item 6: Sec-WebSocket-Version is 13; §4.2.2 /version/: otherwise the
        // server MUST abort and answer with an error (426) and the versions it speaks (§4.4).
        let mut versions = header_values(&self.headers, "Sec-WebSocket-Version");
        match (versions.next(), versions.next()) {
            (Some(version), None) if version.trim_ascii() == b"13" => {}
            _ => return Err(HandshakeError::UnsupportedVersion),
        }
        // RFC 6455 §4.1 item 10: offered subprotocols MUST be tokens and MUST be unique; §4.2.1
        // has the server refuse ABNF violations.
        for (i, protocol) in self.subprotocols.iter().enumerate() {
            if !is_token(protocol) || self.subprotocols[..i].contains(protocol) {
                return Err(HandshakeError::MalformedHttp("Sec-WebSocket-Protocol must list unique tokens"));
            }
        }
        // RFC 6455 §9.1: a Sec-WebSocket-Extensions value that does not conform to the ABNF
        // MUST fail the connection, whether or not the server uses any extension.
        for value in &self.extensions {
            crate::extensions::parse_extensions(value)?;
        }
        Ok(())
    }

    /// The extension names the client offers (§9.1), in order, e.g. `permessage-deflate`.
    pub fn extension_names(&self) -> impl Iterator<Item = &str> {
        self.extensions
            .iter()
            .flat_map(|value| extension_names(value.as_bytes()))
            .filter_map(|name| str::from_utf8(name).ok())
    }
}

/// Build the `101 Switching Protocols` answer that accepts `request` (§4.2.2 step 5).
///
/// `subprotocol` is the one the server picked from [`Request::subprotocols`], or `None`.
/// `extra_headers` are added as given: cookies, and `Sec-WebSocket-Extensions` if the server
/// accepts extensions. Do not repeat the headers this function writes.
///
/// Errors, all of them mistakes of the calling server rather than of the client (answer 500 if
/// you must answer at all):
/// - the errors of [`Request::validate_websocket`], which this function runs again so that an
///   invalid request can never be accepted;
/// - [`HandshakeError::UnofferedSubprotocol`] if `subprotocol` is not one the client offered
///   (§4.2.2 /subprotocol/ MUST be one of the client's values), and
///   [`HandshakeError::UnofferedExtension`] if a `Sec-WebSocket-Extensions` extra header names
///   an extension the client did not offer (§4.2.2 /extensions/);
/// - [`HandshakeError::MalformedHttp`] if an extra header name is not an HTTP token or a value
///   contains CR, LF or another control character: header values are never sanitized, because
///   a line break inside one would let it forge headers (response splitting).
pub fn accept_response(
    request: &Request,
    subprotocol: Option<&str>,
    extra_headers: &[(&str, &str)],
) -> Result<Vec<u8>, HandshakeError> {
    request.validate_websocket()?;
    let key = request.key.as_deref().ok_or(HandshakeError::InvalidKey)?;
    check_answer(request, subprotocol, extra_headers)?;
    // RFC 6455 §4.2.2 step 5: status 101, Upgrade: websocket, Connection: Upgrade,
    // Sec-WebSocket-Accept, then the optional Sec-WebSocket-Protocol and extensions.
    let mut out = Vec::with_capacity(160);
    out.extend_from_slice(b"HTTP/1.1 101 Switching Protocols\r\n");
    push_header(&mut out, "Upgrade", "websocket");
    push_header(&mut out, "Connection", "Upgrade");
    push_header(&mut out, "Sec-WebSocket-Accept", accept_key(key.as_bytes()));
    if let Some(protocol) = subprotocol {
        push_header(&mut out, "Sec-WebSocket-Protocol", protocol);
    }
    for (name, value) in extra_headers {
        push_header(&mut out, name, value);
    }
    out.extend_from_slice(b"\r\n");
    Ok(out)
}

/// The server's choices against the client's offers, for either transport (§4.2.2 step 4):
/// the subprotocol one the client offered, every extension one it offered, every extra header
/// one that can be sent as is.
pub(crate) fn check_answer(
    request: &Request,
    subprotocol: Option<&str>,
    extra_headers: &[(&str, &str)],
) -> Result<(), HandshakeError> {
    // RFC 6455 §4.2.2 step 4 /subprotocol/: MUST be one of the values the client sent.
    if let Some(protocol) = subprotocol
        && !request.subprotocols.iter().any(|offered| offered == protocol)
    {
        return Err(HandshakeError::UnofferedSubprotocol);
    }
    for (name, value) in extra_headers {
        check_extra_header(name, value)?;
        // RFC 6455 §4.2.2 step 4 /extensions/: extensions not listed by the client MUST NOT be
        // listed.
        if name.eq_ignore_ascii_case("Sec-WebSocket-Extensions") {
            let offered: Vec<&str> = request.extension_names().collect();
            for chosen in extension_names(value.as_bytes()) {
                if !offered.iter().any(|o| o.as_bytes().eq_ignore_ascii_case(chosen)) {
                    return Err(HandshakeError::UnofferedExtension);
                }
            }
        }
    }
    Ok(())
}

/// Build the answer that refuses a handshake: status [`HandshakeError::http_status`], a
/// `text/plain` body with the error's message, and `Connection: close`.
///
/// A 426 also carries `Sec-WebSocket-Version: 13` (RFC 6455 §4.4 and §4.2.2 /version/) and
/// `Upgrade: websocket` (RFC 7231 §6.5.15 requires an Upgrade header in a 426); a 405 carries
/// `Allow: GET` (RFC 7231 §6.5.5). A status outside 100..=599 is sent as 500.
pub fn reject_response(error: &HandshakeError) -> Vec<u8> {
    let status = error.http_status();
    let body = error.to_string();
    let mut out = status_line_and_body_headers(status, "text/plain; charset=utf-8", body.len());
    match status {
        // RFC 6455 §4.4: a server that does not speak the requested version MUST answer with
        // the versions it does speak.
        426 => {
            push_header(&mut out, "Sec-WebSocket-Version", "13");
            push_header(&mut out, "Upgrade", "websocket");
            // RFC 7230 §6.7: a sender of Upgrade MUST also send the "upgrade" connection option.
            push_header(&mut out, "Connection", "Upgrade, close");
        }
        405 => {
            push_header(&mut out, "Allow", "GET");
            push_header(&mut out, "Connection", "close");
        }
        _ => push_header(&mut out, "Connection", "close"),
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body.as_bytes());
    out
}

/// Build a complete plain HTTP/1.1 response, for requests that are not WebSocket upgrades
/// (serving a page on the same port, a health check, a 404).
///
/// It carries `Content-Type`, `Content-Length` and `Connection: close` (this crate does not
/// keep HTTP connections alive). Control characters in `content_type` (CR, LF, ...) are
/// replaced by spaces, so it can never split the header block. A status outside 100..=599 is
/// sent as 500.
pub fn http_response(status: u16, content_type: &str, body: &[u8]) -> Vec<u8> {
    let content_type: String =
        content_type.chars().map(|c| if c == '\t' || !c.is_control() { c } else { ' ' }).collect();
    let mut out = status_line_and_body_headers(status, &content_type, body.len());
    push_header(&mut out, "Connection", "close");
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// Status line, Content-Type and Content-Length.
fn status_line_and_body_headers(status: u16, content_type: &str, body_len: usize) -> Vec<u8> {
    let status = if (100..=599).contains(&status) { status } else { 500 };
    let mut out = Vec::with_capacity(128 + content_type.len());
    out.extend_from_slice(format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status)).as_bytes());
    push_header(&mut out, "Content-Type", content_type);
    push_header(&mut out, "Content-Length", body_len.to_string());
    out
}

/// The reason phrase for an HTTP status (RFC 7231 §6.1), or a generic one for its class.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        413 => "Content Too Large",
        414 => "URI Too Long",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => match status / 100 {
            1 => "Informational",
            2 => "Success",
            3 => "Redirection",
            4 => "Client Error",
            _ => "Server Error",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 16 * 1024;

    /// RFC 6455 §1.2's sample request.
    const RFC_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
        Host: server.example.com\r\n\
        Upgrade: websocket\r\n\
        Connection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Origin: http://example.com\r\n\
        Sec-WebSocket-Protocol: chat, superchat\r\n\
        Sec-WebSocket-Version: 13\r\n\r\n";

    /// What Chromium sends (header order and values as in Chrome 120).
    const CHROMIUM_REQUEST: &[u8] = b"GET /chat?room=1 HTTP/1.1\r\n\
        Host: localhost:9001\r\n\
        Connection: Upgrade\r\n\
        Pragma: no-cache\r\n\
        Cache-Control: no-cache\r\n\
        User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\n\
        Upgrade: websocket\r\n\
        Origin: http://localhost:9001\r\n\
        Sec-WebSocket-Version: 13\r\n\
        Accept-Encoding: gzip, deflate, br\r\n\
        Accept-Language: en-US,en;q=0.9\r\n\
        Cookie: session=abc123\r\n\
        Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n\
        Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";

    /// What Firefox sends (as in Firefox 121): note `Connection: keep-alive, Upgrade`.
    const FIREFOX_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
        Host: localhost:9001\r\n\
        User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0\r\n\
        Accept: */*\r\n\
        Accept-Language: en-US,en;q=0.5\r\n\
        Accept-Encoding: gzip, deflate, br\r\n\
        Sec-WebSocket-Version: 13\r\n\
        Origin: http://localhost:9001\r\n\
        Sec-WebSocket-Protocol: chat, superchat\r\n\
        Sec-WebSocket-Extensions: permessage-deflate\r\n\
        Sec-WebSocket-Key: E4WSEcseoWr4csPLS2QJHA==\r\n\
        Connection: keep-alive, Upgrade\r\n\
        Sec-Fetch-Dest: empty\r\n\
        Sec-Fetch-Mode: websocket\r\n\
        Sec-Fetch-Site: same-origin\r\n\
        Pragma: no-cache\r\n\
        Cache-Control: no-cache\r\n\
        Upgrade: websocket\r\n\r\n";

    /// Feed `bytes` in one piece, one byte at a time, and split in two at every index; all
    /// must give the same result. Returns the request (or error) and the remainder.
    fn feed_all_ways(bytes: &[u8]) -> (Result<Request, HandshakeError>, Vec<u8>) {
        let feed = |chunks: &mut dyn Iterator<Item = &[u8]>| {
            let mut handshake = ServerHandshake::new(MAX);
            let mut found = None;
            for chunk in chunks {
                match handshake.receive(chunk) {
                    Ok(Some(request)) => {
                        assert!(found.is_none(), "a request is returned only once");
                        found = Some(Ok(request));
                    }
                    Ok(None) => {}
                    Err(e) => {
                        // Keep feeding: the error must stick and the remainder keep growing.
                        let first = found.get_or_insert(Err(e.clone()));
                        assert_eq!(first.as_ref().err(), Some(&e), "errors are sticky");
                    }
                }
            }
            let result = found.unwrap_or(Err(HandshakeError::MalformedHttp("incomplete (test)")));
            (result, handshake.remainder().to_vec())
        };
        let whole = feed(&mut std::iter::once(bytes));
        assert_eq!(feed(&mut bytes.chunks(1)), whole, "one byte at a time");
        for i in 0..=bytes.len() {
            let (a, b) = bytes.split_at(i);
            assert_eq!(feed(&mut [a, b].into_iter()), whole, "split at {i}");
        }
        whole
    }

    fn parse(bytes: &[u8]) -> Request {
        let (result, _) = feed_all_ways(bytes);
        result.expect("a request")
    }

    fn validate(bytes: &[u8]) -> Result<(), HandshakeError> {
        parse(bytes).validate_websocket()
    }

    /// The RFC sample with `header` replaced by `line` (or removed if `line` is empty).
    fn rfc_with(header: &str, line: &str) -> Vec<u8> {
        let text = std::str::from_utf8(RFC_REQUEST).unwrap();
        let mut out = String::new();
        for l in text.split_inclusive("\r\n") {
            if l.to_ascii_lowercase().starts_with(&format!("{}:", header.to_ascii_lowercase())) {
                if !line.is_empty() {
                    out.push_str(line);
                    out.push_str("\r\n");
                }
            } else {
                out.push_str(l);
            }
        }
        out.into_bytes()
    }

    fn status_of(result: Result<(), HandshakeError>) -> u16 {
        result.expect_err("should fail").http_status()
    }

    /// The RFC sample request with one more header line.
    fn rfc_plus(line: &str) -> Vec<u8> {
        let mut request = RFC_REQUEST[..RFC_REQUEST.len() - 2].to_vec();
        request.extend_from_slice(format!("{line}\r\n\r\n").as_bytes());
        request
    }

    #[test]
    fn s9_1_malformed_extension_offer_is_400_even_without_extensions_configured() {
        for bad in ["permessage-deflate;", "a, ;", "x; y=\"two words\""] {
            let request = rfc_plus(&format!("Sec-WebSocket-Extensions: {bad}"));
            assert_eq!(status_of(validate(&request)), 400, "{bad}");
        }
        let fine = rfc_plus("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits");
        assert_eq!(validate(&fine), Ok(()));
    }

    #[test]
    fn s1_2_rfc_sample_request_parses_and_validates() {
        let request = parse(RFC_REQUEST);
        assert_eq!(request.method, "GET");
        assert_eq!(request.path, "/chat");
        assert_eq!(request.version, 1);
        assert_eq!(request.host.as_deref(), Some("server.example.com"));
        assert_eq!(request.origin.as_deref(), Some("http://example.com"));
        assert_eq!(request.key.as_deref(), Some("dGhlIHNhbXBsZSBub25jZQ=="));
        assert_eq!(request.subprotocols, ["chat", "superchat"]);
        assert!(request.extensions.is_empty());
        assert_eq!(request.headers.len(), 7);
        assert_eq!(request.header("sec-websocket-version"), Some(&b"13"[..]));
        assert_eq!(request.header("ORIGIN"), Some(&b"http://example.com"[..]));
        assert_eq!(request.header("X-Missing"), None);
        assert!(request.is_websocket_upgrade());
        assert_eq!(request.validate_websocket(), Ok(()));
    }

    #[test]
    fn s1_3_rfc_sample_response_is_built_exactly() {
        let request = parse(RFC_REQUEST);
        let response = accept_response(&request, Some("chat"), &[]).unwrap();
        assert_eq!(
            response,
            b"HTTP/1.1 101 Switching Protocols\r\n\
              Upgrade: websocket\r\n\
              Connection: Upgrade\r\n\
              Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
              Sec-WebSocket-Protocol: chat\r\n\r\n"
        );
    }

    #[test]
    fn s4_2_1_chromium_request_validates() {
        let request = parse(CHROMIUM_REQUEST);
        assert_eq!(request.path, "/chat?room=1");
        assert_eq!(request.host.as_deref(), Some("localhost:9001"));
        assert_eq!(request.extensions, ["permessage-deflate; client_max_window_bits"]);
        assert_eq!(request.extension_names().collect::<Vec<_>>(), ["permessage-deflate"]);
        assert!(request.subprotocols.is_empty());
        assert_eq!(request.header("cookie"), Some(&b"session=abc123"[..]));
        assert!(request.is_websocket_upgrade());
        assert_eq!(request.validate_websocket(), Ok(()));
        let response = accept_response(&request, None, &[("Sec-WebSocket-Extensions", "permessage-deflate")]).unwrap();
        let text = String::from_utf8(response).unwrap();
        assert!(text.contains("Sec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=\r\n"));
        assert!(text.ends_with("Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"));
    }

    #[test]
    fn s4_2_1_firefox_request_with_keep_alive_upgrade_validates() {
        let request = parse(FIREFOX_REQUEST);
        assert_eq!(request.header("Connection"), Some(&b"keep-alive, Upgrade"[..]));
        assert_eq!(request.subprotocols, ["chat", "superchat"]);
        assert_eq!(request.extensions, ["permessage-deflate"]);
        assert!(request.is_websocket_upgrade());
        assert_eq!(request.validate_websocket(), Ok(()));
        assert!(accept_response(&request, Some("superchat"), &[]).is_ok());
    }

    #[test]
    fn s4_2_1_plain_get_is_not_a_websocket_attempt() {
        let request = parse(b"GET / HTTP/1.1\r\nHost: localhost\r\nAccept: text/html\r\n\r\n");
        assert_eq!(request.path, "/");
        assert!(!request.is_websocket_upgrade());
        assert_eq!(request.validate_websocket(), Err(HandshakeError::MissingUpgrade));
        // HTTP/1.0 without a Host is still a parseable plain request.
        let request = parse(b"GET /index.html HTTP/1.0\r\n\r\n");
        assert_eq!(request.version, 0);
        assert_eq!(request.host, None);
        assert!(!request.is_websocket_upgrade());
    }

    #[test]
    fn s4_2_1_key_or_version_without_upgrade_still_counts_as_attempt() {
        let request = parse(&rfc_with("Upgrade", ""));
        assert!(request.is_websocket_upgrade());
        assert_eq!(request.validate_websocket(), Err(HandshakeError::MissingUpgrade));
    }

    #[test]
    fn s4_2_1_post_is_405() {
        let bytes = [b"POST".as_slice(), &RFC_REQUEST[3..]].concat();
        let result = validate(&bytes);
        assert_eq!(result, Err(HandshakeError::MethodNotGet));
        assert_eq!(status_of(result), 405);
    }

    #[test]
    fn s4_2_1_lowercase_get_is_405() {
        // Methods are case-sensitive (RFC 7230 §3.1.1).
        let bytes = [b"get".as_slice(), &RFC_REQUEST[3..]].concat();
        assert_eq!(status_of(validate(&bytes)), 405);
    }

    #[test]
    fn s4_2_1_http_1_0_is_400() {
        let text = std::str::from_utf8(RFC_REQUEST).unwrap().replacen("HTTP/1.1", "HTTP/1.0", 1);
        let result = validate(text.as_bytes());
        assert_eq!(result, Err(HandshakeError::UnsupportedHttpVersion));
        assert_eq!(status_of(result), 400);
    }

    #[test]
    fn s4_2_1_missing_host_is_400() {
        let result = validate(&rfc_with("Host", ""));
        assert_eq!(result, Err(HandshakeError::MissingHost));
        assert_eq!(status_of(result), 400);
        assert_eq!(validate(&rfc_with("Host", "Host:")), Err(HandshakeError::MissingHost));
    }

    #[test]
    fn s4_2_1_two_host_headers_is_400() {
        let result = validate(&rfc_with("Host", "Host: a.example\r\nHost: b.example"));
        assert!(matches!(result, Err(HandshakeError::MalformedHttp(_))));
        assert_eq!(status_of(result), 400);
    }

    #[test]
    fn s4_2_1_missing_upgrade_is_400() {
        assert_eq!(status_of(validate(&rfc_with("Upgrade", ""))), 400);
        assert_eq!(validate(&rfc_with("Upgrade", "Upgrade: h2c")), Err(HandshakeError::MissingUpgrade));
        assert_eq!(validate(&rfc_with("Upgrade", "Upgrade: websocketx")), Err(HandshakeError::MissingUpgrade));
    }

    #[test]
    fn s4_2_1_upgrade_token_is_case_insensitive_in_a_list() {
        assert_eq!(validate(&rfc_with("Upgrade", "Upgrade: WebSocket")), Ok(()));
        assert_eq!(validate(&rfc_with("Upgrade", "Upgrade: h2c, WEBSOCKET")), Ok(()));
        assert_eq!(validate(&rfc_with("Upgrade", "Upgrade: h2c\r\nUpgrade:websocket ")), Ok(()));
    }

    #[test]
    fn s4_2_1_missing_connection_upgrade_is_400() {
        let result = validate(&rfc_with("Connection", ""));
        assert_eq!(result, Err(HandshakeError::MissingConnectionUpgrade));
        assert_eq!(status_of(result), 400);
        assert_eq!(
            validate(&rfc_with("Connection", "Connection: keep-alive")),
            Err(HandshakeError::MissingConnectionUpgrade)
        );
        assert_eq!(
            validate(&rfc_with("Connection", "Connection: upgraded")),
            Err(HandshakeError::MissingConnectionUpgrade)
        );
    }

    #[test]
    fn s4_2_1_connection_token_is_case_insensitive_in_a_list() {
        assert_eq!(validate(&rfc_with("Connection", "Connection: upgrade")), Ok(()));
        assert_eq!(validate(&rfc_with("Connection", "Connection: keep-alive, Upgrade")), Ok(()));
        assert_eq!(validate(&rfc_with("Connection", "Connection: keep-alive,,UPGRADE ,")), Ok(()));
        assert_eq!(validate(&rfc_with("Connection", "Connection: keep-alive\r\nConnection: Upgrade")), Ok(()));
    }

    #[test]
    fn s4_2_1_missing_key_is_400() {
        let result = validate(&rfc_with("Sec-WebSocket-Key", ""));
        assert_eq!(result, Err(HandshakeError::InvalidKey));
        assert_eq!(status_of(result), 400);
    }

    #[test]
    fn s4_2_1_repeated_key_is_400() {
        let line = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==";
        assert_eq!(validate(&rfc_with("Sec-WebSocket-Key", line)), Err(HandshakeError::InvalidKey));
    }

    #[test]
    fn s4_2_1_key_not_16_bytes_is_400() {
        for key in [
            "",
            "dGhlIHNhbXBsZSBub25jZQ",     // no padding
            "dGhlIHNhbXBsZSBub25j",       // 15 bytes
            "dGhlIHNhbXBsZSBub25jZTE=",   // 17 bytes
            "dGhlIHNhbXBsZSBub25jZQ==AA", // junk after padding
            "dGhlIHNhbXBsZSBub25jZQ!=",   // not base64
            "dGhl-HNhbXBsZSBub25jZQ==",   // URL-safe alphabet
            "not a key at all",
        ] {
            let result = validate(&rfc_with("Sec-WebSocket-Key", &format!("Sec-WebSocket-Key: {key}")));
            assert_eq!(result, Err(HandshakeError::InvalidKey), "{key:?}");
            assert_eq!(status_of(result), 400);
        }
    }

    #[test]
    fn s4_1_rfc_example_key_with_trailing_bits_is_accepted() {
        // §4.1 item 7's example nonce 01..10 is written "AQIDBAUGBwgJCgsMDQ4PEC==" (non-zero
        // trailing bits); it decodes to 16 bytes, so it is accepted, and hashed as sent.
        let request = parse(&rfc_with("Sec-WebSocket-Key", "Sec-WebSocket-Key:  AQIDBAUGBwgJCgsMDQ4PEC== "));
        assert_eq!(request.key.as_deref(), Some("AQIDBAUGBwgJCgsMDQ4PEC=="));
        assert_eq!(request.validate_websocket(), Ok(()));
    }

    #[test]
    fn s4_2_1_missing_version_is_426() {
        let result = validate(&rfc_with("Sec-WebSocket-Version", ""));
        assert_eq!(result, Err(HandshakeError::UnsupportedVersion));
        assert_eq!(status_of(result), 426);
    }

    #[test]
    fn s4_4_other_version_is_426() {
        for line in [
            "Sec-WebSocket-Version: 8",
            "Sec-WebSocket-Version: 25",
            "Sec-WebSocket-Version: 013",
            "Sec-WebSocket-Version: 13, 8",
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 13",
            "Sec-WebSocket-Version:",
        ] {
            let result = validate(&rfc_with("Sec-WebSocket-Version", line));
            assert_eq!(result, Err(HandshakeError::UnsupportedVersion), "{line:?}");
            assert_eq!(status_of(result), 426);
        }
        assert_eq!(validate(&rfc_with("Sec-WebSocket-Version", "Sec-WebSocket-Version:  13 ")), Ok(()));
    }

    #[test]
    fn s4_2_1_subprotocols_come_from_every_header_split_and_trimmed() {
        let line = "Sec-WebSocket-Protocol: chat ,, superchat\r\nSec-WebSocket-Protocol:v2.json";
        let request = parse(&rfc_with("Sec-WebSocket-Protocol", line));
        assert_eq!(request.subprotocols, ["chat", "superchat", "v2.json"]);
        assert_eq!(request.validate_websocket(), Ok(()));
    }

    #[test]
    fn s4_1_subprotocols_must_be_unique_tokens_else_400() {
        for line in
            ["Sec-WebSocket-Protocol: chat, chat", "Sec-WebSocket-Protocol: a/b", "Sec-WebSocket-Protocol: \"q\""]
        {
            let result = validate(&rfc_with("Sec-WebSocket-Protocol", line));
            assert!(matches!(result, Err(HandshakeError::MalformedHttp(_))), "{line:?}");
            assert_eq!(status_of(result), 400);
        }
    }

    #[test]
    fn s4_2_1_absolute_uri_request_target_gives_resource_name() {
        let text = std::str::from_utf8(RFC_REQUEST).unwrap().replacen("/chat", "http://server.example.com/chat?x=1", 1);
        let request = parse(text.as_bytes());
        assert_eq!(request.path, "http://server.example.com/chat?x=1");
        assert_eq!(request.resource_name(), "/chat?x=1");
        assert_eq!(request.validate_websocket(), Ok(()));
        assert_eq!(parse(RFC_REQUEST).resource_name(), "/chat");
    }

    #[test]
    fn s4_2_1_bytes_after_request_are_kept_in_remainder() {
        // A masked text frame "Hi" sent right behind the handshake.
        let frame = [0x81, 0x82, 1, 2, 3, 4, b'H' ^ 1, b'i' ^ 2];
        let bytes = [RFC_REQUEST, &frame].concat();
        let (result, remainder) = feed_all_ways(&bytes);
        assert_eq!(result.unwrap(), parse(RFC_REQUEST));
        assert_eq!(remainder, frame);
        // Even a second request-like head is remainder, not parsed.
        let bytes = [RFC_REQUEST, RFC_REQUEST].concat();
        assert_eq!(feed_all_ways(&bytes).1, RFC_REQUEST);
    }

    #[test]
    fn s4_2_1_bytes_fed_after_completion_join_the_remainder() {
        let mut handshake = ServerHandshake::new(MAX);
        assert!(!handshake.is_complete());
        assert!(handshake.receive(&RFC_REQUEST[..10]).unwrap().is_none());
        assert!(handshake.remainder().is_empty());
        assert!(handshake.receive(&[&RFC_REQUEST[10..], b"ab"].concat()).unwrap().is_some());
        assert!(handshake.is_complete());
        assert_eq!(handshake.receive(b"cd").unwrap(), None);
        assert_eq!(handshake.remainder(), b"abcd");
        assert_eq!(handshake.into_remainder(), b"abcd");
    }

    #[test]
    fn s4_2_1_head_over_the_limit_is_431() {
        let mut handshake = ServerHandshake::new(64);
        let result = handshake.receive(RFC_REQUEST);
        assert_eq!(result, Err(HandshakeError::HeadersTooLarge));
        assert_eq!(result.unwrap_err().http_status(), 431);
        // Dribbled in, it fails as soon as the limit is passed.
        let mut handshake = ServerHandshake::new(64);
        for (i, b) in RFC_REQUEST.iter().enumerate() {
            let result = handshake.receive(&[*b]);
            if i < 64 {
                assert_eq!(result, Ok(None), "byte {i}");
            } else {
                assert_eq!(result, Err(HandshakeError::HeadersTooLarge), "byte {i}");
                break;
            }
        }
    }

    #[test]
    fn s4_2_1_head_of_exactly_the_limit_fits_and_remainder_is_not_counted() {
        let mut handshake = ServerHandshake::new(RFC_REQUEST.len());
        let big_frame = vec![0u8; 100_000];
        assert!(handshake.receive(&[RFC_REQUEST, &big_frame].concat()).unwrap().is_some());
        assert_eq!(handshake.remainder().len(), 100_000);
        let mut handshake = ServerHandshake::new(RFC_REQUEST.len() - 1);
        assert_eq!(handshake.receive(RFC_REQUEST), Err(HandshakeError::HeadersTooLarge));
    }

    #[test]
    fn s4_2_1_too_many_headers_is_431() {
        let mut bytes = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
        for i in 0..MAX_HEADERS {
            bytes.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
        }
        bytes.extend_from_slice(b"\r\n");
        let (result, _) = feed_all_ways(&bytes);
        assert_eq!(result, Err(HandshakeError::HeadersTooLarge));
        assert_eq!(HandshakeError::HeadersTooLarge.http_status(), 431);
        // MAX_HEADERS exactly is fine.
        let mut bytes = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..MAX_HEADERS {
            bytes.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
        }
        bytes.extend_from_slice(b"\r\n");
        assert_eq!(parse(&bytes).headers.len(), MAX_HEADERS);
    }

    #[test]
    fn s4_2_1_leading_empty_lines_and_bare_lf_are_tolerated() {
        // RFC 7230 §3.5: a server SHOULD ignore empty lines before the request line, and MAY
        // accept a bare LF as a line terminator.
        let bytes = [b"\r\n\r\n".as_slice(), RFC_REQUEST].concat();
        assert_eq!(parse(&bytes), parse(RFC_REQUEST));
        let lf_only = std::str::from_utf8(RFC_REQUEST).unwrap().replace("\r\n", "\n");
        let (result, remainder) = feed_all_ways(&[lf_only.as_bytes(), b"xyz"].concat());
        assert_eq!(result.unwrap().validate_websocket(), Ok(()));
        assert_eq!(remainder, b"xyz");
    }

    #[test]
    fn s4_2_1_garbage_start_line_fails_early_and_sticks() {
        let mut handshake = ServerHandshake::new(MAX);
        assert_eq!(handshake.receive(b"\x16\x03\x01\x02\x00\x01"), Ok(None));
        let result = handshake.receive(b"\x00\x01\xfc\x03\x03\n");
        assert!(matches!(result, Err(HandshakeError::MalformedHttp(_))));
        assert_eq!(handshake.receive(RFC_REQUEST), result, "errors are sticky");
        let mut handshake = ServerHandshake::new(MAX);
        assert!(matches!(handshake.receive(b"HELLO WORLD\r\n"), Err(HandshakeError::MalformedHttp(_))));
        let mut handshake = ServerHandshake::new(MAX);
        assert!(matches!(handshake.receive(b"GET / HTTP/2.0\r\n"), Err(HandshakeError::MalformedHttp(_))));
    }

    #[test]
    fn s4_2_1_invalid_header_line_is_400() {
        let (result, _) = feed_all_ways(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n");
        assert!(matches!(result, Err(HandshakeError::MalformedHttp(_))));
        let (result, _) = feed_all_ways(b"GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n");
        assert_eq!(result.unwrap_err().http_status(), 400);
    }

    /// A small xorshift generator: repeatable junk without a dependency.
    fn junk(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn garbage_never_panics() {
        for b in 0..=255u8 {
            let mut handshake = ServerHandshake::new(MAX);
            let _ = handshake.receive(&[b]);
            let _ = handshake.receive(&[b; 300]);
            let _ = handshake.receive(b"\r\n\r\n");
            let mut handshake = ServerHandshake::new(MAX);
            let _ = handshake.receive(&[b"GET / HTTP/1.1\r\nX: ".as_slice(), &[b], b"\r\n\r\n"].concat());
        }
        for seed in 0..300 {
            let bytes = junk(seed, 1 + (seed as usize * 37) % 600);
            let mut handshake = ServerHandshake::new(512);
            for chunk in bytes.chunks(1 + seed as usize % 7) {
                if handshake.receive(chunk).is_err() {
                    break;
                }
            }
            // Junk behind a valid request line and inside header values.
            let bytes = [b"GET / HTTP/1.1\r\nHost: ".as_slice(), &junk(seed, 50), b"\r\n\r\n"].concat();
            let mut handshake = ServerHandshake::new(MAX);
            if let Ok(Some(request)) = handshake.receive(&bytes) {
                let _ = request.validate_websocket();
                let _ = request.is_websocket_upgrade();
                let _ = request.resource_name();
            }
        }
    }

    #[test]
    fn s4_2_2_accept_response_refuses_unoffered_subprotocol() {
        let request = parse(RFC_REQUEST);
        assert_eq!(accept_response(&request, Some("mqtt"), &[]), Err(HandshakeError::UnofferedSubprotocol));
        assert_eq!(accept_response(&request, Some("Chat"), &[]), Err(HandshakeError::UnofferedSubprotocol));
        assert_eq!(accept_response(&request, Some(""), &[]), Err(HandshakeError::UnofferedSubprotocol));
        let no_protocols = parse(&rfc_with("Sec-WebSocket-Protocol", ""));
        assert_eq!(accept_response(&no_protocols, Some("chat"), &[]), Err(HandshakeError::UnofferedSubprotocol));
        let response = String::from_utf8(accept_response(&no_protocols, None, &[]).unwrap()).unwrap();
        assert!(!response.contains("Sec-WebSocket-Protocol"));
    }

    #[test]
    fn s4_2_2_accept_response_refuses_unoffered_extension() {
        let request = parse(RFC_REQUEST);
        assert_eq!(
            accept_response(&request, None, &[("Sec-WebSocket-Extensions", "permessage-deflate")]),
            Err(HandshakeError::UnofferedExtension)
        );
        let request = parse(CHROMIUM_REQUEST);
        let chosen = [("sec-websocket-extensions", "permessage-deflate; server_no_context_takeover")];
        assert!(accept_response(&request, None, &chosen).is_ok());
        let chosen = [("Sec-WebSocket-Extensions", "x-webkit-deflate-frame")];
        assert_eq!(accept_response(&request, None, &chosen), Err(HandshakeError::UnofferedExtension));
    }

    #[test]
    fn s4_2_2_accept_response_never_accepts_an_invalid_request() {
        let request = parse(&rfc_with("Sec-WebSocket-Version", "Sec-WebSocket-Version: 8"));
        assert_eq!(accept_response(&request, None, &[]), Err(HandshakeError::UnsupportedVersion));
        let request = parse(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(accept_response(&request, None, &[]), Err(HandshakeError::MissingUpgrade));
    }

    #[test]
    fn s4_2_2_extra_headers_with_line_breaks_are_refused() {
        let request = parse(RFC_REQUEST);
        for extra in [
            ("Set-Cookie", "a=b\r\nX-Evil: 1"),
            ("Set-Cookie", "a=b\nc"),
            ("Set-Cookie", "a\0b"),
            ("Bad Name", "v"),
            ("Bad:Name", "v"),
            ("", "v"),
        ] {
            let result = accept_response(&request, None, &[extra]);
            assert!(matches!(result, Err(HandshakeError::MalformedHttp(_))), "{extra:?}");
        }
        let response = accept_response(&request, None, &[("Set-Cookie", "id=1; Path=/")]).unwrap();
        assert!(response.ends_with(b"Set-Cookie: id=1; Path=/\r\n\r\n"));
    }

    fn split_response(bytes: &[u8]) -> (String, String) {
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        (head.to_owned(), body.to_owned())
    }

    #[test]
    fn s4_2_1_reject_response_carries_status_reason_and_body() {
        let error = HandshakeError::InvalidKey;
        let (head, body) = split_response(&reject_response(&error));
        let lines: Vec<&str> = head.split("\r\n").collect();
        assert_eq!(lines[0], "HTTP/1.1 400 Bad Request");
        assert!(lines.contains(&"Content-Type: text/plain; charset=utf-8"));
        assert!(lines.contains(&format!("Content-Length: {}", body.len()).as_str()));
        assert!(lines.contains(&"Connection: close"));
        assert_eq!(body, error.to_string());
    }

    #[test]
    fn s4_4_reject_426_names_version_13() {
        let (head, _) = split_response(&reject_response(&HandshakeError::UnsupportedVersion));
        let lines: Vec<&str> = head.split("\r\n").collect();
        assert_eq!(lines[0], "HTTP/1.1 426 Upgrade Required");
        assert!(lines.contains(&"Sec-WebSocket-Version: 13"));
        assert!(lines.contains(&"Upgrade: websocket"));
        assert!(lines.contains(&"Connection: Upgrade, close"));
        // Whatever error carries 426 gets the header.
        let rejected = HandshakeError::Rejected { status: 426, reason: "old".into() };
        assert!(String::from_utf8(reject_response(&rejected)).unwrap().contains("Sec-WebSocket-Version: 13\r\n"));
    }

    #[test]
    fn s4_2_1_reject_405_allows_get_and_431_is_named() {
        let (head, _) = split_response(&reject_response(&HandshakeError::MethodNotGet));
        assert!(head.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
        assert!(head.contains("\r\nAllow: GET"));
        let (head, _) = split_response(&reject_response(&HandshakeError::HeadersTooLarge));
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
    }

    #[test]
    fn s4_2_2_rejected_by_application_uses_its_status() {
        let error = HandshakeError::Rejected { status: 403, reason: "origin not allowed\r\nX: y".into() };
        let bytes = reject_response(&error);
        let (head, body) = split_response(&bytes);
        assert!(head.starts_with("HTTP/1.1 403 Forbidden\r\n"));
        assert!(!head.contains("X: y"), "the reason stays in the body");
        assert_eq!(body, error.to_string());
        let odd = HandshakeError::Rejected { status: 7, reason: String::new() };
        assert!(reject_response(&odd).starts_with(b"HTTP/1.1 500 Internal Server Error\r\n"));
        let custom = HandshakeError::Rejected { status: 499, reason: String::new() };
        assert!(reject_response(&custom).starts_with(b"HTTP/1.1 499 Client Error\r\n"));
    }

    #[test]
    fn http_response_serves_a_page() {
        let bytes = http_response(200, "text/html; charset=utf-8", b"<h1>hi</h1>");
        assert_eq!(
            bytes,
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 11\r\n\
              Connection: close\r\n\r\n<h1>hi</h1>"
        );
        let bytes = http_response(404, "text/plain\r\nX-Evil: 1", b"");
        let (head, _) = split_response(&bytes);
        assert!(head.starts_with("HTTP/1.1 404 Not Found\r\n"));
        assert_eq!(head.split("\r\n").count(), 4, "no forged header line: {head:?}");
    }
}
