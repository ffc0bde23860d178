//! Outputs held as the pieces they are made of, and their structural
//! validation.
//!
//! Most of a bundle's bytes are its inputs verbatim (the packages and the
//! root); the rest is small (section headers, rewritten import and export
//! sections, the record). Building a bundle as a list of [`Piece`]s, each
//! borrowing or sharing its input, costs no copy of those bytes; the pieces
//! are then copied once into a buffer of exactly the right size, or written
//! to a file one piece at a time ([`BundleParts::write_to`]).

use std::io::{self, Write};
use std::ops::Range;
use std::sync::Arc;

use wasmparser::{Chunk, Parser, Payload, Validator, WasmFeatures};

use crate::error::ComposeError;

/// One piece of an output: input bytes borrowed or shared, or a few owned
/// bytes written for the output.
#[derive(Clone, Debug)]
pub(crate) enum Piece<'a> {
    /// Bytes of an input the caller holds.
    Borrowed(&'a [u8]),
    /// A range of package bytes (as fetched from a source).
    Shared(Arc<[u8]>, Range<usize>),
    /// Bytes made for the output (headers, rewritten sections).
    Owned(Vec<u8>),
}

impl<'a> Piece<'a> {
    /// The piece's bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Piece::Borrowed(b) => b,
            Piece::Shared(a, r) => &a[r.clone()],
            Piece::Owned(v) => v,
        }
    }

    /// The whole of shared bytes.
    pub fn shared(bytes: Arc<[u8]>) -> Piece<'a> {
        let len = bytes.len();
        Piece::Shared(bytes, 0..len)
    }

    /// A range of this piece, without copying unless it is owned (owned
    /// pieces are small).
    pub fn slice(&self, range: Range<usize>) -> Piece<'a> {
        match self {
            Piece::Borrowed(b) => Piece::Borrowed(&b[range]),
            Piece::Shared(a, r) => {
                Piece::Shared(Arc::clone(a), r.start + range.start..r.start + range.end)
            }
            Piece::Owned(v) => Piece::Owned(v[range].to_vec()),
        }
    }
}

/// Pieces being appended to, with adjacent owned bytes merged (so a file
/// gets few, large writes).
#[derive(Debug, Default)]
pub(crate) struct Pieces<'a> {
    pub list: Vec<Piece<'a>>,
}

impl<'a> Pieces<'a> {
    /// Appends a piece.
    pub fn push(&mut self, piece: Piece<'a>) {
        match (self.list.last_mut(), piece) {
            (Some(Piece::Owned(last)), Piece::Owned(new)) => last.extend_from_slice(&new),
            // Adjacent ranges of one package become one range.
            (Some(Piece::Shared(last, range)), Piece::Shared(new, next))
                if Arc::ptr_eq(last, &new) && range.end == next.start =>
            {
                range.end = next.end;
            }
            (_, piece) => self.list.push(piece),
        }
    }

    /// Appends all of `other`.
    pub fn append(&mut self, other: Pieces<'a>) {
        for piece in other.list {
            self.push(piece);
        }
    }

    /// Appends bytes made for the output.
    pub fn extend_owned(&mut self, bytes: &[u8]) {
        match self.list.last_mut() {
            Some(Piece::Owned(last)) => last.extend_from_slice(bytes),
            _ => self.list.push(Piece::Owned(bytes.to_vec())),
        }
    }

    /// Total length.
    pub fn len(&self) -> usize {
        self.list.iter().map(|p| p.bytes().len()).sum()
    }

    /// The pieces concatenated, in a buffer of exactly their size.
    pub fn concat(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        for piece in &self.list {
            out.extend_from_slice(piece.bytes());
        }
        out
    }
}

/// One top-level section of a binary held as pieces: its header (id and
/// size, exactly as read) and its contents.
#[derive(Clone, Debug)]
pub(crate) struct PieceSection<'a> {
    /// The section id.
    pub id: u8,
    /// Id and size.
    pub header: Piece<'a>,
    /// The contents.
    pub contents: Piece<'a>,
}

