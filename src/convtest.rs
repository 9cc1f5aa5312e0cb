//! Conversation tests that editors write themselves: a clock, a sequence of resident messages
//! (or taps, or the follow-up firing), and what must hold after each step.
//!
//! The runner drives the real [`engine`](crate::engine) step by step, carrying the conversation
//! state along, and shows a failure as a diff of expected against actual with the trace of why.
//! [`learned`] writes the questions agents labelled in the inbox as tests.

pub mod learned;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};

use crate::engine::{decide, follow_up, ConversationState, Decision, Message, Reply, Step};
use crate::flows::model::{Expect, TestCase, TestFile, TestStep};
use crate::flows::{yaml_files, FlowSet};
use crate::source::{self, Diagnostic, SourceFile};

/// A test file, parsed.
#[derive(Debug, Clone)]
pub struct LoadedTests {
    pub file: SourceFile,
    pub tests: TestFile,
}

/// Where conversation tests live by default.
pub const DEFAULT_DIR: &str = "fixtures/conversations";

/// Reads test files from files or directories (directories: every `*.yaml` below them).
pub fn load(paths: &[PathBuf]) -> Result<Vec<LoadedTests>, Vec<Diagnostic>> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.is_dir() {
            collect(p, &mut files, &mut errors);
        } else {
            files.push(p.clone());
        }
    }
    let schema = source::schema_of::<TestFile>();
    let mut out = Vec::new();
    for f in files {
        match source::read_file(&f).and_then(|file| load_file(file, &schema)) {
            Ok(loaded) => out.push(loaded),
            Err(d) => errors.extend(d),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// A test file's text (not read from disk), loaded as [`load`] loads a file: `name` is how its
/// diagnostics name it.
pub fn parse(name: &str, text: &str) -> Result<LoadedTests, Vec<Diagnostic>> {
    let file = source::parse_bytes(name, text.as_bytes())?;
    load_file(file, &source::schema_of::<TestFile>())
}

fn load_file(file: SourceFile, schema: &serde_json::Value) -> Result<LoadedTests, Vec<Diagnostic>> {
    let tests = source::load_typed::<TestFile>(&file, schema)?;
    let mut errors = Vec::new();
    check_steps(&file, &tests, &mut errors);
    if errors.is_empty() {
        Ok(LoadedTests { file, tests })
    } else {
        Err(errors)
    }
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<Diagnostic>) {
    match yaml_files(dir) {
        Ok(found) => files.extend(found),
        Err(e) => errors.push(Diagnostic::error(
            &source::display_name(dir),
            source::Pos { line: 1, column: 1 },
            format!("cannot read the tests directory: {e}"),
        )),
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut subdirs: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        subdirs.sort();
        for d in subdirs {
            collect(&d, files, errors);
        }
    }
}

/// Checks what the schema cannot: one action per step, times and durations that parse.
fn check_steps(file: &SourceFile, tests: &TestFile, errors: &mut Vec<Diagnostic>) {
    for (i, case) in tests.tests.iter().enumerate() {
        if parse_time(&case.at).is_none() {
            errors.push(file.error_at(
                &format!("tests[{i}].at"),
                format!(
                    "`{}` is not a time like `2026-11-27T19:30:00+01:00`",
                    case.at
                ),
            ));
        }
        for (j, step) in case.steps.iter().enumerate() {
            let path = format!("tests[{i}].steps[{j}]");
            let actions = [
                step.say.is_some(),
                step.tap.is_some(),
                step.media.is_some(),
                step.follow_up,
            ]
            .iter()
            .filter(|a| **a)
            .count();
            if actions != 1 {
                errors.push(file.error_at(
                    &path,
                    "a step needs exactly one of `say`, `tap`, `media` or `follow_up: true`",
                ));
            }
            if let Some(at) = &step.at {
                if parse_time(at).is_none() {
                    errors.push(file.error_at(
                        &format!("{path}.at"),
                        format!("`{at}` is not a time like `2026-11-30T08:30:00+01:00`"),
                    ));
                }
            }
            if let Some(w) = &step.wait {
                if parse_duration(w).is_none() {
                    errors.push(file.error_at(
                        &format!("{path}.wait"),
                        format!("`{w}` is not a duration like `90m`, `2h` or `1d`"),
                    ));
                }
            }
            if let Some(t) = &step.expect.follow_up_at {
                if t != "none" && parse_time(t).is_none() {
                    errors.push(file.error_at(
                        &format!("{path}.expect.follow_up_at"),
                        format!("`{t}` is not a time or `none`"),
                    ));
                }
            }
        }
    }
}

/// An RFC 3339 time.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A duration such as `90m`, `2h`, `1h30m`, `3d`, `45s`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let mut total = Duration::zero();
    let mut num = String::new();
    let mut any = false;
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: i64 = num.parse().ok()?;
        num.clear();
        total += match c {
            'd' => Duration::days(n),
            'h' => Duration::hours(n),
            'm' => Duration::minutes(n),
            's' => Duration::seconds(n),
            _ => return None,
        };
        any = true;
    }
    (num.is_empty() && any).then_some(total)
}

