//! X (Twitter) direct messages behind the channel seam: the Account Activity webhook (the CRC
//! challenge, signed `POST`s), its direct-message events into the one inbound model, replies
//! through the v2 direct-message endpoint, its errors into the sender's classes, and in demo mode
//! a stand-in of that endpoint.
//!
//! - The signatures: `x-twitter-webhooks-signature` and the CRC `response_token` are
//!   HMAC-SHA256 under the consumer secret, base64 ([`crate::channels::signature::X`]; [`sign`]
//!   for tests).
//! - [`inbound`]: [`parse_webhook`]: `direct_message_events`, the `users` map, typing and
//!   mark-read events, with `Debug` output free of personal data. Pure.
//! - [`outbound`]: the request body of a reply (buttons as text lines: the v2 endpoint has no
//!   quick replies), the answer's event id, error bodies and their classes. Pure.
//! - [`client`]: posts a body to `POST /2/dm_conversations/with/{participant_id}/messages`.
//! - [`adapter`]: the [`crate::channels::Adapter`].
//! - [`standin`]: the stand-in of the send endpoint (demo mode, tests).

pub mod adapter;
pub mod client;
pub mod inbound;
pub mod outbound;
pub mod standin;

pub use inbound::{parse_webhook, DirectMessage, MarkRead, Media, ParseError, Webhook};

/// `sha256=` and the base64 HMAC-SHA256 of `message` under `consumer_secret`: the
/// `x-twitter-webhooks-signature` value of a body ([`crate::channels::signature::X`]).
///
/// ```
/// use triage::channels::signature::X;
/// let header = triage::channels::x::sign(b"secret", b"{}");
/// assert!(header.starts_with("sha256=") && header.len() == 7 + 44);
/// assert_eq!(X.verify(b"secret", b"{}", Some(&header)), Ok(()));
/// ```
pub fn sign(consumer_secret: &[u8], message: &[u8]) -> String {
    crate::channels::signature::X.sign(consumer_secret, message)
}
