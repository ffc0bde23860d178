//! The HTTP layer: one registry's base URL, credentials and header,
//! timeouts and retries; JSON in and out; the registry's error answers
//! decoded into the API's typed errors.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;
use warg_api::v1::REGISTRY_HEADER_NAME;

use crate::error::WargError;
use crate::settings::{seconds, WargSettings};

/// A request that failed with an answer of the registry's (decoded as the
/// API's error type `E`), or otherwise.
#[derive(Debug)]
pub(crate) enum CallError<E> {
    /// The registry answered with an error it describes as `error`.
    Api {
        /// What to report when the caller gives `error` no meaning of its
        /// own: [`WargError::Refused`] or [`WargError::Unauthorized`].
        refused: WargError,
        /// The decoded answer.
        error: E,
    },
    /// Anything else.
    Other(WargError),
}

impl<E> CallError<E> {
    /// The error to report when the registry's answer has no meaning of
    /// its own to the caller.
    pub(crate) fn plain(self) -> WargError {
        match self {
            CallError::Api { refused, .. } => refused,
            CallError::Other(e) => e,
        }
    }
}

impl<E> From<WargError> for CallError<E> {
    fn from(e: WargError) -> Self {
        CallError::Other(e)
    }
}

/// Why one attempt at a request failed.
#[derive(Debug)]
enum Failure {
    /// No connection, a broken one, a body that could not be read, a
    /// timeout of the HTTP client.
    Send(reqwest::Error),
    /// No complete answer within the time allowed.
    NoAnswer(NoAnswer),
    /// An HTTP 5xx answer (other than 501).
    Server(ServerError),
}

impl Failure {
    fn is_transient(&self) -> bool {
        match self {
            Failure::Send(e) => e.is_timeout() || e.is_connect() || e.is_request() || e.is_body(),
            Failure::NoAnswer(_) | Failure::Server(_) => true,
        }
    }

    fn into_cause(self) -> Arc<dyn StdError + Send + Sync> {
        match self {
            Failure::Send(e) => Arc::new(e),
            Failure::NoAnswer(e) => Arc::new(e),
            Failure::Server(e) => Arc::new(e),
        }
    }
}

/// No complete answer within the time allowed (a cause of
/// [`WargError::Network`]).
#[derive(Debug)]
struct NoAnswer(Duration);

impl fmt::Display for NoAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no answer within {}", seconds(self.0))
    }
}

impl StdError for NoAnswer {}

/// A server error answer (a cause of [`WargError::Network`]).
#[derive(Debug)]
struct ServerError {
    status: u16,
    message: String,
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}: {}", self.status, self.message)
    }
}

impl StdError for ServerError {}

/// The text of an error answer: its `message` if it is the API's JSON,
/// else the body itself (shortened).
fn answer_text(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Message {
        message: String,
    }
    if let Ok(m) = serde_json::from_slice::<Message>(body) {
        return m.message;
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{} ...", &text[..cut]),
        None if text.is_empty() => "(no message)".to_string(),
        None => text.to_string(),
    }
}

/// One registry, reached over HTTP.
pub(crate) struct Http {
    /// The registry's name, for errors.
    pub(crate) registry: String,
    base: Url,
    client: reqwest::Client,
    pub(crate) settings: WargSettings,
}

