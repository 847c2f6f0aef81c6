#!/usr/bin/env bash
# The frame inspector in a real browser: starts `examples/chat` (release build) on a free
# loopback port, then runs `examples/cdp_inspector_check`, which drives headless Chromium over
# the DevTools protocol: it opens the chat with the inspector panel on, joins a room, sends a
# message, and checks what the panel shows for that frame (FIN, RSV1-3, opcode, MASK, the
# length and its form, the masking key, the payload; for a compressed frame the DEFLATE bytes
# and what they inflate to) against this crate's own frame decoder run on the bytes the panel
# shows; then that a server frame is shown unmasked, that hovering a field shows its RFC
# section and the §5.2 diagram, and that the page's Close frame is shown with its code and
# reason decoded.
#
#   scripts/browser_inspector_test.sh
#   SCREENSHOT=/tmp/inspector.png scripts/browser_inspector_test.sh   # also save a picture
#
# Installs Debian's chromium if it is missing. Bounded in time: BROWSER_TEST_TIMEOUT seconds
# for the check (default 120), plus the build (BROWSER_PROFILE=debug builds without --release). Stops the chat server it started (Ctrl-C, and
# checks it shut down cleanly). Exits non-zero when any check fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/browser.sh
source scripts/lib/browser.sh

TIMEOUT=${BROWSER_TEST_TIMEOUT:-120}
start=$SECONDS

chromium_install

echo "==> building the chat demo and the inspector check"
browser_build release --example chat --example cdp_inspector_check

work=$(mktemp -d)
chat_pid=
cleanup() {
    stop_if_running "$chat_pid"
    rm -rf "$work"
}
trap cleanup EXIT

# Port 0: the server picks a free port and prints its URL.
if ! start_demo "$work/chat.log" "$BIN/chat" 127.0.0.1:0; then
    echo "==> inspector browser test FAILED: the chat server did not start"
    exit 1
fi
chat_pid=$DEMO_PID url=$DEMO_URL
echo "==> chat demo at $url"

rc=0
check_args=(--url "$url")
[[ -n "${SCREENSHOT:-}" ]] && check_args+=(--screenshot "$SCREENSHOT")
timeout --signal=INT --kill-after=10 "$TIMEOUT" "$BIN/cdp_inspector_check" "${check_args[@]}" || rc=$?

# Ctrl-C must stop the server cleanly (it prints "bye" once every connection is closed).
stop_demo "$chat_pid" "$work/chat.log" bye "chat server" || rc=1
chat_pid=

if [[ $rc -eq 0 ]]; then
    echo "==> inspector browser test passed in $((SECONDS - start)) s"
else
    echo "==> inspector browser test FAILED (exit $rc) after $((SECONDS - start)) s"
fi
exit "$rc"
