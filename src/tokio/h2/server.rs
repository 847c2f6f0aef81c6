//! Serving WebSockets over one HTTP/2 connection (RFC 8441), on the h2 crate's server.
//!
//! [`handshake`] runs HTTP/2's connection preface on an accepted stream (TLS that chose `h2` by
//! ALPN, or cleartext h2c with prior knowledge) and sends SETTINGS with
//! `SETTINGS_ENABLE_CONNECT_PROTOCOL = 1` (RFC 8441 §3), the server's offer of WebSockets.
//! [`Connection::accept`] then yields each request as it arrives, on any stream, many at once:
//!
//! - [`Incoming::WebSocket`]: a WebSocket attempt (any extended CONNECT, answered 501 unless
//!   its `:protocol` is `websocket`, or a request carrying `sec-websocket-*` fields). Answer it with
//!   [`WebSocketRequest::accept_with`]: the same checks, hook ([`Decision`]) and
//!   permessage-deflate negotiation as the HTTP/1.1 server, a `200` and a [`WebSocket`] over
//!   the stream ([`H2Stream`]), or the refusal's status (400 for a wrong version, see
//!   [`reject`]).
//! - [`Incoming::Request`]: anything else (the page that opens the WebSocket, its images), for
//!   the application, on the same connection.
//!
//! The connection is driven by whoever calls [`Connection::accept`]: keep calling it for as
//! long as its streams live (each WebSocket runs in its own task). [`serve_connection`] does
//! that, spawning a task per WebSocket and answering plain requests with a callback.
//!
//! # Flow control
//!
//! Each stream's receive window is opened only as its WebSocket reads ([`H2Stream`]), so a slow
//! reader holds back its own sender and nobody else. The connection's window is sized so that
//! no stream can starve the others: [`H2Settings::connection_window`] is the stream window
//! times the most concurrent streams, so even with every other stream's window full and unread,
//! a stream still finds room in the connection's.
//!
//! # TLS
//!
//! With feature `tls`, `alpn_h2_and_http11` makes a rustls configuration offer `h2` and
//! `http/1.1` by ALPN (RFC 7301), and `negotiated_h2` tells which one a client chose, so one
//! TLS port serves HTTP/2 to browsers and HTTP/1.1 Upgrade (to [`super::super::accept_with`])
//! to clients that do not speak HTTP/2.

use std::future::Future;
use std::sync::Arc;

use ::h2::RecvStream;
use ::h2::server::SendResponse;
use ::tokio::io::{AsyncRead, AsyncWrite};
use bytes::Bytes;

use super::H2Stream;
use super::stream::io_error;
use crate::config::Role;
use crate::connection::Connection as Core;
use crate::error::{Error, HandshakeError};
use crate::handshake::h2_server::{ConnectRequest, H2Response, PseudoHeaders, reject};
use crate::handshake::{Request, push_header};
use crate::observe::report_handshake;
use crate::tokio::WebSocket;
use crate::tokio::server::{Decision, ServerConfig, negotiate};

/// HTTP/2 settings of a served connection (RFC 9113 §6.5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct H2Settings {
    /// `SETTINGS_MAX_CONCURRENT_STREAMS`: the most streams (WebSockets and plain requests) open
    /// at once on one connection. Default 128.
    pub max_concurrent_streams: u32,
    /// `SETTINGS_INITIAL_WINDOW_SIZE`: how many bytes a client may send on one stream before
    /// its WebSocket reads them. Default 64 KiB.
    pub stream_window: u32,
    /// `SETTINGS_MAX_FRAME_SIZE`: the largest DATA frame the client may send (RFC 9113 §4.2:
    /// 16,384 to 16,777,215). Default 16 KiB.
    pub max_frame_size: u32,
}

impl Default for H2Settings {
    fn default() -> Self {
        H2Settings { max_concurrent_streams: 128, stream_window: 64 << 10, max_frame_size: 16 << 10 }
    }
}

impl H2Settings {
    /// The connection's receive window: every stream's window at once (capped at HTTP/2's
    /// largest window, 2^31 - 1), so streams that do not read never use up the window of one
    /// that does.
    pub fn connection_window(&self) -> u32 {
        let all = u64::from(self.stream_window) * u64::from(self.max_concurrent_streams.max(1));
        all.min(MAX_WINDOW) as u32
    }
}

