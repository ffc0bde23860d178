//! A small binary for profiling one solver under callgrind:
//! `profile_solve [ours|fresh|offline|naive] [packages] [roots] [pin share]`
//! (`ours`: one `Solver` kept across the roots; `fresh`: `resolve`, a new
//! solver per root).
//!
//! ```text
//! valgrind --tool=callgrind --toggle-collect='*profile_solve::run*' \
//!     target/release/examples/profile_solve ours 10000 10
//! ```

use semver::Version;
use warg_depsolve_bench::synth::{Spec, SyntheticRegistry};
use warg_depsolve_solver::{resolve, SolveOptions, Solver};

#[inline(never)]
fn run(which: &str, registry: &SyntheticRegistry, roots: u64) -> usize {
    let list = registry.roots(roots);
    let mut solved = 0;
    match which {
        "ours" | "fresh" => {
            let source = registry.memory_source(registry.packages.len());
            let roots: Vec<_> = list.iter().map(|r| registry.solver_root(r)).collect();
            let solver = Solver::new(&source);
            let start = std::time::Instant::now();
            for _ in 0..repeat() {
                solved += match which {
                    "ours" => run_kept(&solver, &roots),
                    _ => run_ours(&source, &roots),
                };
            }
            eprintln!("solving alone: {:?}", start.elapsed());
        }
        "offline" => {
            let provider = registry.offline_provider(&list);
            let start = std::time::Instant::now();
            for _ in 0..repeat() {
                solved += run_offline(&provider, &list);
            }
            eprintln!("solving alone: {:?}", start.elapsed());
        }
        _ => {
            for r in &list {
                solved += registry.pick_latest(r).is_some() as usize;
            }
        }
    }
    solved
}

/// How many times the roots are solved (`PROFILE_REPEAT`, default 1), so
/// that a profile is mostly solving rather than generating the registry.
fn repeat() -> usize {
    std::env::var("PROFILE_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

#[inline(never)]
fn run_ours(
    source: &warg_depsolve_registry::MemorySource,
    roots: &[warg_depsolve_solver::Root],
) -> usize {
    roots
        .iter()
        .filter(|r| resolve(source, r, &SolveOptions::default()).is_ok())
        .count()
}

#[inline(never)]
fn run_kept(solver: &Solver<'_>, roots: &[warg_depsolve_solver::Root]) -> usize {
    roots
        .iter()
        .filter(|r| solver.resolve(r, &SolveOptions::default()).is_ok())
        .count()
}

#[inline(never)]
fn run_offline(
    provider: &pubgrub::OfflineDependencyProvider<String, warg_depsolve_names::VersionSet>,
    roots: &[warg_depsolve_bench::synth::SynthRoot],
) -> usize {
    roots
        .iter()
        .filter(|r| pubgrub::resolve(provider, r.name.clone(), Version::new(0, 0, 0)).is_ok())
        .count()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map(String::as_str).unwrap_or("ours");
    let packages = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let roots = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10);
    let pins = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    let registry = SyntheticRegistry::generate(&Spec::with_packages(packages).pins(pins));
    let start = std::time::Instant::now();
    let solved = run(which, &registry, roots);
    eprintln!("{which}: {solved}/{roots} solved in {:?}", start.elapsed());
}
