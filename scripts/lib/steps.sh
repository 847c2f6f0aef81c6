# Sourced by the check scripts (async_checks.sh, h2_checks.sh): run named steps, keep going
# after a failure, and count.
#
# step NAME COMMAND...: run COMMAND, count it as passed or failed under NAME.
# steps_summary LABEL: print the failed steps and "LABEL: N passed, M failed"; returns non-zero
# if any step failed.
passed=0
failed=0
failures=()

step() {
    local name=$1
    shift
    echo "==> $name"
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("$name")
    fi
}

steps_summary() {
    if [[ $failed -gt 0 ]]; then
        printf '==> failed: %s\n' "${failures[@]}"
    fi
    echo "$1: $passed passed, $failed failed"
    [[ $failed -eq 0 ]]
}
