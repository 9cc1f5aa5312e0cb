//! Who a request comes from: a bearer token (scripts) or the session cookie (the web
//! application), as the [`Caller`] extractor handlers take, and the token helpers. Handlers
//! depend on this; it depends on no handler but the session lookup of [`super::auth`].

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;

use super::error::{blocking, ApiError, ApiResult};
use super::state::AppState;
pub use super::token::{new_token, token_hash, MAX_USER_NAME_CHARS};
use crate::store::{Role, User};

/// The bearer token of a request, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The user of a request: a bearer token (scripts), else the session cookie (the web
/// application, with its CSRF check on state-changing requests).
pub async fn user_of(state: &Arc<AppState>, parts: &Parts) -> ApiResult<(User, Option<String>)> {
    if let Some(token) = bearer(&parts.headers) {
        let hash = token_hash(token);
        let user = blocking(state, move |s| s.user_by_token(&hash))
            .await?
            .ok_or_else(|| ApiError::unauthorized("Dit token kennen we niet."))?;
        return Ok((user, None));
    }
    match super::auth::session_user(state, parts).await? {
        Some(session) => Ok((session.user, Some(session.csrf))),
        None => Err(ApiError::unauthorized(
            "Meld je eerst aan (of stuur een header `Authorization: Bearer <token>`).",
        )),
    }
}

/// For `/admin/reload` and `/admin/clock`: once users exist, an editor's or admin's token.
/// Returns that user (`None`: no users yet, and the endpoint is open without them).
///
/// `open_without_users`: whether the endpoint may be used before any user exists. Only the test
/// clock is (it exists only with `--test-clock`, which production refuses); a reload always needs
/// an editor or admin.
pub async fn authorize_admin(
    state: &Arc<AppState>,
    parts: &Parts,
    open_without_users: bool,
) -> ApiResult<Option<User>> {
    let any = blocking(state, |s| s.users()).await?;
    if any.is_empty() {
        if open_without_users {
            return Ok(None);
        }
        return Err(ApiError::unauthorized(
            "no users yet: create an editor or admin with `triage user add NAME --role admin`",
        ));
    }
    let (user, _) = user_of(state, parts).await?;
    match user.role {
        Role::Admin | Role::Editor => Ok(Some(user)),
        Role::Agent => Err(ApiError::forbidden(
            "Dit mag alleen een redacteur of beheerder.",
        )),
    }
}

/// The user a request comes from.
pub struct Caller(pub User);

/// The user a request comes from, with the session's CSRF token when it came with a session
/// cookie (for `/api/me`, so that a reloaded page learns it again).
pub struct CallerSession(pub User, pub Option<String>);

impl FromRequestParts<Arc<AppState>> for CallerSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        user_of(state, parts)
            .await
            .map(|(user, csrf)| CallerSession(user, csrf))
    }
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        user_of(state, parts).await.map(|(user, _)| Caller(user))
    }
}

impl Caller {
    /// Whether the user sees conversations of `department` (none: only editors and admins).
    pub fn sees(&self, department: Option<&str>) -> bool {
        match self.0.role {
            Role::Admin | Role::Editor => true,
            Role::Agent => department.is_some_and(|d| self.0.departments.iter().any(|x| x == d)),
        }
    }

    pub fn author(&self) -> String {
        format!("agent:{}", self.0.name)
    }

    pub fn require_admin(&self) -> ApiResult<()> {
        if self.0.role == Role::Admin {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "only admins manage users and residents' data",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn bearer_tokens_are_read() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&h), None);
    }
}
