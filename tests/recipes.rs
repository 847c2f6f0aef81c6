//! The manual's recipes (`examples/recipe_*.rs`, docs/manual/) run and do what they say: each
//! recipe's demo is run here, on loopback, with short durations, and its outcome checked.

#[allow(dead_code)]
#[path = "../examples/recipe_behind_proxy.rs"]
mod recipe_behind_proxy;
#[allow(dead_code)]
#[path = "../examples/recipe_broadcast.rs"]
mod recipe_broadcast;
#[allow(dead_code)]
#[path = "../examples/recipe_graceful_shutdown.rs"]
mod recipe_graceful_shutdown;
#[allow(dead_code)]
#[path = "../examples/recipe_keepalive.rs"]
mod recipe_keepalive;
#[allow(dead_code)]
#[path = "../examples/recipe_limits.rs"]
mod recipe_limits;
#[allow(dead_code)]
#[path = "../examples/recipe_routing_origin.rs"]
mod recipe_routing_origin;
#[allow(dead_code)]
#[path = "../examples/recipe_stream_file.rs"]
mod recipe_stream_file;

use std::thread;
use std::time::Duration;

use rfc6455::CloseCode;

#[test]
fn broadcast_drops_the_client_that_stops_reading_and_the_others_miss_nothing() {
    let (sent, heard, left) = recipe_broadcast::demo().expect("demo");
    assert_eq!(left, 2, "the stuck client is dropped, the two readers stay");
    assert!(sent > 0);
    assert_eq!(heard, [sent, sent], "each reader got every message broadcast");
}

#[test]
fn keepalive_drops_a_silent_client_and_keeps_a_live_one() {
    let idle = Duration::from_millis(400);
    let (ending, after, live) = recipe_keepalive::demo(Duration::from_millis(100), idle).expect("demo");
    assert_eq!(ending, recipe_keepalive::Ending::Idle);
    assert!(after >= idle, "dropped after {after:?}, before the idle timeout");
    assert!(live, "the client that answers pings is still served");
}

#[test]
fn a_stream_larger_than_the_buffers_arrives_whole_and_in_order() {
    use recipe_stream_file::{Generated, demo};
    let len = 8 << 20;
    let (sent, checksum, received) = demo(Generated::new(len)).expect("demo");
    assert_eq!(sent, len);
    assert_eq!((received.bytes, received.checksum), (sent, checksum));
    assert!(received.pieces >= len / (64 << 10), "handed out in pieces: {}", received.pieces);
    // Streaming: the receiver never held anything near the message.
    assert!(received.peak_buffered < (1 << 20), "held {} bytes", received.peak_buffered);
}

#[test]
fn routing_accepts_by_path_and_refuses_foreign_origins_with_403() {
    use recipe_routing_origin::{serve, try_connect};
    let server = rfc6455::blocking::Server::bind("127.0.0.1:0").expect("bind");
    let addr = server.local_addr().expect("addr").to_string();
    thread::spawn(move || serve(server));
    assert_eq!(try_connect(&addr, "/chat", Some("https://chat.example")), Ok("welcome to /chat".into()));
    assert_eq!(try_connect(&addr, "/chat", Some("https://evil.example")), Err(403));
    assert_eq!(try_connect(&addr, "/chat", None), Ok("welcome to /chat".into()));
    assert_eq!(try_connect(&addr, "/feed", Some("https://evil.example")), Ok("welcome to /feed".into()));
    assert_eq!(try_connect(&addr, "/admin", None), Err(404));
}

#[test]
fn graceful_shutdown_sends_going_away_and_cuts_only_the_deaf_client() {
    let (codes, cut, port_closed) = recipe_graceful_shutdown::demo(Duration::from_millis(300)).expect("demo");
    assert_eq!(codes, [Some(CloseCode::GOING_AWAY), Some(CloseCode::GOING_AWAY)]);
    assert_eq!(cut, 1, "only the client that never read had to be cut");
    assert!(port_closed, "no longer listening");
}

#[test]
fn behind_a_proxy_the_client_address_comes_from_a_trusted_proxy_only() {
    use recipe_behind_proxy::{greeting, serve};
    let server = rfc6455::blocking::Server::bind("127.0.0.1:0").expect("bind");
    let url = format!("ws://{}/ws", server.local_addr().expect("addr"));
    thread::spawn(move || serve(server));
    assert_eq!(greeting(&url, Some("203.0.113.7")).expect("connect"), "hello 203.0.113.7");
    // Only the entry our proxy appended counts; what the client wrote before it does not.
    assert_eq!(greeting(&url, Some("198.51.100.1, 203.0.113.9")).expect("connect"), "hello 203.0.113.9");
    assert_eq!(greeting(&url, None).expect("connect"), "hello 127.0.0.1");
}

#[test]
fn untrusted_peers_cannot_choose_their_address() {
    use recipe_behind_proxy::client_address;
    let mut handshake = rfc6455::ServerHandshake::new(16 << 10);
    let request = handshake
        .receive(b"GET /ws HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n")
        .expect("parse")
        .expect("complete");
    let stranger = "198.51.100.20:5000".parse().expect("addr");
    assert_eq!(client_address(stranger, &request), stranger.ip());
    let proxy = "127.0.0.1:5000".parse().expect("addr");
    assert_eq!(client_address(proxy, &request).to_string(), "203.0.113.7");
}

#[test]
fn limits_for_a_budget_hold_on_a_connection_at_its_worst() {
    use recipe_limits::{limits_for, measure, worst_case_bytes};
    for (connections, budget) in [(10_000, 2usize << 30), (1_000, 256 << 20), (100, 64 << 20)] {
        let limits = limits_for(connections, budget);
        assert!(worst_case_bytes(&limits) * connections <= budget, "{connections} in {budget}: {limits:?}");
        let (peak, over) = measure(limits).expect("measure");
        assert!(peak <= worst_case_bytes(&limits), "peak {peak} over the bound {}", worst_case_bytes(&limits));
        assert_eq!(over, Some(1009), "one byte over the message limit is 1009");
    }
    // The table of docs/manual/limits.md, in KiB.
    for (connections, budget, kib) in [(100, 1usize << 30, 1310), (1_000, 1 << 30, 131), (10_000, 2 << 30, 26)] {
        let limits = limits_for(connections, budget);
        for limit in [limits.max_message_size, limits.max_input_buffer, limits.max_output_buffer] {
            assert_eq!(limit >> 10, kib, "{connections} connections in {budget} bytes");
        }
    }
}
