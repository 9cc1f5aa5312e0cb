//! The flow language as editors write it: the serde types of every YAML file.
//!
//! These types are the single source of truth for the files: the loader parses them, and the
//! JSON Schema that editors' tools use for completion and inline errors is generated from them
//! (the doc comments become hover help). Validation and compilation live in [`super`].

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::privacy::{DetectorsConfig, PatternConfig};

/// `rules/departments.yaml`: the queues that handed-over conversations land in, and the rules
/// that pick one.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentsFile {
    /// Every queue, each with a short id used elsewhere in the files.
    pub departments: Vec<DepartmentDef>,
    /// The id of the queue for everything no routing rule picks (usually the KCC).
    pub default: String,
    /// Rules tried on every handed-over message; the best-scoring rule picks the queue.
    #[serde(default)]
    pub routing: Vec<RouteDef>,
}

/// One queue of agents.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentDef {
    /// Short id, lower case with dashes, e.g. `burgerzaken`.
    pub id: String,
    /// The name residents and agents see, e.g. `Burgerzaken`.
    pub name: String,
    /// What this department handles (for editors and agents).
    #[serde(default)]
    pub description: Option<String>,
}

/// A rule that sends handed-over messages about certain words to a department.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteDef {
    /// The department id this rule sends to.
    pub department: String,
    /// Words that point to this department (typo tolerant, like topic keywords).
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Word sequences that point to this department.
    #[serde(default)]
    pub phrases: Vec<String>,
    /// Regular expressions on the normalised message (lower case, no accents).
    #[serde(default)]
    pub patterns: Vec<String>,
}

/// `rules/privacy.yaml`: which personal data is detected, and where residents are sent instead.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrivacyFile {
    /// The built-in detectors and their context words.
    #[serde(default)]
    pub detectors: DetectorsConfig,
    /// Extra patterns an editor declares (customer numbers and the like).
    #[serde(default)]
    pub patterns: Vec<PatternConfig>,
    /// The secure page per topic: a message with personal data about one of these topics is
    /// pointed to this page.
    #[serde(default)]
    pub secure_pages: Vec<SecurePageDef>,
    /// The page for every other message with personal data.
    pub default_page: LinkDef,
    /// The reply to a message with personal data. Placeholders: `{label}` (what was found, e.g.
    /// "burgerservicenummer (BSN)"), `{title}` and `{url}` of the secure page, `{name}`.
    pub reply: String,
}

/// A secure page for some topics.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurePageDef {
    /// Topic ids (from `flows/`) this page is for.
    pub topics: Vec<String>,
    /// The page's title as shown to the resident.
    pub title: String,
    /// The page's address (https).
    pub url: String,
}

/// A link shown with an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkDef {
    /// The text of the link, e.g. `Afspraak maken`.
    pub title: String,
    /// The address (https).
    pub url: String,
}

/// A file in `flows/`: topics, and (in exactly one file) the handover and follow-up texts.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowFile {
    /// FAQ topics: questions the bot answers itself, day and night.
    #[serde(default)]
    pub topics: Vec<TopicDef>,
    /// What the resident hears when a person takes over.
    #[serde(default)]
    pub handover: Option<HandoverDef>,
    /// The question asked at the next opening after an out-of-hours handover.
    #[serde(default)]
    pub follow_up: Option<FollowUpDef>,
    /// When the bot is unsure which topic is meant, it asks instead of guessing (in one file).
    #[serde(default)]
    pub clarify: Option<ClarifyDef>,
    /// The languages, besides Dutch, that topics and texts are translated into (in exactly one
    /// file, usually beside `handover:`), by code: `en`, `pl`, `tr`, `ar`, `uk`, …
    #[serde(default)]
    pub languages: BTreeMap<String, LanguageDef>,
}

/// Asking back when unsure: the best two topics are close, or the best is weak.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClarifyDef {
    /// The question. Placeholders: `{options}` (the topics' titles, "A of B"), `{name}`.
    pub text: String,
    /// The button that hands the question to a person instead, e.g. `Iets anders`.
    pub person_button: String,
    /// Ask when the runner-up scores at least this share of the best (0 to 1), e.g. `0.85`.
    pub close: f32,
    /// Answer outright only from this score up; between `ask_from` and this, ask about the best
    /// topic (and the runner-up). A keyword counts 2, a phrase 3, a rare word in common with a
    /// topic about 1 to 3; `triage try` shows the scores.
    pub answer_from: f32,
    /// Below this score nothing is asked: the question goes to a person.
    pub ask_from: f32,
    /// The question and its button in other languages, by code; a text left out is sent in
    /// Dutch, followed by the language's `untranslated` line. The topics' titles come from
    /// their own translations.
    #[serde(default)]
    pub translations: BTreeMap<String, ClarifyTranslationDef>,
}

