//! Drives the ticker demo (`examples/ticker.rs`) over loopback with the crate's own client:
//! a client gets a snapshot and then ticks pushed without asking, every client gets the same
//! ticks, and a stop closes them with 1001.

mod demo_support;
#[path = "../examples/ticker/server.rs"]
mod ticker;

use std::thread;
use std::time::{Duration, Instant};

use demo_support::{bind, connect, http_get, join_within, read_close_code, read_json};
use ticker::web::Stopper;

const TICK: Duration = Duration::from_millis(20);

fn start() -> (demo_support::Running, Stopper) {
    let (server, addr) = bind();
    let stopper = Stopper::for_server(&server).expect("stopper");
    let for_server = stopper.clone();
    let thread = thread::spawn(move || ticker::run(server, for_server, TICK));
    (demo_support::Running { addr, thread }, stopper)
}

#[test]
fn clients_receive_a_snapshot_then_the_same_pushed_ticks() {
    let (running, stopper) = start();
    let started = Instant::now();
    let mut first = connect(running.addr, "/ws");
    let mut second = connect(running.addr, "/ws");
    let snapshot = read_json(&mut first);
    assert_eq!(snapshot["type"], "snapshot");
    assert_eq!(snapshot["quotes"].as_array().map(Vec::len), Some(6));
    assert_eq!(read_json(&mut second)["type"], "snapshot");

    // At least two ticks, in sequence, with prices that stay positive.
    let mut first_ticks = Vec::new();
    while first_ticks.len() < 3 {
        let tick = read_json(&mut first);
        assert_eq!(tick["type"], "tick");
        for quote in tick["quotes"].as_array().expect("quotes") {
            assert!(quote["price"].as_f64().is_some_and(|price| price > 0.0), "{quote}");
        }
        first_ticks.push(tick);
    }
    let seqs: Vec<u64> = first_ticks.iter().filter_map(|tick| tick["seq"].as_u64()).collect();
    assert!(seqs.windows(2).all(|pair| pair[1] == pair[0] + 1), "consecutive ticks: {seqs:?}");
    assert!(started.elapsed() < Duration::from_secs(2), "ticks come every {TICK:?}");

    // The second client receives the very same ticks (server → many).
    let wanted = &first_ticks[0]["seq"];
    let same = loop {
        let tick = read_json(&mut second);
        if tick["seq"] == *wanted {
            break tick;
        }
    };
    assert_eq!(same, first_ticks[0]);

    stopper.stop();
    for ws in [&mut first, &mut second] {
        assert_eq!(read_close_code(ws), Some(1001));
    }
    join_within(running, Duration::from_secs(3));
}

#[test]
fn the_page_is_served_on_the_same_port() {
    let (running, stopper) = start();
    let (status, body) = http_get(running.addr, "/");
    assert_eq!(status, 200);
    assert!(body.contains("<title>Live ticker"));
    stopper.stop();
    join_within(running, Duration::from_secs(3));
}
