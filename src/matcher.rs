//! Finding which topics (or routing rules) a message speaks of, fast.
//!
//! All terms of all targets (keywords, synonyms, phrases, exclusions) are normalised and go into
//! one Aho-Corasick automaton, scanned once per message. Typos are found with a deletion index
//! (the SymSpell idea): every term is stored under the hashes of itself with up to its tolerance
//! of letters deleted, and a message word looks up its own deletions, so a lookup costs a few
//! dozen hash probes however many terms there are. Regular expressions go into one `RegexSet`;
//! only those that need look-around or back-references use fancy-regex, with a small backtrack
//! limit so that a catastrophic pattern fails its match (and says so) instead of stalling the bot.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{RegexSet, RegexSetBuilder};

use crate::text::bounded_distance;

/// Steps fancy-regex may take on one match before giving up (its default is 1,000,000, about
/// 13 ms here; editors' patterns never need more than a few thousand).
pub const BACKTRACK_LIMIT: usize = 20_000;
/// Terms shorter than this only match whole words; longer ones also match at the start or end
/// of a longer word (Dutch compounds).
const MIN_PARTIAL_LEN: usize = 4;
/// Words longer than this are not looked up for typos (nobody's keyword is that long).
const MAX_FUZZY_LEN: usize = 32;

/// How a term points to its target.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum TermKind {
    Keyword,
    Synonym,
    Phrase,
    Pattern,
    Exclude,
}

/// How a term was found in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchHow {
    /// As a whole word or word sequence.
    Exact,
    /// At the start or end of a longer word (a compound).
    Partial,
    /// Two message words written together form the term (`id kaart` for `idkaart`).
    Joined,
    /// With typos: the number of edits.
    Typo(u8),
}

#[derive(Debug, Clone, Copy)]
struct TermRef {
    target: u32,
    kind: TermKind,
    tolerance: u8,
}

/// One term of one target found in a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub target: u32,
    pub kind: TermKind,
    /// The term (or pattern) as normalised.
    pub term: String,
    /// What the message said there (the word with the typo, for instance).
    pub found: String,
    pub how: MatchHow,
}

/// Collects the terms of many targets, then builds a [`Matcher`].
#[derive(Default)]
pub struct MatcherBuilder {
    terms: Vec<String>,
    refs: Vec<Vec<TermRef>>,
    index: HashMap<String, u32>,
    patterns: Vec<(u32, String)>,
}

impl MatcherBuilder {
    /// Adds a term (already normalised; empty terms are ignored).
    pub fn term(&mut self, target: u32, kind: TermKind, normalized: &str, tolerance: u8) {
        if normalized.is_empty() {
            return;
        }
        let id = match self.index.get(normalized) {
            Some(&id) => id,
            None => {
                let id = self.terms.len() as u32;
                self.terms.push(normalized.to_string());
                self.refs.push(Vec::new());
                self.index.insert(normalized.to_string(), id);
                id
            }
        };
        let tolerance = if normalized.contains(' ') {
            0
        } else {
            tolerance
        };
        self.refs[id as usize].push(TermRef {
            target,
            kind,
            tolerance,
        });
    }

    /// Adds a regular expression (already validated by the loader).
    pub fn pattern(&mut self, target: u32, pattern: &str) {
        self.patterns.push((target, pattern.to_string()));
    }

