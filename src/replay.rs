//! What would change: residents' stored messages decided again with new flows, and every message
//! whose decision differs, before the new flows are put in force. Pure: no I/O; the store reads
//! the messages ([`crate::store::Store::inbound_since`]), `triage diff` and the editors' page show
//! the [`Report`].
//!
//! Each message is decided as the first message of a fresh conversation with the bot
//! ([`ConversationState::default`]) at the moment it arrived, by the flows before and by the
//! flows after. So only the flows' difference shows, never the conversation's history: an agent
//! who had the conversation, a follow-up that was waiting, or an out-of-hours reply already sent
//! in that closed period play no part on either side. The text is the masked text the store
//! holds: a value the detectors found is a placeholder already, and the findings made on arrival
//! come with it ([`Message::masked`]), as the service's processor passes them to
//! [`decide`].
//!
//! The before side is either another [`FlowSet`] ([`Before::Flows`]: the flows in force, or a
//! checkout of the published ones) or what the store recorded when the message came in
//! ([`Before::Recorded`]: outcome, topic and department). Recorded decisions are compared only
//! where the bot decided from the flows (an FAQ, a handover, a privacy redirect, nothing to act
//! on); a message the conversation's state decided (with an agent, the answer to a follow-up)
//! says nothing about the flows and is counted as not comparable. Replies can be compared only
//! between two flow sets (the store keeps the sent texts, not which flows wrote them).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::channel::Channel;
use crate::engine::{
    decide, Candidate, ConversationState, Decision, FindingSummary, Message, Outcome, Reply, Trace,
};
use crate::flows::FlowSet;
use crate::store::{StoredDecision, StoredInbound};

/// How many messages a replay reads at most (the newest); the rest is counted, not replayed.
pub const MAX_MESSAGES: usize = 5_000;

/// How many message ids one [`Change`] lists (its count has them all).
pub const MAX_REFS: usize = 20;

/// One stored message to decide again: masked, as the store holds it.
#[derive(Clone, PartialEq)]
pub struct Input {
    pub message_id: i64,
    pub conversation_id: i64,
    pub channel: Channel,
    /// The masked text (or caption, or button title).
    pub text: String,
    /// A tapped button's payload.
    pub button: Option<String>,
    /// What media came without text.
    pub media: Option<String>,
    /// What the detectors found (masked) when the message arrived.
    pub findings: Vec<FindingSummary>,
    /// When the resident sent it, by the provider's clock.
    pub sent_at: Option<DateTime<Utc>>,
    /// When it arrived: the moment it is decided at again.
    pub at: DateTime<Utc>,
    /// What the bot decided when it came in, if it has been decided (an outcome this build
    /// does not know is not compared).
    pub recorded: Option<StoredDecision>,
}

impl std::fmt::Debug for Input {
    // Masked text is still a resident's words: never in a debug print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("message_id", &self.message_id)
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

impl From<StoredInbound> for Input {
    fn from(m: StoredInbound) -> Input {
        Input {
            message_id: m.message_id,
            conversation_id: m.conversation_id,
            channel: m.channel,
            text: m.text,
            button: m.button,
            media: m.media,
            findings: m.findings,
            sent_at: m.sent_at,
            at: m.at,
            recorded: m.decision,
        }
    }
}

/// What the new flows are compared with.
#[derive(Clone, Copy)]
pub enum Before<'a> {
    /// Another set of flows, decided the same way.
    Flows(&'a FlowSet),
    /// What the store recorded when each message came in ([`Input::recorded`]).
    Recorded,
}

/// One side of a changed message: what the bot does with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    pub outcome: Outcome,
    pub topic: Option<String>,
    /// The department it is handed to (handovers only).
    pub department: Option<String>,
    /// The texts the resident would get, links and buttons written out; `None` for a recorded
    /// decision.
    pub replies: Option<Vec<String>>,
    /// Why: the steps and the best [`crate::engine::KEPT_CANDIDATES`] topics and routing rules (empty for a
    /// recorded decision whose reasons are gone).
    pub trace: Trace,
}

impl Side {
    fn decided(d: &Decision) -> Side {
        Side {
            outcome: d.outcome,
            topic: d.topic.clone(),
            department: handed_to(d.outcome, d.department.clone()),
            replies: Some(reply_texts(d)),
            trace: d.reasons().trace,
        }
    }

