//! Small component graphs drawn from fuzz input, for the `bundle` target.
//!
//! A graph is up to four packages `fz:p0` .. `fz:p3`, each with one to three
//! releases, and a root. Every component (release or root) computes a
//! `u32` from what it imports and exports it as `get` (top level and inside
//! `fz:pN/api@<version>`; the root as `run`). What varies, all taken from
//! the input:
//!
//! - which packages a component imports, and how: a declared dependency
//!   (`external-id` with an unlocked range or a locked version) or a
//!   versioned interface import, with any version, existing or not;
//! - cycles and self-imports (the solver or composer must say no cleanly);
//! - host imports of `wasi:random/random@0.2.x` (semver-compatible versions
//!   merge into one import), at a type that sometimes disagrees between
//!   members (kept apart or refused, never an invalid output);
//! - a resource-typed host import shared by members.
//!
//! Components are written as WAT and compiled with `wat`, so every input
//! that reaches the solver is a valid component: the target tests resolve
//! and bundle, not the text parser.

use std::fmt::Write as _;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use semver::Version;
use warg_depsolve_names::PackageName;

/// Versions a release can have; the same list serves interface imports
/// (whose version need not exist) and locked references.
const VERSIONS: &[&str] = &[
    "0.0.1",
    "0.1.0",
    "0.1.1",
    "0.2.0",
    "1.0.0",
    "1.1.0",
    "1.2.0-rc.1",
    "2.0.0",
];

/// Ranges of unlocked references, in every grammar form.
const RANGES: &[&str] = &[
    "*",
    "{>=1.0.0}",
    "{>=1.0.0 <2.0.0}",
    "{<1.0.0}",
    "{>=0.1.0 <0.2.0}",
    "{^0.1}",
    "{~1.1}",
    "{=2.0.0}",
    "{>=1.2.0-rc.1}",
    "{^0.0.1}",
    "{>=3.0.0}",
];

