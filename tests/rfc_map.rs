//! Keeps `docs/rfc-map.md` honest.
//!
//! The map has one row for every sentence of RFC 6455 §4-§10 that states a requirement with
//! MUST, MUST NOT, REQUIRED or SHALL. These tests check, for every row:
//!
//! - its number, section and quote match the sentence the RFC text gives at that place (when
//!   the RFC text is found at `../shared/rfc/rfc6455.txt` beside the repository), and the row
//!   count equals [`EXPECTED_STATEMENTS`] either way;
//! - every file it names exists and defines every function it names;
//! - every test it names exists as a `#[test]` function under `src/` or `tests/`;
//! - its status is one of four, with code and a test for "enforced", a reason otherwise;
//! - the counts printed at the top of the map add up.
//!
//! The checker is a function returning its complaints, so the last of the map tests feeds it
//! broken maps and checks that each one is caught.
//!
//! Below the map tests are tests of requirements that no other test of the suite covers; the
//! map names them.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use rfc6455::blocking::{ClientConfig, Decision, Server, connect, connect_with};
use rfc6455::extensions::permessage_deflate::DeflateConfig;
use rfc6455::frame::FrameHeader;
use rfc6455::handshake::{ServerHandshake, accept_key, accept_response};
use rfc6455::{
    CloseCode, Config, Connection, Error, HandshakeError, MaskKeySource, Message, MessageKind, ProtocolError,
    UsageError,
};

/// Sentences of RFC 6455 §4-§10 with MUST, MUST NOT, REQUIRED or SHALL (126 occurrences of
/// MUST in 119 sentences; REQUIRED and SHALL do not occur there).
const EXPECTED_STATEMENTS: usize = 119;