/// The result of one conversation.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub file: String,
    pub name: String,
    pub line: usize,
    /// Empty when the conversation passed.
    pub failures: Vec<StepFailure>,
}

/// One failing step with the differences.
#[derive(Debug, Clone)]
pub struct StepFailure {
    pub step: usize,
    pub line: usize,
    pub action: String,
    /// `(what, expected, got)` per mismatch.
    pub diffs: Vec<(String, String, String)>,
    /// The engine's trace for this step.
    pub trace: Vec<String>,
}

/// Runs one conversation.
pub fn run_case(flows: &FlowSet, file: &SourceFile, index: usize, case: &TestCase) -> CaseResult {
    let base = format!("tests[{index}]");
    let mut result = CaseResult {
        file: file.name.clone(),
        name: case.name.clone(),
        line: file.root.locate(&base).line,
        failures: Vec::new(),
    };
    let Some(mut now) = parse_time(&case.at) else {
        return result;
    };
    let mut state = ConversationState {
        resident_name: case.resident.clone(),
        ..ConversationState::default()
    };
    let mut last: Option<Decision> = None;
    for (j, step) in case.steps.iter().enumerate() {
        let line = file.root.locate(&format!("{base}.steps[{j}]")).line;
        let fail = |action: String, diffs, trace| StepFailure {
            step: j + 1,
            line,
            action,
            diffs,
            trace,
        };
        if let Some(t) = step.at.as_deref().and_then(parse_time) {
            now = t;
        }
        if let Some(d) = step.wait.as_deref().and_then(parse_duration) {
            now += d;
        }
        let channel = case.channel.unwrap_or(crate::channel::Channel::WhatsApp);
        let (action, decision) =
            match run_step(flows, channel, &state, step, last.as_ref(), &mut now) {
                Ok(x) => x,
                Err((action, why)) => {
                    result.failures.push(fail(
                        action,
                        vec![("step".into(), "can run".into(), why)],
                        Vec::new(),
                    ));
                    break;
                }
            };
        let diffs = compare(&step.expect, &decision);
        if !diffs.is_empty() {
            result.failures.push(fail(
                action,
                diffs,
                decision.trace.steps.iter().map(Step::to_string).collect(),
            ));
        }
        state = decision.state.clone();
        last = Some(decision);
    }
    result
}

fn run_step(
    flows: &FlowSet,
    channel: crate::channel::Channel,
    state: &ConversationState,
    step: &TestStep,
    last: Option<&Decision>,
    now: &mut DateTime<Utc>,
) -> Result<(String, Decision), (String, String)> {
    if step.follow_up {
        let action = "follow-up fires".to_string();
        let Some(at) = state.follow_up_at else {
            return Err((action, "no follow-up is scheduled".into()));
        };
        *now = (*now).max(at);
        return Ok((action, follow_up(flows, state, channel.policy(), *now)));
    }
    let (action, message) = if let Some(text) = &step.say {
        (format!("say {text:?}"), Message::text(text.clone()))
    } else if let Some(title) = &step.tap {
        let action = format!("tap {title:?}");
        let buttons: Vec<_> = last
            .into_iter()
            .flat_map(|d| &d.replies)
            .flat_map(|r| match r {
                Reply::Text { buttons, .. } => buttons.as_slice(),
                Reply::Template { .. } => &[],
            })
            .collect();
        let Some(b) = buttons.iter().find(|b| b.title.eq_ignore_ascii_case(title)) else {
            let shown: Vec<String> = buttons.iter().map(|b| format!("`{}`", b.title)).collect();
            return Err((
                action,
                format!(
                    "the last reply has no button `{title}` (buttons: {})",
                    if shown.is_empty() {
                        "none".to_string()
                    } else {
                        shown.join(", ")
                    }
                ),
            ));
        };
        (
            action,
            Message {
                text: b.title.clone(),
                button: Some(b.id.clone()),
                ..Message::default()
            },
        )
    } else if let Some(kind) = &step.media {
        (
            format!("send {kind}"),
            Message {
                media: Some(kind.clone()),
                ..Message::default()
            },
        )
    } else {
        return Err(("nothing".into(), "the step has no action".into()));
    };
    Ok((action, decide(flows, state, &message, *now)))
}

