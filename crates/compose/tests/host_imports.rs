//! Host imports that the root and its dependencies share: resources that
//! cross between members, subsets and unions of one instance, versions of
//! one interface, and genuine mismatches. Each bundle is run under
//! wasmtime's default configuration with a host that defines the resource.

mod common;

use common::*;
use warg_depsolve_compose::{lock, unbundle, Bundler, ComposeError, Packages};
use warg_depsolve_names::scan::scan;
use warg_depsolve_registry::MemorySource;
use wasmparser::{Validator, WasmFeatures};
use wasmtime::component::{Component, Linker, Resource, ResourceType};
use wasmtime::Store;

/// The provider `x:y@1.0.0`: imports `wasi:io/poll@<version>` (the
/// `pollable` resource, `make` and `id`) and exports `x:y/i@1.0.0` with
/// `check(p: borrow<pollable>) = id(p) + 1000` and
/// `open(n) -> own<pollable> = make(2n)`: its exports' signatures use the
/// host's resource, in both borrowed and owned form.
fn provider(version: &str, make_param: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(component
  (import "wasi:io/poll@{version}" (instance $poll
    (export "pollable" (type (sub resource)))
    (export "make" (func (param "n" {make_param}) (result (own 0))))
    (export "id" (func (param "p" (borrow 0)) (result u32)))))
  (alias export $poll "pollable" (type $pollable))
  (core func $make (canon lower (func $poll "make")))
  (core func $id (canon lower (func $poll "id")))
  (core func $drop (canon resource.drop $pollable))
  (core module $m
    (import "host" "make" (func $make (param {make_core}) (result i32)))
    (import "host" "id" (func $id (param i32) (result i32)))
    (import "host" "drop" (func $drop (param i32)))
    (func (export "check") (param $h i32) (result i32)
      (local $r i32)
      (local.set $r (i32.add (call $id (local.get $h)) (i32.const 1000)))
      (call $drop (local.get $h))
      (local.get $r))
    (func (export "open") (param $n i32) (result i32)
      (call $make {extend})))
  (core instance $host (export "make" (func $make)) (export "id" (func $id))
    (export "drop" (func $drop)))
  (core instance $i (instantiate $m (with "host" (instance $host))))
  (func $check (param "p" (borrow $pollable)) (result u32)
    (canon lift (core func $i "check")))
  (func $open (param "n" u32) (result (own $pollable))
    (canon lift (core func $i "open")))
  (instance $e (export "check" (func $check)) (export "open" (func $open)))
  (export "x:y/i@1.0.0" (instance $e)))"#,
        make_core = if make_param == "u64" { "i64" } else { "i32" },
        extend = if make_param == "u64" {
            "(i64.extend_i32_u (i32.mul (local.get $n) (i32.const 2)))"
        } else {
            "(i32.mul (local.get $n) (i32.const 2))"
        },
    ))
    .unwrap()
}

/// The root: imports `wasi:io/poll@<version>` (only `pollable` and `make`,
/// a subset of what the provider imports) and the provider's interface,
/// whose functions take and return the root's own `pollable`. Exports
/// `run(n) = check(make(n)) + check(open(n)) = (n + 1000) + (2n + 1000)`.
fn root(version: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(component $root
  (import "wasi:io/poll@{version}" (instance $poll
    (export "pollable" (type (sub resource)))
    (export "make" (func (param "n" u32) (result (own 0))))))
  (alias export $poll "pollable" (type $pollable))
  (import "x:y/i@1.0.0" (instance $dep
    (alias outer $root $pollable (type $p))
    (export "check" (func (param "p" (borrow $p)) (result u32)))
    (export "open" (func (param "n" u32) (result (own $p))))))
  (core func $make (canon lower (func $poll "make")))
  (core func $check (canon lower (func $dep "check")))
  (core func $open (canon lower (func $dep "open")))
  (core func $drop (canon resource.drop $pollable))
  (core module $m
    (import "host" "make" (func $make (param i32) (result i32)))
    (import "host" "check" (func $check (param i32) (result i32)))
    (import "host" "open" (func $open (param i32) (result i32)))
    (import "host" "drop" (func $drop (param i32)))
    (func (export "run") (param $n i32) (result i32)
      (local $h i32) (local $r i32)
      (local.set $h (call $make (local.get $n)))
      (local.set $r (call $check (local.get $h)))
      (call $drop (local.get $h))
      (local.set $h (call $open (local.get $n)))
      (local.set $r (i32.add (local.get $r) (call $check (local.get $h))))
      (call $drop (local.get $h))
      (local.get $r)))
  (core instance $host (export "make" (func $make)) (export "check" (func $check))
    (export "open" (func $open)) (export "drop" (func $drop)))
  (core instance $i (instantiate $m (with "host" (instance $host))))
  (func (export "run") (param "n" u32) (result u32)
    (canon lift (core func $i "run"))))"#
    ))
    .unwrap()
}

fn source_with(provider: Vec<u8>) -> MemorySource {
    let source = MemorySource::new("memory");
    source
        .add(&"x:y".parse().unwrap(), &"1.0.0".parse().unwrap(), provider)
        .unwrap();
    source
}

