//! Checks the chat demo in a real browser: headless Chromium, driven over the DevTools
//! protocol by this crate's WebSocket client, opens the chat page in two tabs, joins the same
//! room in both, and checks that a message typed in one appears in the other (and not in a
//! third tab in another room), that typing shows, and that a page reconnects and rejoins on
//! its own after the server restarts. Run by `scripts/browser_test.sh`.
//!
//! ```text
//! cargo run --release --example cdp_chat_check -- [--url http://127.0.0.1:8080/] [--screenshot docs/screenshots/chat.png]
//!     [--browser-arg ARG]... [--no-reconnect]
//! ```
//!
//! Without `--url` it starts the chat server in-process. The reconnection check always uses
//! an in-process server, which it stops and starts again on the same port (`--no-reconnect`
//! skips it). `--browser-arg` passes a switch to Chromium, e.g.
//! `--ignore-certificate-errors-spki-list=HASH` to accept a test certificate when the URL is
//! `https://` (the page then talks `wss://`). Exit status 0 when every check passes, 1
//! otherwise (the failed check is on stderr).

#[path = "common/cdp.rs"]
mod cdp;
#[path = "common/chat_page.rs"]
mod chat_page;
#[path = "chat/server.rs"]
mod chat_server;
#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use cdp::{Browser, CdpError, DevTools};
use chat_page::{STEP, join, say, shows_message, type_text};
use chat_server::ChatServer;

fn main() -> ExitCode {
    let mut options = Options::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--url" => options.url = args.next(),
            "--screenshot" => options.screenshot = args.next(),
            "--browser-arg" => options.browser_args.extend(args.next()),
            "--no-reconnect" => options.reconnect = false,
            _ => {
                eprintln!(
                    "usage: cdp_chat_check [--url URL] [--screenshot OUT.png] [--browser-arg ARG]... [--no-reconnect]"
                );
                return ExitCode::from(2);
            }
        }
    }
    // Chromium dies with its `Browser` handle; Ctrl-C leaves through the same exit.
    common::on_ctrl_c(|| std::process::exit(130));
    let started = Instant::now();
    cdp::outcome("browser check", started, check(&options))
}

#[derive(Debug)]
struct Options {
    url: Option<String>,
    screenshot: Option<String>,
    browser_args: Vec<String>,
    reconnect: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { url: None, screenshot: None, browser_args: Vec::new(), reconnect: true }
    }
}

fn check(options: &Options) -> Result<(), CdpError> {
    let (url, screenshot) = (options.url.as_deref(), options.screenshot.as_deref());
    let browser = Browser::launch_with(&options.browser_args)?;
    let mut devtools = browser.connect()?;
    println!("browser: {}", devtools_version(&mut devtools)?);

    // The server under test: the given one, or our own.
    let own_server = match url {
        Some(_) => None,
        None => Some(ChatServer::start("127.0.0.1:0")?),
    };
    let url = match (url, &own_server) {
        (Some(url), _) => url.to_string(),
        (None, Some(server)) => server.http_url(),
        (None, None) => unreachable!("a server was started when no URL was given"),
    };
    two_tabs_chat(&mut devtools, &url, screenshot)?;
    drop(own_server);
    if options.reconnect {
        reconnects_after_restart(&mut devtools)?;
    }
    Ok(())
}

fn devtools_version(devtools: &mut DevTools) -> Result<String, CdpError> {
    let version = devtools.call(None, "Browser.getVersion", serde_json::json!({}))?;
    Ok(version["product"].as_str().unwrap_or("unknown").to_string())
}

fn two_tabs_chat(devtools: &mut DevTools, url: &str, screenshot: Option<&str>) -> Result<(), CdpError> {
    let ada = chat_page::open(devtools, url)?;
    let grace = chat_page::open(devtools, url)?;
    let linus = chat_page::open(devtools, url)?;
    let endpoint = devtools.eval(&ada, "chat.ws.url")?;
    println!("ok: three tabs connected to {}", endpoint.as_str().unwrap_or("?"));
    join(devtools, &ada, "lobby", "Ada")?;
    join(devtools, &grace, "lobby", "Grace")?;
    join(devtools, &linus, "kernel", "Linus")?;
    devtools.wait_for(&ada, &chat_page::member_count_is(2), STEP)?;
    println!("ok: two tabs joined #lobby, a third joined #kernel");

    let first = "Hi Grace! This page talks to the server over one WebSocket.";
    say(devtools, &ada, first)?;
    devtools.wait_for(&grace, &shows_message(first), STEP)?;
    println!("ok: a message sent in one tab appeared in the other");

    let reply = "Hello Ada. Each message is one masked text frame from the browser.";
    say(devtools, &grace, reply)?;
    devtools.wait_for(&ada, &shows_message(reply), STEP)?;
    let third = "And the server sends it on to everyone else in #lobby, and no one outside it.";
    say(devtools, &ada, third)?;
    devtools.wait_for(&grace, &shows_message(third), STEP)?;
    println!("ok: replies go both ways");

    let leaked = devtools.eval(&linus, chat_page::MESSAGES_SHOWN)?;
    if leaked != 0 {
        return Err(CdpError(format!("the tab in #kernel shows {leaked} message(s) from #lobby")));
    }
    println!("ok: the tab in another room saw none of it");

    devtools.wait_for(&ada, &chat_page::room_counts_are(&[("lobby", 2), ("kernel", 1)]), STEP)?;
    println!("ok: room counts show lobby 2, kernel 1");

    type_text(devtools, &grace, "Let me show you the frames")?;
    devtools.wait_for(&ada, "document.getElementById('typing').textContent === 'Grace is typing…'", STEP)?;
    println!("ok: the typing indicator shows in the other tab");

    if let Some(path) = screenshot {
        // Let the last repaint settle before the picture.
        thread::sleep(Duration::from_millis(300));
        let bytes = devtools.save_screenshot(&ada, path)?;
        println!("ok: screenshot saved to {path} ({bytes} bytes)");
    }
    for page in [&ada, &grace, &linus] {
        devtools.close_page(page)?;
    }
    Ok(())
}

fn reconnects_after_restart(devtools: &mut DevTools) -> Result<(), CdpError> {
    let server = ChatServer::start("127.0.0.1:0")?;
    let addr = server.local_addr();
    let page = chat_page::open(devtools, &server.http_url())?;
    join(devtools, &page, "lobby", "Ada")?;

    let stopped = Instant::now();
    server.shutdown();
    devtools.wait_for(&page, "document.body.dataset.conn === 'waiting'", STEP)?;
    let status = devtools.eval(&page, "document.getElementById('status-text').textContent")?;
    println!("ok: the page noticed the server left and shows {status}");

    // Stay down long enough for at least one retry to fail, so the backoff grows.
    thread::sleep(Duration::from_millis(2500));
    let attempts = devtools.eval(&page, "chat.attempt")?;
    if attempts.as_u64() < Some(2) {
        return Err(CdpError(format!("expected a failed retry while the server was down; attempts: {attempts}")));
    }
    let server = ChatServer::start(addr)?;
    devtools.wait_for(
        &page,
        "document.body.dataset.conn === 'open' && document.body.dataset.joined === 'lobby'",
        STEP,
    )?;
    println!(
        "ok: back and rejoined #lobby {:.1} s after the server stopped ({} failed retries with backoff)",
        stopped.elapsed().as_secs_f64(),
        attempts.as_u64().unwrap_or(0).saturating_sub(1)
    );
    if server.client_count() != 1 {
        return Err(CdpError(format!("expected 1 client after reconnecting, found {}", server.client_count())));
    }
    devtools.close_page(&page)?;
    Ok(())
}
