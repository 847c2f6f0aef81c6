//! The client of WebSockets over HTTP/2 (RFC 8441), with a fallback to HTTP/1.1 (feature `h2`).
//!
//! ```no_run
//! # async fn run() -> Result<(), rfc6455::Error> {
//! use rfc6455::tokio::ClientConfig;
//! use rfc6455::tokio::h2::client::connect;
//!
//! let config = ClientConfig::default();
//! // HTTP/2 if the server allows WebSockets over it, else an HTTP/1.1 Upgrade.
//! let (mut ws, _response, h2) = connect("wss://example.com/chat", &config).await?;
//! ws.send_text("hello").await?;
//! if let Some(h2) = h2 {
//!     // More WebSockets on the same HTTP/2 connection, one stream each.
//!     let (mut other, _) = h2.open("/news").await?;
//!     other.send_text("hello again").await?;
//! }
//! # Ok(())
//! # }
//! ```
//!
//! How a connection is made:
//!
//! 1. `wss://`: TLS with ALPN `h2` and `http/1.1`. `ws://`: HTTP/2 with prior knowledge
//!    (RFC 7540 §3.4, "h2c"), as HTTP/2 over cleartext has no negotiation browsers use.
//! 2. Over HTTP/2, wait for the server's SETTINGS (a PING's answer comes after them, RFC 7540
//!    §6.5.3 and §6.7). RFC 8441 §3: a client may use the extended CONNECT once it has
//!    received `SETTINGS_ENABLE_CONNECT_PROTOCOL = 1`; §6: sent without it, a server that does
//!    not know the extension sees a malformed request.
//! 3. If it has, each WebSocket is a CONNECT stream with `:protocol websocket`
//!    ([`H2ClientHandshake`]); the answer is checked by the rules of the HTTP/1.1 client.
//!    [`H2Connection`] is the handle: clone it to open more WebSockets from other tasks.
//! 4. If not (ALPN chose `http/1.1`, the server did not enable extended CONNECT, or an h2c
//!    attempt failed because the server speaks only HTTP/1.1), [`connect`] makes the usual
//!    HTTP/1.1 Upgrade, on the same TLS connection when ALPN chose `http/1.1`, else on a new one.
//!
//! The HTTP/2 connection runs in a task of its own (`tokio::spawn`), so a runtime must be
//! running; it ends when every [`H2Connection`] clone and every WebSocket on it are dropped.
//! Closing a WebSocket ends its stream (END_STREAM, RFC 8441 §5); a failed one resets it with
//! CANCEL; other WebSockets on the connection go on.

use std::io;
use std::sync::Arc;

use ::tokio::io::{AsyncRead, AsyncWrite};
use ::tokio::net::TcpStream;
use bytes::Bytes;
use h2::RecvStream;
use h2::client::SendRequest;
use http::{Method, Request};

use crate::connection::Connection;
use crate::error::{Error, HandshakeError};
use crate::handshake::{Completed, H2ClientHandshake, Response, connection_config};
use crate::tokio::client::{ClientConfig, connect_tcp};
use crate::tokio::{MaybeTlsStream, WebSocket};
use crate::uri::WsUri;

use super::H2Stream;
use super::stream::io_error;

/// The flow-control window of each WebSocket stream this client receives on (RFC 7540 §6.9.2):
/// how much one WebSocket's peer may send ahead of the application's reads.
pub const STREAM_WINDOW: u32 = 256 * 1024;

/// The receive window of the whole connection: HTTP/2's largest (RFC 7540 §6.9.1), so that
/// however many WebSockets the client opens, streams whose readers stall with full windows
/// never use up the window of one that reads (a stream's unread data holds the connection
/// window too, §5.2). What the peer can make the client hold is still bounded: one
/// [`STREAM_WINDOW`] per open stream.
pub const CONNECTION_WINDOW: u32 = (1 << 31) - 1;

