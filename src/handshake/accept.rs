//! The `Sec-WebSocket-Accept` value (RFC 6455 §4.2.2 step 5.4, checked by the client in §4.1).
//!
//! The server proves it read the client's handshake by hashing the client's key, exactly as sent
//! (the base64 text, not the decoded bytes), together with a fixed GUID.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};

/// The GUID that §1.3 and §4.2.2 append to the client's key.
pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `base64(SHA-1(key ++ GUID))`, the value of `Sec-WebSocket-Accept` for `key`, the client's
/// `Sec-WebSocket-Key` as sent (base64 text, leading and trailing whitespace removed).
///
/// ```
/// use rfc6455::handshake::accept_key;
/// assert_eq!(accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept_key(key: &[u8]) -> String {
    // RFC 6455 §4.2.2 step 5.4: SHA-1 of key ++ GUID, base64-encoded.
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(GUID.as_bytes());
    STANDARD.encode(sha.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s1_3_rfc_example_key_gives_rfc_accept_value() {
        assert_eq!(accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn s4_2_2_accept_is_base64_of_a_20_byte_sha1() {
        let accept = accept_key(b"x3JJHMbDL1EzLkh9GBhXDw==");
        assert_eq!(accept, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
        assert_eq!(accept.len(), 28);
    }

    #[test]
    fn s4_2_2_key_is_hashed_as_text_not_decoded() {
        // Same 16 decoded bytes, different text (non-canonical trailing bits): different value.
        assert_ne!(accept_key(b"AQIDBAUGBwgJCgsMDQ4PEA=="), accept_key(b"AQIDBAUGBwgJCgsMDQ4PEC=="));
    }
}
