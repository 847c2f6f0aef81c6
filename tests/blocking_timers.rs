//! Keepalive and idle deadlines through the blocking layer, for real on loopback: short
//! durations, every wait bounded by a generous limit, and no assertion on how long anything
//! took (only on what went over the wire, and in what order).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::Duration;

use rfc6455::blocking::{Server, ServerConfig, connect};
use rfc6455::frame::OpCode;
use rfc6455::frame::decoder::{FrameDecoder, Step};
use rfc6455::frame::encoder::encode_frame;
use rfc6455::{Config, Deadline, Error, Keepalive, Message, Timers};

const LIMIT: Duration = Duration::from_secs(10);

const UPGRADE: &str = "GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A server with these deadlines, running `handle` on one connection.
fn serve<F>(timers: Timers, handle: F) -> (SocketAddr, thread::JoinHandle<()>)
where
    F: FnOnce(rfc6455::blocking::WebSocket<rfc6455::blocking::MaybeTlsStream>) + Send + 'static,
{
    let server = Server::bind("127.0.0.1:0").expect("bind");
    let addr = server.local_addr().expect("addr");
    let config = ServerConfig { config: Config::server().with_timers(timers).unwrap(), ..ServerConfig::default() };
    let server = server.with_config(config);
    (addr, thread::spawn(move || handle(server.accept().unwrap().handshake().unwrap())))
}

/// A raw client that sends the upgrade, and returns the socket past the 101's headers.
fn raw_client(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(LIMIT)).expect("timeout");
    stream.write_all(UPGRADE.as_bytes()).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "the 101 ended early");
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"));
    stream
}

/// Every frame the server sends until it closes TCP, as (opcode, payload).
fn frames_until_eof(stream: &mut TcpStream) -> Vec<(OpCode, Vec<u8>)> {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(e) => panic!("the server did not close the connection: {e}"),
        }
    }
    let mut frames = Vec::new();
    let mut decoder = FrameDecoder::new();
    let mut at = 0;
    let mut current = None;
    while at < bytes.len() {
        match decoder.decode(&mut bytes[at..]).unwrap() {
            Step::Header { header, len } => {
                at += len;
                current = Some((header.opcode, Vec::new()));
                if header.payload_len == 0 {
                    frames.extend(current.take());
                }
            }
            Step::Payload { len, last } => {
                if let Some((_, payload)) = &mut current {
                    payload.extend_from_slice(&bytes[at..at + len]);
                }
                at += len;
                if last {
                    frames.extend(current.take());
                }
            }
            Step::NeedMore => break,
        }
    }
    frames
}

fn keepalive(interval: u64, timeout: u64) -> Timers {
    Timers { keepalive: Some(Keepalive { interval: ms(interval), timeout: ms(timeout) }), ..Timers::default() }
}

#[test]
fn keepalive_pings_a_silent_peer_then_fails_with_1011() {
    let (addr, server) = serve(keepalive(100, 200), |mut ws| {
        let err = ws.read().unwrap_err();
        assert!(matches!(err, Error::TimedOut(Deadline::Keepalive)), "{err}");
        assert!(matches!(ws.read(), Err(Error::TimedOut(Deadline::Keepalive))), "the failure is sticky");
    });
    // Read everything, answer nothing.
    let frames = frames_until_eof(&mut raw_client(addr));
    assert_eq!(frames, [(OpCode::Ping, vec![]), (OpCode::Close, 1011u16.to_be_bytes().to_vec())]);
    server.join().unwrap();
}

#[test]
fn keepalive_answered_by_pongs_keeps_an_idle_connection_open() {
    let (addr, server) = serve(keepalive(50, 2000), |mut ws| {
        // Three rounds of Ping and Pong while the application sends nothing.
        for round in 0..3 {
            assert_eq!(ws.read().unwrap(), Message::Pong(vec![]), "round {round}");
        }
        assert_eq!(ws.read().unwrap(), Message::Text("still here".into()));
        ws.send_text("bye").unwrap();
        while ws.read().is_ok() {}
    });
    let mut client = connect(&format!("ws://{addr}/")).unwrap();
    for _ in 0..3 {
        // The client's read answers each Ping on its own (§5.5.2).
        assert_eq!(client.read().unwrap(), Message::Ping(vec![]));
    }
    client.send_text("still here").unwrap();
    loop {
        match client.read().unwrap() {
            Message::Ping(_) => {}
            other => {
                assert_eq!(other, Message::Text("bye".into()));
                break;
            }
        }
    }
    client.close(rfc6455::CloseCode::NORMAL, "").unwrap();
    drop(client);
    server.join().unwrap();
}

#[test]
fn idle_timeout_ends_a_silent_peer_with_1001() {
    let timers = Timers { idle: Some(ms(200)), ..Timers::default() };
    let (addr, server) = serve(timers, |mut ws| {
        assert_eq!(ws.read().unwrap(), Message::Text("one".into()));
        let err = ws.read().unwrap_err();
        assert!(matches!(err, Error::TimedOut(Deadline::Idle)), "{err}");
    });
    let mut client = raw_client(addr);
    let mut frame = Vec::new();
    encode_frame(&mut frame, true, 0, OpCode::Text, b"one", Some([9, 8, 7, 6]));
    client.write_all(&frame).unwrap();
    let frames = frames_until_eof(&mut client);
    drop(client);
    assert_eq!(frames, [(OpCode::Close, 1001u16.to_be_bytes().to_vec())]);
    server.join().unwrap();
}

#[test]
fn keepalive_on_a_split_connection_is_sent_by_the_reader_alone() {
    let (addr, server) = serve(keepalive(100, 200), |ws| {
        let (mut reader, _writer) = ws.split().unwrap();
        // The writer does nothing: the reader sends the Ping, then the Close of the failure.
        let err = reader.read().unwrap_err();
        assert!(matches!(err, Error::TimedOut(Deadline::Keepalive)), "{err}");
    });
    let frames = frames_until_eof(&mut raw_client(addr));
    assert_eq!(frames, [(OpCode::Ping, vec![]), (OpCode::Close, 1011u16.to_be_bytes().to_vec())]);
    server.join().unwrap();
}
