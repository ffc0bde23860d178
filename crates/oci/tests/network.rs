//! Timeouts, retries, slow notices and network errors, against tiny HTTP
//! servers on loopback that misbehave on purpose: one that accepts
//! connections and never answers, one that answers 503 (a few times, or
//! always), one that answers 404 or 403, one that stalls in the middle of
//! a layer.
//!
//! Nothing here measures time: each test counts what the server saw and
//! what the source reported. A server never holds a connection longer
//! than 10 s, so a client that did not give up by itself fails the test
//! (its error is then not a timeout) instead of hanging it.

use std::error::Error as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use warg_depsolve_names::{Integrity, PackageName};
use warg_depsolve_oci::{OciSettings, OciSource};
use warg_depsolve_registry::{Hints, Source, SourceError};

/// What the server does with a request.
#[derive(Clone, Debug)]
enum Answer {
    /// Nothing: the connection stays open, unanswered.
    Silent,
    /// This status and JSON body.
    Status(u16, String),
    /// `200 OK` with the `Content-Length` of `body`, its first `sent`
    /// bytes, then nothing (the connection stays open).
    Stall { body: Vec<u8>, sent: usize },
}

/// Decides the answer to the `n`th request (from 1) for `path`, the
/// client's `/v2/` pings included.
type Handler = dyn Fn(&str, usize) -> Answer + Send + Sync;

struct Server {
    port: u16,
    stop: Arc<AtomicBool>,
    /// Every request's path, in order.
    requests: Arc<Mutex<Vec<String>>>,
    /// Request heads read.
    heads: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(handler: impl Fn(&str, usize) -> Answer + Send + Sync + 'static) -> Server {
        let handler: Arc<Handler> = Arc::new(handler);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let heads = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (stop, requests, heads) = (stop.clone(), requests.clone(), heads.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (handler, requests, heads, stop) = (
                        handler.clone(),
                        requests.clone(),
                        heads.clone(),
                        stop.clone(),
                    );
                    std::thread::spawn(move || serve(conn, &*handler, &requests, &heads, &stop));
                }
            })
        };
        Server {
            port,
            stop,
            requests,
            heads,
            thread: Some(thread),
        }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The requests other than the client's `/v2/` pings (which it sends
    /// before each request while it has no token), in order.
    fn requests(&self) -> Vec<String> {
        let all = self.requests.lock().unwrap();
        all.iter().filter(|p| *p != "/v2/").cloned().collect()
    }

    fn heads(&self) -> usize {
        self.heads.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(
    mut conn: TcpStream,
    handler: &Handler,
    requests: &Mutex<Vec<String>>,
    heads: &AtomicUsize,
    stop: &AtomicBool,
) {
    conn.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    // One request per connection (every answer closes it).
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let mut waited = 0;
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(_) if waited < 200 && !stop.load(Ordering::SeqCst) => waited += 1,
            Err(_) => return,
        }
    }
    heads.fetch_add(1, Ordering::SeqCst);
    let text = String::from_utf8_lossy(&head);
    let path = text.split_whitespace().nth(1).unwrap_or("").to_string();
    let n = {
        let mut seen = requests.lock().unwrap();
        seen.push(path.clone());
        seen.iter().filter(|p| **p == path).count()
    };
    let answer = handler(&path, n);
    let mut hold = |conn: &mut TcpStream| {
        // Until the client gives up (it closes the connection), the
        // server stops, or 10 s pass.
        for _ in 0..200 {
            match conn.read(&mut buf) {
                Ok(0) => return,
                _ if stop.load(Ordering::SeqCst) => return,
                _ => {}
            }
        }
    };
    match answer {
        Answer::Silent => hold(&mut conn),
        Answer::Status(code, body) => {
            let head = format!(
                "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(body.as_bytes());
        }
        Answer::Stall { body, sent } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/wasm\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(&body[..sent]);
            let _ = conn.flush();
            hold(&mut conn);
        }
    }
}

/// Notices a source sent.
type Notices = Arc<Mutex<Vec<String>>>;

