//! The compose passes on the fixture registry, run under wasmtime's default
//! configuration.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use warg_depsolve_compose::{
    fetch_packages, lock, migrate, read_record, unbundle, Bundler, ComposeError, Packages, Threads,
};
use warg_depsolve_names::scan::{scan, NestedKind};
use warg_depsolve_names::PackageName;
use warg_depsolve_registry::{
    Cache, CachedSource, Listing, MemorySource, ReleaseMetadata, Source, SourceError, Verified,
};
use warg_depsolve_solver::Resolution;
use wasmparser::{Validator, WasmFeatures};
use wasmtime::component::{Component, Linker};
use wasmtime::Store;

fn validates(bytes: &[u8]) {
    Validator::new_with_features(WasmFeatures::all())
        .validate_all(bytes)
        .unwrap();
}

fn bundled(name: &str) -> Vec<u8> {
    let (root, resolution) = resolved(name);
    let out = Bundler::from_root(&root, &resolution, Packages::Source(&registry()))
        .to_vec()
        .unwrap();
    validates(&out);
    Validator::new().validate_all(&out).unwrap();
    out
}

#[test]
fn meet_bundle_runs() {
    assert_eq!(call2(&bundled("meet"), "full", 1, 2), 10);
}

/// Interface imports on the root, wired to the named export on the same
/// track (five 1.0.0: the import `test:five/api@1.0.0` names no
/// pre-release, so 1.1.0-rc.1 is not a provider).
#[test]
fn meet_iface_bundle_runs() {
    assert_eq!(call2(&bundled("meet-iface"), "full", 1, 2), 10);
}

#[test]
fn diamond_bundle_runs() {
    assert_eq!(call1(&bundled("app"), "run", 1), 445);
}

#[test]
fn backtrack_bundle_runs() {
    assert_eq!(call1(&bundled("backtrack"), "run", 1), 304);
}

#[test]
fn prerelease_bundle_runs() {
    assert_eq!(call1(&bundled("prerelease"), "second-of", 1), 51);
}

#[test]
fn two_tracks_each_get_their_own() {
    let out = bundled("tracks");
    assert_eq!(call2(&out, "via-one", 1, 2), 3);
    assert_eq!(call2(&out, "via-two", 1, 2), 1003);
    let record = read_record(&out).unwrap();
    let adds: Vec<_> = record
        .dependencies
        .iter()
        .filter(|d| d.package == "test:add")
        .map(|d| d.version.as_str())
        .collect();
    assert_eq!(adds, ["1.1.0", "2.0.0"]);
}

#[test]
fn shared_add_is_instantiated_once() {
    let out = bundled("meet");
    let scanned = scan(&out).unwrap();
    let nested: Vec<_> = scanned
        .nested
        .iter()
        .filter(|n| n.kind == NestedKind::Component)
        .collect();
    // add, five, inc and the root: one component and one instance each.
    assert_eq!(nested.len(), 4);
    assert_eq!(scanned.instance_count.component, 4);
    let record = read_record(&out).unwrap();
    let packages: Vec<_> = record
        .dependencies
        .iter()
        .map(|d| d.package.as_str())
        .collect();
    assert_eq!(packages, ["test:add", "test:five", "test:inc"]);
    // Nothing left to import: add is provided once, to both inc and five.
    assert!(scanned.imports.is_empty());
}

#[test]
fn nested_bytes_are_the_registry_bytes_minus_attributes() {
    let out = bundled("meet");
    let scanned = scan(&out).unwrap();
    let record = read_record(&out).unwrap();
    let registry_inc = std::fs::read(testdata().join("registry/test/inc/1.0.0.wasm")).unwrap();
    let inc = record
        .dependencies
        .iter()
        .find(|d| d.package == "test:inc")
        .unwrap();
    // The only section of inc that changed is its import section.
    assert_eq!(inc.patches.len(), 1);
    // add has no attributes at all: nested verbatim.
    let add = record
        .dependencies
        .iter()
        .find(|d| d.package == "test:add")
        .unwrap();
    assert!(add.patches.is_empty());
    let registry_add = std::fs::read(testdata().join("registry/test/add/1.1.0.wasm")).unwrap();
    assert!(scanned.nested.iter().any(|n| n.bytes(&out) == registry_add));
    assert!(!scanned.nested.iter().any(|n| n.bytes(&out) == registry_inc));
}

