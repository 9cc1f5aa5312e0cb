//! The sender against a Graph API that takes its time: one slow send holds up only its own reply
//! (and the later replies of its conversation), and a stop with a backlog is quick and sends
//! nothing twice. Sends are held by the stand-in until the test releases them, so nothing here
//! depends on how fast the machine is.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::app::{envelope, text_message, wait_until, TestApp, SECRET, SENT_AT};
use serde_json::{json, Value};
use triage::channels::whatsapp::standin::{Fault, Recorded, StatusCallback};

/// An FAQ question: one reply each.
const QUESTION: &str = "ik wil een nieuw paspoort";

/// Sends the client gave up on or that failed: none, when the held send was still awaited.
fn retries(app: &TestApp) -> u64 {
    app.state.metrics.send_retries.load(Ordering::SeqCst)
}

/// One webhook with a question from each of `residents`.
fn questions(prefix: &str, residents: &[String]) -> Value {
    let contacts: Vec<Value> = residents
        .iter()
        .map(|r| json!({ "profile": { "name": "Fatima" }, "wa_id": r }))
        .collect();
    let messages: Vec<Value> = residents
        .iter()
        .enumerate()
        .map(|(i, r)| {
            json!({ "from": r, "id": format!("{prefix}{i}"), "timestamp": SENT_AT,
                    "type": "text", "text": { "body": QUESTION } })
        })
        .collect();
    envelope(json!({ "contacts": contacts, "messages": messages }))
}

fn residents(from: u64, n: u64) -> Vec<String> {
    (from..from + n).map(|i| format!("3161{i:07}")).collect()
}

