//! Loopback tests of the blocking layer: a real `TcpStream` on 127.0.0.1 between the crate's
//! own client and server, and raw sockets where a test must see the exact bytes on the wire.
//! Every test is bounded by timeouts; none depends on how fast the machine is.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::blocking::{ClientConfig, Decision, Server, ServerConfig, Timeouts, connect, connect_with};
use rfc6455::frame::OpCode;
use rfc6455::frame::decoder::{FrameDecoder, Step};
use rfc6455::frame::encoder::encode_frame;
use rfc6455::{CloseCode, Error, HandshakeError, Limits, Message, MessageKind};

const LIMIT: Duration = Duration::from_secs(10);

/// A server on an ephemeral port that runs `handle` on one accepted connection per call.
fn serve<F>(handle: F) -> (SocketAddr, thread::JoinHandle<()>)
where
    F: FnOnce(Server) + Send + 'static,
{
    let server = Server::bind("127.0.0.1:0").expect("bind");
    let addr = server.local_addr().expect("addr");
    (addr, thread::spawn(move || handle(server)))
}

fn echo_once(server: Server) {
    let Ok(pending) = server.accept() else { return };
    let Ok(mut ws) = pending.handshake() else { return };
    while let Ok(message) = ws.read() {
        if message.is_data() {
            let _ = ws.send(&message);
        }
    }
}

fn raw_client(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(LIMIT)).expect("timeout");
    stream
}

/// Read until EOF (or the timeout) and return everything received.
fn read_to_end(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return all,
            Ok(n) => all.extend_from_slice(&buf[..n]),
        }
    }
}

const UPGRADE: &str = "GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

#[test]
fn echo_text_binary_ping_and_close_over_loopback() {
    let (addr, server) = serve(echo_once);
    let mut ws = connect(&format!("ws://{addr}/echo")).expect("connect");
    ws.send_text("héllo").unwrap();
    assert_eq!(ws.read().unwrap(), Message::Text("héllo".into()));
    ws.send_binary(&[0, 1, 2, 255]).unwrap();
    assert_eq!(ws.read().unwrap(), Message::Binary(vec![0, 1, 2, 255]));
    ws.ping(b"are you there").unwrap();
    assert_eq!(ws.read().unwrap(), Message::Pong(b"are you there".to_vec()));
    let big = vec![0xA5u8; 1 << 20];
    ws.send_binary(&big).unwrap();
    assert_eq!(ws.read().unwrap(), Message::Binary(big));
    ws.close(CloseCode::NORMAL, "done").unwrap();
    assert_eq!(ws.read().unwrap(), Message::Close(Some(CloseCode::NORMAL), String::new()));
    assert!(matches!(ws.read(), Err(Error::Closed)));
    server.join().unwrap();
}

#[test]
fn s4_2_1_frames_sent_right_behind_the_handshake_are_not_lost() {
    let (addr, server) = serve(echo_once);
    let mut stream = raw_client(addr);
    let mut bytes = UPGRADE.as_bytes().to_vec();
    encode_frame(&mut bytes, true, 0, OpCode::Text, b"early", Some([1, 2, 3, 4]));
    encode_frame(&mut bytes, true, 0, OpCode::Close, &1000u16.to_be_bytes(), Some([5, 6, 7, 8]));
    stream.write_all(&bytes).unwrap();
    let reply = read_to_end(&mut stream);
    let head_end = reply.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head") + 4;
    assert!(reply.starts_with(b"HTTP/1.1 101"));
    let frames = decode_all(&reply[head_end..]);
    assert_eq!(frames[0], (OpCode::Text, b"early".to_vec()));
    assert_eq!(frames[1], (OpCode::Close, 1000u16.to_be_bytes().to_vec()));
    drop(stream);
    server.join().unwrap();
}

fn decode_all(bytes: &[u8]) -> Vec<(OpCode, Vec<u8>)> {
    let mut decoder = FrameDecoder::new();
    let mut buf = bytes.to_vec();
    let mut pos = 0;
    let mut frames: Vec<(OpCode, Vec<u8>)> = Vec::new();
    while let Ok(step) = decoder.decode(&mut buf[pos..]) {
        match step {
            Step::NeedMore => break,
            Step::Header { header, len } => {
                pos += len;
                frames.push((header.opcode, Vec::new()));
            }
            Step::Payload { len, .. } => {
                frames.last_mut().unwrap().1.extend_from_slice(&buf[pos..pos + len]);
                pos += len;
            }
        }
    }
    frames
}

