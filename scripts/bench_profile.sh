#!/usr/bin/env bash
# Where an echo server spends its time under one load of the load benchmarks: the server pinned
# as in scripts/bench_async.sh, `perf record` on its process for the counted window, then the
# functions with the most samples (self time) and the split between kernel and user space.
#
# Usage: scripts/bench_profile.sh SERVER [LOADTEST-ARGS...]
#   SERVER: rfc6455-async, tokio-websockets, fastwebsockets, tokio-tungstenite, rfc6455-blocking
#   LOADTEST-ARGS: default "-c 100 -s 20" (see bench/loadtools/src/bin/loadtest.rs)
# Environment: as scripts/bench_async.sh (ASYNC_BIN, BENCH_TIME default 3), OUT (where
# perf.data is kept). Installs perf (Debian's linux-perf) if missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"
# perf samples with the per-task software clock (this VM has no hardware counters). Under
# SCHED_FIFO, perf itself runs at a higher RT priority, or it is starved and records nothing.

SERVER=${1:?usage: scripts/bench_profile.sh SERVER [LOADTEST-ARGS...]}
shift
ARGS=("$@")
[[ ${#ARGS[@]} -eq 0 ]] && ARGS=(-c 100 -s 20)
BENCH_TIME="${BENCH_TIME:-3}"
RUN_DIR="${OUT:-$(mktemp -d)}"
mkdir -p "$RUN_DIR"
trap stop_all EXIT

if ! command -v perf >/dev/null; then
    apt-get update -qq && apt-get install -y -qq linux-perf >/dev/null
fi
build_loadtools
build_examples echo_server
build_async
declare -A CMD=(
    [rfc6455-async]="$ASYNC_BIN --no-deflate"
    [tokio-websockets]="$LT/echo_tokio_websockets"
    [fastwebsockets]="$LT/echo_fastwebsockets"
    [tokio-tungstenite]="$LT/echo_tokio_tungstenite"
    [rfc6455-blocking]="$EX/echo_server --no-deflate"
)
[[ -n "${CMD[$SERVER]:-}" ]] || { echo "unknown server $SERVER" >&2; exit 2; }
if [[ $SERVER == rfc6455-async && -n "$ASYNC_MISSING" ]]; then exit 1; fi

# Computed before the load starts: under SCHED_FIFO the two cores are the benchmark's, and any
# ordinary process started during the load (python3 here) waits for the 5% left to others.
PERF_SECONDS=$(python3 -c "print($BENCH_TIME - 0.4)")
# shellcheck disable=SC2086
start_server "$SERVER" ${CMD[$SERVER]}
pinned "$CLIENT_CPU" "$LT/loadtest" "ws://127.0.0.1:${SPORT[$SERVER]}" "${ARGS[@]}" --warmup 1 --time "$BENCH_TIME" \
    >"$RUN_DIR/load.json" &
lpid=$!
sleep 1.2
if [[ $BENCH_SCHED == fifo ]]; then
    chrt -f 30 perf record -e task-clock -F 2999 --call-graph dwarf,16384 -o "$RUN_DIR/perf.data" \
        -p "${SPID[$SERVER]}" -- sleep "$PERF_SECONDS" >"$RUN_DIR/perf.log" 2>&1
else
    perf record -e task-clock -F 2999 --call-graph dwarf,16384 -o "$RUN_DIR/perf.data" \
        -p "${SPID[$SERVER]}" -- sleep "$PERF_SECONDS" >"$RUN_DIR/perf.log" 2>&1
fi
wait "$lpid"
echo "load: $(cat "$RUN_DIR/load.json")"
echo
echo "== $SERVER, ${ARGS[*]}: kernel and user space"
perf report -i "$RUN_DIR/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -8
echo
echo "== functions by self time"
perf report -i "$RUN_DIR/perf.data" --no-children --sort sym --stdio -g none --percent-limit 0.7 2>/dev/null |
    grep -E '^ +[0-9]' | head -45
echo
echo "== who calls memmove/memcpy (user space, by caller)"
perf report -i "$RUN_DIR/perf.data" --no-children --stdio -S __memmove_avx512_unaligned_erms,__memmove_avx_unaligned_erms,__memcpy_avx_unaligned_erms \
    -G --percent-limit 2 2>/dev/null | grep -v '^#' | grep -v '^$' | head -40
echo
echo "perf data: $RUN_DIR/perf.data (perf report -i $RUN_DIR/perf.data)"
