//! Privacy detectors from the outside: the YAML the editors write, whole messages, and
//! properties over random BSNs, IBANs and surrounding text.

use proptest::prelude::*;
use triage::privacy::{
    is_valid_bsn, is_valid_iban, mask, Detector, DetectorsConfig, PatternConfig,
};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PrivacyFile {
    detectors: DetectorsConfig,
    #[serde(default)]
    patterns: Vec<PatternConfig>,
}

const EXAMPLE: &str = r#"
detectors:
  bsn:
    enabled: true
    label: burgerservicenummer (BSN)
    context:
      cancel: [zaaknummer, ordernummer, kenmerk, telefoon]
      raise: [bsn, burgerservicenummer, sofinummer]
  iban: { label: bankrekeningnummer (IBAN) }
  document_number:
    label: paspoort- of ID-kaartnummer
    context: { raise: [paspoort, id-kaart, identiteitskaart, documentnummer] }
  date_of_birth:
    label: geboortedatum
    require_context: true
    context: { raise: [geboren, geboortedatum, geb] }
patterns:
  - id: klantnummer-belastingen
    label: klantnummer
    pattern: '\bBSG-\d{8}\b'
    context: { raise: [], cancel: [] }
"#;

fn example() -> Detector {
    let file: PrivacyFile = serde_norway::from_str(EXAMPLE).expect("example parses");
    Detector::build(&file.detectors, &file.patterns).expect("example builds")
}

#[test]
fn the_example_file_builds_and_masks_a_message() {
    let d = example();
    let r = d.redact(
        "Hoi! Mijn BSN is 1234 56 782, geboren 3 mrt 1985, rekening NL91 ABNA 0417 1643 00 \
         en klantnummer BSG-12345678. Zaaknummer 111222333.",
    );
    assert_eq!(
        r.text,
        "Hoi! Mijn BSN is ******782, geboren *****985, rekening ***************300 \
         en klantnummer ********678. Zaaknummer 111222333."
    );
    let detectors: Vec<&str> = r.findings.iter().map(|f| f.detector.as_str()).collect();
    assert_eq!(
        detectors,
        ["bsn", "date_of_birth", "iban", "klantnummer-belastingen"]
    );
    assert_eq!(r.findings[0].label, "burgerservicenummer (BSN)");
}

#[test]
fn absent_detectors_keep_their_defaults() {
    let file: PrivacyFile = serde_norway::from_str("detectors: {}").expect("parses");
    let d = Detector::build(&file.detectors, &file.patterns).expect("builds");
    let r = d.redact("kenmerk 123456782, bsn 123456782");
    assert_eq!(r.text, "kenmerk 123456782, bsn ******782");
    assert_eq!(r.findings[0].label, "burgerservicenummer (BSN)");
}

#[test]
fn unknown_fields_are_refused() {
    let err = serde_norway::from_str::<PrivacyFile>("detectors: { bsn: { enable: false } }");
    assert!(err.is_err());
}

#[test]
fn the_schema_carries_field_docs() {
    let schema = schemars::schema_for!(DetectorsConfig);
    let json = serde_json::to_string(&schema).expect("schema serializes");
    assert!(json.contains("elfproef"), "{json}");
    assert!(json.contains("Words that mean the value is something else"));
}

#[test]
fn negatives_from_the_brief() {
    let d = Detector::default();
    for text in [
        "zaaknummer 123456782",
        "mijn telefoon is 06-12345678",
        "bel +31 6 12345678",
        "bel 0115-123456",
        "referentie 1234567820",
        "nummer 123456781",
        "NL92ABNA0417164300",
        "afspraak op 12-03-2026",
        "Ik kom op 12 maart 1985 langs",
    ] {
        assert_eq!(d.redact(text).text, text);
    }
    assert_eq!(
        d.redact("geboren op 12 maart 1985").text,
        "geboren op ********985"
    );
}

