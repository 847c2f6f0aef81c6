#!/usr/bin/env bash
# WebSockets over HTTP/2 (RFC 8441) in a real browser: makes a test certificate
# (examples/make_cert), starts `async_echo_server --tls CERT KEY --h2` (one TLS port offering
# h2 and http/1.1 by ALPN) on a free loopback port, then runs `examples/cdp_h2_check`: headless
# Chromium loads https://127.0.0.1:PORT/ over HTTP/2, the page's WebSockets echo messages, and
# the check prints the browser's evidence that they rode the page's HTTP/2 connection
# (DevTools: protocol "h2", connectionId, handshake status 200; Chromium's NetLog: the same
# HTTP2_SESSION sent GET / and CONNECT :protocol websocket) and the server's log of it.
#
# Installs Debian's chromium if it is missing. Bounded: BROWSER_TEST_TIMEOUT seconds for the
# check (default 120), plus the build. BROWSER_H2_PROFILE=debug (or BROWSER_PROFILE=debug)
# builds without --release.
# Exits non-zero when any check fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/browser.sh
source scripts/lib/browser.sh

TIMEOUT=${BROWSER_TEST_TIMEOUT:-120}
started=$(date +%s)

chromium_install

browser_build "${BROWSER_H2_PROFILE:-release}" --features tls,h2 \
    --example async_echo_server --example cdp_h2_check --example make_cert

work=$(mktemp -d)
server_pid=
cleanup() {
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

"$BIN/make_cert" "$work/certs" >/dev/null
port=$(free_port)
"$BIN/async_echo_server" "127.0.0.1:$port" --tls "$work/certs/cert.pem" "$work/certs/key.pem" --h2 \
    >"$work/server.log" 2>&1 &
server_pid=$!
wait_for_port "$port" || true

echo "==> $(chromium_version) against async_echo_server --h2 on https://127.0.0.1:$port/"
run_check browser_h2_test "$work/server.log" "$TIMEOUT" "$BIN/cdp_h2_check" "https://127.0.0.1:$port/" "$work/server.log"
