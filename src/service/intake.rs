//! The intake: what every channel's webhook does once its adapter has checked the signature and
//! parsed the payload ([`crate::channels::Inbox`]). It does the least that makes a message safe:
//! mask personal data, store in one transaction, count, answer 200. Deciding and sending happen
//! in the workers ([`super::workers`]), woken through [`AppState::wake_processor`].

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::state::AppState;
use crate::channel::Channel;
use crate::channels::Inbox;
use crate::store::{DeliveryUpdate, Inserted, NewInbound};

/// A webhook whose signature (or challenge) failed: counted, logged without its body, answered
/// with `status`; nothing is stored.
pub fn refused(
    s: &AppState,
    channel: Channel,
    status: StatusCode,
    why: &str,
    bytes: usize,
) -> Response {
    s.metrics.inc(&s.metrics.webhooks_rejected);
    tracing::warn!(%channel, error = %why, bytes, "webhook refused");
    (status, why.to_string()).into_response()
}

/// A signed webhook that could not be parsed: dropped with a 200, since any other answer only
/// makes the platform send the same bytes again for days.
pub fn not_understood(s: &AppState, channel: Channel, why: &str, bytes: usize) -> Response {
    s.metrics.inc(&s.metrics.webhooks_rejected);
    tracing::warn!(%channel, error = %why, bytes, "signed webhook not understood; dropped");
    (StatusCode::OK, "EVENT_NOT_UNDERSTOOD").into_response()
}

/// Stores what a verified webhook carried and answers: 200 once it is stored, 503 (the
/// platform retries) when it could not be.
pub async fn receive(
    s: &Arc<AppState>,
    channel: Channel,
    inbox: Inbox,
    started: Instant,
) -> Response {
    let request_id = s.request_ids.fetch_add(1, Ordering::Relaxed);
    let (messages, receipts, skipped) = (inbox.messages.len(), inbox.receipts.len(), inbox.skipped);
    match ingest(s, channel, inbox).await {
        Ok(new) => {
            s.metrics.observe_webhook(started.elapsed().as_secs_f64());
            tracing::info!(
                request_id,
                %channel,
                messages = new,
                duplicates = messages.saturating_sub(new),
                statuses = receipts,
                skipped,
                "webhook stored"
            );
            (StatusCode::OK, "EVENT_RECEIVED").into_response()
        }
        Err(e) => {
            tracing::error!(request_id, %channel, error = %e, "webhook not stored; the provider will retry");
            (StatusCode::SERVICE_UNAVAILABLE, "not stored, try again").into_response()
        }
    }
}

/// Whether `id` is a message id `channel` may give: `<channel>:…` for every channel but
/// WhatsApp, whose ids (`wamid.…`) are kept as they come and may carry no other channel's prefix.
pub fn id_is_of(channel: Channel, id: &str) -> bool {
    let prefixed = |c: Channel| {
        id.strip_prefix(c.as_str())
            .is_some_and(|rest| rest.starts_with(':'))
    };
    match channel {
        Channel::WhatsApp => !Channel::ALL.into_iter().any(prefixed),
        c => prefixed(c),
    }
}

/// A profile name as it may be stored and used in a greeting: without what the detectors find in
/// it ("Jan 111222333" becomes "Jan"); `None` when nothing else is left.
fn name_without_personal_data(detector: &crate::privacy::Detector, name: &str) -> Option<String> {
    let findings = detector.scan(name);
    let mut kept = String::with_capacity(name.len());
    let mut at = 0;
    for f in &findings {
        kept.push_str(&name[at..f.range.start]);
        kept.push(' ');
        at = f.range.end;
    }
    kept.push_str(&name[at..]);
    let kept = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    (!kept.is_empty()).then_some(kept)
}

/// Masks, stores (one transaction) and counts what a webhook carried, then wakes the processor.
/// Returns how many messages were new. The simulators and the web chat feed their messages
/// through here too.
pub async fn ingest(s: &Arc<AppState>, channel: Channel, inbox: Inbox) -> Result<usize, String> {
    let now = s.clock.now();
    let flows = s.flows();
    // Mask before anything is stored: the store never sees the raw text.
    // Message ids are unique across channels only by their channel's prefix: one channel cannot
    // take (and so silence) another's message id.
    let before = inbox.messages.len();
    let messages: Vec<_> = inbox
        .messages
        .into_iter()
        .filter(|m| id_is_of(channel, &m.provider_id))
        .collect();
    if messages.len() < before {
        tracing::warn!(
            %channel,
            messages = before - messages.len(),
            "messages with another channel's id prefix dropped"
        );
    }
    let inbound: Vec<NewInbound> = messages
        .into_iter()
        .map(|m| {
            let redaction = flows.privacy.redact(&m.text);
            NewInbound {
                provider_id: m.provider_id,
                channel,
                resident: m.from,
                resident_name: m
                    .profile_name
                    .as_deref()
                    .and_then(|n| name_without_personal_data(&flows.privacy, n)),
                kind: m.kind.to_string(),
                text: redaction.text,
                // Our own button ids come back here, but the resident's app sends them: scanned
                // like everything else a resident sends.
                button: m.button.as_deref().map(|p| flows.privacy.redact(p).text),
                media: m.media.map(str::to_string),
                findings: crate::engine::summarize(&redaction.findings),
                sent_at: m.sent_at.unwrap_or(now),
                received_at: now,
            }
        })
        .collect();
    let receipts = inbox.receipts.len();
    let statuses: Vec<DeliveryUpdate> = inbox
        .receipts
        .into_iter()
        .map(|r| DeliveryUpdate {
            channel,
            provider_id: r.provider_id,
            status: r.status,
            at: r.at,
            // A platform's error text may quote what was sent: scanned like a resident's words.
            error: r.error.map(|e| flows.privacy.redact(&e).text),
            outbox_id: r.outbox_id,
        })
        .collect();
    let store = s.store.clone();
    let inserted = tokio::task::spawn_blocking(move || -> crate::store::Result<Vec<Inserted>> {
        let inserted = if inbound.is_empty() {
            Vec::new()
        } else {
            store.insert_inbound(&inbound)?
        };
        if !statuses.is_empty() {
            store.record_statuses(&statuses)?;
        }
        Ok(inserted)
    })
    .await
    .map_err(|e| format!("the store task failed: {e}"))?
    .map_err(|e| e.to_string())?;
    let new = inserted
        .iter()
        .filter(|i| matches!(i, Inserted::New { .. }))
        .count();
    let m = &s.metrics;
    m.inc(&m.webhooks);
    m.add(&m.messages_in, new as u64);
    m.add(&m.duplicates, (inserted.len() - new) as u64);
    m.add(&m.statuses, receipts as u64);
    if new > 0 {
        s.wake_processor.notify_one();
    }
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_gives_only_its_own_message_ids() {
        assert!(id_is_of(Channel::WhatsApp, "wamid.HBgL"));
        assert!(!id_is_of(Channel::WhatsApp, "messenger:m_1"));
        assert!(!id_is_of(Channel::WhatsApp, "x:77"));
        assert!(id_is_of(Channel::Messenger, "messenger:m_1"));
        assert!(!id_is_of(Channel::Messenger, "instagram:m_1"));
        assert!(!id_is_of(Channel::Messenger, "messengerx:m_1"));
        assert!(id_is_of(Channel::WebChat, "webchat:ab:1"));
        assert!(!id_is_of(Channel::X, "77"));
    }
}
