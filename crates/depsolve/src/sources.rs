//! Opening the registries a command (or a loader) is configured with.
//!
//! [`Sources::open`] turns [`SourceSettings`] (the command line's
//! `--registry`, `--config`, `--cache` and `--offline`) into one
//! [`Source`]: the [`Registries`] router of the configuration, with every
//! registry behind a [`CachedSource`] on one shared [`Cache`].
//!
//! OCI registries are served with the `oci` feature, warg registries with
//! the `warg` feature (both on by default); without it, a package routed
//! to one fails with
//! [`SourceError::BackendUnavailable`](warg_depsolve_registry::SourceError::BackendUnavailable).
//! A registry the mappings name without a `[registry."NAME"]` section is
//! found through its metadata, as wkg finds it ([`crate::discover`]).
//! A warg registry's state (its last checkpoint, so that a rewind is
//! caught from one run to the next, and its fetch tokens) is kept in the
//! cache directory, under `warg/`.
//! Nothing here prints: the sources' warnings, notices and download
//! progress go to the sinks in [`SourceSettings`], nowhere without them.
//!
//! # Which configuration
//!
//! 1. `--registry DIR` given: the built-in configuration, every package
//!    from the local registry (wkg layout) at `DIR`. An explicit directory
//!    on the command line wins over `$WARG_DEPSOLVE_CONFIG` and over a wkg
//!    config found in `$XDG_CONFIG_HOME`: what the user typed for this run
//!    beats what the environment says for every run. It cannot be combined
//!    with `--config` (the command line rejects both).
//! 2. Otherwise [`load_config`]'s precedence: `--config FILE`, else
//!    `$WARG_DEPSOLVE_CONFIG`, else `$XDG_CONFIG_HOME/wasm-pkg/config.toml`
//!    if it exists, else the built-in configuration at the default local
//!    registry directory ([`default_registry_dir`]).
//!
//! # Defaults
//!
//! - local registry: `$XDG_DATA_HOME/warg-depsolve/registry`, else
//!   `~/.local/share/warg-depsolve/registry`;
//! - cache: `$XDG_CACHE_HOME/warg-depsolve`, else `~/.cache/warg-depsolve`.

use std::path::PathBuf;
use std::sync::Arc;

use warg_depsolve_names::PackageName;
use warg_depsolve_registry::cache::Warn;
use warg_depsolve_registry::progress::Progress;
use warg_depsolve_registry::{
    load_config, Backend, Cache, CachedSource, ConfigError, ConfigInputs, ConfigOrigin, Registries,
    Source,
};

use crate::{Error, SetupError};

/// What [`Sources::open`] needs to know; every field may be left at its
/// default.
#[derive(Clone, Default)]
pub struct SourceSettings {
    /// `--registry DIR`: a local registry that serves every package, chosen
    /// over any configuration file except an explicit `config`.
    pub registry: Option<PathBuf>,
    /// `--config FILE`: a wkg-shaped `config.toml`.
    pub config: Option<PathBuf>,
    /// `--cache DIR`; [`default_cache_dir`] when `None`.
    pub cache: Option<PathBuf>,
    /// `--offline`: answer from the cache only, never asking a registry.
    pub offline: bool,
    /// `--timeout SECONDS`: every network registry's connect and read
    /// timeout, replacing what its configuration says (defaults: 10 s and
    /// 30 s, see the OCI crate).
    pub timeout: Option<std::time::Duration>,
    /// Where the caches' warnings go (a damaged cache file discarded);
    /// dropped when `None`.
    pub warnings: Option<Warn>,
    /// Where network registries' notices go (a registry slow to answer);
    /// dropped when `None`.
    pub notices: Option<Warn>,
    /// Where network registries report their downloads; not reported when
    /// `None`.
    pub progress: Option<Arc<dyn Progress>>,
}

impl std::fmt::Debug for SourceSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceSettings")
            .field("registry", &self.registry)
            .field("config", &self.config)
            .field("cache", &self.cache)
            .field("offline", &self.offline)
            .field("timeout", &self.timeout)
            .field("warnings", &self.warnings.is_some())
            .field("notices", &self.notices.is_some())
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// `$XDG_CACHE_HOME/warg-depsolve`, else `$HOME/.cache/warg-depsolve`;
/// `None` when neither variable is set.
pub fn default_cache_dir() -> Option<PathBuf> {
    xdg_dir("XDG_CACHE_HOME", ".cache").map(|d| d.join("warg-depsolve"))
}

/// `$XDG_DATA_HOME/warg-depsolve/registry`, else
/// `$HOME/.local/share/warg-depsolve/registry`: the local registry used when
/// neither `--registry` nor any configuration file says otherwise. `None`
/// when neither variable is set.
pub fn default_registry_dir() -> Option<PathBuf> {
    xdg_dir("XDG_DATA_HOME", ".local/share").map(|d| d.join("warg-depsolve").join("registry"))
}

fn xdg_dir(var: &str, home_relative: &str) -> Option<PathBuf> {
    let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    set(var)
        .map(PathBuf::from)
        .or_else(|| set("HOME").map(|home| PathBuf::from(home).join(home_relative)))
}

/// The configured registries, each behind the cache.
pub struct Sources {
    registries: Registries,
    cache: Cache,
    offline: bool,
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sources")
            .field("registries", &self.registries)
            .field("cache", &self.cache.root())
            .field("offline", &self.offline)
            .finish()
    }
}