/// The question back in another language; each text is optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClarifyTranslationDef {
    /// The question. Placeholders: `{options}`, `{name}`.
    #[serde(default)]
    pub text: Option<String>,
    /// The button for a person.
    #[serde(default)]
    pub person_button: Option<String>,
}

/// A language residents write in, besides Dutch.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LanguageDef {
    /// Its name as agents read it in the inbox and the reports, e.g. `Pools`.
    pub name: String,
    /// The line, in this language, sent after a Dutch text that has no translation into it:
    /// that the answer is in Dutch and a person can help. Placeholder: `{name}`.
    pub untranslated: String,
}

/// One FAQ topic.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicDef {
    /// Unique id, lower case with dashes, e.g. `paspoort-id-kaart`. Tests and reports use it.
    pub id: String,
    /// A short title for agents and reports.
    #[serde(default)]
    pub title: Option<String>,
    /// Words that point to this topic. Matching ignores case and accents, tolerates typos in
    /// longer words, and finds words inside Dutch compounds (`paspoort` in `paspoortaanvraag`).
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Word sequences that point strongly to this topic, e.g. `nieuw paspoort`.
    #[serde(default)]
    pub phrases: Vec<String>,
    /// Other ways residents say it: English, slang, old names. They count a little less than
    /// keywords.
    #[serde(default)]
    pub synonyms: Vec<String>,
    /// Regular expressions on the normalised message (lower case, no accents, punctuation as
    /// single spaces). Look-around and back-references are allowed but slower.
    #[serde(default)]
    pub patterns: Vec<String>,
    /// Questions as residents ask them, e.g. `ik ben mijn paspoort kwijt wat nu`. Beside the
    /// keywords, the bot compares a message with these (and with the title, keywords and
    /// answers): word stems, compounds split, rare words weighing more than common ones. Write
    /// real phrasings, the more different the better.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Words that rule this topic out when they occur.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// How many typos a keyword of this topic tolerates (0, 1 or 2). Absent: none below 5
    /// letters, 1 up to 8 letters, 2 beyond.
    #[serde(default)]
    pub typo_tolerance: Option<u8>,
    /// Breaks ties between topics with the same score: higher wins.
    #[serde(default)]
    pub priority: i32,
    /// The answer; with several, one is picked per message (variation keeps it human).
    /// Placeholder: `{name}`. Required, unless `handover` is set.
    #[serde(default)]
    pub answers: Vec<String>,
    /// Questions about this only a person can answer (the status of one's own case, a wish to
    /// speak to someone): the bot hands over, to `department` or else as the routing rules
    /// say, instead of answering.
    #[serde(default)]
    pub handover: bool,
    /// A short name for the topic on a button (at most 20 characters), when the bot asks which
    /// topic a resident means. Default: the title, shortened where it is too long.
    #[serde(default)]
    pub button_title: Option<String>,
    /// Links sent with the answer.
    #[serde(default)]
    pub links: Vec<LinkDef>,
    /// Reply buttons under the answer (WhatsApp shows at most 3, titles at most 20 characters;
    /// the channels in use decide, see `triage check`).
    #[serde(default)]
    pub buttons: Vec<ButtonDef>,
    /// Free labels for reports.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The department a "talk to a person" button on this topic hands over to.
    #[serde(default)]
    pub department: Option<String>,
    /// The topic in other languages, by code (`en`, `pl`, …, declared under `languages:`).
    /// Residents who write in one get its answers; its keywords find the topic as the Dutch
    /// ones do.
    #[serde(default)]
    pub translations: BTreeMap<String, TopicTranslationDef>,
}

/// A topic in another language. Only `answers` is needed; links and buttons are the topic's,
/// with their titles in this language where given.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicTranslationDef {
    /// The title in this language.
    #[serde(default)]
    pub title: Option<String>,
    /// The answer in this language; with several, one is picked per message. Placeholder:
    /// `{name}`.
    pub answers: Vec<String>,
    /// The titles of the topic's links in this language, in the same order (fewer: the rest
    /// keep their Dutch titles).
    #[serde(default)]
    pub links: Vec<String>,
    /// The titles of the topic's buttons in this language, in the same order.
    #[serde(default)]
    pub buttons: Vec<String>,
    /// Words in this language that point to this topic.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Word sequences in this language that point strongly to this topic.
    #[serde(default)]
    pub phrases: Vec<String>,
    /// Other ways to say it in this language; they count a little less than keywords.
    #[serde(default)]
    pub synonyms: Vec<String>,
    /// Questions as residents ask them in this language.
    #[serde(default)]
    pub examples: Vec<String>,
}

