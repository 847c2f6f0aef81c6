//! `wss://` over loopback (feature `tls`): the crate's own client and server with certificates
//! made at test time by a local CA (rcgen). Messages of every kind and size, certificate
//! failures named by their reason, plain and garbage bytes on the TLS port, a TLS handshake
//! dribbled one byte at a time, the handshake timeout, and the reader/writer split over TLS.
//! Every test is bounded by timeouts.
#![cfg(feature = "tls")]

#[path = "../examples/common/certs.rs"]
mod certs;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use certs::LocalCa;
use rfc6455::blocking::{ClientConfig, MaybeTlsStream, Server, ServerConfig, Timeouts, WebSocket, connect_with, tls};
use rfc6455::{CloseCode, Error, HandshakeError, Limits, Message, TlsErrorKind};

const LIMIT: Duration = Duration::from_secs(20);
const NAMES: &[&str] = &["localhost", "127.0.0.1"];

/// One CA for the whole test binary, and a good server certificate from it.
fn ca() -> &'static LocalCa {
    static CA: OnceLock<LocalCa> = OnceLock::new();
    CA.get_or_init(|| LocalCa::new("rfc6455 test CA"))
}

fn good_server_tls() -> Arc<rustls::ServerConfig> {
    static CONFIG: OnceLock<Arc<rustls::ServerConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let issued = ca().issue(NAMES);
            tls::server_config_from_pem(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes()).unwrap()
        })
        .clone()
}

fn server_config(tls: Arc<rustls::ServerConfig>) -> ServerConfig {
    let mut config = ServerConfig { tls: Some(tls), ..ServerConfig::default() };
    config.config = config
        .config
        .with_limits(Limits { max_frame_size: 32 << 20, max_message_size: 32 << 20, ..Limits::default() })
        .unwrap();
    config
}

/// A client that trusts the test CA.
fn client_config() -> ClientConfig {
    let mut config = ClientConfig {
        tls: Some(tls::client_config_with_roots(ca().cert_pem().as_bytes()).unwrap()),
        timeouts: Timeouts { read: Some(LIMIT), ..Timeouts::default() },
        ..ClientConfig::default()
    };
    config.config = config
        .config
        .with_limits(Limits { max_frame_size: 32 << 20, max_message_size: 32 << 20, ..Limits::default() })
        .unwrap();
    config
}

/// A TLS server on an ephemeral port; `handle` gets the listening server.
fn serve<F>(config: ServerConfig, handle: F) -> (SocketAddr, thread::JoinHandle<()>)
where
    F: FnOnce(Server) + Send + 'static,
{
    let server = Server::bind("127.0.0.1:0").unwrap().with_config(config);
    let addr = server.local_addr().unwrap();
    (addr, thread::spawn(move || handle(server)))
}

fn echo(ws: &mut WebSocket<MaybeTlsStream>) {
    while let Ok(message) = ws.read() {
        if message.is_data() && ws.send(&message).is_err() {
            return;
        }
    }
}

/// Serve `count` connections one after another, echoing; returns each handshake's outcome.
fn echo_server(count: usize) -> (SocketAddr, thread::JoinHandle<Vec<Result<(), Error>>>) {
    let server = Server::bind("127.0.0.1:0").unwrap().with_config(server_config(good_server_tls()));
    let addr = server.local_addr().unwrap();
    let handle = thread::spawn(move || {
        (0..count)
            .map(|_| {
                let mut ws = server.accept().unwrap().handshake()?;
                assert!(ws.get_ref().is_tls());
                echo(&mut ws);
                Ok(())
            })
            .collect()
    });
    (addr, handle)
}

