//! What a component's imports mean, without any I/O.
//!
//! This crate owns the vocabulary every other `warg-depsolve` crate speaks:
//! package names ([`PackageName`]), canonical version tracks ([`Track`]),
//! dependency references carried in `external-id` attributes or legacy
//! depnames ([`DepRef`], [`DepRange`], [`Integrity`]), versioned interface
//! names ([`InterfaceName`]), the classification of a component's imports
//! ([`ImportClass`]) and a cheap scan of a component's top level
//! ([`scan`]). It must not touch the file system or the network,
//! must not validate whole binaries, and must not walk function bodies or
//! nested components: everything here is pure and costs time in proportion to
//! a component's top-level sections, not its code size.
//!
//! ```
//! use warg_depsolve_names::{classify, DepRef, ImportClass};
//!
//! let class = classify("inc", Some("unlocked-dep=<test:inc@{>=1.0.0}>")).unwrap();
//! let ImportClass::Declared(DepRef::Unlocked { package, range }) = class else { panic!() };
//! assert_eq!(package.to_string(), "test:inc");
//! assert!(range.to_ranges().contains(&semver::Version::new(1, 4, 0)));
//! ```

pub mod classify;
pub mod depref;
pub mod error;
pub mod interface;
pub mod package;
pub mod scan;
pub mod version;

pub use classify::{classify, ClassifyError, ImportClass};
pub use depref::{DepRange, DepRef, HashAlgorithm, Integrity, ParseError};
pub use interface::InterfaceName;
pub use package::PackageName;
pub use version::{write_version, Track, VersionSet};
