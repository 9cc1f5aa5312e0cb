//! The reports: what happened in a period, computed from the store's rows and the office's
//! calendar. Pure: the same rows and calendar give the same report, so it is tested with rows
//! made by hand.
//!
//! Times are counted in business hours where the goal is concerned (the first human answer
//! within one business hour of the handover), and days and hours are the office's local ones.
//! Percentiles are nearest-rank: the p-th percentile of n sorted values is the value at rank
//! ⌈p·n⌉, always one of the values measured.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};
use serde::Serialize;

use crate::calendar::OfficeHours;
use crate::channel::Channel;
use crate::engine::Outcome;
use crate::store::{ReportHandover, ReportRows};

/// The longest period a report covers.
pub const MAX_DAYS: i64 = 366;

/// A period of whole local days, `from` to `to` inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// A period, or why it is not one.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Period, String> {
        if from > to {
            return Err(format!(
                "De begindatum ({from}) ligt na de einddatum ({to})."
            ));
        }
        let days = (to - from).num_days() + 1;
        if days > MAX_DAYS {
            return Err(format!(
                "Een rapportage beslaat hoogstens {MAX_DAYS} dagen; deze periode heeft er {days}."
            ));
        }
        Ok(Period { from, to })
    }

    /// The last seven days up to and including `today`.
    pub fn last_week(today: NaiveDate) -> Period {
        Period {
            from: today - Duration::days(6),
            to: today,
        }
    }

    /// The period's bounds as instants: the start of `from` and of the day after `to`, local.
    pub fn bounds(&self, office: &OfficeHours) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            start_of(office, self.from),
            start_of(office, self.to + Duration::days(1)),
        )
    }

    fn days(self) -> impl Iterator<Item = NaiveDate> {
        let to = self.to;
        self.from.iter_days().take_while(move |d| *d <= to)
    }
}

