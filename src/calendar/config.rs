//! The office-hours file (`rules/office-hours.yaml`) as editors write it, and its validation.
//!
//! Serde reads the file into these loose types; [`compile`] checks everything at once and turns it
//! into the parts of an [`OfficeHours`](super::OfficeHours), or returns every problem found.

use chrono::{NaiveDate, Weekday};
use chrono_tz::Tz;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Holiday, TimeRange};
use crate::diag::ConfigIssue;

/// When the municipality's contact centre is open: `rules/office-hours.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OfficeHoursConfig {
    /// The IANA timezone the opening times are in, such as `Europe/Amsterdam`. Opening times are
    /// wall-clock times there, so daylight-saving changes do not shift them.
    pub timezone: String,
    /// The regular opening hours per weekday. A day that is absent or `[]` is closed.
    #[serde(default)]
    pub weekly: WeeklyHours,
    /// The public holidays on which the office is closed, such as `koningsdag`. Their dates are
    /// computed for every year.
    #[serde(default)]
    pub holidays: Vec<Holiday>,
    /// One-off closures and shortened days. On these dates their `hours` replace the regular hours
    /// (and any holiday).
    #[serde(default)]
    pub exceptions: Vec<ExceptionConfig>,
}

/// Opening hours for each day of the week, as ranges like `08:30-17:00` in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WeeklyHours {
    /// Opening hours on Monday (maandag), e.g. `["08:30-17:00"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub monday: Vec<String>,
    /// Opening hours on Tuesday (dinsdag); a lunch break is two ranges: `["08:30-12:00", "13:00-17:00"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tuesday: Vec<String>,
    /// Opening hours on Wednesday (woensdag).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wednesday: Vec<String>,
    /// Opening hours on Thursday (donderdag).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thursday: Vec<String>,
    /// Opening hours on Friday (vrijdag).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub friday: Vec<String>,
    /// Opening hours on Saturday (zaterdag).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub saturday: Vec<String>,
    /// Opening hours on Sunday (zondag).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sunday: Vec<String>,
}

impl WeeklyHours {
    /// The configured ranges of `weekday`, with the key they were written under.
    pub fn get(&self, weekday: Weekday) -> (&'static str, &[String]) {
        match weekday {
            Weekday::Mon => ("monday", &self.monday),
            Weekday::Tue => ("tuesday", &self.tuesday),
            Weekday::Wed => ("wednesday", &self.wednesday),
            Weekday::Thu => ("thursday", &self.thursday),
            Weekday::Fri => ("friday", &self.friday),
            Weekday::Sat => ("saturday", &self.saturday),
            Weekday::Sun => ("sunday", &self.sunday),
        }
    }
}

/// A one-off closure or shortened day: either one `date`, or a range `from` .. `to` (inclusive).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExceptionConfig {
    /// The single date this exception applies to, as `YYYY-MM-DD`. Use either `date` or `from`/`to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date"))]
    pub date: Option<String>,
    /// The first date of a range of days, as `YYYY-MM-DD`; needs `to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date"))]
    pub from: Option<String>,
    /// The last date of the range (inclusive), as `YYYY-MM-DD`; needs `from`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date"))]
    pub to: Option<String>,
    /// The opening hours on these days, like `["08:30-12:00"]`. Absent or `[]`: closed all day.
    #[serde(default)]
    pub hours: Vec<String>,
    /// Why the day differs, for agents and the out-of-hours reply, e.g. `Kerstavond`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One validated exception: the days it covers, its hours and note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Exception {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub hours: Vec<TimeRange>,
    pub note: Option<String>,
}

/// The validated parts of an office-hours configuration.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub tz: Tz,
    /// Indexed by `Weekday::num_days_from_monday`.
    pub weekly: [Vec<TimeRange>; 7],
    pub holidays: Vec<Holiday>,
    /// Sorted by date, never overlapping.
    pub exceptions: Vec<Exception>,
}

