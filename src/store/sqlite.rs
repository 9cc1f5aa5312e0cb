//! The embedded store: SQLite in WAL mode with `synchronous=FULL`, migrations at start-up.
//!
//! One connection behind a mutex: SQLite allows one writer at a time anyway, and every method is
//! one explicit transaction over a whole batch. The SQL sticks to what PostgreSQL also accepts
//! (`ON CONFLICT`, `RETURNING`, `CASE`), with timestamps as sortable RFC 3339 text in UTC.

use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::{
    blob_id, Draft, FileChange, NewRequest, NewVersion, PublishRequest, Recorded, RequestStatus,
    Version, VersionKind,
};
use super::{
    AgentChange, AgentMessage, Applied, AuditRecord, ChangeOutcome, Conversation, ConversationView,
    Counts, DecisionRecord, DeliveryUpdate, HandedOver, HistoryMessage, Inserted, Label, LabelPage,
    LabelQuery, LabelTest, NewInbound, NewLabel, NewSession, NewUser, OutboxItem, PendingInbound,
    QueuePage, QueueQuery, Removed, ReportDecision, ReportFollowUp, ReportHandover, ReportInbound,
    ReportRows, ResidentCounts, ResidentExport, Result, RetentionCutoffs, Role, SendResult,
    Session, Store, StoreError, User, Waiting, WaitingTime,
};
use crate::channel::{Channel, Delivery};
use crate::engine::{ConversationState, Outcome, Phase, Reply};
use crate::language::Language;

/// The schema, one step per version. Never edit a step that has shipped: add one.
const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    resident TEXT NOT NULL,
    resident_name TEXT,
    phase TEXT NOT NULL,
    department TEXT,
    state TEXT NOT NULL,
    agent TEXT,
    on_top INTEGER NOT NULL DEFAULT 0,
    last_inbound_at TEXT,
    waiting_since TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (channel, resident)
);
CREATE INDEX conversations_queue ON conversations (phase, department);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    direction TEXT NOT NULL,
    author TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    provider_id TEXT UNIQUE,
    payload TEXT,
    processed INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);
CREATE INDEX messages_unprocessed ON messages (processed, id);
CREATE TABLE decisions (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    message_id INTEGER REFERENCES messages (id),
    outcome TEXT NOT NULL,
    topic TEXT,
    department TEXT,
    decision TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX decisions_conversation ON decisions (conversation_id, id);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    message_id INTEGER NOT NULL REFERENCES messages (id),
    reply TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    provider_id TEXT,
    delivery TEXT,
    delivery_at TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_conversation ON outbox (conversation_id, status);
CREATE INDEX outbox_provider ON outbox (provider_id);
CREATE TABLE follow_ups (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations (id),
    due_at TEXT NOT NULL,
    status TEXT NOT NULL
);
CREATE INDEX follow_ups_due ON follow_ups (status, due_at);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    conversation_id INTEGER,
    detail TEXT
);
",
    r"
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    departments TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
CREATE INDEX audit_conversation ON audit (conversation_id, id);
CREATE INDEX conversations_waiting ON conversations (phase, waiting_since);
",
    // A version that every change of the state bumps (not a new message): the processor and the
    // scheduler apply a decision only to the state it was made on.
    r"
ALTER TABLE conversations ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
",
    // The template to send instead of a text once the 24-hour window has closed.
    r"
ALTER TABLE outbox ADD COLUMN fallback TEXT;
",
    // Sign-in to the web application: argon2 password hashes and sessions (only the SHA-256 of a
    // session id is kept, so a copy of the database signs nobody in).
    r"
ALTER TABLE users ADD COLUMN password_hash TEXT;
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_name);
",
    // The editors' page and the reports read by period: questions handed over, decisions and
    // messages of a date range.
    r"
CREATE INDEX decisions_outcome_time ON decisions (outcome, created_at);
CREATE INDEX decisions_time ON decisions (created_at);
CREATE INDEX messages_time ON messages (created_at);
",
    // Retention: when a message's text was removed at the end of its term, and the audit trail
    // read by age.
    r"
ALTER TABLE messages ADD COLUMN removed_at TEXT;
CREATE INDEX audit_time ON audit (at);
",
    // The service's own secrets (the web chat's key for the visitor keys it issues): in the
    // database, so that every replica on it and a restored backup accept the same keys.
    r"
CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TEXT NOT NULL
);
",
    // The learning loop: a resident's message an agent marked with the topic that should have
    // answered it (`topic` NULL: a new topic is needed), with a copy of its masked text, one
    // label per message; and when an editor turned it into a conversation test. A label goes
    // with its message's text (retention) and its resident (erasure).
    r"
CREATE TABLE labels (
    message_id INTEGER PRIMARY KEY REFERENCES messages (id),
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    text TEXT NOT NULL,
    topic TEXT,
    note TEXT,
    labelled_by TEXT NOT NULL,
    labelled_at TEXT NOT NULL,
    test_file TEXT,
    tested_by TEXT,
    tested_at TEXT
);
CREATE INDEX labels_time ON labels (labelled_at);
CREATE INDEX labels_conversation ON labels (conversation_id);
CREATE INDEX decisions_message ON decisions (message_id);
",
    // The language the resident last wrote in (a code such as `pl`; NULL: Dutch), beside the
    // state that holds it, for the inbox and the reports.
    r"
ALTER TABLE conversations ADD COLUMN language TEXT;
",
    // The versions of the flow and rules files: each file's text stored once per content
    // (`blobs`, keyed by its SHA-256), every version listing all its files. A version's parent
    // is unique, so the history is one line even when two publish at once. One draft per
    // user; publish requests wait for a second editor (four eyes).
    r"
CREATE TABLE blobs (
    id TEXT PRIMARY KEY,
    text TEXT NOT NULL
);
CREATE TABLE versions (
    id INTEGER PRIMARY KEY,
    parent INTEGER UNIQUE REFERENCES versions (id),
    author TEXT NOT NULL,
    at TEXT NOT NULL,
    message TEXT NOT NULL,
    kind TEXT NOT NULL,
    approved_by TEXT,
    files_changed INTEGER NOT NULL
);
CREATE TABLE version_files (
    version_id INTEGER NOT NULL REFERENCES versions (id),
    path TEXT NOT NULL,
    blob_id TEXT NOT NULL REFERENCES blobs (id),
    PRIMARY KEY (version_id, path)
);
CREATE TABLE drafts (
    user_name TEXT PRIMARY KEY,
    base_version INTEGER,
    files TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE publish_requests (
    id INTEGER PRIMARY KEY,
    author TEXT NOT NULL,
    at TEXT NOT NULL,
    message TEXT NOT NULL,
    kind TEXT NOT NULL,
    base_version INTEGER,
    rollback_to INTEGER,
    files TEXT NOT NULL,
    status TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    reason TEXT,
    version_id INTEGER REFERENCES versions (id)
);
CREATE INDEX publish_requests_status ON publish_requests (status, id);
",
];

/// The SQLite store.
pub struct SqliteStore {
    /// The one writer. Every write is one transaction on it.
    conn: Mutex<Connection>,
    /// A second connection for reads (WAL lets it read while the writer writes), so that
    /// metrics, queues and the processor's selects never wait behind a commit. `None` in memory.
    read: Option<Mutex<Connection>>,
    /// Webhook batches waiting for the writer: whoever gets the writer commits all of them in
    /// one transaction (group commit), so concurrent webhooks share one fsync.
    inbound_queue: Mutex<Vec<InboundJob>>,
}

/// One webhook's messages waiting for the group commit, and where its result goes.
struct InboundJob {
    batch: Vec<NewInbound>,
    slot: Arc<Mutex<Option<Result<Vec<Inserted>>>>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore")
    }
}

/// Timestamps as text that sorts as time does.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError(format!("bad timestamp `{s}`: {e}")))
}

fn parse_ts_opt(s: Option<String>) -> Result<Option<DateTime<Utc>>> {
    s.as_deref().map(parse_ts).transpose()
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError(format!("cannot create `{}`: {e}", dir.display())))?;
        }
        let mut store = Self::init(Connection::open(path)?)?;
        let read = Connection::open(path)?;
        tune(&read)?;
        store.read = Some(Mutex::new(read));
        Ok(store)
    }

    /// An in-memory database, for tests.
    pub fn in_memory() -> Result<SqliteStore> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<SqliteStore> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        tune(&conn)?;
        migrate(&mut conn)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            read: None,
            inbound_queue: Mutex::new(Vec::new()),
        })
    }

    /// The delivery status of an outbox row (`accepted`, `sent`, `delivered`, `read`, `failed`).
    pub fn delivery_of(&self, outbox_id: i64) -> Result<Option<String>> {
        self.with_tx(|tx| {
            Ok(tx
                .query_row(
                    "SELECT delivery FROM outbox WHERE id = ?1",
                    [outbox_id],
                    |r| r.get::<_, Option<String>>(0),
                )
                .optional()?
                .flatten())
        })
    }

    fn with_tx<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = lock(&self.conn)?;
        let tx = conn.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// A read-only transaction on the read connection (a consistent snapshot).
    fn with_read<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let Some(read) = &self.read else {
            return self.with_tx(f);
        };
        let mut conn = lock(read)?;
        let tx = conn.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }
}

fn lock(m: &Mutex<Connection>) -> Result<std::sync::MutexGuard<'_, Connection>> {
    m.lock()
        .map_err(|_| StoreError("the connection lock is poisoned".into()))
}

