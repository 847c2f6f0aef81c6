//! The client's opening handshake over HTTP/2 (RFC 8441 §4, §5), sans-IO: the extended CONNECT
//! request as a header list, and the check of the server's answer from its status and headers.
//!
//! Over HTTP/2 a WebSocket is one stream of a connection. The client opens it with a CONNECT
//! request that carries the `:protocol` pseudo-header (RFC 8441 §4), allowed only once the
//! server has sent `SETTINGS_ENABLE_CONNECT_PROTOCOL = 1` (§3). The HTTP/1.1 handshake's
//! `Upgrade`, `Connection`, `Host`, `Sec-WebSocket-Key` and `Sec-WebSocket-Accept` have no
//! place there (§5); `Sec-WebSocket-Version`, `Origin`, `Sec-WebSocket-Protocol` and
//! `Sec-WebSocket-Extensions` work as in RFC 6455, so the options and the answer are checked by
//! the same code as over HTTP/1.1, and the answer is the same [`Response`].
//!
//! ```
//! use rfc6455::handshake::{ClientOptions, H2ClientHandshake};
//! use rfc6455::uri::WsUri;
//!
//! let uri = WsUri::parse("wss://example.com/chat?room=1").unwrap();
//! let options = ClientOptions { subprotocols: vec!["chat".into()], ..ClientOptions::default() };
//! let handshake = H2ClientHandshake::from_uri(&uri, &options).unwrap();
//! assert_eq!(handshake.pseudo_headers(), [
//!     (":method", "CONNECT"),
//!     (":protocol", "websocket"),
//!     (":scheme", "https"),
//!     (":path", "/chat?room=1"),
//!     (":authority", "example.com"),
//! ]);
//! // ... send it with an HTTP/2 library, then check its answer:
//! let answer = vec![("sec-websocket-protocol".to_string(), b"chat".to_vec())];
//! let response = handshake.check_response(200, answer).unwrap();
//! assert_eq!(response.subprotocol.as_deref(), Some("chat"));
//! ```
//!
//! The connection that follows is built exactly as over HTTP/1.1, with
//! [`connection_config`](super::connection_config) and
//! [`Completed::Client`](super::Completed::Client) on this [`Response`]; the frames go in the
//! stream's DATA frames, and closing the transport means ending the stream (RFC 8441 §5).

use super::offer::Offer;
use super::{ClientOptions, Refusal, Response};
use crate::error::HandshakeError;
use crate::uri::WsUri;

/// The `:protocol` value that asks for a WebSocket (RFC 8441 §5).
pub const PROTOCOL: &str = "websocket";

/// Header fields a client must not put in an extended CONNECT: the connection-specific fields
/// HTTP/2 forbids (RFC 7540 §8.1.2.2), `Host` (its information is `:authority`, RFC 8441 §5),
/// and the HTTP/1.1 handshake's key and accept, which RFC 8441 §5 replaces with `:protocol`.
const NOT_OVER_H2: [&str; 8] = [
    "connection",
    "upgrade",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "host",
    "sec-websocket-key",
    "sec-websocket-accept",
];

/// A client's extended CONNECT request for a WebSocket over HTTP/2 (RFC 8441 §4, §5), and the
/// check of the server's answer.
#[derive(Debug, Clone)]
pub struct H2ClientHandshake {
    scheme: &'static str,
    authority: String,
    path: String,
    headers: Vec<(String, String)>,
    offer: Offer,
}

