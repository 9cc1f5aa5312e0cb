//! Editing in the browser: drafts, publish, four eyes, the versions and rollback
//! (`/api/editor/files`, `draft`, `publish`, `requests`, `versions`, `rollback`).
//!
//! **What is in force is what is on disk** (`config.flows`, `config.rules`): the server loads
//! from there and editors who use git keep working there. **Every version is kept in the
//! store**: at start-up and at every reload a version of kind `disk` is recorded when the files
//! differ from the newest version, and every publish and rollback records one, so the newest
//! version is always the set in force.
//!
//! A draft is one editor's changed files on top of a version (`base_version`); nobody else's
//! flows change until it is published. Publishing checks the draft as `triage check` does and
//! runs the conversation tests against it, then, one publish at a time, writes the changed files
//! (a temporary file in the same directory, fsync, rename; deleted files removed), reloads, and
//! records the version with its audit line. If the reload or the recording fails, the previous
//! files are written back and reloaded. A draft made on an older version is refused (409
//! `stale`) with who published what when and the diff since; files changed on the disk and not
//! reloaded are refused too (409 `disk_changed`), so that nothing is ever silently overwritten.
//! With `approval = "required"` a publish becomes a request that another editor or admin
//! approves (which publishes, through the same checks) or rejects.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{bad_request, require_editor, ApiResult};
use crate::convtest;
use crate::flows::{yaml_files, FlowSet, Sources, RULE_FILES};
use crate::service::caller::Caller;
use crate::service::config::{Approval, Config};
use crate::service::error::{blocking, parse_body, ApiError};
use crate::service::state::AppState;
use crate::source::{self, Diagnostic, Pos, Severity};
use crate::store::{
    AuditRecord, Draft, FileChange, NewRequest, NewVersion, PublishRequest, Recorded,
    RequestStatus, Store, Version, VersionKind,
};

/// Files by their path in the API (`flows/afval.yaml`, `rules/privacy.yaml`) → text.
pub type Files = BTreeMap<String, String>;

/// Who the versions found on the disk are by when no person reloaded.
pub const DISK_AUTHOR: &str = "schijf";
/// The message of a version found on the disk.
pub const DISK_MESSAGE: &str = "gewijzigd op de schijf";
/// The largest body of a draft: a few files of the largest size the checker reads.
pub const MAX_DRAFT_BODY_BYTES: usize = 2 * source::MAX_FILE_BYTES;
/// The most files one draft changes.
pub const MAX_DRAFT_FILES: usize = 200;
/// The longest publish message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 500;
/// The versions one page of the history lists at most.
pub const MAX_VERSIONS: usize = 200;
/// The publish requests listed at most.
pub const MAX_REQUESTS: usize = 100;

/// One publish, rollback, disk version or reload at a time: the files written, the flows in
/// force and the version recorded never disagree. [`super::reload_by`] takes it too.
pub static PUBLISHING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The routes; [`super::router`] merges them.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/editor/files", get(files))
        .route(
            "/api/editor/draft",
            get(draft)
                .put(save_draft)
                .delete(delete_draft)
                .layer(DefaultBodyLimit::max(MAX_DRAFT_BODY_BYTES)),
        )
        .route("/api/editor/draft/try", post(draft_try))
        .route("/api/editor/draft/test", post(draft_test))
        .route("/api/editor/draft/diff", get(draft_diff))
        .route("/api/editor/publish", post(publish))
        .route("/api/editor/requests", get(requests))
        .route("/api/editor/requests/{id}/approve", post(approve))
        .route("/api/editor/requests/{id}/reject", post(reject))
        .route("/api/editor/versions", get(versions))
        .route("/api/editor/versions/{id}", get(version))
        .route("/api/editor/rollback", post(rollback))
}

// ---------------------------------------------------------------------------------------------
// Paths: one validator for the drafts, publish and `POST /api/editor/check`.

/// The longest file name under `flows/`.
const MAX_NAME_CHARS: usize = 100;

/// Whether `path` names a file the editors may change: `flows/<name>.yaml|yml` (letters,
/// digits, `-`, `_`, `.`; no directories, no `..`, no hidden files) or one of the three
/// `rules/` files. The message says what is allowed.
fn check_path(path: &str) -> Result<(), String> {
    let refuse = || {
        format!(
            "`{path}` is geen bestand dat u hier kunt bewerken: alleen flows/<naam>.yaml \
             (letters, cijfers, - en _) en rules/{}.",
            RULE_FILES.join(", rules/")
        )
    };
    if let Some(name) = path.strip_prefix("flows/") {
        let stem = name
            .strip_suffix(".yaml")
            .or_else(|| name.strip_suffix(".yml"))
            .ok_or_else(refuse)?;
        let plain = !stem.is_empty()
            && name.chars().count() <= MAX_NAME_CHARS
            && !stem.starts_with(['.', '-'])
            && !stem.contains("..")
            && stem
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        return if plain { Ok(()) } else { Err(refuse()) };
    }
    match path.strip_prefix("rules/") {
        Some(name) if RULE_FILES.contains(&name) => Ok(()),
        _ => Err(refuse()),
    }
}

/// Where the file of a (checked) API path is on disk.
fn on_disk(config: &Config, path: &str) -> PathBuf {
    match path.strip_prefix("flows/") {
        Some(name) => config.flows.join(name),
        None => config
            .rules
            .join(path.strip_prefix("rules/").unwrap_or(path)),
    }
}

