//! Frames (RFC 6455 §5.2, §5.3): the unit on the wire.
//!
//! - [`opcode`]: what a frame carries.
//! - [`header`]: the 2-14 byte header, parsed and written.
//! - [`mask`]: the XOR masking of client payloads, a word at a time.
//! - [`decoder`]: a byte stream split into headers and payload pieces, streaming.
//! - [`encoder`]: a whole frame, header and payload, appended to an output buffer.

pub mod decoder;
pub mod encoder;
pub mod header;
pub mod mask;
pub mod opcode;

pub use header::{FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, RSV1};
pub use opcode::OpCode;
