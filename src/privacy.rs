//! Privacy first: find personal data in a resident's message and mask it before anything
//! stores, logs or shows the message.
//!
//! Built in: BSN (elfproef), IBAN (mod-97, any country), Dutch passport and ID-card numbers,
//! and dates of birth; editors declare more in `rules/privacy.yaml` as regular expressions.
//! Words just before or just after a value can cancel it (`zaaknummer 123456782`, `123456782 is
//! mijn klantnummer`) or are required for it (`geboren op 12 maart 1985`, `12 maart 1985
//! geboren`): see [`context`]. The exact format rules (amounts, codes such as `OV-123456782`,
//! phone numbers) are in [`scan`].
//!
//! [`Detector::build`] validates the configuration ([`DetectorsConfig`], [`PatternConfig`])
//! into an immutable [`Detector`]; [`Detector::scan`] and [`Detector::redact`] are pure.
//! A [`Finding`] never holds the raw value, only where it was and its [`mask`].

mod checksum;
mod config;
pub mod context;
pub mod scan;

use std::ops::Range;

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use crate::diag::ConfigIssue;
pub use checksum::{is_valid_bsn, is_valid_iban};
pub use config::{BuiltinDetectorConfig, ContextWords, DetectorsConfig, PatternConfig};
use context::{split_words, Context, Verdict};
use scan::{Candidate, Enabled, Kind};

/// The compiled size limit of one editor pattern, in bytes.
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// One piece of personal data found in a message. Holds no raw value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `bsn`, `iban`, `document_number`, `date_of_birth`, or the id of an editor's pattern.
    pub detector: String,
    /// The name of the kind of data, for agents and replies, such as `burgerservicenummer (BSN)`.
    pub label: String,
    /// Byte range of the value in the scanned text.
    pub range: Range<usize>,
    /// The value as [`mask`] shows it, such as `******782`.
    pub masked: String,
}

/// A message with every finding masked in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redaction {
    /// The message with each found value replaced by its mask.
    pub text: String,
    /// What was found, with ranges into the original message.
    pub findings: Vec<Finding>,
}

/// The compiled detectors: immutable, cheap to clone, safe to share between threads.
#[derive(Debug, Clone)]
pub struct Detector {
    bsn: Option<Rule>,
    iban: Option<Rule>,
    document_number: Option<Rule>,
    date_of_birth: Option<Rule>,
    patterns: Vec<Pattern>,
    pattern_set: Option<RegexSet>,
}

/// Label and context of one detector.
#[derive(Debug, Clone)]
struct Rule {
    id: String,
    label: String,
    require_context: bool,
    context: Context,
}

impl Rule {
    /// Whether a candidate at `start..end` counts, given the words around it.
    fn accepts(&self, text: &str, start: usize, end: usize, needs_raise: bool) -> bool {
        let needs_raise = needs_raise || self.require_context;
        if !needs_raise && !self.context.can_cancel() {
            return true;
        }
        match self.context.verdict(text, start, end) {
            Verdict::Cancel => false,
            Verdict::Raise => true,
            Verdict::Neutral => !needs_raise,
        }
    }
}

/// An editor's pattern.
#[derive(Debug, Clone)]
struct Pattern {
    rule: Rule,
    regex: Regex,
}

/// Built-in defaults of one detector.
struct Defaults {
    key: &'static str,
    label: &'static str,
    require_context: bool,
    cancel: &'static [&'static str],
    raise: &'static [&'static str],
}

const NUMBER_CANCEL: &[&str] = &[
    "zaaknummer",
    "zaaknr",
    "zaak",
    "ordernummer",
    "ordernr",
    "order",
    "bestelnummer",
    "kenmerk",
    "referentie",
    "referentienummer",
    "ref",
    "factuurnummer",
    "factuurnr",
    "factuur",
    "klantnummer",
    "klantnr",
    "debiteurnummer",
    "debiteurnr",
    "relatienummer",
    "dossiernummer",
    "polisnummer",
    "aanvraagnummer",
    "registratienummer",
    "ticketnummer",
    "trackingnummer",
    "track & trace",
    "pakketnummer",
    "pakket",
    "zendingnummer",
    "bestelling",
    "artikelnummer",
    "vergunningnummer",
    "vergunningsnummer",
    "olo",
    "olo-nummer",
    "dso",
    "telefoon",
    "telefoonnummer",
    "telnr",
    "tel",
    "mobiel",
    "gsm",
    "kvk",
    "kvk-nummer",
    "btw",
    "btw-nummer",
    "rekeningnummer",
    "bedrag",
    "eur",
    "euro",
];

