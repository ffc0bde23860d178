//! `warg-depsolve update ROOT [PKG...]`: re-solve, releasing the pins of the
//! named packages (or every pin when none is named), and write the lock
//! file.
//!
//! JSON: as `resolve`.

use std::io::Write;
use std::path::PathBuf;

use warg_depsolve_names::PackageName;
use warg_depsolve_solver::LockFile;

use super::common::{solve, LockArgs, PlugArgs, RegistryArgs, RootFile, Unpin};
use super::resolve::{print, write_lock};
use super::Global;

/// Re-solve, moving the named packages (or all) to the newest versions that
/// fit, and write the lock file.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The root component (`.wasm` or `.wat`).
    pub root: PathBuf,
    /// Packages whose pins are released; every other pin is kept where it
    /// still satisfies. None: release every pin.
    #[arg(value_name = "NS:NAME")]
    pub packages: Vec<PackageName>,
    /// Where packages come from.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The lock file. Default: `<root-stem>.lock` in the current directory.
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
    /// Use only the cache; never ask a registry.
    #[arg(long)]
    pub offline: bool,
    /// Interface plugs.
    #[command(flatten)]
    pub plug: PlugArgs,
}

/// Runs `update`.
///
/// # Errors
///
/// A named package is not in the lock file; otherwise as `resolve`.
pub fn run(args: &Args, global: &Global, out: &mut dyn Write) -> anyhow::Result<()> {
    let lock_args = LockArgs {
        lock: args.lock.clone(),
        offline: args.offline,
        ..LockArgs::default()
    };
    let root = RootFile::read(&args.root)?;
    let unpin = if args.packages.is_empty() {
        Unpin::All
    } else {
        let path = lock_args.path_for(&root.path);
        let locked: Vec<PackageName> = match std::fs::read_to_string(&path) {
            Ok(text) => LockFile::parse(&text)
                .map(|l| l.packages.into_iter().map(|p| p.name).collect())
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        for p in &args.packages {
            if !locked.contains(p) {
                anyhow::bail!(
                    "`{p}` is not pinned in the lock file `{}`: nothing to update",
                    path.display()
                );
            }
        }
        Unpin::Packages(args.packages.clone())
    };
    let sources = args.registry.open(args.offline)?;
    let solved = solve(&root, &sources, &lock_args, &args.plug, unpin)?;
    let written = write_lock(&solved)?;
    print(out, global, &root, &solved, written)
}
