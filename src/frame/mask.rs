//! Masking (RFC 6455 §5.3).
