//! The bundled form, and the exact way back to the locked form.
//!
//! A bundle is the locked form with each dependency import replaced by the
//! dependency itself, nested as a component at the same place in the
//! component index space, so every index in the rest of the binary stays
//! valid. The nested bytes are the registry's bytes with the gated name
//! attributes of their top-level imports and exports removed
//! ([`strip`](crate::strip::strip)); the root, nested in both forms, is
//! stripped the same way. What the bundle needs to become the locked form
//! again is kept in its `warg-depsolve-bundle` custom section (see
//! [`BundleRecord`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use semver::Version;
use serde::{Deserialize, Serialize};
use warg_depsolve_names::{DepRef, Integrity, PackageName};
use warg_depsolve_registry::Source;
use warg_depsolve_solver::Resolution;
use wasmparser::{ComponentTypeRef, WasmFeatures};

use crate::error::ComposeError;
use crate::graph::{check_digest, check_packages, fetch_packages, fetch_verified, lock_verified};
use crate::sections::{self, Section, COMPONENT, CUSTOM, IMPORT};
use crate::strip::{hex_serde, restore, strip, Patch};

/// Name of the custom section in which a bundle records its nested
/// dependencies.
pub const BUNDLE_SECTION: &str = "warg-depsolve-bundle";

/// Version of the record format written into [`BUNDLE_SECTION`].
pub const BUNDLE_FORMAT: u32 = 1;

/// The payload of a bundle's [`BUNDLE_SECTION`] custom section: UTF-8 JSON,
/// written with the fields in the order below and no whitespace.
///
/// Section numbers count the bundle's top-level sections from 0 (the first
/// section after the header), not counting the record section itself,
/// which is always the last section.
///
/// ```json
/// {"format":1,
///  "imports":[{"first":3,"last":5,"original":"0a…"}],
///  "dependencies":[{"section":3,"import":"test-add-1","package":"test:add",
///                   "version":"1.1.0","digest":"sha256-…","patches":[]}],
///  "defined":[{"section":6,"patches":[{"section":0,"original":"0a…"}]}]}
/// ```
///
/// - `imports`: each entry is one import section of the locked form that
///   held dependency imports: its original bytes (hex, the whole section)
///   and the range `first..=last` of bundle sections that replace it (the
///   nested dependencies, and import sections holding the other entries of
///   that section, in order).
/// - `dependencies`: each nested dependency: the bundle section it is in,
///   its import name in the locked form, package, version and the digest of
///   its registry bytes (SRI form), and the [`Patch`]es that turn the
///   nested (stripped) bytes back into the registry's bytes.
/// - `defined`: components nested in the locked form too (the root) whose
///   names were stripped in the bundle, with their patches.
///
/// A patch names a top-level section of the nested component (counted the
/// same way) and holds that section's original bytes; unbundling puts them
/// back and checks the result against `digest`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleRecord {
    /// [`BUNDLE_FORMAT`].
    pub format: u32,
    /// Locked-form import sections replaced by nested components.
    pub imports: Vec<ImportGroup>,
    /// The nested dependencies, in section order.
    pub dependencies: Vec<NestedDependency>,
    /// Components nested in both forms whose names were stripped.
    pub defined: Vec<DefinedComponent>,
}

/// One import section of the locked form and the bundle sections that
/// replace it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportGroup {
    /// First bundle section of the replacement.
    pub first: u32,
    /// Last bundle section of the replacement (inclusive).
    pub last: u32,
    /// The locked form's import section, whole.
    #[serde(with = "hex_serde")]
    pub original: Vec<u8>,
}

/// One dependency nested in a bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NestedDependency {
    /// The bundle section holding it.
    pub section: u32,
    /// Its import name in the locked form.
    pub import: String,
    /// The package.
    pub package: String,
    /// The version.
    pub version: String,
    /// Digest of the registry's bytes (SRI: `sha256-<base64>`).
    pub digest: String,
    /// What turns the nested bytes back into the registry's bytes.
    pub patches: Vec<Patch>,
}

/// A component nested in both forms (the root) whose names were stripped in
/// the bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefinedComponent {
    /// The bundle section holding it.
    pub section: u32,
    /// What turns the nested bytes back into the locked form's bytes.
    pub patches: Vec<Patch>,
}

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

/// Composes `root` with the packages of `resolution`, fetched from `source`
/// by digest and checked, into the bundled form.
///
/// Equal to `bundle_locked(&lock(root, resolution, source)?, source)`, with
/// each package fetched once.
///
/// # Errors
///
/// As [`lock_with`](crate::lock_with); a tampered package fails with
/// [`ComposeError::DigestMismatch`] naming it and both digests.
pub fn bundle(
    root: &[u8],
    resolution: &Resolution,
    source: &dyn Source,
) -> Result<Vec<u8>, ComposeError> {
    let packages = fetch_packages(resolution, source)?;
    bundle_verified(root, resolution, &packages)
}

