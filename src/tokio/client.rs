//! The async client: `connect("ws://host:port/path")` or `wss://` (RFC 6455 §3, §4.1).
//!
//! ```no_run
//! # async fn run() -> Result<(), rfc6455::Error> {
//! let (mut ws, _response) = rfc6455::tokio::connect("ws://127.0.0.1:9001/chat").await?;
//! ws.send_text("hello").await?;
//! println!("{:?}", ws.read().await?);
//! ws.close(rfc6455::CloseCode::NORMAL, "bye").await?;
//! # Ok(())
//! # }
//! ```
//!
//! The URI is parsed by [`WsUri`]; every address the host resolves to is tried in turn; the
//! whole handshake, connect and TLS included, is bounded by [`Timeouts::handshake`]; at most one
//! connection per address is in the CONNECTING state at a time (§4.1 item 2). Frames the server
//! sends right behind its 101 are kept for the connection.
//!
//! `wss://` needs the `tls` feature: the host goes out as SNI and the server's certificate is
//! verified against Mozilla's roots, or the roots of `ClientConfig::tls`; a failure is an
//! [`Error::Tls`] naming the reason, as in the blocking client. Without the feature a `wss://`
//! URL is refused with [`HandshakeError::InvalidUri`].

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use ::tokio::net::TcpStream;
use ::tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{MaybeTlsStream, Timeouts, WebSocket};
use crate::config::{Config, Role};
use crate::connection::Connection;
use crate::error::{Error, HandshakeError};
use crate::extensions::permessage_deflate::DeflateConfig;
use crate::handshake::{ClientHandshake, ClientOptions, Completed, Response, connection_config};
use crate::observe::report_handshake;
use crate::uri::WsUri;

/// How a client connects.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The connection's configuration (its role is set to client).
    pub config: Config,
    /// Subprotocols, Origin, extensions and extra headers of the request.
    pub options: ClientOptions,
    /// Handshake and close timeouts.
    pub timeouts: Timeouts,
    /// Offer permessage-deflate (RFC 7692) with these preferences. Off by default.
    pub deflate: Option<DeflateConfig>,
    /// The back-pressure mark (see [`WebSocket::high_water_mark`]).
    pub high_water_mark: usize,
    /// The TLS configuration for `wss://` URLs (roots, versions, ALPN, client certificate).
    /// `None`: Mozilla's roots. Ignored for `ws://`.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            config: Config::client(),
            options: ClientOptions::default(),
            timeouts: Timeouts::default(),
            deflate: None,
            high_water_mark: super::DEFAULT_HIGH_WATER_MARK,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

/// Connect to a `ws://` or `wss://` URL with the default configuration; returns the socket and
/// the server's 101 response.
pub async fn connect(url: &str) -> Result<(WebSocket<MaybeTlsStream>, Response), Error> {
    connect_with(url, &ClientConfig::default()).await
}

/// Connect to a `ws://` or `wss://` URL; returns the socket and the server's 101 response (its
/// chosen subprotocol and headers).
pub async fn connect_with(url: &str, config: &ClientConfig) -> Result<(WebSocket<MaybeTlsStream>, Response), Error> {
    let uri = WsUri::parse(url)?;
    if uri.secure && !cfg!(feature = "tls") {
        return Err(no_tls());
    }
    let connecting = async {
        // Held until the handshake ends, either way (§4.1: one CONNECTING per address).
        let (sock, _connecting) = connect_tcp(&uri).await?;
        let stream = if uri.secure { secure(sock, &uri, config).await? } else { MaybeTlsStream::Plain(sock) };
        handshake(stream, &uri, config).await
    };
    match ::tokio::time::timeout(config.timeouts.handshake, connecting).await {
        Ok(result) => result,
        Err(_) => Err(Error::Io(std::io::ErrorKind::TimedOut.into())),
    }
}

#[cfg(feature = "tls")]
async fn secure(sock: TcpStream, uri: &WsUri, config: &ClientConfig) -> Result<MaybeTlsStream, Error> {
    let tls = config.tls.clone().unwrap_or_else(crate::blocking::tls::default_client_config);
    let stream = super::tls::connect(sock, &uri.host, tls).await?;
    Ok(MaybeTlsStream::Tls(Box::new(stream.into())))
}

#[cfg(not(feature = "tls"))]
async fn secure(_: TcpStream, _: &WsUri, _: &ClientConfig) -> Result<MaybeTlsStream, Error> {
    Err(no_tls())
}

