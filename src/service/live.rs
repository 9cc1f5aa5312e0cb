//! The web application's live updates as data: which conversations changed, in which queues
//! ([`Change`]), published to every open stream ([`Live`]), with a cap per user. A leaf:
//! [`super::state`] holds one, the workers and handlers publish, [`super::events`] serves them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::{broadcast, watch};

/// Changes buffered per subscriber; one that falls further behind is told to reload everything.
const BUFFER: usize = 1024;

/// One change of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub conversation: i64,
    /// The departments whose queues changed (two for a forward; none for a send's result).
    pub departments: Vec<String>,
    /// `decision`, `claim`, `reply`, `forward`, `resolve`, `reopen`, `note`, `sent`, `label`.
    pub what: &'static str,
}

/// The publisher every part of the service shares.
#[derive(Debug)]
pub struct Live {
    tx: broadcast::Sender<Change>,
    /// Bumped whenever users or sessions change (removed, signed out): open streams check at once
    /// whether their user may still listen.
    accounts: watch::Sender<u64>,
    /// Open streams per user name.
    streams: Mutex<HashMap<String, usize>>,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            tx: broadcast::channel(BUFFER).0,
            accounts: watch::channel(0).0,
            streams: Mutex::default(),
        }
    }
}

/// Open streams one user may have (a few tabs and devices).
pub const MAX_STREAMS_PER_USER: usize = 8;

impl Live {
    /// Publishes a change; without subscribers it goes nowhere.
    pub fn publish(&self, change: Change) {
        let _ = self.tx.send(change);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.tx.subscribe()
    }

    /// Users or sessions changed: every open stream checks its own again.
    /// A watch that ticks whenever accounts change (streams check their user again).
    pub fn accounts(&self) -> watch::Receiver<u64> {
        self.accounts.subscribe()
    }

    pub fn accounts_changed(&self) {
        self.accounts.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A place for one more stream of `user`, or `None` when they have the most already.
    /// A place for one more stream of `user`, if they have fewer than [`MAX_STREAMS_PER_USER`];
    /// it is given back when dropped.
    pub fn open(self: &Arc<Self>, user: &str) -> Option<StreamSlot> {
        let mut m = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        let n = m.entry(user.to_string()).or_default();
        if *n >= MAX_STREAMS_PER_USER {
            return None;
        }
        *n += 1;
        Some(StreamSlot {
            live: self.clone(),
            user: user.to_string(),
        })
    }
}

/// One open stream, counted until it ends.
/// One open stream's place ([`Live::open`]).
pub struct StreamSlot {
    live: Arc<Live>,
    user: String,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut m = self.live.streams.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = m.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.user);
            }
        }
    }
}
