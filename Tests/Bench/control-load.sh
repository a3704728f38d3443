#!/bin/bash
# Load on the coordination server: N simulated nodes register with one
# tern-control (loopback only), then one more joins and the time until all N
# have it in their maps is measured. Reports the server's peak RSS and the
# size of its state directory.
#
#   Tests/Bench/control-load.sh [BINDIR] [NODES]    (default build/amd64, 1000)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(readlink -f "${1:-build/amd64}")
nodes=${2:-1000}
work=$(mktemp -d /tmp/tern-control-load.XXXXXX)
server=
cleanup() {
    [ -z "$server" ] || { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
    rm -rf "$work"
}
trap cleanup EXIT

port=$((20000 + RANDOM % 20000))
ulimit -n 65536 2>/dev/null || true
"$bin/tern-control" serve --state-dir "$work/state" --listen "127.0.0.1:$port" --admin-socket "$work/admin.sock" \
    >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 50); do "$bin/tern-control" --admin-socket "$work/admin.sock" status >/dev/null 2>&1 && break; sleep 0.1; done
admin() { "$bin/tern-control" --admin-socket "$work/admin.sock" "$@"; }
admin users create load >/dev/null
key=$(admin preauthkeys create --user load --reusable)

"$bin/tern-bench" control "http://127.0.0.1:$port" "$key" --nodes "$nodes"
echo "control: server peak RSS $(awk '/VmHWM/ {print $2, $3}' "/proc/$server/status"), now $(awk '/VmRSS/ {print $2, $3}' "/proc/$server/status")"
echo "control: state $(du -sb "$work/state" | cut -f1) bytes ($(ls "$work/state/registry" | tr '\n' ' '))"
kill "$server"; wait "$server" 2>/dev/null || true; server=
echo "control: state after a clean stop $(du -sb "$work/state" | cut -f1) bytes"
