//! A stand-in for the X API v2's send endpoint, for demo mode and black-box tests.
//!
//! [`StandIn::router`] answers `POST /2/dm_conversations/with/{participant_id}/messages` as the
//! API reference describes it: a Bearer token is required (401 otherwise, and for any other
//! token than [`StandIn::requiring_token`]'s), the participant is a user id of digits, the body
//! is a JSON object with a non-empty `text` of at most 10,000 characters (400 with a v2 problem
//! otherwise); an accepted message gets `201` and
//! `{"data": {"dm_conversation_id", "dm_event_id"}}` and is recorded (the newest
//! [`MAX_RECORDED`] kept). The error texts are the stand-in's own wording of the documented
//! statuses; the real API's may differ.
//!
//! Tests steer it over HTTP or through the handle:
//! - `POST /_standin/faults` with a [`Fault`] (`{"http_status": 429, "reset_at": 1795510920}`,
//!   `{"http_status": 503, "count": 2}`, `{"http_status": 403, "detail": "…"}`,
//!   `{"delay_ms": 3000}`, `{"drop_connection": true}`, `{"hold": true}`) makes the next `count`
//!   sends fail, answer late, lose their connection or wait until released
//!   ([`StandIn::release`]), in the order given; `DELETE` clears them. A 429 carries
//!   `x-rate-limit-reset` (its `reset_at`, else a minute from now).
//! - `PUT /_standin/conditions` (`{"latency_ms": 150}`) makes every send take that long.
//! - `GET /_standin/messages?to=<id>` lists what was recorded, oldest first; `DELETE` forgets.
//!
//! A send is processed in its own task, so that a client that goes away (a timeout, a crash of
//! the service) does not stop it: as on the real API, a message whose answer never arrived may
//! have been delivered. [`StandIn::under_way`] counts the sends not yet answered.
//!
//! A dropped connection records nothing and needs [`StandIn::start`]'s own server; inside
//! another server's router the stand-in answers 500 instead. Logs carry sequence numbers and
//! lengths, never a recipient or a text.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono::{DateTime, Utc};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch, Notify};
use tokio::task::{JoinHandle, JoinSet};
use tower_service::Service;

/// The most recorded messages kept; older ones are forgotten first.
pub const MAX_RECORDED: usize = 10_000;

/// The longest delay or latency asked for, in milliseconds.
pub const MAX_DELAY_MS: u64 = 600_000;

/// A direct message's longest text, in characters.
const MAX_TEXT_CHARS: usize = 10_000;

/// The account the stand-in sends as, in its conversation ids.
const SENDER: &str = "1";

/// A message the stand-in accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    /// From 1, one per accepted message; never reused.
    pub seq: u64,
    pub at: DateTime<Utc>,
    /// The participant id of the path.
    pub to: String,
    /// The id the stand-in gave the event.
    pub dm_event_id: String,
    /// The body's `text`.
    pub text: String,
    /// The JSON body as received.
    pub body: Value,
}

/// A failure the next sends meet. Every field is optional in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Answer with this status (400–599).
    #[serde(default)]
    pub http_status: Option<u16>,
    /// With 429: `x-rate-limit-reset`, seconds since the epoch (default: a minute from now).
    #[serde(default)]
    pub reset_at: Option<i64>,
    /// The problem's `detail`; the stand-in's wording for the status when absent.
    #[serde(default)]
    pub detail: Option<String>,
    /// Wait this long first.
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// Close the connection without an answer; nothing is recorded.
    #[serde(default)]
    pub drop_connection: bool,
    /// Wait until [`StandIn::release`] first (then the delay, error or drop apply).
    #[serde(default)]
    pub hold: bool,
    /// How many sends meet it, at least 1.
    #[serde(default = "one")]
    pub count: u32,
}

fn one() -> u32 {
    1
}

impl Fault {
    /// One send answered with `http_status`.
    pub fn status(http_status: u16) -> Fault {
        Fault {
            http_status: Some(http_status),
            reset_at: None,
            detail: None,
            delay_ms: None,
            drop_connection: false,
            hold: false,
            count: 1,
        }
    }

    /// One send answered 429, the limit resetting at `reset_at` (seconds since the epoch).
    pub fn rate_limited_until(reset_at: i64) -> Fault {
        Fault {
            reset_at: Some(reset_at),
            ..Fault::status(429)
        }
    }

    /// One send whose connection is closed without an answer.
    pub fn drop_connection() -> Fault {
        Fault {
            http_status: None,
            drop_connection: true,
            ..Fault::status(0)
        }
    }

