//! Validation: every cross-reference, limit and text of the parsed files, checked at once.
//!
//! Each problem becomes a [`Diagnostic`] at the position of the node it concerns; references into
//! a file that did not parse are not checked, so one broken file does not bury its own errors
//! under follow-on errors elsewhere.

use std::collections::HashMap;

use super::model::*;
use super::readability;
use super::{
    Button, ButtonAction, Department, FlowSet, FollowUp, LanguageEntry, Origin, Topic,
    TopicTranslation,
};
use crate::calendar::OfficeHours;
use crate::channel::Channel;
use crate::language::{Detector as LanguageDetector, Language};
use crate::matcher::{Matcher, MatcherBuilder, TermKind};
use crate::privacy::Detector;
use crate::source::{self, Diagnostic, Node, NodeKind, Pos, SourceFile};
use crate::text::{auto_tolerance, did_you_mean, normalize};

/// A parsed file and its typed content.
pub(super) struct Parsed<T> {
    file: SourceFile,
    value: T,
}

#[derive(Default)]
pub(super) struct Validator {
    pub(super) diags: Vec<Diagnostic>,
    /// Whether the departments file and every flow file parsed: references into a file that did
    /// not parse are not checked, so its own errors are not buried under follow-on errors.
    departments_ok: bool,
    flows_ok: bool,
    schemas: HashMap<&'static str, serde_json::Value>,
    /// The channels the flows must fit (their policies' limits); empty: every channel.
    pub(super) channels: Vec<Channel>,
}

/// The compiled departments file.
struct Departments {
    list: Vec<Department>,
    default: u32,
    routes: Vec<u32>,
    matcher: Option<Matcher>,
}

/// What the flow files define, compiled.
struct FlowContent {
    topics: Vec<Topic>,
    matcher: Option<Matcher>,
    similar: crate::similar::Index,
    handover: Option<HandoverDef>,
    follow_up: Option<FollowUpDef>,
    clarify: Option<ClarifyDef>,
    languages: Vec<LanguageEntry>,
    term_languages: super::TermLanguages,
}

/// What a topic's definition compiles into beside its texts.
struct TopicParts {
    buttons: Vec<Button>,
    department: Option<u32>,
    examples: Vec<String>,
    translations: Vec<TopicTranslation>,
}

/// The compiled privacy file.
struct Privacy {
    detector: Option<Detector>,
    page_by_topic: HashMap<u32, LinkDef>,
    default_page: LinkDef,
    reply: String,
}

/// The terms of one topic or routing rule.
#[derive(Default)]
struct Terms<'a> {
    keywords: &'a [String],
    synonyms: &'a [String],
    phrases: &'a [String],
    patterns: &'a [String],
    exclude: &'a [String],
}

/// Placeholders allowed in each kind of text.
const TOPIC_VARS: &[&str] = &["name"];
const HANDOVER_VARS: &[&str] = &["name", "department", "next_opening"];
const FOLLOW_UP_VARS: &[&str] = &["name", "department"];
/// A title that fits on a button: cut after a whole word where it is too long, without a
/// dangling "of"/"en", with an ellipsis ("Paspoort of ID-kaart aanvragen" → "Paspoort…").
fn short_title(title: &str) -> String {
    let max = super::BUTTON_TITLE_CHARS;
    if title.chars().count() <= max {
        return title.to_string();
    }
    let cut = crate::channel::truncate_chars(title, max - 1);
    let mut words: Vec<&str> = match cut.rfind(' ') {
        Some(i) => cut[..i].split(' ').collect(),
        None => vec![cut],
    };
    while words.len() > 1
        && words.last().is_some_and(|w| {
            matches!(*w, "of" | "en" | "and" | "or" | "&" | "-") || w.starts_with('(')
        })
    {
        words.pop();
    }
    format!("{}…", words.join(" ").trim_end_matches([',', ';', ':']))
}

const CLARIFY_VARS: &[&str] = &["name", "options"];
const PRIVACY_VARS: &[&str] = &["name", "label", "title", "url"];
const LANGUAGE_VARS: &[&str] = &["name"];

impl Validator {
    pub(super) fn parse<T>(&mut self, (name, bytes): &(String, Vec<u8>)) -> Option<Parsed<T>>
    where
        T: serde::de::DeserializeOwned + schemars::JsonSchema,
    {
        let file = match source::parse_bytes(name, bytes) {
            Ok(f) => f,
            Err(d) => {
                self.diags.extend(d);
                return None;
            }
        };
        let schema = self
            .schemas
            .entry(std::any::type_name::<T>())
            .or_insert_with(source::schema_of::<T>);
        match source::load_typed::<T>(&file, schema) {
            Ok(value) => Some(Parsed { file, value }),
            Err(d) => {
                self.diags.extend(d);
                None
            }
        }
    }

    /// The channels whose limits apply.
    fn channels(&self) -> Vec<Channel> {
        if self.channels.is_empty() {
            Channel::ALL.to_vec()
        } else {
            self.channels.clone()
        }
    }

    /// The first channel (of those in use) for which `too_long(policy)` holds, with its limit
    /// from `limit(policy)`: a text is reported once, for the strictest channel it breaks.
    fn strictest(
        &self,
        limit: impl Fn(&crate::channel::Policy) -> usize,
        n: usize,
    ) -> Option<(Channel, usize)> {
        self.channels()
            .into_iter()
            .map(|c| (c, limit(c.policy())))
            .filter(|(_, max)| n > *max)
            .min_by_key(|(_, max)| *max)
    }

    fn error(&mut self, file: &SourceFile, path: &str, msg: impl Into<String>) {
        self.diags.push(file.error_at(path, msg));
    }

    fn error_help(
        &mut self,
        file: &SourceFile,
        path: &str,
        msg: impl Into<String>,
        help: Option<String>,
    ) {
        self.diags.push(file.error_at(path, msg).with_help(help));
    }

