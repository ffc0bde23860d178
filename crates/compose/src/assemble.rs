//! The bundle's top level: [`Bundler`] (what is bundled, where its
//! packages come from, on how many threads, into what), and the scheduler
//! that runs the work on one thread or two.
//!
//! Every way to bundle takes the same steps: the packages' bytes in hand
//! (fetched and checked, or held by the caller and checked here), the
//! locked form's sections (composed from a root and its resolution, or the
//! locked form given), each dependency nested in place of its import
//! ([`inline`]), the result validated, then handed out as one buffer, as
//! parts, or written to a writer.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};

use warg_depsolve_registry::Source;
use warg_depsolve_solver::Resolution;
use wasmparser::WasmFeatures;

use crate::error::ComposeError;
use crate::graph::{check_digest, check_packages, fetch_packages, fetch_verified, lock_sections};
use crate::inline::{inline, ByDigest};
use crate::locked::locked_imports;
use crate::parts::BundleParts;
use crate::pieces::{split_sections, validate_pieces, Piece, Pieces};

/// Where the packages of a root's resolution come from.
#[derive(Clone, Copy)]
pub enum Packages<'s> {
    /// Fetched from a source by digest, and checked against it.
    Source(&'s dyn Source),
    /// Held by the caller, indexed like [`Resolution::packages`], and
    /// checked against the resolution's digests: on large inputs (1 MiB of
    /// packages or more, and more than one core) on a second thread while
    /// the calling thread assembles the bundle. Nothing is returned until
    /// every digest has matched, so the bytes are still verified before any
    /// use of the output (a mismatch fails with
    /// [`ComposeError::DigestMismatch`] naming the package, exactly as on
    /// one thread).
    Held(&'s [Arc<[u8]>]),
}

/// How many threads a [`Bundler`] uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Threads {
    /// Two for large inputs (1 MiB of packages or more) on a machine with
    /// two cores or more, else one.
    #[default]
    Auto,
    /// The calling thread alone.
    One,
    /// Two, whatever the input and the machine (for tests, which must take
    /// both paths on any runner, and for callers who know better).
    Two,
}

/// What is bundled.
#[derive(Clone, Copy)]
enum Input<'a, 's> {
    /// A root component and its resolution.
    Root {
        root: &'a [u8],
        resolution: &'s Resolution,
        packages: Packages<'s>,
    },
    /// A locked form, its dependencies fetched by the digests it pins.
    Locked {
        locked: &'a [u8],
        source: &'s dyn Source,
    },
}

/// Makes the bundled form: one component with every dependency nested in
/// place of its import, runnable on a runtime's default configuration, and
/// the record [`unbundle`](crate::unbundle) needs to go back.
///
/// Say what to bundle ([`from_root`](Self::from_root),
/// [`from_locked`](Self::from_locked)), optionally on how many threads
/// ([`threads`](Self::threads)), then into what:
/// [`to_vec`](Self::to_vec), [`to_parts`](Self::to_parts) or
/// [`to_writer`](Self::to_writer). Whichever way, the bytes are the same:
/// `Bundler::from_root(root, &resolution, packages)` gives the bytes of
/// `Bundler::from_locked(&lock(root, &resolution, source)?, source)`, and
/// every package is checked against its digest before the output is
/// handed out. The crate documentation has an example.
///
/// `'a` is the lifetime of the bytes the bundle nests without copying (the
/// root or the locked form), `'s` that of the rest.
#[derive(Clone, Copy)]
pub struct Bundler<'a, 's> {
    input: Input<'a, 's>,
    threads: Threads,
}

impl<'a, 's> Bundler<'a, 's> {
    /// Bundles `root` with the packages of `resolution`: the locked form
    /// composed as [`lock_with`](crate::lock_with) does, each dependency
    /// then nested in place of its import.
    pub fn from_root(root: &'a [u8], resolution: &'s Resolution, packages: Packages<'s>) -> Self {
        Bundler {
            input: Input::Root {
                root,
                resolution,
                packages,
            },
            threads: Threads::Auto,
        }
    }