    /// The recorded decision as a side, if the bot decided it from the flows.
    fn recorded(r: &StoredDecision) -> Option<Side> {
        let outcome = Outcome::parse(&r.outcome).filter(|o| by_the_flows(*o))?;
        Some(Side {
            outcome,
            topic: r.topic.clone(),
            department: handed_to(outcome, r.department.clone()),
            replies: None,
            trace: r
                .reasons
                .as_ref()
                .map(|r| r.trace.clone())
                .unwrap_or_default(),
        })
    }

    /// The winning topic (for an answer or a privacy page) or routing rule (for a handover),
    /// with the terms that carried it.
    pub fn winner(&self) -> Option<&Candidate> {
        let list = match self.outcome {
            Outcome::Handover => &self.trace.routing,
            _ => &self.trace.candidates,
        };
        let id = match self.outcome {
            Outcome::Handover => self.department.as_deref(),
            _ => self.topic.as_deref(),
        }?;
        list.iter().find(|c| c.id == id && c.excluded_by.is_none())
    }
}

/// Whether an outcome comes from the flows, not from where the conversation stood: only those
/// are compared with a fresh replay.
fn by_the_flows(o: Outcome) -> bool {
    match o {
        Outcome::Faq
        | Outcome::Clarify
        | Outcome::PrivacyRedirect
        | Outcome::Handover
        | Outcome::Ignored => true,
        Outcome::ToAgent
        | Outcome::FollowUp
        | Outcome::FollowUpBlocked
        | Outcome::FollowUpYes
        | Outcome::FollowUpNo
        | Outcome::FollowUpOther => false,
    }
}

/// A decision's department counts only for a handover: otherwise it is where an earlier
/// handover left the conversation.
fn handed_to(o: Outcome, department: Option<String>) -> Option<String> {
    department.filter(|_| o == Outcome::Handover)
}

/// The replies as the resident reads them: text (links under the answer), then the buttons.
fn reply_texts(d: &Decision) -> Vec<String> {
    d.replies_with_links()
        .iter()
        .map(|r| {
            let mut s = r.display();
            if let Reply::Text { buttons, .. } = r {
                for b in buttons {
                    s.push_str(&format!("\n[{}]", b.title));
                }
            }
            s
        })
        .collect()
}

/// What kind of difference a changed message shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Kind {
    /// Another topic answers (or, for a privacy redirect, picks the secure page).
    Topic {
        outcome: Outcome,
        from: Option<String>,
        to: Option<String>,
    },
    /// An FAQ answered it; now it goes to a person.
    FaqToHandover {
        topic: Option<String>,
        department: Option<String>,
    },
    /// It went to a person; now an FAQ answers it.
    HandoverToFaq {
        department: Option<String>,
        topic: Option<String>,
    },
    /// Handed over still, to another department.
    Department {
        from: Option<String>,
        to: Option<String>,
    },
    /// Any other change of outcome.
    Outcome { from: Outcome, to: Outcome },
    /// The same outcome, topic and department, with other texts (an answer edited).
    Replies {
        outcome: Outcome,
        topic: Option<String>,
        department: Option<String>,
    },
}

impl Kind {
    /// How `before` and `after` differ, if they do.
    pub fn of(before: &Side, after: &Side) -> Option<Kind> {
        use Outcome::{Faq, Handover};
        Some(match (before.outcome, after.outcome) {
            (b, a) if b == a => {
                if before.topic != after.topic {
                    Kind::Topic {
                        outcome: a,
                        from: before.topic.clone(),
                        to: after.topic.clone(),
                    }
                } else if before.department != after.department {
                    Kind::Department {
                        from: before.department.clone(),
                        to: after.department.clone(),
                    }
                } else if matches!((&before.replies, &after.replies), (Some(b), Some(a)) if b != a)
                {
                    Kind::Replies {
                        outcome: a,
                        topic: after.topic.clone(),
                        department: after.department.clone(),
                    }
                } else {
                    return None;
                }
            }
            (Faq, Handover) => Kind::FaqToHandover {
                topic: before.topic.clone(),
                department: after.department.clone(),
            },
            (Handover, Faq) => Kind::HandoverToFaq {
                department: before.department.clone(),
                topic: after.topic.clone(),
            },
            (from, to) => Kind::Outcome { from, to },
        })
    }

