//! Property: the incremental UTF-8 validator (RFC 6455 §8.1) agrees with `std::str::from_utf8`
//! on every input and every split: it accepts exactly the valid inputs, reports the same
//! `valid_up_to` on invalid ones, and fails fast, at the very byte after which no continuation
//! could make the input valid (not later, and never earlier).
//!
//! Cases: `PROPTEST_CASES` (default 256) raises the count for a deep run.

use proptest::prelude::*;
use rfc6455::utf8::{Utf8Error, Utf8Validator};

/// Valid text, arbitrary bytes, and valid text with one byte changed (the interesting middle).
fn input() -> impl Strategy<Value = Vec<u8>> {
    let near_valid = (".{1,20}", any::<prop::sample::Index>(), any::<u8>()).prop_map(|(s, at, b)| {
        let mut bytes = s.into_bytes();
        let i = at.index(bytes.len());
        bytes[i] = b;
        bytes
    });
    let edges = prop::collection::vec(
        prop::sample::select(vec![
            &b"\xc0\xaf"[..],
            b"\xed\xa0\x80",
            b"\xed\x9f\xbf",
            b"\xf4\x8f\xbf\xbf",
            b"\xf4\x90\x80\x80",
            b"\xe0\x80\xaf",
            b"\xf0\x9f\x98",
            b"\xce\xba",
            b"a",
            b"\xff",
        ]),
        0..6,
    )
    .prop_map(|parts| parts.concat());
    prop_oneof![".{0,30}".prop_map(String::into_bytes), prop::collection::vec(any::<u8>(), 0..30), near_valid, edges,]
}

/// The index of the byte at which the input is first known to be invalid: the first `i` such
/// that `input[..=i]` has an error that more bytes cannot fix.
fn first_bad_byte(input: &[u8]) -> Option<usize> {
    (0..input.len()).find(|&i| matches!(std::str::from_utf8(&input[..=i]), Err(e) if e.error_len().is_some()))
}

/// Feed `input` in pieces ending at `bounds`; the error and the end of the piece it came in.
fn feed(input: &[u8], bounds: &[usize]) -> (Result<bool, Utf8Error>, usize) {
    let mut v = Utf8Validator::new();
    let mut from = 0;
    for &to in bounds {
        if let Err(e) = v.feed(&input[from..to]) {
            return (Err(e), to);
        }
        from = to;
    }
    (Ok(v.is_complete()), input.len())
}

proptest! {
    #[test]
    fn s8_1_incremental_validation_agrees_with_std(
        input in input(),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let mut bounds: Vec<usize> = cuts.iter().map(|&c| c % (input.len() + 1)).collect();
        bounds.sort_unstable();
        bounds.push(input.len());
        let bytewise: Vec<usize> = (1..=input.len()).collect();
        let bad = first_bad_byte(&input);
        for bounds in [&bounds, &bytewise] {
            let (result, failed_in_piece_ending) = feed(&input, bounds);
            match (std::str::from_utf8(&input), result) {
                (Ok(_), Ok(complete)) => prop_assert!(complete),
                // Valid so far but cut inside a code point: not complete.
                (Err(e), Ok(complete)) => {
                    prop_assert!(e.error_len().is_none(), "accepted invalid input at {}", e.valid_up_to());
                    prop_assert!(!complete);
                }
                (Err(e), Err(ours)) => {
                    prop_assert!(e.error_len().is_some());
                    prop_assert_eq!(ours.valid_up_to, e.valid_up_to(), "a different offset");
                    // Fail fast: the failure comes in the piece that holds the first bad byte.
                    let bad = bad.expect("std found an error");
                    let piece_start = bounds.iter().rev().find(|&&b| b < failed_in_piece_ending).copied().unwrap_or(0);
                    prop_assert!(
                        piece_start <= bad && bad < failed_in_piece_ending,
                        "failed in piece {}..{}, first bad byte {}", piece_start, failed_in_piece_ending, bad
                    );
                }
                (Ok(_), Err(ours)) => prop_assert!(false, "rejected valid input at {}", ours.valid_up_to),
            }
        }
    }
}
