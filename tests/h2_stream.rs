//! The HTTP/2 stream adapter (feature `h2`, RFC 8441 §5): a WebSocket runs over one HTTP/2
//! stream unchanged; shutdown is END_STREAM, a dropped stream is `RST_STREAM(CANCEL)`; the
//! receive window opens only as the reader takes bytes, so a reader that stops makes its
//! sender wait.
#![cfg(feature = "h2")]

use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use rfc6455::tokio::h2::H2Stream;
use rfc6455::tokio::{Timeouts, WebSocket};
use rfc6455::{CloseCode, Config, Connection, Error, MaskKeySource, Message};
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The h2 crate's default initial stream window (RFC 9113 §6.9.2: 65,535 bytes).
const DEFAULT_WINDOW: usize = 65_535;

/// A client's and a server's end of one HTTP/2 stream, over an in-memory pipe, with both
/// connections driven by their own tasks.
async fn stream_pair() -> (H2Stream, H2Stream) {
    let (a, b) = tokio::io::duplex(1 << 20);
    let server = tokio::spawn(async move {
        let mut conn = h2::server::handshake(b).await.unwrap();
        let (request, mut respond) = conn.accept().await.unwrap().unwrap();
        let send = respond.send_response(http::Response::new(()), false).unwrap();
        let stream = H2Stream::new(send, request.into_body());
        // Keep driving the connection for the stream's life.
        tokio::spawn(async move { while conn.accept().await.is_some() {} });
        stream
    });
    let (send_request, conn) = h2::client::handshake(a).await.unwrap();
    tokio::spawn(conn);
    let mut send_request = send_request.ready().await.unwrap();
    let request = http::Request::post("http://example.com/").body(()).unwrap();
    let (response, send) = send_request.send_request(request, false).unwrap();
    let server_stream = server.await.unwrap();
    let response = response.await.unwrap();
    (H2Stream::new(send, response.into_body()), server_stream)
}

/// A client and a server WebSocket over one HTTP/2 stream.
async fn websocket_pair() -> (WebSocket<H2Stream>, WebSocket<H2Stream>) {
    let (a, b) = stream_pair().await;
    let client = Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(3)));
    let client = WebSocket::from_parts(a, client, &[], Timeouts::default()).unwrap();
    let server = WebSocket::from_parts(b, Connection::new(Config::server()), &[], Timeouts::default()).unwrap();
    (client, server)
}

#[tokio::test]
async fn rfc8441_s5_a_websocket_runs_over_one_stream_and_closes_with_end_stream() {
    let (mut client, mut server) = websocket_pair().await;
    client.send_text("over HTTP/2").await.unwrap();
    assert_eq!(server.read().await.unwrap(), Message::Text("over HTTP/2".into()));
    server.send_binary(&[1u8, 2, 3]).await.unwrap();
    assert_eq!(client.read().await.unwrap(), Message::Binary(vec![1u8, 2, 3]));
    // The closing handshake, then each side ends its half of the stream with END_STREAM:
    // both reads end with `Closed`, neither with a reset.
    let server_side = async {
        let close = server.read().await.unwrap();
        assert_eq!(close, Message::Close(Some(CloseCode::NORMAL), "bye".into()));
        assert!(matches!(server.read().await, Err(Error::Closed)));
    };
    let (closed, ()) = tokio::join!(client.close(CloseCode::NORMAL, "bye"), server_side);
    closed.unwrap();
    assert!(client.get_ref().is_end_stream(), "the client read the server's END_STREAM");
    assert!(server.get_ref().is_end_stream(), "the server read the client's END_STREAM");
}

#[tokio::test]
async fn rfc8441_s5_shutdown_is_end_stream_and_reads_as_end_of_file() {
    let (mut client, mut server) = stream_pair().await;
    server.write_all(b"last words").await.unwrap();
    server.shutdown().await.unwrap();
    let mut got = Vec::new();
    client.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, b"last words");
    assert!(client.is_end_stream());
    // The other direction is still open (a half-close, as with TCP).
    client.write_all(b"reply").await.unwrap();
    let mut reply = [0u8; 5];
    server.read_exact(&mut reply).await.unwrap();
    assert_eq!(&reply, b"reply");
}

