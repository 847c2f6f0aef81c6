#!/usr/bin/env bash
# Interoperability with another implementation: Python's `websockets`.
#
#   1. a `websockets` client against this crate's echo_server;
#   2. this crate's echo_client against a `websockets` echo server.
#
# Installs `websockets` into a Python 3 virtualenv under .interop/ if it is not there.
# Loopback only; every step is bounded in time. Exits non-zero if either direction fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$ROOT/.interop"
VENV="$DIR/venv"
WEBSOCKETS_VERSION="${WEBSOCKETS_VERSION:-15.0.1}"
mkdir -p "$DIR"
cd "$ROOT"

log() { printf '[interop] %s\n' "$*"; }

if ! "$VENV/bin/python" -c "import websockets.sync.client" 2>/dev/null; then
    log "installing websockets $WEBSOCKETS_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "websockets==$WEBSOCKETS_VERSION"
fi

cargo build --release --quiet --example echo_server --example echo_client

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_port() {
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    log "nothing listens on port $1"
    return 1
}

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

status=0

port=$(free_port)
target/release/examples/echo_server "127.0.0.1:$port" >"$DIR/echo_server.log" 2>&1 &
pids+=($!)
wait_port "$port"
if timeout 60 "$VENV/bin/python" scripts/interop/peer.py client "ws://127.0.0.1:$port/"; then
    log "websockets client -> rfc6455 echo_server: ok"
else
    log "websockets client -> rfc6455 echo_server: FAILED"
    status=1
fi

port=$(free_port)
"$VENV/bin/python" scripts/interop/peer.py server "$port" >"$DIR/websockets_server.log" 2>&1 &
pids+=($!)
wait_port "$port"
if timeout 60 target/release/examples/echo_client "ws://127.0.0.1:$port/"; then
    log "rfc6455 echo_client -> websockets server: ok"
else
    log "rfc6455 echo_client -> websockets server: FAILED"
    status=1
fi

exit "$status"
