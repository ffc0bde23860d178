//! Outputs held as the pieces they are made of, and their structural
//! validation.
//!
//! Most of a bundle's bytes are its inputs verbatim (the packages and the
//! root); the rest is small (section headers, rewritten import and export
//! sections, the record). Building a bundle as a list of [`Piece`]s, each
//! borrowing or sharing its input, costs no copy of those bytes; the pieces
//! are then copied once into a buffer of exactly the right size, or written
//! to a file one piece at a time ([`BundleParts::write_to`]).
//!
//! [`BundleParts::write_to`]: crate::BundleParts::write_to

use std::ops::Range;
use std::sync::Arc;

use wasmparser::{Chunk, Parser, Payload, Validator, WasmFeatures};

use crate::error::ComposeError;
use crate::sections;

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
        sections::write_leb(&mut header, contents.bytes().len() as u64);
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
    Ok(sections::split(bytes, what)?
        .into_iter()
        .map(|s| PieceSection {
            id: s.id,
            header: Piece::Borrowed(&bytes[s.whole.start..s.contents.start]),
            contents: Piece::Borrowed(&bytes[s.contents]),
        })
        .collect())
}

/// Validates one output binary's structure, or says which output failed
/// with which features: every section of every level, not function bodies
/// (see [`validate_pieces`]).
pub(crate) fn validate(
    bytes: &[u8],
    features: WasmFeatures,
    form: &'static str,
    features_label: &'static str,
) -> Result<(), ComposeError> {
    validate_pieces(&[Piece::Borrowed(bytes)], features, form, features_label)
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
        cause: e.into(),
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
                            cause: "code section runs past the end".into(),
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
