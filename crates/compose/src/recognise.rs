//! Unbundling a composition that carries no `warg-depsolve-bundle` record
//! (made by `wasm-tools compose`, wac, or one of our bundles after
//! `wasm-tools strip`): each nested component whose bytes are a registry
//! release, verbatim or as the bundler nests it (gated name attributes
//! stripped), becomes a locked import of that release; every other nested
//! component stays inline.
//!
//! Which packages to ask the registry about comes from the composition
//! itself: the interfaces each nested component exports (its own package
//! first), the dependency references (`external-id`) and interface names of
//! every nested component's imports, and the outer component's import and
//! export names. Interfaces of the `wasi` namespace are never registry
//! packages (as for the solver) and are not asked about. A nested component
//! whose digest is no release's is compared with every release of those
//! packages as a bundle nests it (each release fetched once per call), so
//! a root, which no registry has, costs one fetch of each. In a bundle
//! stripped of its name attributes, only the names that survive stripping
//! (interface names) point to packages.
//!
//! Externalising the nested component at a top-level position keeps every
//! component index (an import and a nested definition both append to the
//! component index space), but the import needs a component type: one type
//! definition (the nested component's type, as wasm-compose encodes a
//! member's import) is inserted before it, and every later reference into
//! the outer component's type index space, from its own sections and from
//! outer aliases of nested components and types, is shifted past it
//! (wasm-encoder's re-encoder). Core modules, and nested components that
//! do not reach into the outer type space past an insertion, are copied
//! verbatim.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use semver::Version;
use warg_depsolve_names::scan::{self, ComponentScan};
use warg_depsolve_names::{classify, DepRef, ImportClass, Integrity, InterfaceName, PackageName};
use warg_depsolve_registry::{Source, SourceError};
use wasm_compose::graph::{Component, CompositionGraph, EncodeOptions};
use wasm_encoder::reencode::{
    component_utils, Error as ReencodeError, Reencode, ReencodeComponent,
};
use wasm_encoder::{NestedComponentSection, RawSection};
use wasmparser::{
    Chunk, ComponentAlias, ComponentExternalKind, ComponentOuterAliasKind, ComponentTypeRef,
    Parser, Payload, Validator, WasmFeatures,
};

use crate::error::ComposeError;
use crate::graph::{base_import_name, fetch_verified, unique};
use crate::pieces::validate;
use crate::record::is_record_contents;
use crate::sections::{self, Name, COMPONENT, CUSTOM, IMPORT, TYPE};
use crate::strip::strip;

/// A nested component that [`recognise`] found in a registry and turned into
/// a locked import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecognisedPackage {
    /// The package.
    pub package: PackageName,
    /// Its version.
    pub version: Version,
    /// The digest of the release's bytes (what the locked import pins).
    pub digest: Integrity,
    /// The release's bytes, exactly (checked against `digest`).
    pub bytes: Arc<[u8]>,
    /// The top-level section of the input that nested it (0 is the first
    /// section after the header).
    pub section: u32,
    /// The name of its import in the locked form (`test-add-1`).
    pub import: String,
    /// How the input nested the release.
    pub form: NestedForm,
}

/// How a composition nested a release [`recognise`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NestedForm {
    /// Its bytes exactly.
    Verbatim,
    /// Its bytes with the gated name attributes of its top level stripped,
    /// as a bundle made by `warg-depsolve` nests it.
    Stripped,
    /// Its bytes, stripped as a bundle nests them, without their custom
    /// sections at any level (as `wasm-tools strip` leaves a bundle): the
    /// same code and types, not the same bytes.
    WithoutCustomSections,
}

impl NestedForm {
    /// `verbatim`, `stripped`, `without custom sections`: for reports.
    pub fn describe(self) -> &'static str {
        match self {
            NestedForm::Verbatim => "verbatim",
            NestedForm::Stripped => "stripped of its name attributes",
            NestedForm::WithoutCustomSections => "without its custom sections",
        }
    }
}

