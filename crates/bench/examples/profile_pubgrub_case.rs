//! A small binary for profiling one of pubgrub's graphs:
//! `profile_pubgrub_case [ours|fresh|offline] FILE.ron [sweeps]`, every
//! package-version pair resolved in turn, `sweeps` times (`ours`: one
//! `Solver` kept across the pairs; `fresh`: a new solver per pair).
//!
//! ```text
//! perf record -g target/release/examples/profile_pubgrub_case ours \
//!     ../shared/data/pubgrub/large_case_u16_NumberVersion.ron 20
//! ```

use warg_depsolve_bench::pubgrub_data::PubgrubCase;
use warg_depsolve_solver::{resolve, Root, SolveOptions, Solver};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map(String::as_str).unwrap_or("ours");
    let file = args
        .get(2)
        .expect("usage: profile_pubgrub_case WHICH FILE [SWEEPS]");
    let sweeps: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10);
    let case = PubgrubCase::load(std::path::Path::new(file)).expect("graph loads");
    let roots: Vec<Root> = case.pairs.iter().map(|(p, v)| case.root(*p, *v)).collect();
    let solver = Solver::new(&case.source);
    let start = std::time::Instant::now();
    let mut solved = 0;
    for _ in 0..sweeps {
        solved += match which {
            "ours" => roots
                .iter()
                .filter(|r| solver.resolve(r, &SolveOptions::default()).is_ok())
                .count(),
            "fresh" => roots
                .iter()
                .filter(|r| resolve(&case.source, r, &SolveOptions::default()).is_ok())
                .count(),
            _ => case
                .pairs
                .iter()
                .filter(|(p, v)| pubgrub::resolve(&case.provider, *p, *v).is_ok())
                .count(),
        };
    }
    eprintln!("{which}: {solved} solved in {:?}", start.elapsed());
}
