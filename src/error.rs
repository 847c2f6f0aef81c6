//! Errors, sorted by whose fault they are.
//!
//! - [`ProtocolError`]: the peer sent bytes that break RFC 6455. Each one knows the close code
//!   that goes on the wire when the connection is failed (RFC 6455 §7.1.7, §7.4.1).
//! - [`HandshakeError`]: the opening handshake (§4) went wrong. Each one knows the HTTP status
//!   a server answers with.
//! - [`UsageError`]: the local caller asked for something the protocol forbids in the current
//!   state (sending after a close, an invalid close code, a control payload over 125 bytes).
//!
//! - [`TlsError`]: the TLS layer under a `wss://` connection failed (feature `tls`): a
//!   certificate that did not verify, a peer that does not speak TLS, a bad key file.
//!
//! [`Error`] wraps them all plus I/O errors from the blocking layer.

use std::fmt;

use crate::close::CloseCode;

/// The peer broke the protocol. Failing the connection sends a Close frame with
/// [`ProtocolError::close_code`] (RFC 6455 §7.1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProtocolError {
    /// RSV1, RSV2 or RSV3 set without an extension that defines it (§5.2).
    ReservedBitsSet,
    /// An opcode that §5.2 reserves (3-7, 11-15).
    UnknownOpcode(u8),
    /// A control frame with FIN clear (§5.5).
    FragmentedControlFrame,
    /// A control frame with more than 125 bytes of payload (§5.5).
    ControlFrameTooLong,
    /// A server received an unmasked frame (§5.1).
    UnmaskedClientFrame,
    /// A client received a masked frame (§5.1).
    MaskedServerFrame,
    /// A 64-bit payload length with its most significant bit set (§5.2).
    PayloadLengthOverflow,
    /// A continuation frame arrived with no message in progress (§5.4).
    UnexpectedContinuation,
    /// A text or binary frame arrived while a fragmented message was in progress (§5.4).
    ExpectedContinuation,
    /// A text message (or close reason) that is not valid UTF-8 (§8.1).
    InvalidUtf8,
    /// A compressed message (permessage-deflate, RFC 7692) that does not inflate.
    InvalidCompressedData,
    /// A close frame with a 1-byte payload (§5.5.1).
    CloseFrameTooShort,
    /// A close code that may not appear on the wire (§7.4).
    InvalidCloseCode(u16),
    /// A frame larger than [`crate::Limits::max_frame_size`].
    FrameTooLarge,
    /// A message larger than [`crate::Limits::max_message_size`].
    MessageTooLarge,
    /// The peer's data could not be processed for a reason of ours (close code 1011).
    InternalError,
}

impl ProtocolError {
    /// The close code that tells the peer why its connection was failed (§7.4.1).
    pub fn close_code(self) -> CloseCode {
        match self {
            ProtocolError::InvalidUtf8 | ProtocolError::InvalidCompressedData => CloseCode::INVALID_PAYLOAD,
            ProtocolError::FrameTooLarge | ProtocolError::MessageTooLarge => CloseCode::MESSAGE_TOO_BIG,
            ProtocolError::InternalError => CloseCode::INTERNAL_ERROR,
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            ProtocolError::ReservedBitsSet => "reserved bits set without a negotiated extension (RFC 6455 §5.2)",
            ProtocolError::UnknownOpcode(op) => return write!(f, "reserved opcode {op:#x} (RFC 6455 §5.2)"),
            ProtocolError::FragmentedControlFrame => "fragmented control frame (RFC 6455 §5.5)",
            ProtocolError::ControlFrameTooLong => "control frame payload over 125 bytes (RFC 6455 §5.5)",
            ProtocolError::UnmaskedClientFrame => "unmasked frame from a client (RFC 6455 §5.1)",
            ProtocolError::MaskedServerFrame => "masked frame from a server (RFC 6455 §5.1)",
            ProtocolError::PayloadLengthOverflow => "64-bit payload length with the top bit set (RFC 6455 §5.2)",
            ProtocolError::UnexpectedContinuation => "continuation frame with no message in progress (RFC 6455 §5.4)",
            ProtocolError::ExpectedContinuation => "new data frame inside a fragmented message (RFC 6455 §5.4)",
            ProtocolError::InvalidUtf8 => "invalid UTF-8 in text (RFC 6455 §8.1)",
            ProtocolError::InvalidCompressedData => "compressed message does not inflate (RFC 7692 §7.2.2)",
            ProtocolError::CloseFrameTooShort => "close frame with a 1-byte payload (RFC 6455 §5.5.1)",
            ProtocolError::InvalidCloseCode(code) => {
                return write!(f, "close code {code} is not allowed on the wire (RFC 6455 §7.4)");
            }
            ProtocolError::FrameTooLarge => "frame larger than the configured limit",
            ProtocolError::MessageTooLarge => "message larger than the configured limit",
            ProtocolError::InternalError => "internal error",
        };
        f.write_str(text)
    }
}

