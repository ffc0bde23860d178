//! Options and steps shared by several subcommands: opening the
//! registries, reading a root component, solving with a lock file.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use warg_depsolve_names::PackageName;
use warg_depsolve_solver::{LockFile, Plug, ProviderConfig, Resolution, SolveOptions};

use crate::input::read_wasm_file;
use warg_depsolve::sources::{SourceSettings, Sources};
use warg_depsolve::SetupError;

use crate::report::Hinted;

/// The project file: next to the root component, it holds what a project
/// keeps for every command (today its plugs). Not in wkg's `config.toml`,
/// whose parser rejects keys it does not know.
pub const PROJECT_FILE: &str = "warg-depsolve.toml";

/// `--plug PATTERN=PACKAGE[@RANGE]`, repeatable.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PlugArgs {
    /// Provide interface imports matching PATTERN (`ns:pkg/iface`,
    /// `ns:pkg/*`, `ns:*`) by PACKAGE (optionally within a semver RANGE,
    /// `^1.2`) instead of the package their name implies. Repeatable; wins
    /// over the same pattern in the project file `warg-depsolve.toml`
    /// beside the root (`[plug]` table: `"PATTERN" = "PACKAGE[@RANGE]"`).
    #[arg(long = "plug", value_name = "PATTERN=PACKAGE[@RANGE]", value_parser = Plug::parse)]
    pub plugs: Vec<Plug>,
}

impl PlugArgs {
    /// The plugs in force for `root`: the command line's first (first match
    /// wins), then the project file's for patterns the command line does
    /// not plug.
    ///
    /// # Errors
    ///
    /// The project file cannot be read, is not TOML, or has a key or plug
    /// it cannot accept (naming the file and key).
    pub fn for_root(&self, root: &Path) -> anyhow::Result<Vec<Plug>> {
        let mut plugs = self.plugs.clone();
        let dir = root.parent().filter(|d| !d.as_os_str().is_empty());
        let file = dir.map_or_else(|| PathBuf::from(PROJECT_FILE), |d| d.join(PROJECT_FILE));
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(plugs),
            Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", file.display())),
        };
        let at = |key: &str| format!("project file `{}`: `{key}`", file.display());
        let table: toml::Table = toml::from_str(&text)
            .with_context(|| format!("project file `{}` is not valid TOML", file.display()))?;
        for (key, value) in &table {
            if key != "plug" {
                anyhow::bail!("{}: unknown key (expected `plug`)", at(key));
            }
            let entries = value
                .as_table()
                .ok_or_else(|| anyhow::anyhow!("{}: expected a table", at(key)))?;
            for (pattern, provider) in entries {
                let key = format!("plug.{pattern:?}");
                let provider = provider
                    .as_str()
                    .ok_or_else(|| anyhow::anyhow!("{}: expected \"PACKAGE[@RANGE]\"", at(&key)))?;
                let plug = Plug::new(pattern, provider)
                    .map_err(|why| anyhow::anyhow!("{}: {why}", at(&key)))?;
                if !plugs.iter().any(|p| p.pattern == plug.pattern) {
                    plugs.push(plug);
                }
            }
        }
        Ok(plugs)
    }
}

/// Where packages come from: `--registry`, `--config`, `--cache`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RegistryArgs {
    /// A local registry directory (wkg layout `<ns>/<name>/<version>.wasm`)
    /// serving every package. Wins over `$WARG_DEPSOLVE_CONFIG` and wkg's
    /// `$XDG_CONFIG_HOME/wasm-pkg/config.toml`. Default, when no config file
    /// is found: `$XDG_DATA_HOME/warg-depsolve/registry` (or
    /// `~/.local/share/warg-depsolve/registry`).
    #[arg(long, value_name = "DIR", conflicts_with = "config")]
    pub registry: Option<PathBuf>,
    /// A wkg-shaped `config.toml` mapping namespaces and packages to
    /// registries (else `$WARG_DEPSOLVE_CONFIG`, else wkg's file).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The cache directory (content and metadata by digest, version
    /// lists). Default: `$XDG_CACHE_HOME/warg-depsolve` (or
    /// `~/.cache/warg-depsolve`).
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// For every network (OCI) registry: the longest wait, in seconds, for
    /// a connection and for an answer (replaces each registry's
    /// `connect_timeout` and `read_timeout`; defaults 10 and 30). A request
    /// not answered in time is tried again as the registry's `retries`
    /// says (twice by default).
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout)]
    pub timeout: Option<std::time::Duration>,
}