    /// Builds the automaton, the typo index and the regex set.
    pub fn build(self) -> Result<Matcher, String> {
        let ac = if self.terms.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .build(&self.terms)
                    .map_err(|e| format!("cannot build the keyword automaton: {e}"))?,
            )
        };
        let mut fuzzy: HashMap<u64, Vec<u32>, Fnv> = HashMap::default();
        let mut max_tolerance = 0u8;
        let mut single_words: HashMap<String, u32, Fnv> = HashMap::default();
        for (id, term) in self.terms.iter().enumerate() {
            if term.contains(' ') {
                continue;
            }
            single_words.insert(term.clone(), id as u32);
            let tol = self.refs[id]
                .iter()
                .filter(|r| r.kind != TermKind::Exclude)
                .map(|r| r.tolerance)
                .max()
                .unwrap_or(0)
                .min(2);
            if tol == 0 || term.len() > MAX_FUZZY_LEN {
                continue;
            }
            max_tolerance = max_tolerance.max(tol);
            for_each_deletion(term.as_bytes(), tol, |h| {
                let ids = fuzzy.entry(h).or_default();
                if ids.last() != Some(&(id as u32)) {
                    ids.push(id as u32);
                }
            });
        }
        let mut plain = Vec::new();
        let mut plain_targets = Vec::new();
        let mut fancy = Vec::new();
        for (target, p) in &self.patterns {
            if regex::Regex::new(p).is_ok() {
                plain.push(p.clone());
                plain_targets.push((*target, p.clone()));
            } else {
                let re = fancy_regex::RegexBuilder::new(p)
                    .backtrack_limit(BACKTRACK_LIMIT)
                    .build()
                    .map_err(|e| format!("pattern `{p}`: {e}"))?;
                fancy.push((*target, p.clone(), re));
            }
        }
        let regex = if plain.is_empty() {
            None
        } else {
            Some(
                RegexSetBuilder::new(&plain)
                    .size_limit(256 * 1024 * 1024)
                    .dfa_size_limit(64 * 1024 * 1024)
                    .build()
                    .map_err(|e| format!("cannot build the pattern set: {e}"))?,
            )
        };
        Ok(Matcher {
            ac,
            terms: self.terms,
            refs: self.refs,
            single_words,
            fuzzy,
            max_tolerance,
            regex,
            regex_targets: plain_targets,
            fancy,
        })
    }
}

/// Finds terms and patterns of many targets in a normalised message.
pub struct Matcher {
    ac: Option<AhoCorasick>,
    terms: Vec<String>,
    refs: Vec<Vec<TermRef>>,
    single_words: HashMap<String, u32, Fnv>,
    fuzzy: HashMap<u64, Vec<u32>, Fnv>,
    max_tolerance: u8,
    regex: Option<RegexSet>,
    regex_targets: Vec<(u32, String)>,
    fancy: Vec<(u32, String, fancy_regex::Regex)>,
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matcher")
            .field("terms", &self.terms.len())
            .field("patterns", &(self.regex_targets.len() + self.fancy.len()))
            .finish()
    }
}