const BSN: Defaults = Defaults {
    key: "bsn",
    label: "burgerservicenummer (BSN)",
    require_context: false,
    cancel: NUMBER_CANCEL,
    raise: &[
        "bsn",
        "bsn-nummer",
        "burgerservicenummer",
        "burger service nummer",
        "burgerservice nummer",
        "sofinummer",
        "sofi-nummer",
    ],
};

const IBAN: Defaults = Defaults {
    key: "iban",
    label: "bankrekeningnummer (IBAN)",
    require_context: false,
    cancel: &[],
    raise: &["iban", "rekeningnummer", "bankrekeningnummer", "rekening"],
};

const DOCUMENT_NUMBER: Defaults = Defaults {
    key: "document_number",
    label: "paspoort- of ID-kaartnummer",
    require_context: false,
    cancel: &[
        "zaaknummer",
        "ordernummer",
        "kenmerk",
        "referentie",
        "factuurnummer",
        "klantnummer",
        "kenteken",
    ],
    raise: &[
        "paspoort",
        "paspoortnummer",
        "id-kaart",
        "idkaart",
        "id-kaartnummer",
        "identiteitskaart",
        "identiteitsbewijs",
        "documentnummer",
    ],
};

const DATE_OF_BIRTH: Defaults = Defaults {
    key: "date_of_birth",
    label: "geboortedatum",
    require_context: true,
    cancel: &["afspraak", "afspraken"],
    raise: &[
        "geboren",
        "geboortedatum",
        "geboorte datum",
        "geb",
        "geb datum",
        "verjaardag",
        "jarig",
    ],
};

const BUILTIN_IDS: [&str; 4] = ["bsn", "iban", "document_number", "date_of_birth"];

impl Default for Detector {
    /// All built-in detectors with their built-in labels and context words, no editor patterns.
    fn default() -> Self {
        let mut issues = Vec::new();
        let builtin = BuiltinDetectorConfig::default();
        Detector {
            bsn: rule(&builtin, &BSN, &mut issues),
            iban: rule(&builtin, &IBAN, &mut issues),
            document_number: rule(&builtin, &DOCUMENT_NUMBER, &mut issues),
            date_of_birth: rule(&builtin, &DATE_OF_BIRTH, &mut issues),
            patterns: Vec::new(),
            pattern_set: None,
        }
    }
}

impl Detector {
    /// Validates and compiles the `detectors:` and `patterns:` sections, reporting every
    /// problem. Issue paths are relative to the file root: `detectors.bsn.context.cancel[0]`,
    /// `patterns[1].pattern`, `patterns[2].id`.
    pub fn build(
        detectors: &DetectorsConfig,
        patterns: &[PatternConfig],
    ) -> Result<Detector, Vec<ConfigIssue>> {
        let mut issues = Vec::new();
        let bsn = rule(&detectors.bsn, &BSN, &mut issues);
        let iban = rule(&detectors.iban, &IBAN, &mut issues);
        let document_number = rule(&detectors.document_number, &DOCUMENT_NUMBER, &mut issues);
        let date_of_birth = rule(&detectors.date_of_birth, &DATE_OF_BIRTH, &mut issues);

        let mut compiled = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            let path = format!("patterns[{i}]");
            check_pattern_id(patterns, i, &path, &mut issues);
            if p.label.trim().is_empty() {
                issues.push(ConfigIssue::new(
                    format!("{path}.label"),
                    "the label is empty",
                ));
            }
            let context = compile_context(
                &path,
                p.context.cancel.as_deref().unwrap_or_default(),
                p.context.raise.as_deref().unwrap_or_default(),
                &mut issues,
            );
            if p.require_context && p.context.raise.as_ref().is_none_or(Vec::is_empty) {
                issues.push(
                    ConfigIssue::new(
                        format!("{path}.require_context"),
                        "context is required but there are no raise words",
                    )
                    .with_help("add words to `context.raise`, or leave out `require_context`"),
                );
            }
            if let Some(regex) =
                compile_pattern(&p.pattern, &format!("{path}.pattern"), &mut issues)
            {
                compiled.push(Pattern {
                    rule: Rule {
                        id: p.id.clone(),
                        label: p.label.clone(),
                        require_context: p.require_context,
                        context,
                    },
                    regex,
                });
            }
        }

