//! Arbitrary bytes from a server, cut into arbitrary chunks, fed to a client connection after a
//! successful opening handshake. First 3 bytes: options and chunking seed (see
//! `StreamOptions::split`); the rest is the stream. Checks: no panic, memory within the limits,
//! no event after a failure, the failure's Close queued, the same events in any chunking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::handshake::{ClientHandshake, ClientOptions, accept_key};
use rfc6455::{MaskKeySource, Role};
use rfc6455_fuzz::{small_limits, stream_target};

fuzz_target!(|data: &[u8]| {
    stream_target(Role::Client, data, |first: &[&[u8]]| {
        let mut keys = MaskKeySource::Seeded(0).generator();
        let limit = small_limits().max_handshake_size;
        let mut handshake =
            ClientHandshake::new("server.example.com", "/chat", &ClientOptions::default(), &mut keys, limit)
                .expect("a valid request");
        let mut head = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n\r\n",
            accept_key(handshake.key().as_bytes())
        )
        .into_bytes();
        head.extend_from_slice(first.first().copied().unwrap_or_default());
        handshake.receive(&head).expect("valid response").expect("complete");
        for piece in first.iter().skip(1) {
            assert_eq!(handshake.receive(piece), Ok(None));
        }
        handshake.into_remainder()
    });
});
