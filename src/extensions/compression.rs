//! Compressing and inflating messages for permessage-deflate (RFC 7692 §7.2).
//!
//! Sending (§7.2.1): the message is compressed with a sync flush, which ends the output on a
//! byte boundary with an empty stored block `00 00 ff ff`; those four bytes are removed before
//! the payload goes out. Receiving (§7.2.2): the four bytes are appended again at the end of
//! the message and the whole is inflated. Both sides keep their LZ77 window from one message to
//! the next ("context takeover") unless `no_context_takeover` was negotiated, in which case the
//! context is reset after every message.
//!
//! Inflating is bounded: [`Inflater::inflate`] never produces more than the caller's limit plus
//! one byte, so a decompression bomb fails with 1009 after at most that much work and memory.
//!
//! The deflate implementation is zlib-rs (pure Rust) through flate2.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};

use crate::error::ProtocolError;

/// The empty stored block a sync flush ends with (RFC 7692 §7.2.1).
const SYNC_FLUSH_TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// How many output bytes to make room for at a time.
const OUTPUT_STEP: usize = 16 << 10;

/// The compression failed (zlib reported a stream error, which a correct caller never sees).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompressError;

/// One side's compressor.
#[derive(Debug)]
pub struct Deflater {
    compress: Compress,
    no_context_takeover: bool,
}

impl Deflater {
    /// A compressor with a window of 2^`window_bits` bytes (9 to 15: zlib cannot compress raw
    /// deflate with 8; see [`crate::extensions::permessage_deflate`]).
    pub fn new(level: u32, window_bits: u8, no_context_takeover: bool) -> Deflater {
        let window_bits = window_bits.clamp(9, 15);
        Deflater {
            compress: Compress::new_with_window_bits(Compression::new(level.min(9)), false, window_bits),
            no_context_takeover,
        }
    }

    /// Compress one piece of a message and append it to `out`. The piece that ends the
    /// message (`last`) loses its sync-flush tail (§7.2.1), and the context is reset after it
    /// when no context takeover was negotiated.
    pub fn compress(&mut self, input: &[u8], last: bool, out: &mut Vec<u8>) -> Result<(), CompressError> {
        let start = out.len();
        let mut consumed = 0;
        loop {
            out.reserve((input.len() - consumed) / 2 + 64);
            let before = self.compress.total_in();
            self.compress.compress_vec(&input[consumed..], out, FlushCompress::Sync).map_err(|_| CompressError)?;
            consumed += (self.compress.total_in() - before) as usize;
            // The flush is complete once all input is taken and zlib left room unused.
            if consumed == input.len() && out.len() < out.capacity() {
                break;
            }
        }
        if last {
            if out[start..].ends_with(&SYNC_FLUSH_TAIL) {
                out.truncate(out.len() - SYNC_FLUSH_TAIL.len());
            }
            // zlib writes nothing for a sync flush when no input came since the last one (an
            // empty message after another message). An empty payload would make the receiver's
            // appended tail `00 00 ff ff` read as the start of a stored block, swallowing the next
            // message; one `00` byte makes it the empty stored block `00 00 00 ff ff` instead,
            // the form RFC 7692 §7.2.3.6 gives for an empty message.
            if out.len() == start {
                out.push(0x00);
            }
            if self.no_context_takeover {
                self.compress.reset();
            }
        }
        Ok(())
    }
}

/// One side's decompressor.
#[derive(Debug)]
pub struct Inflater {
    decompress: Decompress,
    no_context_takeover: bool,
}

impl Inflater {
    /// A decompressor for a peer that compresses with a window of at most 2^`window_bits`
    /// bytes. A window of 8 is inflated with 9 (a larger window decodes any smaller one).
    pub fn new(window_bits: u8, no_context_takeover: bool) -> Inflater {
        Inflater { decompress: Decompress::new_with_window_bits(false, window_bits.clamp(9, 15)), no_context_takeover }
    }

