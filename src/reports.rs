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
use crate::store::ReportRows;

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
            return Err(format!("`from` ({from}) is after `to` ({to})"));
        }
        let days = (to - from).num_days() + 1;
        if days > MAX_DAYS {
            return Err(format!(
                "a report covers at most {MAX_DAYS} days; this period has {days}"
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
    pub follow_ups: FollowUps,
    pub topics: Vec<Count>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    pub inbound: u32,
    pub outside_hours: u32,
    /// Share of inbound messages outside office hours, in percent (one decimal).
    pub outside_hours_percent: Option<f64>,
    pub faq: u32,
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
        bump(&mut outcomes, &d.outcome);
        match d.outcome.as_str() {
            "faq" => {
                totals.faq += 1;
                if let Some(t) = &d.topic {
                    bump(&mut topics, t);
                }
            }
            "privacy_redirect" => totals.privacy_redirect += 1,
            "handover" => totals.handover += 1,
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
        dept.handovers += 1;
        match h.answered_at {
            Some(t) => {
                let secs = seconds(office.business_time_between(h.at, t));
                answers.push(secs);
                all_answers.push(secs);
                if secs <= goal {
                    dept.within_goal += 1;
                } else {
                    dept.answered_late += 1;
                }
            }
            None if seconds(office.business_time_between(h.at, now)) > goal => {
                dept.unanswered_late += 1;
            }
            None => dept.waiting += 1,
        }
    }
    let mut departments_out = Vec::new();
    for (mut dept, mut answers) in per_department {
        answers.sort_unstable();
        dept.median_seconds = percentile(&answers, 50);
        dept.p90_seconds = percentile(&answers, 90);
        let decided = dept.within_goal + dept.answered_late + dept.unanswered_late;
        dept.within_goal_percent = percent(dept.within_goal, decided);
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

    let mut follow_ups = FollowUps::default();
    for f in rows
        .follow_ups
        .iter()
        .filter(|f| keep(&f.current_department))
    {
        follow_ups.asked += 1;
        match f.answer.as_deref() {
            Some("follow_up_yes") => follow_ups.still_needed += 1,
            Some("follow_up_other") => {
                follow_ups.still_needed += 1;
                follow_ups.still_needed_by_message += 1;
            }
            Some("follow_up_no") => follow_ups.no_longer_needed += 1,
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
        follow_ups,
        topics,
    }
}

/// The tables of a report, for CSV export: name, header, rows.
pub const TABLES: &[&str] = &[
    "per_day",
    "hour_of_week",
    "outcomes",
    "departments",
    "follow_ups",
    "topics",
];

/// One table of the report as rows of cells (the first row is the header); `None` for an
/// unknown table.
pub fn table(report: &Report, name: &str) -> Option<Vec<Vec<String>>> {
    let opt = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
    let pct = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    let mut out = Vec::new();
    match name {
        "per_day" => {
            out.push(vec![
                "date".into(),
                "inbound".into(),
                "outside_hours".into(),
            ]);
            for d in &report.per_day {
                out.push(vec![
                    d.date.to_string(),
                    d.inbound.to_string(),
                    d.outside_hours.to_string(),
                ]);
            }
        }
        "hour_of_week" => {
            let mut header = vec!["weekday".to_string()];
            header.extend((0..24).map(|h| format!("{h:02}")));
            out.push(header);
            for (i, row) in report.hour_of_week.iter().enumerate() {
                let mut cells =
                    vec![["mon", "tue", "wed", "thu", "fri", "sat", "sun"][i].to_string()];
                cells.extend(row.iter().map(u32::to_string));
                out.push(cells);
            }
        }
        "outcomes" | "topics" => {
            let key = if name == "outcomes" {
                "outcome"
            } else {
                "topic"
            };
            out.push(vec![key.into(), "count".into()]);
            let list = if name == "outcomes" {
                &report.outcomes
            } else {
                &report.topics
            };
            for c in list {
                out.push(vec![c.key.clone(), c.count.to_string()]);
            }
        }
        "departments" => {
            out.push(
                [
                    "department",
                    "handovers",
                    "within_goal",
                    "answered_late",
                    "waiting",
                    "unanswered_late",
                    "within_goal_percent",
                    "median_seconds",
                    "p90_seconds",
                ]
                .map(String::from)
                .to_vec(),
            );
            for d in &report.departments {
                out.push(vec![
                    d.department.clone(),
                    d.handovers.to_string(),
                    d.within_goal.to_string(),
                    d.answered_late.to_string(),
                    d.waiting.to_string(),
                    d.unanswered_late.to_string(),
                    pct(d.within_goal_percent),
                    opt(d.median_seconds),
                    opt(d.p90_seconds),
                ]);
            }
        }
        "follow_ups" => {
            let f = &report.follow_ups;
            out.push(vec!["answer".into(), "count".into()]);
            for (k, v) in [
                ("asked", f.asked),
                ("still_needed", f.still_needed),
                ("still_needed_by_message", f.still_needed_by_message),
                ("no_longer_needed", f.no_longer_needed),
                ("no_answer", f.no_answer),
            ] {
                out.push(vec![k.into(), v.to_string()]);
            }
        }
        _ => return None,
    }
    Some(out)
}

/// Rows as CSV (RFC 4180: CRLF, quotes where needed). A cell that a spreadsheet would take for
/// a formula (`=`, `+`, `-`, `@`, or a tab or carriage return first, as OWASP lists them) gets a
/// leading `'`: topic and department ids come from editors' files.
pub fn csv(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| {
                let formula = c.starts_with(['=', '+', '-', '@', '\t', '\r']);
                let c = if formula && c.trim().parse::<f64>().is_err() {
                    format!("'{c}")
                } else {
                    c.clone()
                };
                if c.contains([',', '"', '\n', '\r']) {
                    format!("\"{}\"", c.replace('"', "\"\""))
                } else {
                    c
                }
            })
            .collect();
        out.push_str(&cells.join(","));
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
            outcome: outcome.into(),
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
                    current_department: Some("burgerzaken".into()),
                    department: Some("burgerzaken".into()),
                    at: at("2026-11-24T09:30:00Z"),
                    answered_at: Some(at("2026-11-24T09:50:00Z")),
                },
                // Saturday: answered Monday 10:30 local, two business hours after the opening.
                ReportHandover {
                    conversation: 3,
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

        let all = compute(&rows, &office, period, now, 3600, None);
        assert_eq!(all.totals.inbound, 4);
    }

    #[test]
    fn unanswered_handovers_are_waiting_or_late_by_business_time() {
        let office = office();
        let period = Period::new(date("2026-11-24"), date("2026-11-24")).unwrap();
        let rows = ReportRows {
            handovers: vec![ReportHandover {
                conversation: 1,
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
    fn csv_quotes_and_neutralises_formulas() {
        let rows = vec![
            vec!["a".to_string(), "b,c".to_string()],
            vec!["=1+1".to_string(), "say \"hi\"".to_string()],
            vec!["-5".to_string(), "@x".to_string()],
            vec!["\t=1+1".to_string(), "\r=cmd".to_string()],
        ];
        assert_eq!(
            csv(&rows),
            "a,\"b,c\"\r\n'=1+1,\"say \"\"hi\"\"\"\r\n-5,'@x\r\n'\t=1+1,\"'\r=cmd\"\r\n"
        );
        let report = compute(
            &ReportRows::default(),
            &office(),
            Period::last_week(date("2026-11-24")),
            at("2026-11-24T12:00:00Z"),
            3600,
            None,
        );
        for name in TABLES {
            assert!(table(&report, name).is_some(), "{name}");
        }
        assert_eq!(table(&report, "per_day").unwrap().len(), 8);
        assert!(table(&report, "nothing").is_none());
    }
}
