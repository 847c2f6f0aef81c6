#!/bin/bash
# The large-message goals of docs/performance.md, measured in one run.
#
# 1. In-memory workloads (examples/profile_workloads, PROFILE_TIME=1: the fastest of 21 timed
#    batches), each rfc6455 row beside its anchor (tungstenite, or memcpy for unmasking), the two
#    alternated for ROUNDS rounds and the fastest of each kept: robust to a busy machine, where a
#    median is not.
# 2. The loads of scripts/bench_large.sh (ping-pongs of 64 KiB, 1 MiB, 16 MiB; 16 KiB on 10 and
#    200 connections; peak RSS during 16 MiB echoes), unless SKIP_LOAD=1.
#
# Usage: scripts/bench_goals.sh        Environment: ROUNDS (default 2), SKIP_LOAD.
# Prints the ratio table; raw lines go to $OUT (default a temp dir).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROUNDS=${ROUNDS:-2}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
echo "==> load average at start: $(cut -d' ' -f1-3 /proc/loadavg); raw results in $OUT"

cargo build --release --example profile_workloads -q
bin=target/release/examples/profile_workloads

# workload, iterations per batch, anchor
rows=(
    "unmask_64KiB 2000 memcpy"
    "decode_binary_64KiB 20 tungstenite"
    "decode_mixed_text_64KiB 10 tungstenite"
    "encode_binary_64KiB 20 tungstenite"
    "encode_mixed_text_64KiB 20 tungstenite"
    "decode_binary_16B 20 tungstenite"
    "decode_text_16B 20 tungstenite"
)
raw=$OUT/micro.txt
: >"$raw"
for ((round = 1; round <= ROUNDS; round++)); do
    for row in "${rows[@]}"; do
        read -r workload n anchor <<<"$row"
        for imp in rfc6455 "$anchor"; do
            PROFILE_TIME=1 "$bin" "$workload" "$imp" "$n" | tee -a "$raw"
        done
    done
done

echo
echo "| workload | rfc6455 (ns per iteration) | anchor | anchor (ns) | speed vs anchor |"
echo "| --- | ---: | --- | ---: | ---: |"
for row in "${rows[@]}"; do
    read -r workload _ anchor <<<"$row"
    fastest() { # fastest ns of workload $1, implementation $2 over the rounds
        awk -v w="$1" -v i="$2:" '$1 == w && $2 == i { if (best == "" || $3 < best) best = $3 } END { print best }' "$raw"
    }
    ours=$(fastest "$workload" rfc6455)
    theirs=$(fastest "$workload" "$anchor")
    ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.2f", b / a }')
    echo "| $workload | $ours | $anchor | $theirs | ${ratio}x |"
done

if [[ -z "${SKIP_LOAD:-}" ]]; then
    echo
    echo "==> loads (scripts/bench_large.sh), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    OUT=$OUT/large scripts/bench_large.sh
fi
echo "==> load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
