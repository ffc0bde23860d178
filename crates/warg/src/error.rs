//! [`WargError`]: every way a warg registry can fail us, each naming the
//! registry and what it was about; causes are in `source()` only.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use semver::Version;
use warg_crypto::signing::{KeyID, SignatureError};
use warg_protocol::registry::{PackageName, RecordId, RegistryLen};
use warg_transparency::log::{ConsistencyProofError, InclusionProofError};

/// A boxed cause.
pub type BoxError = Box<dyn StdError + Send + Sync>;

/// Which log of a registry something is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogName {
    /// The registry's operator log (keys, namespaces).
    Operator,
    /// A package's log.
    Package(PackageName),
}

impl fmt::Display for LogName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogName::Operator => f.write_str("the operator log"),
            LogName::Package(name) => write!(f, "the log of `{name}`"),
        }
    }
}

/// Why a record of a log was refused.
#[derive(Debug, thiserror::Error)]
pub enum RecordProblem {
    /// The record's envelope or contents do not decode.
    #[error(transparent)]
    Decode(BoxError),
    /// The operator log's validator refused it (hash chain, timestamps,
    /// permissions, signature).
    #[error(transparent)]
    Operator(#[from] warg_protocol::operator::ValidationError),
    /// The package log's validator refused it (hash chain, timestamps,
    /// permissions, signature, releases and yanks).
    #[error(transparent)]
    Package(#[from] warg_protocol::package::ValidationError),
    /// Its place in the registry log is not after the log's previous
    /// record.
    #[error("its registry index {index} is not after the previous record's {previous}")]
    OutOfOrder {
        /// Where the registry says the record is.
        index: usize,
        /// Where the log's previous record is.
        previous: usize,
    },
    /// Its place in the registry log is beyond the checkpoint it was
    /// fetched at.
    #[error("its registry index {index} is beyond the checkpoint's log length {length}")]
    BeyondCheckpoint {
        /// Where the registry says the record is.
        index: usize,
        /// The checkpoint's log length.
        length: RegistryLen,
    },
}

/// Why a proof did not prove what it had to.
#[derive(Debug, thiserror::Error)]
pub enum ProofProblem {
    /// The proof bundle does not decode.
    #[error(transparent)]
    Decode(BoxError),
    /// The registry could not produce the proof.
    #[error(transparent)]
    Unproven(#[from] warg_api::v1::proof::ProofError),
    /// A consistency proof does not evaluate.
    #[error(transparent)]
    Consistency(#[from] ConsistencyProofError),
    /// An inclusion proof does not evaluate.
    #[error(transparent)]
    Inclusion(#[from] InclusionProofError),
    /// The proof evaluates to another root than the checkpoint's.
    #[error("it evaluates to the {tree} root {found}, not {expected}")]
    WrongRoot {
        /// `log` or `map`.
        tree: &'static str,
        /// The checkpoint's root.
        expected: String,
        /// The root the proof gives.
        found: String,
    },
    /// The bundle does not hold the proofs that were asked for.
    #[error("the bundle proves {found}, not {asked}")]
    WrongShape {
        /// What was asked for.
        asked: String,
        /// What the bundle holds.
        found: String,
    },
}

/// Why a checkpoint's signature was refused.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointProblem {
    /// The key is not in the operator log.
    #[error("the operator log knows no key `{0}`")]
    UnknownKey(KeyID),
    /// The key is in the operator log but may not sign checkpoints.
    #[error("key `{0}` has no permission to sign checkpoints in the operator log")]
    NotPermitted(KeyID),
    /// The signature does not verify with the key.
    #[error("the signature does not verify with key `{key}`")]
    BadSignature {
        /// The key it claims.
        key: KeyID,
        /// The verifier's error.
        #[source]
        cause: SignatureError,
    },
}

/// A failure of a warg registry client, always naming the registry (as the
/// caller calls it) and the package, record or digest it was about.
#[derive(Debug, thiserror::Error)]
pub enum WargError {
    /// The registry's URL does not parse.
    #[error("registry `{registry}`: `{url}` is not a usable URL")]
    InvalidUrl {
        /// Registry name.
        registry: String,
        /// The URL as given.
        url: String,
        /// Why it does not parse.
        #[source]
        cause: BoxError,
    },
    /// The registry did not answer, or failed, after every attempt the
    /// settings allow (no connection, no answer in time, a server error).
    /// The last attempt's failure is the source.
    #[error("registry `{registry}` ({url}): {what} failed after {attempts} attempt{}", if *attempts == 1 { "" } else { "s" })]
    Network {
        /// Registry name.
        registry: String,
        /// Where it was reached.
        url: String,
        /// What was being done (``fetching the checkpoint``).
        what: String,
        /// How many times it was tried.
        attempts: u32,
        /// The last attempt's failure (shared, so that the error can be
        /// handed to several callers).
        #[source]
        cause: Arc<dyn StdError + Send + Sync>,
    },
    /// The registry answered with an error that has no meaning of its own
    /// here.
    #[error("registry `{registry}` ({url}) refused {what}: HTTP {status}: {message}")]
    Refused {
        /// Registry name.
        registry: String,
        /// The request's URL.
        url: String,
        /// What was being done.
        what: String,
        /// The HTTP status.
        status: u16,
        /// The registry's own words.
        message: String,
    },
    /// The registry refused the credentials (or their absence).
    #[error("registry `{registry}` did not authorize {what}: {message}; set `auth_token` in `[registry.\"{registry}\".warg]`")]
    Unauthorized {
        /// Registry name.
        registry: String,
        /// What was being done.
        what: String,
        /// The registry's own words.
        message: String,
    },
    /// The registry answered 501 to a request carrying the `Warg-Registry`
    /// header: it cannot speak for another registry.
    #[error("registry `{registry}` ({url}) does not serve requests for another registry (it answered 501 to the `Warg-Registry: {header}` header); reach `{header}` directly instead")]
    RegistryHeaderRefused {
        /// Registry name.
        registry: String,
        /// Where it was reached.
        url: String,
        /// The header's value: the registry it was asked to speak for.
        header: String,
    },
    /// An answer that is not what the protocol says it is.
    #[error("registry `{registry}` ({url}): {what}: the answer is not valid")]
    InvalidAnswer {
        /// Registry name.
        registry: String,
        /// The request's URL.
        url: String,
        /// What was being done.
        what: String,
        /// What is wrong with it.
        #[source]
        cause: BoxError,
    },
    /// The registry has no log for the package (or an empty one).
    #[error("package `{package}` not found in registry `{registry}`")]
    PackageNotFound {
        /// Registry name.
        registry: String,
        /// The package.
        package: PackageName,
    },
    /// The package's log has no release of this version.
    #[error("`{package}@{version}` not found in registry `{registry}`")]
    VersionNotFound {
        /// Registry name.
        registry: String,
        /// The package.
        package: PackageName,
        /// The version.
        version: Version,
    },
    /// The registry has no content with this digest.
    #[error("registry `{registry}` has no content {digest}")]
    ContentNotFound {
        /// Registry name.
        registry: String,
        /// The digest asked for.
        digest: String,
    },
    /// Downloaded bytes do not hash to the digest they were asked for by.
    #[error("digest mismatch for content from registry `{registry}` ({url}): expected {expected}, found {actual}")]
    DigestMismatch {
        /// Registry name.
        registry: String,
        /// Where the bytes came from.
        url: String,
        /// The digest asked for.
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },
    /// The operator log says the namespace is imported from another
    /// registry: its packages live there.
    #[error("namespace `{namespace}` of registry `{registry}` is imported from registry `{from}`: fetch and publish its packages there")]
    NamespaceImported {
        /// Registry name.
        registry: String,
        /// The namespace.
        namespace: String,
        /// The registry it is imported from, as the operator log names it.
        from: String,
    },
    /// The registry does not define the namespace (publishing).
    #[error("registry `{registry}` does not define namespace `{namespace}`")]
    NamespaceNotDefined {
        /// Registry name.
        registry: String,
        /// The namespace.
        namespace: String,
    },
    /// A record of a log was refused: the log is not what the protocol
    /// allows, and nothing of it is used.
    #[error("registry `{registry}`: record {record} of {log} is invalid")]
    InvalidRecord {
        /// Registry name.
        registry: String,
        /// The log.
        log: LogName,
        /// The record's id (or its position, if it does not decode).
        record: String,
        /// Why it was refused.
        #[source]
        problem: RecordProblem,
    },
    /// Records arrived for a log that was not asked for.
    #[error("registry `{registry}` sent records of log {log_id}, which was not asked for")]
    UnexpectedLog {
        /// Registry name.
        registry: String,
        /// The log's id.
        log_id: String,
    },
    /// The registry's operator log is empty at its checkpoint.
    #[error("registry `{registry}` has no operator log records at its checkpoint")]
    NoOperatorLog {
        /// Registry name.
        registry: String,
    },
    /// The checkpoint's signature was refused.
    #[error("registry `{registry}`: the checkpoint of log length {length} is not signed by the operator")]
    CheckpointSignature {
        /// Registry name.
        registry: String,
        /// The checkpoint's log length.
        length: RegistryLen,
        /// Why.
        #[source]
        problem: CheckpointProblem,
    },
    /// The registry's checkpoint is older than one already seen: its log
    /// went back in time.
    #[error("registry `{registry}` offers a checkpoint of log length {offered}, older than the length {seen} already seen: a log never shrinks, refused")]
    Rewind {
        /// Registry name.
        registry: String,
        /// The length already seen.
        seen: RegistryLen,
        /// The length offered now.
        offered: RegistryLen,
    },
    /// The registry's checkpoint has the length of one already seen, but
    /// other roots: its history was rewritten.
    #[error("registry `{registry}` offers a checkpoint of log length {length} whose roots differ from those already seen at that length: its history was rewritten, refused")]
    Forked {
        /// Registry name.
        registry: String,
        /// The length.
        length: RegistryLen,
    },
    /// The registry's log at its new checkpoint is not an extension of the
    /// log at the checkpoint seen before (or the registry was reset: its
    /// stored state then belongs to the old log).
    #[error("registry `{registry}`: its log at length {to} is not consistent with the log already seen at length {from}")]
    Inconsistent {
        /// Registry name.
        registry: String,
        /// The length seen before.
        from: RegistryLen,
        /// The length now.
        to: RegistryLen,
        /// Why the proof failed.
        #[source]
        problem: ProofProblem,
    },
    /// A log's head is not proven to be in the checkpoint (as the latest
    /// record of its log).
    #[error("registry `{registry}`: record {record} of {log} is not proven included in the checkpoint of log length {length}")]
    NotIncluded {
        /// Registry name.
        registry: String,
        /// The log.
        log: LogName,
        /// The log's head.
        record: RecordId,
        /// The checkpoint's log length.
        length: RegistryLen,
        /// Why the proof failed.
        #[source]
        problem: ProofProblem,
    },
    /// Publishing or yanking needs a signing key and none is configured.
    #[error("registry `{registry}`: {what} needs a signing key; set `signing_key` in `[registry.\"{registry}\".warg]`")]
    NoSigningKey {
        /// Registry name.
        registry: String,
        /// What was being done.
        what: String,
    },
    /// The signing key lacks a permission in the package's log.
    #[error(
        "registry `{registry}`: key `{key_id}` may not {permission} in the log of `{package}`"
    )]
    NotPermitted {
        /// Registry name.
        registry: String,
        /// The package.
        package: PackageName,
        /// The signing key's id.
        key_id: KeyID,
        /// The permission (`release`, `yank`).
        permission: String,
    },
    /// Signing a record failed.
    #[error("registry `{registry}`: signing a record for `{package}` failed")]
    Signing {
        /// Registry name.
        registry: String,
        /// The package.
        package: PackageName,
        /// The signer's error.
        #[source]
        cause: SignatureError,
    },
    /// Publishing would change an immutable release: the version exists
    /// with other content.
    #[error("`{package}@{version}` is already released in registry `{registry}` with other content ({existing}; the new bytes are {new}); releases are immutable, publish a new version instead")]
    AlreadyPublished {
        /// Registry name.
        registry: String,
        /// The package.
        package: PackageName,
        /// The version.
        version: Version,
        /// The released content's digest.
        existing: String,
        /// The offered content's digest.
        new: String,
    },
    /// The warg protocol has no way to take a yank back.
    #[error("`{package}@{version}` in registry `{registry}`: warg cannot undo a yank (the protocol has no un-yank entry); publish a new version instead")]
    NoUnyank {
        /// Registry name.
        registry: String,
        /// The package.
        package: PackageName,
        /// The version.
        version: Version,
    },
    /// The registry rejected a record.
    #[error("registry `{registry}` rejected record {record} of `{package}`: {reason}")]
    PublishRejected {
        /// Registry name.
        registry: String,
        /// The package.
        package: PackageName,
        /// The record.
        record: RecordId,
        /// The registry's reason.
        reason: String,
    },
    /// A record was not published within the settings' publish timeout.
    #[error("registry `{registry}`: record {record} of `{package}` is not published after {}", crate::settings::seconds(*waited))]
    PublishTimeout {
        /// Registry name.
        registry: String,
        /// The package.
        package: PackageName,
        /// The record.
        record: RecordId,
        /// How long it was waited for.
        waited: Duration,
    },
    /// The registry still misses a record's content after it was
    /// uploaded.
    #[error("registry `{registry}`: record {record} of `{package}` still misses content {digest} after the upload")]
    ContentNotTaken {
        /// Registry name.
        registry: String,
        /// The package.
        package: PackageName,
        /// The record.
        record: RecordId,
        /// The missing content.
        digest: String,
    },
    /// The client's runtime could not be started or stopped answering.
    #[error("registry `{registry}`: the warg client's runtime is not running")]
    Runtime {
        /// Registry name.
        registry: String,
        /// Why.
        #[source]
        cause: std::io::Error,
    },
}
