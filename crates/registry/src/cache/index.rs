//! The per-registry index: last-seen version lists, release digests and
//! the package summaries a warm solve reads, all of a registry's in one
//! file.

use std::ops::Range;

use super::*;

#[derive(Serialize, Deserialize, PartialEq)]
pub(super) struct VersionsFile {
    pub(super) format: u32,
    pub(super) registry: String,
    pub(super) package: PackageName,
    pub(super) releases: Vec<Release>,
}

/// The per-package summary of the index: everything a warm solve needs
/// about one package, with the stamps that tell whether it is still
/// current. Derived from the per-item files next to it (written first), so
/// a summary that is lost, stale or unreadable costs a re-read, never a
/// wrong answer.
///
/// Read from a [`Pack`], only the version list and each entry's version
/// are parsed; an entry's stamp and digest are parsed when its release is
/// asked for, and its metadata when that is (a warm solve reads one or two
/// releases of a package whose summary may know a dozen).
#[derive(Clone, Debug)]
pub(super) struct PackageFile {
    pub(super) package: PackageName,
    /// The source's stamp of the version list below, when it had one.
    pub(super) versions_stamp: Option<Stamp>,
    /// The last-seen version list, if the package was ever listed (shared:
    /// a solve is handed this list, not a copy).
    pub(super) releases: Option<Arc<[Release]>>,
    /// What is known of single releases (a handful: searched in order).
    entries: Vec<(Version, Slot)>,
    /// The pack this summary was read from: what is still text is a range
    /// of its bytes.
    pack: Option<Arc<Pack>>,
}

/// A release's entry in a [`PackageFile`]: still the pack's text, or read.
#[derive(Clone, Debug)]
enum Slot {
    /// `<stamp> <digest> <meta>`, as written.
    Text(Range<usize>),
    Read(ReleaseEntry),
}

/// One release in a [`PackageFile`].
#[derive(Clone, Debug)]
pub(super) struct ReleaseEntry {
    /// The source's stamp of the bytes `digest` was read from (taken before
    /// reading them), when it had one.
    pub(super) stamp: Option<Stamp>,
    pub(super) digest: Integrity,
    /// The metadata of the bytes with `digest`, once known.
    pub(super) meta: Option<Meta>,
}

/// A release's metadata in a summary: the pack's JSON text until used.
#[derive(Clone, Debug)]
pub(super) enum Meta {
    Text(Range<usize>),
    Record(MetaRecord),
}

impl PackageFile {
    /// A summary that knows nothing yet.
    pub(super) fn empty(package: &PackageName) -> Self {
        PackageFile {
            package: package.clone(),
            versions_stamp: None,
            releases: None,
            entries: Vec::new(),
            pack: None,
        }
    }

    /// The entry of `version`, read from the pack's text the first time
    /// (an entry that does not read is dropped: re-learned from the
    /// source).
    pub(super) fn entry(&mut self, version: &Version) -> Option<&mut ReleaseEntry> {
        let at = self.entries.iter().position(|(v, _)| v == version)?;
        if let Slot::Text(range) = &self.entries[at].1 {
            match parse_entry(&self.pack.as_ref()?.text, range.clone()) {
                Some(entry) => self.entries[at].1 = Slot::Read(entry),
                None => {
                    self.entries.remove(at);
                    return None;
                }
            }
        }
        match &mut self.entries[at].1 {
            Slot::Read(entry) => Some(entry),
            Slot::Text(_) => None,
        }
    }

    /// Records `entry` as what is known of `version`.
    pub(super) fn insert(&mut self, version: &Version, entry: ReleaseEntry) {
        match self.entries.iter_mut().find(|(v, _)| v == version) {
            Some((_, slot)) => *slot = Slot::Read(entry),
            None => self.entries.push((version.clone(), Slot::Read(entry))),
        }
    }

    /// What `meta` records (`None` if its text no longer reads).
    pub(super) fn record(&self, meta: &Meta) -> Option<MetaRecord> {
        match meta {
            Meta::Record(record) => Some(record.clone()),
            Meta::Text(range) => serde_json::from_slice(self.text(range)?).ok(),
        }
    }