/// Checks the whole configuration, collecting every problem.
pub(crate) fn compile(cfg: &OfficeHoursConfig) -> Result<Compiled, Vec<ConfigIssue>> {
    let mut issues = Vec::new();

    let tz = parse_timezone(&cfg.timezone, &mut issues);

    let mut weekly: [Vec<TimeRange>; 7] = Default::default();
    for (slot, weekday) in weekly.iter_mut().zip(WEEKDAYS) {
        let (key, ranges) = cfg.weekly.get(weekday);
        *slot = parse_ranges(ranges, &format!("weekly.{key}"), &mut issues);
    }

    let holidays = check_holidays(&cfg.holidays, &mut issues);
    let exceptions = check_exceptions(&cfg.exceptions, &mut issues);

    match tz {
        Some(tz) if issues.is_empty() => Ok(Compiled {
            tz,
            weekly,
            holidays,
            exceptions,
        }),
        _ => Err(issues),
    }
}

const WEEKDAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

fn parse_timezone(name: &str, issues: &mut Vec<ConfigIssue>) -> Option<Tz> {
    if let Ok(tz) = name.parse::<Tz>() {
        return Some(tz);
    }
    let mut issue = ConfigIssue::new("timezone", format!("unknown timezone `{name}`"));
    issue = match suggest_timezone(name) {
        Some(s) => issue.with_help(format!("did you mean `{s}`?")),
        None => issue.with_help("use an IANA timezone name, such as `Europe/Amsterdam`"),
    };
    issues.push(issue);
    None
}

/// The timezone name closest to `name`: same name in other case, same city, or a small typo.
fn suggest_timezone(name: &str) -> Option<&'static str> {
    let wanted = name.trim().to_lowercase();
    if wanted.is_empty() {
        return None;
    }
    let names = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name());
    let mut best: Option<(usize, &'static str)> = None;
    for candidate in names {
        let lower = candidate.to_lowercase();
        let city = lower.rsplit('/').next().unwrap_or(&lower);
        let distance = if lower == wanted || city == wanted {
            0
        } else {
            edit_distance(&wanted, &lower).min(edit_distance(&wanted, city).saturating_add(1))
        };
        if best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    let limit = (wanted.chars().count() / 4).max(2);
    best.filter(|(d, _)| *d <= limit).map(|(_, n)| n)
}

/// Levenshtein distance over characters.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            let cost = usize::from(ca != *cb);
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + cost);
            diagonal = above;
        }
    }
    row[b.len()]
}

const RANGE_HELP: &str = "write a time range as `HH:MM-HH:MM`, like `08:30-17:00`";

/// Parses and checks a list of ranges under `path` (`weekly.tuesday`, `exceptions[0].hours`).
fn parse_ranges(ranges: &[String], path: &str, issues: &mut Vec<ConfigIssue>) -> Vec<TimeRange> {
    let mut parsed: Vec<TimeRange> = Vec::with_capacity(ranges.len());
    // The last range that parsed, with its index, to check order and overlap against.
    let mut previous: Option<(usize, TimeRange)> = None;
    for (i, text) in ranges.iter().enumerate() {
        let here = format!("{path}[{i}]");
        let range = match parse_range(text) {
            Ok(range) => range,
            Err(issue) => {
                issues.push(issue.at(here));
                continue;
            }
        };
        if let Some((j, prev)) = previous {
            if range.start() < prev.start() {
                issues.push(
                    ConfigIssue::new(
                        &here,
                        format!("`{range}` starts before the range above it (`{prev}`)"),
                    )
                    .with_help(format!("list the ranges of `{path}` from early to late")),
                );
            } else if range.start() < prev.end() {
                issues.push(
                    ConfigIssue::new(
                        &here,
                        format!("`{range}` overlaps `{prev}` in `{path}[{j}]`"),
                    )
                    .with_help(
                        "merge them into one range, or end the first where the second starts",
                    ),
                );
            }
        }
        if previous.is_none_or(|(_, prev)| range.end() > prev.end()) {
            previous = Some((i, range));
        }
        parsed.push(range);
    }
    parsed.sort_by_key(|r| r.start());
    parsed
}