/// RFC 9113 §6.9.1: a flow-control window is at most 2^31 - 1.
const MAX_WINDOW: u64 = (1 << 31) - 1;

/// One HTTP/2 connection, serving WebSockets and plain requests: see the [module](self).
#[derive(Debug)]
pub struct Connection<IO> {
    inner: ::h2::server::Connection<IO, Bytes>,
    config: Arc<ServerConfig>,
}

/// Run HTTP/2's connection preface (RFC 9113 §3.4) on `io`, offering extended CONNECT (RFC 8441
/// §3: `SETTINGS_ENABLE_CONNECT_PROTOCOL = 1`), within [`Timeouts::handshake`](super::super::Timeouts).
/// `config` gives every WebSocket on the connection its limits, timeouts and
/// permessage-deflate preferences.
pub async fn handshake<IO>(io: IO, config: Arc<ServerConfig>, settings: &H2Settings) -> Result<Connection<IO>, Error>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let mut builder = ::h2::server::Builder::new();
    builder
        // RFC 8441 §3: the server's offer; without it a client must not send :protocol.
        .enable_connect_protocol()
        .max_concurrent_streams(settings.max_concurrent_streams)
        .initial_window_size(settings.stream_window)
        .initial_connection_window_size(settings.connection_window())
        .max_frame_size(settings.max_frame_size)
        .max_header_list_size(config.config.limits().max_handshake_size.min(u32::MAX as usize) as u32);
    match ::tokio::time::timeout(config.timeouts.handshake, builder.handshake(io)).await {
        Ok(Ok(inner)) => Ok(Connection { inner, config }),
        Ok(Err(e)) => Err(Error::Io(io_error(e))),
        Err(_) => Err(Error::Io(std::io::ErrorKind::TimedOut.into())),
    }
}

/// A request that arrived on the connection.
#[derive(Debug)]
#[non_exhaustive]
pub enum Incoming {
    /// A WebSocket attempt: answer it with [`WebSocketRequest::accept_with`] (or drop it to
    /// reset the stream).
    WebSocket(WebSocketRequest),
    /// Any other request, with the handle to answer it: the application's (a page, a 404).
    Request(http::Request<RecvStream>, SendResponse<Bytes>),
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Connection<IO> {
    /// The next request on any stream, or `None` once the connection is over. This call also
    /// drives the connection (reads and writes every stream's frames): keep calling it while
    /// any of its WebSockets runs.
    pub async fn accept(&mut self) -> Option<Result<Incoming, Error>> {
        let (request, respond) = match self.inner.accept().await? {
            Ok(next) => next,
            Err(e) => return Some(Err(Error::Io(io_error(e)))),
        };
        let connect = connect_request(&request);
        if !connect.is_websocket_attempt() {
            return Some(Ok(Incoming::Request(request, respond)));
        }
        let recv = request.into_body();
        Some(Ok(Incoming::WebSocket(WebSocketRequest { connect, recv, respond, config: self.config.clone() })))
    }

    /// Stop taking new streams (GOAWAY, RFC 9113 §6.8) and end the connection once the open
    /// ones have ended; keep calling [`accept`](Self::accept) until it returns `None`.
    pub fn graceful_shutdown(&mut self) {
        self.inner.graceful_shutdown();
    }
}

/// The core's view of a request the h2 crate decoded: its pseudo-header fields (the h2 crate
/// puts `:scheme`, `:authority` and `:path` into the URI and `:protocol` into an extension)
/// and its regular fields.
fn connect_request<B>(request: &http::Request<B>) -> ConnectRequest {
    let uri = request.uri();
    let pseudo = PseudoHeaders {
        method: Some(request.method().as_str().to_owned()),
        scheme: uri.scheme_str().map(str::to_owned),
        authority: uri.authority().map(|a| a.as_str().to_owned()),
        path: uri.path_and_query().map(|p| p.as_str().to_owned()),
        protocol: request.extensions().get::<::h2::ext::Protocol>().map(|p| p.as_str().to_owned()),
    };
    let headers = request.headers().iter().map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec())).collect();
    ConnectRequest::from_parts(pseudo, headers)
}

