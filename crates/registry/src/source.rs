//! The one trait every package source implements.

use std::sync::Arc;

use semver::Version;
use serde::{Deserialize, Serialize};
use warg_depsolve_names::{DepRef, ImportClass, Integrity, InterfaceName, PackageName};

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
        let class = match self.kind.as_str() {
            "declared" => ImportClass::Declared(DepRef::parse(&self.reference).ok()?),
            "legacy" => ImportClass::Legacy(DepRef::parse(&self.reference).ok()?),
            "interface" => ImportClass::Interface(InterfaceName::parse(&self.reference)?),
            _ => return None,
        };
        Some(Dependency {
            import: self.import.clone(),
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
}

/// A failure of a source, always naming the source and what was asked.
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
        "digest mismatch for `{package}` from `{source_name}`: expected {expected}, found {actual}"
    )]
    DigestMismatch {
        /// Registry (or cache) name.
        source_name: String,
        /// The package whose bytes were read.
        package: String,
        /// The digest asked for.
        expected: String,
        /// The digest of the bytes actually read.
        actual: String,
    },
    /// A release's bytes are not a readable component.
    #[error("`{package}@{version}` from `{source_name}` is not a usable component: {message}")]
    InvalidComponent {
        /// Registry name.
        source_name: String,
        /// The package.
        package: PackageName,
        /// The version.
        version: Version,
        /// What is wrong with it.
        message: String,
    },
    /// The source could not be reached or read (I/O, network).
    #[error("registry `{source_name}` unavailable while reading `{what}`: {message}")]
    Unavailable {
        /// Registry name.
        source_name: String,
        /// What was being read (a package, version or path).
        what: String,
        /// The underlying failure.
        message: String,
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

/// A package source: list versions, read a release's metadata, fetch bytes
/// by digest.
///
/// Implementations are shared across threads (`Send + Sync`) and may be
/// slow (remote). The solver tells a source what it is about to need with
/// [`Source::prefetch`], which must not block: a remote source starts the
/// requests (bounded concurrency) and answers later calls from what arrived;
/// a local one may ignore it.
pub trait Source: Send + Sync {
    /// The registry's name, used in errors and recorded in lock files.
    fn name(&self) -> &str;

    /// Every release of `package`, yanked ones flagged, in ascending version
    /// order. An unknown package is [`SourceError::PackageNotFound`].
    fn versions(&self, package: &PackageName) -> Result<Vec<Release>, SourceError>;

    /// [`Source::versions`] as a shared list: a source that keeps its lists
    /// hands out the same one without copying it (the solver asks once per
    /// package per solve). The default copies [`Source::versions`].
    fn versions_shared(&self, package: &PackageName) -> Result<Arc<[Release]>, SourceError> {
        self.versions(package).map(Arc::from)
    }

    /// The metadata of one release.
    fn metadata(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<Arc<ReleaseMetadata>, SourceError>;

    /// The bytes with this digest, checked against it before they are
    /// returned. `package` is for routing and error messages.
    fn fetch(&self, package: &PackageName, digest: &Integrity) -> Result<Arc<[u8]>, SourceError>;

    /// The content digest of one release, without its dependency metadata.
    ///
    /// Caches use it to find a release's metadata by digest without asking
    /// the source to parse anything: a source that can learn a digest more
    /// cheaply than it can scan the bytes (a local file is hashed, an OCI
    /// manifest names its layer) overrides it. The default asks
    /// [`Source::metadata`].
    fn release_digest(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<Integrity, SourceError> {
        Ok(self.metadata(package, version)?.digest.clone())
    }

    /// A stamp of `package`'s version list: if a later call answers the
    /// same stamp, [`Source::versions`] would answer the same list. `None`
    /// (the default) when the source cannot promise that, or cannot tell
    /// cheaply; errors are `None` too (the real call reports them).
    fn versions_stamp(&self, package: &PackageName) -> Option<Stamp> {
        let _ = package;
        None
    }

    /// [`Source::versions`] together with the stamp of the list returned,
    /// taken before the list was read (so a change while reading gives a
    /// stamp that no longer matches). The default has no stamp.
    fn versions_stamped(
        &self,
        package: &PackageName,
    ) -> Result<(Vec<Release>, Option<Stamp>), SourceError> {
        Ok((self.versions(package)?, None))
    }

    /// A stamp of one release's bytes: if a later call answers the same
    /// stamp, the bytes (so [`Source::release_digest`] and
    /// [`Source::metadata`]) are the same. A caller that records a digest
    /// with a stamp must take the stamp *before* it reads the digest. `None`
    /// (the default) when the source cannot promise that.
    fn release_stamp(&self, package: &PackageName, version: &Version) -> Option<Stamp> {
        let _ = (package, version);
        None
    }

    /// The name of the registry that serves `package`, as a lock file
    /// records it. A single registry answers its own [`Source::name`] (the
    /// default); a router such as [`Registries`](crate::Registries) answers
    /// the registry its configuration maps the package to.
    fn registry_for(&self, package: &PackageName) -> &str {
        let _ = package;
        self.name()
    }

    /// A hint that the caller will soon want the version lists of these
    /// packages and the metadata of these releases (`None`: the newest few).
    /// Must return at once; the default does nothing.
    fn prefetch(&self, wanted: &[(PackageName, Option<Version>)]) {
        let _ = wanted;
    }

    /// Publishes `bytes` as `package@version`. Releases are immutable:
    /// the same bytes again are a no-op, other bytes an
    /// [`SourceError::AlreadyPublished`]. Read-only sources answer
    /// [`SourceError::Unsupported`] (the default).
    fn publish(
        &self,
        package: &PackageName,
        version: &Version,
        bytes: &[u8],
    ) -> Result<ReleaseMetadata, SourceError> {
        let _ = (package, version, bytes);
        Err(SourceError::Unsupported {
            source_name: self.name().to_string(),
            operation: "publish",
        })
    }

    /// Marks a release yanked (or not). The bytes stay: a lock may pin a
    /// yanked release. Read-only sources answer
    /// [`SourceError::Unsupported`] (the default).
    fn set_yanked(
        &self,
        package: &PackageName,
        version: &Version,
        yanked: bool,
    ) -> Result<(), SourceError> {
        let _ = (package, version, yanked);
        Err(SourceError::Unsupported {
            source_name: self.name().to_string(),
            operation: "yank",
        })
    }
}

/// Forwards every method to the source behind a pointer.
macro_rules! forward_source {
    ($($ptr:ty),*) => {$(
        impl<S: Source + ?Sized> Source for $ptr {
            fn name(&self) -> &str {
                (**self).name()
            }
            fn versions(&self, package: &PackageName) -> Result<Vec<Release>, SourceError> {
                (**self).versions(package)
            }
            fn versions_shared(&self, package: &PackageName) -> Result<Arc<[Release]>, SourceError> {
                (**self).versions_shared(package)
            }
            fn metadata(
                &self,
                package: &PackageName,
                version: &Version,
            ) -> Result<Arc<ReleaseMetadata>, SourceError> {
                (**self).metadata(package, version)
            }
            fn fetch(&self, package: &PackageName, digest: &Integrity) -> Result<Arc<[u8]>, SourceError> {
                (**self).fetch(package, digest)
            }
            fn prefetch(&self, wanted: &[(PackageName, Option<Version>)]) {
                (**self).prefetch(wanted)
            }
            fn release_digest(
                &self,
                package: &PackageName,
                version: &Version,
            ) -> Result<Integrity, SourceError> {
                (**self).release_digest(package, version)
            }
            fn registry_for(&self, package: &PackageName) -> &str {
                (**self).registry_for(package)
            }
            fn versions_stamp(&self, package: &PackageName) -> Option<Stamp> {
                (**self).versions_stamp(package)
            }
            fn versions_stamped(
                &self,
                package: &PackageName,
            ) -> Result<(Vec<Release>, Option<Stamp>), SourceError> {
                (**self).versions_stamped(package)
            }
            fn release_stamp(&self, package: &PackageName, version: &Version) -> Option<Stamp> {
                (**self).release_stamp(package, version)
            }
            fn publish(
                &self,
                package: &PackageName,
                version: &Version,
                bytes: &[u8],
            ) -> Result<ReleaseMetadata, SourceError> {
                (**self).publish(package, version, bytes)
            }
            fn set_yanked(
                &self,
                package: &PackageName,
                version: &Version,
                yanked: bool,
            ) -> Result<(), SourceError> {
                (**self).set_yanked(package, version, yanked)
            }
        }
    )*};
}

forward_source!(Arc<S>, Box<S>, &S);
