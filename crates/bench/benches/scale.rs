//! Scale: the seeded synthetic registry at 1k, 10k and 100k packages: how
//! solve time and memory grow with the registry.
//!
//! For each size, one process-wide allocator count (peak_alloc) gives:
//!
//! - the bytes per release an in-memory source holds (`MemorySource`,
//!   the releases' metadata as the solver reads it);
//! - the solve time per root (p50, p99) and the solver's peak working
//!   memory above what the source holds (the catalog, pubgrub's state);
//! - the bytes per package the on-disk cache holds after the same roots
//!   were solved through a `CachedSource` (summaries and metadata).
//!
//! The ratios are each size's figure over the smallest size's, so the
//! report reads as a curve; there is no goal beyond "no worse than the
//! registry's growth" for time per solve (solutions, not registries, set
//! the work). `BENCH_SCALE_SIZES=1000,10000` and `BENCH_ROOTS` change the
//! sizes.

use std::path::Path;
use std::time::{Duration, Instant};

use peak_alloc::PeakAlloc;
use warg_depsolve_bench::synth::{Spec, SyntheticRegistry};
use warg_depsolve_bench::timing::{smoke, Report, Samples};
use warg_depsolve_registry::{Cache, CachedSource};
use warg_depsolve_solver::{resolve, SolveOptions};

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

/// One size's figures.
struct Point {
    packages: usize,
    releases: usize,
    generate: Duration,
    source_bytes: usize,
    solves: Samples,
    nodes: f64,
    solver_peak: usize,
    cache_bytes: u64,
    cache_packages: usize,
}

fn sizes() -> Vec<usize> {
    if let Ok(list) = std::env::var("BENCH_SCALE_SIZES") {
        return list
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect();
    }
    if smoke() {
        vec![200, 1_000]
    } else {
        vec![1_000, 10_000, 100_000]
    }
}

fn disk_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

fn measure(packages: usize, roots: u64) -> Point {
    let start = Instant::now();
    let registry = SyntheticRegistry::generate(&Spec::with_packages(packages));
    let generate = start.elapsed();
    let releases = registry.stats().releases;
    let roots: Vec<_> = registry
        .roots(roots)
        .iter()
        .map(|r| registry.solver_root(r))
        .collect();

    let before = ALLOC.current_usage();
    let source = registry.memory_source(packages);
    let source_bytes = ALLOC.current_usage().saturating_sub(before);

    let options = SolveOptions::default();
    let base = ALLOC.current_usage();
    ALLOC.reset_peak_usage();
    let mut nodes = 0;
    let mut solved = 0;
    let solves = Samples::each(&roots, |root| {
        let r = resolve(&source, root, &options);
        if let Ok(r) = &r {
            nodes += r.packages.len();
            solved += 1;
        }
        r.is_ok()
    });
    let solver_peak = ALLOC.peak_usage().saturating_sub(base);

    let dir = tempfile::tempdir().expect("temp dir");
    let cached = CachedSource::new(&source, Cache::new(dir.path()));
    let mut cache_packages = std::collections::BTreeSet::new();
    for root in &roots {
        if let Ok(r) = resolve(&cached, root, &options) {
            cache_packages.extend(r.packages.iter().map(|p| p.package.clone()));
        }
    }
    drop(cached);
    let cache_bytes = disk_bytes(dir.path());

    Point {
        packages,
        releases,
        generate,
        source_bytes,
        solves,
        nodes: nodes as f64 / solved.max(1) as f64,
        solver_peak,
        cache_bytes,
        cache_packages: cache_packages.len(),
    }
}

fn main() {
    let roots = std::env::var("BENCH_ROOTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if smoke() { 3 } else { 30 });
    let mut report = Report::new("scale");
    report.line(format!(
        "Synthetic registry (seed fixed), {roots} roots of 30 direct deps per size; \
         memory from a counting allocator (peak_alloc), one process."
    ));
    report.line("");
    report.line("| packages | releases | generate | source bytes/release | solve p50 | solve p99 | nodes/solution | solver peak (above source) | cache bytes/package |");
    report.line("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let points: Vec<Point> = sizes().into_iter().map(|n| measure(n, roots)).collect();
    for p in &points {
        report.line(format!(
            "| {} | {} | {:.0} ms | {:.0} | {:.2} ms | {:.2} ms | {:.0} | {:.1} MB | {:.0} |",
            p.packages,
            p.releases,
            p.generate.as_secs_f64() * 1e3,
            p.source_bytes as f64 / p.releases.max(1) as f64,
            p.solves.p50().as_secs_f64() * 1e3,
            p.solves.p99().as_secs_f64() * 1e3,
            p.nodes,
            p.solver_peak as f64 / 1e6,
            p.cache_bytes as f64 / p.cache_packages.max(1) as f64,
        ));
    }
    report.line("");
    if let Some(first) = points.first() {
        for p in points.iter().skip(1) {
            let growth = p.packages as f64 / first.packages as f64;
            report.ratio(
                &format!(
                    "solve p50 at {} packages vs {} ({growth:.0}x the registry)",
                    p.packages, first.packages
                ),
                p.solves.p50(),
                first.solves.p50(),
                None,
            );
            report.line(format!(
                "- solver peak at {} packages vs {}: {:.1} MB / {:.1} MB = **{:.2}x**; source bytes per release {:.0} vs {:.0}",
                p.packages,
                first.packages,
                p.solver_peak as f64 / 1e6,
                first.solver_peak as f64 / 1e6,
                p.solver_peak as f64 / first.solver_peak.max(1) as f64,
                p.source_bytes as f64 / p.releases.max(1) as f64,
                first.source_bytes as f64 / first.releases.max(1) as f64,
            ));
        }
    }
    // Every size must have solved something, or the figures mean nothing.
    for p in &points {
        assert!(p.nodes > 0.0, "no root solved at {} packages", p.packages);
    }
    report.finish();
}
