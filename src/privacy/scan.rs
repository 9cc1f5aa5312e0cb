//! The built-in detectors as one pass over the bytes of a message.
//!
//! The pass walks ASCII words (runs of letters and digits). A word that starts with a digit may
//! start a BSN or a date of birth; a word that starts with a letter may start an IBAN (two
//! letters, two digits) or be a document number (nine characters). Nothing else is looked at,
//! and a message without any ASCII digit is skipped at once: every built-in value has digits.
//!
//! The rules, chosen to keep phone numbers, amounts and codes out:
//! - **Number runs.** A BSN is a run of digits joined by single spaces, dots or dashes
//!   (`1234 56 782`, `123-456-782`). The whole run counts: a run of 10 or 11 digits such as
//!   `06-12345678` or `+31 6 12345678` is no BSN, and neither is any part of it.
//! - **Boundaries.** A run may not touch a letter or digit, may not follow `+` or `(0)`
//!   (phone), or a digit followed by `.`, `,` or `:` (amounts, times); nor may `,`, `.`, `:`,
//!   `/` or `-` plus a digit follow it.
//! - **Amounts.** A run with a currency sign (`€`, `$`, `£`, `¥`, `ƒ`) just before it or just
//!   after it (`€ 123.456.782`, `€123.456.782,-`, `123.456.782 €`) is no BSN.
//! - **Codes.** A run after a letter or digit and `-`, `_` or `/` (`OV-123456782`,
//!   `Z/123456782`), or after a code of one to four capitals and a spaced dash or slash
//!   (`OV - 123456782`), only counts after a raise word (`BSN-123456782`). Any dash counts
//!   (`-`, `–`, `—`).
//! - **9 digits** must pass the elfproef; a run grouped as `6 12345678` (a mobile number
//!   without its 0) is refused.
//! - **8 digits** (a BSN without its leading zero) must be written without separators, must not
//!   have a digit within the four characters before it (`06 - 12345678`), must pass the
//!   elfproef as `0` + 8 digits, and only count after a raise word such as `bsn`.
//! - **IBAN**: two letters, two digits, then as many letters and digits as the country's IBAN
//!   length, single spaces allowed between them, ending at a word end; mod-97 must be 1.
//! - **Document number**: a nine-character word `[A-NP-Z]{2}[A-NP-Z0-9]{6}[0-9]`, any case
//!   except that the letter O never occurs. In capitals with at least one digit among the middle
//!   six it counts on its own (`NXC4R2L91`); otherwise (`paspoort1`, `sp3ci2014`) only after a
//!   raise word.
//! - **Date**: `d-m-yyyy`, `d/m/yyyy`, `d.m.yyyy` (also with a two-digit year), `yyyy-m-d`, and
//!   `d maand yyyy` with Dutch month names, full or abbreviated (`3 mrt. 1985`); years
//!   1900–2099 (two-digit years any), real calendar dates only.

use super::checksum::{elfproef, iban_length, iban_mod97};

/// Which built-in detector found a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Bsn,
    Iban,
    DocumentNumber,
    DateOfBirth,
}

/// A value that passed its format and checksum rules; context is applied by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
    /// Whether this value only counts after a raise word, whatever the configuration says.
    pub needs_raise: bool,
}

/// Which built-in detectors run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Enabled {
    pub bsn: bool,
    pub iban: bool,
    pub document_number: bool,
    pub date_of_birth: bool,
}

/// Appends every built-in candidate in `text` to `out`, in order of position (they may overlap).
pub(crate) fn candidates(text: &str, on: Enabled, out: &mut Vec<Candidate>) {
    let b = text.as_bytes();
    if !b.iter().any(u8::is_ascii_digit) {
        return;
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if !c.is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let word_end = b[i..]
            .iter()
            .position(|x| !x.is_ascii_alphanumeric())
            .map_or(b.len(), |n| i + n);
        let mut next = word_end;
        if c.is_ascii_digit() {
            if on.date_of_birth {
                if let Some(end) = date_at(text, i) {
                    out.push(candidate(Kind::DateOfBirth, i, end, false));
                }
            }
            if on.bsn {
                let run = NumberRun::at(b, i);
                if let Some(found) = run.bsn(text, i) {
                    out.push(found);
                }
                next = next.max(run.end);
            }
        } else {
            if on.iban {
                if let Some(end) = iban_at(text, i) {
                    out.push(candidate(Kind::Iban, i, end, false));
                }
            }
            if on.document_number && word_end - i == 9 {
                if let Some(needs_raise) = document_number_at(text, i, word_end) {
                    out.push(candidate(Kind::DocumentNumber, i, word_end, needs_raise));
                }
            }
        }
        i = next;
    }
}