impl Matcher {
    /// Appends every hit to `hits`: terms are looked up in `norm` (the message after
    /// [`crate::text::normalize`]), patterns run on `plain` (after
    /// [`crate::text::normalize_for_patterns`]). Patterns that gave up are named in `gave_up`.
    pub fn find(
        &self,
        norm: &str,
        plain: &str,
        hits: &mut Vec<Hit>,
        gave_up: &mut Vec<(u32, String)>,
    ) {
        let bytes = norm.as_bytes();
        let mut whole_word_terms: Vec<u32> = Vec::new();
        if let Some(ac) = &self.ac {
            for m in ac.find_overlapping_iter(norm) {
                let (s, e) = (m.start(), m.end());
                let start_ok = s == 0 || bytes[s - 1] == b' ';
                let end_ok = e == bytes.len() || bytes[e] == b' ';
                let id = m.pattern().as_u32();
                let term = &self.terms[id as usize];
                let how = if start_ok && end_ok {
                    whole_word_terms.push(id);
                    MatchHow::Exact
                } else if (start_ok || end_ok) && term.len() >= MIN_PARTIAL_LEN {
                    MatchHow::Partial
                } else {
                    continue;
                };
                let found = if how == MatchHow::Exact {
                    term.clone()
                } else {
                    word_around(norm, s, e).to_string()
                };
                self.push_refs(id, how, &found, hits);
            }
        }
        // Words written apart that a term writes together, and typos.
        let mut prev: Option<&str> = None;
        for word in norm.split(' ') {
            if let Some(p) = prev {
                if p.len() + word.len() <= MAX_FUZZY_LEN {
                    let joined = format!("{p}{word}");
                    if let Some(&id) = self.single_words.get(joined.as_str()) {
                        let found = format!("{p} {word}");
                        self.push_refs(id, MatchHow::Joined, &found, hits);
                    }
                }
            }
            prev = Some(word);
            if self.max_tolerance == 0 || word.len() < 4 || word.len() > MAX_FUZZY_LEN {
                continue;
            }
            // A word that is itself a term (not just an exclusion) means that term, not a typo.
            let is_term = self.single_words.get(word).is_some_and(|&id| {
                self.refs[id as usize]
                    .iter()
                    .any(|r| r.kind != TermKind::Exclude)
            });
            if is_term {
                continue;
            }
            let mut seen: Vec<u32> = Vec::new();
            for_each_deletion(word.as_bytes(), self.max_tolerance, |h| {
                if let Some(ids) = self.fuzzy.get(&h) {
                    for &id in ids {
                        if !seen.contains(&id) {
                            seen.push(id);
                        }
                    }
                }
            });
            for id in seen {
                if whole_word_terms.contains(&id) {
                    continue;
                }
                let term = &self.terms[id as usize];
                let Some(max) = self.refs[id as usize].iter().map(|r| r.tolerance).max() else {
                    continue;
                };
                if let Some(d) = bounded_distance(word.as_bytes(), term.as_bytes(), max as usize) {
                    if d == 0 {
                        continue;
                    }
                    for r in &self.refs[id as usize] {
                        if usize::from(r.tolerance) >= d && r.kind != TermKind::Exclude {
                            hits.push(Hit {
                                target: r.target,
                                kind: r.kind,
                                term: term.clone(),
                                found: word.to_string(),
                                how: MatchHow::Typo(d as u8),
                            });
                        }
                    }
                }
            }
        }
        if let Some(set) = &self.regex {
            for i in set.matches(plain).iter() {
                let (target, p) = &self.regex_targets[i];
                hits.push(Hit {
                    target: *target,
                    kind: TermKind::Pattern,
                    term: p.clone(),
                    found: String::new(),
                    how: MatchHow::Exact,
                });
            }
        }
        for (target, p, re) in &self.fancy {
            match re.is_match(plain) {
                Ok(true) => hits.push(Hit {
                    target: *target,
                    kind: TermKind::Pattern,
                    term: p.clone(),
                    found: String::new(),
                    how: MatchHow::Exact,
                }),
                Ok(false) => {}
                Err(_) => gave_up.push((*target, p.clone())),
            }
        }
    }

    fn push_refs(&self, id: u32, how: MatchHow, found: &str, hits: &mut Vec<Hit>) {
        for r in &self.refs[id as usize] {
            hits.push(Hit {
                target: r.target,
                kind: r.kind,
                term: self.terms[id as usize].clone(),
                found: found.to_string(),
                how,
            });
        }
    }

    /// The number of distinct terms (for `triage check`'s summary).
    pub fn term_count(&self) -> usize {
        self.terms.len()
    }
}

/// The whole word of `norm` that contains the byte range `s..e`.
fn word_around(norm: &str, s: usize, e: usize) -> &str {
    let start = norm[..s].rfind(' ').map_or(0, |i| i + 1);
    let end = norm[e..].find(' ').map_or(norm.len(), |i| e + i);
    &norm[start..end]
}

/// Calls `f` with the hash of `word` and of every variant with 1..=`max` bytes deleted.
fn for_each_deletion(word: &[u8], max: u8, mut f: impl FnMut(u64)) {
    f(hash_skipping(word, usize::MAX, usize::MAX));
    if max >= 1 {
        for i in 0..word.len() {
            f(hash_skipping(word, i, usize::MAX));
            if max >= 2 {
                for j in i + 1..word.len() {
                    f(hash_skipping(word, i, j));
                }
            }
        }
    }
}

