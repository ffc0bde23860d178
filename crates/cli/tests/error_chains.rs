//! One error policy: a cause is said once, as a cause. The printed chain
//! (`error: what failed: why: why that`) never repeats itself.

mod common;

use common::*;

/// Fails when a part of the chain (between `: `) is said twice.
fn said_once(stderr: &str) {
    let line = stderr.trim_end();
    assert!(line.starts_with("error: "), "{line}");
    for part in line.trim_start_matches("error: ").split(": ") {
        if part.len() >= 8 {
            assert_eq!(
                line.matches(part).count(),
                1,
                "`{part}` is said more than once in:\n{line}"
            );
        }
    }
}

#[test]
fn printed_chains_do_not_repeat_themselves() {
    let env = Env::new();
    let registry = testdata().join("registry");
    let registry = registry.to_str().unwrap();
    std::fs::write(
        env.path("bad-ref.wat"),
        r#"(component (import "inc" (external-id "unlocked-dep=<test:inc@{>=x}>") (instance)))"#,
    )
    .unwrap();
    std::fs::write(
        env.path("missing.wat"),
        r#"(component (import "nope" (external-id "unlocked-dep=<test:nope@{>=1.0.0}>") (instance)))"#,
    )
    .unwrap();
    std::fs::write(env.path("core.wat"), "(module)").unwrap();
    std::fs::write(env.path("garbage.wasm"), b"garbage").unwrap();
    std::fs::create_dir(env.path("dir")).unwrap();
    // A composition nesting a component that names `test:inc`, and a
    // registry that cannot be listed (`test` is a file).
    std::fs::write(
        env.path("composed.wat"),
        r#"(component (component (import "inc" (external-id "unlocked-dep=<test:inc@{>=1.0.0}>") (instance))))"#,
    )
    .unwrap();
    std::fs::create_dir(env.path("broken")).unwrap();
    std::fs::write(env.path("broken/test"), b"not a directory").unwrap();
    env.copy("roots/meet.wat", "meet.wat");
    env.copy_registry("reg");

    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "bundle",
                "bad-ref.wat",
                "--registry",
                registry,
                "-o",
                "o.wasm",
            ],
            "invalid dependency reference",
        ),
        (
            vec!["inspect", "bad-ref.wat"],
            "invalid dependency reference",
        ),
        (
            vec![
                "bundle",
                "missing.wat",
                "--registry",
                registry,
                "-o",
                "o.wasm",
            ],
            "test:nope",
        ),
        (
            vec!["bundle", "core.wat", "--registry", registry, "-o", "o.wasm"],
            "core",
        ),
        (
            vec![
                "publish",
                "core.wat",
                "--package",
                "a:b",
                "--version",
                "1.0.0",
                "--registry",
                "reg",
            ],
            "core",
        ),
        (
            vec![
                "publish",
                "meet.wat",
                "--package",
                "test:add",
                "--version",
                "1.1.0",
                "--registry",
                "reg",
            ],
            "already published",
        ),
        (
            vec!["unbundle", "garbage.wasm", "-o", "o.wasm", "--store", "s"],
            "bad magic bytes",
        ),
        (
            vec![
                "unbundle",
                "composed.wat",
                "-o",
                "o.wasm",
                "--registry",
                "broken",
            ],
            "test:inc",
        ),
        (
            vec!["bundle", "meet.wat", "--registry", registry, "-o", "dir"],
            "is a directory",
        ),
        (
            vec![
                "resolve",
                "meet.wat",
                "--registry",
                registry,
                "--offline",
                "--lock",
                "x.lock",
            ],
            "offline",
        ),
    ];
    for (args, needle) in cases {
        let out = env.run(&args);
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {needle:?} not in {err}");
        said_once(&err);
    }
}
