//! Software bills of materials: what a component is made of, as CycloneDX
//! 1.6 JSON ([`Bom::to_cyclonedx`]) or SPDX 2.3 JSON ([`Bom::to_spdx`]).
//!
//! A [`Bom`] is built from what a pipeline holds:
//!
//! - a root and its resolution ([`Bom::from_resolution`]): the packages
//!   and the dependency graph as solved;
//! - a bundle ([`Bom::from_bundle`]): the packages nested in it (their
//!   registry bytes restored and checked by digest), the graph read from
//!   each package's own imports;
//! - a locked form ([`Bom::from_locked`]): the pinned imports, each
//!   release's bytes fetched (by digest) to read its imports.
//!
//! Each package is listed once per release with its name, version, SHA-256
//! digest and (when known) the registry it comes from; the root is the
//! document's subject. Output is deterministic: the same input gives the
//! same bytes (no timestamps, no random serial numbers).
//!
//! ```
//! # use warg_depsolve::sbom::Bom;
//! # use warg_depsolve::{registry::LocalRegistry, SolveOptions};
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");
//! let registry = LocalRegistry::new("local", format!("{dir}/registry"));
//! let root = wat::parse_file(format!("{dir}/roots/meet.wat")).unwrap();
//! let resolution = warg_depsolve::resolve(&registry, "meet.wat", &root, &SolveOptions::default()).unwrap();
//! let bom = Bom::from_resolution("meet.wat", &root, &resolution);
//! let json = bom.to_cyclonedx();
//! assert_eq!(json["specVersion"], "1.6");
//! assert_eq!(json["components"].as_array().unwrap().len(), 3);
//! ```

use std::collections::{BTreeMap, BTreeSet};

use semver::Version;
use serde_json::{json, Value};
use warg_depsolve_names::scan::{scan, ComponentScan, NestedKind};
use warg_depsolve_names::{DepRef, ImportClass, Integrity, InterfaceName, PackageName, Track};
use warg_depsolve_registry::Source;
use warg_depsolve_solver::{Plug, Resolution};

use warg_depsolve_compose::ComposeError;

use crate::Error;

/// One release in a bill of materials.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct BomPackage {
    /// The package.
    pub package: PackageName,
    /// The release.
    pub version: Version,
    /// The digest of its registry bytes.
    pub digest: Integrity,
    /// The registry it comes from, when known.
    pub registry: Option<String>,
}

impl BomPackage {
    /// Its reference inside the document: `ns:name@version`.
    pub fn bom_ref(&self) -> String {
        format!("{}@{}", self.package, self.version)
    }
}

/// What a component is made of: its packages and who depends on whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bom {
    /// The root's name (its file name, usually).
    pub root: String,
    /// The digest of the root's bytes as given.
    pub root_digest: Integrity,
    /// Every release, sorted.
    pub packages: Vec<BomPackage>,
    /// The references (see [`BomPackage::bom_ref`]) each package, and the
    /// root (under [`Bom::root`]), depends on directly.
    pub dependencies: BTreeMap<String, BTreeSet<String>>,
}

impl Bom {
    /// The bill of `root` as `resolution` solved it.
    pub fn from_resolution(root: &str, root_bytes: &[u8], resolution: &Resolution) -> Bom {
        let packages: Vec<BomPackage> = resolution
            .packages
            .iter()
            .map(|p| BomPackage {
                package: p.package.clone(),
                version: p.version.clone(),
                digest: p.digest.clone(),
                registry: Some(p.registry.clone()),
            })
            .collect();
        let mut dependencies = BTreeMap::new();
        let edges = |edges: &[warg_depsolve_solver::Edge]| -> BTreeSet<String> {
            edges
                .iter()
                .filter_map(|e| resolution.packages.get(e.target))
                .map(|p| format!("{}@{}", p.package, p.version))
                .collect()
        };
        dependencies.insert(root.to_string(), edges(&resolution.root_edges));
        for p in &resolution.packages {
            dependencies.insert(format!("{}@{}", p.package, p.version), edges(&p.edges));
        }
        Bom::new(root, root_bytes, packages, dependencies)
    }

    /// The bill of a bundle: its nested packages (registry bytes restored
    /// and checked), the graph read from their imports and the root's.
    /// `registry_for` names each package's registry (the configured route),
    /// if known. An interface import goes to the release that exports it;
    /// where two do (a package and a provider plugged in for it), `plugs`
    /// (the ones the bundle was made with) say which.
    ///
    /// # Errors
    ///
    /// The bytes are not one of our bundles (no record), or the record does
    /// not match what is nested.
    pub fn from_bundle(
        name: &str,
        bundled: &[u8],
        registry_for: &dyn Fn(&PackageName) -> Option<String>,
        plugs: &[Plug],
    ) -> Result<Bom, Error> {
        let unbundled = crate::unbundle(bundled)?;
        let releases: Vec<(BomPackage, Vec<u8>)> = unbundled
            .packages
            .into_iter()
            .map(|p| {
                (
                    BomPackage {
                        registry: registry_for(&p.package),
                        package: p.package,
                        version: p.version,
                        digest: p.digest,
                    },
                    p.bytes,
                )
            })
            .collect();
        let locked = scan_named(name, &unbundled.locked)?;
        Self::from_releases(name, bundled, &unbundled.locked, &locked, releases, plugs)
    }

