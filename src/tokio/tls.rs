//! TLS for `wss://` in the async layer (features `tokio` and `tls`): tokio-rustls under the
//! WebSocket, with the blocking layer's configurations and error names.
//!
//! The certificates, roots and keys are configured as for the blocking layer
//! ([`crate::blocking::tls`]: `default_client_config`, `client_config_with_roots`,
//! `server_config_from_pem_files`). [`connect`] sends the host as SNI and verifies the server's
//! certificate; a failure is an [`Error::Tls`] whose [`TlsErrorKind`] names the reason
//! ([`TlsErrorKind::UnknownIssuer`], [`TlsErrorKind::WrongHostName`], ...). [`accept`] runs the
//! server side; a plain HTTP request on the TLS port gets a `400` in plain text saying so.
//!
//! ```no_run
//! # async fn run() -> Result<(), rfc6455::Error> {
//! use rfc6455::blocking::tls::server_config_from_pem_files;
//! use rfc6455::tokio::{ServerConfig, accept, tls};
//! let tls_config = server_config_from_pem_files("cert.pem", "key.pem")?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9443").await?;
//! let (sock, _) = listener.accept().await?;
//! let stream = tls::accept(sock, tls_config).await?; // TLS first,
//! let mut ws = accept(stream, &ServerConfig::default()).await?; // then the WebSocket handshake
//! ws.send_text("hello over TLS").await?;
//! # Ok(())
//! # }
//! ```
//!
//! A TLS session is one state machine for both directions; tokio-rustls keeps it inside the
//! stream, and [`WebSocket::split`](super::WebSocket::split) shares the stream under the
//! halves' lock, so split halves work over TLS unchanged.

use std::io;
use std::sync::Arc;

use ::tokio::io::AsyncWriteExt;
use ::tokio::net::TcpStream;
use rustls::pki_types::ServerName;

use crate::blocking::tls::{ALERT_RECORD, HANDSHAKE_RECORD, PLAIN_ON_TLS_PORT, tls_error};
use crate::error::{Error, TlsError, TlsErrorKind};

/// The TLS stream of a client connection.
pub type ClientTlsStream = tokio_rustls::client::TlsStream<TcpStream>;
/// The TLS stream of a server connection.
pub type ServerTlsStream = tokio_rustls::server::TlsStream<TcpStream>;

/// Run the client side of the TLS handshake on `sock` for `host` (sent as SNI, and the name the
/// certificate must be valid for). Bound it with a timeout: [`super::connect`] does.
pub async fn connect(sock: TcpStream, host: &str, config: Arc<rustls::ClientConfig>) -> Result<ClientTlsStream, Error> {
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| Error::Tls(TlsError::new(TlsErrorKind::Config, format!("server name {host:?}: {e}"))))?;
    check_first_byte(&sock, false).await?;
    tokio_rustls::TlsConnector::from(config).connect(name, sock).await.map_err(named)
}

/// Run the server side of the TLS handshake on an accepted socket. A plain HTTP request gets a
/// `400` saying the port speaks TLS, and [`Error::Tls`] with [`TlsErrorKind::NotTls`]. Bound it
/// with a timeout (`tokio::time::timeout`): a silent peer would hold it forever.
pub async fn accept(mut sock: TcpStream, config: Arc<rustls::ServerConfig>) -> Result<ServerTlsStream, Error> {
    if let Err(error) = check_first_byte(&sock, true).await {
        if matches!(&error, Error::Tls(e) if e.detail.starts_with("a plain-text request")) {
            let _ = sock.write_all(PLAIN_ON_TLS_PORT).await;
            let _ = sock.shutdown().await;
        }
        return Err(error);
    }
    tokio_rustls::TlsAcceptor::from(config).accept(sock).await.map_err(named)
}

/// Look at the peer's first byte without taking it: a TLS peer starts with a handshake record
/// (or an alert); plain HTTP means the peer speaks `ws://` or `http://`.
async fn check_first_byte(sock: &TcpStream, server: bool) -> Result<(), Error> {
    if !server {
        // The client speaks first; the server's first byte comes after our ClientHello.
        return Ok(());
    }
    let mut first = [0u8; 1];
    let n = sock.peek(&mut first).await?;
    if n == 0 || matches!(first[0], HANDSHAKE_RECORD | ALERT_RECORD) {
        return Ok(());
    }
    let detail = if first[0].is_ascii_uppercase() {
        "a plain-text request (http:// or ws://?) arrived on a TLS port; answered 400"
    } else {
        "the first bytes are not a TLS record"
    };
    Err(Error::Tls(TlsError::new(TlsErrorKind::NotTls, format!("{detail}; first byte 0x{:02x}", first[0]))))
}

/// Turn tokio-rustls's I/O error into the named TLS failure it carries, if it carries one.
fn named(e: io::Error) -> Error {
    let named = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()).map(tls_error);
    match named {
        Some(tls) => Error::Tls(tls),
        None if e.kind() == io::ErrorKind::UnexpectedEof => Error::Tls(TlsError::new(
            TlsErrorKind::Handshake,
            "the peer closed the connection during the TLS handshake",
        )),
        None => Error::Io(e),
    }
}
