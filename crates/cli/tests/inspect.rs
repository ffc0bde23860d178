//! Runs the real `warg-depsolve` binary on the fixtures of `testdata/`
//! (expected values from `testdata/README.md`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sha2::Digest as _;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs the binary in the workspace root, so paths are as a user types them.
fn run(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_warg-depsolve"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run warg-depsolve");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// `inspect FILE --format json`, which must succeed.
fn inspect_json(file: &str) -> Value {
    let out = run(&["inspect", file, "--format", "json"]);
    assert!(out.status.success(), "{file}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `inspect FILE`, which must succeed.
fn inspect_text(file: &str) -> String {
    let out = run(&["inspect", file]);
    assert!(out.status.success(), "{file}: {}", stderr(&out));
    stdout(&out)
}

/// Expects failure with status 1, nothing on stdout, and `needle` in the
/// `error: ...` line.
fn expect_error(args: &[&str], needle: &str) -> String {
    let out = run(args);
    assert_eq!(out.status.code(), Some(1), "{args:?}");
    let err = stderr(&out);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(needle), "{needle:?} not in {err:?}");
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    err
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

fn import<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["imports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no import {name} in {report:#}"))
}

fn temp_file(dir: &tempfile::TempDir, name: &str, contents: &[u8]) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, contents).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn meet_lists_inc_and_five_as_declared_dependencies() {
    let report = inspect_json("testdata/roots/meet.wat");
    assert_eq!(report["format"], 1);
    assert_eq!(report["file"], "testdata/roots/meet.wat");
    assert_eq!(report["source"], "wat");
    let imports = report["imports"].as_array().unwrap();
    assert_eq!(imports.len(), 2);
    for (name, package) in [("inc", "test:inc"), ("five", "test:five")] {
        let import = import(&report, name);
        assert_eq!(import["kind"], "instance");
        let reference = format!("unlocked-dep=<{package}@{{>=1.0.0}}>");
        assert_eq!(import["external_id"], reference.as_str());
        assert_eq!(
            import["class"],
            serde_json::json!({
                "kind": "declared",
                "reference": reference,
                "package": package,
                "range": "{>=1.0.0}",
            })
        );
    }
    let exports = report["exports"].as_array().unwrap();
    assert_eq!(exports.len(), 1);
    assert_eq!(exports[0]["name"], "full");
    assert_eq!(exports[0]["kind"], "func");

    // Size and digest are those of the compiled binary.
    let bytes = wat::parse_file(root().join("testdata/roots/meet.wat")).unwrap();
    assert_eq!(report["size"], bytes.len());
    assert_eq!(report["digest"], sha256(&bytes).as_str());
}

#[test]
fn meet_text_output_is_aligned() {
    let text = inspect_text("testdata/roots/meet.wat");
    assert!(text.starts_with("testdata/roots/meet.wat (compiled from text)\n"));
    assert!(text.contains("imports (2):\n"), "{text}");
    assert!(
        text.contains("  inc   instance  declared  test:inc   {>=1.0.0}\n"),
        "{text}"
    );
    assert!(
        text.contains("  five  instance  declared  test:five  {>=1.0.0}\n"),
        "{text}"
    );
    assert!(text.contains("external-id: unlocked-dep=<test:inc@{>=1.0.0}>"));
    assert!(text.contains("exports (1):\n  full  func"), "{text}");
    assert!(text.lines().all(|l| l == l.trim_end()), "trailing spaces");
}

#[test]
fn legacy_binary_shows_legacy_dependencies() {
    let report = inspect_json("testdata/legacy/meet-legacy.wasm");
    assert_eq!(report["source"], "wasm");
    for (name, package) in [
        ("unlocked-dep=<test:inc@{>=1.0.0}>", "test:inc"),
        ("unlocked-dep=<test:five@{>=1.0.0}>", "test:five"),
    ] {
        let import = import(&report, name);
        assert_eq!(import["external_id"], Value::Null);
        assert_eq!(import["class"]["kind"], "legacy");
        assert_eq!(import["class"]["package"], package);
        assert_eq!(import["class"]["range"], "{>=1.0.0}");
    }
    let text = inspect_text("testdata/legacy/meet-legacy.wasm");
    assert!(
        text.contains(
            "  unlocked-dep=<test:inc@{>=1.0.0}>   instance  legacy  test:inc   {>=1.0.0}\n"
        ),
        "{text}"
    );
}

#[test]
fn registry_package_inc() {
    let file = "testdata/registry/test/inc/1.0.0.wasm";
    let report = inspect_json(file);
    let bytes = std::fs::read(root().join(file)).unwrap();
    assert_eq!(report["source"], "wasm");
    assert_eq!(report["size"], bytes.len());
    assert_eq!(report["digest"], sha256(&bytes).as_str());

    let add = import(&report, "add");
    assert_eq!(add["class"]["kind"], "declared");
    assert_eq!(add["class"]["package"], "test:add");
    assert_eq!(add["class"]["range"], "{>=1.0.0 <2.0.0}");

    let exports: Vec<(&str, &str)> = report["exports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        exports,
        [("first", "func"), ("test:inc/api@1.0.0", "instance")]
    );

    // Every nested binary's digest is that of its bytes in the file.
    let nested = report["nested"].as_array().unwrap();
    assert!(!nested.is_empty());
    for n in nested {
        let offset = n["offset"].as_u64().unwrap() as usize;
        let size = n["size"].as_u64().unwrap() as usize;
        let slice = &bytes[offset..offset + size];
        assert!(slice.starts_with(b"\0asm"));
        assert_eq!(n["digest"], sha256(slice).as_str());
    }
    assert!(report["instances"]["core"].as_u64().unwrap() >= 1);
}

