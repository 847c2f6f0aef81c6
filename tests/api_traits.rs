//! The traits users of the crate count on, checked at compile time (a type that loses one
//! fails to build this test): `Debug` on every public type, `Send` and `Sync` where a value may
//! move to or be shared with another thread, `std::error::Error + Send + Sync + 'static` on every
//! error (so they fit in `Box<dyn Error + Send + Sync>`), the value traits on the small value
//! types; and at run time, the `source()` chain from `Error` to the error underneath.

use std::error::Error as StdError;
use std::fmt::Debug;
use std::hash::Hash;
use std::net::TcpStream;

use rfc6455::blocking::{
    ClientConfig, Decision, MaybeTlsStream, Pending, Reader, Server, ServerConfig, ShutdownHandle, Timeouts, WebSocket,
    Writer,
};
use rfc6455::extensions::Extension;
use rfc6455::extensions::compression::{CompressError, Deflater, Inflater};
use rfc6455::extensions::permessage_deflate::{Deflate, DeflateConfig, DeflateParams};
use rfc6455::frame::decoder::{FrameDecoder, Step};
use rfc6455::frame::{FrameHeader, OpCode};
use rfc6455::handshake::{Completed, Refusal, Request, Response};
use rfc6455::message::MessageAssembler;
use rfc6455::utf8::{Utf8Error, Utf8Validator};
use rfc6455::{
    ClientHandshake, ClientOptions, CloseCode, CloseState, Config, Connection, Deadline, Delivery, Error, Event,
    HandshakeError, Keepalive, Limits, MaskKeyGen, MaskKeySource, Message, MessageKind, ProtocolError, Role,
    ServerHandshake, Timers, TlsError, TlsErrorKind, UsageError, WsUri,
};

fn debug<T: Debug>() {}
fn send_sync<T: Send + Sync>() {}
fn send<T: Send>() {}
fn error<T: StdError + Send + Sync + 'static>() {}
/// Plain values: copied, compared and used as map keys.
fn value<T: Copy + Eq + Hash + Debug>() {}

#[test]
fn every_public_type_is_debug() {
    debug::<ClientConfig>();
    debug::<Decision>();
    debug::<MaybeTlsStream>();
    debug::<Pending>();
    debug::<Reader>();
    debug::<Server>();
    debug::<ShutdownHandle>();
    debug::<rfc6455::blocking::connecting::ConnectingGuard>();
    debug::<rfc6455::connection::Ready>();
    #[cfg(feature = "tls")]
    debug::<rfc6455::blocking::tls::TlsStream>();
    debug::<Refusal>();
    debug::<rfc6455::handshake::h2_server::ConnectRequest>();
    debug::<rfc6455::handshake::h2_server::PseudoHeaders>();
    debug::<rfc6455::handshake::h2_server::H2Response>();
    #[cfg(feature = "h2")]
    debug::<rfc6455::tokio::h2::H2Stream>();
    debug::<Completed<'static>>();
    debug::<ServerConfig>();
    debug::<Timeouts>();
    debug::<WebSocket<TcpStream>>();
    debug::<Writer>();
    debug::<Extension>();
    debug::<CompressError>();
    debug::<Deflater>();
    debug::<Inflater>();
    debug::<Deflate>();
    debug::<DeflateConfig>();
    debug::<DeflateParams>();
    debug::<FrameDecoder>();
    debug::<Step>();
    debug::<FrameHeader>();
    debug::<OpCode>();
    debug::<Request>();
    debug::<Response>();
    debug::<MessageAssembler>();
    debug::<Utf8Error>();
    debug::<Utf8Validator>();
    debug::<ClientHandshake>();
    debug::<ClientOptions>();
    debug::<CloseCode>();
    debug::<CloseState>();
    debug::<Config>();
    debug::<rfc6455::observe::FrameLog>();
    debug::<rfc6455::observe::FrameRecord>();
    debug::<rfc6455::observe::MessageRecord>();
    debug::<rfc6455::observe::HandshakeRecord<'static>>();
    debug::<rfc6455::observe::LogEntry>();
    debug::<Connection>();
    debug::<Delivery>();
    debug::<Error>();
    debug::<Event<'static>>();
    debug::<HandshakeError>();
    debug::<Limits>();
    debug::<MaskKeyGen>();
    debug::<MaskKeySource>();
    debug::<Message>();
    debug::<MessageKind>();
    debug::<ProtocolError>();
    debug::<Role>();
    debug::<ServerHandshake>();
    debug::<TlsError>();
    debug::<Timers>();
    debug::<Keepalive>();
    debug::<Deadline>();
    debug::<TlsErrorKind>();
    debug::<UsageError>();
    debug::<WsUri>();
}

