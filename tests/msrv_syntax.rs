//! The language features the crate's code uses need no newer Rust than `rust-version` in
//! Cargo.toml. Clippy's `incompatible_msrv` (scripts/msrv.sh) sees standard-library items only;
//! this test parses every Rust file of the package and its tests, examples and benches (with
//! `syn`) and looks for the syntax stabilized after the edition's 1.85 that the code could use:
//!
//! - let chains, `if let A = a && let B = b` (Rust 1.88);
//! - `if let` guards on match arms, `Some(x) if let Ok(y) = f(x) =>` (Rust 1.95).
//!
//! It fails when a feature is newer than `rust-version` (raise it, with the reasons in
//! docs/decisions.md, or write the code without the feature).

use std::fs;
use std::path::{Path, PathBuf};

use quote::ToTokens;
use syn::visit::Visit;
use syn::{BinOp, Expr};

/// A language feature, the Rust version that stabilized it, and where it was seen.
struct Use {
    feature: &'static str,
    since: (u32, u32),
    at: String,
}

#[derive(Default)]
struct Finder {
    file: String,
    found: Vec<Use>,
}

impl Finder {
    /// Where: the file and the condition or guard itself (token spacing as `syn` prints it).
    fn note(&mut self, feature: &'static str, since: (u32, u32), code: &Expr) {
        let at = format!("{}: `{}`", self.file, code.to_token_stream());
        self.found.push(Use { feature, since, at });
    }
}

/// Whether `expr` is a `&&` chain holding a `let`, or a `let` itself.
fn has_let(expr: &Expr) -> bool {
    match expr {
        Expr::Let(_) => true,
        Expr::Binary(binary) if matches!(binary.op, BinOp::And(_)) => has_let(&binary.left) || has_let(&binary.right),
        Expr::Paren(paren) => has_let(&paren.expr),
        _ => false,
    }
}

/// A `&&` chain with at least one `let` in it (a single `if let` is not a chain).
fn is_let_chain(expr: &Expr) -> bool {
    matches!(expr, Expr::Binary(binary) if matches!(binary.op, BinOp::And(_))) && has_let(expr)
}

impl<'ast> Visit<'ast> for Finder {
    fn visit_expr_if(&mut self, node: &'ast syn::ExprIf) {
        if is_let_chain(&node.cond) {
            self.note("let chains", (1, 88), &node.cond);
        }
        syn::visit::visit_expr_if(self, node);
    }

    fn visit_expr_while(&mut self, node: &'ast syn::ExprWhile) {
        if is_let_chain(&node.cond) {
            self.note("let chains", (1, 88), &node.cond);
        }
        syn::visit::visit_expr_while(self, node);
    }

    fn visit_pat_guard(&mut self, node: &'ast syn::PatGuard) {
        if has_let(&node.guard) {
            self.note("`if let` guards", (1, 95), &node.guard);
        }
        syn::visit::visit_pat_guard(self, node);
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

fn find(source: &str, file: &str) -> Vec<Use> {
    let parsed = syn::parse_file(source).unwrap_or_else(|e| panic!("parse {file}: {e}"));
    let mut finder = Finder { file: file.to_string(), ..Finder::default() };
    finder.visit_file(&parsed);
    finder.found
}

fn version(text: &str) -> (u32, u32) {
    let mut parts = text.split('.').map(|p| p.parse::<u32>().expect("a numeric rust-version"));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

#[test]
fn language_features_need_no_newer_rust_than_rust_version() {
    let rust_version = version(env!("CARGO_PKG_RUST_VERSION"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "tests", "examples", "benches"] {
        rust_files(&root.join(dir), &mut files);
    }
    files.sort();
    assert!(files.len() > 20, "found only {} Rust files under {}", files.len(), root.display());

    let mut too_new = Vec::new();
    let mut newest = (1, 85); // the edition's own floor
    for path in &files {
        let name = path.strip_prefix(root).unwrap_or(path).display().to_string();
        let source = fs::read_to_string(path).unwrap_or_else(|e| panic!("read {name}: {e}"));
        for found in find(&source, &name) {
            newest = newest.max(found.since);
            if found.since > rust_version {
                too_new.push(format!("{}: {} need Rust {}.{}", found.at, found.feature, found.since.0, found.since.1));
            }
        }
    }
    assert!(
        too_new.is_empty(),
        "rust-version is {}.{} but the code uses newer language features:\n{}",
        rust_version.0,
        rust_version.1,
        too_new.join("\n")
    );
    eprintln!("msrv_syntax: {} files; newest language feature used needs Rust {}.{}", files.len(), newest.0, newest.1);
}

/// The finder sees each feature where it is, and only there.
#[test]
fn the_finder_recognises_each_feature() {
    let source = r#"
        fn f(a: Option<u8>, b: Option<u8>) -> u8 {
            if let Some(x) = a && let Some(y) = b { return x + y; }
            while let Some(x) = a && x > 3 { break; }
            if let Some(x) = a { return x; }
            if a.is_some() && b.is_none() { return 1; }
            match a {
                Some(x) if let Some(y) = b => x + y,
                Some(x) if x > 2 => x,
                _ => 0,
            }
        }
    "#;
    let found: Vec<(&str, String)> = find(source, "example.rs").into_iter().map(|u| (u.feature, u.at)).collect();
    assert_eq!(
        found,
        [
            ("let chains", "example.rs: `let Some (x) = a && let Some (y) = b`".to_string()),
            ("let chains", "example.rs: `let Some (x) = a && x > 3`".to_string()),
            ("`if let` guards", "example.rs: `let Some (y) = b`".to_string()),
        ]
    );
}
