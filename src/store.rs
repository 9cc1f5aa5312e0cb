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

pub mod backup;
pub mod sqlite;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::channel::{Channel, Delivery};
use crate::engine::{ConversationState, FindingSummary, Outcome, Phase, Reply};

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
    /// The provider's message id (WhatsApp `wamid`, else prefixed with the channel's name):
    /// duplicates are ignored.
    pub provider_id: String,
    pub channel: Channel,
    /// The resident's address on the channel (WhatsApp `wa_id`, a page-scoped id, …).
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
    /// When the resident sent it, by the provider's clock.
    pub sent_at: DateTime<Utc>,
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
    pub channel: Channel,
    pub resident: String,
    pub state: ConversationState,
    /// The agent who claimed it.
    pub agent: Option<String>,
    /// Bumped by every change of the state; a decision applies only to the version it was made on.
    pub version: i64,
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
    pub sent_at: Option<DateTime<Utc>>,
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
    /// The conversation's version the decision was made on ([`Conversation::version`]).
    pub version: i64,
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
    /// What to send instead when the 24-hour window has closed before this text went out (the
    /// follow-up's template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Reply>,
}

/// An outbox row due for sending, with what the sender needs.
#[derive(Clone, PartialEq)]
pub struct OutboxItem {
    pub id: i64,
    pub conversation_id: i64,
    pub channel: Channel,
    pub to: String,
    /// Who wrote it: `bot`, or `agent:<name>` (the windows differ for a person).
    pub author: String,
    pub reply: Reply,
    /// What to send instead once the 24-hour window has closed ([`OutboundText::fallback`]).
    pub fallback: Option<Reply>,
    /// Attempts so far, this one included.
    pub attempts: u32,
    pub last_inbound_at: Option<DateTime<Utc>>,
    /// The conversation's department when it was taken, so that a send's result reaches the
    /// live view of that department's agents only.
    pub department: Option<String>,
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
    /// The window closed: send the row's fallback (a template) instead, now.
    UseFallback {
        id: i64,
        error: String,
        at: DateTime<Utc>,
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
    /// The channel the receipt came on: it settles only that channel's rows.
    pub channel: Channel,
    pub provider_id: String,
    pub status: Delivery,
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

/// What a user of the agents' API may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Works the queues of their own departments.
    Agent,
    /// Sees every queue; reloads the flows.
    Editor,
    /// Sees everything and manages users.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    /// The role named `s` (`agent`, `editor`, `admin`).
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "agent" => Some(Role::Agent),
            "editor" => Some(Role::Editor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A user of the agents' API. The token itself is never stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// Department ids whose queues an agent works.
    pub departments: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// A user to create.
#[derive(Clone, PartialEq, Eq)]
pub struct NewUser {
    pub name: String,
    pub role: Role,
    pub departments: Vec<String>,
    /// SHA-256 of the token, lower-case hex.
    pub token_hash: String,
    pub at: DateTime<Utc>,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A session of the web application to store. Only the SHA-256 of its id is kept.
#[derive(Clone, PartialEq, Eq)]
pub struct NewSession {
    pub id_hash: String,
    pub user: String,
    /// The token every state-changing request of this session must carry.
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for NewSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewSession")
            .field("user", &self.user)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A signed-in user's session.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("user", &self.user.name)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A conversation waiting in a queue, with its latest message from the resident.
#[derive(Clone, PartialEq)]
pub struct Waiting {
    pub id: i64,
    pub resident: String,
    pub resident_name: Option<String>,
    pub phase: Phase,
    pub department: Option<String>,
    pub agent: Option<String>,
    pub on_top: bool,
    pub waiting_since: Option<DateTime<Utc>>,
    /// The channel the resident writes on.
    pub channel: Channel,
    /// The resident's latest message (masked) and when it came.
    pub last_message: Option<(String, DateTime<Utc>)>,
    /// The resident wrote after the agent's last reply (only for claimed conversations).
    pub unanswered: bool,
    /// The language the resident last wrote in; none: Dutch.
    pub language: Option<crate::language::Language>,
}

impl fmt::Debug for Waiting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waiting")
            .field("id", &self.id)
            .field("department", &self.department)
            .finish_non_exhaustive()
    }
}

/// What an agent looks for in one department's queue ([`Store::queue_page`]). Every filter is
/// optional; the page is `offset`/`limit` in the queue's order: on top first, then the longest
/// wait, then the oldest conversation.
#[derive(Clone, Default, PartialEq)]
pub struct QueueQuery {
    pub department: String,
    /// Matches the resident's name or the (masked) text of any message, case-insensitively.
    pub text: Option<String>,
    /// At most the digits agents see of a number (its last four): matches the number's end.
    pub number_tail: Option<String>,
    pub channel: Option<String>,
    /// `queued` or `awaiting_follow_up`.
    pub phase: Option<String>,
    /// Only conversations on top of the queue (the resident asked again).
    pub on_top: bool,
    /// Only conversations waiting since this moment or earlier (the caller computes it for
    /// "late" from the office hours).
    pub waiting_at_or_before: Option<DateTime<Utc>>,
    pub offset: usize,
    pub limit: usize,
}

impl fmt::Debug for QueueQuery {
    // What an agent searched for may be personal: never in a debug print.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueQuery")
            .field("department", &self.department)
            .field("offset", &self.offset)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

/// A waiting conversation's department and when it began to wait.
pub type WaitingTime = (Option<String>, Option<DateTime<Utc>>);

/// One page of a queue and how many match in all.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuePage {
    pub total: usize,
    pub conversations: Vec<Waiting>,
}

/// One message of a conversation's history, with the outbox's view of an outbound one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryMessage {
    pub id: i64,
    /// `in` (resident), `out` (bot or agent), `internal` (an agent's note, never sent).
    pub direction: String,
    /// `resident`, `bot`, `agent:<name>`.
    pub author: String,
    /// `text`, `template`, `note`, or the channel's kind of an inbound message.
    pub kind: String,
    /// Masked text.
    pub text: String,
    pub at: DateTime<Utc>,
    /// The outbox row's status (`pending`, `sending`, `sent`, `failed`), for outbound messages.
    pub send_status: Option<String>,
    /// The delivery status the provider reported (`accepted`, `sent`, `delivered`, `read`,
    /// `failed`).
    pub delivery: Option<String>,
    pub error: Option<String>,
    /// The text was removed at the end of its retention term.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub removed: bool,
}

/// One message of a conversation as its resident may see it ([`Store::resident_messages`]):
/// theirs, and the bot's and agents' replies with the outbox's status (a reply reaches the
/// resident only once the outbox has sent it).
#[derive(Debug, Clone, PartialEq)]
pub struct ResidentMessage {
    pub id: i64,
    /// `in` (the resident's) or `out` (the bot's or an agent's).
    pub direction: String,
    /// `resident`, `bot`, `agent:<name>`.
    pub author: String,
    /// `text`, `template`, or the channel's kind of an inbound message.
    pub kind: String,
    /// Masked text.
    pub text: String,
    /// What the outbox sends for an outbound message (its buttons); `None` once removed.
    pub reply: Option<Reply>,
    /// The outbox row's status (`pending`, `sending`, `sent`, `failed`) of an outbound message.
    pub send_status: Option<String>,
    pub at: DateTime<Utc>,
    /// The text was removed at the end of its retention term.
    pub removed: bool,
}

/// A decision of the bot, trace included.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionRecord {
    pub id: i64,
    pub message_id: Option<i64>,
    pub outcome: String,
    pub topic: Option<String>,
    pub department: Option<String>,
    pub decision: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// The audit action of reading a conversation ("who looked"): kept in the audit table, not
/// listed in [`ConversationView::audit`].
pub const READ_ACTION: &str = "conversation_read";

/// One line of the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub conversation_id: Option<i64>,
    pub detail: Option<String>,
}

/// A conversation with everything an agent needs to see.
#[derive(Clone, PartialEq)]
pub struct ConversationView {
    pub conversation: Conversation,
    pub resident_name: Option<String>,
    pub on_top: bool,
    pub waiting_since: Option<DateTime<Utc>>,
    /// Changes whenever the conversation does: [`Store::agent_change`] compares it.
    pub version: String,
    pub messages: Vec<HistoryMessage>,
    pub decisions: Vec<DecisionRecord>,
    /// What was done to the conversation; reads ([`READ_ACTION`]) are left out.
    pub audit: Vec<AuditRecord>,
    /// The labels on its messages (the learning loop), by message id.
    pub labels: Vec<Label>,
}

impl fmt::Debug for ConversationView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConversationView")
            .field("conversation", &self.conversation)
            .field("messages", &self.messages.len())
            .finish_non_exhaustive()
    }
}

