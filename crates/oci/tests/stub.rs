//! The OCI source against a small misbehaving HTTP stub on loopback: the
//! failures a real server does not produce on demand (a layer whose bytes
//! do not match its digest, a connection cut in the middle of a layer) and
//! a slow server to watch the prefetch bound.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{files_under, Recorder, Reported};
use warg_depsolve_names::{Integrity, PackageName};
use warg_depsolve_oci::{OciSettings, OciSource};
use warg_depsolve_registry::{Cache, CachedSource, Hints, Source, SourceError};

/// How the stub serves the component layer.
#[derive(Clone, Copy, PartialEq)]
enum Layer {
    /// The right bytes.
    Good,
    /// Same length, one byte changed.
    Tampered,
    /// The full `Content-Length`, half the bytes, then the connection is
    /// closed (a server killed mid-transfer).
    CutOff,
}

struct Stub {
    port: u16,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// What the stub saw. A request is in flight from the moment its head is
/// read until just before its answer is written: a client that has its
/// answer can only find the request finished.
#[derive(Default)]
struct Counters {
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Requests other than the client's `/v2/` pings.
    requests: AtomicUsize,
    /// Answers written so far.
    responses: AtomicUsize,
    /// While set, every answer waits (at most 10 s, so that a client that
    /// blocks on an answer fails the test instead of hanging it).
    hold: AtomicBool,
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The one release every repository of the stub has: `1.0.0`.
fn component() -> Vec<u8> {
    std::fs::read(common::testdata().join("registry/test/add/1.1.0.wasm")).unwrap()
}

/// Serves repositories `test/*` with one tag `1.0.0` (and `latest`), whose
/// manifest has a Wasm config without our record and one layer, served as
/// `layer` says; every answer waits `delay`.
fn stub(layer: Layer, delay: Duration) -> Stub {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let counters = Arc::new(Counters::default());
    let bytes = component();
    let digest = Integrity::sha256(&bytes).to_oci();
    let config = format!(
        r#"{{"created":"2024-05-01T00:00:00Z","architecture":"wasm","os":"wasip2","layerDigests":["{digest}"]}}"#
    );
    let config_digest = Integrity::sha256(config.as_bytes()).to_oci();
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.wasm.config.v0+json","digest":"{config_digest}","size":{}}},"layers":[{{"mediaType":"application/wasm","digest":"{digest}","size":{}}}]}}"#,
        config.len(),
        bytes.len()
    );
    let thread = {
        let (stop, counters) = (stop.clone(), counters.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (bytes, digest, config, config_digest, manifest) = (
                    bytes.clone(),
                    digest.clone(),
                    config.clone(),
                    config_digest.clone(),
                    manifest.clone(),
                );
                let counters = counters.clone();
                std::thread::spawn(move || {
                    serve(
                        conn,
                        delay,
                        layer,
                        &bytes,
                        &digest,
                        &config,
                        &config_digest,
                        &manifest,
                        &counters,
                    );
                });
            }
        })
    };
    Stub {
        port,
        stop,
        counters,
        thread: Some(thread),
    }
}

