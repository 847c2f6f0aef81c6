//! TLS for `wss://` (feature `tls`): rustls under the blocking layer.
//!
//! The sans-IO core does not know about TLS: the TLS session sits between the socket and the
//! WebSocket bytes, in a [`TlsStream`] that implements [`Transport`] like a `TcpStream` does.
//! [`connect`](super::connect) and [`Server`](super::Server) both hand out a
//! [`MaybeTlsStream`](super::MaybeTlsStream), plain or TLS, so code written for `ws://` runs
//! unchanged over `wss://`.
//!
//! # Client
//!
//! `connect("wss://host:port/path")` sends the host as SNI and verifies the server's
//! certificate against Mozilla's root set ([webpki-roots](https://docs.rs/webpki-roots)) and the
//! host name. To trust a private CA instead, or to set anything rustls offers, put a
//! `rustls::ClientConfig` in [`ClientConfig::tls`](super::ClientConfig::tls):
//!
//! ```no_run
//! use rfc6455::blocking::{ClientConfig, connect_with, tls};
//! let ca = std::fs::read("ca.pem")?;
//! let config = ClientConfig { tls: Some(tls::client_config_with_roots(&ca)?), ..ClientConfig::default() };
//! let (mut ws, _) = connect_with("wss://localhost:9443/", &config)?;
//! ws.send_text("hello")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A certificate that fails verification ends the connect with [`Error::Tls`], whose
//! [`TlsErrorKind`] names the reason: [`TlsErrorKind::UnknownIssuer`],
//! [`TlsErrorKind::WrongHostName`], [`TlsErrorKind::Expired`], ...
//!
//! # Server
//!
//! A server with [`ServerConfig::tls`](super::ServerConfig::tls) set speaks TLS only on its
//! port: every accepted connection runs the TLS handshake, then the WebSocket (or plain HTTPS)
//! request, both within [`Timeouts::handshake`](super::Timeouts::handshake), on the thread that
//! calls [`Pending::handshake`](super::Pending::handshake). A client that sends plain HTTP to
//! the TLS port gets a `400` in plain text saying so; garbage is dropped; either way the
//! handshake returns [`Error::Tls`] with [`TlsErrorKind::NotTls`], and the server goes on.
//!
//! ```no_run
//! use rfc6455::blocking::{Server, ServerConfig, tls};
//! let tls = tls::server_config_from_pem_files("cert.pem", "key.pem")?;
//! let server = Server::bind("127.0.0.1:9443")?.with_config(ServerConfig { tls: Some(tls), ..ServerConfig::default() });
//! for pending in server.incoming() {
//!     let mut ws = pending?.handshake()?; // TLS, then the WebSocket handshake
//!     ws.send_text("hello over TLS")?;
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Full duplex
//!
//! A TLS session is one state machine for both directions, so it cannot be split by cloning
//! the socket. [`WebSocket::split`](super::WebSocket::split) still works for TLS connections:
//! the session lives under the same lock as the WebSocket connection; the reader waits for
//! bytes on the socket (`TcpStream::peek`) without holding it, then takes it to decrypt; the
//! writer takes it to encrypt, and writes the ciphertext after releasing it. Neither direction
//! ever waits on the network while holding the session, so a writer blocked on a full send
//! buffer never stops the reader.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use super::Transport;
use crate::error::{Error, TlsError, TlsErrorKind};

/// The first byte of a TLS handshake record (RFC 8446 §5.1, content type 22).
pub(crate) const HANDSHAKE_RECORD: u8 = 0x16;
/// The first byte of a TLS alert record (content type 21).
pub(crate) const ALERT_RECORD: u8 = 0x15;

/// What a server says to a plain HTTP request on its TLS port.
pub(crate) const PLAIN_ON_TLS_PORT: &[u8] = b"HTTP/1.1 400 Bad Request\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Length: 69\r\n\
Connection: close\r\n\
\r\n\
This port speaks TLS only: connect with wss:// (or https://) instead.\n";

/// The crypto provider every configuration made here uses (ring), named explicitly so that
/// another provider elsewhere in the program cannot make the choice ambiguous.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn config_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Tls(TlsError::new(TlsErrorKind::Config, format!("{what}: {e}")))
}

