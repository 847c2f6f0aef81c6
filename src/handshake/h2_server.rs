//! The server's side of the opening handshake over HTTP/2 (RFC 8441 §4, §5), sans-IO: an
//! HTTP/2 request's header list in, a status and a header list out.
//!
//! Over HTTP/2 a WebSocket is opened with an *extended CONNECT* on a new stream:
//!
//! ```text
//!   :method = CONNECT                          GET /chat HTTP/1.1
//!   :protocol = websocket                      Upgrade: websocket / Connection: Upgrade
//!   :scheme = https
//!   :path = /chat                              (the request target)
//!   :authority = server.example.com            Host: server.example.com
//!   sec-websocket-version = 13                 Sec-WebSocket-Version: 13
//!   sec-websocket-protocol = chat, superchat   (the same)
//!   sec-websocket-extensions = permessage-deflate
//!   origin = http://www.example.com
//!                                              Sec-WebSocket-Key: ... (none over HTTP/2)
//! ```
//!
//! answered with `:status = 200` (not 101) and the chosen `sec-websocket-protocol` and
//! `sec-websocket-extensions`, without `sec-websocket-accept` (RFC 8441 §5: the key and the
//! accept are not used; `:protocol`, which only an HTTP/2 peer that read the server's
//! `SETTINGS_ENABLE_CONNECT_PROTOCOL` sends, does their job).
//!
//! The request becomes the same [`Request`] the HTTP/1.1 parser produces
//! ([`ServerHandshake`](super::ServerHandshake) is the other producer), so the rules that do not
//! depend on the transport are the same code: the version (§4.2.1 item 6), the subprotocols
//! (§4.1 item 10), the extension offers (§9.1), the answer's choices (§4.2.2), and the
//! negotiation of permessage-deflate ([`connection_config`](super::connection_config)).
//!
//! ```
//! use rfc6455::handshake::h2_server::{ConnectRequest, reject};
//!
//! let fields = [
//!     (":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "https"),
//!     (":path", "/chat"), (":authority", "server.example.com"),
//!     ("sec-websocket-version", "13"), ("sec-websocket-protocol", "chat, superchat"),
//! ];
//! let fields = fields.iter().map(|(n, v)| (n.to_string(), v.as_bytes().to_vec())).collect();
//! let request = ConnectRequest::from_header_list(fields).unwrap();
//! assert!(request.is_websocket_attempt());
//! let answer = match request.validate_websocket() {
//!     Ok(()) => request.accept(Some("chat"), &[]).unwrap(),
//!     Err(error) => reject(&error),
//! };
//! assert_eq!(answer.status, 200);
//! assert_eq!(answer.headers, [("sec-websocket-protocol".to_string(), "chat".to_string())]);
//! ```
//!
//! A wrong or missing `sec-websocket-version` is answered `400` with `sec-websocket-version: 13`
//! rather than HTTP/1.1's `426` (see [`reject`]).

use super::Request;
use super::server::check_answer;
use crate::error::HandshakeError;

/// The `:protocol` value that asks for a WebSocket (RFC 8441 §4, from the HTTP Upgrade Token
/// registry).
pub const PROTOCOL: &str = "websocket";

/// The status that accepts an extended CONNECT (RFC 8441 §5: any 2xx; the WebSocket's bytes
/// follow on the stream).
pub const ACCEPT_STATUS: u16 = 200;

/// The HTTP/2 header fields that are about one connection and MUST NOT appear in an HTTP/2
/// message (RFC 9113 §8.2.2).
const CONNECTION_SPECIFIC: [&str; 5] = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"];

/// The pseudo-header fields of an HTTP/2 request (RFC 9113 §8.3.1), with RFC 8441's
/// `:protocol` (§4), each as sent, or `None` when absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PseudoHeaders {
    /// `:method`.
    pub method: Option<String>,
    /// `:scheme`, e.g. `https`.
    pub scheme: Option<String>,
    /// `:authority`: host and port, what `Host` is over HTTP/1.1.
    pub authority: Option<String>,
    /// `:path`: the path and query, e.g. `/chat?room=1`.
    pub path: Option<String>,
    /// `:protocol` (RFC 8441 §4): `websocket` for a WebSocket.
    pub protocol: Option<String>,
}

