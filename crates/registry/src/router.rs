//! [`Registries`]: one [`Source`] over several registries, routing each
//! package to the registry the configuration maps it to.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use semver::Version;
use warg_depsolve_names::{Integrity, PackageName};

use crate::config::{Backend, Config, ConfigError, ConfigOrigin};
use crate::local::LocalRegistry;
use crate::source::{Hints, Listing, Publish, ReleaseMetadata, Source, SourceError, Stamp};
use crate::verified::Verified;

/// Builds the source of one non-local registry from its name and backend,
/// for [`Registries::from_config_with`]: `Ok(None)` leaves it unusable.
pub type BackendFactory<'a> = FactoryOf<'a, ConfigError>;

type FactoryOf<'a, E> = dyn Fn(&str, &Backend) -> Result<Option<Arc<dyn Source>>, E> + 'a;

/// What the router name reports when it has no default registry.
const ROUTER_NAME: &str = "registries";

#[derive(Clone)]
enum Entry {
    /// A registry that can serve packages.
    Ready(Arc<dyn Source>),
    /// A registry that is configured but cannot be used; the message says
    /// why (and where it is configured).
    Unusable(String),
}

/// A router over named registries, implementing [`Source`] by sending each
/// package to its registry: a package override, else the namespace's
/// registry, else the default (wkg's rule). One resolution can so draw
/// `test:*` from one directory and `acme:*` from another.
///
/// [`Source::registry_for`] answers the registry name a lock file should
/// record; [`Source::name`] is the default registry's name. The router
/// offers [`Hints`] and [`Publish`] whatever its registries are, and
/// passes each call to the registry of the package: hints a registry does
/// not offer are answered as that registry would (no stamp, no cheap
/// digest, nothing prefetched), and publishing to a registry that cannot
/// is [`SourceError::Unsupported`] naming it.
///
/// ```
/// use std::sync::Arc;
/// use warg_depsolve_registry::{MemorySource, Registries, Source};
/// let test = Arc::new(MemorySource::new("test-reg"));
/// let acme = Arc::new(MemorySource::new("acme-reg"));
/// let mut registries = Registries::new(Some("test-reg".into()));
/// registries.insert("test-reg", test.clone());
/// registries.insert("acme-reg", acme.clone());
/// registries.map_namespace("acme", "acme-reg");
/// let kv = "acme:kv".parse().unwrap();
/// acme.add_synthetic(&kv, &"1.0.0".parse().unwrap(), vec![]).unwrap();
/// assert_eq!(registries.registry_for(&kv), "acme-reg");
/// assert_eq!(registries.versions(&kv).unwrap().releases.len(), 1);
/// ```
#[derive(Clone)]
pub struct Registries {
    origin: ConfigOrigin,
    default: Option<String>,
    namespaces: HashMap<String, String>,
    packages: HashMap<PackageName, String>,
    entries: BTreeMap<String, Entry>,
    locals: BTreeMap<String, Arc<LocalRegistry>>,
}

