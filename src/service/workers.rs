//! The background workers: the processor (decides on stored messages), the sender (works the
//! outbox), and the scheduler (asks follow-up questions when they fall due).
//!
//! Each loops until shutdown, waking on its `Notify` or on a short tick. The processor and the
//! scheduler work in batches: one store transaction per batch. The sender keeps a pool of sends
//! under way ([`SENDS_IN_FLIGHT`]): as soon as one answers, its result is recorded (with every
//! other that answered meanwhile, in one transaction) and another due row takes its place, so one
//! slow send holds up only its own row and the later replies of its conversation.
//!
//! The round counters in the metrics let tests "drain everything pending": a sending round ends
//! each time the sender has caught up (nothing due left to take, nothing under way).
//!
//! On stop nothing new is taken; the sends under way get [`STOP_DRAIN`] to answer, and a send
//! that got no answer by then (or none at all) stays `sending` for the restart's recovery: its
//! status webhook or, failing that, the send grace decides, never a resend during the stop.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::events::Change;
use super::state::AppState;
use crate::channel::{Author, Channel, OutsideWindow, Permit};
use crate::channels::registry::Channels;
use crate::channels::{ErrorClass, Failure, Outgoing};
use crate::engine::{self, ConversationState, Decision, Message, Reply};
use crate::store::{Applied, Conversation, OutboundText, OutboxItem, SendResult};

/// How many messages one batch handles.
const BATCH: usize = 64;
/// Sends under way at once, at most.
pub const SENDS_IN_FLIGHT: usize = 64;
/// On stop: how long the sends under way may take to answer before they are let go.
pub const STOP_DRAIN: StdDuration = StdDuration::from_secs(5);
/// How often the workers look even when nobody woke them.
const TICK: StdDuration = StdDuration::from_millis(500);
/// A send left "in flight" this long (a crash, a hang) is tried again; see the README.
pub const SEND_GRACE: i64 = 60;
/// Attempts before a send is given up.
const MAX_ATTEMPTS: u32 = 8;

/// Decides on every stored, undecided message, then marks them as read where the channel has
/// read receipts (best effort: a lost read receipt costs nothing); returns how many. Stops
/// between batches once `stop` turns true (the rest is decided after the restart).
pub async fn process_once(
    state: &Arc<AppState>,
    channels: &Channels,
    stop: &watch::Receiver<bool>,
) -> Result<usize, String> {
    let mut total = 0;
    loop {
        if *stop.borrow() {
            return Ok(total);
        }
        // Reading, deciding (pure, CPU-bound, perhaps an editor's slow pattern) and storing run
        // off the async runtime, so webhooks are answered meanwhile; a panic in there comes back
        // as an error of this batch instead of ending the worker.
        let st = state.clone();
        let done = tokio::task::spawn_blocking(move || decide_batch(&st))
            .await
            .map_err(|e| format!("deciding panicked: {e}"))??;
        if let Ok(mut beat) = state.heartbeat.lock() {
            *beat = std::time::Instant::now();
        }
        let Some((n, read)) = done else {
            return Ok(total);
        };
        tracing::debug!(messages = n, "decided");
        for (channel, id) in read {
            let Some(receipt) = channels.get(channel).and_then(|a| a.mark_read(&id)) else {
                continue;
            };
            // Read receipts are a courtesy: at most a few at a time, none when busy.
            let Ok(permit) = state.read_receipts.clone().try_acquire_owned() else {
                break;
            };
            tokio::spawn(async move {
                receipt.await;
                drop(permit);
            });
        }
        total += n;
        state.wake_sender.notify_one();
    }
}

/// What one batch decided: how many, and the messages to mark as read.
type Decided = (usize, Vec<(Channel, String)>);

