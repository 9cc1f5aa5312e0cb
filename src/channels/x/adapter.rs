//! X behind the channel seam: the Account Activity webhook at `/webhooks/x` (the CRC `GET`,
//! signed `POST`s), its events into the one inbound model, replies through the v2 send
//! endpoint, its errors into the sender's classes, and in demo mode the stand-in.
//!
//! Configuration (`[x]`, `X_*`): `app_secret` is the app's consumer secret (the key of the CRC
//! and the signatures), `access_token` the account's user-context token for sending,
//! `account_id` our X user id, `api_base` the API (`https://api.x.com`). Outside demo mode all
//! four are needed once the access token is set.
//!
//! Our own messages come back as events (`sender_id` is our account): they are counted as
//! skipped and never answered. A mark-read event by the resident becomes a `read` receipt for
//! the event it names; the store changes only a reply of ours with that id, so a read marker
//! for anything else changes nothing.
//!
//! X has no reply window ([`crate::channel::X`]). After a send that got no answer the sender
//! waits its grace and sends again: X reports nothing that names our outbox row, so if X did
//! take the first one, the resident gets the reply twice.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use serde::Deserialize;

use super::client::{Client, ErrorKind, SendError};
use super::inbound::{Media, Webhook};
use super::outbound;
use super::standin::StandIn;
use crate::channel::{Channel, Delivery};
use crate::channels::signature;
use crate::channels::{
    id_tail, or_demo, Accepted, Adapter, ErrorClass, Failure, Inbox, Incoming, Outgoing, Receipt,
    Setup,
};
use crate::service::config::DEMO_APP_SECRET;
use crate::service::state::AppState;

/// The webhook's body limit. X documents none; a direct message holds at most 10,000
/// characters, and one delivery a few events with their users.
pub const MAX_WEBHOOK_BYTES: usize = 2 * 1024 * 1024;

/// Our account in demo mode.
pub const DEMO_ACCOUNT_ID: &str = "demo-x-account";

/// The X channel.
pub struct X {
    client: Client,
    consumer_secret: String,
    account_id: String,
    standin: Option<StandIn>,
}

impl std::fmt::Debug for X {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("X")
            .field("client", &self.client)
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}

impl X {
    /// On in demo mode (on the stand-in) and with an access token; off otherwise.
    pub fn build(setup: &Setup<'_>) -> Result<Option<X>, String> {
        let c = &setup.config.x;
        let demo = setup.config.demo();
        if !demo && c.access_token.is_empty() {
            return Ok(None);
        }
        if let (true, Some(token)) = (demo, setup.demo_token) {
            return Ok(Some(X {
                client: Client::new(&format!("http://{}/standin/x", setup.local), token)?,
                consumer_secret: or_demo(&c.app_secret, DEMO_APP_SECRET),
                account_id: or_demo(&c.account_id, DEMO_ACCOUNT_ID),
                standin: Some(StandIn::requiring_token(token)),
            }));
        }
        for (value, name, what) in [
            (&c.app_secret, "X_APP_SECRET", "the app's consumer secret"),
            (&c.account_id, "X_ACCOUNT_ID", "our X user id"),
            (&c.api_base, "X_API_BASE", "e.g. https://api.x.com"),
        ] {
            if value.trim().is_empty() {
                return Err(format!("{name} ({what}) is needed with X_ACCESS_TOKEN"));
            }
        }
        // With a real account, the publicly known demo secret would let anyone forge webhooks.
        if c.app_secret == DEMO_APP_SECRET {
            return Err("X_APP_SECRET is the demo's public secret: give the app's own".into());
        }
        Ok(Some(X {
            client: Client::new(&c.api_base, &c.access_token)?,
            consumer_secret: c.app_secret.clone(),
            account_id: c.account_id.trim().to_string(),
            standin: None,
        }))
    }

    /// The stand-in, in demo mode.
    pub fn standin_handle(&self) -> Option<&StandIn> {
        self.standin.as_ref()
    }
}

#[derive(Debug, Deserialize)]
struct Crc {
    crc_token: Option<String>,
}

/// The longest `crc_token` answered. X's tokens are short base64-like strings.
const MAX_CRC_TOKEN: usize = 128;

/// Whether `token` looks like one of X's challenge tokens. The challenge's answer is the same
/// HMAC under the same secret as a webhook's signature: signing whatever is asked would let
/// anyone obtain a valid signature for a forged webhook body. A body is a JSON object (it starts
/// with `{`), which this alphabet can never spell.
fn plausible_crc_token(token: &str) -> bool {
    (1..=MAX_CRC_TOKEN).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-'))
}

