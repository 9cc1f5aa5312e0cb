//! Proof that a webhook came from Meta: the `X-Hub-Signature-256` header over the raw body,
//! and the `hub.verify_token` handshake that subscribes the webhook.
//!
//! Both comparisons run in constant time: the signature through [`hmac::Mac::verify_slice`],
//! the verify token by comparing HMACs of both tokens, so neither the content nor the length of
//! the expected token leaks through timing.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The prefix of the `X-Hub-Signature-256` header value.
const PREFIX: &str = "sha256=";

/// Why a webhook signature was refused.
///
/// The service answers [`SignatureError::Missing`] with 401 and the others with 403; in every
/// case nothing of the body is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// The request had no `X-Hub-Signature-256` header.
    Missing,
    /// The header is not `sha256=` followed by 64 hexadecimal digits.
    Malformed,
    /// The header is well formed but does not match the body and the app secret.
    Mismatch,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureError::Missing => "missing `X-Hub-Signature-256` header",
            SignatureError::Malformed => "malformed `X-Hub-Signature-256` header",
            SignatureError::Mismatch => "webhook signature does not match the body",
        })
    }
}

impl std::error::Error for SignatureError {}

/// HMAC-SHA256 of `body` keyed with `key`.
///
/// HMAC accepts keys of any length (longer keys are hashed first), so the key can never be
/// refused; the `None` branch exists only because the trait signature is fallible.
fn mac(key: &[u8], body: &[u8]) -> Option<HmacSha256> {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).ok()?;
    mac.update(body);
    Some(mac)
}

/// The `X-Hub-Signature-256` header value for `body`: `sha256=` and the lowercase hex HMAC.
///
/// ```
/// let header = triage::channels::whatsapp::sign(b"secret", b"{}");
/// assert!(header.starts_with("sha256=") && header.len() == 7 + 64);
/// assert_eq!(triage::channels::whatsapp::verify_signature(b"secret", b"{}", Some(&header)), Ok(()));
/// ```
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    let digest = mac(app_secret, body)
        .map(|m| hex::encode(m.finalize().into_bytes()))
        .unwrap_or_default();
    format!("{PREFIX}{digest}")
}

/// Checks the `X-Hub-Signature-256` header of a webhook POST against the raw body bytes.
///
/// The body must be exactly the bytes received, before any JSON parsing or re-encoding.
pub fn verify_signature(
    app_secret: &[u8],
    raw_body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?.trim();
    let hex_digest = header
        .get(..PREFIX.len())
        .filter(|p| p.eq_ignore_ascii_case(PREFIX))
        .and_then(|_| header.get(PREFIX.len()..))
        .ok_or(SignatureError::Malformed)?;
    let expected = hex::decode(hex_digest).map_err(|_| SignatureError::Malformed)?;
    if expected.len() != 32 {
        return Err(SignatureError::Malformed);
    }
    let mac = mac(app_secret, raw_body).ok_or(SignatureError::Mismatch)?;
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// The answer to Meta's subscription handshake
/// (`GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`).
///
/// Returns the challenge to echo with 200 when the mode is `subscribe` and the token equals
/// `expected`; `None` means 403. An empty `expected` token never matches, so a service without
/// a configured token cannot be subscribed by anyone.
pub fn verify_subscription(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&str>,
    expected: &str,
) -> Option<String> {
    if mode != Some("subscribe") || expected.is_empty() {
        return None;
    }
    let challenge = challenge?;
    // Compare HMACs of both tokens under a fixed key: constant time in content and length.
    const KEY: &[u8] = b"triage hub.verify_token";
    let given = mac(KEY, token?.as_bytes())?;
    let wanted = mac(KEY, expected.as_bytes())?.finalize().into_bytes();
    given.verify_slice(&wanted).ok()?;
    Some(challenge.to_owned())
}
