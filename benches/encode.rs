//! In-memory encode, client role (masking included): messages queued and the output taken as a
//! socket would take it. tungstenite writes the same messages to a stream that discards them.

mod common;

use criterion::{Throughput, criterion_group, criterion_main};
use rfc6455::{Config, Connection, MaskKeySource};
use tungstenite::protocol::{Role, WebSocket};

enum Payload {
    Binary(Vec<u8>),
    Text(String),
}

fn encode(c: &mut criterion::Criterion) {
    let workloads = [
        ("binary_16B", 8192, Payload::Binary(common::binary(16))),
        ("text_16B", 8192, Payload::Text(common::ascii_text(16))),
        ("binary_64KiB", 32, Payload::Binary(common::binary(64 << 10))),
        ("mixed_text_64KiB", 32, Payload::Text(common::mixed_text(64 << 10))),
    ];
    for (name, count, payload) in workloads {
        let len = match &payload {
            Payload::Binary(b) => b.len(),
            Payload::Text(t) => t.len(),
        };
        let mut group = c.benchmark_group(format!("encode/{name}"));
        group.throughput(Throughput::Elements(count as u64));
        common::record_meta(&format!("encode/{name}"), count, 0, count * len);

        let mut conn = Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(3)));
        group.bench_function("rfc6455", |b| {
            b.iter(|| {
                // Flush the output whenever 64 KiB are queued, as a socket writer would.
                for _ in 0..count {
                    match &payload {
                        Payload::Binary(d) => conn.send_binary(d).unwrap(),
                        Payload::Text(t) => conn.send_text(t).unwrap(),
                    }
                    if conn.output().len() >= 64 << 10 {
                        std::hint::black_box(conn.output().len());
                        let n = conn.output().len();
                        conn.consume_output(n);
                    }
                }
                let n = conn.output().len();
                conn.consume_output(n);
            })
        });

        let mut ws = WebSocket::from_raw_socket(common::Null, Role::Client, None);
        let message = match &payload {
            Payload::Binary(d) => tungstenite::Message::Binary(d.clone().into()),
            Payload::Text(t) => tungstenite::Message::Text(t.clone().into()),
        };
        group.bench_function("tungstenite", |b| {
            b.iter(|| {
                for _ in 0..count {
                    // Cloning the message clones a reference-counted buffer, not the bytes.
                    ws.write(message.clone()).unwrap();
                }
                ws.flush().unwrap();
            })
        });
        group.finish();
    }
}

criterion_group! { name = benches; config = common::criterion(); targets = encode }
criterion_main!(benches);
