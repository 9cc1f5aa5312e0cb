//! The decision engine: given the flows, a conversation's state, a resident's message and the
//! time, decide what happens. Pure: no I/O, the time is an argument, the same input always gives
//! the same [`Decision`], and the decision carries a [`Trace`] of why.
//!
//! The order of the stages follows the brief: privacy first (mask, redirect), then the
//! conversation's state (with an agent, waiting for a follow-up answer), then FAQ topics, then a
//! handover to a department, with the out-of-hours reply and a follow-up at the next opening.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::format_dutch;
use crate::channel::{OutsideWindow, Policy};
use crate::flows::model::LinkDef;
use crate::flows::{ButtonAction, FlowSet};
use crate::language::{Detection, Language, Why};
use crate::matcher::{Matcher, TermKind};
use crate::ranking::{self, Text};
use crate::text::{fnv1a, normalize, normalize_for_patterns};

mod step;
pub use crate::ranking::{Candidate, MatchedTerm, WinReason};
pub use step::{Found, Step};

/// How much of a channel's reply window must be left for the follow-up to go as free text.
pub const FOLLOW_UP_MARGIN: Duration = Duration::hours(1);

/// Button payloads the engine gives out and understands.
pub const PAYLOAD_YES: &str = "follow_up:yes";
pub const PAYLOAD_NO: &str = "follow_up:no";
const PAYLOAD_TOPIC: &str = "topic:";
const PAYLOAD_HANDOVER: &str = "handover:";
/// The person button of a question back: the department the question itself routes to.
const PAYLOAD_DEPARTMENT: &str = "department:";

/// A message from a resident, as the engine sees it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Message {
    /// The text (or a media caption); may be empty.
    #[serde(default)]
    pub text: String,
    /// The payload of a tapped reply button, as given in [`ReplyButton::id`].
    #[serde(default)]
    pub button: Option<String>,
    /// What kind of media came without text (`image`, `voice`, …), if any.
    #[serde(default)]
    pub media: Option<String>,
    /// Set when `text` was already masked on arrival: what was found then. The engine then
    /// skips detection and decides on these findings.
    #[serde(default)]
    pub masked: Option<Vec<FindingSummary>>,
    /// When the resident sent it (the provider's timestamp), if known: WhatsApp's 24-hour window
    /// runs from then, also when the message reaches us late.
    #[serde(default)]
    pub sent_at: Option<DateTime<Utc>>,
}

impl Message {
    pub fn text(text: impl Into<String>) -> Self {
        Message {
            text: text.into(),
            ..Message::default()
        }
    }
}

/// Where a conversation stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The bot answers.
    #[default]
    Bot,
    /// Handed over, waiting in a department's queue.
    Queued,
    /// An agent has claimed it: the bot stays quiet.
    WithAgent,
    /// The follow-up question was asked; waiting for Ja/Nee.
    AwaitingFollowUp,
    /// Done; a new message reopens it.
    Resolved,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Bot => "bot",
            Phase::Queued => "queued",
            Phase::WithAgent => "with_agent",
            Phase::AwaitingFollowUp => "awaiting_follow_up",
            Phase::Resolved => "resolved",
        }
    }

    /// The phase stored as `s` ([`Phase::as_str`]), if any.
    pub fn parse(s: &str) -> Option<Phase> {
        [
            Phase::Bot,
            Phase::Queued,
            Phase::WithAgent,
            Phase::AwaitingFollowUp,
            Phase::Resolved,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

/// What the engine needs to know about a conversation; the store keeps it between messages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationState {
    pub phase: Phase,
    /// The department queue it is in (when handed over).
    #[serde(default)]
    pub department: Option<String>,
    /// The resident's WhatsApp profile name, for `{name}`.
    #[serde(default)]
    pub resident_name: Option<String>,
    /// When the resident last wrote (the 24-hour window starts here).
    #[serde(default)]
    pub last_inbound_at: Option<DateTime<Utc>>,
    /// The closed period (named by the opening that ends it) whose out-of-hours reply was sent.
    #[serde(default)]
    pub out_of_hours_reply_for: Option<DateTime<Utc>>,
    /// When the follow-up is due.
    #[serde(default)]
    pub follow_up_at: Option<DateTime<Utc>>,
    /// When the follow-up question was asked.
    #[serde(default)]
    pub follow_up_sent_at: Option<DateTime<Utc>>,
    /// Put on top of its queue (the resident said they still need an answer).
    #[serde(default)]
    pub on_top: bool,
    /// The follow-up question was asked since the last handover (it is asked once per handover).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub follow_up_asked: bool,
    /// The resident wrote again while waiting and was told a person will read it (once per
    /// handover).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub queued_note_sent: bool,
    /// The language the resident last wrote in; none: Dutch. The follow-up speaks it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
}

/// What happened to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// An FAQ topic answered it.
    Faq,
    /// The best topics were too close (or too weak) to choose: the resident was asked which
    /// one they mean, with a button for each and one for a person.
    Clarify,
    /// It held personal data: masked, and the resident was pointed to a secure page.
    PrivacyRedirect,
    /// Handed over to a department's queue.
    Handover,
    /// The conversation is with a person already; the message goes to them.
    ToAgent,
    /// The follow-up question was asked (from [`follow_up`]).
    FollowUp,
    /// The follow-up was due, but the channel lets the bot not write outside its window: on
    /// top of the queue instead (from [`follow_up`]).
    FollowUpBlocked,
    /// The resident still needs an answer: on top of the queue.
    FollowUpYes,
    /// The resident no longer needs an answer: resolved.
    FollowUpNo,
    /// Another message while the follow-up waited: treated as "yes".
    FollowUpOther,
    /// Nothing to act on (no words, no media), or a follow-up that is no longer needed.
    Ignored,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Faq => "faq",
            Outcome::Clarify => "clarify",
            Outcome::PrivacyRedirect => "privacy_redirect",
            Outcome::Handover => "handover",
            Outcome::ToAgent => "to_agent",
            Outcome::FollowUp => "follow_up",
            Outcome::FollowUpBlocked => "follow_up_blocked",
            Outcome::FollowUpYes => "follow_up_yes",
            Outcome::FollowUpNo => "follow_up_no",
            Outcome::FollowUpOther => "follow_up_other",
            Outcome::Ignored => "ignored",
        }
    }

    /// Every outcome, for parsing and reports.
    pub const ALL: [Outcome; 11] = [
        Outcome::Faq,
        Outcome::Clarify,
        Outcome::PrivacyRedirect,
        Outcome::Handover,
        Outcome::ToAgent,
        Outcome::FollowUp,
        Outcome::FollowUpBlocked,
        Outcome::FollowUpYes,
        Outcome::FollowUpNo,
        Outcome::FollowUpOther,
        Outcome::Ignored,
    ];

    /// The outcome stored as `s` ([`Outcome::as_str`]), if any.
    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// A reply button as sent to WhatsApp.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyButton {
    /// The payload WhatsApp sends back when it is tapped.
    pub id: String,
    pub title: String,
}

