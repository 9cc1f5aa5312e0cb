//! Proof that a webhook came from its platform, for every channel whose platform signs its
//! webhooks with HMAC-SHA256 over the raw body bytes:
//!
//! - Meta (WhatsApp, Messenger, Instagram): `X-Hub-Signature-256: sha256=<hex>` under the app
//!   secret ([`META`]), and the `hub.*` handshake that subscribes a webhook
//!   ([`verify_subscription`], [`handshake`]).
//! - X: `x-twitter-webhooks-signature: sha256=<base64>` under the consumer secret ([`X`]); its
//!   CRC answer is the same HMAC of the challenge token.
//!
//! [`receiver`] is the `POST` route of such a webhook: the signature first, then the channel's
//! parser, then [`intake::receive`]. A refused signature is answered 401 when there is none and
//! 403 otherwise ([`SignatureError::status`]), and nothing of the body is stored.
//!
//! Every comparison runs in constant time: a signature through [`hmac::Mac::verify_slice`], a
//! verify token by comparing HMACs of both tokens, so neither the content nor the length of the
//! expected value leaks through timing. An empty secret never matches.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::Inbox;
use crate::channel::Channel;
use crate::service::intake;
use crate::service::state::AppState;

type HmacSha256 = Hmac<Sha256>;

/// The prefix of a signature header's value (any case) and of X's CRC answer.
const PREFIX: &str = "sha256=";

/// Why a webhook signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// The request had no signature header.
    Missing,
    /// The header is not `sha256=` followed by the hex or base64 of 32 bytes.
    Malformed,
    /// Well formed, but not the body's signature under our secret.
    Mismatch,
}

impl SignatureError {
    /// The answer: 401 without a signature, 403 with a wrong one.
    pub fn status(self) -> StatusCode {
        match self {
            SignatureError::Missing => StatusCode::UNAUTHORIZED,
            SignatureError::Malformed | SignatureError::Mismatch => StatusCode::FORBIDDEN,
        }
    }
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureError::Missing => "missing signature header",
            SignatureError::Malformed => "malformed signature header",
            SignatureError::Mismatch => "webhook signature does not match the body",
        })
    }
}

impl std::error::Error for SignatureError {}

/// How the digest is written after `sha256=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// 64 hexadecimal digits, lowercase when we sign, any case when we check.
    Hex,
    /// Standard padded base64 (RFC 4648, `+/`), canonical only.
    Base64,
}

/// How a platform signs its webhooks: the header, and the digest's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheme {
    /// The header's name, as the refusal names it (looked up in any case).
    pub header: &'static str,
    encoding: Encoding,
}

/// Meta's `X-Hub-Signature-256: sha256=<hex>` (WhatsApp, Messenger, Instagram).
pub const META: Scheme = Scheme {
    header: "X-Hub-Signature-256",
    encoding: Encoding::Hex,
};

/// X's `x-twitter-webhooks-signature: sha256=<base64>`.
pub const X: Scheme = Scheme {
    header: "x-twitter-webhooks-signature",
    encoding: Encoding::Base64,
};

/// HMAC-SHA256 of `message` keyed with `key`.
///
/// HMAC accepts keys of any length (longer keys are hashed first), so the key can never be
/// refused; the `None` branch exists only because the trait signature is fallible.
fn mac(key: &[u8], message: &[u8]) -> Option<HmacSha256> {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).ok()?;
    mac.update(message);
    Some(mac)
}