#[test]
fn bundling_twice_gives_identical_bytes() {
    for name in ["meet", "app", "tracks", "host"] {
        assert_eq!(bundled(name), bundled(name), "{name}");
        let (root, resolution) = resolved(name);
        assert_eq!(
            lock(&root, &resolution, &registry()).unwrap(),
            lock(&root, &resolution, &registry()).unwrap()
        );
    }
}

#[test]
fn round_trips_are_byte_exact() {
    for name in [
        "meet",
        "meet-iface",
        "app",
        "backtrack",
        "tracks",
        "host",
        "prerelease",
    ] {
        let (root, resolution) = resolved(name);
        let locked = lock(&root, &resolution, &registry()).unwrap();
        validates(&locked);
        let b = Bundler::from_root(&root, &resolution, Packages::Source(&registry()))
            .to_vec()
            .unwrap();

        // unbundle(B) is the locked form and the registry's exact bytes.
        let un = unbundle(&b).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(un.locked, locked, "{name}: unbundle(bundle) != lock");
        assert_eq!(un.packages.len(), resolution.packages.len());
        for p in &un.packages {
            let path = testdata()
                .join("registry")
                .join(p.package.namespace())
                .join(p.package.name())
                .join(format!("{}.wasm", p.version));
            assert_eq!(
                p.bytes,
                std::fs::read(path).unwrap(),
                "{name}: {}",
                p.package
            );
            assert!(p.digest.matches(&p.bytes));
        }

        // bundle(unbundle(B)) == B, from a store holding only the extracted bytes.
        let store = MemorySource::new("store");
        for p in &un.packages {
            store.add(&p.package, &p.version, p.bytes.clone()).unwrap();
        }
        assert_eq!(
            Bundler::from_locked(&un.locked, &store).to_vec().unwrap(),
            b,
            "{name}"
        );

        // unbundle(bundle(L)) == L.
        let b2 = Bundler::from_locked(&locked, &registry()).to_vec().unwrap();
        assert_eq!(b2, b);
        assert_eq!(unbundle(&b2).unwrap().locked, locked);
    }
}

#[test]
fn locked_imports_carry_locked_references() {
    let (root, resolution) = resolved("meet");
    let locked = lock(&root, &resolution, &registry()).unwrap();
    let scanned = scan(&locked).unwrap();
    let imports: Vec<_> = scanned
        .imports
        .iter()
        .map(|i| (i.name.name.as_str(), i.name.external_id.clone().unwrap()))
        .collect();
    assert_eq!(imports.len(), 3);
    let add =
        Integrity::sha256(&std::fs::read(testdata().join("registry/test/add/1.1.0.wasm")).unwrap());
    assert_eq!(imports[0].0, "test-add-1");
    assert_eq!(
        imports[0].1,
        format!("locked-dep=<test:add@1.1.0>,integrity=<{add}>")
    );
    assert!(imports.iter().all(|(_, id)| id.starts_with("locked-dep=<")));
    // The root is nested, not imported.
    assert_eq!(
        scanned
            .nested
            .iter()
            .filter(|n| n.kind == NestedKind::Component)
            .count(),
        1
    );
}

use warg_depsolve_names::Integrity;

