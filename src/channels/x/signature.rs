//! Proof that a request came from X, as the Account Activity API's "Securing webhooks" guide
//! describes it: both use HMAC-SHA256 keyed with the app's consumer secret, base64-encoded and
//! prefixed with `sha256=`.
//!
//! - The Challenge-Response Check: a `GET ?crc_token=…` (at registration and then periodically)
//!   is answered with `{"response_token": "sha256=<base64 HMAC of the token>"}`
//!   ([`crc_response_token`]).
//! - Every `POST` carries `x-twitter-webhooks-signature: sha256=<base64 HMAC of the raw body>`
//!   ([`verify_signature`]); the service answers a missing header with 401, any other mismatch
//!   with 403, and stores nothing.
//!
//! The comparison runs in constant time: the header is decoded and checked with
//! [`hmac::Mac::verify_slice`]. A small base64 codec lives here rather than another dependency.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The header every webhook `POST` carries.
pub const HEADER: &str = "x-twitter-webhooks-signature";

/// The prefix of the header value and of the CRC response token.
const PREFIX: &str = "sha256=";

/// Why a webhook signature was refused: [`SignatureError::Missing`] is answered with 401, the
/// others with 403; in every case nothing of the body is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// No `x-twitter-webhooks-signature` header.
    Missing,
    /// The header is not `sha256=` and the base64 of 32 bytes.
    Malformed,
    /// Well formed, but not the body's signature under our consumer secret.
    Mismatch,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureError::Missing => "missing `x-twitter-webhooks-signature` header",
            SignatureError::Malformed => "malformed `x-twitter-webhooks-signature` header",
            SignatureError::Mismatch => "webhook signature does not match the body",
        })
    }
}

impl std::error::Error for SignatureError {}

/// HMAC-SHA256 of `message` under `key`. HMAC takes keys of any length; the `None` branch only
/// exists because the trait is fallible.
fn mac(key: &[u8], message: &[u8]) -> Option<HmacSha256> {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).ok()?;
    mac.update(message);
    Some(mac)
}

/// `sha256=` and the base64 HMAC-SHA256 of `message` under `consumer_secret`: the
/// `x-twitter-webhooks-signature` value of a body, and the CRC `response_token` of a token.
///
/// ```
/// use triage::channels::x::{sign, verify_signature};
/// let header = sign(b"secret", b"{}");
/// assert!(header.starts_with("sha256=") && header.len() == 7 + 44);
/// assert_eq!(verify_signature(b"secret", b"{}", Some(&header)), Ok(()));
/// ```
pub fn sign(consumer_secret: &[u8], message: &[u8]) -> String {
    let digest = mac(consumer_secret, message)
        .map(|m| base64_encode(&m.finalize().into_bytes()))
        .unwrap_or_default();
    format!("{PREFIX}{digest}")
}

/// The `response_token` for a CRC request's `crc_token`.
pub fn crc_response_token(consumer_secret: &[u8], crc_token: &str) -> String {
    sign(consumer_secret, crc_token.as_bytes())
}

/// Checks a webhook `POST`'s `x-twitter-webhooks-signature` against the raw body bytes (before
/// any parsing). An empty consumer secret never matches.
pub fn verify_signature(
    consumer_secret: &[u8],
    raw_body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?.trim();
    let encoded = header
        .get(..PREFIX.len())
        .filter(|p| p.eq_ignore_ascii_case(PREFIX))
        .and_then(|_| header.get(PREFIX.len()..))
        .ok_or(SignatureError::Malformed)?;
    let given = base64_decode(encoded).ok_or(SignatureError::Malformed)?;
    if given.len() != 32 {
        return Err(SignatureError::Malformed);
    }
    if consumer_secret.is_empty() {
        return Err(SignatureError::Mismatch);
    }
    let mac = mac(consumer_secret, raw_body).ok_or(SignatureError::Mismatch)?;
    mac.verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 (RFC 4648, `+/`, with `=` padding), as X's signatures use it.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard padded base64; `None` for anything else (wrong length, characters, padding
/// or non-zero trailing bits).
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.as_bytes();
    if s.len() % 4 != 0 {
        return None;
    }
    let value = |c: u8| -> Option<u32> {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        Some(u32::from(v))
    };
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let quads = s.len() / 4;
    for (q, quad) in s.chunks(4).enumerate() {
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && q + 1 != quads) {
            return None;
        }
        let mut n = 0u32;
        for &c in &quad[..4 - pad] {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * pad as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let keep = 3 - pad;
        // The bits padding leaves over must be zero (one encoding per value).
        if bytes[keep..].iter().any(|&b| b != 0) {
            return None;
        }
        out.extend_from_slice(&bytes[..keep]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), encoded);
            assert_eq!(
                base64_decode(encoded).as_deref(),
                Some(plain.as_bytes()),
                "{encoded}"
            );
        }
        for bad in [
            "Zg=", "Zg===", "Z===", "Zh==", "Zm9v!A==", "Zg==Zg==", "=Zg=",
        ] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_crc_token_is_signed_like_the_documented_node_example() {
        // crypto.createHmac('sha256', 'secret').update('token').digest('base64'), as in X's
        // guide; the digest's hex is checked against the hmac crate directly.
        let token = crc_response_token(b"secret", "token");
        let raw = base64_decode(token.trim_start_matches("sha256=")).unwrap();
        let mut m = <HmacSha256 as KeyInit>::new_from_slice(b"secret").unwrap();
        m.update(b"token");
        assert_eq!(raw, m.finalize().into_bytes().to_vec());
        assert!(token.starts_with("sha256=") && token.ends_with('='));
    }

    #[test]
    fn signatures_are_refused_as_missing_malformed_or_mismatched() {
        let body = br#"{"for_user_id":"1"}"#;
        let good = sign(b"s", body);
        assert_eq!(verify_signature(b"s", body, Some(&good)), Ok(()));
        let upper = good.replacen("sha256=", "SHA256=", 1);
        assert_eq!(verify_signature(b"s", body, Some(&upper)), Ok(()));
        assert_eq!(
            verify_signature(b"s", body, None),
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
                verify_signature(b"s", body, Some(bad)),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
        assert_eq!(
            verify_signature(b"other", body, Some(&good)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(b"s", b"{}", Some(&good)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(b"", body, Some(&sign(b"", body))),
            Err(SignatureError::Mismatch),
            "an empty secret never matches"
        );
    }

    proptest! {
        #[test]
        fn base64_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            prop_assert_eq!(base64_decode(&base64_encode(&bytes)), Some(bytes));
        }

        #[test]
        fn any_header_is_refused_without_panicking(header in ".{0,80}", body in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert!(verify_signature(b"s", &body, Some(&header)).is_err());
        }
    }
}
