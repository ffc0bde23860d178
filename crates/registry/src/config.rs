//! Registry configuration, in the shape of wkg's `config.toml`.
//!
//! ```toml
//! default_registry = "local"
//!
//! [namespace_registries]
//! acme = "acme-dir"
//! wasi = { registry = "wasi.dev", metadata = { preferredProtocol = "oci" } }
//!
//! [package_registry_overrides]
//! "acme:special" = "local"
//!
//! [registry."local".local]
//! root = "registry"             # relative paths are relative to this file
//!
//! [registry."acme-dir".local]
//! root = "/srv/acme-components"
//!
//! [registry."ghcr.io".oci]      # served by the OCI crate's factory
//! protocol = "https"            # (see `Registries::from_config_with`)
//! ```
//!
//! A package is served by the first of: its entry in
//! `package_registry_overrides`, its namespace's entry in
//! `namespace_registries`, `default_registry` (wkg's rule). Values are a
//! registry name or wkg's `{ registry = "...", metadata = { ... } }` form.
//! The metadata is wkg's registry metadata (the `registry.json` a registry
//! serves at `/.well-known/wasm-pkg/registry.json`: `preferredProtocol`,
//! `warg.url`, `oci.registry`, `oci.namespacePrefix`): it is kept per
//! registry in [`Config::metadata`] for the backends to read, and stands in
//! for that file when the registry has no section.
//!
//! Each `[registry."NAME"]` section has one backend table (`local`, `oci`
//! or `warg`) or says which with `type = "..."`. This crate serves `local`
//! itself; the others are kept as data (their tables as written) for a
//! backend factory given to
//! [`Registries::from_config_with`](crate::Registries::from_config_with),
//! which checks their keys (the `warg-depsolve-oci` crate builds OCI
//! sources). Without a factory that serves it, a package routed to such a
//! registry fails with [`SourceError::BackendUnavailable`](crate::SourceError)
//! when it is used, not when the file is read (a wkg config written for
//! other tools stays usable for the namespaces it maps locally). What is
//! *wrong* fails at once, naming the file and the key: unknown top-level
//! keys, unknown backends, a section with no backend or several and no
//! `type`, a local backend without a string `root`, names that are not
//! labels or package names.
//!
//! A registry the mappings name without a `[registry."NAME"]` section is
//! [`Backend::Discover`]: as wkg does, its backend is to be found from its
//! metadata (the mapping's, else its well-known file), by a factory that
//! can reach the network.
//!
//! [`load_config`] picks the file: `--config FILE`, else
//! `$WARG_DEPSOLVE_CONFIG`, else `$XDG_CONFIG_HOME/wasm-pkg/config.toml`
//! (wkg's file) if it exists, else the built-in default: one local registry
//! named [`DEFAULT_REGISTRY_NAME`] at a directory the caller gives.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use toml::{Table, Value};
use warg_depsolve_names::package::validate_label;
use warg_depsolve_names::PackageName;

/// The environment variable naming a config file.
pub const CONFIG_ENV: &str = "WARG_DEPSOLVE_CONFIG";

/// The name of the registry in the built-in default configuration.
pub const DEFAULT_REGISTRY_NAME: &str = "local";

/// Where a [`Config`] came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigOrigin {
    /// `--config FILE`.
    Flag(PathBuf),
    /// `$WARG_DEPSOLVE_CONFIG`.
    Env(PathBuf),
    /// wkg's file, `$XDG_CONFIG_HOME/wasm-pkg/config.toml`.
    Wkg(PathBuf),
    /// Parsed from a string by [`Config::from_toml`]; the path is the label
    /// given for errors (and relative roots are resolved against its
    /// parent).
    Text(PathBuf),
    /// The built-in default (no file).
    BuiltIn,
}

impl ConfigOrigin {
    /// The file the configuration was read from, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            ConfigOrigin::Flag(p)
            | ConfigOrigin::Env(p)
            | ConfigOrigin::Wkg(p)
            | ConfigOrigin::Text(p) => Some(p),
            ConfigOrigin::BuiltIn => None,
        }
    }
}

impl fmt::Display for ConfigOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigOrigin::Flag(p) => write!(f, "`{}` (from --config)", p.display()),
            ConfigOrigin::Env(p) => write!(f, "`{}` (from ${CONFIG_ENV})", p.display()),
            ConfigOrigin::Wkg(p) => write!(f, "`{}` (wkg's config)", p.display()),
            ConfigOrigin::Text(p) => write!(f, "`{}`", p.display()),
            ConfigOrigin::BuiltIn => write!(f, "the built-in default configuration"),
        }
    }
}

