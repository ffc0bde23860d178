//! [`OciSource`]: one OCI registry behind the [`Source`] trait.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::future::Future;
use std::hash::Hash;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::StreamExt;
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use semver::Version;
use tokio::runtime::Runtime;
use tokio::sync::{OnceCell, Semaphore};
use tokio::time::Instant;
use warg_depsolve_names::{DepRange, DepRef, ImportClass, Integrity, PackageName};
use warg_depsolve_registry::cache::Warn;
use warg_depsolve_registry::progress::{Download, Progress};
use warg_depsolve_registry::{
    Hints, Listing, Publish, Release, ReleaseMetadata, Source, SourceError, Stamp, Verified,
};

use crate::artifact::{
    annotated_metadata, recorded_metadata, Artifact, Recorded, CONFIG_MEDIA_TYPE, LAYER_MEDIA_TYPE,
};
use crate::credentials::{self, bearer_variable, Credentials, Origin};
use crate::direct::Direct;
use crate::settings::OciSettings;

/// Tags asked for per page when listing.
const TAG_PAGE: usize = 1000;
/// At most this many tag lists and manifests are read ahead of the solver
/// (see [`OciSettings::prefetch_depth`]) by one source: the newest-first
/// closure of a solution is read, a registry is never crawled.
pub const READ_AHEAD_LIMIT: usize = 4096;
/// The user agent of every request.
const USER_AGENT: &str = concat!("warg-depsolve/", env!("CARGO_PKG_VERSION"));
/// How much longer than the source's read timeout the HTTP client's own
/// read timeout is.
const CLIENT_READ_TIMEOUT_MARGIN: Duration = Duration::from_secs(1);

/// What a release's manifest says.
#[derive(Debug)]
struct ManifestInfo {
    /// The component layer.
    layer: Integrity,
    /// Its size, as the manifest states it.
    size: u64,
    /// The dependencies, interface exports and types our config records,
    /// if any.
    recorded: Option<Recorded>,
}

/// Values computed once, shared by concurrent callers: the first caller
/// computes, the others wait for it.
///
/// A failure is not remembered, with two exceptions: a network failure
/// ([`SourceError::Network`], after every attempt the settings allow) and
/// the registry's word that a package or release does not exist
/// ([`SourceError::PackageNotFound`], [`SourceError::VersionNotFound`])
/// are the answer of every caller that was waiting for it, and of every
/// caller that comes within `hold` after it; later callers try again. So a
/// registry that does not answer is waited for once per request, not once
/// per caller (a prefetch, then the call that needed its answer; the
/// solver's fast path, then pubgrub asking again), and a package the
/// read-ahead found missing is not asked for again by the solve that
/// needs it.
struct Memo<K, V> {
    cells: Mutex<HashMap<K, Arc<Cell<V>>>>,
    hold: Duration,
}

/// One memoized value.
struct Cell<V> {
    value: OnceCell<V>,
    failed: Mutex<Failed>,
}

/// The failures of one memoized value's computations.
#[derive(Default)]
struct Failed {
    /// How many computations failed so far.
    count: u64,
    /// The last one's failure, when it is one that is shared (see
    /// [`Memo`]), and when it ended.
    shared: Option<(SourceError, Instant)>,
}

impl<V> Default for Cell<V> {
    fn default() -> Self {
        Cell {
            value: OnceCell::new(),
            failed: Mutex::default(),
        }
    }
}

impl<V> Cell<V> {
    fn get(&self) -> Option<&V> {
        self.value.get()
    }