/// The default client configuration: Mozilla's root certificates (webpki-roots), ALPN
/// `http/1.1`. Built once and shared.
pub fn default_client_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            client_config_from_store(roots).expect("the default protocol versions are supported by ring")
        })
        .clone()
}

/// A client configuration that trusts only the CA certificates in `pem` (one or more
/// `CERTIFICATE` blocks): for a private CA, or a self-signed server certificate.
pub fn client_config_with_roots(pem: &[u8]) -> Result<Arc<rustls::ClientConfig>, Error> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| config_error("reading the CA certificates", e))?;
        roots.add(cert).map_err(|e| config_error("adding a CA certificate", e))?;
    }
    if roots.is_empty() {
        return Err(config_error("reading the CA certificates", "no CERTIFICATE block in the PEM"));
    }
    client_config_from_store(roots)
}

/// [`client_config_with_roots`] from a PEM file.
pub fn client_config_with_roots_file(path: impl AsRef<Path>) -> Result<Arc<rustls::ClientConfig>, Error> {
    let path = path.as_ref();
    let pem = std::fs::read(path).map_err(|e| config_error(&format!("reading {}", path.display()), e))?;
    client_config_with_roots(&pem)
}

fn client_config_from_store(roots: rustls::RootCertStore) -> Result<Arc<rustls::ClientConfig>, Error> {
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error("protocol versions", e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    // A WebSocket handshake is an HTTP/1.1 request (RFC 6455 §4.1; RFC 8441 is for HTTP/2).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A server configuration from a PEM certificate chain (the server's certificate first, then
/// its intermediates) and a PEM private key (PKCS#8, PKCS#1 or SEC1).
pub fn server_config_from_pem(chain: &[u8], key: &[u8]) -> Result<Arc<rustls::ServerConfig>, Error> {
    let chain = CertificateDer::pem_slice_iter(chain)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| config_error("reading the certificate chain", e))?;
    if chain.is_empty() {
        return Err(config_error("reading the certificate chain", "no CERTIFICATE block in the PEM"));
    }
    let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| config_error("reading the private key", e))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error("protocol versions", e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| config_error("the certificate and key", e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// [`server_config_from_pem`] from two PEM files.
pub fn server_config_from_pem_files(
    chain: impl AsRef<Path>,
    key: impl AsRef<Path>,
) -> Result<Arc<rustls::ServerConfig>, Error> {
    let read = |path: &Path| std::fs::read(path).map_err(|e| config_error(&format!("reading {}", path.display()), e));
    server_config_from_pem(&read(chain.as_ref())?, &read(key.as_ref())?)
}

/// Name the reason of a rustls failure.
pub(crate) fn tls_error(e: &rustls::Error) -> TlsError {
    use rustls::CertificateError as C;
    let kind = match e {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::UnknownIssuer => TlsErrorKind::UnknownIssuer,
            C::NotValidForName | C::NotValidForNameContext { .. } => TlsErrorKind::WrongHostName,
            C::Expired | C::ExpiredContext { .. } => TlsErrorKind::Expired,
            C::NotValidYet | C::NotValidYetContext { .. } => TlsErrorKind::NotYetValid,
            C::Revoked => TlsErrorKind::Revoked,
            _ => TlsErrorKind::BadCertificate,
        },
        rustls::Error::AlertReceived(_) => TlsErrorKind::PeerAlert,
        _ => TlsErrorKind::Handshake,
    };
    TlsError::new(kind, e.to_string())
}

/// A TLS session over a TCP socket, client or server side.
///
/// Reading decrypts; writing encrypts and sends; [`Transport::shutdown_write`] sends
/// `close_notify` and then the TCP FIN. A peer that closes TCP without `close_notify` reads
/// as a plain end of stream: the WebSocket closing handshake, not TLS, says whether the end
/// was clean.
#[derive(Debug)]
pub struct TlsStream {
    pub(crate) conn: rustls::Connection,
    pub(crate) sock: TcpStream,
    /// `close_notify` was sent (or tried): the sending side is over, and what could not be
    /// written then is given up on.
    write_shut: bool,
}

impl TlsStream {
    /// The TCP socket underneath (to read its addresses, or shut it from another thread).
    pub fn tcp_stream(&self) -> &TcpStream {
        &self.sock
    }

    /// The TLS session (its negotiated version, cipher suite, ALPN protocol, SNI name).
    pub fn connection(&self) -> &rustls::Connection {
        &self.conn
    }

    /// Take apart into session and socket.
    pub fn into_parts(self) -> (rustls::Connection, TcpStream) {
        (self.conn, self.sock)
    }

    /// Write every pending TLS record to the socket.
    fn write_pending(&mut self) -> io::Result<()> {
        write_pending(&mut self.conn, &mut self.sock)
    }
}

/// Write every pending TLS record of `conn` to `out`.
pub(crate) fn write_pending(conn: &mut rustls::Connection, out: &mut dyn Write) -> io::Result<()> {
    while conn.wants_write() {
        match conn.write_tls(out) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Read plaintext that the session has already decrypted: `Ok(Some(n))` with `n` bytes
/// (0: the peer closed), `Ok(None)` when more TLS records must be read first.
pub(crate) fn read_plaintext(conn: &mut rustls::Connection, buf: &mut [u8]) -> io::Result<Option<usize>> {
    match conn.reader().read(buf) {
        Ok(n) => Ok(Some(n)),
        Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(None),
        // TCP ended without close_notify. WebSocket has its own closing handshake, so this is
        // an ordinary end of stream; the connection decides whether it was a clean one.
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => Ok(Some(0)),
        Err(e) => Err(e),
    }
}

/// Read TLS records from `sock` once (blocking, within its read timeout) and decrypt them.
/// A TLS failure returns `InvalidData` carrying the [`TlsError`]; its alert is left pending
/// for the caller to send.
pub(crate) fn read_records(conn: &mut rustls::Connection, sock: &mut TcpStream) -> io::Result<()> {
    conn.read_tls(sock)?;
    if let Err(e) = conn.process_new_packets() {
        return Err(io::Error::new(ErrorKind::InvalidData, tls_error(&e)));
    }
    Ok(())
}

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(n) = read_plaintext(&mut self.conn, buf)? {
                return Ok(n);
            }
            // Answers the session owes the peer (a key update) go out before we wait.
            self.write_pending()?;
            if let Err(e) = read_records(&mut self.conn, &mut self.sock) {
                let _ = self.write_pending();
                return Err(e);
            }
        }
    }
}

impl Write for TlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // What an earlier call left pending goes first, so buffered records stay bounded.
        self.write_pending()?;
        let n = self.conn.writer().write(buf)?;
        // Errors surface on the next call (or flush): these `n` bytes are taken either way.
        let _ = self.write_pending();
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.write_shut {
            return Ok(());
        }
        self.conn.writer().flush()?;
        self.write_pending()?;
        self.sock.flush()
    }
}