const STATUSES: [&str; 4] = ["enforced", "partly enforced", "not applicable", "not enforced"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rfc_text() -> Option<String> {
    fs::read_to_string(root().join("../shared/rfc/rfc6455.txt")).ok()
}

// ---------------------------------------------------------------------------------------------
// Extracting the requirements from the RFC text
// ---------------------------------------------------------------------------------------------

/// The requirement sentences of §4 to §10, in order, each with its section number.
///
/// The text is cleaned of page breaks (footer, form feed, running header and the blank lines
/// around them, so a paragraph split by a page break joins up again), cut to the lines from
/// "4.  Opening Handshake" to "11.  IANA Considerations", and split into paragraphs at blank
/// lines and section headings. A paragraph is split into sentences after `.`, `?` or `!` (or
/// `.)`) followed by a space and a capital letter, `"` or `(`, except after "cf.", "e.g." and
/// "i.e.". A sentence counts if it holds the word MUST, REQUIRED or SHALL.
fn rfc_requirements(text: &str) -> Vec<(String, String)> {
    // Drop the page breaks.
    let mut lines: Vec<&str> = Vec::new();
    let mut after_header = false;
    for line in text.lines() {
        let line = line.strip_prefix('\u{c}').unwrap_or(line);
        if line.starts_with("Fette & Melnikov") && line.contains("Standards Track") && line.ends_with(']') {
            while lines.last().is_some_and(|l| l.trim().is_empty()) {
                lines.pop();
            }
            continue;
        }
        if line.starts_with("RFC 6455") && line.ends_with("December 2011") {
            after_header = true;
            continue;
        }
        if after_header && line.trim().is_empty() {
            continue;
        }
        after_header = false;
        lines.push(line);
    }
    let start = lines.iter().position(|l| *l == "4.  Opening Handshake").expect("§4 heading");
    let end = lines.iter().position(|l| *l == "11.  IANA Considerations").expect("§11 heading");

    let mut paragraphs: Vec<(String, String)> = Vec::new();
    let mut section = String::new();
    let mut current: Vec<&str> = Vec::new();
    let flush = |section: &str, current: &mut Vec<&str>, paragraphs: &mut Vec<(String, String)>| {
        if !current.is_empty() {
            let joined: Vec<&str> = current.iter().flat_map(|l| l.split_whitespace()).collect();
            paragraphs.push((section.to_owned(), joined.join(" ")));
            current.clear();
        }
    };
    for line in &lines[start..end] {
        if let Some(number) = section_heading(line) {
            flush(&section, &mut current, &mut paragraphs);
            section = number.to_owned();
        } else if line.trim().is_empty() {
            flush(&section, &mut current, &mut paragraphs);
        } else {
            current.push(line);
        }
    }
    flush(&section, &mut current, &mut paragraphs);

    let mut requirements = Vec::new();
    for (section, paragraph) in paragraphs {
        for sentence in sentences(&paragraph) {
            let is_requirement = sentence
                .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .any(|word| matches!(word, "MUST" | "REQUIRED" | "SHALL"));
            if is_requirement {
                requirements.push((section.clone(), sentence.to_owned()));
            }
        }
    }
    requirements
}

/// "5.5.1" for the line "5.5.1.  Close": digits and dots at the start of the line, then ".  ".
fn section_heading(line: &str) -> Option<&str> {
    let (number, title) = line.split_once(".  ")?;
    let numeric =
        number.starts_with(|c: char| c.is_ascii_digit()) && number.chars().all(|c| c.is_ascii_digit() || c == '.');
    (numeric && !title.trim().is_empty()).then_some(number)
}

fn sentences(paragraph: &str) -> Vec<&str> {
    let bytes = paragraph.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if matches!(bytes[i], b'.' | b'?' | b'!') {
            let mut j = i + 1;
            if bytes.get(j) == Some(&b')') {
                j += 1;
            }
            let next_starts_sentence = bytes.get(j) == Some(&b' ')
                && bytes.get(j + 1).is_some_and(|&b| b.is_ascii_uppercase() || b == b'"' || b == b'(');
            let abbreviation = ["cf.", "e.g.", "i.e."].iter().any(|a| paragraph[..=i].ends_with(a));
            if next_starts_sentence && !abbreviation {
                out.push(paragraph[start..j].trim());
                start = j + 1;
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }
    out.push(paragraph[start..].trim());
    out
}

// ---------------------------------------------------------------------------------------------
// Reading and checking the map
// ---------------------------------------------------------------------------------------------

/// One row of the map.
#[derive(Debug)]
struct Row {
    number: usize,
    section: String,
    quote: String,
    status: String,
    /// (file, function) pairs named before the " — " of the code cell.
    code: Vec<(String, String)>,
    /// The code cell's text after " — ", or all of it when it names no code.
    note: String,
    tests: Vec<String>,
}

/// Split a table line at the `|`s that are not escaped as `\|`.
fn cells(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                chars.next();
                cells.last_mut().unwrap().push('|');
            }
            '|' => cells.push(String::new()),
            c => cells.last_mut().unwrap().push(c),
        }
    }
    cells.iter().map(|c| c.trim().to_owned()).collect()
}

/// The text of every `backticked` span, in order.
fn backticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// The rows of the RFC 6455 table: lines `| N | § | "quote" | status | code | tests |`.
fn parse_map(map: &str) -> Result<Vec<Row>, String> {
    parse_rows(map, |id| id.parse().ok())
}

/// The rows of the RFC 8441 server table: lines `| 8441-sN | § | "quote" | status | code |
/// tests |`.
fn parse_rfc8441_server_rows(map: &str) -> Result<Vec<Row>, String> {
    parse_rows(map, |id| id.strip_prefix(RFC8441_SERVER_ID)?.parse().ok())
}

/// The rows of the RFC 8441 client table: lines `| 8441-cN | § | "quote" | status | code |
/// tests |`.
fn parse_rfc8441_client_rows(map: &str) -> Result<Vec<Row>, String> {
    parse_rows(map, |id| id.strip_prefix(RFC8441_CLIENT_ID)?.parse().ok())
}

