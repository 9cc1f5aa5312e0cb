//! A stand-in for the Cloud API's messages endpoint, for demo mode and black-box tests.
//!
//! [`StandIn::router`] answers `POST /{version}/{phone_number_id}/messages` as the real API does:
//! a Bearer token is required (401 with a Graph error body otherwise), a message gets a
//! `wamid.STANDIN<n>` id, a read receipt gets `{"success": true}`, and a body the real API would
//! refuse (no `to`, text over 4,096 characters, more than three reply buttons, a button title over
//! 20 characters, more than ten list rows) gets a 400 with error code 100. Accepted requests are
//! recorded, the newest [`MAX_RECORDED`] kept.
//!
//! Tests steer it over HTTP or through the [`StandIn`] handle:
//! - `POST /_standin/faults` with a [`Fault`] (`{"code": 131056, "http_status": 400, "count": 2}`,
//!   `{"delay_ms": 3000}`, `{"drop_connection": true}`, `{"hold": true}`) makes the next `count`
//!   message sends fail, answer late, lose their connection, or wait until released
//!   (`POST /_standin/release`, [`StandIn::release`]). Faults queue up in the order they were
//!   given and apply to messages only, not to read receipts. `DELETE /_standin/faults` clears them.
//! - `PUT /_standin/conditions` with [`Conditions`] (`{"latency_ms": 150, "slow_share": 0.01,
//!   "slow_ms": 5000, "close_connections": true}`) makes every send behave like the real API on a
//!   bad day: answers that take their time, a slow tail, and a connection closed after each
//!   answer (`Connection: close`, as an HTTP/1.0 server does). Off by default: the stand-in
//!   answers at once and keeps connections alive.
//! - `GET /_standin/messages?to=…&since=<seq>` lists what was recorded after `seq`, oldest first;
//!   `DELETE /_standin/messages` forgets it.
//!
//! A delayed send that the client gave up on is still recorded, as the real API may deliver a
//! message whose answer never arrived. [`StandIn::under_way`] counts the sends not answered yet. A dropped connection records nothing. Dropping a connection
//! needs [`StandIn::serve`] (or [`StandIn::start`]); inside another server's router the stand-in
//! answers 500 instead.
//!
//! With a [`StatusCallback`] (off by default), every accepted message is followed, like on the
//! real platform, by signed `statuses` webhooks to the service: `sent`, then `delivered`, each
//! carrying the request's `biz_opaque_callback_data`. They go out fire-and-forget after a small
//! delay; one that does not get a 2xx is tried again with backoff for a bounded time (as Meta
//! retries webhooks), so a status survives a restart of the service.
//!
//! Logs carry sequence numbers, ids and lengths, never a recipient or a body.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::serve::{IncomingStream, Listener};
use axum::{Extension, Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

/// The most recorded requests kept; older ones are forgotten first.
pub const MAX_RECORDED: usize = 10_000;

/// The longest delay a fault may ask for, in milliseconds.
pub const MAX_DELAY_MS: u64 = 600_000;

use super::outbound::{MAX_BUTTONS, MAX_BUTTON_TITLE_CHARS, MAX_TEXT_CHARS};
/// Rows over all sections of a list message.
const MAX_LIST_ROWS: usize = 10;

/// What the stand-in received and accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    /// Increases by one per recorded request, from 1; never reused, also not after a clear.
    pub seq: u64,
    /// When it was recorded.
    pub at: DateTime<Utc>,
    /// The phone number id in the request path.
    pub phone_number_id: String,
    /// `message` for a send, `read` for a read receipt.
    pub kind: RecordedKind,
    /// The recipient (`to`) of a message; `None` for a read receipt.
    pub to: Option<String>,
    /// The id the stand-in gave a message, or the id a read receipt marked read.
    pub message_id: String,
    /// The JSON body as received.
    pub body: Value,
}

/// Whether a recorded request sent a message or marked one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordedKind {
    /// A message to a resident.
    Message,
    /// A read receipt for an inbound message.
    Read,
}

