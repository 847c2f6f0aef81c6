//! The blocking server: accept TCP connections and run the opening handshake (RFC 6455 §4.2).
//!
//! ```no_run
//! use rfc6455::blocking::Server;
//! let server = Server::bind("127.0.0.1:9001")?;
//! for pending in server.incoming() {
//!     std::thread::spawn(move || {
//!         let Ok(mut ws) = pending?.handshake() else { return Ok(()) };
//!         while let Ok(message) = ws.read() {
//!             if message.is_data() { ws.send(&message)?; }
//!         }
//!         Ok::<(), rfc6455::Error>(())
//!     });
//! }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Each accepted socket becomes a [`Pending`] handshake, so the application can run it on its
//! own thread: a slow client never holds up the accept loop. The handshake reads the request
//! within [`Timeouts::handshake`]; a request that is not a WebSocket upgrade can be answered
//! with a plain HTTP response on the same port (a page, a health check); a bad upgrade gets the
//! status its error names (400, 405, 426 with `Sec-WebSocket-Version: 13`, 431).
//!
//! With `ServerConfig::tls` set (feature `tls`) the port speaks TLS only: each connection
//! runs the TLS handshake first, within the same [`Timeouts::handshake`], and a plain request
//! on it is refused (see `tls`).

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{MaybeTlsStream, Timeouts, Transport, WebSocket};
use crate::config::{Config, Role};
use crate::connection::Connection;
use crate::error::{Error, HandshakeError};
use crate::extensions::permessage_deflate::DeflateConfig;
use crate::extensions::{Extension, parse_extensions};
use crate::handshake::{
    Completed, Request, ServerHandshake, accept_response, connection_config, http_response, reject_response,
};
use crate::observe::report_handshake;

/// How a server runs its connections.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The connection's configuration (its role is set to server).
    pub config: Config,
    /// Handshake, read, write and close timeouts.
    pub timeouts: Timeouts,
    /// Accept permessage-deflate (RFC 7692) when a client offers it, with these preferences.
    /// Off by default: compression costs CPU on every message.
    pub deflate: Option<DeflateConfig>,
    /// Serve `wss://` (and `https://`) only, with this TLS configuration: its certificate chain
    /// and key, versions, ALPN. See `tls::server_config_from_pem_files`. `None`: plain `ws://`.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub tls: Option<std::sync::Arc<rustls::ServerConfig>>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            config: Config::server(),
            timeouts: Timeouts::default(),
            deflate: None,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl ServerConfig {
    /// Whether connections run TLS (`wss://`).
    pub fn is_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        return false;
    }
}

/// The application's answer to a request, given to [`accept_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Upgrade to WebSocket, choosing one of the client's subprotocols (or none) and adding
    /// headers to the 101 response.
    Accept {
        /// One of [`Request::subprotocols`], or `None`.
        subprotocol: Option<String>,
        /// Extra response headers.
        headers: Vec<(String, String)>,
    },
    /// Refuse with an HTTP status and a reason (sent as a `text/plain` body).
    Reject {
        /// The HTTP status, e.g. 403.
        status: u16,
        /// Why.
        reason: String,
    },
    /// Answer with this complete HTTP response (for plain HTTP requests: a page, a redirect)
    /// and close the connection.
    Respond(Vec<u8>),
}

impl Decision {
    /// Accept with no subprotocol and no extra headers.
    pub fn accept() -> Self {
        Decision::Accept { subprotocol: None, headers: Vec::new() }
    }

    /// Serve `body` with status 200 and the given content type.
    pub fn respond(content_type: &str, body: &[u8]) -> Self {
        Decision::Respond(http_response(200, content_type, body))
    }
}

/// A listening socket.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    config: ServerConfig,
    /// Set by a [`ShutdownHandle`]: accept no more connections.
    stopped: Arc<AtomicBool>,
}

/// Stops a [`Server`] from another thread: [`Server::incoming`] ends, and [`Server::accept`]
/// fails, even while blocked waiting for a connection. Connections already accepted go on.
///
/// ```no_run
/// # fn main() -> std::io::Result<()> {
/// let server = rfc6455::blocking::Server::bind("127.0.0.1:9001")?;
/// let handle = server.shutdown_handle()?;
/// std::thread::spawn(move || {
///     std::thread::sleep(std::time::Duration::from_secs(60));
///     handle.shutdown();
/// });
/// for pending in server.incoming() {
///     // ... serve `pending` ...
/// #   drop(pending);
/// }
/// // Reached once `shutdown` was called.
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    stopped: Arc<AtomicBool>,
    /// Where to connect to wake an `accept` blocked in the kernel.
    wake: SocketAddr,
}

impl ShutdownHandle {
    /// Stop the server. Returns at once; an `accept` blocked in another thread returns within
    /// moments (it is woken by a connection to the server's own address, closed unanswered).
    pub fn shutdown(&self) {
        if self.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        // `accept` blocks in the kernel and does not look at the flag: a connection wakes it.
        let _ = TcpStream::connect_timeout(&self.wake, Duration::from_secs(1));
    }

