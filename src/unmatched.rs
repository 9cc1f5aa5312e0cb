//! The questions the bot could not answer, grouped by similarity: the list editors write new FAQ
//! topics from.
//!
//! A question becomes a set of content words: [`normalize`]d, Dutch (and a few English) stop
//! words and words shorter than three letters dropped, and words with digits dropped (numbers,
//! dates and the last digits of masked personal data say nothing about the subject). A word
//! within the typing tolerance of one seen before ([`auto_tolerance`], [`bounded_distance`])
//! counts as that word, so `grofvul` and `grofvuil` are one word.
//!
//! Grouping is greedy and newest first: a question joins the group whose first (newest)
//! question it is most similar to, if the Jaccard similarity of their word sets reaches
//! [`THRESHOLD`]; otherwise it starts a group. Only groups that share a word with it are
//! compared (an index from word to groups), so a thousand questions group in milliseconds.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::store::HandedOver;
use crate::text::{auto_tolerance, bounded_distance, normalize};

/// The least Jaccard similarity of two questions' word sets to group them. At 0.4, two
/// questions sharing two of their four words group ("wanneer wordt oud papier opgehaald in
/// sluiskil" and "oud papier"), but one shared word out of three does not: "paspoort verlopen"
/// and "rijbewijs verlopen" are different topics (see the tests).
pub const THRESHOLD: f64 = 0.4;
/// Examples shown per group.
pub const EXAMPLES: usize = 5;
/// The group's further questions sent with it, for the editor who opens the group ("en nog 37
/// andere"): the newest of them.
pub const MORE: usize = 100;
/// Shared words shown per group.
pub const TERMS: usize = 5;

/// Words that say nothing about what a question is about; [`normalize`]d when first used, like
/// the questions.
#[rustfmt::skip]
const STOP_WORDS: &[&str] = &[
    // Articles, pronouns, question words.
    "de", "het", "een", "ik", "je", "jij", "jou", "jouw", "mij", "mijn", "wij", "ons", "onze",
    "jullie", "zij", "hij", "hem", "haar", "hun", "die", "dat", "deze", "dit", "der", "wat",
    "wie", "waar", "hoe", "waarom", "wanneer", "welke", "welk", "hoeveel", "hoelang", "iemand",
    "iets", "niets", "niks", "alles", "elke", "ieder", "mezelf", "zelf",
    // Common verbs.
    "ben", "bent", "zijn", "was", "waren", "wordt", "worden", "werd", "geweest", "heb", "hebt",
    "heeft", "hebben", "had", "hadden", "kan", "kun", "kunt", "kunnen", "kon", "konden", "moet",
    "moeten", "moest", "mag", "mogen", "mocht", "wil", "wilt", "willen", "wou", "wilde", "zou",
    "zouden", "zal", "zullen", "gaat", "gaan", "ging", "doe", "doet", "doen", "deed", "kom",
    "komt", "komen", "kwam", "krijg", "krijgt", "krijgen", "kreeg", "weet", "weten", "zie",
    "ziet", "zien", "graag", "staat", "staan", "laat", "laten", "denk", "vind",
    // Prepositions, conjunctions, adverbs.
    "van", "aan", "bij", "met", "voor", "naar", "over", "uit", "tot", "door", "als", "dan",
    "toch", "even", "heel", "hele", "helemaal", "erg", "veel", "meer", "nog", "ook", "wel",
    "niet", "geen", "maar", "want", "omdat", "dus", "daar", "hier", "er", "alleen", "altijd",
    "nooit", "soms", "vaak", "steeds", "weer", "alweer", "keer", "paar", "beetje", "ofzo",
    "enzo", "gewoon", "eigenlijk", "misschien", "echt", "zeker", "al", "nu", "straks",
    "morgen", "vandaag", "gisteren", "zo", "zoals", "tegen", "onder", "boven", "tussen",
    "zonder", "binnen", "buiten", "via", "per", "om", "op", "in", "te", "en", "of",
    // Greetings and politeness.
    "hallo", "hoi", "hee", "hey", "hei", "dag", "goedemorgen", "goedemiddag", "goedenavond",
    "middag", "avond", "beste", "groet", "groeten", "vriendelijke", "mvg", "gr", "dank",
    "danku", "dankje", "dankjewel", "bedankt", "alvast", "svp", "aub", "alstublieft",
    "alsjeblieft", "sorry", "vraag", "vraagje", "vragen", "ja", "nee", "oke", "okay", "ok",
    "gemeente",
    // English.
    "the", "and", "you", "your", "can", "how", "what", "where", "when", "why", "who", "for",
    "with", "about", "have", "has", "this", "that", "are", "please", "thanks", "thank",
    "hello", "hi", "need", "want", "get",
];

