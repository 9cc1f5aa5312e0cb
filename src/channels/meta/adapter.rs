//! Messenger and Instagram behind the channel seam: one adapter type for both (they are the same
//! Messenger Platform), parameterised by its [`Channel`]. The webhook (`GET` handshake, signed
//! `POST`s) at `/webhooks/messenger` and `/webhooks/instagram`, its payloads into the one inbound
//! model ([`super::inbound`]), replies as Send API bodies ([`super::outbound`]) through the
//! client ([`super::client`]), and in demo mode the Send API stand-in ([`super::standin`]).
//!
//! The account: `account_id` is the Facebook page id (Messenger) or the Instagram professional
//! account id (Instagram, with the Instagram API with Instagram Login:
//! `api_base = https://graph.instagram.com`); replies go to `{api_base}/{api_version}/{account_id}/messages`
//! with the page's (or Instagram's) access token, and what that account sends comes back as
//! echoes, never answered.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;

use super::client::{Client, DEFAULT_VERSION, TIMEOUT};
use super::standin::StandIn;
use crate::channel::Channel;
use crate::channels::signature::{self, META};
use crate::channels::{or_demo, Accepted, Adapter, Outgoing, Setup};
use crate::service::config::{AccountConfig, DEMO_APP_SECRET, DEMO_VERIFY_TOKEN};
use crate::service::state::AppState;

/// Meta documents no size for these webhooks; as for WhatsApp's, 3 MB.
pub const MAX_WEBHOOK_BYTES: usize = 3 * 1024 * 1024;

/// Messenger or Instagram direct messages.
pub struct Meta {
    channel: Channel,
    client: Client,
    app_secret: String,
    verify_token: String,
    account_id: String,
    standin: Option<StandIn>,
}

impl std::fmt::Debug for Meta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Meta")
            .field("channel", &self.channel)
            .field("client", &self.client)
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}

impl Meta {
    /// Messenger: on in demo mode (on its stand-in) and with `[messenger] access_token`.
    pub fn messenger(setup: &Setup<'_>) -> Result<Option<Meta>, String> {
        Meta::build(setup, Channel::Messenger)
    }

    /// Instagram: on in demo mode (on its stand-in) and with `[instagram] access_token`.
    pub fn instagram(setup: &Setup<'_>) -> Result<Option<Meta>, String> {
        Meta::build(setup, Channel::Instagram)
    }

    /// The adapter of `channel` (Messenger or Instagram) as the configuration says: off without
    /// an access token outside demo mode; an error when a setting it needs is missing.
    pub fn build(setup: &Setup<'_>, channel: Channel) -> Result<Option<Meta>, String> {
        let (a, demo_account): (&AccountConfig, &str) = match channel {
            Channel::Messenger => (&setup.config.messenger, "demo-page-id"),
            Channel::Instagram => (&setup.config.instagram, "demo-instagram-id"),
            other => return Err(format!("the Meta adapter does not serve {}", other.title())),
        };
        let name = channel.as_str().to_ascii_uppercase();
        let version = if a.api_version.trim().is_empty() {
            DEFAULT_VERSION
        } else {
            a.api_version.as_str()
        };
        if setup.config.demo() {
            let token = setup
                .demo_token
                .ok_or_else(|| format!("{name}: demo mode needs the stand-in's token"))?;
            let account_id = or_demo(&a.account_id, demo_account);
            let base = format!("http://{}/standin/{}", setup.local, channel.as_str());
            let client = Client::new(channel, &base, version, &account_id, token, TIMEOUT)?;
            return Ok(Some(Meta {
                channel,
                client,
                app_secret: or_demo(&a.app_secret, DEMO_APP_SECRET),
                verify_token: or_demo(&a.verify_token, DEMO_VERIFY_TOKEN),
                account_id,
                standin: Some(StandIn::requiring_token(channel, token)),
            }));
        }
        if a.access_token.is_empty() {
            return Ok(None);
        }
        for (setting, value) in [
            ("APP_SECRET", &a.app_secret),
            ("VERIFY_TOKEN", &a.verify_token),
            ("API_BASE", &a.api_base),
            ("ACCOUNT_ID", &a.account_id),
        ] {
            if value.trim().is_empty() {
                return Err(format!(
                    "{name}_{setting} is needed with {name}_ACCESS_TOKEN ([{}] {} in triage.toml)",
                    channel.as_str(),
                    setting.to_ascii_lowercase()
                ));
            }
        }
        // Anyone can sign a webhook with the publicly known demo secret.
        if a.app_secret == DEMO_APP_SECRET {
            return Err(format!(
                "{name}_APP_SECRET is the demo's public secret: use the app secret of the Meta app"
            ));
        }
        let client = Client::new(
            channel,
            &a.api_base,
            version,
            &a.account_id,
            &a.access_token,
            TIMEOUT,
        )?;
        Ok(Some(Meta {
            channel,
            client,
            app_secret: a.app_secret.clone(),
            verify_token: a.verify_token.clone(),
            account_id: a.account_id.clone(),
            standin: None,
        }))
    }

