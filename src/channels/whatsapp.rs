//! The WhatsApp Cloud API as pure functions and types: no I/O, no clock. The service's
//! webhook and outbox call these; so do the tests and the load generator.
//!
//! - [`sign`] and [`verify_signature`]: `X-Hub-Signature-256` over the raw body, and the
//!   subscription handshake ([`verify_subscription`]), as
//!   [`crate::channels::signature`] has them for all of Meta.
//! - [`inbound`]: [`parse_webhook`] into channel-neutral [`InboundMessage`]s and
//!   [`StatusUpdate`]s, with `Debug` output free of personal data.
//! - [`outbound`]: request bodies for sending text, reply buttons and templates, and for
//!   marking a message as read, within the API's limits.
//! - [`error`]: Graph API errors ([`ApiError`]), what to do about them ([`classify`]), and the
//!   send response ([`parse_send_response`]).

pub mod adapter;
pub mod error;
pub mod graph;
pub mod inbound;
pub mod incoming;
pub mod outbound;
pub mod simulator;
pub mod standin;

pub use crate::channels::signature::{verify_subscription, SignatureError};
pub use error::{classify, parse_api_error, parse_send_response, ApiError, ErrorAction};
pub use inbound::{
    parse_webhook, text_webhook, DeliveryStatus, InboundKind, InboundMessage, MediaKind, OrderItem,
    ParseError, StatusUpdate, Webhook,
};
pub use outbound::{buttons_body, mark_read_body, template_body, text_body, truncate_chars};

/// The `X-Hub-Signature-256` header value for `body`: `sha256=` and the lowercase hex HMAC.
///
/// ```
/// let header = triage::channels::whatsapp::sign(b"secret", b"{}");
/// assert!(header.starts_with("sha256=") && header.len() == 7 + 64);
/// assert_eq!(triage::channels::whatsapp::verify_signature(b"secret", b"{}", Some(&header)), Ok(()));
/// ```
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    crate::channels::signature::META.sign(app_secret, body)
}

/// Checks the `X-Hub-Signature-256` header of a webhook POST against the raw body bytes.
pub fn verify_signature(
    app_secret: &[u8],
    raw_body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    crate::channels::signature::META.verify(app_secret, raw_body, header)
}
