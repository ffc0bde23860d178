//! Removing gated name attributes from a component's top level, and putting
//! them back byte for byte.
//!
//! Runtimes on their default configuration (wasmtime 48 among them) reject
//! any name encoded with attributes (leading byte `0x02`: `implements`,
//! `version-suffix`, `external-id`). A bundle satisfies its members'
//! dependency imports itself, so the attributes that name those
//! dependencies have no job left inside it. [`strip`] rewrites the top-level
//! import and export sections of a component without them and returns, for
//! every section it changed, the section's original bytes ([`Patch`]);
//! [`restore`] puts those sections back, giving the original binary exactly.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::error::ComposeError;
use crate::pieces::{Piece, Pieces};
use crate::sections::{self, Name, EXPORT, IMPORT};

/// One top-level section that [`strip`] rewrote, with its original bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patch {
    /// Position of the section among the component's top-level sections
    /// (0 is the first section after the header).
    pub section: u32,
    /// The original section, whole (id, size and contents), as hex in the
    /// bundle record.
    #[serde(with = "hex_serde")]
    pub original: Vec<u8>,
}

/// The name without its attributes: a version suffix that applies to the
/// name itself is folded into it (so an interface name keeps its meaning);
/// `implements` and `external-id` are dropped.
fn bare(name: &Name) -> Name {
    let full = match (&name.implements, &name.version_suffix) {
        (None, Some(suffix)) if name.name.contains('@') => format!("{}{suffix}", name.name),
        _ => name.name.clone(),
    };
    Name::new(full)
}

/// Rewrites `bytes` (a component) so that no top-level import or export
/// name carries attributes. Returns the stripped binary and the patches that
/// [`restore`] needs; no patches means the binary was already bare and is
/// returned unchanged (borrowed, not copied: most packages carry no
/// attributes, and most of a bundle's bytes are theirs).
pub fn strip<'a>(bytes: &'a [u8], what: &str) -> Result<(Cow<'a, [u8]>, Vec<Patch>), ComposeError> {
    let (pieces, patches) = strip_pieces(&Piece::Borrowed(bytes), what)?;
    if patches.is_empty() {
        return Ok((Cow::Borrowed(bytes), patches));
    }
    Ok((Cow::Owned(pieces.concat()), patches))
}

/// [`strip`] as pieces of `component`: the sections it keeps are ranges of
/// `component` (not copies), the rewritten ones are owned.
pub(crate) fn strip_pieces<'a>(
    component: &Piece<'a>,
    what: &str,
) -> Result<(Pieces<'a>, Vec<Patch>), ComposeError> {
    let bytes = component.bytes();
    let sections = sections::split(bytes, what)?;
    let mut any_attributed = false;
    for section in sections.iter().filter(|s| s.id == IMPORT || s.id == EXPORT) {
        if sections::entries(bytes, section, what)?
            .iter()
            .any(|e| e.attributed)
        {
            any_attributed = true;
            break;
        }
    }
    let mut out = Pieces::default();
    if !any_attributed {
        out.push(component.clone());
        return Ok((out, Vec::new()));
    }
    out.extend_owned(&bytes[..8]);
    let mut patches = Vec::new();
    // Sections kept as they are, as one range until the next rewritten one.
    let mut kept: Option<std::ops::Range<usize>> = None;
    for (index, section) in sections.iter().enumerate() {
        if section.id == IMPORT || section.id == EXPORT {
            let entries = sections::entries(bytes, section, what)?;
            if entries.iter().any(|e| e.attributed) {
                // Every entry written again, bare, attributed or not: the
                // patch restores the section whole.
                let rewritten = sections::rename_entries(bytes, section.id, &entries, |e| {
                    Ok(Some(bare(&e.name)))
                })?;
                if let Some(range) = kept.take() {
                    out.push(component.slice(range));
                }
                out.extend_owned(&rewritten);
                patches.push(Patch {
                    section: index as u32,
                    original: bytes[section.whole.clone()].to_vec(),
                });
                continue;
            }
        }
        kept = Some(match kept {
            Some(range) => range.start..section.whole.end,
            None => section.whole.clone(),
        });
    }
    if let Some(range) = kept {
        out.push(component.slice(range));
    }
    Ok((out, patches))
}

/// Undoes [`strip`]: replaces the patched sections of `stripped` with their
/// original bytes.
pub fn restore(stripped: &[u8], patches: &[Patch], what: &str) -> Result<Vec<u8>, ComposeError> {
    let sections = sections::split(stripped, what)?;
    let mut out = Vec::with_capacity(stripped.len() + 64);
    out.extend_from_slice(&stripped[..8]);
    let mut next = patches.iter().peekable();
    for (index, section) in sections.iter().enumerate() {
        match next.peek() {
            Some(patch) if patch.section as usize == index => {
                out.extend_from_slice(&patch.original);
                next.next();
            }
            _ => out.extend_from_slice(&stripped[section.whole.clone()]),
        }
    }
    if let Some(patch) = next.next() {
        return Err(ComposeError::Record(format!(
            "`{what}`: patch for section {} does not fit a component of {} sections (or patches are out of order)",
            patch.section,
            sections.len()
        )));
    }
    Ok(out)
}

/// Hex encoding of byte strings in the bundle record.
pub(crate) mod hex_serde {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        hex::decode(s).map_err(serde::de::Error::custom)
    }
}
