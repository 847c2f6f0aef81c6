//! The server's opening handshake on an accepted stream (RFC 6455 §4.2), async.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use rfc6455::tokio::{ServerConfig, accept};
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
//! let config = std::sync::Arc::new(ServerConfig::default());
//! loop {
//!     let (sock, _) = listener.accept().await?;
//!     let config = config.clone();
//!     tokio::spawn(async move {
//!         let Ok(mut ws) = accept(sock, &config).await else { return };
//!         while let Ok(message) = ws.read().await {
//!             if message.is_data() && ws.send(message).await.is_err() {
//!                 break;
//!             }
//!         }
//!     });
//! }
//! # }
//! ```
//!
//! The same steps and answers as the blocking server, on the same sans-IO handshake
//! ([`ServerHandshake`]): the request is read within [`Timeouts::handshake`]; a request that is
//! not a WebSocket upgrade reaches the application's hook, which may answer it with a page
//! ([`Decision::Respond`]), and otherwise gets 426; an invalid upgrade gets the status its error
//! names (400, 405, 426 with `Sec-WebSocket-Version: 13`, 431); permessage-deflate is
//! negotiated when [`ServerConfig::deflate`] is set. For `wss://`, run the TLS handshake first
//! (`tls::accept`, feature `tls`) and hand the TLS stream in.

use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{Timeouts, WebSocket};
use crate::config::{Config, Role};
use crate::connection::Connection;
use crate::error::{Error, HandshakeError};
use crate::extensions::permessage_deflate::DeflateConfig;
use crate::extensions::{Extension, parse_extensions};
use crate::handshake::{Completed, Request, ServerHandshake, accept_response, connection_config, reject_response};
use crate::observe::report_handshake;

pub use crate::blocking::Decision;

/// How a server runs its connections.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The connection's configuration (its role is set to server).
    pub config: Config,
    /// Handshake and close timeouts.
    pub timeouts: Timeouts,
    /// Accept permessage-deflate (RFC 7692) when a client offers it, with these preferences.
    /// Off by default: compression costs CPU on every message.
    pub deflate: Option<DeflateConfig>,
    /// The back-pressure mark of each connection (see [`WebSocket::high_water_mark`]).
    pub high_water_mark: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            config: Config::server(),
            timeouts: Timeouts::default(),
            deflate: None,
            high_water_mark: super::DEFAULT_HIGH_WATER_MARK,
        }
    }
}

/// Run the server side of the handshake on `stream` and accept any valid request. A plain
/// HTTP request is answered with 426 Upgrade Required.
pub async fn accept<S>(stream: S, config: &ServerConfig) -> Result<WebSocket<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    accept_with(stream, config, |_| Decision::accept()).await
}

/// Run the server side of the handshake on `stream`, letting `decide` answer the request (by
/// path, Origin, subprotocol, or anything in its headers). Plain HTTP requests reach `decide`
/// too: answer them with [`Decision::Respond`]. Returns [`Error::Handshake`] when the
/// connection did not become a WebSocket (the client has had its answer), and an
/// [`Error::Io`] of kind `TimedOut` when the request did not arrive within
/// [`Timeouts::handshake`].
pub async fn accept_with<S>(
    stream: S,
    config: &ServerConfig,
    decide: impl FnOnce(&Request) -> Decision,
) -> Result<WebSocket<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match ::tokio::time::timeout(config.timeouts.handshake, handshake(stream, config, decide)).await {
        Ok(result) => result,
        Err(_) => Err(Error::Io(std::io::ErrorKind::TimedOut.into())),
    }
}

async fn handshake<S>(
    mut stream: S,
    config: &ServerConfig,
    decide: impl FnOnce(&Request) -> Decision,
) -> Result<WebSocket<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut handshake = ServerHandshake::new(config.config.limits().max_handshake_size);
    let mut buf = [0u8; 2048];
    let request = loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(Error::Handshake(HandshakeError::MalformedHttp("connection closed during the handshake")));
        }
        match handshake.receive(&buf[..n]) {
            Ok(Some(request)) => break request,
            Ok(None) => {}
            Err(error) => return Err(refuse(&mut stream, error).await),
        }
    };
    match answer(&request, config, decide) {
        Answer::Upgrade { response, config: conn_config } => {
            stream.write_all(&response).await?;
            stream.flush().await?;
            if let Some(observer) = conn_config.observer() {
                report_handshake(observer.as_ref(), Role::Server, handshake.request_head(), &response);
            }
            let mut ws =
                WebSocket::from_parts(stream, Connection::new(conn_config), handshake.remainder(), config.timeouts)?;
            ws.set_high_water_mark(config.high_water_mark);
            Ok(ws)
        }
        Answer::Refuse(error) => Err(refuse(&mut stream, error).await),
        Answer::Respond(response) => {
            let _ = stream.write_all(&response).await;
            let _ = stream.shutdown().await;
            Err(Error::Handshake(HandshakeError::AnsweredOverHttp { status: response_status(&response) }))
        }
    }
}