fn stop_words() -> &'static HashSet<String> {
    static SET: OnceLock<HashSet<String>> = OnceLock::new();
    SET.get_or_init(|| STOP_WORDS.iter().map(|w| normalize(w)).collect())
}

/// The content words of a question, in the order written, each once.
pub fn content_words(text: &str) -> Vec<String> {
    let stop = stop_words();
    let mut out: Vec<String> = Vec::new();
    for w in normalize(text).split(' ') {
        if w.chars().count() < 3
            || w.chars().any(|c| c.is_ascii_digit())
            || stop.contains(w)
            || out.iter().any(|o| o == w)
        {
            continue;
        }
        out.push(w.to_string());
    }
    out
}

/// A group of similar questions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub size: usize,
    pub latest_at: DateTime<Utc>,
    /// The words more than half of the group's questions share, most shared first.
    pub terms: Vec<String>,
    /// The newest questions of the group, newest first (at most [`EXAMPLES`]).
    pub examples: Vec<HandedOver>,
    /// The questions after those, newest first (at most [`MORE`]).
    pub more: Vec<HandedOver>,
}

/// The words seen so far, typos folded onto the word they are a typo of.
#[derive(Default)]
struct Vocabulary {
    ids: HashMap<String, usize>,
    /// Per word id: its spellings and how often each was seen.
    spellings: Vec<Vec<(String, usize)>>,
    /// Per word id: its first spelling (what typos are compared with).
    first: Vec<String>,
}

impl Vocabulary {
    /// The id of `word`, or of a known word it is a typo of, or a new id.
    fn id(&mut self, word: &str) -> usize {
        let id = match self.ids.get(word) {
            Some(&id) => id,
            None => {
                let found = self.first.iter().position(|known| {
                    let max = usize::from(auto_tolerance(known.len().min(word.len())));
                    max > 0 && bounded_distance(word.as_bytes(), known.as_bytes(), max).is_some()
                });
                let id = found.unwrap_or_else(|| {
                    self.first.push(word.to_string());
                    self.spellings.push(Vec::new());
                    self.first.len() - 1
                });
                self.ids.insert(word.to_string(), id);
                id
            }
        };
        let spellings = &mut self.spellings[id];
        match spellings.iter_mut().find(|(s, _)| s == word) {
            Some((_, n)) => *n += 1,
            None => spellings.push((word.to_string(), 1)),
        }
        id
    }

    /// The most frequent spelling of a word (the first seen on a tie).
    fn spelling(&self, id: usize) -> &str {
        let mut best: Option<&(String, usize)> = None;
        for s in &self.spellings[id] {
            if best.is_none_or(|b| s.1 > b.1) {
                best = Some(s);
            }
        }
        best.map(|(s, _)| s.as_str()).unwrap_or_default()
    }
}

/// Jaccard similarity of two sorted, deduplicated id sets.
fn jaccard(a: &[usize], b: &[usize]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut shared) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    shared as f64 / (a.len() + b.len() - shared) as f64
}

struct Building {
    /// The first (newest) question's words: what newcomers are compared with.
    leader: Vec<usize>,
    members: Vec<usize>,
    /// Per word id, in how many of the members it occurs.
    counts: HashMap<usize, usize>,
}

/// Groups handed-over questions by similarity; newest group first (ties: the bigger first).
/// Questions without content words (only greetings, emoji, numbers) are left out.
pub fn group(questions: &[HandedOver]) -> Vec<Group> {
    let mut order: Vec<usize> = (0..questions.len()).collect();
    order.sort_by(|&a, &b| {
        questions[b]
            .at
            .cmp(&questions[a].at)
            .then(questions[b].message_id.cmp(&questions[a].message_id))
    });
    let mut vocabulary = Vocabulary::default();
    let mut groups: Vec<Building> = Vec::new();
    // Word id -> the groups whose leader has it.
    let mut index: HashMap<usize, Vec<usize>> = HashMap::new();
    for q in order {
        let mut words: Vec<usize> = content_words(&questions[q].text)
            .iter()
            .map(|w| vocabulary.id(w))
            .collect();
        words.sort_unstable();
        words.dedup();
        if words.is_empty() {
            continue;
        }
        let mut best: Option<(f64, usize)> = None;
        let mut seen: HashSet<usize> = HashSet::new();
        for w in &words {
            for &g in index.get(w).into_iter().flatten() {
                if !seen.insert(g) {
                    continue;
                }
                let sim = jaccard(&words, &groups[g].leader);
                // On a tie the group made first (the newer one) wins.
                if sim >= THRESHOLD && best.is_none_or(|(b, bg)| sim > b || (sim == b && g < bg)) {
                    best = Some((sim, g));
                }
            }
        }
        let g = match best {
            Some((_, g)) => g,
            None => {
                for w in &words {
                    index.entry(*w).or_default().push(groups.len());
                }
                groups.push(Building {
                    leader: words.clone(),
                    members: Vec::new(),
                    counts: HashMap::new(),
                });
                groups.len() - 1
            }
        };
        let b = &mut groups[g];
        b.members.push(q);
        for w in &words {
            *b.counts.entry(*w).or_default() += 1;
        }
    }
    let mut out: Vec<Group> = groups
        .into_iter()
        .map(|b| finish(b, questions, &vocabulary))
        .collect();
    // Groups were made newest first; a stable sort keeps that order among equal times.
    out.sort_by(|a, b| b.latest_at.cmp(&a.latest_at).then(b.size.cmp(&a.size)));
    out
}

