//! WebSocket frames from a client over one HTTP/2 stream (RFC 8441 §5), read by the crate's h2
//! server through `H2Stream`. First 2 bytes: the chunking seed; the rest is what the client
//! sends on its extended CONNECT stream, as DATA frames cut by the seed, then END_STREAM.
//! Everything runs in one current-thread runtime over an in-memory duplex pipe, with a paused
//! clock, so a run is deterministic and bounded. Checks: no panic, no hang (the whole run ends
//! within a virtual minute), the server's WebSocket ends (RFC 6455 §5: a frame-level error
//! fails it with a Close carrying the error's code; a peer Close is echoed), and what it
//! writes back on the stream is a valid unmasked server frame stream (RFC 6455 §5.1).
#![no_main]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use rfc6455::tokio::h2::server::{H2Settings, Incoming, handshake};
use rfc6455::tokio::{ServerConfig, Timeouts};
use rfc6455::{Config, Error, Role};
use rfc6455_fuzz::{check_wire, chunks, last_close_code, small_limits};
use tokio::io::DuplexStream;

/// The most virtual time a run may take: far beyond the server's 1 s close timeout.
const RUN_LIMIT: Duration = Duration::from_secs(60);

fuzz_target!(|data: &[u8]| {
    let [a, b, frames @ ..] = data else { return };
    let seed = u64::from(*a) << 8 | u64::from(*b);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
    runtime.block_on(async {
        let (client_io, server_io) = tokio::io::duplex(16 << 10);
        let run = async { tokio::join!(server(server_io), client(client_io, frames, seed)) };
        let (ending, wire) = tokio::time::timeout(RUN_LIMIT, run).await.expect("the run hangs");
        let frames = check_wire(&wire, Role::Server);
        match ending {
            // RFC 6455 §7.1.7: failing the connection sends a Close with the error's code.
            Error::Protocol(e) => assert_eq!(last_close_code(&frames), Some(Some(e.close_code()))),
            // A clean close: the peer's Close was echoed.
            Error::Closed => assert!(last_close_code(&frames).is_some(), "clean close without a Close"),
            // END_STREAM before any Close (the stream's end of file), a reset or the close
            // timeout: no Close is owed.
            _ => {}
        }
    });
});

/// The crate's h2 server with small limits: accept the one WebSocket and read until it ends;
/// returns the error that ended it.
async fn server(io: DuplexStream) -> Error {
    let config = ServerConfig {
        config: Config::server().with_limits(small_limits()).expect("valid limits"),
        timeouts: Timeouts { handshake: Duration::from_secs(1), close: Duration::from_secs(1) },
        deflate: None,
        high_water_mark: 4 << 10,
    };
    let mut conn = handshake(io, Arc::new(config), &H2Settings::default()).await.expect("h2 preface");
    let Some(Ok(Incoming::WebSocket(attempt))) = conn.accept().await else { panic!("no WebSocket attempt") };
    let mut ws = attempt.accept().expect("a valid extended CONNECT");
    let mut reading = Box::pin(async move {
        loop {
            if let Err(e) = ws.read().await {
                return e;
            }
        }
    });
    // The connection must be driven (`accept`) while the WebSocket runs.
    let mut driving = true;
    let ending = loop {
        tokio::select! {
            ending = &mut reading => break ending,
            next = conn.accept(), if driving => driving = next.is_some(),
        }
    };
    drop(reading);
    // What the WebSocket wrote last (its Close, END_STREAM) goes out as the connection is
    // driven: go on until the client hangs up.
    conn.graceful_shutdown();
    while let Some(Ok(_)) = conn.accept().await {}
    ending
}

/// The h2 crate's client: open one extended CONNECT stream (RFC 8441 §4), send `frames` on it
/// as DATA in chunks, then END_STREAM; returns every byte the server sent back on the stream.
async fn client(io: DuplexStream, frames: &[u8], seed: u64) -> Vec<u8> {
    let (send_request, conn) = h2::client::handshake(io).await.expect("h2 client preface");
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut send_request = send_request.ready().await.expect("ready");
    // The server's SETTINGS (with SETTINGS_ENABLE_CONNECT_PROTOCOL, RFC 8441 §3) come first.
    while !send_request.is_extended_connect_protocol_enabled() {
        tokio::task::yield_now().await;
        send_request = send_request.ready().await.expect("ready");
    }
    let mut request = http::Request::connect("http://server.example/chat")
        .header("sec-websocket-version", "13")
        .body(())
        .expect("a request");
    request.extensions_mut().insert(h2::ext::Protocol::from("websocket"));
    let (response, mut send) = send_request.send_request(request, false).expect("a stream");
    let response = response.await.expect("an answer");
    assert_eq!(response.status(), 200);
    let mut recv = response.into_body();
    let sending = async {
        for piece in chunks(frames, seed) {
            // The server may end or reset the stream at any point: stop sending then.
            if send.send_data(Bytes::copy_from_slice(piece), false).is_err() {
                return;
            }
            tokio::task::yield_now().await;
        }
        let _ = send.send_data(Bytes::new(), true);
    };
    let receiving = async {
        let mut wire = Vec::new();
        while let Some(Ok(data)) = recv.data().await {
            let _ = recv.flow_control().release_capacity(data.len());
            wire.extend_from_slice(&data);
        }
        wire
    };
    let ((), wire) = tokio::join!(sending, receiving);
    driver.abort();
    wire
}
