#!/usr/bin/env bash
# Autobahn|Testsuite (RFC 6455 conformance) run for the rfc6455 crate.
#
# Usage: scripts/autobahn.sh [both|server|client|install]      (default: both)
#
#   server   wstest -m fuzzingclient against `examples/echo_server`
#   client   wstest -m fuzzingserver, driven by `examples/autobahn_client`
#   both     server, then client
#   install  only install the test suite into the virtualenv
#
# The suite is Python 2 only.  It is installed, with every package pinned,
# into a virtualenv made from pyenv's Python 2.7.18 ($AUTOBAHN_DIR/venv); a
# second run finds it there and skips the install.  Reports go to
# $AUTOBAHN_DIR/reports/{servers,clients} (index.html + index.json), logs of
# the testees and of wstest to $AUTOBAHN_DIR/logs.  At the end
# scripts/autobahn_summary.py prints a per-section table per role, every
# case that is not OK, and a final "N passed, M failed" line.
#
# Exit status: 0 only if every requested case is OK or INFORMATIONAL (both
# `behavior` and `behaviorClose`), for every role run, and no testee crashed,
# panicked or timed out.
#
# Environment (all optional):
#   AUTOBAHN_CASES           case patterns to run              (default "*")
#   AUTOBAHN_EXCLUDE_CASES   case patterns to skip             (default "12.* 13.*")
#   AUTOBAHN_DIR             venv, reports and logs  (default <repo>/.autobahn)
#   AUTOBAHN_SERVER_PORT     port for echo_server              (default: a free one)
#   AUTOBAHN_CLIENT_PORT     port for wstest fuzzingserver     (default: a free one)
#   AUTOBAHN_ROLE_TIMEOUT    seconds for one role's test run   (default 1800)
#   AUTOBAHN_TOTAL_TIMEOUT   seconds for the whole script      (default 2100)
#   AUTOBAHN_SEQUENTIAL=1    with `both`, run the roles one after the other
#                            (default: side by side; each wstest is one Python
#                            process, and sections 12 and 13 are bound by its
#                            own compression work)
#   AUTOBAHN_STARTUP_WAIT    seconds to wait for a port        (default 60)
#   AUTOBAHN_SKIP_BUILD=1    do not run cargo build
#   AUTOBAHN_SELFTEST=1      test the harness itself: use wstest's own
#                            echoserver / testeeclient as the testees
#   AUTOBAHN_TLS=1           run over wss:// (feature `tls`): makes a local CA and
#                            a certificate for 127.0.0.1 (examples/make_cert),
#                            echo_server --tls CERT KEY against wstest's
#                            fuzzingclient on a wss:// URL, and autobahn_client
#                            --ca CA against `wstest -m fuzzingserver` given the
#                            key and certificate (in its spec: this wstest's -k
#                            and -c do not reach the fuzzingserver); reports go
#                            to reports-wss/ instead of reports/
#   AUTOBAHN_LAYER=async     run the async (tokio) layer's testees instead of the
#                            blocking ones: async_echo_server and
#                            async_autobahn_client, built with --features tokio;
#                            reports go to reports-async/ (reports-async-wss/)
#   AUTOBAHN_SERVER_ARGS     more arguments for the server testee, split on spaces
#                            (e.g. "--stream": echo_server's streaming echo);
#                            reports go to a directory named after them
#                            (reports-stream/ for "--stream")
#   AUTOBAHN_H2=1            with AUTOBAHN_LAYER=async: the server runs with --h2
#                            (feature `h2`), the port that also speaks HTTP/2
#                            (RFC 8441); wstest reaches it over HTTP/1.1, so the
#                            cases check that port's HTTP/1.1 path
#   PY27                     Python 2.7 interpreter  (default: pyenv's 2.7.18)

set -euo pipefail

