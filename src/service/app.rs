//! The HTTP side: the shared state, the router, and the handlers for the webhook, health,
//! metrics, reload and the test clock.
//!
//! The webhook handler does the least that makes a message safe: verify the signature over the
//! raw bytes, parse, mask personal data, store in one transaction, answer 200. Deciding and
//! sending happen in the workers ([`super::workers`]), woken through [`AppState::wake`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tokio::sync::Notify;

use super::api::ApiError;
use super::clock::{Clock, TestClock};
use super::config::Config;
use super::metrics::Metrics;
use crate::flows::FlowSet;
use crate::graph::standin::StandIn;
use crate::source::{Diagnostic, Severity};
use crate::store::{AuditRecord, DeliveryUpdate, Inserted, NewInbound, Store};
use crate::whatsapp::{self, SignatureError};

/// WhatsApp allows webhook bodies of up to 3 MB.
pub const MAX_WEBHOOK_BYTES: usize = 3 * 1024 * 1024;
/// Any other request's body, unless its route says otherwise (the agents' and editors' API
/// allow 64 KiB, a sign-in 4 KiB).
pub const DEFAULT_BODY_BYTES: usize = 16 * 1024;

/// The result of the last reload, for the editors.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReloadStatus {
    pub at: DateTime<Utc>,
    pub ok: bool,
    pub diagnostics: Vec<Diagnostic>,
}

/// What every handler and worker shares.
pub struct AppState {
    pub config: Config,
    flows: RwLock<Arc<FlowSet>>,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// Present with `--test-clock`: `/admin/clock` moves it.
    pub test_clock: Option<Arc<TestClock>>,
    /// The demo's stand-in of the Graph API, served at `/standin`.
    pub standin: Option<StandIn>,
    pub metrics: Metrics,
    /// Wakes the processor (new inbound messages) and the sender (new outbox rows).
    pub wake_processor: Notify,
    pub wake_sender: Notify,
    pub last_reload: Mutex<Option<ReloadStatus>>,
    /// When the flows in force were loaded (at start, or by the last reload that succeeded).
    pub flows_loaded_at: Mutex<DateTime<Utc>>,
    /// Read receipts in flight at most (they are skipped beyond that).
    pub read_receipts: Arc<tokio::sync::Semaphore>,
    /// When the workers last finished a round (monotonic), for `/readyz`.
    pub heartbeat: Mutex<Instant>,
    /// Failed sign-ins, to limit attempts.
    pub logins: super::auth::LoginLimiter,
    /// Changes of conversations, for the web application's live updates.
    pub live: Arc<super::events::Live>,
    /// Flips to true when the server shuts down: long-lived responses (the live events) end,
    /// so that a graceful shutdown does not wait for them forever.
    pub stopping: tokio::sync::watch::Sender<bool>,
    request_ids: AtomicU64,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(
        config: Config,
        flows: FlowSet,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        test_clock: Option<Arc<TestClock>>,
        standin: Option<StandIn>,
    ) -> Self {
        let loaded_at = clock.now();
        AppState {
            config,
            flows: RwLock::new(Arc::new(flows)),
            store,
            clock,
            test_clock,
            standin,
            metrics: Metrics::default(),
            wake_processor: Notify::new(),
            wake_sender: Notify::new(),
            last_reload: Mutex::new(None),
            flows_loaded_at: Mutex::new(loaded_at),
            read_receipts: Arc::new(tokio::sync::Semaphore::new(16)),
            heartbeat: Mutex::new(Instant::now()),
            logins: super::auth::LoginLimiter::default(),
            live: Arc::default(),
            stopping: tokio::sync::watch::channel(false).0,
            request_ids: AtomicU64::new(1),
        }
    }