/// A reply button.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ButtonDef {
    /// The button text, at most 20 characters.
    pub title: String,
    /// Tapping it answers this topic.
    #[serde(default)]
    pub topic: Option<String>,
    /// Tapping it hands the conversation to a person.
    #[serde(default)]
    pub handover: bool,
}

/// The handover replies.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoverDef {
    /// Reply during office hours. Placeholders: `{department}`, `{name}`.
    pub open: String,
    /// Reply out of hours, sent at most once per closed period. Placeholders: `{next_opening}`
    /// (e.g. "maandag 30 november om 08:30"), `{department}`, `{name}`.
    pub closed: String,
    /// Reply when the message has no text (a photo, a voice note), before it goes to a person.
    #[serde(default)]
    pub media: Option<String>,
    /// Reply, once while a question waits in the queue during office hours, when the resident
    /// writes again: a sign that a person will read it. Without it the bot stays silent.
    /// Placeholders: `{department}`, `{name}`.
    #[serde(default)]
    pub queued: Option<String>,
    /// These replies in other languages, by code; a text left out is sent in Dutch, followed by
    /// the language's `untranslated` line.
    #[serde(default)]
    pub translations: BTreeMap<String, HandoverTranslationDef>,
}

/// The handover replies in another language; each is optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoverTranslationDef {
    /// Reply during office hours. Placeholders: `{department}`, `{name}`.
    #[serde(default)]
    pub open: Option<String>,
    /// Reply out of hours. Placeholders: `{next_opening}` (in this language), `{department}`,
    /// `{name}`.
    #[serde(default)]
    pub closed: Option<String>,
    /// Reply to media without text.
    #[serde(default)]
    pub media: Option<String>,
    /// The note while a question waits in the queue.
    #[serde(default)]
    pub queued: Option<String>,
}

/// The follow-up question at the next opening after an out-of-hours handover.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpDef {
    /// The question, sent as free text with Ja/Nee buttons inside the 24-hour window.
    /// Placeholders: `{name}`, `{department}`.
    pub text: String,
    /// The approved WhatsApp template sent instead outside the 24-hour window.
    pub template: TemplateDef,
    /// Title of the "yes" button.
    #[serde(default = "default_yes")]
    pub yes_button: String,
    /// Title of the "no" button.
    #[serde(default = "default_no")]
    pub no_button: String,
    /// Words that count as "yes, I still need an answer".
    #[serde(default)]
    pub yes_words: Vec<String>,
    /// Words that count as "no, not any more".
    #[serde(default)]
    pub no_words: Vec<String>,
    /// Reply to "yes" (or any other message): the conversation goes to the top of its queue.
    pub yes_reply: String,
    /// Reply to "no": the conversation is resolved.
    pub no_reply: String,
    /// Hours to wait for an answer before the conversation simply stays in its queue.
    #[serde(default = "default_wait_hours")]
    pub wait_hours: u32,
    /// The follow-up in other languages, by code; what is left out is Dutch.
    #[serde(default)]
    pub translations: BTreeMap<String, FollowUpTranslationDef>,
}

/// The follow-up in another language; each part is optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpTranslationDef {
    /// The question. Placeholders: `{name}`, `{department}`.
    #[serde(default)]
    pub text: Option<String>,
    /// The template approved in this language (outside the 24-hour window); without it the
    /// Dutch template goes.
    #[serde(default)]
    pub template: Option<TemplateDef>,
    /// Title of the "yes" button.
    #[serde(default)]
    pub yes_button: Option<String>,
    /// Title of the "no" button.
    #[serde(default)]
    pub no_button: Option<String>,
    /// Words in this language that count as "yes"; a resident in this language is understood by
    /// these (and the buttons), not by the Dutch words.
    #[serde(default)]
    pub yes_words: Vec<String>,
    /// Words in this language that count as "no".
    #[serde(default)]
    pub no_words: Vec<String>,
    /// Reply to "yes".
    #[serde(default)]
    pub yes_reply: Option<String>,
    /// Reply to "no".
    #[serde(default)]
    pub no_reply: Option<String>,
}

fn default_yes() -> String {
    "Ja".into()
}
fn default_no() -> String {
    "Nee".into()
}
fn default_wait_hours() -> u32 {
    4
}