#[allow(clippy::too_many_arguments)]
fn serve(
    mut conn: TcpStream,
    delay: Duration,
    layer: Layer,
    bytes: &[u8],
    digest: &str,
    config: &str,
    config_digest: &str,
    manifest: &str,
    counters: &Counters,
) {
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&request);
    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    if path != "/v2/" {
        counters.requests.fetch_add(1, Ordering::SeqCst);
    }
    let now = counters.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    counters.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let held_until = Instant::now() + Duration::from_secs(10);
    while counters.hold.load(Ordering::SeqCst) && Instant::now() < held_until {
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(delay);
    counters.in_flight.fetch_sub(1, Ordering::SeqCst);
    counters.responses.fetch_add(1, Ordering::SeqCst);
    let respond = |conn: &mut TcpStream, status: &str, ctype: &str, body: &[u8]| {
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = conn.write_all(head.as_bytes());
        let _ = conn.write_all(body);
    };
    let json = "application/json";
    let segments: Vec<&str> = path.trim_start_matches("/v2/").split('/').collect();
    if path == "/v2/" {
        respond(&mut conn, "200 OK", json, b"{}");
    } else if path.contains("/tags/list") {
        let repo = path
            .trim_start_matches("/v2/")
            .split("/tags/list")
            .next()
            .unwrap();
        let body = format!(r#"{{"name":"{repo}","tags":["latest","1.0.0"]}}"#);
        respond(&mut conn, "200 OK", json, body.as_bytes());
    } else if segments.len() >= 2 && segments[segments.len() - 2] == "manifests" {
        respond(
            &mut conn,
            "200 OK",
            "application/vnd.oci.image.manifest.v1+json",
            manifest.as_bytes(),
        );
    } else if path.ends_with(config_digest) {
        respond(&mut conn, "200 OK", json, config.as_bytes());
    } else if path.ends_with(digest) {
        match layer {
            Layer::Good => respond(&mut conn, "200 OK", "application/wasm", bytes),
            Layer::Tampered => {
                let mut bad = bytes.to_vec();
                let last = bad.len() - 1;
                bad[last] ^= 0xff;
                respond(&mut conn, "200 OK", "application/wasm", &bad);
            }
            Layer::CutOff => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/wasm\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    bytes.len()
                );
                let _ = conn.write_all(head.as_bytes());
                let _ = conn.write_all(&bytes[..bytes.len() / 2]);
                let _ = conn.flush();
                let _ = conn.shutdown(std::net::Shutdown::Both);
            }
        }
    } else {
        respond(
            &mut conn,
            "404 Not Found",
            json,
            br#"{"errors":[{"code":"NOT_FOUND","message":"no such thing"}]}"#,
        );
    }
}

fn source(stub: &Stub, concurrency: usize) -> OciSource {
    let mut settings = OciSettings::new(format!("127.0.0.1:{}", stub.port));
    settings.plain_http = true;
    settings.concurrency = concurrency;
    OciSource::new("stubbed", settings).unwrap()
}

fn pkg(s: &str) -> PackageName {
    s.parse().unwrap()
}

/// Nothing, whole or partial, in the cache's content store.
fn assert_no_content(cache: &std::path::Path) {
    let files = files_under(cache);
    let content: Vec<_> = files
        .iter()
        .filter_map(|p| p.strip_prefix(cache).ok())
        // Paths relative to the cache: the temporary directory holding it
        // is itself named `.tmp...`.
        .filter(|p| p.starts_with("sha256") || p.to_string_lossy().contains(".tmp"))
        .collect();
    assert!(content.is_empty(), "{content:?}");
}

#[test]
fn the_stub_serves_a_good_layer() {
    let stub = stub(Layer::Good, Duration::ZERO);
    let source = source(&stub, 4);
    let meta = source
        .metadata(&pkg("test:add"), &"1.0.0".parse().unwrap())
        .unwrap();
    assert_eq!(meta.digest, Integrity::sha256(&component()));
    assert_eq!(
        &*source
            .fetch(&pkg("test:add"), &meta.version, &meta.digest)
            .unwrap(),
        &component()[..]
    );
}

/// Downloads are reported to the progress the caller gave, and only there:
/// one finished report with every byte for a good layer (the `fetch`
/// after `metadata` reuses its bytes), one abandoned report per attempt
/// for a layer cut short.
#[test]
fn downloads_are_reported_to_the_callers_progress() {
    let size = component().len() as u64;
    let good = stub(Layer::Good, Duration::ZERO);
    let recorder = Recorder::default();
    let version: semver::Version = "1.0.0".parse().unwrap();
    let reporting = source(&good, 4).with_progress(Arc::new(recorder.clone()));
    let meta = reporting.metadata(&pkg("test:add"), &version).unwrap();
    reporting
        .fetch(&pkg("test:add"), &version, &meta.digest)
        .unwrap();
    let reported = |item: &str, received, finished| Reported {
        registry: "stubbed".into(),
        item: item.into(),
        total: Some(size),
        received,
        finished: Some(finished),
    };
    assert_eq!(recorder.reports(), [reported("test:add@1.0.0", size, true)]);

    let cut = stub(Layer::CutOff, Duration::ZERO);
    let recorder = Recorder::default();
    let reporting = source(&cut, 4).with_progress(Arc::new(recorder.clone()));
    reporting
        .fetch(&pkg("test:add"), &version, &Integrity::sha256(&component()))
        .unwrap_err();
    let reports = recorder.reports();
    assert_eq!(reports.len(), 3, "{reports:?}");
    for report in reports {
        assert!(report.received < size, "{report:?}");
        assert_eq!(report, reported("test:add@1.0.0", report.received, false));
    }
}

