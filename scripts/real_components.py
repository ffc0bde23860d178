#!/usr/bin/env python3
"""End-to-end checks on components built by real toolchains.

scripts/real-components.sh builds the components (componentize-py and
componentize-js, from testdata/real/) and then runs this file:

    python3 scripts/real_components.py --bin PATH/TO/warg-depsolve --built DIR

For each pair (an app and a greeter provider, 12-18 MB each, sharing 16-25
WASI imports) it runs the CLI as a user would: publish the greeter into a
fresh local registry, resolve, tree, lock, bundle, unbundle and bundle
again; validates every output with the `wasm-tools` CLI; and runs the bundle
under wasmtime (the Python package, with WASI) checking the string it
returns. It prints one line per check and `N passed, N failed` at the end,
and exits non-zero when anything failed.
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


class Pair:
    """An app and the greeter it imports, and what the bundle must return."""

    def __init__(self, name, app, greeter, expected):
        self.name = name
        self.app = app
        self.greeter = greeter
        self.expected = expected


class Run:
    def __init__(self, binary, work):
        self.binary = binary
        self.work = work

    def cli(self, *args, ok=True):
        """Runs the CLI in the work directory; returns (status, stdout, stderr)."""
        proc = subprocess.run(
            [self.binary, *args],
            cwd=self.work,
            capture_output=True,
            text=True,
        )
        if ok and proc.returncode != 0:
            raise AssertionError(
                f"`warg-depsolve {' '.join(args)}` failed ({proc.returncode}):\n{proc.stderr}"
            )
        return proc

    def json(self, *args):
        return json.loads(self.cli("--format", "json", *args).stdout)

    def path(self, name):
        return os.path.join(self.work, name)


def wasm_tools_validate(path, features=None):
    args = ["wasm-tools", "validate", path]
    if features:
        args += ["--features", features]
    proc = subprocess.run(args, capture_output=True, text=True)
    assert proc.returncode == 0, f"wasm-tools rejects {path}: {proc.stderr}"


def top_level_imports(path):
    """The top-level import names of a component, from `wasm-tools print`."""
    proc = subprocess.run(
        ["wasm-tools", "component", "wit", path], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    names = []
    in_world = False
    for line in proc.stdout.splitlines():
        stripped = line.strip()
        if stripped.startswith("world "):
            in_world = True
        elif in_world and stripped == "}":
            break
        elif in_world and stripped.startswith("import "):
            names.append(stripped[len("import "):].rstrip(";"))
    return names


def run_bundle(path, func, *args):
    """Instantiates a bundle with WASI (wasmtime's Python package) and calls
    `func`."""
    import wasmtime
    from wasmtime import component

    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    store.set_wasi(wasmtime.WasiConfig())
    linker = component.Linker(engine)
    linker.add_wasip2()
    comp = component.Component.from_file(engine, path)
    instance = linker.instantiate(store, comp)
    f = instance.get_func(store, func)
    assert f is not None, f"no export `{func}` in {path}"
    return f(store, *args)


def check_pair(pair, binary, results):
    work = tempfile.mkdtemp(prefix=f"real-{pair.name}-")
    run = Run(binary, work)
    shutil.copy(pair.app, run.path("app.wasm"))
    shutil.copy(pair.greeter, run.path("greeter.wasm"))
    state = {}

    def check(title, body):
        start = time.monotonic()
        try:
            body()
        except Exception:  # noqa: BLE001 - every failure is reported
            results.append(False)
            print(f"FAIL {pair.name}: {title}")
            traceback.print_exc()
            return
        results.append(True)
        print(f"ok   {pair.name}: {title} ({time.monotonic() - start:.1f} s)")

    def inspect():
        versions = []
        wasi_imports = {}
        for file in ["app.wasm", "greeter.wasm"]:
            report = run.json("inspect", file)
            classes = {i["full_name"]: i["class"] for i in report["imports"]}
            wasi = [c for c in classes.values() if c["kind"] == "interface" and c["wasi"]]
            assert len(wasi) >= 15, (file, wasi)
            versions.append(wasi[0]["version"])
            for c in wasi:
                key = f"{c['package']}/{c['interface']}"
                wasi_imports.setdefault(key, []).append(c["version"])
        state["wasi_imports"] = wasi_imports
        app = run.json("inspect", "app.wasm")
        greet = {i["full_name"]: i["class"] for i in app["imports"]}["demo:greeter/greet@1.0.0"]
        assert greet["kind"] == "interface" and greet["package"] == "demo:greeter", greet
        # The WASI versions of the two components, app's first.
        state["wasi_versions"] = versions

    def publish():
        # Neither toolchain writes name/version metadata: both are given.
        report = run.json(
            "publish", "greeter.wasm", "--package", "demo:greeter",
            "--version", "1.0.0", "--registry", "registry",
        )
        assert report["dependencies"] == [], report["dependencies"]
        assert all(h.startswith("wasi:") for h in report["host_imports"]), report
        assert len(report["host_imports"]) == len(set(report["host_imports"]))
        assert report["digest"] == sha256(pair.greeter)
        state["greeter_digest"] = report["digest"]

    def resolve():
        report = run.json("resolve", "app.wasm", "--registry", "registry")
        assert report["lock"]["written"], report["lock"]
        packages = report["resolution"]["packages"]
        assert [(p["package"], p["version"], p["digest"]) for p in packages] == [
            ("demo:greeter", "1.0.0", state["greeter_digest"])
        ], packages
        tree = run.cli("tree", "app.wasm", "--registry", "registry").stdout
        assert "demo:greeter" in tree and "1.0.0" in tree, tree

    def lock():
        run.cli("lock", "app.wasm", "--registry", "registry", "-o", "app.locked.wasm")
        # The locked form carries `external-id` (a gated feature).
        wasm_tools_validate(run.path("app.locked.wasm"), "all")

    def bundle():
        start = time.monotonic()
        report = run.json(
            "bundle", "app.wasm", "--registry", "registry", "-o", "app.bundled.wasm"
        )
        state["bundle_seconds"] = time.monotonic() - start
        assert report["digest"] == sha256(run.path("app.bundled.wasm")), report
        # A bundle validates and runs with default features.
        wasm_tools_validate(run.path("app.bundled.wasm"))
        imports = top_level_imports(run.path("app.bundled.wasm"))
        assert imports and all(i.startswith("wasi:") for i in imports), imports
        assert len(imports) == len(set(imports)), imports
        state["imports"] = imports

    def merged_versions():
        # One import per WASI interface: where the two members import
        # semver-compatible versions, the bundle imports the higher one;
        # an interface only one member imports keeps its version.
        imports = state["imports"]
        unversioned = [i.split("@")[0] for i in imports]
        assert len(unversioned) == len(set(unversioned)), imports
        semver = lambda v: tuple(map(int, v.split(".")))  # noqa: E731
        expected = sorted(
            f"{name}@{max(versions, key=semver)}"
            for name, versions in state["wasi_imports"].items()
        )
        assert sorted(imports) == expected, (imports, expected)

    def runs():
        out = run_bundle(run.path("app.bundled.wasm"), "hello", "world")
        assert out == pair.expected, f"hello(\"world\") returned {out!r}"

    def unbundle():
        run.cli(
            "unbundle", "app.bundled.wasm", "-o", "back.locked.wasm",
            "--store", "store", "--registry", "extracted",
        )
        with open(run.path("back.locked.wasm"), "rb") as a, open(run.path("app.locked.wasm"), "rb") as b:
            assert a.read() == b.read(), "unbundle does not give back the locked form"
        extracted = run.path("extracted/demo/greeter/1.0.0.wasm")
        assert sha256(extracted) == state["greeter_digest"], "the extracted greeter differs"
        run.cli("bundle", "back.locked.wasm", "--store", "store", "-o", "again.wasm")
        assert sha256(run.path("again.wasm")) == sha256(run.path("app.bundled.wasm")), \
            "bundling the unbundled form gives other bytes"

    check("inspect classifies the greeter import and WASI imports", inspect)
    check("publish lists host imports apart from dependencies", publish)
    check("resolve and tree", resolve)
    check("lock validates (wasm-tools, all features)", lock)
    check("bundle validates (wasm-tools, default features), one import per name", bundle)
    if len(set(state.get("wasi_versions", []))) > 1:
        check("semver-compatible WASI versions surface once, at the higher", merged_versions)
    check(f"the bundle runs under wasmtime with WASI: {pair.expected!r}", runs)
    check("unbundle gives back the locked form and registry bytes; bundle again is identical", unbundle)
    if "bundle_seconds" in state:
        size = os.path.getsize(run.path("app.bundled.wasm"))
        print(f"     {pair.name}: bundle of {size} bytes in {state['bundle_seconds']:.2f} s (debug or release CLI as given)")
    shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True, help="the warg-depsolve binary")
    parser.add_argument("--built", required=True, help="directory of the built components")
    parser.add_argument("--no-js", action="store_true", help="skip the componentize-js pair")
    args = parser.parse_args()
    binary = os.path.abspath(args.bin)
    built = os.path.abspath(args.built)

    pairs = [
        Pair("py-app+py-greeter", f"{built}/app-py.wasm", f"{built}/greeter-py.wasm",
             "HELLO, WORLD!"),
    ]
    if not args.no_js:
        pairs.append(
            Pair("py-app+js-greeter", f"{built}/app-py.wasm", f"{built}/greeter-js.wasm",
                 "HI, WORLD!")
        )

    results = []
    for pair in pairs:
        check_pair(pair, binary, results)
    passed = sum(results)
    failed = len(results) - passed
    print(f"real components: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
