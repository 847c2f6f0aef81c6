//! Properties of the opening handshake (RFC 6455 §4): a request the crate's client builds, for
//! arbitrary valid resource names, subprotocols, origins, extension offers and extra headers,
//! is accepted by the crate's server parser in any chunking, with every field intact; the
//! server's 101 is accepted by the client; and a handshake broken in one known way is refused
//! with the status §4.2.1/§4.4 prescribe (or, for the client, the matching error), never with a
//! panic. Arbitrary byte damage never panics either.
//!
//! Cases: `PROPTEST_CASES` (default 64 here) raises the count for a deep run.

use proptest::prelude::*;
use rfc6455::handshake::{ClientHandshake, ClientOptions, Request, ServerHandshake, accept_response};
use rfc6455::{HandshakeError, MaskKeySource};

const MAX: usize = 16 * 1024;

fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

/// An HTTP token (RFC 7230 §3.2.6).
fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}"
}

/// Header names the handshake writes itself, which extra headers must not repeat.
const OWN: [&str; 8] = [
    "host",
    "upgrade",
    "connection",
    "origin",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
];

fn options() -> impl Strategy<Value = ClientOptions> {
    (
        prop::collection::btree_set(token(), 0..4),
        prop::option::of("https?://[a-z]{1,10}(:[0-9]{1,5})?"),
        prop::collection::vec(
            prop::sample::select(vec![
                "permessage-deflate",
                "permessage-deflate; client_max_window_bits",
                "x-custom; a=1",
            ]),
            0..3,
        ),
        prop::collection::vec((token(), "[ -~]{0,20}"), 0..4),
    )
        .prop_map(|(subprotocols, origin, extensions, extra)| ClientOptions {
            subprotocols: subprotocols.into_iter().collect(),
            origin,
            extensions: extensions.into_iter().map(String::from).collect(),
            extra_headers: extra
                .into_iter()
                .filter(|(name, _)| !OWN.contains(&name.to_ascii_lowercase().as_str()))
                .map(|(name, value)| (name, value.trim().to_owned()))
                .collect(),
        })
}

/// A resource name: `/` and visible ASCII (§3: path and query of the URI).
fn resource() -> impl Strategy<Value = String> {
    "/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]{0,30}"
}

fn host() -> impl Strategy<Value = String> {
    "[a-z0-9.-]{1,20}(:[0-9]{1,5})?"
}

/// Feed `bytes` to a server reader cut at `cuts`.
fn server_read(bytes: &[u8], cuts: &[usize]) -> (Result<Option<Request>, HandshakeError>, Vec<u8>) {
    let mut reader = ServerHandshake::new(MAX);
    let mut bounds: Vec<usize> = cuts.iter().map(|&c| c % (bytes.len() + 1)).collect();
    bounds.sort_unstable();
    bounds.push(bytes.len());
    let mut result = Ok(None);
    let mut from = 0;
    for to in bounds {
        match reader.receive(&bytes[from..to]) {
            Ok(Some(request)) => result = Ok(Some(request)),
            Ok(None) => {}
            Err(e) => return (Err(e), Vec::new()),
        }
        from = to;
    }
    (result, reader.remainder().to_vec())
}

/// A valid request as the crate's client writes it.
fn client_request(host: &str, resource: &str, options: &ClientOptions, seed: u64) -> ClientHandshake {
    let mut keys = MaskKeySource::Seeded(seed).generator();
    ClientHandshake::new(host, resource, options, &mut keys, MAX).expect("valid inputs")
}

/// The ways to break a request, with the error each must bring.
fn request_mutation() -> impl Strategy<Value = usize> {
    0usize..10
}

fn mutate_request(request: &[u8], which: usize) -> (Vec<u8>, u16) {
    let text = String::from_utf8(request.to_vec()).expect("ASCII");
    let drop_header = |name: &str| {
        text.split("\r\n").filter(|line| !line.starts_with(name)).collect::<Vec<_>>().join("\r\n").into_bytes()
    };
    match which {
        0 => (text.replacen("GET ", "POST ", 1).into_bytes(), 405),
        1 => (text.replacen(" HTTP/1.1\r\n", " HTTP/1.0\r\n", 1).into_bytes(), 400),
        2 => (drop_header("Host:"), 400),
        3 => (drop_header("Upgrade:"), 400),
        4 => (drop_header("Connection:"), 400),
        5 => (drop_header("Sec-WebSocket-Key:"), 400),
        6 => (text.replacen("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8", 1).into_bytes(), 426),
        7 => (drop_header("Sec-WebSocket-Version:"), 426),
        8 => (text.replacen("Host: ", "Host: a\r\nHost: ", 1).into_bytes(), 400),
        _ => {
            // A head over the size limit: 431.
            let padding = format!("X-Padding: {}\r\n", "a".repeat(MAX));
            (text.replacen("\r\n", &format!("\r\n{padding}"), 1).into_bytes(), 431)
        }
    }
}

