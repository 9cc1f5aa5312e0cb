//! triage: a rule-driven chatbot and triage engine for public-service messaging.
//!
//! # Layout
//! - [`diag`]: problems in the editors' files, with their location and a hint.
//! - [`calendar`]: office hours, Dutch public holidays, closures, business time.
//! - [`privacy`]: detectors for BSN, IBAN, document numbers, dates of birth; masking.
#![forbid(unsafe_code)]

pub mod calendar;
pub mod diag;
pub mod privacy;
