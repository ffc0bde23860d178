//! The bundled form, and the exact way back to the locked form.
//!
//! A bundle is the locked form with each dependency import replaced by the
//! dependency itself, nested as a component at the same place in the
//! component index space, so every index in the rest of the binary stays
//! valid. The nested bytes are the registry's bytes with the gated name
//! attributes of their top-level imports and exports removed
//! ([`strip`](crate::strip::strip)); the root, nested in both forms, is
//! stripped the same way. What the bundle needs to become the locked form
//! again is kept in its `warg-depsolve-bundle` custom section (see
//! [`BundleRecord`]).

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};

use semver::Version;
use serde::{Deserialize, Serialize};
use warg_depsolve_names::{DepRef, Integrity, PackageName};
use warg_depsolve_registry::Source;
use warg_depsolve_solver::Resolution;
use wasmparser::{ComponentTypeRef, WasmFeatures};

use crate::error::ComposeError;
use crate::graph::{check_digest, check_packages, fetch_packages, fetch_verified, lock_sections};
use crate::pieces::{split_sections, validate_pieces, BundleParts, Piece, PieceSection, Pieces};
use crate::sections::{self, Section, COMPONENT, CUSTOM, IMPORT};
use crate::strip::strip_pieces;
use crate::strip::{hex_serde, restore, Patch};

/// Name of the custom section in which a bundle records its nested
/// dependencies.
pub const BUNDLE_SECTION: &str = "warg-depsolve-bundle";

/// Version of the record format written into [`BUNDLE_SECTION`].
pub const BUNDLE_FORMAT: u32 = 1;

/// The payload of a bundle's [`BUNDLE_SECTION`] custom section: UTF-8 JSON,
/// written with the fields in the order below and no whitespace.
///
/// Section numbers count the bundle's top-level sections from 0 (the first
/// section after the header), not counting the record section itself,
/// which is always the last section.
///
/// ```json
/// {"format":1,
///  "imports":[{"first":3,"last":5,"original":"0a…"}],
///  "dependencies":[{"section":3,"import":"test-add-1","package":"test:add",
///                   "version":"1.1.0","digest":"sha256-…","patches":[]}],
///  "defined":[{"section":6,"patches":[{"section":0,"original":"0a…"}]}]}
/// ```
///
/// - `imports`: each entry is one import section of the locked form that
///   held dependency imports: its original bytes (hex, the whole section)
///   and the range `first..=last` of bundle sections that replace it (the
///   nested dependencies, and import sections holding the other entries of
///   that section, in order).
/// - `dependencies`: each nested dependency: the bundle section it is in,
///   its import name in the locked form, package, version and the digest of
///   its registry bytes (SRI form), and the [`Patch`]es that turn the
///   nested (stripped) bytes back into the registry's bytes.
/// - `defined`: components nested in the locked form too (the root) whose
///   names were stripped in the bundle, with their patches.
///
/// A patch names a top-level section of the nested component (counted the
/// same way) and holds that section's original bytes; unbundling puts them
/// back and checks the result against `digest`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleRecord {
    /// [`BUNDLE_FORMAT`].
    pub format: u32,
    /// Locked-form import sections replaced by nested components.
    pub imports: Vec<ImportGroup>,
    /// The nested dependencies, in section order.
    pub dependencies: Vec<NestedDependency>,
    /// Components nested in both forms whose names were stripped.
    pub defined: Vec<DefinedComponent>,
}

/// One import section of the locked form and the bundle sections that
/// replace it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportGroup {
    /// First bundle section of the replacement.
    pub first: u32,
    /// Last bundle section of the replacement (inclusive).
    pub last: u32,
    /// The locked form's import section, whole.
    #[serde(with = "hex_serde")]
    pub original: Vec<u8>,
}

/// One dependency nested in a bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NestedDependency {
    /// The bundle section holding it.
    pub section: u32,
    /// Its import name in the locked form.
    pub import: String,
    /// The package.
    pub package: String,
    /// The version.
    pub version: String,
    /// Digest of the registry's bytes (SRI: `sha256-<base64>`).
    pub digest: String,
    /// What turns the nested bytes back into the registry's bytes.
    pub patches: Vec<Patch>,
}

/// A component nested in both forms (the root) whose names were stripped in
/// the bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefinedComponent {
    /// The bundle section holding it.
    pub section: u32,
    /// What turns the nested bytes back into the locked form's bytes.
    pub patches: Vec<Patch>,
}

