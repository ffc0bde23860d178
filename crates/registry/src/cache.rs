//! Caches: content by digest, metadata by digest, and the last-seen version
//! lists; [`CachedSource`] puts them in front of any [`Source`].
//!
//! # Layout
//!
//! ```text
//! <cache>/sha256/<hex>                                content (any algorithm: <alg>/<hex>)
//! <cache>/metadata/sha256/<hex>.json                  scanned metadata of that content
//! <cache>/index/<registry>/<ns>/<name>/versions.json  last-seen version list
//! <cache>/index/<registry>/<ns>/<name>/<version>.digest  the release's digest
//! <cache>/index/<registry>/<ns>/<name>/package.json   summary: all of the above for the package, with stamps
//! ```
//!
//! `<registry>` is the registry name with every byte outside `[a-z0-9_-]`
//! written as `%XX` (`localhost:5000` is `localhost%3A5000`), so any name
//! is one safe path component.
//!
//! Content and metadata are keyed by digest, so they are shared by every
//! registry and every package that holds the same bytes: metadata records
//! only what follows from the bytes (dependencies, interface exports, size),
//! and the package and version are filled in from the request. The index is
//! per registry, and is what lets an offline [`CachedSource`] answer
//! version lists and metadata without its source.
//!
//! # The package summary: a warm solve reads one file per package
//!
//! `package.json` holds what a solve needs of one package: its version list
//! and, for each release seen, its digest and metadata, each with the
//! source's [`Stamp`] of what it was read from (for a local registry: the
//! identity of the package directory and of the release file; see
//! [`LocalRegistry`](crate::LocalRegistry)). A new [`CachedSource`] reads
//! a package's summary once; online, it asks the source for the current
//! stamp (one `stat`) and reuses the recorded answer when it is the same,
//! so a warm solve over a local registry costs one file read and a couple
//! of `stat`s per package: no directory listing, no hashing, no per-release
//! file. When a stamp differs (a release published or yanked, a file
//! replaced) or the source has none (a remote source, a file changed
//! within the last seconds), the source is asked as before and the summary
//! updated. It is rewritten only when something in it changed.
//!
//! # Integrity and concurrency
//!
//! Every content read is hashed and compared with the digest it is filed
//! under; a mismatch is [`SourceError::DigestMismatch`] naming both digests
//! and the file. Metadata files record their digest and are checked too.
//!
//! Every file is written whole to a temporary file in its directory and
//! renamed into place, so readers in any process see an old file, a new
//! file or none, never a torn one. Content and metadata files are functions
//! of their digest (two writers write the same bytes), each release's
//! digest has its own file (immutable releases: the same bytes each time),
//! and a version list is replaced whole by the latest writer. The summary
//! is the one file that is read, changed and written back, so two processes
//! updating one package's summary at once can lose one's update; it is
//! therefore only ever a copy of the other index files (written before it)
//! plus stamps: a lost or stale entry costs a re-read of the source or of
//! those files, and an entry is used only while the source's stamp equals
//! the one recorded with it, which is taken before the data it stamps is
//! read. So several processes can fill one cache at once without a lock,
//! and none can corrupt it. Content is flushed to disk before its rename;
//! metadata and index files are derived data that readers treat as absent
//! when unreadable, so they skip the flush.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use semver::Version;
use serde::{Deserialize, Serialize};
use warg_depsolve_names::{Integrity, InterfaceName, PackageName};

use crate::fsutil::{is_single_component, join_inside, write_atomic, write_atomic_with, Existing};
use crate::source::{DependencyRecord, Release, ReleaseMetadata, Source, SourceError, Stamp};

/// The version of the metadata and index file formats.
const FORMAT: u32 = 1;

/// A failure of the cache itself, naming the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    /// A content file does not hash to the digest it is filed under.
    #[error("cache file `{path}` is corrupt: expected {expected}, found {actual}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The digest it is filed under (OCI form).
        expected: String,
        /// The digest of its bytes (OCI form).
        actual: String,
    },
    /// The cache could not be read or written.
    #[error("cache I/O error at `{path}`: {message}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        message: String,
    },
}

impl CacheError {
    fn io(path: &Path, e: io::Error) -> Self {
        CacheError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }

    /// The error as a [`SourceError`] naming the registry and package it
    /// was read for.
    pub fn into_source_error(self, registry: &str, package: &PackageName) -> SourceError {
        match self {
            CacheError::Corrupt {
                path,
                expected,
                actual,
            } => SourceError::DigestMismatch {
                source_name: registry.to_string(),
                package: format!("{package}` in cache file `{}", path.display()),
                expected,
                actual,
            },
            CacheError::Io { path, message } => SourceError::Unavailable {
                source_name: registry.to_string(),
                what: format!("cached data of `{package}` at `{}`", path.display()),
                message,
            },
        }
    }
}

