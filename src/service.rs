//! The service: every channel in ([`crate::channels`]), durable conversations, an outbox out,
//! follow-ups that survive restarts.
//!
//! # Layout
//! - [`config`]: defaults, `triage.toml`, the environment; secrets never printed.
//! - [`clock`]: the system clock, or a test clock set through `/admin/clock`.
//! - [`state`]: what every handler and worker shares (a leaf: it imports no handler).
//! - [`error`]: the JSON error every route answers with (a leaf).
//! - [`caller`]: who a request comes from (the `Caller` extractor), tokens.
//! - [`limiter`]: failed sign-ins counted per name and address (a leaf).
//! - [`live`]: the changes the web application's live updates carry (a leaf); [`events`]
//!   serves them.
//! - [`intake`]: what a channel's webhook stores: masked, in one transaction.
//! - [`app`]: the router, health, metrics, reload and the test clock.
//! - [`api`]: the agents' API: users with bearer tokens, queues, conversations, actions.
//! - [`editor`]: the editors' API: the files' state, reload, try a message, unmatched questions;
//!   drafts, publish, four eyes, the versions and rollback (`editor/publish.rs`).
//! - [`labels`]: the learning loop: agents label handed-over questions, editors turn them into
//!   conversation tests.
//! - [`reasons`]: the bot's reasons (trace steps) in Dutch for the web application.
//! - [`workers`]: the processor, the scheduler and the sender.
//! - [`metrics`]: counters and a histogram in Prometheus' text format.
//! - [`server`]: HTTP with a cap on connections and timeouts for slow or idle clients.
//!
//! [`run`] takes a bound listener and a shutdown future (tests bind port 0), so the same code
//! serves `cargo run --release` and the black-box tests.

pub mod api;
pub mod app;
pub mod auth;
pub mod caller;
pub mod clock;
pub mod config;
pub mod editor;
pub mod error;
pub mod events;
pub mod intake;
pub mod labels;
pub mod limiter;
pub mod live;
pub mod metrics;
pub mod reasons;
pub mod reports;
pub mod server;
pub mod state;
pub mod token;
pub mod web;
pub mod workers;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::channels::registry::Channels;
use crate::channels::Setup;
use crate::flows::FlowSet;
use crate::store::sqlite::SqliteStore;
use clock::{Clock, SystemClock, TestClock};
use config::Config;
use state::AppState;

/// Builds the state: flows (refusing to start on errors), store, clock, stand-in. With a test
/// clock the service reads its time from it from the first moment on (`/admin/clock` moves it).
pub fn build(
    config: Config,
    test_clock: Option<TestClock>,
    local: std::net::SocketAddr,
) -> Result<(Arc<AppState>, Channels), String> {
    config.validate(test_clock.is_some())?;
    // The stand-ins take only this run's own random token, so nobody else sends through them.
    let demo_token = if config.demo() {
        Some(caller::new_token()?)
    } else {
        None
    };
    let channels = Channels::build(&Setup {
        config: &config,
        local,
        demo_token: demo_token.as_deref(),
    })?;
    if channels.in_use().is_empty() {
        return Err("no channel is configured: give at least one channel's account, or none at all for the demo".into());
    }
    // The answers must fit the limits of the channels in use.
    let (flows, warnings) = FlowSet::load_for(&config.flows, &config.rules, &channels.in_use())
        .map_err(|diags| {
            let shown: Vec<String> = diags.iter().map(ToString::to_string).collect();
            format!("the flows do not load:\n{}", shown.join("\n"))
        })?;
    for w in &warnings {
        tracing::warn!(%w, "flows");
    }
    if config.production && config.trusted_proxies.is_empty() {
        tracing::warn!(
            "no trusted_proxies: behind a reverse proxy every sign-in seems to come from the proxy, \
             and one address's failed sign-ins slow everyone down"
        );
    }
    let store = SqliteStore::open(&config.sqlite_path()?).map_err(|e| e.to_string())?;
    let test_clock = test_clock.map(Arc::new);
    let clock: Arc<dyn Clock> = match &test_clock {
        Some(tc) => tc.clone(),
        None => Arc::new(SystemClock),
    };
    if config.demo() {
        // Demo mode only (production refuses to run without an access token).
        api::ensure_demo_users(&store, &flows, clock.now()).map_err(|e| e.to_string())?;
    } else {
        for name in api::remove_demo_users(&store).map_err(|e| e.to_string())? {
            tracing::warn!(user = %name, "removed a demo user: its token is public");
        }
    }
    channels.prepare(&store, clock.now())?;
    // The files in force are the disk's: recorded as a version when they are new.
    if let Err(e) = editor::publish::record_disk_version(
        &store,
        &config,
        editor::publish::DISK_AUTHOR,
        clock.now(),
    ) {
        tracing::error!(error = %e, "the files on disk were not recorded as a version");
    }
    let state = AppState::new(
        config,
        flows,
        channels.in_use(),
        Arc::new(store),
        clock,
        test_clock,
    );
    Ok((Arc::new(state), channels))
}

/// Serves until `shutdown` resolves, then stops the workers and returns.
pub async fn run(
    state: Arc<AppState>,
    channels: Channels,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let router = app::router(state.clone(), &channels);
    let workers = tokio::spawn(workers::run(state.clone(), channels, stop_rx));
    let stopping = state.clone();
    // The workers stop with the listener: no new send is taken from then on, and the sends under
    // way get a bounded time (`workers::STOP_DRAIN`) while the server finishes its requests.
    let shutdown = async move {
        shutdown.await;
        stopping.stopping.send_replace(true);
        let _ = stop_tx.send(true);
    };
    let limits = server::Limits::of(&state.config);
    let served = server::serve(listener, router, limits, shutdown)
        .await
        .map_err(|e| format!("server: {e}"));
    // Also when serving failed: the stop signal's sender is gone by now, which stops them too.
    let _ = workers.await;
    served
}

/// Resolves on Ctrl+C or SIGTERM; reloads the flows on SIGHUP meanwhile.
pub async fn signals(state: Arc<AppState>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                _ = term.recv() => break,
                _ = hup.recv() => {
                    let _ = editor::reload_by(&state, editor::publish::DISK_AUTHOR).await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = state;
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutting down");
}
