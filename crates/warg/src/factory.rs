//! Warg registries from a wkg-shaped configuration: the backend factory
//! the library's router is given.
//!
//! ```toml
//! [namespace_registries]
//! acme = { registry = "registry.acme.dev", metadata = { preferredProtocol = "warg", warg = { url = "https://warg.acme.dev" } } }
//!
//! [registry."registry.acme.dev".warg]
//! signing_key = "ecdsa-p256:..."   # wkg's keys: the key that signs
//! auth_token = "..."               # published records, a bearer token,
//! config_file = "warg-config.json" # warg-client's own config file
//! # ours, all optional:
//! url = "https://warg.acme.dev"    # wins over the metadata's `warg.url`
//! registry_header = "other.dev"    # send `Warg-Registry: other.dev`
//! connect_timeout = 10             # seconds
//! read_timeout = 30
//! retries = 2
//! ```
//!
//! The URL is the table's `url`, else the registry's name as wkg 0.15 read
//! it: `http://` for `localhost` and `127.0.0.1`, `https://` otherwise
//! ([`url_for_host`]). (The library fills `url` from the registry
//! metadata's `warg.url`, a mapping's or the registry's well-known file,
//! before the table reaches this factory: see `warg_depsolve::discover`.)
//!
//! `config_file` is warg-client's JSON configuration, which wkg passed to
//! warg-client. It must be a readable JSON object (so that a wrong path is
//! said, not ignored); nothing in it is needed here: its storage
//! directories belong to warg-client, and this client keeps what it learns
//! in the cache (see [`WargOptions::state_dir`]).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::runtime::Runtime;
use toml::{Table, Value};
use warg_crypto::signing::PrivateKey;
use warg_depsolve_registry::cache::Warn;
use warg_depsolve_registry::{Backend, Config, ConfigError, Source};

use crate::settings::{url_for_host, WargSettings};
use crate::source::WargSource;
use crate::WargClient;

/// How [`factory`] makes its sources.
#[derive(Clone, Default)]
pub struct WargOptions {
    /// Replaces every registry's connect and read timeouts (the command
    /// line's `--timeout`).
    pub timeout: Option<Duration>,
    /// Where each registry's [`RegistryState`](crate::RegistryState) is
    /// kept between runs (one file per registry): the last checkpoint seen,
    /// so that a registry that rewinds its log is caught from one run to
    /// the next, and the fetch tokens, so that a later run asks only for
    /// what is new. Nothing is kept when `None`.
    pub state_dir: Option<PathBuf>,
    /// Where notices go (a kept state that could not be read or written);
    /// dropped when `None`.
    pub notices: Option<Warn>,
}

impl std::fmt::Debug for WargOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WargOptions")
            .field("timeout", &self.timeout)
            .field("state_dir", &self.state_dir)
            .field("notices", &self.notices.is_some())
            .finish()
    }
}

/// A backend factory for
/// [`Registries::from_config_with`](warg_depsolve_registry::Registries::from_config_with):
/// builds a [`WargSource`] for every `[registry."NAME".warg]` section of
/// `config` (checking its keys, naming the file and key of anything it
/// cannot accept) and leaves other backends alone (`None`). The sources
/// share one runtime, started when the first is made.
///
/// ```
/// use warg_depsolve_registry::{Config, Registries};
/// let config = Config::from_toml(
///     "default_registry = \"localhost:8090\"\n[registry.\"localhost:8090\".warg]\n",
///     "config.toml",
/// ).unwrap();
/// let factory = warg_depsolve_warg::factory(&config, Default::default());
/// let registries = Registries::from_config_with(&config, &factory).unwrap();
/// assert!(registries.source_for(&"test:add".parse().unwrap()).is_ok());
/// ```
pub fn factory(
    config: &Config,
    options: WargOptions,
) -> impl Fn(&str, &Backend) -> Result<Option<Arc<dyn Source>>, ConfigError> {
    let file = config
        .origin
        .path()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("<built-in configuration>"));
    let runtime: OnceLock<Arc<Runtime>> = OnceLock::new();
    move |name: &str, backend: &Backend| {
        let Backend::Warg(table) = backend else {
            return Ok(None);
        };
        let mut settings = settings_from_table(name, table, &file)?;
        if let Some(timeout) = options.timeout {
            settings.connect_timeout = timeout;
            settings.read_timeout = timeout;
        }
        let invalid = |message: String| ConfigError::Invalid {
            path: file.clone(),
            key: format!("registry.{name:?}.warg"),
            message,
        };
        let runtime = match runtime.get() {
            Some(rt) => rt.clone(),
            None => {
                let rt = crate::new_runtime()
                    .map_err(|e| invalid(format!("cannot start a runtime: {e}")))?;
                runtime.get_or_init(|| Arc::new(rt)).clone()
            }
        };
        let client = WargClient::with_runtime(name, settings, runtime)
            .map_err(|e| invalid(e.to_string()))?;
        let mut source = WargSource::new(client);
        if let Some(dir) = &options.state_dir {
            source = source.with_state_dir(dir.clone(), options.notices.clone());
        }
        Ok(Some(Arc::new(source) as Arc<dyn Source>))
    }
}

