//! A stand-in for the Messenger Platform's Send API (Messenger or Instagram), for demo mode and
//! black-box tests; a smaller sibling of the WhatsApp stand-in.
//!
//! [`StandIn::router`] answers `POST /{version}/{account-id}/messages` as Meta's Send API
//! reference describes it: a Bearer token is required (401, code 190, otherwise); the body must
//! name `recipient.id` and a `messaging_type` (`RESPONSE`, `UPDATE` or `MESSAGE_TAG`), a
//! `MESSAGE_TAG` needs a `tag` (on Instagram only `HUMAN_AGENT`) and a tag needs `MESSAGE_TAG`;
//! `message.text` may have 2,000 characters on Messenger and 1,000 bytes on Instagram; at most 13
//! `quick_replies`, each `content_type: "text"` with a `title` of at most 20 characters and a
//! `payload` of at most 1,000; `metadata` of less than 1,000 characters (Messenger only:
//! Instagram documents none). A body that breaks one of these gets a 400 with Graph error code
//! 100. Where the docs say the platform itself *cuts* a quick reply title over 20 characters
//! (Instagram's quick replies guide), the stand-in refuses it, so that our own cut is what the
//! tests see. A `sender_action` (`mark_seen`, `typing_on`, `typing_off`) without a message is
//! accepted too. An accepted message gets `{"recipient_id", "message_id": "m_STANDIN<n>"}` and is
//! recorded, the newest [`MAX_RECORDED`] kept. The stand-in knows nothing of reply windows: a
//! window error comes only as an injected fault.
//!
//! Tests steer it over HTTP or through the handle:
//! - `POST /_standin/faults` with a [`Fault`] (`{"code": 613, "count": 2}`,
//!   `{"code": 10, "subcode": 2018278}`, `{"http_status": 503}` (no Graph body, as from a proxy),
//!   `{"delay_ms": 3000}`, `{"drop_connection": true}`,
//!   `{"drop_connection": true, "delivered": true}`, `{"hold": true}`): the next `count` message
//!   sends fail with that error, answer late, lose their connection (after recording the message
//!   when `delivered`: the platform had it, the answer was lost), or wait until released
//!   ([`StandIn::release`]). `DELETE /_standin/faults` forgets them. [`StandIn::under_way`]
//!   counts the sends not yet answered (a client that went away does not stop one).
//! - `PUT /_standin/latency` with `{"latency_ms": 150}`: every send takes that long.
//! - `GET /_standin/messages?to=…&since=<seq>` lists what was recorded, oldest first;
//!   `DELETE /_standin/messages` forgets it.
//!
//! With an [`EchoCallback`] (off by default) every accepted message is sent back to the service as
//! the platform's `message_echoes` webhook (signed, with the message's `metadata`), retried with
//! backoff for a bounded time.
//!
//! A dropped connection is a broken answer: the status line may arrive, its body never does. This
//! works inside another server's router too. Logs carry sequence numbers, ids and lengths, never a
//! recipient or a body.

use std::collections::VecDeque;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::inbound::object_of;
use super::outbound::INSTAGRAM_MAX_TEXT_BYTES;
use crate::channel::Channel;

/// The most recorded requests kept; older ones are forgotten first.
pub const MAX_RECORDED: usize = 10_000;
/// The longest delay or latency that may be asked for, in milliseconds.
pub const MAX_DELAY_MS: u64 = 600_000;

/// Messenger's text limit, in characters.
const MESSENGER_MAX_TEXT_CHARS: usize = 2000;
/// Quick replies per message.
const MAX_QUICK_REPLIES: usize = 13;
/// Characters of a quick reply title.
const MAX_TITLE_CHARS: usize = 20;
/// Characters of a quick reply payload, and of `metadata`.
const MAX_PAYLOAD_CHARS: usize = 1000;
/// The message tags Messenger knows; Instagram knows only `HUMAN_AGENT`.
const MESSENGER_TAGS: [&str; 5] = [
    "HUMAN_AGENT",
    "ACCOUNT_UPDATE",
    "CONFIRMED_EVENT_UPDATE",
    "POST_PURCHASE_UPDATE",
    "CUSTOMER_FEEDBACK",
];