    /// In English, for the command line: `topic afvalkalender → grofvuil`.
    pub fn describe(&self) -> String {
        let n = |x: &Option<String>| x.clone().unwrap_or_else(|| "-".into());
        match self {
            Kind::Topic { outcome, from, to } => match outcome {
                Outcome::PrivacyRedirect => {
                    format!("privacy page's topic {} → {}", n(from), n(to))
                }
                _ => format!("topic {} → {}", n(from), n(to)),
            },
            Kind::FaqToHandover { topic, department } => {
                format!("FAQ {} → handover to {}", n(topic), n(department))
            }
            Kind::HandoverToFaq { department, topic } => {
                format!("handover to {} → FAQ {}", n(department), n(topic))
            }
            Kind::Department { from, to } => format!("department {} → {}", n(from), n(to)),
            Kind::Outcome { from, to } => format!("{} → {}", from.as_str(), to.as_str()),
            Kind::Replies {
                outcome,
                topic,
                department,
            } => match (outcome, topic, department) {
                (_, Some(t), _) => format!("other text for topic {t}"),
                (Outcome::Handover, None, Some(d)) => format!("other text for handover to {d}"),
                (o, _, _) => format!("other text for {}", o.as_str()),
            },
        }
    }

    /// The order kinds of change are listed in when their counts are equal: what changes where
    /// a resident's question goes first, texts last.
    fn rank(&self) -> u8 {
        match self {
            Kind::HandoverToFaq { .. } => 0,
            Kind::FaqToHandover { .. } => 1,
            Kind::Topic { .. } => 2,
            Kind::Department { .. } => 3,
            Kind::Outcome { .. } => 4,
            Kind::Replies { .. } => 5,
        }
    }
}

/// A stored message, named.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageRef {
    pub message_id: i64,
    pub conversation_id: i64,
    pub channel: Channel,
    pub at: DateTime<Utc>,
}

/// Messages with the same masked text whose decision changed in the same way.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    #[serde(flatten)]
    pub kind: Kind,
    /// The masked text.
    pub text: String,
    /// How many messages (the text sent more than once, or by several residents).
    pub count: usize,
    /// The newest [`MAX_REFS`] of them, newest first.
    pub messages: Vec<MessageRef>,
    pub before: Side,
    pub after: Side,
}

/// How many messages changed in one way.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindCount {
    #[serde(flatten)]
    pub kind: Kind,
    pub count: usize,
}

/// What a replay found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// Messages given to replay.
    pub messages: usize,
    /// Messages decided again by the new flows (fewer than `messages` when stopped).
    pub replayed: usize,
    /// Replayed messages that had no before to compare with: not decided yet, or decided by the
    /// conversation's state (only with [`Before::Recorded`]).
    pub not_comparable: usize,
    /// Messages whose decision differs.
    pub changed: usize,
    /// Messages left out because the replay was stopped (the caller's time was up).
    pub stopped: usize,
    /// Changed messages per kind of change, the most first.
    pub kinds: Vec<KindCount>,
    /// The changed messages, grouped by kind as in `kinds`, newest first within each.
    pub changes: Vec<Change>,
    /// Groups of changed messages left out of `changes` beyond the caller's limit (counted in
    /// `changed` and `kinds`).
    pub unlisted: usize,
}

impl Report {
    /// Whether anything would change.
    pub fn any(&self) -> bool {
        self.changed > 0
    }
}

