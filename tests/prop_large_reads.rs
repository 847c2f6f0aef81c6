//! Property: large frames read the way an I/O layer reads them (`read_buf` + `commit`, which
//! reads a large frame's payload straight into the message buffer) give exactly the events of
//! the same bytes handed over whole with `receive`, however the reads are cut, wherever the
//! large frame starts in the stream (behind 0-20 bytes of smaller frames), in both roles and
//! both delivery modes, with invalid text failing the same way (RFC 6455 §5.2, §5.3, §8.1).
//!
//! Cases: `PROPTEST_CASES` (default 32 here) raises the count for a deep run.

use proptest::prelude::*;
use rfc6455::frame::OpCode;
use rfc6455::frame::encoder::encode_frame;
use rfc6455::{Config, Connection, Delivery, Event, Limits, MaskKeySource, Message, MessageKind, Role};

fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

#[derive(Debug, Clone)]
struct Frame {
    fin: bool,
    opcode: OpCode,
    payload: Vec<u8>,
}

/// Text of `len` bytes mixing 1- to 4-byte code points, cut on a code point boundary.
fn text(len: usize, seed: u8) -> Vec<u8> {
    let pieces = ["a", "é", "κόσμε", "いろは", "😀", " "];
    let mut out = Vec::with_capacity(len + 4);
    let mut i = seed as usize;
    while out.len() < len {
        out.extend_from_slice(pieces[i % pieces.len()].as_bytes());
        i += 1;
    }
    while std::str::from_utf8(&out[..len.min(out.len())]).is_err() {
        out.pop();
    }
    out.truncate(len);
    out
}

