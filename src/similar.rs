//! Which topics a message resembles, beyond its literal keywords: the second signal of the
//! ranking ([`crate::ranking`]), beside the keyword matcher ([`crate::matcher`]).
//!
//! Every topic is a small document: its title, keywords, phrases and synonyms, its `examples:`
//! (questions as residents ask them) and, counting less, its answers. Words are reduced to
//! their Dutch stem (Snowball), so `verhuisd`, `verhuizen` and `verhuizing` are one word;
//! function words are dropped; a compound the flows do not know is split into parts they do
//! know (`vuilniszak` → `vuilnis` + `zak`); a word one letter off a known word counts as it,
//! a little less. Each word weighs by how rare it is across the topics (inverse document
//! frequency, `ln(topics / topics with the word)`: a word every topic has weighs nothing), so what a resident asks for (`kwijtschelding`) outweighs the words every topic
//! shares (`aanvragen`, `gemeente`). A topic's score is the sum of the weights of the message's
//! words it contains, plus a bonus for the example nearest to the whole message.
//!
//! Everything is built once per flow set; scoring a message costs a hash lookup per word (the
//! stemmer runs only for words the flows never use) and one pass over the topics.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use rust_stemmers::{Algorithm, Stemmer};

use crate::matcher::FnvHasher;
use crate::text::{bounded_distance, normalize};

type Fnv = BuildHasherDefault<FnvHasher>;

/// How much a word counts by where the topic has it.
const FIELD_TERMS: f32 = 1.0;
const FIELD_EXAMPLE: f32 = 0.7;
const FIELD_ANSWER: f32 = 0.3;
/// A word found only with one typo counts this much.
const TYPO: f32 = 0.7;
/// A word found only as part of a compound counts this much.
const PART: f32 = 0.5;
/// The nearest example's weighted overlap (0..=1) times this is added to the score.
const EXAMPLE_BONUS: f32 = 2.0;
/// The heaviest words a resemblance names (traces are stored with each decision).
const MAX_WORDS: usize = 6;
/// Words shorter than this are not looked up with a typo.
const MIN_TYPO_LEN: usize = 5;
/// Parts of a compound are at least this long.
const MIN_PART_LEN: usize = 3;

