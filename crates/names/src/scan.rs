//! A cheap scan of a component binary's top level.
//!
//! [`scan`] reads the sections of a component's outermost layer with the
//! non-validating [`wasmparser::Parser`] and reports its imports, exports,
//! nested modules and components (as byte ranges), instance counts and the
//! little metadata a registry tool cares about (name and version).
//!
//! It never walks function bodies or the internals of nested modules and
//! components: a nested module is one section header plus an 8-byte header
//! check, however large its code is. The cost of a scan is proportional to the
//! number of top-level sections and of the import, export and alias entries
//! in them, not to the size of the binary.
//!
//! Import names are read without validation, so names the validator rejects
//! (such as legacy depnames like `unlocked-dep=<test:inc@{>=1.0.0}>`) come
//! through verbatim, and name attributes (`implements`, `version-suffix`,
//! `external-id`) are always parsed.
//!
//! ```
//! use warg_depsolve_names::scan::{scan, ItemKind};
//!
//! let bytes = wat::parse_str(r#"
//!     (component
//!         (import "wasi:cli/stdout@0.2.3" (instance))
//!         (import "inc" (external-id "unlocked-dep=<test:inc@{>=1.0.0}>") (instance))
//!     )
//! "#).unwrap();
//! let scanned = scan(&bytes).unwrap();
//! assert_eq!(scanned.imports[1].name.name, "inc");
//! assert_eq!(
//!     scanned.imports[1].name.external_id.as_deref(),
//!     Some("unlocked-dep=<test:inc@{>=1.0.0}>"),
//! );
//! assert_eq!(scanned.imports[1].kind, ItemKind::Instance);
//! ```

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::Serialize;

use crate::classify::{classify, ClassifyError, ImportClass};
use crate::interface::InterfaceName;
use wasmparser::{
    BinaryReaderError, Chunk, ComponentAlias, ComponentExternalKind, ComponentName,
    ComponentOuterAliasKind, ComponentTypeRef, ComponentValType, Encoding, KnownCustom, Parser,
    Payload, TypeBounds, WasmFeatures,
};

/// The `\0asm` magic number every wasm binary starts with.
const WASM_MAGIC: [u8; 4] = *b"\0asm";
/// Version field of a core module header (version 1, layer 0).
const MODULE_VERSION: [u8; 4] = [0x01, 0x00, 0x00, 0x00];
/// Version field of a component header (version 0x0d, layer 1).
const COMPONENT_VERSION: [u8; 4] = [0x0d, 0x00, 0x01, 0x00];
/// Name of the custom section wasm-metadata writes the version into.
const VERSION_SECTION: &str = "version";

/// What [`scan`] found at the top level of a component.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ComponentScan {
    /// Top-level imports, in binary order.
    pub imports: Vec<Import>,
    /// Top-level exports, in binary order.
    pub exports: Vec<Export>,
    /// Modules and components defined (nested) at the top level, in binary
    /// order.
    pub nested: Vec<Nested>,
    /// Number of instances created by the top-level instance sections.
    pub instance_count: InstanceCount,
    /// The component's own name and version, if it carries them.
    pub metadata: ComponentMetadata,
}

/// The name of an import or export, with its name attributes.
///
/// `name` is the name exactly as it is stored in the binary, which may be a
/// plain name (`inc`), an interface name (`wasi:cli/stdout@0.2.3`) or, in
/// binaries from older tools, a raw legacy name the validator no longer
/// accepts (`unlocked-dep=<test:inc@{>=1.0.0}>`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct ExternName {
    /// The name as written in the binary.
    pub name: String,
    /// The `(implements "...")` attribute: the interface this plain-named
    /// import or export implements.
    pub implements: Option<String>,
    /// The `(version-suffix "...")` attribute: the rest of a version that is
    /// abbreviated in `name` (or in `implements` if present).
    pub version_suffix: Option<String>,
    /// The `(external-id "...")` attribute: an opaque string for tooling,
    /// which carries dependency references.
    pub external_id: Option<String>,
}