/// Settings of every connection: a page cache that holds the hot part of the tables (the default
/// 2 MB is outgrown after ~50,000 messages), foreign keys, and patience with the other one.
/// `secure_delete` zeroes what a delete or an update frees (the old version of a row included),
/// so that a text removed at the end of its retention term is not left in a page's free space;
/// the WAL's older page images are emptied by the sweep's checkpoint.
fn tune(conn: &Connection) -> Result<()> {
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.pragma_update(None, "cache_size", -65_536)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

/// Stores many webhooks' messages in one transaction; one result per webhook.
fn insert_jobs(tx: &Transaction<'_>, jobs: &[InboundJob]) -> Result<Vec<Vec<Inserted>>> {
    let mut known = tx.prepare_cached("SELECT id FROM messages WHERE provider_id = ?1")?;
    let mut upsert = tx.prepare_cached(
        "INSERT INTO conversations (channel, resident, resident_name, phase, state, created_at, updated_at)
         VALUES (?1, ?2, ?3, 'bot', ?4, ?5, ?5)
         ON CONFLICT (channel, resident) DO UPDATE SET
           resident_name = COALESCE(excluded.resident_name, conversations.resident_name)
         RETURNING id",
    )?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO messages (conversation_id, direction, author, kind, text, provider_id, payload, processed, created_at)
         VALUES (?1, 'in', 'resident', ?2, ?3, ?4, ?5, 0, ?6)
         ON CONFLICT (provider_id) DO NOTHING
         RETURNING id",
    )?;
    let state = serde_json::to_string(&ConversationState::default())?;
    let mut all = Vec::with_capacity(jobs.len());
    for job in jobs {
        let mut out = Vec::with_capacity(job.batch.len());
        for m in &job.batch {
            let seen: Option<i64> = known.query_row([&m.provider_id], |r| r.get(0)).optional()?;
            if seen.is_some() {
                out.push(Inserted::Duplicate);
                continue;
            }
            let now = ts(m.received_at);
            let conversation_id: i64 = upsert.query_row(
                params![m.channel.as_str(), m.resident, m.resident_name, state, now],
                |r| r.get(0),
            )?;
            let payload = serde_json::json!({ "button": m.button, "media": m.media, "findings": m.findings, "sent_at": ts(m.sent_at) });
            // Another replica may have stored the same delivery a moment ago: no row comes back.
            let message_id: Option<i64> = insert
                .query_row(
                    params![
                        conversation_id,
                        m.kind,
                        m.text,
                        m.provider_id,
                        payload.to_string(),
                        now
                    ],
                    |r| r.get(0),
                )
                .optional()?;
            out.push(match message_id {
                Some(message_id) => Inserted::New { message_id },
                None => Inserted::Duplicate,
            });
        }
        all.push(out);
    }
    Ok(all)
}

fn migrate(conn: &mut Connection) -> Result<()> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
    let tx = conn.transaction()?;
    let current: i64 = tx.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_version",
        [],
        |r| r.get(0),
    )?;
    for (i, step) in MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        if version > current {
            tx.execute_batch(step)?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                [version],
            )?;
        }
    }
    if current > MIGRATIONS.len() as i64 {
        return Err(StoreError(format!(
            "the database has schema version {current}, newer than this program knows ({}): use a newer triage",
            MIGRATIONS.len()
        )));
    }
    tx.commit()?;
    Ok(())
}

/// A stored outcome name as the outcome.
fn outcome_of(name: &str) -> Result<Outcome> {
    Outcome::parse(name).ok_or_else(|| StoreError(format!("unknown outcome `{name}` in the store")))
}

/// A stored channel name as the channel.
fn channel_of(name: &str) -> Result<Channel> {
    Channel::parse(name).ok_or_else(|| StoreError(format!("unknown channel `{name}` in the store")))
}

/// A conversation's columns as read, before its state is parsed.
struct RawConversation {
    id: i64,
    channel: String,
    resident: String,
    name: Option<String>,
    state: String,
    agent: Option<String>,
    version: i64,
}

/// Reads [`CONVERSATION_COLUMNS`] starting at column `offset`.
fn raw_conversation(r: &rusqlite::Row<'_>, offset: usize) -> rusqlite::Result<RawConversation> {
    Ok(RawConversation {
        id: r.get(offset)?,
        channel: r.get(offset + 1)?,
        resident: r.get(offset + 2)?,
        name: r.get(offset + 3)?,
        state: r.get(offset + 4)?,
        agent: r.get(offset + 5)?,
        version: r.get(offset + 6)?,
    })
}

impl RawConversation {
    /// Parses the state and puts the resident's latest profile name in.
    fn finish(self) -> Result<Conversation> {
        let mut state: ConversationState = serde_json::from_str(&self.state)?;
        if self.name.is_some() {
            state.resident_name = self.name;
        }
        Ok(Conversation {
            id: self.id,
            channel: channel_of(&self.channel)?,
            resident: self.resident,
            state,
            agent: self.agent,
            version: self.version,
        })
    }
}

const CONVERSATION_COLUMNS: &str =
    "c.id, c.channel, c.resident, c.resident_name, c.state, c.agent, c.version";

/// A receipt settles only rows of conversations on its own channel (`?6`).
const OF_CHANNEL: &str = "conversation_id IN (SELECT id FROM conversations WHERE channel = ?6)";

const RANK_SQL: &str = "CASE COALESCE(delivery, '') WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 WHEN 'failed' THEN 4 ELSE 0 END";

/// The columns of a [`Waiting`] row before its last, the `unanswered` flag.
const WAITING_COLUMNS: &str = "c.id, c.resident, c.resident_name, c.phase, c.department, c.agent,
    c.on_top, c.waiting_since, c.channel,
    (SELECT m.text FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'in'
     ORDER BY m.id DESC LIMIT 1),
    (SELECT m.created_at FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'in'
     ORDER BY m.id DESC LIMIT 1),
    c.language";

/// Runs a query over [`WAITING_COLUMNS`] plus the `unanswered` flag.
fn waiting_rows<P: rusqlite::Params>(
    tx: &Transaction<'_>,
    sql: &str,
    params: P,
) -> Result<Vec<Waiting>> {
    let mut stmt = tx.prepare_cached(sql)?;
    let rows = stmt.query_map(params, |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, bool>(6)?,
            r.get::<_, Option<String>>(7)?,
            r.get::<_, String>(8)?,
            r.get::<_, Option<String>>(9)?,
            r.get::<_, Option<String>>(10)?,
            r.get::<_, bool>(12)?,
            r.get::<_, Option<String>>(11)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (
            id,
            resident,
            resident_name,
            phase,
            department,
            agent,
            on_top,
            since,
            channel,
            text,
            at,
            unanswered,
            language,
        ) = row?;
        let last_message = match (text, at) {
            (Some(text), Some(at)) => Some((text, parse_ts(&at)?)),
            _ => None,
        };
        out.push(Waiting {
            id,
            resident,
            resident_name,
            phase: Phase::parse(&phase)
                .ok_or_else(|| StoreError(format!("unknown phase `{phase}` in the store")))?,
            department,
            agent,
            on_top,
            waiting_since: parse_ts_opt(since)?,
            channel: channel_of(&channel)?,
            last_message,
            unanswered,
            language: language.as_deref().and_then(Language::parse),
        });
    }
    Ok(out)
}

/// The columns of a [`Label`] (`l`), with its message's latest decision.
const LABEL_COLUMNS: &str = "l.message_id, l.conversation_id, l.text, l.topic, l.note,
    l.labelled_by, l.labelled_at, l.test_file, l.tested_by, l.tested_at,
    (SELECT d.outcome FROM decisions d WHERE d.message_id = l.message_id ORDER BY d.id DESC LIMIT 1),
    (SELECT d.topic FROM decisions d WHERE d.message_id = l.message_id ORDER BY d.id DESC LIMIT 1)";

/// A label's columns as read, before its times are parsed.
struct RawLabel {
    message_id: i64,
    conversation_id: i64,
    text: String,
    topic: Option<String>,
    note: Option<String>,
    by: String,
    at: String,
    test_file: Option<String>,
    tested_by: Option<String>,
    tested_at: Option<String>,
    bot_outcome: Option<String>,
    bot_topic: Option<String>,
}

impl RawLabel {
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawLabel> {
        Ok(RawLabel {
            message_id: r.get(0)?,
            conversation_id: r.get(1)?,
            text: r.get(2)?,
            topic: r.get(3)?,
            note: r.get(4)?,
            by: r.get(5)?,
            at: r.get(6)?,
            test_file: r.get(7)?,
            tested_by: r.get(8)?,
            tested_at: r.get(9)?,
            bot_outcome: r.get(10)?,
            bot_topic: r.get(11)?,
        })
    }

    fn finish(self) -> Result<Label> {
        let test = match (self.test_file, self.tested_by, self.tested_at) {
            (Some(file), Some(by), Some(at)) => Some(LabelTest {
                file,
                by,
                at: parse_ts(&at)?,
            }),
            _ => None,
        };
        Ok(Label {
            message_id: self.message_id,
            conversation_id: self.conversation_id,
            text: self.text,
            topic: self.topic,
            note: self.note,
            by: self.by,
            at: parse_ts(&self.at)?,
            bot_outcome: self.bot_outcome,
            bot_topic: self.bot_topic,
            test,
        })
    }
}

/// Runs a query over [`LABEL_COLUMNS`].
fn label_rows<P: rusqlite::Params>(
    tx: &Transaction<'_>,
    sql: &str,
    params: P,
) -> Result<Vec<Label>> {
    let mut stmt = tx.prepare_cached(sql)?;
    let raw = stmt
        .query_map(params, RawLabel::read)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raw.into_iter().map(RawLabel::finish).collect()
}

impl Store for SqliteStore {
    fn insert_inbound(&self, batch: &[NewInbound]) -> Result<Vec<Inserted>> {
        let slot = Arc::new(Mutex::new(None));
        self.inbound_queue
            .lock()
            .map_err(|_| StoreError("the queue lock is poisoned".into()))?
            .push(InboundJob {
                batch: batch.to_vec(),
                slot: slot.clone(),
            });
        let take = |slot: &Mutex<Option<Result<Vec<Inserted>>>>| {
            slot.lock().ok().and_then(|mut s| s.take())
        };
        let mut conn = lock(&self.conn)?;
        // Another webhook's writer may have committed this batch with its own meanwhile.
        if let Some(done) = take(&slot) {
            return done;
        }
        let jobs = std::mem::take(
            &mut *self
                .inbound_queue
                .lock()
                .map_err(|_| StoreError("the queue lock is poisoned".into()))?,
        );
        let committed = (|| {
            let tx = conn.transaction()?;
            let results = insert_jobs(&tx, &jobs)?;
            tx.commit()?;
            Ok::<_, StoreError>(results)
        })();
        // Results go into the slots while the writer is still held: a waiting webhook that gets
        // the writer next must find its result there, not an empty slot.
        match committed {
            Ok(results) => {
                for (job, r) in jobs.iter().zip(results) {
                    if let Ok(mut s) = job.slot.lock() {
                        *s = Some(Ok(r));
                    }
                }
            }
            Err(e) => {
                for job in &jobs {
                    if let Ok(mut s) = job.slot.lock() {
                        *s = Some(Err(StoreError(e.0.clone())));
                    }
                }
            }
        }
        drop(conn);
        take(&slot).unwrap_or_else(|| Err(StoreError("the group commit lost a batch".into())))
    }

