//! Context words: whether the words just before a value cancel it (`zaaknummer 123456782`)
//! or confirm it (`geboren op 12 maart 1985`).
//!
//! The window is the last [`WINDOW_WORDS`] words that start within [`WINDOW_CHARS`] characters
//! before the value. Words are runs of letters and digits, folded to lower case without accents;
//! a context phrase such as `id-kaart` or `geb datum` is a sequence of such words. The nearest
//! phrase decides; when a cancel and a raise phrase end on the same word, raise wins (masking
//! is the safe side).

/// How many words before a value are looked at.
pub const WINDOW_WORDS: usize = 4;
/// How many characters before a value are looked at.
pub const WINDOW_CHARS: usize = 40;

/// What the words before a value say about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// No context word in the window.
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
}

impl Context {
    pub(crate) fn new(cancel: Vec<Vec<String>>, raise: Vec<Vec<String>>) -> Self {
        Context { cancel, raise }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.cancel.is_empty() && self.raise.is_empty()
    }

    /// The verdict of the words before byte offset `start` of `text`.
    pub(crate) fn verdict(&self, text: &str, start: usize) -> Verdict {
        if self.is_empty() {
            return Verdict::Neutral;
        }
        let words = window_before(text, start);
        // From the nearest word backwards: the first position where a phrase ends decides.
        for end in (0..words.len()).rev() {
            let done = &words[..=end];
            if self.raise.iter().any(|p| ends_with(done, p)) {
                return Verdict::Raise;
            }
            if self.cancel.iter().any(|p| ends_with(done, p)) {
                return Verdict::Cancel;
            }
        }
        Verdict::Neutral
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

    fn at(text: &str, needle: &str) -> usize {
        text.find(needle).unwrap_or(text.len())
    }

    #[test]
    fn nearest_word_decides() {
        let c = ctx(&["zaaknummer"], &["bsn"]);
        let t = "mijn zaaknummer is 123";
        assert_eq!(c.verdict(t, at(t, "123")), Verdict::Cancel);
        let t = "zaaknummer 1, bsn 123";
        assert_eq!(c.verdict(t, at(t, "123")), Verdict::Raise);
        let t = "bsn en zaaknummer: 123";
        assert_eq!(c.verdict(t, at(t, "123")), Verdict::Cancel);
    }

    #[test]
    fn window_is_four_words_and_forty_chars() {
        let c = ctx(&["zaaknummer"], &[]);
        let t = "zaaknummer een twee drie 123";
        assert_eq!(c.verdict(t, at(t, "123")), Verdict::Cancel);
        let t = "zaaknummer een twee drie vier 123";
        assert_eq!(c.verdict(t, at(t, "123")), Verdict::Neutral);
        let t = "zaaknummer ........................................ 123";
        assert_eq!(c.verdict(t, at(t, "123")), Verdict::Neutral);
        // A word the window starts inside of does not count as that word.
        let t = "ditiseenzaaknummer                                    123";
        assert_eq!(c.verdict(t, at(t, "123")), Verdict::Neutral);
    }

    #[test]
    fn case_accents_and_punctuation_are_ignored() {
        let c = ctx(&[], &["id-kaart", "geb datum", "geb"]);
        for t in ["ID KAART: 123", "Îd kaart 123", "geb. 123", "Geb.datum 123"] {
            assert_eq!(c.verdict(t, at(t, "123")), Verdict::Raise, "{t}");
        }
        let t = "idkaart 123";
        assert_eq!(c.verdict(t, at(t, "123")), Verdict::Neutral);
    }
}
