//! A news feed in the browser: write posts, like them, and watch the three ways WebSocket
//! messages flow: client → server (your post, your like), server → many (every client gets
//! every post), server → one (only the author hears "your post was liked").
//!
//! ```text
//! cargo run --example news_feed -- 127.0.0.1:8080
//! cargo run --example news_feed -- 127.0.0.1:8080 --redis redis://127.0.0.1:6379   # a node of a cluster
//! ```
//!
//! Then open <http://127.0.0.1:8080/> in two or three browser windows with different names.
//! Ctrl-C closes every client (1001, going away) and stops.

#[path = "news_feed/server.rs"]
mod server;

use rfc6455::blocking::Server;
use server::web::Stopper;

fn main() -> std::io::Result<()> {
    let addr = server::broker::redis_backplane::args_without_redis()
        .into_iter()
        .next()
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let feed = match server::broker::redis_backplane::from_args() {
        Some(backplane) => server::NewsFeed::with_backplane(backplane),
        None => server::NewsFeed::new(),
    };
    let listener = Server::bind(&addr)?;
    let stopper = Stopper::for_server(&listener)?;
    let on_ctrl_c = stopper.clone();
    ctrlc::set_handler(move || on_ctrl_c.stop()).map_err(std::io::Error::other)?;
    println!("news feed: open http://{}/ (Ctrl-C stops)", listener.local_addr()?);
    server::run_with(listener, stopper, feed)?;
    println!("news feed stopped");
    Ok(())
}
