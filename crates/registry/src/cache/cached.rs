//! [`CachedSource`]: any source behind a [`Cache`].

use super::*;

/// Any [`Source`] behind a [`Cache`].
///
/// Online, version lists come from the inner source (and are recorded),
/// unless the source's [`Hints::versions_stamp`] is the one recorded with
/// the list in the package summary; a release's metadata is found by its
/// digest ([`Hints::release_digest`], which for a local registry hashes
/// the file without parsing it, or the summary's digest while
/// [`Hints::release_stamp`] is unchanged) in the summary or the metadata
/// cache, and only on a miss is the inner source asked to scan it (a
/// source without hints is asked for the metadata straight away); content
/// comes from the content store, or from the inner source (already
/// [`Verified`], so stored without hashing it again).
///
/// The cache offers [`Hints`] itself (answered from what it recorded, and
/// passed on to the inner source online), and [`Publish`] when the inner
/// source does.
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
/// assert_eq!(offline.versions(&package).unwrap().releases.len(), 1);
/// ```
pub struct CachedSource<S> {
    pub(super) inner: S,
    pub(super) cache: Cache,
    pub(super) offline: bool,
    /// Each package's summary as read from (and written to) the index, and
    /// the metadata handed out.
    pub(super) summaries: Mutex<HashMap<PackageName, Summary>>,
    /// Each registry's pack of summaries, read once per instance.
    pub(super) packs: Mutex<HashMap<String, Arc<Pack>>>,
    pub(super) counters: Counters,
    /// Where warnings go (a damaged cache file discarded); none by default.
    pub(super) warn: Option<Warn>,
}

/// A caller's sink for warnings (the CLI prints them on stderr).
pub type Warn = Arc<dyn Fn(&str) + Send + Sync>;

/// A package's summary in memory.
pub(super) struct Summary {
    /// The registry the package is in (its pack).
    pub(super) registry: String,
    pub(super) file: PackageFile,
    /// Changed since it was read or last written.
    pub(super) dirty: bool,
    /// Metadata handed out by this instance: asked again, the same answer
    /// (a release or two per package: searched in order).
    pub(super) memo: Vec<Arc<ReleaseMetadata>>,
}

impl<S> Drop for CachedSource<S> {
    fn drop(&mut self) {
        // Derived data: a summary that cannot be written costs a re-read
        // next time, never a wrong answer.
        if !self.offline {
            let _ = self.flush_all();
        }
    }
}

impl<S> CachedSource<S> {
    /// Writes every package summary that changed (offline: none), one
    /// file per registry: once per solve, however many packages and
    /// releases were learned. Called when the source is dropped; callers
    /// that share a cache directory with another live source may call it
    /// earlier.
    ///
    /// # Errors
    ///
    /// The first registry's pack that could not be written (the others
    /// are still tried; a summary not written is tried again at the next
    /// flush).
    pub fn flush_all(&self) -> Result<(), SourceError> {
        if self.offline {
            return Ok(());
        }
        let mut by_registry: BTreeMap<String, Vec<PackageFile>> = BTreeMap::new();
        for summary in self
            .summaries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values_mut()
            .filter(|s| s.dirty)
        {
            summary.dirty = false;
            by_registry
                .entry(summary.registry.clone())
                .or_default()
                .push(summary.file.clone());
        }
        let mut first = Ok(());
        for (registry, files) in by_registry {
            if let Err(e) = self.cache.index.set_pack(&registry, &files) {
                // Not written: try again at the next flush.
                let mut summaries = self.summaries.lock().unwrap_or_else(|e| e.into_inner());
                for file in &files {
                    if let Some(s) = summaries.get_mut(&file.package) {
                        s.dirty = true;
                    }
                }
                if first.is_ok() {
                    first = Err(e.into_source_error(&registry, &files[0].package));
                }
            }
        }
        first
    }
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
    /// A metadata miss: the inner source's answer, kept in the cache.
    fn read_through(
        &self,
        registry: &str,
        package: &PackageName,
        version: &Version,
    ) -> Result<Arc<ReleaseMetadata>, SourceError> {
        bump(&self.counters.metadata_misses);
        let meta = self.inner.metadata(package, version)?;
        self.cache
            .metadata
            .put(&meta)
            .map_err(|e| e.into_source_error(registry, package))?;
        Ok(meta)
    }

