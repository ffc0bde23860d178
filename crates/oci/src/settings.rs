//! The `[registry."NAME".oci]` table: parsing and checking it.
//!
//! ```toml
//! [registry."ghcr.io".oci]
//! auth = { username = "me", password = "ghp_..." }  # or "base64(user:pass)"
//! protocol = "https"                               # the default; "http" too
//! # Our additions (wkg reads the last two from registry metadata instead):
//! concurrency = 8                   # parallel metadata requests (prefetch)
//! prefetch_depth = 32               # levels of dependencies read ahead (0: none)
//! connect_timeout = 10              # seconds to open a connection
//! read_timeout = 30                 # seconds to wait for an answer
//! retries = 2                       # tries after the first, on 5xx, resets, timeouts
//! registry = "ghcr.io"              # OCI host[:port]; default: the registry's name
//! namespacePrefix = "my-org/"       # repository = prefix + "ns/name"
//! ```
//!
//! wkg's keys `auth` (a base64 `user:password` string or a
//! `{ username, password }` table), `protocol`, `accept_invalid_certificates`
//! and `extra_root_certificates` (`[{ encoding = "pem"|"der", data = "..." }]`)
//! mean what they mean to wkg. `registry` and `namespacePrefix` are what
//! wkg takes from a mapping's `metadata.oci` (or the registry's
//! well-known file); here they sit in the backend table. `connect_timeout`,
//! `read_timeout` (seconds, whole or fractional) and `retries` bound how
//! long a registry that does not answer is waited for (see
//! [`OciSettings::read_timeout`]). Any other key is an error naming the
//! file and key.
//!
//! Credentials are never sent in clear text to another machine: `auth`
//! together with `protocol = "http"` is refused unless the host is a
//! loopback address (`localhost`, `127.x.x.x`, `[::1]`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use toml::{Table, Value};
use warg_depsolve_registry::ConfigError;

/// The default bound on concurrent metadata requests.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// The default number of dependency levels read ahead of the solver: 32.
pub const DEFAULT_PREFETCH_DEPTH: u32 = 32;
/// The most levels of read-ahead the config accepts.
const MAX_PREFETCH_DEPTH: i64 = 1024;
/// The default time allowed to open a connection (TCP and TLS): 10 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default longest wait for an answer: 30 s.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The default number of tries after the first: 2 (3 attempts in all).
pub const DEFAULT_RETRIES: u32 = 2;
/// The default pause before the first retry (doubled before each next one):
/// 200 ms.
pub const DEFAULT_RETRY_BACKOFF: Duration = Duration::from_millis(200);
/// The default time without an answer after which the source sends a
/// notice: 5 s.
pub const DEFAULT_SLOW_NOTICE: Duration = Duration::from_secs(5);
/// The longest timeout the config accepts: one hour.
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
/// The most retries the config accepts.
const MAX_RETRIES: u32 = 10;

