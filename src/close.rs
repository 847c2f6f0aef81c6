//! Close codes and Close frame payloads (RFC 6455 §5.5.1, §7.4).
//!
//! A Close frame's payload is empty, or a 2-byte big-endian status code followed by a UTF-8
//! reason. [`CloseCode::is_allowed_on_wire`] says which codes may travel in a frame;
//! [`parse_close_payload`] checks a received payload; `close_payload` builds one for the send path.
//!
//! Which codes are allowed (see `docs/decisions.md`): §7.4.1 defines 1000-1011 minus the
//! reserved 1004, 1005, 1006; the IANA "WebSocket Close Code Number Registry" (§11.7) has since
//! registered 1012 (Service Restart), 1013 (Try Again Later) and 1014 (Bad Gateway) for use on
//! the wire, so they are accepted too. 1015 is reserved like 1005/1006 (§7.4.1: "MUST NOT be
//! set as a status code in a Close control frame"). 3000-4999 are for libraries, frameworks and
//! applications (§7.4.2). Everything else (0-999, 1016-2999, 5000+) is invalid.

use std::fmt;

use crate::error::ProtocolError;
use crate::utf8;

/// A close status code (RFC 6455 §7.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: the purpose of the connection has been fulfilled.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: a type of data the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1005: no status code was present (never sent; reported locally).
    pub const NO_STATUS_RECEIVED: CloseCode = CloseCode(1005);
    /// 1006: the connection closed without a Close frame (never sent; reported locally).
    pub const ABNORMAL: CloseCode = CloseCode(1006);
    /// 1007: data inconsistent with the message type (invalid UTF-8 in text).
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: a message that violates the endpoint's policy.
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: a message too big to process.
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: the client expected an extension the server did not negotiate.
    pub const MANDATORY_EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);
    /// 1012: the service is restarting (IANA registry).
    pub const SERVICE_RESTART: CloseCode = CloseCode(1012);
    /// 1013: try again later (IANA registry).
    pub const TRY_AGAIN_LATER: CloseCode = CloseCode(1013);
    /// 1014: bad gateway (IANA registry).
    pub const BAD_GATEWAY: CloseCode = CloseCode(1014);
    /// 1015: the TLS handshake failed (never sent; reported locally).
    pub const TLS_HANDSHAKE: CloseCode = CloseCode(1015);

    /// Whether this code may appear in a Close frame (§7.4.1, §7.4.2, IANA registry).
    pub fn is_allowed_on_wire(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        CloseCode(code)
    }
}

/// The longest close reason: 125 bytes of control payload minus the 2-byte code (§5.5).
pub const MAX_REASON_LEN: usize = 123;

/// Check a received Close payload and split it into code and reason (RFC 6455 §5.5.1).
///
/// An empty payload gives `None`: no code was sent (reported as 1005 by §7.1.5).
pub fn parse_close_payload(payload: &[u8]) -> Result<Option<(CloseCode, &str)>, ProtocolError> {
    match payload {
        [] => Ok(None),
        // RFC 6455 §5.5.1: if there is a body, its first two bytes MUST be a status code.
        [_] => Err(ProtocolError::CloseFrameTooShort),
        [hi, lo, reason @ ..] => {
            let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
            // RFC 6455 §7.4: only the defined and registered ranges may be on the wire.
            if !code.is_allowed_on_wire() {
                return Err(ProtocolError::InvalidCloseCode(code.0));
            }
            // RFC 6455 §5.5.1: the reason is UTF-8 (invalid data → 1007, §8.1).
            let reason = utf8::validate_str(reason).ok_or(ProtocolError::InvalidUtf8)?;
            Ok(Some((code, reason)))
        }
    }
}

/// Build a Close payload for `code` and `reason` (§5.5.1): the code big-endian, then the
/// reason, cut to fit 125 bytes. Returns the buffer and the payload's length.
pub(crate) fn close_payload(code: Option<CloseCode>, reason: &str) -> ([u8; 125], usize) {
    let mut payload = [0u8; 125];
    let Some(code) = code else { return (payload, 0) };
    payload[..2].copy_from_slice(&code.0.to_be_bytes());
    let reason = &reason.as_bytes()[..reason.len().min(MAX_REASON_LEN)];
    payload[2..2 + reason.len()].copy_from_slice(reason);
    (payload, 2 + reason.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s7_4_allowed_codes_match_the_table() {
        for code in 0..=u16::MAX {
            let expected = matches!(code, 1000 | 1001 | 1002 | 1003 | 1007 | 1008 | 1009 | 1010 | 1011)
                || matches!(code, 1012..=1014)
                || (3000..=4999).contains(&code);
            assert_eq!(CloseCode(code).is_allowed_on_wire(), expected, "code {code}");
        }
    }

    #[test]
    fn s7_4_1_reserved_codes_are_refused() {
        for code in [1004u16, 1005, 1006, 1015] {
            let payload = code.to_be_bytes();
            assert_eq!(parse_close_payload(&payload), Err(ProtocolError::InvalidCloseCode(code)));
        }
    }

    #[test]
    fn s5_5_1_empty_close_payload_has_no_code() {
        assert_eq!(parse_close_payload(&[]), Ok(None));
    }

    #[test]
    fn s5_5_1_one_byte_close_payload_fails_with_1002() {
        let err = parse_close_payload(&[0x03]).unwrap_err();
        assert_eq!(err, ProtocolError::CloseFrameTooShort);
        assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
    }

    #[test]
    fn s5_5_1_close_reason_must_be_utf8() {
        let err = parse_close_payload(&[0x03, 0xe8, 0xff]).unwrap_err();
        assert_eq!(err.close_code(), CloseCode::INVALID_PAYLOAD);
        assert_eq!(parse_close_payload(&[0x03, 0xe8, b'o', b'k']), Ok(Some((CloseCode::NORMAL, "ok"))));
    }
}
