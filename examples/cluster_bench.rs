//! A benchmark of the chat as a cluster (not a test): one room of 1,000 members spread over
//! three chat nodes (separate processes, `examples/chat.rs --redis URL`), ten of the members
//! sending one message a second each. It reports the delivery latency from send to the last
//! member (p50, p99, max), the messages lost (member deliveries expected but never made), and
//! the CPU each node and the redis-server spent. Run by `scripts/cluster_bench.sh`, which
//! starts the redis-server and builds the chat in release mode.
//!
//! ```text
//! cargo run --release --example cluster_bench -- --redis redis://127.0.0.1:PORT --chat target/release/examples/chat
//!     [--members 1000] [--nodes 3] [--senders 10] [--seconds 30] [--redis-pid PID]
//! ```
//!
//! The members are this process's WebSocket clients (a reader thread each), so the numbers are
//! for nodes, clients and Redis sharing one machine.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::blocking::{ClientConfig, Timeouts, Writer, connect_with};
use rfc6455::{Error, Message};
use serde_json::{Value, json};

struct Options {
    redis: String,
    chat: String,
    members: usize,
    nodes: usize,
    senders: usize,
    seconds: u64,
    redis_pid: Option<u32>,
}

/// One sent message: when, and when each member got it.
struct Sent {
    at: Instant,
    deliveries: u32,
    last: Instant,
}

type Ledger = Arc<Mutex<HashMap<(u32, u32), Sent>>>;

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(e) => {
            eprintln!(
                "{e}\nusage: cluster_bench --redis URL --chat PATH [--members N] [--nodes N] [--senders N] [--seconds S] [--redis-pid PID]"
            );
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cluster bench FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        redis: String::new(),
        chat: String::new(),
        members: 1000,
        nodes: 3,
        senders: 10,
        seconds: 30,
        redis_pid: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or(format!("{arg} needs a value"))?;
        let number = || value.parse::<u64>().map_err(|_| format!("{arg}: not a number: {value}"));
        match arg.as_str() {
            "--redis" => options.redis = value.clone(),
            "--chat" => options.chat = value.clone(),
            "--members" => options.members = number()? as usize,
            "--nodes" => options.nodes = number()? as usize,
            "--senders" => options.senders = number()? as usize,
            "--seconds" => options.seconds = number()?,
            "--redis-pid" => options.redis_pid = Some(number()? as u32),
            _ => return Err(format!("unknown argument {arg}")),
        }
    }
    if options.redis.is_empty() || options.chat.is_empty() {
        return Err("--redis and --chat are required".into());
    }
    Ok(options)
}

/// A chat node in its own process; killed when dropped.
struct Node {
    child: Child,
    port: u16,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

fn start_node(options: &Options) -> Result<Node, String> {
    let port = free_port()?;
    let child = Command::new(&options.chat)
        .args([&format!("127.0.0.1:{port}"), "--redis", &options.redis])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", options.chat))?;
    let node = Node { child, port };
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = write!(stream, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            let mut response = String::new();
            let _ = stream.read_to_string(&mut response);
            if response.starts_with("HTTP/1.1 200") {
                return Ok(node);
            }
        }
        thread::sleep(Duration::from_millis(50));
    }
    Err(format!("the chat node on port {port} did not become healthy"))
}

