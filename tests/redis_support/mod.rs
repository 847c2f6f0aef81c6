//! A private redis-server for the tests that need one: Debian's `redis-server` (installed by
//! `scripts/redis.sh` when missing), started on a free loopback port with no persistence
//! (`--save "" --appendonly no`), never a shared or system instance, and stopped when the
//! handle drops.
//!
//! When `redis-server` is not installed: under CI (`CI=true`) it is installed from Debian's
//! packages first (`apt-get update`, `apt-get install -y redis-server`, once per test process),
//! so `cargo test` needs nothing prepared; elsewhere nothing is installed behind the
//! developer's back. When it is still missing or does not start, [`RedisServer::start`] says so
//! loudly: under CI the test fails with what to do; elsewhere it prints a `SKIPPED` line and
//! returns `None`, and the test returns without asserting anything.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A redis-server of the test's own.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    binary: PathBuf,
}

/// Where redis-server is: `$REDIS_SERVER`, or on the `PATH`, or Debian's place.
fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("REDIS_SERVER") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("redis-server"))
        .find(|candidate| candidate.is_file())
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| ci == "true")
}

/// Under CI, install Debian's redis-server if it is missing (once per process); the result
/// says why not when it could not be.
fn install_under_ci() -> Result<(), String> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            eprintln!("redis-server is missing: installing Debian's package (CI=true)");
            for args in [&["update", "-qq"][..], &["install", "-y", "-qq", "redis-server"][..]] {
                let status = Command::new("apt-get")
                    .args(args)
                    .env("DEBIAN_FRONTEND", "noninteractive")
                    .stdin(Stdio::null())
                    .status()
                    .map_err(|e| format!("apt-get: {e}"))?;
                if !status.success() {
                    return Err(format!("apt-get {} failed: {status}", args.join(" ")));
                }
            }
            Ok(())
        })
        .clone()
}

/// Fail under CI, print a loud SKIPPED line elsewhere.
fn unavailable(test: &str, why: &str) -> Option<RedisServer> {
    // The harness names each test's thread after the test.
    let thread = std::thread::current();
    let test = thread.name().filter(|name| *name != "main").unwrap_or(test);
    let message = format!("{test}: needs redis-server, which {why}. Run scripts/redis.sh (it installs and runs them).");
    if under_ci() {
        panic!("{message}");
    }
    eprintln!("SKIPPED {message}");
    None
}

/// A loopback port nobody listens on now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

impl RedisServer {
    /// Start a private redis-server for the test named `test`; see the module documentation.
    pub fn start(test: &str) -> Option<RedisServer> {
        let mut found = binary();
        if found.is_none() && under_ci() {
            if let Err(e) = install_under_ci() {
                return unavailable(test, &format!("is not installed and could not be ({e})"));
            }
            found = binary();
        }
        let Some(binary) = found else { return unavailable(test, "is not installed") };
        let mut server = RedisServer { child: None, port: free_port(), binary };
        match server.spawn() {
            Ok(()) => Some(server),
            Err(e) => unavailable(test, &format!("did not start ({e})")),
        }
    }

    fn spawn(&mut self) -> Result<(), String> {
        let port = self.port.to_string();
        let mut child = Command::new(&self.binary)
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--daemonize", "no", "--protected-mode", "yes", "--dir", &std::env::temp_dir().to_string_lossy()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{}: {e}", self.binary.display()))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                let mut output = String::new();
                if let Some(mut out) = child.stdout.take() {
                    let _ = out.read_to_string(&mut output);
                }
                return Err(format!("exited with {status}: {}", output.lines().last().unwrap_or("")));
            }
            if ping(self.port) {
                // Drain its log so it never blocks on a full pipe.
                if let Some(out) = child.stdout.take() {
                    std::thread::spawn(move || for _ in BufReader::new(out).lines() {});
                }
                if let Some(err) = child.stderr.take() {
                    std::thread::spawn(move || for _ in BufReader::new(err).lines() {});
                }
                self.child = Some(child);
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err("no answer to PING within 10 s".into())
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kill it (SIGKILL: no goodbye to its clients, and no data kept).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Start it again on the same port, empty (a restart without persistence).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn().expect("restart redis-server on the same port");
    }

    /// Send one command (RESP, every argument a bulk string) and return the first reply line.
    pub fn command(&self, args: &[&str]) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to redis-server");
        stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        let mut request = format!("*{}\r\n", args.len());
        for arg in args {
            request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        stream.write_all(request.as_bytes()).expect("send a command");
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).expect("read a reply");
        line.trim_end().to_owned()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether a redis-server answers PING on `port`.
fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut reply = [0u8; 7];
    stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}
