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
//! Sign-in attempts are limited per user name, per client address (the real one behind the
//! configured reverse proxies) and per both ([`LoginLimiter`]): one address guessing one name is
//! stopped after [`MAX_FAILURES`] for [`FAILURE_WINDOW`]; a name guessed from many addresses, or
//! one address trying many names, is slowed down (a wait doubling up to a minute) rather than
//! locked, so that an attacker cannot lock a real agent out. A name that does not exist costs the
//! same argon2 verification as one that does, so timing does not tell which names exist.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::header::{COOKIE, HOST, ORIGIN, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Duration;
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
pub use super::limiter::{LoginLimiter, FAILURE_WINDOW, MAX_FAILURES};
use super::limiter::{Rule, PER_ADDRESS, PER_NAME, PER_NAME_AND_ADDRESS};
use super::state::AppState;
use super::token::{new_token, token_hash};
use crate::store::{AuditRecord, NewSession, Session, User};

/// The session cookie's name over HTTPS: the `__Host-` prefix makes browsers refuse it unless it
/// is `Secure`, for this host only and for every path, so no other site or subdomain can set it.
pub const SESSION_COOKIE: &str = "__Host-triage_session";
/// Its name when secure cookies are turned off for plain-HTTP development (the prefix needs
/// `Secure`).
pub const SESSION_COOKIE_PLAIN: &str = "triage_session";

fn cookie_name(state: &AppState) -> &'static str {
    if state.config.secure_cookies {
        SESSION_COOKIE
    } else {
        SESSION_COOKIE_PLAIN
    }
}
/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a session lasts after sign-in: a working day.
pub const SESSION_HOURS: i64 = 12;
/// No password `triage user` hands out or takes is longer (argon2 would hash any length).
const MAX_PASSWORD_BYTES: usize = 1024;
/// A sign-in's body: a name and a password, as JSON.
const MAX_LOGIN_BODY_BYTES: usize = 4 * 1024;
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
        .layer(DefaultBodyLimit::max(MAX_LOGIN_BODY_BYTES))
        .layer(axum::middleware::map_response(super::error::json_errors))
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

