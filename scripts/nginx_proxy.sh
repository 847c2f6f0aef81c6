#!/usr/bin/env bash
# Run nginx with docs/manual/nginx.conf in front of examples/recipe_behind_proxy.rs and check
# that a WebSocket client gets through: the upgrade, a message each way, the closing handshake.
# The config's two addresses are replaced by free loopback ports; nginx runs in the foreground
# from a scratch directory, and everything started here is stopped on exit.
#
# nginx is installed with apt-get when missing (Debian's package).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
start=$SECONDS

if ! command -v nginx >/dev/null 2>&1 && [[ ! -x /usr/sbin/nginx ]]; then
    echo "==> installing nginx"
    if [[ $(id -u) -eq 0 ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y nginx >/dev/null
    else
        DEBIAN_FRONTEND=noninteractive sudo apt-get install -y nginx >/dev/null
    fi
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
app_port=$(free_port)
proxy_port=$(free_port)

scratch=$(mktemp -d)
app_pid=
nginx_pid=
cleanup() {
    if [[ -n "$nginx_pid" ]]; then
        kill "$nginx_pid" 2>/dev/null || true
        wait "$nginx_pid" 2>/dev/null || true
    fi
    if [[ -n "$app_pid" ]]; then
        kill "$app_pid" 2>/dev/null || true
        wait "$app_pid" 2>/dev/null || true
    fi
    rm -rf "$scratch"
}
trap cleanup EXIT INT TERM

cargo build -q --example recipe_behind_proxy
example="$root/target/debug/examples/recipe_behind_proxy"

# The config as written, with the ports of this run and paths nginx may write to.
sed -e "s/127.0.0.1:9002/127.0.0.1:$app_port/" -e "s/127.0.0.1:8080/127.0.0.1:$proxy_port/" \
    docs/manual/nginx.conf >"$scratch/nginx.conf"
for directive in client_body proxy fastcgi uwsgi scgi; do
    sed -i "s|^http {|http {\n    ${directive}_temp_path $scratch/${directive}_temp;|" "$scratch/nginx.conf"
done
sed -i "s|^http {|http {\n    access_log $scratch/access.log;|" "$scratch/nginx.conf"

"$example" "127.0.0.1:$app_port" >"$scratch/app.log" 2>&1 &
app_pid=$!

# In the foreground (daemon off), as a child of this script, so it is stopped by its pid.
"$nginx_bin" -p "$scratch" -c "$scratch/nginx.conf" \
    -g "daemon off; pid $scratch/nginx.pid; error_log $scratch/error.log;" &
nginx_pid=$!

# Wait (boundedly) for both to listen.
for _ in $(seq 100); do
    if python3 -c "import socket,sys; [socket.create_connection(('127.0.0.1', p), 0.2).close() for p in ($app_port, $proxy_port)]" 2>/dev/null; then
        break
    fi
    sleep 0.1
done

if timeout 20 "$example" --check "ws://127.0.0.1:$proxy_port/ws"; then
    echo "nginx_proxy: OK, a WebSocket client went through nginx ($("$nginx_bin" -v 2>&1 | sed 's/.*: //')) in $((SECONDS - start)) s"
else
    echo "nginx_proxy: FAILED"
    echo "--- nginx error log"; cat "$scratch/error.log" || true
    echo "--- app log"; cat "$scratch/app.log" || true
    exit 1
fi
