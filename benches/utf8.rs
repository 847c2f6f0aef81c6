//! UTF-8 validation (RFC 6455 §8.1) of 64 KiB of ASCII and of mixed-script text, whole and
//! incrementally in 1 KiB chunks (the validator a connection runs as text arrives), against
//! tungstenite's check of a text frame and `std::str::from_utf8`.

mod common;

use criterion::{Throughput, criterion_group, criterion_main};
use rfc6455::utf8::Utf8Validator;
use std::hint::black_box;

fn utf8(c: &mut criterion::Criterion) {
    let inputs = [("ascii_64KiB", common::ascii_text(64 << 10)), ("mixed_64KiB", common::mixed_text(64 << 10))];
    for (name, text) in inputs {
        let bytes = text.as_bytes();
        let mut group = c.benchmark_group(format!("utf8/{name}"));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        common::record_meta(&format!("utf8/{name}"), 1, bytes.len(), bytes.len());
        let frame = tungstenite::protocol::frame::Frame::message(
            bytes.to_vec(),
            tungstenite::protocol::frame::coding::OpCode::Data(tungstenite::protocol::frame::coding::Data::Text),
            true,
        );

        group.bench_function("rfc6455_whole", |b| {
            b.iter(|| {
                let mut v = Utf8Validator::new();
                v.feed(black_box(bytes)).unwrap();
                assert!(v.is_complete());
            })
        });
        group.bench_function("rfc6455_chunks_1KiB", |b| {
            b.iter(|| {
                let mut v = Utf8Validator::new();
                for chunk in black_box(bytes).chunks(1000) {
                    v.feed(chunk).unwrap();
                }
                assert!(v.is_complete());
            })
        });
        group.bench_function("std_from_utf8", |b| b.iter(|| std::str::from_utf8(black_box(bytes)).unwrap().len()));
        group.bench_function("simdutf8_basic", |b| {
            b.iter(|| simdutf8::basic::from_utf8(black_box(bytes)).unwrap().len())
        });
        group.bench_function("tungstenite", |b| b.iter(|| black_box(&frame).to_text().unwrap().len()));
        group.finish();
    }
}

criterion_group! { name = benches; config = common::criterion(); targets = utf8 }
criterion_main!(benches);
