//! The OCI source against a real registry server (Debian's
//! `docker-registry`, the CNCF distribution registry) on loopback.

mod common;

use std::sync::Arc;

use common::*;
use warg_depsolve_compose::{Bundler, Packages};
use warg_depsolve_names::{Integrity, PackageName};
use warg_depsolve_registry::{
    Cache, CachedSource, Config, Publish, Registries, Source, SourceError,
};

fn pkg(s: &str) -> PackageName {
    s.parse().unwrap()
}

fn ver(s: &str) -> semver::Version {
    s.parse().unwrap()
}

#[test]
fn publish_then_list_tags_ignoring_non_semver_ones() {
    let server = RegistryServer::start();
    let source = server.source("oci");
    publish_fixtures(&source);

    // Tags that are not canonical semantic versions are ignored.
    for tag in ["latest", "v1.0.0", "1.0", "stable"] {
        retag(&server, "test/add", "1.0.0", tag);
    }
    // A fresh source (tag lists are read once per source).
    let source = server.source("oci");
    let versions: Vec<String> = source
        .versions(&pkg("test:add"))
        .unwrap()
        .releases
        .iter()
        .map(|r| {
            assert!(!r.yanked);
            r.version.to_string()
        })
        .collect();
    assert_eq!(versions, ["1.0.0", "1.1.0", "2.0.0"]);
    let five: Vec<String> = source
        .versions(&pkg("test:five"))
        .unwrap()
        .releases
        .iter()
        .map(|r| r.version.to_string())
        .collect();
    assert_eq!(five, ["1.0.0", "1.1.0-rc.1"]);

    // Unknown packages and versions.
    assert!(matches!(
        source.versions(&pkg("test:nothing")).unwrap_err(),
        SourceError::PackageNotFound { source_name, .. } if source_name == "oci"
    ));
    assert!(matches!(
        source
            .metadata(&pkg("test:add"), &ver("9.9.9"))
            .unwrap_err(),
        SourceError::VersionNotFound { .. }
    ));
}

#[test]
fn published_artifacts_follow_the_wasm_oci_layout_and_are_immutable() {
    let server = RegistryServer::start();
    let source = server.source("oci");
    let bytes = std::fs::read(testdata().join("registry/test/inc/1.0.0.wasm")).unwrap();
    let meta = source
        .publish(&pkg("test:inc"), &ver("1.0.0"), &bytes)
        .unwrap();
    assert_eq!(meta.digest, Integrity::sha256(&bytes));

    // What wkg reads: the tag's manifest, one `application/wasm` layer
    // with the bytes, the Wasm config media type.
    let (status, manifest) = http(
        server.port(),
        "GET",
        "/v2/test/inc/manifests/1.0.0",
        &[("Accept", MANIFEST)],
        &[],
    )
    .unwrap();
    assert_eq!(status, 200);
    let manifest: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    assert_eq!(manifest["schemaVersion"], 2);
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0]["mediaType"], "application/wasm");
    assert_eq!(layers[0]["digest"], meta.digest.to_oci());
    assert_eq!(layers[0]["size"], bytes.len());
    let layer = http_get(
        server.port(),
        &format!("/v2/test/inc/blobs/{}", meta.digest.to_oci()),
    )
    .unwrap();
    assert_eq!(layer, (200, bytes.clone()));
    let config_digest = manifest["config"]["digest"].as_str().unwrap();
    let (_, config) = http_get(
        server.port(),
        &format!("/v2/test/inc/blobs/{config_digest}"),
    )
    .unwrap();
    let config: serde_json::Value = serde_json::from_slice(&config).unwrap();
    assert_eq!(config["architecture"], "wasm");
    assert_eq!(config["os"], "wasip2");
    assert_eq!(config["layerDigests"][0], meta.digest.to_oci());
    assert_eq!(config["component"]["imports"][0], "add");

    // The metadata comes back from the config, equal to a scan of the bytes.
    let fresh = server.source("oci");
    assert_eq!(
        *fresh.metadata(&pkg("test:inc"), &ver("1.0.0")).unwrap(),
        meta
    );
    assert_eq!(
        &*fresh
            .fetch(&pkg("test:inc"), &meta.version, &meta.digest)
            .unwrap(),
        &bytes[..]
    );

    // Same bytes again: a no-op. Other bytes: refused.
    assert_eq!(
        fresh
            .publish(&pkg("test:inc"), &ver("1.0.0"), &bytes)
            .unwrap(),
        meta
    );
    let other = std::fs::read(testdata().join("registry/test/add/1.0.0.wasm")).unwrap();
    match fresh
        .publish(&pkg("test:inc"), &ver("1.0.0"), &other)
        .unwrap_err()
    {
        SourceError::AlreadyPublished {
            existing,
            new,
            source_name,
            ..
        } => {
            assert_eq!(source_name, "oci");
            assert_eq!(existing, meta.digest.to_oci());
            assert_eq!(new, Integrity::sha256(&other).to_oci());
        }
        e => panic!("{e:?}"),
    }
    // Not a component: refused before anything is pushed.
    assert!(matches!(
        fresh
            .publish(&pkg("test:junk"), &ver("1.0.0"), b"junk")
            .unwrap_err(),
        SourceError::InvalidComponent { .. }
    ));
    assert!(matches!(
        fresh.versions(&pkg("test:junk")).unwrap_err(),
        SourceError::PackageNotFound { .. }
    ));
    // Yanking is not an OCI operation.
    assert!(matches!(
        fresh
            .set_yanked(&pkg("test:inc"), &ver("1.0.0"), true)
            .unwrap_err(),
        SourceError::Unsupported { .. }
    ));
}