    fn failed(&self) -> std::sync::MutexGuard<'_, Failed> {
        self.failed.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A copy of `e` for another caller, when it is a network failure (whose
/// cause is shared) or a package or release not found.
fn share(e: &SourceError) -> Option<SourceError> {
    match e {
        SourceError::PackageNotFound {
            source_name,
            package,
        } => Some(SourceError::PackageNotFound {
            source_name: source_name.clone(),
            package: package.clone(),
        }),
        SourceError::VersionNotFound {
            source_name,
            package,
            version,
        } => Some(SourceError::VersionNotFound {
            source_name: source_name.clone(),
            package: package.clone(),
            version: version.clone(),
        }),
        SourceError::Network {
            source_name,
            location,
            what,
            attempts,
            cause,
        } => Some(SourceError::Network {
            source_name: source_name.clone(),
            location: location.clone(),
            what: what.clone(),
            attempts: *attempts,
            cause: cause.clone(),
        }),
        _ => None,
    }
}

impl<K: Eq + Hash + Clone, V: Clone> Memo<K, V> {
    /// Network failures are the answer for `hold` after they happen.
    fn new(hold: Duration) -> Self {
        Memo {
            cells: Mutex::new(HashMap::new()),
            hold,
        }
    }

    fn cell(&self, key: &K) -> Arc<Cell<V>> {
        self.cells
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.clone())
            .or_default()
            .clone()
    }

    async fn get_or_try<F, Fut>(&self, key: &K, f: F) -> Result<V, SourceError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, SourceError>>,
    {
        let cell = self.cell(key);
        if let Some(value) = cell.get() {
            return Ok(value.clone());
        }
        let seen = cell.failed().count;
        cell.value
            .get_or_try_init(|| async {
                // A shared failure of a computation that was in flight
                // when this caller came, or that ended a moment ago.
                {
                    let failed = cell.failed();
                    if let Some((e, at)) = &failed.shared {
                        if failed.count > seen || at.elapsed() < self.hold {
                            if let Some(e) = share(e) {
                                return Err(e);
                            }
                        }
                    }
                }
                let result = f().await;
                if let Err(e) = &result {
                    let mut failed = cell.failed();
                    failed.count += 1;
                    failed.shared = share(e).map(|e| (e, Instant::now()));
                }
                result
            })
            .await
            .cloned()
    }

    /// Whether `key` was asked for (its value may still be in flight).
    fn asked(&self, key: &K) -> bool {
        self.cells
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(key)
    }

    fn forget(&self, key: &K) {
        self.cells
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    fn set(&self, key: K, value: V) {
        let cell = Arc::new(Cell {
            value: OnceCell::new_with(Some(value)),
            failed: Mutex::default(),
        });
        self.cells
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, cell);
    }
}

/// The state shared with background (prefetch) tasks.
struct Inner {
    name: String,
    settings: OciSettings,
    client: Client,
    /// Plain reads, for a registry that asks for no credentials (see
    /// [`Direct`]); `None` with a bearer token (the client sends it
    /// without probing) or when no HTTP client could be made.
    direct: Option<Direct>,
    auth: RegistryAuth,
    /// Where `auth` came from, for the message of a refusal.
    credentials: Origin,
    limit: Semaphore,
    /// Where downloads are reported; nowhere by default.
    progress: Option<Arc<dyn Progress>>,
    /// Where notices go (a request slow to be answered).
    notices: Option<Warn>,
    versions: Memo<PackageName, Arc<[Release]>>,
    manifests: Memo<(PackageName, Version), Arc<ManifestInfo>>,
    /// For each release whose dependencies were read ahead, the shallowest
    /// level it was met at (0: asked for by a caller).
    read_ahead: Mutex<HashMap<(PackageName, Version), u32>>,
    /// Tag lists and manifests read ahead so far (at most
    /// [`READ_AHEAD_LIMIT`]).
    read_ahead_count: AtomicUsize,
    /// Layers downloaded (and checked) to read metadata, kept for the
    /// `fetch` that usually follows, so a layer is downloaded and hashed
    /// once.
    downloaded: Mutex<HashMap<Integrity, Verified>>,
}

/// An OCI registry as a package [`Source`].
///
/// Package `ns:name` is the repository `<namespacePrefix>ns/name`; each
/// release is a Wasm OCI artifact tagged with its version (see
/// [`crate::artifact`]):
///
/// - [`Source::versions`] lists the repository's tags; only tags that are
///   semantic versions in canonical form count, others (`latest`, `v1`,
///   `1.0`) are ignored. A missing repository is
///   [`SourceError::PackageNotFound`]. Every release is reported not
///   yanked: OCI has no yank (see [`Publish::set_yanked`]). Each source lists
///   a package's tags once (and again after publishing to it): it is a
///   snapshot for one run, and a new source sees newer tags.
/// - [`Hints::release_digest`] reads the manifest only;
///   [`Source::metadata`] reads it and its config and, when the config does
///   not record the dependencies, downloads and scans the layer (kept for
///   the following [`Source::fetch`]).
/// - [`Source::fetch`] downloads a layer by digest, reporting to the
///   [`Progress`] given to [`OciSource::with_progress`], and checks it
///   against the digest.
/// - [`Hints::prefetch`] starts version-list and manifest requests in the
///   background (at most `concurrency` at once) and returns at once.
/// - Reading ahead: once a release's manifest is read for a caller, the
///   dependencies its config records are read ahead of the solver, level
///   by level as answers arrive: each one's tag list, then the manifest of
///   its newest release in range, then that release's dependencies, down
///   to [`OciSettings::prefetch_depth`] levels and at most
///   [`READ_AHEAD_LIMIT`] reads. Tag lists and manifests only, never a
///   layer; each is read once (a caller that asks for one in flight
///   waits for it), within the same `concurrency` bound; a failure ahead
///   of time is dropped, and met again only by a caller that needs that
///   answer.
/// - [`Publish::publish`] pushes a Wasm OCI artifact unless the tag exists:
///   the same layer again is a no-op, another is
///   [`SourceError::AlreadyPublished`].
///
/// Every request is bounded by the settings' `connect_timeout` and
/// `read_timeout`: a tag list page or a manifest (with its config) that
/// has not arrived within the read timeout is abandoned, and so is a
/// download that receives nothing for that long. A failure that may pass
/// (HTTP 5xx, a connection refused, reset or cut, a timeout; never a 4xx)
/// is tried again `retries` times, after `retry_backoff`, then twice that,
/// and so on; publishing is tried once. A request that has had no answer
/// for `slow_notice` sends one notice to the sink given to
/// [`OciSource::with_notices`]. A request that fails for good is a
/// [`SourceError::Network`] naming the registry, its URL, what was being
/// fetched and the number of attempts, with the last failure as its
/// source (a missing package or version, a digest mismatch and refused
/// credentials keep their own errors). That failure is also the answer of
/// the callers that were waiting for the same tag list or manifest, and of
/// those that ask for it within `read_timeout` after: a registry that does
/// not answer is waited for once per request, not once per caller.
///
/// The trait is synchronous; the source holds its own tokio runtime and
/// runs every request on it, so it may be called from any thread,
/// including from inside another async runtime (the calling thread blocks).
pub struct OciSource {
    inner: Arc<Inner>,
    runtime: Arc<Runtime>,
}

impl std::fmt::Debug for OciSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OciSource")
            .field("name", &self.inner.name)
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

/// A runtime for OCI sources: two worker threads are plenty for I/O.
pub(crate) fn new_runtime() -> Result<Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("warg-depsolve-oci")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the OCI client's runtime: {e}"))
}

impl OciSource {
    /// A source named `name` (as configuration and lock files call it) for
    /// the registry `settings` describe, with its own runtime.
    pub fn new(name: impl Into<String>, settings: OciSettings) -> Result<Self, SourceError> {
        let runtime = new_runtime().map_err(SourceError::Other)?;
        Self::with_runtime(name, settings, Arc::new(runtime))
    }

