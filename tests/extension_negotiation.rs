//! An extension agreed in the opening handshake is one the connection runs (RFC 6455 §9.1,
//! §5.2): offered by hand, or accepted by hand in a server's hook, it either fails the
//! handshake or works end to end. Never a handshake that completes and a connection that then
//! fails at its first compressed frame. Loopback only, every step bounded by timeouts.

use std::net::SocketAddr;
use std::thread;

use rfc6455::blocking::{ClientConfig, Decision, Server, ServerConfig, connect_with};
use rfc6455::extensions::permessage_deflate::DeflateConfig;
use rfc6455::{Error, Message};

/// A long, compressible text: compressed by any side that runs permessage-deflate.
fn text() -> String {
    "a message long enough to be compressed; ".repeat(40)
}

/// A server that echoes data messages on one connection, accepting through `decide`'s headers.
fn echo_server(config: ServerConfig, answer: Option<&'static str>) -> (SocketAddr, thread::JoinHandle<()>) {
    let server = Server::bind("127.0.0.1:0").expect("bind").with_config(config);
    let addr = server.local_addr().expect("addr");
    let handle = thread::spawn(move || {
        let Ok(pending) = server.accept() else { return };
        let headers = answer.map(|a| vec![("Sec-WebSocket-Extensions".to_string(), a.to_string())]).unwrap_or_default();
        let Ok(mut ws) = pending.handshake_with(|_| Decision::Accept { subprotocol: None, headers }) else { return };
        while let Ok(message) = ws.read() {
            if message.is_data() && ws.send(&message).is_err() {
                return;
            }
        }
    });
    (addr, handle)
}

/// Either the handshake failed, or a compressible message makes the round trip intact.
fn refused_or_works(
    result: Result<
        (rfc6455::blocking::WebSocket<rfc6455::blocking::MaybeTlsStream>, rfc6455::handshake::Response),
        Error,
    >,
) -> Option<Error> {
    match result {
        Err(error) => Some(error),
        Ok((mut ws, _)) => {
            ws.send_text(&text()).expect("send");
            match ws.read() {
                Ok(Message::Text(echo)) => assert_eq!(echo, text()),
                other => panic!("the handshake completed but the connection failed: {other:?}"),
            }
            None
        }
    }
}

#[test]
fn s9_1_permessage_deflate_offered_by_hand_never_completes_a_handshake_it_cannot_run() {
    let server = ServerConfig { deflate: Some(DeflateConfig::default()), ..ServerConfig::default() };
    let (addr, handle) = echo_server(server, None);
    let mut client = ClientConfig::default();
    client.options.extensions = vec!["permessage-deflate; client_max_window_bits".into()];
    let refused = refused_or_works(connect_with(&format!("ws://{addr}/"), &client));
    let error = refused.expect("refused: the client cannot run an extension offered by hand");
    assert!(error.to_string().contains("extension"), "{error}");
    handle.join().unwrap();
}

#[test]
fn s9_1_permessage_deflate_accepted_by_a_servers_hook_is_run() {
    // The server has no DeflateConfig, but its hook accepts the client's offer by hand.
    let (addr, handle) = echo_server(ServerConfig::default(), Some("permessage-deflate"));
    let client = ClientConfig { deflate: Some(DeflateConfig::default()), ..ClientConfig::default() };
    let result = connect_with(&format!("ws://{addr}/"), &client);
    assert!(result.is_ok(), "the answer fits the offer: {:?}", result.err());
    assert!(refused_or_works(result).is_none());
    handle.join().unwrap();
}

#[test]
fn s9_1_an_extension_the_server_cannot_run_is_refused_before_the_101() {
    // The hook accepts an extension this crate does not implement.
    let (addr, handle) = echo_server(ServerConfig::default(), Some("x-unknown"));
    let mut client = ClientConfig::default();
    client.options.extensions = vec!["x-unknown".into()];
    let error = refused_or_works(connect_with(&format!("ws://{addr}/"), &client)).expect("refused");
    assert!(error.to_string().contains("500") || error.to_string().contains("extension"), "{error}");
    handle.join().unwrap();
}