/// A message an agent adds: a reply (sent through the outbox) or a note (never sent).
#[derive(Debug, Clone, PartialEq)]
pub enum AgentMessage {
    Reply(OutboundText),
    Note { author: String, text: String },
}

/// What an agent's action does to a conversation, stored in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentChange {
    pub conversation_id: i64,
    /// The [`ConversationView::version`] the change was computed from.
    pub version: String,
    /// The new state; the columns (phase, department, on top) follow it.
    pub state: ConversationState,
    pub agent: Option<String>,
    pub messages: Vec<AgentMessage>,
    pub audit: AuditRecord,
    pub at: DateTime<Utc>,
}

/// Whether an agent's change was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeOutcome {
    /// Stored; the outbox ids of the replies it queued.
    Done { outbox: Vec<i64> },
    /// The conversation changed since it was read (or is gone): read it again.
    Stale,
}

/// The rows the reports are computed from ([`crate::reports`]), for one period. Each row
/// carries the conversation's current department, so that an agent's report can be limited to
/// their own departments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportRows {
    /// When residents' messages arrived.
    pub inbound: Vec<ReportInbound>,
    /// The bot's decisions.
    pub decisions: Vec<ReportDecision>,
    /// Handovers, with the first answer of a person after each (whenever it came).
    pub handovers: Vec<ReportHandover>,
    /// Follow-up questions asked, with how the resident answered (whenever they did).
    pub follow_ups: Vec<ReportFollowUp>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReportInbound {
    pub conversation: i64,
    pub channel: Channel,
    pub current_department: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReportDecision {
    pub conversation: i64,
    pub current_department: Option<String>,
    pub outcome: Outcome,
    pub topic: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReportHandover {
    pub conversation: i64,
    pub channel: Channel,
    pub current_department: Option<String>,
    /// The department it was handed to.
    pub department: Option<String>,
    pub at: DateTime<Utc>,
    /// The first message of an agent in the conversation after the handover.
    pub answered_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReportFollowUp {
    pub conversation: i64,
    pub current_department: Option<String>,
    pub at: DateTime<Utc>,
    /// The outcome of the resident's answer (`FollowUpYes`, `FollowUpNo`, `FollowUpOther`), if
    /// any came.
    pub answer: Option<Outcome>,
}

/// A resident's stored message with the decision recorded for it ([`Store::inbound_since`]):
/// what `triage diff` and the editors' "what would change" decide again ([`crate::replay`]).
#[derive(Clone, PartialEq)]
pub struct StoredInbound {
    pub message_id: i64,
    pub conversation_id: i64,
    pub channel: Channel,
    /// Masked, as stored.
    pub text: String,
    pub button: Option<String>,
    pub media: Option<String>,
    /// What the detectors found (masked) when it came in.
    pub findings: Vec<FindingSummary>,
    pub sent_at: Option<DateTime<Utc>>,
    /// When it came in.
    pub at: DateTime<Utc>,
    /// The decision made on it; `None` while it waits to be decided.
    pub decision: Option<StoredDecision>,
}

impl fmt::Debug for StoredInbound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredInbound")
            .field("message_id", &self.message_id)
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

/// A decision's columns as stored, and its reasons when the retention term left them.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDecision {
    /// [`Outcome::as_str`]; kept as text so that an outcome this build does not know still reads.
    pub outcome: String,
    pub topic: Option<String>,
    /// The conversation's department after the decision.
    pub department: Option<String>,
    pub reasons: Option<crate::engine::Reasons>,
}

/// The newest of a period's stored messages, and how many older ones the limit left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InboundWindow {
    /// Newest first.
    pub messages: Vec<StoredInbound>,
    pub left_out: usize,
}

/// An inbound message that the bot handed over to a person or asked back about (its decision's
/// outcome was `handover` or `clarify`; a tapped button is no question): what the editors' list
/// of unmatched questions is made of.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HandedOver {
    pub message_id: i64,
    pub conversation_id: i64,
    /// Masked, as stored.
    pub text: String,
    /// When the message came in.
    pub at: DateTime<Utc>,
    /// The department the decision routed it to.
    pub department: Option<String>,
}

