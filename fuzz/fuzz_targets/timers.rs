//! Peer bytes, sends, writes and clock ticks interleaved on one connection with keepalive, idle
//! and close deadlines (all short, so ticks cross them). The clock is virtual: one `Instant`
//! plus the ticks. Checks, after every step:
//! - no panic, and every error is the connection's sticky one;
//! - after `handle_timeout(now)`, `poll_timeout()` is never at or before `now`;
//! - once the close deadline has passed since the closing handshake started, the transport is
//!   to be closed;
//! - a deadline fires only when it is configured and its time has come (never before the
//!   clocks started plus its duration);
//! - a keepalive or idle failure queues a Close with 1011 or 1001;
//! - on the wire: frames masked by role, no data frame after a Close, at most one Close.
#![no_main]

use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rfc6455::frame::encoder::encode_frame;
use rfc6455::frame::{FrameHeader, OpCode};
use rfc6455::{CloseCode, CloseState, Config, Connection, Deadline, Error, Keepalive, MaskKeySource, Role, Timers};
use rfc6455_fuzz::{decode_frames, small_limits};

#[derive(Arbitrary, Debug)]
struct Input {
    client: bool,
    /// Durations in milliseconds; 0 turns a deadline off.
    keepalive_interval: u8,
    keepalive_timeout: u8,
    idle: u8,
    close: u8,
    ops: Vec<Op>,
}

#[derive(Arbitrary, Debug)]
enum Op {
    /// Raw bytes from the peer.
    Peer(Vec<u8>),
    /// A well-formed frame from the peer (masked when the peer is a client).
    PeerFrame { opcode: u8, fin: bool, payload: Vec<u8> },
    SendText(String),
    SendBinary(Vec<u8>),
    SendFragment { text: bool, data: Vec<u8>, last: bool },
    Ping(Vec<u8>),
    Close(u16),
    /// The transport took up to this many bytes of output.
    Write(u16),
    /// The clock moves on by this many milliseconds, and the connection is told.
    Tick(u8),
    /// The connection is told the time without the clock moving.
    Now,
    Eof,
}

fn ms(n: u8) -> Option<Duration> {
    (n > 0).then(|| Duration::from_millis(n as u64))
}

struct Harness {
    conn: Connection,
    role: Role,
    timers: Timers,
    start: Instant,
    now: Instant,
    /// When the harness first told the connection the time with its closing handshake begun.
    closing_since: Option<Instant>,
    /// Everything written, for the wire checks.
    wire: Vec<u8>,
}

impl Harness {
    fn tell_time(&mut self) {
        if self.conn.state() != CloseState::Open && self.closing_since.is_none() {
            self.closing_since = Some(self.now);
        }
        let was_open = self.conn.state() == CloseState::Open;
        let output_before = self.conn.output().len();
        self.conn.handle_timeout(self.now);
        if let Some(deadline) = self.conn.poll_timeout() {
            assert!(deadline > self.now, "a deadline at or before now after handle_timeout");
        }
        if let (Some(since), Some(close)) = (self.closing_since, self.timers.close)
            && self.now >= since + close
        {
            assert!(self.conn.should_close_transport(), "the close deadline passed: close the transport");
            assert!(self.conn.output().is_empty(), "given up: nothing is left to write");
        }
        if let Some(deadline) = self.conn.timed_out() {
            let elapsed = self.now - self.start;
            match deadline {
                Deadline::Keepalive => {
                    let k = self.timers.keepalive.expect("keepalive fired while off");
                    assert!(elapsed >= k.interval + k.timeout, "keepalive failed early");
                }
                Deadline::Idle => assert!(elapsed >= self.timers.idle.expect("idle fired while off")),
                Deadline::Close => {
                    assert!(self.timers.close.is_some(), "close deadline fired while off");
                    assert!(self.conn.should_close_transport());
                }
            }
            if was_open && self.conn.state() != CloseState::Open && deadline != Deadline::Close {
                // The failure's Close is the last thing queued.
                let queued = &self.conn.output()[output_before..];
                let (frames, error) = decode_frames(queued, 0);
                assert_eq!(error, None);
                let close = frames.last().expect("a Close queued");
                assert_eq!(close.header.opcode, OpCode::Close);
                let code = deadline.close_code().expect("a code").0;
                assert_eq!(close.payload[..2], code.to_be_bytes());
            }
        }
    }

