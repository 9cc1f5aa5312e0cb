//! Errors of the Graph API, as they come back from a send and inside webhooks, and what the
//! outbox should do about each: retry later, retry, give up, or switch to a template.
//!
//! Codes from Meta's Cloud API error reference. The code decides before the HTTP status:
//! 131047 arrives as HTTP 400 but means "outside the 24-hour window", not "bad request".

use std::fmt;

use serde::Deserialize;
use serde_json::Value;

use super::ParseError;

/// One error reported by the Cloud API, in a send response or in a webhook
/// (`errors[]` of a failed status or an unsupported message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The numeric error code, e.g. 131047.
    pub code: i64,
    /// The short title (`title` in webhooks; the exception `type` in send responses).
    pub title: String,
    /// The human-readable message.
    pub message: String,
    /// `error_data.details`, when given.
    pub details: Option<String>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "whatsapp error {}: {}", self.code, self.message)?;
        if let Some(details) = &self.details {
            write!(f, " ({details})")?;
        }
        Ok(())
    }
}

/// What the outbox does after a failed send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorAction {
    /// A rate limit: retry, with a longer backoff than for [`ErrorAction::Retry`].
    RetryLater,
    /// A transient failure on Meta's side: retry with backoff.
    Retry,
    /// Error 131047: more than 24 hours since the resident's last message. Never retry as
    /// free text; send an approved template instead, or tell the agent.
    OutsideWindow,
    /// Error 131026: the message cannot be delivered to this number. Give up, tell the agent.
    Undeliverable,
    /// Anything else: retrying the same request will fail again.
    Permanent,
}

impl ErrorAction {
    /// Whether the same request may be sent again.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorAction::RetryLater | ErrorAction::Retry)
    }
}

/// Decides what to do with a failed send, from the error code in the response body (0 when
/// there was no parsable error body) and the HTTP status.
///
/// - [`ErrorAction::RetryLater`]: 4 (app request limit), 80007 (rate limit), 130429
///   (throughput), 131048 (spam rate limit), 131056 (pair rate limit), or HTTP 429.
/// - [`ErrorAction::Retry`]: 1 and 2 (API unknown / service temporarily unavailable), 131000
///   (something went wrong), 131016 (service unavailable), or HTTP 5xx.
/// - [`ErrorAction::OutsideWindow`]: 131047. [`ErrorAction::Undeliverable`]: 131026.
/// - [`ErrorAction::Permanent`]: everything else, e.g. 100, 131051, 132000, 190.
pub fn classify(code: i64, http_status: u16) -> ErrorAction {
    match code {
        131047 => ErrorAction::OutsideWindow,
        131026 => ErrorAction::Undeliverable,
        4 | 80007 | 130429 | 131048 | 131056 => ErrorAction::RetryLater,
        1 | 2 | 131000 | 131016 => ErrorAction::Retry,
        _ if http_status == 429 => ErrorAction::RetryLater,
        _ if (500..600).contains(&http_status) => ErrorAction::Retry,
        _ => ErrorAction::Permanent,
    }
}

/// An error object in either of its two shapes (send response or webhook).
#[derive(Deserialize)]
pub(crate) struct RawError {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    error_user_title: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    error_data: Option<RawErrorData>,
}

#[derive(Deserialize)]
struct RawErrorData {
    #[serde(default)]
    details: Option<String>,
}

impl RawError {
    pub(crate) fn into_api_error(self) -> ApiError {
        ApiError {
            code: self.code.unwrap_or(0),
            title: self
                .title
                .or(self.error_user_title)
                .or(self.kind)
                .unwrap_or_default(),
            message: self.message.unwrap_or_default(),
            details: self.error_data.and_then(|d| d.details),
        }
    }
}

/// Reads a list of error objects leniently: entries that are not objects are left out.
pub(crate) fn api_errors(values: Option<&Value>) -> Vec<ApiError> {
    values
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|v| RawError::deserialize(v).ok())
                .map(RawError::into_api_error)
                .collect()
        })
        .unwrap_or_default()
}

/// Parses a Graph API error response, `{"error": {"message", "type", "code",
/// "error_subcode", "error_data": {"details"}, "fbtrace_id"}}`.
///
/// `None` when the body is not such a response (an HTML error page from a proxy, say); the
/// caller then classifies with code 0 and the HTTP status.
pub fn parse_api_error(raw: &[u8]) -> Option<ApiError> {
    #[derive(Deserialize)]
    struct Envelope {
        error: RawError,
    }
    let envelope: Envelope = serde_json::from_slice(raw).ok()?;
    Some(envelope.error.into_api_error())
}

/// Parses a successful send response,
/// `{"messaging_product", "contacts": [{"input", "wa_id"}], "messages": [{"id", "message_status"?}]}`,
/// into the id (`wamid`) of the message sent.
pub fn parse_send_response(raw: &[u8]) -> Result<String, ParseError> {
    #[derive(Deserialize)]
    struct Sent {
        #[serde(default)]
        id: Option<String>,
    }
    #[derive(Deserialize)]
    struct Response {
        #[serde(default)]
        messages: Option<Vec<Sent>>,
    }
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    let response: Response = serde_json::from_slice(raw).map_err(ParseError::json)?;
    response
        .messages
        .unwrap_or_default()
        .into_iter()
        .find_map(|m| m.id.filter(|id| !id.is_empty()))
        .ok_or(ParseError::MissingField("messages[].id"))
}