/// Validates a draft's files: known paths, each once, within the size limit, no rules file
/// deleted. The `Err` is a 400.
pub(super) fn check_changes(files: &[FileChange]) -> ApiResult<()> {
    if files.len() > MAX_DRAFT_FILES {
        return Err(bad_request(
            "too_many_files",
            format!("Hoogstens {MAX_DRAFT_FILES} bestanden tegelijk."),
        ));
    }
    for (i, f) in files.iter().enumerate() {
        check_path(&f.path).map_err(|m| bad_request("bad_path", m))?;
        if files[..i].iter().any(|g| g.path == f.path) {
            return Err(bad_request(
                "duplicate_path",
                format!("`{}` staat twee keer in het verzoek.", f.path),
            ));
        }
        match &f.text {
            Some(t) if t.len() > source::MAX_FILE_BYTES => {
                return Err(bad_request(
                    "file_too_large",
                    format!(
                        "`{}` is {} bytes; een bestand mag hoogstens {} bytes zijn: verdeel het over meer bestanden.",
                        f.path,
                        t.len(),
                        source::MAX_FILE_BYTES
                    ),
                ))
            }
            None if f.path.starts_with("rules/") => {
                return Err(bad_request(
                    "rules_file_needed",
                    format!("`{}` is nodig en kan niet weg.", f.path),
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Files, checked and compiled in memory

/// The files on disk (blocking): every `*.yaml`/`*.yml` of the flows directory and the rules
/// files that exist.
pub fn read_disk(flows_dir: &Path, rules_dir: &Path) -> Result<Files, String> {
    let mut files = Files::new();
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|e| format!("cannot read `{}`: {e}", p.display()))
    };
    let flows =
        yaml_files(flows_dir).map_err(|e| format!("cannot read `{}`: {e}", flows_dir.display()))?;
    for p in flows {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        files.insert(format!("flows/{name}"), read(&p)?);
    }
    for name in RULE_FILES {
        let p = rules_dir.join(name);
        if p.is_file() {
            files.insert(format!("rules/{name}"), read(&p)?);
        }
    }
    Ok(files)
}

/// `base` with `changes` laid over it (`None`: the file is deleted).
pub fn overlay(base: &Files, changes: &[FileChange]) -> Files {
    let mut files = base.clone();
    for c in changes {
        match &c.text {
            Some(t) => files.insert(c.path.clone(), t.clone()),
            None => files.remove(&c.path),
        };
    }
    files
}

/// Compiles `files` in memory as `triage check` does, the diagnostics named by the API paths.
pub fn compile(
    files: &Files,
    channels: &[crate::channel::Channel],
) -> Result<(FlowSet, Vec<Diagnostic>), Vec<Diagnostic>> {
    let rule = |name: &str| {
        let path = format!("rules/{name}");
        let bytes = files.get(&path).map(|t| t.as_bytes().to_vec());
        (path, bytes.unwrap_or_default())
    };
    let flows: Vec<(String, Vec<u8>)> = files
        .iter()
        .filter(|(p, _)| p.starts_with("flows/"))
        .map(|(p, t)| (p.clone(), t.as_bytes().to_vec()))
        .collect();
    if flows.is_empty() {
        return Err(vec![Diagnostic::error(
            "flows",
            Pos { line: 1, column: 1 },
            "no flow files (`*.yaml`) in this directory",
        )]);
    }
    Sources {
        office_hours: rule(RULE_FILES[0]),
        privacy: rule(RULE_FILES[1]),
        departments: rule(RULE_FILES[2]),
        flows,
        channels: channels.to_vec(),
    }
    .compile()
}

/// The checker's verdict as the page reads it: `{valid, errors, warnings, diagnostics}`.
pub(super) fn check_json(valid: bool, diagnostics: &[Diagnostic]) -> Value {
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    json!({
        "valid": valid && errors == 0,
        "errors": errors,
        "warnings": diagnostics.len() - errors,
        "diagnostics": diagnostics,
    })
}

/// What the conversation tests said of a set of flows.
struct TestRun {
    passed: usize,
    failed: usize,
    results: Vec<Value>,
    /// Test files that do not load: no test of theirs ran.
    problems: Vec<Diagnostic>,
}

impl TestRun {
    fn ok(&self) -> bool {
        self.failed == 0 && self.problems.is_empty()
    }

    fn json(&self) -> Value {
        json!({
            "passed": self.passed,
            "failed": self.failed,
            "results": self.results,
            "problems": self.problems,
        })
    }
}

/// Runs the conversation tests in `dir` (when it exists) against `set`, as `triage test` does
/// (blocking: reads the test files).
fn run_tests(set: &FlowSet, dir: &Path) -> TestRun {
    let mut run = TestRun {
        passed: 0,
        failed: 0,
        results: Vec::new(),
        problems: Vec::new(),
    };
    if !dir.is_dir() {
        return run;
    }
    let loaded = match convtest::load(&[dir.to_path_buf()]) {
        Ok(l) => l,
        Err(problems) => {
            run.problems = problems;
            return run;
        }
    };
    for lt in &loaded {
        for (i, case) in lt.tests.tests.iter().enumerate() {
            let r = convtest::run_case(set, &lt.file, i, case);
            let passed = r.failures.is_empty();
            if passed {
                run.passed += 1;
            } else {
                run.failed += 1;
            }
            let failures: Vec<Value> = r
                .failures
                .iter()
                .map(|f| {
                    json!({
                        "step": f.step,
                        "line": f.line,
                        "action": f.action,
                        "diffs": f.diffs.iter().map(|(what, expected, got)| {
                            json!({ "what": what, "expected": expected, "got": got })
                        }).collect::<Vec<_>>(),
                        "trace": f.trace,
                    })
                })
                .collect();
            run.results.push(json!({
                "file": r.file,
                "name": r.name,
                "line": r.line,
                "passed": passed,
                "failures": failures,
                "text": (!passed).then(|| convtest::format_failure(&r)),
            }));
        }
    }
    run
}

// ---------------------------------------------------------------------------------------------
// Unified diffs

/// Lines of context around each change.
const CONTEXT: usize = 3;
/// Above this many cells (lines × lines of the changed middle) the diff does not look for the
/// longest common part: the middle shows as removed and added.
const MAX_LCS_CELLS: usize = 4_000_000;

/// A unified diff of one file (`None` for the text of a file that does not exist).
pub fn unified(path: &str, old: Option<&str>, new: Option<&str>) -> String {
    let a: Vec<&str> = old.map(|t| t.lines().collect()).unwrap_or_default();
    let b: Vec<&str> = new.map(|t| t.lines().collect()).unwrap_or_default();
    let ops = line_ops(&a, &b);
    let mut out = format!(
        "--- {}\n+++ {}\n",
        old.map_or("/dev/null".to_string(), |_| format!("a/{path}")),
        new.map_or("/dev/null".to_string(), |_| format!("b/{path}")),
    );
    let changes: Vec<usize> = (0..ops.len()).filter(|&i| ops[i].0 != ' ').collect();
    let mut k = 0;
    while k < changes.len() {
        let first = changes[k];
        let mut last = first;
        while k + 1 < changes.len() && changes[k + 1] - last <= 2 * CONTEXT + 1 {
            k += 1;
            last = changes[k];
        }
        k += 1;
        let start = first.saturating_sub(CONTEXT);
        let end = (last + CONTEXT + 1).min(ops.len());
        let before = |i: usize, skip: char| ops[..i].iter().filter(|o| o.0 != skip).count();
        let (old_at, new_at) = (before(start, '+'), before(start, '-'));
        let old_len = ops[start..end].iter().filter(|o| o.0 != '+').count();
        let new_len = ops[start..end].iter().filter(|o| o.0 != '-').count();
        let at = |line: usize, len: usize| if len == 0 { line } else { line + 1 };
        out.push_str(&format!(
            "@@ -{},{old_len} +{},{new_len} @@\n",
            at(old_at, old_len),
            at(new_at, new_len)
        ));
        for (tag, line) in &ops[start..end] {
            out.push(*tag);
            out.push_str(line);
            out.push('\n');
        }
    }
    if changes.is_empty() && old != new {
        out.push_str("\\ alleen de regeleinden verschillen\n");
    }
    out
}

/// The lines of `a` and `b` as kept (` `), removed (`-`) and added (`+`), by the longest common
/// subsequence of the part between their common start and end.
fn line_ops<'t>(a: &[&'t str], b: &[&'t str]) -> Vec<(char, &'t str)> {
    let pre = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suf = a[pre..]
        .iter()
        .rev()
        .zip(b[pre..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[pre..a.len() - suf], &b[pre..b.len() - suf]);
    let mut ops: Vec<(char, &str)> = a[..pre].iter().map(|l| (' ', *l)).collect();
    let (n, m) = (ma.len(), mb.len());
    if n.saturating_mul(m) > MAX_LCS_CELLS {
        ops.extend(ma.iter().map(|l| ('-', *l)));
        ops.extend(mb.iter().map(|l| ('+', *l)));
    } else {
        // lcs[i][j]: the longest common subsequence of ma[i..] and mb[j..].
        let w = m + 1;
        let mut lcs = vec![0u32; (n + 1) * w];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i * w + j] = if ma[i] == mb[j] {
                    lcs[(i + 1) * w + j + 1] + 1
                } else {
                    lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && ma[i] == mb[j] {
                ops.push((' ', ma[i]));
                i += 1;
                j += 1;
            } else if j == m || (i < n && lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) {
                ops.push(('-', ma[i]));
                i += 1;
            } else {
                ops.push(('+', mb[j]));
                j += 1;
            }
        }
    }
    ops.extend(a[a.len() - suf..].iter().map(|l| (' ', *l)));
    ops
}

/// Every file that differs between `old` and `new`: `[{path, change, diff}]`, by path.
pub fn files_diff(old: &Files, new: &Files) -> Vec<Value> {
    let paths: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    paths
        .into_iter()
        .filter_map(|p| {
            let (a, b) = (
                old.get(p).map(String::as_str),
                new.get(p).map(String::as_str),
            );
            let change = match (a, b) {
                (x, y) if x == y => return None,
                (None, _) => "added",
                (_, None) => "removed",
                _ => "changed",
            };
            Some(json!({ "path": p, "change": change, "diff": unified(p, a, b) }))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Writing the files

/// Writes `text` to `path` atomically: a temporary file in the same directory, fsync, rename.
fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("bestand");
    // Not `*.yaml`: a reload meanwhile never reads it.
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Makes the directory's entries (renames, removals) durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Puts `to` on disk where it differs from `from` (which is on disk now).
fn write_files(config: &Config, from: &Files, to: &Files) -> std::io::Result<()> {
    let paths: std::collections::BTreeSet<&String> = from.keys().chain(to.keys()).collect();
    for p in paths {
        let path = on_disk(config, p);
        match (from.get(p), to.get(p)) {
            (a, Some(b)) if a != Some(b) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                write_atomic(&path, b)?;
            }
            (Some(_), None) => match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            },
            _ => {}
        }
    }
    sync_dir(&config.flows)?;
    sync_dir(&config.rules)
}

// ---------------------------------------------------------------------------------------------
// Versions

fn version_json(v: &Version) -> Value {
    serde_json::to_value(v).unwrap_or_default()
}

fn audit(s: &AppState, actor: &str, action: &str, detail: String) {
    let record = AuditRecord {
        at: s.clock.now(),
        actor: actor.to_string(),
        action: action.into(),
        conversation_id: None,
        detail: Some(detail),
    };
    if let Err(e) = s.store.audit(&record) {
        tracing::error!(error = %e, action, "an audit line was not stored");
    }
}

/// Records the files on disk as a version of kind `disk` when they differ from the newest
/// version (or there is none yet), by `actor` (blocking). Call it with [`PUBLISHING`] held, when
/// the disk's files are in force: at start-up and after a reload that succeeded.
pub fn record_disk_version(
    store: &dyn Store,
    config: &Config,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<Option<Version>, String> {
    let disk = read_disk(&config.flows, &config.rules)?;
    let newest = store.newest_version().map_err(|e| e.to_string())?;
    if let Some(n) = &newest {
        let (_, files) = store
            .version(n.id)
            .map_err(|e| e.to_string())?
            .ok_or("the newest version is gone")?;
        if files == disk {
            return Ok(None);
        }
    }
    let v = NewVersion {
        parent: newest.map(|n| n.id),
        author: actor.to_string(),
        at,
        message: DISK_MESSAGE.into(),
        kind: VersionKind::Disk,
        approved_by: None,
        files: disk,
        request: None,
        audit: AuditRecord {
            at,
            actor: actor.to_string(),
            action: "disk_version".into(),
            conversation_id: None,
            detail: Some(DISK_MESSAGE.into()),
        },
    };
    match store.record_version(&v).map_err(|e| e.to_string())? {
        Recorded::Done(v) => {
            tracing::info!(version = v.id, "the files on disk recorded as a version");
            Ok(Some(v))
        }
        Recorded::Stale { .. } | Recorded::RequestSettled => {
            Err("another version was recorded meanwhile".into())
        }
    }
}

/// After a reload that succeeded, [`PUBLISHING`] held: records the disk's files when they are
/// new. Failing is logged: the reload has happened either way.
pub async fn after_reload(s: &Arc<AppState>, actor: &str) {
    let (state, actor) = (s.clone(), actor.to_string());
    let done = tokio::task::spawn_blocking(move || {
        record_disk_version(
            state.store.as_ref(),
            &state.config,
            &actor,
            state.clock.now(),
        )
    })
    .await;
    match done {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            tracing::error!(error = %e, "the files on disk were not recorded as a version")
        }
        Err(e) => tracing::error!(error = %e, "the files on disk were not recorded as a version"),
    }
}

/// The newest version and its files; the disk's files are recorded first when the store has
/// none yet (a database older than the versions). Blocking, with [`PUBLISHING`] held.
fn newest(s: &AppState) -> ApiResult<(Version, Files)> {
    if s.store.newest_version()?.is_none() {
        record_disk_version(s.store.as_ref(), &s.config, DISK_AUTHOR, s.clock.now())
            .map_err(ApiError::internal)?;
    }
    let v = s
        .store
        .newest_version()?
        .ok_or_else(|| ApiError::internal("no version after recording one"))?;
    let (v, files) = s
        .store
        .version(v.id)?
        .ok_or_else(|| ApiError::internal("the newest version is gone"))?;
    Ok((v, files))
}

/// The files of version `id` (`None` for no version: nothing).
fn files_of(s: &AppState, id: Option<i64>) -> ApiResult<Option<Files>> {
    match id {
        None => Ok(Some(Files::new())),
        Some(id) => Ok(s.store.version(id)?.map(|(_, f)| f)),
    }
}

/// A moment as people in the office read it: `4 december 2026 om 14:03`.
fn local(s: &AppState, at: DateTime<Utc>) -> String {
    const MONTHS: [&str; 12] = [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ];
    use chrono::Datelike;
    let t = at.with_timezone(&s.flows().office.timezone());
    format!(
        "{} {} {} om {}",
        t.day(),
        MONTHS[t.month0() as usize],
        t.year(),
        t.format("%H:%M")
    )
}

/// 409 `stale`: the change was made on `base`, and `newest` came since.
fn stale(s: &AppState, base: Option<i64>, newest: &Version, newest_files: &Files) -> ApiError {
    let base_files = files_of(s, base).ok().flatten().unwrap_or_default();
    let base_name = base.map_or("geen versie".to_string(), |b| format!("versie {b}"));
    let what = match newest.kind {
        VersionKind::Disk => "op de schijf gewijzigd".to_string(),
        VersionKind::Rollback => "teruggezet".to_string(),
        VersionKind::Publish => "gepubliceerd".to_string(),
    };
    ApiError::conflict(
        "stale",
        format!(
            "Uw wijziging is gemaakt op {base_name}, maar sindsdien is versie {} {what} door {} op {} (\u{201c}{}\u{201d}). Bekijk die wijziging, neem haar over in uw concept en publiceer opnieuw.",
            newest.id,
            newest.author,
            local(s, newest.at),
            newest.message
        ),
    )
    .with("newest", version_json(newest))
    .with("diff", json!(files_diff(&base_files, newest_files)))
}

/// What a publish, an approval or a rollback puts in force.
struct Change {
    /// Who made the change (the version's author).
    author: String,
    /// Who does it now (the audit line's actor): the author, or who approves.
    actor: String,
    kind: VersionKind,
    message: String,
    base: Option<i64>,
    files: Vec<FileChange>,
    rollback_to: Option<i64>,
    /// The request an approval settles.
    request: Option<i64>,
    /// A request is made instead (four eyes).
    needs_approval: bool,
    /// The draft to remove once published (the author's, if it is still this change).
    draft: Option<Draft>,
}

/// What came of a change.
enum Outcome {
    Published(Version),
    Requested(PublishRequest),
}

/// Checks, tests, writes, reloads and records a change (blocking; call with [`PUBLISHING`]
/// held). Every refusal is written to the audit trail.
fn put_in_force(s: &AppState, c: Change) -> ApiResult<Outcome> {
    let action = c.kind.as_str();
    let refused = |reason: &str| {
        audit(
            s,
            &c.actor,
            &format!("{action}_refused"),
            format!("{reason}: {}", c.message),
        );
    };
    let (newest, newest_files) = newest(s)?;
    if c.base != Some(newest.id) {
        refused(&format!(
            "stale, gemaakt op versie {}, nieuwste is versie {}",
            c.base.map_or("-".into(), |b| b.to_string()),
            newest.id
        ));
        return Err(stale(s, c.base, &newest, &newest_files));
    }
    let disk = read_disk(&s.config.flows, &s.config.rules).map_err(ApiError::internal)?;
    if disk != newest_files {
        refused(&format!(
            "disk_changed, de schijf wijkt af van versie {}",
            newest.id
        ));
        return Err(ApiError::conflict(
            "disk_changed",
            format!(
                "De bestanden op de schijf zijn gewijzigd sinds versie {} en niet opnieuw geladen. Laad ze opnieuw (of herstel ze) en publiceer dan; zo gaat er niets verloren.",
                newest.id
            ),
        )
        .with("diff", json!(files_diff(&newest_files, &disk))));
    }
    let files = overlay(&newest_files, &c.files);
    if files == newest_files {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no_changes",
            "Er is niets veranderd ten opzichte van de versie die geldt.",
        ));
    }
    let set = match compile(&files, &s.channels) {
        Ok((set, _)) => set,
        Err(diagnostics) => {
            refused("invalid");
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "De bestanden hebben fouten; er is niets gepubliceerd. Herstel ze eerst.",
            )
            .with("check", check_json(false, &diagnostics))
            .with("diagnostics", json!(diagnostics)));
        }
    };
    let tests = run_tests(&set, &s.config.tests_dir());
    if !tests.ok() {
        refused("tests_failed");
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "tests_failed",
            format!(
                "{} van de {} gesprekstests slagen niet{}; er is niets gepubliceerd.",
                tests.failed,
                tests.passed + tests.failed,
                if tests.problems.is_empty() {
                    ""
                } else {
                    ", en er zijn testbestanden met fouten"
                }
            ),
        )
        .with("results", json!(tests.results))
        .with("tests", tests.json()));
    }
    if c.needs_approval {
        let request = s.store.create_request(&NewRequest {
            author: c.author.clone(),
            at: s.clock.now(),
            message: c.message.clone(),
            kind: c.kind,
            base_version: c.base,
            rollback_to: c.rollback_to,
            files: c.files.clone(),
            audit: AuditRecord {
                at: s.clock.now(),
                actor: c.actor.clone(),
                action: format!("{action}_requested"),
                conversation_id: None,
                detail: Some(format!("op versie {}: {}", newest.id, c.message)),
            },
        })?;
        return Ok(Outcome::Requested(request));
    }
    // Write, reload, record; on any failure the previous files go back.
    let restore = |why: &str| {
        tracing::error!(
            why,
            "publishing failed; the previous files are written back"
        );
        if let Err(e) = write_files(&s.config, &files, &newest_files) {
            tracing::error!(error = %e, "the previous files could not be written back");
        }
        s.reload();
    };
    if let Err(e) = write_files(&s.config, &newest_files, &files) {
        restore("writing");
        return Err(ApiError::internal(format!("writing the files: {e}")));
    }
    let status = s.reload();
    if !status.ok {
        restore("reloading");
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "reload_failed",
            "De nieuwe bestanden lieten zich niet laden; de vorige zijn teruggezet en blijven gelden.",
        )
        .with("check", check_json(false, &status.diagnostics)));
    }
    let at = s.clock.now();
    let approved = c.request.is_some().then(|| c.actor.clone());
    let mut detail = c.message.clone();
    if let Some(r) = c.request {
        detail = format!("verzoek {r} van {}, goedgekeurd: {detail}", c.author);
    }
    if let Some(to) = c.rollback_to {
        detail = format!("terug naar versie {to}: {detail}");
    }
    let recorded = s.store.record_version(&NewVersion {
        parent: Some(newest.id),
        author: c.author.clone(),
        at,
        message: c.message.clone(),
        kind: c.kind,
        approved_by: approved,
        files: files.clone(),
        request: c.request,
        audit: AuditRecord {
            at,
            actor: c.actor.clone(),
            action: action.into(),
            conversation_id: None,
            detail: Some(detail),
        },
    });
    let version = match recorded {
        Ok(Recorded::Done(v)) => v,
        Ok(Recorded::Stale { newest: Some(n) }) => {
            restore("another version came meanwhile");
            let files = files_of(s, Some(n.id))?.unwrap_or_default();
            return Err(stale(s, c.base, &n, &files));
        }
        Ok(Recorded::Stale { newest: None }) => {
            restore("the versions are gone");
            return Err(ApiError::internal("the versions are gone"));
        }
        Ok(Recorded::RequestSettled) => {
            restore("the request was settled meanwhile");
            return Err(not_pending());
        }
        Err(e) => {
            restore("recording the version");
            return Err(e.into());
        }
    };
    if let Some(d) = c.draft {
        // Only if it is still this change: an editor who went on keeps their new draft.
        if s.store.draft(&d.user)?.is_some_and(|now| now == d) {
            s.store.delete_draft(&d.user)?;
        }
    }
    tracing::info!(version = version.id, kind = action, user = %c.actor, "files published");
    Ok(Outcome::Published(version))
}

