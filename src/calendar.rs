//! Office hours: when a person answers, Dutch public holidays, closures and business time.
//!
//! Editors describe the week, the holidays that close the office and one-off exceptions in
//! `rules/office-hours.yaml` ([`OfficeHoursConfig`]). [`OfficeHours::build`] validates that (every
//! problem at once) into an immutable [`OfficeHours`] that answers: is the office open now, when
//! does it close or open next, and how much business time lies between two instants ("answered
//! within one business hour": Friday 16:30 + 1 hour = Monday 09:00).
//!
//! Pure: no I/O and no clock; every instant is an argument. Opening times are wall-clock times in
//! the configured timezone, so 08:30 stays 08:30 across daylight-saving changes. A local time that
//! occurs twice (autumn) means its first occurrence; one that does not exist (spring) means the
//! instant the clock jumps.

mod config;
mod holidays;

use std::fmt;

use chrono::{
    DateTime, Datelike, Days, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime,
    NaiveTime, Offset, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;

pub use config::{ExceptionConfig, OfficeHoursConfig, WeeklyHours};
pub use holidays::{easter_sunday, holidays_in_year, Holiday};

use crate::diag::ConfigIssue;
use config::Exception;

/// How far ahead [`OfficeHours::next_opening`] looks before it gives up: about two years.
const HORIZON_DAYS: u64 = 2 * 366 + 7;

/// How far ahead [`OfficeHours::add_business_time`] may land at most: about a century.
const MAX_DAYS: u64 = 100 * 366;

/// An opening range within one day, in minutes since local midnight; `end` may be 1440 (`24:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeRange {
    start: u16,
    end: u16,
}

impl TimeRange {
    /// Minutes in a day: the end of a range that closes at `24:00`.
    pub const DAY_MINUTES: u16 = 24 * 60;

    /// A range from `start` to `end` minutes after midnight; `None` unless `start < end <= 1440`.
    pub fn new(start: u16, end: u16) -> Option<TimeRange> {
        (start < end && end <= Self::DAY_MINUTES).then_some(TimeRange { start, end })
    }

    /// Minutes after midnight at which the range starts.
    pub fn start(&self) -> u16 {
        self.start
    }

    /// Minutes after midnight at which the range ends (1440 for `24:00`).
    pub fn end(&self) -> u16 {
        self.end
    }

    /// The start as a time of day.
    pub fn start_time(&self) -> NaiveTime {
        minutes_to_time(self.start)
    }

    /// The end as a time of day; `None` for `24:00`, which is not a time of day.
    pub fn end_time(&self) -> Option<NaiveTime> {
        (self.end < Self::DAY_MINUTES).then(|| minutes_to_time(self.end))
    }

    /// Length of the range in wall-clock minutes (ignoring daylight-saving changes).
    pub fn minutes(&self) -> u16 {
        self.end - self.start
    }
}

fn minutes_to_time(minutes: u16) -> NaiveTime {
    NaiveTime::from_hms_opt(u32::from(minutes / 60), u32::from(minutes % 60), 0)
        .unwrap_or(NaiveTime::MIN)
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start / 60,
            self.start % 60,
            self.end / 60,
            self.end % 60
        )
    }
}

/// Why a day has the hours it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayReason {
    /// The regular weekly hours.
    Regular,
    /// A public holiday that closes the office.
    Holiday(Holiday),
    /// An exception from the file (a closure or shortened day), with its note. An exception on a
    /// holiday wins over the holiday.
    Exception {
        /// The editors' note, e.g. "Kerstavond".
        note: Option<String>,
    },
}

/// The schedule of one local date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaySchedule {
    /// The local date.
    pub date: NaiveDate,
    /// The opening ranges, sorted; empty when closed all day.
    pub hours: Vec<TimeRange>,
    /// Why the day has these hours.
    pub reason: DayReason,
}