    /// [`OciSource::new`] on a runtime shared with other sources.
    pub fn with_runtime(
        name: impl Into<String>,
        settings: OciSettings,
        runtime: Arc<Runtime>,
    ) -> Result<Self, SourceError> {
        // reqwest is built without a default TLS crypto provider, so that
        // neither OpenSSL nor aws-lc is compiled: install ring's (a no-op if
        // the process already chose one).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let config = ClientConfig {
            protocol: if settings.plain_http {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            accept_invalid_certificates: settings.accept_invalid_certificates,
            extra_root_certificates: settings
                .extra_root_certificates
                .iter()
                .map(|(pem, data)| Certificate {
                    encoding: if *pem {
                        CertificateEncoding::Pem
                    } else {
                        CertificateEncoding::Der
                    },
                    data: data.clone(),
                })
                .collect(),
            connect_timeout: Some(settings.connect_timeout),
            // The source's own waits enforce the read timeout (and say so
            // in their errors); the client's, a little longer, is the
            // backstop for what the source does not wait on with a
            // deadline (publishing).
            read_timeout: Some(settings.read_timeout + CLIENT_READ_TIMEOUT_MARGIN),
            user_agent: USER_AGENT,
            ..ClientConfig::default()
        };
        let Credentials {
            auth,
            origin: credentials,
        } = credentials::find(&settings);
        let direct = match auth {
            RegistryAuth::Bearer(_) => None,
            _ => Direct::new(
                &settings,
                settings.read_timeout + CLIENT_READ_TIMEOUT_MARGIN,
                USER_AGENT,
            ),
        };
        let name = name.into();
        let inner = Inner {
            client: Client::new(config),
            direct,
            auth,
            credentials,
            limit: Semaphore::new(settings.concurrency),
            progress: None,
            notices: None,
            versions: Memo::new(settings.read_timeout),
            manifests: Memo::new(settings.read_timeout),
            read_ahead: Mutex::new(HashMap::new()),
            read_ahead_count: AtomicUsize::new(0),
            downloaded: Mutex::new(HashMap::new()),
            name,
            settings,
        };
        Ok(OciSource {
            inner: Arc::new(inner),
            runtime,
        })
    }

    /// The same source with its downloads reported to `progress` (a bar
    /// on a terminal, for the command line). The source draws nothing
    /// itself; without one, downloads are not reported.
    pub fn with_progress(mut self, progress: Arc<dyn Progress>) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.progress = Some(progress),
            None => unreachable!("a new source is not shared yet"),
        }
        self
    }

    /// The same source with its notices sent to `notices`: one line per
    /// request that has had no answer for
    /// [`OciSettings::slow_notice`] (``waiting for registry `ghcr.io`
    /// (https://ghcr.io): fetching the tag list of `acme:kv`, no answer for
    /// 5 s``). The source prints nothing itself; without a sink, notices
    /// are dropped.
    pub fn with_notices(mut self, notices: Warn) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.notices = Some(notices),
            None => unreachable!("a new source is not shared yet"),
        }
        self
    }

    /// The settings it was made with.
    pub fn settings(&self) -> &OciSettings {
        &self.inner.settings
    }

    /// The OCI reference of `package` at `tag`.
    pub fn reference(&self, package: &PackageName, tag: &str) -> Reference {
        self.inner.reference(package, tag)
    }

    /// Runs `fut` on the source's runtime and waits for it, from any
    /// thread (also from inside another runtime).
    fn run<T: Send + 'static>(
        &self,
        fut: impl Future<Output = Result<T, SourceError>> + Send + 'static,
    ) -> Result<T, SourceError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.runtime.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv().unwrap_or_else(|_| {
            Err(SourceError::Other(format!(
                "registry `{}`: the OCI client's runtime stopped",
                self.inner.name
            )))
        })
    }
}

/// Why one attempt at a request failed.
#[derive(Debug)]
enum Failure {
    /// The client's error: an answer with an error status, a connection
    /// that could not be made or broke, a body that could not be read.
    Client(OciDistributionError),
    /// No answer within the read timeout.
    NoAnswer(NoAnswer),
    /// A download that broke off part way.
    BrokeOff(BrokeOff),
    /// Downloaded bytes that do not hash to their digest.
    Digest { expected: String, actual: String },
}

impl Failure {
    /// Whether trying again may help: a server error (5xx), a connection
    /// refused, reset or cut, no answer in time. Never a 4xx answer.
    fn is_transient(&self) -> bool {
        match self {
            Failure::Client(OciDistributionError::ServerError { code, .. }) => {
                (500..600).contains(code)
            }
            Failure::Client(OciDistributionError::RequestError(e)) => {
                e.is_timeout() || e.is_connect() || e.is_request() || e.is_body()
            }
            Failure::Client(OciDistributionError::IoError(e)) => is_transient_io(e),
            Failure::Client(_) | Failure::Digest { .. } => false,
            Failure::NoAnswer(_) | Failure::BrokeOff(_) => true,
        }
    }
}

fn is_transient_io(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused
            | ConnectionReset
            | ConnectionAborted
            | BrokenPipe
            | UnexpectedEof
            | TimedOut
            | Interrupted
    )
}

/// No answer within the read timeout (a cause of
/// [`SourceError::Network`]).
#[derive(Debug)]
struct NoAnswer(Duration);

impl std::fmt::Display for NoAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no answer within {}", seconds(self.0))
    }
}

impl StdError for NoAnswer {}

/// A download that broke off part way (a cause of
/// [`SourceError::Network`]); the I/O error is its source.
#[derive(Debug)]
struct BrokeOff {
    received: usize,
    cause: std::io::Error,
}

impl std::fmt::Display for BrokeOff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the download broke off after {} bytes", self.received)
    }
}

impl StdError for BrokeOff {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.cause)
    }
}

