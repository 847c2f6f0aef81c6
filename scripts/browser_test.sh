#!/usr/bin/env bash
# The chat demo in a real browser: starts `examples/chat` (release build) on a free loopback
# port, then runs `examples/cdp_chat_check`, which drives headless Chromium over the DevTools
# protocol (a WebSocket, spoken by this crate's own client): two tabs join #lobby and see each
# other's messages, a third tab in #kernel sees none, typing and room counts show, and a page
# reconnects by itself after its server restarts. Saves docs/screenshots/chat.png.
# Then the same chat over TLS: the demo with `--tls` (a certificate from a fresh local CA made
# by examples/make_cert), the page at https://, its WebSocket at wss://; Chromium accepts the
# test certificate by its key (--ignore-certificate-errors-spki-list).
#
#   scripts/browser_test.sh                 # ws, then wss; screenshot to docs/screenshots/chat.png
#   scripts/browser_test.sh ws              # only over plain HTTP and ws://
#   scripts/browser_test.sh wss             # only over https:// and wss://
#   SCREENSHOT=/tmp/chat.png scripts/browser_test.sh
#
# Installs Debian's chromium if it is missing (apt-get update once, then install). Bounded in
# time: BROWSER_TEST_TIMEOUT seconds for the check (default 120), plus the build
# (BROWSER_PROFILE=debug builds without --release). Exits
# non-zero when any check fails. Finally stops the chat server with Ctrl-C (SIGINT) and checks
# that it shut down cleanly.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/browser.sh
source scripts/lib/browser.sh

TIMEOUT=${BROWSER_TEST_TIMEOUT:-120}
case "${1:-both}" in
    ws) SCHEMES=(ws) ;;
    wss) SCHEMES=(wss) ;;
    both) SCHEMES=(ws wss) ;;
    *)
        echo "usage: $0 [ws|wss|both]" >&2
        exit 2
        ;;
esac
SCREENSHOT=${SCREENSHOT:-docs/screenshots/chat.png}
start=$SECONDS

chromium_install

echo "==> building the chat demo (feature tls), the browser check and make_cert"
browser_build release --features tls --example chat --example cdp_chat_check --example make_cert

work=$(mktemp -d)
chat_pid=
cleanup() {
    stop_if_running "$chat_pid"
    rm -rf "$work"
}
trap cleanup EXIT

# run_check SCHEME: start the chat demo (https:// with --tls for wss), drive it from Chromium,
# stop it with Ctrl-C. Returns non-zero when a check fails.
run_check() {
    local scheme=$1 rc=0 url= chat_args=() check_args=()
    if [[ "$scheme" == wss ]]; then
        # A fresh local CA and a certificate for 127.0.0.1; Chromium accepts exactly that key
        # (its SPKI hash), or any certificate when openssl is missing to compute the hash.
        "$BIN/make_cert" "$work/certs" 127.0.0.1 localhost >/dev/null
        chat_args=(--tls "$work/certs/cert.pem" "$work/certs/key.pem")
        local spki=
        if command -v openssl >/dev/null 2>&1; then
            spki=$(openssl x509 -in "$work/certs/cert.pem" -pubkey -noout |
                openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
        fi
        if [[ -n "$spki" ]]; then
            check_args=(--browser-arg "--ignore-certificate-errors-spki-list=$spki")
        else
            check_args=(--browser-arg --ignore-certificate-errors)
        fi
        # The reconnection check is the same over TLS; the plain run covers it.
        check_args+=(--no-reconnect)
    else
        check_args=(--screenshot "$SCREENSHOT")
    fi

    # Port 0: the server picks a free port and prints its URL.
    start_demo "$work/chat.log" "$BIN/chat" 127.0.0.1:0 "${chat_args[@]+"${chat_args[@]}"}" || return 1
    chat_pid=$DEMO_PID url=$DEMO_URL
    echo "==> [$scheme] chat demo at $url"

    timeout --signal=INT --kill-after=10 "$TIMEOUT" \
        "$BIN/cdp_chat_check" --url "$url" "${check_args[@]}" || rc=$?

    # Ctrl-C must stop the server cleanly (it prints "bye" once every connection is closed).
    stop_demo "$chat_pid" "$work/chat.log" bye "chat server" || rc=1
    chat_pid=
    return "$rc"
}

rc=0
for scheme in "${SCHEMES[@]}"; do
    run_check "$scheme" || rc=$?
done

if [[ $rc -eq 0 ]]; then
    echo "==> browser test passed (${SCHEMES[*]}) in $((SECONDS - start)) s"
else
    echo "==> browser test FAILED (exit $rc) after $((SECONDS - start)) s"
fi
exit "$rc"
