//! [`OciSource`]: one OCI registry behind the [`Source`] trait.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use oci_client::client::{
    Certificate, CertificateEncoding, ClientConfig, ClientProtocol, Config, ImageLayer,
};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::{OciDescriptor, OciImageManifest};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use semver::Version;
use tokio::runtime::Runtime;
use tokio::sync::{OnceCell, Semaphore};
use warg_depsolve_names::{Integrity, PackageName};
use warg_depsolve_registry::{Release, ReleaseMetadata, Source, SourceError};

use crate::artifact::{config_for, recorded_metadata, CONFIG_MEDIA_TYPE, LAYER_MEDIA_TYPE};
use crate::settings::OciSettings;

/// How many of a package's newest releases a `prefetch` without a version
/// reads ahead.
const PREFETCH_NEWEST: usize = 3;
/// Tags asked for per page when listing.
const TAG_PAGE: usize = 1000;

/// Whether downloads show a progress bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Progress {
    /// A bar on stderr when stderr is a terminal; nothing otherwise.
    #[default]
    Auto,
    /// Never.
    Never,
}

/// What a release's manifest says.
#[derive(Debug)]
struct ManifestInfo {
    /// The component layer.
    layer: Integrity,
    /// Its size, as the manifest states it.
    size: u64,
    /// The dependencies and interface exports our config records, if any.
    recorded: Option<(
        Vec<warg_depsolve_registry::Dependency>,
        Vec<warg_depsolve_names::InterfaceName>,
    )>,
}

/// Values computed once, shared by concurrent callers: the first caller
/// computes, the others wait for it; a failure is not remembered (the next
/// caller tries again).
struct Memo<K, V> {
    cells: Mutex<HashMap<K, Arc<OnceCell<V>>>>,
}

impl<K: Eq + Hash + Clone, V: Clone> Memo<K, V> {
    fn new() -> Self {
        Memo {
            cells: Mutex::new(HashMap::new()),
        }
    }

    fn cell(&self, key: &K) -> Arc<OnceCell<V>> {
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
        self.cell(key).get_or_try_init(f).await.cloned()
    }

    fn forget(&self, key: &K) {
        self.cells
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    fn set(&self, key: K, value: V) {
        let cell = Arc::new(OnceCell::new_with(Some(value)));
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
    auth: RegistryAuth,
    limit: Semaphore,
    progress: Progress,
    versions: Memo<PackageName, Arc<Vec<Release>>>,
    manifests: Memo<(PackageName, Version), Arc<ManifestInfo>>,
    /// Layers downloaded to read metadata, kept for the `fetch` that
    /// usually follows, so a layer is downloaded once.
    downloaded: Mutex<HashMap<Integrity, Arc<[u8]>>>,
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
///   yanked: OCI has no yank (see [`Source::set_yanked`]). Each source lists
///   a package's tags once (and again after publishing to it): it is a
///   snapshot for one run, and a new source sees newer tags.
/// - [`Source::release_digest`] reads the manifest only;
///   [`Source::metadata`] reads it and its config and, when the config does
///   not record the dependencies, downloads and scans the layer (kept for
///   the following [`Source::fetch`]).
/// - [`Source::fetch`] downloads a layer by digest, with a progress bar
///   when stderr is a terminal, and checks it against the digest.
/// - [`Source::prefetch`] starts version-list and manifest requests in the
///   background (at most `concurrency` at once) and returns at once.
/// - [`Source::publish`] pushes a Wasm OCI artifact unless the tag exists:
///   the same layer again is a no-op, another is
///   [`SourceError::AlreadyPublished`].
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
            connect_timeout: Some(Duration::from_secs(10)),
            read_timeout: Some(Duration::from_secs(60)),
            user_agent: concat!("warg-depsolve/", env!("CARGO_PKG_VERSION")),
            ..ClientConfig::default()
        };
        let auth = match &settings.credentials {
            Some((user, password)) => RegistryAuth::Basic(user.clone(), password.clone()),
            None => RegistryAuth::Anonymous,
        };
        let name = name.into();
        let inner = Inner {
            client: Client::new(config),
            auth,
            limit: Semaphore::new(settings.concurrency),
            progress: Progress::Auto,
            versions: Memo::new(),
            manifests: Memo::new(),
            downloaded: Mutex::new(HashMap::new()),
            name,
            settings,
        };
        Ok(OciSource {
            inner: Arc::new(inner),
            runtime,
        })
    }

