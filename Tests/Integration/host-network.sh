#!/bin/bash
# ternd configuring the host over netlink: the mesh interface, routes into it,
# and a subnet router's forwarding and nftables table (root, namespaces).
#
#   Tests/Integration/host-network.sh [TERND]       (default build/amd64/ternd)
#
# Checks, each printed as "ok"/"FAIL":
#   - after start, `ip -j addr`, `ip -j route` and `nft list table inet tern`
#     show exactly what the command line asked for, and forwarding is on
#   - SIGTERM removes everything: interface, routes, table
#   - after `kill -9` the table is left behind; a restart replaces it (never
#     duplicates it) and the host looks exactly as after a clean start
#   - --snat-subnet-routes=false: forward rules only, no masquerade
#   - traffic from a mesh-side namespace reaches a LAN host with no route back
#     only while ternd's table is in place
#   - bad input: an invalid prefix, host bits set, a bad MTU, no
#     CAP_NET_ADMIN: a clear error, exit status non-zero, nothing left behind
# Ends with "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
source Tests/Integration/lib/netns.sh
source Tests/Integration/lib/checks.sh

ternd=$(readlink -f "${1:-build/amd64/ternd}")

#   mesh (ternd tm: 100.64.0.9) --veth 10.9.0.0/24-- router (ternd tr: 100.64.0.1, subnet router)
#     --- lan 192.168.77.10/24, fd00:77::10/64 (no route back to the mesh)
netns_add router; netns_add lan; netns_add mesh
netns_link router 192.168.77.1/24 lan 192.168.77.10/24
netns_address router fd00:77::1/64 veth-lan
netns_address lan fd00:77::10/64 veth-router
netns_link router 10.9.0.1/24 mesh 10.9.0.2/24

I=tr$$; M=tm$$                # interface names (the UAPI socket directory is shared)
key_r=$(wg genkey); key_m=$(wg genkey)
pub_r=$(echo "$key_r" | wg pubkey); pub_m=$(echo "$key_m" | wg pubkey)
net_args=(--address 100.64.0.1/32,fd7a:115c:a1e0::1/128 --route 100.64.0.0/10 --route fd7a:115c:a1e0::/48
          --advertise-routes 192.168.77.0/24,fd00:77::/64 --mtu 1380)

# The mesh side: a second ternd that routes the LAN prefixes into its tunnel.
netns_spawn mesh "$ternd" --wg --foreground --address 100.64.0.9/32,fd7a:115c:a1e0::9/128 \
    --route 100.64.0.0/10,fd7a:115c:a1e0::/48,192.168.77.0/24,fd00:77::/64 "$M"
netns_wait_for 5 test -S "/var/run/wireguard/$M.sock"
netns_exec mesh wg set "$M" listen-port 51821 private-key <(echo "$key_m") peer "$pub_r" endpoint 10.9.0.1:51820 \
    allowed-ips 100.64.0.0/10,fd7a:115c:a1e0::/48,192.168.77.0/24,fd00:77::/64 persistent-keepalive 1

start() {
    netns_spawn router "$ternd" --wg --foreground "${net_args[@]}" "$@" "$I"
    PID=$NETNS_LAST_PID
    # `wg show` rather than `test -S`: after kill -9 the old socket file is still there.
    netns_wait_for 5 netns_exec router wg show "$I" && netns_wait_for 5 table_exists
    netns_exec router wg set "$I" listen-port 51820 private-key <(echo "$key_r") \
        peer "$pub_m" allowed-ips 100.64.0.9/32,fd7a:115c:a1e0::9/128 endpoint 10.9.0.2:51821 persistent-keepalive 1
}
table_exists() { netns_exec router nft list table inet tern; }
stopped() { ! kill -0 "$1" 2>/dev/null; }
reaches_lan() { netns_exec mesh ping -c1 -W1 "$1"; }

