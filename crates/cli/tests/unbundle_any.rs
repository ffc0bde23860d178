//! `unbundle` of compositions without the `warg-depsolve-bundle` record:
//! one of our bundles with its record removed, and a `wasm-tools compose`
//! composition where the CLI is available. Recognised against the
//! registry, bundled back, run.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use warg_depsolve_fixtures::run::{call1, call2};
use warg_depsolve_fixtures::without_custom_sections;

fn registry() -> String {
    testdata().join("registry").display().to_string()
}

fn meet() -> String {
    testdata().join("roots/meet.wat").display().to_string()
}

/// A bundle of `meet` with its record removed, as `s.wasm`.
fn stripped_bundle(env: &Env) {
    env.ok(&["bundle", &meet(), "--registry", &registry(), "-o", "b.wasm"]);
    std::fs::write(
        env.path("s.wasm"),
        without_custom_sections(&env.read("b.wasm")),
    )
    .unwrap();
}

#[test]
fn a_bundle_without_its_record_is_recognised_and_bundles_back() {
    let env = Env::new();
    stripped_bundle(&env);
    let out = env.run(&[
        "--format",
        "json",
        "unbundle",
        "s.wasm",
        "-o",
        "u.wasm",
        "--registry",
        &registry(),
        "--store",
        "store",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("recognised `test:inc@1.0.0`"), "{stderr}");
    assert!(
        stderr.contains("recognised 3 nested components in the registries; kept 1 inline"),
        "{stderr}"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = json["packages"].as_array().unwrap();
    assert_eq!(packages.len(), 3);
    let inc = packages
        .iter()
        .find(|p| p["package"] == "test:inc")
        .unwrap();
    assert_eq!(inc["nested"], "stripped");
    for p in packages {
        let file = p["written_to"].as_str().unwrap();
        assert!(env.dir.path().join(file).is_file(), "{file}");
    }
    assert_eq!(json["inline"].as_array().unwrap().len(), 1);

    // The locked form bundles back, from the registry or the store alone.
    env.ok(&[
        "bundle",
        "u.wasm",
        "--registry",
        &registry(),
        "-o",
        "b2.wasm",
    ]);
    assert_eq!(call2(&env.read("b2.wasm"), "full", 1, 2), 10);
    env.ok(&[
        "bundle",
        "u.wasm",
        "--store",
        "store",
        "--registry",
        "empty-registry",
        "-o",
        "b3.wasm",
    ]);
    assert_eq!(env.read("b3.wasm"), env.read("b2.wasm"));
    // Nothing to write for recognised packages: no destination needed.
    env.ok(&[
        "unbundle",
        "s.wasm",
        "-o",
        "u2.wasm",
        "--registry",
        &registry(),
    ]);
    assert_eq!(env.read("u2.wasm"), env.read("u.wasm"));
}

#[test]
fn no_record_and_no_registry_is_a_clear_error_and_writes_nothing() {
    let env = Env::new();
    stripped_bundle(&env);
    let err = env.fails(
        &["unbundle", "s.wasm", "-o", "u.wasm", "--store", "store"],
        &[
            "s.wasm",
            "no `warg-depsolve-bundle` record",
            "--registry",
            "--config",
        ],
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(!env.exists("u.wasm"));
    assert!(!env.exists("store"));
    // A bundle with its record still needs somewhere to put its packages.
    env.fails(
        &["unbundle", "b.wasm", "-o", "u.wasm"],
        &["b.wasm", "--store DIR", "--registry DIR"],
    );
    assert!(!env.exists("u.wasm"));
}

#[test]
fn malformed_input_with_a_registry_writes_nothing() {
    let env = Env::new();
    std::fs::write(env.path("bad.wasm"), b"\0asm\x0d\0\x01\0\x04\x7f").unwrap();
    env.fails(
        &[
            "unbundle",
            "bad.wasm",
            "-o",
            "u.wasm",
            "--registry",
            &registry(),
        ],
        &["bad.wasm"],
    );
    assert!(!env.exists("u.wasm"));
}

/// A registry that is not there: the composition's nested components are
/// all kept inline, said so, and the output still bundles and runs.
#[test]
fn a_registry_without_the_releases_keeps_everything_inline() {
    let env = Env::new();
    stripped_bundle(&env);
    std::fs::create_dir(env.path("empty")).unwrap();
    let out = env.run(&["unbundle", "s.wasm", "-o", "u.wasm", "--registry", "empty"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("recognised 0 nested components in the registries; kept 4 inline"),
        "{stderr}"
    );
    env.ok(&["bundle", "u.wasm", "--registry", "empty", "-o", "b2.wasm"]);
    assert_eq!(call2(&env.read("b2.wasm"), "full", 1, 2), 10);
}

fn wasm_tools() -> Option<PathBuf> {
    let scripts = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let mut dirs: Vec<PathBuf> = scripts.into_iter().collect();
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let found = dirs
        .into_iter()
        .map(|d| d.join("wasm-tools"))
        .find(|p| p.is_file());
    if found.is_none() {
        println!("notice: `wasm-tools` is not on PATH; skipping this test");
    }
    found
}

/// `wasm-tools compose` of `test:left@1.0.0` with `test:base@1.2.0` found
/// by its import name in the search path.
#[test]
fn a_wasm_tools_compose_composition_is_recognised() {
    let Some(tool) = wasm_tools() else { return };
    let env = Env::new();
    let reg = testdata().join("registry/test");
    std::fs::copy(reg.join("left/1.0.0.wasm"), env.path("left.wasm")).unwrap();
    std::fs::copy(reg.join("base/1.2.0.wasm"), env.path("base.wasm")).unwrap();
    std::fs::write(
        env.path("compose.yml"),
        "dependencies:\n  base: base.wasm\n",
    )
    .unwrap();
    let composed = Command::new(&tool)
        .args(["compose", "left.wasm", "-c", "compose.yml", "-o", "c.wasm"])
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert!(
        composed.status.success(),
        "{}",
        String::from_utf8_lossy(&composed.stderr)
    );
    let out = env.run(&[
        "unbundle",
        "c.wasm",
        "-o",
        "u.wasm",
        "--registry",
        &registry(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("recognised `test:base@1.2.0`"), "{stderr}");
    env.ok(&[
        "bundle",
        "u.wasm",
        "--registry",
        &registry(),
        "-o",
        "b.wasm",
    ]);
    // left(x) = base(x) + 1, base 1.2.0 gives x + 120.
    assert_eq!(call1(&env.read("b.wasm"), "left", 1), 122);
}

/// A package no configured registry serves (its namespace is mapped
/// nowhere, and there is no default) is not looked for, and said so; the
/// releases that are served are still recognised.
#[test]
fn a_package_no_registry_serves_is_a_note_not_an_error() {
    let env = Env::new();
    stripped_bundle(&env);
    // The meet bundle, plus a nested component naming `acme:kv`.
    let mut composition = env.read("s.wasm");
    let extra =
        wat::parse_str(r#"(component (component (import "acme:kv/store@1.0.0" (instance))))"#)
            .unwrap();
    composition.extend_from_slice(&extra[8..]);
    std::fs::write(env.path("c.wasm"), &composition).unwrap();
    std::fs::write(
        env.path("config.toml"),
        format!(
            "[namespace_registries]\ntest = \"mine\"\n[registry.\"mine\".local]\nroot = {:?}\n",
            registry()
        ),
    )
    .unwrap();
    let out = env.run(&[
        "unbundle",
        "c.wasm",
        "-o",
        "u.wasm",
        "--config",
        "config.toml",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("note: `acme:kv` was not looked for"),
        "{stderr}"
    );
    assert!(
        stderr.contains("recognised 3 nested components in the registries; kept 2 inline"),
        "{stderr}"
    );
    env.ok(&[
        "bundle",
        "u.wasm",
        "--config",
        "config.toml",
        "-o",
        "b.wasm",
    ]);
    assert_eq!(call2(&env.read("b.wasm"), "full", 1, 2), 10);
}
