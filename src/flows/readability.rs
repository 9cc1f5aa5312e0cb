//! Plain language: how hard a Dutch reply text is to read, measured the way B1 writing guides
//! measure it.
//!
//! A text is split into sentences and words ([`measure`]), words into syllables
//! ([`syllables`]), and scored with Flesch–Douma ([`flesch_douma`]). [`check`] turns that into
//! at most one finding per kind: the longest sentence over [`MAX_SENTENCE_WORDS`], the longest
//! word over [`MAX_WORD_SYLLABLES`], and a score under [`MIN_SCORE`]. Pure: no I/O.
//!
//! What counts: URLs, e-mail addresses, `{placeholders}` and emoji are no words (a resident does
//! not read them as such); numbers, times and amounts (`7:30`, `€ 12,50`) are one word of one
//! syllable each. A sentence ends at `.`, `!`, `?` or `…`, at a line break, and at an emoji that
//! a capital follows (chat style: "zie de kalender 🗓️ Vul je postcode in"); not at the dot of an
//! abbreviation (`bijv.`, `o.a.`), of a URL or of an enumeration (`1.`).
//!
//! The thresholds, and why (Dutch government and plain-language guidance):
//! - Rijksoverheid's editors write at B1: "makkelijke woorden die bijna iedereen gebruikt" and
//!   "korte, eenvoudige en actieve zinnen"; names of laws, schemes and some legal terms stay as
//!   they are (communicatierijk.nl, *Taalniveau B1*, aanbevolen richtlijnen voor rijkswebsites).
//! - Sentence length: guides aim at an *average* of 10–15 words (hvds.nl "gemiddelde van tien
//!   woorden"; somniumtekstentraining.nl "gemiddelde van vijftien woorden"; b1teksten.nl
//!   "maximaal 12"), and "een begrijpelijke zin bestaat gemiddeld uit vijftien tot twintig
//!   woorden; telt een zin meer woorden, dan neemt de begrijpelijkheid snel af" (notadokter.nl,
//!   *Ambtelijke taal* 148); the NRC's rules of thumb call 18–28 words "moeilijk". The average is
//!   what the score weighs; one sentence is flagged above 20 words, the top of the 15–20 range
//!   past which the guides agree that understanding drops.
//! - Word length: b1teksten.nl calls words of more than 3 syllables hard for B1 readers. Dutch
//!   writes compounds as one word, so that count flags everyday words (`gemeentelijk`,
//!   `belastingen`, `afvalkalender`); a word is flagged from 6 syllables, long compounds of three
//!   or more parts (`omgevingsvergunning`, `klantcontactmedewerkers`). The
//!   topic's own keywords are the names residents use for the thing itself, and a word with a
//!   capital inside a sentence is a proper name (`Gezondheidsverklaring`, the CBR's form): the
//!   Rijksoverheid guidance keeps names as they are, so neither is flagged (both still count in
//!   the score).
//! - Score: Douma's norm table (as quoted in a 1977 article on dbnl.org) puts 60–70 at
//!   "normaal" (7e klas lo / vglo) and 45–60 at "tamelijk moeilijk" (mulo); nl.wikipedia.org
//!   *Leesbaarheid* puts 60–70 at lager middelbaar onderwijs. That is the band B1 texts are
//!   commonly equated with, so a text scores at least 60 (read as a whole number). Formulas are
//!   crude on short texts (one word of 5 syllables instead of 1 moves a ten-word line by 31
//!   points), so only texts of [`MIN_WORDS_FOR_SCORE`] words or more are scored.

/// A sentence longer than this (in words) is flagged.
pub const MAX_SENTENCE_WORDS: usize = 20;
/// A word of more syllables than this is flagged (unless exempt).
pub const MAX_WORD_SYLLABLES: usize = 5;
/// A text scoring under this on Flesch–Douma is flagged.
pub const MIN_SCORE: f64 = 60.0;
/// Texts with fewer words than this get no score: the formula means nothing there.
pub const MIN_WORDS_FOR_SCORE: usize = 20;

/// One word as counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word<'a> {
    /// The word as written, without the punctuation around it.
    pub text: &'a str,
    pub syllables: usize,
    /// Numbers, times and amounts: they count, but are never "long".
    pub number: bool,
    /// A capital inside a sentence: a name (`Mijn Belastingen`, the CBR's
    /// `Gezondheidsverklaring`), which stays as it is; counted, never "long".
    pub name: bool,
}

