//! Resolve, lock, bundle and unbundle the registry dependencies of
//! WebAssembly components: the library a loader (a runtime, a plugin host)
//! calls. The `warg-depsolve` command line is built on it in its own
//! package (`warg-depsolve-cli`), which owns the command line's
//! dependencies (clap, anyhow, progress bars).
//!
//! A loader holds a component's bytes and a place packages come from (any
//! [`Source`]: bytes it already holds in a [`MemorySource`], a
//! [`LocalRegistry`] directory, or the configured registries of
//! [`sources::Sources`]). It resolves the component's dependencies, bundles
//! them into one self-contained component and runs that. Nothing here
//! prints, and nothing writes a file unless asked
//! ([`registry::fsutil::write_atomic`] is for callers that want one):
//!
//! ```
//! use warg_depsolve::registry::MemorySource;
//! use warg_depsolve::SolveOptions;
//! use wasmtime::component::{Component, Linker};
//! use wasmtime::{Engine, Store};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let testdata = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");
//!
//! // 1. The component to load: `meet` imports `test:inc` (which imports
//! //    `test:add`) and `test:five` (which imports `test:add`'s interface).
//! let root = wat::parse_file(format!("{testdata}/roots/meet.wat"))?;
//!
//! // 2. Where its packages come from: here, bytes the loader already holds.
//! let packages = MemorySource::new("memory");
//! for (name, version) in [
//!     ("test:add", "1.0.0"), ("test:add", "1.1.0"), ("test:add", "2.0.0"),
//!     ("test:inc", "1.0.0"),
//!     ("test:five", "1.0.0"), ("test:five", "1.1.0-rc.1"),
//! ] {
//!     let file = format!("{testdata}/registry/{}/{version}.wasm", name.replace(':', "/"));
//!     packages.add(&name.parse()?, &version.parse()?, std::fs::read(file)?)?;
//! }
//! // (A directory in wkg's layout works the same way:
//! // `LocalRegistry::new("local", format!("{testdata}/registry"))`.)
//!
//! // 3. Resolve: highest versions that satisfy every import, no pre-release
//! //    unless asked for, one `test:add` 1.x shared by `inc` and `five`.
//! let resolution = warg_depsolve::resolve(&packages, "meet", &root, &SolveOptions::default())?;
//! let chosen: Vec<String> = resolution.packages.iter()
//!     .map(|p| format!("{}@{}", p.package, p.version))
//!     .collect();
//! assert_eq!(chosen, ["test:add@1.1.0", "test:five@1.0.0", "test:inc@1.0.0"]);
//!
//! // 4. Bundle: one self-contained component, every dependency nested.
//! let bundled = warg_depsolve::bundle(&root, &resolution, &packages)?;
//!
//! // 5. Run it on wasmtime's default configuration.
//! let engine = Engine::default();
//! let component = Component::new(&engine, &bundled)?;
//! let linker = Linker::<()>::new(&engine);
//! let mut store = Store::new(&engine, ());
//! let instance = linker.instantiate(&mut store, &component)?;
//! let full = instance.get_typed_func::<(u32, u32), (u32,)>(&mut store, "full")?;
//! assert_eq!(full.call(&mut store, (1, 2))?.0, 10);
//!
//! // The bundle comes apart again, byte for byte.
//! let unbundled = warg_depsolve::unbundle(&bundled)?;
//! assert_eq!(warg_depsolve::bundle_locked(&unbundled.locked, &packages)?, bundled);
//! # Ok(())
//! # }
//! ```
//!
//! [`bundle_component`] does steps 3 and 4 in one call, and also accepts a
//! component that is already in the locked form.
//!
//! # What is here
//!
//! | item | what |
//! | --- | --- |
//! | [`root_from_component`], [`resolve`], [`resolve_root`] | the registry dependencies of a component, solved |
//! | [`lock`], [`bundle`], [`bundle_locked`], [`bundle_component`], [`unbundle`], [`recognise`], [`migrate`] | the compose passes, over bytes |
//! | [`is_locked_form`] | whether a component is a locked form (bundle it with [`bundle_locked`]) |
//! | [`sources`] | the configured registries behind the cache, as the command line opens them |
//! | [`sbom`] | what a component is made of, as CycloneDX 1.6 or SPDX 2.3 JSON |
//! | [`inspect`] | what a component imports (classified), exports and nests, as data (`inspect`'s report) |
//! | `discover` | registries found through their metadata (`/.well-known/wasm-pkg/registry.json`), as wkg finds them |
//! | [`names`], [`registry`], [`solver`], [`compose`], `oci`, `warg` | the sub-crates, re-exported, so a loader needs one dependency |
//!
//! # Features
//!
//! - `oci` (default): OCI registries in [`sources`], and the OCI crate as
//!   `oci`. It brings an HTTP client and an async runtime (oci-client,
//!   reqwest, rustls, tokio). With `default-features = false` the library
//!   has no network backend and none of those dependencies: a loader with
//!   its packages in memory or in local directories needs nothing more.
//! - `warg` (default): warg registries in [`sources`], and the warg crate
//!   as `warg` (the protocol's own crates, `warg-protocol`, `warg-api`,
//!   `warg-crypto`, `warg-transparency`, over the same HTTP client).
//! - `discovery` (on with either): registries the configuration maps
//!   without a section, found through their well-known metadata (module
//!   `discover`).
//!
//! This crate wires the other crates together and must not grow logic of
//! its own for classifying names, solving versions or composing binaries:
//! that belongs in the crate that owns the concern; this one calls it and
//! presents the result. It must not print or parse command lines: that is
//! the command line's package.

