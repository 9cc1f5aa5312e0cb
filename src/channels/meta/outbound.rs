//! The Send API of the Messenger Platform as pure functions: the request body of a reply, what
//! an error answer means for the sender, and the id in a success answer. No I/O.
//!
//! A reply is `POST /{version}/{account-id}/messages` with `recipient.id`, `messaging_type`
//! (`RESPONSE` inside the 24-hour window, `MESSAGE_TAG` with `tag: "HUMAN_AGENT"` for a person's
//! reply outside it) and `message` (`text`, `quick_replies[]` of `content_type: "text"`, `title`
//! ≤ 20 characters and `payload` ≤ 1,000 characters, at most 13). On Messenger the body also
//! carries our outbox id as `message.metadata`, which the platform sends back in the message's
//! echo, so that a send whose answer was lost can be settled (Meta's message_echoes reference);
//! Instagram documents no such field, so none is sent there.
//!
//! The body builder keeps to the channel's [`Policy`] as a last resort (the validator and the
//! agents' API already refuse what is too long): texts are cut on a character boundary, and on
//! Instagram also to 1,000 bytes ("Message text must be UTF-8 and be a 1000 bytes or less",
//! Meta's Instagram send-message guide).

use serde_json::{json, Map, Value};

use crate::channel::{truncate_chars, Channel, Permit, Policy};
use crate::channels::{ErrorClass, Failure};
use crate::engine::{Reply, ReplyButton};

/// Instagram's text limit in bytes of UTF-8.
pub const INSTAGRAM_MAX_TEXT_BYTES: usize = 1000;

/// The longest `metadata` string: the Send API reference says "less than 1000 characters".
const MAX_METADATA_CHARS: usize = 999;

/// The Send API body for `reply` to `to`, as `permit` allows; `callback` (our outbox reference)
/// goes in `metadata` on Messenger. A template, or a permit that lets nothing go, is a failure
/// that is never retried.
pub fn body(
    channel: Channel,
    to: &str,
    reply: &Reply,
    permit: Permit,
    callback: &str,
) -> Result<Value, Failure> {
    let policy = channel.policy();
    let (text, buttons) = match reply {
        Reply::Text { text, buttons } => (text, buttons),
        Reply::Template { .. } => {
            return Err(never(
                ErrorClass::GiveUp,
                format!(
                    "{} has no templates: this reply cannot be sent",
                    policy.title
                ),
            ))
        }
    };
    let mut m = Map::new();
    m.insert("recipient".into(), json!({ "id": to }));
    match permit {
        Permit::Open => {
            m.insert("messaging_type".into(), json!("RESPONSE"));
        }
        Permit::HumanAgentTag { .. } => {
            m.insert("messaging_type".into(), json!("MESSAGE_TAG"));
            m.insert("tag".into(), json!("HUMAN_AGENT"));
        }
        Permit::TemplatesOnly | Permit::Closed => {
            return Err(never(
                ErrorClass::OutsideWindow,
                format!(
                    "outside the window of {}: nothing can be sent until the resident writes again",
                    policy.title
                ),
            ))
        }
    }
    let mut message = Map::new();
    let fitted = fit_text(channel, policy, text, !buttons.is_empty());
    message.insert("text".into(), json!(fitted));
    if !buttons.is_empty() {
        message.insert("quick_replies".into(), quick_replies(policy, buttons));
    }
    if channel == Channel::Messenger {
        message.insert(
            "metadata".into(),
            json!(truncate_chars(callback, MAX_METADATA_CHARS)),
        );
    }
    m.insert("message".into(), Value::Object(message));
    Ok(Value::Object(m))
}

/// `text` within the channel's limits (with quick replies, or without): characters, and
/// Instagram's bytes.
pub fn fit_text<'a>(channel: Channel, policy: &Policy, text: &'a str, buttons: bool) -> &'a str {
    let limit = if buttons {
        policy.max_text_with_buttons_chars
    } else {
        policy.max_text_chars
    };
    let mut t = truncate_chars(text, limit);
    if channel == Channel::Instagram && t.len() > INSTAGRAM_MAX_TEXT_BYTES {
        let mut end = INSTAGRAM_MAX_TEXT_BYTES;
        while !t.is_char_boundary(end) {
            end -= 1;
        }
        t = t.get(..end).unwrap_or_default();
    }
    if t.len() < text.len() {
        tracing::warn!(
            %channel,
            chars = text.chars().count(),
            kept = t.chars().count(),
            "a reply was cut to the channel's limit"
        );
    }
    t
}

/// The quick replies of a message: at most the policy's number, titles and payloads cut.
fn quick_replies(policy: &Policy, buttons: &[ReplyButton]) -> Value {
    Value::Array(
        buttons
            .iter()
            .take(policy.max_buttons)
            .map(|b| {
                json!({
                    "content_type": "text",
                    "title": truncate_chars(&b.title, policy.max_button_title_chars),
                    "payload": truncate_chars(&b.id, policy.max_button_id_chars),
                })
            })
            .collect(),
    )
}

