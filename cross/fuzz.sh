#!/bin/bash
# Builds and runs one libFuzzer target from Tests/Fuzz against Tern's library
# modules, compiled as normal Swift with the fuzzer and address sanitizers.
#
#   cross/fuzz.sh TARGET [SECONDS [RUNS]]    e.g. cross/fuzz.sh FuzzKeys 30
#
# Runs for SECONDS or RUNS executions, whichever ends first. Starts from the
# committed seeds in Tests/Fuzz/Corpus/<TARGET>/ (real traffic and files the
# tests use, and what earlier long runs found) and from the corpus it keeps
# in build/fuzz/<TARGET>/corpus, where it adds what it finds; findings are
# written to build/fuzz/<TARGET>/.
set -euo pipefail

target=${1:?usage: cross/fuzz.sh TARGET [SECONDS [RUNS]]}
seconds=${2:-30}
runs=${3:--1}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[ -f "Tests/Fuzz/$target.swift" ] || { echo "fuzz.sh: no Tests/Fuzz/$target.swift" >&2; exit 2; }

# The library modules the fuzz targets import, with everything before them
# in dependency order (cross/modules): the list up to the last one imported.
imported=$(sed -n 's/^import \([A-Za-z]*\)$/\1/p' Tests/Fuzz/*.swift | sort -u)
libraries=""
prefix=""
for module in $(grep -v '^#' cross/modules); do
    prefix="$prefix $module"
    if grep -qx "$module" <<<"$imported"; then libraries=$prefix; fi
done

out="build/fuzz/$target"
objects="build/fuzz/obj"
mkdir -p "$out/corpus" "$objects"
flags=(-swift-version 6 -sanitize=fuzzer,address -parse-as-library -O -g -I Sources/CTern -I "$objects")

# The libraries are shared by every target: build them once per source (or C header) change.
stamp=$({ for module in $libraries; do find "Sources/$module" -name '*.swift' | sort | xargs cat; done; cat Sources/CTern/*.h; } \
    | sha256sum | cut -c1-64)
if [ "$(cat "$objects/stamp" 2>/dev/null)" != "$stamp" ]; then
    for module in $libraries; do
        swiftc "${flags[@]}" -module-name "$module" -emit-module -emit-module-path "$objects/$module.swiftmodule" \
            -wmo -c $(find "Sources/$module" -name '*.swift' | sort) -o "$objects/$module.o"
    done
    echo "$stamp" > "$objects/stamp"
fi
objs=()
for module in $libraries; do objs+=("$objects/$module.o"); done
swiftc "${flags[@]}" -module-name "$target" "Tests/Fuzz/$target.swift" "${objs[@]}" -lsodium -lm \
    -o "$out/$target" 2> >(grep -v "warning: .*export" >&2)

# Swift's crash reporter can hold the output open for minutes after a trap;
# libFuzzer's own report is what we want.
export SWIFT_BACKTRACE=enable=no
status=0
seeds=()
[ -d "Tests/Fuzz/Corpus/$target" ] && seeds+=("Tests/Fuzz/Corpus/$target")
"$out/$target" -max_total_time="$seconds" -runs="$runs" -print_final_stats=1 -artifact_prefix="$out/" \
    "$out/corpus" "${seeds[@]}" > "$out/log" 2>&1 || status=$?
grep -E "^(stat::number_of_executed_units|SUMMARY|==[0-9]+==ERROR)|Test unit written" "$out/log" || true
if [ "$status" -ne 0 ]; then
    echo "fuzz.sh: $target found a failure (exit $status); see $out/log" >&2
    tail -40 "$out/log" >&2
    exit 1
fi
echo "fuzz.sh: $target ran $(sed -n 's/^stat::number_of_executed_units: //p' "$out/log") inputs (at most ${seconds}s) without findings"
