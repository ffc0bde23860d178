//! Text rendering shared by subcommands: aligned tables with notes.

use std::io::{self, Write};

/// A table whose columns are padded to their widest cell, each row
/// optionally followed by indented note lines (`key: value`).
#[derive(Debug, Clone, Default)]
pub struct Table {
    indent: String,
    rows: Vec<Row>,
}

/// One row: its cells, then its notes.
#[derive(Debug, Clone, Default)]
struct Row {
    cells: Vec<String>,
    notes: Vec<(String, String)>,
}

impl Table {
    /// An empty table whose lines start with `indent`.
    pub fn new(indent: &str) -> Self {
        Table {
            indent: indent.to_string(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows.push(Row {
            cells: cells.into_iter().map(Into::into).collect(),
            notes: Vec::new(),
        });
    }

    /// Adds a note under the last row, aligned with its second column.
    ///
    /// # Panics
    ///
    /// If no row has been added.
    pub fn note(&mut self, key: &str, value: impl Into<String>) {
        let row = self.rows.last_mut().expect("a note needs a row");
        row.notes.push((key.to_string(), value.into()));
    }

    /// Whether no row has been added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Writes the table; trailing spaces are trimmed from every line.
    ///
    /// # Errors
    ///
    /// Writing failed.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let columns = self
            .rows
            .iter()
            .map(|row| row.cells.len())
            .max()
            .unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|i| {
                self.rows
                    .iter()
                    .filter_map(|row| row.cells.get(i))
                    .map(|cell| cell.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let note_indent = widths.first().map_or(0, |w| w + 2);
        for Row { cells, notes } in &self.rows {
            let mut line = self.indent.clone();
            for (cell, width) in cells.iter().zip(&widths) {
                line.push_str(cell);
                let pad = width - cell.chars().count() + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
            writeln!(out, "{}", line.trim_end())?;
            for (key, value) in notes {
                writeln!(out, "{}{:note_indent$}{key}: {value}", self.indent, "")?;
            }
        }
        Ok(())
    }
}

/// `s` with every control character except newline and tab written as a
/// Rust-style escape (`\u{1b}`), so text that comes from a component (an
/// import name, an external-id) cannot drive the user's terminal.
pub fn escape_controls(s: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A writer that passes text through [`escape_controls`]: every report a
/// command prints goes through one, so no code path can forget to escape.
/// JSON needs nothing (its strings escape control characters already) and
/// passes unchanged. Bytes that are not UTF-8 are written as `\x..`.
#[derive(Debug)]
pub struct EscapingWriter<W> {
    inner: W,
}

impl<W: Write> EscapingWriter<W> {
    /// Escapes what is written to `inner`.
    pub fn new(inner: W) -> Self {
        EscapingWriter { inner }
    }
}

impl<W: Write> Write for EscapingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while !rest.is_empty() {
            match std::str::from_utf8(rest) {
                Ok(text) => {
                    self.inner.write_all(escape_controls(text).as_bytes())?;
                    break;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    let text = std::str::from_utf8(valid).expect("checked up to here");
                    self.inner.write_all(escape_controls(text).as_bytes())?;
                    let bad = e.error_len().unwrap_or(after.len());
                    for byte in &after[..bad] {
                        write!(self.inner, "\\x{byte:02x}")?;
                    }
                    rest = &after[bad..];
                }
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_aligns_its_columns_and_notes() {
        let mut t = Table::new("  ");
        t.row(["inc", "instance", "declared"]);
        t.note("external-id", "unlocked-dep=<test:inc@{>=1.0.0}>");
        t.row(["log", "func", "host"]);
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            [
                "  inc  instance  declared\n",
                "       external-id: unlocked-dep=<test:inc@{>=1.0.0}>\n",
                "  log  func      host\n",
            ]
            .concat()
        );
    }

    #[test]
    fn controls_are_escaped_but_newlines_and_tabs() {
        assert_eq!(escape_controls("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(escape_controls("line\n\tnext"), "line\n\tnext");
        assert_eq!(escape_controls("c1\u{9b}31m"), "c1\\u{9b}31m");
    }
}
