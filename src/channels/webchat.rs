//! The web chat on the municipality's own site: a widget that one script tag adds to any page
//! (`<script src="https://triage.example/webchat/widget.js" async></script>`), talking to the
//! visitor's API under `/webchat/`. Ours to design, so its facts are ours too: this file holds
//! the pure parts (no I/O, no clock).
//!
//! - A **visitor** is whoever holds a key the service issued ([`VISITOR_HEADER`], kept in the
//!   browser's `localStorage`): 128 random bits and a tag of them under the service's own key
//!   ([`keys`]), so nobody can make one up. The store never sees the key: the resident id is a
//!   hash of it ([`Keys::resident_of`]), so only the holder of the key can write as that visitor
//!   or read their conversation, and a copy of the database reads nobody's.
//! - A message carries the widget's own id ([`provider_id`]): sent twice (a retry after a lost
//!   answer), it is stored once.
//! - Only the sites on the allow-list ([`Origins`]) may use the API from a browser. A site with a
//!   Content Security Policy allows the service's origin in `script-src`, `style-src` (the
//!   widget's stylesheet is a file, never inline) and `connect-src`.
//!
//! # Layout
//! - [`adapter`]: the channel behind the seam: when it is on, its routes, and its sender (a reply
//!   is "sent" by marking it so and waking the visitor's stream).
//! - [`api`]: the visitor's API (session, send, history, live stream), the origin check and CORS,
//!   the widget's assets and the demo page.
//! - [`history`]: what a visitor sees of their conversation: replies once the outbox sent them,
//!   and the cursor a reconnecting widget catches up from.
//! - [`keys`]: the visitor keys the service issues and recognises (an HMAC of their random part).
//! - [`limits`]: requests per visitor and per address (an IPv6 address counts per /64), open
//!   streams per visitor, per address and in all: capped, expiring maps.
//! - `widget.js`, `widget.css`: the widget (plain JS in a shadow root, no build step);
//!   `demo.html`, `demo.css`: a placeholder municipal page that carries it.

pub mod adapter;
pub mod api;
pub mod history;
pub mod keys;
pub mod limits;

pub use keys::{Keys, KEY_HEX};

/// The request header with the visitor's key.
pub const VISITOR_HEADER: &str = "x-webchat-visitor";

/// Whether `id` may be a message's client id: 8 to 64 letters, digits, `-` or `_`.
pub fn valid_client_id(id: &str) -> bool {
    (8..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The provider id of a visitor's message: unique per visitor and client id, so one visitor's
/// ids never collide with another's (whose message would then be dropped as a duplicate).
pub fn provider_id(resident: &str, client_id: &str) -> String {
    let tail = resident.strip_prefix("webchat:").unwrap_or(resident);
    format!("webchat:{tail}:{client_id}")
}

/// The sites that may use the web chat from a browser, as origins (`https://www.terneuzen.nl`):
/// lower case, without a default port, without a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origins(Vec<String>);

impl Origins {
    /// The configured list (`[webchat] allowed_origins`); every entry must be an origin.
    pub fn parse(list: &[String]) -> Result<Origins, String> {
        let mut out = Vec::with_capacity(list.len());
        for entry in list {
            let o = normalize(entry).ok_or_else(|| {
                format!(
                    "webchat allowed_origins: `{entry}` is not an origin like https://www.terneuzen.nl (scheme and host, no path)"
                )
            })?;
            if !out.contains(&o) {
                out.push(o);
            }
        }
        Ok(Origins(out))
    }

    /// Demo mode: the service's own address (`http://{local}`, and `localhost` and `127.0.0.1`
    /// on its port), where the demo page is served.
    pub fn demo(local: std::net::SocketAddr) -> Origins {
        let port = local.port();
        let mut out = vec![
            format!("http://localhost:{port}"),
            format!("http://127.0.0.1:{port}"),
        ];
        if let Some(own) = normalize(&format!("http://{local}")) {
            if !out.contains(&own) {
                out.push(own);
            }
        }
        Origins(out)
    }

    /// Whether a request's `Origin` header names an allowed site.
    pub fn allows(&self, origin: &str) -> bool {
        normalize(origin).is_some_and(|o| self.0.contains(&o))
    }

    pub fn list(&self) -> &[String] {
        &self.0
    }
}

/// `scheme://host[:port]` in lower case, the default port left out; `None` for anything else
/// (a path, a query, `null`, `*`).
fn normalize(origin: &str) -> Option<String> {
    let origin = origin.trim();
    let (scheme, rest) = origin.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ', '*']) {
        return None;
    }
    let rest = rest.to_ascii_lowercase();
    let (host, port) = match rest.rsplit_once(':') {
        // An IPv6 address without a port (`[::1]`) has colons of its own.
        Some((h, p)) if !p.contains(']') => (h.to_string(), Some(p.to_string())),
        _ => (rest.clone(), None),
    };
    let host_ok = if let Some(inner) = host.strip_prefix('[') {
        inner
            .strip_suffix(']')
            .is_some_and(|a| a.parse::<std::net::Ipv6Addr>().is_ok())
    } else {
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    };
    if !host_ok {
        return None;
    }
    match port {
        Some(p) if p.parse::<u16>().is_err() => None,
        Some(p) if p == default_port => Some(format!("{scheme}://{host}")),
        Some(p) => Some(format!("{scheme}://{host}:{p}")),
        None => Some(format!("{scheme}://{host}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_short_and_plain() {
        assert!(valid_client_id("a1b2c3d4"));
        assert!(valid_client_id(&"x".repeat(64)));
        assert!(!valid_client_id("short"));
        assert!(!valid_client_id(&"x".repeat(65)));
        assert!(!valid_client_id("a1b2c3d4:e5"));
        assert_eq!(
            provider_id("webchat:00ff00ff00ff00ff", "abcdefgh"),
            "webchat:00ff00ff00ff00ff:abcdefgh"
        );
    }

    #[test]
    fn origins_are_compared_as_browsers_send_them() {
        let o = Origins::parse(&[
            "https://www.Terneuzen.nl/".into(),
            "http://localhost:8080".into(),
            "https://www.terneuzen.nl:443".into(),
        ])
        .unwrap();
        assert_eq!(o.list().len(), 2);
        assert!(o.allows("https://www.terneuzen.nl"));
        assert!(o.allows("HTTPS://WWW.TERNEUZEN.NL"));
        assert!(o.allows("http://localhost:8080"));
        assert!(!o.allows("http://www.terneuzen.nl"), "another scheme");
        assert!(!o.allows("https://www.terneuzen.nl.evil.example"));
        assert!(!o.allows("https://evil.example"));
        assert!(!o.allows("null"));
        for bad in [
            "*",
            "terneuzen.nl",
            "https://www.terneuzen.nl/chat",
            "ftp://x.nl",
            "https://",
            "https://a:b",
        ] {
            assert!(Origins::parse(&[bad.to_string()]).is_err(), "{bad}");
        }
        let demo = Origins::demo("127.0.0.1:8080".parse().unwrap());
        assert!(demo.allows("http://localhost:8080"));
        assert!(demo.allows("http://127.0.0.1:8080"));
        assert!(!demo.allows("http://localhost:8081"));
        let v6 = Origins::parse(&["http://[::1]:9000".into()]).unwrap();
        assert!(v6.allows("http://[::1]:9000"));
    }
}
