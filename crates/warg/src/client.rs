//! [`WargClient`]: one warg registry behind a blocking API.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use semver::Version;
use tokio::runtime::Runtime;
use warg_crypto::hash::{AnyHash, HashAlgorithm};
use warg_crypto::signing::PrivateKey;
use warg_protocol::package::{PackageEntry, Permission};
use warg_protocol::registry::{PackageName, RecordId, RegistryIndex};

use crate::error::WargError;
use crate::http::Http;
use crate::publish::{self, Sent};
use crate::settings::WargSettings;
use crate::state::{Namespace, RegistryState, WargRelease};
use crate::{content, update};

/// How many times a publish or yank writes again on top of another
/// client's record that was being published at the same time.
const CONFLICT_ROUNDS: usize = 3;

/// A record this client wrote and the registry published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    /// The record's id.
    pub record: RecordId,
    /// Its index in the registry log.
    pub registry_index: RegistryIndex,
}

/// What this client already asked the registry, and so answers from its
/// state: a client is a snapshot for one run, as a source is.
#[derive(Default)]
struct Asked {
    /// Whether the operator log was brought up to date.
    operator: bool,
    /// Packages brought up to date, and whether each has a log.
    packages: HashMap<PackageName, bool>,
}

struct Inner {
    http: Http,
    /// Held across a whole update, so that updates do not interleave.
    state: tokio::sync::Mutex<RegistryState>,
    asked: Mutex<Asked>,
}

/// One warg registry as a client sees it: releases and yanks from logs that
/// the protocol's validators accepted, checkpoints whose signatures,
/// consistency and inclusion proofs were checked, content checked against
/// its digest, and publishing and yanking with the configured key.
///
/// Each client asks the registry about the operator log and about each
/// package once, then answers from its [`RegistryState`] (and again after
/// writing to the package); a new client sees newer records. The state can
/// be taken out ([`WargClient::state`]) and given to a later client
/// ([`WargClient::with_state`]) so that logs are fetched from where they
/// were left.
///
/// Every request is bounded by the settings' `connect_timeout` and
/// `read_timeout`, and one that fails in a way that may pass (HTTP 5xx
/// other than 501, a connection refused, reset or cut, a timeout; never a
/// 4xx answer) is tried again `retries` times, after `retry_backoff`, then
/// twice that, and so on; sending a record is tried once. A request that
/// fails for good is [`WargError::Network`], naming the registry, its URL,
/// what was being done and the number of attempts, with the last failure as
/// its source. A failed update leaves the state as it was.
///
/// The API is blocking; the client holds a tokio runtime (its own, or one
/// shared through [`WargClient::with_runtime`]) and runs every request on
/// it, so it may be called from any thread, including from inside another
/// runtime (the calling thread blocks). A clone is the same client (one
/// state, one runtime).
#[derive(Clone)]
pub struct WargClient {
    inner: Arc<Inner>,
    runtime: Arc<Runtime>,
}

impl std::fmt::Debug for WargClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WargClient")
            .field("registry", &self.inner.http.registry)
            .field("settings", &self.inner.http.settings)
            .finish_non_exhaustive()
    }
}

/// A runtime for warg clients: two worker threads are plenty for I/O.
pub fn new_runtime() -> std::io::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("warg-depsolve-warg")
        .enable_all()
        .build()
}

impl WargClient {
    /// A client of the registry `settings` describe, named `registry` (as
    /// configuration and lock files call it; errors name it), with its own
    /// runtime and an empty state.
    pub fn new(registry: impl Into<String>, settings: WargSettings) -> Result<Self, WargError> {
        let registry = registry.into();
        let runtime = new_runtime().map_err(|cause| WargError::Runtime {
            registry: registry.clone(),
            cause,
        })?;
        Self::with_runtime(registry, settings, Arc::new(runtime))
    }

    /// [`WargClient::new`] on a runtime shared with other clients.
    pub fn with_runtime(
        registry: impl Into<String>,
        settings: WargSettings,
        runtime: Arc<Runtime>,
    ) -> Result<Self, WargError> {
        let http = Http::new(&registry.into(), settings)?;
        Ok(WargClient {
            inner: Arc::new(Inner {
                http,
                state: tokio::sync::Mutex::new(RegistryState::default()),
                asked: Mutex::new(Asked::default()),
            }),
            runtime,
        })
    }

