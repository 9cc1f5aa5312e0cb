//! The agents' API: JSON over HTTP with a bearer token per user.
//!
//! Agents work the queues of their own departments; anything else is 403, also by direct URL.
//! Editors and admins see every queue; only admins manage users. Every action that changes a
//! conversation is one store transaction (state, columns, messages, outbox rows, audit line),
//! computed from the conversation as read and stored only if it has not changed since
//! ([`Store::agent_change`]); otherwise it is computed again.
//!
//! Phone numbers are shown masked to their last four digits; message text is masked before it is
//! stored, so the history shows only masked text. Log lines name conversation ids and user
//! names, never numbers or text.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::caller::{new_token, token_hash, Caller, CallerSession, MAX_USER_NAME_CHARS};
use super::error::{blocking, json_errors, no_store, parse_body, ApiError, ApiResult};
use super::state::AppState;
use crate::channel::{Author, Channel, OutsideWindow, Permit};
use crate::engine::{render, ConversationState, Phase, Reply};
use crate::flows::FlowSet;
use crate::store::{
    AgentChange, AgentMessage, AuditRecord, ChangeOutcome, ConversationView, NewUser, OutboundText,
    QueueQuery, Role, Store, StoreError, User, Waiting, WaitingTime, READ_ACTION,
};

/// The OpenAPI 3.1 description of this API, served at `/api/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Demo users' tokens: only created in demo mode (no WhatsApp access token), which production
/// refuses.
pub const DEMO_AGENT_TOKEN: &str = "demo-agent-token";
pub const DEMO_ADMIN_TOKEN: &str = "demo-admin-token";
/// The demo editor's token (demo mode only).
pub const DEMO_EDITOR_TOKEN: &str = "demo-editor-token";

/// Reads of one conversation by one person within this time of an audited read are the same
/// look and are not audited again.
pub const READ_AUDIT_EVERY: chrono::Duration = chrono::Duration::minutes(15);

/// The service goal: an answer within one business hour.
pub const GOAL_SECONDS: i64 = 3600;
/// "Due soon": this little business time left of the goal.
pub const DUE_SOON_SECONDS: i64 = 15 * 60;
/// Request bodies of the API are small.
pub(super) const MAX_BODY_BYTES: usize = 64 * 1024;
/// How often an action is computed again when the conversation changed under it.
const ATTEMPTS: usize = 3;
/// A queue is read a page at a time: this many unless asked, at most [`MAX_PAGE`].
pub const PAGE: usize = 50;
pub const MAX_PAGE: usize = 200;
/// The longest search an agent types.
const MAX_SEARCH_CHARS: usize = 100;
/// The audit action of a number shown to an agent for a call back.
pub const NUMBER_SHOWN: &str = "number_shown";
/// Why an agent may see a resident's number; the audit line names the reason, never the number.
const NUMBER_REASONS: &[&str] = &["call_back", "urgent"];

/// The API's routes; [`super::app::router`] merges them.
pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api/me", get(me))
        .route("/api/queues", get(queues))
        .route("/api/mine", get(mine))
        .route("/api/queues/{department}", get(queue))
        .route("/api/queues/{department}/next", post(claim_next))
        .route("/api/conversations/{id}", get(conversation))
        .route("/api/conversations/{id}/claim", post(claim))
        .route("/api/conversations/{id}/number", post(reveal_number))
        .route("/api/conversations/{id}/reply", post(reply))
        .route("/api/conversations/{id}/forward", post(forward))
        .route("/api/conversations/{id}/resolve", post(resolve))
        .route("/api/conversations/{id}/reopen", post(reopen))
        .route("/api/canned", get(canned))
        .route("/api/users", get(users).post(add_user))
        .route("/api/users/{name}", delete(remove_user))
        .route(
            "/api/residents/{channel}/{id}",
            get(resident_export).delete(resident_erase),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(json_errors))
        .layer(axum::middleware::map_response(no_store))
}

// ---------------------------------------------------------------------------------------------
// Users and tokens

/// Checks a new user's name, role and departments against the flows.
pub fn new_user(
    flows: &FlowSet,
    name: &str,
    role: &str,
    departments: &[String],
    token: &str,
    at: DateTime<Utc>,
) -> Result<NewUser, String> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_USER_NAME_CHARS
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(format!(
            "invalid user name `{name}`: use 1 to 64 letters, digits, `-`, `_` or `.`"
        ));
    }
    let role = Role::parse(role).ok_or_else(|| {
        let hint = crate::text::did_you_mean(role, ["agent", "editor", "admin"])
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        format!("unknown role `{role}`: use agent, editor or admin{hint}")
    })?;
    let mut ids = Vec::new();
    for d in departments
        .iter()
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
    {
        check_department(flows, d)?;
        if !ids.iter().any(|x: &String| x == d) {
            ids.push(d.to_string());
        }
    }
    if role == Role::Agent && ids.is_empty() {
        return Err("an agent needs at least one department".into());
    }
    Ok(NewUser {
        name: name.to_string(),
        role,
        departments: ids,
        token_hash: token_hash(token),
        at,
    })
}

/// An error with a "did you mean" when `id` is not a department of the flows (in English: the
/// command line's `triage user add` checks through here too).
fn check_department(flows: &FlowSet, id: &str) -> Result<(), String> {
    if flows.department_index(id).is_some() {
        return Ok(());
    }
    let hint = department_like(flows, id)
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default();
    Err(format!("unknown department `{id}`{hint}"))
}

/// The department whose id is closest to `id`, for a "did you mean".
fn department_like<'a>(flows: &'a FlowSet, id: &str) -> Option<&'a str> {
    crate::text::did_you_mean(id, flows.departments.iter().map(|d| d.id.as_str()))
}

