//! Why a solve failed: the one error type of the solver, returned by
//! [`resolve`](crate::resolve) and by every step inside it (pubgrub hands
//! the provider's errors back unchanged).

use semver::Version;
use warg_depsolve_names::PackageName;
use warg_depsolve_registry::SourceError;

/// Why a solve failed.
#[derive(Debug, thiserror::Error)]
pub enum SolveError {
    /// No choice of versions satisfies every requirement.
    #[error("no solution:\n{report}")]
    NoSolution {
        /// The derivation, in package-and-range terms.
        report: String,
    },
    /// A dependency names a package the registry does not have.
    #[error("{required_by} imports `{import}` from package `{package}`, which registry `{registry}` does not have")]
    MissingPackage {
        /// The missing package.
        package: PackageName,
        /// `root component \`x\`` or `ns:pkg@version`.
        required_by: String,
        /// The import that names it.
        import: String,
        /// Where it was looked up.
        registry: String,
    },
    /// A plug's package has no release (in the plug's range) exporting
    /// the interface it is plugged in for.
    #[error("plug `{plug}`: no release of `{package}` in its range exports `{interface}` (on its track), which {required_by} imports")]
    PlugMismatch {
        /// The plug as given (`PATTERN=PACKAGE[@RANGE]`).
        plug: String,
        /// The plugged package.
        package: PackageName,
        /// The interface import (with its version).
        interface: String,
        /// `root component \`x\`` or `ns:pkg@version`.
        required_by: String,
    },
    /// A locked reference's integrity does not match the registry's bytes.
    #[error("{required_by} pins `{package}@{version}` with integrity {expected}, but the registry's release has digest {actual}")]
    DigestMismatch {
        /// The package.
        package: PackageName,
        /// The version.
        version: Version,
        /// The dependent.
        required_by: String,
        /// The integrity the reference demands.
        expected: String,
        /// The digest of the registry's release.
        actual: String,
    },
    /// The chosen graph has a cycle, which cannot be instantiated.
    #[error("dependency cycle: {}", path.join(" -> "))]
    Cycle {
        /// The packages on the cycle, first repeated at the end.
        path: Vec<String>,
    },
    /// The source failed (unreachable, corrupt, offline and not cached...).
    #[error(transparent)]
    Source(#[from] SourceError),
}