/// The outbox row a recorded send was for (`biz_opaque_callback_data = "outbox:<id>"`).
fn outbox_id(r: &Recorded) -> String {
    r.body["biz_opaque_callback_data"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_held_send_does_not_hold_up_the_other_replies() {
    let app = TestApp::start().await;
    app.graph.inject(Fault::hold()).unwrap();
    let slow = "31600000001";
    let r = app.post(&text_message("wamid.SLOW", slow, QUESTION)).await;
    assert_eq!(r.status(), 200);
    wait_until("the first reply held at the API", || app.graph.held() == 1).await;

    // 50 residents ask while that send is under way: their replies do not wait for it.
    let others = residents(100, 50);
    let r = app.post(&questions("wamid.OTHER", &others)).await;
    assert_eq!(r.status(), 200);
    let sent = app.sent(50).await;
    assert_eq!(sent.len(), 50, "only the other replies went out");
    assert!(sent.iter().all(|m| m.to.as_deref() != Some(slow)));
    assert_eq!(app.graph.held(), 1, "the first send is still held");
    assert_eq!(
        retries(&app),
        0,
        "the held send was still awaited, not given up"
    );

    // Released, it is answered and recorded as sent, once.
    assert_eq!(app.graph.release(), 1);
    app.drain().await;
    let sent = app.graph.messages();
    assert_eq!(sent.len(), 51);
    assert_eq!(sent[50].to.as_deref(), Some(slow));
    assert_eq!(retries(&app), 0);
    assert_eq!(app.state.store.counts().unwrap().outbox_pending, 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replies_of_one_conversation_keep_their_order_when_the_first_is_slow() {
    let app = TestApp::start().await;
    app.graph.inject(Fault::hold()).unwrap();
    let resident = "31600000002";
    app.post(&text_message("wamid.A1", resident, QUESTION))
        .await;
    wait_until("the first reply held at the API", || app.graph.held() == 1).await;
    app.post(&text_message("wamid.A2", resident, QUESTION))
        .await;
    wait_until("the second reply queued", || {
        app.state.store.counts().unwrap().outbox_pending == 2
    })
    .await;

    // Another resident's reply, queued after the second one, goes out: the sender has passed
    // the second reply over, as its conversation has a send under way.
    let other = "31600000003";
    app.post(&text_message("wamid.B1", other, QUESTION)).await;
    let sent = app.sent(1).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to.as_deref(), Some(other));
    assert_eq!(retries(&app), 0, "the held send was still awaited");

    app.graph.release();
    wait_until("both replies of the conversation", || {
        app.graph.messages().len() == 3
    })
    .await;
    app.drain().await;
    let theirs: Vec<String> = app
        .graph
        .messages()
        .iter()
        .filter(|m| m.to.as_deref() == Some(resident))
        .map(outbox_id)
        .collect();
    assert_eq!(theirs.len(), 2);
    let ids: Vec<i64> = theirs
        .iter()
        .map(|o| o.trim_start_matches("outbox:").parse().unwrap())
        .collect();
    assert!(ids[0] < ids[1], "the earlier reply went first: {theirs:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_with_a_backlog_is_quick_and_a_restart_sends_each_reply_once() {
    const BACKLOG: u64 = 200;
    let app = TestApp::start().await;
    // Every send is held: none answers before the stop.
    app.graph.inject(Fault::hold().times(10_000)).unwrap();
    let r = app
        .post(&questions("wamid.Q", &residents(0, BACKLOG)))
        .await;
    assert_eq!(r.status(), 200);
    wait_until("the replies queued and sends under way", || {
        app.state.store.counts().unwrap().outbox_pending == BACKLOG as i64 && app.graph.held() > 0
    })
    .await;

    // The stop lets the held sends go within its drain deadline instead of waiting for the
    // client's timeout per batch (which took 40 s here) and takes nothing new.
    let graph = app.graph.clone();
    let stopped = tokio::time::timeout(Duration::from_secs(20), app.stop()).await;
    let (dir, graph_back, running) = stopped.expect("the stop returns within seconds");
    let held = graph.held();
    assert!(held > 0);
    assert!(graph.messages().is_empty(), "nothing was answered yet");

    // The restart: the held sends are answered now (the API had them), and their status
    // webhooks reach the new service and settle their rows; the rest is sent.
    graph_back.clear_faults();
    let app = TestApp::start_with(dir, graph_back, running).await;
    app.graph.set_status_callback(Some(StatusCallback::new(
        format!("{}/webhook", app.base),
        SECRET,
    )));
    assert_eq!(app.graph.release(), held);
    wait_until("every reply at the API", || {
        app.graph.messages().len() as u64 == BACKLOG
    })
    .await;
    wait_until("the status webhooks of the held sends", || {
        let s = app.graph.callback_stats();
        s.in_flight == 0 && s.delivered >= 2 * held
    })
    .await;
    // Past the send grace: a row still `sending` now would be sent a second time.
    app.set_clock("2026-11-27T19:35:00+01:00").await;
    app.drain().await;
    app.drain().await;

    let mut per_row: BTreeMap<String, usize> = BTreeMap::new();
    for m in app.graph.messages() {
        *per_row.entry(outbox_id(&m)).or_default() += 1;
    }
    let twice: Vec<_> = per_row.iter().filter(|(_, &n)| n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    assert_eq!(per_row.len() as u64, BACKLOG);
    let counts = app.state.store.counts().unwrap();
    assert_eq!((counts.outbox_pending, counts.outbox_failed), (0, 0));
    app.stop().await;
}

/// The crash test's flake ("sent more than once: outbox:301"): the clock passed the send grace
/// while a send was still under way in this very process (a test clock moved, a wall clock
/// stepped forward, a machine resumed from suspend), and the recovery of interrupted sends took
/// that row back to `pending`, so the pool sent it a second time beside the first. A row this
/// process is still waiting on is not interrupted: the recovery leaves it alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_past_the_grace_does_not_resend_a_send_still_under_way() {
    let app = TestApp::start().await;
    app.graph.inject(Fault::hold()).unwrap();
    let slow = "31600000004";
    app.post(&text_message("wamid.HELD", slow, QUESTION)).await;
    wait_until("the reply held at the API", || app.graph.held() == 1).await;

    // Ten minutes on: well past the grace, within the client's timeout by the monotonic clock.
    app.set_clock("2026-11-27T19:40:00+01:00").await;
    // Another resident's reply goes out: the sender has been round its loop (and its recovery)
    // since the clock moved.
    let other = "31600000005";
    app.post(&text_message("wamid.AFTER", other, QUESTION))
        .await;
    wait_until("the other reply", || {
        app.graph
            .messages()
            .iter()
            .any(|m| m.to.as_deref() == Some(other))
    })
    .await;
    // (No drain here: a sending round ends only when nothing is under way.)
    assert_eq!(app.graph.held(), 1, "the first send is still held");
    assert_eq!(retries(&app), 0, "the held send is still awaited");

    assert_eq!(app.graph.release(), 1);
    wait_until("the held reply recorded", || {
        app.state.store.counts().unwrap().outbox_pending == 0
    })
    .await;
    app.drain().await;
    let to_slow: Vec<String> = app
        .graph
        .messages()
        .iter()
        .filter(|m| m.to.as_deref() == Some(slow))
        .map(outbox_id)
        .collect();
    assert_eq!(to_slow.len(), 1, "sent more than once: {to_slow:?}");
    app.stop().await;
}
