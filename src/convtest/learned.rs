//! Conversation tests learned from the inbox: a question an agent labelled with the topic that
//! should have answered it (or "a new topic is needed"), written as a test in the editors' own
//! file of learned tests.
//!
//! Pure: the caller reads the file and writes the result (atomically). The new test is appended
//! as text, so that whatever the editor wrote in the file (comments, order, layout) stays as it
//! was; the result is read back with the same loader as `triage test` before it is handed out.

use super::{parse_time, LoadedTests};
use crate::flows::model::TestCase;

/// The file the learned tests go to, in the conversation tests' directory.
pub const FILE_NAME: &str = "geleerd.yaml";

/// When a learned conversation starts: a Wednesday morning, the office open. The bot answers
/// FAQ day and night, and a handover's reply depends on the hour: one fixed time keeps every
/// learned test alike and independent of the day it runs.
pub const AT: &str = "2026-11-25T10:00:00+01:00";

/// What the header of a new file says, below the schema line the directory's other files carry.
const HEADER: &str = "\
# Geleerd uit de inbox: vragen die een medewerker markeerde met het onderwerp dat ze had moeten
# beantwoorden, of met \"nieuw onderwerp nodig\". De knop \"Maak test\" op de redactiepagina zet
# ze hier onderaan; je mag ze aanpassen, verplaatsen of weghalen zoals elke andere test.
# Persoonsgegevens zijn afgeschermd (******) en blijven dat. Een test die faalt, laat zien wat
# de flows nog niet goed doen: pas de flows aan tot `triage test` slaagt.
";

/// One labelled question to write as a test.
#[derive(Clone, PartialEq, Eq)]
pub struct Learned {
    /// The message's masked text.
    pub text: String,
    /// The topic that should answer it; `None`: a new topic is needed, so for now a person does.
    pub topic: Option<String>,
    /// The stored message it came from (named in the test, to find it back).
    pub message_id: i64,
    /// Who labelled it, when (a date as the editors read it), and their note.
    pub by: String,
    pub on: String,
    pub note: Option<String>,
    /// What the bot did with it, in words (`naar een medewerker`, `onderwerp afvalkalender`).
    pub bot: Option<String>,
}

impl std::fmt::Debug for Learned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Learned")
            .field("message_id", &self.message_id)
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

impl Learned {
    /// The test's name: which message, and what it must do.
    pub fn name(&self) -> String {
        match &self.topic {
            Some(t) => format!("gelabelde vraag {}: hoort bij {t}", self.message_id),
            None => format!(
                "gelabelde vraag {}: nog geen onderwerp, dus naar een medewerker",
                self.message_id
            ),
        }
    }

    /// Whether `case` already tests this question the same way (a second click adds nothing).
    fn is_in(&self, case: &TestCase) -> bool {
        case.steps.iter().any(|s| {
            s.say.as_deref() == Some(self.text.as_str())
                && match &self.topic {
                    Some(t) => s.expect.topic.as_deref() == Some(t.as_str()),
                    None => s.expect.outcome.as_deref() == Some("handover"),
                }
        })
    }

    /// The test as YAML: a list item indented by `indent` spaces, with a comment above it.
    pub fn yaml(&self, indent: usize) -> String {
        let pad = " ".repeat(indent);
        let mut out = String::new();
        let bot = self
            .bot
            .as_deref()
            .map(|b| format!("; de bot: {}", one_line(b)))
            .unwrap_or_default();
        out.push_str(&format!(
            "{pad}# Gemarkeerd door {} op {} (bericht {}){bot}.\n",
            one_line(&self.by),
            one_line(&self.on),
            self.message_id
        ));
        if let Some(note) = self.note.as_deref().filter(|n| !n.trim().is_empty()) {
            out.push_str(&format!("{pad}# Notitie: {}\n", one_line(note)));
        }
        let expect = match &self.topic {
            Some(t) => format!("{{ outcome: faq, topic: {} }}", plain_or_quoted(t)),
            None => "{ outcome: handover }".to_string(),
        };
        out.push_str(&format!("{pad}- name: {}\n", quoted(&self.name())));
        out.push_str(&format!("{pad}  at: {AT}\n"));
        out.push_str(&format!("{pad}  steps:\n"));
        out.push_str(&format!("{pad}    - say: {}\n", quoted(&self.text)));
        out.push_str(&format!("{pad}      expect: {expect}\n"));
        out
    }
}

/// What appending did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// The file's new text, and the YAML that was added to it.
    Added { text: String, added: String },
    /// The file tests this question this way already: nothing to write.
    AlreadyThere,
}

/// Why a test could not be added; the file is left as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendError {
    /// The file as it is does not load: its problems, with their places.
    Invalid(Vec<crate::source::Diagnostic>),
    /// The file loads, but its layout leaves nowhere to add a test at the end (a `tests:` list
    /// written inline, say).
    Layout,
}

