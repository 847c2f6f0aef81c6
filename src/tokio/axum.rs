//! An axum extractor for the WebSocket upgrade (feature `axum`), on the async layer and the
//! same handshake as [`super::hyper`].
//!
//! ```no_run
//! use axum::Router;
//! use axum::response::Response;
//! use axum::routing::get;
//! use rfc6455::tokio::axum::WebSocketUpgrade;
//!
//! async fn ws(upgrade: WebSocketUpgrade) -> Response {
//!     upgrade.on_upgrade(|mut ws| async move {
//!         while let Ok(message) = ws.read().await {
//!             if message.is_data() && ws.send(message).await.is_err() {
//!                 break;
//!             }
//!         }
//!     })
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let app = Router::new().route("/ws", get(ws));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9002").await?;
//! axum::serve(listener, app).await
//! # }
//! ```

use std::convert::Infallible;
use std::future::Future;

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use hyper::upgrade::OnUpgrade;

use super::WebSocket;
use super::hyper::{UpgradedStream, core_request, respond};
use super::server::{Decision, ServerConfig};
use crate::handshake::Request;

/// A request that may be upgraded to a WebSocket. Extracting it never fails: the checks of
/// RFC 6455 §4.2.1 run in [`Self::on_upgrade`], which answers a bad request with its HTTP
/// error (400, 405, 426 with `Sec-WebSocket-Version: 13`) as the async server does.
#[derive(Debug)]
pub struct WebSocketUpgrade {
    request: Request,
    on_upgrade: Option<OnUpgrade>,
    config: ServerConfig,
}

impl<S: Send + Sync> FromRequestParts<S> for WebSocketUpgrade {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut http::request::Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(WebSocketUpgrade {
            request: core_request(&parts.method, &parts.uri, parts.version, &parts.headers),
            on_upgrade: parts.extensions.remove::<OnUpgrade>(),
            config: ServerConfig::default(),
        })
    }
}

impl WebSocketUpgrade {
    /// The request as the core's handshake sees it: path, Origin, offered subprotocols,
    /// headers.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Use this configuration (limits, timeouts, permessage-deflate, high-water mark).
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    /// Accept the upgrade and run `callback` on the WebSocket in a task of its own. Returns the
    /// response for the handler to return: the `101`, or the HTTP error of a bad request.
    pub fn on_upgrade<F, Fut>(self, callback: F) -> Response
    where
        F: FnOnce(WebSocket<UpgradedStream>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.on_upgrade_with(|_| Decision::accept(), callback)
    }

    /// [`Self::on_upgrade`], letting `decide` accept (choosing a subprotocol, adding headers) or
    /// refuse the request first.
    pub fn on_upgrade_with<F, Fut>(self, decide: impl FnOnce(&Request) -> Decision, callback: F) -> Response
    where
        F: FnOnce(WebSocket<UpgradedStream>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (response, upgrading) = respond(&self.request, &self.config, decide, self.on_upgrade);
        if let Some(upgrading) = upgrading {
            ::tokio::spawn(async move {
                if let Ok(ws) = upgrading.await {
                    callback(ws).await;
                }
            });
        }
        response.into_response()
    }
}
