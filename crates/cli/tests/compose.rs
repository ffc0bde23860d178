//! `lock`, `bundle`, `unbundle`, `migrate`: outputs run under wasmtime's
//! default configuration, round trips are byte-exact, failures leave no
//! output file.

mod common;

use common::*;
use warg_depsolve_fixtures::run::call2;

fn registry() -> String {
    testdata().join("registry").display().to_string()
}

fn meet() -> String {
    testdata().join("roots/meet.wat").display().to_string()
}

/// Only these entries in the working directory (besides the XDG homes,
/// which hold the default cache).
fn files(env: &Env) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("xdg-"))
        .collect();
    names.sort();
    names
}

#[test]
fn bundle_runs() {
    let env = Env::new();
    let text = env.ok(&[
        "bundle",
        &meet(),
        "--registry",
        &registry(),
        "-o",
        "meet.bundled.wasm",
    ]);
    assert!(
        text.starts_with("wrote bundle `meet.bundled.wasm`"),
        "{text}"
    );
    assert!(text.contains("test:add   1.1.0"), "{text}");
    let bundled = env.read("meet.bundled.wasm");
    assert_eq!(call2(&bundled, "full", 1, 2), 10);
    // Deterministic; the lock file is read, not written.
    env.ok(&[
        "bundle",
        &meet(),
        "--registry",
        &registry(),
        "-o",
        "again.wasm",
    ]);
    assert_eq!(env.read("again.wasm"), bundled);
    assert_eq!(files(&env), ["again.wasm", "meet.bundled.wasm"]);

    let json = env.json(&["bundle", &meet(), "--registry", &registry(), "-o", "j.wasm"]);
    assert_eq!(json["command"], "bundle");
    assert_eq!(json["size"], bundled.len());
    assert_eq!(json["packages"].as_array().unwrap().len(), 3);
    // The summary's digest is the written file's (hashed on the way out).
    assert_eq!(
        json["digest"],
        warg_depsolve::names::Integrity::sha256(&env.read("j.wasm")).to_oci()
    );
}

#[test]
fn tracks_bundle_gives_each_dependent_its_track() {
    let env = Env::new();
    let root = testdata().join("roots/tracks.wat").display().to_string();
    env.ok(&["bundle", &root, "--registry", &registry(), "-o", "t.wasm"]);
    let bundled = env.read("t.wasm");
    assert_eq!(call2(&bundled, "via-one", 1, 2), 3);
    assert_eq!(call2(&bundled, "via-two", 1, 2), 1003);
}

#[test]
fn lock_then_bundle_equals_the_direct_bundle() {
    let env = Env::new();
    env.ok(&[
        "bundle",
        &meet(),
        "--registry",
        &registry(),
        "-o",
        "direct.wasm",
    ]);
    let json = env.json(&[
        "lock",
        &meet(),
        "--registry",
        &registry(),
        "-o",
        "meet.locked.wasm",
    ]);
    assert_eq!(json["command"], "lock");
    assert_eq!(json["packages"][0]["package"], "test:add");
    // The locked form is recognised and bundled by digest from the registry.
    env.ok(&[
        "bundle",
        "meet.locked.wasm",
        "--registry",
        &registry(),
        "-o",
        "via-lock.wasm",
    ]);
    assert_eq!(env.read("via-lock.wasm"), env.read("direct.wasm"));
}

#[test]
fn unbundle_then_bundle_is_byte_exact() {
    let env = Env::new();
    env.ok(&["bundle", &meet(), "--registry", &registry(), "-o", "b.wasm"]);
    env.ok(&["lock", &meet(), "--registry", &registry(), "-o", "l.wasm"]);

    // Into a store; bundle from the store alone (an empty registry).
    let json = env.json(&["unbundle", "b.wasm", "-o", "u.wasm", "--store", "store"]);
    assert_eq!(json["command"], "unbundle");
    let packages = json["packages"].as_array().unwrap();
    assert_eq!(packages.len(), 3);
    for p in packages {
        let file = p["written_to"].as_str().unwrap();
        assert!(env.dir.path().join(file).is_file(), "{file}");
    }
    assert_eq!(env.read("u.wasm"), env.read("l.wasm"));
    env.ok(&[
        "bundle",
        "u.wasm",
        "--store",
        "store",
        "--registry",
        "empty-registry",
        "-o",
        "b2.wasm",
    ]);
    assert_eq!(env.read("b2.wasm"), env.read("b.wasm"));

    // Into a local registry; bundle from it.
    env.ok(&[
        "unbundle",
        "b.wasm",
        "-o",
        "u2.wasm",
        "--registry",
        "extracted",
    ]);
    assert_eq!(env.read("u2.wasm"), env.read("l.wasm"));
    assert!(env.exists("extracted/test/add/1.1.0.wasm"));
    env.ok(&[
        "bundle",
        "u2.wasm",
        "--registry",
        "extracted",
        "-o",
        "b3.wasm",
    ]);
    assert_eq!(env.read("b3.wasm"), env.read("b.wasm"));
    let json = env.json(&["versions", "test:inc", "--registry", "extracted"]);
    assert_eq!(json["versions"][0]["version"], "1.0.0");

    // Needs somewhere to put the packages.
    let out = env.run(&["unbundle", "b.wasm", "-o", "u3.wasm"]);
    assert!(!out.status.success());
    assert!(!env.exists("u3.wasm"));
}