#[test]
fn legacy_binary_migrates_then_bundles_and_runs() {
    let legacy = std::fs::read(testdata().join("legacy/meet-legacy.wasm")).unwrap();
    assert!(Validator::new_with_features(WasmFeatures::all())
        .validate_all(&legacy)
        .is_err());
    let migrated = migrate(&legacy).unwrap();
    validates(&migrated);
    // Exactly what meet.wat compiles to.
    assert_eq!(migrated, root("meet"));
    let resolution = resolve_bytes(&registry(), "meet-legacy", &migrated);
    let out = Bundler::from_root(&migrated, &resolution, Packages::Source(&registry()))
        .to_vec()
        .unwrap();
    assert_eq!(call2(&out, "full", 1, 2), 10);
    // Migrating a current binary changes nothing.
    assert_eq!(migrate(&migrated).unwrap(), migrated);
}

#[test]
fn host_imports_survive_bundling() {
    let out = bundled("host");
    let scanned = scan(&out).unwrap();
    let names: Vec<_> = scanned
        .imports
        .iter()
        .map(|i| i.name.name.as_str())
        .collect();
    assert_eq!(names, ["log", "wasi:clocks/monotonic-clock@0.2.3"]);

    let engine = engine();
    let component = Component::new(&engine, &out).unwrap();
    let mut linker: Linker<Arc<Mutex<Vec<u32>>>> = Linker::new(&engine);
    linker
        .root()
        .func_wrap(
            "log",
            |store: wasmtime::StoreContextMut<'_, Arc<Mutex<Vec<u32>>>>, (x,): (u32,)| {
                store.data().lock().unwrap().push(x);
                Ok(())
            },
        )
        .unwrap();
    linker
        .instance("wasi:clocks/monotonic-clock@0.2.3")
        .unwrap()
        .func_wrap("now", |_, (): ()| Ok((42u64,)))
        .unwrap();
    let logged = Arc::new(Mutex::new(Vec::new()));
    let mut store = Store::new(&engine, logged.clone());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let run = instance
        .get_typed_func::<(u32,), (u32,)>(&mut store, "run")
        .unwrap();
    assert_eq!(run.call(&mut store, (1,)).unwrap().0, 3);
    assert_eq!(*logged.lock().unwrap(), [1]);
}

#[test]
fn tampered_store_fails_naming_package_and_digests() {
    let (root, resolution) = resolved("meet");
    let locked = lock(&root, &resolution, &registry()).unwrap();

    // A content store (the registry crate's cache, as `unbundle --store`
    // fills it) holding every package, with one byte of add flipped.
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let packages = fetch_packages(&resolution, &registry()).unwrap();
    for (p, bytes) in resolution.packages.iter().zip(&packages) {
        cache.content().insert(&p.digest, bytes).unwrap();
    }
    let add = resolution
        .packages
        .iter()
        .find(|p| p.package.to_string() == "test:add")
        .unwrap();
    let path = cache.content().path_of(&add.digest);
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    let bad = Integrity::sha256(&bytes);
    std::fs::write(&path, &bytes).unwrap();
    let store = CachedSource::offline(registry(), cache);

    for err in [
        Bundler::from_root(&root, &resolution, Packages::Source(&store))
            .to_vec()
            .unwrap_err(),
        Bundler::from_locked(&locked, &store).to_vec().unwrap_err(),
    ] {
        // Offline, the damaged file cannot be fetched again: named, with
        // both digests (online it would heal; see the registry's tests).
        let ComposeError::Fetch { source, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(
            matches!(**source, SourceError::DamagedCache { .. }),
            "{source:?}"
        );
        let message = format!("{err}: {source}");
        assert!(message.contains("test:add@1.1.0"), "{message}");
        assert!(message.contains(&add.digest.to_oci()), "{message}");
        assert!(message.contains(&bad.to_oci()), "{message}");
    }

    // A source that hands out other bytes than it was asked for (with a
    // true proof of those bytes) is caught by the compose pass itself,
    // which compares the digests.
    let lying = Lying(MemorySource::new("lying"), bytes.into());
    let message = Bundler::from_root(&root, &resolution, Packages::Source(&lying))
        .to_vec()
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("test:add@1.1.0")
            && message.contains(&add.digest.to_oci())
            && message.contains(&bad.to_oci()),
        "{message}"
    );
}

