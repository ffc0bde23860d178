//! `warg-depsolve bundle ROOT -o OUT`: one self-contained component.
//!
//! If ROOT is a locked form (a component-typed import carries a
//! `locked-dep=` external-id), each dependency is fetched by the digest its
//! import pins: from `--store DIR` first when given (a content-addressed
//! store, as `unbundle --store` writes), else from the registries (through
//! the cache). Otherwise ROOT is solved like `resolve` (the lock file's pins
//! honoured, `--locked`, `--offline`, `--frozen`; the lock file itself is
//! not written) and bundled. Every package's bytes are checked against
//! their digest; a mismatch names the package and both digests. The output
//! is written atomically: on any failure, no file.
//!
//! JSON: the compose output shape (see [`compose_out`](super::compose_out)).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use warg_depsolve_names::{HashAlgorithm, Integrity};
use warg_depsolve_registry::{Cache, CachedSource, Source};

use super::common::{solve, LockArgs, PlugArgs, RegistryArgs, RootFile, Unpin};
use super::compose_out::{oci, print, PackageRef, Written};
use super::Global;

/// Write the bundled form: every dependency nested, runnable as is.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The root component (`.wasm` or `.wat`), or a locked form.
    pub root: PathBuf,
    /// The output file.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// A content-addressed store (`<DIR>/sha256/<hex>`, as `unbundle
    /// --store` writes it) searched for packages before the registries.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Where packages come from.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// How the lock file is used (read, never written).
    #[command(flatten)]
    pub lock: LockArgs,
    /// Interface plugs.
    #[command(flatten)]
    pub plug: PlugArgs,
}

/// Runs `bundle`.
///
/// # Errors
///
/// As `resolve`; a package whose bytes do not match their digest (naming
/// it and both digests); an output that cannot be written.
pub fn run(args: &Args, global: &Global, out: &mut dyn Write) -> anyhow::Result<()> {
    let sources = args.registry.open(args.lock.is_offline())?;
    let root = RootFile::read(&args.root)?;
    let stored;
    let source: &dyn Source = match &args.store {
        Some(dir) => {
            stored = with_store(dir, sources.source());
            &stored
        }
        None => sources.source(),
    };
    let locked_form = warg_depsolve::is_locked_form(&root.bytes)
        .with_context(|| format!("cannot bundle `{}`", root.display()))?;
    // The bundle goes to the output file as it is assembled (on large
    // inputs while its checks run; a failure removes the temporary file),
    // its digest computed on the way.
    let mut summary = None;
    crate::output::write_atomic_from(&args.output, |file| {
        let mut out = Digesting::new(file);
        let parts = if locked_form {
            let parts = warg_depsolve::bundle_locked_parts(&root.bytes, source)
                .with_context(|| format!("cannot bundle the locked form `{}`", root.display()))?;
            parts
                .write_to(&mut out)
                .with_context(|| format!("failed to write `{}`", args.output.display()))?;
            parts
        } else {
            let solved = solve(&root, &sources, &args.lock, &args.plug, Unpin::Nothing)?;
            solved.note_stale_lock();
            warg_depsolve::bundle_to(&root.bytes, &solved.resolution, source, &mut out)
                .with_context(|| format!("cannot bundle `{}`", root.display()))?
        };
        let record = parts
            .record()
            .context("the bundle just written has no readable record")?;
        summary = Some((record, parts.len(), out.finish()));
        Ok(())
    })?;
    let (record, size, digest) = summary.expect("set when the write succeeded");
    let packages = record
        .dependencies
        .into_iter()
        .map(|d| PackageRef {
            package: d.package,
            version: d.version,
            digest: oci(&d.digest),
            written_to: None,
            nested: None,
        })
        .collect();
    print(
        out,
        global,
        Written {
            command: "bundle",
            what: "bundle",
            input: &args.root,
            output: &args.output,
            size,
            digest,
        },
        packages,
    )
}

/// `source` with a content-addressed store in front of it: content is
/// fetched from `store` (laid out as `<store>/sha256/<hex>`, like a cache's
/// content; every read checked against its digest, a mismatch being an
/// error that names the package, the file and both digests) and only when
/// absent from `source`, whose bytes are then kept in the store.
///
/// This is how `bundle --store DIR` finds the packages `unbundle --store
/// DIR` wrote. A cache directory is itself a usable store.
fn with_store<'a>(store: &Path, source: &'a dyn Source) -> CachedSource<&'a dyn Source> {
    CachedSource::new(source, Cache::new(store)).with_warnings(crate::report::warnings())
}

/// A writer that hashes what passes through it (the output's digest for
/// the summary, without reading the file back).
struct Digesting<W> {
    inner: W,
    hasher: sha2::Sha256,
}

impl<W: Write> Digesting<W> {
    fn new(inner: W) -> Self {
        Digesting {
            inner,
            hasher: sha2::Digest::new(),
        }
    }

    fn finish(self) -> Integrity {
        Integrity {
            algorithm: HashAlgorithm::Sha256,
            digest: sha2::Digest::finalize(self.hasher).to_vec(),
        }
    }
}

impl<W: Write> Write for Digesting<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(bytes)?;
        sha2::Digest::update(&mut self.hasher, &bytes[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
