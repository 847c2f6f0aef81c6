#!/bin/bash
# A long fuzz campaign for one target, to a number of executions (docs/fuzzing.md).
#
#   scripts/fuzz_campaign.sh TARGET EXECUTIONS
#
# Two phases share one working corpus (fuzz/corpus/TARGET, started from fuzz/seeds/TARGET):
#   1. explore: EXPLORE_SECONDS (default 600) with libFuzzer's comparison tracing on, so it can
#      solve magic values and lengths the dictionary does not hold;
#   2. volume: the rest of EXECUTIONS with comparison tracing off (`--no-trace-compares`),
#      which runs the same harness on the same crate about three times as fast.
# Both builds are without AddressSanitizer (the crate forbids `unsafe`; ASan halves the rate),
# with debug assertions and overflow checks on. Any crash, timeout, leak or out-of-memory stops
# the campaign, leaves the input in fuzz/artifacts/TARGET/ and exits non-zero.
#
# Environment: EXPLORE_SECONDS, MAX_LEN (default 8192), NICE (default 19: the campaign takes
# only what other work leaves). Logs: fuzz/campaign/TARGET.{explore,volume}.log; the last line
# printed is the summary that goes into docs/fuzzing.md.
set -euo pipefail

target=${1:?usage: fuzz_campaign.sh TARGET EXECUTIONS}
goal=${2:?usage: fuzz_campaign.sh TARGET EXECUTIONS}
explore=${EXPLORE_SECONDS:-600}
max_len=${MAX_LEN:-8192}
niceness=${NICE:-19}

cd "$(dirname "${BASH_SOURCE[0]}")/../fuzz"
root=$PWD
corpus=$root/corpus/$target
artifacts=$root/artifacts/$target
logs=$root/campaign
mkdir -p "$corpus" "$artifacts" "$logs"
[[ -d seeds/$target ]] && cp -n seeds/"$target"/* "$corpus"/ 2>/dev/null || true

case $target in
    frame_decode | server_stream | client_stream) dict=(-dict="$root/dicts/frames.dict") ;;
    handshake_request | handshake_response | extensions) dict=(-dict="$root/dicts/http.dict") ;;
    inflate) dict=(-dict="$root/dicts/inflate.dict") ;;
    *) dict=() ;;
esac

# Two builds in two target directories, so each phase's binary stays built.
build() { # $1: target dir, rest: extra flags
    local dir=$1
    shift
    cargo +nightly fuzz build -s none --target-dir "$dir" "$@" "$target" >&2
    echo "$dir/x86_64-unknown-linux-gnu/release/$target"
}
traced=$(build "$root/target/campaign-traced")
untraced=$(build "$root/target/campaign-untraced" --no-trace-compares)

common=(-rss_limit_mb=2048 -timeout=10 -max_len="$max_len" -print_final_stats=1
    -artifact_prefix="$artifacts/" "${dict[@]}")

executed() { # the executions libFuzzer reported in a log
    sed -n 's/^stat::number_of_executed_units: *//p' "$1" | tail -1
}

start=$SECONDS
echo "==> $target: exploring for ${explore}s (comparison tracing on)"
nice -n "$niceness" "$traced" "$corpus" "${common[@]}" -max_total_time="$explore" \
    >"$logs/$target.explore.log" 2>&1 || { tail -30 "$logs/$target.explore.log"; exit 1; }
first=$(executed "$logs/$target.explore.log")
explore_time=$((SECONDS - start))

rest=$((goal > first ? goal - first : 1))
echo "==> $target: $first executions so far; $rest more (comparison tracing off)"
nice -n "$niceness" "$untraced" "$corpus" "${common[@]}" -runs="$rest" \
    >"$logs/$target.volume.log" 2>&1 || { tail -30 "$logs/$target.volume.log"; exit 1; }
second=$(executed "$logs/$target.volume.log")
total=$((first + second))
elapsed=$((SECONDS - start))

cov() { # cov at start (INITED) and end (DONE) of a log
    local a b
    a=$(grep -m1 -E 'INITED' "$1" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    b=$(grep -E 'DONE' "$1" | tail -1 | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    echo "$a -> $b"
}
ft=$(grep -E 'DONE' "$logs/$target.volume.log" | tail -1 | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
files=$(find "$corpus" -type f | wc -l)
size=$(du -sk "$corpus" | cut -f1)
echo "==> $target: $total executions ($first explore in ${explore_time}s + $second volume)" \
    "in ${elapsed}s, $((total / (elapsed > 0 ? elapsed : 1)))/s; cov explore $(cov "$logs/$target.explore.log")," \
    "volume $(cov "$logs/$target.volume.log"), ft $ft; corpus $files files, ${size} KB; no finding"