fn no_tls() -> Error {
    Error::Handshake(HandshakeError::InvalidUri("wss:// needs TLS: build with the `tls` feature"))
}

/// Run the client side of the handshake on a connected stream (no timeout of its own: wrap it
/// in `tokio::time::timeout`).
pub async fn handshake<S>(mut stream: S, uri: &WsUri, config: &ClientConfig) -> Result<(WebSocket<S>, Response), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut conn_config = config.config.clone();
    conn_config.role = Role::Client;
    let mut keys = conn_config.mask_keys.generator();
    let mut options = config.options.clone();
    if let Some(deflate) = &config.deflate {
        options.extensions.push(deflate.offer().to_string());
    }
    let mut handshake = ClientHandshake::from_uri(uri, &options, &mut keys, conn_config.limits().max_handshake_size)?;
    stream.write_all(handshake.request()).await?;
    stream.flush().await?;

    let mut buf = [0u8; 2048];
    let response = loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(Error::Handshake(HandshakeError::MalformedHttp("connection closed during the handshake")));
        }
        if let Some(response) = handshake.receive(&buf[..n])? {
            break response;
        }
    };
    // RFC 7692 §7.1: the server's answer must fit what was offered, and name nothing the
    // connection would not run.
    let conn_config =
        connection_config(conn_config, Completed::Client { response: &response, deflate: config.deflate.as_ref() })?;
    if let Some(observer) = conn_config.observer() {
        report_handshake(observer.as_ref(), Role::Client, handshake.request(), handshake.response_head());
    }
    let mut ws = WebSocket::from_parts(stream, Connection::new(conn_config), handshake.remainder(), config.timeouts)?;
    ws.set_high_water_mark(config.high_water_mark);
    Ok((ws, response))
}

/// Connect to the first address of `uri` that answers. The guard marks the address as
/// CONNECTING until the caller drops it (§4.1).
pub(crate) async fn connect_tcp(uri: &WsUri) -> Result<(TcpStream, AddressTurn), Error> {
    let mut last_error = None;
    for addr in ::tokio::net::lookup_host(uri.socket_addr_string()).await? {
        // RFC 6455 §4.1 item 2: wait while another connection to this IP and port is
        // CONNECTING.
        let guard = AddressTurn::acquire(addr).await;
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                // Small frames should leave at once, not wait for Nagle's algorithm.
                stream.set_nodelay(true)?;
                return Ok((stream, guard));
            }
            Err(e) => last_error = Some(e),
        }
    }
    Err(Error::Io(last_error.unwrap_or_else(|| std::io::ErrorKind::NotFound.into())))
}

/// For each address with an async handshake in progress in this process, a semaphore of one
/// permit: the next connection to that address waits for it, first come first served, and only
/// that one is woken when it is released.
static CONNECTING: Mutex<Vec<(SocketAddr, Arc<Semaphore>)>> = Mutex::new(Vec::new());

fn connecting() -> MutexGuard<'static, Vec<(SocketAddr, Arc<Semaphore>)>> {
    // The list is consistent between any two calls; a panic elsewhere leaves it usable.
    CONNECTING.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Held while a connection to its address is CONNECTING (RFC 6455 §4.1); released on drop.
#[derive(Debug)]
pub(crate) struct AddressTurn {
    addr: SocketAddr,
    semaphore: Arc<Semaphore>,
    permit: Option<OwnedSemaphorePermit>,
}

impl AddressTurn {
    /// Wait until no other connection to `addr` is CONNECTING, then mark this one. (The
    /// handshake timeout around the caller bounds the wait.)
    async fn acquire(addr: SocketAddr) -> AddressTurn {
        let semaphore = {
            let mut list = connecting();
            match list.iter().find(|(a, _)| *a == addr) {
                Some((_, semaphore)) => semaphore.clone(),
                None => {
                    let semaphore = Arc::new(Semaphore::new(1));
                    list.push((addr, semaphore.clone()));
                    semaphore
                }
            }
        };
        // The semaphore is never closed, so acquiring cannot fail.
        let permit = semaphore.clone().acquire_owned().await.ok();
        AddressTurn { addr, semaphore, permit }
    }
}

impl Drop for AddressTurn {
    fn drop(&mut self) {
        drop(self.permit.take());
        let mut list = connecting();
        // Forget the address once nobody holds or waits for its semaphore (the list's own
        // reference and ours are the last two).
        if Arc::strong_count(&self.semaphore) == 2
            && let Some(at) = list.iter().position(|(a, _)| *a == self.addr)
        {
            list.swap_remove(at);
        }
    }
}
