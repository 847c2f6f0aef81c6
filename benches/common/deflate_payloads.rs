//! The payloads of the permessage-deflate measurements, shared by `benches/deflate.rs` and
//! `examples/profile_deflate.rs` so both measure the same bytes.

/// The size of each payload.
pub const SIZE: usize = 16 << 10;

/// English-like text of varied words: compresses to roughly a third.
pub fn text() -> Vec<u8> {
    let words = ["socket", "frame", "message", "server", "client", "close", "ping", "text", "binary", "mask"];
    let mut state = 7u32;
    let mut out = String::new();
    while out.len() < SIZE {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
        out.push_str(words[(state >> 16) as usize % words.len()]);
        out.push_str(if state.is_multiple_of(7) { ". " } else { " " });
    }
    out.truncate(SIZE);
    out.into_bytes()
}

/// Binary with structure: records of a little-endian timestamp that climbs slowly, a sensor
/// id from a small set, and a noisy reading. Compresses partly, as real telemetry does.
pub fn binary() -> Vec<u8> {
    let mut state = 99u32;
    let mut out = Vec::with_capacity(SIZE);
    let mut time = 1_700_000_000u32;
    while out.len() < SIZE {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        time += 1 + (state >> 30);
        out.extend_from_slice(&time.to_le_bytes());
        out.extend_from_slice(&[(state >> 24) as u8 % 4, 0, 0, 0]);
        out.extend_from_slice(&(20_000 + (state >> 22) % 64).to_le_bytes());
    }
    out.truncate(SIZE);
    out
}
