//! The editors' command line, run as the real binary against the shipped flows and against
//! broken copies of them in a temporary directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn triage(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A copy of the shipped flows, rules and conversation tests in a temporary directory.
fn copy_of_shipped() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temp dir");
    for sub in ["flows", "rules", "fixtures/conversations", "schema"] {
        let from = root().join(sub);
        let to = dir.path().join(sub);
        std::fs::create_dir_all(&to).expect("mkdir");
        for entry in std::fs::read_dir(&from).expect("read dir") {
            let p = entry.expect("entry").path();
            if p.is_file() {
                std::fs::copy(&p, to.join(p.file_name().expect("name"))).expect("copy");
            }
        }
    }
    dir
}

#[test]
fn check_passes_on_the_shipped_flows() {
    let o = triage(&root(), &["check"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).starts_with("ok: "), "{}", stdout(&o));
    // Every shipped topic has a conversation test, and every shipped text is B1.
    assert!(
        !stderr(&o).contains("has no conversation test"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("(B1:"), "{}", stderr(&o));
}

#[test]
fn the_shipped_conversation_tests_pass() {
    let o = triage(&root(), &["test"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains(" passed, 0 failed"), "{}", stdout(&o));
}

#[test]
fn the_required_topics_and_departments_are_shipped() {
    let (set, _) = triage::flows::FlowSet::load(&root().join("flows"), &root().join("rules"))
        .expect("the shipped flows load");
    for id in [
        "paspoort-id-kaart",
        "rijbewijs",
        "verhuizing",
        "afvalkalender",
        "grofvuil",
        "milieustraat",
        "parkeervergunning",
        "belastingen-woz",
        "kwijtschelding",
        "hondenbelasting",
        "melding-openbare-ruimte",
        "afspraak",
        "openingstijden",
        "geboorte-aangifte",
        "overlijden",
        "trouwen",
        "uittreksel-brp",
        "omgevingsvergunning",
        "bijstand",
        "evenementenvergunning",
    ] {
        assert!(set.topic_index(id).is_some(), "topic `{id}` is missing");
    }
    for id in [
        "burgerzaken",
        "belastingen",
        "openbare-ruimte",
        "vergunningen",
        "sociaal-domein",
        "kcc",
    ] {
        assert!(
            set.department_index(id).is_some(),
            "department `{id}` is missing"
        );
    }
}

#[test]
fn try_gives_the_reasons_in_english_or_in_dutch() {
    let args = |lang: &'static str| {
        [
            "try",
            "ik wil een medewerker spreken",
            "--at",
            "2026-11-27T19:30:00+01:00",
            "--lang",
            lang,
        ]
    };
    let en = stdout(&triage(&root(), &args("en")));
    assert!(
        en.contains("faq: `medewerker-spreken` is for a person to answer"),
        "{en}"
    );
    assert!(
        en.contains("out of hours: the out-of-hours reply, once for this closed period"),
        "{en}"
    );
    let nl = stdout(&triage(&root(), &args("nl")));
    assert!(
        nl.contains("1. Kantoor dicht, weer open op maandag 30 november om 08:30."),
        "{nl}"
    );
    assert!(
        nl.contains("naar de standaardafdeling Klantcontactcentrum"),
        "{nl}"
    );
    let bad = triage(&root(), &args("fr"));
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("fr"), "{}", stderr(&bad));
}

#[test]
fn try_json_has_the_documented_fields() {
    let o = triage(
        &root(),
        &[
            "try",
            "ik wil een wmo voorziening aanvragen voor een traplift",
            "--at",
            "2026-11-27T19:30:00+01:00",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON object");
    assert_eq!(v["outcome"], "handover");
    assert_eq!(v["topic"], serde_json::Value::Null);
    assert_eq!(v["open"], false);
    assert_eq!(v["department"], "sociaal-domein");
    assert_eq!(v["follow_up_at"], "2026-11-30T08:30:00+01:00");
    assert!(v["replies"][0]["text"]
        .as_str()
        .is_some_and(|t| t.contains("maandag 30 november om 08:30")));
    for key in ["links", "redacted_text", "trace"] {
        assert!(v.get(key).is_some(), "missing `{key}`");
    }
}

#[test]
fn try_explains_itself_in_plain_text() {
    let o = triage(
        &root(),
        &[
            "try",
            "ik wil een nieuw paspoort",
            "--at",
            "2026-11-24T10:00:00+01:00",
        ],
    );
    let out = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.contains("outcome     faq"), "{out}");
    assert!(out.contains("topic       paspoort-id-kaart"), "{out}");
    assert!(out.contains("why\n"), "{out}");
    assert!(out.contains("topics considered"), "{out}");
}

#[test]
fn a_privacy_hit_never_shows_the_number() {
    let o = triage(
        &root(),
        &[
            "try",
            "ik ben verhuisd, mijn bsn is 123456782",
            "--at",
            "2026-11-24T10:00:00+01:00",
            "--json",
        ],
    );
    let out = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!out.contains("123456782"), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["outcome"], "privacy_redirect");
    assert_eq!(v["topic"], "verhuizing");
}