/// What the stand-in accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    /// Increases by one per recorded request, from 1.
    pub seq: u64,
    pub at: DateTime<Utc>,
    /// The account id in the request path.
    pub account_id: String,
    /// `message`, or `sender_action` (`mark_seen`, typing).
    pub kind: String,
    /// `recipient.id`.
    pub to: String,
    /// The id the stand-in gave a message (empty for a sender action).
    pub message_id: String,
    /// The JSON body as received.
    pub body: Value,
}

/// A failure the next message sends meet. All fields are optional in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// The Graph error code (`error.code`); without one, an `http_status` is answered with a
    /// plain body, as a proxy in front of the API would.
    #[serde(default)]
    pub code: Option<i64>,
    /// `error.error_subcode`.
    #[serde(default)]
    pub subcode: Option<i64>,
    /// The HTTP status of the error (400–599); 400 when only `code` is given.
    #[serde(default)]
    pub http_status: Option<u16>,
    /// How many sends meet this fault, at least 1.
    #[serde(default = "one")]
    pub count: u32,
    /// Wait this long before answering (or failing, or dropping).
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// Break the answer off.
    #[serde(default)]
    pub drop_connection: bool,
    /// With `drop_connection`: record (deliver) the message first.
    #[serde(default)]
    pub delivered: bool,
    /// Wait until [`StandIn::release`] first (then the delay, error or drop apply).
    #[serde(default)]
    pub hold: bool,
}

fn one() -> u32 {
    1
}

impl Fault {
    /// One send answered with this Graph error code (HTTP 400).
    pub fn error(code: i64) -> Fault {
        Fault {
            code: Some(code),
            subcode: None,
            http_status: None,
            count: 1,
            delay_ms: None,
            drop_connection: false,
            delivered: false,
            hold: false,
        }
    }

    /// One send answered with this HTTP status and no particular code.
    pub fn status(http_status: u16) -> Fault {
        Fault {
            code: None,
            http_status: Some(http_status),
            ..Fault::error(0)
        }
    }

    /// One send whose answer is broken off; `delivered`: after the message was recorded.
    pub fn drop_connection(delivered: bool) -> Fault {
        Fault {
            code: None,
            drop_connection: true,
            delivered,
            ..Fault::error(0)
        }
    }

    /// One send that waits until [`StandIn::release`], then is answered normally.
    pub fn hold() -> Fault {
        Fault {
            code: None,
            hold: true,
            ..Fault::error(0)
        }
    }

    /// One send answered normally: a place in the queue of faults.
    pub fn none() -> Fault {
        Fault {
            code: None,
            ..Fault::error(0)
        }
    }

    /// The same fault with this subcode.
    pub fn subcode(mut self, subcode: i64) -> Fault {
        self.subcode = Some(subcode);
        self
    }

    /// The same fault for the next `count` sends.
    pub fn times(mut self, count: u32) -> Fault {
        self.count = count;
        self
    }

    /// Problems that make the fault unusable, or `None`.
    pub fn check(&self) -> Option<String> {
        if self.count == 0 {
            return Some("fault `count` must be at least 1".into());
        }
        if let Some(s) = self.http_status.filter(|s| !(400..=599).contains(s)) {
            return Some(format!("fault `http_status` {s} is not in 400..=599"));
        }
        if let Some(ms) = self.delay_ms.filter(|ms| *ms > MAX_DELAY_MS) {
            return Some(format!("fault `delay_ms` {ms} is more than {MAX_DELAY_MS}"));
        }
        if self.drop_connection && (self.code.is_some() || self.http_status.is_some()) {
            return Some("a fault either drops the connection or answers an error".into());
        }
        if self.delivered && !self.drop_connection {
            return Some("`delivered` goes with `drop_connection`".into());
        }
        None
    }

    fn is_error(&self) -> bool {
        self.code.is_some() || self.http_status.is_some()
    }
}

