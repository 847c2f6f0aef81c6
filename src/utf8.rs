//! UTF-8 validation (RFC 6455 §8.1).

/// Validate a whole buffer.
pub fn validate_str(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}
