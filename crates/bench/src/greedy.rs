//! The naive pick-latest resolver (warg's and wkg's greedy walk) doing the
//! same job as ours: reading the same [`Source`], producing the same
//! [`Resolution`] (packages, wired edges with their constraints, digests).
//!
//! It is a baseline, not a solver: each (package, track) gets the newest
//! non-yanked release in the first range that names it, later ranges are
//! never checked, and nothing is ever revisited. The solve bench compares
//! ours against it and against the bare walk over the generator's arrays
//! ([`SyntheticRegistry::pick_latest`](crate::synth::SyntheticRegistry::pick_latest)),
//! which reads no source and builds nothing.
//!
//! ```
//! use warg_depsolve_bench::{greedy, synth::{Spec, SyntheticRegistry}};
//! use warg_depsolve_solver::{resolve, SolveOptions};
//!
//! let registry = SyntheticRegistry::generate(&Spec::with_packages(200));
//! let source = registry.memory_source(200);
//! let root = registry.solver_root(&registry.root(0));
//! let naive = greedy::resolve(&source, &root).unwrap();
//! let ours = resolve(&source, &root, &SolveOptions::default()).unwrap();
//! // Without conflicts both pick the newest release in every range.
//! assert_eq!(naive, ours);
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use semver::Version;
use warg_depsolve_names::{DepRef, ImportClass, PackageName, Track};
use warg_depsolve_registry::{Dependency, Release, ReleaseMetadata, Source};
use warg_depsolve_solver::{Constraint, Edge, Resolution, ResolvedPackage, Root};

/// Resolves `root` greedily; `None` when a range has no release, the
/// source fails, or an import is an interface import (not supported: the
/// synthetic registry has none).
pub fn resolve(source: &dyn Source, root: &Root) -> Option<Resolution> {
    let mut releases: HashMap<PackageName, Arc<[Release]>> = HashMap::new();
    let mut chosen: HashMap<(PackageName, Track), usize> = HashMap::new();
    // (package, version, metadata) per chosen release, in discovery order.
    let mut nodes: Vec<(PackageName, Version, Arc<ReleaseMetadata>)> = Vec::new();
    // Per import: (dependent node, None for the root; its index among the
    // dependent's dependencies; the target node).
    let mut wiring: Vec<(Option<usize>, usize, usize)> = Vec::new();

    let mut pick = |dep: &Dependency,
                    nodes: &mut Vec<(PackageName, Version, Arc<ReleaseMetadata>)>|
     -> Option<usize> {
        let (ImportClass::Declared(reference) | ImportClass::Legacy(reference)) = &dep.class else {
            return None;
        };
        let package = reference.package();
        if !releases.contains_key(package) {
            // As ours does: the source's shared list, in order.
            releases.insert(package.clone(), source.versions(package).ok()?.releases);
        }
        let set = match reference {
            DepRef::Unlocked { range, .. } => range.to_ranges(),
            DepRef::Locked { version, .. } => {
                warg_depsolve_names::VersionSet::singleton(version.clone())
            }
        };
        let newest = releases[package]
            .iter()
            .rev()
            .find(|r| !r.yanked && set.contains(&r.version))?
            .version
            .clone();
        let key = (package.clone(), Track::of(&newest));
        if let Some(&i) = chosen.get(&key) {
            return Some(i);
        }
        let meta = source.metadata(package, &newest).ok()?;
        nodes.push((package.clone(), newest, meta));
        chosen.insert(key, nodes.len() - 1);
        Some(nodes.len() - 1)
    };

    for (k, dep) in root.dependencies.iter().enumerate() {
        let target = pick(dep, &mut nodes)?;
        wiring.push((None, k, target));
    }
    let mut next = 0;
    while next < nodes.len() {
        let meta = nodes[next].2.clone();
        for (k, dep) in meta.dependencies.iter().enumerate() {
            let target = pick(dep, &mut nodes)?;
            wiring.push((Some(next), k, target));
        }
        next += 1;
    }

    // Sorted like ours: by name, then track.
    let mut order: Vec<usize> = (0..nodes.len()).collect();
    order.sort_by(|&a, &b| {
        (&nodes[a].0, Track::of(&nodes[a].1)).cmp(&(&nodes[b].0, Track::of(&nodes[b].1)))
    });
    let mut position = vec![0; nodes.len()];
    for (pos, &i) in order.iter().enumerate() {
        position[i] = pos;
    }
    let mut packages: Vec<ResolvedPackage> = order
        .iter()
        .map(|&i| {
            let (package, version, meta) = &nodes[i];
            ResolvedPackage {
                package: package.clone(),
                track: Track::of(version),
                version: version.clone(),
                digest: meta.digest.clone(),
                registry: source.registry_for(package).to_string(),
                yanked: false,
                edges: Vec::new(),
            }
        })
        .collect();
    let mut root_edges = Vec::new();
    for (who, k, target) in wiring {
        let dep = match who {
            None => &root.dependencies[k],
            Some(i) => &nodes[i].2.dependencies[k],
        };
        let target = position[target];
        let constraint = Constraint::of(dep)?;
        let edge = Edge {
            import: dep.import.clone(),
            target,
            export: None,
            constraint,
        };
        match who {
            None => root_edges.push(edge),
            Some(i) => packages[position[i]].edges.push(edge),
        }
    }
    Some(Resolution {
        root: root.name.clone(),
        root_edges,
        packages,
    })
}
