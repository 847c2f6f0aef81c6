#!/usr/bin/env bash
# Interoperability of WebSockets over HTTP/2 (RFC 8441) with an independent HTTP/2 implementation:
# Node's built-in `http2` module (scripts/interop/h2_peer.mjs; no npm packages).
#
#   1. Node as the SERVER (SETTINGS_ENABLE_CONNECT_PROTOCOL, a WebSocket frame echo written in JS)
#      against this crate's client (examples/h2_client.rs):
#      a. h2c: several WebSockets on one connection, every echo exact, each closed with 1000 and
#         ended with END_STREAM; the server checks each CONNECT's pseudo-headers and headers;
#      b. a CONNECT refused with 404 is reported as a refusal;
#      c. a WebSocket dropped without closing resets its stream with CANCEL, the others go on;
#      d. the same as (a) over TLS with ALPN h2, trusting a local CA made by examples/make_cert.
#   2. Node as the CLIENT against this crate's server (examples/async_echo_server --h2), over h2c
#      with prior knowledge and over TLS with ALPN h2, twice each:
#      a. scripts/interop/h2_client.js: the server's SETTINGS, a page served on the connection,
#         six WebSockets at once with interleaved text echoes and END_STREAM closes, a wrong
#         version answered 400 with sec-websocket-version: 13;
#      b. scripts/interop/h2_peer.mjs client: binary messages at every length form of RFC 6455
#         §5.2 (up to 300 KB, so flow control runs), a Ping, the closing handshake with 1000.
#   3. This crate's client against its own server over TLS with ALPN h2, for comparison.
#
# Installs Node.js from the distribution if `node` is missing. Loopback only, free ports, every
# step bounded in time; stops what it starts. Debug builds; H2_INTEROP_PROFILE=release builds
# with --release. Prints `h2_interop: N passed, M failed` and exits non-zero if anything failed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PEER="scripts/interop/h2_peer.mjs"
STREAMS="${STREAMS:-4}"
started=$SECONDS

log() { printf '[h2_interop] %s\n' "$*"; }

if ! command -v node >/dev/null 2>&1; then
    log "installing Node.js (its http2 module is the peer)"
    apt-get update -qq && apt-get install -y -qq nodejs >/dev/null
fi
log "node $(node --version)"

PROFILE=${H2_INTEROP_PROFILE:-debug}
release=()
[[ "$PROFILE" == release ]] && release=(--release)
cargo build "${release[@]}" --quiet --features h2,tls --example h2_client --example make_cert \
    --example async_echo_server
CLIENT="target/$PROFILE/examples/h2_client"
SERVER="target/$PROFILE/examples/async_echo_server"

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

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); log "ok: $*"; }
fail() { failed=$((failed + 1)); log "FAILED: $*"; }

# Start the Node server (extra arguments: CERT KEY for TLS); sets node_port and node_log.
start_node_server() {
    node_port=$(free_port)
    node_log="$work/node_server_$node_port.log"
    node "$PEER" server "$node_port" "$@" >"$node_log" 2>&1 &
    pids+=($!)
    wait_port "$node_port"
}

# Count the Node server's stream lines matching a pattern.
streams_matching() { grep -c -- "$1" "$node_log" || true; }

# Check the Node server's view of $1 streams on path $2 that closed cleanly.
check_clean_streams() {
    local n=$1 path=$2 what=$3 clean
    sleep 0.2 # the last 'close' events are logged as the connection winds down
    clean=$(streams_matching "path=$path frames=.* close=1000 end_stream=true rst=0 problems=none")
    if [ "$clean" -eq "$n" ]; then
        pass "$what: Node saw $n streams with valid extended CONNECTs, each closed with 1000 and END_STREAM"
    else
        fail "$what: Node saw $clean of $n clean streams:"
        grep -- "path=$path " "$node_log" | sed 's/^/    /' || true
    fi
}

certs="$work/certs"
mkdir -p "$certs"
"target/$PROFILE/examples/make_cert" "$certs" 127.0.0.1 localhost >/dev/null

# ---- 1. Node's http2 as the server, this crate's client ---------------------------------------