/// One outbound message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reply {
    /// Free text (inside the 24-hour window), with optional reply buttons.
    Text {
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        buttons: Vec<ReplyButton>,
    },
    /// An approved template (outside the 24-hour window).
    Template {
        name: String,
        language: String,
        parameters: Vec<String>,
    },
}

impl Reply {
    /// The text a person reads (a template shows as its name and parameters).
    pub fn display(&self) -> String {
        match self {
            Reply::Text { text, .. } => text.clone(),
            Reply::Template {
                name, parameters, ..
            } => format!("[template {name}: {}]", parameters.join(" | ")),
        }
    }
}

/// A detected piece of personal data, as it may be shown (masked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingSummary {
    pub detector: String,
    pub label: String,
    pub masked: String,
}

/// Why the engine decided what it did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// Each stage's finding, in order, as data ([`Step`] reads in English and in Dutch).
    pub steps: Vec<Step>,
    /// FAQ topics that matched something, best first.
    #[serde(default)]
    pub candidates: Vec<Candidate>,
    /// Routing rules that matched something (for handovers), best first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routing: Vec<Candidate>,
}

/// How many of the topics and routing rules that matched are kept with a stored decision: the
/// winner and its nearest rivals are what agents and editors look at.
pub const KEPT_CANDIDATES: usize = 3;

/// What the store keeps of a decision: why it was made, compactly. The outcome, topic and
/// department are columns of their own, the replies are messages, the state is the
/// conversation's, and the masked text is the message's; none of them is kept twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reasons {
    /// Whether the office was open at the message's time.
    pub open: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<FindingSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up_at: Option<DateTime<FixedOffset>>,
    /// The steps, and the best [`KEPT_CANDIDATES`] topics and routing rules.
    pub trace: Trace,
}

/// What happens to a message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub outcome: Outcome,
    pub topic: Option<String>,
    /// With [`Outcome::Clarify`]: the topics offered, best first.
    pub options: Vec<String>,
    /// Whether the office was open at the message's time.
    pub open: bool,
    pub replies: Vec<Reply>,
    pub links: Vec<LinkDef>,
    pub department: Option<String>,
    /// When to ask the follow-up question (local time of the office).
    pub follow_up_at: Option<DateTime<FixedOffset>>,
    /// The message with personal data masked: the only form that may be stored or shown.
    pub redacted_text: String,
    pub findings: Vec<FindingSummary>,
    /// The conversation's state after this message.
    pub state: ConversationState,
    /// The language the replies are meant for: the message's (or, for the follow-up, the
    /// conversation's).
    pub language: Language,
    pub trace: Trace,
    /// A reply went in Dutch for want of a translation into `language`.
    #[serde(skip)]
    untranslated: bool,
}

impl Decision {
    /// What the store keeps of this decision.
    pub fn reasons(&self) -> Reasons {
        let keep = |c: &[Candidate]| c.iter().take(KEPT_CANDIDATES).cloned().collect();
        Reasons {
            open: self.open,
            findings: self.findings.clone(),
            follow_up_at: self.follow_up_at,
            trace: Trace {
                steps: self.trace.steps.clone(),
                candidates: keep(&self.trace.candidates),
                routing: keep(&self.trace.routing),
            },
        }
    }

    /// The replies as the resident receives them: the topic's links written under the first
    /// answer (a link the text names already, like the privacy reply's `{url}`, is not repeated).
    /// The processor stores these; the editors' "try a message" shows them.
    pub fn replies_with_links(&self) -> Vec<Reply> {
        let mut replies = self.replies.clone();
        if let Some(Reply::Text { text, .. }) = replies.first_mut() {
            let links: Vec<_> = self
                .links
                .iter()
                .filter(|l| !text.contains(&l.url))
                .collect();
            if !links.is_empty() {
                text.push('\n');
                for l in links {
                    text.push_str(&format!("\n🔗 {}: {}", l.title, l.url));
                }
            }
        }
        replies
    }
}

/// The findings as they may be kept and shown: masked.
pub fn summarize(findings: &[crate::privacy::Finding]) -> Vec<FindingSummary> {
    findings
        .iter()
        .map(|f| FindingSummary {
            detector: f.detector.clone(),
            label: f.label.clone(),
            masked: f.masked.clone(),
        })
        .collect()
}

/// Decides what happens to `message` in a conversation in `state`, at `now`.
pub fn decide(
    flows: &FlowSet,
    state: &ConversationState,
    message: &Message,
    now: DateTime<Utc>,
) -> Decision {
    let mut d = decide_in_dutch_or_not(flows, state, message, now);
    untranslated_line(flows, &mut d);
    d
}

/// After the replies, the line in the resident's language that a person can help, when one of
/// them is Dutch for want of a translation (and the flows declare the language).
fn untranslated_line(flows: &FlowSet, d: &mut Decision) {
    if !d.untranslated || d.replies.is_empty() {
        return;
    }
    d.trace.steps.push(Step::Untranslated {
        language: d.language,
    });
    if let Some(entry) = flows.language(d.language) {
        d.replies.push(Reply::Text {
            text: render(&entry.untranslated, &vars(flows, &d.state, None)),
            buttons: Vec::new(),
        });
    }
}

