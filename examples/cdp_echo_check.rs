//! Checks `echo_server` from a real browser: headless Chromium, driven over the DevTools
//! protocol by this crate's own client, opens the server's page, connects a JavaScript
//! `WebSocket` to it, and checks that permessage-deflate (RFC 7692) was negotiated and that
//! text and binary messages of every length form come back exactly. Run by
//! `scripts/browser_test.sh`.
//!
//! ```text
//! cargo run --release --example cdp_echo_check -- http://127.0.0.1:9001/
//! ```
//!
//! Exit status 0 when every check passes, 1 otherwise.

#[path = "common/cdp.rs"]
mod cdp;

use std::process::ExitCode;

use cdp::{Browser, CdpError};

/// Runs in the page: connect, echo a set of messages, report what happened as JSON.
const ECHO_SCRIPT: &str = r#"
(async () => {
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/');
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
  return JSON.stringify({ extensions: ws.extensions, checked, failures, closeCode: close.code, clean: close.wasClean });
})()
"#;

fn main() -> ExitCode {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: cdp_echo_check http://127.0.0.1:PORT/");
        return ExitCode::from(2);
    };
    match check(&url) {
        Ok(summary) => {
            println!("browser echo check passed: {summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("browser echo check FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

fn check(url: &str) -> Result<String, CdpError> {
    let browser = Browser::launch()?;
    let mut devtools = browser.connect()?;
    let page = devtools.open_page(url, 800, 600)?;
    let report = devtools.eval(&page, ECHO_SCRIPT)?;
    let report: serde_json::Value = serde_json::from_str(report.as_str().unwrap_or("null"))
        .map_err(|e| CdpError(format!("the page's report is not JSON: {e}")))?;
    let extensions = report["extensions"].as_str().unwrap_or("");
    if !extensions.starts_with("permessage-deflate") {
        return Err(CdpError(format!("permessage-deflate was not negotiated (extensions: {extensions:?})")));
    }
    let failures = report["failures"].as_array().map(Vec::len).unwrap_or(usize::MAX);
    if failures != 0 {
        return Err(CdpError(format!("echoes differ: {}", report["failures"])));
    }
    if report["closeCode"] != 1000 || report["clean"] != true {
        return Err(CdpError(format!("the close was not clean: {report}")));
    }
    Ok(format!("{} messages echoed exactly; negotiated {extensions:?}; closed with 1000", report["checked"]))
}
