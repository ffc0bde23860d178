//! Host import merging and conflicts, migration corner cases, record checks.

mod common;

use common::*;
use warg_depsolve_compose::strip::{restore, strip};
use warg_depsolve_compose::{
    migrate, read_record, unbundle, Bundler, ComposeError, Packages, BUNDLE_SECTION,
};
use warg_depsolve_names::error::chain;
use warg_depsolve_names::scan::scan;
use warg_depsolve_registry::MemorySource;
use wasmparser::{Validator, WasmFeatures};

/// A registry with one package `test:dep@1.0.0` whose only import is
/// `log: func(x: <ty>)`, re-exported as `f`.
fn dep_source(ty: &str) -> MemorySource {
    let dep = wat::parse_str(format!(
        r#"(component
            (import "log" (func $log (param "x" {ty})))
            (export "f" (func $log)))"#
    ))
    .unwrap();
    let source = MemorySource::new("memory");
    source
        .add(&"test:dep".parse().unwrap(), &"1.0.0".parse().unwrap(), dep)
        .unwrap();
    source
}

/// A root that imports `test:dep` (its `f: func(x: <dep_ty>)`) and
/// `log: func(x: <log_ty>)`.
fn root_with_log(dep_ty: &str, log_ty: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(component
            (import "dep" (external-id "unlocked-dep=<test:dep@{{>=1.0.0}}>")
                (instance (export "f" (func (param "x" {dep_ty})))))
            (import "log" (func (param "x" {log_ty})))
            (export "dep" (instance 0))
            (export "log" (func 0)))"#
    ))
    .unwrap()
}

#[test]
fn identical_host_imports_are_merged() {
    let source = dep_source("u32");
    let root = root_with_log("u32", "u32");
    let resolution = resolve_bytes(&source, "merge", &root);
    let out = Bundler::from_root(&root, &resolution, Packages::Source(&source))
        .to_vec()
        .unwrap();
    let names: Vec<_> = scan(&out)
        .unwrap()
        .imports
        .into_iter()
        .map(|i| i.name.name)
        .collect();
    assert_eq!(names, ["log"]);
    Validator::new().validate_all(&out).unwrap();
}

#[test]
fn incompatible_host_imports_name_both_members() {
    let source = dep_source("string");
    let root = root_with_log("string", "u32");
    let resolution = resolve_bytes(&source, "conflict", &root);
    let err = Bundler::from_root(&root, &resolution, Packages::Source(&source))
        .to_vec()
        .unwrap_err();
    let ComposeError::HostImportConflict {
        name,
        first,
        second,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(name, "log");
    assert_eq!(first, "test:dep@1.0.0");
    // Backticked once in the message, never nested.
    assert_eq!(second, "root conflict");
    assert!(err.to_string().contains("`root conflict`"), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("test:dep@1.0.0") && message.contains("conflict"),
        "{message}"
    );
}

#[test]
fn migrate_avoids_taken_names_and_keeps_other_bytes() {
    let legacy = wat::parse_str(
        r#"(component
            (import "inc" (instance))
            (import "unlocked-dep=<test:inc@{>=1.0.0}>" (instance))
            (import "locked-dep=<test:five@1.0.0>" (instance)))"#,
    )
    .unwrap();
    let migrated = migrate(&legacy).unwrap();
    Validator::new_with_features(WasmFeatures::all())
        .validate_all(&migrated)
        .unwrap();
    let imports: Vec<_> = scan(&migrated)
        .unwrap()
        .imports
        .into_iter()
        .map(|i| (i.name.name, i.name.external_id))
        .collect();
    assert_eq!(
        imports,
        [
            ("inc".to_string(), None),
            (
                "inc-2".to_string(),
                Some("unlocked-dep=<test:inc@{>=1.0.0}>".to_string())
            ),
            (
                "five".to_string(),
                Some("locked-dep=<test:five@1.0.0>".to_string())
            ),
        ]
    );
    // Same bytes as writing the current form by hand.
    let expected = wat::parse_str(
        r#"(component
            (import "inc" (instance))
            (import "inc-2" (external-id "unlocked-dep=<test:inc@{>=1.0.0}>") (instance))
            (import "five" (external-id "locked-dep=<test:five@1.0.0>") (instance)))"#,
    )
    .unwrap();
    assert_eq!(migrated, expected);
}

