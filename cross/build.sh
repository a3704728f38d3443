#!/bin/bash
# Builds Tern's programs as Embedded Swift for one architecture:
#
#   cross/build.sh amd64|arm64|armhf      -> build/<arch>/{ternd,tern-bench}
#
# Each library module is compiled whole-module in dependency order (emitting a
# .swiftmodule the next one imports), then each program is linked from all
# objects with unused sections dropped, and stripped. Incremental: a module
# or program is rebuilt only when its inputs changed (a stamp file holds the
# hash of its flags, its sources and the modules and objects it builds on).
set -euo pipefail

arch=${1:?usage: cross/build.sh amd64|arm64|armhf}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# Library modules in dependency order (cross/modules), and the programs built on them.
libraries=$(grep -v '^#' cross/modules | xargs)
programs="ternd tern tern-control tern-bench"

swiftc=${SWIFTC:-$(command -v swiftc)}
toolchain=$(dirname "$(dirname "$(readlink -f "$swiftc")")")
embedded="$toolchain/lib/swift/embedded"
clang="$toolchain/bin/clang"
objcopy="$toolchain/bin/llvm-objcopy"

case "$arch" in
    amd64)
        target=x86_64-unknown-linux-gnu
        triple=x86_64-linux-gnu
        sysroot=/
        cflags=()
        ;;
    arm64)
        target=aarch64-none-none-elf
        triple=aarch64-linux-gnu
        sysroot=$(cross/sysroot.sh arm64)
        cflags=()
        ;;
    armhf)
        target=armv7-none-none-eabi
        triple=arm-linux-gnueabihf
        sysroot=$(cross/sysroot.sh armhf)
        cflags=(-mfloat-abi=hard)
        ;;
    *) echo "build.sh: unknown architecture '$arch' (amd64, arm64 or armhf)" >&2; exit 2 ;;
esac
clang_target=$triple
[ "$arch" = armhf ] && clang_target=armv7-linux-gnueabihf

out=${TERN_BUILD_DIR:-build}/$arch     # TERN_BUILD_DIR: for parallel builds
objects="$out/obj"
mkdir -p "$objects"

# Clang flags for the C headers Swift imports, and for the few C files.
cc=(--sysroot="$sysroot" -isystem "$sysroot/usr/include" -isystem "$sysroot/usr/include/$triple"
    -D__linux__ -D__unix__ "${cflags[@]}")
xcc=()
for flag in "${cc[@]}"; do xcc+=(-Xcc "$flag"); done

# -Osize everywhere but arm64: there the Embedded compiler's -Osize
# miscompiles some multi-payload enums holding strings (the control server
# and the CLIs crash; Tests/Integration/control-smoke.sh shows it); -O does not.
optimize=-Osize
[ "$arch" = arm64 ] && optimize=-O

swift_flags=(-target "$target" -swift-version 6 -enable-experimental-feature Embedded -wmo "$optimize" -parse-as-library
             -Xfrontend -function-sections -I Sources/CTern -I Sources/CBenchBaseline/include -I "$objects"
             "${xcc[@]}")

# fingerprint FILE...: a hash of the compiler, the flags and the files' names
# and contents (the stamp that decides whether to rebuild).
fingerprint() {
    { echo "$swiftc ${swift_flags[*]}"; sha256sum "$@"; } | sha256sum | cut -d' ' -f1
}
# up_to_date NAME FINGERPRINT OUTPUT...: true if NAME was built from exactly
# these inputs and its outputs are still there.
up_to_date() {
    local name=$1 print=$2 output
    shift 2
    [ "$(cat "$objects/$name.stamp" 2>/dev/null)" = "$print" ] || return 1
    for output in "$@"; do [ -e "$output" ] || return 1; done
}

# Headers the Swift modules import through CTern; a change rebuilds everything.
headers=$(find Sources/CTern Sources/CBenchBaseline/include -name '*.h' -o -name '*.modulemap' | sort)
built_modules=()
for module in $libraries; do
    sources=$(find "Sources/$module" -name '*.swift' | sort)
    # shellcheck disable=SC2086
    print=$(fingerprint $sources $headers "${built_modules[@]}")
    if ! up_to_date "$module" "$print" "$objects/$module.o" "$objects/$module.swiftmodule"; then
        rm -f "$objects/$module.stamp"
        # shellcheck disable=SC2086
        "$swiftc" "${swift_flags[@]}" -module-name "$module" -emit-module -emit-module-path "$objects/$module.swiftmodule" \
            -c $sources -o "$objects/$module.o"
        echo "$print" >"$objects/$module.stamp"
    fi
    built_modules+=("$objects/$module.swiftmodule")
done

print=$(fingerprint Sources/CBenchBaseline/baseline.c $headers)
if ! up_to_date CBenchBaseline "$print" "$objects/CBenchBaseline.o"; then
    "$clang" --target="$clang_target" "${cc[@]}" -O2 -ffunction-sections -c Sources/CBenchBaseline/baseline.c \
        -I Sources/CBenchBaseline/include -o "$objects/CBenchBaseline.o"
    echo "$print" >"$objects/CBenchBaseline.stamp"
fi

library_objects=()
for module in $libraries; do library_objects+=("$objects/$module.o"); done

link=(--target="$clang_target" --sysroot="$sysroot" -fuse-ld=lld -Wl,--gc-sections -Wl,--as-needed
      -L"$sysroot/usr/lib/$triple" -L"$sysroot/lib/$triple")
if [ "$arch" != amd64 ]; then
    link+=(-L"$sysroot/usr/lib/gcc/$triple/12" -B"$sysroot/usr/lib/$triple")
fi

for program in $programs; do
    module=${program//-/_}
    sources=$(find "Sources/$program" -name '*.swift' | sort)
    extra=()
    [ "$program" = tern-bench ] && extra+=("$objects/CBenchBaseline.o")
    # shellcheck disable=SC2086
    print=$(fingerprint $sources "${built_modules[@]}" "${library_objects[@]}" "${extra[@]}")
    print=$(echo "$print ${link[*]}" | sha256sum | cut -d' ' -f1)
    up_to_date "$program" "$print" "$out/$program" && continue
    rm -f "$objects/$program.stamp"
    # shellcheck disable=SC2086
    "$swiftc" "${swift_flags[@]}" -module-name "$module" -c $sources -o "$objects/$program.o"
    "$clang" "${link[@]}" "$objects/$program.o" "${library_objects[@]}" "${extra[@]}" \
        "$embedded/$target/libswiftUnicodeDataTables.a" -lsodium -lmnl -lm -o "$out/$program"
    "$objcopy" --strip-all "$out/$program"
    echo "$print" >"$objects/$program.stamp"
done

for program in $programs; do
    printf '%-8s %-12s %8d bytes\n' "$arch" "$program" "$(stat -c %s "$out/$program")"
done
