//! X direct messages from the outside: the real service on port 0, configured with an X account
//! whose API is the X stand-in on its own loopback port, talked to with signed Account Activity
//! webhooks. The test clock decides every "when"; the workers are drained, never waited for.

mod common;

use chrono::{DateTime, Utc};
use common::app::{Setup, TestApp, ADMIN};
use hmac::{KeyInit, Mac};
use serde_json::{json, Value};
use triage::channels::x::standin::{Fault, Recorded, Running, StandIn};

/// The app's consumer secret the webhooks are signed with.
const X_SECRET: &str = "x-consumer-secret";
/// Our X user id.
const ACCOUNT: &str = "900100200";
/// A resident's X user id.
const RESIDENT: &str = "4242000001";
/// Tuesday 24 November 2026, 10:00 in Terneuzen: the office is open.
const TUESDAY_OPEN: &str = "2026-11-24T10:00:00+01:00";
/// The same instant in seconds since the epoch (09:00 UTC).
const TUESDAY_OPEN_EPOCH: i64 = 1_795_510_800;

struct XApp {
    app: TestApp,
    x: StandIn,
    _server: Running,
}

impl XApp {
    async fn start(admin: bool) -> XApp {
        let x = StandIn::requiring_token("x-user-token");
        let server = x.start().await.unwrap();
        let base = server.base_url();
        let mut setup = if admin {
            Setup::with_admin()
        } else {
            Setup::default()
        };
        setup.configure = Box::new(move |c| {
            c.x.app_secret = X_SECRET.into();
            c.x.access_token = "x-user-token".into();
            c.x.account_id = ACCOUNT.into();
            c.x.api_base = base;
        });
        XApp {
            app: TestApp::start_setup(setup).await,
            x,
            _server: server,
        }
    }

    /// A webhook body posted to `/webhooks/x` with this signature header, if any.
    async fn post_raw(&self, body: &[u8], signature: Option<String>) -> u16 {
        let mut req = self
            .app
            .http
            .post(format!("{}/webhooks/x", self.app.base))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(s) = signature {
            req = req.header("x-twitter-webhooks-signature", s);
        }
        req.send().await.unwrap().status().as_u16()
    }

    /// A webhook signed as X signs it.
    async fn post(&self, payload: &Value) -> u16 {
        let body = serde_json::to_vec(payload).unwrap();
        let sig = triage::channels::x::sign(X_SECRET.as_bytes(), &body);
        self.post_raw(&body, Some(sig)).await
    }

    /// What the stand-in accepted for the resident.
    fn sent(&self) -> Vec<Recorded> {
        self.x.messages_to(RESIDENT)
    }

    /// The one outbox row: its status, attempts, next attempt, provider id and error.
    fn outbox_row(&self) -> (String, i64, DateTime<Utc>, Option<String>, Option<String>) {
        let db = rusqlite::Connection::open(self.app.db_path()).unwrap();
        db.query_row(
            "SELECT status, attempts, next_attempt_at, provider_id, last_error FROM outbox",
            [],
            |r| {
                let next: String = r.get(2)?;
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    next.parse::<DateTime<Utc>>().unwrap(),
                    r.get(3)?,
                    r.get(4)?,
                ))
            },
        )
        .unwrap()
    }

    /// How many messages the store has, of any direction.
    fn stored_messages(&self) -> i64 {
        let db = rusqlite::Connection::open(self.app.db_path()).unwrap();
        db.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))
            .unwrap()
    }
}

/// A `message_create` event from `from` to `to`.
fn event(id: &str, from: &str, to: &str, data: Value) -> Value {
    json!({
        "type": "message_create",
        "id": id,
        // Tuesday 24 November 2026, 09:59 UTC+1.
        "created_timestamp": "1795510740000",
        "message_create": {
            "target": { "recipient_id": to },
            "sender_id": from,
            "source_app_id": "268278",
            "message_data": data,
        }
    })
}

/// An Account Activity webhook for our account with these direct-message events.
fn webhook(events: Vec<Value>) -> Value {
    json!({
        "for_user_id": ACCOUNT,
        "direct_message_events": events,
        "users": {
            RESIDENT: { "id": RESIDENT, "name": "Fatima", "screen_name": "fatima_tnz" },
            ACCOUNT: { "id": ACCOUNT, "name": "Gemeente Terneuzen", "screen_name": "gemterneuzen" }
        }
    })
}