    fn pending_inbound(&self, limit: usize) -> Result<Vec<PendingInbound>> {
        self.with_read(|tx| {
            let sql = format!(
                "SELECT m.id, m.text, m.payload, m.created_at, m.provider_id, {CONVERSATION_COLUMNS}
                 FROM messages m JOIN conversations c ON c.id = m.conversation_id
                 WHERE m.processed = 0 AND m.direction = 'in'
                 ORDER BY m.id LIMIT ?1"
            );
            let mut stmt = tx.prepare_cached(&sql)?;
            let rows = stmt.query_map([limit as i64], |r| {
                let id: i64 = r.get(0)?;
                let text: String = r.get(1)?;
                let payload: Option<String> = r.get(2)?;
                let at: String = r.get(3)?;
                let provider_id: Option<String> = r.get(4)?;
                let conv = raw_conversation(r, 5)?;
                Ok((id, text, payload, at, provider_id, conv))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (message_id, text, payload, at, provider_id, conv) = row?;
                let payload: serde_json::Value = payload
                    .as_deref()
                    .map(serde_json::from_str)
                    .transpose()?
                    .unwrap_or_default();
                let field = |k: &str| payload.get(k).and_then(|v| v.as_str()).map(str::to_string);
                out.push(PendingInbound {
                    message_id,
                    provider_id: provider_id.unwrap_or_default(),
                    conversation: conv.finish()?,
                    text,
                    button: field("button"),
                    media: field("media"),
                    findings: payload
                        .get("findings")
                        .cloned()
                        .map(serde_json::from_value)
                        .transpose()?
                        .unwrap_or_default(),
                    sent_at: parse_ts_opt(field("sent_at"))?,
                    received_at: parse_ts(&at)?,
                });
            }
            Ok(out)
        })
    }

    fn apply(&self, batch: &[Applied]) -> Result<usize> {
        self.with_tx(|tx| {
            // The version each conversation has after the decisions applied so far in this batch.
            let mut versions: std::collections::HashMap<i64, i64> = Default::default();
            let mut stale: std::collections::HashSet<i64> = Default::default();
            let mut applied = 0;
            for a in batch {
                if stale.contains(&a.conversation_id) {
                    continue;
                }
                let expected = versions.get(&a.conversation_id).copied().unwrap_or(a.version);
                let at = ts(a.at);
                let st = &a.state;
                let phase = st.phase.as_str();
                let updated = tx.prepare_cached(
                    "UPDATE conversations SET
                       state = ?2, phase = ?3, department = ?4, on_top = ?5,
                       last_inbound_at = ?6, language = ?9,
                       waiting_since = CASE WHEN ?3 = 'queued' OR ?3 = 'awaiting_follow_up'
                                            THEN COALESCE(waiting_since, ?7) ELSE NULL END,
                       agent = CASE WHEN ?3 = 'with_agent' THEN agent ELSE NULL END,
                       updated_at = ?7, version = version + 1
                     WHERE id = ?1 AND version = ?8",
                )?
                .execute(
                    params![
                        a.conversation_id,
                        serde_json::to_string(st)?,
                        phase,
                        st.department,
                        i64::from(st.on_top),
                        st.last_inbound_at.map(ts),
                        at,
                        expected,
                        st.language.map(|l| l.code())
                    ],
                )?;
                if updated == 0 {
                    stale.insert(a.conversation_id);
                    continue;
                }
                versions.insert(a.conversation_id, expected + 1);
                applied += 1;
                tx.prepare_cached(
                    "INSERT INTO decisions (conversation_id, message_id, outcome, topic, department, decision, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(
                    params![
                        a.conversation_id,
                        a.message_id,
                        a.outcome,
                        a.topic,
                        st.department,
                        a.decision.to_string(),
                        at
                    ],
                )?;
                for r in &a.replies {
                    let kind = match r.reply {
                        Reply::Text { .. } => "text",
                        Reply::Template { .. } => "template",
                    };
                    let reply = serde_json::to_string(&r.reply)?;
                    let message_id: i64 = tx.prepare_cached(
                        "INSERT INTO messages (conversation_id, direction, author, kind, text, payload, processed, created_at)
                         VALUES (?1, 'out', ?2, ?3, ?4, ?5, 1, ?6) RETURNING id",
                    )?
                    .query_row(
                        params![a.conversation_id, r.author, kind, r.reply.display(), reply, at],
                        |row| row.get(0),
                    )?;
                    tx.prepare_cached(
                        "INSERT INTO outbox (conversation_id, message_id, reply, fallback, status, attempts, next_attempt_at, created_at, updated_at)
                         VALUES (?1, ?2, ?3, ?5, 'pending', 0, ?4, ?4, ?4)",
                    )?
                    .execute(
                        params![
                            a.conversation_id,
                            message_id,
                            reply,
                            at,
                            r.fallback.as_ref().map(serde_json::to_string).transpose()?
                        ],
                    )?;
                }
                match st.follow_up_at {
                    Some(due) => {
                        tx.prepare_cached(
                            "INSERT INTO follow_ups (conversation_id, due_at, status) VALUES (?1, ?2, 'scheduled')
                             ON CONFLICT (conversation_id) DO UPDATE SET due_at = excluded.due_at, status = 'scheduled'",
                        )?
                        .execute(
                            params![a.conversation_id, ts(due)],
                        )?;
                    }
                    None => {
                        tx.prepare_cached(
                            "UPDATE follow_ups SET status = 'done' WHERE conversation_id = ?1 AND status = 'scheduled'",
                        )?
                        .execute(
                            [a.conversation_id],
                        )?;
                    }
                }
                if let Some(id) = a.message_id {
                    tx.prepare_cached("UPDATE messages SET processed = 1 WHERE id = ?1")?.execute([id])?;
                }
            }
            Ok(applied)
        })
    }

    fn take_due_outbox(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxItem>> {
        self.with_tx(|tx| {
            let now_s = ts(now);
            // Only the oldest unsent row of each conversation: replies arrive in order.
            let mut stmt = tx.prepare_cached(
                "SELECT o.id, o.conversation_id, o.reply, o.attempts, c.channel, c.resident, c.last_inbound_at, o.fallback, c.department, m.author
                 FROM outbox o JOIN conversations c ON c.id = o.conversation_id
                 JOIN messages m ON m.id = o.message_id
                 WHERE o.status = 'pending' AND o.next_attempt_at <= ?1
                   AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.conversation_id = o.conversation_id
                                   AND e.id < o.id AND e.status IN ('pending', 'sending'))
                 ORDER BY o.id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![now_s, limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, Option<String>>(8)?,
                    r.get::<_, String>(9)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (
                    id,
                    conversation_id,
                    reply,
                    attempts,
                    channel,
                    to,
                    last,
                    fallback,
                    department,
                    author,
                ) = row?;
                out.push(OutboxItem {
                    id,
                    conversation_id,
                    channel: channel_of(&channel)?,
                    to,
                    author,
                    reply: serde_json::from_str(&reply)?,
                    fallback: fallback.as_deref().map(serde_json::from_str).transpose()?,
                    attempts: attempts as u32 + 1,
                    last_inbound_at: parse_ts_opt(last)?,
                    department,
                });
            }
            drop(stmt);
            // Take only what is still pending: with several senders (replicas) each row goes to one.
            let mut taken = Vec::with_capacity(out.len());
            for item in out {
                let n = tx
                    .prepare_cached(
                        "UPDATE outbox SET status = 'sending', attempts = attempts + 1, updated_at = ?2
                         WHERE id = ?1 AND status = 'pending'",
                    )?
                    .execute(params![item.id, now_s])?;
                if n == 1 {
                    taken.push(item);
                }
            }
            Ok(taken)
        })
    }

    fn record_sends(&self, results: &[SendResult]) -> Result<()> {
        self.with_tx(|tx| {
            for r in results {
                match r {
                    SendResult::Sent { id, provider_id, at } => tx.prepare_cached(
                        "UPDATE outbox SET status = 'sent', provider_id = ?2, last_error = NULL,
                           delivery = CASE WHEN delivery IS NULL THEN 'accepted' ELSE delivery END, updated_at = ?3
                         WHERE id = ?1 AND status IN ('sending', 'pending')",
                    )?
                    .execute(
                        params![id, provider_id, ts(*at)],
                    )?,
                    SendResult::Retry { id, next_at, error } => tx.prepare_cached(
                        "UPDATE outbox SET status = 'pending', next_attempt_at = ?2, last_error = ?3, updated_at = ?2
                         WHERE id = ?1 AND status = 'sending'",
                    )?
                    .execute(
                        params![id, ts(*next_at), error],
                    )?,
                    SendResult::UseFallback { id, error, at } => tx
                        .prepare_cached(
                            "UPDATE outbox SET reply = fallback, fallback = NULL, status = 'pending',
                               next_attempt_at = ?3, last_error = ?2, updated_at = ?3
                             WHERE id = ?1 AND status IN ('sending', 'pending') AND fallback IS NOT NULL",
                        )?
                        .execute(params![id, error, ts(*at)])?,
                    SendResult::Failed { id, error, at } => tx.prepare_cached(
                        "UPDATE outbox SET status = 'failed', last_error = ?2, updated_at = ?3
                         WHERE id = ?1 AND status IN ('sending', 'pending')",
                    )?
                    .execute(
                        params![id, error, ts(*at)],
                    )?,
                };
            }
            Ok(())
        })
    }

    fn record_statuses(&self, updates: &[DeliveryUpdate]) -> Result<()> {
        self.with_tx(|tx| {
            for u in updates {
                // A status naming our outbox id settles a send whose result a crash lost.
                if let Some(id) = u.outbox_id {
                    tx.prepare_cached(
                        "UPDATE outbox SET status = 'sent', provider_id = COALESCE(provider_id, ?2), updated_at = ?3
                         WHERE id = ?1 AND status IN ('sending', 'pending')
                           AND conversation_id IN (SELECT id FROM conversations WHERE channel = ?4)",
                    )?
                    .execute(
                        params![id, u.provider_id, ts(u.at), u.channel.as_str()],
                    )?;
                }
                let sql = format!(
                    "UPDATE outbox SET delivery = ?2, delivery_at = ?3, last_error = COALESCE(?4, last_error)
                     WHERE provider_id = ?1 AND {RANK_SQL} < ?5 AND {OF_CHANNEL}"
                );
                tx.prepare_cached(&sql)?.execute(params![
                    u.provider_id,
                    u.status.as_str(),
                    ts(u.at),
                    u.error,
                    u.status.rank(),
                    u.channel.as_str()
                ])?;
                // WhatsApp reports most undeliverable messages (131026, 131047) this way, after
                // accepting them: the row failed, and agents see why.
                if u.status == Delivery::Failed {
                    tx.prepare_cached(
                        "UPDATE outbox SET status = 'failed', last_error = COALESCE(?2, last_error), updated_at = ?3
                         WHERE provider_id = ?1
                           AND conversation_id IN (SELECT id FROM conversations WHERE channel = ?4)",
                    )?
                    .execute(params![u.provider_id, u.error, ts(u.at), u.channel.as_str()])?;
                }
            }
            Ok(())
        })
    }

    fn due_follow_ups(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Conversation>> {
        self.with_read(|tx| {
            let sql = format!(
                "SELECT {CONVERSATION_COLUMNS} FROM follow_ups f JOIN conversations c ON c.id = f.conversation_id
                 WHERE f.status = 'scheduled' AND f.due_at <= ?1 ORDER BY f.due_at LIMIT ?2"
            );
            let mut stmt = tx.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![ts(now), limit as i64], |r| raw_conversation(r, 0))?;
            let mut out = Vec::new();
            for row in rows {
                out.push(row?.finish()?);
            }
            Ok(out)
        })
    }

    fn recover_sending(
        &self,
        now: DateTime<Utc>,
        grace: Duration,
        under_way: &[i64],
    ) -> Result<usize> {
        self.with_tx(|tx| {
            let stale: Vec<i64> = tx
                .prepare_cached("SELECT id FROM outbox WHERE status = 'sending' AND updated_at <= ?1")?
                .query_map([ts(now - grace)], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut n = 0;
            for id in stale.into_iter().filter(|id| !under_way.contains(id)) {
                n += tx
                    .prepare_cached(
                        "UPDATE outbox SET status = 'pending', next_attempt_at = ?2, updated_at = ?2,
                           last_error = 'the send was interrupted; sent again'
                         WHERE id = ?1 AND status = 'sending'",
                    )?
                    .execute(params![id, ts(now)])?;
            }
            Ok(n)
        })
    }

    fn restart_sending(&self, now: DateTime<Utc>) -> Result<usize> {
        self.with_tx(|tx| {
            Ok(tx
                // Never earlier than the take: a clock behind it (a test clock not yet set) must
                // not make the grace look over.
                .prepare_cached(
                    "UPDATE outbox SET updated_at = CASE WHEN updated_at < ?1 THEN ?1 ELSE updated_at END
                     WHERE status = 'sending'",
                )?
                .execute([ts(now)])?)
        })
    }

    fn counts(&self) -> Result<Counts> {
        self.with_read(|tx| {
            let one = |sql: &str| tx.query_row(sql, [], |r| r.get::<_, i64>(0));
            let mut counts = Counts {
                inbound_pending: one("SELECT COUNT(*) FROM messages WHERE processed = 0")?,
                outbox_pending: one("SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')")?,
                outbox_failed: one("SELECT COUNT(*) FROM outbox WHERE status = 'failed'")?,
                follow_ups_scheduled: one("SELECT COUNT(*) FROM follow_ups WHERE status = 'scheduled'")?,
                queued: Vec::new(),
            };
            let mut stmt = tx.prepare_cached(
                "SELECT COALESCE(department, ''), COUNT(*) FROM conversations
                 WHERE phase IN ('queued', 'awaiting_follow_up') GROUP BY department ORDER BY department",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            for row in rows {
                counts.queued.push(row?);
            }
            Ok(counts)
        })
    }

    fn add_user(&self, user: &NewUser, replace: bool) -> Result<Option<User>> {
        self.with_tx(|tx| {
            let departments = serde_json::to_string(&user.departments)?;
            let sql = if replace {
                "INSERT INTO users (name, role, departments, token_hash, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (name) DO UPDATE SET role = excluded.role,
                   departments = excluded.departments, token_hash = excluded.token_hash
                 RETURNING id"
            } else {
                "INSERT INTO users (name, role, departments, token_hash, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (name) DO NOTHING
                 RETURNING id"
            };
            let id: Option<i64> = tx
                .query_row(
                    sql,
                    params![
                        user.name,
                        user.role.as_str(),
                        departments,
                        user.token_hash,
                        ts(user.at)
                    ],
                    |r| r.get(0),
                )
                .optional()?;
            match id {
                Some(id) => user_where(tx, "id = ?1", &id),
                None => Ok(None),
            }
        })
    }

    fn user_by_token(&self, token_hash: &str) -> Result<Option<User>> {
        self.with_read(|tx| user_where(tx, "token_hash = ?1", &token_hash))
    }

    fn users(&self) -> Result<Vec<User>> {
        self.with_read(|tx| {
            let mut stmt = tx.prepare_cached(&format!("{USER_SELECT} ORDER BY name"))?;
            let rows = stmt.query_map([], raw_user)?;
            let mut out = Vec::new();
            for row in rows {
                out.push(finish_user(row?)?);
            }
            Ok(out)
        })
    }

    fn remove_user(&self, name: &str) -> Result<bool> {
        self.with_tx(|tx| {
            tx.execute("DELETE FROM sessions WHERE user_name = ?1", [name])?;
            Ok(tx.execute("DELETE FROM users WHERE name = ?1", [name])? > 0)
        })
    }

    fn set_password(&self, name: &str, hash: &str) -> Result<bool> {
        self.with_tx(|tx| {
            let changed = tx.execute(
                "UPDATE users SET password_hash = ?2 WHERE name = ?1",
                [name, hash],
            )? > 0;
            // A new password ends every session of the old one.
            tx.execute("DELETE FROM sessions WHERE user_name = ?1", [name])?;
            Ok(changed)
        })
    }

    fn password_hash(&self, name: &str) -> Result<Option<(User, Option<String>)>> {
        self.with_read(|tx| {
            let row = tx
                .query_row(
                    "SELECT id, name, role, departments, created_at, password_hash
                     FROM users WHERE name = ?1",
                    [name],
                    |r| Ok((raw_user(r)?, r.get::<_, Option<String>>(5)?)),
                )
                .optional()?;
            row.map(|(raw, hash)| Ok((finish_user(raw)?, hash)))
                .transpose()
        })
    }

    fn create_session(&self, session: &NewSession) -> Result<()> {
        self.with_tx(|tx| {
            tx.execute(
                "DELETE FROM sessions WHERE expires_at <= ?1",
                [ts(session.created_at)],
            )?;
            tx.execute(
                "INSERT INTO sessions (id_hash, user_name, csrf, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    session.id_hash,
                    session.user,
                    session.csrf,
                    ts(session.created_at),
                    ts(session.expires_at)
                ],
            )?;
            Ok(())
        })
    }

    fn session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>> {
        self.with_read(|tx| {
            let row = tx
                .query_row(
                    "SELECT u.id, u.name, u.role, u.departments, u.created_at, s.csrf, s.expires_at
                     FROM sessions s JOIN users u ON u.name = s.user_name
                     WHERE s.id_hash = ?1 AND s.expires_at > ?2",
                    [id_hash, &ts(now)],
                    |r| Ok((raw_user(r)?, r.get::<_, String>(5)?, r.get::<_, String>(6)?)),
                )
                .optional()?;
            row.map(|(raw, csrf, expires)| {
                Ok(Session {
                    user: finish_user(raw)?,
                    csrf,
                    expires_at: parse_ts(&expires)?,
                })
            })
            .transpose()
        })
    }

    fn delete_session(&self, id_hash: &str) -> Result<()> {
        self.with_tx(|tx| {
            tx.execute("DELETE FROM sessions WHERE id_hash = ?1", [id_hash])?;
            Ok(())
        })
    }

    fn secret(&self, name: &str, fresh: &str, now: DateTime<Utc>) -> Result<String> {
        self.with_tx(|tx| {
            tx.execute(
                "INSERT INTO secrets (name, value, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO NOTHING",
                params![name, fresh, ts(now)],
            )?;
            Ok(
                tx.query_row("SELECT value FROM secrets WHERE name = ?1", [name], |r| {
                    r.get(0)
                })?,
            )
        })
    }

    fn waiting(&self) -> Result<Vec<Waiting>> {
        self.with_read(|tx| {
            waiting_rows(
                tx,
                &format!(
                    "SELECT {WAITING_COLUMNS}, 0 FROM conversations c
                     WHERE c.phase IN ('queued', 'awaiting_follow_up') ORDER BY c.id"
                ),
                [],
            )
        })
    }

    fn claimed(&self, agent: &str) -> Result<Vec<Waiting>> {
        self.with_read(|tx| {
            // Unanswered: the resident's latest message came after the agent's latest reply.
            waiting_rows(
                tx,
                &format!(
                    "SELECT {WAITING_COLUMNS},
                       COALESCE((SELECT MAX(m.id) FROM messages m WHERE m.conversation_id = c.id
                                 AND m.direction = 'in'), 0)
                       > COALESCE((SELECT MAX(m.id) FROM messages m WHERE m.conversation_id = c.id
                                   AND m.direction = 'out' AND m.author LIKE 'agent:%'), 0)
                     FROM conversations c
                     WHERE c.phase = 'with_agent' AND c.agent = ?1 ORDER BY c.id"
                ),
                [agent],
            )
        })
    }

    fn queue_page(&self, q: &QueueQuery) -> Result<QueuePage> {
        // One WHERE for the count and the page. The text is matched with LIKE (the words as
        // typed, `%` and `_` taken literally) against the name and every message, which are
        // stored masked; the number only at its end, and only with as many digits as agents see.
        let like = |s: &str| {
            let escaped = s
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        };
        let text = q.text.as_deref().map(like);
        let tail = q.number_tail.as_deref().map(|t| format!("%{t}"));
        let since = q.waiting_at_or_before.map(ts);
        let filter = "c.phase IN ('queued', 'awaiting_follow_up') AND c.department = ?1
             AND (?2 IS NULL OR c.channel = ?2)
             AND (?3 IS NULL OR c.phase = ?3)
             AND (?4 = 0 OR c.on_top = 1)
             AND (?5 IS NULL OR c.waiting_since <= ?5)
             AND ((?6 IS NULL AND ?7 IS NULL)
                  OR (?6 IS NOT NULL AND (c.resident_name LIKE ?6 ESCAPE '\\'
                      OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id
                                 AND m.text LIKE ?6 ESCAPE '\\')))
                  OR (?7 IS NOT NULL AND c.resident LIKE ?7))";
        self.with_read(|tx| {
            let args = params![
                q.department,
                q.channel,
                q.phase,
                q.on_top,
                since,
                text,
                tail
            ];
            let total: i64 = tx
                .prepare_cached(&format!(
                    "SELECT COUNT(*) FROM conversations c WHERE {filter}"
                ))?
                .query_row(args, |r| r.get(0))?;
            let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
            let offset = i64::try_from(q.offset).unwrap_or(i64::MAX);
            let conversations = waiting_rows(
                tx,
                &format!(
                    "SELECT {WAITING_COLUMNS}, 0 FROM conversations c WHERE {filter}
                     ORDER BY c.on_top DESC, c.waiting_since IS NULL, c.waiting_since, c.id
                     LIMIT ?8 OFFSET ?9"
                ),
                params![
                    q.department,
                    q.channel,
                    q.phase,
                    q.on_top,
                    since,
                    text,
                    tail,
                    limit,
                    offset
                ],
            )?;
            Ok(QueuePage {
                total: usize::try_from(total).unwrap_or(0),
                conversations,
            })
        })
    }

    fn waiting_times(&self) -> Result<Vec<WaitingTime>> {
        self.with_read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT c.department, c.waiting_since FROM conversations c
                 WHERE c.phase IN ('queued', 'awaiting_follow_up')
                 ORDER BY c.department, c.waiting_since IS NULL, c.waiting_since, c.id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, Option<String>>(1)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (department, since) = row?;
                out.push((department, parse_ts_opt(since)?));
            }
            Ok(out)
        })
    }

    fn conversation_view(&self, id: i64) -> Result<Option<ConversationView>> {
        self.with_read(|tx| {
            let sql = format!(
                "SELECT {CONVERSATION_COLUMNS}, c.on_top, c.waiting_since, CAST(c.version AS TEXT)
                 FROM conversations c WHERE c.id = ?1"
            );
            let row = tx
                .query_row(&sql, [id], |r| {
                    Ok((
                        raw_conversation(r, 0)?,
                        r.get::<_, bool>(7)?,
                        r.get::<_, Option<String>>(8)?,
                        r.get::<_, String>(9)?,
                    ))
                })
                .optional()?;
            let Some((raw, on_top, since, version)) = row else {
                return Ok(None);
            };
            let resident_name = raw.name.clone();
            let conversation = raw.finish()?;

            let mut stmt = tx.prepare_cached(
                "SELECT m.id, m.direction, m.author, m.kind, m.text, m.created_at,
                        o.status, o.delivery, o.last_error, m.removed_at IS NOT NULL
                 FROM messages m LEFT JOIN outbox o ON o.message_id = m.id
                 WHERE m.conversation_id = ?1 ORDER BY m.id",
            )?;
            let rows = stmt.query_map([id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, Option<String>>(8)?,
                    r.get::<_, bool>(9)?,
                ))
            })?;
            let mut messages = Vec::new();
            for row in rows {
                let (id, direction, author, kind, text, at, send_status, delivery, error, removed) =
                    row?;
                messages.push(HistoryMessage {
                    id,
                    direction,
                    author,
                    kind,
                    text,
                    at: parse_ts(&at)?,
                    send_status,
                    delivery,
                    error,
                    removed,
                });
            }
            drop(stmt);

            let mut stmt = tx.prepare_cached(
                "SELECT id, message_id, outcome, topic, department, decision, created_at
                 FROM decisions WHERE conversation_id = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map([id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })?;
            let mut decisions = Vec::new();
            for row in rows {
                let (id, message_id, outcome, topic, department, decision, at) = row?;
                decisions.push(DecisionRecord {
                    id,
                    message_id,
                    outcome,
                    topic,
                    department,
                    decision: serde_json::from_str(&decision)?,
                    at: parse_ts(&at)?,
                });
            }
            drop(stmt);

            let mut stmt = tx.prepare_cached(
                "SELECT at, actor, action, conversation_id, detail
                 FROM audit WHERE conversation_id = ?1 AND action <> ?2 ORDER BY id",
            )?;
            let rows = stmt.query_map(params![id, super::READ_ACTION], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            })?;
            let mut audit = Vec::new();
            for row in rows {
                let (at, actor, action, conversation_id, detail) = row?;
                audit.push(AuditRecord {
                    at: parse_ts(&at)?,
                    actor,
                    action,
                    conversation_id,
                    detail,
                });
            }
            drop(stmt);

            let labels = label_rows(
                tx,
                &format!(
                    "SELECT {LABEL_COLUMNS} FROM labels l WHERE l.conversation_id = ?1 ORDER BY l.message_id"
                ),
                [id],
            )?;

            Ok(Some(ConversationView {
                conversation,
                resident_name,
                on_top,
                waiting_since: parse_ts_opt(since)?,
                version,
                messages,
                decisions,
                audit,
                labels,
            }))
        })
    }

    fn resident_messages(
        &self,
        channel: Channel,
        resident: &str,
        after: i64,
        limit: usize,
    ) -> Result<Option<(i64, Vec<super::ResidentMessage>)>> {
        self.with_read(|tx| {
            let id: Option<i64> = tx
                .prepare_cached(
                    "SELECT id FROM conversations WHERE channel = ?1 AND resident = ?2",
                )?
                .query_row(params![channel.as_str(), resident], |r| r.get(0))
                .optional()?;
            let Some(id) = id else {
                return Ok(None);
            };
            let mut stmt = tx.prepare_cached(
                "SELECT m.id, m.direction, m.author, m.kind, m.text, m.created_at,
                        o.reply, o.status, m.removed_at IS NOT NULL
                 FROM messages m LEFT JOIN outbox o ON o.message_id = m.id
                 WHERE m.conversation_id = ?1 AND m.id > ?2 AND m.direction IN ('in', 'out')
                 ORDER BY m.id LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![id, after, limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, bool>(8)?,
                ))
            })?;
            let mut messages = Vec::new();
            for row in rows {
                let (id, direction, author, kind, text, at, reply, send_status, removed) = row?;
                messages.push(super::ResidentMessage {
                    id,
                    direction,
                    author,
                    kind,
                    text,
                    // `null` once the retention term removed the outbox's copy.
                    reply: reply
                        .as_deref()
                        .map(serde_json::from_str)
                        .transpose()?
                        .flatten(),
                    send_status,
                    at: parse_ts(&at)?,
                    removed,
                });
            }
            Ok(Some((id, messages)))
        })
    }

    fn agent_change(&self, change: &AgentChange) -> Result<ChangeOutcome> {
        self.with_tx(|tx| {
            let at = ts(change.at);
            let st = &change.state;
            let updated = tx.execute(
                "UPDATE conversations SET
                   state = ?3, phase = ?4, department = ?5, on_top = ?6, agent = ?7,
                   language = ?9,
                   waiting_since = CASE WHEN ?4 = 'queued' OR ?4 = 'awaiting_follow_up'
                                        THEN COALESCE(waiting_since, ?8) ELSE NULL END,
                   updated_at = ?8, version = version + 1
                 WHERE id = ?1 AND CAST(version AS TEXT) = ?2",
                params![
                    change.conversation_id,
                    change.version,
                    serde_json::to_string(st)?,
                    st.phase.as_str(),
                    st.department,
                    i64::from(st.on_top),
                    change.agent,
                    at,
                    st.language.map(|l| l.code())
                ],
            )?;
            if updated == 0 {
                return Ok(ChangeOutcome::Stale);
            }
            let mut outbox = Vec::new();
            for m in &change.messages {
                match m {
                    AgentMessage::Reply(r) => {
                        let kind = match r.reply {
                            Reply::Text { .. } => "text",
                            Reply::Template { .. } => "template",
                        };
                        let reply = serde_json::to_string(&r.reply)?;
                        let message_id: i64 = tx.query_row(
                            "INSERT INTO messages (conversation_id, direction, author, kind, text, payload, processed, created_at)
                             VALUES (?1, 'out', ?2, ?3, ?4, ?5, 1, ?6) RETURNING id",
                            params![change.conversation_id, r.author, kind, r.reply.display(), reply, at],
                            |row| row.get(0),
                        )?;
                        let id: i64 = tx.query_row(
                            "INSERT INTO outbox (conversation_id, message_id, reply, status, attempts, next_attempt_at, created_at, updated_at)
                             VALUES (?1, ?2, ?3, 'pending', 0, ?4, ?4, ?4) RETURNING id",
                            params![change.conversation_id, message_id, reply, at],
                            |row| row.get(0),
                        )?;
                        outbox.push(id);
                    }
                    AgentMessage::Note { author, text } => {
                        tx.execute(
                            "INSERT INTO messages (conversation_id, direction, author, kind, text, processed, created_at)
                             VALUES (?1, 'internal', ?2, 'note', ?3, 1, ?4)",
                            params![change.conversation_id, author, text, at],
                        )?;
                    }
                }
            }
            match st.follow_up_at {
                Some(due) => {
                    tx.execute(
                        "INSERT INTO follow_ups (conversation_id, due_at, status) VALUES (?1, ?2, 'scheduled')
                         ON CONFLICT (conversation_id) DO UPDATE SET due_at = excluded.due_at, status = 'scheduled'",
                        params![change.conversation_id, ts(due)],
                    )?;
                }
                None => {
                    tx.execute(
                        "UPDATE follow_ups SET status = 'done' WHERE conversation_id = ?1 AND status = 'scheduled'",
                        [change.conversation_id],
                    )?;
                }
            }
            insert_audit(tx, &change.audit)?;
            Ok(ChangeOutcome::Done { outbox })
        })
    }

    fn audit(&self, record: &AuditRecord) -> Result<()> {
        self.with_tx(|tx| insert_audit(tx, record))
    }

    fn audit_unless_since(&self, record: &AuditRecord, since: DateTime<Utc>) -> Result<bool> {
        self.with_tx(|tx| {
            let recent: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM audit WHERE conversation_id IS ?1 AND actor = ?2
                                   AND action = ?3 AND at >= ?4)",
                params![
                    record.conversation_id,
                    record.actor,
                    record.action,
                    ts(since)
                ],
                |r| r.get(0),
            )?;
            if recent {
                return Ok(false);
            }
            insert_audit(tx, record)?;
            Ok(true)
        })
    }

    fn handed_over_since(&self, since: DateTime<Utc>, limit: usize) -> Result<Vec<HandedOver>> {
        self.with_read(|tx| {
            let mut stmt = tx.prepare(
                "SELECT m.id, m.conversation_id, m.text, m.created_at, d.department
                 FROM decisions d JOIN messages m ON m.id = d.message_id
                 WHERE d.outcome IN ('handover', 'clarify') AND d.created_at >= ?1 AND m.text <> ''
                   AND json_extract(m.payload, '$.button') IS NULL
                 ORDER BY d.created_at DESC, d.id DESC LIMIT ?2",
            )?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = stmt
                .query_map(params![ts(since), limit], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<String>>(4)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter()
                .map(|(message_id, conversation_id, text, at, department)| {
                    Ok(HandedOver {
                        message_id,
                        conversation_id,
                        text,
                        at: parse_ts(&at)?,
                        department,
                    })
                })
                .collect()
        })
    }

    fn report_rows(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<ReportRows> {
        let (from, to) = (ts(from), ts(to));
        self.with_read(|tx| {
            let mut rows = ReportRows::default();
            let mut stmt = tx.prepare_cached(
                "SELECT m.conversation_id, c.department, m.created_at, c.channel
                 FROM messages m JOIN conversations c ON c.id = m.conversation_id
                 WHERE m.direction = 'in' AND m.created_at >= ?1 AND m.created_at < ?2",
            )?;
            type RawIn = (i64, Option<String>, String, String);
            let raw = stmt
                .query_map([&from, &to], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?
                .collect::<rusqlite::Result<Vec<RawIn>>>()?;
            for (conversation, current_department, at, channel) in raw {
                rows.inbound.push(ReportInbound {
                    conversation,
                    channel: channel_of(&channel)?,
                    current_department,
                    at: parse_ts(&at)?,
                });
            }
            let mut stmt = tx.prepare_cached(
                "SELECT d.conversation_id, c.department, d.outcome, d.topic, d.department, d.created_at,
                   CASE WHEN d.outcome = 'handover' THEN
                     (SELECT MIN(m.created_at) FROM messages m
                      WHERE m.conversation_id = d.conversation_id AND m.direction = 'out'
                        AND m.author LIKE 'agent:%' AND m.created_at >= d.created_at)
                   WHEN d.outcome = 'follow_up' THEN
                     (SELECT a.outcome FROM decisions a
                      WHERE a.conversation_id = d.conversation_id AND a.id > d.id
                        AND a.outcome IN ('follow_up_yes', 'follow_up_no', 'follow_up_other')
                      ORDER BY a.id LIMIT 1)
                   END,
                   c.channel
                 FROM decisions d JOIN conversations c ON c.id = d.conversation_id
                 WHERE d.created_at >= ?1 AND d.created_at < ?2
                 ORDER BY d.id",
            )?;
            type Raw = (
                i64,
                Option<String>,
                String,
                Option<String>,
                Option<String>,
                String,
                Option<String>,
                String,
            );
            let raw = stmt
                .query_map([&from, &to], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<Raw>>>()?;
            for (conversation, current_department, outcome, topic, department, at, extra, channel) in
                raw
            {
                let at = parse_ts(&at)?;
                let outcome = outcome_of(&outcome)?;
                match outcome {
                    Outcome::Handover => rows.handovers.push(ReportHandover {
                        conversation,
                        channel: channel_of(&channel)?,
                        current_department: current_department.clone(),
                        department,
                        at,
                        answered_at: parse_ts_opt(extra)?,
                    }),
                    Outcome::FollowUp => rows.follow_ups.push(ReportFollowUp {
                        conversation,
                        current_department: current_department.clone(),
                        at,
                        answer: extra.as_deref().map(outcome_of).transpose()?,
                    }),
                    _ => {}
                }
                rows.decisions.push(ReportDecision {
                    conversation,
                    current_department,
                    outcome,
                    topic,
                    at,
                });
            }
            Ok(rows)
        })
    }

    fn inbound_since(&self, since: DateTime<Utc>, limit: usize) -> Result<super::InboundWindow> {
        let since = ts(since);
        self.with_read(|tx| {
            let total: i64 = tx.query_row(
                "SELECT COUNT(*) FROM messages
                 WHERE direction = 'in' AND created_at >= ?1 AND removed_at IS NULL",
                [&since],
                |r| r.get(0),
            )?;
            // A message's decision is found through its conversation's (indexed) decisions; the
            // latest one counts, should there ever be two.
            let mut stmt = tx.prepare_cached(
                "SELECT m.id, m.conversation_id, c.channel, m.text, m.payload, m.created_at,
                        d.outcome, d.topic, d.department, d.decision
                 FROM messages m JOIN conversations c ON c.id = m.conversation_id
                 LEFT JOIN decisions d ON d.id = (
                     SELECT MAX(x.id) FROM decisions x
                     WHERE x.conversation_id = m.conversation_id AND x.message_id = m.id)
                 WHERE m.direction = 'in' AND m.created_at >= ?1 AND m.removed_at IS NULL
                 ORDER BY m.created_at DESC, m.id DESC LIMIT ?2",
            )?;
            type Raw = (
                i64,
                i64,
                String,
                String,
                Option<String>,
                String,
                Option<String>,
                Option<String>,
                Option<String>,
                Option<String>,
            );
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = stmt
                .query_map(params![since, limit], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                        r.get(9)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<Raw>>>()?;
            let mut messages = Vec::with_capacity(rows.len());
            for (id, conversation, channel, text, payload, at, outcome, topic, dept, reasons) in
                rows
            {
                let payload: serde_json::Value = payload
                    .as_deref()
                    .map(serde_json::from_str)
                    .transpose()?
                    .unwrap_or_default();
                let field = |k: &str| payload.get(k).and_then(|v| v.as_str()).map(str::to_string);
                messages.push(super::StoredInbound {
                    message_id: id,
                    conversation_id: conversation,
                    channel: channel_of(&channel)?,
                    text,
                    button: field("button"),
                    media: field("media"),
                    findings: payload
                        .get("findings")
                        .cloned()
                        .map(serde_json::from_value)
                        .transpose()?
                        .unwrap_or_default(),
                    sent_at: parse_ts_opt(field("sent_at"))?,
                    at: parse_ts(&at)?,
                    decision: outcome.map(|outcome| super::StoredDecision {
                        outcome,
                        topic,
                        department: dept,
                        // Gone after the retention term (`{}`), or of a form this build does
                        // not read: the columns still say what was decided.
                        reasons: reasons.and_then(|r| serde_json::from_str(&r).ok()),
                    }),
                });
            }
            let left_out = usize::try_from(total)
                .unwrap_or(0)
                .saturating_sub(messages.len());
            Ok(super::InboundWindow { messages, left_out })
        })
    }
    fn resident_export(&self, channel: &str, resident: &str) -> Result<Option<ResidentExport>> {
        self.with_read(|tx| {
            let ids = resident_conversations(tx, channel, resident)?;
            if ids.is_empty() {
                return Ok(None);
            }
            let mut conversations = Vec::new();
            for id in ids {
                let mut rows = rows_json(tx, "SELECT * FROM conversations WHERE id = ?1", id)?;
                let mut c = rows.pop().unwrap_or_default();
                for (key, sql) in [
                    (
                        "messages",
                        "SELECT * FROM messages WHERE conversation_id = ?1 ORDER BY id",
                    ),
                    (
                        "decisions",
                        "SELECT * FROM decisions WHERE conversation_id = ?1 ORDER BY id",
                    ),
                    (
                        "outbox",
                        "SELECT * FROM outbox WHERE conversation_id = ?1 ORDER BY id",
                    ),
                    (
                        "follow_ups",
                        "SELECT * FROM follow_ups WHERE conversation_id = ?1",
                    ),
                    (
                        "audit",
                        "SELECT * FROM audit WHERE conversation_id = ?1 ORDER BY id",
                    ),
                    (
                        "labels",
                        "SELECT * FROM labels WHERE conversation_id = ?1 ORDER BY message_id",
                    ),
                ] {
                    c[key] = serde_json::Value::Array(rows_json(tx, sql, id)?);
                }
                conversations.push(c);
            }
            Ok(Some(ResidentExport {
                channel: channel.to_string(),
                resident: resident.to_string(),
                conversations,
            }))
        })
    }

    /// The deletion is one transaction. To make the data gone from the file as well, it is
    /// followed by `VACUUM` and `PRAGMA wal_checkpoint(TRUNCATE)`: `VACUUM` rebuilds the
    /// database from its live rows only (in WAL mode into the WAL), the checkpoint copies that
    /// image over every page of the file, cuts the file to its new size, and empties the WAL,
    /// which held older page images. `PRAGMA secure_delete` was not chosen: it zeroes only what
    /// is deleted while it is on, not the older versions of a row that an update left in a
    /// page's free space (a conversation row is rewritten at every change of its state) nor the
    /// page images in the WAL. The price: the whole file is rewritten while the writer waits,
    /// about as long as `triage backup` takes, which an erasure now and then can afford. Copies
    /// made earlier (backups) still hold the resident until they expire.
    fn apply_retention(&self, cut: &RetentionCutoffs, now: DateTime<Utc>) -> Result<Removed> {
        let removed = self.with_tx(|tx| {
            let mut n = Removed::default();
            if let Some(cut) = cut.message_texts {
                let cut = ts(cut);
                // Only conversations nobody is working on: a waiting resident's question stays
                // readable however long it waits.
                let idle = "SELECT id FROM conversations WHERE phase IN ('bot', 'resolved')";
                n.message_texts = tx.execute(
                    &format!(
                        "UPDATE messages SET text = '', payload = NULL, removed_at = ?2
                         WHERE removed_at IS NULL AND processed = 1 AND created_at < ?1
                           AND conversation_id IN ({idle})"
                    ),
                    params![cut, ts(now)],
                )?;
                // The outbox's copy of a settled reply; a pending one is still to be sent.
                tx.execute(
                    &format!(
                        "UPDATE outbox SET reply = 'null', fallback = NULL
                         WHERE status NOT IN ('pending', 'sending') AND reply != 'null'
                           AND created_at < ?1 AND conversation_id IN ({idle})"
                    ),
                    [&cut],
                )?;
                // The profile name, once nothing newer than the term is left of the conversation.
                tx.execute(
                    &format!(
                        "UPDATE conversations
                         SET resident_name = NULL, state = json_set(state, '$.resident_name', NULL)
                         WHERE id IN ({idle}) AND updated_at < ?1
                           AND (resident_name IS NOT NULL
                                OR json_extract(state, '$.resident_name') IS NOT NULL)"
                    ),
                    [&cut],
                )?;
            }
            // A label quotes its message: it goes with the message's text, whenever that went.
            n.labels = tx.execute(
                "DELETE FROM labels WHERE EXISTS (SELECT 1 FROM messages m
                   WHERE m.id = labels.message_id AND m.removed_at IS NOT NULL)",
                [],
            )?;
            if let Some(cut) = cut.traces {
                n.traces = tx.execute(
                    "UPDATE decisions SET decision = '{}' WHERE created_at < ?1 AND decision != '{}'",
                    [ts(cut)],
                )?;
            }
            if let Some(cut) = cut.audit {
                n.audit_lines = tx.execute("DELETE FROM audit WHERE at < ?1", [ts(cut)])?;
            }
            if let Some(cut) = cut.sessions {
                n.sessions = tx.execute("DELETE FROM sessions WHERE expires_at < ?1", [ts(cut)])?;
            }
            Ok(n)
        })?;
        if !removed.is_empty() {
            // The WAL still holds the pages as they were; a reader in the middle of a read keeps
            // some of them until the next sweep's checkpoint.
            let conn = lock(&self.conn)?;
            let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
            if busy != 0 {
                tracing::warn!("retention: a reader kept the WAL; it is emptied at a later sweep");
            }
        }
        Ok(removed)
    }

    fn resident_erase(
        &self,
        channel: &str,
        resident: &str,
        audit: &AuditRecord,
    ) -> Result<Option<ResidentCounts>> {
        let counts = self.with_tx(|tx| {
            let ids = resident_conversations(tx, channel, resident)?;
            if ids.is_empty() {
                return Ok(None);
            }
            let mut n = ResidentCounts {
                conversations: ids.len(),
                ..ResidentCounts::default()
            };
            for &id in &ids {
                n.labels += tx.execute("DELETE FROM labels WHERE conversation_id = ?1", [id])?;
                n.outbox += tx.execute("DELETE FROM outbox WHERE conversation_id = ?1", [id])?;
                n.decisions +=
                    tx.execute("DELETE FROM decisions WHERE conversation_id = ?1", [id])?;
                n.follow_ups +=
                    tx.execute("DELETE FROM follow_ups WHERE conversation_id = ?1", [id])?;
                n.messages +=
                    tx.execute("DELETE FROM messages WHERE conversation_id = ?1", [id])?;
                n.audit += tx.execute(
                    "UPDATE audit SET detail = NULL WHERE conversation_id = ?1",
                    [id],
                )?;
                tx.execute("DELETE FROM conversations WHERE id = ?1", [id])?;
            }
            insert_audit(tx, audit)?;
            Ok(Some(n))
        })?;
        if counts.is_some() {
            let conn = lock(&self.conn)?;
            conn.execute_batch("VACUUM")?;
            let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
            if busy != 0 {
                return Err(StoreError(
                    "the resident is erased, but a reader kept the old pages in the WAL: run the erasure again when the service is quiet".into(),
                ));
            }
        }
        Ok(counts)
    }

    fn label_message(&self, l: &NewLabel) -> Result<Option<Label>> {
        self.with_tx(|tx| {
            // The text is copied from the message as stored: only ever the masked text. A new
            // topic ends the label's being a test (that test expects the old one).
            let same_topic = "COALESCE(labels.topic, '') = COALESCE(excluded.topic, '')";
            let stored = tx.execute(
                &format!(
                    "INSERT INTO labels (message_id, conversation_id, text, topic, note, labelled_by, labelled_at)
                     SELECT m.id, m.conversation_id, m.text, ?3, ?4, ?5, ?6 FROM messages m
                     WHERE m.id = ?1 AND m.conversation_id = ?2 AND m.direction = 'in'
                       AND m.removed_at IS NULL AND m.text <> ''
                     ON CONFLICT (message_id) DO UPDATE SET
                       test_file = CASE WHEN {same_topic} THEN labels.test_file END,
                       tested_by = CASE WHEN {same_topic} THEN labels.tested_by END,
                       tested_at = CASE WHEN {same_topic} THEN labels.tested_at END,
                       topic = excluded.topic, note = excluded.note,
                       labelled_by = excluded.labelled_by, labelled_at = excluded.labelled_at"
                ),
                params![
                    l.message_id,
                    l.conversation_id,
                    l.topic,
                    l.note,
                    l.by,
                    ts(l.at)
                ],
            )?;
            if stored == 0 {
                return Ok(None);
            }
            Ok(label_rows(
                tx,
                &format!("SELECT {LABEL_COLUMNS} FROM labels l WHERE l.message_id = ?1"),
                [l.message_id],
            )?
            .pop())
        })
    }

    fn remove_label(&self, conversation_id: i64, message_id: i64) -> Result<bool> {
        self.with_tx(|tx| {
            Ok(tx.execute(
                "DELETE FROM labels WHERE message_id = ?1 AND conversation_id = ?2",
                [message_id, conversation_id],
            )? > 0)
        })
    }

    fn label(&self, message_id: i64) -> Result<Option<Label>> {
        self.with_read(|tx| {
            Ok(label_rows(
                tx,
                &format!("SELECT {LABEL_COLUMNS} FROM labels l WHERE l.message_id = ?1"),
                [message_id],
            )?
            .pop())
        })
    }

    fn labels(&self, q: &LabelQuery) -> Result<LabelPage> {
        self.with_read(|tx| {
            let filter = "(?1 IS NULL OR l.topic = ?1) AND (?2 = 0 OR l.topic IS NULL)
                          AND (?3 = 0 OR l.tested_at IS NULL)";
            let total: i64 = tx.query_row(
                &format!("SELECT COUNT(*) FROM labels l WHERE {filter}"),
                params![q.topic, q.new_topic, q.untested],
                |r| r.get(0),
            )?;
            let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
            let offset = i64::try_from(q.offset).unwrap_or(i64::MAX);
            let labels = label_rows(
                tx,
                &format!(
                    "SELECT {LABEL_COLUMNS} FROM labels l WHERE {filter}
                     ORDER BY l.labelled_at DESC, l.message_id DESC LIMIT ?4 OFFSET ?5"
                ),
                params![q.topic, q.new_topic, q.untested, limit, offset],
            )?;
            Ok(LabelPage {
                total: usize::try_from(total).unwrap_or(0),
                labels,
            })
        })
    }

    fn mark_label_tested(&self, message_id: i64, test: &LabelTest) -> Result<bool> {
        self.with_tx(|tx| {
            Ok(tx.execute(
                "UPDATE labels SET test_file = ?2, tested_by = ?3, tested_at = ?4 WHERE message_id = ?1",
                params![message_id, test.file, test.by, ts(test.at)],
            )? > 0)
        })
    }

    fn labelled_questions(&self) -> Result<Vec<(String, Option<String>)>> {
        self.with_read(|tx| {
            let mut stmt =
                tx.prepare("SELECT text, topic FROM labels ORDER BY labelled_at, message_id")?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }
    fn newest_version(&self) -> Result<Option<Version>> {
        self.with_read(newest_version)
    }

    fn record_version(&self, v: &NewVersion) -> Result<Recorded> {
        self.with_tx(|tx| {
            let newest = newest_version(tx)?;
            if newest.as_ref().map(|n| n.id) != v.parent {
                return Ok(Recorded::Stale { newest });
            }
            if let Some(request) = v.request {
                let status: Option<String> = tx
                    .query_row(
                        "SELECT status FROM publish_requests WHERE id = ?1",
                        [request],
                        |r| r.get(0),
                    )
                    .optional()?;
                if status.as_deref() != Some(RequestStatus::Pending.as_str()) {
                    return Ok(Recorded::RequestSettled);
                }
            }
            let before = match v.parent {
                Some(p) => version_blobs(tx, p)?,
                None => Default::default(),
            };
            let mut blobs = Vec::with_capacity(v.files.len());
            {
                let mut put = tx.prepare_cached(
                    "INSERT INTO blobs (id, text) VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING",
                )?;
                for (path, text) in &v.files {
                    let id = blob_id(text);
                    put.execute(params![id, text])?;
                    blobs.push((path, id));
                }
            }
            let changed = blobs
                .iter()
                .filter(|(p, b)| before.get(p.as_str()) != Some(b))
                .count()
                + before.keys().filter(|p| !v.files.contains_key(*p)).count();
            let id: i64 = tx.query_row(
                "INSERT INTO versions (parent, author, at, message, kind, approved_by, files_changed)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
                params![
                    v.parent,
                    v.author,
                    ts(v.at),
                    v.message,
                    v.kind.as_str(),
                    v.approved_by,
                    changed as i64
                ],
                |r| r.get(0),
            )?;
            {
                let mut file = tx.prepare_cached(
                    "INSERT INTO version_files (version_id, path, blob_id) VALUES (?1, ?2, ?3)",
                )?;
                for (path, blob) in &blobs {
                    file.execute(params![id, path, blob])?;
                }
            }
            if let Some(request) = v.request {
                tx.execute(
                    "UPDATE publish_requests SET status = 'approved', decided_by = ?2,
                       decided_at = ?3, version_id = ?4 WHERE id = ?1",
                    params![request, v.approved_by, ts(v.at), id],
                )?;
            }
            let mut audit = v.audit.clone();
            audit.detail = Some(match audit.detail {
                Some(d) => format!("versie {id}: {d}"),
                None => format!("versie {id}"),
            });
            insert_audit(tx, &audit)?;
            Ok(Recorded::Done(Version {
                id,
                parent: v.parent,
                author: v.author.clone(),
                at: v.at,
                message: v.message.clone(),
                kind: v.kind,
                approved_by: v.approved_by.clone(),
                files_changed: changed,
            }))
        })
    }

    fn versions(&self, before: Option<i64>, limit: usize) -> Result<Vec<Version>> {
        self.with_read(|tx| {
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            version_rows(
                tx,
                &format!(
                    "SELECT {VERSION_COLUMNS} FROM versions WHERE ?1 IS NULL OR id < ?1
                     ORDER BY id DESC LIMIT ?2"
                ),
                params![before, limit],
            )
        })
    }

    fn version(
        &self,
        id: i64,
    ) -> Result<Option<(Version, std::collections::BTreeMap<String, String>)>> {
        self.with_read(|tx| {
            let Some(version) = version_rows(
                tx,
                &format!("SELECT {VERSION_COLUMNS} FROM versions WHERE id = ?1"),
                [id],
            )?
            .pop() else {
                return Ok(None);
            };
            let mut stmt = tx.prepare(
                "SELECT f.path, b.text FROM version_files f JOIN blobs b ON b.id = f.blob_id
                 WHERE f.version_id = ?1 ORDER BY f.path",
            )?;
            let files = stmt
                .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(Some((version, files)))
        })
    }

    fn draft(&self, user: &str) -> Result<Option<Draft>> {
        self.with_read(|tx| {
            let row: Option<(Option<i64>, String, String)> = tx
                .query_row(
                    "SELECT base_version, files, updated_at FROM drafts WHERE user_name = ?1",
                    [user],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            row.map(|(base_version, files, at)| {
                Ok(Draft {
                    user: user.to_string(),
                    base_version,
                    files: serde_json::from_str(&files)?,
                    updated_at: parse_ts(&at)?,
                })
            })
            .transpose()
        })
    }

    fn save_draft(&self, d: &Draft) -> Result<()> {
        let files = serde_json::to_string(&d.files)?;
        self.with_tx(|tx| {
            tx.execute(
                "INSERT INTO drafts (user_name, base_version, files, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (user_name) DO UPDATE SET base_version = excluded.base_version,
                   files = excluded.files, updated_at = excluded.updated_at",
                params![d.user, d.base_version, files, ts(d.updated_at)],
            )?;
            Ok(())
        })
    }

    fn delete_draft(&self, user: &str) -> Result<bool> {
        self.with_tx(|tx| Ok(tx.execute("DELETE FROM drafts WHERE user_name = ?1", [user])? > 0))
    }

    fn create_request(&self, r: &NewRequest) -> Result<PublishRequest> {
        let files = serde_json::to_string(&r.files)?;
        self.with_tx(|tx| {
            let id: i64 = tx.query_row(
                "INSERT INTO publish_requests (author, at, message, kind, base_version, rollback_to, files, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending') RETURNING id",
                params![
                    r.author,
                    ts(r.at),
                    r.message,
                    r.kind.as_str(),
                    r.base_version,
                    r.rollback_to,
                    files
                ],
                |row| row.get(0),
            )?;
            let mut audit = r.audit.clone();
            audit.detail = Some(match audit.detail {
                Some(d) => format!("verzoek {id}: {d}"),
                None => format!("verzoek {id}"),
            });
            insert_audit(tx, &audit)?;
            request_rows(
                tx,
                &format!("SELECT {REQUEST_COLUMNS} FROM publish_requests WHERE id = ?1"),
                [id],
            )?
            .pop()
            .ok_or_else(|| StoreError("the request just stored is gone".into()))
        })
    }

    fn requests(&self, pending_only: bool, limit: usize) -> Result<Vec<PublishRequest>> {
        self.with_read(|tx| {
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            request_rows(
                tx,
                &format!(
                    "SELECT {REQUEST_COLUMNS} FROM publish_requests
                     WHERE ?1 = 0 OR status = 'pending' ORDER BY id DESC LIMIT ?2"
                ),
                params![pending_only, limit],
            )
        })
    }

    fn request(&self, id: i64) -> Result<Option<PublishRequest>> {
        self.with_read(|tx| {
            Ok(request_rows(
                tx,
                &format!("SELECT {REQUEST_COLUMNS} FROM publish_requests WHERE id = ?1"),
                [id],
            )?
            .pop())
        })
    }

    fn reject_request(
        &self,
        id: i64,
        by: &str,
        reason: Option<&str>,
        audit: &AuditRecord,
    ) -> Result<bool> {
        self.with_tx(|tx| {
            let changed = tx.execute(
                "UPDATE publish_requests SET status = 'rejected', decided_by = ?2, decided_at = ?3,
                   reason = ?4 WHERE id = ?1 AND status = 'pending'",
                params![id, by, ts(audit.at), reason],
            )?;
            if changed > 0 {
                insert_audit(tx, audit)?;
            }
            Ok(changed > 0)
        })
    }
}

const VERSION_COLUMNS: &str = "id, parent, author, at, message, kind, approved_by, files_changed";

fn version_rows<P: rusqlite::Params>(
    tx: &Transaction<'_>,
    sql: &str,
    params: P,
) -> Result<Vec<Version>> {
    type Raw = (
        i64,
        Option<i64>,
        String,
        String,
        String,
        String,
        Option<String>,
        i64,
    );
    let mut stmt = tx.prepare_cached(sql)?;
    let raw = stmt
        .query_map(params, |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<Raw>>>()?;
    raw.into_iter()
        .map(
            |(id, parent, author, at, message, kind, approved_by, changed)| {
                Ok(Version {
                    id,
                    parent,
                    author,
                    at: parse_ts(&at)?,
                    message,
                    kind: VersionKind::parse(&kind)
                        .ok_or_else(|| StoreError(format!("unknown version kind `{kind}`")))?,
                    approved_by,
                    files_changed: usize::try_from(changed).unwrap_or(0),
                })
            },
        )
        .collect()
}

fn newest_version(tx: &Transaction<'_>) -> Result<Option<Version>> {
    Ok(version_rows(
        tx,
        &format!("SELECT {VERSION_COLUMNS} FROM versions ORDER BY id DESC LIMIT 1"),
        [],
    )?
    .pop())
}

/// A version's files as path → blob id.
fn version_blobs(
    tx: &Transaction<'_>,
    id: i64,
) -> Result<std::collections::BTreeMap<String, String>> {
    let mut stmt =
        tx.prepare_cached("SELECT path, blob_id FROM version_files WHERE version_id = ?1")?;
    let files = stmt
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(files)
}

const REQUEST_COLUMNS: &str = "id, author, at, message, kind, base_version, rollback_to, files,
    status, decided_by, decided_at, reason, version_id";

fn request_rows<P: rusqlite::Params>(
    tx: &Transaction<'_>,
    sql: &str,
    params: P,
) -> Result<Vec<PublishRequest>> {
    let mut stmt = tx.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let kind: String = r.get(4)?;
        let files: String = r.get(7)?;
        let status: String = r.get(8)?;
        out.push(PublishRequest {
            id: r.get(0)?,
            author: r.get(1)?,
            at: parse_ts(&r.get::<_, String>(2)?)?,
            message: r.get(3)?,
            kind: VersionKind::parse(&kind)
                .ok_or_else(|| StoreError(format!("unknown version kind `{kind}`")))?,
            base_version: r.get(5)?,
            rollback_to: r.get(6)?,
            files: serde_json::from_str::<Vec<FileChange>>(&files)?,
            status: RequestStatus::parse(&status)
                .ok_or_else(|| StoreError(format!("unknown request status `{status}`")))?,
            decided_by: r.get(9)?,
            decided_at: parse_ts_opt(r.get(10)?)?,
            reason: r.get(11)?,
            version: r.get(12)?,
        });
    }
    Ok(out)
}

/// The ids of a resident's conversations.
fn resident_conversations(tx: &Transaction<'_>, channel: &str, resident: &str) -> Result<Vec<i64>> {
    let mut stmt = tx
        .prepare("SELECT id FROM conversations WHERE channel = ?1 AND resident = ?2 ORDER BY id")?;
    let ids = stmt
        .query_map([channel, resident], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(ids)
}

/// Columns that hold JSON: exported as JSON, not as a string of it.
const JSON_COLUMNS: &[&str] = &["state", "decision", "reply", "payload", "fallback"];

/// Every row of a query with one id parameter, as JSON objects of its columns.
fn rows_json(tx: &Transaction<'_>, sql: &str, id: i64) -> Result<Vec<serde_json::Value>> {
    use rusqlite::types::ValueRef;
    use serde_json::Value;
    let mut stmt = tx.prepare(sql)?;
    let names: Vec<String> = stmt.column_names().map(str::to_string).collect();
    let mut rows = stmt.query([id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let mut obj = serde_json::Map::new();
        for (i, name) in names.iter().enumerate() {
            let v = match r.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => Value::from(n),
                ValueRef::Real(x) => Value::from(x),
                ValueRef::Text(t) => {
                    let t = String::from_utf8_lossy(t).into_owned();
                    match JSON_COLUMNS.contains(&name.as_str()) {
                        true => serde_json::from_str(&t).unwrap_or(Value::String(t)),
                        false => Value::String(t),
                    }
                }
                ValueRef::Blob(b) => Value::String(hex::encode(b)),
            };
            obj.insert(name.clone(), v);
        }
        out.push(Value::Object(obj));
    }
    Ok(out)
}

fn insert_audit(tx: &Transaction<'_>, a: &AuditRecord) -> Result<()> {
    tx.execute(
        "INSERT INTO audit (at, actor, action, conversation_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![ts(a.at), a.actor, a.action, a.conversation_id, a.detail],
    )?;
    Ok(())
}

const USER_SELECT: &str = "SELECT id, name, role, departments, created_at FROM users";

type RawUser = (i64, String, String, String, String);

fn raw_user(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawUser> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn finish_user((id, name, role, departments, at): RawUser) -> Result<User> {
    Ok(User {
        id,
        role: Role::parse(&role).ok_or_else(|| StoreError(format!("unknown role `{role}`")))?,
        name,
        departments: serde_json::from_str(&departments)?,
        created_at: parse_ts(&at)?,
    })
}

fn user_where(
    tx: &Transaction<'_>,
    condition: &str,
    value: &dyn rusqlite::ToSql,
) -> Result<Option<User>> {
    let raw = tx
        .query_row(
            &format!("{USER_SELECT} WHERE {condition}"),
            [value],
            raw_user,
        )
        .optional()?;
    raw.map(finish_user).transpose()
}

/// Whether a phase counts as waiting for a person.
pub fn is_waiting(phase: Phase) -> bool {
    matches!(phase, Phase::Queued | Phase::AwaitingFollowUp)
}
