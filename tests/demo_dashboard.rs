//! Drives the dashboard demo (`examples/dashboard.rs`) over loopback with the crate's own
//! client: a WebSocket client gets the history and then samples pushed as they are taken,
//! `/poll` answers the latest sample, and the /proc parsers read what Linux writes.

#[path = "../examples/dashboard/server.rs"]
mod dashboard;
mod demo_support;

use std::thread;
use std::time::{Duration, Instant};

use dashboard::metrics::{CpuTimes, Memory, NetBytes, Sampler, parse_cpu, parse_meminfo, parse_net_dev};
use dashboard::web::Stopper;
use demo_support::{bind, connect, http_get, join_within, read_close_code, read_json};
use serde_json::Value;

const INTERVAL: Duration = Duration::from_millis(25);

fn start() -> (demo_support::Running, Stopper) {
    let (server, addr) = bind();
    let stopper = Stopper::for_server(&server).expect("stopper");
    let for_server = stopper.clone();
    let thread = thread::spawn(move || dashboard::run(server, for_server, INTERVAL));
    (demo_support::Running { addr, thread }, stopper)
}

fn check_sample(sample: &Value) {
    assert_eq!(sample["type"], "sample", "{sample}");
    assert!(sample["at_us"].as_u64().is_some(), "{sample}");
    if let Some(cpu) = sample["cpu"].as_f64() {
        assert!((0.0..=100.0).contains(&cpu), "{sample}");
    }
    if let (Some(used), Some(total)) = (sample["mem_used"].as_u64(), sample["mem_total"].as_u64()) {
        assert!(used <= total, "{sample}");
    }
}

#[test]
fn samples_are_pushed_as_they_are_taken() {
    let (running, stopper) = start();
    let started = Instant::now();
    let mut ws = connect(running.addr, "/ws");
    assert_eq!(read_json(&mut ws)["type"], "history");
    let first = read_json(&mut ws);
    let second = read_json(&mut ws);
    check_sample(&first);
    check_sample(&second);
    assert!(second["seq"].as_u64() > first["seq"].as_u64());
    assert!(second["at_us"].as_u64() > first["at_us"].as_u64());
    assert!(started.elapsed() < Duration::from_secs(2), "a sample every {INTERVAL:?}");
    if std::path::Path::new("/proc/stat").exists() {
        assert!(second["cpu"].is_number() && second["mem_total"].is_number() && second["rx_bps"].is_number());
    }

    stopper.stop();
    assert_eq!(read_close_code(&mut ws), Some(1001));
    join_within(running, Duration::from_secs(3));
}

#[test]
fn poll_answers_the_latest_sample_and_history_the_recent_ones() {
    let (running, stopper) = start();
    // Wait (boundedly) for a sample to exist.
    let deadline = Instant::now() + Duration::from_secs(2);
    let latest = loop {
        let (status, body) = http_get(running.addr, "/poll");
        assert_eq!(status, 200);
        let latest: Value = serde_json::from_str(&body).expect("JSON");
        if latest["seq"].as_u64().is_some_and(|seq| seq > 0) {
            break latest;
        }
        assert!(Instant::now() < deadline, "no sample within 2 s");
        thread::sleep(INTERVAL);
    };
    check_sample(&latest);

    let (status, body) = http_get(running.addr, "/history");
    assert_eq!(status, 200);
    let history: Value = serde_json::from_str(&body).expect("JSON");
    let samples = history["samples"].as_array().expect("samples");
    assert!(samples.iter().any(|sample| sample["seq"] == latest["seq"]));

    let (status, page) = http_get(running.addr, "/");
    assert_eq!(status, 200);
    assert!(page.contains("<canvas") && page.contains("/poll") && page.contains("new WebSocket"));

    stopper.stop();
    join_within(running, Duration::from_secs(3));
}