/// One sentence: its text as written (emoji and URLs included) and its counted words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence<'a> {
    pub text: &'a str,
    pub words: Vec<Word<'a>>,
}

impl Sentence<'_> {
    fn syllables(&self) -> usize {
        self.words.iter().map(|w| w.syllables).sum()
    }
}

/// A text measured: its sentences (those with at least one counted word).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measure<'a> {
    pub sentences: Vec<Sentence<'a>>,
}

impl Measure<'_> {
    pub fn words(&self) -> usize {
        self.sentences.iter().map(|s| s.words.len()).sum()
    }

    pub fn syllables(&self) -> usize {
        self.sentences.iter().map(Sentence::syllables).sum()
    }

    /// The Flesch–Douma score of the whole text; `None` for a text without words.
    pub fn score(&self) -> Option<f64> {
        let words = self.words();
        (words > 0).then(|| flesch_douma(words, self.sentences.len(), self.syllables()))
    }
}

/// Flesch–Douma: 206.835 − 0.93 × words per sentence − 77 × syllables per word. Higher is
/// easier; 60–70 is "normal" Dutch.
pub fn flesch_douma(words: usize, sentences: usize, syllables: usize) -> f64 {
    let (w, s, y) = (words as f64, sentences.max(1) as f64, syllables as f64);
    206.835 - 0.93 * (w / s) - 77.0 * (y / w.max(1.0))
}

/// What [`check`] found; at most one of each kind per text.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// The longest sentence over [`MAX_SENTENCE_WORDS`], and how many more are too long.
    LongSentence {
        words: usize,
        sentence: String,
        more: usize,
    },
    /// The word with the most syllables over [`MAX_WORD_SYLLABLES`], and how many more are
    /// too long.
    LongWord {
        word: String,
        syllables: usize,
        more: usize,
    },
    /// A score under [`MIN_SCORE`], with the sentence that costs the text most.
    LowScore { score: f64, sentence: String },
}

/// Longest sentence shown in a message, in characters; longer ones end in "…".
const SHOWN_CHARS: usize = 100;

fn shown(sentence: &str) -> String {
    if sentence.chars().count() <= SHOWN_CHARS {
        return sentence.to_string();
    }
    let cut: String = sentence.chars().take(SHOWN_CHARS).collect();
    format!("{} …", cut.trim_end())
}

impl Finding {
    /// The warning, in the style of the other diagnostics (English, the text in backticks).
    pub fn message(&self) -> String {
        let more = |n: usize, what: &str| match n {
            0 => String::new(),
            1 => format!(" (and 1 more {what})"),
            n => format!(" (and {n} more {what}s)"),
        };
        match self {
            Finding::LongSentence {
                words,
                sentence,
                more: n,
            } => format!(
                "sentence of {words} words (B1: at most {MAX_SENTENCE_WORDS}){}: `{}`",
                more(*n, "long sentence"),
                shown(sentence)
            ),
            Finding::LongWord {
                word,
                syllables,
                more: n,
            } => format!(
                "long word `{word}`: {syllables} syllables (B1: at most {MAX_WORD_SYLLABLES}){}",
                more(*n, "long word")
            ),
            Finding::LowScore { score, sentence } => format!(
                "readability {score:.0} (Flesch-Douma; B1: {MIN_SCORE:.0} or more), hardest sentence: `{}`",
                shown(sentence)
            ),
        }
    }

    /// What the editor can do about it.
    pub fn help(&self) -> String {
        match self {
            Finding::LongSentence { .. } => {
                "split it: one message per sentence, a full stop where `en`, `maar`, `want` or a comma joins two".into()
            }
            Finding::LongWord { .. } => {
                "use a shorter, everyday word, or say it in a few words (`aanvraagformulier` → `formulier om aan te vragen`)".into()
            }
            Finding::LowScore { .. } => {
                "shorter sentences and shorter words raise the score".into()
            }
        }
    }
}

