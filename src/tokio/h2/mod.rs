//! WebSockets over HTTP/2 (RFC 8441) in the async layer (feature `h2`).

pub mod client;
pub mod stream;
