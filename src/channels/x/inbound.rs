//! An Account Activity webhook body as pure data: [`parse_webhook`] reads the direct-message
//! events of the subscribed account, as the "Account Activity data objects" and "Message Create
//! Object" pages describe them:
//!
//! - `for_user_id`: the subscribed account the events are about (ours).
//! - `direct_message_events[]` with `type: "message_create"`: `id`, `created_timestamp`
//!   (milliseconds since the epoch, as a string), `message_create.sender_id`,
//!   `message_create.target.recipient_id`, `message_create.message_data.text`, the tapped quick
//!   reply's `quick_reply_response.metadata`, and an `attachment` of `type: "media"` whose
//!   `media.type` is `photo`, `video` or `animated_gif`. As in Posts, a media entity's `url`
//!   (a t.co link) may end the text; it is removed, so that a photo alone reads as a photo
//!   without words.
//! - `users{}`: the hydrated users of the events, by id; the sender's `name` is kept.
//! - `direct_message_mark_read_events[]`: `sender_id` (who read), `target.recipient_id` and
//!   `last_read_event_id`.
//! - Everything else (`direct_message_indicate_typing_events`, Posts, follows, …) is counted as
//!   skipped, as is an event without the fields it needs.
//!
//! The account's own messages come back as events too: telling them apart is the adapter's
//! business (it knows our account id). Nothing here logs; `Debug` shows no text, name or id.

use std::fmt;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Map, Value};

use crate::channels::id_tail;

/// What one webhook call carried.
#[derive(Clone, PartialEq, Default)]
pub struct Webhook {
    /// The subscribed account the events belong to.
    pub for_user_id: String,
    /// Direct messages, sent by a resident or echoed from our own account, in order.
    pub messages: Vec<DirectMessage>,
    /// Read markers.
    pub reads: Vec<MarkRead>,
    /// Events understood and not kept (typing indicators, other activity) or without the
    /// fields they need.
    pub skipped: usize,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("messages", &self.messages)
            .field("reads", &self.reads.len())
            .field("skipped", &self.skipped)
            .finish_non_exhaustive()
    }
}

/// What kind of media a direct message carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    Photo,
    Video,
    AnimatedGif,
    /// A media type this parser does not know.
    Other,
}

/// One `message_create` event.
#[derive(Clone, PartialEq)]
pub struct DirectMessage {
    /// The direct-message event id.
    pub id: String,
    pub sender_id: String,
    pub recipient_id: String,
    /// `created_timestamp`, when it is a valid time.
    pub created_at: Option<DateTime<Utc>>,
    /// The text without a trailing media link; may be empty.
    pub text: String,
    /// The tapped quick reply's `metadata`.
    pub quick_reply: Option<String>,
    pub media: Option<Media>,
    /// The sender's display name from `users{}`.
    pub sender_name: Option<String>,
}

impl fmt::Debug for DirectMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirectMessage")
            .field("id_tail", &id_tail(&self.id, 6))
            .field("text_chars", &self.text.chars().count())
            .field("quick_reply", &self.quick_reply.is_some())
            .field("media", &self.media)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// One `direct_message_mark_read_events` entry: `sender_id` read everything up to
/// `last_read_event_id` in its conversation with `recipient_id`.
#[derive(Clone, PartialEq)]
pub struct MarkRead {
    pub sender_id: String,
    pub recipient_id: String,
    pub last_read_event_id: String,
    pub at: Option<DateTime<Utc>>,
}

impl fmt::Debug for MarkRead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MarkRead")
            .field("event_id_tail", &id_tail(&self.last_read_event_id, 6))
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

/// Why a body is no Account Activity webhook. The message never quotes the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    NotJson,
    NotAnObject,
    NoForUserId,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParseError::NotJson => "the body is not JSON",
            ParseError::NotAnObject => "the body is not a JSON object",
            ParseError::NoForUserId => "the body has no `for_user_id`",
        })
    }
}

impl std::error::Error for ParseError {}

/// Reads a webhook body. Events without the fields they need are skipped and counted; only a
/// body that is no Account Activity payload at all is an error.
pub fn parse_webhook(body: &[u8]) -> Result<Webhook, ParseError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| ParseError::NotJson)?;
    let Value::Object(root) = value else {
        return Err(ParseError::NotAnObject);
    };
    let for_user_id = root
        .get("for_user_id")
        .and_then(id_of)
        .ok_or(ParseError::NoForUserId)?;
    let users = root.get("users").and_then(Value::as_object);
    let mut hook = Webhook {
        for_user_id,
        ..Webhook::default()
    };
    for (key, events) in &root {
        let Some(events) = events.as_array() else {
            continue;
        };
        match key.as_str() {
            "direct_message_events" => {
                for e in events {
                    match message(e, users) {
                        Some(m) => hook.messages.push(m),
                        None => hook.skipped += 1,
                    }
                }
            }
            "direct_message_mark_read_events" => {
                for e in events {
                    match mark_read(e) {
                        Some(r) => hook.reads.push(r),
                        None => hook.skipped += 1,
                    }
                }
            }
            // Typing indicators, Posts, follows, …: nothing a resident asked.
            _ => hook.skipped += events.len(),
        }
    }
    Ok(hook)
}

