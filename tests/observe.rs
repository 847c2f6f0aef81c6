//! The frame log (`rfc6455::observe`): each field of RFC 6455 §5.2 reported right for frames
//! received and sent, in each length form, masked and unmasked, fragments grouped into their
//! message (§5.4), compressed messages (RFC 7692 §6), Close frames (§5.5.1), payloads that
//! arrive a byte at a time; and, as a property, every reported header field equal to what the
//! crate's own decoder reads from the same bytes.

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use rfc6455::extensions::permessage_deflate::{DeflateConfig, DeflateParams};
use rfc6455::frame::decoder::{FrameDecoder, Step};
use rfc6455::frame::encoder::encode_frame;
use rfc6455::frame::{FrameHeader, OpCode, RSV1};
use rfc6455::observe::{Direction, FrameLog, FrameRecord, LengthForm, LogEntry, MessageRecord, Observer, PREVIEW_LEN};
use rfc6455::{CloseCode, Config, Connection, Delivery, MaskKeySource, MessageKind, Role};

fn log() -> Arc<FrameLog> {
    Arc::new(FrameLog::new(100_000))
}

fn entries(log: &FrameLog) -> Vec<LogEntry> {
    let mut out = Vec::new();
    let dropped = log.take(&mut out, Duration::ZERO);
    assert_eq!(dropped, 0, "nothing dropped below capacity");
    out
}

fn frames(entries: &[LogEntry]) -> Vec<FrameRecord> {
    entries.iter().filter_map(|e| if let LogEntry::Frame(f) = e { Some(*f) } else { None }).collect()
}

fn messages(entries: &[LogEntry]) -> Vec<MessageRecord> {
    entries.iter().filter_map(|e| if let LogEntry::Message(m) = e { Some(*m) } else { None }).collect()
}

/// Feed `wire` to `conn` in pieces of `chunk` bytes, pulling every event.
fn feed(conn: &mut Connection, wire: &[u8], chunk: usize) {
    for piece in wire.chunks(chunk.max(1)) {
        conn.receive(piece).expect("room");
        while conn.next_event().expect("valid traffic").is_some() {}
    }
}

fn observed(role: Role, log: &Arc<FrameLog>) -> Connection {
    Connection::new(Config::new(role).with_mask_keys(MaskKeySource::Seeded(7)).with_observer(log.clone()))
}

/// The frames of `wire` as the crate's decoder reads them: header, header bytes, payload bytes
/// as on the wire.
fn decode_all(wire: &[u8]) -> Vec<(FrameHeader, Vec<u8>, Vec<u8>)> {
    let mut decoder = FrameDecoder::new();
    let mut at = 0;
    let mut out: Vec<(FrameHeader, Vec<u8>, Vec<u8>)> = Vec::new();
    loop {
        match decoder.decode_masked(&wire[at..]).expect("valid") {
            (Step::NeedMore, _) => return out,
            (Step::Header { header, len }, _) => {
                out.push((header, wire[at..at + len].to_vec(), Vec::new()));
                at += len;
            }
            (Step::Payload { len, .. }, _) => {
                out.last_mut().expect("header first").2.extend_from_slice(&wire[at..at + len]);
                at += len;
            }
        }
    }
}

/// Every field of `record` equal to the decoder's reading of the same frame.
fn assert_matches(record: &FrameRecord, header: &FrameHeader, raw: &[u8], wire_payload: &[u8]) {
    assert_eq!(record.fin, header.fin, "FIN");
    assert_eq!(record.rsv, header.rsv, "RSV");
    assert_eq!(record.opcode, header.opcode, "opcode");
    assert_eq!(record.masking_key, header.masking_key, "mask");
    assert_eq!(record.payload_len, header.payload_len, "length");
    assert_eq!(record.header_bytes(), raw, "header bytes");
    assert_eq!(record.length_form, LengthForm::from_len7(raw[1]), "length form");
    let shown = wire_payload.len().min(PREVIEW_LEN);
    assert_eq!(record.preview_wire(), &wire_payload[..shown], "payload as on the wire");
    let mut plain = wire_payload[..shown].to_vec();
    if let Some(key) = header.masking_key {
        for (i, b) in plain.iter_mut().enumerate() {
            *b ^= key[i % 4];
        }
    }
    assert_eq!(record.preview(), plain.as_slice(), "payload unmasked");
}

