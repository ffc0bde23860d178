//! What the solver knows of each package: its interned name, its sorted
//! release list and the metadata of the releases looked at, each asked of
//! the [`Source`] once and kept in one table indexed by the package's id
//! and the release's position.
//!
//! Beside each release's metadata the table keeps what the solver derives
//! from it (`D`: the requirements keep the release's dependencies,
//! resolved), so that one lookup finds both; the catalog only stores it
//! and knows nothing of what it is.
//!
//! # Across solves
//!
//! A catalog outlives one solve when a [`Solver`](crate::Solver) holds it
//! (an index of interpreted releases, as uv keeps one): what was read and
//! derived in one solve is reused by the next. Each solve starts a new
//! *epoch* ([`Catalog::begin_solve`]), and the first time a solve asks for
//! a package's releases the source is asked again. If it hands out the
//! very list it handed out before (the same shared `Arc`, which sources
//! that keep their lists do until the package changes), everything kept
//! for the package stays; otherwise the package's releases, metadata and
//! derived values are dropped and its *list version* moves on, so that
//! values derived from it elsewhere (another release's requirements) can
//! tell they are stale ([`Catalog::list_version`]). A source that keeps
//! a [generation](Source::generation) saves even the asking: while it
//! reports the generation under which a list was last handed out, that
//! list stands. Releases are
//! immutable in every registry, so a release's metadata is read once per
//! list; a release replaced in place anyway is caught where its bytes are
//! fetched, by their digest.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use pubgrub::Map;
use semver::Version;
use warg_depsolve_names::PackageName;
use warg_depsolve_registry::{Release, ReleaseMetadata, Source, SourceError};

use crate::display::Versions;
use crate::node::Pkg;
use crate::version::Ver;

/// The packages the solver has looked at, as the source described them,
/// and `D` per release.
pub(crate) struct Catalog<'a, D> {
    source: &'a dyn Source,
    ids: RefCell<Map<Rc<PackageName>, u32>>,
    /// Indexed by [`Pkg::id`].
    packages: RefCell<Vec<PackageData<D>>>,
    /// The current solve (see the module docs).
    epoch: Cell<u64>,
    /// The source's [`Source::generation`] when the current solve began.
    generation: Cell<Option<u64>>,
}

/// What the solver knows of one package.
struct PackageData<D> {
    pkg: Pkg,
    listing: Listing,
    /// The epoch in which the source last confirmed `listing`.
    confirmed: u64,
    /// The source's generation when it last confirmed `listing`: while
    /// the source reports the same one, the listing needs no asking.
    generation: Option<u64>,
    /// Moves on whenever `listing` changes.
    version: u32,
    /// Per release, at the same index as the sorted releases.
    slots: Vec<ReleaseSlot<D>>,
}

/// A package's releases as last asked.
enum Listing {
    /// Not asked yet.
    Unknown,
    /// The source does not know the package.
    Absent,
    /// The source's list (kept to recognise it when handed out again),
    /// the same sorted, build ties marked, and the sorted versions in the
    /// solver's form (pubgrub's, and searched as integers).
    Listed {
        raw: Arc<[Release]>,
        sorted: Arc<[Release]>,
        vers: Arc<[Ver]>,
        /// Whether any release is a pre-release.
        pre: bool,
    },
}

/// What the solver knows of one release; `None` until first asked.
struct ReleaseSlot<D> {
    metadata: Option<Arc<ReleaseMetadata>>,
    derived: Option<D>,
}

impl<D> Default for ReleaseSlot<D> {
    fn default() -> Self {
        ReleaseSlot {
            metadata: None,
            derived: None,
        }
    }
}

impl<'a, D: Clone> Catalog<'a, D> {
    /// An empty catalog over `source`.
    pub(crate) fn new(source: &'a dyn Source) -> Self {
        Catalog {
            source,
            ids: RefCell::default(),
            packages: RefCell::default(),
            epoch: Cell::new(1),
            generation: Cell::new(None),
        }
    }

