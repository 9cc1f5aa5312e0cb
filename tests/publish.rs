//! Editing in the browser from the outside: a draft saved and checked, tried and tested, then
//! published (the files on disk and the answers change), refused when stale, invalid or failing
//! the conversation tests, four eyes, the history with its diffs, rollback, versions found on
//! the disk, who may do it, and the audit trail.

mod common;

use std::path::PathBuf;

use common::app::{root, Setup, TestApp};
use serde_json::{json, Value};

/// A Wednesday morning: the office is open.
const WEDNESDAY_MORNING: &str = "2026-11-25T10:00:00+01:00";
/// A question the afvalkalender topic answers.
const KLIKO: &str = "wanneer wordt de groene kliko geleegd";

/// The service on a copy of the shipped flows, rules and conversation tests.
struct App {
    app: TestApp,
    files: PathBuf,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for App {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.app
    }
}

impl App {
    async fn start() -> App {
        App::start_with(false).await
    }

    /// With `approval = "required"` when `four_eyes`.
    async fn start_with(four_eyes: bool) -> App {
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
            clock: WEDNESDAY_MORNING,
            configure: Box::new(move |c| {
                if four_eyes {
                    c.editor.approval = triage::service::config::Approval::Required;
                }
            }),
        })
        .await;
        App {
            app,
            files,
            _dir: dir,
        }
    }

    fn disk(&self, path: &str) -> String {
        std::fs::read_to_string(self.files.join(path)).unwrap()
    }

    async fn send(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, token, path, None).await
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, token, path, Some(body))
            .await
    }

    /// The newest version's id and the text of `path` in force.
    async fn in_force(&self, token: &str, path: &str) -> (i64, String) {
        let (status, v) = self.get(token, "/api/editor/files").await;
        assert_eq!(status, 200, "{v}");
        let text = v["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .map(|f| f["text"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{path} is not in force: {v}"));
        (v["version"]["id"].as_i64().unwrap(), text)
    }

    /// Saves a draft of one changed file on `base`; returns the check.
    async fn draft(&self, token: &str, base: i64, path: &str, text: Option<&str>) -> Value {
        let (status, v) = self
            .send(
                reqwest::Method::PUT,
                token,
                "/api/editor/draft",
                Some(json!({ "base_version": base, "files": [{ "path": path, "text": text }] })),
            )
            .await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["saved"], true);
        v["check"].clone()
    }

    /// What the flows in force answer to `text`, as JSON text.
    async fn answer(&self, token: &str, text: &str) -> String {
        let (status, v) = self
            .post(token, "/api/editor/try", json!({ "text": text }))
            .await;
        assert_eq!(status, 200, "{v}");
        v["replies"].to_string()
    }

    async fn versions(&self, token: &str) -> Vec<Value> {
        let (status, v) = self.get(token, "/api/editor/versions").await;
        assert_eq!(status, 200, "{v}");
        v.as_array().unwrap().clone()
    }

    /// The audit trail's lines: (actor, action, detail).
    fn audit(&self) -> Vec<(String, String, String)> {
        let db = rusqlite::Connection::open(self.db_path()).unwrap();
        let mut stmt = db
            .prepare("SELECT actor, action, COALESCE(detail, '') FROM audit ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn audited(&self, actor: &str, action: &str) -> Vec<String> {
        self.audit()
            .into_iter()
            .filter(|(a, b, _)| a == actor && b == action)
            .map(|(_, _, d)| d)
            .collect()
    }
}

