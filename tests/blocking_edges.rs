//! The blocking layer at its edges: writes that time out, replies that cannot be written, limits
//! smaller than a socket read. Each test runs a real loopback connection in which one peer
//! stops reading on purpose, and checks that no message is lost and no corrupt byte reaches the
//! wire. Every wait is bounded by a timeout; no assertion depends on how fast the machine is.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use rfc6455::blocking::{ClientConfig, Server, ServerConfig, Timeouts, connect, connect_with};
use rfc6455::frame::OpCode;
use rfc6455::frame::encoder::encode_frame;
use rfc6455::{Delivery, Error, Limits, Message, MessageKind};

/// Upper bound on any wait of a test that succeeds.
const LIMIT: Duration = Duration::from_secs(20);

/// Large enough to fill both kernel socket buffers of a loopback connection several times over,
/// so a peer that does not read makes the writer wait for certain.
const HUGE: usize = 32 << 20;

/// Byte `i` of every large payload: a pattern in which a misplaced byte shows.
fn pattern(i: usize) -> u8 {
    (i % 251) as u8
}

fn huge_payload() -> Vec<u8> {
    (0..HUGE).map(pattern).collect()
}

/// Timeouts with a short write timeout, so a peer that stops reading fails a write promptly.
fn short_write_timeout() -> Timeouts {
    Timeouts { write: Some(Duration::from_millis(500)), read: Some(LIMIT), ..Timeouts::default() }
}

fn server_with(timeouts: Timeouts) -> (Server, SocketAddr) {
    let server = Server::bind("127.0.0.1:0").expect("bind");
    let addr = server.local_addr().expect("addr");
    (server.with_config(ServerConfig { timeouts, ..ServerConfig::default() }), addr)
}

/// The raw socket of a client connected to `addr` with the crate's own handshake.
fn raw_client(addr: SocketAddr) -> TcpStream {
    let ws = connect(&format!("ws://{addr}/")).expect("connect");
    let (stream, _conn) = ws.into_parts();
    let sock = stream.tcp_stream().try_clone().expect("clone");
    sock.set_read_timeout(Some(LIMIT)).expect("timeout");
    sock
}

/// `Ok` or `Err(` and the error's message `)`, to pass between threads and assert on.
fn outcome(result: Result<(), Error>) -> String {
    match result {
        Ok(()) => "Ok".into(),
        Err(e) => format!("Err({e})"),
    }
}

/// A masked client frame.
fn client_frame(opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(&mut out, true, 0, opcode, payload, Some([1, 2, 3, 4]));
    out
}

/// Everything the peer receives until it closes or stays silent for `quiet`.
fn drain(mut sock: TcpStream, quiet: Duration) -> Vec<u8> {
    sock.set_read_timeout(Some(quiet)).expect("timeout");
    let mut all = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match sock.read(&mut buf) {
            Ok(0) | Err(_) => return all,
            Ok(n) => all.extend_from_slice(&buf[..n]),
        }
    }
}

/// Check that `bytes` is a valid stream of server frames (RFC 6455 §5.2): every header well
/// formed, unmasked, no reserved bits or opcodes; data payloads following [`pattern`] across
/// messages and fragments. Only the very last frame may be cut short (the connection ended
/// there); nothing may follow a frame that is not complete. Returns how many data payload
/// bytes arrived and the control frames seen.
fn check_frame_stream(bytes: &[u8]) -> (usize, Vec<(u8, Vec<u8>)>) {
    let mut pos = 0;
    let mut data = 0;
    let mut controls = Vec::new();
    while pos < bytes.len() {
        let head = &bytes[pos..];
        if head.len() < 2 {
            break; // a header cut short at the very end
        }
        assert_eq!(head[0] & 0x70, 0, "reserved bits set at byte {pos}: the stream is corrupt");
        let opcode = head[0] & 0x0f;
        assert!(matches!(opcode, 0 | 1 | 2 | 8 | 9 | 10), "opcode {opcode} at byte {pos}: the stream is corrupt");
        assert_eq!(head[1] & 0x80, 0, "a masked server frame at byte {pos}: the stream is corrupt");
        let (len, header_len) = match head[1] & 0x7f {
            126 if head.len() >= 4 => (u16::from_be_bytes([head[2], head[3]]) as usize, 4),
            127 if head.len() >= 10 => {
                let mut be = [0u8; 8];
                be.copy_from_slice(&head[2..10]);
                (u64::from_be_bytes(be) as usize, 10)
            }
            126 | 127 => break, // a header cut short at the very end
            short => (short as usize, 2),
        };
        let payload = &head[header_len.min(head.len())..];
        let complete = payload.len() >= len;
        let payload = &payload[..len.min(payload.len())];
        if opcode >= 8 {
            assert!(len <= 125, "control frame of {len} bytes at byte {pos}: the stream is corrupt");
            if complete {
                controls.push((opcode, payload.to_vec()));
            }
        } else {
            for (i, &b) in payload.iter().enumerate() {
                assert_eq!(
                    b,
                    pattern(data + i),
                    "payload byte {} of the data is wrong: the stream is corrupt",
                    data + i
                );
            }
            data += payload.len();
        }
        if !complete {
            assert_eq!(pos + header_len + payload.len(), bytes.len(), "bytes follow a frame that was cut short");
        }
        pos += header_len + len;
    }
    (data, controls)
}

