//! The learning loop: labels on handed-over questions in the store (replaced, removed, gone with
//! their message's text and with their resident), the agents' and editors' API (roles, refusals
//! with a "did you mean"), and "make a test": the learned tests' file written, loaded by the
//! conversation-test loader and run by `triage test`.

mod common;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use common::app::{root, text_message, Setup, TestApp, ADMIN};
use serde_json::{json, Value};
use triage::engine::{ConversationState, Phase};
use triage::store::sqlite::SqliteStore;
use triage::store::{
    Applied, AuditRecord, LabelQuery, LabelTest, NewInbound, NewLabel, RetentionCutoffs, Store,
};

// ---------------------------------------------------------------------------------------------
// The store

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

const T0: &str = "2026-11-25T09:00:00Z";

/// A resident's message (already masked, as the store only ever gets) decided as `outcome`,
/// leaving the conversation in `phase`; returns (conversation id, message id).
fn decided(
    s: &SqliteStore,
    id: &str,
    from: &str,
    text: &str,
    outcome: &str,
    topic: Option<&str>,
    phase: Phase,
) -> (i64, i64) {
    s.insert_inbound(&[NewInbound {
        provider_id: id.into(),
        channel: triage::channel::Channel::WhatsApp,
        resident: from.into(),
        resident_name: Some("Fatima".into()),
        kind: "text".into(),
        text: text.into(),
        button: None,
        media: None,
        findings: Vec::new(),
        sent_at: at(T0),
        received_at: at(T0),
    }])
    .unwrap();
    let p = s
        .pending_inbound(10)
        .unwrap()
        .into_iter()
        .find(|p| p.provider_id == id)
        .unwrap();
    s.apply(&[Applied {
        conversation_id: p.conversation.id,
        version: p.conversation.version,
        message_id: Some(p.message_id),
        state: ConversationState {
            phase,
            department: Some("kcc".into()),
            last_inbound_at: Some(at(T0)),
            ..Default::default()
        },
        outcome: outcome.into(),
        topic: topic.map(str::to_string),
        decision: json!({ "outcome": outcome }),
        replies: Vec::new(),
        at: at(T0),
    }])
    .unwrap();
    (p.conversation.id, p.message_id)
}

fn new_label(conversation: i64, message: i64, topic: Option<&str>, by: &str) -> NewLabel {
    NewLabel {
        conversation_id: conversation,
        message_id: message,
        topic: topic.map(str::to_string),
        note: None,
        by: by.into(),
        at: at(T0),
    }
}

fn all() -> LabelQuery {
    LabelQuery {
        limit: 100,
        ..LabelQuery::default()
    }
}

#[test]
fn a_label_quotes_the_stored_text_and_labelling_again_replaces_it() {
    let s = SqliteStore::in_memory().unwrap();
    let (c, m) = decided(
        &s,
        "wamid.1",
        "31600000001",
        "kan ik mijn aanslag in termijnen betalen, bsn ******333",
        "faq",
        Some("belastingen-woz"),
        Phase::Queued,
    );
    let l = s
        .label_message(&new_label(c, m, Some("kwijtschelding"), "sanne"))
        .unwrap()
        .unwrap();
    assert_eq!(
        l.text,
        "kan ik mijn aanslag in termijnen betalen, bsn ******333"
    );
    assert_eq!(l.topic.as_deref(), Some("kwijtschelding"));
    assert_eq!(
        (l.bot_outcome.as_deref(), l.bot_topic.as_deref()),
        (Some("faq"), Some("belastingen-woz")),
        "what the bot did with it"
    );
    assert_eq!(l.test, None);

    // A test made of it, then labelled again with the same topic: still a test.
    let test = LabelTest {
        file: "fixtures/conversations/geleerd.yaml".into(),
        by: "eva".into(),
        at: at(T0),
    };
    assert!(s.mark_label_tested(m, &test).unwrap());
    let mut again = new_label(c, m, Some("kwijtschelding"), "kim");
    again.note = Some("echt kwijtschelding".into());
    let l = s.label_message(&again).unwrap().unwrap();
    assert_eq!(
        (l.by.as_str(), l.note.as_deref()),
        ("kim", Some("echt kwijtschelding"))
    );
    assert_eq!(l.test.as_ref(), Some(&test));
    // With another topic, the old test no longer says what the label does.
    let l = s
        .label_message(&new_label(c, m, None, "kim"))
        .unwrap()
        .unwrap();
    assert_eq!((l.topic, l.note, l.test), (None, None, None));
    let page = s.labels(&all()).unwrap();
    assert_eq!(page.total, 1, "one label per message");
    assert_eq!(s.conversation_view(c).unwrap().unwrap().labels.len(), 1);

    // Removed by whoever may; a second time there is nothing to remove.
    assert!(
        !s.remove_label(c + 1, m).unwrap(),
        "only in its conversation"
    );
    assert!(s.remove_label(c, m).unwrap());
    assert!(!s.remove_label(c, m).unwrap());
    assert_eq!(s.labels(&all()).unwrap().total, 0);
    assert_eq!(s.label(m).unwrap(), None);
    assert!(!s.mark_label_tested(m, &test).unwrap());
}

