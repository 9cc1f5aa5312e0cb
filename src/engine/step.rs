//! One step of a decision's trace as data: what the stage found, with its values. The same step
//! reads in English on the command line (`triage try`, conversation tests) and in Dutch in the web
//! application, with topic titles and department names from the flows; the store keeps the data,
//! a few dozen bytes a step, never a sentence.

use std::fmt;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::calendar::format_dutch_local;
use crate::flows::FlowSet;
use crate::language::{Language, Why};
use crate::ranking::WinReason;

use super::Phase;

/// A masked value the privacy stage found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    pub detector: String,
    pub masked: String,
}

/// What one stage of [`decide`](super::decide) or [`follow_up`](super::follow_up) found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// The office is open at the message's time.
    Open,
    /// The office is closed; when it opens again (local time), if it does.
    Closed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        opens: Option<DateTime<FixedOffset>>,
    },
    /// The detectors found nothing.
    NothingFound,
    /// The language the replies are in, and why ([`crate::language`]).
    Language { language: Language, why: Why },
    /// A reply had no translation into `language`: Dutch, and the language's line that a person
    /// can help.
    Untranslated { language: Language },
    /// The detectors found personal data, masked before anything else.
    Found { found: Vec<Found> },
    /// The secure page of the privacy reply: the topic's own, or the general one.
    PrivacyPage {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        topic: Option<String>,
    },
    /// The conversation is with an agent: the bot does not answer.
    WithAgent,
    /// The conversation waits in a queue: the message is added to it.
    Queued,
    /// The resident wrote again while waiting: told once that a person will read it.
    QueuedNote,
    /// The follow-up question went unanswered too long: back in the queue.
    FollowUpExpired,
    /// A resolved conversation reopened by this message.
    Reopened,
    /// The resident tapped a button for a topic.
    ButtonTopic { topic: String },
    /// The resident tapped the button for a person.
    ButtonPerson,
    /// Media without words: a person takes it.
    Media { kind: String },
    /// A message without words or media.
    NoWords,
    /// An editor's pattern hit its backtracking limit.
    PatternTooSlow { pattern: String, of: String },
    /// A topic that matched but was ruled out by one of its exclusion words.
    RuledOut { topic: String, by: String },
    /// The winner against the runner-up, with their scores.
    Wins {
        topic: String,
        score: f32,
        over: String,
        over_score: f32,
        why: WinReason,
    },
    /// A topic answers (`variation` of `of` when it has several answers).
    Answer {
        topic: String,
        origin: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        variation: Option<u32>,
        #[serde(default = "one")]
        of: u32,
    },
    /// The nearest topic and the words and example that carried it (when more than its
    /// keywords did).
    Resembles {
        topic: String,
        words: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        example: Option<String>,
    },
    /// Unsure which topic is meant: asked, offering these topics and a person.
    Clarify {
        options: Vec<String>,
        /// The best score, and the runner-up's when the two were too close.
        score: f32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        close_to: Option<f32>,
    },
    /// The best topic was too weak to answer or ask about: to a person.
    TooWeak { topic: String, score: f32 },
    /// Only resemblance pointed to `topic`, and a routing rule names the subject: a person.
    RoutingNamesIt { topic: String },
    /// A topic only a person can answer matched: handed over.
    PersonTopic { topic: String },
    /// No topic matched.
    NoTopic,
    /// Routing: the department of the topic whose button asked for a person.
    RouteTopic { department: String },
    /// Routing: the department the question asked back routed to (its person button).
    RouteAsked { department: String },
    /// Routing: rule `rule` (1-based) picked the department.
    RouteRule { rule: u32, department: String },
    /// Routing: no rule matched, so the default department.
    RouteDefault { department: String },
    /// Handed over while open: a colleague answers within the hour.
    HandoverOpen,
    /// Out of hours, and the out-of-hours reply was already sent in this closed period.
    OutOfHoursAgain,
    /// Out of hours: the out-of-hours reply, once for this closed period.
    OutOfHoursReply,
    /// The follow-up is scheduled (local time).
    FollowUpAt { at: DateTime<FixedOffset> },
    /// The follow-up is not needed: where the conversation stands now.
    FollowUpNotNeeded { phase: Phase },
    /// The follow-up goes as text with buttons (the window has room).
    FollowUpText,
    /// The follow-up goes as the approved template (the window is closed or nearly).
    FollowUpTemplate { template: String },
    /// The channel's window is closed (or nearly) and the bot may not write outside it: no
    /// follow-up; the question goes on top of the queue for a person, who may answer until
    /// `agent_until` (none: until the resident writes again).
    FollowUpWindowClosed {
        channel: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent_until: Option<DateTime<FixedOffset>>,
    },
    /// The answer to the follow-up: no longer needed, resolved.
    FollowUpNo,
    /// The answer to the follow-up: still needed, on top of the queue.
    FollowUpYes,
    /// Another message instead of Ja/Nee: counted as yes.
    FollowUpOther,
}

