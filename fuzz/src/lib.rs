//! Shared pieces of the fuzz targets: cutting input into chunks, driving a connection the way an
//! I/O layer would, and checking what every run must satisfy (no event after a failure, a Close
//! with a valid code queued, memory within the configured limits, output a peer accepts).

use rfc6455::frame::decoder::{FrameDecoder, Step};
use rfc6455::frame::{FrameHeader, OpCode};
use rfc6455::{CloseCode, Config, Connection, Delivery, Error, Event, Limits, MaskKeySource, Message, Role};

/// A tiny deterministic generator (xorshift64*), so a chunking is a function of the input.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (any value, zero included).
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next value.
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Cut `data` into chunks whose sizes come from `seed`: mostly single bytes and small pieces,
/// sometimes large ones, so both byte-by-byte and bulk paths run.
pub fn chunks(data: &[u8], seed: u64) -> Vec<&[u8]> {
    let mut rng = Rng::new(seed);
    // The scale of the chunk sizes is fixed per run: 1 (byte by byte), 8, 64, or 4096.
    let scale = [1usize, 8, 64, 4096][(seed & 3) as usize];
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let n = (1 + rng.below(scale)).min(rest.len());
        let (head, tail) = rest.split_at(n);
        out.push(head);
        rest = tail;
    }
    out
}

/// Limits small enough that a fuzzer reaches every one of them.
pub fn small_limits() -> Limits {
    Limits {
        max_frame_size: 4 << 10,
        max_message_size: 16 << 10,
        max_stream_size: 64 << 10,
        max_send_frame_size: 4 << 10,
        max_handshake_size: 4 << 10,
        max_output_buffer: 4 << 10,
        max_input_buffer: 2 << 10,
    }
}

/// The most heap a connection with `limits` may hold: each buffer may be up to twice its
/// limit (vector growth doubles), the output one frame (and a pong or close) beyond its limit.
pub fn memory_bound(limits: &Limits) -> usize {
    2 * (limits.max_input_buffer + limits.max_message_size + limits.max_output_buffer + limits.max_frame_size) + 4096
}

/// What a stream target configures from its first input byte.
#[derive(Debug, Clone, Copy)]
pub struct StreamOptions {
    /// Whole messages or streamed pieces.
    pub delivery: Delivery,
    /// Automatic Pong replies.
    pub auto_pong: bool,
    /// Tell the connection the transport ended after the last byte.
    pub eof_at_end: bool,
    /// Write the output out only partly at each step.
    pub partial_writes: bool,
    /// Seed of the chunking.
    pub chunk_seed: u64,
    /// Hand bytes over the way an I/O layer reads them, through `read_buf` and `commit` (a
    /// large frame's payload then lands in the message buffer), instead of `receive`.
    pub read_buf: bool,
    /// Send every whole data message back with `send_received` (from the connection's own
    /// buffers; a large one is written from the message buffer, after its header).
    pub echo: bool,
}

impl StreamOptions {
    /// Split the input into options (first 3 bytes) and the stream.
    pub fn split(data: &[u8]) -> Option<(StreamOptions, &[u8])> {
        let [flags, a, b, rest @ ..] = data else { return None };
        let options = StreamOptions {
            delivery: if flags & 1 != 0 { Delivery::Streaming } else { Delivery::Messages },
            auto_pong: flags & 2 == 0,
            eof_at_end: flags & 4 != 0,
            partial_writes: flags & 8 != 0,
            chunk_seed: u64::from(*flags >> 4) << 16 | u64::from(*a) << 8 | u64::from(*b),
            read_buf: b & 1 != 0,
            echo: b & 2 != 0,
        };
        Some((options, rest))
    }
}

/// What a driven connection did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Every event, owned (streamed pieces concatenated into whole messages).
    pub messages: Vec<Message>,
    /// The error that ended the connection, if any.
    pub error: Option<String>,
    /// The protocol error's close code, if the connection failed.
    pub failed_with: Option<CloseCode>,
    /// Everything the connection wrote.
    pub wire: Vec<u8>,
}