/// How to reach one OCI registry, read from its `[registry."NAME".oci]`
/// table.
#[derive(Clone, PartialEq, Eq)]
pub struct OciSettings {
    /// The OCI host, with its port if any (`ghcr.io`, `127.0.0.1:5000`).
    pub host: String,
    /// Prepended to `ns/name` to form a package's repository.
    pub namespace_prefix: String,
    /// Plain HTTP instead of HTTPS.
    pub plain_http: bool,
    /// Basic credentials (username, password); `None`: anonymous.
    pub credentials: Option<(String, String)>,
    /// At most this many registry requests at once (prefetching and
    /// read-ahead included).
    pub concurrency: usize,
    /// How many levels of dependencies the source reads ahead of the
    /// solver (`prefetch_depth`): when a release's manifest names its
    /// dependencies (our config record), the newest release in each
    /// dependency's range has its tag list and manifest read too, and so
    /// on, this many levels below a release the solver asked about.
    /// Manifests and tag lists only, never a component's bytes. `0`: no
    /// read-ahead.
    pub prefetch_depth: u32,
    /// Accept TLS certificates that do not verify (wkg's
    /// `accept_invalid_certificates`).
    pub accept_invalid_certificates: bool,
    /// Extra root certificates: (is PEM, data).
    pub extra_root_certificates: Vec<(bool, Vec<u8>)>,
    /// The time allowed to open a connection (TCP and TLS); `connect_timeout`.
    pub connect_timeout: Duration,
    /// The longest wait for an answer; `read_timeout`. A request for a tag
    /// list or a manifest (with its config) that has not completed within
    /// it, or a download that receives nothing for this long, is abandoned
    /// (and tried again, see [`OciSettings::retries`]).
    pub read_timeout: Duration,
    /// How many times a failed request is tried again (`retries`): after
    /// an HTTP 5xx answer, a connection refused, reset or cut, or a
    /// timeout; never after a 4xx answer. `0`: one attempt only.
    pub retries: u32,
    /// The pause before the first retry, doubled before each next one (no
    /// jitter). Not read from the config file.
    pub retry_backoff: Duration,
    /// After this long without an answer the source sends one notice per
    /// request to its sink (see
    /// [`OciSource::with_notices`](crate::OciSource::with_notices)). Not
    /// read from the config file.
    pub slow_notice: Duration,
}

impl std::fmt::Debug for OciSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OciSettings")
            .field("host", &self.host)
            .field("namespace_prefix", &self.namespace_prefix)
            .field("plain_http", &self.plain_http)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|(user, _)| (user, "***")),
            )
            .field("concurrency", &self.concurrency)
            .field("prefetch_depth", &self.prefetch_depth)
            .field(
                "accept_invalid_certificates",
                &self.accept_invalid_certificates,
            )
            .field(
                "extra_root_certificates",
                &self.extra_root_certificates.len(),
            )
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("retries", &self.retries)
            .field("retry_backoff", &self.retry_backoff)
            .field("slow_notice", &self.slow_notice)
            .finish()
    }
}