fn finish(b: Building, questions: &[HandedOver], vocabulary: &Vocabulary) -> Group {
    let size = b.members.len();
    // The words more than half of the questions share (all of them for a single question), most
    // shared first, then in the order of the newest question.
    let mut terms: Vec<(usize, usize, usize)> = b
        .leader
        .iter()
        .chain(b.counts.keys().filter(|w| !b.leader.contains(w)))
        .filter_map(|w| {
            let n = b.counts.get(w).copied().unwrap_or(0);
            (size == 1 || n * 2 > size).then_some((
                *w,
                n,
                first_position(&b, questions, vocabulary, *w),
            ))
        })
        .collect();
    terms.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)).then(a.0.cmp(&b.0)));
    let examples: Vec<HandedOver> = b
        .members
        .iter()
        .take(EXAMPLES)
        .map(|&q| questions[q].clone())
        .collect();
    let more: Vec<HandedOver> = b
        .members
        .iter()
        .skip(EXAMPLES)
        .take(MORE)
        .map(|&q| questions[q].clone())
        .collect();
    Group {
        size,
        latest_at: questions[b.members[0]].at,
        terms: terms
            .into_iter()
            .take(TERMS)
            .map(|(w, _, _)| vocabulary.spelling(w).to_string())
            .collect(),
        examples,
        more,
    }
}