impl DaySchedule {
    /// Whether the office is closed the whole day.
    pub fn is_closed(&self) -> bool {
        self.hours.is_empty()
    }

    /// A Dutch label for a day that differs from the regular week: the holiday's name or the
    /// exception's note ("Eerste Kerstdag", "Kerstavond").
    pub fn label(&self) -> Option<&str> {
        match &self.reason {
            DayReason::Regular => None,
            DayReason::Holiday(h) => Some(h.dutch_name()),
            DayReason::Exception { note } => note.as_deref(),
        }
    }
}

/// Validated office hours: pure, immutable and cheap to query.
#[derive(Debug, Clone)]
pub struct OfficeHours {
    tz: Tz,
    /// Indexed by `Weekday::num_days_from_monday`.
    weekly: [Vec<TimeRange>; 7],
    holidays: Vec<Holiday>,
    /// Sorted by date, never overlapping.
    exceptions: Vec<Exception>,
}

/// The hours of a day without copying them, for the hot paths.
#[derive(Clone, Copy)]
enum DayRef<'a> {
    Regular(&'a [TimeRange]),
    Holiday(Holiday),
    Exception(&'a Exception),
}

impl<'a> DayRef<'a> {
    fn hours(self) -> &'a [TimeRange] {
        match self {
            DayRef::Regular(hours) => hours,
            DayRef::Holiday(_) => &[],
            DayRef::Exception(e) => &e.hours,
        }
    }
}

impl OfficeHours {
    /// Validates `cfg`; on failure returns every problem found, each with its path in the file.
    pub fn build(cfg: &OfficeHoursConfig) -> Result<OfficeHours, Vec<ConfigIssue>> {
        let compiled = config::compile(cfg)?;
        Ok(OfficeHours {
            tz: compiled.tz,
            weekly: compiled.weekly,
            holidays: compiled.holidays,
            exceptions: compiled.exceptions,
        })
    }

