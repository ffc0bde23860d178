//! The one trait every package source implements ([`Source`]), the
//! capabilities only some have ([`Publish`], [`Hints`]), and what they
//! hand out.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use semver::Version;
use serde::{Deserialize, Serialize};
use warg_depsolve_names::{DepRef, ImportClass, Integrity, InterfaceName, PackageName};

use warg_depsolve_types::ComponentTypes;

use crate::verified::Verified;

/// One published version of a package.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Release {
    /// The version.
    pub version: Version,
    /// Yanked releases stay fetchable (a lock may pin them) but are never
    /// chosen afresh.
    pub yanked: bool,
}

/// A source's fingerprint of something it serves (a release file, a
/// package's version list): equal stamps promise equal answers, so a cache
/// that recorded an answer together with its stamp may reuse the answer for
/// as long as the source reports the same stamp.
///
/// A stamp is opaque to everyone but the source that made it (the local
/// registry uses a file's identity: device, inode, size, modification and
/// change times, as git's index does; see
/// [`LocalRegistry`](crate::LocalRegistry)). Sources hand out a stamp only
/// when they can keep that promise, and `None` otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Stamp(pub [u64; 5]);

/// One registry dependency of a release: a top-level import that names
/// another package (declared, legacy or interface; host imports are not
/// listed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Dependency {
    /// The import's name in the dependent component.
    pub import: String,
    /// What the import refers to. Never [`ImportClass::Host`].
    pub class: ImportClass,
}

/// A [`Dependency`] in a stable, serializable form, as the metadata cache
/// and the OCI config record store it: the import name, its kind and the
/// reference (or interface name) as text, rebuilt with the names crate's
/// own parsers.
///
/// ```
/// use warg_depsolve_names::classify;
/// use warg_depsolve_registry::{Dependency, DependencyRecord};
/// let dep = Dependency {
///     import: "base".into(),
///     class: classify("base", Some("unlocked-dep=<a:base@{>=1.0.0}>")).unwrap(),
/// };
/// let record = DependencyRecord::of(&dep).unwrap();
/// assert_eq!(record.kind, "declared");
/// assert_eq!(record.to_dependency(), Some(dep));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DependencyRecord {
    /// The import's name.
    pub import: String,
    /// `declared`, `legacy` or `interface`.
    pub kind: String,
    /// The dependency reference, or the interface name.
    pub reference: String,
}

impl DependencyRecord {
    /// The record of a dependency; `None` for a host import (metadata
    /// never lists those).
    pub fn of(dependency: &Dependency) -> Option<Self> {
        let (kind, reference) = match &dependency.class {
            ImportClass::Declared(r) => ("declared", r.to_string()),
            ImportClass::Legacy(r) => ("legacy", r.to_string()),
            ImportClass::Interface(i) => ("interface", i.to_string()),
            ImportClass::Host => return None,
        };
        Some(DependencyRecord {
            import: dependency.import.clone(),
            kind: kind.to_string(),
            reference,
        })
    }

    /// The dependency back; `None` if the kind is unknown or the reference
    /// no longer parses (the record is then treated as absent).
    pub fn to_dependency(&self) -> Option<Dependency> {
        Self::dependency(&self.import, &self.kind, &self.reference)
    }

    /// The dependency a record's three fields describe (read borrowed from
    /// a cache file, without a record in between).
    pub(crate) fn dependency(import: &str, kind: &str, reference: &str) -> Option<Dependency> {
        let class = match kind {
            "declared" => ImportClass::Declared(DepRef::parse(reference).ok()?),
            "legacy" => ImportClass::Legacy(DepRef::parse(reference).ok()?),
            "interface" => ImportClass::Interface(InterfaceName::parse(reference)?),
            _ => return None,
        };
        Some(Dependency {
            import: import.to_string(),
            class,
        })
    }
}

/// What the solver needs to know about one release, read from its bytes
/// once and cached by digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReleaseMetadata {
    /// The package.
    pub package: PackageName,
    /// The version.
    pub version: Version,
    /// The SHA-256 digest of the release's bytes.
    pub digest: Integrity,
    /// Size of the release's bytes.
    pub size: u64,
    /// Its registry dependencies, in import order.
    pub dependencies: Vec<Dependency>,
    /// The versioned interfaces it exports (so an interface import can be
    /// matched to a provider on the same canonical track).
    pub interface_exports: Vec<InterfaceName>,
    /// The types of its dependency imports and of its exports, for the
    /// solver's type check; `None` when unknown (a record made before they
    /// were kept, or a component whose types do not read): then no
    /// candidate is excluded for its types.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub types: Option<ComponentTypes>,
}

