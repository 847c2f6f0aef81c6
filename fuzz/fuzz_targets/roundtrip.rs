//! Structure-aware round trip: an arbitrary sequence of messages and control frames, messages
//! fragmented at arbitrary byte offsets (inside code points too) with control frames between
//! the fragments, is encoded by one role and decoded by the other in arbitrary chunks, and must
//! come back identical; the receiver's replies (Pongs, the Close echo) go back to the sender and
//! must match. Separately, one arbitrary frame (every length form, masked or not) is encoded,
//! decoded and re-encoded, and must give the same bytes.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rfc6455::frame::encoder::encode_frame;
use rfc6455::frame::{FrameHeader, OpCode};
use rfc6455::{CloseCode, Config, Connection, Delivery, Limits, MaskKeySource, Message, MessageKind, Role};
use rfc6455_fuzz::{StreamOptions, check_wire, drive};

#[derive(Debug, Arbitrary)]
enum Control {
    Ping(Vec<u8>),
    Pong(Vec<u8>),
}

#[derive(Debug, Arbitrary)]
enum Payload {
    Text(String),
    Binary(Vec<u8>),
}

#[derive(Debug, Arbitrary)]
struct Fragmented {
    payload: Payload,
    /// Byte offsets where the message is cut into fragments (taken modulo its length + 1).
    cuts: Vec<u16>,
    /// Control frames sent after fragment `.0` (modulo the number of fragments).
    controls: Vec<(u8, Control)>,
}

#[derive(Debug, Arbitrary)]
enum Item {
    Message(Fragmented),
    Control(Control),
}

#[derive(Debug, Arbitrary)]
struct Frame {
    fin: bool,
    rsv: u8,
    opcode: u8,
    masking_key: Option<[u8; 4]>,
    /// Grow the payload to a length at a boundary of the length forms.
    boundary: Option<u8>,
    payload: Vec<u8>,
}

#[derive(Debug, Arbitrary)]
struct Input {
    client_sends: bool,
    streaming: bool,
    auto_pong: bool,
    chunk_seed: u64,
    items: Vec<Item>,
    close: Option<(u16, String)>,
    frame: Frame,
}

fn control_payload(data: &[u8]) -> &[u8] {
    &data[..data.len().min(125)]
}

