#!/usr/bin/env bash
# echo_server in a real browser: starts `examples/echo_server` (release build, permessage-deflate
# on) on a free loopback port, then runs `examples/cdp_echo_check`, which drives headless
# Chromium over the DevTools protocol with this crate's own client: the page's JavaScript
# WebSocket must negotiate permessage-deflate and get every message back exactly.
#
# Installs Debian's chromium if it is missing. Bounded: BROWSER_TEST_TIMEOUT seconds for the
# check (default 120), plus the build (BROWSER_PROFILE=debug builds without --release). Exits
# non-zero when any check fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/browser.sh
source scripts/lib/browser.sh

TIMEOUT=${BROWSER_TEST_TIMEOUT:-120}

chromium_install

browser_build release --example echo_server --example cdp_echo_check

port=$(free_port)
log=$(mktemp)
"$BIN/echo_server" "127.0.0.1:$port" >"$log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; rm -f "$log"' EXIT
wait_for_port "$port" || true

timeout --kill-after=10 "$TIMEOUT" "$BIN/cdp_echo_check" "http://127.0.0.1:$port/"
