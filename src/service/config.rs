//! The service's configuration: defaults that work on a fresh clone, then `triage.toml` when it
//! exists, then the environment. Secrets are never printed: `Debug` redacts them.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Everything `triage serve` needs.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on (`TRIAGE_LISTEN`).
    pub listen: SocketAddr,
    /// `sqlite:PATH` or a plain path (`TRIAGE_DATABASE_URL`).
    pub database_url: String,
    /// Directory with the flow files.
    pub flows: PathBuf,
    /// Directory with office-hours.yaml, privacy.yaml and departments.yaml.
    pub rules: PathBuf,
    /// Directory with the conversation tests (`TRIAGE_TESTS_DIR`): the editors' page checks
    /// them and writes the tests it learns from labelled questions there. Unset: beside the
    /// flows, as in the repository ([`Config::tests_dir`]).
    pub tests: Option<PathBuf>,
    /// Log lines as JSON (`TRIAGE_LOG_FORMAT=json`).
    pub log_json: bool,
    /// A production configuration refuses the test clock.
    pub production: bool,
    /// Session cookies only over HTTPS (`TRIAGE_SECURE_COOKIES`, default true). Browsers treat
    /// `localhost` as secure, so the demo works over plain HTTP there; turn it off only to use
    /// another address without TLS during development. Production refuses `false`.
    pub secure_cookies: bool,
    /// The reverse proxies in front of the service (`TRIAGE_TRUSTED_PROXIES`, addresses or
    /// ranges such as `127.0.0.1` or `10.0.0.0/8`, comma-separated): from them, and only from
    /// them, `X-Forwarded-For` names the client, whose address the sign-in limits count.
    pub trusted_proxies: Vec<IpRange>,
    /// Connections served at once; more are closed at once.
    pub max_connections: usize,
    /// Seconds for a request's head to arrive, and for an idle kept-alive connection.
    pub header_timeout_secs: u64,
    /// Seconds from a request's head to its answer (its body read included).
    pub request_timeout_secs: u64,
    /// How long each kind of personal data is kept (`[retention]`).
    pub retention: RetentionConfig,
    pub whatsapp: WhatsAppConfig,
    /// A Facebook page's Messenger (`MESSENGER_*`).
    pub messenger: AccountConfig,
    /// An Instagram professional account's direct messages (`INSTAGRAM_*`).
    pub instagram: AccountConfig,
    /// An X account's direct messages (`X_*`).
    pub x: AccountConfig,
    /// The web chat on the municipality's own site (`WEBCHAT_*`).
    pub webchat: WebChatConfig,
    /// Editing in the browser (`[editor]`).
    pub editor: EditorConfig,
}

/// Editing the flows in the browser (`[editor]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EditorConfig {
    /// `TRIAGE_PUBLISH_APPROVAL`: whether a publish needs a second editor's approval (four
    /// eyes): `none` (the default) or `required`.
    pub approval: Approval,
}

/// Whether a publish needs another editor's approval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    /// An editor publishes on their own.
    #[default]
    None,
    /// Another editor or admin (not the author) approves every publish and rollback.
    Required,
}

impl Approval {
    /// `none` or `required`.
    pub fn parse(s: &str) -> Option<Approval> {
        match s.trim() {
            "none" => Some(Approval::None),
            "required" => Some(Approval::Required),
            _ => None,
        }
    }
}

/// An account on a platform other than WhatsApp (`[messenger]`, `[instagram]`, `[x]`). The
/// channel is on when `access_token` is set (or in demo mode, on its stand-in); its adapter says
/// what else it needs.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountConfig {
    /// `<CHANNEL>_APP_SECRET`: the key of the webhook signatures (Meta's app secret; X's
    /// consumer secret).
    pub app_secret: String,
    /// `<CHANNEL>_VERIFY_TOKEN`: what Meta sends when the webhook is subscribed (not used by X).
    pub verify_token: String,
    /// `<CHANNEL>_ACCESS_TOKEN`: the token for sending (a page access token; X's user token).
    pub access_token: String,
    /// `<CHANNEL>_API_BASE`: the platform's API base URL (tests point it at a local server).
    pub api_base: String,
    /// `<CHANNEL>_API_VERSION`: Meta's Graph API version.
    pub api_version: String,
    /// `<CHANNEL>_ACCOUNT_ID`: our own account (the page id, the Instagram account id, the X user
    /// id); what it sends comes back as echoes, never answered.
    pub account_id: String,
}

