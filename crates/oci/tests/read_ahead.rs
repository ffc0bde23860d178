//! Reading ahead of the solver (`prefetch_depth`), against a real registry
//! server behind a loopback proxy that records every request: the
//! newest-first closure of a release is read once, tag lists and
//! manifests only, within the concurrency bound and the depth bound; a
//! failure ahead of time fails nothing that does not need it.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use warg_depsolve_names::PackageName;
use warg_depsolve_oci::OciSource;
use warg_depsolve_registry::{Hints, Publish, Source, SourceError};

fn pkg(s: &str) -> PackageName {
    s.parse().unwrap()
}

fn ver(s: &str) -> semver::Version {
    s.parse().unwrap()
}

/// A loopback proxy in front of the registry: records the request line of
/// every request, holds each for `delay`, and counts requests in flight
/// (from the request's arrival to its answer's first bytes).
struct Proxy {
    port: u16,
    recorder: Arc<Recorder>,
}

/// The proxy's [`Tap`].
struct Recorder {
    delay: Duration,
    log: Mutex<Vec<String>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Tap for Recorder {
    /// Requests of the connection not answered yet.
    type Connection = AtomicUsize;

    fn to_server(&self, pending: &AtomicUsize, chunk: &[u8]) {
        let head = String::from_utf8_lossy(chunk);
        let line = head.lines().next().unwrap_or("").to_string();
        if line.starts_with("GET ") || line.starts_with("HEAD ") {
            self.log.lock().unwrap().push(line);
            pending.fetch_add(1, Ordering::SeqCst);
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        }
        std::thread::sleep(self.delay);
    }

    fn to_client(&self, pending: &AtomicUsize, _chunk: &[u8]) {
        if pending
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |p| p.checked_sub(1))
            .is_ok()
        {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Proxy {
    fn start(upstream: u16, delay: Duration) -> Proxy {
        let recorder = Arc::new(Recorder {
            delay,
            log: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let addr = start_proxy(([127, 0, 0, 1], upstream).into(), recorder.clone());
        Proxy {
            port: addr.port(),
            recorder,
        }
    }

    /// The paths requested so far (the client's `/v2/` pings left out).
    fn paths(&self) -> Vec<String> {
        self.recorder
            .log
            .lock()
            .unwrap()
            .iter()
            .filter_map(|line| line.split_whitespace().nth(1).map(str::to_string))
            .filter(|p| p != "/v2/")
            .collect()
    }

    /// Waits until no request has come for 300 ms (at most 10 s).
    fn quiet(&self) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut seen = self.paths().len();
        loop {
            std::thread::sleep(Duration::from_millis(300));
            let now = self.paths().len();
            if now == seen || Instant::now() > deadline {
                return self.paths();
            }
            seen = now;
        }
    }

    /// A source reading the registry through this proxy.
    fn source(&self, concurrency: usize, prefetch_depth: u32) -> OciSource {
        let mut settings = warg_depsolve_oci::OciSettings::new(format!("127.0.0.1:{}", self.port));
        settings.plain_http = true;
        settings.concurrency = concurrency;
        settings.prefetch_depth = prefetch_depth;
        OciSource::new("proxied", settings).unwrap()
    }
}

/// A component importing each of `deps` (package, range) by reference.
fn component(deps: &[(&str, &str)]) -> Vec<u8> {
    let imports: String = deps
        .iter()
        .enumerate()
        .map(|(i, (package, range))| {
            format!(
                "(import \"dep{i}\" (external-id \"unlocked-dep=<{package}@{range}>\") (instance))\n"
            )
        })
        .collect();
    wat::parse_str(format!("(component\n{imports})")).unwrap()
}

/// A release to publish: package, version, and its dependencies (package,
/// range).
type Published = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
);

/// Publishes `releases` (package, version, dependencies); the layer
/// digests, by release.
fn publish(server: &RegistryServer, releases: &[Published]) -> HashMap<String, String> {
    let publisher = server.source("publish");
    let mut layers = HashMap::new();
    for (package, version, deps) in releases {
        let meta = publisher
            .publish(&pkg(package), &ver(version), &component(deps))
            .unwrap();
        layers.insert(format!("{package}@{version}"), meta.digest.to_oci());
    }
    layers
}

/// `test:c0` to `test:c5`, each release depending on the next package;
/// `test:c1` has a newer release out of `test:c0`'s range, depending on a
/// package nothing else names.
fn chain() -> Vec<Published> {
    vec![
        ("test:c0", "1.0.0", vec![("test:c1", "{>=1.0.0 <2.0.0}")]),
        ("test:c1", "1.0.0", vec![("test:c2", "*")]),
        ("test:c1", "1.1.0", vec![("test:c2", "*")]),
        ("test:c1", "2.0.0", vec![("test:elsewhere", "*")]),
        ("test:c2", "1.0.0", vec![("test:c3", "*")]),
        ("test:c3", "1.0.0", vec![("test:c4", "*"), ("test:c5", "*")]),
        ("test:c4", "1.0.0", vec![("test:c5", "*")]),
        ("test:c5", "1.0.0", vec![]),
        ("test:elsewhere", "1.0.0", vec![]),
    ]
}

fn manifest_of(package: &str, version: &str) -> String {
    let (ns, name) = package.split_once(':').unwrap();
    format!("/v2/{ns}/{name}/manifests/{version}")
}

fn tags_of(package: &str) -> String {
    let (ns, name) = package.split_once(':').unwrap();
    format!("/v2/{ns}/{name}/tags/list")
}

/// Whether `paths` has a request for `path` (query aside).
fn has(paths: &[String], path: &str) -> bool {
    paths.iter().any(|p| p.split('?').next() == Some(path))
}

/// One metadata read of the top of a chain reads the rest of its
/// newest-first closure ahead: each tag list and each chosen manifest
/// once, the release out of range never, no layer, never more requests at
/// once than the bound; the solver's later reads ask the registry for
/// nothing.
#[test]
fn read_ahead_follows_the_newest_first_closure_once_within_the_bound() {
    let server = RegistryServer::start();
    let layers = publish(&server, &chain());
    let proxy = Proxy::start(server.port(), Duration::from_millis(5));
    let source = proxy.source(2, 32);

    source.metadata(&pkg("test:c0"), &ver("1.0.0")).unwrap();
    let paths = proxy.quiet();
    for (package, version) in [
        ("test:c1", "1.1.0"),
        ("test:c2", "1.0.0"),
        ("test:c3", "1.0.0"),
        ("test:c4", "1.0.0"),
        ("test:c5", "1.0.0"),
    ] {
        assert!(has(&paths, &tags_of(package)), "{package}: {paths:#?}");
        assert!(
            has(&paths, &manifest_of(package, version)),
            "{package}@{version}: {paths:#?}"
        );
    }
    // Out of range: neither the release nor what it names.
    assert!(!has(&paths, &manifest_of("test:c1", "2.0.0")), "{paths:#?}");
    assert!(!has(&paths, &manifest_of("test:c1", "1.0.0")), "{paths:#?}");
    assert!(!has(&paths, &tags_of("test:elsewhere")), "{paths:#?}");
    // Nothing twice; no component bytes.
    let mut sorted = paths.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        paths.len(),
        "a request made twice: {paths:#?}"
    );
    // Our manifests carry the record: not even a config is read.
    assert!(!paths.iter().any(|p| p.contains("/blobs/")), "{paths:#?}");
    for layer in layers.values() {
        assert!(
            !paths.iter().any(|p| p.ends_with(layer.as_str())),
            "layer {layer} read ahead: {paths:#?}"
        );
    }
    let max = proxy.recorder.max_in_flight.load(Ordering::SeqCst);
    assert!(max <= 2, "{max} requests at once, bound 2");

    // What the solver asks next is answered from what was read ahead.
    for (package, version) in [
        ("test:c1", "1.1.0"),
        ("test:c2", "1.0.0"),
        ("test:c3", "1.0.0"),
        ("test:c4", "1.0.0"),
        ("test:c5", "1.0.0"),
    ] {
        source.versions(&pkg(package)).unwrap();
        source.metadata(&pkg(package), &ver(version)).unwrap();
    }
    assert_eq!(proxy.paths(), paths, "asked again after reading ahead");
}

/// `prefetch_depth` bounds how many levels are read ahead; 0 reads none.
#[test]
fn prefetch_depth_bounds_the_read_ahead() {
    let server = RegistryServer::start();
    publish(&server, &chain());
    let proxy = Proxy::start(server.port(), Duration::ZERO);

    let source = proxy.source(4, 2);
    source.metadata(&pkg("test:c0"), &ver("1.0.0")).unwrap();
    let paths = proxy.quiet();
    assert!(has(&paths, &manifest_of("test:c1", "1.1.0")), "{paths:#?}");
    assert!(has(&paths, &manifest_of("test:c2", "1.0.0")), "{paths:#?}");
    assert!(!has(&paths, &tags_of("test:c3")), "{paths:#?}");

    let before = proxy.paths().len();
    let source = proxy.source(4, 0);
    source.metadata(&pkg("test:c0"), &ver("1.0.0")).unwrap();
    let paths = proxy.quiet();
    // The manifest alone: it carries the record, nothing is read ahead.
    assert_eq!(
        paths[before..],
        [manifest_of("test:c0", "1.0.0")],
        "{paths:#?}"
    );
}

/// A hint about a release the solve will not choose reads ahead what that
/// release names; that a package it names does not exist fails nothing
/// that does not need it, and a caller that asks for it meets the missing
/// package itself, from the answer the read-ahead had (one request).
#[test]
fn a_failure_ahead_of_time_fails_nothing_that_does_not_need_it() {
    let server = RegistryServer::start();
    publish(
        &server,
        &[
            ("test:x", "1.0.0", vec![]),
            ("test:x", "2.0.0", vec![("test:missing", "*")]),
        ],
    );
    let proxy = Proxy::start(server.port(), Duration::ZERO);
    let source = proxy.source(4, 32);
    source.prefetch(&[(pkg("test:x"), Some(ver("2.0.0")))]);
    let paths = proxy.quiet();
    assert!(has(&paths, &tags_of("test:missing")), "{paths:#?}");

    let root = component(&[("test:x", "{<2.0.0}")]);
    let resolution = resolve_bytes(&source, "root", &root);
    let chosen: Vec<_> = resolution
        .packages
        .iter()
        .map(|p| format!("{}@{}", p.package, p.version))
        .collect();
    assert_eq!(chosen, ["test:x@1.0.0"]);

    match source.versions(&pkg("test:missing")) {
        Err(SourceError::PackageNotFound { package, .. }) => {
            assert_eq!(package, pkg("test:missing"))
        }
        other => panic!("{other:?}"),
    }
    // The read-ahead's answer is the caller's: not asked for again.
    let asked = proxy
        .paths()
        .iter()
        .filter(|p| p.split('?').next() == Some(&tags_of("test:missing")))
        .count();
    assert_eq!(asked, 1, "{:#?}", proxy.paths());
}
