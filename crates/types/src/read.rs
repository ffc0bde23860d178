//! Reading a component's [`ComponentTypes`] with wasmparser's validator:
//! every type section, alias and import checked and resolved, no function
//! body validated (types are all linking needs, and a release's bodies were
//! validated when it was published).

use std::collections::HashMap;
use std::fmt::Write as _;

use warg_depsolve_names::InterfaceName;
use wasmparser::component_types::{
    AliasableResourceId, ComponentAnyTypeId, ComponentDefinedType, ComponentEntityType,
    ComponentFuncTypeId, ComponentInstanceTypeId, ComponentValType, ResourceId,
};
use wasmparser::types::TypesRef;
use wasmparser::{Parser, Payload, ValidPayload, Validator, WasmFeatures};

use crate::{ComponentTypes, ItemType};

/// Why a component's types could not be read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TypesError {
    /// The bytes do not parse or their types do not validate (the cause
    /// is the validator's error).
    #[error("its types do not validate")]
    Invalid(#[source] wasmparser::BinaryReaderError),
    /// The bytes are a core module, not a component.
    #[error("it is a core module, not a component")]
    NotAComponent,
}

impl ComponentTypes {
    /// Reads the types of the component in `bytes`: every top-level export,
    /// and the imports whose stored name `keep_import` accepts (a release's
    /// metadata keeps the ones that name registry packages; host imports
    /// would only make the facts larger).
    ///
    /// ```
    /// use warg_depsolve_types::{ComponentTypes, ItemType};
    /// let bytes = wat::parse_str(r#"(component
    ///     (import "acme:kv/store@1.4.0" (instance
    ///         (export "handle" (type (sub resource)))
    ///         (export "open" (func (param "name" string) (result (own 0))))))
    ///     (import "log" (func (param "msg" string))))"#).unwrap();
    /// let types = ComponentTypes::read(&bytes, |name| name != "log").unwrap();
    /// let ItemType::Instance(store) = &types.imports["acme:kv/store@1.4.0"] else { panic!() };
    /// assert_eq!(store["handle"], ItemType::Exact("resource".into()));
    /// assert_eq!(store["open"], ItemType::Exact("func(name: string) -> own<%handle>".into()));
    /// assert!(!types.imports.contains_key("log"));
    /// ```
    ///
    /// # Errors
    ///
    /// [`TypesError::Invalid`] when the bytes do not parse or their types
    /// do not validate; [`TypesError::NotAComponent`] for a core module.
    pub fn read(bytes: &[u8], keep_import: impl Fn(&str) -> bool) -> Result<Self, TypesError> {
        let features = WasmFeatures::all();
        let mut validator = Validator::new_with_features(features);
        let mut parser = Parser::new(0);
        parser.set_features(features);
        let mut imports = Vec::new();
        let mut exports = Vec::new();
        let mut depth = 0usize;
        let mut top = None;
        for payload in parser.parse_all(bytes) {
            let payload = payload.map_err(TypesError::Invalid)?;
            match &payload {
                Payload::Version {
                    encoding: wasmparser::Encoding::Module,
                    ..
                } if depth == 0 => return Err(TypesError::NotAComponent),
                Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
                Payload::End(_) => depth = depth.saturating_sub(1),
                Payload::ComponentImportSection(reader) if depth == 0 => {
                    for import in reader.clone() {
                        let import = import.map_err(TypesError::Invalid)?;
                        imports.push(import.name.name.to_string());
                    }
                }
                Payload::ComponentExportSection(reader) if depth == 0 => {
                    for export in reader.clone() {
                        let export = export.map_err(TypesError::Invalid)?;
                        let full = export.name.full_name().into_owned();
                        let implements = export.name.full_implements().map(|i| i.into_owned());
                        exports.push((export.name.name.to_string(), full, implements));
                    }
                }
                _ => {}
            }
            // Function bodies are handed back to validate; they are not.
            if let ValidPayload::End(types) =
                validator.payload(&payload).map_err(TypesError::Invalid)?
            {
                top = Some(types);
            }
        }
        let types = top.ok_or(TypesError::NotAComponent)?;
        let types = types.as_ref();

        let item_of_import = |name: &str| types.component_item_for_import(name).map(|i| &i.ty);
        let item_of_export = |name: &str| types.component_item_for_export(name).map(|i| &i.ty);
        // Resources are named by where they are declared: the imports
        // first, so a re-exported import keeps the import's name.
        let mut render = Render {
            types,
            global: HashMap::new(),
        };
        for name in &imports {
            if let Some(ty) = item_of_import(name) {
                render.name_resources(name, ty);
            }
        }
        for (name, full, _) in &exports {
            if let Some(ty) = item_of_export(name) {
                render.name_resources(full, ty);
            }
        }

        let mut out = ComponentTypes::default();
        let top_local = render.top_level_resources(
            imports
                .iter()
                .filter_map(|n| Some((n.as_str(), item_of_import(n)?)))
                .chain(
                    exports
                        .iter()
                        .filter_map(|(n, _, _)| Some((n.as_str(), item_of_export(n)?))),
                ),
        );
        for name in imports.iter().filter(|n| keep_import(n)) {
            if let Some(ty) = item_of_import(name) {
                out.imports
                    .insert(name.clone(), render.item(ty, &top_local));
            }
        }
        for (name, full, implements) in &exports {
            if let Some(ty) = item_of_export(name) {
                let item = render.item(ty, &top_local);
                if let Some(interface) = implements {
                    if InterfaceName::parse(full).is_none() {
                        out.exports.insert(interface.clone(), item.clone());
                    }
                }
                out.exports.insert(full.clone(), item);
            }
        }
        Ok(out)
    }
}

