//! The chat demo as a cluster: two or three nodes (`ChatServer`s) in this process, joined by
//! the in-memory bus or by a private redis-server, with the same assertions for both: rooms
//! across nodes, exactly-once delivery, notifications and counts cluster-wide, names refused
//! on every node, a crashed node's users leaving within the stated bound, history after a
//! reconnection, and a slow client that does not slow the room. Then the failures only Redis
//! has: a restart mid-conversation, and foreign messages on a room's channel.

#[path = "../examples/common/mod.rs"]
mod common;

#[path = "../examples/chat/server.rs"]
mod chat_server;

mod chat_support;
mod redis_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use chat_server::{ChatServer, MAX_TEXT_CHARS, Settings, TOO_SLOW};
use chat_support::{Client, PATIENCE, of_type};
use common::backplane::{Backplane, MemoryBus};
use common::redis_backplane::RedisBackplane;
use redis_support::RedisServer;
use rfc6455::Message;
use serde_json::json;

/// The presence TTL and heartbeat of the failure tests: a crashed node's users are gone within
/// TTL + heartbeat.
const SHORT_TTL: Duration = Duration::from_secs(3);
const SHORT_HEARTBEAT: Duration = Duration::from_millis(500);

/// Where the nodes of a test meet.
enum Meeting {
    Memory(MemoryBus),
    Redis(RedisServer),
}

impl Meeting {
    fn memory(ttl: Duration) -> Option<Meeting> {
        Some(Meeting::Memory(MemoryBus::with_ttl(ttl)))
    }

    fn redis(test: &str) -> Option<Meeting> {
        RedisServer::start(test).map(Meeting::Redis)
    }

    fn backplane(&self, ttl: Duration) -> Arc<dyn Backplane> {
        match self {
            Meeting::Memory(bus) => bus.node(),
            Meeting::Redis(server) => RedisBackplane::connect_with(&server.url(), "chat", ttl).expect("connect"),
        }
    }

    /// A node with `ttl` and `heartbeat`, changed further by `tune`.
    fn node_with(&self, ttl: Duration, heartbeat: Duration, tune: impl FnOnce(&mut Settings)) -> ChatServer {
        let mut settings =
            Settings { backplane: Some(self.backplane(ttl)), heartbeat: Some(heartbeat), ..Settings::default() };
        tune(&mut settings);
        ChatServer::start_with("127.0.0.1:0", settings).expect("bind a loopback port")
    }

    fn node(&self) -> ChatServer {
        self.node_with(SHORT_TTL, SHORT_HEARTBEAT, |_| {})
    }
}

fn two_nodes_share_a_room_and_another_room_hears_nothing(meeting: Meeting) {
    let (a, b) = (meeting.node(), meeting.node());
    let mut ada = Client::join(&a, "lobby", "ada");
    let mut grace = Client::join(&b, "lobby", "grace");
    let mut linus = Client::join(&a, "kernel", "linus");
    let mut ken = Client::join(&b, "kernel", "ken");

    ada.send("chat", json!({ "text": "hi grace" }));
    let got = grace.expect("chat");
    assert_eq!((&got["user"], &got["text"], &got["offset"]), (&json!("ada"), &json!("hi grace"), &json!(1)));
    grace.send("chat", json!({ "text": "hello ada" }));
    let got = ada.expect("chat");
    assert_eq!((&got["user"], &got["text"], &got["offset"]), (&json!("grace"), &json!("hello ada"), &json!(2)));

    let quiet = Duration::from_millis(400);
    assert!(of_type(&linus.settle(quiet), "chat").is_empty(), "lobby leaked into kernel on node a");
    assert!(of_type(&ken.settle(quiet), "chat").is_empty(), "lobby leaked into kernel on node b");
    assert!(of_type(&ada.settle(quiet), "chat").is_empty(), "the sender heard itself");
}