/// A client's HTTP/2 connection to a server: open WebSockets on it with [`open`](Self::open).
/// Cheap to clone; every clone opens streams on the same connection.
#[derive(Debug, Clone)]
pub struct H2Connection {
    send: SendRequest<Bytes>,
    /// Turns `true` when the connection's task has ended.
    ended: ::tokio::sync::watch::Receiver<bool>,
    secure: bool,
    authority: String,
    config: Arc<ClientConfig>,
}

impl H2Connection {
    /// Open an HTTP/2 connection to the host of `url` (`ws://`: h2c with prior knowledge;
    /// `wss://`: TLS with ALPN `h2` alone, feature `tls`) and wait for the server's SETTINGS.
    /// Only the scheme and authority of `url` matter here; each [`open`](Self::open) names a
    /// path. Bounded by [`Timeouts::handshake`](crate::tokio::Timeouts::handshake).
    ///
    /// Errors: [`HandshakeError::ExtendedConnectDisabled`] if the server does not allow
    /// WebSockets over HTTP/2, [`Error::Io`] if it does not speak HTTP/2, and those of
    /// [`crate::tokio::connect_with`] for the URL, the socket and TLS.
    pub async fn connect(url: &str, config: &ClientConfig) -> Result<H2Connection, Error> {
        let uri = WsUri::parse(url)?;
        let config = Arc::new(config.clone());
        within_handshake_timeout(&config, async {
            let (sock, _connecting) = connect_tcp(&uri).await?;
            let stream = match uri.secure {
                true => match tls(sock, &uri, &config, &[ALPN_H2]).await? {
                    Negotiated::H2(stream) => stream,
                    Negotiated::Http1(_) => return Err(not_h2()),
                },
                false => MaybeTlsStream::Plain(sock),
            };
            let connection = H2Connection::handshake_arc(stream, &uri, config.clone()).await?;
            match connection.supports_websocket() {
                true => Ok(connection),
                false => Err(Error::Handshake(HandshakeError::ExtendedConnectDisabled)),
            }
        })
        .await
    }

