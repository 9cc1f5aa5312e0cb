//! Durable storage: conversations, messages (masked), decisions, the outbox, follow-ups and the
//! audit trail, behind one interface so that a PostgreSQL implementation can follow the embedded
//! SQLite one without touching the rest of the service.
//!
//! The interface is batch-shaped on purpose: a webhook's messages are stored in one transaction,
//! the processor applies many decisions in one, the outbox records many send results in one. That
//! is what makes group commit possible (on this machine SQLite commits ~7,800 single-row
//! transactions a second but ~80,000 rows a second ten at a time).
//!
//! Only masked text is ever handed to the store: callers redact before they build a
//! [`NewInbound`]. Phone numbers (`resident`) are stored, because replies must reach them, but
//! never appear in `Debug` output or logs.

pub mod sqlite;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::engine::{ConversationState, FindingSummary, Reply};

/// What went wrong in the store; the message never holds personal data.
#[derive(Debug)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "store: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError(e.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError(format!("json: {e}"))
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// An inbound message, already masked, as the webhook stores it before answering 200.
#[derive(Clone, PartialEq)]
pub struct NewInbound {
    /// The provider's message id (WhatsApp `wamid`): duplicates are ignored.
    pub provider_id: String,
    pub channel: String,
    /// The resident's address on the channel (WhatsApp `wa_id`).
    pub resident: String,
    pub resident_name: Option<String>,
    /// `text`, `image`, `voice`, `button`, … as the channel names it.
    pub kind: String,
    /// The masked text (or caption, or button title).
    pub text: String,
    /// A tapped button's payload.
    pub button: Option<String>,
    /// What media came without text, in words for agents (`spraakbericht`).
    pub media: Option<String>,
    /// What the privacy detectors found (masked) when the text was masked.
    pub findings: Vec<FindingSummary>,
    pub received_at: DateTime<Utc>,
}

impl fmt::Debug for NewInbound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewInbound")
            .field("provider_id", &self.provider_id)
            .field("kind", &self.kind)
            .field("text_len", &self.text.len())
            .finish_non_exhaustive()
    }
}

/// Whether an inbound message was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New { message_id: i64 },
    Duplicate,
}

/// A conversation as the processor and the scheduler see it.
#[derive(Clone, PartialEq)]
pub struct Conversation {
    pub id: i64,
    pub channel: String,
    pub resident: String,
    pub state: ConversationState,
    /// The agent who claimed it.
    pub agent: Option<String>,
}

impl fmt::Debug for Conversation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conversation")
            .field("id", &self.id)
            .field("phase", &self.state.phase)
            .field("department", &self.state.department)
            .finish_non_exhaustive()
    }
}

/// A stored inbound message that no decision has been applied to yet.
#[derive(Clone, PartialEq)]
pub struct PendingInbound {
    pub message_id: i64,
    /// The provider's id of the message (to mark it as read).
    pub provider_id: String,
    pub conversation: Conversation,
    pub text: String,
    pub button: Option<String>,
    pub media: Option<String>,
    pub findings: Vec<FindingSummary>,
    pub received_at: DateTime<Utc>,
}

impl fmt::Debug for PendingInbound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingInbound")
            .field("message_id", &self.message_id)
            .field("conversation", &self.conversation.id)
            .finish_non_exhaustive()
    }
}

/// The result of deciding on a message (or firing a follow-up), to store in one transaction.
#[derive(Debug, Clone)]
pub struct Applied {
    pub conversation_id: i64,
    /// The inbound message decided on; `None` for a follow-up.
    pub message_id: Option<i64>,
    pub state: ConversationState,
    pub outcome: String,
    pub topic: Option<String>,
    /// The whole decision, trace included, as JSON (masked text only).
    pub decision: serde_json::Value,
    /// Outbound messages, in order: each becomes a message row and an outbox row.
    pub replies: Vec<OutboundText>,
    pub at: DateTime<Utc>,
}

/// One outbound message as stored: the engine's reply with its links written into the text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboundText {
    pub reply: Reply,
    /// Who says it: `bot`, or `agent:<name>`.
    pub author: String,
}

/// An outbox row due for sending, with what the sender needs.
#[derive(Clone, PartialEq)]
pub struct OutboxItem {
    pub id: i64,
    pub conversation_id: i64,
    pub channel: String,
    pub to: String,
    pub reply: Reply,
    /// Attempts so far, this one included.
    pub attempts: u32,
    pub last_inbound_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for OutboxItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboxItem")
            .field("id", &self.id)
            .field("conversation_id", &self.conversation_id)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// What happened when the sender tried an outbox row.
#[derive(Debug, Clone, PartialEq)]
pub enum SendResult {
    Sent {
        id: i64,
        provider_id: String,
        at: DateTime<Utc>,
    },
    /// Try again at `next_at`.
    Retry {
        id: i64,
        next_at: DateTime<Utc>,
        error: String,
    },
    /// Given up; the agent sees `error`.
    Failed {
        id: i64,
        error: String,
        at: DateTime<Utc>,
    },
}

/// A delivery status from the provider (they arrive out of order).
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryUpdate {
    pub provider_id: String,
    /// `sent`, `delivered`, `read`, `failed`.
    pub status: String,
    pub at: DateTime<Utc>,
    pub error: Option<String>,
    /// Our outbox id, echoed back by the provider (matches a send whose result a crash lost).
    pub outbox_id: Option<i64>,
}

/// Counts for `/metrics` and the health check.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    pub inbound_pending: i64,
    pub outbox_pending: i64,
    pub outbox_failed: i64,
    pub follow_ups_scheduled: i64,
    /// Conversations waiting in a queue, per department id.
    pub queued: Vec<(String, i64)>,
}

/// The storage interface. Methods block: call them from `spawn_blocking` or a worker thread.
pub trait Store: Send + Sync + 'static {
    /// Stores a webhook's messages in one transaction; a known `provider_id` is a duplicate.
    fn insert_inbound(&self, batch: &[NewInbound]) -> Result<Vec<Inserted>>;

    /// Up to `limit` inbound messages without a decision, oldest first, with their conversation.
    fn pending_inbound(&self, limit: usize) -> Result<Vec<PendingInbound>>;

    /// Stores decisions in one transaction: conversation state, the decision, outbound message
    /// rows and their outbox rows, the follow-up schedule, and marks the inbound as processed.
    fn apply(&self, batch: &[Applied]) -> Result<()>;

    /// Outbox rows due at `now`, oldest first; they are marked as being sent (attempts + 1) in
    /// the same transaction so that a second sender does not take them too.
    fn take_due_outbox(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxItem>>;

    /// Records what the sender did, in one transaction.
    fn record_sends(&self, results: &[SendResult]) -> Result<()>;

    /// Records delivery statuses; a later status never goes back to an earlier one.
    fn record_statuses(&self, updates: &[DeliveryUpdate]) -> Result<()>;

    /// Conversations whose follow-up is due at `now`.
    fn due_follow_ups(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Conversation>>;

    /// After a restart: rows left "being sent" by a crash. Those with a provider status that
    /// names them are sent; the others go back to pending after `grace` (see the README for the
    /// window this leaves). Returns how many went back.
    fn recover_sending(&self, now: DateTime<Utc>, grace: chrono::Duration) -> Result<usize>;

    /// Queue sizes and backlog, for metrics.
    fn counts(&self) -> Result<Counts>;
}
