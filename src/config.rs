//! Configuration of a connection: its role, its limits and its options.
//!
//! The role decides masking (RFC 6455 §5.1, §5.3): a client masks every frame it sends and
//! refuses masked frames; a server does the reverse. Limits bound every buffer the connection
//! owns, so a peer cannot make it use more memory than the user allowed. Masking keys come from
//! the [`MaskKeySource`] in the configuration, never from a global generator, so a test or a
//! fuzzer can seed it.

use rand::rngs::StdRng;

use crate::error::UsageError;
use crate::extensions::permessage_deflate::Deflate;
use crate::frame::MAX_HEADER_LEN;
use crate::observe::{Observer, ObserverSlot};
use crate::timers::Timers;
use rand::{Rng, SeedableRng};
use std::sync::Arc;

/// Which end of the connection this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Opened the connection; masks what it sends (§5.3).
    Client,
    /// Accepted the connection; never masks (§5.1).
    Server,
}

/// Bounds on every buffer a connection owns. A peer that exceeds one is failed with 1009
/// (frame and message size) or, during the handshake, answered 431.
///
/// [`Config::with_limits`] checks them with [`Limits::validate`]: limits that cannot work
/// together are refused when the configuration is built, not discovered on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest payload of one received data frame, in bytes (control frames are at most 125
    /// bytes by §5.5).
    pub max_frame_size: usize,
    /// Largest received message, all fragments together, in bytes (inflated size with
    /// permessage-deflate), when whole messages are delivered ([`Delivery::Messages`]).
    pub max_message_size: usize,
    /// Largest received message in [`Delivery::Streaming`], where nothing is buffered whole:
    /// a bound on how long one message may go on, not on memory. No bound by default.
    pub max_stream_size: u64,
    /// Outgoing messages longer than this go out in several frames of at most this payload
    /// (§5.4), so a peer with the usual frame limits accepts them. 1 MiB by default.
    pub max_send_frame_size: usize,
    /// Largest opening handshake (request line or status line plus headers), in bytes.
    pub max_handshake_size: usize,
    /// Largest amount of encoded output held before the caller writes it out. Sending beyond it
    /// returns [`crate::UsageError::OutputBufferFull`]; decoding pauses while it is exceeded.
    pub max_output_buffer: usize,
    /// Largest amount of received bytes held before they are decoded.
    pub max_input_buffer: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            max_stream_size: u64::MAX,
            max_send_frame_size: 1 << 20,
            max_handshake_size: 16 << 10,
            max_output_buffer: 64 << 20,
            max_input_buffer: 1 << 20,
        }
    }
}

impl Limits {
    /// Check that the limits can work together. Refused, each with its reason:
    /// - a zero `max_frame_size`, `max_send_frame_size`, `max_stream_size`,
    ///   `max_handshake_size` or `max_output_buffer` (nothing could ever pass);
    /// - `max_frame_size` above `max_message_size` (a frame is part of a message);
    /// - `max_input_buffer` below a frame header's 14 bytes (§5.2: no frame could be read).
    ///
    /// A small `max_output_buffer` is allowed: one frame always fits in an empty output buffer,
    /// so it only means writing more often.
    pub fn validate(&self) -> Result<(), UsageError> {
        let refuse = |why| Err(UsageError::InvalidLimits(why));
        if self.max_frame_size == 0 {
            return refuse("max_frame_size is 0: no data frame could be received");
        }
        if self.max_frame_size > self.max_message_size {
            return refuse("max_frame_size is above max_message_size: a frame is part of a message");
        }
        if self.max_send_frame_size == 0 {
            return refuse("max_send_frame_size is 0: no data could be sent");
        }
        if self.max_stream_size == 0 {
            return refuse("max_stream_size is 0: no streamed message could be received");
        }
        if self.max_handshake_size == 0 {
            return refuse("max_handshake_size is 0: no handshake could be read");
        }
        // RFC 6455 §5.2: a frame header is up to 14 bytes, and must be held whole to be read.
        if self.max_input_buffer < MAX_HEADER_LEN {
            return refuse("max_input_buffer is below 14 bytes, the largest frame header (RFC 6455 §5.2)");
        }
        if self.max_output_buffer == 0 {
            return refuse("max_output_buffer is 0: nothing could be sent");
        }
        Ok(())
    }
}

