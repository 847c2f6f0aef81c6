//! Recipe: run behind a reverse proxy (nginx, a load balancer).
//!
//! The proxy terminates the client's TCP (and TLS) connection and opens its own to this
//! server, passing the upgrade through (docs/manual/nginx.conf). Three things change for the
//! server:
//!
//! - the TCP peer is the proxy, so the client's address comes from `X-Forwarded-For`, which is
//!   believed only when the peer is a proxy we trust (anyone else can send the header too);
//! - `Host` must be passed through (`proxy_set_header Host $host`), or an `Origin` check that
//!   compares the two (recipe_routing_origin, the chat demo) refuses every browser;
//! - the proxy has its own idle timeout (`proxy_read_timeout`, 60 s by default): ping more
//!   often than that (recipe_keepalive), or idle connections are cut.
//!
//! ```text
//! cargo run --example recipe_behind_proxy                    # a demo, no proxy needed
//! cargo run --example recipe_behind_proxy -- 127.0.0.1:9002  # serve, for nginx to proxy to
//! cargo run --example recipe_behind_proxy -- --check ws://127.0.0.1:8080/ws   # a client
//! ```
//!
//! scripts/nginx_proxy.sh runs nginx with docs/manual/nginx.conf in front of this server and
//! checks a client gets through.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::thread;

use rfc6455::blocking::{ClientConfig, Decision, Server, connect_with};
use rfc6455::handshake::Request;
use rfc6455::{ClientOptions, Error, Message};

/// The proxies whose `X-Forwarded-For` is believed: here, one on the same machine.
pub const TRUSTED_PROXIES: [IpAddr; 1] = [IpAddr::V4(Ipv4Addr::LOCALHOST)];

// ANCHOR: client_address
/// The client's address: the last address the trusted proxy appended to `X-Forwarded-For`,
/// or the TCP peer itself when it is not a trusted proxy.
pub fn client_address(peer: SocketAddr, request: &Request) -> IpAddr {
    if !TRUSTED_PROXIES.contains(&peer.ip()) {
        return peer.ip();
    }
    let forwarded = request.header("x-forwarded-for").and_then(|value| std::str::from_utf8(value).ok());
    // "client, proxy1, proxy2": each proxy appends the address it received from. Only the
    // last entry was written by our proxy; the ones before it came from the client.
    forwarded.and_then(|list| list.rsplit(',').next()).and_then(|last| last.trim().parse().ok()).unwrap_or(peer.ip())
}
// ANCHOR_END: client_address

/// Serve `/ws`: greet each client with the address it connects from, then echo text.
pub fn serve(server: Server) {
    for pending in server.incoming().flatten() {
        thread::spawn(move || -> Result<(), Error> {
            let peer = pending.peer_addr();
            let mut client = peer.ip();
            let mut ws = pending.handshake_with(|request| {
                client = client_address(peer, request);
                match request.resource_name() {
                    "/ws" => Decision::accept(),
                    "/healthz" => Decision::respond("text/plain", b"ok\n"),
                    _ => Decision::Reject { status: 404, reason: "the endpoint is /ws".into() },
                }
            })?;
            ws.send_text(&format!("hello {client}"))?;
            loop {
                match ws.read()? {
                    Message::Text(text) => ws.send_text(&text)?,
                    Message::Close(..) => {}
                    _ => {}
                }
            }
        });
    }
}

/// Connect to `url` as if through a proxy that added `forwarded_for`; returns the greeting.
pub fn greeting(url: &str, forwarded_for: Option<&str>) -> Result<String, Error> {
    let extra_headers = forwarded_for.map(|f| vec![("X-Forwarded-For".to_string(), f.to_string())]).unwrap_or_default();
    let options = ClientOptions { extra_headers, ..ClientOptions::default() };
    let (mut ws, _) = connect_with(url, &ClientConfig { options, ..ClientConfig::default() })?;
    match ws.read()? {
        Message::Text(text) => Ok(text),
        other => Ok(format!("{other:?}")),
    }
}

/// Connect to `url` (through the proxy), expect the greeting and an echo. For the script.
fn check(url: &str) -> Result<(), Error> {
    let (mut ws, _) = connect_with(url, &ClientConfig::default())?;
    let greeting = ws.read()?;
    ws.send_text("through the proxy")?;
    let echo = ws.read()?;
    ws.close(rfc6455::CloseCode::NORMAL, "done")?;
    println!("greeting {greeting:?}, echo {echo:?}");
    match (greeting, echo) {
        (Message::Text(g), Message::Text(e)) if g.starts_with("hello ") && e == "through the proxy" => Ok(()),
        _ => Err(Error::Io(std::io::Error::other("unexpected answer through the proxy"))),
    }
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, url] = args.as_slice()
        && flag == "--check"
    {
        return check(url);
    }
    if let Some(addr) = args.first() {
        let server = Server::bind(addr.as_str())?;
        println!("serving ws://{}/ws for a proxy in front (Ctrl-C stops)", server.local_addr()?);
        serve(server);
        return Ok(());
    }
    let server = Server::bind("127.0.0.1:0")?;
    let url = format!("ws://{}/ws", server.local_addr()?);
    thread::spawn(move || serve(server));
    // This demo's client connects from 127.0.0.1, a trusted proxy: its header is believed.
    println!("{}", greeting(&url, Some("203.0.113.7"))?);
    println!("{}", greeting(&url, Some("198.51.100.1, 203.0.113.9"))?);
    println!("{}", greeting(&url, None)?);
    Ok(())
}
