//! Properties of masking (RFC 6455 §5.3): masking twice is the identity, the fast word-at-a-time
//! path equals the byte-by-byte reference at every key, offset, length and alignment, and
//! masking in two pieces equals masking whole, and masking while copying equals copying then
//! masking.
//!
//! Cases: `PROPTEST_CASES` (default 256) raises the count for a deep run.

use proptest::prelude::*;
use rfc6455::frame::mask::{apply_mask, apply_mask_reference, copy_masked};

proptest! {
    #[test]
    fn s5_3_masking_twice_is_identity(
        key in any::<[u8; 4]>(),
        offset in prop_oneof![0usize..16, any::<usize>()],
        data in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut masked = data.clone();
        apply_mask(&mut masked, key, offset);
        apply_mask(&mut masked, key, offset);
        prop_assert_eq!(masked, data);
    }

    #[test]
    fn s5_3_fast_path_equals_reference(
        key in any::<[u8; 4]>(),
        offset in prop_oneof![0usize..16, any::<usize>()],
        align in 0usize..16,
        data in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        // `align` shifts the slice inside its buffer, so every alignment of the word loop runs.
        let align = align.min(data.len());
        let mut fast = data.clone();
        let mut slow = data.clone();
        apply_mask(&mut fast[align..], key, offset);
        apply_mask_reference(&mut slow[align..], key, offset);
        prop_assert_eq!(&fast, &slow);
        prop_assert_eq!(&fast[..align], &data[..align], "bytes before the slice changed");
    }

    #[test]
    fn s5_3_masking_in_pieces_equals_masking_whole(
        key in any::<[u8; 4]>(),
        cut in any::<prop::sample::Index>(),
        data in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let cut = cut.index(data.len() + 1);
        let mut whole = data.clone();
        apply_mask_reference(&mut whole, key, 0);
        let mut pieces = data.clone();
        let (a, b) = pieces.split_at_mut(cut);
        apply_mask(a, key, 0);
        apply_mask(b, key, cut);
        prop_assert_eq!(pieces, whole);
    }

    #[test]
    fn s5_3_copy_masked_equals_copy_then_reference(
        key in any::<[u8; 4]>(),
        offset in prop_oneof![0usize..16, any::<usize>()],
        dst_align in 0usize..16,
        src_align in 0usize..16,
        data in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let src_align = src_align.min(data.len());
        let src = &data[src_align..];
        let mut dst = vec![0x5Au8; dst_align + src.len() + 8];
        copy_masked(&mut dst[dst_align..dst_align + src.len()], src, key, offset);
        let mut expect = src.to_vec();
        apply_mask_reference(&mut expect, key, offset);
        prop_assert_eq!(&dst[dst_align..dst_align + src.len()], &expect[..]);
        prop_assert!(dst[..dst_align].iter().chain(&dst[dst_align + src.len()..]).all(|&b| b == 0x5A));
    }
}
