//! The visitor's API under `/webchat/` and the widget's assets.
//!
//! - `POST /webchat/session` → `{"visitor": "<64 hex>"}`: a new key the service issued
//!   ([`super::keys`]; the widget keeps it in `localStorage` and sends it as [`VISITOR_HEADER`]
//!   from then on). A key the service did not issue is refused (401), whatever it looks like;
//!   the widget then asks for a new one.
//! - `POST /webchat/send` `{"text", "client_id"}` or `{"button_id", "button_title",
//!   "client_id"}` → `{"stored": bool}`: through [`intake::ingest`] like every channel's
//!   messages (masked before it is stored); `stored: false` for a client id seen before.
//! - `GET /webchat/history?after=N` → [`history::Page`]: the visitor's conversation after the
//!   cursor `N`.
//! - `GET /webchat/stream?after=N`: the same pages as server-sent events (`messages`), one at
//!   once and one whenever the conversation changes; the widget reconnects with its cursor.
//!   Streams are limited per visitor, per address and (a last resort) in all; a visitor whose
//!   stream is refused (429) reads `history` every few seconds instead, so they never stop
//!   seeing replies.
//! - `GET /webchat/widget.js`, `widget.css`; in demo mode `GET /webchat/demo`, a placeholder
//!   municipal page that carries the widget.
//!
//! Every API request with an `Origin` that is not on the allow-list is refused (403) before
//! anything else; CORS headers go to allowed origins only. A request without `Origin` comes from
//! no browser page of another site (browsers send it on every cross-origin request) and passes.
//! Errors are JSON with a Dutch `message` the widget shows as it is.
//!
//! Every limit per address counts the client's address through the configured
//! `trusted_proxies` ([`crate::service::auth::client_address`]), an IPv6 address by its /64
//! ([`address_key`]). The per-address limits are several visitors' worth (people share an
//! address behind one network) and what one address does never refuses another's visitors.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration as StdDuration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Query, Request, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, CACHE_CONTROL, CONTENT_TYPE, ORIGIN,
    RETRY_AFTER, VARY,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast;

use super::history::{self, Page};
use super::keys::{Keys, RANDOM_BYTES};
use super::limits::{address_key, RateLimiter, Refused, StreamSlot, Streams};
use super::{Origins, VISITOR_HEADER};
use crate::channel::{Channel, WEB_CHAT};
use crate::channels::{Inbox, Incoming};
use crate::service::events::Change;
use crate::service::intake;
use crate::service::state::AppState;

/// A session request and the reads carry no body worth the name.
pub const SMALL_BODY_BYTES: usize = 1024;
/// A message: the policy's longest text (4 bytes a character at worst) and JSON around it.
pub const SEND_BODY_BYTES: usize = 32 * 1024;
/// Rows one history page reads.
const PAGE_ROWS: usize = 100;
/// Visitors (and addresses) the rate limits remember.
const LIMITER_KEYS: usize = 10_000;
/// Streams one visitor may have open (tabs), and one address (several visitors behind one
/// network; beyond it their widgets read `history` every few seconds instead). What all may
/// have open is set from `max_connections` ([`Shared::new`]), far above one address's share.
const STREAMS_PER_VISITOR: usize = 4;
pub const STREAMS_PER_ADDRESS: usize = 16;
/// A refused stream is tried again after this (the widget reads `history` meanwhile).
const STREAM_RETRY_SECS: i64 = 60;
/// A stream ends after this; the widget reconnects with its cursor at once.
const STREAM_LIFETIME: StdDuration = StdDuration::from_secs(300);
/// New keys one address may ask for in a minute.
const SESSIONS_PER_ADDRESS: u32 = 30;
/// New conversations (a visitor's first message) one address may start in a minute.
pub const CONVERSATIONS_PER_ADDRESS: u32 = 10;
/// History reads of one visitor in a minute: a widget whose stream was refused reads every few
/// seconds, in a few tabs, and catches up after every message it sends.
pub const HISTORY_PER_VISITOR: u32 = 120;
/// One address may send, and read, this many times a visitor's limit (several people behind
/// one network).
const ADDRESS_FACTOR: u32 = 10;

