//! `ItemType::check` agrees with wasmparser's validator wiring the same
//! provider into the same importer: on every generated pair, the check
//! passes exactly when the composition validates.

use warg_depsolve_types::ComponentTypes;

/// Signatures an export may have: a name differs, a result differs, a
/// parameter type differs.
const SIGNATURES: [&str; 4] = [
    r#"(func (param "a" u32) (result u32))"#,
    r#"(func (param "a" u32) (result string))"#,
    r#"(func (param "b" u32) (result u32))"#,
    r#"(func (param "a" (list u8)) (result (option u32)))"#,
];
const NAMES: [&str; 3] = ["get", "put", "delete"];

/// A deterministic generator (xorshift), so a failure names its case.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Some of `NAMES`, each with a signature.
fn items(rng: &mut Rng) -> Vec<(&'static str, usize)> {
    let mut out = Vec::new();
    for name in NAMES {
        if rng.below(3) > 0 {
            out.push((name, rng.below(SIGNATURES.len())));
        }
    }
    out
}

fn instance_type(items: &[(&str, usize)]) -> String {
    items
        .iter()
        .map(|(n, s)| format!("(export \"{n}\" {})", SIGNATURES[*s]))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A provider exporting `items` under `export` (an interface name) or at
/// its top level (`None`): it re-exports them from a host instance.
fn provider(items: &[(&str, usize)], export: Option<&str>) -> String {
    let aliases: String = items
        .iter()
        .map(|(n, _)| format!("(alias export $h \"{n}\" (func ${n}))"))
        .collect();
    let exports = match export {
        None => items
            .iter()
            .map(|(n, _)| format!("(export \"{n}\" (func ${n}))"))
            .collect::<String>(),
        Some(name) => {
            let args: String = items
                .iter()
                .map(|(n, _)| format!("(export \"{n}\" (func ${n}))"))
                .collect();
            format!("(instance $out {args}) (export \"{name}\" (instance $out))")
        }
    };
    format!(
        "(component (import \"host\" (instance $h {})) {aliases} {exports})",
        instance_type(items)
    )
}

fn importer(import: &str, items: &[(&str, usize)]) -> String {
    format!(
        "(component (import \"{import}\" (instance {})))",
        instance_type(items)
    )
}

/// Whether wiring the provider into the importer validates.
fn wires(
    provider_wat: &str,
    provided: &[(&str, usize)],
    importer_wat: &str,
    import: &str,
    export: Option<&str>,
) -> bool {
    // The whole provider instance, or the interface it exports.
    let (alias, arg) = match export {
        None => (String::new(), "(instance $p)"),
        Some(name) => (
            format!("(alias export $p \"{name}\" (instance $pi))"),
            "(instance $pi)",
        ),
    };
    let body = |wat: &str| wat["(component".len()..wat.len() - 1].to_string();
    let composition = format!(
        "(component (import \"host\" (instance $h {})) (component $P {}) (component $I {}) \
         (instance $p (instantiate $P (with \"host\" (instance $h)))) {alias} \
         (instance $i (instantiate $I (with \"{import}\" {arg}))))",
        instance_type(provided),
        body(provider_wat),
        body(importer_wat),
    );
    let bytes = wat::parse_str(&composition).expect("composition parses");
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&bytes)
        .is_ok()
}

fn agree(seed: u64, export: Option<&str>, import: &str) {
    let mut rng = Rng(seed);
    let mut seen = [0usize; 2];
    for case in 0..150 {
        let provided = items(&mut rng);
        let required = items(&mut rng);
        let p = provider(&provided, export);
        let i = importer(import, &required);
        let p_types = ComponentTypes::read(&wat::parse_str(&p).unwrap(), |_| false).unwrap();
        let i_types = ComponentTypes::read(&wat::parse_str(&i).unwrap(), |_| true).unwrap();
        let offered = match export {
            None => p_types.as_instance(),
            Some(name) => p_types.exports[name].clone(),
        };
        let checked = offered.check(&i_types.imports[import]);
        let validated = wires(&p, &provided, &i, import, export);
        assert_eq!(
            checked.is_ok(),
            validated,
            "case {case}: provider {provided:?}, importer {required:?}: check says {checked:?}"
        );
        seen[usize::from(validated)] += 1;
    }
    // Both outcomes occur, so the comparison means something.
    assert!(seen[0] > 10 && seen[1] > 10, "{seen:?}");
}

#[test]
fn declared_dependencies_agree_with_the_validator() {
    agree(0x5eed, None, "calc");
}

#[test]
fn interface_imports_agree_with_the_validator_across_a_track() {
    // The importer wants 1.4.0; the provider exports 1.2.0: same track.
    agree(0xfeed, Some("acme:kv/store@1.2.0"), "acme:kv/store@1.4.0");
}

#[test]
fn resources_are_named_by_where_they_are_declared() {
    // The importer's store declares its own `handle`; the provider exports
    // one it takes from its host. Both are the store's own `handle`.
    let importer = wat::parse_str(
        r#"(component (import "acme:kv/store@1.4.0" (instance
            (export "handle" (type (sub resource)))
            (export "open" (func (param "name" string) (result (own 0)))))))"#,
    )
    .unwrap();
    let provider = wat::parse_str(
        r#"(component
            (import "host" (instance $h
                (export "handle" (type (sub resource)))
                (export "open" (func (param "name" string) (result (own 0))))
                (export "close" (func (param "h" (borrow 0)))))
            )
            (alias export $h "handle" (type $handle))
            (alias export $h "open" (func $open))
            (alias export $h "close" (func $close))
            (instance $out
                (export "handle" (type $handle))
                (export "open" (func $open))
                (export "close" (func $close)))
            (export "acme:kv/store@1.2.0" (instance $out)))"#,
    )
    .unwrap();
    let i = ComponentTypes::read(&importer, |_| true).unwrap();
    let p = ComponentTypes::read(&provider, |_| false).unwrap();
    let export = &p.exports["acme:kv/store@1.2.0"];
    assert_eq!(export.check(&i.imports["acme:kv/store@1.4.0"]), Ok(()));
    // Facts survive their JSON form unchanged (the metadata cache).
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(serde_json::from_str::<ComponentTypes>(&json).unwrap(), p);
}

#[test]
fn a_core_module_is_not_a_component() {
    let module = wat::parse_str("(module)").unwrap();
    let err = ComponentTypes::read(&module, |_| true).unwrap_err();
    assert_eq!(err.to_string(), "it is a core module, not a component");
    let err = ComponentTypes::read(b"\0asm\x0d\0\x01\0garbage", |_| true).unwrap_err();
    assert_eq!(err.to_string(), "its types do not validate");
    assert!(std::error::Error::source(&err).is_some());
}