/// An HTTP/2 request head, read as a WebSocket server reads it: the pseudo-header fields, and
/// the core's [`Request`] from them and the regular fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectRequest {
    /// The pseudo-header fields as sent.
    pub pseudo: PseudoHeaders,
    /// The request as the HTTP/1.1 parser would give it: `method` from `:method`, `path` from
    /// `:path` (empty if absent), `host` from `:authority`, `version` 2, and the regular fields
    /// (`origin`, `sec-websocket-*`, cookies, ...) in `headers`, from which the subprotocols
    /// and extension offers are read exactly as over HTTP/1.1.
    pub request: Request,
}

impl ConnectRequest {
    /// A request from pseudo-header fields and regular fields that an HTTP/2 implementation
    /// already decoded and checked (the h2 crate does). Nothing WebSocket-specific is checked
    /// yet: see [`validate_websocket`](Self::validate_websocket).
    pub fn from_parts(pseudo: PseudoHeaders, headers: Vec<(String, Vec<u8>)>) -> Self {
        let method = pseudo.method.as_deref().unwrap_or_default();
        let path = pseudo.path.as_deref().unwrap_or_default();
        let mut request = Request::from_parts(method, path, 2, headers);
        // RFC 9113 §8.3.1: `:authority` is what `Host` is over HTTP/1.1.
        request.host = pseudo.authority.clone();
        ConnectRequest { pseudo, request }
    }

    /// A request from an HTTP/2 header list as it comes off a HEADERS frame: pseudo-header
    /// fields first, then the regular fields.
    ///
    /// Errors ([`HandshakeError::MalformedHttp`], 400; RFC 9113 §8.3 calls such requests
    /// malformed): a pseudo-header field after a regular one, twice, or not one of `:method`,
    /// `:scheme`, `:authority`, `:path`, `:protocol`; a value of a pseudo-header field that is
    /// not UTF-8.
    pub fn from_header_list(fields: Vec<(String, Vec<u8>)>) -> Result<Self, HandshakeError> {
        let mut pseudo = PseudoHeaders::default();
        let mut headers = Vec::with_capacity(fields.len());
        for (name, value) in fields {
            let Some(pseudo_name) = name.strip_prefix(':') else {
                headers.push((name, value));
                continue;
            };
            // RFC 9113 §8.3: all pseudo-header fields MUST come before the regular ones.
            if !headers.is_empty() {
                return Err(HandshakeError::MalformedHttp("a pseudo-header field after a regular field"));
            }
            let slot = match pseudo_name {
                "method" => &mut pseudo.method,
                "scheme" => &mut pseudo.scheme,
                "authority" => &mut pseudo.authority,
                "path" => &mut pseudo.path,
                "protocol" => &mut pseudo.protocol,
                // RFC 9113 §8.3: pseudo-header fields other than those defined MUST NOT appear.
                _ => return Err(HandshakeError::MalformedHttp("an unknown pseudo-header field")),
            };
            // RFC 9113 §8.3.1: each pseudo-header field at most once.
            if slot.is_some() {
                return Err(HandshakeError::MalformedHttp("a pseudo-header field given twice"));
            }
            let value = String::from_utf8(value)
                .map_err(|_| HandshakeError::MalformedHttp("a pseudo-header value is not UTF-8"))?;
            *slot = Some(value);
        }
        Ok(ConnectRequest::from_parts(pseudo, headers))
    }

    /// Whether the client attempts a WebSocket: any extended CONNECT (a `:protocol` field; one
    /// for another protocol is refused with 501), or any `sec-websocket-version` or
    /// `sec-websocket-key` field. An attempt is answered with [`accept`](Self::accept) or
    /// [`reject`]; anything else is a plain HTTP/2 request (the page, an image) for the
    /// application.
    pub fn is_websocket_attempt(&self) -> bool {
        self.pseudo.protocol.is_some()
            || self.request.header("sec-websocket-version").is_some()
            || self.request.header("sec-websocket-key").is_some()
    }

