//! Checks WebSockets over HTTP/2 (RFC 8441) in a real browser: headless Chromium, driven over
//! the DevTools protocol by this crate's own client, loads `async_echo_server --h2`'s page over
//! `https://`, whose WebSocket echoes messages, and the check shows from the browser's own
//! records that the page came over HTTP/2 and that its WebSockets rode the same HTTP/2
//! connection. Run by `scripts/browser_h2_test.sh`.
//!
//! ```text
//! cargo run --release --features tls,h2 --example cdp_h2_check -- https://127.0.0.1:9443/ [SERVER_LOG]
//! ```
//!
//! The evidence, in three records:
//! - **DevTools' Network domain**: the page's `Network.responseReceived` says `protocol: "h2"`
//!   and gives its `connectionId`; each WebSocket's `Network.webSocketHandshakeResponseReceived`
//!   says `status: 200`, which only RFC 8441 answers (an HTTP/1.1 upgrade is accepted with
//!   101). DevTools gives a WebSocket no `connectionId`, so:
//! - **Chromium's NetLog** (`--log-net-log`): one `HTTP2_SESSION` (one TLS connection) sent both
//!   the page's `GET /` and each WebSocket's `CONNECT` with `:protocol: websocket`.
//! - **The server's log** (when its path is given): the connection that served `GET /` also
//!   accepted the WebSockets, each on its own stream.
//!
//! Chromium uses RFC 8441 by default (no switch needed): it sends an extended CONNECT when it
//! already has an HTTP/2 connection to the origin whose SETTINGS allow it. The test certificate
//! is accepted with `--ignore-certificate-errors`. Exit status 0 when every check passes.

