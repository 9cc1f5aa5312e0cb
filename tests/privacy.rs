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

// ---------------------------------------------------------------------------------------------
// Messages as residents write them, each with what must be found (and so, implicitly, what must
// not). Every 9-digit number here passes the elfproef, so a row that expects nothing tests the
// context and format rules, never the checksum. Run against the built-in defaults and against
// the shipped `rules/privacy.yaml`.

/// `(message, [(detector, value as written)])`.
type Row = (&'static str, &'static [(&'static str, &'static str)]);

const NONE: &[(&str, &str)] = &[];

const MESSAGES: &[Row] = &[
    // A BSN, written the ways residents write it.
    ("mijn bsn is 111222333", &[("bsn", "111222333")]),
    ("111 222 333", &[("bsn", "111 222 333")]),
    ("111.222.333", &[("bsn", "111.222.333")]),
    (
        "burgerservicenummer: 111-222-333",
        &[("bsn", "111-222-333")],
    ),
    (
        "Hoi, ik ben verhuisd. BSN 123456782. Groetjes",
        &[("bsn", "123456782")],
    ),
    ("bsn: 1112 22 333 graag", &[("bsn", "1112 22 333")]),
    (
        "sofinummer 111222333 (mijn oude nummer)",
        &[("bsn", "111222333")],
    ),
    (
        "Vraag over mijn uitkering, 111222333",
        &[("bsn", "111222333")],
    ),
    (
        "111222333 is mijn burgerservicenummer",
        &[("bsn", "111222333")],
    ),
    (
        "111 222 333 is het bsn van mijn zoon",
        &[("bsn", "111 222 333")],
    ),
    ("mijn bsn is 12345672", &[("bsn", "12345672")]),
    ("12345672 is mijn bsn", &[("bsn", "12345672")]),
    ("BSN-111222333", &[("bsn", "111222333")]),
    (
        "ik heb geen klantnummer, mijn bsn is 111222333",
        &[("bsn", "111222333")],
    ),
    (
        "Mijn bsn is 111222333, mijn zaaknummer is 123456782",
        &[("bsn", "111222333")],
    ),
    (
        "mijn BSN is 111222333 en mijn klantnummer is 444719830",
        &[("bsn", "111222333")],
    ),
    (
        "111222333 en mijn klantnummer is 444719830",
        &[("bsn", "111222333")],
    ),
    // Amounts: a currency sign or word, thousands dots.
    ("Het bedrag is € 123.456.782", NONE),
    ("€123.456.782,- staat op de aanslag", NONE),
    ("EUR 111.222.333 is veel te veel", NONE),
    ("de WOZ-waarde is 111.222.333 euro?", NONE),
    ("€ 111 222 333 voor een dakkapel??", NONE),
    ("bedrag: € 111222333,00", NONE),
    ("ik moet €111.222.333 betalen", NONE),
    ("$ 111.222.333", NONE),
    ("het is 111.222.333 EUR", NONE),
    ("€\u{a0}987.966.984", NONE),
    // Customer, debtor and relation numbers.
    ("klantnummer 111222333", NONE),
    ("klantnr. 111222333", NONE),
    ("Mijn klantnr: 111-222-333", NONE),
    ("debiteurnummer 111222333", NONE),
    ("mijn debiteurnummer bij jullie is 111222333", NONE),
    ("111222333 is mijn klantnummer", NONE),
    ("relatienummer 555303858", NONE),
    // Permits, with a letter prefix or a prefix word.
    ("vergunning OV-111222333", NONE),
    ("Z/111222333 is mijn zaak", NONE),
    ("W-111222333", NONE),
    ("OLO 111222333", NONE),
    ("aanvraag omgevingsvergunning, OLO-nummer 111222333", NONE),
    ("vergunningnummer 111222333", NONE),
    ("mijn vergunning: OV - 111222333", NONE),
    ("vergunning OV–111222333", NONE),
    ("zaak Z / 111222333", NONE),
    // Invoices, parcels, orders, cases.
    ("factuurnummer 111222333", NONE),
    ("factuur 111 222 333 klopt niet", NONE),
    ("pakketnummer 111222333", NONE),
    ("mijn pakket 111222333 is niet bezorgd", NONE),
    ("track & trace 111222333", NONE),
    ("ordernummer #111222333", NONE),
    ("bestelling 111222333 nooit ontvangen", NONE),
    ("zaaknummer 111222333", NONE),
    ("111222333 is het zaaknummer", NONE),
    ("mijn zaak 111.222.333 loopt nog", NONE),
    ("klantnummer 12345672", NONE),
    // Phone numbers, Dutch mobile and landline, +31 and 0031.
    ("bel me op 06-12345678", NONE),
    ("mijn nummer is 0612345678", NONE),
    ("whatsapp +31 6 13720696", NONE),
    ("0031 6 13720696", NONE),
    ("+31 (0)10 8312021", NONE),
    ("+31(0)115-799308 (kantoor)", NONE),
    ("+31 (0)20 991 7908", NONE),
    ("bel 0115-123456", NONE),
    ("tel 010 - 123 45 67", NONE),
    ("(0115) 79 93 08", NONE),
    ("06 - 13720696 na vijven", NONE),
    // Postcodes and licence plates.
    ("postcode 4531 AB, huisnummer 12", NONE),
    ("4531AB 12", NONE),
    ("kenteken AB-123-C", NONE),
    ("kenteken 12-ABC-3 staat fout", NONE),
    // Dates of birth, with the word for "born" before or after.
    ("12-03-1985 geboren", &[("date_of_birth", "12-03-1985")]),
    (
        "ik ben 12 maart 1985 geboren",
        &[("date_of_birth", "12 maart 1985")],
    ),
    (
        "op 3 mei 1990 ben ik geboren",
        &[("date_of_birth", "3 mei 1990")],
    ),
    ("geboren op 12-03-1985", &[("date_of_birth", "12-03-1985")]),
    (
        "geboortedatum: 1985-03-12",
        &[("date_of_birth", "1985-03-12")],
    ),
    (
        "12/03/1985 is mijn geboortedatum",
        &[("date_of_birth", "12/03/1985")],
    ),
    (
        "geboren 12-03-1985, afspraak op 12-03-2027",
        &[("date_of_birth", "12-03-1985")],
    ),
    (
        "ik ben 3-4-1990 geboren en heb op 12-03-2027 een afspraak",
        &[("date_of_birth", "3-4-1990")],
    ),
    // Appointment dates and other dates are no date of birth.
    ("afspraak op 12-03-2027", NONE),
    ("ik heb op 12-03-2027 een afspraak", NONE),
    ("op 12-03-2027 kom ik langs", NONE),
    (
        "mijn zoon is geboren en ik heb op 12-03-2027 een afspraak",
        NONE,
    ),
    ("12 maart 1985 ben ik verhuisd", NONE),
    // IBAN and document numbers beside the rest.
    (
        "mijn rekening NL91 ABNA 0417 1643 00",
        &[("iban", "NL91 ABNA 0417 1643 00")],
    ),
    ("paspoort NXC4R2L91", &[("document_number", "NXC4R2L91")]),
    (
        "IBAN NL91ABNA0417164300 en bedrag € 111.222.333",
        &[("iban", "NL91ABNA0417164300")],
    ),
    (
        "bsn 111222333, klantnummer 123456782",
        &[("bsn", "111222333")],
    ),
];

