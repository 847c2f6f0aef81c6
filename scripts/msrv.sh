#!/usr/bin/env bash
# Keep the minimum supported Rust version (`rust-version` in Cargo.toml) honest without an
# old toolchain:
#
#  1. no package in the dependency graph (every feature, every target platform, dev- and
#     build-dependencies included: everything `cargo test --all-features` builds) declares a
#     newer `rust-version` than ours;
#  2. clippy's `incompatible_msrv` lint, denied, over every target (lib, tests, examples,
#     benches) and every feature: it flags standard-library items stabilized after our
#     `rust-version`.
#
#  3. tests/msrv_syntax.rs: the language features newer than the edition that the code uses
#     (let chains 1.88, `if let` guards 1.95) need no newer Rust than ours.
#
# docs/decisions.md lists how the version was worked out and what to look for when raising or
# lowering it.
#
# Prints one summary line and exits non-zero on any failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
start=$SECONDS

command -v python3 >/dev/null || { echo "msrv: python3 is needed to read cargo metadata" >&2; exit 2; }

echo "==> [msrv] dependencies' rust-version against ours"
deps_status=0
cargo metadata --format-version 1 --all-features --locked | python3 -c '
import json, sys

def version(text):
    parts = [int(p) for p in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))

meta = json.load(sys.stdin)
root = meta["resolve"]["root"]
packages = {p["id"]: p for p in meta["packages"]}
ours = packages[root].get("rust_version")
if not ours:
    sys.exit("msrv: Cargo.toml declares no rust-version")
resolved = [packages[node["id"]] for node in meta["resolve"]["nodes"] if node["id"] != root]
newer = sorted(
    (p["name"], p["version"], p["rust_version"])
    for p in resolved
    if p.get("rust_version") and version(p["rust_version"]) > version(ours)
)
highest = max((version(p["rust_version"]) for p in resolved if p.get("rust_version")), default=None)
print(f"    ours: {ours}; {len(resolved)} packages resolved; highest declared by a dependency: "
      + (".".join(map(str, highest)) if highest else "none"))
for name, ver, rv in newer:
    print(f"    {name} {ver} needs Rust {rv}, newer than our {ours}")
sys.exit(1 if newer else 0)
' || deps_status=$?

echo "==> [msrv] cargo clippy --all-targets --all-features -- -D clippy::incompatible_msrv"
clippy_status=0
cargo clippy --locked --all-targets --all-features -- -D clippy::incompatible_msrv || clippy_status=$?

echo "==> [msrv] cargo test --test msrv_syntax"
syntax_status=0
cargo test --locked --test msrv_syntax -- --nocapture || syntax_status=$?

took=$((SECONDS - start))
if [[ $deps_status -eq 0 && $clippy_status -eq 0 && $syntax_status -eq 0 ]]; then
    echo "msrv: ok: no dependency, std item or language feature needs a newer Rust than rust-version (${took}s)"
else
    [[ $deps_status -ne 0 ]] && echo "msrv: FAILED: a dependency declares a newer rust-version (see above)"
    [[ $clippy_status -ne 0 ]] && echo "msrv: FAILED: clippy found items newer than rust-version (see above)"
    [[ $syntax_status -ne 0 ]] && echo "msrv: FAILED: the code uses language features newer than rust-version (see above)"
    echo "msrv: FAILED (${took}s)"
    exit 1
fi
