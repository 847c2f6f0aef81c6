# Shared by scripts/bench_async.sh and scripts/bench_large.sh (sourced, not run): building the
# servers and the load generator, starting servers pinned to a core on free loopback ports,
# running one load and recording its JSON line, reading a process's memory.
#
# Environment: SERVER_CPU (default 0), CLIENT_CPU (default 1), BENCH_SCHED: how the server and
# the load generator get their cores on a machine shared with other work: "fifo" (the default
# when run as root and `chrt` works: SCHED_FIFO priority 20, so other work waits while a load
# runs; the kernel's RT throttling still leaves it 5% of each second) or "nice" (nice -10).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
LOADTOOLS_TARGET="$ROOT/target/loadtools"
LT="$LOADTOOLS_TARGET/release"
EX="$ROOT/target/release/examples"
ERRORS=0
if [[ -z "${BENCH_SCHED:-}" ]]; then
    BENCH_SCHED=nice
    if [[ $(id -u) == 0 ]] && chrt -f 20 true 2>/dev/null; then BENCH_SCHED=fifo; fi
fi
case "$BENCH_SCHED" in
    fifo) SCHED=(chrt -f 20) ;;
    nice) SCHED=(nice -n -10) ;;
    *) echo "BENCH_SCHED must be fifo or nice" >&2; exit 2 ;;
esac
# pinned CPU COMMAND...: run on one core with the benchmark's scheduling. chrt (or nice) and
# taskset exec the command, so a background job's $! is the command's own PID.
pinned() {
    local cpu=$1
    shift
    "${SCHED[@]}" taskset -c "$cpu" "$@"
}

# bench_start NAME [quick]: the run's settings REPEATS (3), BENCH_TIME (3 s counted) and
# BENCH_WARMUP (1 s) from the environment, or "quick" (1 repeat, 1 s counted, 0.5 s warm-up); its
# results file RESULTS=$RUN_DIR/NAME.jsonl, emptied (RUN_DIR: $OUT, or a new temp dir); and every
# server started stopped on exit.
bench_start() {
    REPEATS="${REPEATS:-3}"
    BENCH_TIME="${BENCH_TIME:-3}"
    BENCH_WARMUP="${BENCH_WARMUP:-1}"
    if [[ "${2:-}" == quick ]]; then
        REPEATS=1 BENCH_TIME=1 BENCH_WARMUP=0.5
    fi
    RUN_DIR="${OUT:-$(mktemp -d)}"
    mkdir -p "$RUN_DIR"
    RESULTS="$RUN_DIR/$1.jsonl"
    : >"$RESULTS"
    trap stop_all EXIT
}

# Sockets for 10,000 connections on each side (both inherit this shell's limit).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

build_loadtools() {
    echo "building bench/loadtools (load generator and reference servers), release" >&2
    cargo build --release --quiet --manifest-path bench/loadtools/Cargo.toml --target-dir "$LOADTOOLS_TARGET"
}

build_examples() { # example names: the crate's own examples, release, default features
    local args=()
    for e in "$@"; do args+=(--example "$e"); done
    echo "building the crate's examples $*, release" >&2
    cargo build --release --quiet "${args[@]}"
}

