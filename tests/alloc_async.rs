//! Allocations of the async layer (feature `tokio`), counted on the thread that runs a
//! current-thread runtime with both ends: an echo through `respond_batch` and reads through
//! `read_with` allocate nothing per message in steady state, small or large, although every
//! connection hands its input buffer back to the pool whenever it waits for bytes.
#![cfg(feature = "tokio")]

mod alloc_support;

use alloc_support::{Counting, allocations};
use rfc6455::tokio::{Timeouts, WebSocket};
use rfc6455::{Config, Connection, Event, MaskKeySource, MessageKind};
use tokio::io::DuplexStream;

#[global_allocator]
static GLOBAL: Counting = Counting;

async fn echo_round(client: &mut WebSocket<DuplexStream>, server: &mut WebSocket<DuplexStream>, payload: &[u8]) {
    let send = async {
        client.send_binary(payload).await.unwrap();
        client.read_with(|event| matches!(event, Event::Binary(data) if data.len() == payload.len())).await.unwrap()
    };
    let serve = server.respond_batch(|event| match event {
        Event::Binary(data) => Some((MessageKind::Binary, data)),
        _ => None,
    });
    let (echoed, handled) = tokio::join!(send, serve);
    assert!(echoed);
    assert_eq!(handled.unwrap(), 1);
}

#[test]
fn async_echo_allocates_nothing_per_message_in_steady_state() {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let (a, b) = tokio::io::duplex(256 << 10);
    let client = Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(3)));
    let (mut client, mut server) = runtime.block_on(async {
        let client = WebSocket::from_parts(a, client, &[], Timeouts::default()).unwrap();
        let server = WebSocket::from_parts(b, Connection::new(Config::server()), &[], Timeouts::default()).unwrap();
        (client, server)
    });
    let small = vec![7u8; 20];
    let large = vec![8u8; 64 << 10];
    for payload in [&small, &large] {
        // Warm up: every buffer grows to its working size, the pool fills.
        runtime.block_on(async {
            for _ in 0..20 {
                echo_round(&mut client, &mut server, payload).await;
            }
        });
    }
    for payload in [&small, &large] {
        let n = allocations(|| {
            runtime.block_on(async {
                for _ in 0..100 {
                    echo_round(&mut client, &mut server, payload).await;
                }
            })
        });
        assert_eq!(n, 0, "{n} allocations for 100 echoes of {} bytes", payload.len());
    }
}
