//! The solver on the fixture registry (`testdata/registry`) and on small
//! registries built for one rule each.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use semver::Version;
use warg_depsolve_names::{classify, Integrity, PackageName, Track};
use warg_depsolve_registry::{
    Dependency, Listing, LocalRegistry, MemorySource, ReleaseMetadata, Source, SourceError,
    Verified,
};
use warg_depsolve_solver::graph::{render_tree, why};
use warg_depsolve_solver::{resolve, LockFile, Resolution, Root, SolveError, SolveOptions};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture_registry() -> LocalRegistry {
    LocalRegistry::new("local", repo().join("testdata/registry"))
}

fn root(name: &str) -> Root {
    let bytes = wat::parse_file(repo().join("testdata/roots").join(name)).unwrap();
    Root::from_component(name, &bytes).unwrap()
}

fn versions(r: &Resolution) -> Vec<String> {
    r.packages
        .iter()
        .map(|p| format!("{}@{}", p.package, p.version))
        .collect()
}

fn pkg(s: &str) -> PackageName {
    s.parse().unwrap()
}

fn v(s: &str) -> Version {
    s.parse().unwrap()
}

fn dep(import: &str, reference: &str) -> Dependency {
    Dependency {
        import: import.into(),
        class: classify(import, Some(reference)).unwrap(),
    }
}

#[test]
fn meet_shares_one_add_and_skips_the_prerelease() {
    let r = resolve(
        &fixture_registry(),
        &root("meet.wat"),
        &SolveOptions::default(),
    )
    .unwrap();
    assert_eq!(
        versions(&r),
        ["test:add@1.1.0", "test:five@1.0.0", "test:inc@1.0.0"]
    );
    // inc's declared dependency and five's interface import share add 1.x.
    let required_by = r.required_by(0);
    assert_eq!(required_by, r.requirements()[0]);
    let deps: Vec<_> = required_by
        .iter()
        .map(|q| (q.dependent.as_str(), q.requirement.as_str()))
        .collect();
    assert_eq!(
        deps,
        [
            ("test:five@1.0.0", "test:add/api@1.0.0"),
            ("test:inc@1.0.0", "{>=1.0.0 <2.0.0}")
        ]
    );
    let five = &r.packages[1];
    assert_eq!(five.edges[0].export.as_deref(), Some("test:add/api@1.1.0"));
    assert_eq!(five.edges[0].target, 0);
    let inc = &r.packages[2];
    assert_eq!(inc.edges[0].export, None);
    let tree = render_tree(&r);
    assert!(tree.contains("(*)"), "add is shared:\n{tree}");
    assert_eq!(why(&r, &pkg("test:add")).len(), 2);
}

#[test]
fn interface_imports_resolve_to_the_exporting_package() {
    let r = resolve(
        &fixture_registry(),
        &root("meet-iface.wat"),
        &SolveOptions::default(),
    )
    .unwrap();
    assert_eq!(
        versions(&r),
        ["test:add@1.1.0", "test:five@1.0.0", "test:inc@1.0.0"]
    );
    let exports: Vec<_> = r
        .root_edges
        .iter()
        .map(|e| e.export.clone().unwrap())
        .collect();
    assert_eq!(exports, ["test:inc/api@1.0.0", "test:five/api@1.0.0"]);

    // An interface import is its own requirement: named once, in the lock
    // file as in the report.
    let lock = LockFile::from_resolution(&r);
    let inc = lock
        .packages
        .iter()
        .find(|p| p.name.to_string() == "test:inc")
        .unwrap();
    assert_eq!(inc.versions[0].required_by, ["root: test:inc/api@1.0.0"]);
    let requirement = &r.required_by(2)[0];
    assert_eq!(requirement.asked(), None);
}

#[test]
fn diamond_puts_two_tracks_of_base_side_by_side() {
    let r = resolve(
        &fixture_registry(),
        &root("app.wat"),
        &SolveOptions::default(),
    )
    .unwrap();
    assert_eq!(
        versions(&r),
        [
            "test:base@1.2.0",
            "test:base@2.0.0",
            "test:left@1.1.0",
            "test:right@1.0.0"
        ]
    );
    assert_eq!(r.packages[0].track, Track::Major(1));
    assert_eq!(r.packages[1].track, Track::Major(2));
}

