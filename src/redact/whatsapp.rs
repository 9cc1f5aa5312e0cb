//! A chat as WhatsApp exports it ("Chat exporteren", without media): one line per message that
//! starts with its timestamp, lines of the same message after it.
//!
//! Android: `12-03-2026 14:05 - Jan: tekst`; iOS: `[12-03-2026, 14:05:11] Jan: tekst`; with `/`
//! or `.` in the date, two- or four-digit years, seconds or not, `AM`/`PM`, and the invisible
//! left-to-right mark iOS puts before some lines. A line without `Sender: ` after the timestamp
//! is a system line ("Jan heeft de groep verlaten"): all of it after the timestamp is masked.
//!
//! The timestamp is copied and never scanned (it must not become a date of birth); the sender
//! is masked on its own; the message is masked whole, across its lines, so that `geboren op`
//! at the end of one line confirms the date at the start of the next.

use std::io::{BufRead, Write};

use super::{
    not_utf8, split_terminator, Error, LineReader, Out, Read, MAX_LINE_BYTES, MAX_RECORD_BYTES,
};

const LRM: &str = "\u{200E}";

/// Whether `line` starts like a message of a WhatsApp export.
pub(crate) fn is_header(line: &str) -> bool {
    header_len(line).is_some()
}

pub(super) fn run<R: BufRead, W: Write>(
    reader: &mut LineReader<R>,
    out: &mut Out<'_, W>,
) -> Result<(), Error> {
    let mut buf = Vec::new();
    // The text of the message being read, line endings included.
    let mut message = String::new();
    loop {
        buf.clear();
        match reader.read_line(&mut buf, MAX_LINE_BYTES)? {
            Read::End => return flush(out, &mut message),
            Read::Long => {
                flush(out, &mut message)?;
                out.long_line(reader, &mut buf)?;
            }
            Read::Line => {
                let line = match std::str::from_utf8(&buf) {
                    Ok(l) => l,
                    Err(e) => {
                        flush(out, &mut message)?;
                        out.bad(reader.line, not_utf8(&e))?;
                        let (body, end) = split_terminator(&buf);
                        out.pass_through(body)?;
                        out.write(end)?;
                        continue;
                    }
                };
                match header_len(line) {
                    Some(h) => {
                        flush(out, &mut message)?;
                        out.summary.records += 1;
                        out.write(&line.as_bytes()[..h])?;
                        let mut rest = &line[h..];
                        if let Some(r) = rest.strip_prefix(LRM) {
                            out.write(LRM.as_bytes())?;
                            rest = r;
                        }
                        if let Some(colon) = rest.find(": ") {
                            out.mask(None, &rest[..colon])?;
                            out.write(b": ")?;
                            rest = &rest[colon + 2..];
                        }
                        message.push_str(rest);
                    }
                    None => {
                        if message.len() + line.len() > MAX_RECORD_BYTES {
                            flush(out, &mut message)?;
                        }
                        message.push_str(line);
                    }
                }
            }
        }
    }
}

fn flush<W: Write>(out: &mut Out<'_, W>, message: &mut String) -> Result<(), Error> {
    if !message.is_empty() {
        out.mask(None, message)?;
        message.clear();
    }
    Ok(())
}

/// The length of the timestamp and separator a message line starts with.
fn header_len(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let mut i = if line.starts_with(LRM) { LRM.len() } else { 0 };
    let bracket = b.get(i) == Some(&b'[');
    if bracket {
        i += 1;
    }
    // The date.
    i = digits(b, i, 1, 4)?;
    let sep = *b.get(i).filter(|c| matches!(c, b'-' | b'/' | b'.'))?;
    i = digits(b, i + 1, 1, 2)?;
    if b.get(i) != Some(&sep) {
        return None;
    }
    i = digits(b, i + 1, 1, 4)?;
    if b.get(i) == Some(&b',') {
        i += 1;
    }
    if b.get(i) != Some(&b' ') {
        return None;
    }
    // The time.
    i = digits(b, i + 1, 1, 2)?;
    if !matches!(b.get(i), Some(b':' | b'.')) {
        return None;
    }
    i = digits(b, i + 1, 2, 2)?;
    if matches!(b.get(i), Some(b':' | b'.')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i = digits(b, i + 1, 2, 2)?;
    }
    i = am_pm(line, i);
    let tail: &[u8] = if bracket { b"] " } else { b" - " };
    b[i..].starts_with(tail).then_some(i + tail.len())
}

/// The end of 1 to `max` digits at `i` (at least `min`).
fn digits(b: &[u8], i: usize, min: usize, max: usize) -> Option<usize> {
    let n = b
        .get(i..)?
        .iter()
        .take(max + 1)
        .take_while(|c| c.is_ascii_digit())
        .count();
    (min..=max).contains(&n).then_some(i + n)
}

/// Past an optional ` AM`, ` p.m.`, `\u{202F}PM` after a time.
fn am_pm(line: &str, i: usize) -> usize {
    let rest = &line[i..];
    let after_space = [" ", "\u{202F}", "\u{A0}"]
        .iter()
        .find_map(|s| rest.strip_prefix(s))
        .unwrap_or(rest);
    let b = after_space.as_bytes();
    if !matches!(b.first(), Some(b'a' | b'A' | b'p' | b'P')) {
        return i;
    }
    let mut j = 1;
    if b.get(j) == Some(&b'.') {
        j += 1;
    }
    if b.get(j) == Some(&b' ') {
        j += 1;
    }
    if !matches!(b.get(j), Some(b'm' | b'M')) {
        return i;
    }
    j += 1;
    if b.get(j) == Some(&b'.') {
        j += 1;
    }
    i + (rest.len() - after_space.len()) + j
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_of_android_and_ios_exports() {
        fn h(s: &str) -> Option<&str> {
            header_len(s).map(|n| &s[..n])
        }
        assert_eq!(
            h("12-03-2026 14:05 - Jan: hoi"),
            Some("12-03-2026 14:05 - ")
        );
        assert_eq!(
            h("[12-03-2026, 14:05:11] Jan: hoi"),
            Some("[12-03-2026, 14:05:11] ")
        );
        assert_eq!(
            h("3/12/26, 2:05 PM - Jan: hoi"),
            Some("3/12/26, 2:05 PM - ")
        );
        assert_eq!(
            h("\u{200E}[3/12/26, 2:05:11\u{202F}PM] Jan: hoi"),
            Some("\u{200E}[3/12/26, 2:05:11\u{202F}PM] ")
        );
        assert_eq!(h("12.03.26 14.05 - Jan: hoi"), Some("12.03.26 14.05 - "));
        assert_eq!(
            h("2026-03-12 14:05 - Jan: hoi"),
            Some("2026-03-12 14:05 - ")
        );
        assert_eq!(h("12-03-1985 is mijn geboortedatum"), None);
        assert_eq!(h("12-03/2026 14:05 - Jan: hoi"), None);
        assert_eq!(h("[12-03-2026, 14:05:11 Jan: hoi"), None);
        assert_eq!(h("geboren 12-03-1985 14:05 - x"), None);
    }
}