#[tokio::test]
async fn rfc8441_s5_a_dropped_stream_is_reset_with_cancel() {
    let (mut client, server) = stream_pair().await;
    drop(server);
    let mut buf = [0u8; 16];
    let error = client.read(&mut buf).await.expect_err("a reset, not end of file");
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset, "{error}");
    let inner = error.get_ref().and_then(|e| e.downcast_ref::<h2::Error>()).expect("the h2 error inside");
    assert_eq!(inner.reason(), Some(h2::Reason::CANCEL));
}

#[tokio::test]
async fn rfc8441_s5_a_dropped_websocket_resets_its_stream() {
    let (client, mut server) = websocket_pair().await;
    // The client's task is gone without a closing handshake: its stream is reset, as a TCP
    // connection dropped without closing would be.
    drop(client);
    match server.read().await {
        Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
        other => panic!("expected a reset, got {other:?}"),
    }
}

#[tokio::test]
async fn rfc6455_s7_1_7_a_websocket_failed_by_the_protocol_closes_with_1002_and_end_stream() {
    let (mut raw_client, server_stream) = stream_pair().await;
    let mut server =
        WebSocket::from_parts(server_stream, Connection::new(Config::server()), &[], Timeouts::default()).unwrap();
    // An unmasked frame from a client: RFC 6455 §5.1 has the server fail the connection.
    raw_client.write_all(&[0x81, 0x02, b'h', b'i']).await.unwrap();
    let reading = tokio::spawn(async move {
        let mut got = Vec::new();
        // The server's Close, then END_STREAM (end of file), not a reset.
        let result = raw_client.read_to_end(&mut got).await;
        // Our END_STREAM in turn, so the server's wait for it ends.
        raw_client.shutdown().await.unwrap();
        (result.map(|_| got), raw_client)
    });
    assert!(matches!(server.read().await, Err(Error::Protocol(_))));
    let (result, raw_client) = reading.await.unwrap();
    let got = result.expect("END_STREAM, not RST_STREAM: §7.1.7 closes the connection, it does not reset it");
    assert_eq!(&got[..4], &[0x88, 0x02, 0x03, 0xea], "a Close with 1002");
    assert!(raw_client.is_end_stream());
}

/// Write into `stream` until it stops taking bytes; yield between tries so the connections'
/// tasks run (window updates arrive through them). Returns how many bytes it took.
async fn write_until_stalled(stream: &mut H2Stream) -> usize {
    let chunk = vec![7u8; 4096];
    let mut written = 0;
    let mut idle = 0;
    while idle < 100 {
        let mut cx = Context::from_waker(Waker::noop());
        match Pin::new(&mut *stream).poll_write(&mut cx, &chunk) {
            Poll::Ready(Ok(n)) => {
                written += n;
                idle = 0;
            }
            Poll::Ready(Err(e)) => panic!("write failed: {e}"),
            Poll::Pending => {
                idle += 1;
                tokio::task::yield_now().await;
            }
        }
    }
    written
}

#[tokio::test(flavor = "current_thread")]
async fn rfc9113_s5_2_a_reader_that_stops_makes_its_sender_wait_and_reading_resumes_it() {
    let (mut client, mut server) = stream_pair().await;
    // The server reads nothing: the client may send one stream window, and no more.
    let first = write_until_stalled(&mut client).await;
    assert!(first > 0 && first <= DEFAULT_WINDOW, "sent {first} bytes into a {DEFAULT_WINDOW}-byte window");
    // Reading releases window: the sender goes on.
    let mut buf = vec![0u8; first];
    server.read_exact(&mut buf).await.unwrap();
    assert!(buf.iter().all(|&b| b == 7));
    let second = write_until_stalled(&mut client).await;
    assert!(second > 0, "reading {first} bytes let the sender go on");
    assert!(second <= DEFAULT_WINDOW);
}
