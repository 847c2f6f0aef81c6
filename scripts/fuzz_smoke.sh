#!/usr/bin/env bash
# Fuzz smoke test: build every cargo-fuzz target in fuzz/ and run each for a short, bounded
# time from its tracked seed corpus (fuzz/seeds/<target>/, copied into a scratch corpus).
# Any crash, timeout or out-of-memory fails the script. Long campaigns: see docs/fuzzing.md.
#
# Environment:
#   FUZZ_SECONDS  seconds per target (default 30)
#   FUZZ_TARGETS  space-separated targets to run (default: all of `cargo fuzz list`)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
seconds=${FUZZ_SECONDS:-30}

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

# cargo fuzz needs a nightly compiler (sanitizer flags). Use the installed nightly toolchain;
# without one, let the default toolchain accept nightly flags.
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz=(cargo +nightly fuzz)
else
    # Degraded: seen to build and run the seeds, but without coverage feedback.
    echo "==> no nightly toolchain installed; using the default one with RUSTC_BOOTSTRAP=1"
    echo "==> (coverage feedback may be missing: install a nightly toolchain for real fuzzing)"
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi

cd fuzz
echo "==> building every fuzz target"
"${fuzz[@]}" build

targets=${FUZZ_TARGETS:-$("${fuzz[@]}" list)}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

dict_for() {
    case $1 in
        frame_decode | server_stream | client_stream) echo "$root/fuzz/dicts/frames.dict" ;;
        handshake_request | handshake_response | extensions) echo "$root/fuzz/dicts/http.dict" ;;
        inflate) echo "$root/fuzz/dicts/inflate.dict" ;;
    esac
}

failed=()
for target in $targets; do
    corpus=$scratch/corpus/$target
    artifacts=$root/fuzz/artifacts/$target
    mkdir -p "$corpus" "$artifacts"
    if [[ -d seeds/$target ]]; then
        cp seeds/"$target"/* "$corpus"/ 2>/dev/null || true
    fi
    args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=8192 -print_final_stats=1
        -artifact_prefix="$artifacts/")
    dict=$(dict_for "$target")
    [[ -n $dict ]] && args+=(-dict="$dict")
    echo
    echo "==> fuzz $target for ${seconds}s"
    log=$scratch/$target.log
    rc=0
    "${fuzz[@]}" run "$target" "$corpus" -- "${args[@]}" >"$log" 2>&1 || rc=$?
    # The figures: libFuzzer's last status line and its final stats.
    grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$log" | tail -n 1 || true
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" || true
    if [[ $rc -ne 0 ]]; then
        echo "==> $target FAILED (exit $rc); log tail:"
        tail -n 60 "$log"
        failed+=("$target")
    else
        echo "==> $target ok"
    fi
done

echo
if [[ ${#failed[@]} -ne 0 ]]; then
    echo "==> fuzz smoke failed: ${failed[*]} (crash inputs in fuzz/artifacts/)"
    exit 1
fi
echo "==> fuzz smoke: every target ran ${seconds}s without a finding"
