//! The WhatsApp Cloud API's messages endpoint: a client that sends to it, and a stand-in of it.
//!
//! [`Client`] posts a prepared JSON body to `POST {base}/{version}/{phone_number_id}/messages`
//! with a Bearer token and a timeout, and returns either the message id (`wamid…`) the API gave
//! the message or a [`SendError`] that keeps what a retry policy needs: the HTTP status (none for
//! a network error or a timeout), the Graph error code and its message. Which codes are retried
//! is not decided here.
//!
//! [`standin`] is an HTTP server that answers like that endpoint, records what it received and
//! fails on request: demo mode sends to it, and black-box tests run it on loopback.
//!
//! Nothing here logs the access token, a recipient's phone number or a message body; log lines
//! carry the phone number id, message ids, statuses and lengths.

use std::fmt;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::channels::id_tail;

/// The Graph API version used unless the configuration names another.
pub const DEFAULT_VERSION: &str = "v21.0";

/// How long one request may take, connecting included, unless the configuration says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest error message kept from a response body, in characters.
const MAX_ERROR_MESSAGE: usize = 500;

/// Where and as whom to send. `Debug` never prints the access token.
#[derive(Clone)]
pub struct ClientConfig {
    /// The Graph API base URL without a version, e.g. `https://graph.facebook.com`.
    pub base_url: String,
    /// The API version path segment, e.g. `v21.0`.
    pub version: String,
    /// The business phone number id that sends.
    pub phone_number_id: String,
    /// The system user's access token, sent as `Authorization: Bearer …`.
    pub access_token: String,
    /// The limit for one request, connecting included.
    pub timeout: Duration,
}

impl ClientConfig {
    /// A configuration with the default version and timeout.
    pub fn new(
        base_url: impl Into<String>,
        phone_number_id: impl Into<String>,
        access_token: impl Into<String>,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            version: DEFAULT_VERSION.to_owned(),
            phone_number_id: phone_number_id.into(),
            access_token: access_token.into(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The URL messages and read receipts are posted to.
    pub fn messages_url(&self) -> String {
        format!(
            "{}/{}/{}/messages",
            self.base_url.trim_end_matches('/'),
            self.version.trim_matches('/'),
            self.phone_number_id
        )
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let token = if self.access_token.is_empty() {
            "<empty>"
        } else {
            "<redacted>"
        };
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("version", &self.version)
            .field("phone_number_id", &self.phone_number_id)
            .field("access_token", &token)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A configuration that cannot make a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// The API accepted a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendOk {
    /// The id the API gave the message (`wamid…`, from `messages[0].id`); statuses refer to it.
    pub message_id: String,
}

/// What went wrong, as far as the client can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The API answered with an error status (or a success without the expected fields).
    Api,
    /// No connection was made: the request surely did not arrive.
    Connect,
    /// No answer within the timeout: the request may or may not have been processed.
    Timeout,
    /// The connection failed after the request went out: it may or may not have been processed.
    Network,
    /// The body could not be serialised; nothing was sent.
    Body,
}

/// A send that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// The HTTP status, or `None` when there was no answer (network error, timeout).
    pub http_status: Option<u16>,
    /// The Graph error code (`error.code`), when the body had one.
    pub code: Option<i64>,
    /// The Graph error message (`error.message`), or a description of the failure.
    pub message: String,
    /// `error.error_data.details`, when the body had it.
    pub details: Option<String>,
    /// The kind of failure; tells "surely not sent" from "maybe sent".
    pub kind: ErrorKind,
}

impl SendError {
    fn without_answer(kind: ErrorKind, message: String) -> Self {
        Self {
            http_status: None,
            code: None,
            message,
            details: None,
            kind,
        }
    }

    /// Whether the API may have processed the request although no answer came back.
    pub fn maybe_delivered(&self) -> bool {
        matches!(self.kind, ErrorKind::Timeout | ErrorKind::Network)
    }