#[test]
fn s5_2_each_length_form_is_reported_with_its_fields_received_and_sent() {
    for (len, form, header_len) in
        [(5usize, LengthForm::Bits7, 2usize), (300, LengthForm::Bits16, 4), (70_000, LengthForm::Bits64, 10)]
    {
        let client_log = log();
        let server_log = log();
        let mut client = observed(Role::Client, &client_log);
        let mut server = observed(Role::Server, &server_log);
        let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        client.send_binary(&payload).unwrap();
        let wire = client.output().to_vec();
        feed(&mut server, &wire, 4096);

        let decoded = decode_all(&wire);
        assert_eq!(decoded.len(), 1);
        let (header, raw, wire_payload) = &decoded[0];
        assert_eq!(raw.len(), header_len + 4, "{len}: masked header");

        let sent = frames(&entries(&client_log));
        let received = frames(&entries(&server_log));
        for (record, direction) in [(sent[0], Direction::Sent), (received[0], Direction::Received)] {
            assert_eq!(record.direction, direction);
            assert_eq!(record.length_form, form, "{len} bytes");
            assert_eq!((record.seq, record.message), (1, Some(1)));
            assert!(record.masking_key.is_some(), "a client's frame is masked (§5.3)");
            assert!(!record.compressed);
            assert_matches(&record, header, raw, wire_payload);
            assert_eq!(record.preview(), &payload[..PREVIEW_LEN.min(len)]);
            assert_ne!(record.preview_wire(), record.preview(), "masking changed the bytes");
        }
    }
}

