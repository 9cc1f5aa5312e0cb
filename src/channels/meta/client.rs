//! The HTTP side of the Send API: posts a prepared body to
//! `POST {base}/{version}/{account-id}/messages` with the access token as a Bearer header and a
//! timeout, and turns the answer into the platform's message id or a [`Failure`] of the sender's
//! classes ([`super::outbound::classify`]).
//!
//! Nothing here logs the token, a recipient or a body: log lines carry the channel, statuses,
//! codes, lengths and the tail of a message id.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use super::outbound::{classify, parse_error, parse_sent};
use crate::channel::Channel;
use crate::channels::{id_tail, ErrorClass, Failure};

/// The Graph API version used unless the configuration names another.
pub const DEFAULT_VERSION: &str = "v21.0";

/// How long one request may take, connecting included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Sends to one account's messages endpoint. Cheap to clone; clones share a connection pool.
#[derive(Clone)]
pub struct Client {
    channel: Channel,
    http: reqwest::Client,
    url: String,
    access_token: String,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("channel", &self.channel)
            .field("url", &self.url)
            .field("access_token", &"<redacted>")
            .finish()
    }
}

impl Client {
    /// A client for `{base}/{version}/{account_id}/messages`; the base must be http(s) and the
    /// version and account id single path segments.
    pub fn new(
        channel: Channel,
        base: &str,
        version: &str,
        account_id: &str,
        access_token: &str,
        timeout: Duration,
    ) -> Result<Client, String> {
        let name = channel.as_str().to_ascii_uppercase();
        let base = base.trim().trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(format!(
                "{name}_API_BASE `{base}` must start with http:// or https://"
            ));
        }
        let version = version.trim().trim_matches('/');
        for (what, value) in [("API_VERSION", version), ("ACCOUNT_ID", account_id)] {
            if value.is_empty() || value.contains(['/', '?', '#', ' ']) {
                return Err(format!(
                    "{name}_{what} `{value}` must be one non-empty path segment"
                ));
            }
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| format!("cannot build the http client: {e}"))?;
        Ok(Client {
            channel,
            http,
            url: format!("{base}/{version}/{account_id}/messages"),
            access_token: access_token.to_string(),
        })
    }

    /// The URL this client posts to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends a Send API body; the platform's message id, or why not.
    pub async fn send(&self, body: &Value) -> Result<String, Failure> {
        let json = body.to_string();
        let len = json.len();
        let response = self
            .http
            .post(&self.url)
            .bearer_auth(&self.access_token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(json)
            .send()
            .await
            .map_err(|e| self.network_failure(&e))?;
        let status = response.status().as_u16();
        let raw = response
            .bytes()
            .await
            .map_err(|e| self.network_failure(&e))?;
        if (200..300).contains(&status) {
            return match parse_sent(&raw) {
                Some(id) => {
                    tracing::debug!(channel = %self.channel, body_len = len, message_id_tail = id_tail(&id, 8), "send api accepted a message");
                    Ok(id)
                }
                // Accepted, but we cannot tell which message it became: it may be there.
                None => Err(Failure {
                    class: ErrorClass::Retry,
                    maybe_delivered: true,
                    message: format!("http {status} without a `message_id`"),
                    retry_at: None,
                }),
            };
        }
        let error = parse_error(&raw);
        let class = classify(error.as_ref(), status);
        tracing::warn!(
            channel = %self.channel,
            http_status = status,
            code = ?error.as_ref().and_then(|e| e.code),
            subcode = ?error.as_ref().and_then(|e| e.subcode),
            ?class,
            "send api refused a message"
        );
        let message = match &error {
            Some(e) => format!(
                "{} error {}{}: {}",
                self.channel.title(),
                e.code.map_or_else(|| "?".to_string(), |c| c.to_string()),
                e.subcode.map(|s| format!("/{s}")).unwrap_or_default(),
                e.message
            ),
            None => format!(
                "{} http {status} without a graph error body",
                self.channel.title()
            ),
        };
        Err(Failure {
            class,
            maybe_delivered: false,
            message,
            retry_at: None,
        })
    }

    /// No (whole) answer: surely not sent when no connection was made; otherwise it may have
    /// arrived, and the sender waits before it tries again.
    fn network_failure(&self, e: &reqwest::Error) -> Failure {
        let connect = e.is_connect();
        let what = if e.is_timeout() {
            "the send api did not answer in time"
        } else if connect {
            "cannot connect to the send api"
        } else {
            "the connection to the send api failed"
        };
        tracing::warn!(channel = %self.channel, timeout = e.is_timeout(), connect, "send api request failed");
        Failure {
            class: ErrorClass::Retry,
            maybe_delivered: !connect,
            message: format!("{} {what}", self.channel.title()),
            retry_at: None,
        }
    }
}
