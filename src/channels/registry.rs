//! The registry: the channels the configuration turns on, each behind its adapter. Adding a
//! channel is one line in [`Channels::build`].

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use chrono::{DateTime, Utc};

use super::{meta, webchat, whatsapp, x, Adapter, Setup};
use crate::channel::Channel;
use crate::service::state::AppState;
use crate::store::Store;

/// The channels in use, by name.
#[derive(Clone, Default)]
pub struct Channels {
    adapters: BTreeMap<Channel, Arc<dyn Adapter>>,
}

impl std::fmt::Debug for Channels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.adapters.keys()).finish()
    }
}

impl Channels {
    /// The channels the configuration turns on: in demo mode, all of them, on their stand-ins.
    /// This is where channels are registered.
    pub fn build(setup: &Setup<'_>) -> Result<Channels, String> {
        let mut c = Channels::default();
        c.add(whatsapp::adapter::WhatsApp::build(setup)?);
        c.add(meta::adapter::Meta::messenger(setup)?);
        c.add(meta::adapter::Meta::instagram(setup)?);
        c.add(x::adapter::X::build(setup)?);
        c.add(webchat::adapter::WebChat::build(setup)?);
        Ok(c)
    }

    fn add<A: Adapter>(&mut self, adapter: Option<A>) {
        if let Some(a) = adapter {
            self.adapters.insert(a.channel(), Arc::new(a));
        }
    }

    /// A set of exactly these adapters (tests).
    pub fn of(adapters: Vec<Arc<dyn Adapter>>) -> Channels {
        Channels {
            adapters: adapters.into_iter().map(|a| (a.channel(), a)).collect(),
        }
    }

    /// The adapter of `channel`, when it is in use.
    pub fn get(&self, channel: Channel) -> Option<&Arc<dyn Adapter>> {
        self.adapters.get(&channel)
    }

    /// Every channel's [`Adapter::prepare`].
    pub fn prepare(&self, store: &dyn Store, now: DateTime<Utc>) -> Result<(), String> {
        self.adapters
            .values()
            .try_for_each(|a| a.prepare(store, now))
    }

    /// The channels in use.
    pub fn in_use(&self) -> Vec<Channel> {
        self.adapters.keys().copied().collect()
    }

    /// Every channel's webhook routes, and in demo mode their stand-ins.
    pub fn routes(&self) -> Router<Arc<AppState>> {
        let mut r = Router::new();
        for a in self.adapters.values() {
            r = r.merge(a.clone().routes());
        }
        r
    }

    /// The demo stand-ins, each under `/standin/<channel>`.
    pub fn standins(&self) -> Vec<(Channel, Router)> {
        self.adapters
            .values()
            .filter_map(|a| a.standin().map(|r| (a.channel(), r)))
            .collect()
    }
}
