//! Retention from the outside: residents write, the test clock moves past each term, and the
//! scheduler's sweep removes what the term says, from the database files too, while a waiting
//! resident's question stays readable and the reports count exactly what they counted before.

mod common;

use common::app::{stored_text, text_message, Setup, TestApp, ADMIN};
use serde_json::Value;

/// Tuesday 24 November 2026, 10:00 in Terneuzen: open.
const TUESDAY_MORNING: &str = "2026-11-24T10:00:00+01:00";
const PERIOD: &str = "from=2026-11-23&to=2026-11-29";

/// The retention sweeps done so far, from `/metrics`.
async fn sweeps(app: &TestApp) -> u64 {
    app.metrics()
        .await
        .lines()
        .find_map(|l| l.strip_prefix("triage_retention_sweeps_total "))
        .and_then(|n| n.trim().parse().ok())
        .expect("the sweep counter")
}

/// Moves the clock and waits until a sweep has run at the new time.
async fn sweep_at(app: &TestApp, at: &str) {
    let before = sweeps(app).await;
    app.set_clock(at).await;
    for _ in 0..3 {
        app.drain().await;
        if sweeps(app).await > before {
            return;
        }
    }
    panic!("no retention sweep after moving the clock to {at}");
}

fn view(app: &TestApp, id: i64) -> triage::store::ConversationView {
    app.state.store.conversation_view(id).unwrap().unwrap()
}

fn report_without_timestamps(mut r: Value) -> Value {
    if let Some(o) = r.as_object_mut() {
        // The day the report was made on, not what it counts.
        o.remove("generated_at");
        o.remove("today");
    }
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_term_removes_its_kind_of_data_and_the_reports_stay_the_same() {
    let app = TestApp::start_setup(Setup {
        clock: TUESDAY_MORNING,
        ..Setup::with_admin()
    })
    .await;
    // 1: an FAQ answered by the bot; 2: a question waiting for a person; 3: a BSN, masked.
    for (id, from, text) in [
        (
            "wamid.T1",
            "31600000001",
            "ik wil een nieuw paspoort voor mijn vakantie naar Lapland",
        ),
        ("wamid.T2", "31600000002", "ik wil mijn naam wijzigen"),
        (
            "wamid.T3",
            "31600000003",
            "mijn bsn is 111222333, ik ben verhuisd naar Zaamslag",
        ),
    ] {
        assert_eq!(app.post(&text_message(id, from, text)).await.status(), 200);
        app.drain().await;
    }
    // The week's report just before the first term ends (the waiting question is late by then,
    // as it is at the end).
    sweep_at(&app, "2026-12-24T09:00:00+01:00").await;
    let (status, before) = app.get_as(ADMIN, &format!("/api/reports?{PERIOD}")).await;
    assert_eq!(status, 200, "{before}");
    let faq = view(&app, 1);
    assert!(faq.messages[0].text.contains("Lapland"));
    assert!(!faq.decisions[0].decision["trace"]["steps"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(view(&app, 2).conversation.state.phase == triage::engine::Phase::Queued);

    // Day 31: the bot's reasons are past their 30 days; the texts are not.
    sweep_at(&app, "2026-12-25T10:00:00+01:00").await;
    let faq = view(&app, 1);
    assert_eq!(faq.decisions[0].decision, serde_json::json!({}));
    assert_eq!(faq.decisions[0].outcome, "faq");
    assert!(faq.messages[0].text.contains("Lapland"));
    assert!(!faq.messages[0].removed);

    // Day 181: the texts of conversations nobody works on are gone, from the files too; the
    // waiting resident's question stays.
    sweep_at(&app, "2027-05-24T10:00:00+02:00").await;
    let faq = view(&app, 1);
    assert!(faq.messages.iter().all(|m| m.removed && m.text.is_empty()));
    assert_eq!(faq.conversation.state.resident_name, None);
    let privacy = view(&app, 3);
    assert!(privacy.messages.iter().all(|m| m.removed));
    let waiting = view(&app, 2);
    assert_eq!(waiting.messages[0].text, "ik wil mijn naam wijzigen");
    assert!(!waiting.messages[0].removed);
    let files = stored_text(app.data_dir());
    assert!(
        !files.contains("Lapland"),
        "an expired text is still in the files"
    );
    assert!(
        !files.contains("Zaamslag"),
        "an expired text is still in the files"
    );
    assert!(files.contains("naam wijzigen"));

    // The reports of that week count what they counted.
    let (_, after) = app.get_as(ADMIN, &format!("/api/reports?{PERIOD}")).await;
    assert_eq!(
        report_without_timestamps(after),
        report_without_timestamps(before)
    );

    // A sweep removes nothing twice: three texts of conversation 1 (question, answer) and
    // conversation 3 (question, answer) were removed once, and an hour later nothing more.
    let removed = |m: &str| -> u64 {
        m.lines()
            .find_map(|l| l.strip_prefix("triage_retention_message_texts_total "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap()
    };
    let first = removed(&app.metrics().await);
    assert_eq!(
        first, 4,
        "two conversations of a question and an answer each"
    );
    sweep_at(&app, "2027-05-24T11:30:00+02:00").await;
    assert_eq!(removed(&app.metrics().await), first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_lines_and_expired_sessions_go_at_the_end_of_their_terms() {
    let app = TestApp::start_setup(Setup {
        clock: TUESDAY_MORNING,
        ..Setup::with_admin()
    })
    .await;
    assert_eq!(
        app.post(&text_message(
            "wamid.A1",
            "31600000009",
            "ik wil mijn naam wijzigen"
        ))
        .await
        .status(),
        200
    );
    app.drain().await;
    // Reading the conversation is an audit line.
    let (status, _) = app.get_as(ADMIN, "/api/conversations/1").await;
    assert_eq!(status, 200);
    let audit_lines = |app: &TestApp| -> i64 {
        let db = rusqlite::Connection::open(app.data_dir().join("triage.db")).unwrap();
        db.query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0))
            .unwrap()
    };
    let sessions = |app: &TestApp| -> i64 {
        let db = rusqlite::Connection::open(app.data_dir().join("triage.db")).unwrap();
        db.query_row("SELECT COUNT(*) FROM sessions", [], |r| r.get(0))
            .unwrap()
    };
    // A session that expires at 22:00 that day.
    let at = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap().to_utc();
    app.state
        .store
        .create_session(&triage::store::NewSession {
            id_hash: "ab".repeat(32),
            user: "beheer".into(),
            csrf: "csrf".into(),
            created_at: at(TUESDAY_MORNING),
            expires_at: at("2026-11-24T22:00:00+01:00"),
        })
        .unwrap();
    assert_eq!(sessions(&app), 1);
    // Expired, but within the day it is kept after its expiry.
    sweep_at(&app, "2026-11-25T12:00:00+01:00").await;
    assert_eq!(sessions(&app), 1);
    sweep_at(&app, "2026-11-26T10:00:00+01:00").await;
    assert_eq!(sessions(&app), 0);
    assert!(audit_lines(&app) >= 1);
    // A year on: the audit line is kept (730 days).
    sweep_at(&app, "2027-11-24T10:00:00+01:00").await;
    assert!(audit_lines(&app) >= 1);
    // Two years on: it is past its term.
    sweep_at(&app, "2028-11-25T10:00:00+01:00").await;
    assert_eq!(audit_lines(&app), 0);
}