/// What the web application shows for an unknown department `id`, in Dutch.
fn unknown_department(flows: &FlowSet, id: &str) -> String {
    let hint = department_like(flows, id)
        .map(|s| format!(" Bedoel je `{s}`?"))
        .unwrap_or_default();
    format!("Afdeling `{id}` bestaat niet.{hint}")
}

/// In demo mode: `demo-agent` (agent of every department), `demo-editor` and `demo-admin`, with fixed tokens
/// and the password [`super::auth::DEMO_PASSWORD`].
pub fn ensure_demo_users(
    store: &dyn Store,
    flows: &FlowSet,
    at: DateTime<Utc>,
) -> crate::store::Result<()> {
    let every: Vec<String> = flows.departments.iter().map(|d| d.id.clone()).collect();
    let demo_hash = super::auth::hash_password(super::auth::DEMO_PASSWORD).map_err(StoreError)?;
    for (name, role, departments, token) in [
        ("demo-agent", Role::Agent, every, DEMO_AGENT_TOKEN),
        ("demo-editor", Role::Editor, Vec::new(), DEMO_EDITOR_TOKEN),
        ("demo-admin", Role::Admin, Vec::new(), DEMO_ADMIN_TOKEN),
    ] {
        store.add_user(
            &NewUser {
                name: name.into(),
                role,
                departments,
                token_hash: token_hash(token),
                at,
            },
            true,
        )?;
        store.set_password(name, &demo_hash)?;
    }
    Ok(())
}

/// With a real WhatsApp account: removes users that still carry a demo token (left by an earlier
/// demo run on the same database), whose tokens are printed and known to everyone. Returns their
/// names.
pub fn remove_demo_users(store: &dyn Store) -> crate::store::Result<Vec<String>> {
    let mut removed = Vec::new();
    for token in [DEMO_AGENT_TOKEN, DEMO_EDITOR_TOKEN, DEMO_ADMIN_TOKEN] {
        if let Some(user) = store.user_by_token(&token_hash(token))? {
            store.remove_user(&user.name)?;
            removed.push(user.name);
        }
    }
    Ok(removed)
}

// ---------------------------------------------------------------------------------------------
// Presentation

/// "a", "a en b", "a, b en c": a list as a Dutch sentence says it.
fn dutch_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} en {last}", rest.join(", ")),
    }
}

/// A phone number as agents see it: `******5678`.
pub fn mask_number(number: &str) -> String {
    let digits: Vec<char> = number.chars().collect();
    let tail: String = if digits.len() > 4 {
        digits[digits.len() - 4..].iter().collect()
    } else {
        String::new()
    };
    format!("******{tail}")
}

