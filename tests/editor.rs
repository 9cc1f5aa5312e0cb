//! The editors' API from the outside: the state of the files on disk, reload with its audit line,
//! trying a message, and the handed-over questions grouped.

mod common;

use std::ops::Deref;
use std::path::Path;
use std::time::Duration;

use common::app::{root, text_message, Setup, TestApp, ADMIN};
use serde_json::{json, Value};

/// A Wednesday morning: the office is open (Monday to Friday 08:30–17:00, Europe/Amsterdam).
const WEDNESDAY_MORNING: &str = "2026-11-25T10:00:00+01:00";

/// The harness with one admin and the editors' routes.
struct EditorApp {
    app: TestApp,
    /// Present when the flows are a copy that a test may break.
    _dir: Option<tempfile::TempDir>,
}

impl Deref for EditorApp {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.app
    }
}

impl EditorApp {
    /// The shipped flows.
    async fn start() -> EditorApp {
        EditorApp {
            app: TestApp::start_setup(Setup::with_admin()).await,
            _dir: None,
        }
    }

    /// A copy of the shipped flows, rules and conversation tests, for a test to change.
    async fn start_with_copy() -> (EditorApp, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["flows", "rules", "fixtures/conversations"] {
            let to = dir.path().join(sub);
            std::fs::create_dir_all(&to).unwrap();
            for e in std::fs::read_dir(root().join(sub)).unwrap() {
                let p = e.unwrap().path();
                std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
            }
        }
        let files = dir.path().to_path_buf();
        let app = TestApp::start_setup(Setup {
            files: files.clone(),
            admin: true,
            ..Setup::default()
        })
        .await;
        (
            EditorApp {
                app,
                _dir: Some(dir),
            },
            files,
        )
    }

    async fn user(&self, name: &str, role: &str, departments: &[&str]) -> String {
        self.app.user(name, role, departments).await
    }