/// The web chat widget (`[webchat]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebChatConfig {
    /// `WEBCHAT_ALLOWED_ORIGINS` (comma-separated): the sites that may embed the widget, as
    /// origins (`https://www.terneuzen.nl`). The web chat is on when there is one (in demo mode,
    /// the service's own address).
    pub allowed_origins: Vec<String>,
    /// `WEBCHAT_MESSAGES_PER_MINUTE`: what one visitor may send per minute.
    pub messages_per_minute: u32,
}

impl Default for WebChatConfig {
    fn default() -> Self {
        WebChatConfig {
            allowed_origins: Vec::new(),
            messages_per_minute: 12,
        }
    }
}

impl fmt::Debug for AccountConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountConfig")
            .field("app_secret", &redacted(&self.app_secret))
            .field("verify_token", &redacted(&self.verify_token))
            .field("access_token", &redacted(&self.access_token))
            .field("api_base", &self.api_base)
            .field("api_version", &self.api_version)
            .field("account_id", &self.account_id)
            .finish()
    }
}

/// Retention terms in days, applied by the scheduler at start and every hour; `0` keeps that
/// kind of data for good. The defaults, and why, are in the README ("Retention").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Message texts of conversations nobody is working on, counted from the message
    /// (`TRIAGE_RETENTION_MESSAGE_TEXTS_DAYS`).
    pub message_texts_days: u32,
    /// The bot's reasons kept with each decision (`TRIAGE_RETENTION_TRACES_DAYS`).
    pub traces_days: u32,
    /// Audit lines: who read or changed what (`TRIAGE_RETENTION_AUDIT_DAYS`).
    pub audit_days: u32,
    /// Sessions, counted from their expiry (`TRIAGE_RETENTION_SESSIONS_DAYS`).
    pub sessions_days: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            message_texts_days: 180,
            traces_days: 30,
            audit_days: 730,
            sessions_days: 1,
        }
    }
}

impl RetentionConfig {
    /// Where each term ends at `now`.
    pub fn cutoffs(&self, now: chrono::DateTime<chrono::Utc>) -> crate::store::RetentionCutoffs {
        let cut = |days: u32| (days > 0).then(|| now - chrono::Duration::days(i64::from(days)));
        crate::store::RetentionCutoffs {
            message_texts: cut(self.message_texts_days),
            traces: cut(self.traces_days),
            audit: cut(self.audit_days),
            sessions: cut(self.sessions_days),
        }
    }
}

/// An address or a range of addresses in CIDR notation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    net: IpAddr,
    prefix: u8,
}

