//! Extensions (RFC 6455 §9): the `Sec-WebSocket-Extensions` header and the extensions this
//! crate implements.
//!
//! The header is a comma-separated list of extensions, each a name followed by
//! `;`-separated parameters, with or without a value (§9.1):
//!
//! ```text
//! extension-list  = 1#extension
//! extension       = extension-token *( ";" extension-param )
//! extension-param = token [ "=" (token | quoted-string) ]
//! ```
//!
//! [`parse_extensions`] reads that grammar into [`Extension`]s (several extensions, several
//! offers of one extension, quoted values, any whitespace); [`Extension`]'s `Display` writes it
//! back. The one extension implemented is permessage-deflate (RFC 7692): [`permessage_deflate`]
//! negotiates it, [`compression`] does the work, and the connection uses the RSV1 bit it claims.

pub mod compression;
pub mod permessage_deflate;

use std::fmt;

use crate::error::HandshakeError;

/// One element of a `Sec-WebSocket-Extensions` list: a name and its parameters, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// The extension's name, e.g. `permessage-deflate`.
    pub name: String,
    /// The parameters, each a name and an optional value (quoted values are unescaped).
    pub params: Vec<(String, Option<String>)>,
}

impl Extension {
    /// An extension with no parameters.
    pub fn new(name: &str) -> Self {
        Extension { name: name.to_owned(), params: Vec::new() }
    }

    /// Add a parameter.
    pub fn with_param(mut self, name: &str, value: Option<&str>) -> Self {
        self.params.push((name.to_owned(), value.map(str::to_owned)));
        self
    }
}

impl fmt::Display for Extension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        for (name, value) in &self.params {
            match value {
                Some(value) => write!(f, "; {name}={value}")?,
                None => write!(f, "; {name}")?,
            }
        }
        Ok(())
    }
}

/// Write a list of extensions as one header value.
pub fn format_extensions(extensions: &[Extension]) -> String {
    extensions.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// Parse one `Sec-WebSocket-Extensions` header value (RFC 6455 §9.1). Empty list elements
/// (`a, , b`) are allowed, as the `#` rule of RFC 7230 §7 allows them.
pub fn parse_extensions(value: &str) -> Result<Vec<Extension>, HandshakeError> {
    let mut cursor = Cursor { bytes: value.as_bytes(), pos: 0 };
    let mut extensions = Vec::new();
    loop {
        cursor.skip_whitespace();
        if cursor.eat(b',') {
            continue;
        }
        if cursor.at_end() {
            return Ok(extensions);
        }
        let mut extension = Extension { name: cursor.token()?, params: Vec::new() };
        loop {
            cursor.skip_whitespace();
            if !cursor.eat(b';') {
                break;
            }
            cursor.skip_whitespace();
            let name = cursor.token()?;
            cursor.skip_whitespace();
            let value = if cursor.eat(b'=') {
                cursor.skip_whitespace();
                Some(if cursor.peek() == Some(b'"') { cursor.quoted_token()? } else { cursor.token()? })
            } else {
                None
            };
            extension.params.push((name, value));
        }
        extensions.push(extension);
        cursor.skip_whitespace();
        if !cursor.at_end() && !cursor.eat(b',') {
            return Err(malformed());
        }
    }
}

fn malformed() -> HandshakeError {
    HandshakeError::MalformedHttp("Sec-WebSocket-Extensions does not follow RFC 6455 §9.1")
}

/// A `tchar` of RFC 7230 §3.2.6: the characters of a token.
fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn token(&mut self) -> Result<String, HandshakeError> {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(malformed());
        }
        // Only tchar bytes were taken, all ASCII.
        Ok(String::from_utf8_lossy(&self.bytes[start..self.pos]).into_owned())
    }

    /// RFC 6455 §9.1: "When using the quoted-string syntax variant, the value after
    /// quoted-string unescaping MUST conform to the 'token' ABNF."
    fn quoted_token(&mut self) -> Result<String, HandshakeError> {
        self.pos += 1; // the opening quote
        let mut value = String::new();
        loop {
            match self.peek() {
                None => return Err(malformed()),
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    let escaped = self.bytes.get(self.pos + 1).copied().ok_or_else(malformed)?;
                    value.push(char::from(escaped));
                    self.pos += 2;
                }
                Some(byte) => {
                    value.push(char::from(byte));
                    self.pos += 1;
                }
            }
        }
        if value.is_empty() || !value.bytes().all(is_tchar) {
            return Err(malformed());
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Params = Vec<(String, Option<String>)>;

    fn names_and_params(value: &str) -> Vec<(String, Params)> {
        parse_extensions(value).expect("valid").into_iter().map(|e| (e.name, e.params)).collect()
    }

    #[test]
    fn s9_1_several_extensions_and_offers_with_parameters() {
        let parsed = names_and_params(
            "permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate,x-foo",
        );
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed[0].0, "permessage-deflate");
        assert_eq!(
            parsed[0].1,
            vec![("client_max_window_bits".into(), None), ("server_max_window_bits".into(), Some("10".into()))]
        );
        assert_eq!(parsed[1], ("permessage-deflate".into(), vec![]));
        assert_eq!(parsed[2], ("x-foo".into(), vec![]));
    }

    #[test]
    fn s9_1_whitespace_and_empty_elements_are_allowed() {
        let parsed = names_and_params(" ,\tpermessage-deflate ;  client_max_window_bits = 12 ,, ");
        assert_eq!(
            parsed,
            vec![("permessage-deflate".into(), vec![("client_max_window_bits".into(), Some("12".into()))])]
        );
        assert!(parse_extensions("").unwrap().is_empty());
    }

    #[test]
    fn s9_1_quoted_values_are_unescaped_and_must_be_tokens() {
        let parsed = names_and_params(r#"foo; bar="baz", foo; bar="b\az""#);
        assert_eq!(parsed[0].1, vec![("bar".into(), Some("baz".into()))]);
        assert_eq!(parsed[1].1, vec![("bar".into(), Some("baz".into()))]);
        assert!(parse_extensions(r#"foo; bar="two words""#).is_err());
        assert!(parse_extensions(r#"foo; bar="""#).is_err());
        assert!(parse_extensions(r#"foo; bar="unterminated"#).is_err());
    }

    #[test]
    fn s9_1_malformed_lists_are_refused() {
        for bad in ["foo;", "foo; =1", "foo bar", ";foo", "foo; bar=", "foo; bar=1 2", "f\u{e9}e", "foo, ;"] {
            assert!(parse_extensions(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn s9_1_display_round_trips() {
        let extensions = vec![
            Extension::new("permessage-deflate").with_param("client_max_window_bits", None),
            Extension::new("permessage-deflate").with_param("server_max_window_bits", Some("9")),
        ];
        let header = format_extensions(&extensions);
        assert_eq!(header, "permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits=9");
        assert_eq!(parse_extensions(&header).unwrap(), extensions);
    }
}