/// Where a word first appears in the group's newest question that has it (for a stable,
/// readable order of the terms).
fn first_position(
    b: &Building,
    questions: &[HandedOver],
    vocabulary: &Vocabulary,
    w: usize,
) -> usize {
    for &q in &b.members {
        let words = content_words(&questions[q].text);
        if let Some(p) = words
            .iter()
            .position(|x| vocabulary.ids.get(x.as_str()) == Some(&w))
        {
            return p;
        }
    }
    usize::MAX
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// Questions `minutes` after a fixed hour, with message ids in the order given.
    fn questions(list: &[(i64, &str)]) -> Vec<HandedOver> {
        list.iter()
            .enumerate()
            .map(|(i, (minutes, text))| HandedOver {
                message_id: i as i64 + 1,
                conversation_id: 100 + i as i64,
                text: text.to_string(),
                at: Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap()
                    + chrono::Duration::minutes(*minutes),
                department: Some("afval".into()),
            })
            .collect()
    }

    fn texts(g: &Group) -> Vec<&str> {
        g.examples.iter().map(|e| e.text.as_str()).collect()
    }

    #[test]
    fn content_words_drop_stop_words_short_words_and_numbers() {
        assert_eq!(
            content_words("Hoi! Wanneer wordt het OUD PAPIER opgehaald in Sluiskil?? 😀"),
            ["oud", "papier", "opgehaald", "sluiskil"]
        );
        assert_eq!(
            content_words("mijn bsn is ******782 en ik ben op 12-03 verhuisd"),
            ["bsn", "verhuisd"]
        );
        assert!(content_words("Hallo, goedemorgen! 👋").is_empty());
        // `y` becomes `ij`, as in the stop list: "hey" is a greeting either way.
        assert!(content_words("Hey").is_empty());
    }

    #[test]
    fn the_threshold_groups_a_shared_subject_but_not_one_shared_word() {
        let mut v = Vocabulary::default();
        let mut ids = |t: &str| {
            let mut w: Vec<usize> = content_words(t).iter().map(|w| v.id(w)).collect();
            w.sort_unstable();
            w
        };
        let a = ids("wanneer wordt het oud papier opgehaald in sluiskil");
        let b = ids("wanneer komt oud papier");
        assert!(jaccard(&a, &b) >= THRESHOLD, "{}", jaccard(&a, &b));
        let c = ids("mijn paspoort is verlopen");
        let d = ids("mijn rijbewijs is verlopen");
        assert!(jaccard(&c, &d) < THRESHOLD, "{}", jaccard(&c, &d));
    }

    #[test]
    fn similar_questions_group_together_and_different_ones_do_not() {
        let qs = questions(&[
            (0, "Waar kan ik mijn grofvuil kwijt?"),
            (5, "Mijn paspoort is verlopen, wat nu"),
            (10, "grofvul kwijt, hoe doe ik dat"),
            (20, "Kan ik een parkeervergunning aanvragen voor mijn bus?"),
            (30, "Hoe kan ik grofvuil kwijt bij de milieustraat?"),
            (40, "mijn rijbewijs is verlopen"),
            (
                50,
                "mijn buurman zijn hond blaft de hele nacht, wat kan ik doen",
            ),
            (60, "hond van de buren blaft steeds"),
        ]);
        let groups = group(&qs);
        let sizes: Vec<usize> = groups.iter().map(|g| g.size).collect();
        assert_eq!(sizes, [2, 1, 3, 1, 1], "{groups:#?}");
        assert_eq!(groups[0].terms, ["hond", "blaft"]);
        let groups = &groups[1..];
        let grofvuil = &groups[1];
        assert_eq!(
            texts(grofvuil),
            [
                "Hoe kan ik grofvuil kwijt bij de milieustraat?",
                "grofvul kwijt, hoe doe ik dat",
                "Waar kan ik mijn grofvuil kwijt?",
            ]
        );
        // The typo counts as the word; the spelling most use is shown.
        assert_eq!(grofvuil.terms, ["grofvuil", "kwijt"]);
        assert_eq!(grofvuil.latest_at, qs[4].at);
        assert_eq!(texts(&groups[0]), ["mijn rijbewijs is verlopen"]);
        assert_eq!(groups[0].terms, ["rijbewijs", "verlopen"]);
        assert_eq!(
            texts(&groups[2]),
            ["Kan ik een parkeervergunning aanvragen voor mijn bus?"]
        );
        assert_eq!(texts(&groups[3]), ["Mijn paspoort is verlopen, wat nu"]);
    }

    #[test]
    fn groups_come_newest_first_whatever_the_input_order() {
        let mut qs = questions(&[
            (0, "afvalpas kwijt"),
            (1, "parkeervergunning aanvragen"),
            (2, "afvalpas kwijtgeraakt kwijt"),
        ]);
        qs.reverse();
        let groups = group(&qs);
        assert_eq!(groups.len(), 2, "{groups:#?}");
        assert_eq!(groups[0].size, 2);
        assert_eq!(
            texts(&groups[0]),
            ["afvalpas kwijtgeraakt kwijt", "afvalpas kwijt"]
        );
        assert_eq!(groups[0].terms, ["afvalpas", "kwijt"]);
        assert_eq!(texts(&groups[1]), ["parkeervergunning aanvragen"]);
    }

    #[test]
    fn examples_are_capped_and_empty_questions_left_out() {
        let list: Vec<(i64, &str)> = (0..8).map(|i| (i, "afvalpas kwijt")).collect();
        let mut qs = questions(&list);
        qs.extend(questions(&[(100, "Hallo!! 😀"), (101, "******782")]));
        let groups = group(&qs);
        assert_eq!(groups.len(), 1, "{groups:#?}");
        assert_eq!(groups[0].size, 8);
        assert_eq!(groups[0].examples.len(), EXAMPLES);
        assert!(groups[0].examples.windows(2).all(|w| w[0].at >= w[1].at));
        // The rest of the group comes with it, so the page can open it.
        assert_eq!(groups[0].more.len(), 8 - EXAMPLES);
        assert!(groups[0].examples.last().unwrap().at >= groups[0].more[0].at);
        let mut ids: Vec<i64> = groups[0]
            .examples
            .iter()
            .chain(&groups[0].more)
            .map(|q| q.message_id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 8, "every question once");
        assert!(group(&[]).is_empty());
    }

    #[test]
    fn a_thousand_questions_group_quickly() {
        let subjects = [
            "grofvuil ophalen",
            "paspoort verlengen",
            "parkeervergunning bewoners",
            "lantaarnpaal kapot",
            "bijstand uitkering",
        ];
        let places = [
            "sluiskil",
            "axel",
            "zaamslag",
            "hoek",
            "philippine",
            "westdorpe",
            "koewacht",
        ];
        let texts: Vec<String> = (0..1000)
            .map(|i| format!("{} in {}", subjects[i % 5], places[i % 7]))
            .collect();
        let list: Vec<(i64, &str)> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| (i as i64, t.as_str()))
            .collect();
        let started = std::time::Instant::now();
        let groups = group(&questions(&list));
        // The subject is two of a question's three words: the place does not split a group.
        let sizes: Vec<usize> = groups.iter().map(|g| g.size).collect();
        assert_eq!(sizes, [200; 5]);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
