//! The handshake tour (`examples/tour.rs`) driven over loopback with the crate's own client:
//! what the tour shows is what the connection carried (the accept computation matches
//! `accept_key` of the key that was sent and the value the 101 carried; the frames decode to
//! what was sent and received; the server closes TCP first), and every "break it" case gets
//! the close code RFC 6455 asks for.
//!
//! The server is the example's own module, started in-process on port 0.

#[path = "../examples/tour/server.rs"]
mod tour;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rfc6455::blocking::{ClientConfig, MaybeTlsStream, Timeouts, WebSocket, connect_with};
use rfc6455::handshake::{GUID, accept_key};
use rfc6455::{ClientOptions, CloseCode, Error, Message};
use serde_json::Value;
use tour::TourServer;

const PATIENCE: Duration = Duration::from_secs(5);

fn start() -> TourServer {
    TourServer::start("127.0.0.1:0").expect("bind a loopback port")
}

/// Open the tour's WebSocket as a browser would (an Origin, a permessage-deflate offer).
fn open_tour(server: &TourServer, id: &str) -> (WebSocket<MaybeTlsStream>, rfc6455::handshake::Response) {
    let config = ClientConfig {
        options: ClientOptions {
            origin: Some(server.http_url().trim_end_matches('/').to_owned()),
            extensions: vec!["permessage-deflate; client_max_window_bits".into()],
            ..ClientOptions::default()
        },
        timeouts: Timeouts { read: Some(PATIENCE), ..Timeouts::default() },
        ..ClientConfig::default()
    };
    let url = format!("ws://{}/ws?id={id}", server.local_addr());
    connect_with(&url, &config).expect("open the tour's WebSocket")
}

/// Wait until the record of `id` satisfies `ready`.
fn record_when(server: &TourServer, id: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(record) = server.record(id)
            && ready(&record)
        {
            return record;
        }
        assert!(Instant::now() < deadline, "the record of {id} never got there: {:?}", server.record(id));
        thread::sleep(Duration::from_millis(10));
    }
}

fn frames(record: &Value, side: &str) -> Vec<Value> {
    record[side]["frames"].as_array().cloned().unwrap_or_default()
}

#[test]
fn s4_2_2_tour_shows_the_accept_computation_of_this_connections_key() {
    let server = start();
    let (_ws, response) = open_tour(&server, "accept");
    let record = record_when(&server, "accept", |r| r["response"]["bytes"].as_u64() > Some(0));

    let accept = &record["accept"];
    let key = accept["key"].as_str().expect("the key is shown");
    // The key shown is the one the request carried, as the server read it.
    let request = record["request"]["text"].as_str().expect("the request is shown");
    assert!(request.starts_with("GET /ws?id=accept HTTP/1.1\r\n"), "{request}");
    assert!(request.contains(&format!("Sec-WebSocket-Key: {key}\r\n")), "{request}");
    assert_eq!(STANDARD.decode(key).expect("base64").len(), 16);

    // Each step of §4.2.2 step 5.4, against the crate's own function and the wire.
    assert_eq!(accept["concatenated"].as_str(), Some(format!("{key}{GUID}").as_str()));
    let sha1_hex = accept["sha1_hex"].as_str().expect("the SHA-1 is shown");
    let decoded: Vec<String> = STANDARD
        .decode(accept["base64"].as_str().expect("the base64 is shown"))
        .expect("the accept value is base64")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(sha1_hex, decoded.join(" "), "the base64 shown is not the SHA-1 shown");
    assert_eq!(accept["base64"].as_str(), Some(accept_key(key.as_bytes()).as_str()));
    assert_eq!(accept["accept_key"].as_str(), Some(accept_key(key.as_bytes()).as_str()));
    let received = response.header("Sec-WebSocket-Accept").expect("the client got an accept value");
    assert_eq!(accept["sent"].as_str().map(str::as_bytes), Some(received));

    // The 101 shown is the one written, and the deflate offer was declined.
    let shown = record["response"]["text"].as_str().expect("the response is shown");
    assert!(shown.starts_with("HTTP/1.1 101 Switching Protocols\r\n"), "{shown}");
    assert!(shown.ends_with("\r\n\r\n"), "{shown}");
    assert!(!shown.to_ascii_lowercase().contains("sec-websocket-extensions"), "{shown}");
    assert_eq!(record["response"]["bytes"].as_u64(), Some(shown.len() as u64));
}

