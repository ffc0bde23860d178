//! [`WargSource`]: a warg registry behind the registry crate's [`Source`],
//! [`Hints`] and [`Publish`] traits.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use semver::Version;
use warg_crypto::hash::AnyHash;
use warg_depsolve_names::{Integrity, PackageName};
use warg_depsolve_registry::{
    check_build_metadata, Hints, Listing, Publish, Release, ReleaseMetadata, Source, SourceError,
    Stamp, Verified,
};

use std::path::PathBuf;

use warg_depsolve_registry::cache::Warn;
use warg_depsolve_registry::fsutil::{write_atomic, Existing};

use crate::client::WargClient;
use crate::error::WargError;
use crate::settings::WargSettings;
use crate::state::{Namespace, RegistryState, WargRelease};

/// A warg registry as a package [`Source`] (and [`Publish`]er).
///
/// - [`Source::versions`] lists the package's releases from its validated
///   log, yanked ones marked; each source asks the registry about a
///   package once (and again after writing to it).
/// - [`Hints::release_digest`] reads the digest from the log: no
///   download. [`Source::metadata`] downloads the release (kept for the
///   [`Source::fetch`] that usually follows) and reads it.
/// - [`Publish::publish`] validates the component, then releases it with
///   the configured signing key; [`Publish::set_yanked`] yanks. Warg has no
///   un-yank: un-yanking a yanked release is [`SourceError::Unsupported`].
///
/// A package in a namespace that the registry's operator log says is
/// imported from another registry is read from that registry directly
/// (over http for `localhost` and `127.0.0.1`, https otherwise, with this
/// registry's timeouts and neither its token nor its key), up to
/// [`MAX_IMPORT_HOPS`] registries away; publishing to it is refused.
///
/// With [`WargSource::with_state_dir`], what the client learned is kept
/// between runs: the last checkpoint (a registry that rewinds is caught
/// from one run to the next) and the fetch tokens.
///
/// Errors of the warg kind (a log that does not validate, a proof that
/// does not hold) are [`SourceError::Backend`] with the [`WargError`] as
/// their source.
pub struct WargSource {
    client: WargClient,
    /// Releases downloaded to read metadata, kept for the fetch that
    /// usually follows, so a release is downloaded once.
    downloaded: Mutex<HashMap<Integrity, Verified>>,
    /// Where the client's state is kept between runs.
    kept: Option<KeptState>,
    /// The sources of registries namespaces are imported from, by name.
    imports: Mutex<HashMap<String, Arc<WargSource>>>,
    /// How many imports away from the configured registry this one is.
    hops: u8,
}

/// How many registries away an imported namespace is followed: a longer
/// chain (or a loop) is an error naming the registries.
pub const MAX_IMPORT_HOPS: u8 = 4;

/// Where a source keeps its client's state, and where it says that it
/// could not.
struct KeptState {
    dir: PathBuf,
    file: PathBuf,
    notices: Option<Warn>,
}

impl KeptState {
    fn notice(&self, message: &str) {
        if let Some(notices) = &self.notices {
            notices(message);
        }
    }
}

/// The file a registry's state is kept in: its name encoded as the cache
/// encodes registry names (one safe path component, distinct names never
/// sharing one).
fn state_file_name(registry: &str) -> String {
    format!(
        "{}.state.json",
        warg_depsolve_registry::cache::encode_component(registry)
    )
}

impl std::fmt::Debug for WargSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WargSource")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

/// The digest of a warg release in the names crate's form.
fn integrity(digest: &AnyHash) -> Result<Integrity, String> {
    Integrity::parse_oci(&digest.to_string())
}

impl WargSource {
    /// The registry `client` reaches, as a source named as the client is.
    pub fn new(client: WargClient) -> Self {
        WargSource {
            client,
            downloaded: Mutex::new(HashMap::new()),
            kept: None,
            imports: Mutex::new(HashMap::new()),
            hops: 0,
        }
    }