/// A content-addressed store: a directory of `<algorithm>/<hex digest>`
/// files, every read checked against its digest.
#[derive(Clone, Debug)]
pub struct ContentStore {
    dir: PathBuf,
}

impl ContentStore {
    /// A store in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ContentStore { dir: dir.into() }
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file content with `digest` is (or would be) stored in.
    pub fn path_of(&self, digest: &Integrity) -> PathBuf {
        let hex = digest_hex(digest);
        self.dir.join(digest.algorithm.name()).join(hex)
    }

    /// The bytes with `digest`, checked against it; `None` if not stored.
    pub fn get(&self, digest: &Integrity) -> Result<Option<Arc<[u8]>>, CacheError> {
        let path = self.path_of(digest);
        let bytes = match crate::fsutil::read_shared(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(CacheError::io(&path, e)),
        };
        if !digest.matches(&bytes) {
            return Err(CacheError::Corrupt {
                path,
                expected: digest.to_oci(),
                actual: Integrity::compute(digest.algorithm, &bytes).to_oci(),
            });
        }
        Ok(Some(bytes))
    }

    /// Stores `bytes` under their SHA-256 digest and returns it.
    pub fn put(&self, bytes: &[u8]) -> Result<Integrity, CacheError> {
        let digest = Integrity::sha256(bytes);
        self.insert(&digest, bytes)?;
        Ok(digest)
    }

    /// Stores `bytes` under `digest`, which they must match (a mismatch is
    /// [`CacheError::Corrupt`] and nothing is written). Replaces a stored
    /// file, which heals one that was damaged.
    pub fn insert(&self, digest: &Integrity, bytes: &[u8]) -> Result<(), CacheError> {
        let path = self.path_of(digest);
        if !digest.matches(bytes) {
            return Err(CacheError::Corrupt {
                path,
                expected: digest.to_oci(),
                actual: Integrity::compute(digest.algorithm, bytes).to_oci(),
            });
        }
        write_atomic(&path, bytes, Existing::Replace).map_err(|e| CacheError::io(&path, e))
    }

    /// Whether content with `digest` is stored (unchecked).
    pub fn contains(&self, digest: &Integrity) -> bool {
        self.path_of(digest).is_file()
    }
}

/// Cached scan results: digest to the metadata that follows from those
/// bytes. JSON files, one per digest.
#[derive(Clone, Debug)]
pub struct MetadataCache {
    dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct MetadataFile {
    format: u32,
    digest: Integrity,
    #[serde(flatten)]
    meta: MetaRecord,
}

/// What the bytes of one release say (its metadata less package, version
/// and digest), as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct MetaRecord {
    size: u64,
    dependencies: Vec<DependencyRecord>,
    interface_exports: Vec<String>,
}

impl MetaRecord {
    fn of(meta: &ReleaseMetadata) -> Self {
        // Metadata never lists host imports; `of` skips them.
        let dependencies = meta
            .dependencies
            .iter()
            .filter_map(DependencyRecord::of)
            .collect();
        MetaRecord {
            size: meta.size,
            dependencies,
            interface_exports: meta
                .interface_exports
                .iter()
                .map(|i| i.to_string())
                .collect(),
        }
    }

    /// The metadata this record describes, as `package@version` with
    /// `digest`; `None` if a name no longer parses.
    fn to_metadata(
        &self,
        package: &PackageName,
        version: &Version,
        digest: &Integrity,
    ) -> Option<ReleaseMetadata> {
        let dependencies = self
            .dependencies
            .iter()
            .map(DependencyRecord::to_dependency)
            .collect::<Option<Vec<_>>>()?;
        let interface_exports = self
            .interface_exports
            .iter()
            .map(|i| InterfaceName::parse(i))
            .collect::<Option<Vec<_>>>()?;
        Some(ReleaseMetadata {
            package: package.clone(),
            version: version.clone(),
            digest: digest.clone(),
            size: self.size,
            dependencies,
            interface_exports,
        })
    }
}

