//! The memory source: releases held in memory, for tests and for loaders
//! that already hold the bytes.
//!
//! Releases come in two kinds:
//!
//! - **real** ones ([`MemorySource::add`]): component bytes, scanned once
//!   when added, exactly as a local registry would scan them;
//! - **synthetic** ones ([`MemorySource::add_synthetic`],
//!   [`MemorySource::add_metadata`]): metadata given directly, for solver
//!   tests that generate thousands of random registries. Their "content" is
//!   a short deterministic text describing the release (not a component),
//!   so digests, [`Source::fetch`] and every digest check still work, and
//!   adding one costs a hash of a few hundred bytes.
//!
//! Content is hashed once, when it is added: [`Source::fetch`] hands out
//! the [`Verified`] bytes it keeps, and [`Source::versions`] the same
//! shared list until the package changes.
//!
//! Releases are immutable as in every registry: adding a version again with
//! the same content is a no-op, with other content
//! [`SourceError::AlreadyPublished`].

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use semver::Version;
use warg_depsolve_names::{ImportClass, Integrity, PackageName};

use crate::source::{Dependency, Listing, Publish, Release, ReleaseMetadata, Source, SourceError};
use crate::verified::Verified;

#[derive(Debug)]
struct Entry {
    meta: Arc<ReleaseMetadata>,
    /// The release's bytes, hashed when added.
    content: Verified,
    yanked: bool,
}

#[derive(Debug, Default)]
struct State {
    // Hashed by name (a solve looks packages up by name thousands of times;
    // a tree of 10k names costs a dozen string comparisons per lookup),
    // versions kept sorted so lists come out in order.
    packages: HashMap<PackageName, BTreeMap<Version, Entry>>,
    /// Each package's release list as handed out by `versions`, built on
    /// first request and dropped when the package changes.
    lists: HashMap<PackageName, Arc<[Release]>>,
}

/// An in-memory registry. Cheap to fill, safe to share between threads.
///
/// ```
/// use warg_depsolve_registry::{MemorySource, Source};
/// let source = MemorySource::new("memory");
/// let base = "test:base".parse().unwrap();
/// for v in ["1.0.0", "1.2.0"] {
///     source.add_synthetic(&base, &v.parse().unwrap(), vec![]).unwrap();
/// }
/// source.yank(&base, &"1.2.0".parse().unwrap()).unwrap();
/// let releases = source.versions(&base).unwrap().releases;
/// assert_eq!((releases.len(), releases[1].yanked), (2, true));
/// ```
#[derive(Debug)]
pub struct MemorySource {
    name: String,
    state: RwLock<State>,
    scans: AtomicU64,
    /// [`Source::generation`]: moves on, under the write lock, whenever a
    /// package's list is dropped (a release added, a yank changed).
    generation: AtomicU64,
}

