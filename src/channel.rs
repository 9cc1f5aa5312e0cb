//! What a channel is, as the pure core sees it: its name ([`Channel`]) and its [`Policy`] (the
//! reply window, what may be sent outside it, the limits on text and buttons). Pure: no I/O.
//!
//! The engine and the flow validator read a policy value, never a provider's constant; the
//! service's adapters ([`crate::channels`]) hold what differs per platform beyond that (webhook
//! routes, parsing, sending, error classes).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// A messaging channel residents write on. Stored as [`Channel::as_str`].
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    WhatsApp,
    Messenger,
    Instagram,
    X,
    WebChat,
}

impl Channel {
    /// Every channel this build knows, in the order the inbox lists them.
    pub const ALL: [Channel; 5] = [
        Channel::WhatsApp,
        Channel::Messenger,
        Channel::Instagram,
        Channel::X,
        Channel::WebChat,
    ];

    /// The name in the database, the API and URLs (`whatsapp`, `webchat`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::WhatsApp => "whatsapp",
            Channel::Messenger => "messenger",
            Channel::Instagram => "instagram",
            Channel::X => "x",
            Channel::WebChat => "webchat",
        }
    }

    /// The name people read (`WhatsApp`, `Web chat`).
    pub fn title(self) -> &'static str {
        self.policy().title
    }

    /// The channel named `s` ([`Channel::as_str`]), if any.
    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// What this channel allows.
    pub fn policy(self) -> &'static Policy {
        match self {
            Channel::WhatsApp => &WHATSAPP,
            Channel::Messenger => &MESSENGER,
            Channel::Instagram => &INSTAGRAM,
            Channel::X => &X,
            Channel::WebChat => &WEB_CHAT,
        }
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What may be sent once the standard reply window has closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutsideWindow {
    /// Only approved templates (WhatsApp): the follow-up goes as its template.
    Templates,
    /// A person's reply may still go, tagged, until `agent_window` after the resident's last
    /// message (Messenger's and Instagram's `HUMAN_AGENT` tag); the bot may not write.
    HumanAgentTag,
}

/// What a channel allows: the engine, the validator and the sender read this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// The channel's name for people.
    pub title: &'static str,
    /// Its short mark in the inbox's list (`WA`), and the mark's colour (white text on it
    /// keeps a contrast of 4.5:1).
    pub mark: &'static str,
    pub colour: &'static str,
    /// Whether the resident's address is a phone number an agent may call back.
    pub phone_numbers: bool,
    /// How long after the resident's last message free replies may go; `None`: no window.
    #[serde(serialize_with = "hours")]
    pub window: Option<Duration>,
    /// What may go once `window` has closed.
    pub outside_window: Option<OutsideWindow>,
    /// With [`OutsideWindow::HumanAgentTag`]: how long a person may still answer.
    #[serde(serialize_with = "hours")]
    pub agent_window: Option<Duration>,
    /// The longest text message, in characters.
    pub max_text_chars: usize,
    /// The longest text of a message that carries buttons, in characters.
    pub max_text_with_buttons_chars: usize,
    /// Reply buttons (or quick replies) per message.
    pub max_buttons: usize,
    /// The longest button title, in characters.
    pub max_button_title_chars: usize,
    /// The longest button payload (our id), in characters.
    pub max_button_id_chars: usize,
}

fn hours<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&d.num_hours()),
        None => s.serialize_none(),
    }
}

/// WhatsApp Cloud API: the 24-hour customer service window, templates outside it.
pub const WHATSAPP: Policy = Policy {
    title: "WhatsApp",
    mark: "WA",
    colour: "#0b6b3a",
    phone_numbers: true,
    window: Some(Duration::hours(24)),
    outside_window: Some(OutsideWindow::Templates),
    agent_window: None,
    max_text_chars: 4096,
    max_text_with_buttons_chars: 1024,
    max_buttons: 3,
    max_button_title_chars: 20,
    max_button_id_chars: 256,
};