# The whole script is one brace group, so bash parses all of it before running
# any: editing this file during a run cannot change the running one.
{

# Cases that are not run (none: 12.* and 13.* test permessage-deflate, RFC 7692,
# which echo_server and autobahn_client negotiate by default).
DEFAULT_EXCLUDE_CASES=""

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AB_DIR="${AUTOBAHN_DIR:-$ROOT/.autobahn}"
VENV="$AB_DIR/venv"
TLS="${AUTOBAHN_TLS:-}"
SCHEME="ws"
[[ -n "$TLS" ]] && SCHEME="wss"
LAYER="${AUTOBAHN_LAYER:-blocking}"
case "$LAYER" in
    blocking) SERVER_EX=echo_server CLIENT_EX=autobahn_client FEATURES="${TLS:+tls}" LAYER_SUFFIX="" ;;
    async) SERVER_EX=async_echo_server CLIENT_EX=async_autobahn_client FEATURES="tokio${TLS:+,tls}" LAYER_SUFFIX="-async" ;;
    *) echo "AUTOBAHN_LAYER must be blocking or async, not '$LAYER'" >&2; exit 2 ;;
esac
SERVER_EXTRA_ARGS=()
if [[ -n "${AUTOBAHN_H2:-}" ]]; then
    [[ "$LAYER" == async ]] || { echo "AUTOBAHN_H2 needs AUTOBAHN_LAYER=async" >&2; exit 2; }
    FEATURES="$FEATURES,h2"
    SERVER_EXTRA_ARGS=(--h2)
fi
ARGS_SUFFIX=""
if [[ -n "${AUTOBAHN_SERVER_ARGS:-}" ]]; then
    read -r -a MORE_ARGS <<<"$AUTOBAHN_SERVER_ARGS"
    SERVER_EXTRA_ARGS+=("${MORE_ARGS[@]}")
    ARGS_SUFFIX="-$(printf '%s' "$AUTOBAHN_SERVER_ARGS" | tr -cs 'A-Za-z0-9' '-' | sed 's/^-*//; s/-*$//')"
fi
REPORTS="$AB_DIR/reports$LAYER_SUFFIX${TLS:+-wss}$ARGS_SUFFIX"
LOGS="$AB_DIR/logs"
RUN="$AB_DIR/run"
CASES="${AUTOBAHN_CASES:-*}"
EXCLUDE_CASES="${AUTOBAHN_EXCLUDE_CASES-$DEFAULT_EXCLUDE_CASES}"
ROLE_TIMEOUT="${AUTOBAHN_ROLE_TIMEOUT:-1800}"
TOTAL_TIMEOUT="${AUTOBAHN_TOTAL_TIMEOUT:-2100}"
STARTUP_WAIT="${AUTOBAHN_STARTUP_WAIT:-60}"
AGENT="rfc6455"
MODE="${1:-both}"

case "$MODE" in
    both | server | client | install) ;;
    -h | --help)
        sed -n '2,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "usage: $0 [both|server|client|install]" >&2
        exit 2
        ;;
esac

# Python 2 packages.  `pip install autobahntestsuite` alone resolves to these
# today; they are pinned so that a fresh machine gets the same working set
# even if some package publishes a release that no longer supports Python 2.
VIRTUALENV_PINS=(
    "virtualenv==20.15.1"
    "distlib==0.4.4"
    "filelock==3.2.1"
    "platformdirs==2.0.2"
    "six==1.16.0"
    "importlib-metadata==2.1.3"
    "importlib-resources==3.3.1"
    "zipp==1.2.0"
    "pathlib2==2.3.7.post1"
    "scandir==1.10.0"
    "contextlib2==0.6.0.post1"
    "configparser==4.0.2"
    "typing==3.10.0.0"
)
SUITE_PINS=(
    "autobahntestsuite==25.10.1"
    "autobahn==0.10.9"
    "txaio==2.1.0"
    "Twisted==19.10.0"
    "zope.interface==4.6.0"
    "Automat==22.10.0"
    "attrs==21.4.0"
    "constantly==15.1.0"
    "hyperlink==21.0.0"
    "incremental==16.10.1"
    "PyHamcrest==1.10.1"
    "idna==2.10"
    "typing==3.10.0.0"
    "six==1.16.0"
    "pyOpenSSL==19.1.0"
    "cryptography==3.3.2"
    "cffi==1.15.1"
    "pycparser==2.21"
    "enum34==1.1.10"
    "ipaddress==1.0.23"
    "service-identity==18.1.0"
    "pyasn1==0.5.1"
    "pyasn1-modules==0.3.0"
    "klein==17.10.0"
    "Werkzeug==1.0.1"
    "Jinja2==2.11.3"
    "MarkupSafe==1.1.1"
    "unittest2==1.1.0"
    "traceback2==1.4.0"
    "linecache2==1.0.0"
    "argparse==1.4.0"
    "wsaccel==0.6.6"
    "ujson==2.0.3"
    "setuptools==44.0.0"
)

