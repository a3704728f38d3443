#!/bin/bash
# Mesh mode end to end: tern-control and ternd nodes in network namespaces
# joined by a router namespace (root).
#
#   Tests/Integration/mesh.sh [BINDIR]      (default .build/debug: ternd, tern, tern-control)
#
# Checks, each printed as "ok"/"FAIL":
#   - a server and three nodes come up from nothing; every pair pings over the mesh
#   - `tern up` to the first ping over the mesh, timed
#   - tern status / tern ip / tern ping
#   - a policy set on the server changes who sees whom within 2 s; bad
#     policies (syntax, unknown tag, failing tests) are refused, the old one stays
#   - bad credentials (unknown, revoked, expired pre-auth keys) are refused with
#     a sentence that says so, and nothing is stored; malformed and oversized
#     requests do not hurt the server
#   - the server is killed with -9 in a loop while nodes register: no node lost
#   - a node is renamed: the others see the new name
#   - a node key expires: the node leaves the others' maps; logging in again renews it
#   - a node is deleted: it leaves the others' maps and cannot reach them
#   - the server goes down: the mesh keeps working, a node restarted meanwhile
#     comes back from its cached map, and nodes reconnect when the server returns
#   - logout removes the node everywhere
# Ends with "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
source Tests/Integration/lib/netns.sh
source Tests/Integration/lib/checks.sh

bin=$(readlink -f "${1:-.build/debug}")
T=$NETNS_TEMP
SERVER=10.70.0.1:8080

# hub: the router every namespace hangs off; the server runs there too.
netns_add hub
netns_router hub
i=0
for n in a b c d; do
    i=$((i + 1))
    netns_add $n
    netns_link hub 10.7$i.0.1/24 $n 10.7$i.0.2/24
    netns_exec $n ip route add default via 10.7$i.0.1
done
netns_exec hub ip addr add 10.70.0.1/32 dev lo