#[test]
fn migrate_rejects_a_broken_depname() {
    let legacy =
        wat::parse_str(r#"(component (import "unlocked-dep=<test:inc@{>=x}>" (instance)))"#)
            .unwrap();
    let err = migrate(&legacy).unwrap_err();
    // The parser's error is the cause, under the import it is about; the
    // message itself says only which component.
    let whole = chain(&err);
    assert!(
        whole.contains("import `unlocked-dep=<test:inc@{>=x}>`: "),
        "{whole}"
    );
    assert!(!err.to_string().contains("unlocked-dep"), "{err}");
}

#[test]
fn strip_and_restore_are_inverse() {
    let bytes = wat::parse_str(
        r#"(component
            (import "add" (external-id "unlocked-dep=<test:add@{>=1.0.0}>") (instance))
            (import "a:b/c@1.2" (version-suffix ".3") (instance))
            (import "plain" (implements "a:b/c@1.2.3") (instance))
            (export "x" (implements "a:b/c@1.2.3") (instance 0)))"#,
    )
    .unwrap();
    let (stripped, patches) = strip(&bytes, "test").unwrap();
    // wat writes one import section per import: three of them and the
    // export section carry attributes.
    assert_eq!(patches.len(), 4);
    // The default validator (no cm-implements) accepts the stripped copy.
    Validator::new().validate_all(&stripped).unwrap();
    let names: Vec<_> = scan(&stripped)
        .unwrap()
        .imports
        .into_iter()
        .map(|i| i.name.name)
        .collect();
    assert_eq!(names, ["add", "a:b/c@1.2.3", "plain"]);
    assert_eq!(restore(&stripped, &patches, "test").unwrap(), bytes);
    // Nothing to strip: unchanged, no patches.
    let add = std::fs::read(testdata().join("registry/test/add/1.0.0.wasm")).unwrap();
    let (bare, patches) = strip(&add, "add").unwrap();
    assert!(
        matches!(bare, std::borrow::Cow::Borrowed(_)),
        "a bare binary is not copied"
    );
    assert_eq!((&bare[..], patches), (&add[..], vec![]));
}

#[test]
fn a_record_that_does_not_fit_is_refused() {
    let (root, resolution) = resolved("meet");
    let out = Bundler::from_root(&root, &resolution, Packages::Source(&registry()))
        .to_vec()
        .unwrap();
    let record = read_record(&out).unwrap();
    assert_eq!(record.format, 1);

    // Rewrite the record so that a dependency claims another package.
    let mut forged = record.clone();
    forged.dependencies[0].package = "test:other".into();
    let payload = serde_json::to_vec(&forged).unwrap();
    let mut section = Vec::new();
    section.push(BUNDLE_SECTION.len() as u8);
    section.extend_from_slice(BUNDLE_SECTION.as_bytes());
    section.extend_from_slice(&payload);
    let start = last_section_start(&out);
    let mut tampered = out[..start].to_vec();
    tampered.push(0);
    let mut size = Vec::new();
    leb(&mut size, section.len());
    tampered.extend_from_slice(&size);
    tampered.extend_from_slice(&section);
    let err = unbundle(&tampered).unwrap_err();
    assert!(matches!(err, ComposeError::Record(_)), "{err:?}");
}

fn leb(out: &mut Vec<u8>, mut v: usize) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Offset of the last top-level section (the record).
fn last_section_start(bytes: &[u8]) -> usize {
    let mut pos = 8;
    let mut last = pos;
    while pos < bytes.len() {
        last = pos;
        pos += 1;
        let (mut size, mut shift) = (0usize, 0);
        loop {
            let b = bytes[pos];
            pos += 1;
            size |= usize::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        pos += size;
    }
    last
}

#[test]
fn a_root_without_dependencies_bundles_and_unbundles() {
    let add = std::fs::read(testdata().join("registry/test/add/1.0.0.wasm")).unwrap();
    let resolution = warg_depsolve_solver::Resolution {
        root: "alone".into(),
        root_edges: vec![],
        packages: vec![],
    };
    let source = MemorySource::new("empty");
    let locked = warg_depsolve_compose::lock(&add, &resolution, &source).unwrap();
    let out = Bundler::from_root(&add, &resolution, Packages::Source(&source))
        .to_vec()
        .unwrap();
    assert_eq!(call2(&out, "add", 1, 2), 3);
    let un = unbundle(&out).unwrap();
    assert!(un.packages.is_empty());
    assert_eq!(un.locked, locked);
    assert_eq!(
        Bundler::from_locked(&locked, &source).to_vec().unwrap(),
        out
    );
}

#[test]
fn two_tracks_get_two_import_names() {
    let (root, resolution) = resolved("tracks");
    let locked = warg_depsolve_compose::lock(&root, &resolution, &registry()).unwrap();
    let names: Vec<_> = scan(&locked)
        .unwrap()
        .imports
        .into_iter()
        .map(|i| i.name.name)
        .collect();
    assert_eq!(names, ["test-add-1", "test-add-2"]);
}