    /// The bill of a locked form: its pinned imports, each release fetched
    /// from `source` (by version and digest) to read its own imports.
    ///
    /// # Errors
    ///
    /// The bytes are not a component; a pinned import has no digest; a
    /// release cannot be fetched or has other bytes.
    pub fn from_locked(
        name: &str,
        locked: &[u8],
        source: &dyn Source,
        plugs: &[Plug],
    ) -> Result<Bom, Error> {
        let scanned = scan_named(name, locked)?;
        let mut releases = Vec::new();
        for import in &scanned.imports {
            let Ok(ImportClass::Declared(DepRef::Locked {
                package,
                version,
                integrity,
            })) = import.name.classify()
            else {
                continue;
            };
            let Some(digest) = integrity.first().cloned() else {
                return Err(ComposeError::Reference {
                    import: import.name.name.to_string(),
                    message: format!("pins `{package}@{version}` without a digest"),
                }
                .into());
            };
            let bytes = source.fetch(&package, &version, &digest)?;
            releases.push((
                BomPackage {
                    registry: Some(source.registry_for(&package).to_string()),
                    package,
                    version,
                    digest,
                },
                bytes.bytes().to_vec(),
            ));
        }
        Self::from_releases(name, locked, locked, &scanned, releases, plugs)
    }

    /// The graph of releases read from their imports; the root's edges
    /// from the component nested in the locked form (the root as written).
    /// Each release is scanned once, for its exports and its imports.
    fn from_releases(
        name: &str,
        given: &[u8],
        locked: &[u8],
        locked_scan: &ComponentScan,
        releases: Vec<(BomPackage, Vec<u8>)>,
        plugs: &[Plug],
    ) -> Result<Bom, Error> {
        let mut packages = Vec::with_capacity(releases.len());
        let mut scans = Vec::with_capacity(releases.len());
        for (package, bytes) in &releases {
            let scanned = scan_named(&package.bom_ref(), bytes)?;
            let exports = scanned
                .exports
                .iter()
                .filter_map(|e| InterfaceName::parse(&e.name.name))
                .collect();
            packages.push((package.clone(), exports));
            scans.push(scanned);
        }
        let mut dependencies = BTreeMap::new();
        for ((package, _), scanned) in packages.iter().zip(&scans) {
            dependencies.insert(package.bom_ref(), edges_of(scanned, &packages, plugs));
        }
        // The locked form nests the root as written; its imports are the
        // root's dependencies.
        let mut root_edges = BTreeSet::new();
        for nested in locked_scan
            .nested
            .iter()
            .filter(|n| n.kind == NestedKind::Component)
        {
            if let Some(bytes) = locked.get(nested.range.clone()) {
                root_edges.extend(edges_of(&scan_named(name, bytes)?, &packages, plugs));
            }
        }
        dependencies.insert(name.to_string(), root_edges);
        let packages = packages.into_iter().map(|(p, _)| p).collect();
        Ok(Bom::new(name, given, packages, dependencies))
    }

    fn new(
        root: &str,
        root_bytes: &[u8],
        mut packages: Vec<BomPackage>,
        dependencies: BTreeMap<String, BTreeSet<String>>,
    ) -> Bom {
        packages.sort();
        packages.dedup();
        Bom {
            root: root.to_string(),
            root_digest: Integrity::sha256(root_bytes),
            packages,
            dependencies,
        }
    }

    /// The bill as a CycloneDX 1.6 JSON document: the root as
    /// `metadata.component`, each release as a `library` component (name,
    /// version, SHA-256 hash, the registry as a property), and the graph as
    /// `dependencies`.
    pub fn to_cyclonedx(&self) -> Value {
        let hash = |d: &Integrity| json!([{ "alg": "SHA-256", "content": d.to_hex() }]);
        let components: Vec<Value> = self
            .packages
            .iter()
            .map(|p| {
                let mut c = json!({
                    "type": "library",
                    "bom-ref": p.bom_ref(),
                    "group": p.package.namespace(),
                    "name": p.package.name(),
                    "version": p.version.to_string(),
                    "hashes": hash(&p.digest),
                });
                if let Some(registry) = &p.registry {
                    c["properties"] =
                        json!([{ "name": "warg-depsolve:registry", "value": registry }]);
                }
                c
            })
            .collect();
        let dependencies: Vec<Value> = self
            .dependencies
            .iter()
            .map(|(r, on)| json!({ "ref": r, "dependsOn": on }))
            .collect();
        json!({
            "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "version": 1,
            "metadata": {
                "tools": { "components": [{
                    "type": "application",
                    "name": "warg-depsolve",
                    "version": env!("CARGO_PKG_VERSION"),
                }]},
                "component": {
                    "type": "application",
                    "bom-ref": self.root,
                    "name": self.root,
                    "hashes": hash(&self.root_digest),
                },
            },
            "components": components,
            "dependencies": dependencies,
        })
    }