    /// The metadata `meta` describes, as `package@version` with `digest`.
    pub(super) fn metadata(
        &self,
        meta: &Meta,
        version: &Version,
        digest: &Integrity,
    ) -> Option<ReleaseMetadata> {
        match meta {
            Meta::Record(record) => record.to_metadata(&self.package, version, digest),
            Meta::Text(range) => serde_json::from_slice::<MetaText>(self.text(range)?)
                .ok()?
                .into_metadata(&self.package, version, digest),
        }
    }

    /// The bytes of `range` of the pack this summary was read from.
    fn text(&self, range: &Range<usize>) -> Option<&[u8]> {
        self.pack.as_ref()?.text.get(range.clone())
    }

    /// Reads a summary written by [`Self::write`]; `None` if it does not
    /// read (it is then rebuilt from the source).
    fn read(pack: &Arc<Pack>, package: &PackageName, range: Range<usize>) -> Option<Self> {
        let text = &pack.text;
        let mut fields = split(text, range, b'\t');
        let versions_stamp = parse_stamp(std::str::from_utf8(&text[fields.next()?]).ok()?)?;
        let releases = match &text[fields.next()?] {
            b"-" => None,
            list => Some(parse_releases(std::str::from_utf8(list).ok()?)?),
        };
        let mut entries = Vec::new();
        for field in fields {
            let space = memchr::memchr(b' ', &text[field.clone()])?;
            let version =
                parse_version(std::str::from_utf8(&text[field.start..field.start + space]).ok()?)?;
            entries.push((version, Slot::Text(field.start + space + 1..field.end)));
        }
        Some(PackageFile {
            package: package.clone(),
            versions_stamp,
            releases,
            entries,
            pack: Some(pack.clone()),
        })
    }

    /// Appends the summary's line text (after its name): the version
    /// list's stamp (`-` for none), the list (`1.0.0 !1.1.0`, `!` for
    /// yanked; `-` if never listed), then one field per release,
    /// `<version> <stamp> <digest> <metadata JSON or ->`, fields separated
    /// by tabs (compact JSON holds none).
    fn write(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        write_stamp(out, self.versions_stamp);
        out.push(b'\t');
        match &self.releases {
            None => out.push(b'-'),
            Some(releases) => {
                for (i, r) in releases.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    if r.yanked {
                        out.push(b'!');
                    }
                    out.extend_from_slice(r.version.to_string().as_bytes());
                }
            }
        }
        let pack_text = self.pack.as_ref().map_or(&[][..], |p| &p.text[..]);
        for (version, slot) in &self.entries {
            out.push(b'\t');
            out.extend_from_slice(version.to_string().as_bytes());
            out.push(b' ');
            match slot {
                Slot::Text(range) => out.extend_from_slice(&pack_text[range.clone()]),
                Slot::Read(entry) => {
                    write_stamp(out, entry.stamp);
                    out.push(b' ');
                    out.extend_from_slice(entry.digest.to_oci().as_bytes());
                    out.push(b' ');
                    match &entry.meta {
                        None => out.push(b'-'),
                        Some(Meta::Text(range)) => out.extend_from_slice(&pack_text[range.clone()]),
                        Some(Meta::Record(record)) => serde_json::to_writer(&mut *out, record)?,
                    }
                }
            }
        }
        Ok(())
    }
}

/// The parts of `range` of `text` between `separator`s.
fn split(
    text: &[u8],
    range: Range<usize>,
    separator: u8,
) -> impl Iterator<Item = Range<usize>> + '_ {
    let start = range.start;
    let ends = memchr::memchr_iter(separator, &text[range.clone()])
        .map(move |i| start + i)
        .chain(std::iter::once(range.end));
    let mut from = start;
    ends.map(move |end| {
        let part = from..end;
        from = end + 1;
        part
    })
}

