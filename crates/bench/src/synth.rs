//! The seeded synthetic registry: its shape ([`Spec`]), the generated data
//! ([`SyntheticRegistry`]), and what it emits (a [`MemorySource`], the same
//! data as a pubgrub [`OfflineDependencyProvider`], a local registry
//! directory of real tiny components, and a naive pick-latest walk).
//!
//! # Shape
//!
//! Package `i` is `bench:p<i>`. Every package has `min_versions..=max_versions`
//! releases (uniform, 10 on average by default) starting at `1.0.0`; each
//! later release is a new major with probability `major_share` (1 in 8), a
//! new minor with probability `minor_share`, else a new patch. Release `r`
//! of package `i` has a geometric number of dependencies (mean `mean_deps`),
//! each on a package `j < i` drawn with [`Rng::popular`] (low indices are
//! the popular packages), so the dependency graph is acyclic and packages
//! `0..k` form a closed registry for every `k`. A dependency names a random
//! release `v` of its target and asks for the caret range
//! `{>=v <(major+1).0.0}`; with probability `pin_share` it is instead an
//! upper-bounded pin `{>=a <b}` with `b` a later release on the same track,
//! so it excludes the track's newest releases and forces backtracking when
//! another dependent wants them. Roots have `root_deps` caret dependencies
//! on distinct packages drawn the same way over all packages.
//!
//! Every range lies on one canonical track (majors are at least 1), so the
//! solver maps each dependency to one package-and-track node. The pubgrub
//! baseline ([`SyntheticRegistry::offline_provider`]) uses the same
//! identities: package `bench:p<i>@<major>` holds the releases of that
//! track, and every range is the very [`VersionSet`] our solver computes,
//! so both solve the same problem.

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::Path;

use pubgrub::OfflineDependencyProvider;
use semver::Version;
use warg_depsolve_names::{DepRange, DepRef, ImportClass, PackageName, Track, VersionSet};
use warg_depsolve_registry::{Dependency, MemorySource};
use warg_depsolve_solver::Root;

use crate::rng::Rng;

/// The shape of a synthetic registry. [`Spec::default`] is the 10k-package
/// registry of the benches.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    /// Number of packages.
    pub packages: usize,
    /// Fewest releases per package.
    pub min_versions: usize,
    /// Most releases per package.
    pub max_versions: usize,
    /// Probability that a release is a new major.
    pub major_share: f64,
    /// Probability that a release is a new minor (else a new patch).
    pub minor_share: f64,
    /// Mean number of dependencies per release (geometric).
    pub mean_deps: f64,
    /// Cap on dependencies per release.
    pub max_deps: usize,
    /// Share of dependencies that are upper-bounded pins (0 to 0.01 is
    /// realistic).
    pub pin_share: f64,
    /// Direct dependencies of each root.
    pub root_deps: usize,
    /// How strongly dependencies prefer popular (low-index) packages; see
    /// [`Rng::popular`].
    pub skew: f64,
    /// The seed: the same spec always generates the same registry.
    pub seed: u64,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            packages: 10_000,
            min_versions: 5,
            max_versions: 15,
            major_share: 1.0 / 8.0,
            minor_share: 0.35,
            mean_deps: 3.0,
            max_deps: 30,
            pin_share: 0.0,
            root_deps: 30,
            skew: 3.0,
            seed: 0x5EED,
        }
    }
}

impl Spec {
    /// The default shape with `packages` packages.
    pub fn with_packages(packages: usize) -> Self {
        Spec {
            packages,
            ..Spec::default()
        }
    }

    /// This shape with a share of upper-bounded pins.
    pub fn pins(mut self, share: f64) -> Self {
        self.pin_share = share;
        self
    }
}

/// One dependency of a synthetic release or root: package index and the
/// range `{>=lower <upper}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthDep {
    /// Index of the package depended on.
    pub package: usize,
    /// Inclusive lower bound.
    pub lower: Version,
    /// Exclusive upper bound.
    pub upper: Version,
    /// Whether this is an upper-bounded pin rather than a caret range.
    pub pin: bool,
}

impl SynthDep {
    /// The range, as a dependency reference writes it.
    pub fn range(&self) -> DepRange {
        DepRange::Between(self.lower.clone(), self.upper.clone())
    }