    /// The bill as an SPDX 2.3 JSON document: one package per release
    /// (and the root), `DEPENDS_ON` relationships for the graph, the root
    /// `DESCRIBES`d by the document. The namespace is derived from the
    /// root's digest, so the same input gives the same document.
    pub fn to_spdx(&self) -> Value {
        let id = |r: &str| {
            let safe: String = r
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect();
            format!("SPDXRef-{safe}")
        };
        let checksum =
            |d: &Integrity| json!([{ "algorithm": "SHA256", "checksumValue": d.to_hex() }]);
        let mut packages = vec![json!({
            "SPDXID": id(&format!("root-{}", self.root)),
            "name": self.root,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "checksums": checksum(&self.root_digest),
        })];
        for p in &self.packages {
            let mut entry = json!({
                "SPDXID": id(&p.bom_ref()),
                "name": p.package.to_string(),
                "versionInfo": p.version.to_string(),
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": false,
                "checksums": checksum(&p.digest),
            });
            if let Some(registry) = &p.registry {
                entry["sourceInfo"] = json!(format!("registry `{registry}`"));
            }
            packages.push(entry);
        }
        let root_id = id(&format!("root-{}", self.root));
        let mut relationships = vec![json!({
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": root_id,
        })];
        for (from, on) in &self.dependencies {
            let from_id = if *from == self.root {
                root_id.clone()
            } else {
                id(from)
            };
            for to in on {
                relationships.push(json!({
                    "spdxElementId": from_id,
                    "relationshipType": "DEPENDS_ON",
                    "relatedSpdxElement": id(to),
                }));
            }
        }
        json!({
            "spdxVersion": "SPDX-2.3",
            "dataLicense": "CC0-1.0",
            "SPDXID": "SPDXRef-DOCUMENT",
            "name": self.root,
            "documentNamespace": format!("https://warg-depsolve.invalid/spdx/{}", self.root_digest.to_hex()),
            "creationInfo": {
                // SPDX requires a time; a fixed one keeps the document
                // reproducible (the digest says what it describes).
                "created": "1970-01-01T00:00:00Z",
                "creators": [format!("Tool: warg-depsolve-{}", env!("CARGO_PKG_VERSION"))],
            },
            "packages": packages,
            "relationships": relationships,
        })
    }
}

/// `scan`, its error naming the component (a file, or `ns:pkg@version`).
fn scan_named(name: &str, bytes: &[u8]) -> Result<ComponentScan, Error> {
    scan(bytes).map_err(|error| Error::Component {
        name: name.to_string(),
        error,
    })
}

/// A release and the interfaces it exports.
type Exporter = (BomPackage, Vec<InterfaceName>);

/// The releases among `packages` that the scanned component imports: a
/// dependency reference's package within its range (the newest such
/// release); for an interface import, the release that exports it on its
/// track (a plugged provider has another name), else the release of the
/// interface's package on that track.
fn edges_of(scanned: &ComponentScan, packages: &[Exporter], plugs: &[Plug]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for import in &scanned.imports {
        let Ok(class) = import.name.classify() else {
            continue;
        };
        let found = match &class {
            ImportClass::Declared(reference) | ImportClass::Legacy(reference) => {
                let allowed = reference.versions();
                packages
                    .iter()
                    .map(|(p, _)| p)
                    .filter(|p| p.package == *reference.package() && allowed.contains(&p.version))
                    .max_by(|a, b| a.version.cmp(&b.version))
            }
            ImportClass::Interface(interface) => {
                let exporters: Vec<&BomPackage> = packages
                    .iter()
                    .filter(|(_, exports)| exports.iter().any(|e| e.links_to(interface)))
                    .map(|(p, _)| p)
                    .collect();
                // A plug that names one of them decides; else one exporter
                // is the provider; else the one the name implies.
                let plugged = plugs
                    .iter()
                    .find(|plug| plug.matches(interface))
                    .and_then(|plug| {
                        exporters
                            .iter()
                            .copied()
                            .find(|p| p.package == plug.package)
                    });
                if let Some(p) = plugged {
                    out.insert(p.bom_ref());
                    continue;
                }
                match exporters.as_slice() {
                    [one] => Some(*one),
                    _ => exporters
                        .iter()
                        .copied()
                        .find(|p| p.package == interface.package)
                        .or_else(|| {
                            packages.iter().map(|(p, _)| p).find(|p| {
                                p.package == interface.package
                                    && interface
                                        .version
                                        .as_ref()
                                        .is_none_or(|v| Track::of(v) == Track::of(&p.version))
                            })
                        }),
                }
            }
            ImportClass::Host => None,
        };
        if let Some(p) = found {
            out.insert(p.bom_ref());
        }
    }
    out
}
