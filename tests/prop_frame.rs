//! Property: decoding an encoded frame gives the frame back, and encoding it again gives the
//! same bytes (RFC 6455 §5.2, §5.3), for every length form (7-bit, 16-bit, 64-bit), lengths at
//! the 125/126/65535/65536 boundaries, masked (client) and unmasked (server), whole or in pieces.
//!
//! Cases: `PROPTEST_CASES` (default 64 here) raises the count for a deep run.

use proptest::prelude::*;
use rfc6455::frame::decoder::{FrameDecoder, Step};
use rfc6455::frame::encoder::encode_frame;
use rfc6455::frame::{FrameHeader, OpCode};
use rfc6455::{Config, Connection, MaskKeySource, Message, Role};

fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

#[derive(Debug, Clone)]
struct Frame {
    fin: bool,
    rsv: u8,
    opcode: OpCode,
    masking_key: Option<[u8; 4]>,
    payload: Vec<u8>,
}

/// Lengths around every boundary of the length forms, and small ones.
fn payload_len() -> impl Strategy<Value = usize> {
    prop_oneof![0usize..=130, prop::sample::select(vec![125usize, 126, 127, 65535, 65536, 65537]), 65530usize..=65540,]
}

fn opcode() -> impl Strategy<Value = OpCode> {
    prop::sample::select(vec![
        OpCode::Continuation,
        OpCode::Text,
        OpCode::Binary,
        OpCode::Close,
        OpCode::Ping,
        OpCode::Pong,
    ])
}

fn frame() -> impl Strategy<Value = Frame> {
    (any::<bool>(), 0u8..8, opcode(), any::<Option<[u8; 4]>>(), payload_len(), any::<u8>()).prop_map(
        |(fin, rsv, opcode, masking_key, len, fill)| {
            // Control frames are never fragmented and carry at most 125 bytes (§5.5).
            let (fin, len) = if opcode.is_control() { (true, len.min(125)) } else { (fin, len) };
            let payload = (0..len).map(|i| fill.wrapping_add((i % 251) as u8)).collect();
            Frame { fin, rsv: rsv << 4, opcode, masking_key, payload }
        },
    )
}

fn encode(frame: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(&mut out, frame.fin, frame.rsv, frame.opcode, &frame.payload, frame.masking_key);
    out
}

/// Decode one frame fed in the pieces that `cuts` give.
fn decode(bytes: &[u8], cuts: &[usize]) -> (FrameHeader, usize, Vec<u8>) {
    let mut decoder = FrameDecoder::new();
    let mut buf = Vec::new();
    let mut header = None;
    let mut payload = Vec::new();
    let mut from = 0;
    let mut bounds: Vec<usize> = cuts.iter().map(|&c| c % (bytes.len() + 1)).collect();
    bounds.sort_unstable();
    bounds.push(bytes.len());
    for to in bounds {
        buf.extend_from_slice(&bytes[from..to.max(from)]);
        from = to.max(from);
        loop {
            match decoder.decode(&mut buf).expect("a valid frame") {
                Step::NeedMore => break,
                Step::Header { header: h, len } => {
                    buf.drain(..len);
                    header = Some((h, len));
                }
                Step::Payload { len, last } => {
                    payload.extend(buf.drain(..len));
                    if last {
                        let (h, len) = header.expect("header first");
                        assert!(buf.is_empty() && from == bytes.len(), "frame ended early");
                        return (h, len, payload);
                    }
                }
            }
        }
    }
    panic!("frame never completed");
}

proptest! {
    #![proptest_config(cases(64))]

    /// decode(encode(f)) = f, and encode(decode(bytes)) = bytes.
    #[test]
    fn s5_2_encode_then_decode_is_identity(f in frame(), cuts in prop::collection::vec(any::<usize>(), 0..4)) {
        let bytes = encode(&f);
        let (header, header_len, payload) = decode(&bytes, &cuts);
        prop_assert_eq!(header.fin, f.fin);
        prop_assert_eq!(header.rsv, f.rsv);
        prop_assert_eq!(header.opcode, f.opcode);
        prop_assert_eq!(header.masking_key, f.masking_key);
        prop_assert_eq!(header.payload_len, f.payload.len() as u64);
        prop_assert!(payload == f.payload, "payload changed");
        // The shortest length form (§5.2: "the minimal number of bytes MUST be used").
        let ext = match f.payload.len() { 0..=125 => 0, 126..=65535 => 2, _ => 8 };
        let mask = if f.masking_key.is_some() { 4 } else { 0 };
        prop_assert_eq!(header_len, 2 + ext + mask);
        prop_assert_eq!(header.encoded_len(), header_len);
        let again = encode(&Frame { payload, ..f.clone() });
        prop_assert!(again == bytes, "re-encoding changed the bytes");
    }

    /// Both roles: what a client sends (masked) a server connection reads back, and what a
    /// server sends (unmasked) a client connection reads back, at every length form.
    #[test]
    fn s5_1_each_role_reads_what_the_other_sends(
        len in payload_len(),
        fill in any::<u8>(),
        client_sends in any::<bool>(),
        cut in any::<usize>(),
    ) {
        let data: Vec<u8> = (0..len).map(|i| fill.wrapping_add((i % 251) as u8)).collect();
        let (from, to) = if client_sends { (Role::Client, Role::Server) } else { (Role::Server, Role::Client) };
        let mut sender = Connection::new(Config::new(from).with_mask_keys(MaskKeySource::Seeded(fill.into())));
        sender.send_binary(&data).unwrap();
        let wire = sender.output().to_vec();
        let mut receiver = Connection::new(Config::new(to));
        let cut = cut % (wire.len() + 1);
        let mut got = Vec::new();
        for piece in [&wire[..cut], &wire[cut..]] {
            receiver.receive(piece).unwrap();
            while let Some(event) = receiver.next_event().unwrap() {
                got.push(Message::from_event(&event).unwrap());
            }
        }
        prop_assert_eq!(got, vec![Message::Binary(data)]);
    }
}
