//! Loading, validating and compiling the editors' files into one immutable [`FlowSet`].
//!
//! Parse, validate, then evaluate: every file is read with [`crate::source`] (limits, YAML tree,
//! schema), then cross-checked (unknown departments and topics, duplicate ids, regex errors with
//! their position, URLs, the limits of the channels in use, placeholders, plain language), and every
//! problem in every file is reported at once with `file:line:column`. Only a set without errors is compiled; the engine
//! never sees a half-valid one.

mod lint;
pub mod model;
pub mod readability;
mod validate;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::calendar::OfficeHours;
use crate::channel::Channel;
use crate::language::{Detector as LanguageDetector, Language};
use crate::matcher::Matcher;
use crate::privacy::Detector;
use crate::source::{self, Diagnostic, Pos, Severity};
use crate::text::did_you_mean;
use model::{
    ClarifyDef, DepartmentsFile, FlowFile, FollowUpDef, HandoverDef, LinkDef, PrivacyFile,
};
use validate::Validator;
pub use validate::{check_url, placeholders};

/// The longest button title every channel shows whole (WhatsApp's limit).
pub const BUTTON_TITLE_CHARS: usize = 20;

/// The file names expected in the rules directory.
pub const RULE_FILES: [&str; 3] = ["office-hours.yaml", "privacy.yaml", "departments.yaml"];

