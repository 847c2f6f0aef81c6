//! Recipe: send and receive a file larger than memory, as one message streamed in fragments.
//!
//! The sender reads the file a chunk at a time and sends each chunk as a fragment of one
//! binary message (RFC 6455 §5.4): `WebSocket::send_fragment(kind, chunk, is_last)`. The receiver
//! asks for streaming delivery (`Delivery::Streaming`), so each piece is handed out as an
//! `Event::Fragment` as it arrives instead of being reassembled, and writes it out at once.
//! Neither side ever holds more than a chunk and the connection's buffers.
//! docs/manual/streaming.md explains the limits involved.
//!
//! ```text
//! cargo run --example recipe_stream_file                # 64 MiB, generated on the fly
//! cargo run --example recipe_stream_file -- some.iso    # a real file
//! ```

use std::fs::File;
use std::io::{self, Read};
use std::thread;

use rfc6455::blocking::{Server, ServerConfig, Transport, WebSocket, connect};
use rfc6455::{Config, Delivery, Error, Event, Limits, MessageKind};

/// The size of one fragment, and of the sender's only buffer.
const CHUNK: usize = 64 << 10;

// ANCHOR: send
/// Send everything `source` yields as one binary message, a fragment per chunk. The last
/// fragment is known only when the source ends, so one chunk is read ahead.
pub fn send_stream<S: Transport>(ws: &mut WebSocket<S>, mut source: impl Read) -> Result<u64, Error> {
    let mut current = vec![0u8; CHUNK];
    let mut next = vec![0u8; CHUNK];
    let mut len = read_full(&mut source, &mut current)?;
    let mut total = 0u64;
    loop {
        let next_len = read_full(&mut source, &mut next)?;
        let is_last = next_len == 0;
        ws.send_fragment(MessageKind::Binary, &current[..len], is_last)?;
        total += len as u64;
        if is_last {
            return Ok(total);
        }
        std::mem::swap(&mut current, &mut next);
        len = next_len;
    }
}
// ANCHOR_END: send

/// Fill `buf` as far as the source allows; 0 only at the end.
fn read_full(source: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match source.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

// ANCHOR: config
/// The receiving side's configuration: pieces handed out as they arrive. A streamed message is
/// never held whole, so `max_message_size` does not bound it (`max_stream_size` does, unlimited
/// by default); each frame is still limited.
pub fn streaming_config() -> Config {
    Config::server()
        .with_delivery(Delivery::Streaming)
        .with_limits(Limits { max_frame_size: 1 << 20, ..Limits::default() })
        .expect("a 1 MiB frame limit under the default message limit is valid")
}
// ANCHOR_END: config

/// A checksum that sees every byte in order (FNV-1a), so the two ends can compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fnv(pub u64);

impl Fnv {
    /// The empty checksum.
    pub fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    /// Add bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
}

impl Default for Fnv {
    fn default() -> Self {
        Fnv::new()
    }
}

/// A source of `len` bytes that are made up as they are read, never held in memory.
pub struct Generated {
    left: u64,
    state: u32,
}

impl Generated {
    /// `len` bytes.
    pub fn new(len: u64) -> Generated {
        Generated { left: len, state: 1 }
    }
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        for byte in &mut buf[..n] {
            // xorshift32: cheap bytes that are not all the same.
            self.state ^= self.state << 13;
            self.state ^= self.state >> 17;
            self.state ^= self.state << 5;
            *byte = self.state as u8;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// What the receiver saw: bytes, fragments, checksum, and the most its connection buffered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// Bytes in the message.
    pub bytes: u64,
    /// Pieces handed out.
    pub pieces: u64,
    /// Checksum of the bytes, in order.
    pub checksum: Fnv,
    /// The most heap the connection held at once, in bytes.
    pub peak_buffered: usize,
}

/// The demo: stream `source` from a client to a server over loopback. Returns what was sent
/// (bytes, checksum) and what the server received.
pub fn demo(source: impl Read) -> Result<(u64, Fnv, Received), Error> {
    let server = Server::bind("127.0.0.1:0")?
        .with_config(ServerConfig { config: streaming_config(), ..ServerConfig::default() });
    let url = format!("ws://{}/", server.local_addr()?);
    let receiving = thread::spawn(move || -> Result<Received, Error> {
        let mut ws = server.accept()?.handshake()?;
        let mut received = Received { bytes: 0, pieces: 0, checksum: Fnv::new(), peak_buffered: 0 };
        loop {
            // ANCHOR: receive
            // Each piece borrows the connection's buffer: use it (write it to a file, hash it)
            // before asking for the next.
            let done = ws.read_with(|event| match event {
                Event::Fragment { data, is_last, .. } => {
                    received.bytes += data.len() as u64;
                    received.pieces += 1;
                    received.checksum.update(data);
                    is_last
                }
                _ => false,
            })?;
            // ANCHOR_END: receive
            received.peak_buffered = received.peak_buffered.max(ws.connection().buffered_capacity());
            if done {
                return Ok(received);
            }
        }
    });

    // The sender: a plain client.
    let mut ws = connect(&url)?;
    let mut checksum = Fnv::new();
    let tee = Tee { inner: source, checksum: &mut checksum };
    let sent = send_stream(&mut ws, tee)?;
    ws.close(rfc6455::CloseCode::NORMAL, "sent")?;
    let received = receiving.join().map_err(|_| Error::Io(io::Error::other("receiver panicked")))??;
    Ok((sent, checksum, received))
}

/// Hash what is read, on the way through.
struct Tee<'a, R> {
    inner: R,
    checksum: &'a mut Fnv,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.checksum.update(&buf[..n]);
        Ok(n)
    }
}

fn main() -> Result<(), Error> {
    let (sent, checksum, received) = match std::env::args().nth(1) {
        Some(path) => demo(File::open(path)?)?,
        None => demo(Generated::new(64 << 20))?,
    };
    println!("sent {sent} bytes (checksum {:016x})", checksum.0);
    println!(
        "received {} bytes in {} pieces (checksum {:016x}); the receiving connection never held more than {} KiB",
        received.bytes,
        received.pieces,
        received.checksum.0,
        received.peak_buffered >> 10
    );
    if (sent, checksum) != (received.bytes, received.checksum) {
        return Err(Error::Io(io::Error::other("the bytes received are not the bytes sent")));
    }
    Ok(())
}