    /// Bundles a locked form: every component import whose `external-id`
    /// is a `locked-dep=` reference with integrity is fetched from `source`
    /// by that digest, checked, stripped of gated name attributes and
    /// nested in the import's place.
    pub fn from_locked(locked: &'a [u8], source: &'s dyn Source) -> Self {
        Bundler {
            input: Input::Locked { locked, source },
            threads: Threads::Auto,
        }
    }

    /// Runs on `threads` ([`Threads::Auto`] unless said).
    #[must_use]
    pub fn threads(mut self, threads: Threads) -> Self {
        self.threads = threads;
        self
    }

    /// The bundle in one buffer.
    ///
    /// # Errors
    ///
    /// [`ComposeError::DigestMismatch`] (naming the package and both
    /// digests) when a package does not match its digest;
    /// [`ComposeError::Fetch`] when the source fails; from a root, as
    /// [`lock_with`](crate::lock_with); from a locked form,
    /// [`ComposeError::Reference`] for a dependency import that is not
    /// locked or has no integrity, and [`ComposeError::Record`] for a
    /// bundle given as a locked form.
    pub fn to_vec(&self) -> Result<Vec<u8>, ComposeError> {
        Ok(self.run(Output::Buffer)?.1)
    }

    /// The bundle as [`BundleParts`]: the same bytes, checked and validated
    /// the same way, not yet copied into one buffer (write them with
    /// [`BundleParts::write_to`] to save the copy [`to_vec`](Self::to_vec)
    /// makes).
    ///
    /// # Errors
    ///
    /// As [`to_vec`](Self::to_vec).
    pub fn to_parts(&self) -> Result<BundleParts<'a>, ComposeError> {
        Ok(self.run(Output::Parts)?.0)
    }

    /// The bundle written to `out` as it is assembled: no buffer of the
    /// whole bundle, and (on two threads) the writing overlaps the digest
    /// checks and the validation. Returns the parts written (for their
    /// length and record).
    ///
    /// **On error, discard what `out` received**: the bundle is checked
    /// while it is written, so a failed call may have written part or all
    /// of a bundle that must not be used. Write to a temporary file and
    /// rename it into place only on success, as the CLI does.
    ///
    /// # Errors
    ///
    /// As [`to_vec`](Self::to_vec); [`ComposeError::Write`] when `out`
    /// fails. A digest mismatch or an invalid bundle wins over a write
    /// error.
    pub fn to_writer(&self, out: &mut dyn Write) -> Result<BundleParts<'a>, ComposeError> {
        Ok(self.run(Output::Writer(out))?.0)
    }

    /// Gets the packages' bytes, then assembles the bundle over them.
    fn run(&self, output: Output<'_>) -> Result<(BundleParts<'a>, Vec<u8>), ComposeError> {
        match self.input {
            Input::Root {
                root,
                resolution,
                packages: Packages::Source(source),
            } => {
                let packages = fetch_packages(resolution, source)?;
                let build = || build_root(root, resolution, &packages);
                assemble(&packages, Verify::Done, build, output, self.threads)
            }
            Input::Root {
                root,
                resolution,
                packages: Packages::Held(packages),
            } => {
                let build = || build_root(root, resolution, packages);
                let verify = Verify::Check(resolution);
                assemble(packages, verify, build, output, self.threads)
            }
            Input::Locked { locked, source } => {
                // Fetched (and checked) before anything is built, as from
                // a root: the bytes to nest, and how much there is to do.
                let mut by_digest = ByDigest::new();
                for dep in locked_imports(locked)? {
                    if let std::collections::btree_map::Entry::Vacant(slot) =
                        by_digest.entry(dep.digest.to_string())
                    {
                        slot.insert(fetch_verified(
                            source,
                            &dep.package,
                            &dep.version,
                            &dep.label(),
                            &dep.digest,
                        )?);
                    }
                }
                let packages: Vec<Arc<[u8]>> = by_digest.values().cloned().collect();
                let build = || inline(split_sections(locked, "locked form")?, &by_digest);
                assemble(&packages, Verify::Done, build, output, self.threads)
            }
        }
    }
}

