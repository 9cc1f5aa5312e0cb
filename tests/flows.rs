//! The flow language end to end on a small, self-contained set of files: loading, every kind of
//! validation error with its position, bad input of every sort, and the engine's decisions.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use triage::channel::{Channel, WHATSAPP};
use triage::engine::{
    decide, follow_up, ConversationState, Message, Outcome, Phase, Reply, Step, WinReason,
};
use triage::flows::FlowSet;
use triage::source::{Diagnostic, Severity};

mod common;
use common::{DEPARTMENTS, FLOWS, OFFICE, PRIVACY};

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let f = Fixture {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(f.dir.path().join("flows")).unwrap();
        std::fs::create_dir_all(f.dir.path().join("rules")).unwrap();
        f.write("rules/office-hours.yaml", OFFICE.as_bytes());
        f.write("rules/departments.yaml", DEPARTMENTS.as_bytes());
        f.write("rules/privacy.yaml", PRIVACY.as_bytes());
        f.write("flows/main.yaml", FLOWS.as_bytes());
        f
    }

    fn write(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.dir.path().join(name), bytes).unwrap();
    }

    fn flows(&self) -> PathBuf {
        self.dir.path().join("flows")
    }
    fn rules(&self) -> PathBuf {
        self.dir.path().join("rules")
    }

    fn load(&self) -> Result<(FlowSet, Vec<Diagnostic>), Vec<Diagnostic>> {
        FlowSet::load(&self.flows(), &self.rules())
    }

    fn errors(&self) -> Vec<String> {
        self.errors_for(&[])
    }

    /// The errors when only `channels` are in use (none: every channel).
    fn errors_for(&self, channels: &[Channel]) -> Vec<String> {
        match FlowSet::load_for(&self.flows(), &self.rules(), channels) {
            Ok(_) => panic!("expected errors"),
            Err(d) => d
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .map(|d| {
                    // Paths are absolute temp paths; keep the file name.
                    let s = d.to_string();
                    let prefix = self.dir.path().display().to_string() + "/";
                    s.replace(&prefix, "")
                })
                .collect(),
        }
    }
}

/// Asserts that one error holds every piece of `needles`.
fn assert_has(errors: &[String], needles: &[&str]) {
    assert!(
        errors.iter().any(|e| needles.iter().all(|n| e.contains(n))),
        "no error holds {needles:?} in {errors:#?}"
    );
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn loaded() -> FlowSet {
    Fixture::new().load().unwrap().0
}

fn say(
    set: &FlowSet,
    state: &ConversationState,
    text: &str,
    when: &str,
) -> triage::engine::Decision {
    decide(set, state, &Message::text(text), at(when))
}

fn text_of(d: &triage::engine::Decision) -> String {
    d.replies
        .iter()
        .map(Reply::display)
        .collect::<Vec<_>>()
        .join("\n")
}

// ---- loading and validation ----

#[test]
fn the_fixture_loads_without_warnings() {
    let (set, warnings) = Fixture::new().load().unwrap();
    assert_eq!(set.topics.len(), 5);
    assert!(warnings.is_empty(), "{warnings:?}");
}

/// The 1-based line of the first line holding `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("the needle is in the text")
        + 1
}

#[test]
fn texts_above_b1_warn_at_their_position_and_still_load() {
    let closed = "We zijn gesloten en daarom kunnen wij je vraag op dit moment helaas niet \
                  beantwoorden, maar vanaf {next_opening} pakt {department} het zo snel mogelijk op.";
    let flows = FLOWS
        .replace(
            "closed: We zijn gesloten; we zijn er weer {next_opening}. Dan pakt {department} het op.",
            &format!("closed: \"{closed}\""),
        )
        .replace(
            "no_reply: Fijn, fijne dag!",
            "no_reply: Fijn, dan sluiten we je vraag. De klantcontactmedewerkers wensen je een fijne dag!",
        )
        // A topic's own keyword is its name: never a long word, though it has 6 syllables.
        .replace(
            "answers: [Een verhuizing geef je door met DigiD.]",
            "answers: [Een verhuizingsaangifte doe je met DigiD.]",
        )
        .replace(
            "keywords: [verhuizen, verhuisd, verhuizing]",
            "keywords: [verhuizen, verhuisd, verhuizing, verhuizingsaangifte]",
        );
    let (_, warnings) = common::sources_with_flows(&flows)
        .compile()
        .expect("warnings never stop a load");
    let shown: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    assert_eq!(shown.len(), 2, "{shown:#?}");
    // 23 words: We zijn gesloten en daarom kunnen wij je vraag op dit moment helaas niet
    // beantwoorden, maar vanaf pakt het zo snel mogelijk op (placeholders are no words).
    let line = line_of(&flows, "closed: ");
    assert!(
        shown[0].starts_with(&format!(
            "main.yaml:{line}:11: warning: sentence of 23 words (B1: at most 20): `We zijn gesloten en"
        )),
        "{shown:#?}"
    );
    assert!(shown[0].contains("= help: split it"), "{shown:#?}");
    let line = line_of(&flows, "no_reply: ");
    assert!(
        shown[1].starts_with(&format!(
            "main.yaml:{line}:13: warning: long word `klantcontactmedewerkers`: 7 syllables (B1: at most 5)"
        )),
        "{shown:#?}"
    );
    assert!(warnings.iter().all(|w| w.severity == Severity::Warning));
}