    /// The same source with downloads shown as `progress` says.
    pub fn with_progress(mut self, progress: Progress) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.progress = progress,
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

impl Inner {
    fn reference(&self, package: &PackageName, tag: &str) -> Reference {
        Reference::with_tag(
            self.settings.host.clone(),
            self.settings
                .repository(package.namespace(), package.name()),
            tag.to_string(),
        )
    }

    fn unavailable(&self, what: String, e: &OciDistributionError) -> SourceError {
        SourceError::Unavailable {
            source_name: self.name.clone(),
            what,
            message: format!("{} at {}", describe(e), self.settings.url()),
        }
    }

    /// Maps a client error about `package` (at `version`, if the request
    /// was about one release) to a [`SourceError`].
    fn error(
        &self,
        e: OciDistributionError,
        package: &PackageName,
        version: Option<&Version>,
    ) -> SourceError {
        let what = match version {
            Some(v) => format!("{package}@{v}"),
            None => package.to_string(),
        };
        let not_found = || match version {
            Some(v) => SourceError::VersionNotFound {
                source_name: self.name.clone(),
                package: package.clone(),
                version: v.clone(),
            },
            None => SourceError::PackageNotFound {
                source_name: self.name.clone(),
                package: package.clone(),
            },
        };
        match &e {
            OciDistributionError::RegistryError { envelope, .. } => {
                let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
                if codes.contains(&&OciErrorCode::NameUnknown) {
                    SourceError::PackageNotFound {
                        source_name: self.name.clone(),
                        package: package.clone(),
                    }
                } else if codes.contains(&&OciErrorCode::ManifestUnknown)
                    || codes.contains(&&OciErrorCode::NotFound)
                {
                    not_found()
                } else {
                    self.unavailable(format!("`{what}`"), &e)
                }
            }
            OciDistributionError::ServerError { code: 404, .. }
            | OciDistributionError::ImageManifestNotFoundError(_) => not_found(),
            OciDistributionError::DigestError(
                oci_client::errors::DigestError::VerificationError { expected, actual },
            ) => SourceError::DigestMismatch {
                source_name: self.name.clone(),
                package: what,
                expected: expected.clone(),
                actual: actual.clone(),
            },
            OciDistributionError::UnauthorizedError { .. }
            | OciDistributionError::AuthenticationFailure(_) => SourceError::Unavailable {
                source_name: self.name.clone(),
                what: format!("`{what}`"),
                message: format!(
                    "not authorized by {} ({}); set `auth` in `[registry.\"{}\".oci]`",
                    self.settings.url(),
                    describe(&e),
                    self.name
                ),
            },
            _ => self.unavailable(format!("`{what}`"), &e),
        }
    }

    async fn versions(
        self: &Arc<Self>,
        package: &PackageName,
    ) -> Result<Arc<Vec<Release>>, SourceError> {
        let this = self.clone();
        self.versions
            .get_or_try(package, || async move { this.list_versions(package).await })
            .await
    }

