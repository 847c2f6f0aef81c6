//! Masking (RFC 6455 §5.3): XOR the payload with a 4-byte key, byte `i` with `key[i % 4]`.
//!
//! Masking is its own inverse, so the same function masks (client sending) and unmasks
//! (server receiving). The `offset` argument says where in the key cycle the slice starts,
//! so a payload that arrives in pieces can be unmasked piece by piece as it streams in.
//!
//! The fast path works on 8-byte words: the key is rotated to the offset once, repeated into
//! a `u64`, and XORed into the payload a word at a time. The compiler turns the word loop into
//! vector instructions; no `unsafe` is needed because unaligned word loads are expressed as
//! `from_ne_bytes` over slices.

/// XOR `payload` in place with `masking_key`, as if `payload` started `offset` bytes into a
/// masked payload.
#[doc(hidden)]
pub fn apply_mask(payload: &mut [u8], masking_key: [u8; 4], offset: usize) {
    // The bytes before the first 16-byte boundary go one at a time, so the word loop below
    // loads and stores at aligned addresses, which the vector unit does faster (a payload sits
    // just behind a 2- to 14-byte header, so it is rarely aligned). `align_offset` is exact for
    // byte pointers at run time; `min` covers its documented "cannot tell" answer.
    let head_len = payload.as_ptr().align_offset(16).min(payload.len());
    let (head, body) = payload.split_at_mut(head_len);
    for (i, byte) in head.iter_mut().enumerate() {
        *byte ^= masking_key[offset.wrapping_add(i) % 4];
    }
    mask_words(body, masking_key, offset.wrapping_add(head_len));
}

/// [`apply_mask`] for a payload whose start needs no alignment step.
fn mask_words(payload: &mut [u8], masking_key: [u8; 4], offset: usize) {
    // RFC 6455 §5.3: octet i is XORed with masking-key octet (i MOD 4). Rotating the key by
    // the offset lets the loop below start at index 0.
    let key = rotate_key(masking_key, offset);
    let mut word_key = [0u8; 8];
    word_key[..4].copy_from_slice(&key);
    word_key[4..].copy_from_slice(&key);
    let word_key = u64::from_ne_bytes(word_key);

    let mut words = payload.chunks_exact_mut(8);
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        word.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ word_key).to_ne_bytes());
    }
    // A tail of fewer than 8 bytes starts at a multiple of 8, so its key phase is unchanged.
    for (byte, k) in words.into_remainder().iter_mut().zip(key.iter().cycle()) {
        *byte ^= k;
    }
}

/// The key as seen from `offset` bytes into the payload.
#[doc(hidden)]
pub fn rotate_key(masking_key: [u8; 4], offset: usize) -> [u8; 4] {
    let mut key = masking_key;
    key.rotate_left(offset % 4);
    key
}

/// The byte-at-a-time reference the fast path is tested against: the RFC's formula as written.
#[doc(hidden)]
pub fn apply_mask_reference(payload: &mut [u8], masking_key: [u8; 4], offset: usize) {
    for (i, byte) in payload.iter_mut().enumerate() {
        // Wrapping: any `offset` is allowed, and 2^64 is a multiple of 4, so the phase is right.
        *byte ^= masking_key[offset.wrapping_add(i) % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s5_7_masked_hello() {
        let mut payload = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        apply_mask(&mut payload, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(&payload, b"Hello");
    }

    #[test]
    fn s5_3_fast_path_equals_reference_at_every_offset_and_length() {
        let key = [0xA1, 0x02, 0xF3, 0x44];
        let data: Vec<u8> = (0..200u32).map(|i| (i * 7 + 3) as u8).collect();
        for start in 0..9 {
            for len in 0..(data.len() - start) {
                for offset in 0..8 {
                    let mut fast = data[start..start + len].to_vec();
                    let mut slow = fast.clone();
                    apply_mask(&mut fast, key, offset);
                    apply_mask_reference(&mut slow, key, offset);
                    assert_eq!(fast, slow, "start {start} len {len} offset {offset}");
                }
            }
        }
    }

    #[test]
    fn s5_3_unmasking_in_pieces_equals_unmasking_whole() {
        let key = [9, 8, 7, 6];
        let original: Vec<u8> = (0..100u8).collect();
        let mut whole = original.clone();
        apply_mask(&mut whole, key, 0);
        for cut in 0..original.len() {
            let mut pieces = original.clone();
            let (a, b) = pieces.split_at_mut(cut);
            apply_mask(a, key, 0);
            apply_mask(b, key, cut);
            assert_eq!(pieces, whole, "cut at {cut}");
        }
    }
}
