//! `warg-depsolve sbom FILE`: a software bill of materials for a bundle, a
//! locked form, or a root with its lock file: CycloneDX 1.6 JSON
//! (`--format cyclonedx`, the default, also for `text` and `json`) or SPDX
//! 2.3 JSON (`--format spdx`), on stdout.
//!
//! - A **bundle** (one of ours): its nested packages, their registry bytes
//!   restored and checked by digest; the graph from their imports. No
//!   registry is asked; the registry each package routes to in the
//!   configuration is named.
//! - A **locked form**: its pinned imports; each release is fetched (by
//!   digest, cache first) to read its imports.
//! - A **root**: solved with its lock file's pins (as `tree` does; the lock
//!   is not written), the graph as solved.
//!
//! For a bundle or a locked form, `--plug` (and the project file) say
//! which release provides an interface import when two export it.
//!
//! Every release appears with package, version, SHA-256 and registry; the
//! root is the subject (`metadata.component`, or the package the SPDX
//! document describes). See [`warg_depsolve::sbom`] for the shapes.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use warg_depsolve::sbom::Bom;

use super::common::{solve, LockArgs, PlugArgs, RegistryArgs, RootFile, Unpin};
use super::{write_json, Format, Global};

/// Write a software bill of materials (CycloneDX 1.6 or SPDX 2.3 JSON)
/// for a bundle, a locked form, or a root with its lock file.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// A bundle, a locked form, or a root component (`.wasm` or `.wat`).
    pub file: PathBuf,
    /// Where packages come from.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Lock file options (for a root).
    #[command(flatten)]
    pub lock: LockArgs,
    /// Interface plugs (for a root).
    #[command(flatten)]
    pub plug: PlugArgs,
}

/// Runs `sbom`.
///
/// # Errors
///
/// The file is not a component; a bundle whose record does not match
/// what it nests; a locked form's release cannot be fetched; a root that
/// does not solve.
pub fn run(args: &Args, global: &Global, out: &mut dyn Write) -> anyhow::Result<()> {
    let file = RootFile::read(&args.file)?;
    let what = file.display();
    let sources = args.registry.open(args.lock.is_offline())?;
    let has_record = warg_depsolve::compose::read_record(&file.bytes).is_ok();
    let plugs = args.plug.for_root(&args.file)?;
    let bom = if has_record {
        let registries = sources.registries();
        Bom::from_bundle(
            &file.name,
            &file.bytes,
            &|package| registries.route(package).map(str::to_string),
            &plugs,
        )
        .with_context(|| format!("cannot list what the bundle `{what}` holds"))?
    } else if warg_depsolve::is_locked_form(&file.bytes)
        .with_context(|| format!("cannot read `{what}`"))?
    {
        Bom::from_locked(&file.name, &file.bytes, sources.source(), &plugs)
            .with_context(|| format!("cannot list what the locked form `{what}` pins"))?
    } else {
        let solved = solve(&file, &sources, &args.lock, &args.plug, Unpin::Nothing)?;
        solved.note_stale_lock();
        Bom::from_resolution(&file.name, &file.bytes, &solved.resolution)
    };
    let document = match global.format {
        Format::Spdx => bom.to_spdx(),
        Format::Text | Format::Json | Format::Cyclonedx => bom.to_cyclonedx(),
    };
    write_json(out, &document)
}
