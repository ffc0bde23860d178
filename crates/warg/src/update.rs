//! Bringing a [`RegistryState`] up to the registry's latest checkpoint:
//! the checkpoint, its consistency with the last one seen, the operator and
//! package logs since their fetch tokens (page by page, each record through
//! the protocol's validators), the checkpoint's signature, and each log
//! head's inclusion in the checkpoint.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeSet;

use indexmap::IndexMap;
use warg_api::v1::fetch::{FetchError, FetchLogsRequest, FetchLogsResponse};
use warg_api::v1::paths;
use warg_api::v1::proof::{
    ConsistencyRequest, ConsistencyResponse, InclusionRequest, InclusionResponse, ProofError,
};
use warg_crypto::hash::Sha256;
use warg_protocol::registry::{LogId, LogLeaf, PackageName, RegistryLen, TimestampedCheckpoint};
use warg_protocol::SerdeEnvelope;

use crate::error::{LogName, RecordProblem, WargError};
use crate::http::{CallError, Http};
use crate::state::{Namespace, RegistryState};
use crate::verify;

/// Whom a request is for, in its description: `for `a:b`, `a:c``.
fn subject<'a>(packages: impl ExactSizeIterator<Item = &'a PackageName>) -> String {
    const SHOWN: usize = 3;
    let n = packages.len();
    if n == 0 {
        return "for the operator log".to_string();
    }
    let names: Vec<String> = packages.take(SHOWN).map(|p| format!("`{p}`")).collect();
    match n.checked_sub(SHOWN) {
        Some(more) if more > 0 => format!("for {} and {more} more", names.join(", ")),
        _ => format!("for {}", names.join(", ")),
    }
}

/// A state brought up to a checkpoint, and the packages that have no log
/// there (or whose namespace the operator log says is imported).
pub(crate) struct Updated {
    pub(crate) state: RegistryState,
    pub(crate) missing: BTreeSet<PackageName>,
}

fn invalid_record(
    http: &Http,
    (log, record, problem): (LogName, String, RecordProblem),
) -> WargError {
    WargError::InvalidRecord {
        registry: http.registry.clone(),
        log,
        record,
        problem,
    }
}

/// Brings a copy of `current` up to the registry's latest checkpoint, for
/// the operator log and the logs of `wanted` (those already proven at that
/// checkpoint are not fetched again). `current` itself is left as it was,
/// so a failure part way leaves nothing half done.
pub(crate) async fn update(
    http: &Http,
    current: &RegistryState,
    wanted: &[PackageName],
) -> Result<Updated, WargError> {
    let what = format!("fetching the checkpoint {}", subject(wanted.iter()));
    let signed: SerdeEnvelope<TimestampedCheckpoint> = http
        .get::<_, FetchError>(paths::fetch_checkpoint(), &what)
        .await
        .map_err(CallError::plain)?;
    let checkpoint = signed.as_ref().checkpoint.clone();
    let length = checkpoint.log_length;

    // The new checkpoint must extend the last one seen. This comes before
    // any stored fetch token is sent: tokens are record ids of the log
    // seen, and mean nothing to a registry with another history.
    if let Some(seen) = &current.checkpoint {
        let seen = &seen.as_ref().checkpoint;
        match seen.log_length.cmp(&length) {
            Ordering::Greater => {
                return Err(WargError::Rewind {
                    registry: http.registry.clone(),
                    seen: seen.log_length,
                    offered: length,
                })
            }
            Ordering::Equal => {
                if seen.log_root != checkpoint.log_root || seen.map_root != checkpoint.map_root {
                    return Err(WargError::Forked {
                        registry: http.registry.clone(),
                        length,
                    });
                }
            }
            Ordering::Less => {
                let what = format!(
                    "proving consistency from log length {} to {length} {}",
                    seen.log_length,
                    subject(wanted.iter())
                );
                let request = ConsistencyRequest {
                    from: seen.log_length,
                    to: length,
                };
                let inconsistent = |problem| WargError::Inconsistent {
                    registry: http.registry.clone(),
                    from: seen.log_length,
                    to: length,
                    problem,
                };
                let proof: ConsistencyResponse = http
                    .post::<_, _, ProofError>(paths::prove_consistency(), &request, &what, true)
                    .await
                    .map_err(|e| match e {
                        // The registry cannot prove it: its log does not
                        // hold the length seen.
                        CallError::Api {
                            error: error @ ProofError::CheckpointNotFound(_),
                            ..
                        } => inconsistent(error.into()),
                        e => e.plain(),
                    })?;
                verify::consistency(&proof.proof, seen, &checkpoint).map_err(inconsistent)?;
            }
        }
    }

    let mut state = current.clone();
    let mut missing = BTreeSet::new();
    let mut asking: IndexMap<LogId, PackageName> = IndexMap::new();
    for package in wanted {
        if let Namespace::Imported { .. } = state.namespace(package.namespace()) {
            missing.insert(package.clone());
            continue;
        }
        let proven = state
            .package(package)
            .is_some_and(|log| log.log.verified_at == Some(length));
        if !proven {
            asking.insert(RegistryState::log_id(package), package.clone());
        }
    }
    if state.operator.verified_at == Some(length) && asking.is_empty() {
        return Ok(Updated { state, missing });
    }

    // The logs since their tokens, page by page. One unknown log fails the
    // whole request (404): drop it and ask again for the others.
    loop {
        let packages: IndexMap<LogId, Option<String>> = asking
            .iter()
            .map(|(id, name)| {
                let token = state.package(name).and_then(|l| l.log.fetch_token.clone());
                (id.clone(), token)
            })
            .collect();
        let request = FetchLogsRequest {
            log_length: length,
            limit: Some(http.settings.page_size),
            operator: state.operator.fetch_token.as_deref().map(Cow::Borrowed),
            packages: Cow::Owned(packages),
        };
        let what = format!(
            "fetching logs at log length {length} {}",
            subject(asking.values())
        );
        let page: FetchLogsResponse = match http
            .post::<_, _, FetchError>(paths::fetch_logs(), &request, &what, true)
            .await
        {
            Ok(page) => page,
            Err(CallError::Api {
                error: FetchError::LogNotFound(id),
                refused,
            }) => match asking.shift_remove(&id) {
                Some(name) => {
                    state.packages.remove(&name);
                    missing.insert(name);
                    continue;
                }
                None => return Err(refused),
            },
            Err(e) => return Err(e.plain()),
        };
        let received = page.operator.len() + page.packages.values().map(Vec::len).sum::<usize>();
        if page.more && received == 0 {
            // More to come, yet nothing came: asking again would loop.
            return Err(http.invalid(
                http.location(),
                &what,
                "the registry says more records follow but sent none".into(),
            ));
        }
        for record in page.operator {
            state
                .fold_operator(record, length)
                .map_err(|e| invalid_record(http, e))?;
        }
        for (id, records) in page.packages {
            let Some(name) = asking.get(&id) else {
                return Err(WargError::UnexpectedLog {
                    registry: http.registry.clone(),
                    log_id: id.to_string(),
                });
            };
            for record in records {
                state
                    .fold_package(name, record, length)
                    .map_err(|e| invalid_record(http, e))?;
            }
        }
        if !page.more {
            break;
        }
    }

    // The operator log as of this checkpoint names the keys that may sign
    // it.
    let (Some(operator_head), Some(operator_index)) =
        (state.operator.head(), state.operator.head_index)
    else {
        return Err(WargError::NoOperatorLog {
            registry: http.registry.clone(),
        });
    };
    verify::checkpoint_signature(&state.operator.state, &signed).map_err(|problem| {
        WargError::CheckpointSignature {
            registry: http.registry.clone(),
            length,
            problem,
        }
    })?;

    // Each head must be in the checkpoint's log, and be its log's latest
    // record in the checkpoint's map: nothing newer was held back.
    let mut leaves = vec![(
        operator_index,
        LogLeaf {
            log_id: LogId::operator_log::<Sha256>(),
            record_id: operator_head,
        },
    )];
    let mut names = vec![LogName::Operator];
    for (id, name) in &asking {
        let head = state
            .package(name)
            .and_then(|l| Some((l.log.head()?, l.log.head_index?)));
        match head {
            Some((record_id, index)) => {
                leaves.push((
                    index,
                    LogLeaf {
                        log_id: id.clone(),
                        record_id,
                    },
                ));
                names.push(LogName::Package(name.clone()));
            }
            // A log with no record at this checkpoint (its first record is
            // still being processed).
            None => {
                state.packages.remove(name);
                missing.insert(name.clone());
            }
        }
    }
    let what = format!(
        "proving inclusion at log length {length} {}",
        subject(asking.values())
    );
    prove_inclusion(http, &what, length, &checkpoint, &leaves, &names).await?;

    state.operator.verified_at = Some(length);
    for name in asking.values() {
        if let Some(log) = state.packages.get_mut(name) {
            log.log.verified_at = Some(length);
        }
    }
    state.url = Some(http.location().to_string());
    state.checkpoint = Some(signed);
    Ok(Updated { state, missing })
}