/// Messenger Platform Send API: 24 hours, then only a person's reply with the `HUMAN_AGENT` tag
/// for up to 7 days; text up to 2,000 characters; up to 13 quick replies of 20 characters, their
/// payloads up to 1,000. Sources: Meta's "Send a Message" (the standard 24-hour window, message
/// tags), the Send API reference (`message.text`, `quick_replies`, `tag`) and "Quick Replies"
/// ("a maximum of 13 quick replies … up to 20 characters").
pub const MESSENGER: Policy = Policy {
    title: "Messenger",
    mark: "FB",
    colour: "#0a58ca",
    phone_numbers: false,
    window: Some(Duration::hours(24)),
    outside_window: Some(OutsideWindow::HumanAgentTag),
    agent_window: Some(Duration::days(7)),
    max_text_chars: 2000,
    max_text_with_buttons_chars: 2000,
    max_buttons: 13,
    max_button_title_chars: 20,
    max_button_id_chars: 1000,
};

/// Instagram messaging (the Messenger Platform): the same windows, text up to 1,000 characters.
/// Sources: Meta's Instagram Messaging "Send a Message" ("all messages sent by a human agent
/// outside of the 24hr must leverage the HUMAN_AGENT tag", which "allows messages to be sent
/// within 7 days"; "Text message must be less than 1000 characters", and elsewhere on the same
/// page "UTF-8 and … 1000 bytes or less": the adapter also cuts to 1,000 bytes as a last resort)
/// and Instagram "Quick Replies" (13, 20 characters).
pub const INSTAGRAM: Policy = Policy {
    title: "Instagram",
    mark: "IG",
    colour: "#a3195b",
    phone_numbers: false,
    window: Some(Duration::hours(24)),
    outside_window: Some(OutsideWindow::HumanAgentTag),
    agent_window: Some(Duration::days(7)),
    max_text_chars: 1000,
    max_text_with_buttons_chars: 1000,
    max_buttons: 13,
    max_button_title_chars: 20,
    max_button_id_chars: 1000,
};

/// X direct messages: no reply window (X's DM docs set none; v1.1's "5 replies within 24
/// hours" only counted towards its rate limits); text up to 10,000 characters (v1.1
/// `direct_messages/events/new`). The v2 send endpoint has no quick replies, so buttons go as
/// text lines under the text: up to 20 of 36 characters (v1.1's quick-reply limits, kept so a
/// flow reads the same), the text with them at most 9,000 characters to leave room for them.
pub const X: Policy = Policy {
    title: "X",
    mark: "X",
    colour: "#111111",
    phone_numbers: false,
    window: None,
    outside_window: None,
    agent_window: None,
    max_text_chars: 10_000,
    max_text_with_buttons_chars: 9_000,
    max_buttons: 20,
    max_button_title_chars: 36,
    max_button_id_chars: 1000,
};

/// Our own web chat: no window (the visitor reads the answer when they come back).
pub const WEB_CHAT: Policy = Policy {
    title: "Webchat",
    mark: "Web",
    colour: "#5b3d99",
    phone_numbers: false,
    window: None,
    outside_window: None,
    agent_window: None,
    max_text_chars: 4096,
    max_text_with_buttons_chars: 4096,
    max_buttons: 10,
    max_button_title_chars: 40,
    max_button_id_chars: 256,
};

/// What a platform says became of one of our messages. Receipts arrive out of order: a later
/// rank supersedes an earlier one, and `Failed` is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    Sent,
    Delivered,
    Read,
    Failed,
}

impl Delivery {
    /// The name stored with the outbox row.
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Sent => "sent",
            Delivery::Delivered => "delivered",
            Delivery::Read => "read",
            Delivery::Failed => "failed",
        }
    }

    /// The delivery named `s`, if any.
    pub fn parse(s: &str) -> Option<Delivery> {
        [
            Delivery::Sent,
            Delivery::Delivered,
            Delivery::Read,
            Delivery::Failed,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }

    /// The order in which receipts supersede each other (sent 1 … failed 4).
    pub fn rank(self) -> i64 {
        match self {
            Delivery::Sent => 1,
            Delivery::Delivered => 2,
            Delivery::Read => 3,
            Delivery::Failed => 4,
        }
    }
}

