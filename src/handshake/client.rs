//! The client's side of the opening handshake (RFC 6455 §4.1): build the request, then read
//! and check the server's answer.
//!
//! ```
//! use rfc6455::MaskKeySource;
//! use rfc6455::handshake::{ClientHandshake, ClientOptions};
//!
//! let mut keys = MaskKeySource::Entropy.generator();
//! let mut handshake =
//!     ClientHandshake::new("example.com", "/chat", &ClientOptions::default(), &mut keys, 16 * 1024)
//!         .unwrap();
//! let _to_send: &[u8] = handshake.request();
//! // ... write it, then feed what the server sends to `handshake.receive(..)` until it returns
//! // `Ok(Some(response))`; `handshake.remainder()` then holds the server's first frames.
//! # let answer = format!(
//! #     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
//! #      Sec-WebSocket-Accept: {}\r\n\r\n",
//! #     rfc6455::handshake::accept_key(handshake.key().as_bytes()));
//! # assert!(handshake.receive(answer.as_bytes()).unwrap().is_some());
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::offer::Offer;
use super::{
    MAX_HEADERS, Step, StickyHead, accept_key, has_token, header_values, list_items, owned_headers, parse_error,
    push_header,
};
use crate::config::MaskKeyGen;
use crate::error::HandshakeError;
use crate::uri::WsUri;

/// What a client asks for besides the URI (§4.1 items 8, 10, 11, 12).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientOptions {
    /// Subprotocols to offer, most preferred first (`Sec-WebSocket-Protocol`). Each must be an
    /// HTTP token, and no two the same (§4.1 item 10).
    pub subprotocols: Vec<String>,
    /// The `Origin` header (§4.1 item 8: browsers MUST send it; other clients MAY).
    pub origin: Option<String>,
    /// Extension offers, each a full element of `Sec-WebSocket-Extensions` (§9.1), e.g.
    /// `permessage-deflate; client_max_window_bits`. They are sent in one header, joined by
    /// commas.
    pub extensions: Vec<String>,
    /// More headers (cookies, `Authorization`, `User-Agent`, ...). Do not repeat the headers
    /// the handshake writes itself.
    pub extra_headers: Vec<(String, String)>,
}

/// A client's opening handshake (sans-IO): the request to send, and a reader for the server's
/// answer in any chunking.
#[derive(Debug)]
pub struct ClientHandshake {
    request: Vec<u8>,
    key: String,
    /// What the request offers, to check the answer against.
    offer: Offer,
    head: StickyHead,
    refused: Option<Response>,
}

impl ClientHandshake {
    /// Build the request for `resource` (e.g. `/chat?room=1`) on `host_header` (the `Host`
    /// value: host, plus `:port` when it is not the default; see [`WsUri::host_header`]), with
    /// a fresh random 16-byte key from `keys` (§4.1 item 7: a new random nonce per connection).
    /// The answer may be at most `max_handshake_size` bytes long
    /// ([`crate::Limits::max_handshake_size`]).
    ///
    /// Errors: [`HandshakeError::InvalidUri`] if `host_header` is empty or `resource` does not
    /// start with `/`, or either holds spaces or control characters;
    /// [`HandshakeError::MalformedHttp`] if a subprotocol is not a token or is repeated, or a
    /// header name or value in `options` could not be sent as is (a value with CR or LF would
    /// forge headers, so nothing is sanitized silently).
    pub fn new(
        host_header: &str,
        resource: &str,
        options: &ClientOptions,
        keys: &mut MaskKeyGen,
        max_handshake_size: usize,
    ) -> Result<Self, HandshakeError> {
        let visible = |s: &str| s.bytes().all(|b| b.is_ascii_graphic());
        // RFC 6455 §4.1 client requirement 1: the URI's components MUST be valid.
        if host_header.is_empty() || !visible(host_header) {
            return Err(HandshakeError::InvalidUri("the host is empty or holds spaces or control characters"));
        }
        if !resource.starts_with('/') || !visible(resource) {
            return Err(HandshakeError::InvalidUri("the resource name must start with / and hold no spaces"));
        }
        let offer = Offer::from_options(options)?;

        // RFC 6455 §4.1 item 7: a randomly selected 16-byte nonce, base64-encoded.
        let mut nonce = [0u8; 16];
        keys.fill(&mut nonce);
        let key = STANDARD.encode(nonce);

        // RFC 6455 §4.1 items 2-11: GET {resource} HTTP/1.1, Host, Upgrade: websocket,
        // Connection: Upgrade, Sec-WebSocket-Key, Sec-WebSocket-Version: 13, then the optional
        // Origin, Sec-WebSocket-Protocol and Sec-WebSocket-Extensions.
        let mut request = Vec::with_capacity(256);
        request.extend_from_slice(b"GET ");
        request.extend_from_slice(resource.as_bytes());
        request.extend_from_slice(b" HTTP/1.1\r\n");
        push_header(&mut request, "Host", host_header);
        push_header(&mut request, "Upgrade", "websocket");
        push_header(&mut request, "Connection", "Upgrade");
        push_header(&mut request, "Sec-WebSocket-Key", &key);
        push_header(&mut request, "Sec-WebSocket-Version", "13");
        if let Some(origin) = &options.origin {
            push_header(&mut request, "Origin", origin);
        }
        if !options.subprotocols.is_empty() {
            push_header(&mut request, "Sec-WebSocket-Protocol", options.subprotocols.join(", "));
        }
        if !options.extensions.is_empty() {
            push_header(&mut request, "Sec-WebSocket-Extensions", options.extensions.join(", "));
        }
        for (name, value) in &options.extra_headers {
            push_header(&mut request, name, value);
        }
        request.extend_from_slice(b"\r\n");

        Ok(ClientHandshake { request, key, offer, head: StickyHead::new(max_handshake_size), refused: None })
    }

