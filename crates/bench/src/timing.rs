//! Timing helpers for the benches: smoke mode, per-item samples with
//! percentiles, and ratio lines collected into a report file.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Whether the benches should run in smoke mode (small sizes, one pass):
/// when `BENCH_SMOKE` is set to anything but `0`, or when the binary was
/// not started by `cargo bench` (which passes `--bench`), as under
/// `cargo test --benches`.
pub fn smoke() -> bool {
    match std::env::var("BENCH_SMOKE") {
        Ok(v) => v != "0",
        Err(_) => !std::env::args().any(|a| a == "--bench"),
    }
}

/// Durations of one measurement per item.
#[derive(Clone, Debug, Default)]
pub struct Samples(pub Vec<Duration>);

impl Samples {
    /// Times `f` once per item.
    pub fn each<T, R>(items: &[T], mut f: impl FnMut(&T) -> R) -> Self {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let start = Instant::now();
            std::hint::black_box(f(item));
            out.push(start.elapsed());
        }
        Samples(out)
    }

    /// Element-wise minimum of several runs over the same items (the least
    /// disturbed run of each item on a noisy machine).
    pub fn min_of(runs: Vec<Samples>) -> Self {
        let mut it = runs.into_iter();
        let Some(first) = it.next() else {
            return Samples::default();
        };
        it.fold(first, |acc, s| {
            Samples(acc.0.iter().zip(&s.0).map(|(a, b)| *a.min(b)).collect())
        })
    }

    /// The `q` quantile (0 to 1), nearest rank.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        let mut sorted = self.0.clone();
        sorted.sort();
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    /// Median.
    pub fn p50(&self) -> Duration {
        self.quantile(0.5)
    }

    /// 99th percentile.
    pub fn p99(&self) -> Duration {
        self.quantile(0.99)
    }

    /// Mean.
    pub fn mean(&self) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        self.0.iter().sum::<Duration>() / self.0.len() as u32
    }
}

/// Runs `f` until at least `budget` has passed (and at least `min_runs`
/// times) and returns the fastest run.
pub fn best_of<R>(budget: Duration, min_runs: usize, mut f: impl FnMut() -> R) -> Duration {
    let start = Instant::now();
    let mut best = Duration::MAX;
    let mut runs = 0;
    while runs < min_runs || start.elapsed() < budget {
        let t = Instant::now();
        std::hint::black_box(f());
        best = best.min(t.elapsed());
        runs += 1;
    }
    best
}

/// Milliseconds, for reports.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A report of ratios, printed at the end of a bench and written to
/// `<target>/bench-ratios/<bench>.md`.
#[derive(Debug)]
pub struct Report {
    bench: String,
    text: String,
}

impl Report {
    /// An empty report for bench `bench`.
    pub fn new(bench: &str) -> Self {
        let mode = if smoke() {
            " (smoke mode: sizes shrunk, not a measurement)"
        } else {
            ""
        };
        Report {
            bench: bench.to_string(),
            text: format!("## {bench}{mode}\n\n"),
        }
    }

    /// Adds a free-form line.
    pub fn line(&mut self, line: impl AsRef<str>) {
        self.text.push_str(line.as_ref());
        self.text.push('\n');
    }

    /// Adds `what: ours / baseline = ratio` (a ratio above 1 means ours is
    /// slower), with the goal it is checked against, if any.
    pub fn ratio(&mut self, what: &str, ours: Duration, baseline: Duration, goal: Option<f64>) {
        let ratio = ours.as_secs_f64() / baseline.as_secs_f64().max(1e-12);
        let verdict = match goal {
            Some(g) if ratio <= g => format!(" (goal <= {g}: met)"),
            Some(g) => format!(" (goal <= {g}: MISSED)"),
            None => String::new(),
        };
        let _ = writeln!(
            self.text,
            "- {what}: ours {:.4} ms / baseline {:.4} ms = **{ratio:.2}x**{verdict}",
            ms(ours),
            ms(baseline)
        );
    }

    /// The report so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Prints the report and writes it next to criterion's output.
    pub fn finish(self) {
        println!("\n{}", self.text);
        if let Some(dir) = target_dir() {
            let dir = dir.join("bench-ratios");
            if std::fs::create_dir_all(&dir).is_ok() {
                let _ = std::fs::write(dir.join(format!("{}.md", self.bench)), &self.text);
            }
        }
    }
}

/// The cargo target directory this binary was built in
/// (`<target>/<profile>/deps/<bin>`).
fn target_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.parent()?.to_path_buf())
}
