//! A load generator for WebSocket echo servers in the manner of uWebSockets' `load_test`: one
//! event loop (mio) drives every connection, so the load side costs one core however many
//! connections it opens, and is not what the benchmark measures.
//!
//! ```text
//! loadtest ws://127.0.0.1:9001 -c 100 -s 20                 # 100 connections, 20 B binary, one in flight
//! loadtest ws://127.0.0.1:9001 -c 100 -s 20 -d 8 --text     # 8 text messages in flight per connection
//! loadtest ws://127.0.0.1:9001 -c 1 -s 16777216 --time 5   # 16 MiB ping-pong
//! loadtest tcp://127.0.0.1:9003 -c 1 -s 65536              # the same payloads to a bare TCP echo
//! loadtest ws://127.0.0.1:9001 -c 10000 -s 20 --idle 60    # open, one echo each, then hold
//! ```
//!
//! Options: `-c` connections, `-s` message size in bytes, `-d` messages in flight per
//! connection (1: send, wait for the echo, send again), `--text` (text messages; binary by
//! default), `--warmup` seconds before counting (default 1), `--time` seconds counted (default
//! 3), `--idle SECONDS` (the idle-connections mode), `--timeout` seconds without any echo before
//! the run fails (default 10).
//!
//! Every echo is checked byte for byte, streaming, as it arrives: opcode, length, and every
//! payload byte against what was sent (each message starts with a tag holding its sequence number
//! and connection, so a stale, reordered or misrouted echo cannot pass). A wrong echo ends the run
//! with an error; it is never counted. Echoes may come back fragmented.
//!
//! Sending costs next to nothing: each message's payload is a fixed body masked in advance with
//! one of four masking keys (rotating per message), so a send masks only the frame header and the
//! tag; header and body go out in one vectored write. Prints one JSON line on stdout: messages/s
//! over the counted window, MB/s of payload each way, and round-trip latency percentiles (from
//! queueing a message to the last byte of its echo), and `load_cpu`, the share of one core the
//! load generator itself used over the run: well below 1.0, it was not the bottleneck; and
//! `echoes_total` over `elapsed_s`, every echo since the first send (warm-up included), against
//! which a caller can set the server's CPU time for the cost of one echo.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Read, Write};
use std::net::ToSocketAddrs;
use std::time::{Duration, Instant};

use base64::Engine as _;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use sha1::{Digest, Sha1};

/// Masking keys, one per message in rotation: the server must unmask with each.
const KEYS: [[u8; 4]; 4] =
    [[0x37, 0xfa, 0x21, 0x3d], [0x5a, 0x0c, 0x9e, 0x71], [0xc3, 0x48, 0x16, 0xe5], [0x8b, 0xd1, 0x6f, 0x02]];
/// The longest tag: 8 bytes in binary, 11 base-64 characters in text.
const TAG_MAX: usize = 11;
/// Frames per vectored write (two slices each).
const BATCH: usize = 32;

#[derive(Clone, Copy, PartialEq)]
enum Scheme {
    Ws,
    Tcp,
}

struct Opts {
    scheme: Scheme,
    addr: String,
    conns: usize,
    size: usize,
    depth: usize,
    text: bool,
    warmup: f64,
    time: f64,
    idle: Option<f64>,
    timeout: f64,
}

