//! A re-solve answered from memory: [`resolve_remembered`].
//!
//! A solve is a function of its inputs (the root's imports and types, the
//! options, this build) and of what it read from the source. The cache's
//! [`Memos`] keep each solution with the stamp of every version list and
//! release the solve read; a later solve of the same inputs, in any
//! process, takes those stamps again and, when every one is unchanged,
//! answers with the remembered solution without reading a list or a
//! release. Anything changed, or unstamped (a remote source, a file
//! changed within the last seconds), and it solves as [`resolve`] does,
//! remembering the new solution.

use semver::Version;
use serde::{Deserialize, Serialize};
use warg_depsolve_names::{DepRange, Integrity, InterfaceName, PackageName, Track};
use warg_depsolve_registry::cache::{Memos, Recorder};
use warg_depsolve_registry::Source;

use crate::resolution::{Constraint, Edge, Resolution, ResolvedPackage};
use crate::{resolve, Root, SolveError, SolveOptions};

/// [`resolve`], answered from `memos` when the same inputs were solved
/// before and nothing the solve read has changed since (see the module
/// docs); a new solution is remembered there. Errors are never
/// remembered: a failed solve is solved again next time, and its report
/// is the solver's.
///
/// ```
/// use warg_depsolve_registry::{Cache, CachedSource, Dependency, LocalRegistry};
/// use warg_depsolve_solver::{memo::resolve_remembered, Root, SolveOptions};
/// let (reg_dir, cache_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
/// let local = LocalRegistry::new("local", reg_dir.path()).with_settle_time(std::time::Duration::ZERO);
/// local.publish(&"test:add".parse().unwrap(), &"1.0.0".parse().unwrap(),
///     &wat::parse_str("(component)").unwrap()).unwrap();
/// let root = Root::new("app", vec![Dependency {
///     import: "add".into(),
///     class: warg_depsolve_names::classify("add", Some("unlocked-dep=<test:add@{>=1.0.0}>")).unwrap(),
/// }]);
/// let cache = Cache::new(cache_dir.path());
/// let first = resolve_remembered(&CachedSource::new(&local, cache.clone()), &cache.memos(), &root,
///     &SolveOptions::default()).unwrap();
/// // A new process: the same solution, and the registry is not scanned.
/// let scans = local.scans();
/// let again = resolve_remembered(&CachedSource::new(&local, cache.clone()), &cache.memos(), &root,
///     &SolveOptions::default()).unwrap();
/// assert_eq!(again, first);
/// assert_eq!(local.scans(), scans);
/// ```
///
/// # Errors
///
/// As [`resolve`].
pub fn resolve_remembered(
    source: &dyn Source,
    memos: &Memos,
    root: &Root,
    options: &SolveOptions,
) -> Result<Resolution, SolveError> {
    let key = key(source, root, options);
    if let Some(resolution) = memos
        .recall(&key, source)
        .and_then(|bytes| decode(&bytes, &root.name))
    {
        return Ok(resolution);
    }
    let recorder = Recorder::new(source);
    let resolution = resolve(&recorder, root, options)?;
    // Not kept (a read without a stamp, a cache that cannot be written):
    // the next solve of these inputs solves again, which is all it costs.
    let _ = memos.remember(&key, &recorder, &encode(&resolution));
    Ok(resolution)
}

/// The memo's name for a solve of `root` with `options` against `source`
/// by this build: a SHA-256 of everything the solve takes besides what it
/// reads (the root's name only labels reports and is set on recall).
fn key(source: &dyn Source, root: &Root, options: &SolveOptions) -> String {
    let text = format!(
        "warg-depsolve-solver {} resolve\nsource {}\nimports {}\ntypes {}\nlock {}\nunpin {:?}\nproviders {:?}\n",
        env!("CARGO_PKG_VERSION"),
        source.name(),
        serde_json::to_string(&root.dependencies).expect("dependencies serialize"),
        serde_json::to_string(&root.types).expect("types serialize"),
        options.lock.as_ref().map(|l| l.to_toml()).unwrap_or_default(),
        options.unpin,
        options.providers,
    );
    format!("resolve-{}", Integrity::sha256(text.as_bytes()).to_hex())
}

/// A [`Resolution`] as a memo keeps it.
#[derive(Serialize, Deserialize)]
struct Remembered {
    root_edges: Vec<RememberedEdge>,
    packages: Vec<RememberedPackage>,
}

#[derive(Serialize, Deserialize)]
struct RememberedPackage {
    package: PackageName,
    track: Track,
    version: Version,
    digest: Integrity,
    registry: String,
    yanked: bool,
    edges: Vec<RememberedEdge>,
}

#[derive(Serialize, Deserialize)]
struct RememberedEdge {
    import: String,
    target: usize,
    export: Option<String>,
    constraint: RememberedConstraint,
}

/// A [`Constraint`], its range by parts (no reference text to parse).
#[derive(Serialize, Deserialize)]
enum RememberedConstraint {
    Any,
    AtLeast(Version),
    Below(Version),
    Between(Version, Version),
    Req(String),
    Exact(Version),
    Interface(String),
}

