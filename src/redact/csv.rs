//! CSV: every cell masked, and the header of its column read as context, so that a column
//! `geboortedatum` has its dates masked and a column `zaaknummer` keeps its numbers, as the
//! same words would do in a message.
//!
//! The structure stays byte for byte: delimiters, quoting, line endings (a quoted cell may span
//! lines) and every cell without a finding are copied as they are; a masked cell is written
//! back quoted as it was (a mask is letters, digits and `*`, so it never needs quoting of its
//! own). Strict RFC 4180: a quote inside an unquoted cell, text after a closing quote, a quote
//! that never closes, or a record with another number of cells than the first is bad input.

use std::io::{BufRead, Write};

use super::{
    not_utf8, split_terminator, Error, LineReader, Options, Out, Read, MAX_LINE_BYTES,
    MAX_RECORD_BYTES,
};

/// One cell's span in a record, quotes included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cell {
    start: usize,
    end: usize,
    quoted: bool,
}

pub(super) fn run<R: BufRead, W: Write>(
    reader: &mut LineReader<R>,
    out: &mut Out<'_, W>,
    options: &Options,
) -> Result<(), Error> {
    let mut rec: Vec<u8> = Vec::new();
    let mut cells: Vec<Cell> = Vec::new();
    let mut delimiter = options.delimiter;
    let mut header: Option<Vec<String>> = None;
    let mut width: Option<usize> = None;
    loop {
        rec.clear();
        // One record: lines until the quotes balance.
        let first_line = reader.line + 1;
        let mut quotes = 0;
        let complete = loop {
            let from = rec.len();
            let limit = MAX_LINE_BYTES.min(MAX_RECORD_BYTES - rec.len());
            match reader.read_line(&mut rec, limit)? {
                Read::End if rec.is_empty() => return Ok(()),
                Read::End => break false,
                Read::Long => {
                    let message = if rec.len() >= MAX_RECORD_BYTES {
                        format!(
                            "a record longer than {} MiB (a quote that is never closed?)",
                            MAX_RECORD_BYTES >> 20
                        )
                    } else {
                        format!("a line longer than {} MiB", MAX_LINE_BYTES >> 20)
                    };
                    out.bad(first_line, message)?;
                    out.rest_of_line(reader, &mut rec)?;
                    out.summary.records += 1;
                    rec.clear();
                    break true;
                }
                Read::Line => {
                    quotes += memchr::memchr_iter(b'"', &rec[from..]).count();
                    if quotes % 2 == 0 {
                        break true;
                    }
                }
            }
        };
        if rec.is_empty() {
            // Passed through above.
            continue;
        }
        out.summary.records += 1;
        let (body, end) = split_terminator(&rec);
        if !complete {
            out.bad(first_line, "a quoted cell that is never closed")?;
            out.pass_through(&rec)?;
            return Ok(());
        }
        let text = match std::str::from_utf8(body) {
            Ok(t) => t,
            Err(e) => {
                out.bad(first_line, not_utf8(&e))?;
                out.pass_through(body)?;
                out.write(end)?;
                continue;
            }
        };
        if text.is_empty() {
            out.write(end)?;
            continue;
        }
        let delim = *delimiter.get_or_insert_with(|| sniff(body));
        out.summary.delimiter = Some(delim);
        if let Err(message) = split(body, delim, &mut cells) {
            out.bad(first_line, message)?;
            out.pass_through(body)?;
            out.write(end)?;
            continue;
        }
        match width {
            None => width = Some(cells.len()),
            Some(w) if w != cells.len() => {
                out.bad(
                    first_line,
                    format!("{} cells, where the first record has {w}", cells.len()),
                )?;
                out.pass_through(body)?;
                out.write(end)?;
                continue;
            }
            Some(_) => {}
        }
        let mut written = 0;
        let mut names = Vec::new();
        for (i, cell) in cells.iter().enumerate() {
            let value = content(text, cell);
            if options.csv_header && header.is_none() {
                names.push(value.trim().to_string());
            }
            let context = header.as_ref().and_then(|h| h.get(i)).map(String::as_str);
            let Some(masked) = out.masked(context, &value) else {
                continue;
            };
            out.write(&body[written..cell.start])?;
            let needs_quotes = cell.quoted
                || masked
                    .bytes()
                    .any(|b| b == delim || b == b'"' || b == b'\n' || b == b'\r');
            if needs_quotes {
                out.write(b"\"")?;
                out.write(masked.replace('"', "\"\"").as_bytes())?;
                out.write(b"\"")?;
            } else {
                out.write(masked.as_bytes())?;
            }
            written = cell.end;
        }
        out.write(&body[written..])?;
        out.write(end)?;
        if options.csv_header && header.is_none() {
            header = Some(names);
        }
    }
}

