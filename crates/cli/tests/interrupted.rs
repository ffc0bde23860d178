//! An interrupted run (SIGINT, SIGTERM) leaves no temporary file; one that
//! was killed outright leaves one that a later write into the directory
//! sweeps once it is old.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use common::*;

fn temporaries(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp-"))
        .collect()
}

#[test]
fn a_signal_during_a_write_removes_its_temporary_file() {
    for signal in ["INT", "TERM"] {
        let env = Env::new();
        env.copy("roots/meet.wat", "meet.wat");
        let marker = env.path("holding");
        let registry = testdata().join("registry");
        let mut child = Command::new(env!("CARGO_BIN_EXE_warg-depsolve"))
            .args(["bundle", "meet.wat", "--registry"])
            .arg(&registry)
            .args(["-o", "out.wasm"])
            .current_dir(env.path(""))
            .env("XDG_CACHE_HOME", env.path("xdg-cache"))
            .env("WARG_DEPSOLVE_TEST_HOLD_OUTPUT", &marker)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // The write holds once its temporary file is complete (bounded
        // wait: 60 s).
        let mut waited = 0;
        while !marker.exists() {
            assert!(waited < 600, "the write never reached its temporary file");
            assert!(child.try_wait().unwrap().is_none(), "exited early");
            std::thread::sleep(Duration::from_millis(100));
            waited += 1;
        }
        assert_eq!(temporaries(&env.path("")).len(), 1, "the write in progress");
        let killed = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(130), "SIG{signal}: {status:?}");
        assert_eq!(
            temporaries(&env.path("")),
            Vec::<String>::new(),
            "SIG{signal}"
        );
        assert!(!env.exists("out.wasm"));
    }
}

#[test]
fn stale_temporaries_are_swept_by_the_next_write() {
    let env = Env::new();
    env.copy("roots/meet.wat", "meet.wat");
    std::fs::create_dir(env.path("out")).unwrap();
    // One left by a run killed two hours ago, one by a write that may
    // still be going on, and a file that is not ours.
    for name in [".tmp-old", ".tmp-fresh", ".other"] {
        std::fs::write(env.path(&format!("out/{name}")), b"partial").unwrap();
    }
    let old = std::fs::File::options()
        .write(true)
        .open(env.path("out/.tmp-old"))
        .unwrap();
    old.set_modified(SystemTime::now() - Duration::from_secs(2 * 60 * 60))
        .unwrap();
    drop(old);
    let registry = testdata().join("registry");
    env.ok(&[
        "bundle",
        "meet.wat",
        "--registry",
        registry.to_str().unwrap(),
        "-o",
        "out/meet.wasm",
    ]);
    let mut left: Vec<String> = std::fs::read_dir(env.path("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, [".other", ".tmp-fresh", "meet.wasm"]);
}