/// What an agent says about a resident's message in a handed-over conversation: the topic that
/// should have answered it, or that a new topic is needed (the learning loop's label).
#[derive(Clone, PartialEq, Eq)]
pub struct NewLabel {
    pub conversation_id: i64,
    pub message_id: i64,
    /// The topic id that should have answered; `None`: no topic does yet, a new one is needed.
    pub topic: Option<String>,
    /// A short note (masked before it gets here).
    pub note: Option<String>,
    /// The user who labelled it.
    pub by: String,
    pub at: DateTime<Utc>,
}

impl fmt::Debug for NewLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewLabel")
            .field("message_id", &self.message_id)
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

/// When a label was turned into a conversation test, by whom, and in which file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelTest {
    /// The test file as the service names it (its path).
    pub file: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A labelled question as the store holds it.
#[derive(Clone, PartialEq, Serialize)]
pub struct Label {
    pub message_id: i64,
    pub conversation_id: i64,
    /// The message's masked text as stored (the store never holds another).
    pub text: String,
    /// The topic that should have answered; `None`: a new topic is needed.
    pub topic: Option<String>,
    pub note: Option<String>,
    pub by: String,
    pub at: DateTime<Utc>,
    /// What the bot decided on the message (its latest decision), when one is stored.
    pub bot_outcome: Option<String>,
    pub bot_topic: Option<String>,
    /// Set once an editor turned it into a conversation test.
    pub test: Option<LabelTest>,
}

