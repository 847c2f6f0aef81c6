//! Messages larger than a frame, both ways, with the crate's default limits: sending splits a
//! long message into frames a peer accepts (RFC 6455 §5.4), and streaming delivery bounds a
//! message by its own limit, since nothing is buffered whole.

use rfc6455::extensions::permessage_deflate::{DeflateConfig, DeflateParams};
use rfc6455::frame::FrameHeader;
use rfc6455::{Config, Connection, Delivery, Error, Event, Limits, MaskKeySource, MessageKind, ProtocolError};

fn client() -> Connection {
    Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(9)))
}

/// Move `from`'s output into `to` in pieces that fit its input buffer, calling `on_event` for
/// every event; returns the first error.
fn pump(from: &mut Connection, to: &mut Connection, on_event: &mut dyn FnMut(&Event)) -> Result<(), Error> {
    let piece = 64 << 10;
    while !from.output().is_empty() {
        let n = from.output().len().min(piece);
        to.receive(&from.output()[..n])?;
        from.consume_output(n);
        while let Some(event) = to.next_event()? {
            on_event(&event);
        }
    }
    Ok(())
}

/// The payload length of every frame in `bytes`.
fn frame_lengths(bytes: &[u8]) -> Vec<u64> {
    let mut lengths = Vec::new();
    let mut at = 0;
    while let Ok(Some((header, len))) = FrameHeader::parse(&bytes[at..]) {
        lengths.push(header.payload_len);
        at += len + header.payload_len as usize;
    }
    assert_eq!(at, bytes.len(), "whole frames");
    lengths
}

fn varied(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i as u32).wrapping_mul(2_654_435_761).rotate_left(7) as u8).collect()
}

#[test]
fn s5_4_a_20_mib_message_is_sent_in_frames_a_default_peer_accepts() {
    let data = varied(20 << 20);
    let mut client = client();
    client.send_binary(&data).unwrap();
    let lengths = frame_lengths(client.output());
    assert!(lengths.len() > 1, "one frame of {} bytes", lengths[0]);
    let max_send = Limits::default().max_send_frame_size as u64;
    assert!(max_send <= Limits::default().max_frame_size as u64, "the default fits the default peer");
    assert!(lengths.iter().all(|&len| len <= max_send), "{lengths:?}");

    let mut server = Connection::new(Config::server());
    let mut got = None;
    pump(&mut client, &mut server, &mut |event| {
        if let Event::Binary(bytes) = event {
            got = Some(bytes.to_vec());
        }
    })
    .unwrap();
    assert!(got.as_deref() == Some(&data[..]), "the message arrived intact");
}

#[test]
fn s5_4_sent_fragments_are_split_too_and_text_stays_whole() {
    let limits = Limits { max_send_frame_size: 1000, ..Limits::default() };
    let mut client = Connection::new(Config::client().with_limits(limits).unwrap());
    let text = "€".repeat(1000); // 3000 bytes; frames split inside code points (§5.4 allows it).
    client.send_fragment(MessageKind::Text, &text.as_bytes()[..2500], false).unwrap();
    client.send_fragment(MessageKind::Text, &text.as_bytes()[2500..], true).unwrap();
    assert_eq!(frame_lengths(client.output()), [1000, 1000, 500, 500]);
    let mut server = Connection::new(Config::server());
    let mut got = None;
    pump(&mut client, &mut server, &mut |event| {
        if let Event::Text(t) = event {
            got = Some(t.to_string());
        }
    })
    .unwrap();
    assert_eq!(got.as_deref(), Some(text.as_str()));
}

#[test]
fn rfc7692_a_compressed_message_is_split_into_frames_too() {
    let params = DeflateParams {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
    };
    let deflate = DeflateConfig::default().with_params(params);
    let limits = Limits { max_send_frame_size: 4096, ..Limits::default() };
    let mut client = Connection::new(
        Config::client().with_mask_keys(MaskKeySource::Seeded(2)).with_limits(limits).unwrap().with_deflate(deflate),
    );
    let data = varied(1 << 20);
    client.send_binary(&data).unwrap();
    let lengths = frame_lengths(client.output());
    assert!(lengths.len() > 1 && lengths.iter().all(|&len| len <= 4096), "{lengths:?}");
    // RSV1 on the first frame only (RFC 7692 §6).
    assert_eq!(client.output()[0] & 0x40, 0x40);
    let mut server = Connection::new(Config::server().with_deflate(deflate));
    let mut got = None;
    pump(&mut client, &mut server, &mut |event| {
        if let Event::Binary(bytes) = event {
            got = Some(bytes.to_vec());
        }
    })
    .unwrap();
    assert!(got.as_deref() == Some(&data[..]));
}

