//! The connection after the opening handshake: one state machine for RFC 6455 §5-§7.
//!
//! ```text
//!   bytes from the peer                                   bytes to the peer
//!         │                                                      ▲
//!   receive() / read_buf()+commit()                       output() / consume_output()
//!         ▼                                                      │
//!   ┌───────────┐  FrameDecoder  ┌──────────────┐         ┌─────────────┐
//!   │ input buf │──────────────▶ │ checks §5.1, │──pong──▶│ output buf  │◀── send_text(),
//!   └───────────┘  header/payload│ §5.2, §5.4,  │──close─▶│ (one write  │    send_binary(),
//!                                │ §5.5, §8.1   │         │  per batch) │    ping(), close()
//!                                └──────┬───────┘         └─────────────┘
//!                                       ▼
//!                                 next_event() → Event
//! ```
//!
//! The caller owns all I/O. It hands received bytes in, pulls [`Event`](crate::Event)s until none is ready,
//! writes whatever [`Connection::output`] holds, and closes the transport when
//! [`Connection::should_close_transport`] says so. It also passes the time in
//! ([`Connection::handle_timeout`] after each batch) and wakes up at
//! [`Connection::poll_timeout`]: the core keeps the keepalive, idle and close deadlines but no
//! clock. The closing handshake is one small state
//! machine ([`CloseState`], changed only by [`transition`]); failing the connection (§7.1.7)
//! is one function that queues a Close with the error's code and makes the error sticky.
//!
//! Large messages cost what the wire costs (no copy the API can avoid):
//!
//! - **Reads sized to the frame.** [`Connection::read_buf`] is the input buffer's free space
//!   between frames, and room in the message buffer, sized to the rest of the frame, once a
//!   header has announced a large payload: read into it and the payload lands where the message
//!   is handed out from, unmasked there by [`Connection::commit`]. The input buffer stays small.
//! - **Replies from the received bytes.** [`Connection::send_received`] queues the message the
//!   last event carried without copying it out first; a large one moves to the output queue as
//!   it is. [`Connection::send_owned`] takes a buffer the caller hands over (a client masks it
//!   in place).
//! - **Writes without staging.** After those, the output is in up to three pieces
//!   ([`Connection::output_parts`], for one vectored write): the payload is written from its own
//!   buffer behind its header. [`Connection::output`] gives the first piece.
//!
//! - `receive.rs`: bytes to events.
//! - `send.rs`: messages and control frames to bytes.
//! - `output.rs`: the output queue, and the payloads written from their own buffers.
//! - `clock.rs`: keepalive, idle and close deadlines, on the time the caller passes in.
//! - `tap.rs`: frames and messages reported to an observer, when one is set
//!   ([`crate::observe`]).

mod clock;
mod output;
mod receive;
mod send;
mod shrink;
mod tap;

use std::fmt;

use crate::config::{Config, Delivery, Limits, MaskKeyGen, Role};
use crate::error::{Error, ProtocolError};
use crate::extensions::compression::{Deflater, Inflater};
use crate::frame::OpCode;
use crate::frame::decoder::FrameDecoder;
use crate::message::{MessageAssembler, MessageKind};
use crate::observe::Direction;
use crate::utf8::Utf8Validator;
use shrink::Shrink;
use tap::Tap;

#[doc(hidden)]
pub use receive::Ready;

/// Where the connection is in the closing handshake (RFC 6455 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseState {
    /// Data flows both ways.
    Open,
    /// This side sent a Close and waits for the peer's (§7.1.2). Data still arrives.
    Closing,
    /// Both Close frames were exchanged, or the connection failed: nothing more is read or
    /// sent but the bytes already queued in the output.
    Closed,
}

/// What moves the closing handshake along.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseInput {
    /// This side queued a Close frame.
    SentClose,
    /// The peer's Close frame arrived (and the reply, if one is due, was queued).
    ReceivedClose,
    /// The connection was failed (§7.1.7) or the transport ended.
    Failed,
}

