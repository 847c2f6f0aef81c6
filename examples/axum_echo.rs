//! An axum server with a WebSocket echo on `/ws` and a page on `/` that uses it.
//!
//! ```text
//! cargo run --release --features tokio,axum --example axum_echo -- 127.0.0.1:9002
//! ```
//!
//! The upgrade goes through the crate's own handshake ([`rfc6455::tokio::axum::WebSocketUpgrade`],
//! feature `axum`, which turns on `tokio` and `hyper`): the same checks, answers and
//! permessage-deflate negotiation as the async server, then the async layer runs the
//! connection. Open `http://127.0.0.1:9002/` in a browser to try it. Runs on a current-thread
//! runtime.

use axum::Router;
use axum::response::{Html, Response};
use axum::routing::get;
use rfc6455::extensions::permessage_deflate::DeflateConfig;
use rfc6455::tokio::ServerConfig;
use rfc6455::tokio::axum::WebSocketUpgrade;
use rfc6455::{Event, MessageKind};

const PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<title>rfc6455 axum echo</title>
<h1>axum echo</h1>
<form id="form"><input id="text" value="hello" autofocus> <button>send</button></form>
<pre id="log"></pre>
<script>
const log = (line) => document.getElementById("log").textContent += line + "\n";
const ws = new WebSocket(`ws://${location.host}/ws`);
ws.onopen = () => log("open (extensions: " + (ws.extensions || "none") + ")");
ws.onmessage = (event) => log("echo: " + event.data);
ws.onclose = (event) => log("closed: " + event.code);
document.getElementById("form").onsubmit = (event) => {
  event.preventDefault();
  ws.send(document.getElementById("text").value);
};
</script>
"#;

async fn page() -> Html<&'static str> {
    Html(PAGE)
}

async fn ws(upgrade: WebSocketUpgrade) -> Response {
    let config = ServerConfig { deflate: Some(DeflateConfig::default()), ..ServerConfig::default() };
    upgrade.config(config).on_upgrade(|mut ws| async move {
        // Every message of a batch echoed from the connection's buffers, one write per batch.
        while ws
            .respond_batch(|event| match event {
                Event::Text(text) => Some((MessageKind::Text, text.as_bytes())),
                Event::Binary(data) => Some((MessageKind::Binary, data)),
                _ => None,
            })
            .await
            .is_ok()
        {}
    })
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9002".to_string());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let app = Router::new().route("/", get(page)).route("/ws", get(ws));
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        println!("axum echo on http://{0}/ (WebSocket: ws://{0}/ws)", listener.local_addr()?);
        axum::serve(listener, app).await
    })
}