#![warn(missing_docs)]

#[cfg(feature = "discovery")]
pub mod discover;
pub mod inspect;
pub mod sbom;
pub mod sources;

/// The compose passes (`warg-depsolve-compose`).
pub use warg_depsolve_compose as compose;
/// Package names, dependency references, canonical tracks, the top-level
/// scan (`warg-depsolve-names`).
pub use warg_depsolve_names as names;
/// The OCI registry source (`warg-depsolve-oci`; the `oci` feature).
#[cfg(feature = "oci")]
pub use warg_depsolve_oci as oci;
/// Sources, caches, configuration (`warg-depsolve-registry`).
pub use warg_depsolve_registry as registry;
/// The solver, resolutions, lock files, reports (`warg-depsolve-solver`).
pub use warg_depsolve_solver as solver;
/// The warg registry client and source (`warg-depsolve-warg`; the `warg`
/// feature).
#[cfg(feature = "warg")]
pub use warg_depsolve_warg as warg;

pub use warg_depsolve_compose::{
    ComposeError, ExtractedPackage, InlineComponent, NestedForm, Recognised, RecognisedPackage,
    Unbundled,
};
pub use warg_depsolve_registry::{LocalRegistry, MemorySource, Source};
pub use warg_depsolve_solver::{LockFile, Resolution, Root, SolveError, SolveOptions};

use warg_depsolve_registry::{ConfigError, ExtractError};

/// Why a facade call failed. Every variant names what it is about.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The root component cannot be read (not a component, malformed, or
    /// with a malformed dependency reference).
    #[error("`{name}` is not a usable root component")]
    Root {
        /// The root's name as given.
        name: String,
        /// What is wrong.
        #[source]
        error: ExtractError,
    },
    /// Solving failed: no solution (with the derivation), a missing
    /// package, a cycle, or the source's error.
    #[error(transparent)]
    Solve(#[from] SolveError),
    /// A compose pass failed (a digest mismatch names the package and both
    /// digests).
    #[error(transparent)]
    Compose(#[from] ComposeError),
    /// A configuration file is wrong (naming the file and key).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The environment lacks something needed to set up sources.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// A component cannot be read (not a component, or malformed).
    #[error("`{name}` cannot be read")]
    Component {
        /// The component's name (a file, or `ns:pkg@version`).
        name: String,
        /// What is wrong.
        #[source]
        error: warg_depsolve_names::scan::ScanError,
    },
    /// A registry failed (a release missing, other bytes, unreachable).
    #[error(transparent)]
    Source(#[from] warg_depsolve_registry::SourceError),
}

/// What the environment lacks to set up sources ([`sources::Sources::open`]).
/// The messages name what is missing, not how a caller supplies it: the
/// command line adds its flags as a hint, a loader its own settings.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// No registry is configured and there is no default registry
    /// directory to fall back on.
    #[error(
        "no registry is configured and there is no default registry directory \
         ($XDG_DATA_HOME and $HOME are unset)"
    )]
    NoRegistry,
    /// No cache directory was given and there is no default one.
    #[error("no cache directory is set and there is no default one ($XDG_CACHE_HOME and $HOME are unset)")]
    NoCache,
    /// The cache directory's path holds something else.
    #[error("the cache `{}` is not a directory", path.display())]
    CacheNotADirectory {
        /// The path.
        path: std::path::PathBuf,
    },
}

