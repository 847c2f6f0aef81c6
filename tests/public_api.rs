//! The crate's public API as a reviewed text file: every item a user can name, with its
//! signature, one per line, sorted, in `tests/public_api.txt`. This test lists the API again
//! from `src/` (parsed with `syn`, nothing compiled) and fails with a diff when the two differ,
//! so that no public change slips through review unnoticed.
//!
//! After an intended change, rewrite the file and commit it with the change:
//!
//! ```sh
//! UPDATE_PUBLIC_API=1 cargo test --test public_api
//! ```
//!
//! What counts: `pub` items of modules reachable through `pub mod` from `src/lib.rs`, `pub`
//! items of private modules that a reachable module re-exports, every `pub use`, the public
//! fields, variants and trait items, the public methods and constants of inherent `impl`s, trait
//! `impl`s (written or derived) for the listed types, and the attributes that change what users
//! may do: `#[cfg(...)]`, `#[non_exhaustive]`, `#[deprecated]`, `#[doc(hidden)]`. Test-only
//! code (`#[cfg(test)]`) is left out. Each line starts with the path where the item is defined.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use quote::ToTokens;
use syn::{Attribute, Fields, ImplItem, Item, TraitItem, UseTree, Visibility};

const CRATE: &str = "rfc6455";
const SNAPSHOT: &str = "tests/public_api.txt";

#[test]
fn public_api_matches_the_snapshot() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let listed = list_public_api(&root.join("src/lib.rs"));
    let text = listed.iter().map(|line| format!("{line}\n")).collect::<String>();
    let snapshot_path = root.join(SNAPSHOT);

    if std::env::var_os("UPDATE_PUBLIC_API").is_some() {
        fs::write(&snapshot_path, &text).expect("write tests/public_api.txt");
        eprintln!("public_api: wrote {} lines to {SNAPSHOT}", listed.len());
        return;
    }
    let snapshot = fs::read_to_string(&snapshot_path).unwrap_or_default();
    if snapshot != text {
        let old: BTreeSet<&str> = snapshot.lines().collect();
        let new: BTreeSet<&str> = text.lines().collect();
        let mut diff = String::new();
        for line in old.difference(&new) {
            diff.push_str(&format!("- {line}\n"));
        }
        for line in new.difference(&old) {
            diff.push_str(&format!("+ {line}\n"));
        }
        panic!(
            "the public API differs from {SNAPSHOT} (- only in the file, + only in src/):\n{diff}\n\
             If the change is intended, run `UPDATE_PUBLIC_API=1 cargo test --test public_api` \
             and commit {SNAPSHOT} with it (and a CHANGELOG entry)."
        );
    }
}

/// The listing must see what it claims to see: a few items of each kind, found where they are.
#[test]
fn the_listing_finds_items_of_every_kind() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let listed = list_public_api(&root.join("src/lib.rs"));
    let has = |needle: &str| listed.iter().any(|line| line.contains(needle));
    // A struct, a method of an inherent impl, a re-export, an enum variant, a trait impl.
    assert!(has("rfc6455::connection::Connection pub struct Connection"));
    assert!(has("pub fn next_event(&mut self) -> Result<Option<Event<'_>>, Error>"));
    assert!(has("rfc6455::Connection pub use = rfc6455::connection::Connection"));
    assert!(has("rfc6455::close::CloseCode impl"));
    // A pub item of a private module that a public one re-exports is listed; test code is not.
    assert!(has("rfc6455::blocking::websocket::WebSocket pub struct WebSocket"));
    assert!(!listed.iter().any(|line| line.contains("::tests::")));
    // Feature-gated items carry their cfg.
    assert!(has("#[cfg(feature = \"tls\")] pub mod tls"));
}

