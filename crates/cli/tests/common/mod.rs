//! Running the real `warg-depsolve` binary in a temporary directory, with
//! the environment isolated (cache, data and config homes inside it).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's `testdata/`.
pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// A temporary working directory, with `$XDG_CACHE_HOME`, `$XDG_DATA_HOME`
/// and `$XDG_CONFIG_HOME` inside it and `$WARG_DEPSOLVE_CONFIG` unset.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Self {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A path inside the working directory.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Copies `testdata/registry` to `rel` and returns its path.
    pub fn copy_registry(&self, rel: &str) -> PathBuf {
        let to = self.path(rel);
        copy_dir(&testdata().join("registry"), &to);
        to
    }

    /// Copies `testdata/<from>` into the working directory as `to`.
    pub fn copy(&self, from: &str, to: &str) -> PathBuf {
        let dest = self.path(to);
        std::fs::copy(testdata().join(from), &dest).unwrap();
        dest
    }

    /// Runs the binary in the working directory.
    pub fn run(&self, args: &[&str]) -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_warg-depsolve"))
            .args(args)
            .current_dir(self.dir.path())
            .env("XDG_CACHE_HOME", self.path("xdg-cache"))
            .env("XDG_DATA_HOME", self.path("xdg-data"))
            .env("XDG_CONFIG_HOME", self.path("xdg-config"))
            .env_remove("WARG_DEPSOLVE_CONFIG")
            .output()
            .expect("run warg-depsolve");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "panic: {stderr}");
        out
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.record_output(args);
        String::from_utf8(out.stdout).unwrap()
    }

    /// Records the component a successful command wrote with `-o FILE`
    /// for the interop check (`scripts/interop_check.py` validates each
    /// with the `wasm-tools` CLI), when `$WARG_DEPSOLVE_INTEROP_DIR` is set.
    fn record_output(&self, args: &[&str]) {
        if std::env::var_os(warg_depsolve_fixtures::run::INTEROP_DIR_ENV).is_none() {
            return;
        }
        let Some(command) = args.first() else { return };
        let output = args
            .windows(2)
            .find(|w| w[0] == "-o" || w[0] == "--output")
            .map(|w| w[1])
            .or_else(|| args.iter().find_map(|a| a.strip_prefix("--output=")));
        let Some(output) = output.filter(|o| *o != "-") else {
            return;
        };
        // Only a regular file (a test may write to a FIFO, a device, or a
        // symlink to one: reading it here would block or mean nothing).
        let path = self.dir.path().join(output);
        if !std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            return;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            return;
        };
        if bytes.starts_with(b"\0asm") {
            warg_depsolve_fixtures::run::record_component(&bytes, "outputs.jsonl", |name| {
                format!(r#"{{"component":"{name}","command":"{command}"}}"#)
            });
        }
    }

    /// Runs with `--format json` and expects success.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    /// Runs and expects failure with status 1; returns stderr, which must
    /// start with `error: ` and contain every needle.
    pub fn fails(&self, args: &[&str], needles: &[&str]) -> String {
        let out = self.run(args);
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?} should fail: {err}");
        assert!(err.starts_with("error: "), "{err}");
        for n in needles {
            assert!(err.contains(n), "{n:?} not in {err:?}");
        }
        err
    }

    pub fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).unwrap()
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.path(rel).exists()
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
