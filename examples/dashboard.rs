//! A server-health dashboard in the browser: this machine's CPU, memory and network figures,
//! sampled from /proc and pushed to the page over a WebSocket as they are taken, plotted live.
//! The same figures are offered by HTTP polling (`GET /poll`, and the page at `/?mode=poll`)
//! to compare the two; `examples/push_vs_poll.rs` measures the difference.
//!
//! ```text
//! cargo run --example dashboard -- 127.0.0.1:8083 [INTERVAL_MS]
//! ```
//!
//! Then open <http://127.0.0.1:8083/> (push) or <http://127.0.0.1:8083/?mode=poll> (poll).
//! A sample is taken every INTERVAL_MS milliseconds (default 1000). Ctrl-C closes every
//! client (1001, going away) and stops.

#[path = "dashboard/server.rs"]
mod server;

use std::time::Duration;

use rfc6455::blocking::Server;
use server::web::Stopper;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8083".to_string());
    let interval_ms = match args.next().map(|text| text.parse::<u64>()) {
        None => 1000,
        Some(Ok(ms)) if ms > 0 => ms,
        Some(_) => {
            eprintln!("usage: dashboard [ADDR] [INTERVAL_MS], INTERVAL_MS a positive whole number");
            std::process::exit(2);
        }
    };
    let listener = Server::bind(&addr)?;
    let stopper = Stopper::for_server(&listener)?;
    let on_ctrl_c = stopper.clone();
    ctrlc::set_handler(move || on_ctrl_c.stop()).map_err(std::io::Error::other)?;
    let local = listener.local_addr()?;
    println!("dashboard: open http://{local}/ (push) or http://{local}/?mode=poll (poll); Ctrl-C stops");
    server::run(listener, stopper, Duration::from_millis(interval_ms))?;
    println!("dashboard stopped");
    Ok(())
}