/// Drive `conn` with `stream` cut by `options`, checking the invariants every run must hold,
/// and return what happened.
pub fn drive(conn: &mut Connection, limits: &Limits, stream: &[u8], options: &StreamOptions) -> Outcome {
    let mut out = Outcome::default();
    let mut streamed: Option<(rfc6455::MessageKind, Vec<u8>)> = None;
    let mut write_rng = Rng::new(options.chunk_seed.rotate_left(17));
    let bound = memory_bound(limits);
    let pieces = chunks(stream, options.chunk_seed);
    let mut failed = false;
    for (i, piece) in pieces.iter().enumerate() {
        // A piece goes in whole when it fits; otherwise events are pulled and the output written
        // to make room, and a piece larger than the room goes in parts. Every byte goes in, in
        // order, unless the connection is closed (it then drops them) or failed.
        let mut rest: &[u8] = piece;
        let mut stuck = 0;
        while options.read_buf && !rest.is_empty() {
            if conn.is_closed() {
                break;
            }
            let room = conn.read_buf();
            if room.is_empty() {
                pull(conn, &mut out, &mut streamed, &mut failed, options.echo);
                flush(conn, &mut out.wire, None);
                stuck += 1;
                assert!(stuck < 64, "input never drains");
                continue;
            }
            let n = room.len().min(rest.len());
            room[..n].copy_from_slice(&rest[..n]);
            conn.commit(n);
            rest = &rest[n..];
            stuck = 0;
        }
        // Bytes left after the connection closed go through `receive`, which drops them.
        let mut take = rest.len();
        while !rest.is_empty() {
            match conn.receive(&rest[..take]) {
                Ok(()) => {
                    rest = &rest[take..];
                    take = rest.len();
                    stuck = 0;
                }
                Err(e) => {
                    assert_eq!(e, rfc6455::UsageError::InputBufferFull);
                    pull(conn, &mut out, &mut streamed, &mut failed, options.echo);
                    flush(conn, &mut out.wire, None);
                    take = (take / 2).max(1);
                    stuck += 1;
                    // The decoder never needs more than a 14-byte header buffered.
                    assert!(stuck < 64, "input never drains");
                }
            }
        }
        if options.eof_at_end && i + 1 == pieces.len() {
            conn.receive_eof();
        }
        pull(conn, &mut out, &mut streamed, &mut failed, options.echo);
        let budget = if options.partial_writes { Some(1 + write_rng.below(64)) } else { None };
        flush(conn, &mut out.wire, budget);
        assert!(
            conn.buffered_capacity() <= bound,
            "connection holds {} bytes, bound {bound}",
            conn.buffered_capacity()
        );
    }
    if pieces.is_empty() && options.eof_at_end {
        conn.receive_eof();
        pull(conn, &mut out, &mut streamed, &mut failed, options.echo);
    }
    // Drain everything still queued (back-pressure may have paused decoding).
    for _ in 0..1024 {
        flush(conn, &mut out.wire, None);
        let before = out.messages.len();
        pull(conn, &mut out, &mut streamed, &mut failed, options.echo);
        if out.messages.len() == before && !conn.wants_write() {
            break;
        }
    }
    flush(conn, &mut out.wire, None);
    if let Some(error) = conn.failure() {
        out.error = Some(error.to_string());
        if let Error::Protocol(e) = error {
            out.failed_with = Some(e.close_code());
        }
        // After a failure nothing more comes out, however often asked.
        for _ in 0..3 {
            assert!(conn.next_event().is_err(), "an event after the failure");
        }
        assert!(conn.is_closed());
    }
    out
}