/// The rows of a table whose first cell `number` reads as a row number.
fn parse_rows(map: &str, number: impl Fn(&str) -> Option<usize>) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for (index, line) in map.lines().enumerate() {
        if !line.starts_with('|') {
            continue;
        }
        let cells = cells(line);
        // ["", "#", "§", "requirement", "status", "code", "test", ""]
        let Some(number) = cells.get(1).and_then(|c| number(c)) else { continue };
        if cells.len() != 8 {
            return Err(format!("line {}: expected 6 cells, found {}", index + 1, cells.len() - 2));
        }
        let code_cell = &cells[5];
        let (refs, note) = match code_cell.split_once(" — ") {
            Some((refs, note)) => (refs, note),
            None if code_cell.starts_with("`src/") => (code_cell.as_str(), ""),
            None => ("", code_cell.as_str()),
        };
        let mut code = Vec::new();
        let mut file: Option<&str> = None;
        for span in backticked(refs) {
            if span.starts_with("src/") && span.ends_with(".rs") {
                file = Some(span);
            } else {
                let file = file.ok_or_else(|| format!("row {number}: function `{span}` before any file"))?;
                code.push((file.to_owned(), span.to_owned()));
            }
        }
        let tests =
            if cells[6] == "—" { Vec::new() } else { backticked(&cells[6]).into_iter().map(str::to_owned).collect() };
        rows.push(Row {
            number,
            section: cells[2].clone(),
            quote: cells[3].trim_matches('"').to_owned(),
            status: cells[4].clone(),
            code,
            note: note.trim().to_owned(),
            tests,
        });
    }
    Ok(rows)
}

/// Every `.rs` file under `dir`, with its text.
fn rust_files(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs")
            && let Ok(text) = fs::read_to_string(&path)
        {
            out.push((path, text));
        }
    }
}

/// Whether `text` defines `fn name` (followed by `(` or `<`).
fn defines_fn(text: &str, name: &str) -> bool {
    let needle = format!("fn {name}");
    text.match_indices(&needle).any(|(at, _)| {
        let before_ok = at == 0 || !text.as_bytes()[at - 1].is_ascii_alphanumeric();
        let after = text[at + needle.len()..].chars().next();
        before_ok && matches!(after, Some('(' | '<'))
    })
}

/// Whether `text` defines `fn name` marked `#[test]` or `#[tokio::test]` (directly, or among
/// the attributes and doc comments right above it, as in a `proptest!` block).
fn defines_test(text: &str, name: &str) -> bool {
    let needle = format!("fn {name}(");
    text.match_indices(&needle).any(|(at, _)| {
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        text[..line_start]
            .lines()
            .rev()
            .map(str::trim)
            .take_while(|l| l.starts_with("#[") || l.starts_with("//"))
            .any(|l| l == "#[test]" || l.starts_with("#[tokio::test"))
    })
}

/// Everything wrong with `map`, checked against the sources under `root` and, when given, the
/// RFC's requirement sentences.
fn check_map(map: &str, root: &Path, requirements: Option<&[(String, String)]>) -> Vec<String> {
    let rows = match parse_map(map) {
        Ok(rows) => rows,
        Err(e) => return vec![e],
    };
    let mut errors = Vec::new();
    if rows.len() != EXPECTED_STATEMENTS {
        errors.push(format!("{} rows, expected {EXPECTED_STATEMENTS}", rows.len()));
    }
    if let Some(requirements) = requirements
        && requirements.len() != EXPECTED_STATEMENTS
    {
        errors
            .push(format!("the RFC has {} requirement sentences, expected {EXPECTED_STATEMENTS}", requirements.len()));
    }

    for (index, row) in rows.iter().enumerate() {
        let n = row.number;
        if let Some((section, sentence)) = requirements.and_then(|r| r.get(index)) {
            if &row.section != section {
                errors.push(format!("row {n}: section {} but the RFC sentence is in §{section}", row.section));
            }
            for fragment in row.quote.split('…').map(str::trim).filter(|f| !f.is_empty()) {
                if !sentence.contains(fragment) {
                    errors.push(format!("row {n}: quote {fragment:?} is not in the sentence {sentence:?}"));
                }
            }
        }
    }
    errors.extend(check_rows(&rows, root));
    let summary = count_line("**Count:**", &rows);
    if !map.contains(&summary) {
        errors.push(format!("the map does not carry the line {summary:?}"));
    }
    errors
}

/// The count line a table's rows call for, after `label`.
fn count_line(label: &str, rows: &[Row]) -> String {
    let count = |status: &str| rows.iter().filter(|r| r.status == status).count();
    format!(
        "{label} {} statements: {} enforced, {} partly enforced, {} not applicable, {} not enforced.",
        rows.len(),
        count("enforced"),
        count("partly enforced"),
        count("not applicable"),
        count("not enforced")
    )
}