/// A nested component that no configured registry has: left inline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlineComponent {
    /// The top-level section of the input that nests it.
    pub section: u32,
    /// The SHA-256 digest of its bytes.
    pub digest: Integrity,
    /// Its size in bytes.
    pub size: usize,
}

/// What [`recognise`] returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recognised {
    /// The locked form: the input with every recognised nested component
    /// replaced by a locked import of its release.
    pub locked: Vec<u8>,
    /// The recognised nested components, in section order.
    pub packages: Vec<RecognisedPackage>,
    /// The nested components kept inline, in section order.
    pub inline: Vec<InlineComponent>,
    /// Packages the composition names that no configured registry can
    /// serve ([`SourceError::BackendUnavailable`]: routed nowhere, or to a
    /// registry that cannot be used), with the source's reason: they were
    /// not compared.
    pub unavailable: Vec<(PackageName, String)>,
}

/// Whether `component` carries a `warg-depsolve-bundle` record (anywhere
/// among its top-level sections): the input [`unbundle`](crate::unbundle)
/// takes, while [`recognise`] takes those without.
///
/// # Errors
///
/// [`ComposeError::NotAComponent`], or a malformed component.
pub fn has_record(component: &[u8]) -> Result<bool, ComposeError> {
    sections::check_input(component)?;
    Ok(sections::split(component, "component")?
        .iter()
        .any(|s| s.id == CUSTOM && is_record_contents(&component[s.contents.clone()])))
}

