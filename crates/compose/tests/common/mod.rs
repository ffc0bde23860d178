//! Shared helpers: the fixture registry, roots, the real solver, wasmtime.
#![allow(dead_code)]

use std::path::PathBuf;

use warg_depsolve_registry::{LocalRegistry, Source};
use warg_depsolve_solver::{resolve, Resolution, Root, SolveOptions};
use wasmtime::{Config, Engine};

pub fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// The committed fixture registry (wkg local layout).
pub fn registry() -> LocalRegistry {
    LocalRegistry::new("local", testdata().join("registry"))
}

/// A root component compiled from `testdata/roots/<name>.wat`.
pub fn root(name: &str) -> Vec<u8> {
    wat::parse_file(testdata().join("roots").join(format!("{name}.wat"))).unwrap()
}

/// Resolves `bytes` (a root named `name`) against `source` with the solver.
pub fn resolve_bytes(source: &dyn Source, name: &str, bytes: &[u8]) -> Resolution {
    let root = Root::from_component(name, bytes).unwrap();
    resolve(source, &root, &SolveOptions::default()).unwrap()
}

/// Root bytes and their resolution against the fixture registry.
pub fn resolved(name: &str) -> (Vec<u8>, Resolution) {
    let bytes = root(name);
    let resolution = resolve_bytes(&registry(), name, &bytes);
    (bytes, resolution)
}

/// wasmtime on its DEFAULT configuration.
pub fn engine() -> Engine {
    Engine::new(&Config::new()).unwrap()
}

// Not every test binary that includes this module runs a bundle.
#[allow(unused_imports)]
pub use warg_depsolve_fixtures::run::{call1, call2};