    /// Check the request against RFC 8441 §4 and §5, then against the rules of RFC 6455
    /// §4.2.1 that HTTP/2 keeps.
    ///
    /// Errors and the status [`reject`] answers them with:
    /// - [`MethodNotConnect`](HandshakeError::MethodNotConnect), 405 with `allow: CONNECT`.
    /// - [`MissingProtocol`](HandshakeError::MissingProtocol), 400: no `:protocol`.
    /// - [`UnsupportedProtocol`](HandshakeError::UnsupportedProtocol), 501: a `:protocol` other
    ///   than `websocket`.
    /// - [`MalformedHttp`](HandshakeError::MalformedHttp), 400: no `:scheme` or no `:path`, a
    ///   scheme other than `https` or `http`, or a `connection`, `upgrade` or other
    ///   connection-specific field.
    /// - [`MissingHost`](HandshakeError::MissingHost), 400: no or an empty `:authority`.
    /// - [`UnsupportedVersion`](HandshakeError::UnsupportedVersion), 400 with
    ///   `sec-websocket-version: 13`: the version is missing, repeated or not 13.
    /// - [`MalformedHttp`](HandshakeError::MalformedHttp), 400: subprotocols that are not
    ///   unique tokens, an extension offer that breaks §9.1's grammar.
    ///
    /// A `sec-websocket-key` field, if sent, is ignored: RFC 8441 §5 drops its processing.
    pub fn validate_websocket(&self) -> Result<(), HandshakeError> {
        // RFC 8441 §4, §5: a WebSocket over HTTP/2 is opened with the CONNECT method ...
        if self.pseudo.method.as_deref() != Some("CONNECT") {
            return Err(HandshakeError::MethodNotConnect);
        }
        // RFC 8441 §5: the :protocol pseudo-header field MUST be included in the CONNECT
        // request, and it MUST have a value of `websocket` (compared without case, as upgrade
        // tokens are: RFC 9110 §7.8). RFC 8441 §4: whatever the value, the server MUST NOT
        // open a tunnel to :authority; another protocol is not implemented here (501, as RFC
        // 9220 §3 asks over HTTP/3).
        match self.pseudo.protocol.as_deref() {
            None => return Err(HandshakeError::MissingProtocol),
            Some(protocol) if !protocol.eq_ignore_ascii_case(PROTOCOL) => {
                return Err(HandshakeError::UnsupportedProtocol);
            }
            Some(_) => {}
        }
        // RFC 8441 §4: on requests that contain :protocol, :scheme and :path MUST also be
        // included.
        let (Some(scheme), Some(path)) = (self.pseudo.scheme.as_deref(), self.pseudo.path.as_deref()) else {
            return Err(HandshakeError::MalformedHttp("an extended CONNECT carries :scheme and :path (RFC 8441 §4)"));
        };
        if path.is_empty() {
            return Err(HandshakeError::MalformedHttp("an extended CONNECT carries :scheme and :path (RFC 8441 §4)"));
        }
        // RFC 8441 §5: the scheme MUST be "https" for wss:// and "http" for ws://.
        if scheme != "https" && scheme != "http" {
            return Err(HandshakeError::MalformedHttp("the :scheme of a WebSocket is https or http (RFC 8441 §5)"));
        }
        // RFC 8441 §4: :authority as for any request with a target URI (RFC 9113 §8.3.1); it
        // is what RFC 6455 §4.2.1 item 2's Host is.
        if self.pseudo.authority.as_deref().is_none_or(str::is_empty) {
            return Err(HandshakeError::MissingHost);
        }
        // RFC 8441 §5: Connection and Upgrade MUST NOT be included in the CONNECT request (nor
        // any other connection-specific field: RFC 9113 §8.2.2 makes such a request malformed).
        if self.request.headers.iter().any(|(name, _)| CONNECTION_SPECIFIC.iter().any(|c| name.eq_ignore_ascii_case(c)))
        {
            return Err(HandshakeError::MalformedHttp(
                "a connection-specific field in an HTTP/2 request (RFC 8441 §5)",
            ));
        }
        // RFC 8441 §5: sec-websocket-version (13), -protocol and -extensions keep their
        // meaning from RFC 6455.
        self.request.validate_websocket_fields()
    }