/// [`bundle`] over package bytes the caller already holds, indexed like
/// [`Resolution::packages`] (checked against their digests).
pub fn bundle_with(
    root: &[u8],
    resolution: &Resolution,
    packages: &[Arc<[u8]>],
) -> Result<Vec<u8>, ComposeError> {
    check_packages(resolution, packages)?;
    bundle_verified(root, resolution, packages)
}

/// [`bundle_with`] over bytes already checked against their digests.
fn bundle_verified(
    root: &[u8],
    resolution: &Resolution,
    packages: &[Arc<[u8]>],
) -> Result<Vec<u8>, ComposeError> {
    let locked = lock_verified(root, resolution, packages)?;
    let by_digest: BTreeMap<String, &Arc<[u8]>> = resolution
        .packages
        .iter()
        .zip(packages)
        .map(|(p, bytes)| (p.digest.to_string(), bytes))
        .collect();
    // Each package is nested once; section headers and the record are
    // small next to it.
    let capacity = locked.len() + packages.iter().map(|p| p.len() + 16).sum::<usize>() + 4096;
    inline(&locked, capacity, &mut |_, label, digest| {
        by_digest
            .get(&digest.to_string())
            .map(|b| Arc::clone(b))
            .ok_or_else(|| ComposeError::Record(format!("no bytes for `{label}` ({digest})")))
    })
}

/// Turns a locked form into the bundled form: every component import whose
/// `external-id` is a `locked-dep=` reference with integrity is fetched
/// from `source` by digest, checked, stripped of gated name attributes and
/// nested in the import's place.
///
/// # Errors
///
/// [`ComposeError::DigestMismatch`] (naming the package and both digests)
/// when a fetched package does not match its reference;
/// [`ComposeError::Reference`] for a dependency import without integrity.
pub fn bundle_locked(locked: &[u8], source: &dyn Source) -> Result<Vec<u8>, ComposeError> {
    inline(locked, 0, &mut |package, label, digest| {
        fetch_verified(source, package, label, digest)
    })
}

type Fetch<'a> = dyn FnMut(&PackageName, &str, &Integrity) -> Result<Arc<[u8]>, ComposeError> + 'a;

/// A dependency import of the locked form.
struct LockedImport {
    package: PackageName,
    version: Version,
    digest: Integrity,
}

/// Reads a locked-form import entry: `Some` when it is a component import
/// whose `external-id` is a locked dependency reference.
fn locked_import(entry: &sections::Entry) -> Result<Option<LockedImport>, ComposeError> {
    let Some(ComponentTypeRef::Component(_)) = entry.ty else {
        return Ok(None);
    };
    let Some(id) = entry.name.external_id.as_deref() else {
        return Ok(None);
    };
    if !DepRef::looks_like(id) {
        return Ok(None);
    }
    let reference = |message: String| ComposeError::Reference {
        import: entry.name.name.clone(),
        message,
    };
    match DepRef::parse(id).map_err(|e| reference(e.to_string()))? {
        DepRef::Locked {
            package,
            version,
            integrity,
        } => {
            // Prefer a SHA-256 digest: every source can fetch by it.
            let digest = integrity
                .iter()
                .find(|i| i.algorithm == warg_depsolve_names::HashAlgorithm::Sha256)
                .or_else(|| integrity.first())
                .cloned()
                .ok_or_else(|| {
                    reference(format!(
                        "`{id}` has no integrity, so its bytes cannot be checked; lock it first"
                    ))
                })?;
            Ok(Some(LockedImport {
                package,
                version,
                digest,
            }))
        }
        DepRef::Unlocked { .. } => Err(reference(format!(
            "`{id}` is not locked; lock the component before bundling"
        ))),
    }
}

