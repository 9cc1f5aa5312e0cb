//! The channels residents write on, each behind one [`Adapter`]: its webhook routes (the
//! verification handshake, the signature check), the parsing of its payloads into the one
//! inbound model ([`Incoming`]), its sender (rendering a reply, sending it, classifying its
//! errors) and, in demo mode, a stand-in of its platform. What a channel *allows* (the reply
//! window, lengths, buttons) is its [`crate::channel::Policy`], which the pure core reads.
//!
//! Adding a channel: a folder under `src/channels/` with a type that implements [`Adapter`],
//! its name in [`crate::channel::Channel`] with a policy, and one line in
//! [`registry::Channels::build`].
//!
//! # Layout
//! - [`whatsapp`]: the WhatsApp Cloud API (pure parsing and bodies, the Graph client, the
//!   stand-in) and its adapter.
//! - [`meta`]: Messenger and Instagram direct messages (the Messenger Platform: pure parsing and
//!   bodies, the Send API client, the stand-in) and their one adapter.
//! - [`x`]: X direct messages (the Account Activity webhook, the v2 send endpoint, the
//!   stand-in) and its adapter.
//! - [`webchat`]: the web chat on the municipality's own site (the widget, the visitor's API,
//!   its limits) and its adapter.
//! - [`signature`]: what the signed webhooks share: HMAC-SHA256 over the raw body (Meta's hex,
//!   X's base64), the `POST` route that checks it before parsing, Meta's `hub.*` handshake.

pub mod meta;
pub mod registry;
pub mod signature;
pub mod webchat;
pub mod whatsapp;
pub mod x;

use std::sync::Arc;

use axum::Router;
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;

use crate::channel::{Channel, Delivery, Permit};
use crate::engine::Reply;
use crate::service::config::Config;
use crate::service::state::AppState;
use crate::store::{OutboxItem, Store};

/// A message from a resident, as every channel's parser gives it: not yet masked (the intake
/// masks it before anything is stored).
#[derive(Clone, PartialEq)]
pub struct Incoming {
    /// The platform's message id: a second delivery of the same id changes nothing.
    pub provider_id: String,
    /// The resident's address on the channel (a phone number, a page-scoped id, a visitor id).
    pub from: String,
    /// The name the platform shows, if any (personal data: scanned like the text).
    pub profile_name: Option<String>,
    /// `text`, `image`, `voice`, `button`, `location`, … as stored.
    pub kind: &'static str,
    /// The text, a caption, a button's title; empty when there is none.
    pub text: String,
    /// A tapped button's payload (our id, sent back by the resident's app).
    pub button: Option<String>,
    /// What kind of media came, for the engine (`image`, `voice`, …).
    pub media: Option<&'static str>,
    /// When the resident sent it, by the platform's clock.
    pub sent_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Incoming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Incoming")
            .field("kind", &self.kind)
            .field("text_chars", &self.text.chars().count())
            .field("sent_at", &self.sent_at)
            .finish_non_exhaustive()
    }
}

/// A delivery status of one of our messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    /// The id the platform gave our message when it accepted it.
    pub provider_id: String,
    pub status: Delivery,
    pub at: DateTime<Utc>,
    /// The platform's error (may quote what was sent: the intake scans it).
    pub error: Option<String>,
    /// Our outbox id, when the platform echoes it back.
    pub outbox_id: Option<i64>,
}

/// What one webhook call carried.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inbox {
    pub messages: Vec<Incoming>,
    pub receipts: Vec<Receipt>,
    /// Events that were understood and deliberately not kept (echoes of our own messages,
    /// typing indicators, …).
    pub skipped: usize,
}

/// What to do after a failed send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Try again soon (a server error, a dropped connection).
    Retry,
    /// Try again later: a rate limit.
    RetryLater,
    /// The platform says its reply window is closed.
    OutsideWindow,
    /// Never try again (undeliverable, refused).
    GiveUp,
}

/// A send that did not succeed.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub class: ErrorClass,
    /// No answer came (a timeout, a connection lost after the request went out): the platform
    /// may have the message.
    pub maybe_delivered: bool,
    /// For the agent and the log: the platform's code and message, no personal data.
    pub message: String,
    /// The platform said when to try again (a rate limit's reset).
    pub retry_at: Option<DateTime<Utc>>,
}

/// One reply to send, as the sender hands it to an adapter.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    pub item: &'a OutboxItem,
    /// The reply to send: the row's own, or its fallback when the window has closed.
    pub reply: &'a Reply,
    /// What the window allows now (an adapter adds the human-agent tag, for instance).
    pub permit: Permit,
    /// Our reference for the row (`outbox:<id>`), for platforms that echo one back.
    pub callback: String,
}

/// The platform accepted a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The platform's id for it; its receipts name it.
    pub provider_id: String,
}

/// One channel, as the service uses it.
pub trait Adapter: Send + Sync + 'static {
    /// Which channel this is.
    fn channel(&self) -> Channel;

    /// The channel's webhook routes, with the paths they serve (`/webhooks/<channel>`).
    fn routes(self: Arc<Self>) -> Router<Arc<AppState>>;

    /// Reads (or makes, at the first start) what the channel keeps in the store, once the store
    /// is open and before anything is served (default: nothing).
    fn prepare(&self, _store: &dyn Store, _now: DateTime<Utc>) -> Result<(), String> {
        Ok(())
    }

    /// Sends one reply. The future owns what it needs (it runs in its own task).
    fn send(&self, out: Outgoing<'_>) -> BoxFuture<'static, Result<Accepted, Failure>>;

    /// Tells the platform the resident's message was read (best effort; default: nothing).
    fn mark_read(&self, _provider_id: &str) -> Option<BoxFuture<'static, ()>> {
        None
    }

    /// In demo mode, the stand-in of the platform, served under `/standin/<channel>`.
    fn standin(&self) -> Option<Router> {
        None
    }
}

/// What a channel's adapter is built from.
pub struct Setup<'a> {
    pub config: &'a Config,
    /// The address the service listens on (demo stand-ins are reached through it).
    pub local: std::net::SocketAddr,
    /// In demo mode, this run's random token for its stand-ins.
    pub demo_token: Option<&'a str>,
}

/// A setting, or `demo`'s value when it is empty (for demo mode).
pub(crate) fn or_demo(value: &str, demo: &str) -> String {
    if value.is_empty() { demo } else { value }.to_string()
}

/// The last `chars` characters of a platform's id, for log lines: an id can encode the resident
/// (a WhatsApp `wamid` holds the phone number near its start), so logs carry only a tail.
pub fn id_tail(id: &str, chars: usize) -> &str {
    id.char_indices()
        .rev()
        .nth(chars.saturating_sub(1))
        .map_or(id, |(i, _)| &id[i..])
}