impl ExternName {
    /// An `ExternName` with no attributes.
    pub fn new(name: impl Into<String>) -> Self {
        ExternName {
            name: name.into(),
            ..ExternName::default()
        }
    }

    /// The full name: `name` with `version_suffix` appended if the suffix
    /// applies to it (there is no `implements`, and `name` has a version),
    /// as wasmparser's `ComponentExternName::full_name` computes it.
    pub fn full_name(&self) -> Cow<'_, str> {
        match self.implements {
            Some(_) => Cow::Borrowed(&self.name),
            None => with_version_suffix(&self.name, self.version_suffix.as_deref()),
        }
    }

    /// The full `implements` interface name: `implements` with
    /// `version_suffix` appended if it has a version.
    pub fn full_implements(&self) -> Option<Cow<'_, str>> {
        let implements = self.implements.as_deref()?;
        Some(with_version_suffix(
            implements,
            self.version_suffix.as_deref(),
        ))
    }

    /// What this import is: a declared dependency (its `external-id`), a
    /// legacy depname, an interface import (its full name, or else the
    /// interface it `implements`), or a host import. The one place imports
    /// are classified from their binary names; errors name `name`.
    ///
    /// ```
    /// use warg_depsolve_names::{scan::ExternName, ImportClass};
    /// let mut store = ExternName::new("store");
    /// store.implements = Some("acme:kv/store@1".into());
    /// store.version_suffix = Some(".2.0".into());
    /// let ImportClass::Interface(i) = store.classify().unwrap() else { panic!() };
    /// assert_eq!(i.to_string(), "acme:kv/store@1.2.0");
    /// ```
    pub fn classify(&self) -> Result<ImportClass, ClassifyError> {
        let class = classify(&self.full_name(), self.external_id.as_deref()).map_err(|mut e| {
            e.import = self.name.clone();
            e
        })?;
        if class == ImportClass::Host {
            if let Some(interface) = self
                .full_implements()
                .and_then(|i| InterfaceName::parse(&i))
            {
                return Ok(ImportClass::Interface(interface));
            }
        }
        Ok(class)
    }
}

fn with_version_suffix<'a>(name: &'a str, suffix: Option<&str>) -> Cow<'a, str> {
    match suffix {
        Some(suffix) if name.contains('@') => Cow::Owned(format!("{name}{suffix}")),
        _ => Cow::Borrowed(name),
    }
}

impl From<wasmparser::ComponentExternName<'_>> for ExternName {
    fn from(name: wasmparser::ComponentExternName<'_>) -> Self {
        ExternName {
            name: name.name.to_owned(),
            implements: name.implements.map(str::to_owned),
            version_suffix: name.version_suffix.map(str::to_owned),
            external_id: name.external_id.map(str::to_owned),
        }
    }
}

impl fmt::Display for ExternName {
    /// Writes the name as stored, without attributes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// The kind of item a component imports or exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemKind {
    /// A core module.
    Module,
    /// A component function.
    Func,
    /// A component value.
    Value,
    /// A type.
    Type,
    /// A component instance.
    Instance,
    /// A component.
    Component,
}

impl ItemKind {
    /// The kind's name as the text format spells it (`module`, `func`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Module => "module",
            ItemKind::Func => "func",
            ItemKind::Value => "value",
            ItemKind::Type => "type",
            ItemKind::Instance => "instance",
            ItemKind::Component => "component",
        }
    }
}

impl fmt::Display for ItemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<ComponentExternalKind> for ItemKind {
    fn from(kind: ComponentExternalKind) -> Self {
        match kind {
            ComponentExternalKind::Module => ItemKind::Module,
            ComponentExternalKind::Func => ItemKind::Func,
            ComponentExternalKind::Value => ItemKind::Value,
            ComponentExternalKind::Type => ItemKind::Type,
            ComponentExternalKind::Instance => ItemKind::Instance,
            ComponentExternalKind::Component => ItemKind::Component,
        }
    }
}

