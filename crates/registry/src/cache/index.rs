//! The per-registry index: last-seen version lists, release digests and
//! the package summaries a warm solve reads, all of a registry's in one
//! file.

use super::*;

#[derive(Serialize, Deserialize, PartialEq)]
pub(super) struct VersionsFile {
    pub(super) format: u32,
    pub(super) registry: String,
    pub(super) package: PackageName,
    pub(super) releases: Vec<Release>,
}

/// The per-package summary of the index: everything a warm solve needs
/// about one package in one file, with the stamps that tell whether it is
/// still current. Derived from the per-item files next to it (written
/// first), so a summary that is lost, stale or unreadable costs a re-read,
/// never a wrong answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct PackageFile {
    pub(super) format: u32,
    pub(super) registry: String,
    pub(super) package: PackageName,
    /// The source's stamp of the version list below, when it had one.
    #[serde(default)]
    pub(super) versions_stamp: Option<Stamp>,
    /// The last-seen version list, if the package was ever listed (shared:
    /// a solve is handed this list, not a copy).
    #[serde(default, with = "release_list")]
    pub(super) releases: Option<Arc<[Release]>>,
    /// What is known of single releases.
    #[serde(default)]
    pub(super) entries: BTreeMap<Version, ReleaseEntry>,
}

/// A version list as one string, `1.0.0 1.1.0 !1.2.0` (`!`: yanked):
/// several times quicker to read back than a list of objects, and this is
/// the bulk of a summary.
pub(super) mod release_list {
    use std::sync::Arc;

    use semver::Version;
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::source::Release;

