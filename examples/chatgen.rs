//! Writes a generated chat export of a given size to standard output, to measure `triage
//! redact` on (the README's throughput figures come from this):
//!
//! ```sh
//! cargo run --release --example chatgen -- whatsapp 200 > /tmp/chat.txt
//! ```
//!
//! Formats: `csv`, `jsonl`, `text`, `whatsapp`; the size in MB (10^6 bytes). The content is
//! the same on every run (a fixed seed): short Dutch messages as residents write them, about
//! one in five with a BSN, an IBAN, a date of birth or a case number, some over several lines.

use std::io::{BufWriter, Write};

/// A small deterministic generator (xorshift), so that no run differs from another.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const PLAIN: &[&str] = &[
    "hoi, wanneer wordt het grofvuil bij ons opgehaald?",
    "goedemorgen! ik wil graag een afspraak maken voor een nieuw paspoort",
    "de lantaarnpaal in onze straat doet het al een week niet 😕",
    "Hoe laat is het gemeentehuis morgen open?",
    "ik ben verhuisd en wil dat doorgeven, hoe moet dat",
    "Bedankt voor de snelle reactie!! 👍",
    "kan ik mijn hond ook online aanmelden voor de hondenbelasting?",
    "er ligt al dagen zwerfafval bij het speeltuintje aan de Kerkstraat",
    "waar kan ik een parkeervergunning aanvragen voor mijn tweede auto",
    "ok top",
];

const NAMES: &[&str] = &[
    "Fatima",
    "Jan de Vries",
    "Mo",
    "Anneke",
    "Sanne B",
    "Piet",
    "Yusuf",
];

const IBANS: &[&str] = &[
    "NL91ABNA0417164300",
    "NL91 ABNA 0417 1643 00",
    "BE68539007547034",
];

fn bsn(rng: &mut Rng) -> String {
    loop {
        let digits: Vec<u64> = (0..8).map(|_| rng.below(10)).collect();
        let sum: u64 = digits.iter().zip((2..=9).rev()).map(|(d, w)| d * w).sum();
        // The elfproef: sum - last digit ≡ 0 (mod 11).
        let last = sum % 11;
        if last < 10 && digits[0] != 0 {
            return digits
                .iter()
                .chain(std::iter::once(&last))
                .map(|d| d.to_string())
                .collect();
        }
    }
}

fn message(rng: &mut Rng) -> String {
    match rng.below(20) {
        0 => format!("mijn bsn is {}", bsn(rng)),
        1 => format!(
            "mijn rekeningnummer is {} graag terugstorten",
            rng.pick(IBANS)
        ),
        2 => format!(
            "ik ben geboren op {}-{}-19{:02} en wil een uittreksel",
            1 + rng.below(28),
            1 + rng.below(12),
            rng.below(100)
        ),
        3 => format!("zaaknummer {} is nog niet behandeld", bsn(rng)),
        4 => format!(
            "{}\nen nog iets: bel me op 06{:08}",
            rng.pick(PLAIN),
            rng.below(100_000_000)
        ),
        _ => rng.pick(PLAIN).to_string(),
    }
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(format), Some(mb)) = (
        args.first(),
        args.get(1).and_then(|m| m.parse::<u64>().ok()),
    ) else {
        eprintln!("usage: chatgen csv|jsonl|text|whatsapp MEGABYTES > FILE");
        std::process::exit(2);
    };
    let limit = mb * 1_000_000;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut written = 0u64;
    let mut n = 0u64;
    if format == "csv" {
        let header = "id,datum,naam,telefoon,bericht\n";
        out.write_all(header.as_bytes()).expect("write");
        written += header.len() as u64;
    }
    while written < limit {
        n += 1;
        let (day, hour, minute) = (1 + n / 1440 % 28, n / 60 % 24, n % 60);
        let name = rng.pick(NAMES);
        let text = message(&mut rng);
        let phone = format!("316{:08}", rng.below(100_000_000));
        let line = match format.as_str() {
            "csv" => format!(
                "{n},2026-03-{day:02} {hour:02}:{minute:02},{},{phone},{}\n",
                csv_cell(name),
                csv_cell(&text)
            ),
            "jsonl" => format!(
                "{}\n",
                serde_json::json!({
                    "id": n,
                    "at": format!("2026-03-{day:02}T{hour:02}:{minute:02}:00Z"),
                    "contact": { "name": name, "wa_id": phone },
                    "text": text,
                })
            ),
            "text" => format!("{}\n", text.replace('\n', " ")),
            "whatsapp" => format!("{day:02}-03-2026 {hour:02}:{minute:02} - {name}: {text}\n"),
            other => {
                eprintln!("unknown format `{other}`: csv, jsonl, text or whatsapp");
                std::process::exit(2);
            }
        };
        out.write_all(line.as_bytes()).expect("write");
        written += line.len() as u64;
    }
    out.flush().expect("write");
}