#[test]
fn s7_1_1_tour_records_frames_each_way_and_the_server_closes_tcp_first() {
    let server = start();
    let (mut ws, _) = open_tour(&server, "frames");
    ws.send_text("Hello, server!").expect("send");
    assert_eq!(ws.read().expect("the echo"), Message::Text("echo: Hello, server!".into()));
    ws.send_text("ping").expect("ask for a ping");
    assert_eq!(ws.read().expect("the ping"), Message::Ping(tour::PING_PAYLOAD.to_vec()));
    ws.close(CloseCode::NORMAL, "tour over").expect("close");
    loop {
        match ws.read() {
            Ok(_) => {}
            Err(Error::Closed) => break,
            Err(e) => panic!("the close did not complete: {e}"),
        }
    }

    let record = record_when(&server, "frames", |r| r["open"] == false && r["tcp"]["first_fin"].is_string());
    let client = frames(&record, "client_frames");
    let server_side = frames(&record, "server_frames");
    let opcodes = |frames: &[Value]| frames.iter().map(|f| f["opcode"].as_u64().unwrap_or(99)).collect::<Vec<_>>();
    // text, text "ping", pong, close / text, ping, close
    assert_eq!(opcodes(&client), [1, 1, 10, 8], "{client:?}");
    assert_eq!(opcodes(&server_side), [1, 9, 8], "{server_side:?}");

    // §5.1, §5.3: the client masks, the server does not; the unmasked payload is what was sent.
    let hello = &client[0];
    assert_eq!(hello["mask"], true);
    assert_eq!(hello["text"], "Hello, server!");
    assert_eq!(hello["payload_len"], 14);
    assert_eq!(hello["len_form"], "7-bit");
    assert_ne!(hello["payload_masked_hex"], hello["payload_hex"]);
    assert_eq!(server_side[0]["mask"], false);
    // The frame log keeps the start of each payload (all of this short one).
    let echo = "echo: Hello, server!";
    let kept = echo.len().min(rfc6455::observe::PREVIEW_LEN);
    assert_eq!(server_side[0]["text"], &echo[..kept]);
    assert_eq!(server_side[0]["payload_cut"], kept < echo.len());
    assert_eq!(server_side[0]["length"], 2 + "echo: Hello, server!".len());

    // §5.5.3: the Pong carries the Ping's payload.
    assert_eq!(server_side[1]["payload_hex"], client[2]["payload_hex"]);
    assert_eq!(client[2]["mask"], true);

    // §5.5.1: the server's Close echoes the code; §7.1.1: the server shuts TCP first.
    assert_eq!((client[3]["close_code"].as_u64(), client[3]["close_reason"].as_str()), (Some(1000), Some("tour over")));
    assert_eq!(server_side[2]["close_code"].as_u64(), Some(1000));
    assert_eq!(record["tcp"]["first_fin"], "server", "{}", record["tcp"]);
    let (server_fin, client_fin) = (record["tcp"]["server_fin_ms"].as_f64(), record["tcp"]["client_fin_ms"].as_f64());
    assert!(server_fin.is_some() && client_fin.is_some() && server_fin <= client_fin, "{}", record["tcp"]);

    // The frame log's view agrees with the bytes the socket carried, frame by frame.
    assert_eq!(record["request"]["text"], record["wire"]["request_text"]);
    assert_eq!(record["response"]["text"], record["wire"]["response_text"]);
    for (logged, side) in [(&client, "client_frames"), (&server_side, "server_frames")] {
        let on_the_wire = record["wire"][side]["frames"].as_array().cloned().unwrap_or_default();
        assert_eq!(logged.len(), on_the_wire.len(), "{side}: {on_the_wire:?}");
        assert_eq!(record["wire"][side]["rest_hex"], "", "{side}: bytes that are not whole frames");
        for (log, wire) in logged.iter().zip(&on_the_wire) {
            for field in ["header_hex", "opcode", "fin", "mask", "masking_key", "payload_len", "length", "len_form"] {
                assert_eq!(log[field], wire[field], "{side}: {field} of {log} vs {wire}");
            }
            let (preview, whole) =
                (log["payload_hex"].as_str().unwrap_or("?"), wire["payload_hex"].as_str().unwrap_or(""));
            assert!(whole.starts_with(preview), "{side}: the log's payload {preview} is not the start of {whole}");
        }
    }
}

/// Run one "break it" case against a fresh server; the close code the server answered.
fn break_case(id: &str) -> u16 {
    let server = start();
    let case = tour::break_it::case(id).expect("a known case");
    let outcome = tour::break_it::run(server.local_addr(), "/echo", case, tour::BREAK_TIMEOUT).expect("the case ran");
    assert!(outcome.server_closed_tcp, "{id}: the server did not close TCP after failing the connection");
    assert_eq!(outcome.sent, case.bytes());
    let (code, _) = outcome.close.expect("the server answered with a Close frame");
    // The page's expectation is the RFC's.
    assert_eq!(code, case.expected_code, "{id}");
    code
}

#[test]
fn s5_1_unmasked_client_frame_is_answered_with_1002() {
    assert_eq!(break_case("unmasked"), 1002);
}

#[test]
fn s5_2_reserved_opcode_is_answered_with_1002() {
    assert_eq!(break_case("reserved_opcode"), 1002);
}

#[test]
fn s5_2_rsv1_without_extension_is_answered_with_1002() {
    assert_eq!(break_case("rsv_bit"), 1002);
}

#[test]
fn s8_1_invalid_utf8_text_is_answered_with_1007() {
    assert_eq!(break_case("invalid_utf8"), 1007);
}

