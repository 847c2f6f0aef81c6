//! The guide (`docs/guide/`) and the manual (`docs/manual/`) kept true, as `tests/rfc_map.rs`
//! keeps the RFC map true. Every chapter is read, and:
//!
//! - every file it names (`src/...`, `tests/...`, a link `../../examples/...`) exists;
//! - every function, type and test it names in backticks exists: `Type::method` needs the type
//!   and a `fn method` (or a field or variant of that name); a test name (`s5_5_...`,
//!   `rfc7692_...`) needs a `#[test]` of that name; any other name must occur in the code;
//! - every explainer command shown (`cargo run --example explain -- ...`) is run, through the
//!   explainer's own code, and its output compared with the `text` block that follows it (a
//!   line `...` in the block stands for lines left out);
//! - every status quoted from the RFC map ("(row 82, §5.5.2) "enforced"") agrees with
//!   `docs/rfc-map.md`, and no status is quoted without its row;
//! - every exercise (a `file:` / `change:` / `to:` / `run:` / `fails:` block) names a file that
//!   holds the text to change exactly once, and a test that exists (`scripts/guide_exercises.sh`
//!   makes each change and checks the test fails);
//! - every `rust,ignore` (or `js`) excerpt is code that exists, line by line, in the crate or its
//!   examples;
//! - every row quoted from the measured table of `docs/push-vs-poll.md` holds its numbers;
//! - every RFC 6455 block quote is verbatim (when `../shared/rfc/rfc6455.txt` is beside the
//!   repository, as for `tests/rfc_map.rs`).
//!
//! A renamed function, a deleted test or a changed explainer output fails `cargo test`;
//! `checker_catches_broken_chapters` proves each check bites.

#[path = "../examples/common/explain.rs"]
mod explain;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use rfc6455::extensions::parse_extensions;
use rfc6455::extensions::permessage_deflate::DeflateConfig;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Every chapter of the guide and the manual: (path relative to the root, text).
fn chapters() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for dir in ["docs/guide", "docs/manual"] {
        let Ok(entries) = fs::read_dir(Path::new(ROOT).join(dir)) else { continue };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths.into_iter().filter(|p| p.extension().is_some_and(|e| e == "md")) {
            let text = fs::read_to_string(&path).expect("readable chapter");
            let rel = path.strip_prefix(ROOT).unwrap_or(&path).to_string_lossy().into_owned();
            out.push((rel, text));
        }
    }
    assert!(out.len() >= 9, "the guide's chapters are missing: found {}", out.len());
    out
}

/// What the crate's code defines, read once from `src/`, `tests/`, `examples/`, `benches/`.
struct Code {
    /// Every `fn` name.
    fns: BTreeSet<String>,
    /// Names of `#[test]` functions (proptest's included).
    tests: BTreeSet<String>,
    /// Every `struct`, `enum`, `trait`, `type`, `mod` and `macro_rules!` name.
    types: BTreeSet<String>,
    /// Every identifier that occurs anywhere in the code.
    words: BTreeSet<String>,
    /// The text of every source file, for excerpts.
    sources: Vec<String>,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn html_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            html_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "html") {
            out.push(path);
        }
    }
}

fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| !w.is_empty())
}

