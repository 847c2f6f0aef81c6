//! A bare TCP echo: the physical reference for the load benchmark. Every byte read is written
//! back, one read and one write per batch, no WebSocket framing.
//!
//! ```text
//! cargo run --release --example tcp_echo -- 127.0.0.1:9003
//! ```

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9003".to_string());
    let listener = TcpListener::bind(&addr)?;
    println!("tcp echo listening on {}", listener.local_addr()?);
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        thread::spawn(move || echo(stream));
    }
    Ok(())
}

fn echo(mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf = vec![0u8; 256 << 10];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n])?;
    }
}