/// A WebSocket attempt on one stream, not answered yet.
#[derive(Debug)]
pub struct WebSocketRequest {
    connect: ConnectRequest,
    recv: RecvStream,
    respond: SendResponse<Bytes>,
    config: Arc<ServerConfig>,
}

impl WebSocketRequest {
    /// The request, as the HTTP/1.1 server would show it to its hook (`path`, `host` from
    /// `:authority`, `origin`, `subprotocols`, every header; `version` is 2).
    pub fn request(&self) -> &Request {
        &self.connect.request
    }

    /// The request with its pseudo-header fields.
    pub fn connect_request(&self) -> &ConnectRequest {
        &self.connect
    }

    /// Accept any valid request (see [`accept_with`](Self::accept_with)).
    pub fn accept(self) -> Result<WebSocket<H2Stream>, Error> {
        self.accept_with(|_| Decision::accept())
    }

    /// Check the request (RFC 8441 §4, §5; [`ConnectRequest::validate_websocket`]), let
    /// `decide` accept or refuse it, agree on permessage-deflate, and answer: `200` and the
    /// WebSocket over this stream, or the refusal's status, and [`Error::Handshake`].
    /// The answer is queued on the connection at once; it goes out as the connection is driven.
    pub fn accept_with(self, decide: impl FnOnce(&Request) -> Decision) -> Result<WebSocket<H2Stream>, Error> {
        let WebSocketRequest { connect, recv, mut respond, config } = self;
        let (answer, conn_config) = match answer(&connect, &config, decide) {
            Ok(accepted) => accepted,
            Err((refusal, error)) => {
                send_response(&mut respond, refusal)?;
                return Err(Error::Handshake(error));
            }
        };
        let head = response_head(&answer)?;
        // RFC 8441 §5: a 2xx, and the stream stays open: it carries the WebSocket's bytes.
        let send = respond.send_response(head, false).map_err(|e| Error::Io(io_error(e)))?;
        if let Some(observer) = conn_config.observer() {
            // The frame log's handshake record is text; over HTTP/2 the heads are header lists,
            // so they are written out one field a line, pseudo-header fields first.
            report_handshake(observer.as_ref(), Role::Server, &request_lines(&connect), &response_lines(&answer));
        }
        let stream = H2Stream::new(send, recv);
        let mut ws = WebSocket::from_parts(stream, Core::new(conn_config), &[], config.timeouts)?;
        ws.set_high_water_mark(config.high_water_mark);
        Ok(ws)
    }
}

/// The answer that accepts a WebSocket attempt and the connection's configuration, or the
/// answer that refuses it and why.
fn answer(
    connect: &ConnectRequest,
    config: &ServerConfig,
    decide: impl FnOnce(&Request) -> Decision,
) -> Result<(H2Response, crate::Config), (H2Response, HandshakeError)> {
    let refuse = |error: HandshakeError| (reject(&error), error);
    // RFC 8441 §4, §5, and RFC 6455 §4.2.1's version, subprotocol and extension rules.
    connect.validate_websocket().map_err(refuse)?;
    match decide(&connect.request) {
        Decision::Accept { subprotocol, headers } => {
            let (headers, conn_config) = negotiate(&connect.request, config, headers).map_err(refuse)?;
            let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let response = connect.accept(subprotocol.as_deref(), &headers).map_err(refuse)?;
            Ok((response, conn_config))
        }
        Decision::Reject { status, reason } => Err(refuse(HandshakeError::Rejected { status, reason })),
        Decision::Respond(bytes) => {
            let response = H2Response::from_http1(&bytes);
            let status = response.status;
            Err((response, HandshakeError::AnsweredOverHttp { status }))
        }
    }
}

/// An extended CONNECT as text for the frame log: `name: value` lines, the pseudo-header fields
/// first (RFC 9113 §8.3), then the regular fields, and an empty line.
fn request_lines(connect: &ConnectRequest) -> Vec<u8> {
    let pseudo = &connect.pseudo;
    let mut text = Vec::with_capacity(256);
    for (name, value) in [
        (":method", &pseudo.method),
        (":protocol", &pseudo.protocol),
        (":scheme", &pseudo.scheme),
        (":authority", &pseudo.authority),
        (":path", &pseudo.path),
    ] {
        if let Some(value) = value {
            push_header(&mut text, name, value);
        }
    }
    for (name, value) in &connect.request.headers {
        push_header(&mut text, name, value);
    }
    text.extend_from_slice(b"\r\n");
    text
}