/// Checks one text against the B1 thresholds. `exempt` says whether a word (lower case) is a
/// name that stays as it is (the topic's own keywords): it is never flagged as long, and
/// neither is a word with a capital inside a sentence (a name).
pub fn check(text: &str, exempt: impl Fn(&str) -> bool) -> Vec<Finding> {
    let m = measure(text);
    let mut out = Vec::new();

    let long: Vec<&Sentence> = m
        .sentences
        .iter()
        .filter(|s| s.words.len() > MAX_SENTENCE_WORDS)
        .collect();
    if let Some(worst) = long.iter().max_by_key(|s| s.words.len()) {
        out.push(Finding::LongSentence {
            words: worst.words.len(),
            sentence: worst.text.to_string(),
            more: long.len() - 1,
        });
    }

    let mut long_words: Vec<&Word> = Vec::new();
    for w in m.sentences.iter().flat_map(|s| &s.words) {
        if !w.number
            && !w.name
            && w.syllables > MAX_WORD_SYLLABLES
            && !exempt(&w.text.to_lowercase())
            && !long_words
                .iter()
                .any(|x| x.text.eq_ignore_ascii_case(w.text))
        {
            long_words.push(w);
        }
    }
    // The first of the longest, so the message is stable (`max_by_key` keeps the last).
    let worst = long_words.iter().rev().max_by_key(|w| w.syllables);
    if let Some(w) = worst {
        out.push(Finding::LongWord {
            word: w.text.to_string(),
            syllables: w.syllables,
            more: long_words.len() - 1,
        });
    }

    // Scores are read as whole numbers: 59.6 shows as 60 and passes.
    let low = m.score().filter(|s| s.round() < MIN_SCORE);
    if let (Some(score), true) = (low, m.words() >= MIN_WORDS_FOR_SCORE) {
        if let Some(s) = hardest(&m) {
            out.push(Finding::LowScore {
                score,
                sentence: s.text.to_string(),
            });
        }
    }
    out
}

/// The sentence that costs the text most: without it, the rest scores highest. (A sentence's
/// own score would blame a one-word "Gefeliciteerd!" for its five syllables.)
fn hardest<'m, 'a>(m: &'m Measure<'a>) -> Option<&'m Sentence<'a>> {
    let (words, syllables, n) = (m.words(), m.syllables(), m.sentences.len());
    if n == 1 {
        return m.sentences.first();
    }
    let without =
        |s: &Sentence| flesch_douma(words - s.words.len(), n - 1, syllables - s.syllables());
    m.sentences
        .iter()
        .map(|s| (without(s), s))
        .reduce(|a, b| if b.0 > a.0 { b } else { a })
        .map(|(_, s)| s)
}

/// Splits a text into sentences of counted words.
pub fn measure(text: &str) -> Measure<'_> {
    let mut sentences = Vec::new();
    for (line_start, line) in lines(text) {
        let tokens = tokens(line);
        let mut current: Vec<Word> = Vec::new();
        let mut start: Option<usize> = None;
        for (i, t) in tokens.iter().enumerate() {
            let first = start.is_none();
            start.get_or_insert(t.start);
            let next = tokens.get(i + 1);
            let ends = match t.kind {
                Kind::Emoji => next.is_some_and(Token::starts_upper),
                _ => {
                    let (core, _) = split_punct(t.text);
                    if let Some(mut w) = word(core) {
                        w.name = !current.is_empty()
                            && w.text.chars().next().is_some_and(char::is_uppercase);
                        current.push(w);
                    }
                    ends_sentence(t, first, next)
                }
            };
            if ends || next.is_none() {
                let s = start.take().unwrap_or(t.start);
                let words = std::mem::take(&mut current);
                if !words.is_empty() {
                    let from = line_start + s;
                    let to = line_start + t.start + t.text.len();
                    sentences.push(Sentence {
                        text: text[from..to].trim(),
                        words,
                    });
                }
            }
        }
    }
    Measure { sentences }
}

/// The lines of a text with their byte offsets: a line break ends a sentence (a list item, a
/// line of its own in a chat bubble).
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    text.split('\n').map(move |l| {
        let start = at;
        at += l.len() + 1;
        (start, l)
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Emoji,
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    text: &'a str,
    /// Byte offset in the line.
    start: usize,
    kind: Kind,
}

impl Token<'_> {
    fn starts_upper(&self) -> bool {
        self.kind == Kind::Text
            && self
                .text
                .chars()
                .find(|c| c.is_alphanumeric())
                .is_some_and(char::is_uppercase)
    }
}

