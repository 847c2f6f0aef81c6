//! The chat tests' client: the crate's blocking client speaking the chat demo's JSON messages
//! (`{"type", "payload", "timestamp"}`), with every wait bounded by [`PATIENCE`], so a failing
//! test fails with what it saw instead of hanging.
//!
//! The test file that includes this module also includes the chat server as `chat_server`
//! (`#[path = "../examples/chat/server.rs"] mod chat_server;`).

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use rfc6455::blocking::{ClientConfig, MaybeTlsStream, Timeouts, WebSocket, connect_with};
use rfc6455::{Error, Message};
use serde_json::{Value, json};

use crate::chat_server::ChatServer;

/// The longest any single expectation waits for something that must come: a deadline, not a
/// sleep, so a passing test never waits it out. Generous, because a loaded two-core machine can
/// take seconds to wake the threads of several nodes, a Redis server and the clients.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A chat client that reads with a short timeout, so every wait can be bounded.
pub struct Client {
    pub ws: WebSocket<MaybeTlsStream>,
}

impl Client {
    pub fn connect(server: &ChatServer) -> Client {
        let config = ClientConfig {
            timeouts: Timeouts { read: Some(Duration::from_millis(50)), ..Timeouts::default() },
            ..ClientConfig::default()
        };
        let (ws, _) = connect_with(&server.ws_url(), &config).expect("connect to the chat");
        Client { ws }
    }

    /// Connect and join `room` as `user`; returns the client once the join is confirmed.
    pub fn join(server: &ChatServer, room: &str, user: &str) -> Client {
        let mut client = Client::connect(server);
        client.send("join", json!({ "room": room, "user": user }));
        let ack = client.expect("join");
        assert_eq!((ack["room"].as_str(), ack["user"].as_str()), (Some(room), Some(user)));
        client
    }

    pub fn send(&mut self, kind: &str, payload: Value) {
        self.send_raw(&json!({ "type": kind, "payload": payload }).to_string());
    }

    pub fn send_raw(&mut self, text: &str) {
        self.ws.send_text(text).expect("send");
    }

    /// The next message, or `None` if nothing arrives before `deadline`.
    pub fn next_before(&mut self, deadline: Instant) -> Option<Value> {
        while Instant::now() < deadline {
            match self.ws.read() {
                Ok(Message::Text(text)) => {
                    let value: Value = serde_json::from_str(&text).expect("the server sends JSON");
                    assert!(value["type"].is_string(), "no type in {value}");
                    assert!(value["payload"].is_object(), "no payload in {value}");
                    assert!(value["timestamp"].is_u64(), "no timestamp in {value}");
                    return Some(value);
                }
                Ok(_) => {}
                Err(Error::Io(e)) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => panic!("connection ended: {e}"),
            }
        }
        None
    }

    /// The payload of the next message of type `kind`, skipping others.
    pub fn expect(&mut self, kind: &str) -> Value {
        self.expect_where(kind, |_| true)
    }

    /// The payload of the next message of type `kind` that satisfies `wanted`, skipping others.
    pub fn expect_where(&mut self, kind: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + PATIENCE;
        let mut skipped = Vec::new();
        while let Some(message) = self.next_before(deadline) {
            if message["type"] == kind && wanted(&message["payload"]) {
                return message["payload"].clone();
            }
            skipped.push(message);
        }
        panic!("no {kind:?} message within {PATIENCE:?}; got {skipped:?}");
    }

    /// Every message up to the `pong` answering a fresh ping. The server handles one client's
    /// messages in order and queues each client's output in order, so anything it sent this
    /// client before handling the ping is in the returned list.
    pub fn drain(&mut self) -> Vec<Value> {
        let marker = format!("drain-{:?}", Instant::now());
        self.send("ping", json!({ "marker": marker }));
        let deadline = Instant::now() + PATIENCE;
        let mut seen = Vec::new();
        while let Some(message) = self.next_before(deadline) {
            if message["type"] == "pong" && message["payload"]["marker"] == marker.as_str() {
                return seen;
            }
            seen.push(message);
        }
        panic!("no pong within {PATIENCE:?}; got {seen:?}");
    }

    /// Everything that arrives within `quiet` of the last message (for what other nodes send,
    /// which [`drain`](Self::drain)'s ping does not wait for).
    pub fn settle(&mut self, quiet: Duration) -> Vec<Value> {
        let mut seen = Vec::new();
        while let Some(message) = self.next_before(Instant::now() + quiet) {
            seen.push(message);
        }
        seen
    }

    /// The count of `room` in a `rooms` payload, `None` when the room is not listed.
    pub fn count_in(rooms: &Value, room: &str) -> Option<u64> {
        rooms["rooms"].as_array()?.iter().find(|r| r["name"] == room)?["users"].as_u64()
    }
}

/// The types of `messages`, in order.
pub fn types(messages: &[Value]) -> Vec<&str> {
    messages.iter().filter_map(|m| m["type"].as_str()).collect()
}

/// The payloads of the messages of type `kind`.
pub fn of_type<'a>(messages: &'a [Value], kind: &str) -> Vec<&'a Value> {
    messages.iter().filter(|m| m["type"] == kind).map(|m| &m["payload"]).collect()
}
