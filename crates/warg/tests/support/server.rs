//! A real `warg-server` 0.10 started in-process: in-memory store, a fresh
//! P-256 operator key, a short checkpoint interval. Shared by the warg
//! crate's tests and the command line's (`#[path]`).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

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

pub fn runtime() -> Runtime {
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