impl Code {
    fn read() -> Code {
        let mut files = Vec::new();
        for dir in ["src", "tests", "examples", "benches", "fuzz/fuzz_targets"] {
            rust_files(&Path::new(ROOT).join(dir), &mut files);
        }
        let mut code = Code {
            fns: BTreeSet::new(),
            tests: BTreeSet::new(),
            types: BTreeSet::new(),
            words: BTreeSet::new(),
            sources: Vec::new(),
        };
        // This file names things that do not exist, on purpose (`checker_catches_broken_chapters`).
        files.retain(|f| !f.ends_with("tests/guide.rs"));
        for file in files {
            let text = fs::read_to_string(&file).expect("readable source");
            code.add(&text);
            code.sources.push(text);
        }
        // The browser pages of the examples, for `js` excerpts.
        let mut pages = Vec::new();
        html_files(&Path::new(ROOT).join("examples"), &mut pages);
        for page in pages {
            let text = fs::read_to_string(&page).unwrap_or_default();
            code.words.extend(identifiers(&text).map(String::from));
            code.sources.push(text);
        }
        // The manual's configuration files (nginx): their directives may be named too.
        if let Ok(entries) = fs::read_dir(Path::new(ROOT).join("docs/manual")) {
            for path in entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "conf")) {
                let text = fs::read_to_string(&path).unwrap_or_default();
                code.words.extend(identifiers(&text).map(String::from));
                code.sources.push(text);
            }
        }
        code
    }

    fn add(&mut self, text: &str) {
        let mut attributes_say_test = false;
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with("#[") {
                attributes_say_test |= line.starts_with("#[test]") || line.starts_with("#[tokio::test");
                continue;
            }
            if line.starts_with("//") {
                continue;
            }
            let words: Vec<&str> = identifiers(line).collect();
            for pair in words.windows(2) {
                match pair[0] {
                    "fn" => {
                        self.fns.insert(pair[1].to_string());
                        if attributes_say_test {
                            self.tests.insert(pair[1].to_string());
                        }
                    }
                    "struct" | "enum" | "trait" | "type" | "mod" | "macro_rules" => {
                        self.types.insert(pair[1].to_string());
                    }
                    _ => {}
                }
            }
            self.words.extend(words.iter().map(|w| w.to_string()));
            attributes_say_test = false;
        }
    }
}

/// A fenced code block: its info string (`text`, `rust,ignore`, ...), its lines, and the prose
/// between the previous block and this one.
struct Block {
    info: String,
    lines: Vec<String>,
    prose_before: String,
    line_number: usize,
}

/// The prose of a chapter (code blocks removed) and its code blocks.
fn split(text: &str) -> (String, Vec<Block>) {
    let mut prose = String::new();
    let mut since_block = String::new();
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match current.as_mut() {
            None if trimmed.starts_with("```") => {
                current = Some(Block {
                    info: trimmed.trim_start_matches('`').trim().to_string(),
                    lines: Vec::new(),
                    prose_before: std::mem::take(&mut since_block),
                    line_number: i + 1,
                });
            }
            None => {
                prose.push_str(line);
                prose.push('\n');
                since_block.push_str(line);
                since_block.push('\n');
            }
            Some(_) if trimmed.starts_with("```") => blocks.push(current.take().expect("open block")),
            Some(block) => block.lines.push(line.to_string()),
        }
    }
    assert!(current.is_none(), "a code block is never closed");
    (prose, blocks)
}

/// Spans of inline code in prose: the text between single backticks.
fn code_spans(prose: &str) -> Vec<String> {
    let mut spans = Vec::new();
    for paragraph in prose.split("\n\n") {
        let paragraph = paragraph.replace('\n', " ");
        let mut parts = paragraph.split('`');
        parts.next();
        while let (Some(inside), Some(_)) = (parts.next(), parts.next()) {
            spans.push(inside.trim().to_string());
        }
    }
    spans
}

/// Markdown link targets: `](target)`.
fn link_targets(prose: &str) -> Vec<String> {
    prose
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .map(|t| t.split('#').next().unwrap_or("").to_string())
        .filter(|t| !t.is_empty() && !t.contains("://"))
        .collect()
}

const CODE_DIRS: [&str; 7] = ["src/", "tests/", "examples/", "docs/", "scripts/", "fuzz/", "benches/"];

fn is_snake(word: &str) -> bool {
    word.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && word.starts_with(|c: char| c.is_ascii_lowercase())
}

fn is_test_name(word: &str) -> bool {
    let prefix = word.split('_').next().unwrap_or("");
    is_snake(word)
        && word.matches('_').count() >= 2
        && (prefix.starts_with('s') && prefix[1..].chars().all(|c| c.is_ascii_digit()) && prefix.len() > 1
            || prefix.starts_with("rfc") && prefix[3..].chars().all(|c| c.is_ascii_digit()) && prefix.len() > 3)
}

