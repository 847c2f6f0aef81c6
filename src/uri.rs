//! WebSocket URIs (RFC 6455 §3): `ws://host[:port]/path?query` and `wss://...`.
//!
//! [`WsUri::parse`] splits a URI into what a client needs to connect and to build its
//! handshake (§4.1): the /secure/ flag, /host/, /port/ and /resource name/. It checks the
//! characters of every part against RFC 3986, so whatever it returns can go into a request
//! line and a `Host` header as is.

use std::fmt;
use std::str::FromStr;

use crate::error::HandshakeError;

/// A parsed `ws://` or `wss://` URI (§3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WsUri {
    /// The /secure/ flag: the scheme is `wss` (connect with TLS, §4.1 client requirement 5).
    pub secure: bool,
    /// The /host/: a name or IPv4 address as written, or an IPv6 address *without* its
    /// brackets (`::1`), the form DNS resolvers and TLS server names take.
    pub host: String,
    /// The /port/: as written, or 80 for `ws` and 443 for `wss`.
    pub port: u16,
    /// The /resource name/: the path (`/` if empty), then `?query` if the query is not empty.
    pub resource: String,
}

impl WsUri {
    /// Parse a WebSocket URI. The scheme is matched case-insensitively.
    ///
    /// Refused with [`HandshakeError::InvalidUri`]: another scheme, a fragment (`#`, §3: MUST
    /// NOT be used), userinfo (`user@`, which has no meaning here and is a phishing vector),
    /// an empty host, a bad port (not 1-65535), an unbracketed or invalid IPv6 address, and
    /// characters RFC 3986 does not allow (spaces, controls, non-ASCII: percent-encode them).
    ///
    /// ```
    /// use rfc6455::uri::WsUri;
    /// let uri = WsUri::parse("wss://[::1]:9001/chat?room=1").unwrap();
    /// assert!(uri.secure);
    /// assert_eq!(uri.host, "::1");
    /// assert_eq!(uri.port, 9001);
    /// assert_eq!(uri.resource, "/chat?room=1");
    /// assert_eq!(uri.host_header(), "[::1]:9001");
    /// ```
    pub fn parse(uri: &str) -> Result<WsUri, HandshakeError> {
        // RFC 6455 §3: fragment identifiers MUST NOT be used on WebSocket URIs; a literal "#"
        // MUST be escaped as %23.
        if uri.contains('#') {
            return Err(HandshakeError::InvalidUri("fragment identifiers (#) are not allowed"));
        }
        let (scheme, rest) = uri.split_once("://").ok_or(HandshakeError::InvalidUri("expected ws:// or wss://"))?;
        // RFC 6455 §3: the scheme is "ws" or "wss"; secure if it matches "wss" case-insensitively.
        let (secure, default_port) = if scheme.eq_ignore_ascii_case("ws") {
            (false, 80)
        } else if scheme.eq_ignore_ascii_case("wss") {
            (true, 443)
        } else {
            return Err(HandshakeError::InvalidUri("the scheme must be ws or wss"));
        };

        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path_and_query) = rest.split_at(authority_end);
        if authority.contains('@') {
            return Err(HandshakeError::InvalidUri("userinfo (user@host) is not allowed"));
        }
        let (host, port) = split_host_port(authority)?;
        let port = match port {
            // RFC 3986 §3.2.3: an empty port means the scheme's default.
            None | Some("") => default_port,
            Some(digits) => parse_port(digits)?,
        };

        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path_and_query, None),
        };
        // RFC 3986 §3.3 path-abempty: pchars and "/".
        if !valid_chars(path, b":@/") {
            return Err(HandshakeError::InvalidUri("invalid character in the path"));
        }
        // RFC 3986 §3.4 query: pchars, "/" and "?".
        if let Some(query) = query
            && !valid_chars(query, b":@/?")
        {
            return Err(HandshakeError::InvalidUri("invalid character in the query"));
        }
        // RFC 6455 §3: resource name = "/" if the path is empty, the path, "?" and the query if
        // the query is not empty.
        let mut resource = String::with_capacity(path_and_query.len() + 1);
        resource.push_str(if path.is_empty() { "/" } else { path });
        if let Some(query) = query.filter(|q| !q.is_empty()) {
            resource.push('?');
            resource.push_str(query);
        }

        Ok(WsUri { secure, host: host.to_owned(), port, resource })
    }

    /// Whether the port is the scheme's default (80 for `ws`, 443 for `wss`).
    pub fn is_default_port(&self) -> bool {
        self.port == if self.secure { 443 } else { 80 }
    }

    /// The host as it goes into a URI: IPv6 addresses in brackets.
    fn bracketed_host(&self) -> String {
        if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() }
    }

    /// The value of the `Host` header (§4.1 item 4): the host, plus `:port` only when the port
    /// is not the default; IPv6 addresses in brackets.
    pub fn host_header(&self) -> String {
        if self.is_default_port() { self.bracketed_host() } else { format!("{}:{}", self.bracketed_host(), self.port) }
    }

    /// `host:port` for connecting, e.g. with `std::net::TcpStream::connect` (which resolves
    /// names): always with the port, IPv6 addresses in brackets (`[::1]:80`).
    pub fn socket_addr_string(&self) -> String {
        format!("{}:{}", self.bracketed_host(), self.port)
    }
}

