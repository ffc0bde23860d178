//! On thousands of random small registries (seeded): every solution the
//! solver returns satisfies every constraint, and every "no solution" is
//! confirmed by exhaustive search.

use std::collections::BTreeMap;

use semver::Version;
use warg_depsolve_names::{classify, DepRef, PackageName, Track};
use warg_depsolve_registry::{Dependency, MemorySource};
use warg_depsolve_solver::{resolve, Resolution, Root, SolveError, SolveOptions, Solver};

/// SplitMix64: a tiny deterministic generator, so every run sees the same
/// registries.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const VERSIONS: [&str; 9] = [
    "0.1.0",
    "0.2.0",
    "1.0.0",
    "1.1.0-rc.1",
    "1.1.0",
    "1.2.0",
    "2.0.0-beta.1",
    "2.0.0",
    "2.1.0",
];

struct Registry {
    /// package -> version -> (yanked, dependencies)
    releases: BTreeMap<PackageName, BTreeMap<Version, (bool, Vec<Dependency>)>>,
    root: Vec<Dependency>,
}

fn random_range(rng: &mut Rng) -> String {
    let a = rng.pick(&VERSIONS).to_string();
    let b = rng.pick(&VERSIONS).to_string();
    match rng.below(6) {
        0 => "*".into(),
        1 => format!("{{>={a}}}"),
        2 => format!("{{<{b}}}"),
        3 | 4 => format!("{{>={a} <{b}}}"),
        _ => format!("{{^{a}}}"),
    }
}

/// Packages `t:p0..`; dependencies only point to higher indices, so the
/// registry has no cycles (cycles have their own test).
fn random_registry(seed: u64) -> Registry {
    let mut rng = Rng(seed);
    let n = 2 + rng.below(4) as usize;
    let names: Vec<PackageName> = (0..n).map(|i| format!("t:p{i}").parse().unwrap()).collect();
    let mut releases = BTreeMap::new();
    for (i, name) in names.iter().enumerate() {
        let mut versions = BTreeMap::new();
        for _ in 0..1 + rng.below(4) {
            let version: Version = rng.pick(&VERSIONS).parse().unwrap();
            let mut deps = Vec::new();
            if i + 1 < n {
                for d in 0..rng.below(3) {
                    let target = &names[i + 1 + rng.below((n - i - 1) as u64) as usize];
                    let reference = format!("unlocked-dep=<{target}@{}>", random_range(&mut rng));
                    let import = format!("d{d}");
                    deps.push(Dependency {
                        class: classify(&import, Some(&reference)).unwrap(),
                        import,
                    });
                }
            }
            versions.insert(version, (rng.below(10) == 0, deps));
        }
        releases.insert(name.clone(), versions);
    }
    let mut root = Vec::new();
    for d in 0..1 + rng.below(3) {
        let target = rng.pick(&names);
        let reference = format!("unlocked-dep=<{target}@{}>", random_range(&mut rng));
        let import = format!("r{d}");
        root.push(Dependency {
            class: classify(&import, Some(&reference)).unwrap(),
            import,
        });
    }
    Registry { releases, root }
}

/// The rule as users read it: in the range, and a pre-release only when the
/// range names a pre-release of the same major.minor.patch.
fn allowed(dep: &Dependency, version: &Version) -> bool {
    let warg_depsolve_names::ImportClass::Declared(DepRef::Unlocked { range, .. }) = &dep.class
    else {
        unreachable!()
    };
    range.to_ranges().contains(version)
        && (version.pre.is_empty() || range.names_prerelease_of(version))
}

fn dep_package(dep: &Dependency) -> &PackageName {
    let warg_depsolve_names::ImportClass::Declared(r @ DepRef::Unlocked { .. }) = &dep.class else {
        unreachable!()
    };
    r.package()
}

/// Checks a returned resolution against the registry's own data.
fn check_solution(reg: &Registry, r: &Resolution) -> Result<(), String> {
    let mut seen = BTreeMap::new();
    for p in &r.packages {
        if seen.insert((p.package.clone(), p.track), ()).is_some() {
            return Err(format!("{} track {} chosen twice", p.package, p.track));
        }
        if Track::of(&p.version) != p.track {
            return Err(format!(
                "{} {} is not on track {}",
                p.package, p.version, p.track
            ));
        }
        let (yanked, _) = &reg.releases[&p.package][&p.version];
        if *yanked {
            return Err(format!("yanked {} {} chosen", p.package, p.version));
        }
    }
    let check = |who: &str,
                 deps: &[Dependency],
                 edges: &[warg_depsolve_solver::Edge]|
     -> Result<(), String> {
        if deps.len() != edges.len() {
            return Err(format!(
                "{who}: {} deps but {} edges",
                deps.len(),
                edges.len()
            ));
        }
        for (d, e) in deps.iter().zip(edges) {
            let target = &r.packages[e.target];
            if &target.package != dep_package(d)
                || !allowed(d, &target.version)
                || e.import != d.import
            {
                return Err(format!(
                    "{who}: import {} wired to {} {}",
                    d.import, target.package, target.version
                ));
            }
        }
        Ok(())
    };
    check("root", &reg.root, &r.root_edges)?;
    for p in &r.packages {
        let (_, deps) = &reg.releases[&p.package][&p.version];
        check(&format!("{} {}", p.package, p.version), deps, &p.edges)?;
    }
    Ok(())
}