fn usage(msg: &str) -> ! {
    eprintln!("loadtest: {msg}");
    eprintln!(
        "usage: loadtest ws://HOST:PORT|tcp://HOST:PORT [-c CONNS] [-s BYTES] [-d IN_FLIGHT] [--text] \
         [--warmup S] [--time S] [--idle HOLD_S] [--timeout S]"
    );
    std::process::exit(2)
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        scheme: Scheme::Ws,
        addr: String::new(),
        conns: 1,
        size: 16,
        depth: 1,
        text: false,
        warmup: 1.0,
        time: 3.0,
        idle: None,
        timeout: 10.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut num = |name: &str| -> f64 {
            it.next().and_then(|v| v.parse::<f64>().ok()).unwrap_or_else(|| usage(&format!("{name} needs a number")))
        };
        match a.as_str() {
            "-c" => o.conns = num("-c") as usize,
            "-s" => o.size = num("-s") as usize,
            "-d" => o.depth = num("-d") as usize,
            "--text" => o.text = true,
            "--warmup" => o.warmup = num("--warmup"),
            "--time" => o.time = num("--time"),
            "--idle" => o.idle = Some(num("--idle")),
            "--timeout" => o.timeout = num("--timeout"),
            url if url.starts_with("ws://") => o.addr = url["ws://".len()..].trim_end_matches('/').to_string(),
            url if url.starts_with("tcp://") => {
                o.scheme = Scheme::Tcp;
                o.addr = url["tcp://".len()..].trim_end_matches('/').to_string();
            }
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    if o.addr.is_empty() {
        usage("no ws:// or tcp:// address");
    }
    if o.conns == 0 || o.size == 0 || o.depth == 0 {
        usage("-c, -s and -d must be at least 1");
    }
    if o.conns >= 1 << 20 {
        usage("at most 1048575 connections");
    }
    o
}

/// What every connection sends: the body (the payload after the tag) in clear and masked with
/// each key, shared by all connections.
struct Payloads {
    size: usize,
    text: bool,
    scheme: Scheme,
    tag_len: usize,
    body: Vec<u8>,
    masked: [Vec<u8>; 4],
}

impl Payloads {
    fn new(o: &Opts) -> Payloads {
        let tag_len = o.size.min(if o.text { 11 } else { 8 });
        let mut body = vec![0u8; o.size];
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for b in body.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ.,";
            *b = if o.text { LETTERS[(x % LETTERS.len() as u64) as usize] } else { x as u8 };
        }
        let masked = KEYS.map(|k| body.iter().enumerate().map(|(i, b)| b ^ k[i % 4]).collect());
        Payloads { size: o.size, text: o.text, scheme: o.scheme, tag_len, body, masked }
    }

    /// The first bytes of message `seq` of connection `conn`: both numbers, binary or in an
    /// ASCII alphabet for text.
    fn tag(&self, conn: u32, seq: u64) -> [u8; TAG_MAX] {
        let v = (seq << 20) | conn as u64;
        let mut t = [0u8; TAG_MAX];
        if self.text {
            const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            for (i, c) in t.iter_mut().enumerate() {
                *c = ALPHABET[((v >> (6 * i)) & 63) as usize];
            }
        } else {
            t[..8].copy_from_slice(&v.to_le_bytes());
        }
        t
    }

    /// Writes the start of message `seq` (frame header, masking key, masked tag; for TCP the
    /// tag alone) into `out`; returns its length. The rest is `self.tail(seq)`.
    fn head(&self, conn: u32, seq: u64, out: &mut [u8; 14 + TAG_MAX]) -> usize {
        let tag = self.tag(conn, seq);
        if self.scheme == Scheme::Tcp {
            out[..self.tag_len].copy_from_slice(&tag[..self.tag_len]);
            return self.tag_len;
        }
        out[0] = 0x80 | if self.text { 1 } else { 2 };
        let n = self.size;
        let mut at = if n < 126 {
            out[1] = 0x80 | n as u8;
            2
        } else if n < 1 << 16 {
            out[1] = 0x80 | 126;
            out[2..4].copy_from_slice(&(n as u16).to_be_bytes());
            4
        } else {
            out[1] = 0x80 | 127;
            out[2..10].copy_from_slice(&(n as u64).to_be_bytes());
            10
        };
        let key = KEYS[(seq % 4) as usize];
        out[at..at + 4].copy_from_slice(&key);
        at += 4;
        for i in 0..self.tag_len {
            out[at + i] = tag[i] ^ key[i % 4];
        }
        at + self.tag_len
    }

    fn tail(&self, seq: u64) -> &[u8] {
        match self.scheme {
            Scheme::Tcp => &self.body[self.tag_len..],
            Scheme::Ws => &self.masked[(seq % 4) as usize][self.tag_len..],
        }
    }

    fn frame_len(&self, seq: u64, conn: u32) -> usize {
        let mut h = [0u8; 14 + TAG_MAX];
        self.head(conn, seq, &mut h) + self.tail(seq).len()
    }

    /// Whether `data` is what message `seq` holds at offset `off`.
    fn matches(&self, conn: u32, seq: u64, off: usize, data: &[u8]) -> bool {
        let mut i = 0;
        if off < self.tag_len {
            let tag = self.tag(conn, seq);
            while i < data.len() && off + i < self.tag_len {
                if data[i] != tag[off + i] {
                    return false;
                }
                i += 1;
            }
        }
        data[i..] == self.body[off + i..off + data.len()]
    }
}