        let pattern_set = if compiled.is_empty() || !issues.is_empty() {
            None
        } else {
            match RegexSetBuilder::new(compiled.iter().map(|p| p.regex.as_str()))
                .size_limit(PATTERN_SIZE_LIMIT * compiled.len().max(1))
                .build()
            {
                Ok(set) => Some(set),
                Err(e) => {
                    issues.push(ConfigIssue::new(
                        "patterns",
                        format!("the patterns together are too large to compile: {e}"),
                    ));
                    None
                }
            }
        };

        if !issues.is_empty() {
            return Err(issues);
        }
        Ok(Detector {
            bsn,
            iban,
            document_number,
            date_of_birth,
            patterns: compiled,
            pattern_set,
        })
    }

    /// Every piece of personal data in `text`, sorted by position and not overlapping (when two
    /// overlap, the one that starts first wins; at the same start, the longer one).
    pub fn scan(&self, text: &str) -> Vec<Finding> {
        let mut hits: Vec<(Range<usize>, &Rule)> = Vec::new();

        let enabled = Enabled {
            bsn: self.bsn.is_some(),
            iban: self.iban.is_some(),
            document_number: self.document_number.is_some(),
            date_of_birth: self.date_of_birth.is_some(),
        };
        let mut candidates = Vec::new();
        scan::candidates(text, enabled, &mut candidates);
        for Candidate {
            kind,
            start,
            end,
            needs_raise,
        } in candidates
        {
            let rule = match kind {
                Kind::Bsn => &self.bsn,
                Kind::Iban => &self.iban,
                Kind::DocumentNumber => &self.document_number,
                Kind::DateOfBirth => &self.date_of_birth,
            };
            if let Some(rule) = rule {
                if rule.accepts(text, start, end, needs_raise) {
                    hits.push((start..end, rule));
                }
            }
        }

        if let Some(set) = &self.pattern_set {
            for index in set.matches(text).iter() {
                let Some(pattern) = self.patterns.get(index) else {
                    continue;
                };
                for m in pattern.regex.find_iter(text) {
                    if !m.is_empty() && pattern.rule.accepts(text, m.start(), m.end(), false) {
                        hits.push((m.range(), &pattern.rule));
                    }
                }
            }
        }

        hits.sort_by(|a, b| a.0.start.cmp(&b.0.start).then(b.0.end.cmp(&a.0.end)));
        let mut findings: Vec<Finding> = Vec::with_capacity(hits.len());
        let mut covered = 0;
        for (range, rule) in hits {
            if range.start < covered {
                continue;
            }
            covered = range.end;
            findings.push(Finding {
                detector: rule.id.clone(),
                label: rule.label.clone(),
                masked: mask(&text[range.clone()]),
                range,
            });
        }
        findings
    }

    /// `text` with every finding replaced by its mask.
    pub fn redact(&self, text: &str) -> Redaction {
        let findings = self.scan(text);
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for f in &findings {
            out.push_str(&text[at..f.range.start]);
            out.push_str(&f.masked);
            at = f.range.end;
        }
        out.push_str(&text[at..]);
        Redaction {
            text: out,
            findings,
        }
    }
}

/// Masks a value: separators (everything but letters and digits) are dropped, the last three
/// characters stay, the others become `*`: `1234 56 782` → `******782`. A value of fewer than
/// six letters and digits is masked completely, since its last three would give most of it
/// away.
pub fn mask(value: &str) -> String {
    let count = value.chars().filter(|c| c.is_alphanumeric()).count();
    let keep = if count >= 6 { 3 } else { 0 };
    let mut out = String::with_capacity(count);
    for (i, c) in value.chars().filter(|c| c.is_alphanumeric()).enumerate() {
        if i + keep < count {
            out.push('*');
        } else {
            out.push(c);
        }
    }
    out
}

