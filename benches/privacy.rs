//! Throughput of privacy detection on a realistic mix of Dutch chat messages (50–500
//! characters, most without personal data). Run: `cargo bench --bench privacy`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use triage::privacy::{Detector, DetectorsConfig, PatternConfig};

/// Messages as residents write them; about one in four holds personal data.
const MESSAGES: &[&str] = &[
    "Goedemorgen, ik wil graag een afspraak maken voor een nieuw paspoort. Kan dat deze week nog?",
    "Hoi! Wanneer wordt het grofvuil opgehaald in Sluiskil? 🙂",
    "Ik ben verhuisd naar de Noordstraat 12 in Terneuzen en wil mijn adres wijzigen. Mijn BSN is 123456782.",
    "Mijn container is niet geleegd vandaag, de hele straat wel. Kan iemand langskomen?",
    "Hallo, ik heb een vraag over de aanslag gemeentelijke belastingen 2025. Het bedrag van € 312,45 klopt volgens mij niet, want ik woon sinds 1 maart alleen. Kunnen jullie dat nakijken? Mijn kenmerk is 2025-0481-22.",
    "Is het gemeentehuis open op 2e paasdag?",
    "Bedankt voor de snelle reactie 👍",
    "Graag terugbetalen op NL91 ABNA 0417 1643 00, alvast bedankt.",
    "Er ligt al drie dagen een dode meeuw op de stoep bij de Markt, ter hoogte van nummer 7. Wie ruimt dat op?",
    "Ik heb om 10:30 een afspraak op 12-03-2026 maar ik kan niet. Kan ik verzetten naar donderdag of vrijdag?",
    "Ik ben geboren op 3 mrt 1985 en wil een uittreksel BRP aanvragen voor mijn nieuwe werkgever.",
    "Bel me even terug op 06-12345678 a.u.b., ik ben na vijf uur thuis.",
    "Mijn zaaknummer is 111222333, hoe staat het met mijn aanvraag voor de omgevingsvergunning voor de dakkapel? Het is nu al acht weken geleden dat ik alles heb ingediend en ik hoor niets.",
    "Hoe laat gaat de milieustraat open op zaterdag?",
    "Goedemiddag, mijn moeder (geb. 14-07-1942) heeft hulp nodig via de Wmo. Ze kan niet meer zelf boodschappen doen en de trap is te zwaar. Wat zijn de mogelijkheden en hoe vraag ik dat aan? Ze woont in Axel.",
    "Mijn ID-kaart nummer is IR57BC3K1, ik ben hem verloren in de bus. Moet ik aangifte doen bij de politie of bij jullie?",
    "Waar kan ik een parkeervergunning aanvragen voor mijn tweede auto? Het kenteken is AB-123-C.",
    "Dank je wel, fijne dag verder!",
    "Ik wil bezwaar maken tegen de WOZ-waarde van mijn woning. Die is veel te hoog vergeleken met de buren. Hoe doe ik dat, en tot wanneer kan het?",
    "De lantaarnpaal op de hoek van de Kerkstraat en de Molenstraat doet het al een week niet. Het is 's avonds erg donker en onveilig voor de kinderen die naar de sportclub fietsen. Kan dit snel gemaakt worden? Melding gedaan op 4 januari, nog niets gehoord.",
];

fn bench(c: &mut Criterion) {
    let bytes: usize = MESSAGES.iter().map(|m| m.len()).sum();
    let default = Detector::default();
    let with_patterns = Detector::build(
        &DetectorsConfig::default(),
        &[PatternConfig {
            id: "klantnummer-belastingen".into(),
            label: "klantnummer".into(),
            pattern: r"\bBSG-\d{8}\b".into(),
            require_context: false,
            context: Default::default(),
        }],
    )
    .unwrap_or_default();

    let mut group = c.benchmark_group("privacy");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("scan/built-in", |b| {
        b.iter(|| {
            for m in MESSAGES {
                black_box(default.scan(black_box(m)));
            }
        })
    });
    group.bench_function("scan/built-in+pattern", |b| {
        b.iter(|| {
            for m in MESSAGES {
                black_box(with_patterns.scan(black_box(m)));
            }
        })
    });
    group.bench_function("redact/built-in", |b| {
        b.iter(|| {
            for m in MESSAGES {
                black_box(default.redact(black_box(m)));
            }
        })
    });
    group.finish();
    println!(
        "{} messages, {bytes} bytes, {} findings",
        MESSAGES.len(),
        MESSAGES
            .iter()
            .map(|m| default.scan(m).len())
            .sum::<usize>()
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