log() { echo "[autobahn] $*"; }
die() {
    echo "[autobahn] ERROR: $*" >&2
    exit 1
}

# --- bound the whole run -----------------------------------------------------
# Re-run this script under timeout(1).  timeout puts the run in its own process
# group and signals all of it, and the EXIT trap below kills what is left.
if [[ -z "${_AUTOBAHN_BOUNDED:-}" ]]; then
    export _AUTOBAHN_BOUNDED=1
    rc=0
    timeout -k 30 "$TOTAL_TIMEOUT" bash "${BASH_SOURCE[0]}" "$@" || rc=$?
    if [[ $rc -eq 124 || $rc -eq 137 ]]; then
        echo "[autobahn] ERROR: whole run exceeded AUTOBAHN_TOTAL_TIMEOUT=${TOTAL_TIMEOUT}s" >&2
    fi
    exit "$rc"
fi

# --- one run at a time per $AUTOBAHN_DIR ----------------------------------------
# Runs share the virtualenv, reports and logs: a second run waits its turn.
mkdir -p "$AB_DIR"
exec 9>"$AB_DIR/.lock"
if ! flock -n 9; then
    log "another run holds $AB_DIR/.lock; waiting for it"
    flock -w "$TOTAL_TIMEOUT" 9 || die "gave up waiting for $AB_DIR/.lock"
fi

# --- process bookkeeping -----------------------------------------------------
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# forget_pid PID: drop PID from the list the EXIT trap kills.
forget_pid() {
    local keep=() p
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do
        [[ "$p" == "$1" ]] || keep+=("$p")
    done
    PIDS=("${keep[@]+"${keep[@]}"}")
}

# stop_pid PID: terminate one background process we started and reap it.
stop_pid() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    forget_pid "$pid"
}

# --- install -------------------------------------------------------------------
find_py27() {
    if [[ -n "${PY27:-}" ]]; then
        echo "$PY27"
        return
    fi
    local root
    if command -v pyenv >/dev/null 2>&1; then
        root="$(pyenv root)"
    else
        root="${PYENV_ROOT:-$HOME/.pyenv}"
    fi
    if [[ -x "$root/versions/2.7.18/bin/python" ]]; then
        echo "$root/versions/2.7.18/bin/python"
    elif command -v python2.7 >/dev/null 2>&1; then
        command -v python2.7
    else
        die "no Python 2.7 found (looked in $root/versions/2.7.18); set PY27"
    fi
}

