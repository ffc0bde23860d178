//! Registries found by their metadata, as wkg finds them.
//!
//! A registry the configuration maps packages to without a
//! `[registry."NAME"]` section ([`Backend::Discover`]) is reached through
//! its registry metadata: the mapping's `metadata = { ... }` if it gave
//! one, else the JSON the registry serves at
//! `/.well-known/wasm-pkg/registry.json` (over http for `localhost` and
//! `127.0.0.1`, https otherwise; a 404 means no metadata). The metadata
//! says which protocol to speak:
//!
//! - `preferredProtocol` if given (`"warg"` or `"oci"`; `"local"` is
//!   refused: a registry cannot point the client at its own disk);
//! - else the one protocol it configures (`"warg": {...}` or
//!   `"oci": {...}`, or wkg's old `ociRegistry`/`ociNamespacePrefix`);
//! - else OCI, at the registry's name.
//!
//! and where: `warg.url`; `oci.registry` and `oci.namespacePrefix`. The
//! same metadata, given in a mapping, also fills what a registry's own
//! section leaves out ([`with_metadata`]).
//!
//! Discovery happens when a package routed to the registry is first
//! needed, not when the configuration is read: a wkg config that maps
//! namespaces to registries one run never touches costs that run nothing,
//! and `--offline` never asks.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use semver::Version;
use toml::{Table, Value};
use warg_depsolve_names::{Integrity, PackageName};
use warg_depsolve_registry::{
    Backend, ConfigError, Hints, Listing, Publish, ReleaseMetadata, Source, SourceError, Stamp,
    Verified,
};

/// How long discovery waits to connect and for the answer, unless the
/// command line's `--timeout` says otherwise: 10 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where registry metadata is served (RFC 8615), as wkg fetches it.
pub const REGISTRY_METADATA_PATH: &str = "/.well-known/wasm-pkg/registry.json";

/// Builds a registry's source from its backend (the OCI and warg
/// factories).
pub(crate) type Build =
    Arc<dyn Fn(&str, &Backend) -> Result<Option<Arc<dyn Source>>, ConfigError> + Send + Sync>;

/// Why a registry's backend could not be discovered.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// The well-known file could not be fetched.
    #[error("cannot fetch the registry metadata at {url}")]
    Fetch {
        /// The URL asked.
        url: String,
        /// The HTTP client's error.
        #[source]
        cause: reqwest::Error,
    },
    /// The well-known file is not registry metadata.
    #[error("the registry metadata at {url} is not a JSON object of wkg's shape")]
    NotMetadata {
        /// The URL asked.
        url: String,
        /// The parser's error.
        #[source]
        cause: serde_json::Error,
    },
    /// The metadata names a protocol this program does not speak, or
    /// `local`.
    #[error("registry `{registry}`'s metadata prefers protocol `{protocol}` ({why})")]
    Protocol {
        /// The registry.
        registry: String,
        /// The protocol named.
        protocol: String,
        /// Why it cannot be used.
        why: &'static str,
    },
    /// The backend the metadata points at cannot be made.
    #[error("registry `{registry}`'s metadata points at a {kind} backend that cannot be used")]
    Backend {
        /// The registry.
        registry: String,
        /// `oci` or `warg`.
        kind: &'static str,
        /// Why.
        #[source]
        cause: ConfigError,
    },
    /// The metadata points at a backend this build does not have.
    #[error("registry `{registry}`'s metadata points at a {kind} registry, and this program is built without {kind} support")]
    NotBuilt {
        /// The registry.
        registry: String,
        /// `oci` or `warg`.
        kind: &'static str,
    },
}