/// Unbundles a composition that carries no record, against the releases
/// `source` serves: every top-level nested component whose bytes are a
/// release (verbatim, or with the gated name attributes of its top level
/// stripped, as a bundle nests them) becomes an import of that release
/// carrying `external-id "locked-dep=<ns:pkg@x.y.z>,integrity=<sha256-...>"`;
/// the others stay inline. The result is a locked form:
/// [`Bundler::from_locked`](crate::Bundler::from_locked) bundles it back
/// into a component that behaves as the input did.
///
/// ```
/// use warg_depsolve_compose::{recognise, Bundler};
/// use warg_depsolve_registry::MemorySource;
///
/// // `test:add@1.0.0` exports the interface `test:add/api@1.0.0`.
/// let add = wat::parse_str(r#"(component
///     (core module $m (func (export "add") (param i32 i32) (result i32)
///         (i32.add (local.get 0) (local.get 1))))
///     (core instance $i (instantiate $m))
///     (func $add (param "left" u32) (param "right" u32) (result u32)
///         (canon lift (core func $i "add")))
///     (instance $api (export "add" (func $add)))
///     (export "test:add/api@1.0.0" (instance $api)))"#).unwrap();
/// let source = MemorySource::new("memory");
/// source.add(&"test:add".parse().unwrap(), &"1.0.0".parse().unwrap(), add.clone()).unwrap();
///
/// // A composition nesting it verbatim, as wasm-tools compose makes them.
/// let mut composition = b"\0asm\x0d\0\x01\0".to_vec();
/// composition.push(4); // a nested component section
/// composition.extend(leb(add.len()));
/// composition.extend(&add);
/// composition.extend(wat::parse_str(r#"(component
///     (instance $a (instantiate 0))
///     (export "test:add/api@1.0.0" (instance $a "test:add/api@1.0.0")))"#).unwrap()[8..].iter());
/// # fn leb(mut n: usize) -> Vec<u8> {
/// #     let mut out = Vec::new();
/// #     loop { let b = (n & 0x7f) as u8; n >>= 7; if n == 0 { out.push(b); return out; } out.push(b | 0x80); }
/// # }
///
/// let recognised = recognise(&composition, &source).unwrap();
/// assert_eq!(recognised.packages[0].package.to_string(), "test:add");
/// assert_eq!(recognised.packages[0].import, "test-add-1");
/// assert!(recognised.inline.is_empty());
/// let bundled = Bundler::from_locked(&recognised.locked, &source).to_vec().unwrap();
/// assert!(wasmparser::Validator::new().validate_all(&bundled).is_ok());
/// ```
///
/// # Errors
///
/// [`ComposeError::NotAComponent`] or [`ComposeError::InvalidComponent`] for
/// an input that is not a valid component; [`ComposeError::Record`] when it
/// carries a record (use [`unbundle`](crate::unbundle)); [`ComposeError::Fetch`]
/// naming the package when the source fails (a package it does not know,
/// or that no configured registry serves, is no failure: that guess is not
/// a release, and the latter is listed in [`Recognised::unavailable`]);
/// [`ComposeError::InvalidOutput`] when the locked form does not validate.
pub fn recognise(composition: &[u8], source: &dyn Source) -> Result<Recognised, ComposeError> {
    let what = "composition";
    if has_record(composition)? {
        return Err(ComposeError::Record(
            "the input carries a bundle record: unbundle it exactly instead".to_string(),
        ));
    }
    Validator::new_with_features(WasmFeatures::all())
        .validate_all(composition)
        .map_err(|e| ComposeError::InvalidComponent {
            component: what.to_string(),
            cause: e.into(),
        })?;
    let outer = scan_of(composition, what)?;
    let sections = sections::split(composition, what)?;
    let nested: Vec<(u32, &[u8])> = sections
        .iter()
        .enumerate()
        .filter(|(_, s)| s.id == COMPONENT)
        .map(|(i, s)| (i as u32, &composition[s.contents.clone()]))
        .collect();

    // Every package the composition names, and each nested component's own.
    let mut named = BTreeSet::new();
    packages_named(&outer, &mut named, &mut BTreeSet::new());
    let mut own = Vec::with_capacity(nested.len());
    for (section, bytes) in &nested {
        let scanned = scan_of(bytes, &format!("component nested at section {section}"))?;
        let mut exported = BTreeSet::new();
        packages_named(&scanned, &mut named, &mut exported);
        own.push(exported);
    }

    let mut catalog = Catalog::new(source);
    let mut taken: BTreeSet<String> = outer.imports.iter().map(|i| i.name.name.clone()).collect();
    let mut found: BTreeMap<u32, (RecognisedPackage, Vec<u8>)> = BTreeMap::new();
    let mut inline = Vec::new();
    for ((section, bytes), exported) in nested.iter().zip(&own) {
        // Its own packages first, then the others the composition names.
        let order: Vec<&PackageName> = exported
            .iter()
            .chain(named.iter().filter(|p| !exported.contains(*p)))
            .collect();
        let matched = match catalog.verbatim(&order, bytes)? {
            Some(m) => Some(m),
            None => catalog.stripped(&order, bytes)?,
        };
        let Some((package, version, digest, release, form)) = matched else {
            inline.push(InlineComponent {
                section: *section,
                digest: Integrity::sha256(bytes),
                size: bytes.len(),
            });
            continue;
        };
        let import = unique(
            &base_import_name(&package, warg_depsolve_names::Track::of(&version)),
            &mut taken,
        );
        let label = format!("{package}@{version}");
        let ty = component_type(&label, bytes)?;
        found.insert(
            *section,
            (
                RecognisedPackage {
                    package,
                    version,
                    digest,
                    bytes: release,
                    section: *section,
                    import,
                    form,
                },
                ty,
            ),
        );
    }

    let locked = externalise(composition, &found)?;
    validate(&locked, WasmFeatures::all(), "locked form", "")?;
    Ok(Recognised {
        locked,
        packages: found.into_values().map(|(p, _)| p).collect(),
        inline,
        unavailable: catalog.unavailable,
    })
}

/// The top-level scan of a component, as a compose error.
fn scan_of(bytes: &[u8], what: &str) -> Result<ComponentScan, ComposeError> {
    scan::scan(bytes).map_err(|e| ComposeError::InvalidComponent {
        component: what.to_string(),
        cause: e.into(),
    })
}

