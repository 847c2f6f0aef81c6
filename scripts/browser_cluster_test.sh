#!/usr/bin/env bash
# The chat as a two-node cluster in a real browser: starts a redis-server of its own on a free
# loopback port (no persistence), then runs `examples/cdp_cluster_check`, which starts two chat
# nodes joined through that Redis and drives headless Chromium with one tab on each: they share a
# room, a tab in another room sees nothing, both nodes show the same members and counts; then a
# node crashes, its user leaves the other node's list within the presence bound, and the crashed
# tab reconnects by itself and recovers what it missed from the room's history.
# Saves docs/screenshots/chat-cluster.png.
#
#   scripts/browser_cluster_test.sh
#   SCREENSHOT=/tmp/cluster.png scripts/browser_cluster_test.sh
#
# Installs Debian's chromium and redis-server if missing (apt-get update once, then install).
# Bounded: BROWSER_TEST_TIMEOUT seconds for the check (default 120), plus the build
# (BROWSER_PROFILE=debug builds without --release). Stops the redis-server it started. Exits
# non-zero when any check fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/browser.sh
source scripts/lib/browser.sh
# shellcheck source=scripts/redis.sh
source scripts/redis.sh

TIMEOUT=${BROWSER_TEST_TIMEOUT:-120}
SCREENSHOT=${SCREENSHOT:-docs/screenshots/chat-cluster.png}
start=$SECONDS

chromium_install
redis_install

echo "==> building the cluster browser check"
browser_build release --example cdp_cluster_check

trap redis_stop EXIT
redis_start
echo "==> redis-server at $REDIS_URL"
rc=0
timeout "$TIMEOUT" "$BIN/cdp_cluster_check" --redis "$REDIS_URL" --screenshot "$SCREENSHOT" || rc=$?
if [[ $rc -eq 0 ]]; then
    echo "browser cluster: 1 passed, 0 failed ($((SECONDS - start)) s)"
else
    echo "browser cluster: 0 passed, 1 failed ($((SECONDS - start)) s)"
fi
exit $rc
