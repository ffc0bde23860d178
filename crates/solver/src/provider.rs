//! The pubgrub dependency provider over a [`Source`], and [`resolve`].
//!
//! # How packages become pubgrub packages
//!
//! pubgrub sees three kinds of package ([`Node`]):
//!
//! - the root component;
//! - `Track(ns:pkg, track)`: one package on one canonical track. Its versions
//!   are the package's releases on that track. Two dependents on one track
//!   share one version; two tracks are two packages, so `acme:kv` 1.x and
//!   2.x can both be chosen.
//! - `Span(ns:pkg, set)`: a requirement whose versions lie on several tracks
//!   (`{>=1.5.0 <3.0.0}` when 1.x and 2.x releases exist). Its versions are
//!   the package's releases in the set; choosing one makes the span depend on
//!   that release's track package at exactly that version. pubgrub backtracks
//!   over the span like over any package, so a cross-track range still finds
//!   a solution whenever one exists.
//!
//! # Which versions a requirement allows
//!
//! The range of the reference, minus every available pre-release the range
//! does not name (a pre-release is allowed only where the range names a
//! pre-release of the same major.minor.patch), computed per requirement so
//! that pubgrub's reasoning stays exact. Yanked releases are never chosen
//! unless the lock pins them (a choice rule, in `choose_version`).

use std::cell::RefCell;
use std::cmp::Reverse;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::sync::Arc;

use pubgrub::{
    Dependencies, DependencyConstraints, DependencyProvider, Map, PackageResolutionStatistics,
    PubGrubError, VersionSet as _,
};
use semver::Version;
use warg_depsolve_names::{DepRef, ImportClass, InterfaceName, PackageName, Track, VersionSet};
use warg_depsolve_registry::{Dependency, Release, ReleaseMetadata, Source, SourceError};

use crate::display::Versions;
use crate::lock::LockFile;
use crate::resolution::{Constraint, Edge, Resolution, ResolvedPackage};

/// The component being resolved: a name for reports and its registry
/// imports.
#[derive(Clone, Debug)]
pub struct Root {
    /// Shown in reports (`meet.wat`).
    pub name: String,
    /// The root's registry dependencies (host imports need not be listed).
    pub dependencies: Vec<Dependency>,
}

impl Root {
    /// A root from a name and its dependencies.
    pub fn new(name: impl Into<String>, dependencies: Vec<Dependency>) -> Self {
        Root {
            name: name.into(),
            dependencies,
        }
    }

    /// The root component in `bytes`, named `name` in reports: its
    /// registry dependencies, read the way a release's are (a root is not a
    /// registry release, so it has no package name or version).
    ///
    /// # Errors
    ///
    /// The bytes are not a component, or an import's dependency reference
    /// is malformed (naming the import).
    pub fn from_component(
        name: impl Into<String>,
        bytes: &[u8],
    ) -> Result<Self, warg_depsolve_registry::ExtractError> {
        Ok(Root::new(
            name,
            warg_depsolve_registry::metadata::dependencies(bytes)?,
        ))
    }
}

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

/// Why a solve failed.
#[derive(Debug, thiserror::Error)]
pub enum SolveError {
    /// No choice of versions satisfies every requirement.
    #[error("no solution:\n{report}")]
    NoSolution {
        /// The derivation, in package-and-range terms.
        report: String,
    },
    /// A dependency names a package the registry does not have.
    #[error("{required_by} imports `{import}` from package `{package}`, which registry `{registry}` does not have")]
    MissingPackage {
        /// The missing package.
        package: PackageName,
        /// `root component \`x\`` or `ns:pkg@version`.
        required_by: String,
        /// The import that names it.
        import: String,
        /// Where it was looked up.
        registry: String,
    },
    /// A locked reference's integrity does not match the registry's bytes.
    #[error("{required_by} pins `{package}@{version}` with integrity {expected}, but the registry's release has digest {actual}")]
    DigestMismatch {
        /// The package.
        package: PackageName,
        /// The version.
        version: Version,
        /// The dependent.
        required_by: String,
        /// The integrity the reference demands.
        expected: String,
        /// The digest of the registry's release.
        actual: String,
    },
    /// The chosen graph has a cycle, which cannot be instantiated.
    #[error("dependency cycle: {}", path.join(" -> "))]
    Cycle {
        /// The packages on the cycle, first repeated at the end.
        path: Vec<String>,
    },
    /// The source failed (unreachable, corrupt, offline and not cached...).
    #[error(transparent)]
    Source(#[from] SourceError),
}

/// A package name interned for one solve.
///
/// Every map and every [`Node`] the solver builds is keyed by packages, and
/// pubgrub clones and hashes its packages on every decision; a handle makes
/// that a reference count and a `u32` instead of two `String`s. Equality and
/// hashing are by id: one solve hands out one id per name.
#[derive(Clone)]
pub(crate) struct Pkg {
    id: u32,
    name: Rc<PackageName>,
}

impl PartialEq for Pkg {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Pkg {}

impl Hash for Pkg {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state)
    }
}