/// Adds to `named` every package a component's top-level names refer to
/// (dependency references, interface names), and to `exported` the
/// packages of the interfaces it exports. Interfaces of the `wasi`
/// namespace are left out; a reference that does not parse names nothing.
fn packages_named(
    scanned: &ComponentScan,
    named: &mut BTreeSet<PackageName>,
    exported: &mut BTreeSet<PackageName>,
) {
    let interface = |name: &str| {
        InterfaceName::parse(name)
            .map(|i| i.package)
            .filter(|p| p.namespace() != "wasi")
    };
    for export in &scanned.exports {
        let packages = [
            interface(&export.name.full_name()),
            export.name.implements.as_deref().and_then(interface),
        ];
        for package in packages.into_iter().flatten() {
            named.insert(package.clone());
            exported.insert(package);
        }
    }
    for import in &scanned.imports {
        let name = import.name.full_name();
        match classify(&name, import.name.external_id.as_deref()) {
            Ok(ImportClass::Declared(r) | ImportClass::Legacy(r)) => {
                named.insert(r.package().clone());
            }
            Ok(ImportClass::Interface(i)) if i.package.namespace() != "wasi" => {
                named.insert(i.package);
            }
            _ => {}
        }
        if let Some(package) = import.name.implements.as_deref().and_then(interface) {
            named.insert(package);
        }
    }
}

/// A match: package, version, release digest, release bytes, how the
/// composition nested them.
type Match = (PackageName, Version, Integrity, Arc<[u8]>, NestedForm);

/// A release as a bundle nests it, for the stripped comparison: the
/// SHA-256 digests of its bytes after [`strip`], and of those without
/// custom sections; and the release's bytes.
struct StrippedRelease {
    stripped: Integrity,
    code: Integrity,
    bytes: Arc<[u8]>,
}

/// The releases of the packages asked about, each asked of the source once.
struct Catalog<'s> {
    source: &'s dyn Source,
    /// Each package's releases and their digests; `None` when the source
    /// does not know the package.
    releases: BTreeMap<PackageName, Option<Vec<(Version, Integrity)>>>,
    /// Each release fetched for the stripped comparison.
    stripped: BTreeMap<(PackageName, Version), StrippedRelease>,
    /// Packages no configured registry can serve, and why.
    unavailable: Vec<(PackageName, String)>,
}

impl<'s> Catalog<'s> {
    fn new(source: &'s dyn Source) -> Self {
        Catalog {
            source,
            releases: BTreeMap::new(),
            stripped: BTreeMap::new(),
            unavailable: Vec::new(),
        }
    }

    /// The releases of `package` with their digests (cheap digests when
    /// the source has them, else its metadata).
    fn releases(
        &mut self,
        package: &PackageName,
    ) -> Result<Option<&[(Version, Integrity)]>, ComposeError> {
        if !self.releases.contains_key(package) {
            let fail = |e: SourceError| ComposeError::Fetch {
                package: package.to_string(),
                source: Box::new(e),
            };
            let listed = match self.source.versions(package) {
                Ok(listing) => {
                    let mut releases = Vec::with_capacity(listing.releases.len());
                    for release in listing.releases.iter() {
                        let version = &release.version;
                        let digest = match self
                            .source
                            .hints()
                            .and_then(|h| h.release_digest(package, version))
                        {
                            Some(digest) => digest,
                            None => self
                                .source
                                .metadata(package, version)
                                .map(|m| m.digest.clone()),
                        }
                        .map_err(|e| ComposeError::Fetch {
                            package: format!("{package}@{version}"),
                            source: Box::new(e),
                        })?;
                        releases.push((version.clone(), digest));
                    }
                    Some(releases)
                }
                Err(SourceError::PackageNotFound { .. }) => None,
                // No configured registry serves it: a guess no registry
                // can answer, said in the result rather than failing.
                Err(e @ SourceError::BackendUnavailable { .. }) => {
                    self.unavailable.push((package.clone(), e.to_string()));
                    None
                }
                Err(e) => return Err(fail(e)),
            };
            self.releases.insert(package.clone(), listed);
        }
        Ok(self.releases[package].as_deref())
    }