/// A cell's text: without its quotes, `""` read as `"`.
fn content<'t>(text: &'t str, cell: &Cell) -> std::borrow::Cow<'t, str> {
    if cell.quoted {
        let inner = &text[cell.start + 1..cell.end - 1];
        if inner.contains('"') {
            inner.replace("\"\"", "\"").into()
        } else {
            inner.into()
        }
    } else {
        text[cell.start..cell.end].into()
    }
}

/// Whichever of `,`, `;` and tab occurs most outside quotes (`,` when none does).
fn sniff(record: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in record {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(0);
    [b',', b';', b'\t'][best]
}

/// The cells of one record (without its line ending), or what is wrong with it.
fn split(body: &[u8], delim: u8, cells: &mut Vec<Cell>) -> Result<(), String> {
    cells.clear();
    let n = body.len();
    let mut i = 0;
    loop {
        let number = cells.len() + 1;
        if i < n && body[i] == b'"' {
            let start = i;
            i += 1;
            loop {
                match memchr::memchr(b'"', &body[i..]) {
                    None => return Err(format!("cell {number}: a quote that is never closed")),
                    Some(k) => {
                        i += k + 1;
                        if i < n && body[i] == b'"' {
                            i += 1;
                            continue;
                        }
                        break;
                    }
                }
            }
            cells.push(Cell {
                start,
                end: i,
                quoted: true,
            });
            if i == n {
                return Ok(());
            }
            if body[i] != delim {
                return Err(format!("cell {number}: text after the closing quote"));
            }
            i += 1;
        } else {
            let start = i;
            let end = memchr::memchr(delim, &body[i..]).map_or(n, |k| i + k);
            if memchr::memchr(b'"', &body[start..end]).is_some() {
                return Err(format!(
                    "cell {number}: a quote inside a cell that does not start with one"
                ));
            }
            cells.push(Cell {
                start,
                end,
                quoted: false,
            });
            if end == n {
                return Ok(());
            }
            i = end + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(body: &str, delim: u8) -> Result<Vec<(String, bool)>, String> {
        let mut cells = Vec::new();
        split(body.as_bytes(), delim, &mut cells)?;
        Ok(cells
            .iter()
            .map(|c| (content(body, c).into_owned(), c.quoted))
            .collect())
    }

    #[test]
    fn cells_split_as_rfc_4180_says() {
        assert_eq!(
            spans(r#"a,"b,""c""",,"d"#, b',').unwrap_err(),
            "cell 4: a quote that is never closed"
        );
        assert_eq!(
            spans(r#"a,"b,""c""",,"#, b',').unwrap(),
            vec![
                ("a".into(), false),
                ("b,\"c\"".into(), true),
                (String::new(), false),
                (String::new(), false)
            ]
        );
        assert_eq!(
            spans(r#"a;"x"y;b"#, b';').unwrap_err(),
            "cell 2: text after the closing quote"
        );
        assert_eq!(
            spans(r#"a,b"c"#, b',').unwrap_err(),
            "cell 2: a quote inside a cell that does not start with one"
        );
    }

    #[test]
    fn the_delimiter_is_sniffed_outside_quotes() {
        assert_eq!(sniff(b"naam;bsn;\"a,b,c\""), b';');
        assert_eq!(sniff(b"a,b\tc,d"), b',');
        assert_eq!(sniff(b"a\tb\tc"), b'\t');
        assert_eq!(sniff(b"enkel"), b',');
    }
}
