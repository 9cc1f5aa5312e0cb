//! Tokens: new random ones, and the hash the store keeps of them. A leaf.

use sha2::{Digest, Sha256};

/// The longest user name.
pub const MAX_USER_NAME_CHARS: usize = 64;

/// The SHA-256 of a token, lower-case hex: what the store keeps.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random token: 32 bytes from `/dev/urandom`, hex.
pub fn new_token() -> Result<String, String> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("cannot read /dev/urandom: {e}"))?;
    Ok(hex::encode(bytes))
}
