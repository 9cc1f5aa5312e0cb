//! WhatsApp behind the channel seam: the webhook (`GET` handshake, signed `POST`s), its payloads
//! into the one inbound model, replies as Cloud API bodies through the Graph client, its error
//! codes into the sender's classes, and in demo mode the Graph API stand-in and the resident
//! simulator.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;

use super::graph::{Client, ClientConfig, SendError};
use super::incoming::inbox;
use super::standin::StandIn;
use super::ErrorAction;
use crate::channel::{Channel, Permit};
use crate::channels::signature::{self, META};
use crate::channels::{Accepted, Adapter, ErrorClass, Failure, Outgoing, Setup};
use crate::engine::Reply;
use crate::service::state::AppState;

/// WhatsApp allows webhook bodies of up to 3 MB.
pub const MAX_WEBHOOK_BYTES: usize = 3 * 1024 * 1024;

/// The WhatsApp channel.
pub struct WhatsApp {
    client: Client,
    app_secret: String,
    verify_token: String,
    phone_number_id: String,
    standin: Option<StandIn>,
}

impl WhatsApp {
    /// On in demo mode (on the stand-in) and with an access token; off otherwise.
    pub fn build(setup: &Setup<'_>) -> Result<Option<WhatsApp>, String> {
        let w = &setup.config.whatsapp;
        let demo = setup.config.demo();
        if !demo && w.access_token.is_empty() {
            return Ok(None);
        }
        let (client_config, standin) = match setup.demo_token {
            Some(token) if demo => (
                ClientConfig::new(
                    format!("http://{}/standin/whatsapp", setup.local),
                    w.phone_number_id.clone(),
                    token,
                ),
                Some(StandIn::requiring_token(token)),
            ),
            _ => {
                let mut c = ClientConfig::new(
                    w.api_base.clone(),
                    w.phone_number_id.clone(),
                    w.access_token.clone(),
                );
                c.version = w.api_version.clone();
                (c, None)
            }
        };
        let client = Client::new(client_config).map_err(|e| e.to_string())?;
        Ok(Some(WhatsApp {
            client,
            app_secret: setup.config.app_secret().to_string(),
            verify_token: setup.config.verify_token().to_string(),
            phone_number_id: w.phone_number_id.clone(),
            standin,
        }))
    }

    /// The demo's stand-in of the Graph API (what the simulator shows).
    pub fn standin_handle(&self) -> Option<&StandIn> {
        self.standin.as_ref()
    }
}

impl Adapter for WhatsApp {
    fn channel(&self) -> Channel {
        Channel::WhatsApp
    }

    fn routes(self: Arc<Self>) -> Router<Arc<AppState>> {
        let parse = |body: &[u8]| super::parse_webhook(body).map(|hook| inbox(&hook));
        let hook = signature::handshake(self.verify_token.clone())
            .merge(signature::receiver(
                Channel::WhatsApp,
                META,
                self.app_secret.clone(),
                parse,
            ))
            .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES));
        let mut r = Router::new()
            // `/webhook` is the address existing Meta apps were subscribed with.
            .route("/webhook", hook.clone())
            .route("/webhooks/whatsapp", hook);
        if let Some(standin) = &self.standin {
            r = r.merge(super::simulator::router(
                standin.clone(),
                self.phone_number_id.clone(),
            ));
        }
        r
    }

    fn send(&self, out: Outgoing<'_>) -> BoxFuture<'static, Result<Accepted, Failure>> {
        let body = body_for(&out);
        let client = self.client.clone();
        async move {
            let body = body?;
            match client.send(&body).await {
                Ok(ok) => Ok(Accepted {
                    provider_id: ok.message_id,
                }),
                Err(e) => Err(failure(&e)),
            }
        }
        .boxed()
    }

    fn mark_read(&self, provider_id: &str) -> Option<BoxFuture<'static, ()>> {
        let client = self.client.clone();
        let id = provider_id.to_string();
        Some(
            async move {
                if let Err(e) = client.mark_read(&id).await {
                    tracing::debug!(code = ?e.code, "mark as read failed");
                }
            }
            .boxed(),
        )
    }

    fn standin(&self) -> Option<Router> {
        self.standin.as_ref().map(StandIn::router)
    }
}

/// The Cloud API body for a reply, or why it must not go.
pub fn body_for(out: &Outgoing<'_>) -> Result<serde_json::Value, Failure> {
    let to = &out.item.to;
    let callback = Some(out.callback.as_str());
    match out.reply {
        Reply::Text { .. } if out.permit != Permit::Open => Err(Failure {
            class: ErrorClass::OutsideWindow,
            maybe_delivered: false,
            message: "outside the 24-hour window: free text cannot be sent; use a template".into(),
            retry_at: None,
        }),
        Reply::Text { text, buttons } if buttons.is_empty() => {
            Ok(super::text_body(to, text, callback))
        }
        Reply::Text { text, buttons } => {
            let pairs: Vec<(&str, &str)> = buttons
                .iter()
                .map(|b| (b.id.as_str(), b.title.as_str()))
                .collect();
            Ok(super::buttons_body(to, text, &pairs, callback))
        }
        Reply::Template {
            name,
            language,
            parameters,
        } => Ok(super::template_body(
            to, name, language, parameters, callback,
        )),
    }
}

/// A Graph client's error as the sender's class.
fn failure(e: &SendError) -> Failure {
    let action = match (e.code, e.http_status) {
        (Some(code), status) => super::classify(code, status.unwrap_or(400)),
        (None, Some(status)) => super::classify(0, status),
        // No answer: it may have arrived; the sender waits before it tries again.
        (None, None) => ErrorAction::Retry,
    };
    let class = match action {
        ErrorAction::RetryLater => ErrorClass::RetryLater,
        ErrorAction::Retry => ErrorClass::Retry,
        ErrorAction::OutsideWindow => ErrorClass::OutsideWindow,
        ErrorAction::Undeliverable | ErrorAction::Permanent => ErrorClass::GiveUp,
    };
    Failure {
        class,
        maybe_delivered: e.maybe_delivered(),
        message: format!(
            "{}{}",
            e.code.map(|c| format!("{c}: ")).unwrap_or_default(),
            e.message
        ),
        retry_at: None,
    }
}