    /// The first release among `packages`' whose digest is that of `bytes`.
    fn verbatim(
        &mut self,
        packages: &[&PackageName],
        bytes: &[u8],
    ) -> Result<Option<Match>, ComposeError> {
        let mut digests: BTreeMap<_, Integrity> = BTreeMap::new();
        for &package in packages {
            let Some(releases) = self.releases(package)? else {
                continue;
            };
            for (version, digest) in releases {
                let ours = digests
                    .entry(digest.algorithm)
                    .or_insert_with(|| Integrity::compute(digest.algorithm, bytes));
                if ours == digest {
                    return Ok(Some((
                        package.clone(),
                        version.clone(),
                        digest.clone(),
                        Arc::from(bytes),
                        NestedForm::Verbatim,
                    )));
                }
            }
        }
        Ok(None)
    }

    /// The first release among `packages`' whose bytes, stripped as the
    /// bundler nests them, are `bytes`, or are `bytes` once the custom
    /// sections of both are removed. Fetches each release it compares.
    fn stripped(
        &mut self,
        packages: &[&PackageName],
        bytes: &[u8],
    ) -> Result<Option<Match>, ComposeError> {
        let ours = Integrity::sha256(bytes);
        let ours_bare = Integrity::sha256(&without_custom_sections(bytes, "nested component")?);
        for &package in packages {
            let Some(releases) = self.releases(package)?.map(<[_]>::to_vec) else {
                continue;
            };
            for (version, digest) in releases {
                let key = (package.clone(), version.clone());
                if !self.stripped.contains_key(&key) {
                    let label = format!("{package}@{version}");
                    let release = fetch_verified(self.source, package, &version, &label, &digest)?;
                    let (stripped, _) = strip(&release, &label)?;
                    let code = Integrity::sha256(&without_custom_sections(&stripped, &label)?);
                    let stripped = Integrity::sha256(&stripped);
                    let entry = StrippedRelease {
                        stripped,
                        code,
                        bytes: release,
                    };
                    self.stripped.insert(key.clone(), entry);
                }
                let StrippedRelease {
                    stripped,
                    code,
                    bytes: release,
                } = &self.stripped[&key];
                let form = if *stripped == ours {
                    NestedForm::Stripped
                } else if *code == ours_bare {
                    NestedForm::WithoutCustomSections
                } else {
                    continue;
                };
                return Ok(Some((
                    package.clone(),
                    version,
                    digest,
                    Arc::clone(release),
                    form,
                )));
            }
        }
        Ok(None)
    }
}

/// `binary` (a component or core module) without its custom sections, at
/// every level of nesting.
fn without_custom_sections(binary: &[u8], what: &str) -> Result<Vec<u8>, ComposeError> {
    let bad = |message: String| ComposeError::InvalidComponent {
        component: what.to_string(),
        cause: message.into(),
    };
    if binary.len() < 8 {
        return Err(bad("shorter than its header".to_string()));
    }
    let component = binary[4..8] == sections::COMPONENT_HEADER[4..8];
    let mut out = Vec::with_capacity(binary.len());
    out.extend_from_slice(&binary[..8]);
    let mut pos = 8;
    while pos < binary.len() {
        let id = binary[pos];
        let (size, len) = sections::read_leb_u32(&binary[pos + 1..])
            .ok_or_else(|| bad(format!("bad section size at offset {:#x}", pos + 1)))?;
        let start = pos + 1 + len;
        let end = start
            .checked_add(size as usize)
            .filter(|&end| end <= binary.len())
            .ok_or_else(|| bad(format!("section at offset {pos:#x} runs past the end")))?;
        match id {
            CUSTOM => {}
            // Nested core modules (1) and components (4) of a component.
            1 | COMPONENT if component => {
                let inner = without_custom_sections(&binary[start..end], what)?;
                sections::write_section(&mut out, id, &inner);
            }
            _ => out.extend_from_slice(&binary[pos..end]),
        }
        pos = end;
    }
    Ok(out)
}