    /// The versions the range allows (what our solver computes from it).
    pub fn versions(&self) -> VersionSet {
        self.range().to_ranges()
    }

    /// The canonical track the range lies on.
    pub fn track(&self) -> Track {
        Track::of(&self.lower)
    }
}

/// One release of a synthetic package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthRelease {
    /// Its version.
    pub version: Version,
    /// Its dependencies, on distinct packages of lower index.
    pub deps: Vec<SynthDep>,
}

/// One synthetic package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthPackage {
    /// `bench:p<index>`.
    pub name: PackageName,
    /// Its releases, in ascending version order.
    pub releases: Vec<SynthRelease>,
}

/// A root component to solve: a name and its direct dependencies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthRoot {
    /// `root-<index>`.
    pub name: String,
    /// Direct dependencies, on distinct packages.
    pub deps: Vec<SynthDep>,
}

/// Counts describing a generated registry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegistryStats {
    /// Packages.
    pub packages: usize,
    /// Releases.
    pub releases: usize,
    /// Releases that start a new major.
    pub majors: usize,
    /// Dependency edges.
    pub edges: usize,
    /// Edges that are upper-bounded pins.
    pub pins: usize,
}

/// A generated registry (see the [module docs](self)).
#[derive(Clone, Debug)]
pub struct SyntheticRegistry {
    /// The shape it was generated from.
    pub spec: Spec,
    /// Its packages; package `i` is `bench:p<i>`.
    pub packages: Vec<SynthPackage>,
}

/// The name of synthetic package `index`.
pub fn package_name(index: usize) -> PackageName {
    PackageName::new("bench", &format!("p{index}")).expect("bench:p<n> is a valid name")
}

impl SyntheticRegistry {
    /// Generates the registry `spec` describes; the same spec always gives
    /// the same registry.
    pub fn generate(spec: &Spec) -> Self {
        let mut rng = Rng::new(spec.seed);
        // Pin details come from their own stream, so registries that differ
        // only in `pin_share` differ only in their pinned edges.
        let mut pin_rng = Rng::new(spec.seed ^ 0x9111_5000);
        let mut packages: Vec<SynthPackage> = Vec::with_capacity(spec.packages);
        for i in 0..spec.packages {
            let count = rng.between(spec.min_versions, spec.max_versions.max(spec.min_versions));
            let mut versions = Vec::with_capacity(count);
            let mut v = Version::new(1, 0, 0);
            for r in 0..count {
                if r > 0 {
                    let roll = rng.unit();
                    v = if roll < spec.major_share {
                        Version::new(v.major + 1, 0, 0)
                    } else if roll < spec.major_share + spec.minor_share {
                        Version::new(v.major, v.minor + 1, 0)
                    } else {
                        Version::new(v.major, v.minor, v.patch + 1)
                    };
                }
                versions.push(v.clone());
            }
            let releases = versions
                .into_iter()
                .map(|version| {
                    let n = if i == 0 {
                        0
                    } else {
                        rng.geometric(spec.mean_deps, spec.max_deps).min(i)
                    };
                    let mut seen = HashSet::new();
                    let mut deps = Vec::with_capacity(n);
                    for _ in 0..n {
                        let j = rng.popular(i, spec.skew);
                        if seen.insert(j) {
                            deps.push(make_dep(
                                &mut rng,
                                &mut pin_rng,
                                j,
                                &packages[j],
                                spec.pin_share,
                            ));
                        }
                    }
                    SynthRelease { version, deps }
                })
                .collect();
            packages.push(SynthPackage {
                name: package_name(i),
                releases,
            });
        }
        SyntheticRegistry {
            spec: spec.clone(),
            packages,
        }
    }

    /// Counts of packages, releases, majors, edges and pins.
    pub fn stats(&self) -> RegistryStats {
        let mut s = RegistryStats {
            packages: self.packages.len(),
            ..RegistryStats::default()
        };
        for p in &self.packages {
            for (k, r) in p.releases.iter().enumerate() {
                s.releases += 1;
                if k > 0 && r.version.minor == 0 && r.version.patch == 0 {
                    s.majors += 1;
                }
                s.edges += r.deps.len();
                s.pins += r.deps.iter().filter(|d| d.pin).count();
            }
        }
        s
    }