impl std::error::Error for ProtocolError {}

/// The opening handshake (§4) failed. A server answers with [`HandshakeError::http_status`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The bytes are not a well-formed HTTP message.
    MalformedHttp(&'static str),
    /// The request method is not GET (§4.2.1 item 1).
    MethodNotGet,
    /// Over HTTP/2, a WebSocket request whose method is not CONNECT (RFC 8441 §4, §5). A
    /// server answers 405 with `allow: CONNECT`.
    MethodNotConnect,
    /// The HTTP version is below 1.1 (§4.2.1 item 1).
    UnsupportedHttpVersion,
    /// No Host header (§4.2.1 item 2).
    MissingHost,
    /// No `Upgrade: websocket` (§4.2.1 item 3, §4.1 item 2 of the client's checks).
    MissingUpgrade,
    /// No `Connection: Upgrade` (§4.2.1 item 4).
    MissingConnectionUpgrade,
    /// Over HTTP/2, a CONNECT for a WebSocket without `:protocol` (RFC 8441 §5).
    MissingProtocol,
    /// Over HTTP/2, an extended CONNECT for a protocol other than `websocket` (RFC 8441 §4); a
    /// server answers 501 Not Implemented, as RFC 9220 §3 asks of the same request over HTTP/3.
    UnsupportedProtocol,
    /// `Sec-WebSocket-Key` missing, repeated, or not the base64 of 16 bytes (§4.2.1 item 5).
    InvalidKey,
    /// `Sec-WebSocket-Version` is not 13 (§4.2.1 item 6). A server answers 426 with
    /// `Sec-WebSocket-Version: 13` (§4.4).
    UnsupportedVersion,
    /// The request or response headers are larger than [`crate::Limits::max_handshake_size`],
    /// or have more header lines than the parser accepts.
    HeadersTooLarge,
    /// The server answered with a status other than 101 (§4.1).
    UnexpectedStatus(u16),
    /// The server answered with a status other than 101 (§4.1): its whole answer, headers and
    /// body, as the blocking client read it.
    Refused(Box<crate::handshake::Refusal>),
    /// `Sec-WebSocket-Accept` is missing or wrong (§4.1).
    InvalidAccept,
    /// The server chose a subprotocol the client did not offer (§4.1).
    UnofferedSubprotocol,
    /// The server answered with an extension the client did not offer (§4.1).
    UnofferedExtension,
    /// The server's answer to an extension offer breaks the extension's rules (RFC 7692 §7.1
    /// for permessage-deflate).
    InvalidExtension(&'static str),
    /// The handshake would agree on an extension the connection does not run (any but
    /// permessage-deflate, or permessage-deflate offered by hand rather than through a
    /// `DeflateConfig`): frames using it would fail the connection, so the handshake fails
    /// instead (RFC 6455 §5.2, §9.1). A server that meant to send such an answer answers 500.
    UnsupportedExtension,
    /// The request was plain HTTP, not an upgrade, and the application answered it (a page, a
    /// health check): the connection did not become a WebSocket, and nobody did anything wrong.
    AnsweredOverHttp {
        /// The status the application answered with.
        status: u16,
    },
    /// The application declined the request (its own status and reason).
    Rejected {
        /// HTTP status to answer with.
        status: u16,
        /// Why, sent as the response body.
        reason: String,
    },
    /// The URL is not a valid `ws://` or `wss://` URI (§3).
    InvalidUri(&'static str),
    /// The server's HTTP/2 SETTINGS do not allow WebSockets (no
    /// `SETTINGS_ENABLE_CONNECT_PROTOCOL = 1`, RFC 8441 §3), so the client may not send its
    /// extended CONNECT (§3, §6): connect over HTTP/1.1 instead.
    ExtendedConnectDisabled,
}

impl HandshakeError {
    /// The HTTP status a server answers this failure with over HTTP/1.1 (§4.2.2, §4.4). Over
    /// HTTP/2, [`h2_server::reject`](crate::handshake::h2_server::reject) answers 400 where
    /// this says 426 (HTTP/2 has no `Upgrade` header for a 426 to carry).
    pub fn http_status(&self) -> u16 {
        match self {
            HandshakeError::MethodNotGet | HandshakeError::MethodNotConnect => 405,
            HandshakeError::UnsupportedVersion => 426,
            HandshakeError::HeadersTooLarge => 431,
            HandshakeError::UnsupportedProtocol => 501,
            HandshakeError::UnsupportedExtension => 500,
            HandshakeError::Rejected { status, .. } | HandshakeError::AnsweredOverHttp { status } => *status,
            _ => 400,
        }
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::MalformedHttp(why) => write!(f, "malformed HTTP: {why}"),
            HandshakeError::MethodNotGet => f.write_str("the opening handshake must be a GET (RFC 6455 §4.2.1)"),
            HandshakeError::MethodNotConnect => {
                f.write_str("a WebSocket over HTTP/2 is opened with an extended CONNECT (RFC 8441 §4)")
            }
            HandshakeError::MissingProtocol => {
                f.write_str("a CONNECT for a WebSocket needs :protocol websocket (RFC 8441 §5)")
            }
            HandshakeError::UnsupportedProtocol => {
                f.write_str("this server speaks only :protocol websocket over extended CONNECT (RFC 8441 §4)")
            }
            HandshakeError::UnsupportedHttpVersion => f.write_str("HTTP/1.1 or later is required (RFC 6455 §4.2.1)"),
            HandshakeError::MissingHost => f.write_str("missing Host header (RFC 6455 §4.2.1)"),
            HandshakeError::MissingUpgrade => f.write_str("missing or wrong Upgrade header (RFC 6455 §4.2.1)"),
            HandshakeError::MissingConnectionUpgrade => {
                f.write_str("Connection header lacks the Upgrade token (RFC 6455 §4.2.1)")
            }
            HandshakeError::InvalidKey => f.write_str("Sec-WebSocket-Key must be base64 of 16 bytes (RFC 6455 §4.2.1)"),
            HandshakeError::UnsupportedVersion => f.write_str("Sec-WebSocket-Version must be 13 (RFC 6455 §4.4)"),
            HandshakeError::HeadersTooLarge => f.write_str("handshake headers too large"),
            HandshakeError::UnexpectedStatus(code) => write!(f, "server answered {code}, not 101 (RFC 6455 §4.1)"),
            HandshakeError::Refused(refusal) => {
                write!(f, "server answered {}, not 101 (RFC 6455 §4.1)", refusal.status())
            }
            HandshakeError::InvalidAccept => f.write_str("missing or wrong Sec-WebSocket-Accept (RFC 6455 §4.1)"),
            HandshakeError::UnofferedSubprotocol => {
                f.write_str("server chose a subprotocol that was not offered (RFC 6455 §4.1)")
            }
            HandshakeError::UnofferedExtension => {
                f.write_str("server chose an extension that was not offered (RFC 6455 §4.1)")
            }
            HandshakeError::InvalidExtension(why) => write!(f, "invalid extension negotiation: {why}"),
            HandshakeError::UnsupportedExtension => f.write_str(
                "an extension was agreed that the connection does not run (only permessage-deflate, \
                 offered through DeflateConfig; RFC 6455 §9.1)",
            ),
            HandshakeError::Rejected { status, reason } => write!(f, "rejected with {status}: {reason}"),
            HandshakeError::AnsweredOverHttp { status } => write!(f, "plain HTTP request answered with {status}"),
            HandshakeError::InvalidUri(why) => write!(f, "invalid WebSocket URI: {why} (RFC 6455 §3)"),
            HandshakeError::ExtendedConnectDisabled => {
                f.write_str("the server does not allow WebSockets over HTTP/2 (RFC 8441 §3)")
            }
        }
    }
}

impl std::error::Error for HandshakeError {}

/// The local caller did something the protocol does not allow in the current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UsageError {
    /// A data frame or ping after this side sent a Close (§5.5.1).
    AlreadyClosing,
    /// The connection is closed or failed; nothing more can be sent.
    Closed,
    /// A control frame payload over 125 bytes (§5.5).
    ControlPayloadTooLong,
    /// A close code that may not be sent (§7.4): 1005, 1006, 1015, or outside the ranges.
    InvalidCloseCode(u16),
    /// A close reason that does not fit in 123 bytes (§5.5.1).
    CloseReasonTooLong,
    /// The output buffer is over [`crate::Limits::max_output_buffer`]: write it out first.
    OutputBufferFull,
    /// More received bytes than [`crate::Limits::max_input_buffer`] are waiting to be
    /// decoded: pull events before handing in more.
    InputBufferFull,
    /// The compressor failed (permessage-deflate); the connection cannot go on
    /// ([`Error::is_fatal`]).
    CompressionFailed,
    /// [`crate::blocking::WebSocket::read`] returns whole messages, but the connection is
    /// configured for [`crate::Delivery::Streaming`]: use `read_with`.
    StreamingDelivery,
    /// A continuation of a fragmented message with none started, or a new message while one
    /// is being sent in fragments (§5.4).
    FragmentationOrder,
    /// Limits that cannot work together (see [`crate::Limits::validate`]), refused when the
    /// configuration is built.
    InvalidLimits(&'static str),
    /// Deadlines that cannot work (see [`crate::Timers::validate`]): a zero duration.
    InvalidTimers(&'static str),
    /// Bytes sent as text that are not UTF-8 (§5.6: a text message's payload is UTF-8; the
    /// peer would fail the connection with 1007, §8.1). Nothing was queued.
    InvalidUtf8,
    /// [`crate::Connection::send_received`] with no whole message just handed out: it sends
    /// the message the last event carried, before anything else is received.
    NoReceivedMessage,
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageError::AlreadyClosing => {
                f.write_str("a Close was already sent; no more data may follow (RFC 6455 §5.5.1)")
            }
            UsageError::Closed => f.write_str("the connection is closed"),
            UsageError::ControlPayloadTooLong => f.write_str("control frame payload over 125 bytes (RFC 6455 §5.5)"),
            UsageError::InvalidCloseCode(code) => write!(f, "close code {code} may not be sent (RFC 6455 §7.4)"),
            UsageError::CloseReasonTooLong => f.write_str("close reason over 123 bytes (RFC 6455 §5.5.1)"),
            UsageError::OutputBufferFull => f.write_str("output buffer full: write out pending bytes first"),
            UsageError::InputBufferFull => f.write_str("input buffer full: pull events before receiving more"),
            UsageError::CompressionFailed => f.write_str("the compressor failed"),
            UsageError::StreamingDelivery => {
                f.write_str("streaming delivery hands out pieces, not whole messages: use read_with")
            }
            UsageError::FragmentationOrder => f.write_str("fragments out of order (RFC 6455 §5.4)"),
            UsageError::InvalidUtf8 => f.write_str("text to send is not valid UTF-8 (RFC 6455 §5.6)"),
            UsageError::NoReceivedMessage => f.write_str("no received message to send: the last event was not one"),
            UsageError::InvalidLimits(why) => write!(f, "invalid limits: {why}"),
            UsageError::InvalidTimers(why) => write!(f, "invalid timers: {why}"),
        }
    }
}