    /// The flows in force (a cheap clone of an `Arc`).
    pub fn flows(&self) -> Arc<FlowSet> {
        self.flows
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Validates the files again; only a valid set replaces the one in force.
    pub fn reload(&self) -> ReloadStatus {
        let at = self.clock.now();
        let status = match FlowSet::load(&self.config.flows, &self.config.rules) {
            Ok((set, warnings)) => {
                *self
                    .flows
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(set);
                *self
                    .flows_loaded_at
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = at;
                tracing::info!(warnings = warnings.len(), "flows reloaded");
                ReloadStatus {
                    at,
                    ok: true,
                    diagnostics: warnings,
                }
            }
            Err(diags) => {
                for d in &diags {
                    tracing::warn!(%d, "reload refused; the previous flows keep serving");
                }
                ReloadStatus {
                    at,
                    ok: false,
                    diagnostics: diags,
                }
            }
        };
        *self
            .last_reload
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(status.clone());
        status
    }
}

/// Reloads the flows off the async threads and writes who did it, and how it went, to the audit
/// trail: `/admin/reload` and the editors' page both reload through here.
pub async fn reload_by(s: &Arc<AppState>, actor: &str) -> Result<ReloadStatus, ApiError> {
    let state = s.clone();
    let status = tokio::task::spawn_blocking(move || state.reload())
        .await
        .map_err(ApiError::internal)?;
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

/// The stand-in's own routes (`/standin/_standin/…`: the replies it recorded, faults) need an
/// editor or admin; the Graph API route goes through to the stand-in's token check.
async fn guard_standin(
    State(s): State<Arc<AppState>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if req.uri().path().starts_with("/standin/_standin") {
        let (parts, body) = req.into_parts();
        if let Err(e) = super::api::authorize_admin(&s, &parts, false).await {
            return e.into_response();
        }
        return next
            .run(axum::extract::Request::from_parts(parts, body))
            .await;
    }
    next.run(req).await
}

/// The routes. The caller serves them (see [`super::run`]).
pub fn router(state: Arc<AppState>) -> Router {
    let mut r = Router::new()
        .route(
            "/webhook",
            get(verify)
                .post(receive)
                .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES)),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route("/admin/reload", post(reload))
        .route("/admin/clock", get(clock).post(set_clock))
        .merge(super::api::router())
        .merge(super::simulator::router())
        .merge(super::web::router())
        .merge(super::auth::router())
        .merge(super::events::router())
        .merge(super::reports::router())
        .merge(super::editor::router());
    if let Some(standin) = &state.standin {
        // The Graph API route takes only the service's own token (the stand-in checks it); its
        // record of every reply, with full numbers, is for editors and admins.
        let guarded = Router::new()
            .nest_service("/standin", standin.router())
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                guard_standin,
            ));
        r = r.merge(guarded);
    }
    r.layer(DefaultBodyLimit::max(DEFAULT_BODY_BYTES))
        .with_state(state)
}

