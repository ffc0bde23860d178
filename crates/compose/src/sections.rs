//! Byte-level access to a component's top-level sections and to the entries
//! of its import and export sections.
//!
//! The passes of this crate rewrite a few entries of a binary and copy
//! everything else verbatim, so they work on raw byte ranges rather than on
//! a parsed-and-re-encoded model: what is not touched stays byte-identical.

use std::ops::Range;

use wasmparser::{
    BinaryReader, ComponentExternName, ComponentImport, ComponentTypeRef, FromReader,
};

use warg_depsolve_names::scan;

use crate::error::ComposeError;

/// The 8-byte header of a component binary (`\0asm`, version 0x0d, layer 1).
pub(crate) const COMPONENT_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

/// Section id of a custom section.
pub(crate) const CUSTOM: u8 = 0;
/// Section id of a nested component.
pub(crate) const COMPONENT: u8 = 4;
/// Section id of a component import section.
pub(crate) const IMPORT: u8 = 10;
/// Component instance section id.
pub(crate) const INSTANCE: u8 = 5;
/// Component type section id.
pub(crate) const TYPE: u8 = 7;
/// Section id of a component export section.
pub(crate) const EXPORT: u8 = 11;

/// One top-level section of a component: its id, the byte range of the
/// whole section (id, size and contents) and of its contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Section {
    /// The section id.
    pub id: u8,
    /// The whole section, header included.
    pub whole: Range<usize>,
    /// The section's contents (after the size).
    pub contents: Range<usize>,
}

/// The input of a pass that takes one whole binary (unbundle, migrate,
/// the locked-form check) is a component, or [`ComposeError::NotAComponent`]
/// says what it is, as the scan of `warg-depsolve-names` says it.
pub(crate) fn check_input(bytes: &[u8]) -> Result<(), ComposeError> {
    scan::check_header(bytes).map_err(ComposeError::NotAComponent)
}

/// Splits a component binary into its top-level sections, without reading
/// their contents.
pub(crate) fn split(bytes: &[u8], what: &str) -> Result<Vec<Section>, ComposeError> {
    if let Err(e) = scan::check_header(bytes) {
        return Err(ComposeError::InvalidComponent {
            component: what.to_string(),
            cause: e.into(),
        });
    }
    let mut sections = Vec::new();
    let mut pos = 8;
    while pos < bytes.len() {
        let start = pos;
        let id = bytes[pos];
        pos += 1;
        let (size, len) =
            read_leb_u32(&bytes[pos..]).ok_or_else(|| ComposeError::InvalidComponent {
                component: what.to_string(),
                cause: format!("bad section size at offset {pos:#x}").into(),
            })?;
        pos += len;
        let end = pos
            .checked_add(size as usize)
            .filter(|&end| end <= bytes.len())
            .ok_or_else(|| ComposeError::InvalidComponent {
                component: what.to_string(),
                cause: format!("section at offset {start:#x} runs past the end").into(),
            })?;
        sections.push(Section {
            id,
            whole: start..end,
            contents: pos..end,
        });
        pos = end;
    }
    Ok(sections)
}

/// Reads an unsigned LEB128 `u32`, returning the value and its length.
pub(crate) fn read_leb_u32(bytes: &[u8]) -> Option<(u32, usize)> {
    let mut value: u64 = 0;
    for (i, &b) in bytes.iter().enumerate().take(5) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return u32::try_from(value).ok().map(|v| (v, i + 1));
        }
    }
    None
}

/// Appends an unsigned LEB128 encoding of `value`.
pub(crate) fn write_leb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Appends a whole section: id, size, contents.
pub(crate) fn write_section(out: &mut Vec<u8>, id: u8, contents: &[u8]) {
    out.push(id);
    write_leb(out, contents.len() as u64);
    out.extend_from_slice(contents);
}

/// Appends a string as the binary format writes it (length, UTF-8).
pub(crate) fn write_string(out: &mut Vec<u8>, s: &str) {
    write_leb(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// The contents of a custom section: name, then payload.
pub(crate) fn custom_section_contents(name: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len() + payload.len() + 6);
    write_string(&mut out, name);
    out.extend_from_slice(payload);
    out
}

/// Reads a custom section's name and payload.
pub(crate) fn read_custom(contents: &[u8]) -> Option<(&str, &[u8])> {
    let (len, n) = read_leb_u32(contents)?;
    let end = n
        .checked_add(len as usize)
        .filter(|&e| e <= contents.len())?;
    let name = std::str::from_utf8(&contents[n..end]).ok()?;
    Some((name, &contents[end..]))
}

/// A name as [`write_name`] encodes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Name {
    pub name: String,
    pub implements: Option<String>,
    pub version_suffix: Option<String>,
    pub external_id: Option<String>,
}

impl Name {
    /// A name without attributes.
    pub(crate) fn new(name: impl Into<String>) -> Self {
        Name {
            name: name.into(),
            ..Name::default()
        }
    }
}

