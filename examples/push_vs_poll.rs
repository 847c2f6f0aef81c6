//! "A page shows a figure that changes every second: poll it over HTTP, or keep one WebSocket
//! open?" answered by measurement, over loopback, against the dashboard demo's own server.
//!
//! ```text
//! cargo run --release --example push_vs_poll -- [SECONDS] [SAMPLE_INTERVAL_MS]
//! ```
//!
//! It starts the dashboard server (`examples/dashboard/server.rs`) on a loopback port, taking a
//! sample every SAMPLE_INTERVAL_MS (default 1000) for SECONDS (default 10), and runs beside it:
//!
//! - **push**: one WebSocket client, with the opening handshake a browser sends (its header
//!   set), receiving every sample as a frame, and closing at the end;
//! - **poll every T**, for T = the sample interval and a quarter of it: browser-like clients
//!   sending `GET /poll` with the header set a browser's `fetch` sends. A browser's poll timer
//!   has no relation to the server's sampling clock, so each poll interval is run by 8 clients
//!   whose timers are spread evenly over one interval, and latencies are averaged over them;
//!   bytes are per client (one browser tab).
//!
//! Bytes are counted by wrapping the sockets: what is written and read at the HTTP/WebSocket
//! level, handshakes, frame headers and Close frames included; TCP/IP headers are not (the
//! footnote of the table says what they would add). Latency is the time from the sample being
//! taken (its `at_us`, the server's clock, which is this machine's) to its arrival at a client.

#[path = "dashboard/server.rs"]
mod dashboard;

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dashboard::counting::Counting;
use dashboard::meter::{default_poll_request, default_push_options, poll_once};
use dashboard::web::Stopper;
use rfc6455::blocking::{ClientConfig, Server, client};
use rfc6455::{CloseCode, Error, Message, WsUri};
use serde_json::Value;

/// Clients per poll interval, their timers spread evenly over one interval.
const POLLERS: u32 = 8;

/// What one way of getting the samples cost and how fresh they arrived.
#[derive(Debug, Default, Clone)]
struct Measured {
    /// Client → server bytes: requests (poll) or handshake + Close (push).
    up: u64,
    /// Server → client bytes.
    down: u64,
    /// Of which the opening handshake (push only): up, down.
    handshake: (u64, u64),
    /// HTTP requests made (poll) or connections (push).
    requests: u64,
    /// Samples received that the client had not seen before.
    updates: u64,
    /// Latency of each new sample, milliseconds.
    latencies_ms: Vec<f64>,
    /// Push only: the size on the wire of each sample's frame.
    sample_frame_bytes: Vec<usize>,
}

fn now_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_micros() as u64)
}

/// A new sample's latency, if `sample` is newer than `last_seq`.
fn freshness(sample: &Value, last_seq: &mut u64) -> Option<f64> {
    let seq = sample["seq"].as_u64()?;
    let at_us = sample["at_us"].as_u64()?;
    if seq <= *last_seq {
        return None;
    }
    *last_seq = seq;
    Some(now_micros().saturating_sub(at_us) as f64 / 1000.0)
}

