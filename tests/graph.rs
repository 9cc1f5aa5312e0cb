//! The Graph API client against the stand-in, over real HTTP on loopback.

use std::time::Duration;

use serde_json::{json, Value};
use triage::channels::whatsapp::graph::{Client, ClientConfig, ErrorKind, SendError};
use triage::channels::whatsapp::standin::{Fault, RecordedKind, Running, StandIn};

const TOKEN: &str = "EAAG-secret-token-42";
const PHONE_NUMBER_ID: &str = "106540352242922";

async fn start() -> (StandIn, Running) {
    let standin = StandIn::new();
    let running = standin.start().await.unwrap();
    (standin, running)
}

fn config(running: &Running) -> ClientConfig {
    ClientConfig::new(running.base_url(), PHONE_NUMBER_ID, TOKEN)
}

fn client(running: &Running) -> Client {
    Client::new(config(running)).unwrap()
}

fn text(to: &str, body: &str) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": { "preview_url": true, "body": body },
    })
}

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

async fn post_fault(running: &Running, fault: Value) -> reqwest::Response {
    http()
        .post(format!("{}/_standin/faults", running.base_url()))
        .json(&fault)
        .send()
        .await
        .unwrap()
}

async fn list(running: &Running, query: &str) -> Vec<Value> {
    let url = format!("{}/_standin/messages{query}", running.base_url());
    let resp = http().get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn a_text_is_accepted_with_a_wamid_and_recorded_as_sent() {
    let (standin, running) = start().await;
    let body = text(
        "31612345678",
        "Hoi! Je kunt je verhuizing doorgeven via DigiD 🙂",
    );
    let ok = client(&running).send(&body).await.unwrap();
    assert_eq!(ok.message_id, "wamid.STANDIN1");

    let sent = standin.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body, body);
    assert_eq!(sent[0].to.as_deref(), Some("31612345678"));
    assert_eq!(sent[0].phone_number_id, PHONE_NUMBER_ID);
    assert_eq!(sent[0].kind, RecordedKind::Message);
    assert_eq!(sent[0].message_id, ok.message_id);

    let second = client(&running)
        .send_json(text("31612345678", "nog een").to_string())
        .await
        .unwrap();
    assert_eq!(second.message_id, "wamid.STANDIN2");
    running.stop().await.unwrap();
}