/// The detector built from the shipped `rules/privacy.yaml`.
fn shipped() -> Detector {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/privacy.yaml");
    let yaml = std::fs::read_to_string(path).expect("rules/privacy.yaml");
    let file: triage::flows::model::PrivacyFile =
        serde_norway::from_str(&yaml).expect("rules/privacy.yaml parses");
    Detector::build(&file.detectors, &file.patterns).expect("rules/privacy.yaml builds")
}

/// The rows `d` gets wrong, each as one readable line.
fn wrong_rows(d: &Detector) -> Vec<String> {
    let mut wrong = Vec::new();
    for (text, want) in MESSAGES {
        let findings = d.scan(text);
        let got: Vec<(&str, &str)> = findings
            .iter()
            .map(|f| (f.detector.as_str(), &text[f.range.clone()]))
            .collect();
        if got != *want {
            wrong.push(format!("{text:?}: want {want:?}, got {got:?}"));
        }
    }
    wrong
}

#[test]
fn message_table_with_built_in_defaults() {
    let wrong = wrong_rows(&Detector::default());
    assert!(
        wrong.is_empty(),
        "{} of {} rows wrong:\n{}",
        wrong.len(),
        MESSAGES.len(),
        wrong.join("\n")
    );
}

#[test]
fn message_table_with_the_shipped_rules() {
    let wrong = wrong_rows(&shipped());
    assert!(
        wrong.is_empty(),
        "{} of {} rows wrong:\n{}",
        wrong.len(),
        MESSAGES.len(),
        wrong.join("\n")
    );
}