fn compare(e: &Expect, d: &Decision) -> Vec<(String, String, String)> {
    let mut diffs = Vec::new();
    let mut check = |what: &str, expected: String, got: String| {
        if expected != got {
            diffs.push((what.to_string(), expected, got));
        }
    };
    let opt = |s: &Option<String>| s.clone().unwrap_or_else(|| "none".into());
    let replies = d
        .replies
        .iter()
        .map(Reply::display)
        .collect::<Vec<_>>()
        .join("\n\n");
    if let Some(o) = &e.outcome {
        check("outcome", o.clone(), d.outcome.as_str().into());
    }
    if let Some(t) = &e.topic {
        check("topic", t.clone(), opt(&d.topic));
    }
    if let Some(o) = &e.options {
        check("options", o.join(", "), d.options.join(", "));
    }
    if let Some(dep) = &e.department {
        check("department", dep.clone(), opt(&d.department));
    }
    if let Some(open) = e.open {
        check("open", open.to_string(), d.open.to_string());
    }
    if let Some(r) = &e.reply {
        check("reply", r.trim().to_string(), replies.trim().to_string());
    }
    for piece in &e.reply_contains {
        if !replies.contains(piece.as_str()) {
            check("reply contains", piece.clone(), replies.clone());
        }
    }
    for piece in &e.reply_lacks {
        if replies.contains(piece.as_str()) {
            check("reply lacks", piece.clone(), replies.clone());
        }
    }
    if e.silent {
        check("silent", String::new(), replies.clone());
    }
    if let Some(links) = &e.links {
        let got: Vec<&str> = d.links.iter().map(|l| l.url.as_str()).collect();
        check("links", links.join(", "), got.join(", "));
    }
    if let Some(t) = &e.follow_up_at {
        let got = d.follow_up_at.map(|t| t.to_rfc3339());
        let same = match (parse_time(t), d.follow_up_at) {
            (Some(a), Some(b)) => a == b,
            (None, None) => t == "none",
            _ => false,
        };
        if !same {
            check("follow_up_at", t.clone(), opt(&got));
        }
    }
    if let Some(r) = &e.redacted_text {
        check("redacted_text", r.clone(), d.redacted_text.clone());
    }
    if let Some(t) = &e.template {
        let got = d.replies.iter().find_map(|r| match r {
            Reply::Template { name, .. } => Some(name.clone()),
            Reply::Text { .. } => None,
        });
        check("template", t.clone(), opt(&got));
    }
    if let Some(s) = &e.state {
        check("state", s.clone(), d.state.phase.as_str().into());
    }
    if let Some(l) = e.language {
        check("language", l.code().into(), d.language.code().into());
    }
    diffs
}

/// Every topic id some test expects.
pub fn tested_topics(tests: &[LoadedTests]) -> BTreeSet<String> {
    tests
        .iter()
        .flat_map(|t| &t.tests.tests)
        .flat_map(|c| &c.steps)
        .filter_map(|s| s.expect.topic.clone())
        .collect()
}

/// Warnings for topics that no conversation test expects.
pub fn untested_topics(flows: &FlowSet, tests: &[LoadedTests]) -> Vec<Diagnostic> {
    let tested = tested_topics(tests);
    flows
        .topics
        .iter()
        .filter(|t| !tested.contains(&t.id))
        .map(|t| {
            Diagnostic::warning(
                &t.origin.file,
                source::Pos {
                    line: t.origin.line,
                    column: t.origin.column,
                },
                format!("topic `{}` has no conversation test", t.id),
            )
            .with_help(Some(format!(
                "add a step with `expect: {{ topic: {} }}` under `{DEFAULT_DIR}/`",
                t.id
            )))
        })
        .collect()
}

/// Prints a failing conversation as a readable diff.
pub fn format_failure(r: &CaseResult) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "FAIL {}:{}: {}", r.file, r.line, r.name);
    for f in &r.failures {
        let _ = writeln!(
            out,
            "  step {} ({}:{}): {}",
            f.step, r.file, f.line, f.action
        );
        for (what, expected, got) in &f.diffs {
            let _ = writeln!(out, "    {what}:");
            for l in expected.lines() {
                let _ = writeln!(out, "      - expected: {l}");
            }
            if expected.is_empty() {
                let _ = writeln!(out, "      - expected: (nothing)");
            }
            for l in got.lines() {
                let _ = writeln!(out, "      + got:      {l}");
            }
            if got.is_empty() {
                let _ = writeln!(out, "      + got:      (nothing)");
            }
        }
        if !f.trace.is_empty() {
            let _ = writeln!(out, "    why:");
            for s in &f.trace {
                let _ = writeln!(out, "      {s}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90m"), Some(Duration::minutes(90)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::minutes(90)));
        assert_eq!(parse_duration("3d"), Some(Duration::days(3)));
        assert_eq!(parse_duration("3"), None);
        assert_eq!(parse_duration("3x"), None);
        assert_eq!(parse_duration(""), None);
    }
}
