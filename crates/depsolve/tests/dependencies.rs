//! What a loader pulls in by depending on the library, read from
//! `cargo tree` (offline, against the committed lock file): with
//! `default-features = false`, none of the command line's or the network
//! backends' dependencies; with the default features, the OCI client but
//! still nothing of the command line's.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// What only the command line needs (argument parsing, its error type,
/// progress drawing, the signal handler), each with the packages allowed
/// to bring it all the same.
///
/// `anyhow` is wasm-compose's error type (its API returns
/// `anyhow::Result`), so it is in the tree of anything that composes, and
/// the warg protocol crates' (and prost's) too; what must not happen is one
/// of our crates depending on it.
const CLI_ONLY: &[(&str, &[&str])] = &[
    ("clap", &[]),
    (
        "anyhow",
        &[
            "wasm-compose",
            "warg-crypto",
            "warg-protocol",
            "warg-protobuf",
            "warg-transparency",
            "prost-derive",
        ],
    ),
    ("indicatif", &[]),
    ("ctrlc", &[]),
];

/// What the network features (`oci`, `warg`, default) bring: the OCI and
/// warg crates, their HTTP client and async runtime.
const NETWORK: &[&str] = &[
    "warg-depsolve-oci",
    "warg-depsolve-warg",
    "warg-protocol",
    "oci-client",
    "reqwest",
    "hyper",
    "rustls",
    "tokio",
];

/// Each package in `warg-depsolve`'s dependency tree through normal edges
/// (not build or dev ones), on any target, with the packages that depend on
/// it directly; `features` are given to cargo.
fn dependents(features: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--frozen", "--manifest-path"])
        .arg(&workspace)
        .args(["-p", "warg-depsolve", "-e", "normal", "--target", "all"])
        .args(["--prefix", "depth", "--format", "{p}"])
        .args(features)
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("cargo tree prints UTF-8");
    // Each line is `<depth><name> v<version> ...`; a package's parent is
    // the last package listed one level up.
    let mut path: Vec<String> = Vec::new();
    let mut dependents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let name_at = line
            .find(|c: char| !c.is_ascii_digit())
            .expect("a depth, then a package");
        let depth: usize = line[..name_at].parse().expect("a depth");
        let name = line[name_at..].split_whitespace().next().expect("a name");
        path.truncate(depth);
        let entry = dependents.entry(name.to_string()).or_default();
        if let Some(parent) = path.last() {
            entry.insert(parent.clone());
        }
        path.push(name.to_string());
    }
    // The tree starts at the library and reaches the compose crate: an
    // answer without them means the output was not what this reads.
    assert!(dependents.contains_key("warg-depsolve"), "{text}");
    assert!(dependents.contains_key("warg-depsolve-compose"), "{text}");
    dependents
}

/// The packages of `CLI_ONLY` in the tree that a package not allowed to
/// brings, each with its dependents.
fn cli_only(tree: &BTreeMap<String, BTreeSet<String>>) -> Vec<(&str, &BTreeSet<String>)> {
    CLI_ONLY
        .iter()
        .filter_map(|(name, allowed)| {
            let by = tree.get(*name)?;
            by.iter()
                .any(|d| !allowed.contains(&d.as_str()))
                .then_some((*name, by))
        })
        .collect()
}

fn network<'a>(tree: &BTreeMap<String, BTreeSet<String>>) -> Vec<&'a str> {
    NETWORK
        .iter()
        .copied()
        .filter(|name| tree.contains_key(*name))
        .collect()
}

#[test]
fn without_default_features_the_library_pulls_no_cli_or_network_dependency() {
    let tree = dependents(&["--no-default-features"]);
    assert_eq!(cli_only(&tree), []);
    assert_eq!(network(&tree), Vec::<&str>::new());
}

#[test]
fn the_default_features_pull_the_network_backends_and_nothing_of_the_cli() {
    let tree = dependents(&[]);
    // What the check above rejects is seen when it is there.
    assert_eq!(network(&tree), NETWORK);
    assert_eq!(cli_only(&tree), []);
}
