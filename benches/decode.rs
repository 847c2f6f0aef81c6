//! In-memory decode, server role: many masked client messages, read the way a socket would be
//! read, every message handed to the application. tungstenite reads the same bytes from a
//! `Cursor` in the same run.

mod common;

use criterion::{Throughput, criterion_group, criterion_main};
use rfc6455::Connection;

fn decode(c: &mut criterion::Criterion) {
    for w in common::decode_workloads() {
        let mut group = c.benchmark_group(format!("decode/{}", w.name));
        group.throughput(Throughput::Elements(w.messages as u64));
        common::record_meta(&format!("decode/{}", w.name), w.messages, w.wire.len(), w.payload);

        let mut conn = Connection::new(common::server_config());
        assert_eq!(common::rfc6455_decode(&mut conn, &w.wire), w.messages);
        assert_eq!(common::tungstenite_decode(&w.wire), w.messages);

        group.bench_function("rfc6455", |b| b.iter(|| common::rfc6455_decode(&mut conn, &w.wire)));
        group.bench_function("tungstenite", |b| b.iter(|| common::tungstenite_decode(&w.wire)));
        group.finish();
    }
}

criterion_group! { name = benches; config = common::criterion(); targets = decode }
criterion_main!(benches);
