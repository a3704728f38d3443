#!/bin/bash
# Installs Tern's .deb packages in minimal Debian 12 (bookworm) roots of
# their own architecture and checks them there:
#
#   packaging/verify-debs.sh [amd64] [arm64] [armhf]     (default: all three)
#
# For each architecture: build the packages (packaging/build-deb.sh), lint
# them, extract a fresh copy of a cached debootstrap root, and inside it
# (ARM under qemu-user through binfmt_misc) install both packages with dpkg,
# reinstall them, run `ternd selftest`, the three --version commands and
# `tern-control init` as its system user, then remove (state kept) and purge
# (state gone). On amd64 a second fresh root is booted with systemd-nspawn
# (its own network namespace) to run both units under a real systemd. At
# the end, a table of package and binary sizes.
#
# The roots are debootstrap --variant=minbase plus the packages' Depends,
# kept as tarballs in $TERN_CACHE/roots (default /var/cache/tern/roots) and
# rebuilt from the Debian mirror of /etc/apt when missing or when the list
# below changes; a run itself needs no network. Each run extracts a new copy,
# so installs never pile up. On the host it only installs the tools it lacks
# (debootstrap, lintian, systemd-container) and registers qemu's binfmt_misc
# handlers if they are missing; it starts and stops no host service.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
arches=${*:-amd64 arm64 armhf}
cache=${TERN_CACHE:-/var/cache/tern}/roots
version=$(tr -d '[:space:]' < VERSION)
debs=${TERN_BUILD_DIR:-build}/deb
suite=bookworm

# What the packages depend on, installed into the cached roots (so that
# dpkg -i resolves every Depends offline; a wrong or missing name in Depends
# makes dpkg -i fail). The amd64 root also gets systemd, to boot it with
# systemd-nspawn and run the units for real (not under qemu: too slow).
root_packages="libsodium23,libmnl0,adduser"
boot_packages="systemd,dbus"
packages_for() { if [ "$1" = amd64 ]; then echo "$root_packages,$boot_packages"; else echo "$root_packages"; fi; }

say() { printf '\n== %s\n' "$*"; }
fail() { echo "verify-debs: FAIL: $*" >&2; exit 1; }

# --- tools ------------------------------------------------------------------

need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v lintian >/dev/null || need+=(lintian)
command -v systemd-analyze >/dev/null || need+=(systemd)
[[ " $arches " == *" amd64 "* ]] && ! command -v systemd-nspawn >/dev/null && need+=(systemd-container)
for arch in $arches; do
    case "$arch" in
        arm64) command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static) ;;
        armhf) command -v qemu-arm-static >/dev/null || need+=(qemu-user-static) ;;
        amd64) ;;
        *) fail "unknown architecture '$arch' (amd64, arm64 or armhf)" ;;
    esac
done
if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]}"
    apt-get update -qq || echo "verify-debs: apt-get update reported errors; continuing"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The mirror the host's apt uses (deb822 or one-line format).
mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs: *\(http[^ ]*debian\/\{0,1\}\) *$/\1/p' | head -1) || true
[ -n "$mirror" ] || mirror=$(grep -hs '^deb http[^ ]*/debian/\? ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}' | head -1) || true
mirror=${mirror:-http://deb.debian.org/debian}

# --- running ARM binaries in a chroot: binfmt_misc with qemu ---------------

# dpkg and the maintainer scripts inside an ARM root start ARM programs from
# ARM programs, so qemu must be the kernel's handler for ARM ELF files. The
# F flag (Debian's /usr/lib/binfmt.d files have it) makes the kernel open
# qemu at registration, so it works inside the chroot without a copy there.
binfmt_ready() {
    local name=$1
    [ -f "/proc/sys/fs/binfmt_misc/$name" ] || return 1
    grep -qx enabled "/proc/sys/fs/binfmt_misc/$name" && grep -q '^flags:.*F' "/proc/sys/fs/binfmt_misc/$name"
}
ensure_binfmt() {
    local name=$1
    binfmt_ready "$name" && return 0
    [ -e /proc/sys/fs/binfmt_misc/register ] ||
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null ||
        fail "binfmt_misc is not available (cannot mount it): ARM roots cannot run"
    if [ -f "/proc/sys/fs/binfmt_misc/$name" ]; then
        # Registered without F (or disabled): replace it with Debian's entry.
        echo -1 > "/proc/sys/fs/binfmt_misc/$name"
    fi
    [ -f "/usr/lib/binfmt.d/$name.conf" ] || fail "/usr/lib/binfmt.d/$name.conf missing: install qemu-user-static"
    cat "/usr/lib/binfmt.d/$name.conf" > /proc/sys/fs/binfmt_misc/register ||
        fail "cannot register $name with binfmt_misc"
    binfmt_ready "$name" || fail "$name is registered but not usable"
    echo "verify-debs: registered /usr/lib/binfmt.d/$name.conf with binfmt_misc"
}

# --- the cached roots --------------------------------------------------------

# remove_tree DIR: unmounts whatever is still mounted below DIR (proc in a
# chroot, or what an interrupted debootstrap left), deepest first, then
# deletes DIR without crossing into any other file system.
remove_tree() {
    [ -d "$1" ] || return 0
    findmnt --raw --noheadings --output TARGET | grep "^$1/" | sort -r |
        while read -r mount; do umount --lazy "$mount" || true; done || true   # grep: none
    rm -rf --one-file-system "$1"
}

building=       # a root being made by debootstrap, removed if we stop
# Prints the tarball of a pristine root for $1, making it first if needed.
pristine_root() {
    local arch=$1 tarball=$cache/$suite-$1.tar.gz packages
    packages=$(packages_for "$arch")
    local stamp="$suite minbase $packages"
    if [ ! -f "$tarball" ] || [ "$(cat "$tarball.stamp" 2>/dev/null)" != "$stamp" ]; then
        mkdir -p "$cache"
        local started=$SECONDS
        building=$(mktemp -d "$cache/.build-$arch.XXXXXX")
        local build=$building
        echo "verify-debs: debootstrap $suite $arch from $mirror (cached in $tarball)" >&2
        if ! debootstrap --variant=minbase --arch="$arch" --include="$packages" \
                "$suite" "$build/root" "$mirror" > "$build/log" 2>&1; then
            tail -20 "$build/log" >&2
            fail "debootstrap $arch failed"
        fi
        # Leave out the downloaded .debs: they are installed already.
        rm -f "$build"/root/var/cache/apt/archives/*.deb
        tar -C "$build/root" --numeric-owner -czf "$build/root.tar.gz" .
        mv "$build/root.tar.gz" "$tarball"
        echo "$stamp" > "$tarball.stamp"
        remove_tree "$build"
        building=
        echo "verify-debs: $arch root built in $((SECONDS - started)) s" >&2
    fi
    echo "$tarball"
}

# --- a fresh root per check ----------------------------------------------------

scratch=        # the extracted root of the check under way
nspawn_pid=     # systemd-nspawn, while the amd64 root is booted
boot_init=      # the booted container's PID 1, for nsenter
cleanup() {
    if [ -n "$nspawn_pid" ]; then
        kill -TERM "$nspawn_pid" 2>/dev/null || true   # asks the container to power off
        timeout 30 tail --pid="$nspawn_pid" -f /dev/null || kill -KILL "$nspawn_pid" 2>/dev/null || true
    fi
    nspawn_pid="" boot_init=""
    [ -z "$scratch" ] || remove_tree "$scratch"
    [ -z "$building" ] || remove_tree "$building"
    scratch="" building=""
}
trap cleanup EXIT

# fresh_root ARCH: extracts a new copy of the pristine root into $scratch/root.
fresh_root() {
    local tarball
    tarball=$(pristine_root "$1")
    scratch=$(mktemp -d "$cache/.run-$1.XXXXXX")
    mkdir "$scratch/root"
    tar -C "$scratch/root" -xzf "$tarball"
}

# in_root COMMAND...: runs a command in the root, with a clean environment:
# chrooted (no init running there), or inside the booted container.
in_root() {
    local env=(/usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C)
    if [ -n "$boot_init" ]; then
        nsenter --target "$boot_init" --all "${env[@]}" "$@"
    else
        chroot "$scratch/root" "${env[@]}" "$@"
    fi
}
expect_output() {  # expect_output WANTED COMMAND...
    local wanted=$1 got
    shift
    got=$(in_root "$@") || fail "$arch: '$*' failed"
    [ "$got" = "$wanted" ] || fail "$arch: '$*' printed '$got', expected '$wanted'"
    echo "ok   $*: ${got//$'\n'/ }"
}
# The booted root's /run/wireguard, made before ternd started, is still
# root's with its mode, and so is the other WireGuard's file in it.
expect_wireguard_directory_kept() {
    expect_output "root:root 700
root:root 600" stat -c '%U:%G %a' /run/wireguard /run/wireguard/other0.sock
}
# running_without_restarts UNIT: the booted root's systemd reports the unit
# active and never restarted it (a unit that crashed and waits for its
# restart reads "activating"); up to 10 s for a start still under way. On
# failure it prints what systemd and the unit's journal say.
running_without_restarts() {
    local _ state restarts
    for _ in $(seq 50); do
        state=$(in_root systemctl is-active "$1") || true
        restarts=$(in_root systemctl show --property NRestarts --value "$1") || true
        [ "$state" = active ] && [ "$restarts" = 0 ] && break
        [ "$restarts" = 0 ] || break
        sleep 0.2
    done
    if [ "$state" != active ] || [ "$restarts" != 0 ]; then
        in_root systemctl status --no-pager --lines=0 "$1" || true
        in_root journalctl --no-pager --unit "$1" || true
        fail "$arch: $1 is '$state' after $restarts restarts, expected active and none"
    fi
    echo "ok   $1.service active, never restarted"
}
present() { [ -e "$scratch/root$1" ] || [ -L "$scratch/root$1" ]; }
# wait_for_socket PATH: a unit of Type=simple counts as started before its
# program has made its socket; wait for it (10 s at most).
wait_for_socket() {
    local _
    for _ in $(seq 50); do
        if in_root test -S "$1"; then return 0; fi
        sleep 0.2
    done
    fail "$1 did not appear"
}

# remove_and_purge: dpkg -r keeps state and conffiles, dpkg -P deletes them.
remove_and_purge() {
    touch "$scratch/root/var/lib/tern/state-marker"
    in_root dpkg -r tern tern-control >/dev/null || fail "$arch: dpkg -r failed"
    if present /usr/sbin/ternd; then fail "$arch: /usr/sbin/ternd still there after remove"; fi
    for path in /var/lib/tern/state-marker /var/lib/tern-control/server.key /etc/default/tern /etc/default/tern-control; do
        present "$path" || fail "$arch: remove deleted $path"
    done
    echo "ok   dpkg -r: programs gone; state and /etc/default files kept"
    in_root dpkg -P tern tern-control >/dev/null || fail "$arch: dpkg -P failed"
    for path in /var/lib/tern /var/lib/tern-control /etc/default/tern /etc/default/tern-control \
                /etc/systemd/system/ternd.service /etc/systemd/system/multi-user.target.wants/ternd.service \
                /etc/systemd/system/multi-user.target.wants/tern-control.service; do
        if present "$path"; then fail "$arch: purge left $path"; fi
    done
    echo "ok   dpkg -P: state, defaults and unit links gone"
}

sizes=()
lint_errors=0

# --- one architecture: build, lint, and install in a chroot ----------------

verify() {
    local arch=$1 started=$SECONDS
    local tern=tern_${version}_$arch.deb control=tern-control_${version}_$arch.deb

    say "$arch: packages"
    packaging/build-deb.sh "$arch"

    say "$arch: lintian"
    # Errors fail the run; warnings and notes are listed (the README explains
    # the ones that remain).
    local report
    report=$(lintian --display-info --tag-display-limit 0 "$debs/$tern" "$debs/$control" 2>&1 |
             grep -v '^running with root privileges') || true
    if [ -n "$report" ]; then echo "$report"; else echo "lintian: no tags"; fi
    if grep -q '^E: ' <<<"$report"; then lint_errors=$((lint_errors + 1)); fi

    case "$arch" in
        arm64) ensure_binfmt qemu-aarch64 ;;
        armhf) ensure_binfmt qemu-arm ;;
    esac

    say "$arch: install in a fresh $suite root (chroot, no init)"
    fresh_root "$arch"
    mount -t proc proc "$scratch/root/proc"
    mkdir -p "$scratch/root/tmp/debs"
    cp "$debs/$tern" "$debs/$control" "$scratch/root/tmp/debs/"
    echo "root's machine: $(in_root uname -m)"
    in_root dpkg -i "/tmp/debs/$tern" "/tmp/debs/$control" || fail "$arch: dpkg -i failed"
    # Once more, as an upgrade: postinst runs with the old version in $2.
    in_root dpkg -i "/tmp/debs/$tern" "/tmp/debs/$control" >/dev/null || fail "$arch: reinstalling failed"

    expect_output "ternd $version" ternd --version
    expect_output "tern $version" tern --version
    expect_output "tern-control $version" tern-control --version
    local selftest
    selftest=$(in_root ternd selftest) || { echo "$selftest"; fail "$arch: ternd selftest failed"; }
    echo "ok   ternd selftest: $(tail -1 <<<"$selftest")"

    # The system users exist and own their state directories (mode 0700);
    # the units are enabled (deb-systemd-helper works without systemd).
    for pair in tern:/var/lib/tern tern-control:/var/lib/tern-control; do
        local user=${pair%%:*} dir=${pair#*:}
        in_root getent passwd "$user" >/dev/null || fail "$arch: no user $user"
        expect_output "$user $user 700" stat -c '%U %G %a' "$dir"
    done
    for unit in ternd tern-control; do
        present "/etc/systemd/system/multi-user.target.wants/$unit.service" || fail "$arch: $unit.service not enabled"
    done
    echo "ok   ternd.service and tern-control.service enabled"
    # tern-control writes real state as its own user; tern says ternd is down.
    in_root runuser -u tern-control -- tern-control init >/dev/null || fail "$arch: tern-control init failed"
    echo "ok   tern-control init as user tern-control: wrote $(cd "$scratch/root/var/lib/tern-control" && echo *)"
    local said status=0
    said=$(in_root tern status 2>&1) || status=$?
    if [ "$status" != 1 ] || [[ "$said" != *"ternd is not running"* ]]; then
        fail "$arch: tern status without ternd: exit $status, '$said' (expected exit 1, 'ternd is not running')"
    fi
    echo "ok   tern status without ternd: exit 1, $said"
    remove_and_purge
    cleanup

    if [ "$arch" = amd64 ]; then boot; fi

    sizes+=("$arch $(stat -c %s "$debs/$tern") $(dpkg-deb -f "$debs/$tern" Installed-Size) $(stat -c %s "$debs/$control") $(dpkg-deb -f "$debs/$control" Installed-Size) $(for p in ternd tern tern-control; do stat -c %s "${TERN_BUILD_DIR:-build}/$arch/$p"; done | tr '\n' ' ')")
    echo "$arch: passed in $((SECONDS - started)) s"
}

# --- amd64: the units under a real systemd ----------------------------------

# Boots a fresh amd64 root with systemd-nspawn (its own network namespace, so
# ternd's tern0 never touches the host's network), installs the packages,
# and checks that systemd starts both services with their hardening, that
# they work together (tern up against the local tern-control), and that
# stop, remove and purge behave.
boot() {
    say "amd64: boot the root with systemd (systemd-nspawn) and run the units"
    fresh_root amd64
    cp "$debs/$tern" "$debs/$control" "$scratch/root/root/"   # /tmp is a tmpfs once booted
    systemd-nspawn --quiet --directory="$scratch/root" --private-network --register=no --keep-unit \
        --console=passive --boot < /dev/null > "$scratch/boot.log" 2>&1 &
    nspawn_pid=$!
    # The container's PID 1 is nspawn's child, once it has become systemd
    # (before that, nsenter would enter the host's own namespaces).
    local _ state="" child
    for _ in $(seq 150); do
        child=$(ps -o pid= --ppid "$nspawn_pid" | head -1 | tr -d ' ') || true   # none yet: ps fails
        if [ -n "$child" ] && [ "$(cat "/proc/$child/comm" 2>/dev/null)" = systemd ]; then
            boot_init=$child
            break
        fi
        sleep 0.2
    done
    [ -n "$boot_init" ] || { cat "$scratch/boot.log"; fail "systemd-nspawn did not start systemd"; }
    # systemctl answers once systemd's socket is up, --wait until booted.
    for _ in $(seq 180); do
        state=$(timeout 90 nsenter --target "$boot_init" --all systemctl is-system-running --wait 2>/dev/null) || true
        [ -n "$state" ] && break
        sleep 0.5
    done
    case "$state" in
        running|degraded) echo "ok   booted: systemd says $state" ;;
        *) cat "$scratch/boot.log"; fail "the amd64 root did not boot (systemd: '$state')" ;;
    esac

    # nspawn makes the root's /dev/net/tun with the host's mode, 0600 on
    # some hosts; udev makes it 0666 on a real system, which the
    # unprivileged ternd needs. A node bound from the host stays as it is.
    in_root sh -c 'mountpoint -q /dev/net/tun || chmod 0666 /dev/net/tun' \
        || fail "amd64 (booted): cannot chmod the root's /dev/net/tun"
    # Another WireGuard's /run/wireguard, root's, with a root-owned file in
    # it: ternd.service must leave both alone (a RuntimeDirectory=wireguard
    # made systemd chown the directory and all in it to the user tern).
    in_root sh -c 'mkdir -m 0700 /run/wireguard && : > /run/wireguard/other0.sock && chmod 0600 /run/wireguard/other0.sock' \
        || fail "amd64 (booted): cannot make /run/wireguard"
    in_root dpkg -i "/root/$tern" "/root/$control" >/dev/null || fail "amd64 (booted): dpkg -i failed"
    running_without_restarts ternd
    running_without_restarts tern-control
    expect_wireguard_directory_kept
    # ternd's own wg socket is in /run/tern/wireguard, linked where wg looks.
    expect_output /run/tern/wireguard/tern0.sock readlink /run/wireguard/tern0.sock
    expect_output "tern socket" stat -L -c '%U %F' /run/wireguard/tern0.sock
    # Each runs as its own user with exactly its capabilities: ternd
    # CAP_NET_ADMIN alone (bit 12), tern-control none.
    local unit pid name user caps got
    for unit in ternd:tern:0000000000001000 tern-control:tern-control:0000000000000000; do
        IFS=: read -r name user caps <<<"$unit"
        pid=$(in_root systemctl show --property MainPID --value "$name")
        got=$(in_root sh -c "echo \$(stat -c %U /proc/$pid) \$(awk '/^CapEff/ {print \$2}' /proc/$pid/status)")
        [ "$got" = "$user $caps" ] || fail "$name runs as user and CapEff '$got', expected '$user $caps'"
        echo "ok   $name.service runs as user $user with CapEff $caps"
    done

    # A mesh of one: tern-control's admin CLI, tern up, the interface.
    wait_for_socket /run/tern-control/admin.sock
    in_root tern-control users create alice >/dev/null || fail "tern-control users create failed"
    local key said
    said=$(in_root tern-control preauthkeys create --user alice) || fail "tern-control preauthkeys create failed"
    key=$(grep -o 'tern-auth-[A-Za-z0-9_-]*' <<<"$said" | head -1) || true
    [ -n "$key" ] || fail "tern-control preauthkeys create printed no key"
    # The key on standard input, as the man page recommends (not in /proc/PID/cmdline).
    printf '%s\n' "$key" | in_root tern up --login-server http://127.0.0.1:8080 --auth-key - --hostname pi \
        || fail "tern up --auth-key - failed"
    local address
    address=$(in_root tern ip -4) || fail "tern ip failed"
    [[ "$address" == 100.* ]] || fail "tern ip printed '$address'"
    in_root test -e /sys/class/net/tern0 || fail "no tern0 in the container"
    echo "ok   tern up: node pi has $address on tern0"
    in_root systemctl restart ternd
    wait_for_socket /run/tern/ternd.sock
    expect_output /run/tern/wireguard/tern0.sock readlink /run/wireguard/tern0.sock
    said=$(in_root tern status) || fail "tern status failed after a restart"
    [[ "$said" == "Running as pi "* ]] || fail "ternd did not come back with its state after a restart: $said"
    echo "ok   systemctl restart ternd: ${said%%$'\n'*}"
    in_root systemctl stop ternd
    if in_root test -e /sys/class/net/tern0; then fail "tern0 still there after systemctl stop ternd"; fi
    if in_root test -L /run/wireguard/tern0.sock; then fail "/run/wireguard/tern0.sock still there after systemctl stop ternd"; fi
    expect_wireguard_directory_kept
    echo "ok   systemctl stop ternd: tern0 and the link /run/wireguard/tern0.sock removed"

    # A subnet router under the same unit, set up through /etc/default/tern:
    # it must be allowed to turn on forwarding and add its nftables table.
    in_root sh -c 'echo 0 > /proc/sys/net/ipv4/ip_forward'
    echo 'TERND_ARGS="--wg -f --address 100.64.9.1/32 --advertise-routes 192.0.2.0/24 router0"' \
        > "$scratch/root/etc/default/tern"
    in_root systemctl start ternd
    wait_for_socket /run/wireguard/router0.sock
    expect_output /run/tern/wireguard/router0.sock readlink /run/wireguard/router0.sock
    expect_output 1 cat /proc/sys/net/ipv4/ip_forward
    local journal
    journal=$(in_root journalctl --unit ternd --no-pager)
    grep -q 'routing for 192.0.2.0/24 with SNAT' <<<"$journal" ||
        { tail <<<"$journal"; fail "ternd --wg --advertise-routes did not set up routing"; }
    echo "ok   ternd --wg --advertise-routes via TERND_ARGS: forwarding on, nftables table added"

    remove_and_purge
    expect_output "inactive
inactive" sh -c 'systemctl is-active ternd tern-control || true'
    echo "ok   the services were stopped by prerm"
    cleanup
}

say "systemd units"
for unit in packaging/tern/ternd.service packaging/tern-control/tern-control.service; do
    # verify wants the programs installed: check a copy whose ExecStart,
    # ExecStartPost and ExecStopPost (with their +/- prefixes) run /bin/true.
    check=$(mktemp -d)
    sed -E 's#^(Exec(Start|StartPost|StopPost)=[-+!@:]*)[^ ]*#\1/bin/true#' "$unit" > "$check/$(basename "$unit")"
    if ! systemd-analyze verify --man=no "$check/$(basename "$unit")"; then rm -rf "$check"; fail "systemd-analyze verify $unit"; fi
    echo "ok   systemd-analyze verify $(basename "$unit")"
    systemd-analyze security --offline=yes --no-pager "$check/$(basename "$unit")" 2>/dev/null | tail -1 | sed "s/^/     $(basename "$unit"): /" || true
    rm -rf "$check"
done

for arch in $arches; do verify "$arch"; done

say "sizes (bytes; Installed-Size in KiB)"
printf '%-6s %12s %9s %18s %9s %9s %9s %13s\n' arch tern.deb installed tern-control.deb installed ternd tern tern-control
for line in "${sizes[@]}"; do
    # shellcheck disable=SC2086
    printf '%-6s %12s %9s %18s %9s %9s %9s %13s\n' $line
done
for line in "${sizes[@]}"; do
    read -r arch _ _ _ _ ternd _ <<<"$line"
    if [ "$arch" = arm64 ] && [ "$ternd" -gt 1000000 ]; then
        fail "arm64 ternd is $ternd bytes: over the 1 MB target"
    fi
done
[ "$lint_errors" -eq 0 ] || fail "lintian reported errors"
echo "verify-debs: all checks passed ($arches)"