/// A registry's backend.
#[derive(Clone, Debug, PartialEq)]
pub enum Backend {
    /// A directory in wkg's local layout ([`crate::LocalRegistry`]).
    Local {
        /// The directory (made absolute against the config file's directory
        /// when it was relative).
        root: PathBuf,
    },
    /// An OCI registry; its table as written (`auth`, `protocol`, ...),
    /// for a backend factory to read (see
    /// [`Registries::from_config_with`](crate::Registries::from_config_with)).
    Oci(Table),
    /// A warg registry; its table as written (`signing_key`,
    /// `auth_token`, `config_file`, ...), for a backend factory to read.
    Warg(Table),
    /// A registry the mappings name without a `[registry."NAME"]` section:
    /// its backend is to be discovered from its metadata
    /// ([`Config::metadata`], else the registry's
    /// `/.well-known/wasm-pkg/registry.json`), as wkg does.
    Discover,
}

impl Backend {
    /// The backend's name as the config file spells it.
    pub fn kind(&self) -> &'static str {
        match self {
            Backend::Local { .. } => "local",
            Backend::Oci(_) => "oci",
            Backend::Warg(_) => "warg",
            Backend::Discover => "discovered",
        }
    }
}

/// A parsed configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Where it came from.
    pub origin: ConfigOrigin,
    /// The registry for packages no other rule maps.
    pub default_registry: Option<String>,
    /// Namespace to registry name.
    pub namespace_registries: BTreeMap<String, String>,
    /// Package to registry name; wins over the namespace rule.
    pub package_registry_overrides: BTreeMap<PackageName, String>,
    /// Registry name to backend, for every `[registry."NAME"]` section.
    pub registries: BTreeMap<String, Backend>,
    /// Registry name to the wkg registry metadata a mapping gave for it
    /// (`{ registry = "NAME", metadata = { ... } }`), as written.
    pub metadata: BTreeMap<String, Table>,
}

/// Why a configuration could not be loaded. Every variant names the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file `{path}`: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        message: String,
    },
    /// The file is not TOML.
    #[error("config file `{path}` is not valid TOML: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A key has a value this configuration cannot accept.
    #[error("config file `{path}`: `{key}`: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The dotted key, e.g. `registry."acme".local.root`.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// The inputs [`load_config`] chooses from, gathered by the caller so the
/// choice can be tested without touching the process environment.
#[derive(Clone, Debug, Default)]
pub struct ConfigInputs {
    /// `--config FILE`, if given.
    pub config_flag: Option<PathBuf>,
    /// The value of `$WARG_DEPSOLVE_CONFIG`, if set (an empty value counts
    /// as unset).
    pub env_config: Option<OsString>,
    /// The value of `$XDG_CONFIG_HOME`, if set (an empty value counts as
    /// unset).
    pub xdg_config_home: Option<OsString>,
    /// The root of the built-in default local registry (`--registry DIR`).
    pub default_local_root: PathBuf,
}

impl ConfigInputs {
    /// The inputs from this process's environment, with the command line's
    /// `--config` and the default local registry directory.
    pub fn from_env(config_flag: Option<PathBuf>, default_local_root: impl Into<PathBuf>) -> Self {
        ConfigInputs {
            config_flag,
            env_config: std::env::var_os(CONFIG_ENV),
            xdg_config_home: std::env::var_os("XDG_CONFIG_HOME"),
            default_local_root: default_local_root.into(),
        }
    }
}

/// Loads the configuration: `--config FILE`, else `$WARG_DEPSOLVE_CONFIG`,
/// else `$XDG_CONFIG_HOME/wasm-pkg/config.toml` if that file exists, else
/// [`Config::builtin`] at `inputs.default_local_root`.
///
/// A file named by `--config` or the environment must exist; a missing
/// wkg file just moves on to the default.
pub fn load_config(inputs: &ConfigInputs) -> Result<Config, ConfigError> {
    let non_empty = |v: &Option<OsString>| v.clone().filter(|v| !v.is_empty());
    if let Some(path) = &inputs.config_flag {
        return Config::from_file(ConfigOrigin::Flag(path.clone()));
    }
    if let Some(path) = non_empty(&inputs.env_config) {
        return Config::from_file(ConfigOrigin::Env(path.into()));
    }
    if let Some(xdg) = non_empty(&inputs.xdg_config_home) {
        let path = PathBuf::from(xdg).join("wasm-pkg").join("config.toml");
        if path.is_file() {
            return Config::from_file(ConfigOrigin::Wkg(path));
        }
    }
    Ok(Config::builtin(inputs.default_local_root.clone()))
}

impl Config {
    /// The built-in default: every package from one local registry named
    /// [`DEFAULT_REGISTRY_NAME`] at `root`.
    pub fn builtin(root: impl Into<PathBuf>) -> Self {
        Config {
            origin: ConfigOrigin::BuiltIn,
            default_registry: Some(DEFAULT_REGISTRY_NAME.to_string()),
            namespace_registries: BTreeMap::new(),
            package_registry_overrides: BTreeMap::new(),
            registries: BTreeMap::from([(
                DEFAULT_REGISTRY_NAME.to_string(),
                Backend::Local { root: root.into() },
            )]),
            metadata: BTreeMap::new(),
        }
    }

