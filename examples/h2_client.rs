//! Opens several WebSockets on one HTTP/2 connection (RFC 8441) to an echo server, sends a set
//! of messages on all of them at once, and checks every echo byte for byte.
//!
//! ```text
//! cargo run --features h2 --example h2_client -- ws://127.0.0.1:9001/chat --streams 3
//! cargo run --features h2,tls --example h2_client -- wss://localhost:9443/ --ca ca.pem
//! ```
//!
//! Options:
//! - `--streams N`: WebSockets to open on the connection (default 3);
//! - `--require-h2`: fail unless the server allowed WebSockets over HTTP/2 (otherwise the client
//!   falls back to an HTTP/1.1 Upgrade and runs one WebSocket);
//! - `--ca FILE`: trust the CA in FILE (PEM) for `wss://`, instead of Mozilla's roots;
//! - `--expect-refusal STATUS`: expect the server to refuse the CONNECT with STATUS, and check
//!   that the refusal is reported as such;
//! - `--abort`: first drop one WebSocket without closing it, after one echo (its stream is
//!   reset with CANCEL, RFC 8441 §5), then run the others as usual on the same connection.
//!
//! Each WebSocket is split: one task sends text (ASCII, multi-byte, empty), binary at every
//! length form of RFC 6455 §5.2 (0, 1, 125, 126, 65535, 65536 bytes and 1 MiB) and a Ping,
//! while the other reads the echoes and the Pong; so back-pressure never makes the echo wait on
//! a reader that is not reading. Then each closes with 1000 and expects the server's Close.
//! Prints one summary line; exits non-zero on the first failure. Used by
//! `scripts/h2_interop.sh` against Node's `http2` module.

use rfc6455::tokio::h2::client::{ClientStream, connect};
use rfc6455::tokio::{ClientConfig, ReadHalf, WebSocket};
use rfc6455::{CloseCode, Error, HandshakeError, Message};

struct Args {
    url: String,
    streams: usize,
    require_h2: bool,
    ca: Option<String>,
    expect_refusal: Option<u16>,
    abort: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args =
        Args { url: String::new(), streams: 3, require_h2: false, ca: None, expect_refusal: None, abort: false };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--streams" => args.streams = it.next().and_then(|n| n.parse().ok()).ok_or("--streams N")?,
            "--require-h2" => args.require_h2 = true,
            "--abort" => args.abort = true,
            "--ca" => args.ca = Some(it.next().ok_or("--ca FILE")?),
            "--expect-refusal" => {
                args.expect_refusal = Some(it.next().and_then(|n| n.parse().ok()).ok_or("--expect-refusal STATUS")?)
            }
            url if !url.starts_with("--") && args.url.is_empty() => args.url = url.to_owned(),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if args.url.is_empty() {
        args.url = "ws://127.0.0.1:9001/".to_owned();
    }
    Ok(args)
}

#[tokio::main]
async fn main() {
    let result = match parse_args() {
        Ok(args) => run(&args).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(summary) => println!("h2_client: {summary}"),
        Err(e) => {
            eprintln!("h2_client: FAILED: {e}");
            std::process::exit(1);
        }
    }
}

fn client_config(args: &Args) -> Result<ClientConfig, String> {
    #[cfg_attr(not(feature = "tls"), allow(unused_mut))]
    let mut config = ClientConfig::default();
    if let Some(ca) = &args.ca {
        #[cfg(feature = "tls")]
        {
            let pem = std::fs::read(ca).map_err(|e| format!("{ca}: {e}"))?;
            config.tls = Some(rfc6455::blocking::tls::client_config_with_roots(&pem).map_err(|e| e.to_string())?);
        }
        #[cfg(not(feature = "tls"))]
        return Err(format!("--ca {ca} needs the `tls` feature"));
    }
    Ok(config)
}