#[test]
fn backtracks_to_an_older_top() {
    let r = resolve(
        &fixture_registry(),
        &root("backtrack.wat"),
        &SolveOptions::default(),
    )
    .unwrap();
    assert_eq!(
        versions(&r),
        ["test:base@1.0.0", "test:low@1.0.0", "test:top@1.0.0"]
    );
}

#[test]
fn two_tracks_for_one_dependent() {
    let r = resolve(
        &fixture_registry(),
        &root("tracks.wat"),
        &SolveOptions::default(),
    )
    .unwrap();
    assert_eq!(versions(&r), ["test:add@1.1.0", "test:add@2.0.0"]);
    let targets: Vec<_> = r
        .root_edges
        .iter()
        .map(|e| (e.import.as_str(), r.label(e.target)))
        .collect();
    assert_eq!(
        targets,
        [
            ("add-one", "test:add@1.1.0".to_string()),
            ("add-two", "test:add@2.0.0".to_string())
        ]
    );
}

#[test]
fn prerelease_only_where_named() {
    let r = resolve(
        &fixture_registry(),
        &root("prerelease.wat"),
        &SolveOptions::default(),
    )
    .unwrap();
    assert_eq!(versions(&r), ["test:add@1.1.0", "test:five@1.1.0-rc.1"]);
    // A range that names no pre-release never gets one, even when it is
    // the highest match.
    let plain = Root::new(
        "plain",
        vec![dep("five", "unlocked-dep=<test:five@{>=1.0.0}>")],
    );
    let r = resolve(&fixture_registry(), &plain, &SolveOptions::default()).unwrap();
    assert_eq!(versions(&r)[1], "test:five@1.0.0");
    // A pre-release of another major.minor.patch is not named.
    let other = Root::new(
        "other",
        vec![dep("five", "unlocked-dep=<test:five@{>=1.0.1-alpha}>")],
    );
    let err = resolve(&fixture_registry(), &other, &SolveOptions::default()).unwrap_err();
    assert!(matches!(err, SolveError::NoSolution { .. }), "{err}");
}

#[test]
fn host_imports_are_not_looked_up() {
    let r = resolve(
        &fixture_registry(),
        &root("host.wat"),
        &SolveOptions::default(),
    )
    .unwrap();
    assert_eq!(versions(&r), ["test:add@1.1.0", "test:inc@1.0.0"]);
    assert_eq!(r.root_edges.len(), 1);
}

#[test]
fn yanked_releases_are_skipped_unless_locked() {
    let source = MemorySource::new("memory");
    for ver in ["1.0.0", "1.1.0"] {
        source.add_synthetic(&pkg("a:x"), &v(ver), vec![]).unwrap();
    }
    let root = Root::new("r", vec![dep("x", "unlocked-dep=<a:x@{>=1.0.0}>")]);
    let first = resolve(&source, &root, &SolveOptions::default()).unwrap();
    assert_eq!(versions(&first), ["a:x@1.1.0"]);
    let lock = LockFile::from_resolution(&first);

    source.yank(&pkg("a:x"), &v("1.1.0")).unwrap();
    let fresh = resolve(&source, &root, &SolveOptions::default()).unwrap();
    assert_eq!(
        versions(&fresh),
        ["a:x@1.0.0"],
        "yanked 1.1.0 is not chosen afresh"
    );

    let options = SolveOptions {
        lock: Some(lock),
        ..Default::default()
    };
    let kept = resolve(&source, &root, &options).unwrap();
    assert_eq!(
        versions(&kept),
        ["a:x@1.1.0"],
        "the lock's yanked pin is kept"
    );
    assert!(kept.packages[0].yanked);
}

