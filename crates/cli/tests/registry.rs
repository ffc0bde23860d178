//! `publish`, `yank`, `versions` on copies of the fixture registry.

mod common;

use common::*;

#[test]
fn versions_lists_the_fixture_versions() {
    let env = Env::new();
    let registry = testdata().join("registry");
    let registry = registry.to_str().unwrap();
    let text = env.ok(&["versions", "test:add", "--registry", registry]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("test:add in registry `local`"),
        "{text}"
    );
    assert_eq!(&lines[1..], ["  1.0.0", "  1.1.0", "  2.0.0"]);

    let json = env.json(&["versions", "test:five", "--registry", registry]);
    assert_eq!(json["package"], "test:five");
    assert_eq!(json["registry"], "local");
    let versions: Vec<&str> = json["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["1.0.0", "1.1.0-rc.1"]);
}

#[test]
fn publish_versions_yank_round_trip() {
    let env = Env::new();
    env.copy_registry("reg");
    env.copy("roots/meet.wat", "meet.wat");

    // No name or version in the component's metadata: asked for.
    env.fails(
        &["publish", "meet.wat", "--registry", "reg"],
        &["meet.wat", "carries no package name", "--package"],
    );
    env.fails(
        &[
            "publish",
            "meet.wat",
            "--package",
            "test:meet",
            "--registry",
            "reg",
        ],
        &["carries no version", "--version"],
    );

    let json = env.json(&[
        "publish",
        "meet.wat",
        "--package",
        "test:meet",
        "--version",
        "0.1.0",
        "--registry",
        "reg",
    ]);
    assert_eq!(json["package"], "test:meet");
    assert_eq!(json["version"], "0.1.0");
    assert_eq!(json["registry"], "local");
    assert!(json["digest"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(json["dependencies"].as_array().unwrap().len(), 2);
    assert!(env.exists("reg/test/meet/0.1.0.wasm"));

    // Same bytes again: a no-op. Other bytes: refused, naming both digests.
    env.ok(&[
        "publish",
        "meet.wat",
        "--package",
        "test:meet",
        "--version",
        "0.1.0",
        "--registry",
        "reg",
    ]);
    env.copy("roots/app.wat", "app.wat");
    env.fails(
        &[
            "publish",
            "app.wat",
            "--package",
            "test:meet",
            "--version",
            "0.1.0",
            "--registry",
            "reg",
        ],
        &[
            "test:meet@0.1.0",
            "already published",
            "registry `local`",
            "sha256:",
        ],
    );

    env.ok(&[
        "publish",
        "app.wat",
        "--package",
        "test:meet",
        "--version",
        "0.2.0",
        "--registry",
        "reg",
    ]);
    env.ok(&["yank", "test:meet@0.1.0", "--registry", "reg"]);
    let text = env.ok(&["versions", "test:meet", "--registry", "reg"]);
    assert!(text.contains("  0.1.0  (yanked)\n"), "{text}");
    assert!(text.contains("  0.2.0\n"), "{text}");
    let json = env.json(&["versions", "test:meet", "--registry", "reg"]);
    assert_eq!(json["versions"][0]["yanked"], true);
    assert_eq!(json["versions"][1]["yanked"], false);

    let json = env.json(&["yank", "test:meet@0.1.0", "--undo", "--registry", "reg"]);
    assert_eq!(json["yanked"], false);
    let text = env.ok(&["versions", "test:meet", "--registry", "reg"]);
    assert!(!text.contains("yanked"), "{text}");
}

#[test]
fn errors_name_the_package_and_registry() {
    let env = Env::new();
    env.copy_registry("reg");
    env.fails(
        &["versions", "test:nope", "--registry", "reg"],
        &["test:nope", "registry `local`", "reg"],
    );
    env.fails(
        &["yank", "test:add@9.9.9", "--registry", "reg"],
        &["test:add@9.9.9", "registry `local`"],
    );
    // Not `ns:name@X`: rejected by the command line.
    let out = env.run(&["yank", "test:add", "--registry", "reg"]);
    assert!(!out.status.success());
}

#[test]
fn explicit_registry_wins_over_a_wkg_config() {
    let env = Env::new();
    env.copy_registry("reg");
    // A wkg config in $XDG_CONFIG_HOME that maps `test` elsewhere.
    let wkg = env.path("xdg-config/wasm-pkg");
    std::fs::create_dir_all(&wkg).unwrap();
    std::fs::write(
        wkg.join("config.toml"),
        "default_registry = \"other\"\n[registry.\"other\".local]\nroot = \"/nonexistent\"\n",
    )
    .unwrap();
    // Without --registry, the wkg config is used: nothing there.
    env.fails(&["versions", "test:add"], &["test:add", "registry `other`"]);
    // With it, the directory given wins.
    let json = env.json(&["versions", "test:add", "--registry", "reg"]);
    assert_eq!(json["versions"].as_array().unwrap().len(), 3);
    // And --config names a file explicitly.
    std::fs::write(
        env.path("mine.toml"),
        "default_registry = \"mine\"\n[registry.\"mine\".local]\nroot = \"reg\"\n",
    )
    .unwrap();
    let json = env.json(&["versions", "test:add", "--config", "mine.toml"]);
    assert_eq!(json["registry"], "mine");
}

/// `publish` shows registry dependencies and host imports apart, each
/// once: `host.wat` declares `inc` and imports `log` and a `wasi:`
/// interface from the host.
#[test]
fn publish_lists_dependencies_and_host_imports_apart() {
    let env = Env::new();
    env.copy_registry("reg");
    env.copy("roots/host.wat", "host.wat");
    let args = [
        "publish",
        "host.wat",
        "--package",
        "test:host",
        "--version",
        "1.0.0",
        "--registry",
        "reg",
    ];
    let json = env.json(&args);
    let deps: Vec<&str> = json["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["import"].as_str().unwrap())
        .collect();
    assert_eq!(deps, ["inc"]);
    assert_eq!(
        json["host_imports"],
        serde_json::json!(["log", "wasi:clocks/monotonic-clock@0.2.3"])
    );

    let text = env.ok(&args);
    let line = |key: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(key))
            .unwrap_or_else(|| panic!("no `{key}` line in {text}"))
            .to_string()
    };
    assert!(
        line("dependencies").ends_with("inc (unlocked-dep=<test:inc@{>=1.0.0}>)"),
        "{text}"
    );
    assert!(
        line("host imports").ends_with("log, wasi:clocks/monotonic-clock@0.2.3"),
        "{text}"
    );
    assert_eq!(text.matches("wasi:clocks/monotonic-clock@0.2.3").count(), 1);
}