#[test]
fn a_layer_that_does_not_match_its_digest_is_refused_and_not_cached() {
    let stub = stub(Layer::Tampered, Duration::ZERO);
    let cache = tempfile::tempdir().unwrap();
    let cached = CachedSource::new(source(&stub, 4), Cache::new(cache.path()));
    let package = pkg("test:add");
    let version = "1.0.0".parse().unwrap();
    let expected = Integrity::sha256(&component());
    // The config holds no record, so the metadata needs the layer: refused.
    for err in [
        cached.metadata(&package, &version).unwrap_err(),
        cached.fetch(&package, &version, &expected).unwrap_err(),
    ] {
        match &err {
            SourceError::DigestMismatch {
                source_name,
                package: p,
                version: v,
                expected: e,
                actual,
                ..
            } => {
                assert_eq!(source_name, "stubbed");
                assert_eq!((p, v.as_ref()), (&package, Some(&version)), "{err}");
                assert_eq!(*e, expected.to_oci());
                assert_ne!(actual, e);
            }
            other => panic!("{other:?}"),
        }
    }
    assert_no_content(cache.path());
}

#[test]
fn a_connection_cut_mid_layer_is_an_error_naming_registry_and_package() {
    let stub = stub(Layer::CutOff, Duration::ZERO);
    let cache = tempfile::tempdir().unwrap();
    let cached = CachedSource::new(source(&stub, 4), Cache::new(cache.path()));
    let err = cached
        .fetch(
            &pkg("test:add"),
            &"1.0.0".parse().unwrap(),
            &Integrity::sha256(&component()),
        )
        .unwrap_err();
    let text = err.to_string();
    // A cut download may pass: tried again, as many times as the settings
    // allow, each time from the start.
    assert!(
        matches!(err, SourceError::Network { attempts: 3, .. }),
        "{err:?}"
    );
    assert_eq!(stub.counters.requests.load(Ordering::SeqCst), 3);
    assert!(text.contains("registry `stubbed`"), "{text}");
    assert!(text.contains("test:add"), "{text}");
    let cause = std::error::Error::source(&err).unwrap().to_string();
    assert!(cause.contains("broke off after"), "{cause}");
    assert_no_content(cache.path());
}

#[test]
fn prefetch_returns_at_once_and_keeps_to_its_bound() {
    let stub = stub(Layer::Good, Duration::from_millis(20));
    let source = source(&stub, 2);
    let packages: Vec<PackageName> = (0..6).map(|i| pkg(&format!("test:p{i}"))).collect();
    let wanted: Vec<_> = packages.iter().map(|p| (p.clone(), None)).collect();
    // Every answer is held back: a prefetch that waited for one could not
    // return before the hold ends (10 s), and would find answers written.
    stub.counters.hold.store(true, Ordering::SeqCst);
    source.prefetch(&wanted);
    let answered = stub.counters.responses.load(Ordering::SeqCst);
    stub.counters.hold.store(false, Ordering::SeqCst);
    assert_eq!(answered, 0, "prefetch waited for {answered} answers");
    // The calls that follow wait for what is in flight rather than asking
    // again: per package one tag list, one manifest and its config (and
    // the client's `/v2/` pings, not counted).
    for p in &packages {
        assert_eq!(source.versions(p).unwrap().releases.len(), 1);
        source
            .release_digest(p, &"1.0.0".parse().unwrap())
            .unwrap()
            .unwrap();
    }
    let max = stub.counters.max_in_flight.load(Ordering::SeqCst);
    assert!(max <= 2, "{max} requests at once, bound 2");
    let requests = stub.counters.requests.load(Ordering::SeqCst);
    assert_eq!(requests, 6 * 3, "requests for 6 packages");
}
