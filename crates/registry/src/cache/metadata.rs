//! The metadata cache: what follows from a release's bytes, by digest.

use std::borrow::Cow;

use warg_depsolve_types::ComponentTypes;

use super::*;

/// Cached scan results: digest to the metadata that follows from those
/// bytes. JSON files, one per digest.
#[derive(Clone, Debug)]
pub struct MetadataCache {
    pub(super) dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
pub(super) struct MetadataFile {
    pub(super) format: u32,
    pub(super) digest: Integrity,
    #[serde(flatten)]
    pub(super) meta: MetaRecord,
}

/// What the bytes of one release say (its metadata less package, version
/// and digest), as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct MetaRecord {
    pub(super) size: u64,
    pub(super) dependencies: Vec<DependencyRecord>,
    pub(super) interface_exports: Vec<String>,
    /// Absent in a record of bytes whose types do not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) types: Option<ComponentTypes>,
}

/// A [`MetaRecord`]'s text read with its strings borrowed: a warm solve
/// builds each release's metadata straight from the summaries file.
#[derive(Deserialize)]
pub(super) struct MetaText<'a> {
    size: u64,
    #[serde(borrow)]
    dependencies: Vec<DependencyText<'a>>,
    #[serde(borrow)]
    interface_exports: Vec<Cow<'a, str>>,
    #[serde(default)]
    types: Option<ComponentTypes>,
}

#[derive(Deserialize)]
struct DependencyText<'a> {
    #[serde(borrow)]
    import: Cow<'a, str>,
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    reference: Cow<'a, str>,
}

impl MetaText<'_> {
    /// The metadata this record describes, as `package@version` with
    /// `digest`; `None` if a name no longer parses (the record is then
    /// treated as absent).
    pub(super) fn into_metadata(
        self,
        package: &PackageName,
        version: &Version,
        digest: &Integrity,
    ) -> Option<ReleaseMetadata> {
        Some(ReleaseMetadata {
            package: package.clone(),
            version: version.clone(),
            digest: digest.clone(),
            size: self.size,
            dependencies: self
                .dependencies
                .iter()
                .map(|d| DependencyRecord::dependency(&d.import, &d.kind, &d.reference))
                .collect::<Option<Vec<_>>>()?,
            interface_exports: self
                .interface_exports
                .iter()
                .map(|i| InterfaceName::parse(i))
                .collect::<Option<Vec<_>>>()?,
            types: self.types,
        })
    }
}

impl MetaRecord {
    pub(super) fn of(meta: &ReleaseMetadata) -> Self {
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
            types: meta.types.clone(),
        }
    }

    /// The metadata this record describes, as `package@version` with
    /// `digest`; `None` if a name no longer parses.
    pub(super) fn to_metadata(
        &self,
        package: &PackageName,
        version: &Version,
        digest: &Integrity,
    ) -> Option<ReleaseMetadata> {
        // Read as its text would be, borrowing the record's strings.
        MetaText {
            size: self.size,
            dependencies: self
                .dependencies
                .iter()
                .map(|d| DependencyText {
                    import: Cow::Borrowed(&d.import),
                    kind: Cow::Borrowed(&d.kind),
                    reference: Cow::Borrowed(&d.reference),
                })
                .collect(),
            interface_exports: self
                .interface_exports
                .iter()
                .map(|i| Cow::Borrowed(&**i))
                .collect(),
            types: self.types.clone(),
        }
        .into_metadata(package, version, digest)
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
        let text = serde_json::to_vec_pretty(&file).map_err(|e| CacheError::io(&path, e.into()))?;
        write_atomic_with(&path, &text, Existing::Replace, false)
            .map_err(|e| CacheError::io(&path, e))
    }
}
