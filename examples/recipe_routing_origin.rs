//! Recipe: route WebSocket requests by path, and check `Origin` (RFC 6455 §10.2).
//!
//! One port serves a page over plain HTTP and two WebSocket endpoints. The handshake hook
//! (`Pending::handshake_with`) sees every request before anything is answered and returns a
//! `Decision`: accept, reject with a status, or answer with a plain HTTP response.
//!
//! - `/chat` acts in the user's name (it would read their cookies), so only pages from the
//!   allowed origins may open it; any other `Origin` gets 403 Forbidden, as §10.2 asks.
//!   A request without `Origin` does not come from a browser page and is let through.
//! - `/feed` is public and read-only: any page may open it.
//! - any other WebSocket path gets 404; plain `GET /` gets the page.
//!
//! docs/manual/routing-and-origin.md explains why the check is on the handshake.
//!
//! ```text
//! cargo run --example recipe_routing_origin
//! ```

use std::thread;

use rfc6455::blocking::{ClientConfig, Decision, Server, connect_with};
use rfc6455::handshake::Request;
use rfc6455::{ClientOptions, Error, HandshakeError, Message};

/// Pages that may open `/chat` (scheme, host and port, exactly as browsers send them).
pub const ALLOWED_ORIGINS: [&str; 2] = ["https://chat.example", "http://localhost:8080"];

// ANCHOR: route
/// The handshake decision for one request.
pub fn route(request: &Request) -> Decision {
    // The path without its query string.
    let path = request.resource_name().split('?').next().unwrap_or("/");
    if !request.is_websocket_upgrade() {
        return match path {
            "/" => Decision::respond("text/html; charset=utf-8", b"<!doctype html><p>hello</p>\n"),
            _ => Decision::Reject { status: 404, reason: "not found".into() },
        };
    }
    match path {
        "/chat" => match request.origin.as_deref() {
            // RFC 6455 §10.2: an unexpected origin SHOULD get 403 Forbidden.
            Some(origin) if !ALLOWED_ORIGINS.contains(&origin) => {
                Decision::Reject { status: 403, reason: format!("origin {origin} may not open /chat") }
            }
            _ => Decision::accept(),
        },
        "/feed" => Decision::accept(),
        _ => Decision::Reject { status: 404, reason: format!("no WebSocket endpoint at {path}") },
    }
}
// ANCHOR_END: route

/// Serve: each connection says which endpoint it reached, then closes.
pub fn serve(server: Server) {
    for pending in server.incoming().flatten() {
        thread::spawn(move || -> Result<(), Error> {
            let mut path = String::new();
            let mut ws = pending.handshake_with(|request| {
                path = request.resource_name().to_string();
                route(request)
            })?;
            ws.send_text(&format!("welcome to {path}"))?;
            while ws.read().is_ok() {}
            Ok(())
        });
    }
}

/// Connect to `path` from a page of `origin` (or from no page): the greeting, or the HTTP
/// status of the refusal.
pub fn try_connect(addr: &str, path: &str, origin: Option<&str>) -> Result<String, u16> {
    let options = ClientOptions { origin: origin.map(String::from), ..ClientOptions::default() };
    let config = ClientConfig { options, ..ClientConfig::default() };
    match connect_with(&format!("ws://{addr}{path}"), &config) {
        Ok((mut ws, _)) => match ws.read() {
            Ok(Message::Text(greeting)) => Ok(greeting),
            _ => Err(0),
        },
        // The refusal carries the server's whole answer: status, headers and the reason as body.
        Err(Error::Handshake(HandshakeError::Refused(refusal))) => Err(refusal.status()),
        Err(_) => Err(0),
    }
}

fn main() -> Result<(), Error> {
    let server = Server::bind("127.0.0.1:0")?;
    let addr = server.local_addr()?.to_string();
    thread::spawn(move || serve(server));
    for (path, origin) in [
        ("/chat", Some("https://chat.example")),
        ("/chat", Some("https://evil.example")),
        ("/chat", None),
        ("/feed", Some("https://evil.example")),
        ("/admin", None),
    ] {
        let outcome = match try_connect(&addr, path, origin) {
            Ok(greeting) => format!("accepted: {greeting:?}"),
            Err(status) => format!("refused with {status}"),
        };
        println!("{path:<7} from {:<22} {outcome}", origin.unwrap_or("(no Origin)"));
    }
    Ok(())
}
