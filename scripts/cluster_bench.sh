#!/usr/bin/env bash
# A benchmark of the chat as a cluster (not a test; not for CI): one room of 1,000 members over
# three chat nodes (separate processes joined through one redis-server of our own on a free
# loopback port, no persistence), ten members sending one message a second each for 30 s.
# Prints the delivery latency from send to the last member (p50, p99, max), the member
# deliveries lost (must be 0: no faults are injected), and the CPU each node and Redis spent.
#
#   scripts/cluster_bench.sh                       # 1000 members, 3 nodes, 10 senders, 30 s
#   MEMBERS=300 SECONDS_=10 scripts/cluster_bench.sh
#
# Installs Debian's redis-server if missing; builds the chat and the benchmark in release mode.
# Stops the redis-server and the nodes it started. Exits non-zero if a delivery was lost.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/redis.sh
source scripts/redis.sh

redis_install
echo "==> building the chat and the benchmark (release)"
cargo build --release --quiet --example chat --example cluster_bench
trap redis_stop EXIT
redis_start
echo "==> $(redis-server --version | cut -d' ' -f1-3) at $REDIS_URL"
# Each member is a thread here and two threads on its node.
ulimit -n 65536 2>/dev/null || true
timeout "${BENCH_TIMEOUT:-600}" target/release/examples/cluster_bench --redis "$REDIS_URL" \
    --chat target/release/examples/chat --redis-pid "$REDIS_PID" \
    --members "${MEMBERS:-1000}" --nodes "${NODES:-3}" --senders "${SENDERS:-10}" --seconds "${SECONDS_:-30}"