#[path = "common/cdp.rs"]
mod cdp;
#[path = "common/echo_page.rs"]
mod echo_page;
#[path = "common/netlog.rs"]
mod netlog;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use cdp::{Browser, CdpError};
use serde_json::{Value, json};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(url) = args.next() else {
        eprintln!("usage: cdp_h2_check https://127.0.0.1:PORT/ [SERVER_LOG]");
        return ExitCode::from(2);
    };
    let server_log = args.next();
    match check(&url, server_log.as_deref()) {
        Ok(evidence) => {
            for line in evidence {
                println!("  {line}");
            }
            println!("browser h2 check passed");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("browser h2 check FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

fn check(url: &str, server_log: Option<&str>) -> Result<Vec<String>, CdpError> {
    let netlog_dir = std::env::temp_dir().join(format!("rfc6455-netlog-{}", std::process::id()));
    std::fs::create_dir_all(&netlog_dir)?;
    let netlog = netlog_dir.join("netlog.json");
    let result = check_with_netlog(url, &netlog, server_log);
    let _ = std::fs::remove_dir_all(&netlog_dir);
    result
}

fn check_with_netlog(url: &str, netlog: &Path, server_log: Option<&str>) -> Result<Vec<String>, CdpError> {
    let mut evidence = Vec::new();
    let switches = ["--ignore-certificate-errors".to_owned(), format!("--log-net-log={}", netlog.display())];
    let browser = Browser::launch_with(&switches)?;
    let mut devtools = browser.connect()?;
    devtools.keep_events(true);
    let page = devtools.open_blank(800, 600)?;
    devtools.call(Some(&page), "Network.enable", json!({}))?;
    devtools.navigate(&page, url)?;
    // The page's own WebSocket opens and echoes its greeting.
    devtools.wait_for(&page, "document.body.dataset.state === 'open'", Duration::from_secs(10))?;
    devtools.wait_for(
        &page,
        "document.getElementById('log').textContent.includes('echo: hello')",
        cdp::CALL_TIMEOUT,
    )?;
    // A second WebSocket, to `/echo` on the page's origin.
    let echoed = echo_page::run(&mut devtools, &page, "'wss://' + location.host + '/echo'")?;
    evidence.push(format!(
        "echo: {} messages echoed exactly over a WebSocket of the page (extensions {:?}), closed with 1000",
        echoed.checked, echoed.extensions
    ));
    evidence.extend(devtools_evidence(&devtools.take_events(), url, &echoed)?);
    // Closing the browser through DevTools lets it finish its NetLog.
    let _ = devtools.call(None, "Browser.close", json!({}));
    let log = netlog::read_netlog(netlog)?;
    let shared = netlog::shared_session(&log, "/echo", 2)?;
    evidence.push(format!(
        "NetLog: HTTP2_SESSION {} sent GET / ({} times) and {} CONNECT requests with :protocol: websocket \
         (RFC 8441 extended CONNECT): one connection for the page and its WebSockets",
        shared.session, shared.pages, shared.websockets
    ));
    drop(browser);
    if let Some(path) = server_log {
        evidence.extend(server_evidence(path)?);
    }
    Ok(evidence)
}

/// What DevTools' Network domain reported: the page's protocol and connection, and each
/// WebSocket's handshake status.
fn devtools_evidence(events: &[Value], url: &str, echoed: &echo_page::Echoed) -> Result<Vec<String>, CdpError> {
    let of = |method: &'static str| events.iter().filter(move |e| e["method"] == method).map(|e| &e["params"]);
    let document = of("Network.responseReceived")
        .find(|p| p["type"] == "Document" && p["response"]["url"] == url)
        .ok_or_else(|| CdpError(format!("no Network.responseReceived for the page {url}")))?;
    let protocol = document["response"]["protocol"].as_str().unwrap_or("?");
    let connection = &document["response"]["connectionId"];
    if protocol != "h2" {
        return Err(CdpError(format!("the page came over {protocol:?}, not h2")));
    }
    let mut lines = vec![format!(
        "page {url}: protocol {protocol:?}, connectionId {connection} (DevTools Network.responseReceived); \
         nextHopProtocol {} (Navigation Timing)",
        echoed.next_hop_protocol
    )];
    let sockets: BTreeMap<&str, &str> =
        of("Network.webSocketCreated").filter_map(|p| Some((p["requestId"].as_str()?, p["url"].as_str()?))).collect();
    let handshakes: Vec<&Value> = of("Network.webSocketHandshakeResponseReceived").collect();
    if handshakes.len() < 2 {
        return Err(CdpError(format!("expected the page's two WebSockets, DevTools saw {}", handshakes.len())));
    }
    for handshake in handshakes {
        let status = &handshake["response"]["status"];
        let socket = handshake["requestId"].as_str().and_then(|id| sockets.get(id)).copied().unwrap_or("?");
        // RFC 8441 §5: an extended CONNECT is accepted with a 2xx; RFC 6455's upgrade with 101.
        if status != 200 {
            return Err(CdpError(format!("the WebSocket {socket} was accepted with {status}, not RFC 8441's 200")));
        }
        lines.push(format!(
            "WebSocket {socket}: handshake status {status} (DevTools Network.webSocketHandshakeResponseReceived; \
             an HTTP/1.1 upgrade answers 101)"
        ));
    }
    Ok(lines)
}

/// From the server's log: the HTTP/2 connection that served `GET /`, and the WebSockets it
/// accepted with their streams.
fn server_evidence(path: &str) -> Result<Vec<String>, CdpError> {
    let log = std::fs::read_to_string(path)?;
    let page = log
        .lines()
        .find_map(|line| line.strip_suffix(": GET /")?.strip_prefix("h2 connection "))
        .ok_or_else(|| CdpError(format!("the server's log ({path}) shows no GET / over HTTP/2")))?;
    let prefix = format!("h2 connection {page} stream ");
    let sockets: Vec<&str> =
        log.lines().filter(|line| line.starts_with(&prefix) && line.contains("WebSocket")).collect();
    if sockets.len() < 2 {
        return Err(CdpError(format!("the server's log shows {} WebSockets on connection {page}", sockets.len())));
    }
    let mut lines = vec![format!("server log: h2 connection {page} served GET /")];
    lines.extend(sockets.iter().map(|line| format!("server log: {line}")));
    Ok(lines)
}
