//! triage: a rule-driven chatbot and triage engine for public-service messaging.
//!
//! # Layout
//! The pure core (no I/O; the time is always an argument):
//! - [`text`]: normalisation (case, accents, emoji, stretched letters) and typo distance.
//! - [`calendar`]: office hours, Dutch public holidays, closures, business time.
//! - [`privacy`]: detectors for BSN, IBAN, document numbers, dates of birth; masking.
//! - [`matcher`]: one Aho-Corasick automaton, a typo index and a regex set over all terms.
//! - [`language`]: which language a message is in (script, keywords, statistics), offline.
//! - [`ranking`]: which topic a message points to, and why (beneath the engine and the lint).
//! - [`engine`]: `decide(flows, state, message, now) -> Decision`, with a trace of why.
//! - [`channel`]: a channel's name and policy (its reply window, lengths, buttons).
//!
//! Around it:
//! - [`channels`]: every channel behind one adapter: WhatsApp ([`channels::whatsapp`]: the Cloud
//!   API's webhooks, signatures, bodies, error codes, its client and stand-in), and the others.
//! - [`source`]: reading an editor's YAML file safely, with positions and schema checks.
//! - [`flows`]: the flow language ([`flows::model`]), validated and compiled into a `FlowSet`;
//!   [`flows::readability`] measures reply texts against B1 for the warnings.
//! - [`convtest`]: conversation tests that editors write in YAML.
//! - [`service`]: `triage serve`: the webhook, the workers, the outbox, health and metrics.
//! - [`store`]: durable conversations, masked messages, decisions, outbox (SQLite embedded);
//!   [`store::backup`] copies it online.
//! - [`redact`]: `triage redact`: personal data masked in exported chats (CSV, JSON lines,
//!   text, WhatsApp exports), streaming.
//! - [`unmatched`]: handed-over questions grouped by similarity, for new FAQ topics.
//! - [`replay`]: what would change: stored messages decided again by new flows, the differences.
//! - [`cli`]: the editors' command line (`check`, `try`, `test`, `diff`, `schema`).
//! - [`diag`]: problems a pure module reports against a path in its configuration.
//! - [`load`]: what the load and soak tools share (the text mix, the webhook they post).
//!
//! # Example
//! ```
//! use std::path::Path;
//! use chrono::{DateTime, Utc};
//! use triage::engine::{decide, ConversationState, Message, Outcome};
//! use triage::flows::FlowSet;
//!
//! let (flows, _warnings) = FlowSet::load(Path::new("flows"), Path::new("rules")).unwrap();
//! let friday_evening: DateTime<Utc> = "2026-11-27T18:30:00Z".parse().unwrap();
//! let d = decide(
//!     &flows,
//!     &ConversationState::default(),
//!     &Message::text("ik wil een wmo voorziening aanvragen"),
//!     friday_evening,
//! );
//! assert_eq!(d.outcome, Outcome::Handover);
//! assert_eq!(d.department.as_deref(), Some("sociaal-domein"));
//! assert_eq!(d.follow_up_at.unwrap().to_rfc3339(), "2026-11-30T08:30:00+01:00");
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod calendar;
pub mod channel;
pub mod channels;
pub mod cli;
pub mod convtest;
pub mod diag;
pub mod engine;
pub mod eval;
pub mod flows;
pub mod language;
pub mod load;
pub mod matcher;
pub mod privacy;
pub mod ranking;
pub mod redact;
pub mod replay;
pub mod reports;
pub mod service;
pub mod similar;
pub mod source;
pub mod store;
pub mod text;
pub mod unmatched;
