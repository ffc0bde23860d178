//! The `warg-depsolve-bundle` record: what a bundle keeps so that unbundle
//! can give back the locked form and the registry's bytes exactly. Its
//! types, and reading and writing its section.

use serde::{Deserialize, Serialize};

use crate::error::ComposeError;
use crate::sections::{self, Section, CUSTOM};
use crate::strip::{hex_serde, Patch};

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

impl BundleRecord {
    /// An empty record of the current format.
    pub(crate) fn new() -> Self {
        BundleRecord {
            format: BUNDLE_FORMAT,
            imports: Vec::new(),
            dependencies: Vec::new(),
            defined: Vec::new(),
        }
    }

    /// The record as the section a bundle ends with (id, size, contents).
    pub(crate) fn section(&self) -> Vec<u8> {
        let payload = serde_json::to_vec(self).expect("the record serializes");
        let mut out = Vec::with_capacity(payload.len() + BUNDLE_SECTION.len() + 12);
        sections::write_section(
            &mut out,
            CUSTOM,
            &sections::custom_section_contents(BUNDLE_SECTION, &payload),
        );
        out
    }
}

/// Whether a custom section's contents are a bundle record's.
pub(crate) fn is_record_contents(contents: &[u8]) -> bool {
    matches!(sections::read_custom(contents), Some((name, _)) if name == BUNDLE_SECTION)
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

/// The record among the top-level `sections` of `bytes`, and its position
/// (the number of sections before it): it must be there once, last.
pub(crate) fn record_of(
    bytes: &[u8],
    sections: &[Section],
) -> Result<(BundleRecord, usize), ComposeError> {
    let mut found = sections
        .iter()
        .enumerate()
        .filter(|(_, s)| s.id == CUSTOM && is_record_contents(&bytes[s.contents.clone()]));
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
    let (_, payload) = sections::read_custom(&bytes[section.contents.clone()])
        .expect("is_record_contents read it already");
    Ok((parse_record(payload)?, position))
}

/// The record in a section's contents (name and payload), when the section
/// is a record section: parsed and its format checked.
pub(crate) fn record_in(id: u8, contents: &[u8]) -> Option<Result<BundleRecord, ComposeError>> {
    match sections::read_custom(contents) {
        Some((name, payload)) if id == CUSTOM && name == BUNDLE_SECTION => {
            Some(parse_record(payload))
        }
        _ => None,
    }
}

/// A record section's payload, parsed and its format checked.
fn parse_record(payload: &[u8]) -> Result<BundleRecord, ComposeError> {
    let record: BundleRecord = serde_json::from_slice(payload)
        .map_err(|e| ComposeError::Record(format!("unreadable record: {e}")))?;
    if record.format != BUNDLE_FORMAT {
        return Err(ComposeError::Record(format!(
            "record format {} is not supported (expected {BUNDLE_FORMAT})",
            record.format
        )));
    }
    Ok(record)
}
