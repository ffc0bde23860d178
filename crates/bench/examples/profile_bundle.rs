//! A small binary for profiling `bundle_with` under callgrind:
//! `profile_bundle [megabytes]`.
//!
//! ```text
//! valgrind --tool=callgrind --toggle-collect='*profile_bundle::run*' \
//!     target/release/examples/profile_bundle 4
//! ```

use warg_depsolve_bench::composition::{meet_composition, Composition};

#[inline(never)]
fn run(c: &Composition) -> usize {
    warg_depsolve_compose::bundle_with(&c.root, &c.resolution, &c.packages)
        .expect("bundles")
        .len()
}

fn main() {
    let mb: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(4);
    let c = meet_composition(mb << 20);
    let start = std::time::Instant::now();
    let len = run(&c);
    eprintln!("bundle of {len} bytes in {:?}", start.elapsed());
}