fn never(class: ErrorClass, message: String) -> Failure {
    Failure {
        class,
        maybe_delivered: false,
        message,
        retry_at: None,
    }
}

/// A Graph error answer: `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    pub code: Option<i64>,
    pub subcode: Option<i64>,
    pub message: String,
}

/// The longest error message kept, in characters.
const MAX_ERROR_CHARS: usize = 300;

/// Reads a Graph error body; `None` when the body is not one (a proxy's HTML page).
pub fn parse_error(raw: &[u8]) -> Option<GraphError> {
    let v: Value = serde_json::from_slice(raw).ok()?;
    let e = v.get("error")?.as_object()?;
    Some(GraphError {
        code: e.get("code").and_then(Value::as_i64),
        subcode: e.get("error_subcode").and_then(Value::as_i64),
        message: e
            .get("message")
            .and_then(Value::as_str)
            .map(|m| truncate_chars(m, MAX_ERROR_CHARS).to_string())
            .unwrap_or_default(),
    })
}

/// The subcodes of code 10 that mean "outside of allowed window" (Meta's Send API error codes:
/// 2018065 the standard window, 2018108 news messaging, 2018278 the window of a tag).
const OUTSIDE_WINDOW_SUBCODES: [i64; 3] = [2018065, 2018108, 2018278];

/// What an error answer means for the sender, from the Graph code and subcode first and the
/// HTTP status second (Meta's Messenger Platform error codes and the Graph API's rate limits):
/// - rate limits (4 application, 17 user, 32 page, 613 calls to this API; HTTP 429):
///   [`ErrorClass::RetryLater`];
/// - 1 (unknown), 2 (service temporarily unavailable), 1200 (temporary send failure), HTTP 5xx:
///   [`ErrorClass::Retry`];
/// - 10 with subcode 2018065, 2018108 or 2018278, or any error "outside of allowed window":
///   [`ErrorClass::OutsideWindow`];
/// - 551 (this person isn't available), 200 with 1545041 (isn't available) or 2018028
///   (cannot message people without a role on the app), 190 (the token), 100 (a bad request)
///   and everything else: [`ErrorClass::GiveUp`].
pub fn classify(error: Option<&GraphError>, http_status: u16) -> ErrorClass {
    let (code, subcode) = error.map_or((None, None), |e| (e.code, e.subcode));
    let outside = error.is_some_and(|e| {
        e.message
            .to_ascii_lowercase()
            .contains("outside of allowed window")
    });
    match (code, subcode) {
        (Some(10), Some(s)) if OUTSIDE_WINDOW_SUBCODES.contains(&s) => ErrorClass::OutsideWindow,
        _ if outside => ErrorClass::OutsideWindow,
        (Some(4 | 17 | 32 | 613), _) => ErrorClass::RetryLater,
        (Some(1 | 2 | 1200), _) => ErrorClass::Retry,
        (Some(_), _) => ErrorClass::GiveUp,
        (None, _) if http_status == 429 => ErrorClass::RetryLater,
        (None, _) if (500..600).contains(&http_status) => ErrorClass::Retry,
        (None, _) => ErrorClass::GiveUp,
    }
}

