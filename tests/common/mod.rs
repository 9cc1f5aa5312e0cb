//! What the integration tests share: a small, self-contained set of flow files, and in [`app`]
//! the black-box harness of the running service.
#![allow(dead_code)]

pub mod app;
pub mod process;

use triage::flows::{FlowSet, Sources};

pub const OFFICE: &str = "\
timezone: Europe/Amsterdam
weekly:
  monday: [\"08:30-17:00\"]
  tuesday: [\"08:30-17:00\"]
  wednesday: [\"08:30-17:00\"]
  thursday: [\"08:30-17:00\"]
  friday: [\"08:30-17:00\"]
holidays: [nieuwjaarsdag, eerste-paasdag, tweede-paasdag, koningsdag, hemelvaartsdag,
  eerste-pinksterdag, tweede-pinksterdag, eerste-kerstdag, tweede-kerstdag]
";

pub const DEPARTMENTS: &str = "\
departments:
  - id: burgerzaken
    name: Burgerzaken
  - id: belastingen
    name: Belastingen
  - id: kcc
    name: Klantcontactcentrum
default: kcc
routing:
  - department: belastingen
    keywords: [aanslag, bezwaar]
  - department: burgerzaken
    keywords: [naamswijziging]
";

pub const PRIVACY: &str = "\
detectors:
  bsn:
    context:
      cancel: [zaaknummer, ordernummer]
secure_pages:
  - topics: [verhuizing]
    title: Verhuizing doorgeven met DigiD
    url: https://www.terneuzen.nl/verhuizen-digid
default_page:
  title: Veilig gegevens delen
  url: https://www.terneuzen.nl/veilig
reply: \"Je bericht bevatte een {label}; dat hebben we weggehaald. Ga naar {title}: {url}\"
";

pub const FLOWS: &str = "\
topics:
  - id: paspoort
    keywords: [paspoort, idkaart, identiteitskaart]
    phrases: [nieuw paspoort]
    synonyms: [passport]
    exclude: [rijbewijs]
    answers: [\"Een paspoort vraag je aan op het gemeentehuis, {name}.\"]
    links:
      - title: Paspoort aanvragen
        url: https://www.terneuzen.nl/paspoort
    buttons:
      - title: Afspraak maken
        topic: afspraak
      - title: Medewerker
        handover: true
    department: burgerzaken
  - id: rijbewijs
    keywords: [rijbewijs]
    synonyms: [driving licence]
    answers: [Een rijbewijs verleng je met een afspraak.]
  - id: verhuizing
    keywords: [verhuizen, verhuisd, verhuizing]
    synonyms: [moving]
    answers: [Een verhuizing geef je door met DigiD.]
  - id: afspraak
    keywords: [afspraak]
    answers: [Maak een afspraak via de website.]
  - id: groet
    patterns: ['^(hoi|hallo)$']
    answers: [Hoi! Waarmee kan ik je helpen?]
handover:
  open: Ik zet je vraag door naar {department}.
  closed: We zijn gesloten; we zijn er weer {next_opening}. Dan pakt {department} het op.
  media: Foto's en spraakberichten kan ik niet bekijken; een collega kijkt ernaar.
follow_up:
  text: Heb je nog antwoord nodig, {name}?
  template:
    name: vraag_nog_open
    language: nl
    parameters: [\"{name}\"]
  yes_words: [ja, graag]
  no_words: [nee, gelukt]
  yes_reply: Top, we komen erop terug.
  no_reply: Fijn, fijne dag!
";

/// The small set, compiled from memory.
pub fn small_set() -> FlowSet {
    sources_with_flows(FLOWS)
        .compile()
        .expect("the small set compiles")
        .0
}

/// The small set's rules with other flows.
pub fn sources_with_flows(flows: &str) -> Sources {
    Sources {
        office_hours: ("office-hours.yaml".into(), OFFICE.into()),
        privacy: ("privacy.yaml".into(), PRIVACY.into()),
        departments: ("departments.yaml".into(), DEPARTMENTS.into()),
        flows: vec![("main.yaml".into(), flows.into())],
        channels: Vec::new(),
    }
}