/// How a component imports one of the packages.
#[derive(Clone, Debug)]
pub enum ImportStyle {
    /// `external-id "unlocked-dep=<fz:pN@RANGE>"`.
    Unlocked(&'static str),
    /// `external-id "locked-dep=<fz:pN@VERSION>"`.
    Locked(&'static str),
    /// An instance import named `fz:pN/api@VERSION`.
    Interface(&'static str),
}

/// One import of a package by a component.
#[derive(Clone, Debug)]
pub struct Dep {
    /// The package imported (an index into [`Graph::packages`]).
    pub package: usize,
    /// How.
    pub style: ImportStyle,
}

/// The shape of one component.
#[derive(Clone, Debug, Default)]
pub struct Shape {
    /// Packages it imports.
    pub deps: Vec<Dep>,
    /// `wasi:random/random@0.2.<minor>` imported with `get-u32` returning
    /// `u32` (`false`) or `u64` (`true`).
    pub random: Option<(u8, bool)>,
    /// Imports `wasi:io/poll@0.2.0` (a resource `pollable` and `make`).
    pub poll: bool,
    /// The constant it adds.
    pub constant: u32,
}

/// A release of a package.
#[derive(Clone, Debug)]
pub struct Release {
    /// Its version.
    pub version: Version,
    /// What it imports.
    pub shape: Shape,
}

/// A generated graph.
#[derive(Clone, Debug)]
pub struct Graph {
    /// Releases of `fz:p0`, `fz:p1`, ...
    pub packages: Vec<Vec<Release>>,
    /// The root.
    pub root: Shape,
}

impl Graph {
    /// Draws a graph from `u`.
    ///
    /// # Errors
    ///
    /// When `u` runs out of data (the caller then has nothing to test).
    pub fn arbitrary(u: &mut Unstructured<'_>) -> Result<Self> {
        let count = u.int_in_range(1..=4usize)?;
        let mut packages = Vec::with_capacity(count);
        for _ in 0..count {
            let mut releases: Vec<Release> = Vec::new();
            for _ in 0..u.int_in_range(1..=3usize)? {
                let version: Version = u.choose(VERSIONS)?.parse().expect("a valid version");
                if releases.iter().any(|r| r.version == version) {
                    continue;
                }
                releases.push(Release {
                    version,
                    shape: shape(u, count)?,
                });
            }
            packages.push(releases);
        }
        let root = shape(u, count)?;
        Ok(Graph { packages, root })
    }

    /// The name of package `index`.
    pub fn package_name(index: usize) -> PackageName {
        format!("fz:p{index}")
            .parse()
            .expect("a valid package name")
    }

    /// The WAT of a release of package `index` (exports `get` and
    /// `fz:p<index>/api@<version>`).
    pub fn release_wat(index: usize, release: &Release) -> String {
        let export = format!("fz:p{index}/api@{}", release.version);
        component_wat(&release.shape, "get", Some(&export))
    }

    /// The WAT of the root (exports `run`).
    pub fn root_wat(&self) -> String {
        component_wat(&self.root, "run", None)
    }
}

fn shape(u: &mut Unstructured<'_>, packages: usize) -> Result<Shape> {
    let mut deps = Vec::new();
    for _ in 0..u.int_in_range(0..=3usize)? {
        let package = u.int_in_range(0..=packages - 1)?;
        let style = match u.int_in_range(0..=5u8)? {
            0..=2 => ImportStyle::Unlocked(u.choose(RANGES)?),
            3 => ImportStyle::Locked(u.choose(VERSIONS)?),
            _ => ImportStyle::Interface(u.choose(VERSIONS)?),
        };
        deps.push(Dep { package, style });
    }
    let random = if u.ratio(1, 3)? {
        Some((u.int_in_range(0..=3u8)?, u.ratio(1, 6)?))
    } else {
        None
    };
    Ok(Shape {
        deps,
        random,
        poll: u.ratio(1, 4)?,
        constant: u.int_in_range(0..=1000u32)?,
    })
}

/// A component that imports what `shape` says, adds the constant to the
/// sum of every imported `get` (and `get-u32`, and a pollable's handle),
/// and exports the result as `export_func`, and inside an instance
/// `export_instance` as `get` when given.
fn component_wat(shape: &Shape, export_func: &str, export_instance: Option<&str>) -> String {
    let mut wat = String::from("(component\n");
    // Core functions lowered from imports: (name in the core module, core
    // result type).
    let mut lowered: Vec<(String, &str)> = Vec::new();
    let mut lowers = String::new();
    let mut seen_names = Vec::new();
    for (i, dep) in shape.deps.iter().enumerate() {
        let package = format!("fz:p{}", dep.package);
        let (name, attribute) = match dep.style {
            ImportStyle::Unlocked(range) => (
                format!("dep{i}"),
                format!(" (external-id \"unlocked-dep=<{package}@{range}>\")"),
            ),
            ImportStyle::Locked(version) => (
                format!("dep{i}"),
                format!(" (external-id \"locked-dep=<{package}@{version}>\")"),
            ),
            ImportStyle::Interface(version) => (format!("{package}/api@{version}"), String::new()),
        };
        // One import per name: a repeated interface import is dropped.
        if seen_names.contains(&name) {
            continue;
        }
        seen_names.push(name.clone());
        let _ = writeln!(
            wat,
            "  (import \"{name}\"{attribute} (instance $d{i} (export \"get\" (func (result u32)))))"
        );
        let _ = writeln!(
            lowers,
            "  (core func $c{i} (canon lower (func $d{i} \"get\")))"
        );
        lowered.push((format!("c{i}"), "i32"));
    }
    if let Some((minor, wide)) = shape.random {
        let result = if wide { "u64" } else { "u32" };
        let _ = writeln!(
            wat,
            "  (import \"wasi:random/random@0.2.{minor}\" (instance $random (export \"get-u32\" (func (result {result})))))"
        );
        let _ = writeln!(
            lowers,
            "  (core func $crandom (canon lower (func $random \"get-u32\")))"
        );
        lowered.push(("crandom".into(), if wide { "i64" } else { "i32" }));
    }
    if shape.poll {
        wat.push_str(
            "  (import \"wasi:io/poll@0.2.0\" (instance $poll\n    (export \"pollable\" (type (sub resource)))\n    (export \"make\" (func (param \"n\" u32) (result (own 0))))))\n",
        );
        lowers.push_str("  (core func $cpoll (canon lower (func $poll \"make\")))\n");
        lowered.push(("cpoll".into(), "i32p"));
    }
    wat.push_str(&lowers);

    // The core module: imports every lowered function and sums them.
    wat.push_str("  (core module $m\n");
    for (name, ty) in &lowered {
        let (param, result) = match *ty {
            "i32p" => ("(param i32) ", "i32"),
            other => ("", other),
        };
        let _ = writeln!(
            wat,
            "    (import \"h\" \"{name}\" (func ${name} {param}(result {result})))"
        );
    }
    let _ = write!(
        wat,
        "    (func (export \"get\") (result i32)\n      (i32.const {})",
        shape.constant
    );
    for (name, ty) in &lowered {
        let call = match *ty {
            "i64" => format!("(i32.wrap_i64 (call ${name}))"),
            "i32p" => format!("(call ${name} (i32.const 1))"),
            _ => format!("(call ${name})"),
        };
        let _ = write!(wat, "\n      {call}\n      i32.add");
    }
    wat.push_str("))\n");
    wat.push_str("  (core instance $h");
    for (name, _) in &lowered {
        let _ = write!(wat, " (export \"{name}\" (func ${name}))");
    }
    wat.push_str(")\n");
    wat.push_str("  (core instance $i (instantiate $m (with \"h\" (instance $h))))\n");
    wat.push_str("  (func $get (result u32) (canon lift (core func $i \"get\")))\n");
    let _ = writeln!(wat, "  (export \"{export_func}\" (func $get))");
    if let Some(instance) = export_instance {
        let _ = writeln!(
            wat,
            "  (instance $api (export \"get\" (func $get)))\n  (export \"{instance}\" (instance $api))"
        );
    }
    wat.push_str(")\n");
    wat
}