/// A dependency taken out of a bundle by [`unbundle`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtractedPackage {
    /// The package.
    pub package: PackageName,
    /// Its version.
    pub version: Version,
    /// The digest of `bytes` (checked).
    pub digest: Integrity,
    /// The registry's bytes, exactly.
    pub bytes: Vec<u8>,
}

/// What [`unbundle`] returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unbundled {
    /// The locked form.
    pub locked: Vec<u8>,
    /// Every nested dependency, in the order they appear in the bundle.
    pub packages: Vec<ExtractedPackage>,
}

/// Composes `root` with the packages of `resolution`, fetched from `source`
/// by digest and checked, into the bundled form.
///
/// Equal to `bundle_locked(&lock(root, resolution, source)?, source)`, with
/// each package fetched once.
///
/// # Errors
///
/// As [`lock_with`](crate::lock_with); a tampered package fails with
/// [`ComposeError::DigestMismatch`] naming it and both digests.
pub fn bundle(
    root: &[u8],
    resolution: &Resolution,
    source: &dyn Source,
) -> Result<Vec<u8>, ComposeError> {
    let packages = fetch_packages(resolution, source)?;
    Ok(assemble(root, resolution, &packages, Verify::Done, Output::Buffer)?.1)
}

/// [`bundle`] as [`BundleParts`]: the same bytes, not yet copied into one
/// buffer (for writing a large bundle to a file).
///
/// # Errors
///
/// As [`bundle`].
pub fn bundle_parts<'a>(
    root: &'a [u8],
    resolution: &Resolution,
    source: &dyn Source,
) -> Result<BundleParts<'a>, ComposeError> {
    let packages = fetch_packages(resolution, source)?;
    Ok(assemble(root, resolution, &packages, Verify::Done, Output::Parts)?.0)
}

/// [`bundle`] over package bytes the caller already holds, indexed like
/// [`Resolution::packages`] (checked against their digests).
///
/// On large inputs (1 MiB of packages or more, and more than one core) the
/// digests are checked on a second thread while the calling thread
/// assembles the bundle; nothing is returned until every digest has
/// matched, so the bytes are still verified before any use of the output
/// (a mismatch fails with [`ComposeError::DigestMismatch`] naming the
/// package, exactly as on the sequential path).
///
/// # Errors
///
/// As [`bundle`].
pub fn bundle_with(
    root: &[u8],
    resolution: &Resolution,
    packages: &[Arc<[u8]>],
) -> Result<Vec<u8>, ComposeError> {
    Ok(assemble(root, resolution, packages, Verify::Check, Output::Buffer)?.1)
}

/// [`bundle_with`] as [`BundleParts`]: the same bytes, checked and
/// validated the same way, not yet copied into one buffer. Write them with
/// [`BundleParts::write_to`] to save the copy that [`bundle_with`] makes.
///
/// # Errors
///
/// As [`bundle_with`].
pub fn bundle_with_parts<'a>(
    root: &'a [u8],
    resolution: &Resolution,
    packages: &[Arc<[u8]>],
) -> Result<BundleParts<'a>, ComposeError> {
    Ok(assemble(root, resolution, packages, Verify::Check, Output::Parts)?.0)
}

/// [`bundle`] written to `out` as it is assembled: no buffer of the whole
/// bundle, and (on large inputs) the writing overlaps the output's
/// validation. Returns the parts written (for their length and record).
///
/// **On error, discard what `out` received**: the bundle is checked while
/// it is written, so a failed call may have written part or all of a bundle
/// that must not be used. Write to a temporary file and rename it into place
/// only on success, as the CLI does.
///
/// # Errors
///
/// As [`bundle`]; [`ComposeError::Write`] when `out` fails.
pub fn bundle_to<'a>(
    root: &'a [u8],
    resolution: &Resolution,
    source: &dyn Source,
    out: &mut dyn Write,
) -> Result<BundleParts<'a>, ComposeError> {
    let packages = fetch_packages(resolution, source)?;
    Ok(assemble(
        root,
        resolution,
        &packages,
        Verify::Done,
        Output::Writer(out),
    )?
    .0)
}