/// The Challenge-Response Check: `{"response_token": "sha256=…"}`, or 400 without a token (or
/// with one that is no challenge token).
fn crc(q: &Crc, consumer_secret: &str) -> Response {
    match q.crc_token.as_deref().filter(|t| plausible_crc_token(t)) {
        Some(token) => Json(serde_json::json!({
            "response_token": signature::X.sign(consumer_secret.as_bytes(), token.as_bytes()),
        }))
        .into_response(),
        None => (StatusCode::BAD_REQUEST, "missing `crc_token`").into_response(),
    }
}

impl Adapter for X {
    fn channel(&self) -> Channel {
        Channel::X
    }

    fn routes(self: Arc<Self>) -> Router<Arc<AppState>> {
        let secret = self.consumer_secret.clone();
        let challenge = move |Query(q): Query<Crc>| {
            let secret = secret.clone();
            async move { crc(&q, &secret) }
        };
        let account_id = self.account_id.clone();
        let parse = move |body: &[u8]| super::parse_webhook(body).map(|h| inbox(&h, &account_id));
        let receiver = signature::receiver(
            Channel::X,
            signature::X,
            self.consumer_secret.clone(),
            parse,
        );
        Router::new().route(
            "/webhooks/x",
            get(challenge)
                .merge(receiver)
                .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES)),
        )
    }

    fn send(&self, out: Outgoing<'_>) -> BoxFuture<'static, Result<Accepted, Failure>> {
        let body = outbound::body_for(out.reply);
        let to = out.item.to.clone();
        let client = self.client.clone();
        async move {
            let body = body.map_err(|why| give_up(why, false))?;
            match client.send(&to, &body).await {
                Ok(id) => Ok(Accepted {
                    provider_id: format!("x:{id}"),
                }),
                Err(e) => Err(failure(e)),
            }
        }
        .boxed()
    }

    fn standin(&self) -> Option<Router> {
        self.standin.as_ref().map(StandIn::router)
    }
}

fn give_up(message: String, maybe_delivered: bool) -> Failure {
    Failure {
        class: ErrorClass::GiveUp,
        maybe_delivered,
        message,
        retry_at: None,
    }
}

/// A client's error as the sender's class.
fn failure(e: SendError) -> Failure {
    let (class, maybe_delivered) = match (e.kind, e.http_status) {
        // No connection: surely not sent.
        (ErrorKind::Connect, _) => (ErrorClass::Retry, false),
        // No (usable) answer: it may have arrived; the sender waits before trying again.
        (ErrorKind::NoAnswer, _) => (ErrorClass::Retry, true),
        (ErrorKind::Api, Some(status)) => (outbound::classify(status), false),
        (ErrorKind::Api, None) => (ErrorClass::GiveUp, false),
    };
    Failure {
        class,
        maybe_delivered,
        message: e.message,
        retry_at: e.retry_at,
    }
}

