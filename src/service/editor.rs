//! The editors' API: the state of the flow files, what reloading them would change
//! ([`diff`]), reloading them, trying a message, and the questions that went to a person;
//! editing in the browser with drafts, publish and the versions ([`publish`]).
//!
//! Editors and admins only; an agent gets 403. The status checks the files on disk as they are
//! now (not the set in force), so an editor sees their mistake before reloading, and a reload
//! that is refused leaves the previous flows serving. "Try a message" decides with the flows in
//! force, as a new conversation would, and stores nothing; the text is never logged.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::api::MAX_BODY_BYTES;
use super::caller::Caller;
use super::error::{blocking, parse_body, ApiError};
use super::state::{AppState, ReloadStatus};
use crate::convtest;
use crate::engine::{decide, ConversationState, Message};
use crate::flows::FlowSet;

/// The longest message the editors' page tries (what a resident could send on WhatsApp).
const MAX_TRY_CHARS: usize = crate::channel::WHATSAPP.max_text_chars;
use crate::source::{Diagnostic, Severity};
use crate::store::{AuditRecord, Role};
use crate::unmatched;

/// The most handed-over questions grouped at once (the newest).
pub const MAX_UNMATCHED: usize = 1000;
/// The longest period the unmatched questions are asked for, in days.
pub const MAX_DAYS: i64 = 366;

type ApiResult<T> = Result<T, ApiError>;

/// The files not yet in force, checked (`/api/editor/check`), and the schemas.
pub mod check;
/// What would change with the flows on disk (`/api/editor/diff`).
mod diff;
/// Drafts, publish, four eyes, the versions and rollback.
pub mod publish;

/// Reloads the flows off the async threads and writes who did it, and how it went, to the audit
/// trail: `/admin/reload` and the editors' page both reload through here.
pub async fn reload_by(s: &Arc<AppState>, actor: &str) -> Result<ReloadStatus, ApiError> {
    // Never in the middle of a publish; a reload that puts changed files in force records them
    // as a version.
    let _turn = publish::PUBLISHING.lock().await;
    let state = s.clone();
    let status = tokio::task::spawn_blocking(move || state.reload())
        .await
        .map_err(ApiError::internal)?;
    if status.ok {
        publish::after_reload(s, actor).await;
    }
    let errors = status
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = status.diagnostics.len() - errors;
    let audit = AuditRecord {
        at: status.at,
        actor: actor.to_string(),
        action: "reload".into(),
        conversation_id: None,
        detail: Some(if status.ok {
            format!("loaded, {warnings} warning(s)")
        } else {
            format!("refused, {errors} error(s), {warnings} warning(s); the previous flows stay")
        }),
    };
    let store = s.store.clone();
    match tokio::task::spawn_blocking(move || store.audit(&audit)).await {
        Ok(Ok(())) => {}
        // The reload has happened either way; its answer must say how it went.
        Ok(Err(e)) => tracing::error!(error = %e, "the reload's audit line was not stored"),
        Err(e) => tracing::error!(error = %e, "the reload's audit line was not stored"),
    }
    tracing::info!(user = %actor, ok = status.ok, "flows reloaded on request");
    Ok(status)
}

/// The editors' routes; [`super::app::router`] merges them.
pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/editor/status", get(status))
        .route("/api/editor/reload", post(reload))
        .route("/api/editor/try", post(try_message))
        .route("/api/editor/unmatched", get(unmatched))
        .route("/api/editor/diff", get(diff::diff))
        .merge(publish::routes())
        .route("/api/editor/schema/{name}", get(check::schema))
        .route(
            "/api/editor/check",
            post(check::check).layer(DefaultBodyLimit::max(publish::MAX_DRAFT_BODY_BYTES)),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(super::error::json_errors))
        .layer(axum::middleware::map_response(super::error::no_store))
}

fn require_editor(caller: &Caller) -> ApiResult<()> {
    match caller.0.role {
        Role::Editor | Role::Admin => Ok(()),
        Role::Agent => Err(ApiError::forbidden(
            "De redactiepagina is voor redacteuren en beheerders.",
        )),
    }
}

fn bad_request(error: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, error, message)
}

// ---------------------------------------------------------------------------------------------
// Status

