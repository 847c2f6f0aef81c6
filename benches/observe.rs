//! The frame log's cost (`rfc6455::observe`), in one run: the decode workloads read by a server
//! with no observer (the default), with a `FrameLog` drained after each pass, and by tungstenite
//! as the yardstick the other benches use. "off" is the code every connection runs; compare it
//! with the `decode` bench of a build without the hook for the cost of the branch.

mod common;

use std::sync::Arc;
use std::time::Duration;

use criterion::{Throughput, criterion_group, criterion_main};
use rfc6455::Connection;
use rfc6455::observe::FrameLog;

fn observe(c: &mut criterion::Criterion) {
    for w in common::decode_workloads() {
        let mut group = c.benchmark_group(format!("observe/{}", w.name));
        group.throughput(Throughput::Elements(w.messages as u64));
        common::record_meta(&format!("observe/{}", w.name), w.messages, w.wire.len(), w.payload);

        let mut off = Connection::new(common::server_config());
        assert_eq!(common::rfc6455_decode(&mut off, &w.wire), w.messages);
        let log = Arc::new(FrameLog::new(64 << 10));
        let mut on = Connection::new(common::server_config().with_observer(log.clone()));
        let mut taken = Vec::with_capacity(64 << 10);
        assert_eq!(common::rfc6455_decode(&mut on, &w.wire), w.messages);
        assert_eq!(log.take(&mut taken, Duration::ZERO), 0, "the log holds a whole pass");
        assert!(taken.len() > w.messages, "every frame and message logged");

        group.bench_function("off", |b| b.iter(|| common::rfc6455_decode(&mut off, &w.wire)));
        group.bench_function("on", |b| {
            b.iter(|| {
                let n = common::rfc6455_decode(&mut on, &w.wire);
                taken.clear();
                log.take(&mut taken, Duration::ZERO);
                n
            })
        });
        group.bench_function("tungstenite", |b| b.iter(|| common::tungstenite_decode(&w.wire)));
        group.finish();
    }
}

criterion_group! { name = benches; config = common::criterion(); targets = observe }
criterion_main!(benches);
