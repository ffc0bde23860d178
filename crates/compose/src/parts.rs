//! A bundle held as its parts, for writing without a copy of the whole.

use std::io::{self, Write};
use std::ops::Range;

use crate::error::ComposeError;
use crate::pieces::{Piece, Pieces};
use crate::record::{record_in, BundleRecord};
use crate::sections;

/// A bundle held as the pieces it is made of: the input bytes it nests
/// (borrowed from the root or the locked form, or shared with the package
/// buffers, not copied) and the few bytes made for it (section headers,
/// rewritten sections, the record). Every package in it has been checked
/// against its digest and the bundle has been validated, exactly as for
/// [`Bundler::to_vec`]; its bytes in order ([`pieces`](Self::pieces)) are
/// the bytes [`Bundler::to_vec`] returns.
///
/// What it is for: writing a large bundle to a file without first copying
/// it into one buffer ([`write_to`](Self::write_to)).
///
/// [`Bundler::to_vec`]: crate::Bundler::to_vec
#[derive(Debug)]
pub struct BundleParts<'a> {
    pieces: Vec<Piece<'a>>,
    len: usize,
}

impl<'a> BundleParts<'a> {
    pub(crate) fn new(pieces: Pieces<'a>) -> Self {
        let len = pieces.len();
        BundleParts {
            pieces: pieces.list,
            len,
        }
    }

    /// The pieces, for the crate's own validation.
    pub(crate) fn list(&self) -> &[Piece<'a>] {
        &self.pieces
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
    pub fn record(&self) -> Result<BundleRecord, ComposeError> {
        let not_a_record =
            || ComposeError::Record("the bundle does not end with its record section".into());
        // Walk the top-level sections to the last one.
        let mut at = 8;
        let mut last = None;
        while at < self.len {
            let header = self.gather(at..(at + 6).min(self.len));
            let (size, used) = header
                .get(1..)
                .and_then(sections::read_leb_u32)
                .ok_or_else(not_a_record)?;
            let contents = at + 1 + used..at + 1 + used + size as usize;
            if contents.end > self.len {
                return Err(not_a_record());
            }
            last = Some((header[0], contents.clone()));
            at = contents.end;
        }
        let (id, contents) = last.ok_or_else(not_a_record)?;
        record_in(id, &self.gather(contents)).unwrap_or_else(|| Err(not_a_record()))
    }

    /// The bytes at `range` of the whole, gathered across pieces (only
    /// section headers and the small record are ever asked for).
    fn gather(&self, range: Range<usize>) -> Vec<u8> {
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
