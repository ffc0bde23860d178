//! Remembered answers ([`Memos`]): what a computation over a source
//! returned, kept with the stamp of everything it read ([`Recorder`]), and
//! handed back while every one of those stamps is unchanged.
//!
//! A solve is a function of what it read: the version lists and the
//! releases' metadata. A source's [`Stamp`] promises an unchanged answer
//! while it stays the same (the promise the summaries already rely on), so
//! a solve whose every read still has the stamp it was read under would
//! come out the same: a new process re-solving a root it solved before
//! takes those stamps again (one `stat` each for a local registry) and
//! reads nothing else. Each stamp is taken *before* its read, so bytes
//! replaced in between leave a stamp the next look does not match. A read
//! without a stamp (a remote source, a file changed within the last
//! seconds, a package that does not exist) means nothing is remembered.
//!
//! ```
//! use warg_depsolve_registry::cache::{Memos, Recorder};
//! use warg_depsolve_registry::{Cache, LocalRegistry, Source};
//! let (reg_dir, cache_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
//! let local = LocalRegistry::new("local", reg_dir.path()).with_settle_time(std::time::Duration::ZERO);
//! let package = "test:empty".parse().unwrap();
//! local.publish(&package, &"1.0.0".parse().unwrap(), &wat::parse_str("(component)").unwrap()).unwrap();
//!
//! let memos = Cache::new(cache_dir.path()).memos();
//! let recorder = Recorder::new(&local);
//! let answer = recorder.versions(&package).unwrap().releases.len().to_string();
//! memos.remember("count", &recorder, answer.as_bytes()).unwrap();
//! assert_eq!(memos.recall("count", &local).as_deref(), Some(&b"1"[..]));
//!
//! // A new release changes the list's stamp: nothing is recalled.
//! std::thread::sleep(std::time::Duration::from_millis(20));
//! local.publish(&package, &"1.1.0".parse().unwrap(), &wat::parse_str("(component)").unwrap()).unwrap();
//! assert_eq!(memos.recall("count", &local), None);
//! ```

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use semver::Version;
use warg_depsolve_names::{Integrity, PackageName};

use crate::fsutil::{is_single_component, write_atomic_with, Existing};
use crate::source::{Hints, Listing, Publish, ReleaseMetadata, Source, SourceError, Stamp};
use crate::verified::Verified;

use super::index::{parse_stamp, parse_version, write_stamp};
use super::CacheError;

/// A memo file's first line: this, a space and [`FORMAT`]; then one line
/// per read, `<ns:name>\t<registry>\t<version or ->\t<stamp>`, an empty
/// line, and the answer's bytes as they were given. A file of another
/// format is not recalled.
const HEADER: &str = "warg-depsolve-memo";
const FORMAT: u32 = 1;

/// One read a [`Recorder`] saw: a package's version list (`version` none)
/// or one release, with the registry it was routed to and the stamp taken
/// before it was read.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Read {
    package: PackageName,
    registry: String,
    version: Option<Version>,
    stamp: Option<Stamp>,
}

/// A [`Source`] that passes everything to `inner` and records what was
/// read, each read's stamp taken first: the reads a [`Memos::remember`]
/// keeps.
pub struct Recorder<'a> {
    inner: &'a dyn Source,
    reads: Mutex<Reads>,
}

/// Each read once, in the order first made.
#[derive(Default)]
struct Reads {
    list: Vec<Read>,
    seen: HashSet<(PackageName, Option<Version>)>,
}

impl<'a> Recorder<'a> {
    /// Records the reads made through it from `inner`.
    pub fn new(inner: &'a dyn Source) -> Self {
        Recorder {
            inner,
            reads: Mutex::new(Reads::default()),
        }
    }

    /// Notes a read about to be made, with its stamp taken now (before
    /// it): only the first of each, whose stamp is the earliest.
    fn note(&self, package: &PackageName, version: Option<&Version>) {
        let lock = || self.reads.lock().unwrap_or_else(|e| e.into_inner());
        let key = (package.clone(), version.cloned());
        if lock().seen.contains(&key) {
            return;
        }
        let hints = self.inner.hints();
        let stamp = hints.and_then(|h| match version {
            None => h.versions_stamp(package),
            Some(version) => h.release_stamp(package, version),
        });
        let mut reads = lock();
        if reads.seen.insert(key) {
            reads.list.push(Read {
                package: package.clone(),
                registry: self.inner.registry_for(package).to_string(),
                version: version.cloned(),
                stamp,
            });
        }
    }

    /// The reads so far, or `None` if one has no stamp.
    fn stamped_reads(&self) -> Option<Vec<Read>> {
        let reads = self.reads.lock().unwrap_or_else(|e| e.into_inner());
        reads
            .list
            .iter()
            .all(|r| r.stamp.is_some())
            .then(|| reads.list.clone())
    }
}

