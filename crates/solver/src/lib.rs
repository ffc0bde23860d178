//! Choosing versions.
//!
//! This crate owns version solving: a pubgrub [`DependencyProvider`]
//! (`provider`) over any [`Source`], the [`Resolution`] it produces (one node
//! per resolved package and canonical track, with every import wired to its
//! provider), the lock file ([`LockFile`]) and the human-readable reports
//! of conflicts and cycles. Package identity is the package name plus its
//! canonical track, so `acme:kv` 1.x and 2.x can both be in one resolution
//! while dependents on one track share one version. It must not do I/O of
//! its own: everything it knows about packages comes through the
//! [`Source`] trait, and files (root components, lock files) are read and
//! written by its callers.
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
mod node;
mod provider;
mod report;
mod requirement;
pub mod resolution;
mod root;
mod solve;

pub use error::SolveError;
pub use lock::{LockFile, LockedPackage, LockedVersion};
pub use requirement::ProviderConfig;
pub use resolution::{Constraint, Edge, Requirement, Resolution, ResolvedPackage};
pub use root::Root;
pub use solve::{resolve, SolveOptions};
