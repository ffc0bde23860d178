//! Cold resolution over the network: the first `resolve` against an OCI
//! registry with an empty cache, where a user waits.
//!
//! A real `docker-registry` (Debian's, as the tests use) holds every
//! release of the packages a synthetic root's solution reaches (real
//! component bytes). In front of it, a loopback proxy delays every request
//! by a fixed time (and caps the bandwidth of answers), as a distant
//! registry would. The resolve goes through the library's configured
//! sources, as the command line's does: the router, the cache, the OCI
//! source and its prefetching.
//!
//! Two baselines, timed in the same run:
//!
//! - **floor**: the solution's longest dependency chain x the round trips
//!   one package needs on the critical path (tag list, manifest, content:
//!   3) x the delay: what perfect parallelism would cost. Goal <= 1.5.
//! - **sequential**: the same resolve with one request at a time
//!   (`concurrency = 1`), what wkg and warg-cli do. Goal <= 0.2.
//!
//! The proxy also counts requests, to show no package is fetched twice.
//! `BENCH_NET_PACKAGES`, `BENCH_NET_DELAY_MS` and `BENCH_NET_KBPS` change
//! the sizes, `BENCH_NET_CONCURRENCY` the bound of ours (default 16) and
//! `BENCH_NET_PREFETCH_DEPTH` its read-ahead (`prefetch_depth`; 0 is the
//! source before reading ahead); smoke mode (under `cargo test`) uses a small registry and a
//! short delay, and still checks that the answers agree.

#[path = "../../oci/tests/common/server.rs"]
mod oci;
#[path = "../../oci/tests/common/proxy.rs"]
mod proxy;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use warg_depsolve::sources::{SourceSettings, Sources};
use warg_depsolve_bench::synth::{package_name, Spec, SyntheticRegistry};
use warg_depsolve_bench::timing::{smoke, Report};
use warg_depsolve_registry::Publish as _;
use warg_depsolve_solver::{resolve, Resolution, Root, SolveOptions};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A loopback TCP proxy that holds every chunk a client sends for `delay`
/// before passing it on (one request is one chunk: a fixed delay per
/// request), and passes answers back at `bytes_per_sec` at most.
struct DelayProxy {
    addr: SocketAddr,
    requests: Arc<Kinds>,
}

/// Requests seen, by kind (what the path asks for).
#[derive(Default)]
struct Kinds {
    tag_lists: AtomicUsize,
    manifests: AtomicUsize,
    blobs: AtomicUsize,
    other: AtomicUsize,
}

impl Kinds {
    /// Counts the request whose first bytes are `head`.
    fn count(&self, head: &[u8]) {
        let line = head.split(|&b| b == b'\n').next().unwrap_or(&[]);
        let line = String::from_utf8_lossy(line);
        let kind = if line.contains("/tags/list") {
            &self.tag_lists
        } else if line.contains("/manifests/") {
            &self.manifests
        } else if line.contains("/blobs/") {
            &self.blobs
        } else {
            &self.other
        };
        kind.fetch_add(1, Ordering::Relaxed);
    }

    /// (tag lists, manifests, blobs, other).
    fn get(&self) -> [usize; 4] {
        [&self.tag_lists, &self.manifests, &self.blobs, &self.other]
            .map(|n| n.load(Ordering::Relaxed))
    }
}

/// The [`DelayProxy`]'s tap.
struct Delay {
    delay: Duration,
    bytes_per_sec: u64,
    requests: Arc<Kinds>,
}

impl proxy::Tap for Delay {
    type Connection = ();

    fn to_server(&self, _: &(), chunk: &[u8]) {
        self.requests.count(chunk);
        std::thread::sleep(self.delay);
    }

    fn to_client(&self, _: &(), chunk: &[u8]) {
        let pace = chunk.len() as f64 / self.bytes_per_sec.max(1) as f64;
        std::thread::sleep(Duration::from_secs_f64(pace));
    }
}

impl DelayProxy {
    fn start(upstream: SocketAddr, delay: Duration, bytes_per_sec: u64) -> DelayProxy {
        let requests = Arc::new(Kinds::default());
        let tap = Delay {
            delay,
            bytes_per_sec,
            requests: requests.clone(),
        };
        let addr = proxy::start_proxy(upstream, Arc::new(tap));
        DelayProxy { addr, requests }
    }

    /// Requests so far, by kind: (tag lists, manifests, blobs, other).
    fn requests(&self) -> [usize; 4] {
        self.requests.get()
    }
}

/// `a - b`, kind by kind.
fn minus(a: [usize; 4], b: [usize; 4]) -> [usize; 4] {
    [0, 1, 2, 3].map(|i| a[i] - b[i])
}

/// The longest chain of packages from the root (the root's direct
/// dependencies count 1).
fn longest_chain(resolution: &Resolution) -> usize {
    fn depth(r: &Resolution, i: usize, memo: &mut HashMap<usize, usize>) -> usize {
        if let Some(d) = memo.get(&i) {
            return *d;
        }
        let d = 1 + r.packages[i]
            .edges
            .iter()
            .map(|e| depth(r, e.target, memo))
            .max()
            .unwrap_or(0);
        memo.insert(i, d);
        d
    }
    let mut memo = HashMap::new();
    resolution
        .root_edges
        .iter()
        .map(|e| depth(resolution, e.target, &mut memo))
        .max()
        .unwrap_or(0)
}

