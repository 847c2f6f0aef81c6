#!/usr/bin/env bash
# Build the guide and the manual as a book (mdBook, book.toml, docs/SUMMARY.md) into
# target/book/, readable offline (open target/book/index.html), and check it:
#
#   1. mdbook builds it (every chapter of docs/SUMMARY.md exists);
#   2. every page has its previous/next navigation, loads nothing from the network, and every
#      relative link in it resolves to a file, the crate's sources included (target/src, target/examples, target/tests link to
#      them, so a chapter's links to the code work offline);
#   3. the Rust blocks run: they are the crate's doctests (src/lib.rs includes each chapter
#      with runnable Rust), so `cargo test --doc book_doctests` runs them, with the crate built
#      the way `cargo test` builds it. (Why not `mdbook test`: see docs/decisions.md, "The
#      book's Rust blocks are the crate's doctests".)
#   4. tests/guide.rs: what the chapters cite exists, explainer outputs are what the explainer
#      prints, RFC-map statuses agree with the map, every chapter is in the book.
#
# mdbook is installed if missing: Debian's package when apt has one, else
# `cargo install mdbook --locked`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
start=$SECONDS

export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v mdbook >/dev/null 2>&1; then
    if apt-cache policy mdbook 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        echo "==> installing mdbook (apt)"
        if [[ $(id -u) -eq 0 ]]; then apt-get install -y mdbook >/dev/null; else sudo apt-get install -y mdbook >/dev/null; fi
    else
        echo "==> installing mdbook (cargo install mdbook --locked; a few minutes, once)"
        cargo install mdbook --locked
    fi
fi
echo "==> $(mdbook --version)"

echo "==> building the book into target/book"
rm -rf target/book
# mdbook reports some errors (a bad book.toml key) and still exits 0: fail on them too.
mdbook build 2>&1 | tee target/book-build.log
if grep -q "ERROR" target/book-build.log; then
    echo "book: FAILED, mdbook reported errors"
    exit 1
fi

# The chapters link to the code as ../../src/..., ../../examples/...: from
# target/book/guide/ that is target/src, target/examples. Point those at the sources.
for dir in src examples tests scripts benches fuzz; do
    if [[ -d "$root/$dir" && ! -e "$root/target/$dir" ]]; then
        ln -s "../$dir" "$root/target/$dir"
    fi
done

echo "==> checking navigation and links"
python3 - "$root/target/book" <<'PY'
import html.parser, os, sys, urllib.parse

book = sys.argv[1]
problems = []
pages = 0

class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.rels, self.remote = [], set(), []
    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        # Offline: nothing the page loads may come from the network.
        for key in ("src", "href"):
            value = attrs.get(key) or ""
            if tag in ("script", "link", "img", "iframe") and value.startswith(("http:", "https:", "//")):
                self.remote.append(value)
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
            for word in (attrs.get("class") or "").split() + [attrs.get("rel") or ""]:
                self.rels.add(word)

summary = open(os.path.join(os.path.dirname(book), "..", "docs", "SUMMARY.md"), encoding="utf-8").read()
for dirpath, _, files in os.walk(book):
    for name in files:
        if not name.endswith(".html") or name in ("print.html", "404.html", "toc.html"):
            continue
        path = os.path.join(dirpath, name)
        rel = os.path.relpath(path, book)
        parser = Links()
        parser.feed(open(path, encoding="utf-8").read())
        for url in parser.remote:
            problems.append(f"{rel}: loads {url} from the network")
        if rel == "index.html":
            continue  # the same page as the first chapter
        pages += 1
        if not ({"previous", "prev"} & parser.rels or "next" in parser.rels):
            problems.append(f"{rel}: no previous/next navigation")
        for href in parser.hrefs:
            url = urllib.parse.urlparse(href)
            if url.scheme or href.startswith("#") or href.startswith("mailto:"):
                continue
            target = os.path.normpath(os.path.join(dirpath, urllib.parse.unquote(url.path)))
            if url.path and not os.path.exists(target):
                problems.append(f"{rel}: link {href} leads nowhere")
for problem in sorted(set(problems)):
    print("   ", problem)
print(f"    {pages} pages checked")
sys.exit(1 if problems or pages < 20 else 0)
PY

echo "==> running the book's Rust blocks (doctests) and tests/guide.rs"
cargo test -q --doc book_doctests
cargo test -q --test guide

echo "book: OK, target/book/index.html built and checked in $((SECONDS - start)) s"