impl fmt::Debug for Label {
    // The text is masked but still a resident's words: never in a debug print.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Label")
            .field("message_id", &self.message_id)
            .field("topic", &self.topic)
            .field("tested", &self.test.is_some())
            .finish_non_exhaustive()
    }
}

/// Which labels the editors list ([`Store::labels`]); newest label first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelQuery {
    /// Only labels with this topic.
    pub topic: Option<String>,
    /// Only labels that ask for a new topic.
    pub new_topic: bool,
    /// Only labels not yet turned into a test.
    pub untested: bool,
    pub offset: usize,
    pub limit: usize,
}

/// One page of labels and how many match in all.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelPage {
    pub total: usize,
    pub labels: Vec<Label>,
}

/// Everything held about one resident (the AVG right of access, art. 15): every row of every
/// table that is keyed to them, column by column as stored (JSON columns as JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResidentExport {
    pub channel: String,
    pub resident: String,
    /// Each conversation's row, with its `messages`, `decisions`, `outbox`, `follow_ups`,
    /// `audit` and `labels` rows.
    pub conversations: Vec<serde_json::Value>,
}

impl ResidentExport {
    /// How many rows of each kind the export holds, for a summary that names no value.
    pub fn counts(&self) -> ResidentCounts {
        let n = |key: &str| {
            self.conversations
                .iter()
                .map(|c| c[key].as_array().map_or(0, Vec::len))
                .sum()
        };
        ResidentCounts {
            conversations: self.conversations.len(),
            messages: n("messages"),
            decisions: n("decisions"),
            outbox: n("outbox"),
            follow_ups: n("follow_ups"),
            audit: n("audit"),
            labels: n("labels"),
        }
    }
}