impl MemorySource {
    /// An empty source named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        MemorySource {
            name: name.into(),
            state: RwLock::new(State::default()),
            scans: AtomicU64::new(0),
            generation: AtomicU64::new(0),
        }
    }

    /// How many components this source has parsed (one per
    /// [`MemorySource::add`] of new bytes).
    pub fn scans(&self) -> u64 {
        self.scans.load(Ordering::Relaxed)
    }

    /// Adds a real release: `bytes` is scanned for its metadata.
    pub fn add(
        &self,
        package: &PackageName,
        version: &Version,
        bytes: impl Into<Arc<[u8]>>,
    ) -> Result<Arc<ReleaseMetadata>, SourceError> {
        let bytes = Verified::hash(bytes);
        if let Some(existing) = self.existing(package, version, bytes.digest())? {
            return Ok(existing);
        }
        self.scans.fetch_add(1, Ordering::Relaxed);
        let meta = ReleaseMetadata::from_verified(package, version, &bytes)
            .map_err(|e| e.into_source_error(&self.name, package, version))?;
        self.insert(meta, bytes)
    }

    /// Adds a synthetic release with the given dependencies and no
    /// interface exports. Its content is a short text naming the release
    /// and its dependencies, so its digest changes with them.
    ///
    /// A dependency whose class is [`ImportClass::Host`] is rejected
    /// ([`SourceError::InvalidComponent`]): metadata never lists host
    /// imports.
    pub fn add_synthetic(
        &self,
        package: &PackageName,
        version: &Version,
        dependencies: Vec<Dependency>,
    ) -> Result<Arc<ReleaseMetadata>, SourceError> {
        self.add_metadata(package, version, dependencies, Vec::new())
    }

    /// Adds a synthetic release with the given dependencies and interface
    /// exports (see [`MemorySource::add_synthetic`]).
    pub fn add_metadata(
        &self,
        package: &PackageName,
        version: &Version,
        dependencies: Vec<Dependency>,
        interface_exports: Vec<warg_depsolve_names::InterfaceName>,
    ) -> Result<Arc<ReleaseMetadata>, SourceError> {
        if let Some(host) = dependencies.iter().find(|d| d.class == ImportClass::Host) {
            return Err(SourceError::InvalidComponent {
                source_name: self.name.clone(),
                package: package.clone(),
                version: version.clone(),
                cause: Box::new(HostDependency {
                    import: host.import.clone(),
                }),
            });
        }
        let mut text = format!("synthetic release {package}@{version}\n");
        for d in &dependencies {
            text.push_str(&format!(
                "import {} {}\n",
                d.import,
                serde_json::to_string(&d.class).unwrap_or_default()
            ));
        }
        for i in &interface_exports {
            text.push_str(&format!("export {i}\n"));
        }
        let bytes = Verified::hash(text.into_bytes());
        if let Some(existing) = self.existing(package, version, bytes.digest())? {
            return Ok(existing);
        }
        let meta = ReleaseMetadata {
            package: package.clone(),
            version: version.clone(),
            digest: bytes.digest().clone(),
            size: bytes.len() as u64,
            dependencies,
            interface_exports,
            types: None,
        };
        self.insert(meta, bytes)
    }

    /// Marks `package@version` yanked (idempotent).
    pub fn yank(&self, package: &PackageName, version: &Version) -> Result<(), SourceError> {
        self.mark_yanked(package, version, true)
    }

    /// Clears the yanked mark of `package@version` (idempotent).
    pub fn unyank(&self, package: &PackageName, version: &Version) -> Result<(), SourceError> {
        self.mark_yanked(package, version, false)
    }

    fn mark_yanked(
        &self,
        package: &PackageName,
        version: &Version,
        yanked: bool,
    ) -> Result<(), SourceError> {
        let mut state = self.write();
        state.lists.remove(package);
        self.generation.fetch_add(1, Ordering::Release);
        let entry = state
            .packages
            .get_mut(package)
            .ok_or_else(|| self.package_not_found(package))?
            .get_mut(version)
            .ok_or_else(|| self.version_not_found(package, version))?;
        entry.yanked = yanked;
        Ok(())
    }

    /// The release already stored as `package@version`, if its content has
    /// this digest; an error if it has another.
    fn existing(
        &self,
        package: &PackageName,
        version: &Version,
        digest: &Integrity,
    ) -> Result<Option<Arc<ReleaseMetadata>>, SourceError> {
        let state = self.read();
        let Some(entry) = state.packages.get(package).and_then(|p| p.get(version)) else {
            return Ok(None);
        };
        if entry.meta.digest == *digest {
            Ok(Some(entry.meta.clone()))
        } else {
            Err(SourceError::AlreadyPublished {
                source_name: self.name.clone(),
                package: package.clone(),
                version: version.clone(),
                existing: entry.meta.digest.to_oci(),
                new: digest.to_oci(),
            })
        }
    }

    fn insert(
        &self,
        meta: ReleaseMetadata,
        content: Verified,
    ) -> Result<Arc<ReleaseMetadata>, SourceError> {
        let meta = Arc::new(meta);
        let mut state = self.write();
        state.lists.remove(&meta.package);
        self.generation.fetch_add(1, Ordering::Release);
        let versions = state.packages.entry(meta.package.clone()).or_default();
        crate::source::check_build_metadata(
            &self.name,
            &meta.package,
            &meta.version,
            versions.keys(),
        )?;
        if let Some(entry) = versions.get(&meta.version) {
            // Someone added it between our check and now.
            if entry.meta.digest == meta.digest {
                return Ok(entry.meta.clone());
            }
            return Err(SourceError::AlreadyPublished {
                source_name: self.name.clone(),
                package: meta.package.clone(),
                version: meta.version.clone(),
                existing: entry.meta.digest.to_oci(),
                new: meta.digest.to_oci(),
            });
        }
        versions.insert(
            meta.version.clone(),
            Entry {
                meta: meta.clone(),
                content,
                yanked: false,
            },
        );
        Ok(meta)
    }

    /// `f` of the entry of `package@version`, or which of the two is
    /// missing.
    fn entry<T>(
        &self,
        package: &PackageName,
        version: &Version,
        f: impl FnOnce(&Entry) -> T,
    ) -> Result<T, SourceError> {
        let state = self.read();
        let versions = state
            .packages
            .get(package)
            .ok_or_else(|| self.package_not_found(package))?;
        versions
            .get(version)
            .map(f)
            .ok_or_else(|| self.version_not_found(package, version))
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        // A panic while holding the lock cannot leave `State` half-updated
        // (every update is one insert), so a poisoned lock is still usable.
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    fn package_not_found(&self, package: &PackageName) -> SourceError {
        SourceError::PackageNotFound {
            source_name: self.name.clone(),
            package: package.clone(),
        }
    }

    fn version_not_found(&self, package: &PackageName, version: &Version) -> SourceError {
        SourceError::VersionNotFound {
            source_name: self.name.clone(),
            package: package.clone(),
            version: version.clone(),
        }
    }
}