#[test]
fn every_error_in_every_file_is_reported_at_once_with_positions_and_hints() {
    let f = Fixture::new();
    // Five mistakes in the flow file, plus a misspelt field that stops its typed parse.
    let broken = FLOWS
        .replace("department: burgerzaken", "department: burgerzakken")
        .replace(
            "title: Afspraak maken",
            "title: Maak hier je afspraak alsjeblieft",
        )
        .replace("patterns: ['^(hoi|hallo)$']", "patterns: ['^(hoi|hallo$']")
        .replace(
            "https://www.terneuzen.nl/paspoort",
            "www.terneuzen.nl/paspoort",
        )
        .replace("    name: vraag_nog_open\n", "    name: \"\"\n");
    f.write(
        "flows/main.yaml",
        broken
            .replace("    exclude: [rijbewijs]\n", "    exclud: [rijbewijs]\n")
            .as_bytes(),
    );
    f.write(
        "flows/more.yaml",
        b"topics:\n  - id: rijbewijs\n    keywords: [rijbewijs]\n    answers: [Dubbel.]\n",
    );
    f.write(
        "rules/departments.yaml",
        DEPARTMENTS
            .replace("default: kcc", "default: kc")
            .as_bytes(),
    );
    let errors = f.errors();
    // The schema error stops that flow file's typed parse; fix it and the rest shows up too.
    assert!(
        errors.contains(
            &"flows/main.yaml:6:5: error: unknown field `exclud`\n  = help: did you mean `exclude`?"
                .to_string()
        ),
        "{errors:#?}"
    );
    assert!(
        errors.contains(
            &"rules/departments.yaml:8:10: error: unknown department `kc`\n  = help: did you mean `kcc`?"
                .to_string()
        ),
        "{errors:#?}"
    );

    f.write("flows/main.yaml", broken.as_bytes());
    let errors = f.errors();
    let expect = [
        "flows/main.yaml:10:14: error: invalid URL `www.terneuzen.nl/paspoort`: it must start with `https://`",
        "flows/main.yaml:12:16: error: button title `Maak hier je afspraak alsjeblieft` is 33 characters; WhatsApp allows 20",
        "flows/main.yaml:16:17: error: unknown department `burgerzakken`\n  = help: did you mean `burgerzaken`?",
        "flows/main.yaml:29:18: error: invalid pattern: unclosed group",
        "flows/main.yaml:38:11: error: a template needs the name it was approved under",
        "flows/more.yaml:2:9: error: duplicate topic id `rijbewijs`\n  = help: first defined at flows/main.yaml:17:5",
        "rules/departments.yaml:8:10: error: unknown department `kc`\n  = help: did you mean `kcc`?",
    ];
    for e in expect {
        assert!(
            errors.iter().any(|x| x == e),
            "missing {e:?} in {errors:#?}"
        );
    }
    assert_eq!(errors.len(), expect.len(), "{errors:#?}");
}

#[test]
fn unknown_placeholders_and_over_long_texts_are_errors() {
    let f = Fixture::new();
    let long = "a".repeat(4100);
    f.write(
        "flows/main.yaml",
        FLOWS
            .replace("{next_opening}", "{next_openng}")
            .replace("Maak een afspraak via de website.", &long)
            .as_bytes(),
    );
    let errors = f.errors_for(&[Channel::WhatsApp]);
    assert_has(
        &errors,
        &[
            "unknown placeholder `{next_openng}`",
            "did you mean `{next_opening}`?",
        ],
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("4100 characters; WhatsApp allows 4096")),
        "{errors:#?}"
    );
}

#[test]
fn a_template_body_names_only_its_parameters_and_renders_with_them() {
    let f = Fixture::new();
    f.write(
        "flows/main.yaml",
        FLOWS
            .replace(
                "parameters: [\"{name}\"]",
                "parameters: [\"{name}\"]\n    text: \"Hoi {{1}}, nog antwoord nodig? {{2}}\"",
            )
            .as_bytes(),
    );
    assert_has(
        &f.errors(),
        &["error: `{{2}}` has no parameter", "the template has 1"],
    );

    f.write(
        "flows/main.yaml",
        FLOWS
            .replace(
                "parameters: [\"{name}\"]",
                "parameters: [\"{name}\"]\n    text: \"Hoi {{1}}, nog antwoord nodig?\"",
            )
            .as_bytes(),
    );
    let (flows, _) = f.load().expect("valid");
    let t = &flows.follow_up.def.template;
    assert_eq!(
        t.render(&["Fatima".into()]).as_deref(),
        Some("Hoi Fatima, nog antwoord nodig?")
    );
}

#[test]
fn unknown_secure_page_topic_and_misspelt_rules_file_are_reported() {
    let f = Fixture::new();
    f.write(
        "rules/privacy.yaml",
        PRIVACY
            .replace("topics: [verhuizing]", "topics: [verhuizingen]")
            .as_bytes(),
    );
    let errors = f.errors();
    assert!(
        errors.iter().any(|e| e
            .starts_with("rules/privacy.yaml:6:14: error: unknown topic `verhuizingen`")
            && e.contains("did you mean `verhuizing`?")),
        "{errors:#?}"
    );
    f.write("rules/privacy.yaml", PRIVACY.as_bytes());
    f.write("rules/office_hours.yaml", OFFICE.as_bytes());
    let errors = f.errors();
    assert_has(
        &errors,
        &[
            "unknown rules file `office_hours.yaml`",
            "did you mean `office-hours.yaml`?",
        ],
    );
}