#[test]
fn lock_pins_are_kept_and_only_what_must_move_moves() {
    let source = MemorySource::new("memory");
    for ver in ["1.0.0", "1.1.0"] {
        source.add_synthetic(&pkg("a:x"), &v(ver), vec![]).unwrap();
        source.add_synthetic(&pkg("a:y"), &v(ver), vec![]).unwrap();
    }
    let root = Root::new(
        "r",
        vec![
            dep("x", "unlocked-dep=<a:x@{>=1.0.0}>"),
            dep("y", "unlocked-dep=<a:y@{>=1.0.0}>"),
        ],
    );
    let old = resolve(&source, &root, &SolveOptions::default()).unwrap();
    let lock = LockFile::from_resolution(&old);
    source
        .add_synthetic(&pkg("a:x"), &v("1.2.0"), vec![])
        .unwrap();
    source
        .add_synthetic(&pkg("a:y"), &v("1.2.0"), vec![])
        .unwrap();

    let options = SolveOptions {
        lock: Some(lock.clone()),
        ..Default::default()
    };
    let again = resolve(&source, &root, &options).unwrap();
    assert_eq!(versions(&again), ["a:x@1.1.0", "a:y@1.1.0"]);
    assert!(lock
        .changes_to(&LockFile::from_resolution(&again))
        .is_empty());

    // A requirement that no longer fits the pin moves that pin only.
    let root2 = Root::new(
        "r",
        vec![
            dep("x", "unlocked-dep=<a:x@{>=1.2.0}>"),
            dep("y", "unlocked-dep=<a:y@{>=1.0.0}>"),
        ],
    );
    let moved = resolve(&source, &root2, &options).unwrap();
    assert_eq!(versions(&moved), ["a:x@1.2.0", "a:y@1.1.0"]);
    let changes = lock.changes_to(&LockFile::from_resolution(&moved));
    assert_eq!(changes, ["a:x (track 1): 1.1.0 -> 1.2.0"]);

    // `update a:y` releases only that pin.
    let update = SolveOptions {
        lock: Some(lock),
        unpin: vec![pkg("a:y")],
        ..Default::default()
    };
    let updated = resolve(&source, &root, &update).unwrap();
    assert_eq!(versions(&updated), ["a:x@1.1.0", "a:y@1.2.0"]);
}

#[test]
fn cross_track_range_uses_a_span_and_backtracks_across_tracks() {
    let source = MemorySource::new("memory");
    for ver in ["1.5.0", "1.6.0", "2.0.0", "2.1.0", "3.0.0"] {
        source.add_synthetic(&pkg("a:kv"), &v(ver), vec![]).unwrap();
    }
    // The span `{>=1.5.0 <3.0.0}` wants 2.1.0 first, but `b` pins 2.x to
    // 2.0.0 and `c` needs exactly... the 1.x track is free.
    source
        .add_synthetic(
            &pkg("a:b"),
            &v("1.0.0"),
            vec![dep("kv", "unlocked-dep=<a:kv@{>=2.0.0 <2.1.0}>")],
        )
        .unwrap();
    let root = Root::new(
        "r",
        vec![
            dep("kv", "unlocked-dep=<a:kv@{>=1.5.0 <3.0.0}>"),
            dep("b", "unlocked-dep=<a:b@*>"),
        ],
    );
    let r = resolve(&source, &root, &SolveOptions::default()).unwrap();
    assert_eq!(
        versions(&r),
        ["a:b@1.0.0", "a:kv@2.0.0"],
        "the span shares b's 2.0.0"
    );
    // The root's span import is wired to the chosen track.
    assert_eq!(r.label(r.root_edges[0].target), "a:kv@2.0.0");

    // When the span's whole 2.x part is excluded, it moves to 1.x.
    let root = Root::new(
        "r",
        vec![
            dep("kv", "unlocked-dep=<a:kv@{>=1.5.0 <2.0.0}>"),
            dep("kv2", "unlocked-dep=<a:kv@{>=1.5.0 <3.0.0}>"),
        ],
    );
    let r = resolve(&source, &root, &SolveOptions::default()).unwrap();
    assert_eq!(versions(&r), ["a:kv@1.6.0", "a:kv@2.1.0"]);
}

