//! Drive headless Chromium through the Chrome DevTools Protocol (CDP), which is itself a
//! WebSocket: this crate's own blocking client speaks it. Used by `examples/screenshot.rs` and
//! `examples/cdp_chat_check.rs`; any demo can take a screenshot of its page with it.
//!
//! ```ignore
//! // In an example: #[path = "common/cdp.rs"] mod cdp;
//! let browser = cdp::Browser::launch()?;
//! let mut devtools = browser.connect()?;
//! let page = devtools.open_page("http://127.0.0.1:8080/", 1100, 700)?;
//! devtools.wait_for(&page, "document.body.dataset.conn === 'open'", std::time::Duration::from_secs(10))?;
//! std::fs::write("page.png", devtools.screenshot(&page)?)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The browser runs with `--remote-debugging-port=0` and a fresh profile directory; it writes
//! the port it chose to `DevToolsActivePort` in that directory, which is how we find it (no
//! port guessing, no HTTP discovery request). Dropping the [`Browser`] kills it and removes the
//! profile. Every call is bounded by [`CALL_TIMEOUT`].
#![allow(dead_code)]

use std::fmt;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rfc6455::blocking::{ClientConfig, MaybeTlsStream, Timeouts, WebSocket, connect_with};
use rfc6455::{Error, Message};
use serde_json::{Value, json};

/// The longest wait for one CDP answer.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the browser may take to start and open its DevTools port.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(30);

/// What went wrong, in words.
#[derive(Debug)]
pub struct CdpError(pub String);

impl fmt::Display for CdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CdpError {}

fn fail<T>(message: impl Into<String>) -> Result<T, CdpError> {
    Err(CdpError(message.into()))
}

impl From<Error> for CdpError {
    fn from(e: Error) -> Self {
        CdpError(format!("DevTools connection: {e}"))
    }
}

impl From<std::io::Error> for CdpError {
    fn from(e: std::io::Error) -> Self {
        CdpError(e.to_string())
    }
}

/// A headless Chromium we started. Dropping it kills the process and removes its profile.
pub struct Browser {
    child: Child,
    profile: PathBuf,
    devtools_url: String,
}

impl Browser {
    /// Start headless Chromium (`$CHROMIUM`, or `chromium` / `chromium-browser` /
    /// `google-chrome` on the PATH) and wait for its DevTools endpoint.
    pub fn launch() -> Result<Browser, CdpError> {
        Browser::launch_with(&[])
    }