/// Business seconds waited (rounded) and the goal state.
pub fn goal(
    flows: &FlowSet,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> (i64, &'static str) {
    let waited = since
        .map(|t| flows.office.business_time_between(t, now))
        .unwrap_or_else(Duration::zero);
    let secs = (waited.num_milliseconds() + 500).div_euclid(1000);
    let left = GOAL_SECONDS - secs;
    let state = if left < 0 {
        "late"
    } else if left <= DUE_SOON_SECONDS {
        "due_soon"
    } else {
        "on_time"
    };
    (secs, state)
}

fn department_name(flows: &FlowSet, id: &str) -> String {
    flows
        .department_index(id)
        .map(|i| flows.departments[i as usize].name.clone())
        .unwrap_or_else(|| id.to_string())
}

/// The templates the flows name, with their parameters filled in for this conversation.
fn templates(flows: &FlowSet, st: &ConversationState) -> Vec<Reply> {
    let department = st
        .department
        .as_deref()
        .map(|d| department_name(flows, d))
        .unwrap_or_else(|| flows.default_department().name.clone());
    let vars = [
        ("name", st.resident_name.clone().unwrap_or_default()),
        ("department", department),
    ];
    let t = &flows.follow_up.def.template;
    vec![Reply::Template {
        name: t.name.clone(),
        language: t.language.clone(),
        parameters: t.parameters.iter().map(|p| render(p, &vars)).collect(),
    }]
}

fn templates_json(flows: &FlowSet, list: &[Reply]) -> Value {
    Value::Array(
        list.iter()
            .filter_map(|r| match r {
                Reply::Template {
                    name,
                    language,
                    parameters,
                } => Some(json!({
                    "name": name,
                    "language": language,
                    "parameters": parameters,
                    "text": template_text(flows, name, parameters),
                })),
                Reply::Text { .. } => None,
            })
            .collect(),
    )
}

/// A template's body as the resident reads it, when the flows give its text.
fn template_text(flows: &FlowSet, name: &str, parameters: &[String]) -> Option<String> {
    let t = &flows.follow_up.def.template;
    (t.name == name).then(|| t.render(parameters)).flatten()
}

/// A sent template as stored in the history (`[template NAME: P1 | P2]`, the engine's
/// rendering of [`Reply::Template`]) shown as the resident read it, when the flows know its text.
fn history_text(flows: &FlowSet, stored: &str) -> Option<String> {
    let inner = stored.strip_prefix("[template ")?.strip_suffix(']')?;
    let (name, params) = inner.split_once(": ").unwrap_or((inner, ""));
    let parameters: Vec<String> = if params.is_empty() {
        Vec::new()
    } else {
        params.split(" | ").map(str::to_string).collect()
    };
    let t = &flows.follow_up.def.template;
    if t.name != name || parameters.len() != t.parameters.len() {
        return None;
    }
    template_text(flows, name, &parameters)
}

/// What a person may send on the conversation's channel now.
fn permit(channel: Channel, st: &ConversationState, now: DateTime<Utc>) -> Permit {
    channel
        .policy()
        .permit(Author::Agent, st.last_inbound_at, now)
}

/// The longest note an agent may add (it is never sent).
const MAX_NOTE_CHARS: usize = 4096;

fn user_json(u: &User) -> Value {
    json!({
        "name": u.name,
        "role": u.role.as_str(),
        "departments": u.departments,
        "created_at": u.created_at,
    })
}

fn queue_entry(flows: &FlowSet, w: &Waiting, now: DateTime<Utc>) -> Value {
    let (secs, goal_state) = goal(flows, w.waiting_since, now);
    json!({
        "id": w.id,
        "resident_name": w.resident_name,
        "resident": mask_number(&w.resident),
        "last_message": w.last_message.as_ref().map(|(text, at)| json!({ "text": text, "at": at })),
        "waiting_since": w.waiting_since,
        "waiting_business_seconds": secs,
        "goal": goal_state,
        "phase": w.phase,
        "channel": w.channel,
        "department": w.department,
        "agent": w.agent,
        "on_top": w.on_top,
        "language": language_json(flows, w.language),
    })
}

/// A conversation's language for the inbox: its code and the name the flows give it.
fn language_json(flows: &FlowSet, language: Option<crate::language::Language>) -> Value {
    let l = language.unwrap_or_default();
    json!({
        "code": l.code(),
        "name": flows.language(l).map(|e| e.name.as_str()),
        "rtl": l.is_rtl(),
    })
}

fn conversation_json(flows: &FlowSet, v: &ConversationView, now: DateTime<Utc>) -> Value {
    let c = &v.conversation;
    let st = &c.state;
    let permit = permit(c.channel, st, now);
    let window = matches!(permit, Permit::Open | Permit::HumanAgentTag { .. });
    let policy = c.channel.policy();
    let waiting = matches!(st.phase, Phase::Queued | Phase::AwaitingFollowUp);
    let (secs, goal_state) = goal(flows, v.waiting_since.filter(|_| waiting), now);
    json!({
        "id": c.id,
        "channel": c.channel,
        "channel_title": policy.title,
        "phone_numbers": policy.phone_numbers,
        "max_text_chars": policy.max_text_chars,
        "window": {
            "permit": permit,
            "closes_at": policy.window_closes(st.last_inbound_at),
            "last_reply_at": policy.last_reply_at(st.last_inbound_at),
        },
        "resident": mask_number(&c.resident),
        "resident_name": v.resident_name,
        "phase": st.phase.as_str(),
        "department": st.department,
        "agent": c.agent,
        "on_top": v.on_top,
        "language": language_json(flows, st.language),
        "waiting_since": v.waiting_since,
        "waiting_business_seconds": waiting.then_some(secs),
        "goal": waiting.then_some(goal_state),
        "last_inbound_at": st.last_inbound_at,
        "in_window": window,
        "window_closes_at": policy.window_closes(st.last_inbound_at),
        "templates": if permit == Permit::TemplatesOnly {
            templates_json(flows, &templates(flows, st))
        } else {
            json!([])
        },
        "messages": v.messages.iter().map(|m| {
            let mut j = json!(m);
            if m.kind == "template" {
                if let Some(text) = history_text(flows, &m.text) {
                    j["template"] = json!(m.text);
                    j["text"] = json!(text);
                }
            }
            j
        }).collect::<Vec<_>>(),
        "decisions": super::reasons::decisions(flows, &v.decisions),
        "audit": v.audit,
        "labels": super::labels::labels_json(flows, &v.labels),
        "can_label": super::labels::may_label(v),
    })
}

/// `id` from the path; anything but a number is a conversation that does not exist.
pub(super) fn conversation_id(raw: &str) -> ApiResult<i64> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("Gesprek `{raw}` bestaat niet.")))
}