#[test]
fn missing_package_names_the_dependent() {
    let source = MemorySource::new("memory");
    source
        .add_synthetic(
            &pkg("a:x"),
            &v("1.0.0"),
            vec![dep("ghost", "unlocked-dep=<a:ghost@*>")],
        )
        .unwrap();
    let root = Root::new("app.wasm", vec![dep("x", "unlocked-dep=<a:x@*>")]);
    let err = resolve(&source, &root, &SolveOptions::default()).unwrap_err();
    assert!(matches!(err, SolveError::MissingPackage { .. }));
    assert_eq!(
        err.to_string(),
        "a:x@1.0.0 imports `ghost` from package `a:ghost`, which registry `memory` does not have"
    );
}

#[test]
fn cycle_in_the_chosen_graph_is_reported_with_its_path() {
    let source = MemorySource::new("memory");
    source
        .add_synthetic(
            &pkg("a:p"),
            &v("1.0.0"),
            vec![dep("q", "unlocked-dep=<a:q@*>")],
        )
        .unwrap();
    source
        .add_synthetic(
            &pkg("a:q"),
            &v("1.0.0"),
            vec![dep("p", "unlocked-dep=<a:p@*>")],
        )
        .unwrap();
    // An older q without the back edge: a registry cycle the solution can
    // avoid when the root asks for it.
    source
        .add_synthetic(&pkg("a:q"), &v("0.9.0"), vec![])
        .unwrap();
    let root = Root::new("r", vec![dep("p", "unlocked-dep=<a:p@*>")]);
    let err = resolve(&source, &root, &SolveOptions::default()).unwrap_err();
    let SolveError::Cycle { path } = &err else {
        panic!("{err}")
    };
    assert_eq!(path, &["a:p@1.0.0", "a:q@1.0.0", "a:p@1.0.0"]);
    assert_eq!(
        err.to_string(),
        "dependency cycle: a:p@1.0.0 -> a:q@1.0.0 -> a:p@1.0.0"
    );

    source
        .add_synthetic(
            &pkg("a:p"),
            &v("2.0.0"),
            vec![dep("q", "unlocked-dep=<a:q@{<1.0.0}>")],
        )
        .unwrap();
    let root = Root::new("r", vec![dep("p", "unlocked-dep=<a:p@{>=2.0.0}>")]);
    let r = resolve(&source, &root, &SolveOptions::default()).unwrap();
    assert_eq!(versions(&r), ["a:p@2.0.0", "a:q@0.9.0"]);
}

