//! JSON lines: every string value masked, with its key read as context (`"geboortedatum":
//! "12-03-1985"` is masked, `"zaaknummer": "123456782"` is not, as in a message). Keys stay as
//! they are. A number that a detector recognises (a BSN written as a number) becomes its mask,
//! as a string. Everything else on the line is copied byte for byte; a string without a finding
//! keeps its escapes as written.

use std::borrow::Cow;
use std::io::{BufRead, Write};

use super::{not_utf8, split_terminator, Error, LineReader, Out, Read, MAX_LINE_BYTES};

pub(super) fn run<R: BufRead, W: Write>(
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
                match check(body) {
                    Ok(line) => rewrite(line, out)?,
                    Err(message) => {
                        out.bad(reader.line, message)?;
                        out.pass_through(body)?;
                    }
                }
                out.write(end)?;
            }
        }
        out.summary.records += 1;
    }
}

/// The line as text when it is one JSON value (or blank).
fn check(body: &[u8]) -> Result<&str, String> {
    let line = std::str::from_utf8(body).map_err(|e| not_utf8(&e))?;
    if line.trim().is_empty() {
        return Ok(line);
    }
    serde_json::from_str::<serde::de::IgnoredAny>(line)
        .map_err(|e| format!("not JSON: {} at column {}", category(&e), e.column()))?;
    Ok(line)
}

/// serde_json's message without its position (which is given apart) and without input.
fn category(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.find(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Writes a valid JSON line with its string values (and recognised numbers) masked.
fn rewrite<W: Write>(line: &str, out: &mut Out<'_, W>) -> Result<(), Error> {
    let b = line.as_bytes();
    let n = b.len();
    let mut written = 0;
    let mut i = 0;
    // The key of the value being read, and those of the enclosing objects and arrays.
    let mut key: Option<(usize, usize)> = None;
    let mut stack: Vec<Option<(usize, usize)>> = Vec::new();
    while i < n {
        match b[i] {
            b'"' => {
                let start = i;
                let mut escaped = false;
                i += 1;
                while let Some(k) = memchr::memchr2(b'"', b'\\', &b[i..]) {
                    if b[i + k] == b'\\' {
                        escaped = true;
                        i += k + 2;
                    } else {
                        i += k + 1;
                        break;
                    }
                }
                let end = i;
                let after = b[end..]
                    .iter()
                    .position(|c| !c.is_ascii_whitespace())
                    .map(|k| b[end + k]);
                if after == Some(b':') {
                    key = Some((start, end));
                    continue;
                }
                let value = decode(&line[start..end], escaped);
                let context = key.map(|(s, e)| decode(&line[s..e], line[s..e].contains('\\')));
                if let Some(masked) = out.masked(context.as_deref(), &value) {
                    out.write(&b[written..start])?;
                    let json = serde_json::to_string(&masked).map_err(|e| {
                        Error::Write(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
                    })?;
                    out.write(json.as_bytes())?;
                    written = end;
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < n && matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                    i += 1;
                }
                if i - start >= 8 {
                    let context = key.map(|(s, e)| decode(&line[s..e], line[s..e].contains('\\')));
                    if let Some(masked) = out.masked(context.as_deref(), &line[start..i]) {
                        out.write(&b[written..start])?;
                        out.write(b"\"")?;
                        out.write(masked.as_bytes())?;
                        out.write(b"\"")?;
                        written = i;
                    }
                }
            }
            b'{' => {
                stack.push(key.take());
                i += 1;
            }
            // The values in an array are read with the array's key.
            b'[' => {
                stack.push(key);
                i += 1;
            }
            b'}' | b']' => {
                key = stack.pop().flatten();
                i += 1;
            }
            _ => i += 1,
        }
    }
    out.write(&b[written..])
}

/// A JSON string token (quotes included) as text.
fn decode(token: &str, escaped: bool) -> Cow<'_, str> {
    let inner = &token[1..token.len() - 1];
    if !escaped {
        return inner.into();
    }
    // The line was checked to be JSON, so this does not fail; if it did, the raw text is the
    // safe side (it is masked all the same).
    serde_json::from_str::<String>(token).map_or(inner.into(), Cow::Owned)
}
