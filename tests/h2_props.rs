//! Property (feature `h2`): messages cross an HTTP/2 stream unchanged (RFC 8441 §5: the stream
//! is the WebSocket's TCP connection), whatever the windows. Each case runs a client and an
//! echo server WebSocket over one stream of an in-memory HTTP/2 connection whose stream windows
//! are small and random, so DATA frames split messages at arbitrary points, writes wait for
//! WINDOW_UPDATEs and reads take many frames at once; with permessage-deflate on or off. Every
//! echo must equal its message, in order, and the closing handshake must end both halves of the
//! stream with END_STREAM.
//!
//! Cases: `PROPTEST_CASES` (default 24 here) raises the count for a deep run.
#![cfg(feature = "h2")]

use proptest::prelude::*;
use rfc6455::extensions::permessage_deflate::{DeflateConfig, DeflateParams};
use rfc6455::tokio::h2::H2Stream;
use rfc6455::tokio::{Timeouts, WebSocket};
use rfc6455::{CloseCode, Config, Connection, Error, MaskKeySource, Message};

fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        ".{0,300}".prop_map(Message::Text),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(Message::Binary),
        // Larger than any window here: split into many DATA frames.
        (0usize..40_000, any::<u8>()).prop_map(|(len, seed)| {
            Message::Binary((0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect())
        }),
    ]
}

/// A client's and a server's end of one stream of an in-memory HTTP/2 connection whose stream
/// windows are `client_window` (what the client may receive) and `server_window`.
async fn stream_pair(client_window: u32, server_window: u32) -> (H2Stream, H2Stream) {
    let (a, b) = tokio::io::duplex(64 << 10);
    let server = tokio::spawn(async move {
        let mut conn = h2::server::Builder::new()
            .initial_window_size(server_window)
            .initial_connection_window_size(server_window * 4)
            .handshake::<_, bytes::Bytes>(b)
            .await
            .unwrap();
        let (request, mut respond) = conn.accept().await.unwrap().unwrap();
        let send = respond.send_response(http::Response::new(()), false).unwrap();
        let stream = H2Stream::new(send, request.into_body());
        tokio::spawn(async move { while conn.accept().await.is_some() {} });
        stream
    });
    let (send_request, conn) = h2::client::Builder::new()
        .initial_window_size(client_window)
        .initial_connection_window_size(client_window * 4)
        .handshake(a)
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut send_request = send_request.ready().await.unwrap();
    let request = http::Request::post("http://example.com/").body(()).unwrap();
    let (response, send) = send_request.send_request(request, false).unwrap();
    let server = server.await.unwrap();
    let response = response.await.unwrap();
    (H2Stream::new(send, response.into_body()), server)
}

/// Run one case; `Err` names what differed.
async fn echo_case(
    messages: Vec<Message>,
    client_window: u32,
    server_window: u32,
    deflate: bool,
) -> Result<(), String> {
    let (a, b) = stream_pair(client_window, server_window).await;
    let mut client_config = Config::client().with_mask_keys(MaskKeySource::Seeded(9));
    let mut server_config = Config::server();
    if deflate {
        let params = DeflateParams {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        };
        let deflate = DeflateConfig::default().with_params(params);
        client_config = client_config.with_deflate(deflate);
        server_config = server_config.with_deflate(deflate);
    }
    let client = WebSocket::from_parts(a, Connection::new(client_config), &[], Timeouts::default()).unwrap();
    let mut server = WebSocket::from_parts(b, Connection::new(server_config), &[], Timeouts::default()).unwrap();
    let echo = tokio::spawn(async move {
        while let Ok(message) = server.read().await {
            if message.is_data() && server.send(message).await.is_err() {
                break;
            }
        }
        server.get_ref().is_end_stream()
    });
    // The client writes and reads at once: an echo with both windows small needs both.
    let (mut reader, mut writer) = client.split();
    let sent = messages.clone();
    let writing = tokio::spawn(async move {
        for message in &sent {
            writer.send(message.clone()).await.unwrap();
        }
        writer
    });
    for (i, expected) in messages.iter().enumerate() {
        let got = reader.read().await.map_err(|e| format!("echo {i}: {e}"))?;
        if &got != expected {
            return Err(format!("echo {i} differs"));
        }
    }
    let mut writer = writing.await.unwrap();
    writer.close(CloseCode::NORMAL, "").await.map_err(|e| format!("close: {e}"))?;
    loop {
        match reader.read().await {
            Ok(Message::Close(..)) => {}
            Err(Error::Closed) => break,
            other => return Err(format!("after the close: {other:?}")),
        }
    }
    if !echo.await.unwrap() {
        return Err("the server did not read the client's END_STREAM".into());
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(24))]

    #[test]
    fn rfc8441_s5_messages_cross_an_http2_stream_unchanged_whatever_the_windows(
        messages in prop::collection::vec(message(), 1..12),
        client_window in 256u32..=16_384,
        server_window in 256u32..=16_384,
        deflate in any::<bool>(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let limit = std::time::Duration::from_secs(60);
        let result = runtime.block_on(async {
            tokio::time::timeout(limit, echo_case(messages, client_window, server_window, deflate)).await
        });
        match result {
            Ok(Ok(())) => {}
            Ok(Err(why)) => prop_assert!(false, "{}", why),
            Err(_) => prop_assert!(false, "stalled: no progress within {:?}", limit),
        }
    }
}
