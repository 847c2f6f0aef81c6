//! The command-line client (`examples/ws_client.rs`, logic in `examples/ws_client/client.rs`)
//! driven over loopback against small servers built with the crate: lines go out and replies
//! come back, `--verbose` shows the handshake and every frame both ways, commands work, a lost
//! connection is reopened with backoff, and a dead address is given up on after N attempts.

#[path = "../examples/ws_client/client.rs"]
mod client;

use std::net::TcpListener;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use client::{Input, Options, Outcome, Sink, backoff_delay};
use rfc6455::blocking::{Server, WebSocket};
use rfc6455::{CloseCode, Error, Message};

const PATIENCE: Duration = Duration::from_secs(10);

/// What the test server saw on one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Text(usize, String),
    Ping(usize, Vec<u8>),
    Close(usize, Option<CloseCode>, String),
}

/// A server that answers each text message with `echo: <text>`; on connection number
/// `drop_after.0` it closes with 1001 after `drop_after.1` messages. Accepts `connections`
/// connections, then stops.
fn echo_server(connections: usize, drop_after: Option<(usize, usize)>) -> (String, Receiver<Seen>, JoinHandle<()>) {
    let server = Server::bind("127.0.0.1:0").expect("bind");
    let url = format!("ws://{}/echo", server.local_addr().expect("addr"));
    let (seen, events) = mpsc::channel();
    let handle = thread::spawn(move || {
        for index in 0..connections {
            let Ok(pending) = server.accept() else { return };
            let Ok(mut ws) = pending.handshake() else { continue };
            serve(&mut ws, index, drop_after, &seen);
        }
    });
    (url, events, handle)
}

fn serve(
    ws: &mut WebSocket<rfc6455::blocking::MaybeTlsStream>,
    index: usize,
    drop_after: Option<(usize, usize)>,
    seen: &Sender<Seen>,
) {
    let mut texts = 0;
    loop {
        match ws.read() {
            Ok(Message::Text(text)) => {
                let _ = seen.send(Seen::Text(index, text.clone()));
                let _ = ws.send_text(&format!("echo: {text}"));
                texts += 1;
                if drop_after == Some((index, texts)) {
                    let _ = ws.close(CloseCode::GOING_AWAY, "restarting");
                }
            }
            Ok(Message::Ping(data)) => {
                let _ = seen.send(Seen::Ping(index, data));
            }
            Ok(Message::Close(code, reason)) => {
                let _ = seen.send(Seen::Close(index, code, reason));
            }
            Ok(_) => {}
            Err(Error::Closed) | Err(_) => return,
        }
    }
}

/// A client run on its own thread, with its input and both outputs at hand.
struct Run {
    input: Sender<Input>,
    out: Arc<Mutex<Vec<u8>>>,
    log: Arc<Mutex<Vec<u8>>>,
    handle: JoinHandle<Outcome>,
}

impl Run {
    fn start(options: Options) -> Run {
        let (input, lines) = mpsc::channel();
        let out = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (out_sink, log_sink): (Sink, Sink) = (out.clone(), log.clone());
        let handle = thread::spawn(move || client::run(&options, &lines, &out_sink, &log_sink));
        Run { input, out, log, handle }
    }

    fn line(&self, line: &str) {
        self.input.send(Input::Line(line.to_string())).expect("client running");
    }

    fn text(buffer: &Arc<Mutex<Vec<u8>>>) -> String {
        String::from_utf8_lossy(&buffer.lock().expect("lock")).into_owned()
    }