/// The afval file with both Dutch answers of the afvalkalender starting with `Nieuw:`.
fn new_answer(text: &str) -> String {
    let t = text
        .replacen(
            "\"Wanneer welke container aan de straat moet",
            "\"Nieuw: wanneer welke container aan de straat moet",
            1,
        )
        .replacen(
            "\"In de afvalkalender vind je per adres",
            "\"Nieuw: in de afvalkalender vind je per adres",
            1,
        );
    assert_ne!(t, text, "the shipped answers changed: update this test");
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_is_checked_tried_tested_and_published_and_the_answer_changes() {
    let app = App::start().await;
    let eva = app.user("eva", "editor", &[]).await;
    // At start-up the files on disk became the first version.
    let history = app.versions(&eva).await;
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0]["kind"], "disk");
    assert_eq!(history[0]["author"], "schijf");
    let (base, afval) = app.in_force(&eva, "flows/afval.yaml").await;
    assert_eq!(afval, app.disk("flows/afval.yaml"));
    assert!(!app.answer(&eva, KLIKO).await.contains("Nieuw:"));

    let (status, v) = app.get(&eva, "/api/editor/draft").await;
    assert_eq!(
        (status, v["error"].as_str()),
        (404, Some("no_draft")),
        "{v}"
    );

    // A misspelt field: saved all the same, with the error at its place.
    let broken = afval.replacen("keywords:", "keywrods:", 1);
    let check = app
        .draft(&eva, base, "flows/afval.yaml", Some(&broken))
        .await;
    assert_eq!(check["valid"], false, "{check}");
    assert!(
        check["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["file"] == "flows/afval.yaml"
                && d["message"].as_str().unwrap().contains("keywrods")),
        "{check}"
    );
    let (status, v) = app
        .post(&eva, "/api/editor/publish", json!({ "message": "kapot" }))
        .await;
    assert_eq!((status, v["error"].as_str()), (422, Some("invalid")), "{v}");
    assert!(v["diagnostics"].to_string().contains("keywrods"), "{v}");
    let (status, v) = app
        .post(&eva, "/api/editor/draft/try", json!({ "text": KLIKO }))
        .await;
    assert_eq!((status, v["error"].as_str()), (422, Some("invalid")), "{v}");

    // Fixed: valid, and the draft answers with the new text while the flows in force do not.
    let check = app
        .draft(&eva, base, "flows/afval.yaml", Some(&new_answer(&afval)))
        .await;
    assert_eq!(check["valid"], true, "{check}");
    let (status, v) = app.get(&eva, "/api/editor/draft").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["base_version"], base);
    assert_eq!(v["files"][0]["path"], "flows/afval.yaml");
    let (status, v) = app
        .post(&eva, "/api/editor/draft/try", json!({ "text": KLIKO }))
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["topic"], "afvalkalender", "{v}");
    assert!(v["replies"].to_string().contains("Nieuw:"), "{v}");
    assert!(!app.answer(&eva, KLIKO).await.contains("Nieuw:"));
    let (status, v) = app.post(&eva, "/api/editor/draft/test", json!({})).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["failed"], 0, "{v}");
    assert!(v["passed"].as_u64().unwrap() > 10, "{v}");
    let (status, v) = app.get(&eva, "/api/editor/draft/diff?days=7").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(
        app.disk("flows/afval.yaml"),
        afval,
        "a draft changes nothing on disk"
    );

    let (status, v) = app
        .post(&eva, "/api/editor/publish", json!({ "message": "  " }))
        .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("message_needed")),
        "{v}"
    );
    let (status, v) = app
        .post(
            &eva,
            "/api/editor/publish",
            json!({ "message": "Nieuwe tekst afvalkalender" }),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let published = v["version"]["id"].as_i64().unwrap();
    assert_eq!(v["version"]["parent"], base);
    assert_eq!(v["version"]["kind"], "publish");
    assert_eq!(v["version"]["author"], "eva");
    assert_eq!(v["version"]["files_changed"], 1);
    // On disk, in force, and the draft is gone.
    assert_eq!(app.disk("flows/afval.yaml"), new_answer(&afval));
    assert!(app.answer(&eva, KLIKO).await.contains("Nieuw:"));
    let (status, _) = app.get(&eva, "/api/editor/draft").await;
    assert_eq!(status, 404);
    assert_eq!(app.in_force(&eva, "flows/afval.yaml").await.0, published);
    // No temporary file is left beside the flows.
    let names: Vec<String> = std::fs::read_dir(app.files.join("flows"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");

    // The history, with the diff against the parent.
    let history = app.versions(&eva).await;
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["id"], published);
    let (status, v) = app
        .get(&eva, &format!("/api/editor/versions/{published}"))
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["diff"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["diff"][0]["path"], "flows/afval.yaml");
    let diff = v["diff"][0]["diff"].as_str().unwrap();
    assert!(
        diff.starts_with("--- a/flows/afval.yaml\n+++ b/flows/afval.yaml\n@@ -"),
        "{diff}"
    );
    assert!(
        diff.contains("\n+      - \"Nieuw: wanneer welke container"),
        "{diff}"
    );
    assert!(
        diff.contains("\n-      - \"Wanneer welke container"),
        "{diff}"
    );
    let (status, _) = app.get(&eva, "/api/editor/versions/999").await;
    assert_eq!(status, 404);

    assert_eq!(app.audited("schijf", "disk_version").len(), 1);
    assert_eq!(app.audited("eva", "publish_refused").len(), 1);
    let lines = app.audited("eva", "publish");
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].contains(&format!("versie {published}")) && lines[0].contains("afvalkalender"),
        "{lines:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_on_an_older_version_is_refused_with_the_others_diff() {
    let app = App::start().await;
    let eva = app.user("eva", "editor", &[]).await;
    let bram = app.user("bram", "editor", &[]).await;
    let (base, afval) = app.in_force(&eva, "flows/afval.yaml").await;
    let (_, algemeen) = app.in_force(&eva, "flows/algemeen.yaml").await;
    // Both start from the same version; Bram publishes first.
    app.draft(&eva, base, "flows/afval.yaml", Some(&new_answer(&afval)))
        .await;
    let bram_text = algemeen.replacen("Oostelijk Bolwerk 4", "Oostelijk Bolwerk 5", 1);
    app.draft(&bram, base, "flows/algemeen.yaml", Some(&bram_text))
        .await;
    let (status, v) = app
        .post(
            &bram,
            "/api/editor/publish",
            json!({ "message": "Nieuw adres" }),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let brams = v["version"]["id"].as_i64().unwrap();

    let (status, v) = app
        .post(&eva, "/api/editor/publish", json!({ "message": "Afval" }))
        .await;
    assert_eq!((status, v["error"].as_str()), (409, Some("stale")), "{v}");
    assert_eq!(v["newest"]["id"], brams);
    assert_eq!(v["newest"]["author"], "bram");
    let message = v["message"].as_str().unwrap();
    assert!(
        message.contains("bram") && message.contains(&format!("versie {brams}")),
        "{message}"
    );
    assert!(message.contains("25 november 2026"), "{message}");
    assert_eq!(v["diff"][0]["path"], "flows/algemeen.yaml", "{v}");
    assert!(v["diff"][0]["diff"]
        .as_str()
        .unwrap()
        .contains("Oostelijk Bolwerk 5"));
    // Nothing of Eva's reached the disk; Bram's change stays.
    assert_eq!(app.disk("flows/afval.yaml"), afval);
    assert_eq!(app.disk("flows/algemeen.yaml"), bram_text);
    assert!(app.audited("eva", "publish_refused")[0].starts_with("stale"));

    // On the newest version it goes.
    let (newest, _) = app.in_force(&eva, "flows/afval.yaml").await;
    app.draft(&eva, newest, "flows/afval.yaml", Some(&new_answer(&afval)))
        .await;
    let (status, v) = app
        .post(&eva, "/api/editor/publish", json!({ "message": "Afval" }))
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(app.disk("flows/algemeen.yaml"), bram_text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_that_fails_the_conversation_tests_is_not_published() {
    let app = App::start().await;
    let eva = app.user("eva", "editor", &[]).await;
    let (base, algemeen) = app.in_force(&eva, "flows/algemeen.yaml").await;
    // A conversation test expects the phone number in the opening hours' answer.
    let changed = algemeen.replace("14 0115", "14 0000");
    let check = app
        .draft(&eva, base, "flows/algemeen.yaml", Some(&changed))
        .await;
    assert_eq!(check["valid"], true, "{check}");
    let (status, v) = app.post(&eva, "/api/editor/draft/test", json!({})).await;
    assert_eq!(status, 200, "{v}");
    assert!(v["failed"].as_u64().unwrap() >= 1, "{v}");
    let failing = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["passed"] == false)
        .unwrap()
        .clone();
    assert!(
        failing["text"].as_str().unwrap().contains("14 0115"),
        "{failing}"
    );
    let (status, v) = app
        .post(&eva, "/api/editor/publish", json!({ "message": "Nummer" }))
        .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (422, Some("tests_failed")),
        "{v}"
    );
    assert!(v["tests"]["failed"].as_u64().unwrap() >= 1, "{v}");
    assert!(v["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["passed"] == false));
    assert_eq!(app.disk("flows/algemeen.yaml"), algemeen);
    assert_eq!(app.versions(&eva).await.len(), 1);
    assert!(app.audited("eva", "publish_refused")[0].starts_with("tests_failed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_paths_and_deleted_rules_files_are_refused_and_a_flow_file_can_go() {
    let app = App::start().await;
    let eva = app.user("eva", "editor", &[]).await;
    let (base, _) = app.in_force(&eva, "flows/afval.yaml").await;
    for (path, text, error) in [
        ("flows/../rules/privacy.yaml", Some("x"), "bad_path"),
        ("../geheim.yaml", Some("x"), "bad_path"),
        ("rules/privacy.yaml", None, "rules_file_needed"),
    ] {
        let (status, v) = app
            .send(
                reqwest::Method::PUT,
                &eva,
                "/api/editor/draft",
                Some(json!({ "base_version": base, "files": [{ "path": path, "text": text }] })),
            )
            .await;
        assert_eq!(
            (status, v["error"].as_str()),
            (400, Some(error)),
            "{path}: {v}"
        );
    }
    let (status, v) = app
        .send(
            reqwest::Method::PUT,
            &eva,
            "/api/editor/draft",
            Some(json!({ "base_version": 999, "files": [] })),
        )
        .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("unknown_version")),
        "{v}"
    );
    // A new flow file, then deleting it.
    let extra = "topics:\n  - id: proef\n    title: Proef\n    keywords: [proefwoord]\n    answers: [\"Dit is een proef.\"]\n";
    let check = app.draft(&eva, base, "flows/proef.yaml", Some(extra)).await;
    assert_eq!(check["valid"], true, "{check}");
    let (status, v) = app
        .post(&eva, "/api/editor/publish", json!({ "message": "Proef" }))
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(app.disk("flows/proef.yaml"), extra);
    let added = v["version"]["id"].as_i64().unwrap();
    app.draft(&eva, added, "flows/proef.yaml", None).await;
    let (status, v) = app
        .post(&eva, "/api/editor/publish", json!({ "message": "Weg" }))
        .await;
    assert_eq!(status, 200, "{v}");
    assert!(!app.files.join("flows/proef.yaml").exists());
    // A draft can be thrown away.
    app.draft(&eva, base, "flows/proef.yaml", Some(extra)).await;
    let (status, _) = app
        .send(reqwest::Method::DELETE, &eva, "/api/editor/draft", None)
        .await;
    assert_eq!(status, 200);
    let (status, _) = app.get(&eva, "/api/editor/draft").await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_four_eyes_another_editor_approves_and_the_author_cannot() {
    let app = App::start_with(true).await;
    let eva = app.user("eva", "editor", &[]).await;
    let bram = app.user("bram", "editor", &[]).await;
    let (base, afval) = app.in_force(&eva, "flows/afval.yaml").await;
    app.draft(&eva, base, "flows/afval.yaml", Some(&new_answer(&afval)))
        .await;
    let (status, v) = app
        .post(&eva, "/api/editor/publish", json!({ "message": "Afval" }))
        .await;
    assert_eq!(status, 202, "{v}");
    let id = v["request"]["id"].as_i64().unwrap();
    assert_eq!(v["request"]["status"], "pending");
    // Nothing in force yet.
    assert_eq!(app.disk("flows/afval.yaml"), afval);
    assert!(!app.answer(&eva, KLIKO).await.contains("Nieuw:"));
    let (status, v) = app.get(&bram, "/api/editor/requests").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["requests"][0]["id"], id);
    assert!(v["requests"][0]["diff"][0]["diff"]
        .as_str()
        .unwrap()
        .contains("+      - \"Nieuw:"));

    for action in ["approve", "reject"] {
        let (status, v) = app
            .post(
                &eva,
                &format!("/api/editor/requests/{id}/{action}"),
                json!({}),
            )
            .await;
        assert_eq!(
            (status, v["error"].as_str()),
            (403, Some("own_request")),
            "{v}"
        );
    }
    let (status, v) = app
        .post(
            &bram,
            &format!("/api/editor/requests/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["version"]["author"], "eva");
    assert_eq!(v["version"]["approved_by"], "bram");
    assert_eq!(app.disk("flows/afval.yaml"), new_answer(&afval));
    assert!(app.answer(&eva, KLIKO).await.contains("Nieuw:"));
    let (status, v) = app
        .post(
            &bram,
            &format!("/api/editor/requests/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (409, Some("not_pending")),
        "{v}"
    );
    let (status, _) = app.get(&eva, "/api/editor/draft").await;
    assert_eq!(status, 404, "the published draft is gone");

    // A second request on the old version: approving it is refused as stale; then rejected.
    let (_, algemeen) = app.in_force(&eva, "flows/algemeen.yaml").await;
    app.draft(
        &eva,
        base,
        "flows/algemeen.yaml",
        Some(&algemeen.replacen("Oostelijk Bolwerk 4", "Oostelijk Bolwerk 5", 1)),
    )
    .await;
    let (status, v) = app
        .post(&eva, "/api/editor/publish", json!({ "message": "Adres" }))
        .await;
    // Made on an older version: refused before it becomes a request.
    assert_eq!((status, v["error"].as_str()), (409, Some("stale")), "{v}");
    let (newest, _) = app.in_force(&eva, "flows/algemeen.yaml").await;
    app.draft(
        &eva,
        newest,
        "flows/algemeen.yaml",
        Some(&algemeen.replacen("Oostelijk Bolwerk 4", "Oostelijk Bolwerk 5", 1)),
    )
    .await;
    let (status, v) = app
        .post(&eva, "/api/editor/publish", json!({ "message": "Adres" }))
        .await;
    assert_eq!(status, 202, "{v}");
    let second = v["request"]["id"].as_i64().unwrap();
    let (status, v) = app
        .post(
            &bram,
            &format!("/api/editor/requests/{second}/reject"),
            json!({ "reason": "Het adres klopt niet" }),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["request"]["status"], "rejected");
    assert_eq!(v["request"]["reason"], "Het adres klopt niet");
    assert_eq!(app.disk("flows/algemeen.yaml"), algemeen);

    assert_eq!(app.audited("eva", "publish_requested").len(), 2);
    assert!(app.audited("bram", "publish")[0].contains("goedgekeurd"));
    assert!(app.audited("bram", "publish_rejected")[0].contains("klopt niet"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_brings_the_old_files_and_answer_back() {
    let app = App::start().await;
    let eva = app.user("eva", "editor", &[]).await;
    let (first, afval) = app.in_force(&eva, "flows/afval.yaml").await;
    app.draft(&eva, first, "flows/afval.yaml", Some(&new_answer(&afval)))
        .await;
    let (status, v) = app
        .post(&eva, "/api/editor/publish", json!({ "message": "Afval" }))
        .await;
    assert_eq!(status, 200, "{v}");
    assert!(app.answer(&eva, KLIKO).await.contains("Nieuw:"));
    let published = v["version"]["id"].as_i64().unwrap();

    // Stale when another version came since the one the editor saw.
    let (status, v) = app
        .post(
            &eva,
            "/api/editor/rollback",
            json!({ "version": first, "base_version": first }),
        )
        .await;
    assert_eq!((status, v["error"].as_str()), (409, Some("stale")), "{v}");
    let (status, v) = app
        .post(
            &eva,
            "/api/editor/rollback",
            json!({ "version": first, "base_version": published }),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["version"]["kind"], "rollback");
    assert_eq!(v["version"]["parent"], published);
    assert_eq!(
        v["version"]["message"],
        format!("Teruggezet naar versie {first}")
    );
    assert_eq!(app.disk("flows/afval.yaml"), afval);
    assert!(!app.answer(&eva, KLIKO).await.contains("Nieuw:"));
    // Rolling back to what is in force changes nothing.
    let (status, v) = app
        .post(&eva, "/api/editor/rollback", json!({ "version": first }))
        .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (422, Some("no_changes")),
        "{v}"
    );
    let (status, v) = app
        .post(&eva, "/api/editor/rollback", json!({ "version": 999 }))
        .await;
    assert_eq!(status, 404, "{v}");
    assert!(app.audited("eva", "rollback")[0].contains(&format!("terug naar versie {first}")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_on_disk_becomes_a_version_at_reload_and_is_never_overwritten() {
    let app = App::start().await;
    let eva = app.user("eva", "editor", &[]).await;
    let (base, afval) = app.in_force(&eva, "flows/afval.yaml").await;
    app.draft(&eva, base, "flows/afval.yaml", Some(&new_answer(&afval)))
        .await;
    // Someone edits a file with a text editor and does not reload.
    let path = app.files.join("flows/algemeen.yaml");
    let by_hand = std::fs::read_to_string(&path).unwrap().replacen(
        "Oostelijk Bolwerk 4",
        "Oostelijk Bolwerk 6",
        1,
    );
    std::fs::write(&path, &by_hand).unwrap();
    let (status, v) = app
        .post(&eva, "/api/editor/publish", json!({ "message": "Afval" }))
        .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (409, Some("disk_changed")),
        "{v}"
    );
    assert!(
        v["diff"][0]["diff"]
            .as_str()
            .unwrap()
            .contains("+      - \"We zijn op werkdagen"),
        "{v}"
    );
    assert_eq!(app.disk("flows/afval.yaml"), afval);

    // Reloaded: the disk's files are a version by who reloaded; the draft is then stale.
    let (status, v) = app.post(&eva, "/api/editor/reload", json!({})).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["ok"], true, "{v}");
    let history = app.versions(&eva).await;
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0]["kind"], "disk");
    assert_eq!(history[0]["author"], "eva");
    assert_eq!(history[0]["message"], "gewijzigd op de schijf");
    assert_eq!(history[0]["files_changed"], 1);
    let (status, v) = app
        .post(&eva, "/api/editor/publish", json!({ "message": "Afval" }))
        .await;
    assert_eq!((status, v["error"].as_str()), (409, Some("stale")), "{v}");
    assert!(v["message"]
        .as_str()
        .unwrap()
        .contains("op de schijf gewijzigd"));
    // A reload without a change records nothing.
    app.post(&eva, "/api/editor/reload", json!({})).await;
    assert_eq!(app.versions(&eva).await.len(), 2);
    assert_eq!(app.audited("eva", "disk_version").len(), 1);
    assert_eq!(app.audited("eva", "publish_refused").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_may_not_edit() {
    let app = App::start().await;
    let agent = app.user("anna", "agent", &["kcc"]).await;
    for (method, path) in [
        (reqwest::Method::GET, "/api/editor/files"),
        (reqwest::Method::GET, "/api/editor/draft"),
        (reqwest::Method::PUT, "/api/editor/draft"),
        (reqwest::Method::POST, "/api/editor/publish"),
        (reqwest::Method::GET, "/api/editor/versions"),
        (reqwest::Method::GET, "/api/editor/requests"),
        (reqwest::Method::POST, "/api/editor/rollback"),
        (reqwest::Method::POST, "/api/editor/requests/1/approve"),
        (reqwest::Method::POST, "/api/editor/check"),
        (reqwest::Method::GET, "/api/editor/schema/flow"),
    ] {
        let (status, v) = app
            .send(
                method.clone(),
                &agent,
                path,
                Some(json!({ "message": "x", "version": 1, "base_version": 1, "files": [] })),
            )
            .await;
        assert_eq!(status, 403, "{method} {path}: {v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_publishes_at_once_one_wins_and_the_other_is_stale() {
    let app = App::start().await;
    let eva = app.user("eva", "editor", &[]).await;
    let bram = app.user("bram", "editor", &[]).await;
    let (base, afval) = app.in_force(&eva, "flows/afval.yaml").await;
    let (_, algemeen) = app.in_force(&eva, "flows/algemeen.yaml").await;
    app.draft(&eva, base, "flows/afval.yaml", Some(&new_answer(&afval)))
        .await;
    let bram_text = algemeen.replacen("Oostelijk Bolwerk 4", "Oostelijk Bolwerk 5", 1);
    app.draft(&bram, base, "flows/algemeen.yaml", Some(&bram_text))
        .await;
    let (a, b) = tokio::join!(
        app.post(&eva, "/api/editor/publish", json!({ "message": "Afval" })),
        app.post(&bram, "/api/editor/publish", json!({ "message": "Adres" })),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} {}", a.1, b.1);
    let (won, lost) = if a.0 == 200 { (a.1, b.1) } else { (b.1, a.1) };
    assert_eq!(lost["error"], "stale", "{lost}");
    assert_eq!(lost["newest"]["id"], won["version"]["id"]);
    // Exactly the winner's change is on disk and in the history.
    let history = app.versions(&eva).await;
    assert_eq!(history.len(), 2);
    let on_disk = (
        app.disk("flows/afval.yaml") == new_answer(&afval),
        app.disk("flows/algemeen.yaml") == bram_text,
    );
    match won["version"]["author"].as_str().unwrap() {
        "eva" => assert_eq!(on_disk, (true, false)),
        _ => assert_eq!(on_disk, (false, true)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_may_hold_files_larger_than_other_requests() {
    let app = App::start().await;
    let eva = app.user("eva", "editor", &[]).await;
    let (base, afval) = app.in_force(&eva, "flows/afval.yaml").await;
    // Far above the 64 KiB of the other editors' requests.
    let big = format!("{afval}\n{}", "# een lange toelichting\n".repeat(20_000));
    assert!(big.len() > 400_000);
    let check = app.draft(&eva, base, "flows/afval.yaml", Some(&big)).await;
    assert_eq!(check["valid"], true, "{check}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_not_in_force_is_checked_where_it_is_and_nothing_changes() {
    let app = App::start().await;
    let eva = app.user("eva", "editor", &[]).await;
    let (_, text) = app.in_force(&eva, "flows/afval.yaml").await;
    let typo = text.replacen("keywords:", "keywrods:", 1);
    let line = typo.lines().position(|l| l.contains("keywrods:")).unwrap() + 1;
    let (status, v) = app
        .post(
            &eva,
            "/api/editor/check",
            json!({ "files": [{ "path": "flows/afval.yaml", "text": typo }] }),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["valid"], false, "{v}");
    let d = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["message"] == "unknown field `keywrods`")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(
        (d["file"].as_str(), d["line"].as_u64()),
        (Some("flows/afval.yaml"), Some(line as u64))
    );
    assert!(d["help"].as_str().unwrap().contains("keywords"), "{d}");
    // Nothing was written, and the files in force still check.
    assert_eq!(app.disk("flows/afval.yaml"), text);
    let (status, v) = app
        .post(&eva, "/api/editor/check", json!({ "files": [] }))
        .await;
    assert_eq!((status, v["valid"].as_bool()), (200, Some(true)), "{v}");
    let (status, v) = app
        .post(
            &eva,
            "/api/editor/check",
            json!({ "files": [{ "path": "flows/../geheim.yaml", "text": "x" }] }),
        )
        .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("bad_path")),
        "{v}"
    );

    // The schemas the editor completes from.
    let (status, v) = app.get(&eva, "/api/editor/schema/flow").await;
    assert_eq!(status, 200);
    assert!(v["properties"]["topics"].is_object(), "{v}");
    let (status, v) = app.get(&eva, "/api/editor/schema/nope").await;
    assert_eq!(status, 404, "{v}");
}