/// Check what one chapter cites; every problem found is a line in the result.
fn check_citations(chapter: &str, text: &str, code: &Code) -> Vec<String> {
    let mut problems = Vec::new();
    let (prose, _) = split(text);
    let dir = Path::new(ROOT).join(chapter).parent().map(Path::to_path_buf).unwrap_or_default();
    for target in link_targets(&prose) {
        if !dir.join(&target).exists() {
            problems.push(format!("{chapter}: link to {target}, which does not exist"));
        }
    }
    for span in code_spans(&prose) {
        // A path: `src/frame/header.rs`, `docs/decisions.md`, `src/handshake/`.
        if CODE_DIRS.iter().any(|d| span.starts_with(d)) && !span.contains(' ') {
            if !Path::new(ROOT).join(&span).exists() {
                problems.push(format!("{chapter}: `{span}` does not exist"));
            }
            continue;
        }
        // A name, maybe with arguments: `Type::method`, `Type::method(args)`, `function_name`.
        let name = span.split('(').next().unwrap_or("").trim_end_matches("()");
        let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
        if name.is_empty() || name.ends_with(':') || !name.chars().all(allowed) {
            continue;
        }
        // The standard library is not this crate's to keep true.
        if name.starts_with("std::") || name.starts_with("core::") {
            continue;
        }
        let segments: Vec<&str> = name.split("::").collect();
        match segments.as_slice() {
            [single] if is_test_name(single) && !code.tests.contains(*single) => {
                problems.push(format!("{chapter}: test `{single}` does not exist"));
            }
            [single] if !code.words.contains(*single) => {
                problems.push(format!("{chapter}: `{single}` occurs nowhere in the code"));
            }
            [.., owner, member] if owner.starts_with(|c: char| c.is_ascii_uppercase()) => {
                if !code.types.contains(*owner) {
                    problems.push(format!("{chapter}: type `{owner}` (in `{span}`) does not exist"));
                }
                // A method needs its `fn`; a field, a variant or a constant needs its name.
                let found = code.fns.contains(*member) || code.words.contains(*member);
                if !found {
                    problems.push(format!("{chapter}: `{owner}::{member}` does not exist"));
                }
            }
            _ => {}
        }
    }
    problems
}

/// The explainer's output for a command line's arguments (after `--`), as the binary prints it.
fn run_explainer(args: &str) -> String {
    let mut sender = explain::Sender::Unknown;
    let mut hex = Vec::new();
    for arg in args.split_whitespace() {
        match arg {
            "--from-client" => sender = explain::Sender::Client,
            "--from-server" => sender = explain::Sender::Server,
            other => hex.push(other),
        }
    }
    match explain::parse_hex(&hex.join(" ")) {
        Ok(bytes) => explain::explain(&bytes, sender).output(),
        Err(e) => format!("not hex: {e}\n"),
    }
}

const EXPLAIN: &str = "cargo run --example explain -- ";

/// Whether `shown` is what `actual` prints: the shown lines, in order and contiguous, with a
/// line `...` standing for any number of lines left out. The shown block may start and end
/// anywhere in the output (an excerpt), but between two `...` the lines are consecutive.
fn output_matches(shown: &[String], actual: &str) -> Result<(), String> {
    let actual: Vec<&str> = actual.lines().map(str::trim_end).collect();
    let runs: Vec<Vec<&str>> = shown
        .split(|line| line.trim() == "...")
        .map(|run| run.iter().map(|l| l.trim_end()).collect::<Vec<_>>())
        .filter(|run| !run.is_empty())
        .collect();
    let mut at = 0;
    for run in runs {
        let found = (at..=actual.len().saturating_sub(run.len()))
            .find(|&start| actual.get(start..start + run.len()) == Some(run.as_slice()));
        match found {
            Some(start) => at = start + run.len(),
            None => return Err(format!("these lines are not in the output (in this order):\n{}", run.join("\n"))),
        }
    }
    Ok(())
}

fn looks_like_explainer_output(lines: &[String]) -> bool {
    // The explainer's own indentation: frames at column 0, bytes at 2, fields and problems at 4.
    lines.iter().any(|l| {
        (l.starts_with("frame ") && l.contains(": bytes "))
            || (l.starts_with("  byte ") && l.contains(" = 0x"))
            || l.starts_with("    problem: ")
    })
}

