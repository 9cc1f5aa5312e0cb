//! Context words: whether the words near a value cancel it (`zaaknummer 123456782`,
//! `123456782 is mijn klantnummer`) or confirm it (`geboren op 12 maart 1985`, `12 maart 1985
//! geboren`).
//!
//! Two windows are read. Before the value: the last [`WINDOW_WORDS`] words that start within
//! [`WINDOW_CHARS`] characters. After it: the first [`WINDOW_AFTER_WORDS`] words that start
//! within [`WINDOW_AFTER_CHARS`] characters, up to the end of the sentence (`.`, `!`, `?`, `;`
//! or a new line) or the next word with a digit in it. Words are runs of letters and digits,
//! folded to lower case without accents; a context phrase such as `id-kaart` or `geb datum` is a
//! sequence of such words.
//!
//! The nearest phrase decides, counted in words between it and the value, on either side; when
//! a cancel and a raise phrase are equally near, raise wins (masking is the safe side). A phrase
//! after the value that stands right before the next number, with at most one word and no comma
//! between (`123456782 en mijn klantnummer is 444719830`), is about that number and does not
//! count for this one.

/// How many words before a value are looked at.
pub const WINDOW_WORDS: usize = 4;
/// How many characters before a value are looked at.
pub const WINDOW_CHARS: usize = 40;
/// How many words after a value are looked at.
pub const WINDOW_AFTER_WORDS: usize = 3;
/// How many characters after a value are looked at.
pub const WINDOW_AFTER_CHARS: usize = 30;

/// What the words around a value say about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// No context word in either window.
    Neutral,
    /// The nearest context word is a cancel word.
    Cancel,
    /// The nearest context word is a raise word.
    Raise,
}

/// Compiled context phrases of one detector.
#[derive(Debug, Clone, Default)]
pub(crate) struct Context {
    cancel: Vec<Vec<String>>,
    raise: Vec<Vec<String>>,
    /// The number of words in the longest phrase.
    longest: usize,
}

impl Context {
    pub(crate) fn new(cancel: Vec<Vec<String>>, raise: Vec<Vec<String>>) -> Self {
        let longest = cancel.iter().chain(&raise).map(Vec::len).max().unwrap_or(0);
        Context {
            cancel,
            raise,
            longest,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.cancel.is_empty() && self.raise.is_empty()
    }

    /// Whether any word can cancel a value.
    pub(crate) fn can_cancel(&self) -> bool {
        !self.cancel.is_empty()
    }

    /// The verdict of the words around the value at bytes `start..end` of `text`.
    pub(crate) fn verdict(&self, text: &str, start: usize, end: usize) -> Verdict {
        if self.is_empty() {
            return Verdict::Neutral;
        }
        let before = self.before(text, start);
        // How many words after the value may still decide: a phrase after it must be nearer
        // than the one before, or as near and a raise word (which only matters against a
        // cancel word).
        let reach = match before {
            None => WINDOW_AFTER_WORDS,
            Some((Verdict::Cancel, gap)) => gap + 1,
            Some((_, gap)) => gap,
        };
        let after = if reach == 0 {
            None
        } else {
            self.after(text, end, reach.min(WINDOW_AFTER_WORDS))
        };
        match (before, after) {
            (None, None) => Verdict::Neutral,
            (Some((v, _)), None) | (None, Some((v, _))) => v,
            (Some((b, near_b)), Some((a, near_a))) => {
                if near_b != near_a {
                    if near_b < near_a {
                        b
                    } else {
                        a
                    }
                } else if b == Verdict::Raise || a == Verdict::Raise {
                    Verdict::Raise
                } else {
                    Verdict::Cancel
                }
            }
        }
    }

    /// The nearest phrase before `start`, and how many words lie between it and the value.
    fn before(&self, text: &str, start: usize) -> Option<(Verdict, usize)> {
        let words = window_before(text, start);
        // From the nearest word backwards: the first position where a phrase ends decides.
        for end in (0..words.len()).rev() {
            let done = &words[..=end];
            let gap = words.len() - 1 - end;
            if self.raise.iter().any(|p| ends_with(done, p)) {
                return Some((Verdict::Raise, gap));
            }
            if self.cancel.iter().any(|p| ends_with(done, p)) {
                return Some((Verdict::Cancel, gap));
            }
        }
        None
    }

    /// The nearest phrase after `end` that starts within its first `reach` words, and how many
    /// words lie between the value and it.
    fn after(&self, text: &str, end: usize, reach: usize) -> Option<(Verdict, usize)> {
        let window = window_after(text, end, reach + self.longest + 1);
        for at in 0..window.eligible.min(reach) {
            let rest = &window.words[at..];
            let about_next = |phrase: &[String]| {
                // Words between the phrase and the next number, when that is as near as (or
                // nearer than) the value and at most one word: the phrase introduces that number.
                window.next_number.is_some_and(|n| {
                    let gap = n - (at + phrase.len());
                    gap <= 1 && gap <= at
                })
            };
            let found = |phrases: &[Vec<String>]| {
                phrases
                    .iter()
                    .any(|p| rest.starts_with(p) && !p.is_empty() && !about_next(p))
            };
            if found(&self.raise) {
                return Some((Verdict::Raise, at));
            }
            if found(&self.cancel) {
                return Some((Verdict::Cancel, at));
            }
        }
        None
    }
}

fn ends_with(words: &[String], phrase: &[String]) -> bool {
    !phrase.is_empty()
        && words.len() >= phrase.len()
        && words[words.len() - phrase.len()..] == *phrase
}

/// The folded words of the window before byte offset `start`.
fn window_before(text: &str, start: usize) -> Vec<String> {
    let before = text.get(..start).unwrap_or("");
    // The last WINDOW_CHARS characters, plus whatever word the window starts inside of (that
    // partial word is dropped below).
    let from = before
        .char_indices()
        .rev()
        .nth(WINDOW_CHARS.saturating_sub(1))
        .map_or(0, |(i, _)| i);
    let cut_mid_word = before[..from]
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric);
    let mut words = split_words(&before[from..]);
    if cut_mid_word && before[from..].starts_with(char::is_alphanumeric) && !words.is_empty() {
        words.remove(0);
    }
    let keep = words.len().saturating_sub(WINDOW_WORDS);
    words.drain(..keep);
    words
}

