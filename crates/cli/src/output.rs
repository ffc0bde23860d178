//! Writing output files atomically.
//!
//! Every file a command writes (a lock file, a locked form, a bundle, a
//! migrated component) goes through [`write_atomic`]: the bytes are written
//! to a temporary file in the destination's directory, flushed, and renamed
//! over the destination. A failure at any point (including one before the
//! write, since commands compute their whole output first) leaves either the
//! old file or no file, never a partial one.
//!
//! What is at the destination is respected, as `cp` and `cargo` do
//! ([`fsutil::destination`]): `-` is stdout; a symlink stays a symlink (its
//! target is replaced); a device, FIFO or socket is written in place, never
//! replaced; a directory is an error naming it.

use std::path::Path;

use anyhow::Context as _;
use warg_depsolve_registry::fsutil;

/// Writes `bytes` to `path` atomically (temporary file in the same
/// directory, then rename), replacing any file already there. Missing
/// parent directories are created.
///
/// # Errors
///
/// The directory cannot be created, or the temporary file cannot be
/// written or renamed; the error names `path`, and no temporary file is
/// left behind.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if is_stdout(path) {
        return write_stdout(bytes);
    }
    let path = with_directory(path);
    fsutil::write_atomic(&path, bytes, fsutil::Existing::Replace)
        .with_context(|| format!("failed to write `{}`", path.display()))
}

/// [`write_atomic`] of what `write` writes into the temporary file, for an
/// output produced as it is written (a bundle's pieces). If `write` fails,
/// its error is returned as is and the temporary file removed: `path`
/// keeps its old content, or stays absent.
///
/// # Errors
///
/// `write`'s error; or the directory, the temporary file or the rename
/// failed (naming `path`).
pub fn write_atomic_from(
    path: &Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    if is_stdout(path) {
        // Nothing reaches stdout unless the whole output is good.
        let mut buffer = Vec::new();
        write(&mut buffer)?;
        return write_stdout(&buffer);
    }
    let path = with_directory(path);
    // The file system's errors name the path; `write`'s are its own.
    let mut own = None;
    let result: std::io::Result<()> =
        fsutil::write_atomic_from(&path, fsutil::Existing::Replace, |file| {
            write(file).map_err(|e| {
                own = Some(e);
                std::io::Error::other("aborted by the writer")
            })?;
            hold_for_tests();
            Ok(())
        });
    match (result, own) {
        (_, Some(e)) => Err(e),
        (Err(e), None) => {
            Err(anyhow::Error::new(e).context(format!("failed to write `{}`", path.display())))
        }
        (Ok(()), None) => Ok(()),
    }
}

/// A test seam: with `WARG_DEPSOLVE_TEST_HOLD_OUTPUT=FILE` set, a write
/// whose temporary file is complete creates FILE and then waits (for the
/// signal the test sends), so the tests can interrupt a run at the moment
/// a temporary file exists. Unset, it does nothing.
fn hold_for_tests() {
    if let Some(marker) = std::env::var_os("WARG_DEPSOLVE_TEST_HOLD_OUTPUT") {
        let _ = std::fs::write(marker, b"");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    }
}

/// Whether `path` names stdout (`-o -`).
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .context("failed to write to stdout")
}

/// `path` with a directory part (`./x` for `x`), so the temporary file has
/// somewhere to go.
fn with_directory(path: &Path) -> std::path::PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => path.to_path_buf(),
        _ => Path::new(".").join(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_creates_missing_directories() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out").join("x.wasm");
        write_atomic(&path, b"\0asm").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"\0asm");
    }

    #[test]
    fn a_failed_writer_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.wasm");
        let failed = write_atomic_from(&path, |f| {
            f.write_all(b"\0asm")?;
            anyhow::bail!("the checks failed")
        });
        assert_eq!(failed.unwrap_err().to_string(), "the checks failed");
        assert!(!path.exists());
    }
}
