//! Dutch public holidays, computed from the calendar (never typed in per year).
//!
//! Easter uses the anonymous Gregorian algorithm (Meeus/Jones/Butcher); the moving feasts follow
//! from Easter. Which holidays close the office is the municipality's choice: see [`Holiday`].

use chrono::{Datelike, Days, NaiveDate, Weekday};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A Dutch public holiday that can close the office.
///
/// The names in the configuration are Dutch and kebab-case (`eerste-paasdag`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Holiday {
    /// Nieuwjaarsdag: 1 January.
    #[serde(rename = "nieuwjaarsdag")]
    NewYearsDay,
    /// Goede Vrijdag: the Friday before Easter.
    #[serde(rename = "goede-vrijdag")]
    GoodFriday,
    /// Eerste Paasdag: Easter Sunday.
    #[serde(rename = "eerste-paasdag")]
    EasterSunday,
    /// Tweede Paasdag: Easter Monday.
    #[serde(rename = "tweede-paasdag")]
    EasterMonday,
    /// Koningsdag: 27 April, or Saturday 26 April when the 27th is a Sunday.
    #[serde(rename = "koningsdag")]
    KingsDay,
    /// Bevrijdingsdag: 5 May, every year.
    #[serde(rename = "bevrijdingsdag")]
    LiberationDay,
    /// Bevrijdingsdag, only every fifth year (2025, 2030, ...), as many collective agreements have it.
    #[serde(rename = "bevrijdingsdag-lustrum")]
    LiberationDayLustrum,
    /// Hemelvaartsdag: Ascension Day, 39 days after Easter.
    #[serde(rename = "hemelvaartsdag")]
    AscensionDay,
    /// Eerste Pinksterdag: Whit Sunday, 49 days after Easter.
    #[serde(rename = "eerste-pinksterdag")]
    WhitSunday,
    /// Tweede Pinksterdag: Whit Monday, 50 days after Easter.
    #[serde(rename = "tweede-pinksterdag")]
    WhitMonday,
    /// Eerste Kerstdag: 25 December.
    #[serde(rename = "eerste-kerstdag")]
    ChristmasDay,
    /// Tweede Kerstdag: 26 December.
    #[serde(rename = "tweede-kerstdag")]
    SecondChristmasDay,
}

impl Holiday {
    /// Every holiday, in calendar order within a year.
    pub const ALL: [Holiday; 12] = [
        Holiday::NewYearsDay,
        Holiday::GoodFriday,
        Holiday::EasterSunday,
        Holiday::EasterMonday,
        Holiday::KingsDay,
        Holiday::LiberationDay,
        Holiday::LiberationDayLustrum,
        Holiday::AscensionDay,
        Holiday::WhitSunday,
        Holiday::WhitMonday,
        Holiday::ChristmasDay,
        Holiday::SecondChristmasDay,
    ];

    /// The Dutch name as residents read it, e.g. "Eerste Paasdag".
    pub fn dutch_name(&self) -> &'static str {
        match self {
            Holiday::NewYearsDay => "Nieuwjaarsdag",
            Holiday::GoodFriday => "Goede Vrijdag",
            Holiday::EasterSunday => "Eerste Paasdag",
            Holiday::EasterMonday => "Tweede Paasdag",
            Holiday::KingsDay => "Koningsdag",
            Holiday::LiberationDay | Holiday::LiberationDayLustrum => "Bevrijdingsdag",
            Holiday::AscensionDay => "Hemelvaartsdag",
            Holiday::WhitSunday => "Eerste Pinksterdag",
            Holiday::WhitMonday => "Tweede Pinksterdag",
            Holiday::ChristmasDay => "Eerste Kerstdag",
            Holiday::SecondChristmasDay => "Tweede Kerstdag",
        }
    }

    /// The name used in the configuration file, e.g. `eerste-paasdag`.
    pub fn config_name(&self) -> &'static str {
        match self {
            Holiday::NewYearsDay => "nieuwjaarsdag",
            Holiday::GoodFriday => "goede-vrijdag",
            Holiday::EasterSunday => "eerste-paasdag",
            Holiday::EasterMonday => "tweede-paasdag",
            Holiday::KingsDay => "koningsdag",
            Holiday::LiberationDay => "bevrijdingsdag",
            Holiday::LiberationDayLustrum => "bevrijdingsdag-lustrum",
            Holiday::AscensionDay => "hemelvaartsdag",
            Holiday::WhitSunday => "eerste-pinksterdag",
            Holiday::WhitMonday => "tweede-pinksterdag",
            Holiday::ChristmasDay => "eerste-kerstdag",
            Holiday::SecondChristmasDay => "tweede-kerstdag",
        }
    }

    /// The date of this holiday in `year`; `None` when it does not fall in that year (the lustrum
    /// Bevrijdingsdag outside years divisible by five) or the year is outside the supported range.
    pub fn date_in(&self, year: i32) -> Option<NaiveDate> {
        self.date_with_easter(year, || easter_sunday_opt(year))
    }

    /// Like [`Holiday::date_in`], with Easter computed by the caller at most once.
    pub(crate) fn date_with_easter(
        &self,
        year: i32,
        easter: impl FnOnce() -> Option<NaiveDate>,
    ) -> Option<NaiveDate> {
        let fixed = |month, day| NaiveDate::from_ymd_opt(year, month, day);
        let from_easter = |offset: i64| {
            let e = easter()?;
            if offset >= 0 {
                e.checked_add_days(Days::new(offset.unsigned_abs()))
            } else {
                e.checked_sub_days(Days::new(offset.unsigned_abs()))
            }
        };
        match self {
            Holiday::NewYearsDay => fixed(1, 1),
            Holiday::GoodFriday => from_easter(-2),
            Holiday::EasterSunday => from_easter(0),
            Holiday::EasterMonday => from_easter(1),
            Holiday::KingsDay => {
                let day = fixed(4, 27)?;
                if day.weekday() == Weekday::Sun {
                    fixed(4, 26)
                } else {
                    Some(day)
                }
            }
            Holiday::LiberationDay => fixed(5, 5),
            Holiday::LiberationDayLustrum => {
                if year.rem_euclid(5) == 0 {
                    fixed(5, 5)
                } else {
                    None
                }
            }
            Holiday::AscensionDay => from_easter(39),
            Holiday::WhitSunday => from_easter(49),
            Holiday::WhitMonday => from_easter(50),
            Holiday::ChristmasDay => fixed(12, 25),
            Holiday::SecondChristmasDay => fixed(12, 26),
        }
    }
}