    /// Start HTTP/2 on a connected stream (TLS already done, if any; for `uri`'s scheme and
    /// authority) and wait for the server's SETTINGS. Does not fail if the server does not
    /// allow WebSockets over HTTP/2: ask [`supports_websocket`](Self::supports_websocket).
    /// Not bounded in time: wrap it in `tokio::time::timeout`.
    pub async fn handshake<S>(stream: S, uri: &WsUri, config: &ClientConfig) -> Result<H2Connection, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        H2Connection::handshake_arc(stream, uri, Arc::new(config.clone())).await
    }

    async fn handshake_arc<S>(stream: S, uri: &WsUri, config: Arc<ClientConfig>) -> Result<H2Connection, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let max_head = config.config.limits().max_handshake_size;
        let (send, mut connection) = h2::client::Builder::new()
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            // An answer's header list is held to the same limit as an HTTP/1.1 answer's head.
            .max_header_list_size(u32::try_from(max_head).unwrap_or(u32::MAX))
            // A WebSocket client takes no pushed responses.
            .enable_push(false)
            .handshake::<S, Bytes>(stream)
            .await
            .map_err(h2_error)?;
        // The first PING of a connection is ours to take.
        let mut ping_pong = connection.ping_pong().ok_or_else(|| h2_error_text("no PING handle"))?;
        let (ended_tx, ended) = ::tokio::sync::watch::channel(false);
        ::tokio::spawn(async move {
            // The connection's end (or failure) reaches every stream as an error of its own.
            let _ = connection.await;
            let _ = ended_tx.send(true);
        });
        // RFC 7540 §3.5, §6.5: the server's preface is a SETTINGS frame, acknowledged and
        // applied before any later frame is read; so once the PONG is back, the settings are
        // known, SETTINGS_ENABLE_CONNECT_PROTOCOL among them (RFC 8441 §3).
        ping_pong.ping(h2::Ping::opaque()).await.map_err(h2_error)?;
        Ok(H2Connection { send, ended, secure: uri.secure, authority: uri.host_header(), config })
    }

    /// Whether the server sent `SETTINGS_ENABLE_CONNECT_PROTOCOL = 1` (RFC 8441 §3): whether
    /// [`open`](Self::open) may send its extended CONNECT.
    pub fn supports_websocket(&self) -> bool {
        self.send.is_extended_connect_protocol_enabled()
    }

    /// Drop this handle and wait until the HTTP/2 connection has ended: every other clone
    /// dropped, every WebSocket on it closed or dropped, its last frames (END_STREAM,
    /// RST_STREAM, GOAWAY) written. For a program that wants its peer to see those before it
    /// exits. Not bounded in time.
    pub async fn closed(self) {
        let H2Connection { send, mut ended, .. } = self;
        drop(send);
        // An error means the task is gone, which is the end too.
        let _ = ended.wait_for(|ended| *ended).await;
    }

    /// Open a WebSocket on a new stream of this connection: `path` is the resource name (path
    /// and query, e.g. `/chat?room=1`). Returns it with the server's 200 response. Bounded by
    /// [`Timeouts::handshake`](crate::tokio::Timeouts::handshake).
    ///
    /// Errors: [`HandshakeError::ExtendedConnectDisabled`] (RFC 8441 §3: no extended CONNECT
    /// unless the server allowed it); [`HandshakeError::Refused`] for an
    /// answer other than 200, with its headers and up to
    /// [`max_handshake_size`](crate::Limits::max_handshake_size) bytes of its body; the answer
    /// checks of [`H2ClientHandshake::check_response`] and of permessage-deflate; and
    /// [`Error::Io`] if the connection fails.
    pub async fn open(&self, path: &str) -> Result<(WebSocket<H2Stream>, Response), Error> {
        within_handshake_timeout(&self.config, self.open_stream(path)).await
    }

    async fn open_stream(&self, path: &str) -> Result<(WebSocket<H2Stream>, Response), Error> {
        // RFC 8441 §3, §6: the extended CONNECT only once the server has sent
        // SETTINGS_ENABLE_CONNECT_PROTOCOL = 1; a server without it would see a malformed request.
        if !self.supports_websocket() {
            return Err(Error::Handshake(HandshakeError::ExtendedConnectDisabled));
        }
        let config = &self.config;
        let mut options = config.options.clone();
        if let Some(deflate) = &config.deflate {
            options.extensions.push(deflate.offer().to_string());
        }
        let handshake = H2ClientHandshake::new(self.secure, &self.authority, path, &options)?;
        let request = extended_connect(&handshake)?;
        // Waits while the server's SETTINGS_MAX_CONCURRENT_STREAMS are all in use.
        let mut send = self.send.clone().ready().await.map_err(h2_error)?;
        let (answer, send_stream) = send.send_request(request, false).map_err(h2_error)?;
        let answer = answer.await.map_err(h2_error)?;
        let (parts, recv_stream) = answer.into_parts();
        let headers =
            parts.headers.iter().map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec())).collect();
        let mut conn_config = config.config.clone();
        conn_config.role = crate::Role::Client;
        let response = match handshake.check_response(parts.status.as_u16(), headers) {
            Ok(response) => response,
            Err(HandshakeError::Refused(mut refusal)) => {
                refusal.body = read_body(recv_stream, conn_config.limits().max_handshake_size).await;
                return Err(Error::Handshake(HandshakeError::Refused(refusal)));
            }
            Err(e) => return Err(Error::Handshake(e)),
        };
        // RFC 7692 §7.1: the server's answer must fit what was offered, and name nothing the
        // connection would not run.
        let conn_config = connection_config(
            conn_config,
            Completed::Client { response: &response, deflate: config.deflate.as_ref() },
        )?;
        let stream = H2Stream::new(send_stream, recv_stream);
        let mut ws = WebSocket::from_parts(stream, Connection::new(conn_config), &[], config.timeouts)?;
        ws.set_high_water_mark(config.high_water_mark);
        Ok((ws, response))
    }
}

