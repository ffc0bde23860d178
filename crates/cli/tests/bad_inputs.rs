//! The bad-input corpus (`testdata/bad/`, see its README): the real binary's
//! `inspect`, `publish`, `bundle` and `migrate` on each file fail with status 1 and
//! one `error: ` message that names the file and says what is wrong, never
//! panic, print no raw control characters, and write nothing. The few
//! files that are bad for some commands only (metadata that only `publish`
//! reads, a nested binary that `inspect` does not open) say so below.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::Env;

/// What a command must do with a file.
enum Expect {
    /// Status 1, an `error: ` line naming the file and containing this.
    Fails(&'static str),
    /// Success, for the reason given (the file is bad for other commands).
    Succeeds(&'static str),
}

use Expect::{Fails, Succeeds};

/// A file of `testdata/bad/` and what `inspect`, `publish` (with
/// `--package test:bad --version 1.0.0`, or without them when `metadata`
/// is set, so that the file's own metadata is used), `bundle` and
/// `migrate` do with it.
struct Case {
    file: &'static str,
    metadata: bool,
    inspect: Expect,
    publish: Expect,
    bundle: Expect,
    migrate: Expect,
}

/// `migrate` rewrites depname import *names*; a malformed reference in an
/// `external-id` is left for the commands that read it.
const MIGRATE_KEEPS_REFERENCES: Expect =
    Succeeds("migrate rewrites depname import names and copies external-ids as they are");

const CASES: &[Case] = &[
    Case {
        file: "empty.wasm",
        metadata: false,
        inspect: Fails("not a component: empty input"),
        publish: Fails("not a component: empty input"),
        bundle: Fails("not a component: empty input"),
        migrate: Fails("not a component: empty input"),
    },
    Case {
        file: "random.wasm",
        metadata: false,
        inspect: Fails("not a component: bad magic bytes"),
        publish: Fails("not a component: bad magic bytes"),
        bundle: Fails("not a component: bad magic bytes"),
        migrate: Fails("not a component: bad magic bytes"),
    },
    Case {
        file: "not-wasm.wasm",
        metadata: false,
        inspect: Fails("not a component: bad magic bytes"),
        publish: Fails("not a component: bad magic bytes"),
        bundle: Fails("not a component: bad magic bytes"),
        migrate: Fails("not a component: bad magic bytes"),
    },
    Case {
        file: "truncated.wasm",
        metadata: false,
        inspect: Fails("runs past the end of the input"),
        publish: Fails("runs past the end of the input"),
        bundle: Fails("runs past the end"),
        migrate: Fails("runs past the end"),
    },
    Case {
        file: "core-module.wasm",
        metadata: false,
        inspect: Fails("not a component: a core wasm module"),
        publish: Fails("not a component: a core wasm module"),
        bundle: Fails("not a component: a core wasm module"),
        migrate: Fails("not a component: a core wasm module"),
    },
    Case {
        file: "oversized-section.wasm",
        metadata: false,
        inspect: Fails("unexpected end-of-file"),
        publish: Fails("unexpected end-of-file"),
        bundle: Fails("runs past the end"),
        migrate: Fails("runs past the end"),
    },
    Case {
        file: "huge-count.wasm",
        metadata: false,
        inspect: Fails("unexpected end-of-file"),
        publish: Fails("unexpected end-of-file"),
        bundle: Fails("unexpected end-of-file"),
        migrate: Fails("unexpected end-of-file"),
    },
    Case {
        file: "deep-nesting.wasm",
        metadata: false,
        inspect: Succeeds(
            "inspect reads the top level only, and the damage is 500 components down",
        ),
        publish: Fails("unknown type 5: type index out of bounds"),
        bundle: Fails("unknown type 5: type index out of bounds"),
        migrate: Fails("unknown type 5: type index out of bounds"),
    },
    Case {
        file: "traversal-dep.wasm",
        metadata: false,
        inspect: Fails("invalid dependency reference `unlocked-dep=<../..:etc@*>`"),
        publish: Fails("invalid dependency reference `unlocked-dep=<../..:etc@*>`"),
        bundle: Fails("invalid dependency reference `unlocked-dep=<../..:etc@*>`"),
        migrate: MIGRATE_KEEPS_REFERENCES,
    },
    Case {
        file: "control-chars.wasm",
        metadata: false,
        // Shown escaped, never sent to the terminal as is.
        inspect: Fails(r"unlocked-dep=<test:add\u{1b}[2J\u{7}@*>"),
        publish: Fails(r"unlocked-dep=<test:add\u{1b}[2J\u{7}@*>"),
        bundle: Fails(r"unlocked-dep=<test:add\u{1b}[2J\u{7}@*>"),
        migrate: MIGRATE_KEEPS_REFERENCES,
    },
    Case {
        file: "huge-version.wasm",
        metadata: false,
        inspect: Fails("value of major version number exceeds u64::MAX"),
        publish: Fails("value of major version number exceeds u64::MAX"),
        bundle: Fails("value of major version number exceeds u64::MAX"),
        migrate: MIGRATE_KEEPS_REFERENCES,
    },
    Case {
        file: "traversal-name.wasm",
        metadata: true,
        inspect: Succeeds("a name is only shown; inspect writes nothing"),
        publish: Fails("is named `../../../etc/passwd`, which is not a package name"),
        bundle: Succeeds("bundle names its output with -o, not with the metadata"),
        migrate: Succeeds("a valid component with nothing to migrate"),
    },
    Case {
        file: "huge-metadata-version.wasm",
        metadata: true,
        inspect: Succeeds("a version is only shown; inspect writes nothing"),
        publish: Fails("`1.0.99999999999999999999`, which is not a semantic version"),
        bundle: Succeeds("bundle does not read the version metadata"),
        migrate: Succeeds("a valid component with nothing to migrate"),
    },
];

/// Runs one command on `file` (a path inside the env) and checks it.
fn check(env: &Env, file: &str, args: &[&str], expect: &Expect, output: &Path) {
    let out = env.run(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let what = format!("{args:?}");
    match expect {
        Fails(needle) => {
            assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
            assert!(stderr.starts_with("error: "), "{what}: {stderr}");
            assert_eq!(
                stderr.matches("error: ").count(),
                1,
                "{what}: one error line: {stderr}"
            );
            assert!(
                stderr.contains(file),
                "{what} does not name the file: {stderr}"
            );
            assert!(
                stderr.contains(needle),
                "{what}: {needle:?} not in {stderr}"
            );
            assert!(!output.exists(), "{what} wrote {}", output.display());
        }
        Succeeds(why) => {
            assert!(out.status.success(), "{what} ({why}): {stderr}");
        }
    }
    assert!(
        !stderr.chars().any(|c| c.is_control() && c != '\n'),
        "{what}: raw control characters in {stderr:?}"
    );
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().unwrap().is_dir() {
                out.extend(files_under(&entry.path()));
            } else {
                out.push(entry.path());
            }
        }
    }
    out
}

fn run_case(env: &Env, file: &str, metadata: bool, expects: [&Expect; 4]) {
    let [inspect, publish, bundle, migrate] = expects;
    check(env, file, &["inspect", file], inspect, &env.path("none"));

    let registry = env.path("publish-registry");
    let mut args = vec!["publish", file, "--registry", "publish-registry"];
    if !metadata {
        args.extend(["--package", "test:bad", "--version", "1.0.0"]);
    }
    check(env, file, &args, publish, &registry.join("test"));
    if matches!(publish, Fails(_)) {
        assert_eq!(
            files_under(&registry),
            Vec::<std::path::PathBuf>::new(),
            "publish of {file} wrote into the registry"
        );
    }
    std::fs::remove_dir_all(&registry).ok();

    let bundle_args = [
        "bundle",
        file,
        "--registry",
        "registry",
        "--lock",
        "bad.lock",
        "-o",
        "out.wasm",
    ];
    check(env, file, &bundle_args, bundle, &env.path("out.wasm"));
    std::fs::remove_file(env.path("out.wasm")).ok();
    // `bundle` never writes the lock file.
    assert!(!env.exists("bad.lock"));

    let migrate_args = ["migrate", file, "-o", "migrated.wasm"];
    check(
        env,
        file,
        &migrate_args,
        migrate,
        &env.path("migrated.wasm"),
    );
    std::fs::remove_file(env.path("migrated.wasm")).ok();
}

/// Every file in `testdata/bad/` has a case, and every case passes.
#[test]
fn every_bad_file_fails_cleanly_naming_itself() {
    let env = Env::new();
    env.copy_registry("registry");
    let dir = common::testdata().join("bad");
    let mut listed: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".wasm"))
        .collect();
    listed.sort();
    let mut cased: Vec<String> = CASES.iter().map(|c| c.file.to_string()).collect();
    cased.sort();
    assert_eq!(listed, cased, "testdata/bad/*.wasm and CASES disagree");

    for case in CASES {
        env.copy(&format!("bad/{}", case.file), case.file);
        run_case(
            &env,
            case.file,
            case.metadata,
            [&case.inspect, &case.publish, &case.bundle, &case.migrate],
        );
    }
}