    /// `inner` behind `cache`, online.
    pub fn new(inner: S, cache: Cache) -> Self {
        CachedSource {
            inner,
            cache,
            offline: false,
            summaries: Mutex::new(HashMap::new()),
            packs: Mutex::new(HashMap::new()),
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
        let mut source = Self::new(inner, cache);
        source.offline = true;
        source
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
        self.with_summary(package, |s| {
            s.memo.iter().find(|m| m.version == *version).cloned()
        })
    }

    fn record(&self, meta: Arc<ReleaseMetadata>) -> Arc<ReleaseMetadata> {
        self.with_summary(&meta.package, |s| {
            s.memo.retain(|m| m.version != meta.version);
            s.memo.push(meta.clone());
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
        let registry = self.inner.registry_for(package);
        let file = self
            .pack(registry)
            .get(package)
            .unwrap_or_else(|| PackageFile::empty(package));
        let mut summaries = lock();
        let summary = summaries.entry(package.clone()).or_insert(Summary {
            registry: registry.to_string(),
            file,
            dirty: false,
            memo: Vec::new(),
        });
        f(summary)
    }

    /// The pack of `registry`'s summaries, read from the index the first
    /// time this instance needs it.
    fn pack(&self, registry: &str) -> Arc<Pack> {
        let mut packs = self.packs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pack) = packs.get(registry) {
            return pack.clone();
        }
        let pack = Arc::new(self.cache.index.pack(registry));
        packs.insert(registry.to_string(), pack.clone());
        pack
    }

    /// Lists `package` at the source and records the list (and its stamp)
    /// where it differs from the one recorded.
    fn list(
        &self,
        package: &PackageName,
        recorded: Option<Arc<[Release]>>,
        recorded_stamp: Option<Stamp>,
    ) -> Result<Listing, SourceError> {
        let registry = self.inner.registry_for(package);
        let listing = self.inner.versions(package)?;
        let changed = recorded.as_deref() != Some(&listing.releases[..]);
        if changed {
            self.cache
                .index
                .set_versions(registry, package, &listing.releases)
                .map_err(|e| e.into_source_error(registry, package))?;
        }
        if changed || recorded_stamp != listing.stamp {
            self.with_summary(package, |s| {
                s.file.releases = Some(listing.releases.clone());
                s.file.versions_stamp = listing.stamp;
                s.dirty = true;
            });
        }
        Ok(listing)
    }

    /// The digest of `package@version` (online: as the source says now,
    /// from the summary when the source's stamp of the release is the one
    /// recorded), updating the summary in memory; [`Self::flush`] writes it.
    /// A source with no cheap digest is asked for the metadata itself,
    /// which is then the answer.
    fn content_of(&self, package: &PackageName, version: &Version) -> Result<Known, SourceError> {
        if let Some(meta) = self.memo(package, version) {
            return Ok(Known::Handed(meta));
        }
        let registry = self.inner.registry_for(package);
        let recorded = self.with_summary(package, |s| {
            s.file.entry(version).map(|e| (e.stamp, e.digest.clone()))
        });
        if self.offline {
            if let Some((_, digest)) = recorded {
                return Ok(Known::Digest(digest));
            }
            return self
                .cache
                .index
                .digest(registry, package, version)
                .map_err(|e| e.into_source_error(registry, package))?
                .map(Known::Digest)
                .ok_or_else(|| {
                    self.not_cached(package, format!("digest of `{package}@{version}`"))
                });
        }
        let hints = self.inner.hints();
        // The stamp before the digest: bytes replaced in between leave a
        // stamp that the next look does not match.
        let stamp = hints.and_then(|h| h.release_stamp(package, version));
        if let Some((recorded_stamp, digest)) = recorded {
            if stamp.is_some() && recorded_stamp == stamp {
                return Ok(Known::Digest(digest));
            }
        }
        let digest = match hints.and_then(|h| h.release_digest(package, version)) {
            Some(digest) => digest?,
            None => {
                let meta = self.read_through(registry, package, version)?;
                return self.learned(meta).map(Known::Read);
            }
        };
        self.with_summary(package, |s| match s.file.entry(version) {
            Some(entry) if entry.digest == digest => {
                if entry.stamp != stamp {
                    entry.stamp = stamp;
                    s.dirty = true;
                }
            }
            _ => {
                s.file.insert(
                    version,
                    ReleaseEntry {
                        stamp,
                        digest: digest.clone(),
                        meta: None,
                    },
                );
                s.dirty = true;
            }
        });
        Ok(Known::Digest(digest))
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
            let meta = s
                .file
                .entry(version)
                .filter(|e| e.digest == *digest)
                .and_then(|e| e.meta.clone())?;
            s.file.metadata(&meta, version, digest)
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
            None => self.read_through(registry, package, version)?,
        };
        if self.offline {
            return Ok(self.record(meta));
        }
        self.learned(meta)
    }

    /// Records metadata learned online in the index and the summary, and
    /// hands it out.
    fn learned(&self, meta: Arc<ReleaseMetadata>) -> Result<Arc<ReleaseMetadata>, SourceError> {
        let (package, version) = (&meta.package, &meta.version);
        let registry = self.inner.registry_for(package);
        self.cache
            .index
            .set_digest(registry, package, version, &meta.digest)
            .map_err(|e| e.into_source_error(registry, package))?;
        self.with_summary(package, |s| {
            let record = MetaRecord::of(&meta);
            // The source answered other bytes than it hashed a moment ago
            // (or was never asked for a digest): they are recorded
            // without a stamp.
            let (stamp, old) = s
                .file
                .entry(version)
                .filter(|e| e.digest == meta.digest)
                .map_or((None, None), |e| (e.stamp, e.meta.clone()));
            if old.and_then(|m| s.file.record(&m)).as_ref() != Some(&record) {
                s.file.insert(
                    version,
                    ReleaseEntry {
                        stamp,
                        digest: meta.digest.clone(),
                        meta: Some(Meta::Record(record)),
                    },
                );
                s.dirty = true;
            }
        });
        Ok(self.record(meta))
    }
}

/// What the cache knows of a release's content: its digest, or its whole
/// metadata.
enum Known {
    /// The digest (its metadata may still be known by it).
    Digest(Integrity),
    /// The metadata this instance handed out before.
    Handed(Arc<ReleaseMetadata>),
    /// The metadata, just read from a source without cheap digests.
    Read(Arc<ReleaseMetadata>),
}

impl<S: Source> Source for CachedSource<S> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn registry_for(&self, package: &PackageName) -> &str {
        self.inner.registry_for(package)
    }