/// Exhaustive search: is there any assignment of at most one version per
/// (package, track) such that the root's and every chosen release's
/// dependencies are each met by a chosen release in range?
fn exists_solution(reg: &Registry) -> bool {
    let slots: Vec<(PackageName, Track, Vec<Version>)> = {
        let mut by_slot: BTreeMap<(PackageName, Track), Vec<Version>> = BTreeMap::new();
        for (name, versions) in &reg.releases {
            for (v, (yanked, _)) in versions {
                if !yanked {
                    by_slot
                        .entry((name.clone(), Track::of(v)))
                        .or_default()
                        .push(v.clone());
                }
            }
        }
        by_slot.into_iter().map(|((p, t), vs)| (p, t, vs)).collect()
    };
    let mut choice = vec![None::<usize>; slots.len()];
    fn met(
        slots: &[(PackageName, Track, Vec<Version>)],
        choice: &[Option<usize>],
        deps: &[Dependency],
    ) -> bool {
        deps.iter().all(|d| {
            slots
                .iter()
                .zip(choice)
                .any(|((p, _, vs), c)| p == dep_package(d) && c.is_some_and(|i| allowed(d, &vs[i])))
        })
    }
    fn search(
        reg: &Registry,
        slots: &[(PackageName, Track, Vec<Version>)],
        choice: &mut Vec<Option<usize>>,
        k: usize,
    ) -> bool {
        if k == slots.len() {
            if !met(slots, choice, &reg.root) {
                return false;
            }
            return slots
                .iter()
                .zip(choice.iter())
                .all(|((p, _, vs), c)| match c {
                    None => true,
                    Some(i) => met(slots, choice, &reg.releases[p][&vs[*i]].1),
                });
        }
        for option in std::iter::once(None).chain((0..slots[k].2.len()).map(Some)) {
            choice[k] = option;
            if search(reg, slots, choice, k + 1) {
                return true;
            }
        }
        choice[k] = None;
        false
    }
    search(reg, &slots, &mut choice, 0)
}

/// The registry's releases in a memory source, yanks included.
fn memory_source(reg: &Registry) -> MemorySource {
    let source = MemorySource::new("memory");
    for (name, versions) in &reg.releases {
        for (v, (yanked, deps)) in versions {
            source.add_synthetic(name, v, deps.clone()).unwrap();
            if *yanked {
                source.yank(name, v).unwrap();
            }
        }
    }
    source
}

#[test]
fn solutions_satisfy_every_constraint_and_failures_are_real() {
    let (mut solved, mut unsolvable) = (0, 0);
    for seed in 0..3000u64 {
        let reg = random_registry(seed);
        let source = memory_source(&reg);
        let root = Root::new("root", reg.root.clone());
        match resolve(&source, &root, &SolveOptions::default()) {
            Ok(r) => {
                if let Err(why) = check_solution(&reg, &r) {
                    panic!("seed {seed}: invalid solution: {why}\n{r:#?}");
                }
                solved += 1;
            }
            Err(SolveError::NoSolution { report }) => {
                assert!(
                    !exists_solution(&reg),
                    "seed {seed}: solver said no solution but one exists:\n{report}"
                );
                unsolvable += 1;
            }
            Err(e) => panic!("seed {seed}: unexpected error {e}"),
        }
    }
    // The generator must exercise both outcomes for the test to mean much.
    assert!(
        solved > 500 && unsolvable > 300,
        "solved {solved}, unsolvable {unsolvable}"
    );
}

/// The outcome of a solve as a user sees it: the resolution, or the
/// error's whole text (a report is compared word for word).
fn outcome(result: Result<Resolution, SolveError>) -> Result<Resolution, String> {
    result.map_err(|e| e.to_string())
}

/// A `Solver` kept across solves answers exactly as a fresh solve does,
/// root after root, while the source changes between solves: a release
/// published (with new dependencies, or a pre-release), a release yanked
/// or unyanked, a package that did not exist published. Everything it
/// kept from a package must go when the package's list changes.
#[test]
fn a_kept_solver_answers_as_a_fresh_one_while_the_source_changes() {
    let mut compared = [0usize; 2];
    for seed in 0..400u64 {
        let reg = random_registry(seed);
        let source = memory_source(&reg);
        let solver = Solver::new(&source);
        let mut rng = Rng(seed ^ 0x5EED);
        let names: Vec<PackageName> = (0..6).map(|i| format!("t:p{i}").parse().unwrap()).collect();
        for step in 0..8 {
            // Roots from other seeds' generators, over the same names.
            let roots = [
                Root::new("root", reg.root.clone()),
                Root::new("other", random_registry(seed * 31 + step).root),
            ];
            for root in &roots {
                // Solved twice by the kept solver: the second reuses all.
                for _ in 0..2 {
                    let kept = outcome(solver.resolve(root, &SolveOptions::default()));
                    let fresh = outcome(resolve(&source, root, &SolveOptions::default()));
                    assert_eq!(kept, fresh, "seed {seed} step {step} root {}", root.name);
                    compared[kept.is_ok() as usize] += 1;
                }
            }
            // Change the source between solves.
            let name = rng.pick(&names).clone();
            let version: Version = rng.pick(&VERSIONS).parse().unwrap();
            match rng.below(3) {
                0 => {
                    let target = rng.pick(&names);
                    let reference = format!("unlocked-dep=<{target}@{}>", random_range(&mut rng));
                    let deps = match target > &name {
                        true => vec![Dependency {
                            class: classify("n", Some(&reference)).unwrap(),
                            import: "n".into(),
                        }],
                        false => vec![],
                    };
                    // Already published (with other dependencies): refused,
                    // and nothing changes.
                    let _ = source.add_synthetic(&name, &version, deps);
                }
                1 => {
                    let _ = source.yank(&name, &version);
                }
                _ => {
                    let _ = source.unyank(&name, &version);
                }
            }
        }
    }
    assert!(
        compared[0] > 300 && compared[1] > 1000,
        "outcomes compared (failed, solved): {compared:?}"
    );
}