/// The folded words after a value.
struct After {
    /// At most `max` words, ending before the sentence end or the next number.
    words: Vec<String>,
    /// How many of the first words may start a phrase: at most [`WINDOW_AFTER_WORDS`], each
    /// starting within [`WINDOW_AFTER_CHARS`] characters of the value.
    eligible: usize,
    /// The index the next word with a digit would have had, when that word ended the window.
    next_number: Option<usize>,
}

/// The folded words after byte offset `end`, at most `max` of them.
fn window_after(text: &str, end: usize, max: usize) -> After {
    let rest = text.get(end..).unwrap_or("");
    let mut window = After {
        words: Vec::new(),
        eligible: 0,
        next_number: None,
    };
    // Characters from the value to the current token.
    let mut at = 0;
    // Whether a comma stands between the last word and the next: `klantnummer, 4 jaar`.
    let mut comma = false;
    // Tokens are split at white space: a token with a digit (`444719830`, `BSG-87654321`) is
    // the next number, and the window ends before it.
    for token in rest.split_inclusive(char::is_whitespace) {
        let token_at = at;
        at += token.chars().count();
        if token.chars().any(char::is_numeric) {
            if !comma {
                window.next_number = Some(window.words.len());
            }
            return window;
        }
        let mut current = String::new();
        let mut word_at = 0;
        for (n, c) in token.chars().chain(std::iter::once(' ')).enumerate() {
            if c.is_alphanumeric() {
                if current.is_empty() {
                    word_at = token_at + n;
                }
                fold_into(c, &mut current);
                continue;
            }
            if !current.is_empty() {
                comma = false;
                window.words.push(std::mem::take(&mut current));
                if window.words.len() <= WINDOW_AFTER_WORDS && word_at < WINDOW_AFTER_CHARS {
                    window.eligible = window.words.len();
                }
                if window.words.len() == max {
                    return window;
                }
            }
            match c {
                '.' | '!' | '?' | ';' | '\n' => return window,
                ',' => comma = true,
                _ => {}
            }
        }
    }
    window
}

