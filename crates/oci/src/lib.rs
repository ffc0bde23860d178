//! OCI registries as package sources.
//!
//! This crate owns the OCI backend: [`OciSource`], which implements the
//! registry crate's [`Source`] trait over an OCI distribution registry
//! (ghcr.io, a CNCF `distribution` server, ...) following the Wasm OCI
//! artifact layout that wkg uses ([`artifact`]); the parsing of wkg's
//! `[registry."NAME".oci]` table ([`OciSettings`]); and [`factory`], which
//! plugs OCI sources into
//! [`Registries::from_config_with`](warg_depsolve_registry::Registries::from_config_with).
//!
//! Every request is bounded: a connect timeout and a read timeout (10 s and
//! 30 s by default, per registry in its table, or for every registry at once
//! through [`SourceOptions::timeout`]), and a failure that may pass (an HTTP
//! 5xx answer, a connection refused, reset or cut, a timeout; never a 4xx
//! answer) is tried again, twice by default, after 200 ms and 400 ms. A
//! request that has had no answer for 5 s sends one notice to the caller's
//! sink ([`OciSource::with_notices`]); a request that fails for good is
//! [`SourceError::Network`](warg_depsolve_registry::SourceError::Network),
//! naming the registry, its URL, what was being fetched and the number of
//! attempts, with the last failure as its source.
//!
//! Credentials are found where wkg finds them ([`credentials`]): a
//! `WKG_REGISTRY_<HOST>_AUTH_BEARER` token, the table's `auth`, then
//! Docker's `config.json` and credential helpers; a refusal names where the
//! refused credentials came from, never the secret.
//!
//! It must not solve, compose, print or cache on disk. Notices and download
//! progress go to the sinks its caller gives it
//! ([`OciSource::with_notices`], [`OciSource::with_progress`]), nowhere
//! without them. Callers wrap it in the registry crate's
//! [`CachedSource`](warg_depsolve_registry::CachedSource), which keeps
//! content, metadata and version lists by digest and answers offline. It
//! checks every layer it downloads against its digest, and its errors name
//! the registry and the package.
//!
//! The HTTP work is done by `oci-client` (the ORAS project's client, which
//! wkg's OCI backend also uses) over reqwest and rustls with the ring
//! provider: no OpenSSL. The [`Source`] trait is synchronous, so each
//! source runs its requests on a small tokio runtime of its own (shared by
//! the sources one [`factory`] makes).
//!
//! ```no_run
//! use warg_depsolve_registry::{Cache, CachedSource, Config, Registries, Source};
//! let config = Config::from_toml(r#"
//!     default_registry = "ghcr.io"
//!     [registry."ghcr.io".oci]
//!     namespacePrefix = "my-org/"
//!     auth = { username = "me", password = "token" }
//! "#, "config.toml").unwrap();
//! let registries = Registries::from_config_with(&config, &warg_depsolve_oci::factory(&config)).unwrap();
//! let source = CachedSource::new(registries, Cache::new("/tmp/cache"));
//! let versions = source.versions(&"acme:kv".parse().unwrap()).unwrap();
//! ```
//!
//! [`Source`]: warg_depsolve_registry::Source

#![allow(clippy::result_large_err)]
#![warn(missing_docs)]

pub mod artifact;
pub mod credentials;
mod direct;
pub mod settings;
mod source;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use warg_depsolve_registry::cache::Warn;
use warg_depsolve_registry::progress::Progress;
use warg_depsolve_registry::{Backend, Config, ConfigError, Source};

pub use settings::{
    OciSettings, DEFAULT_CONCURRENCY, DEFAULT_CONNECT_TIMEOUT, DEFAULT_PREFETCH_DEPTH,
    DEFAULT_READ_TIMEOUT, DEFAULT_RETRIES, DEFAULT_RETRY_BACKOFF, DEFAULT_SLOW_NOTICE,
};
pub use source::{semver_tag, OciSource, READ_AHEAD_LIMIT};

/// What [`factory_with_options`] gives every source it makes, beyond what
/// the source's config table says.
#[derive(Clone, Default)]
pub struct SourceOptions {
    /// Where the sources report their downloads (see
    /// [`OciSource::with_progress`]); nowhere when `None`.
    pub progress: Option<Arc<dyn Progress>>,
    /// Replaces every registry's `connect_timeout` and `read_timeout` (the
    /// command line's `--timeout`).
    pub timeout: Option<Duration>,
    /// Where the sources' notices go (a registry slow to answer, see
    /// [`OciSource::with_notices`]); dropped when `None`.
    pub notices: Option<Warn>,
}

impl std::fmt::Debug for SourceOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceOptions")
            .field("progress", &self.progress.is_some())
            .field("timeout", &self.timeout)
            .field("notices", &self.notices.is_some())
            .finish()
    }
}

/// A backend factory for
/// [`Registries::from_config_with`](warg_depsolve_registry::Registries::from_config_with):
/// builds an [`OciSource`] for every `[registry."NAME".oci]` section of
/// `config` (checking its keys, and naming the file and key of anything it
/// cannot accept) and leaves other backends (`warg`) unusable. The sources
/// it makes share one runtime, started when the first is made.
pub fn factory(
    config: &Config,
) -> impl Fn(&str, &Backend) -> Result<Option<Arc<dyn Source>>, ConfigError> {
    factory_with_options(config, SourceOptions::default())
}

/// [`factory`], with every source made as `options` say.
pub fn factory_with_options(
    config: &Config,
    options: SourceOptions,
) -> impl Fn(&str, &Backend) -> Result<Option<Arc<dyn Source>>, ConfigError> {
    let file = settings::origin_path(config);
    let runtime: OnceLock<Arc<tokio::runtime::Runtime>> = OnceLock::new();
    move |name: &str, backend: &Backend| {
        let Backend::Oci(table) = backend else {
            return Ok(None);
        };
        let mut settings = OciSettings::from_table(name, table, &file)?;
        if let Some(timeout) = options.timeout {
            settings.connect_timeout = timeout;
            settings.read_timeout = timeout;
        }
        let runtime = match runtime.get() {
            Some(rt) => rt.clone(),
            None => {
                let rt = source::new_runtime().map_err(|message| ConfigError::Invalid {
                    path: file.clone(),
                    key: format!("registry.{name:?}.oci"),
                    message,
                })?;
                runtime.get_or_init(|| Arc::new(rt)).clone()
            }
        };
        let mut source =
            OciSource::with_runtime(name, settings, runtime).map_err(|e| ConfigError::Invalid {
                path: file.clone(),
                key: format!("registry.{name:?}.oci"),
                message: e.to_string(),
            })?;
        if let Some(progress) = &options.progress {
            source = source.with_progress(progress.clone());
        }
        if let Some(notices) = &options.notices {
            source = source.with_notices(notices.clone());
        }
        Ok(Some(Arc::new(source) as Arc<dyn Source>))
    }
}
