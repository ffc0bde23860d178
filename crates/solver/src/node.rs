//! The packages pubgrub sees, and the interned package names they hold.
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

use std::fmt;
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::sync::Arc;

use warg_depsolve_names::{PackageName, Track};

use crate::display::Versions;

/// A package name interned for one solve.
///
/// Every map and every [`Node`] the solver builds is keyed by packages, and
/// pubgrub clones and hashes its packages on every decision; a handle makes
/// that a reference count and a `u32` instead of two `String`s. Equality and
/// hashing are by id: one solve hands out one id per name (the catalog's
/// interning, `Catalog::intern`, is the only maker).
#[derive(Clone)]
pub(crate) struct Pkg {
    id: u32,
    name: Rc<PackageName>,
}

impl Pkg {
    /// The handle with id `id` for `name`.
    pub(crate) fn new(id: u32, name: Rc<PackageName>) -> Self {
        Pkg { id, name }
    }

    /// The solve's id of this package: an index into per-package tables.
    pub(crate) fn id(&self) -> u32 {
        self.id
    }
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