/// Where the parser of the server's frames stands.
struct Rx {
    hdr: [u8; 14],
    hdr_have: usize,
    hdr_need: usize,
    /// Payload bytes of the current frame not yet seen.
    remaining: u64,
    control: bool,
    fin: bool,
    in_message: bool,
    /// Bytes of the current echo seen so far.
    msg_off: usize,
}

struct Conn {
    stream: TcpStream,
    id: u32,
    /// Messages queued so far: seqs below this one are queued (written or not).
    queued: u64,
    /// The message being written and how many of its bytes are out.
    write_seq: u64,
    write_off: usize,
    /// The next echo expected.
    recv_seq: u64,
    /// When each message in flight was queued, oldest first.
    sent_at: VecDeque<Instant>,
    rx: Rx,
    /// Messages this connection may still queue (the idle mode sends one).
    budget: u64,
    writable_wanted: bool,
}

#[derive(Default)]
struct Stats {
    counted: u64,
    latencies_ns: Vec<u32>,
}

fn fail(msg: String) -> ! {
    eprintln!("loadtest: {msg}");
    println!("{}", serde_json::json!({ "error": msg }));
    std::process::exit(1)
}

impl Conn {
    /// Queues the next message (its bytes are written by `flush`).
    fn queue(&mut self, now: Instant) {
        if self.budget == 0 {
            return;
        }
        self.budget -= 1;
        self.queued += 1;
        self.sent_at.push_back(now);
    }

    /// Writes what is queued; returns false when the socket is full (wait for writable).
    fn flush(&mut self, p: &Payloads) -> io::Result<bool> {
        let mut heads = [[0u8; 14 + TAG_MAX]; BATCH];
        while self.write_seq < self.queued {
            let frames = ((self.queued - self.write_seq) as usize).min(BATCH);
            let mut slices: [IoSlice<'_>; 2 * BATCH] = [IoSlice::new(&[]); 2 * BATCH];
            let mut n_slices = 0;
            for (i, head) in heads.iter_mut().enumerate().take(frames) {
                let seq = self.write_seq + i as u64;
                let hl = p.head(self.id, seq, head);
                let mut h: &[u8] = &head[..hl];
                let mut t = p.tail(seq);
                if i == 0 {
                    let skip_h = self.write_off.min(h.len());
                    h = &h[skip_h..];
                    t = &t[self.write_off - skip_h..];
                }
                slices[n_slices] = IoSlice::new(h);
                slices[n_slices + 1] = IoSlice::new(t);
                n_slices += 2;
            }
            let mut written = match self.stream.write_vectored(&slices[..n_slices]) {
                Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "wrote 0 bytes")),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            while written > 0 {
                let left = p.frame_len(self.write_seq, self.id) - self.write_off;
                if written >= left {
                    written -= left;
                    self.write_seq += 1;
                    self.write_off = 0;
                } else {
                    self.write_off += written;
                    written = 0;
                }
            }
        }
        Ok(true)
    }

