//! triage: a rule-driven chatbot and triage engine for public-service messaging.
//!
//! # Layout
//! The pure core (no I/O; the time is always an argument):
//! - [`text`]: normalisation (case, accents, emoji, stretched letters) and typo distance.
//! - [`calendar`]: office hours, Dutch public holidays, closures, business time.
//! - [`privacy`]: detectors for BSN, IBAN, document numbers, dates of birth; masking.
//! - [`matcher`]: one Aho-Corasick automaton, a typo index and a regex set over all terms.
//! - [`engine`]: `decide(flows, state, message, now) -> Decision`, with a trace of why.
//!
//! Around it:
//! - [`source`]: reading an editor's YAML file safely, with positions and schema checks.
//! - [`flows`]: the flow language ([`flows::model`]), validated and compiled into a `FlowSet`.
//! - [`convtest`]: conversation tests that editors write in YAML.
//! - [`cli`]: the editors' command line (`check`, `try`, `test`, `schema`).
//! - [`diag`]: problems a pure module reports against a path in its configuration.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod calendar;
pub mod cli;
pub mod convtest;
pub mod diag;
pub mod engine;
pub mod flows;
pub mod matcher;
pub mod privacy;
pub mod source;
pub mod text;