/// One batch: the pending messages, decided and stored. `None` when nothing was pending; else
/// how many were decided and the provider ids to mark as read.
fn decide_batch(state: &AppState) -> Result<Option<Decided>, String> {
    let pending = state
        .store
        .pending_inbound(BATCH)
        .map_err(|e| e.to_string())?;
    if pending.is_empty() {
        return Ok(None);
    }
    let flows = state.flows();
    // Several messages of one conversation in a batch: each sees the state the previous left.
    let mut states: HashMap<i64, ConversationState> = HashMap::new();
    let mut batch = Vec::with_capacity(pending.len());
    for p in &pending {
        let st = states
            .get(&p.conversation.id)
            .cloned()
            .unwrap_or_else(|| p.conversation.state.clone());
        let message = Message {
            text: p.text.clone(),
            button: p.button.clone(),
            media: p.media.clone(),
            masked: Some(p.findings.clone()),
            sent_at: p.sent_at,
        };
        let d = engine::decide(&flows, &st, &message, p.received_at);
        state.metrics.outcome(d.outcome.as_str());
        states.insert(p.conversation.id, d.state.clone());
        batch.push(applied(
            &p.conversation,
            Some(p.message_id),
            d,
            p.received_at,
        ));
    }
    let n = state.store.apply(&batch).map_err(|e| e.to_string())?;
    let before: HashMap<i64, Option<String>> = pending
        .iter()
        .map(|p| (p.conversation.id, p.conversation.state.department.clone()))
        .collect();
    publish(state, &batch, &before);
    let read = pending
        .into_iter()
        .map(|p| (p.conversation.channel, p.provider_id))
        .collect();
    Ok(Some((n, read)))
}

/// Tells the web application which conversations the bot changed, and in which queues (the
/// department before and after).
fn publish(state: &AppState, batch: &[Applied], before: &HashMap<i64, Option<String>>) {
    for a in batch {
        let mut departments: Vec<String> = a.state.department.iter().cloned().collect();
        if let Some(Some(d)) = before.get(&a.conversation_id) {
            if !departments.contains(d) {
                departments.push(d.clone());
            }
        }
        state.live.publish(Change {
            conversation: a.conversation_id,
            departments,
            what: "decision",
        });
    }
}

/// A decision as the store keeps it: links written under the answer they belong to.
fn applied(
    conversation: &Conversation,
    message_id: Option<i64>,
    d: Decision,
    at: DateTime<Utc>,
) -> Applied {
    let replies: Vec<OutboundText> = d
        .replies_with_links()
        .into_iter()
        .map(|reply| OutboundText {
            fallback: None,
            reply,
            author: "bot".into(),
        })
        .collect();
    Applied {
        conversation_id: conversation.id,
        version: conversation.version,
        message_id,
        state: d.state.clone(),
        outcome: d.outcome.as_str().to_string(),
        topic: d.topic.clone(),
        decision: serde_json::to_value(d.reasons()).unwrap_or_default(),
        replies,
        at,
    }
}

/// Asks every follow-up that is due; returns how many.
pub async fn follow_up_once(state: &Arc<AppState>) -> Result<usize, String> {
    let now = state.clock.now();
    let store = state.store.clone();
    let due = tokio::task::spawn_blocking(move || store.due_follow_ups(now, BATCH))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    if due.is_empty() {
        return Ok(0);
    }
    let flows = state.flows();
    let batch: Vec<Applied> = due
        .iter()
        .map(|c| {
            let d = engine::follow_up(&flows, &c.state, c.channel.policy(), now);
            state.metrics.outcome(d.outcome.as_str());
            if d.outcome == engine::Outcome::FollowUp {
                state.metrics.inc(&state.metrics.follow_ups);
            }
            let mut a = applied(c, None, d, now);
            // Sent as text, it falls back to the template if the window closes before it leaves
            // (on a channel that has templates).
            let templates = c.channel.policy().outside_window == Some(OutsideWindow::Templates);
            for r in &mut a.replies {
                if templates && matches!(r.reply, Reply::Text { .. }) {
                    r.fallback = Some(engine::follow_up_template(&flows, &c.state));
                }
            }
            a
        })
        .collect();
    let n = batch.len();
    let before: HashMap<i64, Option<String>> = due
        .iter()
        .map(|c| (c.id, c.state.department.clone()))
        .collect();
    let store = state.store.clone();
    let batch = tokio::task::spawn_blocking(move || store.apply(&batch).map(|_| batch))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    publish(state, &batch, &before);
    state.wake_sender.notify_one();
    Ok(n)
}

/// A send's result, with what the sender needs to record and announce it.
struct Sent {
    conversation: i64,
    /// The conversation's department, for the live view.
    department: Option<String>,
    result: SendResult,
    /// No answer came (a timeout, a connection lost after the request went out): the API may
    /// have the message.
    unanswered: bool,
}