/// Where the stand-in sends the echoes of the messages it accepted.
#[derive(Clone)]
pub struct EchoCallback {
    /// The service's webhook, e.g. `http://127.0.0.1:8080/webhooks/messenger`.
    pub url: String,
    /// The app secret that signs them (`X-Hub-Signature-256`).
    pub app_secret: String,
    /// Keep trying an echo that got no 2xx this long.
    pub retry_for: Duration,
}

impl EchoCallback {
    /// Echoes to `url`, signed with `app_secret`, retried for 30 s.
    pub fn new(url: impl Into<String>, app_secret: impl Into<String>) -> EchoCallback {
        EchoCallback {
            url: url.into(),
            app_secret: app_secret.into(),
            retry_for: Duration::from_secs(30),
        }
    }
}

impl std::fmt::Debug for EchoCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EchoCallback")
            .field("url", &self.url)
            .field("app_secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// What became of the echoes so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EchoStats {
    pub delivered: u64,
    pub given_up: u64,
    pub in_flight: u64,
}

#[derive(Debug)]
struct Inner {
    channel: Channel,
    last_seq: u64,
    recorded: VecDeque<Recorded>,
    faults: VecDeque<Fault>,
    required_token: Option<String>,
    latency_ms: u64,
    echoes: Option<(EchoCallback, reqwest::Client)>,
    echo_stats: EchoStats,
    /// Message sends that arrived and are not answered yet.
    under_way: u64,
    /// Sends waiting for [`StandIn::release`].
    held: u64,
}

impl Inner {
    fn record(&mut self, account_id: &str, kind: &str, to: &str, body: Value) -> Recorded {
        self.last_seq += 1;
        let seq = self.last_seq;
        let rec = Recorded {
            seq,
            at: Utc::now(),
            account_id: account_id.to_string(),
            kind: kind.to_string(),
            to: to.to_string(),
            message_id: if kind == "message" {
                format!("m_STANDIN{seq}")
            } else {
                String::new()
            },
            body,
        };
        while self.recorded.len() >= MAX_RECORDED {
            self.recorded.pop_front();
        }
        self.recorded.push_back(rec.clone());
        rec
    }

    fn take_fault(&mut self) -> Option<Fault> {
        let front = self.faults.front_mut()?;
        let fault = front.clone();
        front.count = front.count.saturating_sub(1);
        if front.count == 0 {
            self.faults.pop_front();
        }
        Some(fault)
    }
}

/// A handle on a stand-in's state; clones share it.
#[derive(Debug, Clone)]
pub struct StandIn {
    inner: Arc<Mutex<Inner>>,
    /// Counts the releases; a held send goes on once it has changed.
    releases: Arc<watch::Sender<u64>>,
}

impl StandIn {
    /// A stand-in of `channel`'s Send API that accepts any non-empty Bearer token.
    pub fn new(channel: Channel) -> StandIn {
        StandIn {
            inner: Arc::new(Mutex::new(Inner {
                channel,
                last_seq: 0,
                recorded: VecDeque::new(),
                faults: VecDeque::new(),
                required_token: None,
                latency_ms: 0,
                echoes: None,
                echo_stats: EchoStats::default(),
                under_way: 0,
                held: 0,
            })),
            releases: Arc::default(),
        }
    }

    /// A stand-in that accepts only this Bearer token (401 with code 190 for any other).
    pub fn requiring_token(channel: Channel, token: impl Into<String>) -> StandIn {
        let s = StandIn::new(channel);
        s.lock().required_token = Some(token.into());
        s
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The routes: the messages endpoint and `/_standin/…`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/{version}/{account_id}/messages", post(messages))
            .route("/_standin/messages", get(list).delete(clear))
            .route("/_standin/faults", post(add_fault).delete(clear_faults))
            .route("/_standin/latency", put(set_latency).get(latency))
            .with_state(self.clone())
    }

    /// The recorded messages (not sender actions), oldest first.
    pub fn messages(&self) -> Vec<Recorded> {
        self.lock()
            .recorded
            .iter()
            .filter(|r| r.kind == "message")
            .cloned()
            .collect()
    }