/// What every row of any table must hold: its number in sequence, a known status, code and
/// tests when enforced (a reason otherwise), files that define the functions named, and tests
/// that exist.
fn check_rows(rows: &[Row], root: &Path) -> Vec<String> {
    let mut errors = Vec::new();
    let mut sources = Vec::new();
    rust_files(&root.join("src"), &mut sources);
    rust_files(&root.join("tests"), &mut sources);

    for (index, row) in rows.iter().enumerate() {
        let n = row.number;
        if n != index + 1 {
            errors.push(format!("row {} is numbered {n}", index + 1));
        }
        if !STATUSES.contains(&row.status.as_str()) {
            errors.push(format!("row {n}: unknown status {:?}", row.status));
        }
        let with_code = matches!(row.status.as_str(), "enforced" | "partly enforced");
        if with_code && (row.code.is_empty() || row.tests.is_empty()) {
            errors.push(format!("row {n}: {} but names no code or no test", row.status));
        }
        if !with_code && (!row.code.is_empty() || !row.tests.is_empty() || row.note.len() < 20) {
            errors.push(format!("row {n}: {} needs a reason and no code or tests", row.status));
        }
        if row.status == "partly enforced" && row.note.len() < 20 {
            errors.push(format!("row {n}: partly enforced, but the note does not say what is missing"));
        }
        for (file, function) in &row.code {
            let Ok(text) = fs::read_to_string(root.join(file)) else {
                errors.push(format!("row {n}: no file {file}"));
                continue;
            };
            let mut segments = function.rsplit("::");
            let name = segments.next().unwrap_or_default();
            if !defines_fn(&text, name) {
                errors.push(format!("row {n}: {file} defines no fn {name}"));
            }
            if let Some(owner) = segments.next()
                && !text.contains(owner)
            {
                errors.push(format!("row {n}: {file} never mentions {owner}"));
            }
        }
        for test in &row.tests {
            if !sources.iter().any(|(_, text)| defines_test(text, test)) {
                errors.push(format!("row {n}: no #[test] fn {test} under src/ or tests/"));
            }
        }
    }

    errors
}

/// The requirements of RFC 8441 on a client: the sentences of §4 and §5 with MUST or MUST NOT
/// that bind the request a client sends.
const RFC8441_CLIENT_STATEMENTS: usize = 4;

/// The first cell of an RFC 8441 client row: `8441-c1`, `8441-c2`, ...
const RFC8441_CLIENT_ID: &str = "8441-c";

/// Everything wrong with the RFC 8441 client table of `map` (quotes not compared, as for the
/// server's).
fn check_rfc8441_client_map(map: &str, root: &Path) -> Vec<String> {
    let rows = match parse_rfc8441_client_rows(map) {
        Ok(rows) => rows,
        Err(e) => return vec![e],
    };
    let mut errors = Vec::new();
    if rows.len() != RFC8441_CLIENT_STATEMENTS {
        errors.push(format!("RFC 8441: {} client rows, expected {RFC8441_CLIENT_STATEMENTS}", rows.len()));
    }
    errors.extend(check_rows(&rows, root).into_iter().map(|e| format!("RFC 8441 client: {e}")));
    let summary = count_line("**RFC 8441, the client's side:**", &rows);
    if !map.contains(&summary) {
        errors.push(format!("the map does not carry the line {summary:?}"));
    }
    errors
}

/// The requirements of RFC 8441 (WebSockets over HTTP/2) on a server: the sentences of §3-§5
/// with MUST or MUST NOT that a server meets or checks.
const RFC8441_SERVER_STATEMENTS: usize = 7;

/// The first cell of an RFC 8441 server row: `8441-s1`, `8441-s2`, ...
const RFC8441_SERVER_ID: &str = "8441-s";

/// Everything wrong with the RFC 8441 server table of `map` (the RFC's text is not beside the
/// repository, so quotes are not compared).
fn check_rfc8441_server_map(map: &str, root: &Path) -> Vec<String> {
    let rows = match parse_rfc8441_server_rows(map) {
        Ok(rows) => rows,
        Err(e) => return vec![e],
    };
    let mut errors = Vec::new();
    if rows.len() != RFC8441_SERVER_STATEMENTS {
        errors.push(format!("RFC 8441: {} server rows, expected {RFC8441_SERVER_STATEMENTS}", rows.len()));
    }
    errors.extend(check_rows(&rows, root).into_iter().map(|e| format!("RFC 8441: {e}")));
    let summary = count_line("**RFC 8441, the server's side:**", &rows);
    if !map.contains(&summary) {
        errors.push(format!("the map does not carry the line {summary:?}"));
    }
    errors
}

