//! The pubgrub [`DependencyProvider`]: which package to decide next, which
//! version to choose (the newest allowed, a lock's pin first), and the
//! constraints a chosen release puts on others.
//!
//! What the provider answers with comes from the [`Catalog`] (releases and
//! metadata) and the [`Requirements`] (each release's dependencies as
//! pubgrub packages and version sets); it holds only the choice rules.

use std::cmp::Reverse;

use pubgrub::{
    Dependencies, DependencyConstraints, DependencyProvider, Map, PackageResolutionStatistics,
    VersionSet as _,
};
use semver::Version;
use warg_depsolve_names::{PackageName, Track};
use warg_depsolve_registry::{Release, SourceError};

use crate::catalog::Catalog;
use crate::display::Versions;
use crate::error::SolveError;
use crate::node::{Node, Pkg};
use crate::requirement::{Kept, ProviderConfig, Requirements, Resolved, ResolvedDeps};
use crate::root::Root;
use crate::typecheck::Exclusions;
use crate::version::{count_in, Ver};

/// The provider of one solve.
pub(crate) struct Provider<'a> {
    /// Keeps each release's resolved dependencies beside its metadata
    /// (the solver's, kept across solves).
    catalog: &'a Catalog<'a, Kept>,
    requirements: Requirements<'a>,
    /// Lock pins still in force: (package id, track) -> version.
    pins: Map<(u32, Track), Version>,
}

impl<'a> Provider<'a> {
    /// The provider solving `root` against the catalog's source, keeping `pins`
    /// (package, track, version) wherever they still satisfy, and leaving
    /// out the candidates earlier rounds `excluded` for their types.
    pub(crate) fn new(
        catalog: &'a Catalog<'a, Kept>,
        root: &'a Root,
        config: &'a ProviderConfig,
        pins: impl IntoIterator<Item = (PackageName, Track, Version)>,
        excluded: &'a Exclusions,
    ) -> Self {
        let pins = pins
            .into_iter()
            .map(|(p, t, v)| ((catalog.intern(&p).id(), t), v))
            .collect();
        Provider {
            catalog,
            requirements: Requirements::new(root, config, excluded),
            pins,
        }
    }

    /// What the solve knows of each package.
    pub(crate) fn catalog(&self) -> &'a Catalog<'a, Kept> {
        self.catalog
    }

    /// The requirements of the root and of every release.
    pub(crate) fn requirements(&self) -> &Requirements<'a> {
        &self.requirements
    }

    /// Every dependency of `node` at `version`, resolved (once per
    /// release, then shared).
    pub(crate) fn resolved_deps(
        &self,
        node: &Node,
        version: &Ver,
    ) -> Result<ResolvedDeps, SolveError> {
        self.requirements.of(self.catalog, node, version)
    }

    /// One release's metadata and resolved dependencies (see
    /// [`Requirements::of_release`]).
    pub(crate) fn release(&self, package: &Pkg, version: &Ver) -> Result<Kept, SolveError> {
        self.requirements.of_release(self.catalog, package, version)
    }

    fn pinned(&self, package: &Pkg, track: Track) -> Option<&Version> {
        self.pins.get(&(package.id(), track))
    }

    /// Highest non-yanked release in `range` (a pinned one first, even if
    /// yanked, when the range still allows it).
    fn choose(
        &self,
        package: &Pkg,
        track: Option<Track>,
        range: &Versions,
    ) -> Result<Option<Ver>, SourceError> {
        self.catalog.list(package)?;
        let on_track = |r: &Release| track.is_none_or(|t| Track::of(&r.version) == t);
        Ok(self
            .catalog
            .with_releases(package, |releases, vers| {
                let candidates = || {
                    releases
                        .iter()
                        .zip(vers)
                        .filter(|(r, v)| on_track(r) && range.0.contains(v))
                };
                if !self.pins.is_empty() {
                    // Sorted: the last pinned match is the newest.
                    let pinned = candidates()
                        .filter(|(r, _)| {
                            self.pinned(package, Track::of(&r.version)) == Some(&r.version)
                        })
                        .last();
                    if let Some((_, v)) = pinned {
                        return Some(*v);
                    }
                }
                // Releases are sorted: the first match from the top is the
                // newest.
                candidates().rev().find(|(r, _)| !r.yanked).map(|(_, v)| *v)
            })
            .flatten())
    }
}

impl DependencyProvider for Provider<'_> {
    type P = Node;
    type V = Ver;
    type VS = Versions;
    type M = String;
    type Priority = (u32, Reverse<usize>);
    type Err = SolveError;

    fn prioritize(
        &self,
        package: &Node,
        range: &Versions,
        stats: &PackageResolutionStatistics,
    ) -> Self::Priority {
        // Most conflicts first, then fewest candidates (pubgrub's and uv's
        // advice: decide the constrained packages early).
        let count = |package: &Pkg, track: Option<Track>| {
            self.catalog
                .with_releases(package, |releases, vers| {
                    // A track's releases are one run of the sorted list.
                    let run = match track {
                        None => Some(vers),
                        Some(t) => Ver::track_bounds(t).map(|(lo, hi)| {
                            &vers[vers.partition_point(|v| v < &lo)
                                ..vers.partition_point(|v| v < &hi)]
                        }),
                    };
                    match run {
                        Some(run) => count_in(run, &range.0),
                        // Numbers too large to pack: one by one.
                        None => releases
                            .iter()
                            .zip(vers)
                            .filter(|(r, v)| {
                                track.is_none_or(|t| Track::of(&r.version) == t)
                                    && range.0.contains(v)
                            })
                            .count(),
                    }
                })
                .unwrap_or(usize::MAX)
        };
        let candidates = match package {
            Node::Root(_) => 0,
            Node::Track { package, track } => count(package, Some(*track)),
            Node::Span { package, .. } => count(package, None),
        };
        if candidates == 0 {
            // Nothing to choose: deciding it first fails (or, for the
            // root, starts) at once, before work that would be undone
            // (pubgrub's own provider does the same).
            return (u32::MAX, Reverse(0));
        }
        (stats.conflict_count(), Reverse(candidates))
    }

    fn choose_version(&self, package: &Node, range: &Versions) -> Result<Option<Ver>, SolveError> {
        Ok(match package {
            Node::Root(_) => Some(Ver::zero()),
            Node::Track { package, track, .. } => self.choose(package, Some(*track), range)?,
            Node::Span { package, .. } => self.choose(package, None, range)?,
        })
    }

    fn get_dependencies(
        &self,
        node: &Node,
        version: &Ver,
    ) -> Result<Dependencies<Node, Versions, String>, SolveError> {
        if let Node::Span { package, .. } = node {
            let track = Node::Track {
                package: package.clone(),
                track: Track::of(&version.version()),
            };
            return Ok(Dependencies::Available(DependencyConstraints::from_iter([
                (track, Versions::singleton(*version)),
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