    /// Whether [`Self::shutdown`] was called.
    pub fn is_shutdown(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }
}

impl Server {
    /// Listen on `addr` with the default configuration.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<Server> {
        Ok(Server { listener: TcpListener::bind(addr)?, config: ServerConfig::default(), stopped: Arc::default() })
    }

    /// Replace the configuration used for connections accepted from now on.
    pub fn with_config(mut self, mut config: ServerConfig) -> Self {
        config.config.role = crate::Role::Server;
        self.config = config;
        self
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The listening socket (to set it non-blocking, say).
    pub fn listener(&self) -> &TcpListener {
        &self.listener
    }

    /// A handle that stops this server from another thread.
    pub fn shutdown_handle(&self) -> io::Result<ShutdownHandle> {
        let mut wake = self.listener.local_addr()?;
        // A server bound to every address is woken through loopback.
        if wake.ip().is_unspecified() {
            wake.set_ip(match wake {
                SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
            });
        }
        Ok(ShutdownHandle { stopped: self.stopped.clone(), wake })
    }

    /// Wait for the next TCP connection. Its handshake has not run yet. After
    /// [`ShutdownHandle::shutdown`], fails with `ConnectionAborted`.
    pub fn accept(&self) -> io::Result<Pending> {
        let stopped = || io::Error::new(io::ErrorKind::ConnectionAborted, "the server was shut down");
        if self.stopped.load(Ordering::SeqCst) {
            return Err(stopped());
        }
        let (stream, peer) = self.listener.accept()?;
        if self.stopped.load(Ordering::SeqCst) {
            // The wake-up connection, or a client that came too late: closed unanswered.
            return Err(stopped());
        }
        // Small frames should leave at once, not wait for Nagle's algorithm.
        stream.set_nodelay(true)?;
        Ok(Pending { stream, peer, config: self.config.clone() })
    }

    /// Accepted connections, until [`ShutdownHandle::shutdown`] is called.
    pub fn incoming(&self) -> impl Iterator<Item = io::Result<Pending>> + '_ {
        std::iter::from_fn(move || match self.accept() {
            Err(_) if self.stopped.load(Ordering::SeqCst) => None,
            accepted => Some(accepted),
        })
    }
}

/// An accepted TCP connection whose opening handshake (TLS, then WebSocket) has not run yet.
#[derive(Debug)]
pub struct Pending {
    stream: TcpStream,
    peer: SocketAddr,
    config: ServerConfig,
}

impl Pending {
    /// The client's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// Whether the handshake will run TLS first (`wss://`).
    pub fn is_tls(&self) -> bool {
        self.config.is_tls()
    }

    /// Report this connection's handshake and frames to `observer` (see [`crate::observe`]),
    /// whatever the server's configuration says: an observer for one connection.
    pub fn with_observer(mut self, observer: Arc<dyn crate::observe::Observer>) -> Self {
        self.config.config = self.config.config.with_observer(observer);
        self
    }

    /// Run the handshake and accept any valid WebSocket request. A plain HTTP request is
    /// answered with 426 Upgrade Required.
    pub fn handshake(self) -> Result<WebSocket<MaybeTlsStream>, Error> {
        self.handshake_with(|_| Decision::accept())
    }

    /// Run the handshake and let `decide` accept or refuse the request (by path, Origin,
    /// subprotocol, or anything in its headers). Plain HTTP requests reach `decide` too: answer
    /// them with [`Decision::Respond`]. Returns [`Error::Handshake`] when the connection did not
    /// become a WebSocket (the client has had its answer), and [`Error::Tls`] when the TLS
    /// handshake failed (a plain-text request on a TLS port, a client that refused the
    /// certificate).
    pub fn handshake_with(self, decide: impl FnOnce(&Request) -> Decision) -> Result<WebSocket<MaybeTlsStream>, Error> {
        let deadline = Instant::now() + self.config.timeouts.handshake;
        let stream = secure(self.stream, &self.config, deadline)?;
        accept_until(stream, &self.config, decide, deadline)
    }
}

/// The TLS handshake, when the server speaks TLS.
#[cfg(feature = "tls")]
fn secure(sock: TcpStream, config: &ServerConfig, deadline: Instant) -> Result<MaybeTlsStream, Error> {
    match &config.tls {
        Some(tls) => Ok(MaybeTlsStream::Tls(Box::new(super::tls::accept(sock, tls.clone(), deadline)?))),
        None => Ok(MaybeTlsStream::Plain(sock)),
    }
}

#[cfg(not(feature = "tls"))]
fn secure(sock: TcpStream, _: &ServerConfig, _: Instant) -> Result<MaybeTlsStream, Error> {
    Ok(MaybeTlsStream::Plain(sock))
}

