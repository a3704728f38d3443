#!/bin/bash
# A handshake flood against `ternd --wg` while a real peer handshakes (root).
#
#   Tests/Integration/handshake-flood.sh [TERND] [RATE]   (default build/amd64/ternd, 60000/s)
#
# Namespaces: `t` runs ternd, `g` runs wireguard-go (the real peer), `x` the
# attacker; all hang off a router `hub`. The attacker sends handshake
# initiations at RATE per second, each with a valid mac1 for ternd's public
# key (so they pass the first check and cost ternd real work) and random
# everything else. Meanwhile wireguard-go makes fresh handshakes and pings.
#
# Checks: the attacker really sent at least 50,000 per second; every real
# handshake completes under the flood (through the cookie reply and mac2, as
# the protocol intends: the initiator retries after REKEY_TIMEOUT, 5 s, with
# the cookie); ternd answered the flood with cookie replies and refused it
# (its drop counters); its RSS stays flat. Reports ternd's CPU and the
# handshake latency with and without the flood.
set -uo pipefail
cd "$(dirname "$0")/../.."
source Tests/Integration/lib/netns.sh
source Tests/Integration/lib/checks.sh

ternd=$(readlink -f "${1:-build/amd64/ternd}")
rate=${2:-60000}
T=tf$$; G=gf$$
TMP=$NETNS_TEMP

netns_add hub; netns_router hub
netns_add t; netns_add g; netns_add x
netns_link hub 10.241.1.1/24 t 10.241.1.2/24
netns_link hub 10.241.2.1/24 g 10.241.2.2/24
netns_link hub 10.241.3.1/24 x 10.241.3.2/24
for n in t:1 g:2 x:3; do netns_exec "${n%:*}" ip route add default via "10.241.${n#*:}.1"; done

key_t=$(wg genkey); key_g=$(wg genkey)
pub_t=$(echo "$key_t" | wg pubkey); pub_g=$(echo "$key_g" | wg pubkey)

netns_spawn t "$ternd" --wg --foreground "$T"
TERN_PID=$NETNS_LAST_PID
netns_wait_for 5 test -S "/var/run/wireguard/$T.sock"
netns_spawn g wireguard-go -f "$G"
netns_wait_for 5 test -S "/var/run/wireguard/$G.sock"
netns_exec t timeout 10 wg set "$T" private-key <(echo "$key_t") listen-port 51820 peer "$pub_g" allowed-ips 10.251.0.2/32
netns_exec t ip addr add 10.251.0.1/24 dev "$T"
netns_exec t ip link set "$T" up
netns_exec g timeout 10 wg set "$G" private-key <(echo "$key_g") listen-port 51820
netns_exec g ip addr add 10.251.0.2/24 dev "$G"
netns_exec g ip link set "$G" up

# A fresh handshake from wireguard-go: forget the peer (and its session),
# add it again, and time the first ping, which waits for the handshake.
handshake_ms() {
    netns_exec g timeout 10 wg set "$G" peer "$pub_t" remove
    netns_exec g timeout 10 wg set "$G" peer "$pub_t" endpoint 10.241.1.2:51820 allowed-ips 10.251.0.1/32
    local start end
    start=$(date +%s%N)
    netns_exec g ping -c1 -W 20 10.251.0.1 >/dev/null 2>&1 || { echo fail; return; }
    end=$(date +%s%N)
    echo $(( (end - start) / 1000000 ))
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$TERN_PID/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$TERN_PID/stat"; }

quiet=()
for _ in 1 2; do quiet+=("$(handshake_ms)"); done
echo "      handshake + first ping without the flood: ${quiet[*]} ms"
check "handshakes complete without the flood" test "${quiet[0]}" != fail -a "${quiet[1]}" != fail

# The flooder: initiations with a valid mac1 (BLAKE2s-128 keyed with
# BLAKE2s-256("mac1----" || responder's public key) over the first 116 bytes).
cat >"$TMP/flood.py" <<'PY'
import base64, hashlib, os, socket, struct, sys, time
public, rate, seconds, target = base64.b64decode(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
key = hashlib.blake2s(b"mac1----" + public).digest()
messages = []
for _ in range(8192):
    body = struct.pack("<I", 1) + os.urandom(4 + 32 + 48 + 28)
    messages.append(body + hashlib.blake2s(body, digest_size=16, key=key).digest() + bytes(16))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.setblocking(False)
sent, start, i, cookies = 0, time.monotonic(), 0, 0
def drain():
    global cookies
    while True:
        try:
            reply = s.recv(256)
        except OSError:
            return
        if len(reply) == 64 and reply[0] == 3:
            cookies += 1
while True:
    elapsed = time.monotonic() - start
    if elapsed >= seconds:
        break
    due = int(elapsed * rate) + 256
    while sent < due:
        try:
            s.sendto(messages[i], (target, 51820))
            sent += 1
        except OSError:
            pass
        i = (i + 1) % len(messages)
    drain()
    if sent > (elapsed + 0.001) * rate:
        time.sleep(0.0005)
time.sleep(0.2)
drain()
print(int(sent / seconds), sent, cookies)
PY

rss_before=$(rss_kb)
ticks_before=$(cpu_ticks)
netns_exec x python3 "$TMP/flood.py" "$pub_t" "$rate" 16 10.241.1.2 >"$TMP/rate.txt" &
FLOOD=$!
NETNS_PIDS+=("$FLOOD")
sleep 1
flooded=()
for _ in 1 2; do flooded+=("$(handshake_ms)"); done
check "ping over the tunnel during the flood" netns_exec g ping -c3 -i 0.2 -W 2 10.251.0.1
wait "$FLOOD"
ticks_after=$(cpu_ticks)
rss_after=$(rss_kb)
read -r achieved sent cookies <"$TMP/rate.txt"
hz=$(getconf CLK_TCK)
cpu=$(python3 -c "print(round(100 * ($ticks_after - $ticks_before) / $hz / 16, 1))")
echo "      flood: ${achieved:-0} initiations/s for 16 s; ternd CPU ${cpu}% of one core; RSS ${rss_before} -> ${rss_after} KiB"
echo "      handshake + first ping under the flood: ${flooded[*]} ms"
echo "      cookie replies (64 bytes each, for 148-byte initiations) the attacker received: ${cookies:-0} of ${sent:-0}"
check "the attacker sent at least 50,000 initiations/s (${achieved:-0})" test "${achieved:-0}" -ge 50000
check "ternd answered the flood with cookie replies, never more than it was sent" test "${cookies:-0}" -gt 0 -a "${cookies:-0}" -le "${sent:-0}"
check "every real handshake completed under the flood (${flooded[*]} ms)" test "${flooded[0]}" != fail -a "${flooded[1]}" != fail
check "under the flood a handshake takes one cookie round, under 12 s" test "${flooded[0]}" -lt 12000 -a "${flooded[1]}" -lt 12000
check "ternd's RSS stayed flat (${rss_before} -> ${rss_after} KiB)" test $((rss_after - rss_before)) -lt 1024
check "ternd is still running" kill -0 "$TERN_PID"
sleep 1.5   # the device leaves "under load" one second after the last flood packet
after=$(handshake_ms)
check "after the flood a handshake is quick again (${after} ms)" test "$after" != fail -a "${after/fail/99999}" -lt 3000
checks_summary