/// The first instant of a local day (midnight, or the first time after a gap).
fn start_of(office: &OfficeHours, day: NaiveDate) -> DateTime<Utc> {
    let tz = office.timezone();
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    (0..4)
        .find_map(|h| {
            tz.from_local_datetime(&(midnight + Duration::hours(h)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&midnight))
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub period: Period,
    pub timezone: String,
    pub totals: Totals,
    pub per_day: Vec<Day>,
    /// Inbound messages per local hour of the week: seven rows (Monday first) of 24 counts.
    pub hour_of_week: Vec<Vec<u32>>,
    pub outcomes: Vec<Count>,
    pub departments: Vec<Department>,
    /// Volume and handling time per channel.
    pub channels: Vec<ChannelRow>,
    pub follow_ups: FollowUps,
    pub topics: Vec<Count>,
}

/// One channel's volume and how fast a person answered its handovers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelRow {
    pub channel: Channel,
    /// Residents' messages that came in on it.
    pub inbound: u32,
    /// Its handovers, answered as in [`Department`].
    #[serde(flatten)]
    pub handling: Department,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    pub inbound: u32,
    pub outside_hours: u32,
    /// Share of inbound messages outside office hours, in percent (one decimal).
    pub outside_hours_percent: Option<f64>,
    pub faq: u32,
    /// Questions back: the bot asked which topic was meant.
    pub clarify: u32,
    pub privacy_redirect: u32,
    pub handover: u32,
    pub answered_within_goal: u32,
    /// Of the handovers answered or already late, the share answered within the goal.
    pub within_goal_percent: Option<f64>,
    pub first_answer_median_seconds: Option<i64>,
    pub first_answer_p90_seconds: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Day {
    pub date: NaiveDate,
    pub inbound: u32,
    pub outside_hours: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Count {
    pub key: String,
    pub count: u32,
}

/// Handovers to one department and how fast a person answered them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Department {
    /// Empty where the row is a channel's ([`ChannelRow`]).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub department: String,
    pub handovers: u32,
    /// Answered within one business hour.
    pub within_goal: u32,
    /// Answered, but later than that.
    pub answered_late: u32,
    /// Not answered yet, and still within the goal at `now`.
    pub waiting: u32,
    /// Not answered yet, and already past the goal at `now`.
    pub unanswered_late: u32,
    pub within_goal_percent: Option<f64>,
    pub median_seconds: Option<i64>,
    pub p90_seconds: Option<i64>,
}

impl Department {
    /// Counts one handover; the business seconds to its first answer, if it has one.
    fn count(
        &mut self,
        h: &ReportHandover,
        office: &OfficeHours,
        now: DateTime<Utc>,
        goal: i64,
    ) -> Option<i64> {
        self.handovers += 1;
        match h.answered_at {
            Some(t) => {
                let secs = seconds(office.business_time_between(h.at, t));
                if secs <= goal {
                    self.within_goal += 1;
                } else {
                    self.answered_late += 1;
                }
                Some(secs)
            }
            None => {
                if seconds(office.business_time_between(h.at, now)) > goal {
                    self.unanswered_late += 1;
                } else {
                    self.waiting += 1;
                }
                None
            }
        }
    }

    /// The percentiles and the share within the goal, from the answers' business seconds.
    fn finish(&mut self, answers: &mut [i64]) {
        answers.sort_unstable();
        self.median_seconds = percentile(answers, 50);
        self.p90_seconds = percentile(answers, 90);
        let decided = self.within_goal + self.answered_late + self.unanswered_late;
        self.within_goal_percent = percent(self.within_goal, decided);
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FollowUps {
    pub asked: u32,
    /// "Yes" (`follow_up_yes`) plus any other message (`follow_up_other`).
    pub still_needed: u32,
    /// Of those, by another message than the buttons.
    pub still_needed_by_message: u32,
    pub no_longer_needed: u32,
    pub no_answer: u32,
}

/// The nearest-rank percentile (`p` in 0..=100) of sorted values.
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (u64::from(p) * sorted.len() as u64).div_ceil(100).max(1) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

/// Whole seconds, rounded (as the inbox shows waits).
fn seconds(d: Duration) -> i64 {
    (d.num_milliseconds() + 500).div_euclid(1000)
}

fn percent(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| (f64::from(part) * 1000.0 / f64::from(whole)).round() / 10.0)
}

/// Computes the report of `period` from `rows` at `now`; `goal` is the goal in business seconds.
/// `departments` keeps only rows of those current departments (an agent's report); `None`
/// keeps everything.
pub fn compute(
    rows: &ReportRows,
    office: &OfficeHours,
    period: Period,
    now: DateTime<Utc>,
    goal: i64,
    departments: Option<&[String]>,
) -> Report {
    let tz = office.timezone();
    let keep = |d: &Option<String>| match departments {
        None => true,
        Some(list) => d.as_ref().is_some_and(|d| list.contains(d)),
    };
    let mut totals = Totals::default();
    let mut per_day: Vec<Day> = period
        .days()
        .map(|date| Day {
            date,
            inbound: 0,
            outside_hours: 0,
        })
        .collect();
    let mut hour_of_week = vec![vec![0u32; 24]; 7];
    for m in rows.inbound.iter().filter(|m| keep(&m.current_department)) {
        let local = m.at.with_timezone(&tz);
        let closed = !office.is_open(m.at);
        totals.inbound += 1;
        totals.outside_hours += u32::from(closed);
        let day = (local.date_naive() - period.from).num_days();
        if let Some(d) = usize::try_from(day).ok().and_then(|i| per_day.get_mut(i)) {
            d.inbound += 1;
            d.outside_hours += u32::from(closed);
        }
        hour_of_week[local.weekday().num_days_from_monday() as usize][local.hour() as usize] += 1;
    }
    totals.outside_hours_percent = percent(totals.outside_hours, totals.inbound);

    let mut outcomes: Vec<Count> = Vec::new();
    let mut topics: Vec<Count> = Vec::new();
    let bump = |list: &mut Vec<Count>, key: &str| match list.iter_mut().find(|c| c.key == key) {
        Some(c) => c.count += 1,
        None => list.push(Count {
            key: key.to_string(),
            count: 1,
        }),
    };
    for d in rows
        .decisions
        .iter()
        .filter(|d| keep(&d.current_department))
    {
        bump(&mut outcomes, d.outcome.as_str());
        match d.outcome {
            Outcome::Faq => {
                totals.faq += 1;
                if let Some(t) = &d.topic {
                    bump(&mut topics, t);
                }
            }
            Outcome::Clarify => totals.clarify += 1,
            Outcome::PrivacyRedirect => totals.privacy_redirect += 1,
            Outcome::Handover => totals.handover += 1,
            _ => {}
        }
    }
    let by_count = |a: &Count, b: &Count| b.count.cmp(&a.count).then(a.key.cmp(&b.key));
    outcomes.sort_by(by_count);
    topics.sort_by(by_count);
    topics.truncate(10);

    let mut per_department: Vec<(Department, Vec<i64>)> = Vec::new();
    let mut all_answers = Vec::new();
    for h in rows
        .handovers
        .iter()
        .filter(|h| keep(&h.current_department))
    {
        let name = h.department.clone().unwrap_or_else(|| "—".to_string());
        let i = match per_department
            .iter()
            .position(|(d, _)| d.department == name)
        {
            Some(i) => i,
            None => {
                per_department.push((
                    Department {
                        department: name,
                        ..Department::default()
                    },
                    Vec::new(),
                ));
                per_department.len() - 1
            }
        };
        let (dept, answers) = &mut per_department[i];
        if let Some(secs) = dept.count(h, office, now, goal) {
            answers.push(secs);
            all_answers.push(secs);
        }
    }
    let mut departments_out = Vec::new();
    for (mut dept, mut answers) in per_department {
        dept.finish(&mut answers);
        totals.answered_within_goal += dept.within_goal;
        departments_out.push(dept);
    }
    departments_out.sort_by(|a, b| {
        b.handovers
            .cmp(&a.handovers)
            .then(a.department.cmp(&b.department))
    });
    let decided: u32 = departments_out
        .iter()
        .map(|d| d.within_goal + d.answered_late + d.unanswered_late)
        .sum();
    totals.within_goal_percent = percent(totals.answered_within_goal, decided);
    all_answers.sort_unstable();
    totals.first_answer_median_seconds = percentile(&all_answers, 50);
    totals.first_answer_p90_seconds = percentile(&all_answers, 90);

    let mut channels: Vec<ChannelRow> = Vec::new();
    for c in Channel::ALL {
        let inbound = rows
            .inbound
            .iter()
            .filter(|m| m.channel == c && keep(&m.current_department))
            .count() as u32;
        let mut handling = Department::default();
        let mut answers = Vec::new();
        for h in rows
            .handovers
            .iter()
            .filter(|h| h.channel == c && keep(&h.current_department))
        {
            answers.extend(handling.count(h, office, now, goal));
        }
        if inbound == 0 && handling.handovers == 0 {
            continue;
        }
        handling.finish(&mut answers);
        channels.push(ChannelRow {
            channel: c,
            inbound,
            handling,
        });
    }

    let mut follow_ups = FollowUps::default();
    for f in rows
        .follow_ups
        .iter()
        .filter(|f| keep(&f.current_department))
    {
        follow_ups.asked += 1;
        match f.answer {
            Some(Outcome::FollowUpYes) => follow_ups.still_needed += 1,
            Some(Outcome::FollowUpOther) => {
                follow_ups.still_needed += 1;
                follow_ups.still_needed_by_message += 1;
            }
            Some(Outcome::FollowUpNo) => follow_ups.no_longer_needed += 1,
            _ => follow_ups.no_answer += 1,
        }
    }

    Report {
        period,
        timezone: tz.name().to_string(),
        totals,
        per_day,
        hour_of_week,
        outcomes,
        departments: departments_out,
        channels,
        follow_ups,
        topics,
    }
}

/// The tables of a report, for CSV export.
pub const TABLES: &[&str] = &[
    "per_day",
    "hour_of_week",
    "outcomes",
    "departments",
    "channels",
    "follow_ups",
    "topics",
];

/// The columns of how handovers were handled, after a row's own (departments, channels).
const HANDLING: &[(&str, &str)] = &[
    ("overgedragen", "handovers"),
    ("binnen een werkuur", "within_goal"),
    ("later beantwoord", "answered_late"),
    ("wacht nog", "waiting"),
    ("te laat, geen antwoord", "unanswered_late"),
    ("binnen een werkuur (%)", "within_goal_percent"),
    ("mediaan (seconden)", "median_seconds"),
    ("90% binnen (seconden)", "p90_seconds"),
];

impl Department {
    /// The [`HANDLING`] columns of this row.
    fn cells(&self) -> [Cell; 8] {
        [
            Cell::count(self.handovers),
            Cell::count(self.within_goal),
            Cell::count(self.answered_late),
            Cell::count(self.waiting),
            Cell::count(self.unanswered_late),
            Cell::decimal(self.within_goal_percent),
            Cell::int(self.median_seconds),
            Cell::int(self.p90_seconds),
        ]
    }
}

/// The two forms of a CSV download.
///
/// [`CsvStyle::Dutch`] (the default) is what a Dutch Excel or LibreOffice opens as numbers
/// with a double click: `;` between cells, a decimal comma, Dutch headers and labels, and a
/// UTF-8 byte order mark so that Excel reads the accents. [`CsvStyle::International`]
/// (`?format=en`) is the form for scripts: `,`, a decimal point, the report's own field names
/// and keys, no byte order mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsvStyle {
    #[default]
    Dutch,
    International,
}

impl CsvStyle {
    /// `nl` or `en` (as in `?format=`).
    pub fn parse(s: &str) -> Option<CsvStyle> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nl" => Some(CsvStyle::Dutch),
            "en" => Some(CsvStyle::International),
            _ => None,
        }
    }

    fn separator(self) -> char {
        match self {
            CsvStyle::Dutch => ';',
            CsvStyle::International => ',',
        }
    }

    /// The Dutch or the international word.
    fn pick<'a>(self, nl: &'a str, en: &'a str) -> &'a str {
        match self {
            CsvStyle::Dutch => nl,
            CsvStyle::International => en,
        }
    }
}

