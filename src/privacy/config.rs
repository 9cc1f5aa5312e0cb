//! The editors' side of privacy detection: the `detectors:` and `patterns:` sections of
//! `rules/privacy.yaml`, as loose serde structs that [`Detector::build`](super::Detector::build)
//! validates and compiles.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Words near a value that change whether it counts as personal data.
///
/// The words just before the value count (at most four, within forty characters), and the
/// words just after it (at most three, within thirty characters, up to the end of the sentence
/// or the next number). The nearest context word on either side decides; a raise word wins a
/// tie. Matching ignores case and accents, and punctuation between words: `geb.` matches `geb`,
/// `ID kaart` matches `id-kaart`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContextWords {
    /// Words that mean the value is something else, such as `zaaknummer`, `telefoon` or
    /// `euro`.
    /// When this list is left out, a built-in detector keeps its own list; a list given here
    /// replaces it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel: Option<Vec<String>>,
    /// Words that confirm the value, such as `bsn` or `geboren`. A detector that requires
    /// context only fires next to one of these. When this list is left out, a built-in detector
    /// keeps its own list; a list given here replaces it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raise: Option<Vec<String>>,
}

/// Settings of one built-in detector. Everything is optional: what is left out keeps the
/// built-in behaviour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BuiltinDetectorConfig {
    /// Whether this detector runs at all. Default: `true`.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// The name of the kind of data, shown to agents and in replies, such as
    /// `burgerservicenummer (BSN)`. Default: a built-in Dutch label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Whether a value only counts next to one of the `raise` words. Default: `true` for
    /// `date_of_birth` (a bare date is usually an appointment), `false` for the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_context: Option<bool>,
    /// Words around a value that cancel it or confirm it.
    #[serde(default)]
    pub context: ContextWords,
}

impl Default for BuiltinDetectorConfig {
    fn default() -> Self {
        BuiltinDetectorConfig {
            enabled: true,
            label: None,
            require_context: None,
            context: ContextWords::default(),
        }
    }
}

fn default_true() -> bool {
    true
}

/// The `detectors:` section: the built-in detectors. A detector that is left out runs with its
/// built-in settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DetectorsConfig {
    /// Burgerservicenummer: 9 digits passing the elfproef, with or without spaces, dots or
    /// dashes. An 8-digit number (a BSN without its leading zero) only counts when written
    /// without separators and next to a `raise` word. Never an amount with a currency sign
    /// (`€ 123.456.782`) or a phone number; a number after a code and a dash or slash
    /// (`OV-123456782`, `Z/123456782`) only counts next to a `raise` word.
    #[serde(default)]
    pub bsn: BuiltinDetectorConfig,
    /// Bank account number (IBAN) of any country, checked with mod-97; spaces and lower case
    /// allowed.
    #[serde(default)]
    pub iban: BuiltinDetectorConfig,
    /// Dutch passport or ID-card number: 2 letters, 6 letters or digits, 1 digit, never the
    /// letter O. In capitals with a digit among the middle six it counts on its own; otherwise
    /// only next to a `raise` word.
    #[serde(default)]
    pub document_number: BuiltinDetectorConfig,
    /// Date of birth: `12-03-1985`, `12/3/1985`, `1985-03-12`, `12 maart 1985`, `3 mrt 1985`.
    /// Only valid calendar dates; by default only next to a `raise` word (`geboren op 12-03-1985`,
    /// `12-03-1985 geboren`).
    #[serde(default)]
    pub date_of_birth: BuiltinDetectorConfig,
}

/// One item of `patterns:`: a kind of personal data declared by an editor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PatternConfig {
    /// A unique name for this pattern, such as `klantnummer-belastingen`. It may not be one of
    /// the built-in names (`bsn`, `iban`, `document_number`, `date_of_birth`).
    pub id: String,
    /// The name of the kind of data, shown to agents and in replies, such as `klantnummer`.
    pub label: String,
    /// A regular expression (Rust `regex` syntax, linear time). Look-around (`(?=`, `(?!`,
    /// `(?<=`, `(?<!`) and back-references are not supported.
    pub pattern: String,
    /// Whether a match only counts next to one of the `raise` words. Default: `false`.
    #[serde(default)]
    pub require_context: bool,
    /// Words around a match that cancel it or confirm it. Default: none.
    #[serde(default)]
    pub context: ContextWords,
}