/// `backend` with what `metadata` (wkg registry metadata) says filled in
/// where the backend's own table is silent: a warg registry's `url` from
/// `warg.url`; an OCI registry's `registry` and `namespacePrefix` from
/// `oci.registry` and `oci.namespacePrefix` (or wkg's old top-level
/// `ociRegistry` and `ociNamespacePrefix`), with `protocol = "http"` when
/// that registry is on `localhost` or `127.0.0.1`.
///
/// ```
/// use warg_depsolve::discover::with_metadata;
/// use warg_depsolve::registry::Backend;
/// let metadata: toml::Table = toml::from_str("warg = { url = \"https://warg.example\" }").unwrap();
/// let Backend::Warg(table) = with_metadata(&Backend::Warg(Default::default()), &metadata) else { panic!() };
/// assert_eq!(table["url"].as_str(), Some("https://warg.example"));
/// ```
pub fn with_metadata(backend: &Backend, metadata: &Table) -> Backend {
    let protocol = |name: &str| metadata.get(name).and_then(Value::as_table);
    let fill = |table: &mut Table, key: &str, value: Option<&Value>| {
        if let Some(value) = value {
            table.entry(key).or_insert_with(|| value.clone());
        }
    };
    match backend {
        Backend::Warg(table) => {
            let mut table = table.clone();
            fill(
                &mut table,
                "url",
                protocol("warg").and_then(|w| w.get("url")),
            );
            Backend::Warg(table)
        }
        Backend::Oci(table) => {
            let mut table = table.clone();
            let oci = protocol("oci");
            let registry = oci
                .and_then(|o| o.get("registry"))
                .or_else(|| metadata.get("ociRegistry"));
            let prefix = oci
                .and_then(|o| o.get("namespacePrefix"))
                .or_else(|| metadata.get("ociNamespacePrefix"));
            if !table.contains_key("registry") {
                if let Some(host) = registry.and_then(Value::as_str) {
                    if is_loopback(host) {
                        fill(&mut table, "protocol", Some(&Value::from("http")));
                    }
                }
            }
            fill(&mut table, "registry", registry);
            fill(&mut table, "namespacePrefix", prefix);
            Backend::Oci(table)
        }
        other => other.clone(),
    }
}

/// Whether `host` (with or without a port) is `localhost` or `127.0.0.1`:
/// reached over plain http, as wkg does.
fn is_loopback(host: &str) -> bool {
    let bare = host.split(':').next().unwrap_or(host);
    bare == "localhost" || bare == "127.0.0.1"
}

/// The backend wkg registry metadata chooses for registry `name` (see the
/// [module docs](self)).
pub fn backend_for(name: &str, metadata: &Table) -> Result<Backend, DiscoveryError> {
    let configured: Vec<&str> = ["warg", "oci"]
        .into_iter()
        .filter(|p| metadata.get(*p).is_some_and(Value::is_table))
        .collect();
    let preferred = match metadata.get("preferredProtocol").and_then(Value::as_str) {
        Some(p) => p,
        None if configured.len() == 1 => configured[0],
        None => "oci",
    };
    let empty = Table::new();
    let kind = match preferred {
        "warg" => Backend::Warg(empty),
        "oci" => Backend::Oci(empty),
        "local" => {
            return Err(DiscoveryError::Protocol {
                registry: name.to_string(),
                protocol: preferred.to_string(),
                why: "a registry's metadata cannot point at a local directory",
            })
        }
        other => {
            return Err(DiscoveryError::Protocol {
                registry: name.to_string(),
                protocol: other.to_string(),
                why: "known protocols: `oci`, `warg`",
            })
        }
    };
    Ok(with_metadata(&kind, metadata))
}

/// The URL of registry `name`'s metadata.
pub fn metadata_url(name: &str) -> String {
    let scheme = if is_loopback(name) { "http" } else { "https" };
    format!("{scheme}://{name}{REGISTRY_METADATA_PATH}")
}