    /// [`new`](Self::new) with the `Host` value and resource name of a parsed URI.
    pub fn from_uri(
        uri: &WsUri,
        options: &ClientOptions,
        keys: &mut MaskKeyGen,
        max_handshake_size: usize,
    ) -> Result<Self, HandshakeError> {
        Self::new(&uri.host_header(), &uri.resource, options, keys, max_handshake_size)
    }

    /// The complete request to write to the server.
    pub fn request(&self) -> &[u8] {
        &self.request
    }

    /// The response head as received, up to and including its blank line (everything received
    /// so far while it is incomplete).
    pub fn response_head(&self) -> &[u8] {
        self.head.reader().head()
    }

    /// The `Sec-WebSocket-Key` this request carries.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Take the next bytes from the server.
    ///
    /// Returns `Ok(None)` while the response head is incomplete and `Ok(Some(response))` once,
    /// when the server has accepted. Bytes after the head go to [`remainder`](Self::remainder),
    /// including those passed in later calls (which return `Ok(None)`).
    ///
    /// Errors (sticky), each meaning the client MUST _Fail the WebSocket Connection_ (§4.1):
    /// [`UnexpectedStatus`](HandshakeError::UnexpectedStatus) (see
    /// [`refused_response`](Self::refused_response) for the headers, e.g. a redirect's
    /// `Location`), [`MissingUpgrade`](HandshakeError::MissingUpgrade),
    /// [`MissingConnectionUpgrade`](HandshakeError::MissingConnectionUpgrade),
    /// [`InvalidAccept`](HandshakeError::InvalidAccept),
    /// [`UnofferedExtension`](HandshakeError::UnofferedExtension),
    /// [`UnofferedSubprotocol`](HandshakeError::UnofferedSubprotocol), and
    /// [`HeadersTooLarge`](HandshakeError::HeadersTooLarge) or
    /// [`MalformedHttp`](HandshakeError::MalformedHttp) for a head that is too big or not HTTP.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<Option<Response>, HandshakeError> {
        let result = match self.head.push(bytes)? {
            Step::Waiting => Ok(None),
            Step::StartLine => self.check_status_line().map(|()| None),
            Step::Head => self.parse().and_then(|response| self.validate(response)).map(Some),
        };
        self.head.settle(result)
    }

    /// Fail early on bytes that are not an HTTP status line.
    fn check_status_line(&self) -> Result<(), HandshakeError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        match httparse::Response::new(&mut headers).parse(self.head.reader().buffer()) {
            Ok(_) => Ok(()),
            Err(e) => Err(parse_error(e)),
        }
    }

    /// Parse the complete head.
    fn parse(&mut self) -> Result<Response, HandshakeError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Response::new(&mut headers);
        let len = match parsed.parse(self.head.reader().head()) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => {
                return Err(HandshakeError::MalformedHttp("incomplete response head"));
            }
            Err(e) => return Err(parse_error(e)),
        };
        let Some(status) = parsed.code else {
            return Err(HandshakeError::MalformedHttp("incomplete status line"));
        };
        let response = Response::from_parts(status, owned_headers(parsed.headers));
        self.head.reader_mut().set_head_len(len);
        Ok(response)
    }

    /// Check the server's answer against §4.1, in the order of its steps.
    fn validate(&mut self, response: Response) -> Result<Response, HandshakeError> {
        // RFC 6455 §4.1 step 1: a status other than 101 is handled per HTTP; for us the
        // handshake is over.
        if response.status != 101 {
            let status = response.status;
            self.refused = Some(response);
            return Err(HandshakeError::UnexpectedStatus(status));
        }
        self.validate_101(&response)?;
        Ok(response)
    }

    /// The checks of §4.1 steps 2 to 6 on a 101 answer.
    fn validate_101(&self, response: &Response) -> Result<(), HandshakeError> {
        let headers = &response.headers;
        // RFC 6455 §4.1 step 2: Upgrade MUST be present and match "websocket",
        // case-insensitively.
        let mut upgrade = header_values(headers, "Upgrade").flat_map(list_items).peekable();
        if upgrade.peek().is_none() || !upgrade.all(|item| item.eq_ignore_ascii_case(b"websocket")) {
            return Err(HandshakeError::MissingUpgrade);
        }
        // RFC 6455 §4.1 step 3: Connection MUST contain the token "Upgrade", case-insensitively.
        if !has_token(headers, "Connection", "upgrade") {
            return Err(HandshakeError::MissingConnectionUpgrade);
        }
        // RFC 6455 §4.1 step 4: Sec-WebSocket-Accept MUST be present and equal base64(SHA-1(key
        // ++ GUID)), ignoring leading and trailing whitespace.
        let mut accepts = header_values(headers, "Sec-WebSocket-Accept");
        match (accepts.next(), accepts.next()) {
            (Some(accept), None) if accept.trim_ascii() == accept_key(self.key.as_bytes()).as_bytes() => {}
            _ => return Err(HandshakeError::InvalidAccept),
        }
        // RFC 6455 §4.1 steps 5 and 6: only extensions and a subprotocol that were offered.
        self.offer.check_answer(headers)
    }

    /// The server's answer when it was not a 101 (it refused, redirected, or asked for
    /// authentication; §4.1 step 1 leaves these to HTTP). Its body, if any, starts in
    /// [`remainder`](Self::remainder).
    pub fn refused_response(&self) -> Option<&Response> {
        self.refused.as_ref()
    }

    /// Whether the server's 101 has been received and accepted.
    pub fn is_complete(&self) -> bool {
        self.head.is_done()
    }

    /// Bytes received after the end of the response head: frames the server sent right
    /// behind its 101, which must go to the connection before any later input.
    pub fn remainder(&self) -> &[u8] {
        self.head.reader().remainder()
    }

    /// Take the bytes after the response head (see [`remainder`](Self::remainder)).
    pub fn into_remainder(self) -> Vec<u8> {
        self.head.into_remainder()
    }
}

