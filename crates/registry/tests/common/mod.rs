//! Helpers shared by the integration tests: package names, versions and
//! small real components built from WAT.

#![allow(dead_code)]

use std::path::PathBuf;

use semver::Version;
use warg_depsolve_names::PackageName;

/// A package name.
pub fn pkg(s: &str) -> PackageName {
    s.parse().unwrap()
}

/// A version.
pub fn ver(s: &str) -> Version {
    s.parse().unwrap()
}

/// The repository's fixture registry.
pub fn fixture_registry() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/registry")
}

/// A component that imports the given `(name, external-id)` instances and
/// exports one core module whose export name is `tag`, so different tags
/// give different bytes.
pub fn component(imports: &[(&str, Option<&str>)], tag: &str) -> Vec<u8> {
    let mut wat = String::from("(component\n");
    for (name, id) in imports {
        match id {
            Some(id) => wat.push_str(&format!(
                "  (import {name:?} (external-id {id:?}) (instance))\n"
            )),
            None => wat.push_str(&format!("  (import {name:?} (instance))\n")),
        }
    }
    wat.push_str(&format!("  (core module $m (func (export {tag:?})))\n"));
    wat.push_str("  (export \"m\" (core module $m))\n)");
    wat::parse_str(&wat).unwrap()
}

/// A component with no imports, told apart by `tag`.
pub fn leaf(tag: &str) -> Vec<u8> {
    component(&[], tag)
}