/// Fetches registry `name`'s metadata from its well-known URL; `None` when
/// the registry answers 404 (it has none: wkg's defaults apply).
///
/// Runs on a thread of its own, so that it may be called from anywhere
/// (also from inside an async runtime).
pub fn fetch_metadata(name: &str, timeout: Duration) -> Result<Option<Table>, DiscoveryError> {
    let url = metadata_url(name);
    std::thread::scope(|scope| {
        scope
            .spawn(|| fetch_blocking(&url, timeout))
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

fn fetch_blocking(url: &str, timeout: Duration) -> Result<Option<Table>, DiscoveryError> {
    let fetch = |cause| DiscoveryError::Fetch {
        url: url.to_string(),
        cause,
    };
    // reqwest is built without a default TLS crypto provider (see the
    // network crates): install ring's, a no-op if one is installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::blocking::Client::builder()
        .connect_timeout(timeout)
        .timeout(timeout)
        .user_agent(concat!("warg-depsolve/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(fetch)?;
    let response = client.get(url).send().map_err(fetch)?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    let bytes = response
        .error_for_status()
        .and_then(|r| r.bytes())
        .map_err(fetch)?;
    let json: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes).map_err(|cause| DiscoveryError::NotMetadata {
            url: url.to_string(),
            cause,
        })?;
    // Registry metadata is small JSON; as TOML it reads as a mapping's
    // `metadata` does. JSON's `null` has no TOML form: dropped.
    let table: Table = json
        .into_iter()
        .filter_map(|(k, v)| json_to_toml(v).map(|v| (k, v)))
        .collect();
    Ok(Some(table))
}

fn json_to_toml(value: serde_json::Value) -> Option<Value> {
    use serde_json::Value as J;
    Some(match value {
        J::Null => return None,
        J::Bool(b) => Value::Boolean(b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Float(n.as_f64()?),
        },
        J::String(s) => Value::String(s),
        J::Array(items) => Value::Array(items.into_iter().filter_map(json_to_toml).collect()),
        J::Object(map) => Value::Table(
            map.into_iter()
                .filter_map(|(k, v)| json_to_toml(v).map(|v| (k, v)))
                .collect(),
        ),
    })
}

/// A registry whose backend is discovered when it is first needed, then
/// serves as that backend.
pub(crate) struct Discovered {
    name: String,
    /// The mapping's metadata, if it gave some: no fetch then.
    metadata: Option<Table>,
    timeout: Duration,
    build: Build,
    found: OnceLock<Result<Arc<dyn Source>, Arc<DiscoveryError>>>,
}

impl Discovered {
    pub(crate) fn new(
        name: &str,
        metadata: Option<Table>,
        timeout: Duration,
        build: Build,
    ) -> Self {
        Discovered {
            name: name.to_string(),
            metadata,
            timeout,
            build,
            found: OnceLock::new(),
        }
    }

    fn discover(&self) -> Result<Arc<dyn Source>, DiscoveryError> {
        let metadata = match &self.metadata {
            Some(m) => m.clone(),
            None => fetch_metadata(&self.name, self.timeout)?.unwrap_or_default(),
        };
        let backend = backend_for(&self.name, &metadata)?;
        let kind = backend.kind();
        match (self.build)(&self.name, &backend) {
            Ok(Some(source)) => Ok(source),
            Ok(None) => Err(DiscoveryError::NotBuilt {
                registry: self.name.clone(),
                kind,
            }),
            Err(cause) => Err(DiscoveryError::Backend {
                registry: self.name.clone(),
                kind,
                cause,
            }),
        }
    }

    fn source(&self) -> Result<&Arc<dyn Source>, SourceError> {
        self.found
            .get_or_init(|| self.discover().map_err(Arc::new))
            .as_ref()
            .map_err(|e| SourceError::Backend {
                source_name: self.name.clone(),
                what: "finding its backend (it has no section in the configuration)".into(),
                cause: Box::new(e.clone()),
            })
    }
}

impl Source for Discovered {
    fn name(&self) -> &str {
        &self.name
    }

    fn registry_for(&self, _package: &PackageName) -> &str {
        &self.name
    }

    fn versions(&self, package: &PackageName) -> Result<Listing, SourceError> {
        self.source()?.versions(package)
    }

    fn metadata(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<Arc<ReleaseMetadata>, SourceError> {
        self.source()?.metadata(package, version)
    }

    fn fetch(
        &self,
        package: &PackageName,
        version: &Version,
        digest: &Integrity,
    ) -> Result<Verified, SourceError> {
        self.source()?.fetch(package, version, digest)
    }

    /// Hints go to the discovered backend (a failed discovery is met
    /// again by the call that needs the answer).
    fn hints(&self) -> Option<&dyn Hints> {
        Some(self)
    }

    /// Publishing goes to the discovered backend; a failed discovery is the
    /// error, not "cannot publish".
    fn publisher(&self) -> Option<&dyn Publish> {
        Some(self)
    }
}

impl Hints for Discovered {
    fn prefetch(&self, wanted: &[(PackageName, Option<Version>)]) {
        if let Some(hints) = self.source().ok().and_then(|s| s.hints()) {
            hints.prefetch(wanted);
        }
    }

    fn release_digest(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Option<Result<Integrity, SourceError>> {
        match self.source() {
            Ok(source) => source.hints()?.release_digest(package, version),
            Err(e) => Some(Err(e)),
        }
    }

    fn versions_stamp(&self, package: &PackageName) -> Option<Stamp> {
        self.source().ok()?.hints()?.versions_stamp(package)
    }

    fn release_stamp(&self, package: &PackageName, version: &Version) -> Option<Stamp> {
        self.source().ok()?.hints()?.release_stamp(package, version)
    }
}

impl Publish for Discovered {
    fn publish(
        &self,
        package: &PackageName,
        version: &Version,
        bytes: &[u8],
    ) -> Result<ReleaseMetadata, SourceError> {
        self.publisher_or_unsupported("publish")?
            .publish(package, version, bytes)
    }

    fn set_yanked(
        &self,
        package: &PackageName,
        version: &Version,
        yanked: bool,
    ) -> Result<(), SourceError> {
        self.publisher_or_unsupported("yank")?
            .set_yanked(package, version, yanked)
    }
}

impl Discovered {
    fn publisher_or_unsupported(
        &self,
        operation: &'static str,
    ) -> Result<&dyn Publish, SourceError> {
        self.source()?
            .publisher()
            .ok_or_else(|| SourceError::Unsupported {
                source_name: self.name.clone(),
                operation,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(text: &str) -> Table {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn the_metadata_chooses_the_protocol_as_wkg_does() {
        // Said outright.
        let b = backend_for(
            "r.dev",
            &meta("preferredProtocol = \"warg\"\noci = { registry = \"o.dev\" }"),
        )
        .unwrap();
        assert_eq!(b.kind(), "warg");
        // The one protocol configured.
        let b = backend_for("r.dev", &meta("warg = { url = \"https://w.dev\" }")).unwrap();
        let Backend::Warg(t) = b else { panic!("{b:?}") };
        assert_eq!(t["url"].as_str(), Some("https://w.dev"));
        // wkg's old aliases mean OCI.
        let b = backend_for(
            "r.dev",
            &meta("ociRegistry = \"o.dev\"\nociNamespacePrefix = \"org/\""),
        )
        .unwrap();
        let Backend::Oci(t) = b else { panic!("{b:?}") };
        assert_eq!(t["registry"].as_str(), Some("o.dev"));
        assert_eq!(t["namespacePrefix"].as_str(), Some("org/"));
        assert!(!t.contains_key("protocol"), "https for a public host");
        // Nothing said: OCI at the registry's name.
        let b = backend_for("r.dev", &Table::new()).unwrap();
        assert_eq!(b, Backend::Oci(Table::new()));
        // Two configured and no preference: OCI, wkg's default.
        let b = backend_for("r.dev", &meta("warg = {}\noci = { registry = \"o.dev\" }")).unwrap();
        assert_eq!(b.kind(), "oci");
    }

    #[test]
    fn metadata_cannot_point_at_a_local_directory_or_an_unknown_protocol() {
        let e = backend_for("r.dev", &meta("preferredProtocol = \"local\"")).unwrap_err();
        assert!(e.to_string().contains("local directory"), "{e}");
        let e = backend_for("r.dev", &meta("preferredProtocol = \"ftp\"")).unwrap_err();
        assert!(
            e.to_string().contains("`ftp`") && e.to_string().contains("r.dev"),
            "{e}"
        );
    }

    #[test]
    fn a_section_keeps_what_it_says_and_takes_the_rest_from_the_metadata() {
        let given = meta("oci = { registry = \"127.0.0.1:5000\", namespacePrefix = \"org/\" }");
        let mut own = Table::new();
        own.insert("namespacePrefix".into(), "mine/".into());
        let Backend::Oci(t) = with_metadata(&Backend::Oci(own), &given) else {
            panic!()
        };
        assert_eq!(t["namespacePrefix"].as_str(), Some("mine/"));
        assert_eq!(t["registry"].as_str(), Some("127.0.0.1:5000"));
        assert_eq!(t["protocol"].as_str(), Some("http"), "loopback: plain http");
        let local = Backend::Local { root: "x".into() };
        assert_eq!(with_metadata(&local, &given), local);
    }

    #[test]
    fn the_well_known_url_is_http_only_on_loopback() {
        assert_eq!(
            metadata_url("localhost:8080"),
            "http://localhost:8080/.well-known/wasm-pkg/registry.json"
        );
        assert_eq!(
            metadata_url("wasi.dev"),
            "https://wasi.dev/.well-known/wasm-pkg/registry.json"
        );
    }
}