/// docs.rs shows "Available on crate feature X only" for each public item that needs a feature
/// when the item says so: every `pub` item, field or variant with its own
/// `#[cfg(feature = ...)]` also carries `#[cfg_attr(docsrs, doc(cfg(...)))]` (items inside a
/// gated module inherit the module's label).
#[test]
fn feature_gated_items_are_labelled_for_docs_rs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = root.join("src/lib.rs");
    let mut modules = Vec::new();
    collect_modules(CRATE.to_string(), true, String::new(), parse(&lib).items, &root.join("src"), &mut modules);

    let gated = |attrs: &[Attribute]| {
        attrs.iter().any(|a| a.path().is_ident("cfg") && a.meta.to_token_stream().to_string().contains("feature"))
    };
    let labelled = |attrs: &[Attribute]| {
        attrs.iter().any(|a| {
            let text = a.meta.to_token_stream().to_string().replace(' ', "");
            a.path().is_ident("cfg_attr") && text.starts_with("cfg_attr(docsrs,doc(cfg(")
        })
    };
    let mut missing = Vec::new();
    let mut checked = 0;
    for module in &modules {
        for item in &module.items {
            let Some(name) = item_name(item) else { continue };
            if !item_is_pub(item) {
                continue;
            }
            let path = format!("{}::{name}", module.path);
            let attrs = item_attrs(item);
            if gated(attrs) {
                checked += 1;
                if !labelled(attrs) {
                    missing.push(path.clone());
                }
            }
            let mut members: Vec<(String, &[Attribute])> = Vec::new();
            match item {
                Item::Struct(s) => {
                    for field in s.fields.iter().filter(|f| is_pub(&f.vis)) {
                        let field_name = field.ident.as_ref().map(ToString::to_string).unwrap_or_default();
                        members.push((field_name, &field.attrs));
                    }
                }
                Item::Enum(e) => {
                    for variant in &e.variants {
                        members.push((variant.ident.to_string(), &variant.attrs));
                    }
                }
                _ => {}
            }
            for (member, attrs) in members {
                if gated(attrs) {
                    checked += 1;
                    if !labelled(attrs) {
                        missing.push(format!("{path}::{member}"));
                    }
                }
            }
        }
    }
    assert!(checked > 0, "no feature-gated public item found: the check looks at nothing");
    assert!(
        missing.is_empty(),
        "feature-gated public items without `#[cfg_attr(docsrs, doc(cfg(feature = ...)))]`:\n{}",
        missing.join("\n")
    );
}

/// A module found while walking the crate.
struct Module {
    /// `rfc6455::blocking::server`.
    path: String,
    /// Reachable by users through `pub mod` all the way from the crate root.
    reachable: bool,
    /// `#[cfg(...)]` of the module and its parents, as one prefix.
    cfg: String,
    items: Vec<Item>,
}

fn list_public_api(lib: &Path) -> BTreeSet<String> {
    let mut modules = Vec::new();
    let file = parse(lib);
    collect_modules(CRATE.to_string(), true, String::new(), file.items, lib.parent().unwrap(), &mut modules);

    // Items re-exported by a reachable module are public wherever they are defined.
    let mut exported: HashSet<String> = HashSet::new();
    let mut lines = BTreeSet::new();
    for module in modules.iter().filter(|m| m.reachable) {
        for item in &module.items {
            if let Item::Use(use_item) = item
                && is_pub(&use_item.vis)
            {
                let cfg = format!("{}{}", module.cfg, cfg_prefix(&use_item.attrs));
                for (name, target) in use_leaves(&use_item.tree, &module.path) {
                    lines.insert(format!("{}::{name} {cfg}pub use = {target}", module.path));
                    exported.insert(target);
                }
            }
        }
    }

    // The listed items, and the type names whose impls are listed.
    let mut types: HashMap<String, Vec<String>> = HashMap::new();
    for module in &modules {
        for item in &module.items {
            let Some(name) = item_name(item) else { continue };
            if !item_is_pub(item) {
                continue;
            }
            let full = format!("{}::{name}", module.path);
            if !(module.reachable || exported.contains(&full)) {
                continue;
            }
            if matches!(item, Item::Struct(_) | Item::Enum(_) | Item::Union(_) | Item::Trait(_) | Item::Type(_)) {
                types.entry(name.clone()).or_default().push(full.clone());
            }
            list_item(item, &full, &module.cfg, &mut lines);
        }
    }

    // Impls, wherever they are written, for the listed types.
    for module in &modules {
        for item in &module.items {
            if let Item::Impl(imp) = item {
                list_impl(imp, &module.path, &module.cfg, &types, &mut lines);
            }
        }
    }
    lines
}

