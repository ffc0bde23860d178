//! The command line against real `warg-server`s started in-process
//! (in-memory store, fresh operator keys): publish the testdata registry
//! through a wkg-shaped config, resolve, bundle and run from warg alone;
//! yank; a lock that pins a yanked release; a server gone (a clear error,
//! then `--offline`); one resolution drawing from warg, OCI and a local
//! directory; a namespace one server imports from another; a registry
//! with no section found through its well-known metadata.

mod common;

#[path = "../../warg/tests/support/server.rs"]
mod warg_support;

#[path = "../../oci/tests/common/mod.rs"]
mod oci;

use std::io::{Read, Write};
use std::net::TcpListener;

use common::Env;
use warg_depsolve_fixtures::run::call2;
use warg_support::{key, Ns, Server};

/// Every release of the testdata registry: (package, version, file).
fn testdata_releases() -> Vec<(String, String, std::path::PathBuf)> {
    let mut out = Vec::new();
    let root = common::testdata().join("registry");
    for ns in std::fs::read_dir(&root).unwrap() {
        let ns = ns.unwrap();
        for package in std::fs::read_dir(ns.path()).unwrap() {
            let package = package.unwrap();
            for file in std::fs::read_dir(package.path()).unwrap() {
                let path = file.unwrap().path();
                let version = path.file_stem().unwrap().to_string_lossy().into_owned();
                let name = format!(
                    "{}:{}",
                    ns.file_name().to_string_lossy(),
                    package.file_name().to_string_lossy()
                );
                out.push((name, version, path));
            }
        }
    }
    out.sort();
    out
}