/// The server's answer to a client's handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code: 101 for a handshake accepted over HTTP/1.1, 200 over HTTP/2 (RFC 8441 §5).
    pub status: u16,
    /// The _Subprotocol In Use_ (§4.1): the server's `Sec-WebSocket-Protocol`, if any.
    pub subprotocol: Option<String>,
    /// The _Extensions In Use_ (§4.1): the raw values of the server's
    /// `Sec-WebSocket-Extensions` headers, one per header line.
    pub extensions: Vec<String>,
    /// Every header in order, names as sent.
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Response {
    pub(crate) fn from_parts(status: u16, headers: Vec<(String, Vec<u8>)>) -> Self {
        let subprotocol = header_values(&headers, "Sec-WebSocket-Protocol")
            .next()
            .map(|value| String::from_utf8_lossy(value.trim_ascii()).into_owned());
        let extensions = header_values(&headers, "Sec-WebSocket-Extensions")
            .map(|value| String::from_utf8_lossy(value.trim_ascii()).into_owned())
            .collect();
        Response { status, subprotocol, extensions, headers }
    }

    /// The first header called `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        header_values(&self.headers, name).next()
    }

    /// Every header called `name` (ASCII case-insensitive), in order.
    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        header_values(&self.headers, name)
    }
}

/// A server's answer other than 101 (§4.1 step 1): a refusal (401, 403, 404), a redirect, an
/// error page. The blocking client returns it in [`HandshakeError::Refused`], so the
/// application can show the body, follow a `Location`, or answer a `WWW-Authenticate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The status line and headers.
    pub response: Response,
    /// The body, as sent (not de-chunked), cut at [`crate::Limits::max_handshake_size`] bytes.
    pub body: Vec<u8>,
}

