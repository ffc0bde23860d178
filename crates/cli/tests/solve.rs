//! `resolve`, `update`, `tree`, `why` on the fixture registry: the lock
//! file and its modes.

mod common;

use common::*;
use sha2::Digest as _;

fn digest_of(package: &str, version: &str) -> String {
    let file = testdata()
        .join("registry")
        .join(package.replace(':', "/"))
        .join(format!("{version}.wasm"));
    format!(
        "sha256:{}",
        hex::encode(sha2::Sha256::digest(std::fs::read(file).unwrap()))
    )
}

fn registry() -> String {
    testdata().join("registry").display().to_string()
}

#[test]
fn resolve_writes_a_lock_and_prints_versions_and_digests() {
    let env = Env::new();
    let root = testdata().join("roots/meet.wat").display().to_string();
    let text = env.ok(&["resolve", &root, "--registry", &registry()]);
    assert!(
        text.starts_with(&format!(
            "{root}: 3 packages; lock file `meet.lock` written"
        )),
        "{text}"
    );
    for (package, version) in [
        ("test:add", "1.1.0"),
        ("test:inc", "1.0.0"),
        ("test:five", "1.0.0"),
    ] {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{package} ")))
            .unwrap_or_else(|| panic!("{package} missing: {text}"));
        assert!(line.contains(version), "{line}");
        assert!(line.contains(&digest_of(package, version)), "{line}");
        assert!(
            line.contains("track 1") && line.contains("registry local"),
            "{line}"
        );
    }
    assert!(
        text.contains("required by: test:inc@1.0.0 as `add` {>=1.0.0 <2.0.0}"),
        "{text}"
    );
    assert!(
        text.contains("required by: root as `inc` {>=1.0.0}"),
        "{text}"
    );

    // The lock file: one pin per package, with digests.
    let lock = String::from_utf8(env.read("meet.lock")).unwrap();
    let parsed = warg_depsolve::LockFile::parse(&lock).unwrap();
    let pins: Vec<String> = parsed.pins().map(|(p, _, v)| format!("{p}@{v}")).collect();
    assert_eq!(
        pins,
        ["test:add@1.1.0", "test:five@1.0.0", "test:inc@1.0.0"]
    );
    assert!(lock.contains(&digest_of("test:add", "1.1.0")));

    // Again: unchanged, not rewritten.
    let text = env.ok(&["resolve", &root, "--registry", &registry()]);
    assert!(text.contains("lock file `meet.lock` unchanged"), "{text}");

    // JSON.
    let json = env.json(&[
        "resolve",
        &root,
        "--registry",
        &registry(),
        "--lock",
        "other.lock",
    ]);
    assert_eq!(json["lock"]["path"], "other.lock");
    assert_eq!(json["lock"]["written"], true);
    let packages = json["resolution"]["packages"].as_array().unwrap();
    assert_eq!(packages.len(), 3);
    assert_eq!(packages[0]["package"], "test:add");
    assert_eq!(packages[0]["version"], "1.1.0");
    assert_eq!(packages[0]["registry"], "local");
    // Who required add, and what each edge asked for, as text.
    let required_by = packages[0]["required_by"].as_array().unwrap();
    assert_eq!(required_by.len(), 2);
    assert_eq!(required_by[1]["dependent"], "test:inc@1.0.0");
    assert_eq!(required_by[1]["requirement"], "{>=1.0.0 <2.0.0}");
    assert_eq!(
        packages[2]["edges"][0]["constraint"],
        required_by[1]["requirement"]
    );
    assert_eq!(env.read("other.lock"), env.read("meet.lock"));
}