/// One cell of a table: text (from editors' files, so neutralised for spreadsheets), or a
/// number that is written in the style's own way.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Decimal(f64),
    Empty,
}

impl Cell {
    fn text(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }

    fn count(n: u32) -> Cell {
        Cell::Int(i64::from(n))
    }

    fn int(v: Option<i64>) -> Cell {
        v.map_or(Cell::Empty, Cell::Int)
    }

    fn decimal(v: Option<f64>) -> Cell {
        v.map_or(Cell::Empty, Cell::Decimal)
    }
}

/// What the flows call the ids a report holds: department names and topic titles. An id the
/// flows no longer know is shown as itself.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub departments: std::collections::HashMap<String, String>,
    pub topics: std::collections::HashMap<String, String>,
}

/// What the web pages call a decision's outcome, in Dutch.
pub fn outcome_label(key: &str) -> &str {
    match key {
        "faq" => "beantwoord met een FAQ",
        "clarify" => "teruggevraagd welk onderwerp",
        "privacy_redirect" => "doorverwezen (privacy)",
        "handover" => "naar een medewerker",
        "to_agent" => "bericht aan medewerker",
        "follow_up" => "nazorgvraag gesteld",
        "follow_up_blocked" => "nazorg: kanaal staat het niet toe",
        "follow_up_yes" => "nazorg: nog nodig",
        "follow_up_no" => "nazorg: niet meer nodig",
        "follow_up_other" => "nazorg: ander bericht",
        "ignored" => "genegeerd",
        other => other,
    }
}

