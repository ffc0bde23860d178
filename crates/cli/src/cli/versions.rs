//! `warg-depsolve versions ns:name`: the releases of a package, yanked ones
//! marked.
//!
//! JSON: `{"format": 1, "package", "registry", "versions": [{"version",
//! "yanked"}]}`, versions ascending.

use std::io::Write;

use anyhow::Context as _;
use serde::Serialize;
use warg_depsolve_names::PackageName;
use warg_depsolve_registry::Release;

use super::common::RegistryArgs;
use super::text::Table;
use super::{write_json, Format, Global};

/// List a package's releases, yanked ones marked.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The package, `ns:name`.
    #[arg(value_name = "NS:NAME")]
    pub package: PackageName,
    /// Where the package lives.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Answer from the cache only (the list last seen online).
    #[arg(long)]
    pub offline: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    format: u32,
    package: &'a PackageName,
    registry: &'a str,
    versions: &'a [Release],
}

/// Runs `versions`.
///
/// # Errors
///
/// The package is unknown to its registry, or (offline) not cached.
pub fn run(args: &Args, global: &Global, out: &mut dyn Write) -> anyhow::Result<()> {
    let package = &args.package;
    let sources = args.registry.open(args.offline)?;
    let target = sources.describe(package);
    let releases = sources
        .source()
        .versions(package)
        .with_context(|| format!("cannot list the versions of `{package}` in {target}"))?
        .releases;
    match global.format {
        Format::Json => write_json(
            out,
            &Report {
                format: 1,
                package,
                registry: sources.source().registry_for(package),
                versions: &releases,
            },
        ),
        Format::Text | Format::Cyclonedx | Format::Spdx => {
            writeln!(out, "{package} in {target}:")?;
            let mut t = Table::new("  ");
            for r in releases.iter() {
                let mark = if r.yanked { "(yanked)" } else { "" };
                t.row([r.version.to_string(), mark.to_string()]);
            }
            if t.is_empty() {
                writeln!(out, "  (no releases)")?;
            }
            t.write(out)?;
            Ok(())
        }
    }
}