fn tls_kind(result: Result<impl std::fmt::Debug, Error>) -> TlsErrorKind {
    match result {
        Err(Error::Tls(e)) => e.kind,
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

#[test]
fn wss_echoes_text_binary_ping_and_closes() {
    let (addr, server) = echo_server(1);
    let (mut ws, _) = connect_with(&format!("wss://localhost:{}/chat", addr.port()), &client_config()).unwrap();
    assert!(ws.get_ref().is_tls());
    ws.send_text("Hello over TLS").unwrap();
    assert_eq!(ws.read().unwrap(), Message::Text("Hello over TLS".into()));
    ws.send_binary(&[0, 1, 2, 255]).unwrap();
    assert_eq!(ws.read().unwrap(), Message::Binary(vec![0, 1, 2, 255]));
    ws.ping(b"are you there").unwrap();
    assert_eq!(ws.read().unwrap(), Message::Pong(b"are you there".to_vec()));
    ws.close(CloseCode::NORMAL, "bye").unwrap();
    assert!(matches!(ws.read().unwrap(), Message::Close(Some(CloseCode::NORMAL), _)));
    assert!(matches!(ws.read(), Err(Error::Closed)));
    assert!(server.join().unwrap()[0].is_ok());
}

#[test]
fn wss_carries_a_16_mib_message_both_ways() {
    let (addr, server) = echo_server(1);
    let (mut ws, _) = connect_with(&format!("wss://127.0.0.1:{}/", addr.port()), &client_config()).unwrap();
    let big: Vec<u8> = (0..16usize << 20).map(|i| (i * 7 % 251) as u8).collect();
    ws.send_binary(&big).unwrap();
    match ws.read().unwrap() {
        Message::Binary(echoed) => assert!(echoed == big, "the 16 MiB echo differs"),
        other => panic!("unexpected {other:?}"),
    }
    ws.close(CloseCode::NORMAL, "").unwrap();
    while ws.read().is_ok() {}
    assert!(server.join().unwrap()[0].is_ok());
}

#[test]
fn wss_by_ip_address_checks_the_ip_in_the_certificate() {
    let (addr, server) = echo_server(1);
    let (mut ws, _) = connect_with(&format!("wss://{addr}/"), &client_config()).unwrap();
    ws.send_text("by IP").unwrap();
    assert_eq!(ws.read().unwrap(), Message::Text("by IP".into()));
    ws.close(CloseCode::NORMAL, "").unwrap();
    while ws.read().is_ok() {}
    server.join().unwrap();
}

/// A server with `issued` as its certificate that runs one handshake and returns its outcome.
fn one_handshake(issued: &certs::Issued) -> (SocketAddr, thread::JoinHandle<Result<(), Error>>) {
    let tls = tls::server_config_from_pem(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes()).unwrap();
    let server = Server::bind("127.0.0.1:0").unwrap().with_config(server_config(tls));
    let addr = server.local_addr().unwrap();
    (addr, thread::spawn(move || server.accept().unwrap().handshake().map(|_| ())))
}

#[test]
fn wrong_host_name_is_named() {
    let (addr, server) = one_handshake(&ca().issue(&["other.example"]));
    let err = connect_with(&format!("wss://localhost:{}/", addr.port()), &client_config()).map(|_| ()).unwrap_err();
    assert!(err.to_string().contains("wrong host name"), "{err}");
    assert_eq!(tls_kind(Err::<(), _>(err)), TlsErrorKind::WrongHostName);
    // The client's alert reaches the server, which says so.
    assert_eq!(tls_kind(server.join().unwrap()), TlsErrorKind::PeerAlert);
}

#[test]
fn unknown_issuer_is_named() {
    // Signed by another CA than the one the client trusts.
    let (addr, server) = one_handshake(&LocalCa::new("someone else's CA").issue(NAMES));
    let result = connect_with(&format!("wss://localhost:{}/", addr.port()), &client_config());
    assert_eq!(tls_kind(result), TlsErrorKind::UnknownIssuer);
    assert_eq!(tls_kind(server.join().unwrap()), TlsErrorKind::PeerAlert);
}

#[test]
fn self_signed_certificate_is_an_unknown_issuer() {
    let (addr, server) = one_handshake(&certs::self_signed(NAMES));
    let err = connect_with(&format!("wss://localhost:{}/", addr.port()), &client_config()).map(|_| ()).unwrap_err();
    assert!(err.to_string().contains("unknown issuer"), "{err}");
    let _ = server.join();
}

#[test]
fn expired_certificate_is_named() {
    let (addr, server) = one_handshake(&ca().issue_expired(NAMES));
    let err = connect_with(&format!("wss://localhost:{}/", addr.port()), &client_config()).map(|_| ()).unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
    assert_eq!(tls_kind(Err::<(), _>(err)), TlsErrorKind::Expired);
    let _ = server.join();
}

#[test]
fn default_roots_do_not_trust_the_test_ca() {
    // Without a custom root, Mozilla's root set is used: a local CA is unknown to it.
    let (addr, server) = one_handshake(&ca().issue(NAMES));
    let config = ClientConfig::default();
    let result = connect_with(&format!("wss://localhost:{}/", addr.port()), &config);
    assert_eq!(tls_kind(result), TlsErrorKind::UnknownIssuer);
    let _ = server.join();
}

#[test]
fn plain_client_on_the_tls_port_is_refused_and_the_server_goes_on() {
    let (addr, server) = echo_server(3);
    // A ws:// client: the server answers 400 in plain text.
    let err = connect_with(&format!("ws://{addr}/"), &client_config()).map(|_| ()).unwrap_err();
    assert!(matches!(err, Error::Handshake(HandshakeError::Refused(ref r)) if r.status() == 400), "{err}");
    // Garbage: dropped.
    let mut raw = TcpStream::connect(addr).unwrap();
    raw.set_read_timeout(Some(LIMIT)).unwrap();
    raw.write_all(&[0x01, 0x02, 0x03, 0xff, 0x00, 0x42]).unwrap();
    let mut rest = Vec::new();
    let _ = raw.read_to_end(&mut rest);
    assert!(rest.is_empty(), "garbage got an answer: {rest:?}");
    // And a wss:// client is still served.
    let (mut ws, _) = connect_with(&format!("wss://localhost:{}/", addr.port()), &client_config()).unwrap();
    ws.send_text("still here").unwrap();
    assert_eq!(ws.read().unwrap(), Message::Text("still here".into()));
    ws.close(CloseCode::NORMAL, "").unwrap();
    while ws.read().is_ok() {}

    let outcomes = server.join().unwrap();
    for outcome in &outcomes[..2] {
        match outcome {
            Err(Error::Tls(e)) => {
                assert_eq!(e.kind, TlsErrorKind::NotTls);
                assert!(e.to_string().contains("does not speak TLS"), "{e}");
            }
            other => panic!("expected NotTls, got {other:?}"),
        }
    }
    assert!(outcomes[2].is_ok());
}

#[test]
fn an_http_request_on_the_tls_port_gets_a_plain_400() {
    let (addr, server) = echo_server(1);
    let mut raw = TcpStream::connect(addr).unwrap();
    raw.set_read_timeout(Some(LIMIT)).unwrap();
    raw.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut answer = String::new();
    raw.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    assert!(answer.contains("wss://"), "{answer}");
    assert!(matches!(&server.join().unwrap()[0], Err(Error::Tls(e)) if e.kind == TlsErrorKind::NotTls));
}

#[test]
fn wss_client_on_a_plain_port_says_so() {
    let server = Server::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let _ = server.accept().unwrap().handshake();
    });
    let result = connect_with(&format!("wss://localhost:{}/", addr.port()), &client_config());
    assert_eq!(tls_kind(result), TlsErrorKind::NotTls);
    handle.join().unwrap();
}

