//! What each top-level import of a component is.

use serde::Serialize;

use crate::depref::{DepRef, ParseError};
use crate::interface::InterfaceName;

/// The four kinds of top-level import (see the design's "Dependency
/// references").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportClass {
    /// An import whose `external-id` carries a dependency reference.
    Declared(DepRef),
    /// An interface import `ns:pkg/iface@ver` with no dependency reference.
    /// Whether a registry package provides it is the solver's decision
    /// (configuration, then the package `ns:pkg`); `wasi:*` never is.
    Interface(InterfaceName),
    /// A pre-2026 binary whose raw import name is a depname.
    Legacy(DepRef),
    /// Anything else: satisfied by the host, passed through untouched.
    Host,
}

/// A string that claims to be a dependency reference but is not well formed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("import `{import}`")]
pub struct ClassifyError {
    /// The import's name.
    pub import: String,
    /// Why its reference did not parse.
    #[source]
    pub source: ParseError,
}

/// Classifies one import from its name and `external-id` attribute.
///
/// A string that starts like a dependency reference (`unlocked-dep=` or
/// `locked-dep=`) but does not parse is an error, never silently a host
/// import. An `external-id` that is not a reference at all is opaque tooling
/// data and does not change the import's meaning.
pub fn classify(name: &str, external_id: Option<&str>) -> Result<ImportClass, ClassifyError> {
    let parse = |s: &str| {
        DepRef::parse(s).map_err(|source| ClassifyError {
            import: name.to_string(),
            source,
        })
    };
    if let Some(id) = external_id.filter(|id| DepRef::looks_like(id)) {
        return parse(id).map(ImportClass::Declared);
    }
    if DepRef::looks_like(name) {
        return parse(name).map(ImportClass::Legacy);
    }
    Ok(match InterfaceName::parse(name) {
        Some(interface) => ImportClass::Interface(interface),
        None => ImportClass::Host,
    })
}

/// How [`ImportClass`] appears in JSON output: `{"kind": "declared", ...}`.
impl Serialize for ImportClass {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        match self {
            ImportClass::Declared(dep) | ImportClass::Legacy(dep) => {
                let kind = if matches!(self, ImportClass::Declared(_)) {
                    "declared"
                } else {
                    "legacy"
                };
                map.serialize_entry("kind", kind)?;
                map.serialize_entry("reference", &dep.to_string())?;
                map.serialize_entry("package", dep.package())?;
                match dep {
                    DepRef::Unlocked { range, .. } => {
                        map.serialize_entry("range", &range.to_string())?
                    }
                    DepRef::Locked {
                        version, integrity, ..
                    } => {
                        map.serialize_entry("version", &version.to_string())?;
                        map.serialize_entry("integrity", integrity)?;
                    }
                }
            }
            ImportClass::Interface(i) => {
                map.serialize_entry("kind", "interface")?;
                map.serialize_entry("package", &i.package)?;
                map.serialize_entry("interface", &i.interface)?;
                map.serialize_entry("version", &i.version.as_ref().map(|v| v.to_string()))?;
                map.serialize_entry("track", &i.track())?;
                map.serialize_entry("wasi", &i.is_wasi())?;
            }
            ImportClass::Host => map.serialize_entry("kind", "host")?,
        }
        map.end()
    }
}
