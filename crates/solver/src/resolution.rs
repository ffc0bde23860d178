//! The result of solving: which release of which package, and how every
//! import is wired.

use std::fmt;

use semver::Version;
use serde::ser::SerializeStruct as _;
use serde::{Serialize, Serializer};
use warg_depsolve_names::{
    write_version, DepRange, DepRef, ImportClass, Integrity, InterfaceName, PackageName, Track,
};
use warg_depsolve_registry::Dependency;

/// A solved dependency graph, ready to be locked, printed or composed.
///
/// `packages` holds one entry per resolved (package, canonical track),
/// sorted by name then track, so the same inputs always give the same
/// order. Edges point into `packages` by index, and each carries what its
/// import asked for; who required a package, as text, is derived from the
/// edges when asked ([`Resolution::requirements`]) rather than stored, so a
/// solve builds no strings per edge beyond the import name.
///
/// It serializes with each package's `required_by` list included.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// Its own registry imports and their providers.
    pub edges: Vec<Edge>,
}

/// One dependent's requirement on a resolved package, as text: what
/// [`Resolution::requirements`] derives from the edges.
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

impl Requirement {
    /// What the import asked for, when that says more than its name: an
    /// interface import (`demo:greeter/greet@1.0.0`) is its own
    /// requirement, so it is not repeated.
    pub fn asked(&self) -> Option<&str> {
        (self.requirement != self.import).then_some(self.requirement.as_str())
    }
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
    /// What the import asked of its provider.
    pub constraint: Constraint,
}

/// What an import asks of its provider, as the dependent wrote it.
///
/// ```
/// use warg_depsolve_names::DepRange;
/// use warg_depsolve_solver::Constraint;
/// let between = DepRange::Between("1.2.0".parse().unwrap(), "2.0.0".parse().unwrap());
/// assert_eq!(Constraint::Range(between).to_string(), "{>=1.2.0 <2.0.0}");
/// assert_eq!(Constraint::Exact("1.0.0".parse().unwrap()).to_string(), "=1.0.0");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Constraint {
    /// A depref range (`{>=1.0.0 <2.0.0}`, `*`).
    Range(DepRange),
    /// A locked reference's exact version (`=1.0.0`).
    Exact(Version),
    /// A versioned interface (`test:add/api@1.0.0`).
    Interface(InterfaceName),
}

impl Constraint {
    /// What `dependency` asks for (`None` for a host import, which is never
    /// wired).
    pub fn of(dependency: &Dependency) -> Option<Self> {
        Some(match &dependency.class {
            ImportClass::Declared(DepRef::Unlocked { range, .. })
            | ImportClass::Legacy(DepRef::Unlocked { range, .. }) => {
                Constraint::Range(range.clone())
            }
            ImportClass::Declared(DepRef::Locked { version, .. })
            | ImportClass::Legacy(DepRef::Locked { version, .. }) => {
                Constraint::Exact(version.clone())
            }
            ImportClass::Interface(interface) => Constraint::Interface(interface.clone()),
            ImportClass::Host => return None,
        })
    }
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Constraint::Range(range) => range.fmt(f),
            Constraint::Exact(version) => {
                f.write_str("=")?;
                write_version(f, version)
            }
            Constraint::Interface(interface) => interface.fmt(f),
        }
    }
}

impl Serialize for Constraint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Serialize for Resolution {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        /// A package with its `required_by` list, as JSON readers expect.
        #[derive(Serialize)]
        struct WithRequirements<'a> {
            #[serde(flatten)]
            package: &'a ResolvedPackage,
            required_by: &'a [Requirement],
        }
        let requirements = self.requirements();
        let packages: Vec<_> = self
            .packages
            .iter()
            .zip(&requirements)
            .map(|(package, required_by)| WithRequirements {
                package,
                required_by,
            })
            .collect();
        let mut out = s.serialize_struct("Resolution", 3)?;
        out.serialize_field("root", &self.root)?;
        out.serialize_field("root_edges", &self.root_edges)?;
        out.serialize_field("packages", &packages)?;
        out.end()
    }
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

    /// Every requirement on each package (indexed like `packages`), in a
    /// stable order: the root's as `root`, a package's as
    /// `ns:pkg@version`.
    pub fn requirements(&self) -> Vec<Vec<Requirement>> {
        let mut out = vec![Vec::new(); self.packages.len()];
        self.each_requirement(Some, |i, r| out[i].push(r));
        for list in &mut out {
            list.sort_unstable();
        }
        out
    }

    /// The requirements on one package; see [`Resolution::requirements`].
    pub fn required_by(&self, index: usize) -> Vec<Requirement> {
        let mut out = Vec::new();
        self.each_requirement(|target| (target == index).then_some(0), |_, r| out.push(r));
        out.sort_unstable();
        out
    }

    /// Calls `each(slot, requirement)` for every edge whose target `slot`
    /// maps to a slot, dependents named as [`Resolution::requirements`]
    /// says.
    fn each_requirement(
        &self,
        slot: impl Fn(usize) -> Option<usize>,
        mut each: impl FnMut(usize, Requirement),
    ) {
        let dependents = std::iter::once((None, &self.root_edges)).chain(
            self.packages
                .iter()
                .enumerate()
                .map(|(i, p)| (Some(i), &p.edges)),
        );
        for (who, edges) in dependents {
            let mut dependent = None;
            for e in edges {
                let Some(at) = slot(e.target) else { continue };
                let name = dependent.get_or_insert_with(|| match who {
                    None => "root".to_string(),
                    Some(i) => self.label(i),
                });
                each(
                    at,
                    Requirement {
                        dependent: name.clone(),
                        import: e.import.clone(),
                        requirement: e.constraint.to_string(),
                    },
                );
            }
        }
    }

    /// `ns:pkg@version` of a package, as reports print it.
    pub fn label(&self, index: usize) -> String {
        let p = &self.packages[index];
        format!("{}@{}", p.package, p.version)
    }
}
