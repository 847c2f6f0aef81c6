//! A streaming echo over loopback (RFC 6455 §5.4): a server in streaming delivery sends each
//! piece of a message back as a fragment as soon as a read brings it
//! (`WebSocket::respond_fragments`, reads of `WebSocket::set_read_size`). Messages of 1 MiB and
//! 16 MiB, binary and text, sent whole and in fragments, come back byte for byte, and the
//! server's connection never holds more than a few reads' worth of memory, whatever the size
//! of the message (`Connection::buffered_capacity`). No timing is asserted.

use std::net::SocketAddr;
use std::thread;

use rfc6455::blocking::{ClientConfig, Server, ServerConfig, Writer, connect_with};
use rfc6455::{CloseCode, Config, Delivery, Error, Event, Limits, Message, MessageKind};

/// What one read may bring on the server.
const READ_SIZE: usize = 64 << 10;

/// Frames and messages up to 32 MiB, both sides.
fn limits() -> Limits {
    Limits { max_frame_size: 32 << 20, max_message_size: 32 << 20, ..Limits::default() }
}

/// What the streaming echo saw: pieces echoed, and the most memory its connection held.
#[derive(Debug, Default)]
struct EchoReport {
    pieces: usize,
    max_buffered: usize,
}

/// A streaming echo on an ephemeral port, for one connection; its report once the client
/// closes.
fn streaming_echo() -> (SocketAddr, thread::JoinHandle<Result<EchoReport, Error>>) {
    let config = Config::server().with_limits(limits()).expect("limits").with_delivery(Delivery::Streaming);
    let server = Server::bind("127.0.0.1:0").expect("bind").with_config(ServerConfig { config, ..Default::default() });
    let addr = server.local_addr().expect("addr");
    let echo = thread::spawn(move || {
        let mut ws = server.accept()?.handshake()?;
        ws.set_read_size(READ_SIZE);
        let mut report = EchoReport::default();
        loop {
            let served = ws.respond_fragments(|event| match event {
                Event::Fragment { kind, data, is_last } => {
                    report.pieces += 1;
                    Some((kind, data, is_last))
                }
                _ => None,
            });
            report.max_buffered = report.max_buffered.max(ws.connection().buffered_capacity());
            match served {
                Ok(_) => {}
                Err(Error::Closed) => return Ok(report),
                Err(e) => return Err(e),
            }
        }
    });
    (addr, echo)
}

/// Mixed-script text (1 to 4 bytes a code point), `len` bytes long: pieces split inside code
/// points.
fn text_of(len: usize) -> String {
    let mut text = String::with_capacity(len + 4);
    let alphabet = ['a', 'é', 'ж', '中', '😀', ' ', 'z', 'ß'];
    let mut i = 0usize;
    while text.len() < len {
        text.push(alphabet[i.wrapping_mul(2_654_435_761) >> 7 & 7]);
        i += 1;
    }
    while text.len() > len {
        text.pop();
    }
    while text.len() < len {
        text.push('a');
    }
    text
}

fn binary_of(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i as u32).wrapping_mul(2_654_435_761).rotate_left(7) as u8).collect()
}

/// How a message is sent: whole, or in fragments of this many bytes.
#[derive(Debug, Clone, Copy)]
enum Sending {
    Whole,
    Fragments(usize),
}

/// Send each message over one connection to a streaming echo, read every echo back whole, and
/// return what came back with the echo's report. Sending runs on its own thread: the echo
/// answers before a large message has been sent whole, so one thread that sent everything
/// before reading would stall on full socket buffers.
fn round_trip(messages: &[(MessageKind, Vec<u8>, Sending)]) -> (Vec<Message>, EchoReport) {
    let (addr, echo) = streaming_echo();
    let config = ClientConfig { config: Config::client().with_limits(limits()).expect("limits"), ..Default::default() };
    let (ws, _) = connect_with(&format!("ws://{addr}/"), &config).expect("connect");
    let (mut reader, writer) = ws.split().expect("split");
    let to_send: Vec<_> = messages.to_vec();
    let sender = thread::spawn(move || -> Result<Writer, Error> {
        for (kind, payload, sending) in &to_send {
            match *sending {
                Sending::Whole if *kind == MessageKind::Text => {
                    writer.send_text(std::str::from_utf8(payload).expect("text"))?
                }
                Sending::Whole => writer.send_binary(payload)?,
                Sending::Fragments(size) => {
                    let mut pieces = payload.chunks(size).peekable();
                    while let Some(piece) = pieces.next() {
                        writer.send_fragment(*kind, piece, pieces.peek().is_none())?;
                    }
                }
            }
        }
        Ok(writer)
    });
    let mut echoes = Vec::new();
    while echoes.len() < messages.len() {
        echoes.push(reader.read().expect("an echo"));
    }
    let writer = sender.join().expect("sender").expect("sent");
    writer.close(CloseCode::NORMAL, "").expect("close");
    loop {
        match reader.read() {
            Ok(_) => {}
            Err(Error::Closed) => break,
            Err(e) => panic!("closing: {e}"),
        }
    }
    (echoes, echo.join().expect("echo").expect("echo served"))
}

fn expected(kind: MessageKind, payload: &[u8]) -> Message {
    match kind {
        MessageKind::Text => Message::Text(String::from_utf8(payload.to_vec()).expect("text")),
        MessageKind::Binary => Message::Binary(payload.to_vec()),
    }
}

/// Check the echoes byte for byte, and that the echo held at most a quarter of the smallest
/// message: a few reads of `READ_SIZE`, never the message.
fn check(messages: &[(MessageKind, Vec<u8>, Sending)]) {
    let (echoes, report) = round_trip(messages);
    for ((kind, payload, sending), echo) in messages.iter().zip(&echoes) {
        let want = expected(*kind, payload);
        assert!(*echo == want, "{kind:?} of {} bytes sent {sending:?}: the echo differs", payload.len());
    }
    let smallest = messages.iter().map(|(_, payload, _)| payload.len()).min().unwrap_or(0);
    eprintln!("{} messages of {smallest} bytes and up: {report:?}", messages.len());
    assert!(report.pieces > messages.len(), "the echo streamed: {report:?}");
    assert!(
        report.max_buffered <= smallest / 4 && report.max_buffered <= 4 * READ_SIZE,
        "the echo's connection held {} bytes for messages of {smallest} bytes and up: {report:?}",
        report.max_buffered
    );
}

/// Binary and text messages of `size` bytes, each sent whole and in fragments of `fragment`.
fn check_both_kinds(size: usize, fragment: usize) {
    check(&[
        (MessageKind::Binary, binary_of(size), Sending::Whole),
        (MessageKind::Binary, binary_of(size), Sending::Fragments(fragment)),
        (MessageKind::Text, text_of(size).into_bytes(), Sending::Whole),
        (MessageKind::Text, text_of(size).into_bytes(), Sending::Fragments(fragment)),
    ]);
}

#[test]
fn s5_4_streaming_echo_returns_1_mib_messages_byte_for_byte_in_a_few_reads_of_memory() {
    check_both_kinds(1 << 20, 100_003);
}

#[test]
fn s5_4_streaming_echo_returns_16_mib_messages_byte_for_byte_in_a_few_reads_of_memory() {
    check_both_kinds(16 << 20, 1_000_003);
}
