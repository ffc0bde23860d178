#!/usr/bin/env bash
# Builds components with real toolchains from testdata/real/ and runs the
# end-to-end checks on them (scripts/real_components.py): publish, resolve,
# tree, lock, bundle, unbundle, run under wasmtime with WASI, validate with
# the wasm-tools CLI. scripts/test.sh calls it; it can be run on its own.
#
# It installs what it needs when missing: the Python packages pinned in
# testdata/real/tools/requirements.txt (componentize-py, wasmtime,
# wasm-tools) and componentize-js from testdata/real/tools/package-lock.json
# (npm ci). Built components are kept in target/real-components/, keyed by
# the hash of their sources and the tool versions, so a second run only
# checks. Set REAL_COMPONENTS_NO_JS=1 to skip the componentize-js pair (no
# Node.js). `--build-only` builds the components and stops (for
# scripts/bench-real.sh).
set -euo pipefail
BUILD_ONLY=""
[ "${1:-}" = "--build-only" ] && BUILD_ONLY=1

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$(pwd)
REAL=testdata/real
OUT=target/real-components
mkdir -p "$OUT"

step() {
    printf '\n==> %s\n' "$*"
}

# ---------------------------------------------------------------------------
# Tools.
# ---------------------------------------------------------------------------
PY=${PYTHON:-python3}
if ! "$PY" -m pip install --quiet --disable-pip-version-check \
        -r "$REAL/tools/requirements.txt" >"$OUT/pip.log" 2>&1; then
    cat "$OUT/pip.log" >&2
    echo "error: cannot install $REAL/tools/requirements.txt" >&2
    exit 1
fi
# pip's scripts may live outside PATH (a user install, pyenv).
PATH="$("$PY" -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
export PATH
for tool in componentize-py wasm-tools; do
    command -v "$tool" >/dev/null || { echo "error: $tool is not on PATH after pip install" >&2; exit 1; }
done

JS=1
if [ -n "${REAL_COMPONENTS_NO_JS:-}" ]; then
    JS=""
elif ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "error: Node.js and npm are needed for the componentize-js pair (REAL_COMPONENTS_NO_JS=1 skips it)" >&2
    exit 1
fi
if [ -n "$JS" ]; then
    NODE_DIR="$OUT/node"
    mkdir -p "$NODE_DIR"
    if ! cmp -s "$REAL/tools/package-lock.json" "$NODE_DIR/package-lock.json" \
            || [ ! -d "$NODE_DIR/node_modules/@bytecodealliance/componentize-js" ]; then
        step "installing componentize-js (npm ci)"
        cp "$REAL/tools/package.json" "$REAL/tools/package-lock.json" "$NODE_DIR/"
        (cd "$NODE_DIR" && npm ci --silent --no-audit --no-fund)
    fi
    cp "$REAL/tools/componentize-js.mjs" "$NODE_DIR/"
fi

# ---------------------------------------------------------------------------
# Components, built in parallel, each cached by the hash of its inputs.
# ---------------------------------------------------------------------------
key_of() {
    # The files under the given paths (symlinks followed) and the tool's version.
    local tool_version=$1
    shift
    {
        echo "$tool_version"
        find -L "$@" -type f -not -path '*/__pycache__/*' | LC_ALL=C sort | xargs sha256sum
    } | sha256sum | cut -c1-16
}

build_py() { # NAME WORLD SRC_DIR WIT_DIR
    local name=$1 world=$2 src=$3 wit=$4
    local key
    key=$(key_of "$(componentize-py --version)" "$src" "$wit")
    local out="$OUT/$name.wasm"
    if [ -f "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then
        return
    fi
    local tmp
    tmp=$(mktemp -d "$OUT/build-$name.XXXXXX")
    cp -r "$src/." "$tmp/"
    (cd "$tmp" && componentize-py -d "$REPO/$wit" -w "$world" componentize app -o "$name.wasm") \
        >"$OUT/$name.log" 2>&1 || { cat "$OUT/$name.log" >&2; echo "error: building $name" >&2; return 1; }
    mv "$tmp/$name.wasm" "$out"
    echo "$key" >"$out.key"
    rm -rf "$tmp"
}

build_js() { # NAME WORLD SOURCE WIT_DIR
    local name=$1 world=$2 src=$3 wit=$4
    local key
    key=$(key_of "$(sha256sum <"$REAL/tools/package-lock.json")" "$src" "$wit")
    local out="$OUT/$name.wasm"
    if [ -f "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then
        return
    fi
    node "$NODE_DIR/componentize-js.mjs" "$src" "$wit" "$world" "$out.tmp" \
        >"$OUT/$name.log" 2>&1 || { cat "$OUT/$name.log" >&2; echo "error: building $name" >&2; return 1; }
    mv "$out.tmp" "$out"
    echo "$key" >"$out.key"
}

step "building real components (componentize-py${JS:+, componentize-js})"
start=$(date +%s)
pids=()
build_py greeter-py greeter "$REAL/greeter/py" "$REAL/greeter/wit" & pids+=($!)
build_py app-py app "$REAL/app/py" "$REAL/app/wit" & pids+=($!)
if [ -n "$JS" ]; then
    build_js greeter-js greeter "$REAL/greeter/js/greeter.js" "$REAL/greeter/wit" & pids+=($!)
fi
for pid in "${pids[@]}"; do
    wait "$pid"
done
echo "built in $(( $(date +%s) - start )) s: $(cd "$OUT" && ls -1 ./*.wasm | xargs -n1 basename | tr '\n' ' ')"

[ -z "$BUILD_ONLY" ] || exit 0

# ---------------------------------------------------------------------------
# The checks, with the CLI as a user has it.
# ---------------------------------------------------------------------------
step "cargo build -p warg-depsolve-cli"
cargo build --quiet -p warg-depsolve-cli
step "end-to-end checks on real components"
args=(--bin target/debug/warg-depsolve --built "$OUT")
[ -n "$JS" ] || args+=(--no-js)
"$PY" scripts/real_components.py "${args[@]}"