/// The text of the learned tests' file (`name` as diagnostics show it) with `case` added at the
/// end; `existing` is its text now, `None` when it does not exist yet (a new one starts with
/// `schema_line`, if the directory's files have one, and a header).
pub fn append(
    name: &str,
    existing: Option<&str>,
    case: &Learned,
    schema_line: Option<&str>,
) -> Result<Appended, AppendError> {
    let (before, count) = match existing {
        Some(text) if !text.trim().is_empty() => {
            let loaded = super::parse(name, text).map_err(AppendError::Invalid)?;
            if loaded.tests.tests.iter().any(|c| case.is_in(c)) {
                return Ok(Appended::AlreadyThere);
            }
            (text.to_string(), loaded.tests.tests.len())
        }
        _ => {
            let mut head = String::new();
            if let Some(line) = schema_line {
                head.push_str(line.trim_end());
                head.push_str("\n#\n");
            }
            head.push_str(HEADER);
            head.push_str("\ntests:\n");
            (head, 0)
        }
    };
    let mut text = before;
    // An empty list written inline becomes a block, the form the rest of the file can follow.
    if count == 0 {
        text = inline_empty_list(&text);
    }
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let added = case.yaml(item_indent(&text));
    // A blank line between tests, as the shipped files have them.
    if count > 0 && !text.ends_with("\n\n") {
        text.push('\n');
    }
    text.push_str(&added);
    let check = super::parse(name, &text).map_err(|_| AppendError::Layout)?;
    if !is_added(&check, count, case) {
        return Err(AppendError::Layout);
    }
    Ok(Appended::Added { text, added })
}

/// Whether `loaded` holds `count` tests and then `case`, as written.
fn is_added(loaded: &LoadedTests, count: usize, case: &Learned) -> bool {
    let tests = &loaded.tests.tests;
    tests.len() == count + 1
        && tests.last().is_some_and(|t| {
            t.name == case.name()
                && parse_time(&t.at) == parse_time(AT)
                && t.steps.len() == 1
                && case.is_in(t)
        })
}

/// `tests: []` (nothing else on the line) as `tests:`.
fn inline_empty_list(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        if compact == "tests:[]" && !body.starts_with(' ') {
            out.push_str("tests:");
            out.push_str(&line[body.len()..]);
        } else {
            out.push_str(line);
        }
    }
    out
}

/// How far the file indents the items of its `tests:` list (2 when it has none yet).
fn item_indent(text: &str) -> usize {
    let mut in_tests = false;
    for line in text.lines() {
        if line.starts_with("tests:") {
            in_tests = true;
            continue;
        }
        if in_tests {
            let trimmed = line.trim_start();
            if trimmed.starts_with("- ") || trimmed == "-" {
                return line.len() - trimmed.len();
            }
        }
    }
    2
}

