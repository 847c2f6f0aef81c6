//! Helpers shared by the demos in `examples/`: the listen address from the command line,
//! Ctrl-C handling, and the JSON envelope every demo message travels in.
//!
//! A demo includes it with `#[path = "common/mod.rs"] mod common;` (a test with
//! `#[path = "../examples/common/mod.rs"]`). Each demo uses only part of it, hence the
//! `dead_code` allowance below.
//!
//! The envelope is `{"type": ..., "payload": {...}, "timestamp": ms}`: `type` says what the
//! message is, `payload` carries its fields, `timestamp` is the sender's clock in milliseconds
//! since the Unix epoch.
#![allow(dead_code)]

#[path = "backplane.rs"]
pub mod backplane;
#[path = "inspector.rs"]
pub mod inspector;
#[path = "redis_backplane.rs"]
pub mod redis_backplane;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// The address to listen on: the first command-line argument that is not a flag (nor the
/// files after `--tls`, nor the URL after `--redis`, nor the address after `--h2`), or `default` (demos bind 127.0.0.1 unless told otherwise, so nothing
/// is exposed by accident).
pub fn listen_addr(default: &str) -> String {
    let mut args = std::env::args().skip(1).peekable();
    while let Some(arg) = args.next() {
        if arg == "--tls" {
            args.next();
            args.next();
        } else if arg == "--redis" {
            args.next();
        } else if arg == "--h2" {
            // `--h2 [ADDR]`: the address, when given, is the HTTP/2 front's.
            args.next_if(|next| !next.starts_with('-'));
        } else if !arg.starts_with('-') {
            return arg;
        }
    }
    default.to_string()
}

/// `--tls CERT KEY` on the command line: the PEM certificate chain and private key to serve
/// `https://` and `wss://` with. Exits with a usage message when the files are missing.
pub fn tls_files() -> Option<(String, String)> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let at = args.iter().position(|arg| arg == "--tls")?;
    match (args.get(at + 1), args.get(at + 2)) {
        (Some(cert), Some(key)) if !cert.starts_with('-') && !key.starts_with('-') => Some((cert.clone(), key.clone())),
        _ => {
            eprintln!("usage: --tls CERT.pem KEY.pem (a PEM certificate chain and its private key)");
            std::process::exit(2);
        }
    }
}

/// The TLS configuration for `--tls CERT KEY`, or `None` without the flag. Exits with a message
/// when the files cannot be used, or when the build has no TLS.
#[cfg(feature = "tls")]
pub fn tls_config() -> Option<Arc<rustls::ServerConfig>> {
    let (cert, key) = tls_files()?;
    match rfc6455::blocking::tls::server_config_from_pem_files(&cert, &key) {
        Ok(config) => Some(config),
        Err(e) => {
            eprintln!("--tls {cert} {key}: {e}");
            std::process::exit(2);
        }
    }
}

/// The TLS configuration for `--tls CERT KEY`: this build has no TLS, so the flag is refused.
#[cfg(not(feature = "tls"))]
pub fn tls_config() -> Option<()> {
    tls_files()?;
    eprintln!("--tls needs the `tls` feature: cargo run --release --features tls --example ... -- ADDR --tls CERT KEY");
    std::process::exit(2);
}

/// Run `on_interrupt` when the process gets Ctrl-C (SIGINT) or SIGTERM, and return the flag it
/// raises. A second Ctrl-C while shutting down exits at once, so a stuck shutdown never traps
/// the user.
pub fn on_ctrl_c(on_interrupt: impl Fn() + Send + 'static) -> Arc<AtomicBool> {
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    let installed = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            eprintln!("interrupted again: exiting now");
            std::process::exit(130);
        }
        on_interrupt();
    });
    if let Err(e) = installed {
        eprintln!("cannot install the Ctrl-C handler ({e}); stop with a kill instead");
    }
    interrupted
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Serialize one envelope: `{"type": kind, "payload": payload, "timestamp": now}`, fields in
/// that order (a `json!` object would sort them, putting `type` last).
pub fn envelope(kind: &str, payload: Value) -> String {
    format!(r#"{{"type":{},"payload":{payload},"timestamp":{}}}"#, Value::from(kind), now_ms())
}

/// A received envelope, checked for shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// The `type` field.
    pub kind: String,
    /// The `payload` field: an object (`{}` when the sender left it out).
    pub payload: Value,
    /// The `timestamp` field, if the sender gave one.
    pub timestamp: Option<u64>,
}

/// Parse text into an [`Envelope`]. The error says what is wrong, in words fit to send back
/// to the client.
pub fn parse_envelope(text: &str) -> Result<Envelope, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("malformed JSON: {e}"))?;
    let Value::Object(mut fields) = value else {
        return Err("expected a JSON object like {\"type\": ..., \"payload\": {...}}".into());
    };
    let kind = match fields.remove("type") {
        Some(Value::String(kind)) => kind,
        Some(_) => return Err("\"type\" must be a string".into()),
        None => return Err("missing \"type\"".into()),
    };
    let payload = match fields.remove("payload") {
        None | Some(Value::Null) => json!({}),
        Some(payload @ Value::Object(_)) => payload,
        Some(_) => return Err("\"payload\" must be an object".into()),
    };
    let timestamp = fields.get("timestamp").and_then(Value::as_u64);
    Ok(Envelope { kind, payload, timestamp })
}

/// The string field `name` of a payload, if present.
pub fn str_field<'a>(payload: &'a Value, name: &str) -> Option<&'a str> {
    payload.get(name).and_then(Value::as_str)
}
