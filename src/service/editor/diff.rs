//! `GET /api/editor/diff?days=7`: what would change if the flows on disk were reloaded. The
//! files are read and compiled as a reload would, but never put in force; the residents'
//! messages of the last days (masked, as stored) are decided again by the flows in force
//! (before) and by the disk's (after), each as the first message of a new conversation at the
//! time it came in ([`crate::replay`]), and every decision that differs is listed.
//!
//! The work is capped: the newest [`MAX_MESSAGES`] messages, [`BUDGET`] of replaying, one
//! replay at a time; the answer says when a cap was reached. Flows with errors are not replayed:
//! the answer carries their errors as the reload's does. Nothing is stored or logged but the
//! counts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{bad_request, require_editor, ApiResult, MAX_DAYS};
use crate::flows::FlowSet;
use crate::replay::{replay, Before, Input, Side, MAX_MESSAGES};
use crate::service::caller::Caller;
use crate::service::error::{blocking, ApiError};
use crate::service::reasons;
use crate::service::state::AppState;
use crate::source::Severity;

/// How long one replay may decide messages; what is left is counted, not replayed.
pub const BUDGET: Duration = Duration::from_secs(5);
/// The groups of changed messages an answer lists at most (every change is counted).
pub const MAX_LISTED: usize = 300;

/// One replay at a time: it keeps a core busy for up to [`BUDGET`], and two editors clicking at
/// once should not take both.
static ONE_AT_A_TIME: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

#[derive(Debug, Deserialize)]
pub struct DiffQuery {
    #[serde(default)]
    days: Option<String>,
}

pub async fn diff(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    q: Query<DiffQuery>,
) -> ApiResult<Json<Value>> {
    require_editor(&caller)?;
    let (flows_dir, rules_dir) = (s.config.flows.clone(), s.config.rules.clone());
    let channels = s.channels.clone();
    replay_against(&s, caller, q, move || {
        FlowSet::load_for(&flows_dir, &rules_dir, &channels)
    })
    .await
}

/// Replays the stored messages of the last days against the flows `after` builds (blocking:
/// it runs off the async threads): the disk's for `GET diff`, a draft's for `GET draft/diff`.
pub(super) async fn replay_against<F>(
    s: &Arc<AppState>,
    caller: Caller,
    Query(q): Query<DiffQuery>,
    after: F,
) -> ApiResult<Json<Value>>
where
    F: FnOnce()
            -> Result<(FlowSet, Vec<crate::source::Diagnostic>), Vec<crate::source::Diagnostic>>
        + Send
        + 'static,
{
    let days = match q.days.as_deref().map(str::trim) {
        None | Some("") => 7,
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
    let _turn = ONE_AT_A_TIME.acquire().await.map_err(ApiError::internal)?;
    let now = s.clock.now();
    let since = now - chrono::Duration::days(days);
    let window = blocking(s, move |st| st.inbound_since(since, MAX_MESSAGES)).await?;
    let before = s.flows();
    let outcome = tokio::task::spawn_blocking(move || {
        let (after, warnings) = after()?;
        let messages: Vec<Input> = window
            .messages
            .into_iter()
            .filter(|m| m.at <= now)
            .map(Input::from)
            .collect();
        let started = Instant::now();
        let report = replay(
            Before::Flows(&before),
            &after,
            &messages,
            MAX_LISTED,
            |_| started.elapsed() < BUDGET,
        );
        let took = started.elapsed();
        Ok::<_, Vec<crate::source::Diagnostic>>((
            before,
            after,
            warnings,
            report,
            took,
            window.left_out,
        ))
    })
    .await
    .map_err(ApiError::internal)?;
    let (before, after, warnings, report, took, left_out) = match outcome {
        Ok(x) => x,
        Err(diagnostics) => {
            let errors = diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count();
            return Ok(Json(json!({
                "valid": false,
                "days": days,
                "errors": errors,
                "warnings": diagnostics.len() - errors,
                "diagnostics": diagnostics,
            })));
        }
    };
    tracing::info!(
        user = %caller.0.name,
        replayed = report.replayed,
        changed = report.changed,
        stopped = report.stopped,
        ms = took.as_millis() as u64,
        "what would change, replayed"
    );
    let side = |flows: &FlowSet, side: &Side| {
        let mut v = serde_json::to_value(side).unwrap_or_default();
        v["trace"] = reasons::trace(flows, &side.trace);
        v["winner"] = serde_json::to_value(side.winner()).unwrap_or_default();
        v
    };
    let changes: Vec<Value> = report
        .changes
        .iter()
        .map(|c| {
            let mut v = serde_json::to_value(c).unwrap_or_default();
            v["before"] = side(&before, &c.before);
            v["after"] = side(&after, &c.after);
            v
        })
        .collect();
    Ok(Json(json!({
        "valid": true,
        "days": days,
        "since": since,
        "now": now,
        "warnings": warnings.len(),
        "messages": report.messages,
        "left_out": left_out,
        "max_messages": MAX_MESSAGES,
        "replayed": report.replayed,
        "stopped": report.stopped,
        "budget_seconds": BUDGET.as_secs(),
        "changed": report.changed,
        "kinds": report.kinds,
        "changes": changes,
        "unlisted": report.unlisted,
        "names": names(&before, &after),
    })))
}

/// The departments' names and the topics' titles of both sets (the disk's win), for the page.
fn names(before: &FlowSet, after: &FlowSet) -> Value {
    let mut departments = Map::new();
    let mut topics = Map::new();
    for f in [before, after] {
        for (id, name) in f.department_names() {
            departments.insert(id.to_string(), json!(name));
        }
        for t in &f.topics {
            if let Some(title) = &t.title {
                topics.insert(t.id.clone(), json!(title));
            }
        }
    }
    json!({ "departments": departments, "topics": topics })
}