/// The address a request comes from: the peer's, or, when the peer is one of the configured
/// reverse proxies, the nearest address in `X-Forwarded-For` that is not one of them. A client
/// cannot choose its address by sending that header itself: a header that did not pass a
/// trusted proxy is ignored.
pub fn client_address(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[super::config::IpRange],
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.iter().any(|r| r.contains(peer)) {
        return Some(peer);
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    // From the nearest hop outwards: trusted proxies are passed; the first other address is the
    // client. An entry that is no address was written by whoever sent it to the nearest proxy,
    // so that proxy's view (the last trusted hop) is the best known address.
    let mut client = peer;
    for entry in forwarded.iter().rev() {
        let Ok(a) = entry.parse::<IpAddr>() else {
            break;
        };
        client = a;
        if !trusted.iter().any(|r| r.contains(a)) {
            break;
        }
    }
    Some(client)
}

// ---------------------------------------------------------------------------------------------
// Sessions

/// The session cookie's value, if the request has one.
fn session_id<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Compares two strings in time that depends only on their lengths.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Whether the request's `Origin` (when the browser sent one) is this site: the same host, over
/// HTTPS, or over plain HTTP where that is how this site is reached (on the machine itself, or
/// with secure cookies turned off for development).
fn same_origin(headers: &HeaderMap, plain_http: bool) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let name = if host.ends_with(']') {
        host
    } else {
        host.rsplit_once(':').map_or(host, |(name, _port)| name)
    };
    let local = matches!(name, "localhost" | "127.0.0.1" | "[::1]");
    let origin_host = match origin.split_once("://") {
        Some(("https", h)) => h,
        Some(("http", h)) if plain_http || local => h,
        _ => return false,
    };
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

/// The user of a request's session cookie, with the CSRF check for state-changing methods.
/// `Ok(None)`: the request has no session cookie.
pub async fn session_user(
    state: &Arc<AppState>,
    parts: &Parts,
) -> Result<Option<Session>, ApiError> {
    let Some(id) = session_id(&parts.headers, cookie_name(state)) else {
        return Ok(None);
    };
    let hash = token_hash(id);
    let now = state.clock.now();
    let store = state.store.clone();
    let session = tokio::task::spawn_blocking(move || store.session(&hash, now))
        .await
        .map_err(ApiError::internal)??
        .ok_or_else(|| ApiError::unauthorized("Je sessie is verlopen. Meld je opnieuw aan."))?;
    if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !same(sent, &session.csrf) || !same_origin(&parts.headers, !state.config.secure_cookies)
        {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf",
                "Dit verzoek mist het CSRF-token van je sessie (X-CSRF-Token). Laad de pagina opnieuw.",
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
    let name = cookie_name(state);
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
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
    if !json_body || !same_origin(&headers, !s.config.secure_cookies) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "Meld je aan via de aanmeldpagina van deze site.",
        ));
    }
    let req: Login = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("Het verzoek klopt niet: {e}"),
        )
    })?;
    let name = req.name.trim().to_string();
    // No user has a longer name: refused before anything is counted or kept.
    if name.chars().count() > super::token::MAX_USER_NAME_CHARS
        || req.password.len() > MAX_PASSWORD_BYTES
    {
        s.metrics.inc(&s.metrics.logins_refused);
        return Err(ApiError::unauthorized(
            "Gebruikersnaam of wachtwoord klopt niet.",
        ));
    }
    let lower = name.to_lowercase();
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip());
    let address = client_address(peer, &headers, &s.config.trusted_proxies)
        .map(|a| a.to_string())
        .unwrap_or_default();
    let keys: [(&[&str], Rule, bool); 3] = [
        (&["name", &lower], PER_NAME, true),
        (
            &["name+address", &lower, &address],
            PER_NAME_AND_ADDRESS,
            true,
        ),
        (&["address", &address], PER_ADDRESS, false),
    ];
    let attempt = match s.logins.begin(&keys, s.clock.now()) {
        Ok(attempt) => attempt,
        Err(wait) => {
            s.metrics.inc(&s.metrics.logins_refused);
            tracing::warn!("sign-in refused: too many failed attempts");
            let secs = wait.as_secs().max(1);
            let when = if secs < 120 {
                format!("{secs} seconden")
            } else {
                format!("{} minuten", secs.div_ceil(60))
            };
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                format!(
                    "Te veel mislukte pogingen om aan te melden. Probeer het over {when} opnieuw."
                ),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert("retry-after", v);
            }
            return Ok(response);
        }
    };

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
        s.metrics.inc(&s.metrics.logins_refused);
        tracing::warn!("sign-in refused: unknown name or wrong password");
        return Err(ApiError::unauthorized(
            "Gebruikersnaam of wachtwoord klopt niet.",
        ));
    };
    s.logins.succeeded(attempt);

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
        let hash = session_id(&parts.headers, cookie_name(&s))
            .map(token_hash)
            .unwrap_or_default();
        let store = s.store.clone();
        tokio::task::spawn_blocking(move || store.delete_session(&hash))
            .await
            .map_err(ApiError::internal)??;
        tracing::info!(user = %session.user.name, "signed out");
        s.live.accounts_changed();
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(SET_COOKIE, cookie(&s, "", 0));
    Ok(response)
}

/// Whether the browser is signed in, and whether this is the demo (the sign-in page then shows
/// the demo users).
async fn status(State(s): State<Arc<AppState>>, parts: Parts) -> Json<serde_json::Value> {
    let signed_in = matches!(session_user(&s, &parts).await, Ok(Some(_)));
    Json(json!({ "signed_in": signed_in, "demo": s.demo() }))
}

#[cfg(test)]
mod tests {
    use super::super::limiter::MAX_KEYS;
    use super::*;
    use chrono::{DateTime, Utc};
    use std::time::Duration as StdDuration;

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

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn one_address_guessing_one_name_waits_out_the_window() {
        let l = LoginLimiter::default();
        let keys: [(&[&str], Rule, bool); 1] = [(&["k"], PER_NAME_AND_ADDRESS, true)];
        for i in 0..MAX_FAILURES {
            assert!(l.begin(&keys, at(0)).is_ok(), "attempt {i}");
        }
        assert_eq!(
            l.begin(&keys, at(60)).unwrap_err(),
            FAILURE_WINDOW - StdDuration::from_secs(60)
        );
        let window = FAILURE_WINDOW.as_secs() as i64;
        assert!(
            l.begin(&keys, at(window)).is_ok(),
            "forgotten after the window"
        );
        // A success forgets the name's failures.
        let ok = l
            .begin(&[(&["j"], PER_NAME_AND_ADDRESS, true)], at(0))
            .unwrap();
        l.succeeded(ok);
        assert_eq!(l.len(), 1, "`j` is forgotten, `k` is still counted");
    }