/// RFC 6455 §5.2 and §5.4: frames are contiguous on the wire; once a write timed out part-way
/// through a frame, no other frame (the writer's next message, or the reader's automatic Pong)
/// may follow it, or the peer parses garbage as a frame.
#[test]
fn s5_2_a_split_writer_that_times_out_sends_no_frame_after_the_partial_one() {
    let (server, addr) = server_with(short_write_timeout());
    let (to_test, from_server) = mpsc::channel::<String>();
    let (to_server, from_test) = mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let ws = server.accept().unwrap().handshake().unwrap();
        let (mut reader, writer) = ws.split().unwrap();
        let reads = thread::spawn(move || {
            let mut seen = Vec::new();
            for _ in 0..10 {
                match reader.read() {
                    Ok(message) => seen.push(format!("{message:?}")),
                    Err(e) => {
                        seen.push(format!("error: {e}"));
                        break;
                    }
                }
            }
            (reader, seen)
        });
        let first = writer.send_binary(&huge_payload());
        to_test.send(outcome(first)).unwrap();
        // The peer reads again now: nothing may follow the partial frame.
        from_test.recv_timeout(LIMIT).unwrap();
        let after = writer.send_binary(&[pattern(0)]);
        let ping = writer.ping(b"after");
        to_test.send(outcome(after)).unwrap();
        to_test.send(outcome(ping)).unwrap();
        from_test.recv_timeout(LIMIT).unwrap();
        let (reader, seen) = reads.join().unwrap();
        drop((reader, writer));
        seen
    });

    let sock = raw_client(addr);
    let first = from_server.recv_timeout(LIMIT).unwrap();
    assert!(first.starts_with("Err("), "the write to a peer that does not read must time out: {first}");
    // A Ping whose automatic Pong must not be written after the partial frame either.
    let mut writer = sock.try_clone().unwrap();
    let _ = writer.write_all(&client_frame(OpCode::Ping, b"pong me"));
    let draining = thread::spawn(move || drain(sock, Duration::from_secs(2)));
    to_server.send(()).unwrap();
    let after = from_server.recv_timeout(LIMIT).unwrap();
    let ping = from_server.recv_timeout(LIMIT).unwrap();
    let received = draining.join().unwrap();
    to_server.send(()).unwrap();
    let seen = server.join().unwrap();

    let (data, controls) = check_frame_stream(&received);
    assert!(data < HUGE, "the huge message cannot have arrived whole ({data} bytes)");
    assert!(controls.is_empty(), "no control frame may follow the partial one: {controls:?}");
    assert!(after.starts_with("Err("), "a send after the failed write must fail: {after}");
    assert!(ping.starts_with("Err("), "a ping after the failed write must fail: {ping}");
    assert!(after.contains("part-way"), "the error must say that the connection failed mid-frame: {after}");
    let last = seen.last().unwrap();
    assert!(last.starts_with("error:"), "the reader must end with the failure too: {seen:?}");
}