/// A source for `server` with a 300 ms read timeout, 2 retries after
/// 20 ms and 40 ms, and notices after `slow_notice`, collected.
fn source(server: &Server, slow_notice: Duration) -> (OciSource, Notices) {
    let mut settings = OciSettings::new(server.host());
    settings.plain_http = true;
    settings.read_timeout = Duration::from_millis(300);
    settings.connect_timeout = Duration::from_millis(300);
    settings.retries = 2;
    settings.retry_backoff = Duration::from_millis(20);
    settings.slow_notice = slow_notice;
    let notices: Notices = Arc::default();
    let sink = notices.clone();
    let source = OciSource::new("flaky", settings)
        .unwrap()
        .with_notices(Arc::new(move |message| {
            sink.lock().unwrap().push(message.to_string())
        }));
    (source, notices)
}

fn pkg(s: &str) -> PackageName {
    s.parse().unwrap()
}

const TAGS: &str = "/v2/test/add/tags/list?n=1000";

fn tags() -> Answer {
    Answer::Status(
        200,
        r#"{"name":"test/add","tags":["1.0.0","1.1.0"]}"#.into(),
    )
}

fn status(code: u16) -> Answer {
    Answer::Status(code, format!("server says {code}"))
}

/// The error is a network failure after `attempts`, naming the registry,
/// its URL and `what`, with a cause whose text contains `cause` and is not
/// repeated in the message.
fn assert_network(err: &SourceError, server: &Server, attempts: u32, what: &str, cause: &str) {
    match err {
        SourceError::Network {
            source_name,
            location,
            attempts: a,
            ..
        } => {
            assert_eq!(source_name, "flaky");
            assert_eq!(*location, format!("http://{}", server.host()));
            assert_eq!(*a, attempts, "{err}");
        }
        other => panic!("not a network error: {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("registry `flaky`"), "{text}");
    assert!(text.contains(&server.host()), "{text}");
    assert!(text.contains(what), "{text}");
    let mut chain = Vec::new();
    let mut next = err.source();
    while let Some(cause) = next {
        chain.push(cause.to_string());
        next = cause.source();
    }
    assert!(
        chain.iter().any(|c| c.contains(cause)),
        "{cause:?} not in {chain:?}"
    );
    assert!(!text.contains(&chain[0]), "the cause is repeated in {text}");
}

#[test]
fn a_server_that_never_answers_times_out_after_bounded_attempts() {
    let server = Server::start(|_, _| Answer::Silent);
    let (source, notices) = source(&server, Duration::from_secs(60));
    let err = source.versions(&pkg("test:add")).unwrap_err();
    assert_network(
        &err,
        &server,
        3,
        "fetching the tag list of `test:add`",
        "no answer within 300 ms",
    );
    // One request per attempt, each abandoned unanswered: the `/v2/` ping
    // that opens it (oci-client waits for its answer, and ignores a
    // failure, before sending the request itself).
    assert_eq!(server.heads(), 3);
    assert!(server.requests().is_empty());
    assert!(notices.lock().unwrap().is_empty());
}

#[test]
fn a_slow_request_sends_one_notice_naming_registry_and_item() {
    let server = Server::start(|_, _| Answer::Silent);
    let (source, notices) = source(&server, Duration::from_millis(100));
    let err = source
        .release_digest(&pkg("test:add"), &"1.1.0".parse().unwrap())
        .unwrap()
        .unwrap_err();
    assert_network(
        &err,
        &server,
        3,
        "fetching the manifest of `test:add@1.1.0`",
        "no answer within 300 ms",
    );
    let notices = notices.lock().unwrap().clone();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(
        notices[0],
        format!(
            "waiting for registry `flaky` (http://{}): fetching the manifest of \
             `test:add@1.1.0`, no answer for 100 ms ...",
            server.host()
        )
    );
}

#[test]
fn server_errors_are_retried_until_an_answer() {
    let server = Server::start(|path, n| match path {
        TAGS if n <= 2 => status(503),
        TAGS => tags(),
        _ => status(404),
    });
    let (source, notices) = source(&server, Duration::from_secs(2));
    let versions = source.versions(&pkg("test:add")).unwrap().releases.to_vec();
    assert_eq!(versions.len(), 2);
    assert_eq!(server.requests(), [TAGS, TAGS, TAGS]);
    // Answered at once each time: nothing to notice.
    assert!(notices.lock().unwrap().is_empty());
}

#[test]
fn a_server_that_always_fails_is_given_up_after_bounded_attempts() {
    let server = Server::start(|_, _| status(503));
    let (source, _) = source(&server, Duration::from_secs(60));
    let err = source.versions(&pkg("test:add")).unwrap_err();
    assert_network(
        &err,
        &server,
        3,
        "fetching the tag list of `test:add`",
        "code: 503",
    );
    assert_eq!(server.requests(), [TAGS, TAGS, TAGS]);
    // With no retries allowed: one attempt.
    let server = Server::start(|_, _| status(500));
    let mut settings = source.settings().clone();
    settings.host = server.host();
    settings.retries = 0;
    let once = OciSource::new("flaky", settings).unwrap();
    let err = once.versions(&pkg("test:add")).unwrap_err();
    assert_network(&err, &server, 1, "tag list of `test:add`", "code: 500");
    assert_eq!(server.requests(), [TAGS]);
}

#[test]
fn client_errors_are_never_retried() {
    // 404 without an OCI error body, and with one: not found.
    for body in [
        "gone".to_string(),
        r#"{"errors":[{"code":"NAME_UNKNOWN","message":"no such repository"}]}"#.to_string(),
    ] {
        let server = Server::start(move |_, _| Answer::Status(404, body.clone()));
        let (source, _) = source(&server, Duration::from_secs(60));
        match source.versions(&pkg("test:add")).unwrap_err() {
            SourceError::PackageNotFound {
                source_name,
                package,
            } => {
                assert_eq!(source_name, "flaky");
                assert_eq!(package, pkg("test:add"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(server.requests(), [TAGS]);
    }
    // Another 4xx: a network error after one attempt.
    let server = Server::start(|_, _| status(403));
    let (source, _) = source(&server, Duration::from_secs(60));
    let err = source.versions(&pkg("test:add")).unwrap_err();
    assert_network(&err, &server, 1, "tag list of `test:add`", "code: 403");
    assert_eq!(server.requests(), [TAGS]);
}

#[test]
fn a_download_that_stalls_is_abandoned_and_tried_again() {
    let body = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/registry/test/add/1.1.0.wasm"),
    )
    .unwrap();
    let digest = Integrity::sha256(&body);
    let sent = body.len() / 2;
    let blob = format!("/v2/test/add/blobs/{}", digest.to_oci());
    let server = {
        let (body, blob) = (body.clone(), blob.clone());
        Server::start(move |path, _| {
            if path == blob {
                Answer::Stall {
                    body: body.clone(),
                    sent,
                }
            } else {
                status(404)
            }
        })
    };
    let (source, notices) = source(&server, Duration::from_millis(100));
    let err = source
        .fetch(&pkg("test:add"), &"1.0.0".parse().unwrap(), &digest)
        .unwrap_err();
    assert_network(
        &err,
        &server,
        3,
        &format!("downloading {} of `test:add@1.0.0`", digest.to_oci()),
        "no answer within 300 ms",
    );
    assert_eq!(server.requests(), [blob.clone(), blob.clone(), blob]);
    let notices = notices.lock().unwrap().clone();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0].contains("downloading"), "{notices:?}");
}

/// A prefetch that meets a silent registry, and the call that needs the
/// same answer: the call waits for the prefetch's attempts and shares its
/// failure instead of making its own. So does a call made right after (the
/// solver asks again when its fast path fails), until the read timeout
/// has passed.
#[test]
fn a_caller_waiting_on_a_failing_request_shares_its_failure() {
    let server = Server::start(|_, _| Answer::Silent);
    let (source, _) = source(&server, Duration::from_secs(60));
    source.prefetch(&[(pkg("test:add"), None)]);
    let err = source.versions(&pkg("test:add")).unwrap_err();
    assert_network(
        &err,
        &server,
        3,
        "fetching the tag list of `test:add`",
        "no answer within 300 ms",
    );
    assert_eq!(server.heads(), 3);
    // Right after: the same failure, nothing asked.
    let again = source.versions(&pkg("test:add")).unwrap_err();
    assert_network(&again, &server, 3, "tag list", "no answer within 300 ms");
    assert_eq!(server.heads(), 3);
    // Once the read timeout has passed, a call tries again.
    std::thread::sleep(Duration::from_millis(350));
    let err = source.versions(&pkg("test:add")).unwrap_err();
    assert_network(&err, &server, 3, "tag list", "no answer");
    assert_eq!(server.heads(), 6);
}