    /// Everything recorded after `since`, to `to` when given, oldest first.
    pub fn sent_since(&self, since: u64, to: Option<&str>) -> Vec<Recorded> {
        self.lock()
            .recorded
            .iter()
            .filter(|r| r.seq > since && to.is_none_or(|t| r.to == t))
            .cloned()
            .collect()
    }

    /// Forgets what was recorded; sequence numbers go on.
    pub fn clear(&self) {
        self.lock().recorded.clear();
    }

    /// Queues a fault for the next message sends.
    pub fn inject(&self, fault: Fault) -> Result<(), String> {
        if let Some(problem) = fault.check() {
            return Err(problem);
        }
        self.lock().faults.push_back(fault);
        Ok(())
    }

    /// How many sends the queued faults still affect.
    pub fn pending_faults(&self) -> u64 {
        self.lock().faults.iter().map(|f| u64::from(f.count)).sum()
    }

    /// Forgets the queued faults.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Lets every send held by a [`Fault::hold`] go on; returns how many were waiting.
    pub fn release(&self) -> u64 {
        let held = self.held();
        self.releases.send_modify(|n| *n += 1);
        held
    }

    /// How many sends wait for [`StandIn::release`] now.
    pub fn held(&self) -> u64 {
        self.lock().held
    }

    /// How many message sends arrived and are not answered yet (held ones included).
    pub fn under_way(&self) -> u64 {
        self.lock().under_way
    }

    /// Every send takes this long from now on.
    pub fn set_latency(&self, ms: u64) -> Result<(), String> {
        if ms > MAX_DELAY_MS {
            return Err(format!("`latency_ms` {ms} is more than {MAX_DELAY_MS}"));
        }
        self.lock().latency_ms = ms;
        Ok(())
    }

    /// Sends every accepted message back as an echo webhook from now on; `None`: no more.
    pub fn set_echoes(&self, callback: Option<EchoCallback>) {
        self.lock().echoes = callback.map(|c| (c, reqwest::Client::new()));
    }

    /// How the echoes fared.
    pub fn echo_stats(&self) -> EchoStats {
        self.lock().echo_stats
    }

    /// Serves the stand-in on `127.0.0.1` at a free port in a background task.
    pub async fn start(&self) -> io::Result<Running> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let router = self.router();
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        tracing::debug!(%addr, "send api stand-in listening");
        Ok(Running {
            addr,
            stop: Some(stop),
            task,
        })
    }
}

/// A stand-in served by [`StandIn::start`]; dropping it stops the server.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<io::Result<()>>,
}

impl Running {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to configure as `api_base`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, waits for requests in flight, and returns the server's result.
    pub async fn stop(mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match (&mut self.task).await {
            Ok(result) => result,
            Err(e) => Err(io::Error::other(format!("stand-in task failed: {e}"))),
        }
    }
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default)]
    since: u64,
    #[serde(default)]
    to: Option<String>,
}

async fn list(State(s): State<StandIn>, Query(q): Query<ListQuery>) -> Json<Vec<Recorded>> {
    Json(s.sent_since(q.since, q.to.as_deref()))
}

async fn clear(State(s): State<StandIn>) -> StatusCode {
    s.clear();
    StatusCode::NO_CONTENT
}

async fn add_fault(State(s): State<StandIn>, Json(fault): Json<Fault>) -> Response {
    match s.inject(fault) {
        Ok(()) => Json(json!({ "pending": s.pending_faults() })).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({ "error": e }))).into_response(),
    }
}

async fn clear_faults(State(s): State<StandIn>) -> StatusCode {
    s.clear_faults();
    StatusCode::NO_CONTENT
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Latency {
    latency_ms: u64,
}

async fn set_latency(State(s): State<StandIn>, Json(l): Json<Latency>) -> Response {
    match s.set_latency(l.latency_ms) {
        Ok(()) => Json(l).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({ "error": e }))).into_response(),
    }
}

