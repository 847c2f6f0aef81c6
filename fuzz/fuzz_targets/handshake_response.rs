//! Arbitrary bytes into the client's response reader and validator (RFC 6455 §4.1), with the
//! matching key, in any chunking. The client's key comes from a fixed seed, so the seeds hold
//! the right `Sec-WebSocket-Accept` and the fuzzer reaches the checks behind it. First byte:
//! chunking seed; the rest is what the server sent. Checks: no panic; the same outcome whole and
//! chunked; an accepted response really is a 101 with the right accept value, no unoffered
//! subprotocol or extension.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::handshake::{ClientHandshake, ClientOptions, Response, accept_key};
use rfc6455::{HandshakeError, MaskKeySource};
use rfc6455_fuzz::{chunks, small_limits};

type Outcome = (Result<Option<Response>, HandshakeError>, Vec<u8>);

fn options() -> ClientOptions {
    ClientOptions {
        subprotocols: vec!["chat".into(), "superchat".into()],
        origin: Some("http://example.com".into()),
        extensions: vec!["permessage-deflate; client_max_window_bits".into()],
        extra_headers: Vec::new(),
    }
}

fn read(stream: &[u8], seed: u64) -> (Outcome, String) {
    let mut keys = MaskKeySource::Seeded(0).generator();
    let mut handshake =
        ClientHandshake::new("server.example.com", "/chat", &options(), &mut keys, small_limits().max_handshake_size)
            .expect("a valid request");
    let key = handshake.key().to_owned();
    let mut result = Ok(None);
    for piece in chunks(stream, seed) {
        match handshake.receive(piece) {
            Ok(Some(response)) => {
                assert!(matches!(result, Ok(None)), "a second response");
                result = Ok(Some(response));
            }
            Ok(None) => {}
            Err(e) => {
                assert_eq!(handshake.receive(b"x"), Err(e.clone()), "errors are sticky");
                if let HandshakeError::UnexpectedStatus(status) = e {
                    assert_eq!(handshake.refused_response().map(|r| r.status), Some(status));
                }
                result = Err(e);
                break;
            }
        }
    }
    let remainder = handshake.remainder().to_vec();
    ((result, remainder), key)
}

fuzz_target!(|data: &[u8]| {
    let Some((&seed, stream)) = data.split_first() else { return };
    let ((chunked, chunked_rest), key) = read(stream, u64::from(seed));
    let ((whole, whole_rest), _) = read(stream, 3 << 62 | 0xFFFF);
    match (&chunked, &whole) {
        (Ok(Some(a)), Ok(Some(b))) => {
            assert_eq!(a, b, "the response depends on the chunking");
            assert_eq!(chunked_rest, whole_rest, "the remainder depends on the chunking");
        }
        (Ok(Some(_)), _) | (_, Ok(Some(_))) => panic!("accepted in one chunking only: {chunked:?} vs {whole:?}"),
        _ => {}
    }
    if let Ok(Some(response)) = &chunked {
        assert_eq!(response.status, 101);
        let accept = response.header("Sec-WebSocket-Accept").expect("accept header");
        assert_eq!(accept.trim_ascii(), accept_key(key.as_bytes()).as_bytes());
        if let Some(protocol) = &response.subprotocol {
            assert!(options().subprotocols.contains(protocol), "unoffered subprotocol {protocol:?}");
        }
    }
});