const WEEKDAYS_NL: [&str; 7] = ["ma", "di", "wo", "do", "vr", "za", "zo"];
const WEEKDAYS_EN: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// One table of the report as rows of cells (the first row is the header), in `style`;
/// `None` for an unknown table.
pub fn table(
    report: &Report,
    name: &str,
    style: CsvStyle,
    names: &Names,
) -> Option<Vec<Vec<Cell>>> {
    let dutch = style == CsvStyle::Dutch;
    let header = |cells: &[(&str, &str)]| -> Vec<Cell> {
        cells
            .iter()
            .map(|(nl, en)| Cell::text(style.pick(nl, en)))
            .collect()
    };
    let mut out = Vec::new();
    match name {
        "per_day" => {
            out.push(header(&[
                ("datum", "date"),
                ("berichten", "inbound"),
                ("buiten kantoortijd", "outside_hours"),
            ]));
            for d in &report.per_day {
                out.push(vec![
                    Cell::Text(d.date.to_string()),
                    Cell::count(d.inbound),
                    Cell::count(d.outside_hours),
                ]);
            }
        }
        "hour_of_week" => {
            let mut head = vec![Cell::text(style.pick("dag", "weekday"))];
            head.extend((0..24).map(|h| Cell::Text(format!("{h:02}"))));
            out.push(head);
            let days = if dutch { WEEKDAYS_NL } else { WEEKDAYS_EN };
            for (row, day) in report.hour_of_week.iter().zip(days) {
                let mut cells = vec![Cell::text(day)];
                cells.extend(row.iter().map(|n| Cell::count(*n)));
                out.push(cells);
            }
        }
        "outcomes" => {
            out.push(header(&[("uitkomst", "outcome"), ("aantal", "count")]));
            for c in &report.outcomes {
                let label = if dutch { outcome_label(&c.key) } else { &c.key };
                out.push(vec![Cell::text(label), Cell::count(c.count)]);
            }
        }
        "topics" => {
            out.push(header(&[
                ("onderwerp", "topic"),
                ("titel", "title"),
                ("aantal", "count"),
            ]));
            for c in &report.topics {
                let title = names
                    .topics
                    .get(&c.key)
                    .map_or(Cell::Empty, |t| Cell::text(t));
                out.push(vec![Cell::text(&c.key), title, Cell::count(c.count)]);
            }
        }
        "channels" => {
            out.push(header(
                &[
                    [("kanaal", "channel"), ("berichten", "inbound")].as_slice(),
                    HANDLING,
                ]
                .concat(),
            ));
            for c in &report.channels {
                let mut row = vec![
                    Cell::text(style.pick(c.channel.title(), c.channel.as_str())),
                    Cell::count(c.inbound),
                ];
                row.extend(c.handling.cells());
                out.push(row);
            }
        }
        "departments" => {
            out.push(header(
                &[
                    [("afdeling", "department"), ("naam", "name")].as_slice(),
                    HANDLING,
                ]
                .concat(),
            ));
            for d in &report.departments {
                let name = names
                    .departments
                    .get(&d.department)
                    .map_or(Cell::Empty, |n| Cell::text(n));
                let mut row = vec![Cell::text(&d.department), name];
                row.extend(d.cells());
                out.push(row);
            }
        }
        "follow_ups" => {
            let f = &report.follow_ups;
            out.push(header(&[("nazorgvraag", "answer"), ("aantal", "count")]));
            for (nl, en, v) in [
                ("gesteld", "asked", f.asked),
                ("nog nodig", "still_needed", f.still_needed),
                (
                    "nog nodig (ander bericht)",
                    "still_needed_by_message",
                    f.still_needed_by_message,
                ),
                ("niet meer nodig", "no_longer_needed", f.no_longer_needed),
                ("geen antwoord", "no_answer", f.no_answer),
            ] {
                out.push(vec![Cell::text(style.pick(nl, en)), Cell::count(v)]);
            }
        }
        _ => return None,
    }
    Some(out)
}