    pub(super) fn build(
        &mut self,
        office: Option<Parsed<crate::calendar::OfficeHoursConfig>>,
        privacy: Option<Parsed<PrivacyFile>>,
        departments: Option<Parsed<DepartmentsFile>>,
        flows: Vec<Option<Parsed<FlowFile>>>,
        files: Vec<String>,
    ) -> Option<FlowSet> {
        self.departments_ok = departments.is_some();
        self.flows_ok = flows.iter().all(Option::is_some);
        let office = office.and_then(|p| match OfficeHours::build(&p.value) {
            Ok(o) => Some(o),
            Err(issues) => {
                self.diags.extend(issues.iter().map(|i| p.file.issue(i)));
                None
            }
        });
        let departments = departments.map(|p| self.departments(&p));
        let dept_ids: Vec<String> = departments
            .iter()
            .flat_map(|d| d.list.iter().map(|x| x.id.clone()))
            .collect();
        let flow_files: Vec<&Parsed<FlowFile>> = flows.iter().flatten().collect();
        let content = self.flow_content(&flow_files, &dept_ids);
        let topic_ids: Vec<&str> = content.topics.iter().map(|t| t.id.as_str()).collect();
        let privacy = privacy.map(|p| self.privacy(&p, &topic_ids));

        let (departments, privacy) = (departments?, privacy?);
        let (handover, follow_up) = (content.handover?, content.follow_up?);
        let normalized = |words: &[String]| words.iter().map(|w| normalize(w)).collect::<Vec<_>>();
        let words_in = follow_up
            .translations
            .iter()
            .filter(|(_, t)| !t.yes_words.is_empty() || !t.no_words.is_empty())
            .filter_map(|(code, t)| {
                Some((
                    Language::parse(code)?,
                    normalized(&t.yes_words),
                    normalized(&t.no_words),
                ))
            })
            .collect();
        let declared: Vec<Language> = content.languages.iter().map(|l| l.language).collect();
        Some(FlowSet {
            office: office?,
            privacy: privacy.detector?,
            privacy_page_by_topic: privacy.page_by_topic,
            default_page: privacy.default_page,
            privacy_reply: privacy.reply,
            departments: departments.list,
            default_department: departments.default,
            routes: departments.routes,
            route_matcher: departments.matcher?,
            topics: content.topics,
            topic_matcher: content.matcher?,
            topic_similar: content.similar,
            clarify: content.clarify,
            handover,
            follow_up: FollowUp {
                yes_words: normalized(&follow_up.yes_words),
                no_words: normalized(&follow_up.no_words),
                words_in,
                def: follow_up,
            },
            detector: LanguageDetector::new(&declared),
            languages: content.languages,
            term_languages: content.term_languages,
            files,
        })
    }

    /// The departments, the default and the routing rules.
    fn departments(&mut self, p: &Parsed<DepartmentsFile>) -> Departments {
        let mut ids: Vec<String> = Vec::new();
        let mut list = Vec::new();
        for (i, d) in p.value.departments.iter().enumerate() {
            let path = format!("departments[{i}].id");
            self.check_id(&p.file, &path, &d.id, "department");
            if ids.contains(&d.id) {
                self.error(
                    &p.file,
                    &path,
                    format!("duplicate department id `{}`", d.id),
                );
            }
            ids.push(d.id.clone());
            list.push(Department {
                id: d.id.clone(),
                name: d.name.clone(),
            });
        }
        if p.value.departments.is_empty() {
            self.error(&p.file, "departments", "at least one department is needed");
        }
        let default = self
            .department_ref(&p.file, "default", &p.value.default, &ids)
            .unwrap_or(0);
        let mut routes = Vec::new();
        let mut builder = MatcherBuilder::default();
        for (i, r) in p.value.routing.iter().enumerate() {
            let base = format!("routing[{i}]");
            let Some(dept) =
                self.department_ref(&p.file, &format!("{base}.department"), &r.department, &ids)
            else {
                continue;
            };
            let target = routes.len() as u32;
            routes.push(dept);
            let terms = Terms {
                keywords: &r.keywords,
                phrases: &r.phrases,
                patterns: &r.patterns,
                ..Terms::default()
            };
            if !self.terms(&p.file, &base, target, &terms, None, &mut builder) {
                self.error(
                    &p.file,
                    &base,
                    "this routing rule has no keywords, phrases or patterns, so it never applies",
                );
            }
        }
        let matcher = self.matcher(&p.file, "routing", builder);
        Departments {
            list,
            default,
            routes,
            matcher,
        }
    }

