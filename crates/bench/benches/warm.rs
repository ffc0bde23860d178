// criterion_group! and criterion_main! generate undocumented items.
#![allow(missing_docs)]
//! Warm re-solve: a local registry of real tiny components (2k packages of
//! the synthetic registry) read through a filled metadata cache, vs the
//! same releases in a `MemorySource`.
//!
//! The cache keys what it recorded by the registry files' stamps (their
//! identity: inode, size, times), so a warm solve stats the package
//! directory and the chosen release file and reads one summary file per
//! package, and hashes or lists nothing.
//!
//! Four warm forms, each against the in-memory solve of the same roots:
//! a new process re-solving a root it solved before (`resolve_remembered`:
//! a new `CachedSource`, the solution recalled from the cache's memo once
//! every stamp it rests on is taken again; the case the goal is about),
//! a new `CachedSource` per solve reading every package (what a root the
//! cache has not solved costs), the same in offline mode, and one
//! `CachedSource` reused across solves (a long-lived process).
//!
//! `cargo bench -p warg-depsolve-bench --bench warm`.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use warg_depsolve_bench::synth::{Spec, SyntheticRegistry};
use warg_depsolve_bench::timing::{smoke, Report, Samples};
use warg_depsolve_registry::{Cache, CachedSource, LocalRegistry, Source};
use warg_depsolve_solver::memo::resolve_remembered;
use warg_depsolve_solver::{resolve, Resolution, Root, SolveOptions};

fn solve(source: &dyn Source, root: &Root) -> Resolution {
    resolve(source, root, &SolveOptions::default()).expect("synthetic roots without pins solve")
}

/// A re-solve in a new process: a new `CachedSource`, and the memo.
fn remembered(registry: &Path, cache: &Path, root: &Root) -> Resolution {
    let source = fresh(registry, cache);
    resolve_remembered(
        &source,
        &Cache::new(cache).memos(),
        root,
        &SolveOptions::default(),
    )
    .expect("synthetic roots without pins solve")
}

fn fresh(registry: &Path, cache: &Path) -> CachedSource<LocalRegistry> {
    CachedSource::new(LocalRegistry::new("local", registry), Cache::new(cache))
}

fn fresh_offline(registry: &Path, cache: &Path) -> CachedSource<LocalRegistry> {
    CachedSource::offline(LocalRegistry::new("local", registry), Cache::new(cache))
}

fn bench_warm(c: &mut Criterion) {
    let smoke = smoke();
    let limit = if smoke { 150 } else { 2_000 };
    let root_count = if smoke { 3 } else { 24 };
    let passes = if smoke { 1 } else { 3 };
    let registry = SyntheticRegistry::generate(&Spec::with_packages(limit));
    let dir = tempfile::tempdir().expect("temp dir");
    let (reg_dir, cache_dir) = (dir.path().join("registry"), dir.path().join("cache"));
    let files = registry
        .write_local_registry(&reg_dir, limit)
        .expect("registry written");
    let roots: Vec<Root> = (0..root_count)
        .map(|i| registry.solver_root(&registry.root_within(i, limit)))
        .collect();
    let memory = registry.memory_source(limit);
    if !smoke {
        // A registry's files are usually older than a few seconds: let
        // these settle, so the cold solve records their stamps as it would
        // (a file changed less than 3 s ago is hashed on every solve; see
        // `LocalRegistry::with_settle_time`).
        std::thread::sleep(Duration::from_millis(3_500));
    }

    // Fill the cache (the cold solve), and check every form agrees.
    let cold = fresh(&reg_dir, &cache_dir);
    let mut nodes = 0;
    for root in &roots {
        let expected = solve(&memory, root);
        nodes += expected.packages.len();
        for got in [
            solve(&cold, root),
            remembered(&reg_dir, &cache_dir, root),
            remembered(&reg_dir, &cache_dir, root),
            solve(&fresh(&reg_dir, &cache_dir), root),
            solve(&fresh_offline(&reg_dir, &cache_dir), root),
        ] {
            let versions = |r: &Resolution| {
                r.packages
                    .iter()
                    .map(|p| (p.package.clone(), p.version.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(versions(&got), versions(&expected), "{}", root.name);
        }
    }

    let mut report = Report::new("warm");
    report.line(format!(
        "Local registry: {limit} packages, {files} real tiny components; {root_count} roots, \
         {:.0} nodes per solution on average; per-root times are the minimum over {passes} passes.",
        nodes as f64 / roots.len() as f64
    ));
    let shared = fresh(&reg_dir, &cache_dir);
    for root in &roots {
        solve(&shared, root);
    }
    let mut runs: [Vec<Samples>; 5] = Default::default();
    for _ in 0..passes {
        runs[4].push(Samples::each(&roots, |r| {
            remembered(&reg_dir, &cache_dir, r)
        }));
        runs[0].push(Samples::each(&roots, |r| solve(&memory, r)));
        runs[1].push(Samples::each(&roots, |r| {
            solve(&fresh(&reg_dir, &cache_dir), r)
        }));
        runs[2].push(Samples::each(&roots, |r| {
            solve(&fresh_offline(&reg_dir, &cache_dir), r)
        }));
        runs[3].push(Samples::each(&roots, |r| solve(&shared, r)));
    }
    let [memory_t, fresh_t, offline_t, shared_t, remembered_t] = runs.map(Samples::min_of);
    for (what, t, goal) in [
        (
            "warm re-solve in a new process (new CachedSource, solution remembered)",
            &remembered_t,
            Some(2.0),
        ),
        (
            "warm cache, new CachedSource per solve reading every package (a root not solved before)",
            &fresh_t,
            None,
        ),
        (
            "warm cache, offline, new CachedSource per solve",
            &offline_t,
            None,
        ),
        ("warm cache, one CachedSource reused", &shared_t, None),
    ] {
        report.ratio(
            &format!("p50 {what} vs in-memory"),
            t.p50(),
            memory_t.p50(),
            goal,
        );
        report.ratio(
            &format!("mean {what} vs in-memory"),
            t.mean(),
            memory_t.mean(),
            goal,
        );
    }

    let mut group = c.benchmark_group("warm");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    let mut i = 0;
    group.bench_function("in-memory solve", |b| {
        b.iter(|| {
            i += 1;
            black_box(solve(&memory, &roots[i % roots.len()]))
        })
    });
    let mut i = 0;
    group.bench_function("warm re-solve, new process, remembered", |b| {
        b.iter(|| {
            i += 1;
            black_box(remembered(&reg_dir, &cache_dir, &roots[i % roots.len()]))
        })
    });
    let mut i = 0;
    group.bench_function("warm re-solve, new CachedSource", |b| {
        b.iter(|| {
            i += 1;
            black_box(solve(&fresh(&reg_dir, &cache_dir), &roots[i % roots.len()]))
        })
    });
    group.finish();
    report.finish();
}

criterion_group!(benches, bench_warm);
criterion_main!(benches);
