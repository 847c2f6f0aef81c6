#!/usr/bin/env bash
# Supply-chain check: `cargo deny check licenses bans sources` with the policy in deny.toml
# (allowed licenses, duplicate versions, crates.io as the only source). Installs cargo-deny
# if it is missing (`cargo install cargo-deny --locked`: a long compile, once per machine).
#
# Advisories are not checked: they need the RustSec database from the network, which CI cannot
# reach (see deny.toml). Prints one summary line; exits non-zero on any failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
start=$SECONDS

if ! cargo deny --version >/dev/null 2>&1; then
    echo "==> [deny] installing cargo-deny"
    cargo install cargo-deny --locked
fi
echo "==> [deny] $(cargo deny --version)"

status=0
cargo deny --locked check licenses bans sources || status=$?

took=$((SECONDS - start))
if [[ $status -eq 0 ]]; then
    echo "deny: ok: licenses, bans and sources pass deny.toml (advisories not checked: no network) (${took}s)"
else
    echo "deny: FAILED: see the diagnostics above; a new license or duplicate crate needs a look"
    echo "      (cargo tree -d --all-features --target all shows duplicates) before deny.toml changes (${took}s)"
    exit 1
fi