/// A failure the next message sends meet. All fields are optional in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// The Graph error code to answer with; 131000 when only `http_status` is given.
    #[serde(default)]
    pub code: Option<i64>,
    /// The HTTP status of the error answer (400–599); 400 when only `code` is given.
    #[serde(default)]
    pub http_status: Option<u16>,
    /// How many sends meet this fault, at least 1.
    #[serde(default = "one")]
    pub count: u32,
    /// Wait this long before answering (or failing, or dropping).
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// Close the connection without an answer; nothing is recorded.
    #[serde(default)]
    pub drop_connection: bool,
    /// Wait until [`StandIn::release`] before going on (then the delay, error or drop apply).
    #[serde(default)]
    pub hold: bool,
    /// The error message; a Graph-like one for the code when absent.
    #[serde(default)]
    pub message: Option<String>,
}

fn one() -> u32 {
    1
}

impl Fault {
    /// One send answered with this Graph error code and HTTP 400.
    pub fn error(code: i64) -> Self {
        Self {
            code: Some(code),
            http_status: None,
            count: 1,
            delay_ms: None,
            drop_connection: false,
            hold: false,
            message: None,
        }
    }

    /// One send answered after `ms` milliseconds, otherwise normally.
    pub fn delay(ms: u64) -> Self {
        Self {
            delay_ms: Some(ms),
            ..Self::error(0)
        }
        .without_error()
    }

    /// One send whose connection is closed without an answer.
    pub fn drop_connection() -> Self {
        Self {
            drop_connection: true,
            ..Self::error(0)
        }
        .without_error()
    }

    /// One send that waits until [`StandIn::release`], then is answered normally.
    pub fn hold() -> Self {
        Self {
            hold: true,
            ..Self::error(0)
        }
        .without_error()
    }

    /// The same fault with this HTTP status.
    pub fn with_status(mut self, http_status: u16) -> Self {
        self.http_status = Some(http_status);
        self
    }

    /// The same fault for the next `count` sends.
    pub fn times(mut self, count: u32) -> Self {
        self.count = count;
        self
    }

    /// The same fault, also delayed by `ms` milliseconds.
    pub fn delayed(mut self, ms: u64) -> Self {
        self.delay_ms = Some(ms);
        self
    }

    fn without_error(mut self) -> Self {
        self.code = None;
        self
    }

    /// Problems that make the fault unusable, or `None`.
    pub fn check(&self) -> Option<String> {
        if self.count == 0 {
            return Some("fault `count` must be at least 1".to_owned());
        }
        if let Some(status) = self.http_status {
            if !(400..=599).contains(&status) {
                return Some(format!("fault `http_status` {status} is not in 400..=599"));
            }
        }
        if let Some(ms) = self.delay_ms {
            if ms > MAX_DELAY_MS {
                return Some(format!("fault `delay_ms` {ms} is more than {MAX_DELAY_MS}"));
            }
        }
        if self.drop_connection && (self.code.is_some() || self.http_status.is_some()) {
            return Some("a fault either drops the connection or answers an error".to_owned());
        }
        None
    }

    fn is_error(&self) -> bool {
        self.code.is_some() || self.http_status.is_some()
    }
}

/// A fault refused by [`StandIn::inject`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultError(pub String);

impl std::fmt::Display for FaultError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FaultError {}

/// How every message send behaves, beyond injected faults: how long the answer takes and whether
/// the connection is closed after it. The default answers at once and keeps connections alive.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Conditions {
    /// The median answer time of a send, in milliseconds; answers spread evenly from two thirds
    /// to four thirds of it.
    pub latency_ms: u64,
    /// The share of sends (0 to 1) that take `slow_ms` instead: the slow tail.
    pub slow_share: f64,
    /// How long a send of the slow tail takes, in milliseconds.
    pub slow_ms: u64,
    /// Answer with `Connection: close` and close the connection after every answer, as an
    /// HTTP/1.0 server (or a proxy that keeps nothing alive) does.
    pub close_connections: bool,
}