#[test]
fn locked_reference_integrity_is_checked() {
    let source = MemorySource::new("memory");
    let meta = source
        .add_synthetic(&pkg("a:x"), &v("1.0.0"), vec![])
        .unwrap();
    let good = format!("locked-dep=<a:x@1.0.0>,integrity=<{}>", meta.digest);
    let ok = Root::new("r", vec![dep("x", &good)]);
    assert!(resolve(&source, &ok, &SolveOptions::default()).is_ok());
    let wrong = warg_depsolve_names::Integrity::sha256(b"something else");
    let bad = Root::new(
        "r",
        vec![dep(
            "x",
            &format!("locked-dep=<a:x@1.0.0>,integrity=<{wrong}>"),
        )],
    );
    let err = resolve(&source, &bad, &SolveOptions::default()).unwrap_err();
    assert!(matches!(err, SolveError::DigestMismatch { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&wrong.to_oci()) && msg.contains(&meta.digest.to_oci()),
        "{msg}"
    );
}

#[test]
fn lock_file_text_is_stable_and_round_trips() {
    let r = resolve(
        &fixture_registry(),
        &root("app.wat"),
        &SolveOptions::default(),
    )
    .unwrap();
    let lock = LockFile::from_resolution(&r);
    let text = lock.to_toml();
    assert_eq!(LockFile::parse(&text).unwrap(), lock);
    assert_eq!(LockFile::parse(&text).unwrap().to_toml(), text);
    assert!(text.contains("name = \"test:base\""));
    assert!(text.contains("track = \"2\""));
    assert!(text.contains("requirement = \"^1\""));
    assert!(text.contains("\"root: left {>=1.0.0}\""), "{text}");
}

/// An upper-bounded requirement met after its package was chosen: the
/// dependency is held back to what its dependent allows, the dependent
/// stays at its newest release, and every requirement holds.
#[test]
fn a_later_upper_bound_holds_its_package_back() {
    let source = MemorySource::new("memory");
    for ver in ["1.0.0", "1.1.0", "1.2.0"] {
        source
            .add_synthetic(&pkg("a:lib"), &v(ver), vec![])
            .unwrap();
    }
    source
        .add_synthetic(&pkg("a:old"), &v("1.0.0"), vec![])
        .unwrap();
    source
        .add_synthetic(
            &pkg("a:old"),
            &v("1.1.0"),
            vec![dep("lib", "unlocked-dep=<a:lib@{>=1.0.0 <1.1.0}>")],
        )
        .unwrap();
    // A second level: `mid` names `lib` too, after `lib` was chosen.
    source
        .add_synthetic(
            &pkg("a:mid"),
            &v("1.0.0"),
            vec![dep("old", "unlocked-dep=<a:old@{>=1.1.0 <2.0.0}>")],
        )
        .unwrap();
    let root = Root::new(
        "r",
        vec![
            dep("lib", "unlocked-dep=<a:lib@{>=1.0.0 <2.0.0}>"),
            dep("mid", "unlocked-dep=<a:mid@{>=1.0.0 <2.0.0}>"),
        ],
    );
    let r = resolve(&source, &root, &SolveOptions::default()).unwrap();
    assert_eq!(versions(&r), ["a:lib@1.0.0", "a:mid@1.0.0", "a:old@1.1.0"]);
    let required_by = r.required_by(0);
    let asked: Vec<_> = required_by
        .iter()
        .map(|q| (q.dependent.as_str(), q.requirement.as_str()))
        .collect();
    assert_eq!(
        asked,
        [
            ("a:old@1.1.0", "{>=1.0.0 <1.1.0}"),
            ("root", "{>=1.0.0 <2.0.0}")
        ]
    );
}

/// Two upper bounds on one package from two dependents intersect.
#[test]
fn two_upper_bounds_on_one_package_intersect() {
    let source = MemorySource::new("memory");
    for ver in ["1.0.0", "1.1.0", "1.2.0", "1.3.0"] {
        source
            .add_synthetic(&pkg("a:lib"), &v(ver), vec![])
            .unwrap();
    }
    for (name, bound) in [("a:p", "1.3.0"), ("a:q", "1.2.0")] {
        source
            .add_synthetic(
                &pkg(name),
                &v("1.0.0"),
                vec![dep(
                    "lib",
                    &format!("unlocked-dep=<a:lib@{{>=1.0.0 <{bound}}}>"),
                )],
            )
            .unwrap();
    }
    let root = Root::new(
        "r",
        vec![
            dep("lib", "unlocked-dep=<a:lib@{>=1.0.0 <2.0.0}>"),
            dep("p", "unlocked-dep=<a:p@{>=1.0.0 <2.0.0}>"),
            dep("q", "unlocked-dep=<a:q@{>=1.0.0 <2.0.0}>"),
        ],
    );
    let r = resolve(&source, &root, &SolveOptions::default()).unwrap();
    assert_eq!(versions(&r), ["a:lib@1.1.0", "a:p@1.0.0", "a:q@1.0.0"]);
}

/// Releases that differ only in build metadata (`1.2.0+a`, `1.2.0+b`,
/// left by another tool: ours refuse to publish them) cannot be ranked, so
/// neither is chosen afresh; a lock that pins one keeps it.
#[test]
fn releases_tied_but_for_build_metadata_are_not_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let leaf = std::fs::read(repo().join("testdata/registry/test/base/1.0.0.wasm")).unwrap();
    std::fs::create_dir_all(dir.path().join("test/x")).unwrap();
    for version in ["1.1.0", "1.2.0+a", "1.2.0+b"] {
        std::fs::write(dir.path().join(format!("test/x/{version}.wasm")), &leaf).unwrap();
    }
    let source = LocalRegistry::new("local", dir.path());
    let root = Root::new("r", vec![dep("x", "unlocked-dep=<test:x@{>=1.0.0}>")]);
    let r = resolve(&source, &root, &SolveOptions::default()).unwrap();
    assert_eq!(versions(&r), ["test:x@1.1.0"]);

    // Pinned by a lock, one of them is kept.
    let mut lock = LockFile::from_resolution(&r);
    lock.packages[0].versions[0].version = v("1.2.0+b");
    let pinned = resolve(
        &source,
        &root,
        &SolveOptions {
            lock: Some(lock),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(versions(&pinned), ["test:x@1.2.0+b"]);
}

/// A memory source whose listing of one package fails as an unreachable
/// registry's does, counting how often that listing was asked for.
struct FailingFor {
    inner: MemorySource,
    broken: PackageName,
    asked: AtomicUsize,
}

impl FailingFor {
    fn new(inner: MemorySource, broken: &str) -> Self {
        FailingFor {
            inner,
            broken: pkg(broken),
            asked: AtomicUsize::new(0),
        }
    }
}

impl Source for FailingFor {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn registry_for(&self, package: &PackageName) -> &str {
        self.inner.registry_for(package)
    }

    fn versions(&self, package: &PackageName) -> Result<Listing, SourceError> {
        if *package == self.broken {
            self.asked.fetch_add(1, Ordering::Relaxed);
            return Err(SourceError::Unavailable {
                source_name: self.name().to_string(),
                what: format!("`{package}`"),
                cause: std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
            });
        }
        self.inner.versions(package)
    }

    fn metadata(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<Arc<ReleaseMetadata>, SourceError> {
        self.inner.metadata(package, version)
    }

    fn fetch(
        &self,
        package: &PackageName,
        version: &Version,
        digest: &Integrity,
    ) -> Result<Verified, SourceError> {
        self.inner.fetch(package, version, digest)
    }
}

/// The source failing for a package the root imports is the solve's
/// error, naming the package, and the source is asked once: the fast path
/// does not give up and let pubgrub ask (and, over a network, wait) again.
#[test]
fn a_source_error_in_the_roots_imports_names_the_package_and_is_asked_once() {
    let inner = MemorySource::new("memory");
    inner
        .add_synthetic(&pkg("a:ok"), &v("1.0.0"), vec![])
        .unwrap();
    let source = FailingFor::new(inner, "a:broken");
    let root = Root::new(
        "r",
        vec![
            dep("ok", "unlocked-dep=<a:ok@{>=1.0.0 <2.0.0}>"),
            dep("broken", "unlocked-dep=<a:broken@{>=1.0.0 <2.0.0}>"),
        ],
    );
    let err = resolve(&source, &root, &SolveOptions::default()).unwrap_err();
    assert!(
        matches!(err, SolveError::Source(SourceError::Unavailable { .. })),
        "{err:?}"
    );
    // The package in the message, the cause once, after it.
    assert_eq!(
        warg_depsolve_names::error::chain(&err),
        "registry `memory` unavailable while reading `a:broken`: connection refused"
    );
    assert_eq!(source.asked.load(Ordering::Relaxed), 1);
}

/// The source failing below the root, for a package only the newest
/// release of a dependency imports, does not fail a root that solves
/// without that release: the fast path meets the error (it tries the
/// newest releases first) and hands over to pubgrub, which decides `pin`
/// first (fewer candidates), is held to `top` 1.0.0 and never asks for
/// `broken`. Returning the fast path's error at once would fail here.
#[test]
fn an_error_below_the_root_does_not_fail_a_solvable_root() {
    let inner = MemorySource::new("memory");
    inner
        .add_synthetic(&pkg("a:top"), &v("1.0.0"), vec![])
        .unwrap();
    inner
        .add_synthetic(
            &pkg("a:top"),
            &v("1.1.0"),
            vec![dep("broken", "unlocked-dep=<a:broken@{>=1.0.0 <2.0.0}>")],
        )
        .unwrap();
    inner
        .add_synthetic(
            &pkg("a:pin"),
            &v("1.0.0"),
            vec![dep("top", "unlocked-dep=<a:top@{>=1.0.0 <1.1.0}>")],
        )
        .unwrap();
    let source = FailingFor::new(inner, "a:broken");
    let root = Root::new(
        "r",
        vec![
            dep("top", "unlocked-dep=<a:top@{>=1.0.0 <2.0.0}>"),
            dep("pin", "unlocked-dep=<a:pin@{>=1.0.0 <2.0.0}>"),
        ],
    );
    let r = resolve(&source, &root, &SolveOptions::default()).unwrap();
    assert_eq!(versions(&r), ["a:pin@1.0.0", "a:top@1.0.0"]);
    // The fast path did meet the error.
    assert_eq!(source.asked.load(Ordering::Relaxed), 1);
}

/// Every requirement a lock writes matches its pin by semver's rules (what
/// wkg's `VersionReq::matches` checks), pre-release pins included.
#[test]
fn lock_requirements_match_their_pins() {
    let r = resolve(
        &fixture_registry(),
        &root("prerelease.wat"),
        &SolveOptions::default(),
    )
    .unwrap();
    let lock = LockFile::from_resolution(&r);
    let mut requirements = Vec::new();
    for p in &lock.packages {
        for v in &p.versions {
            let req = semver::VersionReq::parse(&v.requirement).unwrap();
            assert!(
                req.matches(&v.version),
                "{} {} does not match {}",
                p.name,
                v.requirement,
                v.version
            );
            requirements.push(format!("{}@{}: {}", p.name, v.version, v.requirement));
        }
    }
    assert_eq!(
        requirements,
        ["test:add@1.1.0: ^1", "test:five@1.1.0-rc.1: ^1.1.0-rc.1"]
    );
}

/// A `wkg.lock` as wkg 0.16 writes it (one entry per requirement, no
/// `track`, no registry for the default one) and in its older spelling
/// (`[[package]]`, `[[package.version]]`): every pin is read, and a solve
/// keeps them.
#[test]
fn a_wkg_lock_is_read_without_loss() {
    let registry = fixture_registry();
    let digest = |name: &str| {
        let meta = registry.metadata(&pkg(name), &v("1.0.0")).unwrap();
        meta.digest.to_oci()
    };
    let (add_100, five, inc) = (digest("test:add"), digest("test:five"), digest("test:inc"));
    let current = format!(
        "# This file is automatically generated.\n# It is not intended for manual editing.\n\
         version = 1\n\n\
         [[packages]]\nname = \"test:add\"\n\n\
         [[packages.versions]]\nrequirement = \"^1.0.0\"\nversion = \"1.0.0\"\ndigest = \"{add_100}\"\n\n\
         [[packages.versions]]\nrequirement = \"^1\"\nversion = \"1.0.0\"\ndigest = \"{add_100}\"\n\n\
         [[packages]]\nname = \"test:five\"\n\n\
         [[packages.versions]]\nrequirement = \"^1.0.0\"\nversion = \"1.0.0\"\ndigest = \"{five}\"\n\n\
         [[packages]]\nname = \"test:inc\"\n\n\
         [[packages.versions]]\nrequirement = \"^1.0.0\"\nversion = \"1.0.0\"\ndigest = \"{inc}\"\n"
    );
    let older = current
        .replace("[[packages]]", "[[package]]")
        .replace("[[packages.versions]]", "[[package.version]]");
    for text in [&current, &older] {
        let lock = LockFile::parse(text).unwrap();
        let pins: Vec<String> = lock
            .pins()
            .map(|(p, t, v)| format!("{p}@{v} ({t})"))
            .collect();
        assert_eq!(
            pins,
            [
                "test:add@1.0.0 (1)",
                "test:five@1.0.0 (1)",
                "test:inc@1.0.0 (1)"
            ]
        );
        // The pin holds test:add at 1.0.0 although 1.1.0 is newer.
        let options = SolveOptions {
            lock: Some(lock),
            ..SolveOptions::default()
        };
        let r = resolve(&fixture_registry(), &root("meet.wat"), &options).unwrap();
        assert_eq!(
            versions(&r),
            ["test:add@1.0.0", "test:five@1.0.0", "test:inc@1.0.0"]
        );
    }
    // Two different versions on one track cannot be one resolution's pins:
    // refused, naming the package, not silently dropped.
    let two = current.replacen(
        "requirement = \"^1\"\nversion = \"1.0.0\"",
        "requirement = \"=1.1.0\"\nversion = \"1.1.0\"",
        1,
    );
    let err = LockFile::parse(&two).unwrap_err();
    assert!(
        err.to_string()
            .contains("`test:add` is pinned twice on track 1"),
        "{err}"
    );
}