/// The one place the closing handshake changes state.
#[doc(hidden)]
pub fn transition(state: CloseState, input: CloseInput) -> CloseState {
    match (state, input) {
        (CloseState::Open, CloseInput::SentClose) => CloseState::Closing,
        (CloseState::Open | CloseState::Closing, CloseInput::ReceivedClose) => CloseState::Closed,
        (_, CloseInput::Failed) => CloseState::Closed,
        // Sending a second Close, or anything after Closed, changes nothing; the send path
        // refuses it before it gets here.
        (state, _) => state,
    }
}

/// Why a connection ended abnormally; kept so every later call returns the same error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    Protocol(ProtocolError),
    TransportEnded,
    TimedOut(crate::timers::Deadline),
}

impl From<Failure> for Error {
    fn from(f: Failure) -> Error {
        match f {
            Failure::Protocol(e) => Error::Protocol(e),
            Failure::TransportEnded => Error::ConnectionReset,
            Failure::TimedOut(deadline) => Error::TimedOut(deadline),
        }
    }
}

/// Received bytes and what is being decoded from them.
#[derive(Debug)]
struct Receiver {
    /// Received bytes; `buf[start..end]` are not yet decoded.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    decoder: FrameDecoder,
    /// The frame whose payload is arriving: its opcode, FIN bit, and whether no payload piece
    /// of it was seen yet.
    frame: Option<(OpCode, bool, bool)>,
    message: MessageAssembler,
    /// A control frame's payload, at most 125 bytes (§5.5).
    control: [u8; crate::frame::MAX_CONTROL_PAYLOAD],
    control_len: usize,
    /// The last event borrowed the message buffer: clear it on the next call.
    release_message: bool,
    /// [`Connection::read_buf`] offered room in the message buffer (a payload read straight
    /// to where it is delivered from), of this many bytes.
    direct_offered: Option<usize>,
    /// Payload bytes committed into that room and not yet decoded.
    direct_pending: usize,
    /// The whole message the last event handed out, and where it lies (in the input buffer at
    /// the range, or in the message buffer), for [`Connection::send_received`]; cleared when
    /// the buffers may change.
    last_message: Option<(MessageKind, Option<std::ops::Range<usize>>)>,
    /// The peer closed its side of the transport.
    eof: bool,
    /// Inflates the peer's compressed messages, when permessage-deflate was negotiated.
    inflater: Option<Inflater>,
    /// The most input held since the input buffer was last emptied.
    high_water: usize,
    /// Gives back the input and message buffers' memory after large messages.
    shrink_input: Shrink,
    shrink_message: Shrink,
    /// Reports received frames, when an observer is set (see [`crate::observe`]).
    tap: Option<Box<Tap>>,
}

/// Encoded bytes waiting to be written, and what is needed to encode more.
#[derive(Debug)]
struct Transmitter {
    /// `buf[start..]` is waiting to be written.
    buf: Vec<u8>,
    start: usize,
    keys: MaskKeyGen,
    role: Role,
    /// The kind of the fragmented message being sent, if one is in progress (§5.4).
    fragmented: Option<MessageKind>,
    /// Compresses outgoing messages, when permessage-deflate was negotiated and this side's
    /// window allows it (see [`crate::extensions::permessage_deflate`]).
    deflater: Option<Deflater>,
    /// Messages shorter than this go out uncompressed.
    compression_threshold: usize,
    /// Whether the fragmented message being sent is compressed.
    compressing: bool,
    /// Compressed output of a message that may need splitting into frames, reused.
    scratch: Vec<u8>,
    /// A large payload written from its own buffer behind the output buffer (see `output.rs`).
    attached: Option<output::Attached>,
    /// A buffer kept from the last attached payload, to become the next message buffer.
    spare: Vec<u8>,
    /// Checks the text message being sent in fragments, across code points split between
    /// fragments (§5.6, §8.1).
    text: Utf8Validator,
    /// The most output held since the output buffer was last emptied.
    high_water: usize,
    /// Gives back the output and compression buffers' memory after large messages.
    shrink_output: Shrink,
    shrink_scratch: Shrink,
    /// Reports sent frames, when an observer is set (see [`crate::observe`]).
    tap: Option<Box<Tap>>,
}