    async fn list_versions(&self, package: &PackageName) -> Result<Arc<Vec<Release>>, SourceError> {
        let reference = self.reference(package, "latest");
        let mut versions = Vec::new();
        let mut last: Option<String> = None;
        loop {
            let page = {
                let _permit = self.limit.acquire().await;
                self.client
                    .list_tags(&reference, &self.auth, Some(TAG_PAGE), last.as_deref())
                    .await
                    .map_err(|e| self.error(e, package, None))?
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
        Ok(Arc::new(
            versions
                .into_iter()
                .map(|version| Release {
                    version,
                    yanked: false,
                })
                .collect(),
        ))
    }

    async fn manifest(
        self: &Arc<Self>,
        package: &PackageName,
        version: &Version,
    ) -> Result<Arc<ManifestInfo>, SourceError> {
        let key = (package.clone(), version.clone());
        let this = self.clone();
        self.manifests
            .get_or_try(&key, || async move {
                this.read_manifest(package, version).await
            })
            .await
    }

    async fn read_manifest(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<Arc<ManifestInfo>, SourceError> {
        let reference = self.reference(package, &version.to_string());
        let (manifest, _digest, config) = {
            let _permit = self.limit.acquire().await;
            self.client
                .pull_manifest_and_config(&reference, &self.auth)
                .await
                .map_err(|e| self.error(e, package, Some(version)))?
        };
        let invalid = |message: String| SourceError::InvalidComponent {
            source_name: self.name.clone(),
            package: package.clone(),
            version: version.clone(),
            message,
        };
        // wkg takes the first layer; prefer the `application/wasm` one.
        let layer = manifest
            .layers
            .iter()
            .find(|l| l.media_type == LAYER_MEDIA_TYPE)
            .or_else(|| manifest.layers.first())
            .ok_or_else(|| invalid(format!("the manifest of `{reference}` has no layers")))?;
        let digest = Integrity::parse_oci(&layer.digest)
            .map_err(|e| invalid(format!("the manifest of `{reference}`: {e}")))?;
        let recorded = (manifest.config.media_type == CONFIG_MEDIA_TYPE)
            .then(|| recorded_metadata(config.as_bytes(), &digest))
            .flatten();
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
        let manifest = self.manifest(package, version).await?;
        if let Some((dependencies, interface_exports)) = &manifest.recorded {
            return Ok(Arc::new(ReleaseMetadata {
                package: package.clone(),
                version: version.clone(),
                digest: manifest.layer.clone(),
                size: manifest.size,
                dependencies: dependencies.clone(),
                interface_exports: interface_exports.clone(),
            }));
        }
        let bytes = self
            .download(package, Some(version), &manifest.layer, Some(manifest.size))
            .await?;
        let meta = ReleaseMetadata::from_component(package, version, &bytes)
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
    ) -> Result<Arc<[u8]>, SourceError> {
        let oci = digest.to_oci();
        let reference = self.reference(package, "latest");
        let descriptor = OciDescriptor {
            media_type: LAYER_MEDIA_TYPE.to_string(),
            digest: oci.clone(),
            size: size.and_then(|s| i64::try_from(s).ok()).unwrap_or(0),
            ..OciDescriptor::default()
        };
        let what = match version {
            Some(v) => format!("{package}@{v}"),
            None => package.to_string(),
        };
        let not_found = || SourceError::ContentNotFound {
            source_name: self.name.clone(),
            package: package.clone(),
            digest: oci.clone(),
        };
        let mut stream = self
            .client
            .pull_blob_stream(&reference, &descriptor)
            .await
            .map_err(|e| match self.error(e, package, None) {
                SourceError::PackageNotFound { .. } | SourceError::VersionNotFound { .. } => {
                    not_found()
                }
                other => other,
            })?;
        let total = stream.content_length.or(size);
        let bar = self.bar(total, &what);
        let mut bytes = Vec::with_capacity(total.unwrap_or(0).min(1 << 30) as usize);
        while let Some(chunk) = stream.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => {
                    bar.abandon();
                    let mismatch = e
                        .get_ref()
                        .and_then(|inner| inner.downcast_ref::<oci_client::errors::DigestError>());
                    if let Some(oci_client::errors::DigestError::VerificationError {
                        expected,
                        actual,
                    }) = mismatch
                    {
                        return Err(SourceError::DigestMismatch {
                            source_name: self.name.clone(),
                            package: what,
                            expected: expected.clone(),
                            actual: actual.clone(),
                        });
                    }
                    let mut message = e.to_string();
                    let mut cause = std::error::Error::source(&e);
                    while let Some(c) = cause {
                        let text = c.to_string();
                        if !message.contains(&text) {
                            message = format!("{message}: {text}");
                        }
                        cause = c.source();
                    }
                    return Err(SourceError::Unavailable {
                        source_name: self.name.clone(),
                        what: format!("content {oci} of `{what}`"),
                        message: format!(
                            "the download from {} broke off after {} bytes: {message}",
                            self.settings.url(),
                            bytes.len()
                        ),
                    });
                }
            };
            bytes.extend_from_slice(&chunk);
            bar.set_position(bytes.len() as u64);
        }
        bar.finish_and_clear();
        if !digest.matches(&bytes) {
            return Err(SourceError::DigestMismatch {
                source_name: self.name.clone(),
                package: what,
                expected: oci,
                actual: Integrity::compute(digest.algorithm, &bytes).to_oci(),
            });
        }
        Ok(bytes.into())
    }

    fn bar(&self, total: Option<u64>, what: &str) -> indicatif::ProgressBar {
        if self.progress == Progress::Never || !std::io::stderr().is_terminal() {
            return indicatif::ProgressBar::hidden();
        }
        let bar = match total {
            Some(n) => indicatif::ProgressBar::new(n),
            None => indicatif::ProgressBar::no_length(),
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{prefix} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}",
        ) {
            bar.set_style(style);
        }
        bar.set_prefix(format!("downloading {what} from {}", self.name));
        bar
    }