/// An id as X sends it: a string of digits (a number is accepted too).
fn id_of(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

fn millis(v: Option<&Value>) -> Option<DateTime<Utc>> {
    let ms: i64 = match v? {
        Value::String(s) => s.trim().parse().ok()?,
        Value::Number(n) => n.as_i64()?,
        _ => return None,
    };
    Utc.timestamp_millis_opt(ms).single()
}

fn message(e: &Value, users: Option<&Map<String, Value>>) -> Option<DirectMessage> {
    if e.get("type").and_then(Value::as_str) != Some("message_create") {
        return None;
    }
    let id = e.get("id").and_then(id_of)?;
    let mc = e.get("message_create")?;
    let sender_id = mc.get("sender_id").and_then(id_of)?;
    let recipient_id = mc.pointer("/target/recipient_id").and_then(id_of)?;
    let data = mc.get("message_data");
    let mut text = data
        .and_then(|d| d.get("text"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let quick_reply = data
        .and_then(|d| d.pointer("/quick_reply_response/metadata"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let attachment = data
        .and_then(|d| d.get("attachment"))
        .filter(|a| a.get("type").and_then(Value::as_str) == Some("media"));
    let media = attachment.map(|a| match a.pointer("/media/type").and_then(Value::as_str) {
        Some("photo") => Media::Photo,
        Some("video") => Media::Video,
        Some("animated_gif") => Media::AnimatedGif,
        _ => Media::Other,
    });
    if let Some(url) = attachment
        .and_then(|a| a.pointer("/media/url"))
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
    {
        if let Some(kept) = text.trim_end().strip_suffix(url) {
            text = kept.trim_end().to_string();
        }
    }
    let sender_name = users
        .and_then(|u| u.get(&sender_id))
        .and_then(|u| u.get("name"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    Some(DirectMessage {
        id,
        created_at: millis(e.get("created_timestamp")),
        sender_id,
        recipient_id,
        text,
        quick_reply,
        media,
        sender_name,
    })
}

fn mark_read(e: &Value) -> Option<MarkRead> {
    Some(MarkRead {
        sender_id: e.get("sender_id").and_then(id_of)?,
        recipient_id: e.pointer("/target/recipient_id").and_then(id_of)?,
        last_read_event_id: e.get("last_read_event_id").and_then(id_of)?,
        at: millis(e.get("created_timestamp")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn dm(id: &str, from: &str, to: &str, data: Value) -> Value {
        json!({
            "type": "message_create",
            "id": id,
            "created_timestamp": "1764268200000",
            "message_create": {
                "target": { "recipient_id": to },
                "sender_id": from,
                "source_app_id": "268278",
                "message_data": data,
            }
        })
    }

    fn parse(v: Value) -> Webhook {
        parse_webhook(&serde_json::to_vec(&v).unwrap()).unwrap()
    }

    #[test]
    fn a_text_message_with_its_sender_name() {
        let hook = parse(json!({
            "for_user_id": "900",
            "direct_message_events": [dm("1001", "42", "900", json!({
                "text": "ik wil een nieuw paspoort",
                "entities": { "hashtags": [], "symbols": [], "urls": [], "user_mentions": [] }
            }))],
            "users": {
                "42": { "id": "42", "name": "Fatima de Vries", "screen_name": "fatima" },
                "900": { "id": "900", "name": "Gemeente Terneuzen" }
            }
        }));
        assert_eq!(hook.for_user_id, "900");
        assert_eq!(hook.skipped, 0);
        let m = &hook.messages[0];
        assert_eq!((m.id.as_str(), m.sender_id.as_str()), ("1001", "42"));
        assert_eq!(m.recipient_id, "900");
        assert_eq!(m.text, "ik wil een nieuw paspoort");
        assert_eq!(m.sender_name.as_deref(), Some("Fatima de Vries"));
        assert_eq!(
            m.created_at,
            Some("2025-11-27T18:30:00Z".parse::<DateTime<Utc>>().unwrap())
        );
        assert_eq!((m.quick_reply.as_deref(), m.media), (None, None));
    }

    #[test]
    fn a_quick_reply_and_media_with_its_link_removed() {
        let hook = parse(json!({
            "for_user_id": "900",
            "direct_message_events": [
                dm("1", "42", "900", json!({
                    "text": "Ja",
                    "quick_reply_response": { "type": "options", "metadata": "followup:yes" }
                })),
                dm("2", "42", "900", json!({
                    "text": "kijk deze stoep https://t.co/abc123",
                    "attachment": { "type": "media", "media": {
                        "type": "photo", "url": "https://t.co/abc123",
                        "media_url_https": "https://ton.twitter.com/1.1/ton/data/dm/1/2/x.jpg"
                    } }
                })),
                dm("3", "42", "900", json!({
                    "text": "https://t.co/v1d30",
                    "attachment": { "type": "media", "media": { "type": "video", "url": "https://t.co/v1d30" } }
                })),
                dm("4", "42", "900", json!({
                    "text": "",
                    "attachment": { "type": "media", "media": { "type": "animated_gif" } }
                })),
                dm("5", "42", "900", json!({
                    "attachment": { "type": "media", "media": { "type": "hologram" } }
                })),
            ]
        }));
        let m = &hook.messages;
        assert_eq!(m[0].quick_reply.as_deref(), Some("followup:yes"));
        assert_eq!(m[0].text, "Ja");
        assert_eq!(
            (m[1].text.as_str(), m[1].media),
            ("kijk deze stoep", Some(Media::Photo))
        );
        assert_eq!((m[2].text.as_str(), m[2].media), ("", Some(Media::Video)));
        assert_eq!(m[3].media, Some(Media::AnimatedGif));
        assert_eq!((m[4].text.as_str(), m[4].media), ("", Some(Media::Other)));
        assert!(m.iter().all(|m| m.sender_name.is_none()));
    }

    #[test]
    fn typing_other_activity_and_incomplete_events_are_skipped_and_reads_kept() {
        let hook = parse(json!({
            "for_user_id": "900",
            "direct_message_indicate_typing_events": [
                { "created_timestamp": "1764268200000", "sender_id": "42", "target": { "recipient_id": "900" } }
            ],
            "direct_message_mark_read_events": [
                { "created_timestamp": "1764268200000", "sender_id": "42",
                  "target": { "recipient_id": "900" }, "last_read_event_id": "777" },
                { "sender_id": "42" }
            ],
            "favorite_events": [{}, {}],
            "direct_message_events": [
                { "type": "message_create", "id": "9" },
                { "type": "participants_join", "id": "10" },
                dm("", "42", "900", json!({ "text": "geen id" })),
            ],
            "user_has_blocked": false
        }));
        assert!(hook.messages.is_empty());
        assert_eq!(hook.reads.len(), 1);
        assert_eq!(hook.reads[0].last_read_event_id, "777");
        assert_eq!(hook.reads[0].sender_id, "42");
        assert_eq!(hook.skipped, 1 + 1 + 2 + 3);
    }

    #[test]
    fn bodies_that_are_no_account_activity() {
        assert_eq!(parse_webhook(b"{not json"), Err(ParseError::NotJson));
        assert_eq!(parse_webhook(b"[1]"), Err(ParseError::NotAnObject));
        assert_eq!(parse_webhook(b"{}"), Err(ParseError::NoForUserId));
        assert_eq!(
            parse_webhook(br#"{"for_user_id": ""}"#),
            Err(ParseError::NoForUserId)
        );
        let ok = parse_webhook(br#"{"for_user_id": 900, "tweet_create_events": [{}]}"#).unwrap();
        assert_eq!((ok.for_user_id.as_str(), ok.skipped), ("900", 1));
    }

    #[test]
    fn debug_shows_no_text_name_or_sender() {
        let hook = parse(json!({
            "for_user_id": "900",
            "direct_message_events": [dm("123456789", "4242", "900", json!({ "text": "mijn bsn 111222333" }))],
            "users": { "4242": { "name": "Jan Geheim" } }
        }));
        let shown = format!("{hook:?}");
        for secret in ["111222333", "Jan", "4242", "123456789"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("456789"), "the id's tail: {shown}");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_webhook(&bytes);
        }

        #[test]
        fn arbitrary_json_shapes_never_panic(
            key in prop::sample::select(vec!["for_user_id", "direct_message_events", "users", "direct_message_mark_read_events"]),
            inner in prop::sample::select(vec!["null", "1", "\"x\"", "[]", "{}", "[{}]", "[null]", "[{\"type\":\"message_create\",\"message_create\":[]}]"]),
        ) {
            let body = format!(r#"{{"for_user_id":"1","{key}":{inner}}}"#);
            let _ = parse_webhook(body.as_bytes());
        }
    }
}