impl Conditions {
    /// Problems that make the conditions unusable, or `None`.
    pub fn check(&self) -> Option<String> {
        if !(0.0..=1.0).contains(&self.slow_share) {
            return Some(format!(
                "`slow_share` {} is not between 0 and 1",
                self.slow_share
            ));
        }
        for (name, ms) in [("latency_ms", self.latency_ms), ("slow_ms", self.slow_ms)] {
            if ms > MAX_DELAY_MS {
                return Some(format!("`{name}` {ms} is more than {MAX_DELAY_MS}"));
            }
        }
        None
    }

    /// How long the `n`-th send takes: a fixed pseudo-random draw per `n`, so a run can be
    /// repeated.
    pub fn latency(&self, n: u64) -> Duration {
        let (a, b) = (unit(n.wrapping_mul(2)), unit(n.wrapping_mul(2) + 1));
        if a < self.slow_share {
            return Duration::from_millis(self.slow_ms);
        }
        Duration::from_secs_f64(self.latency_ms as f64 * (2.0 + 2.0 * b) / 3.0 / 1000.0)
    }
}

/// A number in `0..1` drawn from `n` (splitmix64).
fn unit(n: u64) -> f64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Where and how the stand-in reports delivery statuses of accepted messages.
#[derive(Clone)]
pub struct StatusCallback {
    /// The service's webhook URL, e.g. `http://127.0.0.1:8080/webhook`.
    pub url: String,
    /// The app secret that signs the webhooks (`X-Hub-Signature-256`).
    pub app_secret: String,
    /// Wait this long after accepting a message before reporting `sent`.
    pub delay: Duration,
    /// Keep retrying a status webhook that got no 2xx this long, then give it up.
    pub retry_for: Duration,
}

impl StatusCallback {
    /// Statuses to `url`, signed with `app_secret`, 20 ms after the send, retried for 30 s.
    pub fn new(url: impl Into<String>, app_secret: impl Into<String>) -> Self {
        StatusCallback {
            url: url.into(),
            app_secret: app_secret.into(),
            delay: Duration::from_millis(20),
            retry_for: Duration::from_secs(30),
        }
    }
}

impl std::fmt::Debug for StatusCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusCallback")
            .field("url", &self.url)
            .field("app_secret", &"<redacted>")
            .field("delay", &self.delay)
            .field("retry_for", &self.retry_for)
            .finish()
    }
}

/// What became of the status webhooks so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallbackStats {
    /// Status webhooks answered with a 2xx.
    pub delivered: u64,
    /// Status webhooks given up after `retry_for`.
    pub given_up: u64,
    /// Status webhooks not yet answered nor given up.
    pub in_flight: u64,
}

#[derive(Debug, Default)]
struct Inner {
    last_seq: u64,
    recorded: VecDeque<Recorded>,
    faults: VecDeque<Fault>,
    required_token: Option<String>,
    callback: Option<(StatusCallback, reqwest::Client)>,
    callbacks: CallbackStats,
    conditions: Conditions,
    /// Message sends that arrived so far (draws the latency of each).
    arrived: u64,
    /// Sends waiting for [`StandIn::release`].
    held: u64,
    /// Message sends that arrived and are not answered yet.
    under_way: u64,
}

impl Inner {
    fn record(
        &mut self,
        phone_number_id: &str,
        kind: RecordedKind,
        to: Option<String>,
        message_id: Option<String>,
        body: Value,
    ) -> Recorded {
        self.last_seq += 1;
        let seq = self.last_seq;
        let message_id = message_id.unwrap_or_else(|| format!("wamid.STANDIN{seq}"));
        let rec = Recorded {
            seq,
            at: Utc::now(),
            phone_number_id: phone_number_id.to_owned(),
            kind,
            to,
            message_id,
            body,
        };
        while self.recorded.len() >= MAX_RECORDED {
            self.recorded.pop_front();
        }
        self.recorded.push_back(rec.clone());
        rec
    }