fn candidate(kind: Kind, start: usize, end: usize, needs_raise: bool) -> Candidate {
    Candidate {
        kind,
        start,
        end,
        needs_raise,
    }
}

/// Digits joined by single spaces, dots or dashes, starting at a digit.
struct NumberRun {
    end: usize,
    /// The first nine digits (only meaningful when `count` is 8 or 9).
    digits: [u8; 9],
    count: usize,
    /// Number of digits in the first two groups.
    groups: [usize; 2],
    separated: bool,
}

impl NumberRun {
    fn at(b: &[u8], start: usize) -> NumberRun {
        let mut run = NumberRun {
            end: start,
            digits: [0; 9],
            count: 0,
            groups: [0; 2],
            separated: false,
        };
        let mut group = 0;
        let mut j = start;
        while j < b.len() {
            let c = b[j];
            if c.is_ascii_digit() {
                if let Some(slot) = run.digits.get_mut(run.count) {
                    *slot = c - b'0';
                }
                if let Some(g) = run.groups.get_mut(group) {
                    *g += 1;
                }
                run.count += 1;
                j += 1;
                run.end = j;
            } else if matches!(c, b' ' | b'.' | b'-')
                && b.get(j + 1).is_some_and(u8::is_ascii_digit)
            {
                run.separated = true;
                group += 1;
                j += 1;
            } else {
                break;
            }
        }
        run
    }

    fn bsn(&self, text: &str, start: usize) -> Option<Candidate> {
        if !matches!(self.count, 8 | 9) || !right_ok(text, self.end) {
            return None;
        }
        let prefixed = match number_left(text, start) {
            Left::Free => false,
            Left::Code => true,
            Left::Refused => return None,
        };
        if currency_after(text, self.end) {
            return None;
        }
        match self.count {
            9 if self.groups != [1, 8] && elfproef(&self.digits) => {
                Some(candidate(Kind::Bsn, start, self.end, prefixed))
            }
            8 if !self.separated && !digit_just_before(text.as_bytes(), start) => {
                let mut nine = [0u8; 9];
                nine[1..].copy_from_slice(&self.digits[..8]);
                elfproef(&nine).then(|| candidate(Kind::Bsn, start, self.end, true))
            }
            _ => None,
        }
    }
}

/// What stands before a number run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Left {
    /// Nothing that says what the number is.
    Free,
    /// A code joined to it by a dash or slash: `OV-123456782`, `Z/123456782`, `OV - 123456782`.
    Code,
    /// Part of a word, a phone number, a bigger number or an amount.
    Refused,
}

fn is_currency(c: char) -> bool {
    matches!(c, '€' | '$' | '£' | '¥' | 'ƒ' | '₤')
}

fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '_'
            | '/'
            | '\u{2010}'
            | '\u{2011}'
            | '\u{2012}'
            | '\u{2013}'
            | '\u{2014}'
            | '\u{2212}'
    )
}

/// What stands before a number run at `start`; see the module documentation.
fn number_left(text: &str, start: usize) -> Left {
    let before = &text[..start];
    let mut rev = before.chars().rev();
    let Some(prev) = rev.next() else {
        return Left::Free;
    };
    if prev == '+' || prev.is_alphanumeric() {
        return Left::Refused;
    }
    let trimmed = before.trim_end();
    if trimmed.ends_with(is_currency) || trimmed.ends_with("(0)") {
        return Left::Refused;
    }
    let prev2 = rev.next();
    if is_dash(prev) && prev2.is_some_and(char::is_alphanumeric) {
        return Left::Code;
    }
    if matches!(prev, '.' | ',' | ':') && prev2.is_some_and(|c| c.is_ascii_digit()) {
        return Left::Refused;
    }
    // A spaced joiner after a short code in capitals: `OV - 123456782`, `Z / 123456782`.
    if let Some(rest) = trimmed.strip_suffix(is_dash) {
        let rest = rest.trim_end();
        let code_len = rest
            .chars()
            .rev()
            .take_while(char::is_ascii_alphanumeric)
            .count();
        let code = &rest[rest.len() - code_len..];
        if (1..=4).contains(&code.len())
            && code.bytes().all(|b| b.is_ascii_uppercase())
            && !rest[..rest.len() - code_len].ends_with(char::is_alphanumeric)
        {
            return Left::Code;
        }
    }
    Left::Free
}