/// A relay between a client and `upstream` that forwards every byte on its own, with `pause`
/// between bytes, in both directions.
fn dribbling_relay(upstream: SocketAddr, pause: Duration) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let Ok((client, _)) = listener.accept() else { return };
        let server = TcpStream::connect(upstream).unwrap();
        for stream in [&client, &server] {
            stream.set_nodelay(true).unwrap();
            stream.set_read_timeout(Some(LIMIT)).unwrap();
        }
        let pipe = |mut from: TcpStream, mut to: TcpStream| {
            thread::spawn(move || {
                let mut byte = [0u8; 1];
                while let Ok(1) = from.read(&mut byte) {
                    if to.write_all(&byte).is_err() {
                        break;
                    }
                    thread::sleep(pause);
                }
                let _ = to.shutdown(Shutdown::Write);
            })
        };
        let up = pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
        let down = pipe(server, client);
        let _ = up.join();
        let _ = down.join();
    });
    addr
}

#[test]
fn tls_handshake_dribbled_one_byte_at_a_time_completes() {
    let (addr, server) = echo_server(1);
    let relay = dribbling_relay(addr, Duration::ZERO);
    let (mut ws, _) = connect_with(&format!("wss://localhost:{}/", relay.port()), &client_config()).unwrap();
    ws.send_text("one byte at a time").unwrap();
    assert_eq!(ws.read().unwrap(), Message::Text("one byte at a time".into()));
    ws.close(CloseCode::NORMAL, "").unwrap();
    while ws.read().is_ok() {}
    assert!(server.join().unwrap()[0].is_ok());
}

