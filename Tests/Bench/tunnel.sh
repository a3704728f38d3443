#!/bin/bash
# Tunnel benchmark: two namespaces joined by a veth pair; iperf3 (one TCP
# stream, 10 s) and ping across, for:
#   veth         the bare link (the ceiling)
#   go-go        wireguard-go ⇄ wireguard-go
#   tern-tern    ternd --wg ⇄ ternd --wg
#   tern-go      ternd --wg ⇄ wireguard-go
# Prints Gbit/s, daemon CPU seconds per GB moved, each daemon's peak RSS
# (VmHWM) and idle RSS, and the RTT the tunnel adds, side by side, with
# ratios against wireguard-go measured in the same run.
#
#   Tests/Bench/tunnel.sh [SECONDS] [PAIRS...]      (root; needs build/amd64/ternd)
set -euo pipefail
cd "$(dirname "$0")/../.."
source Tests/Integration/lib/netns.sh

seconds=${1:-10}
shift || true
pairs=${*:-veth go-go tern-tern tern-go}
ternd=${TERND:-build/amd64/ternd}
mtu=1420

# Starts a WireGuard daemon of KIND (go|tern) for IFACE in namespace NS.
start_daemon() {
    local kind=$1 ns=$2 iface=$3
    case "$kind" in
        go) netns_spawn "$ns" wireguard-go -f "$iface" ;;
        tern) netns_spawn "$ns" "$ternd" --wg "$iface" --foreground ;;
    esac
    DAEMON_PID=$NETNS_LAST_PID
    netns_wait_for 5 test -S "/var/run/wireguard/$iface.sock" || { echo "bench: $kind did not start" >&2; exit 1; }
}

# CPU seconds (user + system) a process has used so far.
cpu_seconds() {
    awk '{ printf "%.3f", ($14 + $15) / 100 }' "/proc/$1/stat"
}

rss_kb() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }

measure() {
    local name=$1 left=$2 right=$3
    netns_add l; netns_add r
    netns_link l 10.240.0.1/24 r 10.240.0.2/24
    local target=10.240.0.2 pids=()
    if [ "$name" != veth ]; then
        local kl kr
        kl=$(wg genkey); kr=$(wg genkey)
        start_daemon "$left" l "bl$$"; pids+=("$DAEMON_PID")
        start_daemon "$right" r "br$$"; pids+=("$DAEMON_PID")
        netns_exec l wg set "bl$$" private-key <(echo "$kl") listen-port 51820 \
            peer "$(echo "$kr" | wg pubkey)" allowed-ips 10.250.0.2/32 endpoint 10.240.0.2:51820
        netns_exec r wg set "br$$" private-key <(echo "$kr") listen-port 51820 \
            peer "$(echo "$kl" | wg pubkey)" allowed-ips 10.250.0.1/32
        netns_exec l ip addr add 10.250.0.1/24 dev "bl$$"
        netns_exec r ip addr add 10.250.0.2/24 dev "br$$"
        netns_exec l ip link set "bl$$" mtu $mtu up
        netns_exec r ip link set "br$$" mtu $mtu up
        target=10.250.0.2
    fi
    netns_exec l ping -c 3 -i 0.2 -W 2 "$target" >/dev/null
    local idle=""
    for pid in "${pids[@]}"; do idle="$idle $(rss_kb "$pid" VmRSS)"; done
    local rtt
    rtt=$(netns_exec l ping -c 20 -i 0.05 -q "$target" | awk -F/ '/^rtt/ { print $5 }')

    netns_spawn r iperf3 -s -1
    netns_wait_for 5 netns_exec r ss -ltn sport = :5201
    local cpu_before=0 cpu_after=0
    for pid in "${pids[@]}"; do cpu_before=$(echo "$cpu_before + $(cpu_seconds "$pid")" | bc); done
    local json
    json=$(netns_exec l iperf3 -c "$target" -t "$seconds" -J)
    for pid in "${pids[@]}"; do cpu_after=$(echo "$cpu_after + $(cpu_seconds "$pid")" | bc); done
    local bits bytes
    bits=$(echo "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])')
    bytes=$(echo "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bytes"])')
    local peak=""
    for pid in "${pids[@]}"; do peak="$peak $(rss_kb "$pid" VmHWM)"; done
    local gbits cpu_per_gb
    gbits=$(echo "scale=3; $bits / 1000000000" | bc)
    cpu_per_gb=$(echo "scale=2; ($cpu_after - $cpu_before) * 1000000000 / $bytes" | bc)
    RESULTS+=("$name|$gbits|$cpu_per_gb|${peak:- -}|${idle:- -}|$rtt")
    netns_cleanup
    NETNS_TEMP=$(mktemp -d /tmp/tern-netns.XXXXXX)
}

RESULTS=()
for pair in $pairs; do
    case "$pair" in
        veth) measure veth - - ;;
        go-go) measure go-go go go ;;
        tern-tern) measure tern-tern tern tern ;;
        tern-go) measure tern-go tern go ;;
        *) echo "bench: unknown pair $pair" >&2; exit 2 ;;
    esac
done

printf '%-10s %10s %8s %12s %20s %20s %10s\n' pair Gbit/s ratio "CPU s/GB" "peak RSS kB" "idle RSS kB" "RTT ms"
baseline=""
for row in "${RESULTS[@]}"; do
    IFS='|' read -r name gbits cpu peak idle rtt <<< "$row"
    [ "$name" = go-go ] && baseline=$gbits
done
for row in "${RESULTS[@]}"; do
    IFS='|' read -r name gbits cpu peak idle rtt <<< "$row"
    ratio=-
    [ -n "$baseline" ] && ratio=$(echo "scale=2; $gbits / $baseline" | bc)
    printf '%-10s %10s %8s %12s %20s %20s %10s\n' "$name" "$gbits" "$ratio" "$cpu" "$peak" "$idle" "$rtt"
done
