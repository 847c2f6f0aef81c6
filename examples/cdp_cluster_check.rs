//! Checks the chat as a two-node cluster in a real browser: headless Chromium (driven over the
//! DevTools protocol by this crate's client) opens one tab on each node; both join #lobby and
//! talk, a third tab in #kernel sees nothing, the member lists and room counts agree on both
//! nodes; then node A crashes: its user leaves the other tab's list within the presence bound,
//! the other tab keeps talking, node A comes back on the same port, and the crashed tab
//! reconnects by itself and recovers what was said meanwhile from the room's history. Run by
//! `scripts/browser_cluster_test.sh`.
//!
//! ```text
//! cargo run --release --example cdp_cluster_check -- [--redis redis://127.0.0.1:PORT] [--screenshot OUT.png]
//! ```
//!
//! The two nodes run in this process; with `--redis` they meet in that Redis (the real thing),
//! without it on the in-memory backplane. Exit status 0 when every check passes.

#[path = "common/cdp.rs"]
mod cdp;
#[path = "common/chat_page.rs"]
mod chat_page;
#[path = "chat/server.rs"]
mod chat_server;
#[path = "common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use cdp::{Browser, CdpError};
use chat_page::{STEP, join, members_are, say, shows_once};
use chat_server::{ChatServer, Settings};
use common::backplane::{Backplane, MemoryBus, token};
use common::redis_backplane::RedisBackplane;

/// Presence TTL of the nodes: a crashed node's users leave within TTL + heartbeat.
const TTL: Duration = Duration::from_secs(3);
const HEARTBEAT: Duration = Duration::from_secs(1);

/// Where the nodes meet: a Redis (with a key prefix of this run's own) or a bus in memory.
enum Meeting {
    Redis(String, String),
    Memory(MemoryBus),
}

impl Meeting {
    fn node(&self, addr: &str) -> Result<ChatServer, CdpError> {
        let backplane: Arc<dyn Backplane> = match self {
            Meeting::Redis(url, prefix) => RedisBackplane::connect_with(url, prefix, TTL).map_err(CdpError)?,
            Meeting::Memory(bus) => bus.node(),
        };
        let settings = Settings { backplane: Some(backplane), heartbeat: Some(HEARTBEAT), ..Settings::default() };
        Ok(ChatServer::start_with(addr, settings)?)
    }
}

fn main() -> ExitCode {
    let (mut redis, mut screenshot) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--redis" => redis = args.next(),
            "--screenshot" => screenshot = args.next(),
            _ => {
                eprintln!("usage: cdp_cluster_check [--redis redis://127.0.0.1:PORT] [--screenshot OUT.png]");
                return ExitCode::from(2);
            }
        }
    }
    common::on_ctrl_c(|| std::process::exit(130));
    let meeting = match redis {
        Some(url) => Meeting::Redis(url, format!("browser-{}", token())),
        None => Meeting::Memory(MemoryBus::with_ttl(TTL)),
    };
    let started = Instant::now();
    cdp::outcome("cluster browser check", started, check(&meeting, screenshot.as_deref()))
}

fn check(meeting: &Meeting, screenshot: Option<&str>) -> Result<(), CdpError> {
    let browser = Browser::launch_with(&[])?;
    let mut devtools = browser.connect()?;
    let node_a = meeting.node("127.0.0.1:0")?;
    let node_b = meeting.node("127.0.0.1:0")?;
    let addr_a: SocketAddr = node_a.local_addr();
    println!("nodes: A at {} and B at {}", node_a.http_url(), node_b.http_url());

    let ada = chat_page::open(&mut devtools, &node_a.http_url())?;
    let grace = chat_page::open(&mut devtools, &node_b.http_url())?;
    let linus = chat_page::open(&mut devtools, &node_a.http_url())?;
    join(&mut devtools, &ada, "lobby", "Ada")?;
    join(&mut devtools, &grace, "lobby", "Grace")?;
    join(&mut devtools, &linus, "kernel", "Linus")?;
    devtools.wait_for(&ada, &members_are(&["Ada", "Grace"]), STEP)?;
    devtools.wait_for(&grace, &members_are(&["Ada", "Grace"]), STEP)?;
    println!("ok: a tab on node A and a tab on node B share #lobby; both list Ada and Grace");

    let first = "Hi Grace, I am on node A.";
    say(&mut devtools, &ada, first)?;
    devtools.wait_for(&grace, &shows_once(first), STEP)?;
    let reply = "Hello Ada, node B here: Redis carried your message.";
    say(&mut devtools, &grace, reply)?;
    devtools.wait_for(&ada, &shows_once(reply), STEP)?;
    println!("ok: messages cross the nodes both ways, each shown once");

    let leaked = devtools.eval(&linus, chat_page::MESSAGES_SHOWN)?;
    if leaked != 0 {
        return Err(CdpError(format!("the tab in #kernel shows {leaked} message(s) from #lobby")));
    }
    let counts = chat_page::room_counts_are(&[("lobby", 2), ("kernel", 1)]);
    devtools.wait_for(&ada, &counts, STEP)?;
    devtools.wait_for(&grace, &counts, STEP)?;
    println!("ok: the tab in #kernel saw nothing; both nodes count lobby 2, kernel 1");

    if let Some(path) = screenshot {
        thread::sleep(Duration::from_millis(300));
        devtools.save_screenshot(&grace, path)?;
        println!("ok: screenshot of the tab on node B saved to {path}");
    }

    // Node A crashes: its users stay in Redis until their claims expire.
    devtools.close_page(&linus)?;
    let crashed = Instant::now();
    node_a.crash();
    devtools.wait_for(&ada, "document.body.dataset.conn === 'waiting'", STEP)?;
    devtools.wait_for(&grace, &members_are(&["Grace"]), STEP)?;
    println!(
        "ok: node A crashed; Ada left the list on node B after {:.1} s (bound: TTL {} s + heartbeat {} s)",
        crashed.elapsed().as_secs_f64(),
        TTL.as_secs(),
        HEARTBEAT.as_secs()
    );

    let missed = ["While you were away: one.", "While you were away: two."];
    for text in missed {
        say(&mut devtools, &grace, text)?;
    }
    let node_a = meeting.node(&addr_a.to_string())?;
    devtools.wait_for(
        &ada,
        "document.body.dataset.conn === 'open' && document.body.dataset.joined === 'lobby'",
        STEP,
    )?;
    for text in missed {
        devtools.wait_for(&ada, &shows_once(text), STEP)?;
    }
    devtools.wait_for(&ada, &shows_once(reply), STEP)?;
    println!(
        "ok: node A is back; the tab reconnected by itself and recovered the {} messages it missed, none twice",
        missed.len()
    );
    devtools.wait_for(&grace, &members_are(&["Grace", "Ada"]), STEP)?;
    println!("ok: Ada is back in node B's list");
    for page in [&ada, &grace] {
        devtools.close_page(page)?;
    }
    drop(node_a);
    drop(node_b);
    Ok(())
}