async fn latency(State(s): State<StandIn>) -> Json<Latency> {
    Json(Latency {
        latency_ms: s.lock().latency_ms,
    })
}

/// `POST /{version}/{account_id}/messages`.
async fn messages(
    State(s): State<StandIn>,
    Path((_version, account_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (channel, trace) = {
        let inner = s.lock();
        (inner.channel, inner.last_seq + 1)
    };
    if let Some(problem) = check_token(&s, &headers) {
        return graph_error(StatusCode::UNAUTHORIZED, 190, None, &problem, trace);
    }
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => return invalid("(#100) The request body must be a JSON object", trace),
    };
    let to = match check_body(channel, &body) {
        Ok(to) => to.to_string(),
        Err(problem) => return invalid(&problem, trace),
    };
    if body.get("sender_action").is_some() {
        let rec = s.lock().record(&account_id, "sender_action", &to, body);
        tracing::debug!(seq = rec.seq, "stand-in took a sender action");
        return Json(json!({ "recipient_id": to })).into_response();
    }
    let (fault, latency) = {
        let mut inner = s.lock();
        inner.under_way += 1;
        (inner.take_fault(), inner.latency_ms)
    };
    // In its own task, so that a client that gives up does not stop it: the platform may
    // deliver a message whose answer never arrived.
    let task = tokio::spawn(deliver(s, account_id, to, body, fault, latency, trace));
    match task.await {
        Ok(response) => response,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn deliver(
    s: StandIn,
    account_id: String,
    to: String,
    body: Value,
    fault: Option<Fault>,
    latency_ms: u64,
    trace: u64,
) -> Response {
    let _under_way = UnderWay(s.clone());
    if latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(latency_ms)).await;
    }
    if let Some(f) = &fault {
        if f.hold {
            let mut released = s.releases.subscribe();
            let seen = *released.borrow_and_update();
            s.lock().held += 1;
            let _ = released.wait_for(|n| *n != seen).await;
            let mut inner = s.lock();
            inner.held = inner.held.saturating_sub(1);
        }
        if let Some(ms) = f.delay_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if f.is_error() {
            let status = f
                .http_status
                .and_then(|s| StatusCode::from_u16(s).ok())
                .unwrap_or(StatusCode::BAD_REQUEST);
            let Some(code) = f.code else {
                // As a proxy or load balancer in front of the API answers: no Graph body.
                tracing::debug!(status = status.as_u16(), "stand-in injected an http error");
                return (status, "upstream unavailable").into_response();
            };
            tracing::debug!(code, status = status.as_u16(), "stand-in injected an error");
            return graph_error(status, code, f.subcode, &describe(code, f.subcode), trace);
        }
        if f.drop_connection && !f.delivered {
            tracing::debug!("stand-in breaks an answer off before delivering");
            return broken();
        }
    }
    let rec = s.lock().record(&account_id, "message", &to, body);
    tracing::debug!(seq = rec.seq, message_id = %rec.message_id, "stand-in accepted a message");
    let echoes = s.lock().echoes.clone();
    if let Some((cb, http)) = echoes {
        tokio::spawn(echo(s.clone(), cb, http, rec.clone()));
    }
    if fault.is_some_and(|f| f.drop_connection) {
        tracing::debug!(
            seq = rec.seq,
            "stand-in breaks an answer off after delivering"
        );
        return broken();
    }
    Json(json!({ "recipient_id": to, "message_id": rec.message_id })).into_response()
}

/// Counts a send as under way until it is dropped (answered, or its task ended otherwise).
struct UnderWay(StandIn);

impl Drop for UnderWay {
    fn drop(&mut self) {
        let mut inner = self.0.lock();
        inner.under_way = inner.under_way.saturating_sub(1);
    }
}

/// An answer whose body breaks off: the client sees the connection fail mid-answer.
fn broken() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, io::Error>(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "dropped by a stand-in fault",
        ))
    });
    let mut r = Response::new(Body::from_stream(failing));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    r
}