    /// One send answered normally after `ms` milliseconds.
    pub fn delay(ms: u64) -> Fault {
        Fault {
            http_status: None,
            delay_ms: Some(ms),
            ..Fault::status(0)
        }
    }

    /// One send that waits until [`StandIn::release`], then is answered normally.
    pub fn hold() -> Fault {
        Fault {
            http_status: None,
            hold: true,
            ..Fault::status(0)
        }
    }

    /// The same fault with this `detail`.
    pub fn detail(mut self, detail: &str) -> Fault {
        self.detail = Some(detail.to_string());
        self
    }

    /// The same fault for the next `count` sends.
    pub fn times(mut self, count: u32) -> Fault {
        self.count = count;
        self
    }

    fn check(&self) -> Option<String> {
        if self.count == 0 {
            return Some("fault `count` must be at least 1".into());
        }
        if let Some(s) = self.http_status.filter(|s| !(400..=599).contains(s)) {
            return Some(format!("fault `http_status` {s} is not in 400..=599"));
        }
        if self.delay_ms.is_some_and(|ms| ms > MAX_DELAY_MS) {
            return Some(format!("fault `delay_ms` is more than {MAX_DELAY_MS}"));
        }
        if self.drop_connection && self.http_status.is_some() {
            return Some("a fault either drops the connection or answers an error".into());
        }
        None
    }
}

/// How every send behaves beyond faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Conditions {
    /// Every send takes this long, in milliseconds.
    pub latency_ms: u64,
}

#[derive(Debug, Default)]
struct Inner {
    last_seq: u64,
    recorded: VecDeque<Recorded>,
    faults: VecDeque<Fault>,
    required_token: Option<String>,
    conditions: Conditions,
    /// Sends that arrived and are not answered yet.
    under_way: u64,
    /// Sends waiting for [`StandIn::release`].
    held: u64,
}

impl Inner {
    fn take_fault(&mut self) -> Option<Fault> {
        let front = self.faults.front_mut()?;
        let fault = front.clone();
        front.count = front.count.saturating_sub(1);
        if front.count == 0 {
            self.faults.pop_front();
        }
        Some(fault)
    }

    fn record(&mut self, to: String, text: String, body: Value) -> Recorded {
        self.last_seq += 1;
        let rec = Recorded {
            seq: self.last_seq,
            at: Utc::now(),
            to,
            dm_event_id: (1_900_000_000_000_000_000u64 + self.last_seq).to_string(),
            text,
            body,
        };
        while self.recorded.len() >= MAX_RECORDED {
            self.recorded.pop_front();
        }
        self.recorded.push_back(rec.clone());
        rec
    }
}

/// A handle on a stand-in; clones share it.
#[derive(Debug, Clone, Default)]
pub struct StandIn {
    inner: Arc<Mutex<Inner>>,
    /// Counts the releases; a held send goes on once it has changed.
    releases: Arc<watch::Sender<u64>>,
}

impl StandIn {
    /// A stand-in that takes any non-empty Bearer token.
    pub fn new() -> StandIn {
        StandIn::default()
    }

