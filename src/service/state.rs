//! What every handler and worker shares ([`AppState`]): the configuration, the flows in force,
//! the store, the clock, the counters. A leaf: it imports no handler and no channel, so routers
//! and adapters depend on it and never the other way round.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use super::clock::{Clock, TestClock};
use super::config::Config;
use super::metrics::Metrics;
use crate::channel::Channel;
use crate::flows::FlowSet;
use crate::source::Diagnostic;
use crate::store::Store;

/// The result of the last reload, for the editors.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReloadStatus {
    pub at: DateTime<Utc>,
    pub ok: bool,
    pub diagnostics: Vec<Diagnostic>,
}

/// What every handler and worker shares.
pub struct AppState {
    pub config: Config,
    flows: RwLock<Arc<FlowSet>>,
    /// The channels in use: a reload checks the flows against their limits.
    pub channels: Vec<Channel>,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// Present with `--test-clock`: `/admin/clock` moves it.
    pub test_clock: Option<Arc<TestClock>>,
    pub metrics: Metrics,
    /// Wakes the processor (new inbound messages) and the sender (new outbox rows).
    pub wake_processor: Notify,
    pub wake_sender: Notify,
    pub last_reload: Mutex<Option<ReloadStatus>>,
    /// When the flows in force were loaded (at start, or by the last reload that succeeded).
    pub flows_loaded_at: Mutex<DateTime<Utc>>,
    /// Read receipts in flight at most (they are skipped beyond that).
    pub read_receipts: Arc<tokio::sync::Semaphore>,
    /// When the workers last finished a round (monotonic), for `/readyz`.
    pub heartbeat: Mutex<Instant>,
    /// Failed sign-ins, to limit attempts.
    pub logins: super::limiter::LoginLimiter,
    /// Changes of conversations, for the web application's live updates.
    pub live: Arc<super::live::Live>,
    /// Flips to true when the server shuts down: long-lived responses (the live events) end,
    /// so that a graceful shutdown does not wait for them forever.
    pub stopping: tokio::sync::watch::Sender<bool>,
    pub request_ids: AtomicU64,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(
        config: Config,
        flows: FlowSet,
        channels: Vec<Channel>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        test_clock: Option<Arc<TestClock>>,
    ) -> Self {
        let loaded_at = clock.now();
        AppState {
            config,
            flows: RwLock::new(Arc::new(flows)),
            channels,
            store,
            clock,
            test_clock,
            metrics: Metrics::default(),
            wake_processor: Notify::new(),
            wake_sender: Notify::new(),
            last_reload: Mutex::new(None),
            flows_loaded_at: Mutex::new(loaded_at),
            read_receipts: Arc::new(tokio::sync::Semaphore::new(16)),
            heartbeat: Mutex::new(Instant::now()),
            logins: super::limiter::LoginLimiter::default(),
            live: Arc::default(),
            stopping: tokio::sync::watch::channel(false).0,
            request_ids: AtomicU64::new(1),
        }
    }

    /// Demo mode: no channel has an account; every channel runs on its stand-in.
    pub fn demo(&self) -> bool {
        self.config.demo()
    }

    /// The flows in force (a cheap clone of an `Arc`).
    pub fn flows(&self) -> Arc<FlowSet> {
        self.flows
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Validates the files again; only a valid set replaces the one in force.
    pub fn reload(&self) -> ReloadStatus {
        let at = self.clock.now();
        let status = match FlowSet::load_for(&self.config.flows, &self.config.rules, &self.channels)
        {
            Ok((set, warnings)) => {
                *self
                    .flows
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(set);
                *self
                    .flows_loaded_at
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = at;
                tracing::info!(warnings = warnings.len(), "flows reloaded");
                ReloadStatus {
                    at,
                    ok: true,
                    diagnostics: warnings,
                }
            }
            Err(diags) => {
                for d in &diags {
                    tracing::warn!(%d, "reload refused; the previous flows keep serving");
                }
                ReloadStatus {
                    at,
                    ok: false,
                    diagnostics: diags,
                }
            }
        };
        *self
            .last_reload
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(status.clone());
        status
    }
}