/// The solver's view of a component: its registry dependencies (declared
/// references, legacy depnames, interface imports; host imports left out),
/// under `name` for reports.
///
/// # Errors
///
/// [`Error::Root`]: the bytes are not a component ("not a component: ..."),
/// or an import's dependency reference is malformed (naming the import).
pub fn root_from_component(name: impl Into<String>, bytes: &[u8]) -> Result<Root, Error> {
    let name = name.into();
    Root::from_component(name.clone(), bytes).map_err(|error| Error::Root { name, error })
}

/// Resolves the dependencies of the component `root` (named `name` in
/// reports) against `source`.
///
/// # Errors
///
/// [`Error::Root`] for bytes that are not a usable component;
/// [`Error::Solve`] when no versions fit (its message is the derivation),
/// a package is missing, the chosen graph has a cycle, or the source fails.
pub fn resolve(
    source: &dyn Source,
    name: &str,
    root: &[u8],
    options: &SolveOptions,
) -> Result<Resolution, Error> {
    resolve_root(source, &root_from_component(name, root)?, options)
}

/// [`resolve`], answered from `memos` (a cache's [`Cache::memos`]) when
/// the same component was solved with the same options before and
/// nothing the solve read has changed since: a new process re-solving a
/// root pays a `stat` per package it rests on, not a solve (see
/// [`warg_depsolve_solver::memo`]). A new solution is remembered there.
///
/// [`Cache::memos`]: warg_depsolve_registry::Cache::memos
///
/// # Errors
///
/// As [`resolve`].
pub fn resolve_remembered(
    source: &dyn Source,
    memos: &warg_depsolve_registry::cache::Memos,
    name: &str,
    root: &[u8],
    options: &SolveOptions,
) -> Result<Resolution, Error> {
    let root = root_from_component(name, root)?;
    Ok(warg_depsolve_solver::memo::resolve_remembered(
        source, memos, &root, options,
    )?)
}

/// [`resolve`] for a root already read with [`root_from_component`].
///
/// # Errors
///
/// [`Error::Solve`], as for [`resolve`].
pub fn resolve_root(
    source: &dyn Source,
    root: &Root,
    options: &SolveOptions,
) -> Result<Resolution, Error> {
    Ok(warg_depsolve_solver::resolve(source, root, options)?)
}

/// The locked form of `root` under `resolution`: every dependency imported
/// as a component pinned by `locked-dep=<ns:pkg@x.y.z>,integrity=<...>`.
/// Packages are fetched from `source` by digest and checked.
///
/// # Errors
///
/// [`Error::Compose`]: a digest mismatch (naming the package and both
/// digests), a fetch failure, a resolution that does not fit the components.
pub fn lock(root: &[u8], resolution: &Resolution, source: &dyn Source) -> Result<Vec<u8>, Error> {
    Ok(warg_depsolve_compose::lock(root, resolution, source)?)
}

/// The bundled form of `root` under `resolution`: one component with every
/// dependency nested, runnable on a runtime's default configuration.
///
/// # Errors
///
/// As [`lock`].
pub fn bundle(root: &[u8], resolution: &Resolution, source: &dyn Source) -> Result<Vec<u8>, Error> {
    Ok(
        compose::Bundler::from_root(root, resolution, compose::Packages::Source(source))
            .to_vec()?,
    )
}

