//! Live updates for the web application: server-sent events at `/api/events`.
//!
//! Whatever changes a conversation (a decision of the bot, an agent's action, a send's result)
//! publishes a [`Change`]: the conversation's id, the departments whose queues it touched and what
//! happened. Nothing else: no text, no number. The page then asks the API again for what it shows,
//! through the same access checks as always, so an event never reveals more than an id. An agent
//! receives the changes of their own departments, and those without a department (a send's result
//! for a conversation they may have open).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures_util::stream::{self, Stream};
use serde::Serialize;
use tokio::sync::broadcast;

use super::api::Caller;
use super::app::AppState;
use crate::store::Role;

/// Changes buffered per subscriber; one that falls further behind is told to reload everything.
const BUFFER: usize = 1024;

/// One change of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub conversation: i64,
    /// The departments whose queues changed (two for a forward; none for a send's result).
    pub departments: Vec<String>,
    /// `decision`, `claim`, `reply`, `forward`, `resolve`, `reopen`, `note`, `sent`.
    pub what: &'static str,
}

/// The publisher every part of the service shares.
#[derive(Debug)]
pub struct Live {
    tx: broadcast::Sender<Change>,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            tx: broadcast::channel(BUFFER).0,
        }
    }
}

impl Live {
    /// Publishes a change; without subscribers it goes nowhere.
    pub fn publish(&self, change: Change) {
        let _ = self.tx.send(change);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.tx.subscribe()
    }
}

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/api/events", get(events))
}

/// Whether a user is told about a change.
fn concerns(role: Role, departments: &[String], change: &Change) -> bool {
    role != Role::Agent
        || change.departments.is_empty()
        || change.departments.iter().any(|d| departments.contains(d))
}

async fn events(
    State(s): State<Arc<AppState>>,
    caller: Caller,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let user = caller.0;
    let rx = s.live.subscribe();
    let stop = s.stopping.subscribe();
    let stream = stream::unfold((rx, stop), move |(mut rx, mut stop)| {
        let user = user.clone();
        async move {
            loop {
                let received = tokio::select! {
                    r = rx.recv() => r,
                    _ = stop.wait_for(|stopping| *stopping) => return None,
                };
                match received {
                    Ok(change) if concerns(user.role, &user.departments, &change) => {
                        let data = serde_json::to_string(&change).unwrap_or_default();
                        return Some((Ok(Event::default().event("change").data(data)), (rx, stop)));
                    }
                    Ok(_) => continue,
                    // Fell behind: the page reloads everything it shows.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        return Some((
                            Ok(Event::default().event("change").data("{\"what\":\"all\"}")),
                            (rx, stop),
                        ));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_hear_of_their_departments_only() {
        let change = |d: &[&str]| Change {
            conversation: 1,
            departments: d.iter().map(|s| s.to_string()).collect(),
            what: "decision",
        };
        let mine = vec!["burgerzaken".to_string()];
        assert!(concerns(Role::Agent, &mine, &change(&["burgerzaken"])));
        assert!(concerns(
            Role::Agent,
            &mine,
            &change(&["belastingen", "burgerzaken"])
        ));
        assert!(!concerns(Role::Agent, &mine, &change(&["belastingen"])));
        assert!(concerns(Role::Agent, &mine, &change(&[])));
        assert!(concerns(Role::Editor, &mine, &change(&["belastingen"])));
    }

    #[tokio::test]
    async fn published_changes_reach_subscribers() {
        let live = Live::default();
        live.publish(change_for_nobody());
        let mut rx = live.subscribe();
        live.publish(Change {
            conversation: 7,
            departments: vec![],
            what: "sent",
        });
        assert_eq!(rx.recv().await.unwrap().conversation, 7);
    }

    fn change_for_nobody() -> Change {
        Change {
            conversation: 0,
            departments: vec![],
            what: "sent",
        }
    }
}
