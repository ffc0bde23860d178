//! Host imports of one interface at semver-compatible versions, merged into
//! one import at the highest version.
//!
//! Components from different toolchains import WASI at different patch
//! levels: componentize-py 0.25 imports `wasi:io/poll@0.2.9`,
//! componentize-js 0.23 `wasi:io/poll@0.2.12`. Both names are on the
//! canonical track `0.2`, so a host that provides 0.2.12 serves both, and a
//! member written against 0.2.9 uses nothing that 0.2.12 lacks (semver).
//! Kept apart, they are two imports of the output with two sets of resource
//! types, so a `pollable` made through one cannot be passed to a member that
//! imported the other. Merged, the output imports `wasi:io/poll@0.2.12`
//! once, the way wac merges them.
//!
//! How: every member that imports an interface at a lower version than
//! another member (same package, interface and canonical track) is handed
//! to wasm-compose as a *view* whose import carries the highest version's
//! name, so wasm-compose merges the imports (and unifies their resources)
//! as it does for equal names. The composition is then checked like any
//! other ([`host::check`](crate::host::check)); when the merged import does
//! not fit every member (the types do not allow it), the merge into that
//! name is dropped and both versions stay separate imports. Finally the
//! names are put back inside the composition ([`restore_names`]): each
//! member's component type and its instantiation arguments name the
//! member's real imports, so the nested bytes are the registry's own and
//! the locked form describes them exactly. Only the output's own import
//! carries the merged name.

use std::collections::{BTreeMap, HashMap};

use semver::Version;
use warg_depsolve_names::{InterfaceName, PackageName, Track};
use wasm_encoder::reencode::{component_utils, Error, Reencode, ReencodeComponent};
use wasmparser::{
    ComponentAlias, ComponentExternalKind, ComponentOuterAliasKind, ComponentTypeDeclaration,
    ComponentTypeRef, Parser, Payload,
};

use crate::error::{ComposeError, While};
use crate::sections::{self, Name, IMPORT};

/// One member's renamed imports: its real import name to the name the
/// merged output import has.
pub(crate) type Renames = BTreeMap<String, String>;

/// For each member (indexed like `unwired`, the names of its host imports),
/// the imports to rename so that every interface imported at several
/// versions of one canonical track is imported once, at the highest.
///
/// A member that itself imports the highest version's name keeps its
/// names for that interface (a rename would collide), as does one that
/// imports two lower versions of it.
pub(crate) fn plan(unwired: &[Vec<&str>]) -> Vec<Renames> {
    type Key = (PackageName, String, Track);
    let parse = |name: &str| -> Option<(Key, Version)> {
        let interface = InterfaceName::parse(name)?;
        let version = interface.version.clone()?;
        let track = interface.track()?;
        Some(((interface.package, interface.interface, track), version))
    };
    // The highest version of each interface and track, and its name.
    let mut highest: HashMap<Key, (Version, &str)> = HashMap::new();
    for names in unwired {
        for &name in names {
            if let Some((key, version)) = parse(name) {
                match highest.get(&key) {
                    Some((v, _)) if *v >= version => {}
                    _ => {
                        highest.insert(key, (version, name));
                    }
                }
            }
        }
    }
    unwired
        .iter()
        .map(|names| {
            let mut renames = Renames::new();
            for &name in names {
                let Some((key, _)) = parse(name) else {
                    continue;
                };
                let (_, target) = highest[&key];
                if target != name && !names.contains(&target) {
                    renames.insert(name.to_string(), target.to_string());
                }
            }
            // Two of one member's names cannot both become one (it imports
            // 0.2.9 and 0.2.10, say): those stay apart.
            let mut targets: HashMap<String, usize> = HashMap::new();
            for target in renames.values() {
                *targets.entry(target.clone()).or_default() += 1;
            }
            renames.retain(|_, target| targets[target.as_str()] == 1);
            renames
        })
        .collect()
}

/// Drops every rename into `merged`; whether there was one.
pub(crate) fn drop_merge(plan: &mut [Renames], merged: &str) -> bool {
    let mut dropped = false;
    for renames in plan {
        let before = renames.len();
        renames.retain(|_, target| target != merged);
        dropped |= renames.len() != before;
    }
    dropped
}

