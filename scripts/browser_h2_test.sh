#!/usr/bin/env bash
# WebSockets over HTTP/2 (RFC 8441) in a real browser: makes a test certificate
# (examples/make_cert), starts `async_echo_server --tls CERT KEY --h2` (one TLS port offering
# h2 and http/1.1 by ALPN) on a free loopback port, then runs `examples/cdp_h2_check`: headless
# Chromium loads https://127.0.0.1:PORT/ over HTTP/2, the page's WebSockets echo messages, and
# the check prints the browser's evidence that they rode the page's HTTP/2 connection
# (DevTools: protocol "h2", connectionId, handshake status 200; Chromium's NetLog: the same
# HTTP2_SESSION sent GET / and CONNECT :protocol websocket) and the server's log of it.
#
# Installs Debian's chromium if it is missing. Bounded: BROWSER_TEST_TIMEOUT seconds for the
# check (default 120), plus the build. BROWSER_H2_PROFILE=debug builds without --release.
# Exits non-zero when any check fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

TIMEOUT=${BROWSER_TEST_TIMEOUT:-120}
PROFILE=${BROWSER_H2_PROFILE:-release}
started=$(date +%s)

if ! command -v chromium >/dev/null 2>&1 && [[ -z "${CHROMIUM:-}" ]]; then
    echo "==> installing chromium (Debian package)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

release=()
[[ "$PROFILE" == release ]] && release=(--release)
cargo build "${release[@]}" --quiet --features tls,h2 \
    --example async_echo_server --example cdp_h2_check --example make_cert
bin="target/$PROFILE/examples"

work=$(mktemp -d)
server_pid=
cleanup() {
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

"$bin/make_cert" "$work/certs" >/dev/null
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
"$bin/async_echo_server" "127.0.0.1:$port" --tls "$work/certs/cert.pem" "$work/certs/key.pem" --h2 \
    >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done

echo "==> $(chromium --version 2>/dev/null | grep -o 'Chromium [0-9.]*' || echo chromium) against async_echo_server --h2 on https://127.0.0.1:$port/"
status=0
timeout --kill-after=10 "$TIMEOUT" "$bin/cdp_h2_check" "https://127.0.0.1:$port/" "$work/server.log" || status=$?
if [[ $status -ne 0 ]]; then
    echo "--- server log"
    cat "$work/server.log"
fi
echo "browser_h2_test: $([[ $status -eq 0 ]] && echo passed || echo FAILED) in $(( $(date +%s) - started ))s"
exit "$status"
