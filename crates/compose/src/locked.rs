//! The locked form's dependency imports: a component import whose
//! `external-id` is a `locked-dep=<ns:pkg@x.y.z>,integrity=<...>`
//! reference. What makes a component a locked form, and what one such
//! import pins.

use semver::Version;
use warg_depsolve_names::{DepRef, HashAlgorithm, Integrity, PackageName};
use wasmparser::ComponentTypeRef;

use crate::error::ComposeError;
use crate::sections::{self, Entry, IMPORT};

/// A dependency import of the locked form: the release it pins.
pub(crate) struct LockedImport {
    /// The package.
    pub package: PackageName,
    /// Its version.
    pub version: Version,
    /// The digest its bytes must have (SHA-256 when the reference has one).
    pub digest: Integrity,
}

impl LockedImport {
    /// `ns:pkg@version`, for messages.
    pub fn label(&self) -> String {
        format!("{}@{}", self.package, self.version)
    }
}

/// Whether `component` is in the locked form: it imports a component whose
/// `external-id` is a `locked-dep=` reference (what
/// [`Bundler::from_locked`](crate::Bundler::from_locked) takes; any other
/// component is a root to resolve). Reads the top-level import sections
/// only.
///
/// ```
/// use warg_depsolve_compose::is_locked_form;
/// let root = wat::parse_str(r#"(component
///     (import "add" (external-id "unlocked-dep=<test:add@{>=1.0.0}>") (instance)))"#).unwrap();
/// assert!(!is_locked_form(&root).unwrap());
/// let locked = wat::parse_str(r#"(component
///     (import "test-add-1" (external-id "locked-dep=<test:add@1.1.0>") (component)))"#).unwrap();
/// assert!(is_locked_form(&locked).unwrap());
/// assert!(is_locked_form(b"\0asm\x01\0\0\0").is_err()); // a core module
/// ```
///
/// # Errors
///
/// [`ComposeError::NotAComponent`], or a malformed component.
pub fn is_locked_form(component: &[u8]) -> Result<bool, ComposeError> {
    sections::check_input(component)?;
    for section in sections::split(component, "component")?
        .iter()
        .filter(|s| s.id == IMPORT)
    {
        for entry in sections::entries(component, section, "component")? {
            let locked = matches!(entry.ty, Some(ComponentTypeRef::Component(_)))
                && entry
                    .name
                    .external_id
                    .as_deref()
                    .is_some_and(|id| matches!(DepRef::parse(id), Ok(DepRef::Locked { .. })));
            if locked {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Every dependency import of the locked form `locked`, in order.
///
/// # Errors
///
/// A malformed component; [`ComposeError::Reference`] as [`locked_import`].
pub(crate) fn locked_imports(locked: &[u8]) -> Result<Vec<LockedImport>, ComposeError> {
    let what = "locked form";
    let mut out = Vec::new();
    for section in sections::split(locked, what)?
        .iter()
        .filter(|s| s.id == IMPORT)
    {
        for entry in sections::entries(locked, section, what)? {
            out.extend(locked_import(&entry)?);
        }
    }
    Ok(out)
}

/// Reads a locked-form import entry: `Some` when it is a component import
/// whose `external-id` is a locked dependency reference.
///
/// # Errors
///
/// [`ComposeError::Reference`] when the reference does not parse, is not
/// locked, or has no integrity (its bytes could not be checked).
pub(crate) fn locked_import(entry: &Entry) -> Result<Option<LockedImport>, ComposeError> {
    let Some(ComponentTypeRef::Component(_)) = entry.ty else {
        return Ok(None);
    };
    let Some(id) = entry.name.external_id.as_deref() else {
        return Ok(None);
    };
    if !DepRef::looks_like(id) {
        return Ok(None);
    }
    let reference = |message: String| ComposeError::Reference {
        import: entry.name.name.clone(),
        message,
    };
    match DepRef::parse(id).map_err(|e| reference(e.to_string()))? {
        DepRef::Locked {
            package,
            version,
            integrity,
        } => {
            // Prefer a SHA-256 digest: every source can fetch by it.
            let digest = integrity
                .iter()
                .find(|i| i.algorithm == HashAlgorithm::Sha256)
                .or_else(|| integrity.first())
                .cloned()
                .ok_or_else(|| {
                    reference(format!(
                        "`{id}` has no integrity, so its bytes cannot be checked; lock it first"
                    ))
                })?;
            Ok(Some(LockedImport {
                package,
                version,
                digest,
            }))
        }
        DepRef::Unlocked { .. } => Err(reference(format!(
            "`{id}` is not locked; lock the component before bundling"
        ))),
    }
}
