#!/bin/bash
# Subnet routers end to end: tern-control, ternd routers in front of a LAN
# namespace with a plain HTTP host on it, and mesh clients, each in its own
# network namespace.
#
#   Tests/Integration/subnet-router.sh [BINDIR]   (default .build/debug: ternd, tern, tern-control)
#
# Topology: hub (router, the server at 10.70.0.1:8080) with pi, pi2, laptop,
# desk, bobpc and ovl hanging off it; a lan namespace whose bridge br0 holds
# the legacy host 192.168.10.5 (no route to the mesh), joined to pi
# (192.168.10.1) and pi2 (192.168.10.2).
#
# Checks, each printed as "ok"/"FAIL":
#   - approval: an advertised route is pending, clients have no route and
#     cannot reach the LAN; after `routes approve` the laptop fetches the LAN
#     host's page through the mesh, status shows the route (router and peers),
#     and the LAN host sees the router's LAN address (SNAT)
#   - --accept-routes: a client without it installs no route and cannot reach
#     the LAN; turning it off and on again on the laptop removes and restores it
#   - --snat-subnet-routes=false: fails without a route back to the mesh on the
#     LAN host, works with one (the LAN host sees the mesh address); back on
#   - route sanity: mesh overlap, 0.0.0.0/0, host bits, loopback, link-local,
#     multicast are refused by `tern up` with a sentence; a client whose own
#     network overlaps an offered route does not install it and says so
#   - autoApprovers: a tagged router's route is auto-approved with no admin;
#     `routes reject` overrides it
#   - high availability: two routers, exactly one primary, no flapping while
#     both are healthy (nor when the primary changes a local setting); the
#     primary frozen (SIGSTOP: its TCP stays open) -> clients follow the
#     standby within 5 s (timed); thawed, it comes back as
#     standby (sticky); the new primary killed -9 -> the other takes over (timed)
#   - ACLs on LAN destinations: a rule for 192.168.10.5:8000 lets the laptop
#     fetch the page, other LAN ports are filtered; a rule for port 9 only
#     blocks it; each policy change takes effect within 2 s (timed); a node
#     outside the policy does not see the routers
#   - withdrawal: `routes reject` removes the route from clients within 2 s;
#     a router stopped with SIGTERM hands over to the other; `nodes delete` of
#     the last router removes the route from clients
#   - cleanup: after SIGTERM of every ternd no route with proto 116 and no
#     `inet tern` table remains in any namespace
# Ends with "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
source Tests/Integration/lib/netns.sh
source Tests/Integration/lib/checks.sh

bin=$(readlink -f "${1:-.build/debug}")
T=$NETNS_TEMP
SERVER=10.70.0.1:8080
LAN=192.168.10.0/24
HOST=192.168.10.5

# --- Topology.
netns_add hub
netns_router hub
i=0
for n in pi pi2 laptop desk bobpc ovl; do
    i=$((i + 1))
    netns_add $n
    netns_link hub 10.7$i.0.1/24 $n 10.7$i.0.2/24
    netns_exec $n ip route add default via 10.7$i.0.1
done
netns_exec hub ip addr add 10.70.0.1/32 dev lo
# The LAN: one host on a bridge that both routers plug into.
netns_add lan
netns_link pi 192.168.10.1/24 lan -
netns_link pi2 192.168.10.2/24 lan -
netns_exec lan ip link add br0 type bridge
netns_exec lan ip link set veth-pi master br0
netns_exec lan ip link set veth-pi2 master br0
netns_exec lan ip link set br0 up
netns_address lan "$HOST/24" br0
for n in pi pi2; do netns_router $n; done
# ovl is on a network of its own that overlaps the LAN (d0: one end of a
# veth pair kept inside ovl; the dummy driver may not be loaded).
netns_exec ovl ip link add d0 type veth peer name d0peer
netns_exec ovl ip link set d0peer up
netns_exec ovl ip link set d0 up
netns_address ovl 192.168.10.77/24 d0

mkdir -p "$T/www"
echo "hello from the LAN host" >"$T/www/page.html"
netns_spawn lan python3 -u -m http.server --bind "$HOST" --directory "$T/www" 8000
WEB_LOG=$NETNS_LAST_LOG