impl Refusal {
    /// The HTTP status, e.g. 403.
    pub fn status(&self) -> u16 {
        self.response.status
    }

    /// The body as text, if it is UTF-8.
    pub fn body_text(&self) -> Option<&str> {
        std::str::from_utf8(&self.body).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MaskKeySource;
    use crate::handshake::{ServerHandshake, accept_response};

    const MAX: usize = 16 * 1024;

    fn keys() -> MaskKeyGen {
        MaskKeySource::Seeded(7).generator()
    }

    fn client(options: &ClientOptions) -> ClientHandshake {
        ClientHandshake::new("example.com", "/chat", options, &mut keys(), MAX).unwrap()
    }

    fn offering(subprotocols: &[&str], extensions: &[&str]) -> ClientHandshake {
        let options = ClientOptions {
            subprotocols: subprotocols.iter().map(|s| s.to_string()).collect(),
            extensions: extensions.iter().map(|s| s.to_string()).collect(),
            ..ClientOptions::default()
        };
        client(&options)
    }

    /// A 101 answer to `handshake`'s key, with `extra` header lines (each ending in CRLF).
    fn answer(handshake: &ClientHandshake, extra: &str) -> Vec<u8> {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n{extra}\r\n",
            accept_key(handshake.key().as_bytes())
        )
        .into_bytes()
    }

