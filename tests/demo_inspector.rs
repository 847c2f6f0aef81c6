//! The frame inspector of the demos (`examples/common/inspector.rs`), on the chat: a client
//! that asks for it gets a token as its first message, an inspector socket with that token
//! receives that connection's handshake, frames and messages as the server saw and sent them,
//! field by field (checked against the crate's own frame decoder), and nothing of anyone else's;
//! a wrong token, a token already watched and another origin get nothing; a slow inspector
//! drops records and says how many, without slowing the app's connection. The demos served by
//! `examples/common/web.rs` (the ticker here) offer the same.

// The chat and the ticker are two demos, each built on its own copy of the shared modules, as
// they are as examples.
#![allow(clippy::duplicate_mod)]

#[path = "../examples/common/mod.rs"]
mod common;

#[path = "../examples/chat/server.rs"]
mod chat_server;

mod demo_support;
#[path = "../examples/ticker/server.rs"]
#[allow(dead_code)]
mod ticker;

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use chat_server::ChatServer;
use rfc6455::blocking::{ClientConfig, MaybeTlsStream, Timeouts, WebSocket, connect_with};
use rfc6455::extensions::permessage_deflate::DeflateConfig;
use rfc6455::frame::{FrameHeader, OpCode};
use rfc6455::{CloseCode, Error, HandshakeError, Message};
use serde_json::{Value, json};

const PATIENCE: Duration = Duration::from_secs(5);

fn start() -> ChatServer {
    ChatServer::start("127.0.0.1:0").expect("bind a loopback port")
}

fn config(deflate: bool) -> ClientConfig {
    ClientConfig {
        timeouts: Timeouts { read: Some(Duration::from_millis(50)), ..Timeouts::default() },
        deflate: deflate.then(DeflateConfig::default),
        ..ClientConfig::default()
    }
}

/// The next text message, or `None` by `deadline`.
fn next_text(ws: &mut WebSocket<MaybeTlsStream>, deadline: Instant) -> Option<Value> {
    while Instant::now() < deadline {
        match ws.read() {
            Ok(Message::Text(text)) => return Some(serde_json::from_str(&text).expect("JSON")),
            Ok(_) => {}
            Err(Error::Io(e)) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return None,
        }
    }
    None
}

/// An app client that asked for the inspector, and its token (its first message).
fn inspected_client(server: &ChatServer, deflate: bool) -> (WebSocket<MaybeTlsStream>, String) {
    let (mut ws, _) = connect_with(&format!("{}?inspect=1", server.ws_url()), &config(deflate)).expect("connect");
    let first = next_text(&mut ws, Instant::now() + PATIENCE).expect("a first message");
    assert_eq!(first["type"], "inspector", "the token comes first: {first}");
    let token = first["payload"]["token"].as_str().expect("a token").to_string();
    assert_eq!(token.len(), 32, "128 bits in hex");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    (ws, token)
}

fn inspector_url(server: &ChatServer, token: &str) -> String {
    format!("ws://{}/inspector?token={token}", server.local_addr())
}

fn open_inspector(server: &ChatServer, token: &str) -> WebSocket<MaybeTlsStream> {
    connect_with(&inspector_url(server, token), &config(false)).expect("the inspector opens").0
}

/// Entries from the inspector until `done` is satisfied by one of them (or the patience runs
/// out); also the sum of the `dropped` counts seen.
fn entries_until(inspector: &mut WebSocket<MaybeTlsStream>, done: impl Fn(&Value) -> bool) -> (Vec<Value>, u64) {
    let deadline = Instant::now() + PATIENCE;
    let mut entries = Vec::new();
    let mut dropped = 0;
    while let Some(batch) = next_text(inspector, deadline) {
        if batch["type"] == "ended" {
            entries.push(batch);
            break;
        }
        assert_eq!(batch["type"], "records", "{batch}");
        dropped += batch["dropped"].as_u64().expect("a dropped count");
        let new = batch["entries"].as_array().expect("entries").clone();
        let finished = new.iter().any(&done);
        entries.extend(new);
        if finished {
            break;
        }
    }
    (entries, dropped)
}

fn bytes(hex: &str) -> Vec<u8> {
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")).collect()
}

