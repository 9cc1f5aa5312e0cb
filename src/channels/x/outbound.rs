//! Replies as the X API v2 wants them, and its answers read back. Pure: no I/O.
//!
//! - The send endpoint is `POST /2/dm_conversations/with/{participant_id}/messages` with a JSON
//!   body `{"text": "…"}` (its request schema has `text` and `attachments`, nothing else). Quick
//!   replies existed only in the v1.1 `direct_messages/events/new` API, so [`body_for`] writes a
//!   reply's buttons as text lines under its text; the resident types the answer, which the
//!   flows' words (`ja`, `nee`, a topic's keywords) understand. Text is cut at 10,000 characters,
//!   X's limit for a direct message ([`crate::channel::X`]).
//! - A success (`201`) carries `{"data": {"dm_conversation_id", "dm_event_id"}}`
//!   ([`dm_event_id`]).
//! - Errors come as a v2 problem (`{"title", "detail", "type", "status"}`) or, for rate limits,
//!   as `{"errors": [{"code": 88, "message": "Rate limit exceeded"}]}` ([`error_message`]); a
//!   429 says when the limit resets in `x-rate-limit-reset`, in seconds since the epoch
//!   ([`reset_at`]). [`classify`] turns the HTTP status into the sender's class.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};

use crate::channel::truncate_chars;
use crate::channels::ErrorClass;
use crate::engine::{Reply, ReplyButton};

/// The longest error message kept from an answer, in characters.
const MAX_ERROR_CHARS: usize = 300;

/// A reply's text with its buttons as lines under it, within X's text limit.
pub fn render(text: &str, buttons: &[ReplyButton]) -> String {
    let mut out = text.trim_end().to_string();
    if !buttons.is_empty() {
        out.push_str("\n\n");
        let lines: Vec<String> = buttons.iter().map(|b| format!("• {}", b.title)).collect();
        out.push_str(&lines.join("\n"));
    }
    truncate_chars(&out, crate::channel::X.max_text_chars).to_string()
}

/// The request body for a reply, or why it cannot go on X (templates are WhatsApp's).
pub fn body_for(reply: &Reply) -> Result<Value, String> {
    match reply {
        Reply::Text { text, buttons } => {
            let text = render(text, buttons);
            if text.trim().is_empty() {
                return Err("an empty reply cannot be sent on X".into());
            }
            Ok(json!({ "text": text }))
        }
        Reply::Template { name, .. } => Err(format!(
            "X has no templates: the template `{name}` cannot be sent"
        )),
    }
}

