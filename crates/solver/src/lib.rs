//! Choosing versions.
//!
//! This crate owns version solving: a pubgrub [`DependencyProvider`]
//! over any [`Source`], the [`Resolution`] it produces (one node
//! per resolved package and canonical track, with every import wired to its
//! provider), the lock file ([`LockFile`]) and the human-readable reports
//! of conflicts and cycles. Package identity is the package name plus its
//! canonical track, so `acme:kv` 1.x and 2.x can both be in one resolution
//! while dependents on one track share one version. It must not do I/O of
//! its own: everything it knows about packages comes through the
//! [`Source`] trait, and files (root components, lock files) are read and
//! written by its callers.
//!
//! # How a solve runs
//!
//! [`resolve`] takes a [`Root`] (the component, with its imports) and a
//! [`Source`]. Its private modules, each with one job, in the order a
//! solve meets them; each uses only those named before it and the public
//! modules:
//!
//! - `error`: [`SolveError`], the one error of every step;
//! - `version`: the versions pubgrub works with, packed into an integer
//!   where they fit;
//! - `display`: the version sets pubgrub works with, printed as people
//!   write ranges;
//! - `root`: [`Root`], the component solved for (not a registry release);
//! - `node`: the packages pubgrub sees (the root, a package on one
//!   canonical track, a range spanning tracks) and the package names
//!   interned per solve;
//! - `catalog`: each package's sorted releases and their metadata, asked
//!   of the source once per solve, and kept across solves by a [`Solver`]
//!   while the source lists the same releases;
//! - `requirement`: an import turned into a pubgrub package and the
//!   versions it allows (pre-releases only where named, interface imports
//!   to the packages that export them, [`ProviderConfig`]), once per
//!   release (and reused by later solves of a [`Solver`] while the
//!   packages it names list the same releases);
//! - `provider`: the pubgrub [`DependencyProvider`]: what to decide next,
//!   the newest allowed release (a lock's pin first), the constraints of a
//!   chosen release;
//! - `fast_path`: the newest-first walk tried before pubgrub, which
//!   solves the common case without backtracking and otherwise hands over;
//! - `report`: pubgrub's derivation as a readable explanation;
//! - `solve`: [`resolve`] itself: fast path, then pubgrub, then the
//!   [`Resolution`] wired (every import to its provider, locked
//!   references' integrity checked, cycles refused).
//!
//! The public modules work on a finished [`Resolution`] and use none of
//! the above: `resolution` (the result), `graph` (cycles, trees, why a
//! package is there) and `lock` (the lock file).
//!
//! [`DependencyProvider`]: pubgrub::DependencyProvider
//! [`Source`]: warg_depsolve_registry::Source
//!
//! ```
//! use warg_depsolve_registry::{MemorySource, Dependency};
//! use warg_depsolve_names::{classify, PackageName};
//! use warg_depsolve_solver::{resolve, Root, SolveOptions};
//!
//! let dep = |import: &str, reference: &str| Dependency {
//!     import: import.to_string(),
//!     class: classify(import, Some(reference)).unwrap(),
//! };
//! let source = MemorySource::new("memory");
//! let base: PackageName = "test:base".parse().unwrap();
//! for v in ["1.0.0", "1.2.0", "2.0.0"] {
//!     source.add_synthetic(&base, &v.parse().unwrap(), vec![]).unwrap();
//! }
//! let root = Root::new("app", vec![dep("base", "unlocked-dep=<test:base@{>=1.0.0 <2.0.0}>")]);
//! let resolution = resolve(&source, &root, &SolveOptions::default()).unwrap();
//! assert_eq!(resolution.packages[0].version.to_string(), "1.2.0");
//! ```

mod catalog;
mod display;
mod error;
mod fast_path;
pub mod graph;
pub mod lock;
pub mod memo;
mod node;
mod provider;
mod report;
mod requirement;
pub mod resolution;
mod root;
mod solve;
mod typecheck;
mod version;

pub use error::SolveError;
pub use lock::{LockFile, LockedPackage, LockedPlug, LockedVersion};
pub use requirement::{Plug, ProviderConfig};
pub use resolution::{Constraint, Edge, Requirement, Resolution, ResolvedPackage};
pub use root::Root;
pub use solve::{resolve, SolveOptions, Solver};
