//! A Cloud API webhook in the one inbound model ([`crate::channels::Inbox`]): what the webhook
//! and the resident simulator hand to the intake.

use super::{InboundKind, MediaKind, Webhook};
use crate::channel::Delivery;
use crate::channels::{Inbox, Incoming, Receipt};

/// A webhook's messages and statuses in the one inbound model. A sender is a phone number
/// (WhatsApp sends digits only): anything else is no resident we can answer, and is not kept.
pub fn inbox(hook: &Webhook) -> Inbox {
    let from_a_number =
        |from: &str| (6..=20).contains(&from.len()) && from.bytes().all(|b| b.is_ascii_digit());
    let mut skipped = hook.skipped;
    let mut messages = Vec::with_capacity(hook.messages.len());
    for m in &hook.messages {
        if !from_a_number(&m.from) {
            tracing::warn!("a message from a sender that is no phone number dropped");
            skipped += 1;
            continue;
        }
        let (text, media) = match &m.kind {
            // A reaction asks nothing and a system notice (a changed number) is no question:
            // stored for the agents, decided as nothing to act on. A notice's text can hold
            // phone numbers, so it is not kept.
            InboundKind::Reaction { emoji, .. } => (emoji.clone().unwrap_or_default(), None),
            InboundKind::System { .. } => (String::new(), None),
            kind => (kind.text().to_string(), kind.media_label()),
        };
        messages.push(Incoming {
            provider_id: m.id.clone(),
            from: m.from.clone(),
            profile_name: m.profile_name.clone(),
            kind: kind_name(&m.kind),
            text,
            button: m.kind.button_payload().map(str::to_string),
            media,
            sent_at: Some(m.timestamp),
        });
    }
    let receipts = hook
        .statuses
        .iter()
        // `deleted`, `played` and statuses to come change nothing about a sent reply.
        .filter_map(|st| Some((st, Delivery::parse(st.status.as_str())?)))
        .map(|(st, status)| Receipt {
            provider_id: st.id.clone(),
            status,
            at: st.timestamp,
            error: st.errors.first().map(ToString::to_string),
            outbox_id: st
                .biz_opaque_callback_data
                .as_deref()
                .and_then(|c| c.strip_prefix("outbox:"))
                .and_then(|id| id.parse().ok()),
        })
        .collect();
    Inbox {
        messages,
        receipts,
        skipped,
    }
}

/// The channel's name for a message kind, as stored.
fn kind_name(kind: &InboundKind) -> &'static str {
    use {InboundKind as K, MediaKind as M};
    match kind {
        K::Text { .. } => "text",
        K::Media { media, .. } => match media {
            M::Image => "image",
            M::Audio => "audio",
            M::Voice => "voice",
            M::Video => "video",
            M::Document => "document",
            M::Sticker => "sticker",
        },
        K::Location { .. } => "location",
        K::Contacts { .. } => "contacts",
        K::ButtonReply { .. } | K::ListReply { .. } | K::QuickReply { .. } => "button",
        K::Reaction { .. } => "reaction",
        K::Order { .. } => "order",
        K::System { .. } => "system",
        K::Unsupported { .. } => "unsupported",
    }
}
