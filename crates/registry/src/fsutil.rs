//! File-system helpers shared by the local source, the caches and the CLI: atomic
//! writes and path-component checks.

use std::ffi::OsStr;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

/// How [`write_atomic`] treats an existing file at the destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Existing {
    /// Replace it (the new content is at least as good as the old).
    Replace,
    /// Leave it and report [`io::ErrorKind::AlreadyExists`].
    Keep,
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
    let dir = path.parent().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{}` has no parent directory", path.display()),
        )
    })?;
    std::fs::create_dir_all(dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tmp-");
    // A temporary file is created private (0600); the file it becomes is an
    // ordinary output, so give it the mode `fs::write` would (0666 less the
    // umask).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    if durable {
        tmp.as_file().sync_all()?;
    }
    match existing {
        Existing::Replace => match tmp.persist(path) {
            Ok(_) => Ok(()),
            // On some platforms a rename over a file another process holds
            // open fails; if an identical file is already there, the write
            // has in effect happened.
            Err(e) if std::fs::read(path).is_ok_and(|old| old == bytes) => {
                drop(e);
                Ok(())
            }
            Err(e) => Err(e.error),
        },
        Existing::Keep => tmp.persist_noclobber(path).map(|_| ()).map_err(|e| e.error),
    }
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
}
