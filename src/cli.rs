//! The command line: the editors' `check`, `try`, `test`, `diff` and `schema`; the operators'
//! `serve`, `user`, `resident`, `backup` and `redact`.
//!
//! Every command reads `./flows` and `./rules` unless told otherwise, prints compiler-like
//! output, and exits 1 when something is wrong (2 for a command line it cannot understand).
//! `diff` exits as diff(1) does ([`diff`]): 0 nothing changes, 1 something does, 2 trouble.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};

use crate::convtest::{self, CaseResult};
use crate::engine::{decide, ConversationState, Decision, Message, Reply};
use crate::flows::{model, FlowSet};
use crate::source::{Diagnostic, Severity};

mod diff;

#[derive(Debug, Parser)]
#[command(
    name = "triage",
    version,
    about = "Rule-driven chatbot and triage engine: check, try and test the flows",
    after_help = "Without a command: serve (the same as `triage serve`)."
)]
pub struct Cli {
    /// Directory with the flow files
    #[arg(long, global = true, default_value = "flows", value_name = "DIR")]
    pub flows: PathBuf,
    /// Directory with office-hours.yaml, privacy.yaml and departments.yaml
    #[arg(long, global = true, default_value = "rules", value_name = "DIR")]
    pub rules: PathBuf,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate the flows and rules; errors with file:line:column, exit 1 on errors
    Check {
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Conversation tests, for the "topic without a test" warning
        #[arg(long, default_value = convtest::DEFAULT_DIR, value_name = "DIR")]
        tests: PathBuf,
        /// The channels in use, whose limits the answers must fit (repeat, or comma-separated:
        /// whatsapp, messenger, instagram, x, webchat); default every channel
        #[arg(long = "channel", value_delimiter = ',', value_parser = parse_channel, value_name = "CHANNEL")]
        channels: Vec<crate::channel::Channel>,
    },
    /// Show what the bot does with a message, and why
    Try {
        /// The resident's message
        message: String,
        /// The time of the message (RFC 3339, e.g. 2026-11-27T19:30:00+01:00); default now
        #[arg(long)]
        at: Option<String>,
        /// Print one JSON object
        #[arg(long)]
        json: bool,
        /// The resident's name, for `{name}`
        #[arg(long)]
        name: Option<String>,
        /// The language of the reasons: English, or Dutch as the web application shows them
        #[arg(long, value_enum, default_value = "en")]
        lang: Lang,
    },
    /// Measure the flows against labelled questions: accuracy per topic, which topics are
    /// confused with which, and every question not answered right
    #[command(
        after_help = "A question file holds `questions:`, each with `text:` and `expect:` \
(a topic id, or `person` for a question only a person can answer).\nExamples:\n  \
triage eval eval/heldout.yaml\n  triage eval eval/dev.yaml --verbose\n  \
triage eval --labels   (the questions agents labelled in the inbox, from the database)\n\
A labelled question marked \"needs a new topic\" counts as one only a person can answer; one \
whose topic the flows no longer have is left out, and said so."
    )]
    Eval {
        /// Question files (YAML)
        #[arg(required_unless_present = "labels")]
        paths: Vec<PathBuf>,
        /// Also every question agents labelled in the inbox (read from the database)
        #[arg(long)]
        labels: bool,
        /// A configuration file naming the database for --labels (default: ./triage.toml when it
        /// exists)
        #[arg(long, value_name = "FILE", requires = "labels")]
        config: Option<PathBuf>,
        /// List every question not answered right, with why
        #[arg(long, short)]
        verbose: bool,
        /// Print the report as one JSON object
        #[arg(long)]
        json: bool,
        /// The time the questions are asked (RFC 3339); default a Wednesday morning, open
        #[arg(long, default_value = crate::eval::DEFAULT_AT)]
        at: String,
        /// Exit 1 when fewer than this share (in %) of FAQ questions is right at once
        #[arg(long, value_name = "PERCENT")]
        min: Option<f64>,
    },
    /// What would change: the stored messages of the last days decided again by the flows on
    /// disk, and every decision that differs; exit 0 when none does, 1 when some do, 2 when the
    /// flows or the database cannot be read
    #[command(
        after_help = "Before: by default the decisions the database recorded when the \
messages came in (only those the flows made: FAQ, handover, privacy, nothing to act on); with \
--before, the flows in DIR decided the same way (e.g. a checkout of the published flows).\n\
Each message is decided as the first of a new conversation, at the time it came in, so only \
the flows' difference shows. Messages are masked as stored. At most the newest 5,000 are read."
    )]
    Diff {
        /// How many days back from --at
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(i64).range(1..=366))]
        days: i64,
        /// The end of the period (RFC 3339, e.g. 2026-11-27T19:30:00+01:00); default now
        #[arg(long)]
        at: Option<String>,
        /// A configuration file naming the database (default: ./triage.toml when it exists)
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Compare with the flows in this directory instead of the recorded decisions
        #[arg(long, value_name = "DIR")]
        before: Option<PathBuf>,
        /// The rules that go with --before (default: --rules)
        #[arg(long, value_name = "DIR", requires = "before")]
        before_rules: Option<PathBuf>,
        /// Print one JSON object
        #[arg(long)]
        json: bool,
    },
    /// Run the conversation tests (default: fixtures/conversations)
    Test {
        /// Test files or directories
        paths: Vec<PathBuf>,
    },
    /// Start the service: every channel's webhooks, the workers and the outbox
    Serve {
        /// A configuration file (default: ./triage.toml when it exists)
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// A clock that tests (and the demo's simulator) set through POST /admin/clock, refused in
        /// production. With a time (RFC 3339, e.g. 2026-11-27T19:30:00+01:00) it reads that time
        /// from the start and runs on from there; without one it starts at the real time
        #[arg(long, value_name = "AT", num_args = 0..=1, default_missing_value = "now")]
        test_clock: Option<String>,
    },
    /// Send a message as a resident to a running demo service and print the bot's replies
    Say {
        /// The message
        message: String,
        /// The service's address
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// The resident's WhatsApp number
        #[arg(long, default_value = "31612345678")]
        from: String,
        /// The resident's profile name
        #[arg(long, default_value = "Demo")]
        name: String,
        /// The webhook secret (default: the demo's, or WHATSAPP_APP_SECRET)
        #[arg(long)]
        secret: Option<String>,
    },
    /// Manage the users of the agents' API
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// A resident's AVG rights: everything held about them (export) or all of it removed (erase)
    Resident {
        #[command(subcommand)]
        action: ResidentCommand,
    },
    /// Mask personal data in an exported chat (CSV, JSON lines, text, a WhatsApp export) with
    /// the detectors of rules/privacy.yaml; streams, so any size will do
    #[command(
        after_help = "The summary (lines, findings per kind, never a value) goes to \
standard error.\nExamples:\n  triage redact chat.txt -o chat.masked.txt\n  \
triage redact --format csv --keep-going < export.csv > export.masked.csv"
    )]
    Redact(crate::redact::command::RedactArgs),
    /// Copy the database to FILE while the service runs (a consistent snapshot); restore by
    /// stopping the service and copying FILE into place
    Backup {
        /// The backup file to write
        file: PathBuf,
        /// Replace FILE when it exists
        #[arg(long)]
        force: bool,
        /// A configuration file (default: ./triage.toml when it exists)
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Print the JSON Schema of a file kind, or write them all to a directory
    Schema {
        /// flow, departments, privacy, office-hours or conversation-test (default: flow)
        kind: Option<String>,
        /// Write every schema into this directory as <kind>.schema.json
        #[arg(long, value_name = "DIR")]
        write: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user in the configured database and print their password and API token (once)
    Add {
        /// The user's name (letters, digits, `-`, `_`, `.`)
        name: String,
        /// agent, editor or admin
        #[arg(long, default_value = "agent")]
        role: String,
        /// Department ids whose queues the user works, comma-separated
        #[arg(long, value_delimiter = ',', value_name = "IDS")]
        departments: Vec<String>,
        /// Read the password from the first line of standard input (default: a new random one,
        /// printed once)
        #[arg(long)]
        password_stdin: bool,
        /// A configuration file (default: ./triage.toml when it exists)
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Set a user's password (ending their sessions) and print it if it was made up
    Password {
        name: String,
        /// Read the password from the first line of standard input (default: a new random one)
        #[arg(long)]
        password_stdin: bool,
        /// A configuration file (default: ./triage.toml when it exists)
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ResidentCommand {
    /// Print everything the configured database holds about one resident as one JSON document
    /// (right of access, AVG art. 15); a summary of counts goes to standard error
    Export {
        /// The channel (`whatsapp`, …)
        channel: String,
        /// The resident's address on the channel (WhatsApp: the number, e.g. 31612345678)
        id: String,
        /// A configuration file (default: ./triage.toml when it exists)
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Remove one resident from every table and from the database file (right to erasure, AVG
    /// art. 17); the audit trail keeps who did what, without detail, and records the erasure
    /// under a hash of the resident. Backups made before still hold them until they expire.
    Erase {
        /// The channel (`whatsapp`, …)
        channel: String,
        /// The resident's address on the channel
        id: String,
        /// A configuration file (default: ./triage.toml when it exists)
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Runs the command line; the binary's `main` is just this.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        None => serve(None, None),
        Some(Command::Check {
            format,
            tests,
            channels,
        }) => check(&cli.flows, &cli.rules, format, &tests, &channels),
        Some(Command::Try {
            message,
            at,
            json,
            name,
            lang,
        }) => try_message(
            &cli.flows,
            &cli.rules,
            &message,
            at.as_deref(),
            json,
            name,
            lang,
        ),
        Some(Command::Diff {
            days,
            at,
            config,
            before,
            before_rules,
            json,
        }) => {
            return diff::run(&diff::Args {
                flows: &cli.flows,
                rules: &cli.rules,
                days,
                at: at.as_deref(),
                config: config.as_deref(),
                before: before.as_deref(),
                before_rules: before_rules.as_deref(),
                json,
            })
        }
        Some(Command::Test { paths }) => test(&cli.flows, &cli.rules, &paths),
        Some(Command::Eval {
            paths,
            labels,
            config,
            verbose,
            json,
            at,
            min,
        }) => eval(
            &cli.flows,
            &cli.rules,
            &EvalArgs {
                paths: &paths,
                labels: labels.then_some(config.as_deref()),
                verbose,
                json,
                at: &at,
                min,
            },
        ),
        Some(Command::Redact(args)) => match load(&cli.flows, &cli.rules) {
            Some((set, _)) => crate::redact::command::run(&set.privacy, &args),
            None => Ok(false),
        },
        Some(Command::Backup {
            file,
            force,
            config,
        }) => backup(&file, force, config.as_deref()),
        Some(Command::Schema { kind, write }) => schema(kind.as_deref(), write.as_deref()),
        Some(Command::Serve { config, test_clock }) => {
            serve(config.as_deref(), test_clock.as_deref())
        }
        Some(Command::User {
            action:
                UserCommand::Add {
                    name,
                    role,
                    departments,
                    password_stdin,
                    config,
                },
        }) => user_add(
            &name,
            &role,
            &departments,
            password_stdin,
            config.as_deref(),
        ),
        Some(Command::User {
            action:
                UserCommand::Password {
                    name,
                    password_stdin,
                    config,
                },
        }) => user_password(&name, password_stdin, config.as_deref()),
        Some(Command::Resident {
            action:
                ResidentCommand::Export {
                    channel,
                    id,
                    config,
                },
        }) => resident_export(&channel, &id, config.as_deref()),
        Some(Command::Resident {
            action:
                ResidentCommand::Erase {
                    channel,
                    id,
                    config,
                },
        }) => resident_erase(&channel, &id, config.as_deref()),
        Some(Command::Say {
            message,
            url,
            from,
            name,
            secret,
        }) => say(&message, &url, &from, &name, secret),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

type CliResult = Result<bool, String>;

fn print_diagnostics(diags: &[Diagnostic]) {
    let mut err = std::io::stderr().lock();
    for d in diags {
        let _ = writeln!(err, "{d}");
    }
}

fn counts(diags: &[Diagnostic]) -> (usize, usize) {
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    (errors, diags.len() - errors)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Loads the flows, printing errors; `None` when they do not load.
fn load(flows: &Path, rules: &Path) -> Option<(FlowSet, Vec<Diagnostic>)> {
    match FlowSet::load(flows, rules) {
        Ok(x) => Some(x),
        Err(diags) => {
            print_diagnostics(&diags);
            let (e, w) = counts(&diags);
            eprintln!(
                "the flows do not load: {}, {}",
                plural(e, "error"),
                plural(w, "warning")
            );
            None
        }
    }
}

/// A channel's name on the command line.
fn parse_channel(s: &str) -> Result<crate::channel::Channel, String> {
    crate::channel::Channel::parse(s.trim()).ok_or_else(|| {
        let names: Vec<&str> = crate::channel::Channel::ALL
            .iter()
            .map(|c| c.as_str())
            .collect();
        format!(
            "unknown channel `{s}`; the channels are {}",
            names.join(", ")
        )
    })
}

fn check(
    flows: &Path,
    rules: &Path,
    format: Format,
    tests: &Path,
    channels: &[crate::channel::Channel],
) -> CliResult {
    let mut diags;
    let mut summary = None;
    match FlowSet::load_for(flows, rules, channels) {
        Ok((set, warnings)) => {
            diags = warnings;
            if tests.exists() {
                match convtest::load(&[tests.to_path_buf()]) {
                    Ok(t) => diags.extend(convtest::untested_topics(&set, &t)),
                    Err(e) => diags.extend(e),
                }
            }
            summary = Some(serde_json::json!({
                "files": set.files.len(),
                "topics": set.topics.len(),
                "terms": set.term_count(),
                "departments": set.departments.len(),
            }));
        }
        Err(e) => diags = e,
    }
    let (errors, warnings) = counts(&diags);
    match format {
        Format::Json => {
            let out = serde_json::json!({
                "ok": errors == 0,
                "errors": errors,
                "warnings": warnings,
                "summary": summary,
                "diagnostics": diags,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?
            );
        }
        Format::Text => {
            print_diagnostics(&diags);
            match &summary {
                Some(s) if errors == 0 => println!(
                    "ok: {} files, {} topics, {} terms, {} departments; {}",
                    s["files"],
                    s["topics"],
                    s["terms"],
                    s["departments"],
                    plural(warnings, "warning")
                ),
                _ => println!(
                    "failed: {}, {}",
                    plural(errors, "error"),
                    plural(warnings, "warning")
                ),
            }
        }
    }
    Ok(errors == 0)
}

fn parse_at(at: Option<&str>) -> Result<DateTime<Utc>, String> {
    match at {
        None => Ok(Utc::now()),
        Some(s) => convtest::parse_time(s)
            .ok_or_else(|| format!("`{s}` is not a time like `2026-11-27T19:30:00+01:00`")),
    }
}

fn try_message(
    flows: &Path,
    rules: &Path,
    message: &str,
    at: Option<&str>,
    json: bool,
    name: Option<String>,
    lang: Lang,
) -> CliResult {
    let now = parse_at(at)?;
    let Some((set, _)) = load(flows, rules) else {
        return Ok(false);
    };
    let state = ConversationState {
        resident_name: name,
        ..ConversationState::default()
    };
    let d = decide(&set, &state, &Message::text(message), now);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&d).map_err(|e| e.to_string())?
        );
    } else {
        print!("{}", describe(&set, &d, now, lang));
    }
    Ok(true)
}

/// The language of the reasons `triage try` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    En,
    Nl,
}

/// A decision as an editor reads it.
pub fn describe(set: &FlowSet, d: &Decision, now: DateTime<Utc>, lang: Lang) -> String {
    use std::fmt::Write as _;
    let tz = set.office.timezone();
    let mut o = String::new();
    let none = "-".to_string();
    let _ = writeln!(o, "time        {}", now.with_timezone(&tz).to_rfc3339());
    let _ = writeln!(o, "outcome     {}", d.outcome.as_str());
    let _ = writeln!(o, "topic       {}", d.topic.as_ref().unwrap_or(&none));
    let _ = writeln!(o, "open        {}", if d.open { "yes" } else { "no" });
    let _ = writeln!(o, "department  {}", d.department.as_ref().unwrap_or(&none));
    let _ = writeln!(
        o,
        "follow-up   {}",
        d.follow_up_at.map_or(none.clone(), |t| t.to_rfc3339())
    );
    let _ = writeln!(o, "stored as   {}", d.redacted_text);
    for r in &d.replies {
        let _ = writeln!(
            o,
            "reply       {}",
            r.display().replace('\n', "\n            ")
        );
        if let Reply::Text { buttons, .. } = r {
            for b in buttons {
                let _ = writeln!(o, "  [button]  {} ({})", b.title, b.id);
            }
        }
    }
    for l in &d.links {
        let _ = writeln!(o, "link        {}: {}", l.title, l.url);
    }
    let _ = writeln!(o, "why");
    for (i, s) in d.trace.steps.iter().enumerate() {
        match lang {
            Lang::En => writeln!(o, "  {}. {s}", i + 1),
            Lang::Nl => writeln!(o, "  {}. {}", i + 1, s.dutch(set)),
        }
        .ok();
    }
    if !d.trace.candidates.is_empty() {
        let _ = writeln!(o, "topics considered");
        for c in &d.trace.candidates {
            let mut terms: Vec<String> = c.matched.iter().map(term_text).collect();
            if let Some(sim) = c.similar.as_ref().filter(|s| !s.words.is_empty()) {
                let words: Vec<String> = sim
                    .words
                    .iter()
                    .map(|w| match &w.as_word {
                        Some(a) => format!("`{}` as `{a}` {:.1}", w.word, w.weight),
                        None => format!("`{}` {:.1}", w.word, w.weight),
                    })
                    .collect();
                terms.push(format!("resembles in {}", words.join(", ")));
            }
            let excluded = c
                .excluded_by
                .as_ref()
                .map(|e| format!(" (ruled out by `{e}`)"))
                .unwrap_or_default();
            let _ = writeln!(
                o,
                "  {:<28} {:>4.1}  {}{excluded}",
                c.id,
                c.score,
                terms.join(", ")
            );
        }
    }
    o
}

/// A matched term as the command line writes it: ``keyword `kliko` as `klikoo`, 1 typo``.
fn term_text(m: &crate::engine::MatchedTerm) -> String {
    let how = match m.how {
        crate::matcher::MatchHow::Exact => String::new(),
        crate::matcher::MatchHow::Partial => format!(" in `{}`", m.found),
        crate::matcher::MatchHow::Joined => format!(" as `{}`", m.found),
        crate::matcher::MatchHow::Typo(n) => {
            format!(" as `{}`, {}", m.found, plural(n.into(), "typo"))
        }
    };
    format!("{:?} `{}`{how}", m.kind, m.term).to_lowercase()
}

fn test(flows: &Path, rules: &Path, paths: &[PathBuf]) -> CliResult {
    let Some((set, _)) = load(flows, rules) else {
        return Ok(false);
    };
    let paths = if paths.is_empty() {
        vec![PathBuf::from(convtest::DEFAULT_DIR)]
    } else {
        paths.to_vec()
    };
    let loaded = match convtest::load(&paths) {
        Ok(l) => l,
        Err(diags) => {
            print_diagnostics(&diags);
            return Ok(false);
        }
    };
    let results: Vec<CaseResult> = loaded
        .iter()
        .flat_map(|lt| {
            lt.tests
                .tests
                .iter()
                .enumerate()
                .map(|(i, case)| convtest::run_case(&set, &lt.file, i, case))
        })
        .collect();
    let failed: Vec<&CaseResult> = results.iter().filter(|r| !r.failures.is_empty()).collect();
    for r in &failed {
        print!("{}", convtest::format_failure(r));
    }
    println!(
        "conversations: {} passed, {} failed",
        results.len() - failed.len(),
        failed.len()
    );
    Ok(failed.is_empty())
}

/// What `triage eval` measures against.
struct EvalArgs<'a> {
    paths: &'a [PathBuf],
    /// `--labels`, with the `--config` that names the database (if any).
    labels: Option<Option<&'a Path>>,
    verbose: bool,
    json: bool,
    at: &'a str,
    min: Option<f64>,
}

fn eval(flows: &Path, rules: &Path, a: &EvalArgs<'_>) -> CliResult {
    let (verbose, json, min) = (a.verbose, a.json, a.min);
    let at = parse_at(Some(a.at))?;
    let Some((set, _)) = load(flows, rules) else {
        return Ok(false);
    };
    let mut questions = Vec::new();
    for p in a.paths {
        questions.extend(crate::eval::read(p)?);
    }
    crate::eval::check(&set, &questions)?;
    if let Some(config) = a.labels {
        let labelled = labelled_questions(config)?;
        let (known, gone) = crate::eval::from_labels(&set, labelled);
        if !gone.is_empty() {
            eprintln!(
                "left out {} labelled question(s) whose topic the flows no longer have: {}",
                gone.len(),
                gone.join(", ")
            );
        }
        if known.is_empty() && questions.is_empty() {
            return Err(
                "no labelled questions yet: agents label handed-over questions in the \
                inbox (\"Welk onderwerp had moeten antwoorden?\")"
                    .into(),
            );
        }
        questions.extend(known);
    }
    let report = crate::eval::evaluate(&set, &questions, at);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report.to_json()).unwrap_or_default()
        );
    } else {
        print!("{}", crate::eval::render(&report, verbose));
    }
    Ok(min.is_none_or(|m| 100.0 * report.faq.share_right() >= m))
}

/// The questions agents labelled, from the database the configuration names.
fn labelled_questions(config: Option<&Path>) -> Result<Vec<(String, Option<String>)>, String> {
    let store = configured_store(config)?;
    crate::store::Store::labelled_questions(&store).map_err(|e| e.to_string())
}

/// The database the configuration names, which must exist already (a command that only reads
/// never makes an empty one).
fn configured_store(config: Option<&Path>) -> Result<crate::store::sqlite::SqliteStore, String> {
    let config = crate::service::config::Config::load(config, |k| std::env::var(k).ok())?;
    let path = config.sqlite_path()?;
    if !path.exists() {
        return Err(format!(
            "there is no database at `{}` (see --config or TRIAGE_DATABASE_URL)",
            path.display()
        ));
    }
    crate::store::sqlite::SqliteStore::open(&path).map_err(|e| e.to_string())
}

fn schema(kind: Option<&str>, write: Option<&Path>) -> CliResult {
    let all = model::schemas();
    if let Some(dir) = write {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
        for (name, schema) in &all {
            let path = dir.join(format!("{name}.schema.json"));
            let text = serde_json::to_string_pretty(schema).map_err(|e| e.to_string())? + "\n";
            std::fs::write(&path, text)
                .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
            println!("wrote {}", path.display());
        }
        return Ok(true);
    }
    let kind = kind.unwrap_or("flow");
    match all.get(kind) {
        Some(s) => {
            println!(
                "{}",
                serde_json::to_string_pretty(s).map_err(|e| e.to_string())?
            );
            Ok(true)
        }
        None => {
            let names: Vec<&str> = all.keys().copied().collect();
            let hint = crate::text::did_you_mean(kind, names.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            Err(format!(
                "unknown schema `{kind}`{hint} (known: {})",
                names.join(", ")
            ))
        }
    }
}

/// `triage serve`: configuration, logging, the runtime, then the service until a signal.
fn serve(config: Option<&Path>, test_clock: Option<&str>) -> CliResult {
    let test_clock = match test_clock {
        None => None,
        Some("now") => Some(crate::service::clock::TestClock::default()),
        Some(at) => Some(crate::service::clock::TestClock::starting_at(
            convtest::parse_time(at).ok_or_else(|| {
                format!("--test-clock: `{at}` is not a time like `2026-11-27T19:30:00+01:00`")
            })?,
        )),
    };
    let config = crate::service::config::Config::load(config, |k| std::env::var(k).ok())?;
    init_logging(config.log_json);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        let demo = config.demo();
        let (state, client) = crate::service::build(config, test_clock, local)?;
        // Browsers keep secure cookies over plain HTTP only for `localhost`: print that name.
        let base = if local.ip().is_loopback() {
            format!("http://localhost:{}", local.port())
        } else {
            format!("http://{local}")
        };
        println!("triage is serving on {base}");
        if demo {
            println!(
                "demo mode: no channel account configured; every channel replies to its built-in stand-in"
            );
            println!("  chat as a resident: {base}/ (WhatsApp), {base}/webchat/demo (the web chat on a sample site)");
            println!(
                "  agents' inbox:      {base}/inbox, sign in as `demo-agent` (or `demo-admin`), password `{}`",
                crate::service::auth::DEMO_PASSWORD
            );
            println!(
                "  editors' page:      {base}/editor, sign in as `demo-editor`, password `{}`: edit, try and publish the flows",
                crate::service::auth::DEMO_PASSWORD
            );
            println!(
                "  webhooks:           POST {base}/webhook (WhatsApp), {base}/webhooks/messenger, /webhooks/instagram, /webhooks/x; signed with the app secret `{}`",
                crate::service::config::DEMO_APP_SECRET
            );
            println!(
                "  sent replies:       {base}/standin/<whatsapp|messenger|instagram|x>/_standin/messages (as demo-admin)"
            );
            println!(
                "  agents' API:        {base}/api/queues with `Authorization: Bearer {}` (demo-agent) or `{}` (demo-admin, also for /admin/*)",
                crate::service::api::DEMO_AGENT_TOKEN,
                crate::service::api::DEMO_ADMIN_TOKEN
            );
        } else {
            let channels: Vec<&str> = state.channels.iter().map(|c| c.title()).collect();
            println!("  channels:           {}", channels.join(", "));
            println!("  agents' inbox:      {base}/inbox (create users with `triage user add`)");
        }
        if state.test_clock.is_some() {
            println!("  test clock:         POST {base}/admin/clock {{\"at\": \"2026-11-27T19:30:00+01:00\"}}");
        }
        println!("  health, metrics:    {base}/healthz, {base}/metrics (as an editor or admin)");
        let signals = crate::service::signals(state.clone());
        crate::service::run(state, client, listener, signals).await
    })?;
    Ok(true)
}

/// A password from standard input's first line (checked), or a new random one: the password
/// and whether it was made up.
fn read_password(from_stdin: bool) -> Result<(String, bool), String> {
    if !from_stdin {
        return Ok((crate::service::auth::new_password()?, true));
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    crate::service::auth::check_password(&password)?;
    Ok((password, false))
}

fn open_store(
    config: &crate::service::config::Config,
) -> Result<crate::store::sqlite::SqliteStore, String> {
    crate::store::sqlite::SqliteStore::open(&config.sqlite_path()?).map_err(|e| e.to_string())
}

/// `triage user add`: a user in the configured database, with a password (given or made up) and
/// a new random API token, each printed once.
fn user_add(
    name: &str,
    role: &str,
    departments: &[String],
    password_stdin: bool,
    config: Option<&Path>,
) -> CliResult {
    use crate::store::Store;
    let config = crate::service::config::Config::load(config, |k| std::env::var(k).ok())?;
    let Some((flows, _)) = load(&config.flows, &config.rules) else {
        return Ok(false);
    };
    let token = crate::service::caller::new_token()?;
    let user = crate::service::api::new_user(&flows, name, role, departments, &token, Utc::now())?;
    let (password, made_up) = read_password(password_stdin)?;
    let hash = crate::service::auth::hash_password(&password)?;
    let store = open_store(&config)?;
    let Some(created) = store.add_user(&user, false).map_err(|e| e.to_string())? else {
        return Err(format!("there is a user `{}` already", user.name));
    };
    store
        .set_password(&created.name, &hash)
        .map_err(|e| e.to_string())?;
    store
        .audit(&crate::store::AuditRecord {
            at: Utc::now(),
            actor: "cli".into(),
            action: "user_add".into(),
            conversation_id: None,
            detail: Some(format!("{} ({})", created.name, created.role.as_str())),
        })
        .map_err(|e| e.to_string())?;
    eprintln!(
        "created {} `{}`{}; what follows is shown only now.",
        created.role.as_str(),
        created.name,
        if created.departments.is_empty() {
            String::new()
        } else {
            format!(" for {}", created.departments.join(", "))
        }
    );
    if made_up {
        println!("password: {password}");
    }
    println!("api token: {token}");
    Ok(true)
}

/// `triage user password`: a new password for a user; their sessions end.
fn user_password(name: &str, password_stdin: bool, config: Option<&Path>) -> CliResult {
    use crate::store::Store;
    let config = crate::service::config::Config::load(config, |k| std::env::var(k).ok())?;
    let (password, made_up) = read_password(password_stdin)?;
    let hash = crate::service::auth::hash_password(&password)?;
    let store = open_store(&config)?;
    if !store.set_password(name, &hash).map_err(|e| e.to_string())? {
        return Err(format!("there is no user `{name}`"));
    }
    store
        .audit(&crate::store::AuditRecord {
            at: Utc::now(),
            actor: "cli".into(),
            action: "password_set".into(),
            conversation_id: None,
            detail: Some(name.to_string()),
        })
        .map_err(|e| e.to_string())?;
    eprintln!("the password of `{name}` is set; their sessions have ended");
    if made_up {
        println!("password: {password}");
    }
    Ok(true)
}

/// `triage resident export`: one resident's data as JSON on standard output.
fn resident_export(channel: &str, id: &str, config: Option<&Path>) -> CliResult {
    use crate::store::Store;
    let config = crate::service::config::Config::load(config, |k| std::env::var(k).ok())?;
    let store = open_store(&config)?;
    let Some(export) = store
        .resident_export(channel, id)
        .map_err(|e| e.to_string())?
    else {
        return Err(format!("the database holds no resident {id} on {channel}"));
    };
    let json = serde_json::to_string_pretty(&export).map_err(|e| e.to_string())?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{json}").map_err(|e| e.to_string())?;
    store
        .audit(&crate::store::AuditRecord {
            at: Utc::now(),
            actor: "cli".into(),
            action: "resident_export".into(),
            conversation_id: None,
            detail: Some(format!(
                "resident sha256:{}",
                crate::store::resident_reference(channel, id)
            )),
        })
        .map_err(|e| e.to_string())?;
    eprintln!("exported {}", export.counts());
    Ok(true)
}

/// `triage resident erase`: one resident removed from the database and its file.
fn resident_erase(channel: &str, id: &str, config: Option<&Path>) -> CliResult {
    use crate::store::Store;
    let config = crate::service::config::Config::load(config, |k| std::env::var(k).ok())?;
    let store = open_store(&config)?;
    let reference = crate::store::resident_reference(channel, id);
    let audit = crate::store::AuditRecord {
        at: Utc::now(),
        actor: "cli".into(),
        action: "resident_erase".into(),
        conversation_id: None,
        detail: Some(format!("resident sha256:{reference}")),
    };
    let Some(n) = store
        .resident_erase(channel, id, &audit)
        .map_err(|e| e.to_string())?
    else {
        return Err(format!("the database holds no resident {id} on {channel}"));
    };
    eprintln!("erased {n} (audit lines kept without detail); recorded as sha256:{reference}");
    Ok(true)
}

/// `triage backup`: a consistent copy of the configured SQLite database, taken online.
fn backup(file: &Path, force: bool, config: Option<&Path>) -> CliResult {
    let config = crate::service::config::Config::load(config, |k| std::env::var(k).ok())?;
    let database = config.sqlite_path()?;
    let started = std::time::Instant::now();
    let info = crate::store::backup::backup(&database, file, force).map_err(|e| e.to_string())?;
    println!(
        "backed up `{}` to `{}` ({:.1} MB in {:.2} s)",
        database.display(),
        info.path.display(),
        info.bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    println!(
        "to restore: stop the service, copy `{}` to `{}` (removing `{}-wal` and `{}-shm`), start it",
        info.path.display(),
        database.display(),
        database.display(),
        database.display()
    );
    Ok(true)
}

fn init_logging(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// `triage say`: a signed text webhook to a running demo service, then the replies it sent to
/// the stand-in Graph API (a resident simulator for the terminal).
fn say(message: &str, url: &str, from: &str, name: &str, secret: Option<String>) -> CliResult {
    let secret = secret
        .or_else(|| {
            std::env::var("WHATSAPP_APP_SECRET")
                .ok()
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| crate::service::config::DEMO_APP_SECRET.to_string());
    let url = url.trim_end_matches('/').to_string();
    let now = chrono::Utc::now();
    let id = format!("wamid.say{}", now.timestamp_nanos_opt().unwrap_or_default());
    let payload = crate::channels::whatsapp::text_webhook(
        "demo-phone-number-id",
        &id,
        from,
        name,
        message,
        now,
    );
    let body = serde_json::to_vec(&payload).map_err(|e| e.to_string())?;
    let signature = crate::channels::whatsapp::sign(secret.as_bytes(), &body);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let http = reqwest::Client::new();
        let messages = format!("{url}/standin/whatsapp/_standin/messages");
        let since = last_seq(&http, &messages, from).await.unwrap_or(0);
        let r = http
            .post(format!("{url}/webhook"))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "cannot reach the service at {url}: {e} (is `cargo run --release` running?)"
                )
            })?;
        if !r.status().is_success() {
            return Err(format!("the service answered {}", r.status()));
        }
        let mut shown = 0;
        for _ in 0..30 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let list: Vec<serde_json::Value> = match http
                .get(format!("{messages}?to={from}&since={since}"))
                .bearer_auth(crate::service::api::DEMO_ADMIN_TOKEN)
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => r.json().await.unwrap_or_default(),
                _ => return Err("the service is not in demo mode: replies went to WhatsApp".into()),
            };
            for m in list.iter().skip(shown) {
                print_sent(&m["body"]);
                shown += 1;
            }
            if shown > 0 {
                // Give a second reply of the same decision a moment to follow.
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                let rest: Vec<serde_json::Value> = http
                    .get(format!("{messages}?to={from}&since={since}"))
                    .bearer_auth(crate::service::api::DEMO_ADMIN_TOKEN)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?
                    .json()
                    .await
                    .unwrap_or_default();
                for m in rest.iter().skip(shown) {
                    print_sent(&m["body"]);
                }
                return Ok(true);
            }
        }
        println!("(no reply: the bot stays quiet here, or a colleague has the conversation)");
        Ok(true)
    })
}

async fn last_seq(http: &reqwest::Client, messages: &str, to: &str) -> Option<u64> {
    let list: Vec<serde_json::Value> = http
        .get(format!("{messages}?to={to}"))
        .bearer_auth(crate::service::api::DEMO_ADMIN_TOKEN)
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    list.last().and_then(|m| m["seq"].as_u64())
}

/// A sent message as a phone would show it.
fn print_sent(body: &serde_json::Value) {
    match body["type"].as_str() {
        Some("text") => println!("bot: {}", body["text"]["body"].as_str().unwrap_or_default()),
        Some("interactive") => {
            println!(
                "bot: {}",
                body["interactive"]["body"]["text"]
                    .as_str()
                    .unwrap_or_default()
            );
            for b in body["interactive"]["action"]["buttons"]
                .as_array()
                .into_iter()
                .flatten()
            {
                println!(
                    "     [{}]",
                    b["reply"]["title"].as_str().unwrap_or_default()
                );
            }
        }
        Some("template") => println!(
            "bot: (template `{}`)",
            body["template"]["name"].as_str().unwrap_or_default()
        ),
        _ => println!("bot: {body}"),
    }
}
