//! [`resolve`]: the fast path, then pubgrub if needed, then the chosen
//! releases wired into a [`Resolution`] (every import to its provider,
//! locked references' integrity checked, cycles refused).

use std::cell::RefCell;
use std::sync::Arc;

use pubgrub::{Map, PubGrubError};
use semver::Version;
use warg_depsolve_names::{DepRef, ImportClass, Integrity, PackageName, Track, VersionSet};
use warg_depsolve_registry::Source;

use crate::catalog::Catalog;
use crate::error::SolveError;
use crate::fast_path::newest_first;
use crate::lock::LockFile;
use crate::node::{Node, Pkg};
use crate::provider::Provider;
use crate::requirement::{Deps, Kept, ProviderConfig, Wire};
use crate::resolution::{Edge, Resolution, ResolvedPackage};
use crate::root::Root;
use crate::typecheck::{self, Exclusions, ImporterKey};
use crate::version::Ver;

/// Options of one solve.
#[derive(Clone, Debug, Default)]
pub struct SolveOptions {
    /// A previous lock: its pins are kept wherever they still satisfy.
    pub lock: Option<LockFile>,
    /// Packages whose pins are released (`update PKG...`).
    pub unpin: Vec<PackageName>,
    /// Interface-to-provider mapping.
    pub providers: ProviderConfig,
}

/// Solves `root` against `source`: [`Solver::resolve`] on a solver made
/// for this one solve.
///
/// Returns the chosen graph, or a [`SolveError`]: a readable derivation
/// when nothing fits, a missing package naming who wanted it, a cycle with
/// its path, or the source's own error.
///
/// The solve type-checks: a provider whose exports do not satisfy what an
/// importer's import uses (the component model's subtype rules, on the
/// types the release metadata keeps) is not a candidate for that import,
/// so the solver backtracks to releases that link. When nothing fits, the
/// report ends with the mismatches that excluded candidates ("acme:kv@1.2.0's
/// `store` has no `delete`, which acme:cache@1.1.0 imports as
/// `acme:kv/store@1.4.0`"). Releases or roots whose types are unknown are
/// not checked.
pub fn resolve(
    source: &dyn Source,
    root: &Root,
    options: &SolveOptions,
) -> Result<Resolution, SolveError> {
    Solver::new(source).resolve(root, options)
}

/// A solver over one source that keeps what it has read and worked out
/// from one solve to the next: each release's metadata and its imports
/// interpreted (the package and pubgrub package each names, the versions
/// its range allows). That is an index of interpreted releases, as uv
/// keeps one; a caller that solves many roots against one source (a
/// loader, a build of many components, a benchmark) pays for each release
/// once instead of once per solve.
///
/// Every solve still asks the source for the release list of each package
/// it needs, once. What was kept for a package is used only while the
/// source hands out the very same list (the shared list of
/// [`Listing`](warg_depsolve_registry::Listing), which in-memory sources
/// and caches keep until the package changes); a new release or a yank
/// drops it, and everything worked out from it. Releases themselves are
/// immutable in every registry: a release's metadata is read once per
/// list, and a release replaced in place anyway is caught where its bytes
/// are fetched, by their digest. A solve under other
/// [`ProviderConfig`] than the last drops every interpreted import.
///
/// Answers are exactly those of [`resolve`] (which is a fresh `Solver`
/// per solve). A solver is used from one thread at a time (it is neither
/// `Send` nor `Sync`).
///
/// ```
/// use warg_depsolve_registry::{MemorySource, Dependency};
/// use warg_depsolve_names::{classify, PackageName};
/// use warg_depsolve_solver::{Root, SolveOptions, Solver};
///
/// let dep = |import: &str, reference: &str| Dependency {
///     import: import.to_string(),
///     class: classify(import, Some(reference)).unwrap(),
/// };
/// let source = MemorySource::new("memory");
/// let base: PackageName = "test:base".parse().unwrap();
/// for v in ["1.0.0", "1.2.0", "2.0.0"] {
///     source.add_synthetic(&base, &v.parse().unwrap(), vec![]).unwrap();
/// }
/// let solver = Solver::new(&source);
/// let one = Root::new("one", vec![dep("base", "unlocked-dep=<test:base@{>=1.0.0 <2.0.0}>")]);
/// let two = Root::new("two", vec![dep("base", "unlocked-dep=<test:base@{>=2.0.0}>")]);
/// let options = SolveOptions::default();
/// assert_eq!(solver.resolve(&one, &options).unwrap().packages[0].version.to_string(), "1.2.0");
/// assert_eq!(solver.resolve(&two, &options).unwrap().packages[0].version.to_string(), "2.0.0");
/// // A release published between solves is seen by the next one.
/// source.add_synthetic(&base, &"1.3.0".parse().unwrap(), vec![]).unwrap();
/// assert_eq!(solver.resolve(&one, &options).unwrap().packages[0].version.to_string(), "1.3.0");
/// ```
pub struct Solver<'s> {
    catalog: Catalog<'s, Kept>,
    /// The provider configuration the kept interpretations were made
    /// under.
    config: RefCell<Option<ProviderConfig>>,
}