/// `digits` with a dot between every group of three, counted from the right.
fn thousands(digits: &str, sep: char) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// A Dutch phone number in one of the ways people write them, from random subscriber digits.
fn phone_strategy() -> impl Strategy<Value = String> {
    (
        0usize..16,
        proptest::collection::vec(0u8..10, 8),
        proptest::sample::select(vec!["10", "20", "115", "118", "13", "76"]),
    )
        .prop_map(|(style, d, area)| {
            let d: String = d.iter().map(|x| char::from(b'0' + x)).collect();
            // A landline's subscriber part: 9 digits in all with the area code.
            let sub = &d[..9 - area.len()];
            match style {
                0 => format!("06{d}"),
                1 => format!("06-{d}"),
                2 => format!("06 {d}"),
                3 => format!("06 {} {} {} {}", &d[..2], &d[2..4], &d[4..6], &d[6..]),
                4 => format!("+316{d}"),
                5 => format!("+31 6 {d}"),
                6 => format!("+31 (0)6 {d}"),
                7 => format!("0031 6 {d}"),
                8 => format!("00316{d}"),
                9 => format!("0{area}-{sub}"),
                10 => format!("0{area} {sub}"),
                11 => format!("+31 {area} {sub}"),
                12 => format!("+31 (0){area} {sub}"),
                13 => format!("+31(0){area}-{sub}"),
                14 => format!("(0{area}) {sub}"),
                _ => format!("06 - {d}"),
            }
        })
}

/// A value from `bsn_strategy` without its leading zero, when it has one: an 8-digit BSN.
fn bsn8_strategy() -> impl Strategy<Value = String> {
    (proptest::collection::vec(0u8..10, 7), 0u8..10).prop_filter_map(
        "no ninth digit fits",
        |(d, _)| {
            let nine: Vec<u8> = std::iter::once(0).chain(d.iter().copied()).collect();
            let sum: u32 = nine
                .iter()
                .enumerate()
                .map(|(i, &x)| (9 - i as u32) * u32::from(x))
                .sum();
            let last = sum % 11;
            if last > 9 || sum == 0 || d[0] == 0 {
                return None;
            }
            let mut s: String = d.iter().map(|x| char::from(b'0' + x)).collect();
            s.push(char::from(b'0' + last as u8));
            Some(s)
        },
    )
}

const RAISE_BEFORE: &[&str] = &["mijn bsn is", "BSN:", "burgerservicenummer", "bsn-nummer"];
const RAISE_AFTER: &[&str] = &["is mijn bsn", "(bsn)", "is mijn burgerservicenummer"];
const CANCEL: &[&str] = &[
    "zaaknummer",
    "klantnummer",
    "klantnr.",
    "debiteurnummer",
    "factuurnummer",
    "ordernummer",
    "pakketnummer",
    "vergunningnummer",
    "OLO",
    "kenmerk",
];