/// A duration for messages: `300 ms`, `5 s`, `2.5 s`.
fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{} s", d.as_secs_f64())
    }
}

/// Watches one request for its notice: sent once, when the request has had
/// no answer (downloading: no data) for the settings' `slow_notice`.
struct Watch<'a> {
    inner: &'a Inner,
    /// What the request does (``fetching the tag list of `acme:kv` ``).
    what: &'a str,
    /// Since when nothing has arrived.
    quiet_since: Mutex<Instant>,
    sent: AtomicBool,
}

impl<'a> Watch<'a> {
    /// Starts watching now.
    fn new(inner: &'a Inner, what: &'a str) -> Self {
        Watch {
            inner,
            what,
            quiet_since: Mutex::new(Instant::now()),
            sent: AtomicBool::new(false),
        }
    }

    /// Waits for `fut`, at most the read timeout.
    async fn wait<T>(&self, fut: impl Future<Output = T>) -> Result<T, Failure> {
        let limit = self.inner.settings.read_timeout;
        self.watch(tokio::time::timeout(limit, fut))
            .await
            .map_err(|_| Failure::NoAnswer(NoAnswer(limit)))
    }

    /// Waits for `fut`, sending the notice if the quiet time reaches
    /// `slow_notice` meanwhile.
    async fn watch<T>(&self, fut: impl Future<Output = T>) -> T {
        let mut fut = pin!(fut);
        if self.inner.notices.is_none() || self.sent.load(Ordering::SeqCst) {
            return fut.await;
        }
        let due = *self.quiet_since.lock().unwrap_or_else(|e| e.into_inner())
            + self.inner.settings.slow_notice;
        match select(fut.as_mut(), pin!(tokio::time::sleep_until(due))).await {
            Either::Left((out, _)) => return out,
            Either::Right(((), _)) => self.notify(),
        }
        fut.await
    }

    /// Something arrived: the quiet time starts again.
    fn progressed(&self) {
        *self.quiet_since.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    fn notify(&self) {
        if self.sent.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Some(sink) = &self.inner.notices {
            sink(&format!(
                "waiting for registry `{}` ({}): {}, no answer for {} ...",
                self.inner.name,
                self.inner.settings.url(),
                self.what,
                seconds(self.inner.settings.slow_notice)
            ));
        }
    }
}

/// A download's report, if the caller asked for reports: the one
/// [`Download`] of one attempt.
struct Bar(Option<Box<dyn Download>>);

impl Bar {
    fn received(&mut self, bytes: u64) {
        if let Some(download) = &mut self.0 {
            download.received(bytes);
        }
    }

    fn finish(self) {
        if let Some(download) = self.0 {
            download.finish();
        }
    }

    fn abandon(self) {
        if let Some(download) = self.0 {
            download.abandon();
        }
    }
}

impl Inner {
    /// Where this registry's credentials can be given, for a refusal.
    fn remedy(&self) -> String {
        format!(
            "set `auth` in `[registry.\"{}\".oci]` or ${}, or log in with `docker login {}`",
            self.name,
            bearer_variable(&self.settings.host),
            self.settings.host
        )
    }

    fn reference(&self, package: &PackageName, tag: &str) -> Reference {
        Reference::with_tag(
            self.settings.host.clone(),
            self.settings
                .repository(package.namespace(), package.name()),
            tag.to_string(),
        )
    }

    /// Runs `attempt` until it succeeds, fails for good, or has been made
    /// `1 + retries` times, pausing `retry_backoff` before the first retry
    /// and twice as long before each next one. A failure comes with the
    /// number of attempts made.
    async fn request<T, Fut>(&self, mut attempt: impl FnMut() -> Fut) -> Result<T, (Failure, u32)>
    where
        Fut: Future<Output = Result<T, Failure>>,
    {
        let mut attempts = 0;
        let mut pause = self.settings.retry_backoff;
        loop {
            attempts += 1;
            match attempt().await {
                Ok(value) => return Ok(value),
                Err(failure) if failure.is_transient() && attempts <= self.settings.retries => {
                    tokio::time::sleep(pause).await;
                    pause = pause.saturating_mul(2);
                }
                Err(failure) => return Err((failure, attempts)),
            }
        }
    }

    /// The error for a request about `package` (at `version`, if it was
    /// about one release) that failed for good while doing `what`: a
    /// missing package or version, a digest mismatch, refused credentials,
    /// or else [`SourceError::Network`] with the last failure as its cause.
    fn failed(
        &self,
        (failure, attempts): (Failure, u32),
        what: &str,
        package: &PackageName,
        version: Option<&Version>,
    ) -> SourceError {
        let item = match version {
            Some(v) => format!("{package}@{v}"),
            None => package.to_string(),
        };
        let cause: Arc<dyn StdError + Send + Sync> = match failure {
            Failure::Client(e) => match self.client_error(e, package, version, &item) {
                Ok(error) => return error,
                Err(e) => Arc::new(e),
            },
            Failure::Digest { expected, actual } => {
                return SourceError::DigestMismatch {
                    source_name: self.name.clone(),
                    package: package.clone(),
                    version: version.cloned(),
                    path: None,
                    expected,
                    actual,
                }
            }
            Failure::NoAnswer(e) => Arc::new(e),
            Failure::BrokeOff(e) => Arc::new(e),
        };
        SourceError::Network {
            source_name: self.name.clone(),
            location: self.settings.url(),
            what: what.to_string(),
            attempts,
            cause,
        }
    }