    /// The fault the next send meets, used up by one.
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
#[derive(Debug, Clone, Default)]
pub struct StandIn {
    inner: Arc<Mutex<Inner>>,
    /// Counts the releases; a held send goes on once it has changed.
    releases: Arc<watch::Sender<u64>>,
}

impl StandIn {
    /// A stand-in that accepts any non-empty Bearer token.
    pub fn new() -> Self {
        Self::default()
    }

    /// A stand-in that accepts only this Bearer token (401 with code 190 for any other).
    pub fn requiring_token(token: impl Into<String>) -> Self {
        let s = Self::default();
        s.lock().required_token = Some(token.into());
        s
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The routes: the messages endpoint and `/_standin/…`. Nest it under a prefix to share a
    /// server; the client's base URL then ends with that prefix.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/{version}/{phone_number_id}/messages", post(messages))
            .route(
                "/_standin/messages",
                axum::routing::get(list).delete(clear_messages),
            )
            .route("/_standin/faults", post(add_fault).delete(clear_faults))
            .route("/_standin/release", post(release))
            .route(
                "/_standin/conditions",
                axum::routing::get(get_conditions).put(put_conditions),
            )
            .with_state(self.clone())
    }

    /// Every recorded request still kept, oldest first.
    pub fn sent(&self) -> Vec<Recorded> {
        self.lock().recorded.iter().cloned().collect()
    }

    /// The recorded requests after `since` (a sequence number), to `to` when given, oldest first.
    pub fn sent_since(&self, since: u64, to: Option<&str>) -> Vec<Recorded> {
        self.lock()
            .recorded
            .iter()
            .filter(|r| r.seq > since && to.is_none_or(|t| r.to.as_deref() == Some(t)))
            .cloned()
            .collect()
    }

    /// The recorded messages (not read receipts), oldest first.
    pub fn messages(&self) -> Vec<Recorded> {
        self.lock()
            .recorded
            .iter()
            .filter(|r| r.kind == RecordedKind::Message)
            .cloned()
            .collect()
    }

    /// Forgets what was recorded; sequence numbers go on.
    pub fn clear(&self) {
        self.lock().recorded.clear();
    }

    /// Queues a fault for the next sends.
    pub fn inject(&self, fault: Fault) -> Result<(), FaultError> {
        if let Some(problem) = fault.check() {
            return Err(FaultError(problem));
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

    /// Sets how every send behaves from now on (latency, slow tail, closed connections).
    pub fn set_conditions(&self, conditions: Conditions) -> Result<(), FaultError> {
        if let Some(problem) = conditions.check() {
            return Err(FaultError(problem));
        }
        self.lock().conditions = conditions;
        Ok(())
    }

    /// How every send behaves now.
    pub fn conditions(&self) -> Conditions {
        self.lock().conditions
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

    /// How many message sends arrived and are not answered yet (held ones included); a send
    /// whose client went away counts until the stand-in has done with it.
    pub fn under_way(&self) -> u64 {
        self.lock().under_way
    }

    /// Reports `sent` and `delivered` for every message accepted from now on (see
    /// [`StatusCallback`]); `None` turns it off again.
    pub fn set_status_callback(&self, callback: Option<StatusCallback>) {
        self.lock().callback = callback.map(|cb| (cb, reqwest::Client::new()));
    }

    /// How the status webhooks fared so far.
    pub fn callback_stats(&self) -> CallbackStats {
        self.lock().callbacks
    }

    /// Serves the stand-in on a listener the caller bound, until `shutdown` resolves.
    pub async fn serve<F>(&self, listener: TcpListener, shutdown: F) -> io::Result<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let service = self.router().into_make_service_with_connect_info::<Conn>();
        axum::serve(DroppableListener(listener), service)
            .with_graceful_shutdown(shutdown)
            .await
    }

    /// Serves the stand-in on `127.0.0.1` at a free port in a background task.
    pub async fn start(&self) -> io::Result<Running> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let this = self.clone();
        let task = tokio::spawn(async move {
            this.serve(listener, async move {
                // A dropped sender stops the server as well.
                let _ = stopped.await;
            })
            .await
        });
        tracing::debug!(%addr, "graph api stand-in listening");
        Ok(Running {
            addr,
            stop: Some(stop),
            task,
        })
    }
}

/// A stand-in served in the background by [`StandIn::start`]; dropping it stops the server.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<io::Result<()>>,
}

impl Running {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to give a [`super::graph::ClientConfig`].
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

async fn clear_messages(State(s): State<StandIn>) -> StatusCode {
    s.clear();
    StatusCode::NO_CONTENT
}

async fn add_fault(State(s): State<StandIn>, Json(fault): Json<Fault>) -> Response {
    match s.inject(fault) {
        Ok(()) => Json(json!({ "pending": s.pending_faults() })).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({ "error": e.0 }))).into_response(),
    }
}