/// Decides `messages` (newest first, as the store gives them) again with `after`, compares each
/// with `before`, and reports what differs. `listed` caps the groups in [`Report::changes`];
/// `go_on(i)` is asked before the `i`-th message, and a `false` stops the replay there (the
/// caller's time budget; the rest is counted in [`Report::stopped`]).
pub fn replay(
    before: Before<'_>,
    after: &FlowSet,
    messages: &[Input],
    listed: usize,
    mut go_on: impl FnMut(usize) -> bool,
) -> Report {
    let mut report = Report {
        messages: messages.len(),
        ..Report::default()
    };
    // Per kind of change (by its JSON, as `Outcome` has no hash): the kind and its count.
    let mut counts: HashMap<String, KindCount> = HashMap::new();
    let mut groups: Vec<Change> = Vec::new();
    let mut group_of: HashMap<String, usize> = HashMap::new();
    for (i, m) in messages.iter().enumerate() {
        if !go_on(i) {
            report.stopped = messages.len() - i;
            break;
        }
        report.replayed += 1;
        let message = Message {
            text: m.text.clone(),
            button: m.button.clone(),
            media: m.media.clone(),
            masked: Some(m.findings.clone()),
            sent_at: m.sent_at,
        };
        let fresh = ConversationState::default();
        let new = Side::decided(&decide(after, &fresh, &message, m.at));
        let old = match before {
            Before::Flows(flows) => Some(Side::decided(&decide(flows, &fresh, &message, m.at))),
            Before::Recorded => m.recorded.as_ref().and_then(Side::recorded),
        };
        let Some(old) = old else {
            report.not_comparable += 1;
            continue;
        };
        let Some(kind) = Kind::of(&old, &new) else {
            continue;
        };
        report.changed += 1;
        counts
            .entry(serde_json::to_string(&kind).unwrap_or_default())
            .or_insert_with(|| KindCount {
                kind: kind.clone(),
                count: 0,
            })
            .count += 1;
        let r = MessageRef {
            message_id: m.message_id,
            conversation_id: m.conversation_id,
            channel: m.channel,
            at: m.at,
        };
        // One group per text and change; the first (newest) message's reasons stand for it.
        let key = serde_json::to_string(&(&kind, &m.text, key_of(&old), key_of(&new)))
            .unwrap_or_default();
        match group_of.get(&key) {
            Some(&g) => {
                let c = &mut groups[g];
                c.count += 1;
                if c.messages.len() < MAX_REFS {
                    c.messages.push(r);
                }
            }
            None => {
                group_of.insert(key, groups.len());
                groups.push(Change {
                    kind,
                    text: m.text.clone(),
                    count: 1,
                    messages: vec![r],
                    before: old,
                    after: new,
                });
            }
        }
    }
    let mut kinds: Vec<KindCount> = counts.into_values().collect();
    kinds.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(a.kind.rank().cmp(&b.kind.rank()))
            .then_with(|| a.kind.describe().cmp(&b.kind.describe()))
    });
    let place = |k: &Kind| {
        kinds
            .iter()
            .position(|x| x.kind == *k)
            .unwrap_or(usize::MAX)
    };
    // Stable: within a kind the groups stay newest first, as the messages came.
    let mut ranked: Vec<(usize, Change)> =
        groups.into_iter().map(|c| (place(&c.kind), c)).collect();
    ranked.sort_by_key(|(k, _)| *k);
    report.unlisted = ranked.len().saturating_sub(listed);
    report.changes = ranked.into_iter().take(listed).map(|(_, c)| c).collect();
    report.kinds = kinds;
    report
}

