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