impl Scheme {
    /// `sha256=` and the encoded HMAC-SHA256 of `message` under `secret`: the header value for
    /// a body (and, for X, the CRC `response_token` of a token).
    ///
    /// ```
    /// use triage::channels::signature::{SignatureError, META, X};
    /// let hex = META.sign(b"secret", b"{}");
    /// assert!(hex.starts_with("sha256=") && hex.len() == 7 + 64);
    /// assert_eq!(META.verify(b"secret", b"{}", Some(&hex)), Ok(()));
    /// let b64 = X.sign(b"secret", b"{}");
    /// assert!(b64.starts_with("sha256=") && b64.len() == 7 + 44);
    /// assert_eq!(X.verify(b"secret", b"{}", Some(&hex)), Err(SignatureError::Malformed));
    /// ```
    pub fn sign(&self, secret: &[u8], message: &[u8]) -> String {
        let digest = mac(secret, message)
            .map(|m| {
                let bytes = m.finalize().into_bytes();
                match self.encoding {
                    Encoding::Hex => hex::encode(bytes),
                    Encoding::Base64 => BASE64.encode(bytes),
                }
            })
            .unwrap_or_default();
        format!("{PREFIX}{digest}")
    }

    /// Checks a signature header against the raw body: exactly the bytes received, before any
    /// JSON parsing or re-encoding.
    pub fn verify(
        &self,
        secret: &[u8],
        raw_body: &[u8],
        header: Option<&str>,
    ) -> Result<(), SignatureError> {
        let header = header.ok_or(SignatureError::Missing)?.trim();
        let encoded = header
            .get(..PREFIX.len())
            .filter(|p| p.eq_ignore_ascii_case(PREFIX))
            .and_then(|_| header.get(PREFIX.len()..))
            .ok_or(SignatureError::Malformed)?;
        let given = match self.encoding {
            Encoding::Hex => hex::decode(encoded).ok(),
            Encoding::Base64 => BASE64.decode(encoded).ok(),
        };
        let given = given
            .filter(|d| d.len() == 32)
            .ok_or(SignatureError::Malformed)?;
        if secret.is_empty() {
            return Err(SignatureError::Mismatch);
        }
        let mac = mac(secret, raw_body).ok_or(SignatureError::Mismatch)?;
        mac.verify_slice(&given)
            .map_err(|_| SignatureError::Mismatch)
    }

    /// Why a request was refused, naming this scheme's header: the answer's body and the log's.
    pub fn refusal(&self, e: SignatureError) -> String {
        match e {
            SignatureError::Missing => format!("missing `{}` header", self.header),
            SignatureError::Malformed => format!("malformed `{}` header", self.header),
            SignatureError::Mismatch => e.to_string(),
        }
    }
}

