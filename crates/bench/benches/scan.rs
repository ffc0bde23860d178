// criterion_group! and criterion_main! generate undocumented items.
#![allow(missing_docs)]
//! `scan` cost must not depend on code size: the `meet` root with a 50 MB
//! core module nested in it scans in about the time of the same root with
//! a tiny one (`warg_depsolve_names::scan` reads top-level sections only
//! and skips nested modules by length).
//!
//! What the solver's type check costs where it is paid, once per release
//! (the metadata cache keeps the result): the release metadata, read with
//! its type facts (`ReleaseMetadata::from_component`: the scan plus
//! wasmparser's validator over the types, no function body validated), of
//! the same two components, against the scan alone.
//!
//! `cargo bench -p warg-depsolve-bench --bench scan`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use warg_depsolve_bench::composition::{code_module, pad, testdata};
use warg_depsolve_bench::timing::{best_of, smoke, Report};
use warg_depsolve_names::scan::{scan, NestedKind};
use warg_depsolve_registry::{ReleaseMetadata, Verified};

fn bench_scan(c: &mut Criterion) {
    let big_bytes = if smoke() { 1 << 20 } else { 50 << 20 };
    // Built once, outside the timed loops.
    let root = wat::parse_file(testdata().join("roots/meet.wat")).expect("meet compiles");
    let tiny = pad(&root, &code_module(1024));
    let big = pad(&root, &code_module(big_bytes));
    for bytes in [&tiny, &big] {
        let s = scan(bytes).expect("bench component scans");
        assert_eq!(s.imports.len(), 2);
        let last = s.nested.last().expect("the padding module");
        assert_eq!(last.kind, NestedKind::Module);
    }

    let (budget, min_runs) = (Duration::from_millis(if smoke() { 20 } else { 500 }), 3);
    let t_big = best_of(budget, min_runs, || scan(black_box(&big)).unwrap());
    let t_tiny = best_of(budget, min_runs, || scan(black_box(&tiny)).unwrap());
    let mut report = Report::new("scan");
    report.line(format!(
        "Root `meet` nesting a {} MB module ({} bytes in all) vs a 1 KB one ({} bytes).",
        big_bytes >> 20,
        big.len(),
        tiny.len()
    ));
    report.ratio("scan, big nested module vs tiny", t_big, t_tiny, Some(1.5));

    let package = "test:meet".parse().expect("a package name");
    let version = semver::Version::new(1, 0, 0);
    // Hashed outside the timed loops: the digest is the same cost with or
    // without types (a source hashes what it fetches anyway).
    let (big_v, tiny_v) = (Verified::hash(big.clone()), Verified::hash(tiny.clone()));
    let metadata = |bytes: &Verified| {
        ReleaseMetadata::from_verified(&package, &version, bytes).expect("bench metadata reads")
    };
    assert!(
        metadata(&big_v).types.is_some(),
        "the types of the bench component read"
    );
    let m_big = best_of(budget, min_runs, || metadata(black_box(&big_v)));
    let m_tiny = best_of(budget, min_runs, || metadata(black_box(&tiny_v)));
    report.ratio(
        "metadata with types vs scan alone, tiny module",
        m_tiny,
        t_tiny,
        None,
    );
    report.ratio(
        "metadata with types vs scan alone, big module",
        m_big,
        t_big,
        None,
    );
    report.line(format!(
        "Metadata with types of the big component (digest known): {:.1} ms ({:.0} MB/s); paid once per release, then cached.",
        m_big.as_secs_f64() * 1e3,
        big.len() as f64 / m_big.as_secs_f64() / 1e6
    ));

    let mut group = c.benchmark_group("scan");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    group.bench_function("root nesting a tiny module", |b| {
        b.iter(|| scan(black_box(&tiny)).unwrap())
    });
    group.bench_function("root nesting a 50 MB module", |b| {
        b.iter(|| scan(black_box(&big)).unwrap())
    });
    group.finish();
    report.finish();
}

criterion_group!(benches, bench_scan);
criterion_main!(benches);
