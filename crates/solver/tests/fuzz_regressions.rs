//! Inputs the `lockfile` fuzz target (`fuzz/`, see FUZZING.md) found,
//! minimized by hand: each must now fail cleanly, naming what is wrong.

use warg_depsolve_solver::lock::LockError;
use warg_depsolve_solver::LockFile;

/// One package in two `[[packages]]` entries parsed, and `changes_to` then
/// reported a registry change between the lock and its own rewrite
/// (`(none) -> local`): the first entry shadowed the second.
#[test]
fn a_package_listed_twice_is_refused() {
    let text = r#"version = 1

[[packages]]
name = "test:top"

[[packages]]
name = "test:top"
registry = "local"
"#;
    let err = LockFile::parse(text).unwrap_err();
    assert!(
        matches!(&err, LockError::PackageListedTwice { package } if package.to_string() == "test:top"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "`test:top` is listed twice; a lock file has one `[[packages]]` entry per package"
    );

    // One entry per package, several tracks in it, is what a lock holds.
    let fine = r#"version = 1

[[packages]]
name = "test:top"
registry = "local"

[[packages.versions]]
requirement = "^1"
version = "1.0.0"
digest = "sha256:9e9708b75d94761142272deb05c650bbfab0f37b093f0d4e9a686ae43900e6aa"

[[packages.versions]]
requirement = "^2"
version = "2.0.0"
digest = "sha256:9e9708b75d94761142272deb05c650bbfab0f37b093f0d4e9a686ae43900e6aa"
"#;
    let lock = LockFile::parse(fine).unwrap();
    assert!(lock
        .changes_to(&LockFile::parse(&lock.to_toml()).unwrap())
        .is_empty());
}

/// `bundle` target: a release importing its own package on its own track
/// at another version (`fz:p0@1.0.0` asks `fz:p0 {~1.1}`), with the other
/// release unusable, made pubgrub return a "solution" without `fz:p0`, and
/// wiring the root's import to it panicked (`no entry found for key`).
#[test]
fn a_release_importing_its_own_track_elsewhere_is_a_conflict() {
    use warg_depsolve_names::classify;
    use warg_depsolve_registry::{Dependency, MemorySource};
    use warg_depsolve_solver::{resolve, Root, SolveError, SolveOptions};

    let dep = |import: &str, reference: &str| Dependency {
        import: import.into(),
        class: classify(import, Some(reference)).unwrap(),
    };
    let source = MemorySource::new("memory");
    let p0 = "fz:p0".parse().unwrap();
    source
        .add_synthetic(
            &p0,
            &"1.0.0".parse().unwrap(),
            vec![dep("self", "unlocked-dep=<fz:p0@{~1.1}>")],
        )
        .unwrap();
    source
        .add_synthetic(
            &p0,
            &"1.1.0".parse().unwrap(),
            vec![dep("old", "unlocked-dep=<fz:p0@{^0.1}>")],
        )
        .unwrap();
    let root = Root::new("root", vec![dep("p0", "unlocked-dep=<fz:p0@{>=1.0.0}>")]);
    let err = resolve(&source, &root, &SolveOptions::default()).unwrap_err();
    assert!(matches!(err, SolveError::NoSolution { .. }), "{err:?}");
    let report = err.to_string();
    assert!(
        report.contains("1.0.0 cannot be used: it imports its own track at >=1.1.0 <1.2.0"),
        "{report}"
    );
}