/// Row counts of an export or an erasure (for an erasure, `audit` counts the lines that were
/// kept but stripped of their detail).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ResidentCounts {
    pub conversations: usize,
    pub messages: usize,
    pub decisions: usize,
    pub outbox: usize,
    pub follow_ups: usize,
    pub audit: usize,
    /// Labels on the resident's messages (the learning loop).
    pub labels: usize,
}

impl fmt::Display for ResidentCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} conversations, {} messages, {} decisions, {} outbox rows, {} follow-ups, {} audit lines, {} labels",
            self.conversations, self.messages, self.decisions, self.outbox, self.follow_ups, self.audit, self.labels
        )
    }
}

/// A non-reversible reference to a resident for the audit trail of an erasure: the SHA-256 of
/// `channel:resident`, hex. It proves which resident was erased to whoever knows the number, and
/// names nobody to whoever reads the audit trail. (Phone numbers are few enough to be guessed
/// by brute force; that is accepted here: it reveals only that some erasure concerned that number.)
pub fn resident_reference(channel: &str, resident: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(format!("{channel}:{resident}").as_bytes()))
}

/// Where each retention term ends: what is older goes at the next sweep (`None`: kept).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionCutoffs {
    /// Message texts (and their payloads, the outbox's copies of settled replies, and the
    /// resident's profile name) of conversations nobody is working on.
    pub message_texts: Option<DateTime<Utc>>,
    /// The bot's reasons kept with each decision; the decision's outcome, topic and department
    /// stay, so the reports count the same.
    pub traces: Option<DateTime<Utc>>,
    /// Lines of the audit trail.
    pub audit: Option<DateTime<Utc>>,
    /// Sessions that expired before this.
    pub sessions: Option<DateTime<Utc>>,
}

/// What one retention sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Removed {
    pub message_texts: usize,
    pub traces: usize,
    pub audit_lines: usize,
    pub sessions: usize,
    /// Labels whose message's text went (a label never outlives the text it quotes).
    pub labels: usize,
}

impl Removed {
    pub fn is_empty(&self) -> bool {
        *self == Removed::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Versions of the flow and rules files (the editors' drafts, publish, four eyes, rollback)

/// How a version of the files came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionKind {
    /// Published from the editors' page.
    Publish,
    /// A rollback to an earlier version's files, published from the editors' page.
    Rollback,
    /// Found on the disk at start-up or at a reload (changed with an editor or through git).
    Disk,
}

impl VersionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VersionKind::Publish => "publish",
            VersionKind::Rollback => "rollback",
            VersionKind::Disk => "disk",
        }
    }

    pub fn parse(s: &str) -> Option<VersionKind> {
        match s {
            "publish" => Some(VersionKind::Publish),
            "rollback" => Some(VersionKind::Rollback),
            "disk" => Some(VersionKind::Disk),
            _ => None,
        }
    }
}

/// One version of the files as stored (without its files).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Version {
    /// Increasing: the newest version has the highest id.
    pub id: i64,
    /// The version it was made on; `None` for the first.
    pub parent: Option<i64>,
    pub author: String,
    pub at: DateTime<Utc>,
    pub message: String,
    pub kind: VersionKind,
    /// Who approved it (four eyes), when someone had to.
    pub approved_by: Option<String>,
    /// How many files it adds, changes or removes against its parent.
    pub files_changed: usize,
}

/// A version to record: every file it holds (relative path such as `flows/afval.yaml` → text).
#[derive(Debug, Clone, PartialEq)]
pub struct NewVersion {
    /// The newest version the new one is made on; the store refuses it when another came since.
    pub parent: Option<i64>,
    pub author: String,
    pub at: DateTime<Utc>,
    pub message: String,
    pub kind: VersionKind,
    pub approved_by: Option<String>,
    /// Every file of the version, by path (no duplicates).
    pub files: std::collections::BTreeMap<String, String>,
    /// The publish request it settles (marked approved in the same transaction).
    pub request: Option<i64>,
    /// The audit line, stored in the same transaction; its detail gets the version's id.
    pub audit: AuditRecord,
}

