// criterion_group! and criterion_main! generate undocumented items.
#![allow(missing_docs)]
//! Bundle a ~50 MB composition (the `meet` example, every member padded
//! with code; see `warg_depsolve_bench::composition`):
//!
//! - in memory: a [`Bundler`] over bytes already held vs a plain `Vec`
//!   clone of the bundle's bytes;
//! - file to file: read root and packages, bundle ([`Bundler::to_writer`]:
//!   the pieces written as they are assembled, digests checked meanwhile) vs
//!   `fs::read` of the same inputs and `fs::write` of the same bytes.
//!
//! `cargo bench -p warg-depsolve-bench --bench bundle`; `BENCH_BUNDLE_MB`
//! changes the size.

use std::hint::black_box;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use warg_depsolve_bench::composition::{meet_composition, Composition};
use warg_depsolve_bench::timing::{best_of, smoke, Report};
use warg_depsolve_compose::{Bundler, ComposeError, Packages};
use warg_depsolve_registry::fsutil::read_shared;
use warg_depsolve_solver::Resolution;

fn bundle_files(paths: &[PathBuf], resolution: &Resolution, out: &Path) -> usize {
    let root = std::fs::read(&paths[0]).expect("root reads");
    // Read as the local registry and the cache read release files: straight
    // into the shared buffers packages travel in.
    let packages: Vec<Arc<[u8]>> = paths[1..]
        .iter()
        .map(|p| read_shared(p).expect("package reads"))
        .collect();
    // The pieces of the bundle written as they are assembled, while the
    // digests are checked (the CLI writes to a temporary file and renames it
    // only on success; it also syncs it to disk, which neither side does
    // here).
    let mut file = std::fs::File::create(out).expect("output opens");
    let bundled = Bundler::from_root(&root, resolution, Packages::Held(&packages))
        .to_writer(&mut file)
        .expect("bundles");
    bundled.len()
}

/// The bundle of `comp` in one buffer, over the packages it holds.
fn in_memory(comp: &Composition) -> Result<Vec<u8>, ComposeError> {
    Bundler::from_root(&comp.root, &comp.resolution, Packages::Held(&comp.packages)).to_vec()
}

fn copy_files(paths: &[PathBuf], out: &Path) -> usize {
    let parts: Vec<Vec<u8>> = paths
        .iter()
        .map(|p| std::fs::read(p).expect("input reads"))
        .collect();
    let mut file = std::fs::File::create(out).expect("output opens");
    for part in &parts {
        file.write_all(part).expect("output writes");
    }
    parts.iter().map(Vec::len).sum()
}

fn bench_bundle(c: &mut Criterion) {
    let smoke = smoke();
    let mb: usize = std::env::var("BENCH_BUNDLE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    // Smoke mode: 256 KiB, so a debug build runs it in a moment.
    let comp = meet_composition(if smoke { 256 << 10 } else { mb << 20 });
    let bundled = in_memory(&comp).expect("bundles");
    let dir = tempfile::tempdir().expect("temp dir");
    let paths = comp.write_inputs(dir.path()).expect("inputs written");
    let out = dir.path().join("bundled.wasm");

    let mut report = Report::new("bundle");
    report.line(format!(
        "Composition `meet` + 3 packages: {:.1} MB in, bundle {:.1} MB; times are the fastest of \
         several runs.",
        comp.input_len() as f64 / 1e6,
        bundled.len() as f64 / 1e6
    ));
    let budget = Duration::from_millis(if smoke { 0 } else { 2500 });
    let min_runs = if smoke { 1 } else { 5 };
    let ours = best_of(budget, min_runs, || in_memory(&comp).expect("bundles"));
    let clone = best_of(budget, min_runs, || bundled.clone());
    let mbps = |d: Duration| bundled.len() as f64 / 1e6 / d.as_secs_f64();
    report.line(format!(
        "- in memory: bundle {:.0} MB/s, Vec clone {:.0} MB/s: bundle at **{:.0}%** of clone \
         throughput (goal >= 80%: {})",
        mbps(ours),
        mbps(clone),
        100.0 * clone.as_secs_f64() / ours.as_secs_f64(),
        if clone.as_secs_f64() / ours.as_secs_f64() >= 0.8 {
            "met"
        } else {
            "MISSED"
        }
    ));
    report.ratio(
        "in memory, bundle vs Vec clone (time)",
        ours,
        clone,
        Some(1.25),
    );
    let files_ours = best_of(budget, min_runs, || {
        bundle_files(&paths, &comp.resolution, &out)
    });
    let files_copy = best_of(budget, min_runs, || copy_files(&paths, &out));
    report.ratio(
        "file to file, read + bundle + write vs fs::read + fs::write",
        files_ours,
        files_copy,
        Some(1.3),
    );

    let mut group = c.benchmark_group("bundle");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Bytes(bundled.len() as u64));
    // The id the saved criterion baselines have (the function's old name).
    group.bench_function("bundle_with in memory", |b| {
        b.iter(|| black_box(in_memory(&comp).unwrap()))
    });
    group.bench_function("Vec clone of the bundle", |b| {
        b.iter(|| black_box(bundled.clone()))
    });
    group.bench_function("file to file: read, bundle, write", |b| {
        b.iter(|| black_box(bundle_files(&paths, &comp.resolution, &out)))
    });
    group.bench_function("file to file: fs::read + fs::write", |b| {
        b.iter(|| black_box(copy_files(&paths, &out)))
    });
    group.finish();
    report.finish();
}

criterion_group!(benches, bench_bundle);
criterion_main!(benches);