    /// The demo's stand-in of the Send API, if any.
    pub fn standin_handle(&self) -> Option<&StandIn> {
        self.standin.as_ref()
    }

    /// Where replies are posted.
    pub fn send_url(&self) -> &str {
        self.client.url()
    }
}

impl Adapter for Meta {
    fn channel(&self) -> Channel {
        self.channel
    }

    fn routes(self: Arc<Self>) -> Router<Arc<AppState>> {
        let (channel, account_id) = (self.channel, self.account_id.clone());
        let parse = move |body: &[u8]| super::parse_webhook(channel, body, &account_id);
        let hook = signature::handshake(self.verify_token.clone())
            .merge(signature::receiver(
                channel,
                META,
                self.app_secret.clone(),
                parse,
            ))
            .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES));
        Router::new().route(&format!("/webhooks/{}", self.channel.as_str()), hook)
    }

    fn send(
        &self,
        out: Outgoing<'_>,
    ) -> BoxFuture<'static, Result<Accepted, crate::channels::Failure>> {
        let body = super::outbound::body(
            self.channel,
            &out.item.to,
            out.reply,
            out.permit,
            &out.callback,
        );
        let client = self.client.clone();
        let channel = self.channel;
        async move {
            let id = client.send(&body?).await?;
            Ok(Accepted {
                provider_id: super::inbound::provider_id(channel, &id),
            })
        }
        .boxed()
    }

    // `mark_read` stays the default: a Send API `sender_action: "mark_seen"` needs the resident's
    // page-scoped id, and the seam passes only the message's provider id.

    fn standin(&self) -> Option<Router> {
        self.standin.as_ref().map(StandIn::router)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::config::Config;

    fn setup<'a>(config: &'a Config, token: Option<&'a str>) -> Setup<'a> {
        Setup {
            config,
            local: "127.0.0.1:8080".parse().unwrap(),
            demo_token: token,
        }
    }

    #[test]
    fn demo_mode_runs_both_on_their_stand_ins() {
        let config = Config::default();
        assert!(config.demo());
        let m = Meta::messenger(&setup(&config, Some("run-token")))
            .unwrap()
            .unwrap();
        assert_eq!(
            m.send_url(),
            "http://127.0.0.1:8080/standin/messenger/v21.0/demo-page-id/messages"
        );
        assert_eq!(m.app_secret, DEMO_APP_SECRET);
        assert_eq!(m.verify_token, DEMO_VERIFY_TOKEN);
        assert!(m.standin().is_some());
        let i = Meta::instagram(&setup(&config, Some("run-token")))
            .unwrap()
            .unwrap();
        assert_eq!(i.channel(), Channel::Instagram);
        assert!(i
            .send_url()
            .ends_with("/standin/instagram/v21.0/demo-instagram-id/messages"));
        assert!(Meta::build(&setup(&config, Some("t")), Channel::X).is_err());
    }

    #[test]
    fn a_real_account_needs_its_secrets_and_never_the_demos() {
        let mut config = Config::default();
        config.messenger.access_token = "EAAG-page".into();
        assert!(!config.demo());
        let e = Meta::messenger(&setup(&config, None)).unwrap_err();
        assert!(e.contains("MESSENGER_APP_SECRET"), "{e}");
        config.messenger.app_secret = DEMO_APP_SECRET.into();
        config.messenger.verify_token = "v".into();
        config.messenger.api_base = "https://graph.facebook.com".into();
        let e = Meta::messenger(&setup(&config, None)).unwrap_err();
        assert!(e.contains("MESSENGER_ACCOUNT_ID"), "{e}");
        config.messenger.account_id = "1045".into();
        let e = Meta::messenger(&setup(&config, None)).unwrap_err();
        assert!(e.contains("public secret"), "{e}");
        config.messenger.app_secret = "s3cret".into();
        config.messenger.api_version = "v23.0".into();
        let m = Meta::messenger(&setup(&config, None)).unwrap().unwrap();
        assert_eq!(
            m.send_url(),
            "https://graph.facebook.com/v23.0/1045/messages"
        );
        assert!(m.standin().is_none());
        let shown = format!("{m:?}");
        assert!(
            !shown.contains("EAAG") && !shown.contains("s3cret"),
            "{shown}"
        );
        // Instagram has no token: off.
        assert!(Meta::instagram(&setup(&config, None)).unwrap().is_none());
        config.instagram.access_token = "IGQ".into();
        config.instagram.app_secret = "s".into();
        config.instagram.verify_token = "v".into();
        config.instagram.account_id = "1784".into();
        config.instagram.api_base = "graph.instagram.com".into();
        let e = Meta::instagram(&setup(&config, None)).unwrap_err();
        assert!(e.contains("INSTAGRAM_API_BASE"), "{e}");
    }
}
