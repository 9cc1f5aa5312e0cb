//! Ranking: which topic (or routing rule) a message points to, best first, and why the winner
//! won. Pure. It sits beneath both of its users, the engine ([`crate::engine`], which answers
//! with the winner) and the flows' lint ([`crate::flows`], which warns about topics that never
//! win on their own words), so neither of those imports the other.

use serde::{Deserialize, Serialize};

use crate::matcher::{Hit, MatchHow, Matcher, TermKind};
use crate::similar;

/// A message normalised twice: for terms (`y` → `ij`) and for editors' patterns.
#[derive(Clone, Copy)]
pub struct Text<'a> {
    pub norm: &'a str,
    pub plain: &'a str,
}

/// One term that matched, in the trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchedTerm {
    pub kind: TermKind,
    pub term: String,
    pub found: String,
    pub how: MatchHow,
    pub weight: f32,
}

/// A topic (or routing rule) that matched something.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Topic id, or for routing the department id.
    pub id: String,
    pub score: f32,
    pub matched: Vec<MatchedTerm>,
    /// The exclusion word that ruled it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_by: Option<String>,
    /// What the message has in common with the topic's words and examples (part of `score`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similar: Option<Similarity>,
}

/// The resemblance part of a candidate's score ([`crate::similar`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Similarity {
    pub score: f32,
    /// The message's words that carried it, heaviest first.
    pub words: Vec<similar::Word>,
    /// The topic's example nearest to the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
    /// How much of the two they share, weighted (0 to 1).
    #[serde(default)]
    pub overlap: f32,
}

impl Candidate {
    /// Whether anything pointed to it and nothing ruled it out.
    pub fn in_running(&self) -> bool {
        self.excluded_by.is_none() && (!self.matched.is_empty() || self.similar.is_some())
    }
}

/// How much the resemblance counts beside the matched terms.
pub const SIMILAR_WEIGHT: f32 = 1.0;

/// Why the winner beat the runner-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WinReason {
    HigherScore,
    MoreTerms,
    LongerTerm,
    HigherPriority,
    DefinedEarlier,
}

/// What [`rank`] found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ranking {
    /// Every target that matched a term, best first; ruled-out ones last.
    pub candidates: Vec<Candidate>,
    /// The index of the winning target, if one is not ruled out.
    pub winner: Option<u32>,
    /// Why `candidates[0]` beat `candidates[1]`, when both are in the running.
    pub win: Option<WinReason>,
    /// Editors' patterns that took too long (target index, pattern): no match.
    pub too_slow: Vec<(u32, String)>,
}

/// The weight of one matched term: keyword 2, synonym 1.5, phrase and pattern 3; ×0.8 inside a
/// compound or with one typo, ×0.6 with two.
fn weight(kind: TermKind, how: MatchHow) -> f32 {
    let base = match kind {
        TermKind::Keyword => 2.0,
        TermKind::Synonym => 1.5,
        TermKind::Phrase | TermKind::Pattern => 3.0,
        TermKind::Exclude => 0.0,
    };
    base * match how {
        MatchHow::Exact | MatchHow::Joined => 1.0,
        MatchHow::Partial => 0.8,
        MatchHow::Typo(1) => 0.8,
        MatchHow::Typo(_) => 0.6,
    }
}

/// The second signal of [`rank`]: the targets' resemblance index, and the text of a target's
/// n-th example.
pub struct Resemblance<'a> {
    pub index: &'a similar::Index,
    pub example: &'a dyn Fn(u32, u32) -> String,
}

