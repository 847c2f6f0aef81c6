#!/usr/bin/env bash
# Proves that the load generator (bench/loadtools: loadtest) checks what it counts: against
# bench/loadtools' faulty_echo it must accept a correct but fragmented echo (with Pings between
# the fragments), and fail with a clear error on a flipped byte, a swapped pair of echoes, a
# short echo and a wrong opcode. Also checks the idle mode and the TCP mode against the correct
# server. Prints "loadtest selftest: N passed, N failed"; exits non-zero on any failure.
#
# Usage: scripts/loadtest_selftest.sh          (about 1 minute with the build cached)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TARGET="$ROOT/target/loadtools"
cargo build --release --quiet --manifest-path bench/loadtools/Cargo.toml --target-dir "$TARGET" \
    --bin loadtest --bin faulty_echo
BIN="$TARGET/release"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PID=""
cleanup() { [[ -n "$PID" ]] && kill "$PID" 2>/dev/null || true; }
trap cleanup EXIT
serve() { # mode -> sets PORT, PID
    cleanup
    PORT=$(free_port)
    "$BIN/faulty_echo" "127.0.0.1:$PORT" "$1" >/dev/null 2>&1 &
    PID=$!
    for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0; sleep 0.05; done
    echo "faulty_echo $1 did not start" >&2; exit 1
}

PASS=0 FAIL=0
expect() { # ok|error  description  mode  loadtest-args...
    local want=$1 what=$2 mode=$3 out rc=0
    shift 3
    serve "$mode"
    out=$(timeout 30 "$BIN/loadtest" "ws://127.0.0.1:$PORT" --warmup 0 --time 0.5 --timeout 3 "$@" 2>&1) || rc=$?
    if { [[ $want == ok ]] && [[ $rc -eq 0 ]] && grep -q '"msgs_per_s"' <<<"$out"; } ||
        { [[ $want == error ]] && [[ $rc -ne 0 ]] && grep -q '"error"' <<<"$out"; }; then
        PASS=$((PASS + 1)); echo "ok    $what"
    else
        FAIL=$((FAIL + 1)); echo "FAIL  $what (exit $rc): $out"
    fi
}

expect ok "fragmented echoes with Pings between fragments, binary, 16 KiB" fragmented -c 4 -s 16384 -d 3
expect ok "fragmented echoes, text, 20 B" fragmented -c 4 -s 20 --text
expect error "one flipped byte is an error" flip -c 2 -s 1024
expect error "one flipped byte in a text echo is an error" flip -c 2 -s 64 --text
expect error "two echoes swapped is an error" swap -c 1 -s 100 -d 4
expect error "an echo one byte short is an error" short -c 1 -s 300
expect error "an echo as the wrong data type is an error" opcode -c 1 -s 20

# The idle mode: every connection gets its one echo, then the tool says it is ready.
serve fragmented
out=$(timeout 30 "$BIN/loadtest" "ws://127.0.0.1:$PORT" -c 50 -s 20 --idle 0 2>&1) || true
if grep -q '"ready":true' <<<"$out"; then PASS=$((PASS + 1)); echo "ok    idle mode: 50 connections, one echo each"
else FAIL=$((FAIL + 1)); echo "FAIL  idle mode: $out"; fi

# The TCP mode against a WebSocket server (which waits for a handshake and echoes nothing): no
# echo in the counted window is an error, not a rate of 0.
serve fragmented
out=$(timeout 30 "$BIN/loadtest" "tcp://127.0.0.1:$PORT" -c 1 -s 64 --warmup 0 --time 0.5 --timeout 3 2>&1) && rc=0 || rc=$?
if [[ $rc -ne 0 ]]; then PASS=$((PASS + 1)); echo "ok    no echo in the window (tcp:// to a WebSocket server) is an error"
else FAIL=$((FAIL + 1)); echo "FAIL  tcp:// mode accepted a non-echo: $out"; fi

echo "loadtest selftest: $PASS passed, $FAIL failed"
[[ $FAIL -eq 0 ]]