/// A frame entry checked against the crate's decoder: every header field the inspector
/// reports is what `FrameHeader::parse` reads from the header bytes it reports, and the
/// unmasked payload is the wire payload XOR the key (RFC 6455 §5.2, §5.3).
fn check_frame(entry: &Value) -> (FrameHeader, Vec<u8>) {
    let header_bytes = bytes(entry["header"].as_str().expect("header hex"));
    let (header, len) = FrameHeader::parse(&header_bytes).expect("valid").expect("a whole header");
    assert_eq!(len, header_bytes.len());
    assert_eq!(entry["fin"], header.fin);
    assert_eq!(entry["rsv1"], header.rsv & 0x40 != 0);
    assert_eq!(entry["rsv2"], header.rsv & 0x20 != 0);
    assert_eq!(entry["rsv3"], header.rsv & 0x10 != 0);
    assert_eq!(entry["opcode"], header.opcode.as_u8());
    assert_eq!(entry["masked"], header.masking_key.is_some());
    assert_eq!(entry["payload_len"], header.payload_len);
    let form = match header_bytes[1] & 0x7f {
        126 => 16,
        127 => 64,
        _ => 7,
    };
    assert_eq!(entry["length_form"], form);
    let wire = bytes(entry["wire"].as_str().expect("wire hex"));
    let mut plain = wire.clone();
    if let Some(key) = header.masking_key {
        assert_eq!(entry["key"], key.iter().map(|b| format!("{b:02x}")).collect::<String>());
        for (i, b) in plain.iter_mut().enumerate() {
            *b ^= key[i % 4];
        }
    }
    assert_eq!(bytes(entry["payload"].as_str().expect("payload hex")), plain);
    (header, plain)
}

fn frames<'a>(entries: &'a [Value], dir: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    entries.iter().filter(move |e| e["kind"] == "frame" && e["dir"] == dir)
}

