//! Composing a component with its resolved dependencies.
//!
//! This crate owns the compose passes of `warg-depsolve`:
//!
//! - [`lock`]: the **locked form**, one composition graph (wasm-compose)
//!   over the root and every resolved (package, track), instantiated once
//!   each in dependency order and wired as the [`Resolution`] says; each
//!   dependency is *imported* as a component named like `test-add-1` and
//!   carrying `external-id "locked-dep=<ns:pkg@1.2.3>,integrity=<sha256-...>"`;
//!   the root is nested; host imports of every member surface once: one
//!   import per name, resources identified by where they come from, the
//!   union of what the members import from an instance, and one import per
//!   interface where members import semver-compatible versions of it (the
//!   highest; see the `host` and `merge` modules).
//! - [`Bundler`]: the **bundled form**, the same binary with every
//!   dependency import replaced by the dependency itself, nested as a
//!   component: the registry's bytes with the gated name attributes of
//!   their top-level names stripped (so the bundle runs on a runtime's
//!   default configuration), recorded in the `warg-depsolve-bundle` custom
//!   section ([`BundleRecord`]). From a root and its resolution or from a
//!   locked form; packages from a [`Source`] or held by the caller
//!   ([`Packages`]); on one thread or two ([`Threads`]); into one buffer,
//!   [`BundleParts`] or a writer.
//! - [`unbundle`]: the exact inverse of bundling a locked form: the locked
//!   form and the registry's bytes of each nested dependency, checked
//!   against their digests.
//! - [`recognise`]: the way back for a composition without the record
//!   (`wasm-tools compose`, wac, a bundle after `wasm-tools strip`): each
//!   nested component whose bytes are a release a [`Source`] serves
//!   (verbatim, stripped as a bundle nests it, or without custom sections)
//!   becomes a locked import of it; the others stay inline.
//! - [`migrate`]: warg-era binaries whose import names are raw depnames
//!   into the current form.
//!
//! Outputs validate with wasmparser 0.263 (the bundle with its default
//! features too), are deterministic, and are returned as bytes.
//!
//! It must not solve (the [`Resolution`] comes from
//! `warg-depsolve-solver`), and does no I/O beyond what it is handed: package
//! bytes come through the [`Source`] trait (and are checked against their
//! digests), and writing files is the caller's job.
//!
//! [`Resolution`]: warg_depsolve_solver::Resolution
//! [`Source`]: warg_depsolve_registry::Source
//!
//! ```
//! use warg_depsolve_compose::{lock, unbundle, Bundler, Packages};
//! use warg_depsolve_registry::MemorySource;
//! use warg_depsolve_solver::{Constraint, Edge, Resolution, ResolvedPackage};
//! use warg_depsolve_names::{DepRange, Integrity, Track};
//!
//! // A dependency `test:add@1.0.0` and a root that imports it.
//! let add = wat::parse_str(r#"(component
//!     (core module $m (func (export "add") (param i32 i32) (result i32)
//!         (i32.add (local.get 0) (local.get 1))))
//!     (core instance $i (instantiate $m))
//!     (func $add (param "left" u32) (param "right" u32) (result u32)
//!         (canon lift (core func $i "add")))
//!     (export "add" (func $add)))"#).unwrap();
//! let root = wat::parse_str(r#"(component
//!     (import "add" (external-id "unlocked-dep=<test:add@{>=1.0.0}>")
//!         (instance (export "add" (func (param "left" u32) (param "right" u32) (result u32)))))
//!     (export "sum" (instance 0)))"#).unwrap();
//!
//! let source = MemorySource::new("memory");
//! let package = "test:add".parse().unwrap();
//! let version: semver::Version = "1.0.0".parse().unwrap();
//! source.add(&package, &version, add.clone()).unwrap();
//! let resolution = Resolution {
//!     root: "root".into(),
//!     root_edges: vec![Edge {
//!         import: "add".into(),
//!         target: 0,
//!         export: None,
//!         constraint: Constraint::Range(DepRange::AtLeast(version.clone())),
//!     }],
//!     packages: vec![ResolvedPackage {
//!         track: Track::of(&version),
//!         digest: Integrity::sha256(&add),
//!         package,
//!         version,
//!         registry: "memory".into(),
//!         yanked: false,
//!         edges: vec![],
//!     }],
//! };
//!
//! let bundled = Bundler::from_root(&root, &resolution, Packages::Source(&source))
//!     .to_vec()
//!     .unwrap();
//! let unbundled = unbundle(&bundled).unwrap();
//! assert_eq!(unbundled.packages[0].bytes, add);
//! assert_eq!(unbundled.locked, lock(&root, &resolution, &source).unwrap());
//! let again = Bundler::from_locked(&unbundled.locked, &source).to_vec().unwrap();
//! assert_eq!(again, bundled);
//! ```
//!
//! ## Modules
//!
//! Following one dependency's bytes through a bundle: `graph` composes the
//! locked form (`host` and `merge` decide the members' host imports);
//! `assemble` ([`Bundler`]) fetches the packages and schedules the work;
//! `inline` nests each dependency in place of the import that `locked`
//! reads, stripped by [`strip`], and writes the `record`; `parts` holds the
//! result ([`BundleParts`]), `pieces` the bytes it is made of and their
//! validation. `unbundle` reads the record and goes back; `recognise` goes
//! back without one. Under all of
//! them, `sections` reads and writes top-level sections and their import
//! and export entries.

#![warn(missing_docs)]

mod assemble;
mod error;
mod graph;
mod host;
mod inline;
mod locked;
mod merge;
mod migrate;
mod parts;
mod pieces;
mod recognise;
mod record;
mod sections;
pub mod strip;
mod unbundle;

pub use assemble::{Bundler, Packages, Threads};
pub use error::{Cause, ComposeError, While};
pub use graph::{fetch_packages, import_names, lock, lock_with};
pub use locked::is_locked_form;
pub use migrate::migrate;
pub use parts::BundleParts;
pub use recognise::{
    has_record, recognise, InlineComponent, NestedForm, Recognised, RecognisedPackage,
};
pub use record::{
    read_record, BundleRecord, DefinedComponent, ImportGroup, NestedDependency, BUNDLE_FORMAT,
    BUNDLE_SECTION,
};
pub use unbundle::{unbundle, ExtractedPackage, Unbundled};