impl<'a> PieceSection<'a> {
    /// The whole section in one buffer (for small sections).
    pub fn whole(&self) -> Vec<u8> {
        [self.header.bytes(), self.contents.bytes()].concat()
    }

    /// A section made for the output.
    pub fn new(id: u8, contents: Piece<'a>) -> Self {
        let mut header = vec![id];
        crate::sections::write_leb(&mut header, contents.bytes().len() as u64);
        PieceSection {
            id,
            header: Piece::Owned(header),
            contents,
        }
    }
}

/// The top-level sections of a component binary, borrowed.
pub(crate) fn split_sections<'a>(
    bytes: &'a [u8],
    what: &str,
) -> Result<Vec<PieceSection<'a>>, ComposeError> {
    Ok(crate::sections::split(bytes, what)?
        .into_iter()
        .map(|s| PieceSection {
            id: s.id,
            header: Piece::Borrowed(&bytes[s.whole.start..s.contents.start]),
            contents: Piece::Borrowed(&bytes[s.contents]),
        })
        .collect())
}

/// A bundle held as the pieces it is made of: the input bytes it nests
/// (borrowed from the root or shared with the package buffers, not copied)
/// and the few bytes made for it (section headers, rewritten sections, the
/// record). Every package in it has been checked against its digest and
/// the bundle has been validated, exactly as for [`bundle_with`]; its bytes
/// in order ([`pieces`](Self::pieces)) are the bytes [`bundle_with`]
/// returns.
///
/// What it is for: writing a large bundle to a file without first copying
/// it into one buffer ([`write_to`](Self::write_to)).
///
/// [`bundle_with`]: crate::bundle_with
#[derive(Debug)]
pub struct BundleParts<'a> {
    pub(crate) pieces: Vec<Piece<'a>>,
    pub(crate) len: usize,
}

impl<'a> BundleParts<'a> {
    pub(crate) fn new(pieces: Pieces<'a>) -> Self {
        let len = pieces.len();
        BundleParts {
            pieces: pieces.list,
            len,
        }
    }

    /// Length of the bundle in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the bundle is empty (never, for a valid bundle).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bundle's bytes, piece by piece, in order.
    pub fn pieces(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.pieces.iter().map(Piece::bytes)
    }

    /// The bundle in one buffer of exactly its size (one copy of each
    /// byte).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len);
        for piece in self.pieces() {
            out.extend_from_slice(piece);
        }
        out
    }

    /// The bundle's record (its last section), without gathering the
    /// bundle into one buffer as [`read_record`](crate::read_record) needs.
    ///
    /// # Errors
    ///
    /// [`ComposeError::Record`] when the last piece is not a readable
    /// record section (never for parts this crate built).
    pub fn record(&self) -> Result<crate::BundleRecord, ComposeError> {
        let not_a_record =
            || ComposeError::Record("the bundle does not end with its record section".into());
        // The bytes at `range` of the whole, gathered across pieces (only
        // section headers and the small record are ever asked for).
        let gather = |range: std::ops::Range<usize>| {
            let mut out = Vec::with_capacity(range.len());
            let mut start = 0;
            for piece in self.pieces() {
                let end = start + piece.len();
                if end > range.start && start < range.end {
                    let from = range.start.max(start) - start;
                    let to = range.end.min(end) - start;
                    out.extend_from_slice(&piece[from..to]);
                }
                start = end;
            }
            out
        };
        // Walk the top-level sections to the last one.
        let mut at = 8;
        let mut last = None;
        while at < self.len {
            let header = gather(at..(at + 6).min(self.len));
            let (size, used) = header
                .get(1..)
                .and_then(crate::sections::read_leb_u32)
                .ok_or_else(not_a_record)?;
            let contents = at + 1 + used..at + 1 + used + size as usize;
            if contents.end > self.len {
                return Err(not_a_record());
            }
            last = Some((header[0], contents.clone()));
            at = contents.end;
        }
        let (id, contents) = last.ok_or_else(not_a_record)?;
        let contents = gather(contents);
        match crate::sections::read_custom(&contents) {
            Some((name, payload))
                if id == crate::sections::CUSTOM && name == crate::BUNDLE_SECTION =>
            {
                crate::bundle::parse_record(payload)
            }
            _ => Err(not_a_record()),
        }
    }

    /// Writes the bundle to `out`, one `write_all` per piece.
    ///
    /// # Errors
    ///
    /// The first error of `out`.
    pub fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        for piece in self.pieces() {
            out.write_all(piece)?;
        }
        Ok(())
    }
}