/// A split Reader that took a Ping from the peer returns it even when the Pong it owes cannot be
/// written (the writer's write failed first): a message taken from the peer is never dropped.
#[test]
fn split_reader_returns_the_ping_it_took_when_its_pong_cannot_be_written() {
    let (server, addr) = server_with(short_write_timeout());
    let (to_test, from_server) = mpsc::channel::<String>();
    let server = thread::spawn(move || {
        let ws = server.accept().unwrap().handshake().unwrap();
        let (mut reader, writer) = ws.split().unwrap();
        let sending = thread::spawn(move || {
            let result = outcome(writer.send_binary(&huge_payload()));
            (writer, result)
        });
        let mut seen = Vec::new();
        for _ in 0..10 {
            match reader.read() {
                Ok(message) => seen.push(format!("{message:?}")),
                Err(e) => {
                    seen.push(format!("error: {e}"));
                    break;
                }
            }
        }
        let (writer, sent) = sending.join().unwrap();
        to_test.send(sent).unwrap();
        to_test.send(seen.join(" | ")).unwrap();
        drop((reader, writer));
    });

    let mut sock = raw_client(addr);
    // Wait until the huge message is on its way (the writer is inside its write), then send a
    // Ping the reader must answer while the writer blocks.
    sock.peek(&mut [0u8; 1]).unwrap();
    sock.write_all(&client_frame(OpCode::Ping, b"pong me")).unwrap();
    let sent = from_server.recv_timeout(LIMIT).unwrap();
    let seen = from_server.recv_timeout(LIMIT).unwrap();
    drop(sock);
    server.join().unwrap();
    assert!(sent.starts_with("Err("), "the write to a peer that does not read must time out: {sent}");
    assert!(seen.starts_with("Ping([112, 111, 110, 103, 32, 109, 101])"), "the Ping was lost: {seen}");
    assert!(seen.contains("error:") && seen.contains("part-way"), "the reader must then report the failure: {seen}");
}

/// `read` hands out the message it took even when writing what is owed afterwards fails (an
/// earlier send timed out and its bytes are still queued): the failure is reported by the next
/// call, and the following message still arrives.
#[test]
fn read_returns_the_message_it_took_when_the_flush_after_it_fails() {
    let (server, addr) = server_with(Timeouts::default());
    let (to_server, from_test) = mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let ws = server.accept().unwrap().handshake().unwrap();
        let (stream, mut conn) = ws.into_parts();
        let mut sock = stream.tcp_stream().try_clone().unwrap();
        // Three messages in one write: the client's first read takes them all.
        for text in ["x", "a", "b"] {
            conn.send_text(text).unwrap();
        }
        sock.write_all(conn.output()).unwrap();
        // Read nothing until the test is over.
        from_test.recv_timeout(LIMIT).unwrap();
    });
    let config = ClientConfig { timeouts: short_write_timeout(), ..ClientConfig::default() };
    let (mut ws, _) = connect_with(&format!("ws://{addr}/"), &config).unwrap();
    assert_eq!(ws.read().unwrap(), Message::Text("x".into()));
    assert!(ws.send_binary(&huge_payload()).is_err(), "the server does not read: the send must time out");

    let first = ws.read();
    assert!(matches!(first, Ok(Message::Text(ref t)) if t == "a"), "the message taken was lost: {first:?}");
    // The failed flush is reported next, then the next message still arrives.
    assert!(ws.read().is_err(), "the flush failure must be reported");
    assert_eq!(ws.read().unwrap(), Message::Text("b".into()));
    to_server.send(()).unwrap();
    server.join().unwrap();
}

/// `respond_batch` reports how many events it handed out even when writing the replies fails;
/// the failure comes with the next call.
#[test]
fn respond_batch_reports_the_events_it_handled_when_the_write_fails() {
    let (server, addr) = server_with(Timeouts::default());
    let (to_server, from_test) = mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let ws = server.accept().unwrap().handshake().unwrap();
        let (stream, mut conn) = ws.into_parts();
        let mut sock = stream.tcp_stream().try_clone().unwrap();
        for text in ["x", "a", "b"] {
            conn.send_text(text).unwrap();
        }
        sock.write_all(conn.output()).unwrap();
        from_test.recv_timeout(LIMIT).unwrap();
    });
    let config = ClientConfig { timeouts: short_write_timeout(), ..ClientConfig::default() };
    let (mut ws, _) = connect_with(&format!("ws://{addr}/"), &config).unwrap();
    assert_eq!(ws.read().unwrap(), Message::Text("x".into()));
    assert!(ws.send_binary(&huge_payload()).is_err(), "the server does not read: the send must time out");

    let mut handed = Vec::new();
    let batch = ws.respond_batch(|event| {
        handed.push(format!("{event:?}"));
        None
    });
    assert_eq!(handed.len(), 2, "{handed:?}");
    assert!(matches!(batch, Ok(2)), "the batch handled two events: {batch:?}");
    assert!(ws.respond_batch(|_| None).is_err(), "the write failure must be reported");
    to_server.send(()).unwrap();
    server.join().unwrap();
}

