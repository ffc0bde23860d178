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

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use pubgrub::Map;

use semver::Version;
use warg_depsolve_names::{
    DepRange, DepRef, ImportClass, Integrity, InterfaceName, PackageName, Track, VersionSet,
};
use warg_depsolve_registry::{Dependency, ReleaseMetadata, SourceError};
use warg_depsolve_types::ComponentTypes;

use crate::catalog::Catalog;
use crate::display::Versions;
use crate::error::SolveError;
use crate::node::{Node, Pkg};
use crate::resolution::Constraint;
use crate::root::Root;
use crate::typecheck::{self, Exclusions};
use crate::version::Ver;

/// How interface imports map to provider packages.
///
/// ```
/// use warg_depsolve_solver::{Plug, ProviderConfig};
/// let config = ProviderConfig {
///     interface_providers: vec![Plug::parse("acme:kv/store=acme:redis-kv@^1.2").unwrap()],
///     ..ProviderConfig::default()
/// };
/// assert_eq!(config.interface_providers[0].package.to_string(), "acme:redis-kv");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProviderConfig {
    /// Plugs: an interface import whose name matches a plug's pattern is
    /// provided by its package (within its range, if it has one). First
    /// match wins.
    pub interface_providers: Vec<Plug>,
    /// Patterns (same forms) of interface imports that are always host
    /// imports and never looked up. `wasi:*` is always host.
    pub host: Vec<String>,
}

/// One plug (`wac plug` in our terms): interface imports matching
/// `pattern` are provided by `package` instead of the package their name
/// implies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plug {
    /// An interface name without version (`acme:kv/store`), a package's
    /// interfaces (`acme:kv/*`, or `acme:kv`), or a namespace wildcard
    /// (`acme:*`).
    pub pattern: String,
    /// The package that provides them.
    pub package: PackageName,
    /// The releases of `package` allowed (a semver requirement such as
    /// `^1.2`); any release when `None`.
    pub range: Option<semver::VersionReq>,
}

impl Plug {
    /// Parses `PATTERN=PACKAGE[@RANGE]` (the command line's `--plug`),
    /// `RANGE` a semver requirement (`^1.2`, `>=1.0, <3`, `1.4.0`).
    ///
    /// ```
    /// use warg_depsolve_solver::Plug;
    /// let plug = Plug::parse("acme:kv/*=acme:redis-kv").unwrap();
    /// assert_eq!((plug.pattern.as_str(), plug.range), ("acme:kv/*", None));
    /// assert!(Plug::parse("acme:kv/store").unwrap_err().contains("PATTERN=PACKAGE"));
    /// ```
    pub fn parse(text: &str) -> Result<Self, String> {
        let (pattern, provider) = text
            .split_once('=')
            .ok_or_else(|| format!("`{text}` is not a plug: expected PATTERN=PACKAGE[@RANGE]"))?;
        Self::new(pattern.trim(), provider.trim())
    }

    /// A plug of `pattern` to `provider` (`PACKAGE[@RANGE]`).
    pub fn new(pattern: &str, provider: &str) -> Result<Self, String> {
        validate_pattern(pattern)?;
        let (package, range) = match provider.split_once('@') {
            Some((p, r)) => (p, Some(r)),
            None => (provider, None),
        };
        let package: PackageName = package
            .parse()
            .map_err(|e| format!("`{package}` is not a package name ({e})"))?;
        let range = match range {
            Some(r) => Some(semver::VersionReq::parse(r).map_err(|e| {
                format!("`{r}` is not a version requirement ({e}); e.g. `^1.2` or `>=1.0, <3`")
            })?),
            None => None,
        };
        Ok(Plug {
            pattern: pattern.to_string(),
            package,
            range,
        })
    }
}

impl Plug {
    /// Whether this plug applies to the interface import `interface`.
    pub fn matches(&self, interface: &InterfaceName) -> bool {
        pattern_matches(&self.pattern, interface)
    }
}

impl std::fmt::Display for Plug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.pattern, self.package)?;
        if let Some(req) = &self.range {
            write!(f, "@{req}")?;
        }
        Ok(())
    }
}

