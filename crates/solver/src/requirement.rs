//! What each import requires: the package, the pubgrub package ([`Node`])
//! and the versions it allows, worked out once per release and shared by
//! pubgrub, the fast path and the wiring of the resolution.
//!
//! # Which versions a requirement allows
//!
//! The range of the reference, minus every available pre-release the range
//! does not name (a pre-release is allowed only where the range names a
//! pre-release of the same major.minor.patch), computed per requirement so
//! that pubgrub's reasoning stays exact. Yanked releases are never chosen
//! unless the lock pins them (a choice rule of the provider, not of the
//! requirement).
//!
//! An interface import (`ns:pkg/iface@1.2.0` without a reference) allows
//! the releases of its provider package that export the interface on the
//! same track; the provider is `ns:pkg` unless [`ProviderConfig`] names
//! another, and an interface nobody in the registry exports is the host's.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use semver::Version;
use warg_depsolve_names::{DepRef, ImportClass, InterfaceName, PackageName, Track, VersionSet};
use warg_depsolve_registry::{Dependency, ReleaseMetadata, SourceError};

use crate::catalog::Catalog;
use crate::display::Versions;
use crate::error::SolveError;
use crate::node::{Node, Pkg};
use crate::root::Root;

/// How interface imports map to provider packages.
#[derive(Clone, Debug, Default)]
pub struct ProviderConfig {
    /// `(pattern, package)`: an interface import whose name matches the
    /// pattern is provided by that package. Patterns are an interface name
    /// without version (`acme:kv/store`), a package (`acme:kv`), or a
    /// namespace wildcard (`acme:*`). First match wins.
    pub interface_providers: Vec<(String, PackageName)>,
    /// Patterns (same forms) of interface imports that are always host
    /// imports and never looked up. `wasi:*` is always host.
    pub host: Vec<String>,
}

impl ProviderConfig {
    fn provider_for(&self, interface: &InterfaceName) -> Option<&PackageName> {
        self.interface_providers
            .iter()
            .find(|(pattern, _)| pattern_matches(pattern, interface))
            .map(|(_, p)| p)
    }

    fn is_host(&self, interface: &InterfaceName) -> bool {
        interface.is_wasi() || self.host.iter().any(|p| pattern_matches(p, interface))
    }
}

fn pattern_matches(pattern: &str, interface: &InterfaceName) -> bool {
    let package = interface.package.to_string();
    match pattern.strip_suffix(":*") {
        Some(ns) => interface.package.namespace() == ns,
        None => pattern == package || pattern == format!("{package}/{}", interface.interface),
    }
}

/// One dependency, resolved: the package and versions it allows, and the
/// pubgrub package it constrains.
pub(crate) struct Resolved {
    pub(crate) package: Pkg,
    pub(crate) node: Node,
    /// The versions the requirement allows (pre-releases it does not name
    /// removed).
    pub(crate) set: Versions,
    /// For interface imports: the interface to find among the provider's
    /// exports (boxed: most imports are not interfaces, and resolved
    /// dependencies are moved around in bulk).
    pub(crate) interface: Option<Box<InterfaceName>>,
}

/// The dependencies of one release, resolved, in import order (`None` for
/// a host import).
pub(crate) type ResolvedDeps = Rc<[Option<Resolved>]>;

/// The dependencies of a release or of the root, borrowed or shared.
pub(crate) enum Deps<'a> {
    Root(&'a [Dependency]),
    Release(Arc<ReleaseMetadata>),
}

impl Deps<'_> {
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, Dependency> {
        match self {
            Deps::Root(deps) => deps.iter(),
            Deps::Release(meta) => meta.dependencies.iter(),
        }
    }
}

/// The requirements of one solve: the root's and every release's
/// dependencies, resolved once each (a release's kept in the catalog, the
/// root's here).
pub(crate) struct Requirements<'a> {
    root: &'a Root,
    config: &'a ProviderConfig,
    root_resolved: RefCell<Option<ResolvedDeps>>,
}