const WIDGET_JS_SOURCE: &str = include_str!("widget.js");
const WIDGET_CSS: &str = include_str!("widget.css");
const DEMO_PAGE: &str = include_str!("demo.html");
const DEMO_CSS: &str = include_str!("demo.css");

/// The widget with the policy's limit written in.
static WIDGET_JS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    WIDGET_JS_SOURCE.replace("{{max_text_chars}}", &WEB_CHAT.max_text_chars.to_string())
});

/// What the web chat's handlers and its adapter share.
#[derive(Debug)]
pub struct Shared {
    pub origins: Origins,
    /// `[webchat] messages_per_minute`.
    pub per_minute: u32,
    /// Serve the demo page.
    pub demo: bool,
    /// The server key of the visitor keys: from the store, once it is open
    /// ([`Shared::prepare`]).
    keys: OnceLock<Keys>,
    visitors: RateLimiter,
    addresses: RateLimiter,
    sessions: RateLimiter,
    conversations: RateLimiter,
    history_visitors: RateLimiter,
    history_addresses: RateLimiter,
    streams: Arc<Streams>,
    /// The residents whose conversation changed (a message stored, a reply sent): their streams
    /// look again.
    wake: broadcast::Sender<Arc<str>>,
}

impl Shared {
    /// `streams_total`: the streams all visitors together may have open (half the service's
    /// connections, so that webhooks and agents always find one).
    pub fn new(origins: Origins, per_minute: u32, demo: bool, streams_total: usize) -> Shared {
        Shared {
            origins,
            per_minute,
            demo,
            keys: OnceLock::new(),
            visitors: RateLimiter::new(LIMITER_KEYS),
            addresses: RateLimiter::new(LIMITER_KEYS),
            sessions: RateLimiter::new(LIMITER_KEYS),
            conversations: RateLimiter::new(LIMITER_KEYS),
            history_visitors: RateLimiter::new(LIMITER_KEYS),
            history_addresses: RateLimiter::new(LIMITER_KEYS),
            streams: Streams::new(
                STREAMS_PER_VISITOR,
                STREAMS_PER_ADDRESS,
                streams_total.max(1),
            ),
            wake: broadcast::channel(1024).0,
        }
    }

    /// Reads (at the first start: makes) the server key of the visitor keys from the store.
    pub fn prepare(
        &self,
        store: &dyn crate::store::Store,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), String> {
        let fresh = crate::service::caller::new_token()?;
        let keys = Keys::load(store, &fresh, now)?;
        let _ = self.keys.set(keys);
        Ok(())
    }

    /// The streams of `resident` look again.
    pub fn wake(&self, resident: &str) {
        let _ = self.wake.send(Arc::from(resident));
    }
}

/// The web chat's routes.
pub fn router(w: Arc<Shared>) -> Router<Arc<AppState>> {
    let small = DefaultBodyLimit::max(SMALL_BODY_BYTES);
    let api = Router::new()
        .route("/webchat/session", post(session).layer(small))
        .route(
            "/webchat/send",
            post(send).layer(DefaultBodyLimit::max(SEND_BODY_BYTES)),
        )
        .route("/webchat/history", get(history).layer(small))
        .route("/webchat/stream", get(stream).layer(small))
        .layer(axum::middleware::from_fn(guard));
    let mut assets = Router::new()
        .route(
            "/webchat/widget.js",
            get(|| async { asset(&WIDGET_JS, JS) }),
        )
        .route(
            "/webchat/widget.css",
            get(|| async { asset(WIDGET_CSS, CSS) }),
        );
    if w.demo {
        assets = assets
            .route(
                "/webchat/demo",
                get(|| async { crate::service::web::page(DEMO_PAGE) }),
            )
            .route("/webchat/demo.css", get(|| async { asset(DEMO_CSS, CSS) }));
    }
    api.merge(assets).layer(Extension(w))
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// The widget's files, for any site to load.
fn asset(body: &'static str, kind: &'static str) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("cross-origin-resource-policy", "cross-origin"),
    ] {
        h.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    r
}

/// A refused request: a JSON error with a Dutch message the widget shows as it is.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    error: &'static str,
    message: String,
    /// Seconds, for `Retry-After`.
    retry_after: Option<i64>,
}