    /// Checks received bytes; returns the number of echoes they complete.
    fn receive(
        &mut self,
        mut data: &[u8],
        p: &Payloads,
        now: Instant,
        window: Option<&mut Stats>,
    ) -> Result<u32, String> {
        let mut done = 0u32;
        let mut window = window;
        while !data.is_empty() {
            if p.scheme == Scheme::Ws && self.rx.remaining == 0 && self.rx.hdr_have < self.rx.hdr_need {
                let take = (self.rx.hdr_need - self.rx.hdr_have).min(data.len());
                self.rx.hdr[self.rx.hdr_have..self.rx.hdr_have + take].copy_from_slice(&data[..take]);
                self.rx.hdr_have += take;
                data = &data[take..];
                if self.rx.hdr_have < self.rx.hdr_need {
                    break;
                }
                if self.rx.hdr_need == 2 {
                    let b1 = self.rx.hdr[1];
                    if b1 & 0x80 != 0 {
                        return Err("the server masked a frame".into());
                    }
                    let extra = match b1 & 0x7f {
                        126 => 2,
                        127 => 8,
                        _ => 0,
                    };
                    if extra > 0 {
                        self.rx.hdr_need = 2 + extra;
                        continue;
                    }
                }
                self.start_frame(p)?;
                if self.rx.remaining == 0 {
                    done += self.end_frame(p, now, window.as_deref_mut())?;
                }
                continue;
            }
            if p.scheme == Scheme::Tcp && !self.rx.in_message {
                // No framing: every `size` bytes are one echo.
                self.rx.in_message = true;
                self.rx.msg_off = 0;
                self.rx.remaining = p.size as u64;
                self.rx.fin = true;
                self.rx.control = false;
            }
            let take = (self.rx.remaining.min(data.len() as u64)) as usize;
            let (chunk, rest) = data.split_at(take);
            data = rest;
            self.rx.remaining -= take as u64;
            if !self.rx.control {
                if self.recv_seq >= self.queued {
                    return Err("an echo of a message that was never sent".into());
                }
                if !p.matches(self.id, self.recv_seq, self.rx.msg_off, chunk) {
                    return Err(format!(
                        "connection {}: echo of message {} differs from what was sent (bytes {}..{})",
                        self.id,
                        self.recv_seq,
                        self.rx.msg_off,
                        self.rx.msg_off + chunk.len()
                    ));
                }
                self.rx.msg_off += take;
            }
            if self.rx.remaining == 0 {
                done += self.end_frame(p, now, window.as_deref_mut())?;
            }
        }
        Ok(done)
    }

    /// A frame header is complete: check it.
    fn start_frame(&mut self, p: &Payloads) -> Result<(), String> {
        let h = &self.rx.hdr;
        let len = match self.rx.hdr_need {
            2 => (h[1] & 0x7f) as u64,
            4 => u16::from_be_bytes([h[2], h[3]]) as u64,
            _ => u64::from_be_bytes(h[2..10].try_into().expect("8 bytes")),
        };
        if h[0] & 0x70 != 0 {
            return Err(format!("a frame with RSV bits set ({:#04x}): no extension was negotiated", h[0]));
        }
        let opcode = h[0] & 0x0f;
        self.rx.fin = h[0] & 0x80 != 0;
        self.rx.remaining = len;
        self.rx.control = opcode >= 8;
        match opcode {
            8 => return Err("the server closed the connection (Close frame)".into()),
            9 | 10 => {}
            0 if !self.rx.in_message => return Err("a continuation frame outside a message".into()),
            0 => {}
            1 | 2 => {
                if self.rx.in_message {
                    return Err("a new message inside a fragmented one".into());
                }
                if (opcode == 1) != p.text {
                    return Err(format!("an echo with opcode {opcode}, sent as {}", if p.text { 1 } else { 2 }));
                }
                self.rx.in_message = true;
                self.rx.msg_off = 0;
            }
            other => return Err(format!("a frame with reserved opcode {other}")),
        }
        if !self.rx.control && self.rx.msg_off as u64 + len > p.size as u64 {
            return Err(format!("an echo longer than the {} bytes sent", p.size));
        }
        Ok(())
    }

    /// The current frame's payload is all in: finish the message if it was the last frame.
    fn end_frame(&mut self, p: &Payloads, now: Instant, window: Option<&mut Stats>) -> Result<u32, String> {
        self.rx.hdr_have = 0;
        self.rx.hdr_need = 2;
        if self.rx.control || !self.rx.fin {
            return Ok(0);
        }
        if self.rx.msg_off != p.size {
            return Err(format!("an echo of {} bytes, sent {}", self.rx.msg_off, p.size));
        }
        self.rx.in_message = false;
        self.recv_seq += 1;
        let sent = self.sent_at.pop_front().ok_or("an echo with nothing in flight")?;
        if let Some(stats) = window {
            stats.counted += 1;
            stats.latencies_ns.push(now.duration_since(sent).as_nanos().min(u32::MAX as u128) as u32);
        }
        self.queue(now);
        Ok(1)
    }
}