/// The files on disk, checked.
struct Check {
    valid: bool,
    diagnostics: Vec<Diagnostic>,
    /// The conversation tests next to the flows, when there are any.
    tests: Option<Value>,
}

/// Loads the files as `triage check` does, with the conversation tests in `dir` (blocking: reads
/// the disk).
fn check_files(
    flows: &Path,
    rules: &Path,
    dir: PathBuf,
    channels: &[crate::channel::Channel],
) -> Check {
    match FlowSet::load_for(flows, rules, channels) {
        Ok((set, warnings)) => {
            let tests = dir.is_dir().then(|| {
                let (untested, problems) = match convtest::load(std::slice::from_ref(&dir)) {
                    Ok(t) => (convtest::untested_topics(&set, &t), Vec::new()),
                    Err(e) => (Vec::new(), e),
                };
                json!({
                    "dir": dir.display().to_string(),
                    "untested": untested,
                    "problems": problems,
                })
            });
            Check {
                valid: true,
                diagnostics: warnings,
                tests,
            }
        }
        Err(diagnostics) => Check {
            valid: false,
            diagnostics,
            tests: None,
        },
    }
}

async fn status(State(s): State<Arc<AppState>>, caller: Caller) -> ApiResult<Json<Value>> {
    require_editor(&caller)?;
    let (flows_dir, rules_dir) = (s.config.flows.clone(), s.config.rules.clone());
    let tests_dir = s.config.tests_dir();
    let channels = s.channels.clone();
    let check = tokio::task::spawn_blocking(move || {
        check_files(&flows_dir, &rules_dir, tests_dir, &channels)
    })
    .await
    .map_err(ApiError::internal)?;
    let flows = s.flows();
    let loaded_at = *s
        .flows_loaded_at
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let last_reload: Option<ReloadStatus> = s
        .last_reload
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let errors = check
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    Ok(Json(json!({
        "checked_at": s.clock.now(),
        "valid": check.valid,
        "errors": errors,
        "warnings": check.diagnostics.len() - errors,
        "diagnostics": check.diagnostics,
        "tests": check.tests,
        "in_force": {
            "files": flows.files.len(),
            "topics": flows.topics.len(),
            "departments": flows.departments_json(),
            "loaded_at": loaded_at,
        },
        "last_reload": last_reload,
        "flows_dir": s.config.flows.display().to_string(),
        "rules_dir": s.config.rules.display().to_string(),
    })))
}

/// Reloads the flows; the answer is 200 also when the reload is refused (`ok: false`, with the
/// errors): the page shows either.
async fn reload(State(s): State<Arc<AppState>>, caller: Caller) -> ApiResult<Json<ReloadStatus>> {
    require_editor(&caller)?;
    reload_by(&s, &caller.0.name).await.map(Json)
}

// ---------------------------------------------------------------------------------------------
// Try a message

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TryRequest {
    text: String,
    /// RFC 3339, or `YYYY-MM-DDTHH:MM` in the office's timezone; default now.
    #[serde(default)]
    at: Option<String>,
}

/// The moment `at` names: RFC 3339, or a local time of the office (`2026-11-27T19:30`, as a
/// browser's date-time field gives it). A local time the clocks skip is refused; one they pass
/// twice is the first.
pub fn parse_at(flows: &FlowSet, at: &str) -> Result<DateTime<Utc>, String> {
    let at = at.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(at) {
        return Ok(t.with_timezone(&Utc));
    }
    let naive = NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| {
            format!(
                "`{at}` is geen tijdstip zoals `2026-11-27T19:30` of `2026-11-27T19:30:00+01:00`."
            )
        })?;
    let tz = flows.office.timezone();
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| format!("{at} bestaat niet in {tz}: dan gaat de klok een uur vooruit."))
}

async fn try_message(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    require_editor(&caller)?;
    try_with(&s.flows(), &caller, &body, s.clock.now()).map(Json)
}

