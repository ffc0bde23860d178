//! What can go wrong while composing.

use warg_depsolve_names::scan::ScanError;
use warg_depsolve_registry::SourceError;

/// A failure of one of the compose passes. Every variant names the package
/// or component it is about.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// A package's bytes do not hash to the digest they were asked for by
    /// (a tampered store or registry).
    #[error("integrity check failed for `{package}`: expected {expected}, found {actual}")]
    DigestMismatch {
        /// The package (`ns:pkg@version` when the version is known).
        package: String,
        /// The digest the resolution, lock or bundle record names.
        expected: String,
        /// The digest of the bytes actually received.
        actual: String,
    },
    /// A source failed to deliver a package.
    #[error("fetching `{package}`")]
    Fetch {
        /// The package (`ns:pkg@version`).
        package: String,
        /// The source's error (boxed: it is large).
        #[source]
        source: Box<SourceError>,
    },
    /// The input of `unbundle`, `migrate` or the locked-form check is not a
    /// component binary at all (a core module, not WebAssembly), as its
    /// header says; the caller names the file.
    #[error(transparent)]
    NotAComponent(ScanError),
    /// An input is not a usable component.
    #[error("`{component}` is not a usable component")]
    InvalidComponent {
        /// The root or package concerned.
        component: String,
        /// What is wrong with it (the parser's or validator's error, or
        /// this crate's own words).
        #[source]
        cause: Cause,
    },
    /// The resolution does not fit the components it describes (an edge
    /// names an import or export that does not exist, a dependency import
    /// has no provider, a provider's export does not fit the import).
    #[error("resolution does not fit `{component}`: {message}")]
    Wiring {
        /// The dependent (root or package).
        component: String,
        /// What does not fit.
        message: String,
    },
    /// Two members import one host name at incompatible types, so the
    /// output cannot import it once for both.
    #[error("host import `{name}` is imported by `{first}` and `{second}` at incompatible types: {message}")]
    HostImportConflict {
        /// The import name.
        name: String,
        /// The first member importing it.
        first: String,
        /// The member whose import does not fit the first's.
        second: String,
        /// The type mismatch.
        message: String,
    },
    /// wasm-compose could not encode the composition.
    #[error("composing `{root}` failed")]
    Compose {
        /// The root's name.
        root: String,
        /// wasm-compose's (or the re-encoder's) error.
        #[source]
        cause: Cause,
    },
    /// A locked-form import carries a dependency reference this pass
    /// cannot use (not locked, or without integrity).
    #[error("import `{import}`: {message}")]
    Reference {
        /// The import's name.
        import: String,
        /// What is wrong with its reference.
        message: String,
    },
    /// The input is not a bundle (no record section) or its record does not
    /// match its contents.
    #[error("bundle record: {0}")]
    Record(String),
    /// Writing the output failed ([`Bundler::to_writer`](crate::Bundler::to_writer)).
    #[error("writing the bundle")]
    Write(#[source] std::io::Error),
    /// An output failed validation: a bug in this crate or an input that
    /// only looked valid.
    #[error("the {form} does not validate{features}")]
    InvalidOutput {
        /// Which output (`locked form`, `bundle`, `migrated component`).
        form: &'static str,
        /// Which feature set was used (empty for all features).
        features: &'static str,
        /// The validator's error.
        #[source]
        cause: Cause,
    },
}

/// The cause of a [`ComposeError`]: a third-party error kept whole (its
/// own causes too), or this crate's words (`String` converts).
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// A cause and what was being done when it happened (`reading the
/// composition`, ``import `x` ``): shown as that, the cause its source.
#[derive(Debug, thiserror::Error)]
#[error("{doing}")]
pub struct While {
    doing: String,
    #[source]
    cause: Cause,
}

impl While {
    /// `cause`, met while `doing`.
    pub(crate) fn cause(doing: impl Into<String>, cause: impl Into<Cause>) -> Cause {
        Box::new(While {
            doing: doing.into(),
            cause: cause.into(),
        })
    }
}
