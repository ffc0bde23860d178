//! The local registry over real directories: publish, list, yank,
//! immutability, integrity, path safety, and the repository's fixtures.

mod common;

use std::sync::Arc;

use common::{component, fixture_registry, leaf, pkg, ver};
use warg_depsolve_names::error::chain;
use warg_depsolve_names::{ImportClass, Integrity, PackageName};
use warg_depsolve_registry::{Hints, LocalRegistry, Publish, Release, Source, SourceError};

fn releases(list: &[(&str, bool)]) -> Vec<Release> {
    list.iter()
        .map(|(v, yanked)| Release {
            version: ver(v),
            yanked: *yanked,
        })
        .collect()
}

#[test]
fn publish_list_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let reg = LocalRegistry::new("local", dir.path());
    let add = pkg("test:add");
    let v1 = leaf("one");
    let v2 = leaf("two");
    let meta1 = reg.publish(&add, &ver("1.0.0"), &v1).unwrap();
    reg.publish(&add, &ver("1.10.0"), &v2).unwrap();
    reg.publish(&add, &ver("1.2.0-rc.1"), &v2).unwrap();

    // wkg's layout, nothing else.
    assert_eq!(
        std::fs::read(dir.path().join("test/add/1.0.0.wasm")).unwrap(),
        v1
    );
    assert!(dir.path().join("test/add/1.10.0.wasm").is_file());

    // Ascending semver order, not file-name order.
    assert_eq!(
        reg.versions(&add).unwrap().releases.to_vec(),
        releases(&[("1.0.0", false), ("1.2.0-rc.1", false), ("1.10.0", false)])
    );

    let meta = reg.metadata(&add, &ver("1.0.0")).unwrap();
    assert_eq!(*meta, meta1);
    assert_eq!(meta.digest, Integrity::sha256(&v1));
    assert_eq!(meta.size, v1.len() as u64);
    assert_eq!(
        &*reg.fetch(&add, &meta.version, &meta.digest).unwrap(),
        &v1[..]
    );
    assert_eq!(
        reg.release_digest(&add, &ver("1.10.0")).unwrap().unwrap(),
        Integrity::sha256(&v2)
    );
    assert_eq!(reg.name(), "local");
}