/// Words that say nothing about the topic (Dutch and English), normalised.
const STOP_WORDS: &[&str] = &[
    // Dutch
    "aan",
    "af",
    "al",
    "alle",
    "als",
    "alsjeblieft",
    "altijd",
    "ben",
    "bij",
    "dan",
    "dank",
    "dat",
    "de",
    "deze",
    "die",
    "dit",
    "doe",
    "doen",
    "door",
    "dus",
    "een",
    "eens",
    "en",
    "er",
    "even",
    "ff",
    "ga",
    "gaat",
    "gaan",
    "geen",
    "graag",
    "had",
    "heb",
    "hebben",
    "heeft",
    "hem",
    "het",
    "hier",
    "hij",
    "hoe",
    "hoi",
    "hallo",
    "hoor",
    "ik",
    "in",
    "is",
    "ja",
    "je",
    "jij",
    "jou",
    "jouw",
    "jullie",
    "kan",
    "kun",
    "kunnen",
    "kunt",
    "maar",
    "me",
    "met",
    "mij",
    "mijn",
    "mn",
    "moet",
    "moeten",
    "mag",
    "mogen",
    "na",
    "naar",
    "nee",
    "niet",
    "nog",
    "nu",
    "of",
    "om",
    "ons",
    "onze",
    "ook",
    "op",
    "over",
    "u",
    "uw",
    "van",
    "voor",
    "waar",
    "wanneer",
    "wat",
    "we",
    "welk",
    "welke",
    "wel",
    "wie",
    "wij",
    "wil",
    "wilde",
    "willen",
    "word",
    "wordt",
    "worden",
    "zal",
    "ze",
    "zij",
    "zijn",
    "zo",
    "zou",
    "te",
    "tot",
    "toe",
    "uit",
    "was",
    "waren",
    "weet",
    "weten",
    "iemand",
    "iets",
    "echt",
    "beetje",
    "wnr",
    "hoelang",
    "hoeveel",
    "daar",
    "dus",
    "omdat",
    "want",
    "toch",
    "zelf",
    "andere",
    "ander",
    "meer",
    "heel",
    "erg",
    "goed",
    "gewoon",
    "alvast",
    "groetjes",
    "groet",
    "mvg",
    "gr",
    "gemeente",
    "terneuzen",
    "vraag",
    "vragen",
    "vraagje",
    "elk",
    "elke",
    "ieder",
    "iedere",
    "alles",
    "niks",
    "niets",
    "maak",
    "maakt",
    "maken",
    "gemaakt",
    "werkt",
    "werken",
    "nodig",
    "krijg",
    "krijgt",
    "krijgen",
    "gekregen",
    "kom",
    "komt",
    "komen",
    "zit",
    "zitten",
    "sta",
    "staat",
    "staan",
    "zie",
    "ziet",
    "zien",
    "laat",
    "laten",
    "zeg",
    "zegt",
    "zeggen",
    "vind",
    "vindt",
    "vinden",
    "houd",
    "houdt",
    "houden",
    "doet",
    "gedaan",
    "jullie",
    "jij",
    "ons",
    "hun",
    "hen",
    "mensen",
    "iemand",
    "dingen",
    "ding",
    "keer",
    "nou",
    "zeker",
    "misschien",
    "eigenlijk",
    "ongeveer",
    "precies",
    "snel",
    "lang",
    "alleen",
    "ok",
    "oke",
    "okay",
    "okee",
    "oki",
    "thx",
    "top",
    // The commonest function words of the other languages residents write in (normalised:
    // `nasıl` → `nasil`, `się` → `sie`), so that "how" in Turkish points to no topic.
    "nasil",
    "ne",
    "bir",
    "ve",
    "mi",
    "mu",
    "icin",
    "bu",
    "ben",
    "benim",
    "var",
    "yok",
    "nerede",
    "zaman",
    "merhaba",
    "jak",
    "co",
    "czy",
    "nie",
    "sie",
    "na",
    "mam",
    "moje",
    "moj",
    "gdzie",
    "kiedy",
    "dzien",
    "dobry",
    "як",
    "що",
    "чи",
    "не",
    "в",
    "на",
    "і",
    "з",
    "до",
    "мені",
    "мій",
    "де",
    "коли",
    "привіт",
    "كيف",
    "ماذا",
    "هل",
    "في",
    "على",
    "من",
    "إلى",
    "انا",
    "أنا",
    "متى",
    "أين",
    "مرحبا",
    // English
    "a",
    "an",
    "the",
    "i",
    "my",
    "me",
    "is",
    "are",
    "am",
    "do",
    "does",
    "can",
    "could",
    "how",
    "what",
    "when",
    "where",
    "which",
    "who",
    "to",
    "of",
    "for",
    "in",
    "on",
    "at",
    "and",
    "or",
    "it",
    "this",
    "that",
    "with",
    "have",
    "has",
    "need",
    "want",
    "please",
    "hi",
    "hello",
    "you",
    "your",
    "be",
    "get",
    "would",
    "should",
    "there",
    "from",
    "about",
    "municipality",
    "make",
    "do",
    "we",
    "our",
    "they",
    "them",
    "if",
    "so",
    "just",
    "some",
    "any",
    "all",
    "will",
    "was",
];

/// One topic as a document, in the words editors wrote.
pub struct Doc<'a> {
    pub title: Option<&'a str>,
    /// Keywords, phrases and synonyms.
    pub terms: &'a [String],
    pub examples: &'a [String],
    pub answers: &'a [String],
}

/// A word of the message that counted for a topic.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Word {
    /// As the message wrote it.
    pub word: String,
    /// The topic's word it counted as, when not the same (a stem, a compound's part, a typo).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_word: Option<String>,
    pub weight: f32,
}