/// A failure of a source, always naming the source and what was asked.
///
/// As every error of the workspace, a variant's message says what failed;
/// what caused it is its [`source`](std::error::Error::source), never also
/// repeated in the message.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The package is not known to the source.
    #[error("package `{package}` not found in registry `{source_name}`")]
    PackageNotFound {
        /// Registry name.
        source_name: String,
        /// The package asked for.
        package: PackageName,
    },
    /// The package exists but not at this version.
    #[error("`{package}@{version}` not found in registry `{source_name}`")]
    VersionNotFound {
        /// Registry name.
        source_name: String,
        /// The package.
        package: PackageName,
        /// The version asked for.
        version: Version,
    },
    /// Bytes did not hash to the digest they were asked for by.
    #[error(
        "digest mismatch for `{package}{}` from `{source_name}`{}: expected {expected}, found {actual}",
        at_version(version.as_ref()),
        in_file(path.as_deref())
    )]
    DigestMismatch {
        /// Registry (or cache) name.
        source_name: String,
        /// The package whose bytes were read.
        package: PackageName,
        /// The release, when the bytes were read as one.
        version: Option<Version>,
        /// The file the bytes were read from, when they were.
        path: Option<PathBuf>,
        /// The digest asked for (OCI form).
        expected: String,
        /// The digest of the bytes actually read (OCI form).
        actual: String,
    },
    /// A release is not a readable component (its bytes, or what a
    /// registry says about them); the cause says why.
    #[error("`{package}@{version}` from `{source_name}` is not a usable component")]
    InvalidComponent {
        /// Registry name.
        source_name: String,
        /// The package.
        package: PackageName,
        /// The version.
        version: Version,
        /// What is wrong with it (an [`ExtractError`](crate::ExtractError)
        /// for bytes that do not scan or validate).
        #[source]
        cause: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The source could not be read or written (a file, a directory).
    #[error("registry `{source_name}` unavailable while reading {what}")]
    Unavailable {
        /// Registry name.
        source_name: String,
        /// What was being read, in backticks (``` `test:add@1.0.0` at `/reg/test/add/1.0.0.wasm` ```).
        what: String,
        /// The I/O error.
        #[source]
        cause: std::io::Error,
    },
    /// A network registry refused the credentials it was given (or asked
    /// for some and was given none).
    #[error("registry `{source_name}` ({location}) did not authorize {what} (credentials used: {credentials}); {remedy}")]
    Unauthorized {
        /// Registry name.
        source_name: String,
        /// Where it was reached (`https://ghcr.io`).
        location: String,
        /// What was asked (``reading `acme:kv@1.2.0` ``).
        what: String,
        /// Where the refused credentials came from (never the secret):
        /// ``Docker's config.json (`ghcr.io`)``, `no credentials found`.
        credentials: String,
        /// Where credentials for this registry can be given (``set `auth`
        /// in `[registry."ghcr.io".oci]`, ...``).
        remedy: String,
        /// The registry's answer.
        #[source]
        cause: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A network registry did not answer, or failed, after every attempt
    /// its settings allow (no connection, no answer in time, a server
    /// error). The last attempt's failure is the [`source`](std::error::Error::source).
    #[error("registry `{source_name}` ({location}): {what} failed after {attempts} attempt{}", if *attempts == 1 { "" } else { "s" })]
    Network {
        /// Registry name.
        source_name: String,
        /// Where it was reached (`https://ghcr.io`).
        location: String,
        /// What was being fetched (``fetching the manifest of `acme:kv@1.2.0` ``).
        what: String,
        /// How many times it was tried.
        attempts: u32,
        /// The last attempt's failure (shared, so that callers waiting on
        /// the same request get the same error).
        #[source]
        cause: Arc<dyn std::error::Error + Send + Sync>,
    },
    /// Offline mode, and a cached file holding the item is damaged (it does
    /// not hash to its digest). Online, the cache discards and fetches it
    /// again instead.
    #[error("offline: the cached content of `{package}` from registry `{source_name}` is damaged: `{}` holds {actual}, not {expected}; delete it, or run once without --offline to fetch it again", path.display())]
    DamagedCache {
        /// Registry name.
        source_name: String,
        /// The package.
        package: PackageName,
        /// The damaged file.
        path: std::path::PathBuf,
        /// The digest it is filed under (OCI form).
        expected: String,
        /// The digest of its bytes (OCI form).
        actual: String,
    },
    /// Offline mode, and the item is not cached.
    #[error("offline: `{what}` is not in the cache of registry `{source_name}`; run once without --offline to fetch it")]
    NotCached {
        /// Registry name.
        source_name: String,
        /// What was missing.
        what: String,
    },
    /// Publishing would change an immutable release: the version exists
    /// with other bytes.
    #[error("`{package}@{version}` is already published in registry `{source_name}` with other content ({existing}; the new bytes are {new}); releases are immutable, publish a new version instead")]
    AlreadyPublished {
        /// Registry name.
        source_name: String,
        /// The package.
        package: PackageName,
        /// The version.
        version: Version,
        /// Digest of the bytes already published (OCI form, `sha256:<hex>`).
        existing: String,
        /// Digest of the bytes that were offered (OCI form).
        new: String,
    },
    /// The version differs from a published one only in build metadata
    /// (`1.0.0+b` beside `1.0.0+a`), which SemVer gives no precedence: no
    /// range could tell them apart.
    #[error("`{package}@{version}` differs from the published `{existing}` only in build metadata, which SemVer gives no precedence; registry `{source_name}` refuses it: publish a new version instead")]
    BuildMetadataOnly {
        /// Registry name.
        source_name: String,
        /// The package.
        package: PackageName,
        /// The version offered.
        version: Version,
        /// The published version it clashes with.
        existing: Version,
    },
    /// No release of the package has content with this digest.
    #[error("no release of `{package}` in registry `{source_name}` has content {digest}")]
    ContentNotFound {
        /// Registry name.
        source_name: String,
        /// The package whose content was asked for.
        package: PackageName,
        /// The digest asked for (OCI form).
        digest: String,
    },
    /// The package is routed to a registry whose backend cannot serve it
    /// (not implemented yet, or not configured).
    #[error("`{package}` is routed to registry `{source_name}`, which cannot be used: {message}")]
    BackendUnavailable {
        /// Registry name.
        source_name: String,
        /// The package asked for.
        package: PackageName,
        /// Why, naming the configuration file and key where there is one.
        message: String,
    },
    /// The source cannot do this (a read-only source asked to publish).
    #[error("registry `{source_name}` does not support {operation}")]
    Unsupported {
        /// Registry name.
        source_name: String,
        /// What was asked (`publish`, `yank`).
        operation: &'static str,
    },
    /// A registry refused or failed in a way of its own kind (a warg log
    /// that does not validate, a proof that does not hold, a namespace
    /// imported from another registry): the backend's error, naming what
    /// it was about, is the source.
    #[error("registry `{source_name}` failed {what}")]
    Backend {
        /// Registry name.
        source_name: String,
        /// What was being done (``listing `acme:kv` ``).
        what: String,
        /// The backend's error.
        #[source]
        cause: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Anything else, with its context already in the message.
    #[error("{0}")]
    Other(String),
}

/// Refuses to publish `version` beside a published version that differs
/// from it only in build metadata ([`SourceError::BuildMetadataOnly`]).
/// Every source that publishes calls it with the versions it holds.
pub fn check_build_metadata<'v>(
    source_name: &str,
    package: &PackageName,
    version: &Version,
    published: impl IntoIterator<Item = &'v Version>,
) -> Result<(), SourceError> {
    let same_precedence = |v: &Version| {
        (v.major, v.minor, v.patch, &v.pre)
            == (version.major, version.minor, version.patch, &version.pre)
    };
    match published
        .into_iter()
        .find(|v| same_precedence(v) && v.build != version.build)
    {
        Some(existing) => Err(SourceError::BuildMetadataOnly {
            source_name: source_name.to_string(),
            package: package.clone(),
            version: version.clone(),
            existing: existing.clone(),
        }),
        None => Ok(()),
    }
}

/// `@1.2.0`, or nothing: a release's version after its package name.
fn at_version(version: Option<&Version>) -> String {
    version.map(|v| format!("@{v}")).unwrap_or_default()
}

/// `` (file `/path`)``, or nothing: where bytes were read from.
fn in_file(path: Option<&Path>) -> String {
    path.map(|p| format!(" (file `{}`)", p.display()))
        .unwrap_or_default()
}

/// A package's releases as a source lists them, shared: the solver asks
/// once per package per solve, and a source that keeps its lists (memory,
/// a cache, a network source's snapshot) hands out the same list each time
/// without copying it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    /// Every release, yanked ones flagged, in ascending version order.
    pub releases: Arc<[Release]>,
    /// The source's [`Stamp`] of this list, taken before it was read (a
    /// change while reading gives a stamp that no longer matches), when the
    /// source can promise that an equal stamp later means an equal list;
    /// `None` otherwise.
    pub stamp: Option<Stamp>,
}

