//! pubgrub's own benchmark graphs (`../shared/data/pubgrub/*.ron`, a
//! RON serialization of `OfflineDependencyProvider<u16, Ranges<u32>>`) and
//! the same graphs as a [`MemorySource`] for our solver.
//!
//! # Mapping
//!
//! Package `n` becomes `pg:p<n>`; version `k` becomes `1.k.0`, so every
//! release of a package is on canonical track 1 and the package is one
//! solver node, as it is one pubgrub package (mapping `k` to `k.0.0` would
//! make each version its own track, a different problem). A range
//! `[a, b)` becomes `{>=1.a.0 <1.b.0}`, `[a, ∞)` becomes `{>=1.a.0}`, the
//! empty range `{>=1.1.0 <1.0.0}` (well formed and empty). Some edges name
//! a package the file does not list, which pubgrub treats as a package
//! without versions; our solver would stop at once with a missing-package
//! error, so each unlisted package gets one release, `1.0.0-unlisted`, a
//! pre-release that no range names and so none may choose: the same "no
//! versions" to reason about ([`PubgrubCase::missing_targets`] counts those
//! edges).
//!
//! Resolving "every package-version pair" as pubgrub's bench does: for
//! ours, a root with one `locked-dep=<pg:p<n>@1.k.0>` import (exactly that
//! release) per pair.

use std::ops::Bound;
use std::path::{Path, PathBuf};

use pubgrub::{OfflineDependencyProvider, Ranges};
use semver::Version;
use warg_depsolve_names::{DepRange, DepRef, ImportClass, PackageName};
use warg_depsolve_registry::{Dependency, MemorySource};
use warg_depsolve_solver::Root;

/// pubgrub's provider as its benchmark files hold it.
pub type PubgrubProvider = OfflineDependencyProvider<u16, Ranges<u32>>;

/// The directory holding the four graphs: `$PUBGRUB_DATA_DIR`, else
/// `../shared/data/pubgrub` beside the repository, else the one graph
/// committed in `testdata/pubgrub`.
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PUBGRUB_DATA_DIR") {
        return PathBuf::from(dir);
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let beside = repo.join("../shared/data/pubgrub");
    if beside.is_dir() {
        beside
    } else {
        repo.join("testdata/pubgrub")
    }
}

/// The `*.ron` files of [`data_dir`], sorted; empty when the directory is
/// missing.
pub fn case_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "ron"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// One graph, in both forms.
pub struct PubgrubCase {
    /// File name.
    pub name: String,
    /// pubgrub's provider, as read.
    pub provider: PubgrubProvider,
    /// The same releases for our solver.
    pub source: MemorySource,
    /// Every (package, version) pair, sorted.
    pub pairs: Vec<(u16, u32)>,
    /// Dependency edges naming a package the file does not list.
    pub missing_targets: usize,
}

/// Why a graph cannot be mapped.
#[derive(Debug)]
pub struct LoadError(pub String);

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LoadError {}

/// `pg:p<n>`.
pub fn package_name(n: u16) -> PackageName {
    PackageName::new("pg", &format!("p{n}")).expect("pg:p<n> is a valid name")
}

/// Version `k` as `1.k.0`.
pub fn version(k: u32) -> Version {
    Version::new(1, k as u64, 0)
}

/// A single-interval range as a dependency range.
fn range_of(ranges: &Ranges<u32>) -> Result<DepRange, LoadError> {
    let mut segments = ranges.iter();
    let (lo, hi) = match (segments.next(), segments.next()) {
        // `{>=1.1.0 <1.0.0}` is well formed and empty.
        (None, _) => return Ok(DepRange::Between(version(1), version(0))),
        (Some(segment), None) => segment,
        // A union is not a dependency reference. (None of the four files
        // has one.)
        _ => return Err(LoadError(format!("range {ranges} is not one interval"))),
    };
    let lower = match lo {
        Bound::Included(a) => *a,
        Bound::Excluded(a) => a + 1,
        Bound::Unbounded => 0,
    };
    let upper = match hi {
        Bound::Included(b) => Some(b + 1),
        Bound::Excluded(b) => Some(*b),
        Bound::Unbounded => None,
    };
    Ok(match upper {
        Some(b) => DepRange::Between(version(lower), version(b)),
        None => DepRange::AtLeast(version(lower)),
    })
}

impl PubgrubCase {
    /// Reads one graph file.
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| LoadError(format!("reading {}: {e}", path.display())))?;
        let provider: PubgrubProvider = ron::de::from_str(&text)
            .map_err(|e| LoadError(format!("parsing {}: {e}", path.display())))?;
        Self::from_provider(
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            provider,
        )
    }

    /// Maps a provider to our source.
    pub fn from_provider(name: String, provider: PubgrubProvider) -> Result<Self, LoadError> {
        let mut pairs: Vec<(u16, u32)> = provider
            .packages()
            .flat_map(|p| {
                provider
                    .versions(p)
                    .into_iter()
                    .flatten()
                    .map(move |v| (*p, *v))
            })
            .collect();
        pairs.sort();
        let known: std::collections::HashSet<u16> = provider.packages().copied().collect();
        let source = MemorySource::new("memory");
        let mut missing_targets = 0;
        for &(p, v) in &pairs {
            let constraints = match pubgrub::DependencyProvider::get_dependencies(&provider, &p, &v)
            {
                Ok(pubgrub::Dependencies::Available(c)) => c,
                _ => return Err(LoadError(format!("no dependencies for {p} {v}"))),
            };
            let mut deps: Vec<(u16, &Ranges<u32>)> =
                constraints.iter().map(|(d, r)| (*d, r)).collect();
            deps.sort_by_key(|(d, _)| *d);
            let mut list = Vec::with_capacity(deps.len());
            for (d, r) in deps {
                if !known.contains(&d) {
                    missing_targets += 1;
                }
                list.push(Dependency {
                    import: format!("p{d}"),
                    class: ImportClass::Declared(DepRef::Unlocked {
                        package: package_name(d),
                        range: range_of(r)?,
                    }),
                });
            }
            source
                .add_synthetic(&package_name(p), &version(v), list)
                .map_err(|e| LoadError(e.to_string()))?;
        }
        let unlisted: Version = "1.0.0-unlisted".parse().expect("valid version");
        let mut phantoms: Vec<u16> = pairs
            .iter()
            .filter_map(|(p, v)| {
                match pubgrub::DependencyProvider::get_dependencies(&provider, p, v) {
                    Ok(pubgrub::Dependencies::Available(c)) => Some(c),
                    _ => None,
                }
            })
            .flat_map(|c| c.into_iter().map(|(d, _)| d))
            .filter(|d| !known.contains(d))
            .collect();
        phantoms.sort();
        phantoms.dedup();
        for d in phantoms {
            source
                .add_synthetic(&package_name(d), &unlisted, Vec::new())
                .map_err(|e| LoadError(e.to_string()))?;
        }
        Ok(PubgrubCase {
            name,
            provider,
            source,
            pairs,
            missing_targets,
        })
    }

    /// Our root for one pair: one import pinning exactly that release.
    pub fn root(&self, package: u16, v: u32) -> Root {
        Root::new(
            format!("p{package}@{v}"),
            vec![Dependency {
                import: format!("p{package}"),
                class: ImportClass::Declared(DepRef::Locked {
                    package: package_name(package),
                    version: version(v),
                    integrity: Vec::new(),
                }),
            }],
        )
    }
}