/// A WhatsApp message template, approved in Meta's business manager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateDef {
    /// The template's name as approved, e.g. `vraag_nog_open`.
    pub name: String,
    /// The template's language code, e.g. `nl`.
    pub language: String,
    /// Body parameters in order; placeholders such as `{name}` are filled in.
    #[serde(default)]
    pub parameters: Vec<String>,
    /// The body as approved, with `{{1}}`, `{{2}}`… for the parameters: agents see the message
    /// as the resident will read it before they send it, and in the history after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl TemplateDef {
    /// The body with `parameters` in place of `{{1}}`, `{{2}}`…; `None` without a body.
    pub fn render(&self, parameters: &[String]) -> Option<String> {
        let mut out = self.text.clone()?;
        for (i, p) in parameters.iter().enumerate() {
            out = out.replace(&format!("{{{{{}}}}}", i + 1), p);
        }
        Some(out)
    }
}

/// A conversation test file under `fixtures/`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// The conversations in this file.
    pub tests: Vec<TestCase>,
}

/// One conversation: a start time and a sequence of steps.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    /// What this conversation shows, in a few words.
    pub name: String,
    /// When it starts, RFC 3339 with offset, e.g. `2026-11-27T19:30:00+01:00`.
    pub at: String,
    /// The resident's profile name, if the test needs `{name}`.
    #[serde(default)]
    pub resident: Option<String>,
    /// The channel the resident writes on (its window decides how the follow-up goes);
    /// `whatsapp` when not given.
    #[serde(default)]
    pub channel: Option<crate::channel::Channel>,
    /// The steps, in order.
    pub steps: Vec<TestStep>,
}

/// One step: the clock moves (optional), then the resident says something, taps a button, or the
/// scheduled follow-up fires; then the expectations are checked.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestStep {
    /// Move the clock to this instant (RFC 3339) before the step.
    #[serde(default)]
    pub at: Option<String>,
    /// Move the clock forward, e.g. `90m`, `2h`, `3d`.
    #[serde(default)]
    pub wait: Option<String>,
    /// A text message from the resident.
    #[serde(default)]
    pub say: Option<String>,
    /// The resident taps the reply button with this title.
    #[serde(default)]
    pub tap: Option<String>,
    /// The resident sends a photo, voice note or other media without text.
    #[serde(default)]
    pub media: Option<String>,
    /// The scheduled follow-up fires (the clock moves to its time).
    #[serde(default)]
    pub follow_up: bool,
    /// What must hold afterwards.
    #[serde(default)]
    pub expect: Expect,
}

/// Expectations of one step; only what is given is checked.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The outcome, e.g. `faq`, `handover`, `privacy_redirect`.
    #[serde(default)]
    pub outcome: Option<String>,
    /// The topic id, or `none`.
    #[serde(default)]
    pub topic: Option<String>,
    /// With `outcome: clarify`: the topics the question back offers, best first.
    #[serde(default)]
    pub options: Option<Vec<String>>,
    /// The department id.
    #[serde(default)]
    pub department: Option<String>,
    /// Whether the office is open.
    #[serde(default)]
    pub open: Option<bool>,
    /// The exact reply text (all replies joined by a blank line).
    #[serde(default)]
    pub reply: Option<String>,
    /// Pieces of text each reply together must contain.
    #[serde(default)]
    pub reply_contains: Vec<String>,
    /// Pieces of text the replies must not contain (e.g. an unmasked number).
    #[serde(default)]
    pub reply_lacks: Vec<String>,
    /// No reply at all.
    #[serde(default)]
    pub silent: bool,
    /// The link addresses, in order.
    #[serde(default)]
    pub links: Option<Vec<String>>,
    /// The follow-up time (RFC 3339 with offset), or `none`.
    #[serde(default)]
    pub follow_up_at: Option<String>,
    /// The masked text as stored.
    #[serde(default)]
    pub redacted_text: Option<String>,
    /// The WhatsApp template name used (follow-ups outside the 24-hour window).
    #[serde(default)]
    pub template: Option<String>,
    /// The language the replies are in (`nl`, `en`, `pl`, …).
    #[serde(default)]
    pub language: Option<crate::language::Language>,
    /// The conversation's state afterwards: `bot`, `queued`, `with_agent`,
    /// `awaiting_follow_up`, `resolved`.
    #[serde(default)]
    pub state: Option<String>,
}

/// Every file kind, for `triage schema` and the committed `schema/` folder.
pub fn schemas() -> BTreeMap<&'static str, serde_json::Value> {
    use crate::source::schema_of;
    BTreeMap::from([
        ("flow", schema_of::<FlowFile>()),
        ("departments", schema_of::<DepartmentsFile>()),
        ("privacy", schema_of::<PrivacyFile>()),
        (
            "office-hours",
            schema_of::<crate::calendar::OfficeHoursConfig>(),
        ),
        ("conversation-test", schema_of::<TestFile>()),
    ])
}