/// An artifact pushed by another tool (a config without our record, as wkg
/// writes it): the layer is downloaded once and scanned.
#[test]
fn metadata_of_foreign_artifacts_is_scanned_from_the_layer() {
    let server = RegistryServer::start();
    let bytes = std::fs::read(testdata().join("registry/test/inc/1.0.0.wasm")).unwrap();
    let digest = Integrity::sha256(&bytes).to_oci();
    let config = format!(
        r#"{{"created":"2024-05-01T00:00:00Z","architecture":"wasm","os":"wasip2","layerDigests":["{digest}"],"component":{{"exports":["first"],"imports":["add"],"target":null}}}}"#
    );
    push_blob(&server, "test/inc", &bytes);
    let config_digest = push_blob(&server, "test/inc", config.as_bytes());
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{MANIFEST}","config":{{"mediaType":"application/vnd.wasm.config.v0+json","digest":"{config_digest}","size":{}}},"layers":[{{"mediaType":"application/wasm","digest":"{digest}","size":{}}}]}}"#,
        config.len(),
        bytes.len()
    );
    let (status, body) = http(
        server.port(),
        "PUT",
        "/v2/test/inc/manifests/1.0.0",
        &[("Content-Type", MANIFEST)],
        manifest.as_bytes(),
    )
    .unwrap();
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));

    let source = server.source("oci");
    let meta = source.metadata(&pkg("test:inc"), &ver("1.0.0")).unwrap();
    assert_eq!(meta.digest, Integrity::sha256(&bytes));
    assert_eq!(meta.dependencies.len(), 1);
    assert_eq!(meta.dependencies[0].import, "add");
    assert_eq!(
        &*source
            .fetch(&pkg("test:inc"), &meta.version, &meta.digest)
            .unwrap(),
        &bytes[..]
    );
}