#[test]
fn hostile_yaml_gets_a_clear_error_and_never_a_panic_or_hang() {
    let f = Fixture::new();
    // Quadratic alias fan-out: 25 KB that would expand to millions of nodes.
    let mut bomb = String::from("a: &a [");
    bomb.push_str(&vec!["x"; 5000].join(","));
    bomb.push_str("]\nb: [");
    bomb.push_str(&vec!["*a"; 5000].join(","));
    bomb.push_str("]\n");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("alias bomb", bomb.into_bytes(), "aliases"),
        ("empty", Vec::new(), "the file is empty"),
        (
            "invalid utf-8",
            b"topics:\n  - id: \xff\xfe\n".to_vec(),
            "UTF-8",
        ),
        (
            "deep nesting",
            format!("topics: {}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
            "nesting",
        ),
        ("huge", vec![b'#'; 5 * 1024 * 1024], "limit"),
        ("not yaml", b"topics: [\n  - {".to_vec(), "invalid YAML"),
        ("a list", b"- 1\n- 2\n".to_vec(), "expected a mapping"),
        ("tabs", b"topics:\n\t- id: x\n".to_vec(), "invalid YAML"),
    ];
    for (what, bytes, needle) in cases {
        f.write("rules/departments.yaml", DEPARTMENTS.as_bytes());
        f.write("rules/departments.yaml", &bytes);
        let start = std::time::Instant::now();
        let errors = f.errors();
        assert!(
            start.elapsed().as_secs() < 5,
            "{what} took {:?}",
            start.elapsed()
        );
        assert!(
            errors.iter().any(|e| e.contains(needle)),
            "{what}: expected `{needle}` in {errors:#?}"
        );
    }
}

#[test]
fn in_memory_sources_compile_the_same() {
    let set = common::small_set();
    assert_eq!(set.topics[0].id, "paspoort");
}

// ---- decisions ----

const TUESDAY_MORNING: &str = "2026-11-24T10:00:00+01:00";
const FRIDAY_EVENING: &str = "2026-11-27T19:30:00+01:00";

#[test]
fn faq_answers_with_links_and_buttons_day_and_night() {
    let set = loaded();
    let st = ConversationState {
        resident_name: Some("Fatima".into()),
        ..Default::default()
    };
    for when in [TUESDAY_MORNING, FRIDAY_EVENING] {
        let d = say(
            &set,
            &st,
            "Hoi, ik wil een NIEUW paspoort aanvragen 😊",
            when,
        );
        assert_eq!(d.outcome, Outcome::Faq);
        assert_eq!(d.topic.as_deref(), Some("paspoort"));
        assert_eq!(
            text_of(&d),
            "Een paspoort vraag je aan op het gemeentehuis, Fatima."
        );
        assert_eq!(d.links[0].url, "https://www.terneuzen.nl/paspoort");
        let Reply::Text { buttons, .. } = &d.replies[0] else {
            panic!()
        };
        assert_eq!(buttons[0].id, "topic:afspraak");
        assert_eq!(buttons[1].id, "handover:paspoort");
        assert_eq!(d.state.phase, Phase::Bot);
    }
}

#[test]
fn typos_compounds_english_and_exclusions() {
    let set = loaded();
    let st = ConversationState::default();
    let topic = |text: &str| say(&set, &st, text, TUESDAY_MORNING).topic;
    assert_eq!(
        topic("mijn pasport is verlopen").as_deref(),
        Some("paspoort")
    );
    assert_eq!(topic("paspoortaanvraag").as_deref(), Some("paspoort"));
    assert_eq!(topic("waar is mijn id-kaart").as_deref(), Some("paspoort"));
    assert_eq!(topic("I need a new passport").as_deref(), Some("paspoort"));
    assert_eq!(topic("ik ben VERHUISD!!!").as_deref(), Some("verhuizing"));
    assert_eq!(topic("rybewys verlengen").as_deref(), Some("rijbewijs"));
    // `rijbewijs` rules out the paspoort topic even though `paspoort` occurs.
    let d = say(&set, &st, "paspoort of rijbewijs kwijt", TUESDAY_MORNING);
    assert_eq!(d.topic.as_deref(), Some("rijbewijs"));
    assert!(
        d.trace.steps.iter().any(|s| matches!(
            s,
            Step::RuledOut { topic, by } if topic == "paspoort" && by == "rijbewijs"
        )),
        "{:?}",
        d.trace
    );
    // A greeting pattern only fires on a bare greeting.
    assert_eq!(topic("hallo").as_deref(), Some("groet"));
    assert_eq!(
        topic("hallo ik ben verhuisd").as_deref(),
        Some("verhuizing")
    );
}

#[test]
fn ties_are_broken_deterministically_and_explained() {
    let set = loaded();
    let st = ConversationState::default();
    let a = say(&set, &st, "afspraak verhuizing", TUESDAY_MORNING);
    let b = say(&set, &st, "verhuizing afspraak", TUESDAY_MORNING);
    assert_eq!(a.topic, b.topic);
    assert_eq!(a.topic.as_deref(), Some("verhuizing"));
    assert!(
        a.trace.steps.iter().any(|s| matches!(
            s,
            Step::Wins { over, why: WinReason::LongerTerm, .. } if over == "afspraak"
        )),
        "{:?}",
        a.trace.steps
    );
}

