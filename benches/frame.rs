//! Frame header decode and encode (RFC 6455 §5.2): small, 16-bit and 64-bit lengths, masked.

mod common;

use criterion::{Throughput, criterion_group, criterion_main};
use rfc6455::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};
use std::hint::black_box;
use std::io::Cursor;

const HEADERS: usize = 1024;

fn headers(c: &mut criterion::Criterion) {
    for (name, len) in [("len7", 16u64), ("len16", 1000), ("len64", 1 << 20)] {
        let header = FrameHeader {
            fin: true,
            rsv: 0,
            opcode: OpCode::Binary,
            masking_key: Some([1, 2, 3, 4]),
            payload_len: len,
        };
        let mut one = [0u8; MAX_HEADER_LEN];
        let n = header.write(&mut one);
        // 1024 headers back to back, as if the payloads were skipped.
        let wire: Vec<u8> = one[..n].iter().copied().cycle().take(n * HEADERS).collect();

        let mut group = c.benchmark_group(format!("header_decode/{name}"));
        group.throughput(Throughput::Elements(HEADERS as u64));
        common::record_meta(&format!("header_decode/{name}"), HEADERS, wire.len(), 0);
        group.bench_function("rfc6455", |b| {
            b.iter(|| {
                let mut at = 0;
                let mut sum = 0;
                while at < wire.len() {
                    let (h, used) = FrameHeader::parse(black_box(&wire[at..])).unwrap().unwrap();
                    sum += h.payload_len;
                    at += used;
                }
                sum
            })
        });
        group.bench_function("tungstenite", |b| {
            b.iter(|| {
                let mut cursor = Cursor::new(black_box(&wire[..]));
                let mut sum = 0;
                while (cursor.position() as usize) < wire.len() {
                    let (_, len) = tungstenite::protocol::frame::FrameHeader::parse(&mut cursor).unwrap().unwrap();
                    sum += len;
                }
                sum
            })
        });
        group.finish();

        let mut group = c.benchmark_group(format!("header_encode/{name}"));
        group.throughput(Throughput::Elements(HEADERS as u64));
        common::record_meta(&format!("header_encode/{name}"), HEADERS, wire.len(), 0);
        let mut out = Vec::with_capacity(wire.len());
        group.bench_function("rfc6455", |b| {
            b.iter(|| {
                out.clear();
                for _ in 0..HEADERS {
                    // black_box on every iteration keeps the length opaque to the optimizer.
                    let h = FrameHeader { payload_len: black_box(len), ..header };
                    // The encoder's own path: the header appended to the output buffer.
                    h.append_to(&mut out);
                }
                out.len()
            })
        });
        let theirs = tungstenite::protocol::frame::FrameHeader {
            mask: Some([1, 2, 3, 4]),
            opcode: tungstenite::protocol::frame::coding::OpCode::Data(
                tungstenite::protocol::frame::coding::Data::Binary,
            ),
            ..Default::default()
        };
        group.bench_function("tungstenite", |b| {
            b.iter(|| {
                out.clear();
                for _ in 0..HEADERS {
                    theirs.format(black_box(len), &mut out).unwrap();
                }
                out.len()
            })
        });
        assert_eq!(out, wire);
        group.finish();
    }
}

criterion_group! { name = benches; config = common::criterion(); targets = headers }
criterion_main!(benches);
