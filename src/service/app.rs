//! The HTTP side: the router (every channel's webhooks, the web application), and the handlers
//! for health, metrics, reload and the test clock. The channels' webhooks are their adapters'
//! ([`crate::channels`]); what they store goes through [`super::intake`].

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::editor::reload_by;
use super::state::AppState;
use crate::channels::registry::Channels;

/// Any other request's body, unless its route says otherwise (the agents' and editors' API
/// allow 64 KiB, a sign-in 4 KiB).
pub const DEFAULT_BODY_BYTES: usize = 16 * 1024;

/// The stand-ins' own routes (`/standin/<channel>/_standin/…`: the replies they recorded, faults)
/// need an editor or admin; the platform routes go through to each stand-in's token check.
async fn guard_standin(
    State(s): State<Arc<AppState>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if req.uri().path().contains("/_standin") {
        let (parts, body) = req.into_parts();
        if let Err(e) = super::caller::authorize_admin(&s, &parts, false).await {
            return e.into_response();
        }
        return next
            .run(axum::extract::Request::from_parts(parts, body))
            .await;
    }
    next.run(req).await
}

/// The routes: every channel's webhooks, the web application, health and admin. The caller
/// serves them (see [`super::run`]).
pub fn router(state: Arc<AppState>, channels: &Channels) -> Router {
    let mut r = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route("/admin/reload", post(reload))
        .route("/admin/clock", get(clock).post(set_clock))
        .merge(channels.routes())
        .merge(super::api::router())
        .merge(super::web::router())
        .merge(super::auth::router())
        .merge(super::events::router())
        .merge(super::reports::router())
        .merge(super::editor::router())
        .merge(super::labels::router());
    if !state.demo() {
        // With real accounts there is no simulator: the people who open the address are agents.
        r = r.route(
            "/",
            get(|| async { axum::response::Redirect::to("/inbox") }),
        );
    }
    for (channel, standin) in channels.standins() {
        // A platform route takes only the service's own token (the stand-in checks it); the
        // record of every reply, with full addresses, is for editors and admins.
        let guarded = Router::new()
            .nest_service(&format!("/standin/{}", channel.as_str()), standin)
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                guard_standin,
            ));
        r = r.merge(guarded);
    }
    r.layer(DefaultBodyLimit::max(DEFAULT_BODY_BYTES))
        .with_state(state)
}

/// Workers that have not finished a round for this long are reported as stalled.
const STALLED_AFTER: std::time::Duration = std::time::Duration::from_secs(30);

async fn ready(State(s): State<Arc<AppState>>) -> Response {
    let idle = s
        .heartbeat
        .lock()
        .map(|t| t.elapsed())
        .unwrap_or(STALLED_AFTER);
    if idle >= STALLED_AFTER {
        return (StatusCode::SERVICE_UNAVAILABLE, "workers stalled").into_response();
    }
    let store = s.store.clone();
    match tokio::task::spawn_blocking(move || store.counts()).await {
        Ok(Ok(_)) => (StatusCode::OK, "ready").into_response(),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "store unavailable").into_response(),
    }
}

/// The counters and queue sizes: for editors and admins (a Prometheus scraper uses an admin's
/// bearer token), open only while no user exists.
async fn metrics(State(s): State<Arc<AppState>>, parts: Parts) -> Response {
    if let Err(e) = super::caller::authorize_admin(&s, &parts, true).await {
        return e.into_response();
    }
    let store = s.store.clone();
    let counts = tokio::task::spawn_blocking(move || store.counts())
        .await
        .ok()
        .and_then(Result::ok);
    (
        [("content-type", "text/plain; version=0.0.4")],
        s.metrics.render(counts.as_ref()),
    )
        .into_response()
}

async fn reload(State(s): State<Arc<AppState>>, parts: Parts) -> Response {
    // Without users a reload is refused, so there is always someone to name.
    let user = match super::caller::authorize_admin(&s, &parts, false).await {
        Ok(user) => user.map_or_else(|| "-".to_string(), |u| u.name),
        Err(e) => return e.into_response(),
    };
    match reload_by(&s, &user).await {
        Ok(status) => {
            let code = if status.ok {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            (code, Json(status)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct SetClock {
    /// Set the clock to this instant (RFC 3339).
    at: Option<DateTime<chrono::FixedOffset>>,
    /// Or move it forward by this many seconds.
    advance_seconds: Option<i64>,
}

async fn clock(State(s): State<Arc<AppState>>) -> Response {
    Json(serde_json::json!({
        "now": s.clock.now().to_rfc3339(),
        "test_clock": s.test_clock.is_some(),
    }))
    .into_response()
}

async fn set_clock(
    State(s): State<Arc<AppState>>,
    parts: Parts,
    Json(req): Json<SetClock>,
) -> Response {
    if let Err(e) = super::caller::authorize_admin(&s, &parts, true).await {
        return e.into_response();
    }
    let Some(tc) = &s.test_clock else {
        return (
            StatusCode::NOT_FOUND,
            "the clock can only be set with `triage serve --test-clock`",
        )
            .into_response();
    };
    if let Some(at) = req.at {
        tc.set(at.with_timezone(&Utc));
    }
    if let Some(secs) = req.advance_seconds {
        match chrono::Duration::try_seconds(secs) {
            Some(d) => tc.advance(d),
            None => {
                return (StatusCode::BAD_REQUEST, "`advance_seconds` is out of range")
                    .into_response()
            }
        }
    }
    // Follow-ups may have fallen due.
    s.wake_processor.notify_one();
    Json(serde_json::json!({ "now": s.clock.now().to_rfc3339() })).into_response()
}