#[test]
fn large_and_odd_messages_do_not_panic() {
    let d = Detector::default();
    let unit = "Goedemiddag 😀, mijn bsn is 123456782 en ik ben geboren 1-1-1990. ";
    let copies = 100 * 1024 / unit.len() + 1;
    let big = unit.repeat(copies);
    let r = d.redact(&big);
    assert_eq!(r.findings.len(), 2 * copies);
    assert!(!r.text.contains("123456782"));

    let emoji = "😀🙂👍🏽🇳🇱".repeat(5000);
    assert!(d.scan(&emoji).is_empty());
    let control: String = (0u32..32)
        .filter_map(char::from_u32)
        .cycle()
        .take(10_000)
        .collect();
    assert!(d.scan(&control).is_empty());
    let digits = "1".repeat(100_000);
    assert!(d.scan(&digits).is_empty());
    let spaced = "1 ".repeat(50_000);
    assert!(d.scan(&spaced).is_empty());
}

/// A sample of countries and IBAN lengths to generate from (the detector knows them all).
const COUNTRIES: &[(&str, usize)] = &[
    ("NL", 18),
    ("BE", 16),
    ("DE", 22),
    ("FR", 27),
    ("GB", 22),
    ("NO", 15),
    ("MT", 31),
    ("LC", 32),
    ("RU", 33),
    ("ES", 24),
    ("PL", 28),
];

fn bsn_strategy() -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, 8).prop_filter_map("no ninth digit fits", |d| {
        let sum: u32 = d
            .iter()
            .enumerate()
            .map(|(i, &x)| (9 - i as u32) * u32::from(x))
            .sum();
        // 9·d1 + … + 2·d8 − d9 ≡ 0 (mod 11)  ⇔  d9 = sum mod 11, which must be a digit.
        let ninth = sum % 11;
        if ninth > 9 || sum == 0 {
            return None;
        }
        let mut s: String = d.iter().map(|x| char::from(b'0' + x)).collect();
        s.push(char::from(b'0' + ninth as u8));
        Some(s)
    })
}

fn mod97(s: &str) -> u32 {
    s.chars().fold(0, |rem, c| {
        let v = c.to_digit(36).expect("alphanumeric");
        if v < 10 {
            (rem * 10 + v) % 97
        } else {
            (rem * 100 + v) % 97
        }
    })
}