/// How much a message resembles one topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Resemblance {
    pub target: u32,
    pub score: f32,
    pub words: Vec<Word>,
    /// The index (into the topic's examples) of the nearest example, and its overlap (0..=1).
    pub example: Option<(u32, f32)>,
}

struct Example {
    target: u32,
    /// Its index among its topic's examples.
    nth: u32,
    /// Its distinct stems.
    stems: Vec<u32>,
    /// The sum of their weights.
    mass: f32,
}

/// The words of every topic, weighed. Built with [`Index::build`].
pub struct Index {
    stemmer: Stemmer,
    /// Stem → id.
    stems: HashMap<String, u32, Fnv>,
    /// The stems, by id (for traces).
    stem_text: Vec<String>,
    /// A normalised word the flows use → its stem id (spares the stemmer).
    surface: HashMap<String, u32, Fnv>,
    stop: HashMap<&'static str, (), Fnv>,
    /// Per stem: its weight (inverse document frequency).
    idf: Vec<f32>,
    /// Per stem: the topics that have it, with the field weight.
    postings: Vec<Vec<(u32, f32)>>,
    /// Per stem: the examples that have it.
    in_examples: Vec<Vec<u32>>,
    examples: Vec<Example>,
    /// Stems of at least [`MIN_TYPO_LEN`] letters under the hash of each one-letter deletion.
    typos: HashMap<u64, Vec<u32>, Fnv>,
    targets: usize,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("similar::Index")
            .field("stems", &self.stem_text.len())
            .field("examples", &self.examples.len())
            .finish()
    }
}

/// How a message word was resolved to a stem.
#[derive(Clone, Copy, PartialEq)]
enum Via {
    Stem,
    Part,
    Typo,
}

