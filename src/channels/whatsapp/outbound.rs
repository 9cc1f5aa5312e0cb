//! Request bodies for `POST /{version}/{phone_number_id}/messages`: text, reply buttons,
//! templates, and marking a message as read.
//!
//! The builders enforce the Cloud API's limits themselves, cutting on character boundaries,
//! so a long FAQ answer or button title can never make a send fail with error 100. Every
//! message body can carry `biz_opaque_callback_data`: the service puts its outbox id there, so
//! that status webhooks can be matched to the outbox even after a crash between send and
//! record.

use serde_json::{json, Map, Value};

pub use crate::channel::truncate_chars;
use crate::channel::WHATSAPP;

/// The most characters of a text message body.
pub const MAX_TEXT_CHARS: usize = WHATSAPP.max_text_chars;
/// The most characters of the body of an interactive message.
pub const MAX_INTERACTIVE_BODY_CHARS: usize = WHATSAPP.max_text_with_buttons_chars;
/// The most reply buttons in one message.
pub const MAX_BUTTONS: usize = WHATSAPP.max_buttons;
/// The most characters of a reply button title.
pub const MAX_BUTTON_TITLE_CHARS: usize = WHATSAPP.max_button_title_chars;
/// The most characters of a reply button id.
pub const MAX_BUTTON_ID_CHARS: usize = WHATSAPP.max_button_id_chars;

/// Whether WhatsApp should render a link preview: the text contains an http(s) URL.
fn has_link(body: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    lower.contains("https://") || lower.contains("http://")
}

/// The fields every message body starts with.
fn envelope(to: &str, callback: Option<&str>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("messaging_product".into(), json!("whatsapp"));
    m.insert("recipient_type".into(), json!("individual"));
    m.insert("to".into(), json!(to));
    if let Some(cb) = callback {
        m.insert("biz_opaque_callback_data".into(), json!(cb));
    }
    m
}

/// A free-form text message (only inside the 24-hour window). `preview_url` is on when the
/// body has a link; the body is cut at [`MAX_TEXT_CHARS`] characters.
pub fn text_body(to: &str, body: &str, callback: Option<&str>) -> Value {
    let body = truncate_chars(body, MAX_TEXT_CHARS);
    let mut m = envelope(to, callback);
    m.insert("type".into(), json!("text"));
    m.insert(
        "text".into(),
        json!({ "preview_url": has_link(body), "body": body }),
    );
    Value::Object(m)
}

/// An interactive message with reply buttons `(id, title)` (only inside the 24-hour window).
///
/// At most [`MAX_BUTTONS`] buttons are kept; titles are cut at [`MAX_BUTTON_TITLE_CHARS`]
/// characters, ids at [`MAX_BUTTON_ID_CHARS`], the body at [`MAX_INTERACTIVE_BODY_CHARS`].
/// Without buttons this is a plain [`text_body`], since WhatsApp refuses an empty button list.
pub fn buttons_body<I: AsRef<str>, T: AsRef<str>>(
    to: &str,
    body: &str,
    buttons: &[(I, T)],
    callback: Option<&str>,
) -> Value {
    if buttons.is_empty() {
        return text_body(to, body, callback);
    }
    let buttons: Vec<Value> = buttons
        .iter()
        .take(MAX_BUTTONS)
        .map(|(id, title)| {
            json!({
                "type": "reply",
                "reply": {
                    "id": truncate_chars(id.as_ref(), MAX_BUTTON_ID_CHARS),
                    "title": truncate_chars(title.as_ref(), MAX_BUTTON_TITLE_CHARS),
                }
            })
        })
        .collect();
    let mut m = envelope(to, callback);
    m.insert("type".into(), json!("interactive"));
    m.insert(
        "interactive".into(),
        json!({
            "type": "button",
            "body": { "text": truncate_chars(body, MAX_INTERACTIVE_BODY_CHARS) },
            "action": { "buttons": buttons },
        }),
    );
    Value::Object(m)
}

/// An approved template message (the only kind allowed outside the 24-hour window), with
/// `parameters` filling the body's `{{1}}`, `{{2}}`, … in order. Without parameters the
/// `components` are left out.
pub fn template_body<P: AsRef<str>>(
    to: &str,
    name: &str,
    language: &str,
    parameters: &[P],
    callback: Option<&str>,
) -> Value {
    let mut template = Map::new();
    template.insert("name".into(), json!(name));
    template.insert("language".into(), json!({ "code": language }));
    if !parameters.is_empty() {
        let params: Vec<Value> = parameters
            .iter()
            .map(|p| json!({ "type": "text", "text": p.as_ref() }))
            .collect();
        template.insert(
            "components".into(),
            json!([{ "type": "body", "parameters": params }]),
        );
    }
    let mut m = envelope(to, callback);
    m.insert("type".into(), json!("template"));
    m.insert("template".into(), Value::Object(template));
    Value::Object(m)
}

/// Marks an inbound message (and the ones before it) as read: blue ticks for the resident.
pub fn mark_read_body(message_id: &str) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": message_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate_chars("", 3), "");
        assert_eq!(truncate_chars("abc", 3), "abc");
        assert_eq!(truncate_chars("abcd", 3), "abc");
        assert_eq!(truncate_chars("éé€😀", 3), "éé€");
        assert_eq!(truncate_chars("😀😀", 0), "");
    }

    #[test]
    fn links_turn_the_preview_on() {
        assert!(has_link("zie HTTPS://www.terneuzen.nl"));
        assert!(has_link("http://x.nl"));
        assert!(!has_link("zie www.terneuzen.nl of bel 14 0115"));
    }
}
