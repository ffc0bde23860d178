//! Shared helpers: a real OCI registry server (Debian's `docker-registry`,
//! the CNCF distribution registry) on a free loopback port, the fixture
//! registry, the solver and wasmtime.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use warg_depsolve_oci::{OciSettings, OciSource};
use warg_depsolve_registry::progress::{Download, Progress};
use warg_depsolve_registry::{ReleaseMetadata, Source};
use warg_depsolve_solver::{resolve, Resolution, Root, SolveOptions};

/// Where the server binary is; `WARG_DEPSOLVE_REGISTRY_BIN` overrides.
pub fn registry_binary() -> PathBuf {
    std::env::var_os("WARG_DEPSOLVE_REGISTRY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/docker-registry"))
}

/// A `docker-registry serve` process on `127.0.0.1:<free port>`, storing in
/// a temporary directory; killed when dropped.
pub struct RegistryServer {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

impl RegistryServer {
    /// Starts a server and waits until `/v2/` answers. Panics (failing
    /// the test) when the binary is missing: run `scripts/test.sh`, which
    /// installs it.
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// [`RegistryServer::start`] with basic authentication: `htpasswd` is
    /// the file's text (`user:bcrypt-hash` lines). Plain HTTP, loopback:
    /// the distribution registry accepts that without TLS.
    pub fn start_with_htpasswd(htpasswd: &str) -> Self {
        Self::start_with(Some(htpasswd))
    }

    fn start_with(htpasswd: Option<&str>) -> Self {
        let bin = registry_binary();
        assert!(
            bin.is_file(),
            "the OCI registry server `{}` is not installed: run scripts/test.sh \
             (it installs Debian's `docker-registry` package), or set \
             WARG_DEPSOLVE_REGISTRY_BIN to a CNCF distribution `registry` binary",
            bin.display()
        );
        let mut failures = Vec::new();
        // A free port can be taken between our probe and the server's
        // bind: try a few.
        for _ in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            let port = free_port();
            let config = dir.path().join("config.yml");
            let auth = match htpasswd {
                Some(users) => {
                    let file = dir.path().join("htpasswd");
                    std::fs::write(&file, users).unwrap();
                    format!(
                        "auth:\n  htpasswd:\n    realm: warg-depsolve-test\n    path: {}\n",
                        file.display()
                    )
                }
                None => String::new(),
            };
            std::fs::write(
                &config,
                format!(
                    "version: 0.1\n\
                     log:\n  level: error\n  accesslog:\n    disabled: true\n\
                     storage:\n  filesystem:\n    rootdirectory: {}\n\
                     http:\n  addr: 127.0.0.1:{port}\n{auth}",
                    dir.path().join("data").display()
                ),
            )
            .unwrap();
            let log = dir.path().join("server.log");
            let child = Command::new(&bin)
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start `{}`: {e}", bin.display()));
            let mut server = RegistryServer {
                child: Some(child),
                port,
                dir,
            };
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut exited = None;
            while Instant::now() < deadline {
                if let Some(status) = server.child.as_mut().unwrap().try_wait().unwrap() {
                    exited = Some(status);
                    break;
                }
                // With authentication on, `/v2/` answers 401 once it is up.
                let up = if htpasswd.is_some() { 401 } else { 200 };
                if http_get(port, "/v2/").is_some_and(|(status, _)| status == up) {
                    return server;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            server.stop();
            failures.push(format!(
                "port {port}: {}: {}",
                exited.map_or("no answer in 20 s".to_string(), |s| format!(
                    "exited with {s}"
                )),
                std::fs::read_to_string(&log).unwrap_or_default().trim()
            ));
        }
        panic!(
            "the OCI registry server did not come up:\n{}",
            failures.join("\n")
        )
    }

    /// The server's address, `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Settings for a source on this server (plain HTTP: loopback only).
    pub fn settings(&self) -> OciSettings {
        let mut settings = OciSettings::new(self.host());
        settings.plain_http = true;
        settings
    }

    /// A source named `name` on this server.
    pub fn source(&self, name: &str) -> OciSource {
        OciSource::new(name, self.settings()).unwrap()
    }

    /// Kills the server and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RegistryServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A plain HTTP/1.0 request to loopback: (status, body).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<(u16, Vec<u8>)> {
    http_with_head(port, method, path, headers, body).map(|(status, _, body)| (status, body))
}

/// A plain HTTP/1.0 request to loopback: (status, response head, body).
pub fn http_with_head(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<(u16, String, Vec<u8>)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut request = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let split = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, head, response[split + 4..].to_vec()))
}