    /// Topics, the handover replies and the follow-up from every flow file.
    fn flow_content(&mut self, files: &[&Parsed<FlowFile>], dept_ids: &[String]) -> FlowContent {
        let mut topics: Vec<Topic> = Vec::new();
        let mut defs: Vec<(&SourceFile, String, &TopicDef)> = Vec::new();
        let mut handover: Option<(HandoverDef, Origin)> = None;
        let mut follow_up: Option<(FollowUpDef, Origin)> = None;
        let mut clarify: Option<(ClarifyDef, Origin)> = None;
        let languages = self.languages(files);
        let declared: Vec<Language> = languages.iter().map(|l| l.language).collect();
        for p in files {
            for (i, t) in p.value.topics.iter().enumerate() {
                let path = format!("topics[{i}]");
                self.check_id(&p.file, &format!("{path}.id"), &t.id, "topic");
                if let Some(first) = topics.iter().find(|x| x.id == t.id) {
                    self.error_help(
                        &p.file,
                        &format!("{path}.id"),
                        format!("duplicate topic id `{}`", t.id),
                        Some(format!("first defined at {}", first.origin)),
                    );
                }
                topics.push(Topic {
                    id: t.id.clone(),
                    title: t.title.clone(),
                    answers: t.answers.clone(),
                    handover: t.handover,
                    button_title: t
                        .button_title
                        .clone()
                        .unwrap_or_else(|| short_title(t.title.as_deref().unwrap_or(&t.id))),
                    links: t.links.clone(),
                    buttons: Vec::new(),
                    tags: t.tags.clone(),
                    department: None,
                    priority: t.priority,
                    samples: t
                        .keywords
                        .iter()
                        .chain(&t.phrases)
                        .chain(&t.synonyms)
                        .cloned()
                        .collect(),
                    examples: Vec::new(),
                    translations: Vec::new(),
                    origin: Origin::new(&p.file.name, p.file.root.locate(&path)),
                });
                defs.push((&p.file, path, t));
            }
            if let Some(h) = &p.value.handover {
                if self.once(
                    &p.file,
                    "handover",
                    "the handover replies are defined twice",
                    &handover,
                ) {
                    handover = Some((
                        h.clone(),
                        Origin::new(&p.file.name, p.file.root.locate("handover")),
                    ));
                }
                let texts = [
                    ("handover.open", Some(&h.open)),
                    ("handover.closed", Some(&h.closed)),
                    ("handover.media", h.media.as_ref()),
                    ("handover.queued", h.queued.as_ref()),
                ];
                for (path, text) in texts {
                    if let Some(text) = text {
                        self.text(&p.file, path, text, HANDOVER_VARS);
                        self.plain_language(&p.file, path, text, &[]);
                    }
                }
                for (code, t) in &h.translations {
                    if self
                        .language_ref(&p.file, "handover.translations", code, &declared)
                        .is_none()
                    {
                        continue;
                    }
                    let base = format!("handover.translations.{code}");
                    for (field, text) in [
                        ("open", &t.open),
                        ("closed", &t.closed),
                        ("media", &t.media),
                        ("queued", &t.queued),
                    ] {
                        if let Some(text) = text {
                            self.text(&p.file, &format!("{base}.{field}"), text, HANDOVER_VARS);
                        }
                    }
                }
            }
            if let Some(f) = &p.value.follow_up {
                if self.once(
                    &p.file,
                    "follow_up",
                    "the follow-up is defined twice",
                    &follow_up,
                ) {
                    follow_up = Some((
                        f.clone(),
                        Origin::new(&p.file.name, p.file.root.locate("follow_up")),
                    ));
                }
                self.follow_up(&p.file, f, &declared);
            }
            if let Some(c) = &p.value.clarify {
                if self.once(
                    &p.file,
                    "clarify",
                    "the question back (`clarify:`) is defined twice",
                    &clarify,
                ) {
                    clarify = Some((
                        c.clone(),
                        Origin::new(&p.file.name, p.file.root.locate("clarify")),
                    ));
                }
                self.clarify(&p.file, c, &declared);
            }
        }
        let topic_ids: Vec<String> = topics.iter().map(|t| t.id.clone()).collect();
        let topic_ids: Vec<&str> = topic_ids.iter().map(String::as_str).collect();
        let mut builder = MatcherBuilder::default();
        let mut term_languages = super::TermLanguages::default();
        let context = TopicContext {
            topic_ids: &topic_ids,
            dept_ids,
            declared: &declared,
        };
        for (idx, (file, path, t)) in defs.iter().enumerate() {
            let parts = self.topic(
                file,
                path,
                idx as u32,
                t,
                &context,
                &mut builder,
                &mut term_languages,
            );
            topics[idx].buttons = parts.buttons;
            topics[idx].department = parts.department;
            topics[idx].examples = parts.examples;
            topics[idx].translations = parts.translations;
        }
        let first = files.first().map(|p| &p.file);
        let matcher = first.and_then(|f| self.matcher(f, "", builder));
        let docs: Vec<crate::similar::Doc> = defs
            .iter()
            .zip(&topics)
            .map(|((_, _, def), t)| crate::similar::Doc {
                title: t.title.as_deref(),
                terms: &t.samples,
                examples: &t.examples,
                answers: if def.handover { &[] } else { &t.answers },
            })
            .collect();
        let similar = crate::similar::Index::build(&docs);
        if let (Some(f), true) = (first, self.flows_ok) {
            if handover.is_none() {
                self.error_help(
                    f,
                    "",
                    "no `handover:` replies in any flow file",
                    Some(
                        "add `handover:` with `open:` and `closed:` texts to one flow file".into(),
                    ),
                );
            }
            if follow_up.is_none() {
                self.error_help(
                    f,
                    "",
                    "no `follow_up:` in any flow file",
                    Some(
                        "add `follow_up:` with its text, template and replies to one flow file"
                            .into(),
                    ),
                );
            }
        }
        FlowContent {
            topics,
            matcher,
            similar,
            handover: handover.map(|h| h.0),
            follow_up: follow_up.map(|f| f.0),
            clarify: clarify.map(|c| c.0),
            languages,
            term_languages,
        }
    }

    /// The `languages:` of the flow files (in one file only), checked.
    fn languages(&mut self, files: &[&Parsed<FlowFile>]) -> Vec<LanguageEntry> {
        let mut first: Option<((), Origin)> = None;
        let mut out = Vec::new();
        for p in files.iter().filter(|p| !p.value.languages.is_empty()) {
            if !self.once(
                &p.file,
                "languages",
                "the languages are declared twice",
                &first,
            ) {
                continue;
            }
            first = Some((
                (),
                Origin::new(&p.file.name, p.file.root.locate("languages")),
            ));
            for (code, def) in &p.value.languages {
                let base = format!("languages.{code}");
                let pos = key_pos(&p.file, "languages", code);
                let language = match Language::parse(code) {
                    Some(Language::Nl) => {
                        self.diags.push(
                            Diagnostic::error(
                                &p.file.name,
                                pos,
                                "Dutch is the default language and needs no entry here",
                            )
                            .with_help(Some("remove `nl:` from `languages:`".into())),
                        );
                        continue;
                    }
                    Some(l) => l,
                    None => {
                        let codes = Language::ALL.iter().skip(1).map(|l| l.code());
                        self.diags.push(
                            Diagnostic::error(
                                &p.file.name,
                                pos,
                                format!("unknown language `{code}`"),
                            )
                            .with_help(Some(
                                match did_you_mean(code, codes.clone()) {
                                    Some(s) => format!("did you mean `{s}`?"),
                                    None => format!(
                                        "known languages: {}",
                                        codes.collect::<Vec<_>>().join(", ")
                                    ),
                                },
                            )),
                        );
                        continue;
                    }
                };
                if def.name.trim().is_empty() {
                    self.error(&p.file, &format!("{base}.name"), "a language needs a name");
                }
                self.text(
                    &p.file,
                    &format!("{base}.untranslated"),
                    &def.untranslated,
                    LANGUAGE_VARS,
                );
                out.push(LanguageEntry {
                    language,
                    name: def.name.clone(),
                    untranslated: def.untranslated.clone(),
                });
            }
        }
        out.sort_by_key(|l| l.language.code());
        out
    }