/// Who writes a reply: the window rules differ for the bot and a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    Bot,
    Agent,
}

/// Whether a message may go now, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Permit {
    /// Inside the standard window (or the channel has none): anything goes.
    Open,
    /// Outside the window, a person's reply with the channel's human-agent tag.
    HumanAgentTag { until: DateTime<Utc> },
    /// Outside the window: only a template ([`OutsideWindow::Templates`]).
    TemplatesOnly,
    /// Nothing may go.
    Closed,
}

impl Policy {
    /// What `author` may send at `now`, the resident having last written at `last_inbound`.
    pub fn permit(
        &self,
        author: Author,
        last_inbound: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Permit {
        let Some(window) = self.window else {
            return Permit::Open;
        };
        if last_inbound.is_some_and(|last| now - last < window) {
            return Permit::Open;
        }
        match self.outside_window {
            Some(OutsideWindow::Templates) => Permit::TemplatesOnly,
            Some(OutsideWindow::HumanAgentTag) if author == Author::Agent => {
                match (last_inbound, self.agent_window) {
                    (Some(last), Some(w)) if now < last + w => {
                        Permit::HumanAgentTag { until: last + w }
                    }
                    _ => Permit::Closed,
                }
            }
            _ => Permit::Closed,
        }
    }

    /// When the standard window closes (`None`: no window, or the resident never wrote).
    pub fn window_closes(&self, last_inbound: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        Some(last_inbound? + self.window?)
    }

    /// When a person can no longer answer at all (`None`: never, as far as the channel says).
    pub fn last_reply_at(&self, last_inbound: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        let window = self.window?;
        let last = last_inbound?;
        match (self.outside_window, self.agent_window) {
            (Some(OutsideWindow::HumanAgentTag), Some(w)) => Some(last + w),
            _ => Some(last + window),
        }
    }
}

/// The longest prefix of `s` with at most `max` characters.
pub fn truncate_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn names_round_trip() {
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
        }
        assert_eq!(Channel::parse("WhatsApp"), None);
    }

    #[test]
    fn whatsapp_allows_templates_outside_its_window() {
        let last = at("2026-11-27T18:00:00Z");
        let p = Channel::WhatsApp.policy();
        assert_eq!(
            p.permit(Author::Bot, Some(last), last + Duration::hours(23)),
            Permit::Open
        );
        assert_eq!(
            p.permit(Author::Agent, Some(last), last + Duration::hours(24)),
            Permit::TemplatesOnly
        );
        assert_eq!(p.permit(Author::Bot, None, last), Permit::TemplatesOnly);
    }

    #[test]
    fn messenger_lets_a_person_answer_for_seven_days_and_the_bot_not_at_all() {
        let last = at("2026-11-27T18:00:00Z");
        let p = Channel::Messenger.policy();
        let monday = at("2026-11-30T07:30:00Z");
        assert_eq!(p.permit(Author::Bot, Some(last), monday), Permit::Closed);
        assert_eq!(
            p.permit(Author::Agent, Some(last), monday),
            Permit::HumanAgentTag {
                until: at("2026-12-04T18:00:00Z")
            }
        );
        assert_eq!(
            p.permit(Author::Agent, Some(last), at("2026-12-04T18:00:00Z")),
            Permit::Closed
        );
        assert_eq!(
            p.last_reply_at(Some(last)),
            Some(at("2026-12-04T18:00:00Z"))
        );
    }

    #[test]
    fn channels_without_a_window_are_always_open() {
        for c in [Channel::X, Channel::WebChat] {
            let p = c.policy();
            assert_eq!(
                p.permit(Author::Bot, None, at("2030-01-01T00:00:00Z")),
                Permit::Open
            );
            assert_eq!(p.window_closes(Some(at("2026-01-01T00:00:00Z"))), None);
        }
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate_chars("één twee", 3), "één");
        assert_eq!(truncate_chars("ab", 5), "ab");
    }
}