/// Run the server side of the handshake on `stream` and accept any valid request.
pub fn accept<S: Transport>(stream: S, config: &ServerConfig) -> Result<WebSocket<S>, Error> {
    accept_with(stream, config, |_| Decision::accept())
}

/// Run the server side of the handshake on `stream`, letting `decide` answer the request.
/// The stream is used as it is: `ServerConfig::tls` is for [`Server`]'s own sockets.
pub fn accept_with<S: Transport>(
    stream: S,
    config: &ServerConfig,
    decide: impl FnOnce(&Request) -> Decision,
) -> Result<WebSocket<S>, Error> {
    accept_until(stream, config, decide, Instant::now() + config.timeouts.handshake)
}

fn accept_until<S: Transport>(
    mut stream: S,
    config: &ServerConfig,
    decide: impl FnOnce(&Request) -> Decision,
    deadline: Instant,
) -> Result<WebSocket<S>, Error> {
    let limits = *config.config.limits();
    let mut handshake = ServerHandshake::new(limits.max_handshake_size);
    let mut buf = [0u8; 4096];

    let request = loop {
        let n = super::read_before_deadline(&mut stream, &mut buf, deadline)?;
        match handshake.receive(&buf[..n]) {
            Ok(Some(request)) => break request,
            Ok(None) => {}
            Err(error) => return Err(refuse(&mut stream, error)),
        }
    };

    let decision = if request.is_websocket_upgrade() {
        // RFC 6455 §4.2.1: an invalid request gets an HTTP error, and no WebSocket.
        if let Err(error) = request.validate_websocket() {
            return Err(refuse(&mut stream, error));
        }
        decide(&request)
    } else {
        match decide(&request) {
            // A plain HTTP request cannot be upgraded: tell the client what the port speaks.
            Decision::Accept { .. } => Decision::Reject {
                status: 426,
                reason: "this endpoint speaks WebSocket (RFC 6455); send an Upgrade request".into(),
            },
            other => other,
        }
    };

    match decision {
        Decision::Accept { subprotocol, mut headers } => {
            let conn_config = config.config.clone();
            // RFC 6455 §9.1: pick the extensions to use among the client's offers.
            if let Some(deflate) = &config.deflate {
                let offers = match parse_offers(&request) {
                    Ok(offers) => offers,
                    Err(error) => return Err(refuse(&mut stream, error)),
                };
                if let Some((_, answer)) = deflate.negotiate(&offers) {
                    headers.push(("Sec-WebSocket-Extensions".into(), answer.to_string()));
                }
            }
            let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            // The connection runs what the answer accepts, whoever wrote it; an extension it
            // cannot run is refused before the 101 goes out.
            let completed =
                Completed::Server { request: &request, headers: &headers, deflate: config.deflate.as_ref() };
            let conn_config = match connection_config(conn_config, completed) {
                Ok(conn_config) => conn_config,
                Err(error) => return Err(refuse(&mut stream, error)),
            };
            let response = match accept_response(&request, subprotocol.as_deref(), &headers) {
                Ok(response) => response,
                Err(error) => return Err(refuse(&mut stream, error)),
            };
            stream.write_all(&response)?;
            stream.flush()?;
            if let Some(observer) = conn_config.observer() {
                report_handshake(observer.as_ref(), Role::Server, handshake.request_head(), &response);
            }
            let conn = Connection::new(conn_config);
            let mut ws = WebSocket::from_parts(stream, conn, handshake.remainder(), config.timeouts)?;
            ws.set_handshake(Some(request), subprotocol);
            Ok(ws)
        }
        Decision::Reject { status, reason } => Err(refuse(&mut stream, HandshakeError::Rejected { status, reason })),
        Decision::Respond(response) => {
            let _ = stream.write_all(&response).and_then(|()| stream.flush());
            let _ = stream.shutdown_write();
            Err(Error::Handshake(HandshakeError::AnsweredOverHttp { status: response_status(&response) }))
        }
    }
}

/// Every extension the client offered, across all its `Sec-WebSocket-Extensions` headers.
fn parse_offers(request: &Request) -> Result<Vec<Extension>, HandshakeError> {
    let mut offers = Vec::new();
    for value in &request.extensions {
        offers.extend(parse_extensions(value)?);
    }
    Ok(offers)
}

/// Answer a failed handshake with its HTTP status and close (§4.2.1, §4.4).
fn refuse<S: Transport>(stream: &mut S, error: HandshakeError) -> Error {
    let _ = stream.write_all(&reject_response(&error)).and_then(|()| stream.flush());
    let _ = stream.shutdown_write();
    Error::Handshake(error)
}

/// The status code of a response built by the application (for the error it is reported in).
fn response_status(response: &[u8]) -> u16 {
    response
        .get(9..12)
        .and_then(|digits| std::str::from_utf8(digits).ok())
        .and_then(|digits| digits.parse().ok())
        .unwrap_or(200)
}
