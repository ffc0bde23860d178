//! Unbundling compositions that carry no record: made by the wasm-compose
//! crate and the `wasm-tools` CLI, or one of our bundles with its record
//! removed. The recognised dependencies become locked imports, the rest
//! stays inline, and the locked form bundles back into a component that
//! runs under wasmtime's default configuration with the original values.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use warg_depsolve_compose::{
    has_record, recognise, Bundler, ComposeError, NestedForm, Packages, Recognised,
};
use warg_depsolve_fixtures::without_custom_sections;
use warg_depsolve_names::Integrity;
use warg_depsolve_registry::{LocalRegistry, MemorySource, Source};
use warg_depsolve_solver::Resolution;
use wasm_compose::graph::{Component, CompositionGraph, EncodeOptions};
use wasmparser::{Validator, WasmFeatures};

/// Composes `root` with the releases of `resolution` using the wasm-compose
/// crate (each component defined in the output, as `wasm-tools compose`
/// and wac do), wired as the resolution says, exporting the root's exports.
fn wasm_compose(root: &[u8], resolution: &Resolution, source: &dyn Source) -> Vec<u8> {
    let bytes: Vec<Vec<u8>> = warg_depsolve_compose::fetch_packages(resolution, source)
        .unwrap()
        .iter()
        .map(|b| b.to_vec())
        .collect();
    let mut validator = Validator::new_with_features(WasmFeatures::all());
    let mut graph = CompositionGraph::new();
    let mut instances = vec![None; resolution.packages.len()];
    let connect = |graph: &mut CompositionGraph,
                   instances: &[Option<_>],
                   edges: &[warg_depsolve_solver::Edge],
                   target| {
        for edge in edges {
            let source = instances[edge.target].unwrap();
            let export = edge.export.as_ref().map(|name| {
                let component = graph.get_component_of_instance(source).unwrap().1;
                component.export_by_name(name).unwrap().0
            });
            let import = {
                let component = graph.get_component_of_instance(target).unwrap().1;
                component.import_by_name(&edge.import).unwrap().0
            };
            graph.connect(source, export, target, import).unwrap();
        }
    };
    for i in resolution.dependency_order() {
        let name = format!("dep{i}");
        let component = Component::from_bytes(&mut validator, name, bytes[i].clone()).unwrap();
        let id = graph.add_component(component).unwrap();
        let instance = graph.instantiate(id).unwrap();
        connect(
            &mut graph,
            &instances,
            &resolution.packages[i].edges,
            instance,
        );
        instances[i] = Some(instance);
    }
    let component = Component::from_bytes(&mut validator, "root", root.to_vec()).unwrap();
    let id = graph.add_component(component).unwrap();
    let root_instance = graph.instantiate(id).unwrap();
    connect(
        &mut graph,
        &instances,
        &resolution.root_edges,
        root_instance,
    );
    graph
        .encode(EncodeOptions {
            define_components: true,
            export: Some(root_instance),
            validate: true,
        })
        .unwrap()
}

/// Validates, and checks that the locked form bundles back into a
/// component that validates on the default features too.
fn bundle_back(recognised: &Recognised, source: &dyn Source) -> Vec<u8> {
    Validator::new_with_features(WasmFeatures::all())
        .validate_all(&recognised.locked)
        .unwrap();
    let bundled = Bundler::from_locked(&recognised.locked, source)
        .to_vec()
        .unwrap();
    Validator::new().validate_all(&bundled).unwrap();
    bundled
}

fn recognised_labels(recognised: &Recognised) -> Vec<String> {
    recognised
        .packages
        .iter()
        .map(|p| format!("{}@{}", p.package, p.version))
        .collect()
}

