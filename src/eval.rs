//! Measuring the flows against labelled questions: which topic each question should reach (or
//! that only a person can answer it), what the flows do with it, and a report of accuracy per
//! topic, which topics are confused with which, and every question the flows get wrong.
//!
//! Pure apart from reading the question files: each question is decided as the first message
//! of a fresh conversation at one fixed time, so a report depends on the flows and the
//! questions only. `triage eval` prints it.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::engine::{self, ConversationState, Message, Outcome};
use crate::flows::FlowSet;

/// When `triage eval` asks by default: a Wednesday morning, the office open.
pub const DEFAULT_AT: &str = "2026-11-25T10:00:00+01:00";

/// What a labelled question should get: `expect: <topic id>`, or `expect: person`.
pub const PERSON: &str = "person";

/// A file of labelled questions.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionFile {
    pub questions: Vec<Question>,
}

/// One labelled question.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// What the resident wrote.
    pub text: String,
    /// The topic that should answer it, or [`PERSON`].
    pub expect: String,
    /// The language, when not Dutch (`en`, `pl`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Where the question was drawn from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// What the flows did with a question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "topics")]
pub enum Got {
    /// Answered with this topic.
    Topic(String),
    /// Asked which of these topics the resident means.
    Clarify(Vec<String>),
    /// Handed to a person.
    Person,
    /// Anything else (a privacy redirect, no words).
    Other(String),
}

impl Got {
    fn of(d: &engine::Decision) -> Got {
        match (d.outcome, &d.topic) {
            (Outcome::Faq, Some(t)) => Got::Topic(t.clone()),
            (Outcome::Clarify, _) => Got::Clarify(d.options.clone()),
            (Outcome::Handover, _) => Got::Person,
            (o, _) => Got::Other(o.as_str().to_string()),
        }
    }

    fn label(&self) -> String {
        match self {
            Got::Topic(t) => t.clone(),
            Got::Clarify(ts) => format!("asked: {}", ts.join(" / ")),
            Got::Person => PERSON.to_string(),
            Got::Other(o) => o.clone(),
        }
    }
}

/// How a question came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The right topic answered, or a person question went to a person.
    Right,
    /// The bot asked back, and the right topic (or a person) was among the choices.
    AskedRight,
    /// The bot asked back without offering the right topic.
    AskedWrong,
    /// Another topic answered: a wrong answer.
    Wrong,
    /// An FAQ question went to a person: a wait, not a wrong answer.
    Missed,
}

/// One question's result.
#[derive(Debug, Clone, Serialize)]
pub struct Outcomes {
    pub text: String,
    pub expect: String,
    pub got: Got,
    pub verdict: Verdict,
    /// The winning topic's strongest reasons, as the trace names them.
    pub why: String,
    /// The best topics' scores, best first (the ranking's, before any question back).
    pub scores: Vec<(String, f32)>,
}

/// The counts of one topic (or of [`PERSON`]).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    pub questions: usize,
    pub right: usize,
    pub asked_right: usize,
    pub asked_wrong: usize,
    pub wrong: usize,
    pub missed: usize,
}

impl Tally {
    fn add(&mut self, v: Verdict) {
        self.questions += 1;
        match v {
            Verdict::Right => self.right += 1,
            Verdict::AskedRight => self.asked_right += 1,
            Verdict::AskedWrong => self.asked_wrong += 1,
            Verdict::Wrong => self.wrong += 1,
            Verdict::Missed => self.missed += 1,
        }
    }

    /// The share answered right at once.
    pub fn share_right(&self) -> f64 {
        if self.questions == 0 {
            return 0.0;
        }
        self.right as f64 / self.questions as f64
    }
}