#[test]
fn s5_2_a_client_and_its_inspector_see_that_connections_frames_field_by_field() {
    let server = start();
    let (mut app, token) = inspected_client(&server, false);
    let mut inspector = open_inspector(&server, &token);

    // What was recorded before the inspector came: the handshake and the first messages.
    let (early, dropped) = entries_until(&mut inspector, |e| e["kind"] == "message" && e["dir"] == "sent");
    assert_eq!(dropped, 0);
    assert_eq!(early[0]["kind"], "handshake");
    let request = early[0]["request"].as_str().unwrap();
    assert!(request.starts_with("GET /ws?inspect=1 HTTP/1.1\r\n"), "{request}");
    assert!(request.contains("Sec-WebSocket-Key:"), "{request}");
    assert!(early[0]["response"].as_str().unwrap().starts_with("HTTP/1.1 101 "));
    let first_sent = frames(&early, "sent").next().expect("the token message, as sent");
    let (header, payload) = check_frame(first_sent);
    assert_eq!((header.opcode, header.fin, header.masking_key), (OpCode::Text, true, None));
    assert!(String::from_utf8_lossy(&payload).starts_with(r#"{"payload":{"token":""#), "{first_sent}");

    // A message from the client: received by the server, masked (§5.3).
    let said = json!({"type": "join", "payload": {"room": "lobby", "user": "ada"}}).to_string();
    app.send_text(&said).unwrap();
    let (entries, _) = entries_until(&mut inspector, |e| e["kind"] == "message" && e["dir"] == "received");
    let join = frames(&entries, "received").next().expect("the join, as received");
    let (header, payload) = check_frame(join);
    assert_eq!((header.opcode, header.fin), (OpCode::Text, true));
    assert!(header.masking_key.is_some(), "a client's frame is masked");
    assert_eq!(payload, said.as_bytes());
    assert_eq!(join["message"], 1, "the first message the server received");
    let done = entries.iter().find(|e| e["kind"] == "message" && e["dir"] == "received").unwrap();
    assert_eq!((done["len"].as_u64(), done["frames"].as_u64()), (Some(said.len() as u64), Some(1)));

    // A long message in the 16-bit length form, in two fragments with a Ping between them.
    let long = format!(r#"{{"type":"chat","payload":{{"text":"{}"}}}}"#, "x".repeat(400));
    let (a, b) = long.as_bytes().split_at(200);
    app.send_fragment(rfc6455::MessageKind::Text, a, false).unwrap();
    app.ping(b"between").unwrap();
    app.send_fragment(rfc6455::MessageKind::Text, b, true).unwrap();
    let (entries, _) = entries_until(&mut inspector, |e| {
        e["kind"] == "message" && e["dir"] == "received" && e["frames"].as_u64() == Some(2)
    });
    let received: Vec<&Value> = frames(&entries, "received").collect();
    let summary: Vec<_> =
        received.iter().map(|f| (f["opcode"].as_u64(), f["fin"].as_bool(), f["message"].as_u64())).collect();
    assert_eq!(summary, [(Some(1), Some(false), Some(2)), (Some(9), Some(true), None), (Some(0), Some(true), Some(2))]);
    for f in &received {
        check_frame(f);
    }
    assert_eq!(received[0]["length_form"], 16);
    let pong = frames(&entries, "sent").find(|f| f["opcode"] == 10).expect("the server's Pong");
    assert_eq!(check_frame(pong).1, b"between");

    // The closing handshake: the client's Close, decoded, and the server's answer.
    app.close(CloseCode::NORMAL, "bye").unwrap();
    let (entries, _) = entries_until(&mut inspector, |e| e["type"] == "ended");
    let close = frames(&entries, "received").find(|f| f["opcode"] == 8).expect("the client's Close");
    assert_eq!(check_frame(close).1, [0x03, 0xE8, b'b', b'y', b'e']);
    let answer = frames(&entries, "sent").find(|f| f["opcode"] == 8).expect("the server's Close");
    assert_eq!(&check_frame(answer).1[..2], [0x03, 0xE8]);
    assert_eq!(entries.last().unwrap()["type"], "ended");
    let _ = app.read();
    // Nothing is kept once the connection ended and its inspector had everything.
    let deadline = Instant::now() + PATIENCE;
    while server.inspector().session_count() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(server.inspector().session_count(), 0);
}

#[test]
fn rfc7692_the_inspector_shows_what_permessage_deflate_did() {
    let server = start();
    let (mut app, token) = inspected_client(&server, true);
    let mut inspector = open_inspector(&server, &token);
    let (early, _) = entries_until(&mut inspector, |e| e["kind"] == "message" && e["dir"] == "sent");
    assert!(early[0]["response"].as_str().unwrap().contains("permessage-deflate"));
    let text = "compress me ".repeat(150);
    let said = json!({"type": "join", "payload": {"room": "lobby", "user": "ada", "note": text}}).to_string();
    app.send_text(&said).unwrap();
    let (entries, _) = entries_until(&mut inspector, |e| e["kind"] == "message" && e["dir"] == "received");
    let frame = frames(&entries, "received").next().unwrap();
    let (header, _) = check_frame(frame);
    assert_eq!(header.rsv, 0x40, "RFC 7692 §6: RSV1 on a compressed message");
    assert_eq!(frame["compressed"], true);
    let message = entries.iter().find(|e| e["kind"] == "message" && e["dir"] == "received").unwrap();
    assert_eq!(message["compressed"], true);
    assert_eq!(message["len"].as_u64(), Some(said.len() as u64));
    assert_eq!(message["wire_len"], frame["payload_len"]);
    assert!(message["wire_len"].as_u64().unwrap() < said.len() as u64 / 4, "{message}");
}

#[test]
fn a_wrong_token_a_watched_token_and_another_origin_get_nothing() {
    let server = start();
    let (_ada, token) = inspected_client(&server, false);
    let (mut grace, grace_token) = inspected_client(&server, false);
    assert_ne!(token, grace_token);

    let refused = |url: &str, config: &ClientConfig| match connect_with(url, config) {
        Err(Error::Handshake(HandshakeError::Refused(refusal))) => refusal.response.status,
        Err(other) => panic!("refused with a status, not {other}"),
        Ok(_) => panic!("{url} was accepted"),
    };
    // A token that no connection has: refused before any record is sent.
    let wrong: String = token.chars().rev().collect();
    assert_eq!(refused(&inspector_url(&server, &wrong), &config(false)), 403);
    assert_eq!(refused(&inspector_url(&server, ""), &config(false)), 403);
    assert_eq!(refused(&format!("ws://{}/inspector", server.local_addr()), &config(false)), 403);
    // A page on another site cannot open an inspector, even with a good token.
    let mut other_site = config(false);
    other_site.options.origin = Some("http://evil.example".into());
    assert_eq!(refused(&inspector_url(&server, &token), &other_site), 403);

    // Ada's inspector sees Ada's connection only, never Grace's traffic.
    let mut inspector = open_inspector(&server, &token);
    // One inspector per connection.
    assert_eq!(refused(&inspector_url(&server, &token), &config(false)), 409);
    // A refused request gives back nothing it did not claim: after another site's request with
    // the watched token is refused, and its server thread has finished, the token is still
    // taken.
    assert_eq!(refused(&inspector_url(&server, &token), &other_site), 403);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(refused(&inspector_url(&server, &token), &config(false)), 409);
    grace.send_text(&json!({"type": "ping", "payload": {"secret": "grace's words"}}).to_string()).unwrap();
    assert!(next_text(&mut grace, Instant::now() + PATIENCE).is_some(), "grace is answered");
    let deadline = Instant::now() + Duration::from_millis(500);
    while let Some(batch) = next_text(&mut inspector, deadline) {
        assert!(!batch.to_string().contains(&rfc6455_hex(b"grace's words")), "{batch}");
        for entry in batch["entries"].as_array().into_iter().flatten() {
            if entry["kind"] == "handshake" {
                continue;
            }
            let payload = bytes(entry["payload"].as_str().unwrap_or(""));
            assert!(!String::from_utf8_lossy(&payload).contains("grace"), "{entry}");
        }
    }
}

fn rfc6455_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_connection_that_does_not_ask_is_not_recorded() {
    let server = start();
    let (mut ws, _) = connect_with(&server.ws_url(), &config(false)).unwrap();
    let first = next_text(&mut ws, Instant::now() + PATIENCE).unwrap();
    assert_ne!(first["type"], "inspector", "no token for a page that did not ask");
    assert_eq!(server.inspector().session_count(), 0);
}

#[test]
fn a_slow_inspector_drops_records_and_says_how_many_without_slowing_the_app() {
    let server = start();
    let (mut app, token) = inspected_client(&server, false);
    // No inspector reads while the app talks: 100 pings and their pongs are 400 records for a
    // queue of 256 (and stay below the chat's own outbox limit for one client).
    let asked = 100;
    for i in 0..asked {
        app.send_text(&json!({"type": "ping", "payload": {"n": i}}).to_string()).unwrap();
    }
    let mut answered = 0;
    let deadline = Instant::now() + PATIENCE;
    while answered < asked {
        match next_text(&mut app, deadline) {
            Some(message) if message["type"] == "pong" => answered += 1,
            Some(_) => {}
            None => panic!("the app got {answered} of {asked} answers"),
        }
    }
    let mut inspector = open_inspector(&server, &token);
    let batch = next_text(&mut inspector, Instant::now() + PATIENCE).expect("a batch");
    let kept = batch["entries"].as_array().unwrap().len();
    let dropped = batch["dropped"].as_u64().unwrap();
    assert!(kept <= common::inspector::CAPACITY, "{kept}");
    assert!(dropped > 0, "{batch}");
    // Every record is either kept or counted: the handshake, the token message and its
    // message record, the rooms message and its record, and 100 × 4.
    assert!(kept as u64 + dropped >= 4 * asked as u64, "{kept} + {dropped}");
}

#[test]
fn the_web_demos_offer_the_inspector_too() {
    let (server, addr) = demo_support::bind();
    let stopper = ticker::web::Stopper::for_server(&server).expect("stopper");
    let for_server = stopper.clone();
    let thread = std::thread::spawn(move || ticker::run(server, for_server, Duration::from_millis(20)));

    let (status, script) = demo_support::http_get(addr, "/inspector.js");
    assert_eq!(status, 200);
    assert!(script.contains("window.Inspector"));
    assert_eq!(demo_support::http_get(addr, "/inspector.css").0, 200);
    // The page itself loads the panel's script.
    assert!(demo_support::http_get(addr, "/").1.contains(r#"<script src="/inspector.js">"#));

    let mut app = demo_support::connect(addr, "/ws?inspect=1");
    let first = demo_support::read_json(&mut app);
    assert_eq!(first["type"], "inspector", "{first}");
    let token = first["payload"]["token"].as_str().unwrap().to_string();
    assert_eq!(demo_support::read_json(&mut app)["type"], "snapshot", "then the demo's own messages");
    // A client that does not ask is not told (the ticker's tests read its snapshot first).
    let mut plain = demo_support::connect(addr, "/ws");
    assert_eq!(demo_support::read_json(&mut plain)["type"], "snapshot");

    let (mut inspector, _) =
        connect_with(&format!("ws://{addr}/inspector?token={token}"), &config(false)).expect("the inspector opens");
    // Messages 1 and 2 are the token and the snapshot; 3 is the first tick.
    let (entries, _) =
        entries_until(&mut inspector, |e| e["kind"] == "message" && e["dir"] == "sent" && e["message"] == 3);
    assert_eq!(entries[0]["kind"], "handshake");
    let tick = entries.iter().rev().find(|e| e["kind"] == "frame").unwrap();
    let (header, _) = check_frame(tick);
    assert_eq!((header.opcode, header.masking_key), (OpCode::Text, None));
    let wrong = connect_with(&format!("ws://{addr}/inspector?token=00{}", &token[2..]), &config(false));
    assert!(matches!(wrong, Err(Error::Handshake(HandshakeError::Refused(_)))));
    drop((app, plain, inspector));
    stopper.stop();
    demo_support::join_within(demo_support::Running { addr, thread }, Duration::from_secs(5));
}
