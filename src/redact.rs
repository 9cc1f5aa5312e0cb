//! `triage redact`: personal data masked in exported chats, with the same detectors the service
//! runs on every incoming message ([`crate::privacy::Detector`]).
//!
//! Four formats, each in its own module: [`Format::Csv`] (every cell, the column's header read
//! as context), [`Format::Jsonl`] (every string value, the key read as context), [`Format::Text`]
//! (line by line) and [`Format::WhatsApp`] (a chat exported from the app: the sender and the
//! whole message, never the timestamp).
//!
//! Everything streams: input is read a line at a time into a buffer that never holds more than
//! [`MAX_LINE_BYTES`] of one line, or [`MAX_RECORD_BYTES`] of one CSV record or WhatsApp message;
//! output goes out as it is made. Bad input (not UTF-8, a broken CSV record, a line that is not
//! JSON, a line past the limit) stops the run with its line number, or with `keep_going` is
//! passed through masked as plain text and counted: nothing is ever left out silently. The
//! [`Summary`] counts lines and findings per detector and never holds a raw value.

pub mod command;
mod csv;
mod jsonl;
mod whatsapp;

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, BufRead, Write};
use std::path::Path;

use crate::privacy::{Detector, Finding};

/// The longest line read in one piece; a longer one is bad input.
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// The largest CSV record (a quoted cell may span lines) or WhatsApp message kept together; a
/// CSV record past it is bad input (an unclosed quote, most likely), a longer WhatsApp message
/// is masked in pieces of this size.
pub const MAX_RECORD_BYTES: usize = 4 << 20;
/// How many bad lines are listed one by one in the summary.
pub const MAX_PROBLEMS_LISTED: usize = 10;

/// The format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
    Text,
    WhatsApp,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Text => "text",
            Format::WhatsApp => "whatsapp",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "csv" => Some(Format::Csv),
            "jsonl" => Some(Format::Jsonl),
            "text" => Some(Format::Text),
            "whatsapp" => Some(Format::WhatsApp),
            _ => None,
        }
    }

    /// The format of a file, from its extension and its first bytes, and why.
    pub fn guess(path: Option<&Path>, head: &[u8]) -> (Format, String) {
        let head = head.strip_prefix(BOM).unwrap_or(head);
        let ext = path
            .and_then(|p| p.extension())
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("csv") => return (Format::Csv, "from the extension `.csv`".into()),
            Some(e @ ("jsonl" | "ndjson" | "json")) => {
                return (Format::Jsonl, format!("from the extension `.{e}`"))
            }
            _ => {}
        }
        let first_line = head
            .split(|&b| b == b'\n')
            .find(|l| !l.iter().all(u8::is_ascii_whitespace))
            .unwrap_or_default();
        if first_line.trim_ascii_start().starts_with(b"{") {
            (
                Format::Jsonl,
                "from the content: a line holds a JSON object".into(),
            )
        } else if whatsapp::is_header(&String::from_utf8_lossy(first_line)) {
            (
                Format::WhatsApp,
                "from the content: lines start like a WhatsApp chat export".into(),
            )
        } else {
            (
                Format::Text,
                "from the content: neither JSON lines nor a WhatsApp chat; for CSV say `--format csv`"
                    .into(),
            )
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to redact.
#[derive(Debug, Clone)]
pub struct Options {
    pub format: Format,
    /// Pass bad input through masked as plain text, and count it, instead of stopping.
    pub keep_going: bool,
    /// The CSV delimiter; default: whichever of `,`, `;` and tab the first line has most of.
    pub delimiter: Option<u8>,
    /// Whether the first CSV record is a header (its names are read as context of each column).
    pub csv_header: bool,
}

impl Options {
    pub fn new(format: Format) -> Options {
        Options {
            format,
            keep_going: false,
            delimiter: None,
            csv_header: true,
        }
    }
}

/// One piece of bad input: where, and what is wrong (never the input itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: u64,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Findings of one detector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindCount {
    pub label: String,
    pub count: u64,
}

/// What a run did. Holds no raw value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Lines read.
    pub lines: u64,
    /// CSV records, JSON lines, text lines, or WhatsApp messages written.
    pub records: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Findings per detector id (`bsn`, `iban`, …).
    pub findings: BTreeMap<String, KindCount>,
    /// Bad pieces passed through masked as plain text (`keep_going`).
    pub passed_through: u64,
    /// The first [`MAX_PROBLEMS_LISTED`] of them.
    pub problems: Vec<Problem>,
    /// The CSV delimiter used.
    pub delimiter: Option<u8>,
}

impl Summary {
    pub fn total_findings(&self) -> u64 {
        self.findings.values().map(|k| k.count).sum()
    }
}

/// Why a run stopped.
#[derive(Debug)]
pub enum Error {
    Read(io::Error),
    Write(io::Error),
    /// Bad input, without `keep_going`.
    Input(Problem),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Read(e) => write!(f, "cannot read the input: {e}"),
            Error::Write(e) => write!(f, "cannot write the output: {e}"),
            Error::Input(p) => write!(
                f,
                "{p} (with --keep-going it is passed through masked as plain text)"
            ),
        }
    }
}

