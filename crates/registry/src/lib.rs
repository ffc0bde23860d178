//! Where packages come from.
//!
//! This crate owns the [`Source`] trait that the solver and the compose
//! passes use and never look past, the sources behind it (a local directory
//! in wkg's layout, the embedded default; an in-memory source for tests and
//! loaders), the namespace-to-registry configuration, and the caches (content
//! by digest, and scanned metadata by digest). It must not solve, compose or
//! print: it answers "which versions exist", "what does this release depend
//! on" and "give me these bytes", and checks every byte it hands out against
//! its digest, once: bytes travel as [`Verified`], which only a digest check
//! can make, so no layer after the first hashes them again.
//!
//! | item | what |
//! | --- | --- |
//! | [`Source`] | the core trait: name, the registry a lock file records, one shared [`Listing`] of releases (yanked flags, freshness stamp), metadata, fetch by package, version and digest |
//! | [`Hints`] | what some sources can do besides (prefetch, cheap digests, stamps), reached through [`Source::hints`] |
//! | [`Publish`] | publishing and yanking, for the sources that can, reached through [`Source::publisher`] |
//! | [`Verified`] | shared bytes and the digest they were checked against |
//! | [`ReleaseMetadata::from_component`] | scan a component: digest, size, registry dependencies, interface exports |
//! | [`LocalRegistry`] | `<root>/<ns>/<name>/<version>.wasm` (wkg's local layout); publish, yank, unyank |
//! | [`MemorySource`] | releases from bytes, or synthetic ones from metadata alone |
//! | [`Config`], [`load_config`] | wkg-shaped `config.toml`: `default_registry`, `namespace_registries`, `package_registry_overrides`, `[registry."name".local]` |
//! | [`Registries`] | a [`Source`] routing each package to its configured registry |
//! | [`Cache`], [`CachedSource`] | content and metadata by digest, last-seen version lists, offline mode |
//! | [`progress::Progress`] | how a downloading source reports its downloads to its caller |
//!
//! A typical setup, as the command line does it:
//!
//! ```
//! use warg_depsolve_registry::{load_config, Cache, CachedSource, ConfigInputs, Registries, Source};
//! # let dir = tempfile::tempdir().unwrap();
//! let inputs = ConfigInputs {
//!     default_local_root: dir.path().join("registry"),
//!     ..ConfigInputs::default()
//! };
//! let config = load_config(&inputs).unwrap(); // no file: the built-in default
//! let registries = Registries::from_config(&config);
//! let source = CachedSource::new(registries, Cache::new(dir.path().join("cache")));
//! assert_eq!(source.registry_for(&"test:add".parse().unwrap()), "local");
//! assert!(source.hints().is_some() && source.publisher().is_some());
//! ```

// `SourceError` names package, version and registry in every variant (about
// 160 bytes); errors are rare and never on a hot path, so it is returned by
// value rather than boxed.
#![allow(clippy::result_large_err)]
#![warn(missing_docs)]

pub mod cache;
pub mod config;
pub mod fsutil;
pub mod local;
pub mod memory;
pub mod metadata;
pub mod progress;
pub mod router;
pub mod source;
pub mod verified;

pub use cache::{Cache, CacheError, CacheStats, CachedSource, ContentStore, MetadataCache};
pub use config::{
    load_config, Backend, Config, ConfigError, ConfigInputs, ConfigOrigin, CONFIG_ENV,
    DEFAULT_REGISTRY_NAME,
};
pub use local::LocalRegistry;
pub use memory::MemorySource;
pub use metadata::ExtractError;
pub use router::{BackendFactory, Registries};
pub use source::{
    check_build_metadata, Dependency, DependencyRecord, Hints, Listing, Publish, Release,
    ReleaseMetadata, Source, SourceError, Stamp,
};
pub use verified::{Mismatch, Verified};