/// Pictographs, dingbats, flags, and the joiners and selectors that build emoji sequences.
fn is_emoji(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2300..=0x23FF | 0x2B00..=0x2BFF
        | 0x2190..=0x21FF | 0xFE0F | 0x200D | 0x20E3 | 0xE0020..=0xE007F)
}

/// Whitespace-separated tokens, with runs of emoji as tokens of their own ("klaar👍" is a word
/// and an emoji).
fn tokens(line: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut start: Option<(usize, Kind)> = None;
    for (i, c) in line.char_indices() {
        let kind = if c.is_whitespace() {
            None
        } else if is_emoji(c) {
            Some(Kind::Emoji)
        } else {
            Some(Kind::Text)
        };
        if let Some((s, k)) = start {
            if kind != Some(k) {
                out.push(Token {
                    text: &line[s..i],
                    start: s,
                    kind: k,
                });
                start = None;
            }
        }
        if let (None, Some(k)) = (start, kind) {
            start = Some((i, k));
        }
    }
    if let Some((s, k)) = start {
        out.push(Token {
            text: &line[s..],
            start: s,
            kind: k,
        });
    }
    out
}

const OPENING: &[char] = &['(', '[', '"', '\'', '«', '„', '‘', '“', '‹', '*', '_'];
const CLOSING: &[char] = &[
    ')', ']', '"', '\'', '»', '”', '’', '›', '.', ',', ';', ':', '!', '?', '…', '*', '_',
];

/// A token's core and its trailing punctuation: `(bijv.),` → (`bijv`, `.),`).
fn split_punct(token: &str) -> (&str, &str) {
    let t = token.trim_start_matches(OPENING);
    let core = t.trim_end_matches(CLOSING);
    (core, &t[core.len()..])
}

/// Abbreviations whose dot does not end a sentence (lower case, without the final dot). Not
/// those that are also words that end sentences (`zo`, `do`, `ma`, `lid`).
const ABBREVIATIONS: &[&str] = &[
    "bijv", "bv", "o.a", "d.w.z", "enz", "etc", "e.d", "e.a", "ca", "nr", "tel", "incl", "excl",
    "evt", "resp", "vs", "dhr", "mevr", "mr", "dr", "ing", "ir", "drs", "prof", "jl", "a.u.b",
    "aub", "s.v.p", "z.s.m", "m.b.t", "i.p.v", "i.v.m", "t.a.v", "n.a.v", "v.a", "o.b.v", "p.p",
    "max", "min", "di", "wo", "vr", "za", "jan", "feb", "mrt", "apr", "jun", "jul", "aug", "sep",
    "sept", "okt", "nov", "dec", "st", "str", "bijl", "blz", "art", "m.u.v", "t.z.t",
];
/// Abbreviations that often end a list, and so a sentence when a capital follows.
const ENDING_ABBREVIATIONS: &[&str] = &["enz", "etc", "e.d", "e.a"];

fn is_abbreviation(core: &str) -> bool {
    let c = core.to_lowercase();
    ABBREVIATIONS.contains(&c.as_str())
        // Letter-dot-letter: `o.a`, `d.w.z`, `t.a.v`.
        || (c.contains('.')
            && c.split('.').all(|p| {
                (1..=2).contains(&p.chars().count()) && p.chars().all(char::is_alphabetic)
            }))
}

fn ends_sentence(t: &Token, first: bool, next: Option<&Token>) -> bool {
    let (core, tail) = split_punct(t.text);
    if tail.contains(['!', '?', '…']) {
        return true;
    }
    if !tail.contains('.') {
        return false;
    }
    if core.is_empty() {
        return true;
    }
    if is_url(core) {
        return true;
    }
    if is_abbreviation(core) {
        let c = core.to_lowercase();
        return ENDING_ABBREVIATIONS.contains(&c.as_str()) && next.is_some_and(Token::starts_upper);
    }
    // `1.` at the start of a sentence numbers a list item.
    if first && core.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    true
}