/// Compiles one built-in detector's settings; `None` when it is disabled.
fn rule(
    config: &BuiltinDetectorConfig,
    defaults: &Defaults,
    issues: &mut Vec<ConfigIssue>,
) -> Option<Rule> {
    let path = format!("detectors.{}", defaults.key);
    let owned = |words: &[&str]| words.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();
    let cancel = config
        .context
        .cancel
        .clone()
        .unwrap_or_else(|| owned(defaults.cancel));
    let raise = config
        .context
        .raise
        .clone()
        .unwrap_or_else(|| owned(defaults.raise));
    let context = compile_context(&path, &cancel, &raise, issues);
    let label = match &config.label {
        Some(label) if label.trim().is_empty() => {
            issues.push(ConfigIssue::new(
                format!("{path}.label"),
                "the label is empty",
            ));
            String::new()
        }
        Some(label) => label.clone(),
        None => defaults.label.to_owned(),
    };
    let require_context = config.require_context.unwrap_or(defaults.require_context);
    if require_context && raise.is_empty() && config.enabled {
        issues.push(
            ConfigIssue::new(
                format!("{path}.require_context"),
                "context is required but there are no raise words",
            )
            .with_help("add words to `context.raise`, or set `require_context: false`"),
        );
    }
    config.enabled.then(|| Rule {
        id: defaults.key.to_owned(),
        label,
        require_context,
        context,
    })
}

/// Folds the context words into phrases, reporting words without letters or digits and words
/// that are in both lists.
fn compile_context(
    path: &str,
    cancel: &[String],
    raise: &[String],
    issues: &mut Vec<ConfigIssue>,
) -> Context {
    let mut fold = |list: &str, words: &[String]| -> Vec<Vec<String>> {
        let mut phrases = Vec::new();
        for (i, word) in words.iter().enumerate() {
            let phrase = split_words(word);
            if phrase.is_empty() {
                issues.push(ConfigIssue::new(
                    format!("{path}.context.{list}[{i}]"),
                    format!("context word `{word}` has no letters or digits"),
                ));
            } else {
                phrases.push(phrase);
            }
        }
        phrases
    };
    let cancel = fold("cancel", cancel);
    let raise_phrases = fold("raise", raise);
    for (i, phrase) in raise_phrases.iter().enumerate() {
        if cancel.contains(phrase) {
            issues.push(ConfigIssue::new(
                format!("{path}.context.raise[{i}]"),
                format!("`{}` is both a cancel and a raise word", phrase.join(" ")),
            ));
        }
    }
    Context::new(cancel, raise_phrases)
}

fn check_pattern_id(
    patterns: &[PatternConfig],
    i: usize,
    path: &str,
    issues: &mut Vec<ConfigIssue>,
) {
    let id = patterns[i].id.as_str();
    let path = format!("{path}.id");
    if id.trim().is_empty() {
        issues.push(ConfigIssue::new(path, "the id is empty"));
    } else if BUILTIN_IDS.contains(&id) {
        issues.push(
            ConfigIssue::new(path, format!("`{id}` is the name of a built-in detector"))
                .with_help("pick another id, or configure it under `detectors`"),
        );
    } else if let Some(first) = patterns[..i].iter().position(|p| p.id == id) {
        issues.push(
            ConfigIssue::new(path, format!("duplicate id `{id}`"))
                .with_help(format!("`patterns[{first}]` already uses it")),
        );
    }
}

/// Compiles an editor's pattern, reporting look-around and syntax errors with their position.
fn compile_pattern(pattern: &str, path: &str, issues: &mut Vec<ConfigIssue>) -> Option<Regex> {
    if pattern.is_empty() {
        issues.push(ConfigIssue::new(path, "the pattern is empty"));
        return None;
    }
    if let Some((at, token)) = find_look_around(pattern) {
        issues.push(
            ConfigIssue::new(
                path,
                format!(
                    "look-around `{token}` at character {at} is not supported: patterns must run in linear time"
                ),
            )
            .with_help("match the surrounding text itself, or use `\\b` for a word boundary"),
        );
        return None;
    }
    match RegexBuilder::new(pattern)
        .size_limit(PATTERN_SIZE_LIMIT)
        .build()
    {
        Ok(regex) if regex.is_match("") => {
            issues.push(ConfigIssue::new(
                path,
                format!("pattern `{pattern}` matches empty text"),
            ));
            None
        }
        Ok(regex) => Some(regex),
        Err(e) => {
            issues.push(ConfigIssue::new(path, describe_regex_error(&e)));
            None
        }
    }
}