/// A WebSocket connection after the opening handshake, without I/O.
///
/// An I/O layer reads into [`Self::read_buf`] (at most its length, asking again before every
/// read: for a large frame it is room in the message buffer, sized to the frame), calls
/// [`Self::commit`], pulls [`Self::next_event`] until `None`, and writes [`Self::output`] (or
/// all of [`Self::output_parts`] in one vectored write) until [`Self::wants_write`] is false.
/// See the [module docs](self) for how large messages avoid copies.
pub struct Connection {
    role: Role,
    limits: Limits,
    auto_pong: bool,
    delivery: Delivery,
    allowed_rsv_bits: u8,
    rx: Receiver,
    tx: Transmitter,
    state: CloseState,
    failure: Option<Failure>,
    /// Keepalive, idle and close deadlines, on the time the caller passes in.
    clock: clock::Clock,
}

/// Lengths and capacities, never contents: a connection may hold megabytes of payload (and
/// payload is the application's data, not something to put in a log).
impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Buffer(usize, usize);
        impl fmt::Debug for Buffer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} bytes (capacity {})", self.0, self.1)
            }
        }
        f.debug_struct("Connection")
            .field("role", &self.role)
            .field("state", &self.state)
            .field("failure", &self.failure)
            .field("delivery", &self.delivery)
            .field("deflate", &self.rx.inflater.is_some())
            .field("input", &Buffer(self.rx.end - self.rx.start, self.rx.buf.capacity()))
            .field("message", &Buffer(self.rx.message.buffer().len(), self.rx.message.capacity()))
            .field("output", &Buffer(self.tx.pending(), self.tx.buf.capacity()))
            .field("sending_fragmented", &self.tx.fragmented)
            .field("observed", &self.rx.tap.is_some())
            .finish_non_exhaustive()
    }
}

/// Size of the first input allocation; it grows up to [`Limits::max_input_buffer`].
const INITIAL_INPUT_CAPACITY: usize = 8 << 10;

impl Connection {
    /// A connection in the open state, as right after a successful handshake (§4.1, §4.2.2).
    pub fn new(config: Config) -> Self {
        let (inflater, deflater, compression_threshold) = match config.deflate() {
            Some(deflate) => {
                let p = deflate.params;
                // Each side compresses with its own parameters and inflates with the peer's.
                let (own_bits, own_reset, peer_bits, peer_reset) = match config.role {
                    Role::Server => (
                        p.server_max_window_bits,
                        p.server_no_context_takeover,
                        p.client_max_window_bits,
                        p.client_no_context_takeover,
                    ),
                    Role::Client => (
                        p.client_max_window_bits,
                        p.client_no_context_takeover,
                        p.server_max_window_bits,
                        p.server_no_context_takeover,
                    ),
                };
                // zlib cannot compress with a 2^8 window: send uncompressed then (RFC 7692 §6
                // lets the sender choose per message).
                let deflater = (own_bits >= 9).then(|| Deflater::new(deflate.level, own_bits, own_reset));
                (Some(Inflater::new(peer_bits, peer_reset)), deflater, deflate.threshold)
            }
            None => (None, None, usize::MAX),
        };
        let allowed_rsv_bits = config.allowed_rsv_bits();
        let tap = |direction| config.observer().map(|observer| Tap::new(std::sync::Arc::clone(observer), direction));
        Connection {
            role: config.role,
            limits: *config.limits(),
            auto_pong: config.auto_pong,
            delivery: config.delivery,
            allowed_rsv_bits,
            rx: Receiver {
                buf: Vec::new(),
                start: 0,
                end: 0,
                decoder: FrameDecoder::new(),
                frame: None,
                message: MessageAssembler::default(),
                control: [0; crate::frame::MAX_CONTROL_PAYLOAD],
                control_len: 0,
                release_message: false,
                direct_offered: None,
                direct_pending: 0,
                last_message: None,
                eof: false,
                inflater,
                high_water: 0,
                shrink_input: Shrink::default(),
                shrink_message: Shrink::default(),
                tap: tap(Direction::Received),
            },
            tx: Transmitter {
                buf: Vec::new(),
                start: 0,
                keys: config.mask_keys.generator(),
                role: config.role,
                fragmented: None,
                deflater,
                compression_threshold,
                compressing: false,
                scratch: Vec::new(),
                attached: None,
                spare: Vec::new(),
                text: Utf8Validator::new(),
                high_water: 0,
                shrink_output: Shrink::default(),
                shrink_scratch: Shrink::default(),
                tap: tap(Direction::Sent),
            },
            state: CloseState::Open,
            failure: None,
            clock: clock::Clock::new(*config.timers()),
        }
    }

