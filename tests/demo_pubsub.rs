//! Drives the pub/sub demo (`examples/pubsub.rs`) over loopback with the crate's own client:
//! a published message reaches exactly the subscribers of its channel, the publisher learns
//! how many, unsubscribing and disconnecting stop delivery, and bad requests get an error.

mod demo_support;
#[path = "../examples/pubsub/server.rs"]
mod pubsub;

use std::thread;
use std::time::Duration;

use demo_support::{bind, connect, http_get, join_within, read_close_code, read_json, send_json};
use pubsub::web::Stopper;
use rfc6455::blocking::{MaybeTlsStream, WebSocket};
use serde_json::{Value, json};

fn start() -> (demo_support::Running, Stopper) {
    let (server, addr) = bind();
    let stopper = Stopper::for_server(&server).expect("stopper");
    let for_server = stopper.clone();
    let thread = thread::spawn(move || pubsub::run(server, for_server));
    (demo_support::Running { addr, thread }, stopper)
}

/// Connect and read the welcome.
fn client(addr: std::net::SocketAddr) -> WebSocket<MaybeTlsStream> {
    let mut ws = connect(addr, "/ws");
    assert_eq!(read_json(&mut ws)["type"], "welcome");
    ws
}

fn request(ws: &mut WebSocket<MaybeTlsStream>, value: Value) -> Value {
    send_json(ws, &value);
    read_json(ws)
}

fn subscribe(ws: &mut WebSocket<MaybeTlsStream>, channel: &str) {
    let answer = request(ws, json!({"type": "subscribe", "channel": channel}));
    assert_eq!(answer["type"], "subscribed", "{answer}");
}

/// Publish and return how many subscribers the server says it reached.
fn publish(ws: &mut WebSocket<MaybeTlsStream>, channel: &str, message: &str) -> u64 {
    let answer = request(ws, json!({"type": "publish", "channel": channel, "message": message}));
    assert_eq!(answer["type"], "published", "{answer}");
    answer["delivered"].as_u64().expect("a count")
}