impl std::error::Error for UsageError {}

/// What went wrong in the TLS layer of a `wss://` connection (feature `tls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlsErrorKind {
    /// The peer's certificate chain does not lead to a trusted root (self-signed, or signed by
    /// a CA the client was not told to trust).
    UnknownIssuer,
    /// The certificate is valid, but not for the host name (or IP address) connected to.
    WrongHostName,
    /// The certificate has expired.
    Expired,
    /// The certificate is not valid yet.
    NotYetValid,
    /// The certificate was revoked.
    Revoked,
    /// The certificate is unusable for another reason (bad signature, wrong purpose, malformed).
    BadCertificate,
    /// The peer sent a TLS alert and gave up: typically it refused our certificate.
    PeerAlert,
    /// The peer does not speak TLS: plain HTTP (or `ws://`) or garbage arrived on a TLS port.
    NotTls,
    /// The TLS handshake failed otherwise (no common protocol version or cipher suite, a
    /// corrupt record).
    Handshake,
    /// A certificate, key or configuration could not be loaded or used.
    Config,
}

/// A TLS failure: its kind and the TLS library's own words.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TlsError {
    /// What kind of failure.
    pub kind: TlsErrorKind,
    /// The details.
    pub detail: String,
}

impl TlsError {
    /// A failure of this kind with these details.
    pub fn new(kind: TlsErrorKind, detail: impl Into<String>) -> Self {
        TlsError { kind, detail: detail.into() }
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TlsErrorKind::UnknownIssuer => "certificate verification failed: unknown issuer",
            TlsErrorKind::WrongHostName => "certificate verification failed: wrong host name",
            TlsErrorKind::Expired => "certificate verification failed: expired",
            TlsErrorKind::NotYetValid => "certificate verification failed: not valid yet",
            TlsErrorKind::Revoked => "certificate verification failed: revoked",
            TlsErrorKind::BadCertificate => "certificate verification failed",
            TlsErrorKind::PeerAlert => "the peer aborted the TLS handshake",
            TlsErrorKind::NotTls => "the peer does not speak TLS",
            TlsErrorKind::Handshake => "TLS handshake failed",
            TlsErrorKind::Config => "TLS configuration error",
        };
        write!(f, "{what} ({})", self.detail)
    }
}