/// 10,000 imports (written here rather than committed): each command reads
/// them all and stops at the one malformed reference, the last, in bounded
/// time. Function imports: wasmparser allows at most 4,096 instances.
#[test]
fn ten_thousand_imports_end_in_one_clean_error() {
    const COUNT: usize = 10_000;
    let mut wat = String::from("(component\n");
    for i in 0..COUNT - 1 {
        wat.push_str(&format!(
            "  (import \"dep{i}\" (external-id \"unlocked-dep=<test:missing{i}@{{>=1.0.0}}>\") (func))\n"
        ));
    }
    wat.push_str(&format!(
        "  (import \"dep{}\" (external-id \"unlocked-dep=<test:add@{{>=1.0.0 <2}}>\") (func)))\n",
        COUNT - 1
    ));
    let env = Env::new();
    env.copy_registry("registry");
    let bytes = wat::parse_str(&wat).unwrap();
    assert!(bytes.len() > 400_000, "{} bytes", bytes.len());
    std::fs::write(env.path("many.wasm"), &bytes).unwrap();

    let started = Instant::now();
    let needle = Fails("import `dep9999`: invalid dependency reference");
    run_case(
        &env,
        "many.wasm",
        false,
        [&needle, &needle, &needle, &MIGRATE_KEEPS_REFERENCES],
    );
    // Three commands, each linear in the imports; generous for a debug
    // build on a loaded machine, and far below what a quadratic pass over
    // 10,000 imports would take.
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}
