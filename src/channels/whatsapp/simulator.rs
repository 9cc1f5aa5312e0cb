//! The resident simulator of demo mode: a phone-like chat page at `/` where anyone talks to the
//! bot as a resident, without a WhatsApp account.
//!
//! A message typed there goes through the same path as a webhook ([`crate::service::intake`]): masked,
//! stored, decided, answered through the outbox to the built-in Graph API stand-in, whose recorded
//! sends the page shows as WhatsApp would (text, links, reply buttons, templates). With
//! `--test-clock` the page also moves the clock (signed in as an editor or admin), so a visitor
//! can see the out-of-hours reply and Monday's follow-up happen. Only in demo mode: with a real
//! account there is nothing to show.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Extension;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::standin::StandIn;
use super::{InboundKind, InboundMessage, Webhook};
use crate::channel::Channel;
use crate::service::intake::ingest;
use crate::service::state::AppState;

const PAGE: &str = include_str!("simulator.html");

/// What the simulator's handlers share: the demo's stand-in (whose record of sends the page
/// shows) and the business number residents write to.
#[derive(Clone)]
struct Phone {
    standin: StandIn,
    phone_number_id: String,
}

/// The simulator's routes (the page, sending, the replies, the clock), in demo mode only.
pub fn router(standin: StandIn, phone_number_id: String) -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(page))
        .route("/simulator/send", post(send))
        .route("/simulator/replies", post(replies))
        .route("/simulator/clock", get(clock).post(set_clock))
        .layer(Extension(Phone {
            standin,
            phone_number_id,
        }))
}

async fn page() -> Response {
    crate::service::web::page(PAGE)
}

/// The simulated phone: a random secret the page keeps (at least 32 hex digits). The resident's
/// number is derived from it, so only the page that holds it can write as that resident or read
/// the replies to them; a number alone reads nothing.
fn phone_number(phone: &str) -> Option<String> {
    use sha2::Digest;
    if phone.len() < 32 || phone.len() > 128 || !phone.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let digest = sha2::Sha256::digest(format!("triage-simulator\0{phone}").as_bytes());
    let mut n = [0u8; 8];
    n.copy_from_slice(&digest[..8]);
    // 3197: Dutch numbers for machines, never a resident's phone.
    Some(format!("3197{:09}", u64::from_le_bytes(n) % 1_000_000_000))
}

const BAD_PHONE: &str = "`phone` must be the page's random key of 32 to 128 hex digits";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Send {
    /// The simulated phone (see [`phone_number`]).
    phone: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    text: Option<String>,
    /// A tapped reply button: its id and title.
    #[serde(default)]
    button_id: Option<String>,
    #[serde(default)]
    button_title: Option<String>,
}

fn bad(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}

async fn send(
    State(s): State<Arc<AppState>>,
    Extension(phone): Extension<Phone>,
    Json(req): Json<Send>,
) -> Response {
    let Some(from) = phone_number(&req.phone) else {
        return bad(BAD_PHONE);
    };
    let kind = match (req.button_id, req.button_title, req.text) {
        (Some(id), Some(title), _) => InboundKind::ButtonReply { id, title },
        (None, None, Some(body)) if !body.trim().is_empty() => {
            if body.chars().count() > 4096 {
                return bad("a WhatsApp message holds at most 4096 characters");
            }
            InboundKind::Text { body }
        }
        _ => return bad("give `text`, or `button_id` with `button_title`"),
    };
    let now = s.clock.now();
    let message = InboundMessage {
        id: format!(
            "wamid.sim.{}",
            now.timestamp_nanos_opt().unwrap_or_default()
        ),
        phone_number_id: phone.phone_number_id.clone(),
        from,
        profile_name: req.name.filter(|n| !n.trim().is_empty()),
        timestamp: now,
        context_id: None,
        kind,
    };
    let hook = Webhook {
        messages: vec![message],
        ..Webhook::default()
    };
    match ingest(&s, Channel::WhatsApp, super::incoming::inbox(&hook)).await {
        Ok(_) => Json(json!({ "ok": true })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "simulator message not stored");
            (StatusCode::SERVICE_UNAVAILABLE, "not stored, try again").into_response()
        }
    }
}

/// In the body, not the address: even the demo's numbers stay out of URLs and access logs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RepliesQuery {
    /// The simulated phone whose replies are asked for.
    phone: String,
    #[serde(default)]
    since: u64,
}

/// What the stand-in sent to `to` after `since`, as a phone shows it.
async fn replies(Extension(phone): Extension<Phone>, Json(q): Json<RepliesQuery>) -> Response {
    let standin = &phone.standin;
    let Some(to) = phone_number(&q.phone) else {
        return bad(BAD_PHONE);
    };
    let out: Vec<Value> = standin
        .sent_since(q.since, Some(&to))
        .into_iter()
        .map(|r| shown(r.seq, r.at, &r.body))
        .collect();
    Json(out).into_response()
}

/// A Graph API message body as a chat bubble: text, buttons, or a template.
fn shown(seq: u64, at: DateTime<Utc>, body: &Value) -> Value {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    match body["type"].as_str() {
        Some("interactive") => json!({
            "seq": seq,
            "at": at,
            "kind": "buttons",
            "text": text(&body["interactive"]["body"]["text"]),
            "buttons": body["interactive"]["action"]["buttons"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|b| json!({ "id": b["reply"]["id"], "title": b["reply"]["title"] }))
                .collect::<Vec<_>>(),
        }),
        Some("template") => json!({
            "seq": seq,
            "at": at,
            "kind": "template",
            "text": format!(
                "[template {}] {}",
                text(&body["template"]["name"]),
                body["template"]["components"][0]["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| text(&p["text"]))
                    .collect::<Vec<_>>()
                    .join(" · ")
            ),
            "buttons": [
                { "id": crate::engine::PAYLOAD_YES, "title": "Ja" },
                { "id": crate::engine::PAYLOAD_NO, "title": "Nee" }
            ],
        }),
        _ => json!({ "seq": seq, "at": at, "kind": "text", "text": text(&body["text"]["body"]) }),
    }
}

async fn clock(State(s): State<Arc<AppState>>) -> Response {
    let tz = s.flows().office.timezone();
    let now = s.clock.now();
    Json(json!({
        "now": now.with_timezone(&tz).to_rfc3339(),
        "open": s.flows().office.is_open(now),
        "settable": s.test_clock.is_some() && s.demo(),
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetClock {
    at: DateTime<chrono::FixedOffset>,
}

/// Sets the test clock, in demo mode with `--test-clock` only (nothing real can be affected), as
/// an editor or admin: moving the clock ends or revives every session.
async fn set_clock(
    State(s): State<Arc<AppState>>,
    parts: axum::http::request::Parts,
    Json(req): Json<SetClock>,
) -> Response {
    if let Err(e) = crate::service::caller::authorize_admin(&s, &parts, false).await {
        return e.into_response();
    }
    match (&s.test_clock, s.demo()) {
        (Some(tc), true) => {
            tc.set(req.at.with_timezone(&Utc));
            s.wake_processor.notify_one();
            clock(State(s)).await
        }
        _ => (
            StatusCode::NOT_FOUND,
            "the clock can be set in demo mode with `triage serve --test-clock` only",
        )
            .into_response(),
    }
}
