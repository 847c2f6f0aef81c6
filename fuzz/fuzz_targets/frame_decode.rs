//! Arbitrary bytes into the frame decoder (RFC 6455 §5.2), then into a connection of each role.
//! First byte: chunking seed; the rest is the stream. Checks: no panic; a header never longer
//! than 14 bytes nor than the input; payload pieces add up to the header's length; the same
//! frames in any chunking; every header parsed re-encodes to the bytes it came from when they
//! used the shortest length form; a connection of either role never panics on them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::frame::FrameHeader;
use rfc6455::frame::encoder::encode_frame;
use rfc6455::{Config, Connection, MaskKeySource, Role};
use rfc6455_fuzz::{decode_frames, small_limits};

fuzz_target!(|data: &[u8]| {
    let Some((&seed, stream)) = data.split_first() else { return };
    let (frames, error) = decode_frames(stream, u64::from(seed));
    let (whole, whole_error) = decode_frames(stream, 3 << 62 | 0xFFFF);
    let (bytewise, bytewise_error) = decode_frames(stream, 0);
    assert_eq!(frames, whole, "frames depend on the chunking");
    assert_eq!(error, whole_error);
    assert_eq!(frames, bytewise, "frames differ byte by byte");
    assert_eq!(error, bytewise_error);

    // Re-encode every frame: the bytes must come back where the sender used the shortest form.
    let mut pos = 0;
    for frame in &frames {
        let (header, len) = FrameHeader::parse(&stream[pos..]).expect("parsed once").expect("complete");
        assert_eq!(header, frame.header);
        let mut out = Vec::new();
        encode_frame(&mut out, header.fin, header.rsv, header.opcode, &frame.payload, header.masking_key);
        let original = &stream[pos..pos + len + frame.payload.len()];
        if header.encoded_len() == len {
            assert_eq!(out, original, "decode then encode changed the bytes");
        }
        pos += len + frame.payload.len();
    }

    // Both roles, whole input: never a panic; a failure is sticky.
    for role in [Role::Server, Role::Client] {
        let config = Config::new(role)
            .with_limits(small_limits())
            .expect("valid limits")
            .with_mask_keys(MaskKeySource::Seeded(1));
        let mut conn = Connection::new(config);
        let _ = conn.receive(&stream[..stream.len().min(small_limits().max_input_buffer)]);
        let mut failed = false;
        for _ in 0..10_000 {
            match conn.next_event() {
                Ok(Some(_)) => assert!(!failed),
                Ok(None) => break,
                Err(_) => {
                    if failed {
                        break;
                    }
                    failed = true;
                }
            }
            let n = conn.output().len();
            conn.consume_output(n);
        }
    }
});
