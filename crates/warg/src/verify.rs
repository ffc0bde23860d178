//! The checks that make a registry's answers trustworthy: the checkpoint's
//! signature against the operator log, a log head's inclusion in a
//! checkpoint (log and map), and the consistency of two checkpoints.
//!
//! Every proof's shape is checked before it is evaluated: the protocol
//! crates evaluate what they are given and panic on some impossible shapes
//! (a consistency proof from a later length, a map proof longer than the
//! tree is deep), and a bundle holding fewer proofs than asked for would
//! otherwise prove nothing of the rest.

use warg_crypto::hash::{AnyHash, Hash, Sha256};
use warg_crypto::Signable;
use warg_protocol::operator;
use warg_protocol::registry::{
    Checkpoint, LogId, LogLeaf, MapLeaf, RegistryIndex, TimestampedCheckpoint,
};
use warg_protocol::SerdeEnvelope;
use warg_transparency::log::{LogProofBundle, Node};
use warg_transparency::map::MapProofBundle;

use crate::error::{CheckpointProblem, ProofProblem};

/// The depth of the map tree (SHA-256 keys): no proof has more peers.
const MAP_DEPTH: usize = 256;

/// Checks that `checkpoint` is signed by a key of the operator log that
/// may sign checkpoints.
pub(crate) fn checkpoint_signature(
    operator: &operator::LogState,
    checkpoint: &SerdeEnvelope<TimestampedCheckpoint>,
) -> Result<(), CheckpointProblem> {
    let key_id = checkpoint.key_id();
    let key = operator
        .public_key(key_id)
        .ok_or_else(|| CheckpointProblem::UnknownKey(key_id.clone()))?;
    if !operator.key_has_permission_to_sign_checkpoints(key_id) {
        return Err(CheckpointProblem::NotPermitted(key_id.clone()));
    }
    let contents = warg_crypto::Encode::encode(checkpoint.as_ref());
    TimestampedCheckpoint::verify(key, &contents, checkpoint.signature()).map_err(|cause| {
        CheckpointProblem::BadSignature {
            key: key_id.clone(),
            cause,
        }
    })
}

fn root(hash: &AnyHash) -> Result<Hash<Sha256>, ProofProblem> {
    hash.clone()
        .try_into()
        .map_err(|e: warg_crypto::hash::HashError| ProofProblem::Decode(e.into()))
}

fn wrong_root(tree: &'static str, expected: &AnyHash, found: Hash<Sha256>) -> ProofProblem {
    ProofProblem::WrongRoot {
        tree,
        expected: expected.to_string(),
        found: AnyHash::from(found).to_string(),
    }
}

/// Checks that the log at `to` extends the log at `from` (`from` shorter
/// than `to`), by the consistency proof bundle `proof`.
pub(crate) fn consistency(
    proof: &[u8],
    from: &Checkpoint,
    to: &Checkpoint,
) -> Result<(), ProofProblem> {
    if from.log_length == 0 {
        // Every log extends the empty one.
        return Ok(());
    }
    let bundle = LogProofBundle::<Sha256, LogLeaf>::decode(proof)
        .map_err(|e| ProofProblem::Decode(e.into()))?;
    let (data, consistencies, inclusions) = bundle.unbundle();
    let asked = format!("consistency from {} to {}", from.log_length, to.log_length);
    let proof = match (consistencies.as_slice(), inclusions.is_empty()) {
        ([one], true) if one.old_length == from.log_length && one.new_length == to.log_length => {
            one
        }
        _ => {
            return Err(ProofProblem::WrongShape {
                asked,
                found: format!(
                    "{} consistency proof(s) ({}) and {} inclusion proof(s)",
                    consistencies.len(),
                    consistencies
                        .iter()
                        .map(|c| format!("{} to {}", c.old_length, c.new_length))
                        .collect::<Vec<_>>()
                        .join(", "),
                    inclusions.len()
                ),
            })
        }
    };
    let (old, new) = proof.evaluate(&data)?;
    if old != root(&from.log_root)? {
        return Err(wrong_root("earlier log", &from.log_root, old));
    }
    if new != root(&to.log_root)? {
        return Err(wrong_root("log", &to.log_root, new));
    }
    Ok(())
}