    /// Starts a solve: every package's list is asked of the source again
    /// the first time the solve needs it.
    pub(crate) fn begin_solve(&self) {
        self.epoch.set(self.epoch.get() + 1);
        // Read before any list: a change after this moves it on, and the
        // next solve asks again.
        self.generation.set(self.source.generation());
    }

    /// The current solve's epoch (see the module docs).
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.get()
    }

    /// Drops every derived value (what they were derived under changed).
    pub(crate) fn forget_derived(&self) {
        for data in self.packages.borrow_mut().iter_mut() {
            for slot in &mut data.slots {
                slot.derived = None;
            }
        }
    }

    /// The version of a package's list: it moves on whenever the source
    /// hands out another list, or stops or starts knowing the package.
    pub(crate) fn list_version(&self, pkg: &Pkg) -> u32 {
        self.packages.borrow()[pkg.id() as usize].version
    }

    /// The source everything comes from (for what is not kept per solve:
    /// registry names, bytes).
    pub(crate) fn source(&self) -> &'a dyn Source {
        self.source
    }

    /// The solve's handle for a package name.
    pub(crate) fn intern(&self, name: &PackageName) -> Pkg {
        if let Some(&id) = self.ids.borrow().get(name) {
            return self.packages.borrow()[id as usize].pkg.clone();
        }
        let mut packages = self.packages.borrow_mut();
        let name = Rc::new(name.clone());
        let pkg = Pkg::new(packages.len() as u32, name.clone());
        self.ids.borrow_mut().insert(name, pkg.id());
        packages.push(PackageData {
            pkg: pkg.clone(),
            listing: Listing::Unknown,
            confirmed: 0,
            generation: None,
            version: 0,
            slots: Vec::new(),
        });
        pkg
    }

    /// Makes sure the package's releases are listed for this solve (see
    /// [`Catalog::releases`]) without handing them out.
    pub(crate) fn list(&self, pkg: &Pkg) -> Result<(), SourceError> {
        if self.listed_now(pkg) {
            return Ok(());
        }
        self.releases(pkg).map(drop)
    }

    /// Whether the package's list stands for this solve as kept: listed in
    /// it already, or handed out under the source's current generation.
    fn listed_now(&self, pkg: &Pkg) -> bool {
        let epoch = self.epoch.get();
        let generation = self.generation.get();
        let mut packages = self.packages.borrow_mut();
        let data = &mut packages[pkg.id() as usize];
        if !matches!(data.listing, Listing::Listed { .. }) {
            return false;
        }
        if data.confirmed == epoch {
            return true;
        }
        // Nothing in the source changed since it handed out this list: it
        // would hand out the very same one.
        if generation.is_some() && data.generation == generation {
            data.confirmed = epoch;
            return true;
        }
        false
    }

    /// The package's releases, sorted, asked of the source once per solve
    /// (see the module docs for what is kept when the answer is the list
    /// it gave before).
    pub(crate) fn releases(&self, pkg: &Pkg) -> Result<Arc<[Release]>, SourceError> {
        let epoch = self.epoch.get();
        let generation = self.generation.get();
        if self.listed_now(pkg) {
            let packages = self.packages.borrow();
            if let Some(sorted) = packages[pkg.id() as usize].sorted_arc() {
                return Ok(sorted.clone());
            }
        }
        let raw = match self.source.versions(pkg) {
            Ok(listing) => listing.releases,
            Err(e) => {
                if let SourceError::PackageNotFound { .. } = e {
                    let mut packages = self.packages.borrow_mut();
                    let data = &mut packages[pkg.id() as usize];
                    if !matches!(data.listing, Listing::Absent) {
                        data.listing = Listing::Absent;
                        data.slots = Vec::new();
                        data.version += 1;
                    }
                    data.confirmed = epoch;
                    data.generation = generation;
                }
                return Err(e);
            }
        };
        {
            let mut packages = self.packages.borrow_mut();
            let data = &mut packages[pkg.id() as usize];
            if let Listing::Listed {
                raw: kept, sorted, ..
            } = &data.listing
            {
                if Arc::ptr_eq(kept, &raw) {
                    data.confirmed = epoch;
                    data.generation = generation;
                    return Ok(sorted.clone());
                }
            }
        }
        let mut list = raw.clone();
        // Sources list in order as a rule; checking is cheaper than sorting.
        if !list.is_sorted_by(|a, b| compare(&a.version, &b.version).is_le()) {
            let mut sorted = list.to_vec();
            sorted.sort();
            list = sorted.into();
        }
        list = without_build_ties(list);
        let vers = list.iter().map(|r| Ver::of(&r.version)).collect();
        let mut packages = self.packages.borrow_mut();
        let data = &mut packages[pkg.id() as usize];
        data.slots = (0..list.len()).map(|_| ReleaseSlot::default()).collect();
        data.listing = Listing::Listed {
            raw,
            pre: list.iter().any(|r| !r.version.pre.is_empty()),
            sorted: list.clone(),
            vers,
        };
        data.version += 1;
        data.confirmed = epoch;
        data.generation = generation;
        Ok(list)
    }

    /// Runs `f` on the releases of a package whose releases are loaded
    /// (every package a node names is) and on their versions in the
    /// solver's form, at the same indices, without copying them.
    pub(crate) fn with_releases<R>(
        &self,
        pkg: &Pkg,
        f: impl FnOnce(&[Release], &[Ver]) -> R,
    ) -> Option<R> {
        let packages = self.packages.borrow();
        match &packages[pkg.id() as usize].listing {
            Listing::Listed { sorted, vers, .. } => Some(f(sorted, vers)),
            Listing::Unknown | Listing::Absent => None,
        }
    }

    /// Whether the package lists a pre-release (`true` when it is not
    /// listed: the caller then looks).
    pub(crate) fn has_prereleases(&self, pkg: &Pkg) -> bool {
        match &self.packages.borrow()[pkg.id() as usize].listing {
            Listing::Listed { pre, .. } => *pre,
            Listing::Unknown | Listing::Absent => true,
        }
    }

    /// The slot of a listed release, if it is listed.
    fn slot<R>(
        &self,
        pkg: &Pkg,
        version: &Ver,
        f: impl FnOnce(&mut ReleaseSlot<D>) -> R,
    ) -> Option<R> {
        let mut packages = self.packages.borrow_mut();
        let data = &mut packages[pkg.id() as usize];
        let Listing::Listed { vers, .. } = &data.listing else {
            return None;
        };
        let i = vers.binary_search(version).ok()?;
        Some(f(&mut data.slots[i]))
    }

    /// What was derived from a listed release and kept
    /// ([`Catalog::keep_derived`]).
    pub(crate) fn derived(&self, pkg: &Pkg, version: &Ver) -> Option<D> {
        self.slot(pkg, version, |s| s.derived.clone()).flatten()
    }

    /// Keeps what was derived from a release, if it is listed (an unlisted
    /// one has no slot, and is derived again when asked).
    pub(crate) fn keep_derived(&self, pkg: &Pkg, version: &Ver, derived: D) {
        self.slot(pkg, version, |s| s.derived = Some(derived));
    }

    /// Whether the listed release `version` is yanked (or tied with
    /// another but for build metadata, see [`without_build_ties`]).
    pub(crate) fn is_yanked(&self, pkg: &Pkg, version: &Ver) -> bool {
        self.with_releases(pkg, |releases, vers| {
            vers.binary_search(version)
                .is_ok_and(|i| releases[i].yanked)
        })
        .unwrap_or(false)
    }

    /// The metadata of one release, asked of the source once per solve
    /// when the release is listed.
    pub(crate) fn metadata(
        &self,
        pkg: &Pkg,
        version: &Ver,
    ) -> Result<Arc<ReleaseMetadata>, SourceError> {
        if let Some(Some(m)) = self.slot(pkg, version, |s| s.metadata.clone()) {
            return Ok(m);
        }
        let m = self.source.metadata(pkg, &version.version())?;
        self.slot(pkg, version, |s| s.metadata = Some(m.clone()));
        Ok(m)
    }

    /// Asks the source, in one batch, to list the packages in `names` that
    /// this solve has not listed yet (and to start on their newest
    /// releases' metadata): a release's dependencies are then listed side
    /// by side, not one round trip after another, when each is asked for.
    /// A no-op for local sources.
    pub(crate) fn prefetch_unlisted<'n>(&self, names: impl Iterator<Item = &'n PackageName>) {
        let Some(hints) = self.source.hints() else {
            return;
        };
        let mut wanted: Vec<(PackageName, Option<Version>)> = Vec::new();
        let epoch = self.epoch.get();
        {
            let ids = self.ids.borrow();
            let packages = self.packages.borrow();
            for name in names {
                // Listed in this solve: a list from an earlier one is
                // asked again, and should be in the batch.
                let listed = ids.get(name).is_some_and(|&id| {
                    let data = &packages[id as usize];
                    data.confirmed == epoch && data.sorted().is_some()
                });
                if !listed && !wanted.iter().any(|(n, _)| n == name) {
                    wanted.push((name.clone(), None));
                }
            }
        }
        // One unlisted package gains nothing from a batch.
        if wanted.len() > 1 {
            hints.prefetch(&wanted);
        }
    }

    /// Asks the source, in one batch, for the metadata of the newest
    /// listed release in each set that the catalog does not hold yet (a
    /// no-op for local sources).
    pub(crate) fn prefetch_newest<'r>(
        &self,
        wanted: impl Iterator<Item = (&'r Pkg, &'r Versions)>,
    ) {
        // Nothing to work out for a source that takes no hints.
        let Some(hints) = self.source.hints() else {
            return;
        };
        let packages = self.packages.borrow();
        let wanted: Vec<_> = wanted
            .filter_map(|(pkg, set)| {
                let data = &packages[pkg.id() as usize];
                let Listing::Listed {
                    sorted: releases,
                    vers,
                    ..
                } = &data.listing
                else {
                    return None;
                };
                let newest = vers.iter().rposition(|v| set.0.contains(v))?;
                data.slots[newest].metadata.is_none().then(|| {
                    (
                        PackageName::clone(pkg),
                        Some(releases[newest].version.clone()),
                    )
                })
            })
            .collect();
        drop(packages);
        if !wanted.is_empty() {
            hints.prefetch(&wanted);
        }
    }

    /// Asks the source, in one batch, for the metadata of every listed
    /// release of `pkg`.
    pub(crate) fn prefetch_all(&self, pkg: &Pkg) {
        if self.source.hints().is_none() {
            return;
        }
        let wanted = self.with_releases(pkg, |releases, _| {
            releases
                .iter()
                .map(|r| (PackageName::clone(pkg), Some(r.version.clone())))
                .collect::<Vec<_>>()
        });
        if let (Some(wanted), Some(hints)) = (wanted, self.source.hints()) {
            hints.prefetch(&wanted);
        }
    }

    /// Every release the current solve listed of the packages in `names`
    /// (a report's: only those it names are looked up).
    pub(crate) fn known_releases<'n>(
        &self,
        names: impl IntoIterator<Item = &'n PackageName>,
    ) -> HashMap<PackageName, Vec<Version>> {
        let epoch = self.epoch.get();
        let ids = self.ids.borrow();
        let packages = self.packages.borrow();
        names
            .into_iter()
            .filter_map(|name| {
                let d = &packages[*ids.get(name)? as usize];
                let releases = d.sorted().filter(|_| d.confirmed == epoch)?;
                Some((
                    PackageName::clone(&d.pkg),
                    releases.iter().map(|r| r.version.clone()).collect(),
                ))
            })
            .collect()
    }
}

impl<D> PackageData<D> {
    /// The sorted releases, shared, if listed.
    fn sorted_arc(&self) -> Option<&Arc<[Release]>> {
        match &self.listing {
            Listing::Listed { sorted, .. } => Some(sorted),
            Listing::Unknown | Listing::Absent => None,
        }
    }

    /// The sorted releases, if listed.
    fn sorted(&self) -> Option<&[Release]> {
        match &self.listing {
            Listing::Listed { sorted, .. } => Some(sorted),
            Listing::Unknown | Listing::Absent => None,
        }
    }
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
