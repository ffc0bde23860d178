//! `warg-depsolve bundle ROOT -o OUT`: one self-contained component.
//!
//! If ROOT is a locked form (a component-typed import carries a
//! `locked-dep=` external-id), each dependency is fetched by the digest its
//! import pins: from `--store DIR` first when given (a content-addressed
//! store, as `unbundle --store` writes), else from the registries (through
//! the cache). Otherwise ROOT is solved like `resolve` (the lock file's pins
//! honoured, `--locked`, `--offline`, `--frozen`; the lock file itself is
//! not written) and bundled. Every package's bytes are checked against
//! their digest; a mismatch names the package and both digests. The output
//! is written atomically: on any failure, no file.
//!
//! JSON: the compose output shape (see [`compose_out`](super::compose_out)).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use warg_depsolve_compose::read_record;
use warg_depsolve_registry::Source;

use super::common::{solve, LockArgs, RegistryArgs, RootFile, Unpin};
use super::compose_out::{oci, print, PackageRef, Written};
use super::Global;
use crate::output::write_atomic;
use crate::sources::with_store;

/// Write the bundled form: every dependency nested, runnable as is.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The root component (`.wasm` or `.wat`), or a locked form.
    pub root: PathBuf,
    /// The output file.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// A content-addressed store (`<DIR>/sha256/<hex>`, as `unbundle
    /// --store` writes it) searched for packages before the registries.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Where packages come from.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// How the lock file is used (read, never written).
    #[command(flatten)]
    pub lock: LockArgs,
}

/// Runs `bundle`.
///
/// # Errors
///
/// As `resolve`; a package whose bytes do not match their digest (naming
/// it and both digests); an output that cannot be written.
pub fn run(args: &Args, global: &Global, out: &mut dyn Write) -> anyhow::Result<()> {
    let sources = args.registry.open(args.lock.is_offline())?;
    let root = RootFile::read(&args.root)?;
    let stored;
    let source: &dyn Source = match &args.store {
        Some(dir) => {
            stored = with_store(dir, sources.source());
            &stored
        }
        None => sources.source(),
    };
    let locked_form = crate::is_locked_form(&root.bytes)
        .map_err(|e| crate::rename_root(e, &root.display()))
        .with_context(|| format!("cannot bundle `{}`", root.display()))?;
    let bundled = if locked_form {
        crate::bundle_locked(&root.bytes, source)
            .with_context(|| format!("cannot bundle the locked form `{}`", root.display()))?
    } else {
        let solved = solve(&root, &sources, &args.lock, Unpin::Nothing)?;
        solved.note_stale_lock();
        crate::bundle(&root.bytes, &solved.resolution, source)
            .with_context(|| format!("cannot bundle `{}`", root.display()))?
    };
    write_atomic(&args.output, &bundled)?;
    let packages = read_record(&bundled)
        .context("the bundle just written has no readable record")?
        .dependencies
        .into_iter()
        .map(|d| PackageRef {
            package: d.package,
            version: d.version,
            digest: oci(&d.digest),
            written_to: None,
        })
        .collect();
    print(
        out,
        global,
        Written {
            command: "bundle",
            what: "bundle",
            input: &args.root,
            output: &args.output,
            bytes: &bundled,
        },
        packages,
    )
}
