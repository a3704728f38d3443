#!/bin/bash
# A guided tour of a Tern subnet router, in network namespaces on this machine
# (root; nothing leaves the namespaces it creates).
#
#   Tests/Demo/subnet-router.sh [BINDIR]     (default build/amd64: ternd, tern, tern-control)
#
# Topology (each name a network namespace, joined by veth pairs):
#
#                      control 10.1.0.2 (tern-control)
#                         |
#   pi 10.2.0.2 ------ internet ------ laptop 10.3.0.2
#   192.168.10.1     (a plain router)
#      |
#   lan 192.168.10.5: the legacy host, a web page on port 80; only its own
#                     LAN in its routing table (no default route, no route
#                     to the mesh)
#
# Steps: tern-control starts; a user and a pre-auth key are made; ternd starts
# on pi and laptop; pi advertises 192.168.10.0/24, the route waits for the
# admin, who approves it; the laptop, logged in with --accept-routes, fetches
# the legacy host's page through the mesh; the legacy host's log shows the
# request came from the pi's LAN address (SNAT). Every step is checked: the
# demo stops with a message and a non-zero status at the first one that fails.
# Everything it creates (namespaces, processes, files) is removed on exit.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

bin=$(readlink -f "${1:-build/amd64}")
LAN=192.168.10.0/24
HOST=192.168.10.5
SERVER=10.1.0.2:8080
PAGE="Legacy PLC panel — line 3 — temperature 71 °C"

# --- Presentation: narrative lines, echoed commands, failures.
if [ -t 1 ]; then bold=$'\e[1m' dim=$'\e[2m' red=$'\e[31m' off=$'\e[0m'; else bold="" dim="" red="" off=""; fi
say() { printf '\n%s==> %s%s\n' "$bold" "$*" "$off"; }
note() { printf '    %s\n' "$*"; }
fail() {
    printf '\n%sdemo FAILED: %s%s\n' "$red" "$*" "$off" >&2
    exit 1
}
# An argument as a shell would need it typed.
quoted() {
    case "$1" in
        "&") printf '&' ;;
        *[!A-Za-z0-9_./:=,@%+-]*|"") printf "'%s'" "$1" ;;
        *) printf '%s' "$1" ;;
    esac
}
# Prints "NS$ COMMAND..." the way an engineer would type it in that box.
echo_command() {
    local ns=$1 word line=""
    shift
    for word in "$@"; do line="$line $(quoted "$word")"; done
    printf '%s%s$%s%s\n' "$dim" "$ns" "$off" "$line"
}

for tool in ip nft python3 curl timeout; do
    command -v "$tool" >/dev/null || fail "$tool is not installed (make deps installs it)"
done
[ "$(id -u)" = 0 ] || fail "run as root: the demo creates network namespaces"
for program in ternd tern tern-control; do
    [ -x "$bin/$program" ] || fail "$bin/$program not found; build with cross/build.sh amd64 or pass the binary directory"
done

source Tests/Integration/lib/netns.sh
T=$NETNS_TEMP

