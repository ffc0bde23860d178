//! The composition graph and the locked form.
//!
//! One wasm-compose [`CompositionGraph`] per composition: one component and
//! one instance per resolved (package, track), added and instantiated in
//! dependency order, then the root; every edge of the resolution connected
//! (a whole instance for declared dependencies, the named export for
//! interface imports); every other import of every member left unconnected,
//! which wasm-compose turns into one import of the output per name. The
//! graph is encoded with `define_components: false`, so each member is an
//! import of a component type, and then rewritten into the locked form: the
//! root's import becomes the root itself (its original bytes, nested), and
//! each dependency import gains its `external-id` reference.

use std::collections::BTreeSet;
use std::sync::Arc;

use semver::Version;
use warg_depsolve_names::{scan, DepRef, ImportClass, Integrity, PackageName, Track};
use warg_depsolve_registry::{Source, SourceError};
use warg_depsolve_solver::Resolution;
use wasm_compose::graph::{Component, ComponentId, CompositionGraph, EncodeOptions, InstanceId};
use wasmparser::{Validator, WasmFeatures};

use crate::error::ComposeError;
use crate::pieces::{validate_pieces, Piece, PieceSection, Pieces};
use crate::sections::{self, Name, COMPONENT, IMPORT};
use crate::{host, merge};

/// The name the root has in the composition graph. It never reaches an
/// output: the root is nested, not imported.
const ROOT_BASE_NAME: &str = "warg-depsolve-root";

/// Fetches the bytes of every resolved package through `source`, by
/// version and digest. The source hands out bytes it checked against the
/// digest ([`Verified`](warg_depsolve_registry::Verified)); each is
/// compared with the digest the resolution names (no second hash), so a
/// faulty source cannot slip other bytes in.
///
/// The result is indexed like [`Resolution::packages`].
///
/// # Errors
///
/// [`ComposeError::DigestMismatch`] naming the package and both digests
/// when bytes do not match; [`ComposeError::Fetch`] when the source fails.
pub fn fetch_packages(
    resolution: &Resolution,
    source: &dyn Source,
) -> Result<Vec<Arc<[u8]>>, ComposeError> {
    resolution
        .packages
        .iter()
        .map(|p| {
            fetch_verified(
                source,
                &p.package,
                &p.version,
                &format!("{}@{}", p.package, p.version),
                &p.digest,
            )
        })
        .collect()
}

/// Fetches one release by version and digest, and makes sure the bytes
/// are the ones with that digest.
pub(crate) fn fetch_verified(
    source: &dyn Source,
    package: &PackageName,
    version: &Version,
    label: &str,
    digest: &Integrity,
) -> Result<Arc<[u8]>, ComposeError> {
    let bytes = source
        .fetch(package, version, digest)
        .map_err(|e| match e {
            SourceError::DigestMismatch {
                path,
                expected,
                actual,
                ..
            } => ComposeError::DigestMismatch {
                // Name the file the source read, when it says.
                package: match path {
                    Some(path) => format!("{label}` at `{}", path.display()),
                    None => label.to_string(),
                },
                expected: oci(expected),
                actual: oci(actual),
            },
            source => ComposeError::Fetch {
                package: label.to_string(),
                source: Box::new(source),
            },
        })?
        .confirm(digest)
        .map_err(|m| ComposeError::DigestMismatch {
            package: label.to_string(),
            expected: m.expected.to_oci(),
            actual: m.actual.to_oci(),
        })?;
    Ok(bytes.into_bytes())
}

/// A digest in OCI form (`sha256:<hex>`, the one notation of human
/// output), whether it came in that form or in SRI form (`sha256-<base64>`,
/// as dependency references write it).
fn oci(digest: String) -> String {
    Integrity::parse_oci(&digest)
        .or_else(|_| Integrity::parse_sri(&digest))
        .map(|i| i.to_oci())
        .unwrap_or(digest)
}

