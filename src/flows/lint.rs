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

/// Personal data in what editors wrote: the privacy rules' detectors run over every topic's
/// title, answers and examples (and their translations). Every version of the files is kept
/// (the editors' history, outside the retention and the erasure of residents' data), so a real
/// resident's number pasted into an example would be kept for good. In an example, which is a
/// resident's question, it is an error: write a made-up one (a BSN that fails the 11-test is not
/// found); in an answer or title a warning, since a municipality's own account number may
/// belong there. The message shows the value masked.
pub fn personal_data(flows: &FlowSet) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for t in &flows.topics {
        let mut texts: Vec<(String, &str, bool)> = Vec::new();
        if let Some(title) = &t.title {
            texts.push(("the title".into(), title, false));
        }
        for (i, a) in t.answers.iter().enumerate() {
            texts.push((format!("answer {}", i + 1), a, false));
        }
        for (i, e) in t.examples.iter().enumerate() {
            texts.push((format!("example {}", i + 1), e, true));
        }
        for tr in &t.translations {
            for (i, a) in tr.answers.iter().enumerate() {
                texts.push((format!("answer {} in `{}`", i + 1, tr.language), a, false));
            }
        }
        for (what, text, example) in texts {
            let Some(f) = flows.privacy.scan(text).into_iter().next() else {
                continue;
            };
            let at = Pos {
                line: t.origin.line,
                column: t.origin.column,
            };
            let message = format!(
                "topic `{}`: {what} holds what looks like personal data, a {} ({})",
                t.id, f.label, f.masked
            );
            let help = "every version of the files is kept; write made-up data that the privacy rules do not find (a BSN that fails the 11-test), or leave it out";
            let d = if example {
                Diagnostic::error(&t.origin.file, at, message)
            } else {
                Diagnostic::warning(&t.origin.file, at, message)
            };
            out.push(d.with_help(Some(help.into())));
        }
    }
    out
}