/// `bytes` with its top-level imports renamed as `renames` says; every
/// other byte as it was. `what` names the component in errors.
pub(crate) fn rename_imports(
    bytes: &[u8],
    renames: &Renames,
    what: &str,
) -> Result<Vec<u8>, ComposeError> {
    let mut out = Vec::with_capacity(bytes.len() + 64);
    out.extend_from_slice(&bytes[..8]);
    for section in sections::split(bytes, what)? {
        if section.id != IMPORT {
            out.extend_from_slice(&bytes[section.whole.clone()]);
            continue;
        }
        let entries = sections::entries(bytes, &section, what)?;
        if !entries.iter().any(|e| renames.contains_key(&e.name.name)) {
            out.extend_from_slice(&bytes[section.whole.clone()]);
            continue;
        }
        out.extend_from_slice(&sections::rename_entries(bytes, IMPORT, &entries, |e| {
            Ok(renames.get(&e.name.name).map(|target| Name {
                name: target.clone(),
                ..e.name.clone()
            }))
        })?);
    }
    Ok(out)
}

/// Puts the members' real import names back into wasm-compose's output
/// `shell` (encoded with `define_components: false`): in the component type
/// of each member's import and in the arguments of its instantiation.
///
/// `members` pairs each member's import name in the shell with its renames
/// (real name to merged name). Sections that need no change are copied as
/// they are; the others are re-encoded.
pub(crate) fn restore_names(
    shell: &[u8],
    members: &[(&str, &Renames)],
) -> Result<Vec<u8>, ComposeError> {
    let bad = |e: wasmparser::BinaryReaderError| ComposeError::Compose {
        root: "composition".into(),
        cause: While::cause("reading the composition", e),
    };
    // Merged name to real name, per member with renames.
    let inverse: HashMap<&str, HashMap<&str, &str>> = members
        .iter()
        .filter(|(_, r)| !r.is_empty())
        .map(|(name, r)| {
            (
                *name,
                r.iter().map(|(k, v)| (v.as_str(), k.as_str())).collect(),
            )
        })
        .collect();
    if inverse.is_empty() {
        return Ok(shell.to_vec());
    }

    // First pass: which component types and component indices belong to a
    // member with renames.
    let mut types = 0u32;
    let mut components = 0u32;
    // The first type index of each type section, in order.
    let mut type_section_starts: Vec<u32> = Vec::new();
    let mut type_of: HashMap<u32, &HashMap<&str, &str>> = HashMap::new();
    let mut component_of: HashMap<u32, &HashMap<&str, &str>> = HashMap::new();
    for payload in Parser::new(0).parse_all(shell) {
        match payload.map_err(bad)? {
            Payload::ComponentTypeSection(reader) => {
                type_section_starts.push(types);
                types += reader.count();
            }
            Payload::ComponentImportSection(reader) => {
                for import in reader {
                    let import = import.map_err(bad)?;
                    match import.ty {
                        ComponentTypeRef::Type(_) => types += 1,
                        ComponentTypeRef::Component(ty) => {
                            if let Some(map) = inverse.get(import.name.name) {
                                type_of.insert(ty, map);
                                component_of.insert(components, map);
                            }
                            components += 1;
                        }
                        _ => {}
                    }
                }
            }
            Payload::ComponentAliasSection(reader) => {
                for alias in reader {
                    match alias.map_err(bad)? {
                        ComponentAlias::InstanceExport { kind, .. } => match kind {
                            ComponentExternalKind::Type => types += 1,
                            ComponentExternalKind::Component => components += 1,
                            _ => {}
                        },
                        ComponentAlias::Outer { kind, .. } => match kind {
                            ComponentOuterAliasKind::Type => types += 1,
                            ComponentOuterAliasKind::Component => components += 1,
                            _ => {}
                        },
                        ComponentAlias::CoreInstanceExport { .. } => {}
                    }
                }
            }
            Payload::ComponentExportSection(reader) => {
                for export in reader {
                    match export.map_err(bad)?.kind {
                        ComponentExternalKind::Type => types += 1,
                        ComponentExternalKind::Component => components += 1,
                        _ => {}
                    }
                }
            }
            Payload::ComponentSection {
                unchecked_range, ..
            } => {
                components += 1;
                // Not entered: its contents are not the shell's.
                let _ = unchecked_range;
            }
            _ => {}
        }
    }

    // Second pass: rewrite the type and instance sections that hold them.
    let mut out = Vec::with_capacity(shell.len());
    out.extend_from_slice(&shell[..8]);
    let mut type_section_starts = type_section_starts.into_iter();
    for section in sections::split(shell, "composition")? {
        let contents = &shell[section.contents.clone()];
        let whole = &shell[section.whole.clone()];
        match section.id {
            sections::TYPE => {
                let reader = wasmparser::ComponentTypeSectionReader::new(
                    wasmparser::BinaryReader::new(contents, section.contents.start as u64),
                )
                .map_err(bad)?;
                let first = type_section_starts
                    .next()
                    .expect("the same sections in both passes");
                if !(first..first + reader.count()).any(|t| type_of.contains_key(&t)) {
                    out.extend_from_slice(whole);
                    continue;
                }
                let mut encoded = wasm_encoder::ComponentTypeSection::new();
                for (i, ty) in reader.into_iter().enumerate() {
                    let mut renamer = Renamer {
                        names: type_of.get(&(first + i as u32)).copied(),
                        depth: 0,
                    };
                    renamer
                        .parse_component_type(encoded.ty(), ty.map_err(bad)?)
                        .map_err(|e| ComposeError::Compose {
                            root: "composition".into(),
                            cause: While::cause("re-encoding a member's type", e),
                        })?;
                }
                push_section(&mut out, sections::TYPE, &encoded);
            }
            sections::INSTANCE => {
                let reader = wasmparser::ComponentInstanceSectionReader::new(
                    wasmparser::BinaryReader::new(contents, section.contents.start as u64),
                )
                .map_err(bad)?;
                let instances: Vec<_> =
                    reader.into_iter().collect::<Result<_, _>>().map_err(bad)?;
                let touches = instances.iter().any(|i| {
                    matches!(i, wasmparser::ComponentInstance::Instantiate { component_index, .. }
                        if component_of.contains_key(component_index))
                });
                if !touches {
                    out.extend_from_slice(whole);
                    continue;
                }
                let mut encoded = wasm_encoder::ComponentInstanceSection::new();
                for instance in instances {
                    match instance {
                        wasmparser::ComponentInstance::Instantiate {
                            component_index,
                            args,
                        } if component_of.contains_key(&component_index) => {
                            let names = component_of[&component_index];
                            encoded.instantiate(
                                component_index,
                                args.iter().map(|arg| {
                                    (
                                        names.get(arg.name).copied().unwrap_or(arg.name),
                                        arg.kind.into(),
                                        arg.index,
                                    )
                                }),
                            );
                        }
                        other => component_utils::parse_component_instance(
                            &mut wasm_encoder::reencode::RoundtripReencoder,
                            &mut encoded,
                            other,
                        )
                        .map_err(|e| ComposeError::Compose {
                            root: "composition".into(),
                            cause: While::cause("re-encoding an instance", e),
                        })?,
                    }
                }
                push_section(&mut out, sections::INSTANCE, &encoded);
            }
            _ => out.extend_from_slice(whole),
        }
    }
    Ok(out)
}