    async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        self.app.get_as(token, path).await
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        self.app.post_as(token, path, body).await
    }

    async fn try_message(&self, token: &str, body: Value) -> Value {
        let (status, v) = self.post(token, "/api/editor/try", body).await;
        assert_eq!(status, 200, "{v}");
        v
    }

    /// Waits until the unmatched list holds `n` questions.
    async fn unmatched(&self, token: &str, n: u64) -> Value {
        for _ in 0..200 {
            let (status, v) = self.get(token, "/api/editor/unmatched?days=30").await;
            assert_eq!(status, 200, "{v}");
            if v["questions"] == n {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the unmatched list never held {n} questions");
    }

    /// The audit trail's lines, read from the database file.
    fn audit(&self) -> Vec<(String, String, String)> {
        let url = &self.state.config.database_url;
        let path = url.strip_prefix("sqlite:").unwrap();
        let db = rusqlite::Connection::open(Path::new(path)).unwrap();
        let mut stmt = db
            .prepare("SELECT actor, action, COALESCE(detail, '') FROM audit ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_of_valid_flows_and_what_is_in_force() {
    let app = EditorApp::start().await;
    let editor = app.user("eva", "editor", &[]).await;
    let (status, v) = app.get(&editor, "/api/editor/status").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["errors"], 0);
    assert!(v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["severity"] == "warning"));
    assert!(v["in_force"]["topics"].as_u64().unwrap() >= 10, "{v}");
    assert!(v["in_force"]["departments"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["id"] == "kcc" && d["name"] == "Klantcontactcentrum"));
    assert!(v["in_force"]["loaded_at"].is_string());
    assert_eq!(v["last_reload"], Value::Null);
    assert!(v["flows_dir"].as_str().unwrap().ends_with("flows"));
    assert!(v["rules_dir"].as_str().unwrap().ends_with("rules"));
    // The shipped conversation tests sit beside the flows and load.
    assert!(v["tests"]["untested"].is_array(), "{v}");
    assert_eq!(v["tests"]["problems"], json!([]));
    // An admin may look too.
    let (status, _) = app.get(ADMIN, "/api/editor/status").await;
    assert_eq!(status, 200);
    app.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_file_shows_its_error_and_a_refused_reload_keeps_the_flows_in_force() {
    let (app, files) = EditorApp::start_with_copy().await;
    app.set_clock(WEDNESDAY_MORNING).await;
    let editor = app.user("eva", "editor", &[]).await;
    let (_, before) = app.get(&editor, "/api/editor/status").await;
    assert_eq!(before["valid"], true, "{before}");

    // A typo in a field name, on a line we know.
    let afval = files.join("flows/afval.yaml");
    let good = std::fs::read_to_string(&afval).unwrap();
    let line = good
        .lines()
        .position(|l| l.trim_start().starts_with("keywords:"))
        .unwrap()
        + 1;
    std::fs::write(&afval, good.replacen("keywords:", "keywrods:", 1)).unwrap();
    let (status, v) = app.get(&editor, "/api/editor/status").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["valid"], false, "{v}");
    assert!(v["errors"].as_u64().unwrap() >= 1);
    let error = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["message"] == "unknown field `keywrods`")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(error["severity"], "error");
    assert!(error["file"].as_str().unwrap().ends_with("afval.yaml"));
    assert_eq!(error["line"], line);
    assert!(error["column"].as_u64().unwrap() >= 1);
    assert!(
        error["help"].as_str().unwrap().contains("keywords"),
        "{error}"
    );
    // Nothing changed in force yet.
    assert_eq!(v["in_force"]["topics"], before["in_force"]["topics"]);

    // A reload is refused and says why; the previous flows keep answering.
    let (status, r) = app.post(&editor, "/api/editor/reload", json!({})).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["ok"], false);
    assert!(r["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["message"] == "unknown field `keywrods`"));
    let (_, v) = app.get(&editor, "/api/editor/status").await;
    assert_eq!(v["last_reload"]["ok"], false, "{v}");
    assert_eq!(v["in_force"]["loaded_at"], before["in_force"]["loaded_at"]);
    let t = app
        .try_message(&editor, json!({ "text": "wanneer wordt de kliko geleegd" }))
        .await;
    assert_eq!(t["topic"], "afvalkalender", "{t}");

    // Fixed: the reload goes through, and the time in force moves.
    std::fs::write(&afval, &good).unwrap();
    app.set_clock("2026-11-25T10:05:00+01:00").await;
    let (status, r) = app.post(&editor, "/api/editor/reload", json!({})).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["ok"], true, "{r}");
    let (_, v) = app.get(&editor, "/api/editor/status").await;
    assert_eq!(v["valid"], true);
    assert_eq!(v["last_reload"]["ok"], true);
    assert_eq!(v["in_force"]["loaded_at"], v["last_reload"]["at"]);
    assert_ne!(v["in_force"]["loaded_at"], before["in_force"]["loaded_at"]);

    // Both reloads are in the audit trail, with who did them.
    let reloads: Vec<_> = app
        .audit()
        .into_iter()
        .filter(|(_, action, _)| action == "reload")
        .collect();
    assert_eq!(reloads.len(), 2, "{reloads:?}");
    assert_eq!(reloads[0].0, "eva");
    assert!(reloads[0].2.starts_with("refused, "), "{reloads:?}");
    assert!(reloads[1].2.starts_with("loaded"), "{reloads:?}");

    // `/admin/reload` writes the same line.
    let r = app
        .http
        .post(format!("{}/admin/reload", app.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let last = app.audit().pop().unwrap();
    assert_eq!((last.0.as_str(), last.1.as_str()), ("beheer", "reload"));
    app.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trying_a_message_shows_the_outcome_the_replies_and_why() {
    let app = EditorApp::start().await;
    let editor = app.user("eva", "editor", &[]).await;

    let faq = app
        .try_message(
            &editor,
            json!({ "text": "hoi ik wil een nieuw paspoort", "at": "2026-11-25T10:00" }),
        )
        .await;
    assert_eq!(faq["outcome"], "faq", "{faq}");
    assert_eq!(faq["topic"], "paspoort-id-kaart");
    assert_eq!(faq["at"], "2026-11-25T09:00:00Z");
    assert_eq!(faq["open"], true);
    let reply = faq["replies"][0]["text"].as_str().unwrap();
    // The links are written in, as the resident receives them.
    assert!(
        reply.contains("https://www.terneuzen.nl/paspoort-en-id-kaart"),
        "{reply}"
    );
    let steps = faq["trace"]["steps"].as_array().unwrap();
    assert!(steps.len() >= 2, "{faq}");
    // Each step is data, with its Dutch text for the page.
    assert_eq!(steps[0], json!({"step": "open", "text": "Kantoor open."}));
    assert!(
        steps.iter().any(|s| s["step"] == "answer"
            && s["topic"] == "paspoort-id-kaart"
            && s["text"]
                .as_str()
                .unwrap()
                .starts_with("Onderwerp ‘Paspoort of ID-kaart aanvragen’ antwoordt")),
        "{faq}"
    );
    assert_eq!(faq["trace"]["candidates"][0]["id"], "paspoort-id-kaart");

    let handover = app
        .try_message(
            &editor,
            json!({ "text": "ik wil graag een medewerker spreken", "at": "2026-11-25T09:15:00+01:00" }),
        )
        .await;
    assert_eq!(handover["outcome"], "handover", "{handover}");
    assert_eq!(handover["department"], "kcc");
    assert_eq!(handover["department_name"], "Klantcontactcentrum");
    assert_eq!(
        handover["replies"][0]["text"],
        "Ik heb je vraag doorgezet naar een collega van Klantcontactcentrum. Je krijgt binnen een uur antwoord. 👍"
    );
    assert_eq!(handover["follow_up_at"], Value::Null);

    // Out of hours (a Friday evening): a follow-up on Monday morning.
    let evening = app
        .try_message(
            &editor,
            json!({ "text": "ik wil graag een medewerker spreken", "at": "2026-11-27T19:30" }),
        )
        .await;
    assert_eq!(evening["open"], false, "{evening}");
    assert_eq!(evening["follow_up_at"], "2026-11-30T08:30:00+01:00");

    // Personal data is masked in everything the answer holds.
    let r = app
        .http
        .post(format!("{}/api/editor/try", app.base))
        .bearer_auth(&editor)
        .json(&json!({ "text": "mijn bsn is 123456782, ik ben verhuisd" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let raw = r.text().await.unwrap();
    assert!(!raw.contains("123456782"), "{raw}");
    let v: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(v["masked_text"], "mijn bsn is ******782, ik ben verhuisd");
    assert_eq!(v["findings"][0]["masked"], "******782");

    // Nothing was stored: the try is no conversation.
    let (_, queues) = app.get(ADMIN, "/api/queues").await;
    assert!(queues["queues"]
        .as_array()
        .unwrap()
        .iter()
        .all(|q| q["waiting"] == 0));

    // What is refused.
    for (body, error) in [
        (json!({ "text": "   " }), "empty"),
        (json!({ "text": "a".repeat(4097) }), "text_too_long"),
        (json!({ "text": "hoi", "at": "vrijdagavond" }), "bad_time"),
        (
            json!({ "text": "hoi", "at": "2026-03-29T02:30" }),
            "bad_time",
        ),
        (json!({ "message": "hoi" }), "bad_request"),
    ] {
        let (status, v) = app.post(&editor, "/api/editor/try", body).await;
        assert_eq!(status, 400, "{v}");
        assert_eq!(v["error"], error, "{v}");
    }
    app.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handed_over_questions_are_grouped_by_similarity_newest_first() {
    let app = EditorApp::start().await;
    let editor = app.user("eva", "editor", &[]).await;
    let questions = [
        (
            "2026-11-25T10:00:00+01:00",
            "wanneer gaat het zwembad weer open",
        ),
        (
            "2026-11-25T10:01:00+01:00",
            "waarom is de bibliotheek op zondag dicht",
        ),
        (
            "2026-11-25T10:02:00+01:00",
            "Zwembad open in de kerstvakantie?",
        ),
    ];
    for (i, (at, text)) in questions.iter().enumerate() {
        app.set_clock(at).await;
        let r = app
            .app
            .post(&text_message(
                &format!("wamid.U{i}"),
                &format!("3161234000{i}"),
                text,
            ))
            .await;
        assert_eq!(r.status(), 200);
        app.unmatched(&editor, i as u64 + 1).await;
    }
    // An FAQ question is no unmatched question.
    app.app
        .post(&text_message(
            "wamid.U9",
            "31612340009",
            "ik wil een nieuw paspoort",
        ))
        .await;
    app.sent(4).await;
    let v = app.unmatched(&editor, 3).await;
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{v}");
    assert_eq!(groups[0]["size"], 2);
    assert_eq!(groups[0]["terms"], json!(["zwembad", "open"]));
    // The test clock runs on from where it is set.
    assert!(groups[0]["latest_at"]
        .as_str()
        .unwrap()
        .starts_with("2026-11-25T09:02:0"));
    let texts: Vec<&str> = groups[0]["examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, [questions[2].1, questions[0].1]);
    // Asked back about (opening hours are near): on the list, not routed to a department yet.
    assert_eq!(groups[0]["examples"][0]["department"], Value::Null);
    assert!(groups[0]["examples"][0]["conversation_id"].is_i64());
    assert_eq!(groups[1]["size"], 1);
    assert_eq!(groups[1]["examples"][0]["text"], questions[1].1);
    assert_eq!(v["departments"]["kcc"], "Klantcontactcentrum");

    // A period that holds none of them, and one that is not a period.
    app.set_clock("2026-12-20T10:00:00+01:00").await;
    let (_, v) = app.get(&editor, "/api/editor/unmatched?days=7").await;
    assert_eq!(v["questions"], 0, "{v}");
    assert_eq!(v["groups"], json!([]));
    for days in ["0", "abc", "1000"] {
        let (status, v) = app
            .get(&editor, &format!("/api/editor/unmatched?days={days}"))
            .await;
        assert_eq!(status, 400, "{v}");
        assert_eq!(v["error"], "bad_days");
    }
    app.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_and_strangers_are_refused() {
    let app = EditorApp::start().await;
    let agent = app.user("sanne", "agent", &["kcc"]).await;
    for (method, path) in [
        ("GET", "/api/editor/status"),
        ("POST", "/api/editor/reload"),
        ("POST", "/api/editor/try"),
        ("GET", "/api/editor/unmatched"),
        ("GET", "/api/editor/diff"),
    ] {
        let (status, v) = if method == "GET" {
            app.get(&agent, path).await
        } else {
            app.post(&agent, path, json!({ "text": "hoi" })).await
        };
        assert_eq!(status, 403, "{path}: {v}");
        assert_eq!(v["error"], "forbidden");
        let (status, _) = if method == "GET" {
            app.get("not-a-token", path).await
        } else {
            app.post("not-a-token", path, json!({ "text": "hoi" }))
                .await
        };
        assert_eq!(status, 401, "{path}");
    }
    // The agent's refused reload did not happen.
    assert!(app.audit().iter().all(|(_, action, _)| action != "reload"));
    app.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_would_change_replays_the_stored_messages_through_the_flows_on_disk() {
    let (app, files) = EditorApp::start_with_copy().await;
    app.set_clock(WEDNESDAY_MORNING).await;
    let editor = app.user("eva", "editor", &[]).await;
    let questions = [
        "ik wil mijn achternaam wijzigen",
        "wanneer wordt de kliko geleegd",
        "hoe kan ik mijn achternaam wijzigen",
        // A number the detectors mask before it is stored: the replay sees the mask only.
        "achternaam wijzigen, mijn bsn is 111222333",
    ];
    for (i, text) in questions.iter().enumerate() {
        let r = app
            .app
            .post(&text_message(
                &format!("wamid.D{i}"),
                &format!("3161234100{i}"),
                text,
            ))
            .await;
        assert_eq!(r.status(), 200);
    }
    app.drain().await;

    // The flows on disk are those in force: nothing would change.
    let (status, v) = app.get(&editor, "/api/editor/diff").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["days"], 7);
    assert_eq!((&v["messages"], &v["replayed"]), (&json!(4), &json!(4)));
    assert_eq!(
        (&v["changed"], &v["stopped"], &v["left_out"]),
        (&json!(0), &json!(0), &json!(0))
    );
    assert_eq!(v["changes"], json!([]));
    assert_eq!(v["max_messages"], 5000);

    // A new topic on disk, not reloaded: the surname questions would get it.
    std::fs::write(
        files.join("flows/naamswijziging.yaml"),
        "topics:
  - id: naamswijziging
    title: Achternaam wijzigen
    keywords: [achternaam, naamswijziging]
    answers: [\"Je achternaam wijzigen vraag je aan via de gemeente.\"]
",
    )
    .unwrap();
    let (status, v) = app.get(&editor, "/api/editor/diff?days=7").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["changed"], 3, "{v}");
    assert_eq!(
        v["kinds"],
        json!([
            { "kind": "handover_to_faq", "department": "burgerzaken", "topic": "naamswijziging", "count": 2 },
            { "kind": "topic", "outcome": "privacy_redirect", "from": null, "to": "naamswijziging", "count": 1 },
        ]),
        "{v}"
    );
    let changes = v["changes"].as_array().unwrap();
    let texts: Vec<&str> = changes
        .iter()
        .map(|c| c["text"].as_str().unwrap())
        .collect();
    // Newest first within each kind.
    assert_eq!(texts[..2], [questions[2], questions[0]], "{v}");
    assert!(!v.to_string().contains("111222333"), "{v}");
    assert!(
        texts[2].starts_with("achternaam wijzigen, mijn bsn is "),
        "{v}"
    );
    let c = &changes[0];
    assert_eq!(c["count"], 1);
    assert_eq!(c["messages"][0]["channel"], "whatsapp");
    assert!(c["messages"][0]["conversation_id"].is_i64());
    assert_eq!(c["before"]["outcome"], "handover");
    assert_eq!(c["before"]["department"], "burgerzaken");
    assert_eq!(c["before"]["winner"]["id"], "burgerzaken");
    assert_eq!(c["after"]["outcome"], "faq");
    assert_eq!(c["after"]["topic"], "naamswijziging");
    assert_eq!(c["after"]["winner"]["matched"][0]["term"], "achternaam");
    assert_eq!(
        c["after"]["replies"],
        json!(["Je achternaam wijzigen vraag je aan via de gemeente."])
    );
    // The reasons with their Dutch texts, as "try a message" shows them.
    assert!(c["after"]["trace"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["text"].is_string()));
    assert_eq!(
        v["names"]["topics"]["naamswijziging"],
        "Achternaam wijzigen"
    );
    assert_eq!(v["names"]["departments"]["burgerzaken"], "Burgerzaken");
    // Nothing was put in force.
    let t = app
        .try_message(
            &editor,
            json!({ "text": "ik wil mijn achternaam wijzigen" }),
        )
        .await;
    assert_eq!(t["outcome"], "handover", "{t}");
    // A day a week later holds none of them.
    app.set_clock("2026-12-03T10:00:00+01:00").await;
    let (_, v) = app.get(&editor, "/api/editor/diff?days=1").await;
    assert_eq!(
        (&v["messages"], &v["changed"]),
        (&json!(0), &json!(0)),
        "{v}"
    );
    app.set_clock("2026-11-25T10:10:00+01:00").await;

    // Errors on disk: shown as the reload shows them, nothing replayed.
    let afval = files.join("flows/afval.yaml");
    let good = std::fs::read_to_string(&afval).unwrap();
    std::fs::write(&afval, good.replacen("keywords:", "keywrods:", 1)).unwrap();
    let (status, v) = app.get(&editor, "/api/editor/diff").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["valid"], false, "{v}");
    assert_eq!(v["errors"], 1);
    assert!(v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["message"] == "unknown field `keywrods`" && d["line"].is_u64()));
    assert!(v.get("changes").is_none());

    // Fixed and reloaded: the disk is in force, and nothing would change any more.
    std::fs::write(&afval, &good).unwrap();
    let (_, r) = app.post(&editor, "/api/editor/reload", json!({})).await;
    assert_eq!(r["ok"], true, "{r}");
    let (_, v) = app.get(&editor, "/api/editor/diff").await;
    assert_eq!(
        (&v["replayed"], &v["changed"]),
        (&json!(4), &json!(0)),
        "{v}"
    );

    // Admins may look; a period that is not one is refused.
    let (status, _) = app.get(ADMIN, "/api/editor/diff").await;
    assert_eq!(status, 200);
    for days in ["0", "abc", "1000"] {
        let (status, v) = app
            .get(&editor, &format!("/api/editor/diff?days={days}"))
            .await;
        assert_eq!(status, 400, "{v}");
        assert_eq!(v["error"], "bad_days");
    }
    app.app.stop().await;
}
