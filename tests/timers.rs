//! Keepalive, idle and close deadlines of the sans-IO core, on a virtual clock: every `Instant`
//! is built from one start and a `Duration`, nothing sleeps, and nothing depends on how fast the
//! machine is.

use std::time::{Duration, Instant};

use rfc6455::frame::OpCode;
use rfc6455::frame::encoder::encode_frame;
use rfc6455::{
    CloseCode, CloseState, Config, Connection, Deadline, Error, Event, Keepalive, MaskKeySource, Timers, UsageError,
};

const KEY: [u8; 4] = [1, 2, 3, 4];

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn server_with(timers: Timers) -> Connection {
    Connection::new(Config::server().with_timers(timers).unwrap())
}

fn client_with(timers: Timers) -> Connection {
    Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(1)).with_timers(timers).unwrap())
}

fn keepalive(interval: u64, timeout: u64) -> Timers {
    Timers { keepalive: Some(Keepalive { interval: secs(interval), timeout: secs(timeout) }), ..Timers::OFF }
}

/// A frame as a client sends it (masked, §5.3).
fn from_client(opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(&mut out, true, 0, opcode, payload, Some(KEY));
    out
}

/// A frame as a server sends it (unmasked, §5.1).
fn from_server(opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(&mut out, true, 0, opcode, payload, None);
    out
}

/// Hand bytes in and pull every event, as an I/O layer does with one batch.
fn deliver(conn: &mut Connection, bytes: &[u8]) -> Result<usize, Error> {
    conn.receive(bytes)?;
    let mut events = 0;
    while conn.next_event()?.is_some() {
        events += 1;
    }
    Ok(events)
}

/// Take everything queued for the peer, as a write that took it all.
fn written(conn: &mut Connection) -> Vec<u8> {
    let out = conn.output().to_vec();
    conn.consume_output(out.len());
    out
}

#[test]
fn no_deadline_before_the_clock_starts_or_with_timers_off() {
    let conn = server_with(keepalive(10, 5));
    assert_eq!(conn.poll_timeout(), None, "the core has no clock: nothing is timed before the first now");
    let mut off = server_with(Timers::OFF);
    off.handle_timeout(Instant::now());
    off.close(CloseCode::NORMAL, "").unwrap();
    off.handle_timeout(Instant::now());
    assert_eq!(off.poll_timeout(), None);
}

#[test]
fn keepalive_pings_after_an_interval_of_silence() {
    let t0 = Instant::now();
    let mut conn = server_with(keepalive(10, 5));
    conn.handle_timeout(t0);
    assert_eq!(conn.poll_timeout(), Some(t0 + secs(10)));
    conn.handle_timeout(t0 + secs(9));
    assert!(!conn.wants_write(), "no Ping before the interval");
    conn.handle_timeout(t0 + secs(10));
    assert_eq!(written(&mut conn), from_server(OpCode::Ping, b""));
    assert_eq!(conn.poll_timeout(), Some(t0 + secs(15)), "the answer is due `timeout` after the Ping");
}

#[test]
fn keepalive_unanswered_fails_the_connection_with_1011() {
    let t0 = Instant::now();
    let mut conn = server_with(keepalive(10, 5));
    conn.handle_timeout(t0);
    conn.handle_timeout(t0 + secs(10));
    written(&mut conn);
    conn.handle_timeout(t0 + secs(14));
    assert!(conn.failure().is_none());
    conn.handle_timeout(t0 + secs(15));
    let mut close = Vec::new();
    encode_frame(&mut close, true, 0, OpCode::Close, &1011u16.to_be_bytes(), None);
    assert_eq!(written(&mut conn), close);
    assert!(matches!(conn.next_event(), Err(Error::TimedOut(Deadline::Keepalive))));
    assert_eq!(conn.timed_out(), Some(Deadline::Keepalive));
    assert!(conn.should_close_transport(), "a failed connection closes once its Close is written");
}

#[test]
fn keepalive_is_answered_by_a_pong_or_any_other_frame() {
    for answer in [from_client(OpCode::Pong, b""), from_client(OpCode::Text, b"still here")] {
        let t0 = Instant::now();
        let mut conn = server_with(keepalive(10, 5));
        conn.handle_timeout(t0);
        conn.handle_timeout(t0 + secs(10));
        written(&mut conn);
        assert_eq!(deliver(&mut conn, &answer).unwrap(), 1);
        conn.handle_timeout(t0 + secs(12));
        assert_eq!(conn.poll_timeout(), Some(t0 + secs(22)), "silence counts again from the answer");
        conn.handle_timeout(t0 + secs(17));
        assert!(conn.failure().is_none(), "answered in time");
    }
}