#[test]
fn fetch_by_version_and_digest_without_prior_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let add = pkg("test:add");
    let bytes = leaf("x");
    LocalRegistry::new("local", dir.path())
        .publish(&add, &ver("1.0.0"), &bytes)
        .unwrap();
    // A fresh instance reads the one file the version names.
    let reg = LocalRegistry::new("local", dir.path());
    let fetched = reg
        .fetch(&add, &ver("1.0.0"), &Integrity::sha256(&bytes))
        .unwrap();
    assert_eq!(&*fetched, &bytes[..]);
    assert_eq!(fetched.digest(), &Integrity::sha256(&bytes));
    assert_eq!(reg.reads(), 1);
    // Another digest for that version is a mismatch; no other release is
    // read in search of it.
    let missing = Integrity::sha256(b"nothing");
    match reg.fetch(&add, &ver("1.0.0"), &missing).unwrap_err() {
        SourceError::DigestMismatch {
            source_name,
            package,
            expected,
            ..
        } => {
            assert_eq!(
                (source_name.as_str(), package, expected),
                ("local", add, missing.to_oci())
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn releases_are_immutable() {
    let dir = tempfile::tempdir().unwrap();
    let reg = LocalRegistry::new("local", dir.path());
    let add = pkg("test:add");
    let original = leaf("original");
    reg.publish(&add, &ver("1.0.0"), &original).unwrap();

    // Same bytes: a no-op.
    reg.publish(&add, &ver("1.0.0"), &original).unwrap();

    // Other bytes: an error naming both digests, and the file is untouched.
    let other = leaf("other");
    let err = reg.publish(&add, &ver("1.0.0"), &other).unwrap_err();
    match &err {
        SourceError::AlreadyPublished {
            source_name,
            package,
            version,
            existing,
            new,
        } => {
            assert_eq!(source_name, "local");
            assert_eq!(package, &add);
            assert_eq!(version, &ver("1.0.0"));
            assert_eq!(existing, &Integrity::sha256(&original).to_oci());
            assert_eq!(new, &Integrity::sha256(&other).to_oci());
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("test:add@1.0.0"), "{err}");
    assert_eq!(
        std::fs::read(dir.path().join("test/add/1.0.0.wasm")).unwrap(),
        original
    );
}

#[test]
fn concurrent_publishers_of_one_version_cannot_both_win() {
    let dir = tempfile::tempdir().unwrap();
    let reg = Arc::new(LocalRegistry::new("local", dir.path()));
    let add = pkg("test:add");
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let (reg, add) = (reg.clone(), add.clone());
            std::thread::spawn(move || {
                reg.publish(&add, &ver("1.0.0"), &leaf(&format!("t{i}")))
                    .is_ok()
            })
        })
        .collect();
    let oks = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|ok| *ok)
        .count();
    assert_eq!(oks, 1);
    // The file holds the winner's bytes, whole.
    let stored = std::fs::read(dir.path().join("test/add/1.0.0.wasm")).unwrap();
    let winners: Vec<usize> = (0..8)
        .filter(|i| leaf(&format!("t{i}")) == stored)
        .collect();
    assert_eq!(winners.len(), 1);
    // No temporary files are left in the package directory.
    let names: Vec<_> = std::fs::read_dir(dir.path().join("test/add"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, vec!["1.0.0.wasm".to_string()]);
}

#[test]
fn yank_marks_without_deleting() {
    let dir = tempfile::tempdir().unwrap();
    let reg = LocalRegistry::new("local", dir.path());
    let add = pkg("test:add");
    let bytes = leaf("a");
    let meta = reg.publish(&add, &ver("1.0.0"), &bytes).unwrap();
    reg.publish(&add, &ver("1.1.0"), &leaf("b")).unwrap();

    reg.yank(&add, &ver("1.0.0")).unwrap();
    reg.yank(&add, &ver("1.0.0")).unwrap(); // idempotent
    assert!(dir.path().join("test/add/1.0.0.wasm.yanked").is_file());
    assert_eq!(
        reg.versions(&add).unwrap().releases.to_vec(),
        releases(&[("1.0.0", true), ("1.1.0", false)])
    );
    // Still readable: a lock may pin it.
    assert_eq!(
        &*reg.fetch(&add, &meta.version, &meta.digest).unwrap(),
        &bytes[..]
    );
    assert_eq!(
        reg.metadata(&add, &ver("1.0.0")).unwrap().digest,
        meta.digest
    );
    // Republishing the same bytes keeps it yanked.
    reg.publish(&add, &ver("1.0.0"), &bytes).unwrap();
    assert!(reg.versions(&add).unwrap().releases[0].yanked);

    reg.unyank(&add, &ver("1.0.0")).unwrap();
    reg.unyank(&add, &ver("1.0.0")).unwrap(); // idempotent
    assert_eq!(
        reg.versions(&add).unwrap().releases.to_vec(),
        releases(&[("1.0.0", false), ("1.1.0", false)])
    );

    // Yanking what does not exist names it.
    match reg.yank(&add, &ver("9.0.0")).unwrap_err() {
        SourceError::VersionNotFound {
            source_name,
            package,
            version,
        } => {
            assert_eq!(
                (source_name.as_str(), package, version),
                ("local", add.clone(), ver("9.0.0"))
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        reg.yank(&pkg("test:nope"), &ver("1.0.0")).unwrap_err(),
        SourceError::PackageNotFound { .. }
    ));
}

#[test]
fn flipped_byte_is_a_digest_mismatch_naming_both_digests() {
    let dir = tempfile::tempdir().unwrap();
    let reg = LocalRegistry::new("local", dir.path());
    let add = pkg("test:add");
    let meta = reg.publish(&add, &ver("1.0.0"), &leaf("a")).unwrap();

    let path = dir.path().join("test/add/1.0.0.wasm");
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();

    let err = reg.fetch(&add, &meta.version, &meta.digest).unwrap_err();
    let text = err.to_string();
    match err {
        SourceError::DigestMismatch {
            source_name,
            expected,
            actual,
            ..
        } => {
            assert_eq!(source_name, "local");
            assert_eq!(expected, meta.digest.to_oci());
            assert_eq!(actual, Integrity::sha256(&bytes).to_oci());
        }
        other => panic!("{other:?}"),
    }
    assert!(text.contains("test:add@1.0.0"), "{text}");
    assert!(text.contains(&path.display().to_string()), "{text}");
}

#[test]
fn names_that_would_leave_the_root_are_rejected() {
    // Package names are validated before any path is built: each of these
    // fails to parse, so no API call can be made with it.
    for bad in [
        "../etc:passwd",
        "test:../../x",
        "test:a/b",
        "test:a\\b",
        "/abs:x",
        "test:/abs",
        "C:\\x:y",
        "test:x\0y",
        "test:.",
        "test:..",
        "test:",
    ] {
        let err = bad.parse::<PackageName>().unwrap_err();
        assert!(
            err.to_string().contains("invalid package name"),
            "{bad:?}: {err}"
        );
        assert!(PackageName::new("test", bad).is_err(), "{bad:?}");
        assert!(PackageName::new(bad, "x").is_err(), "{bad:?}");
    }
    // Versions cannot carry separators either (semver's grammar), and the
    // path built from a valid one stays inside the root.
    for bad in [
        "1.0.0/../../x",
        "1.0.0+a/b",
        "1.0.0-..",
        "1.0.0\0",
        "../1.0.0",
        "/1.0.0",
    ] {
        assert!(bad.parse::<semver::Version>().is_err(), "{bad:?}");
    }
    for bad in ["..", "a/b", "a\\b", "\0", "/x"] {
        assert!(semver::Prerelease::new(bad).is_err(), "{bad:?}");
        assert!(semver::BuildMetadata::new(bad).is_err(), "{bad:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let reg = LocalRegistry::new("local", dir.path().join("root"));
    let weird = ver("1.0.0-rc.1.a-b+build.5.x-y");
    let path = reg.release_path(&pkg("test:add"), &weird).unwrap();
    assert_eq!(
        path,
        dir.path()
            .join("root/test/add/1.0.0-rc.1.a-b+build.5.x-y.wasm")
    );
    reg.publish(&pkg("test:add"), &weird, &leaf("w")).unwrap();
    assert_eq!(
        reg.versions(&pkg("test:add")).unwrap().releases[0].version,
        weird
    );
    // Nothing was written outside the root.
    let outside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(outside, vec![std::ffi::OsString::from("root")]);
}

#[test]
fn non_release_files_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let reg = LocalRegistry::new("local", dir.path());
    let add = pkg("test:add");
    reg.publish(&add, &ver("1.0.0"), &leaf("a")).unwrap();
    let pkg_dir = dir.path().join("test/add");
    for junk in [
        "latest.wasm",
        "1.0.wasm",
        "v1.0.0.wasm",
        "01.0.0.wasm",
        "1.0.0.wat",
        "README.md",
        ".tmp-abc123",
        "2.0.0.wasm.yanked", // a marker without a release
    ] {
        std::fs::write(pkg_dir.join(junk), b"junk").unwrap();
    }
    std::fs::create_dir(pkg_dir.join("3.0.0.wasm")).unwrap(); // a directory
    assert_eq!(
        reg.versions(&add).unwrap().releases.to_vec(),
        releases(&[("1.0.0", false)])
    );
}

#[test]
fn missing_things_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let reg = LocalRegistry::new("mine", dir.path().join("does-not-exist-yet"));
    let add = pkg("test:add");
    match reg.versions(&add).unwrap_err() {
        SourceError::PackageNotFound {
            source_name,
            package,
        } => {
            assert_eq!((source_name.as_str(), package), ("mine", add.clone()));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        reg.metadata(&add, &ver("1.0.0")).unwrap_err(),
        SourceError::PackageNotFound { .. }
    ));
    reg.publish(&add, &ver("1.0.0"), &leaf("a")).unwrap();
    let err = reg.metadata(&add, &ver("2.0.0")).unwrap_err();
    assert!(
        matches!(err, SourceError::VersionNotFound { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "`test:add@2.0.0` not found in registry `mine`"
    );
}

#[test]
fn publishing_a_non_component_or_a_bad_reference_fails_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let reg = LocalRegistry::new("local", dir.path());
    let add = pkg("test:add");
    let module = wat::parse_str("(module)").unwrap();
    let err = reg.publish(&add, &ver("1.0.0"), &module).unwrap_err();
    assert!(
        matches!(err, SourceError::InvalidComponent { .. }),
        "{err:?}"
    );
    let bad_ref = component(&[("dep", Some("unlocked-dep=<not a package>"))], "b");
    let err = reg.publish(&add, &ver("1.0.0"), &bad_ref).unwrap_err();
    // The release and registry in the message; the import in its cause.
    let text = err.to_string();
    assert!(
        text.contains("test:add@1.0.0") && text.contains("local"),
        "{text}"
    );
    assert!(chain(&err).contains("`dep`"), "{}", chain(&err));
    assert!(!dir.path().join("test/add/1.0.0.wasm").exists());
}

#[test]
fn reads_the_repository_fixtures() {
    let reg = LocalRegistry::new("fixtures", fixture_registry());
    let versions: Vec<String> = reg
        .versions(&pkg("test:add"))
        .unwrap()
        .releases
        .iter()
        .map(|r| r.version.to_string())
        .collect();
    assert_eq!(versions, ["1.0.0", "1.1.0", "2.0.0"]);
    let five: Vec<String> = reg
        .versions(&pkg("test:five"))
        .unwrap()
        .releases
        .iter()
        .map(|r| r.version.to_string())
        .collect();
    assert_eq!(five, ["1.0.0", "1.1.0-rc.1"]);

    // test:inc declares test:add with an external-id.
    let inc = reg.metadata(&pkg("test:inc"), &ver("1.0.0")).unwrap();
    assert_eq!(inc.dependencies.len(), 1);
    assert_eq!(inc.dependencies[0].import, "add");
    match &inc.dependencies[0].class {
        ImportClass::Declared(dep) => assert_eq!(dep.package(), &pkg("test:add")),
        other => panic!("{other:?}"),
    }
    assert!(inc
        .interface_exports
        .iter()
        .any(|i| i.to_string() == "test:inc/api@1.0.0"));

    // test:five 1.1.0-rc.1 imports test:add through its interface.
    let five = reg.metadata(&pkg("test:five"), &ver("1.1.0-rc.1")).unwrap();
    assert!(matches!(
        &five.dependencies[0].class,
        ImportClass::Interface(i) if i.to_string() == "test:add/api@1.0.0"
    ));
    let bytes = reg
        .fetch(&pkg("test:five"), &five.version, &five.digest)
        .unwrap();
    assert_eq!(five.size, bytes.len() as u64);
}

/// A component whose core module does not validate is refused by every
/// registry kind here, and nothing is written.
#[test]
fn publish_refuses_a_component_that_does_not_validate() {
    let bad = wat::parse_str("(component (core module (func (result i32))))").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let local = LocalRegistry::new("local", dir.path());
    let memory = warg_depsolve_registry::MemorySource::new("memory");
    for source in [&local as &dyn Source, &memory] {
        let err = source
            .publisher()
            .unwrap()
            .publish(&pkg("a:bad"), &ver("1.0.0"), &bad)
            .unwrap_err();
        assert!(
            matches!(err, SourceError::InvalidComponent { .. }),
            "{err:?}"
        );
        // What failed in the message, why in the chain.
        let text = chain(&err);
        assert!(
            text.contains("a:bad@1.0.0") && text.contains("does not validate"),
            "{text}"
        );
        match source.versions(&pkg("a:bad")) {
            Err(SourceError::PackageNotFound { .. }) => {}
            Ok(list) => assert!(list.releases.is_empty(), "{list:?}"),
            Err(other) => panic!("{other:?}"),
        }
    }
    assert!(!dir.path().join("a/bad/1.0.0.wasm").exists());
}

/// `1.0.0+b` beside `1.0.0` or `1.0.0+a`: SemVer gives build metadata no
/// precedence, so no range could choose between them; refused.
#[test]
fn versions_that_differ_only_in_build_metadata_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let local = LocalRegistry::new("local", dir.path());
    let memory = warg_depsolve_registry::MemorySource::new("memory");
    for source in [&local as &dyn Publish, &memory] {
        let p = pkg("a:built");
        source.publish(&p, &ver("1.0.0+a"), &leaf("a")).unwrap();
        for clash in ["1.0.0", "1.0.0+b"] {
            let err = source.publish(&p, &ver(clash), &leaf(clash)).unwrap_err();
            match &err {
                SourceError::BuildMetadataOnly {
                    version, existing, ..
                } => {
                    assert_eq!(version.to_string(), clash);
                    assert_eq!(existing.to_string(), "1.0.0+a");
                }
                other => panic!("{other:?}"),
            }
            assert!(err.to_string().contains("build metadata"), "{err}");
        }
        // Other precedence is fine, and the same version again is a no-op.
        source.publish(&p, &ver("1.0.1+a"), &leaf("b")).unwrap();
        source
            .publish(&p, &ver("1.0.0-rc.1+a"), &leaf("c"))
            .unwrap();
        source.publish(&p, &ver("1.0.0+a"), &leaf("a")).unwrap();
    }
}
