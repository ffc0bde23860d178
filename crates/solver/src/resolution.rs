//! The result of solving: which release of which package, and how every
//! import is wired.

use semver::Version;
use serde::Serialize;
use warg_depsolve_names::{Integrity, PackageName, Track};

/// A solved dependency graph, ready to be locked, printed or composed.
///
/// `packages` holds one entry per resolved (package, canonical track),
/// sorted by name then track, so the same inputs always give the same
/// order. Edges point into `packages` by index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Resolution {
    /// A name for the root component (its file name, usually), used in
    /// reports.
    pub root: String,
    /// The root's registry imports and their providers.
    pub root_edges: Vec<Edge>,
    /// Every resolved package, sorted by (package, track).
    pub packages: Vec<ResolvedPackage>,
}

/// One resolved package on one canonical track.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResolvedPackage {
    /// The package.
    pub package: PackageName,
    /// Its canonical track (one instance per track).
    pub track: Track,
    /// The chosen version.
    pub version: Version,
    /// The SHA-256 digest of the chosen release's bytes.
    pub digest: Integrity,
    /// The registry it comes from (as configured).
    pub registry: String,
    /// Whether the chosen release is yanked (only when a lock pinned it).
    pub yanked: bool,
    /// Every requirement that led here, in a stable order.
    pub required_by: Vec<Requirement>,
    /// Its own registry imports and their providers.
    pub edges: Vec<Edge>,
}

/// One dependent's requirement on a resolved package.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Requirement {
    /// `root` or `ns:pkg@version` of the dependent.
    pub dependent: String,
    /// The dependent's import name.
    pub import: String,
    /// What it asked for: a depref range (`{>=1.0.0 <2.0.0}`, `*`), an exact
    /// locked version (`=1.0.0`), or an interface (`test:add/api@1.0.0`).
    pub requirement: String,
}

/// One import wired to its provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Edge {
    /// The import's name in the dependent.
    pub import: String,
    /// Index of the provider in [`Resolution::packages`].
    pub target: usize,
    /// `None`: the import receives the provider's whole export set (a
    /// declared dependency). `Some(name)`: it receives the provider's export
    /// of that name (an interface import, matched on the canonical track).
    pub export: Option<String>,
}

impl Resolution {
    /// Package indices in dependency order: every package comes after all
    /// the packages it imports. The graph is acyclic by construction (the
    /// solver rejects cycles); ties are broken by index, so the order is
    /// deterministic.
    pub fn dependency_order(&self) -> Vec<usize> {
        let n = self.packages.len();
        let mut placed = vec![false; n];
        let mut order = Vec::with_capacity(n);
        while order.len() < n {
            let before = order.len();
            for i in 0..n {
                if !placed[i] && self.packages[i].edges.iter().all(|e| placed[e.target]) {
                    placed[i] = true;
                    order.push(i);
                }
            }
            assert!(order.len() > before, "resolution graph has a cycle");
        }
        order
    }

    /// The resolved entries of one package (one per track).
    pub fn find<'a>(
        &'a self,
        package: &'a PackageName,
    ) -> impl Iterator<Item = (usize, &'a ResolvedPackage)> + 'a {
        self.packages
            .iter()
            .enumerate()
            .filter(move |(_, p)| &p.package == package)
    }

    /// `ns:pkg@version` of a package, as reports print it.
    pub fn label(&self, index: usize) -> String {
        let p = &self.packages[index];
        format!("{}@{}", p.package, p.version)
    }
}