    /// The same client starting from `state` (kept from an earlier client
    /// of the same registry): logs are fetched from where it left them,
    /// once the registry proves its log consistent with it. A state
    /// learned from another URL (the configuration changed) is not used:
    /// the client starts afresh.
    pub fn with_state(self, state: RegistryState) -> Result<Self, WargError> {
        let state = match state.url() {
            Some(url) if url != self.inner.http.location() => RegistryState::default(),
            _ => state,
        };
        let inner = self.inner.clone();
        self.run(async move {
            *inner.state.lock().await = state;
            *inner.asked() = Asked::default();
            Ok(())
        })?;
        Ok(self)
    }

    /// The runtime the client runs on (to share with other clients).
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// The registry's name.
    pub fn registry(&self) -> &str {
        &self.inner.http.registry
    }

    /// The settings it was made with.
    pub fn settings(&self) -> &WargSettings {
        &self.inner.http.settings
    }

    /// A copy of what the client knows of the registry, to be kept for a
    /// later client ([`WargClient::with_state`]).
    pub fn state(&self) -> Result<RegistryState, WargError> {
        let inner = self.inner.clone();
        self.run(async move { Ok(inner.state.lock().await.clone()) })
    }

    /// Runs `fut` on the client's runtime and waits for it, from any
    /// thread (also from inside another runtime).
    fn run<T: Send + 'static>(
        &self,
        fut: impl Future<Output = Result<T, WargError>> + Send + 'static,
    ) -> Result<T, WargError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.runtime.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv().unwrap_or_else(|_| {
            Err(WargError::Runtime {
                registry: self.inner.http.registry.clone(),
                cause: std::io::Error::other("the runtime stopped before answering"),
            })
        })
    }

    /// Brings the operator log and the logs of `packages` up to the
    /// registry's latest checkpoint in one exchange (those this client
    /// already asked about are not asked again). Packages that have no log
    /// are remembered as such.
    pub fn prefetch(&self, packages: &[PackageName]) -> Result<(), WargError> {
        let (inner, packages) = (self.inner.clone(), packages.to_vec());
        self.run(async move { inner.ensure(&packages, false).await })
    }

    /// [`WargClient::prefetch`] in the background: returns at once; later
    /// calls about these packages wait for it instead of asking again.
    /// Its failure is dropped here and met again by the call that needs
    /// the answer.
    pub fn start_prefetch(&self, packages: &[PackageName]) {
        let (inner, packages) = (self.inner.clone(), packages.to_vec());
        self.runtime.spawn(async move {
            let _ = inner.ensure(&packages, false).await;
        });
    }

    /// The releases of `package`, oldest version first, yanked ones
    /// included (with their digests).
    ///
    /// A package that the operator log says is in a namespace imported
    /// from another registry is [`WargError::NamespaceImported`] (naming
    /// that registry); one with no log is [`WargError::PackageNotFound`].
    pub fn releases(&self, package: &PackageName) -> Result<Vec<WargRelease>, WargError> {
        let (inner, package) = (self.inner.clone(), package.clone());
        self.run(async move {
            inner.ensure(std::slice::from_ref(&package), false).await?;
            inner.releases(&package).await
        })
    }

    /// What the registry's operator log says of `namespace`: defined here,
    /// imported from another registry (go there directly), or unknown.
    pub fn namespace(&self, namespace: &str) -> Result<Namespace, WargError> {
        let (inner, namespace) = (self.inner.clone(), namespace.to_string());
        self.run(async move {
            inner.ensure(&[], false).await?;
            Ok(inner.state.lock().await.namespace(&namespace))
        })
    }

    /// The bytes of the content `digest`, checked against it.
    pub fn download(&self, digest: &AnyHash) -> Result<Vec<u8>, WargError> {
        let (inner, digest) = (self.inner.clone(), digest.clone());
        self.run(async move { content::download(&inner.http, &digest).await })
    }

    /// Releases `bytes` as `package@version`, signed with the settings'
    /// key: creates the package's log if it has none, sends the record,
    /// uploads the bytes when the registry asks for them, and waits until
    /// the record is published. The same bytes again are a no-op (`None`);
    /// other bytes for a released version are
    /// [`WargError::AlreadyPublished`].
    pub fn publish(
        &self,
        package: &PackageName,
        version: &Version,
        bytes: &[u8],
    ) -> Result<Option<Published>, WargError> {
        let (inner, package, version, bytes) = (
            self.inner.clone(),
            package.clone(),
            version.clone(),
            bytes.to_vec(),
        );
        self.run(async move { inner.publish(&package, &version, bytes).await })
    }

    /// Yanks (`yanked`) `package@version`, signed with the settings' key,
    /// and waits until the record is published; yanking a yanked release
    /// is a no-op (`None`). Warg has no un-yank: `yanked = false` on a
    /// yanked release is [`WargError::NoUnyank`] (and a no-op on one that
    /// is not yanked).
    pub fn set_yanked(
        &self,
        package: &PackageName,
        version: &Version,
        yanked: bool,
    ) -> Result<Option<Published>, WargError> {
        let (inner, package, version) = (self.inner.clone(), package.clone(), version.clone());
        self.run(async move { inner.set_yanked(&package, &version, yanked).await })
    }
}