/// Run every explainer command of a chapter and compare with the block that shows its output.
fn check_explainer_outputs(chapter: &str, text: &str) -> (usize, Vec<String>) {
    let (_, blocks) = split(text);
    let mut problems = Vec::new();
    let mut checked = 0;
    for block in &blocks {
        if block.info != "text" {
            continue;
        }
        let command = code_spans(&block.prose_before).into_iter().rev().find(|s| s.starts_with(EXPLAIN));
        match command {
            Some(command) => {
                let output = run_explainer(&command[EXPLAIN.len()..]);
                checked += 1;
                if let Err(why) = output_matches(&block.lines, &output) {
                    problems.push(format!(
                        "{chapter}:{}: `{command}` prints something else: {why}\n--- it prints:\n{output}",
                        block.line_number
                    ));
                }
            }
            None if looks_like_explainer_output(&block.lines) => problems.push(format!(
                "{chapter}:{}: explainer output without its command (`{EXPLAIN}...` in the prose before it)",
                block.line_number
            )),
            None => {}
        }
    }
    (checked, problems)
}

/// The RFC map's rows: number → (section, status).
fn rfc_map_rows() -> BTreeMap<u32, (String, String)> {
    let map = fs::read_to_string(Path::new(ROOT).join("docs/rfc-map.md")).expect("docs/rfc-map.md");
    let mut rows = BTreeMap::new();
    for line in map.lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = line.split(" | ").map(str::trim).collect();
        let Some(number) = cells.first().and_then(|c| c.trim_start_matches("| ").parse::<u32>().ok()) else {
            continue;
        };
        // | # | § | requirement | status | code | test |: the status is the fourth cell from the
        // end, whatever pipes the quote holds.
        let status = cells[cells.len() - 3].to_string();
        rows.insert(number, (cells[1].to_string(), status));
    }
    rows
}

const STATUSES: [&str; 4] = ["enforced", "partly enforced", "not applicable", "not enforced"];

/// Every statement of an RFC-map status: `(row N, §S) "status"`. A quoted status with no row
/// cannot be checked, so it is a problem too.
fn check_rfc_map_statuses(chapter: &str, text: &str, rows: &BTreeMap<u32, (String, String)>) -> (usize, Vec<String>) {
    let (prose, _) = split(text);
    let prose = prose.replace('\n', " ");
    let mut problems = Vec::new();
    let mut checked = 0;
    let mut claimed = Vec::new();
    for piece in prose.split("(row ").skip(1) {
        let Some((inside, after)) = piece.split_once(')') else { continue };
        let Some((number, section)) = inside.split_once(", §") else {
            problems.push(format!("{chapter}: \"(row {inside})\" should read (row N, §S)"));
            continue;
        };
        let status = after.trim_start().strip_prefix('"').and_then(|s| s.split('"').next()).unwrap_or("");
        claimed.push(status.to_string());
        match number.trim().parse::<u32>().ok().and_then(|n| rows.get(&n).map(|row| (n, row))) {
            None => problems.push(format!("{chapter}: RFC map row {number} does not exist")),
            Some((n, (map_section, map_status))) => {
                checked += 1;
                if map_section != section.trim() {
                    problems.push(format!("{chapter}: row {n} is §{map_section} in the map, §{section} here"));
                }
                if map_status != status {
                    problems.push(format!("{chapter}: row {n} is \"{map_status}\" in the map, \"{status}\" here"));
                }
            }
        }
    }
    // A status in quotes next to the map's name, not accounted for by a row.
    for sentence in prose.split(". ").filter(|s| s.contains("rfc-map")) {
        for status in STATUSES {
            let quoted = format!("\"{status}\"");
            let times = sentence.matches(&quoted).count();
            let with_rows = sentence.matches("(row ").count();
            if times > 0 && with_rows == 0 {
                problems.push(format!("{chapter}: {quoted} is said of the RFC map without its row: {sentence}"));
            }
        }
    }
    (checked, problems)
}

/// An exercise: make `change` into `to` in `file`, run `run`, and `fails` fails.
#[derive(Debug)]
struct Exercise {
    file: String,
    change: String,
    to: String,
    run: String,
    fails: String,
}

fn exercises(text: &str) -> Vec<Exercise> {
    let (_, blocks) = split(text);
    blocks
        .iter()
        .filter_map(|block| {
            let field =
                |name: &str| block.lines.iter().find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_string()));
            Some(Exercise {
                file: field("file:")?,
                change: field("change:")?,
                to: field("to:")?,
                run: field("run:")?,
                fails: field("fails:")?,
            })
        })
        .collect()
}