#[test]
fn keepalive_waits_while_the_peer_keeps_talking() {
    let t0 = Instant::now();
    let mut conn = server_with(keepalive(10, 5));
    conn.handle_timeout(t0);
    for s in 1..=30 {
        deliver(&mut conn, &from_client(OpCode::Binary, &[s as u8])).unwrap();
        conn.handle_timeout(t0 + secs(s));
        assert!(!conn.wants_write(), "no Ping at {s} s: the peer spoke a second ago");
    }
}

#[test]
fn keepalive_stops_once_the_closing_handshake_starts() {
    let t0 = Instant::now();
    let mut conn = server_with(Timers { close: Some(secs(100)), ..keepalive(10, 5) });
    conn.handle_timeout(t0);
    conn.close(CloseCode::NORMAL, "").unwrap();
    written(&mut conn);
    conn.handle_timeout(t0 + secs(1));
    assert_eq!(conn.poll_timeout(), Some(t0 + secs(101)), "only the close deadline is left");
    conn.handle_timeout(t0 + secs(50));
    assert!(!conn.wants_write(), "no Ping after a Close (§5.5.1 allows it, but the close timeout rules now)");
    assert!(conn.failure().is_none());
}

#[test]
fn idle_timeout_fails_the_connection_with_1001() {
    let t0 = Instant::now();
    let mut conn = server_with(Timers { idle: Some(secs(30)), ..Timers::OFF });
    conn.handle_timeout(t0);
    deliver(&mut conn, &from_client(OpCode::Text, b"hi")).unwrap();
    conn.handle_timeout(t0 + secs(20));
    assert_eq!(conn.poll_timeout(), Some(t0 + secs(50)), "idle counts from the last frame");
    conn.handle_timeout(t0 + secs(49));
    assert!(conn.failure().is_none());
    conn.handle_timeout(t0 + secs(50));
    let mut close = Vec::new();
    encode_frame(&mut close, true, 0, OpCode::Close, &1001u16.to_be_bytes(), None);
    assert_eq!(written(&mut conn), close);
    assert!(matches!(conn.next_event(), Err(Error::TimedOut(Deadline::Idle))));
    assert!(conn.should_close_transport());
}

#[test]
fn s7_1_1_close_timeout_ends_a_peer_that_never_answers_the_close() {
    let t0 = Instant::now();
    let mut conn = server_with(Timers { close: Some(secs(5)), ..Timers::OFF });
    conn.handle_timeout(t0);
    assert_eq!(conn.poll_timeout(), None, "nothing is timed while open");
    conn.close(CloseCode::GOING_AWAY, "").unwrap();
    written(&mut conn);
    assert_eq!(conn.poll_timeout(), Some(t0), "a Close was queued: call handle_timeout now");
    conn.handle_timeout(t0 + secs(1));
    assert_eq!(conn.poll_timeout(), Some(t0 + secs(6)));
    conn.handle_timeout(t0 + secs(5));
    assert!(!conn.should_close_transport(), "still waiting for the peer's Close");
    conn.handle_timeout(t0 + secs(6));
    assert!(conn.should_close_transport());
    assert_eq!(conn.timed_out(), Some(Deadline::Close));
    assert_eq!(conn.state(), CloseState::Closed);
    assert!(matches!(conn.next_event(), Ok(None)), "given up: nothing more is read, and no error");
    assert_eq!(conn.poll_timeout(), None);
}

#[test]
fn s7_1_1_client_waits_for_the_servers_tcp_close_at_most_the_close_timeout() {
    let t0 = Instant::now();
    let mut conn = client_with(Timers { close: Some(secs(5)), ..Timers::OFF });
    conn.handle_timeout(t0);
    deliver(&mut conn, &from_server(OpCode::Close, &1000u16.to_be_bytes())).unwrap();
    written(&mut conn);
    assert_eq!(conn.state(), CloseState::Closed);
    assert!(!conn.should_close_transport(), "§7.1.1: the client waits for the server to close TCP");
    conn.handle_timeout(t0 + secs(1));
    conn.handle_timeout(t0 + secs(6));
    assert!(conn.should_close_transport(), "but not for ever");
    assert_eq!(conn.timed_out(), Some(Deadline::Close));
}