    /// The language a translation under `parent` is keyed by (`pl` in `translations.pl`), if it
    /// is one the flows declare; reports it otherwise.
    fn language_ref(
        &mut self,
        file: &SourceFile,
        parent: &str,
        code: &str,
        declared: &[Language],
    ) -> Option<Language> {
        let pos = key_pos(file, parent, code);
        let parsed = Language::parse(code);
        if let Some(l) = parsed.filter(|l| declared.contains(l)) {
            return Some(l);
        }
        let (message, help) = match parsed {
            Some(Language::Nl) => (
                "Dutch is the default language: write it in the text itself, not as a translation"
                    .to_string(),
                None,
            ),
            Some(l) => (
                format!("language `{code}` ({}) is not declared", l.english_name()),
                Some(format!(
                    "add `{code}:` with its `name:` and `untranslated:` line under `languages:` (beside `handover:`)"
                )),
            ),
            None => {
                let declared_codes: Vec<&str> = declared.iter().map(|l| l.code()).collect();
                let help = did_you_mean(code, declared_codes.iter().copied())
                    .or_else(|| did_you_mean(code, Language::ALL.iter().map(|l| l.code())))
                    .map(|s| format!("did you mean `{s}`?"))
                    .or_else(|| {
                        (!declared_codes.is_empty())
                            .then(|| format!("declared languages: {}", declared_codes.join(", ")))
                    });
                (format!("unknown language `{code}`"), help)
            }
        };
        if parsed.is_some_and(|l| l != Language::Nl) && !self.flows_ok {
            // The file that declares it may be the one that did not parse.
            return None;
        }
        self.diags
            .push(Diagnostic::error(&file.name, pos, message).with_help(help));
        None
    }

    /// Reports a second definition of something that must be defined once; true for the first.
    fn once<T>(
        &mut self,
        file: &SourceFile,
        path: &str,
        message: &str,
        first: &Option<(T, Origin)>,
    ) -> bool {
        match first {
            Some((_, origin)) => {
                self.error_help(
                    file,
                    path,
                    message,
                    Some(format!("first defined at {origin}")),
                );
                false
            }
            None => true,
        }
    }

    /// One topic: its terms into the matcher, its texts, links and buttons checked, its
    /// translations compiled.
    #[allow(clippy::too_many_arguments)]
    fn topic(
        &mut self,
        file: &SourceFile,
        path: &str,
        target: u32,
        t: &TopicDef,
        context: &TopicContext<'_>,
        builder: &mut MatcherBuilder,
        term_languages: &mut super::TermLanguages,
    ) -> TopicParts {
        let TopicContext {
            topic_ids,
            dept_ids,
            declared,
        } = *context;
        if t.typo_tolerance.is_some_and(|tol| tol > 2) {
            self.error(
                file,
                &format!("{path}.typo_tolerance"),
                "typo tolerance is 0, 1 or 2",
            );
        }
        let terms = Terms {
            keywords: &t.keywords,
            synonyms: &t.synonyms,
            phrases: &t.phrases,
            patterns: &t.patterns,
            exclude: &t.exclude,
        };
        for term in t.keywords.iter().chain(&t.phrases) {
            add_language(term_languages, term, Language::Nl);
        }
        let has_terms = self.terms(file, path, target, &terms, t.typo_tolerance, builder);
        for (j, e) in t.examples.iter().enumerate() {
            if normalize(e).is_empty() {
                self.error(
                    file,
                    &format!("{path}.examples[{j}]"),
                    "this example has no words",
                );
            }
        }
        if !has_terms && t.examples.is_empty() {
            self.error(
                file,
                &format!("{path}.id"),
                format!(
                    "topic `{}` has no keywords, phrases, synonyms, patterns or examples, so it never matches",
                    t.id
                ),
            );
        }
        if let Some(b) = &t.button_title {
            self.button_title(file, &format!("{path}.button_title"), b);
        }
        if t.handover && !t.answers.is_empty() {
            self.error_help(
                file,
                &format!("{path}.answers"),
                "a topic with `handover: true` is never answered, so its answers are never sent",
                Some("remove the answers, or `handover: true`".into()),
            );
        } else if t.answers.is_empty() && !t.handover {
            self.error(
                file,
                &format!("{path}.answers"),
                "a topic needs at least one answer",
            );
        }
        let titles: Vec<&str> = t.links.iter().map(|l| l.title.as_str()).collect();
        self.answers(file, path, &t.answers, &titles, t);
        for (j, l) in t.links.iter().enumerate() {
            self.link(file, &format!("{path}.links[{j}]"), l);
        }
        if let Some((c, max)) = self.strictest(|p| p.max_buttons, t.buttons.len()) {
            self.error(
                file,
                &format!("{path}.buttons[{max}]"),
                format!(
                    "{} shows at most {max} reply buttons; this topic has {}",
                    c.title(),
                    t.buttons.len()
                ),
            );
        }
        let mut buttons = Vec::new();
        for (j, b) in t.buttons.iter().enumerate() {
            let bp = format!("{path}.buttons[{j}]");
            self.button_title(file, &format!("{bp}.title"), &b.title);
            let action = match (&b.topic, b.handover) {
                (Some(id), false) => self
                    .topic_ref(file, &format!("{bp}.topic"), id, topic_ids)
                    .map(ButtonAction::Topic),
                (None, true) => Some(ButtonAction::Handover),
                _ => {
                    self.error(
                        file,
                        &bp,
                        "a button needs exactly one of `topic: <id>` or `handover: true`",
                    );
                    None
                }
            };
            if let Some(action) = action {
                buttons.push(Button {
                    title: b.title.clone(),
                    action,
                });
            }
        }
        let department = t
            .department
            .as_ref()
            .and_then(|d| self.department_ref(file, &format!("{path}.department"), d, dept_ids));
        let mut examples = t.examples.clone();
        let mut translations = Vec::new();
        for (code, tr) in &t.translations {
            let Some(language) =
                self.language_ref(file, &format!("{path}.translations"), code, declared)
            else {
                continue;
            };
            let base = format!("{path}.translations.{code}");
            if tr.answers.is_empty() {
                self.error(
                    file,
                    &format!("{base}.answers"),
                    "a translation needs at least one answer",
                );
            }
            for (field, given, has) in [
                ("links", &tr.links, t.links.len()),
                ("buttons", &tr.buttons, t.buttons.len()),
            ] {
                for (j, title) in given.iter().enumerate() {
                    let tp = format!("{base}.{field}[{j}]");
                    if j >= has {
                        self.error_help(
                            file,
                            &tp,
                            format!(
                                "this translation names {} {field}; the topic has {has}",
                                given.len()
                            ),
                            Some(format!(
                                "a translation gives the titles of the topic's own {field}, in their order"
                            )),
                        );
                        break;
                    }
                    if field == "buttons" {
                        self.button_title(file, &tp, title);
                    } else if title.trim().is_empty() {
                        self.error(file, &tp, "a link needs a title");
                    }
                }
            }
            let titles: Vec<&str> = t
                .links
                .iter()
                .enumerate()
                .map(|(j, l)| tr.links.get(j).map_or(l.title.as_str(), String::as_str))
                .collect();
            self.answers(file, &base, &tr.answers, &titles, t);
            let terms = Terms {
                keywords: &tr.keywords,
                synonyms: &tr.synonyms,
                phrases: &tr.phrases,
                ..Terms::default()
            };
            self.terms(file, &base, target, &terms, t.typo_tolerance, builder);
            for term in tr.keywords.iter().chain(&tr.phrases).chain(&tr.synonyms) {
                add_language(term_languages, term, language);
            }
            examples.extend(tr.examples.iter().cloned());
            translations.push(TopicTranslation {
                language,
                title: tr.title.clone(),
                answers: tr.answers.clone(),
                link_titles: tr.links.clone(),
                button_titles: tr.buttons.clone(),
            });
        }
        TopicParts {
            buttons,
            department,
            examples,
            translations,
        }
    }