impl MetadataCache {
    /// A metadata cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        MetadataCache { dir: dir.into() }
    }

    /// The file the metadata of `digest` is (or would be) stored in.
    pub fn path_of(&self, digest: &Integrity) -> PathBuf {
        self.dir
            .join(digest.algorithm.name())
            .join(format!("{}.json", digest_hex(digest)))
    }

    /// The cached metadata of the content with `digest`, filled in as
    /// `package@version`. `None` if absent, or if the file cannot be read
    /// back (derived data: it is recomputed and rewritten).
    pub fn get(
        &self,
        package: &PackageName,
        version: &Version,
        digest: &Integrity,
    ) -> Result<Option<ReleaseMetadata>, CacheError> {
        let path = self.path_of(digest);
        let text = match std::fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(CacheError::io(&path, e)),
        };
        let Ok(file) = serde_json::from_slice::<MetadataFile>(&text) else {
            return Ok(None);
        };
        if file.format != FORMAT || file.digest != *digest {
            return Ok(None);
        }
        Ok(file.meta.to_metadata(package, version, digest))
    }

    /// Stores what `meta` says about its content (not its package or
    /// version, which the same bytes may have several of).
    pub fn put(&self, meta: &ReleaseMetadata) -> Result<(), CacheError> {
        let path = self.path_of(&meta.digest);
        let file = MetadataFile {
            format: FORMAT,
            digest: meta.digest.clone(),
            meta: MetaRecord::of(meta),
        };
        let text = serde_json::to_vec_pretty(&file).map_err(|e| CacheError::Io {
            path: path.clone(),
            message: e.to_string(),
        })?;
        write_atomic_with(&path, &text, Existing::Replace, false)
            .map_err(|e| CacheError::io(&path, e))
    }
}

#[derive(Serialize, Deserialize, PartialEq)]
struct VersionsFile {
    format: u32,
    registry: String,
    package: PackageName,
    releases: Vec<Release>,
}

/// The per-package summary of the index: everything a warm solve needs
/// about one package in one file, with the stamps that tell whether it is
/// still current. Derived from the per-item files next to it (written
/// first), so a summary that is lost, stale or unreadable costs a re-read,
/// never a wrong answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct PackageFile {
    format: u32,
    registry: String,
    package: PackageName,
    /// The source's stamp of the version list below, when it had one.
    #[serde(default)]
    versions_stamp: Option<Stamp>,
    /// The last-seen version list, if the package was ever listed.
    #[serde(default, with = "release_list")]
    releases: Option<Vec<Release>>,
    /// What is known of single releases.
    #[serde(default)]
    entries: BTreeMap<Version, ReleaseEntry>,
}

/// A version list as one string, `1.0.0 1.1.0 !1.2.0` (`!`: yanked):
/// several times quicker to read back than a list of objects, and this is
/// the bulk of a summary.
mod release_list {
    use semver::Version;
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::source::Release;

    pub(super) fn serialize<S: Serializer>(
        releases: &Option<Vec<Release>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let Some(releases) = releases else {
            return s.serialize_none();
        };
        let mut text = String::new();
        for r in releases {
            if !text.is_empty() {
                text.push(' ');
            }
            if r.yanked {
                text.push('!');
            }
            text.push_str(&r.version.to_string());
        }
        s.serialize_some(&text)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<Release>>, D::Error> {
        let Some(text) = Option::<std::borrow::Cow<'de, str>>::deserialize(d)? else {
            return Ok(None);
        };
        text.split(' ')
            .filter(|w| !w.is_empty())
            .map(|w| {
                let (yanked, v) = match w.strip_prefix('!') {
                    Some(v) => (true, v),
                    None => (false, w),
                };
                let version = Version::parse(v).map_err(serde::de::Error::custom)?;
                Ok(Release { version, yanked })
            })
            .collect::<Result<_, _>>()
            .map(Some)
    }
}

/// One release in a [`PackageFile`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct ReleaseEntry {
    /// The source's stamp of the bytes `digest` was read from (taken before
    /// reading them), when it had one.
    #[serde(default)]
    stamp: Option<Stamp>,
    digest: Integrity,
    /// The metadata of the bytes with `digest`, once known.
    #[serde(default)]
    meta: Option<MetaRecord>,
}

/// The per-registry index: last-seen version lists and release digests.
#[derive(Clone, Debug)]
struct Index {
    dir: PathBuf,
}

impl Index {
    fn package_dir(&self, registry: &str, package: &PackageName) -> Option<PathBuf> {
        let registry = encode_component(registry);
        join_inside(&self.dir, &[&registry, package.namespace(), package.name()])
    }

    fn summary_path(&self, registry: &str, package: &PackageName) -> Option<PathBuf> {
        Some(self.package_dir(registry, package)?.join("package.json"))
    }

    /// The package's summary, or an empty one when there is none (or it
    /// cannot be read back: derived data, rebuilt as it is used).
    fn summary(&self, registry: &str, package: &PackageName) -> PackageFile {
        let empty = || PackageFile {
            format: FORMAT,
            registry: registry.to_string(),
            package: package.clone(),
            versions_stamp: None,
            releases: None,
            entries: BTreeMap::new(),
        };
        let Some(path) = self.summary_path(registry, package) else {
            return empty();
        };
        read_small(&path)
            .ok()
            .and_then(|text| serde_json::from_slice::<PackageFile>(&text).ok())
            .filter(|f| f.format == FORMAT && f.registry == registry && f.package == *package)
            .unwrap_or_else(empty)
    }