/// Pull events until none is ready.
fn pull(
    conn: &mut Connection,
    out: &mut Outcome,
    streamed: &mut Option<(rfc6455::MessageKind, Vec<u8>)>,
    failed: &mut bool,
    echo: bool,
) {
    loop {
        let echo_kind;
        match conn.next_event() {
            Ok(Some(event)) => {
                assert!(!*failed, "an event after the connection failed");
                echo_kind = match &event {
                    Event::Text(_) if echo => Some(rfc6455::MessageKind::Text),
                    Event::Binary(_) if echo => Some(rfc6455::MessageKind::Binary),
                    _ => None,
                };
                match event {
                    Event::Fragment { kind, data, is_last } => {
                        let (k, buf) = streamed.get_or_insert_with(|| (kind, Vec::new()));
                        assert_eq!(*k, kind, "fragments of one message change kind");
                        buf.extend_from_slice(data);
                        if is_last {
                            let (kind, buf) = streamed.take().expect("in progress");
                            out.messages.push(match kind {
                                rfc6455::MessageKind::Text => {
                                    Message::Text(String::from_utf8(buf).expect("streamed text is UTF-8 once complete"))
                                }
                                rfc6455::MessageKind::Binary => Message::Binary(buf),
                            });
                        }
                    }
                    other => {
                        if let Event::Ping(p) | Event::Pong(p) = other {
                            assert!(p.len() <= 125);
                        }
                        out.messages.push(Message::from_event(&other).expect("whole"));
                    }
                }
            }
            Ok(None) => return,
            Err(_) => {
                *failed = true;
                return;
            }
        }
        if let Some(kind) = echo_kind {
            // Refusals (a full output, a Close already sent) are the caller's to handle; the
            // wire check covers what was queued.
            let _ = conn.send_received(kind);
        }
    }
}

/// Write out up to `budget` bytes (all of them when `None`), as one vectored write of the
/// output's pieces.
fn flush(conn: &mut Connection, wire: &mut Vec<u8>, budget: Option<usize>) {
    let mut left = budget.unwrap_or(usize::MAX);
    let mut n = 0;
    for part in conn.output_parts() {
        let take = part.len().min(left);
        wire.extend_from_slice(&part[..take]);
        left -= take;
        n += take;
    }
    conn.consume_output(n);
    if budget.is_none() {
        assert!(!conn.wants_write(), "output left after writing all of output_parts");
    }
}

/// One frame of a decoded byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    /// The header as parsed.
    pub header: FrameHeader,
    /// The payload, unmasked.
    pub payload: Vec<u8>,
}

/// Split a byte stream into frames with the bare decoder. Returns the frames and the error that
/// stopped decoding, if any; a trailing partial frame is left out.
pub fn decode_frames(bytes: &[u8], chunk_seed: u64) -> (Vec<RawFrame>, Option<rfc6455::ProtocolError>) {
    let mut decoder = FrameDecoder::new();
    // Undecoded bytes are `buf[start..]`; decoded ones are dropped in bulk, not one step at a
    // time (draining the front of a `Vec` at every step would make a run quadratic).
    let mut buf: Vec<u8> = Vec::new();
    let mut start = 0;
    let mut frames: Vec<RawFrame> = Vec::new();
    let mut open = false;
    for piece in chunks(bytes, chunk_seed) {
        buf.drain(..start);
        start = 0;
        buf.extend_from_slice(piece);
        loop {
            let undecoded = buf.len() - start;
            match decoder.decode(&mut buf[start..]) {
                Err(e) => {
                    if open {
                        frames.pop();
                    }
                    return (frames, Some(e));
                }
                Ok(Step::NeedMore) => break,
                Ok(Step::Header { header, len }) => {
                    assert!(len <= rfc6455::frame::MAX_HEADER_LEN && len <= undecoded);
                    // A sender may use a longer length form than needed; never a shorter one.
                    assert!(len >= header.encoded_len());
                    start += len;
                    frames.push(RawFrame { header, payload: Vec::new() });
                    open = true;
                }
                Ok(Step::Payload { len, last }) => {
                    assert!(len <= undecoded, "payload piece longer than the input");
                    let frame = frames.last_mut().expect("a header before any payload");
                    frame.payload.extend_from_slice(&buf[start..start + len]);
                    start += len;
                    assert!(frame.payload.len() as u64 <= frame.header.payload_len);
                    if last {
                        assert_eq!(frame.payload.len() as u64, frame.header.payload_len);
                        assert!(decoder.at_frame_boundary());
                        open = false;
                    }
                    if len == 0 && !last {
                        break;
                    }
                }
            }
        }
    }
    if open {
        frames.pop();
    }
    (frames, None)
}