    /// Feed `bytes` to a fresh copy of `options`' handshake in one piece, one byte at a time,
    /// and split at every index; all must agree. Returns the result and the remainder.
    fn feed_all_ways(make: &dyn Fn() -> ClientHandshake, bytes: &[u8]) -> (Result<Response, HandshakeError>, Vec<u8>) {
        let feed = |chunks: &mut dyn Iterator<Item = &[u8]>| {
            let mut handshake = make();
            let mut found = None;
            for chunk in chunks {
                match handshake.receive(chunk) {
                    Ok(Some(response)) => {
                        assert!(found.is_none(), "a response is returned only once");
                        found = Some(Ok(response));
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

    /// The result of answering `offering(subprotocols, extensions)` with `extra` headers.
    fn outcome(subprotocols: &[&str], extensions: &[&str], extra: &str) -> Result<Response, HandshakeError> {
        let make = || offering(subprotocols, extensions);
        feed_all_ways(&make, &answer(&make(), extra)).0
    }

    #[test]
    fn s4_1_request_has_every_required_header() {
        let options = ClientOptions {
            subprotocols: vec!["chat".into(), "superchat".into()],
            origin: Some("http://example.com".into()),
            extensions: vec!["permessage-deflate; client_max_window_bits".into(), "x-foo".into()],
            extra_headers: vec![("Cookie".into(), "id=1".into())],
        };
        let handshake = client(&options);
        let text = std::str::from_utf8(handshake.request()).unwrap();
        let expected = format!(
            "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n\
             Sec-WebSocket-Protocol: chat, superchat\r\n\
             Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-foo\r\n\
             Cookie: id=1\r\n\r\n",
            handshake.key()
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn s4_1_minimal_request_has_no_optional_headers() {
        let handshake = client(&ClientOptions::default());
        let text = std::str::from_utf8(handshake.request()).unwrap();
        assert!(!text.contains("Origin"));
        assert!(!text.contains("Sec-WebSocket-Protocol"));
        assert!(!text.contains("Sec-WebSocket-Extensions"));
    }

    #[test]
    fn s4_1_key_is_16_random_bytes_in_base64_and_new_each_time() {
        let mut keys = MaskKeySource::Entropy.generator();
        let a = ClientHandshake::new("h", "/", &ClientOptions::default(), &mut keys, MAX).unwrap();
        let b = ClientHandshake::new("h", "/", &ClientOptions::default(), &mut keys, MAX).unwrap();
        assert_ne!(a.key(), b.key());
        for handshake in [a, b] {
            assert_eq!(STANDARD.decode(handshake.key()).unwrap().len(), 16);
            assert_eq!(handshake.key().len(), 24);
        }
    }

    #[test]
    fn s4_1_round_trip_through_server() {
        let options = ClientOptions {
            subprotocols: vec!["chat".into(), "superchat".into()],
            origin: Some("http://example.com".into()),
            extensions: vec!["permessage-deflate; client_max_window_bits".into()],
            extra_headers: vec![],
        };
        let make = || client(&options);
        let handshake = make();
        let mut server = ServerHandshake::new(MAX);
        let request = server.receive(handshake.request()).unwrap().expect("complete request");
        assert!(request.is_websocket_upgrade());
        assert_eq!(request.validate_websocket(), Ok(()));
        assert_eq!(request.path, "/chat");
        assert_eq!(request.host.as_deref(), Some("example.com"));
        assert_eq!(request.origin.as_deref(), Some("http://example.com"));
        assert_eq!(request.key.as_deref(), Some(handshake.key()));
        assert_eq!(request.subprotocols, ["chat", "superchat"]);
        assert_eq!(request.extensions, ["permessage-deflate; client_max_window_bits"]);

        let chosen = [("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits=15")];
        let reply = accept_response(&request, Some("superchat"), &chosen).unwrap();
        // An unmasked text frame "hello" from the server right behind its 101.
        let frame = b"\x81\x05hello";
        let (result, remainder) = feed_all_ways(&make, &[&reply[..], frame].concat());
        let response = result.unwrap();
        assert_eq!(response.status, 101);
        assert_eq!(response.subprotocol.as_deref(), Some("superchat"));
        assert_eq!(response.extensions, ["permessage-deflate; client_max_window_bits=15"]);
        assert_eq!(response.header("upgrade"), Some(&b"websocket"[..]));
        assert_eq!(remainder, frame);
    }

    #[test]
    fn s4_1_bytes_fed_after_completion_join_the_remainder() {
        let mut handshake = client(&ClientOptions::default());
        let reply = answer(&handshake, "");
        assert!(!handshake.is_complete());
        assert!(handshake.receive(&[&reply[..], b"\x81"].concat()).unwrap().is_some());
        assert!(handshake.is_complete());
        assert_eq!(handshake.receive(b"\x00").unwrap(), None);
        assert_eq!(handshake.remainder(), b"\x81\x00");
        assert_eq!(handshake.into_remainder(), b"\x81\x00");
    }

    #[test]
    fn s4_1_real_server_answers_are_accepted() {
        // As nginx proxying to a Node `ws` server answers (extra headers, mixed case).
        let make = || offering(&[], &["permessage-deflate; client_max_window_bits"]);
        let handshake = make();
        let reply = format!(
            "HTTP/1.1 101 Switching Protocols\r\nServer: nginx/1.24.0\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n\
             Connection: upgrade\r\nUpgrade: WebSocket\r\nSec-WebSocket-Accept:  {} \r\n\
             Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=15\r\n\r\n",
            accept_key(handshake.key().as_bytes())
        );
        let response = feed_all_ways(&make, reply.as_bytes()).0.unwrap();
        assert_eq!(response.subprotocol, None);
        assert_eq!(response.header("server"), Some(&b"nginx/1.24.0"[..]));
    }

    #[test]
    fn s4_1_status_other_than_101_fails() {
        let make = || client(&ClientOptions::default());
        let reply = b"HTTP/1.1 302 Found\r\nLocation: ws://other.example/chat\r\nContent-Length: 3\r\n\r\nabc";
        let (result, remainder) = feed_all_ways(&make, reply);
        assert_eq!(result, Err(HandshakeError::UnexpectedStatus(302)));
        assert_eq!(remainder, b"abc");
        let mut handshake = make();
        assert_eq!(handshake.receive(reply), Err(HandshakeError::UnexpectedStatus(302)));
        let refused = handshake.refused_response().unwrap();
        assert_eq!(refused.header("location"), Some(&b"ws://other.example/chat"[..]));
        assert_eq!(handshake.receive(b"more"), Err(HandshakeError::UnexpectedStatus(302)), "sticky");
        let (result, _) = feed_all_ways(&make, b"HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!(result, Err(HandshakeError::UnexpectedStatus(200)));
    }

    #[test]
    fn s4_1_missing_or_wrong_upgrade_fails() {
        let make = || client(&ClientOptions::default());
        let handshake = make();
        let accept = accept_key(handshake.key().as_bytes());
        for upgrade in ["", "Upgrade: h2c\r\n", "Upgrade: websocket, h2c\r\n", "Upgrade:\r\n"] {
            let reply = format!(
                "HTTP/1.1 101 Switching Protocols\r\n{upgrade}Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            );
            assert_eq!(feed_all_ways(&make, reply.as_bytes()).0, Err(HandshakeError::MissingUpgrade), "{upgrade:?}");
        }
    }

    #[test]
    fn s4_1_missing_connection_upgrade_fails() {
        let make = || client(&ClientOptions::default());
        let handshake = make();
        let accept = accept_key(handshake.key().as_bytes());
        for connection in ["", "Connection: keep-alive\r\n", "Connection: close\r\n"] {
            let reply = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n{connection}Sec-WebSocket-Accept: {accept}\r\n\r\n"
            );
            assert_eq!(
                feed_all_ways(&make, reply.as_bytes()).0,
                Err(HandshakeError::MissingConnectionUpgrade),
                "{connection:?}"
            );
        }
    }

    #[test]
    fn s4_1_missing_or_wrong_accept_fails() {
        let make = || client(&ClientOptions::default());
        let handshake = make();
        let good = accept_key(handshake.key().as_bytes());
        let cases = [
            String::new(),
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n".to_owned(),
            format!("Sec-WebSocket-Accept: {}\r\n", good.to_lowercase()),
            format!("Sec-WebSocket-Accept: {good}\r\nSec-WebSocket-Accept: {good}\r\n"),
            format!("Sec-WebSocket-Accept: {good}x\r\n"),
        ];
        for accept in cases {
            let reply = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n{accept}\r\n"
            );
            assert_eq!(feed_all_ways(&make, reply.as_bytes()).0, Err(HandshakeError::InvalidAccept), "{accept:?}");
        }
    }

    #[test]
    fn s9_1_malformed_extension_answer_fails_the_handshake() {
        for bad in ["permessage-deflate;", "permessage-deflate; x=\"a b\"", "permessage-deflate x"] {
            let header = format!("Sec-WebSocket-Extensions: {bad}\r\n");
            let result = outcome(&[], &["permessage-deflate"], &header);
            assert!(matches!(result, Err(HandshakeError::MalformedHttp(_))), "{bad}: {result:?}");
        }
    }

    #[test]
    fn s4_1_unoffered_extension_fails() {
        let deflate = "Sec-WebSocket-Extensions: permessage-deflate\r\n";
        assert_eq!(outcome(&[], &[], deflate), Err(HandshakeError::UnofferedExtension));
        assert_eq!(outcome(&[], &["x-foo"], deflate), Err(HandshakeError::UnofferedExtension));
        assert_eq!(
            outcome(&[], &["permessage-deflate"], "Sec-WebSocket-Extensions: permessage-deflate, x-foo\r\n"),
            Err(HandshakeError::UnofferedExtension)
        );
        let response = outcome(&[], &["permessage-deflate; client_max_window_bits"], deflate).unwrap();
        assert_eq!(response.extensions, ["permessage-deflate"]);
        // No extension header at all is always fine.
        assert!(outcome(&[], &["permessage-deflate"], "").unwrap().extensions.is_empty());
    }

    #[test]
    fn s4_1_unoffered_subprotocol_fails() {
        let chat = "Sec-WebSocket-Protocol: chat\r\n";
        assert_eq!(outcome(&[], &[], chat), Err(HandshakeError::UnofferedSubprotocol));
        assert_eq!(outcome(&["superchat"], &[], chat), Err(HandshakeError::UnofferedSubprotocol));
        assert_eq!(outcome(&["Chat"], &[], chat), Err(HandshakeError::UnofferedSubprotocol), "case-sensitive");
        assert_eq!(
            outcome(&["chat", "superchat"], &[], "Sec-WebSocket-Protocol: chat, superchat\r\n"),
            Err(HandshakeError::UnofferedSubprotocol),
            "the server picks one"
        );
        assert_eq!(
            outcome(&["chat"], &[], "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n"),
            Err(HandshakeError::UnofferedSubprotocol)
        );
        assert_eq!(outcome(&["chat"], &[], "Sec-WebSocket-Protocol:\r\n"), Err(HandshakeError::UnofferedSubprotocol));
        let response = outcome(&["superchat", "chat"], &[], "Sec-WebSocket-Protocol:  chat \r\n").unwrap();
        assert_eq!(response.subprotocol.as_deref(), Some("chat"));
        assert_eq!(outcome(&["chat"], &[], "").unwrap().subprotocol, None);
    }

    #[test]
    fn s4_1_response_over_the_limit_is_431() {
        let mut handshake =
            ClientHandshake::new("example.com", "/", &ClientOptions::default(), &mut keys(), 32).unwrap();
        let reply = answer(&handshake, "");
        assert_eq!(handshake.receive(&reply), Err(HandshakeError::HeadersTooLarge));
        let make = || client(&ClientOptions::default());
        let mut reply = b"HTTP/1.1 101 Switching Protocols\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            reply.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        reply.extend_from_slice(b"\r\n");
        assert_eq!(feed_all_ways(&make, &reply).0, Err(HandshakeError::HeadersTooLarge));
    }

    #[test]
    fn s4_1_invalid_options_are_refused() {
        let mut k = keys();
        let bad = |options: &ClientOptions| ClientHandshake::new("example.com", "/", options, &mut keys(), MAX);
        let with_protocols = |p: &[&str]| ClientOptions {
            subprotocols: p.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        for protocols in [&["a b"][..], &[""], &["chat", "chat"], &["x,y"]] {
            assert!(matches!(bad(&with_protocols(protocols)), Err(HandshakeError::MalformedHttp(_))), "{protocols:?}");
        }
        let extra = ClientOptions { extra_headers: vec![("X".into(), "a\r\nHost: evil".into())], ..Default::default() };
        assert!(matches!(bad(&extra), Err(HandshakeError::MalformedHttp(_))));
        let extra = ClientOptions { extra_headers: vec![("X Y".into(), "a".into())], ..Default::default() };
        assert!(matches!(bad(&extra), Err(HandshakeError::MalformedHttp(_))));
        let origin = ClientOptions { origin: Some("http://a\nb".into()), ..Default::default() };
        assert!(matches!(bad(&origin), Err(HandshakeError::MalformedHttp(_))));
        let ext = ClientOptions { extensions: vec!["foo\r\n".into()], ..Default::default() };
        assert!(matches!(bad(&ext), Err(HandshakeError::MalformedHttp(_))));
        let o = ClientOptions::default();
        for (host, resource) in
            [("", "/"), ("a b", "/"), ("h\r\n", "/"), ("h", ""), ("h", "chat"), ("h", "/a b"), ("h", "/\r\n")]
        {
            assert!(
                matches!(ClientHandshake::new(host, resource, &o, &mut k, MAX), Err(HandshakeError::InvalidUri(_))),
                "{host:?} {resource:?}"
            );
        }
    }

    #[test]
    fn s3_from_uri_uses_host_header_and_resource() {
        let uri = WsUri::parse("ws://[::1]:9001/chat?room=1").unwrap();
        let handshake = ClientHandshake::from_uri(&uri, &ClientOptions::default(), &mut keys(), MAX).unwrap();
        let text = std::str::from_utf8(handshake.request()).unwrap();
        assert!(text.starts_with("GET /chat?room=1 HTTP/1.1\r\nHost: [::1]:9001\r\n"));
    }

    #[test]
    fn garbage_never_panics() {
        for b in 0..=255u8 {
            let mut handshake = client(&ClientOptions::default());
            let _ = handshake.receive(&[b]);
            let _ = handshake.receive(&[b; 300]);
            let _ = handshake.receive(b"\r\n\r\n");
            let mut handshake = client(&ClientOptions::default());
            let _ = handshake.receive(&[b"HTTP/1.1 101 OK\r\nUpgrade: ".as_slice(), &[b], b"\r\n\r\n"].concat());
        }
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for round in 0..300usize {
            let len = 1 + (round * 37) % 600;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            let mut handshake = ClientHandshake::new("h", "/", &ClientOptions::default(), &mut keys(), 512).unwrap();
            for chunk in bytes.chunks(1 + round % 7) {
                if handshake.receive(chunk).is_err() {
                    break;
                }
            }
            let mut handshake = client(&ClientOptions::default());
            let _ = handshake.receive(
                &[b"HTTP/1.1 101 X\r\nSec-WebSocket-Protocol: ".as_slice(), &bytes[..len.min(40)], b"\r\n\r\n"]
                    .concat(),
            );
        }
    }
}
