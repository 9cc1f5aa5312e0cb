//! The web chat from the outside: the real service (with the shipped flows) and the visitor's API
//! under `/webchat/` as the widget uses it from an allowed site: a key, messages answered by the
//! flows through the outbox, buttons, the allow-list, the limits, live replies, and the agent's
//! answer read by a visitor who comes back after the weekend. Behind a trusted proxy, the limits
//! per address: what one address does (streams, reads, new conversations, keys it made up) never
//! refuses a visitor from another.

mod common;

use std::time::Duration;

use common::app::{oversized_post, stored_text, Setup, TestApp, ADMIN};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use triage::channel::{Channel, WEB_CHAT};
use triage::channels::webchat::api::{
    CONVERSATIONS_PER_ADDRESS, HISTORY_PER_VISITOR, STREAMS_PER_ADDRESS,
};
use triage::channels::webchat::{Keys, KEY_HEX};

/// The municipality's site, on the allow-list.
const SITE: &str = "https://www.terneuzen.nl";

async fn start(per_minute: u32) -> TestApp {
    TestApp::start_setup(Setup {
        configure: Box::new(move |c| {
            c.webchat.allowed_origins = vec![format!("{SITE}/")];
            c.webchat.messages_per_minute = per_minute;
        }),
        ..Setup::with_admin()
    })
    .await
}

/// The service's own proxy: requests through it carry the visitor's address.
const PROXY: &str = "127.0.0.1/32";

/// Behind [`PROXY`]: the limits per address count the address it forwards.
async fn behind_proxy() -> TestApp {
    TestApp::start_setup(Setup {
        configure: Box::new(move |c| {
            c.webchat.allowed_origins = vec![SITE.to_string()];
            c.webchat.messages_per_minute = 12;
            c.trusted_proxies = vec![triage::service::config::IpRange::parse(PROXY).unwrap()];
        }),
        ..Setup::with_admin()
    })
    .await
}

/// A request from the site's page of a visitor at `address`, through the proxy.
fn via(
    app: &TestApp,
    address: &str,
    method: reqwest::Method,
    path: &str,
) -> reqwest::RequestBuilder {
    from_site(app, method, path).header("x-forwarded-for", format!("{address}, 127.0.0.1"))
}

/// A key for a visitor at `address`.
async fn key_at(app: &TestApp, address: &str) -> String {
    let r = via(app, address, reqwest::Method::POST, "/webchat/session")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "a session for {address}");
    let v: Value = r.json().await.unwrap();
    v["visitor"].as_str().unwrap().to_string()
}

/// The test clock `minutes` after the harness's Friday evening, each a little over a minute (the
/// clock runs on meanwhile): what happened a "minute" before is out of every limit's minute.
fn minutes_on(minutes: u32) -> String {
    let t = triage::convtest::parse_time(common::app::FRIDAY_EVENING).unwrap()
        + chrono::Duration::seconds(i64::from(minutes) * 65);
    t.to_rfc3339()
}

/// The service's server key, as the store keeps it (made when the service started).
fn keys(app: &TestApp) -> Keys {
    // The stored one: "" would be no key, so a missing secret fails here.
    Keys::load(&*app.state.store, "", chrono::Utc::now()).expect("the stored server key")
}

fn resident_of(app: &TestApp, key: &str) -> String {
    keys(app)
        .resident_of(key)
        .expect("a key the service issued")
}

/// A request from the site's page, as the widget makes it.
fn from_site(app: &TestApp, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    app.http
        .request(method, format!("{}{path}", app.base))
        .header("origin", SITE)
}

async fn new_key(app: &TestApp) -> String {
    let r = from_site(app, reqwest::Method::POST, "/webchat/session")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    v["visitor"].as_str().unwrap().to_string()
}

async fn send(app: &TestApp, key: &str, body: Value) -> (u16, Value, HeaderMap) {
    let r = from_site(app, reqwest::Method::POST, "/webchat/send")
        .header("x-webchat-visitor", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, r.json().await.unwrap_or(Value::Null), headers)
}