/// A synthetic release that lists a host import as a dependency (the
/// cause of a [`SourceError::InvalidComponent`]).
#[derive(Debug, thiserror::Error)]
#[error("import `{import}` is a host import, not a registry dependency")]
struct HostDependency {
    import: String,
}

impl Source for MemorySource {
    fn name(&self) -> &str {
        &self.name
    }

    fn registry_for(&self, _package: &PackageName) -> &str {
        &self.name
    }

    /// Every change goes through this source, which counts them.
    fn generation(&self) -> Option<u64> {
        Some(self.generation.load(Ordering::Acquire))
    }

    fn versions(&self, package: &PackageName) -> Result<Listing, SourceError> {
        // No stamp: a memory source lives as long as its caller, which
        // has nothing to keep fresh.
        if let Some(list) = self.read().lists.get(package) {
            return Ok(Listing::unstamped(list.clone()));
        }
        let mut state = self.write();
        let versions = state
            .packages
            .get(package)
            .ok_or_else(|| self.package_not_found(package))?;
        let list: Arc<[Release]> = versions
            .iter()
            .map(|(version, entry)| Release {
                version: version.clone(),
                yanked: entry.yanked,
            })
            .collect();
        state.lists.insert(package.clone(), list.clone());
        Ok(Listing::unstamped(list))
    }

    fn metadata(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<Arc<ReleaseMetadata>, SourceError> {
        self.entry(package, version, |e| e.meta.clone())
    }

    fn fetch(
        &self,
        package: &PackageName,
        version: &Version,
        digest: &Integrity,
    ) -> Result<Verified, SourceError> {
        let content = self.entry(package, version, |e| e.content.clone())?;
        content
            .confirm(digest)
            .map_err(|m| SourceError::DigestMismatch {
                source_name: self.name.clone(),
                package: package.clone(),
                version: Some(version.clone()),
                path: None,
                expected: m.expected.to_oci(),
                actual: m.actual.to_oci(),
            })
    }

    fn publisher(&self) -> Option<&dyn Publish> {
        Some(self)
    }
}

impl Publish for MemorySource {
    /// Validates the component in full first, as every registry does.
    fn publish(
        &self,
        package: &PackageName,
        version: &Version,
        bytes: &[u8],
    ) -> Result<ReleaseMetadata, SourceError> {
        ReleaseMetadata::for_publish(package, version, bytes)
            .map_err(|e| e.into_source_error(&self.name, package, version))?;
        self.add(package, version, bytes.to_vec())
            .map(|m| (*m).clone())
    }

    fn set_yanked(
        &self,
        package: &PackageName,
        version: &Version,
        yanked: bool,
    ) -> Result<(), SourceError> {
        self.mark_yanked(package, version, yanked)
    }
}