/// A top-level import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Import {
    /// The import's name and attributes.
    pub name: ExternName,
    /// What kind of item is imported.
    pub kind: ItemKind,
    /// The type index in the import's type reference, when it has one: the
    /// core type index of a module type, the component type index of a
    /// func, instance or component type, the index of a `(type (eq N))`
    /// bound or of a non-primitive value type. `None` for a fresh resource
    /// (`(sub resource)`) and for values of a primitive type.
    pub type_index: Option<u32>,
}

/// A top-level export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Export {
    /// The export's name and attributes.
    pub name: ExternName,
    /// What kind of item is exported.
    pub kind: ItemKind,
    /// Index of the exported item in the component's index space for `kind`.
    pub index: u32,
}

/// Whether a nested definition is a core module or a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NestedKind {
    /// A core module (module section).
    Module,
    /// A component (component section).
    Component,
}

/// A module or component defined inside the scanned component's top level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Nested {
    /// Module or component.
    pub kind: NestedKind,
    /// The definition's index in the enclosing component's core module index
    /// space (for modules) or component index space (for components): the
    /// index an `instantiate` refers to it by.
    ///
    /// It counts every item that entered that index space before it, in
    /// binary order: imports of that kind, aliases of that kind (outer
    /// aliases and aliases of instance exports), exports of that kind (which
    /// introduce a new index) and earlier nested definitions.
    pub index: u32,
    /// The definition's position among the nested definitions of the same
    /// kind at the top level (0 for the first nested module, 0 for the first
    /// nested component, ...), ignoring imports, aliases and exports.
    pub ordinal: u32,
    /// Byte range of the nested binary in the scanned input: exactly the
    /// bytes of the module or component, from its `\0asm` header to its end,
    /// so `&bytes[range]` is a standalone binary.
    pub range: Range<usize>,
}

impl Nested {
    /// The nested binary's bytes, sliced from `component`, which must be the
    /// bytes this `Nested` was scanned from.
    ///
    /// # Panics
    ///
    /// Panics if `range` is out of bounds for `component`, which cannot
    /// happen with the bytes that were scanned.
    pub fn bytes<'a>(&self, component: &'a [u8]) -> &'a [u8] {
        &component[self.range.clone()]
    }
}

/// Instances created at the top level by instance sections.
///
/// Imported instances and instances introduced by aliases or exports are not
/// counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct InstanceCount {
    /// Core instances (core instance sections).
    pub core: u32,
    /// Component instances (component instance sections).
    pub component: u32,
}

/// The component's own metadata.
///
/// Metadata lives in custom sections, which carry no semantics; a custom
/// section whose payload cannot be read is ignored rather than reported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ComponentMetadata {
    /// The component's name from its `component-name` custom section
    /// (the component-name subsection), if any.
    pub name: Option<String>,
    /// The payload of the `version` custom section, as wasm-metadata writes
    /// it, if any (bytes that are not UTF-8 replaced by U+FFFD). If there
    /// are several, the last one wins.
    pub version: Option<String>,
    /// The descriptive sections wasm-metadata writes (`authors`,
    /// `description`, `licenses`, `source`, `homepage`), read the way
    /// `version` is. Registries show them: the OCI publisher turns them into
    /// the standard `org.opencontainers.image.*` annotations, as wkg does.
    pub descriptive: DescriptiveMetadata,
}

/// The descriptive custom sections of a component (see
/// [`ComponentMetadata::descriptive`]); each the section's UTF-8 text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DescriptiveMetadata {
    /// `authors`: who made it.
    pub authors: Option<String>,
    /// `description`: what it is.
    pub description: Option<String>,
    /// `licenses`: an SPDX license expression.
    pub licenses: Option<String>,
    /// `source`: where its source code is.
    pub source: Option<String>,
    /// `homepage`: where to read more.
    pub homepage: Option<String>,
}

impl DescriptiveMetadata {
    /// The slot a custom section of this name fills, if it is one of them.
    fn slot(&mut self, section: &str) -> Option<&mut Option<String>> {
        match section {
            "authors" => Some(&mut self.authors),
            "description" => Some(&mut self.description),
            "licenses" => Some(&mut self.licenses),
            "source" => Some(&mut self.source),
            "homepage" => Some(&mut self.homepage),
            _ => None,
        }
    }
}