/// Checks that each of `leaves` (a log's head: its log id and record id,
/// and its index in the registry log) is in `checkpoint`'s log and is its
/// log's latest record in `checkpoint`'s map, by the proof bundles `log`
/// and `map`. On failure, the position in `leaves` of the leaf that was
/// not proven.
pub(crate) fn inclusion(
    log: &[u8],
    map: &[u8],
    checkpoint: &Checkpoint,
    leaves: &[(RegistryIndex, LogLeaf)],
) -> Result<(), (usize, ProofProblem)> {
    let all = |problem: ProofProblem| (0, problem);
    let log_root = root(&checkpoint.log_root).map_err(all)?;
    let map_root = root(&checkpoint.map_root).map_err(all)?;
    let bundle = LogProofBundle::<Sha256, LogLeaf>::decode(log)
        .map_err(|e| all(ProofProblem::Decode(e.into())))?;
    let (data, consistencies, inclusions) = bundle.unbundle();
    if !consistencies.is_empty() || inclusions.len() != leaves.len() {
        return Err(all(ProofProblem::WrongShape {
            asked: format!("{} log inclusion(s)", leaves.len()),
            found: format!(
                "{} log inclusion(s) and {} consistency proof(s)",
                inclusions.len(),
                consistencies.len()
            ),
        }));
    }
    for (i, ((index, leaf), proof)) in leaves.iter().zip(&inclusions).enumerate() {
        // Leaves sit at the even nodes of the log tree.
        let node = Node(index * 2);
        if proof.leaf() != node || proof.log_length() != checkpoint.log_length {
            return Err((
                i,
                ProofProblem::WrongShape {
                    asked: format!(
                        "leaf {index} included at log length {}",
                        checkpoint.log_length
                    ),
                    found: format!(
                        "node {} at log length {}",
                        proof.leaf().index(),
                        proof.log_length()
                    ),
                },
            ));
        }
        let found = proof
            .evaluate_value(&data, leaf)
            .map_err(|e| (i, e.into()))?;
        if found != log_root {
            return Err((i, wrong_root("log", &checkpoint.log_root, found)));
        }
    }
    let proofs = MapProofBundle::<Sha256, LogId, MapLeaf>::decode(map)
        .map_err(|e| all(ProofProblem::Decode(e.into())))?
        .unbundle();
    if proofs.len() != leaves.len() {
        return Err(all(ProofProblem::WrongShape {
            asked: format!("{} map inclusion(s)", leaves.len()),
            found: format!("{} map inclusion(s)", proofs.len()),
        }));
    }
    for (i, ((_, leaf), proof)) in leaves.iter().zip(&proofs).enumerate() {
        if proof.peers.len() > MAP_DEPTH {
            return Err((
                i,
                ProofProblem::WrongShape {
                    asked: format!("a map path of at most {MAP_DEPTH} peers"),
                    found: format!("{} peers", proof.peers.len()),
                },
            ));
        }
        let value = MapLeaf {
            record_id: leaf.record_id.clone(),
        };
        let found = proof.evaluate(&leaf.log_id, &value);
        if found != map_root {
            return Err((i, wrong_root("map", &checkpoint.map_root, found)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use warg_protocol::registry::RecordId;
    use warg_transparency::log::{LogBuilder, LogData, VecLog};
    use warg_transparency::map::Map;

    fn leaf(i: u8) -> LogLeaf {
        let hash = |tag: &[u8]| AnyHash::from(Hash::<Sha256>::of([tag, &[i]].concat().as_slice()));
        LogLeaf {
            log_id: LogId::from(hash(b"log")),
            record_id: RecordId::from(hash(b"record")),
        }
    }

    /// A log of `n` leaves and its checkpoint at each length (`[0]` is
    /// the empty log).
    fn log(n: u8) -> (VecLog<Sha256, LogLeaf>, Vec<Checkpoint>) {
        let mut log = VecLog::default();
        let mut map = Map::<Sha256, LogId, MapLeaf>::default();
        let mut checkpoints = vec![Checkpoint {
            log_root: AnyHash::from(log.checkpoint().root()),
            log_length: 0,
            map_root: AnyHash::from(map.root().clone()),
        }];
        for i in 0..n {
            let leaf = leaf(i);
            log.push(&leaf);
            map = map.insert(
                leaf.log_id.clone(),
                MapLeaf {
                    record_id: leaf.record_id.clone(),
                },
            );
            checkpoints.push(Checkpoint {
                log_root: AnyHash::from(log.checkpoint().root()),
                log_length: log.checkpoint().length(),
                map_root: AnyHash::from(map.root().clone()),
            });
        }
        (log, checkpoints)
    }

    fn consistency_proof(log: &VecLog<Sha256, LogLeaf>, from: usize, to: usize) -> Vec<u8> {
        let proof = log.prove_consistency(from, to);
        LogProofBundle::bundle(vec![proof], vec![], log)
            .unwrap()
            .encode()
    }

    #[test]
    fn consistency_holds_only_between_the_lengths_asked_for() {
        let (log, cps) = log(7);
        consistency(&consistency_proof(&log, 3, 7), &cps[3], &cps[7]).unwrap();
        // A proof between other lengths proves nothing about these.
        let e = consistency(&consistency_proof(&log, 2, 7), &cps[3], &cps[7]).unwrap_err();
        assert!(matches!(e, ProofProblem::WrongShape { .. }), "{e}");
        // A checkpoint whose root is not the log's.
        let mut forged = cps[7].clone();
        forged.log_root = cps[6].log_root.clone();
        let e = consistency(&consistency_proof(&log, 3, 7), &cps[3], &forged).unwrap_err();
        assert!(matches!(e, ProofProblem::WrongRoot { .. }), "{e}");
        let e = consistency(b"\xff\xff", &cps[3], &cps[7]).unwrap_err();
        assert!(matches!(e, ProofProblem::Decode(_)), "{e}");
    }

    fn inclusion_proofs(
        log: &VecLog<Sha256, LogLeaf>,
        length: usize,
        leaves: &[(usize, LogLeaf)],
    ) -> (Vec<u8>, Vec<u8>) {
        let proofs = leaves
            .iter()
            .map(|(i, _)| log.prove_inclusion(Node(i * 2), length))
            .collect();
        let log_bundle = LogProofBundle::bundle(vec![], proofs, log)
            .unwrap()
            .encode();
        let mut map = Map::<Sha256, LogId, MapLeaf>::default();
        for i in 0..length {
            let leaf = leaf(i as u8);
            map = map.insert(
                leaf.log_id,
                MapLeaf {
                    record_id: leaf.record_id,
                },
            );
        }
        let map_proofs = leaves
            .iter()
            .map(|(_, l)| map.prove(l.log_id.clone()).unwrap())
            .collect();
        (log_bundle, MapProofBundle::bundle(map_proofs).encode())
    }

    #[test]
    fn inclusion_of_every_leaf_asked_for() {
        let (log, cps) = log(5);
        let leaves = vec![(1, leaf(1)), (4, leaf(4))];
        let (l, m) = inclusion_proofs(&log, 5, &leaves);
        inclusion(&l, &m, &cps[5], &leaves).unwrap();

        // Fewer proofs than leaves prove nothing of the others.
        let (l, m) = inclusion_proofs(&log, 5, &leaves[..1]);
        let (_, e) = inclusion(&l, &m, &cps[5], &leaves).unwrap_err();
        assert!(matches!(e, ProofProblem::WrongShape { .. }), "{e}");

        // A leaf that is not the one at that index.
        let wrong = vec![(1, leaf(1)), (4, leaf(3))];
        let (l, m) = inclusion_proofs(&log, 5, &leaves);
        let (at, e) = inclusion(&l, &m, &cps[5], &wrong).unwrap_err();
        assert_eq!(at, 1);
        assert!(matches!(e, ProofProblem::WrongRoot { .. }), "{e}");

        // A map proof deeper than the map (evaluating it would panic).
        let mut map = Map::<Sha256, LogId, MapLeaf>::default();
        for i in 0..5u8 {
            let leaf = leaf(i);
            map = map.insert(
                leaf.log_id,
                MapLeaf {
                    record_id: leaf.record_id,
                },
            );
        }
        let mut deep = map.prove(leaf(1).log_id).unwrap();
        deep.peers.resize(MAP_DEPTH + 1, None);
        let (l, _) = inclusion_proofs(&log, 5, &leaves[..1]);
        let m = MapProofBundle::bundle(vec![deep]).encode();
        let (_, e) = inclusion(&l, &m, &cps[5], &leaves[..1]).unwrap_err();
        assert!(matches!(e, ProofProblem::WrongShape { .. }), "{e}");
    }
}