/// A wkg-shaped config whose `default_registry` is the warg server at
/// `host`, signing with a fresh key.
fn warg_config(env: &Env, file: &str, host: &str) -> String {
    let path = env.path(file);
    std::fs::write(
        &path,
        format!(
            "default_registry = \"{host}\"\n\
             [registry.\"{host}\".warg]\n\
             signing_key = \"{}\"\n\
             connect_timeout = 2\nread_timeout = 5\nretries = 1\n",
            &*key().encode()
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

/// Publishes `releases` with the command line through `config`.
fn publish(env: &Env, config: &str, releases: &[(String, String, std::path::PathBuf)]) {
    for (package, version, file) in releases {
        env.ok(&[
            "publish",
            file.to_str().unwrap(),
            "--package",
            package,
            "--version",
            version,
            "--config",
            config,
        ]);
    }
}

fn meet() -> String {
    common::testdata()
        .join("roots/meet.wat")
        .to_str()
        .unwrap()
        .to_string()
}

/// The version of `package` in a `resolve --format json` answer.
fn chosen(json: &serde_json::Value, package: &str) -> String {
    json["resolution"]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["package"] == package)
        .unwrap_or_else(|| panic!("{package} in {json}"))["version"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn publish_resolve_bundle_yank_and_go_offline_with_warg_alone() {
    let mut server = Server::start(&[Ns::Defined("test")]);
    let env = Env::new();
    let config = warg_config(&env, "config.toml", &server.host());
    publish(&env, &config, &testdata_releases());

    let listed = env.json(&["versions", "test:add", "--config", &config]);
    let versions: Vec<&str> = listed["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions.len(), 3, "{listed}");

    // Resolve and bundle from warg alone; the bundle runs.
    let json = env.json(&["resolve", &meet(), "--config", &config]);
    assert_eq!(chosen(&json, "test:add"), "1.1.0");
    assert_eq!(
        json["resolution"]["packages"][0]["registry"],
        server.host().as_str()
    );
    env.ok(&["bundle", &meet(), "--config", &config, "-o", "meet.wasm"]);
    assert_eq!(call2(&env.read("meet.wasm"), "full", 1, 2), 10);
    // The same bundle as from the local testdata registry: the same
    // releases, byte for byte, wherever they came from.
    env.ok(&[
        "bundle",
        &meet(),
        "--registry",
        common::testdata().join("registry").to_str().unwrap(),
        "--lock",
        "local.lock",
        "-o",
        "local.wasm",
    ]);
    assert_eq!(env.read("meet.wasm"), env.read("local.wasm"));
    // What the client learned is kept for the next run.
    let kept = env.path("xdg-cache/warg-depsolve/warg");
    let states: Vec<_> = std::fs::read_dir(&kept).unwrap().collect();
    assert_eq!(states.len(), 1, "one state file in {}", kept.display());

    // A yank: never chosen afresh; the lock that pins it still bundles.
    env.ok(&["yank", "test:add@1.1.0", "--config", &config]);
    let fresh = env.json(&[
        "resolve",
        &meet(),
        "--config",
        &config,
        "--lock",
        "fresh.lock",
    ]);
    assert_eq!(chosen(&fresh, "test:add"), "1.0.0");
    env.ok(&[
        "bundle",
        &meet(),
        "--config",
        &config,
        "--locked",
        "-o",
        "pinned.wasm",
    ]);
    assert_eq!(env.read("pinned.wasm"), env.read("meet.wasm"));
    // Warg has no un-yank: said, not attempted.
    env.fails(
        &["yank", "test:add@1.1.0", "--undo", "--config", &config],
        &["test:add@1.1.0", "un-yank"],
    );

    // The server gone: a clear error naming the registry, no output, and
    // the state kept as it was.
    let state_before = std::fs::read(states[0].as_ref().unwrap().path()).unwrap();
    server.stop();
    let err = env.fails(
        &[
            "bundle",
            &meet(),
            "--config",
            &config,
            "--lock",
            "new.lock",
            "-o",
            "gone.wasm",
        ],
        &[&server.host()],
    );
    assert!(!env.exists("gone.wasm"), "{err}");
    assert_eq!(
        std::fs::read(states[0].as_ref().unwrap().path()).unwrap(),
        state_before
    );
    // Offline, the cache answers alone.
    env.ok(&[
        "bundle",
        &meet(),
        "--config",
        &config,
        "--offline",
        "-o",
        "offline.wasm",
    ]);
    assert_eq!(env.read("offline.wasm"), env.read("meet.wasm"));
}

#[test]
fn one_resolution_draws_from_warg_oci_and_a_local_directory() {
    let warg = Server::start(&[Ns::Defined("test")]);
    let registry = oci::RegistryServer::start();
    let env = Env::new();
    let all = testdata_releases();
    // test:add from warg, test:five from OCI, the rest (test:inc) from a
    // local directory.
    let warg_config = warg_config(&env, "warg.toml", &warg.host());
    let adds: Vec<_> = all.iter().filter(|r| r.0 == "test:add").cloned().collect();
    publish(&env, &warg_config, &adds);
    let config = env.path("config.toml");
    std::fs::write(
        &config,
        format!(
            "default_registry = \"local\"\n\
             [package_registry_overrides]\n\
             \"test:add\" = \"{warg}\"\n\
             \"test:five\" = \"oci\"\n\
             [registry.\"local\".local]\nroot = \"local\"\n\
             [registry.\"oci\".oci]\nregistry = \"{oci}\"\nprotocol = \"http\"\n\
             [registry.\"{warg}\".warg]\n",
            warg = warg.host(),
            oci = registry.host()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let fives: Vec<_> = all.iter().filter(|r| r.0 == "test:five").cloned().collect();
    publish(&env, config, &fives);
    let incs: Vec<_> = all.iter().filter(|r| r.0 == "test:inc").cloned().collect();
    publish(&env, config, &incs);
    assert!(env.exists("local/test/inc/1.0.0.wasm"));

    let json = env.json(&["resolve", &meet(), "--config", config]);
    let registries: Vec<(String, String)> = json["resolution"]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["package"].as_str().unwrap().to_string(),
                p["registry"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        registries,
        [
            ("test:add".to_string(), warg.host()),
            ("test:five".to_string(), "oci".to_string()),
            ("test:inc".to_string(), "local".to_string()),
        ]
    );
    env.ok(&["bundle", &meet(), "--config", config, "-o", "meet.wasm"]);
    assert_eq!(call2(&env.read("meet.wasm"), "full", 1, 2), 10);
}

#[test]
fn a_namespace_imported_from_another_registry_resolves_there() {
    // `upstream` defines `test`; `home` imports it from `upstream`.
    let upstream = Server::start(&[Ns::Defined("test")]);
    let upstream_host = upstream.host();
    let home = Server::start(&[Ns::Defined("home"), Ns::Imported("test", &upstream_host)]);
    let env = Env::new();
    let upstream_config = warg_config(&env, "upstream.toml", &upstream_host);
    publish(&env, &upstream_config, &testdata_releases());

    // Publishing `test:*` at home is refused: its namespace lives upstream.
    let home_config = warg_config(&env, "home.toml", &home.host());
    let (_, _, file) = &testdata_releases()[0];
    env.fails(
        &[
            "publish",
            file.to_str().unwrap(),
            "--package",
            "test:extra",
            "--version",
            "1.0.0",
            "--config",
            &home_config,
        ],
        &["test:extra", &upstream_host],
    );

    // Resolved through home, fetched from upstream.
    let json = env.json(&["resolve", &meet(), "--config", &home_config]);
    assert_eq!(chosen(&json, "test:add"), "1.1.0");
    env.ok(&[
        "bundle",
        &meet(),
        "--config",
        &home_config,
        "-o",
        "meet.wasm",
    ]);
    assert_eq!(call2(&env.read("meet.wasm"), "full", 1, 2), 10);
    // Each registry's state is kept apart.
    let kept = std::fs::read_dir(env.path("xdg-cache/warg-depsolve/warg"))
        .unwrap()
        .count();
    assert_eq!(kept, 2);
}

/// A loopback HTTP server answering every request with `status` and
/// `body` (JSON), on a thread of its own, until the test ends.
fn serve_metadata(status: u16, body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let text = String::from_utf8_lossy(&request);
            let (status, body) = if text.starts_with("GET /.well-known/wasm-pkg/registry.json ") {
                (status, body.clone())
            } else {
                (404, String::new())
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    host
}

#[test]
fn a_registry_without_a_section_is_found_through_its_metadata() {
    let server = Server::start(&[Ns::Defined("test")]);
    let env = Env::new();
    let publisher = warg_config(&env, "publish.toml", &server.host());
    publish(&env, &publisher, &testdata_releases());

    // The registry's well-known file points at the warg server.
    let metadata = serve_metadata(
        200,
        format!(
            r#"{{"preferredProtocol": "warg", "warg": {{"url": "http://{}"}}}}"#,
            server.host()
        ),
    );
    let config = env.path("discover.toml");
    std::fs::write(&config, format!("default_registry = \"{metadata}\"\n")).unwrap();
    let config = config.to_str().unwrap();
    let json = env.json(&["resolve", &meet(), "--config", config]);
    assert_eq!(chosen(&json, "test:add"), "1.1.0");
    env.ok(&["bundle", &meet(), "--config", config, "-o", "meet.wasm"]);
    assert_eq!(call2(&env.read("meet.wasm"), "full", 1, 2), 10);

    // The same metadata given in the mapping: nothing is fetched (the
    // registry's name resolves nowhere).
    let inline = env.path("inline.toml");
    std::fs::write(
        &inline,
        format!(
            "[namespace_registries]\n\
             test = {{ registry = \"warg.invalid\", metadata = {{ preferredProtocol = \"warg\", warg = {{ url = \"http://{}\" }} }} }}\n",
            server.host()
        ),
    )
    .unwrap();
    let json = env.json(&[
        "resolve",
        &meet(),
        "--config",
        inline.to_str().unwrap(),
        "--lock",
        "inline.lock",
    ]);
    assert_eq!(chosen(&json, "test:add"), "1.1.0");

    // Metadata that is not JSON: the error names the URL it came from.
    let broken = serve_metadata(200, "<html>".into());
    let config = env.path("broken.toml");
    std::fs::write(&config, format!("default_registry = \"{broken}\"\n")).unwrap();
    env.fails(
        &[
            "resolve",
            &meet(),
            "--config",
            config.to_str().unwrap(),
            "--lock",
            "broken.lock",
        ],
        &[&broken, "registry.json", "not a JSON object"],
    );
    // Publishing there says the same, not "cannot publish".
    let add = common::testdata().join("registry/test/add/1.0.0.wasm");
    env.fails(
        &[
            "publish",
            add.to_str().unwrap(),
            "--package",
            "test:add",
            "--version",
            "9.0.0",
            "--config",
            config.to_str().unwrap(),
        ],
        &["registry.json", "not a JSON object"],
    );
}
