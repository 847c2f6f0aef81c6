//! Property: with permessage-deflate negotiated under any parameters (RFC 7692 §7.1), any
//! sequence of messages, compressed or not, fragmented anywhere and delivered in any chunking,
//! arrives exactly as sent, in both directions. `PROPTEST_CASES` (default 48 here) raises the
//! case count for a deep run.

use proptest::prelude::*;
use rfc6455::extensions::permessage_deflate::{DeflateConfig, DeflateParams};
use rfc6455::{Config, Connection, MaskKeySource, Message, MessageKind};

fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

fn params() -> impl Strategy<Value = DeflateParams> {
    (any::<bool>(), any::<bool>(), 8u8..=15, 8u8..=15).prop_map(|(snct, cnct, sbits, cbits)| DeflateParams {
        server_no_context_takeover: snct,
        client_no_context_takeover: cnct,
        server_max_window_bits: sbits,
        client_max_window_bits: cbits,
    })
}

/// A payload that is sometimes very compressible, sometimes not at all.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2000),
        (prop::collection::vec(any::<u8>(), 1..8), 0usize..4000).prop_map(|(unit, n)| unit.repeat(n / unit.len())),
    ]
}

#[derive(Debug, Clone)]
struct Outgoing {
    kind: MessageKind,
    data: Vec<u8>,
    compress: bool,
    /// Fragment boundaries, as fractions of the length.
    cuts: Vec<u8>,
}

fn outgoing() -> impl Strategy<Value = Outgoing> {
    (any::<bool>(), payload(), "\\PC{0,300}", any::<bool>(), prop::collection::vec(any::<u8>(), 0..4)).prop_map(
        |(is_text, bytes, text, compress, cuts)| {
            if is_text {
                Outgoing { kind: MessageKind::Text, data: text.repeat(3).into_bytes(), compress, cuts }
            } else {
                Outgoing { kind: MessageKind::Binary, data: bytes, compress, cuts }
            }
        },
    )
}

fn send(conn: &mut Connection, message: &Outgoing) {
    let mut bounds: Vec<usize> = message.cuts.iter().map(|c| *c as usize * message.data.len() / 255).collect();
    bounds.sort_unstable();
    bounds.dedup();
    let mut start = 0;
    let mut first = true;
    for &end in bounds.iter().filter(|&&b| b > 0 && b < message.data.len()) {
        conn.send_fragment_with(message.kind, &message.data[start..end], false, message.compress && first).unwrap();
        first = false;
        start = end;
    }
    conn.send_fragment_with(message.kind, &message.data[start..], true, message.compress && first).unwrap();
}

fn deliver(from: &mut Connection, to: &mut Connection, chunk: usize) -> Vec<Message> {
    let bytes = from.output().to_vec();
    from.consume_output(bytes.len());
    let mut got = Vec::new();
    for piece in bytes.chunks(chunk) {
        to.receive(piece).unwrap();
        while let Some(event) = to.next_event().unwrap() {
            got.push(Message::from_event(&event).unwrap());
        }
    }
    got
}

fn expected(messages: &[Outgoing]) -> Vec<Message> {
    messages
        .iter()
        .map(|m| match m.kind {
            MessageKind::Text => Message::Text(String::from_utf8(m.data.clone()).unwrap()),
            MessageKind::Binary => Message::Binary(m.data.clone()),
        })
        .collect()
}

proptest! {
    #![proptest_config(cases(48))]

    #[test]
    fn rfc7692_any_parameters_any_messages_round_trip(
        params in params(),
        messages in prop::collection::vec(outgoing(), 1..6),
        chunk in 1usize..3000,
    ) {
        let deflate = DeflateConfig::default().with_params(params);
        let mut client = Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(9)).with_deflate(deflate));
        let mut server = Connection::new(Config::server().with_deflate(deflate));
        for message in &messages {
            send(&mut client, message);
        }
        prop_assert_eq!(deliver(&mut client, &mut server, chunk), expected(&messages));
        for message in &messages {
            send(&mut server, message);
        }
        prop_assert_eq!(deliver(&mut server, &mut client, chunk), expected(&messages));
    }
}
