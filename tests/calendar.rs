//! Office hours from the outside: the example file, DST weekends, exceptions, validation,
//! properties of business time, and the holidays against a fixture from Python's `holidays`.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Amsterdam;
use proptest::prelude::*;
use triage::calendar::{
    easter_sunday, format_dutch, holidays_in_year, DayReason, Holiday, OfficeHours,
    OfficeHoursConfig,
};

/// The example `rules/office-hours.yaml` from the brief.
const EXAMPLE: &str = r#"
timezone: Europe/Amsterdam
weekly:
  monday: ["08:30-17:00"]
  tuesday: ["08:30-12:00", "13:00-17:00"]
  wednesday: ["08:30-17:00"]
  thursday: ["08:30-17:00"]
  friday: ["08:30-17:00"]
holidays:
  - nieuwjaarsdag
  - eerste-paasdag
  - tweede-paasdag
  - koningsdag
  - hemelvaartsdag
  - eerste-pinksterdag
  - tweede-pinksterdag
  - eerste-kerstdag
  - tweede-kerstdag
exceptions:
  - date: 2026-12-24
    hours: ["08:30-12:00"]
    note: Kerstavond
  - from: 2026-12-28
    to: 2026-12-31
    hours: []
    note: Tussen kerst en oud en nieuw gesloten
"#;

/// Odd hours around the daylight-saving jumps (02:00-03:00 local) and midnight.
const NIGHT_OWL: &str = r#"
timezone: Europe/Amsterdam
weekly:
  monday: ["00:00-02:15", "02:45-03:30", "22:00-24:00"]
  tuesday: ["00:00-02:15", "02:45-03:30", "22:00-24:00"]
  wednesday: ["00:00-02:15", "02:45-03:30", "22:00-24:00"]
  thursday: ["00:00-02:15", "02:45-03:30", "22:00-24:00"]
  friday: ["00:00-02:15", "02:45-03:30", "22:00-24:00"]
  saturday: ["00:00-02:15", "02:45-03:30", "22:00-24:00"]
  sunday: ["00:00-02:15", "02:45-03:30", "22:00-24:00"]
holidays: [eerste-kerstdag]
"#;

fn parse(yaml: &str) -> OfficeHoursConfig {
    serde_norway::from_str(yaml).expect("test yaml parses")
}

fn build(yaml: &str) -> OfficeHours {
    OfficeHours::build(&parse(yaml)).expect("test config is valid")
}

fn example() -> OfficeHours {
    build(EXAMPLE)
}

