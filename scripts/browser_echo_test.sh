#!/usr/bin/env bash
# echo_server in a real browser: starts `examples/echo_server` (release build, permessage-deflate
# on) on a free loopback port, then runs `examples/cdp_echo_check`, which drives headless
# Chromium over the DevTools protocol with this crate's own client: the page's JavaScript
# WebSocket must negotiate permessage-deflate and get every message back exactly.
#
# Installs Debian's chromium if it is missing. Bounded: BROWSER_TEST_TIMEOUT seconds for the
# check (default 120), plus the build. Exits non-zero when any check fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

TIMEOUT=${BROWSER_TEST_TIMEOUT:-120}

if ! command -v chromium >/dev/null 2>&1 && [[ -z "${CHROMIUM:-}" ]]; then
    echo "==> installing chromium (Debian package)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

cargo build --release --quiet --example echo_server --example cdp_echo_check

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
log=$(mktemp)
target/release/examples/echo_server "127.0.0.1:$port" >"$log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done

timeout --kill-after=10 "$TIMEOUT" target/release/examples/cdp_echo_check "http://127.0.0.1:$port/"
