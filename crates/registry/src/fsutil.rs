//! File-system helpers shared by the local source, the caches and the CLI: atomic
//! writes, shared reads and path-component checks.

use std::ffi::OsStr;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::source::Stamp;

/// The whole file, read straight into a shared buffer.
///
/// Package bytes travel as `Arc<[u8]>` ([`Source::fetch`]); turning
/// [`std::fs::read`]'s `Vec` into one copies every byte again, which for a
/// 50 MB bundle's members costs as much as the read itself. A file that
/// changes length while being read is read again the ordinary way.
///
/// [`Source::fetch`]: crate::Source::fetch
pub fn read_shared(path: &Path) -> io::Result<std::sync::Arc<[u8]>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let len = usize::try_from(file.metadata()?.len()).map_err(io::Error::other)?;
    let mut bytes: std::sync::Arc<[u8]> = std::iter::repeat_n(0u8, len).collect();
    let buffer = std::sync::Arc::get_mut(&mut bytes).expect("a fresh Arc has one owner");
    let complete = match file.read_exact(buffer) {
        Ok(()) => file.read(&mut [0u8; 1])? == 0,
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => false,
        Err(e) => return Err(e),
    };
    if complete {
        Ok(bytes)
    } else {
        Ok(std::fs::read(path)?.into())
    }
}

/// How [`write_atomic`] treats an existing file at the destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Existing {
    /// Replace it (the new content is at least as good as the old).
    Replace,
    /// Leave it and report [`io::ErrorKind::AlreadyExists`].
    Keep,
}

/// Where a write to a path goes, as `cp` and `cargo` treat what is there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// A regular file, or nothing yet: replaced atomically (a temporary
    /// file beside it, then a rename). The path is the one a symlink
    /// resolves to, so a symlink stays a symlink and its target is replaced.
    Replace(PathBuf),
    /// An existing file that is not a regular file (a character or block
    /// device, a FIFO, a socket): opened and written in place, never
    /// replaced (`-o /dev/null` must not replace `/dev/null`).
    InPlace(PathBuf),
}

/// How many symlinks [`destination`] follows before giving up (the limit
/// Linux applies to one path lookup).
const MAX_SYMLINKS: usize = 40;

/// Where a write to `path` goes: symlinks are followed to their final
/// target (which may not exist yet); a directory is an error.
///
/// # Errors
///
/// `path` (or what its symlinks lead to) is a directory
/// ([`io::ErrorKind::IsADirectory`], naming it); a symlink loop; the file
/// system's errors other than "not found".
pub fn destination(path: &Path) -> io::Result<Destination> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_SYMLINKS {
        let meta = match std::fs::symlink_metadata(&current) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Destination::Replace(current))
            }
            Err(e) => return Err(e),
        };
        let kind = meta.file_type();
        if kind.is_symlink() {
            let target = std::fs::read_link(&current)?;
            current = match current.parent() {
                Some(dir) if target.is_relative() => dir.join(target),
                _ => target,
            };
        } else if kind.is_dir() {
            // The caller names `path`; say where a symlink led, if it did.
            let message = if current == path {
                "it is a directory".to_string()
            } else {
                format!("it leads to `{}`, a directory", current.display())
            };
            return Err(io::Error::new(io::ErrorKind::IsADirectory, message));
        } else if kind.is_file() {
            return Ok(Destination::Replace(current));
        } else {
            return Ok(Destination::InPlace(current));
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// Writes `bytes` into an existing special file, in place.
fn write_in_place(path: &Path, bytes: &[u8], existing: Existing) -> io::Result<()> {
    if existing == Existing::Keep {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("`{}` exists", path.display()),
        ));
    }
    let mut file = std::fs::OpenOptions::new().write(true).open(path)?;
    file.write_all(bytes)?;
    file.flush()
}