impl Transport for TlsStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.sock.set_read_timeout(timeout)
    }
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.sock.set_write_timeout(timeout)
    }
    fn shutdown_write(&mut self) -> io::Result<()> {
        self.write_shut = true;
        self.conn.send_close_notify();
        let _ = self.write_pending();
        self.sock.shutdown(Shutdown::Write)
    }
}

impl<C, S> Transport for rustls::StreamOwned<C, TcpStream>
where
    C: std::ops::DerefMut + std::ops::Deref<Target = rustls::ConnectionCommon<S>>,
    S: rustls::SideData,
{
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.sock.set_read_timeout(timeout)
    }
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.sock.set_write_timeout(timeout)
    }
    fn shutdown_write(&mut self) -> io::Result<()> {
        self.conn.send_close_notify();
        while self.conn.wants_write() {
            if self.conn.write_tls(&mut self.sock)? == 0 {
                break;
            }
        }
        self.sock.shutdown(Shutdown::Write)
    }
}

/// Run the client side of the TLS handshake on `sock` for `host` (sent as SNI, and the name
/// the certificate must be valid for), before `deadline`.
pub fn connect(
    sock: TcpStream,
    host: &str,
    config: Arc<rustls::ClientConfig>,
    deadline: Instant,
) -> Result<TlsStream, Error> {
    let name = ServerName::try_from(host.to_owned()).map_err(|e| config_error(&format!("server name {host:?}"), e))?;
    let conn = rustls::ClientConnection::new(config, name).map_err(|e| config_error("starting the session", e))?;
    handshake(TlsStream { conn: conn.into(), sock, write_shut: false }, deadline)
}

