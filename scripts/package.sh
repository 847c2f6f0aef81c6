#!/usr/bin/env bash
# Check what a release would publish: `cargo package --list` holds the library, its docs, the
# README, the changelog and both licenses, and none of the repository's tooling (fuzz targets,
# scripts, CI, tests, benches, examples, screenshots); then `cargo publish --dry-run` packages
# and builds the crate from the package alone, as crates.io would.
#
# Prints the file count and size and one summary line; exits non-zero on any failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
start=$SECONDS

# A work tree with uncommitted changes is packaged as it is (CI's fresh clone is clean).
dirty=()
if [[ -n "$(git status --porcelain 2>/dev/null)" ]]; then
    dirty=(--allow-dirty)
fi

list=$(cargo package --locked --list "${dirty[@]}" 2>/dev/null)
status=0

for required in Cargo.toml README.md CHANGELOG.md LICENSE-MIT LICENSE-APACHE src/lib.rs docs/guide/00-index.md; do
    if ! grep -qx "$required" <<<"$list"; then
        echo "package: FAILED: $required is missing from the package"
        status=1
    fi
done
unwanted=$(grep -E '^(fuzz|scripts|tests|benches|examples|\.ci|docs/screenshots|certs|target)/|\.png$' <<<"$list" || true)
if [[ -n "$unwanted" ]]; then
    echo "package: FAILED: the package holds repository tooling:"
    sed 's/^/    /' <<<"$unwanted"
    status=1
fi

echo "==> [package] cargo publish --dry-run"
# cargo warns that it ignores the examples, tests and benches it does not ship: that is the
# intent of `include` in Cargo.toml, so those lines are filtered out.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if cargo publish --locked --dry-run "${dirty[@]}" >"$log" 2>&1; then
    grep -vE '^warning: ignoring (example|test|benchmark) ' "$log" | grep -E 'Packaged|warning' || true
else
    cat "$log"
    echo "package: FAILED: cargo publish --dry-run"
    status=1
fi

took=$((SECONDS - start))
files=$(wc -l <<<"$list")
if [[ $status -eq 0 ]]; then
    echo "package: ok: $files files, publish dry run passes (${took}s)"
else
    echo "package: FAILED (${took}s)"
    exit 1
fi