#[test]
fn only_a_residents_message_with_text_in_its_own_conversation_is_labelled() {
    let s = SqliteStore::in_memory().unwrap();
    let (c, m) = decided(
        &s,
        "wamid.1",
        "31600000001",
        "vraag",
        "handover",
        None,
        Phase::Queued,
    );
    let (other, _) = decided(
        &s,
        "wamid.2",
        "31600000002",
        "andere vraag",
        "handover",
        None,
        Phase::Queued,
    );
    assert_eq!(
        s.label_message(&new_label(other, m, None, "sanne"))
            .unwrap(),
        None,
        "not a message of that conversation"
    );
    assert_eq!(
        s.label_message(&new_label(c, m + 1000, None, "sanne"))
            .unwrap(),
        None
    );
    // An agent's note is no question of the resident's.
    let view = s.conversation_view(c).unwrap().unwrap();
    let change = triage::store::AgentChange {
        conversation_id: c,
        version: view.version,
        state: view.conversation.state.clone(),
        agent: None,
        messages: vec![triage::store::AgentMessage::Note {
            author: "agent:sanne".into(),
            text: "notitie".into(),
        }],
        audit: AuditRecord {
            at: at(T0),
            actor: "sanne".into(),
            action: "note".into(),
            conversation_id: Some(c),
            detail: None,
        },
        at: at(T0),
    };
    s.agent_change(&change).unwrap();
    let note = s
        .conversation_view(c)
        .unwrap()
        .unwrap()
        .messages
        .last()
        .unwrap()
        .id;
    assert_eq!(
        s.label_message(&new_label(c, note, None, "sanne")).unwrap(),
        None
    );
    assert_eq!(s.labels(&all()).unwrap().total, 0);
}

#[test]
fn labels_are_listed_newest_first_and_filtered() {
    let s = SqliteStore::in_memory().unwrap();
    let mut ids = Vec::new();
    for (i, topic) in [
        Some("afvalkalender"),
        None,
        Some("afvalkalender"),
        Some("rijbewijs"),
    ]
    .into_iter()
    .enumerate()
    {
        let (c, m) = decided(
            &s,
            &format!("wamid.{i}"),
            &format!("3160000000{i}"),
            &format!("vraag {i}"),
            "handover",
            None,
            Phase::Queued,
        );
        let mut l = new_label(c, m, topic, "sanne");
        l.at = at(&format!("2026-11-25T09:0{i}:00Z"));
        s.label_message(&l).unwrap().unwrap();
        ids.push(m);
    }
    let test = LabelTest {
        file: "geleerd.yaml".into(),
        by: "eva".into(),
        at: at(T0),
    };
    s.mark_label_tested(ids[2], &test).unwrap();
    let page = |q: LabelQuery| {
        let p = s.labels(&q).unwrap();
        (
            p.total,
            p.labels.iter().map(|l| l.message_id).collect::<Vec<_>>(),
        )
    };
    assert_eq!(page(all()), (4, vec![ids[3], ids[2], ids[1], ids[0]]));
    let topic = |t: &str| LabelQuery {
        topic: Some(t.into()),
        ..all()
    };
    assert_eq!(page(topic("afvalkalender")), (2, vec![ids[2], ids[0]]));
    assert_eq!(
        page(LabelQuery {
            new_topic: true,
            ..all()
        }),
        (1, vec![ids[1]])
    );
    assert_eq!(
        page(LabelQuery {
            untested: true,
            ..topic("afvalkalender")
        }),
        (1, vec![ids[0]])
    );
    assert_eq!(
        page(LabelQuery {
            offset: 1,
            limit: 2,
            ..all()
        }),
        (4, vec![ids[2], ids[1]])
    );
    // What `triage eval --labels` runs: every label, oldest first.
    assert_eq!(
        s.labelled_questions().unwrap(),
        vec![
            ("vraag 0".to_string(), Some("afvalkalender".to_string())),
            ("vraag 1".to_string(), None),
            ("vraag 2".to_string(), Some("afvalkalender".to_string())),
            ("vraag 3".to_string(), Some("rijbewijs".to_string())),
        ]
    );
}