/// A local Amsterdam wall-clock time that exists exactly once.
fn ams(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Amsterdam
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("unambiguous local time")
        .with_timezone(&Utc)
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn office_hours_is_clone_send_sync() {
    fn check<T: Clone + Send + Sync + 'static>() {}
    check::<OfficeHours>();
}

#[test]
fn friday_handover_plus_one_business_hour_is_monday_0900() {
    let office = example();
    let friday = ams(2026, 11, 27, 16, 30);
    let due = office.add_business_time(friday, Duration::hours(1));
    assert_eq!(due, Some(ams(2026, 11, 30, 9, 0)));
    assert_eq!(
        office.business_time_between(friday, ams(2026, 11, 30, 9, 0)),
        Duration::hours(1)
    );
    // Running out exactly at closing time is that closing time, not the next opening.
    assert_eq!(
        office.add_business_time(ams(2026, 11, 27, 16, 0), Duration::hours(1)),
        Some(ams(2026, 11, 27, 17, 0))
    );
}

#[test]
fn weekend_next_opening_is_monday_0830() {
    let office = example();
    let saturday = ams(2026, 11, 28, 11, 0);
    assert!(!office.is_open(saturday));
    assert_eq!(
        office.next_opening(saturday),
        Some(ams(2026, 11, 30, 8, 30))
    );
    assert_eq!(office.closes_at(saturday), None);
    // Friday 17:00 sharp is closed already.
    let friday_close = ams(2026, 11, 27, 17, 0);
    assert!(!office.is_open(friday_close));
    assert!(office.is_open(friday_close - Duration::seconds(1)));
    assert_eq!(
        office.next_opening(friday_close),
        Some(ams(2026, 11, 30, 8, 30))
    );
}

#[test]
fn open_now_reports_close_and_the_next_opening_after_it() {
    let office = example();
    let wednesday = ams(2026, 12, 2, 10, 0);
    assert!(office.is_open(wednesday));
    assert_eq!(office.closes_at(wednesday), Some(ams(2026, 12, 2, 17, 0)));
    assert_eq!(
        office.next_opening(wednesday),
        Some(ams(2026, 12, 3, 8, 30))
    );
}

#[test]
fn koningsdag_moves_to_saturday_when_27_april_is_a_sunday() {
    let days = holidays_in_year(2025, &[Holiday::KingsDay]);
    assert_eq!(days, vec![(ymd(2025, 4, 26), Holiday::KingsDay)]);
    let days = holidays_in_year(2026, &[Holiday::KingsDay]);
    assert_eq!(days, vec![(ymd(2026, 4, 27), Holiday::KingsDay)]);
    assert_eq!(
        example().day(ymd(2025, 4, 26)).reason,
        DayReason::Holiday(Holiday::KingsDay)
    );
}

#[test]
fn easter_sunday_known_years() {
    for (year, month, day) in [
        (1818, 3, 22),
        (1943, 4, 25),
        (2019, 4, 21),
        (2024, 3, 31),
        (2025, 4, 20),
        (2026, 4, 5),
        (2027, 3, 28),
        (2038, 4, 25),
    ] {
        assert_eq!(easter_sunday(year), ymd(year, month, day), "{year}");
    }
}

#[test]
fn easter_based_holidays_2026() {
    let days = holidays_in_year(2026, &Holiday::ALL);
    let find = |h: Holiday| days.iter().find(|(_, x)| *x == h).map(|(d, _)| *d);
    assert_eq!(find(Holiday::GoodFriday), Some(ymd(2026, 4, 3)));
    assert_eq!(find(Holiday::EasterMonday), Some(ymd(2026, 4, 6)));
    assert_eq!(find(Holiday::AscensionDay), Some(ymd(2026, 5, 14)));
    assert_eq!(find(Holiday::WhitSunday), Some(ymd(2026, 5, 24)));
    assert_eq!(find(Holiday::WhitMonday), Some(ymd(2026, 5, 25)));
    assert_eq!(find(Holiday::LiberationDayLustrum), None);
    assert!(days.windows(2).all(|w| w[0] <= w[1]), "sorted");
    let office = example();
    let monday = office.day(ymd(2026, 4, 6));
    assert!(monday.is_closed());
    assert_eq!(monday.label(), Some("Tweede Paasdag"));
    assert!(!office.is_open(ams(2026, 4, 6, 10, 0)));
    assert_eq!(
        office.next_opening(ams(2026, 4, 6, 10, 0)),
        Some(ams(2026, 4, 7, 8, 30))
    );
}

#[test]
fn dst_weekends_do_not_shift_opening_times() {
    let office = example();
    // Spring forward on Sunday 29 March 2026: Monday opens 08:30 CEST = 06:30Z.
    let saturday = utc(2026, 3, 28, 12, 0);
    assert_eq!(office.next_opening(saturday), Some(utc(2026, 3, 30, 6, 30)));
    assert!(!office.is_open(utc(2026, 3, 30, 6, 29)));
    assert!(office.is_open(utc(2026, 3, 30, 6, 30)));
    assert_eq!(
        office.closes_at(utc(2026, 3, 30, 7, 0)),
        Some(utc(2026, 3, 30, 15, 0))
    );
    // Fall back on Sunday 25 October 2026: Monday opens 08:30 CET = 07:30Z.
    let saturday = utc(2026, 10, 24, 12, 0);
    assert_eq!(
        office.next_opening(saturday),
        Some(utc(2026, 10, 26, 7, 30))
    );
    assert!(!office.is_open(utc(2026, 10, 26, 7, 29)));
    assert!(office.is_open(utc(2026, 10, 26, 7, 30)));
    assert_eq!(
        office.closes_at(utc(2026, 10, 26, 8, 0)),
        Some(utc(2026, 10, 26, 16, 0))
    );
    // Friday before each change to Monday 09:00: still one business hour from 16:30.
    assert_eq!(
        office.add_business_time(ams(2026, 3, 27, 16, 30), Duration::hours(1)),
        Some(utc(2026, 3, 30, 7, 0))
    );
    assert_eq!(
        office.add_business_time(ams(2026, 10, 23, 16, 30), Duration::hours(1)),
        Some(utc(2026, 10, 26, 8, 0))
    );
}

#[test]
fn times_in_the_dst_gap_and_fold_resolve_without_panicking() {
    let office = build(NIGHT_OWL);
    // Spring: 00:00-02:15 CET is 23:00Z-01:00Z (02:15 does not exist: the jump at 01:00Z);
    // 02:45-03:30 is 01:00Z-01:30Z, so both touch; 22:00-24:00 CEST is 20:00Z-22:00Z.
    let day = office.business_time_between(utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 22, 0));
    assert_eq!(day, Duration::minutes(120 + 30 + 120));
    assert_eq!(
        office.closes_at(utc(2026, 3, 29, 0, 30)),
        Some(utc(2026, 3, 29, 1, 30))
    );
    // Autumn: 00:00-02:15 CEST is 22:00Z-00:15Z (first 02:15); 02:45 first is 00:45Z, 03:30 CET
    // is 02:30Z; 22:00-24:00 CET is 21:00Z-23:00Z.
    let day = office.business_time_between(utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 23, 0));
    assert_eq!(day, Duration::minutes(135 + 105 + 120));
    // 02:30 CET, the second time that wall clock reads 02:30, is inside the second range.
    assert!(office.is_open(utc(2026, 10, 25, 1, 30)));
    assert!(!office.is_open(utc(2026, 10, 25, 0, 30)));
}