/// `<stamp> <digest> <meta>` of one release.
fn parse_entry(text: &[u8], range: Range<usize>) -> Option<ReleaseEntry> {
    let mut parts = split(text, range.clone(), b' ');
    let stamp = parse_stamp(std::str::from_utf8(&text[parts.next()?]).ok()?)?;
    let digest_range = parts.next()?;
    let digest =
        Integrity::parse_oci(std::str::from_utf8(&text[digest_range.clone()]).ok()?).ok()?;
    // The metadata is the rest (its JSON may hold spaces).
    let meta = digest_range.end + 1..range.end;
    let meta = match text.get(meta.clone())? {
        b"-" => None,
        _ => Some(Meta::Text(meta)),
    };
    Some(ReleaseEntry {
        stamp,
        digest,
        meta,
    })
}

/// A stamp as written by [`write_stamp`]: `Some(None)` for `-`.
pub(super) fn parse_stamp(text: &str) -> Option<Option<Stamp>> {
    if text == "-" {
        return Some(None);
    }
    let mut stamp = [0u64; 5];
    let mut parts = text.split(',');
    for field in &mut stamp {
        *field = parts.next()?.parse().ok()?;
    }
    parts.next().is_none().then_some(Some(Stamp(stamp)))
}

pub(super) fn write_stamp(out: &mut Vec<u8>, stamp: Option<Stamp>) {
    use std::io::Write;
    match stamp {
        None => out.push(b'-'),
        Some(Stamp([a, b, c, d, e])) => {
            let _ = write!(out, "{a},{b},{c},{d},{e}");
        }
    }
}

/// A version list as written by [`PackageFile::write`] (empty: none).
fn parse_releases(text: &str) -> Option<Arc<[Release]>> {
    text.split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let (yanked, v) = match w.strip_prefix('!') {
                Some(v) => (true, v),
                None => (false, w),
            };
            Some(Release {
                version: parse_version(v)?,
                yanked,
            })
        })
        .collect()
}

/// A version as written in a summary: a plain `major.minor.patch` read
/// directly (most of a warm solve's thousands of versions, several times
/// quicker than the full grammar), anything else by [`Version::parse`].
/// The same strings are accepted either way.
pub(super) fn parse_version(text: &str) -> Option<Version> {
    fn number(part: &str) -> Option<u64> {
        // Digits only, no leading zero (as semver), at most 19 (no overflow).
        let plain = !part.is_empty()
            && part.len() <= 19
            && part.bytes().all(|b| b.is_ascii_digit())
            && (part == "0" || !part.starts_with('0'));
        plain.then(|| part.parse().ok())?
    }
    let mut parts = text.split('.');
    let plain = (|| {
        let (major, minor, patch) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        Some(Version::new(number(major)?, number(minor)?, number(patch)?))
    })();
    plain.or_else(|| Version::parse(text).ok())
}

/// The name of a registry's pack file in its index directory.
const PACK_FILE: &str = "summaries.index";

/// The version of the pack's line format (apart from [`FORMAT`], the
/// other index and metadata files', which did not change with it).
const PACK_FORMAT: u32 = 3;

/// Every package summary of one registry, as one file: a header line, then
/// one line per package, `<ns:name> <summary>` (see [`PackageFile::write`]),
/// sorted by name. It is read with one call and a line is parsed only when
/// its package is asked for, so a warm solve opens one file per registry
/// (not one per package) and parses the summaries it uses, whatever the
/// file holds.
#[derive(Debug)]
pub(super) struct Pack {
    text: Vec<u8>,
    /// Each line's package name and summary, as byte ranges in `text`, in
    /// the file's order (sorted by name: looked up by binary search).
    lines: Vec<(Range<usize>, Range<usize>)>,
}

impl Pack {
    fn header(registry: &str) -> String {
        format!(
            "warg-depsolve-index {PACK_FORMAT} {}\n",
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
    pub(super) fn get(self: &Arc<Self>, package: &PackageName) -> Option<PackageFile> {
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
        PackageFile::read(self, package, self.lines[at].1.clone())
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
            let mut line = Vec::new();
            file.write(&mut line)
                .map_err(|e| CacheError::io(&path, e.into()))?;
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