#[test]
fn s5_1_a_server_frame_is_reported_unmasked() {
    let server_log = log();
    let client_log = log();
    let mut server = observed(Role::Server, &server_log);
    let mut client = observed(Role::Client, &client_log);
    server.send_text("Hello").unwrap();
    let wire = server.output().to_vec();
    // RFC 6455 §5.7: a single-frame unmasked text message.
    assert_eq!(wire, [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    feed(&mut client, &wire, 1);
    for record in [frames(&entries(&server_log))[0], frames(&entries(&client_log))[0]] {
        assert_eq!(record.masking_key, None);
        assert_eq!(record.header_bytes(), [0x81, 0x05]);
        assert_eq!(record.preview_wire(), b"Hello");
        assert_eq!(record.preview(), b"Hello");
        assert_eq!((record.fin, record.opcode, record.payload_len), (true, OpCode::Text, 5));
    }
}

#[test]
fn s5_2_a_length_in_a_longer_form_than_needed_is_reported_as_sent() {
    // Five bytes announced in the 16-bit form: what the peer used, not the shortest form.
    let log = log();
    let mut server = observed(Role::Server, &log);
    let key = [1, 2, 3, 4];
    let mut wire = vec![0x82, 0x80 | 126, 0, 5];
    wire.extend_from_slice(&key);
    wire.extend(b"abcde".iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    feed(&mut server, &wire, 64);
    let record = frames(&entries(&log))[0];
    assert_eq!(record.length_form, LengthForm::Bits16);
    assert_eq!(record.payload_len, 5);
    assert_eq!(record.header_bytes(), &wire[..8]);
    assert_eq!(record.preview(), b"abcde");
}

#[test]
fn s5_4_fragments_are_grouped_into_their_message_and_controls_into_none() {
    let client_log = log();
    let server_log = log();
    let mut client = observed(Role::Client, &client_log);
    let mut server = observed(Role::Server, &server_log);
    client.send_text("first").unwrap();
    client.send_fragment(MessageKind::Text, b"Hel", false).unwrap();
    client.ping(b"are you there").unwrap();
    client.send_fragment(MessageKind::Text, b"lo, ", false).unwrap();
    client.send_fragment(MessageKind::Text, b"world", true).unwrap();
    let wire = client.output().to_vec();
    feed(&mut server, &wire, 3);

    let expected = [
        (OpCode::Text, true, Some(1)),
        (OpCode::Text, false, Some(2)),
        (OpCode::Ping, true, None),
        (OpCode::Continuation, false, Some(2)),
        (OpCode::Continuation, true, Some(2)),
    ];
    let client_entries = entries(&client_log);
    let server_entries = entries(&server_log);
    for (entries, direction) in [(&client_entries, Direction::Sent), (&server_entries, Direction::Received)] {
        let own: Vec<FrameRecord> = frames(entries).into_iter().filter(|f| f.direction == direction).collect();
        let got: Vec<_> = own.iter().map(|f| (f.opcode, f.fin, f.message)).collect();
        assert_eq!(got, expected);
        let seqs: Vec<u64> = own.iter().map(|f| f.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4, 5]);
        let done: Vec<MessageRecord> = messages(entries).into_iter().filter(|m| m.direction == direction).collect();
        assert_eq!(done.len(), 2);
        assert_eq!((done[1].message, done[1].frames, done[1].len, done[1].wire_len), (2, 3, 12, 12));
        assert_eq!(done[1].preview(), b"Hello, world", "the fragments joined");
        assert_eq!(done[1].kind, MessageKind::Text);
    }
    // The server answered the Ping; its Pong is logged after the Ping, as sent.
    let pong: Vec<_> = frames(&server_entries).into_iter().filter(|f| f.direction == Direction::Sent).collect();
    assert_eq!(pong.len(), 1);
    assert_eq!((pong[0].opcode, pong[0].preview()), (OpCode::Pong, &b"are you there"[..]));
    assert_eq!(pong[0].header_bytes(), &server.output()[..2]);
}

#[test]
fn s5_4_streamed_messages_report_their_length_from_the_pieces() {
    let log = log();
    let mut server = Connection::new(Config::server().with_delivery(Delivery::Streaming).with_observer(log.clone()));
    let mut client = Connection::new(Config::client());
    client.send_fragment(MessageKind::Binary, &[1; 100], false).unwrap();
    client.send_fragment(MessageKind::Binary, &[2; 50], true).unwrap();
    let wire = client.output().to_vec();
    feed(&mut server, &wire, 7);
    let done = messages(&entries(&log));
    assert_eq!(done.len(), 1);
    assert_eq!((done[0].frames, done[0].len, done[0].wire_len), (2, 150, 150));
    assert_eq!(done[0].preview(), [[1u8; 100].as_slice(), &[2; 25]].concat(), "the first 125 bytes");
}

#[test]
fn rfc7692_s6_compressed_messages_are_marked_and_sized() {
    let params = DeflateParams {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
    };
    let deflate = DeflateConfig::default().with_params(params);
    let client_log = log();
    let server_log = log();
    let mut client = Connection::new(Config::client().with_deflate(deflate).with_observer(client_log.clone()));
    let mut server = Connection::new(Config::server().with_deflate(deflate).with_observer(server_log.clone()));
    let text = "the quick brown fox jumps over the lazy dog ".repeat(50);
    client.send_text(&text).unwrap();
    client.send_text("hi").unwrap();
    let wire = client.output().to_vec();
    feed(&mut server, &wire, 100);

    for log in [&client_log, &server_log] {
        let entries = entries(log);
        let f = frames(&entries);
        assert_eq!(f[0].rsv, RSV1, "RFC 7692 §6: RSV1 marks the compressed message");
        assert!(f[0].compressed);
        assert!(!f[1].compressed, "short messages go uncompressed");
        assert_eq!(f[1].rsv, 0);
        let m = messages(&entries);
        assert!(m[0].compressed);
        assert_eq!(m[0].len, text.len() as u64);
        assert_eq!(m[0].wire_len, f[0].payload_len);
        assert!(m[0].wire_len < m[0].len / 4, "{} of {}", m[0].wire_len, m[0].len);
        assert_eq!(m[0].preview(), &text.as_bytes()[..PREVIEW_LEN], "what it inflates to");
        assert_ne!(f[0].preview(), m[0].preview(), "the frame holds DEFLATE data");
        assert!(!m[1].compressed);
        assert_eq!((m[1].len, m[1].wire_len), (2, 2));
    }
    assert!(entries(&server_log).is_empty(), "taking empties the log");
    assert_eq!(decode_all(&wire)[0].0.rsv, RSV1);
}

#[test]
fn s5_5_1_close_frames_carry_code_and_reason_in_the_preview() {
    let client_log = log();
    let server_log = log();
    let mut client = observed(Role::Client, &client_log);
    let mut server = observed(Role::Server, &server_log);
    client.close(CloseCode::NORMAL, "bye").unwrap();
    let wire = client.output().to_vec();
    feed(&mut server, &wire, 2);
    let logged = frames(&entries(&server_log));
    assert_eq!((logged[0].direction, logged[0].opcode), (Direction::Received, OpCode::Close));
    assert_eq!(logged[0].message, None);
    assert_eq!(logged[0].preview(), [0x03, 0xE8, b'b', b'y', b'e']);
    let sent = frames(&entries(&client_log));
    assert_eq!(sent[0].preview(), logged[0].preview());
    assert_eq!(sent[0].preview_wire(), &wire[6..], "as on the wire, masked");
    // The server echoes the code (§5.5.1): its reply is logged as sent, as it is on the wire.
    let reply = decode_all(server.output());
    assert_eq!((logged[1].direction, logged[1].opcode), (Direction::Sent, OpCode::Close));
    assert_eq!(logged[1].preview_wire(), reply[0].2.as_slice());
    assert_eq!(logged[1].header_bytes(), reply[0].1.as_slice());
}

#[test]
fn s5_5_1_the_close_reply_follows_the_close_in_the_log() {
    let server_log = log();
    let mut server = observed(Role::Server, &server_log);
    let mut client = Connection::new(Config::client());
    client.close(CloseCode::GOING_AWAY, "").unwrap();
    let wire = client.output().to_vec();
    feed(&mut server, &wire, 100);
    let f = frames(&entries(&server_log));
    let got: Vec<_> = f.iter().map(|f| (f.direction, f.opcode, f.preview().to_vec())).collect();
    assert_eq!(
        got,
        [(Direction::Received, OpCode::Close, vec![0x03, 0xE9]), (Direction::Sent, OpCode::Close, vec![0x03, 0xE9]),]
    );
}

#[test]
fn s5_2_a_payload_arriving_a_byte_at_a_time_still_fills_the_preview() {
    let log = log();
    let mut server = observed(Role::Server, &log);
    let mut client = Connection::new(Config::client());
    let text = "abcdefghijklmnopqrstuvwxyz";
    client.send_text(text).unwrap();
    client.ping(b"p").unwrap();
    let wire = client.output().to_vec();
    feed(&mut server, &wire, 1);
    let f = frames(&entries(&log));
    let got: Vec<_> = f.iter().map(|f| (f.direction, f.opcode)).collect();
    assert_eq!(
        got,
        [(Direction::Received, OpCode::Text), (Direction::Received, OpCode::Ping), (Direction::Sent, OpCode::Pong)]
    );
    assert_eq!(f[0].preview(), text.as_bytes());
    assert_eq!(f[1].preview(), b"p");
}

#[test]
fn s5_2_a_large_frame_read_straight_into_the_message_buffer_is_reported() {
    // The I/O path of the layers: read_buf + commit, which takes large payloads past the input
    // buffer.
    let log = log();
    let mut server = observed(Role::Server, &log);
    let mut client = Connection::new(Config::client());
    let payload: Vec<u8> = (0..100_000u32).map(|i| (i * 7) as u8).collect();
    client.send_binary(&payload).unwrap();
    let wire = client.output().to_vec();
    let mut at = 0;
    while at < wire.len() {
        let buf = server.read_buf();
        let n = buf.len().min(wire.len() - at);
        buf[..n].copy_from_slice(&wire[at..at + n]);
        server.commit(n);
        at += n;
        while server.next_event().unwrap().is_some() {}
    }
    let entries = entries(&log);
    let decoded = decode_all(&wire);
    let f = frames(&entries);
    assert_eq!(f.len(), 1);
    assert_matches(&f[0], &decoded[0].0, &decoded[0].1, &decoded[0].2);
    assert_eq!(messages(&entries)[0].len, 100_000);
}

#[test]
fn a_full_log_drops_and_counts_instead_of_growing() {
    let log = Arc::new(FrameLog::new(3));
    let mut server = observed(Role::Server, &log);
    let mut client = Connection::new(Config::client());
    for _ in 0..10 {
        client.send_binary(b"x").unwrap();
    }
    let wire = client.output().to_vec();
    feed(&mut server, &wire, 1000);
    let mut out = Vec::new();
    let dropped = log.take(&mut out, Duration::ZERO);
    // Ten frames and ten messages: three entries kept.
    assert_eq!((out.len(), dropped), (3, 17));
    assert_eq!(log.take(&mut out, Duration::ZERO), 0, "the count restarts");
}

#[test]
fn no_observer_means_no_reports_and_the_same_bytes() {
    // The same traffic with and without an observer: identical output.
    let log = log();
    let mut with = observed(Role::Client, &log);
    let mut without = Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(7)));
    for conn in [&mut with, &mut without] {
        conn.send_text("hello").unwrap();
        conn.send_binary(&[0; 1000]).unwrap();
        conn.ping(b"").unwrap();
    }
    assert_eq!(with.output(), without.output());
    assert_eq!(frames(&entries(&log)).len(), 3);
    assert!(Config::client().observer().is_none());
}