#[test]
fn locked_fails_naming_the_change_and_leaves_the_lock() {
    let env = Env::new();
    let root = testdata().join("roots/meet.wat").display().to_string();
    // --locked with no lock file at all.
    env.fails(
        &["resolve", &root, "--registry", &registry(), "--locked"],
        &["--locked", "meet.lock", "does not exist"],
    );
    assert!(!env.exists("meet.lock"));

    env.ok(&["resolve", &root, "--registry", &registry()]);
    // A lock made before `test:add` was a dependency: drop its entry.
    let text = String::from_utf8(env.read("meet.lock")).unwrap();
    let mut lock = warg_depsolve::LockFile::parse(&text).unwrap();
    lock.packages.retain(|p| p.name.to_string() != "test:add");
    let stale = lock.to_toml();
    std::fs::write(env.path("meet.lock"), &stale).unwrap();

    env.fails(
        &["resolve", &root, "--registry", &registry(), "--locked"],
        &[
            "meet.lock",
            "would change",
            "test:add (track 1): 1.1.0 added",
        ],
    );
    assert_eq!(String::from_utf8(env.read("meet.lock")).unwrap(), stale);
    env.fails(
        &[
            "bundle",
            &root,
            "--registry",
            &registry(),
            "--frozen",
            "-o",
            "out.wasm",
        ],
        &["would change", "test:add"],
    );
    assert!(!env.exists("out.wasm"));

    // Without --locked, the lock is brought up to date.
    let text = env.ok(&["resolve", &root, "--registry", &registry()]);
    assert!(text.contains("test:add (track 1): 1.1.0 added"), "{text}");
    env.ok(&["resolve", &root, "--registry", &registry(), "--locked"]);
}

#[test]
fn pins_are_kept_and_update_releases_them() {
    let env = Env::new();
    let reg = env.copy_registry("reg");
    let reg = reg.to_str().unwrap();
    env.copy("roots/meet.wat", "meet.wat");
    // Only add 1.0.0 on track 1 at first.
    let newer = env.path("add-1.1.0.wasm");
    std::fs::rename(env.path("reg/test/add/1.1.0.wasm"), &newer).unwrap();
    let json = env.json(&["resolve", "meet.wat", "--registry", reg]);
    assert_eq!(json["resolution"]["packages"][0]["version"], "1.0.0");
    // 1.1.0 appears: the pin holds.
    std::fs::rename(&newer, env.path("reg/test/add/1.1.0.wasm")).unwrap();
    let json = env.json(&["resolve", "meet.wat", "--registry", reg]);
    assert_eq!(json["resolution"]["packages"][0]["version"], "1.0.0");
    assert_eq!(json["lock"]["written"], false);
    // update of another package keeps it; update of test:add moves it.
    let json = env.json(&["update", "meet.wat", "test:inc", "--registry", reg]);
    assert_eq!(json["resolution"]["packages"][0]["version"], "1.0.0");
    env.fails(
        &["update", "meet.wat", "test:base", "--registry", reg],
        &["test:base", "not pinned", "meet.lock"],
    );
    let text = env.ok(&["update", "meet.wat", "test:add", "--registry", reg]);
    assert!(
        text.contains("test:add (track 1): 1.0.0 -> 1.1.0"),
        "{text}"
    );
    let lock = String::from_utf8(env.read("meet.lock")).unwrap();
    assert!(lock.contains("version = \"1.1.0\""), "{lock}");
    // update with no package releases every pin.
    let json = env.json(&["update", "meet.wat", "--registry", reg]);
    assert_eq!(json["lock"]["written"], false);
}

#[test]
fn offline_works_from_the_cache_after_one_online_resolve() {
    let env = Env::new();
    env.copy_registry("reg");
    env.copy("roots/meet.wat", "meet.wat");
    let online = env.json(&[
        "resolve",
        "meet.wat",
        "--registry",
        "reg",
        "--cache",
        "cache",
    ]);
    std::fs::remove_dir_all(env.path("reg")).unwrap();
    let offline = env.json(&[
        "resolve",
        "meet.wat",
        "--registry",
        "reg",
        "--cache",
        "cache",
        "--offline",
    ]);
    assert_eq!(online["resolution"], offline["resolution"]);
    env.ok(&[
        "resolve",
        "meet.wat",
        "--registry",
        "reg",
        "--cache",
        "cache",
        "--frozen",
    ]);
    env.ok(&[
        "tree",
        "meet.wat",
        "--registry",
        "reg",
        "--cache",
        "cache",
        "--offline",
    ]);
    // Online, the missing registry is an error naming the package.
    env.fails(
        &[
            "resolve",
            "meet.wat",
            "--registry",
            "reg",
            "--cache",
            "cache",
        ],
        &["meet.wat", "test:"],
    );
    // Offline with an empty cache: an error naming what is missing.
    env.fails(
        &[
            "resolve",
            "meet.wat",
            "--registry",
            "reg",
            "--cache",
            "empty",
            "--offline",
        ],
        &["offline", "not in the cache"],
    );
}

