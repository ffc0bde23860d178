//! A small binary for profiling a `Bundler` over held packages under callgrind:
//! `profile_bundle [megabytes] [runs]`; prints the fastest run next to the
//! fastest `Vec` clone of the bundle.
//!
//! ```text
//! valgrind --tool=callgrind --toggle-collect='*profile_bundle::run*' \
//!     target/release/examples/profile_bundle 4 1
//! ```

use std::time::{Duration, Instant};

use warg_depsolve_bench::composition::{meet_composition, Composition};
use warg_depsolve_compose::{Bundler, Packages};

#[inline(never)]
fn run(c: &Composition) -> Vec<u8> {
    Bundler::from_root(&c.root, &c.resolution, Packages::Held(&c.packages))
        .to_vec()
        .expect("bundles")
}

fn best<R>(runs: usize, mut f: impl FnMut() -> R) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mb: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(4);
    let runs: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let c = meet_composition(mb << 20);
    let bundled = run(&c);
    let ours = best(runs, || run(&c));
    let clone = best(runs, || bundled.clone());
    eprintln!(
        "bundle of {} bytes: {ours:?} (Vec clone {clone:?}, {:.0}% of clone throughput)",
        bundled.len(),
        100.0 * clone.as_secs_f64() / ours.as_secs_f64()
    );
}
