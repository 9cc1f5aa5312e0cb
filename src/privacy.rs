//! Privacy detectors (temporary stand-in while the real module is written on its branch).
use serde::{Deserialize, Serialize};

use crate::diag::ConfigIssue;

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DetectorsConfig {}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PatternConfig {
    pub id: String,
    pub label: String,
    pub pattern: String,
}

#[derive(Debug, Clone, Default)]
pub struct Detector {}

#[derive(Debug, Clone)]
pub struct Finding {
    pub detector: String,
    pub label: String,
    pub range: std::ops::Range<usize>,
    pub masked: String,
}

#[derive(Debug, Clone)]
pub struct Redaction {
    pub text: String,
    pub findings: Vec<Finding>,
}

impl Detector {
    pub fn build(_d: &DetectorsConfig, _p: &[PatternConfig]) -> Result<Detector, Vec<ConfigIssue>> {
        Ok(Detector {})
    }
    pub fn redact(&self, text: &str) -> Redaction {
        Redaction { text: text.to_string(), findings: Vec::new() }
    }
}
