//! A real `warg-server` 0.10 started in-process (in-memory store, a fresh
//! P-256 operator key, a short checkpoint interval), and a loopback proxy
//! in front of it that can rewrite answers, to show that the client refuses
//! what it must refuse.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::Router;
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use warg_crypto::signing::{generate_p256_pair, PrivateKey};
use warg_depsolve_warg::{WargClient, WargSettings};
use warg_protocol::operator::NamespaceState;

/// How often the test servers write a checkpoint: often, so that a publish
/// waits little.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(100);

/// A running warg server; stopped when dropped (or by [`Server::stop`]).
pub struct Server {
    pub addr: SocketAddr,
    /// The operator's key (tests sign forged checkpoints with it).
    pub operator_key: PrivateKey,
    runtime: Option<Runtime>,
    _content: tempfile::TempDir,
}

/// `(namespace, defined here)` or `(namespace, imported from registry)`.
pub enum Ns<'a> {
    Defined(&'a str),
    Imported(&'a str, &'a str),
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

impl Server {
    /// A server defining `namespaces`.
    pub fn start(namespaces: &[Ns<'_>]) -> Server {
        Self::start_with(namespaces, None)
    }

    /// A server whose content URLs point at `content_base` (a proxy).
    pub fn start_with(namespaces: &[Ns<'_>], content_base: Option<&str>) -> Server {
        let runtime = runtime();
        let (_, operator_key) = generate_p256_pair();
        let content = tempfile::tempdir().unwrap();
        let namespaces = namespaces
            .iter()
            .map(|ns| match ns {
                Ns::Defined(n) => (n.to_string(), NamespaceState::Defined),
                Ns::Imported(n, from) => (
                    n.to_string(),
                    NamespaceState::Imported {
                        registry: from.to_string(),
                    },
                ),
            })
            .collect();
        let key = PrivateKey::decode(operator_key.encode().to_string()).unwrap();
        let mut config =
            warg_server::Config::new(key, Some(namespaces), content.path().to_path_buf())
                .with_addr(SocketAddr::from(([127, 0, 0, 1], 0)))
                .with_checkpoint_interval(CHECKPOINT_INTERVAL);
        if let Some(base) = content_base {
            config = config.with_content_base_url(base.parse().unwrap());
        }
        let server = runtime
            .block_on(warg_server::Server::new(config).initialize())
            .unwrap();
        let addr = server.local_addr().unwrap();
        runtime.spawn(server.serve());
        Server {
            addr,
            operator_key,
            runtime: Some(runtime),
            _content: content,
        }
    }

    /// `127.0.0.1:PORT`: the registry's name.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Settings for a client of this server with `key` for publishing,
    /// quick to give up (tests wait for nothing).
    pub fn settings(&self, key: Option<&Arc<PrivateKey>>) -> WargSettings {
        quick(WargSettings::for_host(&self.host()), key)
    }

    /// A new client of this server.
    pub fn client(&self, key: Option<&Arc<PrivateKey>>) -> WargClient {
        WargClient::new(self.host(), self.settings(key)).unwrap()
    }

    /// Stops the server: its listener and connections close.
    pub fn stop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Short timeouts and one quick retry.
pub fn quick(mut settings: WargSettings, key: Option<&Arc<PrivateKey>>) -> WargSettings {
    settings.signing_key = key.cloned();
    settings.connect_timeout = Duration::from_secs(2);
    settings.read_timeout = Duration::from_secs(5);
    settings.retries = 1;
    settings.retry_backoff = Duration::from_millis(20);
    settings.publish_poll = Duration::from_millis(50);
    settings.publish_timeout = Duration::from_secs(20);
    settings
}

/// A new signing key.
pub fn key() -> Arc<PrivateKey> {
    Arc::new(generate_p256_pair().1)
}

/// What a proxy does to an answer: given the request's path and the
/// answer's body, a new body, or `None` to pass it on unchanged.
pub type Tamper = Box<dyn Fn(&str, &[u8]) -> Option<Vec<u8>> + Send + Sync>;

#[derive(Clone)]
struct ProxyState {
    upstream: Arc<Mutex<Option<String>>>,
    tamper: Arc<Mutex<Option<Tamper>>>,
    client: reqwest::Client,
}

/// A loopback HTTP proxy in front of a server, rewriting answers as its
/// current [`Tamper`] says.
pub struct Proxy {
    pub addr: SocketAddr,
    state: ProxyState,
    runtime: Runtime,
}

impl Proxy {
    /// A proxy listening now, forwarding once [`Proxy::forward_to`] says
    /// where.
    pub fn start() -> Proxy {
        // The workspace's reqwest has no default TLS provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = runtime();
        let listener = runtime
            .block_on(TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let state = ProxyState {
            upstream: Arc::default(),
            tamper: Arc::default(),
            client: reqwest::Client::new(),
        };
        let app = Router::new().fallback(forward).with_state(state.clone());
        runtime.spawn(async move { axum::serve(listener, app).await });
        Proxy {
            addr,
            state,
            runtime,
        }
    }

    /// Forwards to `server`.
    pub fn forward_to(&self, server: &Server) {
        *self.state.upstream.lock().unwrap() = Some(format!("http://{}", server.addr));
    }

    /// Rewrites answers with `tamper` from now on.
    pub fn tamper(&self, tamper: impl Fn(&str, &[u8]) -> Option<Vec<u8>> + Send + Sync + 'static) {
        *self.state.tamper.lock().unwrap() = Some(Box::new(tamper));
    }

    /// Passes answers on unchanged from now on.
    pub fn honest(&self) {
        *self.state.tamper.lock().unwrap() = None;
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// A client of the server behind this proxy, through the proxy.
    pub fn client(&self, key: Option<&Arc<PrivateKey>>) -> WargClient {
        let settings = quick(WargSettings::new(self.url()), key);
        WargClient::new(self.addr.to_string(), settings).unwrap()
    }

    /// Runs `fut` on the proxy's runtime.
    pub fn block_on<T>(&self, fut: impl std::future::Future<Output = T>) -> T {
        self.runtime.block_on(fut)
    }
}

async fn forward(State(state): State<ProxyState>, request: Request) -> Response {
    let upstream = state
        .upstream
        .lock()
        .unwrap()
        .clone()
        .expect("proxy upstream set");
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let method = request.method().clone();
    let headers = request.headers().clone();
    let body = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .unwrap();
    let mut forwarded = state
        .client
        .request(method, format!("{upstream}{path}"))
        .body(body.to_vec());
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            forwarded = forwarded.header(name, value);
        }
    }
    let answer = forwarded.send().await.unwrap();
    let status = answer.status();
    let content_type = answer.headers().get("content-type").cloned();
    let bytes = answer.bytes().await.unwrap().to_vec();
    let bytes = match &*state.tamper.lock().unwrap() {
        Some(tamper) => tamper(&path, &bytes).unwrap_or(bytes),
        None => bytes,
    };
    let mut response = Response::builder().status(status.as_u16());
    if let Some(content_type) = content_type {
        response = response.header("content-type", content_type);
    }
    response.body(Body::from(bytes)).unwrap()
}

/// The testdata registry's releases (wkg's local layout,
/// `<ns>/<name>/<version>.wasm`): (package, version, bytes), in path order.
pub fn testdata() -> Vec<(String, semver::Version, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/registry");
    let mut out = Vec::new();
    let dirs = |p: &std::path::Path| {
        let mut v: Vec<PathBuf> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    };
    for ns in dirs(&root) {
        for name in dirs(&ns) {
            for file in dirs(&name) {
                let Some(version) = file
                    .file_name()
                    .and_then(|f| f.to_str())
                    .and_then(|f| f.strip_suffix(".wasm"))
                else {
                    continue;
                };
                let package = format!(
                    "{}:{}",
                    ns.file_name().unwrap().to_str().unwrap(),
                    name.file_name().unwrap().to_str().unwrap()
                );
                out.push((
                    package,
                    version.parse().unwrap(),
                    std::fs::read(&file).unwrap(),
                ));
            }
        }
    }
    out
}
