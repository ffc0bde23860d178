//! Helpers shared by the fuzz targets in `fuzz_targets/`: the generator of
//! small component graphs for the `bundle` target, and the checks every
//! target makes on a successful parse.
//!
//! The targets only assert what the crates document (round trips, "outputs
//! validate", "the exact inverse"); anything else a target sees is an error
//! value, which is fine, or a panic, which is a finding.

pub mod graph;

/// The input as UTF-8, or `None` (the text parsers take `&str`, so invalid
/// UTF-8 never reaches them; the CLI reads files with `read_to_string`).
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// Splits `data` at its first `0xff` byte (never part of UTF-8) into two
/// pieces, so one input can drive two parameters.
pub fn split2(data: &[u8]) -> (&[u8], Option<&[u8]>) {
    match data.iter().position(|&b| b == 0xff) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    }
}

/// The byte ranges of the top-level sections of a wasm binary (each whole:
/// id, size and contents), or `None` when the framing does not parse. Only
/// for building inputs from the committed seeds, which are well formed.
pub fn sections(bytes: &[u8]) -> Option<Vec<std::ops::Range<usize>>> {
    let mut out = Vec::new();
    let mut pos = 8;
    if bytes.len() < pos {
        return None;
    }
    while pos < bytes.len() {
        let start = pos;
        pos += 1;
        let mut size: usize = 0;
        let mut shift = 0;
        loop {
            let byte = *bytes.get(pos)?;
            pos += 1;
            size |= usize::from(byte & 0x7f).checked_shl(shift)?;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift > 28 {
                return None;
            }
        }
        pos = pos.checked_add(size).filter(|&end| end <= bytes.len())?;
        out.push(start..pos);
    }
    Some(out)
}

/// A bundle made by `warg-depsolve bundle` from `testdata/roots/meet.wat`
/// (the seed `seeds/unbundle/meet.bundled.wasm`): the frame for inputs that
/// replace one of its parts.
pub const MEET_BUNDLE: &[u8] = include_bytes!("../seeds/unbundle/meet.bundled.wasm");

/// [`MEET_BUNDLE`] with its record section's payload replaced by `payload`.
pub fn meet_bundle_with_record(payload: &[u8]) -> Vec<u8> {
    let sections = sections(MEET_BUNDLE).expect("the committed bundle is well formed");
    let last = sections.last().expect("a bundle has sections");
    let mut out = MEET_BUNDLE[..last.start].to_vec();
    let mut section = wasm_encoder::Component::new();
    section.section(&wasm_encoder::CustomSection {
        name: warg_depsolve_compose::BUNDLE_SECTION.into(),
        data: payload.into(),
    });
    // Past the new component's own 8-byte header.
    out.extend_from_slice(&section.finish()[8..]);
    out
}