# Runs COMMAND... in namespace NS, echoed first as DISPLAY (the words after
# "--" are run, the ones before are shown); output shown indented; fails the
# demo with MESSAGE when it fails or takes over 15 s.
#   run NS "MESSAGE" SHOWN... -- COMMAND...
run() {
    local ns=$1 message=$2 shown=()
    shift 2
    while [ "$1" != -- ]; do shown+=("$1"); shift; done
    shift
    echo_command "$ns" "${shown[@]}"
    local out rc
    out=$(netns_exec "$ns" timeout 15 "$@" 2>&1); rc=$?
    [ -z "$out" ] || printf '%s\n' "$out" | expand -t 4 | sed 's/^/    /'
    [ "$rc" = 0 ] || fail "$message (exit status $rc)"
    LAST_OUTPUT=$out
}
# Runs COMMAND... in namespace NS, echoed, where failing is the point: fails
# the demo with MESSAGE when it succeeds.
#   run_refused NS "MESSAGE" COMMAND...
run_refused() {
    local ns=$1 message=$2
    shift 2
    echo_command "$ns" "$@"
    local out
    if out=$(netns_exec "$ns" timeout 15 "$@" 2>&1); then
        fail "$message"
    fi
    [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/    /'
}
# tern-control's admin commands (run in control; --admin-socket not shown).
control() {
    local message=$1
    shift
    run control "$message" tern-control "$@" -- "$bin/tern-control" --admin-socket "$T/admin.sock" "$@"
}
# The tern CLI of node NS (--socket, which finds that node's ternd, not shown).
tern() {
    local ns=$1 message=$2
    shift 2
    run "$ns" "$message" tern "$@" -- "$bin/tern" --socket "$T/$ns.sock" "$@"
}
quiet_control() { netns_exec control timeout 5 "$bin/tern-control" --admin-socket "$T/admin.sock" "$@"; }
quiet_tern() { local ns=$1; shift; netns_exec "$ns" timeout 5 "$bin/tern" --socket "$T/$ns.sock" "$@"; }
# ternd's log, for a failure message.
show_log() { note "last lines of $1:"; tail -n 15 "$2" | sed 's/^/      /'; }

started=$SECONDS

# --- The network.
say "building the network: five namespaces named $(netns_name '<name>') (the prefix keeps runs apart)"
note "internet  a plain IP router; control, pi and laptop hang off it"
note "control   tern-control, the coordination server, at $SERVER"
note "pi        the subnet router: one leg on the internet, one on the LAN ($LAN)"
note "lan       the legacy host $HOST (a PLC panel with a web page); it knows nothing of Tern"
note "laptop    a Tern client somewhere on the internet"
cat <<'TOPOLOGY'

                         control 10.1.0.2
                            |
      pi 10.2.0.2 ------ internet ------ laptop 10.3.0.2
      192.168.10.1
         |
      lan 192.168.10.5
TOPOLOGY
netns_add internet
netns_router internet
i=0
for n in control pi laptop; do
    i=$((i + 1))
    netns_add $n
    netns_link internet 10.$i.0.1/24 $n 10.$i.0.2/24
    netns_exec $n ip route add default via 10.$i.0.1
done
netns_add lan
netns_link pi 192.168.10.1/24 lan "$HOST/24"
mkdir -p "$T/www"
printf '%s\n' "$PAGE" >"$T/www/index.html"
netns_spawn lan python3 -u -m http.server --bind "$HOST" --directory "$T/www" 80
WEB_PID=$NETNS_LAST_PID WEB_LOG=$NETNS_LAST_LOG

say "the legacy host: only its own LAN in its routing table, no default route, no route to the mesh"
run lan "the LAN host's routing table is not as expected" ip route -- ip route
if [ "$(wc -l <<<"$LAST_OUTPUT")" != 1 ] || ! grep -q "^$LAN dev veth-pi " <<<"$LAST_OUTPUT"; then
    fail "the LAN host has routes beyond its LAN"
fi
netns_wait_for 5 netns_exec lan curl -sf --max-time 1 "http://$HOST/" || fail "the LAN host's web server did not start"
note "(python3 -m http.server serves its page on $HOST:80)"

# --- The coordination server.
say "starting tern-control, the coordination server, in namespace control"
note "(the daemons get a --socket/--admin-socket path in this demo's temporary directory; the"
note " tern and tern-control commands below are given the same path, left out here for reading)"
echo_command control tern-control serve --state-dir "$T/control" --listen "$SERVER" "&"
netns_spawn control "$bin/tern-control" serve --state-dir "$T/control" --listen "$SERVER" --admin-socket "$T/admin.sock"
CONTROL_LOG=$NETNS_LAST_LOG
netns_wait_for 10 quiet_control status || { show_log tern-control "$CONTROL_LOG"; fail "tern-control did not answer within 10 s"; }
note "(listening; its admin commands go through a local socket)"

say "creating a user and a reusable pre-auth key, so nodes can join without a browser"
control "could not create the user" users create alice
control "could not create a pre-auth key" preauthkeys create --user alice --reusable
KEY=$LAST_OUTPUT
[[ "$KEY" == tern-auth-* ]] || fail "the pre-auth key does not look like one: $KEY"

# --- The nodes.
say "starting ternd, the node daemon, on the pi and on the laptop (UDP port 41641)"
note "(TUN interfaces tern-pi and tern-laptop: their wg sockets in /var/run/wireguard are shared by all namespaces)"
declare -A NODE_LOG
for n in pi laptop; do
    echo_command $n ternd --state-dir "$T/$n" --tun tern-$n --port 41641 "&"
    netns_spawn $n "$bin/ternd" --state-dir "$T/$n" --socket "$T/$n.sock" --tun tern-$n --port 41641
    NODE_LOG[$n]=$NETNS_LAST_LOG
    netns_wait_for 10 test -S "$T/$n.sock" || { show_log "ternd on $n" "$NETNS_LAST_LOG"; fail "ternd on $n did not start within 10 s"; }
done

say "the pi joins the mesh and advertises the LAN behind it"
tern pi "the pi could not join the mesh" up --login-server "http://$SERVER" --auth-key "$KEY" --hostname pi --advertise-routes "$LAN"

say "the laptop joins with --accept-routes: it will use routes other nodes offer"
tern laptop "the laptop could not join the mesh" up --login-server "http://$SERVER" --auth-key "$KEY" --hostname laptop --accept-routes

route_state() {   # the state of the pi's LAN route in `routes list --json`
    quiet_control routes list --json | python3 -c 'import json,sys
for e in json.load(sys.stdin):
    if e["node"] == "pi" and e["prefix"] == "'$LAN'":
        print(e["state"], "primary" if e["primary"] else "standby", "online" if e["online"] else "offline")'
}
route_is() { [ "$(route_state)" = "$1" ]; }
say "the route is advertised but not used yet: an admin must approve it"
netns_wait_for 5 route_is "pending standby online"
control "routes list failed" routes list
[ "$(route_state)" = "pending standby online" ] || fail "the pi's route is not listed as pending (got: $(route_state))"
has_route() { netns_exec laptop ip route show table all proto 116 | grep -q "^192\.168\.10\.0/24 "; }
has_route && fail "the laptop already has a route to the LAN before approval"
note "(the laptop has no route to $LAN yet, so the legacy host is out of reach)"
run_refused laptop "the laptop reached the LAN host before the route was approved" curl -sS --max-time 2 "http://$HOST/"

say "approving the route"
control "routes approve failed" routes approve pi "$LAN"
netns_wait_for 5 route_is "approved primary online"
control "routes list failed" routes list
[ "$(route_state)" = "approved primary online" ] || fail "the pi's route is not approved and primary (got: $(route_state))"

say "the pi's view: it is the primary router for the LAN"
pi_primary() { quiet_tern pi status | grep -qx "routes: $LAN (primary)"; }
netns_wait_for 5 pi_primary
tern pi "tern status failed on the pi" status
grep -qx "routes: $LAN (primary)" <<<"$LAST_OUTPUT" || fail "the pi's status does not show $LAN as primary"

say "the laptop's view: the pi is a peer with the LAN behind it"
laptop_sees_route() { quiet_tern laptop status | grep -w pi | grep -q "routes $LAN"; }
netns_wait_for 5 laptop_sees_route
tern laptop "tern status failed on the laptop" status
grep -w pi <<<"$LAST_OUTPUT" | grep -q "routes $LAN" || fail "the laptop's status does not show the pi with $LAN"

say "the laptop's kernel now sends $LAN into the mesh interface (ternd's routes carry proto 116)"
netns_wait_for 5 has_route || fail "the laptop did not install a route to $LAN within 5 s"
run laptop "ip route failed" ip route show table all proto 116 -- ip route show table all proto 116
run laptop "ip route get failed" ip route get "$HOST" -- ip route get "$HOST"
grep -q "dev tern-laptop" <<<"$LAST_OUTPUT" || fail "the laptop does not route $HOST into tern-laptop"

# --- The payoff.
say "the laptop fetches the legacy host's page, through the mesh and the pi"
netns_wait_for 10 netns_exec laptop curl -sf --max-time 1 -o /dev/null "http://$HOST/" \
    || { show_log "ternd on pi" "${NODE_LOG[pi]}"; show_log "ternd on laptop" "${NODE_LOG[laptop]}"; fail "the laptop could not fetch http://$HOST/ within 10 s"; }
run laptop "the laptop could not fetch the page" curl -sS --max-time 5 "http://$HOST/" -- curl -sS --max-time 5 "http://$HOST/"
[ "$LAST_OUTPUT" = "$PAGE" ] || fail "the page the laptop fetched is not the legacy host's page"

say "the legacy host's web server log: the request came from the pi's LAN address 192.168.10.1"
echo_command lan tail -n 1 http.server.log
seen=$(tail -n 1 "$WEB_LOG")
note "$seen"
[ "${seen%% *}" = 192.168.10.1 ] || fail "the LAN host saw ${seen%% *}, not the pi's LAN address 192.168.10.1"

say "that is SNAT: the pi masquerades what the mesh sends to the LAN, so the legacy host needs no route back"
run pi "could not list the pi's nftables table" nft list table inet tern -- nft list table inet tern
grep -q masquerade <<<"$LAST_OUTPUT" || fail "the pi's table inet tern has no masquerade rule"
note "(ternd also turned on IP forwarding in the pi, which was off:)"
run pi "could not read the pi's forwarding setting" sysctl net.ipv4.ip_forward -- sysctl net.ipv4.ip_forward
[ "$LAST_OUTPUT" = "net.ipv4.ip_forward = 1" ] || fail "IP forwarding is off in the pi"

say "the laptop's status now shows a handshake and traffic with the pi"
tern laptop "tern status failed on the laptop" status
grep -w pi <<<"$LAST_OUTPUT" | grep -q "rx 0 B" && fail "the laptop's status shows no traffic received from the pi"

elapsed=$((SECONDS - started))
say "done in ${elapsed} s; stopping the daemons and removing the namespaces"
netns_cleanup
left=""
for n in internet control pi laptop lan; do
    ip netns list | grep -qw "$(netns_name $n)" && left="$left $n"
done
kill -0 "$WEB_PID" 2>/dev/null && left="$left http.server"
[ -z "$left" ] || fail "left behind:$left"
echo "demo finished; everything it created is removed"