impl Listing {
    /// A list with no freshness promise.
    pub fn unstamped(releases: impl Into<Arc<[Release]>>) -> Self {
        Listing {
            releases: releases.into(),
            stamp: None,
        }
    }
}

/// A package source: list a package's releases, read a release's
/// metadata, fetch a release's bytes by version and digest.
///
/// This is the whole of what the solver and the compose passes need, and
/// its five methods are required: there is no default that could quietly
/// copy, or quietly answer for a source that routes. What only some
/// sources can do lives in traits of its own, reached through accessors
/// that say whether the source can: [`Publish`] (publishing and yanking)
/// through [`Source::publisher`], and [`Hints`] (prefetching, cheap
/// digests, freshness stamps) through [`Source::hints`]. The accessors
/// answer `None` unless a source offers the capability, and that `None`
/// is an answer the caller acts on (the command line reports that a
/// registry cannot publish; the solver does not prefetch; the cache asks
/// for metadata instead of a digest), never a silent no-op. Wrappers
/// (pointers, the cache, the router) forward them.
///
/// Implementations are shared across threads (`Send + Sync`) and may be
/// slow (remote).
///
/// **Which registry a lock file records** is [`Source::registry_for`], on
/// this trait and required, because every resolution records it for every
/// package and only the source knows its routing: a router
/// ([`Registries`](crate::Registries)) answers the registry the
/// configuration maps the package to, a wrapper (the cache) its inner
/// source's answer, and a single registry its own name. A default of
/// [`Source::name`] would be right for single registries and silently
/// wrong for any wrapper that forgot to forward it: every lock file would
/// name the wrong registry, and nothing would fail.
pub trait Source: Send + Sync {
    /// The source's name, as its errors name it.
    fn name(&self) -> &str;

