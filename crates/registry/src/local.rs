//! The local source: a directory in wkg's local layout. The embedded
//! default registry; needs nothing running.
//!
//! # Layout
//!
//! ```text
//! <root>/<namespace>/<name>/<version>.wasm          one release's bytes
//! <root>/<namespace>/<name>/<version>.wasm.yanked   marker: that release is yanked
//! ```
//!
//! This is the layout of wkg's local backend (`wasm-pkg-client`), so a
//! directory written by either tool is read by the other. In a package
//! directory, only files named `<semver>.wasm` are releases, where
//! `<semver>` is the canonical form of a semantic version (what
//! [`semver::Version`] prints); everything else (non-semver names such as
//! `latest.wasm`, temporary files, `README`s) is ignored.
//!
//! **Yanking** creates the marker file `<version>.wasm.yanked` next to the
//! release and never touches the release's bytes, so a lock file that pins
//! a yanked release can still fetch it; unyanking deletes the marker. One
//! marker per release (rather than one list per package) means yanking is a
//! single atomic file creation that needs no lock and cannot lose a
//! concurrent yank of another version, and the state is visible with `ls`.
//! wkg only reads files whose extension is `wasm`, so it ignores markers
//! (and shows yanked releases as not yanked).
//!
//! **Releases are immutable**: publishing a version that exists with other
//! bytes is [`SourceError::AlreadyPublished`]; publishing the same bytes
//! again is a no-op. A release is written to a temporary file in its
//! package directory and renamed into place without replacing anything, so
//! readers never see a partial file and two concurrent publishers of one
//! version cannot both win.
//!
//! **Stamps**: [`Hints::release_stamp`] is a release file's identity
//! (device, inode, size, modification and change times, following
//! symlinks) and [`Hints::versions_stamp`] (also the stamp of a
//! [`Listing`]) the package directory's, whose
//! times change whenever a release or marker is created, removed or renamed
//! in it (publish, yank, unyank). A cache keyed by them re-reads a file
//! only when it changed, as git's index does. A file or directory touched
//! less than a settle time ago (3 s by default,
//! [`LocalRegistry::with_settle_time`]) has no stamp, so a second write
//! within the same timestamp tick cannot go unnoticed ("racy git"); a
//! package directory holding a symlinked release has no version-list stamp
//! (its target can vanish without the directory changing). On Unix a
//! stamp is one `fstatat` relative to the root directory, which a
//! registry instance opens at its first stamp and keeps: a root
//! directory replaced by another one at the same path (renamed over) is
//! followed by a new [`LocalRegistry`], as each process makes.
//!
//! **Fetching** reads `<version>.wasm` and checks it against the digest
//! asked for: one read and one hash, whatever the package holds.
//!
//! **Paths are built only from validated parts**: a [`PackageName`]'s two
//! labels (kebab-case by construction: no `/`, `\`, `.`, `..`, NUL or
//! absolute path can pass), and a version's canonical string plus `.wasm`,
//! each checked again to be exactly one normal path component, so no name
//! can read or write outside the root.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use semver::Version;
use warg_depsolve_names::{Integrity, PackageName};

#[cfg(not(unix))]
use crate::fsutil::stamp_of;
#[cfg(unix)]
use crate::fsutil::{is_single_component, stat_at, Kind};
use crate::fsutil::{join_inside, read_shared, write_atomic, Existing, SETTLE_TIME};
use crate::source::{
    check_build_metadata, Hints, Listing, Publish, Release, ReleaseMetadata, Source, SourceError,
    Stamp,
};
use crate::verified::Verified;

/// Suffix of release files.
const RELEASE_SUFFIX: &str = ".wasm";
/// Suffix of yank markers (appended to the release file's name).
const YANKED_SUFFIX: &str = ".wasm.yanked";
/// What a yank marker contains (informational only; its existence is what
/// counts).
const YANKED_NOTE: &[u8] =
    b"This release is yanked: kept for lock files that pin it, never chosen afresh.\n";

/// A registry in a local directory (see the [module docs](self) for the
/// layout, yanking and immutability rules).
///
/// ```
/// use warg_depsolve_registry::{LocalRegistry, Source};
/// let dir = tempfile::tempdir().unwrap();
/// let registry = LocalRegistry::new("local", dir.path());
/// let package = "test:empty".parse().unwrap();
/// let version = "1.0.0".parse().unwrap();
/// let meta = registry.publish(&package, &version, &wat::parse_str("(component)").unwrap()).unwrap();
/// assert!(dir.path().join("test/empty/1.0.0.wasm").is_file());
/// registry.yank(&package, &version).unwrap();
/// let releases = registry.versions(&package).unwrap().releases;
/// assert!(releases[0].yanked);
/// assert_eq!(registry.fetch(&package, &version, &meta.digest).unwrap().len() as u64, meta.size);
/// ```
#[derive(Debug)]
pub struct LocalRegistry {
    name: String,
    root: PathBuf,
    scans: AtomicU64,
    reads: AtomicU64,
    listings: AtomicU64,
    /// How old a file must be before its identity is a stamp.
    settle: Duration,
    /// The root directory, opened at the first stamp taken (Unix): stamps
    /// are `fstatat` relative to it.
    #[cfg(unix)]
    root_fd: std::sync::OnceLock<std::os::fd::OwnedFd>,
}

