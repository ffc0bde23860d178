//! `warg-depsolve resolve ROOT`: solve the component's dependencies, write
//! the lock file, print the resolution.
//!
//! The lock file (default `<root-stem>.lock` in the current directory, or
//! `--lock FILE`) is read first and its pins kept wherever they still
//! satisfy; it is rewritten (atomically) only when its text changes.
//! `--locked` fails, naming every change, if the lock is missing or would
//! change, and writes nothing; `--offline` uses only the cache; `--frozen`
//! is both.
//!
//! JSON: `{"format": 1, "root", "lock": {"path", "written", "changes":
//! [...]}, "resolution": {"root", "root_edges", "packages": [{"package",
//! "track", "version", "digest", "registry", "yanked", "required_by":
//! [{"dependent", "import", "requirement"}], "edges": [{"import", "target",
//! "export", "constraint"}]}]}}` (`target` indexes `packages`; `constraint`
//! is what the import asked for, as `requirement` prints it).

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;
use warg_depsolve_solver::Resolution;

use super::common::{solve, LockArgs, PlugArgs, RegistryArgs, RootFile, Solved, Unpin};
use super::text::Table;
use super::{write_json, Format, Global};
use crate::output::write_atomic;

/// Solve a component's dependencies, write the lock file and print the
/// chosen packages.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The root component (`.wasm` or `.wat`).
    pub root: PathBuf,
    /// Where packages come from.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// How the lock file is used.
    #[command(flatten)]
    pub lock: LockArgs,
    /// Interface plugs.
    #[command(flatten)]
    pub plug: PlugArgs,
}

/// The JSON document of `resolve` and `update`.
#[derive(Serialize)]
pub(crate) struct Report<'a> {
    format: u32,
    root: String,
    lock: LockReport<'a>,
    resolution: &'a Resolution,
}

#[derive(Serialize)]
struct LockReport<'a> {
    path: String,
    written: bool,
    changes: &'a [String],
}

/// Runs `resolve`.
///
/// # Errors
///
/// As [`solve`]; also a lock file that cannot be written.
pub fn run(args: &Args, global: &Global, out: &mut dyn Write) -> anyhow::Result<()> {
    let sources = args.registry.open(args.lock.is_offline())?;
    let root = RootFile::read(&args.root)?;
    let solved = solve(&root, &sources, &args.lock, &args.plug, Unpin::Nothing)?;
    let written = !args.lock.is_locked() && write_lock(&solved)?;
    print(out, global, &root, &solved, written)
}

/// Writes the lock file if its text changes; whether it was written.
pub(crate) fn write_lock(solved: &Solved) -> anyhow::Result<bool> {
    if !solved.lock_differs() {
        return Ok(false);
    }
    write_atomic(&solved.lock_path, solved.new_text().as_bytes())?;
    Ok(true)
}

/// Prints a resolution and what happened to the lock file.
pub(crate) fn print(
    out: &mut dyn Write,
    global: &Global,
    root: &RootFile,
    solved: &Solved,
    written: bool,
) -> anyhow::Result<()> {
    let r = &solved.resolution;
    let lock_path = solved.lock_path.display().to_string();
    match global.format {
        Format::Json => write_json(
            out,
            &Report {
                format: 1,
                root: root.display(),
                lock: LockReport {
                    path: lock_path,
                    written,
                    changes: &solved.changes,
                },
                resolution: r,
            },
        ),
        Format::Text | Format::Cyclonedx | Format::Spdx => {
            let count = match r.packages.len() {
                1 => "1 package".to_string(),
                n => format!("{n} packages"),
            };
            let lock = if written {
                format!("lock file `{lock_path}` written")
            } else {
                format!("lock file `{lock_path}` unchanged")
            };
            writeln!(out, "{}: {count}; {lock}", root.display())?;
            write_packages(out, r)?;
            if written && !solved.changes.is_empty() {
                writeln!(out, "changes:")?;
                for c in &solved.changes {
                    writeln!(out, "  {c}")?;
                }
            }
            Ok(())
        }
    }
}

/// One row per resolved package (package, version, track, digest,
/// registry), with a note per requirement that led to it.
pub(crate) fn write_packages(out: &mut dyn Write, r: &Resolution) -> anyhow::Result<()> {
    let mut t = Table::new("  ");
    for (p, required_by) in r.packages.iter().zip(r.requirements()) {
        let mut row = vec![
            p.package.to_string(),
            p.version.to_string(),
            format!("track {}", p.track),
            p.digest.to_oci(),
            format!("registry {}", p.registry),
        ];
        if p.yanked {
            row.push("(yanked, pinned by the lock)".into());
        }
        t.row(row);
        for req in &required_by {
            t.note(
                "required by",
                match req.asked() {
                    Some(asked) => format!("{} as `{}` {asked}", req.dependent, req.import),
                    None => format!("{} as `{}`", req.dependent, req.import),
                },
            );
        }
    }
    t.write(out)?;
    Ok(())
}