/// Sends the echo of an accepted message, retried with backoff until a 2xx or `retry_for`.
async fn echo(s: StandIn, cb: EchoCallback, http: reqwest::Client, rec: Recorded) {
    let channel = s.lock().channel;
    s.lock().echo_stats.in_flight += 1;
    let now = Utc::now().timestamp_millis();
    let mut message = json!({ "is_echo": true, "app_id": 1, "mid": rec.message_id });
    for key in ["text", "metadata", "quick_replies"] {
        if let Some(v) = rec.body.pointer(&format!("/message/{key}")) {
            message[key] = v.clone();
        }
    }
    let hook = json!({
        "object": object_of(channel),
        "entry": [{ "id": rec.account_id, "time": now, "messaging": [{
            "sender": { "id": rec.account_id },
            "recipient": { "id": rec.to },
            "timestamp": now,
            "message": message,
        }]}],
    });
    let raw = hook.to_string().into_bytes();
    let signature = crate::channels::whatsapp::sign(cb.app_secret.as_bytes(), &raw);
    let deadline = tokio::time::Instant::now() + cb.retry_for;
    let mut pause = Duration::from_millis(50);
    let delivered = loop {
        let answer = http
            .post(&cb.url)
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-hub-signature-256", &signature)
            .timeout(Duration::from_secs(5))
            .body(raw.clone())
            .send()
            .await;
        if answer.is_ok_and(|r| r.status().is_success()) {
            break true;
        }
        if tokio::time::Instant::now() + pause > deadline {
            break false;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    };
    let mut inner = s.lock();
    inner.echo_stats.in_flight = inner.echo_stats.in_flight.saturating_sub(1);
    if delivered {
        inner.echo_stats.delivered += 1;
    } else {
        inner.echo_stats.given_up += 1;
        tracing::warn!(seq = rec.seq, "stand-in gave up an echo");
    }
}

/// Why the Authorization header is not acceptable, or `None`.
fn check_token(s: &StandIn, headers: &HeaderMap) -> Option<String> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Some("An active access token must be used to query information".into());
    };
    match &s.lock().required_token {
        Some(required) if required != token => {
            Some("Invalid OAuth access token - Cannot parse access token".into())
        }
        _ => None,
    }
}