/// An HTTP/2 answer as text for the frame log, in the same form as [`request_lines`].
fn response_lines(answer: &H2Response) -> Vec<u8> {
    let mut text = Vec::with_capacity(128);
    push_header(&mut text, ":status", answer.status.to_string());
    for (name, value) in &answer.headers {
        push_header(&mut text, name, value);
    }
    text.extend_from_slice(b"\r\n");
    text
}

/// The head of an HTTP/2 response (`:status` and the regular fields).
fn response_head(answer: &H2Response) -> Result<http::Response<()>, Error> {
    let mut head = http::Response::new(());
    *head.status_mut() = http::StatusCode::from_u16(answer.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in &answer.headers {
        let name = http::HeaderName::from_bytes(name.as_bytes());
        let value = http::HeaderValue::from_str(value);
        match (name, value) {
            (Ok(name), Ok(value)) => {
                head.headers_mut().append(name, value);
            }
            _ => return Err(Error::Handshake(HandshakeError::MalformedHttp("a header HTTP/2 cannot carry"))),
        }
    }
    Ok(head)
}

/// Send a complete response: the head, then the body with END_STREAM.
pub fn send_response(respond: &mut SendResponse<Bytes>, answer: H2Response) -> Result<(), Error> {
    let head = response_head(&answer)?;
    let end = answer.body.is_empty();
    let mut send = respond.send_response(head, end).map_err(|e| Error::Io(io_error(e)))?;
    if !end {
        send.send_data(Bytes::from(answer.body), true).map_err(|e| Error::Io(io_error(e)))?;
    }
    Ok(())
}

/// Serve one HTTP/2 connection until it ends: each WebSocket attempt is checked and answered
/// with `decide` (as [`WebSocketRequest::accept_with`]) and, once accepted, handed to
/// `on_websocket` in a task of its own, with its request; every other request is answered with
/// what `on_request` returns for its head (a page, a 404; the request's body is not read).
/// Returns when the client closes the connection, or with the connection's error.
pub async fn serve_connection<IO, D, W, F, R>(
    io: IO,
    config: Arc<ServerConfig>,
    settings: &H2Settings,
    decide: D,
    on_websocket: W,
    on_request: R,
) -> Result<(), Error>
where
    IO: AsyncRead + AsyncWrite + Unpin,
    D: Fn(&Request) -> Decision,
    W: Fn(WebSocket<H2Stream>, Request) -> F,
    F: Future<Output = ()> + Send + 'static,
    R: Fn(&http::request::Parts) -> H2Response,
{
    let mut conn = handshake(io, config, settings).await?;
    while let Some(incoming) = conn.accept().await {
        match incoming? {
            Incoming::WebSocket(attempt) => {
                let request = attempt.request().clone();
                // A refused attempt has had its answer; the connection goes on.
                if let Ok(ws) = attempt.accept_with(&decide) {
                    ::tokio::spawn(on_websocket(ws, request));
                }
            }
            Incoming::Request(request, mut respond) => {
                let (parts, _body) = request.into_parts();
                // A client that reset the stream meanwhile makes this fail: only its stream.
                let _ = send_response(&mut respond, on_request(&parts));
            }
        }
    }
    Ok(())
}

/// Offer `h2` and `http/1.1` by ALPN (RFC 7301), HTTP/2 first, on a TLS server configuration
/// (feature `tls`), so one port serves both: see [`negotiated_h2`].
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub fn alpn_h2_and_http11(config: Arc<rustls::ServerConfig>) -> Arc<rustls::ServerConfig> {
    let mut config = Arc::unwrap_or_clone(config);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

/// Whether the client chose HTTP/2 by ALPN on this TLS connection (feature `tls`). If not, it
/// speaks HTTP/1.1: hand the stream to [`accept_with`](crate::tokio::accept_with).
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub fn negotiated_h2(stream: &crate::tokio::tls::ServerTlsStream) -> bool {
    stream.get_ref().1.alpn_protocol() == Some(b"h2")
}