impl std::fmt::Debug for Registries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registries")
            .field("origin", &self.origin)
            .field("default", &self.default)
            .field("namespaces", &self.namespaces)
            .field("packages", &self.packages)
            .field("registries", &self.entries.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Registries {
    /// An empty router whose unmapped packages go to `default` (a registry
    /// name added later with [`Registries::insert`]).
    pub fn new(default: Option<String>) -> Self {
        Registries {
            origin: ConfigOrigin::BuiltIn,
            default,
            namespaces: HashMap::new(),
            packages: HashMap::new(),
            entries: BTreeMap::new(),
            locals: BTreeMap::new(),
        }
    }

    /// The router a configuration describes: a [`LocalRegistry`] for each
    /// local backend; OCI and warg backends, and registries the mappings
    /// name without a `[registry."..."]` section, fail with
    /// [`SourceError::BackendUnavailable`] when a package routed to them is
    /// used. [`Registries::from_config_with`] lets a caller supply the
    /// remote backends.
    pub fn from_config(config: &Config) -> Self {
        Self::build::<std::convert::Infallible>(config, &|_, _| Ok(None))
            .unwrap_or_else(|never| match never {})
    }

    /// [`Registries::from_config`], with `factory` building the sources of
    /// non-local backends: it is called once per `[registry."NAME"]` whose
    /// backend is not `local`, and once per registry the mappings name
    /// without a section ([`Backend::Discover`]), with the registry's name
    /// and backend, and
    /// answers `Some(source)` to serve it, `None` to leave it unusable (a
    /// package routed there fails with [`SourceError::BackendUnavailable`]
    /// when used), or an error naming the file and key of a setting it
    /// cannot accept, which stops the whole configuration. Local backends
    /// are always [`LocalRegistry`]s.
    ///
    /// This keeps the registry crate free of network code: an OCI source
    /// lives in its own crate, and the command line passes its factory.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use warg_depsolve_registry::{Backend, Config, MemorySource, Registries, Source};
    /// let config = Config::from_toml(
    ///     "default_registry = \"remote\"\n[registry.remote.oci]\nprotocol = \"https\"\n",
    ///     "config.toml",
    /// ).unwrap();
    /// let registries = Registries::from_config_with(&config, &|name, backend| {
    ///     Ok(match backend {
    ///         Backend::Oci(_) => Some(Arc::new(MemorySource::new(name)) as Arc<dyn Source>),
    ///         _ => None,
    ///     })
    /// }).unwrap();
    /// let package = "acme:kv".parse().unwrap();
    /// assert_eq!(registries.registry_for(&package), "remote");
    /// assert!(registries.source_for(&package).is_ok());
    /// ```
    pub fn from_config_with(
        config: &Config,
        factory: &BackendFactory<'_>,
    ) -> Result<Self, ConfigError> {
        Self::build(config, factory)
    }

    fn build<E>(config: &Config, factory: &FactoryOf<'_, E>) -> Result<Self, E> {
        let mut router = Registries::new(config.default_registry.clone());
        router.origin = config.origin.clone();
        router.namespaces = config
            .namespace_registries
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        router.packages = config
            .package_registry_overrides
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let discovered = config
            .unconfigured()
            .into_iter()
            .map(|name| (name.to_string(), Backend::Discover));
        let configured = config
            .registries
            .iter()
            .map(|(name, backend)| (name.clone(), backend.clone()));
        for (name, backend) in configured.chain(discovered) {
            let name = &name;
            match &backend {
                Backend::Local { root } => {
                    let local = Arc::new(LocalRegistry::new(name.clone(), root.clone()));
                    router.locals.insert(name.clone(), local.clone());
                    router.entries.insert(name.clone(), Entry::Ready(local));
                }
                other => {
                    let entry = match factory(name, other)? {
                        Some(source) => Entry::Ready(source),
                        None if matches!(other, Backend::Discover) => Entry::Unusable(format!(
                            "{origin} names registry `{name}` but has no `[registry.\"{name}\"]` section \
                             configuring its backend, and this program cannot discover one \
                             (built without network backends)",
                            origin = config.origin
                        )),
                        None => Entry::Unusable(format!(
                            "the {kind} backend is not available yet in this program \
                             (configured as `[registry.\"{name}\".{kind}]` in {origin})",
                            kind = other.kind(),
                            origin = config.origin
                        )),
                    };
                    router.entries.insert(name.clone(), entry);
                }
            }
        }
        Ok(router)
    }

    /// Adds (or replaces) the registry `name`.
    pub fn insert(&mut self, name: impl Into<String>, source: Arc<dyn Source>) {
        let name = name.into();
        self.locals.remove(&name);
        self.entries.insert(name, Entry::Ready(source));
    }

    /// Adds (or replaces) the local registry `name`, which
    /// [`Registries::local_for`] can then hand out for publishing.
    pub fn insert_local(&mut self, local: Arc<LocalRegistry>) {
        let name = local.name().to_string();
        self.entries
            .insert(name.clone(), Entry::Ready(local.clone()));
        self.locals.insert(name, local);
    }

    /// Routes the namespace `namespace` to the registry `registry`.
    pub fn map_namespace(&mut self, namespace: impl Into<String>, registry: impl Into<String>) {
        self.namespaces.insert(namespace.into(), registry.into());
    }

    /// Routes the package `package` to the registry `registry` (wins over
    /// its namespace's route).
    pub fn map_package(&mut self, package: PackageName, registry: impl Into<String>) {
        self.packages.insert(package, registry.into());
    }

    /// Sets the registry for packages no other route maps.
    pub fn set_default(&mut self, registry: Option<String>) {
        self.default = registry;
    }

    /// Replaces every usable registry's source by `wrap(name, source)`:
    /// e.g. to put each behind a [`CachedSource`](crate::CachedSource).
    /// Local registries stay available to [`Registries::local_for`].
    pub fn map_sources(
        mut self,
        mut wrap: impl FnMut(&str, Arc<dyn Source>) -> Arc<dyn Source>,
    ) -> Self {
        for (name, entry) in self.entries.iter_mut() {
            if let Entry::Ready(source) = entry {
                *source = wrap(name, source.clone());
            }
        }
        self
    }

    /// Where the configuration came from.
    pub fn origin(&self) -> &ConfigOrigin {
        &self.origin
    }

    /// The registry name `package` is routed to, if any route applies.
    pub fn route(&self, package: &PackageName) -> Option<&str> {
        self.packages
            .get(package)
            .or_else(|| self.namespaces.get(package.namespace()))
            .or(self.default.as_ref())
            .map(String::as_str)
    }

    /// The names of every configured registry.
    pub fn registry_names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// The source serving `package`, or why there is none.
    pub fn source_for(&self, package: &PackageName) -> Result<&Arc<dyn Source>, SourceError> {
        let Some(name) = self.route(package) else {
            return Err(SourceError::BackendUnavailable {
                source_name: ROUTER_NAME.to_string(),
                package: package.clone(),
                message: format!(
                    "no registry is configured for it: {} maps neither it nor namespace `{}` and has no `default_registry`",
                    self.origin,
                    package.namespace()
                ),
            });
        };
        match self.entries.get(name) {
            Some(Entry::Ready(source)) => Ok(source),
            Some(Entry::Unusable(message)) => Err(SourceError::BackendUnavailable {
                source_name: name.to_string(),
                package: package.clone(),
                message: message.clone(),
            }),
            None => Err(SourceError::BackendUnavailable {
                source_name: name.to_string(),
                package: package.clone(),
                message: format!(
                    "{} names registry `{name}` but has no `[registry.\"{name}\"]` section configuring its backend \
                     (registry discovery is not supported)",
                    self.origin
                ),
            }),
        }
    }

    /// The publisher of the registry `package` is routed to, or
    /// [`SourceError::Unsupported`] naming `operation` when that registry
    /// cannot publish.
    fn publisher_for(
        &self,
        package: &PackageName,
        operation: &'static str,
    ) -> Result<&dyn Publish, SourceError> {
        let source = self.source_for(package)?;
        source.publisher().ok_or_else(|| SourceError::Unsupported {
            source_name: self.registry_for(package).to_string(),
            operation,
        })
    }

    /// The local registry `package` is routed to, for publishing and
    /// yanking: `None` if it is routed elsewhere (or nowhere).
    pub fn local_for(&self, package: &PackageName) -> Option<&Arc<LocalRegistry>> {
        self.locals.get(self.route(package)?)
    }

    /// The root of the local registry `name`, if it is one.
    pub fn local_root(&self, name: &str) -> Option<&Path> {
        self.locals.get(name).map(|l| l.root())
    }
}

impl Source for Registries {
    fn name(&self) -> &str {
        self.default.as_deref().unwrap_or(ROUTER_NAME)
    }

    fn registry_for(&self, package: &PackageName) -> &str {
        self.route(package).unwrap_or(ROUTER_NAME)
    }

    fn versions(&self, package: &PackageName) -> Result<Listing, SourceError> {
        self.source_for(package)?.versions(package)
    }

    fn metadata(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<Arc<ReleaseMetadata>, SourceError> {
        self.source_for(package)?.metadata(package, version)
    }

    fn fetch(
        &self,
        package: &PackageName,
        version: &Version,
        digest: &Integrity,
    ) -> Result<Verified, SourceError> {
        self.source_for(package)?.fetch(package, version, digest)
    }

    fn hints(&self) -> Option<&dyn Hints> {
        Some(self)
    }

    fn publisher(&self) -> Option<&dyn Publish> {
        Some(self)
    }
}

/// Each hint goes to the package's registry, if it takes hints.
impl Hints for Registries {
    fn prefetch(&self, wanted: &[(PackageName, Option<Version>)]) {
        let mut by_registry: BTreeMap<&str, Vec<(PackageName, Option<Version>)>> = BTreeMap::new();
        for item in wanted {
            if let Some(name) = self.route(&item.0) {
                by_registry.entry(name).or_default().push(item.clone());
            }
        }
        for (name, items) in by_registry {
            if let Some(Entry::Ready(source)) = self.entries.get(name) {
                if let Some(hints) = source.hints() {
                    hints.prefetch(&items);
                }
            }
        }
    }

    fn release_digest(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Option<Result<Integrity, SourceError>> {
        match self.source_for(package) {
            Ok(source) => source.hints()?.release_digest(package, version),
            Err(e) => Some(Err(e)),
        }
    }

    fn versions_stamp(&self, package: &PackageName) -> Option<Stamp> {
        self.source_for(package)
            .ok()?
            .hints()?
            .versions_stamp(package)
    }

    fn release_stamp(&self, package: &PackageName, version: &Version) -> Option<Stamp> {
        self.source_for(package)
            .ok()?
            .hints()?
            .release_stamp(package, version)
    }
}

/// Publishing goes to the package's registry.
impl Publish for Registries {
    fn publish(
        &self,
        package: &PackageName,
        version: &Version,
        bytes: &[u8],
    ) -> Result<ReleaseMetadata, SourceError> {
        self.publisher_for(package, "publish")?
            .publish(package, version, bytes)
    }

    fn set_yanked(
        &self,
        package: &PackageName,
        version: &Version,
        yanked: bool,
    ) -> Result<(), SourceError> {
        self.publisher_for(package, "yank")?
            .set_yanked(package, version, yanked)
    }
}