/// [`bundle_with`] written to `out` as it is assembled, the digests checked
/// (on large inputs) while it is written; see [`bundle_to`], whose rule
/// holds here too: on error, discard what `out` received.
///
/// # Errors
///
/// As [`bundle_with`]; [`ComposeError::Write`] when `out` fails. A digest
/// mismatch wins over a write error.
pub fn bundle_with_to<'a>(
    root: &'a [u8],
    resolution: &Resolution,
    packages: &[Arc<[u8]>],
    out: &mut dyn Write,
) -> Result<BundleParts<'a>, ComposeError> {
    Ok(assemble(
        root,
        resolution,
        packages,
        Verify::Check,
        Output::Writer(out),
    )?
    .0)
}

/// Whether [`assemble`] checks the packages' digests.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verify {
    /// Check each package against its digest.
    Check,
    /// Already checked (by [`fetch_packages`]).
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

/// Below this many bytes of packages, a bundle is built on the calling
/// thread alone: a thread costs more than it saves.
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

/// Builds the bundle of `root` and `packages` under `resolution`: checks
/// the packages' digests (`verify`), composes the locked form, nests the
/// packages, validates the result, and (`output`) copies it into one
/// buffer (empty otherwise).
///
/// Sequential for small inputs. Otherwise on two threads: the digests are
/// checked (largest package first) on a second thread while the calling
/// thread builds the pieces of the bundle (which reads package bytes
/// only to compose and strip them, and writes nothing anyone can see);
/// then both threads take what is left (digests, the two validations,
/// the copy into the output in 4 MiB parts). Only when every job is done
/// is anything returned, and a digest mismatch wins over every other
/// error, so the output exists only if every package matched its digest:
/// the check still comes before any use of the bytes, it just overlaps
/// with work whose result is thrown away if it fails.
fn assemble<'a>(
    root: &'a [u8],
    resolution: &Resolution,
    packages: &[Arc<[u8]>],
    verify: Verify,
    output: Output<'_>,
) -> Result<(BundleParts<'a>, Vec<u8>), ComposeError> {
    assemble_on(root, resolution, packages, verify, output, Threads::Auto)
}

/// How many threads [`assemble_on`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Threads {
    /// Two for large inputs on a machine with two cores or more, else one.
    Auto,
    /// The calling thread alone.
    #[cfg_attr(not(test), allow(dead_code))]
    One,
    /// Two, whatever the input and the machine (the tests take both paths
    /// on any runner).
    #[cfg_attr(not(test), allow(dead_code))]
    Two,
}

/// [`assemble`] on the given number of threads.
fn assemble_on<'a>(
    root: &'a [u8],
    resolution: &Resolution,
    packages: &[Arc<[u8]>],
    verify: Verify,
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
        if verify == Verify::Check {
            check_packages(resolution, packages)?;
        }
        let pieces = build(root, resolution, packages)?;
        validate_bundle(&pieces.list)?;
        let parts = BundleParts::new(pieces);
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

    let mut order: Vec<usize> = match verify {
        Verify::Check => (0..packages.len().min(resolution.packages.len())).collect(),
        Verify::Done => Vec::new(),
    };
    order.sort_by_key(|&i| std::cmp::Reverse(packages[i].len()));
    let next_check = AtomicUsize::new(0);
    let mismatches: Mutex<Vec<(usize, ComposeError)>> = Mutex::new(Vec::new());
    let check = || {
        while let Some(&i) = order.get(next_check.fetch_add(1, Ordering::Relaxed)) {
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
        match build(root, resolution, packages) {
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
    if let Some((_, e)) = mismatches
        .into_inner()
        .expect("not poisoned")
        .into_iter()
        .min_by_key(|(i, _)| *i)
    {
        return Err(e);
    }
    if let Some(e) = failed {
        return Err(e);
    }
    // As on the sequential path: an invalid bundle is reported as such,
    // before any trouble writing it.
    if let Some((_, e)) = invalid
        .into_inner()
        .expect("not poisoned")
        .into_iter()
        .min_by_key(|(rank, _)| *rank)
    {
        return Err(e);
    }
    if let Some(e) = write_failed {
        return Err(ComposeError::Write(e));
    }
    let pieces = built.into_inner().expect("built when nothing failed");
    Ok((BundleParts::new(pieces), out))
}

fn built_list<'b, 'a>(built: &'b OnceLock<Pieces<'a>>) -> &'b [Piece<'a>] {
    built.get().map_or(&[], |p| &p.list)
}

/// The bundle's pieces (not validated), over package bytes whose digests
/// are checked (or being checked: see [`assemble`]).
fn build<'a>(
    root: &'a [u8],
    resolution: &Resolution,
    packages: &[Arc<[u8]>],
) -> Result<Pieces<'a>, ComposeError> {
    let locked = lock_sections(root, resolution, packages)?;
    let by_digest: BTreeMap<String, &Arc<[u8]>> = resolution
        .packages
        .iter()
        .zip(packages)
        .map(|(p, bytes)| (p.digest.to_string(), bytes))
        .collect();
    inline(locked, &mut |_, _, label, digest| {
        by_digest
            .get(&digest.to_string())
            .map(|b| Arc::clone(b))
            .ok_or_else(|| ComposeError::Record(format!("no bytes for `{label}` ({digest})")))
    })
}