/// A split Reader reads no more than `Limits::max_input_buffer` lets it hold: with a limit far
/// below one socket read, every message still arrives whole and in order.
#[test]
fn split_reader_honours_a_small_max_input_buffer() {
    let server = Server::bind("127.0.0.1:0").expect("bind");
    let addr = server.local_addr().expect("addr");
    let mut config = ServerConfig::default();
    let limits = Limits { max_input_buffer: 1024, ..Limits::default() };
    config.config = config.config.with_limits(limits).unwrap();
    let server = server.with_config(config);
    let server = thread::spawn(move || {
        let ws = server.accept().unwrap().handshake().unwrap();
        let (mut reader, _writer) = ws.split().unwrap();
        let mut got = Vec::new();
        while let Ok(message) = reader.read() {
            match message {
                Message::Binary(data) => got.push(data),
                Message::Close(..) => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        got
    });
    let mut ws = connect(&format!("ws://{addr}/")).unwrap();
    let messages: Vec<Vec<u8>> = (0..20u8).map(|i| vec![i; 10_000 + usize::from(i)]).collect();
    for message in &messages {
        ws.send_binary(message).unwrap();
    }
    ws.close(rfc6455::CloseCode::NORMAL, "").unwrap();
    while ws.read().is_ok() {}
    let got = server.join().unwrap();
    assert_eq!(got.len(), messages.len(), "messages were lost");
    assert!(got == messages, "a message arrived damaged");
}

/// Size of each streamed message, and of the pieces it is sent in.
const STREAMED: usize = 16 << 20;
const PIECE: usize = 64 << 10;

/// Send `STREAMED` bytes of [`pattern`] as one fragmented message (RFC 6455 §5.4).
fn stream_out(mut send: impl FnMut(&[u8], bool) -> Result<(), Error>) {
    let mut piece = vec![0u8; PIECE];
    let mut sent = 0;
    while sent < STREAMED {
        let n = PIECE.min(STREAMED - sent);
        for (i, b) in piece[..n].iter_mut().enumerate() {
            *b = pattern(sent + i);
        }
        sent += n;
        send(&piece[..n], sent == STREAMED).unwrap();
    }
}

/// Receive one streamed message with `read_with` and check every byte against [`pattern`]
/// without keeping it: returns its length.
fn stream_in<F>(mut read_with: F) -> usize
where
    F: FnMut(&mut dyn FnMut(rfc6455::Event<'_>) -> bool) -> Result<bool, Error>,
{
    let mut got = 0;
    loop {
        let last = read_with(&mut |event| match event {
            rfc6455::Event::Fragment { kind: MessageKind::Binary, data, is_last } => {
                for (i, &b) in data.iter().enumerate() {
                    assert_eq!(b, pattern(got + i), "streamed byte {} is wrong", got + i);
                }
                got += data.len();
                is_last
            }
            other => panic!("unexpected {other:?}"),
        })
        .unwrap();
        if last {
            return got;
        }
    }
}

/// RFC 6455 §5.4: one connection streams a large message each way at once, on the whole
/// connection (`send_fragment` and `read_with` on one thread) and on the split one (`Writer`
/// and `Reader` on two), with nothing of either message held in memory.
#[test]
fn s5_4_large_messages_stream_both_ways_on_the_whole_and_the_split_connection() {
    let server = Server::bind("127.0.0.1:0").expect("bind");
    let addr = server.local_addr().expect("addr");
    let mut config = ServerConfig::default();
    config.config.delivery = Delivery::Streaming;
    let server = server.with_config(config);
    let server = thread::spawn(move || {
        let ws = server.accept().unwrap().handshake().unwrap();
        let (mut reader, writer) = ws.split().unwrap();
        let sending = thread::spawn(move || {
            stream_out(|piece, last| writer.send_fragment(MessageKind::Binary, piece, last));
            writer
        });
        let got = stream_in(|f| reader.read_with(f));
        let writer = sending.join().unwrap();
        writer.close(rfc6455::CloseCode::NORMAL, "").unwrap();
        while reader.read_with(|_| ()).is_ok() {}
        got
    });
    let mut config = ClientConfig::default();
    config.config.delivery = Delivery::Streaming;
    let (mut ws, _) = connect_with(&format!("ws://{addr}/"), &config).unwrap();
    stream_out(|piece, last| ws.send_fragment(MessageKind::Binary, piece, last));
    let got = stream_in(|f| ws.read_with(f));
    assert_eq!(got, STREAMED, "the client received the whole stream");
    assert_eq!(server.join().unwrap(), STREAMED, "the server received the whole stream");
}

/// RFC 6455 §4.1 step 1: a server that answers with anything but 101 refused the handshake; the
/// client gets the whole answer (status, headers, body) as a typed error, to show or act on.
#[test]
fn s4_1_a_refused_client_gets_the_status_headers_and_body() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let body = "sign in first: ".repeat(40);
    let answer = format!(
        "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let server = thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        let mut request = [0u8; 4096];
        let _ = sock.read(&mut request).unwrap();
        // The head and the body in two writes: the client reads the body to its length.
        let split = answer.find("\r\n\r\n").unwrap() + 4;
        sock.write_all(&answer.as_bytes()[..split]).unwrap();
        thread::sleep(Duration::from_millis(50));
        sock.write_all(&answer.as_bytes()[split..]).unwrap();
        // Keep the connection open: the body ends at its Content-Length, not at EOF.
        let _ = sock.read(&mut request);
    });
    let err = connect(&format!("ws://{addr}/private")).unwrap_err();
    let Error::Handshake(rfc6455::HandshakeError::Refused(refusal)) = err else { panic!("not a refusal: {err}") };
    assert_eq!(refusal.status(), 401);
    assert_eq!(refusal.response.header("WWW-Authenticate"), Some(&b"Bearer"[..]));
    assert_eq!(refusal.body_text(), Some(body.as_str()));
    server.join().unwrap();
}

/// The body of a refusal is bounded by `Limits::max_handshake_size`, however much the server
/// sends.
#[test]
fn a_refusal_body_is_cut_at_max_handshake_size() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        let mut request = [0u8; 4096];
        let _ = sock.read(&mut request).unwrap();
        let _ = sock.write_all(b"HTTP/1.1 500 Oops\r\n\r\n");
        let _ = sock.write_all(&vec![b'x'; 1 << 20]);
    });
    let mut config = ClientConfig::default();
    let limits = Limits { max_handshake_size: 4096, ..Limits::default() };
    config.config = config.config.with_limits(limits).unwrap();
    let err = connect_with(&format!("ws://{addr}/"), &config).map(|_| ()).unwrap_err();
    let Error::Handshake(rfc6455::HandshakeError::Refused(refusal)) = err else { panic!("not a refusal: {err}") };
    assert_eq!(refusal.status(), 500);
    assert_eq!(refusal.body.len(), 4096);
    server.join().unwrap();
}