/// Folded words of `s`: runs of letters and digits, lower case, accents removed.
pub(crate) fn split_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    for c in s.chars() {
        if c.is_alphanumeric() {
            fold_into(c, &mut current);
        } else if !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Pushes `c` lower-cased and without accent (for the Latin letters Dutch text meets).
fn fold_into(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    let base = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'a',
        'ç' | 'Ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
        'ñ' | 'Ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'u',
        'ý' | 'ÿ' | 'Ý' => 'y',
        _ => {
            out.extend(c.to_lowercase());
            return;
        }
    };
    out.push(base);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(cancel: &[&str], raise: &[&str]) -> Context {
        let f = |l: &[&str]| l.iter().map(|w| split_words(w)).collect();
        Context::new(f(cancel), f(raise))
    }

    /// The verdict about the first `123` in `text`.
    fn about(c: &Context, text: &str) -> Verdict {
        let start = text.find("123").unwrap_or(text.len());
        c.verdict(text, start, (start + 3).min(text.len()))
    }

    #[test]
    fn nearest_word_decides() {
        let c = ctx(&["zaaknummer"], &["bsn"]);
        assert_eq!(about(&c, "mijn zaaknummer is 123"), Verdict::Cancel);
        assert_eq!(about(&c, "zaaknummer 1, bsn 123"), Verdict::Raise);
        assert_eq!(about(&c, "bsn en zaaknummer: 123"), Verdict::Cancel);
    }

    #[test]
    fn window_is_four_words_and_forty_chars() {
        let c = ctx(&["zaaknummer"], &[]);
        assert_eq!(about(&c, "zaaknummer een twee drie 123"), Verdict::Cancel);
        assert_eq!(
            about(&c, "zaaknummer een twee drie vier 123"),
            Verdict::Neutral
        );
        let t = "zaaknummer ........................................ 123";
        assert_eq!(about(&c, t), Verdict::Neutral);
        // A word the window starts inside of does not count as that word.
        let t = "ditiseenzaaknummer                                    123";
        assert_eq!(about(&c, t), Verdict::Neutral);
    }

    #[test]
    fn case_accents_and_punctuation_are_ignored() {
        let c = ctx(&[], &["id-kaart", "geb datum", "geb"]);
        for t in ["ID KAART: 123", "Îd kaart 123", "geb. 123", "Geb.datum 123"] {
            assert_eq!(about(&c, t), Verdict::Raise, "{t}");
        }
        assert_eq!(about(&c, "idkaart 123"), Verdict::Neutral);
    }

    #[test]
    fn words_after_the_value_count_within_three_words_and_the_sentence() {
        let c = ctx(
            &["klantnummer", "euro"],
            &["geboren", "burger service nummer"],
        );
        assert_eq!(about(&c, "123 is mijn klantnummer"), Verdict::Cancel);
        assert_eq!(about(&c, "123 euro"), Verdict::Cancel);
        assert_eq!(about(&c, "ik ben 123 geboren"), Verdict::Raise);
        assert_eq!(
            about(&c, "123 is mijn burger service nummer"),
            Verdict::Raise
        );
        assert_eq!(about(&c, "123 is niet mijn klantnummer"), Verdict::Neutral);
        assert_eq!(about(&c, "123. Mijn klantnummer"), Verdict::Neutral);
        assert_eq!(about(&c, "123!\nklantnummer"), Verdict::Neutral);
        let t = "123 ,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,, klantnummer";
        assert_eq!(about(&c, t), Verdict::Neutral);
    }

    #[test]
    fn a_phrase_right_before_the_next_number_is_about_that_number() {
        let c = ctx(&["klantnummer"], &["bsn"]);
        assert_eq!(about(&c, "123 klantnummer 456"), Verdict::Neutral);
        assert_eq!(
            about(&c, "123 en mijn klantnummer is 456"),
            Verdict::Neutral
        );
        assert_eq!(
            about(&c, "123 is mijn klantnummer, 4 jaar"),
            Verdict::Cancel
        );
        assert_eq!(about(&c, "bsn 123 klantnummer 456"), Verdict::Raise);
    }

    #[test]
    fn the_nearer_side_decides_and_a_tie_raises() {
        let c = ctx(&["zaak", "afspraak"], &["bsn", "geboren"]);
        assert_eq!(
            about(&c, "een zaak lopen, 123 is mijn bsn"),
            Verdict::Cancel
        );
        assert_eq!(about(&c, "zaak: 123 bsn"), Verdict::Raise);
        assert_eq!(
            about(&c, "geboren en heb op 123 een afspraak"),
            Verdict::Cancel
        );
    }
}
