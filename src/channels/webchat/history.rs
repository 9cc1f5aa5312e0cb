//! What a visitor sees of their conversation, from the store's rows
//! ([`crate::store::ResidentMessage`]): their own messages, and the bot's and agents' replies
//! once the outbox has sent them (so every reply takes the same durable path), in order. Pure.
//!
//! The widget catches up from a cursor: every message up to it has been shown for good. A reply
//! still waiting in the outbox holds the cursor just before it, so a widget that saw later
//! messages meanwhile still gets it when it goes; the widget drops what it already shows by id.

use serde::Serialize;

use crate::engine::Reply;
use crate::store::ResidentMessage;

/// One message as the widget shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shown {
    pub id: i64,
    /// `visitor`, `bot` or `agent` (an agent's name stays inside the town hall).
    pub from: &'static str,
    /// Masked, as stored: what the detectors found shows masked to the visitor too.
    pub text: String,
    /// Reply buttons: tapping one sends its id and title.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<ShownButton>,
    /// RFC 3339.
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShownButton {
    pub id: String,
    pub title: String,
}

/// One answer to "what is new after `after`".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page {
    pub messages: Vec<Shown>,
    /// Ask after this next time.
    pub cursor: i64,
    /// The page was full: ask again at once.
    pub more: bool,
}

/// The text of a message whose retention term has ended.
const REMOVED: &str = "(Dit bericht is na de bewaartermijn verwijderd.)";

/// What the visitor sees of `rows` (the store's page after `after`, at most `limit` rows).
pub fn page(rows: &[ResidentMessage], after: i64, limit: usize) -> Page {
    let mut messages = Vec::new();
    let mut held: Option<i64> = None;
    for r in rows {
        let from = match (r.direction.as_str(), r.author.as_str()) {
            ("in", _) => "visitor",
            ("out", "bot") => "bot",
            ("out", a) if a.starts_with("agent:") => "agent",
            _ => continue,
        };
        if from != "visitor" {
            match r.send_status.as_deref() {
                Some("sent") => {}
                // Still to go: not shown yet, and the cursor waits for it.
                Some("pending" | "sending") => {
                    held.get_or_insert(r.id);
                    continue;
                }
                // Given up (or never queued): it never reached the visitor.
                _ => continue,
            }
        }
        let buttons = match &r.reply {
            Some(Reply::Text { buttons, .. }) => buttons
                .iter()
                .map(|b| ShownButton {
                    id: b.id.clone(),
                    title: b.title.clone(),
                })
                .collect(),
            _ => Vec::new(),
        };
        messages.push(Shown {
            id: r.id,
            from,
            text: if r.removed {
                REMOVED.to_string()
            } else {
                r.text.clone()
            },
            buttons,
            at: r.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
    }
    let last = rows.last().map_or(after, |r| r.id);
    Page {
        messages,
        cursor: held.map_or(last, |id| id - 1).max(after),
        more: held.is_none() && rows.len() >= limit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ReplyButton;

    fn row(id: i64, direction: &str, author: &str, status: Option<&str>) -> ResidentMessage {
        ResidentMessage {
            id,
            direction: direction.into(),
            author: author.into(),
            kind: "text".into(),
            text: format!("m{id}"),
            reply: (direction == "out").then(|| Reply::Text {
                text: format!("m{id}"),
                buttons: vec![ReplyButton {
                    id: "b".into(),
                    title: "Ja".into(),
                }],
            }),
            send_status: status.map(str::to_string),
            at: "2026-11-27T18:30:00Z".parse().unwrap(),
            removed: false,
        }
    }

    #[test]
    fn replies_show_once_sent_and_hold_the_cursor_until_then() {
        let rows = vec![
            row(1, "in", "resident", None),
            row(2, "out", "bot", Some("sent")),
            row(3, "out", "agent:fatima", Some("pending")),
            row(4, "in", "resident", None),
            row(5, "out", "bot", Some("failed")),
        ];
        let p = page(&rows, 0, 100);
        let ids: Vec<i64> = p.messages.iter().map(|m| m.id).collect();
        assert_eq!(
            ids,
            [1, 2, 4],
            "the pending and the failed reply are not shown"
        );
        assert_eq!(p.cursor, 2, "the pending reply is asked for again");
        assert!(!p.more);
        assert_eq!(p.messages[1].from, "bot");
        assert_eq!(p.messages[1].buttons[0].title, "Ja");

        let mut rows = rows;
        rows[2].send_status = Some("sent".into());
        let p = page(&rows[2..], 2, 100);
        assert_eq!(p.messages[0].from, "agent", "no agent's name");
        assert_eq!(p.cursor, 5);
    }

    #[test]
    fn an_empty_or_full_page() {
        assert_eq!(
            page(&[], 7, 100),
            Page {
                messages: vec![],
                cursor: 7,
                more: false
            }
        );
        let rows: Vec<_> = (1..=3).map(|i| row(i, "in", "resident", None)).collect();
        let p = page(&rows, 0, 3);
        assert!(p.more);
        assert_eq!(p.cursor, 3);
    }

    #[test]
    fn a_removed_text_says_so() {
        let mut r = row(1, "in", "resident", None);
        r.text = String::new();
        r.removed = true;
        assert_eq!(page(&[r], 0, 10).messages[0].text, REMOVED);
    }
}
