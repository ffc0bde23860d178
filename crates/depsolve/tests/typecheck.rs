//! Resolution that type-checks: a provider whose exports lack what an
//! importer uses is not chosen for it, the solver backtracks to releases
//! that link, the bundle runs, and a no-solution report says what is
//! missing. A property closes it: on random registries, every resolve
//! that succeeds bundles and validates, and every no-solution is confirmed
//! by exhaustive search.

use semver::Version;
use warg_depsolve::names::PackageName;
use warg_depsolve::solver::Resolution;
use warg_depsolve::{LockFile, MemorySource, SolveOptions};
use warg_depsolve_fixtures::run::call1;

/// One exported func `name(param: u32) -> u32`, computing
/// `x + bias + (every func of every import, called with x)`.
#[derive(Clone, Debug)]
struct Func {
    name: &'static str,
    param: &'static str,
    bias: u32,
}

/// One instance import: its name, `external-id` (a declared dependency)
/// or none (an interface import), and the funcs it uses (name, param).
#[derive(Clone, Debug)]
struct Import {
    name: String,
    external_id: Option<String>,
    funcs: Vec<(&'static str, &'static str)>,
}

/// A component importing `imports` and exporting `funcs` at its top level
/// and, when `interface` is given, inside that interface instance too.
fn component(imports: &[Import], funcs: &[Func], interface: Option<&str>) -> Vec<u8> {
    let mut wat = String::from("(component\n");
    let mut lowered = Vec::new();
    for (i, import) in imports.iter().enumerate() {
        let id = import
            .external_id
            .as_ref()
            .map(|e| format!(" (external-id \"{e}\")"))
            .unwrap_or_default();
        let items: String = import
            .funcs
            .iter()
            .map(|(f, p)| format!(" (export \"{f}\" (func (param \"{p}\" u32) (result u32)))"))
            .collect();
        wat += &format!(
            "  (import \"{}\"{id} (instance $d{i}{items}))\n",
            import.name
        );
        for (f, _) in &import.funcs {
            wat += &format!("  (core func $d{i}_{f} (canon lower (func $d{i} \"{f}\")))\n");
            lowered.push(format!("d{i}_{f}"));
        }
    }
    wat += "  (core module $m\n";
    for l in &lowered {
        wat += &format!("    (import \"deps\" \"{l}\" (func ${l} (param i32) (result i32)))\n");
    }
    let calls: String = lowered
        .iter()
        .map(|l| format!(" (i32.add (call ${l} (local.get 0)))"))
        .collect();
    for f in funcs {
        wat += &format!(
            "    (func (export \"{}\") (param i32) (result i32) (i32.add (local.get 0) (i32.const {})){calls})\n",
            f.name, f.bias
        );
    }
    wat += "  )\n";
    let with: String = lowered
        .iter()
        .map(|l| format!(" (export \"{l}\" (func ${l}))"))
        .collect();
    wat += &format!("  (core instance $i (instantiate $m (with \"deps\" (instance{with}))))\n");
    for f in funcs {
        wat += &format!(
            "  (func ${0} (param \"{1}\" u32) (result u32) (canon lift (core func $i \"{0}\")))\n  (export \"{0}\" (func ${0}))\n",
            f.name, f.param
        );
    }
    if let Some(interface) = interface {
        let items: String = funcs
            .iter()
            .map(|f| format!(" (export \"{0}\" (func ${0}))", f.name))
            .collect();
        wat += &format!("  (instance $api{items})\n  (export \"{interface}\" (instance $api))\n");
    }
    wat += ")\n";
    wat::parse_str(&wat).unwrap_or_else(|e| panic!("{e}\n{wat}"))
}

fn func(name: &'static str, bias: u32) -> Func {
    Func {
        name,
        param: "x",
        bias,
    }
}