#[test]
fn a_wasm_compose_composition_is_recognised_and_bundles_back() {
    let registry = registry();
    let (root, resolution) = resolved("meet");
    let composition = wasm_compose(&root, &resolution, &registry);
    assert!(!has_record(&composition).unwrap());
    // The exact path refuses it, as before.
    assert!(warg_depsolve_compose::unbundle(&composition).is_err());

    let (listings, reads) = (registry.listings(), registry.reads());
    let recognised = recognise(&composition, &registry).unwrap();
    // Each package the composition names (inc, five, add) is listed once,
    // and each of their 6 releases read at most twice (its digest, then
    // its bytes for the comparison of the root as a stripped release).
    let (listings, reads) = (registry.listings() - listings, registry.reads() - reads);
    println!("recognise: {listings} listings, {reads} release reads");
    assert_eq!(listings, 3);
    assert!(reads <= 12, "{reads}");
    let mut labels = recognised_labels(&recognised);
    labels.sort();
    assert_eq!(
        labels,
        ["test:add@1.1.0", "test:five@1.0.0", "test:inc@1.0.0"]
    );
    assert!(recognised
        .packages
        .iter()
        .all(|p| p.form == NestedForm::Verbatim));
    for p in &recognised.packages {
        let resolved = resolution
            .packages
            .iter()
            .find(|r| r.package == p.package)
            .unwrap();
        assert_eq!(p.digest, resolved.digest);
        assert!(p.digest.matches(&p.bytes));
    }
    // The root is no release: kept inline, and reported.
    assert_eq!(recognised.inline.len(), 1);
    assert_eq!(recognised.inline[0].digest, Integrity::sha256(&root));
    assert!(warg_depsolve_compose::is_locked_form(&recognised.locked).unwrap());

    let bundled = bundle_back(&recognised, &registry);
    assert_eq!(call2(&bundled, "full", 1, 2), 10);
    assert_eq!(call2(&bundled, "full", 10, 20), 37);
}

#[test]
fn a_diamond_composition_bundles_back_with_its_values() {
    let registry = registry();
    let (root, resolution) = resolved("app");
    let composition = wasm_compose(&root, &resolution, &registry);
    let recognised = recognise(&composition, &registry).unwrap();
    assert_eq!(recognised.packages.len(), resolution.packages.len());
    assert_eq!(recognised.inline.len(), 1);
    let bundled = bundle_back(&recognised, &registry);
    assert_eq!(call1(&bundled, "run", 1), 445);
}

/// One of our bundles whose record was removed: the nested releases are
/// stripped of their name attributes, and still recognised.
#[test]
fn our_bundle_without_its_record_is_recognised() {
    let registry = registry();
    let (root, resolution) = resolved("meet");
    let bundled = Bundler::from_root(&root, &resolution, Packages::Source(&registry))
        .to_vec()
        .unwrap();
    let stripped = without_custom_sections(&bundled);
    assert!(has_record(&bundled).unwrap());
    assert!(!has_record(&stripped).unwrap());

    let recognised = recognise(&stripped, &registry).unwrap();
    let mut labels = recognised_labels(&recognised);
    labels.sort();
    assert_eq!(
        labels,
        ["test:add@1.1.0", "test:five@1.0.0", "test:inc@1.0.0"]
    );
    // test:inc carries an `external-id`, which the bundle stripped.
    let inc = recognised
        .packages
        .iter()
        .find(|p| p.package.to_string() == "test:inc")
        .unwrap();
    assert_eq!(inc.form, NestedForm::Stripped);
    assert_eq!(recognised.inline.len(), 1);

    let again = bundle_back(&recognised, &registry);
    assert_eq!(call2(&again, "full", 1, 2), 10);
    // And the exact unbundle of the new bundle gives the same locked form.
    let exact = warg_depsolve_compose::unbundle(&again).unwrap();
    assert_eq!(exact.locked, recognised.locked);
}

fn wasm_tools() -> Option<PathBuf> {
    let scripts = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let mut dirs: Vec<PathBuf> = scripts.into_iter().collect();
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let found = dirs
        .into_iter()
        .map(|d| d.join("wasm-tools"))
        .find(|p| p.is_file());
    if found.is_none() {
        println!("notice: `wasm-tools` is not on PATH; skipping the CLI part of this test");
    }
    found
}