#[test]
fn midnight_that_does_not_exist_opens_when_the_clock_jumps() {
    // São Paulo started daylight saving at midnight: 4 November 2018 00:00 became 01:00.
    let office = build(
        r#"
timezone: America/Sao_Paulo
weekly:
  sunday: ["00:00-02:00"]
"#,
    );
    let saturday = utc(2018, 11, 3, 12, 0);
    assert_eq!(office.next_opening(saturday), Some(utc(2018, 11, 4, 3, 0)));
    assert_eq!(
        office.closes_at(utc(2018, 11, 4, 3, 0)),
        Some(utc(2018, 11, 4, 4, 0))
    );
    assert_eq!(
        office.business_time_between(saturday, saturday + Duration::days(2)),
        Duration::hours(1)
    );
}

#[test]
fn range_ending_at_midnight_continues_into_the_next_day() {
    let office = build(
        r#"
timezone: Europe/Amsterdam
weekly:
  monday: ["20:00-24:00"]
  tuesday: ["00:00-02:00"]
"#,
    );
    let monday_evening = ams(2026, 11, 30, 21, 0);
    assert!(office.is_open(monday_evening));
    assert!(office.is_open(ams(2026, 12, 1, 0, 0)));
    assert_eq!(
        office.closes_at(monday_evening),
        Some(ams(2026, 12, 1, 2, 0))
    );
    // Tuesday 00:00 is not a new opening: the office never closed.
    assert_eq!(
        office.next_opening(monday_evening),
        Some(ams(2026, 12, 7, 20, 0))
    );
    assert_eq!(
        office.next_opening(ams(2026, 11, 30, 19, 0)),
        Some(ams(2026, 11, 30, 20, 0))
    );
    assert_eq!(
        office.business_time_between(ams(2026, 11, 30, 0, 0), ams(2026, 12, 2, 0, 0)),
        Duration::hours(6)
    );
}

