#!/usr/bin/env bash
# Checks of the async (tokio) layer: clippy with each of its features, its tests (split halves,
# cancel safety, back-pressure, closing handshake, handshakes, wss://, hyper and axum), the
# doctests of src/tokio, and the 10,000-connection test, which needs about 10,100 file
# descriptors: the script raises the soft limit (`ulimit -n`) for it.
#
# Usage: scripts/async_checks.sh [--no-many]     (--no-many: skip the 10,000-connection test)
#
# Prints one summary line, "async checks: N passed, M failed", and exits non-zero if any
# step failed. Everything runs on loopback on ports the OS picks; nothing is left running.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
many=1
[[ "${1:-}" == "--no-many" ]] && many=0

# shellcheck source=scripts/lib/steps.sh
source scripts/lib/steps.sh

step "clippy --features tokio" cargo clippy --all-targets --features tokio -- -D warnings
step "clippy --features tokio,tls" cargo clippy --all-targets --features tokio,tls -- -D warnings
step "clippy --features axum,tls" cargo clippy --all-targets --features axum,tls -- -D warnings
step "async tests (tokio)" cargo test --features tokio --test async_split --test async_cancel \
    --test async_backpressure --test async_close --test async_handshake --test async_timers \
    --test async_large --test alloc_async
step "async tests (tls)" cargo test --features tokio,tls --test async_tls
step "async tests (hyper, axum)" cargo test --features axum --test async_hyper --test observe
step "doctests of the async layer" cargo test --features axum,tls --doc tokio

if [[ $many -eq 1 ]]; then
    need=10100
    soft=$(ulimit -Sn)
    hard=$(ulimit -Hn)
    if [[ "$soft" != unlimited && "$soft" -lt $need ]]; then
        if [[ "$hard" == unlimited || "$hard" -ge $need ]]; then
            ulimit -Sn "$need"
        else
            # Root may raise the hard limit too.
            ulimit -n "$need" 2>/dev/null || echo "==> cannot raise the open-files limit to $need (hard limit $hard)"
        fi
    fi
    echo "==> open-files limit: $(ulimit -Sn)"
    step "10,000 concurrent connections" cargo test --features tokio --test async_many -- \
        --ignored --nocapture
fi

steps_summary "async checks"