fn parse(path: &Path) -> syn::File {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    syn::parse_file(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

/// Walk `items` (the body of module `path`, whose files live under `dir`), collecting every
/// module that is not test-only.
fn collect_modules(path: String, reachable: bool, cfg: String, items: Vec<Item>, dir: &Path, out: &mut Vec<Module>) {
    let mut own = Vec::new();
    for item in items {
        if is_test_only(item_attrs(&item)) {
            continue;
        }
        if let Item::Mod(module) = &item {
            let name = module.ident.to_string();
            let child_cfg = format!("{cfg}{}", cfg_prefix(&module.attrs));
            let child_reachable = reachable && is_pub(&module.vis);
            let child_dir = dir.join(&name);
            let child_items = match &module.content {
                Some((_, items)) => items.clone(),
                None => parse(&module_file(dir, &name)).items,
            };
            collect_modules(format!("{path}::{name}"), child_reachable, child_cfg, child_items, &child_dir, out);
        }
        own.push(item);
    }
    out.push(Module { path, reachable, cfg, items: own });
}

/// `dir/name.rs` or `dir/name/mod.rs`.
fn module_file(dir: &Path, name: &str) -> PathBuf {
    let flat = dir.join(format!("{name}.rs"));
    if flat.exists() { flat } else { dir.join(name).join("mod.rs") }
}

/// Each name a `use` tree brings in, with the full path of what it names (`crate::`, `self::`,
/// `super::` and child modules resolved; anything else is another crate's path, kept as is).
fn use_leaves(tree: &UseTree, module: &str) -> Vec<(String, String)> {
    fn walk(tree: &UseTree, prefix: Vec<String>, out: &mut Vec<(String, Vec<String>)>) {
        match tree {
            UseTree::Path(p) => {
                let mut next = prefix;
                next.push(p.ident.to_string());
                walk(&p.tree, next, out);
            }
            UseTree::Name(n) => {
                let mut full = prefix;
                full.push(n.ident.to_string());
                out.push((n.ident.to_string(), full));
            }
            UseTree::Rename(r) => {
                let mut full = prefix;
                full.push(r.ident.to_string());
                out.push((r.rename.to_string(), full));
            }
            UseTree::Glob(_) => {
                let mut full = prefix;
                full.push("*".to_string());
                out.push(("*".to_string(), full));
            }
            UseTree::Group(g) => {
                for tree in &g.items {
                    walk(tree, prefix.clone(), out);
                }
            }
        }
    }
    let mut leaves = Vec::new();
    walk(tree, Vec::new(), &mut leaves);
    leaves
        .into_iter()
        .map(|(name, segments)| {
            let mut base: Vec<String> = module.split("::").map(String::from).collect();
            let mut rest = segments.as_slice();
            match rest.first().map(String::as_str) {
                Some("crate") => {
                    base.truncate(1);
                    rest = &rest[1..];
                }
                Some("self") => rest = &rest[1..],
                Some("super") => {
                    while rest.first().map(String::as_str) == Some("super") {
                        base.pop();
                        rest = &rest[1..];
                    }
                }
                // A path from another crate (`std::`, `rustls::`): kept whole.
                Some(first)
                    if first.chars().next().is_some_and(|c| c.is_ascii_lowercase()) && !is_child(module, first) =>
                {
                    return (name, segments.join("::"));
                }
                _ => {}
            }
            base.extend(rest.iter().cloned());
            (name, base.join("::"))
        })
        .collect()
}

/// Whether `name` is a child module of `module`, where a relative `use` path starts (known from
/// the source tree: `name.rs` or `name/mod.rs` in the module's directory; no inline module is
/// re-exported from).
fn is_child(module: &str, name: &str) -> bool {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let dir = module.split("::").skip(1).fold(src, |dir, segment| dir.join(segment));
    dir.join(format!("{name}.rs")).exists() || dir.join(name).join("mod.rs").exists()
}

fn list_item(item: &Item, full: &str, module_cfg: &str, lines: &mut BTreeSet<String>) {
    let attrs = format!("{module_cfg}{}", kept_attrs(item_attrs(item)));
    // Fields, variants and trait items carry the item's cfg, not its other attributes.
    let inner = format!("{module_cfg}{}", cfg_prefix(item_attrs(item)));
    let mut add = |what: String| {
        lines.insert(format!("{full} {attrs}{}", tidy(&what)));
    };
    match item {
        Item::Fn(f) => add(format!("pub {}", f.sig.to_token_stream())),
        Item::Const(c) => {
            add(format!("pub const {}: {} = {}", c.ident, c.ty.to_token_stream(), c.expr.to_token_stream()))
        }
        Item::Static(s) => add(format!("pub static {}: {}", s.ident, s.ty.to_token_stream())),
        Item::Type(t) => {
            add(format!("pub type {}{} = {}", t.ident, t.generics.to_token_stream(), t.ty.to_token_stream()))
        }
        Item::Mod(m) => add(format!("pub mod {}", m.ident)),
        Item::Macro(m) => {
            add(format!("macro_rules! {}", m.ident.as_ref().map(ToString::to_string).unwrap_or_default()))
        }
        Item::Struct(s) => {
            let generics = generics_with_where(&s.generics);
            match &s.fields {
                Fields::Named(named) => {
                    let hidden = named.named.iter().filter(|f| !is_pub(&f.vis)).count();
                    let note = if hidden > 0 { " { private fields }" } else { "" };
                    add(format!("pub struct {}{generics}{note}", s.ident));
                    for field in named.named.iter().filter(|f| is_pub(&f.vis)) {
                        let field_attrs = kept_attrs(&field.attrs);
                        let name = field.ident.as_ref().map(ToString::to_string).unwrap_or_default();
                        lines.insert(format!(
                            "{full}::{name} {inner}{field_attrs}{}",
                            tidy(&format!("pub field {name}: {}", field.ty.to_token_stream()))
                        ));
                    }
                }
                Fields::Unnamed(unnamed) => {
                    let fields: Vec<String> = unnamed
                        .unnamed
                        .iter()
                        .map(|f| if is_pub(&f.vis) { format!("pub {}", f.ty.to_token_stream()) } else { "_".into() })
                        .collect();
                    add(format!("pub struct {}{generics}({})", s.ident, fields.join(", ")));
                }
                Fields::Unit => add(format!("pub struct {}{generics}", s.ident)),
            }
        }
        Item::Enum(e) => {
            add(format!("pub enum {}{}", e.ident, generics_with_where(&e.generics)));
            for variant in &e.variants {
                let variant_attrs = kept_attrs(&variant.attrs);
                let mut v = variant.clone();
                v.attrs.clear();
                v.discriminant = None;
                strip_field_attrs(&mut v.fields);
                lines.insert(format!(
                    "{full}::{} {inner}{variant_attrs}variant {}",
                    variant.ident,
                    tidy(&v.to_token_stream().to_string())
                ));
            }
        }
        Item::Trait(t) => {
            let supertraits =
                if t.supertraits.is_empty() { String::new() } else { format!(": {}", t.supertraits.to_token_stream()) };
            add(format!("pub trait {}{}{supertraits}", t.ident, generics_with_where(&t.generics)));
            for trait_item in &t.items {
                let what = match trait_item {
                    TraitItem::Fn(f) => format!("{}", f.sig.to_token_stream()),
                    TraitItem::Const(c) => format!("const {}: {}", c.ident, c.ty.to_token_stream()),
                    TraitItem::Type(ty) => format!("type {}{}", ty.ident, ty.bounds.to_token_stream()),
                    other => other.to_token_stream().to_string(),
                };
                lines.insert(format!("{full} {inner}trait item {}", tidy(&what)));
            }
        }
        other => add(other.to_token_stream().to_string()),
    }
    // Derived trait impls belong to the type's API as much as written ones.
    for derived in derives(item_attrs(item)) {
        lines.insert(format!("{full} {module_cfg}impl {derived} (derived)"));
    }
}

fn list_impl(
    imp: &syn::ItemImpl,
    module_path: &str,
    module_cfg: &str,
    types: &HashMap<String, Vec<String>>,
    lines: &mut BTreeSet<String>,
) {
    if is_test_only(&imp.attrs) {
        return;
    }
    let Some(self_name) = type_name(&imp.self_ty) else { return };
    let Some(defined_at) = types.get(&self_name) else { return };
    let cfg = format!("{module_cfg}{}", kept_attrs(&imp.attrs));
    let header = tidy(&format!(
        "impl{} {}{}{}",
        imp.generics.to_token_stream(),
        imp.trait_.as_ref().map(|(path, _)| format!("{} for ", path.to_token_stream())).unwrap_or_default(),
        imp.self_ty.to_token_stream(),
        imp.generics.where_clause.as_ref().map(|w| format!(" {}", w.to_token_stream())).unwrap_or_default(),
    ));
    // Listed under the path where the type is defined; should two listed types share a name,
    // under the module that writes the impl.
    let owner = match defined_at.as_slice() {
        [only] => only.clone(),
        _ => format!("{module_path}::{self_name}"),
    };
    if imp.trait_.is_some() {
        lines.insert(format!("{owner} {cfg}{header}"));
        return;
    }
    for impl_item in &imp.items {
        let (vis, attrs, what) = match impl_item {
            ImplItem::Fn(f) => (&f.vis, &f.attrs, format!("pub {}", f.sig.to_token_stream())),
            ImplItem::Const(c) => (
                &c.vis,
                &c.attrs,
                format!("pub const {}: {} = {}", c.ident, c.ty.to_token_stream(), c.expr.to_token_stream()),
            ),
            _ => continue,
        };
        if !is_pub(vis) || is_test_only(attrs) {
            continue;
        }
        lines.insert(format!("{owner} {cfg}{}{header}: {}", kept_attrs(attrs), tidy(&what)));
    }
}

fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        syn::Type::Reference(r) => type_name(&r.elem),
        _ => None,
    }
}

