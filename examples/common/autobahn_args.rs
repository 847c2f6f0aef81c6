//! The command line of the Autobahn testsuite's client testees (`examples/autobahn_client.rs`
//! on the blocking layer, `examples/async_autobahn_client.rs` on tokio), and what both ask the
//! suite for: `URL [--no-deflate] [--ca FILE]`.
//!
//! - `URL`: the `wstest -m fuzzingserver` to run (default `ws://127.0.0.1:9001`).
//! - `--no-deflate`: offer no permessage-deflate (RFC 7692); it is offered by default.
//! - `--ca FILE`: trust the CA certificates in that PEM file for `wss://` (instead of Mozilla's
//!   roots); needs the `tls` feature.
//!
//! A testee includes it with `#[path = "common/autobahn_args.rs"] mod autobahn_args;`.

use rfc6455::Limits;

/// The agent name the reports are filed under.
pub const AGENT: &str = "rfc6455";

/// The limits of a testee: the suite's largest messages (cases 9.x, up to 16 MiB) fit.
pub fn limits() -> Limits {
    Limits { max_frame_size: 32 << 20, max_message_size: 32 << 20, ..Limits::default() }
}

/// A testee's command line.
pub struct Args {
    /// The fuzzingserver's URL, without a trailing `/`.
    pub base: String,
    /// Whether to offer permessage-deflate.
    pub deflate: bool,
    /// The TLS client configuration for `--ca FILE`.
    #[cfg(feature = "tls")]
    pub tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

impl Args {
    /// Read the command line of the testee `program` (built with `features`, named in the
    /// message when `--ca` needs `tls`). Exits with status 2 and a message when it is wrong.
    pub fn parse(program: &str, features: &str) -> Args {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let ca_at = args.iter().position(|a| a == "--ca");
        let base = args
            .iter()
            .enumerate()
            .find(|&(i, a)| !a.starts_with("--") && ca_at.is_none_or(|at| i != at + 1))
            .map_or("ws://127.0.0.1:9001", |(_, a)| a.as_str())
            .trim_end_matches('/')
            .to_owned();
        let ca = match ca_at {
            None => None,
            Some(at) => match args.get(at + 1) {
                Some(ca) => Some(ca.as_str()),
                None => usage_error(&format!("usage: {program} URL --ca CA.pem")),
            },
        };
        let deflate = !args.iter().any(|a| a == "--no-deflate");
        #[cfg(feature = "tls")]
        {
            let _ = features;
            let tls = ca.map(|ca| {
                rfc6455::blocking::tls::client_config_with_roots_file(ca)
                    .unwrap_or_else(|e| usage_error(&format!("--ca {ca}: {e}")))
            });
            Args { base, deflate, tls }
        }
        #[cfg(not(feature = "tls"))]
        {
            if ca.is_some() {
                usage_error(&format!(
                    "--ca needs the `tls` feature: cargo run --release --features {features} --example {program} -- ..."
                ));
            }
            Args { base, deflate }
        }
    }

    /// The URL that asks how many cases there are.
    pub fn case_count_url(&self) -> String {
        format!("{}/getCaseCount", self.base)
    }

    /// The URL that runs case `case` (1-based).
    pub fn case_url(&self, case: u32) -> String {
        format!("{}/runCase?case={case}&agent={AGENT}", self.base)
    }

    /// The URL that makes the suite write its report.
    pub fn report_url(&self) -> String {
        format!("{}/updateReports?agent={AGENT}", self.base)
    }
}

fn usage_error(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2);
}