#[test]
fn close_timeout_drops_output_a_peer_never_reads() {
    let t0 = Instant::now();
    let mut conn = server_with(Timers { close: Some(secs(5)), ..Timers::OFF });
    conn.handle_timeout(t0);
    conn.send_binary(&[0; 1000]).unwrap();
    conn.close(CloseCode::NORMAL, "").unwrap();
    conn.handle_timeout(t0);
    conn.handle_timeout(t0 + secs(5));
    assert!(!conn.wants_write(), "what the peer never took is dropped");
    assert!(conn.should_close_transport());
    assert_eq!(conn.send_text("late"), Err(UsageError::Closed));
}

#[test]
fn failures_start_the_close_deadline_too() {
    let t0 = Instant::now();
    let mut conn = server_with(Timers { close: Some(secs(5)), ..Timers::OFF });
    conn.handle_timeout(t0);
    // An unmasked frame from a client fails the connection (§5.1); its Close is never written.
    assert!(deliver(&mut conn, &from_server(OpCode::Text, b"x")).is_err());
    assert!(!conn.should_close_transport(), "the Close frame is still queued");
    conn.handle_timeout(t0 + secs(1));
    conn.handle_timeout(t0 + secs(6));
    assert!(conn.should_close_transport());
}

#[test]
fn deadlines_are_never_at_or_before_now_after_handle_timeout() {
    let t0 = Instant::now();
    let timers = Timers {
        keepalive: Some(Keepalive { interval: secs(3), timeout: secs(2) }),
        idle: Some(secs(7)),
        close: Some(secs(4)),
    };
    let mut conn = server_with(timers);
    for s in 0..40 {
        let now = t0 + Duration::from_millis(s * 500);
        if s == 5 {
            deliver(&mut conn, &from_client(OpCode::Pong, b"")).unwrap();
        }
        conn.handle_timeout(now);
        written(&mut conn);
        if let Some(deadline) = conn.poll_timeout() {
            assert!(deadline > now, "at {s}: {deadline:?} is not after {now:?}");
        }
    }
    assert!(conn.should_close_transport(), "idle, then the close deadline, ended it");
}

#[test]
fn time_going_backwards_counts_as_the_latest_time_seen() {
    let t0 = Instant::now();
    let mut conn = server_with(keepalive(10, 5));
    conn.handle_timeout(t0 + secs(10));
    written(&mut conn);
    conn.handle_timeout(t0);
    assert_eq!(conn.poll_timeout(), Some(t0 + secs(20)), "t0 counts as t0 + 10 s");
}

#[test]
fn zero_durations_are_refused_when_the_config_is_built() {
    let timers = Timers { idle: Some(Duration::ZERO), ..Timers::OFF };
    assert!(matches!(Config::server().with_timers(timers), Err(UsageError::InvalidTimers(_))));
    let mut conn = server_with(Timers::OFF);
    assert!(conn.set_timers(timers).is_err());
    assert_eq!(*conn.timers(), Timers::OFF);
}

#[test]
fn a_streamed_message_arriving_slowly_keeps_the_connection_alive() {
    let t0 = Instant::now();
    let mut conn = server_with(Timers { idle: Some(secs(10)), ..Timers::OFF });
    conn.handle_timeout(t0);
    let frame = from_client(OpCode::Binary, &[7; 100]);
    for (i, piece) in frame.chunks(10).enumerate() {
        conn.receive(piece).unwrap();
        while let Some(event) = conn.next_event().unwrap() {
            assert!(matches!(event, Event::Binary(_)));
        }
        conn.handle_timeout(t0 + secs(5 * (i as u64 + 1)));
    }
    assert!(conn.failure().is_none(), "every piece of the frame counted as hearing from the peer");
}

#[test]
fn a_large_frame_read_straight_into_the_message_buffer_counts_as_hearing_from_the_peer() {
    let t0 = Instant::now();
    let mut conn = server_with(Timers { idle: Some(secs(10)), ..Timers::OFF });
    conn.handle_timeout(t0);
    let frame = from_client(OpCode::Binary, &[7; 256 << 10]);
    let (mut at, mut step) = (0, 0);
    while at < frame.len() {
        // Reads of at most 16 KiB, as a socket hands them out, 5 s apart.
        let room = conn.read_buf();
        let n = room.len().min(16 << 10).min(frame.len() - at);
        room[..n].copy_from_slice(&frame[at..at + n]);
        conn.commit(n);
        at += n;
        while conn.next_event().unwrap().is_some() {}
        step += 1;
        conn.handle_timeout(t0 + secs(5 * step));
        assert!(conn.failure().is_none(), "failed after {at} of {} bytes", frame.len());
    }
}