/// Whether `id` can be a participant id in the URL: X user ids are decimal digits.
pub fn is_user_id(id: &str) -> bool {
    (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

/// `data.dm_event_id` of a success answer.
pub fn dm_event_id(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let id = v.pointer("/data/dm_event_id")?;
    let id = match id {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!id.is_empty()).then_some(id)
}

/// What an error answer says, for the agent and the log: the problem's `detail` (or `title`),
/// else the first `errors[].message`, else the status.
pub fn error_message(status: u16, body: &[u8]) -> String {
    let v: Option<Value> = serde_json::from_slice(body).ok();
    let text = |p: &str| {
        v.as_ref()
            .and_then(|v| v.pointer(p))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let code = v
        .as_ref()
        .and_then(|v| v.pointer("/errors/0/code"))
        .and_then(Value::as_i64);
    let said = text("/detail")
        .or_else(|| text("/title"))
        .or_else(|| text("/errors/0/message"));
    let mut message = match (said, code) {
        (Some(s), Some(code)) => format!("x api http {status} (code {code}): {s}"),
        (Some(s), None) => format!("x api http {status}: {s}"),
        (None, _) => format!("x api http {status} without an error body"),
    };
    if message.chars().count() > MAX_ERROR_CHARS {
        message = truncate_chars(&message, MAX_ERROR_CHARS).to_string();
    }
    message
}

/// `x-rate-limit-reset` (seconds since the epoch) as a time.
pub fn reset_at(header: Option<&str>) -> Option<DateTime<Utc>> {
    let secs: i64 = header?.trim().parse().ok()?;
    Utc.timestamp_opt(secs, 0).single()
}

/// What the sender does after an error answer with this HTTP status: a rate limit waits for
/// its reset, a server error is tried again, anything else the request asked for is refused
/// for good (`401`/`403`: the token, or the resident does not take direct messages from us;
/// `400`: the request).
pub fn classify(status: u16) -> ErrorClass {
    match status {
        429 => ErrorClass::RetryLater,
        500..=599 => ErrorClass::Retry,
        _ => ErrorClass::GiveUp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn button(title: &str) -> ReplyButton {
        ReplyButton {
            id: format!("id:{title}"),
            title: title.into(),
        }
    }

    #[test]
    fn buttons_become_lines_under_the_text() {
        let r = Reply::Text {
            text: "Heb je nog antwoord nodig?".into(),
            buttons: vec![button("Ja"), button("Nee")],
        };
        assert_eq!(
            body_for(&r).unwrap(),
            json!({ "text": "Heb je nog antwoord nodig?\n\n• Ja\n• Nee" })
        );
        let plain = Reply::Text {
            text: "Hoi!".into(),
            buttons: Vec::new(),
        };
        assert_eq!(body_for(&plain).unwrap(), json!({ "text": "Hoi!" }));
    }

    #[test]
    fn text_is_cut_at_ten_thousand_characters_and_templates_refused() {
        let long = "é".repeat(10_050);
        let body = body_for(&Reply::Text {
            text: long,
            buttons: Vec::new(),
        })
        .unwrap();
        assert_eq!(body["text"].as_str().unwrap().chars().count(), 10_000);
        let t = Reply::Template {
            name: "vraag_nog_open".into(),
            language: "nl".into(),
            parameters: Vec::new(),
        };
        assert!(body_for(&t).unwrap_err().contains("no templates"));
        let empty = Reply::Text {
            text: "  ".into(),
            buttons: Vec::new(),
        };
        assert!(body_for(&empty).is_err());
    }

    #[test]
    fn answers_and_errors_are_read() {
        let ok = br#"{"data":{"dm_conversation_id":"1-2","dm_event_id":"1580705921830768643"}}"#;
        assert_eq!(dm_event_id(ok).as_deref(), Some("1580705921830768643"));
        assert_eq!(dm_event_id(br#"{"data":{}}"#), None);
        assert_eq!(dm_event_id(b"nope"), None);
        let problem = br#"{"title":"Forbidden","detail":"You are not allowed to send this user a Direct Message.","type":"about:blank","status":403}"#;
        assert_eq!(
            error_message(403, problem),
            "x api http 403: You are not allowed to send this user a Direct Message."
        );
        let limited = br#"{"errors":[{"code":88,"message":"Rate limit exceeded"}]}"#;
        assert_eq!(
            error_message(429, limited),
            "x api http 429 (code 88): Rate limit exceeded"
        );
        assert_eq!(
            error_message(502, b"<html>"),
            "x api http 502 without an error body"
        );
        let long = format!(r#"{{"detail":"{}"}}"#, "x".repeat(1000));
        assert_eq!(error_message(400, long.as_bytes()).chars().count(), 300);
    }

    #[test]
    fn statuses_and_reset_times() {
        assert_eq!(classify(429), ErrorClass::RetryLater);
        assert_eq!(classify(503), ErrorClass::Retry);
        assert_eq!(classify(500), ErrorClass::Retry);
        for s in [400, 401, 403, 404] {
            assert_eq!(classify(s), ErrorClass::GiveUp, "{s}");
        }
        assert_eq!(
            reset_at(Some("1795510920")),
            Some("2026-11-24T09:02:00Z".parse().unwrap())
        );
        assert_eq!(reset_at(Some("soon")), None);
        assert_eq!(reset_at(None), None);
        assert!(is_user_id("1234567890"));
        assert!(!is_user_id("12/34") && !is_user_id("") && !is_user_id("abc"));
    }
}