/// `capacity`: the expected output size, so that nesting large packages
/// copies each byte once instead of regrowing the buffer.
fn inline(locked: &[u8], capacity: usize, fetch: &mut Fetch<'_>) -> Result<Vec<u8>, ComposeError> {
    let what = "locked form";
    let mut out: Vec<u8> = Vec::with_capacity(capacity.max(locked.len() * 2));
    out.extend_from_slice(&locked[..8.min(locked.len())]);
    let mut record = BundleRecord {
        format: BUNDLE_FORMAT,
        imports: Vec::new(),
        dependencies: Vec::new(),
        defined: Vec::new(),
    };
    let mut index: u32 = 0;
    for section in sections::split(locked, what)? {
        match section.id {
            IMPORT => {
                let entries = sections::entries(locked, &section, what)?;
                let deps = entries
                    .iter()
                    .map(locked_import)
                    .collect::<Result<Vec<_>, _>>()?;
                if deps.iter().all(Option::is_none) {
                    out.extend_from_slice(&locked[section.whole.clone()]);
                    index += 1;
                    continue;
                }
                let first = index;
                let mut pending: Vec<Vec<u8>> = Vec::new();
                for (entry, dep) in entries.iter().zip(deps) {
                    let Some(dep) = dep else {
                        pending.push(locked[entry.whole.clone()].to_vec());
                        continue;
                    };
                    if !pending.is_empty() {
                        out.extend_from_slice(&sections::entry_section(IMPORT, &pending));
                        pending.clear();
                        index += 1;
                    }
                    let label = format!("{}@{}", dep.package, dep.version);
                    // `fetch` hands out bytes already checked against
                    // `dep.digest` (by `lock_with` or `fetch_verified`).
                    let bytes = fetch(&dep.package, &label, &dep.digest)?;
                    let (stripped, patches) = strip(&bytes, &label)?;
                    sections::write_section(&mut out, COMPONENT, &stripped);
                    record.dependencies.push(NestedDependency {
                        section: index,
                        import: entry.name.name.clone(),
                        package: dep.package.to_string(),
                        version: dep.version.to_string(),
                        digest: dep.digest.to_string(),
                        patches,
                    });
                    index += 1;
                }
                if !pending.is_empty() {
                    out.extend_from_slice(&sections::entry_section(IMPORT, &pending));
                    index += 1;
                }
                record.imports.push(ImportGroup {
                    first,
                    last: index - 1,
                    original: locked[section.whole.clone()].to_vec(),
                });
            }
            COMPONENT => {
                let label = format!("component nested at offset {:#x}", section.whole.start);
                let (stripped, patches) = strip(&locked[section.contents.clone()], &label)?;
                sections::write_section(&mut out, COMPONENT, &stripped);
                if !patches.is_empty() {
                    record.defined.push(DefinedComponent {
                        section: index,
                        patches,
                    });
                }
                index += 1;
            }
            CUSTOM if is_record(locked, &section) => {
                return Err(ComposeError::Record(
                    "the input already carries a bundle record: it is a bundle, not a locked form"
                        .to_string(),
                ));
            }
            _ => {
                out.extend_from_slice(&locked[section.whole.clone()]);
                index += 1;
            }
        }
    }
    let payload = serde_json::to_vec(&record).expect("the record serializes");
    sections::write_section(
        &mut out,
        CUSTOM,
        &sections::custom_section_contents(BUNDLE_SECTION, &payload),
    );
    crate::validate(&out, WasmFeatures::all(), "bundle", "")?;
    crate::validate(
        &out,
        WasmFeatures::default(),
        "bundle",
        " with default features",
    )?;
    Ok(out)
}

fn is_record(bytes: &[u8], section: &Section) -> bool {
    matches!(sections::read_custom(&bytes[section.contents.clone()]), Some((name, _)) if name == BUNDLE_SECTION)
}

/// Reads the [`BundleRecord`] of a bundle.
///
/// # Errors
///
/// [`ComposeError::Record`] when `bundled` has no record section or its
/// payload does not parse.
pub fn read_record(bundled: &[u8]) -> Result<BundleRecord, ComposeError> {
    let sections = sections::split(bundled, "bundle")?;
    record_of(bundled, &sections).map(|(record, _)| record)
}

fn record_of(bytes: &[u8], sections: &[Section]) -> Result<(BundleRecord, usize), ComposeError> {
    let mut found = sections
        .iter()
        .enumerate()
        .filter(|(_, s)| s.id == CUSTOM && is_record(bytes, s));
    let (position, section) = found.next().ok_or_else(|| {
        ComposeError::Record(format!(
            "no `{BUNDLE_SECTION}` custom section: not a bundle made by warg-depsolve"
        ))
    })?;
    if found.next().is_some() || position != sections.len() - 1 {
        return Err(ComposeError::Record(format!(
            "the `{BUNDLE_SECTION}` section must appear once, as the last section"
        )));
    }
    let (_, payload) =
        sections::read_custom(&bytes[section.contents.clone()]).expect("is_record read it already");
    let record: BundleRecord = serde_json::from_slice(payload)
        .map_err(|e| ComposeError::Record(format!("unreadable record: {e}")))?;
    if record.format != BUNDLE_FORMAT {
        return Err(ComposeError::Record(format!(
            "record format {} is not supported (expected {BUNDLE_FORMAT})",
            record.format
        )));
    }
    Ok((record, position))
}

/// Turns a bundle back into the locked form and the registry bytes of every
/// nested dependency: the exact inverse of [`bundle_locked`], so
/// `bundle_locked(&unbundle(b)?.locked, source) == b` for a source holding
/// the extracted packages, and `unbundle(&bundle_locked(l, source)?)?.locked
/// == l`.
///
/// # Errors
///
/// [`ComposeError::Record`] when the input is not a bundle or its record
/// does not fit it; [`ComposeError::DigestMismatch`] when a restored
/// dependency does not hash to its recorded digest.
pub fn unbundle(bundled: &[u8]) -> Result<Unbundled, ComposeError> {
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
    crate::validate(&locked, WasmFeatures::all(), "locked form", "")?;
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
            expected.push((
                entry.name.name.clone(),
                dep.package.to_string(),
                dep.digest.to_string(),
            ));
        }
    }
    let nested: Vec<_> = record
        .dependencies
        .iter()
        .filter(|d| group.first <= d.section && d.section <= group.last)
        .map(|d| (d.import.clone(), d.package.clone(), d.digest.clone()))
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
