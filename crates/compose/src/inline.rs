//! Nesting each dependency in place of its import: the locked form's
//! sections become the bundle's pieces and its record.
//!
//! Each dependency import of the locked form is replaced by the
//! dependency itself, nested as a component at the same place in the
//! component index space, so every index in the rest of the binary stays
//! valid. The nested bytes are the registry's bytes with the gated name
//! attributes of their top-level imports and exports removed
//! ([`strip`](crate::strip::strip)); the root, nested in both forms, is
//! stripped the same way. What it takes to go back is written into the
//! record ([`BundleRecord`]), the bundle's last section.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::ComposeError;
use crate::locked::locked_import;
use crate::pieces::{Piece, PieceSection, Pieces};
use crate::record::{
    is_record_contents, BundleRecord, DefinedComponent, ImportGroup, NestedDependency,
};
use crate::sections::{self, COMPONENT, CUSTOM, IMPORT};
use crate::strip::strip_pieces;

/// The bytes of the packages to nest, by the digest (as its reference
/// writes it) they were checked against, or are being checked against
/// while the bundle is assembled (see [`crate::assemble`]).
pub(crate) type ByDigest = BTreeMap<String, Arc<[u8]>>;

/// Turns the sections of a locked form (after its header) into the
/// bundle's pieces, the record last. Not yet validated.
///
/// # Errors
///
/// [`ComposeError::Reference`] for a dependency import that is not locked
/// or has no integrity; [`ComposeError::Record`] when the input already is
/// a bundle, or the bytes pinned by an import are not in `packages`; a
/// nested component that cannot be read.
pub(crate) fn inline<'a>(
    locked: Vec<PieceSection<'a>>,
    packages: &ByDigest,
) -> Result<Pieces<'a>, ComposeError> {
    let what = "locked form";
    let mut out = Pieces::default();
    out.extend_owned(&sections::COMPONENT_HEADER);
    let mut record = BundleRecord::new();
    let mut index: u32 = 0;
    // Offset of the section in the locked form, for messages.
    let mut offset = sections::COMPONENT_HEADER.len();
    for section in locked {
        let start = offset;
        offset += section.header.bytes().len() + section.contents.bytes().len();
        match section.id {
            IMPORT => {
                // Small: read its entries from a copy, as a binary of its own.
                let whole = section.whole();
                let binary = [&sections::COMPONENT_HEADER[..], &whole].concat();
                let parsed = sections::split(&binary, what)?;
                let entries = sections::entries(&binary, &parsed[0], what)?;
                let deps = entries
                    .iter()
                    .map(locked_import)
                    .collect::<Result<Vec<_>, _>>()?;
                if deps.iter().all(Option::is_none) {
                    out.extend_owned(&whole);
                    index += 1;
                    continue;
                }
                let first = index;
                let mut pending: Vec<Vec<u8>> = Vec::new();
                for (entry, dep) in entries.iter().zip(deps) {
                    let Some(dep) = dep else {
                        pending.push(binary[entry.whole.clone()].to_vec());
                        continue;
                    };
                    if !pending.is_empty() {
                        out.extend_owned(&sections::entry_section(IMPORT, &pending));
                        pending.clear();
                        index += 1;
                    }
                    let label = dep.label();
                    let digest = dep.digest.to_string();
                    let bytes = packages.get(&digest).ok_or_else(|| {
                        ComposeError::Record(format!("no bytes for `{label}` ({digest})"))
                    })?;
                    let (stripped, patches) =
                        strip_pieces(&Piece::shared(Arc::clone(bytes)), &label)?;
                    push_component(&mut out, stripped);
                    record.dependencies.push(NestedDependency {
                        section: index,
                        import: entry.name.name.clone(),
                        package: dep.package.to_string(),
                        version: dep.version.to_string(),
                        digest,
                        patches,
                    });
                    index += 1;
                }
                if !pending.is_empty() {
                    out.extend_owned(&sections::entry_section(IMPORT, &pending));
                    index += 1;
                }
                record.imports.push(ImportGroup {
                    first,
                    last: index - 1,
                    original: whole,
                });
            }
            COMPONENT => {
                let label = format!("component nested at offset {start:#x}");
                let (stripped, patches) = strip_pieces(&section.contents, &label)?;
                push_component(&mut out, stripped);
                if !patches.is_empty() {
                    record.defined.push(DefinedComponent {
                        section: index,
                        patches,
                    });
                }
                index += 1;
            }
            CUSTOM if is_record_contents(section.contents.bytes()) => {
                return Err(ComposeError::Record(
                    "the input already carries a bundle record: it is a bundle, not a locked form"
                        .to_string(),
                ));
            }
            _ => {
                out.push(section.header);
                out.push(section.contents);
                index += 1;
            }
        }
    }
    out.extend_owned(&record.section());
    Ok(out)
}

/// Appends a nested component section holding `component`.
fn push_component<'a>(out: &mut Pieces<'a>, component: Pieces<'a>) {
    let mut header = vec![COMPONENT];
    sections::write_leb(&mut header, component.len() as u64);
    out.extend_owned(&header);
    out.append(component);
}
