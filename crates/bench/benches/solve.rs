// criterion_group! and criterion_main! generate undocumented items.
#![allow(missing_docs)]
//! Solve: our solver vs pubgrub's `OfflineDependencyProvider` on the same
//! seeded synthetic registry (10k packages; with and without 1% pins), p50
//! and p99 over 120 roots timed one by one, and vs a naive pick-latest
//! walk when nothing conflicts.
//!
//! "Ours" is one [`Solver`] kept across the roots (its index of
//! interpreted releases filled by the agreement check before timing, as
//! pubgrub's provider is built before timing); "fresh" is [`resolve`],
//! a new solver per root, which reads and interprets everything again.
//!
//! `cargo bench -p warg-depsolve-bench --bench solve`; `BENCH_PACKAGES`
//! and `BENCH_ROOTS` change the sizes (100k packages on demand).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use semver::Version;
use warg_depsolve_bench::greedy;
use warg_depsolve_bench::synth::{Spec, SynthRoot, SyntheticRegistry};
use warg_depsolve_bench::timing::{smoke, Report, Samples};
use warg_depsolve_registry::MemorySource;
use warg_depsolve_solver::{resolve, Root, SolveOptions, Solver};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Data {
    label: &'static str,
    registry: SyntheticRegistry,
    roots: Vec<SynthRoot>,
    ours_roots: Vec<Root>,
    source: MemorySource,
    offline: pubgrub::OfflineDependencyProvider<String, warg_depsolve_names::VersionSet>,
}

fn data(label: &'static str, pins: f64, packages: usize, roots: u64) -> Data {
    let registry = SyntheticRegistry::generate(&Spec::with_packages(packages).pins(pins));
    let roots = registry.roots(roots);
    let ours_roots = roots.iter().map(|r| registry.solver_root(r)).collect();
    let source = registry.memory_source(packages);
    let offline = registry.offline_provider(&roots);
    Data {
        label,
        registry,
        roots,
        ours_roots,
        source,
        offline,
    }
}

fn ours(solver: &Solver<'_>, root: &Root) -> Option<usize> {
    solver
        .resolve(root, &SolveOptions::default())
        .ok()
        .map(|r| r.packages.len())
}

fn fresh(d: &Data, root: &Root) -> Option<usize> {
    resolve(&d.source, root, &SolveOptions::default())
        .ok()
        .map(|r| r.packages.len())
}

fn naive_same_job(d: &Data, root: &Root) -> Option<usize> {
    greedy::resolve(&d.source, root).map(|r| r.packages.len())
}

fn offline(d: &Data, root: &SynthRoot) -> Option<usize> {
    // The solution includes the root package itself.
    pubgrub::resolve(&d.offline, root.name.clone(), Version::new(0, 0, 0))
        .ok()
        .map(|s| s.into_iter().count() - 1)
}