/// A message of 0 bytes to 40 KiB in 1-3 fragments, pings between them; text may carry an
/// invalid byte somewhere.
fn message() -> impl Strategy<Value = Vec<Frame>> {
    (
        any::<bool>(),
        0usize..(40 << 10),
        1usize..4,
        any::<u8>(),
        prop::option::weighted(0.15, any::<prop::sample::Index>()),
    )
        .prop_map(|(is_text, len, parts, seed, invalid)| {
            let (opcode, mut data) = if is_text {
                (OpCode::Text, text(len, seed))
            } else {
                (OpCode::Binary, (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect())
            };
            if let (true, Some(at)) = (is_text && !data.is_empty(), invalid) {
                let at = at.index(data.len());
                data[at] = 0xFF;
            }
            let step = data.len().div_ceil(parts).max(1);
            let pieces: Vec<&[u8]> = if data.is_empty() { vec![&[][..]] } else { data.chunks(step).collect() };
            let mut frames = Vec::new();
            for (i, piece) in pieces.iter().enumerate() {
                let opcode = if i == 0 { opcode } else { OpCode::Continuation };
                frames.push(Frame { fin: i + 1 == pieces.len(), opcode, payload: piece.to_vec() });
                if i + 1 < pieces.len() {
                    frames.push(Frame { fin: true, opcode: OpCode::Ping, payload: vec![i as u8; i] });
                }
            }
            frames
        })
}

#[derive(Debug, Clone)]
struct Stream {
    role: Role,
    delivery: Delivery,
    bytes: Vec<u8>,
}

fn stream() -> impl Strategy<Value = Stream> {
    (any::<bool>(), prop::bool::weighted(0.2), 0usize..21, prop::collection::vec(message(), 1..4), any::<u64>())
        .prop_map(|(server, streaming, lead, messages, seed)| {
            let role = if server { Role::Server } else { Role::Client };
            let mut keys = MaskKeySource::Seeded(seed).generator();
            let mut bytes = Vec::new();
            let mut put = |frame: &Frame, bytes: &mut Vec<u8>| {
                // The peer of a server is a client: it masks (§5.3).
                let key = (role == Role::Server).then(|| keys.next_key());
                encode_frame(bytes, frame.fin, 0, frame.opcode, &frame.payload, key);
            };
            // Small frames first, so the large frame's header starts at any offset.
            if lead > 0 {
                let header = if role == Role::Server { 6 } else { 2 };
                let len = lead.saturating_sub(header);
                put(&Frame { fin: true, opcode: OpCode::Binary, payload: vec![7; len] }, &mut bytes);
            }
            for frame in messages.iter().flatten() {
                put(frame, &mut bytes);
            }
            let delivery = if streaming { Delivery::Streaming } else { Delivery::Messages };
            Stream { role, delivery, bytes }
        })
}

fn connection(s: &Stream) -> Connection {
    let limits = Limits { max_frame_size: 64 << 10, max_message_size: 128 << 10, ..Limits::default() };
    Connection::new(Config::new(s.role).with_limits(limits).unwrap().with_delivery(s.delivery))
}

/// Pull every event, joining streamed pieces into messages. `Err` ends the stream.
fn drain(
    conn: &mut Connection,
    out: &mut Vec<Message>,
    piece: &mut Option<(MessageKind, Vec<u8>)>,
) -> Result<(), String> {
    loop {
        match conn.next_event() {
            Ok(Some(Event::Fragment { kind, data, is_last })) => {
                piece.get_or_insert_with(|| (kind, Vec::new())).1.extend_from_slice(data);
                if is_last {
                    let (kind, data) = piece.take().unwrap();
                    out.push(match kind {
                        MessageKind::Text => Message::Text(String::from_utf8(data).unwrap()),
                        MessageKind::Binary => Message::Binary(data),
                    });
                }
            }
            Ok(Some(event)) => out.push(Message::from_event(&event).unwrap()),
            Ok(None) => {
                let n = conn.output().len();
                conn.consume_output(n);
                return Ok(());
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// The reference: every byte handed over at once.
fn whole(s: &Stream) -> (Vec<Message>, Option<String>) {
    let mut conn = connection(s);
    let mut out = Vec::new();
    let mut piece = None;
    let mut at = 0;
    // `receive` takes at most the input limit at a time.
    while at < s.bytes.len() {
        let n = (s.bytes.len() - at).min(512 << 10);
        conn.receive(&s.bytes[at..at + n]).expect("room");
        at += n;
        if let Err(e) = drain(&mut conn, &mut out, &mut piece) {
            return (out, Some(e));
        }
    }
    (out, None)
}

/// Read as a socket would: `read_buf`, at most the next read size of `reads` (cycled) into it,
/// `commit`, then every event.
fn by_reads(s: &Stream, reads: &[usize]) -> (Vec<Message>, Option<String>, usize) {
    by_reads_lending(s, reads, &[])
}

/// [`by_reads`], and after each read whose flag in `lend` (cycled) is set, the connection's
/// input buffer is handed out if it can be (`take_input_buffer`) and a different buffer, full of
/// stale bytes, is given before the next read (`give_input_buffer`), as an I/O layer that lends
/// buffers between idle connections does.
fn by_reads_lending(s: &Stream, reads: &[usize], lend: &[bool]) -> (Vec<Message>, Option<String>, usize) {
    let mut conn = connection(s);
    let mut pool = vec![vec![0xA5u8; 10 << 10], vec![0x5Au8; 3 << 10], vec![0xFFu8; 8 << 10]];
    let mut lends = lend.iter().cycle();
    let mut out = Vec::new();
    let mut piece = None;
    let mut at = 0;
    let mut largest_read = 0;
    for &read in reads.iter().cycle() {
        if at == s.bytes.len() {
            break;
        }
        if let Some(stale) = pool.pop()
            && let Err(stale) = conn.give_input_buffer(stale)
        {
            pool.push(stale);
        }
        let buf = conn.read_buf();
        assert!(!buf.is_empty(), "read_buf offered no room");
        let n = buf.len().min(read.max(1)).min(s.bytes.len() - at);
        buf[..n].copy_from_slice(&s.bytes[at..at + n]);
        conn.commit(n);
        at += n;
        largest_read = largest_read.max(n);
        if let Err(e) = drain(&mut conn, &mut out, &mut piece) {
            return (out, Some(e), largest_read);
        }
        if lends.next() == Some(&true)
            && let Some(mut taken) = conn.take_input_buffer()
        {
            // Another connection's bytes end up in it before it is lent back.
            taken.fill(0xC3);
            pool.insert(0, taken);
        }
    }
    (out, None, largest_read)
}

proptest! {
    #![proptest_config(cases(32))]

    #[test]
    fn s5_2_large_frames_read_into_the_message_buffer_equal_whole_input(
        s in stream(),
        reads in prop::collection::vec(prop_oneof![1usize..16, 1usize..9000, Just(usize::MAX)], 1..6),
    ) {
        let expected = whole(&s);
        let (messages, error, _) = by_reads(&s, &reads);
        prop_assert_eq!(&expected.0, &messages, "reads {:?}", reads);
        prop_assert_eq!(&expected.1, &error, "reads {:?}", reads);
    }

    #[test]
    fn s5_2_input_buffers_lent_between_reads_change_nothing(
        s in stream(),
        reads in prop::collection::vec(prop_oneof![1usize..16, 1usize..9000, Just(usize::MAX)], 1..6),
        lend in prop::collection::vec(any::<bool>(), 1..6),
    ) {
        let expected = whole(&s);
        let (messages, error, _) = by_reads_lending(&s, &reads, &lend);
        prop_assert_eq!(&expected.0, &messages, "reads {:?}, lend {:?}", reads, lend);
        prop_assert_eq!(&expected.1, &error, "reads {:?}, lend {:?}", reads, lend);
    }

    #[test]
    fn s5_2_large_frames_byte_by_byte_equal_whole_input(s in stream()) {
        let expected = whole(&s);
        // Byte by byte is slow for 40 KiB messages: a prime read size close to it.
        let (messages, error, _) = by_reads(&s, &[1, 2, 3, 5, 7]);
        prop_assert_eq!(&expected.0, &messages);
        prop_assert_eq!(&expected.1, &error);
    }
}

/// A 64 KiB frame whose bytes are all there is read in at most a few reads, not 8 KiB at a
/// time, and the input buffer does not grow for it.
#[test]
fn s5_2_a_large_frame_is_read_in_reads_sized_to_the_frame() {
    let mut keys = MaskKeySource::Seeded(9).generator();
    let mut bytes = Vec::new();
    let payload: Vec<u8> = (0..(64 << 10)).map(|i| i as u8).collect();
    encode_frame(&mut bytes, true, 0, OpCode::Binary, &payload, Some(keys.next_key()));
    let s = Stream { role: Role::Server, delivery: Delivery::Messages, bytes };
    let (messages, error, largest) = by_reads(&s, &[usize::MAX]);
    assert_eq!(error, None);
    assert_eq!(messages, vec![Message::Binary(payload)]);
    assert!(largest > 32 << 10, "largest read {largest}: the payload went through the 8 KiB input buffer");
}