/// Run the server side of the TLS handshake on an accepted socket, before `deadline`. A plain
/// HTTP request gets a `400` saying the port speaks TLS.
pub fn accept(sock: TcpStream, config: Arc<rustls::ServerConfig>, deadline: Instant) -> Result<TlsStream, Error> {
    let conn = rustls::ServerConnection::new(config).map_err(|e| config_error("starting the session", e))?;
    handshake(TlsStream { conn: conn.into(), sock, write_shut: false }, deadline)
}

fn timed_out() -> Error {
    Error::Io(io::Error::new(ErrorKind::TimedOut, "the TLS handshake did not finish in time"))
}

/// Drive a TLS handshake to its end, every read and write bounded by `deadline` (a peer that
/// dribbles its bytes one at a time is still cut off there).
fn handshake(mut tls: TlsStream, deadline: Instant) -> Result<TlsStream, Error> {
    let mut first_read = true;
    while tls.conn.is_handshaking() || tls.conn.wants_write() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timed_out());
        }
        if tls.conn.wants_write() {
            tls.sock.set_write_timeout(Some(left))?;
            match tls.conn.write_tls(&mut tls.sock) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return Err(timed_out()),
                Err(e) => return Err(Error::Io(e)),
            }
            continue;
        }
        tls.sock.set_read_timeout(Some(left))?;
        if first_read {
            first_read = false;
            refuse_plain_text(&mut tls)?;
        }
        match tls.conn.read_tls(&mut tls.sock) {
            Ok(0) => {
                return Err(Error::Tls(TlsError::new(
                    TlsErrorKind::Handshake,
                    "the peer closed the connection during the TLS handshake",
                )));
            }
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return Err(timed_out()),
            Err(e) => return Err(Error::Io(e)),
        }
        if let Err(e) = tls.conn.process_new_packets() {
            // Tell the peer why (the alert rustls queued), then give up.
            tls.sock.set_write_timeout(Some(Duration::from_secs(1)))?;
            let _ = tls.write_pending();
            let _ = tls.sock.shutdown(Shutdown::Write);
            return Err(Error::Tls(tls_error(&e)));
        }
    }
    Ok(tls)
}

/// Look at the peer's first byte: a TLS peer starts with a handshake record (or an alert). A
/// plain HTTP request (a `ws://` client, or a browser sent to `http://`) is answered with a
/// `400` that says so; anything else is dropped.
fn refuse_plain_text(tls: &mut TlsStream) -> Result<(), Error> {
    let mut first = [0u8; 1];
    let n = loop {
        match tls.sock.peek(&mut first) {
            Ok(n) => break n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return Err(timed_out()),
            Err(e) => return Err(Error::Io(e)),
        }
    };
    if n == 0 || matches!(first[0], HANDSHAKE_RECORD | ALERT_RECORD) {
        return Ok(());
    }
    let detail = if first[0].is_ascii_uppercase() {
        if matches!(tls.conn, rustls::Connection::Server(_)) {
            let _ = tls.sock.set_write_timeout(Some(Duration::from_secs(1)));
            let _ = tls.sock.write_all(PLAIN_ON_TLS_PORT);
            linger(&mut tls.sock);
            "a plain-text request (http:// or ws://?) arrived on a TLS port; answered 400"
        } else {
            "the server answered in plain text: is it a ws:// (not wss://) port?"
        }
    } else {
        "the first bytes are not a TLS record"
    };
    let _ = tls.sock.shutdown(Shutdown::Both);
    Err(Error::Tls(TlsError::new(TlsErrorKind::NotTls, format!("{detail}; first byte 0x{:02x}", first[0]))))
}

/// Half-close, then drain what the peer sent (briefly) so the answer is read rather than lost
/// to a reset caused by unread input.
fn linger(sock: &mut TcpStream) {
    let _ = sock.shutdown(Shutdown::Write);
    let deadline = Instant::now() + Duration::from_millis(500);
    let mut scratch = [0u8; 4096];
    let mut drained = 0;
    while drained < 64 << 10 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || sock.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match sock.read(&mut scratch) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
}
