//! Reading a release's [`ReleaseMetadata`] from its bytes.
//!
//! [`ReleaseMetadata::from_component`] scans the component's top level
//! (never its code), classifies every top-level import, and keeps the ones
//! that name another package: declared references (`external-id`), legacy
//! depnames and interface imports. Host imports are dropped. An import
//! that *claims* to be a dependency reference but does not parse is an
//! error naming the import, never silently a host import.
//!
//! Every call is one parse: sources count them ([`crate::LocalRegistry::scans`],
//! [`crate::MemorySource::scans`]) so tests can show a cache doing its job.

use semver::Version;
use warg_depsolve_names::scan::{scan, ComponentScan, ExternName, ScanError};
use warg_depsolve_names::{
    ClassifyError, HashAlgorithm, ImportClass, Integrity, InterfaceName, PackageName,
};

use warg_depsolve_types::ComponentTypes;

use crate::source::{Dependency, ReleaseMetadata, SourceError};
use crate::verified::Verified;

/// Why a release's bytes could not be read as a component.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ExtractError {
    /// The bytes are not a readable component.
    #[error(transparent)]
    Scan(#[from] ScanError),
    /// An import's dependency reference is malformed (the error names the
    /// import).
    #[error("malformed dependency reference")]
    Import(#[from] ClassifyError),
    /// The component does not validate (checked before publishing: a
    /// release is immutable, and an invalid one breaks every dependent).
    #[error("it does not validate")]
    Invalid(#[source] wasmparser::BinaryReaderError),
}

impl ExtractError {
    /// The error as a [`SourceError::InvalidComponent`] naming the release
    /// and the registry it came from (this error is its cause).
    pub fn into_source_error(
        self,
        source_name: &str,
        package: &PackageName,
        version: &Version,
    ) -> SourceError {
        SourceError::InvalidComponent {
            source_name: source_name.to_string(),
            package: package.clone(),
            version: version.clone(),
            cause: Box::new(self),
        }
    }
}

impl ReleaseMetadata {
    /// [`ReleaseMetadata::from_component`] of a component about to be
    /// published, after validating it in full (every function body, with
    /// the features this tool reads: all of wasmparser's, since the name
    /// attributes that carry dependency references are gated). A release
    /// is immutable; one that does not validate would break every
    /// dependent, so every registry kind checks this before publishing.
    ///
    /// ```
    /// use warg_depsolve_registry::ReleaseMetadata;
    /// // A component whose core module returns nothing from a function
    /// // that promises an i32: it parses, but does not validate.
    /// let bad = wat::parse_str(r#"(component (core module (func (result i32))))"#).unwrap();
    /// let (package, version) = ("a:b".parse().unwrap(), "1.0.0".parse().unwrap());
    /// assert!(ReleaseMetadata::from_component(&package, &version, &bad).is_ok());
    /// let err = ReleaseMetadata::for_publish(&package, &version, &bad).unwrap_err();
    /// assert_eq!(err.to_string(), "it does not validate"); // the validator's words: its source
    /// assert!(std::error::Error::source(&err).is_some());
    /// ```
    ///
    /// # Errors
    ///
    /// [`ExtractError::Invalid`] with the validator's message; otherwise as
    /// [`ReleaseMetadata::from_component`].
    pub fn for_publish(
        package: &PackageName,
        version: &Version,
        bytes: &[u8],
    ) -> Result<Self, ExtractError> {
        // A core module or non-wasm input gets the scan's clearer words;
        // the scan is then the metadata's (the bytes are scanned once).
        let scanned = scan(bytes)?;
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(bytes)
            .map_err(ExtractError::Invalid)?;
        Self::from_scan(package, version, bytes, &scanned, || {
            Integrity::sha256(bytes)
        })
    }

    /// Reads the metadata of `package@version` from the component in
    /// `bytes`: its SHA-256 digest and size, its registry dependencies in
    /// import order, and the versioned interfaces it exports.
    ///
    /// An import is classified by its full name (the name with any
    /// `version-suffix` attribute applied) and its `external-id`; the
    /// dependency records the name as stored in the binary, which is what
    /// a composition wires. An export counts as an interface export when
    /// its full name, or else its `implements` attribute, is a
    /// `ns:pkg/iface[@version]` name.
    ///
    /// ```
    /// use warg_depsolve_registry::ReleaseMetadata;
    /// let bytes = wat::parse_str(r#"(component
    ///     (import "wasi:cli/stdout@0.2.3" (instance))
    ///     (import "add" (external-id "unlocked-dep=<test:add@{>=1.0.0}>") (instance))
    /// )"#).unwrap();
    /// let meta = ReleaseMetadata::from_component(
    ///     &"test:inc".parse().unwrap(), &"1.0.0".parse().unwrap(), &bytes,
    /// ).unwrap();
    /// assert_eq!(meta.dependencies.len(), 2); // the wasi interface and `add`
    /// assert_eq!(meta.dependencies[1].import, "add");
    /// assert_eq!(meta.size, bytes.len() as u64);
    /// ```
    pub fn from_component(
        package: &PackageName,
        version: &Version,
        bytes: &[u8],
    ) -> Result<Self, ExtractError> {
        Self::read(package, version, bytes, || Integrity::sha256(bytes))
    }

    /// [`ReleaseMetadata::from_component`] of bytes whose SHA-256 digest
    /// is already known: they are not hashed again.
    ///
    /// ```
    /// use warg_depsolve_registry::{ReleaseMetadata, Verified};
    /// let bytes = Verified::hash(wat::parse_str("(component)").unwrap());
    /// let (package, version) = ("a:b".parse().unwrap(), "1.0.0".parse().unwrap());
    /// let meta = ReleaseMetadata::from_verified(&package, &version, &bytes).unwrap();
    /// assert_eq!(&meta.digest, bytes.digest());
    /// ```
    ///
    /// # Errors
    ///
    /// As [`ReleaseMetadata::from_component`].
    pub fn from_verified(
        package: &PackageName,
        version: &Version,
        bytes: &Verified,
    ) -> Result<Self, ExtractError> {
        // Metadata records SHA-256; bytes proven under another algorithm
        // are hashed once more.
        Self::read(package, version, bytes, || {
            if bytes.digest().algorithm == HashAlgorithm::Sha256 {
                bytes.digest().clone()
            } else {
                Integrity::sha256(bytes)
            }
        })
    }

    fn read(
        package: &PackageName,
        version: &Version,
        bytes: &[u8],
        digest: impl FnOnce() -> Integrity,
    ) -> Result<Self, ExtractError> {
        Self::from_scan(package, version, bytes, &scan(bytes)?, digest)
    }

    /// The metadata of `bytes`, whose scan is `scanned`.
    fn from_scan(
        package: &PackageName,
        version: &Version,
        bytes: &[u8],
        scanned: &ComponentScan,
        digest: impl FnOnce() -> Integrity,
    ) -> Result<Self, ExtractError> {
        let dependencies = dependencies_of(scanned)?;
        let types = types_of(bytes, &dependencies);
        let interface_exports = scanned
            .exports
            .iter()
            .filter_map(|export| interface_of(&export.name))
            .collect();
        Ok(ReleaseMetadata {
            package: package.clone(),
            version: version.clone(),
            digest: digest(),
            size: bytes.len() as u64,
            dependencies,
            interface_exports,
            types,
        })
    }
}

/// The types of `bytes`' exports and of the imports in `dependencies`;
/// `None` when they do not read (a release is not refused for it: the
/// solver then cannot exclude providers for their types, and composing
/// checks them anyway).
fn types_of(bytes: &[u8], dependencies: &[Dependency]) -> Option<ComponentTypes> {
    ComponentTypes::read(bytes, |name| dependencies.iter().any(|d| d.import == name)).ok()
}

/// The registry dependencies of a component (every import that is not a
/// host import, in import order), with no package name or version: what a
/// root component, which is not a registry release, brings to a solve.
///
/// ```
/// use warg_depsolve_registry::metadata::dependencies;
/// let bytes = wat::parse_str(r#"(component
///     (import "log" (func))
///     (import "add" (external-id "unlocked-dep=<test:add@{>=1.0.0}>") (instance))
/// )"#).unwrap();
/// let deps = dependencies(&bytes).unwrap();
/// assert_eq!(deps.len(), 1);
/// assert_eq!(deps[0].import, "add");
/// ```
///
/// # Errors
///
/// As [`ReleaseMetadata::from_component`].
pub fn dependencies(bytes: &[u8]) -> Result<Vec<Dependency>, ExtractError> {
    dependencies_of(&scan(bytes)?)
}

/// [`dependencies`] and the types of those imports (and of the exports):
/// what a root brings to a solve that type-checks its candidates. The
/// types are `None` when they do not read.
///
/// ```
/// use warg_depsolve_registry::metadata::dependencies_and_types;
/// let bytes = wat::parse_str(r#"(component
///     (import "add" (external-id "unlocked-dep=<test:add@{>=1.0.0}>")
///         (instance (export "add" (func (param "a" u32) (result u32))))))"#).unwrap();
/// let (deps, types) = dependencies_and_types(&bytes).unwrap();
/// assert_eq!(deps[0].import, "add");
/// assert!(types.unwrap().imports.contains_key("add"));
/// ```
///
/// # Errors
///
/// As [`ReleaseMetadata::from_component`].
pub fn dependencies_and_types(
    bytes: &[u8],
) -> Result<(Vec<Dependency>, Option<ComponentTypes>), ExtractError> {
    let dependencies = dependencies(bytes)?;
    let types = types_of(bytes, &dependencies);
    Ok((dependencies, types))
}

fn dependencies_of(scanned: &ComponentScan) -> Result<Vec<Dependency>, ExtractError> {
    let mut dependencies = Vec::new();
    for import in &scanned.imports {
        let class = import.name.classify()?;
        if class != ImportClass::Host {
            dependencies.push(Dependency {
                import: import.name.name.clone(),
                class,
            });
        }
    }
    Ok(dependencies)
}

fn interface_of(name: &ExternName) -> Option<InterfaceName> {
    InterfaceName::parse(&name.full_name()).or_else(|| {
        name.full_implements()
            .and_then(|i| InterfaceName::parse(&i))
    })
}