impl Sources {
    /// Loads the configuration (see the [module docs](self) for which one)
    /// and puts every registry it names behind a [`CachedSource`] on the
    /// cache directory (offline ones if `settings.offline`).
    ///
    /// ```
    /// use warg_depsolve::sources::{SourceSettings, Sources};
    /// use warg_depsolve::registry::Source;
    /// let cache = tempfile::tempdir().unwrap();
    /// let sources = Sources::open(&SourceSettings {
    ///     registry: Some(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/registry").into()),
    ///     cache: Some(cache.path().into()),
    ///     ..SourceSettings::default()
    /// }).unwrap();
    /// let add = "test:add".parse().unwrap();
    /// assert_eq!(sources.source().versions(&add).unwrap().releases.len(), 3);
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for a configuration file that cannot be read or is
    /// wrong (naming the file and key); [`Error::Setup`] when a default
    /// directory is needed and neither `$HOME` nor the XDG variable is set.
    pub fn open(settings: &SourceSettings) -> Result<Self, Error> {
        let inputs = match &settings.registry {
            Some(dir) => ConfigInputs {
                default_local_root: dir.clone(),
                ..ConfigInputs::default()
            },
            None => ConfigInputs::from_env(
                settings.config.clone(),
                default_registry_dir().unwrap_or_default(),
            ),
        };
        let config = load_config(&inputs)?;
        if config.origin == ConfigOrigin::BuiltIn
            && inputs.default_local_root.as_os_str().is_empty()
        {
            return Err(SetupError::NoRegistry.into());
        }
        let cache_dir = match &settings.cache {
            Some(dir) => dir.clone(),
            None => default_cache_dir().ok_or(SetupError::NoCache)?,
        };
        // Said here, before any registry is blamed for it.
        if cache_dir.exists() && !cache_dir.is_dir() {
            return Err(SetupError::CacheNotADirectory { path: cache_dir }.into());
        }
        let cache = Cache::new(cache_dir.clone());
        let offline = settings.offline;
        let registries = registries(&config, settings, &cache_dir)?.map_sources(|_, source| {
            let mut cached = if offline {
                CachedSource::offline(source, cache.clone())
            } else {
                CachedSource::new(source, cache.clone())
            };
            if let Some(warnings) = &settings.warnings {
                cached = cached.with_warnings(warnings.clone());
            }
            Arc::new(cached) as Arc<dyn Source>
        });
        Ok(Sources {
            registries,
            cache,
            offline,
        })
    }

    /// The router: one [`Source`] over every configured registry, cached.
    pub fn source(&self) -> &dyn Source {
        &self.registries
    }

    /// The router itself (routes, local registry roots).
    pub fn registries(&self) -> &Registries {
        &self.registries
    }

    /// The cache every registry is behind.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// Whether registries are never asked.
    pub fn is_offline(&self) -> bool {
        self.offline
    }

    /// Where the configuration came from.
    pub fn origin(&self) -> &ConfigOrigin {
        self.registries.origin()
    }

    /// The registry `package` is routed to, for messages:
    /// ``registry `local` (local directory `testdata/registry`)``.
    pub fn describe(&self, package: &PackageName) -> String {
        let name = self.registries.registry_for(package);
        match self.registries.local_root(name) {
            Some(root) => format!("registry `{name}` (local directory `{}`)", root.display()),
            None => format!("registry `{name}` (configured in {})", self.origin()),
        }
    }
}

/// The configuration's registries: local ones built in; OCI and warg ones
/// from their crates' factories (with the settings' timeout and sinks, a
/// warg registry's state kept under the cache); registries with no
/// section found through their metadata ([`crate::discover`]). Each
/// backend this build lacks is left unusable.
fn registries(
    config: &warg_depsolve_registry::Config,
    settings: &SourceSettings,
    cache_dir: &std::path::Path,
) -> Result<Registries, Error> {
    #[cfg(feature = "oci")]
    let oci = warg_depsolve_oci::factory_with_options(
        config,
        warg_depsolve_oci::SourceOptions {
            timeout: settings.timeout,
            notices: settings.notices.clone(),
            progress: settings.progress.clone(),
        },
    );
    #[cfg(feature = "warg")]
    let warg = warg_depsolve_warg::factory(
        config,
        warg_depsolve_warg::WargOptions {
            timeout: settings.timeout,
            state_dir: Some(cache_dir.join("warg")),
            notices: settings.notices.clone(),
        },
    );
    #[cfg(not(feature = "warg"))]
    let _ = cache_dir;
    let build =
        move |name: &str, backend: &Backend| -> Result<Option<Arc<dyn Source>>, ConfigError> {
            match backend {
                #[cfg(feature = "oci")]
                Backend::Oci(_) => oci(name, backend),
                #[cfg(feature = "warg")]
                Backend::Warg(_) => warg(name, backend),
                _ => {
                    // A backend this build lacks: left unusable.
                    let _ = name;
                    Ok(None)
                }
            }
        };
    #[cfg(feature = "discovery")]
    {
        let build: crate::discover::Build = Arc::new(build);
        let timeout = settings.timeout.unwrap_or(crate::discover::DEFAULT_TIMEOUT);
        Ok(Registries::from_config_with(config, &|name, backend| {
            let metadata = config.metadata.get(name);
            match backend {
                Backend::Discover => Ok(Some(Arc::new(crate::discover::Discovered::new(
                    name,
                    metadata.cloned(),
                    timeout,
                    build.clone(),
                )) as Arc<dyn Source>)),
                other => match metadata {
                    Some(metadata) => build(name, &crate::discover::with_metadata(other, metadata)),
                    None => build(name, other),
                },
            }
        })?)
    }
    #[cfg(not(feature = "discovery"))]
    {
        let _ = settings;
        Ok(Registries::from_config_with(config, &build)?)
    }
}
