//! Live prices in the browser: a made-up market takes a random walk and the server pushes
//! every change to every connected page over its WebSocket.
//!
//! ```text
//! cargo run --example ticker -- 127.0.0.1:8082 [INTERVAL_MS]
//! cargo run --example ticker -- 127.0.0.1:8082 --redis redis://127.0.0.1:6379   # a node of a cluster
//! ```
//!
//! Then open <http://127.0.0.1:8082/>. Prices move every INTERVAL_MS milliseconds (default
//! 500). Ctrl-C closes every client (1001, going away) and stops.

#[path = "ticker/server.rs"]
mod server;

use std::time::Duration;

use rfc6455::blocking::Server;
use server::web::Stopper;

fn main() -> std::io::Result<()> {
    let mut args = server::broker::redis_backplane::args_without_redis().into_iter();
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8082".to_string());
    let interval_ms = match args.next().map(|text| text.parse::<u64>()) {
        None => 500,
        Some(Ok(ms)) if ms > 0 => ms,
        Some(_) => {
            eprintln!("usage: ticker [ADDR] [INTERVAL_MS], INTERVAL_MS a positive whole number");
            std::process::exit(2);
        }
    };
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64);
    let ticker = match server::broker::redis_backplane::from_args() {
        Some(backplane) => server::Ticker::with_backplane(seed, backplane),
        None => server::Ticker::new(seed),
    };
    let listener = Server::bind(&addr)?;
    let stopper = Stopper::for_server(&listener)?;
    let on_ctrl_c = stopper.clone();
    ctrlc::set_handler(move || on_ctrl_c.stop()).map_err(std::io::Error::other)?;
    println!("ticker: open http://{}/ (a move every {interval_ms} ms; Ctrl-C stops)", listener.local_addr()?);
    server::run_with(listener, stopper, Duration::from_millis(interval_ms), ticker)?;
    println!("ticker stopped");
    Ok(())
}
