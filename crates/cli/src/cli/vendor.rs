//! `warg-depsolve vendor ROOT -o DIR`: every package of the root's
//! resolution (the lock file's pins kept) written into DIR in wkg's local
//! layout, `<ns>/<name>/<version>.wasm`, each checked against its digest,
//! so that `--registry DIR` reproduces the same bundle byte for byte on a
//! machine with no network.
//!
//! DIR is a local registry: releases already there with the same bytes
//! are left as they are; one with other bytes is an error naming it
//! (nothing is overwritten). Each file is written whole or not at all.
//!
//! JSON: `{"format": 1, "root", "directory", "packages": [{"package",
//! "version", "digest", "registry", "path", "written"}]}`, `written` false
//! for a release that was there already.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use semver::Version;
use serde::Serialize;
use warg_depsolve_names::{Integrity, PackageName};
use warg_depsolve_registry::LocalRegistry;

use super::common::{solve, LockArgs, PlugArgs, RegistryArgs, RootFile, Unpin};
use super::text::Table;
use super::{write_json, Format, Global};

/// Copy every package of the resolution into a local registry directory,
/// for builds with no network.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The root component (`.wasm` or `.wat`).
    pub root: PathBuf,
    /// The directory to vendor into (created if missing), in wkg's local
    /// layout.
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Where packages come from.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Lock file options.
    #[command(flatten)]
    pub lock: LockArgs,
    /// Interface plugs.
    #[command(flatten)]
    pub plug: PlugArgs,
}

#[derive(Serialize)]
struct Report {
    format: u32,
    root: String,
    directory: String,
    packages: Vec<Vendored>,
}

#[derive(Serialize)]
struct Vendored {
    package: PackageName,
    version: Version,
    digest: String,
    registry: String,
    path: String,
    written: bool,
}

/// Runs `vendor`.
///
/// # Errors
///
/// As `resolve`; a release cannot be fetched or does not match its
/// digest; DIR holds other bytes for a release, or cannot be written.
pub fn run(args: &Args, global: &Global, out: &mut dyn Write) -> anyhow::Result<()> {
    let root = RootFile::read(&args.root)?;
    let sources = args.registry.open(args.lock.is_offline())?;
    let solved = solve(&root, &sources, &args.lock, &args.plug, Unpin::Nothing)?;
    solved.note_stale_lock();
    let dir = &args.output;
    if dir.exists() && !dir.is_dir() {
        anyhow::bail!("cannot vendor into `{}`: not a directory", dir.display());
    }
    let vendor = LocalRegistry::new("vendor", dir.clone());
    let mut packages = Vec::new();
    for p in &solved.resolution.packages {
        let what = format!("`{}@{}`", p.package, p.version);
        let path = vendor
            .release_path(&p.package, &p.version)
            .with_context(|| format!("cannot vendor {what}"))?;
        let present = path.exists();
        let bytes = sources
            .source()
            .fetch(&p.package, &p.version, &p.digest)
            .with_context(|| {
                format!("cannot fetch {what} from {}", sources.describe(&p.package))
            })?;
        if present {
            let there = std::fs::read(&path)
                .with_context(|| format!("cannot read `{}`", path.display()))?;
            if there.as_slice() != &**bytes.bytes() {
                anyhow::bail!(
                    "cannot vendor {what}: `{}` holds other bytes ({}, the release is {}); \
                     remove it, or vendor into an empty directory",
                    path.display(),
                    Integrity::sha256(&there).to_oci(),
                    p.digest.to_oci()
                );
            }
        }
        // The local registry writes atomically (and would refuse other
        // bytes for a release it has, checked above to say it plainly).
        vendor
            .publish(&p.package, &p.version, bytes.bytes())
            .with_context(|| format!("cannot vendor {what} into `{}`", dir.display()))?;
        packages.push(Vendored {
            package: p.package.clone(),
            version: p.version.clone(),
            digest: p.digest.to_oci(),
            registry: p.registry.clone(),
            path: path.display().to_string(),
            written: !present,
        });
    }
    match global.format {
        Format::Json => write_json(
            out,
            &Report {
                format: 1,
                root: root.name.clone(),
                directory: dir.display().to_string(),
                packages,
            },
        ),
        Format::Text | Format::Cyclonedx | Format::Spdx => {
            let mut t = Table::new("  ");
            for v in &packages {
                let state = if v.written { "written" } else { "present" };
                t.row([
                    format!("{}@{}", v.package, v.version),
                    state.to_string(),
                    v.path.clone(),
                ]);
            }
            let written = packages.iter().filter(|v| v.written).count();
            writeln!(
                out,
                "vendored {} packages into `{}` ({written} written); build offline with --registry {}",
                packages.len(),
                dir.display(),
                dir.display()
            )?;
            t.write(out)?;
            Ok(())
        }
    }
}
