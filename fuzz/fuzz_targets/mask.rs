//! The word-at-a-time masking (RFC 6455 §5.3) equals the byte-by-byte reference at every key,
//! offset, length and alignment; masking twice is the identity; masking in pieces equals masking
//! whole; masking while copying (to any alignment) equals the reference.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rfc6455::frame::mask::{apply_mask, apply_mask_reference, copy_masked};

#[derive(Debug, Arbitrary)]
struct Input {
    key: [u8; 4],
    offset: usize,
    /// Where the slice starts in its buffer: 0-15, so every alignment is seen.
    start: u8,
    /// Where a second, piecewise pass cuts the slice.
    cut: u16,
    data: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let start = usize::from(input.start % 16).min(input.data.len());
    let original = &input.data[start..];

    let mut fast = input.data.clone();
    apply_mask(&mut fast[start..], input.key, input.offset);
    let mut slow = input.data.clone();
    apply_mask_reference(&mut slow[start..], input.key, input.offset);
    assert_eq!(fast, slow, "fast path differs from the reference");
    assert_eq!(&fast[..start], &input.data[..start], "bytes before the slice changed");

    apply_mask(&mut fast[start..], input.key, input.offset);
    assert_eq!(&fast[start..], original, "masking twice is not the identity");

    let cut = usize::from(input.cut).min(original.len());
    let mut pieces = original.to_vec();
    let (a, b) = pieces.split_at_mut(cut);
    apply_mask(a, input.key, input.offset);
    apply_mask(b, input.key, input.offset.wrapping_add(cut));
    assert_eq!(&pieces[..], &slow[start..], "masking in pieces differs from masking whole");

    let mut copied = vec![0u8; original.len() + 16];
    let at = usize::from(input.cut % 16);
    copy_masked(&mut copied[at..at + original.len()], original, input.key, input.offset);
    assert_eq!(&copied[at..at + original.len()], &slow[start..], "copy_masked differs from the reference");
});