fn generics_with_where(generics: &syn::Generics) -> String {
    let mut out = generics.to_token_stream().to_string();
    if let Some(where_clause) = &generics.where_clause {
        out.push(' ');
        out.push_str(&where_clause.to_token_stream().to_string());
    }
    out
}

fn strip_field_attrs(fields: &mut Fields) {
    for field in fields.iter_mut() {
        field.attrs.clear();
    }
}

fn item_name(item: &Item) -> Option<String> {
    Some(match item {
        Item::Const(i) => i.ident.to_string(),
        Item::Enum(i) => i.ident.to_string(),
        Item::Fn(i) => i.sig.ident.to_string(),
        Item::Mod(i) => i.ident.to_string(),
        Item::Static(i) => i.ident.to_string(),
        Item::Struct(i) => i.ident.to_string(),
        Item::Trait(i) => i.ident.to_string(),
        Item::Type(i) => i.ident.to_string(),
        Item::Union(i) => i.ident.to_string(),
        Item::Macro(i) if i.attrs.iter().any(|a| a.path().is_ident("macro_export")) => i.ident.as_ref()?.to_string(),
        _ => return None,
    })
}

/// Whether users may name the item: `pub`, or a `#[macro_export]` macro (public from the root).
fn item_is_pub(item: &Item) -> bool {
    let vis = match item {
        Item::Const(i) => &i.vis,
        Item::Enum(i) => &i.vis,
        Item::Fn(i) => &i.vis,
        Item::Mod(i) => &i.vis,
        Item::Static(i) => &i.vis,
        Item::Struct(i) => &i.vis,
        Item::Trait(i) => &i.vis,
        Item::Type(i) => &i.vis,
        Item::Union(i) => &i.vis,
        Item::Use(i) => &i.vis,
        Item::Macro(_) => return item_name(item).is_some(),
        _ => return false,
    };
    is_pub(vis)
}