impl H2ClientHandshake {
    /// Build the request for `path` (the path and query, e.g. `/chat?room=1`) on `authority`
    /// (host, plus `:port` when it is not the default; see [`WsUri::host_header`]); `secure` for
    /// a `wss://` URI.
    ///
    /// Errors: [`HandshakeError::InvalidUri`] if `authority` is empty or `path` does not start
    /// with `/`, or either holds spaces or control characters; [`HandshakeError::MalformedHttp`]
    /// for options the HTTP/1.1 request would refuse too (a subprotocol that is not a token or
    /// is repeated, a value with CR or LF), and for an extra header HTTP/2 does not allow in a
    /// request (`Connection`, `Upgrade`, `Keep-Alive`, `Proxy-Connection`, `Transfer-Encoding`,
    /// `TE` other than `trailers`, `Host`) or that RFC 8441 replaces (`Sec-WebSocket-Key`,
    /// `Sec-WebSocket-Accept`).
    pub fn new(secure: bool, authority: &str, path: &str, options: &ClientOptions) -> Result<Self, HandshakeError> {
        let visible = |s: &str| s.bytes().all(|b| b.is_ascii_graphic());
        // RFC 6455 §4.1 client requirement 1: the URI's components MUST be valid.
        if authority.is_empty() || !visible(authority) {
            return Err(HandshakeError::InvalidUri("the host is empty or holds spaces or control characters"));
        }
        if !path.starts_with('/') || !visible(path) {
            return Err(HandshakeError::InvalidUri("the resource name must start with / and hold no spaces"));
        }
        let offer = Offer::from_options(options)?;
        for (name, value) in &options.extra_headers {
            let name = name.to_ascii_lowercase();
            // RFC 7540 §8.1.2.2: connection-specific header fields MUST NOT be sent over HTTP/2
            // (TE only with the value "trailers"); RFC 8441 §5: Connection and Upgrade MUST NOT
            // be in the CONNECT request.
            if NOT_OVER_H2.contains(&name.as_str()) || (name == "te" && !value.trim().eq_ignore_ascii_case("trailers"))
            {
                return Err(HandshakeError::MalformedHttp(
                    "a connection-specific, Host or Sec-WebSocket-Key/-Accept header cannot go in an HTTP/2 extended CONNECT",
                ));
            }
        }

        // RFC 7540 §8.1.2: header field names MUST be lowercase in HTTP/2.
        // RFC 8441 §5: Sec-WebSocket-Version, Origin, Sec-WebSocket-Protocol and
        // Sec-WebSocket-Extensions are used as in RFC 6455 (§4.1 items 8-11).
        let mut headers = vec![("sec-websocket-version".to_owned(), "13".to_owned())];
        if let Some(origin) = &options.origin {
            headers.push(("origin".to_owned(), origin.clone()));
        }
        if !options.subprotocols.is_empty() {
            headers.push(("sec-websocket-protocol".to_owned(), options.subprotocols.join(", ")));
        }
        if !options.extensions.is_empty() {
            headers.push(("sec-websocket-extensions".to_owned(), options.extensions.join(", ")));
        }
        for (name, value) in &options.extra_headers {
            headers.push((name.to_ascii_lowercase(), value.clone()));
        }
        Ok(H2ClientHandshake {
            // RFC 8441 §5: the scheme MUST be "https" for wss and "http" for ws.
            scheme: if secure { "https" } else { "http" },
            authority: authority.to_owned(),
            path: path.to_owned(),
            headers,
            offer,
        })
    }

    /// [`new`](Self::new) with the scheme, authority and resource name of a parsed URI (RFC 8441
    /// §5: `:path` is the path and query of the URI, `:authority` its authority).
    pub fn from_uri(uri: &WsUri, options: &ClientOptions) -> Result<Self, HandshakeError> {
        Self::new(uri.secure, &uri.host_header(), &uri.resource, options)
    }

