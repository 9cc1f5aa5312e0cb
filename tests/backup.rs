//! `triage backup`: a consistent copy of the database while the service writes, restored into
//! a new service that finds the data.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use common::app::{text_message, TestApp};
use triage::store::sqlite::SqliteStore;
use triage::store::{NewInbound, Store};

fn backup_cli(database: &Path, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_triage"))
        .arg("backup")
        .args(args)
        .env(
            "TRIAGE_DATABASE_URL",
            format!("sqlite:{}", database.display()),
        )
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn inbound(id: usize, batch: usize) -> NewInbound {
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-27T18:30:00Z")
        .expect("time")
        .to_utc();
    NewInbound {
        provider_id: format!("wamid.{batch}.{id}"),
        channel: triage::channel::Channel::WhatsApp,
        resident: format!("316{:08}", batch),
        resident_name: None,
        kind: "text".into(),
        text: format!("bericht {id} van batch {batch}"),
        button: None,
        media: None,
        findings: Vec::new(),
        sent_at: at,
        received_at: at,
    }
}

/// Batches of three messages, each in one transaction, go on being written while the backup
/// is taken: the copy holds whole batches only, at least those written before it began.
#[test]
fn a_backup_taken_during_writes_is_a_consistent_snapshot() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("triage.db");
    let store = Arc::new(SqliteStore::open(&db).expect("store"));
    for batch in 0..50 {
        store
            .insert_inbound(&(0..3).map(|i| inbound(i, batch)).collect::<Vec<_>>())
            .expect("insert");
    }
    let done = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(50));
    let writer = {
        let (store, done, written) = (store.clone(), done.clone(), written.clone());
        std::thread::spawn(move || {
            // Until the backup is done, and a few batches after.
            let mut after = 0;
            while after < 5 {
                let batch = written.load(Ordering::SeqCst);
                store
                    .insert_inbound(&(0..3).map(|i| inbound(i, batch)).collect::<Vec<_>>())
                    .expect("insert");
                written.store(batch + 1, Ordering::SeqCst);
                if done.load(Ordering::SeqCst) {
                    after += 1;
                }
            }
        })
    };
    let before = written.load(Ordering::SeqCst);
    let copy = dir.path().join("copy.db");
    let info = triage::store::backup::backup(&db, &copy, false).expect("backup");
    done.store(true, Ordering::SeqCst);
    writer.join().expect("writer");
    assert!(info.bytes > 0);

    let restored = SqliteStore::open(&copy).expect("the copy opens");
    let pending = restored.pending_inbound(100_000).expect("read");
    assert_eq!(pending.len() % 3, 0, "a batch was cut in half");
    assert!(
        pending.len() >= before * 3,
        "{} < {}",
        pending.len(),
        before * 3
    );
    assert!(pending.len() < written.load(Ordering::SeqCst) * 3);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only its owner may read a backup");
    }
}

#[test]
fn backup_refuses_to_overwrite_unless_forced_and_never_makes_a_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("triage.db");
    SqliteStore::open(&db).expect("store");
    let o = backup_cli(&db, dir.path(), &["one.db"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("to restore: stop the service"), "{out}");
    let o = backup_cli(&db, dir.path(), &["one.db"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("`one.db` exists already; say --force"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = backup_cli(&db, dir.path(), &["one.db", "--force"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = backup_cli(&db, dir.path(), &[db.to_str().expect("utf-8"), "--force"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is the database itself"));
    // A wrong database path is an error, not a new empty database.
    let missing = dir.path().join("nothing-here.db");
    let o = backup_cli(&missing, dir.path(), &["two.db"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("there is no database at"));
    assert!(!missing.exists() && !dir.path().join("two.db").exists());
}

/// The service takes webhooks while `triage backup` runs; a new service started on the copy
/// has the conversations that were handed over before the backup began.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_a_running_service_restores_into_a_new_one() {
    let app = TestApp::start().await;
    for i in 0..5 {
        let r = app
            .post(&text_message(
                &format!("wamid.before.{i}"),
                &format!("3161000000{i}"),
                "ik wil een wmo voorziening aanvragen",
            ))
            .await;
        assert_eq!(r.status(), 200);
    }
    app.drain().await;
    let db = app.state.config.sqlite_path().expect("a SQLite database");
    let waiting_before: Vec<String> = app
        .state
        .store
        .waiting()
        .expect("waiting")
        .into_iter()
        .map(|w| w.resident)
        .collect();
    assert_eq!(waiting_before.len(), 5);

    // Webhooks go on while the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, http, base) = (stop.clone(), app.http.clone(), app.base.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) || n < 5 {
                let body = serde_json::to_vec(&text_message(
                    &format!("wamid.during.{n}"),
                    &format!("3162{n:07}"),
                    "ik wil een wmo voorziening aanvragen",
                ))
                .expect("json");
                let sig = triage::channels::whatsapp::sign(common::app::SECRET.as_bytes(), &body);
                let r = common::app::webhook_request(&http, &base, &body)
                    .header("x-hub-signature-256", sig)
                    .send()
                    .await
                    .expect("post");
                assert_eq!(r.status(), 200);
                n += 1;
            }
            n
        })
    };
    let backups = tempfile::tempdir().expect("temp dir");
    let copy = backups.path().join("triage-backup.db");
    let o = {
        let (db, dir) = (db.clone(), backups.path().to_path_buf());
        tokio::task::spawn_blocking(move || backup_cli(&db, &dir, &["triage-backup.db"]))
            .await
            .expect("backup")
    };
    stop.store(true, Ordering::SeqCst);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let during = writer.await.expect("writer");
    assert!(during >= 5);
    let (_old, graph, running) = app.stop().await;

    // Restore: the copy becomes the database of a new service.
    let restored_dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(&copy, restored_dir.path().join("triage.db")).expect("copy into place");
    let app = TestApp::start_with(Arc::new(restored_dir), graph, running).await;
    let waiting: Vec<String> = app
        .state
        .store
        .waiting()
        .expect("waiting")
        .into_iter()
        .map(|w| w.resident)
        .collect();
    for r in &waiting_before {
        assert!(waiting.contains(r), "{r} is missing from {waiting:?}");
    }
    // And it runs on: a new message is taken and decided.
    let r = app
        .post(&text_message(
            "wamid.after",
            "31699999999",
            "ik wil een wmo voorziening aanvragen",
        ))
        .await;
    assert_eq!(r.status(), 200);
    app.drain().await;
    let residents: Vec<String> = app
        .state
        .store
        .waiting()
        .expect("waiting")
        .into_iter()
        .map(|w| w.resident)
        .collect();
    assert!(residents.contains(&"31699999999".to_string()));
    app.stop().await;
}
