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
    // Every shipped topic has a conversation test.
    assert!(
        !stderr(&o).contains("has no conversation test"),
        "{}",
        stderr(&o)
    );
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
        en.contains("6. out of hours: the out-of-hours reply, once for this closed period"),
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
