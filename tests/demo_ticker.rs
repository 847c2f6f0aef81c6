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

/// Two ticker servers as nodes of one cluster (the in-memory backplane): one market, moved by
/// the node holding the generator claim, so clients of both nodes see the same ticks.
#[test]
fn two_nodes_push_the_same_market() {
    let bus = ticker::broker::backplane::MemoryBus::default();
    let mut nodes = Vec::new();
    for seed in [1, 2] {
        let (server, addr) = bind();
        let stopper = Stopper::for_server(&server).expect("stopper");
        let for_server = stopper.clone();
        let node = ticker::Ticker::with_backplane(seed, bus.node());
        let thread = thread::spawn(move || ticker::run_with(server, for_server, TICK, node));
        nodes.push((demo_support::Running { addr, thread }, stopper));
    }
    let mut a = connect(nodes[0].0.addr, "/ws");
    let mut b = connect(nodes[1].0.addr, "/ws");
    assert_eq!(read_json(&mut a)["type"], "snapshot");
    assert_eq!(read_json(&mut b)["type"], "snapshot");
    let ticks = |ws: &mut _| -> Vec<(u64, String)> {
        (0..5)
            .map(|_| {
                let tick = read_json(ws);
                assert_eq!(tick["type"], "tick");
                (tick["seq"].as_u64().expect("seq"), tick["quotes"].to_string())
            })
            .collect()
    };
    let (from_a, from_b) = (ticks(&mut a), ticks(&mut b));
    // One generator: sequence numbers never repeat, and a tick both saw has the same prices.
    for list in [&from_a, &from_b] {
        assert!(list.windows(2).all(|w| w[0].0 < w[1].0), "{list:?}");
    }
    let common: Vec<_> = from_a.iter().filter(|tick| from_b.iter().any(|other| other.0 == tick.0)).collect();
    assert!(!common.is_empty(), "the nodes pushed different markets: {from_a:?} / {from_b:?}");
    for tick in common {
        assert!(from_b.contains(tick), "tick {} differs between the nodes", tick.0);
    }
    for (running, stopper) in nodes {
        stopper.stop();
        join_within(running, Duration::from_secs(5));
    }
}