    /// The answer that accepts the request (RFC 8441 §5): status 200, the chosen subprotocol
    /// (`sec-websocket-protocol`) and `extra_headers` (`sec-websocket-extensions` if the server
    /// accepts an extension, cookies), names lower-cased as HTTP/2 requires (RFC 9113 §8.2.1).
    /// No `sec-websocket-accept`: RFC 8441 §5 drops it.
    ///
    /// Errors, all mistakes of the calling server: those of
    /// [`validate_websocket`](Self::validate_websocket), run again so an invalid request can
    /// never be accepted; [`HandshakeError::UnofferedSubprotocol`] and
    /// [`HandshakeError::UnofferedExtension`] as over HTTP/1.1 (RFC 6455 §4.2.2);
    /// [`HandshakeError::MalformedHttp`] for a header name that is not a token, a value with a
    /// control character, or a connection-specific header (`connection`, `upgrade`, ...), which
    /// RFC 9113 §8.2.2 forbids in HTTP/2.
    pub fn accept(
        &self,
        subprotocol: Option<&str>,
        extra_headers: &[(&str, &str)],
    ) -> Result<H2Response, HandshakeError> {
        self.validate_websocket()?;
        check_answer(&self.request, subprotocol, extra_headers)?;
        let mut headers = Vec::with_capacity(extra_headers.len() + 1);
        if let Some(protocol) = subprotocol {
            headers.push(("sec-websocket-protocol".to_owned(), protocol.to_owned()));
        }
        for (name, value) in extra_headers {
            let name = name.to_ascii_lowercase();
            // RFC 9113 §8.2.2: connection-specific header fields MUST NOT be sent.
            if CONNECTION_SPECIFIC.contains(&name.as_str()) {
                return Err(HandshakeError::MalformedHttp("a connection-specific header cannot be sent over HTTP/2"));
            }
            headers.push((name, (*value).to_owned()));
        }
        Ok(H2Response { status: ACCEPT_STATUS, headers, body: Vec::new() })
    }
}

/// An HTTP/2 response: a status, regular header fields (lower-case names), and a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct H2Response {
    /// The `:status`.
    pub status: u16,
    /// The regular header fields, in order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body (empty for an accepted WebSocket: its stream carries the WebSocket's bytes).
    pub body: Vec<u8>,
}

impl H2Response {
    /// The first header called `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The same answer as a complete HTTP/1.1 response ([`Decision::Respond`]'s bytes, say) for
    /// HTTP/2: its status, its headers less those HTTP/2 forbids (RFC 9113 §8.2.2) and those
    /// the HTTP/2 layer writes itself (`content-length`), and its body. Bytes that are not an
    /// HTTP/1.1 response become a 500.
    ///
    /// [`Decision::Respond`]: crate::blocking::Decision::Respond
    pub fn from_http1(bytes: &[u8]) -> Self {
        let mut fields = [httparse::EMPTY_HEADER; super::MAX_HEADERS];
        let mut parsed = httparse::Response::new(&mut fields);
        let Ok(httparse::Status::Complete(len)) = parsed.parse(bytes) else {
            return H2Response { status: 500, headers: Vec::new(), body: Vec::new() };
        };
        let headers = parsed
            .headers
            .iter()
            .map(|h| h.name.to_ascii_lowercase())
            .zip(parsed.headers.iter().map(|h| String::from_utf8_lossy(h.value).into_owned()))
            .filter(|(name, _)| !CONNECTION_SPECIFIC.contains(&name.as_str()) && name != "content-length")
            .collect();
        H2Response { status: parsed.code.unwrap_or(500), headers, body: bytes[len..].to_vec() }
    }
}

