#!/bin/bash
# Subnet router benchmark (root; network namespaces only): a laptop reaches a
# LAN host through a Tern subnet router, against the same path without Tern in
# the same run; then the time a client needs to follow the standby router when
# the primary freezes.
#
#   Tests/Bench/subnet-router.sh [BINDIR] [SECONDS]   (default build/amd64, 10)
#
# Topology: internet (a plain router) with control (tern-control), pi, pi2
# and laptop hanging off it; lan, a bridge holding the host 192.168.10.5
# (no route to the mesh), joined to pi (192.168.10.1) and pi2 (192.168.10.2).
#
# Throughput: one iperf3 TCP stream, SECONDS long, laptop -> 192.168.10.5:
#   plain  laptop -> internet -> pi -> lan by IP forwarding, no tunnel: a /32
#          host route on the laptop via internet, internet routes the LAN via
#          the pi's underlay address, and the pi masquerades into the LAN (as
#          Tern's SNAT does), so the host needs no route back
#   tern   laptop -> ternd -> UDP over the same links -> pi's ternd -> lan
#          (route approved, SNAT on: the product's defaults)
# For each: Gbit/s, the ratio Tern/plain, iperf3's TCP retransmissions, CPU
# of the pi's and the laptop's ternd (% of one core: utime+stime from
# /proc/PID/stat over the run) and the pi ternd's RSS (VmRSS after the run,
# VmHWM peak) from /proc/PID/status.
#
# Failover: pi2 advertises the same LAN and is approved (standby); the
# primary's ternd is frozen with SIGSTOP (its PID from netns_spawn) and the
# laptop tries a new TCP connection to the LAN host every 100 ms; the time
# from the freeze to the first connection is printed. Then SIGCONT.
#
# Bounded: every wait has a timeout (the whole run is about 2 x SECONDS + 30 s);
# everything it makes (namespaces, processes by PID, files) is removed on exit.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

bin=$(readlink -f "${1:-build/amd64}")
seconds=${2:-10}
LAN=192.168.10.0/24
HOST=192.168.10.5
SERVER=10.1.0.2:8080

fail() { echo "bench: $*" >&2; exit 1; }
for tool in ip nft iperf3 python3 curl bc timeout; do
    command -v "$tool" >/dev/null || fail "$tool is not installed (make deps installs it)"
done
[ "$(id -u)" = 0 ] || fail "run as root: the bench creates network namespaces"
for program in ternd tern tern-control; do
    [ -x "$bin/$program" ] || fail "$bin/$program not found (cross/build.sh amd64, or pass the binary directory)"
done
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || fail "SECONDS must be a whole number of seconds, got '$seconds'"

source Tests/Integration/lib/netns.sh
T=$NETNS_TEMP

# --- Topology.
netns_add internet
netns_router internet
i=0
for n in control pi pi2 laptop; do
    i=$((i + 1))
    netns_add $n
    netns_link internet 10.$i.0.1/24 $n 10.$i.0.2/24
    netns_exec $n ip route add default via 10.$i.0.1
done
PI_UNDERLAY=10.2.0.2 LAPTOP_GATEWAY=10.4.0.1
netns_add lan
netns_link pi 192.168.10.1/24 lan -
netns_link pi2 192.168.10.2/24 lan -
netns_exec lan ip link add br0 type bridge
netns_exec lan ip link set veth-pi master br0
netns_exec lan ip link set veth-pi2 master br0
netns_exec lan ip link set br0 up
netns_address lan "$HOST/24" br0
for n in pi pi2; do netns_router $n; done
# A TCP service on the LAN host for the reachability probes.
mkdir -p "$T/www"
echo "LAN host" >"$T/www/index.html"
netns_spawn lan python3 -m http.server --bind "$HOST" --directory "$T/www" 80