fn bench_solve(c: &mut Criterion) {
    let smoke = smoke();
    let packages = env_usize("BENCH_PACKAGES", if smoke { 400 } else { 10_000 });
    let roots = env_usize("BENCH_ROOTS", if smoke { 4 } else { 120 }) as u64;
    let passes = if smoke { 1 } else { 3 };
    let mut report = Report::new("solve");
    report.line(format!(
        "Synthetic registry: {packages} packages, {roots} roots of 30 direct deps; \
         per-root times are the minimum over {passes} interleaved passes."
    ));

    let sets = [
        data("no pins", 0.0, packages, roots),
        data("1% pins", 0.01, packages, roots),
    ];
    let solvers: Vec<Solver<'_>> = sets.iter().map(|d| Solver::new(&d.source)).collect();
    for (d, solver) in sets.iter().zip(&solvers) {
        let s = d.registry.stats();
        // Both solvers must agree on every root before their times mean
        // anything.
        let mut solved = 0;
        let mut nodes = 0;
        for (root, ours_root) in d.roots.iter().zip(&d.ours_roots) {
            let (a, b) = (ours(solver, ours_root), offline(d, root));
            assert_eq!(
                a.is_some(),
                b.is_some(),
                "{}: {} outcome differs",
                d.label,
                root.name
            );
            if let Some(n) = a {
                solved += 1;
                nodes += n;
            }
            // The kept solver answers as a fresh one.
            let fresh = resolve(&d.source, ours_root, &SolveOptions::default()).ok();
            let kept = solver.resolve(ours_root, &SolveOptions::default()).ok();
            assert_eq!(kept, fresh, "{}: {}", d.label, root.name);
            if d.label == "no pins" {
                // Nothing conflicts: ours must pick what the greedy walk
                // picks, down to every edge and requirement string.
                assert_eq!(
                    fresh,
                    greedy::resolve(&d.source, ours_root),
                    "{}",
                    root.name
                );
            }
        }
        report.line(format!(
            "\n### {}: {} releases, {} edges, {} pins; {solved}/{} roots solvable, {:.0} nodes per solution on average",
            d.label,
            s.releases,
            s.edges,
            s.pins,
            d.roots.len(),
            nodes as f64 / solved.max(1) as f64
        ));
        let mut ours_runs = Vec::new();
        let mut fresh_runs = Vec::new();
        let mut offline_runs = Vec::new();
        let mut naive_runs = Vec::new();
        let mut greedy_runs = Vec::new();
        for _ in 0..passes {
            greedy_runs.push(Samples::each(&d.ours_roots, |r| naive_same_job(d, r)));
            ours_runs.push(Samples::each(&d.ours_roots, |r| ours(solver, r)));
            fresh_runs.push(Samples::each(&d.ours_roots, |r| fresh(d, r)));
            offline_runs.push(Samples::each(&d.roots, |r| offline(d, r)));
            naive_runs.push(Samples::each(&d.roots, |r| d.registry.pick_latest(r)));
        }
        let (o, f, b, n, g) = (
            Samples::min_of(ours_runs),
            Samples::min_of(fresh_runs),
            Samples::min_of(offline_runs),
            Samples::min_of(naive_runs),
            Samples::min_of(greedy_runs),
        );
        report.ratio("p50 ours vs pubgrub offline", o.p50(), b.p50(), Some(1.0));
        report.ratio("p99 ours vs pubgrub offline", o.p99(), b.p99(), Some(1.0));
        report.ratio(
            "mean ours vs pubgrub offline",
            o.mean(),
            b.mean(),
            Some(1.0),
        );
        report.ratio(
            "p50 ours fresh (a new Solver per root: resolve) vs pubgrub offline",
            f.p50(),
            b.p50(),
            None,
        );
        report.ratio(
            "p99 ours fresh (a new Solver per root: resolve) vs pubgrub offline",
            f.p99(),
            b.p99(),
            None,
        );
        // Like for like: both read the source afresh for every root.
        let goal = (d.label == "no pins").then_some(2.0);
        report.ratio(
            "p50 ours fresh vs naive pick-latest, same job (same source, same Resolution)",
            f.p50(),
            g.p50(),
            goal,
        );
        report.ratio(
            "p99 ours fresh vs naive pick-latest, same job (same source, same Resolution)",
            f.p99(),
            g.p99(),
            goal,
        );
        report.ratio(
            "p50 ours vs naive pick-latest, bare walk (generator arrays, builds nothing)",
            o.p50(),
            n.p50(),
            None,
        );
        report.ratio(
            "p99 ours vs naive pick-latest, bare walk (generator arrays, builds nothing)",
            o.p99(),
            n.p99(),
            None,
        );
    }

    let mut group = c.benchmark_group("solve");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    for (d, solver) in sets.iter().zip(&solvers) {
        let mut i = 0;
        group.bench_function(format!("ours, {} (one root per iteration)", d.label), |b| {
            b.iter(|| {
                i += 1;
                black_box(ours(solver, &d.ours_roots[i % d.ours_roots.len()]))
            })
        });
        let mut i = 0;
        group.bench_function(format!("pubgrub offline, {}", d.label), |b| {
            b.iter(|| {
                i += 1;
                black_box(offline(d, &d.roots[i % d.roots.len()]))
            })
        });
    }
    let d = &sets[0];
    let mut i = 0;
    group.bench_function("naive pick-latest, no pins", |b| {
        b.iter(|| {
            i += 1;
            black_box(d.registry.pick_latest(&d.roots[i % d.roots.len()]))
        })
    });
    group.finish();
    report.finish();
}

criterion_group!(benches, bench_solve);
criterion_main!(benches);