impl LocalRegistry {
    /// A local registry named `name` (as configuration and lock files call
    /// it) over the directory `root`. The directory need not exist yet:
    /// reading from a missing root finds no packages, and publishing
    /// creates it.
    pub fn new(name: impl Into<String>, root: impl Into<PathBuf>) -> Self {
        LocalRegistry {
            name: name.into(),
            root: root.into(),
            scans: AtomicU64::new(0),
            reads: AtomicU64::new(0),
            listings: AtomicU64::new(0),
            settle: SETTLE_TIME,
            #[cfg(unix)]
            root_fd: std::sync::OnceLock::new(),
        }
    }

    /// The same registry, handing out stamps only for files and directories
    /// last changed at least `settle` ago (3 s by default; see the
    /// [module docs](self)). Raise it for a network file system whose
    /// server's clock may be behind this machine's by more than that; a
    /// test may lower it, if it never rewrites a file with the same size
    /// within one timestamp tick.
    pub fn with_settle_time(mut self, settle: Duration) -> Self {
        self.settle = settle;
        self
    }

    /// The registry's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// How many times this registry has parsed a component (in
    /// [`Source::metadata`] and [`LocalRegistry::publish`]).
    pub fn scans(&self) -> u64 {
        self.scans.load(Ordering::Relaxed)
    }

    /// How many times this registry has read a release file's bytes (to
    /// hash, scan or serve them).
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// How many times this registry has listed a package directory.
    pub fn listings(&self) -> u64 {
        self.listings.load(Ordering::Relaxed)
    }

    /// The directory of `package`: `<root>/<namespace>/<name>`.
    pub fn package_dir(&self, package: &PackageName) -> Result<PathBuf, SourceError> {
        join_inside(&self.root, &[package.namespace(), package.name()]).ok_or_else(|| {
            SourceError::Other(format!(
                "registry `{}`: package name `{package}` cannot be used as a path under `{}`",
                self.name,
                self.root.display()
            ))
        })
    }

    /// The file of one release: `<root>/<namespace>/<name>/<version>.wasm`,
    /// checked to stay inside the root.
    pub fn release_path(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<PathBuf, SourceError> {
        self.file_in_package(package, version, RELEASE_SUFFIX)
    }

    fn yank_marker(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<PathBuf, SourceError> {
        self.file_in_package(package, version, YANKED_SUFFIX)
    }

    fn file_in_package(
        &self,
        package: &PackageName,
        version: &Version,
        suffix: &str,
    ) -> Result<PathBuf, SourceError> {
        let file = format!("{version}{suffix}");
        join_inside(&self.root, &[package.namespace(), package.name(), &file]).ok_or_else(|| {
            SourceError::Other(format!(
                "registry `{}`: `{package}@{version}` cannot be used as a path under `{}`",
                self.name,
                self.root.display()
            ))
        })
    }

    /// Publishes `bytes` as `package@version` and returns its metadata.
    ///
    /// The bytes must be a readable component whose dependency references
    /// are well formed ([`SourceError::InvalidComponent`] otherwise).
    /// Publishing the same bytes again is a no-op (a yanked release stays
    /// yanked); other bytes for an existing version are
    /// [`SourceError::AlreadyPublished`].
    pub fn publish(
        &self,
        package: &PackageName,
        version: &Version,
        bytes: &[u8],
    ) -> Result<ReleaseMetadata, SourceError> {
        let path = self.release_path(package, version)?;
        self.scans.fetch_add(1, Ordering::Relaxed);
        let meta = ReleaseMetadata::for_publish(package, version, bytes)
            .map_err(|e| e.into_source_error(&self.name, package, version))?;
        let published = match self.list(package) {
            Ok((releases, _)) => releases,
            Err(SourceError::PackageNotFound { .. }) => Vec::new(),
            Err(e) => return Err(e),
        };
        check_build_metadata(
            &self.name,
            package,
            version,
            published.iter().map(|r| &r.version),
        )?;
        match write_atomic(&path, bytes, Existing::Keep) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let existing = std::fs::read(&path)
                    .map_err(|e| self.io_error(package, Some(version), &path, e))?;
                if existing != bytes {
                    return Err(SourceError::AlreadyPublished {
                        source_name: self.name.clone(),
                        package: package.clone(),
                        version: version.clone(),
                        existing: Integrity::sha256(&existing).to_oci(),
                        new: meta.digest.to_oci(),
                    });
                }
            }
            Err(e) => return Err(self.io_error(package, Some(version), &path, e)),
        }
        Ok(meta)
    }