#[test]
fn connections_and_their_parts_move_between_threads_and_are_shared_safely() {
    // The sans-IO core: one connection per task or thread, configuration shared.
    send_sync::<Connection>();
    send_sync::<Config>();
    send_sync::<rfc6455::observe::FrameLog>();
    send_sync::<rfc6455::observe::FrameRecord>();
    send_sync::<Event<'static>>();
    send_sync::<Message>();
    send_sync::<ClientHandshake>();
    send_sync::<ServerHandshake>();
    send_sync::<Request>();
    send_sync::<Response>();
    send_sync::<Refusal>();
    send_sync::<rfc6455::handshake::h2_server::ConnectRequest>();
    send_sync::<rfc6455::handshake::h2_server::H2Response>();
    #[cfg(feature = "h2")]
    send_sync::<rfc6455::tokio::h2::H2Stream>();
    #[cfg(feature = "h2")]
    send_sync::<rfc6455::tokio::WebSocket<rfc6455::tokio::h2::H2Stream>>();
    send_sync::<FrameDecoder>();
    send_sync::<MessageAssembler>();
    send_sync::<Utf8Validator>();
    send_sync::<Deflater>();
    send_sync::<Inflater>();
    send_sync::<MaskKeyGen>();
    // The blocking layer: a server accepting on one thread and handing each connection to
    // another; a split connection's reader and writer on two threads.
    send_sync::<Server>();
    send_sync::<ShutdownHandle>();
    #[cfg(feature = "tls")]
    send_sync::<rfc6455::blocking::tls::TlsStream>();
    send_sync::<Pending>();
    send_sync::<WebSocket<TcpStream>>();
    send_sync::<WebSocket<MaybeTlsStream>>();
    send_sync::<ClientConfig>();
    send_sync::<ServerConfig>();
    send_sync::<Reader>();
    send_sync::<Writer>();
    send::<Decision>();
}

#[test]
fn errors_are_std_errors_that_cross_threads() {
    error::<Error>();
    error::<ProtocolError>();
    error::<HandshakeError>();
    error::<UsageError>();
    error::<TlsError>();
    error::<Utf8Error>();
    error::<CompressError>();
    // So `?` works in functions returning a boxed error.
    let boxed: Box<dyn StdError + Send + Sync> = Box::new(Error::Closed);
    assert_eq!(boxed.to_string(), "connection closed");
}

#[test]
fn small_values_are_copy_eq_hash() {
    value::<CloseCode>();
    value::<CloseState>();
    value::<Role>();
    value::<rfc6455::observe::Direction>();
    value::<rfc6455::observe::LengthForm>();
    value::<MessageKind>();
    value::<OpCode>();
    value::<Delivery>();
    value::<ProtocolError>();
    value::<UsageError>();
    value::<TlsErrorKind>();
    value::<Timers>();
    value::<Keepalive>();
    value::<Deadline>();
}

/// A peer's broken frame, through the public API: `Error::Protocol` whose `source()` is the
/// `ProtocolError` with the close code the peer was sent.
#[test]
fn protocol_error_is_the_source_of_the_connection_error() {
    let mut server = Connection::new(Config::server());
    // A masked text frame whose payload is 0xff: never valid UTF-8 (RFC 6455 §8.1).
    let mask = [1, 2, 3, 4];
    server.receive(&[0x81, 0x81, mask[0], mask[1], mask[2], mask[3], 0xff ^ mask[0]]).unwrap();
    let err = server.next_event().expect_err("invalid UTF-8 fails the connection");
    assert!(matches!(err, Error::Protocol(ProtocolError::InvalidUtf8)), "{err:?}");
    let source = err.source().expect("Error::Protocol has a source");
    let protocol = source.downcast_ref::<ProtocolError>().expect("the source is the ProtocolError");
    assert_eq!(protocol.close_code(), CloseCode::INVALID_PAYLOAD);
    // The chain ends there.
    assert!(source.source().is_none());
}

/// A refused handshake: `Error::Handshake` whose source is the `HandshakeError` with its
/// HTTP status.
#[test]
fn handshake_error_is_the_source_of_the_connection_error() {
    let request = b"POST /chat HTTP/1.1\r\nHost: example.com\r\n\r\n";
    let parsed = ServerHandshake::new(16 << 10).receive(request).unwrap().expect("a whole request");
    // RFC 6455 §4.1: the method of the opening handshake MUST be GET.
    let err: Error = parsed.validate_websocket().expect_err("a POST is refused").into();
    let source = err.source().expect("Error::Handshake has a source");
    let handshake = source.downcast_ref::<HandshakeError>().expect("the source is the HandshakeError");
    assert_eq!(handshake.http_status(), 405);
}

/// An I/O failure of the blocking layer keeps the `io::Error`, kind included, as its source.
#[test]
fn io_error_is_the_source_of_the_connection_error() {
    let err = Error::from(std::io::Error::new(std::io::ErrorKind::TimedOut, "read timed out"));
    let io = err.source().and_then(|s| s.downcast_ref::<std::io::Error>()).expect("the io::Error is the source");
    assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
    // States with nothing underneath have no source.
    assert!(Error::Closed.source().is_none());
    assert!(Error::ConnectionReset.source().is_none());
}
