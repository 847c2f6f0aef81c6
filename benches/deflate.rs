//! permessage-deflate (RFC 7692): the crate's compressed message round trip (client encodes
//! and compresses, server decodes and inflates) against the deflate library alone doing the
//! same compression and inflation of the same bytes with the same settings. The difference is
//! the crate's overhead: framing, masking, the sync-flush tail, UTF-8 validation, buffers.
//!
//! Also prints the compression ratio of each payload. Run with `cargo bench --bench deflate`.

#[path = "common/deflate_payloads.rs"]
mod payloads;

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use rfc6455::extensions::permessage_deflate::{DeflateConfig, DeflateParams};
use rfc6455::{Config, Connection, Event, MaskKeySource, MessageKind};

const LEVEL: u32 = 1;

fn pair() -> (Connection, Connection) {
    let params = DeflateParams {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
    };
    let deflate = DeflateConfig { level: LEVEL, ..DeflateConfig::default() }.with_params(params);
    let client = Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(1)).with_deflate(deflate));
    let server = Connection::new(Config::server().with_deflate(deflate));
    (client, server)
}

/// One message through the crate: compress, frame, mask; then unmask, inflate, validate.
fn crate_round_trip(client: &mut Connection, server: &mut Connection, kind: MessageKind, payload: &[u8]) -> usize {
    client.send_message_with(kind, payload, true).expect("send");
    server.receive(client.output()).expect("receive");
    let n = client.output().len();
    client.consume_output(n);
    match server.next_event().expect("valid") {
        Some(Event::Text(text)) => text.len(),
        Some(Event::Binary(data)) => data.len(),
        other => panic!("unexpected {other:?}"),
    }
}

/// The same work with the deflate library alone: sync-flush compress, inflate.
struct Raw {
    compress: Compress,
    decompress: Decompress,
    compressed: Vec<u8>,
    inflated: Vec<u8>,
}

impl Raw {
    fn new() -> Raw {
        Raw {
            compress: Compress::new_with_window_bits(Compression::new(LEVEL), false, 15),
            decompress: Decompress::new_with_window_bits(false, 15),
            compressed: Vec::with_capacity(2 * payloads::SIZE),
            inflated: Vec::with_capacity(2 * payloads::SIZE),
        }
    }

    fn round_trip(&mut self, payload: &[u8]) -> usize {
        self.compressed.clear();
        self.inflated.clear();
        self.compress.compress_vec(payload, &mut self.compressed, FlushCompress::Sync).expect("compress");
        self.decompress.decompress_vec(&self.compressed, &mut self.inflated, FlushDecompress::Sync).expect("inflate");
        self.inflated.len()
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("deflate_round_trip_16KiB");
    for (name, kind, payload) in
        [("text", MessageKind::Text, payloads::text()), ("binary", MessageKind::Binary, payloads::binary())]
    {
        let (mut client, _) = pair();
        client.send_message_with(kind, &payload, true).expect("send");
        let wire = client.output().len();
        let mut raw = Raw::new();
        raw.round_trip(&payload);
        println!(
            "deflate {name}: {} bytes -> {} on the wire ({:.1}% of the original; raw deflate {} bytes)",
            payload.len(),
            wire,
            100.0 * wire as f64 / payload.len() as f64,
            raw.compressed.len()
        );

        group.throughput(Throughput::Bytes(payload.len() as u64));
        let (mut client, mut server) = pair();
        group.bench_with_input(BenchmarkId::new("rfc6455", name), &payload, |b, payload| {
            b.iter(|| black_box(crate_round_trip(&mut client, &mut server, kind, payload)))
        });
        let mut raw = Raw::new();
        group.bench_with_input(BenchmarkId::new("raw_flate2_zlib_rs", name), &payload, |b, payload| {
            b.iter(|| black_box(raw.round_trip(payload)))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