    /// Replaces the package's summary (last writer wins: see the module
    /// docs).
    fn set_summary(&self, file: &PackageFile) -> Result<(), CacheError> {
        let Some(path) = self.summary_path(&file.registry, &file.package) else {
            return Ok(());
        };
        let text = serde_json::to_vec(file).map_err(|e| CacheError::Io {
            path: path.clone(),
            message: e.to_string(),
        })?;
        write_atomic_with(&path, &text, Existing::Replace, false)
            .map_err(|e| CacheError::io(&path, e))
    }

    fn versions_path(&self, registry: &str, package: &PackageName) -> Option<PathBuf> {
        Some(self.package_dir(registry, package)?.join("versions.json"))
    }

    fn digest_path(
        &self,
        registry: &str,
        package: &PackageName,
        version: &Version,
    ) -> Option<PathBuf> {
        let file = format!("{version}.digest");
        is_single_component(&file).then_some(())?;
        Some(self.package_dir(registry, package)?.join(file))
    }

    fn versions(
        &self,
        registry: &str,
        package: &PackageName,
    ) -> Result<Option<Vec<Release>>, CacheError> {
        let Some(path) = self.versions_path(registry, package) else {
            return Ok(None);
        };
        let text = match std::fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(CacheError::io(&path, e)),
        };
        Ok(serde_json::from_slice::<VersionsFile>(&text)
            .ok()
            .filter(|f| f.format == FORMAT && f.registry == registry && f.package == *package)
            .map(|f| f.releases))
    }

    fn set_versions(
        &self,
        registry: &str,
        package: &PackageName,
        releases: &[Release],
    ) -> Result<(), CacheError> {
        // Reading a small file costs less than writing one atomically; a
        // warm solve in a new process finds every list unchanged.
        if self.versions(registry, package)?.as_deref() == Some(releases) {
            return Ok(());
        }
        let Some(path) = self.versions_path(registry, package) else {
            return Ok(());
        };
        let file = VersionsFile {
            format: FORMAT,
            registry: registry.to_string(),
            package: package.clone(),
            releases: releases.to_vec(),
        };
        let text = serde_json::to_vec_pretty(&file).map_err(|e| CacheError::Io {
            path: path.clone(),
            message: e.to_string(),
        })?;
        write_atomic_with(&path, &text, Existing::Replace, false)
            .map_err(|e| CacheError::io(&path, e))
    }

    fn digest(
        &self,
        registry: &str,
        package: &PackageName,
        version: &Version,
    ) -> Result<Option<Integrity>, CacheError> {
        let Some(path) = self.digest_path(registry, package, version) else {
            return Ok(None);
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Integrity::parse_oci(text.trim()).ok()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CacheError::io(&path, e)),
        }
    }

    fn set_digest(
        &self,
        registry: &str,
        package: &PackageName,
        version: &Version,
        digest: &Integrity,
    ) -> Result<(), CacheError> {
        if self.digest(registry, package, version)?.as_ref() == Some(digest) {
            return Ok(());
        }
        let Some(path) = self.digest_path(registry, package, version) else {
            return Ok(());
        };
        let text = format!("{}\n", digest.to_oci());
        write_atomic_with(&path, text.as_bytes(), Existing::Replace, false)
            .map_err(|e| CacheError::io(&path, e))
    }
}

/// A cache directory: content store, metadata cache and index (see the
/// [module docs](self) for the layout).
#[derive(Clone, Debug)]
pub struct Cache {
    root: PathBuf,
    content: ContentStore,
    metadata: MetadataCache,
    index: Index,
}

impl Cache {
    /// The cache in `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        Cache {
            content: ContentStore::new(root.clone()),
            metadata: MetadataCache::new(root.join("metadata")),
            index: Index {
                dir: root.join("index"),
            },
            root,
        }
    }

    /// The cache's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Its content store.
    pub fn content(&self) -> &ContentStore {
        &self.content
    }

    /// Its metadata cache.
    pub fn metadata(&self) -> &MetadataCache {
        &self.metadata
    }
}

/// What a [`CachedSource`] has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Metadata answered from the cache (memory or disk).
    pub metadata_hits: u64,
    /// Metadata asked of the inner source: the only path that parses.
    pub metadata_misses: u64,
    /// Content answered from the content store.
    pub content_hits: u64,
    /// Content fetched from the inner source.
    pub content_misses: u64,
}

