#!/usr/bin/env bash
# Runs every check and test of the workspace: the one command behind
# `.ci/run` and the README. Run it from anywhere; it works in the repo root.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() {
    printf '\n==> %s\n' "$*"
}

# ---------------------------------------------------------------------------
# HOOK: test services.
# Later this section installs (if missing) and starts a local OCI registry
# (Debian `docker-registry` on loopback) for the OCI source tests, exports its
# address for `cargo test`, and stops it on exit (trap). Nothing runs here yet.
# ---------------------------------------------------------------------------

step "cargo fmt --all -- --check"
cargo fmt --all -- --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test --workspace"
cargo test --workspace

step "all checks passed"
