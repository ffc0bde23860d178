//! The exact inverse of bundling: a bundle back into the locked form and
//! the registry's bytes of every nested dependency, as its record says,
//! every restored dependency checked against its digest.

use semver::Version;
use warg_depsolve_names::{Integrity, PackageName};
use wasmparser::WasmFeatures;

use crate::error::ComposeError;
use crate::graph::check_digest;
use crate::locked::locked_import;
use crate::pieces::validate;
use crate::record::{record_of, BundleRecord, DefinedComponent, ImportGroup};
use crate::sections::{self, Section, COMPONENT, IMPORT};
use crate::strip::restore;

/// A dependency taken out of a bundle by [`unbundle`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtractedPackage {
    /// The package.
    pub package: PackageName,
    /// Its version.
    pub version: Version,
    /// The digest of `bytes` (checked).
    pub digest: Integrity,
    /// The registry's bytes, exactly.
    pub bytes: Vec<u8>,
}

/// What [`unbundle`] returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unbundled {
    /// The locked form.
    pub locked: Vec<u8>,
    /// Every nested dependency, in the order they appear in the bundle.
    pub packages: Vec<ExtractedPackage>,
}

/// Turns a bundle back into the locked form and the registry bytes of every
/// nested dependency: the exact inverse of bundling a locked form
/// ([`Bundler::from_locked`]), so `Bundler::from_locked(&unbundle(b)?.locked,
/// source).to_vec()? == b` for a source holding the extracted packages, and
/// `unbundle(&Bundler::from_locked(l, source).to_vec()?)?.locked == l`.
///
/// [`Bundler::from_locked`]: crate::Bundler::from_locked
///
/// # Errors
///
/// [`ComposeError::Record`] when the input is not a bundle or its record
/// does not fit it; [`ComposeError::DigestMismatch`] when a restored
/// dependency does not hash to its recorded digest.
pub fn unbundle(bundled: &[u8]) -> Result<Unbundled, ComposeError> {
    sections::check_input(bundled)?;
    let sections = sections::split(bundled, "bundle")?;
    let (record, record_position) = record_of(bundled, &sections)?;
    let count = record_position as u32;
    let bad = |message: String| ComposeError::Record(message);

    // What each bundle section becomes.
    enum Role<'r> {
        Keep,
        GroupStart(&'r ImportGroup),
        GroupInner,
        Defined(&'r DefinedComponent),
    }
    let mut roles: Vec<Role<'_>> = (0..count).map(|_| Role::Keep).collect();
    let mut groups: Vec<&ImportGroup> = record.imports.iter().collect();
    groups.sort_by_key(|g| g.first);
    let mut previous_end = 0;
    for group in &groups {
        if group.first > group.last || group.last >= count || group.first < previous_end {
            return Err(bad(format!(
                "import group {}..={} does not fit {count} sections",
                group.first, group.last
            )));
        }
        previous_end = group.last + 1;
        roles[group.first as usize] = Role::GroupStart(group);
        for i in group.first + 1..=group.last {
            roles[i as usize] = Role::GroupInner;
        }
    }
    let in_group = |s: u32| groups.iter().any(|g| g.first <= s && s <= g.last);
    for dep in &record.dependencies {
        if dep.section >= count || !in_group(dep.section) {
            return Err(bad(format!(
                "dependency `{}` at section {} lies outside every import group",
                dep.package, dep.section
            )));
        }
    }
    for defined in &record.defined {
        match roles.get(defined.section as usize) {
            Some(Role::Keep) if sections[defined.section as usize].id == COMPONENT => {
                roles[defined.section as usize] = Role::Defined(defined);
            }
            _ => {
                return Err(bad(format!(
                    "defined component at section {} is not a nested component outside the import groups",
                    defined.section
                )))
            }
        }
    }

    let mut packages = Vec::with_capacity(record.dependencies.len());
    for dep in &record.dependencies {
        let section = &sections[dep.section as usize];
        let label = format!("{}@{}", dep.package, dep.version);
        if section.id != COMPONENT {
            return Err(bad(format!(
                "dependency `{label}` at section {} is not a nested component",
                dep.section
            )));
        }
        let package: PackageName = dep
            .package
            .parse()
            .map_err(|e| bad(format!("package `{}`: {e}", dep.package)))?;
        let version: Version = dep
            .version
            .parse()
            .map_err(|e| bad(format!("`{}` version `{}`: {e}", dep.package, dep.version)))?;
        let digest = Integrity::parse_sri(&dep.digest)
            .map_err(|e| bad(format!("`{label}` digest `{}`: {e}", dep.digest)))?;
        let bytes = restore(&bundled[section.contents.clone()], &dep.patches, &label)?;
        check_digest(&label, &digest, &bytes)?;
        packages.push(ExtractedPackage {
            package,
            version,
            digest,
            bytes,
        });
    }

    let mut locked = Vec::with_capacity(bundled.len());
    locked.extend_from_slice(&bundled[..8]);
    for (section, role) in sections.iter().zip(&roles) {
        match role {
            Role::Keep => locked.extend_from_slice(&bundled[section.whole.clone()]),
            Role::GroupStart(group) => {
                check_group(&sections, group, &record)?;
                locked.extend_from_slice(&group.original);
            }
            Role::GroupInner => {}
            Role::Defined(defined) => {
                let label = format!("component at bundle section {}", defined.section);
                let bytes = restore(&bundled[section.contents.clone()], &defined.patches, &label)?;
                sections::write_section(&mut locked, COMPONENT, &bytes);
            }
        }
    }
    validate(&locked, WasmFeatures::all(), "locked form", "")?;
    Ok(Unbundled { locked, packages })
}

/// Checks that an import group's original section names exactly the
/// dependencies nested in its range, in order.
fn check_group(
    sections: &[Section],
    group: &ImportGroup,
    record: &BundleRecord,
) -> Result<(), ComposeError> {
    let mut original = sections::COMPONENT_HEADER.to_vec();
    original.extend_from_slice(&group.original);
    let parsed = sections::split(&original, "recorded import section")?;
    let [section] = parsed.as_slice() else {
        return Err(ComposeError::Record(format!(
            "import group {}..={} does not hold exactly one section",
            group.first, group.last
        )));
    };
    if section.id != IMPORT {
        return Err(ComposeError::Record(format!(
            "import group {}..={} does not hold an import section",
            group.first, group.last
        )));
    }
    let mut expected = Vec::new();
    for entry in sections::entries(&original, section, "recorded import section")? {
        if let Some(dep) = locked_import(&entry)? {
            // The version too (found by fuzzing): without it a record
            // could rename a nested release to another version of its
            // package, and unbundle would hand out the bytes under it.
            expected.push((
                entry.name.name.clone(),
                dep.package.to_string(),
                dep.version.to_string(),
                dep.digest.to_string(),
            ));
        }
    }
    let nested: Vec<_> = record
        .dependencies
        .iter()
        .filter(|d| group.first <= d.section && d.section <= group.last)
        .map(|d| {
            (
                d.import.clone(),
                d.package.clone(),
                d.version.clone(),
                d.digest.clone(),
            )
        })
        .collect();
    let components = (group.first..=group.last)
        .filter(|&s| sections[s as usize].id == COMPONENT)
        .count();
    if expected != nested || components != nested.len() {
        return Err(ComposeError::Record(format!(
            "import group {}..={}: the recorded imports {expected:?} do not match the nested dependencies {nested:?}",
            group.first, group.last
        )));
    }
    Ok(())
}