/// Loads a conversation the caller may see.
pub(super) async fn visible(
    state: &Arc<AppState>,
    caller: &Caller,
    id: i64,
) -> ApiResult<ConversationView> {
    let view = blocking(state, move |s| s.conversation_view(id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Gesprek {id} bestaat niet.")))?;
    if !caller.sees(view.conversation.state.department.as_deref()) {
        tracing::info!(
            user = %caller.0.name,
            conversation = id,
            "conversation of another department refused"
        );
        return Err(ApiError::forbidden(
            "Dit gesprek hoort niet bij een van jouw afdelingen.",
        ));
    }
    Ok(view)
}

// ---------------------------------------------------------------------------------------------
// Handlers: reading

async fn openapi(_caller: Caller) -> Response {
    ([("content-type", "application/json")], OPENAPI).into_response()
}

/// The caller, with what the web application needs at start: the session's CSRF token, whether
/// this is the demo, and every department (to forward to).
async fn me(State(s): State<Arc<AppState>>, caller: CallerSession) -> Json<Value> {
    let CallerSession(user, csrf) = caller;
    let flows = s.flows();
    let mut body = user_json(&user);
    body["csrf"] = json!(csrf);
    body["demo"] = json!(s.demo());
    body["all_departments"] = flows.departments_json();
    // The channels in use, as the pages name and mark them: a new channel needs no page change.
    body["channels"] = s
        .channels
        .iter()
        .map(|c| {
            let p = c.policy();
            json!({ "id": c, "title": p.title, "mark": p.mark, "colour": p.colour })
        })
        .collect();
    Json(body)
}

/// Canned answers for agents' replies: every FAQ topic's first answer with its links, as the
/// bot would send it. From the flows in force, so editors' changes reach agents on reload.
async fn canned(State(s): State<Arc<AppState>>, _caller: Caller) -> Json<Value> {
    let flows = s.flows();
    let list: Vec<Value> = flows
        .topics
        .iter()
        .filter_map(|t| {
            let mut text = t.answers.first()?.clone();
            if !t.links.is_empty() {
                text.push('\n');
                for l in &t.links {
                    text.push_str(&format!("\n🔗 {}: {}", l.title, l.url));
                }
            }
            Some(json!({ "topic": t.id, "title": t.title.as_deref().unwrap_or(&t.id), "text": text }))
        })
        .collect();
    Json(json!({ "canned": list }))
}

/// The conversations the caller has claimed: those where the resident wrote after the agent's
/// last reply first (longest waiting in business hours, counted from that message), then the rest.
async fn mine(State(s): State<Arc<AppState>>, caller: Caller) -> ApiResult<Json<Value>> {
    let name = caller.0.name.clone();
    let list = blocking(&s, move |st| st.claimed(&name)).await?;
    let (flows, now) = (s.flows(), s.clock.now());
    let mut entries: Vec<(bool, i64, Value)> = list
        .iter()
        .map(|w| {
            let since = w
                .unanswered
                .then(|| w.last_message.as_ref().map(|(_, at)| *at))
                .flatten();
            let (secs, goal_state) = goal(&flows, since, now);
            let mut v = queue_entry(&flows, w, now);
            v["unanswered"] = json!(w.unanswered);
            v["waiting_business_seconds"] = json!(if w.unanswered { secs } else { 0 });
            v["goal"] = json!(if w.unanswered { goal_state } else { "on_time" });
            (w.unanswered, secs, v)
        })
        .collect();
    entries.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    Ok(Json(json!({
        "agent": caller.0.name,
        "conversations": entries.into_iter().map(|(_, _, v)| v).collect::<Vec<_>>(),
    })))
}

async fn queues(State(s): State<Arc<AppState>>, caller: Caller) -> ApiResult<Json<Value>> {
    let flows = s.flows();
    let now = s.clock.now();
    let times = blocking(&s, |st| st.waiting_times()).await?;
    let mut ids: Vec<(String, String)> = flows
        .department_names()
        .map(|(id, name)| (id.to_string(), name.to_string()))
        .collect();
    // Conversations left in a department that a reload removed stay visible to editors.
    for (d, _) in &times {
        if let Some(d) = d {
            if !ids.iter().any(|(id, _)| id == d) {
                ids.push((d.clone(), d.clone()));
            }
        }
    }
    let list: Vec<Value> = ids
        .iter()
        .filter(|(id, _)| caller.sees(Some(id)))
        .map(|(id, name)| {
            let here = since_of(&times, id);
            let late = late_count(&flows, &here, now);
            json!({ "id": id, "name": name, "waiting": here.len(), "late": late })
        })
        .collect();
    Ok(Json(json!({ "now": now, "queues": list })))
}

/// The waiting times of one department, oldest first (as [`Store::waiting_times`] gives them).
fn since_of(times: &[WaitingTime], department: &str) -> Vec<Option<DateTime<Utc>>> {
    times
        .iter()
        .filter(|(d, _)| d.as_deref() == Some(department))
        .map(|(_, t)| *t)
        .collect()
}

/// How many of `since` (oldest first, unknown last) are late. The business time waited only
/// grows the earlier a wait began, so the late ones are a prefix: a binary search finds its end.
fn late_count(flows: &FlowSet, since: &[Option<DateTime<Utc>>], now: DateTime<Utc>) -> usize {
    since.partition_point(|t| t.is_some() && goal(flows, *t, now).1 == "late")
}

/// What the inbox asks of a queue: `?q=` (a name, the masked number's last digits, words of a
/// message), `channel`, `state` (`queued`, `awaiting_follow_up`, `again`), `late=true`, and
/// the page (`offset`, `limit`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueParams {
    q: Option<String>,
    channel: Option<String>,
    state: Option<String>,
    late: Option<String>,
    offset: Option<usize>,
    limit: Option<usize>,
}

impl QueueParams {
    /// The store's query; `late_until` is when the newest late wait began.
    fn query(&self, department: &str) -> ApiResult<QueueQuery> {
        let mut q = QueueQuery {
            department: department.to_string(),
            offset: self.offset.unwrap_or(0),
            limit: self.limit.unwrap_or(PAGE).clamp(1, MAX_PAGE),
            ..QueueQuery::default()
        };
        if let Some(raw) = self.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            if raw.chars().count() > MAX_SEARCH_CHARS {
                return Err(ApiError::bad_request(
                    "bad_request",
                    format!("Een zoekopdracht is hoogstens {MAX_SEARCH_CHARS} tekens lang."),
                ));
            }
            // `******0001` as shown, or `0001`: the number's end. More digits than agents see
            // never match a number (the search is no way to test a whole number).
            let digits = raw.trim_start_matches(['*', ' ']);
            if !digits.is_empty() && digits.len() <= 4 && digits.chars().all(|c| c.is_ascii_digit())
            {
                q.number_tail = Some(digits.to_string());
            }
            q.text = Some(if q.number_tail.is_some() { digits } else { raw }.to_string());
        }
        match self.channel.as_deref().filter(|c| !c.is_empty()) {
            None => {}
            Some(c) if Channel::parse(c).is_some() => q.channel = Some(c.to_string()),
            Some(other) => {
                let names: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
                return Err(ApiError::bad_request(
                    "bad_request",
                    format!(
                        "Onbekend kanaal `{other}`: kies {}.",
                        dutch_list(&names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>())
                    ),
                ));
            }
        }
        match self.state.as_deref().filter(|x| !x.is_empty()) {
            None => {}
            Some(p @ ("queued" | "awaiting_follow_up")) => q.phase = Some(p.to_string()),
            Some("again") => q.on_top = true,
            Some(other) => {
                return Err(ApiError::bad_request(
                    "bad_request",
                    format!(
                        "Onbekende stand `{other}`: kies `queued`, `awaiting_follow_up` of `again`."
                    ),
                ))
            }
        }
        Ok(q)
    }

    fn late(&self) -> ApiResult<bool> {
        match self.late.as_deref() {
            None | Some("" | "false" | "0") => Ok(false),
            Some("true" | "1") => Ok(true),
            Some(other) => Err(ApiError::bad_request(
                "bad_request",
                format!("`late` is `true` of `false`, niet `{other}`."),
            )),
        }
    }
}

