//! Load generator for an echo server: C connections, N messages of S bytes each, D in flight
//! per connection. Every echo is checked byte for byte; prints messages/s, MB/s and the
//! round-trip latency percentiles.
//!
//! ```text
//! cargo run --release --example loadgen -- ws://127.0.0.1:9001 -c 1 -n 100000 -s 16 -d 64
//! cargo run --release --example loadgen -- tcp://127.0.0.1:9003 -c 1 -n 100000 -s 16 -d 1
//! ```
//!
//! `ws://` drives a WebSocket echo server (binary messages, masked as a client must; `wss://`
//! too, with the feature `tls`, trusting the CA in the PEM file `$LOADGEN_CA`); `tcp://`
//! drives a bare TCP echo with the same payloads and no framing, the physical reference. Each
//! connection runs on its own thread and writes everything it has queued in one write: the
//! client side is never the bottleneck it measures.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use rfc6455::{Connection, Event};

struct Args {
    url: String,
    connections: usize,
    messages: usize,
    size: usize,
    depth: usize,
}

fn parse_args() -> Args {
    let mut args = Args { url: "ws://127.0.0.1:9001".into(), connections: 1, messages: 10_000, size: 16, depth: 1 };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().and_then(|v| v.parse::<usize>().ok()).expect("a number after the flag");
        match a.as_str() {
            "-c" => args.connections = value(),
            "-n" => args.messages = value(),
            "-s" => args.size = value(),
            "-d" => args.depth = value(),
            url => args.url = url.to_string(),
        }
    }
    assert!(args.size >= 8, "messages carry an 8-byte sequence number: -s 8 at least");
    args.depth = args.depth.max(1);
    args
}