/// A finished send as the pool hands it back: its task, and what it did (or how it ended).
type Joined = Result<(tokio::task::Id, Sent), tokio::task::JoinError>;

/// The sending worker's pool: the sends under way, each in its own task.
struct Sender {
    state: Arc<AppState>,
    channels: Channels,
    under_way: JoinSet<Sent>,
    /// The outbox row each send under way is for: the recovery of interrupted sends leaves them
    /// alone however far the clock has moved, as their answers are still awaited.
    rows: HashMap<tokio::task::Id, i64>,
    /// Results whose recording failed; recorded with the next ones.
    unrecorded: Vec<(i64, Option<String>, SendResult)>,
}

impl Sender {
    fn new(state: Arc<AppState>, channels: Channels) -> Sender {
        Sender {
            state,
            channels,
            under_way: JoinSet::new(),
            rows: HashMap::new(),
            unrecorded: Vec::new(),
        }
    }

    /// Takes due rows into the free places of the pool and starts their sends; returns whether
    /// the store had no more due (false when the pool is full or the store failed).
    async fn fill(&mut self) -> bool {
        let free = SENDS_IN_FLIGHT.saturating_sub(self.under_way.len());
        if free == 0 {
            return false;
        }
        let now = self.state.clock.now();
        let store = self.state.store.clone();
        // The store marks them `sending` (attempts + 1) before any HTTP call, and takes only the
        // oldest unsent row of a conversation that has none under way: replies go in order.
        let due = match tokio::task::spawn_blocking(move || store.take_due_outbox(now, free)).await
        {
            Ok(Ok(due)) => due,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "taking due replies failed; trying again");
                return false;
            }
            Err(e) => {
                tracing::error!(error = %e, "taking due replies panicked; trying again");
                return false;
            }
        };
        let caught_up = due.len() < free;
        for item in due {
            let channels = self.channels.clone();
            let row = item.id;
            let task = self.under_way.spawn(async move {
                let conversation = item.conversation_id;
                let department = item.department.clone();
                let (result, unanswered) = send_one(&channels, item, now).await;
                Sent {
                    conversation,
                    department,
                    result,
                    unanswered,
                }
            });
            self.rows.insert(task.id(), row);
        }
        caught_up
    }

    /// Records `first` and every other send that answered meanwhile, in one transaction. While
    /// `stopping`, a send without an answer is not recorded: its row stays `sending` for the
    /// restart's recovery.
    async fn record(&mut self, first: Joined, stopping: bool) {
        let mut done = vec![first];
        while let Some(more) = self.under_way.try_join_next_with_id() {
            done.push(more);
        }
        let m = &self.state.metrics;
        let mut results = std::mem::take(&mut self.unrecorded);
        for d in done {
            let task = match &d {
                Ok((task, _)) => *task,
                Err(e) => e.id(),
            };
            self.rows.remove(&task);
            match d.map(|(_, sent)| sent) {
                Ok(sent) if stopping && sent.unanswered => {
                    tracing::warn!(
                        outbox = result_id(&sent.result),
                        "a send without an answer at the stop waits for the restart's recovery"
                    );
                }
                Ok(sent) => {
                    match &sent.result {
                        SendResult::Sent { .. } => m.inc(&m.sends_ok),
                        SendResult::Retry { .. } | SendResult::UseFallback { .. } => {
                            m.inc(&m.send_retries)
                        }
                        SendResult::Failed { .. } => m.inc(&m.send_failures),
                    }
                    results.push((sent.conversation, sent.department, sent.result));
                }
                // Its row stays `sending`; the recovery sends it again after the grace.
                Err(e) => tracing::error!(error = %e, "a send panicked"),
            }
        }
        if results.is_empty() {
            return;
        }
        let store = self.state.store.clone();
        let recorded = tokio::task::spawn_blocking(move || {
            let only: Vec<SendResult> = results.iter().map(|(_, _, r)| r.clone()).collect();
            let outcome = store.record_sends(&only);
            (results, outcome)
        })
        .await;
        let results = match recorded {
            Ok((results, Ok(()))) => results,
            Ok((results, Err(e))) => {
                tracing::error!(error = %e, rows = results.len(), "recording sends failed; trying again");
                self.unrecorded = results;
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, "recording sends panicked");
                return;
            }
        };
        for (conversation, department, r) in results {
            if !matches!(r, SendResult::Retry { .. }) {
                self.state.live.publish(Change {
                    conversation,
                    departments: department.into_iter().collect(),
                    what: "sent",
                });
            }
        }
    }

    /// Works the outbox until `stop` turns true, then [`Sender::stop`].
    async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let mut last_recovery = None::<DateTime<Utc>>;
        loop {
            let now = self.state.clock.now();
            if last_recovery.is_none_or(|t| now - t > Duration::seconds(SEND_GRACE / 2)) {
                let store = self.state.store.clone();
                let under_way: Vec<i64> = self.rows.values().copied().collect();
                let recovered = tokio::task::spawn_blocking(move || {
                    store.recover_sending(now, Duration::seconds(SEND_GRACE), &under_way)
                })
                .await;
                if let Ok(Ok(n)) = recovered {
                    if n > 0 {
                        tracing::warn!(rows = n, "sends interrupted earlier are tried again");
                    }
                }
                last_recovery = Some(now);
            }
            if *stop.borrow() {
                break;
            }
            let caught_up = self.fill().await;
            if caught_up && self.under_way.is_empty() && self.unrecorded.is_empty() {
                // Everything due now was tried and its result recorded.
                self.state.metrics.inc(&self.state.metrics.sender_rounds);
            }
            tokio::select! {
                Some(done) = self.under_way.join_next_with_id(), if !self.under_way.is_empty() => {
                    self.record(done, false).await;
                }
                _ = self.state.wake_sender.notified() => {}
                _ = tokio::time::sleep(TICK) => {}
                _ = stop.changed() => break,
            }
        }
        self.stop().await;
    }

    /// Takes nothing new; records what answers within [`STOP_DRAIN`] and lets the rest go: their
    /// rows stay `sending` and the restart settles them (status webhooks, then the send grace).
    async fn stop(mut self) {
        let deadline = tokio::time::Instant::now() + STOP_DRAIN;
        while !self.under_way.is_empty() {
            tokio::select! {
                Some(done) = self.under_way.join_next_with_id() => self.record(done, true).await,
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
        let let_go = self.under_way.len();
        self.under_way.shutdown().await;
        self.rows.clear();
        if !self.unrecorded.is_empty() {
            let results = std::mem::take(&mut self.unrecorded);
            let store = self.state.store.clone();
            let only: Vec<SendResult> = results.into_iter().map(|(_, _, r)| r).collect();
            if let Ok(Err(e)) = tokio::task::spawn_blocking(move || store.record_sends(&only)).await
            {
                tracing::error!(error = %e, "recording sends at the stop failed");
            }
        }
        if let_go > 0 {
            tracing::warn!(
                rows = let_go,
                "sends without an answer at the stop wait for the restart's recovery"
            );
        }
    }
}

fn result_id(r: &SendResult) -> i64 {
    match r {
        SendResult::Sent { id, .. }
        | SendResult::Retry { id, .. }
        | SendResult::UseFallback { id, .. }
        | SendResult::Failed { id, .. } => *id,
    }
}

/// What the window of the row's channel lets go now: the row's reply, its fallback (a template),
/// or nothing, with why.
pub fn to_send(item: &OutboxItem, now: DateTime<Utc>) -> Result<(&Reply, Permit), String> {
    let policy = item.channel.policy();
    let author = if item.author == "bot" {
        Author::Bot
    } else {
        Author::Agent
    };
    let permit = policy.permit(author, item.last_inbound_at, now);
    let templates = policy.outside_window == Some(OutsideWindow::Templates);
    match (&item.reply, permit) {
        (Reply::Template { .. }, _) if templates => Ok((&item.reply, permit)),
        (Reply::Template { .. }, _) => Err(format!(
            "{} has no templates: this reply cannot be sent",
            policy.title
        )),
        (Reply::Text { .. }, Permit::Open | Permit::HumanAgentTag { .. }) => {
            Ok((&item.reply, permit))
        }
        (Reply::Text { .. }, Permit::TemplatesOnly) => match &item.fallback {
            Some(fallback @ Reply::Template { .. }) => Ok((fallback, permit)),
            _ => Err(outside_window(item)),
        },
        (Reply::Text { .. }, Permit::Closed) => Err(outside_window(item)),
    }
}

/// Why a reply cannot go outside its channel's window, for the agent.
fn outside_window(item: &OutboxItem) -> String {
    let p = item.channel.policy();
    let hours = p.window.map_or(0, |w| w.num_hours());
    match (p.outside_window, item.author == "bot") {
        (Some(OutsideWindow::Templates), _) => format!(
            "outside the {hours}-hour window of {}: free text cannot be sent; answer with a template",
            p.title
        ),
        (Some(OutsideWindow::HumanAgentTag), true) => format!(
            "outside the {hours}-hour window of {}: the bot may not write; a person can answer for {} days after the resident's last message",
            p.title,
            p.agent_window.map_or(0, |w| w.num_days())
        ),
        _ => format!(
            "outside the window of {}: the resident's last message is too long ago; nothing can be sent until they write again",
            p.title
        ),
    }
}

/// Sends one row through its channel's adapter; the result, and whether no answer came (the
/// platform may have it).
async fn send_one(channels: &Channels, item: OutboxItem, now: DateTime<Utc>) -> (SendResult, bool) {
    let failed = |error: String| {
        tracing::warn!(outbox = item.id, channel = %item.channel, "{error}");
        SendResult::Failed {
            id: item.id,
            error,
            at: now,
        }
    };
    let Some(adapter) = channels.get(item.channel) else {
        let why = format!("the channel {} is not in use", item.channel.title());
        return (failed(why), false);
    };
    let (reply, permit) = match to_send(&item, now) {
        Ok(go) => go,
        Err(why) => return (failed(why), false),
    };
    let sending = adapter.send(Outgoing {
        item: &item,
        reply,
        permit,
        callback: format!("outbox:{}", item.id),
    });
    match sending.await {
        Ok(ok) => {
            let sent = SendResult::Sent {
                id: item.id,
                provider_id: ok.provider_id,
                at: now,
            };
            (sent, false)
        }
        Err(e) => (after_error(&item, &e, now), e.maybe_delivered),
    }
}

/// What to do after a failed send: the adapter's class of the error decides.
fn after_error(item: &OutboxItem, e: &Failure, now: DateTime<Utc>) -> SendResult {
    let error = e.message.clone();
    tracing::warn!(outbox = item.id, channel = %item.channel, attempts = item.attempts, class = ?e.class, "send failed");
    if e.maybe_delivered && item.attempts < MAX_ATTEMPTS {
        // No answer (a timeout, a connection lost mid-request): the platform may have taken it.
        // Wait as long as after a crash, so that its status webhook (naming this outbox row)
        // can settle it before it is sent again.
        return SendResult::Retry {
            id: item.id,
            next_at: now + Duration::seconds(SEND_GRACE),
            error,
        };
    }
    match e.class {
        ErrorClass::RetryLater | ErrorClass::Retry if item.attempts < MAX_ATTEMPTS => {
            let base = if e.class == ErrorClass::RetryLater {
                6
            } else {
                2
            };
            let backed_off = now + backoff(base, item.attempts, item.id);
            SendResult::Retry {
                id: item.id,
                // A rate limit's own reset time, when the platform gave one (not in the past,
                // not beyond the backoff's cap).
                next_at: e
                    .retry_at
                    .map_or(backed_off, |at| at.clamp(now, now + Duration::seconds(900))),
                error,
            }
        }
        // The platform says the window is closed (our clock may differ): the template, if any.
        ErrorClass::OutsideWindow if item.fallback.is_some() => SendResult::UseFallback {
            id: item.id,
            error,
            at: now,
        },
        ErrorClass::OutsideWindow => SendResult::Failed {
            id: item.id,
            error: format!("{error} ({})", outside_window(item)),
            at: now,
        },
        _ => SendResult::Failed {
            id: item.id,
            error,
            at: now,
        },
    }
}

/// Exponential backoff from `base` seconds, at most 15 minutes, with a little jitter per row so
/// that a burst of retries does not come back at once.
pub fn backoff(base: i64, attempts: u32, id: i64) -> Duration {
    let exp = base.saturating_mul(1i64 << attempts.min(10).saturating_sub(1));
    let jitter = id.rem_euclid(1000);
    Duration::seconds(exp.min(900)) + Duration::milliseconds(jitter)
}

/// Runs one round of a worker in its own task, so that an error or even a panic is logged and
/// the worker goes on with the next round instead of stopping for good.
async fn supervised<F>(what: &'static str, round: F)
where
    F: std::future::Future<Output = Result<usize, String>> + Send + 'static,
{
    match tokio::spawn(round).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "{what} failed; trying again"),
        Err(e) => tracing::error!(error = %e, "{what} panicked; trying again"),
    }
}

