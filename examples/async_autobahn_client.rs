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

#[path = "common/autobahn_args.rs"]
mod autobahn_args;

use autobahn_args::Args;
use rfc6455::extensions::permessage_deflate::DeflateConfig;
use rfc6455::tokio::{ClientConfig, connect_with};
use rfc6455::{Error, Message};

fn main() {
    let args = Args::parse("async_autobahn_client", "tokio,tls");
    let mut config = ClientConfig::default();
    #[cfg(feature = "tls")]
    {
        config.tls = args.tls.clone();
    }
    if args.deflate {
        config.deflate = Some(DeflateConfig::default());
    }
    config.config = config.config.with_limits(autobahn_args::limits()).expect("valid limits");
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
    if let Err(e) = runtime.block_on(run(&args, &config)) {
        eprintln!("{e}");
        std::process::exit(1);
    }
}

async fn run(args: &Args, config: &ClientConfig) -> Result<(), String> {
    let count = case_count(&args.case_count_url(), config).await.map_err(|e| format!("getCaseCount failed: {e}"))?;
    println!("{count} cases");
    for case in 1..=count {
        if let Err(e) = run_case(&args.case_url(case), config).await {
            // Failing cases end with an error by design (the suite sends bad frames).
            eprintln!("case {case}: {e}");
        }
    }
    let (mut ws, _) =
        connect_with(&args.report_url(), config).await.map_err(|e| format!("updateReports failed: {e}"))?;
    while ws.read().await.is_ok() {}
    Ok(())
}

async fn case_count(url: &str, config: &ClientConfig) -> Result<u32, Error> {
    let (mut ws, _) = connect_with(url, config).await?;
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