/// URLs and e-mail addresses: not read as words.
fn is_url(core: &str) -> bool {
    let c = core.to_lowercase();
    if c.starts_with("http://") || c.starts_with("https://") || c.starts_with("www.") {
        return true;
    }
    if c.contains('@') && c.contains('.') {
        return true;
    }
    // `terneuzen.nl/afval`: a host name with a known top-level domain.
    let host = c.split('/').next().unwrap_or_default();
    host.contains('.')
        && host.rsplit('.').next().is_some_and(|tld| {
            ["nl", "com", "org", "net", "eu", "be", "info", "gov"].contains(&tld)
        })
}

/// The counted word of a token's core, if it is one.
fn word(core: &str) -> Option<Word<'_>> {
    if core.is_empty() || is_url(core) {
        return None;
    }
    if core.starts_with('{') && core.ends_with('}') {
        return None;
    }
    let letters = core.chars().any(char::is_alphabetic);
    let digits = core.chars().any(|c| c.is_ascii_digit());
    match (letters, digits) {
        (false, false) => None,
        (false, true) => Some(Word {
            text: core,
            syllables: 1,
            number: true,
            name: false,
        }),
        (true, _) => Some(Word {
            text: core,
            syllables: syllables(core),
            number: false,
            name: false,
        }),
    }
}

/// A vowel's base letter, and whether it carries a diaeresis (which starts a new syllable:
/// `geüpload`, `ideeën`, `België`).
fn vowel(c: char) -> Option<(char, bool)> {
    Some(match c {
        'a' | 'á' | 'à' | 'â' => ('a', false),
        'e' | 'é' | 'è' | 'ê' => ('e', false),
        'i' | 'í' | 'ì' | 'î' => ('i', false),
        'o' | 'ó' | 'ò' | 'ô' => ('o', false),
        'u' | 'ú' | 'ù' | 'û' => ('u', false),
        'y' | 'ý' => ('y', false),
        'ä' => ('a', true),
        'ë' => ('e', true),
        'ï' => ('i', true),
        'ö' => ('o', true),
        'ü' => ('u', true),
        _ => return None,
    })
}

/// Dutch vowel sounds written with several letters: one syllable each. `eau` for the French
/// loans a municipality uses (`niveau`, `bureau`, `cadeau`); `oa` and `ai` for the English ones
/// (`download`, `uploaden`, `e-mail`, `trainen`), which outnumber `oase` and `koala` here.
const TRIGRAPHS: &[&str] = &["eeu", "ieu", "oei", "ooi", "aai", "eau"];
const DIGRAPHS: &[&str] = &[
    "aa", "ee", "oo", "uu", "ie", "oe", "eu", "ui", "ij", "ei", "ou", "au", "oa", "ai",
];

/// The number of vowel sounds in a run of vowel letters, longest match first: `ea` in
/// `theater` is two, `oei` in `moeilijk` one.
fn vowel_sounds(run: &str) -> usize {
    let mut n = 0;
    let mut rest = run;
    while !rest.is_empty() {
        let step = if TRIGRAPHS.iter().any(|t| rest.starts_with(t)) {
            3
        } else if DIGRAPHS.iter().any(|d| rest.starts_with(d)) {
            2
        } else {
            rest.chars().next().map_or(1, char::len_utf8)
        };
        rest = &rest[step.min(rest.len())..];
        n += 1;
    }
    n
}

