//! What the demo tests share: start a demo server on a loopback port of its own, connect the
//! crate's client to it with bounded timeouts, read JSON messages, fetch plain HTTP pages.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rfc6455::blocking::{ClientConfig, MaybeTlsStream, Server, Timeouts, WebSocket, connect_with};
use rfc6455::{Error, Message};
use serde_json::Value;

/// Longest any single read in a test may wait: a failing test fails, it does not hang.
pub const READ_TIMEOUT: Duration = Duration::from_secs(3);

/// A demo server running on its own thread.
pub struct Running {
    pub addr: SocketAddr,
    pub thread: JoinHandle<std::io::Result<()>>,
}

/// Bind 127.0.0.1:0 and return the server and its actual address.
pub fn bind() -> (Server, SocketAddr) {
    let server = Server::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = server.local_addr().expect("local address");
    (server, addr)
}

/// Wait for a server thread to finish after a stop, at most `limit`.
pub fn join_within(running: Running, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !running.thread.is_finished() {
        assert!(Instant::now() < deadline, "the server did not stop within {limit:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
    running.thread.join().expect("server thread panicked").expect("server returned an error");
}

/// Connect to `ws://addr{path}` with every wait bounded.
pub fn connect(addr: SocketAddr, path: &str) -> WebSocket<MaybeTlsStream> {
    let timeouts =
        Timeouts { handshake: READ_TIMEOUT, read: Some(READ_TIMEOUT), write: Some(READ_TIMEOUT), close: READ_TIMEOUT };
    let config = ClientConfig { timeouts, ..ClientConfig::default() };
    let (ws, _) = connect_with(&format!("ws://{addr}{path}"), &config).expect("WebSocket handshake");
    ws
}

/// The next text message, parsed as JSON.
pub fn read_json(ws: &mut WebSocket<MaybeTlsStream>) -> Value {
    loop {
        match ws.read().expect("read a message") {
            Message::Text(text) => return serde_json::from_str(&text).expect("the server sends JSON"),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

/// Read JSON messages until one of type `kind`, returning it and the ones before it.
pub fn read_until_type(ws: &mut WebSocket<MaybeTlsStream>, kind: &str) -> (Value, Vec<Value>) {
    let mut before = Vec::new();
    loop {
        let message = read_json(ws);
        if message["type"] == kind {
            return (message, before);
        }
        before.push(message);
    }
}

/// Send a JSON value as a text message.
pub fn send_json(ws: &mut WebSocket<MaybeTlsStream>, value: &Value) {
    ws.send_text(&value.to_string()).expect("send");
}

/// Read until the server's Close, returning its code.
pub fn read_close_code(ws: &mut WebSocket<MaybeTlsStream>) -> Option<u16> {
    loop {
        match ws.read() {
            Ok(Message::Close(code, _)) => return code.map(|code| code.0),
            Ok(_) => {}
            Err(Error::Closed) => return None,
            Err(e) => panic!("expected a Close, got {e}"),
        }
    }
}

/// `GET path` over plain HTTP: the status and the body.
pub fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect_timeout(&addr, READ_TIMEOUT).expect("connect");
    stream.set_read_timeout(Some(READ_TIMEOUT)).expect("read timeout");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("send request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    let status = response.get(9..12).and_then(|digits| digits.parse().ok()).expect("a status line");
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or_default();
    (status, body)
}
