//! Large messages through the async layer (feature `tokio`): a large payload the connection
//! owns (an owned send, an echo of a received message) reaches the transport as header +
//! payload from the payload's own buffer, in one vectored write when the stream takes vectors
//! and piece by piece otherwise, never staged in the output buffer; reads are sized to the
//! frame; and a connection waiting for bytes holds no input buffer.
#![cfg(feature = "tokio")]

mod async_support;

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use async_support::LIMIT;
use rfc6455::tokio::{Timeouts, WebSocket};
use rfc6455::{Config, Connection, Event, MaskKeySource, Message, MessageKind};
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio::time::timeout;

/// One write call as the transport saw it: the address and length of each non-empty slice.
type WriteCall = Vec<(usize, usize)>;

/// A stream that records every write (and every read's room) and forwards to a pipe.
struct Recording {
    inner: DuplexStream,
    vectored: bool,
    writes: Arc<Mutex<Vec<WriteCall>>>,
    read_rooms: Arc<Mutex<Vec<usize>>>,
}

impl AsyncRead for Recording {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.read_rooms.lock().unwrap().push(buf.remaining());
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Recording {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        if result.is_ready() {
            self.writes.lock().unwrap().push(vec![(buf.as_ptr() as usize, buf.len())]);
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        assert!(self.vectored, "a vectored write on a stream that does not write vectors");
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if result.is_ready() {
            let call = bufs.iter().filter(|b| !b.is_empty()).map(|b| (b.as_ptr() as usize, b.len())).collect();
            self.writes.lock().unwrap().push(call);
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.vectored
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

struct Recorded {
    writes: Arc<Mutex<Vec<WriteCall>>>,
    read_rooms: Arc<Mutex<Vec<usize>>>,
}

/// A client and a server over a pipe of `capacity` bytes; the side named by `record_server`
/// writes through a [`Recording`] stream.
fn pair(
    capacity: usize,
    vectored: bool,
    record_server: bool,
) -> (WebSocket<Recording>, WebSocket<Recording>, Recorded) {
    let (a, b) = tokio::io::duplex(capacity);
    let writes = Arc::new(Mutex::new(Vec::new()));
    let read_rooms = Arc::new(Mutex::new(Vec::new()));
    let recorded = Recorded { writes: writes.clone(), read_rooms: read_rooms.clone() };
    let quiet = || Recording {
        inner: tokio::io::duplex(1).0,
        vectored,
        writes: Arc::new(Mutex::new(Vec::new())),
        read_rooms: Arc::new(Mutex::new(Vec::new())),
    };
    let (mut client_stream, mut server_stream) = (quiet(), quiet());
    client_stream.inner = a;
    server_stream.inner = b;
    let recording = if record_server { &mut server_stream } else { &mut client_stream };
    recording.writes = writes;
    recording.read_rooms = read_rooms;
    let client = Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(7)));
    let client = WebSocket::from_parts(client_stream, client, &[], Timeouts::default()).unwrap();
    let server =
        WebSocket::from_parts(server_stream, Connection::new(Config::server()), &[], Timeouts::default()).unwrap();
    (client, server, recorded)
}

const LARGE: usize = 1 << 20;

/// The write calls that carried part of the buffer at `[start, start + len)`.
fn calls_touching(writes: &[WriteCall], start: usize, len: usize) -> Vec<WriteCall> {
    writes.iter().filter(|call| call.iter().any(|&(p, n)| p < start + len && start < p + n)).cloned().collect()
}

#[tokio::test]
async fn s5_2_a_large_owned_send_goes_out_as_header_and_payload_in_one_vectored_write() {
    for record_server in [true, false] {
        let (mut client, mut server, recorded) = pair(2 * LARGE, true, record_server);
        let payload: Vec<u8> = (0..LARGE).map(|i| (i % 251) as u8).collect();
        let expected = payload.clone();
        let at = payload.as_ptr() as usize;
        let sender = if record_server { &mut server } else { &mut client };
        timeout(LIMIT, sender.send_owned(MessageKind::Binary, payload)).await.unwrap().unwrap();
        let receiver = if record_server { &mut client } else { &mut server };
        let got = timeout(LIMIT, receiver.read()).await.unwrap().unwrap();
        assert_eq!(got, Message::Binary(expected));

        let writes = recorded.writes.lock().unwrap();
        let carried = calls_touching(&writes, at, LARGE);
        assert!(!carried.is_empty(), "the payload was not written from the caller's buffer");
        // The first write is the 10-byte header (8-byte length form, RFC 6455 §5.2; 4 more
        // bytes of masking key for a client) followed by the payload from its own buffer.
        let header = if record_server { 10 } else { 14 };
        let first = &writes[0];
        assert_eq!(first[0].1, header, "{first:?}");
        assert_eq!(first[1].0, at, "the payload is not the caller's buffer: {first:?}");
        // Nothing was staged: no write carried a frame-sized copy from elsewhere.
        let written: usize = writes.iter().flatten().map(|&(_, n)| n).sum();
        assert!(written >= LARGE + header);
        let elsewhere: usize =
            writes.iter().flatten().filter(|&&(p, _)| !(at..at + LARGE).contains(&p)).map(|&(_, n)| n).sum();
        assert!(elsewhere < 64, "{elsewhere} bytes written from other buffers");
    }
}

#[tokio::test]
async fn a_large_owned_send_on_a_stream_without_vectors_is_written_piece_by_piece_unstaged() {
    let (mut client, mut server, recorded) = pair(2 * LARGE, false, true);
    let payload = vec![9u8; LARGE];
    let at = payload.as_ptr() as usize;
    timeout(LIMIT, server.send_owned(MessageKind::Binary, payload)).await.unwrap().unwrap();
    assert_eq!(timeout(LIMIT, client.read()).await.unwrap().unwrap(), Message::Binary(vec![9u8; LARGE]));
    let writes = recorded.writes.lock().unwrap();
    assert_eq!(writes[0], vec![writes[0][0]]);
    assert_eq!(writes[0][0].1, 10, "the header alone first: {:?}", writes[0]);
    assert_eq!(writes[1][0].0, at, "then the payload from the caller's buffer: {:?}", writes[1]);
    assert!(writes.iter().flatten().all(|&(p, n)| n <= 10 || (at..at + LARGE).contains(&p)));
}

#[tokio::test]
async fn an_echo_from_respond_batch_writes_the_received_payload_without_copying_it() {
    let (mut client, mut server, recorded) = pair(2 * LARGE, true, true);
    let message = vec![3u8; 64 << 10];
    timeout(LIMIT, client.send_binary(&message)).await.unwrap().unwrap();
    let handled = timeout(
        LIMIT,
        server.respond_batch(|event| match event {
            Event::Binary(data) => Some((MessageKind::Binary, data)),
            _ => None,
        }),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(handled, 1);
    assert_eq!(timeout(LIMIT, client.read()).await.unwrap().unwrap(), Message::Binary(message));
    let writes = recorded.writes.lock().unwrap();
    // Header and payload as two slices: the payload was not copied behind its header.
    assert_eq!(writes[0].len(), 2, "{:?}", writes[0]);
    assert_eq!(writes[0][0].1, 10);
    assert_eq!(writes[0][1].1, 64 << 10);
}

#[tokio::test]
async fn s5_2_a_large_frame_is_read_in_reads_sized_to_its_payload() {
    let (mut client, mut server, recorded) = pair(2 * LARGE, true, true);
    let message = vec![1u8; LARGE];
    let (sent, got) = tokio::join!(client.send_binary(&message), server.read());
    sent.unwrap();
    assert_eq!(got.unwrap(), Message::Binary(message));
    let rooms = recorded.read_rooms.lock().unwrap();
    // After the header, the room offered is the rest of the frame, not the 8 KiB input buffer.
    assert!(rooms.iter().any(|&room| room > 64 << 10), "{rooms:?}");
}

#[tokio::test]
async fn an_idle_connection_holds_no_input_buffer_after_an_echo() {
    let (mut client, mut server, _) = pair(64 << 10, true, true);
    for _ in 0..3 {
        timeout(LIMIT, client.send_text("twenty bytes of text")).await.unwrap().unwrap();
        timeout(
            LIMIT,
            server.respond_batch(|event| match event {
                Event::Text(text) => Some((MessageKind::Text, text.as_bytes())),
                _ => None,
            }),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(timeout(LIMIT, client.read()).await.unwrap().unwrap(), Message::Text("twenty bytes of text".into()));
        // The server reads again and finds nothing: it waits, holding no input buffer.
        assert!(timeout(Duration::from_millis(20), server.read()).await.is_err());
        let held = server.connection().buffered_capacity();
        assert!(held < 1024, "an idle connection holds {held} bytes of buffers");
    }
}