/// The message id of a success answer, `{"recipient_id", "message_id"}`.
pub fn parse_sent(raw: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(raw).ok()?;
    v.get("message_id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn text(t: &str, buttons: &[(&str, &str)]) -> Reply {
        Reply::Text {
            text: t.into(),
            buttons: buttons
                .iter()
                .map(|(id, title)| ReplyButton {
                    id: (*id).into(),
                    title: (*title).into(),
                })
                .collect(),
        }
    }

    fn until() -> Permit {
        let at: DateTime<Utc> = "2026-12-04T18:00:00Z".parse().unwrap();
        Permit::HumanAgentTag { until: at }
    }

    #[test]
    fn a_reply_in_the_window_is_a_response_with_quick_replies() {
        let r = text(
            "Een paspoort vraag je aan op het gemeentehuis.",
            &[
                ("topic:afspraak", "Afspraak maken"),
                ("handover:paspoort", "Medewerker"),
            ],
        );
        let b = body(Channel::Messenger, "6677", &r, Permit::Open, "outbox:7").unwrap();
        assert_eq!(
            b,
            json!({
                "recipient": { "id": "6677" },
                "messaging_type": "RESPONSE",
                "message": {
                    "text": "Een paspoort vraag je aan op het gemeentehuis.",
                    "quick_replies": [
                        { "content_type": "text", "title": "Afspraak maken", "payload": "topic:afspraak" },
                        { "content_type": "text", "title": "Medewerker", "payload": "handover:paspoort" },
                    ],
                    "metadata": "outbox:7",
                }
            })
        );
        // Instagram: no metadata.
        let b = body(Channel::Instagram, "6677", &r, Permit::Open, "outbox:7").unwrap();
        assert!(b["message"].get("metadata").is_none());
    }

    #[test]
    fn a_persons_reply_outside_the_window_carries_the_human_agent_tag() {
        let b = body(
            Channel::Instagram,
            "6677",
            &text("Hallo, ik help je graag.", &[]),
            until(),
            "outbox:8",
        )
        .unwrap();
        assert_eq!(b["messaging_type"], "MESSAGE_TAG");
        assert_eq!(b["tag"], "HUMAN_AGENT");
        assert!(b["message"].get("quick_replies").is_none());
        for p in [Permit::Closed, Permit::TemplatesOnly] {
            let e = body(Channel::Messenger, "6677", &text("x", &[]), p, "outbox:9").unwrap_err();
            assert_eq!(e.class, ErrorClass::OutsideWindow);
        }
        let template = Reply::Template {
            name: "vraag_nog_open".into(),
            language: "nl".into(),
            parameters: Vec::new(),
        };
        let e = body(Channel::Messenger, "6677", &template, Permit::Open, "x").unwrap_err();
        assert_eq!(e.class, ErrorClass::GiveUp);
        assert!(e.message.contains("no templates"), "{}", e.message);
    }

    #[test]
    fn limits_are_kept_as_a_last_resort() {
        let long_title = "Een veel te lange knoptitel";
        let buttons: Vec<(String, String)> = (0..15)
            .map(|i| (format!("topic:{i}"), long_title.to_string()))
            .collect();
        let pairs: Vec<(&str, &str)> = buttons
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let r = text(&"é".repeat(2500), &pairs);
        let b = body(Channel::Messenger, "1", &r, Permit::Open, "outbox:1").unwrap();
        assert_eq!(b["message"]["text"].as_str().unwrap().chars().count(), 2000);
        let qr = b["message"]["quick_replies"].as_array().unwrap();
        assert_eq!(qr.len(), 13);
        assert_eq!(qr[0]["title"].as_str().unwrap().chars().count(), 20);
        // Instagram: 1,000 bytes, cut on a character boundary (é is two bytes).
        let b = body(Channel::Instagram, "1", &r, Permit::Open, "outbox:1").unwrap();
        let t = b["message"]["text"].as_str().unwrap();
        assert_eq!((t.len(), t.chars().count()), (1000, 500));
        let b = body(
            Channel::Instagram,
            "1",
            &text(&"a".repeat(999), &[]),
            Permit::Open,
            "o",
        )
        .unwrap();
        assert_eq!(b["message"]["text"].as_str().unwrap().len(), 999);
    }

    fn err(code: i64, subcode: Option<i64>, message: &str) -> GraphError {
        GraphError {
            code: Some(code),
            subcode,
            message: message.into(),
        }
    }

    #[test]
    fn error_classes() {
        use ErrorClass::*;
        let c = |e: GraphError, status| classify(Some(&e), status);
        for code in [4, 17, 32, 613] {
            assert_eq!(c(err(code, None, "limit"), 400), RetryLater, "{code}");
        }
        for code in [1, 2, 1200] {
            assert_eq!(c(err(code, None, "try again"), 500), Retry, "{code}");
        }
        assert_eq!(
            c(
                err(
                    10,
                    Some(2018278),
                    "(#10) This message is sent outside of allowed window."
                ),
                400
            ),
            OutsideWindow
        );
        assert_eq!(c(err(10, Some(2018065), ""), 400), OutsideWindow);
        assert_eq!(
            c(
                err(100, None, "This message is sent outside of allowed window"),
                400
            ),
            OutsideWindow
        );
        assert_eq!(c(err(10, None, "Permission denied"), 403), GiveUp);
        assert_eq!(
            c(err(551, Some(1545041), "This person isn't available"), 400),
            GiveUp
        );
        assert_eq!(
            c(err(200, Some(2018028), "Cannot message users"), 403),
            GiveUp
        );
        assert_eq!(c(err(190, None, "Invalid OAuth access token"), 401), GiveUp);
        assert_eq!(c(err(100, None, "Invalid parameter"), 400), GiveUp);
        // No Graph body: the HTTP status decides.
        assert_eq!(classify(None, 429), RetryLater);
        assert_eq!(classify(None, 502), Retry);
        assert_eq!(classify(None, 400), GiveUp);
    }

    #[test]
    fn answers() {
        let e = parse_error(
            br#"{"error":{"message":"(#613) Calls to this api have exceeded the rate limit.","type":"OAuthException","code":613,"error_subcode":1893016,"fbtrace_id":"A"}}"#,
        )
        .unwrap();
        assert_eq!((e.code, e.subcode), (Some(613), Some(1893016)));
        assert!(parse_error(b"<html>bad gateway</html>").is_none());
        assert_eq!(
            parse_sent(br#"{"recipient_id":"1","message_id":"m_AG5Hz2U"}"#).as_deref(),
            Some("m_AG5Hz2U")
        );
        assert_eq!(parse_sent(br#"{"recipient_id":"1"}"#), None);
    }
}
