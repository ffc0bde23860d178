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
//! <cache>/index/<registry>/summaries.index            summaries: all of the above, one line per package, with stamps
//! <cache>/memo/<key>                                  a remembered answer (a solve's), with the stamps of what it read
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
//! # The package summaries: a warm solve reads one file per registry
//!
//! A package's summary holds what a solve needs of one package: its
//! version list and, for each release seen, its digest and metadata (type
//! facts included), each with the source's [`Stamp`] of what it was read
//! from (for a local registry: the identity of the package directory and
//! of the release file; see [`LocalRegistry`](crate::LocalRegistry)). A
//! registry's summaries share one file, `summaries.index` (a header line,
//! then `<ns:name> <summary>` per package: the list's stamp, the list, and
//! one tab-separated field per release, `<version> <stamp> <digest>
//! <metadata JSON>`); a new [`CachedSource`] reads it with one call the
//! first time it needs the registry, parses a package's version list the
//! first time it needs the package, and a release's field only when that
//! release is asked for. Online, it asks
//! the source for the current stamp (one `stat`) and reuses the recorded
//! answer when it is the same, so a warm solve over a local registry costs
//! one file read per registry and a couple of `stat`s per package: no
//! directory listing, no hashing, no per-release file. When a stamp
//! differs (a release published or yanked, a file replaced) or the source
//! has none (a remote source, a file changed within the last seconds), the
//! source is asked as before and the summary updated. The file is
//! rewritten only when a summary in it changed, once per solve, with the
//! lines other processes wrote since kept.
//!
//! # Integrity and concurrency
//!
//! Every content read is hashed and compared with the digest it is filed
//! under; a mismatch is [`SourceError::DigestMismatch`] naming both digests
//! and the file. Metadata files record their digest and are checked too.
//! Content that arrives [`Verified`] (from the source, or checked on its
//! way in) is stored and handed on without being hashed again: on a cold
//! run each release's bytes are hashed once per read, and a read from the
//! store is one more read.
//!
//! Every file is written whole to a temporary file in its directory and
//! renamed into place, so readers in any process see an old file, a new
//! file or none, never a torn one. Content and metadata files are functions
//! of their digest (two writers write the same bytes), each release's
//! digest has its own file (immutable releases: the same bytes each time),
//! and a version list is replaced whole by the latest writer. The summaries
//! file is the one file that is read, changed and written back, so two
//! processes updating it at once can lose one's update; it is
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
use crate::source::{
    DependencyRecord, Hints, Listing, Publish, Release, ReleaseMetadata, Source, SourceError, Stamp,
};
use crate::verified::Verified;

/// The version of the metadata and index file formats.
const FORMAT: u32 = 2;

/// A failure of the cache itself, naming the file.
#[derive(Debug, thiserror::Error)]
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
    #[error("cannot read or write the cache at `{}`", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        cause: io::Error,
    },
}

impl CacheError {
    fn io(path: &Path, cause: io::Error) -> Self {
        CacheError::Io {
            path: path.to_path_buf(),
            cause,
        }
    }

    fn corrupt(path: PathBuf, mismatch: crate::verified::Mismatch) -> Self {
        CacheError::Corrupt {
            path,
            expected: mismatch.expected.to_oci(),
            actual: mismatch.actual.to_oci(),
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
                package: package.clone(),
                version: None,
                path: Some(path),
                expected,
                actual,
            },
            CacheError::Io { path, cause } => SourceError::Unavailable {
                source_name: registry.to_string(),
                what: format!("cached data of `{package}` at `{}`", path.display()),
                cause,
            },
        }
    }
}

mod cached;
mod content;
mod index;
mod memo;
mod metadata;

pub use cached::{CachedSource, Warn};
pub use content::ContentStore;
use index::*;
pub use memo::{Memos, Recorder};
pub use metadata::MetadataCache;
use metadata::*;

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

    /// Its remembered answers ([`Memos`]): a solve's, kept with the
    /// stamps of everything it read.
    pub fn memos(&self) -> Memos {
        Memos {
            dir: self.root.join("memo"),
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

/// The hex digits of a digest (its OCI form after the colon).
fn digest_hex(digest: &Integrity) -> String {
    digest.to_hex()
}

/// A registry name as one safe path component: bytes outside `[a-z0-9_-]`
/// become `%XX`, so `.`, `..`, separators, NUL, drive letters and
/// case-folding file systems can do no harm. Backends that keep files of
/// their own under the cache (a warg registry's state) name them with it.
pub fn encode_component(name: &str) -> String {
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
        let package: PackageName = "test:add".parse().unwrap();
        let digest = Integrity::sha256(b"bytes");
        let record = MetaRecord {
            size: 5,
            dependencies: vec![],
            interface_exports: vec!["a:b/c@1.0.0".into()],
            types: None,
        };
        for releases in [None, Some(vec![]), Some(releases)] {
            let mut file = PackageFile::empty(&package);
            file.versions_stamp = Some(Stamp([1, 2, 3, u64::MAX, 5]));
            file.releases = releases.clone().map(Arc::from);
            let (v1, v2): (Version, Version) = (
                "1.1.0-rc.1+build.5".parse().unwrap(),
                "2.0.0".parse().unwrap(),
            );
            file.insert(
                &v1,
                ReleaseEntry {
                    stamp: None,
                    digest: digest.clone(),
                    meta: Some(Meta::Record(record.clone())),
                },
            );
            file.insert(
                &v2,
                ReleaseEntry {
                    stamp: Some(Stamp([6, 7, 8, 9, 10])),
                    digest: digest.clone(),
                    meta: None,
                },
            );
            let dir = tempfile::tempdir().unwrap();
            let index = Index {
                dir: dir.path().to_path_buf(),
            };
            index.set_pack("local", &[file.clone()]).unwrap();
            // Read back, and written again from what is still text.
            for _ in 0..2 {
                let mut back = Arc::new(index.pack("local")).get(&package).unwrap();
                assert_eq!(back.releases.as_deref(), releases.as_deref());
                assert_eq!(back.versions_stamp, file.versions_stamp);
                let e1 = back.entry(&v1).unwrap().clone();
                assert_eq!((e1.stamp, &e1.digest), (None, &digest));
                assert_eq!(back.record(&e1.meta.unwrap()), Some(record.clone()));
                let e2 = back.entry(&v2).unwrap().clone();
                assert_eq!(e2.stamp, Some(Stamp([6, 7, 8, 9, 10])));
                assert!(e2.meta.is_none());
                let back = Arc::new(index.pack("local")).get(&package).unwrap();
                index.set_pack("local", &[back]).unwrap();
            }
        }
    }

    #[test]
    fn summary_versions_read_as_semver_reads_them() {
        for text in [
            "1.2.3",
            "0.0.0",
            "10.20.30",
            "18446744073709551615.0.1",
            "18446744073709551616.0.0",
            "9999999999999999999.0.0",
            "01.2.3",
            "1.02.3",
            "1.2",
            "1.2.3.4",
            "1.2.3-rc.1",
            "1.2.3+build",
            "1..3",
            "-1.2.3",
            "+1.2.3",
            "1.2.3 ",
            "",
        ] {
            assert_eq!(
                index::parse_version(text),
                Version::parse(text).ok(),
                "{text:?}"
            );
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