fn every_member_gets_every_message_exactly_once(meeting: Meeting) {
    let (a, b, c) = (meeting.node(), meeting.node(), meeting.node());
    let mut members = [
        ("a1", Client::join(&a, "lobby", "a1")),
        ("a2", Client::join(&a, "lobby", "a2")),
        ("b1", Client::join(&b, "lobby", "b1")),
        ("c1", Client::join(&c, "lobby", "c1")),
    ];
    const ROUNDS: usize = 10;
    for round in 0..ROUNDS {
        for (name, client) in members.iter_mut() {
            client.send("chat", json!({ "text": format!("{name} {round}") }));
        }
    }
    let total = ROUNDS * members.len();
    for (name, client) in members.iter_mut() {
        let (mut heard, mut own) = (Vec::new(), Vec::new());
        let deadline = Instant::now() + PATIENCE;
        while heard.len() < total - ROUNDS || own.len() < ROUNDS {
            let Some(message) = client.next_before(deadline) else { break };
            match message["type"].as_str() {
                Some("chat") => heard.push(message["payload"].clone()),
                Some("sent") => own.push(message["payload"]["offset"].as_u64().expect("an offset")),
                _ => {}
            }
        }
        heard.extend(of_type(&client.settle(Duration::from_millis(400)), "chat").into_iter().cloned());
        assert_eq!(heard.len(), total - ROUNDS, "{name} heard {} of {}", heard.len(), total - ROUNDS);
        assert!(heard.iter().all(|m| m["user"] != *name), "{name} heard itself");
        // In offset order, no offset twice: every node delivers in the backplane's one order.
        let offsets: Vec<u64> = heard.iter().map(|m| m["offset"].as_u64().expect("an offset")).collect();
        assert!(offsets.windows(2).all(|w| w[0] < w[1]), "{name}: offsets {offsets:?}");
        // What it heard and what it sent are the whole room, each offset once.
        let mut all: Vec<u64> = offsets.into_iter().chain(own).collect();
        all.sort();
        assert_eq!(all, (1..=total as u64).collect::<Vec<_>>(), "{name}");
    }
}

fn joins_leaves_typing_and_counts_are_cluster_wide(meeting: Meeting) {
    let (a, b) = (meeting.node(), meeting.node());
    let mut watcher = Client::connect(&b);
    let mut ada = Client::join(&a, "lobby", "ada");
    watcher.expect_where("rooms", |r| Client::count_in(r, "lobby") == Some(1));

    let mut grace = Client::connect(&b);
    grace.send("join", json!({ "room": "lobby", "user": "grace" }));
    assert_eq!(grace.expect("join")["users"], json!(["ada", "grace"]));
    let note = ada.expect("notification");
    assert_eq!(
        (&note["event"], &note["user"], &note["users"]),
        (&json!("join"), &json!("grace"), &json!(["ada", "grace"]))
    );
    watcher.expect_where("rooms", |r| Client::count_in(r, "lobby") == Some(2));

    grace.send("typing", json!({ "typing": true }));
    assert_eq!(ada.expect("typing"), json!({ "room": "lobby", "user": "grace", "typing": true }));

    grace.send("leave", json!({}));
    let note = ada.expect_where("notification", |n| n["event"] == "leave");
    assert_eq!((&note["user"], &note["users"]), (&json!("grace"), &json!(["ada"])));
    watcher.expect_where("rooms", |r| Client::count_in(r, "lobby") == Some(1));

    drop(ada);
    // The watcher and grace, both on b: ada's node reports its count at once.
    watcher.expect_where("rooms", |r| Client::count_in(r, "lobby").is_none() && r["online"] == 2);
}

fn a_taken_name_is_refused_on_every_node(meeting: Meeting) {
    let (a, b) = (meeting.node(), meeting.node());
    let mut ada = Client::join(&a, "lobby", "ada");
    let mut other = Client::connect(&b);
    other.send("join", json!({ "room": "lobby", "user": "ADA" }));
    assert_eq!(other.expect("error")["code"], "name_taken");
    other.send("join", json!({ "room": "garden", "user": "ada" }));
    other.expect("join");
    ada.send("leave", json!({}));
    ada.expect("leave");
    other.send("join", json!({ "room": "lobby", "user": "ADA" }));
    assert_eq!(other.expect("join")["users"], json!(["ADA"]), "free once ada left");
}

fn a_crashed_nodes_users_leave_within_the_bound_and_history_survives(meeting: Meeting) {
    let (a, b) = (meeting.node(), meeting.node());
    let mut ada = Client::join(&a, "lobby", "ada");
    let mut grace = Client::join(&b, "lobby", "grace");
    let mut watcher = Client::connect(&b);
    for text in ["one", "two", "three"] {
        ada.send("chat", json!({ "text": text }));
        grace.expect_where("chat", |c| c["text"] == text);
    }
    let epoch = ada.expect("sent")["epoch"].clone();
    watcher.expect_where("rooms", |r| Client::count_in(r, "lobby") == Some(2));

    let crashed = Instant::now();
    a.crash();
    let note = grace.expect_where("notification", |n| n["event"] == "leave");
    assert_eq!((&note["user"], &note["users"]), (&json!("ada"), &json!(["grace"])));
    // Not a goodbye from node a (it crashed): the sweep of its expired claim.
    assert_eq!(note["text"], "ada left (connection lost)");
    watcher.expect_where("rooms", |r| Client::count_in(r, "lobby") == Some(1));
    eprintln!("a crashed node's user left the other node's count after {:?}", crashed.elapsed());

    // Ada's page reconnects to the node still up, and catches up from its last offset.
    let mut back = Client::connect(&b);
    back.send("join", json!({ "room": "lobby", "user": "ada", "since": 1, "epoch": epoch }));
    back.expect("join");
    let history = back.expect("history");
    assert_eq!(history["complete"], true);
    let texts: Vec<&str> =
        history["messages"].as_array().unwrap().iter().filter_map(|m| m["payload"]["text"].as_str()).collect();
    assert_eq!(texts, ["two", "three"]);
    assert_eq!(history["messages"][0]["payload"]["offset"], 2);
}