/// `--timeout`'s value: seconds, whole or fractional, more than 0 and at
/// most an hour.
fn parse_timeout(text: &str) -> Result<std::time::Duration, String> {
    let seconds: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    warg_depsolve_oci::settings::duration_from_seconds(seconds)
}

impl RegistryArgs {
    /// Opens the configured registries behind the cache, their warnings,
    /// notices and download bars shown on stderr ([`crate::report`]).
    ///
    /// # Errors
    ///
    /// A configuration file that cannot be read or is wrong (naming it), or
    /// no default directory available.
    pub fn open(&self, offline: bool) -> anyhow::Result<Sources> {
        Sources::open(&SourceSettings {
            registry: self.registry.clone(),
            config: self.config.clone(),
            cache: self.cache.clone(),
            offline,
            timeout: self.timeout,
            warnings: Some(crate::report::warnings()),
            notices: Some(crate::report::notices()),
            progress: crate::report::progress(),
        })
        .map_err(|e| match e {
            // The library says what is missing; the flags that supply it
            // are the command line's.
            warg_depsolve::Error::Setup(setup) => {
                let hint = match setup {
                    SetupError::NoRegistry => "pass --registry DIR or --config FILE",
                    SetupError::NoCache => "pass --cache DIR",
                    SetupError::CacheNotADirectory { .. } => {
                        "pass --cache DIR, or move the file away"
                    }
                };
                Hinted::new(setup, hint).into()
            }
            e => e.into(),
        })
    }
}

/// How the lock file is used: `--lock`, `--locked`, `--offline`,
/// `--frozen`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LockArgs {
    /// The lock file. Default: `<root-stem>.lock` in the current directory
    /// (`meet.lock` for `testdata/roots/meet.wat`). Its pins are kept
    /// wherever they still satisfy.
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
    /// Fail if the lock file is missing or would change (naming what would
    /// change); write nothing.
    #[arg(long)]
    pub locked: bool,
    /// Use only the cache; never ask a registry.
    #[arg(long)]
    pub offline: bool,
    /// `--locked` and `--offline`.
    #[arg(long)]
    pub frozen: bool,
}

impl LockArgs {
    /// Whether `--locked` (or `--frozen`) was given.
    pub fn is_locked(&self) -> bool {
        self.locked || self.frozen
    }

    /// Whether `--offline` (or `--frozen`) was given.
    pub fn is_offline(&self) -> bool {
        self.offline || self.frozen
    }

    /// The lock file path for `root`.
    pub fn path_for(&self, root: &Path) -> PathBuf {
        self.lock.clone().unwrap_or_else(|| default_lock_path(root))
    }
}

/// `<root-stem>.lock` in the current directory.
pub fn default_lock_path(root: &Path) -> PathBuf {
    let stem = root
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "component".into());
    PathBuf::from(format!("{stem}.lock"))
}

/// A component read from a file.
#[derive(Debug, Clone)]
pub struct RootFile {
    /// The path as given.
    pub path: PathBuf,
    /// The file name (`meet.wat`), used in reports.
    pub name: String,
    /// The component binary (compiled if the file was text).
    pub bytes: Vec<u8>,
}

impl RootFile {
    /// Reads `path` (`.wasm` or `.wat`).
    ///
    /// # Errors
    ///
    /// The file cannot be read or is text that does not parse; the error
    /// names it.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let wasm = read_wasm_file(path)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Ok(RootFile {
            path: path.to_path_buf(),
            name,
            bytes: wasm.bytes,
        })
    }

    /// The path for messages.
    pub fn display(&self) -> String {
        self.path.display().to_string()
    }
}

/// The result of a solve against a lock file.
#[derive(Debug)]
pub struct Solved {
    /// The chosen graph.
    pub resolution: Resolution,
    /// The lock file consulted (and written by `resolve` / `update`).
    pub lock_path: PathBuf,
    /// Its text before this run, if it existed.
    pub old_text: Option<String>,
    /// The lock that records `resolution`.
    pub new_lock: LockFile,
    /// What changed relative to the old lock (every pin is "added" when
    /// there was none).
    pub changes: Vec<String>,
}

impl Solved {
    /// The new lock file text.
    pub fn new_text(&self) -> String {
        self.new_lock.to_toml()
    }

    /// Whether writing the lock file would change it.
    pub fn lock_differs(&self) -> bool {
        self.old_text.as_deref() != Some(self.new_text().as_str())
    }