impl std::ops::Deref for Pkg {
    type Target = PackageName;
    fn deref(&self) -> &PackageName {
        &self.name
    }
}

impl fmt::Debug for Pkg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.name, f)
    }
}

impl fmt::Display for Pkg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.name, f)
    }
}

/// A pubgrub package.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Node {
    Root(Arc<str>),
    Track {
        package: Pkg,
        track: Track,
    },
    /// The set is boxed: spans are rare and nodes are moved and hashed
    /// on every decision.
    Span {
        package: Pkg,
        set: Box<Versions>,
    },
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Root(name) => write!(f, "`{name}`"),
            Node::Track { package, track } => write!(f, "{package} (track {track})"),
            Node::Span { package, .. } => write!(f, "{package}"),
        }
    }
}

/// Errors inside the provider; turned into [`SolveError`] by [`resolve`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProviderError {
    #[error(transparent)]
    Solve(#[from] SolveError),
}

impl From<SourceError> for ProviderError {
    fn from(e: SourceError) -> Self {
        ProviderError::Solve(SolveError::Source(e))
    }
}

/// One dependency, resolved: the package and versions it allows, and the
/// pubgrub package it constrains.
pub(crate) struct Resolved {
    package: Pkg,
    node: Node,
    /// The versions the requirement allows (pre-releases it does not name
    /// removed).
    set: Versions,
    /// For interface imports: the interface to find among the provider's
    /// exports (boxed: most imports are not interfaces, and resolved
    /// dependencies are moved around in bulk).
    interface: Option<Box<InterfaceName>>,
}

/// The dependencies of one release, resolved, in import order (`None` for
/// a host import).
type ResolvedDeps = Rc<[Option<Resolved>]>;

/// What the solve knows of one package, indexed by its [`Pkg`] id.
struct PackageData {
    pkg: Pkg,
    /// The source's releases, sorted; `None` until first asked.
    releases: Option<Arc<[Release]>>,
    /// Per release, at the same index as `releases`.
    slots: Vec<ReleaseSlot>,
}

#[derive(Default)]
struct ReleaseSlot {
    metadata: Option<Arc<ReleaseMetadata>>,
    resolved: Option<ResolvedDeps>,
}

/// `Version::cmp`, numbers first: comparing pre-release and build
/// identifiers is its slow part, and only ties need it.
fn compare(a: &Version, b: &Version) -> std::cmp::Ordering {
    (a.major, a.minor, a.patch)
        .cmp(&(b.major, b.minor, b.patch))
        .then_with(|| {
            let plain = |v: &Version| v.pre.is_empty() && v.build.is_empty();
            if plain(a) && plain(b) {
                std::cmp::Ordering::Equal
            } else {
                a.cmp(b)
            }
        })
}

