//! Arbitrary bytes from a client, cut into arbitrary chunks, fed to a server connection after a
//! successful opening handshake. First 3 bytes: options and chunking seed (see
//! `StreamOptions::split`); the rest is the stream. Checks: no panic, memory within the limits,
//! no event after a failure, the failure's Close queued, the same events in any chunking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::Role;
use rfc6455::handshake::{ServerHandshake, accept_response};
use rfc6455_fuzz::{small_limits, stream_target};

const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

fuzz_target!(|data: &[u8]| {
    stream_target(Role::Server, data, |first: &[&[u8]]| {
        let mut handshake = ServerHandshake::new(small_limits().max_handshake_size);
        let mut head = REQUEST.to_vec();
        head.extend_from_slice(first.first().copied().unwrap_or_default());
        let request = handshake.receive(&head).expect("valid request").expect("complete");
        request.validate_websocket().expect("a WebSocket request");
        accept_response(&request, None, &[]).expect("accepted");
        for piece in first.iter().skip(1) {
            assert_eq!(handshake.receive(piece), Ok(None));
        }
        handshake.into_remainder()
    });
});