/// What makes two sides the same change (not their reasons).
fn key_of(
    s: &Side,
) -> (
    Outcome,
    &Option<String>,
    &Option<String>,
    &Option<Vec<String>>,
) {
    (s.outcome, &s.topic, &s.department, &s.replies)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::Sources;

    const OFFICE: &str = "\
timezone: Europe/Amsterdam
weekly:
  monday: [\"08:30-17:00\"]
  tuesday: [\"08:30-17:00\"]
  wednesday: [\"08:30-17:00\"]
  thursday: [\"08:30-17:00\"]
  friday: [\"08:30-17:00\"]
";

    const DEPARTMENTS: &str = "\
departments:
  - id: burgerzaken
    name: Burgerzaken
  - id: belastingen
    name: Belastingen
  - id: kcc
    name: Klantcontactcentrum
default: kcc
routing:
  - department: belastingen
    keywords: [aanslag, kwijtschelding]
  - department: burgerzaken
    keywords: [naamswijziging]
";

    const PRIVACY: &str = "\
secure_pages: []
default_page:
  title: Veilig gegevens delen
  url: https://www.terneuzen.nl/veilig
reply: \"Je bericht bevatte een {label}. Ga naar {title}: {url}\"
";

    const HANDOVER: &str = "\
handover:
  open: Ik zet je vraag door naar {department}.
  closed: We zijn gesloten; we zijn er weer {next_opening}.
follow_up:
  text: Heb je nog antwoord nodig?
  template:
    name: vraag_nog_open
    language: nl
    parameters: []
  yes_words: [ja]
  no_words: [nee]
  yes_reply: Top.
  no_reply: Fijn.
";

    /// Three topics: the container calendar, bulky waste and a passport.
    const TOPICS: &str = "\
topics:
  - id: afvalkalender
    keywords: [afvalkalender, container, kliko]
    answers: [Kijk in de afvalkalender.]
  - id: grofvuil
    keywords: [grofvuil, bank]
    answers: [Grofvuil haal je op afspraak op.]
  - id: paspoort
    keywords: [paspoort]
    answers: [Een paspoort vraag je aan op het gemeentehuis.]
";

    fn flows(topics: &str) -> FlowSet {
        flows_with(topics, DEPARTMENTS)
    }

    fn flows_with(topics: &str, departments: &str) -> FlowSet {
        Sources {
            office_hours: ("office-hours.yaml".into(), OFFICE.into()),
            privacy: ("privacy.yaml".into(), PRIVACY.into()),
            departments: ("departments.yaml".into(), departments.into()),
            flows: vec![
                ("main.yaml".into(), topics.into()),
                ("handover.yaml".into(), HANDOVER.into()),
            ],
            channels: Vec::new(),
        }
        .compile()
        .unwrap_or_else(|e| panic!("{e:?}"))
        .0
    }

    /// A Wednesday morning, open.
    fn at(minute: u32) -> DateTime<Utc> {
        format!("2026-11-25T09:{minute:02}:00Z").parse().unwrap()
    }

    fn input(id: i64, text: &str) -> Input {
        Input {
            message_id: id,
            conversation_id: 100 + id,
            channel: Channel::WhatsApp,
            text: text.into(),
            button: None,
            media: None,
            findings: Vec::new(),
            sent_at: None,
            at: at(59 - id as u32),
            recorded: None,
        }
    }

    fn all(before: &FlowSet, after: &FlowSet, messages: &[Input]) -> Report {
        replay(Before::Flows(before), after, messages, usize::MAX, |_| true)
    }

    #[test]
    fn nothing_changes_with_the_same_flows() {
        let f = flows(TOPICS);
        let messages = [
            input(1, "mijn kliko is niet geleegd"),
            input(2, "ik wil een naamswijziging"),
        ];
        let r = all(&f, &f, &messages);
        assert_eq!((r.messages, r.replayed, r.changed), (2, 2, 0));
        assert!(!r.any());
        assert!(r.changes.is_empty() && r.kinds.is_empty());
    }

    #[test]
    fn a_keyword_that_moved_to_another_topic_shows_as_a_topic_change_with_its_terms() {
        let before = flows(TOPICS);
        // `container` moves from the calendar to bulky waste.
        let after = flows(
            &TOPICS
                .replace(
                    "[afvalkalender, container, kliko]",
                    "[afvalkalender, kliko]",
                )
                .replace("[grofvuil, bank]", "[grofvuil, bank, container]"),
        );
        let messages = [
            input(1, "waar zet ik mijn container neer"),
            input(2, "mijn kliko is stuk"),
            input(3, "waar zet ik mijn container neer"),
            input(4, "een container huren"),
        ];
        let r = all(&before, &after, &messages);
        assert_eq!((r.replayed, r.changed), (4, 3));
        let topic = Kind::Topic {
            outcome: Outcome::Faq,
            from: Some("afvalkalender".into()),
            to: Some("grofvuil".into()),
        };
        assert_eq!(
            r.kinds,
            [KindCount {
                kind: topic.clone(),
                count: 3
            }]
        );
        assert_eq!(topic.describe(), "topic afvalkalender → grofvuil");
        // The same text twice is one group of two, newest first; the other text its own.
        assert_eq!(r.changes.len(), 2);
        let c = &r.changes[0];
        assert_eq!(
            (c.text.as_str(), c.count),
            ("waar zet ik mijn container neer", 2)
        );
        assert_eq!(
            c.messages.iter().map(|m| m.message_id).collect::<Vec<_>>(),
            [1, 3]
        );
        assert_eq!(r.changes[1].text, "een container huren");
        // Why: the term that carried each side.
        let terms = |s: &Side| -> Vec<String> {
            s.winner()
                .unwrap()
                .matched
                .iter()
                .map(|m| m.term.clone())
                .collect()
        };
        assert_eq!(c.before.winner().unwrap().id, "afvalkalender");
        assert_eq!(terms(&c.before), ["container"]);
        assert_eq!(c.after.winner().unwrap().id, "grofvuil");
        assert_eq!(terms(&c.after), ["container"]);
    }

    #[test]
    fn an_edited_answer_shows_the_old_and_the_new_text() {
        let before = flows(TOPICS);
        let after = flows(&TOPICS.replace(
            "Een paspoort vraag je aan op het gemeentehuis.",
            "Een paspoort vraag je aan met een afspraak.",
        ));
        let messages = [
            input(1, "nieuw paspoort nodig"),
            input(2, "kliko vol"),
            input(3, "mijn paspoort is verlopen"),
        ];
        let r = all(&before, &after, &messages);
        assert_eq!(r.changed, 2);
        let kind = Kind::Replies {
            outcome: Outcome::Faq,
            topic: Some("paspoort".into()),
            department: None,
        };
        assert_eq!(r.kinds, [KindCount { kind, count: 2 }]);
        let c = &r.changes[0];
        assert_eq!(c.before.topic, c.after.topic);
        assert_eq!(
            c.before.replies.as_deref().unwrap(),
            ["Een paspoort vraag je aan op het gemeentehuis."]
        );
        assert_eq!(
            c.after.replies.as_deref().unwrap(),
            ["Een paspoort vraag je aan met een afspraak."]
        );
    }

    #[test]
    fn a_new_topic_takes_questions_from_a_handover_and_counts_them_per_department() {
        let before = flows(TOPICS);
        let after = flows(&format!(
            "{TOPICS}  - id: kwijtschelding
    keywords: [kwijtschelding]
    answers: [Kwijtschelding vraag je aan via het formulier.]
"
        ));
        let messages = [
            input(1, "kan ik kwijtschelding krijgen"),
            input(2, "ik wil een naamswijziging"),
            input(3, "hoe werkt kwijtschelding van de aanslag"),
            input(4, "zwembad open?"),
        ];
        let r = all(&before, &after, &messages);
        assert_eq!((r.replayed, r.changed, r.not_comparable), (4, 2, 0));
        assert_eq!(
            r.kinds,
            [KindCount {
                kind: Kind::HandoverToFaq {
                    department: Some("belastingen".into()),
                    topic: Some("kwijtschelding".into()),
                },
                count: 2,
            }]
        );
        let c = &r.changes[0];
        assert_eq!(c.before.outcome, Outcome::Handover);
        assert_eq!(c.before.winner().unwrap().id, "belastingen");
        assert_eq!(c.after.outcome, Outcome::Faq);
        assert_eq!(c.after.winner().unwrap().matched[0].term, "kwijtschelding");
        assert_eq!(
            c.after.replies.as_deref().unwrap(),
            ["Kwijtschelding vraag je aan via het formulier."]
        );
    }

    #[test]
    fn a_removed_topic_hands_over_and_a_routing_change_moves_departments() {
        let before = flows(TOPICS);
        // The passport topic goes; naamswijziging goes to the KCC's default instead.
        let after = flows_with(
            TOPICS.split("  - id: paspoort").next().unwrap(),
            &DEPARTMENTS.replace("[naamswijziging]", "[paspoort]"),
        );
        let r = all(
            &before,
            &after,
            &[input(1, "paspoort kwijt"), input(2, "naamswijziging")],
        );
        assert_eq!(r.changed, 2);
        let kinds: Vec<&Kind> = r.kinds.iter().map(|k| &k.kind).collect();
        assert_eq!(
            kinds,
            [
                &Kind::FaqToHandover {
                    topic: Some("paspoort".into()),
                    department: Some("burgerzaken".into()),
                },
                &Kind::Department {
                    from: Some("burgerzaken".into()),
                    to: Some("kcc".into()),
                },
            ]
        );
    }

    #[test]
    fn masked_text_is_decided_on_the_findings_made_on_arrival() {
        let f = flows(TOPICS);
        let mut m = input(1, "mijn bsn is [BSN] voor mijn paspoort");
        m.findings = vec![FindingSummary {
            detector: "bsn".into(),
            label: "BSN".into(),
            masked: "[BSN]".into(),
        }];
        let after = flows(&TOPICS.replace("[paspoort]", "[reisdocument]"));
        let r = all(&f, &after, std::slice::from_ref(&m));
        assert_eq!(r.changed, 1);
        let c = &r.changes[0];
        assert_eq!(c.before.outcome, Outcome::PrivacyRedirect);
        assert_eq!(
            c.kind,
            Kind::Topic {
                outcome: Outcome::PrivacyRedirect,
                from: Some("paspoort".into()),
                to: None,
            }
        );
        // The placeholder is all either side saw; nothing was detected again.
        assert!(c.after.trace.steps.iter().any(|s| matches!(
            s, crate::engine::Step::Found { found } if found[0].masked == "[BSN]"
        )));
    }

    #[test]
    fn recorded_decisions_are_compared_only_where_the_flows_decided() {
        let after = flows(TOPICS);
        let recorded =
            |outcome: &str, topic: Option<&str>, department: Option<&str>| StoredDecision {
                outcome: outcome.into(),
                topic: topic.map(Into::into),
                department: department.map(Into::into),
                reasons: None,
            };
        let mut messages = vec![
            input(1, "mijn container is kapot"),
            input(2, "mijn container is kapot"),
            input(3, "ja graag"),
            input(4, "kliko"),
            input(5, "paspoort"),
            input(6, "een nieuwe bank"),
        ];
        // An older flow answered the container with bulky waste; the same now.
        messages[0].recorded = Some(recorded("faq", Some("grofvuil"), Some("kcc")));
        messages[1].recorded = Some(recorded("faq", Some("afvalkalender"), Some("kcc")));
        // The answer to a follow-up and a message to an agent say nothing about the flows.
        messages[2].recorded = Some(recorded("follow_up_yes", None, Some("kcc")));
        messages[3].recorded = Some(recorded("to_agent", None, Some("kcc")));
        // Not decided yet.
        messages[4].recorded = None;
        messages[5].recorded = Some(recorded("handover", None, Some("kcc")));
        let r = replay(Before::Recorded, &after, &messages, usize::MAX, |_| true);
        assert_eq!((r.replayed, r.not_comparable, r.changed), (6, 3, 2));
        let kinds: Vec<String> = r.kinds.iter().map(|k| k.kind.describe()).collect();
        assert_eq!(
            kinds,
            [
                "handover to kcc → FAQ grofvuil",
                "topic grofvuil → afvalkalender"
            ]
        );
        // A recorded side has no texts to compare, and no reasons once they are gone.
        assert_eq!(r.changes[1].before.replies, None);
        assert!(r.changes[1].before.winner().is_none());
    }

    #[test]
    fn a_stop_leaves_the_rest_counted_and_the_list_is_capped() {
        let before = flows(TOPICS);
        let after = flows(&TOPICS.replace("[paspoort]", "[reisdocument]"));
        let messages: Vec<Input> = (1..=6)
            .map(|i| input(i, &format!("paspoort nummer {i}")))
            .collect();
        let r = replay(Before::Flows(&before), &after, &messages, 2, |i| i < 4);
        assert_eq!((r.messages, r.replayed, r.stopped), (6, 4, 2));
        assert_eq!(r.changed, 4);
        assert_eq!(r.kinds[0].count, 4);
        assert_eq!((r.changes.len(), r.unlisted), (2, 2));
        // The newest first.
        assert_eq!(r.changes[0].messages[0].message_id, 1);
    }

    #[test]
    fn kinds_with_more_messages_come_first() {
        let before = flows(TOPICS);
        let after = flows(
            &TOPICS
                .replace("[grofvuil, bank]", "[grofvuil, bank, container]")
                .replace(
                    "[afvalkalender, container, kliko]",
                    "[afvalkalender, kliko]",
                )
                .replace("[paspoort]", "[reisdocument]"),
        );
        let r = all(
            &before,
            &after,
            &[
                input(1, "paspoort"),
                input(2, "container"),
                input(3, "container vol"),
            ],
        );
        let counts: Vec<usize> = r.kinds.iter().map(|k| k.count).collect();
        assert_eq!(counts, [2, 1]);
        // The list follows the kinds.
        assert!(matches!(r.changes[0].kind, Kind::Topic { .. }));
        assert!(matches!(r.changes[2].kind, Kind::FaqToHandover { .. }));
    }
}