impl<'s> Solver<'s> {
    /// A solver over `source` that has read nothing yet.
    pub fn new(source: &'s dyn Source) -> Self {
        Solver {
            catalog: Catalog::new(source),
            config: RefCell::default(),
        }
    }

    /// Solves `root`, reusing what earlier solves of this solver read and
    /// worked out where it still holds. Answers as [`resolve`] does.
    pub fn resolve(&self, root: &Root, options: &SolveOptions) -> Result<Resolution, SolveError> {
        self.catalog.begin_solve();
        {
            let mut config = self.config.borrow_mut();
            if config.as_ref() != Some(&options.providers) {
                self.catalog.forget_derived();
                *config = Some(options.providers.clone());
            }
        }
        let pins: Vec<_> = options
            .lock
            .iter()
            .flat_map(|lock| lock.pins())
            .filter(|(p, _, _)| !options.unpin.contains(p))
            .collect();
        let mut excluded = Exclusions::default();
        loop {
            let provider = Provider::new(
                &self.catalog,
                root,
                &options.providers,
                pins.iter().cloned(),
                &excluded,
            );
            let (resolution, chosen) = match solve_once(&provider, root) {
                Err(SolveError::NoSolution { report }) => {
                    let mut reasons = provider.requirements().type_reasons();
                    reasons.extend(excluded.reasons().iter().cloned());
                    return Err(SolveError::NoSolution {
                        report: with_type_reasons(report, &reasons),
                    });
                }
                other => other?,
            };
            let found = refine(&provider, &resolution, &chosen, &excluded)?;
            drop(provider);
            if found.is_empty() {
                return Ok(resolution);
            }
            for (importer, import, versions, reasons) in found {
                excluded.add(importer, &import, versions, reasons);
            }
        }
    }
}

/// The report with the type mismatches that excluded candidates, if any.
fn with_type_reasons(report: String, reasons: &[String]) -> String {
    if reasons.is_empty() {
        return report;
    }
    let mut out = report.trim_end().to_string();
    out.push_str("\n\nCandidates excluded because their types do not fit:");
    for reason in reasons {
        out.push_str("\n  - ");
        out.push_str(reason);
    }
    out
}