/// The `POST` route of a signed webhook: the signature over the raw body under `secret`, then
/// `parse`, then [`intake::receive`]. A body that is signed but not understood is dropped with
/// a 200: any other answer only makes the platform send the same bytes again for days.
pub fn receiver<P, E>(
    channel: Channel,
    scheme: Scheme,
    secret: String,
    parse: P,
) -> MethodRouter<Arc<AppState>>
where
    P: Fn(&[u8]) -> Result<Inbox, E> + Clone + Send + Sync + 'static,
    E: fmt::Display,
{
    post(
        move |State(s): State<Arc<AppState>>, headers: HeaderMap, body: Bytes| async move {
            let started = Instant::now();
            let signature = headers.get(scheme.header).and_then(|v| v.to_str().ok());
            if let Err(e) = scheme.verify(secret.as_bytes(), &body, signature) {
                let why = scheme.refusal(e);
                return intake::refused(&s, channel, e.status(), &why, body.len());
            }
            let inbox = match parse(&body) {
                Ok(inbox) => inbox,
                Err(e) => return intake::not_understood(&s, channel, &e.to_string(), body.len()),
            };
            intake::receive(&s, channel, inbox, started).await
        },
    )
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

/// The query of Meta's subscription handshake.
#[derive(Debug, Deserialize)]
pub struct Subscribe {
    #[serde(rename = "hub.mode")]
    pub mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    pub token: Option<String>,
    #[serde(rename = "hub.challenge")]
    pub challenge: Option<String>,
}

impl Subscribe {
    /// The challenge with 200, or 403 ([`verify_subscription`]).
    pub fn answer(&self, verify_token: &str) -> Response {
        match verify_subscription(
            self.mode.as_deref(),
            self.token.as_deref(),
            self.challenge.as_deref(),
            verify_token,
        ) {
            Some(challenge) => (StatusCode::OK, challenge).into_response(),
            None => (StatusCode::FORBIDDEN, "verification refused").into_response(),
        }
    }
}

/// The `GET` route of Meta's subscription handshake, for `verify_token`.
pub fn handshake<S>(verify_token: String) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    get(move |Query(q): Query<Subscribe>| async move { q.answer(&verify_token) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn x_signs_the_crc_token_like_the_documented_node_example() {
        // crypto.createHmac('sha256', 'secret').update('token').digest('base64'), as in X's
        // guide; the digest is checked against the hmac crate directly.
        let token = X.sign(b"secret", b"token");
        let raw = BASE64.decode(token.trim_start_matches("sha256=")).unwrap();
        let mut m = <HmacSha256 as KeyInit>::new_from_slice(b"secret").unwrap();
        m.update(b"token");
        assert_eq!(raw, m.finalize().into_bytes().to_vec());
        assert!(token.starts_with("sha256=") && token.ends_with('='));
    }

    #[test]
    fn signatures_are_refused_as_missing_malformed_or_mismatched() {
        let body = br#"{"for_user_id":"1"}"#;
        for scheme in [META, X] {
            let good = scheme.sign(b"s", body);
            assert_eq!(scheme.verify(b"s", body, Some(&good)), Ok(()));
            let upper = good.replacen("sha256=", "SHA256=", 1);
            assert_eq!(scheme.verify(b"s", body, Some(&upper)), Ok(()));
            assert_eq!(
                scheme.verify(b"s", body, None),
                Err(SignatureError::Missing)
            );
            for bad in [
                "",
                "sha256=",
                "sha256=zz",
                "sha1=abc",
                &good[..good.len() - 4],
            ] {
                assert_eq!(
                    scheme.verify(b"s", body, Some(bad)),
                    Err(SignatureError::Malformed),
                    "{bad}"
                );
            }
            assert_eq!(
                scheme.verify(b"other", body, Some(&good)),
                Err(SignatureError::Mismatch)
            );
            assert_eq!(
                scheme.verify(b"s", b"{}", Some(&good)),
                Err(SignatureError::Mismatch)
            );
            assert_eq!(
                scheme.verify(b"", body, Some(&scheme.sign(b"", body))),
                Err(SignatureError::Mismatch),
                "an empty secret never matches"
            );
        }
    }

    #[test]
    fn only_canonical_padded_base64_is_read() {
        let good = X.sign(b"s", b"{}");
        let digest = &good[PREFIX.len()..];
        // 32 bytes are 43 digits and one `=`; the last digit carries 2 bits that must be zero.
        let last = digest.as_bytes()[42];
        let sloppy = format!("sha256={}{}=", &digest[..42], char::from(last ^ 1));
        for bad in [
            sloppy.as_str(),
            &format!("sha256={}", &digest[..43]),
            &format!("sha256={digest}="),
            &format!("sha256={}", digest.replace('=', "A")),
        ] {
            assert_eq!(
                X.verify(b"s", b"{}", Some(bad)),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn refusals_name_the_header_and_get_their_status() {
        assert_eq!(
            META.refusal(SignatureError::Missing),
            "missing `X-Hub-Signature-256` header"
        );
        assert_eq!(
            X.refusal(SignatureError::Malformed),
            "malformed `x-twitter-webhooks-signature` header"
        );
        assert_eq!(SignatureError::Missing.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(SignatureError::Mismatch.status(), StatusCode::FORBIDDEN);
    }

    proptest! {
        #[test]
        fn any_header_is_refused_without_panicking(header in ".{0,80}", body in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert!(META.verify(b"s", &body, Some(&header)).is_err());
            prop_assert!(X.verify(b"s", &body, Some(&header)).is_err());
        }
    }
}
