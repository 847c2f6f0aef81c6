//! Arbitrary bytes into the server's request reader and validator (RFC 6455 §4.2.1), in any
//! chunking. First byte: chunking seed; the rest is what the client sent. Checks: no panic; the
//! same request (or failure) whole and chunked; an error's status is one a server may send; a
//! request that validates is accepted by `accept_response` and the answer is a well-formed 101;
//! a refusal is a well-formed response with the error's status.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::HandshakeError;
use rfc6455::handshake::{Request, ServerHandshake, accept_key, accept_response, reject_response};
use rfc6455_fuzz::{chunks, small_limits};

type Outcome = (Result<Option<Request>, HandshakeError>, Vec<u8>);

fn read(stream: &[u8], seed: u64) -> Outcome {
    let mut handshake = ServerHandshake::new(small_limits().max_handshake_size);
    let mut result = Ok(None);
    for piece in chunks(stream, seed) {
        match handshake.receive(piece) {
            Ok(Some(request)) => {
                assert!(matches!(result, Ok(None)), "a second request");
                result = Ok(Some(request));
            }
            Ok(None) => {}
            Err(e) => {
                // Sticky: every later call fails the same way.
                assert_eq!(handshake.receive(b"x"), Err(e.clone()));
                if result.is_ok() {
                    result = Err(e);
                }
                break;
            }
        }
    }
    let remainder = handshake.remainder().to_vec();
    (result, remainder)
}

fuzz_target!(|data: &[u8]| {
    let Some((&seed, stream)) = data.split_first() else { return };
    let (chunked, chunked_rest) = read(stream, u64::from(seed));
    let (whole, whole_rest) = read(stream, 3 << 62 | 0xFFFF);
    match (&chunked, &whole) {
        (Ok(Some(a)), Ok(Some(b))) => {
            assert_eq!(a, b, "the request depends on the chunking");
            // The remainder is the same once all bytes are in (the chunked run stops early
            // only on an error).
            assert_eq!(chunked_rest, whole_rest, "the remainder depends on the chunking");
        }
        (Ok(Some(_)), _) | (_, Ok(Some(_))) => panic!("complete in one chunking only: {chunked:?} vs {whole:?}"),
        _ => {}
    }
    for result in [&chunked, &whole] {
        let request = match result {
            Err(e) => {
                let status = e.http_status();
                assert!(matches!(status, 400 | 405 | 426 | 431), "status {status} for {e:?}");
                let answer = reject_response(e);
                assert!(answer.starts_with(format!("HTTP/1.1 {status} ").as_bytes()));
                continue;
            }
            Ok(None) => continue,
            Ok(Some(request)) => request,
        };
        let _ = request.is_websocket_upgrade();
        let _ = request.resource_name();
        let _ = request.extension_names().count();
        match request.validate_websocket() {
            Ok(()) => {
                assert!(request.is_websocket_upgrade());
                let chosen = request.subprotocols.first().map(String::as_str);
                let answer = accept_response(request, chosen, &[]).expect("a valid request is accepted");
                let key = request.key.as_deref().expect("validated");
                let expected = format!("Sec-WebSocket-Accept: {}\r\n", accept_key(key.as_bytes()));
                assert!(answer.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
                assert!(answer.windows(expected.len()).any(|w| w == expected.as_bytes()));
                assert!(answer.ends_with(b"\r\n\r\n"));
            }
            Err(e) => {
                assert!(matches!(e.http_status(), 400 | 405 | 426), "{e:?}");
                assert!(accept_response(request, None, &[]).is_err(), "an invalid request was accepted");
            }
        }
    }
});
