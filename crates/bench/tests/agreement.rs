//! The generator is deterministic, and every form it emits describes the
//! same registry: our solver, pubgrub's offline provider, the naive walk
//! and a local registry of real components agree on small instances.

use semver::Version;
use warg_depsolve_bench::pubgrub_data::PubgrubCase;
use warg_depsolve_bench::synth::{Spec, SyntheticRegistry};
use warg_depsolve_registry::{Cache, CachedSource, LocalRegistry};
use warg_depsolve_solver::{resolve, SolveError, SolveOptions};

#[test]
fn same_seed_same_registry_and_pins_change_only_pinned_edges() {
    let spec = Spec::with_packages(300);
    let a = SyntheticRegistry::generate(&spec);
    let b = SyntheticRegistry::generate(&spec);
    assert_eq!(a.packages, b.packages);
    let pinned = SyntheticRegistry::generate(&spec.clone().pins(0.05));
    let (sa, sp) = (a.stats(), pinned.stats());
    assert_eq!((sa.releases, sa.edges), (sp.releases, sp.edges));
    assert_eq!(sa.pins, 0);
    assert!(sp.pins > 0);
    // Shape: about 10 versions per package, about 3 deps per release.
    let per_package = sa.releases as f64 / sa.packages as f64;
    let per_release = sa.edges as f64 / sa.releases as f64;
    assert!((8.0..12.0).contains(&per_package), "{per_package}");
    assert!((2.0..3.5).contains(&per_release), "{per_release}");
}

#[test]
fn ours_offline_and_naive_agree_without_pins() {
    let registry = SyntheticRegistry::generate(&Spec::with_packages(300));
    let roots = registry.roots(5);
    let source = registry.memory_source(300);
    let offline = registry.offline_provider(&roots);
    for root in &roots {
        let ours = resolve(
            &source,
            &registry.solver_root(root),
            &SolveOptions::default(),
        )
        .expect("no pins: always solvable");
        let theirs = pubgrub::resolve(&offline, root.name.clone(), Version::new(0, 0, 0))
            .expect("no pins: always solvable");
        let mut ours: Vec<String> = ours
            .packages
            .iter()
            .map(|p| format!("{}@{} {}", p.package, p.track, p.version))
            .collect();
        let mut theirs: Vec<String> = theirs
            .into_iter()
            .filter(|(p, _)| *p != root.name)
            .map(|(p, v)| format!("{} {v}", p))
            .collect();
        ours.sort();
        theirs.sort();
        assert_eq!(ours, theirs, "{}", root.name);
        assert_eq!(registry.pick_latest(root), Some(ours.len()));
    }
}

#[test]
fn ours_and_offline_agree_on_solvability_with_pins() {
    let registry = SyntheticRegistry::generate(&Spec::with_packages(300).pins(0.05));
    let roots = registry.roots(8);
    let source = registry.memory_source(300);
    let offline = registry.offline_provider(&roots);
    for root in &roots {
        let ours = resolve(
            &source,
            &registry.solver_root(root),
            &SolveOptions::default(),
        );
        let theirs = pubgrub::resolve(&offline, root.name.clone(), Version::new(0, 0, 0));
        assert_eq!(ours.is_ok(), theirs.is_ok(), "{}", root.name);
    }
}

#[test]
fn local_registry_of_real_components_solves_like_memory() {
    let registry = SyntheticRegistry::generate(&Spec::with_packages(60));
    let dir = tempfile::tempdir().unwrap();
    let written = registry
        .write_local_registry(&dir.path().join("registry"), 60)
        .unwrap();
    assert_eq!(written, registry.stats().releases);
    let cached = CachedSource::new(
        LocalRegistry::new("local", dir.path().join("registry")),
        Cache::new(dir.path().join("cache")),
    );
    let memory = registry.memory_source(60);
    for i in 0..3 {
        let root = registry.solver_root(&registry.root_within(i, 60));
        let a = resolve(&cached, &root, &SolveOptions::default()).unwrap();
        let b = resolve(&memory, &root, &SolveOptions::default()).unwrap();
        let versions = |r: &warg_depsolve_solver::Resolution| {
            r.packages
                .iter()
                .map(|p| (p.package.to_string(), p.version.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(versions(&a), versions(&b));
    }
}

#[test]
fn pubgrub_graphs_map_with_the_same_solvability() {
    // Committed with the repository, so this check always runs.
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/pubgrub/large_case_1_u16_NumberVersion.ron");
    let case = PubgrubCase::load(&file).unwrap();
    for &(p, v) in case.pairs.iter().take(40) {
        let theirs = pubgrub::resolve(&case.provider, p, v).is_ok();
        let ours = matches!(
            resolve(&case.source, &case.root(p, v), &SolveOptions::default()),
            Ok(_) | Err(SolveError::Cycle { .. })
        );
        assert_eq!(ours, theirs, "{} p{p}@{v}", case.name);
    }
}
