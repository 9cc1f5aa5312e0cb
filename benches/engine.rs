//! Benchmarks of the engine: `decide()` on the shipped flows and on a generated set of 2,000
//! topics with 20,000 keywords, and loading and validating those 2,000 topics.
//!
//! Run with `cargo bench --bench engine`; the README records the figures.

use std::hint::black_box;
use std::path::Path;

use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use triage::engine::{decide, ConversationState, Message};
use triage::flows::Sources;

/// A deterministic pseudo-random generator (xorshift), so every run generates the same set.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const SYLLABLES: &[&str] = &[
    "ka", "ver", "ling", "bo", "ter", "sta", "mi", "gen", "ro", "del", "pa", "nis", "lu", "wert",
    "ho", "ven", "di", "sel", "tra", "mo", "ber", "fi", "zan", "ke", "dor", "plu", "wi", "gor",
];

/// A made-up word of 3–4 syllables, unique for `n`.
fn word(rng: &mut Rng, n: usize) -> String {
    let mut w = String::new();
    for _ in 0..3 + rng.next() % 2 {
        w.push_str(rng.pick(SYLLABLES));
    }
    format!("{w}{}", to_letters(n))
}

fn to_letters(mut n: usize) -> String {
    let mut s = String::new();
    loop {
        s.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
        if n == 0 {
            break;
        }
    }
    s
}

/// A flow file with `topics` topics of `per_topic` keywords each, and the words used.
pub fn generated_flows(topics: usize, per_topic: usize) -> (String, Vec<String>) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut yaml = String::from("topics:\n");
    let mut words = Vec::new();
    for t in 0..topics {
        yaml.push_str(&format!("  - id: onderwerp-{t}\n    keywords:\n"));
        for k in 0..per_topic {
            let w = word(&mut rng, t * per_topic + k);
            yaml.push_str(&format!("      - {w}\n"));
            words.push(w);
        }
        yaml.push_str(&format!(
            "    phrases: [\"{} {}\"]\n",
            words[words.len() - 1],
            words[words.len() - 2]
        ));
        if t % 20 == 0 {
            yaml.push_str(&format!("    patterns: ['\\bcode {t}\\d{{2}}\\b']\n"));
        }
        yaml.push_str(&format!(
            "    answers: [\"Antwoord op onderwerp {t}.\"]\n    links:\n      - title: Meer over {t}\n        url: https://www.terneuzen.nl/onderwerp/{t}\n"
        ));
    }
    (yaml, words)
}

fn shipped_sources() -> Sources {
    Sources::read(Path::new("flows"), Path::new("rules")).expect("the shipped flows load")
}

fn generated_sources(topics: usize) -> (Sources, Vec<String>) {
    let mut s = shipped_sources();
    let (yaml, words) = generated_flows(topics, 10);
    // Keep the shipped handover and follow-up; replace the topics. The privacy file names
    // shipped topics for its secure pages, so the generated set keeps the shipped topics too.
    s.flows.push(("generated.yaml".into(), yaml.into_bytes()));
    (s, words)
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("a valid time")
        .with_timezone(&Utc)
}

const SHIPPED_MESSAGES: &[&str] = &[
    "hoi, ik wil graag een nieuw paspoort aanvragen, hoe werkt dat?",
    "wanneer wordt het grofvuil bij mij opgehaald",
    "Mijn rybewys is verlopen 😩 wat moet ik doen",
    "ik ben verhuisd naar de Noordstraat, moet ik dat doorgeven?",
    "de lantaarnpaal voor mijn huis is al een week kapot",
    "Ik heb een vraag over mijn aanslag gemeentelijke belastingen",
    "hoe laat is het gemeentehuis open op vrijdag",
    "Kan ik kwijtschelding krijgen? Ik heb weinig inkomen.",
    "hallo",
    "ik wil een dakkapel bouwen, heb ik een vergunning nodig?",
];

fn bench_decide(c: &mut Criterion) {
    let (shipped, _) = shipped_sources().compile().expect("shipped flows compile");
    let state = ConversationState::default();
    let open = at("2026-11-24T10:00:00+01:00");
    let closed = at("2026-11-27T19:30:00+01:00");
    let mut i = 0;
    c.bench_function("decide/shipped", |b| {
        b.iter(|| {
            i = (i + 1) % SHIPPED_MESSAGES.len();
            let m = Message::text(SHIPPED_MESSAGES[i]);
            black_box(decide(
                &shipped,
                &state,
                &m,
                if i % 2 == 0 { open } else { closed },
            ))
        })
    });

    let (sources, words) = generated_sources(2_000);
    let (big, _) = sources.compile().expect("generated flows compile");
    let mut rng = Rng(42);
    let fillers = [
        "ik", "wil", "graag", "weten", "hoe", "het", "zit", "met", "mijn", "vraag", "over", "de",
        "een", "en", "wanneer", "kan", "dat",
    ];
    let messages: Vec<String> = (0..256)
        .map(|n| {
            let mut m: Vec<String> = (0..6 + rng.next() % 10)
                .map(|_| rng.pick(&fillers).to_string())
                .collect();
            let w = &words[(rng.next() % words.len() as u64) as usize];
            // Every fourth message has a typo in its keyword, every eighth matches nothing.
            let w = match n % 8 {
                0 => "zomaar".to_string(),
                1 | 5 => {
                    let mut b = w.clone().into_bytes();
                    b.swap(2, 3);
                    String::from_utf8(b).unwrap_or_default()
                }
                _ => w.clone(),
            };
            m.insert((rng.next() % m.len() as u64) as usize, w);
            m.join(" ")
        })
        .collect();
    let mut j = 0;
    c.bench_function("decide/2000-topics", |b| {
        b.iter(|| {
            j = (j + 1) % messages.len();
            let m = Message::text(messages[j].as_str());
            black_box(decide(
                &big,
                &state,
                &m,
                if j % 2 == 0 { open } else { closed },
            ))
        })
    });
}

fn bench_load(c: &mut Criterion) {
    let (sources, _) = generated_sources(2_000);
    let mut g = c.benchmark_group("load");
    g.sample_size(10);
    g.bench_function("2000-topics", |b| {
        b.iter_batched(
            || sources.clone(),
            |s| black_box(s.compile().map(|(set, _)| set.topics.len())),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench_decide, bench_load);
criterion_main!(benches);