/// The answer that refuses a WebSocket request over HTTP/2: status
/// [`HandshakeError::http_status`], with two changes, and the error's message as a
/// `text/plain` body.
///
/// - **426 becomes 400**, still with `sec-websocket-version: 13`. RFC 6455 §4.4 answers a
///   version it does not speak with the versions it does; HTTP/1.1 does so with 426 Upgrade
///   Required, which MUST carry an `Upgrade` header (RFC 9110 §15.5.22), and `Upgrade` MUST NOT
///   appear in HTTP/2 (RFC 9113 §8.2.2). So the status says "bad request" and the header still
///   names version 13.
/// - **405 names the method HTTP/2 needs**: `allow: CONNECT` (RFC 9110 §15.5.6).
///
/// A status outside 100..=599 is sent as 500.
pub fn reject(error: &HandshakeError) -> H2Response {
    let mut status = error.http_status();
    let mut headers = vec![("content-type".to_owned(), "text/plain; charset=utf-8".to_owned())];
    match status {
        // RFC 6455 §4.4: the versions this server speaks; as 400, since HTTP/2 has no Upgrade.
        426 => {
            status = 400;
            headers.push(("sec-websocket-version".to_owned(), "13".to_owned()));
        }
        405 => headers.push(("allow".to_owned(), "CONNECT".to_owned())),
        100..=599 => {}
        _ => status = 500,
    }
    H2Response { status, headers, body: error.to_string().into_bytes() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::handshake::{Completed, connection_config};

    /// RFC 8441 §5.1's example request, as a header list.
    const RFC_EXAMPLE: [(&str, &str); 9] = [
        (":method", "CONNECT"),
        (":protocol", "websocket"),
        (":scheme", "https"),
        (":path", "/chat"),
        (":authority", "server.example.com"),
        ("sec-websocket-protocol", "chat, superchat"),
        ("sec-websocket-extensions", "permessage-deflate"),
        ("sec-websocket-version", "13"),
        ("origin", "http://www.example.com"),
    ];

    fn list(fields: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
        fields.iter().map(|(n, v)| (n.to_string(), v.as_bytes().to_vec())).collect()
    }

    /// The RFC example with `name` replaced by `value` (or removed when `value` is `None`).
    fn example_with(name: &str, value: Option<&str>) -> ConnectRequest {
        let mut fields: Vec<(&str, &str)> = RFC_EXAMPLE.to_vec();
        match (fields.iter().position(|(n, _)| *n == name), value) {
            (Some(i), Some(value)) => fields[i].1 = value,
            (Some(i), None) => {
                fields.remove(i);
            }
            (None, Some(value)) => fields.push((name, value)),
            (None, None) => {}
        }
        ConnectRequest::from_header_list(list(&fields)).unwrap()
    }

    fn example() -> ConnectRequest {
        example_with("", None)
    }

    #[test]
    fn rfc8441_s5_1_the_rfc_example_is_accepted_with_200_and_its_subprotocol() {
        let request = example();
        assert!(request.is_websocket_attempt());
        assert_eq!(request.request.method, "CONNECT");
        assert_eq!(request.request.path, "/chat");
        assert_eq!(request.request.version, 2);
        assert_eq!(request.request.host.as_deref(), Some("server.example.com"));
        assert_eq!(request.request.origin.as_deref(), Some("http://www.example.com"));
        assert_eq!(request.request.subprotocols, ["chat", "superchat"]);
        assert_eq!(request.validate_websocket(), Ok(()));
        let answer = request.accept(Some("chat"), &[]).unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(answer.headers, [("sec-websocket-protocol".to_owned(), "chat".to_owned())]);
        assert!(answer.body.is_empty());
    }

    #[test]
    fn rfc8441_s4_the_method_must_be_connect() {
        let request = example_with(":method", Some("GET"));
        assert!(request.is_websocket_attempt(), "a WebSocket attempt all the same");
        assert_eq!(request.validate_websocket(), Err(HandshakeError::MethodNotConnect));
        let answer = reject(&HandshakeError::MethodNotConnect);
        assert_eq!((answer.status, answer.header("allow")), (405, Some("CONNECT")));
    }

    #[test]
    fn rfc8441_s5_the_protocol_must_be_websocket() {
        let missing = example_with(":protocol", None);
        assert!(missing.is_websocket_attempt(), "sec-websocket-version still makes it an attempt");
        assert_eq!(missing.validate_websocket(), Err(HandshakeError::MissingProtocol));
        assert_eq!(reject(&HandshakeError::MissingProtocol).status, 400);
        let other = example_with(":protocol", Some("websocket2"));
        assert_eq!(other.validate_websocket(), Err(HandshakeError::UnsupportedProtocol));
        assert_eq!(reject(&HandshakeError::UnsupportedProtocol).status, 501);
        // Upgrade tokens are compared without case.
        assert_eq!(example_with(":protocol", Some("WebSocket")).validate_websocket(), Ok(()));
    }

    #[test]
    fn rfc8441_s4_scheme_and_path_must_be_included() {
        for name in [":scheme", ":path"] {
            let request = example_with(name, None);
            let error = request.validate_websocket().expect_err(name);
            assert!(matches!(error, HandshakeError::MalformedHttp(_)), "{name}: {error:?}");
            assert_eq!(reject(&error).status, 400);
        }
    }

    #[test]
    fn rfc8441_s5_the_scheme_is_https_or_http() {
        assert_eq!(example_with(":scheme", Some("http")).validate_websocket(), Ok(()));
        for scheme in ["wss", "ws", "ftp", ""] {
            let error = example_with(":scheme", Some(scheme)).validate_websocket().expect_err(scheme);
            assert!(matches!(error, HandshakeError::MalformedHttp(_)), "{scheme}: {error:?}");
        }
    }

    #[test]
    fn rfc8441_s5_connection_and_upgrade_must_not_be_sent() {
        for (name, value) in [("connection", "Upgrade"), ("upgrade", "websocket"), ("Transfer-Encoding", "chunked")] {
            let error = example_with(name, Some(value)).validate_websocket().expect_err(name);
            assert!(matches!(error, HandshakeError::MalformedHttp(_)), "{name}: {error:?}");
            assert_eq!(reject(&error).status, 400);
        }
    }

    #[test]
    fn rfc8441_s4_an_extended_connect_for_another_protocol_opens_no_tunnel() {
        // Whatever :authority names, the request is answered here: 501 for a protocol this
        // server does not speak, never a tunnel to that host.
        let request = ConnectRequest::from_header_list(list(&[
            (":method", "CONNECT"),
            (":protocol", "connect-udp"),
            (":scheme", "https"),
            (":path", "/.well-known/masque/udp/192.0.2.6/443/"),
            (":authority", "elsewhere.example:443"),
        ]))
        .unwrap();
        assert!(request.is_websocket_attempt(), "every extended CONNECT gets this server's answer");
        assert_eq!(request.validate_websocket(), Err(HandshakeError::UnsupportedProtocol));
        assert_eq!(reject(&HandshakeError::UnsupportedProtocol).status, 501);
    }

    #[test]
    fn rfc8441_s4_the_authority_is_the_host() {
        assert_eq!(example_with(":authority", None).validate_websocket(), Err(HandshakeError::MissingHost));
        assert_eq!(example_with(":authority", Some("")).validate_websocket(), Err(HandshakeError::MissingHost));
        // A `host` field does not stand in for :authority.
        let request = ConnectRequest::from_header_list(list(&[
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":scheme", "https"),
            (":path", "/"),
            ("host", "server.example.com"),
            ("sec-websocket-version", "13"),
        ]))
        .unwrap();
        assert_eq!(request.validate_websocket(), Err(HandshakeError::MissingHost));
    }

    #[test]
    fn rfc8441_s5_version_13_is_required_and_a_wrong_one_is_answered_400_naming_13() {
        for version in [Some("8"), Some("14"), Some("13, 8"), None] {
            let request = example_with("sec-websocket-version", version);
            assert_eq!(request.validate_websocket(), Err(HandshakeError::UnsupportedVersion), "{version:?}");
            let answer = reject(&HandshakeError::UnsupportedVersion);
            assert_eq!(answer.status, 400, "not HTTP/1.1's 426");
            assert_eq!(answer.header("sec-websocket-version"), Some("13"));
            assert!(answer.header("upgrade").is_none(), "RFC 9113 §8.2.2: no Upgrade over HTTP/2");
        }
    }

    #[test]
    fn rfc8441_s5_no_key_is_needed_and_no_accept_is_sent() {
        let request = example();
        assert!(request.request.key.is_none());
        assert_eq!(request.validate_websocket(), Ok(()));
        let answer = request.accept(None, &[]).unwrap();
        assert!(answer.headers.is_empty(), "{:?}", answer.headers);
        // A key, if a client sends one anyway, is not processed (and not refused).
        let with_key = example_with("sec-websocket-key", Some("not base64 at all"));
        assert_eq!(with_key.validate_websocket(), Ok(()));
        assert!(with_key.accept(None, &[]).unwrap().header("sec-websocket-accept").is_none());
    }

    #[test]
    fn rfc8441_s5_subprotocols_are_negotiated_as_over_http_1_1() {
        let request = example();
        assert_eq!(request.accept(Some("mqtt"), &[]), Err(HandshakeError::UnofferedSubprotocol));
        let repeated = example_with("sec-websocket-protocol", Some("chat, chat"));
        assert!(matches!(repeated.validate_websocket(), Err(HandshakeError::MalformedHttp(_))));
    }

    #[test]
    fn rfc8441_s5_permessage_deflate_is_negotiated_as_over_http_1_1() {
        let request = example();
        let chosen = [("Sec-WebSocket-Extensions", "permessage-deflate")];
        let answer = request.accept(None, &chosen).unwrap();
        assert_eq!(answer.header("sec-websocket-extensions"), Some("permessage-deflate"));
        assert_eq!(answer.headers[0].0, "sec-websocket-extensions", "names lower-cased (RFC 9113 §8.2.1)");
        let completed = Completed::Server { request: &request.request, headers: &chosen, deflate: None };
        let config = connection_config(Config::server(), completed).unwrap();
        assert!(config.deflate().is_some(), "the connection runs what the 200 accepted");
        // An extension the client did not offer cannot be accepted.
        let unoffered = example_with("sec-websocket-extensions", None);
        assert_eq!(unoffered.accept(None, &chosen), Err(HandshakeError::UnofferedExtension));
        // A malformed offer fails the handshake (RFC 6455 §9.1).
        let bad = example_with("sec-websocket-extensions", Some("permessage-deflate;"));
        assert!(matches!(bad.validate_websocket(), Err(HandshakeError::MalformedHttp(_))));
    }

    #[test]
    fn rfc9113_s8_2_2_connection_specific_headers_are_never_sent() {
        let request = example();
        for name in ["Connection", "upgrade", "Transfer-Encoding", "keep-alive", "proxy-connection"] {
            let result = request.accept(None, &[(name, "x")]);
            assert!(matches!(result, Err(HandshakeError::MalformedHttp(_))), "{name}");
        }
        let response = crate::handshake::http_response(200, "text/html", b"<p>hi</p>");
        let h2 = H2Response::from_http1(&response);
        assert_eq!(h2.status, 200);
        assert_eq!(h2.headers, [("content-type".to_owned(), "text/html".to_owned())]);
        assert_eq!(h2.body, b"<p>hi</p>");
    }

    #[test]
    fn rfc9113_s8_3_pseudo_headers_come_first_once_each_and_known() {
        let malformed = [
            vec![("sec-websocket-version", "13"), (":method", "CONNECT")],
            vec![(":method", "CONNECT"), (":method", "CONNECT")],
            vec![(":method", "CONNECT"), (":status", "200")],
        ];
        for fields in malformed {
            let result = ConnectRequest::from_header_list(list(&fields));
            assert!(matches!(result, Err(HandshakeError::MalformedHttp(_))), "{fields:?}");
        }
        let bad_utf8 = vec![(":path".to_owned(), vec![0xff])];
        assert!(ConnectRequest::from_header_list(bad_utf8).is_err());
    }

    #[test]
    fn rfc8441_s4_a_plain_request_is_not_a_websocket_attempt() {
        let page = ConnectRequest::from_header_list(list(&[
            (":method", "GET"),
            (":scheme", "https"),
            (":path", "/"),
            (":authority", "server.example.com"),
            ("accept", "text/html"),
        ]))
        .unwrap();
        assert!(!page.is_websocket_attempt());
        // A plain CONNECT tunnel request is not one either: it is the application's.
        let tunnel =
            ConnectRequest::from_header_list(list(&[(":method", "CONNECT"), (":authority", "example.com:443")]))
                .unwrap();
        assert!(!tunnel.is_websocket_attempt());
    }

    #[test]
    fn rejections_carry_their_message_as_text() {
        let answer = reject(&HandshakeError::MissingProtocol);
        assert_eq!(answer.header("content-type"), Some("text/plain; charset=utf-8"));
        assert_eq!(answer.body, HandshakeError::MissingProtocol.to_string().as_bytes());
        let odd = reject(&HandshakeError::Rejected { status: 7, reason: String::new() });
        assert_eq!(odd.status, 500);
        let forbidden = reject(&HandshakeError::Rejected { status: 403, reason: "origin".into() });
        assert_eq!(forbidden.status, 403);
    }
}
