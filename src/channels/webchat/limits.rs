//! The web chat's limits on what comes from outside: requests per visitor and per address in a
//! sliding minute ([`RateLimiter`]), and the live streams open at once ([`Streams`]). Every map
//! here is keyed by outside input, so each has a cap, and its entries expire. An address is the
//! client's (through the trusted proxies), as [`address_key`] counts it.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
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

/// What the per-address limits count: an IPv4 address as it is (an IPv4-mapped IPv6 one too),
/// an IPv6 address by its /64 (one household or one machine has a whole /64 and picks any
/// address in it), `-` when the address is unknown.
pub fn address_key(address: Option<IpAddr>) -> String {
    match address.map(|a| a.to_canonical()) {
        None => "-".into(),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// Why no stream could open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// This visitor has their share open (tabs).
    Visitor,
    /// This address has its share open.
    Address,
    /// The service has all it keeps for streams open (a last resort, far above one address's
    /// share).
    Total,
}

/// The live streams open: at most `per_visitor` of one visitor (a few tabs), `per_address` of
/// one address, `total` in all. An entry lives as long as its streams do, so neither map holds
/// more than `total` entries.
#[derive(Debug)]
pub struct Streams {
    open: Mutex<Open>,
    per_visitor: usize,
    per_address: usize,
    total: usize,
}

#[derive(Debug, Default)]
struct Open {
    visitors: HashMap<String, usize>,
    addresses: HashMap<String, usize>,
    total: usize,
}

impl Streams {
    pub fn new(per_visitor: usize, per_address: usize, total: usize) -> Arc<Streams> {
        Arc::new(Streams {
            open: Mutex::default(),
            per_visitor,
            per_address,
            total,
        })
    }

    /// A place for one more stream of `visitor` from `address` (an [`address_key`]), or why
    /// there is none.
    pub fn open(self: &Arc<Self>, visitor: &str, address: &str) -> Result<StreamSlot, Refused> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = |m: &HashMap<String, usize>, k: &str| m.get(k).copied().unwrap_or(0);
        if count(&open.visitors, visitor) >= self.per_visitor {
            return Err(Refused::Visitor);
        }
        if count(&open.addresses, address) >= self.per_address {
            return Err(Refused::Address);
        }
        if open.total >= self.total {
            return Err(Refused::Total);
        }
        *open.visitors.entry(visitor.to_string()).or_default() += 1;
        *open.addresses.entry(address.to_string()).or_default() += 1;
        open.total += 1;
        Ok(StreamSlot {
            streams: self.clone(),
            visitor: visitor.to_string(),
            address: address.to_string(),
        })
    }

    /// Streams open now.
    pub fn total(&self) -> usize {
        self.open.lock().map_or(0, |o| o.total)
    }
}

/// One open stream, counted until it is dropped.
#[derive(Debug)]
pub struct StreamSlot {
    streams: Arc<Streams>,
    visitor: String,
    address: String,
}

fn release(map: &mut HashMap<String, usize>, key: &str) {
    if let Some(n) = map.get_mut(key) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            map.remove(key);
        }
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.streams.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        release(&mut open.visitors, &self.visitor);
        release(&mut open.addresses, &self.address);
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
    fn streams_are_counted_per_visitor_per_address_and_in_all() {
        let s = Streams::new(2, 3, 4);
        let a1 = s.open("a", "10.0.0.1").unwrap();
        let _a2 = s.open("a", "10.0.0.1").unwrap();
        assert_eq!(s.open("a", "10.0.0.2").unwrap_err(), Refused::Visitor);
        let _b = s.open("b", "10.0.0.1").unwrap();
        assert_eq!(s.open("c", "10.0.0.1").unwrap_err(), Refused::Address);
        let _c = s.open("c", "10.0.0.2").unwrap();
        assert_eq!(s.open("d", "10.0.0.3").unwrap_err(), Refused::Total);
        drop(a1);
        assert_eq!(s.total(), 3);
        let _d = s.open("d", "10.0.0.3").unwrap();
        assert_eq!(
            s.open("e", "10.0.0.1").unwrap_err(),
            Refused::Total,
            "the place a1 left went to d"
        );
        let o = s.open.lock().unwrap();
        assert_eq!((o.visitors.len(), o.addresses.len()), (4, 3));
    }

    #[test]
    fn an_ipv6_address_counts_by_its_64() {
        let key = |a: &str| address_key(Some(a.parse().unwrap()));
        assert_eq!(key("2001:db8:1:2::a"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:ffff:1:2:3"), key("2001:db8:1:2::b"));
        assert_ne!(key("2001:db8:1:2::a"), key("2001:db8:1:3::a"));
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
        assert_eq!(key("::ffff:203.0.113.7"), "203.0.113.7");
        assert_ne!(key("203.0.113.7"), key("203.0.113.8"));
        assert_eq!(address_key(None), "-");
    }
}