/// A YAML double-quoted scalar of `s`: every character as it is, escaped where YAML needs it.
/// A masked value (`******782`) stays as it is, and never reads as an alias.
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control()
                || matches!(
                    c,
                    '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
                ) =>
            {
                out.push_str(&format!("\\u{:04X}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A topic id as editors write it (`afvalkalender`), quoted only when YAML would read it as
/// something else.
fn plain_or_quoted(s: &str) -> String {
    let plain = s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !matches!(
            s,
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        );
    if plain {
        s.to_string()
    } else {
        quoted(s)
    }
}

/// Text for a comment line: one line, no control characters.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learned(text: &str, topic: Option<&str>) -> Learned {
        Learned {
            text: text.into(),
            topic: topic.map(str::to_string),
            message_id: 12,
            by: "sanne".into(),
            on: "24-11-2026".into(),
            note: Some("bedoelt de\nkliko".into()),
            bot: Some("naar een medewerker".into()),
        }
    }

    fn added(r: Result<Appended, AppendError>) -> (String, String) {
        match r {
            Ok(Appended::Added { text, added }) => (text, added),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_new_file_has_the_schema_line_a_header_and_the_test() {
        let case = learned("wanneer komt de groene bak", Some("afvalkalender"));
        let (text, added) = added(append(
            "geleerd.yaml",
            None,
            &case,
            Some("# yaml-language-server: $schema=../../schema/conversation-test.schema.json"),
        ));
        assert!(text.starts_with("# yaml-language-server: $schema=../../schema/"));
        assert!(text.contains("\ntests:\n"));
        assert!(text.ends_with(&added));
        assert_eq!(
            added,
            "  # Gemarkeerd door sanne op 24-11-2026 (bericht 12); de bot: naar een medewerker.\n\
             \x20 # Notitie: bedoelt de kliko\n\
             \x20 - name: \"gelabelde vraag 12: hoort bij afvalkalender\"\n\
             \x20   at: 2026-11-25T10:00:00+01:00\n\
             \x20   steps:\n\
             \x20     - say: \"wanneer komt de groene bak\"\n\
             \x20       expect: { outcome: faq, topic: afvalkalender }\n"
        );
        let loaded = crate::convtest::parse("geleerd.yaml", &text).unwrap();
        assert_eq!(loaded.tests.tests.len(), 1);
    }

    #[test]
    fn the_editors_content_stays_and_the_test_follows_its_indent() {
        let existing = "\
# mijn eigen uitleg
tests:
# een test die ik zelf schreef
- name: eigen
  at: 2026-11-25T10:00:00+01:00
  steps:
    - say: hoi   # groet
      expect: { outcome: faq }
";
        let case = learned("ik wil iets nieuws", None);
        let (text, added) = added(append("geleerd.yaml", Some(existing), &case, None));
        assert!(text.starts_with(existing), "{text}");
        assert_eq!(&text[existing.len()..], format!("\n{added}"));
        assert!(
            added.contains("\n- name: "),
            "indent 0 as the file has it: {added}"
        );
        assert!(added.contains("expect: { outcome: handover }"));
        let loaded = crate::convtest::parse("geleerd.yaml", &text).unwrap();
        assert_eq!(loaded.tests.tests.len(), 2);
        assert_eq!(loaded.tests.tests[0].name, "eigen");
        // The same question with the same expectation again adds nothing.
        assert_eq!(
            append("geleerd.yaml", Some(&text), &case, None),
            Ok(Appended::AlreadyThere)
        );
        // With another topic it does.
        let other = learned("ik wil iets nieuws", Some("afvalkalender"));
        assert!(matches!(
            append("geleerd.yaml", Some(&text), &other, None),
            Ok(Appended::Added { .. })
        ));
    }

    #[test]
    fn masked_values_quotes_and_line_breaks_survive_as_written() {
        for text in [
            "mijn bsn is ******782, ik ben verhuisd",
            "******782",
            "&anker *alias !tag [lijst] {map} # geen commentaar: echt",
            "zei \"hoi\" met een \\ erin",
            "twee\nregels\ten een tab\r",
            "emoji 😭🗑️ en é ß",
            "yes",
            "- lijstje",
            "\u{2028}rare\u{feff}tekens\u{7}",
        ] {
            let case = learned(text, Some("afvalkalender"));
            let (file, _) = added(append("geleerd.yaml", None, &case, None));
            let loaded = crate::convtest::parse("geleerd.yaml", &file)
                .unwrap_or_else(|e| panic!("{text:?}: {e:?}\n{file}"));
            assert_eq!(
                loaded.tests.tests[0].steps[0].say.as_deref(),
                Some(text),
                "{file}"
            );
        }
    }

    #[test]
    fn topic_ids_are_written_plain_unless_yaml_would_misread_them() {
        for (id, written) in [
            ("paspoort-id-kaart", "paspoort-id-kaart"),
            ("null", "\"null\""),
            ("yes", "\"yes\""),
            ("12-uur", "\"12-uur\""),
            ("Hoofd: letter", "\"Hoofd: letter\""),
        ] {
            let case = learned("x", Some(id));
            assert!(
                case.yaml(2).contains(&format!("topic: {written} }}")),
                "{id}"
            );
            let (file, _) = added(append("geleerd.yaml", None, &case, None));
            let loaded = crate::convtest::parse("geleerd.yaml", &file).unwrap();
            assert_eq!(
                loaded.tests.tests[0].steps[0].expect.topic.as_deref(),
                Some(id)
            );
        }
    }

    #[test]
    fn a_broken_file_is_left_alone_with_its_errors() {
        let broken = "tests:\n  - name: kapot\n    at: 2026-11-25T10:00:00+01:00\n    stepz: []\n";
        match append("geleerd.yaml", Some(broken), &learned("x", None), None) {
            Err(AppendError::Invalid(d)) => {
                assert!(d[0].to_string().contains("geleerd.yaml:4:"), "{}", d[0]);
            }
            other => panic!("{other:?}"),
        }
        // A list written inline cannot be added to as text.
        let inline =
            "tests: [{ name: a, at: \"2026-11-25T10:00:00+01:00\", steps: [{ say: hoi }] }]\n";
        assert_eq!(
            append("geleerd.yaml", Some(inline), &learned("x", None), None),
            Err(AppendError::Layout)
        );
        // An empty one can.
        let (text, _) = added(append(
            "geleerd.yaml",
            Some("# leeg\ntests: []\n"),
            &learned("x", None),
            None,
        ));
        assert!(text.starts_with("# leeg\ntests:\n  #"), "{text}");
    }
}
