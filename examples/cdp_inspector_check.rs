//! Checks the frame inspector in a real browser: headless Chromium, driven over the DevTools
//! protocol by this crate's WebSocket client, opens the chat with the inspector panel on, joins
//! a room, sends a message, and reads back what the panel shows for that frame. The bytes the
//! panel shows (its raw hex) are decoded with this crate's own frame decoder, and every field
//! the panel labels (FIN, RSV1-3, opcode, MASK, the length and its form, the masking key, the
//! unmasked payload) must match; the payload must be what the page sent (for a compressed frame,
//! the DEFLATE bytes shown must be the unmasked ones, and the message must inflate to what the
//! page sent, at the sizes shown). Then the page's
//! connection is closed with a code and reason, and the panel must show them decoded.
//! Run by `scripts/browser_inspector_test.sh`.
//!
//! ```text
//! cargo run --release --example cdp_inspector_check -- [--url http://127.0.0.1:8080/] [--screenshot inspector.png]
//! ```
//!
//! Without `--url` it starts the chat server in-process. Exit status 0 when every check passes,
//! 1 otherwise (the failed check is on stderr).

#[path = "common/cdp.rs"]
mod cdp;
#[path = "common/chat_page.rs"]
mod chat_page;
#[path = "chat/server.rs"]
mod chat_server;
#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;
use std::time::Instant;

use cdp::{Browser, CdpError, js_string};
use chat_page::STEP;
use chat_server::ChatServer;
use rfc6455::frame::FrameHeader;
use serde_json::Value;

const WIDTH: u32 = 1400;
const HEIGHT: u32 = 760;

fn main() -> ExitCode {
    let mut url = None;
    let mut screenshot = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--url" => url = args.next(),
            "--screenshot" => screenshot = args.next(),
            _ => {
                eprintln!("usage: cdp_inspector_check [--url URL] [--screenshot OUT.png]");
                return ExitCode::from(2);
            }
        }
    }
    common::on_ctrl_c(|| std::process::exit(130));
    let started = Instant::now();
    cdp::outcome("inspector check", started, check(url.as_deref(), screenshot.as_deref()))
}

fn fail<T>(message: String) -> Result<T, CdpError> {
    Err(CdpError(message))
}