/// Opens a connection and, for ws://, completes the opening handshake (checking
/// Sec-WebSocket-Accept); returns the stream, non-blocking.
fn connect(o: &Opts, id: u32) -> Result<TcpStream, String> {
    let addr = o.addr.to_socket_addrs().ok().and_then(|mut a| a.next()).ok_or(format!("cannot resolve {}", o.addr))?;
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .map_err(|e| format!("connection {id}: connect to {addr}: {e}"))?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    if o.scheme == Scheme::Ws {
        s.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
        let key = base64::engine::general_purpose::STANDARD.encode((id as u128 * 0x9E37_79B9_7F4A_7C15).to_le_bytes());
        let req = format!(
            "GET / HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n",
            o.addr
        );
        s.write_all(req.as_bytes()).map_err(|e| format!("connection {id}: handshake: {e}"))?;
        // Read byte by byte up to the blank line: the server sends nothing after its answer
        // before our first message, and this is not the measured part.
        let mut resp = Vec::with_capacity(256);
        let mut b = [0u8; 1];
        while !resp.ends_with(b"\r\n\r\n") {
            match s.read(&mut b) {
                Ok(1) => resp.push(b[0]),
                Ok(_) => return Err(format!("connection {id}: closed during the handshake")),
                Err(e) => return Err(format!("connection {id}: handshake: {e}")),
            }
            if resp.len() > 16 << 10 {
                return Err(format!("connection {id}: handshake answer over 16 KiB"));
            }
        }
        let text = String::from_utf8_lossy(&resp);
        if !text.starts_with("HTTP/1.1 101") {
            return Err(format!("connection {id}: handshake refused: {}", text.lines().next().unwrap_or("")));
        }
        let mut sha = Sha1::new();
        sha.update(key.as_bytes());
        sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
        let accept = base64::engine::general_purpose::STANDARD.encode(sha.finalize());
        let ok = text.lines().any(|l| {
            l.split_once(':').is_some_and(|(k, v)| k.eq_ignore_ascii_case("sec-websocket-accept") && v.trim() == accept)
        });
        if !ok {
            return Err(format!("connection {id}: wrong or missing Sec-WebSocket-Accept"));
        }
        if text.lines().any(|l| l.to_ascii_lowercase().starts_with("sec-websocket-extensions")) {
            return Err(format!("connection {id}: the server answered with an extension nobody offered"));
        }
        s.set_read_timeout(None).map_err(|e| e.to_string())?;
    }
    s.set_nonblocking(true).map_err(|e| e.to_string())?;
    Ok(TcpStream::from_std(s))
}

/// CPU time (user + system) this process has used, in seconds (Linux: /proc/self/stat).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime and stime are the 12th and
    // 13th, in clock ticks (100 a second on Linux).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest.split_whitespace().map(|x| x.parse().unwrap_or(0)).collect();
    if f.len() < 13 { 0.0 } else { (f[11] + f[12]) as f64 / 100.0 }
}

