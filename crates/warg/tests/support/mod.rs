//! A real `warg-server` 0.10 started in-process (in-memory store, a fresh
//! P-256 operator key, a short checkpoint interval), and a loopback proxy
//! in front of it that can rewrite answers, to show that the client refuses
//! what it must refuse.

#![allow(dead_code)]

mod server;
pub use server::*;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::Router;
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use warg_crypto::signing::PrivateKey;
use warg_depsolve_warg::{WargClient, WargSettings};
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
