//! Metadata extraction from real components, and the memory source.

mod common;

use std::sync::Arc;

use common::{component, pkg, ver};
use warg_depsolve_names::{classify, ImportClass, Integrity, InterfaceName};
use warg_depsolve_registry::{Dependency, MemorySource, ReleaseMetadata, Source, SourceError};

fn dep(import: &str, reference: &str) -> Dependency {
    Dependency {
        import: import.to_string(),
        class: classify(import, Some(reference)).unwrap(),
    }
}

#[test]
fn extraction_keeps_registry_imports_and_interface_exports() {
    let bytes = wat::parse_str(
        r#"(component
            (import "wasi:cli/stdout@0.2.3" (instance))
            (import "logger" (instance))
            (import "add" (external-id "unlocked-dep=<test:add@{>=1.0.0 <2.0.0}>") (instance))
            (import "opaque" (external-id "some tool's own id") (instance))
            (import "acme:kv/store@1.2.0" (instance))
            (import "pinned" (external-id "locked-dep=<test:base@1.2.0>") (instance))
            (core module $m)
            (instance $api)
            (export "test:inc/api@1.0.0" (instance $api))
            (export "plain" (instance $api))
            (export "m" (core module $m))
        )"#,
    )
    .unwrap();
    let meta = ReleaseMetadata::from_component(&pkg("test:inc"), &ver("1.0.0"), &bytes).unwrap();
    assert_eq!(meta.package, pkg("test:inc"));
    assert_eq!(meta.version, ver("1.0.0"));
    assert_eq!(meta.digest, Integrity::sha256(&bytes));
    assert_eq!(meta.size, bytes.len() as u64);

    let imports: Vec<&str> = meta
        .dependencies
        .iter()
        .map(|d| d.import.as_str())
        .collect();
    // Host imports (`logger`, and `opaque` whose external-id is not a
    // reference) are dropped; interface imports, wasi included, are kept
    // for the solver to judge.
    assert_eq!(
        imports,
        [
            "wasi:cli/stdout@0.2.3",
            "add",
            "acme:kv/store@1.2.0",
            "pinned"
        ]
    );
    assert!(matches!(
        meta.dependencies[1].class,
        ImportClass::Declared(_)
    ));
    assert!(matches!(
        meta.dependencies[2].class,
        ImportClass::Interface(_)
    ));
    assert!(meta
        .dependencies
        .iter()
        .all(|d| d.class != ImportClass::Host));

    assert_eq!(
        meta.interface_exports,
        vec![InterfaceName::parse("test:inc/api@1.0.0").unwrap()]
    );
}