impl std::error::Error for Error {}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Masks everything in `input` as `options` says and writes it to `output`.
pub fn run<R: BufRead, W: Write>(
    detector: &Detector,
    options: &Options,
    mut input: R,
    output: W,
) -> Result<Summary, Error> {
    let mut out = Out {
        detector,
        keep_going: options.keep_going,
        summary: Summary::default(),
        w: output,
        scratch: String::new(),
    };
    // A byte-order mark (spreadsheet exports have one) stays, and is no part of the first line.
    let has_bom = loop {
        match input.fill_buf() {
            Ok(head) => break head.starts_with(BOM),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::Read(e)),
        }
    };
    if has_bom {
        out.write(BOM)?;
        input.consume(BOM.len());
        out.summary.bytes += BOM.len() as u64;
    }
    let mut reader = LineReader::new(input);
    match options.format {
        Format::Text => text(&mut reader, &mut out)?,
        Format::Csv => csv::run(&mut reader, &mut out, options)?,
        Format::Jsonl => jsonl::run(&mut reader, &mut out)?,
        Format::WhatsApp => whatsapp::run(&mut reader, &mut out)?,
    }
    out.w.flush().map_err(Error::Write)?;
    out.summary.lines = reader.line;
    out.summary.bytes += reader.bytes;
    Ok(out.summary)
}

/// Plain text: each line masked on its own.
fn text<R: BufRead, W: Write>(
    reader: &mut LineReader<R>,
    out: &mut Out<'_, W>,
) -> Result<(), Error> {
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_line(&mut buf, MAX_LINE_BYTES)? {
            Read::End => return Ok(()),
            Read::Long => out.long_line(reader, &mut buf)?,
            Read::Line => {
                let (body, end) = split_terminator(&buf);
                match std::str::from_utf8(body) {
                    Ok(s) => out.mask(None, s)?,
                    Err(e) => {
                        out.bad(reader.line, not_utf8(&e))?;
                        out.pass_through(body)?;
                    }
                }
                out.write(end)?;
            }
        }
        out.summary.records += 1;
    }
}

pub(crate) fn not_utf8(e: &std::str::Utf8Error) -> String {
    format!("not UTF-8 (byte {} of the line)", e.valid_up_to() + 1)
}

/// `line` without its `\n` or `\r\n`, and that ending.
pub(crate) fn split_terminator(line: &[u8]) -> (&[u8], &[u8]) {
    let n = if line.ends_with(b"\r\n") {
        2
    } else if line.ends_with(b"\n") {
        1
    } else {
        0
    };
    line.split_at(line.len() - n)
}

/// The output side of a run: the detector, the writer and the counts.
pub(crate) struct Out<'a, W> {
    detector: &'a Detector,
    keep_going: bool,
    pub(crate) summary: Summary,
    w: W,
    scratch: String,
}

impl<W: Write> Out<'_, W> {
    pub(crate) fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.w.write_all(bytes).map_err(Error::Write)
    }

    /// `text` with its findings masked, when it has any; `context` (a column header, a JSON
    /// key) is read as if it were written just before the text.
    pub(crate) fn masked(&mut self, context: Option<&str>, text: &str) -> Option<String> {
        let (findings, offset) = match context.filter(|c| !c.is_empty()) {
            None => (self.detector.scan(text), 0),
            Some(c) => {
                self.scratch.clear();
                self.scratch.push_str(c);
                self.scratch.push_str(": ");
                let offset = self.scratch.len();
                self.scratch.push_str(text);
                let mut f = self.detector.scan(&self.scratch);
                f.retain(|f| f.range.start >= offset);
                (f, offset)
            }
        };
        if findings.is_empty() {
            return None;
        }
        let mut masked = String::with_capacity(text.len());
        let mut at = 0;
        for Finding {
            detector,
            label,
            range,
            masked: m,
        } in findings
        {
            let (start, end) = (range.start - offset, range.end - offset);
            masked.push_str(&text[at..start]);
            masked.push_str(&m);
            at = end;
            self.count(detector, label);
        }
        masked.push_str(&text[at..]);
        Some(masked)
    }

    fn count(&mut self, detector: String, label: String) {
        self.summary
            .findings
            .entry(detector)
            .or_insert(KindCount { label, count: 0 })
            .count += 1;
    }

    /// Writes `text` masked.
    pub(crate) fn mask(&mut self, context: Option<&str>, text: &str) -> Result<(), Error> {
        match self.masked(context, text) {
            Some(m) => self.write(m.as_bytes()),
            None => self.write(text.as_bytes()),
        }
    }

    /// Bad input at `line`: an error, or with `keep_going` a count (the caller then passes the
    /// input through).
    pub(crate) fn bad(&mut self, line: u64, message: impl Into<String>) -> Result<(), Error> {
        let problem = Problem {
            line,
            message: message.into(),
        };
        if !self.keep_going {
            return Err(Error::Input(problem));
        }
        self.summary.passed_through += 1;
        if self.summary.problems.len() < MAX_PROBLEMS_LISTED {
            self.summary.problems.push(problem);
        }
        Ok(())
    }

    /// Raw bytes masked as plain text (invalid UTF-8 shown as `�`).
    pub(crate) fn pass_through(&mut self, raw: &[u8]) -> Result<(), Error> {
        let text = String::from_utf8_lossy(raw);
        self.mask(None, &text)
    }

    /// A line past [`MAX_LINE_BYTES`] of which `buf` holds the first part: reported, then (with
    /// `keep_going`) passed through in pieces up to its end.
    pub(crate) fn long_line<R: BufRead>(
        &mut self,
        reader: &mut LineReader<R>,
        buf: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let line = reader.line;
        self.bad(line, format!("longer than {} MiB", MAX_LINE_BYTES >> 20))?;
        self.rest_of_line(reader, buf)
    }

    /// Passes `buf` through masked as plain text, then the rest of the line it ends inside of.
    pub(crate) fn rest_of_line<R: BufRead>(
        &mut self,
        reader: &mut LineReader<R>,
        buf: &mut Vec<u8>,
    ) -> Result<(), Error> {
        loop {
            self.pass_through(buf)?;
            buf.clear();
            match reader.read_line(buf, MAX_LINE_BYTES)? {
                Read::Long => continue,
                Read::Line => {
                    let (body, end) = split_terminator(buf);
                    let end = end.to_vec();
                    self.pass_through(body)?;
                    return self.write(&end);
                }
                Read::End => return Ok(()),
            }
        }
    }
}

