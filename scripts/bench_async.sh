#!/usr/bin/env bash
# The async layer's load benchmark, side by side in one run: examples/async_echo_server (rfc6455
# on tokio, current-thread runtime, --no-deflate) against the echo servers of tokio-websockets
# 0.13, fastwebsockets 0.10 and tokio-tungstenite 0.30 (bench/loadtools, each on a
# current-thread runtime, as its own documentation writes an echo) and the crate's blocking
# examples/echo_server (--no-deflate). Each server is pinned to CPU 0, the load generator
# (bench/loadtools: loadtest, one event loop for every connection) to CPU 1.
#
# Workloads (uWebSockets load_test style: each connection has one message in flight, sends
# again when its echo is in): 100 × 20 B, 10 × 1 KiB, 10 × 16 KiB, 200 × 16 KiB, 500 × 16 KiB,
# binary; 10 × 1 KiB text; and pipelined, 100 × 20 B with 8 in flight per connection. Each run
# counts BENCH_TIME seconds after BENCH_WARMUP seconds; every (workload, server) is run REPEATS
# times, servers in a rotating order, and the table gives medians. Then memory: a fresh process
# of each server holds IDLE_CONNS connections after one 20 B echo each; RSS before and after.
#
# Usage: scripts/bench_async.sh [quick]     (quick: 1 repeat, 1 s counted, 1,000 idle connections)
# Environment: REPEATS (3), BENCH_TIME (3), BENCH_WARMUP (1), IDLE_CONNS (10000), SKIP_IDLE=1,
#   SERVER_CPU (0), CLIENT_CPU (1), OUT (a directory for the raw results; default a temp dir).
# A server that is not in the tree or does not build is reported as NOT AVAILABLE, in every row.
# Exits non-zero if any echo was wrong or any run failed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"

bench_start async "${1:-}"
IDLE_CONNS="${IDLE_CONNS:-10000}"
if [[ "${1:-}" == quick ]]; then
    IDLE_CONNS=1000
fi

build_loadtools
build_examples echo_server
build_async

# name: command (the address is inserted as the first argument)
declare -A CMD=(
    [rfc6455-async]="$ASYNC_BIN --no-deflate"
    [tokio-websockets]="$LT/echo_tokio_websockets"
    [fastwebsockets]="$LT/echo_fastwebsockets"
    [tokio-tungstenite]="$LT/echo_tokio_tungstenite"
    [rfc6455-blocking]="$EX/echo_server --no-deflate"
)
SERVERS=(rfc6455-async tokio-websockets fastwebsockets tokio-tungstenite rfc6455-blocking)
available() { [[ $1 != rfc6455-async || -z "$ASYNC_MISSING" ]]; }

# name|loadtest arguments
WORKLOADS=(
    "100x20B|-c 100 -s 20"
    "10x1KiB|-c 10 -s 1024"
    "10x16KiB|-c 10 -s 16384"
    "200x16KiB|-c 200 -s 16384"
    "500x16KiB|-c 500 -s 16384"
    "10x1KiB_text|-c 10 -s 1024 --text"
    "100x20B_8_in_flight|-c 100 -s 20 -d 8"
)

{
    echo "{\"meta\": true, \"commit\": \"$(git rev-parse --short HEAD)\", \"date\": \"$(date -u +%FT%TZ)\","
    echo " \"repeats\": $REPEATS, \"seconds\": $BENCH_TIME, \"warmup\": $BENCH_WARMUP,"
    echo " \"async_missing\": \"${ASYNC_MISSING//\"/}\", \"async_bin\": \"$ASYNC_BIN\", \"sched\": \"$BENCH_SCHED\","
    echo " \"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
} | tr -d '\n' >>"$RESULTS"
echo >>"$RESULTS"

for s in "${SERVERS[@]}"; do
    if available "$s"; then
        # shellcheck disable=SC2086
        start_server "$s" ${CMD[$s]}
    fi
done

