//! The streaming frame decoder (RFC 6455 §5.2): bytes in, headers and payload pieces out.
//!
//! The decoder owns no buffer. Each call looks at the unread input and returns one step:
//! a complete header, or the next piece of the current frame's payload (unmasked in place,
//! §5.3), or a request for more bytes. A payload is handed out as soon as any of it has
//! arrived, so a connection can validate text and enforce limits before a frame is complete.
//! Its whole state is a few integers; it never allocates.
//!
//! [`FrameDecoder::decode_masked`] is the same step without the unmasking: the caller gets the
//! key to unmask with ([`Unmask`]) and can unmask while copying the piece elsewhere, or unmask
//! bytes it read somewhere else than the input (a payload read straight into the message
//! buffer): the decoder only counts payload bytes, it never needs to see them.

use crate::error::ProtocolError;
use crate::frame::FrameHeader;
use crate::frame::mask::{apply_mask, copy_masked};

/// One step of decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Not enough input for the next step.
    NeedMore,
    /// A frame header, `len` bytes long: consume them.
    Header {
        /// The header.
        header: FrameHeader,
        /// Its length in bytes.
        len: usize,
    },
    /// The first `len` bytes of the input are payload, already unmasked: consume them.
    /// `last` is set on the piece that ends the frame (a zero-length frame yields one empty,
    /// last piece).
    Payload {
        /// Payload bytes at the start of the input.
        len: usize,
        /// Whether this piece ends the frame.
        last: bool,
    },
}

/// How to unmask one payload piece (RFC 6455 §5.3): the frame's masking key and how far into
/// the payload the piece starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unmask {
    /// The frame's masking key.
    pub masking_key: [u8; 4],
    /// The piece's position in the payload (only its value modulo 4 matters).
    pub offset: usize,
}

impl Unmask {
    /// Unmask `bytes` in place.
    pub fn apply(&self, bytes: &mut [u8]) {
        apply_mask(bytes, self.masking_key, self.offset);
    }

    /// Copy `src` into `dst` unmasked, in one pass (equal lengths).
    pub fn copy(&self, dst: &mut [u8], src: &[u8]) {
        copy_masked(dst, src, self.masking_key, self.offset);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header,
    Payload { remaining: u64, masking_key: Option<[u8; 4]>, offset: usize },
}

/// Splits a byte stream into frame headers and payload pieces.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    state: State,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        FrameDecoder { state: State::Header }
    }
}

impl FrameDecoder {
    /// A decoder waiting for the first header.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the decoder is between frames.
    pub fn at_frame_boundary(&self) -> bool {
        self.state == State::Header
    }

    /// Payload bytes of the current frame not yet decoded, or `None` between frames.
    pub fn payload_remaining(&self) -> Option<u64> {
        match self.state {
            State::Header => None,
            State::Payload { remaining, .. } => Some(remaining),
        }
    }

    /// Decode the next step from `input`, the bytes not yet consumed. Payload bytes are
    /// unmasked in place. The caller must consume exactly the bytes the step names before the
    /// next call.
    pub fn decode(&mut self, input: &mut [u8]) -> Result<Step, ProtocolError> {
        let (step, unmask) = self.decode_masked(input)?;
        if let (Step::Payload { len, .. }, Some(unmask)) = (step, unmask) {
            unmask.apply(&mut input[..len]);
        }
        Ok(step)
    }

    /// [`Self::decode`] without unmasking: a payload step of a masked frame comes with the
    /// [`Unmask`] for its bytes, which the caller applies (in place, or while copying them).
    /// For a payload step only `input.len()` is looked at, so `input` may be any slice of that
    /// many payload bytes, wherever they were read.
    pub fn decode_masked(&mut self, input: &[u8]) -> Result<(Step, Option<Unmask>), ProtocolError> {
        match self.state {
            State::Header => {
                let Some((header, len)) = FrameHeader::parse(input)? else {
                    return Ok((Step::NeedMore, None));
                };
                self.state =
                    State::Payload { remaining: header.payload_len, masking_key: header.masking_key, offset: 0 };
                Ok((Step::Header { header, len }, None))
            }
            State::Payload { remaining, masking_key, offset } => {
                if remaining > 0 && input.is_empty() {
                    return Ok((Step::NeedMore, None));
                }
                // `remaining` may exceed usize on 32-bit targets; the minimum fits in `input`.
                let len = usize::try_from(remaining).map_or(input.len(), |r| r.min(input.len()));
                let unmask = masking_key.map(|masking_key| Unmask { masking_key, offset });
                let remaining = remaining - len as u64;
                let last = remaining == 0;
                self.state = if last {
                    State::Header
                } else {
                    State::Payload { remaining, masking_key, offset: offset.wrapping_add(len) % 4 }
                };
                Ok((Step::Payload { len, last }, unmask))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::OpCode;

    /// Decode `bytes` fed in pieces of `chunk` bytes, collecting (header, payload) pairs.
    fn decode_chunked(bytes: &[u8], chunk: usize) -> Vec<(FrameHeader, Vec<u8>)> {
        let mut decoder = FrameDecoder::new();
        let mut buffer = Vec::new();
        let mut frames: Vec<(FrameHeader, Vec<u8>)> = Vec::new();
        for piece in bytes.chunks(chunk.max(1)) {
            buffer.extend_from_slice(piece);
            loop {
                match decoder.decode(&mut buffer).expect("valid") {
                    Step::NeedMore => break,
                    Step::Header { header, len } => {
                        buffer.drain(..len);
                        frames.push((header, Vec::new()));
                    }
                    Step::Payload { len, .. } => {
                        let payload: Vec<u8> = buffer.drain(..len).collect();
                        frames.last_mut().expect("header first").1.extend(payload);
                    }
                }
            }
        }
        frames
    }

    #[test]
    fn s5_7_examples_decode_at_every_chunk_size() {
        let unmasked = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
        let masked = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
        let fragmented = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f];
        for chunk in 1..=12 {
            let f = decode_chunked(&unmasked, chunk);
            assert_eq!(f.len(), 1);
            assert_eq!(f[0].1, b"Hello");
            let f = decode_chunked(&masked, chunk);
            assert_eq!(f[0].1, b"Hello");
            let f = decode_chunked(&fragmented, chunk);
            assert_eq!((f[0].0.opcode, f[0].0.fin), (OpCode::Text, false));
            assert_eq!((f[1].0.opcode, f[1].0.fin), (OpCode::Continuation, true));
            assert_eq!([f[0].1.clone(), f[1].1.clone()].concat(), b"Hello");
        }
    }

    #[test]
    fn s5_7_ping_and_masked_pong() {
        let ping = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
        let pong = [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
        assert_eq!(decode_chunked(&ping, 3)[0].0.opcode, OpCode::Ping);
        let f = decode_chunked(&pong, 1);
        assert_eq!((f[0].0.opcode, f[0].1.as_slice()), (OpCode::Pong, &b"Hello"[..]));
    }

    #[test]
    fn s5_2_empty_payload_yields_one_last_piece() {
        let mut decoder = FrameDecoder::new();
        let mut bytes = [0x82, 0x00];
        assert!(matches!(decoder.decode(&mut bytes), Ok(Step::Header { len: 2, .. })));
        assert_eq!(decoder.decode(&mut []), Ok(Step::Payload { len: 0, last: true }));
        assert!(decoder.at_frame_boundary());
    }
}
