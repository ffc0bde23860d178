//! Shared helpers: the fixture registry, roots, the real solver, wasmtime.
#![allow(dead_code)]

use std::path::PathBuf;

use warg_depsolve_registry::{LocalRegistry, ReleaseMetadata, Source};
use warg_depsolve_solver::{resolve, Resolution, Root, SolveOptions};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store};

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
    let meta = ReleaseMetadata::from_component(
        &"root:root".parse().unwrap(),
        &"0.0.0".parse().unwrap(),
        bytes,
    )
    .unwrap();
    let root = Root::new(name, meta.dependencies);
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

/// Instantiates `bytes` with no imports and calls `func(a, b)`.
pub fn call2(bytes: &[u8], func: &str, a: u32, b: u32) -> u32 {
    let engine = engine();
    let component = Component::new(&engine, bytes).unwrap();
    let linker: Linker<()> = Linker::new(&engine);
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let f = instance
        .get_typed_func::<(u32, u32), (u32,)>(&mut store, func)
        .unwrap();
    f.call(&mut store, (a, b)).unwrap().0
}

/// Instantiates `bytes` with no imports and calls `func(x)`.
pub fn call1(bytes: &[u8], func: &str, x: u32) -> u32 {
    let engine = engine();
    let component = Component::new(&engine, bytes).unwrap();
    let linker: Linker<()> = Linker::new(&engine);
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let f = instance
        .get_typed_func::<(u32,), (u32,)>(&mut store, func)
        .unwrap();
    f.call(&mut store, (x,)).unwrap().0
}