#[test]
fn privacy_comes_first_and_points_to_the_topic_page() {
    let set = loaded();
    let st = ConversationState::default();
    let d = say(
        &set,
        &st,
        "ik ben verhuisd, mijn bsn is 123456782",
        TUESDAY_MORNING,
    );
    assert_eq!(d.outcome, Outcome::PrivacyRedirect);
    assert_eq!(d.topic.as_deref(), Some("verhuizing"));
    assert_eq!(d.links[0].url, "https://www.terneuzen.nl/verhuizen-digid");
    assert!(!d.redacted_text.contains("123456782"));
    assert!(d.redacted_text.contains("******782"), "{}", d.redacted_text);
    let all = serde_json::to_string(&d).unwrap();
    assert!(
        !all.contains("123456782"),
        "the raw BSN leaked into the decision: {all}"
    );

    let d = say(
        &set,
        &st,
        "mijn IBAN is NL91 ABNA 0417 1643 00",
        TUESDAY_MORNING,
    );
    assert_eq!(d.outcome, Outcome::PrivacyRedirect);
    assert_eq!(d.links[0].url, "https://www.terneuzen.nl/veilig");

    // A zaaknummer that passes the elfproef is not a BSN.
    let d = say(
        &set,
        &st,
        "mijn zaaknummer is 123456782, wanneer hoor ik iets?",
        TUESDAY_MORNING,
    );
    assert_ne!(d.outcome, Outcome::PrivacyRedirect);
    assert!(d.redacted_text.contains("123456782"));
}

#[test]
fn handover_routes_to_a_department_and_says_so_when_open() {
    let set = loaded();
    let d = say(
        &set,
        &ConversationState::default(),
        "ik ben het niet eens met mijn aanslag",
        TUESDAY_MORNING,
    );
    assert_eq!(d.outcome, Outcome::Handover);
    assert_eq!(d.department.as_deref(), Some("belastingen"));
    assert!(d.open);
    assert_eq!(text_of(&d), "Ik zet je vraag door naar Belastingen.");
    assert_eq!(d.follow_up_at, None);
    assert_eq!(d.state.phase, Phase::Queued);

    let d = say(
        &set,
        &ConversationState::default(),
        "wat een mooi weer",
        TUESDAY_MORNING,
    );
    assert_eq!(d.department.as_deref(), Some("kcc"));
}

#[test]
fn out_of_hours_reply_once_per_closed_period_and_a_monday_follow_up() {
    let set = loaded();
    let d = say(
        &set,
        &ConversationState::default(),
        "de lantaarnpaal is kapot",
        FRIDAY_EVENING,
    );
    assert_eq!(d.outcome, Outcome::Handover);
    assert!(!d.open);
    assert_eq!(
        text_of(&d),
        "We zijn gesloten; we zijn er weer maandag 30 november om 08:30. Dan pakt Klantcontactcentrum het op."
    );
    assert_eq!(
        d.follow_up_at.unwrap().to_rfc3339(),
        "2026-11-30T08:30:00+01:00"
    );

    // Saturday: same closed period, so no second out-of-hours reply.
    let d2 = say(&set, &d.state, "hallo??", "2026-11-28T11:00:00+01:00");
    assert_eq!(d2.outcome, Outcome::ToAgent);
    assert!(d2.replies.is_empty(), "{:?}", d2.replies);

    // Monday 08:30: more than 24 hours after the last message, so the template.
    let f = follow_up(&set, &d2.state, &WHATSAPP, at("2026-11-30T08:30:00+01:00"));
    assert_eq!(f.outcome, Outcome::FollowUp);
    assert!(matches!(&f.replies[0], Reply::Template { name, .. } if name == "vraag_nog_open"));
    assert_eq!(f.state.phase, Phase::AwaitingFollowUp);

    let yes = say(&set, &f.state, "Ja graag!", "2026-11-30T08:40:00+01:00");
    assert_eq!(yes.outcome, Outcome::FollowUpYes);
    assert_eq!(yes.state.phase, Phase::Queued);
    assert!(yes.state.on_top);

    let no = say(
        &set,
        &f.state,
        "nee hoor, gelukt",
        "2026-11-30T08:40:00+01:00",
    );
    assert_eq!(no.outcome, Outcome::FollowUpNo);
    assert_eq!(no.state.phase, Phase::Resolved);

    let other = say(
        &set,
        &f.state,
        "wanneer wordt hij gemaakt?",
        "2026-11-30T08:40:00+01:00",
    );
    assert_eq!(other.outcome, Outcome::FollowUpOther);
    assert!(other.state.on_top);

    // The next closed period (Monday evening) gets its own out-of-hours reply.
    let again = say(&set, &yes.state, "nog iets", "2026-11-30T18:00:00+01:00");
    assert_eq!(again.outcome, Outcome::ToAgent);
    assert!(
        text_of(&again).contains("dinsdag 1 december om 08:30"),
        "{}",
        text_of(&again)
    );
}