    /// Reads a Graph-style error body (`{"error":{"message","code","error_data":{"details"}}}`);
    /// a body that is not one gives a message naming the status.
    pub fn from_response(http_status: u16, body: &[u8]) -> Self {
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let error = parsed.as_ref().and_then(|v| v.get("error"));
        let code = error.and_then(|e| e.get("code")).and_then(Value::as_i64);
        let message = error
            .and_then(|e| e.get("message"))
            .and_then(Value::as_str)
            .map(truncate)
            .unwrap_or_else(|| format!("http status {http_status} without a graph error body"));
        let details = error
            .and_then(|e| e.get("error_data"))
            .and_then(|d| d.get("details"))
            .and_then(Value::as_str)
            .map(truncate);
        Self {
            http_status: Some(http_status),
            code,
            message,
            details,
            kind: ErrorKind::Api,
        }
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.http_status, self.code) {
            (Some(status), Some(code)) => {
                write!(
                    f,
                    "graph api error {code} (http {status}): {}",
                    self.message
                )
            }
            (Some(status), None) => write!(f, "graph api http {status}: {}", self.message),
            (None, _) => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for SendError {}

fn truncate(s: &str) -> String {
    s.chars().take(MAX_ERROR_MESSAGE).collect()
}

/// Sends to the messages endpoint. Cheap to clone; clones share one connection pool.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    url: String,
    phone_number_id: String,
    access_token: String,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.url)
            .field("access_token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Builds a client; the base URL must be `http://` or `https://` and the ids must be single
    /// path segments.
    pub fn new(config: ClientConfig) -> Result<Self, ConfigError> {
        let base = config.base_url.trim();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ConfigError(format!(
                "graph api base url `{base}` must start with http:// or https://"
            )));
        }
        for (name, value) in [
            ("version", config.version.trim_matches('/')),
            ("phone number id", config.phone_number_id.as_str()),
        ] {
            if value.is_empty() || value.contains(['/', '?', '#', ' ']) {
                return Err(ConfigError(format!(
                    "graph api {name} `{value}` must be one non-empty path segment"
                )));
            }
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| ConfigError(format!("cannot build the http client: {e}")))?;
        Ok(Self {
            http,
            url: config.messages_url(),
            phone_number_id: config.phone_number_id,
            access_token: config.access_token,
        })
    }

    /// The URL this client posts to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends a message body (text, interactive, template…, as the Cloud API defines it).
    pub async fn send<B: Serialize + ?Sized>(&self, body: &B) -> Result<SendOk, SendError> {
        let json = serde_json::to_string(body).map_err(|e| {
            SendError::without_answer(ErrorKind::Body, format!("cannot serialise the body: {e}"))
        })?;
        self.send_json(json).await
    }

    /// Sends a body that is already JSON text, e.g. as the outbox stored it.
    pub async fn send_json(&self, json: String) -> Result<SendOk, SendError> {
        let len = json.len();
        let (status, body) = self.post(json).await?;
        let message_id = serde_json::from_slice::<Value>(&body).ok().and_then(|v| {
            v.get("messages")?
                .get(0)?
                .get("id")?
                .as_str()
                .map(str::to_owned)
        });
        match message_id {
            Some(message_id) => {
                tracing::debug!(
                    phone_number_id = %self.phone_number_id,
                    body_len = len,
                    message_id_tail = id_tail(&message_id, 8),
                    "graph api accepted a message"
                );
                Ok(SendOk { message_id })
            }
            None => Err(SendError {
                http_status: Some(status),
                code: None,
                message: "graph api answer has no `messages[0].id`".to_owned(),
                details: None,
                kind: ErrorKind::Api,
            }),
        }
    }

    /// Marks an inbound message as read (the resident sees two blue ticks).
    pub async fn mark_read(&self, message_id: &str) -> Result<(), SendError> {
        let json = super::mark_read_body(message_id).to_string();
        let (status, body) = self.post(json).await?;
        let success = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("success")?.as_bool());
        if success == Some(true) {
            tracing::debug!(phone_number_id = %self.phone_number_id, message_id_tail = id_tail(message_id, 8), "marked read");
            Ok(())
        } else {
            Err(SendError {
                http_status: Some(status),
                code: None,
                message: "graph api answer has no `success: true`".to_owned(),
                details: None,
                kind: ErrorKind::Api,
            })
        }
    }

    /// Posts JSON text; a 2xx answer gives its status and body, anything else an error.
    async fn post(&self, json: String) -> Result<(u16, Vec<u8>), SendError> {
        let response = self
            .http
            .post(&self.url)
            .bearer_auth(&self.access_token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(json)
            .send()
            .await
            .map_err(|e| self.network_error(&e))?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|e| self.network_error(&e))?;
        if (200..300).contains(&status) {
            return Ok((status, body.to_vec()));
        }
        let error = SendError::from_response(status, &body);
        tracing::warn!(
            phone_number_id = %self.phone_number_id,
            http_status = status,
            code = ?error.code,
            "graph api refused a request"
        );
        Err(error)
    }

    fn network_error(&self, e: &reqwest::Error) -> SendError {
        let kind = if e.is_timeout() {
            ErrorKind::Timeout
        } else if e.is_connect() {
            ErrorKind::Connect
        } else {
            ErrorKind::Network
        };
        let what = match kind {
            ErrorKind::Timeout => "graph api did not answer in time",
            ErrorKind::Connect => "cannot connect to the graph api",
            _ => "graph api connection failed",
        };
        // reqwest's error names the URL, which holds no secret; the token is in a header.
        let message = format!("{what}: {}", error_chain(e));
        tracing::warn!(phone_number_id = %self.phone_number_id, ?kind, "graph api request failed");
        SendError::without_answer(kind, message)
    }
}

/// An error and its sources, joined with `: `.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