/// Runs [`put_in_force`] off the async threads, one at a time, and answers 200 with the
/// version or 202 with the request.
async fn run(s: &Arc<AppState>, c: Change) -> ApiResult<Response> {
    let _turn = PUBLISHING.lock().await;
    let state = s.clone();
    let outcome = tokio::task::spawn_blocking(move || put_in_force(&state, c))
        .await
        .map_err(ApiError::internal)??;
    Ok(match outcome {
        Outcome::Published(v) => Json(json!({ "version": version_json(&v) })).into_response(),
        Outcome::Requested(r) => (
            StatusCode::ACCEPTED,
            Json(json!({
                "request": request_json(&r, None),
                "message": "Uw wijziging wacht op de goedkeuring van een andere redacteur.",
            })),
        )
            .into_response(),
    })
}

fn not_pending() -> ApiError {
    ApiError::conflict(
        "not_pending",
        "Over dit verzoek is al beslist: het is goedgekeurd of afgewezen.",
    )
}

fn no_draft() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no_draft", "U heeft geen concept.")
}

// ---------------------------------------------------------------------------------------------
// Routes: the files and the draft

/// `GET /api/editor/files`: the files in force, with their version.
async fn files(State(s): State<Arc<AppState>>, caller: Caller) -> ApiResult<Json<Value>> {
    require_editor(&caller)?;
    let _turn = PUBLISHING.lock().await;
    let state = s.clone();
    let (v, files) = tokio::task::spawn_blocking(move || newest(&state))
        .await
        .map_err(ApiError::internal)??;
    let files: Vec<Value> = files
        .into_iter()
        .map(|(path, text)| json!({ "path": path, "text": text }))
        .collect();
    Ok(Json(json!({ "version": version_json(&v), "files": files })))
}