#[test]
fn follow_up_inside_the_window_is_text_with_buttons() {
    let set = loaded();
    // Sunday 10:00 → Monday 08:30 leaves 1.5 hours of the 24-hour window: free text.
    let d = say(
        &set,
        &ConversationState::default(),
        "lantaarnpaal kapot",
        "2026-11-29T10:00:00+01:00",
    );
    // With only half an hour left (asked at 09:00) it would be the template.
    let early = say(
        &set,
        &ConversationState::default(),
        "lantaarnpaal kapot",
        "2026-11-29T09:00:00+01:00",
    );
    let f = follow_up(
        &set,
        &early.state,
        &WHATSAPP,
        at("2026-11-30T08:30:00+01:00"),
    );
    assert!(
        matches!(&f.replies[0], Reply::Template { .. }),
        "{:?}",
        f.replies
    );
    let f = follow_up(&set, &d.state, &WHATSAPP, at("2026-11-30T08:30:00+01:00"));
    let Reply::Text { buttons, .. } = &f.replies[0] else {
        panic!("{:?}", f.replies)
    };
    assert_eq!(buttons.len(), 2);
    let tap = Message {
        text: "Nee".into(),
        button: Some(buttons[1].id.clone()),
        ..Message::default()
    };
    let d = decide(&set, &f.state, &tap, at("2026-11-30T08:35:00+01:00"));
    assert_eq!(d.outcome, Outcome::FollowUpNo);
    // An agent claimed it meanwhile: no follow-up.
    let claimed = ConversationState {
        phase: Phase::WithAgent,
        ..d.state.clone()
    };
    assert_eq!(
        follow_up(&set, &claimed, &WHATSAPP, at("2026-11-30T08:30:00+01:00")).outcome,
        Outcome::Ignored
    );
}

#[test]
fn an_agent_owns_the_conversation_but_privacy_still_applies() {
    let set = loaded();
    let st = ConversationState {
        phase: Phase::WithAgent,
        department: Some("burgerzaken".into()),
        ..Default::default()
    };
    let d = say(&set, &st, "ik wil een nieuw paspoort", TUESDAY_MORNING);
    assert_eq!(d.outcome, Outcome::ToAgent);
    assert!(d.replies.is_empty());
    let d = say(&set, &st, "mijn bsn is 111222333", TUESDAY_MORNING);
    assert_eq!(d.outcome, Outcome::PrivacyRedirect);
    assert!(d.redacted_text.contains("******333"));
    assert_eq!(d.state.phase, Phase::WithAgent);
}

#[test]
fn buttons_media_and_empty_messages() {
    let set = loaded();
    let st = ConversationState::default();
    let tap = |id: &str| Message {
        text: String::new(),
        button: Some(id.into()),
        ..Message::default()
    };
    let d = decide(&set, &st, &tap("topic:afspraak"), at(TUESDAY_MORNING));
    assert_eq!(d.topic.as_deref(), Some("afspraak"));
    let d = decide(&set, &st, &tap("handover:paspoort"), at(TUESDAY_MORNING));
    assert_eq!(d.outcome, Outcome::Handover);
    assert_eq!(d.department.as_deref(), Some("burgerzaken"));

    let voice = Message {
        media: Some("voice".into()),
        ..Message::default()
    };
    let d = decide(&set, &st, &voice, at(TUESDAY_MORNING));
    assert_eq!(d.outcome, Outcome::Handover);
    assert!(
        text_of(&d).starts_with("Foto's en spraakberichten"),
        "{}",
        text_of(&d)
    );

    for text in ["", "😀😀🎉", "\u{0}\u{1}\u{7f}\t", "   "] {
        let d = say(&set, &st, text, TUESDAY_MORNING);
        assert_eq!(d.outcome, Outcome::Ignored, "{text:?}");
    }
}

#[test]
fn any_message_gets_a_decision() {
    let set = loaded();
    let st = ConversationState::default();
    let big = "paspoort ".repeat(12_000);
    let mixed: String = (0..100_000u32)
        .filter_map(char::from_u32)
        .filter(|c| !c.is_whitespace())
        .take(50_000)
        .collect();
    let digits = "1234567 ".repeat(12_000);
    for text in [big, mixed, digits] {
        let start = std::time::Instant::now();
        let d = say(&set, &st, &text, TUESDAY_MORNING);
        assert!(start.elapsed().as_secs() < 5);
        assert!(!d.trace.steps.is_empty());
    }
}

#[test]
fn decisions_serialise_with_the_fields_editors_and_the_service_read() {
    let set = loaded();
    let d = say(
        &set,
        &ConversationState::default(),
        "lantaarnpaal kapot",
        FRIDAY_EVENING,
    );
    let v = serde_json::to_value(&d).unwrap();
    for key in [
        "outcome",
        "topic",
        "open",
        "replies",
        "links",
        "department",
        "follow_up_at",
        "redacted_text",
        "trace",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["outcome"], "handover");
    assert_eq!(v["follow_up_at"], "2026-11-30T08:30:00+01:00");
}

#[test]
fn handover_and_follow_up_are_defined_exactly_once() {
    let f = Fixture::new();
    f.write(
        "flows/second.yaml",
        b"handover:\n  open: Open.\n  closed: Dicht tot {next_opening}.\n",
    );
    let errors = f.errors();
    assert_eq!(
        errors,
        vec![
            "flows/second.yaml:2:3: error: the handover replies are defined twice\n  = help: first defined at flows/main.yaml:32:3"
        ]
    );
    let without: String = FLOWS
        .split("handover:")
        .next()
        .unwrap_or_default()
        .to_string();
    f.write("flows/second.yaml", b"topics: []\n");
    f.write("flows/main.yaml", without.as_bytes());
    let errors = f.errors();
    assert_has(&errors, &["no `handover:` replies in any flow file"]);
    assert_has(&errors, &["no `follow_up:` in any flow file"]);
}