#[derive(Default)]
struct Counters {
    metadata_hits: AtomicU64,
    metadata_misses: AtomicU64,
    content_hits: AtomicU64,
    content_misses: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Any [`Source`] behind a [`Cache`].
///
/// Online, version lists come from the inner source (and are recorded),
/// unless the source's [`Source::versions_stamp`] is the one recorded with
/// the list in the package summary; a release's metadata is found by its
/// digest ([`Source::release_digest`], which for a local registry hashes
/// the file without parsing it, or the summary's digest while
/// [`Source::release_stamp`] is unchanged) in the summary or the metadata
/// cache, and only on a miss is the inner source asked to scan it; content
/// comes from the content store, or from the inner source and is then
/// stored.
///
/// Offline ([`CachedSource::offline`]), the inner source is never asked:
/// version lists, release digests, metadata and content come from the cache
/// alone, and anything missing is [`SourceError::NotCached`] naming it.
///
/// ```
/// use warg_depsolve_registry::{Cache, CachedSource, LocalRegistry, Source};
/// let (reg_dir, cache_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
/// let local = LocalRegistry::new("local", reg_dir.path());
/// let (package, version) = ("test:empty".parse().unwrap(), "1.0.0".parse().unwrap());
/// local.publish(&package, &version, &wat::parse_str("(component)").unwrap()).unwrap();
///
/// let cached = CachedSource::new(&local, Cache::new(cache_dir.path()));
/// cached.versions(&package).unwrap();
/// cached.metadata(&package, &version).unwrap();
/// let scans = local.scans();
/// // A new process (here: a new instance) over the same cache parses nothing.
/// let again = CachedSource::new(&local, Cache::new(cache_dir.path()));
/// again.metadata(&package, &version).unwrap();
/// assert_eq!(local.scans(), scans);
/// // And offline, it answers without the registry at all.
/// let offline = CachedSource::offline(&local, Cache::new(cache_dir.path()));
/// assert_eq!(offline.versions(&package).unwrap().len(), 1);
/// ```
pub struct CachedSource<S> {
    inner: S,
    cache: Cache,
    offline: bool,
    /// Each package's summary as read from (and written to) the index, and
    /// the metadata handed out.
    summaries: Mutex<HashMap<PackageName, Summary>>,
    counters: Counters,
    /// Where warnings go (a damaged cache file discarded); none by default.
    warn: Option<Warn>,
}

/// A caller's sink for warnings (the CLI prints them on stderr).
pub type Warn = Arc<dyn Fn(&str) + Send + Sync>;

/// A package's summary in memory.
struct Summary {
    file: PackageFile,
    /// Changed since it was read or last written.
    dirty: bool,
    /// Metadata handed out by this instance: asked again, the same answer.
    memo: HashMap<Version, Arc<ReleaseMetadata>>,
}

impl<S> std::fmt::Debug for CachedSource<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedSource")
            .field("cache", &self.cache.root)
            .field("offline", &self.offline)
            .finish_non_exhaustive()
    }
}

impl<S: Source> CachedSource<S> {
    /// `inner` behind `cache`, online.
    pub fn new(inner: S, cache: Cache) -> Self {
        CachedSource {
            inner,
            cache,
            offline: false,
            summaries: Mutex::new(HashMap::new()),
            counters: Counters::default(),
            warn: None,
        }
    }

    /// Sends warnings (a damaged cache file discarded and fetched again) to
    /// `warn`; without it they are not reported.
    pub fn with_warnings(mut self, warn: Warn) -> Self {
        self.warn = Some(warn);
        self
    }

    /// `inner` behind `cache`, offline: the inner source is never asked
    /// (it names the registry and routes packages).
    pub fn offline(inner: S, cache: Cache) -> Self {
        CachedSource {
            offline: true,
            ..Self::new(inner, cache)
        }
    }

    /// Whether this source is offline.
    pub fn is_offline(&self) -> bool {
        self.offline
    }

    /// The inner source.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The cache.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// Counts of cache hits and misses so far.
    pub fn stats(&self) -> CacheStats {
        let c = &self.counters;
        CacheStats {
            metadata_hits: c.metadata_hits.load(Ordering::Relaxed),
            metadata_misses: c.metadata_misses.load(Ordering::Relaxed),
            content_hits: c.content_hits.load(Ordering::Relaxed),
            content_misses: c.content_misses.load(Ordering::Relaxed),
        }
    }

    fn not_cached(&self, package: &PackageName, what: String) -> SourceError {
        SourceError::NotCached {
            source_name: self.inner.registry_for(package).to_string(),
            what,
        }
    }

    /// The metadata this instance already handed out for the release.
    fn memo(&self, package: &PackageName, version: &Version) -> Option<Arc<ReleaseMetadata>> {
        self.with_summary(package, |s| s.memo.get(version).cloned())
    }

    fn record(&self, meta: Arc<ReleaseMetadata>) -> Arc<ReleaseMetadata> {
        self.with_summary(&meta.package, |s| {
            s.memo.insert(meta.version.clone(), meta.clone())
        });
        meta
    }