# The async echo server is built only where it exists: ASYNC_MISSING says why it is not.
ASYNC_MISSING=""
# ASYNC_BIN=PATH measures an async_echo_server built elsewhere (another checkout) instead.
ASYNC_BIN="${ASYNC_BIN:-}"
build_async() {
    if [[ -n "$ASYNC_BIN" ]]; then
        [[ -x "$ASYNC_BIN" ]] || ASYNC_MISSING="ASYNC_BIN=$ASYNC_BIN is not an executable"
        echo "async_echo_server: the prebuilt $ASYNC_BIN" >&2
    elif [[ ! -f examples/async_echo_server.rs ]]; then
        ASYNC_MISSING="examples/async_echo_server.rs is not in this tree ($(git rev-parse --short HEAD))"
    elif ! grep -Eq '^tokio *=' Cargo.toml; then
        ASYNC_MISSING="the crate has no feature \"tokio\" ($(git rev-parse --short HEAD))"
    else
        echo "building examples/async_echo_server (features tokio), release" >&2
        if ! cargo build --release --quiet --features tokio --example async_echo_server 2>"$RUN_DIR/async_build.log"; then
            ASYNC_MISSING="cargo build --features tokio --example async_echo_server failed (see $RUN_DIR/async_build.log)"
        fi
    fi
    ASYNC_BIN="${ASYNC_BIN:-$EX/async_echo_server}"
    if [[ -n "$ASYNC_MISSING" ]]; then
        echo "!!!!!!!! rfc6455 async_echo_server NOT AVAILABLE: $ASYNC_MISSING" >&2
    fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

declare -A SPID SPORT
# start_server NAME COMMAND... : the command gets the address as its first argument, runs on
# SERVER_CPU; waits until the port accepts.
start_server() {
    local name=$1 port
    shift
    port=$(free_port)
    # Not through the function `pinned`: a function run in the background is a subshell, and
    # the PID must be the server's own (nice and taskset exec it).
    "${SCHED[@]}" taskset -c "$SERVER_CPU" "$1" "127.0.0.1:$port" "${@:2}" >"$RUN_DIR/server-$name.log" 2>&1 &
    SPID[$name]=$!
    SPORT[$name]=$port
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        if ! kill -0 "${SPID[$name]}" 2>/dev/null; then break; fi
        sleep 0.05
    done
    echo "server $name did not start on port $port:" >&2
    cat "$RUN_DIR/server-$name.log" >&2
    return 1
}

stop_server() {
    local name=$1 pid=${SPID[$1]:-}
    [[ -z "$pid" ]] && return 0
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "SPID[$name]"
}

stop_all() {
    for name in "${!SPID[@]}"; do stop_server "$name"; done
}

alive() { kill -0 "${SPID[$1]}" 2>/dev/null; }

# The resident set (KiB) and its peak, of one process (all its threads).
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
# CPU time (user + system, all threads) a process has used, in clock ticks (1/100 s).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
threads_of() { awk '/^Threads:/ {print $2}' "/proc/$1/status"; }

# run_load RESULTS WORKLOAD SERVER REP URL LOADTEST-ARGS... : one run of the load generator on
# CLIENT_CPU; appends {"workload", "server", "rep", "server_cpu_s", ...its JSON...} to RESULTS
# (server_cpu_s: the CPU time the server process used during the run). A wrong echo, a stall or
# a dead server is recorded as an error and counted in ERRORS.
run_load() {
    local results=$1 workload=$2 server=$3 rep=$4 url=$5 out rc=0 c0 c1
    shift 5
    c0=$(cpu_ticks "${SPID[$server]}")
    out=$(pinned "$CLIENT_CPU" "$LT/loadtest" "$url" "$@" 2>"$RUN_DIR/load.err") || rc=$?
    c1=$(cpu_ticks "${SPID[$server]}" 2>/dev/null || echo "$c0")
    out=$(tail -n 1 <<<"$out")
    if [[ $rc -ne 0 || "$out" != "{"* ]]; then
        ERRORS=$((ERRORS + 1))
        local why
        why=$(tail -n 1 "$RUN_DIR/load.err" | tr -d '"\\')
        out="{\"error\": \"exit $rc: ${why:-no output}\"}"
        echo "  ERROR $workload $server: $why" >&2
    fi
    python3 - "$workload" "$server" "$rep" "$out" "$((c1 - c0))" >>"$results" <<'PY'
import json, sys
w, s, r, line, ticks = sys.argv[1:6]
d = json.loads(line)
d.update(workload=w, server=s, rep=int(r), server_cpu_s=int(ticks) / 100)
print(json.dumps(d))
PY
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("  %-28s %-18s rep %s: %s" % (d["workload"], d["server"], d["rep"], d.get("error") or "%d msg/s, p50 %.0f us, p99 %.0f us" % (d["msgs_per_s"], d["p50_us"], d["p99_us"])))' "$(tail -n 1 "$results")" >&2
}
