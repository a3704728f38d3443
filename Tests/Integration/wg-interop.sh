#!/bin/bash
# Interoperability of `ternd --wg` with Debian's wireguard-go and wireguard-tools,
# in two network namespaces joined by a veth pair (root).
#
#   Tests/Integration/wg-interop.sh [TERND]       (default build/amd64/ternd)
#
# Checks, each printed as "ok"/"FAIL":
#   - `wg setconf`/`wg set` configure Tern; a bad `wg set` is refused and changes nothing
#   - ping over IPv4 and IPv6 inside the tunnel, with wireguard-go as initiator,
#     then (sessions cleared on both sides) with Tern as initiator
#   - a 100 MB TCP transfer whose SHA-256 matches on both ends
#   - roaming: wireguard-go's underlay address changes and Tern follows it
#   - a rekey forced on the Tern side (Tern's clock only, sped up 60x)
#   - `wg show` against Tern: peer, endpoint, transfer counters, latest handshake
#   - SIGTERM removes Tern's interface and socket
#   - wg-quick up/down with WG_QUICK_USERSPACE_IMPLEMENTATION=ternd (when the
#     kernel has no WireGuard module, as wg-quick then uses userspace)
# Ends with "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
source Tests/Integration/lib/netns.sh
source Tests/Integration/lib/checks.sh

ternd=$(readlink -f "${1:-build/amd64/ternd}")

T=tern$$; G=wgo$$                      # interface names (the UAPI socket directory is shared)
netns_add t; netns_add g
netns_link t 10.240.0.1/24 g 10.240.0.2/24
netns_address t fd00:240::1/64 veth-g
netns_address g fd00:240::2/64 veth-t

key_t=$(wg genkey); key_g=$(wg genkey)
pub_t=$(echo "$key_t" | wg pubkey); pub_g=$(echo "$key_g" | wg pubkey)
psk=$(wg genpsk)

start_tern() {
    TERN_TEST_TIME_SCALE=${1:-1} netns_spawn t "$ternd" --wg --foreground "$T"
    TERN_PID=$NETNS_LAST_PID
    netns_wait_for 5 test -S "/var/run/wireguard/$T.sock"
}
start_tern
netns_spawn g wireguard-go -f "$G"
netns_wait_for 5 test -S "/var/run/wireguard/$G.sock"

configure_tern() {
    netns_exec t timeout 10 wg setconf "$T" <(printf '[Interface]\nPrivateKey = %s\nListenPort = 51820\n\n[Peer]\nPublicKey = %s\nPresharedKey = %s\nAllowedIPs = 10.250.0.2/32, fd00:250::2/128\n' "$key_t" "$pub_g" "$psk")
    netns_exec t ip addr add 10.250.0.1/24 dev "$T"
    netns_exec t ip addr add fd00:250::1/64 dev "$T" nodad
    netns_exec t ip link set "$T" mtu 1420 up
}
check "wg setconf configures tern" configure_tern
netns_exec g timeout 10 wg set "$G" private-key <(echo "$key_g") listen-port 51820 \
    peer "$pub_t" preshared-key <(echo "$psk") endpoint 10.240.0.1:51820 allowed-ips 10.250.0.1/32,fd00:250::1/128
netns_exec g ip addr add 10.250.0.2/24 dev "$G"
netns_exec g ip addr add fd00:250::2/64 dev "$G" nodad
netns_exec g ip link set "$G" mtu 1420 up

before=$(netns_exec t timeout 10 wg showconf "$T")
check "a bad wg set is refused" bash -c "! ip netns exec $(netns_name t) timeout 10 wg set $T peer $pub_g allowed-ips 10.0.0.0/33"
check "a refused set changes nothing" test "$before" = "$(netns_exec t timeout 10 wg showconf "$T")"

# wireguard-go initiates (Tern has no endpoint for it yet).
check "ping IPv4, wireguard-go initiating" netns_exec g ping -c 3 -i 0.2 -W 2 10.250.0.1
check "ping IPv6 from wireguard-go" netns_exec g ping -c 3 -i 0.2 -W 2 fd00:250::1
check "tern learned wireguard-go's endpoint" bash -c "ip netns exec $(netns_name t) timeout 10 wg show $T endpoints | grep -q 10.240.0.2:51820"

# Clear the sessions on both sides, then Tern initiates.
netns_exec t timeout 10 wg set "$T" peer "$pub_g" remove
netns_exec g timeout 10 wg set "$G" peer "$pub_t" remove
netns_exec t timeout 10 wg set "$T" peer "$pub_g" preshared-key <(echo "$psk") endpoint 10.240.0.2:51820 allowed-ips 10.250.0.2/32,fd00:250::2/128
netns_exec g timeout 10 wg set "$G" peer "$pub_t" preshared-key <(echo "$psk") allowed-ips 10.250.0.1/32,fd00:250::1/128
check "ping IPv4, tern initiating" netns_exec t ping -c 3 -i 0.2 -W 2 10.250.0.2
check "ping IPv6 from tern" netns_exec t ping -c 3 -i 0.2 -W 2 fd00:250::2

