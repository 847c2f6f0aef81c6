//! Profiling driver: runs one benchmark workload a fixed number of times, for `valgrind
//! --tool=callgrind` (instruction counts) rather than for timing.
//!
//! ```text
//! cargo build --release --example profile_workloads      # with CARGO_PROFILE_RELEASE_DEBUG=true
//! valgrind --tool=callgrind target/release/examples/profile_workloads decode_binary_64KiB rfc6455 4
//! ```
//!
//! Usage: `profile_workloads <workload> <rfc6455|tungstenite|memcpy> [iterations]`. The
//! workloads are the benchmarks' own (`benches/common/mod.rs`, `benches/encode.rs`,
//! `benches/frame.rs`, `benches/mask.rs`), fed the same bytes the same way:
//!
//! - `decode_binary_64KiB`, `decode_mixed_text_64KiB`: 32 masked client messages of 64 KiB
//!   through `read_buf`/`commit`/`next_event` (rfc6455) or `WebSocket::read` over a `Cursor`
//!   (tungstenite); `decode_binary_16B`, `decode_text_16B` (8192 messages of 16 bytes) and
//!   `decode_fragmented_text_4x1KiB` (256 messages in 4 fragments) the same way, where the cost
//!   per frame shows.
//! - `encode_binary_64KiB`, `encode_mixed_text_64KiB`: 32 messages of 64 KiB sent as a client
//!   (masked), output taken every 64 KiB.
//! - `header_encode_len7`, `header_encode_len16`, `header_encode_len64`: 1024 masked headers
//!   written into a reused `Vec`.
//! - `unmask_64KiB`: 64 KiB unmasked in place at an unaligned offset; `memcpy` copies instead.
//!
//! One warm-up iteration runs before the counted ones, so buffers are at their working size;
//! the iteration count is printed so instructions per message can be worked out. With
//! `PROFILE_TIME=1` set, the workload is timed instead (fastest of 21 batches).
//!
//! Variants besides the two crates: `unmask_64KiB` with `rfc6455_aligned` (64-byte aligned
//! slice) and `rfc6455_at14` (14 bytes past a 64-byte boundary, where a client frame's payload
//! starts), and `header_encode_*` with `rfc6455_direct` (the header appended to the `Vec` in
//! fixed-size pieces instead of through a 14-byte array), to test what the profiles suggest.

#[path = "../benches/common/mod.rs"]
mod common;

use std::hint::black_box;

use rfc6455::frame::mask::apply_mask;
use rfc6455::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};
use rfc6455::{Config, Connection, MaskKeySource};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// tungstenite 0.30's unmasking, as reproduced in `benches/mask.rs`.
fn tungstenite_apply_mask(buf: &mut [u8], mask: [u8; 4]) {
    let head = buf.as_ptr().align_offset(4).min(buf.len());
    let (prefix, rest) = buf.split_at_mut(head);
    for (i, b) in prefix.iter_mut().enumerate() {
        *b ^= mask[i & 3];
    }
    let mask_u32 = u32::from_ne_bytes(mask).rotate_right(8 * (head as u32 & 3));
    let mut words = rest.chunks_exact_mut(4);
    for w in &mut words {
        let v = u32::from_ne_bytes([w[0], w[1], w[2], w[3]]) ^ mask_u32;
        w.copy_from_slice(&v.to_ne_bytes());
    }
    let m = mask_u32.to_ne_bytes();
    for (i, b) in words.into_remainder().iter_mut().enumerate() {
        *b ^= m[i & 3];
    }
}

/// One run of a workload: a closure called once per iteration.
type Run = Box<dyn FnMut()>;

fn decode(name: &str, imp: &str) -> Run {
    let workload = common::decode_workloads().into_iter().find(|w| w.name == name).expect("workload");
    let wire = workload.wire;
    let expected = workload.messages;
    match imp {
        "rfc6455" => {
            let mut conn = Connection::new(common::server_config());
            Box::new(move || assert_eq!(common::rfc6455_decode(&mut conn, black_box(&wire)), expected))
        }
        "tungstenite" => Box::new(move || assert_eq!(common::tungstenite_decode(black_box(&wire)), expected)),
        _ => panic!("unknown implementation {imp}"),
    }
}

