#!/usr/bin/env bash
# Large messages, side by side in one run: the crate's blocking examples/echo_server
# (--no-deflate) against tungstenite's blocking echo (examples/tungstenite_echo) and a bare TCP
# echo (examples/tcp_echo: the same bytes with no framing, the physical reference), plus the
# async examples/async_echo_server where the tree has it, and at 1 MiB and 16 MiB the streaming
# echo (echo_server --stream: each piece a read brings sent straight back as a fragment). Server
# pinned to CPU 0, the load generator (bench/loadtools: loadtest, every echo checked byte for
# byte) to CPU 1.
#
# Workloads: binary ping-pong on one connection (one message in flight) of 64 KiB, 1 MiB and
# 16 MiB; 16 KiB with 10 and 200 connections, one in flight each. Each run counts BENCH_TIME
# seconds after BENCH_WARMUP; REPEATS runs per (workload, server), rotating the order; medians.
# Then the peak RSS (VmHWM) of a fresh process of each server during 16 MiB echoes.
#
# Usage: scripts/bench_large.sh [quick]     (quick: 1 repeat, 1 s counted)
# Environment: REPEATS (3), BENCH_TIME (3), BENCH_WARMUP (1), SERVER_CPU (0), CLIENT_CPU (1),
#   OUT (a directory for the raw results; default a temp dir), BENCH_WORKLOADS (names of the
#   workloads to run, space-separated; default all: 64KiB_ping_pong 1MiB_ping_pong
#   16MiB_ping_pong 10x16KiB 200x16KiB), BENCH_SERVERS (names of the servers; default all:
#   rfc6455 rfc6455-stream tungstenite tcp rfc6455-async), BENCH_PEAK (1; 0 skips the memory runs).
# Exits non-zero if any echo was wrong or any run failed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"

bench_start large "${1:-}"

build_loadtools
build_examples echo_server tungstenite_echo tcp_echo
build_async

declare -A CMD=(
    [rfc6455]="$EX/echo_server --no-deflate"
    [rfc6455-stream]="$EX/echo_server --no-deflate --stream"
    [rfc6455-async]="$ASYNC_BIN --no-deflate"
    [tungstenite]="$EX/tungstenite_echo"
    [tcp]="$EX/tcp_echo"
)
SERVERS=(rfc6455 rfc6455-stream tungstenite tcp)
if [[ -z "$ASYNC_MISSING" ]]; then
    SERVERS+=(rfc6455-async)
fi
if [[ -n "${BENCH_SERVERS:-}" ]]; then
    read -r -a WANTED <<<"$BENCH_SERVERS"
    KEPT=()
    for s in "${SERVERS[@]}"; do [[ " ${WANTED[*]} " == *" $s "* ]] && KEPT+=("$s"); done
    SERVERS=("${KEPT[@]}")
fi
scheme() { [[ $1 == tcp ]] && echo tcp || echo ws; }
# The streaming echo is measured where streaming is what matters: messages of megabytes.
runs_workload() { [[ $1 != rfc6455-stream || $2 == 1MiB_ping_pong || $2 == 16MiB_ping_pong ]]; }

WORKLOADS=(
    "64KiB_ping_pong|-c 1 -s 65536"
    "1MiB_ping_pong|-c 1 -s 1048576"
    "16MiB_ping_pong|-c 1 -s 16777216"
    "10x16KiB|-c 10 -s 16384"
    "200x16KiB|-c 200 -s 16384"
)
if [[ -n "${BENCH_WORKLOADS:-}" ]]; then
    read -r -a WANTED <<<"$BENCH_WORKLOADS"
    KEPT=()
    for w in "${WORKLOADS[@]}"; do [[ " ${WANTED[*]} " == *" ${w%%|*} "* ]] && KEPT+=("$w"); done
    WORKLOADS=("${KEPT[@]}")
fi

{
    echo "{\"meta\": true, \"commit\": \"$(git rev-parse --short HEAD)\", \"date\": \"$(date -u +%FT%TZ)\","
    echo " \"repeats\": $REPEATS, \"seconds\": $BENCH_TIME, \"warmup\": $BENCH_WARMUP,"
    echo " \"async_missing\": \"${ASYNC_MISSING//\"/}\", \"async_bin\": \"$ASYNC_BIN\", \"sched\": \"$BENCH_SCHED\","
    echo " \"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
} | tr -d '\n' >>"$RESULTS"
echo >>"$RESULTS"

for s in "${SERVERS[@]}"; do
    # shellcheck disable=SC2086
    start_server "$s" ${CMD[$s]}
done

echo "throughput: ${#WORKLOADS[@]} workloads × ${#SERVERS[@]} servers × $REPEATS repeats, ${BENCH_WARMUP} s + ${BENCH_TIME} s each" >&2
for rep in $(seq "$REPEATS"); do
    for w in "${WORKLOADS[@]}"; do
        name=${w%%|*}
        args=${w#*|}
        n=${#SERVERS[@]}
        for i in $(seq 0 $((n - 1))); do
            s=${SERVERS[$(((i + rep) % n))]}
            runs_workload "$s" "$name" || continue
            if ! alive "$s"; then
                echo "  ERROR server $s is no longer running; restarting it" >&2
                ERRORS=$((ERRORS + 1))
                # shellcheck disable=SC2086
                start_server "$s" ${CMD[$s]}
            fi
            # shellcheck disable=SC2086
            run_load "$RESULTS" "$name" "$s" "$rep" "$(scheme "$s")://127.0.0.1:${SPORT[$s]}" $args \
                --warmup "$BENCH_WARMUP" --time "$BENCH_TIME"
            sleep 0.2
        done
    done
done
stop_all

# Peak memory during 16 MiB echoes, each server a fresh process.
SIZE=$((16 << 20))
echo "memory: peak RSS during 16 MiB echoes" >&2
for s in "${SERVERS[@]}"; do
    [[ "${BENCH_PEAK:-1}" == 0 ]] && break
    # shellcheck disable=SC2086
    start_server "$s" ${CMD[$s]}
    sleep 0.5
    pid=${SPID[$s]}
    before=$(rss_kib "$pid")
    if pinned "$CLIENT_CPU" "$LT/loadtest" "$(scheme "$s")://127.0.0.1:${SPORT[$s]}" -c 1 -s "$SIZE" \
        --warmup 0.5 --time 2 >"$RUN_DIR/peak-$s.out" 2>"$RUN_DIR/peak-$s.err"; then
        hwm=$(hwm_kib "$pid")
        echo "{\"peak\": true, \"server\": \"$s\", \"size\": $SIZE, \"rss_before_kib\": $before, \"hwm_kib\": $hwm}" >>"$RESULTS"
        echo "  $s: RSS $before KiB before, peak $hwm KiB" >&2
    else
        ERRORS=$((ERRORS + 1))
        why=$(tail -n 1 "$RUN_DIR/peak-$s.err" | tr -d '"\\')
        echo "{\"peak\": true, \"server\": \"$s\", \"error\": \"$why\"}" >>"$RESULTS"
        echo "  ERROR peak $s: $why" >&2
    fi
    stop_server "$s"
done

python3 scripts/bench_load_report.py large "$RESULTS"
echo "raw results: $RESULTS" >&2
if [[ -n "$ASYNC_MISSING" ]]; then
    echo "!!!!!!!! rfc6455 async_echo_server NOT AVAILABLE: $ASYNC_MISSING" >&2
fi
echo "bench_large: $ERRORS errors" >&2
[[ $ERRORS -eq 0 ]]
