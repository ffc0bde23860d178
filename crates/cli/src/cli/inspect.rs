//! `warg-depsolve inspect FILE`: what a component imports, exports and
//! nests.
//!
//! Text output is a summary (size, digest, name, version, instance counts)
//! followed by one aligned table each for imports, exports and nested
//! binaries. `--format json` prints the shape documented in
//! [`warg_depsolve::inspect`]. An import with a malformed dependency reference is
//! shown as `invalid` (JSON `{"kind": "invalid", "error": ...}`) alongside
//! everything else, and then the command fails with an error naming that
//! import.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use serde::Serialize;
use warg_depsolve_names::{DepRef, ImportClass};

use super::text::Table;
use super::{write_json, Format, Global};
use crate::input::{read_wasm_file, SourceFormat};
use warg_depsolve::inspect::{inspect, Classification, ImportInfo, Inspection, FORMAT_VERSION};

/// Show a component's imports (classified as declared, legacy, interface or
/// host), exports, nested modules and components (size and sha256 digest),
/// instance counts and name/version metadata.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The component: a binary (`.wasm`) or WebAssembly text (`.wat`).
    pub file: PathBuf,
}

/// The JSON document: the [`Inspection`] behind three keys that say what was
/// inspected.
#[derive(Serialize)]
struct JsonReport<'a> {
    format: u32,
    file: String,
    source: SourceFormat,
    #[serde(flatten)]
    inspection: &'a Inspection,
}

/// Runs `inspect`.
///
/// # Errors
///
/// The file cannot be read, is not a component, or has an import with a
/// malformed dependency reference (after the report is written).
pub fn run(args: &Args, global: &Global, out: &mut dyn Write) -> anyhow::Result<()> {
    let file = args.file.display().to_string();
    let wasm = read_wasm_file(&args.file)?;
    let inspection = inspect(&wasm.bytes).with_context(|| format!("cannot inspect `{file}`"))?;
    match global.format {
        Format::Json => write_json(
            out,
            &JsonReport {
                format: FORMAT_VERSION,
                file: file.clone(),
                source: wasm.source,
                inspection: &inspection,
            },
        )?,
        Format::Text | Format::Cyclonedx | Format::Spdx => {
            write_text(out, &file, wasm.source, &inspection)?
        }
    }
    let errors: Vec<String> = inspection
        .errors()
        .map(|e| warg_depsolve_names::error::chain(e))
        .collect();
    match errors.len() {
        0 => Ok(()),
        1 => anyhow::bail!("`{file}`: {}", errors[0]),
        n => anyhow::bail!(
            "`{file}`: {n} malformed dependency references: {}",
            errors.join("; ")
        ),
    }
}

fn write_text(
    out: &mut dyn Write,
    file: &str,
    source: SourceFormat,
    report: &Inspection,
) -> anyhow::Result<()> {
    match source {
        SourceFormat::Wasm => writeln!(out, "{file}")?,
        SourceFormat::Wat => writeln!(out, "{file} (compiled from text)")?,
    }
    let dash = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
    let mut summary = Table::new("  ");
    summary.row(["size".to_string(), format!("{} bytes", report.size)]);
    summary.row(["digest", &report.digest]);
    summary.row(["name".to_string(), dash(&report.metadata.name)]);
    summary.row(["version".to_string(), dash(&report.metadata.version)]);
    summary.row([
        "instances".to_string(),
        format!(
            "{} core, {} component",
            report.instances.core, report.instances.component
        ),
    ]);
    summary.write(out)?;

    writeln!(out, "\nimports ({}):", report.imports.len())?;
    let mut imports = Table::new("  ");
    for import in &report.imports {
        import_row(&mut imports, import);
    }
    imports.write(out)?;

    writeln!(out, "\nexports ({}):", report.exports.len())?;
    let mut exports = Table::new("  ");
    for export in &report.exports {
        exports.row([
            export.name.clone(),
            export.kind.to_string(),
            format!("#{}", export.index),
        ]);
        attribute_notes(
            &mut exports,
            &export.implements,
            &export.version_suffix,
            &export.external_id,
        );
    }
    exports.write(out)?;

    writeln!(out, "\nnested ({}):", report.nested.len())?;
    let mut nested = Table::new("  ");
    for n in &report.nested {
        let kind = match n.kind {
            warg_depsolve_names::scan::NestedKind::Module => "module",
            warg_depsolve_names::scan::NestedKind::Component => "component",
        };
        nested.row([
            kind.to_string(),
            format!("#{}", n.index),
            format!("{} bytes", n.size),
            n.digest.clone(),
            format!("at {:#x}", n.offset),
        ]);
    }
    nested.write(out)?;
    Ok(())
}

fn import_row(table: &mut Table, import: &ImportInfo) {
    let mut row = vec![import.name.clone(), import.kind.to_string()];
    let mut integrity = Vec::new();
    match &import.class {
        Classification::Valid(ImportClass::Declared(dep) | ImportClass::Legacy(dep)) => {
            let class = if matches!(
                import.class,
                Classification::Valid(ImportClass::Declared(_))
            ) {
                "declared"
            } else {
                "legacy"
            };
            row.push(class.into());
            row.push(dep.package().to_string());
            match dep {
                DepRef::Unlocked { range, .. } => row.push(range.to_string()),
                DepRef::Locked {
                    version,
                    integrity: digests,
                    ..
                } => {
                    row.push(format!("={version}"));
                    integrity.extend(digests.iter().map(|d| d.to_oci()));
                }
            }
        }
        Classification::Valid(ImportClass::Interface(i)) => {
            row.push("interface".into());
            row.push(format!("{}/{}", i.package, i.interface));
            let mut detail = match (&i.version, i.track()) {
                (Some(v), Some(track)) => format!("@{v}, track {track}"),
                _ => "unversioned".to_string(),
            };
            if i.is_wasi() {
                detail.push_str(", wasi (host)");
            }
            row.push(detail);
        }
        Classification::Valid(ImportClass::Host) => row.push("host".into()),
        Classification::Invalid(_) => row.push("INVALID".into()),
    }
    table.row(row);
    if import.full_name != import.name {
        table.note("full name", import.full_name.clone());
    }
    attribute_notes(
        table,
        &import.implements,
        &import.version_suffix,
        &import.external_id,
    );
    for digest in integrity {
        table.note("integrity", digest);
    }
    if let Classification::Invalid(e) = &import.class {
        table.note("error", e.source.to_string());
    }
}

fn attribute_notes(
    table: &mut Table,
    implements: &Option<String>,
    version_suffix: &Option<String>,
    external_id: &Option<String>,
) {
    if let Some(v) = implements {
        table.note("implements", v.clone());
    }
    if let Some(v) = version_suffix {
        table.note("version-suffix", v.clone());
    }
    if let Some(v) = external_id {
        table.note("external-id", v.clone());
    }
}