impl Http {
    pub(crate) fn new(registry: &str, settings: WargSettings) -> Result<Self, WargError> {
        let invalid = |cause: Box<dyn StdError + Send + Sync>| WargError::InvalidUrl {
            registry: registry.to_string(),
            url: settings.url.clone(),
            cause,
        };
        // A base without a trailing slash would lose its last segment
        // when API paths are joined to it.
        let mut base = Url::parse(&settings.url).map_err(|e| invalid(e.into()))?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        if base.cannot_be_a_base() || !matches!(base.scheme(), "http" | "https") {
            return Err(invalid("expected an http:// or https:// URL".into()));
        }
        // reqwest is built without a default TLS crypto provider, so that
        // neither OpenSSL nor aws-lc is compiled: install ring's (a no-op
        // if the process already chose one).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.read_timeout)
            .user_agent(concat!("warg-depsolve/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| invalid(e.into()))?;
        Ok(Http {
            registry: registry.to_string(),
            base,
            client,
            settings,
        })
    }

    /// The registry's base URL.
    pub(crate) fn location(&self) -> &str {
        self.base.as_str()
    }

    /// `path` joined to the base URL (an absolute URL stays as it is).
    pub(crate) fn url(&self, path: &str, what: &str) -> Result<Url, WargError> {
        self.base
            .join(path)
            .map_err(|e| self.invalid(self.base.as_str(), what, e.into()))
    }

    /// The error for an answer that is not what the protocol says.
    pub(crate) fn invalid(
        &self,
        url: &str,
        what: &str,
        cause: Box<dyn StdError + Send + Sync>,
    ) -> WargError {
        WargError::InvalidAnswer {
            registry: self.registry.clone(),
            url: url.to_string(),
            what: what.to_string(),
            cause,
        }
    }

    fn network(&self, what: &str, attempts: u32, failure: Failure) -> WargError {
        WargError::Network {
            registry: self.registry.clone(),
            url: self.location().to_string(),
            what: what.to_string(),
            attempts,
            cause: failure.into_cause(),
        }
    }

    fn refused(&self, url: &Url, what: &str, status: u16, message: String) -> WargError {
        if status == 401 || status == 403 {
            WargError::Unauthorized {
                registry: self.registry.clone(),
                what: what.to_string(),
                message,
            }
        } else {
            WargError::Refused {
                registry: self.registry.clone(),
                url: url.to_string(),
                what: what.to_string(),
                status,
                message,
            }
        }
    }

    /// Whether `url` is on the registry's own origin (where its token may
    /// go).
    fn own(&self, url: &Url) -> bool {
        url.origin() == self.base.origin()
    }

    /// `GET path`, decoded as `T`; an error answer decoded as `E`.
    pub(crate) async fn get<T, E>(&self, path: &str, what: &str) -> Result<T, CallError<E>>
    where
        T: DeserializeOwned,
        E: DeserializeOwned + fmt::Display,
    {
        let url = self.url(path, what)?;
        self.call(Method::GET, url, None, what, true).await
    }

    /// `POST path` with `body` as JSON, decoded as `T`; an error answer
    /// decoded as `E`. Tried again on transient failures only if `retry`.
    pub(crate) async fn post<B, T, E>(
        &self,
        path: &str,
        body: &B,
        what: &str,
        retry: bool,
    ) -> Result<T, CallError<E>>
    where
        B: Serialize,
        T: DeserializeOwned,
        E: DeserializeOwned + fmt::Display,
    {
        let url = self.url(path, what)?;
        let body =
            serde_json::to_vec(body).map_err(|e| self.invalid(url.as_str(), what, e.into()))?;
        self.call(Method::POST, url, Some(body), what, retry).await
    }

    /// Runs `attempt` until it succeeds, fails for good, or has been made
    /// `1 + retries` times (once if not `retry`), pausing `retry_backoff`
    /// before the first retry and twice as long before each next one.
    async fn attempts<T, Fut>(
        &self,
        retry: bool,
        mut attempt: impl FnMut() -> Fut,
    ) -> Result<T, (Failure, u32)>
    where
        Fut: Future<Output = Result<T, Failure>>,
    {
        let mut attempts = 0;
        let mut pause = self.settings.retry_backoff;
        loop {
            attempts += 1;
            match attempt().await {
                Ok(value) => return Ok(value),
                Err(f) if retry && f.is_transient() && attempts <= self.settings.retries => {
                    tokio::time::sleep(pause).await;
                    pause = pause.saturating_mul(2);
                }
                Err(f) => return Err((f, attempts)),
            }
        }
    }

    /// A request with the registry's token and header, answered in full
    /// within the connect and read timeouts; a 5xx answer other than 501
    /// is a failure.
    async fn exchange(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&[u8]>,
    ) -> Result<(StatusCode, Vec<u8>), Failure> {
        let mut request = self.client.request(method.clone(), url.clone());
        if self.own(url) {
            if let Some(token) = &self.settings.auth_token {
                request = request.bearer_auth(token);
            }
            if let Some(header) = &self.settings.registry_header {
                request = request.header(REGISTRY_HEADER_NAME, header);
            }
        }
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }
        let limit = self.settings.connect_timeout + self.settings.read_timeout;
        let answer = async {
            let response = request.send().await?;
            let status = response.status();
            let bytes = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, bytes.to_vec()))
        };
        let (status, bytes) = tokio::time::timeout(limit, answer)
            .await
            .map_err(|_| Failure::NoAnswer(NoAnswer(limit)))?
            .map_err(Failure::Send)?;
        if status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED {
            return Err(Failure::Server(ServerError {
                status: status.as_u16(),
                message: answer_text(&bytes),
            }));
        }
        Ok((status, bytes))
    }

    async fn call<T, E>(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
        what: &str,
        retry: bool,
    ) -> Result<T, CallError<E>>
    where
        T: DeserializeOwned,
        E: DeserializeOwned + fmt::Display,
    {
        let (status, bytes) = self
            .attempts(retry, || self.exchange(&method, &url, body.as_deref()))
            .await
            .map_err(|(f, attempts)| self.network(what, attempts, f))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| CallError::Other(self.invalid(url.as_str(), what, e.into())));
        }
        Err(self.answer_error(&url, what, status, &bytes))
    }

    /// What an error answer means.
    fn answer_error<E>(
        &self,
        url: &Url,
        what: &str,
        status: StatusCode,
        body: &[u8],
    ) -> CallError<E>
    where
        E: DeserializeOwned + fmt::Display,
    {
        if status == StatusCode::NOT_IMPLEMENTED && self.own(url) {
            if let Some(header) = &self.settings.registry_header {
                return CallError::Other(WargError::RegistryHeaderRefused {
                    registry: self.registry.clone(),
                    url: self.location().to_string(),
                    header: header.clone(),
                });
            }
        }
        match serde_json::from_slice::<E>(body) {
            Ok(error) => CallError::Api {
                refused: self.refused(url, what, status.as_u16(), error.to_string()),
                error,
            },
            Err(_) => CallError::Other(self.refused(url, what, status.as_u16(), answer_text(body))),
        }
    }

    /// Downloads `url` whole, with the registry's token only if it is on
    /// the registry's origin. `Ok(None)`: the URL answered 404.
    pub(crate) async fn download(
        &self,
        url: &Url,
        what: &str,
    ) -> Result<Option<Vec<u8>>, WargError> {
        let attempt = || async {
            let mut request = self.client.get(url.clone());
            if self.own(url) {
                if let Some(token) = &self.settings.auth_token {
                    request = request.bearer_auth(token);
                }
            }
            // The client's read timeout bounds each wait for a piece; a
            // large download as a whole has no deadline.
            let response = request.send().await.map_err(Failure::Send)?;
            let status = response.status();
            if status.is_server_error() {
                return Err(Failure::Server(ServerError {
                    status: status.as_u16(),
                    message: status.to_string(),
                }));
            }
            let bytes = response.bytes().await.map_err(Failure::Send)?;
            Ok((status, bytes.to_vec()))
        };
        let (status, bytes) = self
            .attempts(true, attempt)
            .await
            .map_err(|(f, attempts)| self.network(what, attempts, f))?;
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(self.refused(url, what, status.as_u16(), answer_text(&bytes)));
        }
        Ok(Some(bytes))
    }

    /// Uploads `bytes` as an upload endpoint says: `method` (`POST` or
    /// `PUT`) to `url` (relative to the registry's) with `headers` (only
    /// `authorization` and `content-type` are allowed). One attempt.
    pub(crate) async fn upload<E>(
        &self,
        method: &str,
        url: &str,
        headers: &IndexMap<String, String>,
        bytes: &[u8],
        what: &str,
    ) -> Result<(), CallError<E>>
    where
        E: DeserializeOwned + fmt::Display,
    {
        let url = self.url(url, what)?;
        let bad =
            |message: String| CallError::Other(self.invalid(url.as_str(), what, message.into()));
        let method = match method {
            "POST" => Method::POST,
            "PUT" => Method::PUT,
            other => return Err(bad(format!("upload method `{other}` is not POST or PUT"))),
        };
        let mut request = self.client.request(method, url.clone());
        for (name, value) in headers {
            let name: HeaderName = match name.to_ascii_lowercase().as_str() {
                "authorization" => AUTHORIZATION,
                "content-type" => CONTENT_TYPE,
                other => return Err(bad(format!("upload header `{other}` is not allowed"))),
            };
            let value = HeaderValue::from_str(value)
                .map_err(|_| bad(format!("upload header `{name}` has an invalid value")))?;
            request = request.header(name, value);
        }
        let answer = request
            .body(bytes.to_vec())
            .send()
            .await
            .map_err(|e| self.network(what, 1, Failure::Send(e)))?;
        let status = answer.status();
        if status.is_success() {
            return Ok(());
        }
        let body = answer
            .bytes()
            .await
            .map_err(|e| self.network(what, 1, Failure::Send(e)))?;
        Err(self.answer_error(&url, what, status, &body))
    }
}