/// RFC 6455 §4.2.1, §4.2.2: after the handshake, the server-side WebSocket still knows what the
/// client asked for (path and query, headers) and which subprotocol was chosen; so does the
/// client.
#[test]
fn s4_2_2_the_server_side_websocket_keeps_the_request_and_the_chosen_subprotocol() {
    let server = Server::bind("127.0.0.1:0").expect("bind");
    let addr = server.local_addr().expect("addr");
    let server = thread::spawn(move || {
        let ws = server
            .accept()
            .unwrap()
            .handshake_with(|_| rfc6455::blocking::Decision::Accept {
                subprotocol: Some("chat.v2".into()),
                headers: Vec::new(),
            })
            .unwrap();
        let request = ws.request().expect("the server keeps the request");
        let seen =
            (request.path.clone(), request.header("X-Token").map(<[u8]>::to_vec), ws.subprotocol().map(str::to_owned));
        drop(ws);
        seen
    });
    let mut config = ClientConfig::default();
    config.options.subprotocols = vec!["chat.v1".into(), "chat.v2".into()];
    config.options.extra_headers = vec![("X-Token".into(), "s3cret".into())];
    let (ws, _) = connect_with(&format!("ws://{addr}/rooms/7?since=42"), &config).unwrap();
    assert_eq!(ws.subprotocol(), Some("chat.v2"));
    assert!(ws.request().is_none(), "a client has no request to show");
    let (path, token, subprotocol) = server.join().unwrap();
    assert_eq!(path, "/rooms/7?since=42");
    assert_eq!(token.as_deref(), Some(&b"s3cret"[..]));
    assert_eq!(subprotocol.as_deref(), Some("chat.v2"));
}

