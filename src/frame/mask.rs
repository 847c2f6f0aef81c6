//! Masking (RFC 6455 §5.3): XOR the payload with a 4-byte key, byte `i` with `key[i % 4]`.
//!
//! Masking is its own inverse, so the same function masks (client sending) and unmasks
//! (server receiving). The `offset` argument says where in the key cycle the slice starts,
//! so a payload that arrives in pieces can be unmasked piece by piece as it streams in.
//!
//! The fast path works on 8-byte words: the key is rotated to the offset once, repeated into
//! a `u64`, and XORed into the payload a word at a time. The compiler turns the word loop into
//! vector instructions (SSE2 on the baseline x86-64 build, two 16-byte registers an iteration);
//! no `unsafe` is needed because unaligned word loads are expressed as `from_ne_bytes` over
//! slices. A few bytes are masked one at a time first so that the word loop's stores land on
//! 16-byte boundaries: at 64 KiB that is what puts masking in place ahead of `memcpy`.
//!
//! [`copy_masked`] masks while it copies (one pass where copy-then-mask makes two): it is how a
//! payload goes from the input buffer into the message buffer on receive, and from the
//! caller's slice into the output buffer when a client sends.

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

/// Copy `src` into `dst` XORed with `masking_key`, as if `src` started `offset` bytes into a
/// masked payload: [`apply_mask`] and a copy in one pass. Copies `min(dst.len(), src.len())`
/// bytes (callers pass equal lengths).
pub fn copy_masked(dst: &mut [u8], src: &[u8], masking_key: [u8; 4], offset: usize) {
    let len = dst.len().min(src.len());
    let (dst, src) = (&mut dst[..len], &src[..len]);
    // Align the stores, as in `apply_mask`; the loads stay wherever `src` is.
    let head_len = dst.as_ptr().align_offset(16).min(len);
    let (dst_head, dst_body) = dst.split_at_mut(head_len);
    let (src_head, src_body) = src.split_at(head_len);
    for (i, (d, s)) in dst_head.iter_mut().zip(src_head).enumerate() {
        *d = s ^ masking_key[offset.wrapping_add(i) % 4];
    }
    let key = rotate_key(masking_key, offset.wrapping_add(head_len));
    let word_key = u64::from_ne_bytes([key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]]);
    let mut dst_words = dst_body.chunks_exact_mut(8);
    let mut src_words = src_body.chunks_exact(8);
    for (d, s) in (&mut dst_words).zip(&mut src_words) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(s);
        d.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ word_key).to_ne_bytes());
    }
    // The tails start at a multiple of 8 past `head_len`: the key phase is `key`'s.
    for ((d, s), k) in dst_words.into_remainder().iter_mut().zip(src_words.remainder()).zip(key.iter().cycle()) {
        *d = s ^ k;
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
    fn s5_3_copy_masked_equals_copy_then_reference_at_every_alignment_and_length() {
        let key = [0xA1, 0x02, 0xF3, 0x44];
        let data: Vec<u8> = (0..200u32).map(|i| (i * 7 + 3) as u8).collect();
        for dst_start in 0..17 {
            for src_start in [0, 1, 5] {
                for len in 0..(data.len() - 17) {
                    for offset in 0..5 {
                        let src = &data[src_start..src_start + len];
                        let mut dst = vec![0xEEu8; 17 + len + 3];
                        copy_masked(&mut dst[dst_start..dst_start + len], src, key, offset);
                        let mut expect = src.to_vec();
                        apply_mask_reference(&mut expect, key, offset);
                        assert_eq!(&dst[dst_start..dst_start + len], &expect[..], "at {dst_start} len {len}");
                        assert!(dst[..dst_start].iter().chain(&dst[dst_start + len..]).all(|&b| b == 0xEE));
                    }
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
