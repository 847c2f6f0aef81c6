//! Property: a connection gives the same events, and ends the same way, however its input is
//! split: whole, at arbitrary points, or one byte at a time (RFC 6455 §5.2 says nothing of how
//! bytes arrive, so the result may not depend on it). Streams are valid sequences of messages,
//! fragments and control frames, sometimes followed by arbitrary bytes that make them fail.
//!
//! Cases: `PROPTEST_CASES` (default 48 here) raises the count for a deep run.

use proptest::prelude::*;
use rfc6455::frame::OpCode;
use rfc6455::frame::encoder::encode_frame;
use rfc6455::{Config, Connection, Delivery, Event, Limits, MaskKeySource, Message, MessageKind, Role};

fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

/// One frame as a sender would write it.
#[derive(Debug, Clone)]
struct Frame {
    fin: bool,
    opcode: OpCode,
    payload: Vec<u8>,
}

/// A message (text or binary, in 1-4 fragments with pings between them) or a lone control frame.
fn unit() -> impl Strategy<Value = Vec<Frame>> {
    let message = (any::<bool>(), ".{0,40}", prop::collection::vec(any::<u8>(), 0..40), 1usize..4).prop_map(
        |(text, s, bytes, parts)| {
            let (opcode, data) = if text { (OpCode::Text, s.into_bytes()) } else { (OpCode::Binary, bytes) };
            let step = data.len().div_ceil(parts).max(1);
            let pieces: Vec<&[u8]> = if data.is_empty() { vec![&[][..]] } else { data.chunks(step).collect() };
            let mut frames = Vec::new();
            for (i, piece) in pieces.iter().enumerate() {
                let opcode = if i == 0 { opcode } else { OpCode::Continuation };
                frames.push(Frame { fin: i + 1 == pieces.len(), opcode, payload: piece.to_vec() });
                if i + 1 < pieces.len() {
                    frames.push(Frame { fin: true, opcode: OpCode::Ping, payload: vec![i as u8] });
                }
            }
            frames
        },
    );
    let control = (prop::sample::select(vec![OpCode::Ping, OpCode::Pong]), prop::collection::vec(any::<u8>(), 0..20))
        .prop_map(|(opcode, payload)| vec![Frame { fin: true, opcode, payload }]);
    prop_oneof![3 => message, 1 => control]
}

#[derive(Debug, Clone)]
struct Stream {
    role: Role,
    delivery: Delivery,
    bytes: Vec<u8>,
}

fn stream() -> impl Strategy<Value = Stream> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(unit(), 0..6),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..24)),
        any::<u64>(),
    )
        .prop_map(|(server, streaming, units, garbage, seed)| {
            let role = if server { Role::Server } else { Role::Client };
            let mut keys = MaskKeySource::Seeded(seed).generator();
            let mut bytes = Vec::new();
            for frame in units.iter().flatten() {
                // The peer of a server is a client: it masks (§5.3).
                let key = (role == Role::Server).then(|| keys.next_key());
                encode_frame(&mut bytes, frame.fin, 0, frame.opcode, &frame.payload, key);
            }
            if let Some(garbage) = garbage {
                bytes.extend(garbage);
            }
            let delivery = if streaming { Delivery::Streaming } else { Delivery::Messages };
            Stream { role, delivery, bytes }
        })
}

/// Feed `bytes` cut at `cuts` and collect the events (streamed pieces joined into messages) and
/// the error, if any.
fn run(s: &Stream, cuts: &[usize]) -> (Vec<Message>, Option<String>) {
    let limits = Limits { max_frame_size: 64, max_message_size: 100, ..Limits::default() };
    let mut conn = Connection::new(Config::new(s.role).with_limits(limits).unwrap().with_delivery(s.delivery));
    let mut bounds: Vec<usize> = cuts.iter().map(|&c| c % (s.bytes.len() + 1)).collect();
    bounds.sort_unstable();
    bounds.push(s.bytes.len());
    let mut messages = Vec::new();
    let mut piece: Option<(MessageKind, Vec<u8>)> = None;
    let mut from = 0;
    for to in bounds {
        conn.receive(&s.bytes[from..to]).expect("room");
        from = to;
        loop {
            match conn.next_event() {
                Ok(Some(Event::Fragment { kind, data, is_last })) => {
                    piece.get_or_insert_with(|| (kind, Vec::new())).1.extend_from_slice(data);
                    if is_last {
                        let (kind, data) = piece.take().unwrap();
                        messages.push(match kind {
                            MessageKind::Text => Message::Text(String::from_utf8(data).unwrap()),
                            MessageKind::Binary => Message::Binary(data),
                        });
                    }
                }
                Ok(Some(event)) => messages.push(Message::from_event(&event).unwrap()),
                Ok(None) => break,
                Err(e) => return (messages, Some(e.to_string())),
            }
        }
        let n = conn.output().len();
        conn.consume_output(n);
    }
    (messages, None)
}

proptest! {
    #![proptest_config(cases(48))]

    #[test]
    fn chunking_never_changes_the_events(s in stream(), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        let whole = run(&s, &[]);
        let split = run(&s, &cuts);
        prop_assert_eq!(&whole, &split, "split at {:?}", cuts);
        let every: Vec<usize> = (1..s.bytes.len()).collect();
        let bytewise = run(&s, &every);
        prop_assert_eq!(&whole, &bytewise, "byte by byte");
    }
}