/// Checks every declared dependency of `resolution` (interface imports
/// were checked when their requirements were worked out). For each that
/// does not link, the releases in the import's range that do not satisfy
/// it, with why: none when the resolution links (else solve again with
/// them excluded).
fn refine(
    provider: &Provider<'_>,
    resolution: &Resolution,
    chosen: &[Chosen],
    excluded: &Exclusions,
) -> Result<Vec<Refinement>, SolveError> {
    let catalog = provider.catalog();
    let requirements = provider.requirements();
    let root = requirements.root();
    let mut found = Vec::new();
    let importers = std::iter::once(None).chain(resolution.packages.iter().zip(chosen).map(Some));
    for importer in importers {
        // Only importers whose types are known are checked.
        let (node, version, edges, deps, types) = match importer {
            None => {
                let Some(types) = root.types.as_ref() else {
                    continue;
                };
                let node = Node::Root(Arc::from(root.name.as_str()));
                let deps = Deps::Root(&root.dependencies);
                (node, Ver::zero(), &resolution.root_edges, deps, types)
            }
            Some((p, (pkg, ver, kept))) => {
                // Read from the record: most releases' types are unknown,
                // and their metadata is then not touched.
                if !kept.typed {
                    continue;
                }
                let Some(types) = kept.meta.types.as_ref() else {
                    continue;
                };
                let node = Node::Track {
                    package: pkg.clone(),
                    track: p.track,
                };
                let deps = Deps::Release(kept.meta.clone());
                (node, *ver, &p.edges, deps, types)
            }
        };
        let version = &version;
        let key = importer.map(|(p, _)| (p.package.clone(), p.version.clone()));
        let label = || requirements.dependent_label(&node, version);
        for edge in edges.iter().filter(|e| e.export.is_none()) {
            let target = &resolution.packages[edge.target];
            let provided = &chosen[edge.target].2.meta;
            let label_of = |v: &Version| format!("{}@{v}", target.package);
            let fits = typecheck::check(
                Some(types),
                &edge.import,
                provided.types.as_ref(),
                None,
                &|| label_of(&target.version),
                &label,
            );
            if fits.is_ok() || excluded.refined(&key, &edge.import) {
                continue;
            }
            // Every release the import allows, checked at once.
            let resolved = provider.resolved_deps(&node, version)?;
            let Some(allowed) = deps
                .iter()
                .zip(resolved.iter())
                .find(|(d, _)| d.import == edge.import)
                .and_then(|(_, r)| r.as_ref())
            else {
                continue;
            };
            let package = &allowed.package;
            let releases = catalog.releases(package)?;
            let candidates: Vec<&Version> = releases
                .iter()
                .map(|r| &r.version)
                .filter(|v| allowed.set.contains_version(v))
                .collect();
            if let Some(hints) = catalog.source().hints() {
                let wanted: Vec<_> = candidates
                    .iter()
                    .map(|v| (PackageName::clone(package), Some((*v).clone())))
                    .collect();
                hints.prefetch(&wanted);
            }
            let mut versions = VersionSet::empty();
            let mut reasons = Vec::new();
            for v in candidates {
                let meta = catalog.metadata(package, &Ver::of(v))?;
                let fits = typecheck::check(
                    Some(types),
                    &edge.import,
                    meta.types.as_ref(),
                    None,
                    &|| label_of(v),
                    &label,
                );
                if let Err(reason) = fits {
                    versions = versions.union(&VersionSet::singleton(v.clone()));
                    reasons.push(reason);
                }
            }
            found.push((key.clone(), edge.import.clone(), versions, reasons));
        }
    }
    Ok(found)
}

/// Releases a type check excludes for one import of one importer, and why.
type Refinement = (ImporterKey, String, VersionSet, Vec<String>);

/// A resolved package as the solve knows it: its handle, version and
/// kept release, at the same index as in [`Resolution::packages`].
type Chosen = (Pkg, Ver, Kept);

