//! Reading an HTTP/1.1 head (start line, header lines, empty line; RFC 7230 §3) out of bytes
//! that arrive in any chunking, for both sides of the opening handshake (RFC 6455 §4.1, §4.2).
//!
//! [`HeadReader`] finds where the head ends, scanning only new bytes, and keeps what follows
//! (the first frames). [`StickyHead`] adds the one life cycle both handshakes share: reading,
//! then done (later bytes only join the remainder), or failed (every later call returns the
//! same error).

use crate::error::HandshakeError;

/// Where the scan for the empty line that ends a head stands, carried across `receive` calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// Nothing but empty lines so far (RFC 7230 §3.5: ignore empty lines before the start line).
    Start,
    /// Inside a line.
    Mid,
    /// Just after a `\n`.
    LineStart,
    /// Just after `\n\r`.
    LineStartCr,
}

/// Collects a request or response head (start line + headers + empty line) from bytes in any
/// chunking, and keeps whatever follows it.
#[derive(Debug)]
pub(crate) struct HeadReader {
    /// Everything received so far: the head, then the remainder.
    buf: Vec<u8>,
    /// Length of the head, once its end has been seen.
    head_len: Option<usize>,
    scan: Scan,
    max: usize,
    /// Whether the first line has ended (so the start line can be checked early).
    first_line_done: bool,
}

impl HeadReader {
    pub(crate) fn new(max: usize) -> Self {
        HeadReader { buf: Vec::new(), head_len: None, scan: Scan::Start, max, first_line_done: false }
    }

    /// Add `bytes`. Returns `Ok(true)` the one time the end of the head arrives; once complete,
    /// further bytes only grow the remainder.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<bool, HandshakeError> {
        if self.head_len.is_some() {
            self.buf.extend_from_slice(bytes);
            return Ok(false);
        }
        // Scan only the new bytes, and never past the size limit.
        let room = self.max.saturating_sub(self.buf.len());
        let scanned = &bytes[..bytes.len().min(room)];
        if let Some(end) = self.scan(scanned) {
            self.head_len = Some(self.buf.len() + end);
            self.buf.extend_from_slice(bytes);
            return Ok(true);
        }
        if bytes.len() > room {
            return Err(HandshakeError::HeadersTooLarge);
        }
        self.buf.extend_from_slice(bytes);
        Ok(false)
    }

    /// Run the end-of-head scanner over `new`; the index just past the final `\n` if found.
    fn scan(&mut self, new: &[u8]) -> Option<usize> {
        for (i, &b) in new.iter().enumerate() {
            self.scan = match (self.scan, b) {
                (Scan::Start, b'\r' | b'\n') => Scan::Start,
                (Scan::LineStart | Scan::LineStartCr, b'\n') => return Some(i + 1),
                (_, b'\n') => {
                    self.first_line_done = true;
                    Scan::LineStart
                }
                (Scan::LineStart, b'\r') => Scan::LineStartCr,
                _ => Scan::Mid,
            };
        }
        None
    }

    /// Whether the end of the head has been seen.
    pub(crate) fn is_complete(&self) -> bool {
        self.head_len.is_some()
    }

    /// Whether the first (start) line has ended.
    pub(crate) fn first_line_done(&self) -> bool {
        self.first_line_done
    }

    /// The bytes received so far, head first.
    pub(crate) fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// The complete head, or everything so far if it is not complete.
    pub(crate) fn head(&self) -> &[u8] {
        &self.buf[..self.head_len.unwrap_or(self.buf.len())]
    }

    /// Move the head/remainder boundary to what the HTTP parser consumed.
    pub(crate) fn set_head_len(&mut self, len: usize) {
        self.head_len = Some(len.min(self.buf.len()));
    }

    /// Bytes received after the head (empty until the head is complete).
    pub(crate) fn remainder(&self) -> &[u8] {
        match self.head_len {
            Some(len) => &self.buf[len..],
            None => &[],
        }
    }

    /// Take the remainder out, dropping the head.
    pub(crate) fn into_remainder(mut self) -> Vec<u8> {
        match self.head_len {
            Some(len) => {
                self.buf.drain(..len);
                self.buf
            }
            None => Vec::new(),
        }
    }
}

/// Where a [`StickyHead`] stands.
#[derive(Debug)]
enum State {
    Reading,
    Done,
    Failed(HandshakeError),
}

/// What a call to [`StickyHead::push`] leaves for the caller to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Nothing yet: more bytes are needed (or the head was already returned).
    Waiting,
    /// The start line just ended: check it now, to fail early on bytes that are not HTTP.
    StartLine,
    /// The head just ended: parse it.
    Head,
}

/// A [`HeadReader`] with the handshake's life cycle: errors are sticky, and bytes that arrive
/// after the head (returned or refused) still join the remainder, so the remainder does not
/// depend on how the input was chunked.
#[derive(Debug)]
pub(crate) struct StickyHead {
    reader: HeadReader,
    state: State,
}

impl StickyHead {
    pub(crate) fn new(max: usize) -> Self {
        StickyHead { reader: HeadReader::new(max), state: State::Reading }
    }

    /// Take `bytes`; returns what the caller must do now, or the sticky error.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<Step, HandshakeError> {
        match &self.state {
            State::Failed(e) => {
                if self.reader.is_complete() {
                    self.reader.push(bytes)?;
                }
                return Err(e.clone());
            }
            State::Done => {
                self.reader.push(bytes)?;
                return Ok(Step::Waiting);
            }
            State::Reading => {}
        }
        let had_first_line = self.reader.first_line_done();
        match self.reader.push(bytes) {
            Ok(true) => Ok(Step::Head),
            Ok(false) if !had_first_line && self.reader.first_line_done() => Ok(Step::StartLine),
            Ok(false) => Ok(Step::Waiting),
            Err(e) => {
                self.state = State::Failed(e.clone());
                Err(e)
            }
        }
    }

    /// Record the outcome of the caller's step: a result ends the reading, an error sticks.
    pub(crate) fn settle<T>(&mut self, result: Result<Option<T>, HandshakeError>) -> Result<Option<T>, HandshakeError> {
        match &result {
            Ok(Some(_)) => self.state = State::Done,
            Err(e) => self.state = State::Failed(e.clone()),
            Ok(None) => {}
        }
        result
    }

    /// Whether the head was read and accepted.
    pub(crate) fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// The bytes and the head/remainder boundary.
    pub(crate) fn reader(&self) -> &HeadReader {
        &self.reader
    }

    /// The bytes and the head/remainder boundary, to move the boundary.
    pub(crate) fn reader_mut(&mut self) -> &mut HeadReader {
        &mut self.reader
    }

    /// Take the bytes after the head, dropping the head.
    pub(crate) fn into_remainder(self) -> Vec<u8> {
        self.reader.into_remainder()
    }
}