/// The pieces of the bundle of `root` under `resolution` (not validated),
/// over package bytes whose digests are checked (or being checked: see
/// [`assemble`]).
fn build_root<'a>(
    root: &'a [u8],
    resolution: &Resolution,
    packages: &[Arc<[u8]>],
) -> Result<Pieces<'a>, ComposeError> {
    let locked = lock_sections(root, resolution, packages)?;
    let by_digest: ByDigest = resolution
        .packages
        .iter()
        .zip(packages)
        .map(|(p, bytes)| (p.digest.to_string(), Arc::clone(bytes)))
        .collect();
    inline(locked, &by_digest)
}

/// Whether [`assemble`] checks the packages' digests.
#[derive(Clone, Copy)]
enum Verify<'s> {
    /// Check each package against its digest in this resolution.
    Check(&'s Resolution),
    /// Already checked (by [`fetch_packages`] or [`fetch_verified`]).
    Done,
}

/// What [`assemble`] does with the parts besides returning them.
enum Output<'w> {
    /// Nothing.
    Parts,
    /// Copies them into one buffer.
    Buffer,
    /// Writes them to a writer, while the checks run (the caller discards
    /// what was written if they fail).
    Writer(&'w mut dyn Write),
}

/// Below this many bytes of packages, [`Threads::Auto`] builds a bundle on
/// the calling thread alone: a thread costs more than it saves.
const PARALLEL_MIN: usize = 1 << 20;

/// The largest copy handed to one thread at a time.
const COPY_CHUNK: usize = 4 << 20;