/// A webhook's events in the one inbound model: the residents' direct messages to our account,
/// and their read markers. Our own messages, events of another subscribed account and events
/// without a time (read markers) are counted as skipped.
pub fn inbox(hook: &Webhook, account_id: &str) -> Inbox {
    let mut skipped = hook.skipped;
    if hook.for_user_id != account_id {
        tracing::warn!(
            for_user_tail = id_tail(&hook.for_user_id, 6),
            "x webhook for another account than ours; nothing kept"
        );
        return Inbox {
            skipped: skipped + hook.messages.len() + hook.reads.len(),
            ..Inbox::default()
        };
    }
    let ours = |id: &str| id == account_id || id == hook.for_user_id;
    let mut messages = Vec::with_capacity(hook.messages.len());
    for m in &hook.messages {
        // Our own replies come back as events: never answered. A message between two others
        // is none of ours either.
        if ours(&m.sender_id) || !ours(&m.recipient_id) {
            skipped += 1;
            continue;
        }
        let (kind, media) = match (&m.quick_reply, m.media) {
            (Some(_), _) => ("button", None),
            (None, Some(Media::Photo)) => ("image", Some("image")),
            (None, Some(Media::Video)) => ("video", Some("video")),
            (None, Some(Media::AnimatedGif)) => ("gif", Some("video")),
            (None, Some(Media::Other)) => ("media", Some("bijlage")),
            (None, None) => ("text", None),
        };
        messages.push(Incoming {
            provider_id: format!("x:{}", m.id),
            from: m.sender_id.clone(),
            profile_name: m.sender_name.clone(),
            kind,
            text: m.text.clone(),
            button: m.quick_reply.clone(),
            media,
            sent_at: m.created_at,
        });
    }
    let mut receipts = Vec::new();
    for r in &hook.reads {
        match r.at {
            Some(at) if !ours(&r.sender_id) => receipts.push(Receipt {
                provider_id: format!("x:{}", r.last_read_event_id),
                status: Delivery::Read,
                at,
                error: None,
                outbox_id: None,
            }),
            // We read theirs, or no time to record.
            _ => skipped += 1,
        }
    }
    Inbox {
        messages,
        receipts,
        skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::x::parse_webhook;
    use serde_json::json;

    fn event(id: &str, from: &str, to: &str, data: serde_json::Value) -> serde_json::Value {
        json!({ "type": "message_create", "id": id, "created_timestamp": "1795804200000",
            "message_create": { "sender_id": from, "target": { "recipient_id": to }, "message_data": data } })
    }

    fn hook(v: serde_json::Value) -> Webhook {
        parse_webhook(&serde_json::to_vec(&v).unwrap()).unwrap()
    }

    #[test]
    fn residents_messages_are_kept_and_our_own_skipped() {
        let h = hook(json!({
            "for_user_id": "900",
            "direct_message_events": [
                event("1", "42", "900", json!({ "text": "hoi" })),
                event("2", "900", "42", json!({ "text": "Hoi! Waarmee kan ik je helpen?" })),
                event("3", "42", "900", json!({ "text": "Ja", "quick_reply_response": { "metadata": "followup:yes" } })),
                event("4", "42", "900", json!({ "text": "", "attachment": { "type": "media", "media": { "type": "photo" } } })),
                event("5", "42", "77", json!({ "text": "niet aan ons" })),
            ],
            "direct_message_mark_read_events": [
                { "created_timestamp": "1795804200000", "sender_id": "42", "target": { "recipient_id": "900" }, "last_read_event_id": "2" },
                { "created_timestamp": "1795804200000", "sender_id": "900", "target": { "recipient_id": "42" }, "last_read_event_id": "1" }
            ],
            "users": { "42": { "name": "Fatima" } }
        }));
        let inbox = inbox(&h, "900");
        let kinds: Vec<_> = inbox
            .messages
            .iter()
            .map(|m| (m.provider_id.as_str(), m.kind, m.media))
            .collect();
        assert_eq!(
            kinds,
            [
                ("x:1", "text", None),
                ("x:3", "button", None),
                ("x:4", "image", Some("image"))
            ]
        );
        assert_eq!(inbox.messages[1].button.as_deref(), Some("followup:yes"));
        assert_eq!(inbox.messages[0].profile_name.as_deref(), Some("Fatima"));
        assert_eq!(inbox.messages[0].from, "42");
        assert_eq!(inbox.receipts.len(), 1);
        assert_eq!(inbox.receipts[0].provider_id, "x:2");
        assert_eq!(inbox.receipts[0].status, Delivery::Read);
        assert_eq!(
            inbox.skipped, 3,
            "our echo, a message not to us, our own read"
        );
    }

    #[test]
    fn another_accounts_events_are_not_kept() {
        let h = hook(json!({
            "for_user_id": "555",
            "direct_message_events": [event("1", "42", "555", json!({ "text": "hoi" }))],
        }));
        let inbox = inbox(&h, "900");
        assert!(inbox.messages.is_empty());
        assert_eq!(inbox.skipped, 1);
    }

    #[test]
    fn errors_get_their_classes() {
        let api = |status: u16| SendError {
            http_status: Some(status),
            message: format!("x api http {status}"),
            retry_at: None,
            kind: ErrorKind::Api,
        };
        let reset = "2026-11-24T09:02:00Z".parse().unwrap();
        let limited = failure(SendError {
            retry_at: Some(reset),
            ..api(429)
        });
        assert_eq!(
            (limited.class, limited.retry_at),
            (ErrorClass::RetryLater, Some(reset))
        );
        assert_eq!(failure(api(503)).class, ErrorClass::Retry);
        let refused = failure(api(403));
        assert_eq!(
            (refused.class, refused.maybe_delivered),
            (ErrorClass::GiveUp, false)
        );
        assert_eq!(failure(api(400)).class, ErrorClass::GiveUp);
        let lost = failure(SendError {
            http_status: None,
            message: "the connection to the x api failed".into(),
            retry_at: None,
            kind: ErrorKind::NoAnswer,
        });
        assert_eq!(
            (lost.class, lost.maybe_delivered),
            (ErrorClass::Retry, true)
        );
        let refused_connection = failure(SendError {
            kind: ErrorKind::Connect,
            ..api(0)
        });
        assert!(!refused_connection.maybe_delivered);
    }

    #[test]
    fn the_crc_is_answered_and_a_missing_token_refused() {
        let ok = crc(
            &Crc {
                crc_token: Some("abc".into()),
            },
            "secret",
        );
        assert_eq!(ok.status(), StatusCode::OK);
        let missing = crc(&Crc { crc_token: None }, "secret");
        assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    }
}