#[derive(Debug, Deserialize)]
struct Subscribe {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

async fn verify(State(s): State<Arc<AppState>>, Query(q): Query<Subscribe>) -> Response {
    match whatsapp::verify_subscription(
        q.mode.as_deref(),
        q.token.as_deref(),
        q.challenge.as_deref(),
        s.config.verify_token(),
    ) {
        Some(challenge) => (StatusCode::OK, challenge).into_response(),
        None => (StatusCode::FORBIDDEN, "verification refused").into_response(),
    }
}

async fn receive(State(s): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let started = Instant::now();
    let request_id = s.request_ids.fetch_add(1, Ordering::Relaxed);
    let span = tracing::info_span!("webhook", request_id);
    let _enter = span.enter();
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if let Err(e) = whatsapp::verify_signature(s.config.app_secret().as_bytes(), &body, signature) {
        s.metrics.inc(&s.metrics.webhooks_rejected);
        tracing::warn!(error = %e, bytes = body.len(), "webhook refused");
        let status = match e {
            SignatureError::Missing => StatusCode::UNAUTHORIZED,
            SignatureError::Malformed | SignatureError::Mismatch => StatusCode::FORBIDDEN,
        };
        return (status, e.to_string()).into_response();
    }
    let hook = match whatsapp::parse_webhook(&body) {
        Ok(h) => h,
        Err(e) => {
            // Signed by Meta but not understood: another answer than 200 would only make Meta
            // send the same bytes again for seven days.
            s.metrics.inc(&s.metrics.webhooks_rejected);
            tracing::warn!(error = %e, bytes = body.len(), "signed webhook not understood; dropped");
            return (StatusCode::OK, "EVENT_NOT_UNDERSTOOD").into_response();
        }
    };
    drop(_enter);
    match ingest(&s, &hook).await {
        Ok(new) => {
            s.metrics.observe_webhook(started.elapsed().as_secs_f64());
            tracing::info!(
                request_id,
                messages = new,
                duplicates = hook.messages.len().saturating_sub(new),
                statuses = hook.statuses.len(),
                skipped = hook.skipped,
                "webhook stored"
            );
        }
        Err(e) => {
            tracing::error!(request_id, error = %e, "webhook not stored; the provider will retry");
            return (StatusCode::SERVICE_UNAVAILABLE, "not stored, try again").into_response();
        }
    }
    (StatusCode::OK, "EVENT_RECEIVED").into_response()
}

/// Masks, stores (one transaction) and counts what a webhook carried, then wakes the processor.
/// Returns how many messages were new. The simulator feeds its messages through here too.
/// A profile name as it may be stored and used in a greeting: without what the detectors find in
/// it ("Jan 111222333" becomes "Jan"); `None` when nothing else is left.
fn name_without_personal_data(detector: &crate::privacy::Detector, name: &str) -> Option<String> {
    let findings = detector.scan(name);
    let mut kept = String::with_capacity(name.len());
    let mut at = 0;
    for f in &findings {
        kept.push_str(&name[at..f.range.start]);
        kept.push(' ');
        at = f.range.end;
    }
    kept.push_str(&name[at..]);
    let kept = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    (!kept.is_empty()).then_some(kept)
}

pub async fn ingest(s: &Arc<AppState>, hook: &whatsapp::Webhook) -> Result<usize, String> {
    let now = s.clock.now();
    let flows = s.flows();
    // Mask before anything is stored: the store never sees the raw text.
    // A sender is a phone number (WhatsApp sends digits only): anything else is no resident we
    // can answer, and is not kept (it could hold anything).
    let from_a_number = |m: &&whatsapp::InboundMessage| {
        (6..=20).contains(&m.from.len()) && m.from.bytes().all(|b| b.is_ascii_digit())
    };
    let dropped = hook.messages.iter().filter(|m| !from_a_number(m)).count();
    if dropped > 0 {
        tracing::warn!(
            messages = dropped,
            "messages from a sender that is no phone number dropped"
        );
    }
    let inbound: Vec<NewInbound> = hook
        .messages
        .iter()
        .filter(from_a_number)
        .map(|m| {
            let (text, media) = match &m.kind {
                // A reaction asks nothing and a system notice (a changed number) is no question:
                // stored for the agents, decided as nothing to act on. A notice's text can hold
                // phone numbers, so it is not kept.
                whatsapp::InboundKind::Reaction { emoji, .. } => {
                    (emoji.clone().unwrap_or_default(), None)
                }
                whatsapp::InboundKind::System { .. } => (String::new(), None),
                kind => (kind.text().to_string(), kind.media_label()),
            };
            let redaction = flows.privacy.redact(&text);
            NewInbound {
                provider_id: m.id.clone(),
                channel: "whatsapp".into(),
                resident: m.from.clone(),
                resident_name: m
                    .profile_name
                    .as_deref()
                    .and_then(|n| name_without_personal_data(&flows.privacy, n)),
                kind: kind_name(&m.kind).to_string(),
                text: redaction.text,
                // Our own button ids come back here, but the resident's app sends them: scanned
                // like everything else a resident sends.
                button: m
                    .kind
                    .button_payload()
                    .map(|p| flows.privacy.redact(p).text),
                media: media.map(str::to_string),
                findings: crate::engine::summarize(&redaction.findings),
                sent_at: m.timestamp,
                received_at: now,
            }
        })
        .collect();
    let statuses: Vec<DeliveryUpdate> = hook
        .statuses
        .iter()
        .map(|st| DeliveryUpdate {
            provider_id: st.id.clone(),
            status: st.status.as_str().to_string(),
            at: st.timestamp,
            // Meta's error text quotes what was sent: scanned like a resident's words.
            error: st
                .errors
                .first()
                .map(|e| flows.privacy.redact(&e.to_string()).text),
            outbox_id: st
                .biz_opaque_callback_data
                .as_deref()
                .and_then(|c| c.strip_prefix("outbox:"))
                .and_then(|id| id.parse().ok()),
        })
        .collect();
    let store = s.store.clone();
    let inserted = tokio::task::spawn_blocking(move || -> crate::store::Result<Vec<Inserted>> {
        let inserted = if inbound.is_empty() {
            Vec::new()
        } else {
            store.insert_inbound(&inbound)?
        };
        if !statuses.is_empty() {
            store.record_statuses(&statuses)?;
        }
        Ok(inserted)
    })
    .await
    .map_err(|e| format!("the store task failed: {e}"))?
    .map_err(|e| e.to_string())?;
    let new = inserted
        .iter()
        .filter(|i| matches!(i, Inserted::New { .. }))
        .count();
    let m = &s.metrics;
    m.inc(&m.webhooks);
    m.add(&m.messages_in, new as u64);
    m.add(&m.duplicates, (inserted.len() - new) as u64);
    m.add(&m.statuses, hook.statuses.len() as u64);
    if new > 0 {
        s.wake_processor.notify_one();
    }
    Ok(new)
}

/// The channel's name for a message kind, as stored.
fn kind_name(kind: &whatsapp::InboundKind) -> &'static str {
    use whatsapp::{InboundKind as K, MediaKind as M};
    match kind {
        K::Text { .. } => "text",
        K::Media { media, .. } => match media {
            M::Image => "image",
            M::Audio => "audio",
            M::Voice => "voice",
            M::Video => "video",
            M::Document => "document",
            M::Sticker => "sticker",
        },
        K::Location { .. } => "location",
        K::Contacts { .. } => "contacts",
        K::ButtonReply { .. } | K::ListReply { .. } | K::QuickReply { .. } => "button",
        K::Reaction { .. } => "reaction",
        K::Order { .. } => "order",
        K::System { .. } => "system",
        K::Unsupported { .. } => "unsupported",
    }
}