impl Inner {
    fn asked(&self) -> std::sync::MutexGuard<'_, Asked> {
        self.asked.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Brings the operator log and the logs of `packages` up to date,
    /// unless this client did so already (`again`: do it anyway).
    async fn ensure(&self, packages: &[PackageName], again: bool) -> Result<(), WargError> {
        let need = |asked: &Asked| -> Option<Vec<PackageName>> {
            let packages: Vec<PackageName> = packages
                .iter()
                .filter(|p| again || !asked.packages.contains_key(*p))
                .cloned()
                .collect();
            (again || !asked.operator || !packages.is_empty()).then_some(packages)
        };
        if need(&self.asked()).is_none() {
            return Ok(());
        }
        let mut state = self.state.lock().await;
        // Another caller may have done it while this one waited.
        let Some(wanted) = need(&self.asked()) else {
            return Ok(());
        };
        let updated = update::update(&self.http, &state, &wanted).await?;
        *state = updated.state;
        let mut asked = self.asked();
        asked.operator = true;
        for package in wanted {
            let present = !updated.missing.contains(&package);
            asked.packages.insert(package, present);
        }
        Ok(())
    }

    /// The releases of a package this client asked about.
    async fn releases(&self, package: &PackageName) -> Result<Vec<WargRelease>, WargError> {
        let state = self.state.lock().await;
        match state.releases(package) {
            Some(releases) if self.asked().packages.get(package) == Some(&true) => Ok(releases),
            _ => Err(self.absent(&state, package)),
        }
    }

    /// The error for a package with no log here.
    fn absent(&self, state: &RegistryState, package: &PackageName) -> WargError {
        match state.namespace(package.namespace()) {
            Namespace::Imported { registry } => WargError::NamespaceImported {
                registry: self.http.registry.clone(),
                namespace: package.namespace().to_string(),
                from: registry,
            },
            _ => WargError::PackageNotFound {
                registry: self.http.registry.clone(),
                package: package.clone(),
            },
        }
    }

    fn key(&self, what: &str) -> Result<Arc<PrivateKey>, WargError> {
        self.http
            .settings
            .signing_key
            .clone()
            .ok_or_else(|| WargError::NoSigningKey {
                registry: self.http.registry.clone(),
                what: what.to_string(),
            })
    }

