//! A deliberately imperfect WebSocket echo server, to prove that `loadtest` checks what it
//! counts (`scripts/loadtest_selftest.sh`). One thread per connection, blocking, std only.
//!
//! ```text
//! faulty_echo 127.0.0.1:9020 MODE
//! ```
//!
//! Modes: `fragmented` echoes correctly but splits each message into up to three frames with a
//! Ping between them (a correct echo that `loadtest` must accept); `flip` changes one payload
//! byte of the 50th message of each connection; `swap` sends the 10th and 11th echoes in the
//! wrong order; `short` drops the last byte of the 20th message; `opcode` echoes the 5th
//! message as the other data type (text for binary, binary for text).

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};

use base64::Engine as _;
use sha1::{Digest, Sha1};

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9020".to_string());
    let mode = args.next().unwrap_or_else(|| "fragmented".to_string());
    if !["fragmented", "flip", "swap", "short", "opcode"].contains(&mode.as_str()) {
        eprintln!("faulty_echo: unknown mode {mode:?}");
        std::process::exit(2);
    }
    let listener = TcpListener::bind(&addr)?;
    println!("faulty echo ({mode}) listening on ws://{}", listener.local_addr()?);
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let mode = mode.clone();
        std::thread::spawn(move || {
            let _ = serve(stream, &mode);
        });
    }
    Ok(())
}

fn handshake(s: &mut TcpStream) -> io::Result<()> {
    let mut req = Vec::new();
    let mut b = [0u8; 1];
    while !req.ends_with(b"\r\n\r\n") {
        if s.read(&mut b)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        req.push(b[0]);
    }
    let text = String::from_utf8_lossy(&req);
    let key = text
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("sec-websocket-key")))
        .map(|(_, v)| v.trim().to_string())
        .ok_or(io::ErrorKind::InvalidData)?;
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    let accept = base64::engine::general_purpose::STANDARD.encode(sha.finalize());
    write!(
        s,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    )
}

/// Reads one whole message (the load tool sends unfragmented frames): opcode and payload.
fn read_message(s: &mut TcpStream) -> io::Result<(u8, Vec<u8>)> {
    let mut h = [0u8; 2];
    s.read_exact(&mut h)?;
    let len = match h[1] & 0x7f {
        126 => {
            let mut l = [0u8; 2];
            s.read_exact(&mut l)?;
            u16::from_be_bytes(l) as usize
        }
        127 => {
            let mut l = [0u8; 8];
            s.read_exact(&mut l)?;
            u64::from_be_bytes(l) as usize
        }
        n => n as usize,
    };
    let mut key = [0u8; 4];
    s.read_exact(&mut key)?;
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload)?;
    for (i, b) in payload.iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
    Ok((h[0] & 0x0f, payload))
}

fn frame(out: &mut Vec<u8>, first: u8, payload: &[u8]) {
    out.push(first);
    match payload.len() {
        n if n < 126 => out.push(n as u8),
        n if n < 1 << 16 => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
}

fn serve(mut s: TcpStream, mode: &str) -> io::Result<()> {
    s.set_nodelay(true)?;
    handshake(&mut s)?;
    let mut held: Option<(u8, Vec<u8>)> = None;
    for n in 1u64.. {
        let (opcode, mut payload) = read_message(&mut s)?;
        if opcode >= 8 {
            return Ok(());
        }
        let mut out = Vec::new();
        let mut op = opcode;
        match mode {
            "fragmented" => {
                let third = payload.len().div_ceil(3).max(1);
                let pieces: Vec<&[u8]> = payload.chunks(third).collect();
                for (i, piece) in pieces.iter().enumerate() {
                    let fin = if i + 1 == pieces.len() { 0x80 } else { 0 };
                    frame(&mut out, fin | if i == 0 { op } else { 0 }, piece);
                    if fin == 0 {
                        frame(&mut out, 0x89, b"ping");
                    }
                }
                s.write_all(&out)?;
                continue;
            }
            "flip" if n == 50 => {
                let at = payload.len() / 2;
                payload[at] ^= 0x01;
            }
            "short" if n == 20 => {
                payload.pop();
            }
            "opcode" if n == 5 => op = 3 - op,
            "swap" if n == 10 => {
                // Held back; the load tool sends no more until it has this echo, so in one-in-flight
                // runs nothing comes to swap with and the run stalls: use -d 2 or more.
                held = Some((op, payload));
                continue;
            }
            _ => {}
        }
        frame(&mut out, 0x80 | op, &payload);
        if let Some((hop, hp)) = held.take() {
            frame(&mut out, 0x80 | hop, &hp);
        }
        s.write_all(&out)?;
    }
    Ok(())
}