#[tokio::test]
async fn the_answer_looks_like_the_cloud_api() {
    let (_standin, running) = start().await;
    let url = format!("{}/v21.0/{PHONE_NUMBER_ID}/messages", running.base_url());
    let resp = http()
        .post(url)
        .bearer_auth(TOKEN)
        .json(&text("31611111111", "hallo"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(
        v,
        json!({
            "messaging_product": "whatsapp",
            "contacts": [{ "input": "31611111111", "wa_id": "31611111111" }],
            "messages": [{ "id": "wamid.STANDIN1" }],
        })
    );
}

#[tokio::test]
async fn a_missing_token_is_a_401_with_a_graph_error_code() {
    let (standin, running) = start().await;
    let mut cfg = config(&running);
    cfg.access_token = String::new();
    let err = Client::new(cfg)
        .unwrap()
        .send(&text("31612345678", "hoi"))
        .await
        .unwrap_err();
    assert_eq!(err.http_status, Some(401));
    assert_eq!(err.code, Some(190));
    assert_eq!(err.kind, ErrorKind::Api);
    assert!(err.message.contains("access token"), "{}", err.message);
    assert!(standin.sent().is_empty());
}

#[tokio::test]
async fn a_wrong_token_is_refused_when_one_is_required() {
    let standin = StandIn::requiring_token(TOKEN);
    let running = standin.start().await.unwrap();
    let mut cfg = config(&running);
    cfg.access_token = "another-token".to_owned();
    let err = Client::new(cfg)
        .unwrap()
        .send(&text("31612345678", "hoi"))
        .await
        .unwrap_err();
    assert_eq!((err.http_status, err.code), (Some(401), Some(190)));
    client(&running)
        .send(&text("31612345678", "hoi"))
        .await
        .unwrap();
    assert_eq!(standin.sent().len(), 1);
}

#[tokio::test]
async fn an_injected_pair_rate_limit_fails_twice_then_the_send_succeeds() {
    let (standin, running) = start().await;
    let resp = post_fault(
        &running,
        json!({ "code": 131056, "http_status": 400, "count": 2 }),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(standin.pending_faults(), 2);

    let c = client(&running);
    let body = text("31612345678", "hoi");
    for _ in 0..2 {
        let err = c.send(&body).await.unwrap_err();
        assert_eq!(err.http_status, Some(400));
        assert_eq!(err.code, Some(131056));
        assert!(err.message.contains("pair rate limit"), "{}", err.message);
        assert!(err.details.is_some());
        assert!(!err.maybe_delivered());
    }
    assert!(standin.sent().is_empty(), "a refused send is not recorded");
    let ok = c.send(&body).await.unwrap();
    assert_eq!(ok.message_id, "wamid.STANDIN1");
    assert_eq!(standin.messages().len(), 1);
}

#[tokio::test]
async fn faults_queue_in_order_and_spare_read_receipts() {
    let (standin, running) = start().await;
    standin.inject(Fault::error(130429).times(1)).unwrap();
    standin
        .inject(Fault::error(131000).with_status(500))
        .unwrap();
    let c = client(&running);
    c.mark_read("wamid.INBOUND1").await.unwrap();
    let codes: Vec<(Option<u16>, Option<i64>)> =
        [c.send(&text("1", "a")).await, c.send(&text("1", "b")).await]
            .into_iter()
            .map(|r| r.map_err(|e| (e.http_status, e.code)).unwrap_err())
            .collect();
    assert_eq!(
        codes,
        [(Some(400), Some(130429)), (Some(500), Some(131000))]
    );
    c.send(&text("1", "c")).await.unwrap();
}

#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_an_error_without_status() {
    let (standin, running) = start().await;
    standin.inject(Fault::delay(1_500)).unwrap();
    let mut cfg = config(&running);
    cfg.timeout = Duration::from_millis(200);
    let c = Client::new(cfg).unwrap();
    let err = c.send(&text("31612345678", "hoi")).await.unwrap_err();
    assert_eq!(err.http_status, None);
    assert_eq!(err.code, None);
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert!(err.maybe_delivered());
    // The stand-in still processes it, as the real API may: the message shows up late.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while standin.messages().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(standin.messages().len(), 1);
    // The next send is not delayed.
    c.send(&text("31612345678", "weer")).await.unwrap();
}

#[tokio::test]
async fn a_dropped_connection_is_a_network_error_and_nothing_is_recorded() {
    let (standin, running) = start().await;
    let resp = post_fault(&running, json!({ "drop_connection": true })).await;
    assert_eq!(resp.status(), 200);
    let c = client(&running);
    let err = c.send(&text("31612345678", "hoi")).await.unwrap_err();
    assert_eq!(err.http_status, None, "{err:?}");
    assert_eq!(err.kind, ErrorKind::Network, "{err:?}");
    assert!(err.maybe_delivered());
    assert!(standin.sent().is_empty());
    // The same client recovers on a fresh connection.
    c.send(&text("31612345678", "hoi")).await.unwrap();
    assert_eq!(standin.sent().len(), 1);
}

#[tokio::test]
async fn no_server_is_a_connect_error() {
    let (_standin, running) = start().await;
    let cfg = config(&running);
    running.stop().await.unwrap();
    let err = Client::new(cfg)
        .unwrap()
        .send(&text("1", "a"))
        .await
        .unwrap_err();
    assert_eq!((err.http_status, err.kind), (None, ErrorKind::Connect));
    assert!(!err.maybe_delivered());
}

#[tokio::test]
async fn mark_read_posts_a_read_status() {
    let (standin, running) = start().await;
    client(&running)
        .mark_read("wamid.HBgLMzE2MTIzNDU2NzgVAgASGBQzQTdCRDQ1")
        .await
        .unwrap();
    let sent = standin.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, RecordedKind::Read);
    assert_eq!(sent[0].to, None);
    assert_eq!(
        sent[0].body,
        json!({
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": "wamid.HBgLMzE2MTIzNDU2NzgVAgASGBQzQTdCRDQ1",
        })
    );
    assert!(standin.messages().is_empty());
}

#[tokio::test]
async fn the_token_is_never_in_debug_output() {
    let cfg = ClientConfig::new("http://127.0.0.1:9", PHONE_NUMBER_ID, TOKEN);
    let shown = format!("{cfg:?} {:?} {cfg:#?}", Client::new(cfg.clone()).unwrap());
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(!shown.contains("secret"), "{shown}");
    assert!(shown.contains(PHONE_NUMBER_ID));
}

#[tokio::test]
async fn network_errors_do_not_show_the_token() {
    let cfg = ClientConfig::new("http://127.0.0.1:9", PHONE_NUMBER_ID, TOKEN);
    let err = Client::new(cfg)
        .unwrap()
        .send(&text("1", "a"))
        .await
        .unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
}

#[tokio::test]
async fn messages_can_be_listed_since_a_sequence_number_and_per_recipient() {
    let (standin, running) = start().await;
    let c = client(&running);
    c.send(&text("31600000001", "een")).await.unwrap();
    c.send(&text("31600000002", "twee")).await.unwrap();
    c.mark_read("wamid.X").await.unwrap();
    c.send(&text("31600000001", "drie")).await.unwrap();

    let all = list(&running, "").await;
    let seqs: Vec<u64> = all.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    assert_eq!(all[3]["body"]["text"]["body"], "drie");
    assert_eq!(all[2]["kind"], "read");

    let since = list(&running, "?since=2").await;
    let seqs: Vec<u64> = since.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [3, 4]);

    let to_one = list(&running, "?to=31600000001").await;
    let bodies: Vec<&str> = to_one
        .iter()
        .map(|r| r["body"]["text"]["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["een", "drie"]);
    assert!(list(&running, "?to=31600000001&since=4").await.is_empty());

    let resp = http()
        .delete(format!("{}/_standin/messages", running.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert!(list(&running, "").await.is_empty());
    // Sequence numbers go on after a clear, so a poller's `since` stays valid.
    assert_eq!(
        c.send(&text("1", "a")).await.unwrap().message_id,
        "wamid.STANDIN5"
    );
    assert_eq!(standin.sent_since(0, None).len(), 1);
}

#[tokio::test]
async fn bodies_the_real_api_refuses_are_refused_with_code_100() {
    let (standin, running) = start().await;
    let c = client(&running);
    let too_long = text("1", &"a".repeat(4097));
    let four_buttons = json!({
        "messaging_product": "whatsapp",
        "to": "1",
        "type": "interactive",
        "interactive": { "type": "button", "body": { "text": "?" }, "action": { "buttons": [
            { "type": "reply", "reply": { "id": "a", "title": "a" } },
            { "type": "reply", "reply": { "id": "b", "title": "b" } },
            { "type": "reply", "reply": { "id": "c", "title": "c" } },
            { "type": "reply", "reply": { "id": "d", "title": "d" } },
        ] } },
    });
    let long_title = json!({
        "messaging_product": "whatsapp",
        "to": "1",
        "type": "interactive",
        "interactive": { "type": "button", "body": { "text": "?" }, "action": { "buttons": [
            { "type": "reply", "reply": { "id": "a", "title": "een veel te lange knoptitel" } },
        ] } },
    });
    let no_to = json!({ "messaging_product": "whatsapp", "type": "text", "text": { "body": "x" } });
    let no_product = json!({ "to": "1", "type": "text", "text": { "body": "x" } });
    for body in [too_long, four_buttons, long_title, no_to, no_product] {
        let err: SendError = c.send(&body).await.unwrap_err();
        assert_eq!(
            (err.http_status, err.code),
            (Some(400), Some(100)),
            "{body}"
        );
    }
    // Exactly at the limits is fine.
    c.send(&text("1", &"é".repeat(4096))).await.unwrap();
    assert_eq!(standin.sent().len(), 1);
}

#[tokio::test]
async fn bad_faults_are_refused() {
    let (standin, running) = start().await;
    for fault in [
        json!({ "count": 0, "code": 1 }),
        json!({ "http_status": 200 }),
        json!({ "delay_ms": 600_001 }),
        json!({ "drop_connection": true, "code": 131056 }),
        json!({ "cod": 131056 }),
    ] {
        let resp = post_fault(&running, fault.clone()).await;
        assert!(resp.status().is_client_error(), "{fault}");
    }
    assert_eq!(standin.pending_faults(), 0);
    post_fault(&running, json!({ "code": 131026, "count": 3 })).await;
    let resp = http()
        .delete(format!("{}/_standin/faults", running.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(standin.pending_faults(), 0);
}

#[tokio::test]
async fn the_router_can_be_nested_under_a_prefix() {
    let standin = StandIn::new();
    let app = axum::Router::new().nest("/graph", standin.router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    let c = Client::new(ClientConfig::new(
        format!("http://{addr}/graph/"),
        PHONE_NUMBER_ID,
        TOKEN,
    ))
    .unwrap();
    assert_eq!(
        c.url(),
        format!("http://{addr}/graph/v21.0/{PHONE_NUMBER_ID}/messages")
    );
    c.send(&text("1", "a")).await.unwrap();
    // Outside `StandIn::serve` a dropped connection cannot be made; it is a 500 instead.
    standin.inject(Fault::drop_connection()).unwrap();
    let err = c.send(&text("1", "b")).await.unwrap_err();
    assert_eq!(err.http_status, Some(500));
    assert_eq!(standin.messages().len(), 1);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[test]
fn configs_that_cannot_work_are_refused() {
    for (base, id) in [
        ("graph.facebook.com", PHONE_NUMBER_ID),
        ("https://graph.facebook.com", ""),
        ("https://graph.facebook.com", "1/2"),
    ] {
        let err = Client::new(ClientConfig::new(base, id, TOKEN)).unwrap_err();
        assert!(!err.to_string().contains(TOKEN));
    }
}

/// A webhook receiver for the stand-in's status callback: verifies the signature, records the
/// statuses, and refuses the first `refuse` requests with a 503 (the service being down).
async fn status_receiver(
    secret: &'static str,
    refuse: usize,
) -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
    tokio::task::JoinHandle<()>,
) {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, StatusCode};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let refused = Arc::new(AtomicUsize::new(0));
    let kept = seen.clone();
    let app = axum::Router::new().route(
        "/webhook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let kept = kept.clone();
            let refused = refused.clone();
            async move {
                if refused.fetch_add(1, Ordering::SeqCst) < refuse {
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                let sig = headers
                    .get("x-hub-signature-256")
                    .and_then(|v| v.to_str().ok());
                if triage::channels::whatsapp::verify_signature(secret.as_bytes(), &body, sig)
                    .is_err()
                {
                    return StatusCode::FORBIDDEN;
                }
                let hook = triage::channels::whatsapp::parse_webhook(&body).unwrap();
                assert_eq!(hook.statuses.len(), 1);
                let raw: Value = serde_json::from_slice(&body).unwrap();
                kept.lock()
                    .unwrap()
                    .push(raw["entry"][0]["changes"][0]["value"]["statuses"][0].clone());
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhook", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, seen, task)
}

#[tokio::test]
async fn accepted_messages_are_followed_by_signed_sent_and_delivered_statuses() {
    use triage::channels::whatsapp::standin::StatusCallback;
    let (standin, running) = start().await;
    // Without a callback nothing is reported.
    client(&running)
        .send(&text("31600000001", "geen status"))
        .await
        .unwrap();
    let (url, seen, server) = status_receiver("callback-secret", 2).await;
    standin.set_status_callback(Some(StatusCallback::new(url, "callback-secret")));
    let mut body = text("31600000002", "met status");
    body["biz_opaque_callback_data"] = json!("outbox:42");
    let ok = client(&running).send(&body).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while standin.callback_stats().delivered < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            standin.callback_stats()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stats = standin.callback_stats();
    assert_eq!((stats.given_up, stats.in_flight), (0, 0));
    let seen = seen.lock().unwrap().clone();
    let statuses: Vec<&str> = seen.iter().map(|s| s["status"].as_str().unwrap()).collect();
    assert_eq!(
        statuses,
        ["sent", "delivered"],
        "refused twice, then retried"
    );
    for s in &seen {
        assert_eq!(s["id"], json!(ok.message_id));
        assert_eq!(s["recipient_id"], json!("31600000002"));
        assert_eq!(s["biz_opaque_callback_data"], json!("outbox:42"));
    }
    server.abort();
}

#[tokio::test]
async fn a_status_nobody_accepts_is_given_up_after_its_time() {
    use triage::channels::whatsapp::standin::StatusCallback;
    let (standin, running) = start().await;
    let (url, seen, server) = status_receiver("callback-secret", usize::MAX).await;
    let mut cb = StatusCallback::new(url, "callback-secret");
    cb.retry_for = Duration::from_millis(300);
    standin.set_status_callback(Some(cb));
    client(&running)
        .send(&text("31600000003", "niemand luistert"))
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while standin.callback_stats().given_up < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            standin.callback_stats()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(standin.callback_stats().delivered, 0);
    assert!(seen.lock().unwrap().is_empty());
    server.abort();
}

#[tokio::test]
async fn a_held_send_waits_for_its_release() {
    let (standin, running) = start().await;
    standin.inject(Fault::hold()).unwrap();
    let c = client(&running);
    let held = tokio::spawn({
        let c = c.clone();
        async move { c.send(&text("31612345678", "eerst")).await }
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while standin.held() == 0 {
        assert!(tokio::time::Instant::now() < deadline, "never held");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Others go past it.
    c.send(&text("31612345679", "tweede")).await.unwrap();
    assert_eq!(standin.messages().len(), 1);
    let resp = http()
        .post(format!("{}/_standin/release", running.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.json::<Value>().await.unwrap()["released"], 1);
    held.await.unwrap().unwrap();
    assert_eq!(standin.held(), 0);
    assert_eq!(standin.messages().len(), 2);
}

/// The stand-in can close every connection after its answer, as an HTTP/1.0 server does: each
/// send then costs a new connection, never an error or a timeout.
#[tokio::test]
async fn connections_closed_after_every_answer_cost_a_reconnect_only() {
    let (standin, running) = start().await;
    let resp = http()
        .put(format!("{}/_standin/conditions", running.base_url()))
        .json(&json!({ "latency_ms": 30, "close_connections": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(standin.conditions().latency_ms, 30);
    let resp = http()
        .post(format!(
            "{}/v21.0/{PHONE_NUMBER_ID}/messages",
            running.base_url()
        ))
        .bearer_auth(TOKEN)
        .json(&text("31612345678", "hoi"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["connection"], "close");

    let c = client(&running);
    let mut sends = tokio::task::JoinSet::new();
    for i in 0..200 {
        let c = c.clone();
        sends.spawn(async move { c.send(&text(&format!("3161{i:07}"), "hoi")).await });
    }
    let mut errors = Vec::new();
    while let Some(r) = sends.join_next().await {
        if let Err(e) = r.unwrap() {
            errors.push(e);
        }
    }
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(standin.messages().len(), 201);
    let bad = http()
        .put(format!("{}/_standin/conditions", running.base_url()))
        .json(&json!({ "slow_share": 2.0 }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}