    /// The name of the registry that serves `package`, as a lock file
    /// records it (see the [trait docs](Source) for why it is here).
    fn registry_for(&self, package: &PackageName) -> &str;

    /// Every release of `package`, shared, with the list's stamp when the
    /// source has one. An unknown package is
    /// [`SourceError::PackageNotFound`].
    fn versions(&self, package: &PackageName) -> Result<Listing, SourceError>;

    /// The metadata of one release.
    fn metadata(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<Arc<ReleaseMetadata>, SourceError>;

    /// The bytes of `package@version`, checked against `digest` (a digest
    /// the caller learned from [`Source::metadata`] or a lock file): bytes
    /// of another digest are [`SourceError::DigestMismatch`]. The version
    /// tells the source where to look, so no source needs to search a
    /// package's releases for a digest.
    fn fetch(
        &self,
        package: &PackageName,
        version: &Version,
        digest: &Integrity,
    ) -> Result<Verified, SourceError>;

    /// A number that changes whenever any release list the source hands
    /// out changes (a publish, a yank, an unyank), when the source keeps
    /// one: while it stays the same, [`Source::versions`] answers every
    /// package as it did before (the same shared list, or the same
    /// absence), so a caller that kept those answers need not ask again.
    /// `None` (the default) promises nothing, and the caller asks for
    /// each list as usual; only a source that sees every change itself
    /// (an in-memory one) can promise it.
    fn generation(&self) -> Option<u64> {
        None
    }

    /// What the source can tell cheaply or start early; `None` when
    /// nothing (the caller then uses the core methods alone).
    fn hints(&self) -> Option<&dyn Hints> {
        None
    }

    /// Publishing and yanking, for sources that can; `None` for read-only
    /// ones (the caller reports that the registry cannot publish).
    fn publisher(&self) -> Option<&dyn Publish> {
        None
    }
}

/// What a source can tell more cheaply than [`Source`]'s core methods, or
/// start before it is asked: reached through [`Source::hints`].
///
/// Every method is required: each source says what it does with each hint,
/// even when that is nothing.
pub trait Hints: Send + Sync {
    /// The caller will soon want the version lists of these packages and
    /// the metadata of these releases (`None`: only the version list; the
    /// solver names the release it wants once it knows). Must return
    /// at once: a remote source starts the requests (bounded concurrency)
    /// and answers later calls from what arrived.
    fn prefetch(&self, wanted: &[(PackageName, Option<Version>)]);