/// A `ShutdownHandle` ends `Server::incoming` from another thread while it is blocked waiting
/// for a connection.
#[test]
fn a_shutdown_handle_ends_incoming_while_it_waits() {
    let server = Server::bind("127.0.0.1:0").expect("bind");
    let handle = server.shutdown_handle().unwrap();
    let (done, finished) = mpsc::channel();
    let serving = thread::spawn(move || {
        let accepted = server.incoming().count();
        done.send(accepted).unwrap();
        // Later calls fail at once rather than block.
        server.accept().map(|_| ()).unwrap_err().kind()
    });
    thread::sleep(Duration::from_millis(100));
    assert!(!handle.is_shutdown());
    handle.shutdown();
    assert_eq!(finished.recv_timeout(LIMIT).expect("incoming did not end"), 0);
    assert_eq!(serving.join().unwrap(), std::io::ErrorKind::ConnectionAborted);
}

/// `Writer::shutdown` unblocks a split Reader waiting for a message that will never come, with
/// no socket clone taken by the application; both halves then report the shutdown.
#[test]
fn writer_shutdown_unblocks_a_reader_blocked_in_read() {
    let (server, addr) = server_with(Timeouts::default());
    let (to_server, from_test) = mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let _ws = server.accept().unwrap().handshake().unwrap();
        // Silent until the test is over.
        let _ = from_test.recv_timeout(LIMIT);
    });
    let (mut reader, writer) = connect(&format!("ws://{addr}/")).unwrap().split().unwrap();
    let (done, finished) = mpsc::channel();
    let reading = thread::spawn(move || {
        let result = reader.read();
        done.send(format!("{result:?}")).unwrap();
    });
    thread::sleep(Duration::from_millis(100));
    writer.shutdown();
    let result = finished.recv_timeout(LIMIT).expect("the reader stayed blocked");
    assert!(result.contains("ConnectionAborted"), "{result}");
    assert!(
        matches!(writer.send_text("late"), Err(Error::Io(ref e)) if e.kind() == std::io::ErrorKind::ConnectionAborted)
    );
    reading.join().unwrap();
    to_server.send(()).unwrap();
    server.join().unwrap();
}

/// `Writer::send` takes any message, and `Writer::pong` sends an unsolicited Pong (§5.5.3).
#[test]
fn writer_sends_any_message_and_unsolicited_pongs() {
    let (server, addr) = server_with(Timeouts::default());
    let server = thread::spawn(move || {
        let mut ws = server.accept().unwrap().handshake().unwrap();
        let mut got = Vec::new();
        while let Ok(message) = ws.read() {
            got.push(message);
        }
        got
    });
    let (mut reader, writer) = connect(&format!("ws://{addr}/")).unwrap().split().unwrap();
    writer.send(&Message::Text("one".into())).unwrap();
    writer.send(&Message::Binary(vec![2])).unwrap();
    writer.pong(b"heartbeat").unwrap();
    writer.send(&Message::Close(Some(rfc6455::CloseCode::NORMAL), "bye".into())).unwrap();
    while reader.read().is_ok() {}
    let got = server.join().unwrap();
    assert_eq!(
        got,
        vec![
            Message::Text("one".into()),
            Message::Binary(vec![2]),
            Message::Pong(b"heartbeat".to_vec()),
            Message::Close(Some(rfc6455::CloseCode::NORMAL), "bye".into()),
        ]
    );
}

/// `Debug` of the blocking types shows lengths and capacities, never the bytes: with megabytes
/// queued it stays one short line.
#[test]
fn debug_of_a_websocket_with_megabytes_queued_stays_short() {
    let (server, addr) = server_with(Timeouts::default());
    let (to_server, from_test) = mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let _ws = server.accept().unwrap().handshake().unwrap();
        let _ = from_test.recv_timeout(LIMIT);
    });
    let config = ClientConfig { timeouts: short_write_timeout(), ..ClientConfig::default() };
    let (mut ws, _) = connect_with(&format!("ws://{addr}/"), &config).unwrap();
    assert!(ws.send_binary(&huge_payload()).is_err(), "the server does not read: the send must time out");
    assert!(ws.connection().output().len() > 1 << 20, "megabytes stay queued");
    let debug = format!("{ws:?}");
    assert!(debug.len() < 600, "{} bytes: {}", debug.len(), &debug[..600.min(debug.len())]);
    assert!(debug.contains("output_len"), "{debug}");
    let (reader, writer) = ws.split().unwrap();
    for debug in [format!("{reader:?}"), format!("{writer:?}")] {
        assert!(debug.len() < 600, "{} bytes: {}", debug.len(), &debug[..600.min(debug.len())]);
    }
    to_server.send(()).unwrap();
    server.join().unwrap();
}
