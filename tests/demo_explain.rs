//! The frame explainer (`examples/explain.rs`, logic in `examples/common/explain.rs`): the
//! examples of RFC 6455 §5.7 come out valid with every field named, frames written by the
//! crate itself are valid, and each kind of broken field is reported with the rule it breaks.

#[path = "../examples/common/explain.rs"]
mod explain;

use explain::{Report, Sender, explain, parse_hex};
use rfc6455::{Config, Connection};

fn run(hex: &str, sender: Sender) -> Report {
    explain(&parse_hex(hex).expect("valid hex"), sender)
}

/// Assert the bytes are valid and return the explanation.
fn valid(hex: &str, sender: Sender) -> String {
    let report = run(hex, sender);
    assert_eq!((report.problems, report.truncated), (0, false), "{}", report.text);
    report.text
}

/// Assert the bytes break exactly one rule, whose explanation mentions `rule`.
fn broken(hex: &str, sender: Sender, rule: &str) -> String {
    let report = run(hex, sender);
    assert_eq!(report.problems, 1, "{}", report.text);
    let problem = report.text.lines().find(|line| line.contains("problem:")).unwrap_or_default();
    assert!(problem.contains(rule), "expected {rule:?} in {problem:?}\n{}", report.text);
    report.text
}

#[test]
fn hex_is_read_in_every_common_spelling() {
    let expected = vec![0x81, 0x05, 0xab];
    for text in ["81 05 ab", "8105ab", "0x81,0x05,0xAB", "\\x81\\x05\\xab", "81:05:ab", "[0x81, 0x05, 0xab]\n"] {
        assert_eq!(parse_hex(text), Ok(expected.clone()), "{text}");
    }
    assert!(parse_hex("8").is_err());
    assert!(parse_hex("zz").is_err());
}

#[test]
fn s5_7_single_frame_unmasked_text() {
    let text = valid("81 05 48 65 6c 6c 6f", Sender::Server);
    for field in ["FIN    1", "RSV1   0", "opcode 0x1  text", "MASK   0", "length 5", "7-bit form", "\"Hello\""] {
        assert!(text.contains(field), "missing {field:?} in\n{text}");
    }
}

#[test]
fn s5_7_single_frame_masked_text_shows_key_and_unmasked_payload() {
    let text = valid("81 85 37 fa 21 3d 7f 9f 4d 51 58", Sender::Client);
    assert!(text.contains("bytes 2-5 = 37 fa 21 3d: masking key"), "{text}");
    assert!(text.contains("masked   7f 9f 4d 51 58"), "{text}");
    assert!(text.contains("unmasked 48 65 6c 6c 6f"), "{text}");
    assert!(text.contains("\"Hello\""), "{text}");
}

#[test]
fn s5_7_fragmented_text_ping_and_pong() {
    let text = valid("01 03 48 65 6c 80 02 6c 6f", Sender::Server);
    assert!(text.contains("more fragments follow"), "{text}");
    assert!(text.contains("continuation"), "{text}");
    assert!(text.contains("frame 2: bytes 5-8"), "offsets count from the start of the input:\n{text}");
    let text = valid("89 05 48 65 6c 6c 6f", Sender::Server);
    assert!(text.contains("ping") && text.contains("\"Hello\""), "{text}");
    let text = valid("8a 85 37 fa 21 3d 7f 9f 4d 51 58", Sender::Client);
    assert!(text.contains("pong") && text.contains("\"Hello\""), "{text}");
}

#[test]
fn s5_7_sixteen_and_sixty_four_bit_lengths() {
    let payload_256 = "00 ".repeat(256);
    let text = valid(&format!("82 7e 01 00 {payload_256}"), Sender::Server);
    assert!(text.contains("= 256: 16-bit length"), "{text}");
    assert!(text.contains("(192 more)"), "long payloads are cut in the listing:\n{text}");
    let payload_64k = "00".repeat(65536);
    let text = valid(&format!("82 7f 00 00 00 00 00 01 00 00 {payload_64k}"), Sender::Server);
    assert!(text.contains("= 65536: 64-bit length"), "{text}");
}

