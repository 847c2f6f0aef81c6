//! Drives the news feed demo (`examples/news_feed.rs`) over loopback with the crate's own
//! client: posts reach everyone, a like's notification reaches only the author, bad input is
//! answered to its sender only, the page is served on the same port, and a stop closes every
//! client with 1001.

mod demo_support;
#[path = "../examples/news_feed/server.rs"]
mod news;

use std::thread;
use std::time::Duration;

use demo_support::{bind, connect, http_get, join_within, read_close_code, read_json, read_until_type, send_json};
use news::web::Stopper;
use serde_json::json;

fn start() -> (demo_support::Running, Stopper) {
    let (server, addr) = bind();
    let stopper = Stopper::for_server(&server).expect("stopper");
    let for_server = stopper.clone();
    let thread = thread::spawn(move || news::run(server, for_server));
    (demo_support::Running { addr, thread }, stopper)
}

#[test]
fn posts_reach_everyone_and_a_like_notifies_only_the_author() {
    let (running, stopper) = start();
    let addr = running.addr;
    let mut alice = connect(addr, "/ws?name=alice");
    let mut bob = connect(addr, "/ws?name=bob");
    let mut carol = connect(addr, "/ws?name=carol");
    for (ws, name) in [(&mut alice, "alice"), (&mut bob, "bob"), (&mut carol, "carol")] {
        let welcome = read_json(ws);
        assert_eq!(welcome["type"], "welcome");
        assert_eq!(welcome["you"], name);
    }

    // Client → server, then server → many.
    send_json(&mut alice, &json!({"type": "post", "text": "hello, feed"}));
    let mut post_id = None;
    for ws in [&mut alice, &mut bob, &mut carol] {
        let post = read_json(ws);
        assert_eq!(post["type"], "post");
        assert_eq!(post["post"]["author"], "alice");
        assert_eq!(post["post"]["text"], "hello, feed");
        post_id = post["post"]["id"].as_u64();
    }
    let post_id = post_id.expect("a post id");

    // Bob likes it, then posts: his connection handles the two in order, so every client gets
    // any notification for the like before the second post, which serves as an end marker.
    send_json(&mut bob, &json!({"type": "like", "id": post_id}));
    send_json(&mut bob, &json!({"type": "post", "text": "end marker"}));
    let mut notified = Vec::new();
    for (ws, name) in [(&mut alice, "alice"), (&mut bob, "bob"), (&mut carol, "carol")] {
        let (marker, before) = read_until_type(ws, "post");
        assert_eq!(marker["post"]["text"], "end marker");
        assert!(before.iter().any(|m| m["type"] == "likes" && m["likes"] == 1), "{name} sees the new count");
        if let Some(notice) = before.iter().find(|m| m["type"] == "liked") {
            assert_eq!(notice["id"], post_id);
            assert_eq!(notice["by"], "bob");
            notified.push(name);
        }
    }
    assert_eq!(notified, ["alice"], "only the author is told her post was liked");

    // A second like by the same reader is refused, to him alone.
    send_json(&mut bob, &json!({"type": "like", "id": post_id}));
    let refusal = read_json(&mut bob);
    assert_eq!(refusal["type"], "error");

    stopper.stop();
    for ws in [&mut alice, &mut bob, &mut carol] {
        assert_eq!(read_close_code(ws), Some(1001), "a stop says going away");
    }
    join_within(running, Duration::from_secs(3));
}

#[test]
fn malformed_messages_get_an_error_and_change_nothing() {
    let (running, stopper) = start();
    let mut reader = connect(running.addr, "/ws");
    let welcome = read_json(&mut reader);
    assert!(welcome["you"].as_str().is_some_and(|name| name.starts_with("guest-")), "a name is made up");

    for bad in ["not json", r#"{"type":"post"}"#, r#"{"type":"like","id":"x"}"#, r#"{"type":"like","id":999}"#] {
        reader.send_text(bad).expect("send");
        assert_eq!(read_json(&mut reader)["type"], "error", "for {bad}");
    }
    send_json(&mut reader, &json!({"type": "post", "text": "   "}));
    assert_eq!(read_json(&mut reader)["type"], "error", "an empty post is refused");
    send_json(&mut reader, &json!({"type": "post", "text": "x".repeat(281)}));
    assert_eq!(read_json(&mut reader)["type"], "error", "an overlong post is refused");

    // A newcomer's welcome holds no post: none of the above was stored.
    let mut newcomer = connect(running.addr, "/ws?name=newcomer");
    assert_eq!(read_json(&mut newcomer)["posts"], json!([]));

    stopper.stop();
    for ws in [&mut reader, &mut newcomer] {
        assert_eq!(read_close_code(ws), Some(1001));
    }
    join_within(running, Duration::from_secs(3));
}

#[test]
fn the_page_is_served_over_plain_http_on_the_same_port() {
    let (running, stopper) = start();
    let (status, body) = http_get(running.addr, "/");
    assert_eq!(status, 200);
    assert!(body.contains("<title>News feed"));
    assert!(body.contains("new WebSocket"));
    assert_eq!(http_get(running.addr, "/elsewhere").0, 404);
    stopper.stop();
    join_within(running, Duration::from_secs(3));
}

/// Two feeds as nodes of one cluster (the in-memory backplane): a post on one node reaches the
/// other's clients and its store (a newcomer there is welcomed with it), and a like on the
/// other node reaches the author.
#[test]
fn posts_and_likes_cross_nodes() {
    let bus = news::broker::backplane::MemoryBus::default();
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let (server, addr) = bind();
        let stopper = Stopper::for_server(&server).expect("stopper");
        let for_server = stopper.clone();
        let feed = news::NewsFeed::with_backplane(bus.node());
        let thread = thread::spawn(move || news::run_with(server, for_server, feed));
        nodes.push((demo_support::Running { addr, thread }, stopper));
    }
    let mut alice = connect(nodes[0].0.addr, "/ws?name=alice");
    let mut bob = connect(nodes[1].0.addr, "/ws?name=bob");
    assert_eq!(read_json(&mut alice)["type"], "welcome");
    assert_eq!(read_json(&mut bob)["type"], "welcome");

    send_json(&mut alice, &json!({"type": "post", "text": "from node a"}));
    let (post, _) = read_until_type(&mut bob, "post");
    assert_eq!(post["post"]["text"], "from node a");
    let id = post["post"]["id"].as_u64().expect("an id");
    assert_eq!(read_until_type(&mut alice, "post").0["post"]["id"], id);

    let mut carol = connect(nodes[1].0.addr, "/ws?name=carol");
    let welcome = read_json(&mut carol);
    assert_eq!(welcome["posts"][0]["id"], id, "node b keeps the posts of node a");

    send_json(&mut bob, &json!({"type": "like", "id": id}));
    let (liked, _) = read_until_type(&mut alice, "liked");
    assert_eq!((&liked["id"], &liked["by"], &liked["likes"]), (&json!(id), &json!("bob"), &json!(1)));
    for (running, stopper) in nodes {
        stopper.stop();
        join_within(running, Duration::from_secs(5));
    }
}