echo "throughput: ${#WORKLOADS[@]} workloads × ${#SERVERS[@]} servers × $REPEATS repeats, ${BENCH_WARMUP} s + ${BENCH_TIME} s each" >&2
for rep in $(seq "$REPEATS"); do
    for w in "${WORKLOADS[@]}"; do
        name=${w%%|*}
        args=${w#*|}
        # Rotate the order of the servers from one repeat to the next.
        n=${#SERVERS[@]}
        for i in $(seq 0 $((n - 1))); do
            s=${SERVERS[$(((i + rep) % n))]}
            if ! available "$s"; then
                echo "{\"workload\": \"$name\", \"server\": \"$s\", \"rep\": $rep, \"unavailable\": true}" >>"$RESULTS"
                continue
            fi
            if ! alive "$s"; then
                echo "  ERROR server $s is no longer running; restarting it" >&2
                ERRORS=$((ERRORS + 1))
                # shellcheck disable=SC2086
                start_server "$s" ${CMD[$s]}
            fi
            # shellcheck disable=SC2086
            run_load "$RESULTS" "$name" "$s" "$rep" "ws://127.0.0.1:${SPORT[$s]}" $args \
                --warmup "$BENCH_WARMUP" --time "$BENCH_TIME"
            sleep 0.2
        done
    done
done
stop_all

# Memory per idle connection: a fresh server, RSS before the connections and after each has had
# one echo and is held open.
if [[ "${SKIP_IDLE:-0}" != 1 ]]; then
    echo "memory: $IDLE_CONNS idle connections per server" >&2
    for s in "${SERVERS[@]}"; do
        if ! available "$s"; then
            echo "{\"idle\": true, \"server\": \"$s\", \"unavailable\": true}" >>"$RESULTS"
            continue
        fi
        # shellcheck disable=SC2086
        start_server "$s" ${CMD[$s]}
        sleep 0.5
        pid=${SPID[$s]}
        before=$(rss_kib "$pid")
        "${SCHED[@]}" taskset -c "$CLIENT_CPU" "$LT/loadtest" "ws://127.0.0.1:${SPORT[$s]}" -c "$IDLE_CONNS" -s 20 --idle 600 \
            >"$RUN_DIR/idle-$s.out" 2>"$RUN_DIR/idle-$s.err" &
        lpid=$!
        ok=0
        for _ in $(seq 1200); do
            if grep -q '"ready"' "$RUN_DIR/idle-$s.out"; then ok=1; break; fi
            kill -0 "$lpid" 2>/dev/null || break
            sleep 0.25
        done
        if [[ $ok == 1 ]]; then
            sleep 1
            after=$(rss_kib "$pid")
            threads=$(threads_of "$pid")
            echo "{\"idle\": true, \"server\": \"$s\", \"connections\": $IDLE_CONNS, \"rss_before_kib\": $before, \"rss_after_kib\": $after, \"threads\": $threads}" >>"$RESULTS"
            echo "  $s: RSS $before KiB -> $after KiB, $(((after - before) * 1024 / IDLE_CONNS)) B per connection, $threads threads" >&2
        else
            ERRORS=$((ERRORS + 1))
            why=$(tail -n 1 "$RUN_DIR/idle-$s.err" | tr -d '"\\')
            echo "{\"idle\": true, \"server\": \"$s\", \"error\": \"${why:-the connections did not open in time}\"}" >>"$RESULTS"
            echo "  ERROR idle $s: $why" >&2
        fi
        kill "$lpid" 2>/dev/null || true
        wait "$lpid" 2>/dev/null || true
        stop_server "$s"
        sleep 1
    done
fi

python3 scripts/bench_load_report.py async "$RESULTS"
echo "raw results: $RESULTS" >&2
if [[ -n "$ASYNC_MISSING" ]]; then
    echo "!!!!!!!! rfc6455 async_echo_server NOT AVAILABLE: $ASYNC_MISSING" >&2
fi
echo "bench_async: $ERRORS errors" >&2
[[ $ERRORS -eq 0 ]]