fn encode(resolution: &Resolution) -> Vec<u8> {
    let edges = |edges: &[Edge]| -> Vec<RememberedEdge> {
        edges
            .iter()
            .map(|e| RememberedEdge {
                import: e.import.clone(),
                target: e.target,
                export: e.export.clone(),
                constraint: match &e.constraint {
                    Constraint::Range(range) => match range {
                        DepRange::Any => RememberedConstraint::Any,
                        DepRange::AtLeast(v) => RememberedConstraint::AtLeast(v.clone()),
                        DepRange::Below(v) => RememberedConstraint::Below(v.clone()),
                        DepRange::Between(a, b) => {
                            RememberedConstraint::Between(a.clone(), b.clone())
                        }
                        DepRange::Req(req) => RememberedConstraint::Req(req.to_string()),
                    },
                    Constraint::Exact(version) => RememberedConstraint::Exact(version.clone()),
                    Constraint::Interface(name) => {
                        RememberedConstraint::Interface(name.to_string())
                    }
                },
            })
            .collect()
    };
    let remembered = Remembered {
        root_edges: edges(&resolution.root_edges),
        packages: resolution
            .packages
            .iter()
            .map(|p| RememberedPackage {
                package: p.package.clone(),
                track: p.track,
                version: p.version.clone(),
                digest: p.digest.clone(),
                registry: p.registry.clone(),
                yanked: p.yanked,
                edges: edges(&p.edges),
            })
            .collect(),
    };
    serde_json::to_vec(&remembered).expect("a resolution serializes")
}

/// The resolution in `bytes`, for the root named `root`; `None` if it
/// does not read back whole (the caller solves again).
fn decode(bytes: &[u8], root: &str) -> Option<Resolution> {
    let remembered: Remembered = serde_json::from_slice(bytes).ok()?;
    let count = remembered.packages.len();
    let edges = |edges: Vec<RememberedEdge>| -> Option<Vec<Edge>> {
        edges
            .into_iter()
            .map(|e| {
                let constraint = match e.constraint {
                    RememberedConstraint::Any => Constraint::Range(DepRange::Any),
                    RememberedConstraint::AtLeast(v) => Constraint::Range(DepRange::AtLeast(v)),
                    RememberedConstraint::Below(v) => Constraint::Range(DepRange::Below(v)),
                    RememberedConstraint::Between(a, b) => {
                        Constraint::Range(DepRange::Between(a, b))
                    }
                    RememberedConstraint::Req(req) => {
                        Constraint::Range(DepRange::Req(req.parse().ok()?))
                    }
                    RememberedConstraint::Exact(version) => Constraint::Exact(version),
                    RememberedConstraint::Interface(name) => {
                        Constraint::Interface(InterfaceName::parse(&name)?)
                    }
                };
                (e.target < count).then_some(Edge {
                    import: e.import,
                    target: e.target,
                    export: e.export,
                    constraint,
                })
            })
            .collect()
    };
    let root_edges = edges(remembered.root_edges)?;
    let packages = remembered
        .packages
        .into_iter()
        .map(|p| {
            Some(ResolvedPackage {
                package: p.package,
                track: p.track,
                version: p.version,
                digest: p.digest,
                registry: p.registry,
                yanked: p.yanked,
                edges: edges(p.edges)?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Resolution {
        root: root.to_string(),
        root_edges,
        packages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_constraint_and_field_reads_back() {
        let version = |s: &str| s.parse::<Version>().unwrap();
        let edge = |target, constraint| Edge {
            import: format!("import-{target}"),
            target,
            export: (target == 1).then(|| "test:add/api@1.0.0".to_string()),
            constraint,
        };
        let constraints = [
            Constraint::Range(DepRange::Any),
            Constraint::Range(DepRange::AtLeast(version("1.0.0"))),
            Constraint::Range(DepRange::Below(version("2.0.0-0"))),
            Constraint::Range(DepRange::Between(version("1.2.0"), version("2.0.0"))),
            Constraint::Range(DepRange::Req("^1.2, <1.9".parse().unwrap())),
            Constraint::Exact(version("1.0.0+build.7")),
            Constraint::Interface(InterfaceName::parse("test:add/api@1.0.0").unwrap()),
        ];
        let package = |name: &str, v: &str, yanked, edges| ResolvedPackage {
            package: name.parse().unwrap(),
            track: Track::of(&version(v)),
            version: version(v),
            digest: Integrity::sha256(name.as_bytes()),
            registry: "local".into(),
            yanked,
            edges,
        };
        let resolution = Resolution {
            root: "app".into(),
            root_edges: constraints.iter().cloned().map(|c| edge(0, c)).collect(),
            packages: vec![
                package(
                    "test:a",
                    "0.2.1-rc.1",
                    false,
                    constraints.iter().cloned().map(|c| edge(1, c)).collect(),
                ),
                package("test:b", "1.0.0", true, Vec::new()),
            ],
        };
        let back = decode(&encode(&resolution), "app").unwrap();
        assert_eq!(back, resolution);
        assert_eq!(decode(&encode(&resolution), "other").unwrap().root, "other");
        // An edge to a package the memo does not hold: not read back.
        let mut broken = resolution;
        broken.root_edges[0].target = 2;
        assert!(decode(&encode(&broken), "app").is_none());
    }
}