/// Blob upload (POST, then one PUT); returns the blob's digest.
fn push_blob(server: &RegistryServer, repo: &str, bytes: &[u8]) -> String {
    let digest = Integrity::sha256(bytes).to_oci();
    let (status, head, _) = http_with_head(
        server.port(),
        "POST",
        &format!("/v2/{repo}/blobs/uploads/"),
        &[],
        &[],
    )
    .unwrap();
    assert_eq!(status, 202, "{head}");
    let location = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("location")
                .then(|| v.trim().to_string())
        })
        .unwrap();
    let path = match location.find("/v2/") {
        Some(i) => location[i..].to_string(),
        None => location,
    };
    let sep = if path.contains('?') { '&' } else { '?' };
    let (status, _, body) = http_with_head(
        server.port(),
        "PUT",
        &format!("{path}{sep}digest={digest}"),
        &[("Content-Type", "application/octet-stream")],
        bytes,
    )
    .unwrap();
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    digest
}

#[test]
fn resolve_bundle_and_run_from_oci_then_offline_with_the_server_stopped() {
    let mut server = RegistryServer::start();
    publish_fixtures(&server.source("oci"));
    let cache_dir = tempfile::tempdir().unwrap();

    let root = root("meet");
    let online = CachedSource::new(server.source("oci"), Cache::new(cache_dir.path()));
    let resolution = resolve_bytes(&online, "meet", &root);
    let versions: Vec<String> = resolution
        .packages
        .iter()
        .map(|p| format!("{}@{}", p.package, p.version))
        .collect();
    assert_eq!(
        versions,
        ["test:add@1.1.0", "test:five@1.0.0", "test:inc@1.0.0"]
    );
    assert!(resolution.packages.iter().all(|p| p.registry == "oci"));
    let bundled = Bundler::from_root(&root, &resolution, Packages::Source(&online))
        .to_vec()
        .unwrap();
    assert_eq!(call2(&bundled, "full", 1, 2), 10);
    // The metadata came from the configs: no layer was downloaded to
    // solve, and each layer once to bundle.
    assert_eq!(online.stats().content_misses, 3);

    // Offline, with the server gone: the same resolution and bytes.
    server.stop();
    let offline = CachedSource::offline(server.source("oci"), Cache::new(cache_dir.path()));
    let again = resolve_bytes(&offline, "meet", &root);
    assert_eq!(again, resolution);
    assert_eq!(
        Bundler::from_root(&root, &again, Packages::Source(&offline))
            .to_vec()
            .unwrap(),
        bundled
    );

    // Online with the server gone: a clear error naming registry and
    // package.
    let gone = server.source("oci");
    let err = gone.versions(&pkg("test:add")).unwrap_err();
    let text = err.to_string();
    // A refused connection may pass: tried again, as many times as the
    // settings allow.
    assert!(
        matches!(err, SourceError::Network { attempts: 3, .. }),
        "{err:?}"
    );
    assert!(text.contains("registry `oci`"), "{text}");
    assert!(text.contains("tag list of `test:add`"), "{text}");
    assert!(text.contains(&server.host()), "{text}");
    assert!(std::error::Error::source(&err).is_some(), "{err:?}");
}

/// The server is stopped after the solve and before the layers are
/// fetched: the bundle fails naming registry and package, and the cache
/// holds no entry, whole or partial, for the missing content.
#[test]
fn server_stopped_before_the_fetch_leaves_nothing_half_written() {
    let mut server = RegistryServer::start();
    publish_fixtures(&server.source("oci"));
    let cache_dir = tempfile::tempdir().unwrap();
    let cached = CachedSource::new(server.source("oci"), Cache::new(cache_dir.path()));
    let root = root("meet");
    let resolution = resolve_bytes(&cached, "meet", &root);
    server.stop();

    // The error with its causes, as the command line prints it.
    let err = Bundler::from_root(&root, &resolution, Packages::Source(&cached))
        .to_vec()
        .unwrap_err();
    let mut causes = vec![err.to_string()];
    let mut next = std::error::Error::source(&err);
    while let Some(cause) = next {
        causes.push(cause.to_string());
        next = cause.source();
    }
    let err = causes.join(": ");
    assert!(err.contains("registry `oci`"), "{err}");
    assert!(err.contains("test:"), "{err}");
    let content: Vec<_> = files_under(&cache_dir.path().join("sha256"));
    assert!(content.is_empty(), "{content:?}");
    let stray: Vec<_> = files_under(cache_dir.path())
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".tmp"))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}

