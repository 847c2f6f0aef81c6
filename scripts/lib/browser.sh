# Sourced by the browser scripts (scripts/browser_*.sh): what each does before and after its
# check. Also brings in stop_demo (scripts/lib/stop_demo.sh).
#
# chromium_install: install Debian's chromium when neither `chromium` nor $CHROMIUM is there.
# chromium_version: print "Chromium N.N.N.N" (or "chromium" when it does not say).
# browser_build PROFILE CARGO-ARGS...: `cargo build --quiet CARGO-ARGS...` in PROFILE (release
#   or debug; $BROWSER_PROFILE, when set, overrides it), and set BIN to the directory of the
#   examples built.
# free_port: print a loopback port nobody listens on now.
# wait_for_port PORT: wait up to 10 s for something to accept on 127.0.0.1:PORT.
# stop_if_running PID: kill PID (SIGTERM) if it is still running; for the scripts' cleanup.
# start_demo LOG COMMAND...: start COMMAND (a demo listening on port 0, which prints its URL) in
#   the background, its output to LOG, and wait up to 10 s for the URL. Sets DEMO_PID and
#   DEMO_URL. When it does not start, prints LOG, stops it and returns 1.

# shellcheck source=scripts/lib/stop_demo.sh
source "$(dirname "${BASH_SOURCE[0]}")/stop_demo.sh"
# shellcheck source=scripts/lib/net.sh
source "$(dirname "${BASH_SOURCE[0]}")/net.sh"

chromium_install() {
    if ! command -v chromium >/dev/null 2>&1 && [[ -z "${CHROMIUM:-}" ]]; then
        echo "==> installing chromium (Debian package)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    fi
}

chromium_version() {
    chromium --version 2>/dev/null | grep -o 'Chromium [0-9.]*' || echo chromium
}

browser_build() {
    local profile=${BROWSER_PROFILE:-$1} flags=()
    shift
    case "$profile" in
        release) flags=(--release) ;;
        debug) ;;
        *)
            echo "BROWSER_PROFILE must be release or debug, not $profile" >&2
            return 2
            ;;
    esac
    cargo build "${flags[@]+"${flags[@]}"}" --quiet "$@"
    BIN="target/$profile/examples"
}

stop_if_running() {
    if [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null; then
        kill "$1" 2>/dev/null || true
    fi
}

# run_check NAME LOG TIMEOUT COMMAND...: run a browser check bounded by TIMEOUT seconds; on
# failure print LOG (the server's output); then the summary line "NAME: passed|FAILED in Ns"
# (counted from $started). Returns the check's status.
run_check() {
    local name=$1 log=$2 limit=$3 status=0
    shift 3
    timeout --kill-after=10 "$limit" "$@" || status=$?
    if [[ $status -ne 0 ]]; then
        echo "--- server log"
        cat "$log"
    fi
    echo "$name: $([[ $status -eq 0 ]] && echo passed || echo FAILED) in $(($(date +%s) - started))s"
    return "$status"
}

start_demo() {
    local log=$1
    shift
    DEMO_URL=
    "$@" >"$log" 2>&1 &
    DEMO_PID=$!
    for _ in $(seq 100); do
        DEMO_URL=$(grep -o 'https\?://127\.0\.0\.1:[0-9]*/' "$log" | head -n1 || true)
        [[ -n "$DEMO_URL" ]] && return 0
        kill -0 "$DEMO_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$log"
    echo "$(basename "$1") did not start (no URL in its output)" >&2
    kill "$DEMO_PID" 2>/dev/null || true
    DEMO_PID=
    return 1
}
