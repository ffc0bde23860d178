//! Configuration: precedence, wkg's shape, clear errors, and routing one
//! resolution across several registries.

mod common;

use std::path::{Path, PathBuf};

use common::{leaf, pkg, ver};
use warg_depsolve_registry::{
    load_config, Backend, Config, ConfigError, ConfigInputs, ConfigOrigin, LocalRegistry,
    Registries, Source, SourceError, DEFAULT_REGISTRY_NAME,
};

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

fn local_config(root: &str) -> String {
    format!("default_registry = \"r\"\n[registry.\"r\".local]\nroot = {root:?}\n")
}

fn root_of(config: &Config, name: &str) -> PathBuf {
    match &config.registries[name] {
        Backend::Local { root } => root.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn precedence_flag_env_wkg_builtin() {
    let dir = tempfile::tempdir().unwrap();
    let flag = write(&dir.path().join("flag.toml"), &local_config("/from-flag"));
    let env = write(&dir.path().join("env.toml"), &local_config("/from-env"));
    let xdg = dir.path().join("xdg");
    write(
        &xdg.join("wasm-pkg/config.toml"),
        &local_config("/from-wkg"),
    );
    let all = ConfigInputs {
        config_flag: Some(flag.clone()),
        env_config: Some(env.clone().into()),
        xdg_config_home: Some(xdg.clone().into()),
        default_local_root: dir.path().join("default"),
    };

    let c = load_config(&all).unwrap();
    assert_eq!(
        (c.origin.clone(), root_of(&c, "r")),
        (ConfigOrigin::Flag(flag), "/from-flag".into())
    );

    let no_flag = ConfigInputs {
        config_flag: None,
        ..all.clone()
    };
    let c = load_config(&no_flag).unwrap();
    assert_eq!(
        (c.origin.clone(), root_of(&c, "r")),
        (ConfigOrigin::Env(env), "/from-env".into())
    );

    // An empty variable counts as unset.
    let no_env = ConfigInputs {
        env_config: Some("".into()),
        ..no_flag.clone()
    };
    let c = load_config(&no_env).unwrap();
    assert_eq!(
        (c.origin.clone(), root_of(&c, "r")),
        (
            ConfigOrigin::Wkg(xdg.join("wasm-pkg/config.toml")),
            "/from-wkg".into()
        )
    );

    // No wkg file there: the built-in default.
    let empty_xdg = ConfigInputs {
        xdg_config_home: Some(dir.path().join("nothing").into()),
        ..no_env.clone()
    };
    let c = load_config(&empty_xdg).unwrap();
    assert_eq!(c.origin, ConfigOrigin::BuiltIn);
    assert_eq!(c.default_registry.as_deref(), Some(DEFAULT_REGISTRY_NAME));
    assert_eq!(
        root_of(&c, DEFAULT_REGISTRY_NAME),
        dir.path().join("default")
    );
    let none = ConfigInputs {
        xdg_config_home: None,
        ..empty_xdg
    };
    assert_eq!(load_config(&none).unwrap(), c);
}

#[test]
fn explicit_files_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    for inputs in [
        ConfigInputs {
            config_flag: Some(missing.clone()),
            ..Default::default()
        },
        ConfigInputs {
            env_config: Some(missing.clone().into()),
            ..Default::default()
        },
    ] {
        match load_config(&inputs).unwrap_err() {
            ConfigError::Read { path, .. } => assert_eq!(path, missing),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn wkg_shape_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir.path().join("conf/config.toml"),
        r#"
default_registry = "main"

[namespace_registries]
acme = "acme-dir"
wasi = { registry = "wasi.dev", metadata = { preferredProtocol = "oci", "oci" = { registry = "ghcr.io", namespacePrefix = "webassembly/" } } }

[package_registry_overrides]
"acme:special" = { registry = "main" }

[registry."main".local]
root = "relative/reg"

[registry."acme-dir"]
type = "local"
local = { root = "/abs/acme" }

[registry."wasi.dev".oci]
auth = { username = "open", password = "sesame" }
protocol = "https"
"#,
    );
    let c = Config::from_file(ConfigOrigin::Flag(path.clone())).unwrap();
    assert_eq!(c.default_registry.as_deref(), Some("main"));
    assert_eq!(c.namespace_registries["acme"], "acme-dir");
    assert_eq!(c.namespace_registries["wasi"], "wasi.dev");
    assert_eq!(c.package_registry_overrides[&pkg("acme:special")], "main");
    // Relative roots are relative to the config file's directory.
    assert_eq!(root_of(&c, "main"), dir.path().join("conf/relative/reg"));
    assert_eq!(root_of(&c, "acme-dir"), PathBuf::from("/abs/acme"));
    assert!(
        matches!(&c.registries["wasi.dev"], Backend::Oci(t) if t["protocol"].as_str() == Some("https"))
    );

    assert_eq!(c.registry_for(&pkg("acme:kv")).unwrap().0, "acme-dir");
    assert_eq!(c.registry_for(&pkg("acme:special")).unwrap().0, "main");
    assert_eq!(c.registry_for(&pkg("test:add")).unwrap().0, "main");
    // A mapping's metadata is kept for its registry's backend.
    let wasi = &c.metadata["wasi.dev"];
    assert_eq!(wasi["preferredProtocol"].as_str(), Some("oci"));
    assert_eq!(
        wasi["oci"]["namespacePrefix"].as_str(),
        Some("webassembly/")
    );
    assert_eq!(c.metadata.len(), 1);
    assert!(c.unconfigured().is_empty());
}

#[test]
fn registries_without_a_section_are_to_be_discovered() {
    let file = Path::new("/cfg/config.toml");
    let c = Config::from_toml(
        r#"
default_registry = "wasi.dev"
[namespace_registries]
acme = { registry = "acme.dev", metadata = { preferredProtocol = "warg" } }
local = "here"
[registry.here.local]
root = "reg"
"#,
        file,
    )
    .unwrap();
    assert_eq!(
        c.unconfigured().into_iter().collect::<Vec<_>>(),
        ["acme.dev", "wasi.dev"]
    );
    // Without a factory that can discover them, they are unusable when
    // used, and say why.
    let registries = Registries::from_config(&c);
    let e = registries
        .versions(&pkg("acme:kv"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("acme.dev") && e.contains("cannot discover"),
        "{e}"
    );
    // A factory is asked for them, as `Backend::Discover`.
    let asked = std::sync::Mutex::new(Vec::new());
    Registries::from_config_with(&c, &|name, backend| {
        asked
            .lock()
            .unwrap()
            .push((name.to_string(), backend.kind()));
        Ok(None)
    })
    .unwrap();
    assert_eq!(
        asked.into_inner().unwrap(),
        [
            ("acme.dev".to_string(), "discovered"),
            ("wasi.dev".to_string(), "discovered")
        ]
    );

    // Two mappings giving one registry different metadata: which is meant?
    let e = Config::from_toml(
        r#"
[namespace_registries]
a = { registry = "r.dev", metadata = { preferredProtocol = "warg" } }
b = { registry = "r.dev", metadata = { preferredProtocol = "oci" } }
"#,
        file,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("namespace_registries.b.metadata") && e.contains("r.dev"),
        "{e}"
    );
}

#[test]
fn bad_configs_are_clear_errors_naming_file_and_key() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "[registry.\"x\".ftp]\nhost = \"h\"\n",
            "registry.x.ftp",
            "unknown backend `ftp`",
        ),
        (
            "[registry.\"x\"]\ntype = \"ftp\"\n",
            "registry.x.type",
            "unknown backend `ftp`",
        ),
        ("[registry.\"x\"]\n", "registry.x", "no backend configured"),
        (
            "[registry.\"x\".local]\n",
            "registry.x.local",
            "missing `root`",
        ),
        (
            "[registry.\"x\".local]\nroot = 5\n",
            "registry.x.local.root",
            "expected a string",
        ),
        (
            "[registry.\"x\".local]\nroot = \"/a\"\nrooot = \"/b\"\n",
            "registry.x.local.rooot",
            "unknown key",
        ),
        (
            "[registry.\"x\".local]\nroot = \"/a\"\n[registry.\"x\".oci]\n",
            "registry.x",
            "several backends",
        ),
        ("registry = 3\n", "registry", "expected a table"),
        (
            "default_registry = 3\n",
            "default_registry",
            "expected a registry name",
        ),
        (
            "[namespace_registries]\n\"Bad_NS\" = \"x\"\n",
            "namespace_registries.Bad_NS",
            "not a namespace",
        ),
        (
            "[package_registry_overrides]\n\"nocolon\" = \"x\"\n",
            "package_registry_overrides.nocolon",
            "invalid package name",
        ),
        (
            "[namespace_registries]\nacme = { metadata = {} }\n",
            "namespace_registries.acme",
            "missing `registry`",
        ),
        (
            "[namespace_registries]\nacme = { registry = \"x\", extra = 1 }\n",
            "namespace_registries.acme.extra",
            "unknown key",
        ),
        (
            "defualt_registry = \"x\"\n",
            "defualt_registry",
            "unknown key",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, (text, key, needle)) in cases.iter().enumerate() {
        let path = write(&dir.path().join(format!("c{i}.toml")), text);
        let err = Config::from_file(ConfigOrigin::Flag(path.clone())).unwrap_err();
        let shown = err.to_string();
        match &err {
            ConfigError::Invalid {
                path: p,
                key: k,
                message,
            } => {
                assert_eq!(p, &path, "{text}");
                assert_eq!(k, key, "{text}: {shown}");
                assert!(message.contains(needle), "{text}: {shown}");
            }
            other => panic!("{text}: {other:?}"),
        }
        assert!(
            shown.contains(&path.display().to_string()) && shown.contains(key),
            "{shown}"
        );
    }
    let path = write(&dir.path().join("syntax.toml"), "default_registry = ");
    assert!(matches!(
        Config::from_file(ConfigOrigin::Flag(path)).unwrap_err(),
        ConfigError::Syntax { .. }
    ));
}

#[test]
fn one_resolution_draws_from_several_local_registries() {
    let dir = tempfile::tempdir().unwrap();
    let test_dir = dir.path().join("test-reg");
    let acme_dir = dir.path().join("acme-reg");
    LocalRegistry::new("t", &test_dir)
        .publish(&pkg("test:add"), &ver("1.0.0"), &leaf("t"))
        .unwrap();
    LocalRegistry::new("a", &acme_dir)
        .publish(&pkg("acme:kv"), &ver("2.0.0"), &leaf("a"))
        .unwrap();
    // Also present in the test registry, but routed away from it.
    LocalRegistry::new("t", &test_dir)
        .publish(&pkg("acme:kv"), &ver("9.0.0"), &leaf("x"))
        .unwrap();

    let config = Config::from_toml(
        &format!(
            r#"
default_registry = "tests"
[namespace_registries]
acme = "acme"
[registry.tests.local]
root = {:?}
[registry.acme.local]
root = {:?}
"#,
            test_dir.display().to_string(),
            acme_dir.display().to_string()
        ),
        dir.path().join("config.toml"),
    )
    .unwrap();
    let registries = Registries::from_config(&config);
    let source: &dyn Source = &registries;

    let add = source.versions(&pkg("test:add")).unwrap().releases.to_vec();
    let kv = source.versions(&pkg("acme:kv")).unwrap().releases.to_vec();
    assert_eq!(add[0].version, ver("1.0.0"));
    assert_eq!(
        kv.iter().map(|r| r.version.to_string()).collect::<Vec<_>>(),
        ["2.0.0"]
    );
    assert_eq!(source.registry_for(&pkg("test:add")), "tests");
    assert_eq!(source.registry_for(&pkg("acme:kv")), "acme");
    let meta = source.metadata(&pkg("acme:kv"), &ver("2.0.0")).unwrap();
    assert_eq!(
        &*source
            .fetch(&pkg("acme:kv"), &meta.version, &meta.digest)
            .unwrap(),
        &leaf("a")[..]
    );
    // Errors name the registry that answered.
    match source.versions(&pkg("acme:none")).unwrap_err() {
        SourceError::PackageNotFound { source_name, .. } => assert_eq!(source_name, "acme"),
        other => panic!("{other:?}"),
    }
    // The local registry for publishing follows the same routes.
    assert_eq!(
        registries.local_for(&pkg("acme:new")).unwrap().root(),
        acme_dir
    );
}

#[test]
fn oci_and_unconfigured_registries_fail_when_used() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    let config = Config::from_toml(
        &format!(
            r#"
default_registry = "local"
[namespace_registries]
wasi = "wasi.dev"
acme = "nowhere"
[registry.local.local]
root = {:?}
[registry."wasi.dev".oci]
protocol = "https"
"#,
            dir.path().join("reg").display().to_string()
        ),
        &file,
    )
    .unwrap();
    let registries = Registries::from_config(&config);
    match registries.versions(&pkg("wasi:http")).unwrap_err() {
        SourceError::BackendUnavailable {
            source_name,
            package,
            message,
        } => {
            assert_eq!(source_name, "wasi.dev");
            assert_eq!(package, pkg("wasi:http"));
            assert!(
                message.contains("oci backend is not available yet"),
                "{message}"
            );
            assert!(message.contains(&file.display().to_string()), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match registries
        .metadata(&pkg("acme:kv"), &ver("1.0.0"))
        .unwrap_err()
    {
        SourceError::BackendUnavailable {
            source_name,
            message,
            ..
        } => {
            assert_eq!(source_name, "nowhere");
            assert!(message.contains("[registry.\"nowhere\"]"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // Packages routed to the local registry are unaffected.
    assert!(matches!(
        registries.versions(&pkg("test:add")).unwrap_err(),
        SourceError::PackageNotFound { .. }
    ));
    assert!(registries.local_for(&pkg("wasi:http")).is_none());

    // No default and no route: the error says so.
    let bare = Registries::from_config(&Config::from_toml("", &file).unwrap());
    let err = bare.versions(&pkg("test:add")).unwrap_err();
    assert!(err.to_string().contains("no `default_registry`"), "{err}");
}

#[test]
fn builtin_default_serves_the_fixture_registry() {
    let inputs = ConfigInputs {
        default_local_root: common::fixture_registry(),
        ..Default::default()
    };
    let registries = Registries::from_config(&load_config(&inputs).unwrap());
    let versions: Vec<String> = registries
        .versions(&pkg("test:add"))
        .unwrap()
        .releases
        .iter()
        .map(|r| r.version.to_string())
        .collect();
    assert_eq!(versions, ["1.0.0", "1.1.0", "2.0.0"]);
    assert_eq!(
        registries.registry_for(&pkg("test:add")),
        DEFAULT_REGISTRY_NAME
    );
    assert_eq!(registries.name(), DEFAULT_REGISTRY_NAME);
}
