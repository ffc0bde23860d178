//! Reading component files from disk.
//!
//! Every command that takes a component file accepts both the binary format
//! (`.wasm`) and the text format (`.wat`), and names the file in every error.

use std::fmt;
use std::path::Path;

use anyhow::Context as _;

/// The `\0asm` magic number every wasm binary starts with.
const WASM_MAGIC: &[u8] = b"\0asm";

/// How a file was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    /// A wasm binary, used byte for byte.
    Wasm,
    /// WebAssembly text, compiled to a binary with the `wat` crate.
    Wat,
}

impl SourceFormat {
    /// `wasm` or `wat`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::Wasm => "wasm",
            SourceFormat::Wat => "wat",
        }
    }
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A file read from disk, as a wasm binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WasmFile {
    /// The binary: the file's bytes, or what its text compiles to.
    pub bytes: Vec<u8>,
    /// Whether the file was binary or text.
    pub source: SourceFormat,
}

/// Reads a wasm file, compiling it first if it is WebAssembly text.
///
/// A file is text when it does not start with the `\0asm` magic number and
/// either its extension is `.wat` or its first non-blank character opens an
/// s-expression or a comment (`(` or `;`). Anything else is returned as is,
/// so that a file that is not wasm at all reaches the component scanner and
/// gets its "not a component: ..." diagnosis rather than a text syntax
/// error. The bytes are not checked to be a component here.
///
/// # Errors
///
/// The file cannot be read, or it is text that does not parse. Both errors
/// name the file.
pub fn read_wasm_file(path: &Path) -> anyhow::Result<WasmFile> {
    let raw =
        std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()))?;
    if !looks_like_text(path, &raw) {
        return Ok(WasmFile {
            bytes: raw,
            source: SourceFormat::Wasm,
        });
    }
    let bytes = wat::parse_bytes(&raw)
        .map_err(|mut e| {
            e.set_path(path);
            e
        })
        .with_context(|| format!("failed to parse `{}` as WebAssembly text", path.display()))?
        .into_owned();
    Ok(WasmFile {
        bytes,
        source: SourceFormat::Wat,
    })
}

fn looks_like_text(path: &Path, raw: &[u8]) -> bool {
    if raw.starts_with(WASM_MAGIC) {
        return false;
    }
    let wat_extension = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("wat"));
    wat_extension || matches!(raw.trim_ascii_start().first(), Some(b'(' | b';'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_recognised_by_extension_or_content() {
        let p = Path::new;
        assert!(looks_like_text(p("x.wat"), b"garbage"));
        assert!(looks_like_text(p("x.WAT"), b""));
        assert!(looks_like_text(p("x.txt"), b"  \n(component)"));
        assert!(looks_like_text(p("x"), b";; comment\n(component)"));
        assert!(!looks_like_text(p("x.wat"), b"\0asm\x0d\0\x01\0"));
        assert!(!looks_like_text(p("x.wasm"), b"# a readme"));
        assert!(!looks_like_text(p("x.md"), b""));
    }
}
