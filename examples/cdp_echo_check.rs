//! Checks `echo_server` from a real browser: headless Chromium, driven over the DevTools
//! protocol by this crate's own client, opens the server's page, connects a JavaScript
//! `WebSocket` to it, and checks that permessage-deflate (RFC 7692) was negotiated and that
//! text and binary messages of every length form come back exactly. Run by
//! `scripts/browser_echo_test.sh`.
//!
//! ```text
//! cargo run --release --example cdp_echo_check -- http://127.0.0.1:9001/
//! ```
//!
//! Exit status 0 when every check passes, 1 otherwise.

#[path = "common/cdp.rs"]
mod cdp;
#[path = "common/echo_page.rs"]
mod echo_page;

use std::process::ExitCode;

use cdp::{Browser, CdpError};

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
    let echoed = echo_page::run(
        &mut devtools,
        &page,
        "(location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/'",
    )?;
    let extensions = echoed.extensions;
    if !extensions.starts_with("permessage-deflate") {
        return Err(CdpError(format!("permessage-deflate was not negotiated (extensions: {extensions:?})")));
    }
    Ok(format!("{} messages echoed exactly; negotiated {extensions:?}; closed with 1000", echoed.checked))
}