fn check(url: Option<&str>, screenshot: Option<&str>) -> Result<(), CdpError> {
    let browser = Browser::launch()?;
    let mut devtools = browser.connect()?;
    let own_server = match url {
        Some(_) => None,
        None => Some(ChatServer::start("127.0.0.1:0")?),
    };
    let base = match (url, &own_server) {
        (Some(url), _) => url.to_string(),
        (_, Some(server)) => server.http_url(),
        (None, None) => return fail("no server".into()),
    };
    // `?inspector=1` opens the panel as the page loads (the toggle does the same).
    let page = devtools.open_page(&format!("{base}?inspector=1"), WIDTH, HEIGHT)?;
    chat_page::wait_connected(&mut devtools, &page)?;
    devtools.wait_for(&page, "Inspector.isOpen() && Inspector.isLive()", STEP)?;
    println!("ok: the page is connected and its inspector socket is live");

    // The handshake, as the server saw it.
    let request = devtools.wait_for(
        &page,
        "(() => { const pre = document.querySelector('.insp-handshake pre'); return pre ? pre.textContent : ''; })()",
        STEP,
    )?;
    let request = request.as_str().unwrap_or("");
    if !request.starts_with("GET /ws?inspect=1 HTTP/1.1") || !request.contains("Sec-WebSocket-Key") {
        return fail(format!("the panel's handshake request: {request:?}"));
    }
    println!("ok: the panel shows the opening handshake (GET /ws?inspect=1 … Sec-WebSocket-Key)");

    // Join and say something; the page sends each as one masked text frame.
    chat_page::join(&mut devtools, &page, "lobby", "Ada")?;
    let text = "Frames, field by field";
    chat_page::say(&mut devtools, &page, text)?;

    // The panel's row for that frame: the hex it shows and the value of every labelled field.
    let row = devtools.wait_for(&page, &frame_row("received", &format!("\"text\":{}", js_string(text))), STEP)?;
    let shown = check_row(&row, true)?;
    if !shown.contains(&format!("\"text\":{}", js_string(text))) {
        return fail(format!("the unmasked payload is not the page's message: {shown:?}"));
    }
    println!("ok: the panel shows the chat frame, and its fields match the crate's decoder of its bytes");

    // A frame from the server: not masked (§5.1).
    let row = devtools.wait_for(&page, &frame_row("sent", "\"type\":\"sent\""), STEP)?;
    check_row(&row, false)?;
    println!("ok: the server's acknowledgement is shown unmasked, fields matching the decoder");

    // Hover: the field's RFC section and the §5.2 diagram.
    let tip = devtools.eval(
        &page,
        "(() => { const cell = document.querySelector('.insp-frame [data-tip=\"mask\"]'); \
         cell.dispatchEvent(new MouseEvent('mouseover', { bubbles: true, clientX: 900, clientY: 200 })); \
         const tip = document.querySelector('.insp-tip'); \
         return tip.hidden ? '' : tip.querySelector('h5').textContent + ' | ' + tip.querySelector('pre').textContent; })()",
    )?;
    let tip = tip.as_str().unwrap_or("");
    if !tip.starts_with("MASK (RFC 6455 §5.2") || !tip.contains("|F|R|R|R| opcode|M| Payload len |") {
        return fail(format!("hovering MASK shows {tip:?}"));
    }
    println!("ok: hovering a field shows its RFC section and the §5.2 diagram");

    if let Some(path) = screenshot {
        let bytes = devtools.save_screenshot(&page, path)?;
        println!("ok: screenshot saved to {path} ({bytes} bytes)");
    }

    // The page closes its connection: the panel decodes the Close frame's code and reason.
    devtools.eval(&page, "chat.ws.close(4000, 'seen enough'); true")?;
    let close = devtools.wait_for(
        &page,
        "(() => { const row = [...document.querySelectorAll('.insp-frame[data-dir=\"received\"][data-opcode=\"8\"]')].pop(); \
         if (!row) return null; const code = row.querySelector('dd[data-code]'); \
         return { hex: row.dataset.hex, code: code ? code.dataset.code : null, \
                  text: [...row.querySelectorAll('dd[data-field=\"close\"]')].map(d => d.textContent) }; })()",
        STEP,
    )?;
    let hex = close["hex"].as_str().unwrap_or("");
    let (header, payload) = decode(hex)?;
    let code = payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
    let reason = payload.get(2..).map(|r| String::from_utf8_lossy(r).into_owned());
    let texts: Vec<&str> = close["text"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let shown_code = close["code"].as_str().and_then(|c| c.parse::<u16>().ok());
    if header.opcode.as_u8() != 8
        || code != Some(4000)
        || shown_code != code
        || reason.as_deref() != Some("seen enough")
        || texts.get(1) != Some(&"\"seen enough\"")
    {
        return fail(format!("the Close row: {close} (decoded: code {code:?}, reason {reason:?})"));
    }
    println!("ok: the page's Close frame is shown with its code 4000 and reason \"seen enough\"");
    devtools.close_page(&page)?;
    drop(own_server);
    Ok(())
}

/// A JavaScript expression: the last frame row of direction `dir` whose unmasked payload
/// contains `needle`, as an object of what the panel shows, or `null`.
fn frame_row(dir: &str, needle: &str) -> String {
    format!(
        "(() => {{
            const rows = [...document.querySelectorAll('.insp-frame[data-dir={dir}]')]
                .filter(r => {{
                    const p = r.querySelector('dd[data-field=\"payload\"]');
                    const m = r.closest('.insp-message')?.querySelector('.insp-message-summary');
                    return (p && p.textContent.includes({needle})) || (m && m.dataset.text.includes({needle}));
                }});
            const row = rows.pop();
            if (!row) return null;
            const summary = row.closest('.insp-message')?.querySelector('.insp-message-summary');
            const value = (f) => {{ const e = row.querySelector('.insp-bytes [data-field=\"' + f + '\"]'); return e ? e.dataset.value : null; }};
            const label = (f) => {{ const e = row.querySelector('dd[data-field=\"' + f + '\"]'); return e ? e.textContent : null; }};
            return {{
                hex: row.dataset.hex,
                fin: value('fin'), rsv1: value('rsv1'), rsv2: value('rsv2'), rsv3: value('rsv3'),
                opcode: value('opcode'), mask: value('mask'), len7: value('len7'),
                extlen: value('extlen'), key: value('key'), wire: value('wire'),
                fin_label: label('fin'), opcode_label: label('opcode'), mask_label: label('mask'),
                length_label: label('len7'), key_label: label('key'),
                payload_label: label('payload') ?? label('compressed'),
                message_text: summary ? summary.dataset.text : null,
                message_len: summary ? summary.dataset.len : null,
                message_wire_len: summary ? summary.dataset.wireLen : null,
            }};
        }})()",
        needle = js_string(needle),
    )
}