    /// Runs `f` on `package`'s summary, reading it from the index first if
    /// this instance has not yet. The lock is not held while reading.
    fn with_summary<T>(&self, package: &PackageName, f: impl FnOnce(&mut Summary) -> T) -> T {
        // Every update leaves a summary whole: a poisoned map is still good.
        let lock = || self.summaries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(summary) = lock().get_mut(package) {
            return f(summary);
        }
        let file = self
            .cache
            .index
            .summary(self.inner.registry_for(package), package);
        let mut summaries = lock();
        let summary = summaries.entry(package.clone()).or_insert(Summary {
            file,
            dirty: false,
            memo: HashMap::new(),
        });
        f(summary)
    }

    /// Writes `package`'s summary if it changed (offline: never).
    fn flush(&self, package: &PackageName) -> Result<(), SourceError> {
        if self.offline {
            return Ok(());
        }
        let file = self.with_summary(package, |s| {
            std::mem::take(&mut s.dirty).then(|| s.file.clone())
        });
        match file {
            Some(file) => self.cache.index.set_summary(&file).map_err(|e| {
                // Not written: try again on the next change.
                self.with_summary(package, |s| s.dirty = true);
                e.into_source_error(self.inner.registry_for(package), package)
            }),
            None => Ok(()),
        }
    }

    /// Lists `package` at the source and records the list (and its stamp)
    /// where it differs from the one recorded.
    fn list(
        &self,
        package: &PackageName,
        recorded: Option<Vec<Release>>,
        recorded_stamp: Option<Stamp>,
    ) -> Result<Vec<Release>, SourceError> {
        let registry = self.inner.registry_for(package);
        let (releases, stamp) = self.inner.versions_stamped(package)?;
        if recorded.as_ref() != Some(&releases) {
            self.cache
                .index
                .set_versions(registry, package, &releases)
                .map_err(|e| e.into_source_error(registry, package))?;
        }
        if recorded.as_ref() != Some(&releases) || recorded_stamp != stamp {
            self.with_summary(package, |s| {
                s.file.releases = Some(releases.clone());
                s.file.versions_stamp = stamp;
                s.dirty = true;
            });
            self.flush(package)?;
        }
        Ok(releases)
    }

    /// The digest of `package@version` (online: as the source says now,
    /// from the summary when the source's stamp of the release is the one
    /// recorded), updating the summary in memory; [`Self::flush`] writes it.
    fn digest_of(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<Integrity, SourceError> {
        if let Some(meta) = self.memo(package, version) {
            return Ok(meta.digest.clone());
        }
        let registry = self.inner.registry_for(package);
        let recorded = self.with_summary(package, |s| s.file.entries.get(version).cloned());
        if self.offline {
            if let Some(entry) = recorded {
                return Ok(entry.digest);
            }
            return self
                .cache
                .index
                .digest(registry, package, version)
                .map_err(|e| e.into_source_error(registry, package))?
                .ok_or_else(|| {
                    self.not_cached(package, format!("digest of `{package}@{version}`"))
                });
        }
        // The stamp before the digest: bytes replaced in between leave a
        // stamp that the next look does not match.
        let stamp = self.inner.release_stamp(package, version);
        if let Some(entry) = &recorded {
            if stamp.is_some() && entry.stamp == stamp {
                return Ok(entry.digest.clone());
            }
        }
        let digest = self.inner.release_digest(package, version)?;
        self.with_summary(package, |s| match s.file.entries.get_mut(version) {
            Some(entry) if entry.digest == digest => {
                if entry.stamp != stamp {
                    entry.stamp = stamp;
                    s.dirty = true;
                }
            }
            _ => {
                s.file.entries.insert(
                    version.clone(),
                    ReleaseEntry {
                        stamp,
                        digest: digest.clone(),
                        meta: None,
                    },
                );
                s.dirty = true;
            }
        });
        Ok(digest)
    }

    /// The metadata of `package@version` with `digest`, from the summary,
    /// the metadata cache or (online) the source, recorded in the summary.
    fn metadata_of(
        &self,
        package: &PackageName,
        version: &Version,
        digest: &Integrity,
    ) -> Result<Arc<ReleaseMetadata>, SourceError> {
        let registry = self.inner.registry_for(package);
        let inline = self.with_summary(package, |s| {
            s.file
                .entries
                .get(version)
                .filter(|e| e.digest == *digest)
                .and_then(|e| e.meta.as_ref())
                .and_then(|m| m.to_metadata(package, version, digest))
        });
        if let Some(meta) = inline {
            bump(&self.counters.metadata_hits);
            return Ok(self.record(Arc::new(meta)));
        }
        let cached = self
            .cache
            .metadata
            .get(package, version, digest)
            .map_err(|e| e.into_source_error(registry, package))?;
        let meta = match cached {
            Some(meta) => {
                bump(&self.counters.metadata_hits);
                Arc::new(meta)
            }
            None if self.offline => {
                return Err(self.not_cached(
                    package,
                    format!("metadata of `{package}@{version}` ({})", digest.to_oci()),
                ))
            }
            None => {
                bump(&self.counters.metadata_misses);
                let meta = self.inner.metadata(package, version)?;
                self.cache
                    .metadata
                    .put(&meta)
                    .map_err(|e| e.into_source_error(registry, package))?;
                meta
            }
        };
        if !self.offline {
            self.cache
                .index
                .set_digest(registry, package, version, &meta.digest)
                .map_err(|e| e.into_source_error(registry, package))?;
            self.with_summary(package, |s| {
                let record = Some(MetaRecord::of(&meta));
                match s.file.entries.get_mut(version) {
                    Some(entry) if entry.digest == meta.digest => {
                        if entry.meta != record {
                            entry.meta = record;
                            s.dirty = true;
                        }
                    }
                    // The source answered other bytes than it hashed a
                    // moment ago: record them, without a stamp.
                    _ => {
                        s.file.entries.insert(
                            version.clone(),
                            ReleaseEntry {
                                stamp: None,
                                digest: meta.digest.clone(),
                                meta: record,
                            },
                        );
                        s.dirty = true;
                    }
                }
            });
        }
        Ok(self.record(meta))
    }
}

impl<S: Source> Source for CachedSource<S> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    /// Publishing goes to the registry itself (never in offline mode); the
    /// new bytes are also kept in the content store.
    fn publish(
        &self,
        package: &PackageName,
        version: &Version,
        bytes: &[u8],
    ) -> Result<ReleaseMetadata, SourceError> {
        if self.offline {
            return Err(SourceError::NotCached {
                source_name: self.inner.name().to_string(),
                what: format!("publishing `{package}@{version}` needs the registry"),
            });
        }
        let meta = self.inner.publish(package, version, bytes)?;
        // Best effort: the release is published; a full cache disk must not
        // turn that into an error.
        let _ = self.cache.content().insert(&meta.digest, bytes);
        Ok(meta)
    }

