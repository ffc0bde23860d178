//! [`RegistryState`]: what a client knows of one registry, built only from
//! records its validators accepted and checkpoints it verified; stored
//! between runs so that logs are fetched since the last record seen.

use std::collections::BTreeMap;

use semver::Version;
use serde::{Deserialize, Serialize};
use warg_api::v1::fetch::PublishedRecord;
use warg_crypto::hash::{AnyHash, Sha256};
use warg_protocol::operator::NamespaceState;
use warg_protocol::package::{PackageEntry, PackageRecord};
use warg_protocol::registry::{
    LogId, PackageName, RecordId, RegistryIndex, RegistryLen, TimestampedCheckpoint,
};
use warg_protocol::{operator, package, ProtoEnvelope, PublishedProtoEnvelope, SerdeEnvelope};

use crate::error::{LogName, RecordProblem};

/// One log as far as it was fetched and validated.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Cursor<S> {
    /// The protocol's state, folded from every record so far.
    pub(crate) state: S,
    /// The token to fetch the records after the last one.
    pub(crate) fetch_token: Option<String>,
    /// Where the last record is in the registry log.
    pub(crate) head_index: Option<RegistryIndex>,
    /// The log length of the last checkpoint whose inclusion proof showed
    /// the head to be the log's latest record.
    pub(crate) verified_at: Option<RegistryLen>,
}

impl<S: warg_protocol::Validator + Clone + Head> Cursor<S>
where
    S::Error: Into<RecordProblem>,
{
    /// Folds one record into the state: checks its place, decodes it and
    /// runs the protocol's validator. On failure the cursor is unchanged.
    fn fold(
        &mut self,
        record: PublishedRecord,
        length: RegistryLen,
        id: fn(&ProtoEnvelope<S::Record>) -> RecordId,
    ) -> Result<ProtoEnvelope<S::Record>, (String, RecordProblem)> {
        let index = record.envelope.registry_index;
        let place = format!("at registry index {index}");
        if let Some(previous) = self.head_index {
            if index <= previous {
                return Err((place, RecordProblem::OutOfOrder { index, previous }));
            }
        }
        if index >= length {
            return Err((place, RecordProblem::BeyondCheckpoint { index, length }));
        }
        let published: PublishedProtoEnvelope<S::Record> = record
            .envelope
            .try_into()
            .map_err(|e| (place, RecordProblem::Decode(Box::from(e))))?;
        let envelope = published.envelope;
        // The validator consumes the state and keeps nothing on failure:
        // validate a copy, so that a refused record leaves the cursor as
        // it was.
        self.state = self
            .state
            .clone()
            .validate(&envelope)
            .map_err(|e| (id(&envelope).to_string(), e.into()))?;
        self.fetch_token = Some(record.fetch_token);
        self.head_index = Some(index);
        Ok(envelope)
    }

    /// The head record's id, if any record was folded.
    pub(crate) fn head(&self) -> Option<RecordId> {
        self.state.head_id()
    }
}

/// The head of a protocol log state.
pub(crate) trait Head {
    /// The id of the last record folded.
    fn head_id(&self) -> Option<RecordId>;
}

impl Head for operator::LogState {
    fn head_id(&self) -> Option<RecordId> {
        self.head().as_ref().map(|h| h.digest.clone())
    }
}

impl Head for package::LogState {
    fn head_id(&self) -> Option<RecordId> {
        self.head().as_ref().map(|h| h.digest.clone())
    }
}

/// One package's log as far as it was fetched and validated.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PackageLog {
    pub(crate) log: Cursor<package::LogState>,
    /// The content digest of every version ever released: the protocol's
    /// state forgets a release's content when it is yanked, and a lock may
    /// pin a yanked release.
    pub(crate) digests: BTreeMap<Version, AnyHash>,
}

impl PackageLog {
    fn new() -> Self {
        PackageLog {
            log: Cursor::default(),
            digests: BTreeMap::new(),
        }
    }
}

/// One release of a package, as its validated log says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WargRelease {
    /// The version.
    pub version: Version,
    /// The digest of its content (kept for a yanked release too).
    pub digest: AnyHash,
    /// Whether a later record yanked it.
    pub yanked: bool,
}

