//! Frame encoding (RFC 6455 §5.2, §5.3): header and payload appended to an output buffer.
//!
//! The payload is copied once, into the caller's reused buffer (a client's masked on the way,
//! a few KiB at a time), so encoding allocates nothing once the buffer has grown to its working
//! size.

use crate::frame::mask::{apply_mask, copy_masked};
use crate::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};

/// Append one frame to `out`. A client passes a fresh `masking_key` for every frame (§5.3);
/// a server passes `None` (§5.1).
pub fn encode_frame(
    out: &mut Vec<u8>,
    fin: bool,
    rsv: u8,
    opcode: OpCode,
    payload: &[u8],
    masking_key: Option<[u8; 4]>,
) {
    let header = FrameHeader { fin, rsv, opcode, masking_key, payload_len: payload.len() as u64 };
    out.reserve(MAX_HEADER_LEN + payload.len());
    header.append_to(out);
    match masking_key {
        None => out.extend_from_slice(payload),
        Some(key) if payload.len() <= STAGE => {
            let payload_start = out.len();
            out.extend_from_slice(payload);
            apply_mask(&mut out[payload_start..], key, 0);
        }
        Some(key) => {
            // Masked while copied, through a small buffer that stays in the L1 cache: the
            // payload crosses the memory hierarchy once, not twice (copy, then mask in place).
            // Safe code cannot mask straight into the vector's uninitialized capacity.
            let mut stage = [0u8; STAGE];
            for (i, piece) in payload.chunks(STAGE).enumerate() {
                let staged = &mut stage[..piece.len()];
                copy_masked(staged, piece, key, i * STAGE);
                out.extend_from_slice(staged);
            }
        }
    }
}

/// Bytes masked at a time on their way into the output buffer: small enough to stay in the L1
/// data cache beside the source and destination lines.
const STAGE: usize = 4 << 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s5_7_examples_encode_byte_for_byte() {
        let mut out = Vec::new();
        encode_frame(&mut out, true, 0, OpCode::Text, b"Hello", None);
        assert_eq!(out, [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);

        out.clear();
        encode_frame(&mut out, true, 0, OpCode::Text, b"Hello", Some([0x37, 0xfa, 0x21, 0x3d]));
        assert_eq!(out, [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);

        out.clear();
        encode_frame(&mut out, false, 0, OpCode::Text, b"Hel", None);
        encode_frame(&mut out, true, 0, OpCode::Continuation, b"lo", None);
        assert_eq!(out, [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]);

        out.clear();
        encode_frame(&mut out, true, 0, OpCode::Ping, b"Hello", None);
        assert_eq!(out, [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);

        out.clear();
        encode_frame(&mut out, true, 0, OpCode::Pong, b"Hello", Some([0x37, 0xfa, 0x21, 0x3d]));
        assert_eq!(out, [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    }

    #[test]
    fn s5_7_256_byte_and_64_kib_binary_headers() {
        let mut out = Vec::new();
        encode_frame(&mut out, true, 0, OpCode::Binary, &[0u8; 256], None);
        assert_eq!(&out[..4], &[0x82, 0x7E, 0x01, 0x00]);
        assert_eq!(out.len(), 4 + 256);

        out.clear();
        encode_frame(&mut out, true, 0, OpCode::Binary, &vec![0u8; 65536], None);
        assert_eq!(&out[..10], &[0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]);
        assert_eq!(out.len(), 10 + 65536);
    }
}
