#!/usr/bin/env bash
# Regenerates the committed seed corpus (fuzz/seeds/<target>/) from the
# repository's fixtures: compiled roots, registry releases, the legacy
# binary, bundles and locked forms made by the real CLI, lock files it
# writes, and hand-written texts. Run it after the fixtures or the bundle
# format change; it replaces every seed directory. Needs `wasm-tools` (the
# PyPI package scripts/test.sh installs) to compile WAT.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
SEEDS=fuzz/seeds
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cargo build -q -p warg-depsolve-cli
CLI=target/debug/warg-depsolve
export XDG_CACHE_HOME="$WORK/cache" XDG_DATA_HOME="$WORK/data" XDG_CONFIG_HOME="$WORK/config"
unset WARG_DEPSOLVE_CONFIG

rm -rf "$SEEDS"
for t in depref scan lockfile config bundle_record unbundle recognise migrate bundle; do
    mkdir -p "$SEEDS/$t"
done

# Components: every root compiled, every registry release, the legacy
# binary; bundles and locked forms of the roots that resolve.
for wat in testdata/roots/*.wat; do
    name=$(basename "$wat" .wat)
    wasm-tools parse "$wat" -o "$SEEDS/scan/root-$name.wasm"
    cp "$SEEDS/scan/root-$name.wasm" "$SEEDS/migrate/root-$name.wasm"
    if "$CLI" bundle "$wat" --registry testdata/registry --lock "$WORK/$name.lock" \
        -o "$SEEDS/unbundle/$name.bundled.wasm" >/dev/null 2>&1; then
        "$CLI" lock "$wat" --registry testdata/registry --lock "$WORK/$name.lock" \
            -o "$SEEDS/scan/locked-$name.wasm" >/dev/null
        "$CLI" resolve "$wat" --registry testdata/registry --lock "$SEEDS/lockfile/$name.lock" >/dev/null
        cp "$SEEDS/unbundle/$name.bundled.wasm" "$SEEDS/scan/bundled-$name.wasm"
    fi
done
for wasm in testdata/registry/*/*/*.wasm; do
    rel=${wasm#testdata/registry/}
    cp "$wasm" "$SEEDS/scan/registry-$(echo "${rel%.wasm}" | tr / -).wasm"
done
cp testdata/legacy/meet-legacy.wasm "$SEEDS/scan/"
cp testdata/legacy/meet-legacy.wasm "$SEEDS/migrate/"
# The bad-input corpus (an empty file is no seed).
for bad in testdata/bad/*.wasm; do
    if [ -s "$bad" ]; then
        cp "$bad" "$SEEDS/scan/"
        cp "$bad" "$SEEDS/migrate/bad-$(basename "$bad")"
    fi
done
# The frame the bundle_record target writes its payloads into
# (src/lib.rs includes it).
test -f "$SEEDS/unbundle/meet.bundled.wasm"

# recognise: every bundle without its record, and after `wasm-tools strip`
# (which drops the record and name sections at every level).
for b in "$SEEDS"/unbundle/*.wasm; do
    stem=$(basename "$b" .wasm)
    wasm-tools strip -d warg-depsolve-bundle "$b" -o "$SEEDS/recognise/$stem.norecord.wasm"
    wasm-tools strip "$b" -o "$SEEDS/recognise/$stem.nocustom.wasm"
done

# bundle_record: a first byte picks the mode (even: a whole binary; odd:
# the record payload inside the meet bundle).
for b in "$SEEDS"/unbundle/*.wasm; do
    { printf '\0'; cat "$b"; } >"$SEEDS/bundle_record/whole-$(basename "$b")"
done
python3 - "$SEEDS" <<'EOF'
import pathlib, sys
seeds = pathlib.Path(sys.argv[1])
for bundle in sorted((seeds / "unbundle").glob("*.wasm")):
    data = bundle.read_bytes()
    payload = data[data.rindex(b'{"format"'):]
    (seeds / "bundle_record" / f"record-{bundle.stem}.json").write_bytes(b"\x01" + payload)

# depref: an import name, optionally 0xff and an external-id.
texts = {
    "unlocked-any": b"unlocked-dep=<test:add>",
    "unlocked-star": b"unlocked-dep=<test:add@*>",
    "unlocked-atleast": b"unlocked-dep=<test:add@{>=1.0.0}>",
    "unlocked-below": b"unlocked-dep=<test:add@{<2.0.0-rc.1}>",
    "unlocked-between": b"unlocked-dep=<test:add@{>=1.0.0 <2.0.0}>",
    "unlocked-req": b"unlocked-dep=<test:add@{^1.2, <1.5.0-beta.2}>",
    "unlocked-tilde": b"unlocked-dep=<ns:my-pkg@{~0.2}>",
    "locked": b"locked-dep=<test:add@1.0.0+build.5>",
    "locked-integrity": b"locked-dep=<test:add@1.0.0>,integrity=<sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU= sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb>",
    "named": b"inc\xffunlocked-dep=<test:inc@{>=1.0.0}>",
    "named-bad": b"inc\xffunlocked-dep=<test:inc@{>=1.0.0 <2}>",
    "interface": b"wasi:io/poll@0.2.0",
    "interface-pre": b"test:add/api@1.1.0-rc.1+meta",
    "interface-plain": b"ns:pkg/iface",
    "opaque-id": b"host-thing\xffsome-tool-data",
    "oci": b"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "track-major": b"3",
    "track-minor": b"0.7",
    "track-patch": b"0.0.9",
    "huge-version": b"unlocked-dep=<test:add@{>=18446744073709551615.18446744073709551615.18446744073709551615}>",
    "unicode": b"unlocked-dep=<t\xc3\xa9st:add@{>=1.0.0}>",
}
for name, text in texts.items():
    (seeds / "depref" / name).write_bytes(text)

configs = {
    "doc.toml": '''default_registry = "local"

[namespace_registries]
acme = "acme-dir"
wasi = { registry = "wasi.dev", metadata = { preferredProtocol = "oci" } }

[package_registry_overrides]
"acme:special" = "local"

[registry."local".local]
root = "registry"

[registry."acme-dir".local]
root = "/srv/acme-components"

[registry."ghcr.io".oci]
protocol = "https"
''',
    "typed.toml": '''default_registry = "r"
[registry.r]
type = "oci"
[registry.r.oci]
auth = { username = "u", password = "p" }
[registry.r.local]
root = "x"
''',
    "warg.toml": '''[registry."w".warg]
url = "https://example.invalid"
[namespace_registries]
test = { registry = "w" }
''',
    "bad-key.toml": 'default_registry = "local"\nunknown = 1\n',
}
for name, text in configs.items():
    (seeds / "config" / name).write_text(text)

# bundle: bytes the graph generator reads as choices.
import random
rng = random.Random(7)
for i in range(16):
    (seeds / "bundle" / f"random-{i:02}").write_bytes(bytes(rng.randrange(256) for _ in range(96)))
EOF
ls -R "$SEEDS" | head -100
du -sh "$SEEDS"