/// Whether a currency sign follows the run ending at `end`, after an optional `,-` or `,=`.
fn currency_after(text: &str, end: usize) -> bool {
    let rest = &text[end..];
    let rest = rest
        .strip_prefix(",-")
        .or_else(|| rest.strip_prefix(",="))
        .unwrap_or(rest);
    rest.trim_start().starts_with(is_currency)
}

fn digit_just_before(b: &[u8], start: usize) -> bool {
    b[start.saturating_sub(4)..start]
        .iter()
        .any(u8::is_ascii_digit)
}

/// Whether a value may start at `start`: not glued to a word, a phone prefix or a bigger number.
fn left_ok(text: &str, start: usize) -> bool {
    let mut before = text[..start].chars().rev();
    let Some(prev) = before.next() else {
        return true;
    };
    if prev == '+' || prev.is_alphanumeric() {
        return false;
    }
    let Some(prev2) = before.next() else {
        return true;
    };
    match prev {
        '-' | '_' | '/' => !prev2.is_alphanumeric(),
        '.' | ',' | ':' => !prev2.is_ascii_digit(),
        _ => true,
    }
}

/// Whether a value may end at `end`: not glued to a word or followed by more of a number.
fn right_ok(text: &str, end: usize) -> bool {
    let mut after = text[end..].chars();
    let Some(next) = after.next() else {
        return true;
    };
    if next.is_alphanumeric() {
        return false;
    }
    match next {
        ',' | '.' | ':' | '/' | '-' => !after.next().is_some_and(|c| c.is_ascii_digit()),
        _ => true,
    }
}

/// The end of an IBAN starting at the letter at `start`, if there is one.
fn iban_at(text: &str, start: usize) -> Option<usize> {
    let b = text.as_bytes();
    let head = b.get(start..start + 4)?;
    if !(head[0].is_ascii_alphabetic()
        && head[1].is_ascii_alphabetic()
        && head[2].is_ascii_digit()
        && head[3].is_ascii_digit())
    {
        return None;
    }
    let len = iban_length(head[0].to_ascii_uppercase(), head[1].to_ascii_uppercase())?;
    if !left_ok(text, start) {
        return None;
    }
    let mut compact = [0u8; 34];
    let mut count = 0;
    let mut j = start;
    while count < len {
        match b.get(j) {
            Some(c) if c.is_ascii_alphanumeric() => {
                *compact.get_mut(count)? = c.to_ascii_uppercase();
                count += 1;
                j += 1;
            }
            Some(b' ') if b.get(j + 1).is_some_and(u8::is_ascii_alphanumeric) => j += 1,
            _ => return None,
        }
    }
    let end_ok = !text[j..].starts_with(char::is_alphanumeric);
    (end_ok && iban_mod97(&compact[..len]) == 1).then_some(j)
}

/// Whether the nine-character ASCII word at `start..end` is a document number; `Some(true)`
/// when it only counts after a raise word.
fn document_number_at(text: &str, start: usize, end: usize) -> Option<bool> {
    let w = text.as_bytes().get(start..end)?;
    let letter = |c: u8| c.is_ascii_alphabetic() && !c.eq_ignore_ascii_case(&b'o');
    let shape = w.len() == 9
        && letter(w[0])
        && letter(w[1])
        && w[2..8].iter().all(|&c| letter(c) || c.is_ascii_digit())
        && w[8].is_ascii_digit();
    if !shape || !left_ok(text, start) || !right_ok(text, end) {
        return None;
    }
    let capitals = !w.iter().any(u8::is_ascii_lowercase);
    let middle_digit = w[2..8].iter().any(u8::is_ascii_digit);
    Some(!(capitals && middle_digit))
}

/// The end of a date starting at the digit at `start`, if there is one.
fn date_at(text: &str, start: usize) -> Option<usize> {
    if !left_ok(text, start) {
        return None;
    }
    let b = text.as_bytes();
    let (first, mut j) = number(b, start, 4)?;
    let (day, month, year, end) = match b.get(j) {
        Some(&sep @ (b'-' | b'/' | b'.')) => {
            let (second, k) = number(b, j + 1, 2)?;
            j = k;
            if b.get(j) != Some(&sep) {
                return None;
            }
            let (third, k) = number(b, j + 1, 4)?;
            match (first.len, third.len) {
                (1 | 2, 4) => (first.value, second.value, Year::Full(third.value), k),
                (1 | 2, 2) => (first.value, second.value, Year::Short(third.value), k),
                (4, 1 | 2) => (third.value, second.value, Year::Full(first.value), k),
                _ => return None,
            }
        }
        Some(b' ') if first.len <= 2 => {
            j = skip_spaces(b, j);
            let word_end = b[j..]
                .iter()
                .position(|c| !c.is_ascii_alphabetic())
                .map_or(b.len(), |n| j + n);
            let month = month_number(&b[j..word_end])?;
            j = word_end;
            if b.get(j) == Some(&b'.') {
                j += 1;
            }
            let k = skip_spaces(b, j);
            if k == j {
                return None;
            }
            let (year, k) = number(b, k, 4)?;
            if year.len != 4 {
                return None;
            }
            (first.value, month, Year::Full(year.value), k)
        }
        _ => return None,
    };
    (right_ok(text, end) && valid_date(day, month, year)).then_some(end)
}

