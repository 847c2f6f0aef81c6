//! Recipe: choose limits for a server with many connections.
//!
//! Every buffer of a connection has a limit (`Limits`, RFC 6455 §10.4). With many connections,
//! the limits are a memory budget: the worst case is every client sending the largest message
//! allowed at the same moment while reading nothing. This recipe turns a budget and a number
//! of connections into `Limits`, and checks the worst case on a real `Connection`.
//! docs/manual/limits.md has the reasoning and a table.
//!
//! ```text
//! cargo run --example recipe_limits -- 10000 2048    # 10,000 connections, 2 GiB for buffers
//! ```

use rfc6455::frame::OpCode;
use rfc6455::frame::encoder::encode_frame;
use rfc6455::{Config, Connection, Error, Limits};

// ANCHOR: limits
/// The heap one connection may hold at most with `limits`: the input buffer, a message being
/// reassembled, and unwritten output (the limit plus the one frame that is always accepted).
/// Buffers are `Vec`s, which grow by doubling, so each may reserve up to twice what it holds.
pub fn worst_case_bytes(limits: &Limits) -> usize {
    let output = limits.max_output_buffer + limits.max_frame_size.min(limits.max_message_size) + 14;
    2 * (limits.max_input_buffer + limits.max_message_size + output)
}

/// Limits for `connections` connections that together may use `budget` bytes of buffers:
/// `worst_case_bytes` of the result, times `connections`, stays within `budget`. The worst case
/// counts a message twice (being reassembled, and its size again as output) and every buffer
/// twice (Vec growth): eight units, one each for input, message and output, plus a frame.
pub fn limits_for(connections: usize, budget: usize) -> Limits {
    let share = budget / connections.max(1);
    let unit = (share.saturating_sub(64) / 8).max(1024);
    Limits {
        max_frame_size: unit,
        max_message_size: unit,
        // The opening handshake of a browser is under 2 KiB; cookies can make it larger.
        max_handshake_size: 16 << 10,
        max_output_buffer: unit,
        max_input_buffer: unit,
        // Large sends go out in frames the peer's frame limit accepts.
        max_send_frame_size: unit,
        ..Limits::default()
    }
}
// ANCHOR_END: limits

/// Drive one server connection through its worst case: a client sends the largest message
/// allowed in small frames while the server queues the largest output allowed and never
/// writes it. Returns the most heap the connection held, and what happens one byte over.
pub fn measure(limits: Limits) -> Result<(usize, Option<u16>), Error> {
    let mut server = Connection::new(Config::server().with_limits(limits)?);
    let mut peak = 0;
    // Output that is never written: the server's sends fill it to the limit.
    let piece = vec![0u8; (limits.max_output_buffer / 8).max(1)];
    while server.send_binary(&piece).is_ok() {}
    // A message of exactly max_message_size, in frames of at most an eighth of the input limit.
    let frame = (limits.max_input_buffer / 8).clamp(1, limits.max_frame_size);
    let mut left = limits.max_message_size;
    let mut first = true;
    let mut wire = Vec::new();
    while left > 0 {
        let n = left.min(frame);
        left -= n;
        wire.clear();
        let opcode = if first { OpCode::Binary } else { OpCode::Continuation };
        encode_frame(&mut wire, left == 0, 0, opcode, &vec![7u8; n], Some([1, 2, 3, 4]));
        first = false;
        server.receive(&wire)?;
        // Decoding pauses while output is over its limit: make room as a real server would
        // (write some of it), then pull events.
        while server.output().len() > limits.max_output_buffer {
            server.consume_output(server.output().len() - limits.max_output_buffer);
        }
        while server.next_event()?.is_some() {}
        peak = peak.max(server.buffered_capacity());
    }
    // One byte over the message limit fails with 1009 (message too big) from the header.
    let mut over = Connection::new(Config::server().with_limits(limits)?);
    wire.clear();
    encode_frame(&mut wire, true, 0, OpCode::Binary, &vec![7u8; limits.max_message_size + 1], Some([1, 2, 3, 4]));
    let _ = over.receive(&wire[..14]);
    let code = match over.next_event() {
        Err(Error::Protocol(e)) => Some(e.close_code().0),
        _ => None,
    };
    Ok((peak, code))
}

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let connections = args.next().and_then(Result::ok).unwrap_or(10_000);
    let budget_mib = args.next().and_then(Result::ok).unwrap_or(2048);
    let limits = limits_for(connections, budget_mib << 20);
    let worst = worst_case_bytes(&limits);
    println!("{connections} connections, {budget_mib} MiB for buffers:");
    println!("  max_message_size = max_frame_size = {} KiB", limits.max_message_size >> 10);
    println!("  max_input_buffer = max_output_buffer = {} KiB", limits.max_input_buffer >> 10);
    println!("  worst case per connection {} KiB, for all {} MiB", worst >> 10, (worst * connections) >> 20);
    let (peak, over) = measure(limits)?;
    println!(
        "  measured on one connection at its worst: {} KiB; one byte over the message limit: close {over:?}",
        peak >> 10
    );
    Ok(())
}