fn a_slow_client_on_one_node_does_not_slow_the_room(meeting: Meeting) {
    let a = meeting.node();
    let b = meeting.node_with(SHORT_TTL, SHORT_HEARTBEAT, |settings| {
        settings.outbox_capacity = 8;
        // Long enough for the slow client to start reading again and see why it was dropped.
        settings.write_timeout = Duration::from_secs(30);
    });
    let mut talker = Client::join(&a, "lobby", "talker");
    let mut near = Client::join(&a, "lobby", "near");
    let mut far = Client::join(&b, "lobby", "far");
    let mut slow = Client::join(&b, "lobby", "slow");
    for client in [&mut talker, &mut near, &mut far] {
        client.settle(Duration::from_millis(300));
    }

    let text = "x".repeat(MAX_TEXT_CHARS);
    let mut sent = 0u64;
    let (mut near_heard, mut far_heard) = (0u64, 0u64);
    let started = Instant::now();
    let mut slow_gone = false;
    while !slow_gone {
        assert!(started.elapsed() < Duration::from_secs(60), "the slow client was never dropped");
        for _ in 0..4 {
            talker.send("chat", json!({ "text": text }));
            sent += 1;
        }
        // Both readers keep up; the slow client reads nothing.
        for (client, heard) in [(&mut near, &mut near_heard), (&mut far, &mut far_heard)] {
            let deadline = Instant::now() + PATIENCE;
            while *heard < sent {
                let message = client.next_before(deadline).expect("a reader fell behind");
                match message["type"].as_str() {
                    Some("chat") => *heard += 1,
                    Some("notification") if message["payload"]["user"] == "slow" => slow_gone = true,
                    _ => {}
                }
            }
        }
    }
    assert_eq!((near_heard, far_heard), (sent, sent));
    // The slow client reads again: what was queued before, then a Close that says why.
    slow.ws.get_ref().tcp_stream().set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let code = loop {
        match slow.ws.read() {
            Ok(Message::Close(code, reason)) => {
                assert!(reason.contains("too slow"), "{reason}");
                break code;
            }
            Ok(_) => {}
            Err(e) => panic!("no Close before the end: {e}"),
        }
    };
    assert_eq!(code, Some(TOO_SLOW));
}

macro_rules! on_both_backplanes {
    ($($name:ident),* $(,)?) => {
        mod in_memory {
            use super::*;
            $(
                #[test]
                fn $name() {
                    let Some(meeting) = Meeting::memory(SHORT_TTL) else { return };
                    super::$name(meeting);
                }
            )*
        }
        mod with_redis {
            use super::*;
            $(
                #[test]
                fn $name() {
                    let Some(meeting) = Meeting::redis(concat!("chat_cluster::with_redis::", stringify!($name))) else {
                        return;
                    };
                    super::$name(meeting);
                }
            )*
        }
    };
}

on_both_backplanes!(
    two_nodes_share_a_room_and_another_room_hears_nothing,
    every_member_gets_every_message_exactly_once,
    joins_leaves_typing_and_counts_are_cluster_wide,
    a_taken_name_is_refused_on_every_node,
    a_crashed_nodes_users_leave_within_the_bound_and_history_survives,
    a_slow_client_on_one_node_does_not_slow_the_room,
);