/// Writes `bytes` to `path` atomically: the bytes go to a fresh temporary
/// file in the same directory (so the rename cannot cross file systems),
/// are flushed to disk, and the file is then renamed into place. A reader
/// sees either no file or the whole file, never a part of one; a crash
/// leaves at most a stray `.tmp*` file, which every reader here ignores.
///
/// With [`Existing::Keep`] the rename does not replace an existing file
/// (it fails with `AlreadyExists`), which makes "first writer wins" safe
/// between processes without a lock.
///
/// What is at `path` is treated as [`destination`] says: a symlink's
/// target is replaced (the link stays), a device, FIFO or socket is written
/// in place, a directory is an error.
pub fn write_atomic(path: &Path, bytes: &[u8], existing: Existing) -> io::Result<()> {
    write_atomic_with(path, bytes, existing, true)
}

/// [`write_atomic`], optionally without flushing the file to disk before
/// the rename (`durable: false`): for derived data whose readers treat an
/// unreadable file as absent, where a crash can cost a recomputation but
/// never a wrong answer.
pub(crate) fn write_atomic_with(
    path: &Path,
    bytes: &[u8],
    existing: Existing,
    durable: bool,
) -> io::Result<()> {
    let path = match destination(path)? {
        Destination::InPlace(special) => return write_in_place(&special, bytes, existing),
        Destination::Replace(path) => path,
    };
    let path = path.as_path();
    let (mut tmp, _live) = temporary_beside(path)?;
    tmp.write_all(bytes)?;
    if durable {
        tmp.as_file().sync_all()?;
    }
    // On some platforms a rename over a file another process holds open
    // fails; if an identical file is already there, the write has in effect
    // happened.
    persist(tmp, path, existing, || {
        std::fs::read(path).is_ok_and(|old| old == bytes)
    })
}

/// [`write_atomic`] of what `write` writes into the temporary file, for an
/// output produced as it is written (a bundle's pieces, written while its
/// checks run). If `write` fails, the temporary file is removed and nothing
/// is renamed: the destination keeps its old content, or stays absent.
/// A special file (a device, a FIFO) gets nothing until `write` has
/// succeeded: the output is gathered in memory first, then written in
/// place.
///
/// ```
/// use std::io::Write as _;
/// use warg_depsolve_registry::fsutil::{write_atomic_from, Existing};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("out.bin");
/// write_atomic_from(&path, Existing::Replace, |f| f.write_all(b"whole")).unwrap();
/// let failed: std::io::Result<()> = write_atomic_from(&path, Existing::Replace, |f| {
///     f.write_all(b"part")?;
///     Err(std::io::Error::other("checks failed"))
/// });
/// assert!(failed.is_err());
/// assert_eq!(std::fs::read(&path).unwrap(), b"whole");
/// ```
///
/// # Errors
///
/// `write`'s error, or the file system's.
pub fn write_atomic_from<E: From<io::Error>>(
    path: &Path,
    existing: Existing,
    write: impl FnOnce(&mut dyn Write) -> Result<(), E>,
) -> Result<(), E> {
    let path = match destination(path)? {
        Destination::InPlace(special) => {
            let mut buffer = Vec::new();
            write(&mut buffer)?;
            return Ok(write_in_place(&special, &buffer, existing)?);
        }
        Destination::Replace(path) => path,
    };
    let (mut tmp, _live) = temporary_beside(&path)?;
    write(tmp.as_file_mut())?;
    tmp.as_file().sync_all()?;
    Ok(persist(tmp, &path, existing, || false)?)
}

/// The temporary files this process is writing, so that a signal handler
/// can remove them ([`remove_live_temporaries`]).
fn live() -> &'static std::sync::Mutex<std::collections::BTreeSet<PathBuf>> {
    static LIVE: std::sync::OnceLock<std::sync::Mutex<std::collections::BTreeSet<PathBuf>>> =
        std::sync::OnceLock::new();
    LIVE.get_or_init(Default::default)
}

/// Registers a temporary file as live for as long as it is held.
struct Live(PathBuf);

impl Live {
    fn new(path: &Path) -> Self {
        live()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.to_path_buf());
        Live(path.to_path_buf())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        live()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.0);
    }
}

/// Removes every temporary file this process is writing. For a caller's
/// SIGINT/SIGTERM handler (the CLI's), which then exits: an interrupted
/// run leaves no `.tmp-*` file behind. Safe to call from any thread.
pub fn remove_live_temporaries() {
    let paths = live().lock().unwrap_or_else(|e| e.into_inner()).clone();
    for path in paths {
        let _ = std::fs::remove_file(path);
    }
}

