//! The no-solution explanation, checked word for word: it is what a person
//! reads when nothing fits, so its wording is part of the interface.

use std::path::PathBuf;

use warg_depsolve_registry::MemorySource;
use warg_depsolve_solver::{resolve, Root, SolveError, SolveOptions};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The fixture registry without `test:top@1.0.0`: the only `top` left needs
/// base `>=1.2.0` while `low` needs base `<1.2.0`, both on base's 1.x track.
fn registry_without_old_top() -> MemorySource {
    let source = MemorySource::new("local");
    for (name, version) in [
        ("base", "1.0.0"),
        ("base", "1.2.0"),
        ("base", "2.0.0"),
        ("top", "1.1.0"),
        ("low", "1.0.0"),
    ] {
        let path = repo().join(format!("testdata/registry/test/{name}/{version}.wasm"));
        let bytes = std::fs::read(&path).unwrap();
        source
            .add(
                &format!("test:{name}").parse().unwrap(),
                &version.parse().unwrap(),
                bytes,
            )
            .unwrap();
    }
    source
}

fn backtrack_root() -> Root {
    let bytes = wat::parse_file(repo().join("testdata/roots/backtrack.wat")).unwrap();
    Root::from_component("backtrack.wat", &bytes).unwrap()
}

#[test]
fn no_solution_report_reads_well() {
    let err = resolve(
        &registry_without_old_top(),
        &backtrack_root(),
        &SolveOptions::default(),
    )
    .unwrap_err();
    let SolveError::NoSolution { report } = &err else {
        panic!("{err}")
    };
    let expected = "\
Because test:top 1.1.0 imports test:base >=1.2.0 <2.0.0 and test:low 1.0.0 imports test:base >=1.0.0 <1.2.0, \
test:low 1.0.0 and test:top 1.1.0 cannot be used together.
And because `backtrack.wat` imports test:top >=1.0.0 and `backtrack.wat` imports test:low >=1.0.0, \
the imports of `backtrack.wat` cannot all be satisfied.
test:base has 1.0.0, 1.2.0, 2.0.0
test:low has 1.0.0
test:top has 1.1.0";
    assert_eq!(report, expected, "\n--- got ---\n{report}\n");
}

/// A range that no release meets: the report says what does exist.
#[test]
fn a_range_no_release_meets_lists_the_releases() {
    let bytes = wat::parse_str(
        r#"(component (import "top" (external-id "unlocked-dep=<test:top@{>=3.0.0}>") (instance)))"#,
    )
    .unwrap();
    let root = Root::from_component("too-new.wat", &bytes).unwrap();
    let err = resolve(&registry_without_old_top(), &root, &SolveOptions::default()).unwrap_err();
    let SolveError::NoSolution { report } = &err else {
        panic!("{err}")
    };
    assert_eq!(
        report,
        "`too-new.wat` imports test:top >=3.0.0\ntest:top has 1.1.0"
    );
}