/// [`bundle`] written to `out` as it is assembled (no buffer of the whole
/// bundle); returns the parts written, for their length and record. On
/// error, discard what `out` received: write to a temporary file and rename
/// it only on success ([`registry::fsutil::write_atomic_from`] does).
///
/// # Errors
///
/// As [`lock`]; also a failure of `out`.
pub fn bundle_to<'a>(
    root: &'a [u8],
    resolution: &Resolution,
    source: &dyn Source,
    out: &mut dyn std::io::Write,
) -> Result<compose::BundleParts<'a>, Error> {
    Ok(
        compose::Bundler::from_root(root, resolution, compose::Packages::Source(source))
            .to_writer(out)?,
    )
}

/// [`bundle_locked`] as parts, not gathered into one buffer.
///
/// # Errors
///
/// As [`bundle_locked`].
pub fn bundle_locked_parts<'a>(
    locked: &'a [u8],
    source: &dyn Source,
) -> Result<compose::BundleParts<'a>, Error> {
    Ok(compose::Bundler::from_locked(locked, source).to_parts()?)
}

/// The bundled form of a locked form, each dependency fetched from `source`
/// by the digest its import pins.
///
/// # Errors
///
/// As [`lock`].
pub fn bundle_locked(locked: &[u8], source: &dyn Source) -> Result<Vec<u8>, Error> {
    Ok(compose::Bundler::from_locked(locked, source).to_vec()?)
}

/// Whether `component` is a locked form (compose's
/// [`is_locked_form`](warg_depsolve_compose::is_locked_form)).
///
/// # Errors
///
/// [`Error::Compose`] when the bytes are not a readable component.
pub fn is_locked_form(component: &[u8]) -> Result<bool, Error> {
    Ok(warg_depsolve_compose::is_locked_form(component)?)
}

/// What a loader usually wants in one call: a runnable bundle of
/// `component`. A locked form is bundled as it pins ([`bundle_locked`]);
/// any other component is resolved against `source` with `options` and
/// bundled ([`resolve`], [`bundle`]).
///
/// # Errors
///
/// As [`resolve`] and [`bundle`].
pub fn bundle_component(
    source: &dyn Source,
    name: &str,
    component: &[u8],
    options: &SolveOptions,
) -> Result<Vec<u8>, Error> {
    if is_locked_form(component)? {
        return bundle_locked(component, source);
    }
    let resolution = resolve(source, name, component, options)?;
    bundle(component, &resolution, source)
}

/// The inverse of [`bundle_locked`]: the locked form, and the registry's
/// bytes of every nested dependency (checked against their digests).
///
/// # Errors
///
/// [`Error::Compose`] when the input is not a bundle made by this tool or
/// a restored dependency does not match its digest.
pub fn unbundle(bundled: &[u8]) -> Result<Unbundled, Error> {
    Ok(warg_depsolve_compose::unbundle(bundled)?)
}

/// Unbundles a composition that carries no bundle record (made by
/// `wasm-tools compose` or wac, or a bundle whose record was stripped):
/// each nested component that is a release `source` serves becomes a
/// locked import of it, the others stay inline (compose's
/// [`recognise`](warg_depsolve_compose::recognise)). Whether an input has
/// the record: [`compose::has_record`].
///
/// # Errors
///
/// [`Error::Compose`] for an input that is not a valid component or
/// carries a record, or when the source fails (naming the package).
pub fn recognise(composition: &[u8], source: &dyn Source) -> Result<Recognised, Error> {
    Ok(warg_depsolve_compose::recognise(composition, source)?)
}

/// Rewrites a warg-era binary whose imports are raw depnames into the
/// current form (a kebab import name carrying the old string as its
/// `external-id`); every other command then works on it.
///
/// # Errors
///
/// [`Error::Compose`] when the input is not a component or a depname does
/// not parse.
pub fn migrate(legacy: &[u8]) -> Result<Vec<u8>, Error> {
    Ok(warg_depsolve_compose::migrate(legacy)?)
}