fn check_exercise(chapter: &str, exercise: &Exercise, code: &Code) -> Vec<String> {
    let mut problems = Vec::new();
    match fs::read_to_string(Path::new(ROOT).join(&exercise.file)) {
        Err(_) => problems.push(format!("{chapter}: exercise file {} does not exist", exercise.file)),
        Ok(source) => {
            let times = source.matches(&exercise.change).count();
            if times != 1 {
                problems.push(format!(
                    "{chapter}: exercise text `{}` occurs {times} times in {}, not once",
                    exercise.change, exercise.file
                ));
            }
        }
    }
    if exercise.change == exercise.to {
        problems.push(format!("{chapter}: exercise changes nothing: {}", exercise.change));
    }
    if !exercise.run.starts_with("cargo test") {
        problems.push(format!("{chapter}: exercise command is not a cargo test: {}", exercise.run));
    }
    if !code.tests.contains(&exercise.fails) {
        problems.push(format!("{chapter}: exercise names test {}, which does not exist", exercise.fails));
    }
    // The command's filter must select the test that is said to fail.
    let filter = exercise.run.split_whitespace().last().unwrap_or("");
    if !exercise.fails.contains(filter) {
        problems.push(format!("{chapter}: `{}` does not run {}", exercise.run, exercise.fails));
    }
    problems
}

/// mdBook's `{{#include path}}`, `{{#include path:anchor}}` or `{{#include path:from:to}}` in a
/// code block: the file must exist, and so must the anchor (`ANCHOR: name` in the file).
fn check_includes(chapter: &str, text: &str) -> Vec<String> {
    let (_, blocks) = split(text);
    let dir = Path::new(ROOT).join(chapter).parent().map(Path::to_path_buf).unwrap_or_default();
    let mut problems = Vec::new();
    for line in blocks.iter().flat_map(|b| &b.lines) {
        let Some(inner) = line.trim().strip_prefix("{{#include ").and_then(|l| l.strip_suffix("}}")) else {
            continue;
        };
        let mut parts = inner.split(':');
        let path = dir.join(parts.next().unwrap_or(""));
        let Ok(included) = fs::read_to_string(&path) else {
            problems.push(format!("{chapter}: {{{{#include {inner}}}}}: no such file"));
            continue;
        };
        let is_anchor = |a: &&str| !a.is_empty() && !a.chars().all(|c| c.is_ascii_digit());
        if let Some(anchor) = parts.next().filter(is_anchor)
            && !included.contains(&format!("ANCHOR: {anchor}"))
        {
            problems.push(format!("{chapter}: {{{{#include {inner}}}}}: no anchor {anchor}"));
        }
    }
    problems
}

/// Every code block says what it holds: a block without a language would be compiled as Rust
/// by the crate's doctests (`src/lib.rs` includes the chapters with Rust in them).
fn check_languages(chapter: &str, text: &str) -> Vec<String> {
    let (_, blocks) = split(text);
    blocks
        .iter()
        .filter(|b| b.info.is_empty())
        .map(|b| format!("{chapter}:{}: a code block without a language (text, sh, rust, ...)", b.line_number))
        .collect()
}

/// A chapter with a runnable Rust block is run as doctests: `src/lib.rs` includes it.
fn check_doctested(chapter: &str, text: &str, lib_rs: &str) -> Vec<String> {
    let (_, blocks) = split(text);
    let runnable = blocks.iter().any(|b| {
        let mut attributes = b.info.split(',').map(str::trim);
        attributes.next() == Some("rust") && !attributes.any(|a| a == "ignore")
    });
    let included = lib_rs.contains(&format!("include_str!(\"../{chapter}\")"));
    if runnable && !included {
        vec![format!("{chapter} has Rust blocks, but src/lib.rs does not run them: add it to `book_doctests`")]
    } else {
        Vec::new()
    }
}

/// The book lists every chapter (`docs/SUMMARY.md`, read by mdBook through `book.toml`).
fn check_summary(chapters: &[(String, String)]) -> Vec<String> {
    let summary = fs::read_to_string(Path::new(ROOT).join("docs/SUMMARY.md")).unwrap_or_default();
    chapters
        .iter()
        .filter(|(chapter, _)| !chapter.ends_with("SUMMARY.md"))
        .filter(|(chapter, _)| !summary.contains(&format!("]({})", chapter.trim_start_matches("docs/"))))
        .map(|(chapter, _)| format!("docs/SUMMARY.md does not list {chapter}: the book would leave it out"))
        .collect()
}