/// A problem in one range, before its path is known.
struct RangeIssue {
    message: String,
    help: &'static str,
}

impl RangeIssue {
    fn at(self, path: String) -> ConfigIssue {
        ConfigIssue::new(path, self.message).with_help(self.help)
    }
}

/// Parses `HH:MM-HH:MM` (an en dash and spaces around it are accepted too); `24:00` may end a range.
fn parse_range(text: &str) -> Result<TimeRange, RangeIssue> {
    let malformed = || RangeIssue {
        message: format!("`{text}` is not a time range"),
        help: RANGE_HELP,
    };
    let (start, end) = text
        .split_once('-')
        .or_else(|| text.split_once('–'))
        .ok_or_else(malformed)?;
    let start = parse_minutes(start.trim()).ok_or_else(malformed)?;
    let end = parse_minutes(end.trim()).ok_or_else(malformed)?;
    if start >= TimeRange::DAY_MINUTES {
        return Err(RangeIssue {
            message: format!("`{text}` starts at `24:00`, the end of the day"),
            help: "start a range at `23:59` at the latest",
        });
    }
    if end <= start {
        let message = if end == start {
            format!("`{text}` ends when it starts")
        } else {
            format!("`{text}` ends before it starts")
        };
        return Err(RangeIssue {
            message,
            help: "a range must end later on the same day; use `24:00` for midnight",
        });
    }
    TimeRange::new(start, end).ok_or_else(malformed)
}

