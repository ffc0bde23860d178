//! What the compose commands (`lock`, `bundle`, `unbundle`, `migrate`)
//! print about the file they wrote.

use std::io::Write;
use std::path::Path;

use serde::Serialize;
use warg_depsolve_names::Integrity;

use super::{write_json, Format, Global};

/// One dependency of an output: which release, by which digest.
#[derive(Debug, Clone, Serialize)]
pub struct PackageRef {
    /// `ns:name`.
    pub package: String,
    /// The version.
    pub version: String,
    /// `sha256:<hex>` of the registry's bytes.
    pub digest: String,
    /// Where `unbundle` put the bytes (a store or registry file), if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub written_to: Option<String>,
    /// For a nested component `unbundle` recognised in a registry: how the
    /// input nested the release (`verbatim`, `stripped`,
    /// `without-custom-sections`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nested: Option<&'static str>,
}

/// A nested component `unbundle` kept inline: no configured registry has
/// it.
#[derive(Debug, Clone, Serialize)]
pub struct InlineRef {
    /// The input's top-level section that nests it.
    pub section: u32,
    /// `sha256:<hex>` of its bytes.
    pub digest: String,
    /// Its size in bytes.
    pub size: usize,
}

/// The JSON document of a compose command: `{"format": 1, "command",
/// "input", "output", "size", "digest", "packages": [{"package", "version",
/// "digest", "written_to"?, "nested"?}], "inline"?: [{"section", "digest",
/// "size"}]}` (`inline` from an `unbundle` that recognised releases in a
/// registry).
#[derive(Debug, Serialize)]
pub struct OutputReport {
    format: u32,
    command: &'static str,
    input: String,
    output: String,
    size: usize,
    digest: String,
    packages: Vec<PackageRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    inline: Option<Vec<InlineRef>>,
}

/// A digest in OCI form (`sha256:<hex>`) from a digest in any form.
pub fn oci(digest: &str) -> String {
    Integrity::parse_sri(digest)
        .or_else(|_| Integrity::parse_oci(digest))
        .map(|i| i.to_oci())
        .unwrap_or_else(|_| digest.to_string())
}

/// A file a compose command wrote.
#[derive(Debug, Clone)]
pub struct Written<'a> {
    /// The subcommand (`bundle`).
    pub command: &'static str,
    /// What the output is, for text (`bundle`, `locked form`).
    pub what: &'static str,
    /// The input file.
    pub input: &'a Path,
    /// The output file.
    pub output: &'a Path,
    /// How many bytes were written.
    pub size: usize,
    /// Their digest.
    pub digest: Integrity,
}

impl<'a> Written<'a> {
    /// What was written, described by the bytes themselves.
    pub fn of(
        command: &'static str,
        what: &'static str,
        input: &'a Path,
        output: &'a Path,
        bytes: &[u8],
    ) -> Self {
        Written {
            command,
            what,
            input,
            output,
            size: bytes.len(),
            digest: Integrity::sha256(bytes),
        }
    }
}

/// Prints what was written: a summary line (text) or an [`OutputReport`].
pub fn print(
    out: &mut dyn Write,
    global: &Global,
    written: Written<'_>,
    packages: Vec<PackageRef>,
) -> anyhow::Result<()> {
    print_with_inline(out, global, written, packages, None)
}

/// [`print`], with the nested components an `unbundle` kept inline (JSON
/// only: the text report of those is on stderr).
pub fn print_with_inline(
    out: &mut dyn Write,
    global: &Global,
    written: Written<'_>,
    packages: Vec<PackageRef>,
    inline: Option<Vec<InlineRef>>,
) -> anyhow::Result<()> {
    let Written {
        command,
        what,
        input,
        output,
        size,
        digest,
    } = written;
    let report = OutputReport {
        format: 1,
        command,
        input: input.display().to_string(),
        output: output.display().to_string(),
        size,
        digest: digest.to_oci(),
        packages,
        inline,
    };
    match global.format {
        Format::Json => write_json(out, &report),
        Format::Text | Format::Cyclonedx | Format::Spdx => {
            writeln!(
                out,
                "wrote {what} `{}` ({} bytes, {})",
                report.output, report.size, report.digest
            )?;
            let mut t = super::text::Table::new("  ");
            for p in &report.packages {
                t.row([p.package.clone(), p.version.clone(), p.digest.clone()]);
                if let Some(path) = &p.written_to {
                    t.note("written to", path.clone());
                }
            }
            t.write(out)?;
            Ok(())
        }
    }
}