/// Where (1-based character) the first look-around group starts, and its opening token.
fn find_look_around(pattern: &str) -> Option<(usize, &'static str)> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '[' => in_class = true,
            ']' => in_class = false,
            '(' if !in_class => {
                let rest: String = chars[i + 1..].iter().take(3).collect();
                for token in ["?<=", "?<!", "?=", "?!"] {
                    if rest.starts_with(token) {
                        let shown = match token {
                            "?<=" => "(?<=",
                            "?<!" => "(?<!",
                            "?=" => "(?=",
                            _ => "(?!",
                        };
                        return Some((i + 1, shown));
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// A one-line description of a regex error: what is wrong and at which character.
fn describe_regex_error(e: &regex::Error) -> String {
    match e {
        regex::Error::Syntax(text) => {
            let what = text
                .lines()
                .find_map(|l| l.strip_prefix("error: "))
                .unwrap_or("invalid pattern");
            // The message shows the pattern indented by four spaces, carets under the problem.
            let at = text
                .lines()
                .find(|l| l.contains('^') && l.chars().all(|c| c == ' ' || c == '^'))
                .and_then(|l| l.find('^'))
                .map(|col| col.saturating_sub(4) + 1);
            match at {
                Some(at) => format!("invalid pattern at character {at}: {what}"),
                None => format!("invalid pattern: {what}"),
            }
        }
        regex::Error::CompiledTooBig(limit) => {
            format!("the pattern is too large: it compiles to more than {limit} bytes")
        }
        _ => "invalid pattern".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(text: &str) -> String {
        Detector::default().redact(text).text
    }

    #[test]
    fn masks_keep_last_three_without_separators() {
        assert_eq!(mask("123456782"), "******782");
        assert_eq!(mask("1234 56 782"), "******782");
        assert_eq!(mask("NL91 ABNA 0417 1643 00"), "***************300");
        assert_eq!(mask("12 maart 1985"), "********985");
        assert_eq!(mask("AB1"), "***");
        assert_eq!(mask(""), "");
    }

    #[test]
    fn bsn_in_a_sentence_is_masked_unless_cancelled() {
        assert_eq!(masked("mijn bsn is 123456782."), "mijn bsn is ******782.");
        assert_eq!(masked("Mijn BSN: 1234 56 782"), "Mijn BSN: ******782");
        assert_eq!(masked("123-456-782 graag"), "******782 graag");
        assert_eq!(masked("zaaknummer 123456782"), "zaaknummer 123456782");
        assert_eq!(
            masked("Mijn ordernr. is 123456782"),
            "Mijn ordernr. is 123456782"
        );
        assert_eq!(masked("Téléfoon: 123456782"), "Téléfoon: 123456782");
        assert_eq!(masked("bel 06-12345678"), "bel 06-12345678");
        assert_eq!(masked("bel +31 6 12345678"), "bel +31 6 12345678");
        assert_eq!(masked("bel 0115-123456"), "bel 0115-123456");
        assert_eq!(masked("nummer 1234567820"), "nummer 1234567820");
        assert_eq!(masked("nummer 123456781"), "nummer 123456781");
    }

    #[test]
    fn eight_digit_bsn_needs_a_raise_word() {
        assert_eq!(masked("mijn bsn is 12345672"), "mijn bsn is *****672");
        assert_eq!(masked("nummer 12345672"), "nummer 12345672");
    }

    #[test]
    fn iban_is_masked_in_any_case() {
        assert_eq!(
            masked("IBAN NL91 ABNA 0417 1643 00 graag"),
            "IBAN ***************300 graag"
        );
        assert_eq!(masked("nl91abna0417164300"), "***************300");
        assert_eq!(masked("NL92ABNA0417164300"), "NL92ABNA0417164300");
    }

    #[test]
    fn document_numbers_in_capitals_or_after_context() {
        assert_eq!(masked("nummer NXC4R2L91"), "nummer ******L91");
        assert_eq!(
            masked("mijn paspoort: nxc4r2l91"),
            "mijn paspoort: ******l91"
        );
        assert_eq!(masked("zie nxc4r2l91"), "zie nxc4r2l91");
        assert_eq!(masked("BEZORGING1 KLAAR"), "BEZORGING1 KLAAR");
        assert_eq!(masked("ABCDEFGH1"), "ABCDEFGH1");
        assert_eq!(masked("ID-kaart ABCDEFGH1"), "ID-kaart ******GH1");
    }

    #[test]
    fn date_of_birth_needs_context() {
        assert_eq!(
            masked("ik ben geboren op 12 maart 1985"),
            "ik ben geboren op ********985"
        );
        assert_eq!(masked("geb. 12-03-1985"), "geb. *****985");
        assert_eq!(masked("afspraak op 12-03-2026"), "afspraak op 12-03-2026");
        assert_eq!(masked("op 12-03-1985 verhuisd"), "op 12-03-1985 verhuisd");
        assert_eq!(masked("geboren 31-02-1985"), "geboren 31-02-1985");
    }

    #[test]
    fn findings_are_sorted_and_hold_no_raw_value() {
        let d = Detector::default();
        let text = "bsn 123456782 en iban NL91ABNA0417164300";
        let findings = d.scan(text);
        let ids: Vec<&str> = findings.iter().map(|f| f.detector.as_str()).collect();
        assert_eq!(ids, ["bsn", "iban"]);
        assert_eq!(&text[findings[0].range.clone()], "123456782");
        let debug = format!("{findings:?} {:?} {d:?}", d.redact(text));
        assert!(!debug.contains("123456782"), "{debug}");
        assert!(!debug.contains("0417164300"), "{debug}");
    }

    #[test]
    fn detector_is_shareable_between_threads() {
        fn shareable<T: Send + Sync + Clone>() {}
        shareable::<Detector>();
    }

    #[test]
    fn eight_digits_right_after_a_phone_prefix_are_refused() {
        assert_eq!(masked("bsn of 06 - 12345672"), "bsn of 06 - 12345672");
        assert_eq!(masked("bsn 1234 5672"), "bsn 1234 5672");
    }

    #[test]
    fn disabled_detector_finds_nothing() {
        let mut config = DetectorsConfig::default();
        config.bsn.enabled = false;
        let d = Detector::build(&config, &[]).unwrap();
        assert!(d.scan("bsn 123456782").is_empty());
    }

    fn pattern(id: &str, regex: &str) -> PatternConfig {
        PatternConfig {
            id: id.into(),
            label: "klantnummer".into(),
            pattern: regex.into(),
            require_context: false,
            context: ContextWords::default(),
        }
    }

    #[test]
    fn editor_patterns_match_with_context() {
        let mut p = pattern("klantnummer-belastingen", r"\bBSG-\d{8}\b");
        p.context.cancel = Some(vec!["voorbeeld".into()]);
        let d = Detector::build(&DetectorsConfig::default(), &[p]).unwrap();
        let r = d.redact("mijn nummer BSG-12345678, voorbeeld BSG-87654321");
        assert_eq!(r.text, "mijn nummer ********678, voorbeeld BSG-87654321");
        assert_eq!(r.findings[0].detector, "klantnummer-belastingen");
    }

    #[test]
    fn build_reports_every_problem_with_its_path() {
        let mut detectors = DetectorsConfig::default();
        detectors.bsn.context.cancel = Some(vec!["...".into(), "zaak".into()]);
        detectors.date_of_birth.context.raise = Some(vec![]);
        let patterns = [
            pattern("a", r"(?<=BSG-)\d{8}"),
            pattern("b", r"\d{3"),
            pattern("a", r"x"),
            pattern("bsn", r"y*"),
        ];
        let issues = Detector::build(&detectors, &patterns).unwrap_err();
        let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "detectors.bsn.context.cancel[0]",
                "detectors.date_of_birth.require_context",
                "patterns[0].pattern",
                "patterns[1].pattern",
                "patterns[2].id",
                "patterns[3].id",
                "patterns[3].pattern",
            ]
        );
        assert_eq!(
            issues[2].message,
            "look-around `(?<=` at character 1 is not supported: patterns must run in linear time"
        );
        assert!(
            issues[3]
                .message
                .starts_with("invalid pattern at character "),
            "{}",
            issues[3].message
        );
        assert_eq!(
            issues[4].help.as_deref(),
            Some("`patterns[0]` already uses it")
        );
        for issue in &issues {
            assert!(!issue.message.ends_with('.'), "{issue}");
        }
    }

    #[test]
    fn look_around_inside_a_class_or_escaped_is_fine() {
        assert_eq!(find_look_around(r"[(?=]\(?=x"), None);
        assert_eq!(find_look_around(r"ab(?!c)"), Some((3, "(?!")));
        assert_eq!(find_look_around(r"(?<name>x)"), None);
    }
}