/// The recipient of a body the Send API takes, or the first rule it breaks.
fn check_body(channel: Channel, body: &Value) -> Result<&str, String> {
    let to = body
        .pointer("/recipient/id")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or("(#100) The parameter recipient is required")?;
    let message = body.get("message");
    if let Some(action) = body.get("sender_action") {
        if message.is_some() {
            return Err("(#100) Cannot send both message and state at the same time.".into());
        }
        return match action.as_str() {
            Some("mark_seen" | "typing_on" | "typing_off") => Ok(to),
            _ => Err(
                "(#100) Param sender_action must be one of {MARK_SEEN, TYPING_ON, TYPING_OFF}"
                    .into(),
            ),
        };
    }
    let kind = body.get("messaging_type").and_then(Value::as_str);
    let tag = body.get("tag").and_then(Value::as_str);
    match (kind, tag) {
        (Some("RESPONSE" | "UPDATE"), None) => {}
        (Some("MESSAGE_TAG"), Some(tag)) => {
            let known = match channel {
                Channel::Instagram => tag == "HUMAN_AGENT",
                _ => MESSENGER_TAGS.contains(&tag),
            };
            if !known {
                return Err(format!(
                    "(#100) Param tag `{tag}` is not a valid message tag"
                ));
            }
        }
        (Some("MESSAGE_TAG"), None) => {
            return Err("(#100) Param tag is required when messaging_type is MESSAGE_TAG".into())
        }
        (Some("RESPONSE" | "UPDATE"), Some(_)) => {
            return Err("(#100) Param tag can only be used with messaging_type MESSAGE_TAG".into())
        }
        _ => {
            return Err(
                "(#100) Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}".into(),
            )
        }
    }
    let message = message
        .and_then(Value::as_object)
        .ok_or("(#100) The parameter message is required")?;
    let text = message.get("text").and_then(Value::as_str);
    if text.is_none_or(str::is_empty) && !message.contains_key("attachment") {
        return Err("(#100) Message must have text or an attachment".into());
    }
    if let Some(text) = text {
        match channel {
            Channel::Instagram if text.len() > INSTAGRAM_MAX_TEXT_BYTES => {
                return Err(format!(
                    "(#100) Message text must be {INSTAGRAM_MAX_TEXT_BYTES} bytes or less"
                ))
            }
            Channel::Instagram => {}
            _ if text.chars().count() > MESSENGER_MAX_TEXT_CHARS => {
                return Err(format!(
                "(#100) Param message[text] must be at most {MESSENGER_MAX_TEXT_CHARS} characters"
            ))
            }
            _ => {}
        }
    }
    if let Some(meta) = message.get("metadata") {
        let ok = meta
            .as_str()
            .is_some_and(|m| m.chars().count() < MAX_PAYLOAD_CHARS);
        if !ok || channel == Channel::Instagram {
            return Err("(#100) Param message[metadata] is not valid".into());
        }
    }
    if let Some(qr) = message.get("quick_replies") {
        let list = qr
            .as_array()
            .ok_or("(#100) Param message[quick_replies] must be an array")?;
        if list.is_empty() || list.len() > MAX_QUICK_REPLIES {
            return Err(format!(
                "(#100) Param message[quick_replies] must have 1 to {MAX_QUICK_REPLIES} elements"
            ));
        }
        for (i, q) in list.iter().enumerate() {
            let field = |k: &str| q.get(k).and_then(Value::as_str).unwrap_or_default();
            match field("content_type") {
                "user_phone_number" | "user_email" => continue,
                "text" => {}
                _ => {
                    return Err(format!(
                        "(#100) Param message[quick_replies][{i}][content_type] must be one of {{text, user_phone_number, user_email}}"
                    ))
                }
            }
            let title = field("title").chars().count();
            if title == 0 || title > MAX_TITLE_CHARS {
                return Err(format!(
                    "(#100) Param message[quick_replies][{i}][title] must be 1 to {MAX_TITLE_CHARS} characters"
                ));
            }
            let payload = field("payload").chars().count();
            if payload == 0 || payload > MAX_PAYLOAD_CHARS {
                return Err(format!(
                    "(#100) Param message[quick_replies][{i}][payload] must be 1 to {MAX_PAYLOAD_CHARS} characters"
                ));
            }
        }
    }
    Ok(to)
}

fn invalid(message: &str, trace: u64) -> Response {
    graph_error(StatusCode::BAD_REQUEST, 100, None, message, trace)
}

/// A Graph-style error answer.
fn graph_error(
    status: StatusCode,
    code: i64,
    subcode: Option<i64>,
    message: &str,
    trace: u64,
) -> Response {
    let mut error = json!({
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": format!("STANDIN{trace}"),
    });
    if let Some(sub) = subcode {
        error["error_subcode"] = json!(sub);
    }
    (status, Json(json!({ "error": error }))).into_response()
}