/// How often the retention terms are applied (service time).
const RETENTION_EVERY: chrono::Duration = chrono::Duration::hours(1);

/// Applies the retention terms when the last sweep is [`RETENTION_EVERY`] ago (or there was
/// none: at start); returns when it swept.
async fn retention_once(
    state: &Arc<AppState>,
    last: &mut Option<DateTime<Utc>>,
) -> Result<bool, String> {
    let now = state.clock.now();
    if last.is_some_and(|t| now >= t && now - t < RETENTION_EVERY) {
        return Ok(false);
    }
    let cut = state.config.retention.cutoffs(now);
    let store = state.store.clone();
    let removed = tokio::task::spawn_blocking(move || store.apply_retention(&cut, now))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    *last = Some(now);
    let m = &state.metrics;
    m.inc(&m.retention_sweeps);
    m.add(&m.retention_texts, removed.message_texts as u64);
    m.add(&m.retention_traces, removed.traces as u64);
    m.add(&m.retention_audit, removed.audit_lines as u64);
    m.add(&m.retention_sessions, removed.sessions as u64);
    if !removed.is_empty() {
        tracing::info!(
            message_texts = removed.message_texts,
            traces = removed.traces,
            audit_lines = removed.audit_lines,
            sessions = removed.sessions,
            labels = removed.labels,
            "retention terms applied"
        );
    }
    Ok(true)
}