async fn clear_faults(State(s): State<StandIn>) -> StatusCode {
    s.clear_faults();
    StatusCode::NO_CONTENT
}

async fn release(State(s): State<StandIn>) -> Json<Value> {
    Json(json!({ "released": s.release() }))
}

async fn get_conditions(State(s): State<StandIn>) -> Json<Conditions> {
    Json(s.conditions())
}

async fn put_conditions(State(s): State<StandIn>, Json(c): Json<Conditions>) -> Response {
    match s.set_conditions(c) {
        Ok(()) => Json(s.conditions()).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({ "error": e.0 }))).into_response(),
    }
}

/// A Graph-style error answer.
fn graph_error(
    status: StatusCode,
    code: i64,
    message: &str,
    details: &str,
    trace: u64,
) -> Response {
    let body = json!({
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "error_data": { "messaging_product": "whatsapp", "details": details },
            "fbtrace_id": format!("STANDIN{trace}"),
        }
    });
    (status, Json(body)).into_response()
}

/// The message and details the real API gives for a code, roughly.
fn describe(code: i64) -> (String, &'static str) {
    let (title, details) = match code {
        130429 => (
            "Rate limit hit",
            "Cloud API message throughput has been reached.",
        ),
        131056 => (
            "(Business Account, Consumer Account) pair rate limit hit",
            "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.",
        ),
        131047 => (
            "Re-engagement message",
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
        ),
        131026 => (
            "Message undeliverable",
            "Unable to deliver message.",
        ),
        131000 => ("Something went wrong", "Message failed to send due to an unknown error."),
        131016 => ("Service unavailable", "A service is temporarily unavailable."),
        190 => ("Invalid OAuth access token", "The access token is invalid or expired."),
        _ => ("Stand-in injected error", "Injected by the graph api stand-in."),
    };
    (format!("(#{code}) {title}"), details)
}

/// The connection a request came on, so that a handler can drop it.
#[derive(Debug, Clone)]
struct Conn {
    drop: Arc<AtomicBool>,
}

impl Connected<IncomingStream<'_, DroppableListener>> for Conn {
    fn connect_info(stream: IncomingStream<'_, DroppableListener>) -> Self {
        Conn {
            drop: Arc::clone(&stream.io().drop),
        }
    }
}

/// A TCP listener whose connections a handler can make fail.
struct DroppableListener(TcpListener);