#[test]
fn interface_and_host_imports() {
    let report = inspect_json("testdata/roots/meet-iface.wat");
    let inc = import(&report, "test:inc/api@1.0.0");
    assert_eq!(
        inc["class"],
        serde_json::json!({
            "kind": "interface",
            "package": "test:inc",
            "interface": "api",
            "version": "1.0.0",
            "track": "1",
            "wasi": false,
        })
    );

    let report = inspect_json("testdata/roots/host.wat");
    assert_eq!(import(&report, "inc")["class"]["kind"], "declared");
    assert_eq!(
        import(&report, "log")["class"],
        serde_json::json!({"kind": "host"})
    );
    let clock = &import(&report, "wasi:clocks/monotonic-clock@0.2.3")["class"];
    assert_eq!(clock["kind"], "interface");
    assert_eq!(clock["track"], "0.2");
    assert_eq!(clock["wasi"], true);
    assert_eq!(import(&report, "log")["kind"], "func");
}

#[test]
fn metadata_locked_references_and_attributes() {
    let dir = tempfile::tempdir().unwrap();
    let file = temp_file(
        &dir,
        "named.wat",
        br#"(component $named
            (import "pinned"
              (external-id "locked-dep=<test:add@1.0.0-rc.1+build.5>,integrity=<sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=>")
              (instance))
            (import "x" (implements "test:x/api@1.0.0") (instance))
            (@custom "version" "1.2.3")
        )"#,
    );
    let report = inspect_json(&file);
    assert_eq!(report["metadata"]["name"], "named");
    assert_eq!(report["metadata"]["version"], "1.2.3");
    let pinned = &import(&report, "pinned")["class"];
    assert_eq!(pinned["kind"], "declared");
    assert_eq!(pinned["version"], "1.0.0-rc.1+build.5");
    assert_eq!(
        pinned["integrity"],
        serde_json::json!([sha256(b"")]),
        "sha256 of the empty string"
    );
    assert_eq!(import(&report, "x")["implements"], "test:x/api@1.0.0");

    let text = inspect_text(&file);
    assert!(text.contains("  name       named\n"), "{text}");
    assert!(text.contains("  version    1.2.3\n"), "{text}");
    // Columns are padded to the widest cell; compare words.
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words(&text).contains("pinned instance declared test:add =1.0.0-rc.1+build.5 "),
        "{text}"
    );
    // `x` implements an interface: an interface import (names commit 16eff2c).
    assert!(
        words(&text).contains("x instance interface test:x/api @1.0.0, track 1 "),
        "{text}"
    );
    assert!(
        text.contains(&format!("integrity: {}\n", sha256(b""))),
        "{text}"
    );
    assert!(text.contains("implements: test:x/api@1.0.0\n"), "{text}");
}

#[test]
fn malformed_reference_is_shown_as_invalid_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let file = temp_file(
        &dir,
        "broken.wat",
        br#"(component
            (import "inc" (external-id "unlocked-dep=<test:inc@{>=1.0.0 <2}>") (instance))
            (import "log" (func))
        )"#,
    );
    for format in ["json", "text"] {
        let out = run(&["inspect", &file, "--format", format]);
        assert_eq!(out.status.code(), Some(1), "{format}");
        let err = stderr(&out);
        assert!(err.starts_with("error: "), "{err}");
        assert!(err.contains("import `inc`"), "{err}");
        assert!(err.contains("at byte 33"), "{err}");
        assert!(err.contains(&file), "{err}");
        let text = stdout(&out);
        if format == "json" {
            // The whole report is still printed.
            let report: Value = serde_json::from_str(&text).unwrap();
            let inc = &import(&report, "inc")["class"];
            assert_eq!(inc["kind"], "invalid");
            assert!(inc["error"].as_str().unwrap().contains("at byte 33"));
            assert_eq!(import(&report, "log")["class"]["kind"], "host");
        } else {
            assert!(text.contains("  inc  instance  INVALID\n"), "{text}");
            assert!(text.contains("  log  func      host\n"), "{text}");
            assert!(
                text.contains("error: invalid dependency reference"),
                "{text}"
            );
        }
    }
}

#[test]
fn core_module_is_not_a_component() {
    let dir = tempfile::tempdir().unwrap();
    let text = temp_file(&dir, "core.wat", b"(module (func))");
    let binary = temp_file(&dir, "core.wasm", &wat::parse_str("(module)").unwrap());
    for file in [&text, &binary] {
        let err = expect_error(&["inspect", file], "not a component: a core wasm module");
        assert!(err.contains(file.as_str()), "{err}");
    }
}

#[test]
fn non_wasm_file_is_not_a_component() {
    let err = expect_error(&["inspect", "testdata/README.md"], "not a component: ");
    assert!(err.contains("testdata/README.md"), "{err}");
    expect_error(
        &["inspect", "testdata/README.md", "--format", "json"],
        "not a component: bad magic bytes",
    );
    let dir = tempfile::tempdir().unwrap();
    let empty = temp_file(&dir, "empty.wasm", b"");
    expect_error(&["inspect", &empty], "not a component: empty input");
}

#[test]
fn missing_file_error_names_the_file() {
    expect_error(
        &["inspect", "testdata/no-such-file.wasm"],
        "`testdata/no-such-file.wasm`",
    );
}

#[test]
fn bad_text_error_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = temp_file(&dir, "syntax.wat", b"(component (import");
    let err = expect_error(&["inspect", &file], "WebAssembly text");
    assert!(err.contains(&file), "{err}");
}

#[test]
fn usage_errors_do_not_panic() {
    let out = run(&["inspect"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["inspect", "x.wasm", "--format", "yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["--help"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("inspect"));
}
