//! warg-depsolve and wkg 0.16 on one registry server (Debian's
//! `docker-registry` on loopback) and on one lock file, each checked with
//! the other's code: wkg's client library (`wasm-pkg-client`) and lock file
//! type (`wasm-pkg-core`).

#[path = "../../oci/tests/common/mod.rs"]
mod common;

use common::*;
use futures_util::TryStreamExt;
use warg_depsolve_compose::{Bundler, Packages};
use warg_depsolve_names::Integrity;
use warg_depsolve_registry::{LocalRegistry, Source};
use warg_depsolve_solver::{resolve, LockFile, Resolution, Root, SolveOptions};
use wasm_pkg_client::{Client, Config, PackageRef};

/// wkg's client for the registry `server` runs, as wkg's own end-to-end
/// tests configure it for a local registry.
fn wkg_client(server: &RegistryServer) -> Client {
    let host = server.host();
    let config = Config::from_toml(&format!(
        "default_registry = \"{host}\"\n\
         [registry.\"{host}\"]\ntype = \"oci\"\n\
         [registry.\"{host}\".oci]\nprotocol = \"http\"\n"
    ))
    .unwrap();
    Client::new(config)
}

/// The bundle of `root` under `resolution`, its packages from `source`.
fn bundle(root: &[u8], resolution: &Resolution, source: &dyn Source) -> Vec<u8> {
    Bundler::from_root(root, resolution, Packages::Source(source))
        .to_vec()
        .unwrap()
}

/// A runtime for wkg's async client. Ours blocks on a runtime of its own,
/// so the two never nest: wkg's calls are made from here, ours outside.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// What we publish, wkg's client lists among the package's tags and
/// fetches byte for byte, with the digest we computed.
#[test]
fn wkg_fetches_what_we_publish() {
    let server = RegistryServer::start();
    publish_fixtures(&server.source("oci"));
    let client = wkg_client(&server);
    runtime().block_on(async {
        for (package, version, bytes) in fixtures() {
            let package: PackageRef = package.parse().unwrap();
            let version: semver::Version = version.parse().unwrap();
            let listed = client.list_all_versions(&package).await.unwrap();
            assert!(
                listed.iter().any(|v| v.version == version && !v.yanked),
                "{package}@{version} not among wkg's {listed:?}"
            );
            let release = client.get_release(&package, &version).await.unwrap();
            assert_eq!(
                release.content_digest.to_string(),
                Integrity::sha256(&bytes).to_oci()
            );
            let content: Vec<u8> = client
                .stream_content(&package, &release)
                .await
                .unwrap()
                .map_ok(|chunk| chunk.to_vec())
                .try_concat()
                .await
                .unwrap();
            assert!(content == bytes, "{package}@{version}: other bytes");
        }
    });
}

/// What wkg pushes (`wkg oci push`: oci-wasm's artifact, wkg's oci-client),
/// we resolve and bundle: the same bundle, byte for byte, as from the local
/// registry, and it runs. (wkg's `publish` itself refuses these fixtures:
/// it wants a WIT package version inside the binary, which hand-written
/// components do not carry.)
#[test]
fn we_resolve_and_bundle_what_wkg_pushes() {
    use oci_client_wkg::client::{ClientConfig, ClientProtocol};
    use oci_client_wkg::secrets::RegistryAuth;
    use oci_client_wkg::{Client as OciClient, Reference};

    let server = RegistryServer::start();
    let client = oci_wasm::WasmClient::new(OciClient::new(ClientConfig {
        protocol: ClientProtocol::Http,
        ..ClientConfig::default()
    }));
    runtime().block_on(async {
        for (package, version, bytes) in fixtures() {
            let repository = package.replace(':', "/");
            let reference = Reference::with_tag(server.host(), repository, version.clone());
            let (config, layer) = oci_wasm::WasmConfig::from_raw_component(bytes, None)
                .unwrap_or_else(|e| panic!("oci-wasm reading {package}@{version}: {e:#}"));
            client
                .push(&reference, &RegistryAuth::Anonymous, layer, config, None)
                .await
                .unwrap_or_else(|e| panic!("pushing {package}@{version}: {e:#}"));
        }
    });

    let root = root("meet");
    let ours = server.source("oci");
    let resolution = resolve_bytes(&ours, "meet", &root);
    let bundled = bundle(&root, &resolution, &ours);
    let local = LocalRegistry::new("local", testdata().join("registry"));
    let from_local = resolve_bytes(&local, "meet", &root);
    assert!(bundled == bundle(&root, &from_local, &local));
    assert_eq!(call2(&bundled, "full", 1, 2), 10);
}