impl std::error::Error for TlsError {}

/// Any error of this crate.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The peer broke the protocol; the connection was failed.
    Protocol(ProtocolError),
    /// The opening handshake failed.
    Handshake(HandshakeError),
    /// The caller's misuse.
    Usage(UsageError),
    /// The transport ended without a closing handshake (close code 1006 in §7.1.5 terms).
    ConnectionReset,
    /// The connection is closed: the closing handshake finished (or the peer gave up on it),
    /// and nothing more will arrive.
    Closed,
    /// An I/O error from the blocking layer.
    Io(std::io::Error),
    /// The TLS layer of a `wss://` connection failed (feature `tls`).
    Tls(TlsError),
    /// A deadline of the connection's [`crate::Timers`] passed: a keepalive Ping went
    /// unanswered (1011 was sent) or the peer was idle too long (1001 was sent). The
    /// connection is over; unlike [`Self::is_timeout`], calling again does not help.
    TimedOut(crate::timers::Deadline),
}

impl Error {
    /// Whether the error ends the connection. Protocol, handshake and TLS failures, a reset
    /// or closed connection and I/O errors do, as do [`UsageError::CompressionFailed`] (the
    /// compressor's state is lost) and [`UsageError::Closed`]. The rest leave the connection
    /// usable: the other usage errors (nothing was queued; fix the call or, for
    /// [`UsageError::OutputBufferFull`] and [`UsageError::InputBufferFull`], write or pull
    /// first), a timeout ([`Self::is_timeout`]: call again) and an interrupted system call.
    pub fn is_fatal(&self) -> bool {
        match self {
            Error::Usage(e) => matches!(e, UsageError::CompressionFailed | UsageError::Closed),
            Error::Io(e) => !(self.is_timeout() || e.kind() == std::io::ErrorKind::Interrupted),
            Error::Protocol(_)
            | Error::Handshake(_)
            | Error::ConnectionReset
            | Error::Closed
            | Error::Tls(_)
            | Error::TimedOut(_) => true,
        }
    }