    /// Marks `package@version` yanked (idempotent). Its bytes stay.
    pub fn yank(&self, package: &PackageName, version: &Version) -> Result<(), SourceError> {
        self.require_release(package, version)?;
        let marker = self.yank_marker(package, version)?;
        write_atomic(&marker, YANKED_NOTE, Existing::Replace)
            .map_err(|e| self.io_error(package, Some(version), &marker, e))
    }

    /// Clears the yanked mark of `package@version` (idempotent).
    pub fn unyank(&self, package: &PackageName, version: &Version) -> Result<(), SourceError> {
        self.require_release(package, version)?;
        let marker = self.yank_marker(package, version)?;
        match std::fs::remove_file(&marker) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.io_error(package, Some(version), &marker, e)),
        }
    }

    fn require_release(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<PathBuf, SourceError> {
        let path = self.release_path(package, version)?;
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => Ok(path),
            Ok(_) => Err(self.not_found(package, version)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(self.not_found(package, version)),
            Err(e) => Err(self.io_error(package, Some(version), &path, e)),
        }
    }

    /// Reads one release's bytes, mapping "no such file" to the right
    /// not-found error.
    fn read_release(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<Arc<[u8]>, SourceError> {
        let path = self.release_path(package, version)?;
        self.reads.fetch_add(1, Ordering::Relaxed);
        read_shared(&path).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                self.not_found(package, version)
            } else {
                self.io_error(package, Some(version), &path, e)
            }
        })
    }

    fn not_found(&self, package: &PackageName, version: &Version) -> SourceError {
        let package_exists = self.package_dir(package).is_ok_and(|dir| dir.is_dir());
        if package_exists {
            SourceError::VersionNotFound {
                source_name: self.name.clone(),
                package: package.clone(),
                version: version.clone(),
            }
        } else {
            SourceError::PackageNotFound {
                source_name: self.name.clone(),
                package: package.clone(),
            }
        }
    }

    fn io_error(
        &self,
        package: &PackageName,
        version: Option<&Version>,
        path: &Path,
        e: io::Error,
    ) -> SourceError {
        let release = match version {
            Some(v) => format!("{package}@{v}"),
            None => package.to_string(),
        };
        SourceError::Unavailable {
            source_name: self.name.clone(),
            what: format!("`{release}` at `{}`", path.display()),
            cause: e,
        }
    }

    /// Every release in the package directory, and whether a release file
    /// is a symlink.
    fn list(&self, package: &PackageName) -> Result<(Vec<Release>, bool), SourceError> {
        let dir = self.package_dir(package)?;
        self.listings.fetch_add(1, Ordering::Relaxed);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(SourceError::PackageNotFound {
                    source_name: self.name.clone(),
                    package: package.clone(),
                })
            }
            Err(e) => return Err(self.io_error(package, None, &dir, e)),
        };
        let mut releases = BTreeSet::new();
        let mut yanked = BTreeSet::new();
        let mut symlinks = false;
        for entry in entries {
            let entry = entry.map_err(|e| self.io_error(package, None, &dir, e))?;
            let name = entry.file_name();
            let Some(file) = name.to_str() else {
                continue;
            };
            if let Some(v) = file.strip_suffix(YANKED_SUFFIX).and_then(canonical_version) {
                yanked.insert(v);
            } else if let Some(v) = file
                .strip_suffix(RELEASE_SUFFIX)
                .and_then(canonical_version)
            {
                // The entry's type comes with the listing on most file
                // systems; only a symlink needs a look at its target (a
                // linked release file is a release).
                let file_type = entry
                    .file_type()
                    .map_err(|e| self.io_error(package, None, &entry.path(), e))?;
                let is_file = if file_type.is_symlink() {
                    symlinks = true;
                    entry.path().is_file()
                } else {
                    file_type.is_file()
                };
                if is_file {
                    releases.insert(v);
                }
            }
        }
        let releases = releases
            .into_iter()
            .map(|version| Release {
                yanked: yanked.contains(&version),
                version,
            })
            .collect();
        Ok((releases, symlinks))
    }
}

impl Source for LocalRegistry {
    fn name(&self) -> &str {
        &self.name
    }

    fn registry_for(&self, _package: &PackageName) -> &str {
        &self.name
    }

