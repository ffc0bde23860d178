#!/usr/bin/env python3
"""Checks what the tests recorded against tools nobody here wrote.

`scripts/test.sh` runs `cargo test` with `$WARG_DEPSOLVE_INTEROP_DIR` set;
the tests then record (see crates/fixtures/src/run.rs):

- `outputs.jsonl`: every component a successful CLI command wrote with
  `-o` (bundles, locked forms, unbundled and migrated binaries);
- `calls.jsonl`: every call the tests made to a component under wasmtime
  (Rust), with its arguments and the number it returned;
- `components/<sha256>.wasm`: the bytes of each.

This script validates every recorded output with the `wasm-tools` CLI
(locked forms and unbundled outputs with `--features all`, as they import
components by `external-id`; everything else with the default features a
runtime has), and runs every recorded call again in a second runtime,
wasmtime's Python package, which must return the same number. It fails
on the first class of problem with every instance listed.

Usage: interop_check.py DIR
"""

import json
import os
import subprocess
import sys

# Commands whose output is a locked form: it validates with every feature
# on, and no runtime loads it (root-level component imports).
LOCKED_OUTPUTS = {"lock", "unbundle"}


def load(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def validate(path, features):
    args = ["wasm-tools", "validate", path]
    if features:
        args += ["--features", features]
    done = subprocess.run(args, capture_output=True, text=True)
    return None if done.returncode == 0 else done.stderr.strip()


def call(path, func, args):
    import wasmtime
    from wasmtime import component

    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    linker = component.Linker(engine)
    comp = component.Component.from_file(engine, path)
    instance = linker.instantiate(store, comp)
    f = instance.get_func(store, func)
    if f is None:
        raise RuntimeError(f"no export `{func}`")
    return f(store, *args)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = sys.argv[1]
    components = os.path.join(root, "components")
    outputs = load(os.path.join(root, "outputs.jsonl"))
    calls = load(os.path.join(root, "calls.jsonl"))
    if not outputs or not calls:
        print(f"error: nothing recorded in {root} (outputs: {len(outputs)}, calls: {len(calls)}); "
              "was cargo test run with WARG_DEPSOLVE_INTEROP_DIR set?", file=sys.stderr)
        return 1

    failures = []
    seen = {}
    for o in outputs:
        features = "all" if o["command"] in LOCKED_OUTPUTS else None
        key = (o["component"], features)
        if key in seen:
            continue
        problem = validate(os.path.join(components, o["component"]), features)
        seen[key] = problem
        if problem:
            failures.append(f"wasm-tools validate rejects a `{o['command']}` output "
                            f"({o['component']}): {problem}")
    ran = {}
    for c in calls:
        key = (c["component"], c["func"], tuple(c["args"]))
        if key in ran:
            continue
        path = os.path.join(components, c["component"])
        try:
            got = call(path, c["func"], c["args"])
        except Exception as e:  # noqa: BLE001 - every failure is reported
            got = f"error: {e}"
        ran[key] = got
        if got != c["result"]:
            failures.append(f"wasmtime-py: {c['func']}{tuple(c['args'])} of {c['component']} "
                            f"= {got!r}, wasmtime (Rust) gave {c['result']}")
    print(f"interop: {len(seen)} outputs validated with wasm-tools, "
          f"{len(ran)} distinct calls run again in wasmtime-py")
    if failures:
        print("\n".join(f"FAIL {f}" for f in failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
