//! A small binary for profiling one solver under callgrind:
//! `profile_solve [ours|offline|naive] [packages] [roots] [pin share]`.
//!
//! ```text
//! valgrind --tool=callgrind --toggle-collect='*profile_solve::run*' \
//!     target/release/examples/profile_solve ours 10000 10
//! ```

use semver::Version;
use warg_depsolve_bench::synth::{Spec, SyntheticRegistry};
use warg_depsolve_solver::{resolve, SolveOptions};

#[inline(never)]
fn run(which: &str, registry: &SyntheticRegistry, roots: u64) -> usize {
    let list = registry.roots(roots);
    let mut solved = 0;
    match which {
        "ours" => {
            let source = registry.memory_source(registry.packages.len());
            let roots: Vec<_> = list.iter().map(|r| registry.solver_root(r)).collect();
            let start = std::time::Instant::now();
            solved += run_ours(&source, &roots);
            eprintln!("solving alone: {:?}", start.elapsed());
        }
        "offline" => {
            let provider = registry.offline_provider(&list);
            let start = std::time::Instant::now();
            solved += run_offline(&provider, &list);
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
