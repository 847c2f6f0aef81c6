//! The blocking client: `connect("ws://host:port/path")` or `wss://` (RFC 6455 §3, §4.1).
//!
//! ```no_run
//! let mut ws = rfc6455::blocking::connect("ws://127.0.0.1:9001/chat")?;
//! ws.send_text("hello")?;
//! println!("{:?}", ws.read()?);
//! ws.close(rfc6455::CloseCode::NORMAL, "bye")?;
//! # Ok::<(), rfc6455::Error>(())
//! ```
//!
//! The URI is parsed by [`WsUri`]; every address the host resolves to is tried in turn; the
//! whole handshake, connect and TLS included, is bounded by [`Timeouts::handshake`]. Frames the
//! server sends right behind its 101 are kept for the connection.
//!
//! `wss://` needs the `tls` feature: the host goes out as SNI and the server's certificate is
//! verified against Mozilla's roots, or the roots of `ClientConfig::tls` (see `tls`). Without
//! the feature a `wss://` URL is refused with [`HandshakeError::InvalidUri`].

use std::io::ErrorKind;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Instant;

use super::connecting::{self, ConnectingGuard};
use super::{MaybeTlsStream, Timeouts, Transport, WebSocket};
use crate::config::{Config, Role};
use crate::connection::Connection;
use crate::error::{Error, HandshakeError};
use crate::extensions::permessage_deflate::DeflateConfig;
use crate::handshake::{ClientHandshake, ClientOptions, Response};
use crate::handshake::{Completed, connection_config};
use crate::observe::report_handshake;
use crate::uri::WsUri;

/// How a client connects.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The connection's configuration (its role is set to client).
    pub config: Config,
    /// Subprotocols, Origin, extensions and extra headers of the request.
    pub options: ClientOptions,
    /// Handshake, read, write and close timeouts.
    pub timeouts: Timeouts,
    /// Offer permessage-deflate (RFC 7692) with these preferences. Off by default.
    pub deflate: Option<DeflateConfig>,
    /// The TLS configuration for `wss://` URLs: its root certificates, versions, ALPN, client
    /// certificate. `None`: [`tls::default_client_config`](super::tls::default_client_config)
    /// (Mozilla's roots). Ignored for `ws://`.
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
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

/// Connect to a `ws://` or `wss://` URL with the default configuration.
pub fn connect(url: &str) -> Result<WebSocket<MaybeTlsStream>, Error> {
    connect_with(url, &ClientConfig::default()).map(|(ws, _)| ws)
}

/// Connect to a `ws://` or `wss://` URL; returns the socket and the server's 101 response (its
/// chosen subprotocol and headers).
pub fn connect_with(url: &str, config: &ClientConfig) -> Result<(WebSocket<MaybeTlsStream>, Response), Error> {
    let uri = WsUri::parse(url)?;
    if uri.secure && !cfg!(feature = "tls") {
        return Err(no_tls());
    }
    let deadline = Instant::now() + config.timeouts.handshake;
    // Held until the handshake ends, either way (RFC 6455 §4.1: one CONNECTING per address).
    let (sock, _connecting) = connect_tcp(&uri, deadline)?;
    let stream = if uri.secure { secure(sock, &uri, config, deadline)? } else { MaybeTlsStream::Plain(sock) };
    handshake(stream, &uri, config, deadline)
}

/// The TLS handshake of a `wss://` connection.
#[cfg(feature = "tls")]
fn secure(sock: TcpStream, uri: &WsUri, config: &ClientConfig, deadline: Instant) -> Result<MaybeTlsStream, Error> {
    let tls = config.tls.clone().unwrap_or_else(super::tls::default_client_config);
    Ok(MaybeTlsStream::Tls(Box::new(super::tls::connect(sock, &uri.host, tls, deadline)?)))
}

#[cfg(not(feature = "tls"))]
fn secure(_: TcpStream, _: &WsUri, _: &ClientConfig, _: Instant) -> Result<MaybeTlsStream, Error> {
    Err(no_tls())
}

fn no_tls() -> Error {
    Error::Handshake(HandshakeError::InvalidUri("wss:// needs TLS: build with the `tls` feature"))
}