impl From<ComponentExternName<'_>> for Name {
    fn from(n: ComponentExternName<'_>) -> Self {
        Name {
            name: n.name.to_string(),
            implements: n.implements.map(str::to_string),
            version_suffix: n.version_suffix.map(str::to_string),
            external_id: n.external_id.map(str::to_string),
        }
    }
}

/// Appends an import or export name with its attributes, exactly as
/// wasm-encoder 0.263 writes one (`0x00 name` without attributes, `0x02 name
/// count (tag string)*` with them, in the order implements, version-suffix,
/// external-id).
pub(crate) fn write_name(out: &mut Vec<u8>, name: &Name) {
    let mut options: Vec<(u8, &str)> = Vec::new();
    if let Some(s) = &name.implements {
        options.push((0x00, s));
    }
    if let Some(s) = &name.version_suffix {
        options.push((0x01, s));
    }
    if let Some(s) = &name.external_id {
        options.push((0x02, s));
    }
    out.push(if options.is_empty() { 0x00 } else { 0x02 });
    write_string(out, &name.name);
    if !options.is_empty() {
        write_leb(out, options.len() as u64);
        for (tag, s) in options {
            out.push(tag);
            write_string(out, s);
        }
    }
}

/// One entry of an import or export section, as byte ranges into the
/// binary it was read from.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// The name and its attributes.
    pub name: Name,
    /// Whether the name is encoded with attributes (leading byte 0x02).
    pub attributed: bool,
    /// The whole entry.
    pub whole: Range<usize>,
    /// What follows the name (the type reference of an import; kind, index
    /// and optional type of an export).
    pub rest: Range<usize>,
    /// For imports: the imported item's type reference.
    pub ty: Option<ComponentTypeRef>,
}

/// Reads the entries of an import or export section.
pub(crate) fn entries(
    bytes: &[u8],
    section: &Section,
    what: &str,
) -> Result<Vec<Entry>, ComposeError> {
    let bad = |e: wasmparser::BinaryReaderError| ComposeError::InvalidComponent {
        component: what.to_string(),
        cause: e.into(),
    };
    let data = &bytes[section.contents.clone()];
    let base = section.contents.start;
    let mut reader = BinaryReader::new(data, base as u64);
    let count = reader.read_var_u32().map_err(bad)?;
    // The count is the input's word: an entry takes at least one byte, so
    // no more than the section's size is reserved (found by fuzzing: a
    // count of 2^32 - 1 asked for 70 GB).
    let mut out = Vec::with_capacity((count as usize).min(data.len()));
    for _ in 0..count {
        let start = reader.current_position();
        let attributed = data.get(start) == Some(&0x02);
        let mut name_reader = reader.clone();
        let name = ComponentExternName::from_reader(&mut name_reader).map_err(bad)?;
        let name_end = name_reader.current_position();
        let ty = match section.id {
            IMPORT => Some(ComponentImport::from_reader(&mut reader).map_err(bad)?.ty),
            _ => {
                wasmparser::ComponentExport::from_reader(&mut reader).map_err(bad)?;
                None
            }
        };
        let end = reader.current_position();
        out.push(Entry {
            name: name.into(),
            attributed,
            whole: base + start..base + end,
            rest: base + name_end..base + end,
            ty,
        });
    }
    if !reader.eof() {
        return Err(ComposeError::InvalidComponent {
            component: what.to_string(),
            cause: format!(
                "trailing bytes in section at offset {:#x}",
                section.whole.start
            )
            .into(),
        });
    }
    Ok(out)
}

/// `entry` (read from `bytes`) under another name: `name` as
/// [`write_name`] encodes it, then what followed the old name, verbatim.
pub(crate) fn renamed_entry(bytes: &[u8], entry: &Entry, name: &Name) -> Vec<u8> {
    let mut out = Vec::with_capacity(entry.whole.len() + 16);
    write_name(&mut out, name);
    out.extend_from_slice(&bytes[entry.rest.clone()]);
    out
}

/// An import or export section (`id`) holding `entries` (read from
/// `bytes`), each renamed where `rename` gives it a new name
/// ([`renamed_entry`]) and copied as it is where `rename` gives `None`.
/// Returns the whole section (id, size, contents).
pub(crate) fn rename_entries(
    bytes: &[u8],
    id: u8,
    entries: &[Entry],
    mut rename: impl FnMut(&Entry) -> Result<Option<Name>, ComposeError>,
) -> Result<Vec<u8>, ComposeError> {
    let mut rewritten = Vec::with_capacity(entries.len());
    for entry in entries {
        rewritten.push(match rename(entry)? {
            Some(name) => renamed_entry(bytes, entry, &name),
            None => bytes[entry.whole.clone()].to_vec(),
        });
    }
    Ok(entry_section(id, &rewritten))
}

/// Encodes an import or export section from raw entries.
pub(crate) fn entry_section(id: u8, entries: &[Vec<u8>]) -> Vec<u8> {
    let mut contents = Vec::new();
    write_leb(&mut contents, entries.len() as u64);
    for e in entries {
        contents.extend_from_slice(e);
    }
    let mut out = Vec::with_capacity(contents.len() + 6);
    write_section(&mut out, id, &contents);
    out
}