#[test]
fn handshake_timeout_covers_a_slow_tls_handshake() {
    // Every byte arrives well within any read timeout, but the whole handshake cannot finish
    // within the 300 ms the server gives it.
    let mut config = server_config(good_server_tls());
    config.timeouts.handshake = Duration::from_millis(300);
    let (addr, server) = serve(config, |server| {
        let pending = server.accept().unwrap();
        let started = Instant::now();
        let err = pending.handshake().map(|_| ()).unwrap_err();
        assert!(matches!(err, Error::Io(ref e) if e.kind() == std::io::ErrorKind::TimedOut), "{err}");
        assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    });
    let relay = dribbling_relay(addr, Duration::from_millis(5));
    let config = ClientConfig { timeouts: Timeouts { handshake: LIMIT, ..Timeouts::default() }, ..client_config() };
    assert!(connect_with(&format!("wss://localhost:{}/", relay.port()), &config).is_err());
    server.join().unwrap();
}

#[test]
fn handshake_timeout_ends_a_silent_tls_client() {
    let mut config = server_config(good_server_tls());
    config.timeouts.handshake = Duration::from_millis(200);
    let (addr, server) = serve(config, |server| {
        let started = Instant::now();
        let err = server.accept().unwrap().handshake().map(|_| ()).unwrap_err();
        assert!(matches!(err, Error::Io(ref e) if e.kind() == std::io::ErrorKind::TimedOut), "{err}");
        assert!(started.elapsed() < Duration::from_secs(3));
    });
    let _silent = TcpStream::connect(addr).unwrap();
    server.join().unwrap();
}

