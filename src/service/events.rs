//! Live updates for the web application: server-sent events at `/api/events`.
//!
//! Whatever changes a conversation (a decision of the bot, an agent's action, a send's result)
//! publishes a [`Change`]: the conversation's id, the departments whose queues it touched and what
//! happened. Nothing else: no text, no number. The page then asks the API again for what it shows,
//! through the same access checks as always, so an event never reveals more than an id. An agent
//! receives the changes of their own departments only.
//!
//! A stream lasts as long as its user may listen: it checks its credentials again whenever users
//! or sessions change and every [`RECHECK`], and ends when the user was removed or the session
//! ended. A user has at most [`MAX_STREAMS_PER_USER`] streams open.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::stream;
use tokio::sync::{broadcast, watch};

use super::error::ApiError;
use super::state::AppState;
use crate::store::Role;

use super::live::StreamSlot;
pub use super::live::{Change, Live, MAX_STREAMS_PER_USER};

/// How often an open stream checks that its user and session still hold, besides whenever
/// accounts change in this process (a `triage user remove` from the command line is noticed
/// here).
const RECHECK: Duration = Duration::from_secs(15);

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/api/events", get(events))
}

/// Whether a user is told about a change: editors and admins of all, agents of their own
/// departments' only.
fn concerns(role: Role, departments: &[String], change: &Change) -> bool {
    role != Role::Agent || change.departments.iter().any(|d| departments.contains(d))
}

/// The request's credentials again, to check that they still hold.
fn credentials(headers: &HeaderMap) -> Parts {
    let (mut parts, ()) = axum::http::Request::new(()).into_parts();
    for name in [AUTHORIZATION, COOKIE] {
        for v in headers.get_all(&name) {
            parts.headers.append(name.clone(), v.clone());
        }
    }
    parts
}

async fn events(State(s): State<Arc<AppState>>, parts: Parts) -> Result<Response, ApiError> {
    let (user, _) = super::caller::user_of(&s, &parts).await?;
    let Some(slot) = s.live.open(&user.name) else {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_streams",
            format!("Hoogstens {MAX_STREAMS_PER_USER} live verbindingen per gebruiker: sluit een tabblad."),
        ));
    };
    let listener = Listener {
        state: s.clone(),
        credentials: credentials(&parts.headers),
        user,
        rx: s.live.subscribe(),
        stop: s.stopping.subscribe(),
        accounts: s.live.accounts(),
        recheck: tokio::time::interval_at(tokio::time::Instant::now() + RECHECK, RECHECK),
        _slot: slot,
    };
    let stream = stream::unfold(listener, |mut l| async move {
        let event = l.next().await?;
        Some((Ok::<_, std::convert::Infallible>(event), l))
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// One open stream: whose it is, how to check that it may go on, and what it listens to.
struct Listener {
    state: Arc<AppState>,
    credentials: Parts,
    user: crate::store::User,
    rx: broadcast::Receiver<Change>,
    stop: watch::Receiver<bool>,
    accounts: watch::Receiver<u64>,
    recheck: tokio::time::Interval,
    _slot: StreamSlot,
}

impl Listener {
    /// The next event for this user, or `None` when the stream ends.
    async fn next(&mut self) -> Option<Event> {
        enum Wake {
            Change(Result<Change, broadcast::error::RecvError>),
            Check,
            End,
        }
        loop {
            let wake = tokio::select! {
                r = self.rx.recv() => Wake::Change(r),
                _ = self.stop.wait_for(|stopping| *stopping) => Wake::End,
                changed = self.accounts.changed() => match changed {
                    Ok(()) => Wake::Check,
                    Err(_) => Wake::End,
                },
                _ = self.recheck.tick() => Wake::Check,
            };
            match wake {
                Wake::End | Wake::Change(Err(broadcast::error::RecvError::Closed)) => return None,
                Wake::Check => {
                    self.user = still_allowed(&self.state, &self.credentials).await?;
                }
                Wake::Change(Ok(change)) => {
                    if concerns(self.user.role, &self.user.departments, &change) {
                        let data = serde_json::to_string(&change).unwrap_or_default();
                        return Some(Event::default().event("change").data(data));
                    }
                }
                // Fell behind: the page reloads everything it shows.
                Wake::Change(Err(broadcast::error::RecvError::Lagged(_))) => {
                    return Some(Event::default().event("change").data("{\"what\":\"all\"}"));
                }
            }
        }
    }
}

/// The stream's user as the store has them now (departments may have changed), or `None` when
/// the user was removed or the session ended: the stream then ends.
async fn still_allowed(s: &Arc<AppState>, credentials: &Parts) -> Option<crate::store::User> {
    super::caller::user_of(s, credentials)
        .await
        .ok()
        .map(|(u, _)| u)
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
        assert!(
            !concerns(Role::Agent, &mine, &change(&[])),
            "a change names its departments, or no agent hears of it"
        );
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
