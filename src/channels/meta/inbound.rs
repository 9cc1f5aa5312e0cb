//! The Messenger Platform's webhook payloads (Messenger and Instagram direct messages) as the one
//! inbound model ([`Inbox`]). Pure: no I/O, no clock.
//!
//! The envelope is `{"object": "page" | "instagram", "entry": [{"id", "time", "messaging": [...]}]}`;
//! every `messaging[]` event has `sender.id`, `recipient.id` and `timestamp` (milliseconds) and
//! one of (Meta's webhook reference, "messages", "messaging_postbacks", "message_deliveries",
//! "message_reads", "message_reactions", "message_edits", "message_echoes", and Instagram's
//! "messaging_seen"):
//! - `message`: `mid`, `text`, `quick_reply.payload`, `attachments[]` (`image`, `audio`,
//!   `video`, `file`, `location`, `fallback`; on Instagram also `share`, `ig_reel`,
//!   `story_mention`, …), `is_echo` (our own message, sent back), `is_deleted`, `is_unsupported`;
//! - `postback`: `title`, `payload`, `mid` (a tapped button of a template or the menu);
//! - `delivery`: `mids[]` (may be absent) and `watermark`;
//! - `read`: `watermark` (Messenger) or `mid` (Instagram);
//! - `reaction`: `mid` (of the message reacted to), `action` (`react`/`unreact`), `reaction`,
//!   `emoji`;
//! - `message_edit`: `mid`, `text`, `num_edit`.
//!
//! What is kept: messages, postbacks, reactions and edits as [`Incoming`] (provider ids prefixed
//! with the channel, `messenger:m_…`), deliveries with message ids and Instagram's reads as
//! [`Receipt`]s, and the echo of a message we sent with our outbox id in `metadata` as a `sent`
//! receipt naming that row. What is counted as skipped and never answered: every other echo (also
//! a message whose sender is our own account), deleted messages, Messenger's read watermarks (the
//! store has no way to mark everything before a time as read), deliveries without message ids,
//! `standby` events (another app has the thread) and events this parser does not know.
//!
//! A malformed event is skipped and counted; only a body that is no webhook at all is an error,
//! and no error quotes what was sent.

use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::channel::{Channel, Delivery};
use crate::channels::{Inbox, Incoming, Receipt};

/// The longest sender id kept: page-scoped ids are short digit strings.
const MAX_SENDER_ID: usize = 64;

/// Why a body is no webhook of the expected object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// The body is empty or only whitespace.
    Empty,
    /// The body is not JSON; where it went wrong (never the content).
    Json { line: usize, column: usize },
    /// The JSON is not an object with an `entry` array.
    NotAWebhook,
    /// The `object` is not this channel's (`page` for Messenger, `instagram` for Instagram).
    WrongObject { expected: &'static str },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Empty => f.write_str("the webhook body is empty"),
            ParseError::Json { line, column } => {
                write!(
                    f,
                    "the webhook body is not JSON (line {line}, column {column})"
                )
            }
            ParseError::NotAWebhook => f.write_str("the webhook body has no `entry` array"),
            ParseError::WrongObject { expected } => {
                write!(f, "the webhook is not about `{expected}`")
            }
        }
    }
}

impl std::error::Error for ParseError {}

/// The `object` a channel's webhooks carry.
pub fn object_of(channel: Channel) -> &'static str {
    match channel {
        Channel::Instagram => "instagram",
        _ => "page",
    }
}

/// The provider id of a message on `channel`: `messenger:<mid>`, `instagram:<mid>`.
pub fn provider_id(channel: Channel, mid: &str) -> String {
    format!("{}:{mid}", channel.as_str())
}