/// `HH:MM` (one-digit hours allowed) as minutes since midnight; `24:00` is 1440.
fn parse_minutes(text: &str) -> Option<u16> {
    let (h, m) = text.split_once(':')?;
    let digits = |s: &str, max_len: usize| {
        !s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(h, 2) || !digits(m, 2) || m.len() != 2 {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    match (h, m) {
        (24, 0) => Some(TimeRange::DAY_MINUTES),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

fn check_holidays(selection: &[Holiday], issues: &mut Vec<ConfigIssue>) -> Vec<Holiday> {
    let mut kept: Vec<Holiday> = Vec::with_capacity(selection.len());
    for (i, holiday) in selection.iter().enumerate() {
        if kept.contains(holiday) {
            issues.push(
                ConfigIssue::new(
                    format!("holidays[{i}]"),
                    format!("`{}` is listed twice", holiday.config_name()),
                )
                .with_help("remove one of them"),
            );
        } else {
            kept.push(*holiday);
        }
    }
    if kept.contains(&Holiday::LiberationDay) && kept.contains(&Holiday::LiberationDayLustrum) {
        let i = selection
            .iter()
            .position(|h| *h == Holiday::LiberationDayLustrum)
            .unwrap_or(0);
        issues.push(
            ConfigIssue::new(
                format!("holidays[{i}]"),
                "`bevrijdingsdag-lustrum` has no effect next to `bevrijdingsdag`",
            )
            .with_help("keep `bevrijdingsdag` to close every year, or `bevrijdingsdag-lustrum` to close every fifth year"),
        );
    }
    kept
}

const DATE_HELP: &str = "write a date as `YYYY-MM-DD`, like `2026-12-24`";

fn parse_date(text: &str, path: String, issues: &mut Vec<ConfigIssue>) -> Option<NaiveDate> {
    match NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        Ok(date) => Some(date),
        Err(_) => {
            issues.push(
                ConfigIssue::new(path, format!("`{text}` is not a date")).with_help(DATE_HELP),
            );
            None
        }
    }
}

fn check_exceptions(list: &[ExceptionConfig], issues: &mut Vec<ConfigIssue>) -> Vec<Exception> {
    // Each valid exception with its index in the file, to name it in overlap messages.
    let mut valid: Vec<(usize, Exception)> = Vec::with_capacity(list.len());
    for (i, exception) in list.iter().enumerate() {
        let path = format!("exceptions[{i}]");
        let hours = parse_ranges(&exception.hours, &format!("{path}.hours"), issues);
        let days = match (&exception.date, &exception.from, &exception.to) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                issues.push(
                    ConfigIssue::new(&path, "an exception has both `date` and `from`/`to`")
                        .with_help(
                            "use `date` for one day, or `from` and `to` for a range of days",
                        ),
                );
                None
            }
            (None, None, None) => {
                issues.push(
                    ConfigIssue::new(&path, "an exception needs a `date`, or `from` and `to`")
                        .with_help(
                            "add `date: 2026-12-24`, or `from:` and `to:` for a range of days",
                        ),
                );
                None
            }
            (None, Some(_), None) => {
                issues.push(
                    ConfigIssue::new(&path, "`from` needs a `to`")
                        .with_help("add `to:` with the last day, or use `date` for a single day"),
                );
                None
            }
            (None, None, Some(_)) => {
                issues.push(
                    ConfigIssue::new(&path, "`to` needs a `from`").with_help(
                        "add `from:` with the first day, or use `date` for a single day",
                    ),
                );
                None
            }
            (Some(date), None, None) => {
                parse_date(date, format!("{path}.date"), issues).map(|d| (d, d))
            }
            (None, Some(from), Some(to)) => {
                let from_date = parse_date(from, format!("{path}.from"), issues);
                let to_date = parse_date(to, format!("{path}.to"), issues);
                match (from_date, to_date) {
                    (Some(f), Some(t)) if t < f => {
                        issues.push(
                            ConfigIssue::new(
                                format!("{path}.to"),
                                format!("`to` (`{to}`) is before `from` (`{from}`)"),
                            )
                            .with_help("swap them, or correct the year"),
                        );
                        None
                    }
                    (Some(f), Some(t)) => Some((f, t)),
                    _ => None,
                }
            }
        };
        let Some((from, to)) = days else { continue };
        if let Some((j, other)) = valid.iter().find(|(_, e)| e.from <= to && from <= e.to) {
            let (what, help) = if other.from == from && other.to == to {
                ("the same days as", "remove one of them")
            } else {
                ("days that overlap", "a day can be in one exception only")
            };
            issues.push(
                ConfigIssue::new(
                    &path,
                    format!("this exception covers {what} `exceptions[{j}]`"),
                )
                .with_help(help),
            );
            continue;
        }
        valid.push((
            i,
            Exception {
                from,
                to,
                hours,
                note: exception.note.clone(),
            },
        ));
    }
    let mut exceptions: Vec<Exception> = valid.into_iter().map(|(_, e)| e).collect();
    exceptions.sort_by_key(|e| e.from);
    exceptions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse() {
        let r = parse_range("08:30-17:00").ok().unwrap();
        assert_eq!((r.start(), r.end()), (510, 1020));
        let r = parse_range("8:30 – 24:00").ok().unwrap();
        assert_eq!((r.start(), r.end()), (510, 1440));
        for bad in [
            "",
            "08:30",
            "08:30-",
            "24:00-24:00",
            "08:60-09:00",
            "25:00-26:00",
            "08:3-09:00",
            "17:00-08:30",
            "09:00-09:00",
            "+8:30-09:00",
            "08:30-17:00-18:00",
        ] {
            assert!(parse_range(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn timezone_suggestions() {
        assert_eq!(
            suggest_timezone("europe/amsterdam"),
            Some("Europe/Amsterdam")
        );
        assert_eq!(
            suggest_timezone("Europe/Amsterdma"),
            Some("Europe/Amsterdam")
        );
        assert_eq!(suggest_timezone("Amsterdam"), Some("Europe/Amsterdam"));
        assert_eq!(suggest_timezone("xyzzy plugh"), None);
    }

    #[test]
    fn edit_distance_basics() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", "abc"), 0);
    }
}