control() { "$bin/tern-control" --admin-socket "$T/admin.sock" "$@"; }
start_server() {
    netns_spawn hub "$bin/tern-control" serve --state-dir "$T/control" --listen "$SERVER" --admin-socket "$T/admin.sock"
    SERVER_PID=$NETNS_LAST_PID
    netns_wait_for 10 control status
}
tern() { local n=$1; shift; netns_exec "$n" "$bin/tern" --socket "$T/$n.sock" "$@"; }
declare -A NODE_PID
start_node() {   # NAME [STATE-NAME]: ternd in namespace NAME
    local n=$1 state=${2:-$1}
    netns_spawn "$n" "$bin/ternd" --state-dir "$T/$state" --socket "$T/$state.sock" --tun "tm$$$state" --port 41641
    NODE_PID[$state]=$NETNS_LAST_PID
    netns_wait_for 10 test -S "$T/$state.sock"
}
stopped() { ! kill -0 "$1" 2>/dev/null; }
mesh_ip() { tern "$1" ip -4 ${2:+"$2"}; }
has_peer() { peers "$1" | grep -qw "$2"; }
gone() { ! has_peer "$1" "$2"; }
peers() { tern "$1" status --json | python3 -c 'import json,sys; print(" ".join(sorted(p["name"] for p in json.load(sys.stdin)["peers"])))'; }
field() { tern "$1" status --json | python3 -c "import json,sys; print(json.load(sys.stdin)$2)"; }
pings() { netns_exec "$1" ping -c1 -W1 "$2"; }
node_count() { control nodes list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

# --- From nothing: a server, a user, a key, three nodes.
start_server
check "server answers the admin socket" control status
control users create alice >/dev/null
KEY=$(control preauthkeys create --user alice --reusable)
check "a reusable pre-auth key is made" grep -q '^tern-auth-' <<<"$KEY"
for n in a b c; do start_node $n; done
up_a=$(tern a up --login-server "http://$SERVER" --auth-key "$KEY" --hostname alpha)
SERVER_KEY=$(control status | sed -n 's/^publicKey: //p')
up_b=$(tern b up --login-server "http://$SERVER" --auth-key "$KEY" --hostname beta --control-key "$SERVER_KEY")
check "tern up without --control-key says the key was taken on first contact" grep -q "taken on first contact" <<<"$up_a"
check "and tern status keeps saying it" sh -c "ip netns exec $(netns_name a) $bin/tern --socket $T/a.sock status | grep -q 'health: .*$SERVER_KEY was taken on first contact'"
no_first_contact_note() { ! grep -q 'first contact' <<<"$up_b"; }
check "tern up with --control-key has nothing to say about it" no_first_contact_note
A=$(mesh_ip a); B=$(mesh_ip b)
start=$(date +%s%N)
tern c up --login-server "http://$SERVER" --auth-key "$KEY" --hostname gamma >/dev/null
until pings c "$A" >/dev/null 2>&1 || [ $(( ($(date +%s%N) - start) / 1000000 )) -gt 10000 ]; do :; done
up_ms=$(( ($(date +%s%N) - start) / 1000000 ))
C=$(mesh_ip c)
echo "      tern up to first ping over the mesh: ${up_ms} ms"
check "tern up to first ping within 1 s (${up_ms} ms)" test "$up_ms" -le 1000
check "three nodes registered" test "$(node_count)" = 3
for pair in "a $B" "a $C" "b $A" "b $C" "c $A" "c $B"; do
    set -- $pair
    check "ping $1 -> $2 over the mesh" pings "$1" "$2"
done
check "ping over IPv6" pings a "$(tern b ip -6)"
check "tern status lists the two peers by name" test "$(peers a)" = "beta gamma"
check "tern status: running, control connected" test "$(field a '["state"]') $(field a '["controlConnected"]')" = "Running True"
check "tern ip PEER" test "$(mesh_ip a beta)" = "$B"
check "tern ping: pong via the peer's endpoint" sh -c "ip netns exec $(netns_name a) $bin/tern --socket $T/a.sock ping beta -c 1 | grep -q 'pong from beta ($B) via 10.72.0.2:41641'"
check "state file is mode 0600" test "$(stat -c %a "$T/a/node.state")" = 600

# --- Policy on the server: who sees whom (node-side filtering comes with the packet filter).
cat >"$T/policy.hujson" <<POLICY
{
  // alpha and beta reach each other; gamma reaches alpha; nobody reaches gamma but alpha's replies.
  "hosts": {"alpha": "$A", "beta": "$B", "gamma": "$C",},
  "acls": [
    {"action": "accept", "src": ["alpha", "beta"], "dst": ["alpha:*", "beta:*"]},
    {"action": "accept", "src": ["gamma"], "dst": ["alpha:22,80"]},
  ],
  "tests": [{"src": "$C", "accept": ["$A:22"], "deny": ["$B:22"]}],
}
POLICY
check "policy check: a dry run passes and reports its tests" sh -c "$bin/tern-control --admin-socket $T/admin.sock policy check $T/policy.hujson | grep -q '$B:22'"
check "policy check changed nothing" test "$(peers b)" = "alpha gamma"
control policy set "$T/policy.hujson" >/dev/null
check "policy set: within 2 s beta no longer sees gamma" netns_wait_for 2 gone b gamma
check "policy set: gamma no longer sees beta" netns_wait_for 2 gone c beta
check "policy set: alpha and gamma still see each other" sh -c "[ \"\$(ip netns exec $(netns_name c) $bin/tern --socket $T/c.sock status --json | grep -c alpha)\" != 0 ]"
check "policy: a peer outside the policy is unreachable" sh -c "! ip netns exec $(netns_name b) ping -c1 -W1 $C"
check "policy: allowed pairs still ping" pings a "$B"
# Enforced by the receiving node, after decryption: gamma may open alpha:22 but not alpha:23.
netns_spawn a python3 -c "
import socket, select
servers = []
for port in (22, 23):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('$A', port)); s.listen(8); servers.append(s)
while True:
    for s in select.select(servers, [], [])[0]:
        c, _ = s.accept(); c.sendall(b'hello'); c.close()
