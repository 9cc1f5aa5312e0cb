//! The learning loop's API: agents label a resident's question in a handed-over conversation
//! with the topic that should have answered it (or "a new topic is needed"); editors list the
//! labels and turn one into a conversation test with one click.
//!
//! Labelling needs what reading the conversation needs (an agent of its department, an editor,
//! an admin); listing and making tests are for editors and admins. The store keeps a copy of the
//! message's masked text with the label, and drops the label with that text (retention) or the
//! resident (erasure). A test is appended to [`learned::FILE_NAME`] in the conversation tests'
//! directory ([`super::config::Config::tests_dir`]): read, added to as text (the editor's
//! comments and layout stay), checked with the loader `triage test` uses, written to a temporary
//! file and renamed over the old one, so that a failure at any point leaves the file as it was.
//! Texts and notes are never logged.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::api::{conversation_id, visible, MAX_BODY_BYTES};
use super::caller::Caller;
use super::error::{blocking, parse_body, ApiError, ApiResult};
use super::state::AppState;
use crate::convtest::{self, learned};
use crate::engine::Phase;
use crate::flows::FlowSet;
use crate::store::{
    AuditRecord, ConversationView, Label, LabelQuery, LabelTest, NewLabel, Role, Store,
};

/// The longest note with a label.
pub const MAX_NOTE_CHARS: usize = 500;
/// Labels are listed a page at a time: this many unless asked, at most [`MAX_PAGE`].
pub const PAGE: usize = 50;
pub const MAX_PAGE: usize = 200;

/// The learning loop's routes; [`super::app::router`] merges them.
pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/topics", get(topics))
        .route(
            "/api/conversations/{id}/messages/{message}/label",
            put(label).delete(unlabel),
        )
        .route("/api/editor/labels", get(list))
        .route("/api/editor/labels/{message}/test", post(make_test))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(super::error::json_errors))
        .layer(axum::middleware::map_response(super::error::no_store))
}

// ---------------------------------------------------------------------------------------------
// Presentation

/// A topic's title (its id when it has none, or when the flows no longer know it).
fn topic_title(flows: &FlowSet, id: &str) -> Option<String> {
    flows
        .topics
        .iter()
        .find(|t| t.id == id)
        .map(|t| t.title.clone().unwrap_or_else(|| t.id.clone()))
}

/// A label as the inbox and the editors' page show it.
pub fn label_json(flows: &FlowSet, l: &Label) -> Value {
    json!({
        "message_id": l.message_id,
        "conversation_id": l.conversation_id,
        "text": l.text,
        "topic": l.topic,
        "topic_title": l.topic.as_deref().and_then(|t| topic_title(flows, t)),
        "new_topic": l.topic.is_none(),
        "note": l.note,
        "by": l.by,
        "at": l.at,
        "bot": l.bot_outcome.as_ref().map(|outcome| json!({
            "outcome": outcome,
            "topic": l.bot_topic,
            "topic_title": l.bot_topic.as_deref().and_then(|t| topic_title(flows, t)),
        })),
        "test": l.test,
    })
}

/// The labels of a conversation, for its view in the inbox.
pub fn labels_json(flows: &FlowSet, labels: &[Label]) -> Value {
    labels.iter().map(|l| label_json(flows, l)).collect()
}

/// Whether the conversation's questions may be labelled: it went to a person (a handover was
/// decided in it, or it is not with the bot now).
pub fn may_label(v: &ConversationView) -> bool {
    v.conversation.state.phase != Phase::Bot || v.decisions.iter().any(|d| d.outcome == "handover")
}

/// A 400 for a topic the flows do not have, with a "did you mean".
fn unknown_topic(flows: &FlowSet, id: &str) -> ApiError {
    let hint = crate::text::did_you_mean(id, flows.topics.iter().map(|t| t.id.as_str()))
        .map(|s| format!(" Bedoel je `{s}`?"))
        .unwrap_or_default();
    ApiError::bad_request(
        "unknown_topic",
        format!("Onderwerp `{id}` staat niet in de flows.{hint}"),
    )
}

