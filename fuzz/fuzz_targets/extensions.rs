//! Arbitrary text into the `Sec-WebSocket-Extensions` parser (RFC 6455 §9.1) and both sides of
//! the permessage-deflate negotiation (RFC 7692 §7.1). First byte: the local preferences; the
//! rest: the header value. Checks: no panic; a parsed list written back parses to the same
//! list; an answer the server gives obeys the offer it accepted and parses back; whatever the
//! client accepts has window bits within 8..=15 and within what it offered.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::extensions::permessage_deflate::DeflateConfig;
use rfc6455::extensions::{format_extensions, parse_extensions};

fuzz_target!(|data: &[u8]| {
    let [flags, rest @ ..] = data else { return };
    let Ok(header) = std::str::from_utf8(rest) else { return };
    let config = DeflateConfig {
        server_no_context_takeover: flags & 1 != 0,
        client_no_context_takeover: flags & 2 != 0,
        server_max_window_bits: 8 + (flags >> 2 & 7),
        client_max_window_bits: 8 + (flags >> 5 & 7),
        ..DeflateConfig::default()
    };
    let Ok(extensions) = parse_extensions(header) else { return };
    // Writing a parsed list back gives text that parses to the same list.
    let written = format_extensions(&extensions);
    assert_eq!(parse_extensions(&written).as_ref(), Ok(&extensions), "{written:?}");

    // Server: whatever it answers parses back, and respects the offer it took.
    if let Some((params, answer)) = config.negotiate(&extensions) {
        let answer_text = answer.to_string();
        assert_eq!(parse_extensions(&answer_text), Ok(vec![answer.clone()]));
        assert!((8..=15).contains(&params.server_max_window_bits));
        assert!((8..=15).contains(&params.client_max_window_bits));
        assert!(params.server_max_window_bits <= config.server_max_window_bits);
        if config.server_no_context_takeover {
            assert!(params.server_no_context_takeover);
        }
        // A client that offered exactly what our own offer contains accepts our answer to it.
        let client = DeflateConfig::default();
        let offer = client.offer();
        if let Some((_, answer_to_ours)) = config.negotiate(std::slice::from_ref(&offer)) {
            assert!(client.accept_response(&[answer_to_ours]).is_ok_and(|p| p.is_some()));
        }
    }

    // Client: an accepted answer stays within the offer.
    if let Ok(Some(params)) = config.accept_response(&extensions) {
        assert!((8..=15).contains(&params.server_max_window_bits));
        assert!((8..=15).contains(&params.client_max_window_bits));
        assert!(params.server_max_window_bits <= config.server_max_window_bits);
        assert!(params.client_max_window_bits <= config.client_max_window_bits);
    }
});