/// Sorted releases where those that differ only in build metadata
/// (`1.2.0+a`, `1.2.0+b`) are marked yanked: SemVer gives build metadata
/// no precedence, so no range can prefer one of them, and the solver never
/// ranks by it. Like yanked releases, they are still used where a lock
/// pins one. (Registries here refuse to publish such a pair; another
/// tool's registry may hold one.) The list is copied only when there is a
/// tie.
fn without_build_ties(list: Arc<[Release]>) -> Arc<[Release]> {
    let precedence = |v: &Version| (v.major, v.minor, v.patch, v.pre.clone());
    let tied = |i: usize| {
        let p = precedence(&list[i].version);
        (i > 0 && precedence(&list[i - 1].version) == p)
            || (i + 1 < list.len() && precedence(&list[i + 1].version) == p)
    };
    if !(1..list.len()).any(|i| {
        let (a, b) = (&list[i - 1].version, &list[i].version);
        (a.major, a.minor, a.patch) == (b.major, b.minor, b.patch) && a.pre == b.pre
    }) {
        return list;
    }
    (0..list.len())
        .map(|i| Release {
            version: list[i].version.clone(),
            yanked: list[i].yanked || tied(i),
        })
        .collect()
}

/// The position of `version` in sorted releases.
fn index_of(releases: &[Release], version: &Version) -> Option<usize> {
    releases
        .binary_search_by(|r| compare(&r.version, version))
        .ok()
}

pub(crate) struct Provider<'a> {
    source: &'a dyn Source,
    root: &'a Root,
    config: &'a ProviderConfig,
    /// Lock pins still in force: (package id, track) -> version.
    pins: Map<(u32, Track), Version>,
    ids: RefCell<Map<Rc<PackageName>, u32>>,
    packages: RefCell<Vec<PackageData>>,
    root_resolved: RefCell<Option<ResolvedDeps>>,
}

impl<'a> Provider<'a> {
    fn new(source: &'a dyn Source, root: &'a Root, options: &'a SolveOptions) -> Self {
        let mut provider = Provider {
            source,
            root,
            config: &options.providers,
            pins: Map::default(),
            ids: RefCell::default(),
            packages: RefCell::default(),
            root_resolved: RefCell::default(),
        };
        provider.pins = options
            .lock
            .iter()
            .flat_map(|lock| lock.pins())
            .filter(|(p, _, _)| !options.unpin.contains(p))
            .map(|(p, t, v)| ((provider.intern(&p).id, t), v))
            .collect();
        provider
    }

    /// The solve's handle for a package name.
    fn intern(&self, name: &PackageName) -> Pkg {
        if let Some(&id) = self.ids.borrow().get(name) {
            return self.packages.borrow()[id as usize].pkg.clone();
        }
        let mut packages = self.packages.borrow_mut();
        let pkg = Pkg {
            id: packages.len() as u32,
            name: Rc::new(name.clone()),
        };
        self.ids.borrow_mut().insert(pkg.name.clone(), pkg.id);
        packages.push(PackageData {
            pkg: pkg.clone(),
            releases: None,
            slots: Vec::new(),
        });
        pkg
    }

    /// The package's releases, sorted, asked of the source once per solve.
    fn releases(&self, pkg: &Pkg) -> Result<Arc<[Release]>, SourceError> {
        if let Some(r) = &self.packages.borrow()[pkg.id as usize].releases {
            return Ok(r.clone());
        }
        let mut list = self.source.versions(&pkg.name)?.releases;
        // Sources list in order as a rule; checking is cheaper than sorting.
        if !list.is_sorted_by(|a, b| compare(&a.version, &b.version).is_le()) {
            let mut sorted = list.to_vec();
            sorted.sort();
            list = sorted.into();
        }
        list = without_build_ties(list);
        let mut packages = self.packages.borrow_mut();
        let data = &mut packages[pkg.id as usize];
        data.slots = (0..list.len()).map(|_| ReleaseSlot::default()).collect();
        data.releases = Some(list.clone());
        Ok(list)
    }

    /// Runs `f` on the releases of a package whose releases are loaded
    /// (every package a node names is), without copying them.
    fn with_releases<R>(&self, pkg: &Pkg, f: impl FnOnce(&[Release]) -> R) -> Option<R> {
        let packages = self.packages.borrow();
        packages[pkg.id as usize].releases.as_deref().map(f)
    }

