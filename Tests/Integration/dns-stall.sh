#!/bin/bash
# A dead DNS server must not stall the data path (root).
#
#   Tests/Integration/dns-stall.sh [BINDIR]     (default .build/debug)
#
# Two nodes log in to tern-control by name (control.test, answered by a small
# DNS server in the hub namespace). Then the DNS server goes silent and the
# coordination server is restarted, so both nodes try to reconnect and must
# resolve the name again, and cannot: every query goes unanswered. Meanwhile
# a ping runs through the tunnel between them: not one may be lost, and none
# may wait longer than half a second (a resolver on the loop thread holds
# the loop for the resolver's whole timeout, about 10 s). When DNS answers
# again, both nodes reconnect.
set -uo pipefail
cd "$(dirname "$0")/../.."
source Tests/Integration/lib/netns.sh
source Tests/Integration/lib/checks.sh

bin=$(readlink -f "${1:-.build/debug}")
T=$NETNS_TEMP
SERVER=10.70.0.1:8080
DNS=10.70.0.53

netns_add hub
netns_router hub
netns_exec hub ip addr add 10.70.0.1/32 dev lo
netns_exec hub ip addr add $DNS/32 dev lo
i=0
for n in a b; do
    i=$((i + 1))
    netns_add $n
    netns_link hub 10.7$i.0.1/24 $n 10.7$i.0.2/24
    netns_exec $n ip route add default via 10.7$i.0.1
    # `ip netns exec` mounts these over /etc/resolv.conf for the node's processes.
    mkdir -p "/etc/netns/$(netns_name $n)"
    printf 'nameserver %s\n' "$DNS" >"/etc/netns/$(netns_name $n)/resolv.conf"
done
trap 'for n in a b; do rm -rf "/etc/netns/$(netns_name $n)"; done; netns_cleanup' EXIT

# A DNS server that answers control.test with the server's address, and says
# nothing at all while $T/dns-silent exists.
cat >"$T/dns.py" <<'PY'
import os, socket, struct, sys
silent, answer = sys.argv[1], socket.inet_aton(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[3], 53))
while True:
    query, peer = s.recvfrom(512)
    if os.path.exists(silent) or len(query) < 12:
        continue
    end = 12
    while end < len(query) and query[end] != 0:
        end += query[end] + 1
    question = query[12:end + 5]
    qtype = struct.unpack("!H", query[end + 1:end + 3])[0] if end + 3 <= len(query) else 0
    labels, pos = [], 12
    while pos < len(query) and query[pos]:
        labels.append(query[pos + 1:pos + 1 + query[pos]].decode(errors="replace")); pos += query[pos] + 1
    known = ".".join(labels).lower() == "control.test"
    answers = b""
    if known and qtype == 1:
        answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 5, 4) + answer
    flags = 0x8180 if known else 0x8183
    header = query[:2] + struct.pack("!HHHHH", flags, 1, 1 if answers else 0, 0, 0)
    s.sendto(header + question + answers, peer)
PY
netns_spawn hub python3 "$T/dns.py" "$T/dns-silent" 10.70.0.1 $DNS

control() { "$bin/tern-control" --admin-socket "$T/admin.sock" "$@"; }
start_server() {
    netns_spawn hub "$bin/tern-control" serve --state-dir "$T/control" --listen "$SERVER" --admin-socket "$T/admin.sock"
    SERVER_PID=$NETNS_LAST_PID
    netns_wait_for 10 control status
}
tern() { local n=$1; shift; netns_exec "$n" "$bin/tern" --socket "$T/$n.sock" "$@"; }
connected() { [ "$(tern "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["controlConnected"])')" = True ]; }
not_connected() { ! connected "$1"; }
for n in a b; do
    netns_spawn $n "$bin/ternd" --state-dir "$T/$n" --socket "$T/$n.sock" --tun "td$$$n" --port 41641
    netns_wait_for 10 test -S "$T/$n.sock"
done

start_server
control users create alice >/dev/null
KEY=$(control preauthkeys create --user alice --reusable)
check "the name resolves in the nodes' namespaces" netns_exec a python3 -c 'import socket; socket.getaddrinfo("control.test", 8080)'
check "node a logs in by name" tern a up --login-server "http://control.test:8080" --auth-key "$KEY" --hostname alpha
check "node b logs in by name" tern b up --login-server "http://control.test:8080" --auth-key "$KEY" --hostname beta
B=$(tern a ip -4 beta)
check "a pings b over the mesh" netns_wait_for 10 netns_exec a ping -c1 -W1 "$B"

# DNS goes silent; the server restarts, so both nodes resolve again, in vain.
touch "$T/dns-silent"
check "DNS is silent now" sh -c "! ip netns exec $(netns_name a) timeout 3 python3 -c 'import socket; socket.getaddrinfo(\"control.test\", 8080)'"
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null
start_server
netns_exec a ping -i 0.1 -c 150 -W 1 "$B" >"$T/ping.txt" 2>&1
cat "$T/ping.txt" | tail -2 | sed 's/^/      /'
received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T/ping.txt")
max=$(sed -n 's|^rtt [^=]*= [0-9.]*/[0-9.]*/\([0-9.]*\)/.*|\1|p' "$T/ping.txt")
check "no ping lost while DNS is silent (${received:-0} of 150)" test "${received:-0}" = 150
check "no ping waited 500 ms or more (max ${max:-?} ms)" python3 -c "import sys; sys.exit(0 if float('${max:-9999}') < 500 else 1)"
check "node a is not connected while the name cannot be resolved" not_connected a

rm -f "$T/dns-silent"
check "node a reconnects once DNS answers" netns_wait_for 60 connected a
check "node b reconnects once DNS answers" netns_wait_for 60 connected b
check "the mesh still works" netns_exec a ping -c1 -W1 "$B"
checks_summary