    /// Reads and parses the file `origin` names.
    pub fn from_file(origin: ConfigOrigin) -> Result<Self, ConfigError> {
        let Some(path) = origin.path().map(Path::to_path_buf) else {
            return Err(ConfigError::Read {
                path: PathBuf::new(),
                message: "no file to read".into(),
            });
        };
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Read {
            path: path.clone(),
            message: e.to_string(),
        })?;
        Self::parse(&text, origin)
    }

    /// Parses configuration text; `path` names it in errors, and relative
    /// local roots are resolved against its parent directory.
    pub fn from_toml(text: &str, path: impl Into<PathBuf>) -> Result<Self, ConfigError> {
        Self::parse(text, ConfigOrigin::Text(path.into()))
    }

    fn parse(text: &str, origin: ConfigOrigin) -> Result<Self, ConfigError> {
        let path = origin.path().map(Path::to_path_buf).unwrap_or_default();
        let table: Table = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let p = Parser { path: &path };
        let mut config = Config {
            origin,
            default_registry: None,
            namespace_registries: BTreeMap::new(),
            package_registry_overrides: BTreeMap::new(),
            registries: BTreeMap::new(),
            metadata: BTreeMap::new(),
        };
        for (key, value) in &table {
            match key.as_str() {
                "default_registry" => {
                    config.default_registry =
                        Some(p.registry_ref(key, value, &mut config.metadata)?);
                }
                "namespace_registries" => {
                    for (ns, value) in p.table(key, value)? {
                        let k = format!("namespace_registries.{}", quote(ns));
                        validate_label(ns)
                            .map_err(|why| p.invalid(&k, format!("not a namespace: {why}")))?;
                        config
                            .namespace_registries
                            .insert(ns.clone(), p.registry_ref(&k, value, &mut config.metadata)?);
                    }
                }
                "package_registry_overrides" => {
                    for (package, value) in p.table(key, value)? {
                        let k = format!("package_registry_overrides.{}", quote(package));
                        let name: PackageName =
                            package.parse().map_err(|e| p.invalid(&k, format!("{e}")))?;
                        config
                            .package_registry_overrides
                            .insert(name, p.registry_ref(&k, value, &mut config.metadata)?);
                    }
                }
                "registry" => {
                    for (name, value) in p.table(key, value)? {
                        let k = format!("registry.{}", quote(name));
                        let backend = p.backend(&k, value)?;
                        config.registries.insert(name.clone(), backend);
                    }
                }
                other => {
                    return Err(p.invalid(
                        other,
                        "unknown key (expected `default_registry`, `namespace_registries`, \
                         `package_registry_overrides` or `registry`)",
                    ))
                }
            }
        }
        Ok(config)
    }

    /// The registries the mappings (`default_registry`,
    /// `namespace_registries`, `package_registry_overrides`) name that have
    /// no `[registry."NAME"]` section: their backends are
    /// [`Backend::Discover`].
    pub fn unconfigured(&self) -> std::collections::BTreeSet<&str> {
        self.default_registry
            .iter()
            .chain(self.namespace_registries.values())
            .chain(self.package_registry_overrides.values())
            .map(String::as_str)
            .filter(|name| !self.registries.contains_key(*name))
            .collect()
    }

    /// The registry name that serves `package` (override, namespace,
    /// default), with the rule that chose it; `None` if no rule applies.
    pub fn registry_for(&self, package: &PackageName) -> Option<(&str, String)> {
        if let Some(r) = self.package_registry_overrides.get(package) {
            return Some((r, format!("package_registry_overrides.\"{package}\"")));
        }
        if let Some(r) = self.namespace_registries.get(package.namespace()) {
            return Some((
                r,
                format!("namespace_registries.{}", quote(package.namespace())),
            ));
        }
        self.default_registry
            .as_deref()
            .map(|r| (r, "default_registry".to_string()))
    }
}

/// Quotes a TOML key when it is not a bare key.
fn quote(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        key.to_string()
    } else {
        format!("{key:?}")
    }
}

struct Parser<'a> {
    path: &'a Path,
}