    /// The same source, keeping its client's state in `dir` between runs:
    /// the state kept there (if any, and if it was learned from the same
    /// URL) is resumed now, and the state is written back when the source
    /// is dropped (atomically, so two runs never leave half a file). A
    /// kept state that cannot be read is set aside with a notice: the
    /// client then starts afresh, as on a first run.
    pub fn with_state_dir(mut self, dir: PathBuf, notices: Option<Warn>) -> Self {
        let file = dir.join(state_file_name(self.client.registry()));
        let kept = KeptState { dir, file, notices };
        match std::fs::read(&kept.file) {
            Ok(bytes) => match serde_json::from_slice::<RegistryState>(&bytes) {
                Ok(state) => match self.client.clone().with_state(state) {
                    Ok(client) => self.client = client,
                    Err(e) => kept.notice(&format!(
                        "warning: the kept state of warg registry `{}` was not used: {}",
                        self.client.registry(),
                        warg_depsolve_names::error::chain(&e)
                    )),
                },
                Err(e) => kept.notice(&format!(
                    "warning: the kept state of warg registry `{}` (`{}`) is damaged and was set aside: {e}",
                    self.client.registry(),
                    kept.file.display()
                )),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => kept.notice(&format!(
                "warning: cannot read the kept state of warg registry `{}` (`{}`): {e}",
                self.client.registry(),
                kept.file.display()
            )),
        }
        self.kept = Some(kept);
        self
    }

    /// Writes the client's state where [`WargSource::with_state_dir`] said
    /// (also done when the source is dropped); does nothing without one.
    pub fn keep_state(&self) -> Result<(), std::io::Error> {
        let Some(kept) = &self.kept else {
            return Ok(());
        };
        let state = self.client.state().map_err(std::io::Error::other)?;
        if state.url().is_none() {
            // Nothing learned: nothing to keep (and a kept state stays).
            return Ok(());
        }
        let bytes = serde_json::to_vec(&state).map_err(std::io::Error::other)?;
        std::fs::create_dir_all(&kept.dir)?;
        write_atomic(&kept.file, &bytes, Existing::Replace)
    }

    /// The source that holds `package`: `None` for this registry, else the
    /// registry its namespace is imported from.
    fn owner(&self, package: &PackageName) -> Result<Option<Arc<WargSource>>, SourceError> {
        let namespace = self
            .client
            .namespace(package.namespace())
            .map_err(|e| self.error(e, package, None, || format!("looking up `{package}`")))?;
        let Namespace::Imported { registry } = namespace else {
            return Ok(None);
        };
        self.import(&registry, package).map(Some)
    }

    /// The source of `registry`, which `package`'s namespace is imported
    /// from.
    fn import(
        &self,
        registry: &str,
        package: &PackageName,
    ) -> Result<Arc<WargSource>, SourceError> {
        let registry = registry.to_string();
        let mut imports = self.imports.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(source) = imports.get(&registry) {
            return Ok(source.clone());
        }
        let here = self.client.registry().to_string();
        if self.hops + 1 >= MAX_IMPORT_HOPS || registry == here {
            return Err(SourceError::Backend {
                source_name: here.clone(),
                what: format!("looking up `{package}`"),
                cause: Box::new(WargError::NamespaceImported {
                    registry: here,
                    namespace: package.namespace().to_string(),
                    from: registry,
                }),
            });
        }
        let mine = self.client.settings();
        let mut settings = WargSettings::for_host(&registry);
        settings.connect_timeout = mine.connect_timeout;
        settings.read_timeout = mine.read_timeout;
        settings.retries = mine.retries;
        settings.retry_backoff = mine.retry_backoff;
        let client = WargClient::with_runtime(&registry, settings, self.client.runtime().clone())
            .map_err(|e| self.error(e, package, None, || format!("reaching registry `{registry}`, which `{package}`'s namespace is imported from")))?;
        let mut source = WargSource::new(client);
        source.hops = self.hops + 1;
        if let Some(kept) = &self.kept {
            source = source.with_state_dir(kept.dir.clone(), kept.notices.clone());
        }
        let source = Arc::new(source);
        imports.insert(registry, source.clone());
        Ok(source)
    }

    /// The client underneath.
    pub fn client(&self) -> &WargClient {
        &self.client
    }

    fn error(
        &self,
        e: WargError,
        package: &PackageName,
        version: Option<&Version>,
        what: impl FnOnce() -> String,
    ) -> SourceError {
        let source_name = self.client.registry().to_string();
        match e {
            WargError::PackageNotFound { .. } => SourceError::PackageNotFound {
                source_name,
                package: package.clone(),
            },
            WargError::VersionNotFound { version: v, .. } => SourceError::VersionNotFound {
                source_name,
                package: package.clone(),
                version: v,
            },
            WargError::ContentNotFound { digest, .. } => SourceError::ContentNotFound {
                source_name,
                package: package.clone(),
                digest,
            },
            WargError::DigestMismatch {
                expected, actual, ..
            } => SourceError::DigestMismatch {
                source_name,
                package: package.clone(),
                version: version.cloned(),
                path: None,
                expected,
                actual,
            },
            WargError::Network {
                url,
                what,
                attempts,
                cause,
                ..
            } => SourceError::Network {
                source_name,
                location: url,
                what,
                attempts,
                cause,
            },
            WargError::AlreadyPublished {
                version: v,
                existing,
                new,
                ..
            } => SourceError::AlreadyPublished {
                source_name,
                package: package.clone(),
                version: v,
                existing,
                new,
            },
            WargError::NoUnyank { .. } => SourceError::Unsupported {
                source_name,
                operation: "un-yanking (warg has no un-yank: a yanked release stays yanked)",
            },
            other => SourceError::Backend {
                source_name,
                what: what(),
                cause: Box::new(other),
            },
        }
    }

    /// `package` as warg names it; a name warg cannot have is a package it
    /// does not have.
    fn warg_name(&self, package: &PackageName) -> Result<crate::PackageName, SourceError> {
        crate::PackageName::from_str(&package.to_string()).map_err(|_| {
            SourceError::PackageNotFound {
                source_name: self.client.registry().to_string(),
                package: package.clone(),
            }
        })
    }

    fn releases(&self, package: &PackageName) -> Result<Vec<WargRelease>, SourceError> {
        let name = self.warg_name(package)?;
        match self.client.releases(&name) {
            Err(WargError::NamespaceImported { from, .. }) => {
                self.import(&from, package)?.releases(package)
            }
            other => {
                other.map_err(|e| self.error(e, package, None, || format!("listing `{package}`")))
            }
        }
    }

    fn release(&self, package: &PackageName, version: &Version) -> Result<Integrity, SourceError> {
        let release = self
            .releases(package)?
            .into_iter()
            .find(|r| r.version == *version)
            .ok_or_else(|| SourceError::VersionNotFound {
                source_name: self.client.registry().to_string(),
                package: package.clone(),
                version: version.clone(),
            })?;
        integrity(&release.digest).map_err(|message| SourceError::Backend {
            source_name: self.client.registry().to_string(),
            what: format!("reading the digest of `{package}@{version}`"),
            cause: message.into(),
        })
    }

    fn download(
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
        if let Some(owner) = self.owner(package)? {
            return owner.download(package, version, digest);
        }
        let what = || format!("downloading `{package}@{version}`");
        let hash = AnyHash::from_str(&digest.to_oci()).map_err(|e| SourceError::Backend {
            source_name: self.client.registry().to_string(),
            what: what(),
            cause: Box::new(e),
        })?;
        let bytes = self
            .client
            .download(&hash)
            .map_err(|e| self.error(e, package, Some(version), what))?;
        // The client checked the bytes against the digest already; the
        // registry crate's proof of that is a `Verified`, which hashes
        // once more.
        Verified::check(bytes, digest).map_err(|m| SourceError::DigestMismatch {
            source_name: self.client.registry().to_string(),
            package: package.clone(),
            version: Some(version.clone()),
            path: None,
            expected: m.expected.to_oci(),
            actual: m.actual.to_oci(),
        })
    }
}

impl Source for WargSource {
    fn name(&self) -> &str {
        self.client.registry()
    }