fn iban_strategy() -> impl Strategy<Value = String> {
    proptest::sample::select(COUNTRIES).prop_flat_map(|(country, len)| {
        proptest::collection::vec(
            proptest::sample::select(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".to_vec()),
            len - 4,
        )
        .prop_map(move |bban| {
            let bban: String = bban.into_iter().map(char::from).collect();
            let check = 98 - mod97(&format!("{bban}{country}00"));
            format!("{country}{check:02}{bban}")
        })
    })
}

/// Surrounding text: Dutch words, punctuation and emoji, never digits or context words.
fn filler() -> impl Strategy<Value = String> {
    let pieces = proptest::sample::select(vec![
        "hallo",
        "ik",
        "wil",
        "graag",
        "verhuizen",
        "naar",
        "Terneuzen",
        "dank",
        "u",
        "wel",
        "!",
        "?",
        ",",
        ".",
        ":",
        "(",
        ")",
        "😀",
        "🙂",
        "👍🏽",
        "é",
        "straße",
        "\n",
        "–",
    ]);
    proptest::collection::vec(pieces, 0..12).prop_map(|v| v.join(" "))
}

/// `value` with `sep` after every `every` characters.
fn spaced(value: &str, every: usize, sep: char) -> String {
    let mut out = String::new();
    for (i, c) in value.chars().enumerate() {
        if i > 0 && i % every == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

proptest! {
    #[test]
    fn valid_bsns_are_found_anywhere(
        bsn in bsn_strategy(),
        before in filler(),
        after in filler(),
        style in 0usize..4,
    ) {
        prop_assert!(is_valid_bsn(&bsn));
        let written = match style {
            0 => bsn.clone(),
            1 => spaced(&bsn, 3, '-'),
            2 => format!("{} {} {}", &bsn[..4], &bsn[4..6], &bsn[6..]),
            _ => format!("{}.{}.{}", &bsn[..4], &bsn[4..6], &bsn[6..]),
        };
        let text = format!("{before} {written} {after}");
        let r = Detector::default().redact(&text);
        prop_assert_eq!(r.findings.len(), 1, "{}", text);
        prop_assert_eq!(&r.findings[0].detector, "bsn");
        prop_assert_eq!(&text[r.findings[0].range.clone()], written.as_str());
        prop_assert_eq!(r.findings[0].masked.clone(), format!("******{}", &bsn[6..]));
        prop_assert!(!r.text.contains(&written));
    }

    #[test]
    fn bsns_failing_the_elfproef_are_not_found(
        bsn in bsn_strategy(),
        delta in 1u8..10,
        before in filler(),
        after in filler(),
    ) {
        let mut digits = bsn.into_bytes();
        digits[8] = b'0' + (digits[8] - b'0' + delta) % 10;
        let bad = String::from_utf8(digits).expect("ascii");
        prop_assert!(!is_valid_bsn(&bad));
        let text = format!("{before} bsn {bad} {after}");
        prop_assert!(Detector::default().scan(&text).is_empty(), "{}", text);
    }

    #[test]
    fn valid_ibans_are_found_anywhere(
        iban in iban_strategy(),
        before in filler(),
        after in filler(),
        lower in any::<bool>(),
        grouped in any::<bool>(),
    ) {
        prop_assert!(is_valid_iban(&iban));
        let mut written = if grouped { spaced(&iban, 4, ' ') } else { iban.clone() };
        if lower {
            written = written.to_lowercase();
        }
        let text = format!("{before} {written} {after}");
        let r = Detector::default().redact(&text);
        prop_assert_eq!(r.findings.len(), 1, "{}", text);
        prop_assert_eq!(&r.findings[0].detector, "iban");
        prop_assert_eq!(r.findings[0].masked.clone(), mask(&written));
        prop_assert!(!r.text.contains(&written));
        prop_assert!(!r.text.to_uppercase().contains(&iban[4..]));
    }

    #[test]
    fn ibans_with_a_wrong_digit_are_not_found(
        iban in iban_strategy(),
        at in 2usize..15,
        delta in 1u8..10,
        before in filler(),
    ) {
        let mut bytes = iban.into_bytes();
        // Change the first digit at or after `at` (every IBAN has its check digits at 2..4).
        let i = (at..bytes.len()).find(|&i| bytes[i].is_ascii_digit()).unwrap_or(2);
        bytes[i] = b'0' + (bytes[i] - b'0' + delta) % 10;
        let bad = String::from_utf8(bytes).expect("ascii");
        prop_assert!(!is_valid_iban(&bad));
        let text = format!("{before} {bad}");
        prop_assert!(Detector::default().scan(&text).iter().all(|f| f.detector != "iban"));
    }

    #[test]
    fn redact_never_panics_and_keeps_ranges_sane(text in any::<String>()) {
        let r = Detector::default().redact(&text);
        let mut end = 0;
        for f in &r.findings {
            prop_assert!(f.range.start >= end && f.range.end <= text.len());
            prop_assert!(text.get(f.range.clone()).is_some());
            prop_assert!(!text[f.range.clone()].is_empty());
            end = f.range.end;
        }
    }

    #[test]
    fn redacted_text_never_holds_a_found_value(
        bsn in bsn_strategy(),
        iban in iban_strategy(),
        noise in "[^0-9]{0,40}",
    ) {
        let text = format!("{noise} bsn {bsn} iban {iban} {noise}");
        let r = Detector::default().redact(&text);
        prop_assert!(!r.text.contains(&bsn), "{}", r.text);
        prop_assert!(!r.text.contains(&iban), "{}", r.text);
    }
}
