//! How long "what would change" takes at its cap: 5,000 stored messages (the load tool's mix of
//! FAQ questions, handovers and messages with personal data) decided by two flow sets, the
//! shipped flows and the same with one topic's keyword moved. The README's figure comes from
//! this:
//!
//! ```sh
//! cargo run --release --example replaytime
//! ```

use std::path::Path;

use chrono::{DateTime, Utc};
use triage::channel::Channel;
use triage::flows::{FlowSet, Sources};
use triage::replay::{replay, Before, Input, MAX_MESSAGES};

fn main() {
    let (before, _) =
        FlowSet::load(Path::new("flows"), Path::new("rules")).expect("the flows load");
    // The same flows with `gft` taken from the container calendar: some answers change.
    let mut sources =
        Sources::read(Path::new("flows"), Path::new("rules")).expect("the flows read");
    for (_, bytes) in &mut sources.flows {
        let text = String::from_utf8_lossy(bytes).replace("      - gft\n", "");
        *bytes = text.into_bytes();
    }
    let (after, _) = sources.compile().expect("the changed flows compile");
    let at: DateTime<Utc> = "2026-11-25T09:00:00Z".parse().expect("a time");
    let messages: Vec<Input> = (0..MAX_MESSAGES as u64)
        .map(|i| {
            let redaction = before.privacy.redact(triage::load::text_for(i));
            Input {
                message_id: i as i64,
                conversation_id: i as i64,
                channel: Channel::WhatsApp,
                text: redaction.text,
                button: None,
                media: None,
                findings: triage::engine::summarize(&redaction.findings),
                sent_at: None,
                at: at + chrono::Duration::seconds(i as i64),
                recorded: None,
            }
        })
        .collect();
    let mut best = std::time::Duration::MAX;
    let mut changed = 0;
    for _ in 0..5 {
        let started = std::time::Instant::now();
        let r = replay(Before::Flows(&before), &after, &messages, 300, |_| true);
        best = best.min(started.elapsed());
        changed = r.changed;
    }
    println!(
        "{} messages through two flow sets: {:.1} ms (best of 5), {changed} changed",
        messages.len(),
        best.as_secs_f64() * 1e3
    );
}