/// Runs the processor, the scheduler and the sender until `shutdown` turns true (or its sender
/// is dropped); the sender then drains for at most [`STOP_DRAIN`].
pub async fn run(state: Arc<AppState>, channels: Channels, mut shutdown: watch::Receiver<bool>) {
    let (store, now) = (state.store.clone(), state.clock.now());
    if let Ok(Ok(n)) = tokio::task::spawn_blocking(move || store.restart_sending(now)).await {
        if n > 0 {
            tracing::warn!(
                rows = n,
                "sends interrupted by a stop wait for their status webhooks"
            );
        }
    }
    let mut tasks = JoinSet::new();
    {
        let state = state.clone();
        let channels = channels.clone();
        let mut stop = shutdown.clone();
        tasks.spawn(async move {
            let mut last_sweep = None;
            loop {
                let (st, cl, sp) = (state.clone(), channels.clone(), stop.clone());
                supervised(
                    "processing",
                    async move { process_once(&st, &cl, &sp).await },
                )
                .await;
                let st = state.clone();
                supervised("follow-ups", async move { follow_up_once(&st).await }).await;
                if let Err(e) = retention_once(&state, &mut last_sweep).await {
                    tracing::error!(error = %e, "retention: trying again next round");
                }
                if let Ok(mut beat) = state.heartbeat.lock() {
                    *beat = std::time::Instant::now();
                }
                state.metrics.inc(&state.metrics.processor_rounds);
                tokio::select! {
                    _ = state.wake_processor.notified() => {}
                    _ = tokio::time::sleep(TICK) => {}
                    _ = stop.changed() => break,
                }
            }
        });
    }
    {
        let stop = shutdown.clone();
        tasks.spawn(async move {
            // A panic ends the pool (its sends' rows stay `sending` and are recovered after the
            // grace); a new pool goes on, unless the service is stopping.
            loop {
                let sender = Sender::new(state.clone(), channels.clone());
                match tokio::spawn(sender.run(stop.clone())).await {
                    Err(e) if !*stop.borrow() => {
                        tracing::error!(error = %e, "sending panicked; trying again");
                    }
                    _ => break,
                }
            }
        });
    }
    let _ = shutdown.changed().await;
    while tasks.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(attempts: u32) -> OutboxItem {
        OutboxItem {
            id: 7,
            conversation_id: 1,
            channel: Channel::WhatsApp,
            to: "31600000000".into(),
            author: "bot".into(),
            reply: Reply::Text {
                text: "x".into(),
                buttons: Vec::new(),
            },
            fallback: None,
            attempts,
            last_inbound_at: None,
            department: None,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_text_whose_window_closed_goes_as_its_template_or_not_at_all() {
        let now = at("2026-11-30T07:30:00Z");
        let template = Reply::Template {
            name: "vraag_nog_open".into(),
            language: "nl".into(),
            parameters: vec!["Fatima".into()],
        };
        let mut it = item(1);
        it.last_inbound_at = Some(now - Duration::hours(25));
        assert!(to_send(&it, now).is_err(), "free text outside the window");
        it.fallback = Some(template.clone());
        assert_eq!(to_send(&it, now).unwrap().0, &template);
        // Inside the window the text itself goes.
        it.last_inbound_at = Some(now - Duration::hours(2));
        assert!(matches!(to_send(&it, now).unwrap().0, Reply::Text { .. }));
        // WhatsApp says 131047 although our clock says open: switch to the template.
        let r = after_error(&it, &failure(ErrorClass::OutsideWindow, false), now);
        assert!(matches!(r, SendResult::UseFallback { id: 7, .. }), "{r:?}");
    }

    #[test]
    fn on_messenger_a_person_may_answer_for_seven_days_and_the_bot_only_within_a_day() {
        let last = at("2026-11-27T18:00:00Z");
        let mut it = item(1);
        it.channel = Channel::Messenger;
        it.last_inbound_at = Some(last);
        let monday = at("2026-11-30T07:30:00Z");
        let why = to_send(&it, monday).unwrap_err();
        assert!(why.contains("the bot may not write"), "{why}");
        it.author = "agent:fatima".into();
        let (_, permit) = to_send(&it, monday).unwrap();
        assert_eq!(
            permit,
            Permit::HumanAgentTag {
                until: at("2026-12-04T18:00:00Z")
            }
        );
        assert!(to_send(&it, at("2026-12-05T08:00:00Z")).is_err());
        // Messenger has no templates.
        it.reply = Reply::Template {
            name: "t".into(),
            language: "nl".into(),
            parameters: Vec::new(),
        };
        assert!(to_send(&it, monday).is_err());
    }

    fn failure(class: ErrorClass, maybe_delivered: bool) -> Failure {
        Failure {
            class,
            maybe_delivered,
            message: "x".into(),
            retry_at: None,
        }
    }

    #[test]
    fn errors_decide_between_retry_later_and_giving_up() {
        let now = at("2026-11-30T07:30:00Z");
        let retry_at = |r: SendResult| match r {
            SendResult::Retry { next_at, .. } => Some(next_at - now),
            _ => None,
        };
        // No answer: the platform may have it; wait the send grace for its status webhook.
        let r = after_error(&item(1), &failure(ErrorClass::Retry, true), now);
        assert_eq!(retry_at(r), Some(Duration::seconds(SEND_GRACE)));
        // Surely not sent: retry soon.
        let r = after_error(&item(1), &failure(ErrorClass::Retry, false), now);
        assert_eq!(retry_at(r), Some(backoff(2, 1, 7)));
        // A rate limit: retry later, with the longer base, or at the platform's reset time.
        let r = after_error(&item(2), &failure(ErrorClass::RetryLater, false), now);
        assert_eq!(retry_at(r), Some(backoff(6, 2, 7)));
        let mut reset = failure(ErrorClass::RetryLater, false);
        reset.retry_at = Some(now + Duration::seconds(90));
        assert_eq!(
            retry_at(after_error(&item(2), &reset, now)),
            Some(Duration::seconds(90))
        );
        // Outside the window without a fallback, and undeliverable: never retried.
        for class in [ErrorClass::OutsideWindow, ErrorClass::GiveUp] {
            let r = after_error(&item(1), &failure(class, false), now);
            assert!(matches!(r, SendResult::Failed { .. }), "{class:?}");
        }
        // Retryable, but too many attempts.
        let r = after_error(&item(MAX_ATTEMPTS), &failure(ErrorClass::Retry, false), now);
        assert!(matches!(r, SendResult::Failed { .. }));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(2, 1, 0), Duration::seconds(2));
        assert_eq!(backoff(2, 3, 0), Duration::seconds(8));
        assert_eq!(
            backoff(6, 2, 5),
            Duration::seconds(12) + Duration::milliseconds(5)
        );
        assert_eq!(backoff(2, 30, 0), Duration::seconds(900));
    }
}
