//! `warg-depsolve lock ROOT -o OUT`: the locked form.
//!
//! Solves like `resolve` (the lock file's pins honoured, `--locked`,
//! `--offline`, `--frozen`; the lock file itself is not written), then
//! writes the composition whose dependencies are *imported* as components,
//! each import pinned by `external-id
//! "locked-dep=<ns:pkg@x.y.z>,integrity=<sha256-...>"`. Loaders and
//! `bundle` turn it into a runnable bundle. The output is written
//! atomically: on any failure, no file.
//!
//! JSON: the compose output shape (see [`compose_out`](super::compose_out)).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;

use super::common::{solve, LockArgs, PlugArgs, RegistryArgs, RootFile, Unpin};
use super::compose_out::{print, PackageRef, Written};
use super::Global;
use crate::output::write_atomic;

/// Write the locked form: dependencies imported as components pinned by
/// version and digest.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The root component (`.wasm` or `.wat`).
    pub root: PathBuf,
    /// The output file.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// Where packages come from.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// How the lock file is used (read, never written).
    #[command(flatten)]
    pub lock: LockArgs,
    /// Interface plugs.
    #[command(flatten)]
    pub plug: PlugArgs,
}

/// Runs `lock`.
///
/// # Errors
///
/// As `resolve`; a package whose bytes do not match their digest; an
/// output that cannot be written.
pub fn run(args: &Args, global: &Global, out: &mut dyn Write) -> anyhow::Result<()> {
    let sources = args.registry.open(args.lock.is_offline())?;
    let root = RootFile::read(&args.root)?;
    let solved = solve(&root, &sources, &args.lock, &args.plug, Unpin::Nothing)?;
    solved.note_stale_lock();
    let locked = warg_depsolve::lock(&root.bytes, &solved.resolution, sources.source())
        .with_context(|| format!("cannot lock `{}`", root.display()))?;
    write_atomic(&args.output, &locked)?;
    let packages = solved
        .resolution
        .packages
        .iter()
        .map(|p| PackageRef {
            package: p.package.to_string(),
            version: p.version.to_string(),
            digest: p.digest.to_oci(),
            written_to: None,
            nested: None,
        })
        .collect();
    print(
        out,
        global,
        Written::of("lock", "locked form", &args.root, &args.output, &locked),
        packages,
    )
}
