//! Lints over a compiled [`FlowSet`]: problems no single file shows, found by ranking the
//! editors' own sample questions ([`crate::ranking`]).

use super::FlowSet;
use crate::ranking::{rank, Text};
use crate::source::{Diagnostic, Pos};
use crate::text::{normalize, normalize_for_patterns};

/// Warnings for topics that never win on their own keywords, phrases and synonyms: an earlier or
/// stronger topic shadows them.
pub fn shadowed_topics(flows: &FlowSet) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (i, t) in flows.topics.iter().enumerate() {
        if t.samples.is_empty() {
            continue;
        }
        let mut winners: Vec<u32> = Vec::new();
        let mut wins = false;
        for s in &t.samples {
            let (norm, plain) = (normalize(s), normalize_for_patterns(s));
            let w = rank(
                &flows.topic_matcher,
                None,
                Text {
                    norm: &norm,
                    plain: &plain,
                },
                |t| flows.topics[t as usize].id.clone(),
                |t| flows.topics[t as usize].priority,
            )
            .winner;
            match w {
                Some(w) if w as usize == i => {
                    wins = true;
                    break;
                }
                Some(w) => winners.push(w),
                None => {}
            }
        }
        if wins || winners.is_empty() {
            continue;
        }
        winners.sort_unstable();
        let most = winners
            .iter()
            .max_by_key(|w| winners.iter().filter(|x| x == w).count())
            .copied()
            .unwrap_or(winners[0]);
        let other = &flows.topics[most as usize];
        out.push(
            Diagnostic::warning(
                &t.origin.file,
                Pos {
                    line: t.origin.line,
                    column: t.origin.column,
                },
                format!(
                    "topic `{}` is shadowed: none of its own keywords picks it, `{}` wins instead",
                    t.id, other.id
                ),
            )
            .with_help(Some(format!(
                "give `{}` a distinguishing keyword or phrase, a higher `priority`, or add `exclude` words to `{}` ({})",
                t.id, other.id, other.origin
            ))),
        );
    }
    out
}