#[test]
fn tree_marks_shared_nodes() {
    let env = Env::new();
    let root = testdata().join("roots/meet.wat").display().to_string();
    let text = env.ok(&["tree", &root, "--registry", &registry()]);
    assert_eq!(
        text,
        "meet.wat\n\
         ├── test:inc@1.0.0 (as `inc`)\n\
         │   └── test:add@1.1.0 (as `add`)\n\
         └── test:five@1.0.0 (as `five`)\n    \
         └── test:add@1.1.0 (as `test:add/api@1.0.0`) (*)\n"
    );
    let json = env.json(&["tree", &root, "--registry", &registry()]);
    assert_eq!(json["tree"][0]["package"], "test:inc");
    assert_eq!(json["tree"][0]["children"][0]["shared"], false);
    assert_eq!(json["tree"][1]["children"][0]["shared"], true);
    // tree reads the lock but never writes it.
    assert!(!env.exists("meet.lock"));
}

#[test]
fn why_lists_every_path() {
    let env = Env::new();
    let root = testdata().join("roots/meet.wat").display().to_string();
    let text = env.ok(&["why", &root, "test:add", "--registry", &registry()]);
    assert_eq!(
        text,
        "test:add is reached by 2 paths:\n  \
         meet.wat -> test:inc@1.0.0 -> test:add@1.1.0\n  \
         meet.wat -> test:five@1.0.0 -> test:add@1.1.0\n"
    );
    let json = env.json(&["why", &root, "test:inc", "--registry", &registry()]);
    assert_eq!(
        json["paths"],
        serde_json::json!([["meet.wat", "test:inc@1.0.0"]])
    );
    env.fails(
        &["why", &root, "test:base", "--registry", &registry()],
        &["test:base", "not a dependency", "meet.wat"],
    );
}

#[test]
fn no_solution_exits_non_zero_with_the_derivation() {
    let env = Env::new();
    std::fs::write(
        env.path("stuck.wat"),
        r#"(component
            (import "low" (external-id "unlocked-dep=<test:low@{>=1.0.0}>") (instance))
            (import "base" (external-id "unlocked-dep=<test:base@{>=1.2.0 <2.0.0}>") (instance)))"#,
    )
    .unwrap();
    let err = env.fails(
        &["resolve", "stuck.wat", "--registry", &registry()],
        &[
            "cannot resolve `stuck.wat`",
            "no solution",
            "test:low",
            "test:base",
        ],
    );
    assert!(err.lines().count() > 2, "a derivation, not one line: {err}");
    assert!(!env.exists("stuck.lock"));
}

#[test]
fn a_missing_package_names_the_importer_and_registry() {
    let env = Env::new();
    std::fs::write(
        env.path("missing.wat"),
        r#"(component (import "x" (external-id "unlocked-dep=<test:nope@*>") (instance)))"#,
    )
    .unwrap();
    env.fails(
        &["resolve", "missing.wat", "--registry", &registry()],
        &["missing.wat", "test:nope", "registry `local`"],
    );
}

#[test]
fn not_a_component_is_reported() {
    let env = Env::new();
    std::fs::write(env.path("garbage.wasm"), b"garbage").unwrap();
    env.fails(
        &["resolve", "garbage.wasm", "--registry", &registry()],
        &["garbage.wasm", "not a component"],
    );
    assert!(!env.exists("garbage.lock"));
}