    /// The pseudo-header fields, in the order they go out: `:method` (`CONNECT`), `:protocol`
    /// (`websocket`), `:scheme`, `:path` and `:authority` (RFC 8441 §4: an extended CONNECT
    /// carries all five).
    pub fn pseudo_headers(&self) -> [(&'static str, &str); 5] {
        [
            (":method", "CONNECT"),
            (":protocol", PROTOCOL),
            (":scheme", self.scheme),
            (":path", &self.path),
            (":authority", &self.authority),
        ]
    }

    /// `http` for `ws://`, `https` for `wss://` (RFC 8441 §5).
    pub fn scheme(&self) -> &str {
        self.scheme
    }

    /// The `:authority`: host, and port when it is not the scheme's default.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The `:path`: the resource name (path and query).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The regular header fields, names in lowercase (RFC 7540 §8.1.2): `sec-websocket-version`,
    /// then `origin`, `sec-websocket-protocol` and `sec-websocket-extensions` if the options
    /// hold them, then the options' extra headers.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// Check the server's answer: its `:status` and header fields (names in any case).
    ///
    /// A 200 accepts (RFC 8441 §5) if its `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions`
    /// name only what was offered (RFC 6455 §4.1 steps 5 and 6); there is no accept key to check.
    ///
    /// Errors, each meaning the stream is not a WebSocket: [`HandshakeError::Refused`] for any
    /// other status (with the headers; the body, which follows on the stream, is left to the
    /// caller to add), [`HandshakeError::UnofferedSubprotocol`],
    /// [`HandshakeError::UnofferedExtension`], and [`HandshakeError::MalformedHttp`] for an
    /// extensions value that breaks RFC 6455 §9.1.
    pub fn check_response(&self, status: u16, headers: Vec<(String, Vec<u8>)>) -> Result<Response, HandshakeError> {
        let response = Response::from_parts(status, headers);
        // RFC 8441 §5: any status other than 200 means the WebSocket handshake has not
        // completed, and the HTTP semantics of the answer apply (a redirect, say).
        if status != 200 {
            return Err(HandshakeError::Refused(Box::new(Refusal { response, body: Vec::new() })));
        }
        // RFC 8441 §5 (Sec-WebSocket-Protocol and -Extensions as defined in RFC 6455), RFC 6455
        // §4.1 steps 5 and 6: only what was offered.
        self.offer.check_answer(&response.headers)?;
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Role};
    use crate::extensions::permessage_deflate::DeflateConfig;
    use crate::handshake::{Completed, connection_config};

    fn options(subprotocols: &[&str], extensions: &[&str]) -> ClientOptions {
        ClientOptions {
            subprotocols: subprotocols.iter().map(|s| s.to_string()).collect(),
            extensions: extensions.iter().map(|s| s.to_string()).collect(),
            ..ClientOptions::default()
        }
    }

    fn request(url: &str, options: &ClientOptions) -> H2ClientHandshake {
        H2ClientHandshake::from_uri(&WsUri::parse(url).unwrap(), options).unwrap()
    }

    fn header<'a>(handshake: &'a H2ClientHandshake, name: &str) -> Option<&'a str> {
        handshake.headers().iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn answer(pairs: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
        pairs.iter().map(|(n, v)| (n.to_string(), v.as_bytes().to_vec())).collect()
    }

    /// The result of answering an offer of `subprotocols` and `extensions` with a 200 and `headers`.
    fn outcome(
        subprotocols: &[&str],
        extensions: &[&str],
        headers: &[(&str, &str)],
    ) -> Result<Response, HandshakeError> {
        request("ws://example.com/", &options(subprotocols, extensions)).check_response(200, answer(headers))
    }

    #[test]
    fn rfc8441_s4_request_is_connect_with_protocol_scheme_path_and_authority() {
        let handshake = request("ws://example.com:8080/chat?room=1", &ClientOptions::default());
        assert_eq!(
            handshake.pseudo_headers(),
            [
                (":method", "CONNECT"),
                (":protocol", "websocket"),
                (":scheme", "http"),
                (":path", "/chat?room=1"),
                (":authority", "example.com:8080"),
            ]
        );
    }

    #[test]
    fn rfc8441_s5_scheme_is_https_for_wss_and_http_for_ws() {
        assert_eq!(request("wss://example.com/", &ClientOptions::default()).scheme(), "https");
        assert_eq!(request("ws://example.com/", &ClientOptions::default()).scheme(), "http");
        assert_eq!(H2ClientHandshake::new(true, "h", "/", &ClientOptions::default()).unwrap().scheme(), "https");
    }

    #[test]
    fn rfc8441_s5_path_and_authority_are_those_of_the_uri() {
        let handshake = request("wss://[::1]:9443/a/b?x=1&y=2", &ClientOptions::default());
        assert_eq!((handshake.authority(), handshake.path()), ("[::1]:9443", "/a/b?x=1&y=2"));
        // The default port is left out, as in an HTTP/1.1 Host header.
        let handshake = request("wss://example.com:443", &ClientOptions::default());
        assert_eq!((handshake.authority(), handshake.path()), ("example.com", "/"));
    }