    /// Checks a topic's answers (its own or a translation's, under `base`): texts, placeholders
    /// and, with the links (`link_titles` in the answer's language), the channels' lengths.
    fn answers(
        &mut self,
        file: &SourceFile,
        base: &str,
        answers: &[String],
        link_titles: &[&str],
        t: &TopicDef,
    ) {
        let links_len: usize = t
            .links
            .iter()
            .zip(link_titles)
            .map(|(l, title)| title.chars().count() + l.url.chars().count() + 4)
            .sum();
        // With reply buttons the answer may have to be shorter (WhatsApp's interactive body).
        let with_buttons = !t.buttons.is_empty();
        let what = if with_buttons {
            " with reply buttons"
        } else {
            ""
        };
        let limit = |p: &crate::channel::Policy| {
            if with_buttons {
                p.max_text_with_buttons_chars
            } else {
                p.max_text_chars
            }
        };
        // B1 is a Dutch measure: translations are not scored. The topic's own terms name the
        // thing asked about: never flagged as long words.
        let dutch = !base.contains(".translations.");
        let names: Vec<String> = t
            .keywords
            .iter()
            .chain(&t.synonyms)
            .chain(&t.phrases)
            .chain(&t.title)
            .flat_map(|k| k.split_whitespace())
            .map(str::to_lowercase)
            .collect();
        for (j, a) in answers.iter().enumerate() {
            let ap = format!("{base}.answers[{j}]");
            if dutch {
                self.plain_language(file, &ap, a, &names);
            }
            let too_long_alone = self.text(file, &ap, a, TOPIC_VARS);
            let len = a.chars().count() + links_len;
            if too_long_alone {
                continue;
            }
            if let Some((c, max)) = self.strictest(limit, len) {
                self.error(
                    file,
                    &ap,
                    format!(
                        "this answer with its links is {len} characters; {} allows {max} in a message{what}",
                        c.title()
                    ),
                );
            }
        }
    }

    /// Normalises and adds the terms of one target; false when it has nothing to match on.
    fn terms(
        &mut self,
        file: &SourceFile,
        base: &str,
        target: u32,
        terms: &Terms<'_>,
        tolerance: Option<u8>,
        builder: &mut MatcherBuilder,
    ) -> bool {
        let tol = |n: &str| {
            tolerance
                .unwrap_or_else(|| auto_tolerance(n.chars().count()))
                .min(2)
        };
        let mut any = false;
        let words = [
            ("keywords", terms.keywords, TermKind::Keyword),
            ("synonyms", terms.synonyms, TermKind::Synonym),
            ("phrases", terms.phrases, TermKind::Phrase),
            ("exclude", terms.exclude, TermKind::Exclude),
        ];
        for (field, list, kind) in words {
            for (j, raw) in list.iter().enumerate() {
                if let Some(n) = self.term(file, &format!("{base}.{field}[{j}]"), raw) {
                    let t = match kind {
                        TermKind::Keyword | TermKind::Synonym => tol(&n),
                        _ => 0,
                    };
                    builder.term(target, kind, &n, t);
                    any |= kind != TermKind::Exclude;
                }
            }
        }
        for (j, pat) in terms.patterns.iter().enumerate() {
            // An invalid pattern is reported; it still counts, so no second error follows.
            if self.regex(file, &format!("{base}.patterns[{j}]"), pat) {
                builder.pattern(target, pat);
            }
            any = true;
        }
        any
    }

