//! Facebook Messenger and Instagram direct messages: the same Messenger Platform, one adapter
//! ([`adapter::Meta`]) parameterised by [`crate::channel::Channel::Messenger`] or
//! [`crate::channel::Channel::Instagram`].
//!
//! - [`inbound`]: webhook payloads (`entry[].messaging[]`) into the one inbound model (pure).
//! - [`outbound`]: Send API bodies, the error classes of Graph error answers, the send answer
//!   (pure).
//! - [`client`]: the HTTP client of the Send API.
//! - [`adapter`]: the webhook routes, sending, the configuration.
//! - [`standin`]: a stand-in of the Send API for demo mode and tests.
//!
//! The webhook's signature (`X-Hub-Signature-256`) and handshake (`hub.*`) are Meta's, shared
//! with WhatsApp: [`crate::channels::signature::META`] and
//! [`crate::channels::signature::handshake`].

pub mod adapter;
pub mod client;
pub mod inbound;
pub mod outbound;
pub mod standin;

pub use inbound::{parse_webhook, provider_id, ParseError};
