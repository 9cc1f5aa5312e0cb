//! Property tests of matching: typos of a keyword still find its topic wherever it sits in a
//! message, normalisation is stable, and any string at all gets a decision.

mod common;

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use triage::engine::{decide, ConversationState, Message};
use triage::flows::FlowSet;
use triage::text::normalize;

/// The small set plus `words.len()` topics `t0`, `t1`, … with one keyword each.
fn set_with_keywords(words: &[String]) -> FlowSet {
    let mut yaml = String::from("topics:\n");
    for (i, w) in words.iter().enumerate() {
        yaml.push_str(&format!(
            "  - id: t{i}\n    keywords: [{w}]\n    answers: [antwoord {i}]\n"
        ));
    }
    let mut sources = common::sources_with_flows(common::FLOWS);
    sources
        .flows
        .push(("generated.yaml".into(), yaml.into_bytes()));
    sources.compile().expect("generated topics compile").0
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-24T10:00:00+01:00")
        .expect("time")
        .with_timezone(&Utc)
}

/// Words of consonant-vowel syllables: pronounceable, never an accidental Dutch word of the set.
fn word() -> impl Strategy<Value = String> {
    prop::collection::vec(("[bdfgklmnprstvz]", "[aeiou]"), 3..6)
        .prop_map(|syl| syl.into_iter().map(|(c, v)| format!("{c}{v}")).collect())
}

#[derive(Debug, Clone)]
enum Edit {
    Substitute(usize, char),
    Insert(usize, char),
    Delete(usize),
    Swap(usize),
}

fn apply(word: &str, edit: &Edit) -> String {
    let mut c: Vec<char> = word.chars().collect();
    let n = c.len();
    match *edit {
        Edit::Substitute(i, ch) => c[i % n] = ch,
        Edit::Insert(i, ch) => c.insert(i % (n + 1), ch),
        Edit::Delete(i) => {
            c.remove(i % n);
        }
        Edit::Swap(i) => c.swap(i % (n - 1), i % (n - 1) + 1),
    }
    c.into_iter().collect()
}

/// Letters a typo may bring in. Not `y`: normalisation turns it into `ij`, two letters, which
/// is a spelling variant rather than one typo.
fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), "[a-xz]")
            .prop_map(|(i, s)| Edit::Substitute(i, s.chars().next().unwrap_or('x'))),
        (any::<usize>(), "[a-xz]")
            .prop_map(|(i, s)| Edit::Insert(i, s.chars().next().unwrap_or('x'))),
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Swap),
    ]
}

const FILLER: &[&str] = &[
    "ik", "wil", "graag", "weten", "hoe", "het", "zit", "met", "mijn", "😀", "!!", "de",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_keyword_with_one_typo_still_finds_its_topic(
        words in prop::collection::btree_set(word(), 20..40),
        pick in any::<prop::sample::Index>(),
        e in edit(),
        before in prop::collection::vec(prop::sample::select(FILLER), 0..6),
        after in prop::collection::vec(prop::sample::select(FILLER), 0..6),
    ) {
        let words: Vec<String> = words.into_iter().collect();
        let set = set_with_keywords(&words);
        let i = pick.index(words.len());
        let typo = apply(&words[i], &e);
        // A typo that spells another topic's keyword means that topic.
        prop_assume!(!words.iter().enumerate().any(|(j, w)| j != i && *w == typo));
        let text = format!("{} {typo} {}", before.join(" "), after.join(" "));
        let d = decide(&set, &ConversationState::default(), &Message::text(text.clone()), now());
        let id = format!("t{i}");
        prop_assert!(
            d.trace.candidates.iter().any(|c| c.id == id),
            "`{text}` ({typo} for {}) did not find {id}: {:?}", words[i], d.trace
        );
        // Written correctly, the keyword's own topic wins outright.
        let exact = format!("{} {} {}", before.join(" "), words[i].to_uppercase(), after.join(" "));
        let d = decide(&set, &ConversationState::default(), &Message::text(exact), now());
        prop_assert_eq!(d.topic, Some(id));
    }

    #[test]
    fn normalisation_is_idempotent(s in any::<String>()) {
        let once = normalize(&s);
        prop_assert_eq!(normalize(&once), once.clone());
        prop_assert!(!once.starts_with(' ') && !once.ends_with(' ') && !once.contains("  "));
    }

    #[test]
    fn any_text_gets_a_decision(s in any::<String>()) {
        let set = common::small_set();
        let d = decide(&set, &ConversationState::default(), &Message::text(s), now());
        prop_assert!(!d.trace.steps.is_empty());
    }
}