    /// The slot of a listed release, if it is listed.
    fn slot<R>(
        &self,
        pkg: &Pkg,
        version: &Version,
        f: impl FnOnce(&mut ReleaseSlot) -> R,
    ) -> Option<R> {
        let mut packages = self.packages.borrow_mut();
        let data = &mut packages[pkg.id as usize];
        let i = index_of(data.releases.as_deref()?, version)?;
        Some(f(&mut data.slots[i]))
    }

    fn metadata(&self, pkg: &Pkg, version: &Version) -> Result<Arc<ReleaseMetadata>, SourceError> {
        if let Some(Some(m)) = self.slot(pkg, version, |s| s.metadata.clone()) {
            return Ok(m);
        }
        let m = self.source.metadata(&pkg.name, version)?;
        self.slot(pkg, version, |s| s.metadata = Some(m.clone()));
        Ok(m)
    }

    /// The dependencies of one release (the root's for the root), shared
    /// rather than copied.
    fn dependencies_of(&self, node: &Node, version: &Version) -> Result<Deps<'a>, SourceError> {
        match node {
            Node::Root(_) => Ok(Deps::Root(&self.root.dependencies)),
            Node::Track { package, .. } => Ok(Deps::Release(self.metadata(package, version)?)),
            Node::Span { .. } => Ok(Deps::Root(&[])),
        }
    }

    /// Every dependency of `node` at `version`, resolved; computed once per
    /// release and shared by pubgrub, the fast path and the final wiring.
    /// The first time, the newest allowed release of each target is
    /// prefetched, so a networked source fetches one level in one batch.
    fn resolved_deps(&self, node: &Node, version: &Version) -> Result<ResolvedDeps, ProviderError> {
        let cached = match node {
            Node::Root(_) => self.root_resolved.borrow().clone(),
            Node::Track { package, .. } => self
                .slot(package, version, |s| s.resolved.clone())
                .flatten(),
            Node::Span { .. } => return Ok(Rc::from([])),
        };
        if let Some(r) = cached {
            return Ok(r);
        }
        let deps = self.dependencies_of(node, version)?;
        let dependent = || self.dependent_label(node, version);
        let list = deps
            .iter()
            .map(|d| self.resolve_dependency(&dependent, d))
            .collect::<Result<ResolvedDeps, ProviderError>>()?;
        self.prefetch(&list);
        match node {
            Node::Root(_) => *self.root_resolved.borrow_mut() = Some(list.clone()),
            Node::Track { package, .. } => {
                self.slot(package, version, |s| s.resolved = Some(list.clone()));
            }
            Node::Span { .. } => {}
        }
        Ok(list)
    }

    /// Asks the source for the metadata of the newest release each
    /// dependency allows, in one batch (a no-op for local sources).
    fn prefetch(&self, deps: &[Option<Resolved>]) {
        let packages = self.packages.borrow();
        let wanted: Vec<_> = deps
            .iter()
            .flatten()
            .filter_map(|r| {
                let data = &packages[r.package.id as usize];
                let releases = data.releases.as_deref()?;
                let newest = releases
                    .iter()
                    .rposition(|rel| r.set.0.contains(&rel.version))?;
                data.slots[newest].metadata.is_none().then(|| {
                    (
                        (*r.package.name).clone(),
                        Some(releases[newest].version.clone()),
                    )
                })
            })
            .collect();
        drop(packages);
        if let (false, Some(hints)) = (wanted.is_empty(), self.source.hints()) {
            hints.prefetch(&wanted);
        }
    }

    /// How errors and requirements name a dependent: built only when one
    /// is reported, never on the solving path.
    fn dependent_label(&self, node: &Node, version: &Version) -> String {
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
        dependent: &dyn Fn() -> String,
        dep: &Dependency,
    ) -> Result<Option<Resolved>, ProviderError> {
        let missing = |package: &PackageName| {
            ProviderError::Solve(SolveError::MissingPackage {
                package: package.clone(),
                required_by: dependent(),
                import: dep.import.clone(),
                registry: self.source.registry_for(package).to_string(),
            })
        };
        let (package, set, interface) = match &dep.class {
            ImportClass::Declared(reference) | ImportClass::Legacy(reference) => {
                let package = self.intern(reference.package());
                let releases = match self.releases(&package) {
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
                    Some(p) => (self.intern(p), true),
                    None => (self.intern(&interface.package), false),
                };
                let releases = match self.releases(&package) {
                    Ok(r) => r,
                    Err(SourceError::PackageNotFound { .. }) if !configured => return Ok(None),
                    Err(SourceError::PackageNotFound { .. }) => return Err(missing(&package)),
                    Err(e) => return Err(e.into()),
                };
                if let Some(hints) = self.source.hints() {
                    hints.prefetch(
                        &releases
                            .iter()
                            .map(|r| ((*package.name).clone(), Some(r.version.clone())))
                            .collect::<Vec<_>>(),
                    );
                }
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
                    let meta = self.metadata(&package, &r.version)?;
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
        let node = self.node_for(&package, &set);
        Ok(Some(Resolved {
            package,
            node,
            set: Versions(set),
            interface,
        }))
    }

    /// The pubgrub package for a requirement: its track package when every
    /// release it allows is on one track, else a span. The range stays as
    /// the dependent wrote it (the track node only has versions on its
    /// track anyway), so reports quote it.
    fn node_for(&self, package: &Pkg, set: &VersionSet) -> Node {
        // A range inside one track (the usual caret range) needs no look
        // at the releases.
        let single = single_track_of(set).or_else(|| {
            self.with_releases(package, |releases| {
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

    /// The fast path, tried before pubgrub (as cargo and uv do): walk the
    /// graph from the root breadth first, choosing for each pubgrub package,
    /// the first time a dependency names it, what
    /// [`DependencyProvider::choose_version`] would choose (the newest
    /// allowed release, or the lock's pin), and check every later
    /// dependency on it against that choice.
    ///
    /// A walk that finds conflicts (a later dependency that excludes the
    /// choice) records each excluding range as a hint for that package and
    /// walks again, choosing within the hints: the upper-bounded pins that
    /// make most real conflicts are met on the second walk. A walk without
    /// conflicts is a solution: every dependency of every chosen release is
    /// satisfied. It is accepted only if every hint came from a release in
    /// it, so no package is held back by a requirement the solution does
    /// not have: each package is then at the newest release (pins and
    /// yanks aside) that all its dependents in the solution allow. Otherwise
    /// (too many walks, a stale hint, a missing release, an error) pubgrub
    /// solves from scratch, so conflict reports and errors are exactly
    /// pubgrub's.
    fn newest_first(&self, root: &Node) -> Option<Map<Node, Version>> {
        /// Walks before pubgrub takes over.
        const WALKS: usize = 6;
        let mut hints: Map<Node, Hint> = Map::default();
        for _ in 0..WALKS {
            let (chosen, conflicts) = self.walk(root, &hints)?;
            if conflicts.is_empty() {
                let genuine = hints
                    .values()
                    .flat_map(|h| &h.from)
                    .all(|(node, version)| chosen.get(node) == Some(version));
                return genuine.then_some(chosen);
            }
            for (node, set, from) in conflicts {
                let hint = hints.entry(node).or_insert_with(|| Hint {
                    set: Versions::full(),
                    from: Vec::new(),
                });
                hint.set = hint.set.intersection(&set);
                hint.from.push(from);
            }
        }
        None
    }

    /// One walk of [`Self::newest_first`]: the choices, and the conflicts
    /// found (package, the range that excluded its choice, who asked).
    /// `None` when a package has nothing to choose or the source fails.
    #[allow(clippy::type_complexity)]
    fn walk(
        &self,
        root: &Node,
        hints: &Map<Node, Hint>,
    ) -> Option<(Map<Node, Version>, Vec<(Node, Versions, (Node, Version))>)> {
        let root_version = Version::new(0, 0, 0);
        let mut chosen: Map<Node, Version> = Map::default();
        chosen.insert(root.clone(), root_version.clone());
        let mut queue = vec![(root.clone(), root_version)];
        let mut conflicts = Vec::new();
        let mut next = 0;
        let mut visit = |dependent: &(Node, Version),
                         dep: &Node,
                         range: &Versions,
                         queue: &mut Vec<(Node, Version)>|
         -> Option<()> {
            match chosen.get(dep) {
                Some(v) if range.contains(v) => {}
                Some(_) => conflicts.push((dep.clone(), range.clone(), dependent.clone())),
                None => {
                    let v = match hints.get(dep) {
                        Some(hint) => self.choose_version(dep, &range.intersection(&hint.set)),
                        None => self.choose_version(dep, range),
                    };
                    let v = v.ok()??;
                    chosen.insert(dep.clone(), v.clone());
                    queue.push((dep.clone(), v));
                }
            }
            Some(())
        };
        while let Some(dependent) = queue.get(next).cloned() {
            next += 1;
            let (node, version) = &dependent;
            if let Node::Span { package, .. } = node {
                let track = Node::Track {
                    package: package.clone(),
                    track: Track::of(version),
                };
                visit(
                    &dependent,
                    &track,
                    &Versions::singleton(version.clone()),
                    &mut queue,
                )?;
                continue;
            }
            let resolved = self.resolved_deps(node, version).ok()?;
            for r in resolved.iter().flatten() {
                visit(&dependent, &r.node, &r.set, &mut queue)?;
            }
        }
        Some((chosen, conflicts))
    }

    fn pinned(&self, package: &Pkg, track: Track) -> Option<&Version> {
        self.pins.get(&(package.id, track))
    }

    /// Highest non-yanked release in `range` (a pinned one first, even if
    /// yanked, when the range still allows it).
    fn choose(
        &self,
        package: &Pkg,
        track: Option<Track>,
        range: &Versions,
    ) -> Result<Option<Version>, SourceError> {
        let releases = self.releases(package)?;
        let on_track = |r: &&Release| track.is_none_or(|t| Track::of(&r.version) == t);
        if !self.pins.is_empty() {
            let pinned = releases
                .iter()
                .filter(on_track)
                .filter(|r| range.0.contains(&r.version))
                .filter(|r| self.pinned(package, Track::of(&r.version)) == Some(&r.version))
                .map(|r| r.version.clone())
                .max();
            if pinned.is_some() {
                return Ok(pinned);
            }
        }
        // Releases are sorted: the first match from the top is the newest.
        Ok(releases
            .iter()
            .rev()
            .filter(on_track)
            .find(|r| !r.yanked && range.0.contains(&r.version))
            .map(|r| r.version.clone()))
    }

    /// Every release the solve listed, by package (for reports).
    fn known_releases(&self) -> std::collections::HashMap<PackageName, Vec<Version>> {
        self.packages
            .borrow()
            .iter()
            .filter_map(|d| {
                let releases = d.releases.as_ref()?;
                Some((
                    (*d.pkg.name).clone(),
                    releases.iter().map(|r| r.version.clone()).collect(),
                ))
            })
            .collect()
    }
}

/// A fast-path hint: the versions a package was required to be in by
/// dependents that excluded an earlier choice, and who they were.
struct Hint {
    set: Versions,
    from: Vec<(Node, Version)>,
}

/// The dependencies of a release or of the root, borrowed or shared.
pub(crate) enum Deps<'a> {
    Root(&'a [Dependency]),
    Release(Arc<ReleaseMetadata>),
}

impl Deps<'_> {
    fn iter(&self) -> std::slice::Iter<'_, Dependency> {
        match self {
            Deps::Root(deps) => deps.iter(),
            Deps::Release(meta) => meta.dependencies.iter(),
        }
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

impl DependencyProvider for Provider<'_> {
    type P = Node;
    type V = Version;
    type VS = Versions;
    type M = String;
    type Priority = (u32, Reverse<usize>);
    type Err = ProviderError;

    fn prioritize(
        &self,
        package: &Node,
        range: &Versions,
        stats: &PackageResolutionStatistics,
    ) -> Self::Priority {
        // Most conflicts first, then fewest candidates (pubgrub's and uv's
        // advice: decide the constrained packages early).
        let count = |package: &Pkg, track: Option<Track>| {
            self.with_releases(package, |releases| {
                releases
                    .iter()
                    .filter(|r| track.is_none_or(|t| Track::of(&r.version) == t))
                    .filter(|r| range.0.contains(&r.version))
                    .count()
            })
            .unwrap_or(usize::MAX)
        };
        let candidates = match package {
            Node::Root(_) => 0,
            Node::Track { package, track } => count(package, Some(*track)),
            Node::Span { package, .. } => count(package, None),
        };
        (stats.conflict_count(), Reverse(candidates))
    }

    fn choose_version(
        &self,
        package: &Node,
        range: &Versions,
    ) -> Result<Option<Version>, ProviderError> {
        Ok(match package {
            Node::Root(_) => Some(Version::new(0, 0, 0)),
            Node::Track { package, track, .. } => self.choose(package, Some(*track), range)?,
            Node::Span { package, .. } => self.choose(package, None, range)?,
        })
    }

    fn get_dependencies(
        &self,
        node: &Node,
        version: &Version,
    ) -> Result<Dependencies<Node, Versions, String>, ProviderError> {
        if let Node::Span { package, .. } = node {
            let track = Node::Track {
                package: package.clone(),
                track: Track::of(version),
            };
            return Ok(Dependencies::Available(DependencyConstraints::from_iter([
                (track, Versions::singleton(version.clone())),
            ])));
        }
        let resolved = self.resolved_deps(node, version)?;
        // One constraint per pubgrub package: two imports that land on the
        // same package intersect.
        let mut merged: Vec<(Node, Versions)> = Vec::with_capacity(resolved.len());
        for Resolved { node, set, .. } in resolved.iter().flatten() {
            match merged.iter_mut().find(|(n, _)| n == node) {
                Some((_, existing)) => *existing = existing.intersection(set),
                None => merged.push((node.clone(), set.clone())),
            }
        }
        // A release that imports its own track at another version can
        // never be chosen (a track holds one version). pubgrub is not told
        // such a dependency: it answered it with a "solution" that left the
        // import unresolved, and wiring it panicked (found by fuzzing).
        if let Some((_, set)) = merged.iter().find(|(n, _)| n == node) {
            if !set.contains(version) {
                return Ok(Dependencies::Unavailable(format!(
                    "it imports its own track at {set}, and a track holds one version"
                )));
            }
        }
        Ok(Dependencies::Available(DependencyConstraints::from_iter(
            merged,
        )))
    }
}

/// Solves `root` against `source`.
///
/// Returns the chosen graph, or a [`SolveError`]: a readable derivation
/// when nothing fits, a missing package naming who wanted it, a cycle with
/// its path, or the source's own error.
pub fn resolve(
    source: &dyn Source,
    root: &Root,
    options: &SolveOptions,
) -> Result<Resolution, SolveError> {
    let provider = Provider::new(source, root, options);
    let root_node = Node::Root(Arc::from(root.name.as_str()));
    if let Some(selected) = provider.newest_first(&root_node) {
        match build_resolution(&provider, selected) {
            // The newest choices close a cycle; pubgrub may find others
            // that do not (and reports the cycle itself if it cannot).
            Err(SolveError::Cycle { .. }) => {}
            done => return done,
        }
    }
    let selected = match pubgrub::resolve(&provider, root_node, Version::new(0, 0, 0)) {
        Ok(selected) => selected,
        Err(PubGrubError::NoSolution(mut tree)) => {
            tree.collapse_no_versions();
            return Err(SolveError::NoSolution {
                report: crate::report::explain(&tree, provider.known_releases()),
            });
        }
        Err(PubGrubError::ErrorChoosingVersion { source, .. })
        | Err(PubGrubError::ErrorRetrievingDependencies { source, .. })
        | Err(PubGrubError::ErrorInShouldCancel(source)) => {
            let ProviderError::Solve(e) = source;
            return Err(e);
        }
    };
    build_resolution(&provider, selected.into_iter().collect())
}

fn build_resolution(
    provider: &Provider<'_>,
    selected: Map<Node, Version>,
) -> Result<Resolution, SolveError> {
    let unwrap = |e: ProviderError| {
        let ProviderError::Solve(e) = e;
        e
    };
    // One entry per (package, track), sorted by name then track.
    let mut chosen: Vec<(&Pkg, Track, &Version)> = selected
        .iter()
        .filter_map(|(node, version)| match node {
            Node::Track { package, track } => Some((package, *track, version)),
            _ => None,
        })
        .collect();
    chosen.sort_unstable_by(|a, b| (&**a.0, a.1).cmp(&(&**b.0, b.1)));
    let index: Map<(u32, Track), usize> = chosen
        .iter()
        .enumerate()
        .map(|(i, (p, t, _))| ((p.id, *t), i))
        .collect();

    let mut packages = Vec::with_capacity(chosen.len());
    for &(package, track, version) in &chosen {
        let meta = provider.metadata(package, version)?;
        let yanked = provider
            .with_releases(package, |releases| {
                index_of(releases, version).is_some_and(|i| releases[i].yanked)
            })
            .unwrap_or(false);
        packages.push(ResolvedPackage {
            package: (*package.name).clone(),
            track,
            version: version.clone(),
            digest: meta.digest.clone(),
            registry: provider.source.registry_for(package).to_string(),
            yanked,
            edges: Vec::new(),
        });
    }

    // Wire every import of the root and of every package to its provider.
    let root_node = Node::Root(Arc::from(provider.root.name.as_str()));
    let root_version = Version::new(0, 0, 0);
    let mut root_edges = Vec::new();
    for who in std::iter::once(None).chain((0..chosen.len()).map(Some)) {
        let (node, version) = match who {
            None => (root_node.clone(), &root_version),
            Some(i) => (
                Node::Track {
                    package: chosen[i].0.clone(),
                    track: chosen[i].1,
                },
                chosen[i].2,
            ),
        };
        let deps = provider.dependencies_of(&node, version)?;
        let resolved = provider.resolved_deps(&node, version).map_err(unwrap)?;
        let dependent = || provider.dependent_label(&node, version);
        let mut edges = Vec::with_capacity(resolved.len());
        for (dep, resolved) in deps.iter().zip(resolved.iter()) {
            let Some(Resolved {
                package,
                node: pg_node,
                interface,
                ..
            }) = resolved
            else {
                continue;
            };
            let track = match pg_node {
                Node::Track { track, .. } => *track,
                Node::Span { .. } => Track::of(
                    selected
                        .get(pg_node)
                        .expect("every span in a solution has a version"),
                ),
                Node::Root(_) => unreachable!("nothing depends on the root"),
            };
            let target_index = index[&(package.id, track)];
            if let ImportClass::Declared(DepRef::Locked {
                integrity, version, ..
            })
            | ImportClass::Legacy(DepRef::Locked {
                integrity, version, ..
            }) = &dep.class
            {
                check_integrity(
                    provider,
                    &packages[target_index],
                    version,
                    integrity,
                    &dependent(),
                )?;
            }
            let export = match interface {
                None => None,
                Some(interface) => {
                    let meta = provider.metadata(package, chosen[target_index].2)?;
                    meta.interface_exports
                        .iter()
                        .find(|e| e.links_to(interface))
                        .map(|e| e.to_string())
                }
            };
            let Some(constraint) = Constraint::of(dep) else {
                continue;
            };
            edges.push(Edge {
                import: dep.import.clone(),
                target: target_index,
                export,
                constraint,
            });
        }
        match who {
            None => root_edges = edges,
            Some(i) => packages[i].edges = edges,
        }
    }
    let resolution = Resolution {
        root: provider.root.name.clone(),
        root_edges,
        packages,
    };
    if let Some(path) = crate::graph::find_cycle(&resolution) {
        return Err(SolveError::Cycle { path });
    }
    Ok(resolution)
}

fn check_integrity(
    provider: &Provider<'_>,
    resolved: &ResolvedPackage,
    version: &Version,
    integrity: &[warg_depsolve_names::Integrity],
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
            let bytes = provider
                .source
                .fetch(&resolved.package, version, &resolved.digest)?;
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
