//! Upgrading a hyper request to a WebSocket (feature `hyper`): a WebSocket endpoint inside a
//! hyper (or axum) HTTP server, run by the async layer.
//!
//! hyper parses the request; this module checks it with the core's handshake exactly as the
//! async server does ([`Request::from_parts`] from hyper's parsed head, then RFC 6455 §4.2.1
//! validation, the accept/reject hook, permessage-deflate negotiation, the §4.2.2 answer), and
//! gives back the HTTP response to return from the service: `101 Switching Protocols` with an
//! [`Upgrading`] future that yields the [`WebSocket`] once hyper hands over the connection, or
//! the same error answers as the async server (400, 405, 426 with `Sec-WebSocket-Version: 13`,
//! 403 from the hook). Bytes the client sent right behind its request (its first frames), which
//! hyper may already have read, are replayed by hyper's upgraded connection and decoded first.
//!
//! ```no_run
//! use std::convert::Infallible;
//! use hyper::server::conn::http1;
//! use hyper::service::service_fn;
//! use hyper_util::rt::TokioIo;
//! use rfc6455::tokio::ServerConfig;
//! use rfc6455::tokio::hyper::{Body, upgrade};
//!
//! async fn handle(mut request: hyper::Request<hyper::body::Incoming>) -> Result<hyper::Response<Body>, Infallible> {
//!     let (response, upgrading) = upgrade(&mut request, &ServerConfig::default());
//!     if let Some(upgrading) = upgrading {
//!         tokio::spawn(async move {
//!             let Ok(mut ws) = upgrading.await else { return };
//!             while let Ok(message) = ws.read().await {
//!                 if message.is_data() && ws.send(message).await.is_err() {
//!                     break;
//!                 }
//!             }
//!         });
//!     }
//!     Ok(response)
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9002").await?;
//! loop {
//!     let (sock, _) = listener.accept().await?;
//!     tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(sock), service_fn(handle)).with_upgrades());
//! }
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::{HeaderMap, Method, Uri, Version};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;

use super::server::{Answer, Decision, ServerConfig, answer};
use super::{Timeouts, WebSocket};
use crate::config::{Config, Role};
use crate::connection::Connection;
use crate::error::{Error, HandshakeError};
use crate::handshake::{Request, reject_response};
use crate::observe::report_handshake;

/// The body of the responses built here (empty for the 101, a short text for the errors).
pub type Body = http_body_util::Full<Bytes>;

/// The stream of an upgraded connection.
pub type UpgradedStream = TokioIo<Upgraded>;

/// Check `request` as a WebSocket upgrade and accept it. Returns the response to send, and,
/// when it is a `101`, the future that yields the WebSocket once hyper has sent the response and
/// handed over the connection (spawn a task that awaits it). The service must be served
/// `with_upgrades()`.
pub fn upgrade<B>(request: &mut http::Request<B>, config: &ServerConfig) -> (http::Response<Body>, Option<Upgrading>) {
    upgrade_with(request, config, |_| Decision::accept())
}

/// [`upgrade`], letting `decide` accept or refuse the request (by path, Origin, subprotocol,
/// ...), as the async server's hook does. A plain (non-upgrade) request reaches `decide` too;
/// accepting one answers 426.
pub fn upgrade_with<B>(
    request: &mut http::Request<B>,
    config: &ServerConfig,
    decide: impl FnOnce(&Request) -> Decision,
) -> (http::Response<Body>, Option<Upgrading>) {
    let (method, uri, version) = (request.method().clone(), request.uri().clone(), request.version());
    let head = core_request(&method, &uri, version, request.headers());
    respond(&head, config, decide, request.extensions_mut().remove::<OnUpgrade>())
}

/// The upgrade from a request's parts (for frameworks that hand out `http::request::Parts`, as
/// axum's extractors do).
pub fn upgrade_parts(
    parts: &mut http::request::Parts,
    config: &ServerConfig,
    decide: impl FnOnce(&Request) -> Decision,
) -> (http::Response<Body>, Option<Upgrading>) {
    let head = core_request(&parts.method, &parts.uri, parts.version, &parts.headers);
    respond(&head, config, decide, parts.extensions.remove::<OnUpgrade>())
}