async fn draft(State(s): State<Arc<AppState>>, caller: Caller) -> ApiResult<Json<Draft>> {
    require_editor(&caller)?;
    let user = caller.0.name.clone();
    blocking(&s, move |st| st.draft(&user))
        .await?
        .map(Json)
        .ok_or_else(no_draft)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftBody {
    base_version: i64,
    files: Vec<FileChange>,
}

/// The draft of the caller with its files laid over its base version's (blocking).
fn draft_files(s: &AppState, user: &str) -> ApiResult<(Draft, Files)> {
    let d = s.store.draft(user)?.ok_or_else(no_draft)?;
    let base = files_of(s, d.base_version)?.ok_or_else(|| {
        ApiError::internal(format!(
            "the draft's base version {:?} is gone",
            d.base_version
        ))
    })?;
    let files = overlay(&base, &d.files);
    Ok((d, files))
}

/// `PUT /api/editor/draft`: stores the caller's draft and checks it.
async fn save_draft(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    require_editor(&caller)?;
    let req: DraftBody = parse_body(&body)?;
    check_changes(&req.files)?;
    let state = s.clone();
    let user = caller.0.name.clone();
    let check = tokio::task::spawn_blocking(move || {
        let base = files_of(&state, Some(req.base_version))?.ok_or_else(|| {
            bad_request(
                "unknown_version",
                format!("Versie {} bestaat niet.", req.base_version),
            )
        })?;
        let files = overlay(&base, &req.files);
        let draft = Draft {
            user,
            base_version: Some(req.base_version),
            files: req.files,
            updated_at: state.clock.now(),
        };
        state.store.save_draft(&draft)?;
        Ok::<_, ApiError>(match compile(&files, &state.channels) {
            Ok((_, warnings)) => check_json(true, &warnings),
            Err(diagnostics) => check_json(false, &diagnostics),
        })
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(Json(json!({ "saved": true, "check": check })))
}

async fn delete_draft(State(s): State<Arc<AppState>>, caller: Caller) -> ApiResult<Json<Value>> {
    require_editor(&caller)?;
    let user = caller.0.name.clone();
    if blocking(&s, move |st| st.delete_draft(&user)).await? {
        Ok(Json(json!({ "deleted": true })))
    } else {
        Err(no_draft())
    }
}

/// The caller's draft compiled; 422 `invalid` when it has errors.
async fn draft_flows(s: &Arc<AppState>, caller: &Caller) -> ApiResult<FlowSet> {
    let state = s.clone();
    let user = caller.0.name.clone();
    tokio::task::spawn_blocking(move || {
        let (_, files) = draft_files(&state, &user)?;
        compile(&files, &state.channels)
            .map(|(set, _)| set)
            .map_err(|diagnostics| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    "Het concept heeft fouten; herstel ze eerst.",
                )
                .with("check", check_json(false, &diagnostics))
            })
    })
    .await
    .map_err(ApiError::internal)?
}

/// `POST /api/editor/draft/try`: as `POST /api/editor/try`, decided by the caller's draft.
async fn draft_try(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    require_editor(&caller)?;
    let flows = draft_flows(&s, &caller).await?;
    super::try_with(&flows, &caller, &body, s.clock.now()).map(Json)
}

/// `POST /api/editor/draft/test`: the conversation tests against the caller's draft.
async fn draft_test(State(s): State<Arc<AppState>>, caller: Caller) -> ApiResult<Json<Value>> {
    require_editor(&caller)?;
    let flows = draft_flows(&s, &caller).await?;
    let dir = s.config.tests_dir();
    let run = tokio::task::spawn_blocking(move || run_tests(&flows, &dir))
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(run.json()))
}