/// The whole report.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Per expected topic (and [`PERSON`]), in id order.
    pub per_topic: BTreeMap<String, Tally>,
    /// Questions for an FAQ topic, all together.
    pub faq: Tally,
    /// Questions only a person can answer.
    pub person: Tally,
    /// `(expected, got)` → how often, for every answer that was not right.
    pub confused: BTreeMap<(String, String), usize>,
    /// Every question not answered right at once.
    pub misses: Vec<Outcomes>,
    /// Every question, in order.
    pub all: Vec<Outcomes>,
}

impl Report {
    /// The report as JSON (the confusion pairs as a list).
    pub fn to_json(&self) -> serde_json::Value {
        let confused: Vec<_> = self
            .confused
            .iter()
            .map(|((e, g), n)| serde_json::json!({"expected": e, "got": g, "count": n}))
            .collect();
        serde_json::json!({
            "per_topic": self.per_topic,
            "faq": self.faq,
            "person": self.person,
            "wrong_answers": self.wrong_answers(),
            "confused": confused,
            "misses": self.misses,
            "all": self.all,
        })
    }

    /// Wrong answers: an FAQ question answered by another topic, and a person question
    /// answered by an FAQ.
    pub fn wrong_answers(&self) -> usize {
        self.faq.wrong + self.person.wrong
    }
}

/// Reads a question file (YAML).
pub fn read(path: &Path) -> Result<Vec<Question>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: QuestionFile = serde_norway::from_slice(&bytes)
        .map_err(|e| format!("{}: {e}", crate::source::display_name(path)))?;
    Ok(file.questions)
}

/// Checks that every question expects a topic the flows have (or a person).
pub fn check(flows: &FlowSet, questions: &[Question]) -> Result<(), String> {
    let unknown: Vec<String> = questions
        .iter()
        .filter(|q| q.expect != PERSON && flows.topic_index(&q.expect).is_none())
        .map(|q| {
            let ids = flows.topics.iter().map(|t| t.id.as_str());
            let hint = crate::text::did_you_mean(&q.expect, ids)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            format!("`{}` expects unknown topic `{}`{hint}", q.text, q.expect)
        })
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(unknown.join("\n"))
    }
}

/// The questions agents labelled in the inbox (masked text, the topic that should have answered,
/// `None` for "needs a new topic") as questions: a new topic's question is one only a person can
/// answer today. Returns those whose topic the flows know, and the ids of the topics they no
/// longer have (each once).
pub fn from_labels(
    flows: &FlowSet,
    labelled: Vec<(String, Option<String>)>,
) -> (Vec<Question>, Vec<String>) {
    let mut known = Vec::new();
    let mut gone: Vec<String> = Vec::new();
    for (text, topic) in labelled {
        let expect = match topic {
            Some(t) if flows.topic_index(&t).is_none() => {
                if !gone.contains(&t) {
                    gone.push(t);
                }
                continue;
            }
            Some(t) => t,
            None => PERSON.to_string(),
        };
        known.push(Question {
            text,
            expect,
            language: None,
            source: Some("label".into()),
        });
    }
    (known, gone)
}

/// Decides every question at `at` and tallies the results.
pub fn evaluate(flows: &FlowSet, questions: &[Question], at: DateTime<Utc>) -> Report {
    let mut report = Report::default();
    for q in questions {
        let d = engine::decide(
            flows,
            &ConversationState::default(),
            &Message::text(&q.text),
            at,
        );
        let got = Got::of(&d);
        let person = q.expect == PERSON;
        let verdict = match (&got, person) {
            (Got::Topic(t), false) if *t == q.expect => Verdict::Right,
            (Got::Topic(_), _) => Verdict::Wrong,
            (Got::Person, true) => Verdict::Right,
            (Got::Person | Got::Other(_), false) => Verdict::Missed,
            (Got::Other(_), true) => Verdict::Right,
            (Got::Clarify(ts), false) if ts.contains(&q.expect) => Verdict::AskedRight,
            // Every question back offers a person too.
            (Got::Clarify(_), true) => Verdict::AskedRight,
            (Got::Clarify(_), false) => Verdict::AskedWrong,
        };
        report
            .per_topic
            .entry(q.expect.clone())
            .or_default()
            .add(verdict);
        if person {
            report.person.add(verdict);
        } else {
            report.faq.add(verdict);
        }
        let outcome = Outcomes {
            text: q.text.clone(),
            expect: q.expect.clone(),
            why: why(&d),
            scores: d
                .trace
                .candidates
                .iter()
                .filter(|c| c.in_running())
                .take(3)
                .map(|c| (c.id.clone(), c.score))
                .collect(),
            got: got.clone(),
            verdict,
        };
        if verdict != Verdict::Right {
            *report
                .confused
                .entry((q.expect.clone(), got.label()))
                .or_default() += 1;
            report.misses.push(outcome.clone());
        }
        report.all.push(outcome);
    }
    report
}

