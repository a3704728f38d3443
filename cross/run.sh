#!/bin/bash
# Runs a program built by cross/build.sh: natively on amd64, under qemu-user
# with the matching sysroot on arm64 and armhf.
#
#   cross/run.sh amd64|arm64|armhf PROGRAM [ARGS...]
set -euo pipefail

arch=${1:?usage: cross/run.sh amd64|arm64|armhf PROGRAM [ARGS...]}
program=${2:?usage: cross/run.sh amd64|arm64|armhf PROGRAM [ARGS...]}
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
binary="$root/${TERN_BUILD_DIR:-build}/$arch/$program"
[ -x "$binary" ] || { echo "run.sh: $binary is missing; run 'make release ARCH=$arch' first" >&2; exit 1; }

case "$arch" in
    amd64) exec "$binary" "$@" ;;
    arm64) qemu=qemu-aarch64-static; triple=aarch64-linux-gnu ;;
    armhf) qemu=qemu-arm-static; triple=arm-linux-gnueabihf ;;
    *) echo "run.sh: unknown architecture '$arch'" >&2; exit 2 ;;
esac
command -v "$qemu" >/dev/null || { echo "run.sh: $qemu not found; run 'make deps'" >&2; exit 1; }
sysroot=$(readlink -f "$root/build/sysroot-$arch")
# The foreign loader must find the sysroot's libraries, not the host's cache.
export QEMU_LD_PREFIX="$sysroot"
export LD_LIBRARY_PATH="$sysroot/lib/$triple:$sysroot/usr/lib/$triple"
exec "$qemu" "$binary" "$@"