/// Decides the message of a try request with `flows` (those in force, or a draft's).
fn try_with(
    flows: &FlowSet,
    caller: &Caller,
    body: &Bytes,
    now: DateTime<Utc>,
) -> ApiResult<Value> {
    let req: TryRequest = parse_body(body)?;
    let text = req.text.trim();
    if text.is_empty() {
        return Err(bad_request("empty", "Typ een bericht om te proberen."));
    }
    let chars = text.chars().count();
    if chars > MAX_TRY_CHARS {
        return Err(bad_request(
            "text_too_long",
            format!(
                "Het bericht is {chars} tekens lang. Een chatbericht heeft er hoogstens {MAX_TRY_CHARS}."
            ),
        ));
    }
    let now = match req.at.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        Some(at) => parse_at(flows, at).map_err(|m| bad_request("bad_time", m))?,
        None => now,
    };
    // As the first message of a new conversation; nothing is stored.
    let d = decide(
        flows,
        &ConversationState::default(),
        &Message::text(text),
        now,
    );
    tracing::info!(user = %caller.0.name, outcome = d.outcome.as_str(), "message tried");
    let tz = flows.office.timezone();
    let department_name = d.department.as_deref().and_then(|id| {
        flows
            .department_index(id)
            .map(|i| flows.departments[i as usize].name.clone())
    });
    let topic_title = d.topic.as_deref().and_then(|id| {
        flows
            .topics
            .iter()
            .find(|t| t.id == id)
            .and_then(|t| t.title.clone())
    });
    Ok(json!({
        "at": now,
        "local_time": now.with_timezone(&tz).to_rfc3339(),
        "open": d.open,
        "outcome": d.outcome.as_str(),
        "topic": d.topic,
        "topic_title": topic_title,
        "department": d.department,
        "department_name": department_name,
        "follow_up_at": d.follow_up_at,
        "replies": d.replies_with_links(),
        "findings": d.findings,
        "masked_text": d.redacted_text,
        "trace": super::reasons::trace(flows, &d.trace),
    }))
}

// ---------------------------------------------------------------------------------------------
// Unmatched questions

#[derive(Debug, Deserialize)]
struct UnmatchedQuery {
    #[serde(default)]
    days: Option<String>,
}

async fn unmatched(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Query(q): Query<UnmatchedQuery>,
) -> ApiResult<Json<Value>> {
    require_editor(&caller)?;
    let days = match q.days.as_deref().map(str::trim) {
        None | Some("") => 30,
        Some(d) => d
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=MAX_DAYS).contains(d))
            .ok_or_else(|| {
                bad_request(
                    "bad_days",
                    format!("`days` is een aantal dagen van 1 tot en met {MAX_DAYS}."),
                )
            })?,
    };
    let now = s.clock.now();
    let since = now - chrono::Duration::days(days);
    let questions = blocking(&s, move |st| st.handed_over_since(since, MAX_UNMATCHED)).await?;
    let count = questions.len();
    let groups = tokio::task::spawn_blocking(move || unmatched::group(&questions))
        .await
        .map_err(ApiError::internal)?;
    let flows = s.flows();
    let departments: serde_json::Map<String, Value> = flows
        .department_names()
        .map(|(id, name)| (id.to_string(), json!(name)))
        .collect();
    Ok(Json(json!({
        "days": days,
        "since": since,
        "now": now,
        "questions": count,
        "truncated": count >= MAX_UNMATCHED,
        "departments": departments,
        "groups": groups,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_or_local_office_time() {
        let (flows, _) = FlowSet::load(Path::new("flows"), Path::new("rules")).unwrap();
        assert_eq!(
            parse_at(&flows, "2026-11-27T19:30:00+01:00").unwrap(),
            "2026-11-27T18:30:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        // Winter and summer time in Europe/Amsterdam.
        assert_eq!(
            parse_at(&flows, "2026-11-27T19:30").unwrap(),
            "2026-11-27T18:30:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            parse_at(&flows, " 2026-07-01T09:00:00 ").unwrap(),
            "2026-07-01T07:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        // 02:30 on the last Sunday of March does not exist; on the last Sunday of October it
        // comes twice (the first is summer time).
        assert!(parse_at(&flows, "2026-03-29T02:30")
            .unwrap_err()
            .contains("bestaat niet"));
        assert_eq!(
            parse_at(&flows, "2026-10-25T02:30").unwrap(),
            "2026-10-25T00:30:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert!(parse_at(&flows, "vrijdagavond").is_err());
    }
}