/// An observer that only counts, to check the trait's default methods.
#[derive(Default)]
struct Counter(std::sync::atomic::AtomicUsize);

impl Observer for Counter {
    fn frame(&self, _: &FrameRecord) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

#[test]
fn an_observer_needs_only_the_frame_method() {
    let counter = Arc::new(Counter::default());
    let mut server = Connection::new(Config::server().with_observer(counter.clone()));
    let mut client = Connection::new(Config::client());
    client.send_text("a").unwrap();
    client.send_text("b").unwrap();
    let wire = client.output().to_vec();
    feed(&mut server, &wire, 100);
    assert_eq!(counter.0.load(std::sync::atomic::Ordering::Relaxed), 2);
    assert!(matches!(server.next_event(), Ok(None)));
}

fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

/// A valid frame a client may send: data frames (with fragmentation kept valid by the test),
/// pings and pongs.
#[derive(Debug, Clone)]
struct Planned {
    kind: u8,
    len: usize,
    key: [u8; 4],
    long_form: bool,
}

fn planned() -> impl Strategy<Value = Planned> {
    (
        0u8..4,
        prop_oneof![0usize..=130, prop::sample::select(vec![125usize, 126, 127, 65535, 65536, 65537])],
        any::<[u8; 4]>(),
        any::<bool>(),
    )
        .prop_map(|(kind, len, key, long_form)| Planned { kind, len, key, long_form })
}

proptest! {
    #![proptest_config(cases(48))]

    /// Every header field a server reports for frames received in any chunking, and a client
    /// reports for frames it sent, equals what `FrameDecoder` reads from the bytes.
    #[test]
    fn reported_fields_match_the_decoder(plan in prop::collection::vec(planned(), 1..8), chunk in 1usize..3000) {
        let mut wire = Vec::new();
        let mut open = false;
        for (i, p) in plan.iter().enumerate() {
            let payload: Vec<u8> = (0..p.len).map(|j| (j * 31 + i) as u8).collect();
            let last = i + 1 == plan.len();
            let (opcode, fin, payload) = match p.kind {
                // A data frame: a fragment of an open message, or a new one; the plan's last
                // frame ends the message.
                0 | 1 => {
                    let opcode = if open { OpCode::Continuation } else { OpCode::Binary };
                    let fin = last || p.kind == 1;
                    open = !fin;
                    (opcode, fin, payload)
                }
                2 => (OpCode::Ping, true, payload[..p.len.min(125)].to_vec()),
                _ => (OpCode::Pong, true, payload[..p.len.min(125)].to_vec()),
            };
            if p.long_form && payload.len() <= 125 && !opcode.is_control() {
                // The 16-bit form for a short payload: legal to read, and reported as used.
                wire.push(u8::from(fin) << 7 | opcode.as_u8());
                wire.push(0x80 | 126);
                wire.extend_from_slice(&(payload.len() as u16).to_be_bytes());
                wire.extend_from_slice(&p.key);
                wire.extend(payload.iter().enumerate().map(|(j, b)| b ^ p.key[j % 4]));
            } else {
                encode_frame(&mut wire, fin, 0, opcode, &payload, Some(p.key));
            }
        }
        if open {
            encode_frame(&mut wire, true, 0, OpCode::Continuation, b"end", Some([9, 9, 9, 9]));
        }
        let log = log();
        let mut server = observed(Role::Server, &log);
        feed(&mut server, &wire, chunk);
        let received: Vec<FrameRecord> =
            frames(&entries(&log)).into_iter().filter(|f| f.direction == Direction::Received).collect();
        let decoded = decode_all(&wire);
        prop_assert_eq!(received.len(), decoded.len());
        for (record, (header, raw, payload)) in received.iter().zip(&decoded) {
            assert_matches(record, header, raw, payload);
        }

        // The sending side: a client's own records against its output.
        let log2 = self::log();
        let mut client = observed(Role::Client, &log2);
        for p in &plan {
            let payload: Vec<u8> = (0..p.len).map(|j| j as u8).collect();
            match p.kind {
                0 | 1 => client.send_binary(&payload).unwrap(),
                2 => client.ping(&payload[..p.len.min(125)]).unwrap(),
                _ => client.pong(&payload[..p.len.min(125)]).unwrap(),
            }
        }
        let out = client.output().to_vec();
        let decoded = decode_all(&out);
        let sent = frames(&entries(&log2));
        prop_assert_eq!(sent.len(), decoded.len());
        for (record, (header, raw, payload)) in sent.iter().zip(&decoded) {
            prop_assert_eq!(record.direction, Direction::Sent);
            assert_matches(record, header, raw, payload);
        }
    }
}

#[test]
fn s4_the_blocking_layer_reports_the_handshake_and_frames_on_both_sides() {
    use rfc6455::blocking::{ClientConfig, Server};
    let server = Server::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let server_log = log();
    let observer = server_log.clone();
    let thread = std::thread::spawn(move || {
        let pending = server.accept().unwrap().with_observer(observer);
        let mut ws = pending.handshake().unwrap();
        let message = ws.read().unwrap();
        if let rfc6455::Message::Text(text) = message {
            ws.send_text(&text).unwrap();
        }
        let _ = ws.read();
    });
    let client_log = log();
    let config = ClientConfig { config: Config::client().with_observer(client_log.clone()), ..ClientConfig::default() };
    let (mut ws, _) = rfc6455::blocking::connect_with(&format!("ws://{addr}/path"), &config).unwrap();
    ws.send_text("echo me").unwrap();
    assert_eq!(ws.read().unwrap(), rfc6455::Message::Text("echo me".into()));
    ws.close(CloseCode::NORMAL, "").unwrap();
    let _ = ws.read();
    thread.join().unwrap();

    for (log, role) in [(&server_log, Role::Server), (&client_log, Role::Client)] {
        let entries = entries(log);
        let LogEntry::Handshake { role: logged, request, response } = &entries[0] else {
            panic!("the handshake comes first: {entries:?}")
        };
        assert_eq!(*logged, role);
        assert!(request.starts_with("GET /path HTTP/1.1\r\n"), "{request}");
        assert!(request.contains("Sec-WebSocket-Key: "), "{request}");
        assert!(request.ends_with("\r\n\r\n"));
        assert!(response.starts_with("HTTP/1.1 101 "), "{response}");
        assert!(response.contains("Sec-WebSocket-Accept: "), "{response}");
        let f = frames(&entries);
        assert_eq!(f[0].opcode, OpCode::Text);
        assert_eq!(f[0].preview(), b"echo me");
        assert!(f.iter().any(|f| f.opcode == OpCode::Close));
    }
}

/// The async layer reports through the same core: the handshake from its accept and connect
/// paths, the frames from the connection.
#[cfg(feature = "tokio")]
#[tokio::test]
async fn s4_the_async_layer_reports_the_handshake_and_frames_on_both_sides() {
    use rfc6455::tokio::{ClientConfig, ServerConfig, accept, connect_with};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server_log = log();
    let config = ServerConfig { config: Config::server().with_observer(server_log.clone()), ..ServerConfig::default() };
    let server = tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        let mut ws = accept(sock, &config).await.unwrap();
        if let Ok(rfc6455::Message::Text(text)) = ws.read().await {
            ws.send_text(&text).await.unwrap();
        }
        let _ = ws.read().await;
    });
    let client_log = log();
    let config = ClientConfig { config: Config::client().with_observer(client_log.clone()), ..ClientConfig::default() };
    let (mut ws, _) = connect_with(&format!("ws://{addr}/async"), &config).await.unwrap();
    ws.send_text("echo me").await.unwrap();
    assert_eq!(ws.read().await.unwrap(), rfc6455::Message::Text("echo me".into()));
    ws.close(CloseCode::NORMAL, "").await.unwrap();
    let _ = ws.read().await;
    server.await.unwrap();

    for (log, role) in [(&server_log, Role::Server), (&client_log, Role::Client)] {
        let entries = entries(log);
        let LogEntry::Handshake { role: logged, request, response } = &entries[0] else {
            panic!("the handshake comes first: {entries:?}")
        };
        assert_eq!(*logged, role);
        assert!(request.starts_with("GET /async HTTP/1.1\r\n"), "{request}");
        assert!(response.starts_with("HTTP/1.1 101 "), "{response}");
        let f = frames(&entries);
        assert_eq!((f[0].opcode, f[0].preview()), (OpCode::Text, &b"echo me"[..]));
        assert!(f.iter().any(|f| f.opcode == OpCode::Close));
    }
}