    fn set_yanked(
        &self,
        package: &PackageName,
        version: &Version,
        yanked: bool,
    ) -> Result<(), SourceError> {
        self.inner.set_yanked(package, version, yanked)
    }

    fn registry_for(&self, package: &PackageName) -> &str {
        self.inner.registry_for(package)
    }

    fn versions(&self, package: &PackageName) -> Result<Vec<Release>, SourceError> {
        let registry = self.inner.registry_for(package);
        let (recorded, recorded_stamp) = self.with_summary(package, |s| {
            (s.file.releases.clone(), s.file.versions_stamp)
        });
        if self.offline {
            if let Some(releases) = recorded {
                return Ok(releases);
            }
            return self
                .cache
                .index
                .versions(registry, package)
                .map_err(|e| e.into_source_error(registry, package))?
                .ok_or_else(|| self.not_cached(package, format!("version list of `{package}`")));
        }
        match recorded {
            Some(releases)
                if recorded_stamp.is_some()
                    && self.inner.versions_stamp(package) == recorded_stamp =>
            {
                Ok(releases)
            }
            recorded => self.list(package, recorded, recorded_stamp),
        }
    }

    fn versions_stamp(&self, package: &PackageName) -> Option<Stamp> {
        // Offline, the cache's answer never changes under this instance.
        (!self.offline)
            .then(|| self.inner.versions_stamp(package))
            .flatten()
    }

    fn versions_stamped(
        &self,
        package: &PackageName,
    ) -> Result<(Vec<Release>, Option<Stamp>), SourceError> {
        let stamp = self.versions_stamp(package);
        Ok((self.versions(package)?, stamp))
    }

    fn release_stamp(&self, package: &PackageName, version: &Version) -> Option<Stamp> {
        (!self.offline)
            .then(|| self.inner.release_stamp(package, version))
            .flatten()
    }

