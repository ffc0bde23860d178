//! Host imports shared by the members of a composition.
//!
//! Every import of every member that the resolution does not wire is a host
//! import, and wasm-compose turns all imports of one name into one import of
//! the output: one instance, so one set of resource types, as the host
//! provides them. Before that, this module decides whether the members'
//! imports of a name *can* be one import.
//!
//! Two members that each import `wasi:io/poll@0.2.9` declare
//! `(export "pollable" (type (sub resource)))` in their own type spaces: two
//! abstract resources that never compare equal as they stand. In the output
//! they are one resource, the one the single import provides. So resources
//! are identified by where they come from, (import name, export name), as
//! wasm-compose itself unifies them: every resource a member's host import
//! exports is remapped to the first member's resource of the same origin,
//! and the types are then compared structurally (subtypes both ways, export
//! by export for instances). Functions that take `borrow<pollable>` or
//! return `own<input-stream>` compare equal when their resources share an
//! origin; a resource that comes from a different import, or a function
//! whose signature differs, is a genuine conflict.
//!
//! Members may import different subsets of one instance (one uses three
//! functions of `wasi:io/streams`, another five): only the exports both
//! declare are compared, and the output's import is the union.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use wasm_compose::graph::Component;
use wasmparser::component_types::{
    ComponentAnyTypeId, ComponentEntityType, Remap, Remapping, ResourceId, SubtypeCx,
};

/// A host import name of one member that differs in type from another
/// member's import of the same name.
pub(crate) struct Conflict {
    /// The import name.
    pub name: String,
    /// The member that imported it first (in instantiation order).
    pub first: usize,
    /// The member whose import does not fit the first's.
    pub second: usize,
    /// The type mismatch, as the validator words it.
    pub message: String,
}

/// One host import of one member: its name and type.
struct HostImport<'n> {
    member: usize,
    name: &'n str,
    ty: ComponentEntityType,
}

/// Checks that, for every name, the unwired imports of every member can be
/// one import of the output.
///
/// `members` are the members' components in instantiation order (member
/// index, component); `is_wired(member, name)` says whether the resolution
/// connects that import to a provider (such imports are not host imports).
pub(crate) fn check<'g>(
    members: &[(usize, &'g Component<'g>)],
    is_wired: impl Fn(usize, &str) -> bool,
) -> Result<(), Conflict> {
    let component_of = |member: usize| {
        members
            .iter()
            .find(|(m, _)| *m == member)
            .map(|(_, c)| *c)
            .expect("every host import belongs to a listed member")
    };

    let mut imports: Vec<HostImport<'g>> = Vec::new();
    for &(member, component) in members {
        for (_, name, _) in component.imports() {
            if is_wired(member, name) {
                continue;
            }
            if let Some(item) = component.types().component_item_for_import(name) {
                imports.push(HostImport {
                    member,
                    name,
                    ty: item.ty,
                });
            }
        }
    }

    let mut remapping = resources_by_origin(&imports, component_of);
    for (i, later) in imports.iter().enumerate() {
        // Against every earlier import of the name: members may import
        // different subsets of one instance, so fitting one is not enough.
        for earlier in &imports[..i] {
            if earlier.name != later.name || earlier.member == later.member {
                continue;
            }
            compatible(
                component_of(earlier.member),
                earlier.ty,
                component_of(later.member),
                later.ty,
                &mut remapping,
            )
            .map_err(|message| Conflict {
                name: later.name.to_string(),
                first: earlier.member,
                second: later.member,
                message,
            })?;
        }
    }
    Ok(())
}

/// Maps every resource exported by a host instance import to the first
/// resource of the same origin (import name, export name), in import order.
fn resources_by_origin<'g>(
    imports: &[HostImport<'_>],
    component_of: impl Fn(usize) -> &'g Component<'g>,
) -> Remapping {
    let mut first_of: HashMap<(&str, String), ResourceId> = HashMap::new();
    let mut remapping = Remapping::default();
    for import in imports {
        let ComponentEntityType::Instance(id) = import.ty else {
            continue;
        };
        let types = component_of(import.member).types();
        for (export, item) in types[id].exports.iter() {
            let ComponentEntityType::Type {
                referenced: ComponentAnyTypeId::Resource(resource),
                ..
            } = item.ty
            else {
                continue;
            };
            match first_of.entry((import.name, export.to_string())) {
                Entry::Occupied(first) => {
                    if *first.get() != resource.resource() {
                        remapping.add(resource.resource(), *first.get());
                    }
                }
                Entry::Vacant(slot) => {
                    slot.insert(resource.resource());
                }
            }
        }
    }
    remapping
}

/// Whether two imports of one name can be one import: subtypes of each
/// other once resources are identified by origin; for instances, so for
/// every export both declare (the output imports the union).
fn compatible(
    a: &Component<'_>,
    a_ty: ComponentEntityType,
    b: &Component<'_>,
    b_ty: ComponentEntityType,
    remapping: &mut Remapping,
) -> Result<(), String> {
    let mut cx = SubtypeCx::new_with_refs(a.types(), b.types());
    let mut both_ways = |x: ComponentEntityType, y: ComponentEntityType| -> Result<(), String> {
        let (mut x, mut y) = (x, y);
        cx.a.remap_component_entity(&mut x, remapping);
        remapping.reset_type_cache();
        cx.b.remap_component_entity(&mut y, remapping);
        remapping.reset_type_cache();
        let forward = cx.component_entity_type(&x, &y, 0);
        cx.swap();
        let backward = cx.component_entity_type(&y, &x, 0);
        cx.swap();
        forward.and(backward).map_err(|e| e.message().to_string())
    };
    match (a_ty, b_ty) {
        (ComponentEntityType::Instance(ai), ComponentEntityType::Instance(bi)) => {
            let b_exports = &b.types()[bi].exports;
            for (export, a_item) in a.types()[ai].exports.iter() {
                if let Some(b_item) = b_exports.get(export) {
                    both_ways(a_item.ty, b_item.ty)
                        .map_err(|e| format!("export `{export}`: {e}"))?;
                }
            }
            Ok(())
        }
        (x, y) => both_ways(x, y),
    }
}