fn declared(name: &str, reference: &str, funcs: &[&'static str]) -> Import {
    Import {
        name: name.to_string(),
        external_id: Some(format!("unlocked-dep=<{reference}>")),
        funcs: funcs.iter().map(|f| (*f, "x")).collect(),
    }
}

fn interface(name: &str, funcs: &[&'static str]) -> Import {
    Import {
        name: name.to_string(),
        external_id: None,
        funcs: funcs.iter().map(|f| (*f, "x")).collect(),
    }
}

fn add(source: &MemorySource, package: &str, version: &str, bytes: Vec<u8>) {
    let package: PackageName = package.parse().unwrap();
    source
        .add(&package, &version.parse().unwrap(), bytes)
        .unwrap();
}

fn chosen(resolution: &Resolution) -> Vec<String> {
    resolution
        .packages
        .iter()
        .map(|p| format!("{}@{}", p.package, p.version))
        .collect()
}

/// The registry: `acme:kv` 1.4.0 added `delete` to its store;
/// `acme:cache` 1.1.0 uses it, 1.0.0 does not.
fn kv_and_cache() -> MemorySource {
    let source = MemorySource::new("memory");
    let store = |v: &str| format!("acme:kv/store@{v}");
    add(
        &source,
        "acme:kv",
        "1.2.0",
        component(&[], &[func("get", 10)], Some(&store("1.2.0"))),
    );
    add(
        &source,
        "acme:kv",
        "1.4.0",
        component(
            &[],
            &[func("get", 40), func("delete", 41)],
            Some(&store("1.4.0")),
        ),
    );
    add(
        &source,
        "acme:cache",
        "1.0.0",
        component(
            &[interface(&store("1.2.0"), &["get"])],
            &[func("lookup", 100)],
            None,
        ),
    );
    add(
        &source,
        "acme:cache",
        "1.1.0",
        component(
            &[interface(&store("1.4.0"), &["get", "delete"])],
            &[func("lookup", 200)],
            None,
        ),
    );
    source
}

/// A root that uses `cache` and a `kv` below 1.3: `run(x) = lookup(x) + get(x)`.
fn cache_root(cache_range: &str) -> Vec<u8> {
    component(
        &[
            declared(
                "cache",
                &format!("acme:cache@{{{cache_range}}}"),
                &["lookup"],
            ),
            declared("kv", "acme:kv@{>=1.0.0 <1.3.0}", &["get"]),
        ],
        &[func("run", 0)],
        None,
    )
}

#[test]
fn backtracks_to_an_importer_the_old_provider_satisfies() {
    let source = kv_and_cache();
    let root = cache_root(">=1.0.0");
    let resolution =
        warg_depsolve::resolve(&source, "root", &root, &SolveOptions::default()).unwrap();
    // kv stays below 1.3, so cache 1.1.0 (which needs `delete`) cannot
    // link: the older cache is chosen.
    assert_eq!(chosen(&resolution), ["acme:cache@1.0.0", "acme:kv@1.2.0"]);
    let bundle = warg_depsolve::bundle(&root, &resolution, &source).unwrap();
    // run(1) = 1 + lookup(1) + get(1); lookup(1) = 1 + 100 + get(1);
    // get(1) = 1 + 10 (kv 1.2.0; 1.4.0 would give 41).
    assert_eq!(call1(&bundle, "run", 1), 1 + (1 + 100 + 11) + 11);
}

#[test]
fn no_solution_says_what_is_missing() {
    let source = kv_and_cache();
    let root = cache_root(">=1.1.0");
    let err = warg_depsolve::resolve(&source, "root", &root, &SolveOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "acme:kv@1.2.0's `store` has no `delete`, which acme:cache@1.1.0 imports as `acme:kv/store@1.4.0`"
        ),
        "{err}"
    );
}

/// `test:calc`: 1.0.0 has `add` and `mul`; 1.1.0 renamed `mul`'s parameter;
/// 1.2.0 dropped `mul`.
fn calc() -> MemorySource {
    let source = MemorySource::new("memory");
    add(
        &source,
        "test:calc",
        "1.0.0",
        component(&[], &[func("add", 1), func("mul", 2)], None),
    );
    let renamed = Func {
        name: "mul",
        param: "y",
        bias: 20,
    };
    add(
        &source,
        "test:calc",
        "1.1.0",
        component(&[], &[func("add", 10), renamed], None),
    );
    add(
        &source,
        "test:calc",
        "1.2.0",
        component(&[], &[func("add", 100)], None),
    );
    source
}

fn calc_root(range: &str) -> Vec<u8> {
    component(
        &[declared(
            "calc",
            &format!("test:calc@{{{range}}}"),
            &["add", "mul"],
        )],
        &[func("run", 0)],
        None,
    )
}

#[test]
fn a_declared_dependency_skips_releases_that_do_not_link() {
    let source = calc();
    let root = calc_root(">=1.0.0");
    let resolution =
        warg_depsolve::resolve(&source, "root", &root, &SolveOptions::default()).unwrap();
    assert_eq!(chosen(&resolution), ["test:calc@1.0.0"]);
    let bundle = warg_depsolve::bundle(&root, &resolution, &source).unwrap();
    // run(1) = 1 + add(1) + mul(1) = 1 + 2 + 3.
    assert_eq!(call1(&bundle, "run", 1), 6);

    // A lock that pins a release which does not link is not kept.
    let pinned = {
        let mut newest = resolution.clone();
        newest.packages[0].version = Version::new(1, 2, 0);
        newest.packages[0].digest =
            warg_depsolve::names::Integrity::sha256(&component(&[], &[func("add", 100)], None));
        LockFile::from_resolution(&newest)
    };
    let options = SolveOptions {
        lock: Some(pinned),
        ..SolveOptions::default()
    };
    let again = warg_depsolve::resolve(&source, "root", &root, &options).unwrap();
    assert_eq!(chosen(&again), ["test:calc@1.0.0"]);
}

#[test]
fn a_declared_dependency_with_no_release_that_links_is_explained() {
    let source = calc();
    let err = warg_depsolve::resolve(
        &source,
        "root",
        &calc_root(">=1.1.0"),
        &SolveOptions::default(),
    )
    .unwrap_err()
    .to_string();
    for reason in [
        "test:calc@1.1.0's `mul` is `func(y: u32) -> u32`, not `func(x: u32) -> u32`, which root component `root` imports as `calc`",
        "test:calc@1.2.0 has no `mul`, which root component `root` imports as `calc`",
    ] {
        assert!(err.contains(reason), "{reason}\nnot in\n{err}");
    }
}

// ---------------------------------------------------------------------
// The property: random registries with random subsets of exports.
// ---------------------------------------------------------------------

const PACKAGES: usize = 3;
const VERSIONS: [&str; 3] = ["1.0.0", "1.1.0", "1.2.0"];
const FUNCS: [&str; 3] = ["a", "b", "c"];

/// A deterministic generator (xorshift): a failing case names its seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One dependency in the model: on package `target`, from version
/// `min` up, through a declared import (whole component) or an interface
/// import, using `funcs` (name, param).
#[derive(Clone, Debug)]
struct Dep {
    target: usize,
    min: usize,
    declared: bool,
    funcs: Vec<(&'static str, &'static str)>,
}

/// A release in the model: what it exports (name, param) and needs.
#[derive(Clone, Debug)]
struct Release {
    exports: Vec<(&'static str, &'static str)>,
    deps: Vec<Dep>,
}

fn package_name(i: usize) -> String {
    format!("t:p{i}")
}

fn api(i: usize, version: usize) -> String {
    format!("t:p{i}/api@{}", VERSIONS[version])
}

fn random_funcs(rng: &mut Rng, at_least_one: bool) -> Vec<(&'static str, &'static str)> {
    loop {
        let mut out = Vec::new();
        for f in FUNCS {
            if rng.below(3) > 0 {
                out.push((f, if rng.below(4) == 0 { "y" } else { "x" }));
            }
        }
        if !at_least_one || !out.is_empty() {
            return out;
        }
    }
}

/// Dependencies of package `from` (the root is `PACKAGES`): each later
/// package, sometimes.
fn random_deps(rng: &mut Rng, from: usize) -> Vec<Dep> {
    let first = if from == PACKAGES { 0 } else { from + 1 };
    let mut deps = Vec::new();
    for target in first..PACKAGES {
        if rng.below(2) == 0 {
            deps.push(Dep {
                target,
                min: rng.below(VERSIONS.len()),
                declared: rng.below(2) == 0,
                funcs: random_funcs(rng, true),
            });
        }
    }
    deps
}

fn imports_of(deps: &[Dep]) -> Vec<Import> {
    deps.iter()
        .map(|d| Import {
            name: if d.declared {
                format!("dep-p{}", d.target)
            } else {
                api(d.target, d.min)
            },
            external_id: d.declared.then(|| {
                format!(
                    "unlocked-dep=<{}@{{>={}}}>",
                    package_name(d.target),
                    VERSIONS[d.min]
                )
            }),
            funcs: d.funcs.clone(),
        })
        .collect()
}

fn release_bytes(package: usize, version: usize, release: &Release) -> Vec<u8> {
    let funcs: Vec<Func> = release
        .exports
        .iter()
        .map(|(name, param)| Func {
            name,
            param,
            bias: 1,
        })
        .collect();
    component(
        &imports_of(&release.deps),
        &funcs,
        Some(&api(package, version)),
    )
}

/// Whether `dep` is met by package `dep.target` at `version` (its
/// release `r`): in range (an interface import's version is no minimum:
/// any release on its track may provide it), and every func it uses
/// exported with the same parameter name.
fn meets(dep: &Dep, version: usize, r: &Release) -> bool {
    (!dep.declared || version >= dep.min) && dep.funcs.iter().all(|f| r.exports.contains(f))
}

/// Exhaustive search: does some choice of one version (or none) per
/// package satisfy the root and every chosen release?
fn exists(root: &[Dep], registry: &[Vec<Release>]) -> bool {
    let choices = (VERSIONS.len() + 1).pow(PACKAGES as u32);
    (0..choices).any(|mut code| {
        let pick: Vec<Option<usize>> = (0..PACKAGES)
            .map(|_| {
                let c = code % (VERSIONS.len() + 1);
                code /= VERSIONS.len() + 1;
                c.checked_sub(1)
            })
            .collect();
        let ok = |deps: &[Dep]| {
            deps.iter()
                .all(|d| pick[d.target].is_some_and(|v| meets(d, v, &registry[d.target][v])))
        };
        ok(root) && (0..PACKAGES).all(|p| pick[p].is_none_or(|v| ok(&registry[p][v].deps)))
    })
}

#[test]
fn every_resolve_bundles_and_every_no_solution_is_confirmed() {
    let mut outcomes = [0usize; 2];
    for seed in 1..=60u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let registry: Vec<Vec<Release>> = (0..PACKAGES)
            .map(|p| {
                (0..VERSIONS.len())
                    .map(|_| Release {
                        exports: random_funcs(&mut rng, true),
                        deps: random_deps(&mut rng, p),
                    })
                    .collect()
            })
            .collect();
        let root_deps = random_deps(&mut rng, PACKAGES);
        let source = MemorySource::new("memory");
        for (p, releases) in registry.iter().enumerate() {
            for (v, release) in releases.iter().enumerate() {
                add(
                    &source,
                    &package_name(p),
                    VERSIONS[v],
                    release_bytes(p, v, release),
                );
            }
        }
        let root = component(&imports_of(&root_deps), &[func("run", 0)], None);
        let case = format!("seed {seed}: root {root_deps:?}\nregistry {registry:#?}");
        // A solver kept across solves (the second reuses every release's
        // interpreted imports, and the type mismatches found with them)
        // answers as a fresh solve, reports word for word.
        let solver = warg_depsolve::solver::Solver::new(&source);
        let parsed = warg_depsolve::root_from_component("root", &root).unwrap();
        let fresh = warg_depsolve::resolve(&source, "root", &root, &SolveOptions::default())
            .map_err(|e| e.to_string());
        for _ in 0..2 {
            let kept = solver
                .resolve(&parsed, &SolveOptions::default())
                .map_err(|e| warg_depsolve::Error::from(e).to_string());
            assert_eq!(kept, fresh, "{case}");
        }
        match warg_depsolve::resolve(&source, "root", &root, &SolveOptions::default()) {
            Ok(resolution) => {
                // Every constraint holds in the model too.
                let version_of = |p: usize| {
                    resolution
                        .packages
                        .iter()
                        .find(|r| r.package.to_string() == package_name(p))
                        .map(|r| {
                            VERSIONS
                                .iter()
                                .position(|v| *v == r.version.to_string())
                                .unwrap()
                        })
                };
                let check = |deps: &[Dep]| {
                    for d in deps {
                        let v = version_of(d.target).unwrap_or_else(|| panic!("{case}"));
                        assert!(meets(d, v, &registry[d.target][v]), "{case}\n{d:?} at {v}");
                    }
                };
                check(&root_deps);
                for p in (0..PACKAGES).filter(|&p| version_of(p).is_some()) {
                    check(&registry[p][version_of(p).unwrap()].deps);
                }
                let bundle = warg_depsolve::bundle(&root, &resolution, &source)
                    .unwrap_or_else(|e| panic!("{case}\nbundle: {e}"));
                wasmparser::Validator::new()
                    .validate_all(&bundle)
                    .unwrap_or_else(|e| panic!("{case}\nvalidate: {e}"));
                outcomes[0] += 1;
            }
            Err(warg_depsolve::Error::Solve(warg_depsolve::SolveError::NoSolution { report })) => {
                assert!(!exists(&root_deps, &registry), "{case}\nreport: {report}");
                outcomes[1] += 1;
            }
            Err(e) => panic!("{case}\n{e}"),
        }
    }
    // Both outcomes occur, so both halves of the property are exercised.
    assert!(outcomes[0] >= 10 && outcomes[1] >= 5, "{outcomes:?}");
}