/// Where a topic (or other definition) was written, for diagnostics and traces.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Origin {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl Origin {
    pub(crate) fn new(file: &str, pos: Pos) -> Self {
        Origin {
            file: file.to_string(),
            line: pos.line,
            column: pos.column,
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A department (queue).
#[derive(Debug, Clone)]
pub struct Department {
    pub id: String,
    pub name: String,
}

/// What tapping a reply button does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ButtonAction {
    Topic(u32),
    Handover,
}

/// A compiled reply button.
#[derive(Debug, Clone)]
pub struct Button {
    pub title: String,
    pub action: ButtonAction,
}

/// A compiled FAQ topic.
#[derive(Debug, Clone)]
pub struct Topic {
    pub id: String,
    pub title: Option<String>,
    pub answers: Vec<String>,
    pub links: Vec<LinkDef>,
    pub buttons: Vec<Button>,
    pub tags: Vec<String>,
    pub department: Option<u32>,
    pub priority: i32,
    /// The raw keywords, phrases and synonyms (for the shadowing lint and the resemblance).
    pub samples: Vec<String>,
    /// Questions as residents ask them: the Dutch ones, then every translation's.
    pub examples: Vec<String>,
    /// The topic in other languages.
    pub translations: Vec<TopicTranslation>,
    /// Only a person can answer it: matching it hands over.
    pub handover: bool,
    /// Its name on a button.
    pub button_title: String,
    pub origin: Origin,
}

impl Topic {
    /// The topic's translation into `language`, if the editors wrote one.
    pub fn in_language(&self, language: Language) -> Option<&TopicTranslation> {
        self.translations.iter().find(|t| t.language == language)
    }
}

/// A topic in another language, compiled.
#[derive(Debug, Clone)]
pub struct TopicTranslation {
    pub language: Language,
    pub title: Option<String>,
    pub answers: Vec<String>,
    /// Titles of the topic's links, in order (fewer than the links: the rest are Dutch).
    pub link_titles: Vec<String>,
    /// Titles of the topic's buttons, in order.
    pub button_titles: Vec<String>,
}

/// Per normalised term, the languages it was written for (FNV-hashed: a few lookups a message).
pub(crate) type TermLanguages =
    HashMap<String, Vec<Language>, std::hash::BuildHasherDefault<crate::matcher::FnvHasher>>;

/// A language the flows declare besides Dutch.
#[derive(Debug, Clone)]
pub struct LanguageEntry {
    pub language: Language,
    /// Its name for agents, e.g. `Pools`.
    pub name: String,
    /// The line sent after a Dutch text that has no translation into it.
    pub untranslated: String,
}

/// The follow-up, compiled.
#[derive(Debug, Clone)]
pub struct FollowUp {
    pub def: FollowUpDef,
    pub yes_words: Vec<String>,
    pub no_words: Vec<String>,
    /// Per translated language its own yes and no words (normalised), where it has them.
    pub words_in: Vec<(Language, Vec<String>, Vec<String>)>,
}

impl FollowUp {
    /// The yes and no words a resident writing in `language` is understood by: that
    /// language's own where the editors wrote them, else the Dutch ones.
    pub fn words(&self, language: Language) -> (&[String], &[String]) {
        self.words_in
            .iter()
            .find(|(l, ..)| *l == language)
            .map_or((&self.yes_words, &self.no_words), |(_, y, n)| (y, n))
    }
}

/// Everything the engine needs, validated and compiled. Immutable: a reload builds a new one.
#[derive(Debug)]
pub struct FlowSet {
    pub office: OfficeHours,
    pub privacy: Detector,
    pub(crate) privacy_page_by_topic: HashMap<u32, LinkDef>,
    pub(crate) default_page: LinkDef,
    pub(crate) privacy_reply: String,
    pub departments: Vec<Department>,
    pub(crate) default_department: u32,
    pub(crate) routes: Vec<u32>,
    pub(crate) route_matcher: Matcher,
    pub topics: Vec<Topic>,
    pub(crate) topic_matcher: Matcher,
    pub(crate) topic_similar: crate::similar::Index,
    /// When to ask which topic is meant; without it the best topic answers.
    pub clarify: Option<ClarifyDef>,
    pub handover: HandoverDef,
    pub follow_up: FollowUp,
    /// The languages declared besides Dutch, in code order.
    pub languages: Vec<LanguageEntry>,
    /// Tells a message's language among Dutch, English and the declared ones.
    pub(crate) detector: LanguageDetector,
    /// Per normalised term of [`FlowSet::topic_matcher`], the languages it was written for: a
    /// translation's keywords, phrases and synonyms for its language, the Dutch keywords and
    /// phrases for Dutch (Dutch synonyms are often English, so they count for none).
    pub(crate) term_languages: TermLanguages,
    /// The files it was built from, with their names as shown.
    pub files: Vec<String>,
}

impl FlowSet {
    /// Reads `flows_dir` and `rules_dir` and builds the set. `Err` holds every error (and the
    /// warnings found so far); `Ok` holds the set and its warnings.
    /// The flows must fit every channel this build knows; [`FlowSet::load_for`] names those in
    /// use.
    pub fn load(
        flows_dir: &Path,
        rules_dir: &Path,
    ) -> Result<(FlowSet, Vec<Diagnostic>), Vec<Diagnostic>> {
        Self::load_for(flows_dir, rules_dir, &[])
    }

    /// As [`FlowSet::load`], checking the limits of `channels` only (none: every channel).
    pub fn load_for(
        flows_dir: &Path,
        rules_dir: &Path,
        channels: &[Channel],
    ) -> Result<(FlowSet, Vec<Diagnostic>), Vec<Diagnostic>> {
        let mut sources = Sources::read(flows_dir, rules_dir)?;
        sources.channels = channels.to_vec();
        sources.compile()
    }

    pub fn topic_index(&self, id: &str) -> Option<u32> {
        self.topics
            .iter()
            .position(|t| t.id == id)
            .map(|i| i as u32)
    }

    /// Each department's id and name, in the files' order: the one lookup every page and report
    /// uses.
    pub fn department_names(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.departments
            .iter()
            .map(|d| (d.id.as_str(), d.name.as_str()))
    }

    /// The departments as the web application reads them: `[{id, name}]`.
    pub fn departments_json(&self) -> serde_json::Value {
        self.department_names()
            .map(|(id, name)| serde_json::json!({ "id": id, "name": name }))
            .collect()
    }

    pub fn department_index(&self, id: &str) -> Option<u32> {
        self.departments
            .iter()
            .position(|d| d.id == id)
            .map(|i| i as u32)
    }

    pub fn default_department(&self) -> &Department {
        &self.departments[self.default_department as usize]
    }

    /// The declared language `language`, if the flows declare it.
    pub fn language(&self, language: Language) -> Option<&LanguageEntry> {
        self.languages.iter().find(|l| l.language == language)
    }

    /// The number of distinct terms and of topics, for summaries.
    pub fn term_count(&self) -> usize {
        self.topic_matcher.term_count()
    }
}

/// The raw bytes of every file, before parsing. Tests and benchmarks build one in memory.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// `(shown name, bytes)` of `office-hours.yaml`, `privacy.yaml`, `departments.yaml`.
    pub office_hours: (String, Vec<u8>),
    pub privacy: (String, Vec<u8>),
    pub departments: (String, Vec<u8>),
    /// `(shown name, bytes)` of every flow file, in the order they are read (file name order).
    pub flows: Vec<(String, Vec<u8>)>,
    /// The channels whose limits the flows must fit; empty: every channel.
    pub channels: Vec<Channel>,
}

