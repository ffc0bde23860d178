//! The content store: bytes by digest, every read checked.

use super::*;

/// A content-addressed store: a directory of `<algorithm>/<hex digest>`
/// files, every read checked against its digest.
#[derive(Clone, Debug)]
pub struct ContentStore {
    pub(super) dir: PathBuf,
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
