#!/usr/bin/env bash
# Runs every check and test of the workspace: the one command behind
# `.ci/run` and the README. Run it from anywhere; it works in the repo root.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# A CI machine builds once from scratch: incremental state would only take
# disk (3 GB for this workspace), and its disk is not always large.
if [ -n "${CI:-}" ]; then
    export CARGO_INCREMENTAL=0
fi

step() {
    printf '\n==> %s\n' "$*"
}

# ---------------------------------------------------------------------------
# HOOK: test services.
# The OCI source tests (crates/oci/tests) start their own registry server,
# Debian's `docker-registry` (the CNCF distribution registry), on a free
# loopback port with storage in a temporary directory, and kill it when they
# end. This section only makes sure the binary is installed, without leaving
# the package's system service running (it would listen on port 5000).
# ---------------------------------------------------------------------------
REGISTRY_BIN=/usr/bin/docker-registry
if [ ! -x "$REGISTRY_BIN" ]; then
    step "installing docker-registry (Debian) for the OCI tests"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        SUDO="sudo"
    fi
    # Forbid maintainer scripts from starting services while installing.
    POLICY=/usr/sbin/policy-rc.d
    POLICY_ADDED=""
    if [ ! -e "$POLICY" ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
        $SUDO chmod +x "$POLICY"
        POLICY_ADDED=1
    fi
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-registry >/dev/null
    if [ -n "$POLICY_ADDED" ]; then
        $SUDO rm -f "$POLICY"
    fi
    # Belt and braces, where systemd runs: no service left behind.
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
        $SUDO systemctl stop docker-registry || true
    fi
    if command -v systemctl >/dev/null 2>&1; then
        $SUDO systemctl disable docker-registry >/dev/null 2>&1 || true
    fi
    "$REGISTRY_BIN" --version
fi

step "cargo fmt --all -- --check"
cargo fmt --all -- --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo doc --workspace --no-deps (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

step "cargo test --workspace"
# The tests record every CLI output and every call they make to a bundle
# (crates/fixtures/src/run.rs), for the interop check below.
export WARG_DEPSOLVE_INTEROP_DIR="$PWD/target/interop"
rm -rf "$WARG_DEPSOLVE_INTEROP_DIR"
cargo test --workspace

step "real components (componentize-py, componentize-js, wasmtime with WASI)"
scripts/real-components.sh

# real-components.sh installed the wasm-tools CLI and wasmtime's Python
# package (testdata/real/tools/requirements.txt).
step "interop: every recorded output validated by the wasm-tools CLI, every recorded call run again in wasmtime-py"
PY=${PYTHON:-python3}
PATH="$("$PY" -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH" \
    "$PY" scripts/interop_check.py "$WARG_DEPSOLVE_INTEROP_DIR"

# A short fuzzing budget (FUZZING.md): 2,000 executions per target, the
# committed seeds first, 10-30 s in all; building the instrumented
# harness from a cold start takes 4-5 minutes of CPU. A fixed seed:
# the same inputs on every run, so CI does not fail by chance.
step "fuzz targets, short run (scripts/fuzz.sh 2000)"
FUZZ_ARGS="-seed=1" scripts/fuzz.sh 2000

step "all checks passed"
