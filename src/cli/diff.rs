//! `triage diff`: what would change if the flows on disk were put in force. The stored messages
//! of the last days (masked, as the database holds them) are decided again ([`crate::replay`])
//! and every decision that differs is printed with why: the terms that carried each side.
//!
//! Exit codes follow diff(1), so that a script can tell the three apart: 0 nothing would
//! change, 1 something would, 2 the flows (either side) or the database could not be read.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use chrono::{DateTime, Duration, Utc};

use super::{counts, plural, print_diagnostics, term_text};
use crate::engine::{Outcome, Step};
use crate::flows::FlowSet;
use crate::replay::{self, Before, Change, Input, Kind, Report, Side, MAX_MESSAGES};
use crate::store::Store;

/// What `triage diff` was asked.
pub struct Args<'a> {
    pub flows: &'a Path,
    pub rules: &'a Path,
    pub days: i64,
    pub at: Option<&'a str>,
    pub config: Option<&'a Path>,
    pub before: Option<&'a Path>,
    pub before_rules: Option<&'a Path>,
    pub json: bool,
}

const SAME: u8 = 0;
const CHANGED: u8 = 1;
const TROUBLE: u8 = 2;

pub fn run(a: &Args<'_>) -> ExitCode {
    match diff(a) {
        Ok(true) => ExitCode::from(CHANGED),
        Ok(false) => ExitCode::from(SAME),
        Err(e) => {
            if !e.is_empty() {
                eprintln!("error: {e}");
            }
            ExitCode::from(TROUBLE)
        }
    }
}

/// Loads flows as `triage check` reports them; `Err("")` once the errors are printed.
fn load(flows: &Path, rules: &Path, which: &str) -> Result<FlowSet, String> {
    match FlowSet::load(flows, rules) {
        Ok((set, _warnings)) => Ok(set),
        Err(diags) => {
            print_diagnostics(&diags);
            let (e, w) = counts(&diags);
            eprintln!(
                "failed: {}, {} in {which} (`{}`, `{}`); nothing was compared",
                plural(e, "error"),
                plural(w, "warning"),
                flows.display(),
                rules.display()
            );
            Err(String::new())
        }
    }
}

/// Whether anything would change.
fn diff(a: &Args<'_>) -> Result<bool, String> {
    let until = match a.at {
        None => Utc::now(),
        Some(s) => crate::convtest::parse_time(s)
            .ok_or_else(|| format!("`{s}` is not a time like `2026-11-27T19:30:00+01:00`"))?,
    };
    let since = until - Duration::days(a.days);
    let after = load(a.flows, a.rules, "the flows on disk")?;
    let before_set = match a.before {
        Some(dir) => Some(load(
            dir,
            a.before_rules.unwrap_or(a.rules),
            "the flows of --before",
        )?),
        None => None,
    };
    let store = super::configured_store(a.config)?;
    let window = store
        .inbound_since(since, MAX_MESSAGES)
        .map_err(|e| e.to_string())?;
    // Only what happened up to --at (a later message is not in "the last days" of that moment).
    let messages: Vec<Input> = window
        .messages
        .into_iter()
        .filter(|m| m.at <= until)
        .map(Input::from)
        .collect();
    let before = match &before_set {
        Some(set) => Before::Flows(set),
        None => Before::Recorded,
    };
    let report = replay::replay(before, &after, &messages, usize::MAX, |_| true);
    let period = Period {
        since,
        until,
        days: a.days,
        left_out: window.left_out,
        before: a.before,
    };
    let mut out = std::io::stdout().lock();
    let text = if a.json {
        json(&period, &report)?
    } else {
        text(&after, &period, &report)
    };
    out.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    Ok(report.any())
}

/// What was replayed.
struct Period<'a> {
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    days: i64,
    left_out: usize,
    before: Option<&'a Path>,
}

fn json(p: &Period<'_>, r: &Report) -> Result<String, String> {
    let v = serde_json::json!({
        "since": p.since,
        "until": p.until,
        "days": p.days,
        "before": match p.before {
            Some(dir) => serde_json::json!({ "flows": dir.display().to_string() }),
            None => serde_json::json!("recorded"),
        },
        "left_out": p.left_out,
        "report": r,
    });
    serde_json::to_string_pretty(&v)
        .map(|s| s + "\n")
        .map_err(|e| e.to_string())
}