impl Parser<'_> {
    fn invalid(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            key: key.to_string(),
            message: message.into(),
        }
    }

    fn table<'v>(&self, key: &str, value: &'v Value) -> Result<&'v Table, ConfigError> {
        value.as_table().ok_or_else(|| {
            self.invalid(key, format!("expected a table, found {}", value.type_str()))
        })
    }

    fn string<'v>(&self, key: &str, value: &'v Value) -> Result<&'v str, ConfigError> {
        value.as_str().ok_or_else(|| {
            self.invalid(
                key,
                format!("expected a string, found {}", value.type_str()),
            )
        })
    }

    /// A registry name, or `{ registry = "...", metadata = { ... } }`; the
    /// metadata goes into `metadata` under the name (two mappings that give
    /// one registry different metadata are an error: which is meant?).
    fn registry_ref(
        &self,
        key: &str,
        value: &Value,
        metadata: &mut BTreeMap<String, Table>,
    ) -> Result<String, ConfigError> {
        let mut given = None;
        let name = match value {
            Value::String(s) => s.clone(),
            Value::Table(t) => {
                for k in t.keys() {
                    if k != "registry" && k != "metadata" {
                        return Err(self.invalid(
                            &format!("{key}.{}", quote(k)),
                            "unknown key (expected `registry` and optionally `metadata`)",
                        ));
                    }
                }
                if let Some(meta) = t.get("metadata") {
                    given = Some(self.table(&format!("{key}.metadata"), meta)?.clone());
                }
                let registry = t
                    .get("registry")
                    .ok_or_else(|| self.invalid(key, "missing `registry`"))?;
                self.string(&format!("{key}.registry"), registry)?
                    .to_string()
            }
            other => {
                return Err(self.invalid(
                    key,
                    format!(
                        "expected a registry name or a table, found {}",
                        other.type_str()
                    ),
                ))
            }
        };
        if name.is_empty() {
            return Err(self.invalid(key, "empty registry name"));
        }
        if let Some(given) = given {
            match metadata.get(&name) {
                Some(earlier) if *earlier != given => {
                    return Err(self.invalid(
                        &format!("{key}.metadata"),
                        format!("registry `{name}` is given other metadata by an earlier mapping; give it once"),
                    ))
                }
                _ => {
                    metadata.insert(name.clone(), given);
                }
            }
        }
        Ok(name)
    }

    fn backend(&self, key: &str, value: &Value) -> Result<Backend, ConfigError> {
        const KNOWN: &str = "known backends: `local`, `oci`, `warg`";
        let table = self.table(key, value)?;
        let mut ty = None;
        let mut tables: BTreeMap<&str, &Table> = BTreeMap::new();
        for (k, v) in table {
            let sub = format!("{key}.{}", quote(k));
            match k.as_str() {
                "type" => ty = Some((self.string(&sub, v)?, sub)),
                "local" | "oci" | "warg" => {
                    tables.insert(k, self.table(&sub, v)?);
                }
                other if v.is_table() => {
                    return Err(self.invalid(&sub, format!("unknown backend `{other}` ({KNOWN})")))
                }
                _ => {
                    return Err(self.invalid(
                        &sub,
                        format!("unknown key (expected `type` or a backend table; {KNOWN})"),
                    ))
                }
            }
        }
        let kind = match ty {
            Some((t, sub)) => match t {
                "local" | "oci" | "warg" => t,
                other => {
                    return Err(self.invalid(&sub, format!("unknown backend `{other}` ({KNOWN})")))
                }
            },
            None => {
                let mut kinds = tables.keys();
                match (kinds.next(), kinds.next()) {
                    (Some(k), None) => *k,
                    (None, _) => {
                        return Err(self.invalid(
                            key,
                            format!(
                                "no backend configured: add e.g. `[{key}.local]` with `root = \"DIR\"` ({KNOWN})"
                            ),
                        ))
                    }
                    (Some(_), Some(_)) => {
                        let all: Vec<_> = tables.keys().map(|k| format!("`{k}`")).collect();
                        return Err(self.invalid(
                            key,
                            format!(
                                "several backends ({}) and no `type` saying which to use",
                                all.join(", ")
                            ),
                        ));
                    }
                }
            }
        };
        let empty = Table::new();
        let settings = tables.get(kind).copied().unwrap_or(&empty);
        match kind {
            "local" => {
                let local_key = format!("{key}.local");
                for k in settings.keys() {
                    if k != "root" {
                        return Err(self.invalid(
                            &format!("{local_key}.{}", quote(k)),
                            "unknown key (a local registry has only `root`)",
                        ));
                    }
                }
                let root_key = format!("{local_key}.root");
                let root = settings.get("root").ok_or_else(|| {
                    self.invalid(&local_key, "missing `root` (the registry's directory)")
                })?;
                let root = self.string(&root_key, root)?;
                if root.is_empty() {
                    return Err(self.invalid(&root_key, "empty path"));
                }
                let root = PathBuf::from(root);
                let root = if root.is_relative() {
                    match self.path.parent() {
                        Some(dir) => dir.join(root),
                        None => root,
                    }
                } else {
                    root
                };
                Ok(Backend::Local { root })
            }
            "oci" => Ok(Backend::Oci(settings.clone())),
            _ => Ok(Backend::Warg(settings.clone())),
        }
    }
}
