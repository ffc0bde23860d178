//! Types in solving: which candidates a type check has excluded for which
//! import, and why.
//!
//! An interface import's candidates are checked when its requirement is
//! worked out (every provider release's metadata is read there anyway).
//! A declared dependency's candidates are checked after a solve, on the
//! edges it chose: a mismatch excludes, for that importer's import, every
//! release in its range whose exports do not satisfy it, and the solve
//! runs again. Each round excludes at least one chosen pair that cannot
//! link, so it ends; a solve that needs no exclusion reads no metadata
//! beyond what it chose (a cold resolve over the network pays nothing for
//! type checks that pass).

use pubgrub::Map;
use semver::Version;
use warg_depsolve_names::{PackageName, VersionSet};
use warg_depsolve_types::{ComponentTypes, ItemType};

/// Who imports: the root (`None`) or a release.
pub(crate) type ImporterKey = Option<(PackageName, Version)>;

/// Versions excluded by type checks, per importer and import, and the
/// reasons, in the order found.
#[derive(Default)]
pub(crate) struct Exclusions {
    by_import: Map<(ImporterKey, String), VersionSet>,
    reasons: Vec<String>,
}

impl Exclusions {
    /// Whether nothing is excluded (the common case: no lookups at all).
    pub(crate) fn is_empty(&self) -> bool {
        self.by_import.is_empty()
    }

    /// The versions excluded for `import` of `importer`.
    pub(crate) fn excluded(
        &self,
        importer: Option<(&PackageName, &Version)>,
        import: &str,
    ) -> Option<&VersionSet> {
        let key = (
            importer.map(|(p, v)| (p.clone(), v.clone())),
            import.to_string(),
        );
        self.by_import.get(&key)
    }

    /// Whether `import` of `importer` has been refined already.
    pub(crate) fn refined(&self, importer: &ImporterKey, import: &str) -> bool {
        self.by_import
            .contains_key(&(importer.clone(), import.to_string()))
    }

    /// Records that `import` of `importer` excludes `versions`, for
    /// `reasons`.
    pub(crate) fn add(
        &mut self,
        importer: ImporterKey,
        import: &str,
        versions: VersionSet,
        reasons: impl IntoIterator<Item = String>,
    ) {
        self.by_import
            .insert((importer, import.to_string()), versions);
        for reason in reasons {
            if !self.reasons.contains(&reason) {
                self.reasons.push(reason);
            }
        }
    }

    /// Every reason recorded.
    pub(crate) fn reasons(&self) -> &[String] {
        &self.reasons
    }
}

/// Whether the provider `types` satisfy what `importer_types` needs for
/// `import`: `export` names the interface export an interface import
/// takes; a declared dependency takes the whole component. `Ok` when
/// either side's types are unknown. The error says what is missing or
/// mismatched, naming `provider` and `importer`.
pub(crate) fn check(
    importer_types: Option<&ComponentTypes>,
    import: &str,
    provider_types: Option<&ComponentTypes>,
    export: Option<(&str, &str)>,
    provider: &dyn Fn() -> String,
    importer: &dyn Fn() -> String,
) -> Result<(), String> {
    let (Some(needed), Some(types)) = (
        importer_types.and_then(|t| t.imports.get(import)),
        provider_types,
    ) else {
        return Ok(());
    };
    let (checked, item) = match export {
        Some((export, short)) => match types.exports.get(export) {
            Some(offered) => (offered.check(needed), Some(short)),
            None => return Ok(()),
        },
        None => match needed {
            // An instance import takes the provider's exports.
            ItemType::Instance(_) => (types.provides(needed), None),
            ItemType::Exact(_) => return Ok(()),
        },
    };
    checked.map_err(|mismatch| {
        format!(
            "{}, which {} imports as `{import}`",
            mismatch.describe(&provider(), item),
            importer()
        )
    })
}