/// A cold resolve through a config naming the proxy, with a fresh cache.
fn cold_resolve(
    dir: &Path,
    proxy: SocketAddr,
    concurrency: usize,
    root: &Root,
) -> (Duration, Resolution) {
    let run = tempfile::tempdir_in(dir).unwrap();
    let config = run.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "default_registry = \"net\"\n[registry.\"net\".oci]\nregistry = \"{proxy}\"\n\
             protocol = \"http\"\nconcurrency = {concurrency}\nread_timeout = 120\n{}",
            match std::env::var("BENCH_NET_PREFETCH_DEPTH") {
                Ok(depth) => format!("prefetch_depth = {depth}\n"),
                Err(_) => String::new(),
            }
        ),
    )
    .unwrap();
    let start = Instant::now();
    let sources = Sources::open(&SourceSettings {
        config: Some(config),
        cache: Some(run.path().join("cache")),
        ..SourceSettings::default()
    })
    .expect("sources open");
    let resolution =
        resolve(sources.source(), root, &SolveOptions::default()).expect("cold resolve");
    (start.elapsed(), resolution)
}

fn main() {
    let smoke = smoke();
    let packages = env_u64("BENCH_NET_PACKAGES", if smoke { 25 } else { 2_000 }) as usize;
    let delay = Duration::from_millis(env_u64("BENCH_NET_DELAY_MS", if smoke { 2 } else { 20 }));
    let kbps = env_u64("BENCH_NET_KBPS", 50_000);
    let concurrency = env_u64("BENCH_NET_CONCURRENCY", 16) as usize;
    let spec = if smoke {
        // Few releases per package: publishing is set-up, not measured.
        Spec {
            min_versions: 2,
            max_versions: 4,
            ..Spec::with_packages(packages)
        }
    } else {
        Spec::with_packages(packages)
    };
    let registry = SyntheticRegistry::generate(&spec);
    let memory = registry.memory_source(packages);

    // The root whose solution is largest among a few (>= 200 packages at
    // full size).
    let (root, expected) = (0..8)
        .map(|i| registry.solver_root(&registry.root_within(i, packages)))
        .filter_map(|root| {
            let r = resolve(&memory, &root, &SolveOptions::default()).ok()?;
            Some((root, r))
        })
        .max_by_key(|(_, r)| r.packages.len())
        .expect("a solvable root");
    let chain = longest_chain(&expected);

    // Publish every release of every package the solution reaches.
    let server = oci::RegistryServer::start();
    let publisher = server.source("publish");
    let index: HashMap<_, usize> = (0..packages).map(|i| (package_name(i), i)).collect();
    let mut work: Vec<(usize, usize)> = Vec::new();
    for p in &expected.packages {
        let i = index[&p.package];
        work.extend((0..registry.packages[i].releases.len()).map(|r| (i, r)));
    }
    work.sort();
    work.dedup();
    let published = work.len();
    let start = Instant::now();
    // Set-up, on four connections at once.
    std::thread::scope(|scope| {
        for chunk in work.chunks(work.len().div_ceil(4).max(1)) {
            let (registry, publisher) = (&registry, &publisher);
            scope.spawn(move || {
                for &(i, r) in chunk {
                    let package = &registry.packages[i];
                    let bytes = registry.component_bytes(i, r);
                    publisher
                        .publish(&package.name, &package.releases[r].version, &bytes)
                        .expect("publish");
                }
            });
        }
    });
    let publish_time = start.elapsed();
    let upstream: SocketAddr = server.host().parse().unwrap();
    let proxy = DelayProxy::start(upstream, delay, kbps * 1000);
    let work = tempfile::tempdir().unwrap();

    // Ours, best of a few cold runs; then one request at a time.
    let runs = if smoke { 1 } else { 3 };
    let mut ours = Duration::MAX;
    let mut ours_requests = [0; 4];
    for _ in 0..runs {
        let before = proxy.requests();
        let (t, got) = cold_resolve(work.path(), proxy.addr, concurrency, &root);
        assert_eq!(
            got.packages.len(),
            expected.packages.len(),
            "the network gives the same solution"
        );
        for (a, b) in got.packages.iter().zip(&expected.packages) {
            assert_eq!((&a.package, &a.version), (&b.package, &b.version));
        }
        ours_requests = minus(proxy.requests(), before);
        ours = ours.min(t);
    }
    let before = proxy.requests();
    let (sequential, got) = cold_resolve(work.path(), proxy.addr, 1, &root);
    let sequential_requests = minus(proxy.requests(), before);
    assert_eq!(got.packages.len(), expected.packages.len());
    let floor = delay * (3 * chain) as u32;

    let mut report = Report::new("network");
    report.line(format!(
        "docker-registry behind a loopback proxy adding {} ms per request, answers capped at {} kB/s; \
         synthetic registry of {packages} packages; the root's solution: {} packages, longest chain {chain}; \
         {published} releases published ({:.1} s, not timed below).",
        delay.as_millis(),
        kbps,
        expected.packages.len(),
        publish_time.as_secs_f64()
    ));
    let total = |k: [usize; 4]| k.iter().sum::<usize>();
    report.line(format!(
        "Requests per cold resolve: ours {} ({} tag lists, {} manifests, {} blobs, {} other), \
         sequential {} ({:.1} per package; a package needs its tag list, then a manifest per \
         release read, and that manifest's config blob when the manifest does not carry our record).",
        total(ours_requests),
        ours_requests[0],
        ours_requests[1],
        ours_requests[2],
        ours_requests[3],
        total(sequential_requests),
        total(ours_requests) as f64 / expected.packages.len() as f64
    ));
    report.ratio(
        "cold resolve, ours vs the floor (longest chain x 3 round trips x delay)",
        ours,
        floor,
        Some(1.5),
    );
    report.ratio(
        "cold resolve, ours vs sequential (one request at a time, as wkg and warg-cli)",
        ours,
        sequential,
        Some(0.2),
    );
    report.finish();
}