#[test]
fn split_day_has_a_lunch_break() {
    let office = example();
    let tuesday = |h, m| ams(2026, 12, 1, h, m);
    assert!(office.is_open(tuesday(11, 59)));
    assert!(!office.is_open(tuesday(12, 0)));
    assert!(!office.is_open(tuesday(12, 59)));
    assert!(office.is_open(tuesday(13, 0)));
    assert_eq!(office.closes_at(tuesday(10, 0)), Some(tuesday(12, 0)));
    assert_eq!(office.next_opening(tuesday(10, 0)), Some(tuesday(13, 0)));
    assert_eq!(office.next_opening(tuesday(12, 30)), Some(tuesday(13, 0)));
    assert_eq!(
        office.business_time_between(tuesday(0, 0), tuesday(23, 0)),
        Duration::minutes(450)
    );
    // An hour from 11:30 crosses lunch.
    assert_eq!(
        office.add_business_time(tuesday(11, 30), Duration::hours(1)),
        Some(tuesday(13, 30))
    );
}

#[test]
fn shortened_day_and_closure_range() {
    let office = example();
    // Thursday 24 December 2026: open 08:30-12:00 only.
    let kerstavond = office.day(ymd(2026, 12, 24));
    assert_eq!(kerstavond.hours.len(), 1);
    assert_eq!(kerstavond.hours[0].to_string(), "08:30-12:00");
    assert_eq!(kerstavond.label(), Some("Kerstavond"));
    assert!(office.is_open(ams(2026, 12, 24, 11, 0)));
    assert_eq!(
        office.closes_at(ams(2026, 12, 24, 11, 0)),
        Some(ams(2026, 12, 24, 12, 0))
    );
    assert!(!office.is_open(ams(2026, 12, 24, 13, 0)));
    // Then Christmas, the weekend, the closure 28-31 December, New Year, the weekend again.
    assert_eq!(
        office.next_opening(ams(2026, 12, 24, 13, 0)),
        Some(ams(2027, 1, 4, 8, 30))
    );
    for day in 28..=31 {
        let d = office.day(ymd(2026, 12, day));
        assert!(d.is_closed(), "{day}");
        assert_eq!(d.label(), Some("Tussen kerst en oud en nieuw gesloten"));
    }
    assert_eq!(
        office.day(ymd(2026, 12, 25)).label(),
        Some("Eerste Kerstdag")
    );
    assert_eq!(office.day(ymd(2027, 1, 1)).label(), Some("Nieuwjaarsdag"));
    // The week after is regular again.
    let monday = office.day(ymd(2027, 1, 4));
    assert_eq!(monday.reason, DayReason::Regular);
    assert_eq!(monday.label(), None);
    // One business hour from the morning of Kerstavond at 11:30 is Monday 4 January 09:00.
    assert_eq!(
        office.add_business_time(ams(2026, 12, 24, 11, 30), Duration::hours(1)),
        Some(ams(2027, 1, 4, 9, 0))
    );
}

#[test]
fn exception_wins_over_a_holiday() {
    let office = build(
        r#"
timezone: Europe/Amsterdam
weekly:
  monday: ["08:30-17:00"]
holidays: [tweede-paasdag]
exceptions:
  - date: 2026-04-06
    hours: ["10:00-12:00"]
    note: Noodloket
"#,
    );
    assert!(office.is_open(ams(2026, 4, 6, 11, 0)));
    assert_eq!(office.day(ymd(2026, 4, 6)).label(), Some("Noodloket"));
}

#[test]
fn liberation_day_every_year_or_every_fifth_year() {
    let lustrum = build(
        r#"
timezone: Europe/Amsterdam
weekly: { monday: ["08:30-17:00"], tuesday: ["08:30-17:00"] }
holidays: [bevrijdingsdag-lustrum]
"#,
    );
    assert!(!lustrum.is_open(ams(2025, 5, 5, 10, 0))); // Monday, 2025
    assert!(lustrum.is_open(ams(2026, 5, 5, 10, 0))); // Tuesday, 2026
    let yearly = build(
        r#"
timezone: Europe/Amsterdam
weekly: { monday: ["08:30-17:00"], tuesday: ["08:30-17:00"] }
holidays: [bevrijdingsdag]
"#,
    );
    assert!(!yearly.is_open(ams(2026, 5, 5, 10, 0)));
    assert_eq!(
        yearly.day(ymd(2026, 5, 5)).reason,
        DayReason::Holiday(Holiday::LiberationDay)
    );
}

