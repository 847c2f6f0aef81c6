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

/// `server_stream`: a 3378-byte masked text frame with invalid UTF-8, streaming delivery, fed in
/// chunks larger than the input buffer. The failure was in the harness (it dropped the part of
/// a chunk that did not fit), but the input stays as a check that the connection fails the same
/// way, with 1007, however the bytes come and however little room the input buffer has.
#[test]
fn server_stream_invalid_utf8_same_failure_in_any_chunking() {
    use rfc6455::{Config, Connection, Delivery, Error, Limits, ProtocolError};
    let input = include_bytes!("../fuzz/seeds/server_stream/regression-streaming-utf8-large-chunk");
    let stream = &input[3..];
    let limits = Limits { max_input_buffer: 2 << 10, max_output_buffer: 4 << 10, ..Limits::default() };
    for chunk in [1, 7, 64, 2048, 4096] {
        let mut conn =
            Connection::new(Config::server().with_limits(limits).unwrap().with_delivery(Delivery::Streaming));
        let mut error = None;
        'feed: for piece in stream.chunks(chunk) {
            let mut rest = piece;
            while !rest.is_empty() {
                let take = rest.len().min(limits.max_input_buffer);
                conn.receive(&rest[..take]).expect("room after draining");
                rest = &rest[take..];
                loop {
                    match conn.next_event() {
                        Ok(Some(_)) => {}
                        Ok(None) => break,
                        Err(e) => {
                            error = Some(e);
                            break 'feed;
                        }
                    }
                }
                let n = conn.output().len();
                conn.consume_output(n);
            }
        }
        assert!(matches!(error, Some(Error::Protocol(ProtocolError::InvalidUtf8))), "chunk {chunk}: {error:?}");
    }
}