#[test]
fn close_frames_show_code_and_reason() {
    let text = valid("88 06 03 e8 62 79 65 21", Sender::Server);
    assert!(text.contains("status   1000 normal closure"), "{text}");
    assert!(text.contains("reason   \"bye!\""), "{text}");
    let text = valid("88 00", Sender::Server);
    assert!(text.contains("1005"), "{text}");
}

#[test]
fn frames_written_by_the_crate_are_valid() {
    let mut client = Connection::new(Config::client());
    client.send_text("hello, explainer").expect("send");
    client.send_binary(&[0u8; 300]).expect("send");
    client.ping(b"are you there").expect("ping");
    client.close(rfc6455::CloseCode::GOING_AWAY, "done").expect("close");
    let report = explain(client.output(), Sender::Client);
    assert_eq!((report.frames, report.problems, report.truncated), (4, 0, false), "{}", report.text);
    assert!(report.text.contains("\"hello, explainer\""));
    assert!(report.text.contains("status   1001 going away"));

    let mut server = Connection::new(Config::server());
    server.send_text("from the server").expect("send");
    let report = explain(server.output(), Sender::Server);
    assert_eq!((report.frames, report.problems), (1, 0), "{}", report.text);
}

#[test]
fn header_rules_are_named_with_their_sections() {
    broken("c1 00", Sender::Unknown, "RSV1 is set");
    broken("a1 00", Sender::Unknown, "RSV2 is set");
    broken("91 00", Sender::Unknown, "RSV3 is set");
    broken("83 00", Sender::Unknown, "opcode 0x3 is reserved (§5.2");
    broken("8b 00", Sender::Unknown, "opcode 0xb is reserved");
    broken("09 00", Sender::Unknown, "control frames MUST NOT be fragmented (§5.5)");
    let long_ping = format!("89 7e 00 7e {}", "00 ".repeat(126));
    broken(&long_ping, Sender::Unknown, "at most 125 are allowed (§5.5)");
    broken("82 7e 00 05 00 00 00 00 00", Sender::Unknown, "minimal number of bytes");
    broken("82 7f 00 00 00 00 00 00 00 05 00 00 00 00 00", Sender::Unknown, "minimal number of bytes");
    let overflow = run("82 7f 80 00 00 00 00 00 00 00", Sender::Unknown);
    assert!(overflow.text.contains("most significant bit of a 64-bit length MUST be 0 (§5.2)"), "{}", overflow.text);
}

#[test]
fn masking_is_judged_by_who_sent_the_frame() {
    broken("81 00", Sender::Client, "a client MUST mask every frame it sends");
    broken("81 80 01 02 03 04", Sender::Server, "a server MUST NOT mask");
    valid("81 00", Sender::Unknown);
    valid("81 80 01 02 03 04", Sender::Unknown);
}

#[test]
fn payload_and_message_rules() {
    broken("81 02 c3 28", Sender::Server, "valid UTF-8 (§5.6, §8.1)");
    broken("81 01 c3", Sender::Server, "ends inside a UTF-8 sequence");
    // A code point split across two fragments is fine (§5.6: the message is what counts).
    valid("01 01 c3 80 01 a9", Sender::Server);
    broken("80 02 6c 6f", Sender::Server, "no fragmented message to continue (§5.4)");
    broken("01 01 61 81 01 62", Sender::Server, "expected a continuation frame (§5.4)");
    broken("88 01 03", Sender::Server, "a close payload of 1 byte");
    broken("88 02 03 ed", Sender::Server, "status 1005 may not be sent");
    broken("88 04 03 e8 ff fe", Sender::Server, "close reason MUST be UTF-8 (§5.5.1)");
    valid("88 02 0b b8", Sender::Server);
}