/// Validates an output, given as pieces, section by section at every level,
/// without reading function bodies: a code section is skipped whole once
/// its start (the function count, checked against the function section)
/// is validated. The bodies are the registries' bytes verbatim, each
/// checked against its digest, and a runtime validates them again when it
/// compiles them; walking them one by one cost as much as a copy of the
/// bundle (BENCHMARKS.md).
///
/// The pieces are parsed where they lie; a payload that straddles two
/// pieces (never for the pieces this crate builds, which split at section
/// or component boundaries) is gathered into a small buffer first.
pub(crate) fn validate_pieces(
    pieces: &[Piece<'_>],
    features: WasmFeatures,
    form: &'static str,
    features_label: &'static str,
) -> Result<(), ComposeError> {
    let fail = |e: wasmparser::BinaryReaderError| ComposeError::InvalidOutput {
        form,
        features: features_label,
        message: e.to_string(),
    };
    let mut validator = Validator::new_with_features(features);
    let mut parsers: Vec<Parser> = Vec::new();
    let mut parser = Parser::new(0);
    let mut rest = pieces.iter().map(Piece::bytes).filter(|p| !p.is_empty());
    let mut cur: &[u8] = rest.next().unwrap_or_default();
    let mut next = rest.next();
    // Bytes of a payload that straddles pieces.
    let mut carry: Vec<u8> = Vec::new();
    // Bytes still to skip (the rest of a code section).
    let mut skip: usize = 0;
    loop {
        if skip > 0 {
            let from_carry = skip.min(carry.len());
            carry.drain(..from_carry);
            skip -= from_carry;
            let from_cur = skip.min(cur.len());
            cur = &cur[from_cur..];
            skip -= from_cur;
            if skip > 0 {
                match next.take() {
                    Some(piece) => {
                        cur = piece;
                        next = rest.next();
                        continue;
                    }
                    None => {
                        return Err(ComposeError::InvalidOutput {
                            form,
                            features: features_label,
                            message: "code section runs past the end".to_string(),
                        })
                    }
                }
            }
        }
        let use_carry = !carry.is_empty();
        let eof = next.is_none() && (!use_carry || cur.is_empty());
        let data: &[u8] = if use_carry { &carry } else { cur };
        let (consumed, done) = match parser.parse(data, eof).map_err(fail)? {
            Chunk::NeedMoreData(hint) => {
                if use_carry && !cur.is_empty() {
                    let take = hint.clamp(1, cur.len());
                    carry.extend_from_slice(&cur[..take]);
                    cur = &cur[take..];
                } else {
                    if !use_carry {
                        carry.extend_from_slice(cur);
                    }
                    match next.take() {
                        Some(piece) => {
                            cur = piece;
                            next = rest.next();
                        }
                        None => unreachable!("the parser asks for more only before the end"),
                    }
                }
                continue;
            }
            Chunk::Parsed { consumed, payload } => {
                let mut done = false;
                match validator.payload(&payload).map_err(fail)? {
                    wasmparser::ValidPayload::Parser(nested) => {
                        parsers.push(std::mem::replace(&mut parser, nested));
                    }
                    wasmparser::ValidPayload::End(_) => match parsers.pop() {
                        Some(parent) => parser = parent,
                        None => done = true,
                    },
                    _ => {}
                }
                if let Payload::CodeSectionStart { size, .. } = payload {
                    parser.skip_section();
                    skip = size as usize;
                }
                (consumed, done)
            }
        };
        if use_carry {
            carry.drain(..consumed);
        } else {
            cur = &cur[consumed..];
        }
        if done {
            return Ok(());
        }
    }
}