/// A broken source: every fetch returns the same bytes, whatever was
/// asked for.
struct Lying(MemorySource, Arc<[u8]>);

impl Source for Lying {
    fn name(&self) -> &str {
        "lying"
    }
    fn registry_for(&self, _: &PackageName) -> &str {
        "lying"
    }
    fn versions(&self, p: &PackageName) -> Result<Listing, SourceError> {
        self.0.versions(p)
    }
    fn metadata(
        &self,
        p: &PackageName,
        v: &semver::Version,
    ) -> Result<Arc<ReleaseMetadata>, SourceError> {
        self.0.metadata(p, v)
    }
    fn fetch(
        &self,
        _: &PackageName,
        _: &semver::Version,
        _: &Integrity,
    ) -> Result<Verified, SourceError> {
        Ok(Verified::hash(self.1.clone()))
    }
}

#[test]
fn a_tampered_bundle_fails_to_unbundle() {
    let out = bundled("meet");
    let record = read_record(&out).unwrap();
    let scanned = scan(&out).unwrap();
    // Flip a byte inside the nested add (the first nested component).
    let add = record
        .dependencies
        .iter()
        .find(|d| d.package == "test:add")
        .unwrap();
    let _ = add;
    let range = scanned.nested[0].range.clone();
    let mut tampered = out.clone();
    let at = range.end - 1;
    tampered[at] ^= 0x01;
    let err = unbundle(&tampered).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("test:add@1.1.0"), "{message}");
}

#[test]
fn unbundle_rejects_non_bundles() {
    let err = unbundle(&root("meet")).unwrap_err();
    assert!(matches!(err, ComposeError::Record(_)), "{err:?}");
}

/// `component` with a custom section of `n` bytes appended (so the whole
/// composition is large enough for the two-thread path).
fn padded(component: &[u8], n: usize) -> Vec<u8> {
    let mut contents = vec![7u8]; // name length
    contents.extend_from_slice(b"padding");
    contents.resize(n, 0xab);
    let mut out = component.to_vec();
    out.push(0);
    let mut len = contents.len();
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        out.push(if len == 0 { byte } else { byte | 0x80 });
        if len == 0 {
            break;
        }
    }
    out.extend_from_slice(&contents);
    out
}

/// Every way to ask for a bundle, on one thread and on two (a one-core CI
/// machine never takes the two-thread path by itself): from the root with
/// packages held or fetched, from the locked form; into a buffer, parts or
/// a writer. All give the same bytes, and the parts' record is the
/// bundle's.
fn every_way_gives(root: &[u8], resolution: &Resolution, source: &dyn Source, expected: &[u8]) {
    let packages = fetch_packages(resolution, source).unwrap();
    let locked = lock(root, resolution, source).unwrap();
    let record = read_record(expected).unwrap();
    for threads in [Threads::One, Threads::Two, Threads::Auto] {
        for bundler in [
            Bundler::from_root(root, resolution, Packages::Held(&packages)),
            Bundler::from_root(root, resolution, Packages::Source(source)),
            Bundler::from_locked(&locked, source),
        ] {
            let bundler = bundler.threads(threads);
            assert_eq!(bundler.to_vec().unwrap(), expected, "{threads:?}");
            let parts = bundler.to_parts().unwrap();
            assert_eq!(parts.to_vec(), expected, "{threads:?}");
            assert_eq!(parts.len(), expected.len());
            // Written while checked: the same bytes, and the record read
            // from the parts without gathering them.
            let mut written = Vec::new();
            let parts = bundler.to_writer(&mut written).unwrap();
            assert_eq!(written, expected, "{threads:?}");
            assert_eq!(parts.record().unwrap(), record);
        }
    }
}