proptest! {
    #![proptest_config(cases(64))]

    #[test]
    fn s4_client_request_is_accepted_and_the_answer_too(
        host in host(),
        resource in resource(),
        options in options(),
        seed in any::<u64>(),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
        pick in any::<prop::sample::Index>(),
    ) {
        let mut client = client_request(&host, &resource, &options, seed);
        let mut bytes = client.request().to_vec();
        // A first frame right behind the request must come out as the remainder.
        bytes.extend_from_slice(&[0x81, 0x80, 1, 2, 3, 4]);
        let (result, remainder) = server_read(&bytes, &cuts);
        let request = result.expect("parsed").expect("complete");
        prop_assert_eq!(remainder, vec![0x81, 0x80, 1, 2, 3, 4]);
        prop_assert_eq!(request.validate_websocket(), Ok(()));
        prop_assert_eq!(&request.path, &resource);
        prop_assert_eq!(request.host.as_deref(), Some(host.as_str()));
        prop_assert_eq!(request.key.as_deref(), Some(client.key()));
        prop_assert_eq!(&request.subprotocols, &options.subprotocols);
        prop_assert_eq!(&request.origin, &options.origin);
        for (name, value) in &options.extra_headers {
            prop_assert!(request.header_all(name).any(|v| v == value.as_bytes()), "header {} lost", name);
        }
        let offered: Vec<&str> = request.extension_names().collect();
        for offer in &options.extensions {
            let name = offer.split(';').next().unwrap().trim();
            prop_assert!(offered.contains(&name));
        }

        // The server picks one of the offered subprotocols (or none) and the client accepts.
        let chosen = if options.subprotocols.is_empty() {
            None
        } else {
            let i = pick.index(options.subprotocols.len() + 1);
            options.subprotocols.get(i).map(String::as_str)
        };
        let extensions: Vec<(&str, &str)> = options
            .extensions
            .first()
            .map(|offer| ("Sec-WebSocket-Extensions", offer.split(';').next().unwrap().trim()))
            .into_iter()
            .collect();
        let mut answer = accept_response(&request, chosen, &extensions).expect("accepted");
        answer.extend_from_slice(&[0x81, 0x00]);
        let mut bounds: Vec<usize> = cuts.iter().map(|&c| c % (answer.len() + 1)).collect();
        bounds.sort_unstable();
        bounds.push(answer.len());
        let mut response = None;
        let mut from = 0;
        for to in bounds {
            if let Some(r) = client.receive(&answer[from..to]).expect("the answer is valid") {
                response = Some(r);
            }
            from = to;
        }
        let response = response.expect("complete");
        prop_assert_eq!(response.status, 101);
        prop_assert_eq!(response.subprotocol.as_deref(), chosen);
        prop_assert_eq!(client.remainder(), &[0x81, 0x00][..]);
    }

    #[test]
    fn s4_2_1_broken_requests_get_the_right_status(
        host in host(),
        resource in resource(),
        options in options(),
        which in request_mutation(),
        cuts in prop::collection::vec(any::<usize>(), 0..4),
    ) {
        let client = client_request(&host, &resource, &options, 1);
        let (bytes, status) = mutate_request(client.request(), which);
        let (result, _) = server_read(&bytes, &cuts);
        let error = match result {
            Err(e) => e,
            Ok(Some(request)) => {
                let e = request.validate_websocket().expect_err("a broken request was accepted");
                prop_assert!(accept_response(&request, None, &[]).is_err());
                e
            }
            Ok(None) => return Err(TestCaseError::fail("incomplete")),
        };
        prop_assert_eq!(error.http_status(), status, "{:?}", error);
    }

    #[test]
    fn s4_1_broken_responses_are_refused(
        options in options(),
        which in 0usize..6,
        seed in any::<u64>(),
    ) {
        let mut client = client_request("example.com", "/", &options, seed);
        let request = server_read(client.request(), &[]).0.unwrap().unwrap();
        let answer = String::from_utf8(accept_response(&request, None, &[]).unwrap()).unwrap();
        let drop_header = |name: &str| {
            answer.split("\r\n").filter(|line| !line.starts_with(name)).collect::<Vec<_>>().join("\r\n")
        };
        let (broken, expected) = match which {
            0 => (answer.replacen("101 Switching Protocols", "200 OK", 1), HandshakeError::UnexpectedStatus(200)),
            1 => (drop_header("Upgrade:"), HandshakeError::MissingUpgrade),
            2 => (drop_header("Connection:"), HandshakeError::MissingConnectionUpgrade),
            3 => (drop_header("Sec-WebSocket-Accept:"), HandshakeError::InvalidAccept),
            4 => (
                answer.replacen("\r\n\r\n", "\r\nSec-WebSocket-Protocol: not-offered-by-the-client\r\n\r\n", 1),
                HandshakeError::UnofferedSubprotocol,
            ),
            _ => (
                answer.replacen("\r\n\r\n", "\r\nSec-WebSocket-Extensions: x-never-offered\r\n\r\n", 1),
                HandshakeError::UnofferedExtension,
            ),
        };
        prop_assert_eq!(client.receive(broken.as_bytes()), Err(expected));
    }

    /// Arbitrary damage: flipped, inserted or removed bytes anywhere never cause a panic, and a
    /// refusal is always one of the statuses a server sends.
    #[test]
    fn s4_2_1_damaged_requests_never_panic(
        options in options(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
        cuts in prop::collection::vec(any::<usize>(), 0..4),
    ) {
        let client = client_request("example.com", "/chat", &options, 3);
        let mut bytes = client.request().to_vec();
        for (at, byte, op) in edits {
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => { bytes.remove(i); }
            }
        }
        match server_read(&bytes, &cuts).0 {
            Err(e) => prop_assert!(matches!(e.http_status(), 400 | 405 | 426 | 431)),
            Ok(Some(request)) => {
                if let Err(e) = request.validate_websocket() {
                    prop_assert!(matches!(e.http_status(), 400 | 405 | 426), "{:?}", e);
                }
            }
            Ok(None) => {}
        }
    }
}
