//! Writing to a package log: a record signed with the configured key,
//! sent to the registry, its content uploaded when the registry is
//! `sourcing` it, then watched until it is `published` (in a checkpoint) or
//! rejected.

use std::borrow::Cow;
use std::time::SystemTime;

use tokio::time::Instant;
use warg_api::v1::package::{
    PackageError, PackageRecord as RecordAnswer, PackageRecordState, PublishRecordRequest,
    UploadEndpoint,
};
use warg_api::v1::paths;
use warg_crypto::hash::{AnyHash, HashAlgorithm, Sha256};
use warg_crypto::signing::PrivateKey;
use warg_protocol::package::{PackageEntry, PackageRecord, Permission, PACKAGE_RECORD_VERSION};
use warg_protocol::registry::{PackageName, RecordId, RegistryIndex};
use warg_protocol::ProtoEnvelope;

use crate::error::WargError;
use crate::http::{CallError, Http};
use crate::state::{Namespace, PackageLog, RegistryState};

/// What a sent record came to.
pub(crate) enum Sent {
    /// The registry took it: this is its id.
    Taken(RecordId),
    /// Another record of the log is being published: wait for it, then
    /// write on top of it.
    Conflict(RecordId),
}

/// Checks that the key may add `entry`'s kind of entry to `log` (a log
/// that does not exist yet is created by the key, which may then do
/// anything).
pub(crate) fn check_permission(
    http: &Http,
    package: &PackageName,
    log: Option<&PackageLog>,
    key: &PrivateKey,
    permission: Permission,
) -> Result<(), WargError> {
    let Some(log) = log else { return Ok(()) };
    let key_id = key.public_key().fingerprint();
    let allowed = log
        .log
        .state
        .key_permissions(&key_id)
        .is_some_and(|p| p.contains(&permission));
    if allowed {
        Ok(())
    } else {
        Err(WargError::NotPermitted {
            registry: http.registry.clone(),
            package: package.clone(),
            key_id,
            permission: permission.to_string(),
        })
    }
}

/// A record of `entries` on top of `log`'s head (or, with no log, one that
/// creates it, owned by `key`), signed by `key`.
pub(crate) fn record(
    http: &Http,
    package: &PackageName,
    log: Option<&PackageLog>,
    key: &PrivateKey,
    mut entries: Vec<PackageEntry>,
) -> Result<ProtoEnvelope<PackageRecord>, WargError> {
    let head = log.and_then(|l| l.log.state.head().clone());
    if head.is_none() {
        entries.insert(
            0,
            PackageEntry::Init {
                hash_algorithm: HashAlgorithm::Sha256,
                key: key.public_key(),
            },
        );
    }
    // A record may not be older than the one before it, whatever this
    // machine's clock says.
    let mut timestamp = SystemTime::now();
    if let Some(head) = &head {
        timestamp = timestamp.max(head.timestamp);
    }
    let record = PackageRecord {
        prev: head.map(|h| h.digest),
        version: PACKAGE_RECORD_VERSION,
        timestamp,
        entries,
    };
    ProtoEnvelope::signed_contents(key, record).map_err(|cause| WargError::Signing {
        registry: http.registry.clone(),
        package: package.clone(),
        cause,
    })
}