fn require_editor(caller: &Caller) -> ApiResult<()> {
    match caller.0.role {
        Role::Editor | Role::Admin => Ok(()),
        Role::Agent => Err(ApiError::forbidden(
            "De gelabelde vragen zijn voor redacteuren en beheerders.",
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers: the topics, labelling (whoever sees the conversation)

/// The flows' FAQ topics by title, for the inbox's picker.
async fn topics(State(s): State<Arc<AppState>>, _caller: Caller) -> Json<Value> {
    let flows = s.flows();
    let mut list: Vec<(String, &str)> = flows
        .topics
        .iter()
        .map(|t| {
            (
                t.title.clone().unwrap_or_else(|| t.id.clone()),
                t.id.as_str(),
            )
        })
        .collect();
    list.sort_by_key(|(title, _)| title.to_lowercase());
    Json(json!({
        "topics": list
            .iter()
            .map(|(title, id)| json!({ "id": id, "title": title }))
            .collect::<Vec<_>>(),
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelRequest {
    /// The topic that should have answered.
    #[serde(default)]
    topic: Option<String>,
    /// No topic does: a new one is needed.
    #[serde(default)]
    new_topic: bool,
    #[serde(default)]
    note: Option<String>,
}

/// A message id from the path; anything but a number is a message that does not exist.
fn message_id(raw: &str) -> ApiResult<i64> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("Bericht `{raw}` bestaat niet.")))
}

/// `PUT /api/conversations/{id}/messages/{message}/label`: labels (or labels again) one of the
/// resident's messages.
async fn label(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    UrlPath((id, message)): UrlPath<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let id = conversation_id(&id)?;
    let message = message_id(&message)?;
    let req: LabelRequest = parse_body(&body)?;
    // Access first: someone who may not see the conversation learns nothing else of it.
    let view = visible(&s, &caller, id).await?;
    let flows = s.flows();
    let topic = req
        .topic
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let topic = match (topic, req.new_topic) {
        (Some(_), true) | (None, false) => {
            return Err(ApiError::bad_request(
                "bad_request",
                "Kies een onderwerp (`topic`) of geef aan dat er een nieuw onderwerp nodig is (`new_topic: true`), niet allebei.",
            ))
        }
        (Some(t), false) => {
            if !flows.topics.iter().any(|x| x.id == t) {
                return Err(unknown_topic(&flows, t));
            }
            Some(t.to_string())
        }
        (None, true) => None,
    };
    let note = req.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
        return Err(ApiError::bad_request(
            "text_too_long",
            format!("Een notitie bij een label is hoogstens {MAX_NOTE_CHARS} tekens lang."),
        ));
    }
    // Notes are masked like everything else that is stored.
    let note = note.map(|n| flows.privacy.redact(n).text);
    let m = view
        .messages
        .iter()
        .find(|m| m.id == message)
        .ok_or_else(|| {
            ApiError::not_found(format!("Bericht {message} staat niet in dit gesprek."))
        })?;
    if m.direction != "in" || m.removed || m.text.trim().is_empty() {
        return Err(ApiError::bad_request(
            "not_a_question",
            if m.removed {
                "De tekst van dit bericht is verwijderd (bewaartermijn): er is niets meer om te markeren."
            } else {
                "Alleen een bericht van de inwoner met tekst kun je markeren."
            },
        ));
    }
    if !may_label(&view) {
        return Err(ApiError::conflict(
            "not_handed_over",
            "Dit gesprek ging niet naar een medewerker: de bot handelt het zelf af.",
        ));
    }
    let new = NewLabel {
        conversation_id: id,
        message_id: message,
        topic,
        note,
        by: caller.0.name.clone(),
        at: s.clock.now(),
    };
    let stored = blocking(&s, move |st| st.label_message(&new))
        .await?
        .ok_or_else(|| {
            ApiError::conflict(
                "not_a_question",
                "Dit bericht kan niet (meer) gemarkeerd worden: lees het gesprek opnieuw.",
            )
        })?;
    tracing::info!(user = %caller.0.name, conversation = id, message, "question labelled");
    publish(&s, &view, id);
    Ok(Json(label_json(&flows, &stored)))
}

/// `DELETE /api/conversations/{id}/messages/{message}/label`.
async fn unlabel(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    UrlPath((id, message)): UrlPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let id = conversation_id(&id)?;
    let message = message_id(&message)?;
    let view = visible(&s, &caller, id).await?;
    if !blocking(&s, move |st| st.remove_label(id, message)).await? {
        return Err(ApiError::not_found(format!(
            "Bericht {message} van dit gesprek heeft geen label."
        )));
    }
    tracing::info!(user = %caller.0.name, conversation = id, message, "label removed");
    publish(&s, &view, id);
    Ok(StatusCode::NO_CONTENT)
}

/// Tells the pages that show the conversation that its labels changed.
fn publish(s: &AppState, view: &ConversationView, id: i64) {
    s.live.publish(super::live::Change {
        conversation: id,
        departments: view.conversation.state.department.iter().cloned().collect(),
        what: "label",
    });
}

// ---------------------------------------------------------------------------------------------
// Handlers: the editors' list

/// What the editors ask of the list: `topic`, `new_topic=true`, `untested=true`, the page.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    topic: Option<String>,
    new_topic: Option<String>,
    untested: Option<String>,
    offset: Option<usize>,
    limit: Option<usize>,
}

fn flag(name: &str, value: Option<&str>) -> ApiResult<bool> {
    match value {
        None | Some("" | "false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(other) => Err(ApiError::bad_request(
            "bad_request",
            format!("`{name}` is `true` of `false`, niet `{other}`."),
        )),
    }
}

async fn list(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    require_editor(&caller)?;
    let Query(p) = params.map_err(|e| {
        ApiError::bad_request(
            "bad_request",
            format!("De zoekvraag klopt niet: {}", e.body_text()),
        )
    })?;
    let flows = s.flows();
    let topic = p
        .topic
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    if let Some(t) = &topic {
        if !flows.topics.iter().any(|x| &x.id == t) {
            return Err(unknown_topic(&flows, t));
        }
    }
    let query = LabelQuery {
        topic,
        new_topic: flag("new_topic", p.new_topic.as_deref())?,
        untested: flag("untested", p.untested.as_deref())?,
        offset: p.offset.unwrap_or(0),
        limit: p.limit.unwrap_or(PAGE).clamp(1, MAX_PAGE),
    };
    if query.topic.is_some() && query.new_topic {
        return Err(ApiError::bad_request(
            "bad_request",
            "Filter op een onderwerp of op `new_topic`, niet op allebei.",
        ));
    }
    let (offset, limit) = (query.offset, query.limit);
    let page = blocking(&s, move |st| st.labels(&query)).await?;
    let file = s.config.tests_dir().join(learned::FILE_NAME);
    Ok(Json(json!({
        "total": page.total,
        "offset": offset,
        "limit": limit,
        "labels": labels_json(&flows, &page.labels),
        "tests_file": file.display().to_string(),
    })))
}

// ---------------------------------------------------------------------------------------------
// Handlers: one click makes a conversation test

/// One writer of the learned tests' file at a time (two editors clicking at once would each add
/// to the same old text, and the second rename would lose the first's test).
static WRITING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// What went wrong writing the file; the file is as it was.
enum WriteError {
    /// The file as it is does not load (its diagnostics).
    Invalid(Vec<crate::source::Diagnostic>),
    /// It loads, but there is nowhere to add a test at its end.
    Layout,
    /// The directory or file cannot be read or written.
    Io(String),
}

/// What writing did: the YAML added (`None`: the file had the test already) and the file's
/// whole new text.
struct Written {
    added: Option<String>,
    text: String,
}

/// The first line of the directory's test files that names their schema for editors' tools,
/// for a new file to carry too.
fn schema_line(dir: &Path) -> Option<String> {
    let files = crate::flows::yaml_files(dir).ok()?;
    files.iter().find_map(|f| {
        let text = std::fs::read_to_string(f).ok()?;
        let first = text.lines().next()?;
        first
            .starts_with("# yaml-language-server:")
            .then(|| first.to_string())
    })
}

/// Adds `case` to the learned tests' file in `dir` (blocking).
fn write_test(dir: &Path, case: &learned::Learned) -> Result<Written, WriteError> {
    let _one = WRITING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let io = |what: &str, path: &Path, e: std::io::Error| {
        WriteError::Io(format!("{what} `{}`: {e}", path.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| io("cannot create", dir, e))?;
    let path = dir.join(learned::FILE_NAME);
    let existing = match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io("cannot read", &path, e)),
    };
    let name = crate::source::display_name(&path);
    let schema = existing.is_none().then(|| schema_line(dir)).flatten();
    match learned::append(&name, existing.as_deref(), case, schema.as_deref()) {
        Ok(learned::Appended::AlreadyThere) => Ok(Written {
            added: None,
            text: existing.unwrap_or_default(),
        }),
        Ok(learned::Appended::Added { text, added }) => {
            write_atomically(&path, &text).map_err(|e| io("cannot write", &path, e))?;
            Ok(Written {
                added: Some(added),
                text,
            })
        }
        Err(learned::AppendError::Invalid(d)) => Err(WriteError::Invalid(d)),
        Err(learned::AppendError::Layout) => Err(WriteError::Layout),
    }
}

/// Writes `text` to a temporary file beside `path`, flushes it to disk and renames it over
/// `path`: the file is the old one or the new one, never half of either. The old file's
/// permissions stay.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Hidden and not `.yaml`: `triage test` never reads it, even if a crash leaves it behind.
    let tmp: PathBuf = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        if let Ok(meta) = std::fs::metadata(path) {
            f.set_permissions(meta.permissions())?;
        }
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        // The rename itself on disk (where the platform lets a directory be synced).
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// What the bot did with a labelled question, in the editors' words.
fn bot_words(flows: &FlowSet, l: &Label) -> Option<String> {
    let outcome = l.bot_outcome.as_deref()?;
    let topic = l
        .bot_topic
        .as_deref()
        .map(|t| {
            format!(
                " `{t}`{}",
                topic_title(flows, t)
                    .filter(|x| x != t)
                    .map(|x| format!(" ({x})"))
                    .unwrap_or_default()
            )
        })
        .unwrap_or_default();
    Some(match outcome {
        "handover" => "naar een medewerker".to_string(),
        "faq" => format!("antwoordde met{topic}"),
        "privacy_redirect" => format!("verwees naar een beveiligde pagina, bij{topic}"),
        "to_agent" => "naar de medewerker van het gesprek".to_string(),
        other => format!("`{other}`{topic}"),
    })
}

/// `POST /api/editor/labels/{message}/test`: appends the labelled question as a conversation
/// test, marks the label as a test, and runs the test against the flows in force.
async fn make_test(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    UrlPath(message): UrlPath<String>,
) -> ApiResult<Json<Value>> {
    require_editor(&caller)?;
    let message = message_id(&message)?;
    let label = blocking(&s, move |st| st.label(message))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Bericht {message} heeft geen label.")))?;
    let flows = s.flows();
    let tz = flows.office.timezone();
    // Masked again with the detectors in force: a file in the editors' hands (and in git) gets
    // nothing a newer detector would hold back.
    let case = learned::Learned {
        text: flows.privacy.redact(&label.text).text,
        topic: label.topic.clone(),
        message_id: label.message_id,
        by: label.by.clone(),
        on: label.at.with_timezone(&tz).format("%d-%m-%Y").to_string(),
        note: label.note.as_deref().map(|n| flows.privacy.redact(n).text),
        bot: bot_words(&flows, &label),
    };
    let dir = s.config.tests_dir();
    let path = dir.join(learned::FILE_NAME);
    let file = path.display().to_string();
    let yaml = case.yaml(2);
    let written = {
        let (dir, case) = (dir.clone(), case.clone());
        tokio::task::spawn_blocking(move || write_test(&dir, &case))
            .await
            .map_err(ApiError::internal)?
    };
    let written = match written {
        Ok(w) => w,
        Err(e) => {
            let (error, message, diagnostics) = match e {
                WriteError::Invalid(d) => (
                    "tests_file_invalid",
                    format!("`{file}` heeft fouten; de test is er niet aan toegevoegd. Herstel het bestand, of zet de test er zelf in."),
                    d,
                ),
                WriteError::Layout => (
                    "tests_file_layout",
                    format!("Aan `{file}` kan geen test worden toegevoegd: de lijst `tests:` staat er niet als een lijst onder elkaar in. Zet de test er zelf in."),
                    Vec::new(),
                ),
                WriteError::Io(cause) => {
                    tracing::warn!(error = %cause, "the learned tests' file was not written");
                    (
                        "not_writable",
                        format!("De test kon niet worden opgeslagen in `{file}` ({cause}). Vraag de beheerder om schrijfrechten, of zet de test er zelf in."),
                        Vec::new(),
                    )
                }
            };
            // Nothing is lost: the label stays as it was, and the page shows the test to copy.
            return Err(ApiError::conflict(error, message).with(
                "test",
                json!({ "file": file, "yaml": yaml, "diagnostics": diagnostics }),
            ));
        }
    };
    let now = s.clock.now();
    let test = LabelTest {
        file: file.clone(),
        by: caller.0.name.clone(),
        at: now,
    };
    let audit = AuditRecord {
        at: now,
        actor: caller.0.name.clone(),
        action: "label_test".into(),
        conversation_id: Some(label.conversation_id),
        detail: Some(format!(
            "message {message} to {}{}",
            learned::FILE_NAME,
            if written.added.is_some() {
                ""
            } else {
                " (already there)"
            }
        )),
    };
    let marked = blocking(&s, move |st: &dyn Store| {
        let marked = st.mark_label_tested(message, &test)?;
        st.audit(&audit)?;
        Ok(marked)
    })
    .await?;
    tracing::info!(user = %caller.0.name, message, added = written.added.is_some(), "label made a conversation test");
    // The test as `triage test` will run it, against the flows in force.
    let name = crate::source::display_name(&path);
    let run = convtest::parse(&name, &written.text)
        .ok()
        .and_then(|loaded| {
            let (i, c) = loaded
                .tests
                .tests
                .iter()
                .enumerate()
                .rev()
                .find(|(_, c)| c.name == case.name())?;
            Some(convtest::run_case(&flows, &loaded.file, i, c))
        });
    let label = if marked {
        blocking(&s, move |st| st.label(message)).await?
    } else {
        None
    };
    Ok(Json(json!({
        "file": file,
        "added": written.added.is_some(),
        "yaml": written.added.unwrap_or(yaml),
        "passes": run.as_ref().map(|r| r.failures.is_empty()),
        "line": run.as_ref().map(|r| r.line),
        "failure": run
            .as_ref()
            .filter(|r| !r.failures.is_empty())
            .map(convtest::format_failure),
        "label": label.map(|l| label_json(&flows, &l)),
    })))
}