    fn registry_for(&self, _package: &PackageName) -> &str {
        self.client.registry()
    }

    fn versions(&self, package: &PackageName) -> Result<Listing, SourceError> {
        let releases: Vec<Release> = self
            .releases(package)?
            .into_iter()
            .map(|r| Release {
                version: r.version,
                yanked: r.yanked,
            })
            .collect();
        // No stamp: only the registry's checkpoint tells whether the log
        // moved, and asking for it is what listing does.
        Ok(Listing::unstamped(releases))
    }

    fn metadata(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<Arc<ReleaseMetadata>, SourceError> {
        let digest = self.release(package, version)?;
        let bytes = self.download(package, version, &digest)?;
        let meta = ReleaseMetadata::from_verified(package, version, &bytes)
            .map_err(|e| e.into_source_error(self.client.registry(), package, version))?;
        self.downloaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(digest, bytes);
        Ok(Arc::new(meta))
    }

    fn fetch(
        &self,
        package: &PackageName,
        version: &Version,
        digest: &Integrity,
    ) -> Result<Verified, SourceError> {
        self.download(package, version, digest)
    }

    fn hints(&self) -> Option<&dyn Hints> {
        Some(self)
    }

    fn publisher(&self) -> Option<&dyn Publish> {
        Some(self)
    }
}

impl Hints for WargSource {
    /// Starts bringing the named packages' logs up to date in the
    /// background, in one exchange; later calls wait for it instead of
    /// asking again. Versions named are in those logs already.
    fn prefetch(&self, wanted: &[(PackageName, Option<Version>)]) {
        let names: Vec<crate::PackageName> = wanted
            .iter()
            .filter_map(|(p, _)| self.warg_name(p).ok())
            .collect();
        self.client.start_prefetch(&names);
    }