/// A resident's text direct message.
fn text(id: &str, text: &str) -> Value {
    webhook(vec![event(
        id,
        RESIDENT,
        ACCOUNT,
        json!({ "text": text, "entities": { "hashtags": [], "symbols": [], "urls": [], "user_mentions": [] } }),
    )])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crc_challenge_is_answered_with_the_signed_token() {
    let t = XApp::start(false).await;
    // A known vector, computed apart from the service (Python's hmac and base64).
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(X_SECRET.as_bytes()).unwrap();
    mac.update(b"challenge-123");
    assert_eq!(
        hex::encode(mac.finalize().into_bytes()),
        "25b26e2fd0c8964d004497645ca7444e856a846ce72eb4d867c096c0171e4212"
    );
    let r = t
        .app
        .http
        .get(format!("{}/webhooks/x?crc_token=challenge-123", t.app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v,
        json!({ "response_token": "sha256=JbJuL9DIlk0ARJdkXKdEToVqhGznLrTYZ8CWwBceQhI=" })
    );
    // The challenge must not sign a webhook body for anyone who asks (its answer is the same
    // HMAC as a webhook's signature): such a token is refused, and a body signed that way
    // would be forged anyway.
    let forged = serde_json::to_string(&text("6001", "geforceerd via de challenge")).unwrap();
    let r = t
        .app
        .http
        .get(format!(
            "{}/webhooks/x?crc_token={}",
            t.app.base,
            forged
                .bytes()
                .map(|b| format!("%{b:02X}"))
                .collect::<String>()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "a webhook body is no challenge token");
    let long = "a".repeat(129);
    for path in [
        "/webhooks/x".to_string(),
        "/webhooks/x?crc_token=".to_string(),
        format!("/webhooks/x?crc_token={long}"),
    ] {
        let r = t
            .app
            .http
            .get(format!("{}{path}", t.app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{path}");
    }
    t.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_unsigned_posts_are_refused_and_nothing_is_stored() {
    let t = XApp::start(false).await;
    t.app.set_clock(TUESDAY_OPEN).await;
    let body = serde_json::to_vec(&text("5001", "ik wil een nieuw paspoort")).unwrap();
    assert_eq!(t.post_raw(&body, None).await, 401);
    let forged = triage::channels::x::sign(b"not-the-secret", &body);
    assert_eq!(t.post_raw(&body, Some(forged)).await, 403);
    assert_eq!(t.post_raw(&body, Some("sha256=zz".into())).await, 403);
    // Signed with the WhatsApp scheme (hex) instead of X's (base64).
    let hex_signed = triage::channels::whatsapp::sign(X_SECRET.as_bytes(), &body);
    assert_eq!(t.post_raw(&body, Some(hex_signed)).await, 403);
    // Signed, but no Account Activity payload: 200 (X would only send it again), dropped.
    let junk = b"{not json";
    let signed = triage::channels::x::sign(X_SECRET.as_bytes(), junk);
    assert_eq!(t.post_raw(junk, Some(signed)).await, 200);
    t.app.drain().await;
    assert_eq!(t.stored_messages(), 0);
    assert!(t.x.messages().is_empty());
    t.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_is_answered_once_and_a_second_delivery_changes_nothing() {
    let t = XApp::start(false).await;
    t.app.set_clock(TUESDAY_OPEN).await;
    let m = text("5002", "ik wil een nieuw paspoort");
    assert_eq!(t.post(&m).await, 200);
    assert_eq!(t.post(&m).await, 200, "X delivered it again");
    t.app.drain().await;
    let sent = t.sent();
    assert_eq!(sent.len(), 1, "one answer: {sent:#?}");
    let answer = &sent[0].text;
    assert!(answer.contains("paspoort"), "{answer}");
    // The topic's buttons, as lines the resident can type.
    assert!(
        answer.contains("\n• Afspraak maken\n• Medewerker"),
        "{answer}"
    );
    assert_eq!(sent[0].body, json!({ "text": answer }));
    let (status, attempts, _, provider_id, _) = t.outbox_row();
    assert_eq!((status.as_str(), attempts), ("sent", 1));
    assert_eq!(provider_id, Some(format!("x:{}", sent[0].dm_event_id)));
    assert_eq!(t.stored_messages(), 2, "the question and the answer");

    // The resident reads it: the reply's delivery becomes `read`.
    let read = json!({
        "for_user_id": ACCOUNT,
        "direct_message_mark_read_events": [{
            "created_timestamp": "1795510860000", "sender_id": RESIDENT,
            "target": { "recipient_id": ACCOUNT }, "last_read_event_id": sent[0].dm_event_id
        }]
    });
    assert_eq!(t.post(&read).await, 200);
    let db = rusqlite::Connection::open(t.app.db_path()).unwrap();
    let delivery: Option<String> = db
        .query_row("SELECT delivery FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(delivery.as_deref(), Some("read"));
    t.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_own_echoed_message_and_typing_are_skipped() {
    let t = XApp::start(false).await;
    t.app.set_clock(TUESDAY_OPEN).await;
    // What we sent comes back as an event from our account.
    let echo = webhook(vec![event(
        "5003",
        ACCOUNT,
        RESIDENT,
        json!({ "text": "Heb je nog antwoord nodig? ja of nee" }),
    )]);
    assert_eq!(t.post(&echo).await, 200);
    let typing = json!({
        "for_user_id": ACCOUNT,
        "direct_message_indicate_typing_events": [{
            "created_timestamp": "1795510740000", "sender_id": RESIDENT,
            "target": { "recipient_id": ACCOUNT }
        }],
        "users": { RESIDENT: { "id": RESIDENT, "name": "Fatima" } }
    });
    assert_eq!(t.post(&typing).await, 200);
    t.app.drain().await;
    assert_eq!(t.stored_messages(), 0, "nothing stored");
    assert!(t.x.messages().is_empty(), "nothing answered");
    let counts = t.app.state.store.counts().unwrap();
    assert_eq!((counts.inbound_pending, counts.outbox_pending), (0, 0));
    t.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_without_words_goes_to_a_person() {
    let t = XApp::start(false).await;
    t.app.set_clock(TUESDAY_OPEN).await;
    let photo = webhook(vec![event(
        "5004",
        RESIDENT,
        ACCOUNT,
        json!({
            "text": "https://t.co/AbCdEf1234",
            "attachment": { "type": "media", "media": {
                "id": 1, "id_str": "1", "type": "photo", "url": "https://t.co/AbCdEf1234",
                "media_url_https": "https://ton.twitter.com/1.1/ton/data/dm/1/1/abc.jpg"
            } }
        }),
    )]);
    assert_eq!(t.post(&photo).await, 200);
    t.app.drain().await;
    let sent = t.sent();
    assert!(!sent.is_empty(), "an answer");
    assert!(
        sent[0].text.contains("Foto's, video's en spraakberichten"),
        "{}",
        sent[0].text
    );
    let db = rusqlite::Connection::open(t.app.db_path()).unwrap();
    let kind: String = db
        .query_row(
            "SELECT kind FROM messages WHERE direction = 'in'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kind, "image");
    t.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_friday_evening_question_is_followed_up_on_monday_as_text_and_ja_answered() {
    // The harness's clock starts on Friday 27 November 2026, 19:30: closed.
    let t = XApp::start(false).await;
    assert_eq!(
        t.post(&text("5005", "ik wil een wmo voorziening aanvragen"))
            .await,
        200
    );
    t.app.drain().await;
    let sent = t.sent();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].text.contains("maandag 30 november om 08:30"),
        "{}",
        sent[0].text
    );

    // Monday's opening, more than 60 hours later: X has no window, so the follow-up goes as
    // its text (WhatsApp would need the template here), its buttons as lines.
    t.app.set_clock("2026-11-30T08:30:00+01:00").await;
    t.app.drain().await;
    let sent = t.sent();
    assert_eq!(sent.len(), 2, "{sent:#?}");
    let follow_up = &sent[1].text;
    assert!(
        follow_up.starts_with("Goedemorgen Fatima! Je stuurde ons buiten kantoortijd een bericht."),
        "{follow_up}"
    );
    assert!(follow_up.ends_with("\n\n• Ja\n• Nee"), "{follow_up}");

    // The resident types "ja".
    assert_eq!(t.post(&text("5006", "ja")).await, 200);
    t.app.drain().await;
    let sent = t.sent();
    assert_eq!(sent.len(), 3);
    assert!(
        sent[2]
            .text
            .starts_with("Helder! Je vraag staat nu bovenaan de lijst"),
        "{}",
        sent[2].text
    );
    t.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_is_retried_at_its_reset_time_and_not_before() {
    let t = XApp::start(false).await;
    t.app.set_clock(TUESDAY_OPEN).await;
    let reset = TUESDAY_OPEN_EPOCH + 120;
    t.x.inject(Fault::rate_limited_until(reset)).unwrap();
    t.post(&text("5007", "ik wil een nieuw paspoort")).await;
    t.app.drain().await;
    assert!(t.sent().is_empty());
    let (status, attempts, next, _, error) = t.outbox_row();
    assert_eq!((status.as_str(), attempts), ("pending", 1));
    assert_eq!(
        next,
        "2026-11-24T09:02:00Z".parse::<DateTime<Utc>>().unwrap(),
        "the next attempt is X's reset time"
    );
    assert!(
        error.as_deref().unwrap_or_default().contains("429"),
        "{error:?}"
    );

    // Half a minute before the reset: still waiting.
    t.app.set_clock("2026-11-24T10:01:30+01:00").await;
    t.app.drain().await;
    assert!(t.sent().is_empty(), "not before the reset");

    // At the reset: sent, once.
    t.app.set_clock("2026-11-24T10:02:00+01:00").await;
    t.app.drain().await;
    assert_eq!(t.sent().len(), 1);
    assert_eq!(t.outbox_row().0, "sent");
    t.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_is_retried_after_its_backoff() {
    let t = XApp::start(false).await;
    t.app.set_clock(TUESDAY_OPEN).await;
    t.x.inject(Fault::status(503)).unwrap();
    t.post(&text("5008", "ik wil een nieuw paspoort")).await;
    t.app.drain().await;
    assert!(t.sent().is_empty());
    let (status, attempts, next, _, _) = t.outbox_row();
    assert_eq!((status.as_str(), attempts), ("pending", 1));
    let wait = next - "2026-11-24T09:00:00Z".parse::<DateTime<Utc>>().unwrap();
    assert!(
        wait > chrono::Duration::seconds(1) && wait < chrono::Duration::seconds(10),
        "a short backoff: {wait}"
    );
    t.app.set_clock("2026-11-24T10:00:30+01:00").await;
    t.app.drain().await;
    assert_eq!(t.sent().len(), 1);
    assert_eq!(t.outbox_row().0, "sent");
    t.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_direct_message_is_given_up_and_shown_to_the_agent() {
    let t = XApp::start(true).await;
    t.app.set_clock(TUESDAY_OPEN).await;
    let why = "You cannot send messages to users who are not following you.";
    t.x.inject(Fault::status(403).detail(why)).unwrap();
    t.post(&text("5009", "ik wil een nieuw paspoort")).await;
    t.app.drain().await;
    // Later rounds do not try it again.
    t.app.set_clock("2026-11-24T11:00:00+01:00").await;
    t.app.drain().await;
    assert!(t.sent().is_empty());
    let (status, attempts, ..) = t.outbox_row();
    assert_eq!((status.as_str(), attempts), ("failed", 1));
    assert_eq!(t.app.state.store.counts().unwrap().outbox_failed, 1);

    let (code, view) = t.app.get_as(ADMIN, "/api/conversations/1").await;
    assert_eq!(code, 200, "{view}");
    assert_eq!(view["channel"], "x");
    assert_eq!(view["resident_name"], "Fatima");
    let out: Vec<&Value> = view["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["direction"] == "out")
        .collect();
    assert_eq!(out.len(), 1, "{view}");
    assert_eq!(out[0]["send_status"], "failed");
    let error = out[0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("403") && error.contains(why), "{error}");
    t.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_waits_its_grace_and_is_sent_once() {
    let t = XApp::start(false).await;
    t.app.set_clock(TUESDAY_OPEN).await;
    t.x.inject(Fault::drop_connection()).unwrap();
    t.post(&text("5010", "ik wil een nieuw paspoort")).await;
    t.app.drain().await;
    assert!(t.sent().is_empty(), "the stand-in dropped it unrecorded");
    let (status, attempts, next, _, _) = t.outbox_row();
    assert_eq!((status.as_str(), attempts), ("pending", 1));
    // No answer: X may have it. Not sent again at once, but after the send grace.
    let grace = next - "2026-11-24T09:00:00Z".parse::<DateTime<Utc>>().unwrap();
    assert!(
        grace >= chrono::Duration::seconds(60),
        "waits the send grace: {grace}"
    );
    t.app.set_clock("2026-11-24T10:00:30+01:00").await;
    t.app.drain().await;
    assert!(t.sent().is_empty(), "not within the grace");
    t.app.set_clock("2026-11-24T10:02:00+01:00").await;
    t.app.drain().await;
    t.app.drain().await;
    assert_eq!(t.sent().len(), 1, "sent once");
    assert_eq!(t.outbox_row().0, "sent");
    t.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_accounts_webhook_is_not_answered() {
    let t = XApp::start(false).await;
    t.app.set_clock(TUESDAY_OPEN).await;
    let mut other = text("5011", "ik wil een nieuw paspoort");
    other["for_user_id"] = json!("123");
    other["direct_message_events"][0]["message_create"]["target"]["recipient_id"] = json!("123");
    assert_eq!(t.post(&other).await, 200);
    t.app.drain().await;
    assert_eq!(t.stored_messages(), 0);
    assert!(t.x.messages().is_empty());
    t.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_demo_mode_x_answers_through_its_built_in_stand_in() {
    use triage::service::api::DEMO_ADMIN_TOKEN;
    use triage::service::config::{Config, DEMO_APP_SECRET};
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        database_url: format!("sqlite:{}", dir.path().join("t.db").display()),
        flows: common::app::root().join("flows"),
        rules: common::app::root().join("rules"),
        ..Config::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local = listener.local_addr().unwrap();
    let clock = triage::service::clock::TestClock::starting_at(TUESDAY_OPEN.parse().unwrap());
    let (state, channels) = triage::service::build(config, Some(clock), local).unwrap();
    assert!(channels.in_use().contains(&triage::channel::Channel::X));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(triage::service::run(
        state,
        channels,
        listener,
        async move {
            let _ = stopped.await;
        },
    ));
    let base = format!("http://{local}");
    let http = reqwest::Client::new();

    let mut body = text("5012", "ik wil een nieuw paspoort");
    body["for_user_id"] = json!("demo-x-account");
    body["direct_message_events"][0]["message_create"]["target"]["recipient_id"] =
        json!("demo-x-account");
    let body = serde_json::to_vec(&body).unwrap();
    let r = http
        .post(format!("{base}/webhooks/x"))
        .header(
            "x-twitter-webhooks-signature",
            triage::channels::x::sign(DEMO_APP_SECRET.as_bytes(), &body),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let mut recorded = Vec::new();
    for _ in 0..200 {
        let r = http
            .get(format!("{base}/standin/x/_standin/messages?to={RESIDENT}"))
            .bearer_auth(DEMO_ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        recorded = r.json::<Vec<Value>>().await.unwrap();
        if !recorded.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(recorded.len(), 1);
    assert!(recorded[0]["text"].as_str().unwrap().contains("paspoort"));

    // The stand-in takes only this run's own token.
    let r = http
        .post(format!(
            "{base}/standin/x/2/dm_conversations/with/{RESIDENT}/messages"
        ))
        .bearer_auth("guessed")
        .json(&json!({ "text": "hoi" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Its records are for editors and admins.
    let r = http
        .get(format!("{base}/standin/x/_standin/messages"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stand_in_checks_what_the_api_checks() {
    let x = StandIn::requiring_token("t");
    let server = x.start().await.unwrap();
    let http = reqwest::Client::new();
    let url = |to: &str| {
        format!(
            "{}/2/dm_conversations/with/{to}/messages",
            server.base_url()
        )
    };
    let post = |to: &str, token: &str, body: Value| {
        http.post(url(to)).bearer_auth(token).json(&body).send()
    };
    assert_eq!(
        post("42", "nope", json!({ "text": "hoi" }))
            .await
            .unwrap()
            .status(),
        401
    );
    let r = http
        .post(url("42"))
        .json(&json!({ "text": "hoi" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "no token at all");
    assert_eq!(
        post("abc", "t", json!({ "text": "hoi" }))
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        post("42", "t", json!({ "text": "" }))
            .await
            .unwrap()
            .status(),
        400
    );
    let long = "a".repeat(10_001);
    assert_eq!(
        post("42", "t", json!({ "text": long }))
            .await
            .unwrap()
            .status(),
        400
    );
    let r = post("42", "t", json!({ "text": "a".repeat(10_000) }))
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["data"]["dm_event_id"], x.messages()[0].dm_event_id);

    x.inject(Fault::rate_limited_until(1_795_510_920)).unwrap();
    let r = post("42", "t", json!({ "text": "hoi" })).await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["x-rate-limit-reset"], "1795510920");
    assert_eq!(r.headers()["x-rate-limit-remaining"], "0");
    // Faults over HTTP too.
    let r = http
        .post(format!("{}/_standin/faults", server.base_url()))
        .json(&json!({ "http_status": 503, "count": 2 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for _ in 0..2 {
        assert_eq!(
            post("42", "t", json!({ "text": "hoi" }))
                .await
                .unwrap()
                .status(),
            503
        );
    }
    x.inject(Fault::drop_connection()).unwrap();
    let dropped = post("42", "t", json!({ "text": "hoi" })).await;
    assert!(dropped.is_err(), "{dropped:?}");
    assert_eq!(x.messages().len(), 1, "faults record nothing");
    server.stop().await;
}
