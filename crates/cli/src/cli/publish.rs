//! `warg-depsolve publish FILE [--package ns:name] [--version X]`: add a
//! release to a registry.
//!
//! The package name and version default to the component's own metadata
//! (its `component-name` and `version` custom sections, as wasm-metadata
//! writes them) when present; otherwise they must be given. The release goes
//! to the registry the configuration routes the package to (with
//! `--registry DIR`, that directory). Releases are immutable: publishing the
//! same bytes again changes nothing, other bytes for an existing version
//! are refused.
//!
//! JSON: `{"format": 1, "file", "package", "version", "registry", "path",
//! "digest", "size", "dependencies": [{"import", "class"}], "host_imports":
//! ["wasi:io/poll@0.2.9", ...]}` (`path` is the release file for a local
//! registry, else `null`; `class` as `inspect` prints it). `dependencies`
//! are the imports a registry may provide (declared, legacy, and interface
//! imports outside `wasi:`); `host_imports` every other import, each once:
//! `wasi:*` interfaces and plain host names.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use semver::Version;
use serde::Serialize;
use warg_depsolve_names::scan::scan;
use warg_depsolve_names::{ImportClass, PackageName};
use warg_depsolve_registry::{Dependency, Publish as _};

use super::common::{RegistryArgs, RootFile};
use super::text::Table;
use super::{write_json, Format, Global};

/// Publish a component as a release of a package.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The component: a binary (`.wasm`) or WebAssembly text (`.wat`).
    pub file: PathBuf,
    /// The package, `ns:name`. Default: the component's own name, if it is
    /// a package name.
    #[arg(long, value_name = "NS:NAME")]
    pub package: Option<PackageName>,
    /// The version. Default: the component's own version metadata.
    #[arg(long, value_name = "SEMVER")]
    pub version: Option<Version>,
    /// Where packages go.
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Serialize)]
struct Report<'a> {
    format: u32,
    file: String,
    package: &'a PackageName,
    version: &'a Version,
    registry: &'a str,
    path: Option<String>,
    digest: String,
    size: u64,
    dependencies: Vec<&'a Dependency>,
    host_imports: Vec<String>,
}

/// Runs `publish`.
///
/// # Errors
///
/// The file is not a component; no package name or version given or
/// found; the registry refuses the release (an existing version with other
/// bytes, a backend that cannot publish).
pub fn run(args: &Args, global: &Global, out: &mut dyn Write) -> anyhow::Result<()> {
    let file = RootFile::read(&args.file)?;
    let what = file.display();
    let scanned = scan(&file.bytes).with_context(|| format!("cannot publish `{what}`"))?;
    let metadata = scanned.metadata;
    let package = match (&args.package, &metadata.name) {
        (Some(p), _) => p.clone(),
        (None, Some(name)) => name.parse().map_err(|e| {
            anyhow::anyhow!(
                "`{what}` is named `{name}`, which is not a package name ({e}): pass --package NS:NAME"
            )
        })?,
        (None, None) => anyhow::bail!(
            "`{what}` carries no package name (no `component-name` section): pass --package NS:NAME"
        ),
    };
    let version = match (&args.version, &metadata.version) {
        (Some(v), _) => v.clone(),
        (None, Some(v)) => v.trim().parse().map_err(|e| {
            anyhow::anyhow!(
                "`{what}` carries version `{v}`, which is not a semantic version ({e}): pass --version X.Y.Z"
            )
        })?,
        (None, None) => anyhow::bail!(
            "`{what}` carries no version (no `version` section): pass --version X.Y.Z"
        ),
    };
    let sources = args.registry.open(false)?;
    let target = sources.describe(&package);
    let meta = sources
        .registries()
        .publish(&package, &version, &file.bytes)
        .with_context(|| format!("cannot publish `{what}` as `{package}@{version}` to {target}"))?;
    let registry = sources.source().registry_for(&package);
    let path = sources
        .registries()
        .local_for(&package)
        .and_then(|local| local.release_path(&package, &version).ok())
        .map(|p| p.display().to_string());
    let is_host = |class: &ImportClass| match class {
        ImportClass::Host => true,
        ImportClass::Interface(i) => i.is_wasi(),
        ImportClass::Declared(_) | ImportClass::Legacy(_) => false,
    };
    let dependencies: Vec<&Dependency> = meta
        .dependencies
        .iter()
        .filter(|d| !is_host(&d.class))
        .collect();
    let host_imports: Vec<String> = scanned
        .imports
        .iter()
        .filter(|i| i.name.classify().is_ok_and(|c| is_host(&c)))
        .map(|i| i.name.name.clone())
        .collect();
    let report = Report {
        format: 1,
        file: what.clone(),
        package: &package,
        version: &version,
        registry,
        path,
        digest: meta.digest.to_oci(),
        size: meta.size,
        dependencies,
        host_imports,
    };
    match global.format {
        Format::Json => write_json(out, &report),
        Format::Text | Format::Cyclonedx | Format::Spdx => {
            writeln!(out, "published {package}@{version} to {target}")?;
            let mut t = Table::new("  ");
            if let Some(path) = &report.path {
                t.row(["file", path]);
            }
            t.row(["digest", &report.digest]);
            t.row(["size".to_string(), format!("{} bytes", report.size)]);
            let deps: Vec<String> = report
                .dependencies
                .iter()
                .map(|d| match dependency_target(d) {
                    target if target == d.import => target,
                    target => format!("{} ({target})", d.import),
                })
                .collect();
            t.row([
                "dependencies".to_string(),
                if deps.is_empty() {
                    "none".to_string()
                } else {
                    deps.join(", ")
                },
            ]);
            t.row([
                "host imports".to_string(),
                if report.host_imports.is_empty() {
                    "none".to_string()
                } else {
                    report.host_imports.join(", ")
                },
            ]);
            t.write(out)?;
            Ok(())
        }
    }
}

/// What a dependency import refers to, briefly.
pub(crate) fn dependency_target(d: &Dependency) -> String {
    match &d.class {
        ImportClass::Declared(r) | ImportClass::Legacy(r) => r.to_string(),
        ImportClass::Interface(i) => i.to_string(),
        ImportClass::Host => "host".to_string(),
    }
}