/// Check that `wire`, the bytes a connection of `role` wrote, is a valid stream for its peer:
/// every frame masked by a client and unmasked by a server, control frames well-formed, Close
/// codes allowed on the wire, and nothing after a Close. Returns the frames.
pub fn check_wire(wire: &[u8], role: Role) -> Vec<RawFrame> {
    let (frames, error) = decode_frames(wire, 0);
    assert_eq!(error, None, "the connection wrote an undecodable frame");
    let mut closed = false;
    for frame in &frames {
        assert!(!closed, "a frame after the Close");
        assert_eq!(frame.header.masking_key.is_some(), role == Role::Client, "masking by role (RFC 6455 §5.1)");
        assert_eq!(frame.header.rsv, 0);
        if frame.header.opcode.is_control() {
            assert!(frame.header.fin && frame.payload.len() <= 125);
        }
        if frame.header.opcode == OpCode::Close {
            closed = true;
            let parsed = rfc6455::close::parse_close_payload(&frame.payload).expect("a valid Close payload");
            if let Some((code, _)) = parsed {
                assert!(code.is_allowed_on_wire());
            }
        }
    }
    frames
}

/// The code of the last Close frame in `frames`, `Some(None)` for a Close without a code.
pub fn last_close_code(frames: &[RawFrame]) -> Option<Option<CloseCode>> {
    let frame = frames.iter().rev().find(|f| f.header.opcode == OpCode::Close)?;
    let parsed = rfc6455::close::parse_close_payload(&frame.payload).expect("valid");
    Some(parsed.map(|(code, _)| code))
}

/// A stream target: bytes from the peer after a successful handshake, for `role`.
/// `handshake` completes the opening handshake on the given connection bytes and returns the
/// bytes the handshake left over (which the connection must see first).
pub fn stream_target(role: Role, data: &[u8], handshake: impl FnOnce(&[&[u8]]) -> Vec<u8>) {
    let Some((options, stream)) = StreamOptions::split(data) else { return };
    let limits = small_limits();
    let config = Config::new(role)
        .with_limits(limits)
        .expect("valid limits")
        .with_mask_keys(MaskKeySource::Seeded(options.chunk_seed))
        .with_delivery(options.delivery)
        .with_auto_pong(options.auto_pong);
    let mut conn = Connection::new(config);
    // The handshake sees the first part of the stream in the same chunks, so frames that ride
    // behind the handshake reach the connection through the remainder.
    let pieces = chunks(stream, options.chunk_seed ^ 0x55);
    let split = pieces.len().min(1 + (options.chunk_seed as usize % 3));
    let remainder = handshake(&pieces[..split]);
    let rest_start: usize = pieces[..split].iter().map(|p| p.len()).sum();
    let mut input = remainder;
    input.extend_from_slice(&stream[rest_start..]);
    let outcome = drive(&mut conn, &limits, &input, &options);
    let frames = check_wire(&outcome.wire, role);
    if let Some(code) = outcome.failed_with {
        // RFC 6455 §7.1.7: failing the connection queues a Close with the error's code, unless
        // a Close had already been sent (here: as the echo of the peer's Close).
        let received_close = outcome.messages.iter().any(|m| matches!(m, Message::Close(..)));
        if !received_close {
            assert_eq!(last_close_code(&frames), Some(Some(code)), "failure without its Close");
        }
    }
    // Events stop at the peer's Close (§5.5.1: nothing is read after it).
    if let Some(at) = outcome.messages.iter().position(|m| matches!(m, Message::Close(..))) {
        assert_eq!(at + 1, outcome.messages.len(), "events after the Close");
    }
    // The same stream in other chunks gives the same events and the same end.
    let mut again = Connection::new(
        Config::new(role)
            .with_limits(limits)
            .expect("valid limits")
            .with_mask_keys(MaskKeySource::Seeded(options.chunk_seed))
            .with_delivery(options.delivery)
            .with_auto_pong(options.auto_pong),
    );
    // The other run also hands its bytes over the other way (`receive` or `read_buf`).
    let other = StreamOptions {
        chunk_seed: options.chunk_seed.wrapping_add(1),
        partial_writes: false,
        read_buf: !options.read_buf,
        ..options
    };
    let second = drive(&mut again, &limits, &input, &other);
    assert_eq!(outcome.messages, second.messages, "events depend on the chunking");
    assert_eq!(outcome.error, second.error, "the end depends on the chunking");
}