/// Workers that have not finished a round for this long are reported as stalled.
const STALLED_AFTER: std::time::Duration = std::time::Duration::from_secs(30);

async fn ready(State(s): State<Arc<AppState>>) -> Response {
    let idle = s
        .heartbeat
        .lock()
        .map(|t| t.elapsed())
        .unwrap_or(STALLED_AFTER);
    if idle >= STALLED_AFTER {
        return (StatusCode::SERVICE_UNAVAILABLE, "workers stalled").into_response();
    }
    let store = s.store.clone();
    match tokio::task::spawn_blocking(move || store.counts()).await {
        Ok(Ok(_)) => (StatusCode::OK, "ready").into_response(),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "store unavailable").into_response(),
    }
}

/// The counters and queue sizes: for editors and admins (a Prometheus scraper uses an admin's
/// bearer token), open only while no user exists.
async fn metrics(State(s): State<Arc<AppState>>, parts: Parts) -> Response {
    if let Err(e) = super::api::authorize_admin(&s, &parts, true).await {
        return e.into_response();
    }
    let store = s.store.clone();
    let counts = tokio::task::spawn_blocking(move || store.counts())
        .await
        .ok()
        .and_then(Result::ok);
    (
        [("content-type", "text/plain; version=0.0.4")],
        s.metrics.render(counts.as_ref()),
    )
        .into_response()
}

async fn reload(State(s): State<Arc<AppState>>, parts: Parts) -> Response {
    // Without users a reload is refused, so there is always someone to name.
    let user = match super::api::authorize_admin(&s, &parts, false).await {
        Ok(user) => user.map_or_else(|| "-".to_string(), |u| u.name),
        Err(e) => return e.into_response(),
    };
    match reload_by(&s, &user).await {
        Ok(status) => {
            let code = if status.ok {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            (code, Json(status)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct SetClock {
    /// Set the clock to this instant (RFC 3339).
    at: Option<DateTime<chrono::FixedOffset>>,
    /// Or move it forward by this many seconds.
    advance_seconds: Option<i64>,
}

async fn clock(State(s): State<Arc<AppState>>) -> Response {
    Json(serde_json::json!({
        "now": s.clock.now().to_rfc3339(),
        "test_clock": s.test_clock.is_some(),
    }))
    .into_response()
}

async fn set_clock(
    State(s): State<Arc<AppState>>,
    parts: Parts,
    Json(req): Json<SetClock>,
) -> Response {
    if let Err(e) = super::api::authorize_admin(&s, &parts, true).await {
        return e.into_response();
    }
    let Some(tc) = &s.test_clock else {
        return (
            StatusCode::NOT_FOUND,
            "the clock can only be set with `triage serve --test-clock`",
        )
            .into_response();
    };
    if let Some(at) = req.at {
        tc.set(at.with_timezone(&Utc));
    }
    if let Some(secs) = req.advance_seconds {
        match chrono::Duration::try_seconds(secs) {
            Some(d) => tc.advance(d),
            None => {
                return (StatusCode::BAD_REQUEST, "`advance_seconds` is out of range")
                    .into_response()
            }
        }
    }
    // Follow-ups may have fallen due.
    s.wake_processor.notify_one();
    Json(serde_json::json!({ "now": s.clock.now().to_rfc3339() })).into_response()
}