    /// Root number `index`, with dependencies over all packages.
    pub fn root(&self, index: u64) -> SynthRoot {
        self.root_within(index, self.packages.len())
    }

    /// Root number `index`, with dependencies on packages `0..limit` only
    /// (for the sub-registry [`SyntheticRegistry::write_local_registry`]
    /// writes). Root dependencies are caret ranges.
    pub fn root_within(&self, index: u64, limit: usize) -> SynthRoot {
        let limit = limit.min(self.packages.len());
        let mut rng = Rng::new(self.spec.seed ^ 0xA5A5_0000_0000 ^ index.wrapping_mul(0x9E37));
        let want = self.spec.root_deps.min(limit);
        let mut no_pins = Rng::new(0);
        let mut seen = HashSet::new();
        let mut deps = Vec::with_capacity(want);
        let mut tries = 0;
        while deps.len() < want && tries < want * 100 {
            tries += 1;
            // Roots reach a little further down the tail than packages do.
            let j = rng.popular(limit, self.spec.skew - 1.0);
            if seen.insert(j) {
                deps.push(make_dep(&mut rng, &mut no_pins, j, &self.packages[j], 0.0));
            }
        }
        SynthRoot {
            name: format!("root-{index}"),
            deps,
        }
    }

    /// Roots `0..count`.
    pub fn roots(&self, count: u64) -> Vec<SynthRoot> {
        (0..count).map(|i| self.root(i)).collect()
    }

    /// The registry dependency our solver sees for `dep`: a declared import
    /// `p<j>` with `unlocked-dep=<bench:p<j>@{>=a <b}>`.
    pub fn dependency(&self, dep: &SynthDep) -> Dependency {
        Dependency {
            import: format!("p{}", dep.package),
            class: ImportClass::Declared(DepRef::Unlocked {
                package: self.packages[dep.package].name.clone(),
                range: dep.range(),
            }),
        }
    }

    /// `root` as the solver's [`Root`].
    pub fn solver_root(&self, root: &SynthRoot) -> Root {
        Root::new(
            root.name.clone(),
            root.deps.iter().map(|d| self.dependency(d)).collect(),
        )
    }

    /// Packages `0..limit` (a closed registry) as metadata-only releases in
    /// a [`MemorySource`] named `memory`.
    pub fn memory_source(&self, limit: usize) -> MemorySource {
        let source = MemorySource::new("memory");
        for p in self.packages.iter().take(limit) {
            for r in &p.releases {
                let deps = r.deps.iter().map(|d| self.dependency(d)).collect();
                source
                    .add_synthetic(&p.name, &r.version, deps)
                    .expect("synthetic releases are well formed");
            }
        }
        source
    }

    /// The pubgrub identity of a package on a track: `bench:p<i>@<track>`.
    pub fn offline_package(&self, package: usize, track: Track) -> String {
        format!("{}@{track}", self.packages[package].name)
    }

    /// The same data as pubgrub's own [`OfflineDependencyProvider`], with
    /// our identities (one pubgrub package per package and track) and our
    /// version sets, plus each of `roots` as package `<root name>` at
    /// version `0.0.0`. Solve root `r` with
    /// `pubgrub::resolve(&provider, r.name.clone(), Version::new(0, 0, 0))`.
    pub fn offline_provider(
        &self,
        roots: &[SynthRoot],
    ) -> OfflineDependencyProvider<String, VersionSet> {
        let mut provider = OfflineDependencyProvider::new();
        let deps = |d: &[SynthDep]| -> Vec<(String, VersionSet)> {
            d.iter()
                .map(|d| (self.offline_package(d.package, d.track()), d.versions()))
                .collect()
        };
        for (i, p) in self.packages.iter().enumerate() {
            for r in &p.releases {
                provider.add_dependencies(
                    self.offline_package(i, Track::of(&r.version)),
                    r.version.clone(),
                    deps(&r.deps),
                );
            }
        }
        for root in roots {
            provider.add_dependencies(root.name.clone(), Version::new(0, 0, 0), deps(&root.deps));
        }
        provider
    }