/// `GET /health`: the status code and body.
fn health(server: &ChatServer) -> (u16, String) {
    let mut stream = TcpStream::connect(server.local_addr()).expect("connect");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(stream, "GET /health HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", server.local_addr()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    (status, response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default())
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(40);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within 40 s");
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn redis_restarted_mid_conversation() {
    let Some(meeting) = Meeting::redis("redis_restarted_mid_conversation") else { return };
    let (a, b) = (meeting.node(), meeting.node());
    let mut ada = Client::join(&a, "lobby", "ada");
    let mut grace = Client::join(&b, "lobby", "grace");
    ada.send("chat", json!({ "text": "before" }));
    grace.expect_where("chat", |c| c["text"] == "before");
    assert_eq!(health(&a).0, 200);

    let Meeting::Redis(mut server) = meeting else { unreachable!() };
    server.kill();
    wait_until("node a degraded", || {
        let (status, body) = health(&a);
        status == 503 && body.starts_with("degraded")
    });
    assert_eq!(health(&b).0, 503);
    ada.expect_where("status", |s| s["backplane"] == "down");

    // Sent during the outage: reported to the sender as not delivered, never silently lost.
    ada.send("chat", json!({ "text": "during", "id": 7 }));
    let refused = ada.expect("error");
    assert_eq!((&refused["code"], &refused["id"]), (&json!("not_delivered"), &json!(7)));
    // The WebSocket stays open and answers.
    ada.send("ping", json!({ "n": 1 }));
    ada.expect("pong");

    server.restart();
    wait_until("both nodes healthy", || health(&a).0 == 200 && health(&b).0 == 200);
    for client in [&mut ada, &mut grace] {
        let resync = client.expect("resync");
        assert_eq!((&resync["room"], &resync["reason"]), (&json!("lobby"), &json!("reconnected")));
    }
    // Presence comes back with the next heartbeat, messages flow again in a new epoch.
    let mut watcher = Client::connect(&b);
    watcher.expect_where("rooms", |r| Client::count_in(r, "lobby") == Some(2));
    // The command connection reconnects on its own backoff: retry until the message is taken.
    wait_until("ada can publish again", || {
        ada.send("chat", json!({ "text": "after" }));
        let deadline = Instant::now() + PATIENCE;
        loop {
            let message = ada.next_before(deadline).expect("an answer to the chat message");
            match message["type"].as_str() {
                Some("sent") => return true,
                Some("error") if message["payload"]["code"] == "not_delivered" => return false,
                _ => {}
            }
        }
    });
    let got = grace.expect_where("chat", |c| c["text"] == "after");
    assert_eq!(got["offset"], 1, "the restarted Redis started the room's history again");
    let mut other = Client::connect(&a);
    other.send("join", json!({ "room": "lobby", "user": "Grace" }));
    assert_eq!(other.expect("error")["code"], "name_taken", "names are claimed again after the restart");
}

/// Claims a Redis lost (a restart without persistence, here a `FLUSHALL` that keeps every
/// connection up, so no outage hides the point) are made again by each node's next renewal,
/// and that renewal is announced: the other nodes' counts come back without waiting for the
/// next join or leave.
#[test]
fn lost_presence_claims_are_made_again_and_announced() {
    let Some(meeting) = Meeting::redis("lost_presence_claims_are_made_again_and_announced") else { return };
    let (a, b) = (meeting.node(), meeting.node());
    let _ada = Client::join(&a, "lobby", "ada");
    let _grace = Client::join(&b, "lobby", "grace");
    let mut watcher = Client::connect(&b);
    watcher.expect_where("rooms", |r| Client::count_in(r, "lobby") == Some(2));
    // Nothing else is on its way: every rooms message from here on follows the loss.
    watcher.settle(Duration::from_millis(500));

    let Meeting::Redis(server) = &meeting else { unreachable!() };
    assert_eq!(server.command(&["FLUSHALL"]), "+OK");
    watcher.expect_where("rooms", |r| Client::count_in(r, "lobby") == Some(2));
    let mut other = Client::connect(&a);
    other.send("join", json!({ "room": "lobby", "user": "Grace" }));
    assert_eq!(other.expect("error")["code"], "name_taken", "grace's claim was made again");
}

#[test]
fn foreign_messages_on_a_rooms_channel_are_dropped() {
    let Some(meeting) = Meeting::redis("foreign_messages_on_a_rooms_channel_are_dropped") else { return };
    let (a, b) = (meeting.node(), meeting.node());
    let mut ada = Client::join(&a, "lobby", "ada");
    let mut grace = Client::join(&b, "lobby", "grace");
    let Meeting::Redis(server) = &meeting else { unreachable!() };
    for garbage in [
        "not the wire format",
        "bp1 intruder - -\n{not json",
        "bp1 intruder - -\n{\"type\":\"chat\"}",
        "bp1 intruder - -\n{\"type\":\"explode\",\"payload\":{}}",
        "bp1 intruder 99 -\n{}",
    ] {
        server.command(&["PUBLISH", "chat:ch:room:lobby", garbage]);
    }
    ada.send("chat", json!({ "text": "still fine" }));
    let got = grace.expect("chat");
    assert_eq!(got["text"], "still fine");
    assert!(ada.settle(Duration::from_millis(300)).iter().all(|m| m["type"] != "chat"), "nothing foreign reached ada");
    assert_eq!(health(&a).0, 200);
}