/// What to answer a complete request with.
pub(crate) enum Answer {
    /// 101: `response` to send, then run a connection with `config`.
    Upgrade { response: Vec<u8>, config: Config },
    /// An HTTP error answer ([`reject_response`]).
    Refuse(HandshakeError),
    /// The application's own HTTP response.
    Respond(Vec<u8>),
}

/// Decide on a request the way the blocking server does: validate an upgrade (§4.2.1), ask the
/// application, negotiate permessage-deflate (RFC 7692 §5), build the 101 (§4.2.2).
pub(crate) fn answer(request: &Request, config: &ServerConfig, decide: impl FnOnce(&Request) -> Decision) -> Answer {
    let decision = if request.is_websocket_upgrade() {
        // RFC 6455 §4.2.1: an invalid request gets an HTTP error, and no WebSocket.
        if let Err(error) = request.validate_websocket() {
            return Answer::Refuse(error);
        }
        decide(request)
    } else {
        match decide(request) {
            // A plain HTTP request cannot be upgraded: tell the client what the port speaks.
            Decision::Accept { .. } => Decision::Reject {
                status: 426,
                reason: "this endpoint speaks WebSocket (RFC 6455); send an Upgrade request".into(),
            },
            other => other,
        }
    };
    match decision {
        Decision::Accept { subprotocol, headers } => {
            let (headers, conn_config) = match negotiate(request, config, headers) {
                Ok(agreed) => agreed,
                Err(error) => return Answer::Refuse(error),
            };
            let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            match accept_response(request, subprotocol.as_deref(), &headers) {
                Ok(response) => Answer::Upgrade { response, config: conn_config },
                Err(error) => Answer::Refuse(error),
            }
        }
        Decision::Reject { status, reason } => Answer::Refuse(HandshakeError::Rejected { status, reason }),
        Decision::Respond(response) => Answer::Respond(response),
    }
}

/// Complete an accepted request's answer and the connection it leads to, whatever the
/// transport: permessage-deflate's answer added to `headers` when [`ServerConfig::deflate`] is
/// set and the client offered it (RFC 6455 §9.1, RFC 7692 §5), and the connection's
/// configuration from what the answer accepts ([`connection_config`]), so an extension the
/// connection cannot run is refused before the answer goes out.
pub(crate) fn negotiate(
    request: &Request,
    config: &ServerConfig,
    mut headers: Vec<(String, String)>,
) -> Result<(Vec<(String, String)>, Config), HandshakeError> {
    if let Some(deflate) = &config.deflate
        && let Some((_, answer)) = deflate.negotiate(&parse_offers(request)?)
    {
        headers.push(("Sec-WebSocket-Extensions".into(), answer.to_string()));
    }
    let answer: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let completed = Completed::Server { request, headers: &answer, deflate: config.deflate.as_ref() };
    let conn_config = connection_config(config.config.clone(), completed)?;
    Ok((headers, conn_config))
}

/// Every extension the client offered, across all its `Sec-WebSocket-Extensions` headers.
fn parse_offers(request: &Request) -> Result<Vec<Extension>, HandshakeError> {
    let mut offers = Vec::new();
    for value in &request.extensions {
        offers.extend(parse_extensions(value)?);
    }
    Ok(offers)
}

/// Answer a failed handshake with its HTTP status and end the stream (§4.2.1, §4.4).
async fn refuse<S: AsyncWrite + Unpin>(stream: &mut S, error: HandshakeError) -> Error {
    let _ = stream.write_all(&reject_response(&error)).await;
    let _ = stream.shutdown().await;
    Error::Handshake(error)
}

/// The status code of a response built by the application (for the error it is reported in).
pub(crate) fn response_status(response: &[u8]) -> u16 {
    response
        .get(9..12)
        .and_then(|digits| std::str::from_utf8(digits).ok())
        .and_then(|digits| digits.parse().ok())
        .unwrap_or(200)
}
