#!/usr/bin/env bash
# Large-message load over loopback: the rows of the large-message goals in docs/performance.md.
# The crate's echo_server, tungstenite's blocking echo server and a bare TCP echo, driven by
# examples/loadgen with the same load, server and load generator pinned to separate cores.
# Every load runs ROUNDS times, the servers taking turns within a round, and the best msg/s of
# each server is kept (the machine is shared: the best of a few short runs is the least
# disturbed one). At the end: a markdown table of the ratios, and the peak resident memory of
# each WebSocket server during a 16 MiB echo, against the message size.
#
# Usage: scripts/load_large.sh [quick]          (quick: one round, a third of the messages)
#
# Environment: SERVER_CPU (default 0), CLIENT_CPU (default 1), ROUNDS (default 3).
# Exits non-zero if a server does not start or an echo differs (loadgen checks every byte).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
ROUNDS="${ROUNDS:-3}"
SCALE=1
if [[ "${1:-}" == quick ]]; then SCALE=3; ROUNDS=1; fi

cargo build --release --quiet --example echo_server --example tungstenite_echo --example tcp_echo --example loadgen
BIN="$ROOT/target/release/examples"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

LAST_PID=
start() { # port command... ; sets LAST_PID
    local port="$1"; shift
    taskset -c "$SERVER_CPU" "$@" >/dev/null 2>&1 &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "server on port $port did not start" >&2; exit 1
}

P1=$(free_port); P2=$(free_port); P3=$(free_port)
start "$P1" "$BIN/echo_server" "127.0.0.1:$P1" --no-deflate
start "$P2" "$BIN/tungstenite_echo" "127.0.0.1:$P2"
start "$P3" "$BIN/tcp_echo" "127.0.0.1:$P3"

# name  connections  messages-per-connection  size  depth
LOADS=(
    "16B_ping_pong 1 $((20000 / SCALE)) 16 1"
    "16B_64_in_flight 1 $((300000 / SCALE)) 16 64"
    "64KiB_ping_pong 1 $((3000 / SCALE)) 65536 1"
    "16KiB_10conn 10 $((1500 / SCALE)) 16384 1"
    "16KiB_200conn 200 $((150 / SCALE)) 16384 1"
    "1MiB_ping_pong 1 $((300 / SCALE)) 1048576 1"
    "16MiB_ping_pong 1 $((30 / SCALE)) 16777216 1"
)
RESULTS=$(mktemp)
for load in "${LOADS[@]}"; do
    read -r name c n s d <<<"$load"
    for round in $(seq "$ROUNDS"); do
        for target in "rfc6455 ws://127.0.0.1:$P1" "tungstenite ws://127.0.0.1:$P2" "tcp tcp://127.0.0.1:$P3"; do
            read -r server url <<<"$target"
            line=$(taskset -c "$CLIENT_CPU" "$BIN/loadgen" "$url" -c "$c" -n "$n" -s "$s" -d "$d")
            echo "$name $server round $round: $line"
            echo "$name $server $line" >>"$RESULTS"
        done
    done
done

# Peak memory during a 16 MiB echo: fresh servers, one connection, ten messages.
MEM=$(mktemp)
for server in rfc6455 tungstenite; do
    port=$(free_port)
    if [[ $server == rfc6455 ]]; then
        start "$port" "$BIN/echo_server" "127.0.0.1:$port" --no-deflate
    else
        start "$port" "$BIN/tungstenite_echo" "127.0.0.1:$port"
    fi
    pid=$LAST_PID
    taskset -c "$CLIENT_CPU" "$BIN/loadgen" "ws://127.0.0.1:$port" -c 1 -n 10 -s 16777216 -d 1 >/dev/null
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    echo "$server $hwm" >>"$MEM"
    kill "$pid" 2>/dev/null || true
done

python3 - "$RESULTS" "$MEM" <<'PY'
import re, sys
rows = {}
for line in open(sys.argv[1]):
    name, server = line.split()[:2]
    m = re.search(r"([\d.]+) msg/s, ([\d.]+) MB/s, p50 ([\d.]+) us, p99 ([\d.]+) us", line)
    r = tuple(float(x) for x in m.groups())
    best = rows.setdefault(name, {}).get(server)
    if best is None or r[0] > best[0]:
        rows[name][server] = r
print("\n| load | server | msg/s (best) | MB/s | p50 µs | msg/s vs tungstenite | msg/s vs bare TCP |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
for name, servers in rows.items():
    for server in ("rfc6455", "tungstenite", "tcp"):
        if server not in servers:
            continue
        r, mb, p50, p99 = servers[server]
        t, tcp = servers.get("tungstenite"), servers.get("tcp")
        vs_t = f"{r / t[0]:.2f}×" if t else ""
        vs_tcp = f"{r / tcp[0]:.2f}×" if tcp else ""
        print(f"| {name} | {server} | {r:,.0f} | {mb:.1f} | {p50:.1f} | {vs_t} | {vs_tcp} |")
print("\n| server | peak RSS during 16 MiB echoes | × message size |")
print("| --- | ---: | ---: |")
for line in open(sys.argv[2]):
    server, kib = line.split()
    print(f"| {server} | {int(kib) / 1024:.1f} MiB | {int(kib) * 1024 / (16 << 20):.2f}× |")
print("\nload_large: done")
PY
rm -f "$RESULTS" "$MEM"