/// Canonical text of types, resources named by where they are declared.
struct Render<'a> {
    types: TypesRef<'a>,
    /// Resources declared by a top-level import or export instance:
    /// `<interface on its track>#<name>`.
    global: HashMap<ResourceId, String>,
}

/// Resources an instance (or the top level) declares, by their own names.
type Local = HashMap<ResourceId, String>;

impl Render<'_> {
    /// Records the resources the top-level item `name` declares.
    fn name_resources(&mut self, name: &str, ty: &ComponentEntityType) {
        let ComponentEntityType::Instance(id) = ty else {
            return;
        };
        let owner = canonical(name);
        for (item, export) in &self.types[*id].exports {
            if let Some(r) = resource_of(&export.ty) {
                self.global
                    .entry(r)
                    .or_insert_with(|| format!("{owner}#{item}"));
            }
        }
    }

    /// The resources the top level itself names (type imports and
    /// exports), by their names.
    fn top_level_resources<'n>(
        &self,
        items: impl Iterator<Item = (&'n str, &'n ComponentEntityType)>,
    ) -> Local {
        let mut local = Local::new();
        for (name, ty) in items {
            if let Some(r) = resource_of(ty) {
                local.entry(r).or_insert_with(|| name.to_string());
            }
        }
        local
    }

    fn item(&self, ty: &ComponentEntityType, local: &Local) -> ItemType {
        let mut out = String::new();
        match ty {
            ComponentEntityType::Instance(id) => return self.instance(*id),
            ComponentEntityType::Module(_) => out.push_str("module"),
            ComponentEntityType::Func(id) => self.func(*id, local, &mut out),
            ComponentEntityType::Value(v) => {
                out.push_str("value ");
                self.val(v, local, &mut out);
            }
            ComponentEntityType::Type { referenced, .. } => match referenced {
                // An imported resource type accepts any resource.
                ComponentAnyTypeId::Resource(_) => out.push_str("resource"),
                ComponentAnyTypeId::Defined(id) => {
                    out.push_str("type ");
                    self.defined(&self.types[*id], local, &mut out);
                }
                ComponentAnyTypeId::Func(id) => {
                    out.push_str("type ");
                    self.func(*id, local, &mut out);
                }
                ComponentAnyTypeId::Instance(_) => out.push_str("type instance"),
                ComponentAnyTypeId::Component(_) => out.push_str("type component"),
            },
            ComponentEntityType::Component(id) => {
                // Components are rarely imported from a registry package;
                // their import and export names stand for them.
                let ty = &self.types[*id];
                let names = |m: &wasmparser::collections::IndexMap<_, _>| {
                    let mut names: Vec<&String> = m.keys().collect();
                    names.sort();
                    names
                        .into_iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let _ = write!(
                    out,
                    "component(imports: {}; exports: {})",
                    names(&ty.imports),
                    names(&ty.exports)
                );
            }
        }
        ItemType::Exact(out)
    }

    fn instance(&self, id: ComponentInstanceTypeId) -> ItemType {
        let exports = &self.types[id].exports;
        let local: Local = exports
            .iter()
            .filter_map(|(name, e)| Some((resource_of(&e.ty)?, name.clone())))
            .collect();
        ItemType::Instance(
            exports
                .iter()
                .map(|(name, e)| (name.clone(), self.item(&e.ty, &local)))
                .collect(),
        )
    }

    fn func(&self, id: ComponentFuncTypeId, local: &Local, out: &mut String) {
        let func = &self.types[id];
        if func.async_ {
            out.push_str("async ");
        }
        out.push_str("func(");
        for (i, (name, ty)) in func.params.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "{}: ", name.as_str());
            self.val(ty, local, out);
        }
        out.push(')');
        if let Some(result) = &func.result {
            out.push_str(" -> ");
            self.val(result, local, out);
        }
    }

    fn val(&self, ty: &ComponentValType, local: &Local, out: &mut String) {
        match ty {
            ComponentValType::Primitive(p) => {
                let _ = write!(out, "{p}");
            }
            ComponentValType::Type(id) => self.defined(&self.types[*id], local, out),
        }
    }

    fn opt(&self, ty: Option<&ComponentValType>, local: &Local, out: &mut String) {
        match ty {
            Some(ty) => self.val(ty, local, out),
            None => out.push('_'),
        }
    }

    fn defined(&self, ty: &ComponentDefinedType, local: &Local, out: &mut String) {
        let list = |out: &mut String, open: &str, names: &mut dyn Iterator<Item = &str>| {
            out.push_str(open);
            out.push_str(&names.collect::<Vec<_>>().join(", "));
            out.push('}');
        };
        match ty {
            ComponentDefinedType::Primitive(p) => {
                let _ = write!(out, "{p}");
            }
            ComponentDefinedType::Record(record) => {
                out.push_str("record{");
                for (i, (name, ty)) in record.fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    let _ = write!(out, "{}: ", name.as_str());
                    self.val(ty, local, out);
                }
                out.push('}');
            }
            ComponentDefinedType::Variant(variant) => {
                out.push_str("variant{");
                for (i, (name, case)) in variant.cases.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(name.as_str());
                    if let Some(ty) = &case.ty {
                        out.push('(');
                        self.val(ty, local, out);
                        out.push(')');
                    }
                }
                out.push('}');
            }
            ComponentDefinedType::List { element, .. } => {
                out.push_str("list<");
                self.val(element, local, out);
                out.push('>');
            }
            ComponentDefinedType::FixedLengthList {
                element, length, ..
            } => {
                out.push_str("list<");
                self.val(element, local, out);
                let _ = write!(out, ", {length}>");
            }
            ComponentDefinedType::Map { key, value, .. } => {
                out.push_str("map<");
                self.val(key, local, out);
                out.push_str(", ");
                self.val(value, local, out);
                out.push('>');
            }
            ComponentDefinedType::Tuple(tuple) => {
                out.push_str("tuple<");
                for (i, ty) in tuple.types.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.val(ty, local, out);
                }
                out.push('>');
            }
            ComponentDefinedType::Flags(names) => {
                list(out, "flags{", &mut names.iter().map(|n| n.as_str()))
            }
            ComponentDefinedType::Enum(names) => {
                list(out, "enum{", &mut names.iter().map(|n| n.as_str()))
            }
            ComponentDefinedType::Option { ty, .. } => {
                out.push_str("option<");
                self.val(ty, local, out);
                out.push('>');
            }
            ComponentDefinedType::Result { ok, err, .. } => {
                out.push_str("result<");
                self.opt(ok.as_ref(), local, out);
                out.push_str(", ");
                self.opt(err.as_ref(), local, out);
                out.push('>');
            }
            ComponentDefinedType::Own(r) => {
                out.push_str("own<");
                self.resource(r, local, out);
                out.push('>');
            }
            ComponentDefinedType::Borrow(r) => {
                out.push_str("borrow<");
                self.resource(r, local, out);
                out.push('>');
            }
            ComponentDefinedType::Future { ty, .. } => {
                out.push_str("future<");
                self.opt(ty.as_ref(), local, out);
                out.push('>');
            }
            ComponentDefinedType::Stream { ty, .. } => {
                out.push_str("stream<");
                self.opt(ty.as_ref(), local, out);
                out.push('>');
            }
        }
    }

    /// A resource by where it is declared: `%name` in the instance being
    /// read, `<interface>#<name>` for another interface's; `resource` when
    /// neither names it (defined inside and never exported).
    fn resource(&self, r: &AliasableResourceId, local: &Local, out: &mut String) {
        let id = r.resource();
        if let Some(name) = local.get(&id) {
            let _ = write!(out, "%{name}");
        } else if let Some(name) = self.global.get(&id) {
            out.push_str(name);
        } else {
            out.push_str("resource");
        }
    }
}

/// The resource a type import or export declares, if it is one.
fn resource_of(ty: &ComponentEntityType) -> Option<ResourceId> {
    match ty {
        ComponentEntityType::Type {
            referenced: ComponentAnyTypeId::Resource(r),
            ..
        } => Some(r.resource()),
        _ => None,
    }
}

/// An interface name on its canonical track (`wasi:io/streams@0.2`), so
/// two versions that link name their resources alike; other names as
/// they are.
fn canonical(name: &str) -> String {
    match InterfaceName::parse(name) {
        Some(i) => match i.track() {
            Some(track) => format!("{}/{}@{track}", i.package, i.interface),
            None => format!("{}/{}", i.package, i.interface),
        },
        None => name.to_string(),
    }
}