proptest! {
    #[test]
    fn amounts_with_a_currency_are_never_a_bsn(
        digits in prop_oneof![
            // Amounts that pass the elfproef are the ones that could be taken for a BSN.
            bsn_strategy().prop_filter("an amount has no leading zero", |s| !s.starts_with('0')),
            (10_000_000u64..1_000_000_000_000).prop_map(|a| a.to_string()),
        ],
        style in 0usize..8,
        before in filler(),
        after in filler(),
    ) {
        let dotted = thousands(&digits, '.');
        let written = match style {
            0 => format!("€ {dotted}"),
            1 => format!("€{dotted},-"),
            2 => format!("€ {dotted},00"),
            3 => format!("EUR {dotted}"),
            4 => format!("{dotted} euro"),
            5 => format!("€ {digits}"),
            6 => format!("€\u{a0}{dotted}"),
            _ => format!("{dotted} EUR"),
        };
        let text = format!("{before} {written} {after}");
        let found = Detector::default().scan(&text);
        prop_assert!(found.iter().all(|f| f.detector != "bsn"), "{}: {:?}", text, found);
    }

    #[test]
    fn a_bsn_with_a_raise_word_is_found_on_either_side(
        bsn in prop_oneof![bsn_strategy(), bsn8_strategy()],
        word_before in proptest::sample::select(RAISE_BEFORE),
        word_after in proptest::sample::select(RAISE_AFTER),
        after_value in any::<bool>(),
        before in filler(),
        after in filler(),
    ) {
        let text = if after_value {
            format!("{before} {bsn} {word_after} {after}")
        } else {
            format!("{before} {word_before} {bsn} {after}")
        };
        let r = Detector::default().redact(&text);
        prop_assert_eq!(r.findings.len(), 1, "{}", text);
        prop_assert_eq!(&r.findings[0].detector, "bsn");
        prop_assert_eq!(&text[r.findings[0].range.clone()], bsn.as_str());
        prop_assert!(!r.text.contains(&bsn));
    }

    #[test]
    fn a_cancel_word_on_either_side_cancels_a_bsn(
        bsn in bsn_strategy(),
        word in proptest::sample::select(CANCEL),
        after_value in any::<bool>(),
        before in filler(),
        after in filler(),
    ) {
        let text = if after_value {
            format!("{before} {bsn} is mijn {word} {after}")
        } else {
            format!("{before} mijn {word} is {bsn} {after}")
        };
        prop_assert!(Detector::default().scan(&text).is_empty(), "{}", text);
        prop_assert!(shipped().scan(&text).is_empty(), "{}", text);
    }

    #[test]
    fn a_dutch_phone_number_is_never_a_finding(
        phone in phone_strategy(),
        before in filler(),
        after in filler(),
    ) {
        let text = format!("{before} {phone} {after}");
        let found = Detector::default().scan(&text);
        prop_assert!(found.is_empty(), "{}: {:?}", text, found);
    }

    #[test]
    fn findings_never_overlap_and_masks_hide_the_value(
        pieces in proptest::collection::vec(
            prop_oneof![
                bsn_strategy(),
                iban_strategy(),
                phone_strategy(),
                (10_000_000u64..1_000_000_000_000).prop_map(|a| format!("€ {}", thousands(&a.to_string(), '.'))),
                proptest::sample::select(vec![
                    "bsn", "geboren", "klantnummer", "12-03-1985", "3 mei 1990", "afspraak",
                    "NXC4R2L91", "OV-", "Z/", "is", "mijn", ",", ".", "😀",
                ]).prop_map(str::to_owned),
            ],
            0..12,
        ),
        glue in proptest::sample::select(vec![" ", "", ", ", " - "]),
    ) {
        let text = pieces.join(glue);
        let d = Detector::default();
        let r = d.redact(&text);
        let mut end = 0;
        for f in &r.findings {
            prop_assert!(f.range.start >= end, "{}: {:?}", text, r.findings);
            end = f.range.end;
            let raw: String = text[f.range.clone()].chars().filter(|c| c.is_alphanumeric()).collect();
            let shown = f.masked.chars().filter(|&c| c != '*').count();
            prop_assert!(shown <= 3, "{:?}", f.masked);
            prop_assert_eq!(f.masked.chars().count(), raw.chars().count());
            let value = &text[f.range.clone()];
            prop_assert!(r.text.matches(value).count() < text.matches(value).count(), "{}", r.text);
        }
    }
}
