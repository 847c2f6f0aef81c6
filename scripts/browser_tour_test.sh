#!/usr/bin/env bash
# The handshake tour in a real browser: starts `examples/tour` on a free loopback port, then
# runs `examples/cdp_tour_check`, which drives headless Chromium over the DevTools protocol (a
# WebSocket, spoken by this crate's own client): it clicks Next through every step of the
# tour, checks that the Sec-WebSocket-Accept shown equals the crate's accept_key of the key
# shown (and the SHA-1 shown is its base64 decoded), that the last step shows both Close
# frames, the server closing TCP first and a clean 1000 in the browser, then runs every
# "break it" case and checks the close code shown (1002, 1002, 1002, 1007, 1002, 1002, 1002,
# 1002, 1009). Then the dashboard demo (`examples/dashboard`, a sample every 250 ms): its wire
# meter panel must show both approaches measured with the browser's own headers, polling costing
# more per update than push.
#
#   scripts/browser_tour_test.sh
#   SCREENSHOTS=docs/screenshots scripts/browser_tour_test.sh   # also save tour-accept.png, tour-break.png, dashboard-wire.png
#
# Installs Debian's chromium if it is missing (apt-get update once, then install). Bounded in
# time: BROWSER_TEST_TIMEOUT seconds for the check (default 120), plus the build (debug
# profile; BROWSER_PROFILE=release for --release). Stops both servers with Ctrl-C (SIGINT) and checks that they shut down cleanly.
# Exits non-zero when any check fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/browser.sh
source scripts/lib/browser.sh

TIMEOUT=${BROWSER_TEST_TIMEOUT:-120}
start=$SECONDS

chromium_install

echo "==> building the tour, the dashboard and the browser check"
browser_build debug --example tour --example dashboard --example cdp_tour_check

work=$(mktemp -d)
tour_pid=
dashboard_pid=
cleanup() {
    stop_if_running "$tour_pid"
    stop_if_running "$dashboard_pid"
    rm -rf "$work"
}
trap cleanup EXIT

# Port 0: each server picks a free port and prints its URL.
start_demo "$work/tour.log" "$BIN/tour" 127.0.0.1:0 || { echo "==> tour browser test FAILED: the tour did not start"; exit 1; }
tour_pid=$DEMO_PID url=$DEMO_URL
echo "==> tour at $url"

start_demo "$work/dashboard.log" "$BIN/dashboard" 127.0.0.1:0 250 ||
    { echo "==> tour browser test FAILED: the dashboard did not start"; exit 1; }
dashboard_pid=$DEMO_PID dashboard_url=$DEMO_URL
echo "==> dashboard at $dashboard_url"

check_args=(--url "$url" --dashboard "$dashboard_url")
if [[ -n "${SCREENSHOTS:-}" ]]; then
    check_args+=(--screenshots "$SCREENSHOTS")
fi
rc=0
timeout --signal=INT --kill-after=10 "$TIMEOUT" "$BIN/cdp_tour_check" "${check_args[@]}" || rc=$?

# Ctrl-C must stop the server cleanly (it prints "bye").
stop_demo "$tour_pid" "$work/tour.log" bye "tour server" || rc=1
tour_pid=
stop_demo "$dashboard_pid" "$work/dashboard.log" "dashboard stopped" dashboard || rc=1
dashboard_pid=

if [[ $rc -eq 0 ]]; then
    echo "==> tour browser test passed in $((SECONDS - start)) s"
else
    echo "==> tour browser test FAILED (exit $rc) after $((SECONDS - start)) s"
fi
exit "$rc"
