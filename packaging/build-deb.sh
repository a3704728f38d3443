#!/bin/bash
# Builds Tern's two Debian packages for one architecture from the Embedded
# release binaries, with plain dpkg-deb from a staging tree (no debhelper):
#
#   packaging/build-deb.sh amd64|arm64|armhf
#       -> build/deb/tern_<version>_<arch>.deb          ternd, tern, ternd.service
#          build/deb/tern-control_<version>_<arch>.deb  tern-control, its unit
#
# The version comes from the VERSION file at the repository root. The
# programs carry their own copy (they are built without generated code), so
# this script refuses to package binaries whose --version disagrees, and a
# changelog whose top entry disagrees.
#
# The binaries are taken from build/<arch>/ ($TERN_BUILD_DIR/<arch>/), and
# built there first with cross/build.sh when missing or older than any
# source file.
set -euo pipefail

arch=${1:?usage: packaging/build-deb.sh amd64|arm64|armhf}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

case "$arch" in
    amd64) qemu=""; triple=x86_64-linux-gnu ;;
    arm64) qemu="qemu-aarch64-static"; triple=aarch64-linux-gnu ;;
    armhf) qemu="qemu-arm-static"; triple=arm-linux-gnueabihf ;;
    *) echo "build-deb.sh: unknown architecture '$arch' (amd64, arm64 or armhf)" >&2; exit 2 ;;
esac

version=$(tr -d '[:space:]' < VERSION)
[[ "$version" =~ ^[0-9][0-9A-Za-z.+~]*$ ]] || { echo "build-deb.sh: VERSION '$version' is not a Debian version" >&2; exit 1; }
changelog_version=$(sed -n '1s/^tern (\([^)]*\)).*/\1/p' packaging/changelog)
if [ "$changelog_version" != "$version" ]; then
    echo "build-deb.sh: packaging/changelog starts with $changelog_version, VERSION says $version: add an entry" >&2
    exit 1
fi

# The packages' timestamps: the changelog's date, so that a rebuild of the
# same binaries gives the same .deb files (dpkg-deb reads SOURCE_DATE_EPOCH).
SOURCE_DATE_EPOCH=$(date -d "$(sed -n 's/^ -- .*>  //p' packaging/changelog | head -1)" +%s)
export SOURCE_DATE_EPOCH

bin=${TERN_BUILD_DIR:-build}/$arch
programs="ternd tern tern-control"
out=${TERN_BUILD_DIR:-build}/deb

# --- the binaries ---------------------------------------------------------

stale=
for program in $programs; do
    if [ ! -x "$bin/$program" ] || [ -n "$(find Sources cross -newer "$bin/$program" -print -quit)" ]; then
        stale=yes
    fi
done
if [ -n "$stale" ]; then
    echo "build-deb.sh: building the $arch binaries (missing or older than the sources)"
    cross/build.sh "$arch"
fi

# Runs one of the binaries: natively on amd64, under qemu-user with the ARM
# sysroot's libraries otherwise (no binfmt_misc needed here).
run() {
    local program=$1
    shift
    if [ -z "$qemu" ]; then
        "$bin/$program" "$@"
    else
        local sysroot
        sysroot=$(cross/sysroot.sh "$arch")
        QEMU_LD_PREFIX="$sysroot" LD_LIBRARY_PATH="$sysroot/lib/$triple:$sysroot/usr/lib/$triple" \
            "$qemu" "$bin/$program" "$@"
    fi
}

for program in $programs; do
    said=$(run "$program" --version)
    if [ "$said" != "$program $version" ]; then
        echo "build-deb.sh: $bin/$program --version says '$said', VERSION says '$version':" >&2
        echo "  update the version string in Sources/$program (and VERSION, packaging/changelog) together" >&2
        exit 1
    fi
done

# --- Depends, from what the binaries really link ---------------------------

# Maps each NEEDED library to its Debian package. The minimum versions are
# those of the libraries' shlibs files (libmnl0: >= 1.0.4; libsodium23: any,
# we ask for bookworm's 1.0.18); glibc's is the newest GLIBC_x.y symbol
# version the binaries use, libgcc's the newest GCC_x.y. A library not listed here stops the build: add
# it (and to cross/sysroot.sh and the verify roots) when Tern links it.
depends_of() {
    local needed glibc depends=()
    for needed in $(readelf -d "$@" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u); do
        case "$needed" in
            libc.so.6|ld-linux*.so.*|libm.so.6) ;;   # glibc, below
            libsodium.so.23) depends+=("libsodium23 (>= 1.0.18)") ;;
            libmnl.so.0) depends+=("libmnl0 (>= 1.0.4)") ;;
            libgcc_s.so.1)   # armhf: the ARM EHABI unwinder
                depends+=("libgcc-s1 (>= $(readelf -V "$@" | grep -o 'GCC_[0-9][0-9.]*' | sed 's/GCC_//' | sort -uV | tail -1))") ;;
            *) echo "build-deb.sh: $* need $needed: which Debian package has it? (see depends_of)" >&2; return 1 ;;
        esac
    done
    glibc=$(readelf -V "$@" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1) || true
    [ -n "$glibc" ] || { echo "build-deb.sh: no glibc symbol versions in $*" >&2; return 1; }
    depends=("libc6 (>= $glibc)" "${depends[@]}")
    local joined
    joined=$(IFS=,; echo "${depends[*]}")
    echo "${joined//,/, }"
}

