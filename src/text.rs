//! Text normalisation and approximate string comparison, shared by the loader and the engine.
//!
//! Residents write as they write to friends: capitals or none, accents or none, emoji, stretched
//! letters ("hoiii"), `y` for `ij`. Keywords and messages go through the same [`normalize`], so an
//! editor writes `rijbewijs` once and `RYBEWYS!!` still finds it.

/// Normalises `input` for matching: lower case, accents removed, `y` → `ij`, every run of
/// characters that is not a letter or digit (punctuation, emoji, control characters) becomes one
/// space, letters repeated three or more times become two ("heeeel" → "heel"). The result has no
/// leading or trailing space.
pub fn normalize(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + 8);
    normalize_into(input, &mut out);
    out
}

/// [`normalize`] without the `y` → `ij` step: the text that editors' regular expressions see, so
/// that a pattern for "hey" or "okay" is written as it is spelt.
pub fn normalize_for_patterns(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + 8);
    normalize_with(input, &mut out, false);
    out
}

/// [`normalize`] into a buffer the caller reuses.
pub fn normalize_into(input: &str, out: &mut String) {
    normalize_with(input, out, true);
}

fn normalize_with(input: &str, out: &mut String, y_to_ij: bool) {
    out.clear();
    let mut pending_space = false;
    let mut last: Option<char> = None;
    let mut run = 0usize;
    let mut push = |c: char, out: &mut String, pending_space: &mut bool| {
        if *pending_space {
            if !out.is_empty() {
                out.push(' ');
            }
            *pending_space = false;
            last = None;
            run = 0;
        }
        if Some(c) == last {
            run += 1;
            if run >= 2 && c.is_alphabetic() {
                return;
            }
        } else {
            last = Some(c);
            run = 0;
        }
        out.push(c);
    };
    for ch in input.chars() {
        if ch.is_ascii() {
            let b = ch as u8;
            if b.is_ascii_alphanumeric() {
                let c = b.to_ascii_lowercase() as char;
                if c == 'y' && y_to_ij {
                    push('i', out, &mut pending_space);
                    push('j', out, &mut pending_space);
                } else {
                    push(c, out, &mut pending_space);
                }
            } else {
                pending_space = true;
            }
            continue;
        }
        match fold_accent(ch) {
            Some(folded) => {
                for c in folded.chars() {
                    if c == 'y' && y_to_ij {
                        push('i', out, &mut pending_space);
                        push('j', out, &mut pending_space);
                    } else {
                        push(c, out, &mut pending_space);
                    }
                }
            }
            None if ch.is_alphanumeric() => {
                for c in ch.to_lowercase() {
                    push(c, out, &mut pending_space);
                }
            }
            None => pending_space = true,
        }
    }
}