/// Stream `total` bytes as one message of 1 MiB fragments into a streaming server with
/// `limits`; returns how many bytes it delivered and its error, if any.
fn stream_into(limits: Limits, total: usize) -> (u64, Option<Error>) {
    let mut client = client();
    let mut server = Connection::new(Config::server().with_limits(limits).unwrap().with_delivery(Delivery::Streaming));
    let piece = vec![b'x'; 1 << 20];
    let mut delivered = 0u64;
    let mut sent = 0;
    while sent < total {
        let n = piece.len().min(total - sent);
        sent += n;
        client.send_fragment(MessageKind::Binary, &piece[..n], sent == total).unwrap();
        let result = pump(&mut client, &mut server, &mut |event| {
            if let Event::Fragment { data, .. } = event {
                delivered += data.len() as u64;
            }
        });
        if let Err(error) = result {
            return (delivered, Some(error));
        }
    }
    (delivered, None)
}

#[test]
fn streaming_delivery_takes_an_80_mib_message_with_the_default_limits() {
    let total = 80 << 20;
    assert!(total > Limits::default().max_message_size, "longer than a buffered message may be");
    let (delivered, error) = stream_into(Limits::default(), total);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(delivered, total as u64);
}

#[test]
fn streaming_delivery_has_a_limit_of_its_own() {
    let limits = Limits { max_stream_size: 3 << 20, ..Limits::default() };
    let (delivered, error) = stream_into(limits, 4 << 20);
    assert!(matches!(error, Some(Error::Protocol(ProtocolError::MessageTooLarge))), "{error:?}");
    assert!(delivered <= 3 << 20, "{delivered}");
    let (delivered, error) = stream_into(limits, 3 << 20);
    assert!(error.is_none(), "exactly the limit: {error:?}");
    assert_eq!(delivered, 3 << 20);
}

/// A client's 64 KiB text frame whose payload is `payload` (not necessarily UTF-8).
fn text_frame(payload: &[u8]) -> Vec<u8> {
    let mut c = client();
    c.send_binary(payload).unwrap();
    let mut wire = c.output().to_vec();
    // Same frame, Text opcode (the masking does not cover the header).
    wire[0] = 0x81;
    wire
}

/// Feed `wire` the way an I/O layer reads it (`read_buf` sized by the connection), pulling
/// events after each read; returns the error and how many wire bytes had been read by then.
fn read_until_error(server: &mut Connection, wire: &[u8]) -> Option<(Error, usize)> {
    let mut at = 0;
    while at < wire.len() {
        let buf = server.read_buf();
        let n = buf.len().min(wire.len() - at);
        buf[..n].copy_from_slice(&wire[at..at + n]);
        server.commit(n);
        at += n;
        loop {
            match server.next_event() {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(error) => return Some((error, at)),
            }
        }
    }
    None
}

#[test]
fn s8_1_invalid_utf8_early_in_a_large_text_frame_fails_before_the_rest_arrives() {
    let mut payload = vec![b'a'; 64 << 10];
    payload[100] = 0xFF;
    let wire = text_frame(&payload);
    let mut server = Connection::new(Config::server());
    let (error, read) = read_until_error(&mut server, &wire).expect("fails");
    assert!(matches!(error, Error::Protocol(ProtocolError::InvalidUtf8)), "{error:?}");
    assert!(read < wire.len(), "failed only after the whole frame ({read} bytes)");
    assert_eq!(&server.output()[..4], &[0x88, 0x02, 0x03, 0xEF], "Close 1007");
}

#[test]
fn s8_1_invalid_utf8_in_the_last_piece_of_a_large_text_frame_fails_with_1007() {
    // The last piece (read straight into the message buffer) is validated with the whole
    // message when it is handed out: the failure is the same, in the same `next_event`.
    for bad in [(64 << 10) - 1, (64 << 10) - 3, 40 << 10] {
        let mut payload = vec![b'a'; 64 << 10];
        payload[bad] = 0xC3; // a lead byte without its continuation
        let wire = text_frame(&payload);
        let mut server = Connection::new(Config::server());
        let (error, read) = read_until_error(&mut server, &wire).expect("fails");
        assert!(matches!(error, Error::Protocol(ProtocolError::InvalidUtf8)), "bad byte at {bad}: {error:?}");
        assert_eq!(read, wire.len());
        assert_eq!(&server.output()[..4], &[0x88, 0x02, 0x03, 0xEF], "Close 1007");
        assert!(matches!(server.next_event(), Err(Error::Protocol(ProtocolError::InvalidUtf8))));
    }
    // And a valid one of the same shape arrives whole.
    let text = "é".repeat(32 << 10);
    let wire = text_frame(text.as_bytes());
    let mut server = Connection::new(Config::server());
    assert!(read_until_error(&mut server, &wire).is_none());
}