/// One job of the second phase of [`assemble`].
enum Job<'o, 'p> {
    /// Validate the bundle with these features.
    Validate(WasmFeatures, &'static str),
    /// Copy bytes into their place in the output.
    Copy(&'o mut [u8], &'p [u8]),
}

/// Builds a bundle over `packages` (the bytes it nests): checks their
/// digests (`verify`), builds the pieces (`build`), validates the result,
/// and (`output`) copies it into one buffer (empty otherwise) or writes
/// it.
///
/// On one thread, in that order. On two: the digests are checked (largest
/// package first) on a second thread while the calling thread builds the
/// pieces of the bundle (which reads package bytes only to compose and
/// strip them, and writes nothing anyone can see); then both threads take
/// what is left (digests, the two validations, the copy into the output in
/// 4 MiB parts). Only when every job is done is anything returned, and a
/// digest mismatch wins over every other error, so the output exists only
/// if every package matched its digest: the check still comes before any
/// use of the bytes, it just overlaps with work whose result is thrown
/// away if it fails.
fn assemble<'a>(
    packages: &[Arc<[u8]>],
    verify: Verify<'_>,
    build: impl FnOnce() -> Result<Pieces<'a>, ComposeError>,
    output: Output<'_>,
    threads: Threads,
) -> Result<(BundleParts<'a>, Vec<u8>), ComposeError> {
    let total: usize = packages.iter().map(|p| p.len()).sum();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let two = match threads {
        Threads::Auto => total >= PARALLEL_MIN && cores >= 2,
        Threads::One => false,
        Threads::Two => true,
    };
    if !two {
        if let Verify::Check(resolution) = verify {
            check_packages(resolution, packages)?;
        }
        let parts = BundleParts::new(build()?);
        validate_bundle(parts.list())?;
        let bytes = match output {
            Output::Buffer => parts.to_vec(),
            Output::Parts => Vec::new(),
            Output::Writer(out) => {
                parts.write_to(out).map_err(ComposeError::Write)?;
                Vec::new()
            }
        };
        return Ok((parts, bytes));
    }

    let (resolution, mut order): (Option<&Resolution>, Vec<usize>) = match verify {
        Verify::Check(resolution) => (
            Some(resolution),
            (0..packages.len().min(resolution.packages.len())).collect(),
        ),
        Verify::Done => (None, Vec::new()),
    };
    order.sort_by_key(|&i| std::cmp::Reverse(packages[i].len()));
    let next_check = AtomicUsize::new(0);
    let mismatches: Mutex<Vec<(usize, ComposeError)>> = Mutex::new(Vec::new());
    let check = || {
        while let Some(&i) = order.get(next_check.fetch_add(1, Ordering::Relaxed)) {
            let resolution = resolution.expect("packages to check come with their resolution");
            let p = &resolution.packages[i];
            if let Err(e) = check_digest(&resolution.label(i), &p.digest, &packages[i]) {
                mismatches.lock().expect("not poisoned").push((i, e));
            }
        }
    };
    let built: OnceLock<Pieces<'a>> = OnceLock::new();
    let mut out: Vec<u8> = Vec::new();
    let invalid: Mutex<Vec<(usize, ComposeError)>> = Mutex::new(Vec::new());
    let (jobs, queue) = mpsc::channel::<Job<'_, '_>>();
    let queue = Mutex::new(queue);
    let work = || loop {
        // Taken under the lock, done outside it.
        let job = queue.lock().expect("not poisoned").recv();
        match job {
            Ok(Job::Copy(to, from)) => to.copy_from_slice(from),
            Ok(Job::Validate(features, label)) => {
                if let Err(e) = validate_pieces(built_list(&built), features, "bundle", label) {
                    let rank = usize::from(!label.is_empty());
                    invalid.lock().expect("not poisoned").push((rank, e));
                }
            }
            Err(_) => break,
        }
    };
    let out_ref = &mut out;
    let built_ref = &built;
    let mut failed = None;
    let mut write_failed = None;
    let mut output = output;
    std::thread::scope(|s| {
        s.spawn(|| {
            check();
            work();
        });
        match build() {
            Ok(pieces) => {
                let pieces = built_ref.get_or_init(|| pieces);
                let _ = jobs.send(Job::Validate(WasmFeatures::all(), ""));
                let _ = jobs.send(Job::Validate(
                    WasmFeatures::default(),
                    " with default features",
                ));
                if let Output::Writer(writer) = &mut output {
                    // Written here while the other thread checks and
                    // validates; the caller discards it if that fails.
                    for piece in &pieces.list {
                        if let Err(e) = writer.write_all(piece.bytes()) {
                            write_failed = Some(e);
                            break;
                        }
                    }
                }
                if matches!(output, Output::Buffer) {
                    let out = out_ref;
                    *out = vec![0; pieces.len()];
                    let mut rest = out.as_mut_slice();
                    for piece in &pieces.list {
                        for from in piece.bytes().chunks(COPY_CHUNK) {
                            let (to, tail) = rest.split_at_mut(from.len());
                            rest = tail;
                            let _ = jobs.send(Job::Copy(to, from));
                        }
                    }
                }
            }
            Err(e) => failed = Some(e),
        }
        drop(jobs);
        check();
        work();
    });
    // The jobs borrowed the output and the pieces; none is left.
    drop(queue);
    if let Some(e) = lowest(mismatches) {
        return Err(e);
    }
    if let Some(e) = failed {
        return Err(e);
    }
    // As on one thread: an invalid bundle is reported as such, before any
    // trouble writing it.
    if let Some(e) = lowest(invalid) {
        return Err(e);
    }
    if let Some(e) = write_failed {
        return Err(ComposeError::Write(e));
    }
    let pieces = built.into_inner().expect("built when nothing failed");
    Ok((BundleParts::new(pieces), out))
}

/// Of the errors the threads collected, the one of lowest rank (the
/// package's index, or all features before the default ones), so the
/// error reported does not depend on which thread was faster.
fn lowest(errors: Mutex<Vec<(usize, ComposeError)>>) -> Option<ComposeError> {
    errors
        .into_inner()
        .expect("not poisoned")
        .into_iter()
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, e)| e)
}

fn built_list<'b, 'a>(built: &'b OnceLock<Pieces<'a>>) -> &'b [Piece<'a>] {
    built.get().map_or(&[], |p| &p.list)
}

/// Validates a bundle (all features, then the default ones).
fn validate_bundle(pieces: &[Piece<'_>]) -> Result<(), ComposeError> {
    validate_pieces(pieces, WasmFeatures::all(), "bundle", "")?;
    validate_pieces(
        pieces,
        WasmFeatures::default(),
        "bundle",
        " with default features",
    )
}
