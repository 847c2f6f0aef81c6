//! Inputs shared by the benchmarks: the same wire bytes are fed to rfc6455 and to tungstenite.
#![allow(dead_code)]

use std::time::Duration;

use criterion::Criterion;
use rfc6455::{Config, Connection, MaskKeySource, MessageKind};

/// Short measurements: the machine is shared and noisy, and ratios come from one run.
pub fn criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1200))
        .sample_size(15)
        .without_plots()
}

/// `len` bytes of text that mixes scripts: Latin, Cyrillic, Greek, Japanese, Chinese,
/// Arabic and emoji (1- to 4-byte code points), cut on a code point boundary.
pub fn mixed_text(len: usize) -> String {
    const PIECES: &[&str] = &[
        "The quick brown fox jumps over the lazy dog. ",
        "Съешь же ещё этих мягких французских булок, да выпей чаю. ",
        "Γαζέες καὶ μυρτιὲς δὲν θὰ βρῶ πιὰ στὸ χρυσαφὶ ξέφωτο. ",
        "いろはにほへと ちりぬるを わかよたれそ つねならむ ",
        "天地玄黄，宇宙洪荒。日月盈昃，辰宿列张。",
        "نص حكيم له سر قاطع وذو شأن عظيم ",
        "😀🎉🚀🌍 ",
    ];
    let mut s = String::with_capacity(len + 64);
    'outer: loop {
        for piece in PIECES {
            for c in piece.chars() {
                if s.len() + c.len_utf8() > len {
                    break 'outer;
                }
                s.push(c);
            }
        }
    }
    while s.len() < len {
        s.push('.');
    }
    s
}

/// `len` bytes of ASCII text.
pub fn ascii_text(len: usize) -> String {
    let base = "The quick brown fox jumps over the lazy dog 0123456789. ";
    base.chars().cycle().take(len).collect()
}

/// `len` bytes of binary data.
pub fn binary(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i as u32).wrapping_mul(2_654_435_761).rotate_right(13) as u8).collect()
}

/// One message of a workload, before masking.
pub enum Msg {
    Binary(Vec<u8>),
    Text(String),
    /// Text sent as this many fragments.
    FragmentedText(String, usize),
}

/// A named input: masked client frames carrying `messages` messages, `payload` bytes of
/// payload in all.
pub struct Workload {
    pub name: &'static str,
    pub wire: Vec<u8>,
    pub messages: usize,
    pub payload: usize,
}

/// The wire bytes a client sends for `msgs`, masked with keys from a fixed seed.
pub fn client_wire(msgs: &[Msg]) -> Vec<u8> {
    let mut client = Connection::new(
        Config::client()
            .with_mask_keys(MaskKeySource::Seeded(1))
            .with_limits(rfc6455::Limits { max_output_buffer: usize::MAX, ..Default::default() })
            .expect("valid limits"),
    );
    for m in msgs {
        match m {
            Msg::Binary(b) => client.send_binary(b).unwrap(),
            Msg::Text(t) => client.send_text(t).unwrap(),
            Msg::FragmentedText(t, n) => {
                let step = t.len().div_ceil(*n);
                let bytes = t.as_bytes();
                let mut at = 0;
                while at < bytes.len() {
                    let end = (at + step).min(bytes.len());
                    client.send_fragment(MessageKind::Text, &bytes[at..end], end == bytes.len()).unwrap();
                    at = end;
                }
            }
        }
    }
    client.output().to_vec()
}

fn workload(name: &'static str, msgs: Vec<Msg>) -> Workload {
    let payload = msgs
        .iter()
        .map(|m| match m {
            Msg::Binary(b) => b.len(),
            Msg::Text(t) | Msg::FragmentedText(t, _) => t.len(),
        })
        .sum();
    Workload { name, wire: client_wire(&msgs), messages: msgs.len(), payload }
}

/// The server-side decode workloads of the issue.
pub fn decode_workloads() -> Vec<Workload> {
    vec![
        workload("binary_16B", (0..8192).map(|_| Msg::Binary(binary(16))).collect()),
        workload("text_16B", (0..8192).map(|_| Msg::Text(ascii_text(16))).collect()),
        workload("binary_64KiB", (0..32).map(|_| Msg::Binary(binary(64 << 10))).collect()),
        workload("mixed_text_64KiB", (0..32).map(|_| Msg::Text(mixed_text(64 << 10))).collect()),
        workload("fragmented_text_4x1KiB", (0..256).map(|_| Msg::FragmentedText(mixed_text(4 << 10), 4)).collect()),
    ]
}

/// A server configuration with room for every workload.
pub fn server_config() -> Config {
    Config::server().with_mask_keys(MaskKeySource::Seeded(2))
}

/// Feed `wire` to `conn` the way a socket would, through `read_buf`/`commit`, and pull every
/// event after each read. Returns the number of data messages.
pub fn rfc6455_decode(conn: &mut Connection, wire: &[u8]) -> usize {
    let mut at = 0;
    let mut messages = 0;
    while at < wire.len() {
        let buf = conn.read_buf();
        let n = buf.len().min(wire.len() - at);
        buf[..n].copy_from_slice(&wire[at..at + n]);
        conn.commit(n);
        at += n;
        while let Some(event) = conn.next_event().expect("valid input") {
            match event {
                rfc6455::Event::Text(t) => {
                    std::hint::black_box(t.len());
                    messages += 1;
                }
                rfc6455::Event::Binary(b) => {
                    std::hint::black_box(b.len());
                    messages += 1;
                }
                _ => {}
            }
        }
    }
    messages
}

/// A tungstenite server socket reading `wire` from memory, with limits as large as ours.
pub fn tungstenite_server(wire: &[u8]) -> tungstenite::WebSocket<MemStream<'_>> {
    let config = tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(16 << 20));
    tungstenite::WebSocket::from_raw_socket(
        MemStream(std::io::Cursor::new(wire)),
        tungstenite::protocol::Role::Server,
        Some(config),
    )
}

/// Read every message of `wire` with tungstenite. Returns the number of data messages.
pub fn tungstenite_decode(wire: &[u8]) -> usize {
    let mut ws = tungstenite_server(wire);
    let mut messages = 0;
    loop {
        match ws.read() {
            Ok(tungstenite::Message::Text(t)) => {
                std::hint::black_box(t.len());
                messages += 1;
            }
            Ok(tungstenite::Message::Binary(b)) => {
                std::hint::black_box(b.len());
                messages += 1;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    messages
}

/// A stream that discards writes and has nothing to read.
pub struct Null;

impl std::io::Read for Null {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Ok(0)
    }
}

impl std::io::Write for Null {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        std::hint::black_box(b.len());
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Note a benchmark's message count and byte sizes beside criterion's results, for
/// `scripts/bench_report.py` to turn times into messages/s and GB/s.
pub fn record_meta(id: &str, messages: usize, wire: usize, payload: usize) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion");
    let _ = std::fs::create_dir_all(&dir);
    let line = format!("{id}\t{messages}\t{wire}\t{payload}\n");
    let path = dir.join("bench-meta.tsv");
    let mut existing = std::fs::read_to_string(&path).unwrap_or_default();
    existing = existing.lines().filter(|l| !l.starts_with(&format!("{id}\t"))).map(|l| format!("{l}\n")).collect();
    existing.push_str(&line);
    let _ = std::fs::write(path, existing);
}

/// Bytes to read from memory; writes are discarded.
pub struct MemStream<'a>(pub std::io::Cursor<&'a [u8]>);

impl std::io::Read for MemStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl std::io::Write for MemStream<'_> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
