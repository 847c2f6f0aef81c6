#!/usr/bin/env bash
# The chat demo over HTTP/2 in a real browser: starts `chat 127.0.0.1:P1 --h2 127.0.0.1:P2` (the
# chat on its HTTP/1.1 port, and the HTTP/2 front of examples/common/h2_front.rs on a TLS port
# with a fresh self-signed certificate) on free loopback ports, then runs
# `examples/cdp_chat_h2_check`: headless Chromium opens https://127.0.0.1:P2/ in two tabs over
# HTTP/2, both join #lobby, a message goes from one to the other and the answer comes back, and
# the check prints the browser's evidence (DevTools: protocol "h2", WebSocket handshakes answered
# 200; Chromium's NetLog: one HTTP2_SESSION sent GET / and CONNECT :protocol websocket to /ws)
# and the front's log of it.
#
# Installs Debian's chromium if it is missing. Debug builds. Bounded: BROWSER_TEST_TIMEOUT
# seconds for the check (default 120), plus the build. BROWSER_PROFILE=release builds with
# --release. Exits non-zero when any check fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/browser.sh
source scripts/lib/browser.sh

TIMEOUT=${BROWSER_TEST_TIMEOUT:-120}
started=$(date +%s)

chromium_install

browser_build debug --features tls,h2 --example chat --example cdp_chat_h2_check

work=$(mktemp -d)
chat_pid=
cleanup() {
    if [[ -n "$chat_pid" ]]; then
        kill -INT "$chat_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$chat_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$chat_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

chat_port=$(free_port)
front_port=$(free_port)
while [[ "$front_port" == "$chat_port" ]]; do front_port=$(free_port); done
"$BIN/chat" "127.0.0.1:$chat_port" --h2 "127.0.0.1:$front_port" >"$work/chat.log" 2>&1 &
chat_pid=$!
wait_for_port "$front_port" || true

echo "==> $(chromium_version) against chat --h2: https://127.0.0.1:$front_port/ in front of http://127.0.0.1:$chat_port/"
run_check browser_chat_h2_test "$work/chat.log" "$TIMEOUT" "$BIN/cdp_chat_h2_check" "https://127.0.0.1:$front_port/" "$work/chat.log"
