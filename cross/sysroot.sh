#!/bin/bash
# Builds a Debian bookworm sysroot for cross-compiling Tern to arm64 or armhf,
# from Debian's own packages: no toolchain download, only `apt-get download`.
#
#   cross/sysroot.sh arm64|armhf        prints the sysroot path
#
# The sysroot is cached in $TERN_CACHE (default /var/cache/tern) and linked
# from build/sysroot-<arch>; it is rebuilt whenever it is missing or the
# package list below changes.
set -euo pipefail

arch=${1:?usage: cross/sysroot.sh arm64|armhf}
case "$arch" in
    arm64) triple=aarch64-linux-gnu ;;
    armhf) triple=arm-linux-gnueabihf ;;
    *) echo "sysroot.sh: unknown architecture '$arch' (arm64 or armhf)" >&2; exit 2 ;;
esac

# What Tern's binaries link against, plus the C runtime they need to link.
packages="libc6 libc6-dev linux-libc-dev libsodium23 libsodium-dev libmnl0 libmnl-dev libgcc-12-dev libgcc-s1"

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${TERN_CACHE:-/var/cache/tern}
sysroot="$cache/sysroot-$arch"
stamp="$sysroot/.tern-packages"

if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$packages" ]; then
    echo "sysroot.sh: building $sysroot" >&2
    mkdir -p "$cache"
    if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
        dpkg --add-architecture "$arch"
    fi
    # One foreign index can fail to sync (seen with bookworm-security armhf)
    # while every download still works from the main index: judge by the
    # downloads below, not by this exit code.
    apt-get update -qq >&2 || echo "sysroot.sh: apt-get update reported errors; continuing" >&2

    work=$(mktemp -d "$cache/.sysroot-$arch.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/debs" "$work/root"
    (cd "$work/debs" && apt-get download -qq -o APT::Sandbox::User=root $(for p in $packages; do echo "$p:$arch"; done)) >&2
    for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$work/root"; done

    # Debian's absolute symlinks (e.g. libsodium.so -> /usr/lib/...) must
    # point inside the sysroot, not at the host.
    find "$work/root" -type l | while read -r link; do
        target=$(readlink "$link")
        case "$target" in
            /*) ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$work/root$target")" "$link" ;;
        esac
    done
    echo "$packages" > "$work/root/.tern-packages"
    rm -rf "$sysroot"
    mv "$work/root" "$sysroot"
fi

mkdir -p "$root/build"
ln -sfn "$sysroot" "$root/build/sysroot-$arch"
[ -d "$sysroot/usr/lib/$triple" ] || { echo "sysroot.sh: $sysroot is incomplete" >&2; exit 1; }
echo "$sysroot"
