//! Reading Chromium's NetLog (`--log-net-log`) for the HTTP/2 checks (`cdp_h2_check`,
//! `cdp_chat_h2_check`): which HTTP/2 session (one TLS connection) sent the page's `GET /` and
//! which sent each WebSocket's extended CONNECT (RFC 8441 §4: `:method: CONNECT` with
//! `:protocol: websocket`).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cdp::CdpError;

/// Chromium's NetLog, once the browser has closed it (a file cut short is closed by hand).
pub fn read_netlog(path: &Path) -> Result<Value, CdpError> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if let Ok(log) = serde_json::from_str::<Value>(&text) {
            return Ok(log);
        }
        if Instant::now() > deadline {
            let trimmed = text.trim_end().trim_end_matches(',');
            return serde_json::from_str(&format!("{trimmed}]}}"))
                .map_err(|e| CdpError(format!("Chromium's NetLog {} cannot be read: {e}", path.display())));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The page and its WebSockets on one HTTP/2 session, as the NetLog shows them.
pub struct SharedSession {
    /// The NetLog's id of the HTTP/2 session that sent the first `GET /`.
    pub session: u64,
    /// How many `GET /` that session sent.
    pub pages: usize,
    /// How many extended CONNECTs for WebSocket it sent.
    pub websockets: usize,
}

/// Check that at least `expected` extended CONNECTs for WebSocket whose `:path` starts with
/// `ws_path` went over the HTTP/2 session that sent the page's `GET /`, and no such CONNECT over
/// another session.
pub fn shared_session(log: &Value, ws_path: &str, expected: usize) -> Result<SharedSession, CdpError> {
    let Some(types) = log["constants"]["logEventTypes"].as_object() else {
        return Err(CdpError("the NetLog has no event type table".into()));
    };
    let send_headers = types.get("HTTP2_SESSION_SEND_HEADERS").cloned().unwrap_or(Value::Null);
    let mut page_sessions = Vec::new();
    let mut websocket_sessions = Vec::new();
    for event in log["events"].as_array().into_iter().flatten() {
        if event["type"] != send_headers {
            continue;
        }
        let session = event["source"]["id"].as_u64().unwrap_or(0);
        let headers: Vec<&str> =
            event["params"]["headers"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let has = |line: &str| headers.contains(&line);
        if has(":method: GET") && has(":path: /") {
            page_sessions.push(session);
        }
        let path = format!(":path: {ws_path}");
        if has(":method: CONNECT") && has(":protocol: websocket") && headers.iter().any(|h| h.starts_with(&path)) {
            websocket_sessions.push(session);
        }
    }
    let Some(&session) = page_sessions.first() else {
        return Err(CdpError("the NetLog shows no GET / over an HTTP/2 session".into()));
    };
    if websocket_sessions.len() < expected {
        return Err(CdpError(format!(
            "the NetLog shows {} extended CONNECT(s) to {ws_path} with :protocol websocket, expected {expected}",
            websocket_sessions.len()
        )));
    }
    if let Some(other) = websocket_sessions.iter().find(|&&s| s != session) {
        return Err(CdpError(format!("a WebSocket went over HTTP/2 session {other}, the page over {session}")));
    }
    Ok(SharedSession {
        session,
        pages: page_sessions.iter().filter(|&&s| s == session).count(),
        websockets: websocket_sessions.len(),
    })
}