fn import_names(bytes: &[u8]) -> Vec<String> {
    scan(bytes)
        .unwrap()
        .imports
        .into_iter()
        .map(|i| i.name.name)
        .collect()
}

/// The host's pollable: its representation is the number it was made from.
struct Pollable;

/// Runs `run(n)` of `bytes`, with the host defining every interface in
/// `versions` as `pollable` + `make(n)` + `id(p)` (one host resource type
/// for all of them, as a WASI host serves every 0.2.x from one
/// implementation).
fn run_with_host(bytes: &[u8], versions: &[&str], n: u32) -> u32 {
    let engine = engine();
    let component = Component::new(&engine, bytes).unwrap();
    let mut linker: Linker<()> = Linker::new(&engine);
    for version in versions {
        let mut root = linker.root();
        let mut poll = root.instance(&format!("wasi:io/poll@{version}")).unwrap();
        poll.resource("pollable", ResourceType::host::<Pollable>(), |_, _| Ok(()))
            .unwrap();
        poll.func_wrap("make", |_, (n,): (u32,)| {
            Ok((Resource::<Pollable>::new_own(n),))
        })
        .unwrap();
        poll.func_wrap("id", |_, (p,): (Resource<Pollable>,)| Ok((p.rep(),)))
            .unwrap();
    }
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let run = instance
        .get_typed_func::<(u32,), (u32,)>(&mut store, "run")
        .unwrap();
    run.call(&mut store, (n,)).unwrap().0
}

fn validates(bytes: &[u8]) {
    Validator::new().validate_all(bytes).unwrap();
}

/// The reproduction from the issue: both components import one host
/// instance that exports a resource. They share one import of the output.
#[test]
fn a_shared_resource_import_is_one_import() {
    let provider = wat::parse_str(
        r#"(component
            (import "wasi:io/poll@0.2.0" (instance (export "pollable" (type (sub resource)))))
            (instance $e)
            (export "x:y/i@1.0.0" (instance $e)))"#,
    )
    .unwrap();
    let root = wat::parse_str(
        r#"(component
            (import "wasi:io/poll@0.2.0" (instance (export "pollable" (type (sub resource)))))
            (import "x:y/i@1.0.0" (instance)))"#,
    )
    .unwrap();
    let source = source_with(provider);
    let resolution = resolve_bytes(&source, "root", &root);
    let out = Bundler::from_root(&root, &resolution, Packages::Source(&source))
        .to_vec()
        .unwrap();
    validates(&out);
    assert_eq!(import_names(&out), ["wasi:io/poll@0.2.0"]);
}

/// Resources cross between members: the root makes a pollable and lends it
/// to the provider (`borrow`), the provider makes one and gives it to the
/// root (`own`). One host resource type serves both, and the values prove
/// each call reached the host.
#[test]
fn resources_cross_between_members_and_the_bundle_runs() {
    let root = root("0.2.0");
    let source = source_with(provider("0.2.0", "u32"));
    let resolution = resolve_bytes(&source, "root", &root);
    let out = Bundler::from_root(&root, &resolution, Packages::Source(&source))
        .to_vec()
        .unwrap();
    validates(&out);
    assert_eq!(import_names(&out), ["wasi:io/poll@0.2.0"]);
    // (5 + 1000) + (10 + 1000)
    assert_eq!(run_with_host(&out, &["0.2.0"], 5), 2015);

    // The locked form carries the same host import, and unbundling gives
    // it back exactly.
    let locked = lock(&root, &resolution, &source).unwrap();
    Validator::new_with_features(WasmFeatures::all())
        .validate_all(&locked)
        .unwrap();
    assert!(import_names(&locked).contains(&"wasi:io/poll@0.2.0".to_string()));
    let unbundled = unbundle(&out).unwrap();
    assert_eq!(unbundled.locked, locked);
}

/// The root imports `pollable` and `make`, the provider also `id`: the
/// output imports the union, which the provider's instantiation inside the
/// bundle needs (the bundle would not validate otherwise).
#[test]
fn members_importing_subsets_get_the_union() {
    let root = root("0.2.0");
    let source = source_with(provider("0.2.0", "u32"));
    let resolution = resolve_bytes(&source, "root", &root);
    let out = Bundler::from_root(&root, &resolution, Packages::Source(&source))
        .to_vec()
        .unwrap();
    let types = Validator::new().validate_all(&out).unwrap();
    let import = types
        .component_item_for_import("wasi:io/poll@0.2.0")
        .unwrap();
    let wasmparser::component_types::ComponentEntityType::Instance(id) = import.ty else {
        panic!("not an instance: {:?}", import.ty)
    };
    let mut exports: Vec<_> = types[id].exports.keys().map(|k| k.to_string()).collect();
    exports.sort();
    assert_eq!(exports, ["id", "make", "pollable"]);
}

