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

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use crate::error::ProtocolError;

/// The empty stored block a sync flush ends with (RFC 7692 §7.2.1).
const SYNC_FLUSH_TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// How many output bytes to make room for at a time.
const OUTPUT_STEP: usize = 16 << 10;

/// The compression failed (zlib reported a stream error, which a correct caller never sees).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CompressError;

impl std::fmt::Display for CompressError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("permessage-deflate: the compressor failed")
    }
}

impl std::error::Error for CompressError {}

/// One side's compressor.
#[doc(hidden)]
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
#[doc(hidden)]
#[derive(Debug)]
pub struct Inflater {
    decompress: Decompress,
    no_context_takeover: bool,
    /// The message in progress ended its DEFLATE stream with a BFINAL block (RFC 7692
    /// §7.2.3.4); the count is how many payload bytes came after that block.
    after_final_block: Option<usize>,
    /// With context takeover: the last inflated bytes (up to the window size), a ring whose
    /// oldest byte is at `history_start` once full. A BFINAL block ends zlib's stream and with
    /// it zlib's window; a fresh stream primed with this history decodes the next message's
    /// back-references as the peer meant them.
    history: Vec<u8>,
    history_start: usize,
    window_size: usize,
}

/// What may follow a BFINAL block in one message (RFC 7692 §7.2.3.4): at most one byte holding
/// the header bits of a stored block (BTYPE 00) and padding, which the appended `00 00 ff ff`
/// completes into an empty stored block.
const MAX_BYTES_AFTER_FINAL_BLOCK: usize = 1;

impl Inflater {
    /// A decompressor for a peer that compresses with a window of at most 2^`window_bits`
    /// bytes. A window of 8 is inflated with 9 (a larger window decodes any smaller one).
    pub fn new(window_bits: u8, no_context_takeover: bool) -> Inflater {
        let window_bits = window_bits.clamp(9, 15);
        let window_size = 1 << window_bits;
        Inflater {
            decompress: Decompress::new_with_window_bits(false, window_bits),
            no_context_takeover,
            after_final_block: None,
            history: Vec::with_capacity(if no_context_takeover { 0 } else { window_size }),
            history_start: 0,
            window_size,
        }
    }