    /// What a client error about `item` means when it is not a network
    /// failure (a missing package or version, a digest mismatch, refused
    /// credentials); the error itself when it is one.
    fn client_error(
        &self,
        e: OciDistributionError,
        package: &PackageName,
        version: Option<&Version>,
        item: &str,
    ) -> Result<SourceError, OciDistributionError> {
        let package_not_found = || SourceError::PackageNotFound {
            source_name: self.name.clone(),
            package: package.clone(),
        };
        let not_found = || match version {
            Some(v) => SourceError::VersionNotFound {
                source_name: self.name.clone(),
                package: package.clone(),
                version: v.clone(),
            },
            None => package_not_found(),
        };
        match &e {
            OciDistributionError::RegistryError { envelope, .. } => {
                let has = |code: OciErrorCode| envelope.errors.iter().any(|e| e.code == code);
                if has(OciErrorCode::NameUnknown) {
                    Ok(package_not_found())
                } else if has(OciErrorCode::ManifestUnknown) || has(OciErrorCode::NotFound) {
                    Ok(not_found())
                } else {
                    Err(e)
                }
            }
            OciDistributionError::ServerError { code: 404, .. }
            | OciDistributionError::ImageManifestNotFoundError(_) => Ok(not_found()),
            OciDistributionError::DigestError(
                oci_client::errors::DigestError::VerificationError { expected, actual },
            ) => Ok(SourceError::DigestMismatch {
                source_name: self.name.clone(),
                package: package.clone(),
                version: version.cloned(),
                path: None,
                expected: expected.clone(),
                actual: actual.clone(),
            }),
            OciDistributionError::UnauthorizedError { .. }
            | OciDistributionError::AuthenticationFailure(_) => Ok(SourceError::Unauthorized {
                source_name: self.name.clone(),
                location: self.settings.url(),
                what: format!("reading `{item}`"),
                credentials: self.credentials.to_string(),
                remedy: self.remedy(),
                cause: Box::new(e),
            }),
            _ => Err(e),
        }
    }

    async fn versions(
        self: &Arc<Self>,
        package: &PackageName,
    ) -> Result<Arc<[Release]>, SourceError> {
        let this = self.clone();
        self.versions
            .get_or_try(package, || async move { this.list_versions(package).await })
            .await
    }

    async fn list_versions(&self, package: &PackageName) -> Result<Arc<[Release]>, SourceError> {
        let reference = self.reference(package, "latest");
        let what = format!("fetching the tag list of `{package}`");
        let mut versions = Vec::new();
        let mut last: Option<String> = None;
        loop {
            let page = {
                let _permit = self.limit.acquire().await;
                let watch = Watch::new(self, &what);
                let (watch, reference, last) = (&watch, &reference, last.as_deref());
                self.request(move || async move {
                    watch
                        .wait(async {
                            match &self.direct {
                                Some(direct) if direct.is_open(reference).await => {
                                    direct.list_tags(reference, TAG_PAGE, last).await
                                }
                                _ => {
                                    self.client
                                        .list_tags(reference, &self.auth, Some(TAG_PAGE), last)
                                        .await
                                }
                            }
                        })
                        .await?
                        .map_err(Failure::Client)
                })
                .await
                .map_err(|f| self.failed(f, &what, package, None))?
            };
            for tag in &page.tags {
                if let Some(v) = semver_tag(tag) {
                    versions.push(v);
                }
            }
            // A full page may have a next one; registries that ignore `n`
            // return everything at once.
            match page.tags.last() {
                Some(t) if page.tags.len() >= TAG_PAGE && last.as_deref() != Some(t) => {
                    last = Some(t.clone())
                }
                _ => break,
            }
        }
        versions.sort();
        versions.dedup();
        Ok(versions
            .into_iter()
            .map(|version| Release {
                version,
                yanked: false,
            })
            .collect())
    }

    /// The manifest of `package@version`, read once. With `level` (how
    /// many dependency levels below a release a caller asked about it
    /// is: 0 for a caller's own), the dependencies it records are read
    /// ahead (see [`Inner::read_ahead`]).
    async fn manifest(
        self: &Arc<Self>,
        package: &PackageName,
        version: &Version,
        level: Option<u32>,
    ) -> Result<Arc<ManifestInfo>, SourceError> {
        let key = (package.clone(), version.clone());
        let this = self.clone();
        let info = self
            .manifests
            .get_or_try(&key, || async move {
                this.read_manifest(package, version).await
            })
            .await?;
        if let Some(level) = level {
            self.read_ahead(key, &info, level);
        }
        Ok(info)
    }

    /// Starts, in the background, the tag list of each dependency `info`
    /// records and the manifest of the newest release in its range (the
    /// release a newest-first solver tries first), one level below
    /// `level`; each such manifest then reads its own dependencies ahead,
    /// down to [`OciSettings::prefetch_depth`] levels and
    /// [`READ_AHEAD_LIMIT`] reads in all. So the requests for a likely
    /// solution run at the depth of its longest chain, not one solver
    /// round trip per level. Nothing is read twice (the memos), no
    /// component bytes are read (a manifest without our record ends the
    /// read-ahead there), every request waits for the concurrency bound,
    /// and failures are dropped: a caller that needs the answer meets
    /// them again.
    fn read_ahead(self: &Arc<Self>, key: (PackageName, Version), info: &ManifestInfo, level: u32) {
        let Some(recorded) = &info.recorded else {
            return;
        };
        if level >= self.settings.prefetch_depth || recorded.dependencies.is_empty() {
            return;
        }
        {
            // Once per release, unless it is met again nearer the top
            // (its dependencies may then go deeper).
            let mut seen = self.read_ahead.lock().unwrap_or_else(|e| e.into_inner());
            match seen.get(&key) {
                Some(&at) if at <= level => return,
                _ => {
                    seen.insert(key, level);
                }
            }
        }
        for dep in &recorded.dependencies {
            let (package, wanted) = match &dep.class {
                ImportClass::Declared(r) | ImportClass::Legacy(r) => match r {
                    DepRef::Unlocked { package, range } => (package.clone(), Ok(range.clone())),
                    DepRef::Locked {
                        package, version, ..
                    } => (package.clone(), Err(version.clone())),
                },
                // Which package provides an interface is the solver's
                // choice (configuration may plug another).
                ImportClass::Interface(_) | ImportClass::Host => continue,
            };
            let this = self.clone();
            tokio::spawn(async move {
                let version = match wanted {
                    Err(version) => version,
                    Ok(range) => {
                        if !this.versions.asked(&package) && !this.count_read_ahead() {
                            return;
                        }
                        let Ok(releases) = this.versions(&package).await else {
                            return;
                        };
                        match newest_in(&releases, &range) {
                            Some(v) => v,
                            None => return,
                        }
                    }
                };
                let key = (package.clone(), version.clone());
                if !this.manifests.asked(&key) && !this.count_read_ahead() {
                    return;
                }
                let _ = this.manifest(&package, &version, Some(level + 1)).await;
            });
        }
    }