/// The same name at types that cannot be one import still fails, naming
/// both members and the export that differs.
#[test]
fn a_genuine_mismatch_still_fails() {
    let root = root("0.2.0");
    let source = source_with(provider("0.2.0", "u64"));
    let resolution = resolve_bytes(&source, "root", &root);
    let err = Bundler::from_root(&root, &resolution, Packages::Source(&source))
        .to_vec()
        .unwrap_err();
    let ComposeError::HostImportConflict {
        name,
        first,
        second,
        message,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(name, "wasi:io/poll@0.2.0");
    assert_eq!(first, "x:y@1.0.0");
    assert!(second.contains("root"), "{second}");
    assert!(message.contains("make"), "{message}");
}

/// The root imports `wasi:io/poll@0.2.0`, the provider `@0.2.1`: one
/// canonical track, so the output imports the interface once, at 0.2.1,
/// and the resources the members pass each other are one type. The host
/// serves only 0.2.1. Inside, each member keeps its own import names: the
/// locked form describes the registry's bytes, and unbundling restores
/// them exactly.
#[test]
fn semver_compatible_versions_merge_at_the_higher() {
    let root = root("0.2.0");
    let source = source_with(provider("0.2.1", "u32"));
    let resolution = resolve_bytes(&source, "root", &root);
    let out = Bundler::from_root(&root, &resolution, Packages::Source(&source))
        .to_vec()
        .unwrap();
    validates(&out);
    assert_eq!(import_names(&out), ["wasi:io/poll@0.2.1"]);
    assert_eq!(run_with_host(&out, &["0.2.1"], 5), 2015);

    let locked = lock(&root, &resolution, &source).unwrap();
    Validator::new_with_features(WasmFeatures::all())
        .validate_all(&locked)
        .unwrap();
    let unbundled = unbundle(&out).unwrap();
    assert_eq!(unbundled.locked, locked);
    assert_eq!(
        &unbundled.packages[0].bytes[..],
        &provider("0.2.1", "u32")[..]
    );
}

/// A provider that only uses the host interface itself (no resource in its
/// exports), for cases where the two versions may stay apart.
fn provider_keeping_to_itself(version: &str, make_param: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(component
            (import "wasi:io/poll@{version}" (instance
              (export "pollable" (type (sub resource)))
              (export "make" (func (param "n" {make_param}) (result (own 0))))))
            (instance $e)
            (export "x:y/i@1.0.0" (instance $e)))"#
    ))
    .unwrap()
}

/// A root that imports the host interface and the provider's empty one.
fn root_keeping_to_itself(version: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(component
            (import "wasi:io/poll@{version}" (instance
              (export "pollable" (type (sub resource)))
              (export "make" (func (param "n" u32) (result (own 0))))))
            (import "x:y/i@1.0.0" (instance)))"#
    ))
    .unwrap()
}

/// Two versions of one track whose types do not allow one import (`make`
/// takes a `u32` in one, a `u64` in the other) stay two imports.
#[test]
fn versions_whose_types_differ_stay_apart() {
    let root = root_keeping_to_itself("0.2.0");
    let source = source_with(provider_keeping_to_itself("0.2.1", "u64"));
    let resolution = resolve_bytes(&source, "root", &root);
    let out = Bundler::from_root(&root, &resolution, Packages::Source(&source))
        .to_vec()
        .unwrap();
    validates(&out);
    let mut names = import_names(&out);
    names.sort();
    assert_eq!(names, ["wasi:io/poll@0.2.0", "wasi:io/poll@0.2.1"]);
}

/// Versions on different canonical tracks are different interfaces: never
/// merged.
#[test]
fn other_tracks_are_not_merged() {
    let root = root_keeping_to_itself("0.2.0");
    let source = source_with(provider_keeping_to_itself("0.3.0", "u32"));
    let resolution = resolve_bytes(&source, "root", &root);
    let out = Bundler::from_root(&root, &resolution, Packages::Source(&source))
        .to_vec()
        .unwrap();
    validates(&out);
    let mut names = import_names(&out);
    names.sort();
    assert_eq!(names, ["wasi:io/poll@0.2.0", "wasi:io/poll@0.3.0"]);
}

/// A member that imports two lower versions of one interface keeps both
/// (renaming both to the higher would give it two imports of one name).
#[test]
fn a_member_with_two_versions_of_one_interface_keeps_them() {
    let root = wat::parse_str(
        r#"(component
            (import "wasi:io/poll@0.2.0" (instance (export "pollable" (type (sub resource)))))
            (import "wasi:io/poll@0.2.1" (instance (export "pollable" (type (sub resource)))))
            (import "x:y/i@1.0.0" (instance)))"#,
    )
    .unwrap();
    let source = source_with(provider_keeping_to_itself("0.2.3", "u32"));
    let resolution = resolve_bytes(&source, "root", &root);
    let out = Bundler::from_root(&root, &resolution, Packages::Source(&source))
        .to_vec()
        .unwrap();
    validates(&out);
    let mut names = import_names(&out);
    names.sort();
    assert_eq!(
        names,
        [
            "wasi:io/poll@0.2.0",
            "wasi:io/poll@0.2.1",
            "wasi:io/poll@0.2.3"
        ]
    );
}
