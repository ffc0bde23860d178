//! [`Verified`]: bytes together with a digest they are known to hash to.
//!
//! Every byte a source hands out is checked against its digest before use.
//! Done by every layer that passes bytes on (the source, the cache in
//! front of it, the compose pass after it), that check hashed one package
//! several times in one command. A `Verified` value carries the proof
//! instead: it can only be made by hashing the bytes ([`Verified::hash`])
//! or by checking them against a digest ([`Verified::check`]), so whoever
//! receives one compares digests (a few bytes) instead of hashing again.
//!
//! The proof is about the bytes and the digest inside the value; a caller
//! that asked for a particular digest still compares it with
//! [`Verified::digest`] (see [`Verified::is`]), because a faulty source
//! could hand out a correct proof of the wrong bytes.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use warg_depsolve_names::Integrity;

/// Shared bytes and a digest they hash to: made only by hashing them, so
/// it never needs to be checked again.
///
/// ```
/// use warg_depsolve_names::Integrity;
/// use warg_depsolve_registry::Verified;
/// let digest = Integrity::sha256(b"bytes");
/// let verified = Verified::check(&b"bytes"[..], &digest).unwrap();
/// assert!(verified.is(&digest));
/// assert_eq!(&*verified, b"bytes");
///
/// let mismatch = Verified::check(&b"other"[..], &digest).unwrap_err();
/// assert_eq!(mismatch.actual, Integrity::sha256(b"other"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Verified {
    bytes: Arc<[u8]>,
    digest: Integrity,
}

/// Bytes that did not hash to the digest they were checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The digest they were checked against.
    pub expected: Integrity,
    /// Their digest, under the expected digest's algorithm.
    pub actual: Integrity,
}

impl Verified {
    /// `bytes` with their SHA-256 digest (hashes them once).
    pub fn hash(bytes: impl Into<Arc<[u8]>>) -> Self {
        let bytes = bytes.into();
        let digest = Integrity::sha256(&bytes);
        Verified { bytes, digest }
    }

    /// `bytes`, if they hash to `expected` (hashes them once, under
    /// `expected`'s algorithm).
    ///
    /// # Errors
    ///
    /// [`Mismatch`] with both digests when they do not.
    pub fn check(bytes: impl Into<Arc<[u8]>>, expected: &Integrity) -> Result<Self, Mismatch> {
        let bytes = bytes.into();
        let actual = Integrity::compute(expected.algorithm, &bytes);
        if actual == *expected {
            Ok(Verified {
                bytes,
                digest: actual,
            })
        } else {
            Err(Mismatch {
                expected: expected.clone(),
                actual,
            })
        }
    }

    /// The digest the bytes hash to.
    pub fn digest(&self) -> &Integrity {
        &self.digest
    }

    /// Whether these are the bytes with `digest` (a comparison of digests,
    /// no hashing). A digest under another algorithm than the one checked
    /// is not known to match, so it answers `false`.
    pub fn is(&self, digest: &Integrity) -> bool {
        self.digest == *digest
    }

    /// These bytes as the bytes with `digest`, which a caller asked a
    /// source for: a comparison of digests when `digest` is under the
    /// algorithm they were checked with (the usual case), else a check
    /// (one hash).
    ///
    /// # Errors
    ///
    /// [`Mismatch`] when they are other bytes.
    pub fn confirm(self, digest: &Integrity) -> Result<Self, Mismatch> {
        if self.is(digest) {
            Ok(self)
        } else if self.digest.algorithm == digest.algorithm {
            Err(Mismatch {
                expected: digest.clone(),
                actual: self.digest,
            })
        } else {
            Self::check(self.bytes, digest)
        }
    }

    /// The bytes, shared.
    pub fn bytes(&self) -> &Arc<[u8]> {
        &self.bytes
    }

    /// The bytes, shared, without the proof.
    pub fn into_bytes(self) -> Arc<[u8]> {
        self.bytes
    }
}

impl Deref for Verified {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl AsRef<[u8]> for Verified {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for Verified {
    // The bytes may be megabytes: their size and digest say which they are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verified")
            .field("len", &self.bytes.len())
            .field("digest", &self.digest.to_oci())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warg_depsolve_names::HashAlgorithm;

    #[test]
    fn a_check_under_another_algorithm_proves_that_digest() {
        let sha512 = Integrity::compute(HashAlgorithm::Sha512, b"x");
        let verified = Verified::check(&b"x"[..], &sha512).unwrap();
        assert!(verified.is(&sha512));
        // Not proven under SHA-256, though the bytes would match it.
        assert!(!verified.is(&Integrity::sha256(b"x")));
        assert_eq!(Verified::hash(&b"x"[..]).digest(), &Integrity::sha256(b"x"));
    }

    #[test]
    fn confirming_compares_digests_and_checks_only_across_algorithms() {
        let verified = Verified::hash(&b"x"[..]);
        let sha256 = Integrity::sha256(b"x");
        assert_eq!(verified.clone().confirm(&sha256).unwrap().digest(), &sha256);
        let sha512 = Integrity::compute(HashAlgorithm::Sha512, b"x");
        assert!(verified.clone().confirm(&sha512).unwrap().is(&sha512));
        let other = Integrity::sha256(b"y");
        let mismatch = verified.confirm(&other).unwrap_err();
        assert_eq!((mismatch.expected, mismatch.actual), (other, sha256));
    }
}