fn one() -> u32 {
    1
}

/// The editors' language for the command line.
impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Open => write!(f, "office hours: open"),
            Step::Closed { opens: Some(at) } => write!(
                f,
                "office hours: closed, opens {}",
                format_dutch_local(at)
            ),
            Step::Closed { opens: None } => {
                write!(f, "office hours: closed, no opening in sight")
            }
            Step::NothingFound => write!(f, "privacy: nothing found"),
            Step::Language { language, why } => write!(
                f,
                "language: {} ({language}), {}",
                language.english_name(),
                match why {
                    Why::Script => "from its script",
                    Why::Keywords => "from the words that matched its keywords",
                    Why::Text => "from the text",
                    Why::CommonWords => "from its common Dutch words",
                    Why::Previous => "short or unsure, so the conversation's",
                    Why::Default => "short or unsure, so the default",
                }
            ),
            Step::Untranslated { language } => write!(
                f,
                "language: no {} translation, so Dutch and the line that a person can help",
                language.english_name()
            ),
            Step::Found { found } => write!(
                f,
                "privacy: found {}, masked before anything else",
                found
                    .iter()
                    .map(|v| format!("{} `{}`", v.detector, v.masked))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Step::PrivacyPage { topic: Some(t) } => {
                write!(f, "privacy: the message is about `{t}`, so its secure page")
            }
            Step::PrivacyPage { topic: None } => write!(
                f,
                "privacy: no topic with its own secure page, so the general page"
            ),
            Step::WithAgent => write!(f, "state: with an agent, so the bot does not answer"),
            Step::Queued => write!(
                f,
                "state: waiting in the queue of a department, added to it"
            ),
            Step::QueuedNote => write!(
                f,
                "state: told once that a colleague reads it (office open)"
            ),
            Step::FollowUpExpired => write!(
                f,
                "state: the follow-up question went unanswered too long; the conversation is in the queue"
            ),
            Step::Reopened => write!(f, "state: resolved, reopened by this message"),
            Step::ButtonTopic { topic } => {
                write!(f, "button: the resident tapped a button for topic `{topic}`")
            }
            Step::ButtonPerson => write!(f, "button: the resident asked for a person"),
            Step::Media { kind } => write!(
                f,
                "media: a {kind} without text; the bot cannot read it, so a person takes it"
            ),
            Step::NoWords => write!(f, "nothing to act on: the message has no words"),
            Step::PatternTooSlow { pattern, of } => write!(
                f,
                "pattern `{pattern}` of `{of}` took too long and counts as no match"
            ),
            Step::RuledOut { topic, by } => write!(f, "faq: topic `{topic}` ruled out by `{by}`"),
            Step::Wins {
                topic,
                score,
                over,
                over_score,
                why,
            } => write!(
                f,
                "faq: `{topic}` ({score:.1}) wins over `{over}` ({over_score:.1}): {}",
                match why {
                    WinReason::HigherScore => "higher score",
                    WinReason::MoreTerms => "same score, more matching terms",
                    WinReason::LongerTerm => "same score, longer matching term",
                    WinReason::HigherPriority => "same score, higher priority",
                    WinReason::DefinedEarlier => "same score, defined earlier",
                }
            ),
            Step::Answer {
                topic,
                origin,
                variation,
                of,
            } => {
                write!(f, "faq: topic `{topic}` ({origin}) answers")?;
                match variation {
                    Some(v) => write!(f, ", variation {v} of {of}"),
                    None => Ok(()),
                }
            }
            Step::Resembles {
                topic,
                words,
                example,
            } => {
                write!(f, "faq: `{topic}` resembles the message in {}", words.join(", "))?;
                match example {
                    Some(e) => write!(f, "; nearest example: \"{e}\""),
                    None => Ok(()),
                }
            }
            Step::Clarify {
                options,
                score,
                close_to,
            } => match close_to {
                Some(second) => write!(
                    f,
                    "faq: asked which is meant, {}: the scores {score:.1} and {second:.1} are too close",
                    options.join(" or ")
                ),
                None => write!(
                    f,
                    "faq: asked whether `{}` is meant: its score {score:.1} is too weak to answer outright",
                    options.join(" or ")
                ),
            },
            Step::TooWeak { topic, score } => write!(
                f,
                "faq: `{topic}` is the nearest, but its score {score:.1} is too weak to ask about"
            ),
            Step::PersonTopic { topic } => {
                write!(f, "faq: `{topic}` is for a person to answer")
            }
            Step::RoutingNamesIt { topic } => write!(
                f,
                "faq: only resemblance points to `{topic}`, and a routing rule names the subject: for a person"
            ),
            Step::NoTopic => write!(f, "faq: no topic matched"),
            Step::RouteTopic { department } => {
                write!(f, "routing: the topic's department `{department}`")
            }
            Step::RouteAsked { department } => write!(
                f,
                "routing: `{department}`, where the question asked back routed"
            ),
            Step::RouteRule { rule, department } => {
                write!(f, "routing: rule {rule} sends it to `{department}`")
            }
            Step::RouteDefault { department } => write!(
                f,
                "routing: no rule matched, so the default department `{department}`"
            ),
            Step::HandoverOpen => write!(
                f,
                "handover: office open, a colleague answers within the hour"
            ),
            Step::OutOfHoursAgain => write!(
                f,
                "out of hours: the out-of-hours reply was already sent in this closed period"
            ),
            Step::OutOfHoursReply => write!(
                f,
                "out of hours: the out-of-hours reply, once for this closed period"
            ),
            Step::FollowUpAt { at } => write!(f, "follow-up: scheduled for {}", at.to_rfc3339()),
            Step::FollowUpNotNeeded { phase } => write!(
                f,
                "follow-up: not needed, the conversation is {}",
                phase.as_str().replace('_', " ")
            ),
            Step::FollowUpText => write!(
                f,
                "follow-up: more than an hour left of the 24-hour window, sent as text with buttons"
            ),
            Step::FollowUpTemplate { template } => write!(
                f,
                "follow-up: less than an hour left of the 24-hour window (or none), sent as template `{template}`"
            ),
            Step::FollowUpWindowClosed {
                channel,
                agent_until,
            } => {
                write!(
                    f,
                    "follow-up: not sent, the bot may not write outside the window of {channel}; on top of the queue"
                )?;
                match agent_until {
                    Some(t) => write!(f, ", a person can answer until {}", t.to_rfc3339()),
                    None => Ok(()),
                }
            }
            Step::FollowUpNo => write!(
                f,
                "follow-up: the resident no longer needs an answer; resolved"
            ),
            Step::FollowUpYes => write!(
                f,
                "follow-up: the resident still needs an answer; on top of the queue"
            ),
            Step::FollowUpOther => write!(
                f,
                "follow-up: another message instead of Ja/Nee counts as yes; on top of the queue"
            ),
        }
    }
}

