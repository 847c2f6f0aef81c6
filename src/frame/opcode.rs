//! Opcodes (RFC 6455 §5.2, §11.8): what a frame carries.
//!
//! ```text
//! %x0 continuation   %x1 text   %x2 binary   %x3-7 reserved (data)
//! %x8 close          %x9 ping   %xA pong     %xB-F reserved (control)
//! ```
//! Opcodes with the high bit set (`0x8` and above) are control frames (§5.5).

use crate::error::ProtocolError;

/// A frame's opcode. Reserved values never become an `OpCode`: they fail with 1002.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// `0x0`: the next fragment of a message (§5.4).
    Continuation,
    /// `0x1`: the first frame of a text message.
    Text,
    /// `0x2`: the first frame of a binary message.
    Binary,
    /// `0x8`: starts or answers the closing handshake (§5.5.1).
    Close,
    /// `0x9`: asks for a Pong (§5.5.2).
    Ping,
    /// `0xA`: answers a Ping, or a unidirectional heartbeat (§5.5.3).
    Pong,
}

impl OpCode {
    /// Whether this is a control frame (§5.5: opcodes whose most significant bit is 1).
    pub fn is_control(self) -> bool {
        matches!(self, OpCode::Close | OpCode::Ping | OpCode::Pong)
    }

    /// The 4-bit value on the wire.
    pub fn as_u8(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xA,
        }
    }
}

impl TryFrom<u8> for OpCode {
    type Error = ProtocolError;

    /// RFC 6455 §5.2: "If an unknown opcode is received, the receiving endpoint MUST _Fail the
    /// WebSocket Connection_."
    fn try_from(value: u8) -> Result<Self, ProtocolError> {
        match value {
            0x0 => Ok(OpCode::Continuation),
            0x1 => Ok(OpCode::Text),
            0x2 => Ok(OpCode::Binary),
            0x8 => Ok(OpCode::Close),
            0x9 => Ok(OpCode::Ping),
            0xA => Ok(OpCode::Pong),
            other => Err(ProtocolError::UnknownOpcode(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s5_2_every_4_bit_value_round_trips_or_is_reserved() {
        for value in 0u8..16 {
            match OpCode::try_from(value) {
                Ok(op) => {
                    assert_eq!(op.as_u8(), value);
                    assert_eq!(op.is_control(), value >= 8);
                }
                Err(e) => {
                    assert!(matches!(value, 3..=7 | 0xB..=0xF), "{value} wrongly reserved");
                    assert_eq!(e, ProtocolError::UnknownOpcode(value));
                }
            }
        }
    }
}