/// `rust,ignore` and `js` blocks are excerpts: every code line must be in some source file (the
/// crate's Rust, or the examples' pages).
fn check_excerpts(chapter: &str, text: &str, code: &Code) -> Vec<String> {
    let (_, blocks) = split(text);
    let mut problems = Vec::new();
    for block in blocks.iter().filter(|b| b.info == "rust,ignore" || b.info == "js") {
        for line in &block.lines {
            let without_comment = line.split("//").next().unwrap_or("").trim();
            let skip = without_comment.is_empty() || without_comment.starts_with("{{#include");
            if skip || matches!(without_comment, "}" | "{" | "};") {
                continue;
            }
            if !code.sources.iter().any(|s| s.contains(without_comment)) {
                problems.push(format!(
                    "{chapter}:{}: excerpt line `{without_comment}` is in no source file",
                    block.line_number
                ));
            }
        }
    }
    problems
}

fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The RFC's text without page breaks, whitespace collapsed.
fn rfc_text() -> Option<String> {
    // Beside the repository, or beside the directory that holds a worktree of it.
    let text = ["../shared/rfc/rfc6455.txt", "../../shared/rfc/rfc6455.txt"]
        .iter()
        .find_map(|path| fs::read_to_string(Path::new(ROOT).join(path)).ok())?;
    let body: Vec<&str> = text
        .lines()
        .filter(|l| !(l.starts_with("Fette & Melnikov") || l.starts_with("RFC 6455 ") || l.contains('\u{c}')))
        .collect();
    // A line that ends inside a hyphenated word ("47DA-" then "95CA") continues without a space.
    let mut joined = String::new();
    for line in body {
        joined.push_str(line.trim());
        let breaks_a_word = line.trim_end().ends_with('-') && !line.trim_end().ends_with(" -");
        if !breaks_a_word {
            joined.push(' ');
        }
    }
    Some(normalize(&joined))
}

/// Block quotes of RFC 6455: `> "text" (§N)`. Returns (quote, section).
fn rfc_quotes(text: &str) -> Vec<(String, String)> {
    let mut quotes = Vec::new();
    let mut current = String::new();
    let mut flush = |current: &mut String| {
        let quote = normalize(current);
        current.clear();
        let Some(body) = quote.strip_prefix('"') else { return };
        let Some((inner, after)) = body.rsplit_once("\" (") else { return };
        if after.starts_with('§') {
            quotes.push((inner.to_string(), after.trim_end_matches(')').to_string()));
        }
    };
    for line in text.lines() {
        match line.strip_prefix('>') {
            Some(rest) if !rest.trim().is_empty() => {
                current.push(' ');
                current.push_str(rest.trim());
            }
            _ => flush(&mut current),
        }
    }
    flush(&mut current);
    quotes
}

fn check_quotes(chapter: &str, text: &str, rfc: &str) -> (usize, Vec<String>) {
    let mut problems = Vec::new();
    let mut checked = 0;
    for (quote, section) in rfc_quotes(text) {
        // Elisions: "[...]" and "…" cut a quote into pieces, each verbatim.
        for piece in quote.split("[...]").flat_map(|p| p.split('…')) {
            let piece = piece.trim().trim_matches('"').trim();
            if piece.len() < 12 {
                continue;
            }
            checked += 1;
            if !rfc.contains(piece) {
                problems.push(format!("{chapter}: quote from {section} is not in the RFC: \"{piece}\""));
            }
        }
    }
    (checked, problems)
}

/// Chapter 8 shows a browser's offer and the answer `echo_server` gives it.
fn check_deflate_answer(chapter: &str, text: &str) -> Vec<String> {
    let offer = text.lines().find_map(|l| l.strip_prefix("client:  Sec-WebSocket-Extensions: "));
    let shown = text.lines().find_map(|l| l.strip_prefix("server:  Sec-WebSocket-Extensions: "));
    let (Some(offer), Some(shown)) = (offer, shown) else { return Vec::new() };
    let offers = parse_extensions(offer).expect("the chapter's offer parses");
    let answer = DeflateConfig::default().negotiate(&offers).map(|(_, answer)| answer.to_string());
    if answer.as_deref() == Some(shown.trim()) {
        Vec::new()
    } else {
        vec![format!("{chapter}: echo_server answers {answer:?} to `{offer}`, the chapter shows `{shown}`")]
    }
}