#[test]
fn migrate_then_bundle_runs() {
    let env = Env::new();
    let legacy = testdata()
        .join("legacy/meet-legacy.wasm")
        .display()
        .to_string();
    env.ok(&["migrate", &legacy, "-o", "migrated.wasm"]);
    // The migrated binary is meet.wat's binary.
    assert_eq!(env.read("migrated.wasm"), wat::parse_file(meet()).unwrap());
    env.ok(&[
        "bundle",
        "migrated.wasm",
        "--registry",
        &registry(),
        "-o",
        "m.wasm",
    ]);
    assert_eq!(call2(&env.read("m.wasm"), "full", 1, 2), 10);
}

#[test]
fn a_tampered_store_heals_from_the_registry_or_fails_naming_the_package() {
    let env = Env::new();
    env.ok(&["bundle", &meet(), "--registry", &registry(), "-o", "b.wasm"]);
    env.ok(&["unbundle", "b.wasm", "-o", "u.wasm", "--store", "store"]);
    // Flip one byte of test:inc's stored bytes.
    let inc = testdata().join("registry/test/inc/1.0.0.wasm");
    let digest = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(std::fs::read(inc).unwrap()))
    };
    let stored = env.path(&format!("store/sha256/{digest}"));
    let good = std::fs::read(&stored).unwrap();
    let mut bytes = good.clone();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(&stored, &bytes).unwrap();
    let actual = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    let bundle = |registry: &str| {
        env.run(&[
            "bundle",
            "u.wasm",
            "--store",
            "store",
            "--registry",
            registry,
            "-o",
            "out.wasm",
        ])
    };

    // With the registry at hand, the entry is fetched again: a warning
    // naming both digests, the same bundle, the entry repaired.
    let out = bundle(&registry());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{err}");
    for needle in ["warning:", "test:inc", &digest, &actual] {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    assert_eq!(env.read("out.wasm"), env.read("b.wasm"));
    assert_eq!(std::fs::read(&stored).unwrap(), good);

    // With neither the registry nor a cached copy, the bundle fails naming
    // the package, and writes nothing.
    std::fs::remove_file(env.path("out.wasm")).unwrap();
    std::fs::remove_dir_all(env.path("xdg-cache")).unwrap();
    std::fs::write(&stored, &bytes).unwrap();
    std::fs::create_dir(env.path("empty")).unwrap();
    let out = bundle("empty");
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("test:inc") && err.contains(&actual), "{err}");
    assert!(!env.exists("out.wasm"));
    // Nor any temporary file it was being written to.
    assert_eq!(files(&env), ["b.wasm", "empty", "store", "u.wasm"]);
}

#[test]
fn malformed_input_is_not_a_component_and_writes_nothing() {
    let env = Env::new();
    std::fs::write(env.path("bad.wasm"), b"this is not wasm").unwrap();
    // A core module is not a component either.
    std::fs::write(env.path("core.wat"), "(module)").unwrap();
    for input in ["bad.wasm", "core.wat"] {
        for command in ["bundle", "lock"] {
            env.fails(
                &[command, input, "--registry", &registry(), "-o", "out.wasm"],
                &[input, "not a component"],
            );
            assert!(!env.exists("out.wasm"));
        }
    }
    for command in ["migrate", "unbundle"] {
        env.fails(
            &[command, "bad.wasm", "-o", "out.wasm", "--store", "s"]
                [..if command == "migrate" { 4 } else { 6 }],
            &["bad.wasm", "not a component: bad magic bytes"],
        );
        // Said once, naming the file, not a stand-in (`bundle`).
        let err = env.fails(
            &[command, "core.wat", "-o", "out.wasm", "--store", "s"]
                [..if command == "migrate" { 4 } else { 6 }],
            &["core.wat", "not a component: a core wasm module"],
        );
        assert!(
            !err.contains("`bundle`") && !err.contains("legacy component"),
            "{err}"
        );
    }
    assert!(!env.exists("out.wasm"));
    // A component that is not a bundle.
    env.fails(
        &["unbundle", &meet(), "-o", "out.wasm", "--store", "s"],
        &["meet.wat", "not a bundle"],
    );
    assert!(!env.exists("out.wasm"));
}

#[test]
fn offline_bundle_after_one_online_bundle() {
    let env = Env::new();
    env.copy_registry("reg");
    env.ok(&[
        "bundle",
        &meet(),
        "--registry",
        "reg",
        "--cache",
        "c",
        "-o",
        "online.wasm",
    ]);
    std::fs::remove_dir_all(env.path("reg")).unwrap();
    env.ok(&[
        "bundle",
        &meet(),
        "--registry",
        "reg",
        "--cache",
        "c",
        "--offline",
        "-o",
        "offline.wasm",
    ]);
    assert_eq!(env.read("offline.wasm"), env.read("online.wasm"));
}