/// One round: the fast path, else pubgrub; the chosen releases wired.
fn solve_once(
    provider: &Provider<'_>,
    root: &Root,
) -> Result<(Resolution, Vec<Chosen>), SolveError> {
    let root_node = Node::Root(Arc::from(root.name.as_str()));
    if let Some(selected) = newest_first(provider, &root_node)? {
        match build_resolution(provider, &root_node, selected) {
            // The newest choices close a cycle; pubgrub may find others
            // that do not (and reports the cycle itself if it cannot).
            Err(SolveError::Cycle { .. }) => {}
            done => return done,
        }
    }
    let selected = match pubgrub::resolve(provider, root_node.clone(), Ver::zero()) {
        Ok(selected) => selected,
        Err(PubGrubError::NoSolution(mut tree)) => {
            tree.collapse_no_versions();
            // The releases of the packages the report names, and no others.
            let packages = tree.packages();
            let known = provider
                .catalog()
                .known_releases(packages.iter().filter_map(|node| match node {
                    Node::Track { package, .. } | Node::Span { package, .. } => Some(&**package),
                    Node::Root(_) => None,
                }));
            return Err(SolveError::NoSolution {
                report: crate::report::explain(&tree, known),
            });
        }
        Err(PubGrubError::ErrorChoosingVersion { source, .. })
        | Err(PubGrubError::ErrorRetrievingDependencies { source, .. })
        | Err(PubGrubError::ErrorInShouldCancel(source)) => return Err(source),
    };
    build_resolution(provider, &root_node, selected.into_iter().collect())
}

/// The resolution of the chosen releases: one package per (package,
/// track), sorted by name then track, and every import of the root and of
/// every package wired to its provider.
fn build_resolution(
    provider: &Provider<'_>,
    root_node: &Node,
    selected: Map<Node, Ver>,
) -> Result<(Resolution, Vec<Chosen>), SolveError> {
    let catalog = provider.catalog();
    let requirements = provider.requirements();
    let root = requirements.root();
    // One entry per (package, track), sorted by name then track. Each
    // name is read once for a key that settles most comparisons (names
    // live apart, and a comparison that reads two was a cache miss each).
    let mut keyed: Vec<(NameKey, (&Pkg, Track, &Ver))> = selected
        .iter()
        .filter_map(|(node, version)| match node {
            Node::Track { package, track } => Some((
                (prefix(package.namespace()), prefix(package.name())),
                (package, *track, version),
            )),
            _ => None,
        })
        .collect();
    keyed.sort_unstable_by(|(ka, a), (kb, b)| {
        ka.cmp(kb).then_with(|| (&**a.0, a.1).cmp(&(&**b.0, b.1)))
    });
    let chosen: Vec<(&Pkg, Track, &Ver)> = keyed.into_iter().map(|(_, c)| c).collect();
    let index: Map<(u32, Track), usize> = chosen
        .iter()
        .enumerate()
        .map(|(i, (p, t, _))| ((p.id(), *t), i))
        .collect();

    let mut packages = Vec::with_capacity(chosen.len());
    let mut kept = Vec::with_capacity(chosen.len());
    for &(package, track, version) in &chosen {
        let release = provider.release(package, version)?;
        packages.push(ResolvedPackage {
            package: PackageName::clone(package),
            track,
            version: version.version().into_owned(),
            digest: release.digest.clone(),
            registry: catalog.source().registry_for(package).to_string(),
            yanked: release.yanked,
            edges: Vec::new(),
        });
        kept.push(release);
    }

    // Wire every import of the root and of every package to its provider,
    // from the records laid out for it (no release's metadata is read but
    // for a locked reference's digests or an interface's export).
    let root_version = Ver::zero();
    let root_resolved = provider.resolved_deps(root_node, &root_version)?;
    let root_wiring = Wire::all(&Deps::Root(&root.dependencies), &root_resolved);
    let mut root_edges = Vec::new();
    for who in std::iter::once(None).chain((0..chosen.len()).map(Some)) {
        let (wiring, resolved) = match who {
            None => (&root_wiring, &root_resolved),
            Some(i) => (&kept[i].wiring, &kept[i].deps),
        };
        let dependent = || match who {
            None => requirements.dependent_label(root_node, &root_version),
            Some(i) => {
                let node = Node::Track {
                    package: chosen[i].0.clone(),
                    track: chosen[i].1,
                };
                requirements.dependent_label(&node, chosen[i].2)
            }
        };
        let mut edges = Vec::with_capacity(wiring.len());
        for wire in wiring.iter() {
            let track = match wire.track {
                Some(track) => track,
                None => {
                    let node = &resolved[wire.index as usize]
                        .as_ref()
                        .expect("a wired import is resolved")
                        .node;
                    Track::of(
                        &selected
                            .get(node)
                            .expect("every span in a solution has a version")
                            .version(),
                    )
                }
            };
            let target_index = index[&(wire.package, track)];
            if wire.locked {
                let dep = match who {
                    None => &root.dependencies[wire.index as usize],
                    Some(i) => &kept[i].meta.dependencies[wire.index as usize],
                };
                if let ImportClass::Declared(DepRef::Locked {
                    integrity, version, ..
                })
                | ImportClass::Legacy(DepRef::Locked {
                    integrity, version, ..
                }) = &dep.class
                {
                    check_integrity(
                        catalog.source(),
                        &packages[target_index],
                        version,
                        integrity,
                        &dependent(),
                    )?;
                }
            }
            let export = match wire.interface {
                false => None,
                true => resolved[wire.index as usize]
                    .as_ref()
                    .and_then(|r| r.interface.as_ref())
                    .and_then(|interface| {
                        kept[target_index]
                            .meta
                            .interface_exports
                            .iter()
                            .find(|e| e.links_to(interface))
                    })
                    .map(|e| e.to_string()),
            };
            edges.push(Edge {
                import: wire.import.clone(),
                target: target_index,
                export,
                constraint: wire.constraint.clone(),
            });
        }
        match who {
            None => root_edges = edges,
            Some(i) => packages[i].edges = edges,
        }
    }
    let resolution = Resolution {
        root: root.name.clone(),
        root_edges,
        packages,
    };
    if let Some(path) = crate::graph::find_cycle(&resolution) {
        return Err(SolveError::Cycle { path });
    }
    let chosen = chosen
        .into_iter()
        .zip(kept)
        .map(|((pkg, _, ver), kept)| (pkg.clone(), *ver, kept))
        .collect();
    Ok((resolution, chosen))
}

