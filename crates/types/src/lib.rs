//! Type facts of a component, and the check that links them.
//!
//! The component model links a versioned interface import to any export on
//! the same canonical track *if the importer uses only what the provider
//! has*, and a declared dependency's instance import to any provider whose
//! exports cover it. Which of those hold is a question of types, answered
//! by the validator's subtype rules when a composition is wired. This crate
//! answers it earlier, for the solver: [`ComponentTypes::read`] reads the
//! types of a component's imports and exports once (for the release
//! metadata and its cache), as [`ItemType`]s that need no parser to
//! compare, and [`ItemType::check`] applies the rules the validator
//! applies when wiring:
//!
//! - an instance provides an instance type when it has every export the
//!   type lists, each a subtype (width subtyping; extra exports are fine);
//! - everything else must match exactly: wasmparser 0.263 checks functions
//!   by full type equality (parameter names and types, result, `async`),
//!   and value types are structural. Resources are named by where they are
//!   declared: an instance's own resource by its export name, one from
//!   another interface by that interface's canonical track and name, so
//!   `wasi:io/streams@0.2.1` and `@0.2.6` name the same `input-stream`.
//!
//! ```
//! use warg_depsolve_types::ComponentTypes;
//! // A provider exporting `add` and `sub`.
//! let provider = wat::parse_str(r#"(component
//!     (import "host" (instance $h
//!         (export "add" (func (param "a" u32) (param "b" u32) (result u32)))
//!         (export "sub" (func (param "a" u32) (param "b" u32) (result u32)))))
//!     (alias export $h "add" (func $add))
//!     (alias export $h "sub" (func $sub))
//!     (export "add" (func $add))
//!     (export "sub" (func $sub)))"#).unwrap();
//! // An importer that uses `add` and `mul` of it.
//! let importer = wat::parse_str(r#"(component
//!     (import "calc" (instance
//!         (export "add" (func (param "a" u32) (param "b" u32) (result u32)))
//!         (export "mul" (func (param "a" u32) (param "b" u32) (result u32))))))"#).unwrap();
//! let provider = ComponentTypes::read(&provider, |_| false).unwrap();
//! let importer = ComponentTypes::read(&importer, |name| name == "calc").unwrap();
//! let needed = &importer.imports["calc"];
//! let mismatch = provider.as_instance().check(needed).unwrap_err();
//! assert_eq!(mismatch.to_string(), "has no `mul`");
//! ```

#![warn(missing_docs)]

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

mod check;
mod read;

pub use check::{Mismatch, MismatchKind};
pub use read::TypesError;

/// The type of one import or export, as far as linking needs it.
///
/// Serialized as JSON without tags: an instance is an object of its
/// exports, anything else its canonical text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ItemType {
    /// An instance: its exports by name (a provider may have more).
    Instance(BTreeMap<String, ItemType>),
    /// Anything else, as canonical text that must match exactly
    /// (`func(a: u32) -> string`, `resource`, `type record{x: u32}`).
    Exact(String),
}

/// The types of a component's imports and exports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentTypes {
    /// The imports kept when read (the ones naming registry packages), by
    /// the name stored in the binary.
    pub imports: BTreeMap<String, ItemType>,
    /// Every top-level export, by its full name (an export with an
    /// `implements` attribute also under the interface it implements).
    pub exports: BTreeMap<String, ItemType>,
}

impl ComponentTypes {
    /// The component as an instance of its exports: what a declared
    /// dependency's instance import takes.
    pub fn as_instance(&self) -> ItemType {
        ItemType::Instance(self.exports.clone())
    }

    /// Whether the component's exports satisfy `required`, an instance
    /// import taking the whole component: [`ItemType::check`] of
    /// [`Self::as_instance`], without copying the exports. An import that
    /// is not an instance type is satisfied by no component.
    ///
    /// ```
    /// use warg_depsolve_types::{ComponentTypes, ItemType};
    /// let none = ComponentTypes::default();
    /// assert!(none.provides(&ItemType::Instance(Default::default())).is_ok());
    /// let func = ItemType::Exact("func()".into());
    /// assert!(none.provides(&func).is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// The first [`Mismatch`], as [`ItemType::check`].
    pub fn provides(&self, required: &ItemType) -> Result<(), Mismatch> {
        check::instance_provides(&self.exports, required)
    }
}
