//! The chat demo (`examples/chat.rs`) driven over loopback with the crate's own client: rooms
//! keep messages apart, joins, leaves, typing and counts reach the right people, bad input gets
//! an `error` without losing the connection, slow and silent clients are dropped, and shutdown
//! says goodbye with 1001.
//!
//! The server logic is the example's own module, started in-process on port 0.

#[path = "../examples/common/mod.rs"]
mod common;

#[path = "../examples/chat/server.rs"]
mod chat_server;

mod chat_support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use chat_server::{ChatServer, Settings};
use chat_support::{Client, PATIENCE, types};
use rfc6455::{CloseCode, Error, Message};
use serde_json::json;

fn start() -> ChatServer {
    ChatServer::start("127.0.0.1:0").expect("bind a loopback port")
}

#[test]
fn two_clients_in_a_room_see_each_others_messages_and_another_room_sees_none() {
    let server = start();
    let mut ada = Client::join(&server, "lobby", "ada");
    let mut grace = Client::join(&server, "lobby", "grace");
    let mut linus = Client::join(&server, "kernel", "linus");

    ada.send("chat", json!({ "text": "hi grace" }));
    let got = grace.expect("chat");
    assert_eq!((&got["room"], &got["user"], &got["text"]), (&json!("lobby"), &json!("ada"), &json!("hi grace")));
    // Sequenced: the room's first message, in an epoch the sender is told too.
    assert_eq!(got["offset"], 1);
    assert!(got["epoch"].as_str().is_some_and(|epoch| !epoch.is_empty()));
    let sent = ada.expect("sent");
    assert_eq!((&sent["offset"], &sent["epoch"]), (&got["offset"], &got["epoch"]));

    grace.send("chat", json!({ "text": "hello ada", "id": "m-1" }));
    let got = ada.expect("chat");
    assert_eq!((&got["room"], &got["user"], &got["text"]), (&json!("lobby"), &json!("grace"), &json!("hello ada")));
    assert_eq!(got["offset"], 2);
    assert_eq!(grace.expect("sent")["id"], "m-1", "the sender's id comes back with the acknowledgement");

    // The sender does not get its own message back, and the other room hears nothing.
    assert!(!types(&ada.drain()).contains(&"chat"));
    assert!(!types(&linus.drain()).contains(&"chat"), "a message leaked into another room");

    linus.send("chat", json!({ "text": "anyone?" }));
    assert!(!types(&ada.drain()).contains(&"chat"));
    assert!(!types(&grace.drain()).contains(&"chat"));
}

#[test]
fn joins_and_leaves_are_announced_to_the_room_with_its_members() {
    let server = start();
    let mut ada = Client::join(&server, "lobby", "ada");
    let mut grace = Client::connect(&server);
    grace.send("join", json!({ "room": "lobby", "user": "grace" }));
    let ack = grace.expect("join");
    assert_eq!(ack["users"], json!(["ada", "grace"]));

    let note = ada.expect("notification");
    assert_eq!((note["event"].as_str(), note["user"].as_str()), (Some("join"), Some("grace")));
    assert_eq!(note["users"], json!(["ada", "grace"]));
    assert_eq!(note["text"], "grace joined");

    // Leaving by message: an acknowledgement, and the room is told.
    grace.send("leave", json!({}));
    assert_eq!(grace.expect("leave"), json!({ "room": "lobby", "user": "grace" }));
    let note = ada.expect("notification");
    assert_eq!((note["event"].as_str(), note["user"].as_str()), (Some("leave"), Some("grace")));
    assert_eq!(note["users"], json!(["ada"]));

    // Leaving by going away (a clean close, then a dropped socket): the room is told too.
    let mut linus = Client::join(&server, "lobby", "linus");
    ada.expect_where("notification", |n| n["user"] == "linus");
    linus.ws.close(CloseCode::NORMAL, "bye").expect("close");
    let note = ada.expect_where("notification", |n| n["event"] == "leave");
    assert_eq!(note["user"], "linus");
    let dennis = Client::join(&server, "lobby", "dennis");
    ada.expect_where("notification", |n| n["user"] == "dennis");
    drop(dennis);
    let note = ada.expect_where("notification", |n| n["event"] == "leave");
    assert_eq!(note["user"], "dennis");
}

#[test]
fn switching_rooms_leaves_the_old_one() {
    let server = start();
    let mut ada = Client::join(&server, "lobby", "ada");
    let mut grace = Client::join(&server, "lobby", "grace");
    grace.send("join", json!({ "room": "garden", "user": "grace" }));
    assert_eq!(grace.expect("join")["users"], json!(["grace"]));
    let note = ada.expect_where("notification", |n| n["event"] == "leave");
    assert_eq!(note["user"], "grace");

    grace.send("chat", json!({ "text": "in the garden" }));
    assert!(!types(&ada.drain()).contains(&"chat"));
}