/// A plug pattern is `ns:pkg/iface`, `ns:pkg/*`, `ns:pkg` or `ns:*`.
fn validate_pattern(pattern: &str) -> Result<(), String> {
    let bad = |why: &str| {
        Err(format!(
            "`{pattern}` is not an interface pattern ({why}): expected `ns:pkg/iface`, `ns:pkg/*` or `ns:*`"
        ))
    };
    if let Some(ns) = pattern.strip_suffix(":*") {
        return match warg_depsolve_names::package::validate_label(ns) {
            Ok(()) => Ok(()),
            Err(_) => bad("not a namespace"),
        };
    }
    let (package, interface) = match pattern.split_once('/') {
        Some((p, i)) => (p, Some(i)),
        None => (pattern, None),
    };
    if package.parse::<PackageName>().is_err() {
        return bad("no package name");
    }
    match interface {
        None | Some("*") => Ok(()),
        Some(i) if warg_depsolve_names::package::validate_label(i).is_ok() => Ok(()),
        Some(_) => bad("not an interface name"),
    }
}

impl ProviderConfig {
    fn provider_for(&self, interface: &InterfaceName) -> Option<&Plug> {
        self.interface_providers
            .iter()
            .find(|plug| pattern_matches(&plug.pattern, interface))
    }

    fn is_host(&self, interface: &InterfaceName) -> bool {
        interface.is_wasi() || self.host.iter().any(|p| pattern_matches(p, interface))
    }
}

fn pattern_matches(pattern: &str, interface: &InterfaceName) -> bool {
    let package = interface.package.to_string();
    if let Some(ns) = pattern.strip_suffix(":*") {
        return interface.package.namespace() == ns;
    }
    let pattern = pattern.strip_suffix("/*").unwrap_or(pattern);
    pattern == package || pattern == format!("{package}/{}", interface.interface)
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

/// What the catalog keeps per release: its metadata and dependencies,
/// resolved, and what they were resolved from, so that a later solve can
/// tell whether they still hold. Shared: one lookup hands out all of it.
pub(crate) type Kept = Rc<Derived>;

/// See [`Kept`].
pub(crate) struct Derived {
    /// The release's dependencies, resolved, in import order.
    pub(crate) deps: ResolvedDeps,
    /// The release's metadata.
    pub(crate) meta: Arc<ReleaseMetadata>,
    /// Whether the release is yanked (kept with the rest: all of it is
    /// dropped when the package's list changes).
    pub(crate) yanked: bool,
    /// The metadata's digest, and whether it knows the release's types:
    /// with `wiring`, all that building a resolution reads of a release,
    /// so that it touches no metadata (the metadata of each chosen
    /// release, read once per solve, was most of the wiring's time).
    pub(crate) digest: Integrity,
    pub(crate) typed: bool,
    /// The imports to wire, laid out for it ([`Wire::all`]).
    pub(crate) wiring: Box<[Wire]>,
    /// Every package the imports name (the plug's for a plugged
    /// interface), with its list version when they were resolved: each
    /// answer depends on that package's releases (pre-releases left out,
    /// tracks, interface exports) and on nothing else but the release
    /// itself and the provider configuration.
    consulted: Box<[(Pkg, u32)]>,
    /// Interface providers left out for their types, and why (reported
    /// again by every solve that reuses these dependencies).
    reasons: Box<[String]>,
    /// The solve (the catalog's epoch) that last found every package in
    /// `consulted` unchanged: checked once per solve, however often the
    /// dependencies are asked for.
    checked: Cell<u64>,
}

/// One import to wire into a resolution: what its edge says, and where to
/// find its provider among the chosen packages.
pub(crate) struct Wire {
    /// The import's name.
    pub(crate) import: String,
    /// What it asks of its provider.
    pub(crate) constraint: Constraint,
    /// Its position among the importer's dependencies (and their
    /// resolved forms).
    pub(crate) index: u32,
    /// The provider package's id.
    pub(crate) package: u32,
    /// The provider's track; `None` for a span, whose track is that of
    /// the version chosen for it.
    pub(crate) track: Option<Track>,
    /// A locked reference that names digests: the chosen release's must
    /// be among them.
    pub(crate) locked: bool,
    /// An interface import: the edge names the provider's export.
    pub(crate) interface: bool,
}

impl Wire {
    /// Every import of `deps` that resolved to a provider (`resolved`, at
    /// the same positions), in import order.
    pub(crate) fn all(deps: &Deps<'_>, resolved: &[Option<Resolved>]) -> Box<[Wire]> {
        deps.iter()
            .zip(resolved)
            .enumerate()
            .filter_map(|(i, (dep, resolved))| {
                let resolved = resolved.as_ref()?;
                let constraint = Constraint::of(dep)?;
                let locked = match &dep.class {
                    ImportClass::Declared(DepRef::Locked { integrity, .. })
                    | ImportClass::Legacy(DepRef::Locked { integrity, .. }) => {
                        !integrity.is_empty()
                    }
                    _ => false,
                };
                Some(Wire {
                    import: dep.import.clone(),
                    constraint,
                    index: i as u32,
                    package: resolved.package.id(),
                    track: match &resolved.node {
                        Node::Track { track, .. } => Some(*track),
                        _ => None,
                    },
                    locked,
                    interface: resolved.interface.is_some(),
                })
            })
            .collect()
    }
}

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
    /// Declared dependencies' candidates excluded by earlier rounds.
    exclusions: &'a Exclusions,
    /// Interface providers this solve excluded for their types, and why.
    type_reasons: RefCell<Vec<String>>,
    root_resolved: RefCell<Option<ResolvedDeps>>,
    /// Releases' dependencies resolved under exclusions: specific to
    /// this solve, so kept here rather than in the catalog.
    excluded_resolved: RefCell<Map<(u32, Ver), Kept>>,
}