async fn prove_inclusion(
    http: &Http,
    what: &str,
    length: RegistryLen,
    checkpoint: &warg_protocol::registry::Checkpoint,
    leaves: &[(usize, LogLeaf)],
    names: &[LogName],
) -> Result<(), WargError> {
    let ask = |leaves: &[(usize, LogLeaf)]| {
        let request = InclusionRequest {
            log_length: length,
            leafs: leaves.iter().map(|(index, _)| *index).collect(),
        };
        async move {
            http.post::<_, InclusionResponse, ProofError>(
                paths::prove_inclusion(),
                &request,
                what,
                true,
            )
            .await
        }
    };
    let not_included = |i: usize, problem| WargError::NotIncluded {
        registry: http.registry.clone(),
        log: names[i].clone(),
        record: leaves[i].1.record_id.clone(),
        length,
        problem,
    };
    let proof = match ask(leaves).await {
        Ok(proof) => proof,
        // The registry says it cannot prove a head: find which.
        Err(CallError::Api {
            error:
                error @ (ProofError::PackageLogNotIncluded(_)
                | ProofError::IncorrectProof { .. }
                | ProofError::LeafNotFound(_)),
            ..
        }) => {
            let named = match &error {
                ProofError::PackageLogNotIncluded(id) => {
                    leaves.iter().position(|(_, l)| &l.log_id == id)
                }
                ProofError::LeafNotFound(index) => leaves.iter().position(|(at, _)| at == index),
                _ => None,
            };
            if let Some(i) = named {
                return Err(not_included(i, error.into()));
            }
            // A refusal that names no log: ask for each head alone (only
            // on this failing path).
            for i in 0..leaves.len() {
                match ask(&leaves[i..=i]).await {
                    Ok(_) => {}
                    Err(CallError::Api {
                        error:
                            alone @ (ProofError::PackageLogNotIncluded(_)
                            | ProofError::IncorrectProof { .. }
                            | ProofError::LeafNotFound(_)),
                        ..
                    }) => return Err(not_included(i, alone.into())),
                    Err(e) => return Err(e.plain()),
                }
            }
            return Err(not_included(0, error.into()));
        }
        Err(e) => return Err(e.plain()),
    };
    verify::inclusion(&proof.log, &proof.map, checkpoint, leaves)
        .map_err(|(i, problem)| not_included(i, problem))
}