impl OciSettings {
    /// Settings for the registry at `host`, anonymous, over HTTPS, with
    /// the default bounds ([`DEFAULT_CONCURRENCY`],
    /// [`DEFAULT_PREFETCH_DEPTH`], [`DEFAULT_CONNECT_TIMEOUT`], [`DEFAULT_READ_TIMEOUT`],
    /// [`DEFAULT_RETRIES`], [`DEFAULT_RETRY_BACKOFF`],
    /// [`DEFAULT_SLOW_NOTICE`]).
    pub fn new(host: impl Into<String>) -> Self {
        OciSettings {
            host: host.into(),
            namespace_prefix: String::new(),
            plain_http: false,
            credentials: None,
            concurrency: DEFAULT_CONCURRENCY,
            prefetch_depth: DEFAULT_PREFETCH_DEPTH,
            accept_invalid_certificates: false,
            extra_root_certificates: Vec::new(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            retries: DEFAULT_RETRIES,
            retry_backoff: DEFAULT_RETRY_BACKOFF,
            slow_notice: DEFAULT_SLOW_NOTICE,
        }
    }

    /// Reads the `[registry."NAME".oci]` table of registry `name` from the
    /// config file `file` (named in errors).
    pub fn from_table(name: &str, table: &Table, file: &Path) -> Result<Self, ConfigError> {
        let base = format!("registry.{}.oci", quote(name));
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            path: file.to_path_buf(),
            key: if key.is_empty() {
                base.clone()
            } else {
                format!("{base}.{}", quote(key))
            },
            message,
        };
        let string = |key: &str, v: &Value| -> Result<String, ConfigError> {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| invalid(key, format!("expected a string, found {}", v.type_str())))
        };
        let boolean = |key: &str, v: &Value| -> Result<bool, ConfigError> {
            v.as_bool().ok_or_else(|| {
                invalid(
                    key,
                    format!("expected true or false, found {}", v.type_str()),
                )
            })
        };
        let seconds = |key: &str, v: &Value| -> Result<Duration, ConfigError> {
            let n = match v {
                Value::Integer(n) => *n as f64,
                Value::Float(n) => *n,
                other => {
                    return Err(invalid(
                        key,
                        format!("expected a number of seconds, found {}", other.type_str()),
                    ))
                }
            };
            duration_from_seconds(n).map_err(|m| invalid(key, m))
        };
        let mut settings = OciSettings::new(name);
        for (key, value) in table {
            match key.as_str() {
                "auth" => {
                    settings.credentials = Some(parse_auth(value).map_err(|m| invalid(key, m))?)
                }
                "protocol" => {
                    settings.plain_http = match string(key, value)?.as_str() {
                        "https" => false,
                        "http" => true,
                        other => {
                            return Err(invalid(
                                key,
                                format!(
                                    "unknown protocol `{other}` (expected \"https\" or \"http\")"
                                ),
                            ))
                        }
                    }
                }
                "registry" => {
                    let host = string(key, value)?;
                    if host.is_empty() || host.contains(['/', ' ']) {
                        return Err(invalid(
                            key,
                            format!("`{host}` is not a registry host (expected e.g. `ghcr.io` or `127.0.0.1:5000`)"),
                        ));
                    }
                    settings.host = host;
                }
                "namespacePrefix" => {
                    let prefix = string(key, value)?;
                    let ok = prefix.is_empty()
                        || (prefix.ends_with('/')
                            && !prefix.starts_with('/')
                            && prefix.trim_end_matches('/').split('/').all(|part| {
                                !part.is_empty()
                                    && part.bytes().all(|b| {
                                        b.is_ascii_lowercase()
                                            || b.is_ascii_digit()
                                            || matches!(b, b'.' | b'_' | b'-')
                                    })
                            }));
                    if !ok {
                        return Err(invalid(
                            key,
                            format!("`{prefix}` is not a repository prefix: lowercase path parts, ending in `/` (e.g. `my-org/`)"),
                        ));
                    }
                    settings.namespace_prefix = prefix;
                }
                "concurrency" => {
                    let n = value.as_integer().ok_or_else(|| {
                        invalid(
                            key,
                            format!("expected a whole number, found {}", value.type_str()),
                        )
                    })?;
                    if !(1..=256).contains(&n) {
                        return Err(invalid(key, format!("{n} is out of range (1 to 256)")));
                    }
                    settings.concurrency = n as usize;
                }
                "prefetch_depth" => {
                    let n = value.as_integer().ok_or_else(|| {
                        invalid(
                            key,
                            format!("expected a whole number, found {}", value.type_str()),
                        )
                    })?;
                    if !(0..=MAX_PREFETCH_DEPTH).contains(&n) {
                        return Err(invalid(
                            key,
                            format!("{n} is out of range (0 to {MAX_PREFETCH_DEPTH})"),
                        ));
                    }
                    settings.prefetch_depth = n as u32;
                }
                "connect_timeout" => settings.connect_timeout = seconds(key, value)?,
                "read_timeout" => settings.read_timeout = seconds(key, value)?,
                "retries" => {
                    let n = value.as_integer().ok_or_else(|| {
                        invalid(
                            key,
                            format!("expected a whole number, found {}", value.type_str()),
                        )
                    })?;
                    settings.retries = u32::try_from(n)
                        .ok()
                        .filter(|n| *n <= MAX_RETRIES)
                        .ok_or_else(|| {
                            invalid(key, format!("{n} is out of range (0 to {MAX_RETRIES})"))
                        })?;
                }
                "accept_invalid_certificates" => {
                    settings.accept_invalid_certificates = boolean(key, value)?;
                }
                "extra_root_certificates" => {
                    let list = value.as_array().ok_or_else(|| {
                        invalid(
                            key,
                            format!("expected an array, found {}", value.type_str()),
                        )
                    })?;
                    for (i, cert) in list.iter().enumerate() {
                        let item = format!("{key}[{i}]");
                        let t = cert.as_table().ok_or_else(|| {
                            invalid(
                                &item,
                                "expected `{ encoding = \"pem\", data = \"...\" }`".into(),
                            )
                        })?;
                        let encoding = t.get("encoding").and_then(Value::as_str);
                        let data = t.get("data").and_then(Value::as_str);
                        let pem = match encoding {
                            Some("pem") => true,
                            Some("der") => false,
                            _ => {
                                return Err(invalid(
                                    &item,
                                    "`encoding` must be \"pem\" or \"der\"".into(),
                                ))
                            }
                        };
                        let Some(data) = data else {
                            return Err(invalid(&item, "missing string `data`".into()));
                        };
                        settings
                            .extra_root_certificates
                            .push((pem, data.as_bytes().to_vec()));
                    }
                }
                _ => {
                    return Err(invalid(
                        key,
                        "unknown key (an OCI registry has `auth`, `protocol`, `registry`, \
                         `namespacePrefix`, `concurrency`, `prefetch_depth`, `connect_timeout`, `read_timeout`, \
                         `retries`, `accept_invalid_certificates`, `extra_root_certificates`)"
                            .into(),
                    ))
                }
            }
        }
        if settings.plain_http && settings.credentials.is_some() && !is_loopback(&settings.host) {
            return Err(invalid(
                "",
                format!(
                    "`auth` with `protocol = \"http\"` would send the password in clear text to `{}`; \
                     plain HTTP with credentials is allowed on loopback only",
                    settings.host
                ),
            ));
        }
        Ok(settings)
    }

    /// The repository of package `ns:name`: `<prefix><ns>/<name>`.
    pub fn repository(&self, namespace: &str, name: &str) -> String {
        format!("{}{namespace}/{name}", self.namespace_prefix)
    }

    /// The base URL, for messages: `https://ghcr.io`.
    pub fn url(&self) -> String {
        let scheme = if self.plain_http { "http" } else { "https" };
        format!("{scheme}://{}", self.host)
    }
}