/// Whether a version was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    Done(Version),
    /// Another version came since the parent (or before the first): nothing stored.
    Stale {
        newest: Option<Version>,
    },
    /// The request is no longer pending: nothing stored.
    RequestSettled,
}

/// One file of a draft or a publish request: its new text, or `None` when it is deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    pub path: String,
    pub text: Option<String>,
}

/// An editor's draft: the files they changed on top of a version. One per user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Draft {
    pub user: String,
    pub base_version: Option<i64>,
    pub files: Vec<FileChange>,
    pub updated_at: DateTime<Utc>,
}

/// Where a publish request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Pending,
    Approved,
    Rejected,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Approved => "approved",
            RequestStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<RequestStatus> {
        match s {
            "pending" => Some(RequestStatus::Pending),
            "approved" => Some(RequestStatus::Approved),
            "rejected" => Some(RequestStatus::Rejected),
            _ => None,
        }
    }
}

/// A publish (or rollback) waiting for a second editor's approval (four eyes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishRequest {
    pub id: i64,
    pub author: String,
    pub at: DateTime<Utc>,
    pub message: String,
    /// `publish` or `rollback`.
    pub kind: VersionKind,
    /// The version the change was made on.
    pub base_version: Option<i64>,
    /// The version a rollback goes back to.
    pub rollback_to: Option<i64>,
    pub files: Vec<FileChange>,
    pub status: RequestStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// The version its approval published.
    pub version: Option<i64>,
}

/// A publish request to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRequest {
    pub author: String,
    pub at: DateTime<Utc>,
    pub message: String,
    pub kind: VersionKind,
    pub base_version: Option<i64>,
    pub rollback_to: Option<i64>,
    pub files: Vec<FileChange>,
    /// Stored in the same transaction; its detail gets the request's id.
    pub audit: AuditRecord,
}

