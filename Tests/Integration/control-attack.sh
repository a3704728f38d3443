#!/bin/bash
# tern-control under attack on loopback, by clients that have not logged in
# (lib/control-attacker.py) and by one that has (tern-bench control-abuse):
#
#   - a thousand connections announcing 8 MiB first frames cost the server
#     almost no memory (nothing larger than a handshake is buffered before it);
#   - keep-alive health checks, a handshake trickled a byte at a time, and a
#     handshake followed by pings are all closed at the login deadline;
#   - one address gets 16 connections that have not logged in, and no more,
#     and 20 handshakes a second (100 at once): a flood of bogus initiations
#     with valid mac1 costs the server no Diffie-Hellman work past that;
#   - while strangers fill their whole budget, the server says so (log and
#     status), real nodes still log in, and a full budget nobody churns
#     costs no CPU;
#   - a node's oversized endpoint list is refused with an error and the
#     server keeps serving.
#
# The login deadline is 10 s; TERN_TEST_TIME_SCALE=10 makes it 1 s here.
#
#   Tests/Integration/control-attack.sh BUILD_DIR   (.build/debug: tern-control, tern-bench)
set -uo pipefail
cd "$(dirname "$0")/../.."
source Tests/Integration/lib/checks.sh

build=${1:?usage: control-attack.sh BUILD_DIR}
attacker=Tests/Integration/lib/control-attacker.py
work=$(mktemp -d /tmp/tern-attack.XXXXXX)
server=
holder=
cleanup() {
    for pid in $holder $server; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
admin() { "$build/tern-control" --admin-socket "$work/admin.sock" "$@"; }
port=$((20000 + RANDOM % 20000))
url="http://127.0.0.1:$port"

"$build/tern-control" init --state-dir "$work/state" >/dev/null
TERN_TEST_TIME_SCALE=10 "$build/tern-control" serve --state-dir "$work/state" --listen "127.0.0.1:$port" \
    --admin-socket "$work/admin.sock" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do admin status >/dev/null 2>&1 && break; sleep 0.1; done
admin users create attack >/dev/null
key=$(admin preauthkeys create --user attack --reusable)

kib() { awk -v field="$1:" '$1 == field { print $2 }' "/proc/$server/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server/stat"; }
between() { awk -v x="$1" -v low="$2" -v high="$3" 'BEGIN { exit !(x >= low && x <= high) }'; }
closed_after() { sed -n 's/^closed after \([0-9.]*\) s$/\1/p' <<<"$1"; }
alive() { kill -0 "$server" && admin status >/dev/null; }

# 1. Memory before authentication.
before=$(kib VmRSS)
out=$(timeout 60 python3 "$attacker" oversized "$port" 1000)
echo "oversized first frames: $out; server RSS ${before} KiB before, peak $(kib VmHWM) KiB"
check "1000 connections announcing 8 MiB frames are all closed" grep -qx 'closed 1000 of 1000' <<<"$out"
check "and the server's peak RSS grew by less than 32 MiB (256 MiB were sent)" \
    test $(( $(kib VmHWM) - before )) -lt 32768
check "the server still serves" alive

# 2. The login deadline is absolute.
out=$(timeout 30 python3 "$attacker" keepalive "$port" 0.3)
echo "keep-alive GET /health every 0.3 s: $out"
check "keep-alive health checks are closed at the login deadline" between "$(closed_after "$out")" 0.9 2.5
out=$(timeout 30 python3 "$attacker" trickle "$port" 0.2)
echo "a handshake trickled a byte every 0.2 s: $out"
check "a trickled handshake is closed at the login deadline" between "$(closed_after "$out")" 0.9 2.5
out=$(timeout 30 "$build/tern-bench" control-abuse "$url" "$key" pings 300)
echo "a handshake, then pings every 300 ms and no login: $out"
pinged_ms=$(sed -n 's/^closed after \([0-9]*\) ms ([1-9][0-9]* pongs)$/\1/p' <<<"$out")
check "pings after a handshake are answered, and closed at the login deadline" between "${pinged_ms:-0}" 900 2500

# 3. Per-source limit.
out=$(timeout 30 python3 "$attacker" per-source "$port" 17)
echo "17 idle connections from one address: $out"
check "the 17th connection from one address is refused, another address is not" \
    grep -qx 'closed 1 of 17 from one address, 0 of 1 from another' <<<"$out"

# 3b. Handshake rate per source.
timeout 120 python3 "$attacker" handshakes "$port" 3000 >"$work/handshakes.out" 2>&1 &
flood=$!
sleep 0.5
check "a node logs in during a handshake flood from another address" \
    sh -c "timeout 30 '$build/tern-bench' control-abuse '$url' '$key' endpoints 1 | grep -qx accepted"
wait "$flood"
limited=$(admin status | sed -n 's/^handshakesRateLimited: //p')
echo "bogus handshakes from one address: $(cat "$work/handshakes.out"), ${limited:-?} refused before any DH work"
check "all but about 100 plus 20 a second of them were refused before any DH work" \
    awk -v limited="${limited:-0}" -v seconds="$(awk '{ print $4 }' "$work/handshakes.out")" \
        'BEGIN { exit !(limited >= 3000 - 100 - 20 * (seconds + 1) && limited <= 3000 - 100) }'

# 4. Strangers fill their budget (1024) and keep it full.
python3 "$attacker" hold "$port" 1200 8 >"$work/hold.out" 2>&1 &
holder=$!
sleep 2
status=$(admin status)
echo "status while strangers hold the budget: $(grep '^connection' <<<"$status" | tr '\n' ' ')"
check "status says the connection budget is full" grep -qx 'connectionBudgetFull: true' <<<"$status"
check "the log says so" grep -q 'connection budget full' "$work/server.log"
check "five real nodes log in meanwhile" timeout 60 "$build/tern-bench" control "$url" "$key" --nodes 5
hz=$(getconf CLK_TCK)
ticks=$(cpu_ticks); sleep 3; ticks=$(( $(cpu_ticks) - ticks ))
# (The cost follows the attackers' reconnect rate; a full budget that is
# quiet costs nothing: section 6.)
echo "server CPU while full, attackers reconnecting as fast as they can: $(( ticks * 100 / (3 * hz) ))% of one core"
wait "$holder"; holder=
echo "strangers: $(cat "$work/hold.out")"
check "the server closed the strangers at their deadlines (they had to reopen)" \
    grep -qE '^reopened [0-9]{4,}$' "$work/hold.out"
for _ in $(seq 30); do grep -q 'connection budget no longer full' "$work/server.log" && break; sleep 0.1; done
check "the log says when the budget is no longer full" grep -q 'connection budget no longer full' "$work/server.log"

# 5. A logged-in node's lists are bounded.
results=()
for case in "endpoints 64" "endpoints 65" "endpoints 90000" "login-endpoints 65" "login-endpoints 90000"; do
    results[${#results[@]}]="$case: $(timeout 30 "$build/tern-bench" control-abuse "$url" "$key" $case)"
done
printf '%s\n' "${results[@]}"
check "64 endpoints are accepted" grep -qx 'endpoints 64: accepted' <<<"${results[0]}"
check "65 endpoints are refused with the reason" grep -qx 'endpoints 65: refused: malformed message: endpoints: more than 64 entries' <<<"${results[1]}"
check "90,000 endpoints are refused" grep -qE '^endpoints 90000: (refused|closed)' <<<"${results[2]}"
check "a login with 65 endpoints is refused" grep -qx 'login-endpoints 65: refused: malformed message: endpoints: more than 64 entries' <<<"${results[3]}"
check "a login with 90,000 endpoints is refused" grep -qE '^login-endpoints 90000: (refused|closed)' <<<"${results[4]}"
check "the server still serves, and a node still logs in" \
    sh -c "kill -0 $server && timeout 30 '$build/tern-bench' control-abuse '$url' '$key' endpoints 1 | grep -qx accepted"
check "the server never stopped or lost its state" sh -c "! grep -q 'stopping\|cannot write' '$work/server.log'"
kill "$server"; wait "$server"; code=$?; server=
check "tern-control exits cleanly on SIGTERM" test "$code" -eq 0

# 6. An open-file limit below the connection budget: the budget shrinks to
#    fit, so a flood is refused or evicted instead of failing accept
#    (EMFILE); a full budget that nobody churns costs no CPU (the old server
#    spun on its listener once full). Real time here: a 10 s login deadline.
(ulimit -n 200 && exec "$build/tern-control" serve --state-dir "$work/state" \
    --listen "127.0.0.1:$port" --admin-socket "$work/admin.sock") >"$work/small.log" 2>&1 &
server=$!
for _ in $(seq 100); do admin status >/dev/null 2>&1 && break; sleep 0.1; done
timeout 30 python3 "$attacker" idle "$port" 186 5 >"$work/idle.out" 2>&1 &
holder=$!
sleep 1.5
check "186 idle strangers fill the 136 connections" sh -c "'$build/tern-control' --admin-socket '$work/admin.sock' status | grep -qx 'connectionBudgetFull: true'"
ticks=$(cpu_ticks); sleep 2; ticks=$(( $(cpu_ticks) - ticks ))
echo "server CPU while full and quiet: $(( ticks * 100 / (2 * hz) ))% of one core over 2 s"
check "a full, quiet server does not spin (under 10% of a core)" test $(( ticks * 100 / (2 * hz) )) -lt 10
wait "$holder"; holder=
echo "idle strangers: $(cat "$work/idle.out") (50 evicted for newer ones)"
timeout 30 python3 "$attacker" hold "$port" 400 4 >"$work/hold2.out" 2>&1
echo "with 200 open files: $(grep -o 'at most [0-9]* connections' "$work/small.log"), strangers $(cat "$work/hold2.out")"
check "with 200 open files the server takes at most 136 connections, and says so" grep -q 'at most 136 connections' "$work/small.log"
check "a flood of 400 then never runs it out of descriptors" sh -c "! grep -q 'accept:' '$work/small.log'"
check "and it still serves" sh -c "kill -0 $server && timeout 30 '$build/tern-bench' control-abuse '$url' '$key' endpoints 1 | grep -qx accepted"
kill "$server"; wait "$server"; server=
checks_summary
