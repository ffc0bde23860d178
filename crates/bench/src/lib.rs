//! Benchmarks of `warg-depsolve`, and what they are built from.
//!
//! This crate owns the measurement side of the project and is not part of
//! the product (it is never published): a seeded synthetic registry
//! generator ([`synth`]) that emits an in-memory source, the same data as
//! pubgrub's own `OfflineDependencyProvider` (the baseline), a naive
//! pick-latest walk, and a local registry directory of real tiny
//! components; pubgrub's benchmark graphs mapped onto our solver
//! ([`pubgrub_data`]); a big composition for the bundle benches
//! ([`composition`]); and timing helpers that turn runs into the ratios
//! `BENCHMARKS.md` reports ([`timing`]). The criterion benches live in
//! `benches/`; run them with `cargo bench -p warg-depsolve-bench`, or in
//! smoke mode (small sizes, one pass, no timing claims) with
//! `cargo test -p warg-depsolve-bench --benches`.
//!
//! ```
//! use warg_depsolve_bench::synth::{Spec, SyntheticRegistry};
//! use warg_depsolve_solver::{resolve, SolveOptions};
//!
//! let registry = SyntheticRegistry::generate(&Spec::with_packages(200));
//! let source = registry.memory_source(200);
//! let root = registry.root(0);
//! let resolution = resolve(&source, &registry.solver_root(&root), &SolveOptions::default()).unwrap();
//! assert_eq!(Some(resolution.packages.len()), registry.pick_latest(&root));
//! ```

pub mod composition;
pub mod greedy;
pub mod pubgrub_data;
pub mod rng;
pub mod synth;
pub mod timing;