impl Step {
    /// The step in Dutch for agents and editors, with the flows' names for topics and
    /// departments (an id the flows no longer know is shown as it is).
    pub fn dutch(&self, flows: &FlowSet) -> String {
        let topic = |id: &str| {
            let title = flows
                .topic_index(id)
                .and_then(|i| flows.topics[i as usize].title.clone());
            format!("‘{}’", title.unwrap_or_else(|| id.to_string()))
        };
        let department = |id: &str| {
            let name = flows
                .department_index(id)
                .map(|i| flows.departments[i as usize].name.clone());
            name.unwrap_or_else(|| id.to_string())
        };
        let when = |at: &DateTime<FixedOffset>| format_dutch_local(at);
        match self {
            Step::Open => "Kantoor open.".into(),
            Step::Closed { opens: Some(at) } => {
                format!("Kantoor dicht, weer open op {}.", when(at))
            }
            Step::Closed { opens: None } => "Kantoor dicht, geen opening in zicht.".into(),
            Step::NothingFound => "Privacy: geen persoonsgegevens gevonden.".into(),
            Step::Language { language, why } => format!(
                "Taal: {} ({}).",
                language_nl(flows, *language),
                match why {
                    Why::Script => "uit het schrift",
                    Why::Keywords => "uit de woorden die bij de trefwoorden van die taal passen",
                    Why::Text => "uit de tekst",
                    Why::CommonWords => "uit de gewone Nederlandse woorden erin",
                    Why::Previous => "kort of onzeker, dus de taal van het gesprek",
                    Why::Default => "kort of onzeker, dus de standaardtaal",
                }
            ),
            Step::Untranslated { language } => format!(
                "Geen vertaling in het {}: Nederlands, met de regel dat een medewerker kan helpen.",
                language_nl(flows, *language)
            ),
            Step::Found { found } => format!(
                "Privacy: {} gevonden en afgeschermd vóór al het andere.",
                found
                    .iter()
                    .map(|v| format!("{} {}", detector_nl(&v.detector), v.masked))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Step::PrivacyPage { topic: Some(t) } => {
                format!("Privacy: het bericht gaat over {}, dus de beveiligde pagina daarvan.", topic(t))
            }
            Step::PrivacyPage { topic: None } => {
                "Privacy: geen onderwerp met een eigen beveiligde pagina, dus de algemene pagina."
                    .into()
            }
            Step::WithAgent => {
                "Het gesprek is bij een medewerker, dus de bot antwoordt niet.".into()
            }
            Step::Queued => "Het gesprek wacht al in de wachtrij; het bericht is toegevoegd.".into(),
            Step::QueuedNote => {
                "Eén keer laten weten dat een collega het bericht leest (kantoor open).".into()
            }
            Step::FollowUpExpired => {
                "De vervolgvraag bleef te lang onbeantwoord; het gesprek staat in de wachtrij."
                    .into()
            }
            Step::Reopened => "Het gesprek was afgerond en is door dit bericht heropend.".into(),
            Step::ButtonTopic { topic: t } => {
                format!("Knop: de inwoner koos het onderwerp {}.", topic(t))
            }
            Step::ButtonPerson => "Knop: de inwoner vroeg om een medewerker.".into(),
            Step::Media { kind } => format!(
                "Een {} zonder tekst: de bot kan het niet lezen, dus een medewerker pakt het op.",
                media_nl(kind)
            ),
            Step::NoWords => "Niets te doen: het bericht bevat geen woorden.".into(),
            Step::PatternTooSlow { pattern, of } => format!(
                "Patroon `{pattern}` van {} duurde te lang en telt als geen treffer.",
                topic(of)
            ),
            Step::RuledOut { topic: t, by } => {
                format!("Onderwerp {} viel af door het woord ‘{by}’.", topic(t))
            }
            Step::Wins {
                topic: t,
                score,
                over,
                over_score,
                why,
            } => format!(
                "{} ({}) wint van {} ({}): {}.",
                topic(t),
                decimal_nl(*score),
                topic(over),
                decimal_nl(*over_score),
                match why {
                    WinReason::HigherScore => "hogere score",
                    WinReason::MoreTerms => "zelfde score, meer woorden gevonden",
                    WinReason::LongerTerm => "zelfde score, langer woord gevonden",
                    WinReason::HigherPriority => "zelfde score, hogere prioriteit",
                    WinReason::DefinedEarlier => "zelfde score, eerder in de bestanden",
                }
            ),
            Step::Answer {
                topic: t,
                origin,
                variation,
                of,
            } => match variation {
                Some(v) => format!(
                    "Onderwerp {} antwoordt (variant {v} van {of}; {origin}).",
                    topic(t)
                ),
                None => format!("Onderwerp {} antwoordt ({origin}).", topic(t)),
            },
            Step::Resembles {
                topic: t,
                words,
                example,
            } => {
                let mut out = format!("{} lijkt op het bericht in: {}", topic(t), words.join(", "));
                if let Some(e) = example {
                    out.push_str(&format!("; dichtstbijzijnde voorbeeld: “{e}”"));
                }
                out.push('.');
                out
            }
            Step::Clarify {
                options,
                score,
                close_to,
            } => {
                let names: Vec<String> = options.iter().map(|o| topic(o)).collect();
                match close_to {
                    Some(second) => format!(
                        "Teruggevraagd welk onderwerp bedoeld is ({}): de scores {} en {} liggen te dicht bij elkaar.",
                        names.join(" of "),
                        decimal_nl(*score),
                        decimal_nl(*second)
                    ),
                    None => format!(
                        "Teruggevraagd of {} bedoeld is: de score {} is te zwak om meteen te antwoorden.",
                        names.join(" of "),
                        decimal_nl(*score)
                    ),
                }
            }
            Step::TooWeak { topic: t, score } => format!(
                "{} lijkt het meest, maar de score {} is te zwak om ernaar te vragen.",
                topic(t),
                decimal_nl(*score)
            ),
            Step::PersonTopic { topic: t } => {
                format!("{} is een vraag voor een medewerker.", topic(t))
            }
            Step::RoutingNamesIt { topic: t } => format!(
                "Alleen de gelijkenis wijst naar {}, en een routeringsregel noemt het onderwerp: naar een medewerker.",
                topic(t)
            ),
            Step::NoTopic => "Geen onderwerp gevonden.".into(),
            Step::RouteTopic { department: d } => {
                format!("Doorgezet naar {}, de afdeling van het onderwerp.", department(d))
            }
            Step::RouteAsked { department: d } => format!(
                "Doorgezet naar {}, waar de vraag heen ging waarover werd teruggevraagd.",
                department(d)
            ),
            Step::RouteRule { rule, department: d } => {
                format!("Routeringsregel {rule} zet het door naar {}.", department(d))
            }
            Step::RouteDefault { department: d } => format!(
                "Geen routeringsregel paste, dus naar de standaardafdeling {}.",
                department(d)
            ),
            Step::HandoverOpen => {
                "Doorgezet terwijl het kantoor open is: een collega antwoordt binnen het uur."
                    .into()
            }
            Step::OutOfHoursAgain => {
                "Buiten kantoortijd; het bericht daarover ging al eerder in deze gesloten periode."
                    .into()
            }
            Step::OutOfHoursReply => {
                "Buiten kantoortijd: het bericht daarover, één keer in deze gesloten periode."
                    .into()
            }
            Step::FollowUpAt { at } => format!("Vervolgvraag gepland op {}.", when(at)),
            Step::FollowUpNotNeeded { phase } => format!(
                "Vervolgvraag niet nodig: het gesprek {}.",
                match phase {
                    Phase::Bot => "is bij de bot",
                    Phase::Queued => "staat in de wachtrij",
                    Phase::WithAgent => "is bij een medewerker",
                    Phase::AwaitingFollowUp => "wacht al op een antwoord op de vervolgvraag",
                    Phase::Resolved => "is afgerond",
                }
            ),
            Step::FollowUpText => {
                "Vervolgvraag als tekst met knoppen: er is nog meer dan een uur over van het 24-uursvenster."
                    .into()
            }
            Step::FollowUpTemplate { template } => format!(
                "Vervolgvraag als sjabloon ‘{template}’: het 24-uursvenster is (bijna) dicht."
            ),
            Step::FollowUpWindowClosed {
                channel,
                agent_until,
            } => {
                let until = agent_until
                    .map(|t| format!(" Een medewerker kan antwoorden tot {}.", when(&t)))
                    .unwrap_or_default();
                format!(
                    "Geen vervolgvraag: {channel} laat de bot buiten het venster niet schrijven. Het gesprek staat bovenaan de wachtrij.{until}"
                )
            }
            Step::FollowUpNo => "De inwoner heeft geen antwoord meer nodig; afgerond.".into(),
            Step::FollowUpYes => {
                "De inwoner heeft nog een antwoord nodig; bovenaan de wachtrij.".into()
            }
            Step::FollowUpOther => {
                "Een ander bericht dan Ja/Nee telt als ja; bovenaan de wachtrij.".into()
            }
        }
    }
}

/// A language's name as the flows give it for agents (Dutch: `Nederlands`; one the flows do not
/// declare: its code).
fn language_nl(flows: &FlowSet, language: Language) -> String {
    match flows.language(language) {
        Some(entry) => entry.name.clone(),
        None if language == Language::Nl => "Nederlands".into(),
        None => language.code().to_string(),
    }
}

/// A detector's name as agents know it.
fn detector_nl(detector: &str) -> &str {
    match detector {
        "bsn" => "BSN",
        "iban" => "IBAN",
        "document" | "passport" => "documentnummer",
        "birth_date" | "date_of_birth" => "geboortedatum",
        other => other,
    }
}

fn media_nl(kind: &str) -> &str {
    match kind {
        "image" => "foto",
        "audio" | "voice" => "spraakbericht",
        "video" => "video",
        "document" => "document",
        "sticker" => "sticker",
        "location" => "locatie",
        "contacts" => "contactkaart",
        other => other,
    }
}

/// A score with a decimal comma.
fn decimal_nl(x: f32) -> String {
    format!("{x:.1}").replace('.', ",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_is_stored_as_a_few_tagged_values() {
        let s = Step::RouteRule {
            rule: 2,
            department: "burgerzaken".into(),
        };
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            r#"{"step":"route_rule","rule":2,"department":"burgerzaken"}"#
        );
        assert_eq!(serde_json::from_str::<Step>(&json).unwrap(), s);
        assert_eq!(
            serde_json::to_string(&Step::Open).unwrap(),
            r#"{"step":"open"}"#
        );
    }

    #[test]
    fn a_closed_office_names_the_opening_in_dutch_time_in_both_languages() {
        let at = DateTime::parse_from_rfc3339("2026-11-30T08:30:00+01:00").unwrap();
        let s = Step::Closed { opens: Some(at) };
        assert_eq!(
            s.to_string(),
            "office hours: closed, opens maandag 30 november om 08:30"
        );
    }
}
