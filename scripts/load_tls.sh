#!/usr/bin/env bash
# The cost of TLS: examples/echo_server over ws:// and over wss:// (--tls, a certificate from a
# local CA made by examples/make_cert), driven by examples/loadgen with the same loads in the
# same run, server and load generator pinned to separate cores (taskset). Loopback only; each
# load is bounded in messages and time.
#
# Usage: scripts/load_tls.sh [quick]     (quick: a tenth of the messages)
#
# Environment: SERVER_CPU (default 0), CLIENT_CPU (default 1), PORT_BASE (default 19200),
# LOAD_TIMEOUT seconds per load (default 300).
# Prints one line per (load, scheme) and a markdown table of wss/ws ratios at the end.
set -euo pipefail
# shellcheck source=scripts/lib/net.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/net.sh"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
PORT_BASE="${PORT_BASE:-19200}"
LOAD_TIMEOUT="${LOAD_TIMEOUT:-300}"
SCALE=1
[[ "${1:-}" == quick ]] && SCALE=10

cargo build --release --quiet --features tls --example echo_server --example loadgen --example make_cert
BIN="$ROOT/target/release/examples"
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN/make_cert" "$WORK" 127.0.0.1 localhost >/dev/null
export LOADGEN_CA="$WORK/ca.pem"

start() { # port command...
    local port="$1"; shift
    taskset -c "$SERVER_CPU" "$@" >/dev/null 2>&1 &
    PIDS+=($!)
    wait_for_port "$port" || exit 1
}

WS_PORT=$((PORT_BASE + 1))
WSS_PORT=$((PORT_BASE + 2))
start "$WS_PORT" "$BIN/echo_server" "127.0.0.1:$WS_PORT" --no-deflate
start "$WSS_PORT" "$BIN/echo_server" "127.0.0.1:$WSS_PORT" --no-deflate --tls "$WORK/cert.pem" "$WORK/key.pem"

# name  connections  messages-per-connection  size  depth
LOADS=(
    "16B_ping_pong 1 $((50000 / SCALE)) 16 1"
    "16B_64_in_flight 1 $((1000000 / SCALE)) 16 64"
    "64KiB_ping_pong 1 $((20000 / SCALE)) 65536 1"
    "50conn_16B_8_in_flight 50 $((20000 / SCALE)) 16 8"
)
RESULTS="$WORK/results"
for load in "${LOADS[@]}"; do
    read -r name c n s d <<<"$load"
    for target in "ws ws://127.0.0.1:$WS_PORT" "wss wss://localhost:$WSS_PORT"; do
        read -r scheme url <<<"$target"
        line=$(timeout "$LOAD_TIMEOUT" taskset -c "$CLIENT_CPU" "$BIN/loadgen" "$url" -c "$c" -n "$n" -s "$s" -d "$d")
        echo "$name $scheme: $line"
        echo "$name $scheme $line" >>"$RESULTS"
    done
done

python3 - "$RESULTS" <<'PY'
import re, sys
rows = {}
for line in open(sys.argv[1]):
    name, scheme = line.split()[:2]
    m = re.search(r"([\d.]+) msg/s, ([\d.]+) MB/s, p50 ([\d.]+) us, p99 ([\d.]+) us", line)
    rows.setdefault(name, {})[scheme] = tuple(float(x) for x in m.groups())
print()
print("| load | ws msg/s | wss msg/s | wss/ws | ws MB/s | wss MB/s | ws p50 us | wss p50 us | ws p99 us | wss p99 us |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for name, r in rows.items():
    ws, wss = r["ws"], r["wss"]
    print("| %s | %.0f | %.0f | %.2f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |"
          % (name, ws[0], wss[0], wss[0] / ws[0], ws[1], wss[1], ws[2], wss[2], ws[3], wss[3]))
PY
