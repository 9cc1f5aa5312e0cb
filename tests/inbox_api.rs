//! The inbox's API at volume, from the outside: a queue read a page at a time with search and
//! filters (server-side), "claim the next one", and the audited way to see a resident's number
//! for a call back. Each against department isolation.

mod common;

use common::app::{envelope, Setup, TestApp, ADMIN, SENT_AT};
use serde_json::{json, Value};

/// Tuesday 24 November 2026, 10:00 in Terneuzen: open.
const TUESDAY_MORNING: &str = "2026-11-24T10:00:00+01:00";

/// `n` residents at once in one webhook (as Meta batches them): resident `i` is number
/// `316000<base + i>` (zero-padded to 11 digits), named `name(i)`, writing `text(i)`.
fn batch(base: u64, n: u64, name: impl Fn(u64) -> String, text: impl Fn(u64) -> String) -> Value {
    let (mut contacts, mut messages) = (Vec::new(), Vec::new());
    for i in 0..n {
        let from = format!("316{:08}", base + i);
        contacts.push(json!({ "profile": { "name": name(i) }, "wa_id": from }));
        messages.push(json!({
            "from": from, "id": format!("wamid.I{}", base + i), "timestamp": SENT_AT,
            "type": "text", "text": { "body": text(i) }
        }));
    }
    envelope(json!({ "contacts": contacts, "messages": messages }))
}