    fn versions(&self, package: &PackageName) -> Result<Listing, SourceError> {
        // The stamp first: a change while listing leaves a stale stamp,
        // which the next look at the directory does not match.
        let stamp = self.versions_stamp(package);
        let (releases, symlinks) = self.list(package)?;
        Ok(Listing {
            releases: releases.into(),
            stamp: stamp.filter(|_| !symlinks),
        })
    }

    fn metadata(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<Arc<ReleaseMetadata>, SourceError> {
        let bytes = Verified::hash(self.read_release(package, version)?);
        self.scans.fetch_add(1, Ordering::Relaxed);
        ReleaseMetadata::from_verified(package, version, &bytes)
            .map(Arc::new)
            .map_err(|e| e.into_source_error(&self.name, package, version))
    }

    fn fetch(
        &self,
        package: &PackageName,
        version: &Version,
        digest: &Integrity,
    ) -> Result<Verified, SourceError> {
        let bytes = self.read_release(package, version)?;
        Verified::check(bytes, digest).map_err(|m| SourceError::DigestMismatch {
            source_name: self.name.clone(),
            package: package.clone(),
            version: Some(version.clone()),
            path: self.release_path(package, version).ok(),
            expected: m.expected.to_oci(),
            actual: m.actual.to_oci(),
        })
    }

    fn hints(&self) -> Option<&dyn Hints> {
        Some(self)
    }

    fn publisher(&self) -> Option<&dyn Publish> {
        Some(self)
    }
}

/// Stamps from file identities, and digests without parsing.
impl Hints for LocalRegistry {
    /// Nothing to start: a local file is read when it is asked for, as
    /// quickly as a hint could start reading it.
    fn prefetch(&self, _wanted: &[(PackageName, Option<Version>)]) {}

    /// The file hashed, not parsed.
    fn release_digest(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Option<Result<Integrity, SourceError>> {
        Some(
            self.read_release(package, version)
                .map(|bytes| Integrity::sha256(&bytes)),
        )
    }

    fn versions_stamp(&self, package: &PackageName) -> Option<Stamp> {
        #[cfg(unix)]
        {
            let path = format!("{}/{}", package.namespace(), package.name());
            self.stamp_at(&path, Kind::Dir)
        }
        #[cfg(not(unix))]
        {
            let meta = std::fs::metadata(self.package_dir(package).ok()?).ok()?;
            meta.is_dir().then(|| stamp_of(&meta, self.settle))?
        }
    }

    fn release_stamp(&self, package: &PackageName, version: &Version) -> Option<Stamp> {
        #[cfg(unix)]
        {
            let file = format!("{version}{RELEASE_SUFFIX}");
            if !is_single_component(&file) {
                return None;
            }
            let path = format!("{}/{}/{file}", package.namespace(), package.name());
            self.stamp_at(&path, Kind::File)
        }
        #[cfg(not(unix))]
        {
            let meta = std::fs::metadata(self.release_path(package, version).ok()?).ok()?;
            meta.is_file().then(|| stamp_of(&meta, self.settle))?
        }
    }
}

#[cfg(unix)]
impl LocalRegistry {
    /// The stamp of `path` (relative to the root, built from validated
    /// labels and a canonical version: no `..`, no leading `/`), if it is
    /// a `kind`. Taken with `fstatat` relative to the root directory,
    /// opened once per registry instance (a root that does not exist yet
    /// is looked for again at the next stamp).
    fn stamp_at(&self, path: &str, kind: Kind) -> Option<Stamp> {
        use std::os::fd::AsFd;
        let fd = match self.root_fd.get() {
            Some(fd) => fd,
            None => {
                let opened = std::fs::File::open(&self.root).ok()?;
                // Another thread may have opened it first: either is the
                // root.
                let _ = self.root_fd.set(opened.into());
                self.root_fd.get()?
            }
        };
        let (found, stamp) = stat_at(fd.as_fd(), path, self.settle)?;
        (found == kind).then_some(stamp)?
    }
}

impl Publish for LocalRegistry {
    fn publish(
        &self,
        package: &PackageName,
        version: &Version,
        bytes: &[u8],
    ) -> Result<ReleaseMetadata, SourceError> {
        LocalRegistry::publish(self, package, version, bytes)
    }

    /// A marker file beside the release (see the [module docs](self)).
    fn set_yanked(
        &self,
        package: &PackageName,
        version: &Version,
        yanked: bool,
    ) -> Result<(), SourceError> {
        if yanked {
            self.yank(package, version)
        } else {
            self.unyank(package, version)
        }
    }
}

/// The version a file stem names, if it is a version in canonical form.
fn canonical_version(stem: &str) -> Option<Version> {
    let v = Version::parse(stem).ok()?;
    (v.to_string() == stem).then_some(v)
}