    #[test]
    fn rfc8441_s5_version_origin_protocol_and_extensions_are_sent_as_in_rfc6455() {
        let options = ClientOptions {
            subprotocols: vec!["chat".into(), "superchat".into()],
            origin: Some("http://www.example.com".into()),
            extensions: vec!["permessage-deflate; client_max_window_bits".into(), "x-foo".into()],
            extra_headers: vec![("Cookie".into(), "id=1".into())],
        };
        let handshake = request("wss://server.example.com/chat", &options);
        let expected = [
            ("sec-websocket-version", "13"),
            ("origin", "http://www.example.com"),
            ("sec-websocket-protocol", "chat, superchat"),
            ("sec-websocket-extensions", "permessage-deflate; client_max_window_bits, x-foo"),
            ("cookie", "id=1"),
        ];
        let sent: Vec<(&str, &str)> = handshake.headers().iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        assert_eq!(sent, expected);
    }

    #[test]
    fn rfc8441_s5_no_connection_upgrade_host_key_or_accept_is_sent() {
        let options = options(&["chat"], &["permessage-deflate"]);
        let handshake = request("ws://example.com/", &options);
        for name in ["connection", "upgrade", "host", "sec-websocket-key", "sec-websocket-accept"] {
            assert_eq!(header(&handshake, name), None, "{name}");
        }
        // Nor can the application add them by hand.
        for (name, value) in [
            ("Connection", "Upgrade"),
            ("Upgrade", "websocket"),
            ("Host", "example.com"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Keep-Alive", "timeout=5"),
            ("Proxy-Connection", "keep-alive"),
            ("Transfer-Encoding", "chunked"),
            ("TE", "gzip"),
        ] {
            let options = ClientOptions { extra_headers: vec![(name.into(), value.into())], ..Default::default() };
            assert!(
                matches!(H2ClientHandshake::new(false, "h", "/", &options), Err(HandshakeError::MalformedHttp(_))),
                "{name}"
            );
        }
        let te = ClientOptions { extra_headers: vec![("TE".into(), "trailers".into())], ..Default::default() };
        assert!(H2ClientHandshake::new(false, "h", "/", &te).is_ok(), "TE: trailers is allowed (RFC 7540 §8.1.2.2)");
    }

    #[test]
    fn rfc8441_s5_header_names_are_lowercase() {
        let options = ClientOptions {
            origin: Some("https://a.example".into()),
            extra_headers: vec![("X-Trace-ID".into(), "Abc".into())],
            ..options(&["chat"], &["permessage-deflate"])
        };
        let handshake = request("ws://example.com/", &options);
        for (name, _) in handshake.headers() {
            assert_eq!(name, &name.to_ascii_lowercase());
        }
        assert_eq!(header(&handshake, "x-trace-id"), Some("Abc"), "values keep their case");
    }

    #[test]
    fn rfc8441_s5_invalid_options_are_refused_as_over_http1() {
        for protocols in [&["a b"][..], &[""], &["chat", "chat"]] {
            let result = H2ClientHandshake::new(false, "h", "/", &options(protocols, &[]));
            assert!(matches!(result, Err(HandshakeError::MalformedHttp(_))), "{protocols:?}");
        }
        let origin = ClientOptions { origin: Some("http://a\nb".into()), ..Default::default() };
        assert!(matches!(H2ClientHandshake::new(false, "h", "/", &origin), Err(HandshakeError::MalformedHttp(_))));
        let extra = ClientOptions { extra_headers: vec![("X".into(), "a\r\nb: c".into())], ..Default::default() };
        assert!(matches!(H2ClientHandshake::new(false, "h", "/", &extra), Err(HandshakeError::MalformedHttp(_))));
        for (authority, path) in [("", "/"), ("a b", "/"), ("h", ""), ("h", "chat"), ("h", "/a b")] {
            let result = H2ClientHandshake::new(false, authority, path, &ClientOptions::default());
            assert!(matches!(result, Err(HandshakeError::InvalidUri(_))), "{authority:?} {path:?}");
        }
    }

    #[test]
    fn rfc8441_s5_200_accepts_without_an_accept_key() {
        let response = outcome(
            &["chat", "superchat"],
            &["permessage-deflate; client_max_window_bits"],
            &[
                ("sec-websocket-protocol", "superchat"),
                ("sec-websocket-extensions", "permessage-deflate; client_max_window_bits=15"),
                ("server", "test"),
            ],
        )
        .unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.subprotocol.as_deref(), Some("superchat"));
        assert_eq!(response.extensions, ["permessage-deflate; client_max_window_bits=15"]);
        assert_eq!(response.header("Server"), Some(&b"test"[..]));
        // No header at all: no subprotocol, no extension.
        let bare = outcome(&["chat"], &["permessage-deflate"], &[]).unwrap();
        assert_eq!((bare.subprotocol, bare.extensions.len()), (None, 0));
    }

