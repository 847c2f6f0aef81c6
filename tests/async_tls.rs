//! `wss://` on the async layer (features `tokio` and `tls`): the async client and server over
//! tokio-rustls with certificates made at test time by a local CA, messages and a split
//! connection over TLS, certificate failures named by their reason (as in the blocking layer),
//! and a plain request on the TLS port answered with 400.
#![cfg(all(feature = "tokio", feature = "tls"))]

mod async_support;
#[path = "../examples/common/certs.rs"]
mod certs;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use async_support::LIMIT;
use certs::LocalCa;
use rfc6455::blocking::tls as tls_config;
use rfc6455::tokio::{ClientConfig, ServerConfig, accept, connect_with, tls};
use rfc6455::{CloseCode, Error, Message, TlsErrorKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

fn ca() -> &'static LocalCa {
    static CA: OnceLock<LocalCa> = OnceLock::new();
    CA.get_or_init(|| LocalCa::new("rfc6455 async test CA"))
}

fn server_tls(names: &[&str]) -> Arc<rustls::ServerConfig> {
    let issued = ca().issue(names);
    tls_config::server_config_from_pem(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes()).unwrap()
}

fn trusting_client() -> ClientConfig {
    ClientConfig {
        tls: Some(tls_config::client_config_with_roots(ca().cert_pem().as_bytes()).unwrap()),
        ..ClientConfig::default()
    }
}

/// A `wss://` echo server for one connection; returns its address and the outcome of its TLS
/// handshake.
async fn echo_server(tls: Arc<rustls::ServerConfig>) -> (SocketAddr, tokio::task::JoinHandle<Result<(), Error>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        let stream = tls::accept(sock, tls).await?;
        let (mut reader, mut writer) = accept(stream, &ServerConfig::default()).await?.split();
        // The split halves over one TLS session: the reader answers Pings itself.
        while let Ok(message) = reader.read().await {
            if message.is_data() {
                writer.send(message).await?;
            }
        }
        Ok(())
    });
    (addr, handle)
}

#[tokio::test]
async fn wss_messages_and_pings_over_split_halves() {
    let (addr, server) = echo_server(server_tls(&["localhost", "127.0.0.1"])).await;
    let (mut ws, _) = connect_with(&format!("wss://localhost:{}/", addr.port()), &trusting_client()).await.unwrap();
    assert!(ws.get_ref().is_tls());
    for size in [0usize, 1, 125, 126, 65_535, 65_536, 1 << 20] {
        let data: Vec<u8> = (0..size).map(|i| i as u8).collect();
        ws.send_binary(&data).await.unwrap();
        assert_eq!(timeout(LIMIT, ws.read()).await.unwrap().unwrap(), Message::Binary(data));
    }
    ws.ping(b"tls").await.unwrap();
    assert_eq!(timeout(LIMIT, ws.read()).await.unwrap().unwrap(), Message::Pong(b"tls".to_vec()));
    timeout(LIMIT, ws.close(CloseCode::NORMAL, "")).await.unwrap().unwrap();
    timeout(LIMIT, server).await.unwrap().unwrap().unwrap();
}

#[tokio::test]
async fn an_untrusted_certificate_is_named_unknown_issuer() {
    let (addr, server) = echo_server(server_tls(&["localhost"])).await;
    // Mozilla's roots do not include the test CA.
    let result = connect_with(&format!("wss://localhost:{}/", addr.port()), &ClientConfig::default()).await;
    assert!(matches!(&result, Err(Error::Tls(e)) if e.kind == TlsErrorKind::UnknownIssuer), "{:?}", result.err());
    assert!(timeout(LIMIT, server).await.unwrap().unwrap().is_err());
}

#[tokio::test]
async fn a_certificate_for_another_name_is_named_wrong_host_name() {
    let (addr, server) = echo_server(server_tls(&["other.example"])).await;
    let result = connect_with(&format!("wss://localhost:{}/", addr.port()), &trusting_client()).await;
    assert!(matches!(&result, Err(Error::Tls(e)) if e.kind == TlsErrorKind::WrongHostName), "{:?}", result.err());
    assert!(timeout(LIMIT, server).await.unwrap().unwrap().is_err());
}

#[tokio::test]
async fn a_plain_request_on_the_tls_port_gets_400_and_not_tls() {
    let (addr, server) = echo_server(server_tls(&["localhost"])).await;
    let mut sock = TcpStream::connect(addr).await.unwrap();
    sock.write_all(async_support::UPGRADE_REQUEST.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    timeout(LIMIT, sock.read_to_end(&mut answer)).await.unwrap().unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 400 "), "{}", String::from_utf8_lossy(&answer));
    let result = timeout(LIMIT, server).await.unwrap().unwrap();
    assert!(matches!(&result, Err(Error::Tls(e)) if e.kind == TlsErrorKind::NotTls), "{result:?}");
}