/// Syllables of a Dutch word, counted as vowel sounds: `kwijtschelding` 3, `aanvragen` 3,
/// `geüpload` 3. At least one for any word with a letter.
pub fn syllables(word: &str) -> usize {
    let mut count = 0;
    let mut run = String::new();
    for c in word.chars().flat_map(char::to_lowercase) {
        match vowel(c) {
            Some((base, trema)) => {
                if trema {
                    count += vowel_sounds(&run);
                    run.clear();
                }
                run.push(base);
            }
            // `ij` is one vowel sound (`kwijt`, `rijen`).
            None if c == 'j' && run.ends_with('i') => run.push('j'),
            None => {
                count += vowel_sounds(&run);
                run.clear();
            }
        }
    }
    count += vowel_sounds(&run);
    count.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentences(text: &str) -> Vec<&str> {
        measure(text).sentences.iter().map(|s| s.text).collect()
    }

    fn words(text: &str) -> Vec<&str> {
        measure(text)
            .sentences
            .iter()
            .flat_map(|s| s.words.iter().map(|w| w.text))
            .collect()
    }

    #[test]
    fn syllables_of_dutch_words() {
        for (word, n) in [
            ("kwijtschelding", 3), // kwijt-schel-ding
            ("gemeentelijk", 4),   // ge-meen-te-lijk
            ("gemeentelijke", 5),  // ge-meen-te-lij-ke
            ("afvalstoffenheffing", 6),
            ("aanvragen", 3),
            ("ieder", 2),
            ("geüpload", 3),
            ("ideeën", 3),
            ("België", 3),
            ("coördinatie", 5),
            ("naïef", 2),
            ("moeilijk", 2),
            ("mooie", 2),
            ("nieuw", 1),
            ("milieustraat", 3),
            ("eeuwen", 2),
            ("uien", 2),
            ("rijen", 2),
            ("theater", 3),
            ("situatie", 4),
            ("financieel", 4),
            ("niveau", 2),
            ("download", 2),
            ("e-mailadres", 4),
            ("één", 1),
            ("café", 2),
            ("klantcontactmedewerkers", 7),
            ("omgevingsvergunning", 6),
            ("de", 1),
            ("'s", 1),
            ("B1-niveau", 2),
            ("AFVALKALENDER", 5),
        ] {
            assert_eq!(syllables(word), n, "{word}");
        }
    }

    #[test]
    fn sentences_end_at_stops_and_line_breaks() {
        assert_eq!(
            sentences("Dat kan. Kom je langs? Graag!\nTot dan"),
            ["Dat kan.", "Kom je langs?", "Graag!", "Tot dan"]
        );
        assert_eq!(
            sentences("Wacht even… Dan ben je klaar."),
            ["Wacht even…", "Dan ben je klaar."]
        );
    }

    #[test]
    fn abbreviations_times_and_amounts_do_not_end_a_sentence() {
        assert_eq!(
            sentences("Neem bijv. je paspoort mee, o.a. voor de balie. Kom om 7.30 uur."),
            [
                "Neem bijv. je paspoort mee, o.a. voor de balie.",
                "Kom om 7.30 uur."
            ]
        );
        assert_eq!(
            sentences("Zet je container vóór 7:30 uur buiten. Het kost € 12,50 per jaar."),
            [
                "Zet je container vóór 7:30 uur buiten.",
                "Het kost € 12,50 per jaar."
            ]
        );
        // `€` is no word; `12,50` is one.
        assert_eq!(words("Het kost € 12,50."), ["Het", "kost", "12,50"]);
        // A list ending in `enz.` ends the sentence when a capital follows.
        assert_eq!(
            sentences("Papier, glas enz. Breng het weg."),
            ["Papier, glas enz.", "Breng het weg."]
        );
        assert_eq!(
            sentences("1. Log in met DigiD.\n2. Vul het formulier in."),
            ["1. Log in met DigiD.", "2. Vul het formulier in."]
        );
    }

    #[test]
    fn urls_placeholders_and_emoji_are_not_words() {
        let text =
            "Hoi {name}! Kijk op https://www.terneuzen.nl/afval. Of mail info@terneuzen.nl 👍";
        assert_eq!(
            sentences(text),
            [
                "Hoi {name}!",
                "Kijk op https://www.terneuzen.nl/afval.",
                "Of mail info@terneuzen.nl 👍"
            ]
        );
        assert_eq!(words(text), ["Hoi", "Kijk", "op", "Of", "mail"]);
        // A dot inside a URL ends nothing; one after it does.
        assert_eq!(
            sentences("Zie terneuzen.nl/afval voor de dagen. Dank je."),
            ["Zie terneuzen.nl/afval voor de dagen.", "Dank je."]
        );
    }

    #[test]
    fn an_emoji_before_a_capital_ends_a_sentence() {
        assert_eq!(
            sentences("Kijk in de afvalkalender 🗓️ Vul je postcode in."),
            ["Kijk in de afvalkalender 🗓️", "Vul je postcode in."]
        );
        // Not before a lower-case word, nor attached to one.
        assert_eq!(
            sentences("Dat kan 🙂 gewoon online. Klaar👍 Echt."),
            ["Dat kan 🙂 gewoon online.", "Klaar👍", "Echt."]
        );
        // A text of emoji only has no sentence.
        assert!(measure("👍🙂").sentences.is_empty());
    }

    #[test]
    fn the_score_of_known_texts() {
        // 8 words of one syllable in 2 sentences: 206.835 - 0.93 * 4 - 77 * 1.
        let m = measure("De kat zit op de mat. Hij slaapt.");
        assert_eq!((m.words(), m.sentences.len(), m.syllables()), (8, 2, 8));
        assert!((m.score().unwrap() - 126.115).abs() < 1e-9);
        // 12 words, 21 syllables, 1 sentence: 206.835 - 0.93 * 12 - 77 * 21 / 12 = 60.925.
        // Je (1) kunt (1) je (1) paspoort (2) aanvragen (3) bij (1) de (1) balie (2) in (1)
        // het (1) gemeentehuis (4) Terneuzen (3).
        let m =
            measure("Je kunt je paspoort aanvragen bij de balie in het gemeentehuis Terneuzen.");
        assert_eq!((m.words(), m.syllables()), (12, 21));
        assert!((m.score().unwrap() - 60.925).abs() < 1e-9);
        assert_eq!(measure("").score(), None);
    }

    #[test]
    fn check_reports_each_kind_once() {
        let long = "Als u in aanmerking wilt komen voor kwijtschelding van de gemeentelijke \
            belastingen dient u een verzoek in te dienen bij de afdeling belastingen van de \
            gemeente. Daarna beoordelen de klantcontactmedewerkers en de \
            belastingdeskundigen van de invorderingsafdeling uw aanvraag zorgvuldig en \
            uitgebreid.";
        let f = check(long, |_| false);
        assert_eq!(f.len(), 3, "{f:?}");
        match &f[0] {
            Finding::LongSentence {
                words,
                sentence,
                more,
            } => {
                assert_eq!(*words, 26);
                assert!(sentence.starts_with("Als u in aanmerking"));
                assert_eq!(*more, 0);
            }
            other => panic!("{other:?}"),
        }
        match &f[1] {
            Finding::LongWord {
                word,
                syllables,
                more,
            } => {
                assert_eq!((word.as_str(), *syllables), ("klantcontactmedewerkers", 7));
                // belastingdeskundigen (7) is as long but comes later; invorderingsafdeling (7)
                // too: two more.
                assert_eq!(*more, 2);
            }
            other => panic!("{other:?}"),
        }
        match &f[2] {
            Finding::LowScore { score, sentence } => {
                assert!(*score < MIN_SCORE, "{score}");
                assert!(sentence.starts_with("Daarna"), "{sentence}");
            }
            other => panic!("{other:?}"),
        }
        assert!(f[0]
            .message()
            .starts_with("sentence of 26 words (B1: at most 20): `Als u in"));
        assert_eq!(
            f[1].message(),
            "long word `klantcontactmedewerkers`: 7 syllables (B1: at most 5) (and 2 more long words)"
        );
    }

    #[test]
    fn exempt_words_and_short_texts_are_not_flagged() {
        let text = "Vraag je omgevingsvergunning aan via het Omgevingsloket.";
        let f = check(text, |w| w == "omgevingsvergunning");
        assert!(f.is_empty(), "{f:?}");
        assert!(matches!(
            check(text, |_| false).as_slice(),
            [Finding::LongWord { syllables: 6, .. }]
        ));
        // A capital inside a sentence is a name; at the start of one it is not.
        assert_eq!(
            check("Regel eerst je Gezondheidsverklaring bij het CBR.", |_| {
                false
            }),
            []
        );
        assert!(matches!(
            check("Gezondheidsverklaringen regel je bij het CBR.", |_| false).as_slice(),
            [Finding::LongWord { syllables: 7, .. }]
        ));
        // One short sentence of hard words scores low but is too short to score.
        let short = "Belastingaanslag gemeentelijke heffingen.";
        assert!(measure(short).score().unwrap() < MIN_SCORE);
        assert!(!check(short, |_| true)
            .iter()
            .any(|f| matches!(f, Finding::LowScore { .. })));
    }

    #[test]
    fn plain_answers_pass() {
        let text = "Wanneer welke container aan de straat moet, zie je in de afvalkalender 🗓️ \
            Vul je postcode en huisnummer in. Zet je container vóór 7:30 uur aan de weg.";
        assert_eq!(check(text, |_| false), []);
    }
}