#[test]
fn typing_indicator_reaches_the_rest_of_the_room_only() {
    let server = start();
    let mut ada = Client::join(&server, "lobby", "ada");
    let mut grace = Client::join(&server, "lobby", "grace");
    let mut linus = Client::join(&server, "kernel", "linus");

    ada.send("typing", json!({ "typing": true }));
    assert_eq!(grace.expect("typing"), json!({ "room": "lobby", "user": "ada", "typing": true }));
    ada.send("typing", json!({ "typing": false }));
    assert_eq!(grace.expect("typing"), json!({ "room": "lobby", "user": "ada", "typing": false }));

    assert!(!types(&ada.drain()).contains(&"typing"), "the typist is not told about itself");
    assert!(!types(&linus.drain()).contains(&"typing"), "typing leaked into another room");
}

#[test]
fn every_client_gets_live_room_counts() {
    let server = start();
    let mut watcher = Client::connect(&server);
    let first = watcher.expect("rooms");
    assert_eq!(first["rooms"], json!([]));

    let _ada = Client::join(&server, "lobby", "ada");
    let rooms = watcher.expect_where("rooms", |r| Client::count_in(r, "lobby") == Some(1));
    assert!(rooms["online"].as_u64() >= Some(2));
    let grace = Client::join(&server, "lobby", "grace");
    watcher.expect_where("rooms", |r| Client::count_in(r, "lobby") == Some(2));
    let _linus = Client::join(&server, "kernel", "linus");
    let rooms = watcher.expect_where("rooms", |r| Client::count_in(r, "kernel") == Some(1));
    assert_eq!(Client::count_in(&rooms, "lobby"), Some(2));

    drop(grace);
    let rooms = watcher.expect_where("rooms", |r| Client::count_in(r, "lobby") == Some(1));
    assert_eq!(Client::count_in(&rooms, "kernel"), Some(1));
}

