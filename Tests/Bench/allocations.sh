#!/bin/bash
# Heap allocations per packet of `ternd --wg` in steady state: two Tern
# interfaces in namespaces, each daemon run with an LD_PRELOAD allocation
# counter (malloc_count.c); the counters are read after the handshake and
# again after an iperf3 run, and the difference is divided by the packets
# that crossed.
#
#   Tests/Bench/allocations.sh [SECONDS]        (root; needs build/amd64/ternd)
set -euo pipefail
cd "$(dirname "$0")/../.."
source Tests/Integration/lib/netns.sh

seconds=${1:-5}
ternd=$(readlink -f "${TERND:-build/amd64/ternd}")
counter="$NETNS_TEMP/malloc_count.so"
cc -O2 -shared -fPIC -o "$counter" Tests/Bench/malloc_count.c -ldl

netns_add l; netns_add r
netns_link l 10.240.0.1/24 r 10.240.0.2/24
kl=$(wg genkey); kr=$(wg genkey)
for side in l r; do
    MALLOC_COUNT_FILE="$NETNS_TEMP/count-$side" LD_PRELOAD="$counter" netns_spawn "$side" "$ternd" --wg -f "a$side$$"
    eval "pid_$side=$NETNS_LAST_PID"
    netns_wait_for 5 test -S "/var/run/wireguard/a$side$$.sock"
done
netns_exec l wg set "al$$" private-key <(echo "$kl") listen-port 51820 \
    peer "$(echo "$kr" | wg pubkey)" allowed-ips 10.250.0.2/32 endpoint 10.240.0.2:51820
netns_exec r wg set "ar$$" private-key <(echo "$kr") listen-port 51820 peer "$(echo "$kl" | wg pubkey)" allowed-ips 10.250.0.1/32
netns_exec l ip addr add 10.250.0.1/24 dev "al$$"; netns_exec l ip link set "al$$" mtu 1420 up
netns_exec r ip addr add 10.250.0.2/24 dev "ar$$"; netns_exec r ip link set "ar$$" mtu 1420 up
netns_exec l ping -c 3 -i 0.2 -W 2 10.250.0.2 >/dev/null

count() {   # the allocation count of daemon $1 (l or r) so far
    local pid_var="pid_$1"
    rm -f "$NETNS_TEMP/count-$1"
    kill -USR2 "${!pid_var}"
    netns_wait_for 5 test -s "$NETNS_TEMP/count-$1"
    cat "$NETNS_TEMP/count-$1"
}
netns_spawn r iperf3 -s -1
netns_wait_for 5 netns_exec r ss -ltn sport = :5201
before_l=$(count l); before_r=$(count r)
bytes=$(netns_exec l iperf3 -c 10.250.0.2 -t "$seconds" -J | python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bytes"])')
after_l=$(count l); after_r=$(count r)
packets=$((bytes / 1368))      # TCP payload per 1420-byte packet, lower bound on packets
# The counter works: start-up (buffers, peers, the handshake) allocated.
[ "$before_l" -gt 0 ] && [ "$before_r" -gt 0 ] || { echo "allocations: the counter saw nothing" >&2; exit 1; }
echo "allocations before the transfer (start-up, configuration, handshake): sender $before_l, receiver $before_r"
echo "steady state: $((bytes / 1000000)) MB in about $packets packets"
echo "allocations during the transfer: sender $((after_l - before_l)), receiver $((after_r - before_r))"
echo "allocations per packet: sender $(echo "scale=6; ($after_l - $before_l) / $packets" | bc), receiver $(echo "scale=6; ($after_r - $before_r) / $packets" | bc)"
