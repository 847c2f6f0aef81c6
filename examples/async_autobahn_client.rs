//! The Autobahn testsuite's client testee on the async layer (tokio): runs every case of a
//! `wstest -m fuzzingserver`.
//!
//! ```text
//! cargo run --release --features tokio --example async_autobahn_client -- ws://127.0.0.1:9001 [--no-deflate]
//! cargo run --release --features tokio,tls --example async_autobahn_client -- wss://127.0.0.1:9001 --ca ca.pem
//! ```
//!
//! permessage-deflate (RFC 7692) is offered on every connection, unless `--no-deflate`.
//! `--ca FILE` trusts the CA certificates in that PEM file for `wss://`. Asks `/getCaseCount`,
//! then for each case connects to `/runCase?case=N&agent=rfc6455` and echoes every message
//! until the server closes, then asks `/updateReports` so the suite writes its report. Runs on
//! a current-thread runtime.

use rfc6455::extensions::permessage_deflate::DeflateConfig;
use rfc6455::tokio::{ClientConfig, connect_with};
use rfc6455::{Error, Limits, Message};

const AGENT: &str = "rfc6455";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ca_at = args.iter().position(|a| a == "--ca");
    let base = args
        .iter()
        .enumerate()
        .find(|&(i, a)| !a.starts_with("--") && ca_at.is_none_or(|at| i != at + 1))
        .map(|(_, a)| a.clone())
        .unwrap_or_else(|| "ws://127.0.0.1:9001".to_string());
    let base = base.trim_end_matches('/').to_string();
    #[cfg_attr(not(feature = "tls"), allow(unused_mut))]
    let mut config = ClientConfig::default();
    if let Some(at) = ca_at {
        let Some(ca) = args.get(at + 1) else {
            eprintln!("usage: async_autobahn_client URL --ca CA.pem");
            std::process::exit(2);
        };
        trust(&mut config, ca);
    }
    if !args.iter().any(|a| a == "--no-deflate") {
        config.deflate = Some(DeflateConfig::default());
    }
    let limits = Limits { max_frame_size: 32 << 20, max_message_size: 32 << 20, ..Limits::default() };
    config.config = config.config.with_limits(limits).expect("valid limits");
    // The suite answers one connection at a time, in Python: on a loaded machine the next
    // handshake can wait for the previous case's big messages.
    config.timeouts.handshake = std::time::Duration::from_secs(60);

    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(run(&base, &config)) {
        eprintln!("{e}");
        std::process::exit(1);
    }
}

async fn run(base: &str, config: &ClientConfig) -> Result<(), String> {
    let count = case_count(base, config).await.map_err(|e| format!("getCaseCount failed: {e}"))?;
    println!("{count} cases");
    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={AGENT}");
        if let Err(e) = run_case(&url, config).await {
            // Failing cases end with an error by design (the suite sends bad frames).
            eprintln!("case {case}: {e}");
        }
    }
    let url = format!("{base}/updateReports?agent={AGENT}");
    let (mut ws, _) = connect_with(&url, config).await.map_err(|e| format!("updateReports failed: {e}"))?;
    while ws.read().await.is_ok() {}
    Ok(())
}

#[cfg(feature = "tls")]
fn trust(config: &mut ClientConfig, ca: &str) {
    match rfc6455::blocking::tls::client_config_with_roots_file(ca) {
        Ok(tls) => config.tls = Some(tls),
        Err(e) => {
            eprintln!("--ca {ca}: {e}");
            std::process::exit(2);
        }
    }
}

#[cfg(not(feature = "tls"))]
fn trust(_: &mut ClientConfig, _: &str) {
    eprintln!(
        "--ca needs the `tls` feature: cargo run --release --features tokio,tls --example async_autobahn_client -- ..."
    );
    std::process::exit(2);
}

async fn case_count(base: &str, config: &ClientConfig) -> Result<u32, Error> {
    let (mut ws, _) = connect_with(&format!("{base}/getCaseCount"), config).await?;
    let mut count = None;
    loop {
        match ws.read().await {
            Ok(Message::Text(text)) => count = text.trim().parse().ok(),
            Ok(_) => {}
            Err(Error::Closed) => break,
            Err(e) => return Err(e),
        }
    }
    count.ok_or(Error::Closed)
}

async fn run_case(url: &str, config: &ClientConfig) -> Result<(), Error> {
    let (mut ws, _) = connect_with(url, config).await?;
    loop {
        match ws.read().await {
            Ok(message) if message.is_data() => ws.send(message).await?,
            Ok(_) => {}
            Err(Error::Closed) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}