    /// Inflate one piece of a compressed message, appending at most `limit` bytes to `out`.
    /// Fails with [`ProtocolError::MessageTooLarge`] as soon as the output would exceed it,
    /// and with [`ProtocolError::InvalidCompressedData`] on a corrupt stream or on data after
    /// a BFINAL block.
    pub fn inflate(&mut self, input: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<(), ProtocolError> {
        if let Some(after) = self.after_final_block.as_mut() {
            return Inflater::check_after_final_block(after, input);
        }
        let start = out.len();
        let result = self.inflate_until_stream_end(input, out, limit);
        if !self.no_context_takeover {
            self.remember(&out[start..]);
        }
        let consumed = result?;
        if let Some(after) = self.after_final_block.as_mut() {
            return Inflater::check_after_final_block(after, &input[consumed..]);
        }
        Ok(())
    }

    /// Inflate until the input is used up or the DEFLATE stream ends; returns how much input
    /// was used.
    fn inflate_until_stream_end(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<usize, ProtocolError> {
        let start = out.len();
        let mut consumed = 0;
        loop {
            let produced = out.len() - start;
            // Room for at most one byte past the limit: enough to tell that it was crossed.
            let room = OUTPUT_STEP.min(limit.saturating_sub(produced) + 1);
            let before_in = self.decompress.total_in();
            let before_out = out.len();
            let status = decompress_bounded(&mut self.decompress, &input[consumed..], out, before_out + room)
                .map_err(|_| ProtocolError::InvalidCompressedData)?;
            consumed += (self.decompress.total_in() - before_in) as usize;
            if out.len() - start > limit {
                return Err(ProtocolError::MessageTooLarge);
            }
            if status == Status::StreamEnd {
                self.after_final_block = Some(0);
                return Ok(consumed);
            }
            let progressed = out.len() > before_out || self.decompress.total_in() > before_in;
            // Done when the input is used up and zlib did not fill the room it had, or when it
            // can make no more progress (it waits for the rest of the stream).
            if (consumed == input.len() && out.len() < before_out + room) || !progressed {
                return Ok(consumed);
            }
        }
    }

    /// RFC 7692 §7.2.3.4: after a BFINAL block only the one-byte empty stored block header may
    /// follow; anything more is data the DEFLATE stream cannot hold, and dropping it silently
    /// would lose part of the message.
    fn check_after_final_block(after: &mut usize, rest: &[u8]) -> Result<(), ProtocolError> {
        *after += rest.len();
        let stored_block_header = rest.iter().all(|byte| byte & 0b110 == 0);
        if *after > MAX_BYTES_AFTER_FINAL_BLOCK || !stored_block_header {
            return Err(ProtocolError::InvalidCompressedData);
        }
        Ok(())
    }

    /// Keep the last `window_size` inflated bytes (context takeover only).
    fn remember(&mut self, mut output: &[u8]) {
        let size = self.window_size;
        if output.len() >= size {
            self.history.clear();
            self.history.extend_from_slice(&output[output.len() - size..]);
            self.history_start = 0;
            return;
        }
        if self.history.len() < size {
            let take = (size - self.history.len()).min(output.len());
            self.history.extend_from_slice(&output[..take]);
            output = &output[take..];
        }
        // The ring is full: overwrite the oldest bytes, wrapping at the end.
        let first = (size - self.history_start).min(output.len());
        let start = self.history_start;
        self.history[start..start + first].copy_from_slice(&output[..first]);
        self.history[..output.len() - first].copy_from_slice(&output[first..]);
        self.history_start = (start + output.len()) % size;
    }

    /// The message ended: inflate the sync-flush tail that the sender removed (§7.2.2), then
    /// reset the context if no context takeover was negotiated. A message whose stream ended
    /// with a BFINAL block starts a fresh stream for the next message, primed with the window
    /// when the context is taken over (§7.2.3.4).
    pub fn finish_message(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), ProtocolError> {
        if self.after_final_block.is_none() {
            self.inflate(&SYNC_FLUSH_TAIL, out, limit)?;
        }
        if self.after_final_block.take().is_some() && !self.no_context_takeover {
            self.decompress.reset(false);
            self.history.rotate_left(self.history_start);
            self.history_start = 0;
            self.decompress.set_dictionary(&self.history).map_err(|_| ProtocolError::InvalidCompressedData)?;
        } else if self.no_context_takeover {
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
) -> Result<Status, flate2::DecompressError> {
    let len = out.len();
    out.resize(target, 0);
    let before = decompress.total_out();
    let result = decompress.decompress(input, &mut out[len..target], FlushDecompress::Sync);
    let written = (decompress.total_out() - before) as usize;
    out.truncate(len + written);
    result
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

    /// "Hello" three times with context takeover, the first message ending in a BFINAL block
    /// (`f3` instead of `f2`: the same fixed-Huffman block with BFINAL set) followed by `rest`.
    fn hello_after_a_bfinal_block(rest: &[u8]) -> Vec<Vec<u8>> {
        let mut deflater = Deflater::new(6, 15, false);
        let mut wires = vec![Vec::new(), Vec::new(), Vec::new()];
        for wire in &mut wires {
            deflater.compress(b"Hello", true, wire).unwrap();
        }
        assert_eq!(wires[0], [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
        wires[0][0] = 0xf3;
        wires[0].extend_from_slice(rest);
        wires
    }

    #[test]
    fn rfc7692_s7_2_3_4_context_is_kept_after_a_bfinal_block() {
        for rest in [&[][..], &[0x00]] {
            let wires = hello_after_a_bfinal_block(rest);
            let mut inflater = Inflater::new(15, false);
            for wire in &wires {
                assert_eq!(inflate_all(&mut inflater, wire), b"Hello", "padding {rest:?}, wire {wire:02x?}");
            }
        }
    }

    #[test]
    fn rfc7692_s7_2_3_4_context_is_kept_after_a_bfinal_block_fed_byte_by_byte() {
        let wires = hello_after_a_bfinal_block(&[0x00]);
        let mut inflater = Inflater::new(15, false);
        for wire in &wires {
            let mut out = Vec::new();
            for byte in wire.chunks(1) {
                inflater.inflate(byte, &mut out, 100).unwrap();
            }
            inflater.finish_message(&mut out, 100).unwrap();
            assert_eq!(out, b"Hello");
        }
    }

    #[test]
    fn rfc7692_s7_2_3_4_the_window_survives_a_bfinal_block_across_many_messages() {
        // Long varied history: back-references reach far into earlier messages.
        let text: Vec<u8> = (0..40_000u32).map(|i| b"abcdefghijklmnop"[(i * i % 13) as usize]).collect();
        let mut deflater = Deflater::new(6, 15, false);
        let mut inflater = Inflater::new(15, false);
        for chunk in text.chunks(3000) {
            let mut wire = Vec::new();
            deflater.compress(chunk, true, &mut wire).unwrap();
            assert_eq!(inflate_all(&mut inflater, &wire), chunk);
        }
        // One message as a stored block with BFINAL set, then the compressor goes on.
        let mut stored = vec![0x01, 0x03, 0x00, 0xfc, 0xff];
        stored.extend_from_slice(b"xyz");
        assert_eq!(inflate_all(&mut inflater, &stored), b"xyz");
        let mut more = Vec::new();
        deflater.compress(b"xyz", true, &mut Vec::new()).unwrap();
        deflater.compress(&text[..5000], true, &mut more).unwrap();
        assert_eq!(inflate_all(&mut inflater, &more), &text[..5000]);
    }

    #[test]
    fn rfc7692_s7_2_3_4_data_after_a_bfinal_block_fails_with_1007() {
        for rest in [&[0x00, 0x00][..], &[0x02], &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]] {
            let wires = hello_after_a_bfinal_block(rest);
            let mut out = Vec::new();
            let err = Inflater::new(15, false).inflate(&wires[0], &mut out, 100).unwrap_err();
            assert_eq!(err, ProtocolError::InvalidCompressedData, "after the final block: {rest:02x?}");
            assert_eq!(err.close_code().0, 1007);
            // The same bytes in a later piece of the message.
            let mut inflater = Inflater::new(15, false);
            inflater.inflate(&wires[0][..7], &mut out, 100).unwrap();
            assert_eq!(inflater.inflate(rest, &mut out, 100), Err(ProtocolError::InvalidCompressedData));
        }
    }

    #[test]
    fn rfc7692_s7_2_3_4_bfinal_without_context_takeover_starts_afresh() {
        let mut deflater = Deflater::new(6, 15, true);
        let mut inflater = Inflater::new(15, true);
        for _ in 0..3 {
            let mut wire = Vec::new();
            deflater.compress(b"Hello", true, &mut wire).unwrap();
            wire[0] |= 0x01;
            assert_eq!(inflate_all(&mut inflater, &wire), b"Hello");
        }
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
