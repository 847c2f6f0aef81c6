#!/usr/bin/env bash
# Interoperability with another implementation: Python's `websockets`.
#
#   1. a `websockets` client against this crate's echo_server;
#   2. this crate's echo_client against a `websockets` echo server;
#   3. a `websockets` client over wss:// against `echo_server --tls` (feature tls), trusting
#      only a local CA made by examples/make_cert, by host name and by IP address.
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

cargo build --release --quiet --features tls --example echo_server --example echo_client --example make_cert

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

certs=$(mktemp -d)
trap 'cleanup; rm -rf "$certs"' EXIT
target/release/examples/make_cert "$certs" 127.0.0.1 localhost >/dev/null
port=$(free_port)
target/release/examples/echo_server "127.0.0.1:$port" --tls "$certs/cert.pem" "$certs/key.pem" \
    >"$DIR/echo_server_tls.log" 2>&1 &
pids+=($!)
wait_port "$port"
for url in "wss://localhost:$port/" "wss://127.0.0.1:$port/"; do
    if timeout 60 "$VENV/bin/python" scripts/interop/peer.py client "$url" "$certs/ca.pem"; then
        log "websockets client -> rfc6455 echo_server --tls ($url): ok"
    else
        log "websockets client -> rfc6455 echo_server --tls ($url): FAILED"
        status=1
    fi
done

exit "$status"
