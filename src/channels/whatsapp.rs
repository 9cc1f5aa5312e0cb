//! The WhatsApp Cloud API as pure functions and types: no I/O, no clock. The service's
//! webhook and outbox call these; so do the tests and the load generator.
//!
//! - [`signature`]: `X-Hub-Signature-256` over the raw body ([`verify_signature`], [`sign`])
//!   and the subscription handshake ([`verify_subscription`]).
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
pub mod outbound;
pub mod signature;
pub mod simulator;
pub mod standin;

pub use error::{classify, parse_api_error, parse_send_response, ApiError, ErrorAction};
pub use inbound::{
    parse_webhook, text_webhook, DeliveryStatus, InboundKind, InboundMessage, MediaKind, OrderItem,
    ParseError, StatusUpdate, Webhook,
};
pub use outbound::{buttons_body, mark_read_body, template_body, text_body, truncate_chars};
pub use signature::{sign, verify_signature, verify_subscription, SignatureError};