/// What a registry's operator log says of a namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Namespace {
    /// The registry defines it: its packages are here.
    Defined,
    /// The registry imports it from another registry (as the operator log
    /// names that registry): its packages are there.
    Imported {
        /// The registry it is imported from.
        registry: String,
    },
    /// The operator log does not mention it.
    Unknown,
}

/// What a client knows of one registry: the last checkpoint it verified,
/// the operator log, and the logs of the packages it was asked about,
/// each folded from records the protocol's validators accepted, with the
/// tokens to fetch what follows.
///
/// A state is only used with the registry it came from: before any stored
/// fetch token is sent, the registry must prove its log consistent with the
/// checkpoint stored here (a registry that was reset, or another one at the
/// same address, fails that proof with [`WargError::Inconsistent`] or
/// [`WargError::Rewind`]).
///
/// It serializes (serde) so that callers can keep it between runs. It
/// records the registry's URL: a client of another URL starts afresh
/// rather than use it (see [`WargClient::with_state`]).
///
/// [`WargClient::with_state`]: crate::WargClient::with_state
///
/// [`WargError::Inconsistent`]: crate::WargError::Inconsistent
/// [`WargError::Rewind`]: crate::WargError::Rewind
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RegistryState {
    /// The registry's URL when the state was made.
    pub(crate) url: Option<String>,
    pub(crate) checkpoint: Option<SerdeEnvelope<TimestampedCheckpoint>>,
    pub(crate) operator: Cursor<operator::LogState>,
    pub(crate) packages: BTreeMap<PackageName, PackageLog>,
}

impl RegistryState {
    /// The URL of the registry this state was learned from (`None` for an
    /// empty state).
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// The log length of the last checkpoint verified, if any.
    pub fn checkpoint_length(&self) -> Option<RegistryLen> {
        self.checkpoint
            .as_ref()
            .map(|c| c.as_ref().checkpoint.log_length)
    }

    /// The releases of `package` as its log says, oldest version first;
    /// `None` if its log is not known here.
    pub fn releases(&self, package: &PackageName) -> Option<Vec<WargRelease>> {
        let log = self.packages.get(package)?;
        log.log.head()?;
        let mut releases: Vec<WargRelease> = log
            .log
            .state
            .releases()
            .filter_map(|r| {
                Some(WargRelease {
                    version: r.version.clone(),
                    digest: log.digests.get(&r.version)?.clone(),
                    yanked: r.yanked(),
                })
            })
            .collect();
        releases.sort_by(|a, b| a.version.cmp(&b.version));
        Some(releases)
    }

    /// What the operator log says of `namespace`.
    pub fn namespace(&self, namespace: &str) -> Namespace {
        match self.operator.state.namespace_state(namespace) {
            Some(NamespaceState::Defined) => Namespace::Defined,
            Some(NamespaceState::Imported { registry }) => Namespace::Imported {
                registry: registry.clone(),
            },
            None => Namespace::Unknown,
        }
    }

    /// Folds one operator record.
    pub(crate) fn fold_operator(
        &mut self,
        record: PublishedRecord,
        length: RegistryLen,
    ) -> Result<(), (LogName, String, RecordProblem)> {
        self.operator
            .fold(record, length, RecordId::operator_record::<Sha256>)
            .map(|_| ())
            .map_err(|(at, p)| (LogName::Operator, at, p))
    }

    /// Folds one record of `package`'s log, keeping the digests it
    /// releases.
    pub(crate) fn fold_package(
        &mut self,
        package: &PackageName,
        record: PublishedRecord,
        length: RegistryLen,
    ) -> Result<(), (LogName, String, RecordProblem)> {
        let log = self
            .packages
            .entry(package.clone())
            .or_insert_with(PackageLog::new);
        let envelope: ProtoEnvelope<PackageRecord> = log
            .log
            .fold(record, length, RecordId::package_record::<Sha256>)
            .map_err(|(at, p)| (LogName::Package(package.clone()), at, p))?;
        for entry in &envelope.as_ref().entries {
            if let PackageEntry::Release { version, content } = entry {
                log.digests.insert(version.clone(), content.clone());
            }
        }
        Ok(())
    }

    /// The package log of `package`, if known.
    pub(crate) fn package(&self, package: &PackageName) -> Option<&PackageLog> {
        self.packages.get(package)
    }

    /// The log id of `package`.
    pub(crate) fn log_id(package: &PackageName) -> LogId {
        LogId::package_log::<Sha256>(package)
    }
}