/// `GET /api/editor/draft/diff?days=N`: as `GET /api/editor/diff`, against the caller's draft.
async fn draft_diff(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    q: Query<super::diff::DiffQuery>,
) -> ApiResult<Json<Value>> {
    require_editor(&caller)?;
    let state = s.clone();
    let user = caller.0.name.clone();
    let files = tokio::task::spawn_blocking(move || draft_files(&state, &user).map(|(_, f)| f))
        .await
        .map_err(ApiError::internal)??;
    let channels = s.channels.clone();
    super::diff::replay_against(&s, caller, q, move || compile(&files, &channels)).await
}

// ---------------------------------------------------------------------------------------------
// Routes: publish, requests, versions, rollback

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishBody {
    message: String,
}

fn message(m: &str) -> ApiResult<String> {
    let m = m.trim();
    if m.is_empty() {
        return Err(bad_request(
            "message_needed",
            "Schrijf in een zin wat u veranderde.",
        ));
    }
    let n = m.chars().count();
    if n > MAX_MESSAGE_CHARS {
        return Err(bad_request(
            "message_too_long",
            format!("De toelichting is {n} tekens; hoogstens {MAX_MESSAGE_CHARS}."),
        ));
    }
    Ok(m.to_string())
}

fn approval_required(s: &AppState) -> bool {
    s.config.editor.approval == Approval::Required
}

