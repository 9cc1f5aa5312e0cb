//! Time for the service: the system clock, or a test clock that a black-box test (or a visitor
//! of the demo) sets through `/admin/clock` to see out-of-hours replies and follow-ups happen.
//!
//! A test clock can be given its time before the service starts
//! (`triage serve --test-clock 2026-11-27T19:30:00+01:00`), so that no worker round, no recovery
//! of interrupted sends and no webhook ever sees the real date first.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// Where the service reads the time.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The real time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The real time shifted by an offset that tests set: it keeps ticking from wherever it is set.
#[derive(Debug, Default)]
pub struct TestClock {
    offset: Mutex<Duration>,
}

impl TestClock {
    /// A test clock that reads `t` now and runs on from there.
    pub fn starting_at(t: DateTime<Utc>) -> TestClock {
        let c = TestClock::default();
        c.set(t);
        c
    }

    /// Moves the clock so that it reads `t` now.
    pub fn set(&self, t: DateTime<Utc>) {
        self.with_offset(|o| *o = t - Utc::now());
    }

    /// Moves the clock forward (or back, with a negative duration); a move beyond the calendar's
    /// range is ignored.
    pub fn advance(&self, d: Duration) {
        self.with_offset(|o| {
            if let Some(moved) = o.checked_add(&d) {
                if Utc::now().checked_add_signed(moved).is_some() {
                    *o = moved;
                }
            }
        });
    }

    fn with_offset(&self, f: impl FnOnce(&mut Duration)) {
        let mut guard = self
            .offset
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard);
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        let offset = *self
            .offset
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Utc::now();
        now.checked_add_signed(offset).unwrap_or(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_clock_is_set_and_advanced() {
        let c = TestClock::default();
        let t = DateTime::parse_from_rfc3339("2026-11-27T18:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        c.set(t);
        assert!((c.now() - t).num_milliseconds().abs() < 1000);
        let started = TestClock::starting_at(t);
        assert!((started.now() - t).num_milliseconds().abs() < 1000);
        c.advance(Duration::days(2));
        assert!((c.now() - t - Duration::days(2)).num_milliseconds().abs() < 1000);
        // Out of the calendar's range: ignored, never a panic.
        c.advance(Duration::MAX);
        c.advance(Duration::seconds(i64::MAX / 1000));
        assert!((c.now() - t - Duration::days(2)).num_milliseconds().abs() < 1000);
    }
}