/// The month and day of Easter Sunday in the Gregorian calendar (anonymous algorithm).
fn easter_month_day(year: i32) -> (u32, u32) {
    let y = i64::from(year);
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let month = (h + l - 7 * m + 114).div_euclid(31);
    let day = (h + l - 7 * m + 114).rem_euclid(31) + 1;
    // month is 3 or 4 and day 1..=31 by construction.
    (
        u32::try_from(month).unwrap_or(4),
        u32::try_from(day).unwrap_or(1),
    )
}

fn easter_sunday_opt(year: i32) -> Option<NaiveDate> {
    let (month, day) = easter_month_day(year);
    NaiveDate::from_ymd_opt(year, month, day)
}

/// Easter Sunday of `year` (Gregorian, anonymous algorithm).
///
/// Years outside the range that dates can represent saturate to the first or last representable
/// date.
pub fn easter_sunday(year: i32) -> NaiveDate {
    easter_sunday_opt(year).unwrap_or(if year < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    })
}

/// The holidays of `selection` that fall in `year`, sorted by date (then in [`Holiday::ALL`]
/// order when two share a date). A holiday listed twice in `selection` appears once.
pub fn holidays_in_year(year: i32, selection: &[Holiday]) -> Vec<(NaiveDate, Holiday)> {
    let easter = easter_sunday_opt(year);
    let mut days: Vec<(NaiveDate, Holiday)> = Holiday::ALL
        .iter()
        .filter(|h| selection.contains(h))
        .filter_map(|h| h.date_with_easter(year, || easter).map(|d| (d, *h)))
        .collect();
    days.sort();
    days
}

/// The first holiday of `selection` (in [`Holiday::ALL`] order) that falls on `date`.
/// Does not allocate: this sits on the path of every `is_open`.
pub(crate) fn holiday_on(date: NaiveDate, selection: &[Holiday]) -> Option<Holiday> {
    // No Dutch holiday falls in February or from July to November.
    if matches!(date.month(), 2 | 7..=11) || selection.is_empty() {
        return None;
    }
    let year = date.year();
    let mut easter = None;
    let mut easter_done = false;
    Holiday::ALL
        .iter()
        .filter(|h| selection.contains(h))
        .find(|h| {
            h.date_with_easter(year, || {
                if !easter_done {
                    easter = easter_sunday_opt(year);
                    easter_done = true;
                }
                easter
            }) == Some(date)
        })
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn easter_known_years() {
        assert_eq!(easter_sunday(2000), ymd(2000, 4, 23));
        assert_eq!(easter_sunday(2008), ymd(2008, 3, 23));
        assert_eq!(easter_sunday(2011), ymd(2011, 4, 24));
        assert_eq!(easter_sunday(2024), ymd(2024, 3, 31));
        assert_eq!(easter_sunday(2025), ymd(2025, 4, 20));
        assert_eq!(easter_sunday(2026), ymd(2026, 4, 5));
        assert_eq!(easter_sunday(2038), ymd(2038, 4, 25));
        assert_eq!(easter_sunday(2285), ymd(2285, 3, 22));
    }

    #[test]
    fn easter_out_of_range_saturates() {
        assert_eq!(easter_sunday(i32::MAX), NaiveDate::MAX);
        assert_eq!(easter_sunday(i32::MIN), NaiveDate::MIN);
    }

    #[test]
    fn holiday_on_agrees_with_holidays_in_year() {
        for year in 2000..2100 {
            for (date, h) in holidays_in_year(year, &Holiday::ALL) {
                let found = holiday_on(date, &Holiday::ALL).unwrap();
                assert_eq!(found.date_in(year), Some(date), "{h:?} {date}");
            }
        }
    }
}
