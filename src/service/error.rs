//! The errors every route answers with: [`ApiError`] (a status and a JSON body
//! `{"error", "message"}`, internal causes logged, never sent), and the layers that keep that
//! promise for what axum answers itself. A leaf: it imports no handler.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::header::WWW_AUTHENTICATE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::state::AppState;
use crate::store::{Store, StoreError};

/// Every error of the API: a status and a JSON body `{"error": "...", "message": "..."}`.
/// Internal causes are logged, never sent.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    error: &'static str,
    message: String,
    extra: Vec<(&'static str, Value)>,
    /// What went wrong inside, for the log only.
    internal: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            error,
            message: message.into(),
            extra: Vec::new(),
            internal: None,
        }
    }

    pub fn with(mut self, key: &'static str, value: Value) -> Self {
        self.extra.push((key, value));
        self
    }

    pub fn unauthorized(message: &str) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn bad_request(error: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, error, message)
    }

    pub fn conflict(error: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, error, message)
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let mut e = ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Er ging bij ons iets mis. Probeer het zo nog eens.",
        );
        e.internal = Some(cause.to_string());
        e
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let mut err = ApiError::internal(e);
        err.status = StatusCode::SERVICE_UNAVAILABLE;
        err.error = "unavailable";
        err.message = "De gegevens zijn nu niet bereikbaar. Probeer het zo nog eens.".into();
        err
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(
                status = self.status.as_u16(),
                error = self.error,
                cause = self.internal.as_deref().unwrap_or(""),
                "api request failed"
            );
        }
        let mut body = json!({ "error": self.error, "message": self.message });
        for (k, v) in self.extra {
            body[k] = v;
        }
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Runs a blocking store call off the async threads.
pub async fn blocking<T, F>(state: &Arc<AppState>, f: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce(&dyn Store) -> crate::store::Result<T> + Send + 'static,
{
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || f(store.as_ref()))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::from)
}

/// A JSON body, with a JSON error when it is not what the route takes.
pub fn parse_body<T: DeserializeOwned>(body: &Bytes) -> ApiResult<T> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("bad_request", format!("Het verzoek klopt niet: {e}")))
}

/// Errors that axum answers before a handler runs (a body over the limit, a path segment that
/// is not valid percent-encoding) come as plain text; the API promises a JSON error everywhere,
/// so they are put in the same `{"error", "message"}` body, with axum's text as the message.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let message = String::from_utf8_lossy(&text).trim().to_string();
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let message = if message.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        message
    };
    let mut out = (status, Json(json!({ "error": error, "message": message }))).into_response();
    for (name, value) in parts.headers.iter() {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

/// What the API answers is personal data (masked or, for a resident's export, not): never kept
/// by a browser's or a proxy's cache.
pub async fn no_store(mut response: axum::response::Response) -> axum::response::Response {
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    response
}