/// Scores every target of `matcher` the message touches; `id` names a target, `priority` is its
/// editor-given priority.
///
/// Score: the sum over distinct matched terms of their [`weight`], plus [`SIMILAR_WEIGHT`] times
/// the target's resemblance to the message when `resemblance` is given. Ties go to more distinct
/// terms, then the longest term, then the higher priority, then the earlier target.
pub fn rank(
    matcher: &Matcher,
    resemblance: Option<Resemblance<'_>>,
    text: Text<'_>,
    id: impl Fn(u32) -> String,
    priority: impl Fn(u32) -> i32,
) -> Ranking {
    let mut hits: Vec<Hit> = Vec::new();
    let mut gave_up = Vec::new();
    matcher.find(text.norm, text.plain, &mut hits, &mut gave_up);
    let too_slow = gave_up
        .into_iter()
        .map(|(t, p)| (t, p.to_string()))
        .collect();
    // (target, candidate, longest term length)
    let mut acc: Vec<(u32, Candidate, usize)> = Vec::new();
    for h in hits {
        let pos = match acc.iter().position(|(t, ..)| *t == h.target) {
            Some(p) => p,
            None => {
                acc.push((
                    h.target,
                    Candidate {
                        id: id(h.target),
                        score: 0.0,
                        matched: Vec::new(),
                        excluded_by: None,
                        similar: None,
                    },
                    0,
                ));
                acc.len() - 1
            }
        };
        let (_, c, longest) = &mut acc[pos];
        if h.kind == TermKind::Exclude {
            if c.excluded_by.is_none() {
                c.excluded_by = Some(h.term);
            }
            continue;
        }
        let w = weight(h.kind, h.how);
        match c
            .matched
            .iter_mut()
            .find(|m| m.kind == h.kind && m.term == h.term)
        {
            Some(m) if m.weight >= w => {}
            Some(m) => {
                m.weight = w;
                m.how = h.how;
                m.found = h.found;
            }
            None => {
                *longest = (*longest).max(h.term.len());
                c.matched.push(MatchedTerm {
                    kind: h.kind,
                    term: h.term,
                    found: h.found,
                    how: h.how,
                    weight: w,
                });
            }
        }
    }
    if let Some(r) = resemblance {
        let mut found = Vec::new();
        r.index.score(text.norm, &mut found);
        for f in found {
            let sim = Similarity {
                score: f.score * SIMILAR_WEIGHT,
                words: f.words,
                example: f.example.map(|(nth, _)| (r.example)(f.target, nth)),
                overlap: f.example.map_or(0.0, |(_, o)| o),
            };
            match acc.iter_mut().find(|(t, ..)| *t == f.target) {
                Some((_, c, _)) => c.similar = Some(sim),
                None => acc.push((
                    f.target,
                    Candidate {
                        id: id(f.target),
                        score: 0.0,
                        matched: Vec::new(),
                        excluded_by: None,
                        similar: Some(sim),
                    },
                    0,
                )),
            }
        }
    }
    // An exclusion word alone is not a candidate: nothing pointed to that target.
    acc.retain(|(_, c, _)| !c.matched.is_empty() || c.similar.is_some());
    for (_, c, _) in &mut acc {
        c.score = c.matched.iter().map(|m| m.weight).sum::<f32>()
            + c.similar.as_ref().map_or(0.0, |s| s.score);
    }
    acc.sort_by(|(ta, a, la), (tb, b, lb)| {
        let excluded = |c: &Candidate| !c.in_running();
        excluded(a)
            .cmp(&excluded(b))
            .then(b.score.total_cmp(&a.score))
            .then(b.matched.len().cmp(&a.matched.len()))
            .then(lb.cmp(la))
            .then(priority(*tb).cmp(&priority(*ta)))
            .then(ta.cmp(tb))
    });
    let winner = acc
        .first()
        .filter(|(_, c, _)| c.in_running())
        .map(|(t, ..)| *t);
    let win = match (winner, acc.first(), acc.get(1)) {
        (Some(_), Some(w), Some(second)) if second.1.in_running() => {
            Some(if w.1.score > second.1.score {
                WinReason::HigherScore
            } else if w.1.matched.len() > second.1.matched.len() {
                WinReason::MoreTerms
            } else if w.2 > second.2 {
                WinReason::LongerTerm
            } else if priority(w.0) > priority(second.0) {
                WinReason::HigherPriority
            } else {
                WinReason::DefinedEarlier
            })
        }
        _ => None,
    };
    Ranking {
        candidates: acc.into_iter().map(|(_, c, _)| c).collect(),
        winner,
        win,
        too_slow,
    }
}