fn map_text() -> String {
    fs::read_to_string(root().join("docs/rfc-map.md")).expect("docs/rfc-map.md")
}

#[test]
fn rfc_map_every_row_checks_out() {
    let rfc = rfc_text();
    let requirements = rfc.as_deref().map(rfc_requirements);
    if requirements.is_none() {
        eprintln!("../shared/rfc/rfc6455.txt not found: quotes and sections are not compared with the RFC");
    }
    let errors = check_map(&map_text(), &root(), requirements.as_deref());
    assert!(errors.is_empty(), "docs/rfc-map.md:\n{}", errors.join("\n"));
}

#[test]
fn rfc_map_rfc8441_client_rows_check_out() {
    let errors = check_rfc8441_client_map(&map_text(), &root());
    assert!(errors.is_empty(), "docs/rfc-map.md:\n{}", errors.join("\n"));
}

#[test]
fn rfc_map_checker_catches_broken_rfc8441_client_rows() {
    let map = map_text();
    let check = |broken: &str| check_rfc8441_client_map(broken, &root());
    let row = map.lines().find(|l| l.starts_with("| 8441-c3 |")).expect("row 8441-c3").to_owned();
    // A renamed test, a renamed function, a missing row, a count that no longer adds up.
    let broken = map.replacen("`rfc8441_s5_scheme_is_https_for_wss_and_http_for_ws`", "`rfc8441_s5_scheme`", 1);
    assert!(check(&broken).iter().any(|e| e.contains("no #[test] fn rfc8441_s5_scheme ")));
    let broken = map.replacen("`H2ClientHandshake::pseudo_headers`", "`H2ClientHandshake::pseudo`", 1);
    assert!(check(&broken).iter().any(|e| e.contains("defines no fn pseudo")));
    let broken = map.replacen(&format!("{row}\n"), "", 1);
    assert!(check(&broken).iter().any(|e| e.contains("client rows, expected")));
    let broken = map.replacen(&row, &row.replace("| enforced |", "| not enforced |"), 1);
    assert!(check(&broken).iter().any(|e| e.contains("does not carry the line")));
    // The client's rows are not the server's, nor RFC 6455's.
    assert!(check_rfc8441_server_map(&map, &root()).is_empty());
}

#[test]
fn rfc_map_rfc8441_server_rows_check_out() {
    let errors = check_rfc8441_server_map(&map_text(), &root());
    assert!(errors.is_empty(), "docs/rfc-map.md:\n{}", errors.join("\n"));
}

#[test]
fn rfc_map_checker_catches_broken_rfc8441_rows() {
    let map = map_text();
    let check = |broken: &str| check_rfc8441_server_map(broken, &root());
    let row = map.lines().find(|l| l.starts_with("| 8441-s5 |")).expect("row 8441-s5").to_owned();
    // A renamed test, a renamed function, a missing row, a count that no longer adds up.
    let broken = map.replacen("`rfc8441_s5_the_protocol_must_be_websocket`", "`rfc8441_s5_protocol_is_websocket`", 1);
    assert!(check(&broken).iter().any(|e| e.contains("no #[test] fn rfc8441_s5_protocol_is_websocket")));
    let broken = map.replacen("`ConnectRequest::validate_websocket`", "`ConnectRequest::validate`", 1);
    assert!(check(&broken).iter().any(|e| e.contains("defines no fn validate")));
    let broken = map.replacen(&format!("{row}\n"), "", 1);
    assert!(check(&broken).iter().any(|e| e.contains("server rows, expected")));
    let broken = map.replacen(&row, &row.replace("| enforced |", "| not enforced |"), 1);
    assert!(check(&broken).iter().any(|e| e.contains("does not carry the line")));
}