impl IpRange {
    /// `10.0.0.0/8`, `::1`, `192.168.1.20`.
    pub fn parse(s: &str) -> Result<IpRange, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let net: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{s}` is not an address or a range like 10.0.0.0/8"))?;
        let bits = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(|| format!("`{s}`: the prefix length must be 0 to {bits}"))?,
        };
        Ok(IpRange { net, prefix })
    }

    pub fn contains(&self, a: IpAddr) -> bool {
        let a = match a {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(a, IpAddr::V4),
            v4 => v4,
        };
        let (net, a, bits) = match (self.net, a) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                (u128::from(n.to_bits()), u128::from(a.to_bits()), 32)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => (n.to_bits(), a.to_bits(), 128),
            _ => return false,
        };
        let host_bits = bits - u32::from(self.prefix);
        if host_bits >= 128 {
            return true;
        }
        (net >> host_bits) == (a >> host_bits)
    }
}

impl<'de> Deserialize<'de> for IpRange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        IpRange::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The WhatsApp Cloud API account. Without an access token the service runs in demo mode and
/// sends to its built-in stand-in of the Graph API.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WhatsAppConfig {
    /// `WHATSAPP_APP_SECRET`: the key of the webhook signatures.
    pub app_secret: String,
    /// `WHATSAPP_VERIFY_TOKEN`: what Meta sends when the webhook is subscribed.
    pub verify_token: String,
    /// `WHATSAPP_ACCESS_TOKEN`: the system user's token for sending.
    pub access_token: String,
    /// `WHATSAPP_API_BASE`: the Graph API base URL (tests point it at a local server).
    pub api_base: String,
    /// `WHATSAPP_API_VERSION`.
    pub api_version: String,
    /// `WHATSAPP_PHONE_NUMBER_ID`: the business number that sends.
    pub phone_number_id: String,
}

/// The secret and token the demo uses when none are configured; printed at start-up so that a
/// person can sign their own test webhooks.
pub const DEMO_APP_SECRET: &str = "demo-app-secret";
pub const DEMO_VERIFY_TOKEN: &str = "demo-verify-token";

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: "sqlite:data/triage.db".into(),
            flows: PathBuf::from("flows"),
            rules: PathBuf::from("rules"),
            tests: None,
            log_json: false,
            production: false,
            secure_cookies: true,
            trusted_proxies: Vec::new(),
            max_connections: 1024,
            header_timeout_secs: 10,
            request_timeout_secs: 30,
            retention: RetentionConfig::default(),
            whatsapp: WhatsAppConfig::default(),
            messenger: AccountConfig::default(),
            instagram: AccountConfig::default(),
            x: AccountConfig::default(),
            webchat: WebChatConfig::default(),
            editor: EditorConfig::default(),
        }
    }
}

impl Default for WhatsAppConfig {
    fn default() -> Self {
        WhatsAppConfig {
            app_secret: String::new(),
            verify_token: String::new(),
            access_token: String::new(),
            api_base: String::new(),
            api_version: "v21.0".into(),
            phone_number_id: "demo-phone-number-id".into(),
        }
    }
}

fn redacted(s: &str) -> &'static str {
    if s.is_empty() {
        "<unset>"
    } else {
        "<redacted>"
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database_url", &self.database_url)
            .field("flows", &self.flows)
            .field("rules", &self.rules)
            .field("tests", &self.tests)
            .field("log_json", &self.log_json)
            .field("production", &self.production)
            .field("secure_cookies", &self.secure_cookies)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("max_connections", &self.max_connections)
            .field("header_timeout_secs", &self.header_timeout_secs)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("retention", &self.retention)
            .field("whatsapp", &self.whatsapp)
            .field("messenger", &self.messenger)
            .field("instagram", &self.instagram)
            .field("x", &self.x)
            .field("webchat", &self.webchat)
            .field("editor", &self.editor)
            .finish()
    }
}

impl fmt::Debug for WhatsAppConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WhatsAppConfig")
            .field("app_secret", &redacted(&self.app_secret))
            .field("verify_token", &redacted(&self.verify_token))
            .field("access_token", &redacted(&self.access_token))
            .field("api_base", &self.api_base)
            .field("api_version", &self.api_version)
            .field("phone_number_id", &self.phone_number_id)
            .finish()
    }
}

impl Config {
    /// Defaults, then `file` if it exists (an explicitly named file must exist), then `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, String> {
        let (path, required) = match file {
            Some(p) => (p.to_path_buf(), true),
            None => (PathBuf::from("triage.toml"), false),
        };
        let mut config = match std::fs::read_to_string(&path) {
            Ok(text) => {
                toml::from_str::<Config>(&text).map_err(|e| format!("{}: {e}", path.display()))?
            }
            Err(e) if required || e.kind() != std::io::ErrorKind::NotFound => {
                return Err(format!("cannot read `{}`: {e}", path.display()))
            }
            Err(_) => Config::default(),
        };
        let w = &mut config.whatsapp;
        for (name, field) in [
            ("WHATSAPP_APP_SECRET", &mut w.app_secret),
            ("WHATSAPP_VERIFY_TOKEN", &mut w.verify_token),
            ("WHATSAPP_ACCESS_TOKEN", &mut w.access_token),
            ("WHATSAPP_API_BASE", &mut w.api_base),
            ("WHATSAPP_API_VERSION", &mut w.api_version),
            ("WHATSAPP_PHONE_NUMBER_ID", &mut w.phone_number_id),
            ("TRIAGE_DATABASE_URL", &mut config.database_url),
        ] {
            if let Some(v) = env(name).filter(|v| !v.is_empty()) {
                *field = v;
            }
        }
        for (prefix, a) in [
            ("MESSENGER", &mut config.messenger),
            ("INSTAGRAM", &mut config.instagram),
            ("X", &mut config.x),
        ] {
            for (name, field) in [
                ("APP_SECRET", &mut a.app_secret),
                ("VERIFY_TOKEN", &mut a.verify_token),
                ("ACCESS_TOKEN", &mut a.access_token),
                ("API_BASE", &mut a.api_base),
                ("API_VERSION", &mut a.api_version),
                ("ACCOUNT_ID", &mut a.account_id),
            ] {
                if let Some(v) = env(&format!("{prefix}_{name}")).filter(|v| !v.is_empty()) {
                    *field = v;
                }
            }
        }
        if let Some(v) = env("WEBCHAT_ALLOWED_ORIGINS").filter(|v| !v.is_empty()) {
            config.webchat.allowed_origins = v
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_string)
                .collect();
        }
        if let Some(v) = env("WEBCHAT_MESSAGES_PER_MINUTE").filter(|v| !v.is_empty()) {
            config.webchat.messages_per_minute = v
                .trim()
                .parse()
                .map_err(|_| format!("WEBCHAT_MESSAGES_PER_MINUTE `{v}` is not a number"))?;
        }
        if let Some(v) = env("TRIAGE_PUBLISH_APPROVAL").filter(|v| !v.is_empty()) {
            config.editor.approval = Approval::parse(&v)
                .ok_or_else(|| format!("TRIAGE_PUBLISH_APPROVAL `{v}` is `none` or `required`"))?;
        }
        if let Some(v) = env("TRIAGE_TESTS_DIR").filter(|v| !v.is_empty()) {
            config.tests = Some(PathBuf::from(v));
        }
        if let Some(v) = env("TRIAGE_LISTEN").filter(|v| !v.is_empty()) {
            config.listen = v.parse().map_err(|e| {
                format!("TRIAGE_LISTEN `{v}` is not an address like 127.0.0.1:8080: {e}")
            })?;
        }
        if let Some(v) = env("TRIAGE_LOG_FORMAT") {
            config.log_json = v.eq_ignore_ascii_case("json");
        }
        if let Some(v) = env("TRIAGE_PRODUCTION") {
            config.production = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = env("TRIAGE_SECURE_COOKIES").filter(|v| !v.is_empty()) {
            config.secure_cookies = !matches!(v.as_str(), "0" | "false" | "no");
        }
        if let Some(v) = env("TRIAGE_TRUSTED_PROXIES").filter(|v| !v.is_empty()) {
            config.trusted_proxies = v
                .split(',')
                .filter(|p| !p.trim().is_empty())
                .map(IpRange::parse)
                .collect::<Result<_, _>>()
                .map_err(|e| format!("TRIAGE_TRUSTED_PROXIES: {e}"))?;
        }
        let r = &mut config.retention;
        for (name, field) in [
            (
                "TRIAGE_RETENTION_MESSAGE_TEXTS_DAYS",
                &mut r.message_texts_days,
            ),
            ("TRIAGE_RETENTION_TRACES_DAYS", &mut r.traces_days),
            ("TRIAGE_RETENTION_AUDIT_DAYS", &mut r.audit_days),
            ("TRIAGE_RETENTION_SESSIONS_DAYS", &mut r.sessions_days),
        ] {
            if let Some(v) = env(name).filter(|v| !v.is_empty()) {
                *field = v.trim().parse().map_err(|_| {
                    format!("{name} `{v}` is not a number of days (0 keeps that data for good)")
                })?;
            }
        }
        if config.production && !config.secure_cookies {
            return Err(
                "a production configuration needs secure cookies (secure_cookies = true)".into(),
            );
        }
        Ok(config)
    }

