//! Office hours (temporary stand-in while the real module is written on its branch).
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::diag::ConfigIssue;

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OfficeHoursConfig {
    pub timezone: String,
}

#[derive(Debug, Clone)]
pub struct OfficeHours {
    tz: Tz,
}

impl OfficeHours {
    pub fn build(cfg: &OfficeHoursConfig) -> Result<OfficeHours, Vec<ConfigIssue>> {
        let tz = cfg
            .timezone
            .parse()
            .map_err(|_| vec![ConfigIssue::new("timezone", "unknown timezone")])?;
        Ok(OfficeHours { tz })
    }
    pub fn timezone(&self) -> Tz {
        self.tz
    }
    pub fn is_open(&self, _at: DateTime<Utc>) -> bool {
        true
    }
    pub fn next_opening(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        Some(at + Duration::hours(1))
    }
}

pub fn format_dutch(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%d-%m %H:%M").to_string()
}
