#!/usr/bin/env bash
# The chat demo in a real browser: starts `examples/chat` (release build) on a free loopback
# port, then runs `examples/cdp_chat_check`, which drives headless Chromium over the DevTools
# protocol (a WebSocket, spoken by this crate's own client): two tabs join #lobby and see each
# other's messages, a third tab in #kernel sees none, typing and room counts show, and a page
# reconnects by itself after its server restarts. Saves docs/screenshots/chat.png.
#
#   scripts/browser_test.sh                 # screenshot to docs/screenshots/chat.png
#   SCREENSHOT=/tmp/chat.png scripts/browser_test.sh
#
# Installs Debian's chromium if it is missing (apt-get update once, then install). Bounded in
# time: BROWSER_TEST_TIMEOUT seconds for the check (default 120), plus the build. Exits
# non-zero when any check fails. Finally stops the chat server with Ctrl-C (SIGINT) and checks
# that it shut down cleanly.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

TIMEOUT=${BROWSER_TEST_TIMEOUT:-120}
SCREENSHOT=${SCREENSHOT:-docs/screenshots/chat.png}
start=$SECONDS

if ! command -v chromium >/dev/null 2>&1 && [[ -z "${CHROMIUM:-}" ]]; then
    echo "==> installing chromium (Debian package)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

echo "==> building the chat demo and the browser check"
cargo build --release --quiet --example chat --example cdp_chat_check

work=$(mktemp -d)
chat_pid=
cleanup() {
    if [[ -n "$chat_pid" ]] && kill -0 "$chat_pid" 2>/dev/null; then
        kill "$chat_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Port 0: the server picks a free port and prints its URL.
target/release/examples/chat 127.0.0.1:0 >"$work/chat.log" 2>&1 &
chat_pid=$!
url=
for _ in $(seq 100); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$work/chat.log" | head -n1 || true)
    [[ -n "$url" ]] && break
    kill -0 "$chat_pid" 2>/dev/null || { cat "$work/chat.log"; echo "the chat server did not start"; exit 1; }
    sleep 0.1
done
[[ -n "$url" ]] || { cat "$work/chat.log"; echo "the chat server printed no URL"; exit 1; }
echo "==> chat demo at $url"

rc=0
timeout --signal=INT --kill-after=10 "$TIMEOUT" \
    target/release/examples/cdp_chat_check --url "$url" --screenshot "$SCREENSHOT" || rc=$?

# Ctrl-C must stop the server cleanly (it prints "bye" once every connection is closed).
kill -INT "$chat_pid"
for _ in $(seq 50); do
    kill -0 "$chat_pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$chat_pid" 2>/dev/null || ! grep -q '^bye$' "$work/chat.log"; then
    cat "$work/chat.log"
    echo "the chat server did not shut down cleanly on Ctrl-C"
    rc=1
fi
chat_pid=

if [[ $rc -eq 0 ]]; then
    echo "==> browser test passed in $((SECONDS - start)) s"
else
    echo "==> browser test FAILED (exit $rc) after $((SECONDS - start)) s"
fi
exit "$rc"