    fn matcher(
        &mut self,
        file: &SourceFile,
        path: &str,
        builder: MatcherBuilder,
    ) -> Option<Matcher> {
        builder.build().map_err(|e| self.error(file, path, e)).ok()
    }

    /// The secure pages, the reply and the detectors.
    fn privacy(&mut self, p: &Parsed<PrivacyFile>, topic_ids: &[&str]) -> Privacy {
        let mut page_by_topic = HashMap::new();
        for (i, page) in p.value.secure_pages.iter().enumerate() {
            let base = format!("secure_pages[{i}]");
            let link = LinkDef {
                title: page.title.clone(),
                url: page.url.clone(),
            };
            self.link(&p.file, &base, &link);
            for (j, id) in page.topics.iter().enumerate() {
                let path = format!("{base}.topics[{j}]");
                if let Some(t) = self.topic_ref(&p.file, &path, id, topic_ids) {
                    if page_by_topic.insert(t, link.clone()).is_some() {
                        self.error(&p.file, &path, format!("topic `{id}` has two secure pages"));
                    }
                }
            }
        }
        self.link(&p.file, "default_page", &p.value.default_page);
        self.text(&p.file, "reply", &p.value.reply, PRIVACY_VARS);
        let detector = match Detector::build(&p.value.detectors, &p.value.patterns) {
            Ok(d) => Some(d),
            Err(issues) => {
                self.diags.extend(issues.iter().map(|i| p.file.issue(i)));
                None
            }
        };
        Privacy {
            detector,
            page_by_topic,
            default_page: p.value.default_page.clone(),
            reply: p.value.reply.clone(),
        }
    }

    /// The question back: its text, its button, and thresholds that can all be met.
    fn clarify(&mut self, file: &SourceFile, c: &ClarifyDef, declared: &[Language]) {
        self.clarify_text(file, "clarify.text", &c.text);
        self.button_title(file, "clarify.person_button", &c.person_button);
        for (code, t) in &c.translations {
            if self
                .language_ref(file, "clarify.translations", code, declared)
                .is_none()
            {
                continue;
            }
            let base = format!("clarify.translations.{code}");
            if let Some(text) = &t.text {
                self.clarify_text(file, &format!("{base}.text"), text);
            }
            if let Some(title) = &t.person_button {
                self.button_title(file, &format!("{base}.person_button"), title);
            }
        }
        if !(c.close > 0.0 && c.close <= 1.0) {
            self.error(
                file,
                "clarify.close",
                format!("`close` is a share between 0 and 1, not {}", c.close),
            );
        }
        if c.ask_from < 0.0 || c.answer_from < 0.0 {
            self.error(file, "clarify", "scores are 0 or more");
        } else if c.ask_from > c.answer_from {
            self.error_help(
                file,
                "clarify.ask_from",
                format!(
                    "`ask_from` ({}) is above `answer_from` ({}): the bot would never ask about a weak match",
                    c.ask_from, c.answer_from
                ),
                Some("`ask_from` is the lower of the two".into()),
            );
        }
    }

    /// The question back's text: it names the topics it offers.
    fn clarify_text(&mut self, file: &SourceFile, path: &str, text: &str) {
        self.text(file, path, text, CLARIFY_VARS);
        if !text.contains("{options}") {
            self.error_help(
                file,
                path,
                "the question back does not name the topics it offers",
                Some("write `{options}` where the topics' titles go".into()),
            );
        }
    }

    fn follow_up(&mut self, file: &SourceFile, f: &FollowUpDef, declared: &[Language]) {
        self.follow_up_text(file, "follow_up.text", &f.text);
        self.text(file, "follow_up.yes_reply", &f.yes_reply, FOLLOW_UP_VARS);
        self.text(file, "follow_up.no_reply", &f.no_reply, FOLLOW_UP_VARS);
        for (path, text) in [
            ("follow_up.text", &f.text),
            ("follow_up.yes_reply", &f.yes_reply),
            ("follow_up.no_reply", &f.no_reply),
        ] {
            self.plain_language(file, path, text, &[]);
        }
        self.button_title(file, "follow_up.yes_button", &f.yes_button);
        self.button_title(file, "follow_up.no_button", &f.no_button);
        self.words(file, "follow_up", &f.yes_words, &f.no_words);
        self.template(file, "follow_up.template", &f.template);
        for (code, t) in &f.translations {
            if self
                .language_ref(file, "follow_up.translations", code, declared)
                .is_none()
            {
                continue;
            }
            let base = format!("follow_up.translations.{code}");
            if let Some(text) = &t.text {
                self.follow_up_text(file, &format!("{base}.text"), text);
            }
            for (field, reply) in [("yes_reply", &t.yes_reply), ("no_reply", &t.no_reply)] {
                if let Some(reply) = reply {
                    self.text(file, &format!("{base}.{field}"), reply, FOLLOW_UP_VARS);
                }
            }
            for (field, title) in [("yes_button", &t.yes_button), ("no_button", &t.no_button)] {
                if let Some(title) = title {
                    self.button_title(file, &format!("{base}.{field}"), title);
                }
            }
            self.words(file, &base, &t.yes_words, &t.no_words);
            if let Some(template) = &t.template {
                self.template(file, &format!("{base}.template"), template);
            }
        }
    }

    /// The follow-up question: a text that goes with two buttons.
    fn follow_up_text(&mut self, file: &SourceFile, path: &str, text: &str) {
        self.text(file, path, text, FOLLOW_UP_VARS);
        let n = text.chars().count();
        if let Some((c, max)) = self.strictest(|p| p.max_text_with_buttons_chars, n) {
            self.error(
                file,
                path,
                format!(
                    "the follow-up question is {n} characters; with its Ja/Nee buttons {} allows {max}",
                    c.title()
                ),
            );
        }
    }