    fn versions(&self, package: &PackageName) -> Result<Listing, SourceError> {
        let registry = self.inner.registry_for(package);
        let (recorded, recorded_stamp) = self.with_summary(package, |s| {
            (s.file.releases.clone(), s.file.versions_stamp)
        });
        if self.offline {
            // Offline, the cache's answer never changes under this
            // instance: nothing to stamp.
            if let Some(releases) = recorded {
                return Ok(Listing::unstamped(releases));
            }
            return self
                .cache
                .index
                .versions(registry, package)
                .map_err(|e| e.into_source_error(registry, package))?
                .map(Listing::unstamped)
                .ok_or_else(|| self.not_cached(package, format!("version list of `{package}`")));
        }
        match recorded {
            Some(releases)
                if recorded_stamp.is_some()
                    && self.inner_hint(|h| h.versions_stamp(package)) == recorded_stamp =>
            {
                Ok(Listing {
                    releases,
                    stamp: recorded_stamp,
                })
            }
            recorded => self.list(package, recorded, recorded_stamp),
        }
    }

    fn metadata(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<Arc<ReleaseMetadata>, SourceError> {
        // Whatever is learned on the way is kept, even on an error: the
        // summary is written when this source is done (`flush_all`, or
        // dropped), once per package, not after every release it learns.
        match self.content_of(package, version)? {
            Known::Handed(meta) => {
                bump(&self.counters.metadata_hits);
                Ok(meta)
            }
            Known::Read(meta) => Ok(meta),
            Known::Digest(digest) => self.metadata_of(package, version, &digest),
        }
    }

    fn fetch(
        &self,
        package: &PackageName,
        version: &Version,
        digest: &Integrity,
    ) -> Result<Verified, SourceError> {
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
        // Checked by the source: compared, not hashed again, before it is
        // stored and handed on.
        let bytes = self
            .inner
            .fetch(package, version, digest)?
            .confirm(digest)
            .map_err(|m| SourceError::DigestMismatch {
                source_name: registry.to_string(),
                package: package.clone(),
                version: Some(version.clone()),
                path: None,
                expected: m.expected.to_oci(),
                actual: m.actual.to_oci(),
            })?;
        self.cache
            .content
            .store(&bytes)
            .map_err(|e| e.into_source_error(registry, package))?;
        Ok(bytes)
    }

    fn hints(&self) -> Option<&dyn Hints> {
        Some(self)
    }

    fn publisher(&self) -> Option<&dyn Publish> {
        self.inner.publisher().map(|_| self as &dyn Publish)
    }
}

impl<S: Source> CachedSource<S> {
    /// `f` of the inner source's hints, online; `None` offline or when
    /// the inner source takes no hints.
    fn inner_hint<T>(&self, f: impl FnOnce(&dyn Hints) -> Option<T>) -> Option<T> {
        if self.offline {
            return None;
        }
        f(self.inner.hints()?)
    }
}

/// Digests from what the cache recorded; stamps and prefetching passed on
/// to the inner source online (offline, the cache's answers never change
/// under it, and it asks for nothing).
impl<S: Source> Hints for CachedSource<S> {
    fn prefetch(&self, wanted: &[(PackageName, Option<Version>)]) {
        self.inner_hint(|h| {
            h.prefetch(wanted);
            Some(())
        });
    }