/// Parses a webhook of `channel` whose own account (page or Instagram account id) is
/// `account_id`; its own messages come back as echoes and are never answered.
pub fn parse_webhook(channel: Channel, raw: &[u8], account_id: &str) -> Result<Inbox, ParseError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    let root: Value = serde_json::from_slice(raw).map_err(|e| ParseError::Json {
        line: e.line(),
        column: e.column(),
    })?;
    let entries = root
        .get("entry")
        .and_then(Value::as_array)
        .ok_or(ParseError::NotAWebhook)?;
    let expected = object_of(channel);
    if root.get("object").and_then(Value::as_str) != Some(expected) {
        return Err(ParseError::WrongObject { expected });
    }
    let mut inbox = Inbox::default();
    for entry in entries {
        let Some(entry) = entry.as_object() else {
            inbox.skipped += 1;
            continue;
        };
        // Another app has the thread (the handover protocol): not ours to answer.
        if let Some(standby) = entry.get("standby").and_then(Value::as_array) {
            inbox.skipped += standby.len();
        }
        // Comments, mentions and other changes of the account: not direct messages.
        if let Some(changes) = entry.get("changes").and_then(Value::as_array) {
            inbox.skipped += changes.len();
        }
        let Some(events) = entry.get("messaging").and_then(Value::as_array) else {
            continue;
        };
        for event in events {
            Event {
                channel,
                account_id,
                v: event,
            }
            .read_into(&mut inbox);
        }
    }
    Ok(inbox)
}

/// One `messaging[]` event.
struct Event<'a> {
    channel: Channel,
    account_id: &'a str,
    v: &'a Value,
}