#[test]
fn s7_1_7_protocol_error_sends_close_1002_before_tcp_ends() {
    let (addr, server) = serve(echo_once);
    let mut stream = raw_client(addr);
    let mut bytes = UPGRADE.as_bytes().to_vec();
    // An unmasked frame from a client (§5.1), followed by more data the server never reads.
    encode_frame(&mut bytes, true, 0, OpCode::Text, b"unmasked", None);
    bytes.extend_from_slice(&[0u8; 1000]);
    stream.write_all(&bytes).unwrap();
    let reply = read_to_end(&mut stream);
    let head_end = reply.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let frames = decode_all(&reply[head_end..]);
    assert_eq!(frames, vec![(OpCode::Close, 1002u16.to_be_bytes().to_vec())]);
    drop(stream);
    server.join().unwrap();
}

#[test]
fn s8_1_invalid_utf8_sends_close_1007() {
    let (addr, server) = serve(echo_once);
    let mut stream = raw_client(addr);
    let mut bytes = UPGRADE.as_bytes().to_vec();
    encode_frame(&mut bytes, true, 0, OpCode::Text, b"\xff\xfe", Some([9, 9, 9, 9]));
    stream.write_all(&bytes).unwrap();
    let reply = read_to_end(&mut stream);
    let head_end = reply.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(decode_all(&reply[head_end..]), vec![(OpCode::Close, 1007u16.to_be_bytes().to_vec())]);
    drop(stream);
    server.join().unwrap();
}

#[test]
fn s4_4_wrong_version_gets_426_with_the_version_header() {
    let (addr, server) = serve(echo_once);
    let mut stream = raw_client(addr);
    stream.write_all(UPGRADE.replace("Version: 13", "Version: 8").as_bytes()).unwrap();
    let reply = String::from_utf8(read_to_end(&mut stream)).unwrap();
    assert!(reply.starts_with("HTTP/1.1 426 "), "{reply}");
    assert!(reply.to_ascii_lowercase().contains("sec-websocket-version: 13\r\n"), "{reply}");
    server.join().unwrap();
}

#[test]
fn plain_http_get_gets_an_http_answer_not_silence() {
    let (addr, server) = serve(echo_once);
    let mut stream = raw_client(addr);
    stream.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let reply = String::from_utf8(read_to_end(&mut stream)).unwrap();
    assert!(reply.starts_with("HTTP/1.1 426 "), "{reply}");
    server.join().unwrap();
}

#[test]
fn s4_2_1_missing_key_gets_400() {
    let (addr, server) = serve(echo_once);
    let mut stream = raw_client(addr);
    stream.write_all(UPGRADE.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "").as_bytes()).unwrap();
    let reply = String::from_utf8(read_to_end(&mut stream)).unwrap();
    assert!(reply.starts_with("HTTP/1.1 400 "), "{reply}");
    server.join().unwrap();
}