/// Table rows of `docs/push-vs-poll.md`: first cell → every cell of the row.
fn measured_rows() -> BTreeMap<String, Vec<String>> {
    let text = fs::read_to_string(Path::new(ROOT).join("docs/push-vs-poll.md")).unwrap_or_default();
    table_rows(&text).into_iter().filter_map(|cells| Some((cells.first()?.clone(), cells))).collect()
}

fn table_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---"))
        .map(|l| l.trim_matches('|').split('|').map(|c| c.trim().to_string()).collect())
        .collect()
}

/// A chapter that quotes a row of the measured table quotes it as measured.
fn check_measurements(chapter: &str, text: &str, measured: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let mut problems = Vec::new();
    for cells in table_rows(text) {
        let Some(row) = cells.first().and_then(|first| measured.get(first)) else { continue };
        for cell in &cells[1..] {
            if !row.contains(cell) {
                problems
                    .push(format!("{chapter}: \"{}\" row: {cell} is not what docs/push-vs-poll.md measured", cells[0]));
            }
        }
    }
    problems
}

/// Every check, over every chapter; the problems found and how many things were checked.
fn check_all(chapters: &[(String, String)], code: &Code) -> (Vec<String>, BTreeMap<&'static str, usize>) {
    let rows = rfc_map_rows();
    let rfc = rfc_text();
    let measured = measured_rows();
    let lib_rs = fs::read_to_string(Path::new(ROOT).join("src/lib.rs")).expect("src/lib.rs");
    let mut problems = check_summary(chapters);
    let mut counts = BTreeMap::new();
    for (chapter, text) in chapters {
        problems.extend(check_citations(chapter, text, code));
        let (n, p) = check_explainer_outputs(chapter, text);
        *counts.entry("explainer outputs").or_insert(0) += n;
        problems.extend(p);
        let (n, p) = check_rfc_map_statuses(chapter, text, &rows);
        *counts.entry("RFC map statuses").or_insert(0) += n;
        problems.extend(p);
        for exercise in exercises(text) {
            *counts.entry("exercises").or_insert(0) += 1;
            problems.extend(check_exercise(chapter, &exercise, code));
        }
        problems.extend(check_excerpts(chapter, text, code));
        if let Some(rfc) = &rfc {
            let (n, p) = check_quotes(chapter, text, rfc);
            *counts.entry("RFC quotes").or_insert(0) += n;
            problems.extend(p);
        }
        problems.extend(check_deflate_answer(chapter, text));
        problems.extend(check_measurements(chapter, text, &measured));
        problems.extend(check_includes(chapter, text));
        problems.extend(check_languages(chapter, text));
        problems.extend(check_doctested(chapter, text, &lib_rs));
    }
    (problems, counts)
}

#[test]
fn every_chapter_is_true_to_the_code() {
    let chapters = chapters();
    let code = Code::read();
    let (problems, counts) = check_all(&chapters, &code);
    assert!(problems.is_empty(), "{} problem(s) in the guide:\n{}", problems.len(), problems.join("\n"));
    if rfc_text().is_none() {
        eprintln!("NOTE: ../shared/rfc/rfc6455.txt is not beside the repository: RFC quotes were not checked");
    }
    // The checks ran over something: the guide shows explainer outputs, RFC-map statuses and
    // an exercise in every chapter.
    assert!(counts.get("explainer outputs").copied().unwrap_or(0) >= 15, "{counts:?}");
    assert!(counts.get("RFC map statuses").copied().unwrap_or(0) >= 2, "{counts:?}");
    assert!(counts.get("exercises").copied().unwrap_or(0) >= 8, "{counts:?}");
    if rfc_text().is_some() {
        assert!(counts.get("RFC quotes").copied().unwrap_or(0) >= 20, "{counts:?}");
    }
    eprintln!("checked: {counts:?}");
}

#[test]
fn every_chapter_of_the_guide_has_an_exercise() {
    for (chapter, text) in chapters().iter().filter(|(c, _)| c.starts_with("docs/guide/")) {
        if chapter.ends_with("00-index.md") || chapter.ends_with("SUMMARY.md") {
            continue;
        }
        assert!(!exercises(text).is_empty(), "{chapter} has no exercise block");
    }
}