/// Checks `bytes` against `digest`.
pub(crate) fn check_digest(
    label: &str,
    digest: &Integrity,
    bytes: &[u8],
) -> Result<(), ComposeError> {
    if digest.matches(bytes) {
        Ok(())
    } else {
        Err(ComposeError::DigestMismatch {
            package: label.to_string(),
            expected: digest.to_oci(),
            actual: Integrity::compute(digest.algorithm, bytes).to_oci(),
        })
    }
}

/// The import name a resolved package gets in the locked form:
/// `<namespace>-<name>-<track>` with the track's dots as dashes
/// (`test-add-1`, `wasi-io-0-2`), a valid kebab name that differs per
/// package and track. Should two packages map to one name (`a-b:c` and
/// `a:b-c`), or a name be taken by another import of a member, the later
/// one gets `-2`, `-3`, ... in resolution order, so names stay unique and
/// deterministic.
pub fn import_names(resolution: &Resolution, taken: &BTreeSet<String>) -> Vec<String> {
    let mut used = taken.clone();
    resolution
        .packages
        .iter()
        .map(|p| unique(&base_import_name(&p.package, p.track), &mut used))
        .collect()
}

pub(crate) fn base_import_name(package: &PackageName, track: Track) -> String {
    format!(
        "{}-{}-{}",
        package.namespace(),
        package.name(),
        track.to_string().replace('.', "-")
    )
    .to_ascii_lowercase()
}

/// `base`, or `base-2`, `base-3`, ... whichever is not yet in `used`; the
/// result is added to `used`.
pub(crate) fn unique(base: &str, used: &mut BTreeSet<String>) -> String {
    let mut name = base.to_string();
    let mut n = 2;
    while used.contains(&name) {
        name = format!("{base}-{n}");
        n += 1;
    }
    used.insert(name.clone());
    name
}

/// One member of a composition: the root or a resolved package.
struct Member<'b> {
    /// `ns:pkg@version` or `root <name>`, for messages (which put it in
    /// backticks).
    label: String,
    /// Its name in the graph (the import name in the locked form).
    graph_name: String,
    bytes: &'b [u8],
    /// `external-id` of its import in the locked form (`None`: the root).
    reference: Option<String>,
}

/// Composes `root` with the packages of `resolution` into the locked form.
///
/// `packages` holds the bytes of every resolved package, indexed like
/// [`Resolution::packages`] (see [`fetch_packages`]); each is checked
/// against its digest first.
///
/// The output imports each resolved (package, track) as a component named
/// as [`import_names`] says, carrying
/// `external-id "locked-dep=<ns:pkg@1.2.3>,integrity=<sha256-...>"`; nests
/// the root's original bytes; instantiates every member once, in dependency
/// order, wired as the resolution says; imports every other import of every
/// member once (merged by name); and exports the root's exports. It
/// validates with all wasmparser features (the attributes are gated) and is
/// deterministic.
///
/// # Errors
///
/// Digest mismatches, members that are not components, a resolution that
/// does not fit the components ([`ComposeError::Wiring`]), host imports of
/// one name at incompatible types ([`ComposeError::HostImportConflict`]).
pub fn lock_with(
    root: &[u8],
    resolution: &Resolution,
    packages: &[Arc<[u8]>],
) -> Result<Vec<u8>, ComposeError> {
    check_packages(resolution, packages)?;
    lock_verified(root, resolution, packages)
}

/// Checks caller-held package bytes, indexed like
/// [`Resolution::packages`], against the resolution's digests.
pub(crate) fn check_packages(
    resolution: &Resolution,
    packages: &[Arc<[u8]>],
) -> Result<(), ComposeError> {
    for (i, (p, bytes)) in resolution.packages.iter().zip(packages).enumerate() {
        check_digest(&resolution.label(i), &p.digest, bytes)?;
    }
    Ok(())
}

/// [`lock_with`] over bytes already checked against their digests (by
/// [`fetch_packages`] or [`lock_with`]): each package is hashed once per
/// operation, not once per step.
pub(crate) fn lock_verified(
    root: &[u8],
    resolution: &Resolution,
    packages: &[Arc<[u8]>],
) -> Result<Vec<u8>, ComposeError> {
    let sections = lock_sections(root, resolution, packages)?;
    let mut locked = Pieces::default();
    locked.extend_owned(&sections::COMPONENT_HEADER);
    for section in sections {
        locked.push(section.header);
        locked.push(section.contents);
    }
    Ok(locked.concat())
}