/// A WebSocket client's byte stream: an HTTP/2 stream, or an HTTP/1.1 connection (plain or TLS).
/// What [`connect`] returns, whichever the server allowed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientStream {
    /// One stream of an HTTP/2 connection (RFC 8441).
    H2(H2Stream),
    /// A whole connection after an HTTP/1.1 Upgrade (RFC 6455 §4).
    Http1(MaybeTlsStream),
}

impl ClientStream {
    /// Whether the WebSocket runs over HTTP/2.
    pub fn is_h2(&self) -> bool {
        matches!(self, ClientStream::H2(_))
    }
}

/// Connect to a `ws://` or `wss://` URL over HTTP/2 when the server allows WebSockets there
/// (RFC 8441), else with an HTTP/1.1 Upgrade (RFC 6455 §4): see the [module](self) docs for
/// the steps. Returns the WebSocket, the server's answer (200 over HTTP/2, 101 over HTTP/1.1)
/// and, over HTTP/2, the connection's handle for opening more WebSockets on it. The whole
/// connect, fallback included, is bounded by
/// [`Timeouts::handshake`](crate::tokio::Timeouts::handshake).
pub async fn connect(
    url: &str,
    config: &ClientConfig,
) -> Result<(WebSocket<ClientStream>, Response, Option<H2Connection>), Error> {
    let uri = WsUri::parse(url)?;
    let config = Arc::new(config.clone());
    within_handshake_timeout(&config, async {
        let (sock, connecting) = connect_tcp(&uri).await?;
        let attempt = match uri.secure {
            true => match tls(sock, &uri, &config, &[ALPN_H2, ALPN_HTTP1]).await? {
                Negotiated::H2(stream) => Some(H2Connection::handshake_arc(stream, &uri, config.clone()).await?),
                // ALPN chose HTTP/1.1 (or the server ignored ALPN): upgrade on this connection.
                Negotiated::Http1(stream) => return http1(stream, &uri, &config).await,
            },
            // A server that speaks only HTTP/1.1 answers the h2c preface with an error.
            false => H2Connection::handshake_arc(MaybeTlsStream::Plain(sock), &uri, config.clone()).await.ok(),
        };
        drop(connecting);
        match attempt {
            Some(h2) if h2.supports_websocket() => {
                let (ws, response) = h2.open_stream(&uri.resource).await?;
                let (stream, conn) = ws.into_parts();
                let mut ws = WebSocket::from_parts(ClientStream::H2(stream), conn, &[], config.timeouts)?;
                ws.set_high_water_mark(config.high_water_mark);
                Ok((ws, response, Some(h2)))
            }
            // No WebSockets over this HTTP/2 connection: a new connection for HTTP/1.1.
            _ => {
                let (sock, _connecting) = connect_tcp(&uri).await?;
                let stream = match uri.secure {
                    true => match tls(sock, &uri, &config, &[ALPN_HTTP1]).await? {
                        Negotiated::Http1(stream) => stream,
                        Negotiated::H2(_) => return Err(h2_error_text("ALPN chose h2, which was not offered")),
                    },
                    false => MaybeTlsStream::Plain(sock),
                };
                http1(stream, &uri, &config).await
            }
        }
    })
    .await
}

/// The HTTP/1.1 handshake on `stream`, its result in [`connect`]'s shape.
async fn http1(
    stream: MaybeTlsStream,
    uri: &WsUri,
    config: &ClientConfig,
) -> Result<(WebSocket<ClientStream>, Response, Option<H2Connection>), Error> {
    let (ws, response) = crate::tokio::client::handshake(stream, uri, config).await?;
    let high_water_mark = ws.high_water_mark();
    let (stream, conn) = ws.into_parts();
    // Nothing was read past the 101 that the connection does not already hold.
    let mut ws = WebSocket::from_parts(ClientStream::Http1(stream), conn, &[], config.timeouts)?;
    ws.set_high_water_mark(high_water_mark);
    Ok((ws, response, None))
}