impl FromStr for WsUri {
    type Err = HandshakeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WsUri::parse(s)
    }
}

impl fmt::Display for WsUri {
    /// The URI in normal form: lowercase scheme, default port left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.secure { "wss" } else { "ws" };
        write!(f, "{scheme}://{}{}", self.host_header(), self.resource)
    }
}

/// Split an authority into host (without IPv6 brackets) and the text after its `:`, if any.
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), HandshakeError> {
    if let Some(bracketed) = authority.strip_prefix('[') {
        // RFC 3986 §3.2.2: IP-literal = "[" ( IPv6address / IPvFuture ) "]".
        let (literal, after) =
            bracketed.split_once(']').ok_or(HandshakeError::InvalidUri("unterminated IPv6 address"))?;
        if literal.parse::<core::net::Ipv6Addr>().is_err() {
            return Err(HandshakeError::InvalidUri("invalid IPv6 address"));
        }
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or(HandshakeError::InvalidUri("unexpected text after ]"))?),
        };
        return Ok((literal, port));
    }
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    if host.is_empty() {
        return Err(HandshakeError::InvalidUri("missing host"));
    }
    // RFC 3986 §3.2.2: reg-name = *( unreserved / pct-encoded / sub-delims ); an IPv4 address
    // fits that too. A ':' here is an IPv6 address without brackets.
    if !valid_chars(host, b"") {
        return Err(HandshakeError::InvalidUri("invalid character in the host (IPv6 needs [brackets])"));
    }
    Ok((host, port))
}

/// RFC 3986 §3.2.3: port = *DIGIT; 0 cannot be connected to.
fn parse_port(digits: &str) -> Result<u16, HandshakeError> {
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HandshakeError::InvalidUri("the port must be a number"));
    }
    match digits.parse::<u16>() {
        Ok(0) | Err(_) => Err(HandshakeError::InvalidUri("the port must be 1 to 65535")),
        Ok(port) => Ok(port),
    }
}