struct Number {
    value: u32,
    len: usize,
}

/// The digits at `start` (at least one, at most `max`, and no digit right after them).
fn number(b: &[u8], start: usize, max: usize) -> Option<(Number, usize)> {
    let mut value = 0u32;
    let mut j = start;
    while let Some(c) = b.get(j).filter(|c| c.is_ascii_digit()) {
        if j - start == max {
            return None;
        }
        value = value * 10 + u32::from(c - b'0');
        j += 1;
    }
    (j > start).then_some((
        Number {
            value,
            len: j - start,
        },
        j,
    ))
}

fn skip_spaces(b: &[u8], mut j: usize) -> usize {
    while b.get(j) == Some(&b' ') {
        j += 1;
    }
    j
}

#[derive(Clone, Copy)]
enum Year {
    Full(u32),
    Short(u32),
}

fn valid_date(day: u32, month: u32, year: Year) -> bool {
    let leap = match year {
        Year::Full(y) if (1900..=2099).contains(&y) => y % 4 == 0 && (y % 100 != 0 || y % 400 == 0),
        Year::Full(_) => return false,
        // 00 is 2000 (a leap year) and 1900 is out of range, so every multiple of 4 is leap.
        Year::Short(y) => y % 4 == 0,
    };
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// The month (1..=12) a Dutch month name or abbreviation stands for, in any case.
fn month_number(word: &[u8]) -> Option<u32> {
    const MONTHS: [(&str, u32); 25] = [
        ("januari", 1),
        ("jan", 1),
        ("februari", 2),
        ("feb", 2),
        ("febr", 2),
        ("maart", 3),
        ("mrt", 3),
        ("mar", 3),
        ("april", 4),
        ("apr", 4),
        ("mei", 5),
        ("juni", 6),
        ("jun", 6),
        ("juli", 7),
        ("jul", 7),
        ("augustus", 8),
        ("aug", 8),
        ("september", 9),
        ("sep", 9),
        ("sept", 9),
        ("oktober", 10),
        ("okt", 10),
        ("november", 11),
        ("nov", 11),
        ("december", 12),
    ];
    if word.eq_ignore_ascii_case(b"dec") {
        return Some(12);
    }
    MONTHS
        .iter()
        .find(|(name, _)| name.as_bytes().eq_ignore_ascii_case(word))
        .map(|&(_, m)| m)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: Enabled = Enabled {
        bsn: true,
        iban: true,
        document_number: true,
        date_of_birth: true,
    };

    fn found(text: &str) -> Vec<(Kind, &str, bool)> {
        let mut out = Vec::new();
        candidates(text, ALL, &mut out);
        out.iter()
            .map(|c| (c.kind, &text[c.start..c.end], c.needs_raise))
            .collect()
    }

    #[test]
    fn bsn_with_and_without_separators() {
        for v in ["123456782", "1234.56.782", "1234 56 782", "123-456-782"] {
            let t = format!("nummer {v}.");
            assert_eq!(found(&t), vec![(Kind::Bsn, v, false)], "{t}");
        }
    }

    #[test]
    fn phone_numbers_and_longer_runs_are_no_bsn() {
        for t in [
            "bel 06-12345678",
            "bel +31 6 12345678",
            "bel 0115-123456",
            "bel 6 12345678",
            "1234567820",
            "0123456782",
            "x123456782",
            "€ 1.123.456.782,00",
            "12:123456782",
            "123456782/2",
            "123456781",
            "06 - 12345672",
        ] {
            assert!(
                found(t).iter().all(|(k, _, _)| *k != Kind::Bsn),
                "{t}: {:?}",
                found(t)
            );
        }
    }

    #[test]
    fn amounts_with_a_currency_sign_are_no_bsn() {
        for t in [
            "€ 123.456.782",
            "€123.456.782,-",
            "€\u{a0}123456782",
            "$123456782",
            "123.456.782 €",
            "123.456.782,- €",
            "£ 12345672",
            "+31 (0)10 8312021",
            "+31(0)10-8312021",
        ] {
            assert!(
                found(t).iter().all(|(k, _, _)| *k != Kind::Bsn),
                "{t}: {:?}",
                found(t)
            );
        }
        assert_eq!(
            found("€ 5, bsn 123456782"),
            vec![(Kind::Bsn, "123456782", false)]
        );
    }

    #[test]
    fn numbers_after_a_code_need_a_raise_word() {
        for (t, v) in [
            ("OV-123456782", "123456782"),
            ("Z/123456782", "123456782"),
            ("W_123456782", "123456782"),
            ("OV–123456782", "123456782"),
            ("OLO — 123456782", "123456782"),
            ("Z / 123456782", "123456782"),
            ("BSG-12345672", "12345672"),
        ] {
            assert_eq!(found(t), vec![(Kind::Bsn, v, true)], "{t}");
        }
        // Not a code: lower case, or more than four capitals, before a spaced dash.
        for t in ["bsn - 123456782", "ABCDE - 123456782", "06 - 123456782"] {
            assert_eq!(found(t), vec![(Kind::Bsn, "123456782", false)], "{t}");
        }
    }

    #[test]
    fn eight_digits_need_raise_and_no_separators() {
        assert_eq!(found("12345672"), vec![(Kind::Bsn, "12345672", true)]);
        assert!(found("1234 5672").is_empty());
    }

    #[test]
    fn iban_any_country_spacing_and_case() {
        for v in [
            "NL91ABNA0417164300",
            "nl91abna0417164300",
            "NL91 ABNA 0417 1643 00",
            "DE89 3704 0044 0532 0130 00",
            "BE68539007547034",
        ] {
            let t = format!("rekening: {v}, dank");
            assert_eq!(found(&t), vec![(Kind::Iban, v, false)], "{t}");
        }
        assert!(found("NL92ABNA0417164300").is_empty());
        assert!(found("NL91ABNA0417164300X").is_empty());
        assert!(found("NL91 ABNA 0417 1643 0").is_empty());
    }

    #[test]
    fn document_numbers() {
        assert_eq!(
            found("nr NXC4R2L91 ok"),
            vec![(Kind::DocumentNumber, "NXC4R2L91", false)]
        );
        assert_eq!(
            found("SPECI2014"),
            vec![(Kind::DocumentNumber, "SPECI2014", false)]
        );
        assert_eq!(
            found("sp3ci2014"),
            vec![(Kind::DocumentNumber, "sp3ci2014", true)]
        );
        // Capitals without a digit in the middle need context.
        assert_eq!(
            found("ABCDEFGH1"),
            vec![(Kind::DocumentNumber, "ABCDEFGH1", true)]
        );
        // Never the letter O; never longer or shorter.
        for t in [
            "NOC4R2L91",
            "NXC4R2L9X",
            "NXC4R2L912",
            "NXC4R2L1",
            "XNXC4R2L91",
        ] {
            assert!(found(t).is_empty(), "{t}");
        }
    }

    #[test]
    fn dates_numeric_and_with_month_names() {
        for v in [
            "12-03-1985",
            "12/3/1985",
            "12.03.1985",
            "1985-03-12",
            "12-03-85",
            "12 maart 1985",
            "3 mrt 1985",
            "3 mrt. 1985",
            "1 januari 1990",
            "29 FEB 2000",
            "31 dec 1999",
        ] {
            let t = format!("geboren {v}!");
            assert_eq!(found(&t), vec![(Kind::DateOfBirth, v, false)], "{t}");
        }
        for t in [
            "31-02-1985",
            "29 februari 1900",
            "12-13-1985",
            "12-03/1985",
            "12 maartje 1985",
            "12 maart 85",
            "0-03-1985",
            "12-03-1850",
            "12-03-19855",
            "12-03-1985-1",
        ] {
            assert!(
                found(t).iter().all(|(k, _, _)| *k != Kind::DateOfBirth),
                "{t}"
            );
        }
    }

    #[test]
    fn text_without_digits_or_with_odd_unicode_finds_nothing() {
        assert!(found("Goedemorgen, ik wil verhuizen 😀").is_empty());
        assert!(found("").is_empty());
        assert!(found("\u{0}\u{7f}🙂1").is_empty());
        assert!(found("é123456782").is_empty());
    }
}
