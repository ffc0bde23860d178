//! `bundle` over small generated component graphs (see `src/graph.rs`):
//! releases and a root drawn from the input are published to a
//! `MemorySource`, resolved with the real solver, and bundled. A solver
//! error is an answer; a bundle must validate with wasmparser's default
//! features, and unbundle to the locked form and the registry's bytes,
//! which bundle again to the same bytes (the documented round trips).
#![no_main]

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;

use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use warg_depsolve_compose::{lock, unbundle, Bundler, ComposeError, Packages};
use warg_depsolve_fuzz::graph::Graph;
use warg_depsolve_registry::{MemorySource, ReleaseMetadata};
use warg_depsolve_solver::{resolve, LockFile, Root, SolveOptions};
use wasmparser::Validator;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(graph) = Graph::arbitrary(&mut u) else {
        return;
    };
    if show() {
        eprintln!("{graph:#?}");
        for (index, releases) in graph.packages.iter().enumerate() {
            for release in releases {
                eprintln!(
                    "fz:p{index}@{}:\n{}",
                    release.version,
                    Graph::release_wat(index, release)
                );
            }
        }
        eprintln!("root:\n{}", graph.root_wat());
    }
    let source = MemorySource::new("fuzz");
    for (index, releases) in graph.packages.iter().enumerate() {
        for release in releases {
            let wat = Graph::release_wat(index, release);
            source
                .add(&Graph::package_name(index), &release.version, compile(&wat))
                .unwrap_or_else(|e| panic!("a generated release is refused: {e}\n{wat}"));
        }
    }
    let root = compile(&graph.root_wat());
    let meta = ReleaseMetadata::from_component(
        &"root:root".parse().expect("a package name"),
        &"0.0.0".parse().expect("a version"),
        &root,
    )
    .expect("the generated root scans");
    let resolution = match resolve(
        &source,
        &Root::new("root", meta.dependencies),
        &SolveOptions::default(),
    ) {
        Ok(resolution) => resolution,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            if show() {
                eprintln!("solver error: {e}");
            }
            return;
        }
    };

    // The lock file of the resolution is byte-stable.
    let text = LockFile::from_resolution(&resolution).to_toml();
    assert_eq!(
        LockFile::parse(&text)
            .expect("a written lock parses")
            .to_toml(),
        text
    );

    let bundled = match Bundler::from_root(&root, &resolution, Packages::Source(&source)).to_vec() {
        Ok(bundled) => bundled,
        Err(e) => {
            assert!(acceptable(&e), "{e}\n{graph:#?}");
            if show() {
                eprintln!("bundle error: {e}");
            }
            return;
        }
    };
    if let Err(e) = Validator::new().validate_all(&bundled) {
        panic!("the bundle does not validate with default features: {e}\n{graph:#?}");
    }
    let unbundled = unbundle(&bundled).expect("a bundle unbundles");
    let locked = lock(&root, &resolution, &source).expect("what bundles also locks");
    assert_eq!(unbundled.locked, locked);
    // Each extracted package is a resolved release, with its digest.
    for package in &unbundled.packages {
        assert!(
            resolution
                .packages
                .iter()
                .any(|p| p.package == package.package
                    && p.version == package.version
                    && p.digest == package.digest),
            "{}@{} was not resolved",
            package.package,
            package.version
        );
    }
    assert_eq!(
        Bundler::from_locked(&unbundled.locked, &source).to_vec().expect("the locked form bundles"),
        bundled
    );
});

/// `FUZZ_SHOW=1`: print each input's graph, its components and the error
/// it ends in (to replay a finding:
/// `FUZZ_SHOW=1 fuzz/target/<triple>/release/bundle CRASH`).
fn show() -> bool {
    static SHOW: OnceLock<bool> = OnceLock::new();
    *SHOW.get_or_init(|| std::env::var_os("FUZZ_SHOW").is_some())
}

thread_local! {
    /// Compiled WAT by text: the generator draws from few shapes, and the
    /// text parser is not what this target tests.
    static COMPILED: RefCell<HashMap<String, Vec<u8>>> = RefCell::new(HashMap::new());
}

fn compile(wat: &str) -> Vec<u8> {
    COMPILED.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(bytes) = cache.get(wat) {
            return bytes.clone();
        }
        if cache.len() > 100_000 {
            cache.clear();
        }
        let bytes = wat::parse_str(wat).unwrap_or_else(|e| panic!("{e}\n{wat}"));
        cache.insert(wat.to_string(), bytes.clone());
        bytes
    })
}

/// Errors that answer a generated graph rather than betray a bug: anything
/// but an invalid output or a digest mismatch (the source is honest).
fn acceptable(e: &ComposeError) -> bool {
    !matches!(
        e,
        ComposeError::InvalidOutput { .. } | ComposeError::DigestMismatch { .. }
    )
}