/// GET on loopback.
pub fn http_get(port: u16, path: &str) -> Option<(u16, Vec<u8>)> {
    http(port, "GET", path, &[], &[])
}

/// The OCI image manifest media type.
pub const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// Points tag `to` of `repo` at the manifest tag `from` points at (the way
/// `docker tag` + push or `oras tag` would).
pub fn retag(server: &RegistryServer, repo: &str, from: &str, to: &str) {
    let (status, manifest) = http(
        server.port(),
        "GET",
        &format!("/v2/{repo}/manifests/{from}"),
        &[("Accept", MANIFEST)],
        &[],
    )
    .unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&manifest));
    let (status, body) = http(
        server.port(),
        "PUT",
        &format!("/v2/{repo}/manifests/{to}"),
        &[("Content-Type", MANIFEST)],
        &manifest,
    )
    .unwrap();
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
}

pub fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// Every fixture release: (package, version, bytes).
pub fn fixtures() -> Vec<(String, String, Vec<u8>)> {
    let mut out = Vec::new();
    let root = testdata().join("registry/test");
    let mut names: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for dir in names {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let Some(version) = file
                .file_name()
                .unwrap()
                .to_string_lossy()
                .strip_suffix(".wasm")
                .map(str::to_string)
            else {
                continue;
            };
            out.push((
                format!("test:{name}"),
                version,
                std::fs::read(&file).unwrap(),
            ));
        }
    }
    out
}

/// Publishes every fixture to `source`.
pub fn publish_fixtures(source: &dyn Source) {
    let publisher = source.publisher().expect("a source that publishes");
    for (package, version, bytes) in fixtures() {
        publisher
            .publish(&package.parse().unwrap(), &version.parse().unwrap(), &bytes)
            .unwrap();
    }
}

/// A root component compiled from `testdata/roots/<name>.wat`.
pub fn root(name: &str) -> Vec<u8> {
    wat::parse_file(testdata().join("roots").join(format!("{name}.wat"))).unwrap()
}

/// Resolves `bytes` (a root named `name`) against `source` with the solver.
pub fn resolve_bytes(source: &dyn Source, name: &str, bytes: &[u8]) -> Resolution {
    let meta = ReleaseMetadata::from_component(
        &"root:root".parse().unwrap(),
        &"0.0.0".parse().unwrap(),
        bytes,
    )
    .unwrap();
    let root = Root::new(name, meta.dependencies);
    resolve(source, &root, &SolveOptions::default()).unwrap()
}

/// Every file under `dir` (recursively), relative paths.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let path = e.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

// Not every test binary that includes this module runs a bundle.
#[allow(unused_imports)]
pub use warg_depsolve_fixtures::run::call2;

/// One download as a source reported it to a [`Recorder`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reported {
    /// The registry's name.
    pub registry: String,
    /// `package@version`, or `package`.
    pub item: String,
    /// The size the registry announced.
    pub total: Option<u64>,
    /// The last count of bytes received.
    pub received: u64,
    /// `Some(true)` finished, `Some(false)` abandoned, `None` still going.
    pub finished: Option<bool>,
}

/// A [`Progress`] that keeps every download's report, in the order the
/// downloads began.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<Reported>>>);

impl Recorder {
    /// The reports so far.
    pub fn reports(&self) -> Vec<Reported> {
        self.0.lock().unwrap().clone()
    }
}

impl Progress for Recorder {
    fn download(&self, registry: &str, item: &str, total: Option<u64>) -> Box<dyn Download> {
        let mut all = self.0.lock().unwrap();
        all.push(Reported {
            registry: registry.to_string(),
            item: item.to_string(),
            total,
            received: 0,
            finished: None,
        });
        Box::new(Recorded(self.0.clone(), all.len() - 1))
    }
}

/// The [`Download`] of the recorder's report at this index.
struct Recorded(Arc<Mutex<Vec<Reported>>>, usize);

impl Recorded {
    fn update(&self, f: impl FnOnce(&mut Reported)) {
        f(&mut self.0.lock().unwrap()[self.1]);
    }
}

impl Download for Recorded {
    fn received(&mut self, bytes: u64) {
        self.update(|r| r.received = bytes);
    }

    fn finish(self: Box<Self>) {
        self.update(|r| r.finished = Some(true));
    }

    fn abandon(self: Box<Self>) {
        self.update(|r| r.finished = Some(false));
    }
}
