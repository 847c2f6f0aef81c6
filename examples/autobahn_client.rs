//! The Autobahn testsuite's client testee: runs every case of a `wstest -m fuzzingserver`.
//!
//! ```text
//! cargo run --release --example autobahn_client -- ws://127.0.0.1:9001 [--no-deflate]
//! cargo run --release --features tls --example autobahn_client -- wss://127.0.0.1:9001 --ca ca.pem
//! ```
//!
//! permessage-deflate (RFC 7692) is offered on every connection, unless `--no-deflate`.
//! `--ca FILE` trusts the CA certificates in that PEM file for `wss://` (instead of Mozilla's
//! roots).
//!
//! Asks `/getCaseCount`, then for each case connects to `/runCase?case=N&agent=rfc6455` and
//! echoes every message until the server closes, then asks `/updateReports` so the suite
//! writes its report.

#[path = "common/autobahn_args.rs"]
mod autobahn_args;

use autobahn_args::Args;
use rfc6455::blocking::{ClientConfig, connect_with};
use rfc6455::extensions::permessage_deflate::DeflateConfig;
use rfc6455::{Error, Message};

fn main() {
    let args = Args::parse("autobahn_client", "tls");
    let mut config = ClientConfig::default();
    #[cfg(feature = "tls")]
    {
        config.tls = args.tls.clone();
    }
    if args.deflate {
        config.deflate = Some(DeflateConfig::default());
    }
    config.config = config.config.with_limits(autobahn_args::limits()).expect("valid limits");

    let count = match case_count(&args.case_count_url(), &config) {
        Ok(count) => count,
        Err(e) => {
            eprintln!("getCaseCount failed: {e}");
            std::process::exit(1);
        }
    };
    println!("{count} cases");
    for case in 1..=count {
        if let Err(e) = run_case(&args.case_url(case), &config) {
            // Failing cases end with an error by design (the suite sends bad frames).
            eprintln!("case {case}: {e}");
        }
    }
    match connect_with(&args.report_url(), &config) {
        Ok((mut ws, _)) => while ws.read().is_ok() {},
        Err(e) => {
            eprintln!("updateReports failed: {e}");
            std::process::exit(1);
        }
    }
}

fn case_count(url: &str, config: &ClientConfig) -> Result<u32, Error> {
    let (mut ws, _) = connect_with(url, config)?;
    let mut count = None;
    loop {
        match ws.read() {
            Ok(Message::Text(text)) => count = text.trim().parse().ok(),
            Ok(_) => {}
            Err(Error::Closed) => break,
            Err(e) => return Err(e),
        }
    }
    count.ok_or(Error::Closed)
}

fn run_case(url: &str, config: &ClientConfig) -> Result<(), Error> {
    let (mut ws, _) = connect_with(url, config)?;
    loop {
        match ws.read() {
            Ok(message) if message.is_data() => ws.send(&message)?,
            Ok(_) => {}
            Err(Error::Closed) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}