fn refuse(status: StatusCode, error: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        error,
        message: message.into(),
        retry_after: None,
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            Json(json!({ "error": self.error, "message": self.message })),
        )
            .into_response();
        let h = r.headers_mut();
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(v) = self
            .retry_after
            .and_then(|s| HeaderValue::from_str(&s.to_string()).ok())
        {
            h.insert(RETRY_AFTER, v);
        }
        r
    }
}

/// A JSON answer that no cache keeps.
fn fresh(body: serde_json::Value) -> Response {
    let mut r = Json(body).into_response();
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The origin check and CORS around every API route; also gives errors that axum's extractors
/// answer in plain text (a body too large, a bad query) a Dutch JSON body.
async fn guard(Extension(w): Extension<Arc<Shared>>, req: Request, next: Next) -> Response {
    let origin = match req.headers().get(ORIGIN) {
        None => None,
        Some(v) => match v.to_str() {
            Ok(o) if w.origins.allows(o) => HeaderValue::from_str(o).ok(),
            _ => {
                log_refused(v);
                return refuse(
                    StatusCode::FORBIDDEN,
                    "origin_refused",
                    "Deze website mag de chat van de gemeente niet gebruiken.",
                )
                .into_response();
            }
        },
    };
    let mut r = if req.method() == Method::OPTIONS {
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(
            ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        h.insert(
            ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type, x-webchat-visitor"),
        );
        h.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        r
    } else {
        in_dutch(next.run(req).await)
    };
    let h = r.headers_mut();
    h.insert(VARY, HeaderValue::from_static("Origin"));
    if let Some(o) = origin {
        h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, o);
        // The widget waits as long as a refusal asks, also on another site than the service's.
        h.insert(
            ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("retry-after"),
        );
    }
    r
}

/// Logs a refused origin: a site's address, no visitor's data.
fn log_refused(origin: &HeaderValue) {
    let shown = origin
        .to_str()
        .map(|o| crate::channel::truncate_chars(o, 100).to_string())
        .unwrap_or_default();
    tracing::warn!(origin = %shown, "web chat request from a site not on the allow-list refused");
}

/// A plain-text client error of an extractor as the widget's JSON.
fn in_dutch(r: Response) -> Response {
    let status = r.status();
    let json = r
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if !status.is_client_error() || json {
        return r;
    }
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => refuse(
            status,
            "too_large",
            "Dit bericht is te groot voor de chat. Maak het korter.",
        )
        .into_response(),
        StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_FOUND => r,
        _ => refuse(
            status,
            "bad_request",
            "De chat begrijpt dit verzoek niet. Laad de pagina opnieuw en probeer het nog eens.",
        )
        .into_response(),
    }
}

/// The server key, or 503 before the store gave it (never after a start that succeeded).
fn keys(w: &Shared) -> Result<&Keys, Refusal> {
    w.keys.get().ok_or_else(|| {
        tracing::error!("the web chat has no server key: the store was not opened");
        unavailable()
    })
}

/// The resident id of the request's visitor key, if the service issued it.
fn visitor(w: &Shared, headers: &HeaderMap) -> Result<String, Refusal> {
    let keys = keys(w)?;
    headers
        .get(VISITOR_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|k| keys.resident_of(k.trim()))
        .ok_or_else(|| {
            refuse(
                StatusCode::UNAUTHORIZED,
                "no_visitor",
                "De chat herkent dit venster niet (geen geldige bezoekerssleutel). Laad de pagina opnieuw.",
            )
        })
}

/// The client's address through the configured proxies, as the per-address limits count it.
fn address(s: &AppState, parts: &Parts) -> String {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip());
    address_key(crate::service::auth::client_address(
        peer,
        &parts.headers,
        &s.config.trusted_proxies,
    ))
}

fn too_many(wait: chrono::Duration, message: impl Into<String>) -> Refusal {
    Refusal {
        retry_after: Some(wait.num_seconds().max(1)),
        ..refuse(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
    }
}

/// `N` random bytes from the system.
fn random<const N: usize>() -> Result<[u8; N], Refusal> {
    use std::io::Read;
    let mut bytes = [0u8; N];
    match std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)) {
        Ok(()) => Ok(bytes),
        Err(e) => {
            tracing::error!(error = %e, "cannot read /dev/urandom");
            Err(unavailable())
        }
    }
}

