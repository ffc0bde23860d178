//! Tests for `warg_depsolve_names::scan`.

use proptest::prelude::*;
use warg_depsolve_names::scan::{
    scan, ComponentMetadata, ComponentScan, DescriptiveMetadata, Export, ExternName, Import,
    InstanceCount, ItemKind, Nested, NestedKind, ScanError,
};
use wasm_encoder::{
    Component, ComponentImportSection, ComponentNameSection, ComponentSectionId, ComponentTypeRef,
    ComponentTypeSection, CustomSection, InstanceType, RawSection,
};

fn wat(text: &str) -> Vec<u8> {
    wat::parse_str(text).expect("test wat parses")
}

fn ok(bytes: &[u8]) -> ComponentScan {
    scan(bytes).expect("scan succeeds")
}

fn name(name: &str) -> ExternName {
    ExternName::new(name)
}

#[test]
fn imports_with_attributes() {
    let bytes = wat(r#"
        (component
            (import "wasi:cli/stdout@0.2.3" (instance))
            (import "inc" (external-id "unlocked-dep=<test:inc@{>=1.0.0}>") (instance))
            (import "primary" (implements "test:kv/store@1") (instance))
            (import "test:kv/store@1" (version-suffix ".2.3") (instance))
            (import "all" (implements "a:b/c@0.2") (version-suffix ".1")
                (external-id "locked-dep=<a:b@0.2.1>") (func))
            (import "m" (core module))
            (import "c" (component))
            (import "t" (type (sub resource)))
            (import "v" (value string))
        )
    "#);
    let s = ok(&bytes);
    let names: Vec<&ExternName> = s.imports.iter().map(|i| &i.name).collect();
    assert_eq!(names[0], &name("wasi:cli/stdout@0.2.3"));
    assert_eq!(
        names[1],
        &ExternName {
            external_id: Some("unlocked-dep=<test:inc@{>=1.0.0}>".into()),
            ..name("inc")
        }
    );
    assert_eq!(
        names[2],
        &ExternName {
            implements: Some("test:kv/store@1".into()),
            ..name("primary")
        }
    );
    assert_eq!(
        names[3],
        &ExternName {
            version_suffix: Some(".2.3".into()),
            ..name("test:kv/store@1")
        }
    );
    assert_eq!(names[3].full_name(), "test:kv/store@1.2.3");
    assert_eq!(
        names[4],
        &ExternName {
            name: "all".into(),
            implements: Some("a:b/c@0.2".into()),
            version_suffix: Some(".1".into()),
            external_id: Some("locked-dep=<a:b@0.2.1>".into()),
        }
    );
    assert_eq!(names[4].full_name(), "all");
    assert_eq!(names[4].full_implements().as_deref(), Some("a:b/c@0.2.1"));

    let kinds: Vec<ItemKind> = s.imports.iter().map(|i| i.kind).collect();
    assert_eq!(
        kinds,
        [
            ItemKind::Instance,
            ItemKind::Instance,
            ItemKind::Instance,
            ItemKind::Instance,
            ItemKind::Func,
            ItemKind::Module,
            ItemKind::Component,
            ItemKind::Type,
            ItemKind::Value,
        ]
    );
    // Fresh resources and primitive values have no type index; the others do.
    assert!(s.imports[..7].iter().all(|i| i.type_index.is_some()));
    assert_eq!(s.imports[7].type_index, None);
    assert_eq!(s.imports[8].type_index, None);
    assert!(s.exports.is_empty());
    assert!(s.nested.is_empty());
    assert_eq!(s.metadata, ComponentMetadata::default());
}

#[test]
fn legacy_raw_depname_import_is_read() {
    let mut component = Component::new();
    let mut types = ComponentTypeSection::new();
    types.instance(&InstanceType::new());
    component.section(&types);
    let mut imports = ComponentImportSection::new();
    imports.import(
        "unlocked-dep=<test:inc@{>=1.0.0}>",
        ComponentTypeRef::Instance(0),
    );
    imports.import(
        "locked-dep=<test:dec@1.2.3>,integrity=<sha256-AAAA>",
        ComponentTypeRef::Instance(0),
    );
    component.section(&imports);
    let bytes = component.finish();

    // The validator no longer accepts these names ...
    assert!(wasmparser::Validator::new().validate_all(&bytes).is_err());
    // ... but the scan reads them verbatim.
    let s = ok(&bytes);
    assert_eq!(
        s.imports,
        [
            Import {
                name: name("unlocked-dep=<test:inc@{>=1.0.0}>"),
                kind: ItemKind::Instance,
                type_index: Some(0),
            },
            Import {
                name: name("locked-dep=<test:dec@1.2.3>,integrity=<sha256-AAAA>"),
                kind: ItemKind::Instance,
                type_index: Some(0),
            },
        ]
    );
}

#[test]
fn exports() {
    let bytes = wat(r#"
        (component
            (import "f" (func $f))
            (import "i" (instance $i))
            (core module $m)
            (component $c)
            (type $t u32)
            (export "run" (func $f))
            (export "wasi:cli/run@0.2.0" (func $f))
            (export "inst" (instance $i))
            (export "mod" (core module $m))
            (export "comp" (component $c))
            (export "ty" (type $t))
        )
    "#);
    wasmparser::Validator::new().validate_all(&bytes).unwrap();
    let s = ok(&bytes);
    let got: Vec<(&str, ItemKind, u32)> = s
        .exports
        .iter()
        .map(|e| (e.name.name.as_str(), e.kind, e.index))
        .collect();
    assert_eq!(
        got,
        [
            ("run", ItemKind::Func, 0),
            ("wasi:cli/run@0.2.0", ItemKind::Func, 0),
            ("inst", ItemKind::Instance, 0),
            ("mod", ItemKind::Module, 0),
            ("comp", ItemKind::Component, 0),
            ("ty", ItemKind::Type, 2), // after the two import types
        ]
    );
    assert!(s.exports.iter().all(|e| e.name.implements.is_none()));
}

/// Builds a component around the given nested binaries, embedding each as
/// the exact payload of a module or component section.
fn component_with_nested(nested: &[(NestedKind, &[u8])]) -> Vec<u8> {
    let mut component = Component::new();
    let mut imports = ComponentImportSection::new();
    let mut types = ComponentTypeSection::new();
    types.instance(&InstanceType::new());
    component.section(&types);
    imports.import("wasi:cli/stdout@0.2.3", ComponentTypeRef::Instance(0));
    component.section(&imports);
    for (kind, bytes) in nested {
        let id = match kind {
            NestedKind::Module => ComponentSectionId::CoreModule,
            NestedKind::Component => ComponentSectionId::Component,
        };
        component.section(&RawSection {
            id: id.into(),
            data: bytes,
        });
    }
    component.finish()
}

#[test]
fn nested_ranges_round_trip() {
    let module_a = wat(r#"(module (func (export "f") (result i32) i32.const 42))"#);
    let inner = wat(r#"
        (component
            (import "x" (func))
            (core module (memory 1) (data (i32.const 0) "hello"))
            (component (core module))
        )
    "#);
    let module_b = wat(r#"(module (memory 1) (data (i32.const 0) "some data here"))"#);
    let bytes = component_with_nested(&[
        (NestedKind::Module, &module_a),
        (NestedKind::Component, &inner),
        (NestedKind::Module, &module_b),
    ]);
    wasmparser::Validator::new().validate_all(&bytes).unwrap();

    let s = ok(&bytes);
    // Only the top level: the inner component's own module and component
    // are not reported.
    assert_eq!(s.nested.len(), 3);
    let expected = [
        (NestedKind::Module, 0, &module_a),
        (NestedKind::Component, 0, &inner),
        (NestedKind::Module, 1, &module_b),
    ];
    for (nested, (kind, index, original)) in s.nested.iter().zip(expected) {
        assert_eq!(nested.kind, kind);
        assert_eq!(nested.index, index);
        assert_eq!(nested.ordinal, index);
        let slice = nested.bytes(&bytes);
        assert_eq!(slice, &original[..]);
        assert_eq!(slice, &bytes[nested.range.clone()]);
        // The slice is a standalone, valid binary of the right kind.
        match kind {
            NestedKind::Module => assert!(wasmparser::Parser::is_core_wasm(slice)),
            NestedKind::Component => assert!(wasmparser::Parser::is_component(slice)),
        }
        wasmparser::Validator::new().validate_all(slice).unwrap();
    }
    // A nested component can be scanned in turn.
    let inner_scan = ok(s.nested[1].bytes(&bytes));
    assert_eq!(inner_scan.imports[0].name, name("x"));
    assert_eq!(inner_scan.nested.len(), 2);
}

#[test]
fn nested_indices_count_the_whole_index_space() {
    let bytes = wat(r#"
        (component
            (import "m" (core module $imported))          ;; module 0
            (import "c" (component $c-imported))          ;; component 0
            (core module $a)                              ;; module 1, ordinal 0
            (export "a" (core module $a))                 ;; module 2 (exports add an index)
            (core module $b)                              ;; module 3, ordinal 1
            (component $outer-user
                (alias outer 1 $a (core module))
            )                                             ;; component 1, ordinal 0
            (component $c2
                (core module (export "inner"))
            )                                             ;; component 2, ordinal 1
            (instance $i (instantiate $c2))
            (alias export $i "inner" (core module))       ;; module 4 (alias)
            (core module $d)                              ;; module 5, ordinal 2
            (core instance (instantiate $d))
            (core instance (instantiate $b))
        )
    "#);
    wasmparser::Validator::new().validate_all(&bytes).unwrap();
    let s = ok(&bytes);
    let got: Vec<(NestedKind, u32, u32)> = s
        .nested
        .iter()
        .map(|n| (n.kind, n.index, n.ordinal))
        .collect();
    assert_eq!(
        got,
        [
            (NestedKind::Module, 1, 0),
            (NestedKind::Module, 3, 1),
            (NestedKind::Component, 1, 0),
            (NestedKind::Component, 2, 1),
            (NestedKind::Module, 5, 2),
        ]
    );
    assert_eq!(
        s.instance_count,
        InstanceCount {
            core: 2,
            component: 1
        }
    );
}

#[test]
fn metadata_name_and_version() {
    let mut component = Component::new();
    let mut names = ComponentNameSection::new();
    names.component("my-component");
    component.section(&names);
    component.section(&CustomSection {
        name: "version".into(),
        data: b"1.2.3"[..].into(),
    });
    component.section(&CustomSection {
        name: "description".into(),
        data: b"a \xffcomponent"[..].into(),
    });
    let bytes = component.finish();
    let s = ok(&bytes);
    assert_eq!(
        s.metadata,
        ComponentMetadata {
            name: Some("my-component".into()),
            version: Some("1.2.3".into()),
            descriptive: DescriptiveMetadata {
                description: Some("a \u{fffd}component".into()),
                ..DescriptiveMetadata::default()
            },
        }
    );
}

#[test]
fn metadata_is_absent_and_broken_metadata_is_ignored() {
    assert_eq!(
        ok(&wat("(component)")).metadata,
        ComponentMetadata::default()
    );

    let mut component = Component::new();
    component.section(&CustomSection {
        name: "component-name".into(),
        data: [0x00, 0xff, 0xff][..].into(),
    });
    component.section(&CustomSection {
        name: "version".into(),
        data: [b'1', 0xff, 0xfe][..].into(),
    });
    // A broken name is no name; a version that is not UTF-8 is still a
    // version that is there (so `publish` says it is unreadable, not
    // missing).
    assert_eq!(
        ok(&component.finish()).metadata,
        ComponentMetadata {
            name: None,
            version: Some("1\u{fffd}\u{fffd}".into()),
            ..ComponentMetadata::default()
        }
    );
}

#[test]
fn whole_scan_of_a_small_component() {
    let bytes = wat(r#"
        (component
            (import "wasi:cli/stdout@0.2.3" (instance $out))
            (core module $m (func (export "run")))
            (core instance $i (instantiate $m))
            (alias core export $i "run" (core func $run))
            (type $f (func))
            (func $lifted (type $f) (canon lift (core func $run)))
            (export "run" (func $lifted))
        )
    "#);
    wasmparser::Validator::new().validate_all(&bytes).unwrap();
    let s = ok(&bytes);
    let module_range = s.nested[0].range.clone();
    assert_eq!(
        s,
        ComponentScan {
            imports: vec![Import {
                name: name("wasi:cli/stdout@0.2.3"),
                kind: ItemKind::Instance,
                type_index: Some(0),
            }],
            exports: vec![Export {
                name: name("run"),
                kind: ItemKind::Func,
                index: 0,
            }],
            nested: vec![Nested {
                kind: NestedKind::Module,
                index: 0,
                ordinal: 0,
                range: module_range,
            }],
            instance_count: InstanceCount {
                core: 1,
                component: 0
            },
            metadata: ComponentMetadata::default(),
        }
    );
}

fn assert_not_a_component(bytes: &[u8], what: &str) {
    let err = scan(bytes).unwrap_err();
    assert!(
        matches!(err, ScanError::NotAComponent(_)),
        "{err:?} is not NotAComponent"
    );
    let msg = err.to_string();
    assert!(msg.starts_with("not a component: "), "{msg}");
    assert!(msg.contains(what), "{msg:?} does not mention {what:?}");
}

#[test]
fn not_a_component() {
    assert_not_a_component(&wat("(module)"), "a core wasm module");
    assert_not_a_component(
        &wat(r#"(module (func (export "f")))"#),
        "a core wasm module",
    );
    assert_not_a_component(b"", "empty input");
    assert_not_a_component(b"hello world", "bad magic bytes");
    assert_not_a_component(b"(component)", "WebAssembly text");
    assert_not_a_component(b"\x7fELF\x02\x01\x01\x00", "bad magic bytes");
    assert_not_a_component(b"\0ax", "bad magic bytes: expected 00 61 73 6d");
    // Pre-release component encodings and unknown layers.
    assert_not_a_component(b"\0asm\x0c\0\x01\0", "unsupported encoding version 0xc");
    assert_not_a_component(b"\0asm\x01\0\x02\0", "unknown wasm layer");
}

#[test]
fn malformed_components() {
    // Header prefix.
    let err = scan(b"\0asm\x0d").unwrap_err();
    assert!(
        matches!(err, ScanError::Malformed { offset: 5, .. }),
        "{err}"
    );
    assert!(err
        .to_string()
        .starts_with("malformed component at offset 0x5: "));

    // An unknown section id.
    let mut bytes = wat("(component)");
    bytes.extend([0x7f, 0x00]);
    let err = scan(&bytes).unwrap_err();
    assert!(
        err.to_string().contains("unknown component section id 127"),
        "{err}"
    );

    // A nested module whose header says component.
    let inner = wat("(component)");
    let bytes = component_with_nested(&[(NestedKind::Module, &inner)]);
    let err = scan(&bytes).unwrap_err();
    assert!(matches!(err, ScanError::Malformed { .. }), "{err}");

    // A nested module section that runs past the end of the input.
    let module = wat(r#"(module (memory 1))"#);
    let bytes = component_with_nested(&[(NestedKind::Module, &module)]);
    let err = scan(&bytes[..bytes.len() - 1]).unwrap_err();
    assert!(
        err.to_string().contains("past the end of the input"),
        "{err}"
    );

    // A bad import entry.
    let mut component = Component::new();
    component.section(&RawSection {
        id: ComponentSectionId::Import.into(),
        data: &[0x01, 0x07, 0x01, b'x'],
    });
    let err = scan(&component.finish()).unwrap_err();
    assert!(matches!(err, ScanError::Malformed { .. }), "{err}");
}

/// A component with a bit of everything the scanner reads.
fn rich_component() -> Vec<u8> {
    let mut bytes = wat(r#"
        (component
            (import "wasi:cli/stdout@0.2.3" (instance $out))
            (import "inc" (external-id "unlocked-dep=<test:inc@{>=1.0.0}>") (instance))
            (import "kv" (implements "a:b/c@1") (version-suffix ".2") (instance))
            (core module $m (func (export "run")) (memory 1) (data (i32.const 0) "abcdef"))
            (component $c (import "y" (func)) (export "y2" (func 0)))
            (core instance $i (instantiate $m))
            (alias core export $i "run" (core func $run))
            (type $f (func))
            (func $lifted (type $f) (canon lift (core func $run)))
            (export "run" (func $lifted))
            (export "c" (component $c))
        )
    "#);
    let mut names = ComponentNameSection::new();
    names.component("rich");
    let mut tail = Component::new();
    tail.section(&names);
    tail.section(&CustomSection {
        name: "version".into(),
        data: b"0.1.0"[..].into(),
    });
    bytes.extend_from_slice(&tail.finish()[8..]);
    bytes
}

/// Offsets at which a top-level section ends (a prefix ending there is a
/// valid, shorter component).
fn section_boundaries(bytes: &[u8]) -> Vec<usize> {
    let mut parser = wasmparser::Parser::new(0);
    let mut ends = vec![8];
    loop {
        let offset = parser.offset() as usize;
        match parser.parse(&bytes[offset..], true).unwrap() {
            wasmparser::Chunk::Parsed { payload, .. } => {
                if let wasmparser::Payload::End(_) = payload {
                    return ends;
                }
                ends.push(parser.offset() as usize);
            }
            wasmparser::Chunk::NeedMoreData(_) => unreachable!(),
        }
    }
}

#[test]
fn truncated_prefixes_are_errors_not_panics() {
    let bytes = rich_component();
    let full = ok(&bytes);
    assert_eq!(full.imports.len(), 3);
    assert_eq!(full.exports.len(), 2);
    assert_eq!(full.nested.len(), 2);
    assert_eq!(full.metadata.name.as_deref(), Some("rich"));
    assert_eq!(full.metadata.version.as_deref(), Some("0.1.0"));

    let boundaries = section_boundaries(&bytes);
    assert_eq!(*boundaries.last().unwrap(), bytes.len());
    for len in 0..bytes.len() {
        let result = scan(&bytes[..len]);
        if boundaries.contains(&len) {
            // A whole number of sections: a valid, smaller component whose
            // scan is a prefix of the full scan.
            let s = result.unwrap_or_else(|e| panic!("prefix {len}: {e}"));
            assert!(full.imports.starts_with(&s.imports));
            assert!(full.exports.starts_with(&s.exports));
            assert!(full.nested.starts_with(&s.nested));
        } else {
            assert!(
                result.is_err(),
                "prefix of length {len} scanned as {result:?}"
            );
        }
    }
}

#[test]
fn corrupted_bytes_do_not_panic() {
    let bytes = rich_component();
    // Every single-byte corruption, with a few values each.
    for i in 0..bytes.len() {
        for value in [0x00, 0x01, 0x7f, 0x80, 0xff] {
            let mut corrupt = bytes.clone();
            corrupt[i] = value;
            let _ = scan(&corrupt);
        }
    }
}

proptest! {
    #[test]
    fn random_bytes_do_not_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = scan(&bytes);
    }

    #[test]
    fn random_sections_after_a_component_header_do_not_panic(
        body in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let mut bytes = b"\0asm\x0d\0\x01\0".to_vec();
        bytes.extend(body);
        if let Ok(s) = scan(&bytes) {
            for n in &s.nested {
                prop_assert!(n.range.end <= bytes.len());
                prop_assert!(n.bytes(&bytes).starts_with(b"\0asm"));
            }
        }
    }

    #[test]
    fn random_bytes_are_never_core_modules_or_components_by_accident(
        bytes in proptest::collection::vec(any::<u8>(), 1..64)
            .prop_filter("not wasm", |b| !b.starts_with(b"\0asm")),
    ) {
        let err = scan(&bytes).unwrap_err();
        prop_assert!(err.to_string().starts_with("not a component: bad magic bytes"), "{}", err);
    }
}

#[test]
fn scan_results_serialize() {
    fn assert_serialize<T: serde::Serialize>() {}
    assert_serialize::<ComponentScan>();
}