# What the host looks like, indices and handles left out: addresses of the
# interface, Tern's routes, the table (rules in order), forwarding.
snapshot() {
    {
        netns_exec router ip -j addr show dev "$I" 2>/dev/null
        echo
        netns_exec router ip -j route show table all proto 116
        echo
        netns_exec router nft -j list table inet tern 2>/dev/null
        echo
        netns_exec router sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding
    } | python3 -c '
import json, sys
docs = sys.stdin.read().split("\n")
out = []
for doc in docs:
    doc = doc.strip()
    if not doc:
        continue
    try:
        value = json.loads(doc)
    except ValueError:
        out.append(doc); continue
    def scrub(v):
        if isinstance(v, dict) and "addr_info" in v:
            # The kernel adds a random IPv6 link-local address itself; Tern owns the global ones.
            v = dict(v, addr_info=[a for a in v["addr_info"] if a.get("scope") != "link"])
        if isinstance(v, dict):
            return {k: scrub(x) for k, x in v.items() if k not in ("handle", "ifindex", "valid_life_time", "preferred_life_time")}
        if isinstance(v, list):
            return [scrub(x) for x in v]
        return v
    out.append(json.dumps(scrub(value), sort_keys=True))
print("\n".join(out))'
}

addresses() {
    netns_exec router ip -j addr show dev "$I" | python3 -c '
import json, sys
link = json.load(sys.stdin)[0]
print(link["mtu"], "UP" if "UP" in link["flags"] else "DOWN",
      " ".join(sorted(a["local"] + "/" + str(a["prefixlen"]) for a in link["addr_info"] if a["scope"] == "global")))'
}
routes() {
    netns_exec router ip -j route show table all proto 116 | python3 -c '
import json, sys
print(" ".join(sorted(r["dst"] + " dev " + r["dev"] for r in json.load(sys.stdin))))'
}
table_text() { netns_exec router nft list table inet tern | sed 's/ *# handle [0-9]*//'; }

expected_table="table inet tern {
	chain forward {
		type filter hook forward priority filter - 10; policy accept;
		iifname \"$I\" ip daddr 192.168.77.0/24 accept
		iifname \"$I\" ip6 daddr fd00:77::/64 accept
		oifname \"$I\" ct state established,related accept
	}

	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		iifname \"$I\" ip daddr 192.168.77.0/24 masquerade
		iifname \"$I\" ip6 daddr fd00:77::/64 masquerade
	}
}"

# --- Configuration: exactly what was asked.
netns_exec router sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
start
check "ternd starts and configures $I" test -n "$PID"
check "addresses: exactly the two asked, MTU 1380, up" \
    test "$(addresses)" = "1380 UP 100.64.0.1/32 fd7a:115c:a1e0::1/128"
check "routes: exactly the two mesh prefixes, proto 116" \
    test "$(routes)" = "100.64.0.0/10 dev $I fd7a:115c:a1e0::/48 dev $I"
check "nft: table inet tern holds exactly the forward and masquerade rules" \
    test "$(table_text)" = "$expected_table"
check "forwarding turned on for both families" \
    test "$(netns_exec router sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding | tr '\n' ' ')" = "1 1 "
check "the log says forwarding was turned on" grep -q "IPv4 forwarding was off; turned it on" "$NETNS_LAST_LOG"
clean_start=$(snapshot)