/// Where masking keys come from (RFC 6455 §5.3, §10.3: keys MUST be unpredictable).
///
/// The configuration holds the recipe, not the generator: each connection builds its own
/// [`MaskKeyGen`], so cloning one configuration for many connections never makes two of them
/// share a key stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum MaskKeySource {
    /// A ChaCha-based generator seeded from the operating system once per connection.
    #[default]
    Entropy,
    /// A repeatable generator, for tests and fuzzing. Never use it on a real connection.
    Seeded(u64),
}

impl MaskKeySource {
    /// Build the generator this recipe describes.
    pub fn generator(self) -> MaskKeyGen {
        let rng = match self {
            MaskKeySource::Entropy => rand::make_rng(),
            MaskKeySource::Seeded(seed) => StdRng::seed_from_u64(seed),
        };
        MaskKeyGen { rng }
    }
}

/// A connection's own source of masking keys and handshake nonces.
#[derive(Debug)]
pub struct MaskKeyGen {
    rng: StdRng,
}

impl MaskKeyGen {
    /// The next 4-byte masking key.
    pub fn next_key(&mut self) -> [u8; 4] {
        self.rng.next_u32().to_ne_bytes()
    }

    /// Fill `bytes` with random bytes (the handshake's `Sec-WebSocket-Key`).
    pub fn fill(&mut self, bytes: &mut [u8]) {
        self.rng.fill_bytes(bytes);
    }
}

/// How received data is handed to the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Delivery {
    /// Whole messages: fragments are reassembled, up to [`Limits::max_message_size`].
    #[default]
    Messages,
    /// Pieces of data as they arrive, never buffered whole: each
    /// [`crate::Event::Fragment`] carries the bytes decoded so far. Text is still validated
    /// as it streams, and fails at the first invalid byte.
    Streaming,
}

/// Everything a [`crate::Connection`] needs to know besides the bytes.
#[derive(Debug, Clone)]
pub struct Config {
    /// Client or server.
    pub role: Role,
    /// Buffer bounds, checked when set ([`Config::with_limits`]).
    limits: Limits,
    /// Answer every Ping with a Pong automatically (§5.5.2). On by default.
    pub auto_pong: bool,
    /// Whole messages or streamed pieces.
    pub delivery: Delivery,
    /// Masking key generator (used by clients only).
    pub mask_keys: MaskKeySource,
    /// permessage-deflate (RFC 7692), when the handshake negotiated it. It claims RSV1; with
    /// no extension every RSV bit MUST be 0 (§5.2). Set only from a completed handshake
    /// ([`crate::connection_config`]), so the connection runs exactly what was agreed.
    deflate: Option<Deflate>,
    /// Keepalive, idle and close deadlines, checked when set ([`Config::with_timers`]).
    timers: Timers,
    /// Told about every frame, when set ([`Config::with_observer`]).
    observer: ObserverSlot,
}

impl Config {
    /// Defaults for a client.
    pub fn client() -> Self {
        Self::new(Role::Client)
    }

    /// Defaults for a server.
    pub fn server() -> Self {
        Self::new(Role::Server)
    }

    /// Defaults for `role`.
    pub fn new(role: Role) -> Self {
        Config {
            role,
            limits: Limits::default(),
            auto_pong: true,
            delivery: Delivery::Messages,
            mask_keys: MaskKeySource::Entropy,
            deflate: None,
            timers: Timers::default(),
            observer: ObserverSlot::default(),
        }
    }

    /// Replace the deadlines (keepalive, idle, close), once [`Timers::validate`] accepts them
    /// ([`UsageError::InvalidTimers`] otherwise). They act only when the I/O layer passes
    /// the time in ([`crate::Connection::handle_timeout`]); both layers of this crate do.
    pub fn with_timers(mut self, timers: Timers) -> Result<Self, UsageError> {
        timers.validate()?;
        self.timers = timers;
        Ok(self)
    }

    /// The deadlines.
    pub fn timers(&self) -> &Timers {
        &self.timers
    }

    /// Replace the limits, once [`Limits::validate`] accepts them
    /// ([`UsageError::InvalidLimits`] otherwise).
    pub fn with_limits(mut self, limits: Limits) -> Result<Self, UsageError> {
        limits.validate()?;
        self.limits = limits;
        Ok(self)
    }

    /// The limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Replace the masking key source (for tests and fuzzing).
    pub fn with_mask_keys(mut self, mask_keys: MaskKeySource) -> Self {
        self.mask_keys = mask_keys;
        self
    }

