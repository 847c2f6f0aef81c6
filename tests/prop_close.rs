//! Property: the close code validator agrees with a table written from RFC 6455 §7.4 (and the
//! IANA registry of §11.7), for every code: on the wire in both directions, in
//! `parse_close_payload`, and when sending.
//!
//! Cases: `PROPTEST_CASES` (default 256) raises the count; one test also checks all 65536 codes.

use proptest::prelude::*;
use rfc6455::close::parse_close_payload;
use rfc6455::frame::OpCode;
use rfc6455::frame::encoder::encode_frame;
use rfc6455::{CloseCode, Config, Connection, Error, Message, ProtocolError, UsageError};

/// What §7.4 says of each code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// §7.4.1: defined, may be sent (1000-1003, 1007-1011), or IANA-registered since
    /// (1012-1014); §7.4.2: 3000-3999 registered, 4000-4999 private use.
    Allowed,
    /// §7.4.1: 1004 reserved; 1005, 1006, 1015 "MUST NOT be set as a status code in a Close
    /// control frame".
    Reserved,
    /// §7.4.2: 0-999 not used; 1016-2999 for future revisions of the protocol; 5000+ undefined.
    NotUsed,
}

fn rule(code: u16) -> Rule {
    match code {
        0..=999 => Rule::NotUsed,
        1000..=1003 => Rule::Allowed,
        1004..=1006 => Rule::Reserved,
        1007..=1011 => Rule::Allowed,
        1012..=1014 => Rule::Allowed,
        1015 => Rule::Reserved,
        1016..=2999 => Rule::NotUsed,
        3000..=3999 => Rule::Allowed,
        4000..=4999 => Rule::Allowed,
        5000.. => Rule::NotUsed,
    }
}

/// Codes near every edge of the table, and any code.
fn code() -> impl Strategy<Value = u16> {
    prop_oneof![
        prop::sample::select(vec![
            0u16,
            999,
            1000,
            1003,
            1004,
            1005,
            1006,
            1007,
            1011,
            1014,
            1015,
            1016,
            2999,
            3000,
            4999,
            5000,
            u16::MAX
        ]),
        990u16..1020,
        any::<u16>(),
    ]
}

#[test]
fn s7_4_every_code_agrees_with_the_table() {
    for code in 0..=u16::MAX {
        assert_eq!(CloseCode(code).is_allowed_on_wire(), rule(code) == Rule::Allowed, "code {code}");
    }
}

proptest! {
    #[test]
    fn s7_4_received_close_codes_follow_the_table(code in code(), reason in "[a-zA-Z0-9 κό€]{0,20}") {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice(reason.as_bytes());

        let parsed = parse_close_payload(&payload);
        // A server reads the client's masked Close and answers unmasked, easy to read back.
        let mut conn = Connection::new(Config::server());
        let mut frame = Vec::new();
        encode_frame(&mut frame, true, 0, OpCode::Close, &payload, Some([1, 2, 3, 4]));
        conn.receive(&frame).unwrap();
        let event = conn.next_event().map(|e| e.map(|e| Message::from_event(&e)));
        let mut sender = Connection::new(Config::server());
        let sent = sender.close(CloseCode(code), "");

        if rule(code) == Rule::Allowed {
            prop_assert_eq!(parsed, Ok(Some((CloseCode(code), reason.as_str()))));
            prop_assert_eq!(event.unwrap(), Some(Some(Message::Close(Some(CloseCode(code)), reason.to_owned())))) ;
            // §5.5.1: the echo carries the same code.
            prop_assert_eq!(&conn.output()[..2], &[0x88, 0x02][..]);
            prop_assert_eq!(&conn.output()[2..4], &code.to_be_bytes()[..]);
            prop_assert_eq!(sent, Ok(()));
        } else {
            prop_assert_eq!(parsed, Err(ProtocolError::InvalidCloseCode(code)));
            // §7.4: an invalid code fails the connection with 1002.
            prop_assert!(matches!(event, Err(Error::Protocol(ProtocolError::InvalidCloseCode(c))) if c == code));
            prop_assert_eq!(&conn.output()[2..4], &1002u16.to_be_bytes()[..]);
            prop_assert_eq!(sent, Err(UsageError::InvalidCloseCode(code)));
        }
    }
}