fn hash_skipping(word: &[u8], a: usize, b: usize) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, &c) in word.iter().enumerate() {
        if i != a && i != b {
            h ^= u64::from(c);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// FNV-1a as a `Hasher` for the engine's small-key maps (keys are not attacker-chosen at build
/// time, and lookups are bounded per message).
#[derive(Default, Clone, Copy)]
pub struct FnvHasher(u64);

impl Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
    fn write_u64(&mut self, n: u64) {
        // Keys of the typo index are already hashes.
        self.0 ^= n;
    }
}

type Fnv = BuildHasherDefault<FnvHasher>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{normalize, normalize_for_patterns};

    fn matcher() -> Matcher {
        let mut b = MatcherBuilder::default();
        b.term(0, TermKind::Keyword, "paspoort", 1);
        b.term(0, TermKind::Phrase, "nieuw paspoort", 0);
        b.term(1, TermKind::Keyword, "idkaart", 1);
        b.term(2, TermKind::Keyword, "afval", 1);
        b.term(2, TermKind::Keyword, "vuil", 0);
        b.term(3, TermKind::Keyword, "rijbewijs", 2);
        b.term(3, TermKind::Exclude, "vrachtwagen", 0);
        b.term(7, TermKind::Keyword, "kwijtschelding", 2);
        b.term(8, TermKind::Exclude, "kwijtscheiding", 0);
        b.term(4, TermKind::Keyword, "trouw", 0);
        b.pattern(5, r"\bwoz\b");
        b.pattern(6, r"(a+)+b\1");
        b.build().unwrap()
    }

    fn find(m: &Matcher, text: &str) -> Vec<(u32, TermKind, MatchHow)> {
        let mut hits = Vec::new();
        let mut gave_up = Vec::new();
        m.find(
            &normalize(text),
            &normalize_for_patterns(text),
            &mut hits,
            &mut gave_up,
        );
        hits.into_iter()
            .map(|h| (h.target, h.kind, h.how))
            .collect()
    }

    #[test]
    fn finds_exact_partial_joined_and_typos() {
        let m = matcher();
        let h = find(&m, "Ik wil een NIEUW paspoort!");
        assert!(h.contains(&(0, TermKind::Keyword, MatchHow::Exact)));
        assert!(h.contains(&(0, TermKind::Phrase, MatchHow::Exact)));
        assert_eq!(
            find(&m, "paspoortaanvraag"),
            vec![(0, TermKind::Keyword, MatchHow::Partial)]
        );
        assert_eq!(
            find(&m, "huisvuil"),
            vec![(2, TermKind::Keyword, MatchHow::Partial)]
        );
        assert_eq!(
            find(&m, "mijn id-kaart"),
            vec![(1, TermKind::Keyword, MatchHow::Joined)]
        );
        assert_eq!(
            find(&m, "pasport"),
            vec![(0, TermKind::Keyword, MatchHow::Typo(1))]
        );
        assert_eq!(
            find(&m, "RYBEWIS"),
            vec![(3, TermKind::Keyword, MatchHow::Typo(1))]
        );
        // Inside a word, short terms do not match; "trouw" is not in "vertrouwen".
        assert!(find(&m, "vertrouwen").is_empty());
        assert!(find(&m, "gevuild").is_empty());
        assert_eq!(
            find(&m, "de woz waarde"),
            vec![(5, TermKind::Pattern, MatchHow::Exact)]
        );
        // Another topic's exclusion word does not hide a typo of this topic's keyword.
        assert_eq!(
            find(&m, "kwijtscheiding"),
            vec![
                (8, TermKind::Exclude, MatchHow::Exact),
                (7, TermKind::Keyword, MatchHow::Typo(1))
            ]
        );
        // Too many typos for the word's tolerance.
        assert!(find(&m, "psaproot").is_empty());
    }

    #[test]
    fn catastrophic_patterns_give_up_instead_of_stalling() {
        let m = matcher();
        let mut hits = Vec::new();
        let mut gave_up = Vec::new();
        let evil = format!("{}c", "a".repeat(5000));
        m.find(&evil, &evil, &mut hits, &mut gave_up);
        assert_eq!(gave_up.len(), 1, "{gave_up:?}");
        assert!(hits.iter().all(|h| h.target != 6));
    }
}