/// The HTTP request for `handshake`'s extended CONNECT: method CONNECT, a URI that gives h2 the
/// `:scheme`, `:authority` and `:path`, the `:protocol` as h2's extension, and the headers.
fn extended_connect(handshake: &H2ClientHandshake) -> Result<Request<()>, Error> {
    let uri = format!("{}://{}{}", handshake.scheme(), handshake.authority(), handshake.path());
    let mut request = Request::builder().method(Method::CONNECT).uri(uri);
    for (name, value) in handshake.headers() {
        request = request.header(name.as_str(), value.as_str());
    }
    let mut request = request
        .body(())
        .map_err(|_| HandshakeError::MalformedHttp("the request cannot be expressed as an HTTP/2 request"))?;
    request.extensions_mut().insert(h2::ext::Protocol::from_static(crate::handshake::h2_client::PROTOCOL));
    Ok(request)
}

/// Read a refusal's body, up to `max` bytes (the rest is left unread; the stream is reset when
/// dropped).
async fn read_body(mut body: RecvStream, max: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while out.len() < max {
        let Some(Ok(chunk)) = body.data().await else { break };
        let _ = body.flow_control().release_capacity(chunk.len());
        let room = max - out.len();
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    out
}

async fn within_handshake_timeout<T>(
    config: &ClientConfig,
    work: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    match ::tokio::time::timeout(config.timeouts.handshake, work).await {
        Ok(result) => result,
        Err(_) => Err(Error::Io(io::ErrorKind::TimedOut.into())),
    }
}

const ALPN_H2: &[u8] = b"h2";
const ALPN_HTTP1: &[u8] = b"http/1.1";

/// A TLS connection and the protocol its ALPN chose.
#[cfg_attr(not(feature = "tls"), allow(dead_code))]
enum Negotiated {
    H2(MaybeTlsStream),
    Http1(MaybeTlsStream),
}

/// TLS to `uri`'s host, offering `alpn` (RFC 7301) on top of the configuration's roots.
#[cfg(feature = "tls")]
async fn tls(sock: TcpStream, uri: &WsUri, config: &ClientConfig, alpn: &[&[u8]]) -> Result<Negotiated, Error> {
    let base = config.tls.clone().unwrap_or_else(crate::blocking::tls::default_client_config);
    let mut tls_config = (*base).clone();
    tls_config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let stream = crate::tokio::tls::connect(sock, &uri.host, Arc::new(tls_config)).await?;
    let h2 = stream.get_ref().1.alpn_protocol() == Some(ALPN_H2);
    let stream = MaybeTlsStream::Tls(Box::new(stream.into()));
    Ok(if h2 { Negotiated::H2(stream) } else { Negotiated::Http1(stream) })
}

#[cfg(not(feature = "tls"))]
async fn tls(_: TcpStream, _: &WsUri, _: &ClientConfig, _: &[&[u8]]) -> Result<Negotiated, Error> {
    Err(Error::Handshake(HandshakeError::InvalidUri("wss:// needs TLS: build with the `tls` feature")))
}

fn not_h2() -> Error {
    h2_error_text("the server's ALPN did not choose h2")
}

/// An h2 failure as this crate's error: an I/O error of the kind a TCP stream would report.
fn h2_error(e: h2::Error) -> Error {
    Error::Io(io_error(e))
}

fn h2_error_text(text: &'static str) -> Error {
    Error::Io(io::Error::other(text))
}

impl AsyncRead for ClientStream {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut ::tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::H2(s) => std::pin::Pin::new(s).poll_read(cx, buf),
            ClientStream::Http1(s) => std::pin::Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ClientStream {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        match self.get_mut() {
            ClientStream::H2(s) => std::pin::Pin::new(s).poll_write(cx, buf),
            ClientStream::Http1(s) => std::pin::Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::H2(s) => std::pin::Pin::new(s).poll_flush(cx),
            ClientStream::Http1(s) => std::pin::Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::H2(s) => std::pin::Pin::new(s).poll_shutdown(cx),
            ClientStream::Http1(s) => std::pin::Pin::new(s).poll_shutdown(cx),
        }
    }
}
