//! Visitor keys the service issues and recognises: 128 random bits and a tag of them,
//! `random ‖ HMAC-SHA256(server key, random)` truncated to 128 bits, as 64 hex digits. A key
//! without a valid tag is no key: a visitor cannot make up their own (which would make every
//! per-visitor limit meaningless), only ask for one (`POST /webchat/session`, limited per
//! address). The tag is checked in constant time ([`hmac::Mac::verify_truncated_left`]).
//!
//! The server key is 256 random bits made at the first start and kept in the store
//! ([`crate::store::Store::secret`]), not in a file beside the database: every replica on one
//! database accepts the keys any of them issued, a restored backup keeps visitors' keys valid,
//! and a future PostgreSQL store has no "beside". What a copy of the database gives away is
//! the power to mint keys, that is new empty visitors (what `POST /webchat/session` gives
//! anyone); it reads nobody's conversation, since the store keeps only a hash of each key.
//! The server key never appears in `Debug` output, errors or logs.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Hex digits in a visitor key: [`RANDOM_BYTES`] and [`TAG_BYTES`], hex.
pub const KEY_HEX: usize = 2 * (RANDOM_BYTES + TAG_BYTES);
/// The random part of a key.
pub const RANDOM_BYTES: usize = 16;
/// The tag's length (the left half of the HMAC-SHA256).
const TAG_BYTES: usize = 16;
/// The server key's length.
const SECRET_BYTES: usize = 32;

/// The name of the server key in the store.
pub const SECRET_NAME: &str = "webchat.visitor_keys";

/// The server key: issues visitor keys and recognises them.
#[derive(Clone)]
pub struct Keys {
    secret: [u8; SECRET_BYTES],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

impl Keys {
    /// The server key as the store keeps it (64 hex digits); `None` for anything else.
    pub fn from_hex(secret: &str) -> Option<Keys> {
        let bytes = hex::decode(secret.trim()).ok()?;
        Some(Keys {
            secret: bytes.try_into().ok()?,
        })
    }

    /// The store's server key, made (from `fresh`, 64 random hex digits) at the first start.
    pub fn load(
        store: &dyn crate::store::Store,
        fresh: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Keys, String> {
        let stored = store
            .secret(SECRET_NAME, fresh, now)
            .map_err(|e| format!("the web chat's key: {e}"))?;
        // The message names the secret, never its value.
        Keys::from_hex(&stored)
            .ok_or_else(|| format!("the stored secret `{SECRET_NAME}` is not 64 hex digits"))
    }

    /// The MAC of a key's random part (HMAC takes a key of any length: `None` never happens).
    fn mac(&self, random: &[u8]) -> Option<HmacSha256> {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.secret).ok()?;
        mac.update(b"triage-webchat-visitor\0");
        mac.update(random);
        Some(mac)
    }

    /// The visitor key made of `random` (fresh random bytes for every key).
    pub fn issue(&self, random: &[u8; RANDOM_BYTES]) -> Option<String> {
        let tag = self.mac(random)?.finalize().into_bytes();
        Some(format!(
            "{}{}",
            hex::encode(random),
            hex::encode(&tag[..TAG_BYTES])
        ))
    }

    /// The resident id of the visitor who holds `key`, if this service issued it: `webchat:` and
    /// the first 16 hex digits of a SHA-256 of the key; `None` for anything else (a key made up,
    /// one of another server key, anything that is no key).
    pub fn resident_of(&self, key: &str) -> Option<String> {
        if key.len() != KEY_HEX {
            return None;
        }
        let bytes = hex::decode(key).ok()?;
        let (random, tag) = bytes.split_at(RANDOM_BYTES);
        self.mac(random)?.verify_truncated_left(tag).ok()?;
        let digest = Sha256::digest(format!("triage-webchat\0{}", key.to_ascii_lowercase()));
        Some(format!("webchat:{}", &hex::encode(digest)[..16]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(fill: u8) -> Keys {
        Keys::from_hex(&hex::encode([fill; SECRET_BYTES])).unwrap()
    }

    #[test]
    fn an_issued_key_gives_a_stable_resident_id_that_does_not_contain_it() {
        let k = keys(7);
        let key = k.issue(&[1; RANDOM_BYTES]).unwrap();
        assert_eq!(key.len(), KEY_HEX);
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
        let r = k.resident_of(&key).unwrap();
        assert!(
            r.starts_with("webchat:") && r.len() == "webchat:".len() + 16,
            "{r}"
        );
        assert_eq!(k.resident_of(&key.to_ascii_uppercase()), Some(r.clone()));
        assert!(!r.contains(&key[..16]));
        let other = k.issue(&[2; RANDOM_BYTES]).unwrap();
        assert_ne!(k.resident_of(&other), Some(r));
    }

    #[test]
    fn a_key_made_up_or_of_another_server_key_is_no_key() {
        let k = keys(7);
        let key = k.issue(&[1; RANDOM_BYTES]).unwrap();
        assert_eq!(keys(8).resident_of(&key), None, "another server key");
        // One digit of the tag or of the random part changed.
        for at in [0, KEY_HEX - 1] {
            let mut b = key.clone().into_bytes();
            b[at] = if b[at] == b'0' { b'1' } else { b'0' };
            assert_eq!(k.resident_of(&String::from_utf8(b).unwrap()), None, "{at}");
        }
        for bad in [
            "",
            "0123",
            &"0".repeat(32),
            &"0".repeat(KEY_HEX),
            &"g".repeat(KEY_HEX),
            &format!("{key}0"),
            &key[..KEY_HEX - 2],
        ] {
            assert_eq!(k.resident_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_server_key_is_64_hex_digits_and_never_shown() {
        assert!(Keys::from_hex("abcd").is_none());
        assert!(Keys::from_hex(&"z".repeat(64)).is_none());
        let k = keys(0xab);
        assert_eq!(format!("{k:?}"), "Keys(..)");
    }
}