async fn run(args: &Args) -> Result<String, String> {
    let config = client_config(args)?;
    let connected = connect(&args.url, &config).await;
    if let Some(status) = args.expect_refusal {
        return match connected {
            Err(Error::Handshake(HandshakeError::Refused(refusal))) if refusal.status() == status => Ok(format!(
                "refused with {status} as expected (body {:?})",
                refusal.body_text().unwrap_or("<not UTF-8>")
            )),
            Err(e) => Err(format!("expected a refusal with {status}, got {e}")),
            Ok(_) => Err(format!("expected a refusal with {status}, but the server accepted")),
        };
    }
    let (first, response, h2) = connected.map_err(|e| format!("connect: {e}"))?;
    let over_h2 = first.get_ref().is_h2();
    if args.require_h2 && !over_h2 {
        return Err("the server did not allow WebSockets over HTTP/2".into());
    }
    let mut tasks = Vec::new();
    let mut aborted = "";
    if args.abort {
        if !over_h2 {
            return Err("--abort needs WebSockets over HTTP/2".into());
        }
        abandon(first).await?;
        aborted = ", after one dropped without closing";
    } else {
        tasks.push(tokio::spawn(exchange(first, 0)));
    }
    if let Some(h2) = &h2 {
        for n in tasks.len()..args.streams {
            let (ws, _) = h2.open(&path_of(&args.url)).await.map_err(|e| format!("open stream {n}: {e}"))?;
            let (stream, conn) = ws.into_parts();
            let ws = WebSocket::from_parts(ClientStream::H2(stream), conn, &[], config.timeouts)
                .map_err(|e| format!("stream {n}: {e}"))?;
            tasks.push(tokio::spawn(exchange(ws, n)));
        }
    }
    let mut messages = 0;
    for (n, task) in tasks.into_iter().enumerate() {
        messages += task.await.map_err(|e| format!("stream {n}: {e}"))?.map_err(|e| format!("stream {n}: {e}"))?;
    }
    if let Some(h2) = h2 {
        // Let the server see every stream's end before the process exits.
        h2.closed().await;
    }
    let sockets = if over_h2 { args.streams } else { 1 };
    let transport = if over_h2 { "HTTP/2, one connection" } else { "HTTP/1.1" };
    Ok(format!(
        "{sockets} WebSockets over {transport} (status {}): {messages} messages echoed exactly by {}, closed with \
         1000{aborted}",
        response.status, args.url
    ))
}

/// One echo, then drop the WebSocket as a failed connection would be: no Close, no END_STREAM.
async fn abandon(mut ws: WebSocket<ClientStream>) -> Result<(), String> {
    ws.send_text("abandoned").await.map_err(|e| format!("send: {e}"))?;
    match ws.read().await {
        Ok(Message::Text(text)) if text == "abandoned" => Ok(()),
        other => Err(format!("expected the echo before dropping, got {other:?}")),
    }
}

/// The resource name of a `ws://` or `wss://` URL.
fn path_of(url: &str) -> String {
    rfc6455::uri::WsUri::parse(url).map(|uri| uri.resource).unwrap_or_else(|_| "/".into())
}

fn messages(n: usize) -> Vec<Message> {
    let mut list = vec![
        Message::Text(format!("hello from WebSocket {n}")),
        Message::Text("κόσμε · ハロー · 🎉".into()),
        Message::Text(String::new()),
    ];
    for size in [0usize, 1, 125, 126, 65535, 65536, 1 << 20] {
        list.push(Message::Binary((0..size).map(|i| ((i * 31 + n) % 251) as u8).collect()));
    }
    list
}

/// Send the messages and a Ping from one task while this one reads the echoes; then close.
async fn exchange(ws: WebSocket<ClientStream>, n: usize) -> Result<usize, String> {
    let (mut reader, mut writer) = ws.split();
    let sent = messages(n);
    let ping = format!("ping {n}").into_bytes();
    let send_all = async {
        for message in &sent {
            writer.send(message).await.map_err(|e| format!("send: {e}"))?;
        }
        writer.ping(&ping).await.map_err(|e| format!("ping: {e}"))
    };
    let (sending, reading) = tokio::join!(send_all, read_echoes(&mut reader, &sent, &ping));
    sending?;
    reading?;
    writer.close(CloseCode::NORMAL, "").await.map_err(|e| format!("close: {e}"))?;
    match reader.read().await {
        Ok(Message::Close(Some(CloseCode::NORMAL), _)) => {}
        other => return Err(format!("expected the server's Close 1000, got {other:?}")),
    }
    match reader.read().await {
        Err(Error::Closed) => Ok(sent.len()),
        other => Err(format!("expected the end of the connection, got {other:?}")),
    }
}

async fn read_echoes(reader: &mut ReadHalf<ClientStream>, sent: &[Message], ping: &[u8]) -> Result<(), String> {
    let mut echoes = sent.iter();
    let mut pong = false;
    let mut next = echoes.next();
    while next.is_some() || !pong {
        match reader.read().await.map_err(|e| format!("read: {e}"))? {
            Message::Pong(payload) if payload == ping => pong = true,
            Message::Pong(_) | Message::Ping(_) => {}
            message => {
                if Some(&message) != next {
                    return Err(format!("echo differs: got {}", describe(&message)));
                }
                next = echoes.next();
            }
        }
    }
    Ok(())
}

fn describe(message: &Message) -> String {
    match message {
        Message::Text(text) => format!("text of {} bytes", text.len()),
        Message::Binary(data) => format!("binary of {} bytes", data.len()),
        other => format!("{other:?}"),
    }
}
