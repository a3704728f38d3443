#!/bin/bash
# A hostile "coordination server" must not starve a node's data path (root).
#
#   Tests/Integration/interim-flood.sh [BINDIR]     (default .build/debug)
#
# Two nodes log in to tern-control and ping each other through the mesh.
# Then tern-control dies and something else takes its address: it answers
# every connection with an endless stream of `HTTP/1.1 100 Continue` as fast
# as it can write (anyone on the path can, before the control channel is
# authenticated). Both nodes reconnect to it. Meanwhile a ping runs between
# them: not one may be lost and none may wait 500 ms or more. When the real
# server is back, both reconnect.
set -uo pipefail
cd "$(dirname "$0")/../.."
source Tests/Integration/lib/netns.sh
source Tests/Integration/lib/checks.sh

bin=$(readlink -f "${1:-.build/debug}")
T=$NETNS_TEMP
SERVER=10.72.0.1:8080

netns_add hub
netns_router hub
netns_exec hub ip addr add 10.72.0.1/32 dev lo
i=0
for n in a b; do
    i=$((i + 1))
    netns_add $n
    netns_link hub 10.7$((i + 2)).0.1/24 $n 10.7$((i + 2)).0.2/24
    netns_exec $n ip route add default via 10.7$((i + 2)).0.1
done
trap netns_cleanup EXIT

control() { "$bin/tern-control" --admin-socket "$T/admin.sock" "$@"; }
start_server() {
    netns_spawn hub "$bin/tern-control" serve --state-dir "$T/control" --listen "$SERVER" --admin-socket "$T/admin.sock"
    SERVER_PID=$NETNS_LAST_PID
    netns_wait_for 10 control status
}
tern() { local n=$1; shift; netns_exec "$n" "$bin/tern" --socket "$T/$n.sock" "$@"; }
connected() { [ "$(tern "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["controlConnected"])')" = True ]; }
for n in a b; do
    netns_spawn $n "$bin/ternd" --state-dir "$T/$n" --socket "$T/$n.sock" --tun "ti$$$n" --port 41641
    netns_wait_for 10 test -S "$T/$n.sock"
done

"$bin/tern-control" init --state-dir "$T/control" >/dev/null
start_server
control users create alice >/dev/null
KEY=$(control preauthkeys create --user alice --reusable)
check "node a logs in" tern a up --login-server "http://$SERVER" --auth-key "$KEY" --hostname alpha
check "node b logs in" tern b up --login-server "http://$SERVER" --auth-key "$KEY" --hostname beta
B=$(tern a ip -4 beta)
check "a pings b over the mesh" netns_wait_for 10 netns_exec a ping -c1 -W1 "$B"

# The impostor: every connection gets 100 Continue, without end, as fast as
# the socket takes it. It counts the connections it served.
cat >"$T/interim.py" <<'PY'
import socket, sys, threading
count_file = sys.argv[2]
flood = b"HTTP/1.1 100 Continue\r\n\r\n" * 4096
served = 0
def serve(c):
    try:
        c.recv(65536)
        while True:
            c.sendall(flood)
    except OSError:
        pass
    finally:
        c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
host, port = sys.argv[1].rsplit(":", 1)
s.bind((host, int(port)))
s.listen(16)
while True:
    c, _ = s.accept()
    served += 1
    open(count_file, "w").write(str(served))
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null
netns_spawn hub python3 "$T/interim.py" "$SERVER" "$T/served"
IMPOSTOR=$NETNS_LAST_PID
check "both nodes reach the impostor" netns_wait_for 20 sh -c "[ \"\$(cat '$T/served' 2>/dev/null || echo 0)\" -ge 2 ]"
netns_exec a ping -i 0.1 -c 150 -W 1 "$B" >"$T/ping.txt" 2>&1
tail -2 "$T/ping.txt" | sed 's/^/      /'
received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T/ping.txt")
max=$(sed -n 's|^rtt [^=]*= [0-9.]*/[0-9.]*/\([0-9.]*\)/.*|\1|p' "$T/ping.txt")
echo "      the impostor served $(cat "$T/served") connections"
check "no ping lost while the impostor floods (${received:-0} of 150)" test "${received:-0}" = 150
check "no ping waited 500 ms or more (max ${max:-?} ms)" python3 -c "import sys; sys.exit(0 if float('${max:-9999}') < 500 else 1)"
check "node a says why it is not connected" sh -c "tern() { ip netns exec $(netns_name a) '$bin/tern' --socket '$T/a.sock' \"\$@\"; }; tern status | grep -q 'interim (1xx)'"

kill "$IMPOSTOR"; wait "$IMPOSTOR" 2>/dev/null
start_server
check "node a reconnects to the real server" netns_wait_for 60 connected a
check "node b reconnects to the real server" netns_wait_for 60 connected b
check "the mesh still works" netns_exec a ping -c1 -W1 "$B"
checks_summary
