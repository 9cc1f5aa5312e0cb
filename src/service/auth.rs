//! Signing in to the web application: passwords hashed with argon2, sessions in cookies, CSRF
//! tokens, and a limit on sign-in attempts.
//!
//! A session is a random id in an HTTP-only, `SameSite=Strict` cookie (and `Secure` unless the
//! configuration turns that off for plain-HTTP development); the store keeps only its SHA-256, so
//! a copy of the database signs nobody in. Sessions expire [`SESSION_HOURS`] after sign-in.
//!
//! Every state-changing request made with a session cookie must carry the session's CSRF token in
//! an `X-CSRF-Token` header, and its `Origin`, when the browser sends one, must be this site.
//! Requests with a bearer token (the API's scripts) need neither: a token is never sent by a
//! browser on its own.
//!
//! Sign-in attempts are limited per user name and per client address: after
//! [`MAX_FAILURES`] failures within [`FAILURE_WINDOW`] the next attempts are refused with 429 until
//! the oldest failure leaves the window. A name that does not exist costs the same argon2
//! verification as one that does, so timing does not tell which names exist.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::header::{COOKIE, HOST, ORIGIN, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Duration;
use serde::Deserialize;
use serde_json::json;

use super::api::{new_token, token_hash, ApiError};
use super::app::AppState;
use crate::store::{AuditRecord, NewSession, Session, User};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "triage_session";
/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a session lasts after sign-in: a working day.
pub const SESSION_HOURS: i64 = 12;
/// Failed sign-ins allowed per name (and per address) within [`FAILURE_WINDOW`].
pub const MAX_FAILURES: usize = 5;
/// The window failed sign-ins are counted in.
pub const FAILURE_WINDOW: StdDuration = StdDuration::from_secs(15 * 60);
/// Failures per client address are counted with more room: a town hall shares one address.
const MAX_FAILURES_PER_ADDRESS: usize = 4 * MAX_FAILURES;
/// The shortest password `triage user` accepts.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The demo users' password (demo mode only, printed at start).
pub const DEMO_PASSWORD: &str = "demo";

/// Sign-in, sign-out and the session's state.
pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/status", get(status))
}

// ---------------------------------------------------------------------------------------------
// Passwords

/// An argon2id hash of `password` (PHC string, random salt, the crate's default cost: 19 MiB,
/// two passes, as OWASP recommends).
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// Whether `password` matches the PHC string `hash`; a malformed hash matches nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// A password `triage user` accepts: long enough, not only spaces.
pub fn check_password(password: &str) -> Result<(), String> {
    if password.trim().chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!(
            "a password needs at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    Ok(())
}

/// A new random password of 20 letters and digits (about 119 bits), easy to type.
pub fn new_password() -> Result<String, String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let random = hex::decode(new_token()?).map_err(|e| e.to_string())?;
    Ok(random
        .iter()
        .take(20)
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect())
}

/// A hash to verify against when the name is unknown, so that the answer takes as long.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not a password of anyone").unwrap_or_default())
}

// ---------------------------------------------------------------------------------------------
// Limiting sign-in attempts

/// Failed sign-ins per key (a user name, or a client address), in memory: a restart forgets
/// them, which costs an attacker a restart of ours. Also bounds how many argon2 verifications
/// run at once (each takes 19 MiB and tens of milliseconds): a flood of sign-ins waits its turn
/// instead of taking the machine's memory.
#[derive(Debug)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
    pub hashing: tokio::sync::Semaphore,
}

/// Verifications at once.
const CONCURRENT_VERIFICATIONS: usize = 4;

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter {
            failures: Mutex::default(),
            hashing: tokio::sync::Semaphore::new(CONCURRENT_VERIFICATIONS),
        }
    }
}

impl LoginLimiter {
    /// `Some(wait)` when `key` has used up its attempts (`limit` within the window).
    pub fn blocked(&self, key: &str, limit: usize, now: Instant) -> Option<StdDuration> {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let list = map.get_mut(key)?;
        list.retain(|t| now.duration_since(*t) < FAILURE_WINDOW);
        if list.len() < limit {
            return None;
        }
        let oldest = list.first().copied()?;
        Some(FAILURE_WINDOW.saturating_sub(now.duration_since(oldest)))
    }