/// The type of `component` as one component type definition (its encoding
/// in a type section, without the count), as wasm-compose encodes the
/// type of a member it imports.
fn component_type(label: &str, component: &[u8]) -> Result<Vec<u8>, ComposeError> {
    let invalid = |message: String| ComposeError::InvalidComponent {
        component: label.to_string(),
        cause: message.into(),
    };
    let mut validator = Validator::new_with_features(WasmFeatures::all());
    let mut graph = CompositionGraph::new();
    let member = Component::from_bytes(&mut validator, "member", component)
        .map_err(|e| invalid(format!("{e:#}")))?;
    let id = graph
        .add_component(member)
        .map_err(|e| invalid(format!("{e:#}")))?;
    graph
        .instantiate(id)
        .map_err(|e| invalid(format!("{e:#}")))?;
    let encoded = graph
        .encode(EncodeOptions {
            define_components: false,
            export: None,
            validate: false,
        })
        .map_err(|e| invalid(format!("{e:#}")))?;
    // The member's import comes first: one type, then its import.
    let parsed = sections::split(&encoded, label)?;
    let first = parsed
        .first()
        .filter(|s| s.id == TYPE)
        .ok_or_else(|| invalid("wasm-compose gave no type for it".to_string()))?;
    let contents = &encoded[first.contents.clone()];
    match sections::read_leb_u32(contents) {
        Some((1, n)) => Ok(contents[n..].to_vec()),
        _ => Err(invalid(
            "wasm-compose gave its type as more than one definition".to_string(),
        )),
    }
}

/// The input with each nested component in `found` (by section) replaced
/// by a type definition and an import of that type, every later reference
/// into the top-level type index space shifted accordingly.
fn externalise(
    composition: &[u8],
    found: &BTreeMap<u32, (RecognisedPackage, Vec<u8>)>,
) -> Result<Vec<u8>, ComposeError> {
    let invalid = |e: ReencodeError<std::convert::Infallible>| ComposeError::InvalidComponent {
        component: "composition".to_string(),
        cause: e.into(),
    };
    let mut out = wasm_encoder::Component::new();
    let mut shift = Shift::default();
    let mut parser = Parser::new(0);
    let mut remaining = composition;
    // Top-level sections seen, and component types the input defined so far.
    let mut section: u32 = 0;
    let mut types: u32 = 0;
    while !remaining.is_empty() {
        let payload = match parser
            .parse(remaining, true)
            .map_err(|e| invalid(e.into()))?
        {
            Chunk::Parsed { consumed, payload } => {
                remaining = &remaining[consumed..];
                payload
            }
            Chunk::NeedMoreData(_) => unreachable!("the whole input is given"),
        };
        if let Payload::ComponentSection {
            unchecked_range, ..
        }
        | Payload::ModuleSection {
            unchecked_range, ..
        } = &payload
        {
            remaining = &remaining[(unchecked_range.end - unchecked_range.start) as usize..];
        }
        let is_section = !matches!(payload, Payload::Version { .. } | Payload::End(_));
        if let (Payload::ComponentSection { .. }, Some((package, ty))) =
            (&payload, found.get(&section))
        {
            // The new type's index in the output: the input's types so far
            // and those inserted before it.
            let index = types + shift.inserted.len() as u32;
            shift.inserted.push(types);
            let mut contents = Vec::with_capacity(ty.len() + 1);
            sections::write_leb(&mut contents, 1);
            contents.extend_from_slice(ty);
            out.section(&RawSection {
                id: TYPE,
                data: &contents,
            });
            let mut entry = Vec::new();
            sections::write_name(
                &mut entry,
                &Name {
                    external_id: Some(
                        DepRef::Locked {
                            package: package.package.clone(),
                            version: package.version.clone(),
                            integrity: vec![package.digest.clone()],
                        }
                        .to_string(),
                    ),
                    ..Name::new(package.import.clone())
                },
            );
            entry.push(0x04); // a component of type `index`
            sections::write_leb(&mut entry, u64::from(index));
            let mut import = Vec::with_capacity(entry.len() + 1);
            sections::write_leb(&mut import, 1);
            import.extend_from_slice(&entry);
            out.section(&RawSection {
                id: IMPORT,
                data: &import,
            });
        } else {
            types += types_defined(&payload).map_err(|e| invalid(e.into()))?;
            shift
                .parse_component_payload(&mut out, payload, composition)
                .map_err(invalid)?;
        }
        if is_section {
            section += 1;
        }
    }
    Ok(out.finish())
}