impl Event<'_> {
    fn str(&self, pointer: &str) -> Option<&str> {
        self.v
            .pointer(pointer)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    fn millis(&self, pointer: &str) -> Option<DateTime<Utc>> {
        let v = self.v.pointer(pointer)?;
        let ms = v
            .as_i64()
            .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))?;
        DateTime::from_timestamp_millis(ms)
    }

    fn id(&self, mid: &str) -> String {
        provider_id(self.channel, mid)
    }

    fn read_into(&self, inbox: &mut Inbox) {
        if !self.v.is_object() {
            inbox.skipped += 1;
            return;
        }
        let sender = self.str("/sender/id");
        let at = self.millis("/timestamp");
        let ours = sender.is_some_and(|s| !self.account_id.is_empty() && s == self.account_id);
        if self.v.get("message").is_some_and(Value::is_object) {
            let echo = self.v.pointer("/message/is_echo").and_then(Value::as_bool) == Some(true);
            if echo || ours {
                self.echo(inbox, at);
                return;
            }
            self.message(inbox, sender, at);
        } else if ours {
            // Reactions, reads and edits of our own account: nothing a resident did.
            inbox.skipped += 1;
        } else if self.v.get("postback").is_some_and(Value::is_object) {
            self.postback(inbox, sender, at);
        } else if let Some(delivery) = self.v.get("delivery").filter(|d| d.is_object()) {
            let mids: Vec<&str> = delivery
                .get("mids")
                .and_then(Value::as_array)
                .map(|m| m.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if mids.is_empty() {
                // Only a watermark: which of our messages it covers is not known here.
                inbox.skipped += 1;
                return;
            }
            let at = self.millis("/delivery/watermark").or(at);
            for mid in mids.into_iter().filter(|m| !m.is_empty()) {
                inbox
                    .receipts
                    .push(receipt(self.id(mid), Delivery::Delivered, at));
            }
        } else if self.v.get("read").is_some_and(Value::is_object) {
            match self.str("/read/mid") {
                // Instagram's messaging_seen names the message read.
                Some(mid) => inbox
                    .receipts
                    .push(receipt(self.id(mid), Delivery::Read, at)),
                // Messenger's watermark: every message before it; not mapped (see the module doc).
                None => inbox.skipped += 1,
            }
        } else if self.v.get("reaction").is_some_and(Value::is_object) {
            self.reaction(inbox, sender, at);
        } else if self.v.get("message_edit").is_some_and(Value::is_object) {
            self.edit(inbox, sender, at);
        } else {
            // Opt-ins, referrals, account linking, policy notices, thread control, …
            inbox.skipped += 1;
        }
    }

    /// Our own message sent back: with our outbox id in `metadata`, the proof it went out.
    fn echo(&self, inbox: &mut Inbox, at: Option<DateTime<Utc>>) {
        inbox.skipped += 1;
        let outbox_id = self
            .str("/message/metadata")
            .and_then(|m| m.strip_prefix("outbox:"))
            .and_then(|id| id.parse::<i64>().ok());
        if let (Some(outbox_id), Some(mid)) = (outbox_id, self.str("/message/mid")) {
            let mut r = receipt(self.id(mid), Delivery::Sent, at);
            r.outbox_id = Some(outbox_id);
            inbox.receipts.push(r);
        }
    }

    fn message(&self, inbox: &mut Inbox, sender: Option<&str>, at: Option<DateTime<Utc>>) {
        let (Some(from), Some(mid)) =
            (sender.filter(|s| valid_sender(s)), self.str("/message/mid"))
        else {
            inbox.skipped += 1;
            return;
        };
        if self
            .v
            .pointer("/message/is_deleted")
            .and_then(Value::as_bool)
            == Some(true)
        {
            inbox.skipped += 1;
            return;
        }
        let text = self.str("/message/text").unwrap_or_default().to_string();
        let quick_reply = self.str("/message/quick_reply/payload");
        let attachment = self
            .v
            .pointer("/message/attachments")
            .and_then(Value::as_array)
            .and_then(|a| a.first());
        let unsupported = self
            .v
            .pointer("/message/is_unsupported")
            .and_then(Value::as_bool)
            == Some(true);
        let (kind, media, text) = match (quick_reply, attachment) {
            (Some(_), _) => ("button", None, text),
            (None, Some(a)) => {
                let (kind, media) = attachment_kind(a);
                // A location's or a shared link's title stands in for words; it is scanned
                // like everything else a resident sends.
                let text = if text.is_empty() && matches!(kind, "location" | "share") {
                    a.get("title")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                } else {
                    text
                };
                (kind, Some(media), text)
            }
            (None, None) if unsupported => ("unsupported", Some(UNSUPPORTED), text),
            (None, None) => ("text", None, text),
        };
        inbox.messages.push(Incoming {
            provider_id: self.id(mid),
            from: from.to_string(),
            profile_name: None,
            kind,
            text,
            button: quick_reply.map(str::to_string),
            media,
            sent_at: at,
        });
    }

    fn postback(&self, inbox: &mut Inbox, sender: Option<&str>, at: Option<DateTime<Utc>>) {
        let Some(from) = sender.filter(|s| valid_sender(s)) else {
            inbox.skipped += 1;
            return;
        };
        let payload = self.str("/postback/payload");
        // Older postbacks carry no `mid`: the sender and the time make one that a second
        // delivery of the same event repeats.
        let id = match (self.str("/postback/mid"), at) {
            (Some(mid), _) => self.id(mid),
            (None, Some(at)) => self.id(&format!("postback:{from}:{}", at.timestamp_millis())),
            (None, None) => {
                inbox.skipped += 1;
                return;
            }
        };
        inbox.messages.push(Incoming {
            provider_id: id,
            from: from.to_string(),
            profile_name: None,
            kind: "button",
            text: self.str("/postback/title").unwrap_or_default().to_string(),
            button: payload.map(str::to_string),
            media: None,
            sent_at: at,
        });
    }

    /// Stored like WhatsApp's reactions: kind `reaction`, the emoji as its text (empty when
    /// taken back), nothing for the engine to act on.
    fn reaction(&self, inbox: &mut Inbox, sender: Option<&str>, at: Option<DateTime<Utc>>) {
        let (Some(from), Some(mid)) = (
            sender.filter(|s| valid_sender(s)),
            self.str("/reaction/mid"),
        ) else {
            inbox.skipped += 1;
            return;
        };
        let action = self.str("/reaction/action").unwrap_or("react");
        let stamp = at.map_or(0, |t| t.timestamp_millis());
        let text = if action == "unreact" {
            String::new()
        } else {
            self.str("/reaction/emoji")
                .or(self.str("/reaction/reaction"))
                .unwrap_or_default()
                .to_string()
        };
        inbox.messages.push(Incoming {
            provider_id: self.id(&format!("reaction:{mid}:{action}:{stamp}")),
            from: from.to_string(),
            profile_name: None,
            kind: "reaction",
            text,
            button: None,
            media: None,
            sent_at: at,
        });
    }

    /// An edited message: its new text, as a message of kind `edit` (each edit once).
    fn edit(&self, inbox: &mut Inbox, sender: Option<&str>, at: Option<DateTime<Utc>>) {
        let (Some(from), Some(mid)) = (
            sender.filter(|s| valid_sender(s)),
            self.str("/message_edit/mid"),
        ) else {
            inbox.skipped += 1;
            return;
        };
        let n = self.v.pointer("/message_edit/num_edit").map_or_else(
            || "0".to_string(),
            |v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            },
        );
        inbox.messages.push(Incoming {
            provider_id: self.id(&format!("edit:{mid}:{n}")),
            from: from.to_string(),
            profile_name: None,
            kind: "edit",
            text: self
                .str("/message_edit/text")
                .unwrap_or_default()
                .to_string(),
            button: None,
            media: None,
            sent_at: at,
        });
    }
}