/// Held packages that do not match their digests fail on one thread and on
/// two, whatever the output, naming the package and both digests.
fn tampered_packages_fail(root: &[u8], resolution: &Resolution, source: &dyn Source) {
    let packages = fetch_packages(resolution, source).unwrap();
    for tampered in 0..packages.len() {
        let mut bad: Vec<Arc<[u8]>> = packages.clone();
        let mut bytes = bad[tampered].to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        let actual = Integrity::sha256(&bytes);
        bad[tampered] = bytes.into();
        let label = resolution.label(tampered);
        for threads in [Threads::One, Threads::Two, Threads::Auto] {
            let bundler =
                Bundler::from_root(root, resolution, Packages::Held(&bad)).threads(threads);
            for err in [
                bundler.to_vec().unwrap_err(),
                bundler.to_parts().unwrap_err(),
                bundler.to_writer(&mut Vec::new()).unwrap_err(),
            ] {
                assert!(
                    matches!(err, ComposeError::DigestMismatch { .. }),
                    "{threads:?}: {err:?}"
                );
                let message = err.to_string();
                assert!(message.contains(&label), "{message}");
                assert!(
                    message.contains(&resolution.packages[tampered].digest.to_oci()),
                    "{message}"
                );
                assert!(message.contains(&actual.to_oci()), "{message}");
            }
        }
    }
}

/// `meet` as it is (small: [`Threads::Auto`] takes one thread).
#[test]
fn both_thread_modes_give_the_same_bundle_and_the_same_checks() {
    let source = registry();
    let (root, resolution) = resolved("meet");
    let expected = bundled("meet");
    every_way_gives(&root, &resolution, &source, &expected);
    tampered_packages_fail(&root, &resolution, &source);
}

/// `meet` with every member padded to 600 KB (large: [`Threads::Auto`]
/// takes two threads on a machine with two cores): the two-thread path
/// (digests checked beside the assembly) gives the bytes of the
/// sequential one, and a tampered package still fails naming it, with no
/// output.
#[test]
fn large_bundles_are_checked_and_identical() {
    let source = MemorySource::new("memory");
    for (package, version) in [
        ("test:add", "1.1.0"),
        ("test:inc", "1.0.0"),
        ("test:five", "1.0.0"),
    ] {
        let name: PackageName = package.parse().unwrap();
        let version: semver::Version = version.parse().unwrap();
        let bytes = std::fs::read(
            testdata()
                .join("registry")
                .join(name.namespace())
                .join(name.name())
                .join(format!("{version}.wasm")),
        )
        .unwrap();
        source
            .add(&name, &version, padded(&bytes, 600_000))
            .unwrap();
    }
    let root = padded(&root("meet"), 600_000);
    let resolution = resolve_bytes(&source, "meet", &root);

    let out = Bundler::from_root(&root, &resolution, Packages::Source(&source))
        .threads(Threads::One)
        .to_vec()
        .unwrap();
    validates(&out);
    Validator::new().validate_all(&out).unwrap();
    assert_eq!(call2(&out, "full", 1, 2), 10);
    every_way_gives(&root, &resolution, &source, &out);
    tampered_packages_fail(&root, &resolution, &source);
}

/// A writer that fails: the error says it was the write, after the checks
/// passed, on one thread and on two.
#[test]
fn a_failing_writer_is_a_write_error() {
    struct Full;
    impl std::io::Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "disk full",
            ))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let source = registry();
    let root = root("meet");
    let resolution = resolve_bytes(&source, "meet", &root);
    for threads in [Threads::One, Threads::Two] {
        let err = Bundler::from_root(&root, &resolution, Packages::Source(&source))
            .threads(threads)
            .to_writer(&mut Full)
            .unwrap_err();
        assert!(matches!(err, ComposeError::Write(_)), "{err:?}");
        // The cause is the source, said once.
        let shown = warg_depsolve_names::error::chain(&err);
        assert_eq!(shown, "writing the bundle: disk full");
    }
}
