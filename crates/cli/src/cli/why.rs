//! `warg-depsolve why ROOT ns:pkg`: every path from the root to a package.
//!
//! The lock file's pins are honoured; the lock file is not written.
//!
//! JSON: `{"format": 1, "root", "package", "paths": [["meet.wat",
//! "test:inc@1.0.0", "test:add@1.1.0"], ...]}`.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;
use warg_depsolve_names::PackageName;
use warg_depsolve_solver::graph::why;

use super::common::{solve, LockArgs, PlugArgs, RegistryArgs, RootFile, Unpin};
use super::{write_json, Format, Global};

/// Show every path from the root to a package: why it is in the graph.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The root component (`.wasm` or `.wat`).
    pub root: PathBuf,
    /// The package, `ns:name`.
    #[arg(value_name = "NS:NAME")]
    pub package: PackageName,
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
struct Report<'a> {
    format: u32,
    root: String,
    package: &'a PackageName,
    paths: Vec<Vec<String>>,
}

/// Runs `why`.
///
/// # Errors
///
/// As `resolve`; also a package that is not in the resolution.
pub fn run(args: &Args, global: &Global, out: &mut dyn Write) -> anyhow::Result<()> {
    let sources = args.registry.open(args.lock.is_offline())?;
    let root = RootFile::read(&args.root)?;
    let solved = solve(&root, &sources, &args.lock, &args.plug, Unpin::Nothing)?;
    solved.note_stale_lock();
    let package = &args.package;
    let paths = why(&solved.resolution, package);
    if paths.is_empty() {
        anyhow::bail!(
            "`{package}` is not a dependency of `{}` (resolved: {})",
            root.display(),
            solved
                .resolution
                .packages
                .iter()
                .map(|p| format!("{}@{}", p.package, p.version))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    match global.format {
        Format::Json => write_json(
            out,
            &Report {
                format: 1,
                root: root.display(),
                package,
                paths,
            },
        ),
        Format::Text | Format::Cyclonedx | Format::Spdx => {
            let n = paths.len();
            let noun = if n == 1 { "path" } else { "paths" };
            writeln!(out, "{package} is reached by {n} {noun}:")?;
            for path in &paths {
                writeln!(out, "  {}", path.join(" -> "))?;
            }
            Ok(())
        }
    }
}