    /// The package's log names the digest: no download.
    fn release_digest(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Option<Result<Integrity, SourceError>> {
        Some(self.release(package, version))
    }

    /// None: only the registry's checkpoint tells whether the log moved.
    fn versions_stamp(&self, _package: &PackageName) -> Option<Stamp> {
        None
    }

    /// None: a release's digest is fixed by its log, but telling that it is
    /// still the same release takes the log.
    fn release_stamp(&self, _package: &PackageName, _version: &Version) -> Option<Stamp> {
        None
    }
}

impl Publish for WargSource {
    fn publish(
        &self,
        package: &PackageName,
        version: &Version,
        bytes: &[u8],
    ) -> Result<ReleaseMetadata, SourceError> {
        let meta = ReleaseMetadata::for_publish(package, version, bytes)
            .map_err(|e| e.into_source_error(self.client.registry(), package, version))?;
        let published = match self.releases(package) {
            Ok(releases) => releases.into_iter().map(|r| r.version).collect(),
            Err(SourceError::PackageNotFound { .. }) => Vec::new(),
            Err(e) => return Err(e),
        };
        check_build_metadata(self.client.registry(), package, version, &published)?;
        let name = self.warg_name(package)?;
        self.client.publish(&name, version, bytes).map_err(|e| {
            self.error(e, package, Some(version), || {
                format!("publishing `{package}@{version}`")
            })
        })?;
        Ok(meta)
    }

    fn set_yanked(
        &self,
        package: &PackageName,
        version: &Version,
        yanked: bool,
    ) -> Result<(), SourceError> {
        let name = self.warg_name(package)?;
        self.client
            .set_yanked(&name, version, yanked)
            .map(|_| ())
            .map_err(|e| {
                self.error(e, package, Some(version), || {
                    format!("yanking `{package}@{version}`")
                })
            })
    }
}

/// The state is kept when the source goes (see
/// [`WargSource::with_state_dir`]).
impl Drop for WargSource {
    fn drop(&mut self) {
        if let (Err(e), Some(kept)) = (self.keep_state(), &self.kept) {
            kept.notice(&format!(
                "warning: cannot keep the state of warg registry `{}` in `{}`: {e}",
                self.client.registry(),
                kept.file.display()
            ));
        }
    }
}