# --- SNAT end to end: the LAN host answers only through Tern's table.
check "through the tunnel, a mesh node reaches the LAN host (IPv4)" netns_wait_for 5 reaches_lan 192.168.77.10
check "through the tunnel, a mesh node reaches the LAN host (IPv6)" netns_wait_for 5 reaches_lan fd00:77::10
netns_exec lan timeout 5 python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("192.168.77.10", 7070)); s.listen(1)
c, peer = s.accept(); c.sendall(peer[0].encode()); c.close()' &
server=$!
sleep 0.3
seen=$(netns_exec mesh timeout 5 python3 -c '
import socket
s = socket.create_connection(("192.168.77.10", 7070), timeout=3); print(s.recv(64).decode())' 2>/dev/null)
wait "$server" 2>/dev/null
check "the LAN host sees the router's LAN address (masquerade)" test "$seen" = "192.168.77.1"

# --- Clean stop removes everything.
kill "$PID"
netns_wait_for 5 stopped "$PID"
check "SIGTERM: ternd exits" stopped "$PID"
check "SIGTERM: interface gone" sh -c "! ip netns exec $(netns_name router) ip link show $I"
check "SIGTERM: no proto 116 routes left" test -z "$(routes)"
check "SIGTERM: table inet tern removed" sh -c "! ip netns exec $(netns_name router) nft list table inet tern"

# --- kill -9, restart: the same state as a clean start, nothing duplicated.
start
kill -9 "$PID"; wait "$PID" 2>/dev/null
netns_wait_for 5 stopped "$PID"
check "kill -9 leaves the table behind (what a restart must adopt)" table_exists
start
after_restart=$(snapshot)
check "restart after kill -9: same addresses, routes, table, forwarding as a clean start" \
    test "$after_restart" = "$clean_start"
[ "$after_restart" = "$clean_start" ] || diff <(echo "$clean_start") <(echo "$after_restart") >&2
check "restart after kill -9: one table, rules not duplicated" test "$(table_text)" = "$expected_table"
kill "$PID"; netns_wait_for 5 stopped "$PID"

# --- SNAT off.
start --snat-subnet-routes=false
check "--snat-subnet-routes=false: no postrouting chain" sh -c "! ip netns exec $(netns_name router) nft list chain inet tern postrouting"
check "--snat-subnet-routes=false: forward rules still there" \
    sh -c "ip netns exec $(netns_name router) nft list chain inet tern forward | grep -q 'ip daddr 192.168.77.0/24 accept'"
check "--snat-subnet-routes=false: the tunnel works (the router answers)" netns_wait_for 5 reaches_lan 100.64.0.1
check "--snat-subnet-routes=false: the LAN host cannot answer without a route back" \
    sh -c "! ip netns exec $(netns_name mesh) ping -c1 -W1 192.168.77.10"
netns_exec lan ip route add 100.64.0.0/10 via 192.168.77.1
check "--snat-subnet-routes=false: with a route back it answers" netns_wait_for 5 reaches_lan 192.168.77.10
netns_exec lan ip route del 100.64.0.0/10 via 192.168.77.1
kill "$PID"; netns_wait_for 5 stopped "$PID"

# --- Bad input: a clear error, nothing left behind.
refuses() {   # EXPECTED-TEXT ARGS...: exits non-zero, says EXPECTED-TEXT, leaves nothing
    local expected=$1 output
    shift
    output=$(netns_exec router timeout 10 ${WRAP:-} "$ternd" --wg --foreground "$@" "$I" 2>&1) && return 1
    grep -q -- "$expected" <<<"$output" || { echo "$output" >&2; return 1; }
    ! netns_exec router ip link show "$I" && test -z "$(routes)" && ! table_exists
}
check "invalid prefix refused" refuses "is not a prefix" --route 10.0.0.0/33
check "host bits refused" refuses "did you mean 192.168.77.0/24" --advertise-routes 192.168.77.1/24
check "bad MTU refused" refuses "expected a number from 576" --address 100.64.0.1/32 --mtu 70000
check "missing value refused" sh -c "\"$ternd\" --wg -f $I --route 2>&1 | grep -q -- '--route needs a value'"
# Root without CAP_NET_ADMIN (dropped from the bounding set, so exec cannot gain it).
WRAP="setpriv --bounding-set -net_admin" check "without CAP_NET_ADMIN: a clear error, nothing applied" \
    refuses "not permitted" --address 100.64.0.1/32 --route 100.64.0.0/10 --advertise-routes 192.168.77.0/24
checks_summary