/// [`lock_verified`] as sections (after the 8-byte header,
/// [`sections::COMPONENT_HEADER`]), the root nested without being copied
/// (validated).
pub(crate) fn lock_sections<'a>(
    root: &'a [u8],
    resolution: &Resolution,
    packages: &[Arc<[u8]>],
) -> Result<Vec<PieceSection<'a>>, ComposeError> {
    if packages.len() != resolution.packages.len() {
        return Err(ComposeError::Wiring {
            component: resolution.root.clone(),
            message: format!(
                "{} package binaries given for {} resolved packages",
                packages.len(),
                resolution.packages.len()
            ),
        });
    }
    let root_label = format!("root {}", resolution.root);
    let mut labels: Vec<String> = (0..resolution.packages.len())
        .map(|i| resolution.label(i))
        .collect();

    // Every import name of every member, so that member names avoid them.
    let mut taken = BTreeSet::new();
    let mut scans = Vec::with_capacity(packages.len() + 1);
    for (label, bytes) in labels
        .iter()
        .map(String::as_str)
        .chain([root_label.as_str()])
        .zip(packages.iter().map(|b| &b[..]).chain([root]))
    {
        let scanned = scan::scan(bytes).map_err(|e| ComposeError::InvalidComponent {
            component: label.to_string(),
            cause: e.into(),
        })?;
        taken.extend(scanned.imports.iter().map(|i| i.name.name.clone()));
        scans.push(scanned);
    }
    let names = import_names(resolution, &taken);
    let root_name = unique(
        ROOT_BASE_NAME,
        &mut names.iter().cloned().chain(taken).collect(),
    );

    let mut members: Vec<Member<'_>> = resolution
        .packages
        .iter()
        .enumerate()
        .map(|(i, p)| Member {
            label: std::mem::take(&mut labels[i]),
            graph_name: names[i].clone(),
            bytes: &packages[i],
            reference: Some(
                DepRef::Locked {
                    package: p.package.clone(),
                    version: p.version.clone(),
                    integrity: vec![p.digest.clone()],
                }
                .to_string(),
            ),
        })
        .collect();
    members.push(Member {
        label: root_label,
        graph_name: root_name,
        bytes: root,
        reference: None,
    });
    let root_index = members.len() - 1;

    // Which imports of each member the resolution wires, and to what.
    let edges_of = |m: usize| {
        if m == root_index {
            &resolution.root_edges
        } else {
            &resolution.packages[m].edges
        }
    };
    for (m, scanned) in scans.iter().enumerate() {
        for import in &scanned.imports {
            let class = import.name.classify();
            let declared = matches!(class, Ok(ImportClass::Declared(_) | ImportClass::Legacy(_)));
            if declared && !edges_of(m).iter().any(|e| e.import == import.name.name) {
                return Err(ComposeError::Wiring {
                    component: members[m].label.clone(),
                    message: format!(
                        "its dependency import `{}` has no provider in the resolution",
                        import.name.name
                    ),
                });
            }
        }
    }

    // Host imports (those no edge wires), and which of them merge across
    // semver-compatible versions (see `merge`).
    let unwired: Vec<Vec<&str>> = scans
        .iter()
        .enumerate()
        .map(|(m, scanned)| {
            scanned
                .imports
                .iter()
                .filter(|i| {
                    i.name.version_suffix.is_none()
                        && !edges_of(m).iter().any(|e| e.import == i.name.name)
                })
                .map(|i| i.name.name.as_str())
                .collect()
        })
        .collect();
    let mut merges = merge::plan(&unwired);
    let encoded = loop {
        let views = members
            .iter()
            .zip(&merges)
            .map(|(m, renames)| {
                if renames.is_empty() {
                    Ok(None)
                } else {
                    merge::rename_imports(m.bytes, renames, &m.label).map(Some)
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        match compose_shell(resolution, &members, &views, root_index)? {
            Ok(shell) => {
                let renames: Vec<(&str, &merge::Renames)> = members
                    .iter()
                    .zip(&merges)
                    .map(|(m, r)| (m.graph_name.as_str(), r))
                    .collect();
                break merge::restore_names(&shell, &renames)?;
            }
            // The merged import does not fit every member: keep the
            // versions apart and try again.
            Err(conflict) if merge::drop_merge(&mut merges, &conflict.name) => continue,
            Err(c) => {
                return Err(ComposeError::HostImportConflict {
                    name: c.name,
                    first: members[c.first].label.clone(),
                    second: members[c.second].label.clone(),
                    message: c.message,
                })
            }
        }
    };

    let locked = rewrite_shell(&encoded, &members, root_index, &resolution.root, root)?;
    let pieces: Vec<Piece<'_>> = locked
        .iter()
        .flat_map(|s| [s.header.clone(), s.contents.clone()])
        .collect();
    let mut all = vec![Piece::Owned(sections::COMPONENT_HEADER.to_vec())];
    all.extend(pieces);
    validate_pieces(&all, WasmFeatures::all(), "locked form", "")?;
    Ok(locked)
}

/// One attempt at the composition: every member added (as its view where
/// `views` holds one: imports renamed for merging) and instantiated in
/// dependency order, every edge wired, encoded with
/// `define_components: false`. `Ok(Err(_))` when host imports of one name
/// cannot be one import.
fn compose_shell(
    resolution: &Resolution,
    members: &[Member<'_>],
    views: &[Option<Vec<u8>>],
    root_index: usize,
) -> Result<Result<Vec<u8>, host::Conflict>, ComposeError> {
    let edges_of = |m: usize| {
        if m == root_index {
            &resolution.root_edges
        } else {
            &resolution.packages[m].edges
        }
    };
    let mut validator = Validator::new_with_features(WasmFeatures::all());
    let mut graph = CompositionGraph::new();
    let mut order = resolution.dependency_order();
    order.push(root_index);
    let mut ids: Vec<Option<ComponentId>> = vec![None; members.len()];
    let mut instances: Vec<Option<InstanceId>> = vec![None; members.len()];
    for &m in &order {
        let member = &members[m];
        let bytes = views[m].as_deref().unwrap_or(member.bytes);
        let component = Component::from_bytes(&mut validator, member.graph_name.clone(), bytes)
            .map_err(|e| ComposeError::InvalidComponent {
                component: member.label.clone(),
                cause: e.into(),
            })?;
        let id = graph
            .add_component(component)
            .map_err(|e| ComposeError::Compose {
                root: resolution.root.clone(),
                cause: e.into(),
            })?;
        ids[m] = Some(id);
        instances[m] = Some(graph.instantiate(id).map_err(|e| ComposeError::Compose {
            root: resolution.root.clone(),
            cause: e.into(),
        })?);
    }
    let component = |m: usize| {
        graph
            .get_component(ids[m].expect("every member was added"))
            .expect("added components stay in the graph")
    };

    // Wire every edge.
    let mut wired: Vec<Vec<String>> = vec![Vec::new(); members.len()];
    let mut connections = Vec::new();
    for m in 0..members.len() {
        for edge in edges_of(m) {
            let bad = |message: String| ComposeError::Wiring {
                component: members[m].label.clone(),
                message,
            };
            if edge.target >= resolution.packages.len() || edge.target == m {
                return Err(bad(format!(
                    "import `{}` points at package #{}, which is not a provider",
                    edge.import, edge.target
                )));
            }
            let (import_index, _) = component(m)
                .import_by_name(&edge.import)
                .ok_or_else(|| bad(format!("it has no import named `{}`", edge.import)))?;
            let export_index = match &edge.export {
                None => None,
                Some(name) => Some(
                    component(edge.target)
                        .export_by_name(name)
                        .ok_or_else(|| {
                            bad(format!(
                                "import `{}` is wired to export `{name}` of `{}`, which has no such export",
                                edge.import, members[edge.target].label
                            ))
                        })?
                        .0,
                ),
            };
            wired[m].push(edge.import.clone());
            connections.push((
                m,
                edge.target,
                export_index,
                import_index,
                edge.import.clone(),
            ));
        }
    }
    let in_order: Vec<_> = order.iter().map(|&m| (m, component(m))).collect();
    if let Err(conflict) = host::check(&in_order, |m, name| wired[m].iter().any(|w| w == name)) {
        return Ok(Err(conflict));
    }

    for (m, target, export_index, import_index, import) in connections {
        let source = instances[target].expect("instantiated");
        let dest = instances[m].expect("instantiated");
        graph
            .connect(source, export_index, dest, import_index)
            .map_err(|e| ComposeError::Wiring {
                component: members[m].label.clone(),
                message: format!(
                    "import `{import}` cannot take `{}`{}: {e:#}",
                    members[target].label,
                    match export_index {
                        Some(_) => " (the wired export)",
                        None => " (its instance)",
                    }
                ),
            })?;
    }

    let encoded = graph
        .encode(EncodeOptions {
            define_components: false,
            export: instances[root_index],
            validate: false,
        })
        .map_err(|e| ComposeError::Compose {
            root: resolution.root.clone(),
            cause: e.into(),
        })?;
    Ok(Ok(encoded))
}

/// Composes `root` with the packages of `resolution`, fetched from `source`,
/// into the locked form. See [`lock_with`].
pub fn lock(
    root: &[u8],
    resolution: &Resolution,
    source: &dyn Source,
) -> Result<Vec<u8>, ComposeError> {
    let packages = fetch_packages(resolution, source)?;
    lock_verified(root, resolution, &packages)
}

/// Turns wasm-compose's output (every member imported as a component) into
/// the locked form: the root's import becomes the root component itself,
/// each dependency import gets its `external-id`, everything else is kept
/// byte for byte.
fn rewrite_shell<'a>(
    shell: &[u8],
    members: &[Member<'_>],
    root_index: usize,
    root: &str,
    root_bytes: &'a [u8],
) -> Result<Vec<PieceSection<'a>>, ComposeError> {
    let what = format!("composition of `{root}`");
    let mut out: Vec<PieceSection<'a>> = Vec::new();
    let owned = |whole: &[u8], contents_start: usize, id: u8| PieceSection {
        id,
        header: Piece::Owned(whole[..contents_start].to_vec()),
        contents: Piece::Owned(whole[contents_start..].to_vec()),
    };
    let imports = |out: &mut Vec<PieceSection<'a>>, pending: &mut Vec<Vec<u8>>| {
        if !pending.is_empty() {
            let section = sections::entry_section(IMPORT, pending);
            let (_, len) = sections::read_leb_u32(&section[1..]).expect("encoded here");
            out.push(owned(&section, 1 + len, IMPORT));
            pending.clear();
        }
    };
    for section in sections::split(shell, &what)? {
        if section.id != IMPORT {
            out.push(owned(
                &shell[section.whole.clone()],
                section.contents.start - section.whole.start,
                section.id,
            ));
            continue;
        }
        let mut pending: Vec<Vec<u8>> = Vec::new();
        for entry in sections::entries(shell, &section, &what)? {
            let member = members
                .iter()
                .position(|m| m.graph_name == entry.name.name && !entry.attributed);
            match member {
                Some(m) if m == root_index => {
                    imports(&mut out, &mut pending);
                    out.push(PieceSection::new(COMPONENT, Piece::Borrowed(root_bytes)));
                }
                Some(m) => pending.push(sections::renamed_entry(
                    shell,
                    &entry,
                    &Name {
                        external_id: members[m].reference.clone(),
                        ..Name::new(entry.name.name.clone())
                    },
                )),
                None => pending.push(shell[entry.whole.clone()].to_vec()),
            }
        }
        imports(&mut out, &mut pending);
    }
    Ok(out)
}
