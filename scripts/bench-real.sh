#!/usr/bin/env bash
# Bundle time and peak memory on components from real toolchains (the pairs
# of scripts/real-components.sh: a componentize-py app with a
# componentize-py or componentize-js greeter, 12-18 MB each), whole
# processes of the release CLI, with `wasm-tools compose` (the pip
# package's CLI) on the same pair as the peer. See BENCHMARKS.md.
#
#   scripts/bench-real.sh        # RUNS=10 by default
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)
runs=${RUNS:-10}
scripts/real-components.sh --build-only
PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
built=$repo/target/real-components
cargo build --release --quiet -p warg-depsolve-cli
wd=${CARGO_TARGET_DIR:-$repo/target}/release/warg-depsolve
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Median wall seconds and median peak RSS (MB) of a command over $runs runs.
measure() {
    local times=() rss=()
    for _ in $(seq "$runs"); do
        /usr/bin/time -f '%e %M' -o "$work/time" "$@" >/dev/null 2>&1
        read -r t m <"$work/time"
        times+=("$t") rss+=("$m")
    done
    local mt mr
    mt=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
    mr=$(printf '%s\n' "${rss[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
    printf '%s s | %d MB' "$mt" "$(( mr / 1024 ))"
}

echo "| pair | output | warg-depsolve bundle: median | peak RSS | wasm-tools compose: median | peak RSS |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for greeter in py js; do
    [ -f "$built/greeter-$greeter.wasm" ] || continue
    dir=$work/$greeter
    mkdir -p "$dir"
    "$wd" publish "$built/greeter-$greeter.wasm" --package demo:greeter --version 1.0.0 \
        --registry "$dir/registry" >/dev/null
    "$wd" resolve "$built/app-py.wasm" --registry "$dir/registry" --lock "$dir/app.lock" \
        --cache "$dir/cache" >/dev/null
    ours=$(measure "$wd" bundle "$built/app-py.wasm" --registry "$dir/registry" \
        --lock "$dir/app.lock" --cache "$dir/cache" -o "$dir/out.wasm")
    size=$(stat -c %s "$dir/out.wasm")
    peer=$(measure wasm-tools compose "$built/app-py.wasm" -d "$built/greeter-$greeter.wasm" \
        -o "$dir/peer.wasm")
    echo "| py app + $greeter greeter | $(( size / 1000000 )) MB | $ours | $peer |"
done