/// A timeout of `seconds` (whole or fractional): more than zero, at most an
/// hour. The error says what is wrong, for a message naming the key or
/// flag.
pub fn duration_from_seconds(seconds: f64) -> Result<Duration, String> {
    if seconds.is_finite() && seconds > 0.0 && seconds <= MAX_TIMEOUT.as_secs_f64() {
        Ok(Duration::from_secs_f64(seconds))
    } else {
        Err(format!(
            "{seconds} is out of range (more than 0 and at most {} seconds)",
            MAX_TIMEOUT.as_secs()
        ))
    }
}

/// Whether `host` (with an optional port) is a loopback address.
pub fn is_loopback(host: &str) -> bool {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return ip.is_loopback();
    }
    let bare = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                host
            }
        })
    };
    if bare.eq_ignore_ascii_case("localhost") {
        return true;
    }
    bare.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

fn parse_auth(value: &Value) -> Result<(String, String), String> {
    match value {
        Value::String(b64) => {
            let engine = base64::engine::GeneralPurpose::new(
                &base64::alphabet::STANDARD,
                base64::engine::GeneralPurposeConfig::new()
                    .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
            );
            let bytes = engine
                .decode(b64.trim())
                .map_err(|e| format!("not base64 of `username:password`: {e}"))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| "base64 of `username:password` that is not UTF-8".to_string())?;
            let (user, password) = text
                .split_once(':')
                .ok_or_else(|| "base64 of `username:password` without a `:`".to_string())?;
            Ok((user.to_string(), password.to_string()))
        }
        Value::Table(t) => {
            for k in t.keys() {
                if k != "username" && k != "password" {
                    return Err(format!(
                        "unknown key `{k}` (expected `username` and `password`)"
                    ));
                }
            }
            let get = |k: &str| {
                t.get(k)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| format!("missing string `{k}`"))
            };
            Ok((get("username")?, get("password")?))
        }
        other => Err(format!(
            "expected a base64 string or `{{ username, password }}`, found {}",
            other.type_str()
        )),
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