    pub(super) fn serialize<S: Serializer>(
        releases: &Option<Arc<[Release]>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let Some(releases) = releases else {
            return s.serialize_none();
        };
        let mut text = String::new();
        for r in releases.iter() {
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
    ) -> Result<Option<Arc<[Release]>>, D::Error> {
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
pub(super) struct ReleaseEntry {
    /// The source's stamp of the bytes `digest` was read from (taken before
    /// reading them), when it had one.
    #[serde(default)]
    pub(super) stamp: Option<Stamp>,
    pub(super) digest: Integrity,
    /// The metadata of the bytes with `digest`, once known.
    #[serde(default)]
    pub(super) meta: Option<MetaRecord>,
}

impl PackageFile {
    /// A summary that knows nothing yet.
    pub(super) fn empty(registry: &str, package: &PackageName) -> Self {
        PackageFile {
            format: FORMAT,
            registry: registry.to_string(),
            package: package.clone(),
            versions_stamp: None,
            releases: None,
            entries: BTreeMap::new(),
        }
    }
}

/// The name of a registry's pack file in its index directory.
const PACK_FILE: &str = "summaries.index";

/// Every package summary of one registry, as one file: a header line, then
/// one line per package, `<ns:name> <summary as JSON>`, sorted by name. It
/// is read with one call and a line is parsed only when its package is
/// asked for, so a warm solve opens one file per registry (not one per
/// package) and parses the summaries it uses, whatever the file holds.
pub(super) struct Pack {
    text: Vec<u8>,
    /// Each line's package name and summary, as byte ranges in `text`, in
    /// the file's order (sorted by name: looked up by binary search).
    lines: Vec<(std::ops::Range<usize>, std::ops::Range<usize>)>,
}

impl Pack {
    fn header(registry: &str) -> String {
        format!(
            "warg-depsolve-index {FORMAT} {}\n",
            encode_component(registry)
        )
    }

    /// The lines of `text`, if its header is this format's for `registry`
    /// (else none: a pack of another format or registry is rebuilt).
    fn parse(text: Vec<u8>, registry: &str) -> Pack {
        let mut lines = Vec::new();
        let header = Self::header(registry);
        if text.starts_with(header.as_bytes()) {
            // One pass over the file finding line ends (memchr: the bulk
            // of a warm solve's index reading), no copy, no allocation
            // per line.
            let mut start = header.len();
            for end in memchr::memchr_iter(b'\n', &text[start..]).map(|i| i + header.len()) {
                if let Some(space) = memchr::memchr(b' ', &text[start..end]) {
                    lines.push((start..start + space, start + space + 1..end));
                }
                start = end + 1;
            }
            // Written sorted; a file edited out of order is not trusted.
            if !lines.is_sorted_by(|a, b| text[a.0.clone()] < text[b.0.clone()]) {
                lines.clear();
            }
        }
        Pack { text, lines }
    }

    /// `package`'s summary, if the pack holds a readable one.
    pub(super) fn get(&self, registry: &str, package: &PackageName) -> Option<PackageFile> {
        // Compared with `ns:name` byte by byte, without spelling it out.
        let (ns, name) = (package.namespace().as_bytes(), package.name().as_bytes());
        let at = self
            .lines
            .binary_search_by(|(n, _)| {
                self.text[n.clone()]
                    .iter()
                    .cmp(ns.iter().chain(b":").chain(name))
            })
            .ok()?;
        serde_json::from_slice::<PackageFile>(&self.text[self.lines[at].1.clone()])
            .ok()
            .filter(|f| f.format == FORMAT && f.registry == registry && f.package == *package)
    }
}

/// The per-registry index: last-seen version lists and release digests.
#[derive(Clone, Debug)]
pub(super) struct Index {
    pub(super) dir: PathBuf,
}

impl Index {
    pub(super) fn package_dir(&self, registry: &str, package: &PackageName) -> Option<PathBuf> {
        let registry = encode_component(registry);
        join_inside(&self.dir, &[&registry, package.namespace(), package.name()])
    }

    /// The file holding every package summary of `registry` (a dot, which
    /// no namespace has, keeps it apart from the namespace directories).
    pub(super) fn pack_path(&self, registry: &str) -> Option<PathBuf> {
        join_inside(&self.dir, &[&encode_component(registry), PACK_FILE])
    }

    /// The summaries of `registry`, read with one call (empty when there
    /// is no file or it is not ours: derived data, rebuilt as it is used).
    pub(super) fn pack(&self, registry: &str) -> Pack {
        let text = self
            .pack_path(registry)
            .and_then(|path| std::fs::read(path).ok())
            .unwrap_or_default();
        Pack::parse(text, registry)
    }

    /// Writes `files` (summaries of `registry`) into its pack, keeping the
    /// other packages' lines as they are on disk now (last writer wins per
    /// write: see the module docs).
    pub(super) fn set_pack(&self, registry: &str, files: &[PackageFile]) -> Result<(), CacheError> {
        let Some(path) = self.pack_path(registry) else {
            return Ok(());
        };
        let current = self.pack(registry);
        let mut lines: BTreeMap<&[u8], Vec<u8>> = current
            .lines
            .iter()
            .map(|(name, summary)| {
                (
                    &current.text[name.clone()],
                    current.text[summary.clone()].to_vec(),
                )
            })
            .collect();
        let names: Vec<String> = files.iter().map(|f| f.package.to_string()).collect();
        for (file, name) in files.iter().zip(&names) {
            let line = serde_json::to_vec(file).map_err(|e| CacheError::io(&path, e.into()))?;
            lines.insert(name.as_bytes(), line);
        }
        let mut text = Pack::header(registry).into_bytes();
        for (name, line) in lines {
            text.extend_from_slice(name);
            text.push(b' ');
            text.extend_from_slice(&line);
            text.push(b'\n');
        }
        write_atomic_with(&path, &text, Existing::Replace, false)
            .map_err(|e| CacheError::io(&path, e))
    }

    pub(super) fn versions_path(&self, registry: &str, package: &PackageName) -> Option<PathBuf> {
        Some(self.package_dir(registry, package)?.join("versions.json"))
    }

    pub(super) fn digest_path(
        &self,
        registry: &str,
        package: &PackageName,
        version: &Version,
    ) -> Option<PathBuf> {
        let file = format!("{version}.digest");
        is_single_component(&file).then_some(())?;
        Some(self.package_dir(registry, package)?.join(file))
    }

    pub(super) fn versions(
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

    pub(super) fn set_versions(
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
        let text = serde_json::to_vec_pretty(&file).map_err(|e| CacheError::io(&path, e.into()))?;
        write_atomic_with(&path, &text, Existing::Replace, false)
            .map_err(|e| CacheError::io(&path, e))
    }

    pub(super) fn digest(
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

    pub(super) fn set_digest(
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
