#!/usr/bin/env bash
# Interoperability of the HTTP/2 server (RFC 8441) with an independent HTTP/2 implementation:
# Node's http2 module (nghttp2) as the client, against `async_echo_server --h2`, twice:
#
#   1. cleartext h2c with prior knowledge;
#   2. https:// with ALPN h2, trusting only a local CA made by examples/make_cert.
#
# Each run checks the server's SETTINGS (SETTINGS_ENABLE_CONNECT_PROTOCOL = 1), a page served on
# the connection, six WebSockets opened at once by extended CONNECT on one connection echoing
# interleaved messages and closing with END_STREAM, and a wrong version answered 400 with
# sec-websocket-version: 13 (scripts/interop/h2_client.js).
#
# Installs Debian's nodejs if `node` is missing. Loopback only; every step is bounded in time.
# H2_INTEROP_PROFILE=debug builds without --release. Exits non-zero if any check fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
started=$(date +%s)

if ! command -v node >/dev/null 2>&1; then
    echo "==> installing nodejs (Debian package)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs >/dev/null
fi

PROFILE=${H2_INTEROP_PROFILE:-release}
release=()
[[ "$PROFILE" == release ]] && release=(--release)
cargo build "${release[@]}" --quiet --features tls,h2 --example async_echo_server --example make_cert
bin="target/$PROFILE/examples"

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
wait_port() {
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on port $1"
    return 1
}

"$bin/make_cert" "$work/certs" >/dev/null
plain=$(free_port)
"$bin/async_echo_server" "127.0.0.1:$plain" --h2 >"$work/plain.log" 2>&1 &
pids+=($!)
tls=$(free_port)
"$bin/async_echo_server" "127.0.0.1:$tls" --tls "$work/certs/cert.pem" "$work/certs/key.pem" --h2 \
    >"$work/tls.log" 2>&1 &
pids+=($!)
wait_port "$plain"
wait_port "$tls"

status=0
echo "==> Node http2 client, h2c with prior knowledge"
timeout 60 node scripts/interop/h2_client.js "http://127.0.0.1:$plain" || status=1
echo "==> Node http2 client, https:// with ALPN h2"
timeout 60 node scripts/interop/h2_client.js "https://localhost:$tls" "$work/certs/ca.pem" || status=1
if [[ $status -ne 0 ]]; then
    echo "--- server logs"
    cat "$work/plain.log" "$work/tls.log"
fi
echo "h2_interop: $([[ $status -eq 0 ]] && echo passed || echo FAILED) in $(( $(date +%s) - started ))s"
exit "$status"