/// The file a configuration came from, for errors (`<built-in>` if none).
pub(crate) fn origin_path(config: &warg_depsolve_registry::Config) -> PathBuf {
    config
        .origin
        .path()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("<built-in configuration>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<OciSettings, ConfigError> {
        let table: Table = toml::from_str(text).unwrap();
        OciSettings::from_table("ghcr.io", &table, Path::new("config.toml"))
    }

    #[test]
    fn defaults_follow_the_registry_name() {
        let s = parse("").unwrap();
        assert_eq!(s.host, "ghcr.io");
        assert!(!s.plain_http);
        assert_eq!(s.repository("acme", "kv"), "acme/kv");
        assert_eq!(s.concurrency, DEFAULT_CONCURRENCY);
        assert_eq!(s.prefetch_depth, DEFAULT_PREFETCH_DEPTH);
        assert_eq!(s.connect_timeout, Duration::from_secs(10));
        assert_eq!(s.read_timeout, Duration::from_secs(30));
        assert_eq!(s.retries, 2);
    }

    #[test]
    fn timeouts_and_retries() {
        let s = parse("connect_timeout = 2\nread_timeout = 0.25\nretries = 0").unwrap();
        assert_eq!(s.connect_timeout, Duration::from_secs(2));
        assert_eq!(s.read_timeout, Duration::from_millis(250));
        assert_eq!(s.retries, 0);
        for text in [
            "read_timeout = 0",
            "read_timeout = -1",
            "read_timeout = 3601",
            "read_timeout = \"30s\"",
            "connect_timeout = nan",
            "retries = -1",
            "retries = 11",
            "retries = 1.5",
            "prefetch_depth = -1",
            "prefetch_depth = 1025",
            "prefetch_depth = \"deep\"",
        ] {
            let key = text.split(' ').next().unwrap();
            match parse(text).unwrap_err() {
                ConfigError::Invalid { key: k, .. } => {
                    assert_eq!(k, format!("registry.\"ghcr.io\".oci.{key}"), "{text}")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn wkg_keys_and_ours() {
        let s = parse(
            r#"
            auth = "cGluZzpwb25n"
            protocol = "https"
            registry = "example.com:8443"
            namespacePrefix = "webassembly/"
            concurrency = 3
            prefetch_depth = 0
            "#,
        )
        .unwrap();
        assert_eq!(s.prefetch_depth, 0);
        assert_eq!(s.credentials, Some(("ping".into(), "pong".into())));
        assert_eq!(s.host, "example.com:8443");
        assert_eq!(s.repository("wasi", "http"), "webassembly/wasi/http");
        assert_eq!(s.concurrency, 3);
        let s = parse(r#"auth = { username = "open", password = "sesame" }"#).unwrap();
        assert_eq!(s.credentials, Some(("open".into(), "sesame".into())));
        assert!(!format!("{s:?}").contains("sesame"));
    }

    #[test]
    fn errors_name_the_key() {
        for (text, key) in [
            ("protocol = \"ftp\"", "registry.\"ghcr.io\".oci.protocol"),
            ("colour = 1", "registry.\"ghcr.io\".oci.colour"),
            ("auth = \"!!\"", "registry.\"ghcr.io\".oci.auth"),
            ("concurrency = 0", "registry.\"ghcr.io\".oci.concurrency"),
            (
                "namespacePrefix = \"Org\"",
                "registry.\"ghcr.io\".oci.namespacePrefix",
            ),
            (
                "protocol = \"http\"\nauth = { username = \"a\", password = \"b\" }",
                "registry.\"ghcr.io\".oci",
            ),
        ] {
            match parse(text).unwrap_err() {
                ConfigError::Invalid { key: k, path, .. } => {
                    assert_eq!(k, key, "{text}");
                    assert_eq!(path, Path::new("config.toml"));
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.9.9.9",
            "[::1]:5000",
            "::1",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in [
            "ghcr.io",
            "10.0.0.1:5000",
            "example.com:80",
            "[2001:db8::1]:5000",
        ] {
            assert!(!is_loopback(h), "{h}");
        }
    }
}