#[test]
fn office_that_never_opens() {
    let office = build("timezone: Europe/Amsterdam\n");
    let t = utc(2026, 6, 1, 12, 0);
    assert!(!office.is_open(t));
    assert_eq!(office.next_opening(t), None);
    assert_eq!(office.closes_at(t), None);
    assert_eq!(office.add_business_time(t, Duration::hours(1)), None);
    assert_eq!(office.add_business_time(t, Duration::zero()), Some(t));
    assert_eq!(
        office.business_time_between(t, t + Duration::days(30)),
        Duration::zero()
    );
}

#[test]
fn open_around_the_clock() {
    let office = build(
        r#"
timezone: Europe/Amsterdam
weekly:
  monday: ["00:00-24:00"]
  tuesday: ["00:00-24:00"]
  wednesday: ["00:00-24:00"]
  thursday: ["00:00-24:00"]
  friday: ["00:00-24:00"]
  saturday: ["00:00-24:00"]
  sunday: ["00:00-24:00"]
"#,
    );
    let t = utc(2026, 3, 28, 12, 0);
    assert!(office.is_open(t));
    // The 23-hour Sunday of the spring change counts as 23 hours.
    assert_eq!(
        office.business_time_between(t, t + Duration::days(2)),
        Duration::days(2)
    );
    assert_eq!(
        office.add_business_time(t, Duration::hours(30)),
        Some(t + Duration::hours(30))
    );
    // Never closes within the horizon: closes_at is far away, next_opening none.
    assert!(office
        .closes_at(t)
        .is_some_and(|c| c > t + Duration::days(365)));
    assert_eq!(office.next_opening(t), None);
}

#[test]
fn format_dutch_names_day_and_month() {
    assert_eq!(
        format_dutch(utc(2026, 11, 30, 7, 30), Amsterdam),
        "maandag 30 november om 08:30"
    );
    assert_eq!(
        format_dutch(utc(2026, 7, 4, 10, 5), Amsterdam),
        "zaterdag 4 juli om 12:05"
    );
    assert_eq!(
        format_dutch(utc(2026, 12, 31, 23, 15), Amsterdam),
        "vrijdag 1 januari om 00:15"
    );
    let office = example();
    let next = office.next_opening(ams(2026, 11, 28, 11, 0)).unwrap();
    assert_eq!(
        format_dutch(next, office.timezone()),
        "maandag 30 november om 08:30"
    );
}

#[test]
fn holiday_dutch_names() {
    assert_eq!(Holiday::EasterSunday.dutch_name(), "Eerste Paasdag");
    assert_eq!(Holiday::SecondChristmasDay.dutch_name(), "Tweede Kerstdag");
    assert_eq!(Holiday::LiberationDayLustrum.dutch_name(), "Bevrijdingsdag");
}