/// What [`LineReader::read_line`] read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// A whole line, with its ending (the last line may have none).
    Line,
    /// `limit` bytes of a line that goes on; the next call reads on in the same line.
    Long,
    /// Nothing: the input has ended.
    End,
}

/// Lines out of a [`BufRead`], each bounded, with their numbers.
pub(crate) struct LineReader<R> {
    inner: R,
    /// The number of the line read last (1-based).
    pub(crate) line: u64,
    bytes: u64,
    mid_line: bool,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        LineReader {
            inner,
            line: 0,
            bytes: 0,
            mid_line: false,
        }
    }

    /// Appends the next line, or its next `limit` bytes, to `buf`.
    pub(crate) fn read_line(&mut self, buf: &mut Vec<u8>, limit: usize) -> Result<Read, Error> {
        let start = buf.len();
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::Read(e)),
            };
            if avail.is_empty() {
                let got = buf.len() > start;
                if got {
                    self.start_line();
                }
                self.mid_line = false;
                return Ok(if got { Read::Line } else { Read::End });
            }
            let room = limit - (buf.len() - start);
            let (take, complete) = match memchr::memchr(b'\n', avail) {
                Some(i) if i < room => (i + 1, true),
                _ => (avail.len().min(room), false),
            };
            buf.extend_from_slice(&avail[..take]);
            self.inner.consume(take);
            self.bytes += take as u64;
            if complete {
                self.start_line();
                self.mid_line = false;
                return Ok(Read::Line);
            }
            if buf.len() - start >= limit {
                self.start_line();
                self.mid_line = true;
                return Ok(Read::Long);
            }
        }
    }

    fn start_line(&mut self) {
        if !self.mid_line {
            self.line += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], limit: usize) -> Vec<(Read, u64, Vec<u8>)> {
        let mut r = LineReader::new(io::BufReader::with_capacity(4, input));
        let mut out = Vec::new();
        loop {
            let mut buf = Vec::new();
            let read = r.read_line(&mut buf, limit).unwrap();
            if read == Read::End {
                return out;
            }
            out.push((read, r.line, buf));
        }
    }

    #[test]
    fn lines_are_bounded_and_numbered() {
        let got = lines(b"ab\nabcdefgh\r\n\nxyz", 5);
        assert_eq!(
            got,
            vec![
                (Read::Line, 1, b"ab\n".to_vec()),
                (Read::Long, 2, b"abcde".to_vec()),
                (Read::Line, 2, b"fgh\r\n".to_vec()),
                (Read::Line, 3, b"\n".to_vec()),
                (Read::Line, 4, b"xyz".to_vec()),
            ]
        );
    }

    #[test]
    fn the_format_is_guessed_from_the_extension_then_the_content() {
        let g = |p: Option<&str>, head: &str| Format::guess(p.map(Path::new), head.as_bytes()).0;
        assert_eq!(g(Some("x.CSV"), "a"), Format::Csv);
        assert_eq!(g(Some("x.ndjson"), "a"), Format::Jsonl);
        assert_eq!(g(None, "\n {\"a\": 1}\n"), Format::Jsonl);
        assert_eq!(
            g(Some("chat.txt"), "12-03-2026 14:05 - Jan: hoi\n"),
            Format::WhatsApp
        );
        assert_eq!(
            g(None, "\u{feff}[12-03-2026, 14:05:11] Jan: hoi\n"),
            Format::WhatsApp
        );
        assert_eq!(
            g(Some("notes.txt"), "mijn bsn is 123456782\n"),
            Format::Text
        );
    }
}