/// The byte order mark that makes Excel read a CSV file as UTF-8.
pub const BOM: char = '\u{feff}';

/// Rows as CSV (RFC 4180: CRLF, quotes where needed) in `style`; the Dutch form starts with
/// [`BOM`]. A text cell that a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, or a
/// tab or carriage return first, as OWASP lists them) gets a leading `'`: topic and department
/// ids and names come from editors' files. Numbers are ours and are written as numbers.
pub fn csv(rows: &[Vec<Cell>], style: CsvStyle) -> String {
    let sep = style.separator();
    let mut out = String::new();
    if style == CsvStyle::Dutch {
        out.push(BOM);
    }
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| match c {
                Cell::Empty => String::new(),
                Cell::Int(n) => n.to_string(),
                Cell::Decimal(x) => {
                    let s = x.to_string();
                    match style {
                        CsvStyle::Dutch => s.replace('.', ","),
                        CsvStyle::International => s,
                    }
                }
                Cell::Text(t) => {
                    let t = if t.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                        format!("'{t}")
                    } else {
                        t.clone()
                    };
                    if t.contains([sep, '"', '\n', '\r']) {
                        format!("\"{}\"", t.replace('"', "\"\""))
                    } else {
                        t
                    }
                }
            })
            .collect();
        out.push_str(&cells.join(&sep.to_string()));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ReportDecision, ReportFollowUp, ReportHandover, ReportInbound};

    fn office() -> OfficeHours {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let (set, _) = crate::flows::FlowSet::load(&root.join("flows"), &root.join("rules"))
            .expect("the shipped flows load");
        set.office
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn decision(conversation: i64, outcome: &str, topic: Option<&str>, t: &str) -> ReportDecision {
        ReportDecision {
            conversation,
            current_department: Some("burgerzaken".into()),
            outcome: Outcome::parse(outcome).unwrap(),
            topic: topic.map(String::from),
            at: at(t),
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&v, 50), Some(5));
        assert_eq!(percentile(&v, 90), Some(9));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[1, 2], 0), Some(1));
    }

    #[test]
    fn periods_are_checked() {
        assert!(Period::new(date("2026-11-24"), date("2026-11-23")).is_err());
        assert!(Period::new(date("2025-01-01"), date("2026-01-02")).is_err());
        let p = Period::new(date("2026-11-23"), date("2026-11-29")).unwrap();
        let (from, to) = p.bounds(&office());
        assert_eq!(from, at("2026-11-22T23:00:00Z"), "local midnight, CET");
        assert_eq!(to, at("2026-11-29T23:00:00Z"));
        assert_eq!(Period::last_week(date("2026-11-29")), p);
    }

    #[test]
    fn a_week_is_counted_by_local_day_hour_outcome_department_and_follow_up() {
        let office = office();
        let period = Period::new(date("2026-11-23"), date("2026-11-29")).unwrap();
        let inbound = |c: i64, t: &str| ReportInbound {
            conversation: c,
            channel: Channel::WhatsApp,
            current_department: Some("burgerzaken".into()),
            at: at(t),
        };
        let rows = ReportRows {
            inbound: vec![
                // Tuesday 10:00 local (open), Tuesday 10:30, Saturday 12:00 (closed).
                inbound(1, "2026-11-24T09:00:00Z"),
                inbound(2, "2026-11-24T09:30:00Z"),
                inbound(3, "2026-11-28T11:00:00Z"),
                // Another department's conversation.
                ReportInbound {
                    conversation: 4,
                    channel: Channel::Messenger,
                    current_department: Some("belastingen".into()),
                    at: at("2026-11-24T09:00:00Z"),
                },
            ],
            decisions: vec![
                decision(1, "faq", Some("paspoort"), "2026-11-24T09:00:01Z"),
                decision(2, "handover", None, "2026-11-24T09:30:01Z"),
                decision(3, "handover", None, "2026-11-28T11:00:01Z"),
                decision(3, "follow_up", None, "2026-11-30T07:30:00Z"),
            ],
            handovers: vec![
                // Answered after 20 business minutes: within the goal.
                ReportHandover {
                    conversation: 2,
                    channel: Channel::WhatsApp,
                    current_department: Some("burgerzaken".into()),
                    department: Some("burgerzaken".into()),
                    at: at("2026-11-24T09:30:00Z"),
                    answered_at: Some(at("2026-11-24T09:50:00Z")),
                },
                // Saturday: answered Monday 10:30 local, two business hours after the opening.
                ReportHandover {
                    conversation: 3,
                    channel: Channel::WebChat,
                    current_department: Some("burgerzaken".into()),
                    department: Some("burgerzaken".into()),
                    at: at("2026-11-28T11:00:00Z"),
                    answered_at: Some(at("2026-11-30T09:30:00Z")),
                },
            ],
            follow_ups: vec![ReportFollowUp {
                conversation: 3,
                current_department: Some("burgerzaken".into()),
                at: at("2026-11-30T07:30:00Z"),
                answer: None,
            }],
        };
        let now = at("2026-11-30T12:00:00Z");
        let only = vec!["burgerzaken".to_string()];
        let r = compute(&rows, &office, period, now, 3600, Some(&only));
        assert_eq!(
            r.totals.inbound, 3,
            "the other department's message is not counted"
        );
        assert_eq!(r.totals.outside_hours, 1);
        assert_eq!(r.totals.outside_hours_percent, Some(33.3));
        assert_eq!(r.per_day[1].inbound, 2, "Tuesday");
        assert_eq!(r.per_day[5].outside_hours, 1, "Saturday");
        assert_eq!(r.hour_of_week[1][10], 2, "Tuesday 10:00–11:00 local");
        assert_eq!(r.hour_of_week[5][12], 1, "Saturday 12:00 local");
        assert_eq!((r.totals.faq, r.totals.handover), (1, 2));
        assert_eq!(
            r.topics,
            vec![Count {
                key: "paspoort".into(),
                count: 1
            }]
        );
        let d = &r.departments[0];
        assert_eq!((d.handovers, d.within_goal, d.answered_late), (2, 1, 1));
        assert_eq!(d.median_seconds, Some(20 * 60));
        assert_eq!(d.p90_seconds, Some(2 * 3600));
        assert_eq!(r.totals.within_goal_percent, Some(50.0));
        assert_eq!(r.follow_ups.asked, 1);
        assert_eq!(r.follow_ups.no_answer, 1);

        // Per channel: volume, and the handling time of each channel's handovers.
        let per = |r: &Report, c: Channel| r.channels.iter().find(|x| x.channel == c).cloned();
        let wa = per(&r, Channel::WhatsApp).unwrap();
        assert_eq!((wa.inbound, wa.handling.handovers), (3, 1));
        assert_eq!(wa.handling.median_seconds, Some(20 * 60));
        let web = per(&r, Channel::WebChat).unwrap();
        assert_eq!((web.inbound, web.handling.handovers), (0, 1));
        assert_eq!(web.handling.answered_late, 1);
        assert!(
            per(&r, Channel::Messenger).is_none(),
            "another department's"
        );

        let all = compute(&rows, &office, period, now, 3600, None);
        assert_eq!(all.totals.inbound, 4);
        assert_eq!(per(&all, Channel::Messenger).unwrap().inbound, 1);
        let json = serde_json::to_value(&all.channels[0]).unwrap();
        assert_eq!(json["channel"], "whatsapp");
        assert!(json.get("department").is_none(), "{json}");
        assert_eq!(json["handovers"], 1);
    }

    #[test]
    fn unanswered_handovers_are_waiting_or_late_by_business_time() {
        let office = office();
        let period = Period::new(date("2026-11-24"), date("2026-11-24")).unwrap();
        let rows = ReportRows {
            handovers: vec![ReportHandover {
                conversation: 1,
                channel: Channel::WhatsApp,
                current_department: None,
                department: Some("kcc".into()),
                at: at("2026-11-24T09:00:00Z"),
                answered_at: None,
            }],
            ..ReportRows::default()
        };
        let r = compute(
            &rows,
            &office,
            period,
            at("2026-11-24T09:30:00Z"),
            3600,
            None,
        );
        assert_eq!(r.departments[0].waiting, 1);
        let r = compute(
            &rows,
            &office,
            period,
            at("2026-11-24T10:30:00Z"),
            3600,
            None,
        );
        assert_eq!(r.departments[0].unanswered_late, 1);
        assert_eq!(r.totals.within_goal_percent, Some(0.0));
    }

    #[test]
    fn csv_quotes_and_neutralises_formulas_in_either_style() {
        let t = |s: &str| Cell::Text(s.to_string());
        let rows = vec![
            vec![t("a"), t("b,c"), t("d;e")],
            vec![t("=1+1"), t("say \"hi\""), Cell::Int(-5)],
            vec![t("-5"), t("@x"), Cell::Empty],
            vec![t("\t=1+1"), t("\r=cmd"), Cell::Decimal(-2.5)],
        ];
        assert_eq!(
            csv(&rows, CsvStyle::International),
            "a,\"b,c\",d;e\r\n'=1+1,\"say \"\"hi\"\"\",-5\r\n'-5,'@x,\r\n'\t=1+1,\"'\r=cmd\",-2.5\r\n"
        );
        assert_eq!(
            csv(&rows, CsvStyle::Dutch),
            "\u{feff}a;b,c;\"d;e\"\r\n'=1+1;\"say \"\"hi\"\"\";-5\r\n'-5;'@x;\r\n'\t=1+1;\"'\r=cmd\";-2,5\r\n"
        );
        assert_eq!(CsvStyle::parse("EN"), Some(CsvStyle::International));
        assert_eq!(CsvStyle::parse("nl"), Some(CsvStyle::Dutch));
        assert_eq!(CsvStyle::parse("de"), None);
        let report = compute(
            &ReportRows::default(),
            &office(),
            Period::last_week(date("2026-11-24")),
            at("2026-11-24T12:00:00Z"),
            3600,
            None,
        );
        for name in TABLES {
            for style in [CsvStyle::Dutch, CsvStyle::International] {
                assert!(
                    table(&report, name, style, &Names::default()).is_some(),
                    "{name}"
                );
            }
        }
        let days = table(&report, "per_day", CsvStyle::Dutch, &Names::default()).unwrap();
        assert_eq!(days.len(), 8);
        assert!(table(&report, "nothing", CsvStyle::Dutch, &Names::default()).is_none());
    }

    /// A department's row as a Dutch spreadsheet reads it: `;`, a decimal comma, the name
    /// from the flows beside the id; and as scripts read it.
    #[test]
    fn the_department_table_in_both_styles() {
        let mut report = compute(
            &ReportRows::default(),
            &office(),
            Period::last_week(date("2026-11-24")),
            at("2026-11-24T12:00:00Z"),
            3600,
            None,
        );
        report.departments = vec![Department {
            department: "burgerzaken".into(),
            handovers: 3,
            within_goal: 1,
            answered_late: 1,
            waiting: 0,
            unanswered_late: 1,
            within_goal_percent: Some(33.3),
            median_seconds: Some(1200),
            p90_seconds: None,
        }];
        report.topics = vec![Count {
            key: "paspoort".into(),
            count: 2,
        }];
        report.outcomes = vec![Count {
            key: "privacy_redirect".into(),
            count: 1,
        }];
        let mut names = Names::default();
        names
            .departments
            .insert("burgerzaken".into(), "Burgerzaken".into());
        names
            .topics
            .insert("paspoort".into(), "Paspoort of ID-kaart aanvragen".into());
        let nl = |t| {
            csv(
                &table(&report, t, CsvStyle::Dutch, &names).unwrap(),
                CsvStyle::Dutch,
            )
        };
        let en = |t| {
            csv(
                &table(&report, t, CsvStyle::International, &names).unwrap(),
                CsvStyle::International,
            )
        };
        assert_eq!(
            nl("departments"),
            "\u{feff}afdeling;naam;overgedragen;binnen een werkuur;later beantwoord;wacht nog;\
             te laat, geen antwoord;binnen een werkuur (%);mediaan (seconden);90% binnen (seconden)\r\n\
             burgerzaken;Burgerzaken;3;1;1;0;1;33,3;1200;\r\n"
        );
        assert_eq!(
            en("departments"),
            "department,name,handovers,within_goal,answered_late,waiting,unanswered_late,\
             within_goal_percent,median_seconds,p90_seconds\r\n\
             burgerzaken,Burgerzaken,3,1,1,0,1,33.3,1200,\r\n"
        );
        assert_eq!(
            nl("topics"),
            "\u{feff}onderwerp;titel;aantal\r\npaspoort;Paspoort of ID-kaart aanvragen;2\r\n"
        );
        assert_eq!(
            en("follow_ups"),
            "answer,count\r\nasked,0\r\nstill_needed,0\r\nstill_needed_by_message,0\r\n\
             no_longer_needed,0\r\nno_answer,0\r\n"
        );
        assert!(nl("hour_of_week").starts_with("\u{feff}dag;00;01;02;"));
        assert!(nl("hour_of_week").contains("\r\nzo;0;0;"));
        assert!(en("hour_of_week").contains("\r\nsun,0,0,"));
        assert_eq!(
            nl("outcomes"),
            "\u{feff}uitkomst;aantal\r\ndoorverwezen (privacy);1\r\n"
        );
        assert_eq!(en("outcomes"), "outcome,count\r\nprivacy_redirect,1\r\n");
    }
}