    /// The naive baseline: walks from `root` choosing, for each package
    /// and track the first time it is seen, the newest release in the
    /// asking range, and never revisits or checks a choice (warg's and
    /// wkg's greedy walk). Returns the number of (package, track) nodes
    /// chosen, or `None` when a range matches no release.
    pub fn pick_latest(&self, root: &SynthRoot) -> Option<usize> {
        let mut chosen: HashMap<(usize, Track), usize> = HashMap::new();
        let mut stack: Vec<&SynthDep> = root.deps.iter().collect();
        while let Some(dep) = stack.pop() {
            let key = (dep.package, dep.track());
            if chosen.contains_key(&key) {
                continue;
            }
            let releases = &self.packages[dep.package].releases;
            let k = releases
                .iter()
                .rposition(|r| r.version >= dep.lower && r.version < dep.upper)?;
            chosen.insert(key, k);
            stack.extend(releases[k].deps.iter());
        }
        Some(chosen.len())
    }

    /// The bytes of a real tiny component for release `release` of package
    /// `package`: one declared-dependency instance import per dependency
    /// (name `p<j>`, `external-id "unlocked-dep=<bench:p<j>@{>=a <b}>"`)
    /// and a custom section naming the release, so every release has its
    /// own digest.
    pub fn component_bytes(&self, package: usize, release: usize) -> Vec<u8> {
        use wasm_encoder::{
            Component, ComponentExternName, ComponentImportSection, ComponentTypeRef,
            ComponentTypeSection, CustomSection, InstanceType,
        };
        let p = &self.packages[package];
        let r = &p.releases[release];
        let mut component = Component::new();
        if !r.deps.is_empty() {
            let mut types = ComponentTypeSection::new();
            types.instance(&InstanceType::new());
            component.section(&types);
            let mut imports = ComponentImportSection::new();
            for d in &r.deps {
                let reference = format!(
                    "unlocked-dep=<{}@{}>",
                    self.packages[d.package].name,
                    d.range()
                );
                imports.import(
                    ComponentExternName {
                        name: format!("p{}", d.package).into(),
                        implements: None,
                        version_suffix: None,
                        external_id: Some(reference.into()),
                    },
                    ComponentTypeRef::Instance(0),
                );
            }
            component.section(&imports);
        }
        let label = format!("{}@{}", p.name, r.version);
        component.section(&CustomSection {
            name: "warg-depsolve-bench".into(),
            data: label.as_bytes().into(),
        });
        component.finish()
    }

    /// Writes packages `0..limit` (a closed registry) as real tiny
    /// components ([`SyntheticRegistry::component_bytes`]) in wkg's local
    /// layout `<dir>/bench/p<i>/<version>.wasm`. Returns the number of
    /// files written.
    pub fn write_local_registry(&self, dir: &Path, limit: usize) -> io::Result<usize> {
        let mut written = 0;
        for (i, p) in self.packages.iter().enumerate().take(limit) {
            let pkg_dir = dir.join(p.name.namespace()).join(p.name.name());
            std::fs::create_dir_all(&pkg_dir)?;
            for (k, r) in p.releases.iter().enumerate() {
                std::fs::write(
                    pkg_dir.join(format!("{}.wasm", r.version)),
                    self.component_bytes(i, k),
                )?;
                written += 1;
            }
        }
        Ok(written)
    }
}

/// A dependency on `target` (package index `index`): a caret range from a
/// random release, or with probability `pin_share` an upper-bounded pin on
/// one track.
fn make_dep(
    rng: &mut Rng,
    pin_rng: &mut Rng,
    index: usize,
    target: &SynthPackage,
    pin_share: f64,
) -> SynthDep {
    let releases = &target.releases;
    let from = rng.below(releases.len());
    let v = &releases[from].version;
    // Always drawn, so the main stream does not depend on `pin_share`.
    let roll = rng.unit();
    if roll < pin_share {
        let rng = pin_rng;
        // Releases on v's track; pin below a later one of them.
        let track: Vec<&Version> = releases
            .iter()
            .map(|r| &r.version)
            .filter(|w| w.major == v.major)
            .collect();
        if track.len() >= 2 {
            let upper = rng.between(1, track.len() - 1);
            let lower = rng.below(upper);
            return SynthDep {
                package: index,
                lower: track[lower].clone(),
                upper: track[upper].clone(),
                pin: true,
            };
        }
    }
    SynthDep {
        package: index,
        lower: v.clone(),
        upper: Version::new(v.major + 1, 0, 0),
        pin: false,
    }
}