fn run_wasm_tools(tool: &Path, args: &[&str], dir: &Path) -> bool {
    let out = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    if !out.status.success() {
        println!(
            "notice: `wasm-tools {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out.status.success()
}

#[test]
fn our_bundle_after_wasm_tools_strip_is_recognised() {
    let Some(tool) = wasm_tools() else { return };
    let registry = registry();
    let (root, resolution) = resolved("meet");
    let bundled = Bundler::from_root(&root, &resolution, Packages::Source(&registry))
        .to_vec()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bundle.wasm"), &bundled).unwrap();
    // By default it keeps `name` sections; `--all` removes them too. Both
    // remove `component-name` at every level, so the nested releases are
    // no longer their bytes: recognised without custom sections.
    for args in [&["strip"][..], &["strip", "--all"][..]] {
        let mut args = args.to_vec();
        args.extend(["bundle.wasm", "-o", "stripped.wasm"]);
        assert!(run_wasm_tools(&tool, &args, dir.path()));
        let stripped = std::fs::read(dir.path().join("stripped.wasm")).unwrap();
        assert!(!has_record(&stripped).unwrap());
        let recognised = recognise(&stripped, &registry).unwrap();
        let mut labels = recognised_labels(&recognised);
        labels.sort();
        assert_eq!(
            labels,
            ["test:add@1.1.0", "test:five@1.0.0", "test:inc@1.0.0"],
            "{args:?}"
        );
        assert!(recognised
            .packages
            .iter()
            .all(|p| p.form == NestedForm::WithoutCustomSections));
        let again = bundle_back(&recognised, &registry);
        assert_eq!(call2(&again, "full", 1, 2), 10);
    }
}

/// `wasm-tools compose` (where the installed version still has the
/// subcommand) of the root with its dependencies as a directory of
/// components named like its imports.
#[test]
fn a_wasm_tools_compose_composition_is_recognised() {
    let Some(tool) = wasm_tools() else { return };
    let dir = tempfile::tempdir().unwrap();
    let help = Command::new(&tool)
        .args(["compose", "--help"])
        .output()
        .unwrap();
    if !help.status.success() {
        println!("notice: this `wasm-tools` has no `compose` subcommand; the wasm-compose crate tests cover it");
        return;
    }
    let registry = registry();
    // test:left imports `base` (a declared dependency of test:base 1.x).
    let left = registry_release(&registry, "test:left", "1.0.0");
    let base = registry_release(&registry, "test:base", "1.2.0");
    std::fs::write(dir.path().join("left.wasm"), &left).unwrap();
    std::fs::write(dir.path().join("base.wasm"), &base).unwrap();
    // Its search path is the root's directory: `base.wasm` satisfies the
    // import named `base`.
    std::fs::write(
        dir.path().join("compose.yml"),
        "dependencies:\n  base: base.wasm\n",
    )
    .unwrap();
    assert!(run_wasm_tools(
        &tool,
        &[
            "compose",
            "left.wasm",
            "-c",
            "compose.yml",
            "-o",
            "composed.wasm"
        ],
        dir.path(),
    ));
    let composed = std::fs::read(dir.path().join("composed.wasm")).unwrap();
    let recognised = recognise(&composed, &registry).unwrap();
    let labels = recognised_labels(&recognised);
    assert!(
        labels.contains(&"test:base@1.2.0".to_string()),
        "{labels:?}"
    );
    let again = bundle_back(&recognised, &registry);
    // left(x) = base(x) + 1, base 1.2.0: x + 120.
    assert_eq!(call1(&again, "left", 1), 122);
}

fn registry_release(registry: &LocalRegistry, package: &str, version: &str) -> Vec<u8> {
    let package = package.parse().unwrap();
    let version = version.parse().unwrap();
    let digest = registry
        .metadata(&package, &version)
        .unwrap()
        .digest
        .clone();
    registry
        .fetch(&package, &version, &digest)
        .unwrap()
        .into_bytes()
        .to_vec()
}

/// A registry that lacks one of the nested releases: it stays inline, is
/// reported, and the output still bundles back and runs.
#[test]
fn a_release_no_registry_has_stays_inline() {
    let registry = registry();
    let (root, resolution) = resolved("meet");
    let composition = wasm_compose(&root, &resolution, &registry);
    let partial = MemorySource::new("partial");
    for p in resolution
        .packages
        .iter()
        .filter(|p| p.package.name() != "five")
    {
        let bytes = registry_release(&registry, &p.package.to_string(), &p.version.to_string());
        partial.add(&p.package, &p.version, bytes).unwrap();
    }
    let recognised = recognise(&composition, &partial).unwrap();
    let mut labels = recognised_labels(&recognised);
    labels.sort();
    assert_eq!(labels, ["test:add@1.1.0", "test:inc@1.0.0"]);
    let five = resolution
        .packages
        .iter()
        .find(|p| p.package.name() == "five")
        .unwrap();
    let inline: Vec<_> = recognised.inline.iter().map(|c| c.digest.clone()).collect();
    assert!(inline.contains(&five.digest), "{inline:?}");
    assert!(inline.contains(&Integrity::sha256(&root)));
    let bundled = bundle_back(&recognised, &partial);
    assert_eq!(call2(&bundled, "full", 1, 2), 10);
}

#[test]
fn bad_inputs_are_errors() {
    let registry = registry();
    assert!(matches!(
        recognise(b"not wasm at all", &registry),
        Err(ComposeError::NotAComponent(_))
    ));
    let (root, resolution) = resolved("meet");
    let composition = wasm_compose(&root, &resolution, &registry);
    let truncated = &composition[..composition.len() / 2];
    assert!(recognise(truncated, &registry).is_err());
    // A bundle with its record goes the exact way.
    let bundled = Bundler::from_root(&root, &resolution, Packages::Source(&registry))
        .to_vec()
        .unwrap();
    assert!(matches!(
        recognise(&bundled, &registry),
        Err(ComposeError::Record(_))
    ));
}

/// A registry that cannot be read is an error naming the package asked
/// about, its cause the source's error.
#[test]
fn an_unreadable_registry_is_an_error_naming_the_package() {
    let (root, resolution) = resolved("meet");
    let composition = wasm_compose(&root, &resolution, &registry());
    let dir = tempfile::tempdir().unwrap();
    // `test` is a file: listing any `test:*` package fails.
    std::fs::write(dir.path().join("test"), b"not a directory").unwrap();
    let broken = LocalRegistry::new("broken", dir.path());
    let err = recognise(&composition, &broken).unwrap_err();
    let ComposeError::Fetch { package, .. } = &err else {
        panic!("expected a fetch error, got {err:?}");
    };
    assert!(package.starts_with("test:"), "{package}");
    let cause = std::error::Error::source(&err).unwrap().to_string();
    assert!(!err.to_string().contains(&cause));
}

/// A composition whose later sections refer to a top-level type defined
/// after the recognised release (a type ascription at the top level, an
/// outer alias in a nested component): each reference is shifted past
/// the inserted component type, so the locked form validates and runs.
#[test]
fn references_to_later_types_are_shifted_past_the_inserted_type() {
    let registry = registry();
    let base = registry_release(&registry, "test:base", "1.2.0");
    // Type 0, then the release as component 0.
    let before = wat::parse_str(r#"(component (type (func (param "a" u32))))"#).unwrap();
    // Numeric indices count what `before` and the release define.
    let after = wat::parse_str(
        r#"(component
            (type (func (param "x" u32) (result u32)))
            (component
                (alias outer 1 1 (type))
                (import "f" (func (type 0)))
                (export "g" (func 0)))
            (instance (instantiate 0))
            (alias export 0 "base" (func))
            (instance (instantiate 1 (with "f" (func 0))))
            (alias export 1 "g" (func))
            (export "run" (func 1) (func (type 1))))"#,
    )
    .unwrap();
    let mut composition = before.clone();
    composition.push(4);
    let mut n = base.len();
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            composition.push(b);
            break;
        }
        composition.push(b | 0x80);
    }
    composition.extend_from_slice(&base);
    composition.extend_from_slice(&after[8..]);
    Validator::new_with_features(WasmFeatures::all())
        .validate_all(&composition)
        .unwrap();

    let recognised = recognise(&composition, &registry).unwrap();
    assert_eq!(recognised_labels(&recognised), ["test:base@1.2.0"]);
    assert_eq!(recognised.packages[0].section, 1);
    // The user component reaches the outer type space: re-encoded; kept inline.
    assert_eq!(recognised.inline.len(), 1);
    let bundled = bundle_back(&recognised, &registry);
    assert_eq!(call1(&bundled, "run", 1), 121);
}
