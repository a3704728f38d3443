#!/bin/bash
# The control plane of one architecture's Embedded build, run natively or
# under qemu-user (loopback only): tern-control serves, its admin commands
# make a user and a key, 20 simulated nodes register and a join fans out
# (tern-bench control), one of them a subnet router whose route is approved,
# the CLIs report a missing daemon in words.
# Catches what only the ARM builds get wrong (32-bit Int, enum layouts).
#
#   Tests/Integration/control-smoke.sh amd64|arm64|armhf
set -uo pipefail
cd "$(dirname "$0")/../.."
source Tests/Integration/lib/checks.sh

arch=${1:?usage: control-smoke.sh amd64|arm64|armhf}
run() { cross/run.sh "$arch" "$@"; }
work=$(mktemp -d /tmp/tern-smoke.XXXXXX)
server=
cleanup() {
    [ -z "$server" ] || { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; }
    rm -rf "$work"
}
trap cleanup EXIT
admin() { run tern-control --admin-socket "$work/admin.sock" "$@"; }
port=$((20000 + RANDOM % 20000))

check "$arch: tern-control init" run tern-control init --state-dir "$work/state"
# Not through `run`: a backgrounded function is a subshell, and its PID is not the server's.
cross/run.sh "$arch" tern-control serve --state-dir "$work/state" --listen "127.0.0.1:$port" --admin-socket "$work/admin.sock" \
    >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do admin status >/dev/null 2>&1 && break; sleep 0.1; done
check "$arch: tern-control serve answers its admin socket" admin status
check "$arch: users create" admin users create smoke
key=$(admin preauthkeys create --user smoke --reusable)
check "$arch: preauthkeys create" grep -q '^tern-auth-' <<<"$key"
check "$arch: 20 nodes register over the control channel and a join reaches them all" \
    timeout 120 cross/run.sh "$arch" tern-bench control "http://127.0.0.1:$port" "$key" --nodes 20
check "$arch: nodes list shows them" sh -c "[ \"\$(cross/run.sh $arch tern-control --admin-socket $work/admin.sock nodes list --json | grep -c '\"name\"')\" = 21 ]"
check "$arch: the simulated router's route is pending" sh -c "cross/run.sh $arch tern-control --admin-socket $work/admin.sock routes list | grep -q '192.168.77.0/24  sim0  1   pending'"
check "$arch: routes approve" admin routes approve sim0 192.168.77.0/24
routes_json=$(admin routes list --json | tr -d ' \n')
check "$arch: the approved route has its router as primary" grep -q '"prefix":"192.168.77.0/24","state":"approved","primary":true' <<<"$routes_json"
kill "$server"; wait "$server" 2>/dev/null; server=
restarted() {   # serves for 2 s (timeout ends it), then reads what it said
    timeout 2 cross/run.sh "$arch" tern-control serve --state-dir "$work/state" --listen "127.0.0.1:$port" \
        --admin-socket "$work/admin2.sock" >"$work/restart.log" 2>&1
    grep -q 'serving 21 nodes' "$work/restart.log"
}
check "$arch: state survives a restart" restarted
check "$arch: tern says when ternd is not running" sh -c "cross/run.sh $arch tern --socket $work/none.sock status 2>&1 | grep -q 'ternd is not running (no socket at'"
check "$arch: tern-control says when the server is not running" sh -c "cross/run.sh $arch tern-control --admin-socket $work/none.sock status 2>&1 | grep -q 'tern-control is not running'"
checks_summary