    fn words(&mut self, file: &SourceFile, base: &str, yes: &[String], no: &[String]) {
        for (field, words) in [("yes_words", yes), ("no_words", no)] {
            for (i, w) in words.iter().enumerate() {
                self.term(file, &format!("{base}.{field}[{i}]"), w);
            }
        }
    }

    /// An approved template under `base`: its name, language, parameters and body.
    fn template(&mut self, file: &SourceFile, base: &str, t: &TemplateDef) {
        if t.name.trim().is_empty() {
            self.error(
                file,
                &format!("{base}.name"),
                "a template needs the name it was approved under",
            );
        } else if !t
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            self.error(
                file,
                &format!("{base}.name"),
                format!(
                    "template name `{}` may only hold lower-case letters, digits and `_`",
                    t.name
                ),
            );
        }
        let lang_ok = {
            let l = t.language.as_bytes();
            (l.len() == 2 && l.iter().all(u8::is_ascii_lowercase))
                || (l.len() == 5
                    && l[..2].iter().all(u8::is_ascii_lowercase)
                    && l[2] == b'_'
                    && l[3..].iter().all(u8::is_ascii_uppercase))
        };
        if !lang_ok {
            self.error_help(
                file,
                &format!("{base}.language"),
                format!("unknown template language `{}`", t.language),
                Some("use a code such as `nl` or `en_US`".into()),
            );
        }
        for (i, p) in t.parameters.iter().enumerate() {
            self.text(file, &format!("{base}.parameters[{i}]"), p, FOLLOW_UP_VARS);
        }
        if let Some(body) = &t.text {
            // Every `{{n}}` of the body needs its parameter.
            let mut rest = body.as_str();
            while let Some(at) = rest.find("{{") {
                rest = &rest[at + 2..];
                let n = rest.split("}}").next().unwrap_or("");
                if n.parse::<usize>()
                    .map_or(true, |n| n == 0 || n > t.parameters.len())
                {
                    self.error(
                        file,
                        &format!("{base}.text"),
                        format!(
                            "`{{{{{n}}}}}` has no parameter: the template has {} (`{{{{1}}}}` is the first)",
                            t.parameters.len()
                        ),
                    );
                }
            }
        }
    }

    fn check_id(&mut self, file: &SourceFile, path: &str, id: &str, what: &str) {
        let ok = !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok {
            self.error_help(
                file,
                path,
                format!("{what} id `{id}` may only hold lower-case letters, digits and dashes"),
                Some(format!("for example `{}`", slug(id))),
            );
        }
    }

    fn department_ref(
        &mut self,
        file: &SourceFile,
        path: &str,
        id: &str,
        known: &[String],
    ) -> Option<u32> {
        if let Some(i) = known.iter().position(|d| d == id) {
            return Some(i as u32);
        }
        if !self.departments_ok {
            // The departments file has its own errors; do not bury them under follow-on errors.
            return None;
        }
        let help = did_you_mean(id, known.iter().map(String::as_str))
            .map(|s| format!("did you mean `{s}`?"))
            .or_else(|| Some(format!("known departments: {}", known.join(", "))));
        self.error_help(file, path, format!("unknown department `{id}`"), help);
        None
    }

    fn topic_ref(
        &mut self,
        file: &SourceFile,
        path: &str,
        id: &str,
        known: &[&str],
    ) -> Option<u32> {
        if let Some(i) = known.iter().position(|t| *t == id) {
            return Some(i as u32);
        }
        if !self.flows_ok {
            return None;
        }
        let help = did_you_mean(id, known.iter().copied()).map(|s| format!("did you mean `{s}`?"));
        self.error_help(file, path, format!("unknown topic `{id}`"), help);
        None
    }

    /// Normalises a keyword or phrase; reports one that normalises to nothing.
    fn term(&mut self, file: &SourceFile, path: &str, raw: &str) -> Option<String> {
        let n = normalize(raw);
        if n.is_empty() {
            self.error(
                file,
                path,
                format!("`{raw}` has no letters or digits, so it can never match"),
            );
            return None;
        }
        Some(n)
    }

    /// Checks a pattern; reports the regex error at its position in the file.
    fn regex(&mut self, file: &SourceFile, path: &str, pattern: &str) -> bool {
        let Err(err) = regex::Regex::new(pattern) else {
            return true;
        };
        let too_big = matches!(err, regex::Error::CompiledTooBig(_));
        // Look-around and back-references are fine with fancy-regex.
        let fancy = fancy_regex::RegexBuilder::new(pattern)
            .backtrack_limit(crate::matcher::BACKTRACK_LIMIT)
            .build();
        let (message, offset) = match (&fancy, too_big) {
            (Ok(_), false) => return true,
            (_, true) => ("pattern is too large".to_string(), None),
            (Err(_), false) => regex_message(&err),
        };
        let node = file_node(file, path);
        let mut pos = node.map_or_else(|| file.root.locate(path), |n| n.pos);
        if let (Some(off), Some(n)) = (offset, node) {
            // Escapes in double-quoted text shift positions: then point at the text itself.
            match file_char_at(file, n.pos) {
                Some('\'') => pos.column += off + 1,
                Some('"') => {}
                _ => pos.column += off,
            }
        }
        self.diags.push(Diagnostic::error(
            &file.name,
            pos,
            format!("invalid pattern: {message}"),
        ));
        false
    }

    fn link(&mut self, file: &SourceFile, path: &str, l: &LinkDef) {
        if l.title.trim().is_empty() {
            self.error(file, &format!("{path}.title"), "a link needs a title");
        }
        if let Err(why) = check_url(&l.url) {
            self.error(
                file,
                &format!("{path}.url"),
                format!("invalid URL `{}`: {why}", l.url),
            );
        }
    }

    fn button_title(&mut self, file: &SourceFile, path: &str, title: &str) {
        let n = title.chars().count();
        if title.trim().is_empty() {
            self.error(file, path, "a button needs a title");
        } else if let Some((c, max)) = self.strictest(|p| p.max_button_title_chars, n) {
            self.error(
                file,
                path,
                format!(
                    "button title `{title}` is {n} characters; {} allows {max}",
                    c.title()
                ),
            );
        }
    }

    /// Warns about a reply text above B1: its longest sentence, its longest word (other than
    /// `names`, lower case) and its Flesch–Douma score ([`readability`]).
    fn plain_language(&mut self, file: &SourceFile, path: &str, text: &str, names: &[String]) {
        for f in readability::check(text, |w| names.iter().any(|n| n == w)) {
            self.diags
                .push(file.warning_at(path, f.message()).with_help(Some(f.help())));
        }
    }

    /// Checks a reply text: length and placeholders. Returns whether it was too long (and
    /// said so).
    fn text(&mut self, file: &SourceFile, path: &str, text: &str, vars: &[&str]) -> bool {
        let n = text.chars().count();
        if text.trim().is_empty() {
            self.error(file, path, "this text is empty");
        }
        let too_long = self.strictest(|p| p.max_text_chars, n);
        if let Some((c, max)) = too_long {
            self.error(
                file,
                path,
                format!("this text is {n} characters; {} allows {max}", c.title()),
            );
        }
        for var in placeholders(text) {
            if !vars.contains(&var) {
                let help = did_you_mean(var, vars.iter().copied())
                    .map(|s| format!("did you mean `{{{s}}}`?"))
                    .or_else(|| {
                        Some(format!(
                            "placeholders here: {}",
                            vars.iter()
                                .map(|v| format!("`{{{v}}}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    });
                self.error_help(file, path, format!("unknown placeholder `{{{var}}}`"), help);
            }
        }
        too_long.is_some()
    }
}

/// The position of `key` in the mapping at `parent` (for an error about the key itself).
fn key_pos(file: &SourceFile, parent: &str, key: &str) -> Pos {
    file.root
        .find(parent)
        .and_then(|n| n.key(key))
        .map_or_else(|| file.root.locate(parent), |k| k.pos)
}

/// Records that the (raw) `term` was written for `language`.
fn add_language(map: &mut super::TermLanguages, term: &str, language: Language) {
    let n = normalize(term);
    if n.is_empty() {
        return;
    }
    let langs = map.entry(n).or_default();
    if !langs.contains(&language) {
        langs.push(language);
    }
}

/// What every topic of the flows is checked against.
#[derive(Clone, Copy)]
struct TopicContext<'a> {
    topic_ids: &'a [&'a str],
    dept_ids: &'a [String],
    declared: &'a [Language],
}

fn file_node<'a>(file: &'a SourceFile, path: &str) -> Option<&'a Node> {
    let pos = file.root.locate(path);
    fn find(n: &Node, pos: Pos) -> Option<&Node> {
        if n.pos == pos && matches!(n.kind, NodeKind::Scalar { .. }) {
            return Some(n);
        }
        match &n.kind {
            NodeKind::Seq(items) => items.iter().find_map(|i| find(i, pos)),
            NodeKind::Map(entries) => entries.iter().find_map(|(_, v)| find(v, pos)),
            NodeKind::Scalar { .. } => None,
        }
    }
    find(&file.root, pos)
}

fn file_char_at(file: &SourceFile, pos: Pos) -> Option<char> {
    file.text
        .lines()
        .nth(pos.line.saturating_sub(1))
        .and_then(|l| l.chars().nth(pos.column.saturating_sub(1)))
}

/// The useful line of a regex error, and the character offset it points at.
fn regex_message(err: &regex::Error) -> (String, Option<usize>) {
    let text = err.to_string();
    let message = text
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .unwrap_or("the pattern cannot be compiled")
        .to_string();
    // regex prints the pattern on a line, then a line of spaces and carets under the problem.
    let lines: Vec<&str> = text.lines().collect();
    let offset = lines.windows(2).find_map(|w| {
        let caret = w[1];
        if caret.trim_start().starts_with('^') && caret.trim().chars().all(|c| c == '^') {
            let prefix = w[0].len() - w[0].trim_start().len();
            let pattern_start = w[0].find(": ").map_or(prefix, |i| i + 2);
            caret.find('^').map(|c| c.saturating_sub(pattern_start))
        } else {
            None
        }
    });
    (message, offset)
}

/// The `{name}` placeholders in a text.
pub fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split('{').skip(1).filter_map(|part| {
        let end = part.find('}')?;
        let name = &part[..end];
        (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .then_some(name)
    })
}

/// Checks that a URL is an absolute http(s) address a phone can open.
pub fn check_url(url: &str) -> Result<(), &'static str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("it must start with `https://`")?;
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("it contains spaces");
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or_default();
    let host = host.split(':').next().unwrap_or_default();
    let valid_host = host.contains('.')
        && !host.starts_with('.')
        && !host.ends_with('.')
        && !host.contains("..")
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
    if !valid_host {
        return Err("the host name is missing or malformed");
    }
    Ok(())
}

fn slug(s: &str) -> String {
    let n = normalize(s);
    let s = n.replace(' ', "-");
    if s.is_empty() {
        "mijn-onderwerp".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(check_url("https://www.terneuzen.nl/paspoort").is_ok());
        assert!(check_url("http://terneuzen.nl").is_ok());
        assert!(check_url("www.terneuzen.nl").is_err());
        assert!(check_url("https://terneuzen").is_err());
        assert!(check_url("https://www.terneuzen.nl/a b").is_err());
        assert!(check_url("https://").is_err());
    }

    #[test]
    fn finds_placeholders() {
        let v: Vec<&str> =
            placeholders("Hoi {name}, we zijn er {next_opening}. {not a var} {}").collect();
        assert_eq!(v, vec!["name", "next_opening"]);
    }

    #[test]
    fn regex_errors_point_at_the_problem() {
        let pattern = String::from("abc(def");
        let err = regex::Regex::new(&pattern).unwrap_err();
        let (msg, off) = regex_message(&err);
        assert_eq!(msg, "unclosed group");
        assert_eq!(off, Some(3));
    }
}
