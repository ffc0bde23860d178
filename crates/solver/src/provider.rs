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
use std::collections::BTreeMap;
use std::fmt;
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
use crate::resolution::{Edge, Requirement, Resolution, ResolvedPackage};

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

/// A pubgrub package.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Node {
    Root(Arc<str>),
    Track { package: PackageName, track: Track },
    Span { package: PackageName, set: Versions },
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

/// A requirement resolved to the package and versions it allows.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    package: PackageName,
    set: VersionSet,
    /// For interface imports: the interface to find among the provider's
    /// exports.
    interface: Option<InterfaceName>,
}

pub(crate) struct Provider<'a> {
    source: &'a dyn Source,
    root: &'a Root,
    config: &'a ProviderConfig,
    /// Lock pins still in force: (package, track) -> version.
    pins: Map<(PackageName, Track), Version>,
    versions: RefCell<Map<PackageName, Arc<Vec<Release>>>>,
    /// Per package, then per version: looked up without building a key.
    metadata: RefCell<Map<PackageName, Map<Version, Arc<ReleaseMetadata>>>>,
    /// What each dependency of a release resolves to, computed once per
    /// release and shared by pubgrub, the fast path and the final wiring.
    /// Keyed by the address of the release's metadata (which `metadata`
    /// keeps alive for the whole solve), 0 for the root.
    resolved: RefCell<Map<usize, Rc<[Option<Resolved>]>>>,
}

/// One dependency, resolved: its target, and the pubgrub package and
/// versions it constrains.
pub(crate) struct Resolved {
    target: Target,
    node: Node,
    set: Versions,
}

impl<'a> Provider<'a> {
    fn new(source: &'a dyn Source, root: &'a Root, options: &'a SolveOptions) -> Self {
        let pins = options
            .lock
            .iter()
            .flat_map(|lock| lock.pins())
            .filter(|(p, _, _)| !options.unpin.contains(p))
            .map(|(p, t, v)| ((p, t), v))
            .collect();
        Provider {
            source,
            root,
            config: &options.providers,
            pins,
            versions: RefCell::default(),
            metadata: RefCell::default(),
            resolved: RefCell::default(),
        }
    }

    fn versions(&self, package: &PackageName) -> Result<Arc<Vec<Release>>, SourceError> {
        if let Some(v) = self.versions.borrow().get(package) {
            return Ok(v.clone());
        }
        let mut list = self.source.versions(package)?;
        list.sort();
        let list = Arc::new(list);
        self.versions
            .borrow_mut()
            .insert(package.clone(), list.clone());
        Ok(list)
    }

    fn metadata(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<Arc<ReleaseMetadata>, SourceError> {
        if let Some(m) = self
            .metadata
            .borrow()
            .get(package)
            .and_then(|versions| versions.get(version))
        {
            return Ok(m.clone());
        }
        let m = self.source.metadata(package, version)?;
        self.metadata
            .borrow_mut()
            .entry(package.clone())
            .or_default()
            .insert(version.clone(), m.clone());
        Ok(m)
    }

    /// The dependencies of one release (the root's for the root), shared
    /// rather than copied: this runs once per choice pubgrub makes.
    fn dependencies_of(&self, node: &Node, version: &Version) -> Result<Deps<'a>, SourceError> {
        match node {
            Node::Root(_) => Ok(Deps::Root(&self.root.dependencies)),
            Node::Track { package, .. } => Ok(Deps::Release(self.metadata(package, version)?)),
            Node::Span { .. } => Ok(Deps::Root(&[])),
        }
    }