/// Checks that `department` is a queue the caller may read.
fn queue_access(
    flows: &FlowSet,
    caller: &Caller,
    department: &str,
    times: &[WaitingTime],
) -> ApiResult<()> {
    let known = flows.department_index(department).is_some()
        || times.iter().any(|(d, _)| d.as_deref() == Some(department));
    if !known {
        return Err(ApiError::not_found(unknown_department(flows, department)));
    }
    if !caller.sees(Some(department)) {
        tracing::info!(user = %caller.0.name, %department, "queue of another department refused");
        return Err(ApiError::forbidden(
            "Deze wachtrij hoort niet bij een van jouw afdelingen.",
        ));
    }
    Ok(())
}

/// One page of a queue, filtered: on top first, then the longest wait in business hours, then
/// the oldest conversation. The search itself is never logged (it may hold personal data).
async fn queue(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Path(department): Path<String>,
    params: Result<Query<QueueParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(params) = params.map_err(|e| {
        ApiError::bad_request(
            "bad_request",
            format!("De zoekvraag klopt niet: {}", e.body_text()),
        )
    })?;
    let flows = s.flows();
    let now = s.clock.now();
    let times = blocking(&s, |st| st.waiting_times()).await?;
    queue_access(&flows, &caller, &department, &times)?;
    let mut query = params.query(&department)?;
    let here = since_of(&times, &department);
    let late = late_count(&flows, &here, now);
    if params.late()? {
        match late.checked_sub(1).and_then(|i| here[i]) {
            Some(newest) => query.waiting_at_or_before = Some(newest),
            None => {
                return Ok(Json(json!({
                    "id": department,
                    "name": department_name(&flows, &department),
                    "now": now,
                    "waiting": here.len(),
                    "late": late,
                    "total": 0,
                    "offset": query.offset,
                    "limit": query.limit,
                    "conversations": [],
                })))
            }
        }
    }
    let (offset, limit) = (query.offset, query.limit);
    let page = blocking(&s, move |st| st.queue_page(&query)).await?;
    let list: Vec<Value> = page
        .conversations
        .iter()
        .map(|w| queue_entry(&flows, w, now))
        .collect();
    Ok(Json(json!({
        "id": department,
        "name": department_name(&flows, &department),
        "now": now,
        "waiting": here.len(),
        "late": late,
        "total": page.total,
        "offset": offset,
        "limit": limit,
        "conversations": list,
    })))
}

async fn conversation(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = conversation_id(&id)?;
    let view = visible(&s, &caller, id).await?;
    let now = s.clock.now();
    // Who looked: one line per person and conversation per [`READ_AUDIT_EVERY`] (the inbox
    // reads an open conversation again at every live update). The conversation view does not
    // list these lines ([`READ_ACTION`]), so they never push the actions out of sight.
    let audit = AuditRecord {
        at: now,
        actor: caller.0.name.clone(),
        action: READ_ACTION.into(),
        conversation_id: Some(id),
        detail: None,
    };
    blocking(&s, move |st| {
        st.audit_unless_since(&audit, now - READ_AUDIT_EVERY)
    })
    .await?;
    Ok(Json(conversation_json(&s.flows(), &view, now)))
}

// ---------------------------------------------------------------------------------------------
// Handlers: acting

/// What an action does, computed from the conversation as read.
struct Plan {
    state: ConversationState,
    agent: Option<String>,
    messages: Vec<AgentMessage>,
    action: &'static str,
    detail: Option<String>,
}

/// Reads the conversation, plans, and stores the plan if the conversation did not change
/// meanwhile (else plans again).
async fn act<F>(s: &Arc<AppState>, caller: &Caller, raw_id: &str, plan: F) -> ApiResult<Json<Value>>
where
    F: Fn(&ConversationView, &FlowSet, DateTime<Utc>) -> ApiResult<Plan>,
{
    let id = conversation_id(raw_id)?;
    for _ in 0..ATTEMPTS {
        let view = visible(s, caller, id).await?;
        let flows = s.flows();
        let now = s.clock.now();
        let p = plan(&view, &flows, now)?;
        let change = AgentChange {
            conversation_id: id,
            version: view.version.clone(),
            state: p.state.clone(),
            agent: p.agent.clone(),
            messages: p.messages,
            audit: AuditRecord {
                at: now,
                actor: caller.0.name.clone(),
                action: p.action.to_string(),
                conversation_id: Some(id),
                detail: p.detail,
            },
            at: now,
        };
        match blocking(s, move |st| st.agent_change(&change)).await? {
            ChangeOutcome::Done { outbox } => {
                if !outbox.is_empty() {
                    s.wake_sender.notify_one();
                }
                tracing::info!(user = %caller.0.name, conversation = id, action = p.action, "agent action");
                let mut departments: Vec<String> = p.state.department.iter().cloned().collect();
                if let Some(d) = &view.conversation.state.department {
                    if !departments.contains(d) {
                        departments.push(d.clone());
                    }
                }
                s.live.publish(super::events::Change {
                    conversation: id,
                    departments,
                    what: p.action,
                });
                return Ok(Json(json!({
                    "id": id,
                    "phase": p.state.phase.as_str(),
                    "department": p.state.department,
                    "agent": p.agent,
                    "on_top": p.state.on_top,
                    "outbox": outbox,
                })));
            }
            ChangeOutcome::Stale => continue,
        }
    }
    Err(ApiError::conflict(
        "busy",
        "Het gesprek verandert steeds. Probeer het nog eens.",
    ))
}