/// A package name's sort key: [`prefix`] of its namespace and of its name.
type NameKey = (u64, u64);

/// The first eight bytes of `label`, zero-padded, as a number: labels
/// whose prefixes differ compare as their prefixes do (a label holds no
/// zero byte, so a shorter one sorts first, as `str` order has it).
fn prefix(label: &str) -> u64 {
    let mut bytes = [0u8; 8];
    let n = label.len().min(8);
    bytes[..n].copy_from_slice(&label.as_bytes()[..n]);
    u64::from_be_bytes(bytes)
}

/// Whether the chosen release of a locked reference has the integrity
/// the reference demands: by the digest the source gave, or, when the
/// reference names only other algorithms, by hashing its bytes.
fn check_integrity(
    source: &dyn Source,
    resolved: &ResolvedPackage,
    version: &Version,
    integrity: &[Integrity],
    dependent: &str,
) -> Result<(), SolveError> {
    if integrity.is_empty() {
        return Ok(());
    }
    let sha256_ok = integrity.contains(&resolved.digest);
    let ok = sha256_ok || {
        // Only digests of other algorithms: hash the bytes themselves.
        let others: Vec<_> = integrity
            .iter()
            .filter(|i| i.algorithm != resolved.digest.algorithm)
            .collect();
        !others.is_empty() && {
            let bytes = source.fetch(&resolved.package, version, &resolved.digest)?;
            others.iter().any(|i| i.matches(&bytes))
        }
    };
    if ok {
        return Ok(());
    }
    Err(SolveError::DigestMismatch {
        package: resolved.package.clone(),
        version: version.clone(),
        required_by: dependent.to_string(),
        expected: integrity
            .iter()
            .map(|i| i.to_oci())
            .collect::<Vec<_>>()
            .join(" "),
        actual: resolved.digest.to_oci(),
    })
}
