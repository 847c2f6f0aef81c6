#!/usr/bin/env bash
# Load benchmark over loopback: the crate's echo_server, tungstenite's blocking echo server and
# a bare TCP echo, driven by examples/loadgen with the same load, server and load generator
# pinned to separate cores (taskset).
#
# Usage: scripts/load.sh [quick]         (quick: a tenth of the messages)
#
# Environment: SERVER_CPU (default 0), CLIENT_CPU (default 1), PORT_BASE (default 19100).
# Prints one line per (server, load) and a markdown table of the ratios at the end.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
PORT_BASE="${PORT_BASE:-19100}"
SCALE=1
[[ "${1:-}" == quick ]] && SCALE=10

cargo build --release --quiet --example echo_server --example tungstenite_echo --example tcp_echo --example loadgen
BIN="$ROOT/target/release/examples"

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

start() { # name port command...
    local port="$2"; shift 2
    taskset -c "$SERVER_CPU" "$@" >/dev/null 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "server on port $port did not start" >&2; exit 1
}

start rfc6455 $((PORT_BASE + 1)) "$BIN/echo_server" "127.0.0.1:$((PORT_BASE + 1))" --no-deflate
start tungstenite $((PORT_BASE + 2)) "$BIN/tungstenite_echo" "127.0.0.1:$((PORT_BASE + 2))"
start tcp $((PORT_BASE + 3)) "$BIN/tcp_echo" "127.0.0.1:$((PORT_BASE + 3))"

# name  connections  messages-per-connection  size  depth
LOADS=(
    "16B_ping_pong 1 $((50000 / SCALE)) 16 1"
    "16B_64_in_flight 1 $((1000000 / SCALE)) 16 64"
    "64KiB_ping_pong 1 $((20000 / SCALE)) 65536 1"
    "50conn_16B_8_in_flight 50 $((20000 / SCALE)) 16 8"
)
RESULTS=$(mktemp)
for load in "${LOADS[@]}"; do
    read -r name c n s d <<<"$load"
    for target in "rfc6455 ws://127.0.0.1:$((PORT_BASE + 1))" "tungstenite ws://127.0.0.1:$((PORT_BASE + 2))" "tcp tcp://127.0.0.1:$((PORT_BASE + 3))"; do
        read -r server url <<<"$target"
        line=$(taskset -c "$CLIENT_CPU" "$BIN/loadgen" "$url" -c "$c" -n "$n" -s "$s" -d "$d")
        echo "$name $server: $line"
        echo "$name $server $line" >>"$RESULTS"
    done
done

python3 - "$RESULTS" <<'PY'
import re, sys
rows = {}
for line in open(sys.argv[1]):
    name, server = line.split()[:2]
    m = re.search(r"([\d.]+) msg/s, ([\d.]+) MB/s, p50 ([\d.]+) us, p99 ([\d.]+) us", line)
    rows.setdefault(name, {})[server] = tuple(float(x) for x in m.groups())
print("\n| load | server | msg/s | MB/s | p50 µs | p99 µs | msg/s vs tungstenite | msg/s vs bare TCP | p50 vs bare TCP |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for name, servers in rows.items():
    for server in ("rfc6455", "tungstenite", "tcp"):
        if server not in servers:
            continue
        r, mb, p50, p99 = servers[server]
        t, tcp = servers.get("tungstenite"), servers.get("tcp")
        vs_t = f"{r / t[0]:.2f}×" if t else ""
        vs_tcp = f"{r / tcp[0]:.2f}×" if tcp else ""
        p50_tcp = f"{p50 / tcp[2]:.2f}×" if tcp else ""
        print(f"| {name} | {server} | {r:,.0f} | {mb:.1f} | {p50:.1f} | {p99:.1f} | {vs_t} | {vs_tcp} | {p50_tcp} |")
PY
rm -f "$RESULTS"
