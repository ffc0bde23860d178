//! A small binary for profiling the warm re-solve of the `warm` bench
//! outside criterion: `profile_warm <dir> [memory|fresh|offline|remembered] [passes]`.
//!
//! The first run writes the bench's local registry (2,000 packages) under
//! `<dir>/registry` and waits for its files to settle; every run fills the
//! cache in `<dir>/cache` with one cold solve per root, then times
//! `passes` passes over the 24 roots, each solve through a new
//! `CachedSource` (`fresh`, a new process over a warm cache), the same
//! offline, or the in-memory source, and prints the median per root.
//!
//! ```text
//! perf record -g target/release/examples/profile_warm /tmp/warm fresh 200
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use warg_depsolve_bench::synth::{Spec, SyntheticRegistry};
use warg_depsolve_registry::{Cache, CachedSource, LocalRegistry, Source};
use warg_depsolve_solver::{resolve, Root, SolveOptions};

const PACKAGES: usize = 2_000;
const ROOTS: u64 = 24;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .expect("usage: profile_warm <dir> [memory|fresh|offline|remembered] [passes]");
    let which = args.next().unwrap_or_else(|| "fresh".into());
    let passes: usize = args.next().map_or(50, |p| p.parse().expect("passes"));
    let dir = Path::new(&dir);
    let (reg_dir, cache_dir) = (dir.join("registry"), dir.join("cache"));
    let registry = SyntheticRegistry::generate(&Spec::with_packages(PACKAGES));
    if !reg_dir.exists() {
        registry
            .write_local_registry(&reg_dir, PACKAGES)
            .expect("registry written");
        std::thread::sleep(Duration::from_millis(3_500));
    }
    let roots: Vec<Root> = (0..ROOTS)
        .map(|i| registry.solver_root(&registry.root_within(i, PACKAGES)))
        .collect();
    let memory = registry.memory_source(PACKAGES);
    let fresh = || {
        CachedSource::new(
            LocalRegistry::new("local", &reg_dir),
            Cache::new(&cache_dir),
        )
    };
    for root in &roots {
        solve(&fresh(), root);
        if which == "remembered" {
            warg_depsolve_solver::memo::resolve_remembered(
                &fresh(),
                &Cache::new(&cache_dir).memos(),
                root,
                &SolveOptions::default(),
            )
            .expect("synthetic roots without pins solve");
        }
    }
    let mut times = Vec::new();
    for _ in 0..passes {
        for root in &roots {
            let start = Instant::now();
            match which.as_str() {
                "memory" => drop(solve(&memory, root)),
                "offline" => drop(solve(
                    &CachedSource::offline(
                        LocalRegistry::new("local", &reg_dir),
                        Cache::new(&cache_dir),
                    ),
                    root,
                )),
                "remembered" => drop(
                    warg_depsolve_solver::memo::resolve_remembered(
                        &fresh(),
                        &Cache::new(&cache_dir).memos(),
                        root,
                        &SolveOptions::default(),
                    )
                    .expect("synthetic roots without pins solve"),
                ),
                _ => drop(solve(&fresh(), root)),
            }
            times.push(start.elapsed());
        }
    }
    times.sort();
    eprintln!(
        "{which}: p50 {:?} per root ({} solves)",
        times[times.len() / 2],
        times.len()
    );
}

#[inline(never)]
fn solve(source: &dyn Source, root: &Root) -> usize {
    resolve(source, root, &SolveOptions::default())
        .expect("synthetic roots without pins solve")
        .packages
        .len()
}