/// The hyper upgrade reports the handshake too: the request as hyper parsed it, the 101 the
/// core built.
#[cfg(feature = "hyper")]
#[tokio::test]
async fn s4_the_hyper_upgrade_reports_the_handshake() {
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    use rfc6455::tokio::ServerConfig;
    use rfc6455::tokio::hyper::{Body, upgrade};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server_log = log();
    let config = ServerConfig { config: Config::server().with_observer(server_log.clone()), ..ServerConfig::default() };
    tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        let service = service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            let config = config.clone();
            async move {
                let (response, upgrading) = upgrade(&mut request, &config);
                if let Some(upgrading) = upgrading {
                    tokio::spawn(async move {
                        let mut ws = upgrading.await.unwrap();
                        while let Ok(message) = ws.read().await {
                            if message.is_data() {
                                ws.send(message).await.unwrap();
                            }
                        }
                    });
                }
                Ok::<hyper::Response<Body>, std::convert::Infallible>(response)
            }
        });
        let _ = http1::Builder::new().serve_connection(TokioIo::new(sock), service).with_upgrades().await;
    });
    let (mut ws, _) =
        rfc6455::tokio::connect_with(&format!("ws://{addr}/hyper"), &rfc6455::tokio::ClientConfig::default())
            .await
            .unwrap();
    ws.send_text("through hyper").await.unwrap();
    assert_eq!(ws.read().await.unwrap(), rfc6455::Message::Text("through hyper".into()));
    let entries = entries(&server_log);
    let LogEntry::Handshake { request, response, .. } = &entries[0] else { panic!("{entries:?}") };
    assert!(request.starts_with("GET /hyper HTTP/1.1\r\n"), "{request}");
    assert!(request.to_ascii_lowercase().contains("sec-websocket-key: "), "{request}");
    assert!(request.ends_with("\r\n\r\n"));
    assert!(response.starts_with("HTTP/1.1 101 "), "{response}");
    assert_eq!(frames(&entries)[0].preview(), b"through hyper");
}