/// The name prefix of our temporary files.
const TEMPORARY_PREFIX: &str = ".tmp-";

/// How old one of our temporary files must be before a later write into
/// its directory removes it as left over from a run that was killed
/// outright (SIGKILL, a crash, power loss): far longer than any write.
pub const STALE_TEMPORARY: Duration = Duration::from_secs(60 * 60);

/// Removes our temporary files older than [`STALE_TEMPORARY`] from `dir`,
/// once per directory per process (a directory may hold many files).
fn sweep_stale_temporaries(dir: &Path) {
    static SWEPT: std::sync::OnceLock<std::sync::Mutex<std::collections::HashSet<PathBuf>>> =
        std::sync::OnceLock::new();
    let first = SWEPT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(dir.to_path_buf());
    if !first {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let ours = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(TEMPORARY_PREFIX));
        let stale = || {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > STALE_TEMPORARY))
        };
        if ours && entry.file_type().is_ok_and(|t| t.is_file()) && stale() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A fresh temporary file in `path`'s directory (created if missing), so
/// the rename into place cannot cross file systems; registered as live
/// while the guard is held.
fn temporary_beside(path: &Path) -> io::Result<(tempfile::NamedTempFile, Live)> {
    let dir = path.parent().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{}` has no parent directory", path.display()),
        )
    })?;
    std::fs::create_dir_all(dir)?;
    sweep_stale_temporaries(dir);
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMPORARY_PREFIX);
    // A temporary file is created private (0600); the file it becomes is an
    // ordinary output, so give it the mode `fs::write` would (0666 less the
    // umask).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let file = builder.tempfile_in(dir)?;
    let guard = Live::new(file.path());
    Ok((file, guard))
}

/// Renames the temporary file into place; `already_there` says whether a
/// failed replacing rename can count as done (an identical file is there).
fn persist(
    tmp: tempfile::NamedTempFile,
    path: &Path,
    existing: Existing,
    already_there: impl FnOnce() -> bool,
) -> io::Result<()> {
    match existing {
        Existing::Replace => match tmp.persist(path) {
            Ok(_) => Ok(()),
            Err(e) if already_there() => {
                drop(e);
                Ok(())
            }
            Err(e) => Err(e.error),
        },
        Existing::Keep => tmp.persist_noclobber(path).map(|_| ()).map_err(|e| e.error),
    }
}

/// How long ago a file's modification and change times must lie before its
/// identity is trusted as a stamp, by default: longer than the coarsest timestamp
/// granularity in common use (2 s on FAT) plus the lag of the kernel's
/// coarse clock, with room for some clock skew between a network file
/// system's server and this machine.
pub(crate) const SETTLE_TIME: Duration = Duration::from_secs(3);

/// The identity of a file (or directory) as a [`Stamp`]: device, inode,
/// size, modification and change times in nanoseconds (on other platforms
/// than Unix: size and modification time), as git's index records it.
///
/// Any write to a file changes its modification and change times, a rename
/// over it changes its inode, and a directory's times change whenever an
/// entry is created, removed or renamed in it. What a file's identity
/// cannot show is a second write within the same timestamp tick as the
/// write it was recorded after (git's "racy git" problem). So, as git
/// treats index entries whose time is not older than the index as
/// unverified, a file whose modification or change time is less than
/// `settle` ([`SETTLE_TIME`] by default) before now (or in the future) has
/// no stamp: its content
/// is read every time until it has settled, and any later write gets a
/// later time than the one recorded. Clock skew of more than that between
/// the machine that writes a file and this one (a network file system)
/// defeats the rule; a write that also preserves size, inode and both
/// times is not detectable from metadata at all (only by reading).
#[cfg(any(test, not(unix)))]
pub(crate) fn stamp_of(meta: &std::fs::Metadata, settle: Duration) -> Option<Stamp> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        stamp_from(
            [meta.dev(), meta.ino(), meta.size()],
            (meta.mtime(), meta.mtime_nsec()),
            (meta.ctime(), meta.ctime_nsec()),
            settle,
        )
    }
    #[cfg(not(unix))]
    {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
        let settled = u64::try_from(now.checked_sub(settle)?.as_nanos()).ok()?;
        let mtime = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
        let mtime = u64::try_from(mtime.as_nanos()).ok()?;
        (mtime < settled).then_some(Stamp([0, 0, meta.len(), mtime, 0]))
    }
}

/// The rule of [`stamp_of`] over the raw fields of a `stat`: device,
/// inode and size, and the modification and change times as seconds and
/// nanoseconds. `None` when either time is less than `settle` before now
/// (or in the future, or out of range).
#[cfg(unix)]
fn stamp_from(
    [dev, ino, size]: [u64; 3],
    (mtime, mtime_nsec): (i64, i64),
    (ctime, ctime_nsec): (i64, i64),
    settle: Duration,
) -> Option<Stamp> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
    let settled = u64::try_from(now.checked_sub(settle)?.as_nanos()).ok()?;
    let nanos = |secs: i64, nsec: i64| -> Option<u64> {
        u64::try_from(secs)
            .ok()?
            .checked_mul(1_000_000_000)?
            .checked_add(u64::try_from(nsec).ok()?)
    };
    let mtime = nanos(mtime, mtime_nsec)?;
    let ctime = nanos(ctime, ctime_nsec)?;
    (mtime < settled && ctime < settled).then_some(Stamp([dev, ino, size, mtime, ctime]))
}

/// What a [`stat_at`] found: a directory or a regular file (symlinks
/// followed), or something else.
#[cfg(unix)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Dir,
    File,
    Other,
}

/// `fstatat(dir, path)` following symlinks (`path` relative to the open
/// directory `dir`): the entry's kind and its stamp under [`stamp_of`]'s
/// rule. One system call, no allocation for short paths, and a path walk
/// of only `path`'s components (not the directory's own path again).
/// `None` when it cannot be stat'ed.
#[cfg(unix)]
pub(crate) fn stat_at(
    dir: std::os::fd::BorrowedFd<'_>,
    path: &str,
    settle: Duration,
) -> Option<(Kind, Option<Stamp>)> {
    use rustix::fs::{statat, AtFlags, FileType};
    let st = statat(dir, path, AtFlags::empty()).ok()?;
    let kind = match FileType::from_raw_mode(st.st_mode as _) {
        FileType::Directory => Kind::Dir,
        FileType::RegularFile => Kind::File,
        _ => Kind::Other,
    };
    // The field types differ between targets (signed on some); every
    // conversion below is checked.
    #[allow(clippy::useless_conversion, clippy::unnecessary_fallible_conversions)]
    let stamp = (|| {
        stamp_from(
            [
                u64::try_from(st.st_dev).ok()?,
                u64::try_from(st.st_ino).ok()?,
                u64::try_from(st.st_size).ok()?,
            ],
            (
                i64::try_from(st.st_mtime).ok()?,
                i64::try_from(st.st_mtime_nsec).ok()?,
            ),
            (
                i64::try_from(st.st_ctime).ok()?,
                i64::try_from(st.st_ctime_nsec).ok()?,
            ),
            settle,
        )
    })();
    Some((kind, stamp))
}

/// Whether `name` is usable as exactly one normal path component: not
/// empty, not `.` or `..`, no separator, no NUL, not absolute, no drive or
/// prefix. The names built here (package labels, versions, hex digests)
/// can only be such components by their grammar; this check makes the
/// property hold even if that grammar ever loosens.
pub(crate) fn is_single_component(name: &str) -> bool {
    if name.is_empty() || name.contains(['/', '\\', '\0']) {
        return false;
    }
    let mut components = Path::new(name).components();
    matches!(
        (components.next(), components.next()),
        (Some(Component::Normal(c)), None) if c == OsStr::new(name)
    )
}

/// Joins `parts` onto `root`, each checked by [`is_single_component`], so
/// the result is always strictly inside `root`. `None` if a part is not a
/// plain component.
pub(crate) fn join_inside(root: &Path, parts: &[&str]) -> Option<PathBuf> {
    let mut path = root.to_path_buf();
    for part in parts {
        if !is_single_component(part) {
            return None;
        }
        path.push(part);
    }
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_components() {
        for ok in ["test", "1.0.0.wasm", "1.0.0-rc.1+build.5.wasm", "a b"] {
            assert!(is_single_component(ok), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "a\\b", "/abs", "a\0b", "../x"] {
            assert!(!is_single_component(bad), "{bad:?}");
        }
    }

    #[test]
    fn fresh_files_have_no_stamp_settled_ones_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"one").unwrap();
        // Just written: its time is within the settle time of now.
        let stamp = |settle| stamp_of(&std::fs::metadata(&path).unwrap(), settle);
        let hour = Duration::from_secs(3600);
        assert_eq!(stamp(hour), None);
        // With no settle time, anything in the past is trusted.
        std::thread::sleep(Duration::from_millis(20));
        let first = stamp(Duration::ZERO).expect("a settled file has a stamp");
        // Another write of other bytes changes it.
        std::fs::write(&path, b"other").unwrap();
        std::thread::sleep(Duration::from_millis(20));
        assert_ne!(stamp(Duration::ZERO), Some(first));
        let old = SystemTime::now() - 2 * hour;
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(old).unwrap();
        drop(file);
        // On Unix the change time was just set by `set_modified`, so the
        // file is still unsettled there: backdating the modification time
        // does not make a fresh file trusted. Elsewhere the old time is all
        // there is.
        assert_eq!(stamp(hour).is_some(), cfg!(not(unix)));
    }

    /// `stat_at` (relative to an open directory) applies the same rule as
    /// `stamp_of` and sees the same identity; it tells files from
    /// directories, follows symlinks, and finds nothing that is missing.
    #[cfg(unix)]
    #[test]
    fn stamps_relative_to_a_directory_follow_the_same_rule() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        std::fs::write(dir.path().join("d/f"), b"one").unwrap();
        std::os::unix::fs::symlink("f", dir.path().join("d/link")).unwrap();
        let root: std::os::fd::OwnedFd = std::fs::File::open(dir.path()).unwrap().into();
        let at = |path, settle| stat_at(std::os::fd::AsFd::as_fd(&root), path, settle);
        let hour = Duration::from_secs(3600);
        // Just written: a kind, no stamp.
        assert_eq!(at("d/f", hour), Some((Kind::File, None)));
        assert_eq!(at("d", hour), Some((Kind::Dir, None)));
        assert_eq!(at("d/missing", hour), None);
        std::thread::sleep(Duration::from_millis(20));
        let (kind, stamp) = at("d/f", Duration::ZERO).unwrap();
        assert_eq!(kind, Kind::File);
        let stamp = stamp.expect("a settled file has a stamp");
        let by_path = stamp_of(
            &std::fs::metadata(dir.path().join("d/f")).unwrap(),
            Duration::ZERO,
        )
        .unwrap();
        // Inode, size and both times agree (the device number's encoding
        // may differ between `statx` and `fstatat`).
        assert_eq!(stamp.0[1..], by_path.0[1..]);
        // A symlinked file is the file it links to.
        assert_eq!(
            at("d/link", Duration::ZERO),
            Some((Kind::File, Some(stamp)))
        );
        // Rewritten in place with bytes of the same size: another stamp.
        std::fs::write(dir.path().join("d/f"), b"two").unwrap();
        std::thread::sleep(Duration::from_millis(20));
        assert_ne!(at("d/f", Duration::ZERO).unwrap().1, Some(stamp));
    }

    #[test]
    fn atomic_write_keep_and_replace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("f");
        write_atomic(&path, b"one", Existing::Keep).unwrap();
        let err = write_atomic(&path, b"two", Existing::Keep).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        write_atomic(&path, b"two", Existing::Replace).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("f")]);
    }

    #[test]
    fn shared_reads_hold_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        for len in [0, 1, 4096, 1 << 20] {
            let path = dir.path().join(format!("f{len}"));
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            std::fs::write(&path, &bytes).unwrap();
            assert_eq!(&*read_shared(&path).unwrap(), &bytes[..], "{len} bytes");
        }
        let missing = read_shared(&dir.path().join("missing")).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }
}