/// A lock we write, wkg's lock type reads (its requirement parses as a
/// `VersionReq` and matches the pin, pre-releases included); a lock wkg
/// writes for the same packages, we read without losing a pin, and solving
/// with it keeps them.
#[test]
fn lock_files_cross_both_ways() {
    let local = LocalRegistry::new("local", testdata().join("registry"));
    let dir = tempfile::tempdir().unwrap();

    // Ours, read by wkg.
    let prerelease = root("prerelease");
    let resolution = resolve_bytes(&local, "prerelease", &prerelease);
    let ours = LockFile::from_resolution(&resolution);
    let path = dir.path().join("ours.lock");
    std::fs::write(&path, ours.to_toml()).unwrap();
    let read_by_wkg = runtime()
        .block_on(wasm_pkg_core::lock::LockFile::load_from_path(&path, true))
        .unwrap();
    let mut seen = Vec::new();
    for package in &read_by_wkg.packages {
        for v in &package.versions {
            assert!(
                v.requirement.matches(&v.version),
                "wkg's VersionReq {} rejects {}",
                v.requirement,
                v.version
            );
            seen.push(format!("{}@{} {}", package.name, v.version, v.digest));
        }
    }
    let expected: Vec<String> = resolution
        .packages
        .iter()
        .map(|p| format!("{}@{} {}", p.package, p.version, p.digest.to_oci()))
        .collect();
    assert_eq!(seen, expected);

    // wkg's, read by us: its lock for the pins of `meet` held at
    // `test:add@1.0.0` (1.1.0 is newer), one entry per requirement.
    let meet = Root::from_component("meet", &root("meet")).unwrap();
    let fresh = resolve(&local, &meet, &SolveOptions::default()).unwrap();
    let held: Vec<(String, String, String)> = fresh
        .packages
        .iter()
        .map(|p| {
            let version = if p.package.to_string() == "test:add" {
                "1.0.0".to_string()
            } else {
                p.version.to_string()
            };
            let digest = std::fs::read(
                testdata()
                    .join("registry")
                    .join(p.package.namespace())
                    .join(p.package.name())
                    .join(format!("{version}.wasm")),
            )
            .map(|b| Integrity::sha256(&b).to_oci())
            .unwrap();
            (p.package.to_string(), version, digest)
        })
        .collect();
    let wkg_path = dir.path().join("wkg.lock");
    runtime().block_on(async {
        let packages = held.iter().map(|(name, version, digest)| {
            let version: semver::Version = version.parse().unwrap();
            let requirements = [format!("^{version}"), format!(">={version}")];
            wasm_pkg_core::lock::LockedPackage {
                name: name.parse().unwrap(),
                registry: None,
                versions: requirements
                    .iter()
                    .map(|r| wasm_pkg_core::lock::LockedPackageVersion {
                        requirement: r.parse().unwrap(),
                        version: version.clone(),
                        digest: digest.parse().unwrap(),
                    })
                    .collect(),
            }
        });
        let mut lock = wasm_pkg_core::lock::LockFile::new_with_path(packages, &wkg_path)
            .await
            .unwrap();
        lock.write().await.unwrap();
    });
    let text = std::fs::read_to_string(&wkg_path).unwrap();
    let theirs = LockFile::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let pins: Vec<(String, String)> = theirs
        .pins()
        .map(|(p, _, v)| (p.to_string(), v.to_string()))
        .collect();
    let held_pins: Vec<(String, String)> = held
        .iter()
        .map(|(p, v, _)| (p.clone(), v.clone()))
        .collect();
    assert_eq!(pins, held_pins);
    for (package, version, digest) in &held {
        let (pinned, _) = theirs
            .pinned(&package.parse().unwrap(), &version.parse().unwrap())
            .unwrap();
        assert_eq!(&pinned.to_oci(), digest);
    }
    let options = SolveOptions {
        lock: Some(theirs),
        ..SolveOptions::default()
    };
    let kept = resolve(&local, &meet, &options).unwrap();
    let kept: Vec<(String, String)> = kept
        .packages
        .iter()
        .map(|p| (p.package.to_string(), p.version.to_string()))
        .collect();
    assert_eq!(kept, held_pins);
}