    #[test]
    fn rfc8441_s5_status_other_than_200_is_a_refusal() {
        let handshake = request("ws://example.com/", &ClientOptions::default());
        for status in [101, 204, 301, 400, 404, 426, 501, 503] {
            let headers = answer(&[("location", "wss://other.example/"), ("content-type", "text/plain")]);
            match handshake.check_response(status, headers) {
                Err(HandshakeError::Refused(refusal)) => {
                    assert_eq!(refusal.status(), status);
                    assert_eq!(refusal.response.header("location"), Some(&b"wss://other.example/"[..]));
                    assert!(refusal.body.is_empty());
                }
                other => panic!("{status}: {other:?}"),
            }
        }
    }

    #[test]
    fn rfc8441_s5_unoffered_subprotocol_fails_as_in_rfc6455_s4_1() {
        let chat = [("sec-websocket-protocol", "chat")];
        assert_eq!(outcome(&[], &[], &chat), Err(HandshakeError::UnofferedSubprotocol));
        assert_eq!(outcome(&["Chat"], &[], &chat), Err(HandshakeError::UnofferedSubprotocol), "case-sensitive");
        assert_eq!(
            outcome(&["chat", "superchat"], &[], &[("sec-websocket-protocol", "chat, superchat")]),
            Err(HandshakeError::UnofferedSubprotocol)
        );
        assert_eq!(outcome(&["chat"], &[], &[chat[0], chat[0]]), Err(HandshakeError::UnofferedSubprotocol));
        assert_eq!(outcome(&["x", "chat"], &[], &chat).unwrap().subprotocol.as_deref(), Some("chat"));
    }

    #[test]
    fn rfc8441_s5_unoffered_or_malformed_extension_fails_as_in_rfc6455_s4_1() {
        let deflate = [("sec-websocket-extensions", "permessage-deflate")];
        assert_eq!(outcome(&[], &[], &deflate), Err(HandshakeError::UnofferedExtension));
        assert_eq!(outcome(&[], &["x-foo"], &deflate), Err(HandshakeError::UnofferedExtension));
        let bad = [("sec-websocket-extensions", "permessage-deflate;")];
        assert!(matches!(outcome(&[], &["permessage-deflate"], &bad), Err(HandshakeError::MalformedHttp(_))));
        assert!(outcome(&[], &["permessage-deflate"], &deflate).is_ok());
    }

    #[test]
    fn rfc8441_s5_negotiated_deflate_configures_the_connection_as_over_http1() {
        let deflate = DeflateConfig::default();
        let handshake = request("ws://example.com/", &options(&[], &[&deflate.offer().to_string()]));
        let response = handshake
            .check_response(
                200,
                answer(&[("sec-websocket-extensions", "permessage-deflate; server_no_context_takeover")]),
            )
            .unwrap();
        let config =
            connection_config(Config::client(), Completed::Client { response: &response, deflate: Some(&deflate) })
                .unwrap();
        assert_eq!(config.role, Role::Client);
        assert!(config.deflate().is_some_and(|d| d.params.server_no_context_takeover));
        assert_eq!(config.allowed_rsv_bits(), 0x40);
    }
}
