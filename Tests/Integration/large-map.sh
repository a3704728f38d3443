#!/bin/bash
# A map larger than 1 MiB reaches every node (loopback, no root needed):
# 800 simulated nodes, each reporting 64 endpoints, register with
# tern-control and a joiner then receives a full map of about 1.3 MB, more
# than a connection's old 1 MiB output limit, which closed such sessions
# for good. Prints the map size, the times and the server's peak RSS.
#
#   Tests/Integration/large-map.sh BUILD_DIR   (tern-control and tern-bench)
set -uo pipefail
cd "$(dirname "$0")/../.."
source Tests/Integration/lib/checks.sh

build=${1:?usage: large-map.sh BUILD_DIR}
work=$(mktemp -d /tmp/tern-large-map.XXXXXX)
server=
cleanup() {
    [ -z "$server" ] || { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; }
    rm -rf "$work"
}
trap cleanup EXIT
admin() { "$build/tern-control" --admin-socket "$work/admin.sock" "$@"; }
port=$((20000 + RANDOM % 20000))

"$build/tern-control" init --state-dir "$work/state" >/dev/null
"$build/tern-control" serve --state-dir "$work/state" --listen "127.0.0.1:$port" --admin-socket "$work/admin.sock" \
    >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do admin status >/dev/null 2>&1 && break; sleep 0.1; done
admin users create big >/dev/null
key=$(admin preauthkeys create --user big --reusable)

timeout 240 "$build/tern-bench" control "http://127.0.0.1:$port" "$key" --nodes 800 --endpoints 64 >"$work/bench.out" 2>&1
code=$?
cat "$work/bench.out"
echo "tern-control peak RSS: $(awk '$1 == "VmHWM:" { print $2, $3 }' "/proc/$server/status")"
check "800 nodes with 64 endpoints each register, and a join reaches them all" test "$code" -eq 0
bytes=$(sed -n 's/^control: the joiner.s full map was \([0-9]*\) bytes.*/\1/p' "$work/bench.out")
check "the joiner's full map (${bytes:-?} bytes) is larger than 1 MiB, and arrived" test "${bytes:-0}" -gt 1048576
check "the server never found a message too large to send" sh -c "! grep -q 'a frame carries' '$work/server.log'"
checks_summary
