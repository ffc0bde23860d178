//! What `-o` and the lock file do to what is already there: `-` is stdout,
//! a symlink stays a symlink, a FIFO or device is written in place (never
//! replaced), a directory is an error naming it.

mod common;

use std::os::unix::fs::FileTypeExt as _;
use std::path::Path;

use common::*;

fn registry() -> String {
    testdata().join("registry").to_str().unwrap().to_string()
}

fn meet() -> String {
    testdata()
        .join("roots/meet.wat")
        .to_str()
        .unwrap()
        .to_string()
}

/// The bundle the README's main command writes.
fn expected_bundle(env: &Env) -> Vec<u8> {
    env.ok(&[
        "bundle",
        &meet(),
        "--registry",
        &registry(),
        "-o",
        "ref.wasm",
    ]);
    env.read("ref.wasm")
}

#[test]
fn dash_writes_the_output_to_stdout_and_the_report_to_stderr() {
    let env = Env::new();
    let expected = expected_bundle(&env);
    for command in [
        vec!["bundle", "MEET", "--registry", "REG", "-o", "-"],
        vec![
            "--format",
            "json",
            "bundle",
            "MEET",
            "--registry",
            "REG",
            "-o",
            "-",
        ],
    ] {
        let (meet, registry) = (meet(), registry());
        let args: Vec<&str> = command
            .iter()
            .map(|a| match *a {
                "MEET" => meet.as_str(),
                "REG" => registry.as_str(),
                other => other,
            })
            .collect();
        let out = env.run(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, expected);
        let report = String::from_utf8(out.stderr).unwrap();
        assert!(report.contains("test:inc"), "{report}");
        assert!(!env.exists("-"), "a file named `-` was written");
    }

    // The locked form too.
    env.ok(&[
        "lock",
        &meet(),
        "--registry",
        &registry(),
        "-o",
        "locked.wasm",
    ]);
    let out = env.run(&["lock", &meet(), "--registry", &registry(), "-o", "-"]);
    assert!(out.status.success());
    assert_eq!(out.stdout, env.read("locked.wasm"));
}

#[test]
fn a_fifo_is_written_in_place_not_replaced() {
    let env = Env::new();
    let expected = expected_bundle(&env);
    let fifo = env.path("out.fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    env.ok(&[
        "bundle",
        &meet(),
        "--registry",
        &registry(),
        "-o",
        "out.fifo",
    ]);
    // Checked first: a replaced FIFO would leave the reader waiting forever.
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "the FIFO was replaced: {kind:?}");
    assert_eq!(reader.join().unwrap(), expected);
}

/// A character device like `/dev/null` (made here with `mknod`, so a
/// regression cannot replace the machine's own `/dev/null`): written in
/// place, still a device afterwards.
#[test]
fn a_device_stays_a_device() {
    let env = Env::new();
    let null = env.path("null");
    let made = std::process::Command::new("mknod")
        .args(["-m", "666"])
        .arg(&null)
        .args(["c", "1", "3"])
        .status()
        .unwrap();
    if !made.success() {
        // Only root may make device nodes (CI runs as root); the FIFO test
        // covers special files everywhere else.
        assert_ne!(
            std::process::Command::new("id")
                .arg("-u")
                .output()
                .unwrap()
                .stdout,
            b"0\n"
        );
        return;
    }
    env.ok(&["bundle", &meet(), "--registry", &registry(), "-o", "null"]);
    let kind = std::fs::symlink_metadata(&null).unwrap().file_type();
    assert!(kind.is_char_device(), "the device is now {kind:?}");
}

#[test]
fn a_symlink_stays_a_symlink_and_its_target_is_replaced() {
    let env = Env::new();
    let expected = expected_bundle(&env);
    std::fs::create_dir(env.path("real")).unwrap();
    std::fs::write(env.path("real/out.wasm"), b"old").unwrap();
    std::os::unix::fs::symlink("real/out.wasm", env.path("out.wasm")).unwrap();
    // A dangling link gets its target created.
    std::os::unix::fs::symlink("real/new.wasm", env.path("new.wasm")).unwrap();
    for name in ["out.wasm", "new.wasm"] {
        env.ok(&["bundle", &meet(), "--registry", &registry(), "-o", name]);
        let link = env.path(name);
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&link).unwrap(), expected);
    }

    // The lock file too (kept with other files, say).
    std::os::unix::fs::symlink("real/meet.lock", env.path("meet.lock")).unwrap();
    env.ok(&["resolve", &meet(), "--registry", &registry()]);
    assert!(std::fs::symlink_metadata(env.path("meet.lock"))
        .unwrap()
        .file_type()
        .is_symlink());
    let text = String::from_utf8(env.read("real/meet.lock")).unwrap();
    assert!(text.contains("test:inc"), "{text}");
}

#[test]
fn a_directory_is_an_error_naming_it() {
    let env = Env::new();
    std::fs::create_dir(env.path("outdir")).unwrap();
    env.fails(
        &["bundle", &meet(), "--registry", &registry(), "-o", "outdir"],
        &["outdir", "is a directory"],
    );
    env.fails(
        &["lock", &meet(), "--registry", &registry(), "-o", "outdir"],
        &["outdir", "is a directory"],
    );
    assert!(Path::new(&env.path("outdir")).is_dir());
    let left: Vec<_> = std::fs::read_dir(env.path("outdir")).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}
