//! [`CachedSource`]: any source behind a [`Cache`].

use super::*;

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
    pub(super) inner: S,
    pub(super) cache: Cache,
    pub(super) offline: bool,
    /// Each package's summary as read from (and written to) the index, and
    /// the metadata handed out.
    pub(super) summaries: Mutex<HashMap<PackageName, Summary>>,
    pub(super) counters: Counters,
    /// Where warnings go (a damaged cache file discarded); none by default.
    pub(super) warn: Option<Warn>,
}

/// A caller's sink for warnings (the CLI prints them on stderr).
pub type Warn = Arc<dyn Fn(&str) + Send + Sync>;

/// A package's summary in memory.
pub(super) struct Summary {
    pub(super) file: PackageFile,
    /// Changed since it was read or last written.
    pub(super) dirty: bool,
    /// Metadata handed out by this instance: asked again, the same answer.
    pub(super) memo: HashMap<Version, Arc<ReleaseMetadata>>,
}

impl<S> Drop for CachedSource<S> {
    fn drop(&mut self) {
        // Derived data: a summary that cannot be written costs a re-read
        // next time, never a wrong answer.
        if !self.offline {
            let summaries = self.summaries.get_mut().unwrap_or_else(|e| e.into_inner());
            for summary in summaries.values_mut().filter(|s| s.dirty) {
                summary.dirty = false;
                let _ = self.cache.index.set_summary(&summary.file);
            }
        }
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

    /// Writes every package summary that changed (offline: none): once
    /// per package per solve, however many releases were learned. Called
    /// when the source is dropped; callers that share a cache directory
    /// with another live source may call it earlier.
    ///
    /// # Errors
    ///
    /// The first summary that could not be written (the others are still
    /// tried; a summary not written is tried again at the next flush).
    pub fn flush_all(&self) -> Result<(), SourceError> {
        let packages: Vec<PackageName> = self
            .summaries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(_, s)| s.dirty)
            .map(|(p, _)| p.clone())
            .collect();
        let mut first = Ok(());
        for package in packages {
            if let Err(e) = self.flush(&package) {
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
        first
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
        self.digest_of(package, version)
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
        // Whatever was learned on the way is kept, even on an error: the
        // summary is written when this source is done (`flush_all`, or
        // dropped), once per package, not after every release it learns.
        self.metadata_of(package, version, &digest)
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
