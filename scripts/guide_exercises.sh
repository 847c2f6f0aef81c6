#!/usr/bin/env bash
# Check every exercise of the guide and the manual: each is a block
#
#   file:   src/frame/header.rs
#   change: len7 as usize > MAX_CONTROL_PAYLOAD
#   to:     len7 as usize >= MAX_CONTROL_PAYLOAD
#   run:    cargo test --test boundaries s5_5
#   fails:  s5_5_control_frame_of_125_bytes_is_accepted
#
# For each, the script makes the change, runs the command, and checks that the named test
# fails; then it restores the file (always, even on Ctrl-C). That the tests pass on the
# unchanged code is what `cargo test` checks.
# tests/guide.rs checks the cheap part on every `cargo test` (the text to change exists once,
# the test exists); this script checks the mutation is really caught.
#
# Environment:
#   EXERCISES  a substring: run only the exercises whose test name contains it
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
only=${EXERCISES:-}

if ! git diff --quiet -- src examples; then
    echo "guide_exercises: src/ or examples/ has uncommitted changes; commit or stash them first" >&2
    exit 2
fi

backup=$(mktemp -d)
restore() {
    if [[ -n "${current:-}" && -f "$backup/file" ]]; then
        cp "$backup/file" "$root/$current"
    fi
    rm -rf "$backup"
}
trap restore EXIT INT TERM

# One exercise per line: file<TAB>change<TAB>to<TAB>run<TAB>fails, in chapter order.
mapfile -t exercises < <(python3 - <<'PY'
import glob, re
for path in sorted(glob.glob("docs/guide/*.md") + glob.glob("docs/manual/*.md")):
    text = open(path, encoding="utf-8").read()
    for block in re.findall(r"```text\n(.*?)```", text, re.S):
        fields = {}
        for line in block.splitlines():
            m = re.match(r"\s*(file|change|to|run|fails):\s+(.*)$", line)
            if m:
                fields[m.group(1)] = m.group(2).rstrip()
        if len(fields) == 5:
            print("\t".join(fields[k] for k in ("file", "change", "to", "run", "fails")))
PY
)

passed=0
failed=0
start=$SECONDS
for exercise in "${exercises[@]}"; do
    IFS=$'\t' read -r file change to run fails <<<"$exercise"
    [[ -n "$only" && "$fails" != *"$only"* ]] && continue
    current=$file
    cp "$root/$file" "$backup/file"
    python3 - "$root/$file" "$change" "$to" <<'PY'
import sys
path, old, new = sys.argv[1:4]
text = open(path, encoding="utf-8").read()
if text.count(old) != 1:
    sys.exit(f"{path}: the text to change occurs {text.count(old)} times, not once: {old}")
open(path, "w", encoding="utf-8").write(text.replace(old, new))
PY
    log=$(mktemp)
    # The command is expected to fail; its output says which tests did.
    read -r -a command <<<"$run"
    if "${command[@]}" >"$log" 2>&1; then
        verdict="NOT CAUGHT (the tests passed)"
    elif grep -Eq "(test |::)$fails \.\.\. FAILED" "$log"; then
        verdict="caught"
    elif grep -q "^error" "$log" && ! grep -q "test result" "$log"; then
        verdict="NOT CAUGHT (the change does not compile)"
    else
        verdict="NOT CAUGHT ($fails did not fail)"
    fi
    cp "$backup/file" "$root/$file"
    current=
    if [[ $verdict == caught ]]; then
        passed=$((passed + 1))
        echo "ok    $fails  ($file: $change -> $to)"
    else
        failed=$((failed + 1))
        echo "FAIL  $fails: $verdict  ($file: $change -> $to; $run)"
        tail -20 "$log" | sed 's/^/      /'
    fi
    rm -f "$log"
done

echo "guide_exercises: $passed caught, $failed not caught, $((SECONDS - start)) s"
[[ $failed -eq 0 && $passed -gt 0 ]]
