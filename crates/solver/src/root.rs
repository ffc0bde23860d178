//! The component being solved for: not a registry release, so it has a
//! name for reports and its imports, but no package name or version.

use warg_depsolve_registry::{Dependency, ExtractError};
use warg_depsolve_types::ComponentTypes;

/// The component being resolved: a name for reports and its registry
/// imports.
#[derive(Clone, Debug)]
pub struct Root {
    /// Shown in reports (`meet.wat`).
    pub name: String,
    /// The root's registry dependencies (host imports need not be listed).
    pub dependencies: Vec<Dependency>,
    /// The types of those imports, when known: candidates whose exports do
    /// not satisfy them are excluded (see [`crate::resolve`]).
    pub types: Option<ComponentTypes>,
}

impl Root {
    /// A root from a name and its dependencies.
    pub fn new(name: impl Into<String>, dependencies: Vec<Dependency>) -> Self {
        Root {
            name: name.into(),
            dependencies,
            types: None,
        }
    }

    /// The root component in `bytes`, named `name` in reports: its
    /// registry dependencies and their types, read the way a release's are (a root is not a
    /// registry release, so it has no package name or version).
    ///
    /// # Errors
    ///
    /// The bytes are not a component, or an import's dependency reference
    /// is malformed (naming the import).
    pub fn from_component(name: impl Into<String>, bytes: &[u8]) -> Result<Self, ExtractError> {
        let (dependencies, types) =
            warg_depsolve_registry::metadata::dependencies_and_types(bytes)?;
        Ok(Root {
            name: name.into(),
            dependencies,
            types,
        })
    }
}
