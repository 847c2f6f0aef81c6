//! Incremental, fail-fast UTF-8 validation (RFC 6455 §8.1, §5.6).
//!
//! Text messages arrive in frames, and frames arrive in pieces; a code point may be split
//! anywhere. [`Utf8Validator`] checks each piece as it arrives and reports an error at the
//! first byte that can never begin valid UTF-8, even if the frame that carries it has not
//! fully arrived ("fail fast": §8.1 says to _Fail the WebSocket Connection_ as soon as invalid
//! data is seen). At the end of a message, [`Utf8Validator::is_complete`] tells whether a code
//! point was left unfinished.
//!
//! The bulk of each piece is checked by `simdutf8` (SIMD, chosen at run time for the CPU, and
//! exact about where an error is); only the up-to-3 bytes of a code point split across pieces
//! are carried over, in a fixed array.

/// Validate a whole buffer as UTF-8.
pub fn validate_str(bytes: &[u8]) -> Option<&str> {
    if bytes.len() < SIMD_THRESHOLD {
        return std::str::from_utf8(bytes).ok();
    }
    simdutf8::basic::from_utf8(bytes).ok()
}

/// Below this length `std::str::from_utf8` is faster than the SIMD validator's dispatch.
const SIMD_THRESHOLD: usize = 64;

/// The input can never become valid UTF-8. `valid_up_to` counts the valid bytes of all input
/// fed since the last reset, so the error's position is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Utf8Error {
    /// How many bytes, since the last reset, form valid UTF-8 before the error.
    pub valid_up_to: usize,
}

impl std::fmt::Display for Utf8Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid UTF-8 after {} valid bytes (RFC 6455 §8.1)", self.valid_up_to)
    }
}

impl std::error::Error for Utf8Error {}

/// Validates UTF-8 fed in pieces, failing at the first invalid byte.
#[derive(Debug, Clone, Default)]
pub struct Utf8Validator {
    /// The start of a code point whose remaining bytes have not arrived yet.
    pending: [u8; 4],
    pending_len: usize,
    /// Bytes fed since the last reset that are part of complete, valid code points.
    valid_len: usize,
}

impl Utf8Validator {
    /// A validator at the start of a message.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forget everything: the next byte starts a new message.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Whether the input so far ends on a code point boundary (a message may end here).
    pub fn is_complete(&self) -> bool {
        self.pending_len == 0
    }

    /// Check the next piece of input.
    pub fn feed(&mut self, mut input: &[u8]) -> Result<(), Utf8Error> {
        // Finish a code point left over from the previous piece, one byte at a time.
        while self.pending_len > 0 {
            let Some((&byte, rest)) = input.split_first() else { return Ok(()) };
            self.pending[self.pending_len] = byte;
            self.pending_len += 1;
            match std::str::from_utf8(&self.pending[..self.pending_len]) {
                Ok(_) => {
                    self.valid_len += self.pending_len;
                    self.pending_len = 0;
                }
                // A valid prefix that needs more bytes.
                Err(e) if e.error_len().is_none() => {}
                Err(_) => return Err(Utf8Error { valid_up_to: self.valid_len }),
            }
            input = rest;
        }
        let checked = if input.len() < SIMD_THRESHOLD {
            std::str::from_utf8(input).map_err(|e| (e.valid_up_to(), e.error_len()))
        } else {
            simdutf8::compat::from_utf8(input).map_err(|e| (e.valid_up_to(), e.error_len()))
        };
        match checked {
            Ok(_) => {
                self.valid_len += input.len();
                Ok(())
            }
            Err((valid, error_len)) => {
                // `error_len == None` means the input ends inside a code point whose bytes
                // so far are a valid prefix: keep them and wait for more.
                if error_len.is_none() {
                    let tail = &input[valid..];
                    self.pending[..tail.len()].copy_from_slice(tail);
                    self.pending_len = tail.len();
                    self.valid_len += valid;
                    Ok(())
                } else {
                    Err(Utf8Error { valid_up_to: self.valid_len + valid })
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_split(input: &[u8], cut: usize) -> Result<bool, Utf8Error> {
        let mut v = Utf8Validator::new();
        v.feed(&input[..cut])?;
        v.feed(&input[cut..])?;
        Ok(v.is_complete())
    }

    #[test]
    fn s8_1_agrees_with_std_at_every_split() {
        let samples: &[&[u8]] = &[
            "κόσμε".as_bytes(),
            "Hello-µ@ßöäüàá-UTF-8!!".as_bytes(),
            b"\xf0\x90\x80\x80",
            b"\xf4\x8f\xbf\xbf",
            b"\xf4\x90\x80\x80",
            b"\xed\xa0\x80",
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",
            b"\xc0\xaf",
            b"\xe0\x80\xaf",
            b"\xfe",
            b"abc\xe2\x82",
        ];
        for &s in samples {
            let std_result = std::str::from_utf8(s);
            for cut in 0..=s.len() {
                match (feed_split(s, cut), std_result) {
                    (Ok(true), Ok(_)) => {}
                    // Incomplete at the end: std reports an error without an error length.
                    (Ok(false), Err(e)) => assert!(e.error_len().is_none(), "{s:?} cut {cut}"),
                    (Err(ours), Err(e)) => {
                        assert!(e.error_len().is_some());
                        assert_eq!(ours.valid_up_to, e.valid_up_to(), "{s:?} cut {cut}");
                    }
                    (ours, theirs) => panic!("{s:?} cut {cut}: {ours:?} vs {theirs:?}"),
                }
            }
        }
    }

    #[test]
    fn s8_1_long_input_agrees_with_std_at_every_split() {
        // Long enough for the SIMD path on both sides of every cut.
        let samples: &[&[u8]] =
            &[b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xce\xba\xe1\xbd", "κόσμε😀".as_bytes(), b"\xc0\xaf"];
        for &s in samples {
            let input = [&[b'a'; 150][..], "ü".as_bytes(), s, &[b'z'; 150][..]].concat();
            let std_result = std::str::from_utf8(&input);
            for cut in 140..170 {
                let mut v = Utf8Validator::new();
                let ours = v.feed(&input[..cut]).and_then(|()| v.feed(&input[cut..])).map(|()| v.is_complete());
                match (ours, std_result) {
                    (Ok(true), Ok(_)) => {}
                    (Err(ours), Err(e)) => assert_eq!(ours.valid_up_to, e.valid_up_to(), "{s:?} cut {cut}"),
                    (ours, theirs) => panic!("{s:?} cut {cut}: {ours:?} vs {theirs:?}"),
                }
            }
            assert_eq!(validate_str(&input).is_some(), std_result.is_ok());
        }
    }

    #[test]
    fn s8_1_fails_fast_inside_an_unfinished_code_point() {
        // 0xED 0xA0 starts a UTF-16 surrogate: invalid before the third byte arrives.
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(b"ab\xed"), Ok(()));
        assert_eq!(v.feed(b"\xa0"), Err(Utf8Error { valid_up_to: 2 }));
    }

    #[test]
    fn s8_1_byte_by_byte_reports_the_first_invalid_byte() {
        let input = b"\xce\xba\xe1\xbd\xb9\xf4\x90\x80\x80";
        let mut v = Utf8Validator::new();
        let mut failed_at = None;
        for (i, b) in input.iter().enumerate() {
            if v.feed(std::slice::from_ref(b)).is_err() {
                failed_at = Some(i);
                break;
            }
        }
        // 0xF4 0x90 is already beyond U+10FFFF: the failure comes at index 6, not at the end.
        assert_eq!(failed_at, Some(6));
    }
}