fn percentile(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn main() {
    let o = parse_opts();
    let p = Payloads::new(&o);
    let mut poll = Poll::new().unwrap_or_else(|e| fail(format!("poll: {e}")));
    let mut conns = Vec::with_capacity(o.conns);
    for id in 0..o.conns {
        let mut stream = connect(&o, id as u32).unwrap_or_else(|e| fail(e));
        poll.registry()
            .register(&mut stream, Token(id), Interest::READABLE | Interest::WRITABLE)
            .unwrap_or_else(|e| fail(format!("register: {e}")));
        conns.push(Conn {
            stream,
            id: id as u32,
            queued: 0,
            write_seq: 0,
            write_off: 0,
            recv_seq: 0,
            sent_at: VecDeque::with_capacity(o.depth),
            rx: Rx {
                hdr: [0; 14],
                hdr_have: 0,
                hdr_need: 2,
                remaining: 0,
                control: false,
                fin: false,
                in_message: false,
                msg_off: 0,
            },
            budget: if o.idle.is_some() { 1 } else { u64::MAX },
            writable_wanted: false,
        });
    }

    let start = Instant::now();
    let cpu_start = cpu_seconds();
    for c in conns.iter_mut() {
        for _ in 0..(if o.idle.is_some() { 1 } else { o.depth }) {
            c.queue(start);
        }
        match c.flush(&p) {
            Ok(done) => c.writable_wanted = !done,
            Err(e) => fail(format!("connection {}: write: {e}", c.id)),
        }
    }

    let count_from = start + Duration::from_secs_f64(o.warmup);
    let count_until = count_from + Duration::from_secs_f64(o.time);
    let mut stats = Stats::default();
    stats.latencies_ns.reserve(1 << 20);
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 256 << 10];
    let mut last_echo = Instant::now();
    let mut echoes_total = 0u64;
    loop {
        let now = Instant::now();
        if o.idle.is_none() && now >= count_until {
            break;
        }
        if o.idle.is_some() && echoes_total == o.conns as u64 {
            break;
        }
        if now.duration_since(last_echo).as_secs_f64() > o.timeout {
            fail(format!("no echo for {} s ({} echoes so far)", o.timeout, echoes_total));
        }
        let wait = if o.idle.is_some() {
            Duration::from_millis(200)
        } else {
            (count_until - now).min(Duration::from_millis(200))
        };
        if let Err(e) = poll.poll(&mut events, Some(wait)) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            fail(format!("poll: {e}"));
        }
        for ev in events.iter() {
            let c = &mut conns[ev.token().0];
            if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                loop {
                    match c.stream.read(&mut buf) {
                        Ok(0) => fail(format!("connection {}: the server closed the connection", c.id)),
                        Ok(n) => {
                            let now = Instant::now();
                            let window = (now >= count_from && now < count_until).then_some(&mut stats);
                            match c.receive(&buf[..n], &p, now, window) {
                                Ok(0) => {}
                                Ok(k) => {
                                    echoes_total += k as u64;
                                    last_echo = now;
                                }
                                Err(e) => fail(e),
                            }
                            if n < buf.len() {
                                break;
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => fail(format!("connection {}: read: {e}", c.id)),
                    }
                }
            }
            // Write what the echoes just queued, or what a full socket held back.
            if c.write_seq < c.queued && (!c.writable_wanted || ev.is_writable()) {
                match c.flush(&p) {
                    Ok(done) => c.writable_wanted = !done,
                    Err(e) => fail(format!("connection {}: write: {e}", c.id)),
                }
            }
        }
    }

    if let Some(hold) = o.idle {
        println!("{}", serde_json::json!({ "idle_connections": o.conns, "size": o.size, "ready": true }));
        let _ = io::stdout().flush();
        std::thread::sleep(Duration::from_secs_f64(hold));
        return;
    }

    let load_cpu = (cpu_seconds() - cpu_start) / start.elapsed().as_secs_f64();
    if stats.counted == 0 {
        fail(format!("no echo completed in the {} s counted", o.time));
    }
    let secs = o.time;
    let mut lat = std::mem::take(&mut stats.latencies_ns);
    lat.sort_unstable();
    let rate = stats.counted as f64 / secs;
    println!(
        "{}",
        serde_json::json!({
            "target": format!("{}://{}", if o.scheme == Scheme::Ws { "ws" } else { "tcp" }, o.addr),
            "connections": o.conns,
            "size": o.size,
            "in_flight": o.depth,
            "text": o.text,
            "seconds": secs,
            "messages": stats.counted,
            "msgs_per_s": rate.round(),
            "mb_per_s": (rate * o.size as f64 / 1e6 * 100.0).round() / 100.0,
            "p50_us": percentile(&lat, 0.5),
            "p90_us": percentile(&lat, 0.9),
            "p99_us": percentile(&lat, 0.99),
            "p999_us": percentile(&lat, 0.999),
            "max_us": lat.last().map_or(0.0, |&m| m as f64 / 1000.0),
            "load_cpu": (load_cpu * 100.0).round() / 100.0,
            "echoes_total": echoes_total,
            "elapsed_s": (start.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        })
    );
}
