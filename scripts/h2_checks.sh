#!/usr/bin/env bash
# Checks of WebSockets over HTTP/2 (RFC 8441, feature `h2`): clippy with the feature alone (CI's
# clippy step covers it with every other feature), its tests (the stream adapter, the server
# against the h2 crate's client over h2c and over TLS with ALPN, the client against the h2
# crate's server and ours, the property of messages crossing small random windows, the chat
# through its HTTP/2 front), and the doctests of the HTTP/2 modules (src/tokio/h2,
# src/handshake/h2_server.rs).
#
# The browser and the outside HTTP/2 peer have their own scripts: scripts/browser_h2_test.sh
# (Chromium) and scripts/h2_interop.sh (Node's http2).
#
# Prints one summary line, "h2 checks: N passed, M failed", and exits non-zero if any step
# failed. Everything runs in memory or on loopback on ports the OS picks.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
started=$SECONDS
# shellcheck source=scripts/lib/steps.sh
source scripts/lib/steps.sh

step "clippy --features h2" cargo clippy --all-targets --features h2 -- -D warnings
step "h2 tests" cargo test --features h2,tls --test h2_stream --test h2_server --test h2_client --test h2_props \
    --test demo_chat_h2
step "doctests of the HTTP/2 modules" cargo test --features h2,tls --doc h2

echo "==> took $((SECONDS - started))s"
steps_summary "h2 checks"