impl<'a> Requirements<'a> {
    /// The requirements of solving `root` with `config`.
    pub(crate) fn new(root: &'a Root, config: &'a ProviderConfig) -> Self {
        Requirements {
            root,
            config,
            root_resolved: RefCell::default(),
        }
    }

    /// The component being solved for.
    pub(crate) fn root(&self) -> &'a Root {
        self.root
    }

    /// The dependencies of one release (the root's for the root), shared
    /// rather than copied.
    pub(crate) fn dependencies_of(
        &self,
        catalog: &Catalog<'_, ResolvedDeps>,
        node: &Node,
        version: &Version,
    ) -> Result<Deps<'a>, SourceError> {
        match node {
            Node::Root(_) => Ok(Deps::Root(&self.root.dependencies)),
            Node::Track { package, .. } => Ok(Deps::Release(catalog.metadata(package, version)?)),
            Node::Span { .. } => Ok(Deps::Root(&[])),
        }
    }

    /// Every dependency of `node` at `version`, resolved; computed once per
    /// release. The first time, the newest allowed release of each target
    /// is prefetched, so a networked source fetches one level in one batch.
    pub(crate) fn of(
        &self,
        catalog: &Catalog<'_, ResolvedDeps>,
        node: &Node,
        version: &Version,
    ) -> Result<ResolvedDeps, SolveError> {
        let kept = match node {
            Node::Root(_) => self.root_resolved.borrow().clone(),
            Node::Track { package, .. } => catalog.derived(package, version),
            Node::Span { .. } => return Ok(Rc::from([])),
        };
        if let Some(r) = kept {
            return Ok(r);
        }
        let deps = self.dependencies_of(catalog, node, version)?;
        let dependent = || self.dependent_label(node, version);
        let list = deps
            .iter()
            .map(|d| self.resolve_dependency(catalog, &dependent, d))
            .collect::<Result<ResolvedDeps, SolveError>>()?;
        catalog.prefetch_newest(list.iter().flatten().map(|r| (&r.package, &r.set.0)));
        match node {
            Node::Root(_) => *self.root_resolved.borrow_mut() = Some(list.clone()),
            Node::Track { package, .. } => catalog.keep_derived(package, version, list.clone()),
            Node::Span { .. } => {}
        }
        Ok(list)
    }

    /// How errors and requirements name a dependent: built only when one
    /// is reported, never on the solving path.
    pub(crate) fn dependent_label(&self, node: &Node, version: &Version) -> String {
        match node {
            Node::Root(_) => format!("root component `{}`", self.root.name),
            Node::Track { package, .. } | Node::Span { package, .. } => {
                format!("{package}@{version}")
            }
        }
    }

    /// What one import requires, or `None` for a host import.
    /// `dependent` names the importer in errors (called only on error).
    fn resolve_dependency(
        &self,
        catalog: &Catalog<'_, ResolvedDeps>,
        dependent: &dyn Fn() -> String,
        dep: &Dependency,
    ) -> Result<Option<Resolved>, SolveError> {
        let missing = |package: &PackageName| SolveError::MissingPackage {
            package: package.clone(),
            required_by: dependent(),
            import: dep.import.clone(),
            registry: catalog.source().registry_for(package).to_string(),
        };
        let (package, set, interface) = match &dep.class {
            ImportClass::Declared(reference) | ImportClass::Legacy(reference) => {
                let package = catalog.intern(reference.package());
                let releases = match catalog.releases(&package) {
                    Err(SourceError::PackageNotFound { .. }) => return Err(missing(&package)),
                    other => other?,
                };
                let set = match reference {
                    DepRef::Unlocked { range, .. } => {
                        let mut set = range.to_ranges();
                        for r in releases.iter().filter(|r| !r.version.pre.is_empty()) {
                            if set.contains(&r.version) && !range.names_prerelease_of(&r.version) {
                                set = set.intersection(
                                    &VersionSet::singleton(r.version.clone()).complement(),
                                );
                            }
                        }
                        set
                    }
                    DepRef::Locked { version, .. } => VersionSet::singleton(version.clone()),
                };
                (package, set, None)
            }
            ImportClass::Interface(interface) => {
                if self.config.is_host(interface) {
                    return Ok(None);
                }
                let (package, configured) = match self.config.provider_for(interface) {
                    Some(p) => (catalog.intern(p), true),
                    None => (catalog.intern(&interface.package), false),
                };
                let releases = match catalog.releases(&package) {
                    Ok(r) => r,
                    Err(SourceError::PackageNotFound { .. }) if !configured => return Ok(None),
                    Err(SourceError::PackageNotFound { .. }) => return Err(missing(&package)),
                    Err(e) => return Err(e.into()),
                };
                catalog.prefetch_all(&package);
                let mut set = VersionSet::empty();
                // Pre-release providers only when the import itself names a
                // pre-release of the same major.minor.patch.
                let names_pre = |v: &Version| {
                    interface.version.as_ref().is_some_and(|iv| {
                        !iv.pre.is_empty()
                            && (iv.major, iv.minor, iv.patch) == (v.major, v.minor, v.patch)
                    })
                };
                for r in releases
                    .iter()
                    .filter(|r| r.version.pre.is_empty() || names_pre(&r.version))
                {
                    let meta = catalog.metadata(&package, &r.version)?;
                    if meta.interface_exports.iter().any(|e| e.links_to(interface)) {
                        set = set.union(&VersionSet::singleton(r.version.clone()));
                    }
                }
                if set.is_empty() && !configured {
                    // The package exists but exports no such interface: the
                    // host must provide it.
                    return Ok(None);
                }
                (package, set, Some(Box::new(interface.clone())))
            }
            ImportClass::Host => return Ok(None),
        };
        let node = node_for(catalog, &package, &set);
        Ok(Some(Resolved {
            package,
            node,
            set: Versions(set),
            interface,
        }))
    }
}

