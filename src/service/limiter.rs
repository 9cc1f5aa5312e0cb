//! Limiting sign-in attempts: failed attempts counted per name, per address and per both, each
//! key hashed and the map capped and expiring, so that guessing slows down without locking a
//! real user out. A leaf: [`super::state`] holds one, [`super::auth`] uses it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};

/// Failed sign-ins allowed per name (and per address) within [`FAILURE_WINDOW`].
pub const MAX_FAILURES: usize = 5;
/// The window failed sign-ins are counted in.
pub const FAILURE_WINDOW: StdDuration = StdDuration::from_secs(15 * 60);

/// How failed sign-ins of one kind of key are limited: `free` failures within
/// [`FAILURE_WINDOW`] cost nothing; after that each attempt must wait `base`, doubled for every
/// further failure, at most `cap`, after the last failure.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub free: u32,
    pub base: StdDuration,
    pub cap: StdDuration,
}

impl Rule {
    fn wait(&self, failures: u32) -> StdDuration {
        if failures < self.free {
            return StdDuration::ZERO;
        }
        let doublings = (failures - self.free).min(20);
        self.base.saturating_mul(1 << doublings).min(self.cap)
    }
}

/// One address guessing one name: after [`MAX_FAILURES`], wait out the window.
pub const PER_NAME_AND_ADDRESS: Rule = Rule {
    free: MAX_FAILURES as u32,
    base: FAILURE_WINDOW,
    cap: FAILURE_WINDOW,
};
/// One name from anywhere (a guesser spread over many addresses): slowed to one guess a minute
/// at most, never locked out, so that an attacker cannot keep a real agent from signing in.
pub const PER_NAME: Rule = Rule {
    free: MAX_FAILURES as u32,
    base: StdDuration::from_secs(1),
    cap: StdDuration::from_secs(60),
};
/// One address trying many names: more room (a town hall shares one address), then slowed.
pub const PER_ADDRESS: Rule = Rule {
    free: 4 * MAX_FAILURES as u32,
    base: StdDuration::from_secs(1),
    cap: StdDuration::from_secs(60),
};

/// At most this many keys are kept (about 50 bytes each): past it the expired go first, then the
/// longest quiet.
pub(super) const MAX_KEYS: usize = 100_000;

/// A limiter key: a hash, so that a name of any length costs the same few bytes.
type Key = [u8; 16];

fn key(parts: &[&str]) -> Key {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    let digest = h.finalize();
    let mut k = [0u8; 16];
    k.copy_from_slice(&digest[..16]);
    k
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: DateTime<Utc>,
}

/// Failed sign-ins per name, per client address and per both, in memory: a restart forgets them,
/// which costs an attacker a restart of ours. Checking and counting are one step
/// ([`LoginLimiter::begin`]): an attempt counts as failed from the moment it is let through until
/// its password is verified, so sending many at once gets no more verifications than sending
/// them one by one. Also bounds how many argon2 verifications run at once (each takes 19 MiB and
/// tens of milliseconds): a flood of sign-ins waits its turn instead of taking the machine's
/// memory.
#[derive(Debug)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<Key, Failures>>,
    pub hashing: tokio::sync::Semaphore,
}

/// An attempt let through by [`LoginLimiter::begin`], counted as failed until
/// [`LoginLimiter::succeeded`] says otherwise.
#[derive(Debug)]
pub struct Attempt {
    keys: Vec<(Key, bool)>,
}

/// Verifications at once.
const CONCURRENT_VERIFICATIONS: usize = 4;

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter {
            failures: Mutex::default(),
            hashing: tokio::sync::Semaphore::new(CONCURRENT_VERIFICATIONS),
        }
    }
}

impl LoginLimiter {
    /// Lets an attempt through, counted as a failure of every key at once, or says how long the
    /// longest-waiting key must still wait. `keys`: the key's parts, its rule, and whether a
    /// success forgets the key's failures (a name's do; an address's keep the others' count).
    pub fn begin(
        &self,
        keys: &[(&[&str], Rule, bool)],
        now: DateTime<Utc>,
    ) -> Result<Attempt, StdDuration> {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let hashed: Vec<(Key, Rule, bool)> = keys
            .iter()
            .map(|(parts, rule, forget)| (key(parts), *rule, *forget))
            .collect();
        let mut wait = StdDuration::ZERO;
        for (k, rule, _) in &hashed {
            if let Some(f) = map.get(k).filter(|f| !expired(f, now)) {
                let since = (now - f.last).to_std().unwrap_or_default();
                wait = wait.max(rule.wait(f.count).saturating_sub(since));
            }
        }
        if !wait.is_zero() {
            return Err(wait);
        }
        for (k, _, _) in &hashed {
            if !map.contains_key(k) && map.len() >= MAX_KEYS {
                make_room(&mut map, now);
            }
            let f = map.entry(*k).or_insert(Failures {
                count: 0,
                last: now,
            });
            if expired(f, now) {
                f.count = 0;
            }
            f.count = f.count.saturating_add(1);
            f.last = now;
        }
        Ok(Attempt {
            keys: hashed.into_iter().map(|(k, _, f)| (k, f)).collect(),
        })
    }

    /// The attempt's password was right: it was no failure after all.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for (k, forget) in attempt.keys {
            if forget {
                map.remove(&k);
            } else if let Some(f) = map.get_mut(&k) {
                f.count = f.count.saturating_sub(1);
            }
        }
    }

    /// Keys held now (for tests and metrics).
    pub fn len(&self) -> usize {
        self.failures.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn expired(f: &Failures, now: DateTime<Utc>) -> bool {
    (now - f.last).to_std().unwrap_or_default() >= FAILURE_WINDOW
}

/// Drops the expired keys; if that frees nothing, the one quiet the longest.
fn make_room(map: &mut HashMap<Key, Failures>, now: DateTime<Utc>) {
    let before = map.len();
    map.retain(|_, f| !expired(f, now));
    if map.len() < before {
        return;
    }
    if let Some(oldest) = map.iter().min_by_key(|(_, f)| f.last).map(|(k, _)| *k) {
        map.remove(&oldest);
    }
}
