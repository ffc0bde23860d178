#!/usr/bin/env bash
# Builds the fuzz harness (fuzz/, libFuzzer on the stable toolchain; see
# FUZZING.md) and runs every target, or the ones named, for a fixed number
# of executions each, starting from the committed seeds.
#
#   scripts/fuzz.sh [RUNS] [TARGET...]
#
# RUNS: executions per target (default $FUZZ_RUNS, else 10000). Each run
# first replays the whole corpus, then mutates. Other settings:
#   FUZZ_MAX_TIME  seconds per target at most (0, the default: no limit)
#   FUZZ_ARGS      more libFuzzer flags, e.g. "-seed=1 -max_len=8192"
#   FUZZ_KEEP_GOING=1  after a crash, go on with the next target (the
#                  script still exits with status 1 at the end)
#
# New inputs that reach new code go to fuzz/corpus/<target>/ (not
# committed); a crash stops the script with status 1 and leaves the input
# in fuzz/artifacts/<target>/. Replay one with
#   fuzz/target/<triple>/release/<target> fuzz/artifacts/<target>/crash-...
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS=${FUZZ_RUNS:-10000}
if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then
    RUNS=$1
    shift
fi
ALL=(depref scan lockfile config bundle_record unbundle recognise migrate bundle)
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
    TARGETS=("${ALL[@]}")
fi

# Coverage instrumentation with LLVM's SanitizerCoverage pass, which the
# stable compiler runs when asked (`-C passes`, `-C llvm-args`): the same
# counters cargo-fuzz asks for, minus AddressSanitizer (a nightly-only
# flag; the code under test has no `unsafe`). fuzz/rustc-wrapper.sh adds
# them to the crates under test only; `--target` tells it which units are
# for the target (build scripts and proc macros are not: they would not
# link without libFuzzer).
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
export FUZZ_RUSTFLAGS="-Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares"
export RUSTC_WRAPPER="$PWD/fuzz/rustc-wrapper.sh"
# `cfg(fuzzing)` for every crate, as cargo-fuzz sets it.
export RUSTFLAGS="--cfg fuzzing"
# The harness has its own lock file and target directory (fuzz/target).
unset CARGO_TARGET_DIR

start=$(date +%s)
printf '==> building the fuzz harness (%s)\n' "$TRIPLE"
# Not --locked: a dependency added to a workspace crate must not break the
# harness; cargo adds it to fuzz/Cargo.lock.
(cd fuzz && cargo build --release --target "$TRIPLE" --bins)
printf '    built in %ss\n' "$(($(date +%s) - start))"

BIN=fuzz/target/$TRIPLE/release
FAILED=()
for target in "${TARGETS[@]}"; do
    if [ ! -x "$BIN/$target" ]; then
        printf 'unknown target `%s` (targets: %s)\n' "$target" "${ALL[*]}" >&2
        exit 2
    fi
    mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
    printf '==> %s: %s executions\n' "$target" "$RUNS"
    t0=$(date +%s)
    # -timeout: an input that takes longer than 10 s is a hang (a finding).
    # ${FUZZ_ARGS} is split on purpose: it holds several flags.
    # shellcheck disable=SC2086
    if ! "$BIN/$target" "fuzz/corpus/$target" "fuzz/seeds/$target" \
        -runs="$RUNS" -max_total_time="${FUZZ_MAX_TIME:-0}" -timeout=10 \
        -rss_limit_mb=4096 -artifact_prefix="fuzz/artifacts/$target/" \
        -print_final_stats=1 ${FUZZ_ARGS:-} >"fuzz/artifacts/$target.log" 2>&1; then
        tail -n 60 "fuzz/artifacts/$target.log" >&2
        printf 'fuzz target `%s` failed; input in fuzz/artifacts/%s/\n' "$target" "$target" >&2
        if [ -z "${FUZZ_KEEP_GOING:-}" ]; then
            exit 1
        fi
        FAILED+=("$target")
        continue
    fi
    printf '    %s\n' "$(grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "fuzz/artifacts/$target.log" | tr '\n' ' ')"
    printf '    %ss, corpus %s inputs\n' "$(($(date +%s) - t0))" "$(ls "fuzz/corpus/$target" | wc -l)"
done
printf '==> fuzzing done in %ss\n' "$(($(date +%s) - start))"
if [ ${#FAILED[@]} -gt 0 ]; then
    printf 'failed: %s\n' "${FAILED[*]}" >&2
    exit 1
fi