/// The importer whose dependencies are being worked out.
struct Importer<'i> {
    key: Option<(&'i PackageName, &'i Version)>,
    types: Option<&'i ComponentTypes>,
    label: &'i dyn Fn() -> String,
}

impl<'a> Requirements<'a> {
    /// The requirements of solving `root` with `config`.
    pub(crate) fn new(
        root: &'a Root,
        config: &'a ProviderConfig,
        exclusions: &'a Exclusions,
    ) -> Self {
        Requirements {
            root,
            config,
            exclusions,
            type_reasons: RefCell::default(),
            root_resolved: RefCell::default(),
            excluded_resolved: RefCell::default(),
        }
    }

    /// Why interface providers were excluded for their types in this
    /// solve, in the order found.
    pub(crate) fn type_reasons(&self) -> Vec<String> {
        self.type_reasons.borrow().clone()
    }

    fn add_type_reasons(&self, found: &[String]) {
        let mut reasons = self.type_reasons.borrow_mut();
        for reason in found {
            if !reasons.contains(reason) {
                reasons.push(reason.clone());
            }
        }
    }

    /// The types of the importer `node`, whose dependencies are `deps`.
    pub(crate) fn types_of<'d>(
        &'d self,
        node: &Node,
        deps: &'d Deps<'_>,
    ) -> Option<&'d ComponentTypes> {
        match (node, deps) {
            (_, Deps::Release(meta)) => meta.types.as_ref(),
            (Node::Root(_), Deps::Root(_)) => self.root.types.as_ref(),
            _ => None,
        }
    }

    /// The component being solved for.
    pub(crate) fn root(&self) -> &'a Root {
        self.root
    }

    /// Every dependency of `node` at `version`, resolved (see
    /// [`Requirements::of_release`]).
    pub(crate) fn of(
        &self,
        catalog: &Catalog<'_, Kept>,
        node: &Node,
        version: &Ver,
    ) -> Result<ResolvedDeps, SolveError> {
        match node {
            Node::Root(_) => {
                if let Some(r) = self.root_resolved.borrow().clone() {
                    return Ok(r);
                }
                let deps = Deps::Root(&self.root.dependencies);
                let (list, _) = self.resolve_all(catalog, node, version, &deps)?;
                *self.root_resolved.borrow_mut() = Some(list.clone());
                Ok(list)
            }
            Node::Track { package, .. } => {
                Ok(self.of_release(catalog, package, version)?.deps.clone())
            }
            Node::Span { .. } => Ok(Rc::from([])),
        }
    }

    /// One release's metadata and dependencies, resolved; worked out once
    /// per release, and reused by later solves while every package its
    /// imports name lists the same releases. The first time, the newest
    /// allowed release of each target is prefetched, so a networked
    /// source fetches one level in one batch.
    pub(crate) fn of_release(
        &self,
        catalog: &Catalog<'_, Kept>,
        package: &Pkg,
        version: &Ver,
    ) -> Result<Kept, SolveError> {
        // Exclusions are this solve's own: what they shape is kept here.
        let shared = self.exclusions.is_empty();
        let kept = match shared {
            true => catalog
                .derived(package, version)
                .filter(|d| self.still_holds(catalog, d)),
            false => self
                .excluded_resolved
                .borrow()
                .get(&(package.id(), *version))
                .cloned(),
        };
        if let Some(kept) = kept {
            return Ok(kept);
        }
        let meta = catalog.metadata(package, version)?;
        let deps = Deps::Release(meta.clone());
        let node = Node::Track {
            package: package.clone(),
            track: warg_depsolve_names::Track::of(&meta.version),
        };
        let (list, reasons) = self.resolve_all(catalog, &node, version, &deps)?;
        // Every package named was listed (or found absent) above.
        let consulted = deps
            .iter()
            .filter_map(|d| self.package_named(d))
            .map(|name| {
                let pkg = catalog.intern(name);
                let version = catalog.list_version(&pkg);
                (pkg, version)
            })
            .collect();
        let kept = Rc::new(Derived {
            wiring: Wire::all(&deps, &list),
            deps: list,
            yanked: catalog.is_yanked(package, version),
            digest: meta.digest.clone(),
            typed: meta.types.is_some(),
            meta,
            consulted,
            reasons: reasons.into(),
            checked: Cell::new(catalog.epoch()),
        });
        match shared {
            true => catalog.keep_derived(package, version, kept.clone()),
            false => {
                self.excluded_resolved
                    .borrow_mut()
                    .insert((package.id(), *version), kept.clone());
            }
        }
        Ok(kept)
    }

    /// Resolves every dependency in `deps` of `node` at `version`, and
    /// says which interface providers were left out for their types.
    fn resolve_all(
        &self,
        catalog: &Catalog<'_, Kept>,
        node: &Node,
        version: &Ver,
        deps: &Deps<'_>,
    ) -> Result<(ResolvedDeps, Vec<String>), SolveError> {
        // Every package these imports name, listed in one batch first.
        catalog.prefetch_unlisted(deps.iter().filter_map(|d| self.package_named(d)));
        let dependent = || self.dependent_label(node, version);
        let semver = version.version();
        let importer = Importer {
            key: match node {
                Node::Track { package, .. } => Some((&**package, &*semver)),
                _ => None,
            },
            types: self.types_of(node, deps),
            label: &dependent,
        };
        let mut reasons = Vec::new();
        let list = deps
            .iter()
            .map(|d| self.resolve_dependency(catalog, &importer, d, &mut reasons))
            .collect::<Result<ResolvedDeps, SolveError>>()?;
        self.add_type_reasons(&reasons);
        catalog.prefetch_newest(list.iter().flatten().map(|r| (&r.package, &r.set)));
        Ok((list, reasons))
    }

    /// Whether kept dependencies still hold: every package they were
    /// resolved from lists the same releases in this solve (asking the
    /// source once per package per solve, as resolving them again would).
    /// Checked once per solve; the first check of a solve reports the
    /// kept type mismatches again.
    fn still_holds(&self, catalog: &Catalog<'_, Kept>, kept: &Derived) -> bool {
        let epoch = catalog.epoch();
        if kept.checked.get() == epoch {
            return true;
        }
        for (pkg, version) in kept.consulted.iter() {
            // An error or an absent package is answered by resolving
            // again, which reports or records it as the first time did.
            let _ = catalog.list(pkg);
            if catalog.list_version(pkg) != *version {
                return false;
            }
        }
        kept.checked.set(epoch);
        self.add_type_reasons(&kept.reasons);
        true
    }

    /// The registry package an import names (a plug's for a plugged
    /// interface), if it may name one: `None` for host imports.
    fn package_named<'d>(&'d self, dep: &'d Dependency) -> Option<&'d PackageName> {
        match &dep.class {
            ImportClass::Declared(reference) | ImportClass::Legacy(reference) => {
                Some(reference.package())
            }
            ImportClass::Interface(interface) if !self.config.is_host(interface) => Some(
                self.config
                    .provider_for(interface)
                    .map_or(&interface.package, |plug| &plug.package),
            ),
            ImportClass::Interface(_) | ImportClass::Host => None,
        }
    }

    /// How errors and requirements name a dependent: built only when one
    /// is reported, never on the solving path.
    pub(crate) fn dependent_label(&self, node: &Node, version: &impl std::fmt::Display) -> String {
        match node {
            Node::Root(_) => format!("root component `{}`", self.root.name),
            Node::Track { package, .. } | Node::Span { package, .. } => {
                format!("{package}@{version}")
            }
        }
    }

    /// What one import of `importer` requires, or `None` for a host
    /// import. Candidates whose types do not satisfy the import are left
    /// out: an interface provider's here, a declared dependency's where an
    /// earlier round excluded them (interface providers left out are
    /// added to `reasons`, with why).
    fn resolve_dependency(
        &self,
        catalog: &Catalog<'_, Kept>,
        importer: &Importer<'_>,
        dep: &Dependency,
        reasons: &mut Vec<String>,
    ) -> Result<Option<Resolved>, SolveError> {
        let dependent = importer.label;
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
                        // Most packages have no pre-release: their
                        // releases need no look.
                        let looked: &[_] = match catalog.has_prereleases(&package) {
                            true => &releases,
                            false => &[],
                        };
                        for r in looked.iter().filter(|r| !r.version.pre.is_empty()) {
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
                let set = match self.exclusions.is_empty() {
                    true => set,
                    false => match self.exclusions.excluded(importer.key, &dep.import) {
                        Some(excluded) => set.intersection(&excluded.complement()),
                        None => set,
                    },
                };
                (package, set, None)
            }
            ImportClass::Interface(interface) => {
                if self.config.is_host(interface) {
                    return Ok(None);
                }
                let plug = self.config.provider_for(interface);
                let configured = plug.is_some();
                // The plug's range, as the solver reads ranges (cargo's
                // rules for pre-releases and exclusive upper bounds).
                let plug_range = plug
                    .and_then(|p| p.range.clone())
                    .map(|req| DepRange::Req(req).to_ranges());
                let plug_allows =
                    |v: &Version| plug_range.as_ref().is_none_or(|set| set.contains(v));
                let package = match plug {
                    Some(plug) => catalog.intern(&plug.package),
                    None => catalog.intern(&interface.package),
                };
                let releases = match catalog.releases(&package) {
                    Ok(r) => r,
                    Err(SourceError::PackageNotFound { .. }) if !configured => return Ok(None),
                    Err(SourceError::PackageNotFound { .. }) => return Err(missing(&package)),
                    Err(e) => return Err(e.into()),
                };
                catalog.prefetch_all(&package);
                let mut set = VersionSet::empty();
                // Whether some release exports the interface at all, types
                // aside: if all of them mismatch, the import is not the
                // host's but unsatisfiable.
                let mut exported = false;
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
                    if !plug_allows(&r.version) {
                        continue;
                    }
                    let meta = catalog.metadata(&package, &Ver::of(&r.version))?;
                    let Some(export) = meta
                        .interface_exports
                        .iter()
                        .find(|e| e.links_to(interface))
                    else {
                        continue;
                    };
                    exported = true;
                    let fits = typecheck::check(
                        importer.types,
                        &dep.import,
                        meta.types.as_ref(),
                        Some((&export.to_string(), &interface.interface)),
                        &|| format!("{package}@{}", r.version),
                        dependent,
                    );
                    match fits {
                        Ok(()) => set = set.union(&VersionSet::singleton(r.version.clone())),
                        Err(reason) => {
                            if !reasons.contains(&reason) {
                                reasons.push(reason);
                            }
                        }
                    }
                }
                if let (Some(plug), false) = (plug, exported) {
                    // Said plainly here: pubgrub would only say that no
                    // version fits.
                    return Err(SolveError::PlugMismatch {
                        plug: plug.to_string(),
                        package: plug.package.clone(),
                        interface: interface.to_string(),
                        required_by: dependent(),
                    });
                }
                if set.is_empty() && !configured && !exported {
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
            set: Versions::from_set(&set),
            interface,
        }))
    }
}

/// The pubgrub package for a requirement: its track package when every
/// release it allows is on one track, else a span. The range stays as
/// the dependent wrote it (the track node only has versions on its
/// track anyway), so reports quote it.
fn node_for(catalog: &Catalog<'_, Kept>, package: &Pkg, set: &VersionSet) -> Node {
    // A range inside one track (the usual caret range) needs no look
    // at the releases.
    let single = single_track_of(set).or_else(|| {
        catalog
            .with_releases(package, |releases, _| {
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
            set: Box::new(Versions::from_set(set)),
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
