//! Writing output files atomically.
//!
//! Every file a command writes (a lock file, a locked form, a bundle, a
//! migrated component) goes through [`write_atomic`]: the bytes are written
//! to a temporary file in the destination's directory, flushed, and renamed
//! over the destination. A failure at any point (including one before the
//! write, since commands compute their whole output first) leaves either the
//! old file or no file, never a partial one.

use std::path::Path;

use anyhow::Context as _;
use warg_depsolve_registry::fsutil;

/// Writes `bytes` to `path` atomically (temporary file in the same
/// directory, then rename), replacing any file already there. Missing
/// parent directories are created.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("out").join("x.wasm");
/// warg_depsolve::output::write_atomic(&path, b"\0asm").unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"\0asm");
/// ```
///
/// # Errors
///
/// The directory cannot be created, or the temporary file cannot be
/// written or renamed; the error names `path`, and no temporary file is
/// left behind.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let path = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => path.to_path_buf(),
        _ => Path::new(".").join(path),
    };
    fsutil::write_atomic(&path, bytes, fsutil::Existing::Replace)
        .with_context(|| format!("failed to write `{}`", path.display()))
}