    /// Wait until the output (`out` or `log`) contains `needle`.
    fn wait_for(&self, log: bool, needle: &str) {
        let buffer = if log { &self.log } else { &self.out };
        let deadline = Instant::now() + PATIENCE;
        while !Run::text(buffer).contains(needle) {
            assert!(Instant::now() < deadline, "{needle:?} never appeared in\n{}", Run::text(buffer));
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn finish(self) -> (Outcome, String, String) {
        let _ = self.input.send(Input::End);
        let deadline = Instant::now() + PATIENCE;
        while !self.handle.is_finished() {
            assert!(Instant::now() < deadline, "the client did not stop:\n{}", Run::text(&self.log));
            thread::sleep(Duration::from_millis(10));
        }
        let outcome = self.handle.join().expect("client thread");
        (outcome, Run::text(&self.out), Run::text(&self.log))
    }
}

fn next_seen(events: &Receiver<Seen>) -> Seen {
    events.recv_timeout(PATIENCE).expect("the server saw nothing")
}

fn fast(url: &str) -> Options {
    Options {
        backoff_base: Duration::from_millis(20),
        backoff_cap: Duration::from_millis(200),
        max_attempts: Some(5),
        ..Options::new(url)
    }
}

#[test]
fn lines_go_out_replies_are_printed_and_end_of_input_closes_with_1000() {
    let (url, events, server) = echo_server(1, None);
    let run = Run::start(fast(&url));
    run.line("hello");
    run.line("second line");
    run.wait_for(false, "echo: second line");
    let (outcome, out, _log) = run.finish();
    assert_eq!(outcome, Outcome::Finished);
    assert_eq!(out, "echo: hello\necho: second line\n");
    assert_eq!(next_seen(&events), Seen::Text(0, "hello".into()));
    assert_eq!(next_seen(&events), Seen::Text(0, "second line".into()));
    assert_eq!(next_seen(&events), Seen::Close(0, Some(CloseCode::NORMAL), String::new()));
    server.join().expect("server");
}

#[test]
fn verbose_shows_the_handshake_and_every_frame_both_ways() {
    let (url, _events, server) = echo_server(1, None);
    let run = Run::start(Options { verbose: true, ..fast(&url) });
    run.line("hello");
    run.wait_for(false, "echo: hello");
    let (_, _, log) = run.finish();
    let lines: Vec<&str> = log.lines().collect();
    let has = |prefix: &str| lines.iter().any(|line| line.starts_with(prefix));
    assert!(has(">> GET /echo HTTP/1.1"), "{log}");
    assert!(has(">> Sec-WebSocket-Version: 13"), "{log}");
    assert!(has("<< HTTP/1.1 101 Switching Protocols"), "{log}");
    // Client frames are masked (§5.1) and shown unmasked; server frames are not masked.
    let sent = lines.iter().find(|line| line.starts_with(">> TEXT")).expect("a sent frame");
    assert!(sent.starts_with(">> TEXT fin=1 len=5 mask=") && sent.ends_with("\"hello\""), "{sent}");
    assert!(has("<< TEXT fin=1 len=11 \"echo: hello\""), "{log}");
    assert!(has(">> CLOSE fin=1 len=2 mask="), "{log}");
    assert!(has("<< CLOSE fin=1 len=2 code=1000"), "{log}");
    server.join().expect("server");
}

#[test]
fn ping_and_close_commands() {
    let (url, events, server) = echo_server(1, None);
    let run = Run::start(fast(&url));
    run.line("/ping are you there");
    run.wait_for(true, "# pong \"are you there\"");
    assert_eq!(next_seen(&events), Seen::Ping(0, b"are you there".to_vec()));
    run.line("/close 4000 all done");
    let deadline = Instant::now() + PATIENCE;
    while !run.handle.is_finished() {
        assert!(Instant::now() < deadline, "/close did not end the client");
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(next_seen(&events), Seen::Close(0, Some(CloseCode(4000)), "all done".into()));
    assert_eq!(run.finish().0, Outcome::Finished);
    server.join().expect("server");
}

#[test]
fn a_lost_connection_is_reopened_and_pending_lines_are_sent() {
    // The first connection is closed by the server (1001) after one message.
    let (url, events, server) = echo_server(2, Some((0, 1)));
    let run = Run::start(fast(&url));
    run.line("before");
    run.wait_for(true, "# server closed: 1001 \"restarting\"");
    run.line("after");
    run.wait_for(false, "echo: after");
    let (outcome, out, log) = run.finish();
    assert_eq!(outcome, Outcome::Finished);
    assert_eq!(out, "echo: before\necho: after\n");
    assert_eq!(log.matches("# connected to").count(), 2, "{log}");
    assert!(log.contains("# reconnecting in"), "{log}");
    assert_eq!(next_seen(&events), Seen::Text(0, "before".into()));
    // The client's reply to the server's Close echoes its code (§5.5.1).
    assert_eq!(next_seen(&events), Seen::Close(0, Some(CloseCode::GOING_AWAY), String::new()));
    assert_eq!(next_seen(&events), Seen::Text(1, "after".into()));
    server.join().expect("server");
}

#[test]
fn an_address_that_refuses_is_given_up_on_after_max_attempts() {
    let port = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let url = format!("ws://127.0.0.1:{port}/");
    let run = Run::start(Options { max_attempts: Some(3), ..fast(&url) });
    let (outcome, _, log) = run.finish_after_give_up();
    assert_eq!(outcome, Outcome::GaveUp("3 attempts failed in a row".into()));
    assert_eq!(log.matches("# cannot connect").count(), 3, "{log}");
    assert_eq!(log.matches("# reconnecting in").count(), 2, "{log}");
}

#[test]
fn reconnection_delays_double_from_the_base() {
    let port = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let options = Options {
        backoff_base: Duration::from_millis(100),
        backoff_cap: Duration::from_secs(1),
        max_attempts: Some(4),
        ..Options::new(&format!("ws://127.0.0.1:{port}/"))
    };
    let (outcome, _, log) = Run::start(options).finish_after_give_up();
    assert!(matches!(outcome, Outcome::GaveUp(_)));
    let delays: Vec<f64> = log
        .lines()
        .filter_map(|line| line.strip_prefix("# reconnecting in "))
        .filter_map(|rest| rest.trim_end_matches(" s").parse().ok())
        .collect();
    assert_eq!(delays.len(), 3, "{log}");
    for (delay, nominal) in delays.iter().zip([0.1, 0.2, 0.4]) {
        assert!(*delay >= nominal * 0.8 - 0.01 && *delay <= nominal * 1.2 + 0.01, "{delay} for {nominal}\n{log}");
    }
}

impl Run {
    /// Wait for a run that gives up on its own (without being told to stop).
    fn finish_after_give_up(self) -> (Outcome, String, String) {
        let deadline = Instant::now() + PATIENCE;
        while !self.handle.is_finished() {
            assert!(Instant::now() < deadline, "the client never gave up:\n{}", Run::text(&self.log));
            thread::sleep(Duration::from_millis(10));
        }
        let outcome = self.handle.join().expect("client thread");
        (outcome, Run::text(&self.out), Run::text(&self.log))
    }
}

#[test]
fn backoff_doubles_up_to_the_cap_with_jitter() {
    let base = Duration::from_secs(1);
    let cap = Duration::from_secs(30);
    for attempt in 0..40 {
        let nominal = (base * 2u32.pow(attempt.min(10))).min(cap).as_secs_f64();
        for _ in 0..20 {
            let delay = backoff_delay(attempt, base, cap).as_secs_f64();
            assert!(delay >= nominal * 0.8 - 1e-9 && delay <= nominal * 1.2 + 1e-9, "attempt {attempt}: {delay}");
        }
    }
    // The jitter really varies.
    let delays: std::collections::HashSet<u128> = (0..20).map(|_| backoff_delay(3, base, cap).as_micros()).collect();
    assert!(delays.len() > 1);
}