    /// Prints a note on stderr when the lock file is out of date and this
    /// command does not write it.
    pub fn note_stale_lock(&self) {
        if self.old_text.is_some() && !self.changes.is_empty() {
            eprintln!(
                "note: the lock file `{}` is out of date ({}); `warg-depsolve resolve` updates it",
                self.lock_path.display(),
                self.changes.join("; ")
            );
        }
    }
}

/// Which pins a solve releases.
#[derive(Debug, Clone)]
pub enum Unpin {
    /// Keep every pin that still satisfies.
    Nothing,
    /// Release these packages' pins (`update PKG...`).
    Packages(Vec<PackageName>),
    /// Ignore the lock's pins altogether (`update` with no package).
    All,
}

/// Solves `root` with the lock file's pins, honouring `--locked`.
///
/// # Errors
///
/// The lock file cannot be read or parsed (naming it); `--locked` without
/// a lock file or with one that would change (naming each change); the
/// root is not a component; the solve fails (the no-solution derivation,
/// a missing package with the registry, ...).
pub fn solve(
    root: &RootFile,
    sources: &Sources,
    lock: &LockArgs,
    plugs: &PlugArgs,
    unpin: Unpin,
) -> anyhow::Result<Solved> {
    let plugs = plugs.for_root(&root.path)?;
    let lock_path = lock.path_for(&root.path);
    let old_text = match std::fs::read_to_string(&lock_path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(e)
                .with_context(|| format!("failed to read lock file `{}`", lock_path.display()))
        }
    };
    let old_lock = match &old_text {
        Some(text) => Some(
            LockFile::parse(text)
                .with_context(|| format!("cannot use lock file `{}`", lock_path.display()))?,
        ),
        None => None,
    };
    if lock.is_locked() && old_lock.is_none() {
        anyhow::bail!(
            "--locked: the lock file `{}` does not exist (run `warg-depsolve resolve {}` first)",
            lock_path.display(),
            root.display()
        );
    }
    // The pins whose digest may change: those an `update` releases.
    let releases = |package: &PackageName| match &unpin {
        Unpin::All => true,
        Unpin::Packages(names) => names.contains(package),
        Unpin::Nothing => false,
    };
    let options = SolveOptions {
        lock: match &unpin {
            Unpin::All => None,
            _ => old_lock.clone(),
        },
        unpin: match &unpin {
            Unpin::Packages(p) => p.clone(),
            _ => Vec::new(),
        },
        providers: ProviderConfig {
            interface_providers: plugs.clone(),
            ..ProviderConfig::default()
        },
    };
    // Remembered in the cache: a re-run over unchanged registries recalls
    // the solution after a `stat` per package instead of solving again.
    let resolution = warg_depsolve::resolve_remembered(
        sources.source(),
        &sources.cache().memos(),
        &root.name,
        &root.bytes,
        &options,
    )
    .with_context(|| format!("cannot resolve `{}`", root.display()))?;
    // A lock file is the user's integrity anchor: a pinned release whose
    // bytes changed is refused, as cargo refuses a changed checksum.
    if let Some(old) = &old_lock {
        for p in resolution.packages.iter().filter(|p| !releases(&p.package)) {
            if let Some((pinned, _)) = old.pinned(&p.package, &p.version) {
                if *pinned != p.digest {
                    anyhow::bail!(
                        "`{}@{}` in registry `{}` is not the release the lock file `{}` pins: \
                         it pins {}, the registry has {}. If the new bytes are intended, \
                         `warg-depsolve update {}` accepts them",
                        p.package,
                        p.version,
                        p.registry,
                        lock_path.display(),
                        pinned.to_oci(),
                        p.digest.to_oci(),
                        p.package
                    );
                }
            }
        }
    }
    let new_lock = LockFile::from_resolution(&resolution).with_plugs(&plugs);
    let empty = LockFile {
        version: warg_depsolve_solver::lock::LOCK_VERSION,
        packages: Vec::new(),
        plugs: Vec::new(),
    };
    let mut changes = old_lock.as_ref().unwrap_or(&empty).changes_to(&new_lock);
    if lock.is_locked() {
        // Every field counts, not only versions and digests.
        if changes.is_empty() && old_lock.as_ref() != Some(&new_lock) {
            changes.push("fields other than versions, digests and registries (`required-by`, `track`, `requirement`)".to_string());
        }
        if !changes.is_empty() {
            anyhow::bail!(
                "--locked: the lock file `{}` would change, and was left as it is:\n  {}",
                lock_path.display(),
                changes.join("\n  ")
            );
        }
    }
    Ok(Solved {
        resolution,
        lock_path,
        old_text,
        new_lock,
        changes,
    })
}