#[test]
fn check_reports_errors_with_positions_and_exits_1() {
    let dir = copy_of_shipped();
    let path = dir.path().join("rules/departments.yaml");
    let text = std::fs::read_to_string(&path).expect("read");
    let broken = text.replacen("default: kcc", "default: kccc", 1);
    assert_ne!(
        text, broken,
        "the shipped departments file names `default: kcc`"
    );
    std::fs::write(&path, broken).expect("write");
    let o = triage(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("rules/departments.yaml:") && err.contains("error: unknown department `kccc`"),
        "{err}"
    );
    assert!(err.contains("did you mean `kcc`?"), "{err}");

    let o = triage(dir.path(), &["check", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["ok"], false);
    assert_eq!(v["diagnostics"][0]["file"], "rules/departments.yaml");
    assert!(v["diagnostics"][0]["line"].as_u64().is_some_and(|l| l > 0));
}

#[test]
fn check_warns_about_an_answer_above_b1_at_its_position() {
    let dir = copy_of_shipped();
    let path = dir.path().join("flows/algemeen.yaml");
    let text = std::fs::read_to_string(&path).expect("read");
    let plain = "Ik ben de digitale assistent van Gemeente Terneuzen. Waar kan ik je mee helpen?";
    let wordy = "Ik ben de digitale assistent van Gemeente Terneuzen en ik help je graag verder \
        met al je vragen over de dienstverlening van de gemeente, zoals paspoorten en afval. \
        Voor vragen over de gemeentelijke belastingen verwijzen wij u naar de \
        klantcontactmedewerkers van de afdeling Belastingen.";
    let changed = text.replacen(plain, wordy, 1);
    assert_ne!(text, changed, "the shipped greeting says `{plain}`");
    std::fs::write(&path, &changed).expect("write");
    let line = changed
        .lines()
        .position(|l| l.contains("Ik ben de digitale assistent van Gemeente Terneuzen en"))
        .expect("the answer")
        + 1;
    // The answer is `      - "Hoi {name}! …`: the text starts at column 9.
    let at = format!("flows/algemeen.yaml:{line}:9: warning: ");

    let o = triage(dir.path(), &["check"]);
    let err = stderr(&o);
    assert!(o.status.success(), "warnings do not fail a check: {err}");
    // Ik … afval: 28 words.
    assert!(
        err.contains(&format!(
            "{at}sentence of 28 words (B1: at most 20): `Ik ben de digitale assistent van Gemeente Terneuzen en"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{at}long word `klantcontactmedewerkers`: 7 syllables (B1: at most 5)\n"
        )),
        "{err}"
    );
    // With the greeting before it (`Hoi {name}!`: one word) and the shipped sentence after it
    // (12 words, 20 syllables): 57 words, 108 syllables, 4 sentences, so
    // 206.835 - 0.93 * 57 / 4 - 77 * 108 / 57 = 47.7; without the `Voor vragen` sentence
    // (16 words, 38 syllables) it would score 62.7, more than without any other.
    assert!(
        err.contains(&format!(
            "{at}readability 48 (Flesch-Douma; B1: 60 or more), hardest sentence: `Voor vragen over de gemeentelijke belastingen"
        )),
        "{err}"
    );
    // `Belastingen` inside a sentence is a name, `Terneuzen` too: neither is a long word.
    assert!(!err.contains("`Belastingen`"), "{err}");
    assert!(stdout(&o).contains("; 3 warnings"), "{}", stdout(&o));

    let o = triage(dir.path(), &["check", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["ok"], true);
    assert_eq!(v["warnings"], 3);
    let d = &v["diagnostics"][0];
    assert_eq!(d["severity"], "warning");
    assert_eq!(d["file"], "flows/algemeen.yaml");
    assert_eq!(d["line"], line);
    assert_eq!(d["column"], 9);
    assert!(d["help"]
        .as_str()
        .is_some_and(|h| h.starts_with("split it")));
}

#[test]
fn a_failing_conversation_test_shows_a_diff_and_exits_1() {
    let dir = copy_of_shipped();
    std::fs::write(
        dir.path().join("fixtures/conversations/zz-wrong.yaml"),
        "tests:\n  - name: deliberately wrong\n    at: 2026-11-24T10:00:00+01:00\n    steps:\n      - say: ik wil een nieuw paspoort\n        expect:\n          topic: rijbewijs\n",
    )
    .expect("write");
    let o = triage(dir.path(), &["test"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("FAIL fixtures/conversations/zz-wrong.yaml:2: deliberately wrong"),
        "{out}"
    );
    assert!(out.contains("- expected: rijbewijs"), "{out}");
    assert!(out.contains("+ got:      paspoort-id-kaart"), "{out}");
    assert!(out.contains(" passed, 1 failed"), "{out}");
}

#[test]
fn the_committed_schemas_are_up_to_date_and_every_file_names_its_schema() {
    for (kind, schema) in triage::flows::model::schemas() {
        let path = root().join(format!("schema/{kind}.schema.json"));
        let committed = std::fs::read_to_string(&path).expect("committed schema");
        let generated = serde_json::to_string_pretty(&schema).expect("json") + "\n";
        assert!(
            committed == generated,
            "schema/{kind}.schema.json is stale: run `cargo run -- schema --write schema`"
        );
    }
    let dirs = [
        ("flows", "flow"),
        ("fixtures/conversations", "conversation-test"),
    ];
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    for (dir, kind) in dirs {
        for p in triage::flows::yaml_files(&root().join(dir)).expect("dir") {
            files.push((p, kind.to_string()));
        }
    }
    for kind in ["office-hours", "privacy", "departments"] {
        files.push((root().join(format!("rules/{kind}.yaml")), kind.to_string()));
    }
    for (p, kind) in files {
        let text = std::fs::read_to_string(&p).expect("read");
        let first = text.lines().next().unwrap_or_default();
        let schema = first
            .strip_prefix("# yaml-language-server: $schema=")
            .unwrap_or_else(|| panic!("{} lacks the schema line", p.display()));
        assert!(
            schema.ends_with(&format!("{kind}.schema.json")),
            "{}: {first}",
            p.display()
        );
        let target = p.parent().expect("parent").join(schema);
        assert!(
            target.exists(),
            "{}: {} does not exist",
            p.display(),
            target.display()
        );
    }
}

#[test]
fn schema_prints_json_and_refuses_unknown_kinds() {
    let o = triage(&root(), &["schema", "privacy"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert!(v["properties"]["secure_pages"].is_object());
    let o = triage(&root(), &["schema", "flows"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("did you mean `flow`?"),
        "{}",
        stderr(&o)
    );
}

/// `triage user add` and `triage user password` on a database of its own; the password is
/// stored only as an argon2 hash, and it signs in (checked against the store's hash).
#[test]
fn users_get_passwords_from_stdin_or_made_up_and_only_hashes_are_stored() {
    use std::io::Write;
    use triage::store::Store;
    let dir = copy_of_shipped();
    let db = dir.path().join("users.db");
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_triage"))
            .args(args)
            .current_dir(dir.path())
            .env("TRIAGE_DATABASE_URL", format!("sqlite:{}", db.display()))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the binary runs");
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        child.wait_with_output().unwrap()
    };

    let o = run(
        &[
            "user",
            "add",
            "bram",
            "--departments",
            "burgerzaken",
            "--password-stdin",
        ],
        Some("kort\n"),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("at least 10 characters"),
        "{}",
        stderr(&o)
    );

    let o = run(
        &[
            "user",
            "add",
            "bram",
            "--departments",
            "burgerzaken",
            "--password-stdin",
        ],
        Some("een goed wachtwoord\n"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !stdout(&o).contains("password:"),
        "a given password is not printed"
    );
    assert!(stdout(&o).contains("api token: "));

    let o = run(&["user", "password", "bram"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let made_up = stdout(&o)
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("a made-up password is printed")
        .to_string();
    assert_eq!(made_up.len(), 20);

    let o = run(&["user", "password", "nobody"], None);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no user `nobody`"), "{}", stderr(&o));

    let store = triage::store::sqlite::SqliteStore::open(&db).unwrap();
    let (user, hash) = store.password_hash("bram").unwrap().unwrap();
    assert_eq!(user.departments, vec!["burgerzaken".to_string()]);
    let hash = hash.unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains(&made_up));
    assert!(triage::service::auth::verify_password(&made_up, &hash));
    assert!(!triage::service::auth::verify_password(
        "een goed wachtwoord",
        &hash
    ));
}

#[test]
fn a_resident_is_exported_as_json_and_erased_with_a_summary_on_stderr() {
    use triage::store::{NewInbound, Store};
    let dir = copy_of_shipped();
    let db = dir.path().join("rights.db");
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-27T18:30:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    {
        let store = triage::store::sqlite::SqliteStore::open(&db).unwrap();
        let message = |id: &str, from: &str, text: &str| NewInbound {
            provider_id: id.into(),
            channel: triage::channel::Channel::WhatsApp,
            resident: from.into(),
            resident_name: Some("Henriette".into()),
            kind: "text".into(),
            text: text.into(),
            button: None,
            media: None,
            findings: Vec::new(),
            sent_at: at,
            received_at: at,
        };
        store
            .insert_inbound(&[
                message("wamid.1", "31611112222", "waar is mijn pas-8k"),
                message("wamid.2", "31611112222", "hallo?"),
                message("wamid.3", "31633334444", "andere bewoner"),
            ])
            .unwrap();
    }
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_triage"))
            .args(args)
            .current_dir(dir.path())
            .env("TRIAGE_DATABASE_URL", format!("sqlite:{}", db.display()))
            .output()
            .expect("the binary runs")
    };

    let o = run(&["resident", "export", "whatsapp", "31611112222"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let export: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert_eq!(export["resident"], "31611112222");
    let conversations = export["conversations"].as_array().unwrap();
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0]["resident_name"], "Henriette");
    let texts: Vec<&str> = conversations[0]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["waar is mijn pas-8k", "hallo?"]);
    assert!(!stdout(&o).contains("andere bewoner"));
    assert!(
        stderr(&o).contains("exported 1 conversations, 2 messages"),
        "{}",
        stderr(&o)
    );
    assert!(
        !stderr(&o).contains("31611112222"),
        "the summary names no number"
    );

    let o = run(&["resident", "export", "whatsapp", "31699999999"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no resident"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());

    let o = run(&["resident", "erase", "whatsapp", "31611112222"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("erased 1 conversations, 2 messages"),
        "{}",
        stderr(&o)
    );
    let o = run(&["resident", "erase", "whatsapp", "31611112222"]);
    assert_eq!(o.status.code(), Some(1), "a second erasure finds nobody");
    assert!(stderr(&o).contains("no resident"), "{}", stderr(&o));
    let o = run(&["resident", "export", "whatsapp", "31611112222"]);
    assert_eq!(o.status.code(), Some(1));

    let mut bytes = Vec::new();
    for e in std::fs::read_dir(dir.path()).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() && p.to_string_lossy().contains("rights.db") {
            bytes.extend(std::fs::read(p).unwrap());
        }
    }
    for gone in ["31611112222", "waar is mijn pas-8k"] {
        assert!(
            !bytes.windows(gone.len()).any(|w| w == gone.as_bytes()),
            "`{gone}` is still in the database files"
        );
    }
    let store = triage::store::sqlite::SqliteStore::open(&db).unwrap();
    assert!(store
        .resident_export("whatsapp", "31633334444")
        .unwrap()
        .is_some());
}

/// Stores residents' messages in a new database at `db` and decides each with the shipped flows
/// as the service's processor does (in its conversation's state, at the time it came in).
fn seeded_database(db: &Path, messages: &[(&str, &str, &str, &str)]) {
    use triage::engine::{decide, Message};
    use triage::store::{Applied, NewInbound, Store};
    let (flows, _) = triage::flows::FlowSet::load(&root().join("flows"), &root().join("rules"))
        .expect("the shipped flows load");
    let store = triage::store::sqlite::SqliteStore::open(db).unwrap();
    for (id, from, text, at) in messages {
        let at = chrono::DateTime::parse_from_rfc3339(at)
            .unwrap()
            .with_timezone(&chrono::Utc);
        store
            .insert_inbound(&[NewInbound {
                provider_id: (*id).into(),
                channel: triage::channel::Channel::WhatsApp,
                resident: (*from).into(),
                resident_name: None,
                kind: "text".into(),
                text: (*text).into(),
                button: None,
                media: None,
                findings: Vec::new(),
                sent_at: at,
                received_at: at,
            }])
            .unwrap();
        let p = store.pending_inbound(1).unwrap().remove(0);
        let d = decide(
            &flows,
            &p.conversation.state,
            &Message {
                masked: Some(Vec::new()),
                ..Message::text(p.text.clone())
            },
            at,
        );
        store
            .apply(&[Applied {
                conversation_id: p.conversation.id,
                version: p.conversation.version,
                message_id: Some(p.message_id),
                state: d.state.clone(),
                outcome: d.outcome.as_str().into(),
                topic: d.topic.clone(),
                decision: serde_json::to_value(d.reasons()).unwrap(),
                replies: Vec::new(),
                at,
            }])
            .unwrap();
    }
}

#[test]
fn diff_shows_what_the_flows_on_disk_would_change_and_exits_as_diff_does() {
    let dir = copy_of_shipped();
    let db = dir.path().join("diff.db");
    seeded_database(
        &db,
        &[
            // Before the period of seven days: never replayed.
            (
                "wamid.d0",
                "31600000009",
                "mijn achternaam wijzigen graag",
                "2026-11-01T10:00:00+01:00",
            ),
            (
                "wamid.d1",
                "31600000001",
                "wanneer wordt de kliko geleegd",
                "2026-11-24T10:00:00+01:00",
            ),
            (
                "wamid.d2",
                "31600000002",
                "ik wil mijn achternaam wijzigen",
                "2026-11-24T11:00:00+01:00",
            ),
            // The same resident again while their question waits: decided by the conversation's
            // state, so not compared.
            (
                "wamid.d3",
                "31600000002",
                "hallo??",
                "2026-11-24T11:30:00+01:00",
            ),
            (
                "wamid.d4",
                "31600000003",
                "hoe kan ik mijn achternaam wijzigen",
                "2026-11-24T12:00:00+01:00",
            ),
        ],
    );
    let run = |args: &[&str]| {
        let mut all = vec!["diff", "--at", "2026-11-25T10:00:00+01:00"];
        all.extend_from_slice(args);
        Command::new(env!("CARGO_BIN_EXE_triage"))
            .args(&all)
            .current_dir(dir.path())
            .env("TRIAGE_DATABASE_URL", format!("sqlite:{}", db.display()))
            .output()
            .expect("the binary runs")
    };

    // The flows on disk are those that decided: nothing changes.
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("replayed 4 messages of the last 7 days (2026-11-18 10:00 to 2026-11-25 10:00) against the decisions recorded when they came in"),
        "{out}"
    );
    assert!(out.contains("  1 not compared: "), "{out}");
    assert!(out.ends_with("nothing would change\n"), "{out}");

    // A new topic takes the surname questions from the handover to Burgerzaken.
    std::fs::write(
        dir.path().join("flows/naamswijziging.yaml"),
        "topics:
  - id: naamswijziging
    title: Achternaam wijzigen
    keywords: [achternaam, naamswijziging]
    answers: [\"Je achternaam wijzigen vraag je aan bij de rechtbank of via de gemeente.\"]
",
    )
    .unwrap();
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("2 messages would change:\n"), "{out}");
    assert!(
        out.contains("      2  handover to burgerzaken → FAQ naamswijziging\n"),
        "{out}"
    );
    // Each changed message, newest first, with before → after and the terms that carried each.
    let hoe = out
        .find("  \"hoe kan ik mijn achternaam wijzigen\" 2026-11-24 12:00 on whatsapp")
        .unwrap_or_else(|| panic!("{out}"));
    let ik = out
        .find("  \"ik wil mijn achternaam wijzigen\" 2026-11-24 11:00 on whatsapp")
        .unwrap_or_else(|| panic!("{out}"));
    assert!(hoe < ik, "{out}");
    assert!(
        out.contains("    before  handover to burgerzaken: "),
        "{out}"
    );
    assert!(
        out.contains("    after   FAQ naamswijziging: keyword `achternaam`"),
        "{out}"
    );
    assert!(
        !out.contains("graag"),
        "the old message is outside the period"
    );
    assert!(!out.contains("kliko"), "an unchanged message is not listed");

    // The same as JSON, for scripts.
    let o = run(&["--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    assert_eq!(v["before"], "recorded");
    assert_eq!(v["days"], 7);
    assert_eq!(v["left_out"], 0);
    let r = &v["report"];
    assert_eq!(
        (&r["replayed"], &r["not_comparable"], &r["changed"]),
        (&4.into(), &1.into(), &2.into())
    );
    assert_eq!(r["kinds"][0]["kind"], "handover_to_faq");
    assert_eq!(r["kinds"][0]["department"], "burgerzaken");
    assert_eq!(r["kinds"][0]["topic"], "naamswijziging");
    assert_eq!(
        r["changes"][0]["text"],
        "hoe kan ik mijn achternaam wijzigen"
    );
    assert_eq!(r["changes"][0]["after"]["outcome"], "faq");

    // Against the shipped flows (as a checkout of the published ones would be), an edited answer
    // shows with its old and new text.
    let afval = dir.path().join("flows/afval.yaml");
    let text = std::fs::read_to_string(&afval).unwrap();
    std::fs::write(
        &afval,
        text.replace("Wanneer welke container", "Welke container wanneer")
            .replace("In de afvalkalender vind je", "In de afvalkalender staan"),
    )
    .unwrap();
    let shipped = root().join("flows");
    let o = run(&["--before", shipped.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(&format!("against the flows in `{}`", shipped.display())),
        "{out}"
    );
    assert!(out.contains("3 messages would change:\n"), "{out}");
    assert!(
        out.contains("      1  other text for topic afvalkalender\n"),
        "{out}"
    );
    assert!(out.contains("      was  "), "{out}");
    assert!(out.contains("      now  "), "{out}");
    // Two flow sets replay every message alike: the one to the agent too.
    assert!(!out.contains("not compared"), "{out}");

    // Errors in the new flows: shown as `triage check` shows them, and nothing compared.
    std::fs::write(&afval, text.replacen("keywords:", "keywrods:", 1)).unwrap();
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(2), "{}{}", stdout(&o), stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("afval.yaml:"), "{err}");
    assert!(err.contains("unknown field `keywrods`"), "{err}");
    assert!(err.contains("failed: 1 error"), "{err}");
    assert!(o.stdout.is_empty());

    // No database where the configuration says: trouble, not an empty one made up.
    std::fs::write(&afval, &text).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(["diff"])
        .current_dir(dir.path())
        .env("TRIAGE_DATABASE_URL", "sqlite:nowhere/triage.db")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("there is no database at `nowhere/triage.db`"));
    assert!(!dir.path().join("nowhere").exists());
}

#[test]
fn eval_reports_right_wrong_and_confused_and_fails_below_the_minimum() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vragen.yaml");
    std::fs::write(
        &file,
        r#"questions:
  - text: "ik wil een nieuw paspoort"
    expect: paspoort-id-kaart
  - text: "mijn rijbewijs is verlopen"
    expect: paspoort-id-kaart
  - text: "kan ik iemand spreken? liefst een echt mens"
    expect: person
"#,
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let o = triage(&root(), &["eval", path, "--verbose"]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    assert!(
        out.contains("FAQ questions: 2 — right at once 1 (50.0%)"),
        "{out}"
    );
    assert!(
        out.contains("Person questions: 1 — to a person 1 (100.0%)"),
        "{out}"
    );
    assert!(out.contains("Wrong answers: 1"), "{out}");
    assert!(out.contains("1  paspoort-id-kaart → rijbewijs"), "{out}");
    assert!(
        out.contains("[WRONG] \"mijn rijbewijs is verlopen\""),
        "{out}"
    );
    // Below the minimum the exit code says so; JSON for scripts.
    assert!(!triage(&root(), &["eval", path, "--min", "60"])
        .status
        .success());
    let j = triage(&root(), &["eval", path, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&j)).expect("one JSON object");
    assert_eq!(v["faq"]["right"], 1);
    assert_eq!(v["wrong_answers"], 1);
    // A label that names no topic is refused, with a suggestion.
    std::fs::write(
        &file,
        "questions:\n  - text: \"paspoort\"\n    expect: paspoort-idkaart\n",
    )
    .unwrap();
    let bad = triage(&root(), &["eval", path]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("did you mean `paspoort-id-kaart`"),
        "{}",
        stderr(&bad)
    );
}
