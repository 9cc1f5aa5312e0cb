//! A client of the X API v2's one-to-one send endpoint,
//! `POST {api_base}/2/dm_conversations/with/{participant_id}/messages`, with the account's
//! user-context token as `Authorization: Bearer …` and a timeout. It returns the new event's
//! id or a [`SendError`] that keeps what the sender's classes need: the HTTP status (none when
//! no answer came), the platform's message, and a rate limit's reset time.
//!
//! Nothing here logs the token, a recipient or a text: log lines carry statuses, lengths and id
//! tails.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::outbound;
use crate::channels::id_tail;

/// How long one request may take, connecting included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// What went wrong, as far as the client can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The API answered with an error status, or a success without an event id.
    Api,
    /// No connection was made: surely not sent.
    Connect,
    /// No answer in time, or the connection broke after the request went out: maybe sent.
    NoAnswer,
}

/// A send that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// The HTTP status; `None` when no answer came.
    pub http_status: Option<u16>,
    /// The platform's message, or what happened.
    pub message: String,
    /// A 429's `x-rate-limit-reset`.
    pub retry_at: Option<DateTime<Utc>>,
    pub kind: ErrorKind,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SendError {}

/// Sends direct messages as our account. Cheap to clone; clones share a connection pool.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("token", &"<redacted>")
            .finish()
    }
}

impl Client {
    /// A client for `api_base` (`https://api.x.com`, or a stand-in's address).
    pub fn new(api_base: &str, token: &str) -> Result<Client, String> {
        let base = api_base.trim().trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(format!(
                "the x api base url `{base}` must start with http:// or https://"
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .build()
            .map_err(|e| format!("cannot build the http client: {e}"))?;
        Ok(Client {
            http,
            base: base.to_string(),
            token: token.to_string(),
        })
    }

    /// The send URL for a participant.
    pub fn url(&self, participant_id: &str) -> String {
        format!(
            "{}/2/dm_conversations/with/{participant_id}/messages",
            self.base
        )
    }

    /// Sends `body` to `participant_id`; the new direct-message event's id.
    pub async fn send(&self, participant_id: &str, body: &Value) -> Result<String, SendError> {
        let api = |http_status, message: String| SendError {
            http_status,
            message,
            retry_at: None,
            kind: ErrorKind::Api,
        };
        if !outbound::is_user_id(participant_id) {
            return Err(api(None, "the recipient is no X user id".into()));
        }
        let json = body.to_string();
        let len = json.len();
        let response = self
            .http
            .post(self.url(participant_id))
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(json)
            .send()
            .await
            .map_err(|e| no_answer(&e))?;
        let status = response.status().as_u16();
        let reset = response
            .headers()
            .get("x-rate-limit-reset")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| outbound::reset_at(Some(v)));
        let answer = response.bytes().await.map_err(|e| no_answer(&e))?;
        if (200..300).contains(&status) {
            return match outbound::dm_event_id(&answer) {
                Some(id) => {
                    tracing::debug!(
                        body_len = len,
                        event_id_tail = id_tail(&id, 6),
                        "x accepted a direct message"
                    );
                    Ok(id)
                }
                // Accepted, most likely, but we cannot tell which event it made.
                None => Err(SendError {
                    http_status: Some(status),
                    message: format!("x api http {status} without `data.dm_event_id`"),
                    retry_at: None,
                    kind: ErrorKind::NoAnswer,
                }),
            };
        }
        let mut e = api(Some(status), outbound::error_message(status, &answer));
        if status == 429 {
            e.retry_at = reset;
        }
        tracing::warn!(http_status = status, "x refused a direct message");
        Err(e)
    }
}

/// A request that got no (complete) answer.
fn no_answer(e: &reqwest::Error) -> SendError {
    let (kind, what) = if e.is_connect() {
        (ErrorKind::Connect, "cannot connect to the x api")
    } else if e.is_timeout() {
        (ErrorKind::NoAnswer, "the x api did not answer in time")
    } else {
        (ErrorKind::NoAnswer, "the connection to the x api failed")
    };
    tracing::warn!(?kind, "x api request failed");
    // reqwest's error names the URL (a user id, no secret); keep only what happened.
    SendError {
        http_status: None,
        message: what.to_string(),
        retry_at: None,
        kind,
    }
}