    fn release_digest(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Option<Result<Integrity, SourceError>> {
        Some(self.content_of(package, version).map(|known| match known {
            Known::Digest(digest) => digest,
            Known::Handed(meta) | Known::Read(meta) => meta.digest.clone(),
        }))
    }

    fn versions_stamp(&self, package: &PackageName) -> Option<Stamp> {
        self.inner_hint(|h| h.versions_stamp(package))
    }

    fn release_stamp(&self, package: &PackageName, version: &Version) -> Option<Stamp> {
        self.inner_hint(|h| h.release_stamp(package, version))
    }
}

/// Publishing goes to the registry itself (never in offline mode); the
/// new bytes are also kept in the content store.
impl<S: Source> Publish for CachedSource<S> {
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
        let meta = self
            .inner_publisher("publish")?
            .publish(package, version, bytes)?;
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
        self.inner_publisher("yank")?
            .set_yanked(package, version, yanked)
    }
}

impl<S: Source> CachedSource<S> {
    /// The inner source's publisher, or [`SourceError::Unsupported`]
    /// naming `operation`.
    fn inner_publisher(&self, operation: &'static str) -> Result<&dyn Publish, SourceError> {
        self.inner
            .publisher()
            .ok_or_else(|| SourceError::Unsupported {
                source_name: self.inner.name().to_string(),
                operation,
            })
    }
}