    /// Counts one read ahead; false when the limit is reached.
    fn count_read_ahead(&self) -> bool {
        self.read_ahead_count
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < READ_AHEAD_LIMIT).then_some(n + 1)
            })
            .is_ok()
    }

    async fn read_manifest(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<Arc<ManifestInfo>, SourceError> {
        let reference = self.reference(package, &version.to_string());
        let what = format!("fetching the manifest of `{package}@{version}`");
        // One permit for the manifest and, when it is needed, its config.
        let _permit = self.limit.acquire().await;
        let manifest = {
            let watch = Watch::new(self, &what);
            let (watch, reference) = (&watch, &reference);
            self.request(move || async move {
                watch
                    .wait(async {
                        if let Some(direct) = &self.direct {
                            if direct.is_open(reference).await {
                                if let Some(manifest) = direct.manifest(reference).await? {
                                    return Ok(manifest);
                                }
                            }
                        }
                        let (manifest, _digest) = self
                            .client
                            .pull_image_manifest(reference, &self.auth)
                            .await?;
                        Ok(manifest)
                    })
                    .await?
                    .map_err(Failure::Client)
            })
            .await
            .map_err(|f| self.failed(f, &what, package, Some(version)))?
        };
        let invalid = |cause: ManifestError| SourceError::InvalidComponent {
            source_name: self.name.clone(),
            package: package.clone(),
            version: version.clone(),
            cause: Box::new(cause),
        };
        // wkg takes the first layer; prefer the `application/wasm` one.
        let layer = manifest
            .layers
            .iter()
            .find(|l| l.media_type == LAYER_MEDIA_TYPE)
            .or_else(|| manifest.layers.first())
            .ok_or_else(|| {
                invalid(ManifestError::NoLayers {
                    reference: reference.to_string(),
                })
            })?;
        let digest = Integrity::parse_oci(&layer.digest).map_err(|e| {
            invalid(ManifestError::LayerDigest {
                reference: reference.to_string(),
                cause: e.into(),
            })
        })?;
        let ours = manifest.config.media_type == CONFIG_MEDIA_TYPE;
        let mut recorded = ours
            .then(|| annotated_metadata(manifest.annotations.as_ref(), &digest))
            .flatten();
        if ours && recorded.is_none() {
            // The record is in the config only (a large one, or an
            // artifact written before the annotation was), or nowhere
            // (wkg's).
            let what = format!("fetching the config of `{package}@{version}`");
            let watch = Watch::new(self, &what);
            let (watch, reference, descriptor) = (&watch, &reference, &manifest.config);
            let config = self
                .request(move || async move {
                    watch
                        .wait(async {
                            match &self.direct {
                                Some(direct) if direct.is_open(reference).await => {
                                    direct.config(reference, &descriptor.digest).await
                                }
                                _ => {
                                    let mut out = Vec::new();
                                    self.client
                                        .pull_blob(reference, descriptor, &mut out)
                                        .await?;
                                    Ok(out)
                                }
                            }
                        })
                        .await?
                        .map_err(Failure::Client)
                })
                .await
                .map_err(|f| self.failed(f, &what, package, Some(version)))?;
            recorded = recorded_metadata(&config, &digest);
        }
        Ok(Arc::new(ManifestInfo {
            layer: digest,
            size: u64::try_from(layer.size).unwrap_or(0),
            recorded,
        }))
    }

    async fn metadata(
        self: &Arc<Self>,
        package: &PackageName,
        version: &Version,
    ) -> Result<Arc<ReleaseMetadata>, SourceError> {
        let manifest = self.manifest(package, version, Some(0)).await?;
        if let Some(recorded) = &manifest.recorded {
            return Ok(Arc::new(ReleaseMetadata {
                package: package.clone(),
                version: version.clone(),
                digest: manifest.layer.clone(),
                size: manifest.size,
                dependencies: recorded.dependencies.clone(),
                interface_exports: recorded.interface_exports.clone(),
                types: recorded.types.clone(),
            }));
        }
        let bytes = self
            .download(package, Some(version), &manifest.layer, Some(manifest.size))
            .await?;
        let meta = ReleaseMetadata::from_verified(package, version, &bytes)
            .map_err(|e| e.into_source_error(&self.name, package, version))?;
        self.downloaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(manifest.layer.clone(), bytes);
        Ok(Arc::new(meta))
    }

    /// Downloads the blob `digest` of `package`'s repository and checks it.
    async fn download(
        &self,
        package: &PackageName,
        version: Option<&Version>,
        digest: &Integrity,
        size: Option<u64>,
    ) -> Result<Verified, SourceError> {
        let oci = digest.to_oci();
        let reference = self.reference(package, "latest");
        let descriptor = OciDescriptor {
            media_type: LAYER_MEDIA_TYPE.to_string(),
            digest: oci.clone(),
            size: size.and_then(|s| i64::try_from(s).ok()).unwrap_or(0),
            ..OciDescriptor::default()
        };
        let item = match version {
            Some(v) => format!("{package}@{v}"),
            None => package.to_string(),
        };
        let what = format!("downloading {oci} of `{item}`");
        let watch = Watch::new(self, &what);
        let (watch, reference, descriptor, item_ref) =
            (&watch, &reference, &descriptor, item.as_str());
        let bytes = self
            .request(move || async move {
                let mut stream = watch
                    .wait(self.client.pull_blob_stream(reference, descriptor))
                    .await?
                    .map_err(Failure::Client)?;
                watch.progressed();
                let total = stream.content_length.or(size);
                let mut bar = self.bar(total, item_ref);
                let mut bytes = Vec::with_capacity(total.unwrap_or(0).min(1 << 30) as usize);
                loop {
                    let next = match watch.wait(stream.next()).await {
                        Ok(next) => next,
                        Err(failure) => {
                            bar.abandon();
                            return Err(failure);
                        }
                    };
                    let Some(chunk) = next else { break };
                    match chunk {
                        Ok(chunk) => {
                            watch.progressed();
                            bytes.extend_from_slice(&chunk);
                            bar.received(bytes.len() as u64);
                        }
                        Err(e) => {
                            bar.abandon();
                            let mismatch = e.get_ref().and_then(|inner| {
                                inner.downcast_ref::<oci_client::errors::DigestError>()
                            });
                            if let Some(oci_client::errors::DigestError::VerificationError {
                                expected,
                                actual,
                            }) = mismatch
                            {
                                return Err(Failure::Digest {
                                    expected: expected.clone(),
                                    actual: actual.clone(),
                                });
                            }
                            return Err(Failure::BrokeOff(BrokeOff {
                                received: bytes.len(),
                                cause: e,
                            }));
                        }
                    }
                }
                bar.finish();
                // The client checks too, but its check proves nothing to
                // the code that receives the bytes; this one does.
                Verified::check(bytes, digest).map_err(|m| Failure::Digest {
                    expected: m.expected.to_oci(),
                    actual: m.actual.to_oci(),
                })
            })
            .await
            .map_err(|f| match self.failed(f, &what, package, version) {
                SourceError::PackageNotFound { .. } | SourceError::VersionNotFound { .. } => {
                    SourceError::ContentNotFound {
                        source_name: self.name.clone(),
                        package: package.clone(),
                        digest: oci.clone(),
                    }
                }
                other => other,
            })?;
        Ok(bytes)
    }

    /// The report of a download of `item` that begins, when the caller
    /// asked for reports.
    fn bar(&self, total: Option<u64>, item: &str) -> Bar {
        Bar(self
            .progress
            .as_ref()
            .map(|progress| progress.download(&self.name, item, total)))
    }

    async fn fetch(
        &self,
        package: &PackageName,
        version: &Version,
        digest: &Integrity,
    ) -> Result<Verified, SourceError> {
        let kept = self
            .downloaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(digest);
        if let Some(bytes) = kept {
            return Ok(bytes);
        }
        // The size the release's manifest states, when it was read, for
        // the progress bar and the allocation.
        let size = self
            .manifests
            .cells
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(package.clone(), version.clone()))
            .and_then(|cell| cell.get().filter(|m| m.layer == *digest).map(|m| m.size));
        self.download(package, Some(version), digest, size).await
    }

    async fn publish(
        self: &Arc<Self>,
        package: &PackageName,
        version: &Version,
        bytes: Vec<u8>,
    ) -> Result<ReleaseMetadata, SourceError> {
        let meta = ReleaseMetadata::for_publish(package, version, &bytes)
            .map_err(|e| e.into_source_error(&self.name, package, version))?;
        let reference = self.reference(package, &version.to_string());
        // Releases are immutable: look before pushing.
        self.manifests.forget(&(package.clone(), version.clone()));
        match self.manifest(package, version, None).await {
            Ok(existing) if existing.layer == meta.digest => return Ok(meta),
            Ok(existing) => {
                return Err(SourceError::AlreadyPublished {
                    source_name: self.name.clone(),
                    package: package.clone(),
                    version: version.clone(),
                    existing: existing.layer.to_oci(),
                    new: meta.digest.to_oci(),
                })
            }
            Err(SourceError::PackageNotFound { .. } | SourceError::VersionNotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        let Artifact {
            config,
            layer,
            manifest,
        } = Artifact::for_release(&meta, bytes);
        {
            // One attempt, without an overall deadline (an upload may be
            // long): the client's connect and read timeouts bound it.
            let _permit = self.limit.acquire().await;
            let what = format!("publishing `{package}@{version}` to `{reference}`");
            let watch = Watch::new(self, &what);
            watch
                .watch(
                    self.client
                        .push(&reference, &[layer], config, &self.auth, Some(manifest)),
                )
                .await
                .map_err(|e| {
                    match self.failed((Failure::Client(e), 1), &what, package, Some(version)) {
                        SourceError::Unauthorized {
                            source_name,
                            location,
                            credentials,
                            remedy,
                            cause,
                            ..
                        } => SourceError::Unauthorized {
                            source_name,
                            location,
                            what: what.clone(),
                            credentials,
                            remedy,
                            cause,
                        },
                        other => other,
                    }
                })?;
        }
        self.versions.forget(package);
        self.manifests.set(
            (package.clone(), version.clone()),
            Arc::new(ManifestInfo {
                layer: meta.digest.clone(),
                size: meta.size,
                recorded: Some(Recorded {
                    dependencies: meta.dependencies.clone(),
                    interface_exports: meta.interface_exports.clone(),
                    types: meta.types.clone(),
                }),
            }),
        );
        Ok(meta)
    }
}

/// The newest of `releases` (sorted, oldest first) in `range` that a
/// solver may choose: a pre-release only when the range names one of the
/// same major.minor.patch.
fn newest_in(releases: &[Release], range: &DepRange) -> Option<Version> {
    let set = range.to_ranges();
    releases
        .iter()
        .rev()
        .map(|r| &r.version)
        .find(|v| set.contains(v) && (v.pre.is_empty() || range.names_prerelease_of(v)))
        .cloned()
}

/// The version a tag names, if it is a semantic version written in
/// canonical form (`1.2.3`, `1.0.0-rc.1`; not `v1.2.3`, `1.2`, `latest`).
pub fn semver_tag(tag: &str) -> Option<Version> {
    Version::parse(tag).ok().filter(|v| v.to_string() == tag)
}

impl Source for OciSource {
    fn name(&self) -> &str {
        &self.inner.name
    }

    fn registry_for(&self, _package: &PackageName) -> &str {
        &self.inner.name
    }

    fn versions(&self, package: &PackageName) -> Result<Listing, SourceError> {
        let (inner, package) = (self.inner.clone(), package.clone());
        // No stamp: tags can be pushed at any time, and nothing cheaper
        // than listing them tells whether they were.
        self.run(async move { inner.versions(&package).await.map(Listing::unstamped) })
    }

    fn metadata(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<Arc<ReleaseMetadata>, SourceError> {
        let (inner, package, version) = (self.inner.clone(), package.clone(), version.clone());
        self.run(async move { inner.metadata(&package, &version).await })
    }

    fn fetch(
        &self,
        package: &PackageName,
        version: &Version,
        digest: &Integrity,
    ) -> Result<Verified, SourceError> {
        let (inner, package, version, digest) = (
            self.inner.clone(),
            package.clone(),
            version.clone(),
            digest.clone(),
        );
        self.run(async move { inner.fetch(&package, &version, &digest).await })
    }

    fn hints(&self) -> Option<&dyn Hints> {
        Some(self)
    }

    fn publisher(&self) -> Option<&dyn Publish> {
        Some(self)
    }
}

impl Hints for OciSource {
    /// Starts, in the background, the version lists of the packages named
    /// without a version and the manifests (which usually hold the
    /// metadata) of the releases named. Returns at once; later calls wait
    /// for what is in flight instead of asking again. Failures are dropped
    /// here and met again by the call that needs the answer.
    fn prefetch(&self, wanted: &[(PackageName, Option<Version>)]) {
        for (package, version) in wanted {
            let (inner, package, version) = (self.inner.clone(), package.clone(), version.clone());
            self.runtime.spawn(async move {
                match version {
                    Some(v) => {
                        let _ = inner.manifest(&package, &v, Some(0)).await;
                    }
                    None => {
                        let _ = inner.versions(&package).await;
                    }
                }
            });
        }
    }

    /// The manifest names the layer: no download.
    fn release_digest(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Option<Result<Integrity, SourceError>> {
        let (inner, package, version) = (self.inner.clone(), package.clone(), version.clone());
        Some(self.run(async move {
            Ok(inner
                .manifest(&package, &version, Some(0))
                .await?
                .layer
                .clone())
        }))
    }

    /// None: a tag list can change at any time, and only listing it tells.
    fn versions_stamp(&self, _package: &PackageName) -> Option<Stamp> {
        None
    }

    /// None: a tag can be moved to other bytes, and only reading its
    /// manifest tells.
    fn release_stamp(&self, _package: &PackageName, _version: &Version) -> Option<Stamp> {
        None
    }
}

impl Publish for OciSource {
    fn publish(
        &self,
        package: &PackageName,
        version: &Version,
        bytes: &[u8],
    ) -> Result<ReleaseMetadata, SourceError> {
        let (inner, package, version, bytes) = (
            self.inner.clone(),
            package.clone(),
            version.clone(),
            bytes.to_vec(),
        );
        self.run(async move { inner.publish(&package, &version, bytes).await })
    }

    /// OCI has no yank: a tag can be moved but not portably deleted, and
    /// wkg reads no yank marker, so a yank could neither be undone nor be
    /// seen by other tools. Always [`SourceError::Unsupported`].
    fn set_yanked(
        &self,
        _package: &PackageName,
        _version: &Version,
        _yanked: bool,
    ) -> Result<(), SourceError> {
        Err(SourceError::Unsupported {
            source_name: self.inner.name.clone(),
            operation: "yank (OCI registries have no yank)",
        })
    }
}

/// What is wrong with a release's manifest (the cause of a
/// [`SourceError::InvalidComponent`]).
#[derive(Debug)]
enum ManifestError {
    /// No layer to read the component from.
    NoLayers { reference: String },
    /// The layer's digest does not parse (the parser's words are the
    /// source).
    LayerDigest {
        reference: String,
        cause: Box<dyn StdError + Send + Sync>,
    },
}

impl std::fmt::Display for ManifestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ManifestError::NoLayers { reference } => {
                write!(f, "the manifest of `{reference}` has no layers")
            }
            ManifestError::LayerDigest { reference, .. } => write!(
                f,
                "the manifest of `{reference}` names its layer by an unusable digest"
            ),
        }
    }
}

impl StdError for ManifestError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            ManifestError::NoLayers { .. } => None,
            ManifestError::LayerDigest { cause, .. } => Some(cause.as_ref()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_semver_tags_are_versions() {
        assert_eq!(semver_tag("1.2.3"), Some(Version::new(1, 2, 3)));
        assert!(semver_tag("1.0.0-rc.1").is_some());
        for tag in ["latest", "v1.2.3", "1.2", "1", "01.2.3", "sha256-abc", ""] {
            assert_eq!(semver_tag(tag), None, "{tag}");
        }
    }
}