#[test]
fn a_label_goes_with_its_messages_text_at_the_end_of_the_retention_term() {
    let s = SqliteStore::in_memory().unwrap();
    // Resolved: nobody works on it, so its texts go at the end of the term.
    let (idle, old) = decided(
        &s,
        "wamid.1",
        "31600000001",
        "oude vraag",
        "handover",
        None,
        Phase::Resolved,
    );
    // Still waiting for a person: its question stays readable however long it waits.
    let (waiting, kept) = decided(
        &s,
        "wamid.2",
        "31600000002",
        "wachtende vraag",
        "handover",
        None,
        Phase::Queued,
    );
    s.label_message(&new_label(idle, old, Some("afvalkalender"), "sanne"))
        .unwrap()
        .unwrap();
    s.label_message(&new_label(waiting, kept, None, "sanne"))
        .unwrap()
        .unwrap();
    let cut = RetentionCutoffs {
        message_texts: Some(at("2026-12-01T00:00:00Z")),
        ..RetentionCutoffs::default()
    };
    let removed = s.apply_retention(&cut, at("2026-12-01T00:00:00Z")).unwrap();
    assert_eq!((removed.message_texts, removed.labels), (1, 1));
    assert_eq!(s.label(old).unwrap(), None);
    assert_eq!(
        s.labelled_questions().unwrap(),
        vec![("wachtende vraag".to_string(), None)]
    );
    // A message whose text is gone cannot be labelled again.
    assert_eq!(
        s.label_message(&new_label(idle, old, None, "sanne"))
            .unwrap(),
        None
    );
    // A second sweep finds nothing more.
    let removed = s.apply_retention(&cut, at("2026-12-01T01:00:00Z")).unwrap();
    assert_eq!(removed.labels, 0);
}

#[test]
fn an_erased_resident_takes_their_labels_along() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("triage.db")).unwrap();
    let (c, m) = decided(
        &s,
        "wamid.1",
        "31611112222",
        "vraag-over-kwijtschelding-7q",
        "handover",
        None,
        Phase::Queued,
    );
    let (other, kept) = decided(
        &s,
        "wamid.2",
        "31633334444",
        "vraag-over-parkeren-3z",
        "handover",
        None,
        Phase::Queued,
    );
    let mut l = new_label(c, m, Some("kwijtschelding"), "sanne");
    l.note = Some("notitie-bij-het-label-9k".into());
    s.label_message(&l).unwrap().unwrap();
    s.label_message(&new_label(other, kept, None, "sanne"))
        .unwrap()
        .unwrap();
    // The right of access shows the label too.
    let export = s
        .resident_export("whatsapp", "31611112222")
        .unwrap()
        .unwrap();
    assert_eq!(export.counts().labels, 1);
    assert_eq!(
        export.conversations[0]["labels"][0]["note"],
        "notitie-bij-het-label-9k"
    );
    let erased = s
        .resident_erase(
            "whatsapp",
            "31611112222",
            &AuditRecord {
                at: at(T0),
                actor: "cli".into(),
                action: "resident_erase".into(),
                conversation_id: None,
                detail: None,
            },
        )
        .unwrap()
        .unwrap();
    assert_eq!(erased.labels, 1);
    assert_eq!(erased, export.counts());
    assert_eq!(s.label(m).unwrap(), None);
    assert!(s.label(kept).unwrap().is_some(), "another resident's stays");
    drop(s);
    let mut bytes = Vec::new();
    for e in std::fs::read_dir(dir.path()).unwrap() {
        bytes.extend(std::fs::read(e.unwrap().path()).unwrap());
    }
    let text = String::from_utf8_lossy(&bytes);
    for gone in ["vraag-over-kwijtschelding-7q", "notitie-bij-het-label-9k"] {
        assert!(!text.contains(gone), "`{gone}` is still in the files");
    }
    assert!(text.contains("vraag-over-parkeren-3z"));
}