/// Latin letters with diacritics (Latin-1 Supplement and Latin Extended-A) folded to ASCII.
fn fold_accent(ch: char) -> Option<&'static str> {
    Some(match ch {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'ā' | 'Ā' | 'ă'
        | 'Ă' | 'ą' | 'Ą' => "a",
        'æ' | 'Æ' => "ae",
        'ç' | 'Ç' | 'ć' | 'Ć' | 'č' | 'Č' | 'ĉ' | 'ċ' => "c",
        'ď' | 'Ď' | 'đ' | 'Đ' | 'ð' | 'Ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' | 'ē' | 'Ē' | 'ė' | 'Ė' | 'ę' | 'Ę' | 'ě'
        | 'Ě' => "e",
        'ğ' | 'Ğ' | 'ģ' | 'Ģ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' | 'ī' | 'Ī' | 'į' | 'Į' | 'ı' | 'İ' => {
            "i"
        }
        'ĳ' | 'Ĳ' => "ij",
        'ķ' | 'Ķ' => "k",
        'ł' | 'Ł' | 'ľ' | 'Ľ' | 'ĺ' | 'Ĺ' | 'ļ' | 'Ļ' => "l",
        'ñ' | 'Ñ' | 'ń' | 'Ń' | 'ň' | 'Ň' | 'ņ' | 'Ņ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'ō' | 'Ō' | 'ő'
        | 'Ő' => "o",
        'œ' | 'Œ' => "oe",
        'ŕ' | 'Ŕ' | 'ř' | 'Ř' => "r",
        'ś' | 'Ś' | 'š' | 'Š' | 'ş' | 'Ş' => "s",
        'ß' => "ss",
        'ť' | 'Ť' | 'ţ' | 'Ţ' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' | 'ū' | 'Ū' | 'ů' | 'Ů' | 'ű' | 'Ű' => {
            "u"
        }
        'ý' | 'ÿ' | 'Ý' | 'Ÿ' => "y",
        'ž' | 'Ž' | 'ź' | 'Ź' | 'ż' | 'Ż' => "z",
        'þ' | 'Þ' => "th",
        _ => return None,
    })
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions) between `a`
/// and `b`, or `None` when it exceeds `max`. Works on bytes: callers pass normalised text.
pub fn bounded_distance(a: &[u8], b: &[u8], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    if a == b {
        return Some(0);
    }
    let n = b.len();
    // Three rows: two back (for transpositions), previous, current.
    let mut prev2: Vec<usize> = vec![0; n + 1];
    let mut prev: Vec<usize> = (0..=n).collect();
    let mut cur: Vec<usize> = vec![0; n + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=n {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[n];
    (d <= max).then_some(d)
}

/// The candidate closest to `input` when it is close enough to be a plausible typo, for
/// "did you mean" hints.
pub fn did_you_mean<'a, I>(input: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let needle = input.to_lowercase();
    let max = (needle.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .filter_map(|c| {
            bounded_distance(needle.as_bytes(), c.to_lowercase().as_bytes(), max).map(|d| (d, c))
        })
        .min_by_key(|(d, c)| (*d, c.len()))
        .map(|(_, c)| c)
}

/// The number of edits a keyword of `len` letters tolerates when its topic does not say:
/// none below five letters (too many short words are one edit apart), one up to eight, two beyond.
pub fn auto_tolerance(len: usize) -> u8 {
    match len {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// A small, fast, deterministic hash (FNV-1a) for choosing answer variations and for the
/// engine's typo index; not for anything an attacker could exploit.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_accents_punctuation_and_emoji() {
        assert_eq!(
            normalize("Hé, WAAR is mijn Paspoort?? 😀👍"),
            "he waar is mijn paspoort"
        );
        assert_eq!(normalize("  café  crème  "), "cafe creme");
        assert_eq!(normalize("heeeeeel   graaaag!!!"), "heel graag");
        assert_eq!(normalize("RYBEWYS"), "rijbewijs");
        assert_eq!(normalize_for_patterns("Hey, OKAY?"), "hey okay");
        assert_eq!(normalize("id-kaart"), "id kaart");
        assert_eq!(normalize("\u{0}\u{7}\t\n"), "");
        assert_eq!(normalize("😀😀😀"), "");
        assert_eq!(normalize("straße"), "strasse");
        assert_eq!(normalize("1000000"), "1000000");
    }

    #[test]
    fn distance_is_bounded_and_counts_transpositions() {
        assert_eq!(bounded_distance(b"paspoort", b"paspoort", 2), Some(0));
        assert_eq!(bounded_distance(b"pasport", b"paspoort", 2), Some(1));
        assert_eq!(bounded_distance(b"papsoort", b"paspoort", 2), Some(1));
        assert_eq!(bounded_distance(b"rijbewijs", b"rijbewjis", 1), Some(1));
        assert_eq!(bounded_distance(b"afval", b"adres", 2), None);
        assert_eq!(bounded_distance(b"", b"abc", 2), None);
        assert_eq!(bounded_distance(b"", b"ab", 2), Some(2));
    }

    #[test]
    fn suggests_close_names_only() {
        let fields = ["keywords", "phrases", "answers", "links"];
        assert_eq!(did_you_mean("keywrods", fields), Some("keywords"));
        assert_eq!(did_you_mean("answer", fields), Some("answers"));
        assert_eq!(did_you_mean("department", fields), None);
    }
}