/// The core's view of a head hyper parsed.
pub(crate) fn core_request(method: &Method, uri: &Uri, version: Version, headers: &HeaderMap) -> Request {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    // RFC 6455 §4.2.1 item 1: HTTP/1.1 or higher; the core refuses 0 (HTTP/1.0 or older).
    let minor = if version < Version::HTTP_11 { 0 } else { 1 };
    let headers = headers.iter().map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec())).collect();
    Request::from_parts(method.as_str(), path, minor, headers)
}

/// Answer `request`; `on_upgrade` is hyper's handle on the connection, if it can be upgraded.
pub(crate) fn respond(
    request: &Request,
    config: &ServerConfig,
    decide: impl FnOnce(&Request) -> Decision,
    on_upgrade: Option<OnUpgrade>,
) -> (http::Response<Body>, Option<Upgrading>) {
    match answer(request, config, decide) {
        Answer::Upgrade { response, config: conn_config } => match on_upgrade {
            Some(on_upgrade) => {
                if let Some(observer) = conn_config.observer() {
                    // hyper read the request: its head is shown as hyper parsed it.
                    report_handshake(observer.as_ref(), Role::Server, &request_head(request), &response);
                }
                let upgrading = Upgrading {
                    on_upgrade,
                    config: Some(conn_config),
                    timeouts: config.timeouts,
                    high_water_mark: config.high_water_mark,
                };
                (to_http_response(&response), Some(upgrading))
            }
            // Not a connection hyper can hand over (HTTP/2, or a request not from hyper's
            // server): nothing to upgrade.
            None => {
                let error = HandshakeError::MalformedHttp("this connection cannot be upgraded (is it HTTP/1.1?)");
                (to_http_response(&reject_response(&error)), None)
            }
        },
        Answer::Refuse(error) => (to_http_response(&reject_response(&error)), None),
        Answer::Respond(response) => (to_http_response(&response), None),
    }
}

/// A request head as text again, from its parsed parts (for the frame log).
fn request_head(request: &Request) -> Vec<u8> {
    let mut head = format!("{} {} HTTP/1.{}\r\n", request.method, request.path, request.version).into_bytes();
    for (name, value) in &request.headers {
        crate::handshake::push_header(&mut head, name, value);
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// Turn a response the core built as bytes into an `http::Response`: its status, its headers
/// (but the framing ones, which hyper writes for the body it is given) and its body.
fn to_http_response(bytes: &[u8]) -> http::Response<Body> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut parsed = httparse::Response::new(&mut headers);
    let (status, body_at) = match parsed.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => (parsed.code.unwrap_or(500), len),
        // The core's own bytes always parse; answer 500 rather than panic if they did not.
        _ => (500, bytes.len()),
    };
    let mut response = http::Response::new(Body::new(Bytes::copy_from_slice(&bytes[body_at..])));
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    for header in parsed.headers.iter() {
        let framing =
            header.name.eq_ignore_ascii_case("content-length") || header.name.eq_ignore_ascii_case("transfer-encoding");
        if framing {
            continue;
        }
        if let (Ok(name), Ok(value)) =
            (http::HeaderName::from_bytes(header.name.as_bytes()), http::HeaderValue::from_bytes(header.value))
        {
            response.headers_mut().append(name, value);
        }
    }
    response
}

/// The upgrade in progress: resolves to the [`WebSocket`] once hyper has sent the 101 and
/// handed over the connection.
#[derive(Debug)]
pub struct Upgrading {
    on_upgrade: OnUpgrade,
    config: Option<Config>,
    timeouts: Timeouts,
    high_water_mark: usize,
}

impl Future for Upgrading {
    type Output = Result<WebSocket<UpgradedStream>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let upgraded =
            ready!(Pin::new(&mut this.on_upgrade).poll(cx)).map_err(|e| Error::Io(std::io::Error::other(e)))?;
        let config = this.config.take().ok_or(Error::Usage(crate::error::UsageError::Closed))?;
        // Bytes hyper read past the request are inside `upgraded` and come out of its first
        // reads: no leftover to pass here.
        let mut ws = WebSocket::from_parts(TokioIo::new(upgraded), Connection::new(config), &[], this.timeouts)?;
        ws.set_high_water_mark(this.high_water_mark);
        Poll::Ready(Ok(ws))
    }
}