fn ids(v: &Value) -> Vec<i64> {
    v["conversations"]
        .as_array()
        .unwrap_or_else(|| panic!("no conversations in {v}"))
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

async fn started() -> TestApp {
    let app = TestApp::start_setup(Setup::with_admin()).await;
    app.set_clock(TUESDAY_MORNING).await;
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_queue_is_read_a_page_at_a_time_and_searched_on_the_server() {
    let app = started().await;
    let kim = app.user("kim", "agent", &["kcc"]).await;
    // 120 residents at 10:00 (late by 11:30), then one more at 11:30 (on time).
    let r = app
        .post(&batch(
            1000,
            120,
            |i| format!("Inwoner {i}"),
            |i| format!("mijn buurman heeft een vraag over iets raars, geval {i}"),
        ))
        .await;
    assert_eq!(r.status(), 200);
    app.drain().await;
    app.set_clock("2026-11-24T11:30:00+01:00").await;
    let r = app
        .post(&batch(
            5000,
            1,
            |_| "Zeynep Kaya".into(),
            |_| "mijn buurman heeft een vraag over iets raars: zijn kanarie fluit".into(),
        ))
        .await;
    assert_eq!(r.status(), 200);
    app.drain().await;

    // The counts of the queue column, late ones included.
    let (status, q) = app.get_as(&kim, "/api/queues").await;
    assert_eq!(status, 200, "{q}");
    let kcc = q["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == "kcc")
        .unwrap()
        .clone();
    assert_eq!(
        (kcc["waiting"].as_u64(), kcc["late"].as_u64()),
        (Some(121), Some(120)),
        "{q}"
    );

    // A page of 50 by default, in the queue's order, with the total; the next page follows on.
    let (status, first) = app.get_as(&kim, "/api/queues/kcc").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["total"], 121);
    assert_eq!(first["limit"], 50);
    assert_eq!(ids(&first).len(), 50);
    let (_, second) = app.get_as(&kim, "/api/queues/kcc?offset=50&limit=50").await;
    let (_, third) = app
        .get_as(&kim, "/api/queues/kcc?offset=100&limit=50")
        .await;
    assert_eq!(ids(&third).len(), 21);
    let mut all: Vec<i64> = [ids(&first), ids(&second), ids(&third)].concat();
    assert_eq!(all.len(), 121);
    // The longest wait first: the newcomer is last, and nothing is listed twice.
    let newest = *all.last().unwrap();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 121);
    let (_, big) = app.get_as(&kim, "/api/queues/kcc?limit=100000").await;
    assert_eq!(big["limit"], 200, "a page has a ceiling");

    // By name, case-insensitively.
    let (_, found) = app.get_as(&kim, "/api/queues/kcc?q=zeynep").await;
    assert_eq!(
        (found["total"].as_u64(), ids(&found)),
        (Some(1), vec![newest]),
        "{found}"
    );
    // By the masked number's tail, as shown or as digits.
    let (_, found) = app.get_as(&kim, "/api/queues/kcc?q=******5000").await;
    assert_eq!(ids(&found), vec![newest], "{found}");
    assert_eq!(found["conversations"][0]["resident"], "******5000");
    let (_, found) = app.get_as(&kim, "/api/queues/kcc?q=5000").await;
    assert_eq!(ids(&found), vec![newest]);
    // The whole number matches nothing: the search is no way to test a number.
    let (_, found) = app.get_as(&kim, "/api/queues/kcc?q=31600005000").await;
    assert_eq!(found["total"], 0, "{found}");
    // By the words of a message.
    let (_, found) = app.get_as(&kim, "/api/queues/kcc?q=KANARIE").await;
    assert_eq!(ids(&found), vec![newest]);
    let (_, found) = app.get_as(&kim, "/api/queues/kcc?q=geval%2011").await;
    assert_eq!(found["total"], 10 + 1, "geval 11 and 110–119: {found}");
    // `%` and `_` are letters, not wildcards.
    let (_, found) = app.get_as(&kim, "/api/queues/kcc?q=%25").await;
    assert_eq!(found["total"], 0, "{found}");

    // Late only, and the other filters.
    let (_, late) = app
        .get_as(&kim, "/api/queues/kcc?late=true&limit=200")
        .await;
    assert_eq!(late["total"], 120);
    assert!(!ids(&late).contains(&newest));
    assert!(late["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["goal"] == "late"));
    let (_, on_channel) = app
        .get_as(&kim, "/api/queues/kcc?channel=whatsapp&q=zeynep")
        .await;
    assert_eq!(on_channel["total"], 1);
    assert_eq!(on_channel["conversations"][0]["channel"], "whatsapp");
    let (_, other) = app.get_as(&kim, "/api/queues/kcc?channel=webchat").await;
    assert_eq!(other["total"], 0);
    let (_, queued) = app.get_as(&kim, "/api/queues/kcc?state=queued").await;
    assert_eq!(queued["total"], 121);
    let (_, again) = app.get_as(&kim, "/api/queues/kcc?state=again").await;
    assert_eq!(again["total"], 0);

    // Bad input is a clear 400.
    for bad in [
        "state=lost",
        "late=maybe",
        "offset=-1",
        "colour=red",
        "channel=telegram",
    ] {
        let (status, e) = app.get_as(&kim, &format!("/api/queues/kcc?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {e}");
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let long = "a".repeat(101);
    let (status, _) = app.get_as(&kim, &format!("/api/queues/kcc?q={long}")).await;
    assert_eq!(status, 400);

    // Another department's agent finds nothing of it, also by searching.
    let bram = app.user("bram", "agent", &["burgerzaken"]).await;
    let (status, _) = app.get_as(&bram, "/api/queues/kcc?q=zeynep").await;
    assert_eq!(status, 403);
    let (status, own) = app.get_as(&bram, "/api/queues/burgerzaken?q=zeynep").await;
    assert_eq!((status, own["total"].as_u64()), (200, Some(0)));
    let (_, q) = app.get_as(&bram, "/api/queues").await;
    assert!(q["queues"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["id"] != "kcc"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claim_next_takes_the_longest_waiting_unclaimed_conversation_once() {
    let app = started().await;
    let kim = app.user("kim", "agent", &["kcc"]).await;
    let ann = app.user("ann", "agent", &["kcc"]).await;
    let bram = app.user("bram", "agent", &["burgerzaken"]).await;
    for (i, at) in ["10:00", "10:05", "10:10"].iter().enumerate() {
        app.set_clock(&format!("2026-11-24T{at}:00+01:00")).await;
        let r = app
            .post(&batch(
                2000 + i as u64,
                1,
                |_| format!("Inwoner {i}"),
                |_| "mijn buurman heeft een vraag over iets raars".into(),
            ))
            .await;
        assert_eq!(r.status(), 200);
        app.drain().await;
    }
    let (_, queue) = app.get_as(&kim, "/api/queues/kcc").await;
    let order = ids(&queue);
    assert_eq!(order.len(), 3);

    let (status, _) = app.post_as(&bram, "/api/queues/kcc/next", json!({})).await;
    assert_eq!(status, 403, "not bram's department");
    let (status, first) = app.post_as(&kim, "/api/queues/kcc/next", json!({})).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        (first["id"].as_i64(), first["agent"].as_str()),
        (Some(order[0]), Some("kim"))
    );
    // Two at once get two different ones.
    let (a, b) = tokio::join!(
        app.post_as(&kim, "/api/queues/kcc/next", json!({})),
        app.post_as(&ann, "/api/queues/kcc/next", json!({}))
    );
    assert_eq!((a.0, b.0), (200, 200), "{a:?} {b:?}");
    let mut got = vec![a.1["id"].as_i64().unwrap(), b.1["id"].as_i64().unwrap()];
    got.sort_unstable();
    let mut want = vec![order[1], order[2]];
    want.sort_unstable();
    assert_eq!(got, want);
    let (status, e) = app.post_as(&kim, "/api/queues/kcc/next", json!({})).await;
    assert_eq!(status, 404, "nobody left: {e}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_is_shown_for_a_call_back_only_on_purpose_and_audited() {
    let app = started().await;
    let kim = app.user("kim", "agent", &["kcc"]).await;
    let bram = app.user("bram", "agent", &["burgerzaken"]).await;
    let eva = app.user("eva", "editor", &[]).await;
    let r = app
        .post(&batch(
            7000,
            1,
            |_| "Fatima".into(),
            |_| "kunt u mij terugbellen over iets raars van de buurman".into(),
        ))
        .await;
    assert_eq!(r.status(), 200);
    app.drain().await;
    let (_, queue) = app.get_as(&kim, "/api/queues/kcc").await;
    let id = ids(&queue)[0];
    let path = format!("/api/conversations/{id}/number");

    // Never by default: the conversation and the queue show it masked.
    let (_, view) = app.get_as(&kim, &format!("/api/conversations/{id}")).await;
    assert_eq!(view["resident"], "******7000");
    assert!(!view.to_string().contains("31600007000"));

    // Refused: another department, an editor, no reason, an unknown reason.
    for (token, body, want) in [
        (&bram, json!({ "reason": "call_back" }), 403),
        (&eva, json!({ "reason": "call_back" }), 403),
        (&kim, json!({}), 400),
        (&kim, json!({ "reason": "curious" }), 400),
    ] {
        let (status, e) = app.post_as(token, &path, body.clone()).await;
        assert_eq!(status, want, "{body}: {e}");
        assert!(!e.to_string().contains("7000"), "{e}");
    }

    // Shown on purpose, never cached.
    let r = app
        .http
        .post(format!("{}{path}", app.base))
        .bearer_auth(&kim)
        .json(&json!({ "reason": "call_back" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["number"], "+31600007000");
    let (status, v) = app
        .post_as(ADMIN, &path, json!({ "reason": "urgent" }))
        .await;
    assert_eq!((status, v["number"].as_str()), (200, Some("+31600007000")));

    // Each time an audit line: who, which conversation, why; the number in none of them.
    let (_, view) = app.get_as(&kim, &format!("/api/conversations/{id}")).await;
    let shown: Vec<&Value> = view["audit"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "number_shown")
        .collect();
    assert_eq!(shown.len(), 2, "{view}");
    assert_eq!(shown[0]["actor"], "kim");
    assert_eq!(shown[0]["detail"], "reason: call_back");
    assert!(!view["audit"].to_string().contains("7000"));
    app.stop().await;
}
