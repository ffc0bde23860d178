#!/usr/bin/env bash
# Times whole processes of peer composition tools against `warg-depsolve
# bundle` on the same composition: the `meet` example of testdata/ (root
# meet -> inc, five -> add). See BENCHMARKS.md.
#
#   scripts/bench-peers.sh            # installs the peers if missing, then times
#
# Peers are installed with `cargo install --locked` into $PEER_TOOLS
# (default: target/peer-tools); that takes 5-10 minutes the first time.
# Timing uses hyperfine when it is on PATH (Debian: apt-get install
# hyperfine), else a loop over `date +%s%N`. A peer that cannot compose this
# example is reported with its error and skipped. Results go to stdout and
# target/bench-peers.md.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)
tools=${PEER_TOOLS:-$repo/target/peer-tools}
runs=${PEER_RUNS:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=$repo/target/bench-peers.md
mkdir -p "$repo/target"

step() { printf '\n==> %s\n' "$*"; }

step "peers in $tools"
for pair in wasm-tools:wasm-tools wac-cli:wac; do
    crate=${pair%%:*} bin=${pair##*:}
    if [ ! -x "$tools/bin/$bin" ]; then
        echo "installing $crate (cargo install --locked)"
        cargo install --locked --root "$tools" "$crate"
    fi
    echo "$bin: $("$tools/bin/$bin" --version)"
done
export PATH="$tools/bin:$PATH"

step "building warg-depsolve (release)"
cargo build --release -p warg-depsolve-cli --quiet
wd=${CARGO_TARGET_DIR:-$repo/target}/release/warg-depsolve

step "the composition"
reg=$repo/testdata/registry/test
wasm-tools parse "$repo/testdata/roots/meet.wat" -o "$work/meet.wasm"
cp "$reg/add/1.1.0.wasm" "$work/add.wasm"
cp "$reg/inc/1.0.0.wasm" "$work/inc.wasm"
cp "$reg/five/1.0.0.wasm" "$work/five.wasm"
ls -l "$work"/*.wasm

# warg-depsolve: resolves against the registry, then bundles.
ours="$wd bundle $work/meet.wasm -o $work/ours.wasm --registry $repo/testdata/registry --cache $work/cache"

# wasm-tools compose: dependencies by import name, from a config file.
# `five` imports add as the interface `test:add/api@1.0.0`, which
# wasm-compose only matches by that exact name, so add is listed under it
# too; wasm-compose then instantiates add twice (once per name), where
# warg-depsolve shares one instance of the track.
cat > "$work/compose.yml" <<YAML
dependencies:
  inc: { path: $work/inc.wasm }
  five: { path: $work/five.wasm }
  add: { path: $work/add.wasm }
  "test:add/api@1.0.0": { path: $work/add.wasm }
YAML
wasm_tools="wasm-tools compose $work/meet.wasm -c $work/compose.yml -o $work/wasm-tools.wasm"

# wac: `wac plug` needs each plug to export the socket's import name
# (`inc`, `five`), which registry packages do not (they export their
# functions and `test:<name>/api@<version>`), so it is tried as is, and
# `wac compose` with an explicit script is tried too.
wac_plug="wac plug $work/meet.wasm --plug $work/inc.wasm --plug $work/five.wasm -o $work/wac-plug.wasm"
cat > "$work/meet.wac" <<'WAC'
package bench:composition;
let add = new test:add { ... };
let inc = new test:inc { add: add, ... };
let five = new test:five { "test:add/api@1.0.0": add["test:add/api@1.0.0"], ... };
let meet = new test:meet { inc: inc, five: five, ... };
export meet...;
WAC
wac_compose="wac compose $work/meet.wac --dep test:add=$work/add.wasm --dep test:inc=$work/inc.wasm --dep test:five=$work/five.wasm --dep test:meet=$work/meet.wasm -o $work/wac-compose.wasm"

step "checking which tools compose this example"
names=() cmds=()
{
    echo "# Peer tools on the meet composition ($(date -u +%F))"
    echo
} > "$out"
for entry in "warg-depsolve bundle|$ours" "wasm-tools compose|$wasm_tools" "wac plug|$wac_plug" "wac compose|$wac_compose"; do
    name=${entry%%|*} cmd=${entry#*|}
    if err=$($cmd 2>&1 >/dev/null); then
        echo "ok: $name"
        names+=("$name") cmds+=("$cmd")
    else
        echo "cannot run: $name: $(echo "$err" | head -3)"
        echo "- $name cannot compose this example: \`$(echo "$err" | head -1)\`" >> "$out"
    fi
done
echo >> "$out"

step "timing ($runs runs each)"
if command -v hyperfine >/dev/null; then
    args=()
    for i in "${!names[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
    hyperfine -N --warmup 3 --runs "$runs" --export-markdown "$work/hf.md" "${args[@]}"
    cat "$work/hf.md" >> "$out"
else
    echo "| command | mean ms |" >> "$out"
    echo "| --- | --- |" >> "$out"
    for i in "${!names[@]}"; do
        start=$(date +%s%N)
        for _ in $(seq "$runs"); do ${cmds[$i]} >/dev/null 2>&1; done
        end=$(date +%s%N)
        ms=$(( (end - start) / runs / 1000000 ))
        echo "${names[$i]}: $ms ms"
        echo "| ${names[$i]} | $ms |" >> "$out"
    done
fi
step "written $out"
cat "$out"
