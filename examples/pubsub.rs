//! A publish/subscribe server for the browser: subscribe to channels, unsubscribe, publish; a
//! message reaches exactly the clients subscribed to its channel, and the publisher is told
//! how many that was.
//!
//! ```text
//! cargo run --example pubsub -- 127.0.0.1:8081
//! cargo run --example pubsub -- 127.0.0.1:8081 --redis redis://127.0.0.1:6379   # a node of a cluster
//! ```
//!
//! Then open <http://127.0.0.1:8081/> in a few windows, subscribe each to different channels,
//! and publish. Ctrl-C closes every client (1001, going away) and stops.

#[path = "pubsub/server.rs"]
mod server;

use rfc6455::blocking::Server;
use server::web::Stopper;

fn main() -> std::io::Result<()> {
    let addr = server::broker::redis_backplane::args_without_redis()
        .into_iter()
        .next()
        .unwrap_or_else(|| "127.0.0.1:8081".to_string());
    let pubsub = match server::broker::redis_backplane::from_args() {
        Some(backplane) => server::PubSub::with_backplane(backplane),
        None => server::PubSub::new(),
    };
    let listener = Server::bind(&addr)?;
    let stopper = Stopper::for_server(&listener)?;
    let on_ctrl_c = stopper.clone();
    ctrlc::set_handler(move || on_ctrl_c.stop()).map_err(std::io::Error::other)?;
    println!("pub/sub: open http://{}/ (Ctrl-C stops)", listener.local_addr()?);
    server::run_with(listener, stopper, pubsub)?;
    println!("pub/sub stopped");
    Ok(())
}