fn encode(text: bool, imp: &str) -> Run {
    const COUNT: usize = 32;
    let binary = common::binary(64 << 10);
    let mixed = common::mixed_text(64 << 10);
    match imp {
        "rfc6455" => {
            let mut conn = Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(3)));
            Box::new(move || {
                for _ in 0..COUNT {
                    if text {
                        conn.send_text(&mixed).unwrap();
                    } else {
                        conn.send_binary(&binary).unwrap();
                    }
                    if conn.output().len() >= 64 << 10 {
                        black_box(conn.output().len());
                        let n = conn.output().len();
                        conn.consume_output(n);
                    }
                }
                let n = conn.output().len();
                conn.consume_output(n);
            })
        }
        "tungstenite" => {
            let mut ws =
                tungstenite::WebSocket::from_raw_socket(common::Null, tungstenite::protocol::Role::Client, None);
            let message = if text {
                tungstenite::Message::Text(mixed.into())
            } else {
                tungstenite::Message::Binary(binary.into())
            };
            Box::new(move || {
                for _ in 0..COUNT {
                    ws.write(message.clone()).unwrap();
                }
                ws.flush().unwrap();
            })
        }
        _ => panic!("unknown implementation {imp}"),
    }
}

fn header_encode(len: u64, imp: &str) -> Run {
    const HEADERS: usize = 1024;
    let mut out = Vec::with_capacity(HEADERS * MAX_HEADER_LEN);
    match imp {
        "rfc6455" => {
            let header = FrameHeader {
                fin: true,
                rsv: 0,
                opcode: OpCode::Binary,
                masking_key: Some([1, 2, 3, 4]),
                payload_len: len,
            };
            Box::new(move || {
                out.clear();
                for _ in 0..HEADERS {
                    let h = FrameHeader { payload_len: black_box(len), ..header };
                    // The encoder's own path: the header appended to the output buffer.
                    h.append_to(&mut out);
                }
                black_box(out.len());
            })
        }
        // A candidate for `FrameHeader::write`: fixed-size appends straight into the `Vec`, no
        // 14-byte staging array and no variable-length copy out of it.
        "rfc6455_direct" => {
            let header = FrameHeader {
                fin: true,
                rsv: 0,
                opcode: OpCode::Binary,
                masking_key: Some([1, 2, 3, 4]),
                payload_len: len,
            };
            Box::new(move || {
                out.clear();
                for _ in 0..HEADERS {
                    let h = FrameHeader { payload_len: black_box(len), ..header };
                    write_header_direct(&h, &mut out);
                }
                black_box(out.len());
            })
        }
        "tungstenite" => {
            use tungstenite::protocol::frame::coding::{Data, OpCode as TOpCode};
            let theirs = tungstenite::protocol::frame::FrameHeader {
                mask: Some([1, 2, 3, 4]),
                opcode: TOpCode::Data(Data::Binary),
                ..Default::default()
            };
            Box::new(move || {
                out.clear();
                for _ in 0..HEADERS {
                    theirs.format(black_box(len), &mut out).unwrap();
                }
                black_box(out.len());
            })
        }
        _ => panic!("unknown implementation {imp}"),
    }
}

