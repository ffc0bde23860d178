#!/usr/bin/env bash
# RUSTC_WRAPPER for the fuzz build (set by scripts/fuzz.sh): adds the
# coverage instrumentation in $FUZZ_RUSTFLAGS only to the crates whose code
# the targets exercise with fuzz input (ours, the wasm-tools crates that
# read and write binaries, the TOML, JSON, semver, base64 and hex parsers,
# pubgrub) and the harness. Everything else (the WAT text parser the
# `bundle` target uses only to build its inputs, hashing, collections,
# proc macros) is built plainly: fewer counters for libFuzzer to walk after
# every execution and fewer comparisons to trace, so more executions per
# second, and a shorter build. Only units built for the target (cargo passes
# `--target`) are instrumented; build scripts and proc macros run on the
# host without libFuzzer, so they must not be.
set -euo pipefail
rustc=$1
shift
crate=""
for_target=""
prev=""
for arg in "$@"; do
    case "$prev" in
        --crate-name) crate=$arg ;;
        --target) for_target=1 ;;
    esac
    prev=$arg
done
if [ -n "$for_target" ]; then
    case "$crate" in
        warg_depsolve* | wasmparser | wasm_encoder | wasm_compose | wasm_metadata | semver | \
            toml | toml_edit | toml_parser | toml_datetime | winnow | serde_json | pubgrub | \
            version_ranges | base64 | hex | depref | scan | lockfile | config | bundle_record | unbundle | \
            migrate | bundle)
            # Word splitting is wanted: several flags.
            # shellcheck disable=SC2086
            exec "$rustc" "$@" ${FUZZ_RUSTFLAGS}
            ;;
    esac
fi
exec "$rustc" "$@"