/// The winner's matched words, or the nearest example, in a few words.
fn why(d: &engine::Decision) -> String {
    let Some(c) = d.trace.candidates.first() else {
        return "nothing matched".into();
    };
    let terms: Vec<String> = c
        .matched
        .iter()
        .take(4)
        .map(|m| {
            if m.found.is_empty() || m.found == m.term {
                m.term.clone()
            } else {
                format!("{}~{}", m.found, m.term)
            }
        })
        .collect();
    format!("{} {:.1}: {}", c.id, c.score, terms.join(", "))
}

fn pct(n: usize, of: usize) -> String {
    if of == 0 {
        return "-".into();
    }
    format!("{:.1}%", 100.0 * n as f64 / of as f64)
}

/// The report as text: a table per topic, the totals, the confusions, the misses.
pub fn render(report: &Report, verbose: bool) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<26} {:>5} {:>6} {:>7} {:>6} {:>6} {:>7}",
        "expected", "asked", "right", "asked+", "asked-", "wrong", "person"
    );
    let mut row = |name: &str, t: &Tally| {
        let _ = writeln!(
            out,
            "{:<26} {:>5} {:>6} {:>7} {:>6} {:>6} {:>7}",
            name,
            t.questions,
            pct(t.right, t.questions),
            t.asked_right,
            t.asked_wrong,
            t.wrong,
            if name == PERSON { 0 } else { t.missed }
        );
    };
    for (id, t) in &report.per_topic {
        row(id, t);
    }
    let _ = writeln!(out);
    let f = &report.faq;
    let _ = writeln!(
        out,
        "FAQ questions: {} — right at once {} ({}), right after a question back {} more ({} together), \
wrong topic {}, to a person {}",
        f.questions,
        f.right,
        pct(f.right, f.questions),
        f.asked_right,
        pct(f.right + f.asked_right, f.questions),
        f.wrong,
        f.missed + f.asked_wrong
    );
    let p = &report.person;
    let _ = writeln!(
        out,
        "Person questions: {} — to a person {} ({}), asked back {}, answered by an FAQ {}",
        p.questions,
        p.right,
        pct(p.right, p.questions),
        p.asked_right,
        p.wrong
    );
    let _ = writeln!(out, "Wrong answers: {}", report.wrong_answers());
    if !report.confused.is_empty() {
        let mut pairs: Vec<_> = report.confused.iter().collect();
        pairs.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let _ = writeln!(out, "\nConfused (expected → got):");
        for ((e, g), n) in pairs {
            let _ = writeln!(out, "  {n:>3}  {e} → {g}");
        }
    }
    if verbose && !report.misses.is_empty() {
        let _ = writeln!(out, "\nNot right at once:");
        for m in &report.misses {
            let _ = writeln!(
                out,
                "  [{}] {:?}\n        expected {}, got {} ({})",
                verdict_word(m.verdict),
                m.text,
                m.expect,
                m.got.label(),
                m.why
            );
        }
    }
    out
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Right => "right",
        Verdict::AskedRight => "asked, right offered",
        Verdict::AskedWrong => "asked, right not offered",
        Verdict::Wrong => "WRONG",
        Verdict::Missed => "to a person",
    }
}
