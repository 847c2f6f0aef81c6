//! Checks the handshake tour in a real browser: headless Chromium, driven over the DevTools
//! protocol by this crate's WebSocket client, opens the tour, clicks Next to the end, and
//! checks what each step shows: the `Sec-WebSocket-Accept` shown equals the crate's
//! `accept_key` of the key shown (and the SHA-1 shown is the base64 decoded), the first
//! frames are there, the server closed TCP first and the browser saw a clean 1000. Then it
//! runs every "break it" case and checks the close code the page shows against the one RFC
//! 6455 asks for. Run by `scripts/browser_tour_test.sh`.
//!
//! ```text
//! cargo run --example cdp_tour_check -- [--url http://127.0.0.1:8090/] [--screenshots DIR] [--browser-arg ARG]...
//! ```
//!
//! Without `--url` it starts the tour server in-process. With `--screenshots DIR` it saves
//! `tour-accept.png` (the accept computation) and `tour-break.png` (a "break it" result).
//!
//! With `--dashboard URL` it also opens the dashboard demo and checks its wire meter panel:
//! both clients measured with this browser's own headers, and polling costing more per update
//! than push (`dashboard-wire.png` with `--screenshots`).
//! Exit status 0 when every check passes, 1 otherwise (the failed check is on stderr).

#[path = "common/cdp.rs"]
mod cdp;
#[path = "common/mod.rs"]
mod common;
#[path = "tour/server.rs"]
mod tour;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cdp::{Browser, CdpError, DevTools, Page, js_string};
use rfc6455::handshake::accept_key;

/// The longest any one step waits.
const STEP: Duration = Duration::from_secs(15);
const WIDTH: u32 = 1200;
const HEIGHT: u32 = 760;

/// The close code RFC 6455 asks for, per "break it" case: the check's own table, not the
/// page's claim.
const EXPECTED: &[(&str, u64)] = &[
    ("unmasked", 1002),
    ("reserved_opcode", 1002),
    ("rsv_bit", 1002),
    ("invalid_utf8", 1007),
    ("oversized_control", 1002),
    ("fragmented_control", 1002),
    ("orphan_continuation", 1002),
    ("bad_close_code", 1002),
    ("too_big", 1009),
];

/// The step whose screenshot shows the accept computation (the page's fourth step).
const ACCEPT_STEP: u64 = 3;

struct Options {
    url: Option<String>,
    dashboard: Option<String>,
    screenshots: Option<String>,
    browser_args: Vec<String>,
}

fn main() -> ExitCode {
    let mut options = Options { url: None, dashboard: None, screenshots: None, browser_args: Vec::new() };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--url" => options.url = args.next(),
            "--screenshots" => options.screenshots = args.next(),
            "--dashboard" => options.dashboard = args.next(),
            "--browser-arg" => options.browser_args.extend(args.next()),
            _ => {
                eprintln!(
                    "usage: cdp_tour_check [--url URL] [--dashboard URL] [--screenshots DIR] [--browser-arg ARG]..."
                );
                return ExitCode::from(2);
            }
        }
    }
    common::on_ctrl_c(|| std::process::exit(130));
    let started = Instant::now();
    cdp::outcome("tour check", started, check(&options))
}

fn check(options: &Options) -> Result<(), CdpError> {
    let browser = Browser::launch_with(&options.browser_args)?;
    let mut devtools = browser.connect()?;
    let own_server = match options.url {
        Some(_) => None,
        None => Some(tour::TourServer::start("127.0.0.1:0")?),
    };
    let url = match (&options.url, &own_server) {
        (Some(url), _) => url.clone(),
        (None, Some(server)) => server.http_url(),
        (None, None) => return Err(CdpError("no server to test".into())),
    };
    let page = devtools.open_page(&url, WIDTH, HEIGHT)?;
    devtools.wait_for(&page, "document.body.dataset.ready === 'true'", STEP)?;
    walk_the_tour(&mut devtools, &page, options.screenshots.as_deref())?;
    break_everything(&mut devtools, &page, options.screenshots.as_deref())?;
    if let Some(dashboard) = &options.dashboard {
        wire_meter(&mut devtools, dashboard, options.screenshots.as_deref())?;
    }
    Ok(())
}

/// The dashboard's wire meter, in the browser: measured with this browser's headers, polling
/// dearer per update than push.
fn wire_meter(devtools: &mut DevTools, url: &str, screenshots: Option<&str>) -> Result<(), CdpError> {
    let page = devtools.open_page(url, WIDTH, 900)?;
    let ready = "(() => { const w = document.getElementById('wire').dataset; \
                 return w.headers === 'browser,browser' && Number(w.pollPerUpdate) > 0 && Number(w.pushPerUpdate) > 0; })()";
    devtools.wait_for(&page, ready, Duration::from_secs(30))?;
    let push = devtools.eval(&page, "Number(document.getElementById('wire').dataset.pushPerUpdate)")?;
    let poll = devtools.eval(&page, "Number(document.getElementById('wire').dataset.pollPerUpdate)")?;
    let (push, poll) = (push.as_f64().unwrap_or(0.0), poll.as_f64().unwrap_or(0.0));
    // A pushed sample is a frame header and the JSON; a poll is a whole request and response.
    if !(push > 2.0 && poll > 2.0 * push) {
        return Err(CdpError(format!("the wire meter shows {push} B per pushed update and {poll} B per polled one")));
    }
    println!("ok: the wire meter measured {push:.0} B per pushed update, {poll:.0} B per polled one");
    save(devtools, &page, screenshots, "dashboard-wire.png")?;
    devtools.close_page(&page)
}

