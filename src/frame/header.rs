//! The frame header (RFC 6455 §5.2): parsing and writing the 2 to 14 bytes before a payload.
//!
//! ```text
//!   0                   1                   2                   3
//!   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//!  +-+-+-+-+-------+-+-------------+-------------------------------+
//!  |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//!  |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//!  |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//!  | |1|2|3|       |K|             |                               |
//!  +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//!  |     Extended payload length continued, if payload len == 127  |
//!  + - - - - - - - - - - - - - - - +-------------------------------+
//!  |                               |Masking-key, if MASK set to 1  |
//!  +-------------------------------+-------------------------------+
//!  | Masking-key (continued)       |          Payload Data         |
//!  +-------------------------------- - - - - - - - - - - - - - - - +
//! ```
//!
//! [`FrameHeader::parse`] checks only what the header alone decides: reserved opcodes, the
//! shape of control frames and the 64-bit length. Role and extension checks (masking, RSV bits)
//! and limits belong to the connection, which knows its configuration.

use crate::error::ProtocolError;
use crate::frame::OpCode;

/// The longest header: 2 bytes, 8 bytes of extended length, 4 bytes of masking key.
pub const MAX_HEADER_LEN: usize = 14;

/// The RSV1 bit in the first header byte; permessage-deflate marks compressed messages with it.
pub const RSV1: u8 = 0x40;

/// The largest control frame payload (§5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Last fragment of its message (§5.2 FIN).
    pub fin: bool,
    /// The three reserved bits as they appear in the first byte: `0x40` RSV1, `0x20` RSV2,
    /// `0x10` RSV3.
    pub rsv: u8,
    /// What the frame carries.
    pub opcode: OpCode,
    /// The masking key, when the MASK bit is set (§5.3).
    pub masking_key: Option<[u8; 4]>,
    /// The payload length in bytes.
    pub payload_len: u64,
}

impl FrameHeader {
    /// Parse a header from the start of `bytes`.
    ///
    /// Returns `Ok(None)` when more bytes are needed, or the header and its length in bytes.
    pub fn parse(bytes: &[u8]) -> Result<Option<(FrameHeader, usize)>, ProtocolError> {
        let [first, second, ..] = *bytes else {
            return Ok(None);
        };
        let fin = first & 0x80 != 0;
        let rsv = first & 0x70;
        // RFC 6455 §5.2: an unknown opcode MUST fail the connection.
        let opcode = OpCode::try_from(first & 0x0F)?;
        let masked = second & 0x80 != 0;
        let len7 = second & 0x7F;

        if opcode.is_control() {
            // RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or
            // less and MUST NOT be fragmented."
            if !fin {
                return Err(ProtocolError::FragmentedControlFrame);
            }
            if len7 as usize > MAX_CONTROL_PAYLOAD {
                return Err(ProtocolError::ControlFrameTooLong);
            }
        }

        let (payload_len, mut pos) = match len7 {
            126 => {
                let Some(ext) = bytes.get(2..4) else { return Ok(None) };
                (u64::from(u16::from_be_bytes([ext[0], ext[1]])), 4)
            }
            127 => {
                let Some(ext) = bytes.get(2..10) else { return Ok(None) };
                let mut be = [0u8; 8];
                be.copy_from_slice(ext);
                let len = u64::from_be_bytes(be);
                // RFC 6455 §5.2: "the most significant bit MUST be 0".
                if len >> 63 != 0 {
                    return Err(ProtocolError::PayloadLengthOverflow);
                }
                (len, 10)
            }
            short => (u64::from(short), 2),
        };

        let masking_key = if masked {
            let Some(key) = bytes.get(pos..pos + 4) else { return Ok(None) };
            pos += 4;
            Some([key[0], key[1], key[2], key[3]])
        } else {
            None
        };

        Ok(Some((FrameHeader { fin, rsv, opcode, masking_key, payload_len }, pos)))
    }

    /// How many bytes [`FrameHeader::write`] produces for this header.
    pub fn encoded_len(&self) -> usize {
        let ext = match self.payload_len {
            0..=125 => 0,
            126..=0xFFFF => 2,
            _ => 8,
        };
        2 + ext + if self.masking_key.is_some() { 4 } else { 0 }
    }

    /// Write the header into `out`, always using the shortest length form (§5.2). Returns the
    /// number of bytes written.
    pub fn write(&self, out: &mut [u8; MAX_HEADER_LEN]) -> usize {
        let mut pos = 0;
        self.emit(|bytes| {
            out[pos..pos + bytes.len()].copy_from_slice(bytes);
            pos += bytes.len();
        });
        pos
    }