    /// Every dependency of `node` at `version`, resolved (`None` for a
    /// host import), in import order; computed once per release.
    fn resolved_deps(
        &self,
        node: &Node,
        version: &Version,
    ) -> Result<Rc<[Option<Resolved>]>, ProviderError> {
        let deps = self.dependencies_of(node, version)?;
        let key = match &deps {
            Deps::Root(_) => 0,
            Deps::Release(meta) => Arc::as_ptr(meta) as usize,
        };
        if let Some(r) = self.resolved.borrow().get(&key) {
            return Ok(r.clone());
        }
        let dependent = || self.dependent_label(node, version);
        let list = deps
            .iter()
            .map(|d| {
                let Some(target) = self.target(&dependent, d)? else {
                    return Ok(None);
                };
                let (node, set) = self.node_for(&target)?;
                Ok(Some(Resolved { target, node, set }))
            })
            .collect::<Result<Rc<[_]>, ProviderError>>()?;
        self.resolved.borrow_mut().insert(key, list.clone());
        Ok(list)
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
    fn target(
        &self,
        dependent: &dyn Fn() -> String,
        dep: &Dependency,
    ) -> Result<Option<Target>, ProviderError> {
        let missing = |package: &PackageName| {
            ProviderError::Solve(SolveError::MissingPackage {
                package: package.clone(),
                required_by: dependent(),
                import: dep.import.clone(),
                registry: self.source.registry_for(package).to_string(),
            })
        };
        let lookup = |package: &PackageName| match self.versions(package) {
            Err(SourceError::PackageNotFound { .. }) => Err(missing(package)),
            other => other.map_err(ProviderError::from),
        };
        match &dep.class {
            ImportClass::Declared(reference) | ImportClass::Legacy(reference) => {
                let package = reference.package().clone();
                let releases = lookup(&package)?;
                let set = match reference {
                    DepRef::Unlocked { range, .. } => {
                        let mut set = range.to_ranges();
                        for r in releases.iter() {
                            if !r.version.pre.is_empty()
                                && set.contains(&r.version)
                                && !range.names_prerelease_of(&r.version)
                            {
                                set = set.intersection(
                                    &VersionSet::singleton(r.version.clone()).complement(),
                                );
                            }
                        }
                        set
                    }
                    DepRef::Locked { version, .. } => VersionSet::singleton(version.clone()),
                };
                Ok(Some(Target {
                    package,
                    set,
                    interface: None,
                }))
            }
            ImportClass::Interface(interface) => {
                if self.config.is_host(interface) {
                    return Ok(None);
                }
                let (package, configured) = match self.config.provider_for(interface) {
                    Some(p) => (p.clone(), true),
                    None => (interface.package.clone(), false),
                };
                let releases = match self.versions(&package) {
                    Ok(r) => r,
                    Err(SourceError::PackageNotFound { .. }) if !configured => return Ok(None),
                    Err(SourceError::PackageNotFound { .. }) => return Err(missing(&package)),
                    Err(e) => return Err(e.into()),
                };
                self.source.prefetch(
                    &releases
                        .iter()
                        .map(|r| (package.clone(), Some(r.version.clone())))
                        .collect::<Vec<_>>(),
                );
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
                Ok(Some(Target {
                    package,
                    set,
                    interface: Some(interface.clone()),
                }))
            }
            ImportClass::Host => Ok(None),
        }
    }

    /// The pubgrub package for a target: its track package when every
    /// release it allows is on one track, else a span.
    fn node_for(&self, target: &Target) -> Result<(Node, Versions), SourceError> {
        let releases = self.versions(&target.package)?;
        let mut tracks = releases
            .iter()
            .filter(|r| target.set.contains(&r.version))
            .map(|r| Track::of(&r.version));
        let single = match tracks.next() {
            Some(first) => tracks.all(|t| t == first).then_some(first),
            // No release fits: a track package still gives the clearest
            // report when the requirement itself lies on one track.
            None => single_track_of(&target.set),
        };
        Ok(match single {
            // The range stays as the dependent wrote it (the track node
            // only has versions on its track anyway), so reports quote it.
            Some(track) => (
                Node::Track {
                    package: target.package.clone(),
                    track,
                },
                Versions(target.set.clone()),
            ),
            None => (
                Node::Span {
                    package: target.package.clone(),
                    set: Versions(target.set.clone()),
                },
                Versions(target.set.clone()),
            ),
        })
    }

    /// The fast path, tried before pubgrub (as cargo and uv do): walk the
    /// graph from the root choosing, for each pubgrub package the first
    /// time a dependency names it, what [`DependencyProvider::choose_version`]
    /// would choose in that dependency's range (the newest allowed release,
    /// or the lock's pin), and check every later dependency on it against
    /// that choice.
    ///
    /// If every check passes, the choices satisfy every dependency of every
    /// chosen release: a solution, and the one pubgrub reaches without
    /// backtracking when nothing conflicts (each package at the newest
    /// release its dependents allow). On the first conflict, missing
    /// release or source error it gives up (`None`) and pubgrub solves from
    /// scratch, so conflict reports and errors are exactly pubgrub's.
    fn newest_first(&self, root: &Node) -> Option<Map<Node, Version>> {
        let root_version = Version::new(0, 0, 0);
        let mut chosen: Map<Node, Version> = Map::default();
        chosen.insert(root.clone(), root_version.clone());
        let mut queue = vec![(root.clone(), root_version)];
        let mut next = 0;
        // Breadth first: the root's own ranges are the first to choose.
        while let Some((node, version)) = queue.get(next).cloned() {
            next += 1;
            let Ok(Dependencies::Available(deps)) = self.get_dependencies(&node, &version) else {
                return None;
            };
            for (dep, range) in deps {
                match chosen.get(&dep) {
                    Some(v) if range.contains(v) => {}
                    Some(_) => return None,
                    None => {
                        let v = self.choose_version(&dep, &range).ok()??;
                        chosen.insert(dep.clone(), v.clone());
                        queue.push((dep, v));
                    }
                }
            }
        }
        Some(chosen)
    }

    fn pinned(&self, package: &PackageName, track: Track) -> Option<&Version> {
        self.pins.get(&(package.clone(), track))
    }

    /// Highest non-yanked release in `range` (a pinned one first, even if
    /// yanked, when the range still allows it).
    fn choose(
        &self,
        package: &PackageName,
        track: Option<Track>,
        range: &Versions,
    ) -> Result<Option<Version>, SourceError> {
        let releases = self.versions(package)?;
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

/// Printable form of what an import asks for, as resolutions record it.
fn requirement_of(dep: &Dependency) -> String {
    match &dep.class {
        ImportClass::Declared(DepRef::Unlocked { range, .. })
        | ImportClass::Legacy(DepRef::Unlocked { range, .. }) => range.to_string(),
        ImportClass::Declared(DepRef::Locked { version, .. })
        | ImportClass::Legacy(DepRef::Locked { version, .. }) => format!("={version}"),
        ImportClass::Interface(interface) => interface.to_string(),
        ImportClass::Host => String::new(),
    }
}

/// The track a set of versions lies on, if it lies on one.
fn single_track_of(set: &VersionSet) -> Option<Track> {
    let (lo, _) = set.bounding_range()?;
    let track = match lo {
        std::ops::Bound::Included(v) | std::ops::Bound::Excluded(v) => Track::of(v),
        std::ops::Bound::Unbounded => return None,
    };
    set.subset_of(&track.versions()).then_some(track)
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
        let count = |package: &PackageName, track: Option<Track>| {
            self.versions
                .borrow()
                .get(package)
                .map(|l| {
                    l.iter()
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
        // Ask for the newest releases' metadata early, in one batch.
        let mut wanted = Vec::new();
        for t in resolved.iter().flatten().map(|r| &r.target) {
            if let Ok(releases) = self.versions(&t.package) {
                if let Some(r) = releases.iter().rev().find(|r| t.set.contains(&r.version)) {
                    wanted.push((t.package.clone(), Some(r.version.clone())));
                }
            }
        }
        self.source.prefetch(&wanted);
        // One constraint per pubgrub package: two imports that land on the
        // same package intersect.
        let mut merged: Vec<(Node, Versions)> = Vec::new();
        for Resolved { node, set, .. } in resolved.iter().flatten() {
            match merged.iter_mut().find(|(n, _)| n == node) {
                Some((_, existing)) => *existing = existing.intersection(set),
                None => merged.push((node.clone(), set.clone())),
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
        return build_resolution(&provider, selected);
    }
    let selected = match pubgrub::resolve(&provider, root_node, Version::new(0, 0, 0)) {
        Ok(selected) => selected,
        Err(PubGrubError::NoSolution(mut tree)) => {
            tree.collapse_no_versions();
            let known = provider
                .versions
                .borrow()
                .iter()
                .map(|(p, l)| (p.clone(), l.iter().map(|r| r.version.clone()).collect()))
                .collect();
            return Err(SolveError::NoSolution {
                report: crate::report::explain(&tree, known),
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
    let mut chosen: BTreeMap<(PackageName, Track), Version> = BTreeMap::new();
    for (node, version) in &selected {
        if let Node::Track { package, track, .. } = node {
            chosen.insert((package.clone(), *track), version.clone());
        }
    }
    let index: Map<(&PackageName, Track), usize> = chosen
        .keys()
        .enumerate()
        .map(|(i, (p, t))| ((p, *t), i))
        .collect();

    let mut packages = Vec::with_capacity(chosen.len());
    for ((package, track), version) in &chosen {
        let meta = provider.metadata(package, version)?;
        let yanked = provider
            .versions(package)?
            .iter()
            .any(|r| &r.version == version && r.yanked);
        packages.push(ResolvedPackage {
            package: package.clone(),
            track: *track,
            version: version.clone(),
            digest: meta.digest.clone(),
            registry: provider.source.registry_for(package).to_string(),
            yanked,
            required_by: Vec::new(),
            edges: Vec::new(),
        });
    }

    // Wire every import of the root and of every package to its provider.
    let mut dependents: Vec<(Option<usize>, Node, Version)> = vec![(
        None,
        Node::Root(Arc::from(provider.root.name.as_str())),
        Version::new(0, 0, 0),
    )];
    for (i, p) in packages.iter().enumerate() {
        dependents.push((
            Some(i),
            Node::Track {
                package: p.package.clone(),
                track: p.track,
            },
            p.version.clone(),
        ));
    }
    let mut root_edges = Vec::new();
    for (who, node, version) in dependents {
        let deps = provider.dependencies_of(&node, &version)?;
        let resolved = provider.resolved_deps(&node, &version).map_err(unwrap)?;
        let dependent = || provider.dependent_label(&node, &version);
        let short = match who {
            None => "root".to_string(),
            Some(i) => format!("{}@{}", packages[i].package, packages[i].version),
        };
        let mut edges = Vec::new();
        for (dep, resolved) in deps.iter().zip(resolved.iter()) {
            let Some(Resolved {
                target,
                node: pg_node,
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
            let target_index = index[&(&target.package, track)];
            let provider_pkg = &packages[target_index];
            if let ImportClass::Declared(DepRef::Locked {
                integrity, version, ..
            })
            | ImportClass::Legacy(DepRef::Locked {
                integrity, version, ..
            }) = &dep.class
            {
                check_integrity(provider, provider_pkg, version, integrity, &dependent())?;
            }
            let export = match &target.interface {
                None => None,
                Some(interface) => {
                    let meta = provider.metadata(&provider_pkg.package, &provider_pkg.version)?;
                    meta.interface_exports
                        .iter()
                        .find(|e| e.links_to(interface))
                        .map(|e| e.to_string())
                }
            };
            packages[target_index].required_by.push(Requirement {
                dependent: short.clone(),
                import: dep.import.clone(),
                requirement: requirement_of(dep),
            });
            edges.push(Edge {
                import: dep.import.clone(),
                target: target_index,
                export,
            });
        }
        match who {
            None => root_edges = edges,
            Some(i) => packages[i].edges = edges,
        }
    }
    for p in &mut packages {
        p.required_by.sort();
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
            let bytes = provider.source.fetch(&resolved.package, &resolved.digest)?;
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
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(" "),
        actual: resolved.digest.to_string(),
    })
}