/// How many entries of the component type index space a top-level payload
/// adds.
fn types_defined(payload: &Payload<'_>) -> Result<u32, wasmparser::BinaryReaderError> {
    let mut n = 0;
    match payload {
        Payload::ComponentTypeSection(reader) => n = reader.count(),
        Payload::ComponentImportSection(reader) => {
            for import in reader.clone() {
                if matches!(import?.ty, ComponentTypeRef::Type(_)) {
                    n += 1;
                }
            }
        }
        Payload::ComponentAliasSection(reader) => {
            for alias in reader.clone() {
                match alias? {
                    ComponentAlias::InstanceExport {
                        kind: ComponentExternalKind::Type,
                        ..
                    }
                    | ComponentAlias::Outer {
                        kind: ComponentOuterAliasKind::Type,
                        ..
                    } => n += 1,
                    _ => {}
                }
            }
        }
        Payload::ComponentExportSection(reader) => {
            for export in reader.clone() {
                if export?.kind == ComponentExternalKind::Type {
                    n += 1;
                }
            }
        }
        _ => {}
    }
    Ok(n)
}

/// The re-encoder of [`externalise`]: shifts references into the
/// top-level component type space past the inserted type definitions.
#[derive(Default)]
struct Shift {
    /// For each inserted type, how many types the input defined before it.
    inserted: Vec<u32>,
    /// Nesting depth of the item being re-encoded (0: the top level).
    depth: u32,
    /// Whether a reference was shifted since this was last cleared.
    changed: bool,
}

impl Shift {
    /// The output index of the input's top-level type `index`.
    fn top_level(&mut self, index: u32) -> u32 {
        let before = self.inserted.iter().filter(|&&t| t <= index).count() as u32;
        if before > 0 {
            self.changed = true;
        }
        index + before
    }
}

impl Reencode for Shift {
    type Error = std::convert::Infallible;
}

impl ReencodeComponent for Shift {
    fn component_type_index(&mut self, ty: u32) -> u32 {
        if self.depth == 0 {
            self.top_level(ty)
        } else {
            ty
        }
    }

    fn outer_component_type_index(&mut self, count: u32, ty: u32) -> u32 {
        if count == self.depth {
            self.top_level(ty)
        } else {
            ty
        }
    }

    fn push_depth(&mut self) {
        self.depth += 1;
    }

    fn pop_depth(&mut self) {
        self.depth -= 1;
    }

    fn parse_component_submodule(
        &mut self,
        component: &mut wasm_encoder::Component,
        _parser: Parser,
        module: &[u8],
    ) -> Result<(), ReencodeError<Self::Error>> {
        // A core module cannot refer to component types: verbatim.
        component.section(&RawSection {
            id: wasm_encoder::ComponentSectionId::CoreModule as u8,
            data: module,
        });
        Ok(())
    }

    fn parse_component_subcomponent(
        &mut self,
        component: &mut wasm_encoder::Component,
        parser: Parser,
        subcomponent: &[u8],
        whole_component: &[u8],
    ) -> Result<(), ReencodeError<Self::Error>> {
        let changed_before = std::mem::replace(&mut self.changed, false);
        self.push_depth();
        let mut rewritten = wasm_encoder::Component::new();
        let result = component_utils::parse_component(
            self,
            &mut rewritten,
            parser,
            subcomponent,
            whole_component,
        );
        self.pop_depth();
        result?;
        if self.changed {
            component.section(&NestedComponentSection(&rewritten));
        } else {
            // Nothing in it reaches past an inserted type: verbatim.
            component.section(&RawSection {
                id: COMPONENT,
                data: subcomponent,
            });
        }
        self.changed |= changed_before;
        Ok(())
    }
}