/// Turns a locked form into the bundled form: every component import whose
/// `external-id` is a `locked-dep=` reference with integrity is fetched
/// from `source` by digest, checked, stripped of gated name attributes and
/// nested in the import's place.
///
/// # Errors
///
/// [`ComposeError::DigestMismatch`] (naming the package and both digests)
/// when a fetched package does not match its reference;
/// [`ComposeError::Reference`] for a dependency import without integrity.
pub fn bundle_locked(locked: &[u8], source: &dyn Source) -> Result<Vec<u8>, ComposeError> {
    Ok(bundle_locked_parts(locked, source)?.to_vec())
}

/// [`bundle_locked`] as [`BundleParts`]: the same bytes, not yet copied
/// into one buffer.
///
/// # Errors
///
/// As [`bundle_locked`].
pub fn bundle_locked_parts<'a>(
    locked: &'a [u8],
    source: &dyn Source,
) -> Result<BundleParts<'a>, ComposeError> {
    let pieces = inline(
        split_sections(locked, "locked form")?,
        &mut |package, version, label, digest| {
            fetch_verified(source, package, version, label, digest)
        },
    )?;
    validate_bundle(&pieces.list)?;
    Ok(BundleParts::new(pieces))
}

type Fetch<'a> =
    dyn FnMut(&PackageName, &Version, &str, &Integrity) -> Result<Arc<[u8]>, ComposeError> + 'a;

/// A dependency import of the locked form.
struct LockedImport {
    package: PackageName,
    version: Version,
    digest: Integrity,
}

/// Whether `component` is in the locked form: it imports a component whose
/// `external-id` is a `locked-dep=` reference (what [`bundle_locked`]
/// takes; any other component is a root to resolve). Reads the top-level
/// import sections only.
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