    /// The timezone the opening times are in.
    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// Whether the office is open at `at`. Does not allocate.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        let date = self.local_date(at);
        if self.day_contains(date, at) {
            return true;
        }
        // Only where midnight falls in a repeated hour can the next date's hours start before
        // `at`'s own date has ended.
        match date.succ_opt() {
            Some(next) if self.resolve(next, 0).is_some_and(|midnight| midnight <= at) => {
                self.day_contains(next, at)
            }
            _ => false,
        }
    }

    /// The start of the next opening strictly after `at`. When open at `at`: the start of the
    /// first opening after the current one. `None` when the office does not open within about two
    /// years.
    pub fn next_opening(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let date = self.local_date(at);
        let until = date.checked_add_days(Days::new(HORIZON_DAYS))?;
        self.spans(date.pred_opt().unwrap_or(date), until)
            .find(|(start, _)| *start > at)
            .map(|(start, _)| start)
    }

    /// The end of the opening that contains `at` (following on into the next day when a range ends
    /// at `24:00` and the next day opens at `00:00`); `None` when closed at `at`.
    pub fn closes_at(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if !self.is_open(at) {
            return None;
        }
        let date = self.local_date(at);
        let until = date.checked_add_days(Days::new(HORIZON_DAYS))?;
        self.spans(date.pred_opt().unwrap_or(date), until)
            .take_while(|(start, _)| *start <= at)
            .find(|(_, end)| *end > at)
            .map(|(_, end)| end)
    }

    /// The open time between `from` and `to`; zero when `to <= from`.
    pub fn business_time_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
        if to <= from {
            return Duration::zero();
        }
        let first = self.local_date(from);
        let last = self.local_date(to);
        let until = last.succ_opt().unwrap_or(last);
        self.intervals(first.pred_opt().unwrap_or(first), Some(until))
            .take_while(|(start, _)| *start < to)
            .map(|(start, end)| end.min(to) - start.max(from))
            .filter(|d| *d > Duration::zero())
            .fold(Duration::zero(), |sum, d| sum + d)
    }

    /// The instant at which `d` of business time has passed after `from`: Friday 16:30 + 1 hour
    /// is Monday 09:00 with 08:30-17:00 hours. A zero or negative `d` gives `from`. When the time
    /// runs out exactly at a closing time, that closing time. `None` when the office stays closed
    /// for about two years, or the answer lies more than a century ahead.
    pub fn add_business_time(&self, from: DateTime<Utc>, d: Duration) -> Option<DateTime<Utc>> {
        if d <= Duration::zero() {
            return Some(from);
        }
        let first = self.local_date(from);
        let until = first.checked_add_days(Days::new(MAX_DAYS));
        let mut remaining = d;
        for (start, end) in self.intervals(first.pred_opt().unwrap_or(first), until) {
            if end <= from {
                continue;
            }
            let start = start.max(from);
            let available = end - start;
            if available >= remaining {
                return start.checked_add_signed(remaining);
            }
            remaining -= available;
        }
        None
    }

    /// The schedule of one local date: its opening ranges and why it differs from the week.
    pub fn day(&self, date: NaiveDate) -> DaySchedule {
        let (hours, reason) = match self.lookup(date) {
            DayRef::Regular(hours) => (hours.to_vec(), DayReason::Regular),
            DayRef::Holiday(h) => (Vec::new(), DayReason::Holiday(h)),
            DayRef::Exception(e) => (
                e.hours.clone(),
                DayReason::Exception {
                    note: e.note.clone(),
                },
            ),
        };
        DaySchedule {
            date,
            hours,
            reason,
        }
    }

    /// What applies on `date`: an exception, else a holiday, else the regular week.
    fn lookup(&self, date: NaiveDate) -> DayRef<'_> {
        let i = self.exceptions.partition_point(|e| e.to < date);
        if let Some(e) = self.exceptions.get(i).filter(|e| e.from <= date) {
            return DayRef::Exception(e);
        }
        if let Some(h) = holidays::holiday_on(date, &self.holidays) {
            return DayRef::Holiday(h);
        }
        let weekday = date.weekday().num_days_from_monday() as usize;
        DayRef::Regular(self.weekly.get(weekday).map_or(&[], Vec::as_slice))
    }

    fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// Whether one of `date`'s ranges contains `at`.
    fn day_contains(&self, date: NaiveDate, at: DateTime<Utc>) -> bool {
        for range in self.lookup(date).hours() {
            let Some(start) = self.resolve(date, range.start) else {
                continue;
            };
            if at < start {
                return false;
            }
            if self.resolve(date, range.end).is_some_and(|end| at < end) {
                return true;
            }
        }
        false
    }

    /// The instant of `minutes` after local midnight on `date` (1440: the next midnight).
    fn resolve(&self, date: NaiveDate, minutes: u16) -> Option<DateTime<Utc>> {
        let naive = date
            .and_time(NaiveTime::MIN)
            .checked_add_signed(Duration::minutes(i64::from(minutes)))?;
        local_to_utc(self.tz, naive)
    }

    /// The opening ranges as instants, day by day from `from`, up to and including `until` (or
    /// until the office has been closed for about two years).
    fn intervals(&self, from: NaiveDate, until: Option<NaiveDate>) -> Intervals<'_> {
        Intervals {
            hours: self,
            next_date: Some(from),
            until,
            closed_days: 0,
            date: from,
            ranges: &[],
            index: 0,
        }
    }

    /// Like [`Self::intervals`], with ranges that touch (`24:00` then `00:00`) merged.
    fn spans(&self, from: NaiveDate, until: NaiveDate) -> Spans<'_> {
        Spans {
            inner: self.intervals(from, Some(until)),
            pending: None,
        }
    }
}

/// Local wall-clock time to an instant: the first occurrence of a repeated time, and the moment
/// the clock jumps for a time that does not exist.
fn local_to_utc(tz: Tz, naive: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
        LocalResult::None => gap_end(tz, naive),
    }
}

