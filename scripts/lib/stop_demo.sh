# Sourced by the browser scripts: stop a demo server the way a user does, with Ctrl-C.
#
# stop_demo PID LOG MARKER WHAT: send SIGINT to PID, wait up to 5 s for it to exit, and check
# that LOG has the line MARKER (the demo prints it once every connection is closed). On failure
# prints LOG and a message naming WHAT, and returns 1.
stop_demo() {
    local pid=$1 log=$2 marker=$3 what=$4
    kill -INT "$pid" 2>/dev/null
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null || ! grep -qx -- "$marker" "$log"; then
        cat "$log"
        echo "the $what did not shut down cleanly on Ctrl-C"
        return 1
    fi
}