#[test]
fn oversized_handshake_gets_431() {
    let (addr, server) = serve(echo_once);
    let mut stream = raw_client(addr);
    let huge = format!("GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(20_000));
    let _ = stream.write_all(huge.as_bytes());
    let reply = String::from_utf8_lossy(&read_to_end(&mut stream)).into_owned();
    assert!(reply.starts_with("HTTP/1.1 431 "), "{reply}");
    server.join().unwrap();
}

#[test]
fn hook_rejects_by_path_and_serves_plain_http() {
    let (addr, server) = serve(|server| {
        for _ in 0..3 {
            let Ok(pending) = server.accept() else { return };
            let result = pending.handshake_with(|request| match request.path.as_str() {
                "/" if !request.is_websocket_upgrade() => Decision::respond("text/plain", b"a page"),
                "/allowed" => Decision::accept(),
                _ => Decision::Reject { status: 403, reason: "not here".into() },
            });
            if let Ok(mut ws) = result {
                let _ = ws.close(CloseCode::NORMAL, "");
                while ws.read().is_ok() {}
            }
        }
    });
    let err = connect(&format!("ws://{addr}/forbidden")).unwrap_err();
    assert!(matches!(err, Error::Handshake(HandshakeError::Refused(ref r)) if r.status() == 403), "{err}");
    let mut stream = raw_client(addr);
    stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let page = String::from_utf8(read_to_end(&mut stream)).unwrap();
    assert!(page.starts_with("HTTP/1.1 200 ") && page.ends_with("a page"), "{page}");
    let mut ws = connect(&format!("ws://{addr}/allowed")).expect("allowed path");
    assert!(matches!(ws.read(), Ok(Message::Close(Some(CloseCode::NORMAL), _))));
    server.join().unwrap();
}

#[test]
fn subprotocol_is_negotiated() {
    let (addr, server) = serve(|server| {
        let Ok(pending) = server.accept() else { return };
        let result = pending.handshake_with(|request| Decision::Accept {
            subprotocol: request.subprotocols.iter().find(|p| *p == "chat.v2").cloned(),
            headers: vec![("X-Served-By".into(), "rfc6455".into())],
        });
        if let Ok(mut ws) = result {
            while ws.read().is_ok() {}
        }
    });
    let mut config = ClientConfig::default();
    config.options.subprotocols = vec!["chat.v1".into(), "chat.v2".into()];
    let (mut ws, response) = connect_with(&format!("ws://{addr}/"), &config).expect("connect");
    assert_eq!(response.subprotocol.as_deref(), Some("chat.v2"));
    assert_eq!(response.header("x-served-by"), Some(&b"rfc6455"[..]));
    ws.close(CloseCode::NORMAL, "").unwrap();
    while ws.read().is_ok() {}
    server.join().unwrap();
}

#[test]
fn handshake_timeout_ends_a_silent_client() {
    let (addr, server) = serve(|server| {
        let config = ServerConfig {
            timeouts: Timeouts { handshake: Duration::from_millis(200), ..Timeouts::default() },
            ..ServerConfig::default()
        };
        let server = server.with_config(config);
        let pending = server.accept().unwrap();
        let started = Instant::now();
        let err = pending.handshake().unwrap_err();
        assert!(matches!(err, Error::Io(ref e) if e.kind() == std::io::ErrorKind::TimedOut), "{err}");
        assert!(started.elapsed() < LIMIT);
    });
    // Connect and say nothing (half a request line).
    let mut stream = raw_client(addr);
    stream.write_all(b"GET / HT").unwrap();
    server.join().unwrap();
}

#[test]
fn close_timeout_ends_a_peer_that_never_answers_the_close() {
    let (addr, server) = serve(|server| {
        let config = ServerConfig {
            timeouts: Timeouts { close: Duration::from_millis(200), ..Timeouts::default() },
            ..ServerConfig::default()
        };
        let server = server.with_config(config);
        let mut ws = server.accept().unwrap().handshake().unwrap();
        ws.close(CloseCode::GOING_AWAY, "shutting down").unwrap();
        let started = Instant::now();
        assert!(matches!(ws.read(), Err(Error::Closed)));
        assert!(started.elapsed() < LIMIT);
    });
    let mut stream = raw_client(addr);
    stream.write_all(UPGRADE.as_bytes()).unwrap();
    // Read the 101 and the Close, never answer; hold the socket open until the server gives up.
    let reply = read_to_end(&mut stream);
    assert!(reply.starts_with(b"HTTP/1.1 101"));
    server.join().unwrap();
}

#[test]
fn message_over_the_limit_is_refused_with_1009() {
    let (addr, server) = serve(|server| {
        let mut config = ServerConfig::default();
        let limits = Limits { max_frame_size: 1000, max_message_size: 1000, ..Limits::default() };
        config.config = config.config.with_limits(limits).unwrap();
        let server = server.with_config(config);
        let mut ws = server.accept().unwrap().handshake().unwrap();
        let err = ws.read().unwrap_err();
        assert!(matches!(err, Error::Protocol(rfc6455::ProtocolError::MessageTooLarge)), "{err}");
    });
    // The client sends in frames of at most 600 bytes: each fits, the message does not.
    let mut config = ClientConfig::default();
    config.config = config.config.with_limits(Limits { max_send_frame_size: 600, ..Limits::default() }).unwrap();
    let (mut ws, _) = connect_with(&format!("ws://{addr}/"), &config).unwrap();
    ws.send_binary(&[0; 1001]).unwrap();
    assert_eq!(ws.read().unwrap(), Message::Close(Some(CloseCode::MESSAGE_TOO_BIG), String::new()));
    server.join().unwrap();
}

#[test]
fn split_reader_and_writer_work_from_two_threads() {
    let (addr, server) = serve(echo_once);
    let ws = connect(&format!("ws://{addr}/")).unwrap();
    let (mut reader, writer) = ws.split().unwrap();
    let sender = {
        let writer = writer.clone();
        thread::spawn(move || {
            for i in 0..200 {
                writer.send_text(&format!("message {i}")).unwrap();
            }
            writer.send_fragment(MessageKind::Binary, &[1], false).unwrap();
            writer.ping(b"between fragments").unwrap();
            writer.send_fragment(MessageKind::Binary, &[2], true).unwrap();
        })
    };
    let mut texts = 0;
    let mut got_pong = false;
    loop {
        match reader.read().unwrap() {
            Message::Text(text) => {
                assert_eq!(text, format!("message {texts}"));
                texts += 1;
            }
            Message::Pong(payload) => {
                assert_eq!(payload, b"between fragments");
                got_pong = true;
            }
            Message::Binary(data) => {
                assert_eq!(data, vec![1, 2]);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(texts, 200);
    assert!(got_pong);
    sender.join().unwrap();
    writer.close(CloseCode::NORMAL, "").unwrap();
    assert!(matches!(reader.read(), Ok(Message::Close(Some(CloseCode::NORMAL), _))));
    assert!(matches!(reader.read(), Err(Error::Closed)));
    server.join().unwrap();
}

#[test]
fn split_reader_answers_pings_through_the_writer() {
    let (addr, server) = serve(|server| {
        let mut ws = server.accept().unwrap().handshake().unwrap();
        ws.ping(b"heartbeat").unwrap();
        assert_eq!(ws.read().unwrap(), Message::Pong(b"heartbeat".to_vec()));
        ws.close(CloseCode::NORMAL, "").unwrap();
        while ws.read().is_ok() {}
    });
    let (mut reader, _writer) = connect(&format!("ws://{addr}/")).unwrap().split().unwrap();
    assert_eq!(reader.read().unwrap(), Message::Ping(b"heartbeat".to_vec()));
    assert!(matches!(reader.read(), Ok(Message::Close(..))));
    server.join().unwrap();
}

#[test]
fn ipv6_loopback_works_when_available() {
    let Ok(server) = Server::bind("[::1]:0") else { return };
    let addr = server.local_addr().unwrap();
    let handle = thread::spawn(move || echo_once(server));
    let mut ws = connect(&format!("ws://[::1]:{}/", addr.port())).unwrap();
    ws.send_text("v6").unwrap();
    assert_eq!(ws.read().unwrap(), Message::Text("v6".into()));
    ws.close(CloseCode::NORMAL, "").unwrap();
    while ws.read().is_ok() {}
    handle.join().unwrap();
}

#[test]
fn connecting_to_a_closed_port_is_an_io_error() {
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    assert!(matches!(connect(&format!("ws://{addr}/")), Err(Error::Io(_))));
    assert!(matches!(connect("http://127.0.0.1/"), Err(Error::Handshake(HandshakeError::InvalidUri(_)))));
}

#[test]
fn s4_1_only_one_connection_per_address_is_connecting() {
    // A server that accepts TCP connections and never answers the handshake.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    let acceptor = thread::spawn(move || {
        let started = Instant::now();
        let mut held = Vec::new();
        while started.elapsed() < Duration::from_secs(10) && counter.load(std::sync::atomic::Ordering::SeqCst) < 2 {
            if let Ok((stream, _)) = listener.accept() {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                held.push(stream);
            }
            thread::sleep(Duration::from_millis(5));
        }
    });
    // The handshake timeout is long next to the waits below, so that a loaded machine cannot
    // make the first attempt fail before the second one is observed waiting.
    let config = ClientConfig {
        timeouts: Timeouts { handshake: Duration::from_secs(2), ..Timeouts::default() },
        ..ClientConfig::default()
    };
    let url = format!("ws://{addr}/");
    let first = {
        let (url, config) = (url.clone(), config.clone());
        thread::spawn(move || connect_with(&url, &config).map(|_| ()))
    };
    // Wait (not sleep a guessed time) until the first attempt's TCP connection is accepted.
    let waited = Instant::now();
    while accepted.load(std::sync::atomic::Ordering::SeqCst) == 0 && waited.elapsed() < Duration::from_secs(5) {
        thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1, "the first attempt opened TCP");
    // The second attempt's own timeout (which covers its wait for the first) outlasts the first's.
    let patient =
        ClientConfig { timeouts: Timeouts { handshake: Duration::from_secs(5), ..config.timeouts }, ..config };
    let second = thread::spawn(move || connect_with(&url, &patient).map(|_| ()));
    thread::sleep(Duration::from_millis(300));
    // The first is CONNECTING (its handshake unanswered): the second has not opened TCP.
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(first.join().unwrap().is_err(), "the silent server never answers");
    // Once the first failed, the second went ahead (and failed the same way, later).
    assert!(second.join().unwrap().is_err());
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 2);
    acceptor.join().unwrap();
}