#[test]
fn s5_5_control_frame_over_125_is_answered_with_1002() {
    assert_eq!(break_case("oversized_control"), 1002);
}

#[test]
fn s5_5_fragmented_control_frame_is_answered_with_1002() {
    assert_eq!(break_case("fragmented_control"), 1002);
}

#[test]
fn s5_4_continuation_without_a_message_is_answered_with_1002() {
    assert_eq!(break_case("orphan_continuation"), 1002);
}

#[test]
fn s7_4_1_close_code_1005_on_the_wire_is_answered_with_1002() {
    assert_eq!(break_case("bad_close_code"), 1002);
}

#[test]
fn s10_4_frame_over_the_message_limit_is_answered_with_1009() {
    assert_eq!(break_case("too_big"), 1009);
}

#[test]
fn every_break_case_is_tested() {
    let tested = [
        "unmasked",
        "reserved_opcode",
        "rsv_bit",
        "invalid_utf8",
        "oversized_control",
        "fragmented_control",
        "orphan_continuation",
        "bad_close_code",
        "too_big",
    ];
    let offered: Vec<&str> = tour::break_it::CASES.iter().map(|case| case.id).collect();
    assert_eq!(offered, tested, "a case was added without its test");
}

/// A plain HTTP request; the status and the body.
fn http(server: &TourServer, method: &str, target: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(server.local_addr()).expect("connect");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    write!(stream, "{method} {target} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\n\r\n", server.local_addr())
        .expect("send");
    let mut response = Vec::new();
    match stream.read_to_end(&mut response) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => panic!("read: {e}"),
    }
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    (status, body)
}

#[test]
fn break_route_reports_bytes_code_and_reason_to_the_page() {
    let server = start();
    let (status, body) = http(&server, "POST", "/api/break?case=invalid_utf8");
    assert_eq!(status, 200, "{body}");
    let outcome: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(outcome["close_code"], 1007);
    assert_eq!(outcome["expected_code"], 1007);
    assert_eq!(outcome["section"], "§8.1");
    assert_eq!(outcome["sent_hex"], "81 84 37 fa 21 3d 54 9b 47 c2");
    // The Close frame shown is the one received: unmasked, code 1007.
    let close = &outcome["received"]["frames"][0];
    assert_eq!((close["opcode"].as_u64(), close["mask"].as_bool()), (Some(8), Some(false)));
    assert_eq!(close["close_code"], 1007);
    assert!(outcome["sent_explained"].as_str().is_some_and(|text| text.contains("frame 1")));

    assert_eq!(http(&server, "POST", "/api/break?case=nonsense").0, 404);
    assert_eq!(http(&server, "GET", "/api/record?id=nobody").0, 404);
    let (status, cases) = http(&server, "GET", "/api/cases");
    assert_eq!(status, 200);
    assert!(cases.contains("\"unmasked\""), "{cases}");
    assert_eq!(http(&server, "GET", "/guide/01-handshake.md").0, 200);
    assert_eq!(http(&server, "GET", "/guide/../../Cargo.toml").0, 404);
    let (status, page) = http(&server, "GET", "/");
    assert_eq!(status, 200);
    assert!(page.contains("handshake tour"));
}

#[test]
fn s4_2_1_tour_socket_without_an_id_is_refused() {
    let server = start();
    let url = format!("ws://{}/ws", server.local_addr());
    match connect_with(&url, &ClientConfig::default()) {
        Err(Error::Handshake(e)) => assert!(e.to_string().contains("400"), "{e}"),
        other => panic!("expected a 400 refusal, got {other:?}"),
    }
}

#[test]
fn s5_7_the_tour_decodes_the_rfc_example_frames() {
    // RFC 6455 §5.7: an unmasked "Hello", the same masked, and a 256-byte binary frame.
    let mut bytes = vec![0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    bytes.extend_from_slice(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    bytes.extend_from_slice(&[0x82, 0x7E, 0x01, 0x00]);
    bytes.extend_from_slice(&[0xAB; 256]);
    bytes.push(0x89); // the start of a frame still arriving
    let decoded = tour::wire::decode_frames(&bytes);
    let frames = decoded["frames"].as_array().expect("frames");
    assert_eq!(frames.len(), 3, "{decoded}");
    assert_eq!((frames[0]["text"].as_str(), frames[0]["mask"].as_bool()), (Some("Hello"), Some(false)));
    assert_eq!(frames[1]["text"], "Hello");
    assert_eq!(frames[1]["masking_key"], "37 fa 21 3d");
    assert_eq!(frames[1]["payload_masked_hex"], "7f 9f 4d 51 58");
    assert_eq!(
        (frames[2]["payload_len"].as_u64(), frames[2]["len_form"].as_str()),
        (Some(256), Some("16-bit (126 + 2 bytes)"))
    );
    assert_eq!(frames[2]["length"], 4 + 256);
    assert_eq!(decoded["rest_hex"], "89", "a cut frame is left over, not guessed at");
}
