//! The echo check that runs inside a browser page, for the browser checks of the echo servers
//! (`examples/cdp_echo_check.rs`, `examples/cdp_h2_check.rs`): JavaScript opens a WebSocket,
//! sends text and binary messages of every payload length form (RFC 6455 §5.2: 7-bit, 16-bit
//! and 64-bit lengths), compares each echo with what it sent, and closes with 1000; the check
//! reads its report.
//!
//! A check includes it with `#[path = "common/echo_page.rs"] mod echo_page;` next to
//! `#[path = "common/cdp.rs"] mod cdp;`.

// Each check reads a different part of the report.
#![allow(dead_code)]

use serde_json::Value;

use crate::cdp::{CdpError, DevTools, Page};

/// What the page reported of an echo run that passed.
pub struct Echoed {
    /// How many messages came back exactly.
    pub checked: u64,
    /// The WebSocket's negotiated extensions (`ws.extensions`).
    pub extensions: String,
    /// The protocol the page itself came over (Navigation Timing's `nextHopProtocol`).
    pub next_hop_protocol: Value,
}

/// Runs in the page: `SOCKET_URL` is replaced by a JavaScript expression for the URL.
const SCRIPT: &str = r#"
(async () => {
  const ws = new WebSocket(SOCKET_URL);
  ws.binaryType = 'arraybuffer';
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error('connect failed')); });
  const next = () => new Promise(resolve => { ws.onmessage = event => resolve(event.data); });
  const texts = ['Hello', '', 'κόσμε · ハロー · 🎉'.repeat(500), 'websocket '.repeat(20000)];
  const sizes = [0, 1, 125, 126, 65535, 65536, 300000];
  let checked = 0;
  const failures = [];
  for (const text of texts) {
    const reply = next();
    ws.send(text);
    const got = await reply;
    if (got === text) checked++; else failures.push('text of ' + text.length + ' chars');
  }
  for (const size of sizes) {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 9)) % 251;
    const reply = next();
    ws.send(bytes);
    const got = new Uint8Array(await reply);
    const same = got.length === size && got.every((b, i) => b === bytes[i]);
    if (same) checked++; else failures.push('binary of ' + size + ' bytes');
  }
  const closed = new Promise(resolve => { ws.onclose = event => resolve(event); });
  ws.close(1000, 'done');
  const close = await closed;
  const nav = performance.getEntriesByType('navigation')[0];
  return JSON.stringify({ extensions: ws.extensions, checked, failures, closeCode: close.code, clean: close.wasClean,
                          nextHopProtocol: nav ? nav.nextHopProtocol : null });
})()
"#;

/// Run the echo check in `page` on a WebSocket to `socket_url` (a JavaScript expression).
/// Fails when an echo differs or the close is not a clean 1000.
pub fn run(devtools: &mut DevTools, page: &Page, socket_url: &str) -> Result<Echoed, CdpError> {
    let report = devtools.eval(page, &SCRIPT.replace("SOCKET_URL", socket_url))?;
    let report: Value = serde_json::from_str(report.as_str().unwrap_or("null"))
        .map_err(|e| CdpError(format!("the page's report is not JSON: {e}")))?;
    if report["failures"].as_array().is_none_or(|failures| !failures.is_empty()) {
        return Err(CdpError(format!("echoes differ: {}", report["failures"])));
    }
    if report["closeCode"] != 1000 || report["clean"] != true {
        return Err(CdpError(format!("the close was not clean: {report}")));
    }
    Ok(Echoed {
        checked: report["checked"].as_u64().unwrap_or(0),
        extensions: report["extensions"].as_str().unwrap_or("").to_owned(),
        next_hop_protocol: report["nextHopProtocol"].clone(),
    })
}