# --- staging ----------------------------------------------------------------

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# Installed-Size the way dpkg-gencontrol counts it: each file's size rounded
# up to KiB, one KiB for each directory and symlink.
installed_size() {
    find "$1" -path "$1/DEBIAN" -prune -o -mindepth 1 -printf '%y %s\n' |
        awk '{ total += ($1 == "f") ? int(($2 + 1023) / 1024) : 1 } END { print total }'
}

# finish PACKAGE EXTRA_DEPENDS BINARIES...: adds the docs and DEBIAN/ (from
# packaging/PACKAGE/) to $work/PACKAGE, whose files the caller has staged,
# and builds the .deb.
finish() {
    local package=$1 extra=$2
    shift 2
    local stage=$work/$package depends
    depends=$(depends_of "$@")
    [ -n "$extra" ] && depends="$depends, $extra"

    install -d -m 0755 "$stage/usr/share/doc/$package"
    install -m 0644 packaging/copyright "$stage/usr/share/doc/$package/copyright"
    gzip -9n < packaging/changelog > "$stage/usr/share/doc/$package/changelog.gz"
    chmod 0644 "$stage/usr/share/doc/$package/changelog.gz"

    install -d -m 0755 "$stage/DEBIAN"
    for script in postinst prerm postrm; do
        install -m 0755 "packaging/$package/$script" "$stage/DEBIAN/$script"
    done
    (cd "$stage" && find etc -type f | sed 's|^|/|' | sort) > "$stage/DEBIAN/conffiles"
    chmod 0644 "$stage/DEBIAN/conffiles"
    sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@DEPENDS@/$depends/" \
        -e "s/@INSTALLED_SIZE@/$(installed_size "$stage")/" "packaging/$package/control.in" > "$stage/DEBIAN/control"
    (cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | LC_ALL=C sort | xargs md5sum) \
        > "$stage/DEBIAN/md5sums"
    chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"

    find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
    dpkg-deb --root-owner-group -Zxz --build "$stage" "$out/${package}_${version}_$arch.deb" >/dev/null
    echo "built $out/${package}_${version}_$arch.deb  Installed-Size $(installed_size "$stage") KiB  Depends: $depends"
}

# man_page NAME STAGE: the page with the version filled in, compressed.
man_page() {
    install -d -m 0755 "$2/usr/share/man/man8"
    sed "s/@VERSION@/$version/" "packaging/man/$1.8" | gzip -9n > "$2/usr/share/man/man8/$1.8.gz"
    chmod 0644 "$2/usr/share/man/man8/$1.8.gz"
}

# tern: the node daemon and its CLI.
stage=$work/tern
install -d -m 0755 "$stage/usr/sbin" "$stage/usr/bin" "$stage/lib/systemd/system" "$stage/etc/default"
install -m 0755 "$bin/ternd" "$stage/usr/sbin/ternd"
install -m 0755 "$bin/tern" "$stage/usr/bin/tern"
install -m 0644 packaging/tern/ternd.service "$stage/lib/systemd/system/ternd.service"
install -d -m 0755 "$stage/usr/lib/tern"
install -m 0755 packaging/tern/wg-socket-link "$stage/usr/lib/tern/wg-socket-link"
install -m 0644 packaging/tern/default "$stage/etc/default/tern"
man_page ternd "$stage"
man_page tern "$stage"
finish tern "adduser" "$stage/usr/sbin/ternd" "$stage/usr/bin/tern"

# tern-control: the coordination server; postinst creates its system user.
stage=$work/tern-control
install -d -m 0755 "$stage/usr/bin" "$stage/lib/systemd/system" "$stage/etc/default"
install -m 0755 "$bin/tern-control" "$stage/usr/bin/tern-control"
install -m 0644 packaging/tern-control/tern-control.service "$stage/lib/systemd/system/tern-control.service"
install -m 0644 packaging/tern-control/default "$stage/etc/default/tern-control"
man_page tern-control "$stage"
finish tern-control "adduser" "$stage/usr/bin/tern-control"