/// One WebSocket client for `duration`: the browser's handshake, every pushed sample, a Close.
fn push_client(addr: SocketAddr, duration: Duration) -> Result<Measured, Error> {
    let uri = WsUri::parse(&format!("ws://{addr}/ws"))?;
    let options = default_push_options(addr);
    let config = ClientConfig { options, ..ClientConfig::default() };
    let stream = Counting::new(TcpStream::connect(addr)?);
    stream.stream.set_nodelay(true)?;
    let (written, read, first_read) =
        (Arc::clone(&stream.written), Arc::clone(&stream.read), Arc::clone(&stream.first_read));
    let deadline = Instant::now() + config.timeouts.handshake;
    let (mut ws, _) = client::handshake(stream, &uri, &config, deadline)?;
    // The 101 response ends at its empty line; what follows in the same read is frames.
    let response_len = {
        let kept = first_read.lock().unwrap_or_else(PoisonError::into_inner);
        kept.windows(4).position(|w| w == b"\r\n\r\n").map_or(kept.len(), |at| at + 4)
    };
    let mut measured = Measured {
        handshake: (written.load(Ordering::Relaxed), response_len as u64),
        requests: 1,
        ..Measured::default()
    };
    // The history sent on connect is not an update; the samples after it are.
    let end = Instant::now() + duration;
    let mut last_seq = 0;
    // Bytes read when the previous message was handed over: a sample's frame is what the
    // socket delivered since (one frame per read at these rates; the sum is exact regardless).
    let mut read_before = read.load(Ordering::Relaxed);
    while Instant::now() < end {
        if let Message::Text(text) = ws.read()? {
            let read_now = read.load(Ordering::Relaxed);
            let frame_bytes = (read_now - read_before) as usize;
            read_before = read_now;
            let Ok(message) = serde_json::from_str::<Value>(&text) else { continue };
            if message["type"] == "history" {
                last_seq =
                    message["samples"].as_array().and_then(|s| s.last()).and_then(|s| s["seq"].as_u64()).unwrap_or(0);
            } else if let Some(latency) = freshness(&message, &mut last_seq) {
                measured.updates += 1;
                measured.latencies_ms.push(latency);
                // Measured on the socket, not worked out from the payload's length.
                measured.sample_frame_bytes.push(frame_bytes);
            }
        }
    }
    ws.close(CloseCode::NORMAL, "")?;
    loop {
        match ws.read() {
            Ok(_) => {}
            Err(Error::Closed) => break,
            Err(e) => return Err(e),
        }
    }
    measured.up = written.load(Ordering::Relaxed);
    measured.down = read.load(Ordering::Relaxed);
    Ok(measured)
}

/// One polling client: every `every`, from `start`, until `end`.
fn poll_client(addr: SocketAddr, every: Duration, start: Instant, end: Instant) -> io::Result<Measured> {
    let request = default_poll_request(addr);
    let mut measured = Measured::default();
    let mut last_seq = 0;
    let mut next = start;
    // The first poll only learns where the samples stand, as the page's history fetch does.
    let mut first = true;
    while next < end {
        thread::sleep(next.saturating_duration_since(Instant::now()));
        let (up, down, sample) = poll_once(addr, request.as_bytes())?;
        measured.up += up;
        measured.down += down;
        measured.requests += 1;
        let latency = freshness(&sample, &mut last_seq);
        if let (Some(latency), false) = (latency, first) {
            measured.updates += 1;
            measured.latencies_ms.push(latency);
        }
        first = false;
        next += every;
    }
    Ok(measured)
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() { f64::NAN } else { values.iter().sum::<f64>() / values.len() as f64 }
}

fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n => sorted[((n - 1) as f64 * p).round() as usize],
    }
}

