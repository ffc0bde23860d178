//! What `warg-depsolve inspect` reports about a component, as data.
//!
//! [`inspect`] scans a component's top level (with
//! [`warg_depsolve_names::scan::scan`]; it never walks code or nested
//! binaries) and classifies each import (with
//! [`fn@warg_depsolve_names::classify`]). The result, an [`Inspection`],
//! serializes to the `inspect --format json` shape below; the command line
//! adds three keys in front of it (`format`, `file`, `source`).
//!
//! # JSON shape (format 1)
//!
//! ```text
//! {
//!   "format": 1,                          // bumped on any incompatible change
//!   "file": "testdata/roots/meet.wat",    // the path as given
//!   "source": "wat",                      // "wasm" (binary file) or "wat" (compiled text)
//!   "size": 455,                          // bytes of the component binary
//!   "digest": "sha256:<64 hex>",          // of those bytes
//!   "metadata": { "name": null, "version": null },   // component-name / version sections
//!   "instances": { "core": 2, "component": 0 },     // created by top-level instance sections
//!   "imports": [ {
//!       "name": "inc",                    // as stored in the binary
//!       "full_name": "inc",               // name + version-suffix: what is classified
//!       "kind": "instance",               // module | func | value | type | instance | component
//!       "implements": null, "version_suffix": null,
//!       "external_id": "unlocked-dep=<test:inc@{>=1.0.0}>",
//!       "class": { "kind": "declared", "reference": "unlocked-dep=<test:inc@{>=1.0.0}>",
//!                  "package": "test:inc", "range": "{>=1.0.0}" }
//!   } ],
//!   "exports": [ { "name": "full", "kind": "func", "index": 2,
//!                  "implements": null, "version_suffix": null, "external_id": null } ],
//!   "nested": [ { "kind": "module", "index": 0, "ordinal": 0,
//!                 "offset": 190, "size": 110, "digest": "sha256:<64 hex>" } ]
//! }
//! ```
//!
//! `class` is one of:
//!
//! - `{"kind": "declared" | "legacy", "reference", "package", "range"}` for
//!   an unlocked reference (`range` is `*` or `{...}`), or
//!   `{"kind": "declared" | "legacy", "reference", "package", "version", "integrity": ["sha256:<hex>", ...]}`
//!   for a locked one. `declared` comes from the `external-id`, `legacy`
//!   from a raw depname used as the import name.
//! - `{"kind": "interface", "package", "interface", "version", "track", "wasi"}`
//!   (`version` and `track` are `null` for an unversioned name).
//! - `{"kind": "host"}`.
//! - `{"kind": "invalid", "error": "..."}`: a string that claims to be a
//!   dependency reference but does not parse. The rest of the report is
//!   still complete; the command prints it and then exits with status 1.
//!
//! Keys are never removed or renamed within a format number; new keys may
//! be added.

use serde::Serialize;
use warg_depsolve_names::scan::{
    scan, ComponentMetadata, InstanceCount, ItemKind, NestedKind, ScanError,
};
use warg_depsolve_names::{ClassifyError, ImportClass, Integrity};

/// The version of the JSON shape documented in this module.
pub const FORMAT_VERSION: u32 = 1;

/// Everything `inspect` reports about one component binary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inspection {
    /// Size of the binary in bytes.
    pub size: usize,
    /// SHA-256 of the binary, `sha256:<hex>`.
    pub digest: String,
    /// The component's own name and version, if it carries them.
    pub metadata: ComponentMetadata,
    /// Instances created at the top level.
    pub instances: InstanceCount,
    /// Top-level imports, classified, in binary order.
    pub imports: Vec<ImportInfo>,
    /// Top-level exports, in binary order.
    pub exports: Vec<ExportInfo>,
    /// Modules and components nested at the top level, in binary order.
    pub nested: Vec<NestedInfo>,
}

/// One classified import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportInfo {
    /// The name as stored in the binary.
    pub name: String,
    /// The name with its version suffix applied: the string classified.
    pub full_name: String,
    /// The kind of item imported.
    pub kind: ItemKind,
    /// The `implements` attribute.
    pub implements: Option<String>,
    /// The `version-suffix` attribute.
    pub version_suffix: Option<String>,
    /// The `external-id` attribute.
    pub external_id: Option<String>,
    /// What the import is.
    pub class: Classification,
}

