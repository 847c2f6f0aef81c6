//! Counts the work of permessage-deflate for `valgrind --tool=callgrind`: `N` round trips of
//! one 16 KiB message through the crate (client compresses, frames and masks; server unmasks,
//! inflates and validates), or through the deflate library alone (sync-flush compress, then
//! inflate, same level and window). Instruction counts are repeatable on a shared machine,
//! where timings are not.
//!
//! ```text
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/profile_deflate crate text 200
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/profile_deflate raw text 200
//! ```
//!
//! The ratio of the two totals (minus a run with `0` round trips, the fixed start-up cost) is
//! the crate's overhead over the library.

#[path = "../benches/common/deflate_payloads.rs"]
mod payloads;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use rfc6455::extensions::permessage_deflate::{DeflateConfig, DeflateParams};
use rfc6455::{Config, Connection, Event, MaskKeySource, MessageKind};

const LEVEL: u32 = 1;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(mode), Some(payload), Some(rounds)) = (args.first(), args.get(1), args.get(2)) else {
        eprintln!("usage: profile_deflate crate|raw text|binary ROUNDS");
        std::process::exit(2);
    };
    let rounds: usize = rounds.parse().unwrap_or(0);
    let (kind, data) = if payload == "text" {
        (MessageKind::Text, payloads::text())
    } else {
        (MessageKind::Binary, payloads::binary())
    };
    let mut total = 0usize;
    if mode == "crate" {
        let params = DeflateParams {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        };
        let deflate = DeflateConfig { level: LEVEL, ..DeflateConfig::default() }.with_params(params);
        let mut client =
            Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(1)).with_deflate(deflate));
        let mut server = Connection::new(Config::server().with_deflate(deflate));
        for _ in 0..rounds {
            client.send_message_with(kind, &data, true).expect("send");
            server.receive(client.output()).expect("receive");
            let n = client.output().len();
            client.consume_output(n);
            total += match server.next_event().expect("valid") {
                Some(Event::Text(text)) => text.len(),
                Some(Event::Binary(bytes)) => bytes.len(),
                _ => 0,
            };
        }
    } else {
        let mut compress = Compress::new_with_window_bits(Compression::new(LEVEL), false, 15);
        let mut decompress = Decompress::new_with_window_bits(false, 15);
        let mut compressed = Vec::with_capacity(2 * payloads::SIZE);
        let mut inflated = Vec::with_capacity(2 * payloads::SIZE);
        for _ in 0..rounds {
            compressed.clear();
            inflated.clear();
            compress.compress_vec(&data, &mut compressed, FlushCompress::Sync).expect("compress");
            decompress.decompress_vec(&compressed, &mut inflated, FlushDecompress::Sync).expect("inflate");
            total += inflated.len();
        }
    }
    println!("{total} bytes through {mode}");
}
