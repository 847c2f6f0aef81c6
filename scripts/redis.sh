#!/usr/bin/env bash
# The tests that need a real Redis: the backplane conformance suite (tests/backplane.rs, the
# same checks on the in-memory bus and on Redis) and the chat cluster tests (tests/chat_cluster.rs:
# two or three nodes, Redis restarted mid-conversation, a node crashed, foreign messages, a slow
# client). Each test starts its own redis-server on a free loopback port with no persistence
# (--save "" --appendonly no) and stops it; this script makes sure Debian's redis-server is
# installed (apt-get update, then apt-get install -y redis-server) and runs them with CI=true, so
# a redis-server that cannot start fails the run instead of skipping.
#
#   scripts/redis.sh           # install if missing, run the tests
#   scripts/redis.sh serve     # install if missing, run one redis-server on a free port until Ctrl-C
#
# Sourced (`source scripts/redis.sh`), it only defines redis_install, redis_start and redis_stop
# for other scripts (scripts/browser_cluster_test.sh). Bounded: each cargo test run is cut after
# REDIS_TEST_TIMEOUT seconds (default 900).
set -euo pipefail

redis_install() {
    if command -v redis-server >/dev/null 2>&1; then
        return 0
    fi
    echo "==> installing redis-server (Debian package)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    # The package starts a system instance; the tests never use it, and it is not ours to keep.
    if command -v systemctl >/dev/null 2>&1; then systemctl stop redis-server >/dev/null 2>&1 || true; fi
    command -v redis-server >/dev/null
}

# redis_start: a redis-server of our own on a free loopback port; sets REDIS_PORT, REDIS_PID, REDIS_URL.
redis_start() {
    REDIS_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    REDIS_LOG=$(mktemp)
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
        --dir "${TMPDIR:-/tmp}" >"$REDIS_LOG" 2>&1 &
    REDIS_PID=$!
    REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT" && printf 'PING\r\n' >&3 && read -r -t 1 reply <&3 && [[ "$reply" == +PONG* ]]) 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$REDIS_PID" 2>/dev/null; then break; fi
        sleep 0.1
    done
    echo "redis-server did not start on port $REDIS_PORT:" >&2
    cat "$REDIS_LOG" >&2
    return 1
}

redis_stop() {
    if [[ -n "${REDIS_PID:-}" ]] && kill -0 "$REDIS_PID" 2>/dev/null; then
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
    fi
    REDIS_PID=
    rm -f "${REDIS_LOG:-}"
}

main() {
    cd "$(dirname "${BASH_SOURCE[0]}")/.."
    local start=$SECONDS
    redis_install
    echo "==> $(redis-server --version)"
    case "${1:-test}" in
        serve)
            trap redis_stop EXIT
            redis_start
            echo "redis-server listening: $REDIS_URL (Ctrl-C stops it)"
            wait "$REDIS_PID"
            ;;
        test)
            local log rc=0
            log=$(mktemp)
            CI=true REDIS_SERVER=$(command -v redis-server) timeout "${REDIS_TEST_TIMEOUT:-900}" \
                cargo test --test backplane --test chat_cluster 2>&1 | tee "$log" || rc=$?
            local passed failed
            passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s += $1} END {print s + 0}')
            failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s += $1} END {print s + 0}')
            rm -f "$log"
            echo "redis: ${passed} passed, ${failed} failed ($((SECONDS - start)) s)"
            if [[ $rc -ne 0 || $failed -ne 0 ]]; then exit 1; fi
            ;;
        *)
            echo "usage: $0 [test|serve]" >&2
            exit 2
            ;;
    esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    main "$@"
fi
