//! `warg-depsolve tree ROOT`: the dependency tree, shared nodes marked.
//!
//! A package reached a second time (one instance shared by several
//! dependents) is marked `(*)` and not expanded again. The lock file's pins
//! are honoured; the lock file is not written.
//!
//! JSON: `{"format": 1, "root", "tree": [{"import", "package", "version",
//! "shared", "children": [...]}]}`.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;
use warg_depsolve_solver::graph::{render_tree, tree, TreeNode};

use super::common::{solve, LockArgs, PlugArgs, RegistryArgs, RootFile, Unpin};
use super::{write_json, Format, Global};

/// Print the dependency tree; a package shared by several dependents is
/// marked (*).
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The root component (`.wasm` or `.wat`).
    pub root: PathBuf,
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

#[derive(Serialize)]
struct Report {
    format: u32,
    root: String,
    tree: Vec<TreeNode>,
}

/// Runs `tree`.
///
/// # Errors
///
/// As `resolve` (without writing the lock file).
pub fn run(args: &Args, global: &Global, out: &mut dyn Write) -> anyhow::Result<()> {
    let sources = args.registry.open(args.lock.is_offline())?;
    let root = RootFile::read(&args.root)?;
    let solved = solve(&root, &sources, &args.lock, &args.plug, Unpin::Nothing)?;
    solved.note_stale_lock();
    match global.format {
        Format::Json => write_json(
            out,
            &Report {
                format: 1,
                root: root.display(),
                tree: tree(&solved.resolution),
            },
        ),
        Format::Text | Format::Cyclonedx | Format::Spdx => {
            out.write_all(render_tree(&solved.resolution).as_bytes())?;
            Ok(())
        }
    }
}