    fn pull(&mut self) {
        let sticky = loop {
            match self.conn.next_event() {
                Ok(Some(_)) => {}
                Ok(None) => return,
                Err(error) => break error,
            }
        };
        assert!(sticky.is_fatal());
        if let Error::TimedOut(deadline) = sticky {
            assert_eq!(self.conn.timed_out(), Some(deadline));
        }
        let again = self.conn.next_event().err().map(|e| e.to_string());
        assert_eq!(again, Some(sticky.to_string()), "the error is sticky");
    }

    fn write(&mut self, n: usize) {
        let n = n.min(self.conn.output().len());
        self.wire.extend_from_slice(&self.conn.output()[..n]);
        self.conn.consume_output(n);
    }

    fn check_wire(&self) {
        let (frames, error) = decode_frames(&self.wire, 0);
        assert_eq!(error, None, "the connection wrote an undecodable frame");
        let mut closes = 0;
        for frame in &frames {
            check_frame(&frame.header, self.role);
            if closes > 0 {
                assert!(frame.header.opcode.is_control(), "a data frame after the Close (RFC 6455 §5.5.1)");
            }
            if frame.header.opcode == OpCode::Close {
                closes += 1;
            }
        }
        assert!(closes <= 1, "more than one Close");
    }
}

fn check_frame(header: &FrameHeader, role: Role) {
    assert_eq!(header.masking_key.is_some(), role == Role::Client, "masking by role (RFC 6455 §5.1)");
    if header.opcode.is_control() {
        assert!(header.fin && header.payload_len <= 125);
    }
}

fuzz_target!(|input: Input| {
    let role = if input.client { Role::Client } else { Role::Server };
    let keepalive = match (ms(input.keepalive_interval), ms(input.keepalive_timeout)) {
        (Some(interval), Some(timeout)) => Some(Keepalive { interval, timeout }),
        _ => None,
    };
    let timers = Timers { keepalive, idle: ms(input.idle), close: ms(input.close) };
    let config = Config::new(role)
        .with_limits(small_limits())
        .expect("valid limits")
        .with_mask_keys(MaskKeySource::Seeded(1))
        .with_timers(timers)
        .expect("non-zero durations");
    let start = Instant::now();
    let mut h = Harness {
        conn: Connection::new(config),
        role,
        timers,
        start,
        now: start,
        closing_since: None,
        wire: Vec::new(),
    };
    h.tell_time();
    for op in input.ops.into_iter().take(256) {
        match op {
            Op::Peer(bytes) => {
                let _ = h.conn.receive(&bytes);
                h.pull();
            }
            Op::PeerFrame { opcode, fin, payload } => {
                let Ok(opcode) = OpCode::try_from(opcode & 0x0f) else { continue };
                let key = (role == Role::Server).then_some([0x37, 0xfa, 0x21, 0x3d]);
                let mut frame = Vec::new();
                encode_frame(&mut frame, fin, 0, opcode, &payload[..payload.len().min(300)], key);
                let _ = h.conn.receive(&frame);
                h.pull();
            }
            Op::SendText(text) => {
                let _ = h.conn.send_text(&text);
            }
            Op::SendBinary(data) => {
                let _ = h.conn.send_binary(&data);
            }
            Op::SendFragment { text, data, last } => {
                let kind = if text { rfc6455::MessageKind::Text } else { rfc6455::MessageKind::Binary };
                let _ = h.conn.send_fragment(kind, &data, last);
            }
            Op::Ping(payload) => {
                let _ = h.conn.ping(&payload);
            }
            Op::Close(code) => {
                let _ = h.conn.close(CloseCode(code), "");
            }
            Op::Write(n) => h.write(n as usize),
            Op::Tick(n) => {
                h.now += Duration::from_millis(n as u64);
                h.tell_time();
                h.pull();
            }
            Op::Now => h.tell_time(),
            Op::Eof => {
                h.conn.receive_eof();
                h.pull();
            }
        }
    }
    h.write(usize::MAX);
    h.check_wire();
});