fn unavailable() -> Refusal {
    refuse(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "De chat is even niet bereikbaar. Probeer het over een paar minuten opnieuw.",
    )
}

async fn session(
    State(s): State<Arc<AppState>>,
    Extension(w): Extension<Arc<Shared>>,
    parts: Parts,
) -> Result<Response, Refusal> {
    w.sessions
        .hit(&address(&s, &parts), SESSIONS_PER_ADDRESS, s.clock.now())
        .map_err(|wait| {
            too_many(
                wait,
                "Er zijn vanaf dit netwerk veel chats tegelijk gestart. Probeer het over een minuut opnieuw.",
            )
        })?;
    let visitor = keys(&w)?
        .issue(&random::<RANDOM_BYTES>()?)
        .ok_or_else(unavailable)?;
    Ok(fresh(json!({ "visitor": visitor })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SendRequest {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    button_id: Option<String>,
    #[serde(default)]
    button_title: Option<String>,
    /// The widget's id of the message: sent again after a lost answer, it is stored once.
    #[serde(default)]
    client_id: Option<String>,
}

/// A message as the intake takes it, or the visitor's error.
fn incoming(req: SendRequest, resident: &str) -> Result<Incoming, Refusal> {
    let bad =
        |error: &'static str, message: String| refuse(StatusCode::BAD_REQUEST, error, message);
    let p = &WEB_CHAT;
    let client_id = match req.client_id {
        Some(id) if super::valid_client_id(&id) => id,
        Some(_) => {
            return Err(bad(
                "bad_client_id",
                "`client_id` moet 8 tot 64 letters, cijfers, - of _ zijn.".into(),
            ))
        }
        None => hex::encode(random::<12>()?),
    };
    let (kind, text, button) = match (req.text, req.button_id, req.button_title) {
        (None, Some(id), Some(title)) => {
            let title = title.trim().to_string();
            if id.is_empty()
                || title.is_empty()
                || id.chars().count() > p.max_button_id_chars
                || title.chars().count() > p.max_button_title_chars
            {
                return Err(bad(
                    "bad_button",
                    "Deze knop kent de chat niet. Typ je antwoord liever.".into(),
                ));
            }
            ("button", title, Some(id))
        }
        (Some(text), None, None) => {
            let text = text.trim().to_string();
            let n = text.chars().count();
            if n == 0 {
                return Err(bad("empty", "Typ eerst je bericht.".into()));
            }
            if n > p.max_text_chars {
                return Err(bad(
                    "text_too_long",
                    format!(
                        "Je bericht is {n} tekens lang; de chat neemt er hoogstens {}. Maak het korter of verdeel het over twee berichten.",
                        p.max_text_chars
                    ),
                ));
            }
            ("text", text, None)
        }
        _ => {
            return Err(bad(
                "bad_request",
                "Stuur een tekst, of een knop met `button_id` en `button_title`.".into(),
            ))
        }
    };
    Ok(Incoming {
        provider_id: super::provider_id(resident, &client_id),
        from: resident.to_string(),
        profile_name: None,
        kind,
        text,
        button,
        media: None,
        sent_at: None,
    })
}

async fn send(
    State(s): State<Arc<AppState>>,
    Extension(w): Extension<Arc<Shared>>,
    parts: Parts,
    body: Bytes,
) -> Result<Response, Refusal> {
    let resident = visitor(&w, &parts.headers)?;
    let req: SendRequest = serde_json::from_slice(&body).map_err(|_| {
        refuse(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "De chat begrijpt dit bericht niet. Laad de pagina opnieuw en probeer het nog eens.",
        )
    })?;
    let message = incoming(req, &resident)?;
    let now = s.clock.now();
    let per_address = w.per_minute.saturating_mul(ADDRESS_FACTOR);
    let address = address(&s, &parts);
    w.addresses
        .hit(&address, per_address, now)
        .map_err(|wait| {
            too_many(
                wait,
                "Er komen vanaf dit netwerk veel berichten tegelijk binnen. Wacht even en probeer het over een minuut opnieuw.",
            )
        })?;
    w.visitors
        .hit(&resident, w.per_minute, now)
        .map_err(|wait| {
            too_many(
                wait,
                format!(
                    "Je stuurt veel berichten snel achter elkaar (hoogstens {} per minuut). Wacht even en probeer het over {} seconden opnieuw.",
                    w.per_minute,
                    wait.num_seconds().max(1)
                ),
            )
        })?;
    // A visitor's first message starts a conversation: an address starts only so many a minute.
    if !has_conversation(&s, &resident).await? {
        w.conversations
            .hit(&address, CONVERSATIONS_PER_ADDRESS, now)
            .map_err(|wait| {
                too_many(
                    wait,
                    "Er zijn vanaf dit netwerk veel nieuwe chats tegelijk begonnen. Probeer het over een minuut opnieuw.",
                )
            })?;
    }
    let (kind, chars) = (message.kind, message.text.chars().count());
    let inbox = Inbox {
        messages: vec![message],
        receipts: Vec::new(),
        skipped: 0,
    };
    match intake::ingest(&s, Channel::WebChat, inbox).await {
        Ok(new) => {
            tracing::info!(kind, chars, new, "web chat message");
            w.wake(&resident);
            Ok(fresh(json!({ "stored": new > 0 })))
        }
        Err(e) => {
            tracing::error!(error = %e, "web chat message not stored");
            Err(refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_stored",
                "Je bericht kon niet worden bewaard. Probeer het zo opnieuw.",
            ))
        }
    }
}

/// Whether the visitor has a conversation (wrote before).
async fn has_conversation(s: &AppState, resident: &str) -> Result<bool, Refusal> {
    let store = s.store.clone();
    let resident = resident.to_string();
    let found = tokio::task::spawn_blocking(move || {
        store.resident_messages(Channel::WebChat, &resident, i64::MAX, 0)
    })
    .await;
    match found {
        Ok(Ok(c)) => Ok(c.is_some()),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "web chat conversation not looked up");
            Err(unavailable())
        }
        Err(e) => {
            tracing::error!(error = %e, "web chat conversation not looked up");
            Err(unavailable())
        }
    }
}