/// For a local time in a gap (the clock jumps forward over it): the instant of the jump.
fn gap_end(tz: Tz, naive: NaiveDateTime) -> Option<DateTime<Utc>> {
    let offset_at =
        |utc: NaiveDateTime| i64::from(tz.offset_from_utc_datetime(&utc).fix().local_minus_utc());
    let before = offset_at(naive.checked_sub_days(Days::new(1))?);
    let after = offset_at(naive.checked_add_days(Days::new(1))?);
    // The jump lies in (naive - after, naive - before]: binary search the first second with the
    // new offset.
    let mut lo = naive.checked_sub_signed(Duration::seconds(after))?;
    let mut hi = naive.checked_sub_signed(Duration::seconds(before))?;
    for _ in 0..64 {
        if hi - lo <= Duration::seconds(1) {
            break;
        }
        let mid = lo + (hi - lo) / 2;
        if offset_at(mid) == before {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(hi.and_utc())
}

/// Opening ranges as instants, in order, day after day.
struct Intervals<'a> {
    hours: &'a OfficeHours,
    next_date: Option<NaiveDate>,
    until: Option<NaiveDate>,
    /// Consecutive days without any opening, to stop when the office never opens.
    closed_days: u64,
    date: NaiveDate,
    ranges: &'a [TimeRange],
    index: usize,
}

impl Iterator for Intervals<'_> {
    type Item = (DateTime<Utc>, DateTime<Utc>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(range) = self.ranges.get(self.index) {
                self.index += 1;
                let start = self.hours.resolve(self.date, range.start);
                let end = self.hours.resolve(self.date, range.end);
                if let (Some(start), Some(end)) = (start, end) {
                    if start < end {
                        return Some((start, end));
                    }
                }
                continue;
            }
            let date = self.next_date?;
            if self.until.is_some_and(|until| date > until) || self.closed_days > HORIZON_DAYS {
                self.next_date = None;
                return None;
            }
            self.date = date;
            self.ranges = self.hours.lookup(date).hours();
            self.index = 0;
            self.closed_days = if self.ranges.is_empty() {
                self.closed_days + 1
            } else {
                0
            };
            self.next_date = date.succ_opt();
        }
    }
}

/// [`Intervals`] with touching ranges merged into one opening.
struct Spans<'a> {
    inner: Intervals<'a>,
    pending: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

impl Iterator for Spans<'_> {
    type Item = (DateTime<Utc>, DateTime<Utc>);

    fn next(&mut self) -> Option<Self::Item> {
        let (start, mut end) = self.pending.take().or_else(|| self.inner.next())?;
        for (next_start, next_end) in self.inner.by_ref() {
            if next_start <= end {
                end = end.max(next_end);
            } else {
                self.pending = Some((next_start, next_end));
                break;
            }
        }
        Some((start, end))
    }
}

const WEEKDAYS_NL: [&str; 7] = [
    "maandag",
    "dinsdag",
    "woensdag",
    "donderdag",
    "vrijdag",
    "zaterdag",
    "zondag",
];

const MONTHS_NL: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];

/// `at` in Dutch in the local time of `tz`: "maandag 30 november om 08:30".
pub fn format_dutch(at: DateTime<Utc>, tz: Tz) -> String {
    format_dutch_local(&at.with_timezone(&tz).fixed_offset())
}

/// A local time (with the offset it had there) in Dutch: "maandag 30 november om 08:30".
pub fn format_dutch_local(local: &DateTime<FixedOffset>) -> String {
    let weekday = WEEKDAYS_NL
        .get(local.weekday().num_days_from_monday() as usize)
        .copied()
        .unwrap_or_default();
    let month = MONTHS_NL
        .get(local.month0() as usize)
        .copied()
        .unwrap_or_default();
    format!(
        "{weekday} {} {month} om {:02}:{:02}",
        local.day(),
        local.hour(),
        local.minute()
    )
}