#[test]
fn follow_up_answers_are_read_as_a_person_would() {
    let set = loaded();
    let d = say(
        &set,
        &ConversationState::default(),
        "lantaarnpaal kapot",
        FRIDAY_EVENING,
    );
    let asked = follow_up(&set, &d.state, &WHATSAPP, at("2026-11-30T08:30:00+01:00")).state;
    let outcome = |text: &str| say(&set, &asked, text, "2026-11-30T08:40:00+01:00").outcome;
    assert_eq!(outcome("het is al gelukt hoor"), Outcome::FollowUpNo);
    assert_eq!(outcome("nee, graag gedaan"), Outcome::FollowUpNo);
    assert_eq!(outcome("het is nog niet gelukt"), Outcome::FollowUpOther);
    assert_eq!(
        outcome("ja, want het is nog niet gelukt"),
        Outcome::FollowUpYes
    );
    assert_eq!(outcome("graag, maar het is gelukt"), Outcome::FollowUpYes);
    assert_eq!(outcome("dat weet ik niet"), Outcome::FollowUpOther);
}

#[test]
fn answers_with_buttons_fit_an_interactive_message() {
    let f = Fixture::new();
    let long = "b".repeat(1000);
    f.write(
        "flows/main.yaml",
        FLOWS
            .replace(
                "Een paspoort vraag je aan op het gemeentehuis, {name}.",
                &long,
            )
            .as_bytes(),
    );
    let errors = f.errors_for(&[Channel::WhatsApp]);
    assert_has(
        &errors,
        &["characters; WhatsApp allows 1024 in a message with reply buttons"],
    );
}

#[test]
fn a_text_is_checked_against_the_channels_in_use_and_names_the_one_it_breaks() {
    let f = Fixture::new();
    let long = "c".repeat(1500);
    f.write(
        "flows/main.yaml",
        FLOWS
            .replace("Maak een afspraak via de website.", &long)
            .as_bytes(),
    );
    // Fine on WhatsApp and on Messenger (2,000).
    assert!(FlowSet::load_for(
        &f.flows(),
        &f.rules(),
        &[Channel::WhatsApp, Channel::Messenger]
    )
    .is_ok());
    // Too long for Instagram, at the answer's own line.
    let errors = f.errors_for(&[Channel::WhatsApp, Channel::Messenger, Channel::Instagram]);
    assert_has(
        &errors,
        &["main.yaml:", "1500 characters; Instagram allows 1000"],
    );
    // With every channel (the default) the strictest is named once.
    let all = f.errors();
    assert_eq!(
        all.iter().filter(|e| e.contains("1500 characters")).count(),
        1,
        "{all:#?}"
    );
}

#[test]
fn the_24_hour_window_runs_from_when_the_resident_sent_it() {
    let set = loaded();
    // Sent Sunday 09:00, but it reached us only on Sunday 10:00 (an outage, a retry by Meta).
    let late = Message {
        text: "lantaarnpaal kapot".into(),
        sent_at: Some(at("2026-11-29T09:00:00+01:00")),
        ..Message::default()
    };
    let d = decide(
        &set,
        &ConversationState::default(),
        &late,
        at("2026-11-29T10:00:00+01:00"),
    );
    assert_eq!(
        d.state.last_inbound_at,
        Some(at("2026-11-29T09:00:00+01:00"))
    );
    // Monday 09:15 is 24 h 15 min after sending: the follow-up must be the template.
    let mut st = d.state.clone();
    st.follow_up_at = Some(at("2026-11-30T09:15:00+01:00"));
    let f = follow_up(&set, &st, &WHATSAPP, at("2026-11-30T09:15:00+01:00"));
    assert!(
        matches!(&f.replies[0], Reply::Template { .. }),
        "{:?}",
        f.replies
    );
    // A timestamp from the future (a wrong phone clock) counts as now.
    let future = Message {
        sent_at: Some(at("2026-12-01T00:00:00+01:00")),
        ..late
    };
    let d = decide(
        &set,
        &ConversationState::default(),
        &future,
        at("2026-11-29T10:00:00+01:00"),
    );
    assert_eq!(
        d.state.last_inbound_at,
        Some(at("2026-11-29T10:00:00+01:00"))
    );
}

// ---- mutated files: the loader's fuzzing on stable Rust ---------------------------------------
//
// Every file kind, cut short and with bytes changed or YAML's own characters put in, must load or
// give errors, never panic or hang. A short run here; a long one on demand:
// `PROPTEST_CASES=20000 cargo test --test flows mutated`.

