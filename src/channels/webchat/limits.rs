//! The web chat's limits on what comes from outside: messages per visitor and per address in a
//! sliding minute ([`RateLimiter`]), and the live streams open at once ([`Streams`]). Every map
//! here is keyed by outside input, so each has a cap, and its entries expire.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

/// The window the limits count in.
const MINUTE: Duration = Duration::seconds(60);

/// Events per key in the last minute. A key whose events are all older than a minute has
/// expired; when the map is full the expired go first, then the key quiet the longest (which
/// lets that one send more, never locks anyone out).
#[derive(Debug)]
pub struct RateLimiter {
    hits: Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>,
    cap: usize,
}

impl RateLimiter {
    /// A limiter that holds at most `cap` keys.
    pub fn new(cap: usize) -> RateLimiter {
        RateLimiter {
            hits: Mutex::default(),
            cap: cap.max(1),
        }
    }

    /// Counts one event of `key` at `now`, unless `per_minute` happened in the minute before it;
    /// then how long until the next may.
    pub fn hit(&self, key: &str, per_minute: u32, now: DateTime<Utc>) -> Result<(), Duration> {
        let per_minute = per_minute.max(1) as usize;
        let mut map = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        if !map.contains_key(key) && map.len() >= self.cap {
            make_room(&mut map, now);
        }
        let times = map.entry(key.to_string()).or_default();
        // A clock set back (the test clock) leaves events "in the future": they expire as well.
        times.retain(|t| now - *t < MINUTE && *t - now < MINUTE);
        if times.len() >= per_minute {
            let oldest = times.front().copied().unwrap_or(now);
            return Err((oldest + MINUTE - now).max(Duration::seconds(1)));
        }
        times.push_back(now);
        Ok(())
    }

    /// Keys held now.
    pub fn len(&self) -> usize {
        self.hits.lock().map_or(0, |m| m.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn make_room(map: &mut HashMap<String, VecDeque<DateTime<Utc>>>, now: DateTime<Utc>) {
    let before = map.len();
    map.retain(|_, times| times.back().is_some_and(|t| now - *t < MINUTE));
    if map.len() < before {
        return;
    }
    let quietest = map
        .iter()
        .min_by_key(|(_, times)| times.back().copied())
        .map(|(k, _)| k.clone());
    if let Some(k) = quietest {
        map.remove(&k);
    }
}

/// The live streams open: at most `per_visitor` of one visitor (a few tabs), `total` in all.
/// An entry lives as long as its streams do.
#[derive(Debug)]
pub struct Streams {
    open: Mutex<(HashMap<String, usize>, usize)>,
    per_visitor: usize,
    total: usize,
}

impl Streams {
    pub fn new(per_visitor: usize, total: usize) -> Arc<Streams> {
        Arc::new(Streams {
            open: Mutex::default(),
            per_visitor,
            total,
        })
    }

    /// A place for one more stream of `visitor`, or `None` when there is none.
    pub fn open(self: &Arc<Self>, visitor: &str) -> Option<StreamSlot> {
        let mut guard = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let (map, total) = &mut *guard;
        if *total >= self.total || map.get(visitor).copied().unwrap_or(0) >= self.per_visitor {
            return None;
        }
        *map.entry(visitor.to_string()).or_default() += 1;
        *total += 1;
        Some(StreamSlot {
            streams: self.clone(),
            visitor: visitor.to_string(),
        })
    }

    /// Streams open now.
    pub fn total(&self) -> usize {
        self.open.lock().map_or(0, |g| g.1)
    }
}

/// One open stream, counted until it is dropped.
#[derive(Debug)]
pub struct StreamSlot {
    streams: Arc<Streams>,
    visitor: String,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut guard = self.streams.open.lock().unwrap_or_else(|e| e.into_inner());
        let (map, total) = &mut *guard;
        *total = total.saturating_sub(1);
        if let Some(n) = map.get_mut(&self.visitor) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.visitor);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_key_gets_its_per_minute_then_waits_for_the_oldest_to_age() {
        let l = RateLimiter::new(10);
        let t = at("2026-11-27T18:30:00Z");
        for i in 0..3 {
            assert!(l.hit("a", 3, t + Duration::seconds(i)).is_ok());
        }
        assert_eq!(
            l.hit("a", 3, t + Duration::seconds(10)),
            Err(Duration::seconds(50))
        );
        assert!(l.hit("b", 3, t).is_ok(), "another key counts on its own");
        assert!(l.hit("a", 3, t + Duration::seconds(60)).is_ok());
        // A clock set back does not lock anyone out for longer than a minute.
        assert!(l.hit("a", 3, t - Duration::hours(1)).is_ok());
    }

    #[test]
    fn the_map_is_capped_and_drops_the_expired_then_the_quietest() {
        let l = RateLimiter::new(3);
        let t = at("2026-11-27T18:30:00Z");
        l.hit("old", 5, t).unwrap();
        l.hit("b", 5, t + Duration::seconds(50)).unwrap();
        l.hit("c", 5, t + Duration::seconds(55)).unwrap();
        l.hit("d", 5, t + Duration::seconds(61)).unwrap();
        assert_eq!(l.len(), 3, "`old` expired and made room");
        l.hit("e", 5, t + Duration::seconds(62)).unwrap();
        assert_eq!(l.len(), 3, "nothing expired: the quietest (`b`) went");
        assert!(l.hit("b", 1, t + Duration::seconds(63)).is_ok());
    }

    #[test]
    fn streams_are_counted_per_visitor_and_in_all() {
        let s = Streams::new(2, 3);
        let a1 = s.open("a").unwrap();
        let _a2 = s.open("a").unwrap();
        assert!(s.open("a").is_none(), "two per visitor");
        let _b = s.open("b").unwrap();
        assert!(s.open("c").is_none(), "three in all");
        drop(a1);
        assert_eq!(s.total(), 2);
        assert!(s.open("c").is_some());
    }
}