# --- Tern: server, user, key, nodes.
control() { netns_exec control timeout 10 "$bin/tern-control" --admin-socket "$T/admin.sock" "$@"; }
tern() { local n=$1; shift; netns_exec "$n" timeout 10 "$bin/tern" --socket "$T/$n.sock" "$@"; }
netns_spawn control "$bin/tern-control" serve --state-dir "$T/control" --listen "$SERVER" --admin-socket "$T/admin.sock"
netns_wait_for 10 control status || fail "tern-control did not start"
control users create bench >/dev/null || fail "users create failed"
KEY=$(control preauthkeys create --user bench --reusable) || fail "preauthkeys create failed"
declare -A NODE_PID
start_node() {
    local n=$1
    netns_spawn "$n" "$bin/ternd" --state-dir "$T/$n" --socket "$T/$n.sock" --tun "tb$$$n" --port 41641
    NODE_PID[$n]=$NETNS_LAST_PID
    netns_wait_for 10 test -S "$T/$n.sock" || { tail -n 5 "$NETNS_LAST_LOG" >&2; fail "ternd on $n did not start"; }
    # ip netns exec execs the program: the PID is ternd's own (CPU, RSS and SIGSTOP go to it).
    [ "$(cat "/proc/$NETNS_LAST_PID/comm" 2>/dev/null)" = ternd ] || fail "PID $NETNS_LAST_PID is not ternd"
}
login() {
    local n=$1
    shift
    tern "$n" up --login-server "http://$SERVER" --auth-key "$KEY" --hostname "$n" "$@" >/dev/null || fail "tern up on $n failed"
}
# routes list: "NODE:STATE:primary|standby:online|offline" for the LAN, one line per router.
routes() {
    control routes list --json | python3 -c 'import json,sys
for e in json.load(sys.stdin):
    if e["prefix"] == "'$LAN'":
        print("%s:%s:%s:%s" % (e["node"], e["state"], "primary" if e["primary"] else "standby", "online" if e["online"] else "offline"))'
}
route_is() { routes | grep -qx "$1"; }
primary() { routes | awk -F: '$3 == "primary" { print $1 }'; }
fetch() { netns_exec laptop curl -sf --max-time "${1:-2}" -o /dev/null "http://$HOST/"; }
route_dev() { netns_exec laptop ip route get "$HOST" | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1) }'; }

start_node pi
start_node laptop
login pi --advertise-routes "$LAN"
login laptop --accept-routes
netns_wait_for 5 route_is "pi:pending:standby:online" || fail "the pi's route is not pending"
control routes approve pi "$LAN" >/dev/null || fail "routes approve failed"
netns_wait_for 5 route_is "pi:approved:primary:online" || fail "the pi's route is not approved and primary"
netns_wait_for 10 fetch 1 || fail "the laptop cannot reach the LAN host through the mesh"
[ "$(route_dev)" = "tb$$laptop" ] || fail "the laptop does not route $HOST into Tern (dev $(route_dev))"

# --- The plain path's switches: on, the laptop reaches the LAN host by forwarding only.
plain_on() {
    netns_exec internet ip route add "$LAN" via "$PI_UNDERLAY"
    netns_exec pi nft -f - <<NFT
table ip bench_plain {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        iifname "veth-internet" oifname "veth-lan" masquerade
    }
}
NFT
    netns_exec laptop ip route add "$HOST/32" via "$LAPTOP_GATEWAY"
}
plain_off() {
    netns_exec laptop ip route del "$HOST/32" via "$LAPTOP_GATEWAY"
    netns_exec pi nft delete table ip bench_plain
    netns_exec internet ip route del "$LAN" via "$PI_UNDERLAY"
}

# --- Measurement.
ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kb() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }
now_ns() { date +%s%N; }
stopped() { ! kill -0 "$1" 2>/dev/null; }
iperf3_listening() { netns_exec lan ss -ltnH "sport = :5201" | grep -q .; }