    /// This side's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Where the closing handshake stands.
    pub fn state(&self) -> CloseState {
        self.state
    }

    /// Whether the connection is closed (cleanly or not).
    pub fn is_closed(&self) -> bool {
        self.state == CloseState::Closed
    }

    /// The error that ended the connection, if it failed.
    pub fn failure(&self) -> Option<Error> {
        self.failure.map(Error::from)
    }

    /// Whether the I/O layer should now close the transport. RFC 6455 §7.1.1: the server
    /// closes the TCP connection first, once the closing handshake is done; a client waits for
    /// the server to do so (with a timeout of its own). After a failure (§7.1.7) either side
    /// closes as soon as its Close frame is written. Once the close deadline passed
    /// ([`crate::Timers::close`], [`Self::handle_timeout`]), at once.
    pub fn should_close_transport(&self) -> bool {
        self.clock.gave_up
            || self.state == CloseState::Closed
                && self.tx.pending() == 0
                && (self.role == Role::Server || self.failure.is_some() || self.rx.eof)
    }

    /// Bytes encoded and waiting to be written to the transport: the first piece of them. After
    /// a large message was queued without a copy (see [`Self::send_received`] and
    /// [`Self::send_owned`]) the output is in up to three pieces; write this one, call
    /// [`Self::consume_output`], and ask again until [`Self::wants_write`] is false, or write
    /// all pieces at once from [`Self::output_parts`].
    pub fn output(&self) -> &[u8] {
        self.tx.first_part()
    }

    /// Mark the first `n` bytes of the pending output ([`Self::output`], or the pieces of
    /// [`Self::output_parts`] in order) as written.
    pub fn consume_output(&mut self, n: usize) {
        self.tx.consume(n);
    }

    /// Whether output is waiting to be written.
    pub fn wants_write(&self) -> bool {
        self.tx.pending() > 0
    }

    /// Heap bytes this connection holds in its buffers (input, message, output).
    pub fn buffered_capacity(&self) -> usize {
        self.rx.buf.capacity() + self.rx.message.capacity() + self.tx.capacity()
    }

    /// Fail the connection (RFC 6455 §7.1.7): queue a Close with the error's code unless this
    /// side already sent one, stop reading, and make the error sticky.
    fn fail(&mut self, error: ProtocolError) -> Error {
        fail_with(&mut self.tx, &mut self.state, &mut self.failure, error);
        self.rx.discard_input();
        Error::Protocol(error)
    }
}

/// [`Connection::fail`] on the fields it changes, so a caller holding a borrow of the input
/// buffer can still fail the connection.
fn fail_with(tx: &mut Transmitter, state: &mut CloseState, failure: &mut Option<Failure>, error: ProtocolError) {
    if failure.is_some() {
        return;
    }
    if *state == CloseState::Open {
        tx.encode_close(Some(error.close_code()), "");
    }
    *state = transition(*state, CloseInput::Failed);
    *failure = Some(Failure::Protocol(error));
}

impl Receiver {
    fn discard_input(&mut self) {
        self.start = 0;
        self.end = 0;
    }
}

#[cfg(test)]
mod tests;