fn decide_in_dutch_or_not(
    flows: &FlowSet,
    state: &ConversationState,
    message: &Message,
    now: DateTime<Utc>,
) -> Decision {
    let open = flows.office.is_open(now);
    let mut st = state.clone();
    st.last_inbound_at = Some(message.sent_at.map_or(now, |t| t.min(now)));
    let mut d = Decision {
        outcome: Outcome::Ignored,
        topic: None,
        options: Vec::new(),
        open,
        replies: Vec::new(),
        links: Vec::new(),
        department: state.department.clone(),
        follow_up_at: None,
        redacted_text: String::new(),
        findings: Vec::new(),
        state: ConversationState::default(),
        language: Language::Nl,
        trace: Trace::default(),
        untranslated: false,
    };
    d.trace.steps.push(if open {
        Step::Open
    } else {
        Step::Closed {
            opens: flows
                .office
                .next_opening(now)
                .map(|next| next.with_timezone(&flows.office.timezone()).fixed_offset()),
        }
    });

    // 1. Privacy first: nothing below sees the raw text.
    match &message.masked {
        // Masked when it arrived (the service stores nothing else): use what was found then.
        Some(findings) => {
            d.redacted_text = message.text.clone();
            d.findings = findings.clone();
        }
        None => {
            let redaction = flows.privacy.redact(&message.text);
            d.redacted_text = redaction.text;
            d.findings = summarize(&redaction.findings);
        }
    }
    let norm = normalize(&d.redacted_text);
    let plain = normalize_for_patterns(&d.redacted_text);
    let text = Text {
        norm: &norm,
        plain: &plain,
    };
    if !d.findings.is_empty() {
        privacy_redirect(flows, &mut st, text, &mut d);
        d.state = st;
        return d;
    }
    d.trace.steps.push(Step::NothingFound);

    // 2. The conversation's state.
    match st.phase {
        Phase::WithAgent => {
            d.outcome = Outcome::ToAgent;
            d.trace.steps.push(Step::WithAgent);
            let found = flows.detector.detect(&d.redacted_text, &[], state.language);
            speak(&mut st, &mut d, found);
            d.state = st;
            return d;
        }
        Phase::Queued => {
            d.outcome = Outcome::ToAgent;
            d.trace.steps.push(Step::Queued);
            let found = flows.detector.detect(&d.redacted_text, &[], state.language);
            speak(&mut st, &mut d, found);
            if !open {
                out_of_hours(flows, &mut st, now, &mut d);
            } else {
                queued_note(flows, &mut st, &mut d);
            }
            d.state = st;
            return d;
        }
        Phase::AwaitingFollowUp => {
            let expired = st.follow_up_sent_at.is_some_and(|sent| {
                now - sent > Duration::hours(i64::from(flows.follow_up.def.wait_hours))
            });
            if expired {
                d.trace.steps.push(Step::FollowUpExpired);
                let found = flows.detector.detect(&d.redacted_text, &[], state.language);
                speak(&mut st, &mut d, found);
                st.phase = Phase::Queued;
                d.outcome = Outcome::ToAgent;
                if !open {
                    out_of_hours(flows, &mut st, now, &mut d);
                } else {
                    queued_note(flows, &mut st, &mut d);
                }
                d.state = st;
                return d;
            }
            follow_up_answer(flows, &mut st, message, &norm, &mut d);
            d.state = st;
            return d;
        }
        Phase::Resolved => {
            d.trace.steps.push(Step::Reopened);
            st.phase = Phase::Bot;
        }
        Phase::Bot => {}
    }

    // 3. A tapped button does what it says, in the conversation's language (its title says
    // nothing new about the resident's).
    if let Some(payload) = &message.button {
        speak(&mut st, &mut d, previous(state));
        if let Some(id) = payload.strip_prefix(PAYLOAD_TOPIC) {
            if let Some(i) = flows.topic_index(id) {
                d.trace.steps.push(Step::ButtonTopic { topic: id.into() });
                let t = &flows.topics[i as usize];
                if t.handover {
                    let to = t.department.map(Destination::Topic);
                    handover(flows, &mut st, now, text, to, &mut d);
                } else {
                    answer(flows, &st, i, &norm, &mut d);
                }
                d.state = st;
                return d;
            }
        }
        if let Some(topic) = payload.strip_prefix(PAYLOAD_HANDOVER) {
            d.trace.steps.push(Step::ButtonPerson);
            let to = flows
                .topic_index(topic)
                .and_then(|i| flows.topics[i as usize].department)
                .map(Destination::Topic);
            handover(flows, &mut st, now, text, to, &mut d);
            d.state = st;
            return d;
        }
        if let Some(department) = payload.strip_prefix(PAYLOAD_DEPARTMENT) {
            // The question back's person button: where the question asked about routes (the
            // button's own words say nothing of it). A department gone since routes anew.
            d.trace.steps.push(Step::ButtonPerson);
            let to = flows.department_index(department).map(Destination::Asked);
            handover(flows, &mut st, now, text, to, &mut d);
            d.state = st;
            return d;
        }
    }

    // 4. Media without words go to a person, with a note.
    if norm.is_empty() {
        speak(&mut st, &mut d, previous(state));
        if let Some(kind) = &message.media {
            d.trace.steps.push(Step::Media { kind: kind.clone() });
            let translated = flows
                .handover
                .translations
                .get(d.language.code())
                .and_then(|t| t.media.as_deref());
            if let Some(dutch) = &flows.handover.media {
                let text = in_language(&mut d, dutch, translated);
                d.replies.push(Reply::Text {
                    text: render(text, &vars(flows, &st, None)),
                    buttons: Vec::new(),
                });
            }
            handover(flows, &mut st, now, text, None, &mut d);
        } else {
            d.trace.steps.push(Step::NoWords);
            d.outcome = Outcome::Ignored;
        }
        d.state = st;
        return d;
    }

    // 5. FAQ topics: answer the best, ask when unsure, or hand a question for a person over.
    let (candidates, winner) = rank(
        flows,
        &flows.topic_matcher,
        text,
        Target::Topic,
        &mut d.trace,
    );
    let found = detect(flows, &d.redacted_text, &candidates, state.language);
    speak(&mut st, &mut d, found);
    d.trace.candidates = candidates;
    let routed = || {
        ranking::rank(&flows.route_matcher, None, text, |_| String::new(), |_| 0)
            .winner
            .is_some()
    };
    match choose(flows, &d.trace.candidates, winner, routed) {
        Choice::Answer(i) => {
            resembles(&mut d.trace);
            let t = &flows.topics[i as usize];
            if t.handover {
                d.trace.steps.push(Step::PersonTopic {
                    topic: t.id.clone(),
                });
                d.topic = Some(t.id.clone());
                let to = t.department.map(Destination::Topic);
                handover(flows, &mut st, now, text, to, &mut d);
            } else {
                answer(flows, &st, i, &norm, &mut d);
            }
            d.state = st;
            return d;
        }
        Choice::Ask {
            options,
            score,
            close_to,
        } => {
            resembles(&mut d.trace);
            let ask = Ask {
                options: &options,
                score,
                close_to,
            };
            clarify(flows, &st, text, ask, &mut d);
            d.state = st;
            return d;
        }
        Choice::TooWeak(i, score) => d.trace.steps.push(Step::TooWeak {
            topic: flows.topics[i as usize].id.clone(),
            score,
        }),
        Choice::Routed(i) => d.trace.steps.push(Step::RoutingNamesIt {
            topic: flows.topics[i as usize].id.clone(),
        }),
        Choice::Nothing => {}
    }
    d.trace.steps.push(Step::NoTopic);

    // 6. Everything else goes to a person.
    handover(flows, &mut st, now, text, None, &mut d);
    d.state = st;
    d
}

