//! [`WargSettings`]: how to reach one warg registry, and how long to wait
//! for it.

use std::sync::Arc;
use std::time::Duration;

use warg_crypto::signing::PrivateKey;

/// The default time allowed to open a connection (TCP and TLS): 10 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default longest wait for an answer (and, downloading, between two
/// pieces of one): 30 s.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The default number of tries after the first: 2 (3 attempts in all).
pub const DEFAULT_RETRIES: u32 = 2;
/// The default pause before the first retry (doubled before each next one):
/// 200 ms.
pub const DEFAULT_RETRY_BACKOFF: Duration = Duration::from_millis(200);
/// The default pause between two looks at a record being published: 250 ms.
pub const DEFAULT_PUBLISH_POLL: Duration = Duration::from_millis(250);
/// The default number of records asked for per log and page of a log
/// fetch: 1000, the most the reference server sends.
pub const DEFAULT_PAGE_SIZE: u16 = 1000;
/// The default longest wait for a record to be published: 2 minutes (a
/// registry publishes at its next checkpoint, every few seconds).
pub const DEFAULT_PUBLISH_TIMEOUT: Duration = Duration::from_secs(120);

/// How to reach one warg registry.
#[derive(Clone)]
pub struct WargSettings {
    /// The registry's base URL (`https://registry.example.com/`); API paths
    /// (`v1/fetch/checkpoint`) are joined to it.
    pub url: String,
    /// A bearer token sent with every API request (wkg's `auth_token`).
    pub auth_token: Option<String>,
    /// The key that signs published records (wkg's `signing_key`).
    pub signing_key: Option<Arc<PrivateKey>>,
    /// Sent as the `Warg-Registry` header with every API request: asks
    /// this registry to answer for the named one. Off by default (warg's
    /// reference server answers 501 to it).
    pub registry_header: Option<String>,
    /// The time allowed to open a connection.
    pub connect_timeout: Duration,
    /// The longest wait for an answer; downloading, the longest wait for
    /// the next piece.
    pub read_timeout: Duration,
    /// How many times a failed request is tried again: after an HTTP 5xx
    /// answer (other than 501), a connection refused, reset or cut, or a
    /// timeout; never after a 4xx answer. `0`: one attempt only.
    pub retries: u32,
    /// The pause before the first retry, doubled before each next one.
    pub retry_backoff: Duration,
    /// The pause between two looks at a record being published.
    pub publish_poll: Duration,
    /// The longest wait for a record to be published.
    pub publish_timeout: Duration,
    /// How many records to ask for per log and page when fetching logs
    /// (from 1 to 1000 for the reference server).
    pub page_size: u16,
}

impl std::fmt::Debug for WargSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WargSettings")
            .field("url", &self.url)
            .field("auth_token", &self.auth_token.as_ref().map(|_| "***"))
            .field(
                "signing_key",
                &self
                    .signing_key
                    .as_ref()
                    .map(|k| k.public_key().fingerprint()),
            )
            .field("registry_header", &self.registry_header)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("retries", &self.retries)
            .field("retry_backoff", &self.retry_backoff)
            .field("publish_poll", &self.publish_poll)
            .field("publish_timeout", &self.publish_timeout)
            .field("page_size", &self.page_size)
            .finish()
    }
}

impl WargSettings {
    /// Settings for the registry at `url`, anonymous, without a signing
    /// key, with the default bounds ([`DEFAULT_CONNECT_TIMEOUT`],
    /// [`DEFAULT_READ_TIMEOUT`], [`DEFAULT_RETRIES`],
    /// [`DEFAULT_RETRY_BACKOFF`], [`DEFAULT_PUBLISH_POLL`],
    /// [`DEFAULT_PUBLISH_TIMEOUT`], [`DEFAULT_PAGE_SIZE`]).
    pub fn new(url: impl Into<String>) -> Self {
        WargSettings {
            url: url.into(),
            auth_token: None,
            signing_key: None,
            registry_header: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            retries: DEFAULT_RETRIES,
            retry_backoff: DEFAULT_RETRY_BACKOFF,
            publish_poll: DEFAULT_PUBLISH_POLL,
            publish_timeout: DEFAULT_PUBLISH_TIMEOUT,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }

    /// Settings for the registry named `host` (`registry.example.com`,
    /// `127.0.0.1:8090`) as wkg 0.15 reached it: over http for
    /// `localhost` and `127.0.0.1`, over https otherwise.
    pub fn for_host(host: &str) -> Self {
        Self::new(url_for_host(host))
    }
}

/// The URL wkg 0.15 used for a warg registry named by its host: `http://`
/// for `localhost` and `127.0.0.1` (with any port), `https://` otherwise.
///
/// ```
/// use warg_depsolve_warg::url_for_host;
/// assert_eq!(url_for_host("localhost:8090"), "http://localhost:8090/");
/// assert_eq!(url_for_host("127.0.0.1"), "http://127.0.0.1/");
/// assert_eq!(url_for_host("registry.example.com"), "https://registry.example.com/");
/// ```
pub fn url_for_host(host: &str) -> String {
    let bare = host.split(':').next().unwrap_or(host);
    let scheme = if bare == "localhost" || bare == "127.0.0.1" {
        "http"
    } else {
        "https"
    };
    format!("{scheme}://{host}/")
}

/// A duration for messages: `300 ms`, `5 s`, `2.5 s`.
pub(crate) fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{} s", d.as_secs_f64())
    }
}