#[test]
fn proc_files_are_parsed() {
    let stat = "cpu  100 5 50 800 20 3 2 0 7 0\ncpu0 50 2 25 400 10 1 1 0 0 0\nintr 12345\n";
    // Busy: user+nice+system+irq+softirq+steal; idle: idle+iowait; guest is not counted twice.
    assert_eq!(parse_cpu(stat), Some(CpuTimes { busy: 160, total: 980 }));
    assert_eq!(parse_cpu("nothing here"), None);

    let meminfo = "MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    6000000 kB\n";
    assert_eq!(parse_meminfo(meminfo), Some(Memory { total: 16_000_000 * 1024, available: 6_000_000 * 1024 }));
    assert_eq!(parse_meminfo("MemTotal: 5 kB\n"), None);

    let net_dev = "Inter-|   Receive                                                |  Transmit\n \
face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    \
lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0\n  \
eth0:  500000     400    0    0    0     0          0         0    20000     200    0    0    0     0       0          0\n";
    assert_eq!(parse_net_dev(net_dev), Some(NetBytes { rx: 501_000, tx: 21_000 }));

    // Rates come from the change between two readings.
    let mut sampler = Sampler::new();
    let then = Instant::now();
    let first =
        sampler.sample_from(Some(CpuTimes { busy: 100, total: 1000 }), None, Some(NetBytes { rx: 0, tx: 0 }), then);
    assert_eq!(first.cpu_percent, None, "no rate from one reading");
    let second = sampler.sample_from(
        Some(CpuTimes { busy: 150, total: 1200 }),
        Some(Memory { total: 100, available: 40 }),
        Some(NetBytes { rx: 2000, tx: 500 }),
        then + Duration::from_secs(2),
    );
    assert_eq!(second.cpu_percent, Some(25.0));
    assert_eq!((second.mem_used, second.mem_total), (Some(60), Some(100)));
    assert_eq!((second.rx_per_sec, second.tx_per_sec), (Some(1000.0), Some(250.0)));
}

/// The wire meter's figures, once both of its clients have seen `updates` new samples.
fn wire_after(addr: std::net::SocketAddr, updates: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = http_get(addr, "/wire");
        assert_eq!(status, 200, "{body}");
        let wire: Value = serde_json::from_str(&body).expect("JSON");
        if wire["push"]["updates"].as_u64() >= Some(updates) && wire["poll"]["updates"].as_u64() >= Some(updates) {
            return wire;
        }
        assert!(Instant::now() < deadline, "the meter measured too little: {wire}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// The whole response to a plain `GET path` (status line, headers, body), as `http_get` sends it.
fn raw_response_len(addr: std::net::SocketAddr, path: &str) -> usize {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(3))).expect("timeout");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    response.len()
}

#[test]
fn wire_meter_counts_the_bytes_of_the_browsers_own_requests() {
    use rfc6455::handshake::{ServerHandshake, accept_response};
    use rfc6455::{ClientHandshake, ClientOptions, MaskKeySource};

    let (running, stopper) = start();
    let addr = running.addr;
    // The "browser": its upgrade (the crate's client, default options) and its fetch
    // (`http_get`'s request). The meter must send both again, byte for byte.
    let mut page = connect(addr, "/ws");
    let wire = wire_after(addr, 3);
    assert_eq!(
        (wire["push"]["headers"].as_str(), wire["poll"]["headers"].as_str()),
        (Some("browser"), Some("browser"))
    );

    // The poll request the meter sends is the page's fetch, retargeted at /poll.
    let poll_request = format!("GET /poll HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    assert_eq!(wire["poll"]["up_per_request"].as_f64(), Some(poll_request.len() as f64), "{wire}");
    // Its upgrade is the page's: same headers, so the same length (the key is always 24 characters).
    let mut keys = MaskKeySource::Seeded(1).generator();
    let upgrade = ClientHandshake::new(&addr.to_string(), "/ws", &ClientOptions::default(), &mut keys, 16 << 10)
        .expect("a request");
    assert_eq!(wire["push"]["handshake_up"].as_u64(), Some(upgrade.request().len() as u64), "{wire}");
    let mut server_side = ServerHandshake::new(16 << 10);
    let request = server_side.receive(upgrade.request()).expect("valid").expect("complete");
    let response = accept_response(&request, None, &[]).expect("a 101");
    assert_eq!(wire["push"]["handshake_down"].as_u64(), Some(response.len() as u64), "{wire}");

    // Per update: a sample's frame when pushed, a whole response when polled; sizes checked
    // against what this test reads itself (samples differ by a few digits).
    let sample = loop {
        if let rfc6455::Message::Text(text) = page.read().expect("a message")
            && !text.contains("\"history\"")
        {
            break text;
        }
    };
    let frame = sample.len() + if sample.len() > 125 { 4 } else { 2 };
    let pushed = wire["push"]["down_per_update"].as_f64().expect("measured");
    assert!((pushed - frame as f64).abs() <= 12.0, "pushed {pushed} B per update, a frame here is {frame} B");
    assert_eq!(wire["push"]["up_per_update"].as_f64(), Some(0.0), "a push client sends nothing per update");
    // (The very first poll may find no sample yet, a shorter answer: compare the last one.)
    let polled = wire["poll"]["last_response"].as_f64().expect("measured");
    let response = raw_response_len(addr, "/poll");
    assert!(
        (polled - response as f64).abs() <= 12.0,
        "polled {polled} B per response, a response here is {response} B"
    );
    assert!(wire["poll"]["per_update"].as_f64() > Some(pushed * 3.0), "polling should cost far more: {wire}");

    stopper.stop();
    assert_eq!(read_close_code(&mut page), Some(1001));
    join_within(running, Duration::from_secs(5));
}