control() { "$bin/tern-control" --admin-socket "$T/admin.sock" "$@"; }
tern() { local n=$1; shift; netns_exec "$n" "$bin/tern" --socket "$T/$n.sock" "$@"; }
declare -A NODE_PID
start_node() {
    local n=$1
    netns_spawn "$n" "$bin/ternd" --state-dir "$T/$n" --socket "$T/$n.sock" --tun "tm$n" --port 41641
    NODE_PID[$n]=$NETNS_LAST_PID
    netns_wait_for 10 test -S "$T/$n.sock"
}
stopped() { ! kill -0 "$1" 2>/dev/null; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
py() { python3 -c "$1"; }   # a Python one-liner over stdin

# The laptop (or another node) fetches the LAN host's page; TAG marks the request in the host's log.
# (Output is captured before grep -q reads it: with pipefail, grep -q quitting
# early would fail the pipeline when the writer gets SIGPIPE.)
fetch() {
    local page
    page=$(netns_exec "$1" curl -sf --max-time "${3:-2}" "http://$HOST:8000/page.html?$2") &&
        grep -q "hello from the LAN host" <<<"$page"
}
blocked() { ! fetch "$1" "$2" 1; }
# Who the LAN host saw making request TAG.
seen_from() { grep "page.html?$1 " "$WEB_LOG" | tail -n 1 | cut -d' ' -f1; }
has_route() {
    local table
    table=$(netns_exec "$1" ip route show table all proto 116) && grep -q "^192\.168\.10\.0/24 dev tm$1" <<<"$table"
}
no_route() { ! has_route "$1"; }
status_json() { tern "$1" status --json; }
# tern status of NODE has a line matching REGEX (grep -E), or the line of peer PEER does.
status_has() { local text; text=$(tern "$1" status) && grep -qE -- "$2" <<<"$text"; }
peer_has() { local text; text=$(tern "$1" status) && grep -w -- "$2" <<<"$text" | grep -E -- "$3" >/dev/null; }
# routes list: "NODE:STATE:primary|standby:online|offline" for the LAN prefix, one per router.
routes() {
    control routes list --json | py 'import json,sys
for e in json.load(sys.stdin):
    if e["prefix"] == "'$LAN'":
        print("%s:%s:%s:%s" % (e["node"], e["state"], "primary" if e["primary"] else "standby", "online" if e["online"] else "offline"))'
}
route_is() { local list; list=$(routes) && grep -qx "$1" <<<"$list"; }
routes_are() { test "$(routes | LC_ALL=C sort -t: -k1,1 | paste -sd' ')" = "$1"; }
primary() { routes | awk -F: '$3 == "primary" { print $1 }' | sort | paste -sd' '; }
# The router this client sends the LAN to (from its status document).
client_primary() {
    status_json "$1" | py 'import json,sys
print(" ".join(sorted(p["name"] for p in json.load(sys.stdin)["peers"] if "'$LAN'" in p.get("primaryRoutes", []))))'
}
peers() { status_json "$1" | py 'import json,sys; print(" ".join(sorted(p["name"] for p in json.load(sys.stdin)["peers"])))'; }
has_peer() { local list; list=$(peers "$1") && grep -qw "$2" <<<"$list"; }
no_peers() { local list; list=$(peers "$1") && [ -z "$list" ]; }
# Waits (up to 10 s) until TCP to the LAN host connects from namespace $1;
# prints the milliseconds since $2 (epoch ms); a new attempt every 50 ms.
reconnect_ms() { netns_exec "$1" python3 Tests/Integration/lib/reconnect-ms.py "$2" "$HOST" 8000 10 0.05; }
# Waits (up to 10 s) until TCP to the LAN host port 8000 no longer connects
# from namespace $1; prints the milliseconds from $2 to the start of the
# first attempt that failed (each attempt waits 0.5 s).
blocked_ms() {
    netns_exec "$1" python3 - "$2" "$HOST" <<'PY'
import socket, sys, time
start_ms, host = int(sys.argv[1]), sys.argv[2]
deadline = time.time() + 10
while time.time() < deadline:
    began = time.time_ns() // 1000000
    try:
        socket.create_connection((host, 8000), timeout=0.5).close()
        time.sleep(0.02)
    except OSError:
        print(began - start_ms)
        sys.exit(0)
sys.exit(1)
PY
}
# How TCP to HOST:PORT from namespace $1 ends: connected, refused or timeout.
tcp_outcome() {
    netns_exec "$1" python3 -c "
import socket
try:
    socket.create_connection(('$HOST', $2), timeout=1).close(); print('connected')
except ConnectionRefusedError:
    print('refused')
except OSError:
    print('timeout')"
}

# --- Server, users, keys, policy with a tag for routers.
netns_spawn hub "$bin/tern-control" serve --state-dir "$T/control" --listen "$SERVER" --admin-socket "$T/admin.sock"
netns_wait_for 10 control status
control users create alice >/dev/null
control users create bob >/dev/null
cat >"$T/open.hujson" <<POLICY
{
  "tagOwners": {"tag:router": ["alice@"]},
  // routers tagged tag:router need no admin for the LAN
  "autoApprovers": {"routes": {"$LAN": ["tag:router"]}},
}
POLICY
control policy set "$T/open.hujson" >/dev/null
KEY=$(control preauthkeys create --user alice --reusable)
ROUTER_KEY=$(control preauthkeys create --user alice --reusable --tags tag:router)
BOB_KEY=$(control preauthkeys create --user bob --reusable)
check "pre-auth keys made (one tagged tag:router)" grep -q '^tern-auth-' <<<"$ROUTER_KEY"
for n in pi laptop desk ovl bobpc; do start_node $n; done
login() { local n=$1 key=$2; shift 2; tern "$n" up --login-server "http://$SERVER" --auth-key "$key" --hostname "$n" "$@" >/dev/null; }
login pi "$KEY" --advertise-routes "$LAN"
login laptop "$KEY" --accept-routes
login desk "$KEY"
login ovl "$KEY" --accept-routes
login bobpc "$BOB_KEY" --accept-routes

# --- 1. Approval.
check "LAN host has no route to the mesh (only its own network)" sh -c "! ip netns exec $(netns_name lan) ip route get 100.64.0.1"
check "LAN host serves its page on the LAN" netns_wait_for 5 fetch pi direct
check "advertised route is pending" netns_wait_for 3 route_is "pi:pending:standby:online"
check "router status: waiting for approval" status_has pi "^routes: $LAN \(waiting for approval\)$"
check "router status --json: advertisedRoutes, nothing approved yet" test "$(status_json pi | py 'import json,sys; s=json.load(sys.stdin)["self"]; print(s["advertisedRoutes"], s["routes"], s["primaryRoutes"])')" = "['$LAN'] [] []"
check "pending: the laptop has no route to the LAN" no_route laptop
check "pending: the laptop cannot reach the LAN host" blocked laptop pending
control routes approve pi "$LAN" >/dev/null
check "approved: the laptop installs the route within 2 s" netns_wait_for 2 has_route laptop
check "approved: the laptop fetches the LAN host's page through the mesh" netns_wait_for 3 fetch laptop approved
check "routes list: approved, primary, online" route_is "pi:approved:primary:online"
check "router status: primary" status_has pi "^routes: $LAN \(primary\)$"
check "router status --json: routes and primaryRoutes" test "$(status_json pi | py 'import json,sys; s=json.load(sys.stdin)["self"]; print(s["routes"], s["primaryRoutes"])')" = "['$LAN'] ['$LAN']"
check "laptop status: the pi peer line shows its routes" peer_has laptop pi "routes $LAN"
check "laptop status --json: pi's allowedIPs include the LAN" sh -c "ip netns exec $(netns_name laptop) $bin/tern --socket $T/laptop.sock status --json | python3 -c 'import json,sys; p=[p for p in json.load(sys.stdin)[\"peers\"] if p[\"name\"]==\"pi\"][0]; sys.exit(0 if \"$LAN\" in p[\"allowedIPs\"] and p[\"primaryRoutes\"]==[\"$LAN\"] else 1)'"
check "SNAT: the LAN host sees the router's LAN address" test "$(seen_from approved)" = 192.168.10.1

# --- 2. --accept-routes.
check "client without --accept-routes: no route" no_route desk
check "client without --accept-routes: cannot reach the LAN" blocked desk desk
check "client without --accept-routes: status lists the route as not accepted" sh -c "ip netns exec $(netns_name desk) $bin/tern --socket $T/desk.sock status --json | python3 -c 'import json,sys; s=json.load(sys.stdin)[\"skippedRoutes\"]; sys.exit(0 if any(r[\"prefix\"]==\"$LAN\" and r[\"router\"]==\"pi\" and \"not accepted\" in r[\"reason\"] for r in s) else 1)'"
tern laptop up --accept-routes=false >/dev/null
check "laptop --accept-routes=false: route removed within 2 s" netns_wait_for 2 no_route laptop
check "laptop --accept-routes=false: cannot reach the LAN" blocked laptop acceptoff
tern laptop up --accept-routes >/dev/null
check "laptop --accept-routes again: route back within 2 s" netns_wait_for 2 has_route laptop
check "laptop --accept-routes again: reaches the LAN" netns_wait_for 3 fetch laptop accepton

# --- 3. SNAT off.
masquerades() { local table; table=$(netns_exec pi nft list table inet tern) && grep -q masquerade <<<"$table"; }
check "SNAT on: the router masquerades (inet tern)" masquerades
tern pi up --snat-subnet-routes=false >/dev/null
check "SNAT off: no masquerading within 2 s" netns_wait_for 2 eval '! masquerades'
check "SNAT off: the route stays approved" netns_wait_for 3 route_is "pi:approved:primary:online"
check "SNAT off, no route back on the LAN host: the laptop cannot reach it" blocked laptop snatoff
netns_exec lan ip route add 100.64.0.0/10 via 192.168.10.1
check "SNAT off, route back on the LAN host: the laptop fetches the page" netns_wait_for 3 fetch laptop snatoffroute
LAPTOP_IP=$(tern laptop ip -4)
check "SNAT off: the LAN host sees the laptop's mesh address ($LAPTOP_IP)" test "$(seen_from snatoffroute)" = "$LAPTOP_IP"
netns_exec lan ip route del 100.64.0.0/10 via 192.168.10.1
tern pi up --snat-subnet-routes=true >/dev/null
check "SNAT back on: masquerading again" netns_wait_for 2 masquerades
check "SNAT back on: the laptop fetches the page without a route back" netns_wait_for 3 fetch laptop snaton
check "SNAT back on: the LAN host sees the router's address" test "$(seen_from snaton)" = 192.168.10.1

# --- 4. Route sanity.
refused() {   # PREFIX WORDS: tern up refuses it, non-zero, with a sentence containing WORDS
    local out rc
    out=$(tern pi up --advertise-routes "$1" 2>&1); rc=$?
    [ "$rc" != 0 ] && grep -q "$2" <<<"$out"
}
check "refused: 100.64.5.0/24 overlaps the mesh" refused 100.64.5.0/24 "overlaps the mesh's own range 100.64.0.0/10"
check "refused: 0.0.0.0/0 (a default route)" refused 0.0.0.0/0 "is a default route"
check "refused: 128.0.0.0/1 (half the Internet, an exit node in pieces)" refused 128.0.0.0/1 "is shorter than /8"
check "refused: 2000::/3 (the IPv6 Internet)" refused 2000::/3 "is shorter than /32"
check "refused: 192.168.10.1/24 has host bits set" refused 192.168.10.1/24 "host bits set; did you mean 192.168.10.0/24"
check "refused: loopback 127.0.0.0/8" refused 127.0.0.0/8 "loopback"
check "refused: link-local 169.254.10.0/24" refused 169.254.10.0/24 "link-local"
check "refused: multicast 239.1.0.0/16" refused 239.1.0.0/16 "multicast"
check "refused: a list with one bad prefix (10.9.0.0/16,100.100.0.0/16)" refused 10.9.0.0/16,100.100.0.0/16 "overlaps the mesh"
check "after the refusals the router still advertises only the LAN" test "$(status_json pi | py 'import json,sys; print(json.load(sys.stdin)["self"]["advertisedRoutes"])')" = "['$LAN']"
check "overlapping client: does not install the route" no_route ovl
check "overlapping client: health line names the overlap" status_has ovl "^health: route $LAN via pi: overlaps this host's network $LAN on d0$"
check "overlapping client: its own LAN address still answers locally" netns_exec ovl ping -c1 -W1 192.168.10.77

# --- 5. autoApprovers: a tagged router needs no admin.
start_node pi2
login pi2 "$ROUTER_KEY" --advertise-routes "$LAN"
check "tagged router: route auto-approved, standby (pi stays primary)" netns_wait_for 3 route_is "pi2:auto-approved:standby:online"
check "laptop status: pi2 listed as standby" netns_wait_for 2 peer_has laptop pi2 "standby $LAN"
check "pi2 status: standby" status_has pi2 "^routes: $LAN \(standby\)$"
control routes reject pi2 "$LAN" >/dev/null
check "routes reject overrides autoApprovers" netns_wait_for 2 route_is "pi2:rejected:standby:online"
check "rejected: pi2 no longer listed with the route on the laptop" netns_wait_for 2 eval '! peer_has laptop pi2 "$LAN"'
control routes approve pi2 "$LAN" >/dev/null
check "an admin approves it again" netns_wait_for 2 route_is "pi2:approved:standby:online"

# --- 6. High availability.
# Every "primary in routes list/primary in the laptop's map" pair seen over 3 s.
primaries_over_3s() {
    local seen=""
    for _ in $(seq 15); do
        seen="$seen $(primary)/$(client_primary laptop)"
        sleep 0.2
    done
    tr ' ' '\n' <<<"$seen" | sed '/^$/d' | sort -u | paste -sd' '
}
check "HA: exactly one primary (pi)" test "$(primary)" = pi
# A local setting on the primary applies without logging in again, so it keeps the LAN.
tern pi up --accept-routes >/dev/null
check "HA: tern up --accept-routes on the primary keeps it primary (no reconnect)" test "$(primary)" = pi
flips=$(primaries_over_3s)
check "HA: no flapping over 3 s of two healthy routers (seen: $flips)" test "$flips" = "pi/pi"
check "HA: the laptop reaches the LAN through pi" fetch laptop ha
kill -STOP "${NODE_PID[pi]}"
start=$(now_ms)
stop_ms=$(reconnect_ms laptop "$start") || stop_ms=none
echo "      SIGSTOP of the primary to the laptop reaching the LAN again: ${stop_ms} ms"
check "HA: frozen primary (SIGSTOP), clients follow the standby within 5 s (measured $stop_ms ms)" test "${stop_ms/none/99999}" -le 5000
# Frozen, its TCP connection stays open: only the server's silence limit (2 s
# after the last 0.5 s ping) can notice, so the switch is not immediate.
check "HA: the switch came from the silence limit, not at once (measured $stop_ms ms >= 1000)" test "${stop_ms/none/0}" -ge 1000
check "HA: pi2 primary, pi offline" routes_are "pi:approved:standby:offline pi2:approved:primary:online"
check "HA: the laptop fetches the page through pi2" fetch laptop failover
check "HA: the laptop's map names pi2 for the LAN" test "$(client_primary laptop)" = pi2
kill -CONT "${NODE_PID[pi]}"
check "HA: thawed pi comes back online within 10 s" netns_wait_for 10 route_is "pi:approved:standby:online"
flips=$(primaries_over_3s)
check "HA: thawed pi stays standby, no flap back (seen: $flips)" test "$flips" = "pi2/pi2"
check "HA: the laptop still reaches the LAN" fetch laptop thawed
{   # (bash's "Killed" notice for the job is not wanted in the output)
    kill -9 "${NODE_PID[pi2]}"
    start=$(now_ms)
    kill_ms=$(reconnect_ms laptop "$start") || kill_ms=none
    wait "${NODE_PID[pi2]}"
} 2>/dev/null
echo "      kill -9 of the primary to the laptop reaching the LAN again: ${kill_ms} ms"
check "HA: killed primary (-9), clients follow the standby within 5 s (measured $kill_ms ms)" test "${kill_ms/none/99999}" -le 5000
check "HA: pi primary again, pi2 offline" routes_are "pi:approved:primary:online pi2:approved:standby:offline"
check "HA: the laptop fetches the page through pi" fetch laptop killed
start_node pi2
check "HA: restarted pi2 reconnects as standby" netns_wait_for 10 route_is "pi2:approved:standby:online"
check "HA: pi stays primary" test "$(primary)" = pi

# --- 7. ACLs on LAN destinations.
acl_policy() {   # FILE DST
    cat >"$1" <<POLICY
{
  "tagOwners": {"tag:router": ["alice@"]},
  "autoApprovers": {"routes": {"$LAN": ["tag:router"]}},
  "acls": [{"action": "accept", "src": ["alice@"], "dst": ["$2"]}],
}
POLICY
}
acl_policy "$T/web.hujson" "$HOST/32:8000"
acl_policy "$T/discard.hujson" "$HOST/32:9"
check "no ACL yet: bob's node sees pi and uses its route" eval 'has_peer bobpc pi && has_route bobpc'
start=$(now_ms)
control policy set "$T/web.hujson" >/dev/null
netns_wait_for 3 no_peers bobpc
hide_ms=$(($(now_ms) - start))
check "ACL: a node outside the policy loses the routers within 2 s (measured $hide_ms ms)" test "$hide_ms" -le 2000
check "ACL: bob's node has no peers (neither pi nor pi2)" no_peers bobpc
check "ACL: bob's node has no route to the LAN" no_route bobpc
check "ACL: the laptop still sees the routers" test "$(peers laptop | tr ' ' '\n' | grep -c '^pi2\?$')" = 2
check "ACL: the laptop fetches the page (port 8000 allowed)" netns_wait_for 2 fetch laptop aclweb
check "ACL: another LAN port is filtered (times out, not refused)" test "$(tcp_outcome laptop 8001)" = timeout
# An ACK and SYN+ACK scan of that port (raw segments that open nothing):
# the routers drop every one, since no connection exists and no rule allows it.
no_rule_drops() {
    local total=0 n
    for router in pi pi2; do
        n=$(status_json $router | py 'import json,sys; print(json.load(sys.stdin)["filter"]["drops"].get("no-rule", 0))')
        total=$((total + n))
    done
    echo "$total"
}
scan() {   # 40 segments, half ACK, half SYN+ACK, from the laptop to $HOST:8001
    netns_exec laptop python3 -c '
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
for i in range(40):
    flags = 0x10 if i % 2 else 0x12
    s.sendto(struct.pack("!HHIIBBHHH", 40000 + i, 8001, 1, 1, 0x50, flags, 65535, 0, 0), (sys.argv[1], 0))
' "$HOST"
}
before=$(no_rule_drops)
scan
sleep 0.5
scanned=$(( $(no_rule_drops) - before ))
check "ACL: an ACK and SYN+ACK scan of a filtered LAN port is dropped at the router (40 sent, $scanned dropped)" \
    test "$scanned" -ge 40
# Forged "port unreachable" errors about a connection to a filtered port
# the LAN host never had (meant to tear one down): the routers drop every one.
drops_of() {   # REASON: that drop count, summed over both routers
    local total=0 n
    for router in pi pi2; do
        n=$(status_json $router | py "import json,sys; print(json.load(sys.stdin)['filter']['drops'].get('$1', 0))")
        total=$((total + n))
    done
    echo "$total"
}
before=$(drops_of icmp-unrelated)
netns_exec laptop python3 -c '
import socket, struct, sys
host, peer = socket.inet_aton(sys.argv[1]), socket.inet_aton(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
for i in range(20):
    quoted = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0x4000, 64, 6, 0, host, peer) + struct.pack("!HHI", 8001, 50000 + i, 1)
    s.sendto(struct.pack("!BBHI", 3, 3, 0, 0) + quoted, (sys.argv[1], 0))
' "$HOST" "$(tern laptop ip -4)"
sleep 0.5
forged=$(( $(drops_of icmp-unrelated) - before ))
check "ACL: forged ICMP errors about a connection that does not exist are dropped at the router (20 sent, $forged dropped)" \
    test "$forged" -ge 20
check "ACL: the router itself is not reachable from the laptop" sh -c "! ip netns exec $(netns_name laptop) ping -c1 -W1 $(tern pi ip -4)"
start=$(now_ms)
control policy set "$T/discard.hujson" >/dev/null
deny_ms=$(blocked_ms laptop "$start") || deny_ms=none
echo "      policy set (port 9 only) to the laptop's TCP to port 8000 failing: ${deny_ms} ms"
check "ACL: port 9 only, the laptop's TCP to 8000 fails within 2 s (measured $deny_ms ms)" test "${deny_ms/none/99999}" -le 2000
check "ACL: port 9 only, the page stays unreachable" blocked laptop acldiscard
check "ACL: port 9 only, the laptop still has the route" has_route laptop
start=$(now_ms)
control policy set "$T/web.hujson" >/dev/null
allow_ms=$(reconnect_ms laptop "$start") || allow_ms=none
echo "      policy set (port 8000) to the laptop's TCP to port 8000 connecting: ${allow_ms} ms"
check "ACL: port 8000 again, the laptop connects within 2 s (measured $allow_ms ms)" test "${allow_ms/none/99999}" -le 2000
check "ACL: port 8000 again, the page loads" fetch laptop aclweb2

# --- 8. Withdrawal.
control routes reject pi2 "$LAN" >/dev/null
sleep 0.5
check "reject the standby: the laptop keeps the route (pi)" has_route laptop
start=$(now_ms)
control routes reject pi "$LAN" >/dev/null
netns_wait_for 3 no_route laptop
reject_ms=$(($(now_ms) - start))
check "reject the last router: the route leaves the laptop within 2 s (measured $reject_ms ms)" test "$reject_ms" -le 2000
check "rejected: the laptop cannot reach the LAN" blocked laptop rejected
check "rejected: the router shows waiting for approval" netns_wait_for 2 status_has pi "^routes: $LAN \(waiting for approval\)$"
control routes approve pi --all >/dev/null
control routes approve pi2 --all >/dev/null
check "approved again: the route is back" netns_wait_for 2 has_route laptop
check "approved again: one primary" test "$(primary | wc -w)" = 1
first=$(primary); other=pi; [ "$first" = pi ] && other=pi2
kill "${NODE_PID[$first]}"
start=$(now_ms)
term_ms=$(reconnect_ms laptop "$start") || term_ms=none
echo "      SIGTERM of the primary to the laptop reaching the LAN again: ${term_ms} ms"
check "SIGTERM of the primary ($first): $other takes over within 5 s (measured $term_ms ms)" test "${term_ms/none/99999}" -le 5000
netns_wait_for 5 stopped "${NODE_PID[$first]}"
check "SIGTERM: the stopped router removed its routes and inet tern table" \
    sh -c "[ -z \"\$(ip netns exec $(netns_name $first) ip route show table all proto 116)\" ] && ! ip netns exec $(netns_name $first) nft list table inet tern"
control nodes delete "$first" >/dev/null
sleep 0.5
check "nodes delete of the stopped router: the laptop keeps the route through $other" has_route laptop
start=$(now_ms)
control nodes delete "$other" >/dev/null
netns_wait_for 3 no_route laptop
delete_ms=$(($(now_ms) - start))
check "nodes delete of the last router: the route leaves the laptop within 2 s (measured $delete_ms ms)" test "$delete_ms" -le 2000
check "deleted: no routes listed" test -z "$(routes)"

# --- 9. Cleanup on SIGTERM.
for n in pi pi2 laptop desk ovl bobpc; do kill "${NODE_PID[$n]}" 2>/dev/null; done
for n in pi pi2 laptop desk ovl bobpc; do netns_wait_for 5 stopped "${NODE_PID[$n]}"; done
leftovers=""
for n in hub pi pi2 laptop desk ovl bobpc lan; do
    [ -z "$(netns_exec $n ip route show table all proto 116)" ] || leftovers="$leftovers $n:routes"
    netns_exec $n nft list table inet tern >/dev/null 2>&1 && leftovers="$leftovers $n:inet-tern"
done
check "SIGTERM of every ternd: no proto 116 route, no inet tern table left${leftovers:+ (left:$leftovers)}" test -z "$leftovers"

checks_summary