/// The content address of a file's text: the SHA-256 of its bytes, lower-case hex.
pub fn blob_id(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The storage interface. Methods block: call them from `spawn_blocking` or a worker thread.
pub trait Store: Send + Sync + 'static {
    /// Stores a webhook's messages in one transaction; a known `provider_id` is a duplicate.
    fn insert_inbound(&self, batch: &[NewInbound]) -> Result<Vec<Inserted>>;

    /// Up to `limit` inbound messages without a decision, oldest first, with their conversation.
    fn pending_inbound(&self, limit: usize) -> Result<Vec<PendingInbound>>;

    /// Stores decisions in one transaction: conversation state, the decision, outbound message
    /// rows and their outbox rows, the follow-up schedule, and marks the inbound as processed.
    /// A decision made on a version that has changed since (an agent claimed the conversation
    /// meanwhile) is skipped with the rest of its conversation's batch; its message stays
    /// pending and is decided again on the new state. Returns how many were applied.
    fn apply(&self, batch: &[Applied]) -> Result<usize>;

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
    /// window this leaves). Rows in `under_way` are not interrupted: the caller's own sends still
    /// wait for their answers (a clock that jumped past the grace must not send them twice).
    /// Returns how many went back.
    fn recover_sending(
        &self,
        now: DateTime<Utc>,
        grace: chrono::Duration,
        under_way: &[i64],
    ) -> Result<usize>;

    /// At start-up: rows left "being sent" by a crash get their grace counted from `now`, so
    /// that status webhooks Meta retries after our downtime can still settle them before
    /// [`Store::recover_sending`] sends them again. Returns how many.
    fn restart_sending(&self, now: DateTime<Utc>) -> Result<usize>;

    /// Queue sizes and backlog, for metrics.
    fn counts(&self) -> Result<Counts>;

    /// Creates a user; when the name is taken, replaces it if `replace`, else returns `None`.
    fn add_user(&self, user: &NewUser, replace: bool) -> Result<Option<User>>;

    /// The user whose token has this SHA-256 (hex).
    fn user_by_token(&self, token_hash: &str) -> Result<Option<User>>;

    /// Every user, by name.
    fn users(&self) -> Result<Vec<User>>;

    /// Removes a user and their sessions; `false` when there was none of that name.
    fn remove_user(&self, name: &str) -> Result<bool>;

    /// Sets a user's password hash (argon2, PHC string) and ends their sessions; `false` when
    /// there is no user of that name.
    fn set_password(&self, name: &str, hash: &str) -> Result<bool>;

    /// A user with their password hash (`None`: they cannot sign in with a password).
    fn password_hash(&self, name: &str) -> Result<Option<(User, Option<String>)>>;

    /// Stores a new session (and drops expired ones).
    fn create_session(&self, session: &NewSession) -> Result<()>;

    /// The session whose id has this SHA-256 (hex), if it has not expired at `now`.
    fn session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>>;

    /// Ends a session (signing out).
    fn delete_session(&self, id_hash: &str) -> Result<()>;

    /// The service's secret named `name` (hex): the one stored, or `fresh` when none is yet,
    /// stored then. Replicas on one database race for the first and all get the same. Never
    /// logged: callers keep it out of `Debug` and errors.
    fn secret(&self, name: &str, fresh: &str, now: DateTime<Utc>) -> Result<String>;

    /// Conversations waiting for a person (queued or awaiting a follow-up answer), any department.
    fn waiting(&self) -> Result<Vec<Waiting>>;

    /// The conversations `agent` has claimed, with whether the resident wrote after the agent's
    /// last reply.
    fn claimed(&self, agent: &str) -> Result<Vec<Waiting>>;

    /// One page of one department's waiting conversations, filtered ([`QueueQuery`]).
    fn queue_page(&self, query: &QueueQuery) -> Result<QueuePage>;

    /// When each waiting conversation started to wait, per department, oldest first: enough to
    /// count a queue and its late ones without reading the conversations.
    fn waiting_times(&self) -> Result<Vec<WaitingTime>>;

    /// A conversation with its history, decisions and audit trail.
    fn conversation_view(&self, id: i64) -> Result<Option<ConversationView>>;

    /// The messages of the conversation of (`channel`, `resident`) with an id above `after`,
    /// oldest first, at most `limit`, with the conversation's id; agents' notes are left out.
    /// `None` when the resident has no conversation.
    fn resident_messages(
        &self,
        channel: Channel,
        resident: &str,
        after: i64,
        limit: usize,
    ) -> Result<Option<(i64, Vec<ResidentMessage>)>>;

    /// Stores an agent's action in one transaction (state and columns, messages and outbox rows,
    /// the follow-up schedule, the audit line), if the conversation is still at `version`.
    fn agent_change(&self, change: &AgentChange) -> Result<ChangeOutcome>;

    /// Adds a line to the audit trail.
    fn audit(&self, record: &AuditRecord) -> Result<()>;

    /// Adds the line unless the same actor has a line of the same action on the same
    /// conversation at or after `since`; returns whether it was added.
    fn audit_unless_since(&self, record: &AuditRecord, since: DateTime<Utc>) -> Result<bool>;

    /// Inbound messages with text that were handed over to a person (decided since `since`),
    /// newest first, at most `limit`.
    fn handed_over_since(&self, since: DateTime<Utc>, limit: usize) -> Result<Vec<HandedOver>>;

    /// What the reports count, for everything that happened in `[from, to)`.
    fn report_rows(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<ReportRows>;

    /// Residents' messages that came in since `since` with their decisions, newest first, at
    /// most `limit`; messages whose text the retention term removed are left out.
    fn inbound_since(&self, since: DateTime<Utc>, limit: usize) -> Result<InboundWindow>;

    /// Everything held about one resident, read in one transaction; `None` when the store has
    /// no conversation of theirs.
    fn resident_export(&self, channel: &str, resident: &str) -> Result<Option<ResidentExport>>;

    /// Applies the retention terms in one transaction (see [`RetentionCutoffs`]); `now` marks
    /// when a message's text was removed.
    fn apply_retention(&self, cut: &RetentionCutoffs, now: DateTime<Utc>) -> Result<Removed>;

    /// Erases one resident (the AVG right to erasure, art. 17) in one transaction: their
    /// messages, decisions, outbox rows, follow-ups, labels and conversations go; the audit lines about
    /// their conversations stay (who did what, when) without their detail; `audit` is added as
    /// the erasure's own line. Then the deleted data is made gone from the database files too
    /// (see the implementation). `None` (and nothing changed) when the resident is unknown.
    fn resident_erase(
        &self,
        channel: &str,
        resident: &str,
        audit: &AuditRecord,
    ) -> Result<Option<ResidentCounts>>;

    // The learning loop: labels on handed-over questions.

    /// Labels a resident's message of conversation `conversation_id`, with a copy of its masked
    /// text as stored; a label already on the message is replaced (it keeps being a test only
    /// if its topic stayed the same). `None`, and nothing stored, when the conversation has no
    /// such message from the resident with text (a bot's or agent's message, or one whose text
    /// the retention term removed).
    fn label_message(&self, label: &NewLabel) -> Result<Option<Label>>;

    /// Removes the label on a message of `conversation_id`; `false` when there was none.
    fn remove_label(&self, conversation_id: i64, message_id: i64) -> Result<bool>;

    /// The label on a message.
    fn label(&self, message_id: i64) -> Result<Option<Label>>;

    /// One page of labels, newest first ([`LabelQuery`]).
    fn labels(&self, query: &LabelQuery) -> Result<LabelPage>;

    /// Marks a label as turned into a conversation test; `false` when the label is gone.
    fn mark_label_tested(&self, message_id: i64, test: &LabelTest) -> Result<bool>;

    /// Every labelled question as (masked text, the topic that should answer it, `None` for
    /// "a new topic is needed"), oldest label first: what `triage eval --labels` runs.
    fn labelled_questions(&self) -> Result<Vec<(String, Option<String>)>>;

    // The versions of the flow and rules files.

    /// The newest version, if any was recorded.
    fn newest_version(&self) -> Result<Option<Version>>;

    /// Records a version with its files (their texts stored once per content) and its audit
    /// line in one transaction, if `parent` is still the newest version (and the request, when
    /// there is one, still pending).
    fn record_version(&self, version: &NewVersion) -> Result<Recorded>;

    /// The versions, newest first, at most `limit`, starting below `before` when given.
    fn versions(&self, before: Option<i64>, limit: usize) -> Result<Vec<Version>>;

    /// A version with its files (path → text).
    fn version(
        &self,
        id: i64,
    ) -> Result<Option<(Version, std::collections::BTreeMap<String, String>)>>;

    /// The draft of `user`.
    fn draft(&self, user: &str) -> Result<Option<Draft>>;

    /// Stores the draft of `draft.user`, replacing the one they had.
    fn save_draft(&self, draft: &Draft) -> Result<()>;

    /// Removes the draft of `user`; `false` when there was none.
    fn delete_draft(&self, user: &str) -> Result<bool>;

    /// Stores a publish request and its audit line in one transaction.
    fn create_request(&self, request: &NewRequest) -> Result<PublishRequest>;

    /// Publish requests, newest first: the pending ones only, or all, at most `limit`.
    fn requests(&self, pending_only: bool, limit: usize) -> Result<Vec<PublishRequest>>;

    fn request(&self, id: i64) -> Result<Option<PublishRequest>>;

    /// Rejects a pending request with its audit line in one transaction; `false` (nothing
    /// changed) when it is not pending.
    fn reject_request(
        &self,
        id: i64,
        by: &str,
        reason: Option<&str>,
        audit: &AuditRecord,
    ) -> Result<bool>;
}