/// Whether `s` holds only RFC 3986 unreserved characters, sub-delims, `%XX` escapes, and the
/// bytes in `extra`.
fn valid_chars(s: &str, extra: &[u8]) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            // RFC 3986 §2.1: pct-encoded = "%" HEXDIG HEXDIG.
            match bytes.get(i + 1..i + 3) {
                Some([h, l]) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => i += 3,
                _ => return false,
            }
            continue;
        }
        let unreserved = b.is_ascii_alphanumeric() || b"-._~".contains(&b);
        let sub_delim = b"!$&'()*+,;=".contains(&b);
        if !(unreserved || sub_delim || extra.contains(&b)) {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> WsUri {
        WsUri::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn invalid(s: &str) {
        assert!(matches!(WsUri::parse(s), Err(HandshakeError::InvalidUri(_))), "{s:?} should be refused");
    }

    #[test]
    fn s3_ws_defaults_to_port_80_and_resource_slash() {
        let uri = parse("ws://example.com");
        assert_eq!(uri, WsUri { secure: false, host: "example.com".into(), port: 80, resource: "/".into() });
        assert_eq!(uri.host_header(), "example.com");
        assert_eq!(uri.socket_addr_string(), "example.com:80");
        assert!(uri.is_default_port());
    }

    #[test]
    fn s3_wss_defaults_to_port_443_and_is_secure() {
        let uri = parse("wss://example.com/chat");
        assert!(uri.secure);
        assert_eq!(uri.port, 443);
        assert_eq!(uri.resource, "/chat");
        assert_eq!(uri.host_header(), "example.com");
        assert_eq!(uri.socket_addr_string(), "example.com:443");
    }

    #[test]
    fn s3_scheme_is_case_insensitive() {
        assert!(!parse("WS://h/").secure);
        assert!(parse("WsS://h/").secure);
        assert_eq!(parse("wSs://h").port, 443);
    }

    #[test]
    fn s3_explicit_port_goes_into_host_header_unless_default() {
        let uri = parse("ws://example.com:8080/a/b");
        assert_eq!(uri.port, 8080);
        assert_eq!(uri.host_header(), "example.com:8080");
        assert_eq!(uri.socket_addr_string(), "example.com:8080");
        assert_eq!(parse("ws://example.com:80/").host_header(), "example.com");
        assert_eq!(parse("wss://example.com:443/").host_header(), "example.com");
        assert_eq!(parse("wss://example.com:80/").host_header(), "example.com:80");
        assert_eq!(parse("ws://example.com:/").port, 80, "RFC 3986: an empty port is the default");
        assert_eq!(parse("ws://h:065535").port, 65535);
    }

    #[test]
    fn s3_resource_name_is_path_plus_nonempty_query() {
        assert_eq!(parse("ws://h/chat?room=1&x=%20").resource, "/chat?room=1&x=%20");
        assert_eq!(parse("ws://h?q=1").resource, "/?q=1");
        assert_eq!(parse("ws://h:81?q").resource, "/?q");
        assert_eq!(parse("ws://h/p?").resource, "/p", "\"?\" only if the query is not empty");
        assert_eq!(parse("ws://h/a/b/").resource, "/a/b/");
        assert_eq!(parse("ws://h/a:b@c;d=e?f/g?h").resource, "/a:b@c;d=e?f/g?h");
        assert_eq!(parse("ws://h/%23not-a-fragment").resource, "/%23not-a-fragment");
    }

    #[test]
    fn s3_ipv6_literals_keep_brackets_in_host_header() {
        let uri = parse("ws://[::1]/");
        assert_eq!(uri.host, "::1");
        assert_eq!(uri.port, 80);
        assert_eq!(uri.host_header(), "[::1]");
        assert_eq!(uri.socket_addr_string(), "[::1]:80");
        let uri = parse("wss://[2001:db8::7]:9443/x?y");
        assert_eq!(uri.host, "2001:db8::7");
        assert_eq!(uri.port, 9443);
        assert_eq!(uri.resource, "/x?y");
        assert_eq!(uri.host_header(), "[2001:db8::7]:9443");
        assert_eq!(uri.to_string(), "wss://[2001:db8::7]:9443/x?y");
    }

    #[test]
    fn s3_ipv4_and_names_are_accepted() {
        assert_eq!(parse("ws://127.0.0.1:9001").socket_addr_string(), "127.0.0.1:9001");
        assert_eq!(parse("ws://my-host.example_1.com").host, "my-host.example_1.com");
    }

    #[test]
    fn s3_fragments_must_not_be_used() {
        invalid("ws://example.com/chat#frag");
        invalid("ws://example.com/#");
        invalid("ws://example.com#x");
        invalid("ws://example.com/?q=1#x");
    }

    #[test]
    fn s3_other_schemes_are_refused() {
        invalid("http://example.com/");
        invalid("https://example.com/");
        invalid("wss:example.com");
        invalid("ws:/example.com");
        invalid("example.com");
        invalid("");
        invalid("://h");
    }

    #[test]
    fn s3_userinfo_is_refused() {
        invalid("ws://user@example.com/");
        invalid("ws://user:pass@example.com:80/");
    }

    #[test]
    fn s3_bad_hosts_are_refused() {
        invalid("ws://");
        invalid("ws:///path");
        invalid("ws://:80/");
        invalid("ws://::1/");
        invalid("ws://[::1/");
        invalid("ws://[zz::1]/");
        invalid("ws://[]/");
        invalid("ws://[::1]x/");
        invalid("ws://[v1.fe]/");
        invalid("ws://ex ample.com/");
        invalid("ws://exämple.com/");
        invalid("ws://h%zz/");
    }

    #[test]
    fn s3_bad_ports_are_refused() {
        invalid("ws://h:0/");
        invalid("ws://h:65536/");
        invalid("ws://h:99999999999999999999/");
        invalid("ws://h:8o/");
        invalid("ws://h:-1/");
        invalid("ws://h:+80/");
        invalid("ws://h:80:81/");
        invalid("ws://[::1]:x/");
    }

    #[test]
    fn s3_bad_path_or_query_characters_are_refused() {
        invalid("ws://h/a b");
        invalid("ws://h/a\r\nHost: evil");
        invalid("ws://h/%");
        invalid("ws://h/%2");
        invalid("ws://h/%g0");
        invalid("ws://h/ä");
        invalid("ws://h/?q=\"x\"");
        invalid("ws://h/<script>");
    }

    #[test]
    fn s3_display_and_from_str_round_trip() {
        for s in ["ws://h/", "wss://h:8443/a?b", "ws://[::1]:9001/chat"] {
            let uri: WsUri = s.parse().unwrap();
            assert_eq!(uri.to_string(), s);
            assert_eq!(WsUri::parse(&uri.to_string()).unwrap(), uri);
        }
        assert_eq!(parse("WS://h:80").to_string(), "ws://h/");
    }

    #[test]
    fn garbage_never_panics() {
        for b in 0..=255u8 {
            let s = String::from_utf8_lossy(&[b]).into_owned();
            for candidate in
                [s.clone(), format!("ws://{s}"), format!("ws://h:{s}"), format!("ws://[{s}]"), format!("ws://h/{s}")]
            {
                let _ = WsUri::parse(&candidate);
            }
        }
        for c in ['\u{0}', 'é', '€', '𝄞', '[', ']', ':', '%', '@', '?', '/'] {
            for prefix in ["ws://", "ws://h", "ws://[", "ws://[::1]", "ws://h:", "ws://h/", "ws://h/%"] {
                let _ = WsUri::parse(&format!("{prefix}{c}"));
                let _ = WsUri::parse(&format!("{prefix}{c}{c}x"));
            }
        }
    }
}