proptest::proptest! {
    // `with_cases` would override PROPTEST_CASES; the variable decides, 64 without it.
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64)
    ))]
    #[test]
    fn mutated_files_load_or_give_errors_never_a_panic(
        file in 0usize..4,
        cut in 0usize..6000,
        edits in proptest::collection::vec((0usize..6000, 0usize..12, proptest::prelude::any::<u8>()), 0..8),
    ) {
        const SPECIAL: &[u8] = b":-[]{}&*!|>'\"%@`#,?\n\t ";
        let (name, text) = [
            ("flows/main.yaml", FLOWS),
            ("rules/departments.yaml", DEPARTMENTS),
            ("rules/office-hours.yaml", OFFICE),
            ("rules/privacy.yaml", PRIVACY),
        ][file];
        let mut bytes = text.as_bytes().to_vec();
        for (at, kind, byte) in edits {
            let at = at % (bytes.len() + 1);
            match kind {
                0..=3 => bytes.insert(at, SPECIAL[byte as usize % SPECIAL.len()]),
                4..=6 if at < bytes.len() => bytes[at] = SPECIAL[byte as usize % SPECIAL.len()],
                7 if at < bytes.len() => bytes[at] = byte,
                8 if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ => {
                    let copy: Vec<u8> = bytes[at.saturating_sub(40)..at].to_vec();
                    for (i, b) in copy.into_iter().enumerate() {
                        bytes.insert(at + i, b);
                    }
                }
            }
        }
        bytes.truncate(cut.max(1).min(bytes.len()));
        let f = Fixture::new();
        f.write(name, &bytes);
        let _ = f.load();
    }
}

// ---- languages ----

const POLISH: &str = "\
languages:
  pl:
    name: Pools
    untranslated: \"Na razie tylko po niderlandzku, pracownik chętnie pomoże.\"