/// The settings of registry `name` from its `[registry."NAME".warg]` table
/// (`file` names the config in errors).
pub fn settings_from_table(
    name: &str,
    table: &Table,
    file: &Path,
) -> Result<WargSettings, ConfigError> {
    let base = format!("registry.{name:?}.warg");
    let invalid = |key: &str, message: String| ConfigError::Invalid {
        path: file.to_path_buf(),
        key: format!("{base}.{key}"),
        message,
    };
    let string = |key: &str, v: &Value| -> Result<String, ConfigError> {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| invalid(key, format!("expected a string, found {}", v.type_str())))
    };
    let seconds = |key: &str, v: &Value| -> Result<Duration, ConfigError> {
        let n = match v {
            Value::Integer(n) => *n as f64,
            Value::Float(n) => *n,
            other => {
                return Err(invalid(
                    key,
                    format!("expected seconds, found {}", other.type_str()),
                ))
            }
        };
        if !(n > 0.0 && n.is_finite()) {
            return Err(invalid(
                key,
                format!("expected a positive number, found {n}"),
            ));
        }
        Ok(Duration::from_secs_f64(n))
    };
    let mut settings = WargSettings::new(url_for_host(name));
    for (key, value) in table {
        match key.as_str() {
            "signing_key" => {
                let text = string(key, value)?;
                // The parse error would repeat the key's text: not said.
                let parsed = PrivateKey::decode(text).map_err(|_| {
                    invalid(
                        key,
                        "not a warg private key (expected `ecdsa-p256:` and the key in base64)"
                            .into(),
                    )
                })?;
                settings.signing_key = Some(Arc::new(parsed));
            }
            "auth_token" => settings.auth_token = Some(string(key, value)?),
            "config_file" => {
                let path = PathBuf::from(string(key, value)?);
                let path = match (path.is_relative(), file.parent()) {
                    (true, Some(dir)) => dir.join(path),
                    _ => path,
                };
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| invalid(key, format!("cannot read `{}`: {e}", path.display())))?;
                let parsed: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                    invalid(
                        key,
                        format!("`{}` is not warg's JSON configuration: {e}", path.display()),
                    )
                })?;
                if !parsed.is_object() {
                    return Err(invalid(
                        key,
                        format!("`{}` is not a JSON object", path.display()),
                    ));
                }
            }
            "url" => {
                let url = string(key, value)?;
                match reqwest::Url::parse(&url) {
                    Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                        settings.url = url
                    }
                    _ => return Err(invalid(key, format!("`{url}` is not an http or https URL"))),
                }
            }
            "registry_header" => settings.registry_header = Some(string(key, value)?),
            "connect_timeout" => settings.connect_timeout = seconds(key, value)?,
            "read_timeout" => settings.read_timeout = seconds(key, value)?,
            "retries" => {
                settings.retries = value
                    .as_integer()
                    .and_then(|n| u32::try_from(n).ok())
                    .filter(|n| *n <= 10)
                    .ok_or_else(|| invalid(key, "expected a whole number from 0 to 10".into()))?;
            }
            _ => {
                return Err(invalid(
                    key,
                    "unknown key (expected `signing_key`, `auth_token`, `config_file`, `url`, \
                     `registry_header`, `connect_timeout`, `read_timeout` or `retries`)"
                        .into(),
                ))
            }
        }
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> Result<WargSettings, ConfigError> {
        let table: Table = toml::from_str(text).unwrap();
        settings_from_table("warg.example", &table, Path::new("/cfg/config.toml"))
    }

    fn message(e: ConfigError) -> String {
        let text = e.to_string();
        assert!(text.contains("/cfg/config.toml"), "{text}");
        text
    }

    #[test]
    fn wkg_keys_and_ours_are_read() {
        let key = warg_crypto::signing::generate_p256_pair().1;
        let s = settings(&format!(
            "signing_key = \"{}\"\nauth_token = \"t\"\nurl = \"http://127.0.0.1:9/\"\n\
             registry_header = \"other.dev\"\nconnect_timeout = 1.5\nread_timeout = 3\nretries = 0\n",
            &*key.encode()
        ))
        .unwrap();
        assert_eq!(
            s.signing_key.unwrap().public_key(),
            key.public_key(),
            "the configured key signs"
        );
        assert_eq!(s.auth_token.as_deref(), Some("t"));
        assert_eq!(s.url, "http://127.0.0.1:9/");
        assert_eq!(s.registry_header.as_deref(), Some("other.dev"));
        assert_eq!(s.connect_timeout, Duration::from_millis(1500));
        assert_eq!(s.read_timeout, Duration::from_secs(3));
        assert_eq!(s.retries, 0);
        // No URL: the registry's name, over https.
        assert_eq!(settings("").unwrap().url, "https://warg.example/");
    }

    #[test]
    fn what_cannot_be_used_is_said_with_its_key() {
        let e = message(settings("signing_key = \"ecdsa-p256:nope\"").unwrap_err());
        assert!(
            e.contains("registry.\"warg.example\".warg.signing_key"),
            "{e}"
        );
        assert!(!e.contains("nope"), "a key's text is not repeated: {e}");
        let e = message(settings("colour = \"red\"").unwrap_err());
        assert!(e.contains("colour") && e.contains("unknown key"), "{e}");
        let e = message(settings("url = \"ftp://x\"").unwrap_err());
        assert!(e.contains("ftp://x"), "{e}");
        let e = message(settings("retries = 99").unwrap_err());
        assert!(e.contains("retries"), "{e}");
        let e = message(settings("config_file = \"missing.json\"").unwrap_err());
        assert!(
            e.contains("/cfg/missing.json"),
            "relative to the config: {e}"
        );
    }

    #[test]
    fn warg_client_config_file_must_be_a_json_object() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("warg.json");
        std::fs::write(&good, r#"{"home_url": "https://warg.example"}"#).unwrap();
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "[1]").unwrap();
        let read = |p: &Path| settings(&format!("config_file = {:?}", p.display().to_string()));
        assert!(read(&good).is_ok());
        let e = read(&bad).unwrap_err().to_string();
        assert!(e.contains("not a JSON object"), "{e}");
    }
}
