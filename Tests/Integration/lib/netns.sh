# Network-namespace test harness for Tern's integration tests (bash, root).
#
# Source it, then build a topology with the functions below. Everything is
# recorded as it is made and torn down by `netns_cleanup`, which the harness
# installs as an EXIT trap: namespaces (and with them their veths and
# interfaces), processes started with `netns_spawn` (killed by PID, never by
# name), and temporary files. Names carry a per-run prefix so concurrent runs
# and leftovers from a crashed run never collide.
#
#   source Tests/Integration/lib/netns.sh
#   netns_add a; netns_add b
#   netns_link a 10.0.0.1/24 b 10.0.0.2/24      # veth pair a<->b
#   netns_exec a ping -c1 10.0.0.2
#   netns_spawn a /path/to/daemon args; pid=$NETNS_LAST_PID   # killed on exit
#   netns_wait_for 5 test -S /var/run/wireguard/wg0.sock
#
# Every traffic target in these tests is an address inside a namespace this
# harness created.

NETNS_PREFIX=${NETNS_PREFIX:-tt$$}
NETNS_NAMES=()
NETNS_PIDS=()
NETNS_TEMP=$(mktemp -d /tmp/tern-netns.XXXXXX)

# The full name of namespace NAME for this run.
netns_name() { echo "${NETNS_PREFIX}-$1"; }

# Creates namespace NAME with loopback up.
netns_add() {
    local ns
    ns=$(netns_name "$1")
    ip netns add "$ns"
    NETNS_NAMES+=("$ns")
    ip -n "$ns" link set lo up
}

# Runs a command inside namespace NAME.
netns_exec() {
    local ns
    ns=$(netns_name "$1")
    shift
    ip netns exec "$ns" "$@"
}

# Joins namespaces A and B with a veth pair, giving each end an address
# (CIDR; IPv4 or IPv6; "-" for none). Optional 5th argument: the MTU.
# The ends are named veth-<B> inside A and veth-<A> inside B.
netns_link() {
    local a=$1 addr_a=$2 b=$3 addr_b=$4 mtu=${5:-1500}
    local ns_a ns_b
    ns_a=$(netns_name "$a")
    ns_b=$(netns_name "$b")
    # Created directly inside the namespaces: nothing appears on the host.
    ip link add "veth-$b" netns "$ns_a" type veth peer name "veth-$a" netns "$ns_b"
    ip -n "$ns_a" link set "veth-$b" mtu "$mtu" up
    ip -n "$ns_b" link set "veth-$a" mtu "$mtu" up
    [ "$addr_a" = - ] || netns_address "$a" "$addr_a" "veth-$b"
    [ "$addr_b" = - ] || netns_address "$b" "$addr_b" "veth-$a"
}

# Adds address CIDR to DEVICE in namespace NAME (IPv6 without duplicate
# address detection, so it is usable at once).
netns_address() {
    local name=$1 cidr=$2 device=$3
    case "$cidr" in
        *:*) ip -n "$(netns_name "$name")" addr add "$cidr" dev "$device" nodad ;;
        *) ip -n "$(netns_name "$name")" addr add "$cidr" dev "$device" ;;
    esac
}

# Makes namespace NAME a router: forwarding on for IPv4 and IPv6.
netns_router() {
    netns_exec "$1" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# Makes namespace NAME a NAT router: traffic leaving through OUT_IFACE is
# masqueraded (nftables, inside that namespace only).
netns_nat() {
    local name=$1 out=$2
    netns_router "$name"
    netns_exec "$name" nft -f - <<NFT
table ip nat {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "$out" masquerade
    }
}
NFT
}

# Starts a command in namespace NAME in the background and sets NETNS_LAST_PID
# (not a function result: a $(...) subshell would lose the bookkeeping).
# Its output goes to $NETNS_LAST_LOG.
netns_spawn() {
    local name=$1
    shift
    NETNS_LAST_LOG="$NETNS_TEMP/$name-${#NETNS_PIDS[@]}.log"
    ip netns exec "$(netns_name "$name")" "$@" >"$NETNS_LAST_LOG" 2>&1 &
    NETNS_LAST_PID=$!
    NETNS_PIDS+=("$NETNS_LAST_PID")
}

# Waits up to SECONDS for a command to succeed.
netns_wait_for() {
    local seconds=$1
    shift
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# Kills the processes started here (by PID), deletes the namespaces (which
# deletes the interfaces inside them) and the temporary directory.
netns_cleanup() {
    local pid ns
    # Safe under `set -e`: every step may find its object already gone.
    for pid in "${NETNS_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${NETNS_PIDS[@]}"; do
        for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    for ns in "${NETNS_NAMES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$NETNS_TEMP"
    NETNS_PIDS=()
    NETNS_NAMES=()
}

trap netns_cleanup EXIT