/// CPU seconds (user + system) a process has used, from /proc.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn run(options: &Options) -> Result<(), String> {
    let nodes: Vec<Node> = (0..options.nodes).map(|_| start_node(options)).collect::<Result<_, _>>()?;
    println!(
        "{} nodes on ports {:?}, Redis {}",
        nodes.len(),
        nodes.iter().map(|n| n.port).collect::<Vec<_>>(),
        options.redis
    );
    let ledger: Ledger = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let stray = Arc::new(AtomicU64::new(0));
    let mut writers: Vec<Writer> = Vec::new();
    let mut readers = Vec::new();
    let joined_at = Instant::now();
    for i in 0..options.members {
        let port = nodes[i % nodes.len()].port;
        let config = ClientConfig {
            timeouts: Timeouts { read: Some(Duration::from_millis(200)), ..Timeouts::default() },
            ..ClientConfig::default()
        };
        let (mut ws, _) = connect_with(&format!("ws://127.0.0.1:{port}/ws"), &config)
            .map_err(|e| format!("member {i}: connect: {e}"))?;
        let join = json!({"type": "join", "payload": {"room": "bench", "user": format!("m{i:04}")}});
        ws.send_text(&join.to_string()).map_err(|e| format!("member {i}: join: {e}"))?;
        // Wait for the join acknowledgement, so the member is in the room before anyone sends.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if Instant::now() > deadline {
                return Err(format!("member {i}: no join acknowledgement"));
            }
            match ws.read() {
                Ok(Message::Text(text)) if text.contains("\"type\":\"join\"") => break,
                Ok(Message::Text(text)) if text.contains("\"type\":\"error\"") => {
                    return Err(format!("member {i}: {text}"));
                }
                Ok(_) => {}
                Err(Error::Io(e)) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => return Err(format!("member {i}: {e}")),
            }
        }
        let (mut reader, writer) = ws.split().map_err(|e| e.to_string())?;
        writers.push(writer);
        let (ledger, stop, stray) = (Arc::clone(&ledger), Arc::clone(&stop), Arc::clone(&stray));
        readers.push(
            thread::Builder::new()
                .stack_size(128 << 10)
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        match reader.read() {
                            Ok(Message::Text(text)) => {
                                if !text.contains("\"type\":\"chat\"") {
                                    continue;
                                }
                                let now = Instant::now();
                                let Some(key) = bench_key(&text) else {
                                    stray.fetch_add(1, Ordering::Relaxed);
                                    continue;
                                };
                                let mut ledger = ledger.lock().unwrap_or_else(|p| p.into_inner());
                                match ledger.get_mut(&key) {
                                    Some(sent) => {
                                        sent.deliveries += 1;
                                        sent.last = sent.last.max(now);
                                    }
                                    None => {
                                        stray.fetch_add(1, Ordering::Relaxed);
                                    }
                                }
                            }
                            Ok(_) => {}
                            Err(Error::Io(e)) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                            Err(_) => break,
                        }
                    }
                })
                .map_err(|e| format!("reader thread: {e}"))?,
        );
    }
    println!("{} members joined in {:.1} s", options.members, joined_at.elapsed().as_secs_f64());
    // Let the join notifications and room counts settle before measuring.
    thread::sleep(Duration::from_secs(5));

    let pids: Vec<u32> = nodes.iter().map(|node| node.child.id()).collect();
    let cpu_before: Vec<Option<f64>> = pids.iter().map(|&pid| cpu_seconds(pid)).collect();
    let redis_before = options.redis_pid.and_then(cpu_seconds);
    let started = Instant::now();
    let senders = options.senders.min(options.members);
    let period = Duration::from_secs(1);
    let mut sent_count = 0u32;
    for second in 0..options.seconds {
        for (sender, writer) in writers.iter().enumerate().take(senders) {
            // Spread over the second, so the senders do not all fire at once.
            let due = started + period * second as u32 + period * sender as u32 / senders as u32;
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                thread::sleep(wait);
            }
            let key = (sender as u32, second as u32);
            let text = format!("bench {} {}", key.0, key.1);
            ledger
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key, Sent { at: Instant::now(), deliveries: 0, last: Instant::now() });
            // The sender is a member spread like the others: member `sender` is on node sender % nodes.
            writer
                .send_text(&json!({"type": "chat", "payload": {"text": text}}).to_string())
                .map_err(|e| format!("sender {sender}: {e}"))?;
            sent_count += 1;
        }
    }
    let window = started.elapsed().as_secs_f64();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "machine load average at the end (1, 5, 15 min): {}",
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    let cpu_after: Vec<Option<f64>> = pids.iter().map(|&pid| cpu_seconds(pid)).collect();
    let redis_after = options.redis_pid.and_then(cpu_seconds);
    // Stragglers.
    thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        let _ = reader.join();
    }

    let ledger = ledger.lock().unwrap_or_else(|p| p.into_inner());
    let expected_each = (options.members - 1) as u64;
    let mut latencies: Vec<f64> = Vec::new();
    let (mut delivered, mut incomplete) = (0u64, 0u64);
    for sent in ledger.values() {
        delivered += u64::from(sent.deliveries);
        if u64::from(sent.deliveries) == expected_each {
            latencies.push(sent.last.duration_since(sent.at).as_secs_f64() * 1000.0);
        } else {
            incomplete += 1;
        }
    }
    latencies.sort_by(f64::total_cmp);
    let expected = expected_each * u64::from(sent_count);
    let lost = expected.saturating_sub(delivered);
    let duplicates = delivered.saturating_sub(expected);
    println!(
        "sent {sent_count} messages in {window:.1} s to a room of {} members over {} nodes",
        options.members,
        nodes.len()
    );
    println!(
        "send to last member: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms (over {} complete messages)",
        percentile(&latencies, 50.0),
        percentile(&latencies, 90.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(f64::NAN),
        latencies.len()
    );
    println!(
        "member deliveries: {delivered} of {expected} expected; lost {lost}; beyond expected {duplicates}; messages not delivered to every member {incomplete}; unmatched {}",
        stray.load(Ordering::Relaxed)
    );
    for (i, (before, after)) in cpu_before.iter().zip(&cpu_after).enumerate() {
        if let (Some(before), Some(after)) = (before, after) {
            println!("node {i}: {:.1}% of one core ({:.2} CPU s)", (after - before) / window * 100.0, after - before);
        }
    }
    if let (Some(before), Some(after)) = (redis_before, redis_after) {
        println!("redis-server: {:.1}% of one core ({:.2} CPU s)", (after - before) / window * 100.0, after - before);
    }
    if lost > 0 || duplicates > 0 {
        return Err(format!("{lost} deliveries lost, {duplicates} beyond expected, without faults"));
    }
    drop(nodes);
    Ok(())
}

/// `(sender, seq)` from a chat envelope whose text is `bench SENDER SEQ`.
fn bench_key(text: &str) -> Option<(u32, u32)> {
    let value: Value = serde_json::from_str(text).ok()?;
    let text = value["payload"]["text"].as_str()?;
    let mut words = text.strip_prefix("bench ")?.split(' ');
    Some((words.next()?.parse().ok()?, words.next()?.parse().ok()?))
}