    /// Whether the error is a timeout: a socket read or write timeout passed (an I/O error of
    /// kind `WouldBlock`, as Unix reports a read timeout, or `TimedOut`). On an open
    /// connection nothing is lost: the same call can be made again. During the opening
    /// handshake it means the handshake took too long.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Io(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Protocol(e) => write!(f, "protocol error: {e}"),
            Error::Handshake(e) => write!(f, "handshake failed: {e}"),
            Error::Usage(e) => write!(f, "usage error: {e}"),
            Error::ConnectionReset => f.write_str("connection closed without a closing handshake"),
            Error::Closed => f.write_str("connection closed"),
            // The OS text of a read timeout ("Resource temporarily unavailable") hides what
            // happened; a message of our own (`io::Error::new`) is kept.
            Error::Io(e) if self.is_timeout() && e.get_ref().is_some() => write!(f, "timed out: {e}"),
            Error::Io(_) if self.is_timeout() => {
                f.write_str("timed out: the read or write did not complete before its timeout")
            }
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::Tls(e) => write!(f, "TLS: {e}"),
            Error::TimedOut(deadline) => write!(f, "connection failed: {deadline}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Protocol(e) => Some(e),
            Error::Handshake(e) => Some(e),
            Error::Usage(e) => Some(e),
            Error::Io(e) => Some(e),
            Error::Tls(e) => Some(e),
            Error::ConnectionReset | Error::Closed | Error::TimedOut(_) => None,
        }
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Error::Protocol(e)
    }
}
impl From<HandshakeError> for Error {
    fn from(e: HandshakeError) -> Self {
        Error::Handshake(e)
    }
}
impl From<UsageError> for Error {
    fn from(e: UsageError) -> Self {
        Error::Usage(e)
    }
}
impl From<TlsError> for Error {
    fn from(e: TlsError) -> Self {
        Error::Tls(e)
    }
}
impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{self, ErrorKind};

    /// Every usage error, each with whether it ends the connection. The `match` has no
    /// wildcard, so a new variant does not compile until it is added here.
    fn every_usage_error() -> Vec<(UsageError, bool)> {
        let all = [
            (UsageError::AlreadyClosing, false),
            (UsageError::Closed, true),
            (UsageError::ControlPayloadTooLong, false),
            (UsageError::InvalidCloseCode(1005), false),
            (UsageError::CloseReasonTooLong, false),
            (UsageError::OutputBufferFull, false),
            (UsageError::InputBufferFull, false),
            (UsageError::CompressionFailed, true),
            (UsageError::StreamingDelivery, false),
            (UsageError::FragmentationOrder, false),
            (UsageError::InvalidUtf8, false),
            (UsageError::InvalidLimits("x"), false),
            (UsageError::InvalidTimers("x"), false),
            (UsageError::NoReceivedMessage, false),
        ];
        for (e, _) in &all {
            match e {
                UsageError::AlreadyClosing
                | UsageError::Closed
                | UsageError::ControlPayloadTooLong
                | UsageError::InvalidCloseCode(_)
                | UsageError::CloseReasonTooLong
                | UsageError::OutputBufferFull
                | UsageError::InputBufferFull
                | UsageError::CompressionFailed
                | UsageError::StreamingDelivery
                | UsageError::FragmentationOrder
                | UsageError::InvalidUtf8
                | UsageError::InvalidLimits(_)
                | UsageError::InvalidTimers(_)
                | UsageError::NoReceivedMessage => {}
            }
        }
        all.to_vec()
    }

    /// Every kind of [`Error`], with (fatal, timeout); the same no-wildcard `match` guard.
    fn every_error() -> Vec<(Error, bool, bool)> {
        let mut all = vec![
            (Error::Protocol(ProtocolError::InvalidUtf8), true, false),
            (Error::Protocol(ProtocolError::ReservedBitsSet), true, false),
            (Error::Handshake(HandshakeError::InvalidAccept), true, false),
            (Error::ConnectionReset, true, false),
            (Error::Closed, true, false),
            (Error::Tls(TlsError::new(TlsErrorKind::Handshake, "x")), true, false),
            (Error::Io(ErrorKind::WouldBlock.into()), false, true),
            (Error::Io(ErrorKind::TimedOut.into()), false, true),
            (Error::Io(io::Error::from_raw_os_error(11)), false, true),
            (Error::Io(ErrorKind::Interrupted.into()), false, false),
            (Error::Io(ErrorKind::ConnectionReset.into()), true, false),
            (Error::Io(ErrorKind::BrokenPipe.into()), true, false),
            (Error::Io(ErrorKind::UnexpectedEof.into()), true, false),
            (Error::TimedOut(crate::timers::Deadline::Keepalive), true, false),
        ];
        all.extend(every_usage_error().into_iter().map(|(e, fatal)| (Error::Usage(e), fatal, false)));
        for (e, _, _) in &all {
            match e {
                Error::Protocol(_)
                | Error::Handshake(_)
                | Error::Usage(_)
                | Error::ConnectionReset
                | Error::Closed
                | Error::Io(_)
                | Error::Tls(_)
                | Error::TimedOut(_) => {}
            }
        }
        all
    }

    #[test]
    fn is_fatal_and_is_timeout_for_every_variant() {
        for (error, fatal, timeout) in every_error() {
            assert_eq!(error.is_fatal(), fatal, "is_fatal of {error:?}");
            assert_eq!(error.is_timeout(), timeout, "is_timeout of {error:?}");
        }
    }

    #[test]
    fn a_read_timeout_is_recoverable_and_says_timed_out() {
        // What a blocking read returns on Linux when the read timeout passes (EAGAIN).
        let error = Error::from(io::Error::from_raw_os_error(11));
        assert!(error.is_timeout() && !error.is_fatal());
        let shown = error.to_string();
        assert!(shown.starts_with("timed out"), "{shown}");
        assert!(!shown.contains("Resource temporarily unavailable"), "{shown}");
        // A timeout with a message of its own keeps it.
        let error = Error::Io(io::Error::new(ErrorKind::TimedOut, "the TLS handshake did not finish in time"));
        assert_eq!(error.to_string(), "timed out: the TLS handshake did not finish in time");
    }

    #[test]
    fn compression_failure_is_fatal_as_documented() {
        assert!(Error::Usage(UsageError::CompressionFailed).is_fatal());
        assert!(!Error::Usage(UsageError::OutputBufferFull).is_fatal());
    }
}