topics:
  - id: afval
    keywords: [afval, container]
    answers: [\"Afval gaat in de container.\"]
    links:
      - title: Afvalkalender
        url: https://www.terneuzen.nl/afval
    translations:
      pl:
        answers: [\"Śmieci wystawiasz w pojemniku.\"]
        links: [Kalendarz odpadów]
        keywords: [śmieci, pojemnik]
        examples: [\"kiedy odbierają śmieci\"]
";

#[test]
fn translations_name_declared_languages_and_no_more_links_than_the_topic() {
    let f = Fixture::new();
    let bad = POLISH
        .replace("  pl:\n    name", "  pll:\n    name")
        .replace("links: [Kalendarz odpadów]", "links: [Kalendarz odpadów, Za dużo]")
        + "      tr:\n        answers: [\"Çöp.\"]\n      pk:\n        answers: [\"x\"]\n      nl:\n        answers: [\"y\"]\n";
    f.write("flows/talen.yaml", bad.as_bytes());
    let errors = f.errors();
    assert_has(
        &errors,
        &[
            "talen.yaml:2:3",
            "unknown language `pll`",
            "did you mean `pl`?",
        ],
    );
    assert_has(
        &errors,
        &[
            "language `pl` (Polish) is not declared",
            "under `languages:`",
        ],
    );
    assert_has(&errors, &["language `tr` (Turkish) is not declared"]);
    assert_has(
        &errors,
        &["talen.yaml:20:7", "unknown language `pk`", "did you mean"],
    );
    assert_has(&errors, &["Dutch is the default language"]);

    f.write(
        "flows/talen.yaml",
        POLISH
            .replace(
                "links: [Kalendarz odpadów]",
                "links: [Kalendarz odpadów, Za dużo]",
            )
            .as_bytes(),
    );
    let errors = f.errors();
    assert_has(
        &errors,
        &[
            "talen.yaml:15:36",
            "this translation names 2 links; the topic has 1",
        ],
    );
    assert_eq!(errors.len(), 1, "{errors:#?}");
}

#[test]
fn a_translated_topic_answers_in_its_language_and_else_dutch_with_the_line() {
    let f = Fixture::new();
    f.write("flows/talen.yaml", POLISH.as_bytes());
    let (set, _) = f.load().unwrap();
    let afval = &set.topics[set.topic_index("afval").unwrap() as usize];
    assert_eq!(afval.examples, vec!["kiedy odbierają śmieci".to_string()]);

    // A Polish keyword finds the topic; the answer and the link title are Polish.
    let d = say(
        &set,
        &ConversationState::default(),
        "kiedy odbierają śmieci?",
        "2026-11-25T10:00:00+01:00",
    );
    assert_eq!(d.topic.as_deref(), Some("afval"));
    assert_eq!(d.language, triage::language::Language::Pl);
    assert_eq!(text_of(&d), "Śmieci wystawiasz w pojemniku.");
    assert_eq!(d.links[0].title, "Kalendarz odpadów");
    assert_eq!(d.state.language, Some(triage::language::Language::Pl));
    assert!(d.trace.steps.contains(&Step::Language {
        language: triage::language::Language::Pl,
        why: triage::language::Why::Keywords,
    }));

    // A topic without a Polish translation: Dutch, then the Polish line; "ok" stays Polish.
    let d = say(
        &set,
        &d.state,
        "dzień dobry, czy mogę zrobić nowy paszport? mój paspoort jest zgubiony",
        "2026-11-25T10:01:00+01:00",
    );
    assert_eq!(d.topic.as_deref(), Some("paspoort"));
    assert_eq!(d.language, triage::language::Language::Pl);
    let text = text_of(&d);
    assert!(
        text.starts_with("Een paspoort vraag je aan op het gemeentehuis"),
        "{text}"
    );
    assert!(
        text.ends_with("\nNa razie tylko po niderlandzku, pracownik chętnie pomoże."),
        "{text}"
    );
    let ok = say(&set, &d.state, "ok", "2026-11-25T10:02:00+01:00");
    assert_eq!(ok.language, triage::language::Language::Pl);

    // The same Dutch question stays Dutch, with no line.
    let nl = say(
        &set,
        &ConversationState::default(),
        "wanneer wordt de container geleegd",
        "2026-11-25T10:03:00+01:00",
    );
    assert_eq!(nl.language, triage::language::Language::Nl);
    assert_eq!(text_of(&nl), "Afval gaat in de container.");
    assert_eq!(nl.state.language, None);
}

#[test]
fn the_follow_up_speaks_the_conversations_language_and_a_template_goes_alone() {
    let f = Fixture::new();
    f.write("flows/talen.yaml", POLISH.as_bytes());
    let (set, _) = f.load().unwrap();
    let polish = ConversationState {
        resident_name: Some("Kasia".into()),
        ..ConversationState::default()
    };
    // Sunday 10:00, a Polish question for a person; Monday 08:30 the follow-up, inside the window.
    let d = say(
        &set,
        &polish,
        "dzień dobry, mam pytanie w sprawie mojego sąsiada, który hałasuje",
        "2026-11-29T10:00:00+01:00",
    );
    assert_eq!(d.outcome, Outcome::Handover);
    assert_eq!(d.state.language, Some(triage::language::Language::Pl));
    let q = follow_up(&set, &d.state, &WHATSAPP, at("2026-11-30T08:30:00+01:00"));
    assert_eq!(q.language, triage::language::Language::Pl);
    // The fixture's follow-up has no Polish text: the Dutch question, then the Polish line.
    assert_eq!(q.replies.len(), 2, "{:?}", q.replies);
    assert_eq!(
        q.replies[1].display(),
        "Na razie tylko po niderlandzku, pracownik chętnie pomoże."
    );
    assert!(q.trace.steps.contains(&Step::Untranslated {
        language: triage::language::Language::Pl
    }));
    // Outside the window only the template goes, with no line after it.
    let early = say(
        &set,
        &polish,
        "dzień dobry, mam pytanie w sprawie mojego sąsiada, który hałasuje",
        "2026-11-29T08:00:00+01:00",
    );
    let t = follow_up(
        &set,
        &early.state,
        &WHATSAPP,
        at("2026-11-30T08:30:00+01:00"),
    );
    assert_eq!(t.replies.len(), 1, "{:?}", t.replies);
    assert!(matches!(t.replies[0], Reply::Template { .. }));
}

#[test]
fn the_question_back_in_another_language_names_the_topics_and_fits_its_button() {
    let f = Fixture::new();
    let clarify = "\
clarify:
  text: \"Gaat je vraag over {options}?\"
  person_button: \"Iets anders\"
  close: 0.85
  answer_from: 4
  ask_from: 2.5
  translations:
    pl:
      text: \"Czy chodzi o coś z tego?\"
      person_button: \"Zupełnie coś innego niż to\"
    fr:
      text: \"Votre question porte sur {options} ?\"
";
    f.write("flows/talen.yaml", format!("{POLISH}{clarify}").as_bytes());
    let errors = f.errors();
    assert_has(
        &errors,
        &[
            "talen.yaml:",
            "the question back does not name the topics it offers",
        ],
    );
    assert_has(
        &errors,
        &["button title `Zupełnie coś innego niż to` is 26 characters"],
    );
    assert_has(&errors, &["language `fr` (French) is not declared"]);
    assert_eq!(errors.len(), 3, "{errors:#?}");

    // Fixed, it loads.
    let good = clarify
        .replace("Czy chodzi o coś z tego?", "Czy chodzi o {options}?")
        .replace("Zupełnie coś innego niż to", "Coś innego")
        .replace(
            "    fr:\n      text: \"Votre question porte sur {options} ?\"\n",
            "",
        );
    f.write("flows/talen.yaml", format!("{POLISH}{good}").as_bytes());
    let (set, _) = f.load().expect("the fixed question back loads");
    let pl = &set.clarify.expect("a question back").translations["pl"];
    assert_eq!(pl.person_button.as_deref(), Some("Coś innego"));
}

#[test]
fn personal_data_in_an_example_is_an_error_and_in_an_answer_a_warning_shown_masked() {
    let f = Fixture::new();
    // 111222333 passes the 11-test; the IBAN is a valid test number.
    f.write(
        "flows/extra.yaml",
        b"topics:
  - id: belasting-extra
    title: Extra
    keywords: [aanslagextra]
    answers:
      - \"Maak het over naar NL91ABNA0417164300.\"
    examples:
      - \"mijn bsn is 111222333 waar is mijn aanslag\"
",
    );
    let errors = f.errors();
    assert_has(
        &errors,
        &[
            "extra.yaml:2:",
            "topic `belasting-extra`: example 1 holds what looks like personal data",
        ],
    );
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        !errors[0].contains("111222333"),
        "the value is masked: {errors:?}"
    );

    // A made-up number that fails the 11-test is fine; the account number in the answer warns.
    f.write(
        "flows/extra.yaml",
        b"topics:
  - id: belasting-extra
    title: Extra
    keywords: [aanslagextra]
    answers:
      - \"Maak het over naar NL91ABNA0417164300.\"
    examples:
      - \"mijn bsn is 111222334 waar is mijn aanslag\"
",
    );
    let (_, warnings) = f.load().expect("loads with a warning");
    let found: Vec<&Diagnostic> = warnings
        .iter()
        .filter(|w| w.message.contains("personal data"))
        .collect();
    assert_eq!(found.len(), 1, "{warnings:#?}");
    assert!(found[0].message.contains("answer 1"), "{found:?}");
    assert!(!found[0].message.contains("NL91ABNA0417164300"));
}