    fn release_digest(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<Integrity, SourceError> {
        let digest = self.digest_of(package, version)?;
        self.flush(package)?;
        Ok(digest)
    }

    fn metadata(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<Arc<ReleaseMetadata>, SourceError> {
        if let Some(meta) = self.memo(package, version) {
            bump(&self.counters.metadata_hits);
            return Ok(meta);
        }
        let digest = self.digest_of(package, version)?;
        let meta = self.metadata_of(package, version, &digest);
        // Whatever was learned on the way is kept, even on an error.
        let flushed = self.flush(package);
        let meta = meta?;
        flushed?;
        Ok(meta)
    }

    fn fetch(&self, package: &PackageName, digest: &Integrity) -> Result<Arc<[u8]>, SourceError> {
        let registry = self.inner.registry_for(package);
        let stored = match self.cache.content.get(digest) {
            Ok(stored) => stored,
            // A damaged file (truncated, altered) heals: discarded, and the
            // bytes fetched again. Offline there is nowhere to fetch from.
            Err(CacheError::Corrupt {
                path,
                expected,
                actual,
            }) => {
                if self.offline {
                    return Err(SourceError::DamagedCache {
                        source_name: registry.to_string(),
                        package: package.clone(),
                        path,
                        expected,
                        actual,
                    });
                }
                let removed = std::fs::remove_file(&path);
                if let Some(warn) = &self.warn {
                    warn(&format!(
                        "cache file `{}` was damaged (it holds {actual}, not {expected}){}; fetching `{package}` again from registry `{registry}`",
                        path.display(),
                        if removed.is_ok() { ", discarded" } else { "" },
                    ));
                }
                None
            }
            Err(e) => return Err(e.into_source_error(registry, package)),
        };
        if let Some(bytes) = stored {
            bump(&self.counters.content_hits);
            return Ok(bytes);
        }
        if self.offline {
            return Err(self.not_cached(
                package,
                format!("content {} of `{package}`", digest.to_oci()),
            ));
        }
        bump(&self.counters.content_misses);
        let bytes = self.inner.fetch(package, digest)?;
        if !digest.matches(&bytes) {
            return Err(SourceError::DigestMismatch {
                source_name: registry.to_string(),
                package: package.to_string(),
                expected: digest.to_oci(),
                actual: Integrity::compute(digest.algorithm, &bytes).to_oci(),
            });
        }
        self.cache
            .content
            .insert(digest, &bytes)
            .map_err(|e| e.into_source_error(registry, package))?;
        Ok(bytes)
    }

    fn prefetch(&self, wanted: &[(PackageName, Option<Version>)]) {
        if !self.offline {
            self.inner.prefetch(wanted);
        }
    }
}

/// The bytes of a small file in as few system calls as an open, a read and
/// a close: unlike [`std::fs::read`], no `stat` for a size hint and no
/// second read to see the end. A read shorter than asked for is taken as
/// the end of the file; were it not, the text would be cut short, which
/// its parser rejects, and the caller treats it as absent (derived data).
fn read_small(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0; 16 * 1024];
    let mut len = 0;
    loop {
        let n = match file.read(&mut buf[len..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        len += n;
        if n == 0 || len < buf.len() {
            break;
        }
        buf.resize(buf.len() * 2, 0);
    }
    buf.truncate(len);
    Ok(buf)
}

/// The hex digits of a digest (its OCI form after the colon).
fn digest_hex(digest: &Integrity) -> String {
    let oci = digest.to_oci();
    match oci.split_once(':') {
        Some((_, hex)) => hex.to_string(),
        None => oci,
    }
}

/// A registry name as one safe path component: bytes outside `[a-z0-9_-]`
/// become `%XX`, so `.`, `..`, separators, NUL, drive letters and
/// case-folding file systems can do no harm.
fn encode_component(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() {
        out.push('%');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_read_back_what_was_written() {
        let releases = ["1.0.0", "1.1.0-rc.1+build.5", "2.0.0"]
            .iter()
            .enumerate()
            .map(|(i, v)| Release {
                version: v.parse().unwrap(),
                yanked: i == 1,
            })
            .collect::<Vec<_>>();
        for releases in [None, Some(vec![]), Some(releases)] {
            let file = PackageFile {
                format: FORMAT,
                registry: "local".into(),
                package: "test:add".parse().unwrap(),
                versions_stamp: Some(Stamp([1, 2, 3, 4, 5])),
                releases: releases.clone(),
                entries: BTreeMap::new(),
            };
            let text = serde_json::to_vec(&file).unwrap();
            let back: PackageFile = serde_json::from_slice(&text).unwrap();
            assert_eq!(back.releases, releases);
            assert_eq!(back.versions_stamp, file.versions_stamp);
        }
    }

    #[test]
    fn registry_names_encode_to_one_component() {
        for name in [
            "local",
            "ghcr.io",
            "localhost:5000",
            "..",
            ".",
            "a/b",
            "A\\b",
            "",
            "x\0y",
        ] {
            let enc = encode_component(name);
            assert!(is_single_component(&enc), "{name:?} -> {enc:?}");
        }
        assert_eq!(encode_component("local"), "local");
        assert_eq!(encode_component("localhost:5000"), "localhost%3A5000");
        assert_ne!(encode_component("A"), encode_component("a"));
    }
}
