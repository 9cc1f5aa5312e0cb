//! The service from the outside: the real server on port 0 with a temporary database and the
//! Graph API stand-in on its own loopback port, talked to over HTTP with signed webhooks.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::app::{body_text, root, text_message, Setup, TestApp, ADMIN, SECRET};
use serde_json::Value;
use triage::channels::whatsapp::standin::{Fault, RecordedKind};
use triage::service::clock::TestClock;

fn db_bytes(dir: &tempfile::TempDir) -> Vec<u8> {
    let mut all = Vec::new();
    for name in ["triage.db", "triage.db-wal"] {
        if let Ok(b) = std::fs::read(dir.path().join(name)) {
            all.extend(b);
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_and_signatures() {
    let app = TestApp::start().await;
    let ok = app
        .http
        .get(format!(
            "{}/webhook?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=42",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "42");
    let wrong = app
        .http
        .get(format!(
            "{}/webhook?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=42",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);

    let body = serde_json::to_vec(&text_message("wamid.F1", "31600000001", "hoi")).unwrap();
    assert_eq!(app.post_raw(&body, None).await.status(), 401);
    let forged = triage::channels::whatsapp::sign(b"not-the-secret", &body);
    assert_eq!(app.post_raw(&body, Some(forged)).await.status(), 403);
    assert_eq!(
        app.post_raw(&body, Some("sha256=zz".into())).await.status(),
        403
    );
    let signed = triage::channels::whatsapp::sign(SECRET.as_bytes(), b"{not json");
    // Signed but not understood: 200 (a retry would not help), nothing stored, counted.
    assert_eq!(app.post_raw(b"{not json", Some(signed)).await.status(), 200);
    let big = vec![b' '; 3 * 1024 * 1024 + 10];
    let sig = triage::channels::whatsapp::sign(SECRET.as_bytes(), &big);
    assert_eq!(app.post_raw(&big, Some(sig)).await.status(), 413);
    // Before any user exists a reload is refused (the test clock stays usable for tests).
    let r = app
        .http
        .post(format!("{}/admin/reload", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Nothing of the refused requests was stored.
    let counts = app.state.store.counts().unwrap();
    assert_eq!(counts.inbound_pending + counts.outbox_pending, 0);
    assert!(app.graph.messages().is_empty());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_is_answered_once_even_when_delivered_twice() {
    let app = TestApp::start().await;
    app.set_clock("2026-11-24T10:00:00+01:00").await;
    let m = text_message("wamid.A1", "31600000001", "ik wil een nieuw paspoort");
    assert_eq!(app.post(&m).await.status(), 200);
    assert_eq!(app.post(&m).await.status(), 200);
    let sent = app.sent(1).await;
    app.drain().await;
    let sent_after = app.graph.messages();
    assert_eq!(sent_after.len(), 1, "one answer: {sent_after:#?}");
    assert_eq!(sent[0].to.as_deref(), Some("31600000001"));
    assert_eq!(
        sent[0].body["type"], "interactive",
        "the paspoort answer has buttons"
    );
    assert!(
        body_text(&sent[0]).contains("paspoort"),
        "{}",
        body_text(&sent[0])
    );
    assert_eq!(sent[0].body["biz_opaque_callback_data"], "outbox:1");
    // The resident's message is marked as read.
    let read = app
        .graph
        .sent()
        .into_iter()
        .filter(|r| r.kind == RecordedKind::Read)
        .map(|r| r.message_id)
        .collect::<Vec<_>>();
    assert_eq!(read, vec!["wamid.A1".to_string()]);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_data_is_masked_before_it_is_stored() {
    let app = TestApp::start().await;
    app.set_clock("2026-11-24T10:00:00+01:00").await;
    app.post(&text_message(
        "wamid.P1",
        "31600000003",
        "ik ben verhuisd, mijn bsn is 123456782",
    ))
    .await;
    let sent = app.sent(1).await;
    let text = body_text(&sent[0]);
    assert!(text.contains("verhuis") || text.contains("DigiD"), "{text}");
    assert!(!text.contains("123456782"));
    let (dir, ..) = app.stop().await;
    let bytes = db_bytes(&dir);
    assert!(!bytes.is_empty());
    let raw = b"123456782";
    assert!(
        !bytes.windows(raw.len()).any(|w| w == raw),
        "the raw BSN reached the database"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_hours_reply_then_monday_follow_up_survives_a_restart() {
    let app = TestApp::start().await;
    app.post(&text_message(
        "wamid.O1",
        "31600000004",
        "ik wil een wmo voorziening aanvragen",
    ))
    .await;
    let sent = app.sent(1).await;
    assert!(
        body_text(&sent[0]).contains("maandag 30 november om 08:30"),
        "{}",
        body_text(&sent[0])
    );
    // Saturday, same closed period: no second out-of-hours reply.
    app.set_clock("2026-11-28T10:00:00+01:00").await;
    app.post(&text_message("wamid.O2", "31600000004", "hallo??"))
        .await;
    app.drain().await;
    assert_eq!(app.graph.messages().len(), 1);

    // The server goes down over the weekend and comes back after the follow-up fell due.
    let (dir, graph, running) = app.stop().await;
    let app = TestApp::start_with(dir, graph, running).await;
    app.set_clock("2026-11-30T09:15:00+01:00").await;
    let sent = app.sent(2).await;
    assert_eq!(
        sent[1].body["type"], "template",
        "more than 24 hours: a template"
    );
    assert_eq!(sent[1].body["template"]["name"], "vraag_nog_open");
    // And never twice, also not after another restart.
    let (dir, graph, running) = app.stop().await;
    let app = TestApp::start_with(dir, graph, running).await;
    app.set_clock("2026-11-30T10:00:00+01:00").await;
    app.drain().await;
    assert_eq!(app.graph.messages().len(), 2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_retried_and_undeliverable_numbers_given_up() {
    let app = TestApp::start().await;
    app.set_clock("2026-11-24T10:00:00+01:00").await;
    app.graph.inject(Fault::error(131056).times(1)).unwrap();
    app.post(&text_message(
        "wamid.R1",
        "31600000005",
        "ik wil een nieuw paspoort",
    ))
    .await;
    // The retry comes after its backoff (6 s for a pair rate limit): move the clock past it.
    app.drain().await;
    assert!(app.graph.messages().is_empty());
    assert_eq!(app.state.store.counts().unwrap().outbox_pending, 1);
    app.set_clock("2026-11-24T10:00:30+01:00").await;
    let sent = app.sent(1).await;
    assert_eq!(sent.len(), 1);

    app.graph.inject(Fault::error(131026).times(1)).unwrap();
    app.post(&text_message(
        "wamid.R2",
        "31600000006",
        "ik wil een nieuw paspoort",
    ))
    .await;
    for _ in 0..100 {
        if app.state.store.counts().unwrap().outbox_failed == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.state.store.counts().unwrap().outbox_failed, 1);
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("triage_outbox_retries_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("triage_outbox_failures_total 1"),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_reload_keeps_the_old_flows() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["flows", "rules"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        for e in std::fs::read_dir(root().join(sub)).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, dir.path().join(sub).join(p.file_name().unwrap())).unwrap();
        }
    }
    let app = TestApp::start_setup(Setup {
        files: dir.path().to_path_buf(),
        admin: true,
        ..Setup::default()
    })
    .await;
    app.set_clock("2026-11-24T10:00:00+01:00").await;
    let departments = dir.path().join("rules/departments.yaml");
    let text = std::fs::read_to_string(&departments).unwrap();
    std::fs::write(
        &departments,
        text.replacen("default: kcc", "default: kccc", 1),
    )
    .unwrap();
    let r = app
        .http
        .post(format!("{}/admin/reload", app.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["diagnostics"][0]["message"], "unknown department `kccc`");
    // The previous flows keep answering.
    app.post(&text_message(
        "wamid.L1",
        "31600000007",
        "ik wil een nieuw paspoort",
    ))
    .await;
    let sent = app.sent(1).await;
    assert!(body_text(&sent[0]).contains("paspoort"));
    // Fixed: the reload goes through.
    std::fs::write(&departments, text).unwrap();
    let r = app
        .http
        .post(format!("{}/admin/reload", app.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_cloud_api_payload_is_accepted_and_handled() {
    let app = TestApp::start().await;
    app.set_clock("2026-11-24T10:00:00+01:00").await;
    let dir = root().join("fixtures/whatsapp");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    names.sort();
    assert!(names.len() >= 20, "{names:?}");
    for path in &names {
        let body = std::fs::read(path).unwrap();
        let sig = triage::channels::whatsapp::sign(SECRET.as_bytes(), &body);
        let r = app.post_raw(&body, Some(sig)).await;
        assert_eq!(r.status(), 200, "{}", path.display());
    }
    // Every stored message gets decided: nothing is left pending.
    for _ in 0..100 {
        if app.state.store.counts().unwrap().inbound_pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let counts = app.state.store.counts().unwrap();
    assert_eq!(counts.inbound_pending, 0);
    // Media, unsupported and unknown types went to a person; the statuses were recorded.
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("triage_decisions_total{outcome=\"handover\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("triage_statuses_total "), "{metrics}");
    assert!(!metrics.contains("triage_statuses_total 0\n"), "{metrics}");
    app.stop().await;
}

#[test]
fn demo_users_do_not_survive_into_a_real_deployment() {
    use triage::service::api::{ensure_demo_users, remove_demo_users, DEMO_ADMIN_TOKEN};
    use triage::service::caller::token_hash;
    use triage::store::Store;
    let store = triage::store::sqlite::SqliteStore::in_memory().unwrap();
    let (flows, _) =
        triage::flows::FlowSet::load(&root().join("flows"), &root().join("rules")).unwrap();
    ensure_demo_users(&store, &flows, chrono::Utc::now()).unwrap();
    assert!(store
        .user_by_token(&token_hash(DEMO_ADMIN_TOKEN))
        .unwrap()
        .is_some());
    let editor = store
        .user_by_token(&token_hash(triage::service::api::DEMO_EDITOR_TOKEN))
        .unwrap()
        .unwrap();
    assert_eq!(
        (editor.name.as_str(), editor.role),
        ("demo-editor", triage::store::Role::Editor)
    );
    let mut removed = remove_demo_users(&store).unwrap();
    removed.sort();
    assert_eq!(removed, vec!["demo-admin", "demo-agent", "demo-editor"]);
    assert!(store
        .user_by_token(&token_hash(DEMO_ADMIN_TOKEN))
        .unwrap()
        .is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_and_system_notices_get_no_reply_and_no_handover() {
    let app = TestApp::start().await;
    app.set_clock("2026-11-24T10:00:00+01:00").await;
    for name in ["reaction.json", "reaction_removed.json", "system.json"] {
        let body = std::fs::read(root().join("fixtures/whatsapp").join(name)).unwrap();
        let sig = triage::channels::whatsapp::sign(SECRET.as_bytes(), &body);
        assert_eq!(app.post_raw(&body, Some(sig)).await.status(), 200, "{name}");
    }
    app.drain().await;
    let counts = app.state.store.counts().unwrap();
    assert_eq!(counts.inbound_pending, 0);
    assert!(counts.queued.is_empty(), "{counts:?}");
    assert!(
        app.graph.messages().is_empty(),
        "{:#?}",
        app.graph.messages()
    );
    assert!(app
        .metrics()
        .await
        .contains("triage_decisions_total{outcome=\"ignored\"} 3"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_means_the_store_answers_and_the_workers_run() {
    let app = TestApp::start().await;
    let r = app
        .http
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The workers keep the heartbeat fresh: set back a minute, it is renewed within a round.
    if let Ok(mut beat) = app.state.heartbeat.lock() {
        *beat = std::time::Instant::now() - Duration::from_secs(60);
    }
    app.drain().await;
    let age = app.state.heartbeat.lock().map(|t| t.elapsed()).unwrap();
    assert!(
        age < Duration::from_secs(30),
        "renewed by the rounds: {age:?}"
    );
    let r = app
        .http
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_simulator_talks_to_the_bot_as_a_resident() {
    use triage::service::config::Config;
    // Demo mode: no WhatsApp account, the stand-in inside the service, and the test clock.
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        database_url: format!("sqlite:{}", dir.path().join("t.db").display()),
        flows: root().join("flows"),
        rules: root().join("rules"),
        ..Config::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local = listener.local_addr().unwrap();
    let (state, client) =
        triage::service::build(config, Some(TestClock::default()), local).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(triage::service::run(state, client, listener, async move {
        let _ = stopped.await;
    }));
    let base = format!("http://{local}");
    let http = reqwest::Client::new();

    let page = http
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Inwonersimulator"), "{page}");

    // Friday evening, through the page's clock.
    let c: Value = http
        .post(format!("{base}/simulator/clock"))
        .bearer_auth(triage::service::api::DEMO_ADMIN_TOKEN)
        .json(&serde_json::json!({ "at": "2026-11-27T19:30:00+01:00" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(c["open"], false, "{c}");

    let say = |body: Value| {
        http.post(format!("{base}/simulator/send"))
            .json(&body)
            .send()
    };
    let phone = "0123456789abcdef0123456789abcdef";
    let r = say(
        serde_json::json!({ "phone": phone, "name": "Sam", "text": "ik wil een nieuw paspoort" }),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    // The replies to our resident after `since`, waiting up to 5 s for the first.
    let replies_after = |since: u64| {
        let http = http.clone();
        let base = base.clone();
        async move {
            for _ in 0..100 {
                let got: Vec<Value> = http
                    .post(format!("{base}/simulator/replies"))
                    .json(&serde_json::json!({ "phone": phone, "since": since }))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                if !got.is_empty() {
                    return got;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Vec::new()
        }
    };
    let got = replies_after(0).await;
    assert_eq!(got[0]["kind"], "buttons", "{got:?}");
    assert!(got[0]["text"].as_str().unwrap().contains("paspoort"));
    // Tapping a button is a message too.
    let button = &got[0]["buttons"][0];
    let r = say(serde_json::json!({
        "phone": phone, "button_id": button["id"], "button_title": button["title"]
    }))
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let since = got[0]["seq"].as_u64().unwrap();
    let next = replies_after(since).await;
    assert!(!next.is_empty(), "the tapped button got an answer");
    // Bad input gets a clear error.
    let r = say(serde_json::json!({ "phone": "12", "text": "hoi" }))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // The demo's own routes: the clock only for editors and admins, the stand-in's record of
    // every reply too, and its Graph API only for the service's own token.
    let anon = http
        .post(format!("{base}/simulator/clock"))
        .json(&serde_json::json!({ "at": "2026-11-28T10:00:00+01:00" }))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
    let listing = http
        .get(format!("{base}/standin/whatsapp/_standin/messages"))
        .send()
        .await
        .unwrap();
    assert_eq!(listing.status(), 401);
    let listing = http
        .get(format!("{base}/standin/whatsapp/_standin/messages"))
        .bearer_auth(triage::service::api::DEMO_ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(listing.status(), 200);
    let forged = http
        .post(format!("{base}/standin/whatsapp/v21.0/demo-phone-number-id/messages"))
        .bearer_auth("any-token")
        .json(&serde_json::json!({ "messaging_product": "whatsapp", "to": "31600000000", "type": "text", "text": { "body": "hoi" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    // A body larger than the route allows is refused before it is read.
    let big = common::app::oversized_post(
        &base,
        "/admin/clock",
        &format!(
            "Authorization: Bearer {}",
            triage::service::api::DEMO_ADMIN_TOKEN
        ),
    )
    .await;
    assert_eq!(big, "HTTP/1.1 413");
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bsn_in_the_profile_name_or_a_button_payload_is_never_stored_or_shown() {
    let app = TestApp::start_setup(Setup::with_admin()).await;
    // The profile name carries a BSN; the message another one, which gets the privacy reply
    // with the resident's name in it.
    let mut m = text_message("wamid.N1", "31600000042", "mijn bsn is 123456782");
    m["entry"][0]["changes"][0]["value"]["contacts"][0]["profile"]["name"] =
        serde_json::json!("Jan 111222333");
    assert_eq!(app.post(&m).await.status(), 200);
    // A button reply whose id and title carry one too (the app sends them, not we).
    let button = common::app::envelope(serde_json::json!({
        "contacts": [{ "profile": { "name": "Jan 111222333" }, "wa_id": "31600000042" }],
        "messages": [{ "from": "31600000042", "id": "wamid.N2", "timestamp": common::app::SENT_AT,
            "type": "interactive", "interactive": { "type": "button_reply",
            "button_reply": { "id": "topic:111-222-333", "title": "bsn 111.222.333" } } }]
    }));
    assert_eq!(app.post(&button).await.status(), 200);
    app.drain().await;

    let sent = app.sent(1).await;
    let greeting = body_text(&sent[0]);
    assert!(greeting.contains("Jan"), "{greeting}");
    let (status, conversation) = app.get_as(ADMIN, "/api/conversations/1").await;
    assert_eq!(status, 200, "{conversation}");
    assert_eq!(conversation["resident_name"], "Jan", "{conversation}");
    let shown = format!("{conversation} {:?}", app.graph.messages());
    // The store itself: no file under the data directory holds the number in any form.
    let (dir, _graph, _running) = app.stop().await;
    let stored = common::app::stored_text(dir.path());
    for raw in ["111222333", "111-222-333", "111.222.333", "123456782"] {
        assert!(!greeting.contains(raw), "{greeting}");
        assert!(!shown.contains(raw), "{raw} shown: {shown}");
        assert!(!stored.contains(raw), "{raw} stored in the database");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_clients_are_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::start_setup(Setup {
        configure: Box::new(|c| {
            c.header_timeout_secs = 1;
            c.request_timeout_secs = 2;
        }),
        ..Setup::default()
    })
    .await;
    let addr = app.base.trim_start_matches("http://").to_string();
    /// Reads until the server closes the connection (or 20 s pass); what it answered.
    async fn until_closed(s: &mut tokio::net::TcpStream) -> String {
        let mut got = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut got)).await;
        assert!(read.is_ok(), "the server kept the connection open");
        String::from_utf8_lossy(&got).to_string()
    }
    // A head that never ends.
    let mut slow_head = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow_head
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    until_closed(&mut slow_head).await;
    // A body that never comes.
    let mut slow_body = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow_body
        .write_all(b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
        .await
        .unwrap();
    let answer = until_closed(&mut slow_body).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    // An idle kept-alive connection after its answer.
    let mut idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = until_closed(&mut idle).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_capped() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::start_setup(Setup {
        configure: Box::new(|c| c.max_connections = 4),
        ..Setup::default()
    })
    .await;
    let addr = app.base.trim_start_matches("http://").to_string();
    // At most four at once (kept alive, idle): a fifth is closed without an answer, and served
    // once one of them ends.
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 12];
        c.read_exact(&mut buf).await.unwrap();
        held.push(c);
    }
    let mut fifth = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let _ = fifth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let mut got = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(20), fifth.read_to_end(&mut got)).await;
    assert!(closed.is_ok(), "the fifth connection is closed");
    assert!(got.is_empty(), "refused without an answer");
    drop(held);
    let ok = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let r = app.http.get(format!("{}/healthz", app.base)).send().await;
            if r.is_ok_and(|r| r.status() == 200) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(ok.is_ok(), "served again once connections closed");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_that_is_no_phone_number_is_not_kept() {
    let app = TestApp::start().await;
    let m = text_message("wamid.F1", "bsn 111222333", "hallo");
    assert_eq!(
        app.post(&m).await.status(),
        200,
        "acknowledged: Meta would resend it"
    );
    let ok = text_message("wamid.F2", "31600000077", "hallo");
    assert_eq!(app.post(&ok).await.status(), 200);
    app.drain().await;
    let sent = app.sent(1).await;
    assert!(
        sent.iter().all(|r| r.to.as_deref() == Some("31600000077")),
        "{sent:?}"
    );
    let (dir, _graph, _running) = app.stop().await;
    assert!(!common::app::stored_text(dir.path()).contains("111222333"));
}
