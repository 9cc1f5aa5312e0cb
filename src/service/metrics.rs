//! Prometheus metrics, kept by hand: a few counters and one histogram need no crate. Rendered in
//! the text exposition format at `/metrics`. Labels are outcomes and departments, never personal
//! data.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::store::Counts;

/// Upper bounds of the webhook latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

/// The service's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    pub webhooks: AtomicU64,
    pub webhooks_rejected: AtomicU64,
    pub messages_in: AtomicU64,
    pub duplicates: AtomicU64,
    pub statuses: AtomicU64,
    pub sends_ok: AtomicU64,
    pub send_retries: AtomicU64,
    pub send_failures: AtomicU64,
    pub follow_ups: AtomicU64,
    pub logins_refused: AtomicU64,
    /// Finished rounds of the processing worker (stored messages, then due follow-ups).
    pub processor_rounds: AtomicU64,
    /// Finished rounds of the sending worker (every due outbox row tried once).
    pub sender_rounds: AtomicU64,
    /// Retention sweeps done, and what they removed.
    pub retention_sweeps: AtomicU64,
    pub retention_texts: AtomicU64,
    pub retention_traces: AtomicU64,
    pub retention_audit: AtomicU64,
    pub retention_sessions: AtomicU64,
    outcomes: Mutex<BTreeMap<String, u64>>,
    latency: Mutex<Histogram>,
}

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

impl Metrics {
    pub fn inc(&self, c: &AtomicU64) {
        add(c, 1);
    }

    pub fn add(&self, c: &AtomicU64, n: u64) {
        add(c, n);
    }

    /// Counts a decision by its outcome (`faq`, `handover`, …).
    pub fn outcome(&self, outcome: &str) {
        let mut m = self
            .outcomes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *m.entry(outcome.to_string()).or_default() += 1;
    }

    /// Records one webhook's handling time.
    pub fn observe_webhook(&self, seconds: f64) {
        let mut h = self
            .latency
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    /// The exposition text, with the store's queue sizes.
    pub fn render(&self, counts: Option<&Counts>) -> String {
        let mut o = String::new();
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let counters = [
            (
                "triage_webhooks_total",
                "Webhook POSTs accepted",
                &self.webhooks,
            ),
            (
                "triage_webhooks_rejected_total",
                "Webhook POSTs refused (signature, size, format)",
                &self.webhooks_rejected,
            ),
            (
                "triage_messages_in_total",
                "Inbound messages stored",
                &self.messages_in,
            ),
            (
                "triage_duplicates_total",
                "Inbound messages delivered twice and ignored",
                &self.duplicates,
            ),
            (
                "triage_statuses_total",
                "Delivery statuses received",
                &self.statuses,
            ),
            (
                "triage_messages_out_total",
                "Outbound messages accepted by the API",
                &self.sends_ok,
            ),
            (
                "triage_outbox_retries_total",
                "Outbound sends to be tried again",
                &self.send_retries,
            ),
            (
                "triage_outbox_failures_total",
                "Outbound sends given up",
                &self.send_failures,
            ),
            (
                "triage_follow_ups_total",
                "Follow-up questions asked",
                &self.follow_ups,
            ),
            (
                "triage_logins_refused_total",
                "Sign-ins refused (wrong password, unknown name, too many attempts)",
                &self.logins_refused,
            ),
            (
                "triage_processor_rounds_total",
                "Finished rounds of the processing worker (messages, then due follow-ups)",
                &self.processor_rounds,
            ),
            (
                "triage_sender_rounds_total",
                "Finished rounds of the sending worker (every due reply tried once)",
                &self.sender_rounds,
            ),
            (
                "triage_retention_sweeps_total",
                "Retention sweeps done (at start and every hour)",
                &self.retention_sweeps,
            ),
            (
                "triage_retention_message_texts_total",
                "Message texts removed at the end of their term",
                &self.retention_texts,
            ),
            (
                "triage_retention_traces_total",
                "Decisions whose reasons were removed at the end of their term",
                &self.retention_traces,
            ),
            (
                "triage_retention_audit_lines_total",
                "Audit lines removed at the end of their term",
                &self.retention_audit,
            ),
            (
                "triage_retention_sessions_total",
                "Expired sessions removed",
                &self.retention_sessions,
            ),
        ];
        for (name, help, c) in counters {
            let _ = writeln!(
                o,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                get(c)
            );
        }
        let _ = writeln!(o, "# HELP triage_decisions_total Decisions by outcome\n# TYPE triage_decisions_total counter");
        for (outcome, n) in self
            .outcomes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(o, "triage_decisions_total{{outcome=\"{outcome}\"}} {n}");
        }
        {
            let h = self
                .latency
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let name = "triage_webhook_seconds";
            let _ = writeln!(
                o,
                "# HELP {name} Webhook handling time\n# TYPE {name} histogram"
            );
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(o, "{name}_bucket{{le=\"{bound}\"}} {}", h.counts[i]);
            }
            let _ = writeln!(
                o,
                "{name}_bucket{{le=\"+Inf\"}} {}\n{name}_sum {}\n{name}_count {}",
                h.count, h.sum, h.count
            );
        }
        if let Some(c) = counts {
            let gauges = [
                (
                    "triage_inbound_pending",
                    "Inbound messages not yet decided",
                    c.inbound_pending,
                ),
                (
                    "triage_outbox_pending",
                    "Outbound messages not yet sent",
                    c.outbox_pending,
                ),
                (
                    "triage_outbox_failed",
                    "Outbound messages given up",
                    c.outbox_failed,
                ),
                (
                    "triage_follow_ups_scheduled",
                    "Follow-ups waiting for the next opening",
                    c.follow_ups_scheduled,
                ),
            ];
            for (name, help, v) in gauges {
                let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
            }
            let _ = writeln!(o, "# HELP triage_queue_size Conversations waiting per department\n# TYPE triage_queue_size gauge");
            for (dept, n) in &c.queued {
                let _ = writeln!(o, "triage_queue_size{{department=\"{dept}\"}} {n}");
            }
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_outcomes_and_the_histogram() {
        let m = Metrics::default();
        m.inc(&m.messages_in);
        m.outcome("faq");
        m.outcome("faq");
        m.observe_webhook(0.003);
        let text = m.render(None);
        assert!(text.contains("triage_messages_in_total 1\n"), "{text}");
        assert!(
            text.contains("triage_decisions_total{outcome=\"faq\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("triage_webhook_seconds_bucket{le=\"0.0025\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("triage_webhook_seconds_bucket{le=\"0.005\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("triage_webhook_seconds_count 1\n"), "{text}");
    }
}