impl Source for Recorder<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn registry_for(&self, package: &PackageName) -> &str {
        self.inner.registry_for(package)
    }

    fn versions(&self, package: &PackageName) -> Result<Listing, SourceError> {
        self.note(package, None);
        self.inner.versions(package)
    }

    fn metadata(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<Arc<ReleaseMetadata>, SourceError> {
        self.note(package, Some(version));
        self.inner.metadata(package, version)
    }

    fn fetch(
        &self,
        package: &PackageName,
        version: &Version,
        digest: &Integrity,
    ) -> Result<Verified, SourceError> {
        self.note(package, Some(version));
        self.inner.fetch(package, version, digest)
    }

    fn generation(&self) -> Option<u64> {
        self.inner.generation()
    }

    fn hints(&self) -> Option<&dyn Hints> {
        self.inner.hints().map(|_| self as &dyn Hints)
    }

    fn publisher(&self) -> Option<&dyn Publish> {
        // A computation that publishes is not one to remember.
        None
    }
}

impl Hints for Recorder<'_> {
    fn prefetch(&self, wanted: &[(PackageName, Option<Version>)]) {
        if let Some(h) = self.inner.hints() {
            h.prefetch(wanted);
        }
    }

    fn release_digest(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Option<Result<Integrity, SourceError>> {
        self.note(package, Some(version));
        self.inner.hints()?.release_digest(package, version)
    }

    fn versions_stamp(&self, package: &PackageName) -> Option<Stamp> {
        self.inner.hints()?.versions_stamp(package)
    }

    fn release_stamp(&self, package: &PackageName, version: &Version) -> Option<Stamp> {
        self.inner.hints()?.release_stamp(package, version)
    }
}

/// The cache's remembered answers (`<cache>/memo/<key>`), each kept with
/// the stamps of what computing it read.
#[derive(Clone, Debug)]
pub struct Memos {
    pub(super) dir: PathBuf,
}

impl Memos {
    /// The answer remembered under `key`, if every read it was computed
    /// from has, at `source` now, the stamp it was read under (and is
    /// routed to the same registry). A missing, unreadable or stale memo is
    /// `None`: the caller computes the answer again.
    pub fn recall(&self, key: &str, source: &dyn Source) -> Option<Vec<u8>> {
        if !is_single_component(key) {
            return None;
        }
        let mut text = std::fs::read(self.dir.join(key)).ok()?;
        let hints = source.hints()?;
        let header = format!("{HEADER} {FORMAT}\n");
        let mut at = header.len();
        if !text.starts_with(header.as_bytes()) {
            return None;
        }
        // One line per read, then an empty line, then the answer.
        loop {
            let end = at + memchr::memchr(b'\n', &text[at..])?;
            if end == at {
                at += 1;
                break;
            }
            let line = std::str::from_utf8(&text[at..end]).ok()?;
            let mut fields = line.split('\t');
            let (package, registry, version, stamp) = (
                fields.next()?,
                fields.next()?,
                fields.next()?,
                fields.next()?,
            );
            let package: PackageName = package.parse().ok()?;
            let recorded = parse_stamp(stamp)??;
            let now = match version {
                "-" => hints.versions_stamp(&package),
                version => hints.release_stamp(&package, &parse_version(version)?),
            };
            if now != Some(recorded) || source.registry_for(&package) != registry {
                return None;
            }
            at = end + 1;
        }
        text.drain(..at);
        Some(text)
    }

    /// Remembers `answer` under `key`, with the reads `recorder` saw.
    /// Returns whether it was kept: not when a read had no stamp.
    ///
    /// # Errors
    ///
    /// The memo file cannot be written (its path).
    pub fn remember(
        &self,
        key: &str,
        recorder: &Recorder<'_>,
        answer: &[u8],
    ) -> Result<bool, CacheError> {
        let (Some(reads), true) = (recorder.stamped_reads(), is_single_component(key)) else {
            return Ok(false);
        };
        let mut bytes = format!("{HEADER} {FORMAT}\n").into_bytes();
        for read in &reads {
            bytes.extend_from_slice(read.package.to_string().as_bytes());
            bytes.push(b'\t');
            bytes.extend_from_slice(read.registry.as_bytes());
            bytes.push(b'\t');
            match &read.version {
                None => bytes.push(b'-'),
                Some(version) => bytes.extend_from_slice(version.to_string().as_bytes()),
            }
            bytes.push(b'\t');
            write_stamp(&mut bytes, read.stamp);
            bytes.push(b'\n');
        }
        bytes.push(b'\n');
        bytes.extend_from_slice(answer);
        let path = self.dir.join(key);
        std::fs::create_dir_all(&self.dir)
            .and_then(|()| write_atomic_with(&path, &bytes, Existing::Replace, false))
            .map_err(|cause| CacheError::Io { path, cause })?;
        Ok(true)
    }
}
