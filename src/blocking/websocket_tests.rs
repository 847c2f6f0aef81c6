//! The blocking layer's streaming paths over an in-memory transport: what each read is offered
//! ([`WebSocket::set_read_size`]) and how a received piece is sent back
//! ([`WebSocket::respond_fragments`]), where a socket would hide both.

use std::io::{self, Read, Write};
use std::time::Duration;

use super::{Timeouts, WebSocket};
use crate::blocking::Transport;
use crate::config::{Config, Delivery, Limits};
use crate::connection::Connection;
use crate::error::{Error, ProtocolError};
use crate::event::{Event, Message};
use crate::message::MessageKind;
use crate::{CloseCode, MaskKeySource};

/// Reads hand out `input` at most `chunk` bytes at a time (then EOF) and record how much room
/// each was offered; writes collect in `output`.
struct Script {
    input: Vec<u8>,
    at: usize,
    chunk: usize,
    offered: Vec<usize>,
    output: Vec<u8>,
}

impl Read for Script {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.offered.push(buf.len());
        let n = self.chunk.min(buf.len()).min(self.input.len() - self.at);
        buf[..n].copy_from_slice(&self.input[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl Write for Script {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Transport for Script {
    fn set_read_timeout(&self, _: Option<Duration>) -> io::Result<()> {
        Ok(())
    }
    fn set_write_timeout(&self, _: Option<Duration>) -> io::Result<()> {
        Ok(())
    }
    fn shutdown_write(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn limits() -> Limits {
    Limits { max_frame_size: 4 << 20, max_message_size: 4 << 20, max_send_frame_size: 4 << 20, ..Limits::default() }
}

fn client() -> Connection {
    Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(7)).with_limits(limits()).expect("limits"))
}

/// A streaming server over `input` (what a client sent), read `chunk` bytes at a time.
fn streaming_server(input: Vec<u8>, chunk: usize) -> WebSocket<Script> {
    let config = Config::server().with_limits(limits()).expect("limits").with_delivery(Delivery::Streaming);
    let script = Script { input, at: 0, chunk, offered: Vec::new(), output: Vec::new() };
    // Short close timeout: the final drain reads the script's EOF at once anyway.
    let timeouts = Timeouts { close: Duration::from_millis(10), ..Timeouts::default() };
    WebSocket::from_parts(script, Connection::new(config), &[], timeouts).expect("server")
}

/// Echo every piece until the input is used up; returns the error that ended it.
fn echo_pieces(ws: &mut WebSocket<Script>) -> Error {
    loop {
        let served = ws.respond_fragments(|event| match event {
            Event::Fragment { kind, data, is_last } => Some((kind, data, is_last)),
            _ => None,
        });
        if let Err(error) = served {
            return error;
        }
    }
}

/// Decode `bytes` (fed 64 KiB at a time) into owned messages; a streamed piece becomes a
/// `Message::Binary` of its bytes.
fn decode(receiver: &mut Connection, bytes: &[u8]) -> Vec<Message> {
    let mut messages = Vec::new();
    for piece in bytes.chunks(64 << 10) {
        receiver.receive(piece).expect("receive");
        while let Ok(Some(event)) = receiver.next_event() {
            messages.push(match event {
                Event::Fragment { data, .. } => Message::Binary(data.to_vec()),
                other => Message::from_event(&other).expect("a message"),
            });
        }
    }
    messages
}

fn varied(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i as u32).wrapping_mul(2_654_435_761).rotate_left(11) as u8).collect()
}

#[test]
fn without_a_read_size_a_streaming_read_is_offered_the_starting_8_kib() {
    let mut sender = client();
    sender.send_binary(&varied(1 << 20)).expect("send");
    let mut ws = streaming_server(sender.output().to_vec(), usize::MAX);
    echo_pieces(&mut ws);
    assert_eq!(ws.stream.offered.iter().max(), Some(&(8 << 10)), "{:?}", ws.stream.offered);
    assert!(ws.stream.offered.len() >= 128, "1 MiB in 8 KiB reads: {} reads", ws.stream.offered.len());
}

#[test]
fn set_read_size_sets_how_much_one_streaming_read_brings() {
    let mut sender = client();
    sender.send_binary(&varied(1 << 20)).expect("send");
    let mut ws = streaming_server(sender.output().to_vec(), usize::MAX);
    ws.set_read_size(256 << 10);
    echo_pieces(&mut ws);
    // 1 MiB and a header: 5 reads, and the one that finds the end of the stream; then the
    // final drain's own reads (§7.1.1), not through the connection.
    let offered = &ws.stream.offered;
    assert_eq!(offered[..6], [256 << 10; 6], "{offered:?}");
    assert!(offered[6..].iter().all(|&room| room < 8 << 10), "{offered:?}");
}

#[test]
fn s5_4_each_piece_is_echoed_as_a_fragment_from_the_input_buffer_without_a_reply_copy() {
    let data = varied(1 << 20);
    let mut sender = client();
    sender.send_binary(&data).expect("send");
    // Reads of 50,000 bytes into a 64 KiB buffer: pieces of every length and offset.
    let mut ws = streaming_server(sender.output().to_vec(), 50_000);
    ws.set_read_size(64 << 10);
    let ended = echo_pieces(&mut ws);
    assert!(matches!(ended, Error::ConnectionReset), "the script ends without a Close: {ended:?}");
    assert_eq!(ws.reply.capacity(), 0, "every piece was sent from the input buffer");

    let echoed = decode(&mut client(), &ws.stream.output);
    assert_eq!(echoed.len(), 1, "one message");
    assert!(echoed[0] == Message::Binary(data), "the echo differs");
    let frames = crate::frame::FrameHeader::parse(&ws.stream.output).expect("a header").expect("whole");
    assert!(!frames.0.fin, "the echo is fragmented (§5.4): {:?}", frames.0);
}

#[test]
fn s8_1_streamed_text_is_echoed_until_the_first_invalid_byte_then_fails_with_1007() {
    // 100,000 bytes of valid text, then a byte that can never be UTF-8, then more.
    let mut text = "é".repeat(50_000).into_bytes();
    text.push(0xff);
    text.extend_from_slice(&[b'a'; 10_000]);
    let mut sender = client();
    sender.send_fragment(MessageKind::Text, &text[..100_000], false).expect("valid part");
    // The client checks what it sends: the invalid rest goes out as a binary-looking
    // continuation, built by hand.
    let key = [1, 2, 3, 4];
    let mut rest = text[100_000..].to_vec();
    crate::frame::mask::apply_mask(&mut rest, key, 0);
    let header = crate::frame::FrameHeader {
        fin: true,
        rsv: 0,
        opcode: crate::frame::OpCode::Continuation,
        masking_key: Some(key),
        payload_len: rest.len() as u64,
    };
    let mut input = sender.output().to_vec();
    header.append_to(&mut input);
    input.extend_from_slice(&rest);

    let mut ws = streaming_server(input, 64 << 10);
    ws.set_read_size(64 << 10);
    let ended = echo_pieces(&mut ws);
    assert!(matches!(ended, Error::Protocol(ProtocolError::InvalidUtf8)), "{ended:?}");

    // What went back: the valid prefix as fragments, then a Close with 1007 (§7.4.1).
    let mut receiver =
        Connection::new(Config::client().with_limits(limits()).expect("limits").with_delivery(Delivery::Streaming));
    let echoed = decode(&mut receiver, &ws.stream.output);
    let (close, pieces) = echoed.split_last().expect("a Close");
    let prefix: Vec<u8> = pieces
        .iter()
        .flat_map(|piece| match piece {
            Message::Binary(data) => data.clone(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert!(!prefix.is_empty() && text.starts_with(&prefix) && prefix.len() <= 100_000, "{} bytes", prefix.len());
    assert_eq!(*close, Message::Close(Some(CloseCode::INVALID_PAYLOAD), String::new()));
}

#[test]
fn s5_4_a_piece_that_shares_its_read_with_the_next_frame_is_copied_into_a_reply_buffer_of_one_read() {
    // Eight messages back to back, read 50,000 bytes at a time: reads end inside messages and
    // span the boundaries between them, so some pieces have the next frame behind them.
    let messages: Vec<Vec<u8>> = (0..8).map(|i| varied(100_000 + i * 7)).collect();
    let mut sender = client();
    for message in &messages {
        sender.send_binary(message).expect("send");
    }
    let mut ws = streaming_server(sender.output().to_vec(), 50_000);
    ws.set_read_size(64 << 10);
    let mut capacities = Vec::new();
    loop {
        let served = ws.respond_fragments(|event| match event {
            Event::Fragment { kind, data, is_last } => Some((kind, data, is_last)),
            _ => None,
        });
        capacities.push(ws.reply.capacity());
        if served.is_err() {
            break;
        }
    }
    // Used, sized to one read the first time, and never grown or shrunk after.
    let used: Vec<usize> = capacities.iter().copied().skip_while(|&c| c == 0).collect();
    assert!(!used.is_empty(), "no piece was copied: {capacities:?}");
    assert!(used.iter().all(|&c| c == used[0]) && used[0] >= 64 << 10, "{capacities:?}");

    let mut receiver = client();
    let echoed = decode(&mut receiver, &ws.stream.output);
    let want: Vec<Message> = messages.into_iter().map(Message::Binary).collect();
    assert!(echoed == want, "the echoes differ");
}
