//! `warg-depsolve yank ns:name@X [--undo]`: mark a release yanked (or not).
//!
//! A yanked release keeps its bytes (a lock file may pin it) but is never
//! chosen afresh. JSON: `{"format": 1, "package", "version", "yanked",
//! "registry"}`.

use std::io::Write;

use anyhow::Context as _;
use semver::Version;
use serde::Serialize;
use warg_depsolve_names::PackageName;
use warg_depsolve_registry::Publish as _;

use super::common::RegistryArgs;
use super::{write_json, Format, Global};

/// Mark a release yanked, so that it is never chosen afresh (its bytes
/// stay for lock files that pin it).
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The release, `ns:name@X.Y.Z`.
    #[arg(value_name = "NS:NAME@VERSION", value_parser = parse_release)]
    pub release: (PackageName, Version),
    /// Clear the yanked mark instead.
    #[arg(long)]
    pub undo: bool,
    /// Where the package lives.
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// Parses `ns:name@X.Y.Z`.
fn parse_release(s: &str) -> Result<(PackageName, Version), String> {
    let (package, version) = s
        .split_once('@')
        .ok_or_else(|| format!("`{s}` is not `ns:name@X.Y.Z`"))?;
    let package = package
        .parse()
        .map_err(|e| format!("`{package}` is not a package name: {e}"))?;
    let version = version
        .parse()
        .map_err(|e| format!("`{version}` is not a semantic version: {e}"))?;
    Ok((package, version))
}

#[derive(Serialize)]
struct Report<'a> {
    format: u32,
    package: &'a PackageName,
    version: &'a Version,
    yanked: bool,
    registry: &'a str,
}

/// Runs `yank`.
///
/// # Errors
///
/// The release does not exist, or its registry cannot yank.
pub fn run(args: &Args, global: &Global, out: &mut dyn Write) -> anyhow::Result<()> {
    let (package, version) = &args.release;
    let sources = args.registry.open(false)?;
    let target = sources.describe(package);
    let yanked = !args.undo;
    sources
        .registries()
        .set_yanked(package, version, yanked)
        .with_context(|| {
            let verb = if yanked { "yank" } else { "unyank" };
            format!("cannot {verb} `{package}@{version}` in {target}")
        })?;
    match global.format {
        Format::Json => write_json(
            out,
            &Report {
                format: 1,
                package,
                version,
                yanked,
                registry: sources.source().registry_for(package),
            },
        ),
        Format::Text | Format::Cyclonedx | Format::Spdx => {
            let verb = if yanked { "yanked" } else { "unyanked" };
            writeln!(out, "{verb} {package}@{version} in {target}")?;
            Ok(())
        }
    }
}