/// Why [`scan`] failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// The input is not a component binary at all; the string says what it
    /// is instead (e.g. "a core wasm module", "empty input", "bad magic
    /// bytes ...").
    #[error("not a component: {0}")]
    NotAComponent(String),
    /// The input starts like a component but cannot be read.
    #[error("malformed component at offset {offset:#x}: {message}")]
    Malformed {
        /// Byte offset into the input where the problem was found.
        offset: usize,
        /// What is wrong.
        message: String,
    },
}

impl ScanError {
    fn malformed(offset: usize, message: impl Into<String>) -> Self {
        ScanError::Malformed {
            offset,
            message: message.into(),
        }
    }
}

impl From<BinaryReaderError> for ScanError {
    fn from(e: BinaryReaderError) -> Self {
        ScanError::malformed(to_usize(e.offset()).unwrap_or(usize::MAX), e.message())
    }
}

/// Scans the top level of the component in `bytes`.
///
/// Reads imports (with all name attributes), exports, nested module and
/// component ranges, top-level instance counts, and the component's name
/// and version metadata. Never walks function bodies or nested binaries.
///
/// # Errors
///
/// [`ScanError::NotAComponent`] if `bytes` is empty, is not wasm, or is a
/// core module (or a component in an unsupported encoding version);
/// [`ScanError::Malformed`] if the component's top level cannot be read
/// (truncated, bad section, bad import or export entry, a nested binary that
/// runs past the end of the input or has the wrong header, ...).
pub fn scan(bytes: &[u8]) -> Result<ComponentScan, ScanError> {
    check_header(bytes)?;

    let mut parser = Parser::new(0);
    parser.set_features(WasmFeatures::all());

    let mut out = ComponentScan::default();
    // Sizes of the module and component index spaces so far.
    let mut modules = Counter::new("modules");
    let mut components = Counter::new("components");
    // Nested definitions so far.
    let mut nested_modules = Counter::new("nested modules");
    let mut nested_components = Counter::new("nested components");

    loop {
        let offset = to_usize(parser.offset())
            .filter(|&o| o <= bytes.len())
            .ok_or_else(|| ScanError::malformed(bytes.len(), "unexpected end of input"))?;
        let payload = match parser.parse(&bytes[offset..], true)? {
            Chunk::Parsed { payload, .. } => payload,
            // Only returned when `eof` is false.
            Chunk::NeedMoreData(_) => {
                return Err(ScanError::malformed(bytes.len(), "unexpected end of input"))
            }
        };
        match payload {
            Payload::Version { .. } => {}

            Payload::ComponentImportSection(reader) => {
                for import in reader {
                    let import = import?;
                    let kind = ItemKind::from(import.ty.kind());
                    take_index(kind, &mut modules, &mut components, offset)?;
                    out.imports.push(Import {
                        name: import.name.into(),
                        kind,
                        type_index: type_index(import.ty),
                    });
                }
            }

            Payload::ComponentExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    let kind = ItemKind::from(export.kind);
                    // Exports introduce a new index in their index space.
                    take_index(kind, &mut modules, &mut components, offset)?;
                    out.exports.push(Export {
                        name: export.name.into(),
                        kind,
                        index: export.index,
                    });
                }
            }

            Payload::ComponentAliasSection(reader) => {
                for alias in reader {
                    match alias? {
                        ComponentAlias::InstanceExport {
                            kind: ComponentExternalKind::Module,
                            ..
                        }
                        | ComponentAlias::Outer {
                            kind: ComponentOuterAliasKind::CoreModule,
                            ..
                        } => {
                            modules.bump(offset)?;
                        }
                        ComponentAlias::InstanceExport {
                            kind: ComponentExternalKind::Component,
                            ..
                        }
                        | ComponentAlias::Outer {
                            kind: ComponentOuterAliasKind::Component,
                            ..
                        } => {
                            components.bump(offset)?;
                        }
                        _ => {}
                    }
                }
            }

            Payload::ModuleSection {
                unchecked_range, ..
            } => {
                let range = nested_range(bytes, unchecked_range, Encoding::Module)?;
                out.nested.push(Nested {
                    kind: NestedKind::Module,
                    index: modules.bump(offset)?,
                    ordinal: nested_modules.bump(offset)?,
                    range,
                });
            }

            Payload::ComponentSection {
                unchecked_range, ..
            } => {
                let range = nested_range(bytes, unchecked_range, Encoding::Component)?;
                out.nested.push(Nested {
                    kind: NestedKind::Component,
                    index: components.bump(offset)?,
                    ordinal: nested_components.bump(offset)?,
                    range,
                });
            }

            Payload::InstanceSection(reader) => {
                out.instance_count.core = add_count(out.instance_count.core, reader.count())
                    .ok_or_else(|| ScanError::malformed(offset, "too many core instances"))?;
            }
            Payload::ComponentInstanceSection(reader) => {
                out.instance_count.component =
                    add_count(out.instance_count.component, reader.count()).ok_or_else(|| {
                        ScanError::malformed(offset, "too many component instances")
                    })?;
            }

            Payload::CustomSection(reader) => match reader.as_known() {
                KnownCustom::ComponentName(names) => {
                    // Lenient: a broken name section is just no name.
                    for name in names.into_iter().map_while(Result::ok) {
                        if let ComponentName::Component { name, .. } = name {
                            out.metadata.name = Some(name.to_owned());
                        }
                    }
                }
                _ if reader.name() == VERSION_SECTION => {
                    // Bytes that are not UTF-8 are kept (replaced by
                    // U+FFFD): a version that is there but unreadable is
                    // reported as such, not as missing.
                    out.metadata.version =
                        Some(String::from_utf8_lossy(reader.data()).into_owned());
                }
                _ => {
                    if let Some(slot) = out.metadata.descriptive.slot(reader.name()) {
                        *slot = Some(String::from_utf8_lossy(reader.data()).into_owned());
                    }
                }
            },

            // Sections we don't look into.
            Payload::CoreTypeSection(_)
            | Payload::ComponentTypeSection(_)
            | Payload::ComponentCanonicalSection(_)
            | Payload::ComponentStartSection { .. } => {}

            Payload::UnknownSection { id, range, .. } => {
                return Err(ScanError::malformed(
                    to_usize(range.start).unwrap_or(offset),
                    format!("unknown component section id {id}"),
                ));
            }

            // A component has no code section (the header check guarantees
            // the parser is in component mode), but never walk one.
            Payload::CodeSectionStart { .. } => parser.skip_section(),

            Payload::End(_) => break,

            // Core module sections never appear at a component's top level.
            _ => {
                return Err(ScanError::malformed(
                    offset,
                    "unexpected core module section in a component",
                ))
            }
        }
    }
    Ok(out)
}