fn text_of(devtools: &mut DevTools, page: &Page, id: &str) -> Result<String, CdpError> {
    let value = devtools.eval(page, &format!("document.getElementById({})?.textContent ?? null", js_string(id)))?;
    value.as_str().map(str::to_owned).ok_or_else(|| CdpError(format!("#{id} is not on the page")))
}

fn save(devtools: &mut DevTools, page: &Page, dir: Option<&str>, name: &str) -> Result<(), CdpError> {
    let Some(dir) = dir else { return Ok(()) };
    let path = std::path::Path::new(dir).join(name);
    let bytes = devtools.save_screenshot(page, &path)?;
    println!("saved {} ({bytes} bytes)", path.display());
    Ok(())
}

/// Click Next until the last step, checking each step as it comes.
fn walk_the_tour(devtools: &mut DevTools, page: &Page, screenshots: Option<&str>) -> Result<(), CdpError> {
    let steps = devtools.eval(page, "STEPS.length")?.as_u64().ok_or(CdpError("no STEPS on the page".into()))?;
    for step in 1..steps {
        devtools.eval(page, "document.getElementById('next').click(); true")?;
        let shown = format!(
            "document.body.dataset.error || (document.body.dataset.busy === 'false' && document.body.dataset.step === '{step}')"
        );
        let value = devtools.wait_for(page, &shown, STEP)?;
        if let Some(error) = value.as_str() {
            return Err(CdpError(format!("step {step}: the page says: {error}")));
        }
        let title = text_of(devtools, page, "step-title")?;
        println!("ok: step {step}: {title}");
        if step == ACCEPT_STEP {
            check_accept(devtools, page)?;
            save(devtools, page, screenshots, "tour-accept.png")?;
        }
    }
    let frames =
        devtools.eval(page, "[...document.querySelectorAll('.frame')].map(f => f.dataset.opcode).join(',')")?;
    if frames.as_str() != Some("8,8") {
        return Err(CdpError(format!("the last step should show two Close frames, shows opcodes {frames}")));
    }
    let first_fin = text_of(devtools, page, "first-fin")?;
    if first_fin != "server" {
        return Err(CdpError(format!("RFC 6455 §7.1.1: the server closes TCP first; the page says {first_fin:?}")));
    }
    let close_event = text_of(devtools, page, "close-event")?;
    if close_event != "code 1000, wasClean true" {
        return Err(CdpError(format!("the browser's close event: {close_event}")));
    }
    println!("ok: the closing handshake: two Close frames, the server closed TCP first, the browser saw {close_event}");
    if devtools.eval(page, "document.body.dataset.done")?.as_str() != Some("true") {
        return Err(CdpError("the tour did not reach its end".into()));
    }
    Ok(())
}

/// The accept computation shown: the crate's `accept_key` of the key shown, and consistent.
fn check_accept(devtools: &mut DevTools, page: &Page) -> Result<(), CdpError> {
    let key = text_of(devtools, page, "accept-key")?;
    let shown = text_of(devtools, page, "accept-base64")?;
    let sent = text_of(devtools, page, "accept-sent")?;
    let sha1 = text_of(devtools, page, "accept-sha1")?;
    let expected = accept_key(key.as_bytes());
    if shown != expected || sent != expected {
        return Err(CdpError(format!(
            "Sec-WebSocket-Accept for key {key}: accept_key gives {expected}, the page shows {shown} computed and {sent} sent"
        )));
    }
    let digest = STANDARD.decode(&shown).map_err(|e| CdpError(format!("the accept value is not base64: {e}")))?;
    let hex: Vec<String> = digest.iter().map(|b| format!("{b:02x}")).collect();
    if hex.join(" ") != sha1 {
        return Err(CdpError(format!("the SHA-1 shown ({sha1}) is not what {shown} decodes to")));
    }
    println!("ok: Sec-WebSocket-Accept shown = accept_key({key}) = {expected}");
    Ok(())
}

/// Run every "break it" case from its button and check the code shown.
fn break_everything(devtools: &mut DevTools, page: &Page, screenshots: Option<&str>) -> Result<(), CdpError> {
    let offered = devtools.eval(page, "[...document.querySelectorAll('#cases button')].map(b => b.dataset.case)")?;
    let offered: Vec<&str> =
        offered.as_array().map(|ids| ids.iter().filter_map(|id| id.as_str()).collect()).unwrap_or_default();
    let expected: Vec<&str> = EXPECTED.iter().map(|(id, _)| *id).collect();
    if offered != expected {
        return Err(CdpError(format!("the page offers {offered:?}, the check knows {expected:?}")));
    }
    for &(id, code) in EXPECTED {
        devtools.eval(page, &format!("document.querySelector('#cases button[data-case=\"{id}\"]').click(); true"))?;
        let done = format!(
            "(() => {{ const r = document.getElementById('break-result'); \
             return r.dataset.case === {} && r.dataset.code ? r.dataset.code : null; }})()",
            js_string(id)
        );
        let shown = devtools.wait_for(page, &done, STEP)?;
        let shown_code = text_of(devtools, page, "break-code")?;
        if shown.as_str() != Some(code.to_string().as_str()) || shown_code != code.to_string() {
            return Err(CdpError(format!(
                "break it: {id}: expected close code {code}, the page shows {shown} / {shown_code}"
            )));
        }
        println!("ok: break it: {id} → {code}");
        if id == "invalid_utf8" {
            save(devtools, page, screenshots, "tour-break.png")?;
        }
    }
    Ok(())
}