    /// Demo mode: no channel has an account; every channel runs on its built-in stand-in. The
    /// one place that decides it.
    pub fn demo(&self) -> bool {
        self.whatsapp.access_token.is_empty()
            && self.messenger.access_token.is_empty()
            && self.instagram.access_token.is_empty()
            && self.x.access_token.is_empty()
            && self.webchat.allowed_origins.is_empty()
    }

    /// The webhook secret in force: the demo's only in demo mode, where nothing reaches WhatsApp.
    pub fn app_secret(&self) -> &str {
        if self.whatsapp.app_secret.is_empty() && self.demo() {
            DEMO_APP_SECRET
        } else {
            &self.whatsapp.app_secret
        }
    }

    pub fn verify_token(&self) -> &str {
        if self.whatsapp.verify_token.is_empty() && self.demo() {
            DEMO_VERIFY_TOKEN
        } else {
            &self.whatsapp.verify_token
        }
    }

    /// Where the conversation tests live: `tests`, else [`crate::convtest::DEFAULT_DIR`] beside
    /// the flows directory (the repository's layout, which `triage check` and `triage test`
    /// assume too).
    pub fn tests_dir(&self) -> PathBuf {
        match &self.tests {
            Some(dir) => dir.clone(),
            None => self
                .flows
                .parent()
                .unwrap_or_else(|| Path::new(""))
                .join(crate::convtest::DEFAULT_DIR),
        }
    }