/// Whether `bytes` starts with a component's header; if not, what it is
/// instead. The one classification of inputs that are not components:
/// [`scan`] runs it before parsing starts, and the compose passes run it on
/// the binaries they take whole.
///
/// ```
/// use warg_depsolve_names::scan::{check_header, ScanError};
/// assert!(check_header(b"\0asm\x0d\0\x01\0").is_ok());
/// let err = check_header(b"\0asm\x01\0\0\0").unwrap_err();
/// assert_eq!(err.to_string(), "not a component: a core wasm module");
/// ```
///
/// # Errors
///
/// [`ScanError::NotAComponent`] for empty input, bytes that are not
/// WebAssembly, a core module, or an unsupported version or layer;
/// [`ScanError::Malformed`] for a header cut short.
pub fn check_header(bytes: &[u8]) -> Result<(), ScanError> {
    let not = |what: String| Err(ScanError::NotAComponent(what));
    if bytes.is_empty() {
        return not("empty input".into());
    }
    let magic_len = bytes.len().min(4);
    if bytes[..magic_len] != WASM_MAGIC[..magic_len] {
        let found: Vec<String> = bytes[..magic_len]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let hint = if bytes.trim_ascii_start().starts_with(b"(") {
            " (this looks like WebAssembly text; convert it to binary first)"
        } else {
            ""
        };
        return not(format!(
            "bad magic bytes: expected 00 61 73 6d (\"\\0asm\"), found {}{hint}",
            found.join(" ")
        ));
    }
    if bytes.len() < 8 {
        return Err(ScanError::malformed(
            bytes.len(),
            format!("truncated header: input is {} bytes long", bytes.len()),
        ));
    }
    let version = &bytes[4..8];
    if version == MODULE_VERSION {
        return not("a core wasm module".into());
    }
    if version != COMPONENT_VERSION {
        let num = u16::from_le_bytes([version[0], version[1]]);
        let layer = u16::from_le_bytes([version[2], version[3]]);
        return not(match layer {
            1 => format!("a component in unsupported encoding version {num:#x} (expected 0xd)"),
            0 => format!("a core wasm module in unsupported version {num:#x}"),
            _ => format!("unknown wasm layer {layer:#x} (version {num:#x})"),
        });
    }
    Ok(())
}

