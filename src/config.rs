//! Configuration of a connection: its role, its limits and its options.
//!
//! The role decides masking (RFC 6455 §5.1, §5.3): a client masks every frame it sends and
//! refuses masked frames; a server does the reverse. Limits bound every buffer the connection
//! owns, so a peer cannot make it use more memory than the user allowed. Masking keys come from
//! the [`MaskKeySource`] in the configuration, never from a global generator, so a test or a
//! fuzzer can seed it.

use rand::rngs::StdRng;

use crate::extensions::permessage_deflate::Deflate;
use rand::{Rng, SeedableRng};

/// Which end of the connection this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Opened the connection; masks what it sends (§5.3).
    Client,
    /// Accepted the connection; never masks (§5.1).
    Server,
}

/// Bounds on every buffer a connection owns. A peer that exceeds one is failed with 1009
/// (frame and message size) or, during the handshake, answered 431.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest payload of one frame, in bytes.
    pub max_frame_size: usize,
    /// Largest message, all fragments together, in bytes.
    pub max_message_size: usize,
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
            max_handshake_size: 16 << 10,
            max_output_buffer: 64 << 20,
            max_input_buffer: 1 << 20,
        }
    }
}

/// Where masking keys come from (RFC 6455 §5.3, §10.3: keys MUST be unpredictable).
///
/// The configuration holds the recipe, not the generator: each connection builds its own
/// [`MaskKeyGen`], so cloning one configuration for many connections never makes two of them
/// share a key stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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
    /// Buffer bounds.
    pub limits: Limits,
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
        }
    }

    /// Replace the limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
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

    /// Turn automatic Pong replies on or off.
    pub fn with_auto_pong(mut self, auto_pong: bool) -> Self {
        self.auto_pong = auto_pong;
        self
    }
}
