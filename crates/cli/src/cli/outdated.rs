//! `warg-depsolve outdated ROOT`: for each package the lock file pins, the
//! pinned version, the newest that `update` would choose under today's
//! constraints, and the newest release of the package on any track (as
//! `cargo outdated` and `npm outdated` show them). Nothing is written.
//!
//! JSON: `{"format": 1, "root", "lock", "packages": [{"package", "track",
//! "registry", "locked", "compatible", "latest"}]}`, one entry per pinned
//! release (a package on two tracks has two), in the lock file's order.
//! `compatible` is `null` when today's solve no longer uses the package on
//! that track; `latest` is the newest release that is neither yanked nor a
//! pre-release (the newest of any kind when there is no such release).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use semver::Version;
use serde::Serialize;
use warg_depsolve_names::PackageName;
use warg_depsolve_solver::LockFile;

use super::common::{solve, LockArgs, PlugArgs, RegistryArgs, RootFile, Unpin};
use super::text::Table;
use super::{write_json, Format, Global};

/// Show, for each pinned package, the newest version `update` would take
/// and the newest release on any track.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The root component (`.wasm` or `.wat`).
    pub root: PathBuf,
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

#[derive(Serialize)]
struct Report {
    format: u32,
    root: String,
    lock: String,
    packages: Vec<Row>,
}

#[derive(Serialize)]
struct Row {
    package: PackageName,
    track: Option<String>,
    registry: Option<String>,
    locked: Version,
    compatible: Option<Version>,
    latest: Option<Version>,
}

impl Row {
    /// Whether `update` would move this pin.
    fn can_update(&self) -> bool {
        self.compatible.as_ref().is_some_and(|c| *c != self.locked)
    }

    /// Whether a newer release exists that today's constraints do not
    /// allow (another track, usually).
    fn has_newer_elsewhere(&self) -> bool {
        let reachable = self.compatible.as_ref().unwrap_or(&self.locked);
        self.latest.as_ref().is_some_and(|l| l > reachable)
    }
}

/// Runs `outdated`.
///
/// # Errors
///
/// No lock file (run `resolve` first), or one that cannot be read; the
/// solve fails; a registry cannot list a pinned package.
pub fn run(args: &Args, global: &Global, out: &mut dyn Write) -> anyhow::Result<()> {
    let root = RootFile::read(&args.root)?;
    let lock_args = LockArgs {
        lock: args.lock.clone(),
        offline: args.offline,
        ..LockArgs::default()
    };
    let lock_path = lock_args.path_for(&root.path);
    let text = match std::fs::read_to_string(&lock_path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
            "no lock file `{}`: nothing is pinned yet (`warg-depsolve resolve {}` writes it)",
            lock_path.display(),
            root.display()
        ),
        Err(e) => {
            return Err(e)
                .with_context(|| format!("failed to read lock file `{}`", lock_path.display()))
        }
    };
    let locked = LockFile::parse(&text)
        .with_context(|| format!("cannot use lock file `{}`", lock_path.display()))?;
    let sources = args.registry.open(args.offline)?;
    // What `update` with no package would choose: every pin released.
    let fresh = solve(&root, &sources, &lock_args, &args.plug, Unpin::All)?.resolution;
    let mut rows = Vec::new();
    for package in &locked.packages {
        let listing = sources.source().versions(&package.name).with_context(|| {
            format!(
                "cannot list the versions of `{}` in {}",
                package.name,
                sources.describe(&package.name)
            )
        })?;
        let usable = |pre: bool| {
            listing
                .releases
                .iter()
                .filter(|r| !r.yanked && (pre || r.version.pre.is_empty()))
                .map(|r| r.version.clone())
                .max()
        };
        let latest = usable(false).or_else(|| usable(true));
        for pin in &package.versions {
            let compatible = fresh
                .packages
                .iter()
                .filter(|p| p.package == package.name)
                .find(|p| pin.track.as_ref().is_none_or(|t| *t == p.track))
                .map(|p| p.version.clone());
            rows.push(Row {
                package: package.name.clone(),
                track: pin.track.as_ref().map(ToString::to_string),
                registry: package.registry.clone(),
                locked: pin.version.clone(),
                compatible,
                latest: latest.clone(),
            });
        }
    }
    match global.format {
        Format::Json => write_json(
            out,
            &Report {
                format: 1,
                root: root.name.clone(),
                lock: lock_path.display().to_string(),
                packages: rows,
            },
        ),
        Format::Text | Format::Cyclonedx | Format::Spdx => {
            let show = |v: &Option<Version>| v.as_ref().map_or("-".to_string(), Version::to_string);
            let mut t = Table::new("");
            t.row(["package", "track", "locked", "compatible", "latest"]);
            for row in &rows {
                t.row([
                    row.package.to_string(),
                    row.track.clone().unwrap_or_else(|| "-".into()),
                    row.locked.to_string(),
                    show(&row.compatible),
                    show(&row.latest),
                ]);
            }
            t.write(out)?;
            let movable = rows.iter().filter(|r| r.can_update()).count();
            let elsewhere = rows.iter().filter(|r| r.has_newer_elsewhere()).count();
            if movable == 0 && elsewhere == 0 {
                writeln!(out, "every pin is the newest release")?;
            }
            if movable > 0 {
                writeln!(
                    out,
                    "{movable} of {} pins can move within today's constraints: `warg-depsolve update {}`",
                    rows.len(),
                    root.display()
                )?;
            }
            if elsewhere > 0 {
                writeln!(
                    out,
                    "{elsewhere} of {} pins have newer releases that today's constraints do not allow",
                    rows.len()
                )?;
            }
            Ok(())
        }
    }
}
