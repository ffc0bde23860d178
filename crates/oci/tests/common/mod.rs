//! Shared helpers: a real OCI registry server (`server.rs`), a loopback
//! proxy in front of it (`proxy.rs`), the fixture
//! registry, the solver and wasmtime.
#![allow(dead_code)]

mod proxy;
mod server;
#[allow(unused_imports)]
pub use proxy::*;
#[allow(unused_imports)]
pub use server::*;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use warg_depsolve_registry::progress::{Download, Progress};
use warg_depsolve_registry::{ReleaseMetadata, Source};
use warg_depsolve_solver::{resolve, Resolution, Root, SolveOptions};

pub fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// Every fixture release: (package, version, bytes).
pub fn fixtures() -> Vec<(String, String, Vec<u8>)> {
    let mut out = Vec::new();
    let root = testdata().join("registry/test");
    let mut names: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for dir in names {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let Some(version) = file
                .file_name()
                .unwrap()
                .to_string_lossy()
                .strip_suffix(".wasm")
                .map(str::to_string)
            else {
                continue;
            };
            out.push((
                format!("test:{name}"),
                version,
                std::fs::read(&file).unwrap(),
            ));
        }
    }
    out
}

/// Publishes every fixture to `source`.
pub fn publish_fixtures(source: &dyn Source) {
    let publisher = source.publisher().expect("a source that publishes");
    for (package, version, bytes) in fixtures() {
        publisher
            .publish(&package.parse().unwrap(), &version.parse().unwrap(), &bytes)
            .unwrap();
    }
}

/// A root component compiled from `testdata/roots/<name>.wat`.
pub fn root(name: &str) -> Vec<u8> {
    wat::parse_file(testdata().join("roots").join(format!("{name}.wat"))).unwrap()
}

/// Resolves `bytes` (a root named `name`) against `source` with the solver.
pub fn resolve_bytes(source: &dyn Source, name: &str, bytes: &[u8]) -> Resolution {
    let meta = ReleaseMetadata::from_component(
        &"root:root".parse().unwrap(),
        &"0.0.0".parse().unwrap(),
        bytes,
    )
    .unwrap();
    let root = Root::new(name, meta.dependencies);
    resolve(source, &root, &SolveOptions::default()).unwrap()
}

/// Every file under `dir` (recursively), relative paths.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let path = e.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

// Not every test binary that includes this module runs a bundle.
#[allow(unused_imports)]
pub use warg_depsolve_fixtures::run::call2;

/// One download as a source reported it to a [`Recorder`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reported {
    /// The registry's name.
    pub registry: String,
    /// `package@version`, or `package`.
    pub item: String,
    /// The size the registry announced.
    pub total: Option<u64>,
    /// The last count of bytes received.
    pub received: u64,
    /// `Some(true)` finished, `Some(false)` abandoned, `None` still going.
    pub finished: Option<bool>,
}

/// A [`Progress`] that keeps every download's report, in the order the
/// downloads began.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<Reported>>>);

impl Recorder {
    /// The reports so far.
    pub fn reports(&self) -> Vec<Reported> {
        self.0.lock().unwrap().clone()
    }
}

impl Progress for Recorder {
    fn download(&self, registry: &str, item: &str, total: Option<u64>) -> Box<dyn Download> {
        let mut all = self.0.lock().unwrap();
        all.push(Reported {
            registry: registry.to_string(),
            item: item.to_string(),
            total,
            received: 0,
            finished: None,
        });
        Box::new(Recorded(self.0.clone(), all.len() - 1))
    }
}

/// The [`Download`] of the recorder's report at this index.
struct Recorded(Arc<Mutex<Vec<Reported>>>, usize);

impl Recorded {
    fn update(&self, f: impl FnOnce(&mut Reported)) {
        f(&mut self.0.lock().unwrap()[self.1]);
    }
}

impl Download for Recorded {
    fn received(&mut self, bytes: u64) {
        self.update(|r| r.received = bytes);
    }

    fn finish(self: Box<Self>) {
        self.update(|r| r.finished = Some(true));
    }

    fn abandon(self: Box<Self>) {
        self.update(|r| r.finished = Some(false));
    }
}