#[test]
fn rfc_map_rfc_text_has_the_expected_number_of_requirements() {
    let Some(text) = rfc_text() else {
        eprintln!("../shared/rfc/rfc6455.txt not found: count not checked");
        return;
    };
    let requirements = rfc_requirements(&text);
    assert_eq!(requirements.len(), EXPECTED_STATEMENTS);
    assert_eq!(requirements[0].0, "4.1");
    assert!(requirements[0].1.ends_with(
        "it MUST open a connection, send an opening handshake, and read the server's handshake in response."
    ));
    let last = requirements.last().unwrap();
    assert_eq!(
        (last.0.as_str(), last.1.as_str()),
        ("10.7", "Incoming data MUST always be validated by both clients and servers.")
    );
    let musts: usize = requirements.iter().map(|(_, s)| s.matches("MUST").count()).sum();
    assert_eq!(musts, 126);
}

#[test]
fn rfc_map_checker_catches_broken_maps() {
    let map = map_text();
    let requirements = rfc_text().as_deref().map(rfc_requirements);
    let check = |broken: &str| check_map(broken, &root(), requirements.as_deref());
    let first_line = |pattern: &str| map.lines().find(|l| l.contains(pattern)).expect(pattern).to_owned();

    // A renamed test.
    let broken =
        map.replacen("`s5_5_control_frame_over_125_fails_with_1002`", "`s5_5_control_frame_over_125_fails`", 1);
    assert!(check(&broken).iter().any(|e| e.contains("no #[test] fn s5_5_control_frame_over_125_fails")));
    // A helper that exists but is not a test.
    let broken = map.replacen("`s5_7_examples_encode_byte_for_byte`", "`encode_frame`", 1);
    assert!(check(&broken).iter().any(|e| e.contains("no #[test] fn encode_frame")));
    // A renamed function and a missing file.
    let broken = map.replacen("`FrameHeader::parse`", "`FrameHeader::decode_header`", 1);
    assert!(check(&broken).iter().any(|e| e.contains("defines no fn decode_header")));
    let broken = map.replacen("`src/close.rs`", "`src/closing.rs`", 1);
    assert!(check(&broken).iter().any(|e| e.contains("no file src/closing.rs")));
    // A missing row.
    let row = first_line("| 56 | 5.2 |");
    let broken = map.replacen(&format!("{row}\n"), "", 1);
    assert!(check(&broken).iter().any(|e| e.contains("rows, expected")));
    // An enforced row without a test, and a status outside the four.
    let broken = map.replacen(&row, &row.replace("`s5_2_64_bit_length_with_top_bit_fails`", "—"), 1);
    assert!(check(&broken).iter().any(|e| e.contains("row 56: enforced but names no code or no test")));
    let broken = map.replacen(&row, &row.replace("| enforced |", "| mostly |"), 1);
    assert!(check(&broken).iter().any(|e| e.contains("unknown status")));
    // A quote that is not the RFC's.
    if requirements.is_some() {
        let broken =
            map.replacen(&row, &row.replace("most significant bit MUST be 0", "most significant bit MUST be 1"), 1);
        assert!(check(&broken).iter().any(|e| e.contains("row 56: quote")));
    }
}

// ---------------------------------------------------------------------------------------------
// Requirements no other test covers
// ---------------------------------------------------------------------------------------------

const LIMIT: Duration = Duration::from_secs(10);

/// Read from `stream` until `buf` holds an HTTP head; returns the head's length.
fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> usize {
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return end + 4;
        }
        let n = stream.read(&mut chunk).expect("read the head");
        assert!(n > 0, "EOF inside the head");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// §4.1: "Once the client's opening handshake has been sent, the client MUST wait for a