    async fn fetch(
        &self,
        package: &PackageName,
        digest: &Integrity,
    ) -> Result<Arc<[u8]>, SourceError> {
        let kept = self
            .downloaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(digest);
        if let Some(bytes) = kept {
            return Ok(bytes);
        }
        let size = self
            .manifests
            .cells
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|((p, _), _)| p == package)
            .find_map(|(_, cell)| cell.get().filter(|m| m.layer == *digest).map(|m| m.size));
        self.download(package, None, digest, size).await
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
        match self.manifest(package, version).await {
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
        let config = Config {
            data: config_for(&meta, &bytes).into(),
            media_type: CONFIG_MEDIA_TYPE.to_string(),
            annotations: None,
        };
        let layer = ImageLayer {
            data: bytes.into(),
            media_type: LAYER_MEDIA_TYPE.to_string(),
            annotations: None,
        };
        let manifest = OciImageManifest::build(std::slice::from_ref(&layer), &config, None);
        {
            let _permit = self.limit.acquire().await;
            self.client
                .push(&reference, &[layer], config, &self.auth, Some(manifest))
                .await
                .map_err(|e| match self.error(e, package, Some(version)) {
                    SourceError::Unavailable { message, .. } => SourceError::Unavailable {
                        source_name: self.name.clone(),
                        what: format!("publishing `{package}@{version}` to `{reference}`"),
                        message,
                    },
                    other => other,
                })?;
        }
        self.versions.forget(package);
        self.manifests.set(
            (package.clone(), version.clone()),
            Arc::new(ManifestInfo {
                layer: meta.digest.clone(),
                size: meta.size,
                recorded: Some((meta.dependencies.clone(), meta.interface_exports.clone())),
            }),
        );
        Ok(meta)
    }
}

/// The version a tag names, if it is a semantic version written in
/// canonical form (`1.2.3`, `1.0.0-rc.1`; not `v1.2.3`, `1.2`, `latest`).
pub fn semver_tag(tag: &str) -> Option<Version> {
    Version::parse(tag).ok().filter(|v| v.to_string() == tag)
}

/// An error and its causes, on one line.
fn describe(e: &OciDistributionError) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

impl Source for OciSource {
    fn name(&self) -> &str {
        &self.inner.name
    }

    fn versions(&self, package: &PackageName) -> Result<Vec<Release>, SourceError> {
        let (inner, package) = (self.inner.clone(), package.clone());
        self.run(async move { inner.versions(&package).await.map(|v| v.to_vec()) })
    }

    fn metadata(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<Arc<ReleaseMetadata>, SourceError> {
        let (inner, package, version) = (self.inner.clone(), package.clone(), version.clone());
        self.run(async move { inner.metadata(&package, &version).await })
    }

    fn release_digest(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<Integrity, SourceError> {
        let (inner, package, version) = (self.inner.clone(), package.clone(), version.clone());
        self.run(async move { Ok(inner.manifest(&package, &version).await?.layer.clone()) })
    }

    fn fetch(&self, package: &PackageName, digest: &Integrity) -> Result<Arc<[u8]>, SourceError> {
        let (inner, package, digest) = (self.inner.clone(), package.clone(), digest.clone());
        self.run(async move { inner.fetch(&package, &digest).await })
    }

    /// Starts, in the background, the version lists of the packages named
    /// without a version and the manifests (with their configs, which
    /// usually hold the metadata) of the releases named, and of the
    /// newest few releases of the others. Returns at once; later calls
    /// wait for what is in flight instead of asking again. Failures are
    /// dropped here and met again by the call that needs the answer.
    fn prefetch(&self, wanted: &[(PackageName, Option<Version>)]) {
        for (package, version) in wanted {
            let (inner, package, version) = (self.inner.clone(), package.clone(), version.clone());
            self.runtime.spawn(async move {
                match version {
                    Some(v) => {
                        let _ = inner.manifest(&package, &v).await;
                    }
                    None => {
                        let Ok(releases) = inner.versions(&package).await else {
                            return;
                        };
                        let newest: Vec<Version> = releases
                            .iter()
                            .rev()
                            .filter(|r| !r.yanked)
                            .take(PREFETCH_NEWEST)
                            .map(|r| r.version.clone())
                            .collect();
                        let reads = newest.iter().map(|v| inner.manifest(&package, v));
                        futures_util::future::join_all(reads).await;
                    }
                }
            });
        }
    }

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
        package: &PackageName,
        version: &Version,
        yanked: bool,
    ) -> Result<(), SourceError> {
        let _ = (package, version, yanked);
        Err(SourceError::Unsupported {
            source_name: self.inner.name.clone(),
            operation: "yank (OCI registries have no yank)",
        })
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
