//! The command line against a real OCI registry server (Debian's
//! `docker-registry` on a free loopback port, started by the test): publish
//! through a wkg-shaped config, list versions, then bundle and run with the
//! `test:*` namespace served from OCI and nothing else.

mod common;

#[path = "../../oci/tests/common/mod.rs"]
mod oci;

use common::Env;

#[test]
fn publish_list_and_bundle_from_an_oci_registry() {
    let server = oci::RegistryServer::start();
    let env = Env::new();
    let config = env.path("config.toml");
    std::fs::write(
        &config,
        format!(
            "default_registry = \"local\"\n\
             [namespace_registries]\ntest = \"oci\"\n\
             [registry.\"local\".local]\nroot = \"local\"\n\
             [registry.\"oci\".oci]\nregistry = \"{}\"\nprotocol = \"http\"\n",
            server.host()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    for (name, version) in [("add", "1.1.0"), ("inc", "1.0.0"), ("five", "1.0.0")] {
        let file = common::testdata().join(format!("registry/test/{name}/{version}.wasm"));
        env.ok(&[
            "publish",
            file.to_str().unwrap(),
            "--package",
            &format!("test:{name}"),
            "--version",
            version,
            "--config",
            config,
        ]);
    }
    let listed = env.ok(&["versions", "test:add", "--config", config]);
    assert!(listed.contains("1.1.0"), "{listed}");

    let root = common::testdata().join("roots/meet.wat");
    env.ok(&[
        "bundle",
        root.to_str().unwrap(),
        "--config",
        config,
        "-o",
        "meet.wasm",
    ]);
    assert_eq!(oci::call2(&env.read("meet.wasm"), "full", 1, 2), 10);

    // With the server gone, the same bundle comes from the cache alone.
    drop(server);
    env.ok(&[
        "bundle",
        root.to_str().unwrap(),
        "--config",
        config,
        "--offline",
        "-o",
        "again.wasm",
    ]);
    assert_eq!(env.read("again.wasm"), env.read("meet.wasm"));
    // And online, the error names the registry.
    env.fails(
        &[
            "bundle",
            root.to_str().unwrap(),
            "--config",
            config,
            "-o",
            "x.wasm",
        ],
        &["oci"],
    );
    assert!(!env.exists("x.wasm"));
}