/// `FrameHeader::write` appending to a `Vec` with fixed-size pieces (the shape tungstenite's
/// `FrameHeader::format` has).
#[inline(never)]
fn write_header_direct(h: &FrameHeader, out: &mut Vec<u8>) {
    let first = (u8::from(h.fin) << 7) | (h.rsv & 0x70) | h.opcode.as_u8();
    let mask_bit = if h.masking_key.is_some() { 0x80 } else { 0 };
    match h.payload_len {
        len @ 0..=125 => out.extend_from_slice(&[first, mask_bit | len as u8]),
        len @ 126..=0xFFFF => {
            let [a, b] = (len as u16).to_be_bytes();
            out.extend_from_slice(&[first, mask_bit | 126, a, b]);
        }
        len => {
            out.extend_from_slice(&[first, mask_bit | 127]);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    if let Some(key) = h.masking_key {
        out.extend_from_slice(&key);
    }
}

fn unmask(imp: &str) -> Run {
    let size = 64 << 10;
    let mut buf = vec![0u8; size + 64];
    let src = common::binary(size + 64);
    // One byte past a 64-byte boundary, as in `benches/mask.rs`.
    let at = (1 + (64 - buf.as_ptr() as usize % 64) % 64).min(63);
    match imp {
        "rfc6455" => Box::new(move || apply_mask(black_box(&mut buf[at..at + size]), KEY, 1)),
        // The same call on a 64-byte-aligned slice: no access crosses a cache line.
        "rfc6455_aligned" => {
            let aligned = (64 - buf.as_ptr() as usize % 64) % 64;
            Box::new(move || apply_mask(black_box(&mut buf[aligned..aligned + size]), KEY, 1))
        }
        // 14 bytes past a 64-byte boundary: where a client frame's payload starts after its
        // 14-byte header in a buffer that starts on a boundary.
        "rfc6455_at14" => {
            let at14 = (64 - buf.as_ptr() as usize % 64) % 64 + 14;
            Box::new(move || apply_mask(black_box(&mut buf[at14..at14 + size]), KEY, 1))
        }
        "tungstenite" => Box::new(move || tungstenite_apply_mask(black_box(&mut buf[at..at + size]), KEY)),
        "memcpy" => Box::new(move || {
            buf[at..at + size].copy_from_slice(black_box(&src[1..1 + size]));
            black_box(&buf);
        }),
        _ => panic!("unknown implementation {imp}"),
    }
}

/// The measured part: callgrind counts only inside this function with
/// `--toggle-collect='*profile_workloads::counted*'`.
#[inline(never)]
fn counted(run: &mut Run, iterations: usize) {
    for _ in 0..iterations {
        run();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(workload), Some(imp)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: profile_workloads <workload> <rfc6455|tungstenite|memcpy> [iterations]");
        std::process::exit(2);
    };
    let iterations: usize = args.get(3).map_or(4, |s| s.parse().expect("iterations"));
    let mut run = match workload.as_str() {
        "decode_binary_64KiB" => decode("binary_64KiB", imp),
        "decode_mixed_text_64KiB" => decode("mixed_text_64KiB", imp),
        "decode_binary_16B" => decode("binary_16B", imp),
        "decode_text_16B" => decode("text_16B", imp),
        "decode_fragmented_text_4x1KiB" => decode("fragmented_text_4x1KiB", imp),
        "encode_binary_64KiB" => encode(false, imp),
        "encode_mixed_text_64KiB" => encode(true, imp),
        "header_encode_len7" => header_encode(16, imp),
        "header_encode_len16" => header_encode(1000, imp),
        "header_encode_len64" => header_encode(1 << 20, imp),
        "unmask_64KiB" => unmask(imp),
        other => panic!("unknown workload {other}"),
    };
    // Warm-up: buffers grow to their working size outside the counted iterations.
    run();
    if std::env::var_os("PROFILE_TIME").is_some() {
        // Wall-clock mode: the fastest of 21 timed batches, in ns per iteration.
        let best = (0..21)
            .map(|_| {
                let start = std::time::Instant::now();
                counted(&mut run, iterations);
                start.elapsed().as_nanos() as f64 / iterations as f64
            })
            .fold(f64::INFINITY, f64::min);
        println!("{workload} {imp}: {best:.0} ns per iteration (fastest of 21 batches of {iterations})");
        return;
    }
    counted(&mut run, iterations);
    println!("{workload} {imp}: {iterations} iterations after 1 warm-up");
}