/// The next message delivered on a channel.
fn next_delivery(ws: &mut WebSocket<MaybeTlsStream>) -> (String, String) {
    let message = read_json(ws);
    assert_eq!(message["type"], "message", "{message}");
    (
        message["channel"].as_str().unwrap_or_default().to_string(),
        message["message"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn a_published_message_reaches_exactly_the_subscribers() {
    let (running, stopper) = start();
    let mut sports_fan = client(running.addr);
    let mut also_sports = client(running.addr);
    let mut weather_watcher = client(running.addr);
    let mut publisher = client(running.addr);
    subscribe(&mut sports_fan, "sports");
    subscribe(&mut also_sports, "sports");
    subscribe(&mut weather_watcher, "weather");
    // A marker channel all three share: its message, published last, closes each one's stream.
    for ws in [&mut sports_fan, &mut also_sports, &mut weather_watcher] {
        subscribe(ws, "marker");
    }

    assert_eq!(publish(&mut publisher, "sports", "goal!"), 2);
    assert_eq!(publish(&mut publisher, "weather", "rain"), 1);
    assert_eq!(publish(&mut publisher, "nobody", "hello?"), 0);

    // Each subscriber gets its channel's messages and nothing else: the message of its own
    // channel, then the marker, with nothing in between.
    assert_eq!(publish(&mut publisher, "marker", "end"), 3);
    assert_eq!(next_delivery(&mut sports_fan), ("sports".into(), "goal!".into()));
    assert_eq!(next_delivery(&mut sports_fan), ("marker".into(), "end".into()));
    assert_eq!(next_delivery(&mut also_sports), ("sports".into(), "goal!".into()));
    assert_eq!(next_delivery(&mut also_sports), ("marker".into(), "end".into()));
    assert_eq!(next_delivery(&mut weather_watcher), ("weather".into(), "rain".into()));
    assert_eq!(next_delivery(&mut weather_watcher), ("marker".into(), "end".into()));

    stopper.stop();
    for ws in [&mut sports_fan, &mut also_sports, &mut weather_watcher, &mut publisher] {
        assert_eq!(read_close_code(ws), Some(1001));
    }
    join_within(running, Duration::from_secs(3));
}

#[test]
fn unsubscribing_and_leaving_stop_delivery() {
    let (running, stopper) = start();
    let mut stays = client(running.addr);
    let mut unsubscribes = client(running.addr);
    let mut leaves = client(running.addr);
    let mut publisher = client(running.addr);
    for ws in [&mut stays, &mut unsubscribes, &mut leaves] {
        subscribe(ws, "news");
    }
    assert_eq!(publish(&mut publisher, "news", "one"), 3);
    for ws in [&mut stays, &mut unsubscribes, &mut leaves] {
        assert_eq!(next_delivery(ws).1, "one");
    }

    let answer = request(&mut unsubscribes, json!({"type": "unsubscribe", "channel": "news"}));
    assert_eq!(answer, json!({"type": "unsubscribed", "channel": "news", "subscribers": 2}));
    leaves.close(rfc6455::CloseCode::NORMAL, "bye").expect("close");
    assert_eq!(read_close_code(&mut leaves), Some(1000));
    drop(leaves);

    // The server drops a closed client's subscriptions once its connection ends.
    let mut delivered = u64::MAX;
    for _ in 0..100 {
        delivered = publish(&mut publisher, "news", "two");
        if delivered == 1 {
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(delivered, 1, "only the client still subscribed");
    // The unsubscribed client got nothing more: its next message is the answer to this request.
    let answer = request(&mut unsubscribes, json!({"type": "unsubscribe", "channel": "news"}));
    assert_eq!(answer["type"], "error", "no longer subscribed: {answer}");
    assert_eq!(next_delivery(&mut stays).1, "two");

    stopper.stop();
    for ws in [&mut stays, &mut unsubscribes, &mut publisher] {
        assert_eq!(read_close_code(ws), Some(1001));
    }
    join_within(running, Duration::from_secs(3));
}

#[test]
fn bad_requests_are_answered_with_an_error() {
    let (running, stopper) = start();
    let mut ws = client(running.addr);
    subscribe(&mut ws, "twice");
    for bad in [
        json!({"type": "subscribe", "channel": "twice"}),
        json!({"type": "subscribe"}),
        json!({"type": "subscribe", "channel": ""}),
        json!({"type": "subscribe", "channel": "x".repeat(65)}),
        json!({"type": "publish", "channel": "twice"}),
        json!({"type": "dance", "channel": "twice"}),
    ] {
        assert_eq!(request(&mut ws, bad.clone())["type"], "error", "for {bad}");
    }
    ws.send_text("{not json").expect("send");
    assert_eq!(read_json(&mut ws)["type"], "error");

    let (status, page) = http_get(running.addr, "/");
    assert_eq!(status, 200);
    assert!(page.contains("<title>Publish / subscribe"));

    stopper.stop();
    assert_eq!(read_close_code(&mut ws), Some(1001));
    join_within(running, Duration::from_secs(3));
}

/// Two pub/sub servers as nodes of one cluster (the in-memory backplane): a message published
/// on one node reaches the subscribers on the other, once.
#[test]
fn a_publish_on_one_node_reaches_subscribers_on_another() {
    let bus = pubsub::broker::backplane::MemoryBus::default();
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let (server, addr) = bind();
        let stopper = Stopper::for_server(&server).expect("stopper");
        let for_server = stopper.clone();
        let service = pubsub::PubSub::with_backplane(bus.node());
        let thread = thread::spawn(move || pubsub::run_with(server, for_server, service));
        nodes.push((demo_support::Running { addr, thread }, stopper));
    }
    let mut far = client(nodes[1].0.addr);
    subscribe(&mut far, "prices");
    let mut near = client(nodes[0].0.addr);
    assert_eq!(publish(&mut near, "prices", "ACME 101"), 0, "no subscriber on the publishing node");
    assert_eq!(next_delivery(&mut far), ("prices".to_string(), "ACME 101".to_string()));
    // Once: the next delivery is the next publish.
    publish(&mut near, "prices", "ACME 102");
    assert_eq!(next_delivery(&mut far).1, "ACME 102");
    for (running, stopper) in nodes {
        stopper.stop();
        join_within(running, Duration::from_secs(5));
    }
}
