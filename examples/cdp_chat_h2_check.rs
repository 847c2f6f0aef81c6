//! Checks the chat demo over HTTP/2 in a real browser: headless Chromium, driven over the
//! DevTools protocol by this crate's own client, opens the chat page from `chat --h2`'s front
//! over `https://` in two tabs, joins the same room in both, and sees a message typed in one
//! appear in the other and the answer come back. Then it shows from the browser's own records
//! that the page came over HTTP/2 and that the chat's WebSockets were extended CONNECTs (RFC
//! 8441) on the page's HTTP/2 connection. Run by `scripts/browser_chat_h2_test.sh`.
//!
//! ```text
//! cargo run --features tls,h2 --example cdp_chat_h2_check -- https://127.0.0.1:8443/ [SERVER_LOG]
//! ```
//!
//! The evidence, as in `examples/cdp_h2_check.rs`:
//! - **DevTools' Network domain**: the page's response has `protocol: "h2"`; each WebSocket's
//!   handshake was answered `200` (RFC 8441 §5; an HTTP/1.1 upgrade answers `101`).
//! - **Chromium's NetLog** (`--log-net-log`): one `HTTP2_SESSION` sent the page's `GET /` and
//!   each WebSocket's `CONNECT` with `:protocol: websocket` and `:path: /ws`.
//! - **The front's log** (when its path is given): the HTTP/2 connection that served `GET /`
//!   joined the WebSockets to the chat's HTTP/1.1 `101`, each on its own stream.
//!
//! The front's self-signed certificate is accepted with `--ignore-certificate-errors`. Exit
//! status 0 when every check passes.

