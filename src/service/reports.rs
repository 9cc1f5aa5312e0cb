//! The reports' API: `GET /api/reports?from=&to=` (JSON) and `GET /api/reports/{table}.csv`.
//!
//! A CSV download is in the form a Dutch spreadsheet opens as numbers (`;`, a decimal comma,
//! Dutch headers, a byte order mark); `?format=en` gives the international form for scripts
//! (`,`, a decimal point, the JSON's field names). See [`reports::CsvStyle`].
//!
//! Editors and admins see every department; an agent sees the conversations whose current
//! department is one of theirs (their inbound messages, the bot's decisions on them, their
//! handovers and follow-ups), so a report never shows more than the inbox does.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;

use super::api::GOAL_SECONDS;
use super::caller::Caller;
use super::error::{blocking, ApiError};
use super::state::AppState;
use crate::flows::FlowSet;
use crate::reports::{self, CsvStyle, Names, Period, Report};
use crate::store::Role;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/reports", get(report_json))
        .route("/api/reports/{table}", get(report_csv))
        .layer(axum::middleware::map_response(super::error::no_store))
}

#[derive(Debug, Deserialize)]
struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
    /// The CSV's form: `nl` (the default) or `en`.
    format: Option<String>,
}

/// What the flows call the departments and topics, for the pages and the CSV files.
fn names(flows: &FlowSet) -> Names {
    Names {
        departments: flows
            .department_names()
            .map(|(id, name)| (id.to_string(), name.to_string()))
            .collect(),
        topics: flows
            .topics
            .iter()
            .filter_map(|t| t.title.clone().map(|title| (t.id.clone(), title)))
            .collect(),
    }
}

fn date(name: &str, raw: &str) -> Result<NaiveDate, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_period",
            format!(
                "De {} (`{name}`) moet een datum zijn zoals 2026-11-24, niet `{raw}`.",
                if name == "from" {
                    "begindatum"
                } else {
                    "einddatum"
                }
            ),
        )
    })
}

/// The report the caller may see for the period asked (default: the last seven days).
async fn report(s: &Arc<AppState>, caller: &Caller, q: &PeriodQuery) -> Result<Report, ApiError> {
    let flows = s.flows();
    let now = s.clock.now();
    let today = now.with_timezone(&flows.office.timezone()).date_naive();
    let period = match (&q.from, &q.to) {
        (None, None) => Period::last_week(today),
        (from, to) => {
            let to = to
                .as_deref()
                .map(|t| date("to", t))
                .transpose()?
                .unwrap_or(today);
            let from = match from.as_deref() {
                Some(f) => date("from", f)?,
                None => Period::last_week(to).from,
            };
            Period::new(from, to)
                .map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, "bad_period", m))?
        }
    };
    let (start, end) = period.bounds(&flows.office);
    let rows = blocking(s, move |st| st.report_rows(start, end)).await?;
    let departments = (caller.0.role == Role::Agent).then(|| caller.0.departments.clone());
    Ok(reports::compute(
        &rows,
        &flows.office,
        period,
        now,
        GOAL_SECONDS,
        departments.as_deref(),
    ))
}

/// The report, with `topic_titles` (the flows' title of each topic it names) and `today`.
async fn report_json(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Query(q): Query<PeriodQuery>,
) -> Result<Json<Value>, ApiError> {
    let r = report(&s, &caller, &q).await?;
    let flows = s.flows();
    let titles = names(&flows).topics;
    // The service's today (its clock, in the office's timezone): what the page's "this week"
    // counts from, whatever the visitor's computer says.
    let today = s
        .clock
        .now()
        .with_timezone(&flows.office.timezone())
        .date_naive();
    let shown: serde_json::Map<String, Value> = r
        .topics
        .iter()
        .filter_map(|c| {
            titles
                .get(&c.key)
                .map(|t| (c.key.clone(), Value::from(t.as_str())))
        })
        .collect();
    let mut body = serde_json::to_value(&r).map_err(ApiError::internal)?;
    body["topic_titles"] = Value::Object(shown);
    body["today"] = Value::from(today.to_string());
    Ok(Json(body))
}

async fn report_csv(
    State(s): State<Arc<AppState>>,
    caller: Caller,
    Path(file): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, ApiError> {
    let unknown = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!(
                "Tabel `{file}` bestaat niet. De tabellen zijn {}.",
                reports::TABLES
                    .iter()
                    .map(|t| format!("{t}.csv"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    };
    let name = file.strip_suffix(".csv").ok_or_else(unknown)?;
    if !reports::TABLES.contains(&name) {
        return Err(unknown());
    }
    let style = match q.format.as_deref() {
        None => CsvStyle::default(),
        Some(f) => CsvStyle::parse(f).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_format",
                format!("`format` is `nl` (puntkomma's, decimale komma) of `en` (komma's, decimale punt), niet `{f}`."),
            )
        })?,
    };
    let r = report(&s, &caller, &q).await?;
    let rows = reports::table(&r, name, style, &names(&s.flows())).ok_or_else(unknown)?;
    let filename = format!(
        "attachment; filename=\"triage-{name}-{}-{}.csv\"",
        r.period.from, r.period.to
    );
    let mut response = (StatusCode::OK, reports::csv(&rows, style)).into_response();
    let h = response.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&filename) {
        h.insert(CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