async fn claim(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    act(&s, &caller, &id, |v, _, _| {
        let mut st = v.conversation.state.clone();
        let before = v.conversation.agent.clone();
        st.phase = Phase::WithAgent;
        st.follow_up_at = None;
        Ok(Plan {
            state: st,
            agent: Some(caller.0.name.clone()),
            messages: Vec::new(),
            action: "claim",
            detail: before
                .filter(|b| *b != caller.0.name)
                .map(|b| format!("taken over from {b}")),
        })
    })
    .await
}

/// Claims the first conversation of the queue that nobody has claimed, in the queue's order,
/// and answers as a claim does (with its `id`); 404 when none is left. Two agents pressing it at
/// once get two different conversations: one that was claimed meanwhile is skipped.
async fn claim_next(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Path(department): Path<String>,
) -> ApiResult<Json<Value>> {
    let flows = s.flows();
    let times = blocking(&s, |st| st.waiting_times()).await?;
    queue_access(&flows, &caller, &department, &times)?;
    let mut offset = 0;
    loop {
        let query = QueueQuery {
            department: department.clone(),
            offset,
            limit: PAGE,
            ..QueueQuery::default()
        };
        let page = blocking(&s, move |st| st.queue_page(&query)).await?;
        if page.conversations.is_empty() {
            return Err(ApiError::not_found(
                "In deze wachtrij wacht niemand die nog niet is opgepakt.",
            ));
        }
        for w in page.conversations.iter().filter(|w| w.agent.is_none()) {
            let name = caller.0.name.clone();
            let d = department.clone();
            let r = act(&s, &caller, &w.id.to_string(), |v, _, _| {
                let c = &v.conversation;
                let waiting = matches!(c.state.phase, Phase::Queued | Phase::AwaitingFollowUp);
                if c.agent.is_some() || !waiting || c.state.department.as_deref() != Some(&d) {
                    return Err(ApiError::conflict(
                        "taken",
                        "Een collega heeft dit gesprek net opgepakt.",
                    ));
                }
                let mut st = c.state.clone();
                st.phase = Phase::WithAgent;
                st.follow_up_at = None;
                Ok(Plan {
                    state: st,
                    agent: Some(name.clone()),
                    messages: Vec::new(),
                    action: "claim",
                    detail: None,
                })
            })
            .await;
            match r {
                Err(e) if e.status() == StatusCode::CONFLICT => continue,
                other => return other,
            }
        }
        offset += PAGE;
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NumberRequest {
    reason: String,
}

/// The resident's number, for a call back: only to an agent of the conversation's department
/// or an admin, only with a reason, and every time with an audit line (who, which conversation,
/// why; never the number). Nothing shows it by default; the answer is never cached.
async fn reveal_number(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let req: NumberRequest = parse_body(&body)?;
    if !NUMBER_REASONS.contains(&req.reason.as_str()) {
        return Err(ApiError::bad_request(
            "bad_request",
            format!(
                "Onbekende reden `{}`: kies uit {}",
                req.reason,
                NUMBER_REASONS
                    .iter()
                    .map(|r| format!("`{r}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    if caller.0.role == Role::Editor {
        return Err(ApiError::forbidden(
            "Alleen medewerkers van de afdeling en beheerders zien het nummer van een inwoner.",
        ));
    }
    let id = conversation_id(&id)?;
    let view = visible(&s, &caller, id).await?;
    let c = &view.conversation;
    if !c.channel.policy().phone_numbers {
        return Err(ApiError::conflict(
            "no_number",
            "Dit kanaal geeft geen telefoonnummer.",
        ));
    }
    let audit = AuditRecord {
        at: s.clock.now(),
        actor: caller.0.name.clone(),
        action: NUMBER_SHOWN.into(),
        conversation_id: Some(id),
        detail: Some(format!("reason: {}", req.reason)),
    };
    blocking(&s, move |st| st.audit(&audit)).await?;
    tracing::info!(user = %caller.0.name, conversation = id, reason = %req.reason, "number shown for a call back");
    Ok(Json(
        json!({ "id": id, "number": format!("+{}", c.resident.trim_start_matches('+')) }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyRequest {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    template: Option<String>,
}

async fn reply(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let req: ReplyRequest = parse_body(&body)?;
    let text = req.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
    match (text, &req.template) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "bad_request",
                "Stuur een tekst of een sjabloon, niet allebei.",
            ))
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "bad_request",
                "Er is niets om te versturen: typ een antwoord of kies een sjabloon.",
            ))
        }
        _ => {}
    }
    // Agents do not send personal data in a chat either, and the history must not hold it.
    if let Some(t) = text {
        let found = s.flows().privacy.scan(t);
        if !found.is_empty() {
            let mut labels: Vec<&str> = found.iter().map(|f| f.label.as_str()).collect();
            labels.dedup();
            return Err(ApiError::bad_request(
                "personal_data",
                format!(
                    "Je antwoord bevat {}. Dat hoort niet in een chat: verwijs de inwoner naar de beveiligde pagina.",
                    dutch_list(&labels.iter().map(|l| format!("een {l}")).collect::<Vec<_>>())
                ),
            ));
        }
    }
    let text = text.map(str::to_string);
    act(&s, &caller, &id, |v, flows, now| {
        let mut st = v.conversation.state.clone();
        let available = templates(flows, &st);
        let channel = v.conversation.channel;
        let policy = channel.policy();
        let (out, detail) = match (&text, &req.template) {
            (Some(t), _) => {
                let n = t.chars().count();
                if n > policy.max_text_chars {
                    return Err(ApiError::bad_request(
                        "text_too_long",
                        format!(
                            "Je antwoord is {n} tekens lang. {} neemt er hoogstens {}.",
                            policy.title, policy.max_text_chars
                        ),
                    ));
                }
                match permit(channel, &st, now) {
                    Permit::Open | Permit::HumanAgentTag { .. } => {}
                    Permit::TemplatesOnly => {
                        return Err(ApiError::conflict(
                            "outside_window",
                            format!(
                                "De inwoner schreef meer dan {} uur geleden voor het laatst. {} neemt nu alleen een sjabloon aan.",
                                policy.window.map_or(0, |w| w.num_hours()),
                                policy.title
                            ),
                        )
                        .with("templates", templates_json(flows, &available)));
                    }
                    Permit::Closed => {
                        return Err(ApiError::conflict(
                            "outside_window",
                            format!(
                                "De inwoner schreef te lang geleden voor het laatst. {} neemt geen bericht meer aan tot de inwoner weer schrijft.",
                                policy.title
                            ),
                        ));
                    }
                }
                let reply = Reply::Text {
                    text: t.clone(),
                    buttons: Vec::new(),
                };
                (reply, format!("text, {} characters", t.chars().count()))
            }
            (None, Some(_)) if policy.outside_window != Some(OutsideWindow::Templates) => {
                return Err(ApiError::conflict(
                    "no_templates",
                    format!(
                        "{} kent geen sjablonen: antwoord met een tekst.",
                        policy.title
                    ),
                ));
            }
            (None, Some(name)) => {
                let found = available.iter().find(
                    |r| matches!(r, Reply::Template { name: n, .. } if n == name),
                );
                let Some(reply) = found.cloned() else {
                    let names = available.iter().filter_map(|r| match r {
                        Reply::Template { name, .. } => Some(name.as_str()),
                        Reply::Text { .. } => None,
                    });
                    let hint = crate::text::did_you_mean(name, names)
                        .map(|n| format!(" Bedoel je `{n}`?"))
                        .unwrap_or_default();
                    return Err(ApiError::bad_request(
                        "unknown_template",
                        format!("Sjabloon `{name}` staat niet in de flows.{hint}"),
                    )
                    .with("templates", templates_json(flows, &available)));
                };
                (reply, format!("template {name}"))
            }
            (None, None) => {
                return Err(ApiError::bad_request("bad_request", "Er is niets om te versturen."));
            }
        };
        st.phase = Phase::WithAgent;
        st.follow_up_at = None;
        Ok(Plan {
            state: st,
            agent: Some(caller.0.name.clone()),
            messages: vec![AgentMessage::Reply(OutboundText {
                fallback: None,
                reply: out,
                author: caller.author(),
            })],
            action: "reply",
            detail: Some(detail),
        })
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ForwardRequest {
    department: String,
    #[serde(default)]
    note: Option<String>,
}

async fn forward(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let req: ForwardRequest = parse_body(&body)?;
    let department = req.department.trim().to_string();
    let flows = s.flows();
    if flows.department_index(&department).is_none() {
        return Err(ApiError::bad_request(
            "unknown_department",
            unknown_department(&flows, &department),
        ));
    }
    let note = req
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    if note
        .as_deref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
    {
        return Err(ApiError::bad_request(
            "text_too_long",
            format!("Een notitie is hoogstens {MAX_NOTE_CHARS} tekens lang."),
        ));
    }
    act(&s, &caller, &id, |v, flows, _| {
        let mut st = v.conversation.state.clone();
        let from = st.department.clone().unwrap_or_else(|| "-".into());
        st.phase = Phase::Queued;
        st.department = Some(department.clone());
        let messages = note
            .iter()
            .map(|n| AgentMessage::Note {
                author: caller.author(),
                // Notes are masked like everything else that is stored.
                text: flows.privacy.redact(n).text,
            })
            .collect();
        Ok(Plan {
            state: st,
            agent: None,
            messages,
            action: "forward",
            detail: Some(format!(
                "from {from} to {department}{}",
                if note.is_some() { ", with a note" } else { "" }
            )),
        })
    })
    .await
}

async fn resolve(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    act(&s, &caller, &id, |v, _, _| {
        let mut st = v.conversation.state.clone();
        if st.phase == Phase::Resolved {
            return Err(ApiError::conflict(
                "already_resolved",
                "Dit gesprek is al afgerond.",
            ));
        }
        st.phase = Phase::Resolved;
        st.on_top = false;
        st.follow_up_at = None;
        Ok(Plan {
            state: st,
            agent: None,
            messages: Vec::new(),
            action: "resolve",
            detail: None,
        })
    })
    .await
}

async fn reopen(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    act(&s, &caller, &id, |v, flows, _| {
        let mut st = v.conversation.state.clone();
        if matches!(st.phase, Phase::Queued | Phase::AwaitingFollowUp) {
            return Err(ApiError::conflict(
                "already_waiting",
                "Dit gesprek wacht al in een wachtrij.",
            ));
        }
        st.phase = Phase::Queued;
        st.on_top = false;
        if st.department.is_none() {
            st.department = Some(flows.default_department().id.clone());
        }
        let detail = st.department.as_ref().map(|d| format!("queued in {d}"));
        Ok(Plan {
            state: st,
            agent: None,
            messages: Vec::new(),
            action: "reopen",
            detail,
        })
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Handlers: users (admins only)

async fn users(State(s): State<Arc<AppState>>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require_admin()?;
    let list = blocking(&s, |st| st.users()).await?;
    Ok(Json(
        json!({ "users": list.iter().map(user_json).collect::<Vec<_>>() }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUserRequest {
    name: String,
    role: String,
    #[serde(default)]
    departments: Vec<String>,
    /// The password to sign in with; without one, a new random password is returned (once).
    #[serde(default)]
    password: Option<String>,
}

async fn add_user(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Response> {
    caller.require_admin()?;
    let req: NewUserRequest = parse_body(&body)?;
    let token = new_token().map_err(ApiError::internal)?;
    let now = s.clock.now();
    let user = new_user(
        &s.flows(),
        &req.name,
        &req.role,
        &req.departments,
        &token,
        now,
    )
    .map_err(|m| ApiError::bad_request("invalid_user", m))?;
    let generated = req.password.is_none();
    let password = match req.password {
        Some(p) => {
            super::auth::check_password(&p)
                .map_err(|m| ApiError::bad_request("invalid_password", m))?;
            p
        }
        None => super::auth::new_password().map_err(ApiError::internal)?,
    };
    let hash = tokio::task::spawn_blocking(move || {
        super::auth::hash_password(&password).map(|h| (h, password))
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    let (hash, password) = hash;
    let name = user.name.clone();
    let audit = AuditRecord {
        at: now,
        actor: caller.0.name.clone(),
        action: "user_add".into(),
        conversation_id: None,
        detail: Some(format!("{name} ({})", user.role.as_str())),
    };
    let created = blocking(&s, move |st| {
        let created = st.add_user(&user, false)?;
        if let Some(u) = &created {
            st.set_password(&u.name, &hash)?;
            st.audit(&audit)?;
        }
        Ok(created)
    })
    .await?
    .ok_or_else(|| {
        ApiError::conflict("user_exists", format!("there is a user `{name}` already"))
    })?;
    let mut body = user_json(&created);
    body["token"] = json!(token);
    if generated {
        body["password"] = json!(password);
    }
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn remove_user(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    if name == caller.0.name {
        return Err(ApiError::bad_request(
            "bad_request",
            "you cannot remove yourself",
        ));
    }
    let audit = AuditRecord {
        at: s.clock.now(),
        actor: caller.0.name.clone(),
        action: "user_remove".into(),
        conversation_id: None,
        detail: Some(name.clone()),
    };
    let n = name.clone();
    let removed = blocking(&s, move |st| {
        let removed = st.remove_user(&n)?;
        if removed {
            st.audit(&audit)?;
        }
        Ok(removed)
    })
    .await?;
    if removed {
        // Their open live streams end now, not at their next check.
        s.live.accounts_changed();
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("no user `{name}`")))
    }
}

// ---------------------------------------------------------------------------------------------
// Residents' rights (AVG): admins only, audited under a hash of the resident

/// The audit line of an export or erasure: names the resident by [`resident_reference`] only.
fn resident_audit(
    caller: &Caller,
    action: &str,
    channel: &str,
    id: &str,
    at: DateTime<Utc>,
) -> AuditRecord {
    AuditRecord {
        at,
        actor: caller.0.name.clone(),
        action: action.into(),
        conversation_id: None,
        detail: Some(format!(
            "resident sha256:{}",
            crate::store::resident_reference(channel, id)
        )),
    }
}

/// `GET /api/residents/{channel}/{id}`: everything held about one resident (unmasked: this is
/// their right of access), for an admin to hand over.
async fn resident_export(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Path((channel, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    caller.require_admin()?;
    let audit = resident_audit(&caller, "resident_export", &channel, &id, s.clock.now());
    let (c, r) = (channel.clone(), id.clone());
    let export = blocking(&s, move |st| {
        let export = st.resident_export(&c, &r)?;
        if export.is_some() {
            st.audit(&audit)?;
        }
        Ok(export)
    })
    .await?
    .ok_or_else(|| ApiError::not_found(format!("no resident {} on {channel}", mask_number(&id))))?;
    tracing::info!(user = %caller.0.name, "resident exported");
    let mut body = serde_json::to_value(&export).map_err(ApiError::internal)?;
    body["counts"] = json!(export.counts());
    Ok(Json(body))
}

/// `DELETE /api/residents/{channel}/{id}`: erases one resident; answers with the counts.
async fn resident_erase(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Path((channel, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    caller.require_admin()?;
    let audit = resident_audit(&caller, "resident_erase", &channel, &id, s.clock.now());
    let (c, r) = (channel.clone(), id.clone());
    let counts = blocking(&s, move |st| st.resident_erase(&c, &r, &audit))
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("no resident {} on {channel}", mask_number(&id)))
        })?;
    tracing::info!(user = %caller.0.name, "resident erased");
    Ok(Json(json!({ "erased": counts })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_as_dutch() {
        let l = |v: &[&str]| dutch_list(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(l(&[]), "");
        assert_eq!(l(&["een BSN"]), "een BSN");
        assert_eq!(l(&["een BSN", "een IBAN"]), "een BSN en een IBAN");
        assert_eq!(l(&["a", "b", "c"]), "a, b en c");
    }

    #[test]
    fn numbers_are_masked_to_their_last_four_digits() {
        assert_eq!(mask_number("31612345678"), "******5678");
        assert_eq!(mask_number("123"), "******");
    }

    #[test]
    fn the_openapi_description_is_json() {
        let v: Value = serde_json::from_str(OPENAPI).unwrap();
        assert_eq!(v["openapi"], "3.1.0");
    }
}