fn push_section(out: &mut Vec<u8>, id: u8, section: &impl wasm_encoder::Encode) {
    let mut contents = Vec::new();
    section.encode(&mut contents);
    // `encode` writes the section's size first; the id is ours to write.
    out.push(id);
    out.extend_from_slice(&contents);
}

/// Re-encodes one component type, naming its own top-level imports by
/// `names` (merged name to real name) when given.
struct Renamer<'n> {
    names: Option<&'n HashMap<&'n str, &'n str>>,
    depth: u32,
}

impl Reencode for Renamer<'_> {
    type Error = std::convert::Infallible;
}

impl ReencodeComponent for Renamer<'_> {
    fn push_depth(&mut self) {
        self.depth += 1;
    }

    fn pop_depth(&mut self) {
        self.depth -= 1;
    }

    fn parse_component_type_declaration(
        &mut self,
        component: &mut wasm_encoder::ComponentType,
        decl: ComponentTypeDeclaration<'_>,
    ) -> Result<(), Error<Self::Error>> {
        if let (1, Some(names), ComponentTypeDeclaration::Import(import)) =
            (self.depth, self.names, &decl)
        {
            if let Some(real) = names.get(import.name.name) {
                let ty = self.component_type_ref(import.ty)?;
                let mut name = wasm_encoder::ComponentExternName::from(import.name);
                name.name = (*real).into();
                component.import(name, ty);
                return Ok(());
            }
        }
        component_utils::parse_component_type_declaration(self, component, decl)
    }
}