/// Reads a locked-form import entry: `Some` when it is a component import
/// whose `external-id` is a locked dependency reference.
fn locked_import(entry: &sections::Entry) -> Result<Option<LockedImport>, ComposeError> {
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
                .find(|i| i.algorithm == warg_depsolve_names::HashAlgorithm::Sha256)
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

/// Turns the sections of a locked form into the bundle's pieces (not yet
/// validated: see [`validate_bundle`]).
fn inline<'a>(
    locked: Vec<PieceSection<'a>>,
    fetch: &mut Fetch<'_>,
) -> Result<Pieces<'a>, ComposeError> {
    let what = "locked form";
    let mut out = Pieces::default();
    out.extend_owned(&sections::COMPONENT_HEADER);
    let mut record = BundleRecord {
        format: BUNDLE_FORMAT,
        imports: Vec::new(),
        dependencies: Vec::new(),
        defined: Vec::new(),
    };
    let mut index: u32 = 0;
    // Offset of the section in the locked form, for messages.
    let mut offset = sections::COMPONENT_HEADER.len();
    for section in locked {
        let start = offset;
        offset += section.header.bytes().len() + section.contents.bytes().len();
        match section.id {
            IMPORT => {
                // Small: read its entries from a copy, as a binary of its own.
                let whole = section.whole();
                let binary = [&sections::COMPONENT_HEADER[..], &whole].concat();
                let parsed = sections::split(&binary, what)?;
                let entries = sections::entries(&binary, &parsed[0], what)?;
                let deps = entries
                    .iter()
                    .map(locked_import)
                    .collect::<Result<Vec<_>, _>>()?;
                if deps.iter().all(Option::is_none) {
                    out.extend_owned(&whole);
                    index += 1;
                    continue;
                }
                let first = index;
                let mut pending: Vec<Vec<u8>> = Vec::new();
                for (entry, dep) in entries.iter().zip(deps) {
                    let Some(dep) = dep else {
                        pending.push(binary[entry.whole.clone()].to_vec());
                        continue;
                    };
                    if !pending.is_empty() {
                        out.extend_owned(&sections::entry_section(IMPORT, &pending));
                        pending.clear();
                        index += 1;
                    }
                    let label = format!("{}@{}", dep.package, dep.version);
                    // `fetch` hands out bytes checked against `dep.digest`
                    // (by `lock_with` or `fetch_verified`), or being checked
                    // while the bundle is assembled (`bundle_with`), which
                    // returns nothing unless every check passed.
                    let bytes = fetch(&dep.package, &dep.version, &label, &dep.digest)?;
                    let (stripped, patches) = strip_pieces(&Piece::shared(bytes), &label)?;
                    push_component(&mut out, stripped);
                    record.dependencies.push(NestedDependency {
                        section: index,
                        import: entry.name.name.clone(),
                        package: dep.package.to_string(),
                        version: dep.version.to_string(),
                        digest: dep.digest.to_string(),
                        patches,
                    });
                    index += 1;
                }
                if !pending.is_empty() {
                    out.extend_owned(&sections::entry_section(IMPORT, &pending));
                    index += 1;
                }
                record.imports.push(ImportGroup {
                    first,
                    last: index - 1,
                    original: whole,
                });
            }
            COMPONENT => {
                let label = format!("component nested at offset {start:#x}");
                let (stripped, patches) = strip_pieces(&section.contents, &label)?;
                push_component(&mut out, stripped);
                if !patches.is_empty() {
                    record.defined.push(DefinedComponent {
                        section: index,
                        patches,
                    });
                }
                index += 1;
            }
            CUSTOM if is_record_contents(section.contents.bytes()) => {
                return Err(ComposeError::Record(
                    "the input already carries a bundle record: it is a bundle, not a locked form"
                        .to_string(),
                ));
            }
            _ => {
                out.push(section.header);
                out.push(section.contents);
                index += 1;
            }
        }
    }
    let payload = serde_json::to_vec(&record).expect("the record serializes");
    let mut tail = Vec::new();
    sections::write_section(
        &mut tail,
        CUSTOM,
        &sections::custom_section_contents(BUNDLE_SECTION, &payload),
    );
    out.extend_owned(&tail);
    Ok(out)
}

/// Appends a nested component section holding `component`.
fn push_component<'a>(out: &mut Pieces<'a>, component: Pieces<'a>) {
    let mut header = vec![COMPONENT];
    sections::write_leb(&mut header, component.len() as u64);
    out.extend_owned(&header);
    out.append(component);
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

fn is_record_contents(contents: &[u8]) -> bool {
    matches!(sections::read_custom(contents), Some((name, _)) if name == BUNDLE_SECTION)
}

fn is_record(bytes: &[u8], section: &Section) -> bool {
    is_record_contents(&bytes[section.contents.clone()])
}

/// Reads the [`BundleRecord`] of a bundle.
///
/// # Errors
///
/// [`ComposeError::Record`] when `bundled` has no record section or its
/// payload does not parse.
pub fn read_record(bundled: &[u8]) -> Result<BundleRecord, ComposeError> {
    let sections = sections::split(bundled, "bundle")?;
    record_of(bundled, &sections).map(|(record, _)| record)
}

fn record_of(bytes: &[u8], sections: &[Section]) -> Result<(BundleRecord, usize), ComposeError> {
    let mut found = sections
        .iter()
        .enumerate()
        .filter(|(_, s)| s.id == CUSTOM && is_record(bytes, s));
    let (position, section) = found.next().ok_or_else(|| {
        ComposeError::Record(format!(
            "no `{BUNDLE_SECTION}` custom section: not a bundle made by warg-depsolve"
        ))
    })?;
    if found.next().is_some() || position != sections.len() - 1 {
        return Err(ComposeError::Record(format!(
            "the `{BUNDLE_SECTION}` section must appear once, as the last section"
        )));
    }
    let (_, payload) =
        sections::read_custom(&bytes[section.contents.clone()]).expect("is_record read it already");
    Ok((parse_record(payload)?, position))
}