    /// The SQLite file named by `database_url`, or an error for a database this build cannot use.
    pub fn sqlite_path(&self) -> Result<PathBuf, String> {
        let url = self.database_url.as_str();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Err(
                "PostgreSQL is not supported yet: use a SQLite file (`sqlite:data/triage.db`)"
                    .into(),
            );
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() {
            return Err("TRIAGE_DATABASE_URL is empty".into());
        }
        Ok(PathBuf::from(path))
    }

    /// Refuses settings that cannot work, before anything starts.
    pub fn validate(&self, test_clock: bool) -> Result<(), String> {
        if self.max_connections == 0
            || self.header_timeout_secs == 0
            || self.request_timeout_secs == 0
        {
            return Err(
                "max_connections, header_timeout_secs and request_timeout_secs must be above 0"
                    .into(),
            );
        }
        if test_clock && self.production {
            return Err("the test clock is refused in a production configuration".into());
        }
        if self.production && self.demo() {
            return Err(
                "production needs at least one channel's account (e.g. WHATSAPP_ACCESS_TOKEN)"
                    .into(),
            );
        }
        // With a real account, the publicly known demo secret would let anyone forge webhooks.
        let w = &self.whatsapp;
        if !w.access_token.is_empty() {
            if w.app_secret.is_empty() {
                return Err("WHATSAPP_APP_SECRET is needed with an access token".into());
            }
            if w.verify_token.is_empty() {
                return Err("WHATSAPP_VERIFY_TOKEN is needed with an access token".into());
            }
            if w.api_base.is_empty() {
                return Err("WHATSAPP_API_BASE is needed with an access token (e.g. https://graph.facebook.com)".into());
            }
            if w.app_secret == DEMO_APP_SECRET || w.verify_token == DEMO_VERIFY_TOKEN {
                return Err(
                    "WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN are the demo's public values: use the Meta app's own"
                        .into(),
                );
            }
        }
        self.sqlite_path().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_the_file_and_secrets_never_print() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("triage.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\n[whatsapp]\napp_secret = \"from-file\"\n",
        )
        .unwrap();
        let env = |k: &str| match k {
            "WHATSAPP_ACCESS_TOKEN" => Some("EAAG-secret-token".to_string()),
            "TRIAGE_LISTEN" => Some("127.0.0.1:9100".to_string()),
            _ => None,
        };
        let c = Config::load(Some(&file), env).unwrap();
        assert_eq!(c.listen.port(), 9100);
        assert_eq!(c.whatsapp.app_secret, "from-file");
        assert!(!c.demo());
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("EAAG-secret-token") && !shown.contains("from-file"),
            "{shown}"
        );
    }

    #[test]
    fn publish_approval_from_the_file_or_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("triage.toml");
        assert_eq!(Config::default().editor.approval, Approval::None);
        std::fs::write(&file, "[editor]\napproval = \"required\"\n").unwrap();
        let c = Config::load(Some(&file), |_| None).unwrap();
        assert_eq!(c.editor.approval, Approval::Required);
        let env = |k: &str| (k == "TRIAGE_PUBLISH_APPROVAL").then(|| "none".to_string());
        assert_eq!(
            Config::load(Some(&file), env).unwrap().editor.approval,
            Approval::None
        );
        let bad = |k: &str| (k == "TRIAGE_PUBLISH_APPROVAL").then(|| "ja".to_string());
        assert!(Config::load(Some(&file), bad)
            .unwrap_err()
            .contains("TRIAGE_PUBLISH_APPROVAL"));
    }

    #[test]
    fn fresh_clone_defaults_are_demo_mode_on_sqlite() {
        let c = Config::load(Some(Path::new("/nonexistent/triage.toml")), |_| None);
        assert!(c.is_err(), "a named file must exist");
        let c = Config::default();
        assert!(c.demo());
        assert_eq!(c.sqlite_path().unwrap(), PathBuf::from("data/triage.db"));
        assert!(c.validate(true).is_ok());
        let prod = Config {
            production: true,
            ..Config::default()
        };
        assert!(prod.validate(true).unwrap_err().contains("test clock"));
        assert!(prod.validate(false).is_err());
        // A real account without a webhook secret would accept webhooks signed with the demo's.
        let mut real = Config::default();
        real.whatsapp.access_token = "EAAG".into();
        real.whatsapp.api_base = "https://graph.facebook.com".into();
        assert!(real
            .validate(false)
            .unwrap_err()
            .contains("WHATSAPP_APP_SECRET"));
        assert_eq!(real.app_secret(), "");
        // Nor with the demo's public secret.
        real.whatsapp.app_secret = DEMO_APP_SECRET.into();
        real.whatsapp.verify_token = "v".into();
        assert!(real.validate(false).unwrap_err().contains("public"));
        real.whatsapp.app_secret = "s".into();
        assert!(real.validate(false).is_ok());
    }

    #[test]
    fn the_tests_live_beside_the_flows_unless_configured() {
        let at = |flows: &str| Config {
            flows: PathBuf::from(flows),
            ..Config::default()
        };
        assert_eq!(
            Config::default().tests_dir(),
            PathBuf::from("fixtures/conversations")
        );
        assert_eq!(
            at("/srv/triage/flows").tests_dir(),
            PathBuf::from("/srv/triage/fixtures/conversations")
        );
        let env = |k: &str| (k == "TRIAGE_TESTS_DIR").then(|| "/srv/tests".to_string());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("triage.toml");
        std::fs::write(&file, "tests = \"/srv/from-file\"\n").unwrap();
        assert_eq!(
            Config::load(Some(&file), |_| None).unwrap().tests_dir(),
            PathBuf::from("/srv/from-file")
        );
        assert_eq!(
            Config::load(Some(&file), env).unwrap().tests_dir(),
            PathBuf::from("/srv/tests")
        );
    }

    #[test]
    fn unknown_keys_in_the_file_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("triage.toml");
        std::fs::write(&file, "lisen = \"127.0.0.1:9000\"\n").unwrap();
        let e = Config::load(Some(&file), |_| None).unwrap_err();
        assert!(e.contains("lisen"), "{e}");
    }
}