fn bytes(hex: &str) -> Result<Vec<u8>, CdpError> {
    if !hex.len().is_multiple_of(2) {
        return fail(format!("odd hex: {hex}"));
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|e| CdpError(format!("hex {hex}: {e}"))))
        .collect()
}

/// The frame in `hex` (header and the payload bytes shown) through the crate's decoder: the
/// header, and the payload shown, unmasked.
fn decode(hex: &str) -> Result<(FrameHeader, Vec<u8>), CdpError> {
    let raw = bytes(hex)?;
    let (header, len) = match FrameHeader::parse(&raw) {
        Ok(Some(parsed)) => parsed,
        other => return fail(format!("the panel's bytes {hex} do not decode: {other:?}")),
    };
    let mut payload = raw[len..].to_vec();
    if let Some(key) = header.masking_key {
        for (i, byte) in payload.iter_mut().enumerate() {
            *byte ^= key[i % 4];
        }
    }
    Ok((header, payload))
}

/// Compare what the panel shows for one frame with the decoder's reading of the panel's own
/// bytes; returns the unmasked payload.
fn check_row(row: &Value, masked: bool) -> Result<String, CdpError> {
    let field = |name: &str| row[name].as_str().unwrap_or("").to_string();
    let (header, payload) = decode(&field("hex"))?;
    let number = |name: &str| field(name).parse::<u64>().ok();
    let mut wrong = Vec::new();
    if number("fin") != Some(u64::from(header.fin)) {
        wrong.push("FIN bit");
    }
    for (name, bit) in [("rsv1", 0x40), ("rsv2", 0x20), ("rsv3", 0x10)] {
        if number(name) != Some(u64::from(header.rsv & bit != 0)) {
            wrong.push("an RSV bit");
        }
    }
    if number("opcode") != Some(u64::from(header.opcode.as_u8())) {
        wrong.push("opcode bits");
    }
    if !field("opcode_label").starts_with(&format!("0x{:x}: text", header.opcode.as_u8())) {
        wrong.push("opcode label");
    }
    if number("mask") != Some(u64::from(header.masking_key.is_some())) || header.masking_key.is_some() != masked {
        wrong.push("MASK bit");
    }
    if !field("mask_label").starts_with(if masked { "1: masked" } else { "0: not masked" }) {
        wrong.push("MASK label");
    }
    let len7 = number("len7").unwrap_or(u64::MAX);
    let length_ok = match len7 {
        126 => bytes(&field("extlen"))?.len() == 2,
        127 => bytes(&field("extlen"))?.len() == 8,
        n => n == header.payload_len && row["extlen"].is_null(),
    };
    if !length_ok {
        wrong.push("length field");
    }
    let form = match len7 {
        126 => 16,
        127 => 64,
        _ => 7,
    };
    if field("length_label") != format!("{} bytes, {form}-bit form", header.payload_len) {
        wrong.push("length label");
    }
    let key_hex: Option<String> = header.masking_key.map(|k| k.iter().map(|b| format!("{b:02x}")).collect());
    if row["key"].as_str().map(str::to_string) != key_hex {
        wrong.push("masking key");
    }
    let whole = payload.len() as u64 == header.payload_len;
    let compressed = header.rsv & 0x40 != 0;
    let text = if compressed {
        // RFC 7692: the frame carries DEFLATE data, shown as hex; the message summary shows
        // what it inflated to, and the sizes on both sides.
        let spaced: Vec<String> = payload.iter().map(|b| format!("{b:02x}")).collect();
        let expected = format!("DEFLATE data: {}{}", spaced.join(" "), if whole { "" } else { "…" });
        if field("payload_label") != expected {
            wrong.push("compressed payload label");
        }
        if number("message_wire_len") != Some(header.payload_len) {
            wrong.push("compressed size");
        }
        field("message_text")
    } else {
        let text = String::from_utf8_lossy(&payload).into_owned();
        if whole && field("payload_label") != text {
            wrong.push("payload label");
        }
        text
    };
    if !wrong.is_empty() {
        return fail(format!(
            "the panel disagrees with the decoder on {wrong:?}: {row} (decoded {header:?}, {text:?})"
        ));
    }
    Ok(text)
}
