//! The web chat behind the channel seam: on in demo mode (for the service's own address) and
//! when `[webchat] allowed_origins` names a site. Its "platform" is the visitor's browser, which
//! reads its replies from the store ([`super::api`]): sending a reply marks it delivered
//! (`webchat:out:<outbox id>`) and wakes the visitor's stream, so the bot's and the agents'
//! replies reach the visitor through the same durable outbox as on every channel, and only once
//! it has recorded them as sent. There is no platform to stand in for, so no stand-in.

use std::sync::Arc;

use axum::Router;
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use futures_util::FutureExt;

use super::api::{self, Shared};
use super::Origins;
use crate::channel::Channel;
use crate::channels::{Accepted, Adapter, ErrorClass, Failure, Outgoing, Setup};
use crate::engine::Reply;
use crate::service::state::AppState;
use crate::store::Store;

/// The web chat channel.
pub struct WebChat {
    shared: Arc<Shared>,
}

impl WebChat {
    /// On in demo mode and with allowed origins; off otherwise.
    pub fn build(setup: &Setup<'_>) -> Result<Option<WebChat>, String> {
        let c = &setup.config.webchat;
        let demo = setup.config.demo();
        if !demo && c.allowed_origins.is_empty() {
            return Ok(None);
        }
        if c.messages_per_minute == 0 {
            return Err("webchat messages_per_minute must be above 0".into());
        }
        let origins = if c.allowed_origins.is_empty() {
            Origins::demo(setup.local)
        } else {
            Origins::parse(&c.allowed_origins)?
        };
        tracing::info!(origins = ?origins.list(), "web chat on");
        Ok(Some(WebChat {
            shared: Arc::new(Shared::new(
                origins,
                c.messages_per_minute,
                demo,
                setup.config.max_connections / 2,
            )),
        }))
    }
}

impl Adapter for WebChat {
    fn channel(&self) -> Channel {
        Channel::WebChat
    }

    fn routes(self: Arc<Self>) -> Router<Arc<AppState>> {
        api::router(self.shared.clone())
    }

    /// The server key of the visitor keys, from the store (made at the first start).
    fn prepare(&self, store: &dyn Store, now: DateTime<Utc>) -> Result<(), String> {
        self.shared.prepare(store, now)
    }

    fn send(&self, out: Outgoing<'_>) -> BoxFuture<'static, Result<Accepted, Failure>> {
        let result = match out.reply {
            Reply::Text { .. } => {
                self.shared.wake(&out.item.to);
                Ok(Accepted {
                    provider_id: format!("webchat:out:{}", out.item.id),
                })
            }
            Reply::Template { .. } => Err(Failure {
                class: ErrorClass::GiveUp,
                maybe_delivered: false,
                message: "the web chat has no templates".into(),
                retry_at: None,
            }),
        };
        futures_util::future::ready(result).boxed()
    }
}
