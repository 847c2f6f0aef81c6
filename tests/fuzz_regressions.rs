//! Inputs the fuzz targets in `fuzz/` found to break the crate, each kept as a test so the bug
//! stays fixed. Named after the target that found it; `docs/fuzzing.md` lists them.

use rfc6455::frame::mask::{apply_mask, apply_mask_reference};

/// `mask`: the reference masking added `offset + i` and overflowed (a panic in debug builds)
/// when `offset` was near `usize::MAX`. Any offset is allowed; only its value modulo 4 matters.
#[test]
fn mask_reference_accepts_any_offset() {
    let key = [0x37, 0xfa, 0x21, 0x3d];
    for offset in [usize::MAX, usize::MAX - 1, usize::MAX - 2, usize::MAX - 3] {
        let original: Vec<u8> = (0..100u8).collect();
        let mut fast = original.clone();
        let mut slow = original.clone();
        apply_mask(&mut fast, key, offset);
        apply_mask_reference(&mut slow, key, offset);
        assert_eq!(fast, slow, "offset {offset}");
        apply_mask_reference(&mut slow, key, offset);
        assert_eq!(slow, original, "masking twice, offset {offset}");
    }
}