/// A record section's payload, parsed and its format checked.
pub(crate) fn parse_record(payload: &[u8]) -> Result<BundleRecord, ComposeError> {
    let record: BundleRecord = serde_json::from_slice(payload)
        .map_err(|e| ComposeError::Record(format!("unreadable record: {e}")))?;
    if record.format != BUNDLE_FORMAT {
        return Err(ComposeError::Record(format!(
            "record format {} is not supported (expected {BUNDLE_FORMAT})",
            record.format
        )));
    }
    Ok(record)
}

/// Turns a bundle back into the locked form and the registry bytes of every
/// nested dependency: the exact inverse of [`bundle_locked`], so
/// `bundle_locked(&unbundle(b)?.locked, source) == b` for a source holding
/// the extracted packages, and `unbundle(&bundle_locked(l, source)?)?.locked
/// == l`.
///
/// # Errors
///
/// [`ComposeError::Record`] when the input is not a bundle or its record
/// does not fit it; [`ComposeError::DigestMismatch`] when a restored
/// dependency does not hash to its recorded digest.
pub fn unbundle(bundled: &[u8]) -> Result<Unbundled, ComposeError> {
    sections::check_input(bundled)?;
    let sections = sections::split(bundled, "bundle")?;
    let (record, record_position) = record_of(bundled, &sections)?;
    let count = record_position as u32;
    let bad = |message: String| ComposeError::Record(message);

    // What each bundle section becomes.
    enum Role<'r> {
        Keep,
        GroupStart(&'r ImportGroup),
        GroupInner,
        Defined(&'r DefinedComponent),
    }
    let mut roles: Vec<Role<'_>> = (0..count).map(|_| Role::Keep).collect();
    let mut groups: Vec<&ImportGroup> = record.imports.iter().collect();
    groups.sort_by_key(|g| g.first);
    let mut previous_end = 0;
    for group in &groups {
        if group.first > group.last || group.last >= count || group.first < previous_end {
            return Err(bad(format!(
                "import group {}..={} does not fit {count} sections",
                group.first, group.last
            )));
        }
        previous_end = group.last + 1;
        roles[group.first as usize] = Role::GroupStart(group);
        for i in group.first + 1..=group.last {
            roles[i as usize] = Role::GroupInner;
        }
    }
    let in_group = |s: u32| groups.iter().any(|g| g.first <= s && s <= g.last);
    for dep in &record.dependencies {
        if dep.section >= count || !in_group(dep.section) {
            return Err(bad(format!(
                "dependency `{}` at section {} lies outside every import group",
                dep.package, dep.section
            )));
        }
    }
    for defined in &record.defined {
        match roles.get(defined.section as usize) {
            Some(Role::Keep) if sections[defined.section as usize].id == COMPONENT => {
                roles[defined.section as usize] = Role::Defined(defined);
            }
            _ => {
                return Err(bad(format!(
                    "defined component at section {} is not a nested component outside the import groups",
                    defined.section
                )))
            }
        }
    }

    let mut packages = Vec::with_capacity(record.dependencies.len());
    for dep in &record.dependencies {
        let section = &sections[dep.section as usize];
        let label = format!("{}@{}", dep.package, dep.version);
        if section.id != COMPONENT {
            return Err(bad(format!(
                "dependency `{label}` at section {} is not a nested component",
                dep.section
            )));
        }
        let package: PackageName = dep
            .package
            .parse()
            .map_err(|e| bad(format!("package `{}`: {e}", dep.package)))?;
        let version: Version = dep
            .version
            .parse()
            .map_err(|e| bad(format!("`{}` version `{}`: {e}", dep.package, dep.version)))?;
        let digest = Integrity::parse_sri(&dep.digest)
            .map_err(|e| bad(format!("`{label}` digest `{}`: {e}", dep.digest)))?;
        let bytes = restore(&bundled[section.contents.clone()], &dep.patches, &label)?;
        check_digest(&label, &digest, &bytes)?;
        packages.push(ExtractedPackage {
            package,
            version,
            digest,
            bytes,
        });
    }

    let mut locked = Vec::with_capacity(bundled.len());
    locked.extend_from_slice(&bundled[..8]);
    for (section, role) in sections.iter().zip(&roles) {
        match role {
            Role::Keep => locked.extend_from_slice(&bundled[section.whole.clone()]),
            Role::GroupStart(group) => {
                check_group(&sections, group, &record)?;
                locked.extend_from_slice(&group.original);
            }
            Role::GroupInner => {}
            Role::Defined(defined) => {
                let label = format!("component at bundle section {}", defined.section);
                let bytes = restore(&bundled[section.contents.clone()], &defined.patches, &label)?;
                sections::write_section(&mut locked, COMPONENT, &bytes);
            }
        }
    }
    crate::validate(&locked, WasmFeatures::all(), "locked form", "")?;
    Ok(Unbundled { locked, packages })
}

/// Checks that an import group's original section names exactly the
/// dependencies nested in its range, in order.
fn check_group(
    sections: &[Section],
    group: &ImportGroup,
    record: &BundleRecord,
) -> Result<(), ComposeError> {
    let mut original = sections::COMPONENT_HEADER.to_vec();
    original.extend_from_slice(&group.original);
    let parsed = sections::split(&original, "recorded import section")?;
    let [section] = parsed.as_slice() else {
        return Err(ComposeError::Record(format!(
            "import group {}..={} does not hold exactly one section",
            group.first, group.last
        )));
    };
    if section.id != IMPORT {
        return Err(ComposeError::Record(format!(
            "import group {}..={} does not hold an import section",
            group.first, group.last
        )));
    }
    let mut expected = Vec::new();
    for entry in sections::entries(&original, section, "recorded import section")? {
        if let Some(dep) = locked_import(&entry)? {
            // The version too (found by fuzzing): without it a record
            // could rename a nested release to another version of its
            // package, and unbundle would hand out the bytes under it.
            expected.push((
                entry.name.name.clone(),
                dep.package.to_string(),
                dep.version.to_string(),
                dep.digest.to_string(),
            ));
        }
    }
    let nested: Vec<_> = record
        .dependencies
        .iter()
        .filter(|d| group.first <= d.section && d.section <= group.last)
        .map(|d| {
            (
                d.import.clone(),
                d.package.clone(),
                d.version.clone(),
                d.digest.clone(),
            )
        })
        .collect();
    let components = (group.first..=group.last)
        .filter(|&s| sections[s as usize].id == COMPONENT)
        .count();
    if expected != nested || components != nested.len() {
        return Err(ComposeError::Record(format!(
            "import group {}..={}: the recorded imports {expected:?} do not match the nested dependencies {nested:?}",
            group.first, group.last
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use warg_depsolve_registry::MemorySource;
    use warg_depsolve_solver::{resolve, Root, SolveOptions};

    fn testdata() -> std::path::PathBuf {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
    }

    /// `meet` and its packages from the fixture registry, resolved.
    fn meet() -> (Vec<u8>, Resolution, Vec<Arc<[u8]>>) {
        let source = MemorySource::new("memory");
        for (package, version) in [("add", "1.1.0"), ("inc", "1.0.0"), ("five", "1.0.0")] {
            let bytes =
                std::fs::read(testdata().join(format!("registry/test/{package}/{version}.wasm")))
                    .unwrap();
            source
                .add(
                    &format!("test:{package}").parse().unwrap(),
                    &version.parse().unwrap(),
                    bytes,
                )
                .unwrap();
        }
        let root = wat::parse_file(testdata().join("roots/meet.wat")).unwrap();
        let resolution = resolve(
            &source,
            &Root::from_component("meet", &root).unwrap(),
            &SolveOptions::default(),
        )
        .unwrap();
        let packages = crate::graph::fetch_packages(&resolution, &source).unwrap();
        (root, resolution, packages)
    }

    /// Both paths, on any runner (a one-core CI machine never takes the
    /// two-thread path by itself): the same bytes, and the same refusal of
    /// a package that does not match its digest.
    #[test]
    fn one_and_two_threads_give_the_same_bundle_and_the_same_checks() {
        let (root, resolution, packages) = meet();
        let run = |packages: &[Arc<[u8]>], threads| {
            assemble_on(
                &root,
                &resolution,
                packages,
                Verify::Check,
                Output::Buffer,
                threads,
            )
            .map(|(_, bytes)| bytes)
        };
        let one = run(&packages, Threads::One).unwrap();
        let two = run(&packages, Threads::Two).unwrap();
        assert!(!one.is_empty());
        assert_eq!(one, two);

        let mut tampered = packages.clone();
        let mut bytes = tampered[0].to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        tampered[0] = bytes.into();
        for threads in [Threads::One, Threads::Two] {
            let err = run(&tampered, threads).unwrap_err();
            assert!(
                matches!(err, ComposeError::DigestMismatch { .. }),
                "{threads:?}: {err:?}"
            );
        }
    }
}