/// Checks a nested module or component's range against the input and its
/// header (only the header: the body is not parsed).
fn nested_range(
    bytes: &[u8],
    range: Range<u64>,
    expect: Encoding,
) -> Result<Range<usize>, ScanError> {
    let what = match expect {
        Encoding::Module => "module",
        Encoding::Component => "component",
    };
    let start = to_usize(range.start).unwrap_or(usize::MAX);
    let end = to_usize(range.end).unwrap_or(usize::MAX);
    if start > end || end > bytes.len() {
        return Err(ScanError::malformed(
            bytes.len().min(start),
            format!(
                "nested {what} at {:#x}..{:#x} runs past the end of the input ({:#x} bytes)",
                range.start,
                range.end,
                bytes.len()
            ),
        ));
    }
    let nested = &bytes[start..end];
    let header = match expect {
        Encoding::Module => MODULE_VERSION,
        Encoding::Component => COMPONENT_VERSION,
    };
    if nested.len() < 8 || nested[..4] != WASM_MAGIC || nested[4..8] != header {
        return Err(ScanError::malformed(
            start,
            format!("nested {what} does not start with a {what} header"),
        ));
    }
    Ok(start..end)
}

/// The type index in an import's type reference, if it has one.
fn type_index(ty: ComponentTypeRef) -> Option<u32> {
    match ty {
        ComponentTypeRef::Module(i)
        | ComponentTypeRef::Func(i)
        | ComponentTypeRef::Instance(i)
        | ComponentTypeRef::Component(i)
        | ComponentTypeRef::Type(TypeBounds::Eq(i))
        | ComponentTypeRef::Value(ComponentValType::Type(i)) => Some(i),
        ComponentTypeRef::Type(TypeBounds::SubResource)
        | ComponentTypeRef::Value(ComponentValType::Primitive(_)) => None,
    }
}

fn to_usize(n: u64) -> Option<usize> {
    usize::try_from(n).ok()
}

fn add_count(a: u32, b: u32) -> Option<u32> {
    a.checked_add(b)
}
/// An imported or exported module or component takes the next index of
/// its index space; other kinds of item are not counted here.
fn take_index(
    kind: ItemKind,
    modules: &mut Counter,
    components: &mut Counter,
    offset: usize,
) -> Result<(), ScanError> {
    match kind {
        ItemKind::Module => modules.bump(offset).map(drop),
        ItemKind::Component => components.bump(offset).map(drop),
        _ => Ok(()),
    }
}

/// The running size of an index space.
struct Counter {
    next: u32,
    what: &'static str,
}

impl Counter {
    fn new(what: &'static str) -> Self {
        Counter { next: 0, what }
    }

    /// Returns the next index and advances.
    fn bump(&mut self, offset: usize) -> Result<u32, ScanError> {
        let index = self.next;
        self.next = index
            .checked_add(1)
            .ok_or_else(|| ScanError::malformed(offset, format!("too many {}", self.what)))?;
        Ok(index)
    }
}