/// Run the client side of the handshake on a connected stream.
pub fn handshake<S: Transport>(
    mut stream: S,
    uri: &WsUri,
    config: &ClientConfig,
    deadline: Instant,
) -> Result<(WebSocket<S>, Response), Error> {
    let mut conn_config = config.config.clone();
    conn_config.role = crate::Role::Client;
    let mut keys = conn_config.mask_keys.generator();
    let mut options = config.options.clone();
    if let Some(deflate) = &config.deflate {
        options.extensions.push(deflate.offer().to_string());
    }
    let mut handshake = ClientHandshake::from_uri(uri, &options, &mut keys, conn_config.limits().max_handshake_size)?;
    stream.set_write_timeout(Some(deadline.saturating_duration_since(Instant::now())))?;
    stream.write_all(handshake.request())?;
    stream.flush()?;

    let mut buf = [0u8; 4096];
    let response = loop {
        let n = super::read_before_deadline(&mut stream, &mut buf, deadline)?;
        match handshake.receive(&buf[..n]) {
            Ok(Some(response)) => break response,
            Ok(None) => {}
            Err(HandshakeError::UnexpectedStatus(status)) => {
                let limit = conn_config.limits().max_handshake_size;
                return Err(refusal(&mut stream, &handshake, limit, deadline)
                    .unwrap_or(Error::Handshake(HandshakeError::UnexpectedStatus(status))));
            }
            Err(error) => return Err(error.into()),
        }
    };
    // RFC 7692 §7.1: the server's answer must fit what was offered, and name nothing the
    // connection would not run.
    let conn_config =
        connection_config(conn_config, Completed::Client { response: &response, deflate: config.deflate.as_ref() })?;
    if let Some(observer) = conn_config.observer() {
        report_handshake(observer.as_ref(), Role::Client, handshake.request(), handshake.response_head());
    }
    let conn = Connection::new(conn_config);
    let mut ws = WebSocket::from_parts(stream, conn, handshake.remainder(), config.timeouts)?;
    ws.set_handshake(None, response.subprotocol.clone());
    Ok((ws, response))
}

/// The whole of a non-101 answer (§4.1 step 1): its head, and its body read to its end (its
/// `Content-Length`, the last chunk, or EOF), at most `limit` bytes, within the handshake
/// deadline. The application sees why it was refused, or where it was sent.
fn refusal<S: Transport>(
    stream: &mut S,
    handshake: &ClientHandshake,
    limit: usize,
    deadline: Instant,
) -> Option<Error> {
    let response = handshake.refused_response()?.clone();
    let has_body = !matches!(response.status, 100..=199 | 204 | 304);
    let length = response
        .header("Content-Length")
        .and_then(|value| std::str::from_utf8(value).ok())
        .and_then(|value| value.trim().parse::<usize>().ok());
    let chunked = response
        .header_all("Transfer-Encoding")
        .any(|value| value.split(|&b| b == b',').any(|coding| coding.trim_ascii().eq_ignore_ascii_case(b"chunked")));
    let want = if has_body { length.unwrap_or(usize::MAX).min(limit) } else { 0 };
    let mut body = handshake.remainder().to_vec();
    body.truncate(want);
    let mut buf = [0u8; 4096];
    // A chunked body ends with its last, empty chunk; any other without a length ends at EOF.
    while body.len() < want && !(chunked && body.ends_with(b"0\r\n\r\n")) {
        match super::read_before_deadline(stream, &mut buf, deadline) {
            Ok(n) => body.extend_from_slice(&buf[..n.min(want - body.len())]),
            // EOF or the deadline: the body is what arrived.
            Err(_) => break,
        }
    }
    let refusal = crate::handshake::Refusal { response, body };
    Some(Error::Handshake(HandshakeError::Refused(Box::new(refusal))))
}

/// Connect to the first address of `uri` that answers before the deadline.
/// The guard marks the address as CONNECTING until the caller drops it (RFC 6455 §4.1).
fn connect_tcp(uri: &WsUri, deadline: Instant) -> Result<(TcpStream, ConnectingGuard), Error> {
    let mut last_error = None;
    for addr in uri.socket_addr_string().to_socket_addrs()? {
        // RFC 6455 §4.1 item 2: wait while another connection to this IP and port is
        // CONNECTING.
        let guard = connecting::acquire(addr, deadline)?;
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(stream) => {
                // Small frames should leave at once, not wait for Nagle's algorithm.
                stream.set_nodelay(true)?;
                return Ok((stream, guard));
            }
            Err(e) => last_error = Some(e),
        }
    }
    Err(Error::Io(last_error.unwrap_or_else(|| ErrorKind::TimedOut.into())))
}