"
connects() { netns_exec "$1" python3 -c "import socket; socket.create_connection(('$2', $3), timeout=2).recv(5)"; }
netns_wait_for 5 connects a "$A" 22
check "policy enforced: an allowed port connects (gamma -> alpha:22)" connects c "$A" 22
check "policy enforced: a denied port times out (gamma -> alpha:23)" sh -c "! ip netns exec $(netns_name c) python3 -c \"import socket; socket.create_connection(('$A', 23), timeout=2)\""
check "policy enforced: gamma may ping alpha" pings c "$A"
check "policy enforced: alpha may not ping gamma (no rule lets it in)" sh -c "! ip netns exec $(netns_name a) ping -c1 -W1 $C"
check "policy enforced: alpha's replies still reach gamma (connection tracking)" connects c "$A" 22
check "tern status counts the filter's drops" sh -c "ip netns exec $(netns_name a) $bin/tern --socket $T/a.sock status --json | python3 -c 'import json,sys; f=json.load(sys.stdin)[\"filter\"]; sys.exit(0 if f[\"policy\"] and f[\"dropped\"] > 0 else 1)'"
printf '{"acls": [ {"action": "accept", "src": ["*"], "dst": ["*:*"]} \n' >"$T/broken.hujson"
out=$(control policy set "$T/broken.hujson" 2>&1)
check "a policy with a syntax error is refused with its position" grep -q "line 2" <<<"$out"
printf '{"acls": [{"action": "accept", "src": ["tag:nope"], "dst": ["*:*"]}]}' >"$T/unknown.hujson"
check "a policy naming an undeclared tag is refused" sh -c "! $bin/tern-control --admin-socket $T/admin.sock policy set $T/unknown.hujson 2>&1 | grep -q 'policy in force'"
printf '{"acls": [], "tests": [{"src": "%s", "accept": ["%s:22"]}]}' "$A" "$B" >"$T/failing.hujson"
out=$(control policy set "$T/failing.hujson" 2>&1)
check "a policy whose tests fail is refused, saying which" grep -q "$B:22" <<<"$out"
check "the old policy stays in force" sh -c "$bin/tern-control --admin-socket $T/admin.sock policy get | grep -q 'nobody reaches gamma'"
check "traffic keeps flowing under the old policy" pings a "$B"
echo '{}' >"$T/open.hujson"
control policy set "$T/open.hujson" >/dev/null
check "an empty policy lets everyone see everyone again" netns_wait_for 2 has_peer b gamma
check "with no policy every port is open again (gamma -> alpha:23)" netns_wait_for 3 connects c "$A" 23

# --- Bad credentials: refused with a sentence; nothing stored.
start_node d
before=$(node_count)
out=$(tern d up --login-server "http://$SERVER" --auth-key tern-auth-000000000000000000000000000000000000000000000000 2>&1)
check "unknown pre-auth key refused: says so" grep -qi "not recognised" <<<"$out"
ONCE=$(control preauthkeys create --user alice)
control preauthkeys revoke "$(control preauthkeys list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')" >/dev/null
out=$(tern d up --auth-key "$ONCE" 2>&1)
check "revoked pre-auth key refused: says revoked" grep -qi revoked <<<"$out"
SHORT=$(control preauthkeys create --user alice --expiration 1s)
sleep 2
out=$(tern d up --auth-key "$SHORT" 2>&1)
check "expired pre-auth key refused: says expired" grep -qi expired <<<"$out"
check "nothing stored for refused logins" test "$(node_count)" = "$before"
check "bad login server URL refused by the CLI" sh -c "! ip netns exec $(netns_name d) $bin/tern --socket $T/d.sock up --login-server ftp://x --auth-key k"
hostile() {
    netns_exec a python3 - "$SERVER" <<'PY'
import socket, sys
host, port = sys.argv[1].split(":")
def send(data):
    s = socket.create_connection((host, int(port)), timeout=3)
    s.sendall(data)
    try:
        s.recv(4096)
    except Exception:
        pass
    s.close()
send(b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 20000 + b"\r\n\r\n")   # oversized head
send(b"\x16\x03\x01\x02\x00garbage\r\n\r\n")                                       # not HTTP
send(b"POST /control/v1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tern-control/1\r\nContent-Length: 0\r\n\r\n"
     + b"\xff\xff\xff\xff")                                                         # oversized frame
send(b"POST /control/v1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tern-control/1\r\nContent-Length: 0\r\n\r\n"
     + b"\x00\x00\x00\x94" + b"\x01" * 148)                                         # forged initiation
PY
}
hostile
check "malformed, oversized and forged requests leave the server serving" \
    sh -c "ip netns exec $(netns_name a) curl -sf http://$SERVER/control/v1/key | grep -q publicKey"
check "the mesh still works after them" pings a "$B"