    pub fn fail(&self, key: &str, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            // Bounded memory under a flood of made-up names: forget the old.
            map.retain(|_, l| {
                l.last()
                    .is_some_and(|t| now.duration_since(*t) < FAILURE_WINDOW)
            });
        }
        map.entry(key.to_string()).or_default().push(now);
    }

    pub fn clear(&self, key: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(key);
    }
}

// ---------------------------------------------------------------------------------------------
// Sessions

/// The session cookie's value, if the request has one.
fn session_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Compares two strings in time that depends only on their lengths.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Whether the request's `Origin` (when the browser sent one) is this site.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .unwrap_or("");
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

/// The user of a request's session cookie, with the CSRF check for state-changing methods.
/// `Ok(None)`: the request has no session cookie.
pub async fn session_user(
    state: &Arc<AppState>,
    parts: &Parts,
) -> Result<Option<Session>, ApiError> {
    let Some(id) = session_id(&parts.headers) else {
        return Ok(None);
    };
    let hash = token_hash(id);
    let now = state.clock.now();
    let store = state.store.clone();
    let session = tokio::task::spawn_blocking(move || store.session(&hash, now))
        .await
        .map_err(ApiError::internal)??
        .ok_or_else(|| ApiError::unauthorized("the session has ended: sign in again"))?;
    if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !same(sent, &session.csrf) || !same_origin(&parts.headers) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf",
                "this request needs the session's CSRF token (X-CSRF-Token) from this site",
            ));
        }
    }
    Ok(Some(session))
}

fn cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

// ---------------------------------------------------------------------------------------------
// Handlers

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    name: String,
    password: String,
}

async fn login(
    State(s): State<Arc<AppState>>,
    extensions: Extensions,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    // Forms of other sites cannot send JSON without a preflight this site never allows, and a
    // browser's Origin must be ours: no signing a victim in to an attacker's account.
    let json_body = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json_body || !same_origin(&headers) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "sign in from this site's page (a JSON body from the same origin)",
        ));
    }
    let req: Login = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("the body is not valid: {e}"),
        )
    })?;
    let name = req.name.trim().to_string();
    let name_key = format!("name:{}", name.to_lowercase());
    let addr_key = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| format!("addr:{}", a.ip()));
    let started = Instant::now();
    let wait = s
        .logins
        .blocked(&name_key, MAX_FAILURES, started)
        .or_else(|| {
            addr_key
                .as_deref()
                .and_then(|k| s.logins.blocked(k, MAX_FAILURES_PER_ADDRESS, started))
        });
    if let Some(wait) = wait {
        s.metrics.inc(&s.metrics.logins_refused);
        tracing::warn!("sign-in refused: too many failed attempts");
        let secs = wait.as_secs().max(1);
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!(
                "too many failed sign-ins; try again in {} minutes",
                secs.div_ceil(60)
            ),
        )
        .into_response();
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            response.headers_mut().insert("retry-after", v);
        }
        return Ok(response);
    }

    let _turn = s
        .logins
        .hashing
        .acquire()
        .await
        .map_err(ApiError::internal)?;
    let store = s.store.clone();
    let lookup = name.clone();
    let password = req.password;
    let user: Option<User> = tokio::task::spawn_blocking(move || {
        let found = store.password_hash(&lookup)?;
        let (user, hash) = match found {
            Some((user, Some(hash))) => (Some(user), hash),
            _ => (None, dummy_hash().to_string()),
        };
        let ok = verify_password(&password, &hash);
        Ok::<_, crate::store::StoreError>(user.filter(|_| ok))
    })
    .await
    .map_err(ApiError::internal)??;

    let Some(user) = user else {
        s.logins.fail(&name_key, started);
        if let Some(k) = &addr_key {
            s.logins.fail(k, started);
        }
        s.metrics.inc(&s.metrics.logins_refused);
        tracing::warn!("sign-in refused: unknown name or wrong password");
        return Err(ApiError::unauthorized("unknown name or wrong password"));
    };
    s.logins.clear(&name_key);

    let id = new_token().map_err(ApiError::internal)?;
    let csrf = new_token().map_err(ApiError::internal)?;
    let now = s.clock.now();
    let session = NewSession {
        id_hash: token_hash(&id),
        user: user.name.clone(),
        csrf: csrf.clone(),
        created_at: now,
        expires_at: now + Duration::hours(SESSION_HOURS),
    };
    let audit = AuditRecord {
        at: now,
        actor: user.name.clone(),
        action: "sign_in".into(),
        conversation_id: None,
        detail: None,
    };
    let store = s.store.clone();
    tokio::task::spawn_blocking(move || {
        store.create_session(&session)?;
        store.audit(&audit)
    })
    .await
    .map_err(ApiError::internal)??;
    tracing::info!(user = %user.name, "signed in");
    let mut response = Json(json!({
        "name": user.name,
        "role": user.role.as_str(),
        "departments": user.departments,
        "csrf": csrf,
    }))
    .into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, cookie(&s, &id, SESSION_HOURS * 3600));
    Ok(response)
}