    /// Append the header to `out`, always using the shortest length form (§5.2). The encoder's
    /// path: fixed-size pieces go straight into the output buffer.
    pub fn append_to(&self, out: &mut Vec<u8>) {
        self.emit(|bytes| out.extend_from_slice(bytes));
    }

    /// The header's bytes in order, as fixed-size pieces (2 bytes, then 2 or 8 bytes of extended
    /// length, then the 4-byte masking key), so that every copy has a length the compiler knows.
    fn emit(&self, mut put: impl FnMut(&[u8])) {
        let first = (u8::from(self.fin) << 7) | (self.rsv & 0x70) | self.opcode.as_u8();
        let mask_bit = if self.masking_key.is_some() { 0x80 } else { 0 };
        match self.payload_len {
            len @ 0..=125 => put(&[first, mask_bit | len as u8]),
            len @ 126..=0xFFFF => {
                put(&[first, mask_bit | 126]);
                put(&(len as u16).to_be_bytes());
            }
            len => {
                put(&[first, mask_bit | 127]);
                put(&len.to_be_bytes());
            }
        }
        if let Some(key) = self.masking_key {
            put(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(bytes: &[u8]) -> (FrameHeader, usize) {
        FrameHeader::parse(bytes).expect("valid").expect("complete")
    }

    #[test]
    fn s5_7_unmasked_hello_header() {
        let (h, len) = parse_all(&[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        assert_eq!(len, 2);
        assert!(h.fin);
        assert_eq!(h.opcode, OpCode::Text);
        assert_eq!(h.payload_len, 5);
        assert_eq!(h.masking_key, None);
    }

    #[test]
    fn s5_7_masked_hello_header() {
        let (h, len) = parse_all(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f]);
        assert_eq!(len, 6);
        assert_eq!(h.masking_key, Some([0x37, 0xfa, 0x21, 0x3d]));
    }

    #[test]
    fn s5_7_256_and_65536_byte_length_forms() {
        let (h, len) = parse_all(&[0x82, 0x7E, 0x01, 0x00]);
        assert_eq!((h.payload_len, len), (256, 4));
        let (h, len) = parse_all(&[0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]);
        assert_eq!((h.payload_len, len), (65536, 10));
    }

    #[test]
    fn s5_2_every_prefix_of_a_header_asks_for_more() {
        let full = [0x82, 0xFF, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00, 1, 2, 3, 4];
        for cut in 0..full.len() {
            assert_eq!(FrameHeader::parse(&full[..cut]), Ok(None), "cut at {cut}");
        }
        assert_eq!(parse_all(&full).1, 14);
    }

    #[test]
    fn s5_2_64_bit_length_with_top_bit_fails() {
        let bytes = [0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(FrameHeader::parse(&bytes), Err(ProtocolError::PayloadLengthOverflow));
    }

    #[test]
    fn s5_5_control_frame_over_125_fails_with_1002() {
        let err = FrameHeader::parse(&[0x89, 0x7E, 0x00, 0x7E]).unwrap_err();
        assert_eq!(err, ProtocolError::ControlFrameTooLong);
        assert_eq!(err.close_code().0, 1002);
    }

    #[test]
    fn s5_5_fragmented_control_frame_fails_with_1002() {
        assert_eq!(FrameHeader::parse(&[0x09, 0x00]), Err(ProtocolError::FragmentedControlFrame));
    }

    #[test]
    fn s5_2_reserved_opcode_fails_with_1002() {
        assert_eq!(FrameHeader::parse(&[0x83, 0x00]), Err(ProtocolError::UnknownOpcode(3)));
        assert_eq!(FrameHeader::parse(&[0x8B, 0x00]), Err(ProtocolError::UnknownOpcode(0xB)));
    }

    #[test]
    fn s5_2_write_uses_the_minimal_length_form_and_parses_back() {
        for len in [0u64, 1, 125, 126, 127, 0xFFFF, 0x1_0000, u64::MAX >> 1] {
            for masking_key in [None, Some([1, 2, 3, 4])] {
                let h =
                    FrameHeader { fin: len % 2 == 0, rsv: 0x40, opcode: OpCode::Binary, masking_key, payload_len: len };
                let mut out = [0u8; MAX_HEADER_LEN];
                let n = h.write(&mut out);
                assert_eq!(n, h.encoded_len());
                // RFC 6455 §5.2: the minimal number of bytes MUST be used for the length.
                let minimal = match len {
                    0..=125 => 2,
                    126..=0xFFFF => 4,
                    _ => 10,
                };
                assert_eq!(n - if masking_key.is_some() { 4 } else { 0 }, minimal);
                assert_eq!(parse_all(&out[..n]), (h, n));
            }
        }
    }
}