impl Sources {
    /// Reads the directories: the three rule files, and every `*.yaml`/`*.yml` in `flows_dir`.
    pub fn read(flows_dir: &Path, rules_dir: &Path) -> Result<Sources, Vec<Diagnostic>> {
        let mut errors = Vec::new();
        let mut read = |path: PathBuf| -> (String, Vec<u8>) {
            let name = source::display_name(&path);
            match read_limited(&path) {
                Ok(bytes) => (name, bytes),
                Err(d) => {
                    errors.push(d);
                    (name, Vec::new())
                }
            }
        };
        let office_hours = read(rules_dir.join(RULE_FILES[0]));
        let privacy = read(rules_dir.join(RULE_FILES[1]));
        let departments = read(rules_dir.join(RULE_FILES[2]));
        let mut flows = Vec::new();
        match yaml_files(flows_dir) {
            Ok(paths) if paths.is_empty() => errors.push(Diagnostic::error(
                &source::display_name(flows_dir),
                Pos { line: 1, column: 1 },
                "no flow files (`*.yaml`) in this directory",
            )),
            Ok(paths) => {
                for p in paths {
                    flows.push(read(p));
                }
            }
            Err(e) => errors.push(Diagnostic::error(
                &source::display_name(flows_dir),
                Pos { line: 1, column: 1 },
                format!("cannot read the flows directory: {e}"),
            )),
        }
        // A misspelt rules file would otherwise only show up as "missing".
        if let Ok(paths) = yaml_files(rules_dir) {
            for p in paths {
                let file = p.file_name().and_then(|f| f.to_str()).unwrap_or_default();
                if !RULE_FILES.contains(&file) {
                    errors.push(
                        Diagnostic::error(
                            &source::display_name(&p),
                            Pos { line: 1, column: 1 },
                            format!("unknown rules file `{file}`"),
                        )
                        .with_help(Some(
                            match did_you_mean(file, RULE_FILES) {
                                Some(s) => format!("did you mean `{s}`?"),
                                None => {
                                    format!("the rules directory holds {}", RULE_FILES.join(", "))
                                }
                            },
                        )),
                    );
                }
            }
        }
        if errors.is_empty() {
            Ok(Sources {
                office_hours,
                privacy,
                departments,
                flows,
                channels: Vec::new(),
            })
        } else {
            Err(errors)
        }
    }

    /// Parses, validates and compiles.
    pub fn compile(&self) -> Result<(FlowSet, Vec<Diagnostic>), Vec<Diagnostic>> {
        let mut v = Validator::default();
        v.channels.clone_from(&self.channels);
        let office = v.parse::<crate::calendar::OfficeHoursConfig>(&self.office_hours);
        let privacy = v.parse::<PrivacyFile>(&self.privacy);
        let departments = v.parse::<DepartmentsFile>(&self.departments);
        let flows: Vec<_> = self.flows.iter().map(|f| v.parse::<FlowFile>(f)).collect();
        let mut files = vec![
            self.office_hours.0.clone(),
            self.privacy.0.clone(),
            self.departments.0.clone(),
        ];
        files.extend(self.flows.iter().map(|f| f.0.clone()));
        let built = v.build(office, privacy, departments, flows, files);
        let Validator { mut diags, .. } = v;
        let sort = |diags: &mut Vec<Diagnostic>| {
            diags.sort_by(|a, b| {
                (a.severity, &a.file, a.line, a.column)
                    .cmp(&(b.severity, &b.file, b.line, b.column))
            })
        };
        sort(&mut diags);
        let has_errors = |d: &[Diagnostic]| d.iter().any(|d| d.severity == Severity::Error);
        match built {
            Some(set) if !has_errors(&diags) => {
                diags.extend(lint::personal_data(&set));
                if has_errors(&diags) {
                    sort(&mut diags);
                    return Err(diags);
                }
                diags.extend(lint::shadowed_topics(&set));
                Ok((set, diags))
            }
            _ => Err(diags),
        }
    }
}

fn read_limited(path: &Path) -> Result<Vec<u8>, Diagnostic> {
    let name = source::display_name(path);
    let start = Pos { line: 1, column: 1 };
    let meta = std::fs::metadata(path)
        .map_err(|e| Diagnostic::error(&name, start, format!("cannot read file: {e}")))?;
    if meta.len() > source::MAX_FILE_BYTES as u64 {
        return Err(Diagnostic::error(
            &name,
            start,
            format!(
                "file is {} bytes; the limit is {} bytes: split it into several files",
                meta.len(),
                source::MAX_FILE_BYTES
            ),
        ));
    }
    std::fs::read(path)
        .map_err(|e| Diagnostic::error(&name, start, format!("cannot read file: {e}")))
}

/// The `*.yaml` and `*.yml` files directly in `dir`, sorted by name.
pub fn yaml_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let is_yaml = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e == "yaml" || e == "yml");
        if is_yaml && path.is_file() {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}
