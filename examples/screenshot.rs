//! Take a PNG screenshot of any page with headless Chromium, driven over the DevTools
//! protocol by this crate's WebSocket client (`examples/common/cdp.rs`).
//!
//! ```text
//! cargo run --example screenshot -- http://127.0.0.1:8080/ docs/screenshots/page.png
//! cargo run --example screenshot -- URL OUT.png --size 1280x800 \
//!     --wait "document.body.dataset.conn === 'open'" --delay-ms 500
//! ```
//!
//! `--wait EXPR` waits (up to 30 s) until the JavaScript expression is truthy, for pages that
//! fill themselves over a WebSocket; `--delay-ms` waits a little more for animations. Needs
//! Chromium (`apt-get install chromium`, or `CHROMIUM=/path/to/chrome`). Exit status 1 on any
//! failure, with the reason on stderr.

#[path = "common/cdp.rs"]
mod cdp;
#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;
use std::time::Duration;

use cdp::{Browser, CdpError};

const USAGE: &str = "usage: screenshot URL OUT.png [--size WxH] [--wait JS_EXPRESSION] [--delay-ms N]";

struct Shot {
    url: String,
    out: String,
    width: u32,
    height: u32,
    wait: Option<String>,
    delay: Duration,
}

fn main() -> ExitCode {
    let shot = match parse_args() {
        Ok(shot) => shot,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // The browser is killed when `Browser` drops; on Ctrl-C, exit through the same path.
    common::on_ctrl_c(|| std::process::exit(130));
    match take(&shot) {
        Ok(bytes) => {
            println!("wrote {} ({} bytes, {}x{})", shot.out, bytes, shot.width, shot.height);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("screenshot failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn take(shot: &Shot) -> Result<usize, CdpError> {
    let browser = Browser::launch()?;
    let mut devtools = browser.connect()?;
    let page = devtools.open_page(&shot.url, shot.width, shot.height)?;
    if let Some(expression) = &shot.wait {
        devtools.wait_for(&page, expression, cdp::CALL_TIMEOUT)?;
    }
    std::thread::sleep(shot.delay);
    devtools.save_screenshot(&page, &shot.out)
}

fn parse_args() -> Result<Shot, String> {
    let mut positional = Vec::new();
    let mut shot = Shot {
        url: String::new(),
        out: String::new(),
        width: 1100,
        height: 700,
        wait: None,
        delay: Duration::from_millis(200),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--size" => {
                let size = args.next().ok_or("--size needs WxH")?;
                let (w, h) = size.split_once('x').ok_or("--size needs WxH, e.g. 1280x800")?;
                shot.width = w.parse().map_err(|_| format!("bad width in {size}"))?;
                shot.height = h.parse().map_err(|_| format!("bad height in {size}"))?;
            }
            "--wait" => shot.wait = Some(args.next().ok_or("--wait needs a JavaScript expression")?),
            "--delay-ms" => {
                let ms = args.next().and_then(|ms| ms.parse().ok()).ok_or("--delay-ms needs a number")?;
                shot.delay = Duration::from_millis(ms);
            }
            "-h" | "--help" => return Err("screenshot a page with headless Chromium".into()),
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}")),
            _ => positional.push(arg),
        }
    }
    let [url, out] = <[String; 2]>::try_from(positional).map_err(|_| "need URL and OUT.png".to_string())?;
    shot.url = url;
    shot.out = out;
    Ok(shot)
}