// ---------------------------------------------------------------------------------------------
// The API

/// A Wednesday morning: the office is open.
const WEDNESDAY_MORNING: &str = "2026-11-25T10:00:00+01:00";

/// The service on a copy of the shipped flows, rules and conversation tests (the learned tests'
/// file is written into the copy), with one admin.
async fn started() -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["flows", "rules", "fixtures/conversations"] {
        let to = dir.path().join(sub);
        std::fs::create_dir_all(&to).unwrap();
        for e in std::fs::read_dir(root().join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
            }
        }
    }
    let app = TestApp::start_setup(Setup {
        files: dir.path().to_path_buf(),
        admin: true,
        ..Setup::default()
    })
    .await;
    app.set_clock(WEDNESDAY_MORNING).await;
    (app, dir)
}

async fn put(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    let r = app
        .http
        .put(format!("{}{path}", app.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn delete(app: &TestApp, token: &str, path: &str) -> u16 {
    app.http
        .delete(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A resident writes `text`; returns the conversation once the bot has decided on it.
async fn writes(app: &TestApp, id: &str, from: &str, text: &str) -> i64 {
    let r = app.post(&text_message(id, from, text)).await;
    assert_eq!(r.status(), 200);
    app.drain().await;
    let store = app.state.store.clone();
    let from = from.to_string();
    tokio::task::spawn_blocking(move || {
        let pending = store.pending_inbound(10).unwrap();
        assert!(pending.is_empty(), "every message decided");
        store
            .resident_export("whatsapp", &from)
            .unwrap()
            .unwrap()
            .conversations[0]["id"]
            .as_i64()
            .unwrap()
    })
    .await
    .unwrap()
}

/// The id of the resident's message with this text in conversation `c`.
async fn message(app: &TestApp, c: i64, text: &str) -> i64 {
    let (status, v) = app.get_as(ADMIN, &format!("/api/conversations/{c}")).await;
    assert_eq!(status, 200, "{v}");
    v["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["direction"] == "in" && m["text"] == text)
        .unwrap_or_else(|| panic!("no message `{text}` in {v}"))["id"]
        .as_i64()
        .unwrap()
}

fn label_path(c: i64, m: i64) -> String {
    format!("/api/conversations/{c}/messages/{m}/label")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_label_the_questions_of_conversations_they_see() {
    let (app, _dir) = started().await;
    let sanne = app.user("sanne", "agent", &["sociaal-domein"]).await;
    let kim = app.user("kim", "agent", &["kcc"]).await;
    let eva = app.user("eva", "editor", &[]).await;
    let c = writes(
        &app,
        "wamid.L1",
        "31612340001",
        "ik wil een wmo voorziening aanvragen",
    )
    .await;
    let (_, v) = app.get_as(&sanne, &format!("/api/conversations/{c}")).await;
    assert_eq!(v["department"], "sociaal-domein", "{v}");
    assert_eq!(
        (v["can_label"].clone(), v["labels"].clone()),
        (json!(true), json!([]))
    );
    let m = message(&app, c, "ik wil een wmo voorziening aanvragen").await;
    let bot = v["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["author"] == "bot")
        .unwrap()["id"]
        .as_i64()
        .unwrap();

    let (status, l) = put(
        &app,
        &sanne,
        &label_path(c, m),
        json!({ "topic": "bijstand" }),
    )
    .await;
    assert_eq!(status, 200, "{l}");
    assert_eq!(l["topic"], "bijstand");
    assert_eq!(l["topic_title"].as_str().map(|t| !t.is_empty()), Some(true));
    assert_eq!(l["new_topic"], false);
    assert_eq!(l["text"], "ik wil een wmo voorziening aanvragen");
    assert_eq!(l["by"], "sanne");
    assert_eq!(l["bot"]["outcome"], "handover");
    assert_eq!(l["test"], Value::Null);

    // What is refused, and how.
    for body in [
        json!({ "topic": "bijstand" }),
        json!({ "topic": "bijstant" }),
    ] {
        let (status, v) = put(&app, &kim, &label_path(c, m), body).await;
        assert_eq!(
            (status, v["error"].as_str()),
            (403, Some("forbidden")),
            "{v}"
        );
    }
    let (status, v) = put(
        &app,
        &sanne,
        &label_path(c, m),
        json!({ "topic": "bijstant" }),
    )
    .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("unknown_topic")),
        "{v}"
    );
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("Bedoel je `bijstand`?"),
        "{v}"
    );
    for body in [
        json!({ "topic": "bijstand", "new_topic": true }),
        json!({}),
        json!({ "topic": "  " }),
        json!({ "onderwerp": "bijstand" }),
    ] {
        let (status, v) = put(&app, &sanne, &label_path(c, m), body.clone()).await;
        assert_eq!(
            (status, v["error"].as_str()),
            (400, Some("bad_request")),
            "{body}: {v}"
        );
    }
    let (status, v) = put(
        &app,
        &sanne,
        &label_path(c, bot),
        json!({ "new_topic": true }),
    )
    .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("not_a_question")),
        "{v}"
    );
    let (status, _) = put(
        &app,
        &sanne,
        &label_path(c, 999_999),
        json!({ "new_topic": true }),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = put(
        &app,
        &sanne,
        &label_path(9_999, m),
        json!({ "new_topic": true }),
    )
    .await;
    assert_eq!(status, 404);
    let long = json!({ "new_topic": true, "note": "x".repeat(501) });
    let (status, v) = put(&app, &sanne, &label_path(c, m), long).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("text_too_long")),
        "{v}"
    );

    // Labelled again: the label is replaced, its note masked like every stored text.
    let body = json!({ "new_topic": true, "note": "inwoner gaf bsn 111222333 door" });
    let r = app
        .http
        .put(format!("{}{}", app.base, label_path(c, m)))
        .bearer_auth(&sanne)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let raw = r.text().await.unwrap();
    assert!(!raw.contains("111222333"), "{raw}");
    let (_, v) = app.get_as(&sanne, &format!("/api/conversations/{c}")).await;
    let labels = v["labels"].as_array().unwrap();
    assert_eq!(labels.len(), 1, "{v}");
    assert_eq!(labels[0]["message_id"], m);
    assert_eq!(labels[0]["new_topic"], true);
    assert_eq!(labels[0]["topic"], Value::Null);
    assert_eq!(labels[0]["note"], "inwoner gaf bsn ******333 door");

    // The picker's topics, by title.
    let (status, t) = app.get_as(&sanne, "/api/topics").await;
    assert_eq!(status, 200, "{t}");
    let titles: Vec<String> = t["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["title"].as_str().unwrap().to_lowercase())
        .collect();
    let mut sorted = titles.clone();
    sorted.sort();
    assert_eq!(titles, sorted);
    assert!(t["topics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == "bijstand"));

    // The editors' list is for editors.
    let (status, _) = app.get_as(&sanne, "/api/editor/labels").await;
    assert_eq!(status, 403);
    let (status, _) = app
        .post_as(&sanne, &format!("/api/editor/labels/{m}/test"), json!({}))
        .await;
    assert_eq!(status, 403);
    let (status, v) = app.get_as(&eva, "/api/editor/labels").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["total"], 1);
    assert!(v["tests_file"]
        .as_str()
        .unwrap()
        .ends_with("fixtures/conversations/geleerd.yaml"));
    for (query, total) in [
        ("new_topic=true", 1),
        ("topic=bijstand", 0),
        ("untested=true", 1),
    ] {
        let (status, v) = app
            .get_as(&eva, &format!("/api/editor/labels?{query}"))
            .await;
        assert_eq!(
            (status, v["total"].as_u64()),
            (200, Some(total)),
            "{query}: {v}"
        );
    }
    let (status, v) = app.get_as(&eva, "/api/editor/labels?topic=bijstant").await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("unknown_topic")),
        "{v}"
    );
    assert!(v["message"].as_str().unwrap().contains("`bijstand`"), "{v}");
    for query in [
        "untested=misschien",
        "topic=bijstand&new_topic=true",
        "limit=x",
    ] {
        let (status, v) = app
            .get_as(&eva, &format!("/api/editor/labels?{query}"))
            .await;
        assert_eq!(status, 400, "{query}: {v}");
    }

    // A conversation the bot answered itself has nothing for a person to label.
    let faq = writes(
        &app,
        "wamid.L2",
        "31612340002",
        "wanneer wordt de groene container geleegd",
    )
    .await;
    let fm = message(&app, faq, "wanneer wordt de groene container geleegd").await;
    let (status, v) = put(
        &app,
        &eva,
        &label_path(faq, fm),
        json!({ "topic": "afvalkalender" }),
    )
    .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (409, Some("not_handed_over")),
        "{v}"
    );

    // Removed by whoever sees the conversation.
    assert_eq!(delete(&app, &kim, &label_path(c, m)).await, 403);
    assert_eq!(delete(&app, &sanne, &label_path(c, m)).await, 204);
    assert_eq!(delete(&app, &sanne, &label_path(c, m)).await, 404);
    let (_, v) = app.get_as(&eva, "/api/editor/labels").await;
    assert_eq!(v["total"], 0);
    app.stop().await;
}

/// The learned tests' file in the copy.
fn learned_file(dir: &Path) -> PathBuf {
    dir.join("fixtures/conversations/geleerd.yaml")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_label_becomes_a_conversation_test_that_triage_test_runs() {
    let (app, dir) = started().await;
    let kim = app.user("kim", "agent", &["kcc", "sociaal-domein"]).await;
    let eva = app.user("eva", "editor", &[]).await;
    // Answered with the wrong topic, then handed over.
    let a = writes(
        &app,
        "wamid.A1",
        "31612340001",
        "kan ik mijn aanslag in termijnen betalen",
    )
    .await;
    writes(
        &app,
        "wamid.A2",
        "31612340001",
        "ik wil graag een medewerker spreken",
    )
    .await;
    // Handed over, then a question with a BSN in it (stored masked).
    let b = writes(
        &app,
        "wamid.B1",
        "31612340002",
        "ik wil graag een medewerker spreken",
    )
    .await;
    writes(
        &app,
        "wamid.B2",
        "31612340002",
        "mijn bsn is 111222333 en ik ben verhuisd",
    )
    .await;
    // A question no topic answers.
    let c = writes(
        &app,
        "wamid.C1",
        "31612340003",
        "ik wil een wmo voorziening aanvragen",
    )
    .await;
    let am = message(&app, a, "kan ik mijn aanslag in termijnen betalen").await;
    let bm = message(&app, b, "mijn bsn is ******333 en ik ben verhuisd").await;
    let cm = message(&app, c, "ik wil een wmo voorziening aanvragen").await;
    for (conversation, m, body) in [
        (
            a,
            am,
            json!({ "topic": "kwijtschelding", "note": "wil een regeling" }),
        ),
        (b, bm, json!({ "topic": "verhuizing" })),
        (c, cm, json!({ "new_topic": true })),
    ] {
        let (status, v) = put(&app, &kim, &label_path(conversation, m), body).await;
        assert_eq!(status, 200, "{v}");
    }
    let (_, list) = app.get_as(&eva, "/api/editor/labels").await;
    assert_eq!(list["total"], 3, "{list}");
    let first = &list["labels"][2];
    assert_eq!(first["message_id"], am, "newest first");
    assert_eq!(first["bot"]["outcome"], "faq");
    assert_eq!(
        first["bot"]["topic"], "belastingen-woz",
        "the topic the bot chose"
    );

    // One click: the test is added, and it fails with the flows as they are (that is the point).
    let file = learned_file(dir.path());
    assert!(!file.exists());
    let (status, t) = app
        .post_as(&eva, &format!("/api/editor/labels/{am}/test"), json!({}))
        .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["added"], true);
    assert!(t["file"].as_str().unwrap().ends_with("geleerd.yaml"));
    assert_eq!(t["passes"], false, "{t}");
    let failure = t["failure"].as_str().unwrap();
    assert!(
        failure.contains("kwijtschelding") && failure.contains("belastingen-woz"),
        "{failure}"
    );
    assert_eq!(t["label"]["test"]["by"], "eva");
    let yaml = t["yaml"].as_str().unwrap();
    assert!(
        yaml.contains("- say: \"kan ik mijn aanslag in termijnen betalen\""),
        "{yaml}"
    );
    assert!(
        yaml.contains("expect: { outcome: faq, topic: kwijtschelding }"),
        "{yaml}"
    );
    assert!(yaml.contains("# Notitie: wil een regeling"), "{yaml}");
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(
        written.starts_with(
            "# yaml-language-server: $schema=../../schema/conversation-test.schema.json\n"
        ),
        "the schema line the other test files carry: {written}"
    );
    assert!(written.ends_with(yaml), "{written}");
    let line = t["line"].as_u64().unwrap() as usize;
    assert!(
        written.lines().nth(line - 1).unwrap().contains("- name: "),
        "{written}"
    );

    // The editor writes in the file meanwhile; the next test keeps what they wrote.
    let edited = written.replace(
        "\ntests:\n",
        "\n# Eigen opmerking van de redactie.\ntests:\n",
    );
    std::fs::write(&file, &edited).unwrap();
    let (status, t) = app
        .post_as(&eva, &format!("/api/editor/labels/{bm}/test"), json!({}))
        .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["passes"], true, "{t}");
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(written.starts_with(&edited), "{written}");
    // The masked value stays masked; the number is in no file.
    assert!(
        written.contains("- say: \"mijn bsn is ******333 en ik ben verhuisd\""),
        "{written}"
    );
    assert!(!written.contains("111222333"));

    // A file the editor broke is left alone, and the test is given to add by hand.
    let broken = format!("{written}  - name: kapot\n    stepz: []\n");
    std::fs::write(&file, &broken).unwrap();
    let (status, v) = app
        .post_as(&eva, &format!("/api/editor/labels/{cm}/test"), json!({}))
        .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (409, Some("tests_file_invalid")),
        "{v}"
    );
    assert!(
        v["test"]["yaml"]
            .as_str()
            .unwrap()
            .contains("outcome: handover"),
        "{v}"
    );
    let d = &v["test"]["diagnostics"][0];
    assert!(
        d["file"].as_str().unwrap().ends_with("geleerd.yaml") && d["line"].as_u64().unwrap() > 1,
        "{v}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), broken);
    let (_, v) = app.get_as(&eva, "/api/editor/labels?untested=true").await;
    assert_eq!(v["total"], 1, "the label is still to be made a test");
    std::fs::write(&file, &written).unwrap();
    let (status, t) = app
        .post_as(&eva, &format!("/api/editor/labels/{cm}/test"), json!({}))
        .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(
        t["passes"], true,
        "a new topic's question goes to a person: {t}"
    );
    let (_, v) = app.get_as(&eva, "/api/editor/labels?untested=true").await;
    assert_eq!(v["total"], 0);

    // A second click adds nothing.
    let before = std::fs::read_to_string(&file).unwrap();
    let (status, t) = app
        .post_as(&eva, &format!("/api/editor/labels/{am}/test"), json!({}))
        .await;
    assert_eq!((status, t["added"].clone()), (200, json!(false)), "{t}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);
    let (status, _) = app
        .post_as(&eva, "/api/editor/labels/999999/test", json!({}))
        .await;
    assert_eq!(status, 404);

    // The loader of `triage test` reads the directory, the new file in it.
    let loaded = triage::convtest::load(&[dir.path().join("fixtures/conversations")]).unwrap();
    let learned = loaded
        .iter()
        .find(|l| l.file.name.ends_with("geleerd.yaml"))
        .unwrap();
    assert_eq!(learned.tests.tests.len(), 3);
    let (_, status) = app.get_as(&eva, "/api/editor/status").await;
    assert_eq!(status["tests"]["problems"], json!([]), "{status}");

    // And `triage test` runs it: two pass, the wrong topic fails with its place.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(["test", "fixtures/conversations/geleerd.yaml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains("conversations: 2 passed, 1 failed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FAIL fixtures/conversations/geleerd.yaml:"),
        "{stdout}"
    );
    assert!(stdout.contains("gelabelde vraag"), "{stdout}");

    // Who made which test is in the audit trail.
    let store = app.state.store.clone();
    let view = tokio::task::spawn_blocking(move || store.conversation_view(a).unwrap().unwrap())
        .await
        .unwrap();
    assert!(view
        .audit
        .iter()
        .any(|x| x.action == "label_test" && x.actor == "eva"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_that_cannot_be_written_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the directory should be: not even root can create it.
    let blocker = dir.path().join("not-a-directory");
    std::fs::write(&blocker, "").unwrap();
    let tests = blocker.join("conversations");
    let app = TestApp::start_setup(Setup {
        admin: true,
        configure: Box::new(move |c| c.tests = Some(tests)),
        ..Setup::default()
    })
    .await;
    app.set_clock(WEDNESDAY_MORNING).await;
    let eva = app.user("eva", "editor", &[]).await;
    let c = writes(
        &app,
        "wamid.N1",
        "31612340001",
        "mijn buurman heeft een vraag over iets raars",
    )
    .await;
    let m = message(&app, c, "mijn buurman heeft een vraag over iets raars").await;
    let (status, _) = put(&app, &eva, &label_path(c, m), json!({ "new_topic": true })).await;
    assert_eq!(status, 200);
    let (status, v) = app
        .post_as(&eva, &format!("/api/editor/labels/{m}/test"), json!({}))
        .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (409, Some("not_writable")),
        "{v}"
    );
    assert!(
        v["message"].as_str().unwrap().contains("not-a-directory"),
        "{v}"
    );
    assert!(
        v["test"]["yaml"]
            .as_str()
            .unwrap()
            .contains("- say: \"mijn buurman heeft een vraag over iets raars\""),
        "the test to add by hand: {v}"
    );
    let (_, v) = app.get_as(&eva, "/api/editor/labels?untested=true").await;
    assert_eq!(v["total"], 1, "still to be made a test");
    assert_eq!(std::fs::read(&blocker).unwrap(), b"");
    app.stop().await;
}

/// `triage eval --labels`: the questions agents labelled, read from the database, measured
/// against the flows on disk; "needs a new topic" counts as a person's question, and a label
/// whose topic the flows no longer have is left out and named.
#[test]
fn triage_eval_labels_measures_the_labelled_questions_from_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("triage.db");
    {
        let s = SqliteStore::open(&db).unwrap();
        let labelled = [
            (
                "wamid.1",
                "wanneer komen ze de groene bak legen",
                Some("afvalkalender"),
            ),
            (
                "wamid.2",
                "hoe staat het met mijn aanvraag van vorige week",
                None,
            ),
            (
                "wamid.3",
                "mijn rijbewijs is verlopen wat nu",
                Some("verwijderd-onderwerp"),
            ),
        ];
        for (i, (id, text, topic)) in labelled.into_iter().enumerate() {
            let from = format!("3160000000{i}");
            let (c, m) = decided(&s, id, &from, text, "handover", None, Phase::Queued);
            s.label_message(&new_label(c, m, topic, "sanne"))
                .unwrap()
                .unwrap();
        }
    }
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_triage"))
            .args(args)
            .current_dir(root())
            .env("TRIAGE_DATABASE_URL", format!("sqlite:{}", db.display()))
            .output()
            .expect("the binary runs")
    };
    let o = run(&["eval", "--labels", "--json"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("left out 1 labelled question(s) whose topic the flows no longer have: verwijderd-onderwerp"),
        "{err}"
    );
    let v: Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    assert_eq!(v["faq"]["questions"], 1, "{v}");
    assert_eq!(v["person"]["questions"], 1, "{v}");
    // Without a database there is nothing to measure, and it says so.
    let none = std::process::Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(["eval", "--labels"])
        .current_dir(root())
        .env(
            "TRIAGE_DATABASE_URL",
            format!("sqlite:{}", dir.path().join("nowhere.db").display()),
        )
        .output()
        .unwrap();
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr).contains("there is no database"));
}
