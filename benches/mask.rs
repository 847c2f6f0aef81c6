//! Unmasking (RFC 6455 §5.3) at 16 B, 1 KiB, 64 KiB and 1 MiB, at an unaligned offset, against
//! `memcpy` of the same size (the physical reference: one read and one write of every byte), a
//! byte-by-byte loop, and tungstenite's algorithm. `copy_masked` (mask while copying, the
//! receive path from the input buffer and the client's send path) runs beside `memcpy` and
//! beside a copy followed by masking in place (the two passes it replaces).

mod common;

use criterion::{Throughput, criterion_group, criterion_main};
use rfc6455::frame::mask::{apply_mask, apply_mask_reference, copy_masked};
use std::hint::black_box;

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// tungstenite 0.30's unmasking (`protocol/frame/mask.rs`, `apply_mask_fast32`), which the
/// crate does not export: a byte loop to 4-byte alignment, then `u32` words. Reproduced here in
/// safe code (`align_to_mut` replaced by an explicit split), so it compiles to the same loop.
fn tungstenite_apply_mask(buf: &mut [u8], mask: [u8; 4]) {
    let head = buf.as_ptr().align_offset(4).min(buf.len());
    let (prefix, rest) = buf.split_at_mut(head);
    for (i, b) in prefix.iter_mut().enumerate() {
        *b ^= mask[i & 3];
    }
    let mask_u32 = u32::from_ne_bytes(mask).rotate_right(8 * (head as u32 & 3));
    let mut words = rest.chunks_exact_mut(4);
    for w in &mut words {
        let v = u32::from_ne_bytes([w[0], w[1], w[2], w[3]]) ^ mask_u32;
        w.copy_from_slice(&v.to_ne_bytes());
    }
    let m = mask_u32.to_ne_bytes();
    for (i, b) in words.into_remainder().iter_mut().enumerate() {
        *b ^= m[i & 3];
    }
}

fn mask(c: &mut criterion::Criterion) {
    for (name, size) in [("16B", 16usize), ("1KiB", 1 << 10), ("64KiB", 64 << 10), ("1MiB", 1 << 20)] {
        let mut group = c.benchmark_group(format!("unmask/{name}"));
        group.throughput(Throughput::Bytes(size as u64));
        common::record_meta(&format!("unmask/{name}"), 1, size, size);
        // One byte past a 64-byte boundary: every word access is unaligned.
        let mut buf = vec![0u8; size + 64];
        let src = common::binary(size + 64);
        let at = 1 + (64 - buf.as_ptr() as usize % 64) % 64;
        let at = at.min(63);
        let mut check = src[..size].to_vec();
        let mut expect = check.clone();
        apply_mask(&mut check, KEY, 0);
        apply_mask_reference(&mut expect, KEY, 0);
        assert_eq!(check, expect);
        tungstenite_apply_mask(&mut expect, KEY);
        apply_mask(&mut check, KEY, 0);
        assert_eq!(check, expect);

        group.bench_function("memcpy", |b| {
            b.iter(|| {
                buf[at..at + size].copy_from_slice(black_box(&src[1..1 + size]));
                black_box(&buf);
            })
        });
        group.bench_function("rfc6455", |b| b.iter(|| apply_mask(black_box(&mut buf[at..at + size]), KEY, 1)));
        group.bench_function("rfc6455_copy_masked", |b| {
            b.iter(|| copy_masked(black_box(&mut buf[at..at + size]), black_box(&src[1..1 + size]), KEY, 1))
        });
        group.bench_function("copy_then_mask", |b| {
            b.iter(|| {
                buf[at..at + size].copy_from_slice(black_box(&src[1..1 + size]));
                apply_mask(black_box(&mut buf[at..at + size]), KEY, 1);
            })
        });
        group.bench_function("tungstenite", |b| {
            b.iter(|| tungstenite_apply_mask(black_box(&mut buf[at..at + size]), KEY))
        });
        group.bench_function("bytewise", |b| {
            b.iter(|| apply_mask_reference(black_box(&mut buf[at..at + size]), KEY, 1))
        });
        group.finish();
    }
}

criterion_group! { name = benches; config = common::criterion(); targets = mask }
criterion_main!(benches);