#[test]
fn validation_collects_every_problem_with_its_path() {
    let cfg = parse(
        r#"
timezone: Europe/Amsterdm
weekly:
  monday: ["08:30-17:00"]
  tuesday: ["08:30-12:00", "11:00-17:00"]
  wednesday: ["17:00-08:30"]
  thursday: ["8h30-17h00"]
  friday: ["13:00-17:00", "08:30-12:00"]
  saturday: ["24:00-24:00", "10:00-10:00"]
holidays: [koningsdag, eerste-kerstdag, koningsdag]
exceptions:
  - date: 2026-12-24
    from: 2026-12-24
    to: 2026-12-25
  - note: nothing
  - from: 2026-12-31
    to: 2026-12-28
  - date: 2026-02-30
  - from: 2026-11-02
    to: 2026-11-06
    hours: ["09:00-25:00"]
  - date: 2026-11-04
  - date: 2026-11-06
"#,
    );
    let issues = OfficeHours::build(&cfg).expect_err("invalid config");
    let mut paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
    paths.sort();
    assert_eq!(
        paths,
        vec![
            "exceptions[0]",
            "exceptions[1]",
            "exceptions[2].to",
            "exceptions[3].date",
            "exceptions[4].hours[0]",
            "exceptions[5]",
            "exceptions[6]",
            "holidays[2]",
            "timezone",
            "weekly.friday[1]",
            "weekly.saturday[0]",
            "weekly.saturday[1]",
            "weekly.thursday[0]",
            "weekly.tuesday[1]",
            "weekly.wednesday[0]",
        ],
        "{issues:#?}"
    );
    let tz = issues.iter().find(|i| i.path == "timezone").unwrap();
    assert_eq!(tz.message, "unknown timezone `Europe/Amsterdm`");
    assert_eq!(tz.help.as_deref(), Some("did you mean `Europe/Amsterdam`?"));
    let overlap = issues
        .iter()
        .find(|i| i.path == "weekly.tuesday[1]")
        .unwrap();
    assert!(overlap.message.contains("overlaps"), "{}", overlap.message);
    let unsorted = issues
        .iter()
        .find(|i| i.path == "weekly.friday[1]")
        .unwrap();
    assert!(
        unsorted.message.contains("starts before"),
        "{}",
        unsorted.message
    );
    for issue in &issues {
        let first = issue.message.chars().next().unwrap();
        assert!(!first.is_uppercase(), "lowercase: {}", issue.message);
        assert!(
            !issue.message.ends_with('.'),
            "no period: {}",
            issue.message
        );
        assert!(
            issue.help.is_some(),
            "every issue has help: {}",
            issue.message
        );
    }
}

#[test]
fn unknown_keys_and_holidays_are_rejected_by_the_parser() {
    let bad_day = "timezone: Europe/Amsterdam\nweekly:\n  maandag: [\"08:30-17:00\"]\n";
    assert!(serde_norway::from_str::<OfficeHoursConfig>(bad_day).is_err());
    let bad_holiday = "timezone: Europe/Amsterdam\nholidays: [sinterklaas]\n";
    assert!(serde_norway::from_str::<OfficeHoursConfig>(bad_holiday).is_err());
}

#[test]
fn config_round_trips_through_yaml() {
    let cfg = parse(EXAMPLE);
    let yaml = serde_norway::to_string(&cfg).unwrap();
    let again: OfficeHoursConfig = serde_norway::from_str(&yaml).unwrap();
    assert_eq!(cfg, again);
}

#[test]
fn json_schema_carries_the_field_docs() {
    let schema = schemars::schema_for!(OfficeHoursConfig);
    let json = serde_json::to_string(&schema).unwrap();
    assert!(json.contains("IANA timezone"), "{json}");
    assert!(json.contains("eerste-paasdag"), "{json}");
    assert!(json.contains("bevrijdingsdag-lustrum"), "{json}");
    assert!(json.contains("Kerstavond"), "{json}");
}

/// Which holidays Python's `holidays` (0.109) counts as Dutch public holidays: Goede Vrijdag
/// included, Bevrijdingsdag only every fifth year.
const PYTHON_HOLIDAYS_NL: [Holiday; 11] = [
    Holiday::NewYearsDay,
    Holiday::GoodFriday,
    Holiday::EasterSunday,
    Holiday::EasterMonday,
    Holiday::KingsDay,
    Holiday::LiberationDayLustrum,
    Holiday::AscensionDay,
    Holiday::WhitSunday,
    Holiday::WhitMonday,
    Holiday::ChristmasDay,
    Holiday::SecondChristmasDay,
];

#[test]
fn holidays_match_python_fixture() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/holidays/nl-2020-2040.csv"
    );
    let csv = std::fs::read_to_string(path).expect("fixture exists");
    let mut expected: Vec<(NaiveDate, String)> = Vec::new();
    for line in csv.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let (date, names) = line.split_once(',').expect("date,name");
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("fixture date");
        // The library joins two holidays on one date with "; ".
        for name in names.split("; ") {
            expected.push((date, name.to_lowercase()));
        }
    }
    expected.sort();
    let years: std::collections::BTreeSet<i32> = expected
        .iter()
        .map(|(d, _)| chrono::Datelike::year(d))
        .collect();
    assert_eq!(years, (2020..=2040).collect(), "fixture covers every year");
    let mut ours: Vec<(NaiveDate, String)> = (2020..=2040)
        .flat_map(|year| holidays_in_year(year, &PYTHON_HOLIDAYS_NL))
        .map(|(date, h)| (date, h.dutch_name().to_lowercase()))
        .collect();
    ours.sort();
    for year in 2020..=2040 {
        let of_year = |list: &[(NaiveDate, String)]| -> Vec<(NaiveDate, String)> {
            list.iter()
                .filter(|(d, _)| chrono::Datelike::year(d) == year)
                .cloned()
                .collect()
        };
        assert_eq!(of_year(&ours), of_year(&expected), "{year}");
    }
    assert_eq!(ours.len(), expected.len());
}