    /// A stand-in that takes only this token.
    pub fn requiring_token(token: &str) -> StandIn {
        let s = StandIn::default();
        s.lock().required_token = Some(token.to_string());
        s
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The routes: the send endpoint and `/_standin/…`.
    pub fn router(&self) -> Router {
        Router::new()
            .route(
                "/2/dm_conversations/with/{participant_id}/messages",
                post(send),
            )
            .route("/_standin/messages", get(list).delete(clear))
            .route("/_standin/faults", post(add_fault).delete(clear_faults))
            .route(
                "/_standin/conditions",
                get(get_conditions).put(put_conditions),
            )
            .with_state(self.clone())
    }

    /// Every recorded message, oldest first.
    pub fn messages(&self) -> Vec<Recorded> {
        self.lock().recorded.iter().cloned().collect()
    }

    /// The recorded messages to `to`, oldest first.
    pub fn messages_to(&self, to: &str) -> Vec<Recorded> {
        self.lock()
            .recorded
            .iter()
            .filter(|r| r.to == to)
            .cloned()
            .collect()
    }

    /// Forgets what was recorded; sequence numbers go on.
    pub fn clear(&self) {
        self.lock().recorded.clear();
    }

    /// Queues a fault for the next sends.
    pub fn inject(&self, fault: Fault) -> Result<(), String> {
        if let Some(problem) = fault.check() {
            return Err(problem);
        }
        self.lock().faults.push_back(fault);
        Ok(())
    }

    /// Forgets the queued faults.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// How many sends the queued faults still affect.
    pub fn pending_faults(&self) -> u64 {
        self.lock().faults.iter().map(|f| u64::from(f.count)).sum()
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

    /// How many sends arrived and are not answered yet (held ones included); a send whose
    /// client went away counts until the stand-in has done with it.
    pub fn under_way(&self) -> u64 {
        self.lock().under_way
    }

    /// Sets how every send behaves from now on.
    pub fn set_conditions(&self, c: Conditions) -> Result<(), String> {
        if c.latency_ms > MAX_DELAY_MS {
            return Err(format!("`latency_ms` is more than {MAX_DELAY_MS}"));
        }
        self.lock().conditions = c;
        Ok(())
    }

    /// Serves the stand-in on `127.0.0.1` at a free port, in the background, with connections
    /// a fault can drop.
    pub async fn start(&self) -> std::io::Result<Running> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let router = self.router();
        let task = tokio::spawn(serve(listener, router, stopped));
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
    task: JoinHandle<()>,
}

impl Running {
    /// The base URL to configure as `api_base`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and its connections.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Lets a handler close the connection its request came on.
#[derive(Debug, Clone)]
struct Dropper(Arc<Notify>);

/// One task per connection; a [`Dropper`] notified ends it, closing the socket unanswered.
async fn serve(listener: TcpListener, router: Router, mut stopped: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        let stream = tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let router = router.clone();
        connections.spawn(async move {
            let dropper = Dropper(Arc::new(Notify::new()));
            let killed = dropper.0.clone();
            let service = hyper::service::service_fn(move |mut req| {
                let mut router = router.clone();
                req.extensions_mut().insert(dropper.clone());
                async move { Ok::<_, Infallible>(router.call(req).await.into_response()) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = conn => {}
                () = killed.notified() => {}
            }
        });
    }
    connections.shutdown().await;
}

/// A v2 problem answer.
fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    let body = json!({
        "title": title,
        "detail": detail,
        "type": "about:blank",
        "status": status.as_u16(),
    });
    (status, Json(body)).into_response()
}

fn invalid(detail: &str) -> Response {
    let body = json!({
        "errors": [{ "message": detail }],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// Whether the request has no Bearer token, or another than the one required.
fn token_refused(s: &StandIn, headers: &HeaderMap) -> bool {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    match (token, &s.lock().required_token) {
        (None, _) => true,
        (Some(t), Some(required)) => t != required,
        (Some(_), None) => false,
    }
}

async fn send(
    State(s): State<StandIn>,
    Path(participant_id): Path<String>,
    dropper: Option<Extension<Dropper>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if token_refused(&s, &headers) {
        return problem(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    }
    if !super::outbound::is_user_id(&participant_id) {
        return invalid("The `participant_id` path parameter must be a user id of digits");
    }
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => return invalid("The request body must be a JSON object"),
    };
    let text = body.get("text").and_then(Value::as_str).unwrap_or_default();
    if text.trim().is_empty() && body.get("attachments").is_none() {
        return invalid("The `text` field is required when there are no `attachments`");
    }
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return invalid(&format!(
            "The `text` field must be at most {MAX_TEXT_CHARS} characters; it has {chars}"
        ));
    }
    let text = text.to_string();
    let (fault, latency) = {
        let mut inner = s.lock();
        inner.under_way += 1;
        (inner.take_fault(), inner.conditions.latency_ms)
    };
    // In its own task, so that a client that goes away does not stop it: the real API may
    // deliver a message whose answer never arrived.
    let task = tokio::spawn(deliver(s, participant_id, text, body, fault, latency));
    match task.await {
        Ok(Delivered::Answer(response)) => response,
        Ok(Delivered::Drop) => {
            let Some(Extension(dropper)) = dropper else {
                return problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal Server Error",
                    "the stand-in can only drop connections it serves itself",
                );
            };
            tracing::debug!("x stand-in drops a connection");
            dropper.0.notify_one();
            // The connection task ends the connection, and this handler with it: no answer is
            // ever written.
            std::future::pending::<Response>().await
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// What became of a send: an answer, or a connection to drop unanswered.
enum Delivered {
    Answer(Response),
    Drop,
}

/// Counts a send as under way until it is dropped (answered, or its task ended otherwise).
struct UnderWay(StandIn);

impl Drop for UnderWay {
    fn drop(&mut self) {
        let mut inner = self.0.lock();
        inner.under_way = inner.under_way.saturating_sub(1);
    }
}

/// Applies a fault to a valid send, or records it and answers like the real API.
async fn deliver(
    s: StandIn,
    participant_id: String,
    text: String,
    body: Value,
    fault: Option<Fault>,
    latency: u64,
) -> Delivered {
    let _under_way = UnderWay(s.clone());
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    if let Some(fault) = fault {
        if fault.hold {
            let mut released = s.releases.subscribe();
            let seen = *released.borrow_and_update();
            s.lock().held += 1;
            let _ = released.wait_for(|n| *n != seen).await;
            let mut inner = s.lock();
            inner.held = inner.held.saturating_sub(1);
        }
        if let Some(ms) = fault.delay_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if fault.drop_connection {
            return Delivered::Drop;
        }
        if let Some(status) = fault.http_status.and_then(|c| StatusCode::from_u16(c).ok()) {
            let title = status.canonical_reason().unwrap_or("Error");
            let detail = fault
                .detail
                .clone()
                .unwrap_or_else(|| match status.as_u16() {
                    403 => "You are not allowed to send this user a Direct Message.".into(),
                    429 => "Too Many Requests".into(),
                    _ => title.to_string(),
                });
            tracing::debug!(status = status.as_u16(), "x stand-in injected an error");
            let mut response = if status == StatusCode::TOO_MANY_REQUESTS {
                let limited = json!({ "errors": [{ "code": 88, "message": "Rate limit exceeded" }],
                    "title": title, "detail": detail, "type": "about:blank", "status": 429 });
                (status, Json(limited)).into_response()
            } else {
                problem(status, title, &detail)
            };
            if status == StatusCode::TOO_MANY_REQUESTS {
                let reset = fault
                    .reset_at
                    .unwrap_or_else(|| Utc::now().timestamp() + 60);
                let h = response.headers_mut();
                h.insert("x-rate-limit-limit", HeaderValue::from_static("200"));
                h.insert("x-rate-limit-remaining", HeaderValue::from_static("0"));
                if let Ok(v) = HeaderValue::from_str(&reset.to_string()) {
                    h.insert("x-rate-limit-reset", v);
                }
            }
            return Delivered::Answer(response);
        }
    }
    let text_chars = text.chars().count();
    let rec = s.lock().record(participant_id, text, body);
    tracing::debug!(
        seq = rec.seq,
        text_chars,
        "x stand-in accepted a direct message"
    );
    let answer = json!({ "data": {
        "dm_conversation_id": format!("{SENDER}-{}", rec.to),
        "dm_event_id": rec.dm_event_id,
    }});
    Delivered::Answer((StatusCode::CREATED, Json(answer)).into_response())
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default)]
    to: Option<String>,
}

async fn list(State(s): State<StandIn>, Query(q): Query<ListQuery>) -> Json<Vec<Recorded>> {
    Json(match q.to {
        Some(to) => s.messages_to(&to),
        None => s.messages(),
    })
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

async fn get_conditions(State(s): State<StandIn>) -> Json<Conditions> {
    Json(s.lock().conditions)
}

async fn put_conditions(State(s): State<StandIn>, Json(c): Json<Conditions>) -> Response {
    match s.set_conditions(c) {
        Ok(()) => Json(c).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({ "error": e }))).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_checked_and_used_up_in_order() {
        let s = StandIn::new();
        assert!(s.inject(Fault::status(200)).is_err());
        assert!(s.inject(Fault::status(503).times(0)).is_err());
        assert!(s.inject(Fault::delay(MAX_DELAY_MS + 1)).is_err());
        s.inject(Fault::status(503).times(2)).unwrap();
        s.inject(Fault::drop_connection()).unwrap();
        assert_eq!(s.pending_faults(), 3);
        let mut inner = s.lock();
        let taken: Vec<(Option<u16>, bool)> = (0..4)
            .map(|_| {
                inner
                    .take_fault()
                    .map_or((None, false), |f| (f.http_status, f.drop_connection))
            })
            .collect();
        assert_eq!(
            taken,
            [
                (Some(503), false),
                (Some(503), false),
                (None, true),
                (None, false)
            ]
        );
    }

    #[test]
    fn at_most_the_newest_recorded_are_kept() {
        let mut inner = Inner::default();
        for i in 0..MAX_RECORDED + 3 {
            inner.record(i.to_string(), String::new(), Value::Null);
        }
        assert_eq!(inner.recorded.len(), MAX_RECORDED);
        assert_eq!(inner.recorded.front().map(|r| r.seq), Some(4));
    }
}
