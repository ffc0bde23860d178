// criterion_group! and criterion_main! generate undocumented items.
#![allow(missing_docs)]
//! pubgrub's own benchmark graphs (`../shared/data/pubgrub/*.ron` beside the repository, else the one in `testdata/pubgrub`):
//! resolve every package-version pair, as pubgrub's `large_case` bench
//! does, with pubgrub's `OfflineDependencyProvider` and with our solver on
//! the same graph mapped to a `MemorySource` (versions `k` -> `1.k.0`, one
//! track; see `warg_depsolve_bench::pubgrub_data`).
//!
//! Ours is one [`Solver`] kept across the pairs of a graph (its index of
//! interpreted releases filled by the first sweep, as pubgrub's provider
//! is built before timing); "fresh" is [`resolve`], a new solver per pair.
//!
//! `cargo bench -p warg-depsolve-bench --bench pubgrub_cases`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use warg_depsolve_bench::pubgrub_data::{case_files, PubgrubCase};
use warg_depsolve_bench::timing::{best_of, smoke, Report};
use warg_depsolve_solver::{resolve, Root, SolveError, SolveOptions, Solver};

/// Resolves every pair with pubgrub; returns how many solved.
fn sweep_offline(case: &PubgrubCase, pairs: &[(u16, u32)]) -> usize {
    pairs
        .iter()
        .filter(|(p, v)| pubgrub::resolve(&case.provider, *p, *v).is_ok())
        .count()
}

/// Resolves every pair with ours; returns how many solved. A cycle is a
/// solution pubgrub accepts and we refuse after solving, so it counts as
/// solved here.
fn sweep_ours(solver: &Solver<'_>, roots: &[Root]) -> usize {
    roots
        .iter()
        .filter(|root| {
            matches!(
                solver.resolve(root, &SolveOptions::default()),
                Ok(_) | Err(SolveError::Cycle { .. })
            )
        })
        .count()
}

/// [`sweep_ours`] with a new solver per pair.
fn sweep_fresh(case: &PubgrubCase, roots: &[Root]) -> usize {
    roots
        .iter()
        .filter(|root| {
            matches!(
                resolve(&case.source, root, &SolveOptions::default()),
                Ok(_) | Err(SolveError::Cycle { .. })
            )
        })
        .count()
}

fn bench_cases(c: &mut Criterion) {
    let smoke = smoke();
    let mut report = Report::new("pubgrub_cases");
    report.line(
        "Every package-version pair of each graph resolved in turn; times are the fastest \
         whole sweep of several.",
    );
    let files = case_files();
    if files.is_empty() {
        report.line("- no data: ../shared/data/pubgrub, testdata/pubgrub (or $PUBGRUB_DATA_DIR) are missing");
    }
    let mut group = c.benchmark_group("pubgrub_cases");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    for file in files {
        let case = PubgrubCase::load(&file).expect("graph loads");
        // Smoke mode: the first 20 pairs only.
        let pairs: Vec<(u16, u32)> = if smoke {
            case.pairs.iter().copied().take(20).collect()
        } else {
            case.pairs.clone()
        };
        let roots: Vec<Root> = pairs.iter().map(|(p, v)| case.root(*p, *v)).collect();
        let solver = Solver::new(&case.source);
        let solved_offline = sweep_offline(&case, &pairs);
        let solved_ours = sweep_ours(&solver, &roots);
        assert_eq!(solved_ours, sweep_fresh(&case, &roots), "{}", case.name);
        report.line(format!(
            "\n### {}: {} pairs, {} solvable by pubgrub, {} by ours (cycles count as solved), {} edges to unlisted packages",
            case.name,
            pairs.len(),
            solved_offline,
            solved_ours,
            case.missing_targets
        ));
        let budget = Duration::from_millis(if smoke { 0 } else { 1500 });
        let offline = best_of(budget, 1, || sweep_offline(&case, &pairs));
        let ours = best_of(budget, 1, || sweep_ours(&solver, &roots));
        let fresh = best_of(budget, 1, || sweep_fresh(&case, &roots));
        report.ratio(
            "whole sweep, ours vs pubgrub offline",
            ours,
            offline,
            Some(1.5),
        );
        report.ratio(
            "whole sweep, ours fresh (a new Solver per pair: resolve) vs pubgrub offline",
            fresh,
            offline,
            None,
        );

        group.bench_function(format!("{} pubgrub offline", case.name), |b| {
            b.iter(|| black_box(sweep_offline(&case, &pairs)))
        });
        group.bench_function(format!("{} ours", case.name), |b| {
            b.iter(|| black_box(sweep_ours(&solver, &roots)))
        });
    }
    group.finish();
    report.finish();
}

criterion_group!(benches, bench_cases);
criterion_main!(benches);