async fn say(app: &TestApp, key: &str, text: &str) {
    let (status, v, _) = send(app, key, json!({ "text": text })).await;
    assert_eq!(status, 200, "{v}");
}

/// The visitor's whole conversation, as the widget reads it after a reload.
async fn history(app: &TestApp, key: &str) -> Vec<Value> {
    let r = from_site(app, reqwest::Method::GET, "/webchat/history?after=0")
        .header("x-webchat-visitor", key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    v["messages"].as_array().unwrap().clone()
}

fn texts(messages: &[Value]) -> Vec<(String, String)> {
    messages
        .iter()
        .map(|m| {
            (
                m["from"].as_str().unwrap().to_string(),
                m["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// What the store holds of the visitor with `key`.
fn stored(app: &TestApp, key: &str) -> usize {
    let resident = resident_of(app, key);
    app.state
        .store
        .resident_messages(Channel::WebChat, &resident, 0, 1000)
        .unwrap()
        .map_or(0, |(_, m)| m.len())
}

#[tokio::test]
async fn a_session_gives_a_fresh_key_and_cors_answers_only_the_allowed_site() {
    let app = start(12).await;
    let (a, b) = (new_key(&app).await, new_key(&app).await);
    assert_eq!(a.len(), KEY_HEX);
    assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(a, b);
    assert_ne!(resident_of(&app, &a), resident_of(&app, &b));

    let r = from_site(&app, reqwest::Method::POST, "/webchat/session")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], SITE);
    // The browser's preflight of a send with the visitor's header.
    let r = from_site(&app, reqwest::Method::OPTIONS, "/webchat/send")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, x-webchat-visitor",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["access-control-allow-origin"], SITE);
    assert!(r.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("x-webchat-visitor"));

    // The widget's script is for any site (a script tag sends no origin to check).
    let r = app
        .http
        .get(format!("{}/webchat/widget.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert_eq!(r.headers()["cross-origin-resource-policy"], "cross-origin");
    let js = r.text().await.unwrap();
    assert!(
        js.contains(&format!("Number('{}')", WEB_CHAT.max_text_chars)),
        "the policy's limit is written into the widget"
    );
    assert!(!js.contains("{{"), "no placeholder left");
    // No demo page with a real configuration.
    let r = app
        .http
        .get(format!("{}/webchat/demo", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn an_faq_is_answered_with_its_links_and_buttons_and_a_tapped_button_goes_through() {
    let app = start(12).await;
    let key = new_key(&app).await;
    say(&app, &key, "hoe vraag ik een nieuw paspoort aan?").await;
    app.drain().await;
    let h = history(&app, &key).await;
    assert_eq!(h.len(), 2, "{h:#?}");
    assert_eq!(h[0]["from"], "visitor");
    assert_eq!(h[0]["text"], "hoe vraag ik een nieuw paspoort aan?");
    assert_eq!(h[1]["from"], "bot");
    let answer = h[1]["text"].as_str().unwrap();
    assert!(answer.contains("paspoort"), "{answer}");
    assert!(
        answer.contains("https://www.terneuzen.nl/paspoort-en-id-kaart"),
        "{answer}"
    );
    let buttons = h[1]["buttons"].as_array().unwrap();
    let titles: Vec<&str> = buttons
        .iter()
        .map(|b| b["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Afspraak maken", "Medewerker"]);

    // Tapping "Afspraak maken" sends its payload: the appointment topic answers.
    let (status, v, _) = send(
        &app,
        &key,
        json!({ "button_id": buttons[0]["id"], "button_title": "Afspraak maken" }),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    app.drain().await;
    let h = history(&app, &key).await;
    assert_eq!(h.len(), 4, "{h:#?}");
    assert_eq!(h[2]["from"], "visitor");
    assert_eq!(h[2]["text"], "Afspraak maken");
    assert_eq!(h[3]["from"], "bot");
    assert!(
        h[3]["text"].as_str().unwrap().contains("afspraak"),
        "{}",
        h[3]["text"]
    );
    assert!(h
        .windows(2)
        .all(|w| w[0]["id"].as_i64() < w[1]["id"].as_i64()));
}

#[tokio::test]
async fn a_foreign_site_is_refused_and_nothing_is_stored() {
    let app = start(12).await;
    let key = new_key(&app).await;
    for (method, path) in [
        (reqwest::Method::POST, "/webchat/send"),
        (reqwest::Method::OPTIONS, "/webchat/send"),
        (reqwest::Method::POST, "/webchat/session"),
        (reqwest::Method::GET, "/webchat/history"),
        (reqwest::Method::GET, "/webchat/stream"),
    ] {
        for origin in ["https://evil.example", "http://www.terneuzen.nl", "null"] {
            let r = app
                .http
                .request(method.clone(), format!("{}{path}", app.base))
                .header("origin", origin)
                .header("x-webchat-visitor", &key)
                .json(&json!({ "text": "hoe vraag ik een nieuw paspoort aan?" }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403, "{method} {path} from {origin}");
            assert!(
                r.headers().get("access-control-allow-origin").is_none(),
                "no CORS header for {origin}"
            );
            let v: Value = r.json().await.unwrap();
            assert_eq!(
                v["message"],
                "Deze website mag de chat van de gemeente niet gebruiken."
            );
        }
    }
    app.drain().await;
    assert_eq!(stored(&app, &key), 0);
    assert_eq!(app.state.store.counts().unwrap().inbound_pending, 0);
}

#[tokio::test]
async fn only_the_holder_of_the_key_writes_as_or_reads_that_visitor() {
    let app = start(12).await;
    let (a, b) = (new_key(&app).await, new_key(&app).await);
    say(&app, &a, "ik wil mijn naam wijzigen, hoe gaat dat?").await;
    app.drain().await;
    assert!(history(&app, &a).await.len() >= 2);
    assert!(
        history(&app, &b).await.is_empty(),
        "another key reads nothing"
    );

    for key in [None, Some("not-a-key"), Some(&"0".repeat(31)[..])] {
        let mut req = from_site(&app, reqwest::Method::GET, "/webchat/history");
        if let Some(k) = key {
            req = req.header("x-webchat-visitor", k);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401, "{key:?}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"], "no_visitor");
    }
    let r = from_site(&app, reqwest::Method::POST, "/webchat/send")
        .json(&json!({ "text": "hallo" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // The store knows the visitor by a hash of the key; the key itself is nowhere.
    let resident = resident_of(&app, &a);
    assert!(resident.starts_with("webchat:"));
    let (status, queue) = app.get_as(ADMIN, "/api/queues/burgerzaken").await;
    assert_eq!(status, 200);
    let conv = &queue["conversations"][0];
    assert_eq!(conv["channel"], "webchat");
}

#[tokio::test]
async fn neither_the_key_nor_a_typed_bsn_reaches_the_database() {
    let app = start(12).await;
    let key = new_key(&app).await;
    say(&app, &key, "mijn bsn is 111222333, ik ben verhuisd").await;
    app.drain().await;
    let resident = resident_of(&app, &key);
    let text = stored_text(app.data_dir());
    assert!(text.contains(&resident), "the hashed id is stored");
    assert!(!text.contains(&key), "the key is not");
    assert!(
        !text.contains("111222333"),
        "the BSN is masked before it is stored"
    );
    // The visitor sees their message as stored (masked), and the privacy reply.
    let h = texts(&history(&app, &key).await);
    assert!(
        h[0].1.contains("verhuisd") && !h[0].1.contains("111222333"),
        "{h:?}"
    );
    assert_eq!(h[1].0, "bot");
    assert!(h[1].1.contains("https://"), "a secure page: {}", h[1].1);
}

#[tokio::test]
async fn a_visitor_sending_too_fast_gets_429_in_dutch_until_the_minute_is_over() {
    let app = start(3).await;
    let key = new_key(&app).await;
    for i in 0..3 {
        say(&app, &key, &format!("vraag nummer {i}")).await;
    }
    let (status, v, headers) = send(&app, &key, json!({ "text": "nog een vraag" })).await;
    assert_eq!(status, 429, "{v}");
    let message = v["message"].as_str().unwrap();
    assert!(
        message.contains("hoogstens 3 per minuut"),
        "a Dutch message: {message}"
    );
    let wait: i64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(
        headers["access-control-allow-origin"], SITE,
        "the widget can read it"
    );
    // Another visitor is not held up.
    let other = new_key(&app).await;
    say(&app, &other, "mijn vraag").await;
    app.drain().await;
    let mine = history(&app, &key).await;
    assert_eq!(
        mine.iter().filter(|m| m["from"] == "visitor").count(),
        3,
        "the refused message was not stored"
    );
    // A minute later (the service's clock) the visitor may write again.
    app.set_clock("2026-11-27T19:33:00+01:00").await;
    say(&app, &key, "nog een vraag").await;
}

#[tokio::test]
async fn an_over_long_text_is_refused_with_a_clear_dutch_error() {
    let app = start(12).await;
    let key = new_key(&app).await;
    let max = WEB_CHAT.max_text_chars;
    let (status, v, _) = send(&app, &key, json!({ "text": "é".repeat(max + 1) })).await;
    assert_eq!(status, 400);
    assert_eq!(v["error"], "text_too_long");
    assert_eq!(
        v["message"],
        format!("Je bericht is {} tekens lang; de chat neemt er hoogstens {max}. Maak het korter of verdeel het over twee berichten.", max + 1)
    );
    // Exactly the limit goes.
    let (status, v, _) = send(&app, &key, json!({ "text": "é".repeat(max) })).await;
    assert_eq!(status, 200, "{v}");
    // Empty, unknown fields, a bad client id, a too long button title.
    for (body, error) in [
        (json!({ "text": "   " }), "empty"),
        (json!({ "text": "hoi", "html": "<b>" }), "bad_request"),
        (
            json!({ "text": "hoi", "client_id": "a:b" }),
            "bad_client_id",
        ),
        (
            json!({ "button_id": "topic:afspraak", "button_title": "x".repeat(41) }),
            "bad_button",
        ),
        (json!({}), "bad_request"),
    ] {
        let (status, v, _) = send(&app, &key, body.clone()).await;
        assert_eq!((status, v["error"].as_str()), (400, Some(error)), "{body}");
    }
    // A body past the route's limit is refused before it is read.
    let status = oversized_post(&app.base, "/webchat/send", "x-webchat-visitor: 0").await;
    assert!(status.contains("413"), "{status}");
    app.drain().await;
    assert_eq!(
        stored(&app, &key),
        2,
        "only the message of exactly the limit"
    );
}

#[tokio::test]
async fn the_same_client_message_id_is_stored_once() {
    let app = start(12).await;
    let key = new_key(&app).await;
    let body = json!({ "text": "hoe vraag ik een nieuw paspoort aan?", "client_id": "retry-1234" });
    let (status, first, _) = send(&app, &key, body.clone()).await;
    assert_eq!((status, first["stored"].as_bool()), (200, Some(true)));
    // The widget's retry after a lost answer.
    let (status, again, _) = send(&app, &key, body).await;
    assert_eq!((status, again["stored"].as_bool()), (200, Some(false)));
    // The same client id of another visitor is another message.
    let other = new_key(&app).await;
    let (_, theirs, _) = send(
        &app,
        &other,
        json!({ "text": "hoi", "client_id": "retry-1234" }),
    )
    .await;
    assert_eq!(theirs["stored"], true);
    app.drain().await;
    let h = history(&app, &key).await;
    assert_eq!(
        texts(&h)
            .iter()
            .filter(|(from, _)| from == "visitor")
            .count(),
        1
    );
    assert_eq!(
        texts(&h).iter().filter(|(from, _)| from == "bot").count(),
        1,
        "answered once"
    );
}

#[tokio::test]
async fn out_of_hours_the_visitor_who_comes_back_reads_the_agents_answer() {
    // Friday 19:30: closed until Monday 08:30.
    let app = start(12).await;
    let key = new_key(&app).await;
    say(&app, &key, "ik wil mijn naam wijzigen, hoe gaat dat?").await;
    app.drain().await;
    let h = texts(&history(&app, &key).await);
    assert_eq!(h.len(), 2, "{h:?}");
    assert_eq!(h[1].0, "bot");
    assert!(
        h[1].1.contains("gesloten") && h[1].1.contains("maandag 30 november om 08:30"),
        "the out-of-hours reply names the opening: {}",
        h[1].1
    );

    // Monday morning: the follow-up is asked; an agent answers through the agents' API.
    app.set_clock("2026-11-30T09:00:00+01:00").await;
    app.drain().await;
    let fatima = app.user("fatima", "agent", &["burgerzaken"]).await;
    let (status, queue) = app.get_as(&fatima, "/api/queues/burgerzaken").await;
    assert_eq!(status, 200, "{queue}");
    let conv = queue["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["channel"] == "webchat")
        .expect("the web chat's question in the queue")
        .clone();
    let id = conv["id"].as_i64().unwrap();
    let (status, v) = app
        .post_as(
            &fatima,
            &format!("/api/conversations/{id}/claim"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let answer = "Goedemorgen! Een naamswijziging vraag je aan bij Burgerzaken: https://www.terneuzen.nl/naamswijziging";
    let (status, v) = app
        .post_as(
            &fatima,
            &format!("/api/conversations/{id}/reply"),
            json!({ "text": answer }),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    app.drain().await;

    // The visitor reloads the page later (the same key in localStorage): the whole
    // conversation, in order, the agent's answer last, without the agent's name.
    let h = history(&app, &key).await;
    let t = texts(&h);
    assert_eq!(t.first().unwrap().0, "visitor");
    assert!(t[1].1.contains("gesloten"));
    assert!(
        t.iter()
            .any(|(from, text)| from == "bot" && text.contains("nog antwoord nodig")),
        "Monday's follow-up: {t:?}"
    );
    assert_eq!(
        t.last().unwrap(),
        &("agent".to_string(), answer.to_string())
    );
    assert!(!serde_json::to_string(&h).unwrap().contains("fatima"));
    // The outbox sent it as the web chat does.
    let (_, view) = app
        .get_as(&fatima, &format!("/api/conversations/{id}"))
        .await;
    let last = view["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["send_status"], "sent", "{last}");
}

#[tokio::test]
async fn replies_arrive_live_on_the_stream_and_a_reconnect_catches_up() {
    let app = start(12).await;
    let key = new_key(&app).await;
    let mut stream = from_site(&app, reqwest::Method::GET, "/webchat/stream?after=0")
        .header("x-webchat-visitor", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert!(stream.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    assert_eq!(stream.headers()["access-control-allow-origin"], SITE);
    say(&app, &key, "hoe vraag ik een nieuw paspoort aan?").await;
    app.drain().await;
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !seen.contains("terneuzen.nl/paspoort-en-id-kaart") {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .expect("the bot's answer on the stream")
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.starts_with("event: messages\n"), "{seen}");
    // Every event's cursor, the last one the widget's.
    let cursors: Vec<i64> = seen
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| {
            serde_json::from_str::<Value>(d).unwrap()["cursor"]
                .as_i64()
                .unwrap()
        })
        .collect();
    let cursor = *cursors.last().unwrap();
    assert!(cursors.windows(2).all(|w| w[0] <= w[1]), "{cursors:?}");
    drop(stream);

    // Reconnected from the cursor: nothing old again; a new answer comes.
    let mut stream = from_site(
        &app,
        reqwest::Method::GET,
        &format!("/webchat/stream?after={cursor}"),
    )
    .header("x-webchat-visitor", &key)
    .send()
    .await
    .unwrap();
    let first = String::from_utf8_lossy(&stream.chunk().await.unwrap().unwrap()).into_owned();
    assert!(first.contains("\"messages\":[]"), "{first}");
    say(&app, &key, "hoi").await;
    app.drain().await;
    let mut seen = String::new();
    while !seen.contains("\"from\":\"bot\"") {
        let chunk = tokio::time::timeout_at(
            tokio::time::Instant::now() + Duration::from_secs(10),
            stream.chunk(),
        )
        .await
        .expect("the greeting's answer")
        .unwrap()
        .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        !seen.contains("paspoort"),
        "the old answer is not sent again"
    );
}

#[tokio::test]
async fn without_allowed_origins_the_web_chat_is_off() {
    // The harness's WhatsApp account: no demo mode, and no site on the list.
    let app = TestApp::start().await;
    for path in ["/webchat/session", "/webchat/send"] {
        let r = app
            .http
            .post(format!("{}{path}", app.base))
            .header("origin", SITE)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    let r = app
        .http
        .get(format!("{}/webchat/widget.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[test]
fn an_allowed_origin_that_is_no_origin_stops_the_start() {
    let mut config = triage::service::config::Config {
        database_url: "sqlite::memory-never-opened".into(),
        flows: common::app::root().join("flows"),
        rules: common::app::root().join("rules"),
        ..Default::default()
    };
    config.webchat.allowed_origins = vec!["www.terneuzen.nl".into()];
    let e = triage::service::build(config, None, "127.0.0.1:8080".parse().unwrap()).unwrap_err();
    assert!(
        e.contains("allowed_origins") && e.contains("www.terneuzen.nl"),
        "{e}"
    );
}

/// Finding: a visitor could make up their own key (any 32 hex digits), which made every limit
/// per visitor meaningless. Now only a key the service issued is one.
#[tokio::test]
async fn a_key_the_service_did_not_issue_is_refused_in_dutch() {
    let app = start(12).await;
    let issued = new_key(&app).await;
    let mut tampered = issued.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(tampered).unwrap();
    let made_up = [
        // The attack: 32 hex digits of one's own.
        "0123456789abcdef0123456789abcdef".to_string(),
        // The length of an issued key, with a tag that is no tag.
        format!("{}{}", &issued[..32], "0".repeat(32)),
        tampered,
    ];
    for key in &made_up {
        for (method, path) in [
            (reqwest::Method::GET, "/webchat/history?after=0"),
            (reqwest::Method::GET, "/webchat/stream?after=0"),
            (reqwest::Method::POST, "/webchat/send"),
        ] {
            let r = from_site(&app, method.clone(), path)
                .header("x-webchat-visitor", key)
                .json(&json!({ "text": "hoe vraag ik een nieuw paspoort aan?" }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401, "{method} {path} with {key}");
            assert_eq!(r.headers()["access-control-allow-origin"], SITE);
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["error"], "no_visitor");
            assert_eq!(
                v["message"],
                "De chat herkent dit venster niet (geen geldige bezoekerssleutel). Laad de pagina opnieuw."
            );
        }
    }
    app.drain().await;
    assert_eq!(app.state.store.counts().unwrap().inbound_pending, 0);
    // The issued key works; a service with another server key would not take it.
    say(&app, &issued, "hoi").await;
    let other = Keys::from_hex(&"ab".repeat(32)).unwrap();
    assert_eq!(other.resident_of(&issued), None);
}

/// Finding: keys from one address let it start a conversation per key; an address starts only
/// so many a minute, a visitor who wrote before goes on, and another address is not held up.
#[tokio::test]
async fn an_address_starts_only_so_many_new_conversations_a_minute() {
    let app = behind_proxy().await;
    let crowd = "203.0.113.40";
    let mut keys = Vec::new();
    for _ in 0..=CONVERSATIONS_PER_ADDRESS {
        keys.push(key_at(&app, crowd).await);
    }
    let first = |key: &str| {
        via(&app, crowd, reqwest::Method::POST, "/webchat/send")
            .header("x-webchat-visitor", key.to_string())
            .json(&json!({ "text": "hoi" }))
            .send()
    };
    for key in &keys[..CONVERSATIONS_PER_ADDRESS as usize] {
        assert_eq!(first(key).await.unwrap().status(), 200);
    }
    let r = first(keys.last().unwrap()).await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let v: Value = r.json().await.unwrap();
    assert!(
        v["message"].as_str().unwrap().contains("nieuwe chats"),
        "{v}"
    );
    // A visitor with a conversation goes on; a visitor elsewhere starts one.
    let r = first(&keys[0]).await.unwrap();
    assert_eq!(r.status(), 200);
    let elsewhere = key_at(&app, "198.51.100.9").await;
    let r = via(&app, "198.51.100.9", reqwest::Method::POST, "/webchat/send")
        .header("x-webchat-visitor", &elsewhere)
        .json(&json!({ "text": "hoi" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A minute later the address may start another.
    app.set_clock(&minutes_on(1)).await;
    assert_eq!(first(keys.last().unwrap()).await.unwrap().status(), 200);
}

/// Finding: the streams were capped in all only, so one address opening 500 (keys it asked for
/// over a few minutes) refused every other visitor's. Now an address has its share; beyond it
/// the widget reads the history (the browser test), and a visitor elsewhere streams as ever.
#[tokio::test]
async fn five_hundred_streams_from_one_address_do_not_lock_out_a_visitor_elsewhere() {
    let app = behind_proxy().await;
    let attacker = "203.0.113.66";
    // Keys as the review's attacker got them: 30 a minute from one address, for five minutes.
    let mut keys = Vec::new();
    for minute in 0..5 {
        app.set_clock(&minutes_on(minute)).await;
        for _ in 0..30 {
            keys.push(key_at(&app, attacker).await);
        }
    }
    app.set_clock(&minutes_on(5)).await;
    keys.push(key_at(&app, attacker).await);
    assert!(keys.len() * 4 > 500);
    let mut open = Vec::new();
    let mut refused = 0;
    for key in &keys {
        for _ in 0..4 {
            let r = via(
                &app,
                attacker,
                reqwest::Method::GET,
                "/webchat/stream?after=0",
            )
            .header("x-webchat-visitor", key)
            .send()
            .await
            .unwrap();
            if r.status() == 200 {
                open.push(r);
            } else {
                assert_eq!(r.status(), 429);
                assert!(r.headers().contains_key("retry-after"));
                assert_eq!(
                    r.headers()["access-control-expose-headers"],
                    "retry-after",
                    "the widget on the site reads how long to wait"
                );
                refused += 1;
            }
        }
    }
    assert_eq!(open.len(), STREAMS_PER_ADDRESS, "one address's share");
    assert_eq!(refused, keys.len() * 4 - STREAMS_PER_ADDRESS);

    // A visitor at another address: their stream opens and their answer comes live.
    let home = "198.51.100.7";
    let key = key_at(&app, home).await;
    let mut stream = via(&app, home, reqwest::Method::GET, "/webchat/stream?after=0")
        .header("x-webchat-visitor", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200, "not locked out by another address");
    let r = via(&app, home, reqwest::Method::POST, "/webchat/send")
        .header("x-webchat-visitor", &key)
        .json(&json!({ "text": "hoe vraag ik een nieuw paspoort aan?" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.drain().await;
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !seen.contains("terneuzen.nl/paspoort-en-id-kaart") {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .expect("the bot's answer on the stream")
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }

    // IPv6: one /64 is one address, whichever addresses in it are used; the next /64 is another.
    let mut v6_open = Vec::new();
    for i in 0..5 {
        let key = key_at(&app, &format!("2001:db8:66:1::{i:x}")).await;
        for j in 0..4 {
            let r = via(
                &app,
                &format!("2001:db8:66:1:{j:x}::{i:x}"),
                reqwest::Method::GET,
                "/webchat/stream?after=0",
            )
            .header("x-webchat-visitor", &key)
            .send()
            .await
            .unwrap();
            if r.status() == 200 {
                v6_open.push(r);
            }
        }
    }
    assert_eq!(v6_open.len(), STREAMS_PER_ADDRESS, "a /64 counts as one");
    let key = key_at(&app, "2001:db8:66:2::1").await;
    let r = via(
        &app,
        "2001:db8:66:2::1",
        reqwest::Method::GET,
        "/webchat/stream",
    )
    .header("x-webchat-visitor", &key)
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200, "the next /64 is another address");
    // Closed streams free their places.
    drop(open);
    let r = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let r = via(&app, attacker, reqwest::Method::GET, "/webchat/stream")
                .header("x-webchat-visitor", &keys[0])
                .send()
                .await
                .unwrap();
            if r.status() == 200 {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("a place again once the streams closed");
    drop(r);
}

/// Finding: `/webchat/history` had no limit (300 of 300 reads went through). Now a visitor reads
/// at most a polling widget's share a minute, an address ten visitors' worth; another visitor
/// and another address read on.
#[tokio::test]
async fn history_reads_are_limited_per_visitor_and_per_address() {
    let app = behind_proxy().await;
    let read = |address: &'static str, key: String| {
        via(
            &app,
            address,
            reqwest::Method::GET,
            "/webchat/history?after=0",
        )
        .header("x-webchat-visitor", key)
        .send()
    };
    let office = "203.0.113.80";
    let busy = key_at(&app, office).await;
    for i in 0..HISTORY_PER_VISITOR {
        let r = read(office, busy.clone()).await.unwrap();
        assert_eq!(r.status(), 200, "read {i}");
    }
    let r = read(office, busy.clone()).await.unwrap();
    assert_eq!(r.status(), 429);
    let wait: i64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let v: Value = r.json().await.unwrap();
    assert!(
        v["message"].as_str().unwrap().contains("nieuwe berichten"),
        "{v}"
    );
    // Another visitor at the same address reads on, until the address has read ten visitors'
    // worth.
    let mut reads = HISTORY_PER_VISITOR;
    let mut refused_at = None;
    'visitors: for _ in 0..11 {
        let key = key_at(&app, office).await;
        for _ in 0..HISTORY_PER_VISITOR {
            let r = read(office, key.clone()).await.unwrap();
            if r.status() == 429 {
                refused_at = Some(reads);
                break 'visitors;
            }
            assert_eq!(r.status(), 200);
            reads += 1;
        }
    }
    assert_eq!(
        refused_at,
        Some(HISTORY_PER_VISITOR * 10),
        "the address's share"
    );
    // Another address reads on.
    let elsewhere = key_at(&app, "198.51.100.20").await;
    let r = read("198.51.100.20", elsewhere).await.unwrap();
    assert_eq!(r.status(), 200);
    // A minute later the busy visitor reads again.
    app.set_clock(&minutes_on(1)).await;
    let r = read(office, busy).await.unwrap();
    assert_eq!(r.status(), 200);
}

/// The server key is made once and kept in the database: a visitor's key still works after a
/// restart, and their conversation is still theirs.
#[tokio::test]
async fn an_issued_key_still_works_after_a_restart() {
    let app = start(12).await;
    let key = new_key(&app).await;
    say(&app, &key, "hoe vraag ik een nieuw paspoort aan?").await;
    app.drain().await;
    assert_eq!(history(&app, &key).await.len(), 2);
    let (dir, graph, running) = app.stop().await;
    let app = TestApp::launch(
        dir,
        graph,
        running,
        Setup {
            configure: Box::new(|c| c.webchat.allowed_origins = vec![SITE.to_string()]),
            ..Setup::default()
        },
    )
    .await;
    let h = history(&app, &key).await;
    assert_eq!(h.len(), 2, "{h:#?}");
    assert_eq!(h[0]["text"], "hoe vraag ik een nieuw paspoort aan?");
}