# 100 MB over TCP, checksummed on both ends.
transfer() {
    local received="$NETNS_TEMP/received.sha"
    netns_spawn g timeout 60 python3 -c '
import hashlib, socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.250.0.2", 5555)); s.listen(1); c, _ = s.accept(); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(1 << 16)
    if not b: break
    h.update(b); n += len(b)
open("'"$received"'", "w").write("%d %s" % (n, h.hexdigest()))'
    local server=$NETNS_LAST_PID
    netns_wait_for 5 netns_exec g ss -ltn sport = :5555 || return 1
    local sent
    sent=$(netns_exec t timeout 60 python3 -c '
import hashlib, random, socket
r = random.Random(7); h = hashlib.sha256(); s = socket.create_connection(("10.250.0.2", 5555)); n = 0
while n < 100 * 1000 * 1000:
    b = r.randbytes(1 << 16); s.sendall(b); h.update(b); n += len(b)
s.close(); print("%d %s" % (n, h.hexdigest()))')
    wait "$server" 2>/dev/null
    for _ in $(seq 50); do [ -s "$received" ] && break; sleep 0.1; done
    [ -n "$sent" ] && [ "$sent" = "$(cat "$received")" ]
}
check "100 MB TCP transfer, SHA-256 matches" transfer

# Any MTU: raised under the running daemons (`ip link set wg1 mtu 34736`);
# tern's device still pads for 1420, so a packet longer than that must be
# sealed whole, never cut.
netns_exec t ip link set "$T" mtu 34736
netns_exec g ip link set "$G" mtu 34736
check "MTU 34736 on both ends: 100 MB TCP transfer, SHA-256 matches" transfer
netns_exec t ip link set "$T" mtu 1420
netns_exec g ip link set "$G" mtu 1420

# Roaming: wireguard-go moves to a new underlay address.
netns_exec g ip addr del 10.240.0.2/24 dev veth-t
netns_exec g ip addr add 10.240.0.3/24 dev veth-t
# wireguard-go keeps sending from its cached old source address until its
# handshake timers clear it (up to about 5 s): wait for that.
check "ping after wireguard-go's address changed" netns_wait_for 20 netns_exec g ping -c 1 -W 1 10.250.0.1
check "tern follows the new endpoint" bash -c "ip netns exec $(netns_name t) timeout 10 wg show $T endpoints | grep -q 10.240.0.3:51820"

# wg show against Tern.
show=$(netns_exec t timeout 10 wg show "$T")
check "wg show: peer" grep -q "peer: $pub_g" <<< "$show"
check "wg show: endpoint" grep -q "endpoint: 10.240.0.3:51820" <<< "$show"
check "wg show: transfer" grep -Eq "transfer: .* received, .* sent" <<< "$show"
check "wg show: latest handshake" grep -q "latest handshake: " <<< "$show"
check "wg show dump: tx counter above 100 MB" bash -c "ip netns exec $(netns_name t) timeout 10 wg show $T dump | awk 'NR == 2 && \$7 > 100000000 { ok = 1 } END { exit !ok }'"

# A rekey forced on Tern's side: restart Tern with its clock 60x faster, so its
# 120-second rekey comes after 2 s of traffic while wireguard-go runs normally.
conf=$(netns_exec t timeout 10 wg showconf "$T")
kill "$TERN_PID"; wait "$TERN_PID" 2>/dev/null
check "SIGTERM removes tern's interface" bash -c "! ip netns exec $(netns_name t) ip link show $T"
check "SIGTERM removes tern's socket" test ! -e "/var/run/wireguard/$T.sock"
start_tern 60
netns_exec t timeout 10 wg setconf "$T" <(echo "$conf")
netns_exec t ip addr add 10.250.0.1/24 dev "$T"
netns_exec t ip link set "$T" mtu 1420 up
netns_exec t ping -c 2 -i 0.2 -W 2 10.250.0.2 >/dev/null
first=$(netns_exec g timeout 10 wg show "$G" latest-handshakes | awk '{ print $2 }')
check "traffic across a tern-side rekey" netns_exec t ping -c 25 -i 0.2 -W 2 10.250.0.2
second=$(netns_exec g timeout 10 wg show "$G" latest-handshakes | awk '{ print $2 }')
check "tern rekeyed (wireguard-go saw a new handshake)" test "$second" -gt "$first"

# wg-quick drives ternd as it would wireguard-go: `ternd IFACE` goes to the
# background once ready; `wg-quick down` deletes the link and ternd exits.
if [ ! -e /sys/module/wireguard ]; then
    Q=tq$$
    conf="$NETNS_TEMP/$Q.conf"
    printf '[Interface]\nPrivateKey = %s\nAddress = 10.251.0.1/24\nListenPort = 51821\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.251.0.2/32\nEndpoint = 10.240.0.3:51821\n' \
        "$(wg genkey)" "$pub_g" > "$conf"
    check "wg-quick up with ternd" netns_exec t env WG_QUICK_USERSPACE_IMPLEMENTATION="$ternd" timeout 20 wg-quick up "$conf"
    # Track the daemon wg-quick started (by PID, for cleanup if a check fails).
    quick_pid=$(netns_exec t ss -xlpn | awk -v p="/var/run/wireguard/$Q.sock" '$5 == p { match($0, /pid=[0-9]+/); print substr($0, RSTART + 4, RLENGTH - 4) }')
    [ -n "$quick_pid" ] && NETNS_PIDS+=("$quick_pid")
    check "wg-quick: wg show works" netns_exec t timeout 10 wg show "$Q" listen-port
    check "wg-quick: address assigned" bash -c "ip netns exec $(netns_name t) ip -o addr show dev $Q | grep -q 10.251.0.1/24"
    check "wg-quick down" netns_exec t timeout 20 wg-quick down "$conf"
    check "wg-quick down: ternd exited" bash -c "[ -n '$quick_pid' ] && for i in \$(seq 50); do kill -0 $quick_pid 2>/dev/null || exit 0; sleep 0.1; done; exit 1"
    check "wg-quick down: socket removed" test ! -e "/var/run/wireguard/$Q.sock"
fi

checks_summary