/// response from the server before sending any further data."
#[test]
fn s4_1_client_sends_nothing_before_the_servers_answer() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = thread::spawn(move || {
        let mut ws = connect(&format!("ws://{addr}/")).expect("connect");
        ws.send_text("after the 101").unwrap();
    });
    let (mut stream, _) = listener.accept().unwrap();
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    let mut buf = Vec::new();
    let head_len = read_head(&mut stream, &mut buf);
    assert_eq!(buf.len(), head_len, "bytes behind the request");
    // Nothing more while the answer is pending.
    stream.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let mut byte = [0u8; 1];
    assert!(stream.read(&mut byte).is_err(), "the client sent data before the server's answer");
    let head = std::str::from_utf8(&buf).unwrap();
    let key = head.lines().find_map(|l| l.strip_prefix("Sec-WebSocket-Key: ")).expect("key");
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(key.as_bytes())
    );
    stream.write_all(answer.as_bytes()).unwrap();
    // Now the client's frame arrives: a masked text frame.
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    let mut first = [0u8; 2];
    stream.read_exact(&mut first).unwrap();
    assert_eq!(first[0], 0x81);
    assert_eq!(first[1] & 0x80, 0x80);
    client.join().unwrap();
}

/// §4.1: "If /secure/ is true, the client MUST perform a TLS handshake over the connection
/// after opening the connection and before sending the handshake data." Without TLS, the
/// client refuses `wss://` and opens no connection at all.
#[cfg(not(feature = "tls"))]
#[test]
fn s4_1_wss_is_refused_rather_than_sent_in_clear() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let err = connect(&format!("wss://{addr}/")).unwrap_err();
    assert!(matches!(err, Error::Handshake(HandshakeError::InvalidUri(_))), "{err}");
    listener.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_err(), "a wss:// URI opened a plain TCP connection");
}

/// §4.2.2: "if the server does not wish to agree to one of the suggested subprotocols, it MUST
/// NOT send back a |Sec-WebSocket-Protocol| header field in its response".
#[test]
fn s4_2_2_no_subprotocol_header_without_agreement() {
    let mut handshake = ServerHandshake::new(16 * 1024);
    let request = handshake
        .receive(
            b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: chat, superchat\r\n\
              Sec-WebSocket-Version: 13\r\n\r\n",
        )
        .unwrap()
        .expect("complete");
    let declined = String::from_utf8(accept_response(&request, None, &[]).unwrap()).unwrap();
    assert!(!declined.to_ascii_lowercase().contains("sec-websocket-protocol"), "{declined}");
    let agreed = String::from_utf8(accept_response(&request, Some("chat"), &[]).unwrap()).unwrap();
    assert!(agreed.contains("Sec-WebSocket-Protocol: chat\r\n"), "{agreed}");
}

/// §4.2.2: "If the requested service is not available, the server MUST send an appropriate HTTP
/// error code (such as 404 Not Found) and abort the WebSocket handshake."
#[test]
fn s4_2_2_server_can_refuse_an_unknown_resource_with_404() {
    let server = Server::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let pending = server.accept().unwrap();
        let result = pending.handshake_with(|request| match request.resource_name() {
            "/chat" => Decision::accept(),
            _ => Decision::Reject { status: 404, reason: "no such resource".into() },
        });
        assert!(result.is_err());
    });
    let err = connect(&format!("ws://{addr}/missing")).unwrap_err();
    assert!(matches!(err, Error::Handshake(HandshakeError::Refused(ref r)) if r.status() == 404), "{err}");
    handle.join().unwrap();
}

/// The masking keys of every frame a client connection writes.
fn masking_keys(wire: &[u8]) -> Vec<[u8; 4]> {
    let mut keys = Vec::new();
    let mut at = 0;
    while at < wire.len() {
        let (header, len) = FrameHeader::parse(&wire[at..]).unwrap().expect("whole frame");
        keys.push(header.masking_key.expect("a client masks"));
        at += len + header.payload_len as usize;
    }
    keys
}

/// §5.3: "the client MUST pick a fresh masking key" for every frame; §10.3: "Clients MUST
/// choose a new masking key for each frame".
#[test]
fn s5_3_every_frame_gets_a_fresh_masking_key() {
    let mut client = Connection::new(Config::client());
    for i in 0..100u8 {
        client.send_binary(&[i]).unwrap();
        client.ping(&[i]).unwrap();
    }
    let keys = masking_keys(client.output());
    assert_eq!(keys.len(), 200);
    assert!(keys.windows(2).all(|w| w[0] != w[1]), "the same key twice in a row");
    let mut distinct = keys.clone();
    distinct.sort_unstable();
    distinct.dedup();
    // 200 random 32-bit keys collide once with probability ~5e-6; twice, never in practice.
    assert!(distinct.len() >= keys.len() - 1, "{} distinct keys of {}", distinct.len(), keys.len());
}