#[derive(Debug, Deserialize)]
struct After {
    #[serde(default)]
    after: i64,
}

/// The visitor's conversation after `after`: its id (`None` before their first message) and
/// what they see of it.
async fn load(s: &AppState, resident: &str, after: i64) -> Result<(Option<i64>, Page), String> {
    let store = s.store.clone();
    let resident = resident.to_string();
    let after = after.max(0);
    let rows = tokio::task::spawn_blocking(move || {
        store.resident_messages(Channel::WebChat, &resident, after, PAGE_ROWS)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    Ok(match rows {
        None => (
            None,
            Page {
                messages: Vec::new(),
                cursor: after,
                more: false,
            },
        ),
        Some((id, rows)) => (Some(id), history::page(&rows, after, PAGE_ROWS)),
    })
}

async fn history(
    State(s): State<Arc<AppState>>,
    Extension(w): Extension<Arc<Shared>>,
    parts: Parts,
    Query(q): Query<After>,
) -> Result<Response, Refusal> {
    let resident = visitor(&w, &parts.headers)?;
    let now = s.clock.now();
    // The visitor first: one busy tab does not use up its network's reads.
    w.history_visitors
        .hit(&resident, HISTORY_PER_VISITOR, now)
        .map_err(|wait| {
            too_many(
                wait,
                "De chat vraagt heel vaak om nieuwe berichten. Wacht even; de chat probeert het zo opnieuw.",
            )
        })?;
    w.history_addresses
        .hit(
            &address(&s, &parts),
            HISTORY_PER_VISITOR.saturating_mul(ADDRESS_FACTOR),
            now,
        )
        .map_err(|wait| {
            too_many(
                wait,
                "Vanaf dit netwerk wordt heel vaak om nieuwe berichten gevraagd. Wacht even; de chat probeert het zo opnieuw.",
            )
        })?;
    match load(&s, &resident, q.after).await {
        Ok((_, page)) => Ok(fresh(serde_json::to_value(page).unwrap_or_default())),
        Err(e) => {
            tracing::error!(error = %e, "web chat history not read");
            Err(unavailable())
        }
    }
}

async fn stream(
    State(s): State<Arc<AppState>>,
    Extension(w): Extension<Arc<Shared>>,
    parts: Parts,
    Query(q): Query<After>,
) -> Result<Response, Refusal> {
    let resident = visitor(&w, &parts.headers)?;
    let slot = w
        .streams
        .open(&resident, &address(&s, &parts))
        .map_err(|why| {
            let message = match why {
                Refused::Visitor => "Er staan te veel chatvensters tegelijk open. Sluit er een; deze kijkt intussen om de paar seconden of er nieuwe berichten zijn.",
                Refused::Address => "Er staan vanaf dit netwerk veel chatvensters tegelijk open. De chat kijkt intussen om de paar seconden of er nieuwe berichten zijn.",
                Refused::Total => {
                    tracing::warn!("web chat: every stream is in use; widgets read the history instead");
                    "De chat is erg druk. Hij kijkt intussen om de paar seconden of er nieuwe berichten zijn."
                }
            };
            Refusal {
                retry_after: Some(STREAM_RETRY_SECS),
                ..refuse(StatusCode::TOO_MANY_REQUESTS, "too_many_streams", message)
            }
        })?;
    // Subscribed before the first look, so nothing that happens in between is missed.
    let watch = Watch {
        live: s.live.subscribe(),
        wake: w.wake.subscribe(),
        stop: s.stopping.subscribe(),
        ends: tokio::time::Instant::now() + STREAM_LIFETIME,
        state: s,
        resident,
        cursor: q.after.max(0),
        conversation: None,
        shown_above: BTreeSet::new(),
        look: true,
        first: true,
        _slot: slot,
    };
    let events = futures_util::stream::unfold(watch, |mut w| async move {
        let event = w.next().await?;
        Some((Ok::<_, std::convert::Infallible>(event), w))
    });
    let mut r = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(StdDuration::from_secs(15)))
        .into_response();
    let h = r.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // A reverse proxy (nginx) passes the events on at once instead of buffering them.
    h.insert(
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    Ok(r)
}

/// One visitor's open stream.
struct Watch {
    state: Arc<AppState>,
    resident: String,
    cursor: i64,
    /// Learnt at the first look that finds one: the changes of this conversation are the
    /// visitor's.
    conversation: Option<i64>,
    /// Ids above the cursor already sent (a reply still in the outbox holds the cursor back).
    shown_above: BTreeSet<i64>,
    live: broadcast::Receiver<Change>,
    wake: broadcast::Receiver<Arc<str>>,
    stop: tokio::sync::watch::Receiver<bool>,
    ends: tokio::time::Instant,
    /// Look in the store before waiting again.
    look: bool,
    /// Nothing sent yet: the first look is sent even when empty (the widget then knows it is
    /// connected).
    first: bool,
    _slot: StreamSlot,
}

impl Watch {
    /// The next event, or `None` when the stream ends (the widget reconnects).
    async fn next(&mut self) -> Option<Event> {
        loop {
            if std::mem::take(&mut self.look) {
                let (conversation, mut page) =
                    match load(&self.state, &self.resident, self.cursor).await {
                        Ok(p) => p,
                        Err(e) => {
                            tracing::warn!(error = %e, "web chat stream ends: the store failed");
                            return None;
                        }
                    };
                self.conversation = conversation;
                self.look = page.more;
                page.messages.retain(|m| !self.shown_above.contains(&m.id));
                let moved = page.cursor != self.cursor;
                self.cursor = page.cursor;
                let cursor = self.cursor;
                self.shown_above.retain(|id| *id > cursor);
                self.shown_above
                    .extend(page.messages.iter().map(|m| m.id).filter(|id| *id > cursor));
                if moved || !page.messages.is_empty() || std::mem::take(&mut self.first) {
                    let data = serde_json::to_string(&page).unwrap_or_default();
                    return Some(Event::default().event("messages").data(data));
                }
            }
            tokio::select! {
                change = self.live.recv() => match change {
                    Ok(c) => self.look = Some(c.conversation) == self.conversation,
                    Err(broadcast::error::RecvError::Lagged(_)) => self.look = true,
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                woken = self.wake.recv() => match woken {
                    Ok(r) => self.look = *r == *self.resident,
                    Err(broadcast::error::RecvError::Lagged(_)) => self.look = true,
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = self.stop.wait_for(|stopping| *stopping) => return None,
                _ = tokio::time::sleep_until(self.ends) => return None,
            }
        }
    }
}