async fn logout(State(s): State<Arc<AppState>>, parts: Parts) -> Result<Response, ApiError> {
    let session = match session_user(&s, &parts).await {
        Ok(session) => session,
        // Already ended or unknown: nothing to end but the cookie.
        Err(e) if e.status() == StatusCode::UNAUTHORIZED => None,
        Err(e) => return Err(e),
    };
    if let Some(session) = session {
        let hash = session_id(&parts.headers)
            .map(token_hash)
            .unwrap_or_default();
        let store = s.store.clone();
        tokio::task::spawn_blocking(move || store.delete_session(&hash))
            .await
            .map_err(ApiError::internal)??;
        tracing::info!(user = %session.user.name, "signed out");
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(SET_COOKIE, cookie(&s, "", 0));
    Ok(response)
}

/// Whether the browser is signed in, and whether this is the demo (the sign-in page then shows
/// the demo users).
async fn status(State(s): State<Arc<AppState>>, parts: Parts) -> Json<serde_json::Value> {
    let signed_in = matches!(session_user(&s, &parts).await, Ok(Some(_)));
    Json(json!({ "signed_in": signed_in, "demo": s.standin.is_some() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_salt_and_verify() {
        let a = hash_password("correct horse battery").unwrap();
        let b = hash_password("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "every hash has its own salt");
        assert!(verify_password("correct horse battery", &a));
        assert!(!verify_password("correct horse batterY", &a));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn short_passwords_are_refused_and_new_ones_are_random() {
        assert!(check_password("short").is_err());
        assert!(check_password("          x").is_err());
        assert!(check_password("long enough now").is_ok());
        let (a, b) = (new_password().unwrap(), new_password().unwrap());
        assert_eq!(a.chars().count(), 20);
        assert_ne!(a, b);
        assert!(check_password(&a).is_ok());
    }

    #[test]
    fn the_limiter_blocks_after_the_allowed_failures_and_forgets_after_the_window() {
        let l = LoginLimiter::default();
        let t0 = Instant::now();
        for i in 0..MAX_FAILURES {
            assert_eq!(l.blocked("k", MAX_FAILURES, t0), None, "attempt {i}");
            l.fail("k", t0);
        }
        let wait = l.blocked("k", MAX_FAILURES, t0 + StdDuration::from_secs(60));
        assert_eq!(wait, Some(FAILURE_WINDOW - StdDuration::from_secs(60)));
        assert_eq!(l.blocked("other", MAX_FAILURES, t0), None);
        assert_eq!(l.blocked("k", MAX_FAILURES, t0 + FAILURE_WINDOW), None);
        l.fail("j", t0);
        l.clear("j");
        assert_eq!(l.blocked("j", 1, t0), None);
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        assert_eq!(session_id(&h), None);
        h.insert(
            COOKIE,
            HeaderValue::from_static("a=1; triage_session=abc ; b=2"),
        );
        assert_eq!(session_id(&h), Some("abc"));
        h.insert(COOKIE, HeaderValue::from_static("triage_session="));
        assert_eq!(session_id(&h), None);
    }

    #[test]
    fn origins_must_be_this_site() {
        let mut h = HeaderMap::new();
        h.insert(HOST, HeaderValue::from_static("localhost:8080"));
        assert!(
            same_origin(&h),
            "no Origin header: not a cross-site browser request"
        );
        h.insert(ORIGIN, HeaderValue::from_static("http://localhost:8080"));
        assert!(same_origin(&h));
        h.insert(ORIGIN, HeaderValue::from_static("https://evil.example"));
        assert!(!same_origin(&h));
        h.insert(ORIGIN, HeaderValue::from_static("null"));
        assert!(!same_origin(&h));
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