#[test]
fn checker_catches_broken_chapters() {
    let code = Code::read();
    let mut chapter = String::from("# A chapter\n\n");
    // A renamed test, a missing function, a missing file, a missing type.
    chapter.push_str("Tests: `s5_5_control_frame_over_126_fails`, and `FrameHeader::parse_whole_stream` in\n");
    chapter.push_str("`src/frame/headers.rs`; `Frames::parse` and `decode_every_frame_at_once`.\n\n");
    // An explainer output that is not what the explainer prints (length 6, not 5).
    chapter.push_str("Run `cargo run --example explain -- --from-server 81 05 48 65 6c 6c 6f`:\n\n");
    chapter.push_str("```text\n    length 6    7-bit form: 0-125 fit in byte 1 (§5.2)\n```\n\n");
    // Explainer output with no command.
    chapter.push_str("No command here:\n\n```text\nframe 1: bytes 0-6 (7 bytes)\n```\n\n");
    // A wrong status, a wrong section, and a status without a row.
    chapter.push_str("docs/rfc-map.md marks it (row 82, §5.5.2) \"partly enforced\". It also marks\n");
    chapter.push_str("(row 82, §5.4) \"enforced\". And docs/rfc-map.md marks something \"not enforced\".\n\n");
    // An exercise whose text is not in the file and whose test does not exist.
    chapter.push_str("```text\nfile:   src/frame/header.rs\nchange: len7 > 200\nto:     len7 >= 200\n");
    chapter.push_str("run:    cargo test no_such_test\nfails:  no_such_test\n```\n\n");
    // An excerpt that is not in the code.
    chapter.push_str("```rust,ignore\nlet header = FrameHeader::parse_everything(bytes);\n```\n");
    // A measurement that is not what was measured.
    chapter.push_str("\n| method | bytes per update |\n|---|---:|\n| push (WebSocket) | 15 |\n\n");
    // An include of a file that does not exist, and a block without a language.
    chapter.push_str("```rust,ignore\n{{#include ../../examples/no_such_recipe.rs:main}}\n```\n\n```\nplain\n```\n");
    // A quote the RFC does not hold.
    chapter.push_str("\n> \"A server MUST mask every frame it sends.\" (§5.1)\n");
    let chapters = vec![("docs/guide/99-broken.md".to_string(), chapter)];
    let (problems, _) = check_all(&chapters, &code);
    let all = problems.join("\n");
    for expected in [
        "test `s5_5_control_frame_over_126_fails` does not exist",
        "`FrameHeader::parse_whole_stream` does not exist",
        "`src/frame/headers.rs` does not exist",
        "type `Frames`",
        "`decode_every_frame_at_once` occurs nowhere in the code",
        "prints something else",
        "explainer output without its command",
        "row 82 is \"enforced\" in the map, \"partly enforced\" here",
        "row 82 is §5.5.2 in the map, §5.4 here",
        "\"not enforced\" is said of the RFC map without its row",
        "exercise text `len7 > 200` occurs 0 times",
        "exercise names test no_such_test",
        "excerpt line `let header = FrameHeader::parse_everything(bytes);` is in no source file",
        "\"push (WebSocket)\" row: 15 is not what docs/push-vs-poll.md measured",
        "{{#include ../../examples/no_such_recipe.rs:main}}: no such file",
        "a code block without a language",
        "docs/SUMMARY.md does not list docs/guide/99-broken.md",
    ] {
        assert!(all.contains(expected), "not caught: {expected}\nproblems found:\n{all}");
    }
    if rfc_text().is_some() {
        assert!(all.contains("quote from §5.1 is not in the RFC"), "not caught: a wrong quote\n{all}");
    }
}

#[test]
fn output_comparison_treats_dots_as_left_out_lines() {
    let output = "a\nb\nc\nd\ne\n";
    let lines = |s: &str| s.lines().map(String::from).collect::<Vec<_>>();
    assert!(output_matches(&lines("a\nb\nc\nd\ne"), output).is_ok());
    assert!(output_matches(&lines("b\nc"), output).is_ok(), "an excerpt");
    assert!(output_matches(&lines("a\n...\nd\ne"), output).is_ok());
    assert!(output_matches(&lines("a\nc"), output).is_err(), "a line left out without ...");
    assert!(output_matches(&lines("c\n...\nb"), output).is_err(), "out of order");
    assert!(output_matches(&lines("a\nx"), output).is_err());
}