/// The pubgrub package for a requirement: its track package when every
/// release it allows is on one track, else a span. The range stays as
/// the dependent wrote it (the track node only has versions on its
/// track anyway), so reports quote it.
fn node_for(catalog: &Catalog<'_, ResolvedDeps>, package: &Pkg, set: &VersionSet) -> Node {
    // A range inside one track (the usual caret range) needs no look
    // at the releases.
    let single = single_track_of(set).or_else(|| {
        catalog
            .with_releases(package, |releases| {
                let mut tracks = releases
                    .iter()
                    .filter(|r| set.contains(&r.version))
                    .map(|r| Track::of(&r.version));
                let first = tracks.next()?;
                tracks.all(|t| t == first).then_some(first)
            })
            .flatten()
    });
    match single {
        Some(track) => Node::Track {
            package: package.clone(),
            track,
        },
        None => Node::Span {
            package: package.clone(),
            set: Box::new(Versions(set.clone())),
        },
    }
}

/// The track a set of versions lies on, if it lies on one.
fn single_track_of(set: &VersionSet) -> Option<Track> {
    use std::ops::Bound;
    let (lo, hi) = set.bounding_range()?;
    let track = match lo {
        Bound::Included(v) | Bound::Excluded(v) => Track::of(v),
        Bound::Unbounded => return None,
    };
    // Inside the track's bounds: compared directly rather than by set
    // algebra, which allocates.
    let track_set = track.versions();
    let (_, track_hi) = track_set.bounding_range()?;
    let inside = match (hi, track_hi) {
        (_, Bound::Unbounded) => true,
        (Bound::Unbounded, _) => false,
        (Bound::Included(h), Bound::Excluded(t)) => h < t,
        (Bound::Included(h) | Bound::Excluded(h), Bound::Included(t))
        | (Bound::Excluded(h), Bound::Excluded(t)) => h <= t,
    };
    inside.then_some(track)
}