#[test]
fn bad_input_gets_an_error_and_the_connection_stays_open() {
    let server = start();
    let mut ada = Client::connect(&server);

    let cases: [(&str, &str); 8] = [
        ("{not json", "bad_json"),
        ("[1, 2, 3]", "bad_json"),
        (r#"{"payload": {}}"#, "bad_json"),
        (r#"{"type": "dance", "payload": {}}"#, "unknown_type"),
        (r#"{"type": "chat", "payload": {"text": "too early"}}"#, "not_in_room"),
        (r#"{"type": "leave"}"#, "not_in_room"),
        (r#"{"type": "join", "payload": {"room": "lobby"}}"#, "bad_name"),
        (r#"{"type": "join", "payload": {"room": "", "user": "ada"}}"#, "bad_name"),
    ];
    for (text, code) in cases {
        ada.send_raw(text);
        let error = ada.expect("error");
        assert_eq!(error["code"], code, "for {text}: {error}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    ada.ws.send_binary(b"\x00\x01").expect("send binary");
    assert_eq!(ada.expect("error")["code"], "bad_message");

    // Still connected and usable.
    ada.send("join", json!({ "room": "lobby", "user": "ada" }));
    ada.expect("join");
    ada.send("chat", json!({ "text": "   " }));
    assert_eq!(ada.expect("error")["code"], "bad_text");
    ada.send("chat", json!({ "text": "x".repeat(chat_server::MAX_TEXT_CHARS + 1) }));
    assert_eq!(ada.expect("error")["code"], "bad_text");

    // A name is taken per room, ignoring case; the same name elsewhere is fine.
    let mut other = Client::connect(&server);
    other.send("join", json!({ "room": "lobby", "user": "ADA" }));
    assert_eq!(other.expect("error")["code"], "name_taken");
    other.send("join", json!({ "room": "garden", "user": "ada" }));
    other.expect("join");
}

#[test]
fn ping_is_answered_with_a_pong_carrying_its_payload() {
    let server = start();
    let mut client = Client::connect(&server);
    client.send("ping", json!({ "sent": 1234, "note": "hi" }));
    assert_eq!(client.expect("pong"), json!({ "sent": 1234, "note": "hi" }));
}

#[test]
fn the_page_is_served_on_the_same_port_and_foreign_origins_are_refused() {
    let server = start();
    let get = |path: &str, extra: &str| -> String {
        let mut stream = TcpStream::connect(server.local_addr()).expect("connect");
        stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {}\r\n{extra}\r\n", server.local_addr()).expect("write");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        response
    };
    let page = get("/", "");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("text/html"));
    assert!(page.contains("new WebSocket("));
    assert!(!page.contains("http://") && !page.contains("https://"), "the page loads nothing from elsewhere");
    assert!(get("/missing", "").starts_with("HTTP/1.1 404"));

    let upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
                   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    let foreign = get("/ws", &format!("{upgrade}Origin: http://evil.example\r\n"));
    assert!(foreign.starts_with("HTTP/1.1 403"), "{foreign}");
    let own = format!("{upgrade}Origin: http://{}\r\n", server.local_addr());
    let mut stream = TcpStream::connect(server.local_addr()).expect("connect");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    write!(stream, "GET /ws HTTP/1.1\r\nHost: {}\r\n{own}\r\n", server.local_addr()).expect("write");
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).expect("read");
    assert_eq!(&head, b"HTTP/1.1 101");
    assert!(get("/elsewhere", upgrade).starts_with("HTTP/1.1 404"));
}

#[test]
fn a_client_that_stops_reading_is_dropped_without_holding_up_the_room() {
    let settings = Settings { outbox_capacity: 8, write_timeout: Duration::from_secs(1), ..Settings::default() };
    let server = ChatServer::start_with("127.0.0.1:0", settings).expect("bind");
    let mut talker = Client::join(&server, "lobby", "talker");
    let mut listener = Client::join(&server, "lobby", "listener");
    // Joined, then never reads again: its socket buffers fill up, then its queue.
    let _stuck = Client::join(&server, "lobby", "stuck");
    talker.drain();
    listener.drain();

    // The listener reads everything on its own thread and counts what it heard. The talker
    // sends in bursts smaller than a queue and waits for the listener to catch up, so the
    // listener is never the slow one; the stuck client falls further behind with each burst.
    let heard = Arc::new(AtomicUsize::new(0));
    let stuck_gone = Arc::new(AtomicBool::new(false));
    let (heard_by_listener, gone) = (heard.clone(), stuck_gone.clone());
    let listening = thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        while let Some(message) = listener.next_before(deadline) {
            let payload = &message["payload"];
            if message["type"] == "notification" && payload["event"] == "leave" && payload["user"] == "stuck" {
                gone.store(true, Ordering::SeqCst);
            }
            if message["type"] == "chat" && payload["text"] == "last" {
                return listener;
            }
            if message["type"] == "chat" {
                heard_by_listener.fetch_add(1, Ordering::SeqCst);
            }
        }
        panic!("the listener stopped hearing the room");
    });

    const BURST: usize = 4;
    let text = "x".repeat(chat_server::MAX_TEXT_CHARS);
    let started = Instant::now();
    let mut sent = 0usize;
    while !stuck_gone.load(Ordering::SeqCst) {
        assert!(sent < 100_000 && started.elapsed() < Duration::from_secs(60), "the stuck client was never dropped");
        for _ in 0..BURST {
            talker.send("chat", json!({ "text": text }));
        }
        sent += BURST;
        while heard.load(Ordering::SeqCst) < sent && !listening.is_finished() {
            assert!(started.elapsed() < Duration::from_secs(60), "the listener fell behind");
            thread::sleep(Duration::from_micros(200));
        }
    }
    talker.send("chat", json!({ "text": "last" }));
    let _listener = listening.join().expect("listener thread");
    assert_eq!(heard.load(Ordering::SeqCst), sent, "the reading client missed messages while another was stuck");
    assert_eq!(server.client_count(), 2, "talker and listener are still connected");
}

#[test]
fn a_silent_client_is_dropped_after_the_idle_timeout() {
    let settings = Settings {
        ping_interval: Duration::from_millis(100),
        idle_timeout: Duration::from_millis(500),
        ..Settings::default()
    };
    let server = ChatServer::start_with("127.0.0.1:0", settings).expect("bind");
    let mut ada = Client::join(&server, "lobby", "ada");
    // Never read, so never answers the server's pings.
    let _silent = Client::join(&server, "lobby", "silent");
    ada.expect_where("notification", |n| n["event"] == "join");
    let note = ada.expect_where("notification", |n| n["event"] == "leave");
    assert_eq!(note["user"], "silent");
    // Ada reads, so her client answers pings: she is still there after several idle periods.
    let deadline = Instant::now() + Duration::from_millis(1200);
    while ada.next_before(deadline).is_some() {}
    ada.send("chat", json!({ "text": "still here" }));
    assert_eq!(types(&ada.drain()), ["sent"]);
}

#[test]
fn shutdown_closes_every_connection_with_going_away() {
    let server = start();
    let addr = server.local_addr();
    let mut ada = Client::join(&server, "lobby", "ada");
    let stopping = thread::spawn(move || server.shutdown());
    let deadline = Instant::now() + PATIENCE;
    let close = loop {
        assert!(Instant::now() < deadline, "no Close from the server");
        match ada.ws.read() {
            Ok(Message::Close(code, reason)) => break (code, reason),
            Ok(_) => {}
            Err(Error::Io(e)) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("connection ended without a Close: {e}"),
        }
    };
    assert_eq!(close.0, Some(CloseCode::GOING_AWAY));
    assert_eq!(close.1, "server shutting down");
    stopping.join().expect("shutdown");
    assert!(TcpStream::connect(addr).is_err(), "still listening");
}