    /// Inflate one piece of a compressed message, appending at most `limit` bytes to `out`.
    /// Fails with [`ProtocolError::MessageTooLarge`] as soon as the output would exceed it,
    /// and with [`ProtocolError::InvalidCompressedData`] on a corrupt stream.
    pub fn inflate(&mut self, input: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<(), ProtocolError> {
        let start = out.len();
        let mut consumed = 0;
        loop {
            let produced = out.len() - start;
            // Room for at most one byte past the limit: enough to tell that it was crossed.
            let room = OUTPUT_STEP.min(limit.saturating_sub(produced) + 1);
            let before_in = self.decompress.total_in();
            let before_out = out.len();
            decompress_bounded(&mut self.decompress, &input[consumed..], out, before_out + room)
                .map_err(|_| ProtocolError::InvalidCompressedData)?;
            consumed += (self.decompress.total_in() - before_in) as usize;
            if out.len() - start > limit {
                return Err(ProtocolError::MessageTooLarge);
            }
            let progressed = out.len() > before_out || self.decompress.total_in() > before_in;
            // Done when the input is used up and zlib did not fill the room it had, or when it
            // can make no more progress (it waits for the rest of the stream).
            if (consumed == input.len() && out.len() < before_out + room) || !progressed {
                return Ok(());
            }
        }
    }

    /// The message ended: inflate the sync-flush tail that the sender removed (§7.2.2), then
    /// reset the context if no context takeover was negotiated.
    pub fn finish_message(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), ProtocolError> {
        self.inflate(&SYNC_FLUSH_TAIL, out, limit)?;
        if self.no_context_takeover {
            self.decompress.reset(false);
        }
        Ok(())
    }
}

/// Run zlib's inflate into `out` without letting it grow past `target` bytes: it writes into a
/// slice of exactly the room allowed, whatever the vector's capacity.
fn decompress_bounded(
    decompress: &mut Decompress,
    input: &[u8],
    out: &mut Vec<u8>,
    target: usize,
) -> Result<(), flate2::DecompressError> {
    let len = out.len();
    out.resize(target, 0);
    let before = decompress.total_out();
    let result = decompress.decompress(input, &mut out[len..target], FlushDecompress::Sync);
    let written = (decompress.total_out() - before) as usize;
    out.truncate(len + written);
    result.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inflate_all(inflater: &mut Inflater, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        inflater.inflate(payload, &mut out, 1 << 20).unwrap();
        inflater.finish_message(&mut out, 1 << 20).unwrap();
        out
    }

    #[test]
    fn rfc7692_s7_2_3_1_hello_compressed() {
        // "A Message Compressed Using 1 Compressed DEFLATE Block".
        let payload = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        assert_eq!(inflate_all(&mut Inflater::new(15, false), &payload), b"Hello");
        let mut out = Vec::new();
        Deflater::new(6, 15, false).compress(b"Hello", true, &mut out).unwrap();
        assert_eq!(out, payload);
    }

    #[test]
    fn rfc7692_s7_2_3_2_context_takeover_shrinks_the_second_hello() {
        let mut deflater = Deflater::new(6, 15, false);
        let (mut first, mut second) = (Vec::new(), Vec::new());
        deflater.compress(b"Hello", true, &mut first).unwrap();
        deflater.compress(b"Hello", true, &mut second).unwrap();
        assert_eq!(second, [0xf2, 0x00, 0x11, 0x00, 0x00]);
        let mut inflater = Inflater::new(15, false);
        assert_eq!(inflate_all(&mut inflater, &first), b"Hello");
        assert_eq!(inflate_all(&mut inflater, &second), b"Hello");
    }

    #[test]
    fn rfc7692_s7_2_3_2_no_context_takeover_repeats_the_same_bytes() {
        let mut deflater = Deflater::new(6, 15, true);
        let (mut first, mut second) = (Vec::new(), Vec::new());
        deflater.compress(b"Hello", true, &mut first).unwrap();
        deflater.compress(b"Hello", true, &mut second).unwrap();
        assert_eq!(first, second);
        let mut inflater = Inflater::new(15, true);
        assert_eq!(inflate_all(&mut inflater, &first), b"Hello");
        assert_eq!(inflate_all(&mut inflater, &second), b"Hello");
    }

    #[test]
    fn rfc7692_s7_2_3_3_no_compression_block() {
        // "Using a DEFLATE Block with No Compression".
        let payload = [0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00];
        assert_eq!(inflate_all(&mut Inflater::new(15, false), &payload), b"Hello");
    }

    #[test]
    fn rfc7692_s7_2_3_4_bfinal_block() {
        // "Using a DEFLATE Block with BFINAL Set to 1".
        let payload = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
        assert_eq!(inflate_all(&mut Inflater::new(15, false), &payload), b"Hello");
    }

    #[test]
    fn rfc7692_s7_2_3_5_two_deflate_blocks_in_one_message() {
        let payload = [0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00];
        assert_eq!(inflate_all(&mut Inflater::new(15, false), &payload), b"Hello");
    }

    #[test]
    fn rfc7692_s7_2_3_1_fragmented_hello_inflates_piece_by_piece() {
        // The compressed "Hello" split over two frames: [f2 48 cd] and [c9 c9 07 00].
        let mut inflater = Inflater::new(15, false);
        let mut out = Vec::new();
        inflater.inflate(&[0xf2, 0x48, 0xcd], &mut out, 100).unwrap();
        inflater.inflate(&[0xc9, 0xc9, 0x07, 0x00], &mut out, 100).unwrap();
        inflater.finish_message(&mut out, 100).unwrap();
        assert_eq!(out, b"Hello");
    }

    #[test]
    fn rfc7692_s7_2_3_6_empty_message_is_one_zero_byte() {
        let mut out = Vec::new();
        Deflater::new(6, 15, false).compress(b"", true, &mut out).unwrap();
        assert_eq!(out, [0x00]);
        assert_eq!(inflate_all(&mut Inflater::new(15, false), &out), b"");
    }

    #[test]
    fn rfc7692_s7_2_3_6_empty_messages_in_a_row_stay_empty_and_in_step() {
        // With context takeover, zlib emits nothing for the second empty message's flush.
        let mut deflater = Deflater::new(6, 15, false);
        let mut inflater = Inflater::new(15, false);
        for message in [&b""[..], b"", b"", b"Hello", b"", b"Hello"] {
            let mut wire = Vec::new();
            deflater.compress(message, true, &mut wire).unwrap();
            assert!(!wire.is_empty(), "a compressed message is never an empty payload");
            assert_eq!(inflate_all(&mut inflater, &wire), message);
        }
    }

    #[test]
    fn decompression_bomb_stops_at_the_limit() {
        let zeros = vec![0u8; 10 << 20];
        let mut bomb = Vec::new();
        Deflater::new(9, 15, false).compress(&zeros, true, &mut bomb).unwrap();
        assert!(bomb.len() < 20 << 10, "10 MiB of zeros compress to {} bytes", bomb.len());
        let mut out = Vec::new();
        let err = Inflater::new(15, false).inflate(&bomb, &mut out, 1000).unwrap_err();
        assert_eq!(err, ProtocolError::MessageTooLarge);
        assert!(out.len() <= 1001, "inflated {} bytes past a limit of 1000", out.len());
        assert!(out.capacity() < 64 << 10, "reserved {} bytes", out.capacity());
    }

    #[test]
    fn corrupt_data_is_refused_with_1007() {
        let mut out = Vec::new();
        let err = Inflater::new(15, false).inflate(&[0xff, 0xff, 0xff, 0xff], &mut out, 100).unwrap_err();
        assert_eq!(err, ProtocolError::InvalidCompressedData);
        assert_eq!(err.close_code().0, 1007);
    }

    #[test]
    fn every_window_size_round_trips() {
        let text: Vec<u8> = (0..50_000u32).map(|i| b"abcdefghij"[(i * i % 7) as usize]).collect();
        for bits in 8..=15 {
            let mut deflater = Deflater::new(6, bits, false);
            let mut inflater = Inflater::new(bits, false);
            for _ in 0..3 {
                let mut wire = Vec::new();
                deflater.compress(&text[..text.len() / 2], false, &mut wire).unwrap();
                deflater.compress(&text[text.len() / 2..], true, &mut wire).unwrap();
                assert_eq!(inflate_all(&mut inflater, &wire), text, "window bits {bits}");
            }
        }
    }
}