    /// Choose whole messages or streamed pieces.
    pub fn with_delivery(mut self, delivery: Delivery) -> Self {
        self.delivery = delivery;
        self
    }

    /// permessage-deflate as the handshake agreed it, if it did.
    pub fn deflate(&self) -> Option<&Deflate> {
        self.deflate.as_ref()
    }

    /// The RSV bits frames may carry: those the negotiated extensions claim (RSV1 for
    /// permessage-deflate), zero otherwise (§5.2).
    pub fn allowed_rsv_bits(&self) -> u8 {
        if self.deflate.is_some() { crate::frame::RSV1 } else { 0 }
    }

    pub(crate) fn set_deflate(&mut self, deflate: Option<Deflate>) {
        self.deflate = deflate;
    }

    /// Use permessage-deflate with these parameters without a handshake: for two in-memory
    /// endpoints that agree by construction (tests, benches, fuzzing). A real connection gets
    /// its extensions from [`crate::connection_config`].
    #[doc(hidden)]
    pub fn with_deflate(mut self, deflate: Deflate) -> Self {
        self.deflate = Some(deflate);
        self
    }

    /// Report every frame received and sent, each data message, and the opening handshake to
    /// `observer` (see [`crate::observe`]). Off by default, and free when off.
    pub fn with_observer(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observer = ObserverSlot(Some(observer));
        self
    }

    /// Stop reporting to the observer, if one was set.
    pub fn without_observer(mut self) -> Self {
        self.observer = ObserverSlot(None);
        self
    }

    /// The observer frames are reported to, if any.
    pub fn observer(&self) -> Option<&Arc<dyn Observer>> {
        self.observer.0.as_ref()
    }

    /// Turn automatic Pong replies on or off.
    pub fn with_auto_pong(mut self, auto_pong: bool) -> Self {
        self.auto_pong = auto_pong;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(limits: Limits) -> Result<(), &'static str> {
        let built = Config::server().with_limits(limits).map(|_| ());
        assert_eq!(built, limits.validate(), "with_limits applies validate");
        limits.validate().map_err(|e| match e {
            UsageError::InvalidLimits(why) => why,
            other => panic!("{other}"),
        })
    }

    #[test]
    fn the_default_limits_are_valid() {
        assert_eq!(check(Limits::default()), Ok(()));
    }

    #[test]
    fn s5_2_input_buffer_must_hold_a_frame_header() {
        assert_eq!(check(Limits { max_input_buffer: 14, ..Limits::default() }), Ok(()));
        let err = check(Limits { max_input_buffer: 13, ..Limits::default() }).unwrap_err();
        assert!(err.contains("max_input_buffer") && err.contains("14"), "{err}");
        assert!(check(Limits { max_input_buffer: 0, ..Limits::default() }).is_err());
    }

    #[test]
    fn frame_limit_may_not_exceed_the_message_limit() {
        let at = Limits { max_frame_size: 1000, max_message_size: 1000, ..Limits::default() };
        assert_eq!(check(at), Ok(()));
        let err = check(Limits { max_frame_size: 1001, ..at }).unwrap_err();
        assert!(err.contains("max_frame_size") && err.contains("max_message_size"), "{err}");
    }

    #[test]
    fn zero_sizes_that_let_nothing_through_are_refused() {
        let d = Limits::default();
        let cases = [
            (Limits { max_frame_size: 0, ..d }, "max_frame_size"),
            (Limits { max_send_frame_size: 0, ..d }, "max_send_frame_size"),
            (Limits { max_stream_size: 0, ..d }, "max_stream_size"),
            (Limits { max_handshake_size: 0, ..d }, "max_handshake_size"),
            (Limits { max_output_buffer: 0, ..d }, "max_output_buffer"),
        ];
        for (limits, field) in cases {
            let err = check(limits).unwrap_err();
            assert!(err.starts_with(field), "{field}: {err}");
        }
        // One byte is a valid (if strict) limit for each.
        let ones = Limits {
            max_frame_size: 1,
            max_send_frame_size: 1,
            max_stream_size: 1,
            max_handshake_size: 1,
            max_output_buffer: 1,
            ..d
        };
        assert_eq!(check(ones), Ok(()));
    }

    #[test]
    fn invalid_limits_say_why_in_the_error() {
        let err = Config::client().with_limits(Limits { max_input_buffer: 1, ..Limits::default() }).unwrap_err();
        assert!(err.to_string().starts_with("invalid limits: max_input_buffer"), "{err}");
    }
}