impl Listener for DroppableListener {
    type Io = DroppableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (inner, addr) = Listener::accept(&mut self.0).await;
        let io = DroppableStream {
            inner,
            drop: Arc::new(AtomicBool::new(false)),
        };
        (io, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// A TCP stream that fails every read and write once its flag is set, so the server closes it
/// without writing an answer.
struct DroppableStream {
    inner: TcpStream,
    drop: Arc<AtomicBool>,
}

impl DroppableStream {
    fn dropped(&self) -> Option<io::Error> {
        self.drop.load(Ordering::Acquire).then(|| {
            io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "dropped by a stand-in fault",
            )
        })
    }
}

impl AsyncRead for DroppableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(e) = this.dropped() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for DroppableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(e) = this.dropped() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(e) = this.dropped() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// `POST /{version}/{phone_number_id}/messages`; with [`Conditions::close_connections`] every
/// answer closes its connection.
async fn messages(
    State(s): State<StandIn>,
    path: Path<(String, String)>,
    conn: Option<Extension<ConnectInfo<Conn>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let close = s.lock().conditions.close_connections;
    let mut response = answer(s, path, conn, headers, body).await;
    if close {
        response.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
    }
    response
}

async fn answer(
    s: StandIn,
    Path((_version, phone_number_id)): Path<(String, String)>,
    conn: Option<Extension<ConnectInfo<Conn>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let trace = s.lock().last_seq + 1;
    if let Some(problem) = check_token(&s, &headers) {
        tracing::debug!(%phone_number_id, "stand-in refused a request without a valid token");
        return graph_error(StatusCode::UNAUTHORIZED, 190, &problem, &problem, trace);
    }
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return invalid("(#100) The request body must be a JSON object", trace);
        }
    };
    if body.get("messaging_product").and_then(Value::as_str) != Some("whatsapp") {
        return invalid(
            "(#100) The parameter messaging_product is required and must be `whatsapp`",
            trace,
        );
    }

    if body.get("status").and_then(Value::as_str) == Some("read") {
        let Some(id) = body.get("message_id").and_then(Value::as_str) else {
            return invalid("(#100) The parameter message_id is required", trace);
        };
        let id = id.to_owned();
        let rec = s
            .lock()
            .record(&phone_number_id, RecordedKind::Read, None, Some(id), body);
        tracing::debug!(seq = rec.seq, "stand-in marked read");
        return Json(json!({ "success": true })).into_response();
    }

    let Some(to) = body.get("to").and_then(Value::as_str).map(str::to_owned) else {
        return invalid("(#100) The parameter to is required", trace);
    };
    if let Some(problem) = check_limits(&body) {
        return invalid(&problem, trace);
    }

    let (fault, latency) = {
        let mut inner = s.lock();
        inner.arrived += 1;
        inner.under_way += 1;
        let latency = inner.conditions.latency(inner.arrived);
        (inner.take_fault(), latency)
    };
    // Processed in its own task, so that a client that gives up (a timeout) does not stop it:
    // the real API may deliver a message whose answer never arrived.
    let task = tokio::spawn(deliver(
        s,
        phone_number_id,
        to,
        body,
        (fault, latency),
        conn,
        trace,
    ));
    match task.await {
        Ok(response) => response,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Applies a fault to a valid send, or records it and answers like the real API.
async fn deliver(
    s: StandIn,
    phone_number_id: String,
    to: String,
    body: Value,
    (fault, latency): (Option<Fault>, Duration),
    conn: Option<Extension<ConnectInfo<Conn>>>,
    trace: u64,
) -> Response {
    let _under_way = UnderWay(s.clone());
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
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
            return match conn {
                Some(Extension(ConnectInfo(conn))) => {
                    conn.drop.store(true, Ordering::Release);
                    tracing::debug!(%phone_number_id, "stand-in drops a connection");
                    StatusCode::INTERNAL_SERVER_ERROR.into_response()
                }
                None => graph_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    1,
                    "stand-in cannot drop a connection it does not serve",
                    "serve the stand-in with `StandIn::serve` to drop connections",
                    trace,
                ),
            };
        }
        if fault.is_error() {
            let code = fault.code.unwrap_or(131000);
            let status = fault
                .http_status
                .and_then(|s| StatusCode::from_u16(s).ok())
                .unwrap_or(StatusCode::BAD_REQUEST);
            let (message, details) = describe(code);
            let message = fault.message.unwrap_or(message);
            tracing::debug!(%phone_number_id, code, status = status.as_u16(), "stand-in injected an error");
            return graph_error(status, code, &message, details, trace);
        }
    }

    let body_len = body.to_string().len();
    let opaque = body
        .get("biz_opaque_callback_data")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let rec = s.lock().record(
        &phone_number_id,
        RecordedKind::Message,
        Some(to.clone()),
        None,
        body,
    );
    tracing::debug!(seq = rec.seq, message_id = %rec.message_id, body_len, "stand-in accepted a message");
    let callback = s.lock().callback.clone();
    if let Some((cb, http)) = callback {
        let status = StatusEvent {
            phone_number_id: phone_number_id.clone(),
            message_id: rec.message_id.clone(),
            to: to.clone(),
            opaque,
        };
        tokio::spawn(report_statuses(s.clone(), cb, http, status));
    }
    Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": to, "wa_id": to }],
        "messages": [{ "id": rec.message_id }],
    }))
    .into_response()
}