fn item_attrs(item: &Item) -> &[Attribute] {
    match item {
        Item::Const(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::ExternCrate(i) => &i.attrs,
        Item::Fn(i) => &i.attrs,
        Item::ForeignMod(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        Item::Macro(i) => &i.attrs,
        Item::Mod(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Struct(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::TraitAlias(i) => &i.attrs,
        Item::Type(i) => &i.attrs,
        Item::Union(i) => &i.attrs,
        Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

fn is_pub(vis: &Visibility) -> bool {
    matches!(vis, Visibility::Public(_))
}

/// `#[cfg(test)]` or `#[cfg(doctest)]`: never part of the API.
fn is_test_only(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg") && {
            let text = attr.meta.to_token_stream().to_string().replace(' ', "");
            text == "cfg(test)" || text == "cfg(doctest)"
        }
    })
}

/// The `#[cfg(...)]` attributes, as a prefix.
fn cfg_prefix(attrs: &[Attribute]) -> String {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"))
        .map(|a| format!("{} ", tidy(&a.to_token_stream().to_string())))
        .collect()
}

/// The attributes that change what users may do with an item, as a prefix. `#[doc(hidden)]`
/// items are listed too (they are `pub`, for benches and fuzzing) but marked as not offered.
fn kept_attrs(attrs: &[Attribute]) -> String {
    let hidden = |a: &Attribute| a.path().is_ident("doc") && a.meta.to_token_stream().to_string().contains("hidden");
    attrs
        .iter()
        .filter(|a| ["cfg", "non_exhaustive", "deprecated"].iter().any(|name| a.path().is_ident(name)) || hidden(a))
        .map(|a| format!("{} ", tidy(&a.to_token_stream().to_string())))
        .collect()
}

fn derives(attrs: &[Attribute]) -> Vec<String> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let _ = attr.parse_nested_meta(|meta| {
            out.push(tidy(&meta.path.to_token_stream().to_string()));
            Ok(())
        });
    }
    out
}

/// Token streams print with a space between every two tokens (`Result < () , Error >`); join
/// them the way rustfmt would write them, closely enough to read.
fn tidy(tokens: &str) -> String {
    let mut s = tokens.to_string();
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" ::", "::"),
        (" ,", ","),
        ("( ", "("),
        (" )", ")"),
        ("[ ", "["),
        (" ]", "]"),
        ("< ", "<"),
        (" >", ">"),
        (" ;", ";"),
        ("& ", "&"),
        ("' ", "'"),
        ("# [", "#["),
        (" :", ":"),
        ("- >", "->"),
        (" !", "!"),
    ] {
        s = s.replace(from, to);
    }
    // `name (` and `Type <` where the name is an identifier: no space.
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let after_name = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        let next = chars.get(i + 1).copied();
        let next2 = chars.get(i + 2).copied();
        // `Option <T>` but not `16 << 20` or `a <= b`; `name (` but not `impl (`.
        let generic = next == Some('<') && !matches!(next2, Some('<' | '='));
        let call = next == Some('(') && !ends_with_keyword(&out);
        // `fn f<S: T> (` but not `-> (`.
        let generic_call = next == Some('(') && i > 1 && chars[i - 1] == '>' && chars[i - 2] != '-';
        if c == ' ' && generic_call {
            continue;
        }
        if c == ' ' && after_name && (generic || call) {
            continue;
        }
        out.push(c);
    }
    // Trailing commas of multi-line source, and `mut` on argument bindings (not part of the API).
    out.replace("->", " -> ")
        .replace("  ", " ")
        .replace(",)", ")")
        .replace(", }", " }")
        .replace("(mut ", "(")
        .replace(", mut ", ", ")
}

/// `-> impl (` or `where (`: a keyword before `(` keeps its space.
fn ends_with_keyword(text: &str) -> bool {
    let word: String = text.chars().rev().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    let word: String = word.chars().rev().collect();
    matches!(word.as_str(), "impl" | "dyn" | "where" | "for" | "in" | "mut" | "const" | "as")
}