    #[test]
    fn a_name_from_many_places_is_slowed_not_locked() {
        let l = LoginLimiter::default();
        let keys: [(&[&str], Rule, bool); 1] = [(&["name", "bram"], PER_NAME, true)];
        for _ in 0..MAX_FAILURES {
            l.begin(&keys, at(0)).unwrap();
        }
        // Then one attempt after 1 s, 2 s, 4 s, ... at most a minute after the last failure.
        let mut t = 0;
        for wait in [1, 2, 4, 8, 16, 32, 60, 60, 60] {
            assert_eq!(l.begin(&keys, at(t)).unwrap_err().as_secs(), wait);
            t += wait as i64;
            l.begin(&keys, at(t)).unwrap();
        }
    }

    #[test]
    fn checking_and_counting_are_one_step_and_memory_is_capped() {
        let l = LoginLimiter::default();
        let keys: [(&[&str], Rule, bool); 1] = [(&["k"], PER_NAME_AND_ADDRESS, true)];
        // Sixty at the same instant: five let through, as one by one.
        let through = (0..60).filter(|_| l.begin(&keys, at(0)).is_ok()).count();
        assert_eq!(through, MAX_FAILURES);
        // Keys are hashes of a fixed size, and there are at most MAX_KEYS of them.
        let long = "x".repeat(1 << 10);
        for i in 0..(MAX_KEYS + 10) {
            let n = i.to_string();
            let _ = l.begin(&[(&[&long, &n], PER_NAME, true)], at(0));
        }
        assert_eq!(l.len(), MAX_KEYS);
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        use super::super::config::IpRange;
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let trusted = [IpRange::parse("10.0.0.0/8").unwrap()];
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("1.2.3.4, 198.51.100.7, 10.0.0.9"),
        );
        // From the proxy: the nearest address that is not a proxy.
        assert_eq!(
            client_address(Some(proxy), &h, &trusted),
            Some("198.51.100.7".parse().unwrap())
        );
        // From anyone else, or with no proxies configured: the header is the client's own say.
        let other: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(client_address(Some(other), &h, &trusted), Some(other));
        assert_eq!(client_address(Some(proxy), &h, &[]), Some(proxy));
        // A garbled header: the proxy's own address, never a made-up one.
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("not an address"),
        );
        assert_eq!(client_address(Some(proxy), &h, &trusted), Some(proxy));
        // Garbage the client put in front does not hide the address the proxy saw.
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("garbage, 198.51.100.7"),
        );
        assert_eq!(
            client_address(Some(proxy), &h, &trusted),
            Some("198.51.100.7".parse().unwrap())
        );
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        assert_eq!(session_id(&h, SESSION_COOKIE), None);
        h.insert(
            COOKIE,
            HeaderValue::from_static("a=1; __Host-triage_session=abc ; b=2"),
        );
        assert_eq!(session_id(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(session_id(&h, SESSION_COOKIE_PLAIN), None);
        h.insert(COOKIE, HeaderValue::from_static("__Host-triage_session="));
        assert_eq!(session_id(&h, SESSION_COOKIE), None);
    }

    #[test]
    fn origins_must_be_this_site() {
        let mut h = HeaderMap::new();
        h.insert(HOST, HeaderValue::from_static("localhost:8080"));
        assert!(
            same_origin(&h, false),
            "no Origin header: not a cross-site browser request"
        );
        h.insert(ORIGIN, HeaderValue::from_static("http://localhost:8080"));
        assert!(same_origin(&h, false), "plain HTTP on the machine itself");
        h.insert(ORIGIN, HeaderValue::from_static("https://evil.example"));
        assert!(!same_origin(&h, false));
        h.insert(ORIGIN, HeaderValue::from_static("null"));
        assert!(!same_origin(&h, false));
        // Elsewhere the scheme counts: behind the proxy the site is HTTPS.
        h.insert(HOST, HeaderValue::from_static("chat.terneuzen.nl"));
        h.insert(
            ORIGIN,
            HeaderValue::from_static("https://chat.terneuzen.nl"),
        );
        assert!(same_origin(&h, false));
        h.insert(ORIGIN, HeaderValue::from_static("http://chat.terneuzen.nl"));
        assert!(
            !same_origin(&h, false),
            "a plain-HTTP page is another origin"
        );
        assert!(same_origin(&h, true), "unless secure cookies are off");
        h.insert(ORIGIN, HeaderValue::from_static("ftp://chat.terneuzen.nl"));
        assert!(!same_origin(&h, true));
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