// Properties, over both configurations and instants from 2024 to 2031.

fn offices() -> [OfficeHours; 2] {
    [example(), build(NIGHT_OWL)]
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let start = utc(2024, 1, 1, 0, 0).timestamp();
    let end = utc(2031, 1, 1, 0, 0).timestamp();
    prop_oneof![
        // Anywhere, to the second.
        (start..end).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap()),
        // Close to a whole quarter of an hour, where openings and closings are.
        ((start / 900)..(end / 900), -2i64..=2)
            .prop_map(|(q, s)| { DateTime::from_timestamp(q * 900 + s, 0).unwrap() }),
    ]
}

fn business_duration() -> impl Strategy<Value = Duration> {
    (0i64..200 * 3600).prop_map(Duration::seconds)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn next_opening_is_later_open_and_closed_just_before(which in 0usize..2, t in instant()) {
        let office = &offices()[which];
        let next = office.next_opening(t).expect("opens within two years");
        prop_assert!(next > t);
        prop_assert!(office.is_open(next));
        prop_assert!(!office.is_open(next - Duration::seconds(1)));
        if !office.is_open(t) {
            prop_assert_eq!(office.business_time_between(t, next), Duration::zero());
        }
    }

    #[test]
    fn closes_at_agrees_with_is_open(which in 0usize..2, t in instant()) {
        let office = &offices()[which];
        match office.closes_at(t) {
            Some(close) => {
                prop_assert!(office.is_open(t));
                prop_assert!(close > t);
                prop_assert!(!office.is_open(close));
                prop_assert!(office.is_open(close - Duration::seconds(1)));
                prop_assert_eq!(office.business_time_between(t, close), close - t);
            }
            None => prop_assert!(!office.is_open(t)),
        }
    }

    #[test]
    fn business_time_is_additive(which in 0usize..2, a in instant(), b in instant(), c in instant()) {
        let office = &offices()[which];
        let mut v = [a, b, c];
        v.sort();
        let [a, b, c] = v;
        prop_assert_eq!(
            office.business_time_between(a, b) + office.business_time_between(b, c),
            office.business_time_between(a, c)
        );
    }

    #[test]
    fn business_time_never_exceeds_wall_time(which in 0usize..2, a in instant(), b in instant()) {
        let office = &offices()[which];
        let d = office.business_time_between(a, b);
        prop_assert!(d >= Duration::zero());
        prop_assert!(d <= (b - a).max(Duration::zero()));
    }

    #[test]
    fn add_and_between_are_inverse(which in 0usize..2, from in instant(), d in business_duration(), to in instant()) {
        let office = &offices()[which];
        let due = office.add_business_time(from, d).expect("reachable");
        prop_assert!(due >= from);
        prop_assert_eq!(office.business_time_between(from, due), d);
        if to >= from {
            let spent = office.business_time_between(from, to);
            let back = office.add_business_time(from, spent).expect("reachable");
            prop_assert!(back <= to);
            prop_assert_eq!(office.business_time_between(back, to), Duration::zero());
        }
    }

    #[test]
    fn is_open_agrees_with_business_time_over_a_millisecond(which in 0usize..2, t in instant()) {
        let office = &offices()[which];
        let tiny = office.business_time_between(t, t + Duration::milliseconds(1));
        prop_assert_eq!(office.is_open(t), tiny == Duration::milliseconds(1));
        prop_assert!(tiny == Duration::zero() || tiny == Duration::milliseconds(1));
    }
}