/// The label of a message the platform could not show us.
const UNSUPPORTED: &str = "niet-ondersteund bericht";

/// An attachment's kind as stored and its label for the engine (Dutch, as the WhatsApp adapter
/// gives them).
fn attachment_kind(a: &Value) -> (&'static str, &'static str) {
    let kind = a.get("type").and_then(Value::as_str).unwrap_or_default();
    let sticker = a.pointer("/payload/sticker_id").is_some();
    match kind {
        "image" if sticker => ("sticker", "sticker"),
        "image" | "animated_image" => ("image", "foto"),
        "audio" => ("audio", "audio"),
        "video" => ("video", "video"),
        "file" => ("document", "document"),
        "location" => ("location", "locatie"),
        "fallback" | "share" | "ig_post" | "ig_reel" | "reel" | "story_mention" | "template" => {
            ("share", "gedeeld bericht")
        }
        _ => ("unsupported", UNSUPPORTED),
    }
}

/// A sender id we can answer: short, letters, digits, `-` and `_` (page-scoped ids are digits).
fn valid_sender(s: &str) -> bool {
    s.len() <= MAX_SENDER_ID
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn receipt(provider_id: String, status: Delivery, at: Option<DateTime<Utc>>) -> Receipt {
    Receipt {
        provider_id,
        status,
        // A receipt without a time is recorded as of the epoch: it still settles the row, and
        // never looks newer than a real one.
        at: at.unwrap_or(DateTime::UNIX_EPOCH),
        error: None,
        outbox_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const PAGE: &str = "1122334455";
    const PSID: &str = "6677889900";

    fn hook(object: &str, events: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "object": object,
            "entry": [{ "id": PAGE, "time": 1764268200000i64, "messaging": events }]
        }))
        .unwrap()
    }

    fn messenger(events: Value) -> Inbox {
        parse_webhook(Channel::Messenger, &hook("page", events), PAGE).unwrap()
    }

    fn event(body: Value) -> Value {
        let mut e = json!({
            "sender": { "id": PSID },
            "recipient": { "id": PAGE },
            "timestamp": 1764268200000i64,
        });
        for (k, v) in body.as_object().unwrap() {
            e[k] = v.clone();
        }
        e
    }

    #[test]
    fn a_text_message() {
        let inbox = messenger(json!([event(
            json!({ "message": { "mid": "m_1", "text": "ik wil een nieuw paspoort" } })
        )]));
        assert_eq!(inbox.skipped, 0);
        let m = &inbox.messages[0];
        assert_eq!(m.provider_id, "messenger:m_1");
        assert_eq!(m.from, PSID);
        assert_eq!(m.kind, "text");
        assert_eq!(m.text, "ik wil een nieuw paspoort");
        assert_eq!((m.button.as_deref(), m.media), (None, None));
        assert_eq!(m.profile_name, None);
        assert_eq!(m.sent_at.unwrap().to_rfc3339(), "2025-11-27T18:30:00+00:00");
    }

    #[test]
    fn quick_replies_and_postbacks_are_buttons() {
        let inbox = messenger(json!([
            event(json!({ "message": { "mid": "m_2", "text": "Afspraak maken",
                "quick_reply": { "payload": "topic:afspraak" } } })),
            event(json!({ "postback": { "mid": "m_3", "title": "Medewerker",
                "payload": "handover:paspoort" } })),
            // An old postback without a mid: an id from the sender and the time.
            event(json!({ "postback": { "title": "Start", "payload": "GET_STARTED" } })),
        ]));
        let kinds: Vec<(&str, &str, Option<&str>)> = inbox
            .messages
            .iter()
            .map(|m| (m.kind, m.text.as_str(), m.button.as_deref()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("button", "Afspraak maken", Some("topic:afspraak")),
                ("button", "Medewerker", Some("handover:paspoort")),
                ("button", "Start", Some("GET_STARTED")),
            ]
        );
        assert_eq!(
            inbox.messages[2].provider_id,
            format!("messenger:postback:{PSID}:1764268200000")
        );
    }

    #[test]
    fn attachments_have_their_kind_and_label() {
        let a = |t: &str, payload: Value| {
            event(json!({ "message": { "mid": format!("m_{t}"),
                "attachments": [{ "type": t, "payload": payload }] } }))
        };
        let inbox = messenger(json!([
            a("image", json!({ "url": "https://x/1.jpg" })),
            a(
                "image",
                json!({ "url": "https://x/like.png", "sticker_id": 369239263222822i64 })
            ),
            a("audio", json!({ "url": "https://x/a.mp4" })),
            a("video", json!({ "url": "https://x/v.mp4" })),
            a("file", json!({ "url": "https://x/f.pdf" })),
            a(
                "location",
                json!({ "coordinates": { "lat": 51.33, "long": 3.82 } })
            ),
            a("fallback", json!({ "url": "https://x" })),
            a("hologram", json!({})),
        ]));
        let got: Vec<(&str, Option<&str>)> =
            inbox.messages.iter().map(|m| (m.kind, m.media)).collect();
        assert_eq!(
            got,
            [
                ("image", Some("foto")),
                ("sticker", Some("sticker")),
                ("audio", Some("audio")),
                ("video", Some("video")),
                ("document", Some("document")),
                ("location", Some("locatie")),
                ("share", Some("gedeeld bericht")),
                ("unsupported", Some("niet-ondersteund bericht")),
            ]
        );
    }

    #[test]
    fn echoes_are_skipped_and_ours_settle_their_outbox_row() {
        let inbox = messenger(json!([
            // Our bot's reply, sent back with our outbox id.
            { "sender": { "id": PAGE }, "recipient": { "id": PSID }, "timestamp": 1764268201000i64,
              "message": { "is_echo": true, "app_id": 1, "metadata": "outbox:42",
                           "mid": "m_ours", "text": "Een paspoort vraag je aan…" } },
            // A colleague writing from the page's own inbox: no metadata.
            { "sender": { "id": PAGE }, "recipient": { "id": PSID }, "timestamp": 1764268202000i64,
              "message": { "is_echo": true, "mid": "m_inbox", "text": "hoi" } },
            // Our own account as the sender, without the flag.
            { "sender": { "id": PAGE }, "recipient": { "id": PSID }, "timestamp": 1764268203000i64,
              "message": { "mid": "m_self", "text": "hoi" } },
        ]));
        assert!(inbox.messages.is_empty(), "{:?}", inbox.messages);
        assert_eq!(inbox.skipped, 3);
        assert_eq!(inbox.receipts.len(), 1);
        let r = &inbox.receipts[0];
        assert_eq!(
            (r.provider_id.as_str(), r.status.as_str(), r.outbox_id),
            ("messenger:m_ours", "sent", Some(42))
        );
    }

    #[test]
    fn deliveries_become_receipts_and_read_watermarks_are_skipped() {
        let inbox = messenger(json!([
            event(json!({ "delivery": { "mids": ["m_a", "m_b"], "watermark": 1764268300000i64 } })),
            event(json!({ "delivery": { "watermark": 1764268300000i64 } })),
            event(json!({ "read": { "watermark": 1764268400000i64 } })),
        ]));
        let got: Vec<(&str, &str)> = inbox
            .receipts
            .iter()
            .map(|r| (r.provider_id.as_str(), r.status.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("messenger:m_a", "delivered"),
                ("messenger:m_b", "delivered")
            ]
        );
        assert_eq!(
            inbox.receipts[0].at.to_rfc3339(),
            "2025-11-27T18:31:40+00:00"
        );
        assert_eq!(inbox.skipped, 2);
    }

    #[test]
    fn instagram_reads_name_their_message_and_the_object_must_match() {
        let raw = hook(
            "instagram",
            json!([
                event(json!({ "read": { "mid": "aWdfZAG1" } })),
                event(json!({ "message": { "mid": "aWdfZAG2", "text": "hoi" } })),
                event(json!({ "message": { "mid": "aWdfZAG3", "is_deleted": true } })),
                event(json!({ "message": { "mid": "aWdfZAG4", "is_unsupported": true } })),
            ]),
        );
        let inbox = parse_webhook(Channel::Instagram, &raw, PAGE).unwrap();
        assert_eq!(inbox.receipts[0].provider_id, "instagram:aWdfZAG1");
        assert_eq!(inbox.receipts[0].status, Delivery::Read);
        assert_eq!(inbox.messages[0].provider_id, "instagram:aWdfZAG2");
        assert_eq!(inbox.messages[1].kind, "unsupported");
        assert_eq!(inbox.skipped, 1, "the deleted message");
        assert_eq!(
            parse_webhook(Channel::Messenger, &raw, PAGE),
            Err(ParseError::WrongObject { expected: "page" })
        );
    }

    #[test]
    fn reactions_and_edits() {
        let inbox = messenger(json!([
            event(json!({ "reaction": { "mid": "m_ours", "action": "react",
                "reaction": "love", "emoji": "\u{2764}\u{FE0F}" } })),
            event(json!({ "reaction": { "mid": "m_ours", "action": "unreact" } })),
            event(
                json!({ "message_edit": { "mid": "m_1", "text": "ik wil een paspoort", "num_edit": 1 } })
            ),
        ]));
        let got: Vec<(&str, &str, &str)> = inbox
            .messages
            .iter()
            .map(|m| (m.provider_id.as_str(), m.kind, m.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "messenger:reaction:m_ours:react:1764268200000",
                    "reaction",
                    "\u{2764}\u{FE0F}"
                ),
                (
                    "messenger:reaction:m_ours:unreact:1764268200000",
                    "reaction",
                    ""
                ),
                ("messenger:edit:m_1:1", "edit", "ik wil een paspoort"),
            ]
        );
        assert!(inbox.messages.iter().all(|m| m.media.is_none()));
    }

    #[test]
    fn malformed_events_are_skipped_and_counted() {
        let inbox = messenger(json!([
            "not an object",
            event(json!({ "message": { "text": "no mid" } })),
            { "recipient": { "id": PAGE }, "message": { "mid": "m_x", "text": "no sender" } },
            event(json!({ "message": { "mid": "m_y", "text": "hi" } })),
            event(json!({ "optin": { "ref": "x" } })),
        ]));
        assert_eq!(inbox.messages.len(), 1);
        assert_eq!(inbox.skipped, 4);
        let mut bad_sender = event(json!({ "message": { "mid": "m_z", "text": "x" } }));
        bad_sender["sender"]["id"] = json!("<script>");
        assert_eq!(messenger(json!([bad_sender])).skipped, 1);
    }

    #[test]
    fn bodies_that_are_no_webhook() {
        let p = |raw: &[u8]| parse_webhook(Channel::Messenger, raw, PAGE);
        assert_eq!(p(b"  "), Err(ParseError::Empty));
        assert!(matches!(p(b"{\"secret"), Err(ParseError::Json { .. })));
        assert_eq!(p(b"[1]"), Err(ParseError::NotAWebhook));
        assert_eq!(
            p(br#"{"object":"whatsapp_business_account","entry":[]}"#),
            Err(ParseError::WrongObject { expected: "page" })
        );
        // The error never quotes what was sent.
        let e = p(b"{\"text\": \"mijn bsn 111222333\" oops").unwrap_err();
        assert!(!e.to_string().contains("111222333"), "{e}");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_webhook(Channel::Messenger, &bytes, PAGE);
            let _ = parse_webhook(Channel::Instagram, &bytes, PAGE);
        }

        #[test]
        fn mangled_webhooks_never_panic(cut in 0usize..600, byte in any::<u8>(), at in 0usize..600) {
            let mut raw = hook("page", json!([
                event(json!({ "message": { "mid": "m_1", "text": "hoi",
                    "attachments": [{ "type": "image", "payload": { "url": "https://x" } }],
                    "quick_reply": { "payload": "topic:x" } } })),
                event(json!({ "delivery": { "mids": ["m_2"], "watermark": 1 } })),
                event(json!({ "reaction": { "mid": "m_3", "action": "react", "emoji": "x" } })),
            ]));
            if at < raw.len() {
                raw[at] = byte;
            }
            raw.truncate(cut.min(raw.len()));
            let _ = parse_webhook(Channel::Messenger, &raw, PAGE);
        }
    }
}