#[test]
fn split_over_tls_is_full_duplex() {
    // Both ends write 4 MiB in 64 KiB messages while reading: with a lock held across a blocking
    // write this would deadlock, as neither side would read.
    const COUNT: usize = 64;
    const SIZE: usize = 64 << 10;
    let (addr, server) = serve(server_config(good_server_tls()), |server| {
        let ws = server.accept().unwrap().handshake().unwrap();
        let (mut reader, writer) = ws.split().unwrap();
        let sender = thread::spawn(move || {
            for i in 0..COUNT {
                writer.send_binary(&vec![i as u8; SIZE]).unwrap();
            }
            writer
        });
        for i in 0..COUNT {
            assert_eq!(reader.read().unwrap(), Message::Binary(vec![!(i as u8); SIZE]));
        }
        let _writer = sender.join().unwrap();
        // The client's ping (answered on the way), then its Close: the reader answers and ends.
        assert_eq!(reader.read().unwrap(), Message::Ping(b"over tls".to_vec()));
        assert!(matches!(reader.read(), Ok(Message::Close(..))));
        assert!(matches!(reader.read(), Err(Error::Closed)));
    });
    let (ws, _) = connect_with(&format!("wss://localhost:{}/", addr.port()), &client_config()).unwrap();
    let (mut reader, writer) = ws.split().unwrap();
    let sender = {
        let writer = writer.clone();
        thread::spawn(move || {
            for i in 0..COUNT {
                writer.send_binary(&vec![!(i as u8); SIZE]).unwrap();
            }
            writer.ping(b"over tls").unwrap();
        })
    };
    let mut got_pong = false;
    let mut received = 0;
    while received < COUNT || !got_pong {
        match reader.read().unwrap() {
            Message::Binary(data) => {
                assert_eq!(data, vec![received as u8; SIZE]);
                received += 1;
            }
            Message::Pong(payload) => {
                assert_eq!(payload, b"over tls");
                got_pong = true;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    sender.join().unwrap();
    writer.close(CloseCode::NORMAL, "done").unwrap();
    assert!(matches!(reader.read(), Ok(Message::Close(Some(CloseCode::NORMAL), _))));
    assert!(matches!(reader.read(), Err(Error::Closed)));
    server.join().unwrap();
}

#[test]
fn split_over_tls_answers_pings_and_sees_the_servers_close() {
    let (addr, server) = serve(server_config(good_server_tls()), |server| {
        let mut ws = server.accept().unwrap().handshake().unwrap();
        ws.ping(b"heartbeat").unwrap();
        assert_eq!(ws.read().unwrap(), Message::Pong(b"heartbeat".to_vec()));
        ws.close(CloseCode::GOING_AWAY, "restart").unwrap();
        while ws.read().is_ok() {}
    });
    let (ws, _) = connect_with(&format!("wss://localhost:{}/", addr.port()), &client_config()).unwrap();
    let (mut reader, _writer) = ws.split().unwrap();
    assert_eq!(reader.read().unwrap(), Message::Ping(b"heartbeat".to_vec()));
    assert_eq!(reader.read().unwrap(), Message::Close(Some(CloseCode::GOING_AWAY), "restart".into()));
    assert!(matches!(reader.read(), Err(Error::Closed)));
    server.join().unwrap();
}

#[test]
fn bad_pem_is_a_config_error() {
    let err = tls::server_config_from_pem(b"not a certificate", b"not a key").unwrap_err();
    assert!(matches!(err, Error::Tls(ref e) if e.kind == TlsErrorKind::Config), "{err}");
    let issued = ca().issue(NAMES);
    let other = ca().issue(NAMES);
    // A key that does not match the certificate.
    let err = tls::server_config_from_pem(issued.cert_pem.as_bytes(), other.key_pem.as_bytes()).unwrap_err();
    assert!(matches!(err, Error::Tls(ref e) if e.kind == TlsErrorKind::Config), "{err}");
    assert!(tls::client_config_with_roots(b"").is_err());
}

#[test]
fn s4_1_client_sends_the_host_as_server_name_indication() {
    // RFC 6455 §4.1: "Clients MUST use the Server Name Indication extension in the TLS
    // handshake". The server reads the name the client sent in its TLS hello.
    let (addr, server) = serve(server_config(good_server_tls()), |server| {
        let mut ws = server.accept().unwrap().handshake().unwrap();
        let sni = match ws.get_ref() {
            MaybeTlsStream::Tls(tls) => match tls.connection() {
                rustls::Connection::Server(session) => session.server_name().map(str::to_owned),
                rustls::Connection::Client(_) => None,
            },
            _ => None,
        };
        assert_eq!(sni.as_deref(), Some("localhost"));
        echo(&mut ws);
    });
    let (mut ws, _) = connect_with(&format!("wss://localhost:{}/", addr.port()), &client_config()).unwrap();
    ws.close(CloseCode::NORMAL, "").unwrap();
    while ws.read().is_ok() {}
    server.join().unwrap();
}