    /// [`Browser::launch`] with extra command-line switches (e.g.
    /// `--ignore-certificate-errors-spki-list=...` to accept a test certificate).
    pub fn launch_with(extra_args: &[String]) -> Result<Browser, CdpError> {
        let binary = find_browser()?;
        let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let profile = std::env::temp_dir().join(format!("rfc6455-cdp-{}-{stamp}", std::process::id()));
        std::fs::create_dir_all(&profile)?;
        let child = Command::new(&binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                "--remote-debugging-port=0",
            ])
            .args(extra_args)
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| CdpError(format!("cannot start {}: {e}", binary.display())))?;
        let mut browser = Browser { child, profile, devtools_url: String::new() };
        browser.devtools_url = browser.wait_for_devtools()?;
        Ok(browser)
    }

    /// The browser's DevTools WebSocket URL.
    pub fn devtools_url(&self) -> &str {
        &self.devtools_url
    }

    /// Open a DevTools connection to the browser.
    pub fn connect(&self) -> Result<DevTools, CdpError> {
        DevTools::connect(&self.devtools_url)
    }

    /// Read `DevToolsActivePort` (port, then path) once the browser has written it.
    fn wait_for_devtools(&mut self) -> Result<String, CdpError> {
        let file = self.profile.join("DevToolsActivePort");
        let deadline = Instant::now() + LAUNCH_TIMEOUT;
        loop {
            if let Ok(text) = std::fs::read_to_string(&file) {
                let mut lines = text.lines();
                if let (Some(port), Some(path)) = (lines.next(), lines.next())
                    && let Ok(port) = port.trim().parse::<u16>()
                {
                    return Ok(format!("ws://127.0.0.1:{port}{}", path.trim()));
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return fail(format!("the browser exited at start ({status})"));
            }
            if Instant::now() > deadline {
                return fail(format!("the browser did not open its DevTools port within {LAUNCH_TIMEOUT:?}"));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn find_browser() -> Result<PathBuf, CdpError> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Ok(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if is_file(&candidate) {
                return Ok(candidate);
            }
        }
    }
    fail("no Chromium found: install it (apt-get install chromium) or set CHROMIUM=/path/to/chrome")
}

fn is_file(path: &Path) -> bool {
    path.metadata().is_ok_and(|m| m.is_file())
}

/// A page (tab) attached to a [`DevTools`] connection.
#[derive(Debug, Clone)]
pub struct Page {
    /// The target's id.
    pub target_id: String,
    /// The session that commands for this page are sent on.
    pub session_id: String,
}

/// A DevTools connection: one WebSocket carrying commands for the browser and its pages.
pub struct DevTools {
    ws: WebSocket<MaybeTlsStream>,
    next_id: u64,
    /// Events (messages with a `method` and no `id`) that arrived while waiting for answers,
    /// kept when [`DevTools::keep_events`] is on; at most [`MAX_EVENTS`].
    events: Vec<Value>,
    keep_events: bool,
}

/// The most events a [`DevTools`] keeps.
pub const MAX_EVENTS: usize = 100_000;

impl DevTools {
    /// Connect to a DevTools WebSocket URL (from [`Browser::devtools_url`]).
    pub fn connect(url: &str) -> Result<DevTools, CdpError> {
        let config = ClientConfig {
            // Short reads so every wait can check its own deadline.
            timeouts: Timeouts { read: Some(Duration::from_millis(200)), ..Timeouts::default() },
            ..ClientConfig::default()
        };
        let (ws, _) = connect_with(url, &config)?;
        Ok(DevTools { ws, next_id: 1, events: Vec::new(), keep_events: false })
    }

    /// Send a command (to the browser, or to a page's session) and return its `result`.
    /// Events that arrive meanwhile are skipped.
    pub fn call(&mut self, page: Option<&Page>, method: &str, params: Value) -> Result<Value, CdpError> {
        let id = self.next_id;
        self.next_id += 1;
        let mut command = json!({ "id": id, "method": method, "params": params });
        if let Some(page) = page {
            command["sessionId"] = Value::from(page.session_id.as_str());
        }
        self.ws.send_text(&command.to_string())?;
        let deadline = Instant::now() + CALL_TIMEOUT;
        while Instant::now() < deadline {
            let text = match self.ws.read() {
                Ok(Message::Text(text)) => text,
                Ok(_) => continue,
                Err(Error::Io(e)) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
                Err(e) => return Err(e.into()),
            };
            let Ok(reply) = serde_json::from_str::<Value>(&text) else { continue };
            if reply["id"] != id {
                if self.keep_events && reply.get("method").is_some() && self.events.len() < MAX_EVENTS {
                    self.events.push(reply);
                }
                continue;
            }
            if let Some(error) = reply.get("error") {
                return fail(format!("{method}: {error}"));
            }
            return Ok(reply.get("result").cloned().unwrap_or(Value::Null));
        }
        fail(format!("{method}: no answer within {CALL_TIMEOUT:?}"))
    }

    /// Keep the events that arrive from now on (for [`DevTools::take_events`]), or stop.
    pub fn keep_events(&mut self, on: bool) {
        self.keep_events = on;
    }

    /// The events kept so far (`{"method": ..., "params": ..., "sessionId": ...}`), oldest first.
    pub fn take_events(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.events)
    }

    /// Open a new tab of `width` x `height` CSS pixels at `url` and wait for it to load.
    pub fn open_page(&mut self, url: &str, width: u32, height: u32) -> Result<Page, CdpError> {
        let page = self.open_blank(width, height)?;
        self.navigate(&page, url)?;
        Ok(page)
    }

    /// Open a new, empty tab of `width` x `height` CSS pixels (to enable domains, such as
    /// `Network`, before it loads anything: then [`DevTools::navigate`]).
    pub fn open_blank(&mut self, width: u32, height: u32) -> Result<Page, CdpError> {
        let created = self.call(None, "Target.createTarget", json!({ "url": "about:blank" }))?;
        let Some(target_id) = created["targetId"].as_str() else { return fail("Target.createTarget: no targetId") };
        let attached = self.call(None, "Target.attachToTarget", json!({ "targetId": target_id, "flatten": true }))?;
        let Some(session_id) = attached["sessionId"].as_str() else {
            return fail("Target.attachToTarget: no sessionId");
        };
        let page = Page { target_id: target_id.to_string(), session_id: session_id.to_string() };
        self.call(
            Some(&page),
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false }),
        )?;
        Ok(page)
    }

    /// Load `url` in `page` and wait until it has loaded.
    pub fn navigate(&mut self, page: &Page, url: &str) -> Result<(), CdpError> {
        let navigated = self.call(Some(page), "Page.navigate", json!({ "url": url }))?;
        if let Some(error) = navigated["errorText"].as_str() {
            return fail(format!("cannot load {url}: {error}"));
        }
        self.wait_for(page, "document.readyState === 'complete'", CALL_TIMEOUT)?;
        Ok(())
    }

    /// Evaluate a JavaScript expression in the page and return its value (promises are awaited).
    pub fn eval(&mut self, page: &Page, expression: &str) -> Result<Value, CdpError> {
        let result = self.call(
            Some(page),
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
        )?;
        if let Some(exception) = result.get("exceptionDetails") {
            let text = exception["exception"]["description"].as_str().or(exception["text"].as_str()).unwrap_or("?");
            return fail(format!("JavaScript threw: {text}\n  in: {expression}"));
        }
        Ok(result["result"]["value"].clone())
    }

    /// Evaluate `expression` until it is truthy; return its value. Fails after `timeout`.
    pub fn wait_for(&mut self, page: &Page, expression: &str, timeout: Duration) -> Result<Value, CdpError> {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.eval(page, expression)?;
            let truthy = match &value {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return Ok(value);
            }
            if Instant::now() > deadline {
                return fail(format!("still false after {timeout:?}: {expression}"));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// A PNG of what the page shows now.
    pub fn screenshot(&mut self, page: &Page) -> Result<Vec<u8>, CdpError> {
        // A background tab may not have painted its latest state: bring it to the front first.
        self.call(Some(page), "Page.bringToFront", json!({}))?;
        // Wait for two animation frames, so the page has painted after coming forward.
        self.eval(page, "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))")?;
        let shot = self.call(Some(page), "Page.captureScreenshot", json!({ "format": "png" }))?;
        let Some(data) = shot["data"].as_str() else { return fail("Page.captureScreenshot: no data") };
        BASE64.decode(data).map_err(|e| CdpError(format!("screenshot data: {e}")))
    }

    /// Save a PNG of what the page shows now to `path` (making its folder if needed); returns
    /// its size in bytes.
    pub fn save_screenshot(&mut self, page: &Page, path: impl AsRef<Path>) -> Result<usize, CdpError> {
        let path = path.as_ref();
        let png = self.screenshot(page)?;
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, &png)?;
        Ok(png.len())
    }

    /// Close a tab.
    pub fn close_page(&mut self, page: &Page) -> Result<(), CdpError> {
        self.call(None, "Target.closeTarget", json!({ "targetId": page.target_id })).map(|_| ())
    }
}

/// A JavaScript string literal for `text` (JSON strings are valid JavaScript).
pub fn js_string(text: &str) -> String {
    Value::from(text).to_string()
}

/// The exit status of the browser check `name` that started at `started`, its outcome printed:
/// "NAME passed in N s" on stdout, or "NAME FAILED: why" on stderr.
pub fn outcome(name: &str, started: Instant, result: Result<(), CdpError>) -> ExitCode {
    match result {
        Ok(()) => {
            println!("{name} passed in {:.1} s", started.elapsed().as_secs_f64());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{name} FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}