/// Counts a send as under way until it is dropped (answered, or its task ended otherwise).
struct UnderWay(StandIn);

impl Drop for UnderWay {
    fn drop(&mut self) {
        let mut inner = self.0.lock();
        inner.under_way = inner.under_way.saturating_sub(1);
    }
}

/// What a status webhook reports about one accepted message.
struct StatusEvent {
    phone_number_id: String,
    message_id: String,
    to: String,
    opaque: Option<String>,
}

impl StatusEvent {
    /// The webhook body for one status, as the Cloud API sends it.
    fn webhook(&self, status: &str) -> Vec<u8> {
        let mut st = json!({
            "id": self.message_id,
            "status": status,
            "timestamp": Utc::now().timestamp().to_string(),
            "recipient_id": self.to,
            "conversation": { "id": "STANDIN", "origin": { "type": "service" } },
            "pricing": { "billable": true, "pricing_model": "PMP", "category": "service" },
        });
        if let (Some(opaque), Some(map)) = (&self.opaque, st.as_object_mut()) {
            map.insert("biz_opaque_callback_data".into(), json!(opaque));
        }
        let body = json!({
            "object": "whatsapp_business_account",
            "entry": [{ "id": "STANDIN", "changes": [{ "field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": { "display_phone_number": "0000", "phone_number_id": self.phone_number_id },
                "statuses": [st],
            }}]}],
        });
        body.to_string().into_bytes()
    }
}

/// Posts `sent`, then `delivered`, each retried with backoff until a 2xx or `retry_for` ends.
async fn report_statuses(s: StandIn, cb: StatusCallback, http: reqwest::Client, ev: StatusEvent) {
    s.lock().callbacks.in_flight += 2;
    tokio::time::sleep(cb.delay).await;
    for status in ["sent", "delivered"] {
        let body = ev.webhook(status);
        let signature = crate::channels::whatsapp::sign(cb.app_secret.as_bytes(), &body);
        let deadline = tokio::time::Instant::now() + cb.retry_for;
        let mut pause = Duration::from_millis(50);
        let delivered = loop {
            let answer = http
                .post(&cb.url)
                .header(header::CONTENT_TYPE, "application/json")
                .header("x-hub-signature-256", &signature)
                .timeout(Duration::from_secs(5))
                .body(body.clone())
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
        inner.callbacks.in_flight = inner.callbacks.in_flight.saturating_sub(1);
        if delivered {
            inner.callbacks.delivered += 1;
        } else {
            inner.callbacks.given_up += 1;
            tracing::warn!(message_id = %ev.message_id, status, "stand-in gave up a status webhook");
        }
    }
}

fn invalid(message: &str, trace: u64) -> Response {
    graph_error(
        StatusCode::BAD_REQUEST,
        100,
        message,
        "Invalid parameter",
        trace,
    )
}

/// Why the Authorization header is not acceptable, or `None`.
fn check_token(s: &StandIn, headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let token = value
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Some("An active access token must be used to query information".to_owned());
    };
    let inner = s.lock();
    match &inner.required_token {
        Some(required) if required != token => {
            Some("Invalid OAuth access token - Cannot parse access token".to_owned())
        }
        _ => None,
    }
}