    /// The content digest of one release, without its dependency metadata:
    /// a cache uses it to find metadata it already has by digest without
    /// asking the source to parse anything. `None` when the source has no
    /// cheaper way than [`Source::metadata`] (the caller asks that
    /// instead).
    fn release_digest(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Option<Result<Integrity, SourceError>>;

    /// A stamp of `package`'s version list, without listing it: if a later
    /// [`Source::versions`] answers a [`Listing`] with the same stamp, the
    /// list is the same. `None` when the source cannot promise that or
    /// cannot tell cheaply; errors are `None` too (the real call reports
    /// them).
    fn versions_stamp(&self, package: &PackageName) -> Option<Stamp>;

    /// A stamp of one release's bytes: if a later call answers the same
    /// stamp, the bytes (so [`Hints::release_digest`] and
    /// [`Source::metadata`]) are the same. A caller that records a digest
    /// with a stamp must take the stamp *before* it reads the digest.
    /// `None` when the source cannot promise that.
    fn release_stamp(&self, package: &PackageName, version: &Version) -> Option<Stamp>;
}

/// Publishing and yanking: reached through [`Source::publisher`], for the
/// sources that can.
pub trait Publish: Send + Sync {
    /// Publishes `bytes` as `package@version`. Releases are immutable:
    /// the same bytes again are a no-op, other bytes an
    /// [`SourceError::AlreadyPublished`]. The bytes must be a component
    /// that validates ([`SourceError::InvalidComponent`] otherwise).
    fn publish(
        &self,
        package: &PackageName,
        version: &Version,
        bytes: &[u8],
    ) -> Result<ReleaseMetadata, SourceError>;

    /// Marks a release yanked (or not). The bytes stay: a lock may pin a
    /// yanked release. A registry kind with no yank answers
    /// [`SourceError::Unsupported`] saying so.
    fn set_yanked(
        &self,
        package: &PackageName,
        version: &Version,
        yanked: bool,
    ) -> Result<(), SourceError>;
}

/// Forwards every method to the source behind a pointer.
macro_rules! forward_source {
    ($($ptr:ty),*) => {$(
        impl<S: Source + ?Sized> Source for $ptr {
            fn name(&self) -> &str {
                (**self).name()
            }
            fn registry_for(&self, package: &PackageName) -> &str {
                (**self).registry_for(package)
            }
            fn versions(&self, package: &PackageName) -> Result<Listing, SourceError> {
                (**self).versions(package)
            }
            fn metadata(
                &self,
                package: &PackageName,
                version: &Version,
            ) -> Result<Arc<ReleaseMetadata>, SourceError> {
                (**self).metadata(package, version)
            }
            fn fetch(
                &self,
                package: &PackageName,
                version: &Version,
                digest: &Integrity,
            ) -> Result<Verified, SourceError> {
                (**self).fetch(package, version, digest)
            }
            fn generation(&self) -> Option<u64> {
                (**self).generation()
            }
            fn hints(&self) -> Option<&dyn Hints> {
                (**self).hints()
            }
            fn publisher(&self) -> Option<&dyn Publish> {
                (**self).publisher()
            }
        }
    )*};
}

forward_source!(Arc<S>, Box<S>, &S);