impl Index {
    /// Builds the index of `docs` (one per target, in target order).
    pub fn build(docs: &[Doc<'_>]) -> Index {
        let mut ix = Index {
            stemmer: Stemmer::create(Algorithm::Dutch),
            stems: HashMap::default(),
            stem_text: Vec::new(),
            surface: HashMap::default(),
            stop: STOP_WORDS.iter().map(|w| (*w, ())).collect(),
            idf: Vec::new(),
            postings: Vec::new(),
            in_examples: Vec::new(),
            examples: Vec::new(),
            typos: HashMap::default(),
            targets: docs.len(),
        };
        for (t, doc) in docs.iter().enumerate() {
            let t = t as u32;
            let add = |ix: &mut Index, text: &str, field: f32| {
                for id in ix.learn(text) {
                    let p = &mut ix.postings[id as usize];
                    match p.iter_mut().find(|(pt, _)| *pt == t) {
                        Some((_, w)) => *w = w.max(field),
                        None => p.push((t, field)),
                    }
                }
            };
            if let Some(title) = doc.title {
                add(&mut ix, title, FIELD_TERMS);
            }
            for s in doc.terms {
                add(&mut ix, s, FIELD_TERMS);
            }
            for (nth, s) in doc.examples.iter().enumerate() {
                add(&mut ix, s, FIELD_EXAMPLE);
                let mut stems = ix.learn(s);
                stems.sort_unstable();
                stems.dedup();
                ix.examples.push(Example {
                    target: t,
                    nth: nth as u32,
                    stems,
                    mass: 0.0,
                });
            }
            for s in doc.answers {
                add(&mut ix, s, FIELD_ANSWER);
            }
        }
        let n = docs.len().max(1) as f32;
        ix.idf = ix
            .postings
            .iter()
            .map(|p| {
                // How many topics say it in their own words (answers explain, they do not ask).
                let df = p.iter().filter(|(_, f)| *f > FIELD_ANSWER).count().max(1);
                (n / df as f32).ln().max(0.0)
            })
            .collect();
        ix.in_examples = vec![Vec::new(); ix.stem_text.len()];
        for (e, ex) in ix.examples.iter_mut().enumerate() {
            ex.mass = ex.stems.iter().map(|&s| ix.idf[s as usize]).sum();
            for &s in &ex.stems {
                ix.in_examples[s as usize].push(e as u32);
            }
        }
        for (id, stem) in ix.stem_text.iter().enumerate() {
            if stem.len() >= MIN_TYPO_LEN {
                for h in deletions(stem.as_bytes()) {
                    let ids = ix.typos.entry(h).or_default();
                    if ids.last() != Some(&(id as u32)) {
                        ids.push(id as u32);
                    }
                }
            }
        }
        ix
    }

    /// The stems of `text`, added to the vocabulary.
    fn learn(&mut self, text: &str) -> Vec<u32> {
        let norm = normalize(text);
        let mut out = Vec::new();
        for w in norm.split(' ') {
            if !self.content(w) {
                continue;
            }
            let stem = self.stem(w);
            let id = match self.stems.get(&stem) {
                Some(&id) => id,
                None => {
                    let id = self.stem_text.len() as u32;
                    self.stems.insert(stem.clone(), id);
                    self.stem_text.push(stem);
                    self.postings.push(Vec::new());
                    id
                }
            };
            self.surface.entry(w.to_string()).or_insert(id);
            if !out.contains(&id) {
                out.push(id);
            }
        }
        out
    }

    /// The Snowball stem, with a final `z`/`v` written `s`/`f` (`verhuiz-` as in `verhuisd`).
    fn stem(&self, w: &str) -> String {
        let mut stem = self.stemmer.stem(w).into_owned();
        if stem.len() > 3 {
            if stem.ends_with('z') {
                stem.pop();
                stem.push('s');
            } else if stem.ends_with('v') {
                stem.pop();
                stem.push('f');
            }
        }
        stem
    }

    /// A known stem of a verb form Snowball leaves alone: `verhuisd`, `gebeld`, `geleegd`.
    fn verb_form(&self, w: &str) -> Option<u32> {
        let bare = w.strip_prefix("ge").filter(|b| b.len() >= 4).unwrap_or(w);
        let bare = bare
            .strip_suffix('d')
            .or_else(|| bare.strip_suffix('t'))
            .filter(|b| b.len() >= 4)?;
        self.surface
            .get(bare)
            .or_else(|| self.stems.get(&self.stem(bare)))
            .copied()
    }

    fn content(&self, w: &str) -> bool {
        w.len() >= 2 && !self.stop.contains_key(w) && !w.bytes().all(|b| b.is_ascii_digit())
    }

    /// The known stem a message word stands for, if any.
    fn resolve(&self, w: &str, out: &mut Vec<(u32, Via)>) {
        if let Some(&id) = self.surface.get(w) {
            out.push((id, Via::Stem));
            return;
        }
        let stem = self.stem(w);
        if let Some(&id) = self.stems.get(&stem).or(self.verb_form(w).as_ref()) {
            out.push((id, Via::Stem));
            return;
        }
        // A compound of two known words, with or without a linking s or e(n).
        let b = w.as_bytes();
        if b.len() >= 2 * MIN_PART_LEN && w.is_ascii() {
            for i in (MIN_PART_LEN..=b.len() - MIN_PART_LEN).rev() {
                let (head, tail) = (&w[..i], &w[i..]);
                let Some(t) = self.known(tail) else { continue };
                let h = self.known(head).or_else(|| {
                    head.strip_suffix('s')
                        .or_else(|| head.strip_suffix("en"))
                        .or_else(|| head.strip_suffix('e'))
                        .filter(|h| h.len() >= MIN_PART_LEN)
                        .and_then(|h| self.known(h))
                });
                if let Some(h) = h {
                    out.push((h, Via::Part));
                    out.push((t, Via::Part));
                    return;
                }
            }
        }
        // One letter off a known word.
        if b.len() >= MIN_TYPO_LEN && b.len() <= 32 {
            let stem = stem.as_bytes();
            let mut best: Option<u32> = None;
            for h in deletions(stem) {
                if let Some(ids) = self.typos.get(&h) {
                    for &id in ids {
                        let cand = self.stem_text[id as usize].as_bytes();
                        if bounded_distance(stem, cand, 1).is_some()
                            && best.is_none_or(|b| self.idf[id as usize] > self.idf[b as usize])
                        {
                            best = Some(id);
                        }
                    }
                }
            }
            if let Some(id) = best {
                out.push((id, Via::Typo));
            }
        }
    }

    fn known(&self, part: &str) -> Option<u32> {
        if part.len() < MIN_PART_LEN || self.stop.contains_key(part) {
            return None;
        }
        self.surface
            .get(part)
            .or_else(|| self.stems.get(&self.stem(part)))
            .copied()
    }

    /// How much the normalised message `norm` resembles each target; appends those it
    /// resembles at all, in target order.
    pub fn score(&self, norm: &str, out: &mut Vec<Resemblance>) {
        if self.targets == 0 {
            return;
        }
        // (stem, how much it counts, the message's word)
        let mut words: Vec<(u32, f32, &str)> = Vec::new();
        let mut found = Vec::new();
        for w in norm.split(' ') {
            if !self.content(w) {
                continue;
            }
            found.clear();
            self.resolve(w, &mut found);
            for &(id, via) in &found {
                let factor = match via {
                    Via::Stem => 1.0,
                    Via::Part => PART,
                    Via::Typo => TYPO,
                };
                match words.iter_mut().find(|(s, ..)| *s == id) {
                    Some((_, f, _)) => *f = f.max(factor),
                    None => words.push((id, factor, w)),
                }
            }
        }
        if words.is_empty() {
            return;
        }
        let mut scores = vec![0.0f32; self.targets];
        let mut touched: Vec<u32> = Vec::new();
        for &(id, factor, _) in &words {
            let idf = self.idf[id as usize] * factor;
            for &(t, field) in &self.postings[id as usize] {
                if scores[t as usize] == 0.0 {
                    touched.push(t);
                }
                scores[t as usize] += idf * field;
            }
        }
        // The nearest example of each topic: weighted overlap with the message.
        let mut overlap: HashMap<u32, f32, Fnv> = HashMap::default();
        let message_mass: f32 = words
            .iter()
            .map(|&(id, f, _)| self.idf[id as usize] * f)
            .sum();
        for &(id, factor, _) in &words {
            for &e in &self.in_examples[id as usize] {
                *overlap.entry(e).or_default() += self.idf[id as usize] * factor;
            }
        }
        let mut nearest: Vec<Option<(u32, f32)>> = vec![None; self.targets];
        for (e, common) in overlap {
            let ex = &self.examples[e as usize];
            let union = message_mass + ex.mass - common;
            let sim = if union > 0.0 { common / union } else { 0.0 };
            let slot = &mut nearest[ex.target as usize];
            if slot.is_none_or(|(_, s)| sim > s) {
                *slot = Some((ex.nth, sim));
            }
        }
        touched.sort_unstable();
        for t in touched {
            let example = nearest[t as usize];
            let bonus = example.map_or(0.0, |(_, s)| s * EXAMPLE_BONUS);
            let mut ws: Vec<Word> = words
                .iter()
                .filter_map(|&(id, factor, w)| {
                    let field = self.postings[id as usize]
                        .iter()
                        .find(|(pt, _)| *pt == t)?
                        .1;
                    let stem = &self.stem_text[id as usize];
                    Some(Word {
                        word: w.to_string(),
                        as_word: (stem != w).then(|| stem.clone()),
                        weight: self.idf[id as usize] * factor * field,
                    })
                })
                .collect();
            ws.sort_by(|a, b| b.weight.total_cmp(&a.weight));
            ws.truncate(MAX_WORDS);
            out.push(Resemblance {
                target: t,
                score: scores[t as usize] + bonus,
                words: ws,
                example,
            });
        }
    }

    /// The number of distinct stems, for summaries.
    pub fn stem_count(&self) -> usize {
        self.stem_text.len()
    }
}

/// The hashes of `word` with each single byte deleted, and of `word` itself.
fn deletions(word: &[u8]) -> impl Iterator<Item = u64> + '_ {
    (0..=word.len()).map(move |skip| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for (i, &c) in word.iter().enumerate() {
            if i != skip {
                h ^= u64::from(c);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        h
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> Index {
        let t0 = vec!["verhuizing".to_string(), "nieuw adres".to_string()];
        let e0 = vec!["ik ga verhuizen naar een andere straat".to_string()];
        let a0 = vec!["Geef je verhuizing door via de website.".to_string()];
        let t1 = vec!["kwijtschelding".to_string()];
        let e1 = vec!["ik kan de belasting niet betalen".to_string()];
        let a1 = vec![
            "Kun je de gemeentelijke belastingen niet betalen? Vraag kwijtschelding aan."
                .to_string(),
        ];
        let t2 = vec!["afvalkalender".to_string(), "vuilnis".to_string()];
        let e2 = vec!["wanneer wordt de container geleegd".to_string()];
        let a2 = vec!["Zet je container aan de straat op de ophaaldag.".to_string()];
        Index::build(&[
            Doc {
                title: Some("Verhuizing doorgeven"),
                terms: &t0,
                examples: &e0,
                answers: &a0,
            },
            Doc {
                title: Some("Kwijtschelding"),
                terms: &t1,
                examples: &e1,
                answers: &a1,
            },
            Doc {
                title: Some("Afval"),
                terms: &t2,
                examples: &e2,
                answers: &a2,
            },
        ])
    }

    fn best(ix: &Index, text: &str) -> Option<(u32, Resemblance)> {
        let mut out = Vec::new();
        ix.score(&normalize(text), &mut out);
        out.into_iter()
            .max_by(|a, b| a.score.total_cmp(&b.score))
            .map(|r| (r.target, r))
    }

    #[test]
    fn stems_reach_the_topic_without_its_keyword() {
        let ix = index();
        // "verhuisd" and "verhuizen" share the stem; no keyword is written that way.
        assert_eq!(best(&ix, "wij zijn verhuisd").unwrap().0, 0);
        assert_eq!(
            best(&ix, "ik kan mijn belastingen niet betalen").unwrap().0,
            1
        );
    }

    #[test]
    fn compounds_are_split_into_known_words() {
        let ix = index();
        let (t, r) = best(&ix, "vuilniscontainer niet geleegd").unwrap();
        assert_eq!(t, 2);
        assert!(
            r.words.iter().any(|w| w.word == "vuilniscontainer"),
            "{r:?}"
        );
    }

    #[test]
    fn a_typo_of_a_known_word_counts_less() {
        let ix = index();
        let (t, r) = best(&ix, "kwijtscelding").unwrap();
        assert_eq!(t, 1);
        let exact = best(&ix, "kwijtschelding").unwrap().1;
        assert!(r.score < exact.score, "{} < {}", r.score, exact.score);
    }

    #[test]
    fn rare_words_outweigh_shared_ones() {
        let ix = index();
        // "straat" is in two topics, "container" in one.
        let mut out = Vec::new();
        ix.score(&normalize("container straat"), &mut out);
        let by = |t: u32| out.iter().find(|r| r.target == t).map_or(0.0, |r| r.score);
        assert!(by(2) > by(0), "{out:?}");
    }

    #[test]
    fn the_nearest_example_is_named() {
        let ix = index();
        let (t, r) = best(&ix, "wanneer wordt mijn container geleegd?").unwrap();
        assert_eq!(t, 2);
        let (nth, sim) = r.example.unwrap();
        assert_eq!(nth, 0);
        assert!(sim > 0.9, "{sim}");
    }

    #[test]
    fn function_words_and_unknown_words_count_for_nothing() {
        let ix = index();
        assert!(best(&ix, "ik wil het graag weten").is_none());
        assert!(best(&ix, "xyzzy plugh").is_none());
    }
}