fn human_ms(ms: f64) -> String {
    if ms < 10.0 { format!("{ms:.2} ms") } else { format!("{ms:.0} ms") }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().map_or(Ok(10), |text| text.parse()).map_err(|_| "SECONDS: a whole number")?;
    let interval_ms: u64 =
        args.next().map_or(Ok(1000), |text| text.parse()).map_err(|_| "SAMPLE_INTERVAL_MS: a whole number")?;
    if seconds == 0 || interval_ms < 4 {
        return Err("SECONDS must be positive and SAMPLE_INTERVAL_MS at least 4".into());
    }
    let interval = Duration::from_millis(interval_ms);
    let duration = Duration::from_secs(seconds);

    let server = Server::bind("127.0.0.1:0")?;
    let addr = server.local_addr()?;
    let stopper = Stopper::for_server(&server)?;
    let server_thread = {
        let stopper = stopper.clone();
        thread::spawn(move || dashboard::run(server, stopper, interval))
    };
    eprintln!("measuring for {seconds} s against the dashboard on {addr}, a sample every {interval_ms} ms…");

    let start = Instant::now() + Duration::from_millis(50);
    let end = start + duration;
    let push = thread::spawn(move || push_client(addr, duration));
    let poll_intervals = [interval, interval / 4];
    let mut pollers = Vec::new();
    for every in poll_intervals {
        for k in 0..POLLERS {
            let phase = every * (2 * k + 1) / (2 * POLLERS);
            pollers.push((every, thread::spawn(move || poll_client(addr, every, start + phase, end + phase))));
        }
    }
    let push = push.join().map_err(|_| "the push client panicked")??;
    let mut polls: Vec<(Duration, Vec<Measured>)> = poll_intervals.iter().map(|&every| (every, Vec::new())).collect();
    for (every, poller) in pollers {
        let measured = poller.join().map_err(|_| "a poll client panicked")??;
        if let Some((_, list)) = polls.iter_mut().find(|(interval, _)| *interval == every) {
            list.push(measured);
        }
    }
    stopper.stop();
    server_thread.join().map_err(|_| "the server panicked")??;

    // A minute of one client: how many samples and polls it holds, at the rates measured.
    let samples_per_minute = 60_000.0 / interval_ms as f64;
    println!(
        "Measured over {seconds} s on loopback, one sample every {interval_ms} ms; bytes per client (one browser tab).\n"
    );
    println!(
        "| method | TCP connections | HTTP requests | bytes up | bytes down | updates | bytes per update | bytes for 60 s | mean latency | p95 latency | max latency |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let frame_bytes = mean(&push.sample_frame_bytes.iter().map(|&n| n as f64).collect::<Vec<_>>());
    let (handshake_up, handshake_down) = push.handshake;
    // Everything that is not the handshake or a sample: the history message and the Closes.
    let once_more = (push.up + push.down - handshake_up - handshake_down) as f64 - frame_bytes * push.updates as f64;
    let push_minute = (handshake_up + handshake_down) as f64 + once_more + frame_bytes * samples_per_minute;
    println!(
        "| push (WebSocket) | 1 | 1 (the handshake) | {} | {} | {} | {:.0} | {:.0} | {} | {} | {} |",
        push.up,
        push.down,
        push.updates,
        frame_bytes,
        push_minute,
        human_ms(mean(&push.latencies_ms)),
        human_ms(percentile(&push.latencies_ms, 0.95)),
        human_ms(percentile(&push.latencies_ms, 1.0)),
    );
    for (every, clients) in &polls {
        let n = clients.len().max(1) as f64;
        let up = clients.iter().map(|m| m.up).sum::<u64>() as f64 / n;
        let down = clients.iter().map(|m| m.down).sum::<u64>() as f64 / n;
        let requests = clients.iter().map(|m| m.requests).sum::<u64>() as f64 / n;
        let updates = clients.iter().map(|m| m.updates).sum::<u64>() as f64 / n;
        let per_poll = (up + down) / requests.max(1.0);
        let polls_per_minute = 60_000.0 / every.as_millis() as f64;
        let latencies: Vec<f64> = clients.iter().flat_map(|m| m.latencies_ms.iter().copied()).collect();
        println!(
            "| poll every {} ms | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {} | {} | {} |",
            every.as_millis(),
            requests,
            requests,
            up,
            down,
            updates,
            per_poll * polls_per_minute / samples_per_minute,
            per_poll * polls_per_minute,
            human_ms(mean(&latencies)),
            human_ms(percentile(&latencies, 0.95)),
            human_ms(percentile(&latencies, 1.0)),
        );
    }
    println!();
    println!(
        "push: handshake {handshake_up} B up + {handshake_down} B down, once; then {frame_bytes:.0} B per sample (a {} B frame header + the JSON); {once_more:.0} B for the rest (history message, Close frames).",
        if frame_bytes - 2.0 < 126.0 { 2 } else { 4 },
    );
    for (every, clients) in &polls {
        let requests: u64 = clients.iter().map(|m| m.requests).sum();
        let up: u64 = clients.iter().map(|m| m.up).sum();
        let down: u64 = clients.iter().map(|m| m.down).sum();
        println!(
            "poll every {} ms: {:.0} B per request + {:.0} B per response, each on a new TCP connection ({} polls by {POLLERS} clients).",
            every.as_millis(),
            up as f64 / requests.max(1) as f64,
            down as f64 / requests.max(1) as f64,
            requests,
        );
    }
    Ok(())
}