/// The report as an editor reads it: what was compared, the counts per kind of change, then each
/// changed message with before → after and why.
fn text(flows: &FlowSet, p: &Period<'_>, r: &Report) -> String {
    use std::fmt::Write as _;
    let tz = flows.office.timezone();
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
    let mut o = String::new();
    let against = match p.before {
        Some(dir) => format!("the flows in `{}`", dir.display()),
        None => "the decisions recorded when they came in".to_string(),
    };
    let _ = writeln!(
        o,
        "replayed {} of the last {} ({} to {}) against {against}",
        plural(r.replayed, "message"),
        plural(p.days as usize, "day"),
        local(p.since),
        local(p.until),
    );
    if p.left_out > 0 {
        let _ = writeln!(
            o,
            "  only the newest {MAX_MESSAGES}: {} left out",
            plural(p.left_out, "older message")
        );
    }
    if r.not_comparable > 0 {
        let _ = writeln!(
            o,
            "  {} not compared: not decided yet, or decided by where the conversation stood (with an agent, a follow-up's answer)",
            r.not_comparable
        );
    }
    if !r.any() {
        let _ = writeln!(o, "nothing would change");
        return o;
    }
    let _ = writeln!(o, "{} would change:", plural(r.changed, "message"));
    for k in &r.kinds {
        let _ = writeln!(o, "  {:>5}  {}", k.count, k.kind.describe());
    }
    let mut last: Option<&Kind> = None;
    for c in &r.changes {
        if last != Some(&c.kind) {
            let count = r
                .kinds
                .iter()
                .find(|k| k.kind == c.kind)
                .map_or(0, |k| k.count);
            let _ = writeln!(o, "\n{} ({count})", c.kind.describe());
            last = Some(&c.kind);
        }
        change(&mut o, c, &local);
    }
    o
}

fn change(o: &mut String, c: &Change, local: &dyn Fn(DateTime<Utc>) -> String) {
    use std::fmt::Write as _;
    let newest = &c.messages[0];
    let times = if c.count > 1 {
        format!(" ×{}, newest", c.count)
    } else {
        String::new()
    };
    let shown = if c.text.is_empty() {
        "(no text)".to_string()
    } else {
        format!("\"{}\"", c.text.replace('\n', " "))
    };
    let _ = writeln!(
        o,
        "  {shown}{times} {} on {}, conversation {}",
        local(newest.at),
        newest.channel.as_str(),
        newest.conversation_id
    );
    let _ = writeln!(o, "    before  {}", side(&c.before));
    let _ = writeln!(o, "    after   {}", side(&c.after));
    // The texts: both when only they changed, else what the resident would now get where an
    // answer (not a handover's note) takes the place of another.
    let shown: &[(&str, &Option<Vec<String>>)] = match &c.kind {
        Kind::Replies { .. } => &[("was", &c.before.replies), ("now", &c.after.replies)],
        Kind::Topic { .. } | Kind::HandoverToFaq { .. } => &[("now", &c.after.replies)],
        _ => &[],
    };
    for (label, texts) in shown {
        for t in texts.iter().flatten() {
            let mut lines = t.lines().filter(|l| !l.trim().is_empty());
            if let Some(first) = lines.next() {
                let _ = writeln!(o, "      {label}  {first}");
            }
            for l in lines {
                let _ = writeln!(o, "           {l}");
            }
        }
    }
}

/// One side in a line: what happens, and why.
fn side(s: &Side) -> String {
    let what = match s.outcome {
        Outcome::Faq => format!("FAQ {}", s.topic.as_deref().unwrap_or("-")),
        Outcome::Handover => format!(
            "handover to {}",
            s.department.as_deref().unwrap_or("the default department")
        ),
        Outcome::PrivacyRedirect => format!(
            "privacy redirect{}",
            s.topic
                .as_deref()
                .map(|t| format!(" (topic {t})"))
                .unwrap_or_default()
        ),
        o => o.as_str().to_string(),
    };
    format!("{what}: {}", why(s))
}

/// Why a side decided as it did, from its trace: the winner's terms; for a handover, what no
/// topic had and which routing rule (or the default) picked the department.
fn why(s: &Side) -> String {
    if s.trace.steps.is_empty() {
        return "(its reasons are no longer kept)".into();
    }
    let terms = |c: &crate::engine::Candidate| {
        let t: Vec<String> = c.matched.iter().map(term_text).collect();
        format!("{} (score {:.1})", t.join(", "), c.score)
    };
    let mut parts = Vec::new();
    if s.outcome != Outcome::Handover {
        if let Some(w) = s.winner() {
            parts.push(terms(w));
        }
    }
    for step in &s.trace.steps {
        match step {
            Step::ButtonTopic { topic } => parts.push(format!("button for `{topic}`")),
            Step::ButtonPerson => parts.push("button for a person".into()),
            Step::Media { kind } => parts.push(format!("{kind} without words")),
            Step::NoWords => parts.push("no words".into()),
            Step::Wins { over, .. } => parts.push(format!("over `{over}`")),
            Step::NoTopic => parts.push(match s.trace.candidates.first() {
                None => "no topic matched".into(),
                Some(c) => match &c.excluded_by {
                    Some(by) => format!("no topic (`{}` ruled out by `{by}`)", c.id),
                    None => format!("no topic won (best `{}`: {})", c.id, terms(c)),
                },
            }),
            Step::RouteTopic { .. } => parts.push("the topic's department".into()),
            Step::RouteAsked { .. } => parts.push("where the question asked back routed".into()),
            Step::RouteRule { .. } => parts.push(match s.winner() {
                Some(w) => format!("routed by {}", terms(w)),
                None => "routed by a rule".into(),
            }),
            Step::RouteDefault { .. } => parts.push("no routing rule: the default".into()),
            _ => {}
        }
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join("; ")
    }
}