/// §5.3: the key "MUST be derived from a strong source of entropy" and not predictable from
/// other keys: connections built from one configuration do not share a key stream.
#[test]
fn s5_3_connections_from_one_config_do_not_share_keys() {
    let config = Config::client();
    assert_eq!(config.mask_keys, MaskKeySource::Entropy, "entropy is the default");
    let mut a = Connection::new(config.clone());
    let mut b = Connection::new(config);
    for conn in [&mut a, &mut b] {
        for _ in 0..4 {
            conn.send_text("x").unwrap();
        }
    }
    assert_ne!(masking_keys(a.output()), masking_keys(b.output()));
}

/// §5.4: "The fragments of one message MUST NOT be interleaved between the fragments of another
/// message": the sender refuses to start another message inside a fragmented one, while a
/// control frame may go between fragments.
#[test]
fn s5_4_sender_never_interleaves_two_messages() {
    let mut client = Connection::new(Config::client());
    client.send_fragment(MessageKind::Text, b"Hel", false).unwrap();
    assert_eq!(client.send_binary(b"x"), Err(UsageError::FragmentationOrder));
    assert_eq!(client.send_text("x"), Err(UsageError::FragmentationOrder));
    assert_eq!(client.send_fragment(MessageKind::Binary, b"x", true), Err(UsageError::FragmentationOrder));
    client.ping(b"between").unwrap();
    client.send_fragment(MessageKind::Text, b"lo", true).unwrap();

    let mut server = Connection::new(Config::server());
    server.receive(client.output()).unwrap();
    let mut messages = Vec::new();
    while let Some(event) = server.next_event().unwrap() {
        messages.push(Message::from_event(&event).unwrap());
    }
    assert_eq!(messages, [Message::Ping(b"between".to_vec()), Message::Text("Hello".into())]);
}

/// §7.1.7: to fail the connection "the client MUST _Close the WebSocket Connection_": once its
/// Close is written, a failed client closes the transport without waiting for the server.
#[test]
fn s7_1_7_failing_client_closes_the_transport_after_its_close() {
    let mut client = Connection::new(Config::client());
    // A masked frame from the server (§5.1).
    client.receive(&[0x81, 0x81, 1, 2, 3, 4, b'a' ^ 1]).unwrap();
    assert!(matches!(client.next_event(), Err(Error::Protocol(ProtocolError::MaskedServerFrame))));
    let (header, len) = FrameHeader::parse(client.output()).unwrap().unwrap();
    assert_eq!(header.opcode, rfc6455::frame::OpCode::Close);
    let mut payload = client.output()[len..].to_vec();
    rfc6455::frame::mask::apply_mask(&mut payload, header.masking_key.unwrap(), 0);
    assert_eq!(payload, 1002u16.to_be_bytes());
    assert!(!client.should_close_transport(), "the Close is written first");
    let n = client.output().len();
    client.consume_output(n);
    assert!(client.should_close_transport(), "then TCP closes, with no EOF from the server");
}

/// §9.1: "the client is only offering to use any advertised extensions and MUST NOT use them
/// unless the server indicates that it wishes to use the extension". A server that does not
/// answer the permessage-deflate offer gets uncompressed frames (a compressed one would set
/// RSV1, which the server fails with 1002).
#[test]
fn s9_1_client_uses_no_extension_the_server_did_not_accept() {
    let server = Server::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let mut ws = server.accept().unwrap().handshake().unwrap();
        while let Ok(message) = ws.read() {
            if message.is_data() {
                ws.send(&message).unwrap();
            }
        }
    });
    let config = ClientConfig {
        deflate: Some(DeflateConfig { threshold: 0, ..DeflateConfig::default() }),
        ..ClientConfig::default()
    };
    let (mut ws, response) = connect_with(&format!("ws://{addr}/"), &config).unwrap();
    assert!(response.extensions.is_empty(), "the server accepted no extension");
    let text = "compressible ".repeat(200);
    ws.send_text(&text).unwrap();
    assert_eq!(ws.read().unwrap(), Message::Text(text));
    ws.close(CloseCode::NORMAL, "").unwrap();
    while ws.read().is_ok() {}
    handle.join().unwrap();
}