/// The message the platform gives for a code, roughly (Meta's Messenger error codes).
fn describe(code: i64, subcode: Option<i64>) -> String {
    let text = match (code, subcode) {
        (10, _) => "This message is sent outside of allowed window.",
        (551, _) | (200, Some(1545041)) => "This person isn't available right now.",
        (200, Some(2018028)) => "Cannot message users who are not admins, developers or testers of the app until pages_messaging permission is reviewed and the app is live.",
        (613, _) => "Calls to this api have exceeded the rate limit.",
        (4, _) => "Application request limit reached",
        (1200, _) => "Temporary send message failure. Please try again later",
        (2, _) => "An unexpected error has occurred. Please retry your request later.",
        (1, _) => "An unknown error occurred",
        (190, _) => "Invalid OAuth access token.",
        _ => "Injected by the send api stand-in.",
    };
    format!("(#{code}) {text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(channel: Channel, text: &str, extra: Value) -> Result<String, String> {
        let mut b = json!({ "recipient": { "id": "1" }, "messaging_type": "RESPONSE",
                            "message": { "text": text } });
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        check_body(channel, &b).map(str::to_string)
    }

    #[test]
    fn bodies_are_checked_as_the_docs_say() {
        let m = Channel::Messenger;
        assert_eq!(reply(m, "hoi", json!({})), Ok("1".into()));
        assert!(reply(m, &"x".repeat(2001), json!({})).is_err());
        assert!(reply(m, &"é".repeat(2000), json!({})).is_ok());
        // Instagram counts bytes.
        assert!(reply(Channel::Instagram, &"é".repeat(501), json!({})).is_err());
        assert!(reply(Channel::Instagram, &"a".repeat(1000), json!({})).is_ok());
        // Tags.
        let tag = json!({ "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT" });
        assert!(reply(m, "x", tag.clone()).is_ok());
        assert!(reply(Channel::Instagram, "x", tag).is_ok());
        let update = json!({ "messaging_type": "MESSAGE_TAG", "tag": "ACCOUNT_UPDATE" });
        assert!(reply(m, "x", update.clone()).is_ok());
        assert!(reply(Channel::Instagram, "x", update).is_err());
        assert!(reply(m, "x", json!({ "messaging_type": "MESSAGE_TAG" })).is_err());
        assert!(reply(m, "x", json!({ "tag": "HUMAN_AGENT" })).is_err());
        assert!(reply(m, "x", json!({ "messaging_type": "PUSH" })).is_err());
        assert!(reply(m, "", json!({})).is_err());
        assert!(check_body(m, &json!({ "messaging_type": "RESPONSE" })).is_err());
        // Sender actions.
        let seen = json!({ "recipient": { "id": "1" }, "sender_action": "mark_seen" });
        assert_eq!(check_body(m, &seen), Ok("1"));
    }

    #[test]
    fn quick_replies_are_checked() {
        let qr = |n: usize, title: &str| {
            let list: Vec<Value> = (0..n)
                .map(|i| json!({ "content_type": "text", "title": title, "payload": format!("p{i}") }))
                .collect();
            let mut b = json!({ "recipient": { "id": "1" }, "messaging_type": "RESPONSE",
                                "message": { "text": "kies" } });
            b["message"]["quick_replies"] = json!(list);
            check_body(Channel::Messenger, &b).map(str::to_string)
        };
        assert!(qr(13, "Afspraak maken").is_ok());
        assert!(qr(14, "Afspraak maken").is_err());
        assert!(qr(1, &"x".repeat(21)).is_err());
        assert!(qr(1, &"é".repeat(20)).is_ok());
        assert!(qr(0, "x").is_err());
    }

    #[test]
    fn faults_are_checked_and_used_up_in_order() {
        assert!(Fault::error(613).times(0).check().is_some());
        assert!(Fault::status(302).check().is_some());
        let mut both = Fault::drop_connection(false);
        both.code = Some(2);
        assert!(both.check().is_some());
        let mut delivered = Fault::error(2);
        delivered.delivered = true;
        assert!(delivered.check().is_some());
        let s = StandIn::new(Channel::Messenger);
        s.inject(Fault::error(613).times(2)).unwrap();
        s.inject(Fault::error(10).subcode(2018278)).unwrap();
        assert_eq!(s.pending_faults(), 3);
        let codes: Vec<Option<i64>> = (0..4)
            .map(|_| s.lock().take_fault().and_then(|f| f.code))
            .collect();
        assert_eq!(codes, [Some(613), Some(613), Some(10), None]);
    }

    #[test]
    fn at_most_the_newest_recorded_are_kept() {
        let s = StandIn::new(Channel::Instagram);
        for i in 0..MAX_RECORDED + 3 {
            s.lock().record("1", "message", &i.to_string(), Value::Null);
        }
        let all = s.sent_since(0, None);
        assert_eq!(all.len(), MAX_RECORDED);
        assert_eq!(all[0].seq, 4);
        assert_eq!(all[0].message_id, "m_STANDIN4");
    }
}