start_node_server
if out=$(timeout 60 "$CLIENT" "ws://127.0.0.1:$node_port/chat?room=1" --streams "$STREAMS" --require-h2 2>&1); then
    pass "rfc6455 h2_client -> Node http2 server (h2c): $out"
else
    fail "rfc6455 h2_client -> Node http2 server (h2c): $out"
fi
check_clean_streams "$STREAMS" "/chat?room=1" "h2c"

if out=$(timeout 30 "$CLIENT" "ws://127.0.0.1:$node_port/refuse" --expect-refusal 404 2>&1); then
    pass "refused CONNECT: $out"
else
    fail "refused CONNECT: $out"
fi

if out=$(timeout 60 "$CLIENT" "ws://127.0.0.1:$node_port/abort" --streams 2 --require-h2 --abort 2>&1); then
    pass "rfc6455 h2_client --abort: $out"
else
    fail "rfc6455 h2_client --abort: $out"
fi
sleep 0.2
reset=$(streams_matching "path=/abort frames=1 close=- end_stream=false rst=8 ")
if [ "$reset" -eq 1 ]; then
    pass "the dropped WebSocket's stream was reset with CANCEL (RST_STREAM 0x8) before any END_STREAM"
else
    fail "expected one stream reset with CANCEL:"
    grep -- "path=/abort " "$node_log" | sed 's/^/    /' || true
fi
check_clean_streams 2 "/abort" "--abort, the others"

start_node_server "$certs/cert.pem" "$certs/key.pem"
if out=$(timeout 60 "$CLIENT" "wss://localhost:$node_port/tls" --ca "$certs/ca.pem" --streams "$STREAMS" \
    --require-h2 2>&1); then
    pass "rfc6455 h2_client -> Node http2 server (TLS, ALPN h2): $out"
else
    fail "rfc6455 h2_client -> Node http2 server (TLS, ALPN h2): $out"
fi
check_clean_streams "$STREAMS" "/tls" "TLS"

# ---- 2. Node's http2 as the client, this crate's server ---------------------------------------

# Start async_echo_server --h2 (extra arguments: --tls CERT KEY); sets server_port.
start_our_server() {
    server_port=$(free_port)
    "$SERVER" "127.0.0.1:$server_port" --h2 "$@" >"$work/our_server_$server_port.log" 2>&1 &
    pids+=($!)
    wait_port "$server_port"
}

# Both Node clients against async_echo_server on $server_port: $1 http or https, $2 the CA file
# (or ""), $3 what to call the run.
node_clients() {
    local scheme=$1 ca=$2 what="($3)" out
    if out=$(timeout 60 node scripts/interop/h2_client.js "$scheme://localhost:$server_port" $ca 2>&1); then
        pass "Node h2_client.js -> rfc6455 async_echo_server --h2 $what: ${out##*$'\n'}"
    else
        fail "Node h2_client.js -> rfc6455 async_echo_server --h2 $what: $out"
    fi
    if out=$(timeout 60 node "$PEER" client "$scheme://localhost:$server_port/echo" "$ca" "$STREAMS" 2>&1); then
        pass "Node h2_peer.mjs client -> rfc6455 async_echo_server --h2 $what: $out"
    else
        fail "Node h2_peer.mjs client -> rfc6455 async_echo_server --h2 $what: $out"
    fi
}

start_our_server
node_clients http "" "h2c"
start_our_server --tls "$certs/cert.pem" "$certs/key.pem"
node_clients https "$certs/ca.pem" "TLS, ALPN h2"

# ---- 3. For comparison: this crate's client and server together over the same transports ---

if out=$(timeout 60 "$CLIENT" "wss://localhost:$server_port/echo" --ca "$certs/ca.pem" --streams "$STREAMS" \
    --require-h2 2>&1); then
    pass "rfc6455 h2_client -> rfc6455 async_echo_server --h2 (TLS, ALPN h2): $out"
else
    fail "rfc6455 h2_client -> rfc6455 async_echo_server --h2 (TLS, ALPN h2): $out"
fi

log "run time $((SECONDS - started)) s"
echo "h2_interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