/// The payload of message `seq` on connection `conn`: the sequence number, then bytes derived
/// from both, so a misrouted or reordered echo cannot pass.
fn fill_payload(buf: &mut [u8], conn: usize, seq: u64) {
    buf[..8].copy_from_slice(&seq.to_le_bytes());
    let mut x = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (conn as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    for chunk in buf[8..].chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let bytes = x.to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
}

/// Round-trip times (ns) of every message of one connection.
struct Outcome {
    latencies: Vec<u64>,
}

trait Link {
    /// Queue a message (not yet written).
    fn queue(&mut self, payload: &[u8]);
    /// Write everything queued.
    fn flush(&mut self) -> std::io::Result<()>;
    /// Read once; call `on_message` for every whole echo received.
    fn read(&mut self, on_message: &mut dyn FnMut(&[u8])) -> std::io::Result<()>;
}

struct WsLink {
    stream: rfc6455::blocking::MaybeTlsStream,
    conn: Connection,
}

impl Link for WsLink {
    fn queue(&mut self, payload: &[u8]) {
        self.conn.send_binary(payload).expect("queue");
    }
    fn flush(&mut self) -> std::io::Result<()> {
        while self.conn.wants_write() {
            let n = self.stream.write(self.conn.output())?;
            self.conn.consume_output(n);
        }
        Ok(())
    }
    fn read(&mut self, on_message: &mut dyn FnMut(&[u8])) -> std::io::Result<()> {
        let n = self.stream.read(self.conn.read_buf())?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        self.conn.commit(n);
        while let Some(event) = self.conn.next_event().map_err(std::io::Error::other)? {
            match event {
                Event::Binary(data) => on_message(data),
                other => return Err(std::io::Error::other(format!("unexpected event {other:?}"))),
            }
        }
        Ok(())
    }
}

struct TcpLink {
    stream: TcpStream,
    out: Vec<u8>,
    input: Vec<u8>,
    filled: usize,
    size: usize,
}

impl Link for TcpLink {
    fn queue(&mut self, payload: &[u8]) {
        self.out.extend_from_slice(payload);
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.stream.write_all(&self.out)?;
        self.out.clear();
        Ok(())
    }
    fn read(&mut self, on_message: &mut dyn FnMut(&[u8])) -> std::io::Result<()> {
        let n = self.stream.read(&mut self.input[self.filled..])?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        self.filled += n;
        let whole = self.filled / self.size * self.size;
        for message in self.input[..whole].chunks_exact(self.size) {
            on_message(message);
        }
        self.input.copy_within(whole..self.filled, 0);
        self.filled -= whole;
        Ok(())
    }
}

fn run_connection(id: usize, args: &Args, mut link: Box<dyn Link + Send>, start: &Barrier) -> Outcome {
    let mut sent_at = vec![Instant::now(); args.messages];
    let mut latencies = Vec::with_capacity(args.messages);
    let mut payload = vec![0u8; args.size];
    let mut expected = vec![0u8; args.size];
    let (mut sent, mut received) = (0usize, 0usize);
    start.wait();
    while received < args.messages {
        // Top up to the pipeline depth, then write the whole batch at once.
        let top = (received + args.depth).min(args.messages);
        if sent < top {
            let now = Instant::now();
            while sent < top {
                fill_payload(&mut payload, id, sent as u64);
                link.queue(&payload);
                sent_at[sent] = now;
                sent += 1;
            }
            link.flush().expect("write");
        }
        link.read(&mut |echo: &[u8]| {
            fill_payload(&mut expected, id, received as u64);
            assert!(echo == expected.as_slice(), "connection {id}: echo {received} differs from what was sent");
            latencies.push(sent_at[received].elapsed().as_nanos() as u64);
            received += 1;
        })
        .expect("read");
    }
    Outcome { latencies }
}

fn open(args: &Args) -> Box<dyn Link + Send> {
    if let Some(addr) = args.url.strip_prefix("tcp://") {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let input = vec![0u8; (256 << 10).max(args.size * 2)];
        Box::new(TcpLink { stream, out: Vec::new(), input, filled: 0, size: args.size })
    } else {
        let (ws, _) = rfc6455::blocking::connect_with(&args.url, &client_config()).expect("WebSocket handshake");
        let (stream, conn) = ws.into_parts();
        stream.tcp_stream().set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
        Box::new(WsLink { stream, conn })
    }
}

fn main() {
    let args = Arc::new(parse_args());
    let start = Arc::new(Barrier::new(args.connections + 1));
    let threads: Vec<_> = (0..args.connections)
        .map(|id| {
            let link = open(&args);
            let (args, start) = (Arc::clone(&args), Arc::clone(&start));
            std::thread::spawn(move || run_connection(id, &args, link, &start))
        })
        .collect();
    start.wait();
    let began = Instant::now();
    let mut latencies: Vec<u64> = Vec::new();
    for t in threads {
        latencies.extend(t.join().expect("connection thread").latencies);
    }
    let elapsed = began.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)] as f64 / 1e3;
    let total = latencies.len();
    println!(
        "{} c={} n={} s={} d={}: {:.0} msg/s, {:.1} MB/s, p50 {:.1} us, p99 {:.1} us ({} echoes verified in {:.2} s)",
        args.url,
        args.connections,
        args.messages,
        args.size,
        args.depth,
        total as f64 / elapsed,
        (total * args.size) as f64 / elapsed / 1e6,
        pct(0.50),
        pct(0.99),
        total,
        elapsed
    );
}

/// The client configuration: for `wss://`, trust the CA in `$LOADGEN_CA` when it is set.
fn client_config() -> rfc6455::blocking::ClientConfig {
    #[cfg_attr(not(feature = "tls"), allow(unused_mut))]
    let mut config = rfc6455::blocking::ClientConfig::default();
    #[cfg(feature = "tls")]
    if let Ok(ca) = std::env::var("LOADGEN_CA") {
        config.tls = Some(rfc6455::blocking::tls::client_config_with_roots_file(&ca).expect("LOADGEN_CA"));
    }
    config
}
