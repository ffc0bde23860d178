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

    /// The bytes with `digest`, checked against it (one hash: the file
    /// may have been damaged since it was written); `None` if not stored.
    pub fn get(&self, digest: &Integrity) -> Result<Option<Verified>, CacheError> {
        let path = self.path_of(digest);
        let bytes = match crate::fsutil::read_shared(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(CacheError::io(&path, e)),
        };
        Verified::check(bytes, digest)
            .map(Some)
            .map_err(|m| CacheError::corrupt(path, m))
    }

    /// Stores `bytes` under their SHA-256 digest and returns it.
    pub fn put(&self, bytes: &[u8]) -> Result<Integrity, CacheError> {
        let verified = Verified::hash(bytes);
        self.store(&verified)?;
        Ok(verified.digest().clone())
    }

    /// Stores `bytes` under `digest`, which they must match (a mismatch is
    /// [`CacheError::Corrupt`] and nothing is written). Replaces a stored
    /// file, which heals one that was damaged.
    pub fn insert(&self, digest: &Integrity, bytes: &[u8]) -> Result<(), CacheError> {
        let verified = Verified::check(bytes, digest)
            .map_err(|m| CacheError::corrupt(self.path_of(digest), m))?;
        self.store(&verified)
    }

    /// Stores bytes already checked under their digest (not hashed again).
    /// Replaces a stored file, which heals one that was damaged.
    pub fn store(&self, bytes: &Verified) -> Result<(), CacheError> {
        let path = self.path_of(bytes.digest());
        write_atomic(&path, bytes, Existing::Replace).map_err(|e| CacheError::io(&path, e))
    }

    /// Whether content with `digest` is stored (unchecked).
    pub fn contains(&self, digest: &Integrity) -> bool {
        self.path_of(digest).is_file()
    }
}