#[path = "common/cdp.rs"]
mod cdp;
#[path = "common/chat_page.rs"]
mod chat_page;
#[path = "common/netlog.rs"]
mod netlog;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use cdp::{Browser, CdpError, DevTools, Page};
use chat_page::{STEP, join, say, shows_message};
use serde_json::{Value, json};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(url) = args.next() else {
        eprintln!("usage: cdp_chat_h2_check https://127.0.0.1:PORT/ [SERVER_LOG]");
        return ExitCode::from(2);
    };
    let server_log = args.next();
    let netlog_dir = std::env::temp_dir().join(format!("rfc6455-chat-netlog-{}", std::process::id()));
    let result = std::fs::create_dir_all(&netlog_dir)
        .map_err(CdpError::from)
        .and_then(|()| check(&url, &netlog_dir.join("netlog.json"), server_log.as_deref()));
    let _ = std::fs::remove_dir_all(&netlog_dir);
    match result {
        Ok(evidence) => {
            for line in evidence {
                println!("  {line}");
            }
            println!("browser chat h2 check passed");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("browser chat h2 check FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

fn check(url: &str, netlog: &Path, server_log: Option<&str>) -> Result<Vec<String>, CdpError> {
    let mut evidence = Vec::new();
    let switches = ["--ignore-certificate-errors".to_owned(), format!("--log-net-log={}", netlog.display())];
    let browser = Browser::launch_with(&switches)?;
    let mut devtools = browser.connect()?;
    devtools.keep_events(true);
    let ada = open_chat(&mut devtools, url)?;
    let grace = open_chat(&mut devtools, url)?;
    join(&mut devtools, &ada, "lobby", "Ada")?;
    join(&mut devtools, &grace, "lobby", "Grace")?;
    devtools.wait_for(&ada, &chat_page::member_count_is(2), STEP)?;
    let first = "Hello from Ada, over HTTP/2 and the front";
    say(&mut devtools, &ada, first)?;
    devtools.wait_for(&grace, &shows_message(first), STEP)?;
    let reply = "Grace here: it came through";
    say(&mut devtools, &grace, reply)?;
    devtools.wait_for(&ada, &shows_message(reply), STEP)?;
    let extensions = devtools.eval(&ada, "chat.ws.extensions")?;
    let protocol = devtools.eval(&ada, "performance.getEntriesByType('navigation')[0].nextHopProtocol")?;
    evidence.push(format!(
        "chat: Ada and Grace joined #lobby in two tabs; Ada's message reached Grace and Grace's answer came back \
         (WebSocket extensions {extensions}, page nextHopProtocol {protocol})"
    ));
    evidence.extend(devtools_evidence(&devtools.take_events(), url)?);
    // Closing the browser through DevTools lets it finish its NetLog.
    let _ = devtools.call(None, "Browser.close", json!({}));
    let log = netlog::read_netlog(netlog)?;
    let shared = netlog::shared_session(&log, "/ws", 2)?;
    evidence.push(format!(
        "NetLog: HTTP2_SESSION {} sent GET / ({} times) and {} CONNECT /ws... with :protocol: websocket \
         (RFC 8441 extended CONNECT): one connection for the pages and their WebSockets",
        shared.session, shared.pages, shared.websockets
    ));
    drop(browser);
    if let Some(path) = server_log {
        evidence.extend(server_evidence(path)?);
    }
    Ok(evidence)
}

/// Open the chat page in a tab, with DevTools' Network domain on from the start, and wait
/// until its WebSocket is open.
fn open_chat(devtools: &mut DevTools, url: &str) -> Result<Page, CdpError> {
    let page = devtools.open_blank(chat_page::WIDTH, chat_page::HEIGHT)?;
    devtools.call(Some(&page), "Network.enable", json!({}))?;
    devtools.navigate(&page, url)?;
    chat_page::wait_connected(devtools, &page)?;
    Ok(page)
}

/// What DevTools' Network domain reported: the page's protocol, and each WebSocket's
/// handshake status.
fn devtools_evidence(events: &[Value], url: &str) -> Result<Vec<String>, CdpError> {
    let of = |method: &'static str| events.iter().filter(move |e| e["method"] == method).map(|e| &e["params"]);
    let documents: Vec<&Value> =
        of("Network.responseReceived").filter(|p| p["type"] == "Document" && p["response"]["url"] == url).collect();
    if documents.len() < 2 {
        return Err(CdpError(format!("expected the page in two tabs, DevTools saw {}", documents.len())));
    }
    let mut lines = Vec::new();
    for document in documents {
        let protocol = document["response"]["protocol"].as_str().unwrap_or("?");
        if protocol != "h2" {
            return Err(CdpError(format!("the page came over {protocol:?}, not h2")));
        }
        lines.push(format!(
            "page {url}: protocol {protocol:?}, connectionId {} (DevTools Network.responseReceived)",
            document["response"]["connectionId"]
        ));
    }
    let sockets: BTreeMap<&str, &str> =
        of("Network.webSocketCreated").filter_map(|p| Some((p["requestId"].as_str()?, p["url"].as_str()?))).collect();
    let handshakes: Vec<&Value> = of("Network.webSocketHandshakeResponseReceived").collect();
    if handshakes.len() < 2 {
        return Err(CdpError(format!("expected the two tabs' WebSockets, DevTools saw {}", handshakes.len())));
    }
    for handshake in handshakes {
        let status = &handshake["response"]["status"];
        let socket = handshake["requestId"].as_str().and_then(|id| sockets.get(id)).copied().unwrap_or("?");
        // RFC 8441 §5: an extended CONNECT is accepted with a 2xx; RFC 6455's upgrade with 101.
        if status != 200 {
            return Err(CdpError(format!("the WebSocket {socket} was accepted with {status}, not RFC 8441's 200")));
        }
        let extensions = handshake["response"]["headers"]["sec-websocket-extensions"].as_str().unwrap_or("");
        lines.push(format!(
            "WebSocket {socket}: handshake status {status}, sec-websocket-extensions {extensions:?} \
             (DevTools Network.webSocketHandshakeResponseReceived; an HTTP/1.1 upgrade answers 101)"
        ));
    }
    Ok(lines)
}

/// From the front's log: the HTTP/2 connection that served `GET /`, and the WebSockets it
/// joined to the chat's `101`, with their streams.
fn server_evidence(path: &str) -> Result<Vec<String>, CdpError> {
    let log = std::fs::read_to_string(path)?;
    let page = log
        .lines()
        .find(|line| line.starts_with("h2 front: connection ") && line.ends_with(": GET /"))
        .ok_or_else(|| CdpError(format!("the front's log ({path}) shows no GET / over HTTP/2")))?;
    let connection = page.split(' ').nth(3).unwrap_or("?");
    let prefix = format!("h2 front: connection {connection} stream ");
    let sockets: Vec<&str> =
        log.lines().filter(|line| line.starts_with(&prefix) && line.contains("(extended CONNECT, 200)")).collect();
    if sockets.len() < 2 {
        return Err(CdpError(format!("the front's log shows {} WebSockets on connection {connection}", sockets.len())));
    }
    let mut lines = vec![format!("front log: {page}")];
    lines.extend(sockets.iter().map(|line| format!("front log: {line}")));
    Ok(lines)
}