/// The first limit of the Cloud API the body breaks, or `None`.
fn check_limits(body: &Value) -> Option<String> {
    if let Some(text) = body.pointer("/text/body").and_then(Value::as_str) {
        if text.chars().count() > MAX_TEXT_CHARS {
            return Some(format!(
                "(#100) Param text['body'] must be at most {MAX_TEXT_CHARS} characters long"
            ));
        }
    }
    if let Some(buttons) = body
        .pointer("/interactive/action/buttons")
        .and_then(Value::as_array)
    {
        if buttons.len() > MAX_BUTTONS {
            return Some(format!(
                "(#100) Param interactive['action']['buttons'] must have at most {MAX_BUTTONS} elements"
            ));
        }
        for (i, b) in buttons.iter().enumerate() {
            let title = b
                .pointer("/reply/title")
                .and_then(Value::as_str)
                .unwrap_or("");
            if title.chars().count() > MAX_BUTTON_TITLE_CHARS {
                return Some(format!(
                    "(#100) Param interactive['action']['buttons'][{i}]['reply']['title'] must be at most {MAX_BUTTON_TITLE_CHARS} characters long"
                ));
            }
        }
    }
    if let Some(sections) = body
        .pointer("/interactive/action/sections")
        .and_then(Value::as_array)
    {
        let rows: usize = sections
            .iter()
            .filter_map(|s| s.get("rows").and_then(Value::as_array))
            .map(Vec::len)
            .sum();
        if rows > MAX_LIST_ROWS {
            return Some(format!(
                "(#100) Total row count exceed max allowed count: {MAX_LIST_ROWS}"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_the_newest_recorded_are_kept() {
        let mut inner = Inner::default();
        for i in 0..MAX_RECORDED + 5 {
            inner.record(
                "1",
                RecordedKind::Message,
                Some(i.to_string()),
                None,
                Value::Null,
            );
        }
        assert_eq!(inner.recorded.len(), MAX_RECORDED);
        assert_eq!(inner.recorded.front().map(|r| r.seq), Some(6));
        let last = inner.recorded.back().map(|r| r.seq);
        assert_eq!(last, Some(MAX_RECORDED as u64 + 5));
    }

    #[test]
    fn latencies_have_their_median_and_their_slow_tail() {
        let c = Conditions {
            latency_ms: 150,
            slow_share: 0.01,
            slow_ms: 5000,
            close_connections: false,
        };
        let mut ms: Vec<u128> = (1..=10_000).map(|n| c.latency(n).as_millis()).collect();
        ms.sort_unstable();
        let slow = ms.iter().filter(|&&m| m == 5000).count();
        assert!((70..=130).contains(&slow), "{slow} slow sends of 10,000");
        assert!((140..=160).contains(&ms[5000]), "median {}", ms[5000]);
        assert!(ms[0] >= 100, "fastest {}", ms[0]);
        assert_eq!(c.latency(42), c.latency(42), "a run can be repeated");
        assert_eq!(Conditions::default().latency(7), Duration::ZERO);
        let bad = Conditions {
            slow_share: 1.5,
            ..c
        };
        assert!(bad.check().is_some());
    }

    #[test]
    fn a_fault_is_used_up_one_send_at_a_time() {
        let mut inner = Inner::default();
        inner.faults.push_back(Fault::error(131056).times(2));
        inner.faults.push_back(Fault::delay(5));
        let codes: Vec<Option<i64>> = (0..4)
            .map(|_| inner.take_fault().and_then(|f| f.code))
            .collect();
        assert_eq!(codes, [Some(131056), Some(131056), None, None]);
        assert!(inner.faults.is_empty());
    }
}