/// Sends `envelope` to `package`'s log and uploads `content` if the
/// registry asks for it.
pub(crate) async fn send(
    http: &Http,
    state: &RegistryState,
    package: &PackageName,
    envelope: ProtoEnvelope<PackageRecord>,
    content: Option<(&AnyHash, &[u8])>,
) -> Result<Sent, WargError> {
    let log_id = RegistryState::log_id(package);
    let record_id = RecordId::package_record::<Sha256>(&envelope);
    let request = PublishRecordRequest {
        package_name: Cow::Borrowed(package),
        record: Cow::Owned(envelope.into()),
        content_sources: Default::default(),
    };
    let what = format!("sending record {record_id} of `{package}`");
    // Once: a record sent twice is a conflict with itself.
    let answer: RecordAnswer = match http
        .post::<_, _, PackageError>(
            &paths::publish_package_record(&log_id),
            &request,
            &what,
            false,
        )
        .await
    {
        Ok(answer) => answer,
        Err(CallError::Api {
            error: PackageError::ConflictPendingPublish(pending),
            ..
        }) => return Ok(Sent::Conflict(pending)),
        Err(e) => return Err(refusal(http, state, package, &record_id, e)),
    };
    if let PackageRecordState::Sourcing { missing_content } = &answer.state {
        for (digest, missing) in missing_content {
            let (
                Some((ours, bytes)),
                Some(UploadEndpoint::Http {
                    method,
                    url,
                    headers,
                }),
            ) = (
                content.filter(|(d, _)| *d == digest),
                missing.upload.first(),
            )
            else {
                return Err(WargError::ContentNotTaken {
                    registry: http.registry.clone(),
                    package: package.clone(),
                    record: record_id,
                    digest: digest.to_string(),
                });
            };
            let what = format!("uploading content {ours} of `{package}`");
            http.upload::<PackageError>(method, url, headers, bytes, &what)
                .await
                .map_err(|e| refusal(http, state, package, &record_id, e))?;
        }
    }
    Ok(Sent::Taken(answer.record_id))
}

/// What a refusal of the package API means.
fn refusal(
    http: &Http,
    state: &RegistryState,
    package: &PackageName,
    record: &RecordId,
    e: CallError<PackageError>,
) -> WargError {
    let registry = http.registry.clone();
    match e {
        CallError::Api { error, refused } => match error {
            PackageError::NamespaceNotDefined(namespace) => WargError::NamespaceNotDefined {
                registry,
                namespace,
            },
            PackageError::NamespaceImported(namespace) => {
                let from = match state.namespace(&namespace) {
                    Namespace::Imported { registry } => registry,
                    _ => "another registry".to_string(),
                };
                WargError::NamespaceImported {
                    registry,
                    namespace,
                    from,
                }
            }
            PackageError::Rejection(reason) => WargError::PublishRejected {
                registry,
                package: package.clone(),
                record: record.clone(),
                reason,
            },
            _ => refused,
        },
        CallError::Other(e) => e,
    }
}

/// Waits until record `record` of `package` is published, returning its
/// index in the registry log. `ours`: the record is this client's (one
/// still missing content then will never be published).
pub(crate) async fn wait(
    http: &Http,
    package: &PackageName,
    record: &RecordId,
    ours: bool,
) -> Result<RegistryIndex, WargError> {
    let log_id = RegistryState::log_id(package);
    let started = Instant::now();
    let what = format!("watching record {record} of `{package}`");
    loop {
        let answer: RecordAnswer = http
            .get::<_, PackageError>(&paths::package_record(&log_id, record), &what)
            .await
            .map_err(CallError::plain)?;
        match answer.state {
            PackageRecordState::Published { registry_index } => return Ok(registry_index),
            PackageRecordState::Rejected { reason } => {
                return Err(WargError::PublishRejected {
                    registry: http.registry.clone(),
                    package: package.clone(),
                    record: record.clone(),
                    reason,
                })
            }
            PackageRecordState::Sourcing { missing_content } if ours => {
                let digest = missing_content
                    .keys()
                    .next()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                return Err(WargError::ContentNotTaken {
                    registry: http.registry.clone(),
                    package: package.clone(),
                    record: record.clone(),
                    digest,
                });
            }
            PackageRecordState::Sourcing { .. } | PackageRecordState::Processing => {}
        }
        if started.elapsed() >= http.settings.publish_timeout {
            return Err(WargError::PublishTimeout {
                registry: http.registry.clone(),
                package: package.clone(),
                record: record.clone(),
                waited: started.elapsed(),
            });
        }
        tokio::time::sleep(http.settings.publish_poll).await;
    }
}