# --- kill -9 in a loop while nodes register: no registered node lost.
registered=()
for round in 1 2 3 4; do
    start_node d "d$round"
    netns_exec d "$bin/tern" --socket "$T/d$round.sock" up --login-server "http://$SERVER" --auth-key "$KEY" \
        --hostname "loop$round" --timeout 60 >"$T/up$round.log" 2>&1 &
    up_pid=$!
    sleep 0.$((RANDOM % 4))
    kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null
    start_server
    wait "$up_pid" && registered+=("loop$round")
    kill "${NODE_PID[d$round]}"; netns_wait_for 5 stopped "${NODE_PID[d$round]}"
done
names=$(control nodes list --json | python3 -c 'import json,sys; print(" ".join(n["name"] for n in json.load(sys.stdin)))')
lost=0
for name in alpha beta gamma "${registered[@]}"; do grep -qw "$name" <<<"$names" || lost=1; done
if [ "$lost" != 0 ]; then
    echo "      registered: ${registered[*]}; server has: $names" >&2
    tail -n 5 "$NETNS_TEMP"/hub-*.log >&2
fi
check "kill -9 loop: ${#registered[@]} of 4 logins completed, every registered node kept" test "$lost" = 0 -a "${#registered[@]}" -ge 3
check "kill -9 loop: nodes reconnected to the restarted server" netns_wait_for 40 sh -c "[ \"\$(ip netns exec $(netns_name a) $bin/tern --socket $T/a.sock status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"controlConnected\"])')\" = True ]"
check "kill -9 loop: the mesh works after it" pings a "$C"

# --- Rename: the new name reaches the others.
control nodes rename gamma gamma2 >/dev/null
check "a renamed node shows its new name to the others" netns_wait_for 2 has_peer a gamma2
control nodes rename gamma2 gamma >/dev/null
netns_wait_for 2 has_peer a gamma

# --- Node key expiry.
control nodes expire beta >/dev/null
check "expired node leaves the others' maps" netns_wait_for 3 gone a beta
gone a beta || { control nodes list; tail -n 8 "$NETNS_TEMP"/a-*.log "$NETNS_TEMP"/hub-*.log; } >&2
check "expired node cannot reach the others" sh -c "! ip netns exec $(netns_name b) ping -c1 -W1 $A"
check "expired node says why" sh -c "ip netns exec $(netns_name b) $bin/tern --socket $T/b.sock status | grep -qi expired"
tern b up --auth-key "$KEY" >/dev/null
check "logging in again renews the key: back in the maps" netns_wait_for 3 has_peer a beta
# The others forgot their sessions with it, so they start the new handshake.
check "renewed node is reachable again" netns_wait_for 3 pings a "$B"

# --- Node deletion.
control nodes delete gamma >/dev/null
check "deleted node leaves the others' maps within 2 s" netns_wait_for 2 gone a gamma
check "deleted node cannot reach the others" sh -c "! ip netns exec $(netns_name c) ping -c1 -W1 $A"
check "deleted node is told (needs login)" netns_wait_for 3 sh -c "ip netns exec $(netns_name c) $bin/tern --socket $T/c.sock status --json | grep -q NeedsLogin"

# --- Server down: the mesh keeps working; a node restarted meanwhile comes back from its cache.
kill "$SERVER_PID"; netns_wait_for 5 stopped "$SERVER_PID"
check "server down: the mesh still works" pings a "$B"
kill "${NODE_PID[a]}"; netns_wait_for 5 stopped "${NODE_PID[a]}"
start_node a
check "server down: a restarted node comes back from its cached map" netns_wait_for 5 pings a "$B"
start_server
check "server back: nodes reconnect (with backoff)" netns_wait_for 40 sh -c "[ \"\$(ip netns exec $(netns_name a) $bin/tern --socket $T/a.sock status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"controlConnected\"])')\" = True ]"

# --- Logout.
tern b logout >/dev/null
check "logout removes the node from the others' maps" netns_wait_for 3 gone a beta
check "logout: the node needs a login" sh -c "ip netns exec $(netns_name b) $bin/tern --socket $T/b.sock status --json | grep -q NeedsLogin"

# --- Clean stop: ternd removes its interface and routes.
kill "${NODE_PID[a]}"; netns_wait_for 5 stopped "${NODE_PID[a]}"
check "SIGTERM: the node's interface and routes are gone" \
    sh -c "! ip netns exec $(netns_name a) ip link show tm$$a && [ -z \"\$(ip netns exec $(netns_name a) ip route show proto 116)\" ]"

checks_summary
