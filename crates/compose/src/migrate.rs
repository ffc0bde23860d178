//! Migrating warg-era binaries whose import names are raw depnames.

use std::collections::BTreeSet;

use warg_depsolve_names::DepRef;
use wasmparser::WasmFeatures;

use crate::error::{ComposeError, While};
use crate::graph::unique;
use crate::pieces::validate;
use crate::sections::{self, Name, IMPORT};

/// Rewrites every top-level import named by a raw dependency reference
/// (`unlocked-dep=<test:inc@{>=1.0.0}>`, `locked-dep=<...>`) into the
/// current form: a plain kebab name taken from the package (`inc`; `inc-2`,
/// ... if taken) carrying the old string as its `external-id`.
///
/// Every other byte is kept: untouched sections verbatim, and in a rewritten
/// import section every other entry and every type reference verbatim. A
/// binary with no such import comes back unchanged. The result validates
/// with all wasmparser features.
///
/// # Errors
///
/// [`ComposeError::NotAComponent`] when the input is not a component;
/// [`ComposeError::InvalidComponent`] when it cannot be read, a depname
/// does not parse (or already has an `external-id`), or an input
/// with nothing to rewrite does not validate;
/// [`ComposeError::InvalidOutput`] when the migrated binary does not
/// validate.
pub fn migrate(legacy: &[u8]) -> Result<Vec<u8>, ComposeError> {
    sections::check_input(legacy)?;
    let what = "legacy component";
    let sections = sections::split(legacy, what)?;

    // Names in use, so that new names do not collide with them.
    let mut used = BTreeSet::new();
    let mut all = Vec::new();
    for section in &sections {
        if section.id == IMPORT {
            let entries = sections::entries(legacy, section, what)?;
            used.extend(
                entries
                    .iter()
                    .filter(|e| !DepRef::looks_like(&e.name.name))
                    .map(|e| e.name.name.clone()),
            );
            all.push(Some(entries));
        } else {
            all.push(None);
        }
    }

    let mut out = Vec::with_capacity(legacy.len() + 64);
    out.extend_from_slice(&legacy[..8]);
    let mut changed = false;
    for (section, entries) in sections.iter().zip(all) {
        let Some(entries) =
            entries.filter(|es| es.iter().any(|e| DepRef::looks_like(&e.name.name)))
        else {
            out.extend_from_slice(&legacy[section.whole.clone()]);
            continue;
        };
        let rewritten = sections::rename_entries(legacy, IMPORT, &entries, |entry| {
            if !DepRef::looks_like(&entry.name.name) {
                return Ok(None);
            }
            let old = &entry.name.name;
            let reference = DepRef::parse(old).map_err(|e| ComposeError::InvalidComponent {
                component: what.to_string(),
                cause: While::cause(format!("import `{old}`"), e),
            })?;
            if entry.name.external_id.is_some() {
                return Err(ComposeError::InvalidComponent {
                    component: what.to_string(),
                    cause: format!("import `{old}` is a depname and already has an external-id")
                        .into(),
                });
            }
            let name = unique(&reference.package().name().to_ascii_lowercase(), &mut used);
            Ok(Some(Name {
                name,
                external_id: Some(old.clone()),
                ..entry.name.clone()
            }))
        })?;
        out.extend_from_slice(&rewritten);
        changed = true;
    }
    if changed {
        validate(&out, WasmFeatures::all(), "migrated component", "")?;
    } else {
        // Nothing to rewrite, and the input comes back as it is; but only
        // a valid one: a damaged file must fail here, not be written out
        // as "migrated" (found by fuzzing, see FUZZING.md).
        validate(legacy, WasmFeatures::all(), what, "").map_err(|e| match e {
            ComposeError::InvalidOutput { cause, .. } => ComposeError::InvalidComponent {
                component: what.to_string(),
                cause,
            },
            other => other,
        })?;
    }
    Ok(out)
}