install_suite() {
    local stamp="$VENV/.rfc6455-pins" want
    want="$(printf '%s\n' "${VIRTUALENV_PINS[@]}" "${SUITE_PINS[@]}")"
    if [[ -x "$VENV/bin/wstest" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        log "test suite already installed in $VENV"
        return
    fi
    local py27 start=$SECONDS
    py27="$(find_py27)"
    log "installing autobahntestsuite into $VENV (python: $py27)"
    export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PYTHONWARNINGS=ignore
    if ! "$py27" -m virtualenv --version >/dev/null 2>&1; then
        timeout 600 "$py27" -m pip install -q "${VIRTUALENV_PINS[@]}" ||
            timeout 600 "$py27" -m pip install -q --user "${VIRTUALENV_PINS[@]}" ||
            die "could not install virtualenv for $py27"
    fi
    rm -rf "$VENV"
    mkdir -p "$AB_DIR"
    timeout 300 "$py27" -m virtualenv -q "$VENV" || die "virtualenv failed"
    timeout 1200 "$VENV/bin/pip" install -q "${SUITE_PINS[@]}" ||
        die "pip install of autobahntestsuite failed"
    "$VENV/bin/wstest" -a >/dev/null 2>&1 || die "wstest does not start"
    printf '%s\n' "$want" >"$stamp"
    log "installed in $((SECONDS - start))s: $("$VENV/bin/wstest" -a 2>/dev/null | tr '\n' ' ')"
}

install_suite
[[ "$MODE" == install ]] && exit 0

VPY="$VENV/bin/python"
WSTEST="$VENV/bin/wstest"
export PYTHONWARNINGS=ignore # cryptography's Python 2 deprecation notice

# --- build ---------------------------------------------------------------------
if [[ -n "${AUTOBAHN_SELFTEST:-}" ]]; then
    log "SELFTEST: using wstest's own echoserver / testeeclient as testees"
else
    if [[ -z "${AUTOBAHN_SKIP_BUILD:-}" ]]; then
        # Only the testees (and make_cert over TLS): not every example of the crate.
        BUILD_EXAMPLES=(--example "$SERVER_EX" --example "$CLIENT_EX")
        [[ -n "$TLS" ]] && BUILD_EXAMPLES+=(--example make_cert)
        log "cargo build --release ${BUILD_EXAMPLES[*]}${FEATURES:+ --features $FEATURES}"
        (cd "$ROOT" && cargo build --release "${BUILD_EXAMPLES[@]}" ${FEATURES:+--features "$FEATURES"})
    fi
    TARGET_DIR="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
        "$VPY" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
    BIN="$TARGET_DIR/release/examples"
    for ex in "$SERVER_EX" "$CLIENT_EX"; do
        if [[ "$MODE" == both || ("$MODE" == server && $ex == "$SERVER_EX") ||
            ("$MODE" == client && $ex == "$CLIENT_EX") ]]; then
            [[ -x "$BIN/$ex" ]] || die "example $ex was not built ($BIN/$ex missing)"
        fi
    done
fi

# --- helpers -------------------------------------------------------------------
rm -rf "$RUN" "$LOGS"
mkdir -p "$RUN" "$LOGS" "$REPORTS"

# wss://: a fresh local CA and a server certificate for 127.0.0.1, for both roles.
CERTS="$RUN/certs"
SERVER_TLS_ARGS=()
CLIENT_TLS_ARGS=()
WSTEST_TLS_FILES=()
if [[ -n "$TLS" ]]; then
    if [[ -n "${AUTOBAHN_SELFTEST:-}" ]]; then
        die "AUTOBAHN_TLS and AUTOBAHN_SELFTEST cannot be combined"
    fi
    [[ -x "$BIN/make_cert" ]] || die "example make_cert was not built ($BIN/make_cert missing)"
    "$BIN/make_cert" "$CERTS" 127.0.0.1 localhost >/dev/null || die "make_cert failed"
    SERVER_TLS_ARGS=(--tls "$CERTS/cert.pem" "$CERTS/key.pem")
    CLIENT_TLS_ARGS=(--ca "$CERTS/ca.pem")
    WSTEST_TLS_FILES=("$CERTS/key.pem" "$CERTS/cert.pem")
    log "TLS: wss:// with a local CA ($CERTS)"
fi

free_port() {
    "$VPY" -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# wait_port PORT PID NAME: until 127.0.0.1:PORT accepts, PID still alive.
wait_port() {
    local port=$1 pid=$2 name=$3 deadline=$((SECONDS + STARTUP_WAIT))
    while ((SECONDS < deadline)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "$name exited before listening on 127.0.0.1:$port"
            return 1
        fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    log "$name did not listen on 127.0.0.1:$port within ${STARTUP_WAIT}s"
    return 1
}

# The spec's case selection, as JSON lists.
json_list() {
    "$VPY" -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@"
}
set -f # keep the patterns from globbing
CASES_JSON="$(json_list $CASES)"
EXCLUDE_JSON="$(json_list $EXCLUDE_CASES)"
set +f

# The case ids the spec selects, to find cases missing from a report.
EXPECTED="$RUN/expected-cases.txt"
"$VPY" - "$CASES_JSON" "$EXCLUDE_JSON" >"$EXPECTED" <<'EOF'
import json, sys
from autobahntestsuite.fuzzing import (CaseSetname, CaseBasename, Cases,
                                       CaseCategories, CaseSubCategories)
from autobahntestsuite.caseset import CaseSet
cs = CaseSet(CaseSetname, CaseBasename, Cases, CaseCategories, CaseSubCategories)
ids = cs.parseSpecCases({"cases": json.loads(sys.argv[1]),
                         "exclude-cases": json.loads(sys.argv[2])})
for i in ids:
    print(i)
EOF
log "cases: $CASES; excluded: ${EXCLUDE_CASES:-none}; $(wc -l <"$EXPECTED") cases per role"

# Ask a fuzzingserver to write its reports (what autobahn_client does last);
# used when the client testee died before doing it, to keep partial results.
request_reports() {
    "$VPY" - "$1" "$AGENT" "$SCHEME" <<'EOF' || true
import base64, os, socket, sys
port, agent, scheme = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), timeout=60)
if scheme == "wss":
    import ssl
    s = ssl.wrap_socket(s)  # a local test CA: no verification needed to ask for reports
key = base64.b64encode(os.urandom(16))
s.sendall(("GET /updateReports?agent=%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
           % (agent, port, key.decode())).encode())
data = b""
# The server writes the reports, then sends its close frame.
while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < 2:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
try:
    s.sendall(b"\x88\x80\x00\x00\x00\x00")  # masked, empty close frame
except socket.error:
    pass
s.close()
EOF
}

FAILURES=()
INDEXES=()

# --- server role: wstest fuzzingclient -> echo_server ---------------------------
run_server_role() {
    local port="${AUTOBAHN_SERVER_PORT:-$(free_port)}" out="$REPORTS/servers"
    local tlog="$LOGS/echo_server.log" wlog="$LOGS/wstest-fuzzingclient.log"
    local tpid wpid rc=0 start=$SECONDS
    rm -rf "$out"
    mkdir -p "$out"
    INDEXES+=("server=$out/index.json")

    log "server role: echo_server on 127.0.0.1:$port (log: $tlog)"
    if [[ -n "${AUTOBAHN_SELFTEST:-}" ]]; then
        (cd "$RUN" && exec "$WSTEST" -m echoserver -u 0 -w "ws://127.0.0.1:$port") >"$tlog" 2>&1 &
    else
        "$BIN/$SERVER_EX" "127.0.0.1:$port" "${SERVER_TLS_ARGS[@]+"${SERVER_TLS_ARGS[@]}"}" \
            "${SERVER_EXTRA_ARGS[@]+"${SERVER_EXTRA_ARGS[@]}"}" >"$tlog" 2>&1 &
    fi
    tpid=$!
    PIDS+=("$tpid")
    if ! wait_port "$port" "$tpid" echo_server; then
        tail -n 30 "$tlog" | sed 's/^/    /'
        FAILURES+=("server role: echo_server did not start")
        stop_pid "$tpid"
        return
    fi

    "$VPY" - "$RUN/fuzzingclient.json" "$out" "$SCHEME://127.0.0.1:$port" "$AGENT" \
        "$CASES_JSON" "$EXCLUDE_JSON" <<'EOF'
import json, sys
path, outdir, url, agent, cases, exclude = sys.argv[1:]
json.dump({"outdir": outdir,
           "servers": [{"agent": agent, "url": url}],
           "cases": json.loads(cases),
           "exclude-cases": json.loads(exclude),
           "exclude-agent-cases": {}},
          open(path, "w"), indent=2)
EOF
    log "server role: wstest -m fuzzingclient (log: $wlog, limit ${ROLE_TIMEOUT}s)"
    (cd "$RUN" && exec timeout -k 10 "$ROLE_TIMEOUT" "$WSTEST" -u 0 -m fuzzingclient \
        -s "$RUN/fuzzingclient.json") >"$wlog" 2>&1 &
    wpid=$!
    PIDS+=("$wpid")
    wait "$wpid" || rc=$?
    forget_pid "$wpid"
    if [[ $rc -eq 124 || $rc -eq 137 ]]; then
        FAILURES+=("server role: wstest timed out after ${ROLE_TIMEOUT}s")
    elif [[ $rc -ne 0 ]]; then
        FAILURES+=("server role: wstest exited with status $rc")
        tail -n 30 "$wlog" | sed 's/^/    /'
    fi

    if ! kill -0 "$tpid" 2>/dev/null; then
        rc=0
        wait "$tpid" || rc=$?
        FAILURES+=("server role: echo_server died during the run (exit status $rc)")
        tail -n 30 "$tlog" | sed 's/^/    /'
    fi
    # The testee's own CPU time: the suite's wall time is bound by wstest itself.
    if [[ -r "/proc/$tpid/stat" ]]; then
        awk -v hz="$(getconf CLK_TCK)" '{ printf "[autobahn] server role: echo_server CPU time %.2f s (user %.2f s, system %.2f s)\n", ($14 + $15) / hz, $14 / hz, $15 / hz }' "/proc/$tpid/stat"
    fi
    stop_pid "$tpid"
    if grep -q "panicked at" "$tlog"; then
        FAILURES+=("server role: echo_server panicked (see $tlog)")
        grep -m 5 -A 3 "panicked at" "$tlog" | sed 's/^/    /'
    fi
    log "server role: done in $((SECONDS - start))s"
}

# --- client role: autobahn_client -> wstest fuzzingserver ---------------------
run_client_role() {
    local port="${AUTOBAHN_CLIENT_PORT:-$(free_port)}" out="$REPORTS/clients"
    local tlog="$LOGS/autobahn_client.log" wlog="$LOGS/wstest-fuzzingserver.log"
    local tpid wpid rc=0 start=$SECONDS
    rm -rf "$out"
    mkdir -p "$out"
    INDEXES+=("client=$out/index.json")

    "$VPY" - "$RUN/fuzzingserver.json" "$out" "$SCHEME://127.0.0.1:$port" \
        "$CASES_JSON" "$EXCLUDE_JSON" "${WSTEST_TLS_FILES[@]+"${WSTEST_TLS_FILES[@]}"}" <<'EOF'
import json, sys
path, outdir, url, cases, exclude = sys.argv[1:6]
spec = {"url": url,
        "outdir": outdir,
        "cases": json.loads(cases),
        "exclude-cases": json.loads(exclude),
        "exclude-agent-cases": {}}
if len(sys.argv) > 6:
    # wss://: this wstest takes the server's key and certificate from the spec
    # (its -k/-c options do not reach the fuzzingserver).
    spec["key"], spec["cert"] = sys.argv[6:8]
json.dump(spec, open(path, "w"), indent=2)
EOF
    log "client role: wstest -m fuzzingserver on 127.0.0.1:$port (log: $wlog)"
    (cd "$RUN" && exec timeout -k 10 "$((ROLE_TIMEOUT + 60))" "$WSTEST" -u 0 \
        -m fuzzingserver -s "$RUN/fuzzingserver.json") >"$wlog" 2>&1 &
    wpid=$!
    PIDS+=("$wpid")
    if ! wait_port "$port" "$wpid" "wstest fuzzingserver"; then
        tail -n 30 "$wlog" | sed 's/^/    /'
        FAILURES+=("client role: wstest fuzzingserver did not start")
        stop_pid "$wpid"
        return
    fi

    log "client role: autobahn_client (log: $tlog, limit ${ROLE_TIMEOUT}s)"
    if [[ -n "${AUTOBAHN_SELFTEST:-}" ]]; then
        (cd "$RUN" && exec timeout -k 10 "$ROLE_TIMEOUT" "$WSTEST" -m testeeclient \
            -w "ws://127.0.0.1:$port" -i "$AGENT") >"$tlog" 2>&1 &
    else
        # bash's `time` reports the client's own CPU time (it waits for it through timeout).
        (
            TIMEFORMAT="[autobahn] client role: autobahn_client CPU time user %U s, system %S s"
            time timeout -k 10 "$ROLE_TIMEOUT" "$BIN/$CLIENT_EX" "$SCHEME://127.0.0.1:$port" \
                "${CLIENT_TLS_ARGS[@]+"${CLIENT_TLS_ARGS[@]}"}" >"$tlog" 2>&1
        ) &
    fi
    tpid=$!
    PIDS+=("$tpid")
    wait "$tpid" || rc=$?
    forget_pid "$tpid"
    if [[ $rc -ne 0 ]]; then
        if [[ $rc -eq 124 || $rc -eq 137 ]]; then
            FAILURES+=("client role: autobahn_client timed out after ${ROLE_TIMEOUT}s")
        else
            FAILURES+=("client role: autobahn_client exited with status $rc")
        fi
        tail -n 30 "$tlog" | sed 's/^/    /'
    fi
    if grep -q "panicked at" "$tlog"; then
        FAILURES+=("client role: autobahn_client panicked (see $tlog)")
        grep -m 5 -A 3 "panicked at" "$tlog" | sed 's/^/    /'
    fi
    if [[ ! -s "$out/index.json" ]] && kill -0 "$wpid" 2>/dev/null; then
        log "client role: no reports written; asking the fuzzingserver for partial ones"
        request_reports "$port"
    fi
    if ! kill -0 "$wpid" 2>/dev/null; then
        FAILURES+=("client role: wstest fuzzingserver died during the run")
        tail -n 30 "$wlog" | sed 's/^/    /'
    fi
    stop_pid "$wpid"
    log "client role: done in $((SECONDS - start))s"
}

case "$MODE" in
    server) run_server_role ;;
    client) run_client_role ;;
    both)
        if [[ -n "${AUTOBAHN_SEQUENTIAL:-}" ]]; then
            run_server_role
            run_client_role
        else
            # Side by side: each role in a subshell that reports its failures in a file and
            # its log lines in another, printed in order once both are done.
            INDEXES+=("server=$REPORTS/servers/index.json" "client=$REPORTS/clients/index.json")
            role_pids=()
            for role in server client; do
                (
                    FAILURES=()
                    PIDS=()
                    trap cleanup EXIT
                    "run_${role}_role"
                    if ((${#FAILURES[@]})); then printf '%s\n' "${FAILURES[@]}" >"$RUN/failures.$role"; fi
                ) >"$RUN/role.$role.out" 2>&1 &
                role_pids+=($!)
                PIDS+=($!)
            done
            log "both roles running side by side"
            for pid in "${role_pids[@]}"; do
                wait "$pid" || true
                forget_pid "$pid"
            done
            for role in server client; do
                cat "$RUN/role.$role.out"
                if [[ -s "$RUN/failures.$role" ]]; then
                    mapfile -t role_failures <"$RUN/failures.$role"
                    FAILURES+=("${role_failures[@]}")
                fi
            done
        fi
        ;;
esac

# --- summary -------------------------------------------------------------------
if ((${#FAILURES[@]})); then
    echo
    for f in "${FAILURES[@]}"; do
        echo "[autobahn] FAILURE: $f"
    done
fi
log "reports: $REPORTS/{servers,clients}/index.html"
log "total time: ${SECONDS}s"
echo
if command -v python3 >/dev/null 2>&1; then SUMMARY_PY=python3; else SUMMARY_PY="$VPY"; fi
rc=0
"$SUMMARY_PY" "$ROOT/scripts/autobahn_summary.py" --expected "$EXPECTED" "${INDEXES[@]}" || rc=$?
if ((${#FAILURES[@]})) && [[ $rc -eq 0 ]]; then
    rc=1
fi
exit "$rc"
}
