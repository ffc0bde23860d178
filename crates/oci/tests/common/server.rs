//! A real OCI registry server (Debian's `docker-registry`, the CNCF
//! distribution registry) on a free loopback port, and plain HTTP helpers.
//! Shared by the OCI crate's tests, the command line's and the network
//! bench (`#[path]`).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use warg_depsolve_oci::{OciSettings, OciSource};

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