/// The classification of an import, or why it could not be classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classification {
    /// A well-formed classification.
    Valid(ImportClass),
    /// The import carries something that starts like a dependency reference
    /// but does not parse.
    Invalid(ClassifyError),
}

impl Serialize for Classification {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        match self {
            Classification::Valid(class) => class.serialize(s),
            Classification::Invalid(error) => {
                let mut map = s.serialize_map(Some(2))?;
                map.serialize_entry("kind", "invalid")?;
                map.serialize_entry("error", &warg_depsolve_names::error::chain(error))?;
                map.end()
            }
        }
    }
}

/// One export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportInfo {
    /// The name as stored in the binary.
    pub name: String,
    /// The kind of item exported.
    pub kind: ItemKind,
    /// The item's index in the component's index space for `kind`.
    pub index: u32,
    /// The `implements` attribute.
    pub implements: Option<String>,
    /// The `version-suffix` attribute.
    pub version_suffix: Option<String>,
    /// The `external-id` attribute.
    pub external_id: Option<String>,
}

/// One nested module or component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NestedInfo {
    /// Module or component.
    pub kind: NestedKind,
    /// Its index in the enclosing core module or component index space.
    pub index: u32,
    /// Its position among the nested definitions of the same kind.
    pub ordinal: u32,
    /// Byte offset of its `\0asm` header in the outer binary.
    pub offset: usize,
    /// Its size in bytes.
    pub size: usize,
    /// SHA-256 of its bytes, `sha256:<hex>`.
    pub digest: String,
}

impl Inspection {
    /// The imports whose dependency reference is malformed.
    pub fn errors(&self) -> impl Iterator<Item = &ClassifyError> {
        self.imports
            .iter()
            .filter_map(|import| match &import.class {
                Classification::Invalid(e) => Some(e),
                Classification::Valid(_) => None,
            })
    }
}

/// Inspects a component binary.
///
/// A malformed dependency reference does not fail the inspection: the import
/// is reported as [`Classification::Invalid`] (see [`Inspection::errors`]).
///
/// ```
/// use warg_depsolve::inspect::{inspect, Classification};
/// use warg_depsolve_names::ImportClass;
///
/// let bytes = wat::parse_str(r#"(component
///     (import "log" (func))
///     (import "bad" (external-id "unlocked-dep=<test:x@{>=1.0.0 <2}>") (instance))
/// )"#).unwrap();
/// let report = inspect(&bytes).unwrap();
/// assert_eq!(report.imports[0].class, Classification::Valid(ImportClass::Host));
/// assert_eq!(report.errors().count(), 1);
/// assert!(inspect(b"\0asm\x01\0\0\0").unwrap_err().to_string().starts_with("not a component"));
/// ```
///
/// # Errors
///
/// The bytes are not a component, or its top level cannot be read.
pub fn inspect(bytes: &[u8]) -> Result<Inspection, ScanError> {
    let scanned = scan(bytes)?;
    let imports = scanned
        .imports
        .into_iter()
        .map(|import| {
            let full_name = import.name.full_name().into_owned();
            let class = match import.name.classify() {
                Ok(class) => Classification::Valid(class),
                Err(e) => Classification::Invalid(e),
            };
            ImportInfo {
                name: import.name.name,
                full_name,
                kind: import.kind,
                implements: import.name.implements,
                version_suffix: import.name.version_suffix,
                external_id: import.name.external_id,
                class,
            }
        })
        .collect();
    let exports = scanned
        .exports
        .into_iter()
        .map(|export| ExportInfo {
            name: export.name.name,
            kind: export.kind,
            index: export.index,
            implements: export.name.implements,
            version_suffix: export.name.version_suffix,
            external_id: export.name.external_id,
        })
        .collect();
    let nested = scanned
        .nested
        .iter()
        .map(|nested| NestedInfo {
            kind: nested.kind,
            index: nested.index,
            ordinal: nested.ordinal,
            offset: nested.range.start,
            size: nested.range.len(),
            digest: Integrity::sha256(nested.bytes(bytes)).to_oci(),
        })
        .collect();
    Ok(Inspection {
        size: bytes.len(),
        digest: Integrity::sha256(bytes).to_oci(),
        metadata: scanned.metadata,
        instances: scanned.instance_count,
        imports,
        exports,
        nested,
    })
}
