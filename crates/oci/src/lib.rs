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
//! It must not solve, compose, print (beyond a download progress bar on a
//! terminal) or cache on disk: callers wrap it in the registry crate's
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
pub mod settings;
mod source;

use std::sync::{Arc, OnceLock};

use warg_depsolve_registry::{Backend, Config, ConfigError, Source};

pub use settings::{OciSettings, DEFAULT_CONCURRENCY};
pub use source::{semver_tag, OciSource, Progress};

/// A backend factory for
/// [`Registries::from_config_with`](warg_depsolve_registry::Registries::from_config_with):
/// builds an [`OciSource`] for every `[registry."NAME".oci]` section of
/// `config` (checking its keys, and naming the file and key of anything it
/// cannot accept) and leaves other backends (`warg`) unusable. The sources
/// it makes share one runtime, started when the first is made.
pub fn factory(
    config: &Config,
) -> impl Fn(&str, &Backend) -> Result<Option<Arc<dyn Source>>, ConfigError> {
    factory_with(config, Progress::Auto)
}

/// [`factory`], with downloads shown as `progress` says.
pub fn factory_with(
    config: &Config,
    progress: Progress,
) -> impl Fn(&str, &Backend) -> Result<Option<Arc<dyn Source>>, ConfigError> {
    let file = settings::origin_path(config);
    let runtime: OnceLock<Arc<tokio::runtime::Runtime>> = OnceLock::new();
    move |name: &str, backend: &Backend| {
        let Backend::Oci(table) = backend else {
            return Ok(None);
        };
        let settings = OciSettings::from_table(name, table, &file)?;
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
        let source = OciSource::with_runtime(name, settings, runtime)
            .map_err(|e| ConfigError::Invalid {
                path: file.clone(),
                key: format!("registry.{name:?}.oci"),
                message: e.to_string(),
            })?
            .with_progress(progress);
        Ok(Some(Arc::new(source) as Arc<dyn Source>))
    }
}