/// Send one control frame and note the event the receiver must see.
fn send_control(sender: &mut Connection, control: &Control, expected: &mut Vec<Message>, pings: &mut Vec<Vec<u8>>) {
    match control {
        Control::Ping(data) => {
            let data = control_payload(data);
            sender.ping(data).expect("ping");
            expected.push(Message::Ping(data.to_vec()));
            pings.push(data.to_vec());
        }
        Control::Pong(data) => {
            let data = control_payload(data);
            sender.pong(data).expect("pong");
            expected.push(Message::Pong(data.to_vec()));
        }
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn frame_roundtrip(frame: &Frame) {
    let Ok(opcode) = OpCode::try_from(frame.opcode & 0x0F) else { return };
    let mut payload = frame.payload.clone();
    if opcode.is_control() {
        payload.truncate(125);
    } else if let Some(b) = frame.boundary {
        let len = [125usize, 126, 127, 65535, 65536, 65537][usize::from(b % 6)];
        payload.resize(len, b);
    }
    let fin = frame.fin || opcode.is_control();
    let rsv = frame.rsv & 0x70;
    let mut bytes = Vec::new();
    encode_frame(&mut bytes, fin, rsv, opcode, &payload, frame.masking_key);
    let (header, len) = FrameHeader::parse(&bytes).expect("valid").expect("complete");
    assert_eq!(
        header,
        FrameHeader { fin, rsv, opcode, masking_key: frame.masking_key, payload_len: payload.len() as u64 }
    );
    assert_eq!(len, header.encoded_len());
    assert_eq!(bytes.len(), len + payload.len());
    let mut decoded = bytes[len..].to_vec();
    if let Some(key) = header.masking_key {
        rfc6455::frame::mask::apply_mask(&mut decoded, key, 0);
    }
    assert_eq!(decoded, payload, "payload changed");
    let mut again = Vec::new();
    encode_frame(&mut again, header.fin, header.rsv, header.opcode, &decoded, header.masking_key);
    assert_eq!(again, bytes, "re-encoding changed the bytes");
}

fuzz_target!(|input: Input| {
    frame_roundtrip(&input.frame);

    let (sender_role, receiver_role) =
        if input.client_sends { (Role::Client, Role::Server) } else { (Role::Server, Role::Client) };
    let mut sender = Connection::new(
        Config::new(sender_role).with_mask_keys(MaskKeySource::Seeded(input.chunk_seed)).with_auto_pong(true),
    );
    let mut expected = Vec::new();
    let mut pings = Vec::new();
    for item in &input.items {
        match item {
            Item::Control(control) => send_control(&mut sender, control, &mut expected, &mut pings),
            Item::Message(m) => {
                let (kind, bytes) = match &m.payload {
                    Payload::Text(text) => (MessageKind::Text, text.as_bytes()),
                    Payload::Binary(data) => (MessageKind::Binary, data.as_slice()),
                };
                let mut cuts: Vec<usize> = m.cuts.iter().map(|&c| usize::from(c) % (bytes.len() + 1)).collect();
                cuts.sort_unstable();
                cuts.push(bytes.len());
                let fragments = cuts.len();
                let mut from = 0;
                for (i, &to) in cuts.iter().enumerate() {
                    sender.send_fragment(kind, &bytes[from..to], i + 1 == fragments).expect("send");
                    from = to;
                    for (after, control) in &m.controls {
                        if usize::from(*after) % fragments == i {
                            send_control(&mut sender, control, &mut expected, &mut pings);
                        }
                    }
                    if i + 1 == fragments {
                        // The message's event comes when its last fragment arrives, after the
                        // control frames sent between its fragments but before those after it.
                        let at = expected.len()
                            - m.controls.iter().filter(|(after, _)| usize::from(*after) % fragments == i).count();
                        expected.insert(
                            at,
                            match &m.payload {
                                Payload::Text(text) => Message::Text(text.clone()),
                                Payload::Binary(data) => Message::Binary(data.clone()),
                            },
                        );
                    }
                }
            }
        }
    }
    let mut close_code = None;
    if let Some((code, reason)) = &input.close {
        let code = CloseCode(*code);
        let reason = truncate(reason, 123);
        match sender.close(code, reason) {
            Ok(()) => {
                expected.push(Message::Close(Some(code), reason.to_owned()));
                close_code = Some(code);
            }
            Err(e) => {
                assert!(!code.is_allowed_on_wire(), "{code} refused: {e:?}");
                assert_eq!(e, rfc6455::UsageError::InvalidCloseCode(code.0));
            }
        }
    }
    let wire = sender.output().to_vec();
    sender.consume_output(wire.len());
    check_wire(&wire, sender_role);

    let limits = Limits::default();
    let delivery = if input.streaming { Delivery::Streaming } else { Delivery::Messages };
    let mut receiver = Connection::new(
        Config::new(receiver_role)
            .with_mask_keys(MaskKeySource::Seeded(!input.chunk_seed))
            .with_delivery(delivery)
            .with_auto_pong(input.auto_pong),
    );
    let options = StreamOptions {
        delivery,
        auto_pong: input.auto_pong,
        eof_at_end: false,
        partial_writes: input.chunk_seed & 0x100 != 0,
        chunk_seed: input.chunk_seed,
        // Half the runs read the way an I/O layer does (large payloads into the message buffer).
        read_buf: input.chunk_seed & 0x200 != 0,
        echo: false,
    };
    let received = drive(&mut receiver, &limits, &wire, &options);
    assert_eq!(received.error, None, "the receiver failed on valid frames");
    assert_eq!(received.messages, expected, "messages changed on the way");

    // The replies: one Pong per Ping, then the Close echo with the same code.
    let replies = check_wire(&received.wire, receiver_role);
    let _ = replies;
    let back = drive(&mut sender, &limits, &received.wire, &StreamOptions { partial_writes: false, ..options });
    assert_eq!(back.error, None, "the sender failed on the replies");
    let mut expected_back: Vec<Message> =
        if input.auto_pong { pings.into_iter().map(Message::Pong).collect() } else { Vec::new() };
    if let Some(code) = close_code {
        expected_back.push(Message::Close(Some(code), String::new()));
        assert!(sender.is_closed() && receiver.is_closed());
    }
    assert_eq!(back.messages, expected_back, "the replies changed on the way");
});
