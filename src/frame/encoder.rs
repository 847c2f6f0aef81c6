//! Frame encoding (RFC 6455 §5.2).