/// `POST /api/editor/publish`: puts the caller's draft in force (or asks for approval).
async fn publish(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Response> {
    require_editor(&caller)?;
    let req: PublishBody = parse_body(&body)?;
    let message = message(&req.message)?;
    let user = caller.0.name.clone();
    let draft = blocking(&s, move |st| st.draft(&user))
        .await?
        .ok_or_else(no_draft)?;
    let change = Change {
        author: caller.0.name.clone(),
        actor: caller.0.name.clone(),
        kind: VersionKind::Publish,
        message,
        base: draft.base_version,
        files: draft.files.clone(),
        rollback_to: None,
        request: None,
        needs_approval: approval_required(&s),
        draft: Some(draft),
    };
    run(&s, change).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackBody {
    version: i64,
    /// The version the editor saw as newest: refused as stale when another came since.
    #[serde(default)]
    base_version: Option<i64>,
    #[serde(default)]
    message: Option<String>,
}

/// `POST /api/editor/rollback`: a new version (kind `rollback`) with an earlier one's files.
async fn rollback(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Response> {
    require_editor(&caller)?;
    let req: RollbackBody = parse_body(&body)?;
    let message = match req.message.as_deref().map(str::trim) {
        None | Some("") => format!("Teruggezet naar versie {}", req.version),
        Some(m) => message(m)?,
    };
    let _turn = PUBLISHING.lock().await;
    let state = s.clone();
    let user = caller.0.name.clone();
    let needs_approval = approval_required(&s);
    let outcome = tokio::task::spawn_blocking(move || {
        let Some((_, target)) = state.store.version(req.version)? else {
            return Err(ApiError::not_found(format!(
                "Versie {} bestaat niet.",
                req.version
            )));
        };
        let (newest, newest_files) = newest(&state)?;
        let mut files: Vec<FileChange> = target
            .iter()
            .filter(|(p, t)| newest_files.get(*p) != Some(t))
            .map(|(p, t)| FileChange {
                path: p.clone(),
                text: Some(t.clone()),
            })
            .collect();
        files.extend(
            newest_files
                .keys()
                .filter(|p| !target.contains_key(*p))
                .map(|p| FileChange {
                    path: p.clone(),
                    text: None,
                }),
        );
        put_in_force(
            &state,
            Change {
                author: user.clone(),
                actor: user,
                kind: VersionKind::Rollback,
                message,
                base: Some(req.base_version.unwrap_or(newest.id)),
                files,
                rollback_to: Some(req.version),
                request: None,
                needs_approval,
                draft: None,
            },
        )
    })
    .await
    .map_err(ApiError::internal)??;
    drop(_turn);
    Ok(match outcome {
        Outcome::Published(v) => Json(json!({ "version": version_json(&v) })).into_response(),
        Outcome::Requested(r) => (
            StatusCode::ACCEPTED,
            Json(json!({
                "request": request_json(&r, None),
                "message": "Het terugzetten wacht op de goedkeuring van een andere redacteur.",
            })),
        )
            .into_response(),
    })
}

fn request_json(r: &PublishRequest, diff: Option<Vec<Value>>) -> Value {
    let mut v = json!({
        "id": r.id,
        "author": r.author,
        "at": r.at,
        "message": r.message,
        "kind": r.kind,
        "base_version": r.base_version,
        "rollback_to": r.rollback_to,
        "files": r.files.iter().map(|f| json!({
            "path": f.path,
            "change": if f.text.is_some() { "changed" } else { "removed" },
        })).collect::<Vec<_>>(),
        "status": r.status,
        "decided_by": r.decided_by,
        "decided_at": r.decided_at,
        "reason": r.reason,
        "version": r.version,
    });
    if let Some(d) = diff {
        v["diff"] = json!(d);
    }
    v
}

#[derive(Debug, Deserialize)]
struct RequestsQuery {
    /// `all`: also those already decided.
    #[serde(default)]
    status: Option<String>,
}

/// `GET /api/editor/requests[?status=all]`: the pending requests (or all), newest first, each
/// with its diff against the version it was made on.
async fn requests(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Query(q): Query<RequestsQuery>,
) -> ApiResult<Json<Value>> {
    require_editor(&caller)?;
    let pending_only = match q.status.as_deref() {
        None | Some("") | Some("pending") => true,
        Some("all") => false,
        Some(other) => {
            return Err(bad_request(
                "bad_status",
                format!("`status` is `pending` of `all`, niet `{other}`."),
            ))
        }
    };
    let state = s.clone();
    let list = tokio::task::spawn_blocking(move || {
        let list = state.store.requests(pending_only, MAX_REQUESTS)?;
        list.iter()
            .map(|r| {
                let diff = files_of(&state, r.base_version)?.map(|base| {
                    let after = overlay(&base, &r.files);
                    files_diff(&base, &after)
                });
                Ok(request_json(r, diff))
            })
            .collect::<ApiResult<Vec<Value>>>()
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(Json(json!({ "requests": list })))
}

/// The pending request `id` that `caller` may decide on: not their own.
async fn decidable(s: &Arc<AppState>, caller: &Caller, id: i64) -> ApiResult<PublishRequest> {
    let r = blocking(s, move |st| st.request(id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Verzoek {id} bestaat niet.")))?;
    if r.status != RequestStatus::Pending {
        return Err(not_pending());
    }
    if r.author == caller.0.name {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "own_request",
            "Een ander moet uw verzoek beoordelen: dat is het vier-ogenprincipe.",
        ));
    }
    Ok(r)
}

/// `POST /api/editor/requests/{id}/approve`: publishes the request (through the same checks;
/// stale when another version came since it was made).
async fn approve(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    UrlPath(id): UrlPath<i64>,
) -> ApiResult<Response> {
    require_editor(&caller)?;
    let r = decidable(&s, &caller, id).await?;
    let author = r.author.clone();
    let draft = blocking(&s, move |st| st.draft(&author)).await?;
    // The author's draft goes only if it is still exactly what was approved.
    let draft = draft.filter(|d| d.base_version == r.base_version && d.files == r.files);
    let change = Change {
        author: r.author,
        actor: caller.0.name.clone(),
        kind: r.kind,
        message: r.message,
        base: r.base_version,
        files: r.files,
        rollback_to: r.rollback_to,
        request: Some(r.id),
        needs_approval: false,
        draft,
    };
    run(&s, change).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RejectBody {
    #[serde(default)]
    reason: Option<String>,
}

/// `POST /api/editor/requests/{id}/reject` (`{reason?}`).
async fn reject(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    UrlPath(id): UrlPath<i64>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    require_editor(&caller)?;
    let req: RejectBody = if body.is_empty() {
        RejectBody::default()
    } else {
        parse_body(&body)?
    };
    let reason = match req.reason.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(m) => Some(message(m)?),
    };
    let r = decidable(&s, &caller, id).await?;
    let by = caller.0.name.clone();
    let audit = AuditRecord {
        at: s.clock.now(),
        actor: by.clone(),
        action: "publish_rejected".into(),
        conversation_id: None,
        detail: Some(format!(
            "verzoek {id} van {}{}",
            r.author,
            reason
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        )),
    };
    let done = blocking(&s, move |st| {
        st.reject_request(id, &by, reason.as_deref(), &audit)
    })
    .await?;
    if !done {
        return Err(not_pending());
    }
    let r = blocking(&s, move |st| st.request(id))
        .await?
        .ok_or_else(|| ApiError::internal("the request just rejected is gone"))?;
    Ok(Json(json!({ "request": request_json(&r, None) })))
}

#[derive(Debug, Deserialize)]
struct VersionsQuery {
    #[serde(default)]
    before: Option<i64>,
    #[serde(default)]
    limit: Option<usize>,
}

/// `GET /api/editor/versions[?before=ID&limit=N]`: an array, newest first.
async fn versions(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Query(q): Query<VersionsQuery>,
) -> ApiResult<Json<Value>> {
    require_editor(&caller)?;
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_VERSIONS);
    if q.before.is_none() {
        // A database older than the versions gets its first one here.
        let _turn = PUBLISHING.lock().await;
        let state = s.clone();
        tokio::task::spawn_blocking(move || newest(&state))
            .await
            .map_err(ApiError::internal)??;
    }
    let list = blocking(&s, move |st| st.versions(q.before, limit)).await?;
    Ok(Json(json!(list
        .iter()
        .map(version_json)
        .collect::<Vec<_>>())))
}

/// `GET /api/editor/versions/{id}`: a version with its files' paths and the unified diff
/// against its parent.
async fn version(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    UrlPath(id): UrlPath<i64>,
) -> ApiResult<Json<Value>> {
    require_editor(&caller)?;
    let state = s.clone();
    let found = tokio::task::spawn_blocking(move || {
        let Some((v, files)) = state.store.version(id)? else {
            return Ok(None);
        };
        let parent = files_of(&state, v.parent)?.unwrap_or_default();
        Ok::<_, ApiError>(Some((v, files, parent)))
    })
    .await
    .map_err(ApiError::internal)??;
    let (v, files, parent) =
        found.ok_or_else(|| ApiError::not_found(format!("Versie {id} bestaat niet.")))?;
    Ok(Json(json!({
        "version": version_json(&v),
        "files": files.keys().collect::<Vec<_>>(),
        "diff": files_diff(&parent, &files),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_the_flow_files_and_the_three_rules_files() {
        for ok in [
            "flows/afval.yaml",
            "flows/werk-en-inkomen.yml",
            "flows/a_b.2.yaml",
            "rules/privacy.yaml",
        ] {
            assert!(check_path(ok).is_ok(), "{ok}");
        }
        for bad in [
            "flows/../rules/privacy.yaml",
            "flows/..yaml",
            "flows/.verborgen.yaml",
            "flows/sub/afval.yaml",
            "flows/afval.json",
            "flows/af val.yaml",
            "/etc/passwd",
            "rules/andere.yaml",
            "afval.yaml",
            "",
        ] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_unified_diff_shows_the_changed_lines_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\ni\nj\nk\n";
        assert_eq!(
            unified("flows/x.yaml", Some(old), Some(new)),
            "--- a/flows/x.yaml\n+++ b/flows/x.yaml\n\
             @@ -2,9 +2,10 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n i\n j\n+k\n"
        );
        // Far apart: two hunks.
        let old: String = (1..=20).map(|i| format!("{i}\n")).collect();
        let new = old.replace("2\n", "twee\n").replace("19\n", "negentien\n");
        let d = unified("f", Some(&old), Some(&new));
        assert_eq!(d.matches("@@ -").count(), 2, "{d}");
        assert!(
            d.contains("@@ -1,5 +1,5 @@\n 1\n-2\n+twee\n 3\n 4\n 5\n"),
            "{d}"
        );
        // A new file and a removed one.
        assert_eq!(
            unified("f", None, Some("x\ny\n")),
            "--- /dev/null\n+++ b/f\n@@ -0,0 +1,2 @@\n+x\n+y\n"
        );
        assert_eq!(
            unified("f", Some("x\n"), None),
            "--- a/f\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-x\n"
        );
    }

    #[test]
    fn files_diff_lists_added_changed_and_removed_files() {
        let old: Files = [("a".into(), "1\n".into()), ("b".into(), "2\n".into())].into();
        let new: Files = [("b".into(), "3\n".into()), ("c".into(), "4\n".into())].into();
        let d = files_diff(&old, &new);
        let kinds: Vec<(&str, &str)> = d
            .iter()
            .map(|v| (v["path"].as_str().unwrap(), v["change"].as_str().unwrap()))
            .collect();
        assert_eq!(kinds, [("a", "removed"), ("b", "changed"), ("c", "added")]);
        assert!(files_diff(&old, &old).is_empty());
    }

    #[test]
    fn the_shipped_files_compile_in_memory_as_on_disk() {
        let files = read_disk(Path::new("flows"), Path::new("rules")).unwrap();
        assert!(files.contains_key("rules/privacy.yaml"));
        assert!(files.keys().any(|p| p.starts_with("flows/")));
        let (set, _) = compile(&files, &[]).unwrap();
        let (disk, _) = FlowSet::load(Path::new("flows"), Path::new("rules")).unwrap();
        assert_eq!(set.topics.len(), disk.topics.len());
        // A misspelt field is named by the API's path.
        let afval = files["flows/afval.yaml"].replacen("keywords:", "keywrods:", 1);
        let broken = overlay(
            &files,
            &[FileChange {
                path: "flows/afval.yaml".into(),
                text: Some(afval),
            }],
        );
        let errors = compile(&broken, &[]).unwrap_err();
        assert!(errors
            .iter()
            .any(|d| d.file == "flows/afval.yaml" && d.message.contains("keywrods")));
    }

    #[test]
    fn writing_and_writing_back_leave_the_files_as_they_were() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            flows: dir.path().join("flows"),
            rules: dir.path().join("rules"),
            ..Config::default()
        };
        std::fs::create_dir_all(&config.flows).unwrap();
        std::fs::create_dir_all(&config.rules).unwrap();
        std::fs::write(config.flows.join("a.yaml"), "a\n").unwrap();
        std::fs::write(config.flows.join("b.yaml"), "b\n").unwrap();
        std::fs::write(config.rules.join("privacy.yaml"), "p\n").unwrap();
        let before = read_disk(&config.flows, &config.rules).unwrap();
        let after = overlay(
            &before,
            &[
                FileChange {
                    path: "flows/a.yaml".into(),
                    text: Some("a2\n".into()),
                },
                FileChange {
                    path: "flows/b.yaml".into(),
                    text: None,
                },
                FileChange {
                    path: "flows/c.yml".into(),
                    text: Some("c\n".into()),
                },
            ],
        );
        write_files(&config, &before, &after).unwrap();
        assert_eq!(read_disk(&config.flows, &config.rules).unwrap(), after);
        assert!(!config.flows.join("b.yaml").exists());
        write_files(&config, &after, &before).unwrap();
        assert_eq!(read_disk(&config.flows, &config.rules).unwrap(), before);
        assert!(!config.flows.join("c.yml").exists());
    }

    #[test]
    fn a_file_is_replaced_whole_and_no_temporary_file_stays() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("afval.yaml");
        std::fs::write(&p, "oud\n").unwrap();
        write_atomic(&p, "nieuw\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "nieuw\n");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["afval.yaml"]);
    }
}