/// The follow-up question at the next opening, for a conversation whose follow-up is due, as
/// the channel's `policy` allows: free text with Ja/Nee buttons inside its reply window (or
/// always, on a channel without one); outside it the template where the channel has templates,
/// and else no question but the conversation on top of its queue, for a person.
pub fn follow_up(
    flows: &FlowSet,
    state: &ConversationState,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Decision {
    let mut st = state.clone();
    let mut d = Decision {
        outcome: Outcome::FollowUp,
        topic: None,
        options: Vec::new(),
        open: flows.office.is_open(now),
        replies: Vec::new(),
        links: Vec::new(),
        department: st.department.clone(),
        follow_up_at: None,
        redacted_text: String::new(),
        findings: Vec::new(),
        state: ConversationState::default(),
        language: st.language.unwrap_or_default(),
        trace: Trace::default(),
        untranslated: false,
    };
    if st.phase != Phase::Queued || st.follow_up_at.is_none() {
        d.outcome = Outcome::Ignored;
        d.trace
            .steps
            .push(Step::FollowUpNotNeeded { phase: st.phase });
        st.follow_up_at = None;
        d.state = st;
        return d;
    }
    let f = &flows.follow_up.def;
    let v = vars(flows, &st, None);
    // Free text only with an hour of the window to spare: a retry (rate limits) or the agent's
    // answer to "Ja" must still fit in it.
    let within = match policy.window {
        None => true,
        Some(window) => st
            .last_inbound_at
            .is_some_and(|t| now - t < window - FOLLOW_UP_MARGIN),
    };
    if !within && policy.outside_window != Some(OutsideWindow::Templates) {
        d.outcome = Outcome::FollowUpBlocked;
        let tz = flows.office.timezone();
        d.trace.steps.push(Step::FollowUpWindowClosed {
            channel: policy.title.to_string(),
            agent_until: policy
                .last_reply_at(st.last_inbound_at)
                .filter(|t| *t > now)
                .map(|t| t.with_timezone(&tz).fixed_offset()),
        });
        st.follow_up_at = None;
        st.follow_up_asked = true;
        st.on_top = true;
        d.state = st;
        return d;
    }
    let spoken = previous(&st);
    d.trace.steps.push(Step::Language {
        language: spoken.language,
        why: spoken.why,
    });
    let tr = f.translations.get(d.language.code());
    if within {
        d.trace.steps.push(Step::FollowUpText);
        let text = in_language(&mut d, &f.text, tr.and_then(|t| t.text.as_deref()));
        let yes = tr
            .and_then(|t| t.yes_button.as_ref())
            .unwrap_or(&f.yes_button);
        let no = tr
            .and_then(|t| t.no_button.as_ref())
            .unwrap_or(&f.no_button);
        d.replies.push(Reply::Text {
            text: render(text, &v),
            buttons: vec![
                ReplyButton {
                    id: PAYLOAD_YES.into(),
                    title: yes.clone(),
                },
                ReplyButton {
                    id: PAYLOAD_NO.into(),
                    title: no.clone(),
                },
            ],
        });
    } else {
        // Outside the window only the template may go, in its language.
        let template = tr.and_then(|t| t.template.as_ref()).unwrap_or(&f.template);
        d.trace.steps.push(Step::FollowUpTemplate {
            template: template.name.clone(),
        });
        d.replies.push(follow_up_template(flows, &st));
    }
    st.phase = Phase::AwaitingFollowUp;
    st.follow_up_at = None;
    st.follow_up_sent_at = Some(now);
    st.follow_up_asked = true;
    d.state = st;
    if within {
        // Free text may go: the line that a person can help, where the question is Dutch.
        untranslated_line(flows, &mut d);
    }
    d
}

/// The follow-up question as the flows' approved template, with its parameters filled in for
/// this conversation: what goes out when the 24-hour window is closed.
/// The template is the one approved in the conversation's language where the flows name one.
pub fn follow_up_template(flows: &FlowSet, state: &ConversationState) -> Reply {
    let f = &flows.follow_up.def;
    let t = state
        .language
        .and_then(|l| f.translations.get(l.code()))
        .and_then(|t| t.template.as_ref())
        .unwrap_or(&f.template);
    let v = vars(flows, state, None);
    Reply::Template {
        name: t.name.clone(),
        language: t.language.clone(),
        parameters: t.parameters.iter().map(|p| render(p, &v)).collect(),
    }
}

fn privacy_redirect(flows: &FlowSet, st: &mut ConversationState, text: Text<'_>, d: &mut Decision) {
    let labels: Vec<String> = {
        let mut l: Vec<String> = d.findings.iter().map(|f| f.label.clone()).collect();
        l.dedup();
        l
    };
    d.trace.steps.push(Step::Found {
        found: d
            .findings
            .iter()
            .map(|f| Found {
                detector: f.detector.clone(),
                masked: f.masked.clone(),
            })
            .collect(),
    });
    let mut scratch = Trace::default();
    let (candidates, winner) = rank(
        flows,
        &flows.topic_matcher,
        text,
        Target::Topic,
        &mut scratch,
    );
    // The secure page follows the topic the message names in its own words, not a look-alike.
    let winner = winner.filter(|_| candidates.first().is_some_and(|c| !c.matched.is_empty()));
    let found = detect(flows, &d.redacted_text, &candidates, st.language);
    speak(st, d, found);
    // The privacy reply is Dutch (the rules have it once); the line follows it.
    d.untranslated = d.language != Language::Nl;
    d.trace.candidates = candidates;
    let page = winner
        .and_then(|i| {
            d.topic = Some(flows.topics[i as usize].id.clone());
            flows.privacy_page_by_topic.get(&i)
        })
        .unwrap_or(&flows.default_page);
    d.trace.steps.push(Step::PrivacyPage {
        topic: d
            .topic
            .clone()
            .filter(|_| flows.privacy_page_by_topic.values().any(|p| p == page)),
    });
    let mut v = vars(flows, st, None);
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    v.push(("label", join_dutch(&labels)));
    v.push(("title", page.title.clone()));
    v.push(("url", page.url.clone()));
    d.replies.push(Reply::Text {
        text: render(&flows.privacy_reply, &v),
        buttons: Vec::new(),
    });
    d.links.push(page.clone());
    d.outcome = Outcome::PrivacyRedirect;
    if st.phase == Phase::Resolved {
        st.phase = Phase::Bot;
    }
}

fn follow_up_answer(
    flows: &FlowSet,
    st: &mut ConversationState,
    message: &Message,
    norm: &str,
    d: &mut Decision,
) {
    let f = &flows.follow_up;
    // The yes and no words of each language that occur are evidence of the language; that
    // language's words then decide.
    let occurs = |yes: &[String], no: &[String]| {
        [yes, no]
            .iter()
            .any(|w| starts_with_any(norm, w) || contains_any(norm, w))
    };
    let mut votes: Vec<Language> = Vec::new();
    if occurs(&f.yes_words, &f.no_words) {
        votes.push(Language::Nl);
    }
    for (l, yes, no) in &f.words_in {
        if occurs(yes, no) {
            votes.push(*l);
        }
    }
    let found = if message.button.is_some() {
        previous(st)
    } else {
        flows.detector.detect(&d.redacted_text, &votes, st.language)
    };
    speak(st, d, found);
    let (yes_words, no_words) = f.words(d.language);
    // A word at the start decides ("ja, maar het is nog niet gelukt"); otherwise a word anywhere,
    // unless both kinds occur.
    let (starts_yes, starts_no) = (
        starts_with_any(norm, yes_words),
        starts_with_any(norm, no_words),
    );
    let (has_yes, has_no) = (contains_any(norm, yes_words), contains_any(norm, no_words));
    let button = message.button.as_deref();
    let yes = button == Some(PAYLOAD_YES) || starts_yes || (!starts_no && has_yes && !has_no);
    let no = button == Some(PAYLOAD_NO) || (!yes && (starts_no || has_no));
    let v = vars(flows, st, None);
    let tr = f.def.translations.get(d.language.code());
    st.follow_up_sent_at = None;
    if no {
        d.outcome = Outcome::FollowUpNo;
        d.trace.steps.push(Step::FollowUpNo);
        let text = in_language(d, &f.def.no_reply, tr.and_then(|t| t.no_reply.as_deref()));
        d.replies.push(Reply::Text {
            text: render(text, &v),
            buttons: Vec::new(),
        });
        st.phase = Phase::Resolved;
        st.on_top = false;
        return;
    }
    d.outcome = if yes {
        d.trace.steps.push(Step::FollowUpYes);
        Outcome::FollowUpYes
    } else {
        d.trace.steps.push(Step::FollowUpOther);
        Outcome::FollowUpOther
    };
    let text = in_language(d, &f.def.yes_reply, tr.and_then(|t| t.yes_reply.as_deref()));
    d.replies.push(Reply::Text {
        text: render(text, &v),
        buttons: Vec::new(),
    });
    st.phase = Phase::Queued;
    st.on_top = true;
}

/// Whether `norm` starts with one of `words` as whole words.
fn starts_with_any(norm: &str, words: &[String]) -> bool {
    words.iter().any(|w| {
        norm.strip_prefix(w.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
    })
}

/// Whether `norm` holds one of `words` as whole words, not right after a negation
/// ("het is al gelukt" holds `gelukt`, "het is nog niet gelukt" does not).
fn contains_any(norm: &str, words: &[String]) -> bool {
    words.iter().filter(|w| !w.is_empty()).any(|w| {
        let mut from = 0;
        while let Some(i) = norm[from..].find(w.as_str()).map(|i| i + from) {
            let end = i + w.len();
            let whole = (i == 0 || norm.as_bytes()[i - 1] == b' ')
                && (end == norm.len() || norm.as_bytes()[end] == b' ');
            let negated = ["niet ", "geen ", "nooit ", "not ", "never ", "nie ", "не "]
                .iter()
                .any(|n| norm[..i].ends_with(n));
            if whole && !negated {
                return true;
            }
            from = end;
        }
        false
    })
}

/// How much of its own keywords and phrases a question for a person must match (a phrase, or
/// two keywords) to win over the FAQ topic it mentions.
const PERSON_TERMS: f32 = 3.0;

/// What the ranking leads to.
enum Choice {
    Answer(u32),
    Ask {
        options: Vec<u32>,
        score: f32,
        close_to: Option<f32>,
    },
    TooWeak(u32, f32),
    /// Only resembled, while a routing rule names the subject: for a person.
    Routed(u32),
    Nothing,
}

/// Answer the winner, or, with `clarify:` in the flows: hand over when only a weak resemblance
/// points to a topic while a routing rule names the subject (`routed`); answer the topic whose own phrase or
/// pattern matched and whose terms clearly win; else, on the whole score (terms and resemblance), answer the best,
/// ask when the runner-up comes too close or the best is weak, and give up when it is weaker
/// still.
fn choose(
    flows: &FlowSet,
    candidates: &[Candidate],
    winner: Option<u32>,
    routed: impl Fn() -> bool,
) -> Choice {
    let Some(w) = winner else {
        return Choice::Nothing;
    };
    // A question for a person that names its own words wins over the FAQ it mentions: "is my
    // application for a parking permit approved yet" is about one's own case, not the permit.
    let person = candidates.iter().filter(|c| c.in_running()).find(|c| {
        c.matched.iter().map(|m| m.weight).sum::<f32>() >= PERSON_TERMS
            && flows
                .topic_index(&c.id)
                .is_some_and(|i| flows.topics[i as usize].handover)
    });
    if let Some(i) = person.and_then(|c| flows.topic_index(&c.id)) {
        return Choice::Answer(i);
    }
    // Without `clarify:` the editors set no bar for resemblance alone: the best topic that
    // matched some of its own words answers, as keywords always did.
    let Some(cl) = &flows.clarify else {
        return candidates
            .iter()
            .find(|c| c.in_running() && !c.matched.is_empty())
            .and_then(|c| flows.topic_index(&c.id))
            .map_or(Choice::Nothing, Choice::Answer);
    };
    // The editors' strongest words first: a topic whose phrase or pattern matched, with terms
    // that clearly beat every other topic's, answers whatever the resemblance says.
    let terms = |c: &Candidate| c.matched.iter().map(|m| m.weight).sum::<f32>();
    let strong = |c: &Candidate| {
        c.matched
            .iter()
            .any(|m| matches!(m.kind, TermKind::Phrase | TermKind::Pattern))
    };
    let running = || candidates.iter().filter(|c| c.in_running());
    if let Some(k) = running().max_by(|a, b| terms(a).total_cmp(&terms(b))) {
        let clear = strong(k)
            && running()
                .filter(|c| c.id != k.id)
                .all(|c| terms(c) < terms(k) * cl.close);
        if let Some(i) = flows.topic_index(&k.id).filter(|_| clear) {
            return Choice::Answer(i);
        }
    }
    if flows.topics[w as usize].handover
        && candidates
            .first()
            .is_some_and(|b| b.score >= cl.answer_from)
    {
        return Choice::Answer(w);
    }
    let (Some(best), second) = (
        candidates.first(),
        candidates.get(1).filter(|c| c.in_running()),
    ) else {
        return Choice::Answer(w);
    };
    // A topic's own words with no other topic in sight: it answers, however few (a keyword
    // inside a word of another language, `rijbewijsimi`, is still the driving licence).
    if second.is_none() && !best.matched.is_empty() {
        return Choice::Answer(w);
    }
    if best.score < cl.ask_from {
        return Choice::TooWeak(w, best.score);
    }
    // Weak, no topic's own words, but a routing rule's: the editors named this subject as one
    // for a department ("wmo", "leerplicht"), so a person, not a question about a look-alike.
    if best.matched.is_empty() && best.score < cl.answer_from && routed() {
        return Choice::Routed(w);
    }
    let close = second.filter(|s| s.score >= best.score * cl.close);
    if best.score >= cl.answer_from && close.is_none() {
        return Choice::Answer(w);
    }
    let runner_up = close
        .or(second.filter(|s| s.score >= cl.ask_from))
        .and_then(|s| flows.topic_index(&s.id));
    let options: Vec<u32> = std::iter::once(w)
        .chain(runner_up)
        .filter(|&i| !flows.topics[i as usize].handover)
        .collect();
    if options.is_empty() {
        // Only questions for a person came close: a person it is.
        return Choice::Answer(w);
    }
    Choice::Ask {
        options,
        score: best.score,
        close_to: close.map(|c| c.score),
    }
}

/// Names, for the trace, what the resemblance added to the best topic, when it added anything.
fn resembles(trace: &mut Trace) {
    let Some(c) = trace.candidates.first() else {
        return;
    };
    if let Some(s) = &c.similar {
        if s.words.is_empty() {
            return;
        }
        trace.steps.push(Step::Resembles {
            topic: c.id.clone(),
            words: s
                .words
                .iter()
                .take(5)
                .map(|w| match &w.as_word {
                    Some(a) => format!("{}~{a} ({:.1})", w.word, w.weight),
                    None => format!("{} ({:.1})", w.word, w.weight),
                })
                .collect(),
            example: s.example.clone().filter(|_| s.overlap >= 0.3),
        });
    }
}

/// What the question back asks about: the topics offered, best first, and the scores.
struct Ask<'a> {
    options: &'a [u32],
    score: f32,
    close_to: Option<f32>,
}

/// The question back: which of the options the resident means, or a person. The person button
/// carries the department the question itself routes to.
fn clarify(
    flows: &FlowSet,
    st: &ConversationState,
    text: Text<'_>,
    ask: Ask<'_>,
    d: &mut Decision,
) {
    let Ask {
        options,
        score,
        close_to,
    } = ask;
    let Some(cl) = &flows.clarify else { return };
    let topics: Vec<&crate::flows::Topic> =
        options.iter().map(|&i| &flows.topics[i as usize]).collect();
    let language = d.language;
    let translated =
        |t: &crate::flows::Topic| t.in_language(language).and_then(|tr| tr.title.clone());
    let titles: Vec<String> = topics
        .iter()
        .map(|t| {
            translated(t)
                .or_else(|| t.title.clone())
                .unwrap_or_else(|| t.id.clone())
        })
        .collect();
    let tr = cl.translations.get(language.code());
    let question = in_language(d, &cl.text, tr.and_then(|t| t.text.as_deref()));
    let person = tr
        .and_then(|t| t.person_button.clone())
        .unwrap_or_else(|| cl.person_button.clone());
    let mut v = vars(flows, st, None);
    // "A, of over B": titles often hold an "of" of their own; other languages join with a comma.
    let joint = if language == Language::Nl {
        ", of over "
    } else {
        " / "
    };
    v.push(("options", titles.join(joint)));
    let mut buttons: Vec<ReplyButton> = topics
        .iter()
        .map(|t| ReplyButton {
            id: format!("{PAYLOAD_TOPIC}{}", t.id),
            // A translated title names the button where it fits on one.
            title: translated(t)
                .filter(|s| s.chars().count() <= crate::flows::BUTTON_TITLE_CHARS)
                .unwrap_or_else(|| t.button_title.clone()),
        })
        .collect();
    let mut trace = Trace::default();
    let (_, route) = rank(flows, &flows.route_matcher, text, Target::Route, &mut trace);
    let department = route.map_or(flows.default_department, |r| flows.routes[r as usize]);
    buttons.push(ReplyButton {
        id: format!(
            "{PAYLOAD_DEPARTMENT}{}",
            flows.departments[department as usize].id
        ),
        title: person,
    });
    d.trace.steps.push(Step::Clarify {
        options: topics.iter().map(|t| t.id.clone()).collect(),
        score,
        close_to,
    });
    d.replies.push(Reply::Text {
        text: render(question, &v),
        buttons,
    });
    d.options = topics.iter().map(|t| t.id.clone()).collect();
    d.outcome = Outcome::Clarify;
}

fn answer(flows: &FlowSet, st: &ConversationState, i: u32, norm: &str, d: &mut Decision) {
    let t = &flows.topics[i as usize];
    let tr = t.in_language(d.language);
    if tr.is_none() && d.language != Language::Nl {
        d.untranslated = true;
    }
    let answers = tr.map_or(&t.answers, |tr| &tr.answers);
    let n = answers.len().max(1) as u64;
    let pick = (fnv1a(norm.as_bytes()) % n) as usize;
    let text = answers.get(pick).cloned().unwrap_or_default();
    d.trace.steps.push(Step::Answer {
        topic: t.id.clone(),
        origin: t.origin.to_string(),
        variation: (answers.len() > 1).then_some(pick as u32 + 1),
        of: answers.len().max(1) as u32,
    });
    // A translation names the titles of the topic's own links and buttons, in their order.
    let title = |titles: Option<&Vec<String>>, j: usize, dutch: &str| {
        titles
            .and_then(|titles| titles.get(j))
            .map_or_else(|| dutch.to_string(), Clone::clone)
    };
    let buttons = t
        .buttons
        .iter()
        .enumerate()
        .map(|(j, b)| ReplyButton {
            id: match b.action {
                ButtonAction::Topic(j) => format!("{PAYLOAD_TOPIC}{}", flows.topics[j as usize].id),
                ButtonAction::Handover => format!("{PAYLOAD_HANDOVER}{}", t.id),
            },
            title: title(tr.map(|tr| &tr.button_titles), j, &b.title),
        })
        .collect();
    d.replies.push(Reply::Text {
        text: render(&text, &vars(flows, st, None)),
        buttons,
    });
    d.links = t
        .links
        .iter()
        .enumerate()
        .map(|(j, l)| LinkDef {
            title: title(tr.map(|tr| &tr.link_titles), j, &l.title),
            url: l.url.clone(),
        })
        .collect();
    d.topic = Some(t.id.clone());
    d.outcome = Outcome::Faq;
}

/// A department a handover goes to without routing its own text.
#[derive(Clone, Copy)]
enum Destination {
    /// The department of the topic whose button asked for a person, or that only a person
    /// answers.
    Topic(u32),
    /// Where the question that was asked back routed to.
    Asked(u32),
}

fn handover(
    flows: &FlowSet,
    st: &mut ConversationState,
    now: DateTime<Utc>,
    text: Text<'_>,
    forced: Option<Destination>,
    d: &mut Decision,
) {
    let dept = match forced {
        Some(Destination::Topic(i)) => {
            d.trace.steps.push(Step::RouteTopic {
                department: flows.departments[i as usize].id.clone(),
            });
            i
        }
        Some(Destination::Asked(i)) => {
            d.trace.steps.push(Step::RouteAsked {
                department: flows.departments[i as usize].id.clone(),
            });
            i
        }
        None => {
            let mut trace = Trace::default();
            let (routing, winner) =
                rank(flows, &flows.route_matcher, text, Target::Route, &mut trace);
            d.trace.routing = routing;
            match winner {
                Some(r) => {
                    let i = flows.routes[r as usize];
                    d.trace.steps.push(Step::RouteRule {
                        rule: r + 1,
                        department: flows.departments[i as usize].id.clone(),
                    });
                    i
                }
                None => {
                    d.trace.steps.push(Step::RouteDefault {
                        department: flows.default_department().id.clone(),
                    });
                    flows.default_department
                }
            }
        }
    };
    let department = &flows.departments[dept as usize];
    st.phase = Phase::Queued;
    st.department = Some(department.id.clone());
    st.on_top = false;
    st.follow_up_asked = false;
    st.queued_note_sent = false;
    d.department = Some(department.id.clone());
    d.outcome = Outcome::Handover;
    if d.open {
        d.trace.steps.push(Step::HandoverOpen);
        let translated = flows
            .handover
            .translations
            .get(d.language.code())
            .and_then(|t| t.open.as_deref());
        let text = in_language(d, &flows.handover.open, translated);
        d.replies.push(Reply::Text {
            text: render(text, &vars(flows, st, None)),
            buttons: Vec::new(),
        });
    } else {
        out_of_hours(flows, st, now, d);
    }
}

/// A resident who writes again while their question waits, in office hours: told once that a
/// person will read it (when the flows have `handover.queued`), then the bot stays quiet.
fn queued_note(flows: &FlowSet, st: &mut ConversationState, d: &mut Decision) {
    if let Some(dutch) = flows
        .handover
        .queued
        .as_ref()
        .filter(|_| !st.queued_note_sent)
    {
        d.trace.steps.push(Step::QueuedNote);
        let translated = flows
            .handover
            .translations
            .get(d.language.code())
            .and_then(|t| t.queued.as_deref());
        let text = in_language(d, dutch, translated);
        d.replies.push(Reply::Text {
            text: render(text, &vars(flows, st, None)),
            buttons: Vec::new(),
        });
        st.queued_note_sent = true;
    }
}

/// Out of hours: the reply once per closed period, and the follow-up at the next opening.
fn out_of_hours(flows: &FlowSet, st: &mut ConversationState, now: DateTime<Utc>, d: &mut Decision) {
    let next = flows.office.next_opening(now);
    let tz = flows.office.timezone();
    if next.is_some() && st.out_of_hours_reply_for == next {
        d.trace.steps.push(Step::OutOfHoursAgain);
    } else {
        d.trace.steps.push(Step::OutOfHoursReply);
        let translated = flows
            .handover
            .translations
            .get(d.language.code())
            .and_then(|t| t.closed.as_deref());
        // `{next_opening}` in the language of the text it goes into.
        let language = if translated.is_some() {
            d.language
        } else {
            Language::Nl
        };
        let when = match next {
            Some(n) if language == Language::Nl => format_dutch(n, tz),
            Some(n) => language.format_time(&n.with_timezone(&tz).fixed_offset()),
            None => language.as_soon_as_possible().to_string(),
        };
        let text = in_language(d, &flows.handover.closed, translated);
        d.replies.push(Reply::Text {
            text: render(text, &vars(flows, st, Some(when))),
            buttons: Vec::new(),
        });
        st.out_of_hours_reply_for = next;
    }
    if let Some(next) = next {
        // Asked once per handover: a resident who let it go unanswered, or said they still need
        // an answer, and writes again is not asked again.
        if st.follow_up_at.is_none()
            && st.phase == Phase::Queued
            && !st.on_top
            && !st.follow_up_asked
        {
            st.follow_up_at = Some(next);
        }
    }
    d.follow_up_at = st.follow_up_at.map(|t| t.with_timezone(&tz).fixed_offset());
    if let Some(t) = d.follow_up_at {
        d.trace.steps.push(Step::FollowUpAt { at: t });
    }
}

/// The language of the message from its text, the terms of `candidates` it matched, and the
/// conversation's language before it.
fn detect(
    flows: &FlowSet,
    text: &str,
    candidates: &[Candidate],
    previous: Option<Language>,
) -> Detection {
    let mut terms: Vec<&str> = Vec::new();
    let mut votes: Vec<Language> = Vec::new();
    for m in candidates.iter().flat_map(|c| &c.matched) {
        if terms.contains(&m.term.as_str()) {
            continue;
        }
        terms.push(&m.term);
        if let Some(langs) = flows.term_languages.get(&m.term) {
            votes.extend_from_slice(langs);
        }
    }
    flows.detector.detect(text, &votes, previous)
}

/// The conversation's language as it was (for a tapped button, media without words).
fn previous(state: &ConversationState) -> Detection {
    match state.language {
        Some(language) => Detection {
            language,
            why: Why::Previous,
        },
        None => Detection {
            language: Language::Nl,
            why: Why::Default,
        },
    }
}

/// The replies go in `found`'s language, which the conversation keeps.
fn speak(st: &mut ConversationState, d: &mut Decision, found: Detection) {
    d.language = found.language;
    st.language = Some(found.language).filter(|l| *l != Language::Nl);
    d.trace.steps.push(Step::Language {
        language: found.language,
        why: found.why,
    });
}

/// The text in the decision's language where the editors wrote it; else the Dutch one, and the
/// decision notes that the line that a person can help must follow.
fn in_language<'a>(d: &mut Decision, dutch: &'a str, translated: Option<&'a str>) -> &'a str {
    match translated {
        Some(t) => t,
        None => {
            if d.language != Language::Nl {
                d.untranslated = true;
            }
            dutch
        }
    }
}

/// Which kind of thing is ranked.
#[derive(Clone, Copy, PartialEq)]
enum Target {
    Topic,
    Route,
}

/// Ranks the targets of `matcher` ([`crate::ranking::rank`]) and writes what the ranking noticed
/// into `trace`: patterns that took too long, topics ruled out, and why the winner won.
fn rank(
    flows: &FlowSet,
    matcher: &Matcher,
    text: Text<'_>,
    target: Target,
    trace: &mut Trace,
) -> (Vec<Candidate>, Option<u32>) {
    let priority = |t: u32| match target {
        Target::Topic => flows.topics[t as usize].priority,
        Target::Route => 0,
    };
    let example = |t: u32, nth: u32| {
        flows.topics[t as usize]
            .examples
            .get(nth as usize)
            .cloned()
            .unwrap_or_default()
    };
    let resemblance = (target == Target::Topic).then_some(ranking::Resemblance {
        index: &flows.topic_similar,
        example: &example,
    });
    let r = ranking::rank(
        matcher,
        resemblance,
        text,
        |t| target_id(flows, target, t),
        priority,
    );
    for (t, pattern) in r.too_slow {
        trace.steps.push(Step::PatternTooSlow {
            pattern,
            of: target_id(flows, target, t),
        });
    }
    if target == Target::Topic {
        for c in r.candidates.iter().filter(|c| c.excluded_by.is_some()) {
            trace.steps.push(Step::RuledOut {
                topic: c.id.clone(),
                by: c.excluded_by.clone().unwrap_or_default(),
            });
        }
        if let (Some(why), [w, second, ..]) = (r.win, r.candidates.as_slice()) {
            trace.steps.push(Step::Wins {
                topic: w.id.clone(),
                score: w.score,
                over: second.id.clone(),
                over_score: second.score,
                why,
            });
        }
    }
    (r.candidates, r.winner)
}

fn target_id(flows: &FlowSet, target: Target, t: u32) -> String {
    match target {
        Target::Topic => flows.topics[t as usize].id.clone(),
        Target::Route => flows.departments[flows.routes[t as usize] as usize]
            .id
            .clone(),
    }
}

fn vars(
    flows: &FlowSet,
    st: &ConversationState,
    next_opening: Option<String>,
) -> Vec<(&'static str, String)> {
    let department = st
        .department
        .as_deref()
        .and_then(|id| flows.department_index(id))
        .map(|i| flows.departments[i as usize].name.clone())
        .unwrap_or_else(|| flows.default_department().name.clone());
    let mut v = vec![
        ("name", st.resident_name.clone().unwrap_or_default()),
        ("department", department),
    ];
    if let Some(n) = next_opening {
        v.push(("next_opening", n));
    }
    v
}

/// Fills in `{placeholders}`; an empty `{name}` leaves no stray space before punctuation.
pub fn render(template: &str, vars: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                let key = &after[..end];
                match vars.iter().find(|(k, _)| *k == key) {
                    Some((_, value)) => {
                        if value.is_empty() && out.ends_with(' ') {
                            out.pop();
                        }
                        out.push_str(value);
                    }
                    None => {
                        out.push('{');
                        out.push_str(key);
                        out.push('}');
                    }
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn join_dutch(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} en {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_placeholders_and_tidies_an_empty_name() {
        let v = vec![
            ("name", String::new()),
            ("department", "Burgerzaken".into()),
        ];
        assert_eq!(
            render("Hoi {name}! Dit is {department}.", &v),
            "Hoi! Dit is Burgerzaken."
        );
        let v = vec![("name", "Fatima".into())];
        assert_eq!(
            render("Hoi {name}, {onbekend} {", &v),
            "Hoi Fatima, {onbekend} {"
        );
    }

    #[test]
    fn joins_labels_in_dutch() {
        assert_eq!(
            join_dutch(&["BSN", "IBAN", "paspoortnummer"]),
            "BSN, IBAN en paspoortnummer"
        );
    }
}