#[test]
fn legacy_depnames_are_dependencies() {
    let legacy =
        std::fs::read(common::fixture_registry().join("../legacy/meet-legacy.wasm")).unwrap();
    let meta = ReleaseMetadata::from_component(&pkg("test:meet"), &ver("1.0.0"), &legacy).unwrap();
    assert!(!meta.dependencies.is_empty());
    for d in &meta.dependencies {
        match &d.class {
            ImportClass::Legacy(r) => assert_eq!(d.import, r.to_string()),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn malformed_reference_is_an_error_naming_the_import() {
    let bytes = component(
        &[
            ("ok", None),
            ("broken", Some("unlocked-dep=<test:add@{>=1.0.0>")),
        ],
        "x",
    );
    let err = ReleaseMetadata::from_component(&pkg("test:a"), &ver("1.0.0"), &bytes).unwrap_err();
    let shown = warg_depsolve_names::error::chain(&err);
    assert!(shown.contains("`broken`"), "{shown}");
    let err = err.into_source_error("reg", &pkg("test:a"), &ver("1.0.0"));
    assert!(matches!(err, SourceError::InvalidComponent { .. }));
    // The release and registry in the message; the import only in the
    // cause, said once.
    let text = err.to_string();
    assert!(
        text.contains("test:a@1.0.0") && text.contains("`reg`") && !text.contains("broken"),
        "{text}"
    );
    let chained = warg_depsolve_names::error::chain(&err);
    assert_eq!(chained.matches("`broken`").count(), 1, "{chained}");
}

#[test]
fn not_a_component_is_an_error() {
    for bytes in [
        Vec::new(),
        b"hello".to_vec(),
        wat::parse_str("(module)").unwrap(),
    ] {
        assert!(ReleaseMetadata::from_component(&pkg("test:a"), &ver("1.0.0"), &bytes).is_err());
    }
}

#[test]
fn memory_source_real_and_synthetic_releases() {
    let source = MemorySource::new("memory");
    let add = pkg("test:add");
    let inc = pkg("test:inc");

    // Real bytes are scanned once.
    let bytes = component(&[("dep", Some("unlocked-dep=<test:base@*>"))], "r");
    let meta = source.add(&inc, &ver("1.0.0"), bytes.clone()).unwrap();
    assert_eq!(source.scans(), 1);
    assert_eq!(meta.dependencies.len(), 1);
    assert_eq!(
        &*source.fetch(&inc, &meta.version, &meta.digest).unwrap(),
        &bytes[..]
    );
    source.add(&inc, &ver("1.0.0"), bytes.clone()).unwrap(); // same bytes: no-op, no scan
    assert_eq!(source.scans(), 1);

    // Synthetic ones are cheap and need no bytes.
    for v in ["1.0.0", "1.1.0", "2.0.0"] {
        source
            .add_synthetic(
                &add,
                &ver(v),
                vec![dep("base", "unlocked-dep=<test:base@{>=1.0.0}>")],
            )
            .unwrap();
    }
    assert_eq!(source.scans(), 1);
    let m = source.metadata(&add, &ver("1.1.0")).unwrap();
    assert_eq!(
        m.dependencies,
        vec![dep("base", "unlocked-dep=<test:base@{>=1.0.0}>")]
    );
    // Its content exists and matches its digest.
    let content = source.fetch(&add, &m.version, &m.digest).unwrap();
    assert_eq!(Integrity::sha256(&content), m.digest);
    assert_eq!(content.len() as u64, m.size);

    // Immutable: same dependencies no-op, other ones an error.
    source
        .add_synthetic(
            &add,
            &ver("1.1.0"),
            vec![dep("base", "unlocked-dep=<test:base@{>=1.0.0}>")],
        )
        .unwrap();
    let err = source
        .add_synthetic(&add, &ver("1.1.0"), vec![])
        .unwrap_err();
    assert!(
        matches!(err, SourceError::AlreadyPublished { .. }),
        "{err:?}"
    );

    // Host "dependencies" are refused.
    let host = Dependency {
        import: "logger".into(),
        class: ImportClass::Host,
    };
    assert!(source
        .add_synthetic(&add, &ver("3.0.0"), vec![host])
        .is_err());

    // Interface exports can be given.
    let kv = pkg("acme:kv");
    let iface = InterfaceName::parse("acme:kv/store@1.0.0").unwrap();
    source
        .add_metadata(&kv, &ver("1.0.0"), vec![], vec![iface.clone()])
        .unwrap();
    assert_eq!(
        source
            .metadata(&kv, &ver("1.0.0"))
            .unwrap()
            .interface_exports,
        vec![iface]
    );

    // Yank and unyank.
    source.yank(&add, &ver("2.0.0")).unwrap();
    let yanked: Vec<bool> = source
        .versions(&add)
        .unwrap()
        .releases
        .iter()
        .map(|r| r.yanked)
        .collect();
    assert_eq!(yanked, [false, false, true]);
    source.unyank(&add, &ver("2.0.0")).unwrap();
    assert!(source
        .versions(&add)
        .unwrap()
        .releases
        .iter()
        .all(|r| !r.yanked));
    assert!(matches!(
        source.yank(&add, &ver("9.9.9")).unwrap_err(),
        SourceError::VersionNotFound { .. }
    ));

    // Unknowns are named.
    assert!(matches!(
        source.versions(&pkg("test:none")).unwrap_err(),
        SourceError::PackageNotFound { source_name, .. } if source_name == "memory"
    ));
    // Bytes other than the release's are a mismatch naming both digests.
    match source
        .fetch(&add, &ver("1.1.0"), &Integrity::sha256(b"?"))
        .unwrap_err()
    {
        SourceError::DigestMismatch {
            version,
            expected,
            actual,
            ..
        } => {
            assert_eq!(version, Some(ver("1.1.0")));
            assert_eq!(expected, Integrity::sha256(b"?").to_oci());
            assert_eq!(actual, m.digest.to_oci());
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        source.fetch(&add, &ver("9.9.9"), &m.digest).unwrap_err(),
        SourceError::VersionNotFound { .. }
    ));
}

#[test]
fn memory_source_scales_to_large_synthetic_registries() {
    let source = Arc::new(MemorySource::new("memory"));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let source = source.clone();
            std::thread::spawn(move || {
                for p in 0..250 {
                    let name = pkg(&format!("gen:p{t}x{p}"));
                    for v in 0..10 {
                        let deps = vec![dep(
                            "d",
                            &format!("unlocked-dep=<gen:p{t}x{}@{{>=0.{v}.0}}>", (p + 1) % 250),
                        )];
                        source
                            .add_synthetic(&name, &ver(&format!("0.{v}.0")), deps)
                            .unwrap();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // All 10,000 releases from 4 writers at once are there (speed is the
    // benches' business, not a test's).
    for t in 0..4 {
        for p in 0..250 {
            let name = pkg(&format!("gen:p{t}x{p}"));
            assert_eq!(source.versions(&name).unwrap().releases.len(), 10, "{name}");
        }
    }
}

#[test]
fn plain_named_import_that_implements_an_interface_is_an_interface_import() {
    let bytes = wat::parse_str(
        r#"(component
            (import "store" (implements "acme:kv/store@1.2.0") (instance))
            (import "other" (instance))
        )"#,
    )
    .unwrap();
    let meta = ReleaseMetadata::from_component(
        &"test:user".parse().unwrap(),
        &"1.0.0".parse().unwrap(),
        &bytes,
    )
    .unwrap();
    assert_eq!(meta.dependencies.len(), 1, "{:?}", meta.dependencies);
    assert_eq!(meta.dependencies[0].import, "store");
    let ImportClass::Interface(i) = &meta.dependencies[0].class else {
        panic!("{:?}", meta.dependencies[0].class)
    };
    assert_eq!(i.to_string(), "acme:kv/store@1.2.0");
}

/// The shared list is the same list until the package changes, and every
/// change (a new release, a yank, an unyank) is in the next one.
#[test]
fn memory_source_shared_lists_follow_changes() {
    let source = MemorySource::new("memory");
    let p = pkg("a:x");
    source.add_synthetic(&p, &ver("1.0.0"), vec![]).unwrap();
    let first = source.versions(&p).unwrap();
    assert!(Arc::ptr_eq(
        &first.releases,
        &source.versions(&p).unwrap().releases
    ));
    assert_eq!(first.stamp, None);

    source.add_synthetic(&p, &ver("1.1.0"), vec![]).unwrap();
    let added = source.versions(&p).unwrap().releases;
    let listed: Vec<_> = added.iter().map(|r| r.version.to_string()).collect();
    assert_eq!(listed, ["1.0.0", "1.1.0"]);

    source.yank(&p, &ver("1.1.0")).unwrap();
    assert!(source.versions(&p).unwrap().releases[1].yanked);
    source
        .publisher()
        .unwrap()
        .set_yanked(&p, &ver("1.1.0"), false)
        .unwrap();
    assert!(!source.versions(&p).unwrap().releases[1].yanked);
    assert!(matches!(
        source.versions(&pkg("a:missing")),
        Err(SourceError::PackageNotFound { .. })
    ));
}