    async fn publish(
        &self,
        package: &PackageName,
        version: &Version,
        bytes: Vec<u8>,
    ) -> Result<Option<Published>, WargError> {
        let key = self.key(&format!("publishing `{package}@{version}`"))?;
        let digest = HashAlgorithm::Sha256.digest(&bytes);
        let entries = vec![PackageEntry::Release {
            version: version.clone(),
            content: digest.clone(),
        }];
        let decide = |state: &RegistryState| -> Result<bool, WargError> {
            if let Namespace::Imported { registry } = state.namespace(package.namespace()) {
                return Err(WargError::NamespaceImported {
                    registry: self.http.registry.clone(),
                    namespace: package.namespace().to_string(),
                    from: registry,
                });
            }
            let log = state.package(package);
            if let Some(existing) = log.and_then(|l| l.digests.get(version)) {
                if *existing == digest {
                    return Ok(false);
                }
                return Err(WargError::AlreadyPublished {
                    registry: self.http.registry.clone(),
                    package: package.clone(),
                    version: version.clone(),
                    existing: existing.to_string(),
                    new: digest.to_string(),
                });
            }
            publish::check_permission(&self.http, package, log, &key, Permission::Release)?;
            Ok(true)
        };
        let published = self
            .write(package, &key, entries, Some((&digest, &bytes)), decide)
            .await?;
        if published.is_some() {
            let state = self.state.lock().await;
            let released = state
                .package(package)
                .and_then(|l| l.digests.get(version))
                .is_some_and(|d| *d == digest);
            if !released {
                return Err(WargError::VersionNotFound {
                    registry: self.http.registry.clone(),
                    package: package.clone(),
                    version: version.clone(),
                });
            }
        }
        Ok(published)
    }

    async fn set_yanked(
        &self,
        package: &PackageName,
        version: &Version,
        yanked: bool,
    ) -> Result<Option<Published>, WargError> {
        let key = if yanked {
            Some(self.key(&format!("yanking `{package}@{version}`"))?)
        } else {
            None
        };
        let decide = |state: &RegistryState| -> Result<bool, WargError> {
            let release = state
                .package(package)
                .and_then(|l| l.log.state.release(version).map(|r| r.yanked()));
            match (release, &key) {
                (None, _) => Err(match state.package(package) {
                    None => self.absent(state, package),
                    Some(_) => WargError::VersionNotFound {
                        registry: self.http.registry.clone(),
                        package: package.clone(),
                        version: version.clone(),
                    },
                }),
                (Some(true), None) => Err(WargError::NoUnyank {
                    registry: self.http.registry.clone(),
                    package: package.clone(),
                    version: version.clone(),
                }),
                (Some(false), None) | (Some(true), Some(_)) => Ok(false),
                (Some(false), Some(key)) => {
                    let log = state.package(package);
                    publish::check_permission(&self.http, package, log, key, Permission::Yank)?;
                    Ok(true)
                }
            }
        };
        let Some(key) = key.clone() else {
            self.ensure(std::slice::from_ref(package), false).await?;
            let state = self.state.lock().await;
            return decide(&state).map(|_| None);
        };
        let entries = vec![PackageEntry::Yank {
            version: version.clone(),
        }];
        self.write(package, &key, entries, None, decide).await
    }

    /// Writes a record of `entries` to `package`'s log once `decide` (shown
    /// the log as the registry has it now) says it is needed, and waits
    /// until it is published; then brings the log up to date again.
    async fn write(
        &self,
        package: &PackageName,
        key: &PrivateKey,
        entries: Vec<PackageEntry>,
        content: Option<(&AnyHash, &[u8])>,
        decide: impl Fn(&RegistryState) -> Result<bool, WargError>,
    ) -> Result<Option<Published>, WargError> {
        let mut rounds = 0;
        let record = loop {
            self.ensure(std::slice::from_ref(package), true).await?;
            let (envelope, snapshot) = {
                let state = self.state.lock().await;
                if !decide(&state)? {
                    return Ok(None);
                }
                let envelope = publish::record(
                    &self.http,
                    package,
                    state.package(package),
                    key,
                    entries.clone(),
                )?;
                (envelope, state.clone())
            };
            match publish::send(&self.http, &snapshot, package, envelope, content).await? {
                Sent::Taken(record) => break record,
                Sent::Conflict(pending) if rounds < CONFLICT_ROUNDS => {
                    rounds += 1;
                    // Whatever becomes of the other record, write on top
                    // of the log as it then is.
                    match publish::wait(&self.http, package, &pending, false).await {
                        Ok(_) | Err(WargError::PublishRejected { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
                Sent::Conflict(pending) => {
                    return Err(WargError::PublishTimeout {
                        registry: self.http.registry.clone(),
                        package: package.clone(),
                        record: pending,
                        waited: self.http.settings.publish_timeout,
                    })
                }
            }
        };
        let registry_index = publish::wait(&self.http, package, &record, true).await?;
        self.ensure(std::slice::from_ref(package), true).await?;
        Ok(Some(Published {
            record,
            registry_index,
        }))
    }
}