/// `test:*` from the local fixture directory and `acme:*` from OCI, by
/// the configuration, in one resolution and one running bundle.
#[test]
fn one_resolution_mixes_a_local_and_an_oci_registry() {
    let server = RegistryServer::start();
    let add = std::fs::read(testdata().join("registry/test/add/1.1.0.wasm")).unwrap();
    server
        .source("acme-oci")
        .publish(&pkg("acme:add"), &ver("1.1.0"), &add)
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    let text = format!(
        r#"
default_registry = "local"

[namespace_registries]
acme = "acme-oci"

[registry.local.local]
root = {local:?}

[registry."acme-oci".oci]
registry = "{host}"
protocol = "http"
concurrency = 4
"#,
        local = testdata().join("registry").display().to_string(),
        host = server.host()
    );
    std::fs::write(&file, &text).unwrap();
    let config = Config::from_toml(&text, &file).unwrap();
    let factory = warg_depsolve_oci::factory(&config);
    let registries = Registries::from_config_with(&config, &factory).unwrap();
    let registries = registries.map_sources(|_, s| {
        Arc::new(CachedSource::new(s, Cache::new(dir.path().join("cache")))) as Arc<dyn Source>
    });

    // calc(a, b) = acme:add(a, test:inc.first(b)) = a + b + 2
    let root = wat::parse_str(
        r#"(component
  (import "add" (external-id "unlocked-dep=<acme:add@{>=1.0.0 <2.0.0}>")
    (instance $add (export "add" (func (param "left" u32) (param "right" u32) (result u32)))))
  (import "inc" (external-id "unlocked-dep=<test:inc@{>=1.0.0}>")
    (instance $inc (export "first" (func (param "x" u32) (result u32)))))
  (core func $add (canon lower (func $add "add")))
  (core func $first (canon lower (func $inc "first")))
  (core module $m
    (import "deps" "add" (func $add (param i32 i32) (result i32)))
    (import "deps" "first" (func $first (param i32) (result i32)))
    (func (export "calc") (param i32 i32) (result i32)
      (call $add (local.get 0) (call $first (local.get 1)))))
  (core instance $i (instantiate $m
    (with "deps" (instance (export "add" (func $add)) (export "first" (func $first))))))
  (func (export "calc") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "calc")))
)"#,
    )
    .unwrap();
    let resolution = resolve_bytes(&registries, "mixed", &root);
    let by_registry: Vec<String> = resolution
        .packages
        .iter()
        .map(|p| format!("{}@{} from {}", p.package, p.version, p.registry))
        .collect();
    assert_eq!(
        by_registry,
        [
            "acme:add@1.1.0 from acme-oci",
            "test:add@1.1.0 from local",
            "test:inc@1.0.0 from local"
        ]
    );
    let bundled = Bundler::from_root(&root, &resolution, Packages::Source(&registries))
        .to_vec()
        .unwrap();
    assert_eq!(call2(&bundled, "calc", 1, 2), 5);
}

#[test]
fn a_bad_oci_table_fails_naming_the_file_and_key() {
    let config = Config::from_toml(
        "[registry.r.oci]\nprotocol = \"gopher\"\n",
        "/etc/wasm-pkg/config.toml",
    )
    .unwrap();
    let err = Registries::from_config_with(&config, &warg_depsolve_oci::factory(&config))
        .unwrap_err()
        .to_string();
    assert!(err.contains("/etc/wasm-pkg/config.toml"), "{err}");
    assert!(err.contains("registry.r.oci.protocol"), "{err}");
}
