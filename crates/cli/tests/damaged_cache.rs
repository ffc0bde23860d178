//! A damaged file in the cache or in a `--store` heals online (discarded,
//! fetched again, with a warning) and is named, with the way out, offline.

mod common;

use common::*;

/// The cached content file of `test:add@1.1.0` under `cache`.
fn add_content(env: &Env, cache: &str) -> std::path::PathBuf {
    use sha2::Digest as _;
    let bytes = std::fs::read(testdata().join("registry/test/add/1.1.0.wasm")).unwrap();
    env.path(cache)
        .join("sha256")
        .join(hex::encode(sha2::Sha256::digest(&bytes)))
}

fn damage(path: &std::path::Path) {
    let bytes = std::fs::read(path).unwrap();
    std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
}

#[test]
fn a_damaged_cache_file_is_fetched_again_online_and_named_offline() {
    let env = Env::new();
    env.copy("roots/meet.wat", "meet.wat");
    let registry = testdata().join("registry");
    let registry = registry.to_str().unwrap();
    let bundle = |extra: &[&str]| {
        let mut args = vec![
            "bundle",
            "meet.wat",
            "--registry",
            registry,
            "--cache",
            "cache",
            "-o",
            "out.wasm",
        ];
        args.extend_from_slice(extra);
        env.run(&args)
    };
    assert!(bundle(&[]).status.success());
    let good = env.read("out.wasm");
    let content = add_content(&env, "cache");
    let original = std::fs::read(&content).unwrap();

    // Offline, the damaged file is named with the way out, and nothing is
    // written.
    damage(&content);
    std::fs::remove_file(env.path("out.wasm")).unwrap();
    let out = bundle(&["--offline"]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{err}");
    let relative = content
        .strip_prefix(env.path(""))
        .unwrap()
        .display()
        .to_string();
    for needle in ["test:add", &relative, "damaged", "without --offline"] {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    assert!(!env.exists("out.wasm"));

    // Online it heals: a warning, the right bytes, the file repaired.
    let out = bundle(&[]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning: cache file") && err.contains("damaged"),
        "{err}"
    );
    assert_eq!(env.read("out.wasm"), good);
    assert_eq!(std::fs::read(&content).unwrap(), original);
}

#[test]
fn a_damaged_store_entry_is_fetched_again_from_the_registry() {
    let env = Env::new();
    env.copy("roots/meet.wat", "meet.wat");
    let registry = testdata().join("registry");
    let registry = registry.to_str().unwrap();
    env.ok(&["bundle", "meet.wat", "--registry", registry, "-o", "b.wasm"]);
    env.ok(&[
        "unbundle",
        "b.wasm",
        "--store",
        "store",
        "-o",
        "locked.wasm",
    ]);
    let entry = add_content(&env, "store");
    damage(&entry);
    let out = env.run(&[
        "bundle",
        "locked.wasm",
        "--store",
        "store",
        "--registry",
        registry,
        "-o",
        "again.wasm",
    ]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{err}");
    assert!(err.contains("warning:"), "{err}");
    assert_eq!(env.read("again.wasm"), env.read("b.wasm"));
}

/// A cache path that is a file is said to be one, not blamed on a registry.
#[test]
fn a_cache_that_is_a_file_is_named() {
    let env = Env::new();
    env.copy("roots/meet.wat", "meet.wat");
    std::fs::write(env.path("cachefile"), b"").unwrap();
    let registry = testdata().join("registry");
    let err = env.fails(
        &[
            "resolve",
            "meet.wat",
            "--registry",
            registry.to_str().unwrap(),
            "--cache",
            "cachefile",
        ],
        &[
            "error: the cache `cachefile` is not a directory\n",
            "\nhint: pass --cache DIR, or move the file away\n",
        ],
    );
    assert!(!err.contains("unavailable"), "{err}");
}

/// With no registry given and no home to find a default one in, the error
/// says what is missing and the hint names the flags that supply it; the
/// library's own message names no flag (a loader has none).
#[test]
fn no_registry_and_no_home_is_a_hint_at_the_flags() {
    let env = Env::new();
    env.copy("roots/meet.wat", "meet.wat");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_warg-depsolve"))
        .args(["resolve", "meet.wat"])
        .current_dir(env.path("."))
        .env_remove("HOME")
        .env_remove("XDG_DATA_HOME")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("WARG_DEPSOLVE_CONFIG")
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{err}");
    let (error, hint) = err.split_once('\n').unwrap();
    assert!(
        error.starts_with("error: no registry is configured"),
        "{err}"
    );
    assert!(!error.contains("--"), "{err}");
    assert_eq!(hint, "hint: pass --registry DIR or --config FILE\n");
}

/// The solution a `resolve` remembers in the cache is recalled by the
/// next run while the registry is unchanged, and a damaged memo is solved
/// again and rewritten, with the same answer either way.
#[test]
fn a_re_run_recalls_the_solution_and_a_damaged_memo_heals() {
    let env = Env::new();
    env.copy("roots/meet.wat", "meet.wat");
    let registry = testdata().join("registry");
    let registry = registry.to_str().unwrap();
    let resolve = || {
        env.ok(&[
            "resolve",
            "meet.wat",
            "--registry",
            registry,
            "--cache",
            "cache",
        ])
    };
    let memos = || -> Vec<(std::path::PathBuf, Vec<u8>)> {
        let mut all: Vec<_> = std::fs::read_dir(env.path("cache/memo"))
            .expect("solutions are remembered")
            .map(|e| {
                let path = e.unwrap().path();
                let bytes = std::fs::read(&path).unwrap();
                (path, bytes)
            })
            .collect();
        all.sort();
        all
    };
    resolve();
    let without_lock = memos();
    assert_eq!(without_lock.len(), 1);
    // The second run solves with the lock file's pins: other inputs, so
    // solved (and remembered) too.
    let answer = resolve();
    let lock = env.read("meet.lock");
    let remembered = memos();
    assert_eq!(remembered.len(), 2, "one per set of inputs");
    let (path, memo) = remembered
        .iter()
        .find(|m| !without_lock.contains(m))
        .expect("the second run's memo")
        .clone();
    assert!(memo.starts_with(b"warg-depsolve-memo 1\n"));

    // Recalled: the same answer, and no memo is written again.
    assert_eq!(resolve(), answer);
    assert_eq!(env.read("meet.lock"), lock);
    assert!(memos() == remembered, "a recall writes nothing");

    for damaged in [
        &memo[..memo.len() / 2],
        b"warg-depsolve-memo 1\nnot a read\n\n{}",
    ] {
        std::fs::write(&path, damaged).unwrap();
        assert_eq!(resolve(), answer);
        assert_eq!(env.read("meet.lock"), lock);
        assert!(std::fs::read(&path).unwrap() == memo, "rewritten whole");
    }
}
