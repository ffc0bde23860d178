//! Whether a provided type satisfies a required one: the validator's
//! subtype rules on [`ItemType`]s.

use std::collections::BTreeMap;
use std::fmt;

use crate::ItemType;

/// Why a provided type does not satisfy a required one: where (the path
/// of export names from the checked item down) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Export names from the checked item down to the mismatch; empty when
    /// the item itself differs.
    pub path: Vec<String>,
    /// What is wrong there.
    pub kind: MismatchKind,
}

/// What a [`Mismatch`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MismatchKind {
    /// The provider has no export of this name.
    Missing(String),
    /// The provider's item has another type.
    Differs {
        /// What the importer needs.
        required: String,
        /// What the provider has.
        provided: String,
    },
}

impl fmt::Display for Mismatch {
    /// Worded to follow a provider's item ("acme:kv@1.2.0's `store`"):
    /// ``has no `delete` ``, or `` `get` is `func() -> u32`, not `func() -> string` ``.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.path.is_empty() {
            write!(f, "`{}` ", self.path.join("/"))?;
        }
        f.write_str(&self.kind.predicate())
    }
}

impl MismatchKind {
    /// What is wrong, said of its subject: ``has no `delete` ``, or
    /// `` is `func() -> u32`, not `func() -> string` ``.
    fn predicate(&self) -> String {
        match self {
            MismatchKind::Missing(name) => format!("has no `{name}`"),
            MismatchKind::Differs { required, provided } => {
                format!("is `{provided}`, not `{required}`")
            }
        }
    }
}

impl Mismatch {
    /// The mismatch said of a provider: `owner` names it (`acme:kv@1.2.0`)
    /// and `item` the export checked, if not the whole component.
    ///
    /// ```
    /// use warg_depsolve_types::{Mismatch, MismatchKind};
    /// let m = Mismatch { path: vec![], kind: MismatchKind::Missing("delete".into()) };
    /// assert_eq!(m.describe("acme:kv@1.2.0", Some("store")), "acme:kv@1.2.0's `store` has no `delete`");
    /// assert_eq!(m.describe("acme:kv@1.2.0", None), "acme:kv@1.2.0 has no `delete`");
    /// ```
    pub fn describe(&self, owner: &str, item: Option<&str>) -> String {
        let path: Vec<&str> = item
            .into_iter()
            .chain(self.path.iter().map(String::as_str))
            .collect();
        let subject = if path.is_empty() {
            owner.to_string()
        } else {
            format!("{owner}'s `{}`", path.join("/"))
        };
        format!("{subject} {}", self.kind.predicate())
    }
}

impl ItemType {
    /// Whether `self`, a provider's item, satisfies `required`, an
    /// importer's: instances by width subtyping (every required export
    /// present and satisfied, extra ones ignored), everything else by
    /// equality, as wasmparser's validator decides when wiring.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use warg_depsolve_types::ItemType;
    /// let f = |t: &str| ItemType::Exact(t.to_string());
    /// let provided = ItemType::Instance(BTreeMap::from([
    ///     ("get".to_string(), f("func(k: string) -> u32")),
    ///     ("set".to_string(), f("func(k: string, v: u32)")),
    /// ]));
    /// let required = ItemType::Instance(BTreeMap::from([
    ///     ("get".to_string(), f("func(k: string) -> u32")),
    /// ]));
    /// assert!(provided.check(&required).is_ok());
    /// let other = ItemType::Instance(BTreeMap::from([
    ///     ("get".to_string(), f("func(k: string) -> string")),
    /// ]));
    /// assert_eq!(
    ///     provided.check(&other).unwrap_err().to_string(),
    ///     "`get` is `func(k: string) -> u32`, not `func(k: string) -> string`",
    /// );
    /// ```
    ///
    /// # Errors
    ///
    /// The first [`Mismatch`], in export-name order.
    pub fn check(&self, required: &ItemType) -> Result<(), Mismatch> {
        match (self, required) {
            (ItemType::Instance(provided), required) => instance_provides(provided, required),
            (ItemType::Exact(a), ItemType::Exact(b)) if a == b => Ok(()),
            (provided, required) => Err(differs(provided, required)),
        }
    }
}

/// Whether an instance with `provided` exports satisfies `required`.
pub(crate) fn instance_provides(
    provided: &BTreeMap<String, ItemType>,
    required: &ItemType,
) -> Result<(), Mismatch> {
    let ItemType::Instance(required) = required else {
        return Err(differs(&ItemType::Instance(provided.clone()), required));
    };
    for (name, needed) in required {
        let Some(has) = provided.get(name) else {
            return Err(Mismatch {
                path: Vec::new(),
                kind: MismatchKind::Missing(name.clone()),
            });
        };
        has.check(needed).map_err(|mut inner| {
            inner.path.insert(0, name.clone());
            inner
        })?;
    }
    Ok(())
}

fn differs(provided: &ItemType, required: &ItemType) -> Mismatch {
    Mismatch {
        path: Vec::new(),
        kind: MismatchKind::Differs {
            required: required.to_string(),
            provided: provided.to_string(),
        },
    }
}

impl fmt::Display for ItemType {
    /// An instance as `instance { name, ... }` (its export names), anything
    /// else as its canonical text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemType::Exact(text) => f.write_str(text),
            ItemType::Instance(exports) => {
                f.write_str("instance {")?;
                for (i, name) in exports.keys().enumerate() {
                    f.write_str(if i == 0 { " " } else { ", " })?;
                    f.write_str(name)?;
                }
                f.write_str(" }")
            }
        }
    }
}