# Measures one path: iperf3 laptop -> HOST; appends a row to RESULTS.
measure() {
    local name=$1 pi=${NODE_PID[pi]} laptop=${NODE_PID[laptop]}
    netns_spawn lan iperf3 -s -1 -B "$HOST"
    local server=$NETNS_LAST_PID
    netns_wait_for 5 iperf3_listening || fail "iperf3 server did not start"
    local pi_before laptop_before start end json
    pi_before=$(cpu_ticks "$pi"); laptop_before=$(cpu_ticks "$laptop"); start=$(now_ns)
    json=$(netns_exec laptop timeout $((seconds + 20)) iperf3 -c "$HOST" -t "$seconds" -J) \
        || fail "iperf3 over the $name path failed: $(python3 -c 'import json,sys; print(json.load(sys.stdin).get("error", "no result"))' <<<"$json" 2>/dev/null)"
    end=$(now_ns)
    local pi_cpu laptop_cpu
    pi_cpu=$(echo "scale=3; ($(cpu_ticks "$pi") - $pi_before) * 100 * 1000000000 / $ticks / ($end - $start)" | bc)
    laptop_cpu=$(echo "scale=3; ($(cpu_ticks "$laptop") - $laptop_before) * 100 * 1000000000 / $ticks / ($end - $start)" | bc)
    local bits retransmits
    read -r bits retransmits < <(python3 -c 'import json,sys
end = json.load(sys.stdin)["end"]
print(end["sum_received"]["bits_per_second"], end["sum_sent"].get("retransmits", "-"))' <<<"$json") \
        || fail "no iperf3 result for the $name path"
    [ -n "$bits" ] || fail "no iperf3 result for the $name path"
    netns_wait_for 5 stopped "$server" || kill "$server" 2>/dev/null
    RESULTS+=("$name|$(echo "scale=6; $bits / 1000000000" | bc)|$retransmits|$pi_cpu|$(rss_kb "$pi" VmRSS)|$(rss_kb "$pi" VmHWM)|$laptop_cpu")
}

RESULTS=()
echo "subnet router bench: $bin, iperf3 TCP ${seconds} s per path, laptop -> pi -> $HOST ($(nproc) CPUs)"
plain_on
[ "$(route_dev)" = veth-internet ] || fail "the plain path does not leave the laptop through veth-internet"
netns_wait_for 5 fetch 1 || fail "the laptop cannot reach the LAN host over the plain path"
measure plain
plain_off
[ "$(route_dev)" = "tb$$laptop" ] || fail "the laptop is not back on the Tern route"
netns_wait_for 5 fetch 1 || fail "the laptop cannot reach the LAN host through the mesh"
measure tern

printf '\n%-6s %8s %10s %8s %13s %10s %11s %17s\n' path Gbit/s Tern/plain retrans "pi ternd CPU" "pi RSS kB" "pi peak kB" "laptop ternd CPU"
plain_gbits=
for row in "${RESULTS[@]}"; do
    IFS='|' read -r name gbits _ <<<"$row"
    [ "$name" = plain ] && plain_gbits=$gbits
done
for row in "${RESULTS[@]}"; do
    IFS='|' read -r name gbits retransmits pi_cpu rss hwm laptop_cpu <<<"$row"
    ratio=$(echo "scale=6; $gbits / $plain_gbits" | bc)
    LC_ALL=C printf '%-6s %8.3f %10.2f %8s %12.1f%% %10s %11s %16.1f%%\n' "$name" "$gbits" "$ratio" "$retransmits" "$pi_cpu" "$rss" "$hwm" "$laptop_cpu"
done

# --- Failover.
start_node pi2
login pi2 --advertise-routes "$LAN"
netns_wait_for 5 route_is "pi2:pending:standby:online" || fail "pi2's route is not pending"
control routes approve pi2 "$LAN" >/dev/null || fail "routes approve for pi2 failed"
netns_wait_for 5 route_is "pi2:approved:standby:online" || fail "pi2 is not an approved standby"
first=$(primary)
case "$first" in
    pi) standby=pi2 ;;
    pi2) standby=pi ;;
    *) fail "routes list names '$first' as the primary, expected one of pi and pi2" ;;
esac
fetch 2 || fail "the laptop cannot reach the LAN host before the failover"

# Waits (up to 15 s) for a TCP connection from the laptop to HOST:80, a new
# attempt every 100 ms; prints the milliseconds since $1 (epoch ms).
reconnect_ms() { netns_exec laptop python3 Tests/Integration/lib/reconnect-ms.py "$1" "$HOST" 80 15 0.1; }
frozen=${NODE_PID[$first]}
start=$(($(now_ns) / 1000000))
kill -STOP "$frozen"
failover_ms=$(reconnect_ms "$start") || failover_ms=
after=$(primary)
kill -CONT "$frozen"
[ -n "$failover_ms" ] || fail "failover: the laptop did not reach the LAN host within 15 s of freezing the primary"
echo
echo "failover: primary ($first) frozen with SIGSTOP -> laptop reaches $HOST again via ${after:-?}: ${failover_ms} ms"
[ "$after" = "$standby" ] || fail "after the freeze routes list names '${after:-nobody}' as primary, not $standby"
netns_wait_for 10 route_is "$first:approved:standby:online" || fail "the thawed $first did not come back as standby within 10 s"
fetch 2 || fail "the laptop cannot reach the LAN host after the thaw"
