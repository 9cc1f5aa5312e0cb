//! The crash test across channels: the real `triage` binary with a WhatsApp, a Messenger and an
//! X account, each pointing at its stand-in on its own loopback port, gets their webhooks
//! interleaved, is killed with SIGKILL while replies of all three are in flight, and restarted on
//! the same database and port. Then, per channel: every inbound message is stored once with one
//! decision, every outbox row was accepted by its own channel's stand-in, and only there, and no
//! row was sent twice where the channel can settle a send whose answer was lost.
//!
//! Set-up: the stand-ins answer in about 150 ms (WhatsApp with a slow tail and a connection
//! closed after every answer), and the first dozen sends of each meet some dropped connections:
//! on WhatsApp and X the connection is closed before the platform takes the message; on
//! Messenger twice after it took it (the answer is lost) and once before. The next send of each
//! channel is held at its stand-in; the webhooks stop coming in until all three are held, then
//! go on, and the kill comes while they are coming in and every channel has a send that its
//! platform has (it is released after the kill and accepted) but whose answer the service never
//! got. Each resident id writes once on each channel (the same id on all three), so the replies
//! a stand-in should have seen are exact per (channel, resident).
//!
//! How each channel settles a send whose answer was lost (its row `sending` at the crash, or
//! waiting after "no answer"):
//! - WhatsApp: the status webhooks (`sent`, `delivered`) carry `biz_opaque_callback_data =
//!   "outbox:<id>"`; the stand-in retries them (for up to 30 s) until the restarted service
//!   takes them, and they mark the row sent before the send grace (60 s) is over.
//! - Messenger: the echo of our message carries `metadata = "outbox:<id>"` and does the same.
//! - X: nothing names our row (its events carry only X's own ids), so the adapter's documented
//!   window applies (`src/channels/x/adapter.rs`): after the grace the row is sent again, and if
//!   X had taken the first send the resident gets the reply twice. What this test holds X to is
//!   what is promised: nothing is lost, and a row reaches X twice exactly when X accepted a send
//!   of it whose answer the service never recorded (its row was not `sent` at the crash) — at
//!   least the held one — and every other row exactly once.
//!
//! The test lets the callbacks and echoes arrive, lets the workers finish what is due, then moves
//! the test clock past the grace and drains again. No sleep stands in for a condition: every wait
//! polls the stand-ins' counters, the database, or the service's metrics.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::DateTime;
use common::process::{free_port, wait_for, Server};
use serde_json::json;
use tokio::sync::watch;
use triage::channel::Channel;
use triage::channels::meta::standin as meta;
use triage::channels::whatsapp::standin as wa;
use triage::channels::x::standin as x;

const WA_SECRET: &str = "mix-whatsapp-secret";
const WA_TOKEN: &str = "mix-whatsapp-token";
const WA_PHONE: &str = "mix-phone";
const MS_SECRET: &str = "mix-messenger-secret";
const MS_TOKEN: &str = "mix-page-token";
const PAGE: &str = "104502848760000";
const X_SECRET: &str = "mix-x-consumer-secret";
const X_TOKEN: &str = "mix-x-user-token";
const X_ACCOUNT: &str = "900100200";

/// Out of hours: handovers get the out-of-hours reply (one reply per message, as FAQs).
const FRIDAY_EVENING: &str = "2026-11-27T19:30:00+01:00";
/// That moment in seconds since the epoch: the webhooks' send time.
const FRIDAY_EVENING_EPOCH: i64 = 1_795_804_200;
/// Webhooks, interleaved WhatsApp, Messenger, X; each (channel, resident) writes once.
const LOAD: usize = 360;
/// The webhooks wait here until a send of every channel is held at its stand-in.
const GATE: usize = 150;
/// The kill comes once this many webhooks got their 200 (the rest are still coming).
const KILL_AFTER: usize = GATE + 24;
const CHANNELS: [Channel; 3] = [Channel::WhatsApp, Channel::Messenger, Channel::X];

const TEXTS: &[&str] = &[
    "ik wil een paspoort aanvragen",
    "wanneer wordt het afval opgehaald",
    "ik heb een klacht over mijn buurman",
    "hoe vraag ik een id kaart aan?",
    "mijn bsn is 111222333 ik ga verhuizen",
    "waar kan ik grofvuil kwijt",
    "kan iemand mij bellen over mijn aanvraag",
];

/// One webhook of the test.
struct Hook {
    channel: Channel,
    /// The message id as the service stores it.
    provider_id: String,
    from: String,
    path: &'static str,
    signature: (&'static str, String),
    body: Vec<u8>,
}

fn hook(i: usize) -> Hook {
    let channel = CHANNELS[i % 3];
    let k = i / 3;
    let from = format!("3161{k:07}");
    let text = TEXTS[k % TEXTS.len()];
    let ms = FRIDAY_EVENING_EPOCH * 1000;
    let (provider_id, path, body) = match channel {
        Channel::WhatsApp => {
            let id = format!("wamid.MIX{i:04}");
            let body = json!({
                "object": "whatsapp_business_account",
                "entry": [{ "id": "mix", "changes": [{ "field": "messages", "value": {
                    "messaging_product": "whatsapp",
                    "metadata": { "display_phone_number": "0000", "phone_number_id": WA_PHONE },
                    "contacts": [{ "profile": { "name": "Crash" }, "wa_id": from }],
                    "messages": [{ "from": from, "id": id, "timestamp": FRIDAY_EVENING_EPOCH.to_string(),
                                   "type": "text", "text": { "body": text } }]
                }}]}]
            });
            (id, "/webhook", body)
        }
        Channel::Messenger => {
            let mid = format!("m_MIX{i:04}");
            let body = json!({
                "object": "page",
                "entry": [{ "id": PAGE, "time": ms, "messaging": [{
                    "sender": { "id": from }, "recipient": { "id": PAGE }, "timestamp": ms,
                    "message": { "mid": mid, "text": text }
                }]}]
            });
            (format!("messenger:{mid}"), "/webhooks/messenger", body)
        }
        _ => {
            let id = format!("19000000000{i:04}");
            let mut users = serde_json::Map::new();
            users.insert(from.clone(), json!({ "id": from, "name": "Crash" }));
            let body = json!({
                "for_user_id": X_ACCOUNT,
                "direct_message_events": [{
                    "type": "message_create", "id": id, "created_timestamp": ms.to_string(),
                    "message_create": { "target": { "recipient_id": X_ACCOUNT }, "sender_id": from,
                                        "message_data": { "text": text } }
                }],
                "users": users
            });
            (format!("x:{id}"), "/webhooks/x", body)
        }
    };
    let body = body.to_string().into_bytes();
    let signature = match channel {
        Channel::WhatsApp => (
            "x-hub-signature-256",
            triage::channels::whatsapp::sign(WA_SECRET.as_bytes(), &body),
        ),
        Channel::Messenger => (
            "x-hub-signature-256",
            triage::channels::whatsapp::sign(MS_SECRET.as_bytes(), &body),
        ),
        _ => (
            "x-twitter-webhooks-signature",
            triage::channels::x::sign(X_SECRET.as_bytes(), &body),
        ),
    };
    Hook {
        channel,
        provider_id,
        from,
        path,
        signature,
        body,
    }
}

async fn post(http: &reqwest::Client, base: &str, hook: &Hook) -> Option<u16> {
    let r = http
        .post(format!("{base}{}", hook.path))
        .header("content-type", "application/json")
        .header(hook.signature.0, &hook.signature.1)
        .body(hook.body.clone())
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .ok()?;
    Some(r.status().as_u16())
}

/// The three stand-ins, each on its own loopback port.
struct StandIns {
    wa: wa::StandIn,
    ms: meta::StandIn,
    x: x::StandIn,
    running: (wa::Running, meta::Running, x::Running),
}

impl StandIns {
    async fn start(port: u16) -> StandIns {
        let wa = wa::StandIn::requiring_token(WA_TOKEN);
        wa.set_status_callback(Some(wa::StatusCallback::new(
            format!("http://127.0.0.1:{port}/webhook"),
            WA_SECRET,
        )));
        wa.set_conditions(wa::Conditions {
            latency_ms: 150,
            slow_share: 0.03,
            slow_ms: 1200,
            close_connections: true,
        })
        .unwrap();
        let ms = meta::StandIn::requiring_token(Channel::Messenger, MS_TOKEN);
        ms.set_echoes(Some(meta::EchoCallback::new(
            format!("http://127.0.0.1:{port}/webhooks/messenger"),
            MS_SECRET,
        )));
        ms.set_latency(150).unwrap();
        let xs = x::StandIn::requiring_token(X_TOKEN);
        xs.set_conditions(x::Conditions { latency_ms: 150 })
            .unwrap();
        let running = (
            wa.start().await.unwrap(),
            ms.start().await.unwrap(),
            xs.start().await.unwrap(),
        );
        StandIns {
            wa,
            ms,
            x: xs,
            running,
        }
    }

    /// The service's accounts on these stand-ins.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("WHATSAPP_APP_SECRET", WA_SECRET.into()),
            ("WHATSAPP_VERIFY_TOKEN", "mix-verify".into()),
            ("WHATSAPP_ACCESS_TOKEN", WA_TOKEN.into()),
            ("WHATSAPP_API_BASE", self.running.0.base_url()),
            ("WHATSAPP_PHONE_NUMBER_ID", WA_PHONE.into()),
            ("MESSENGER_APP_SECRET", MS_SECRET.into()),
            ("MESSENGER_VERIFY_TOKEN", "mix-verify".into()),
            ("MESSENGER_ACCESS_TOKEN", MS_TOKEN.into()),
            ("MESSENGER_API_BASE", self.running.1.base_url()),
            ("MESSENGER_ACCOUNT_ID", PAGE.into()),
            ("X_APP_SECRET", X_SECRET.into()),
            ("X_ACCESS_TOKEN", X_TOKEN.into()),
            ("X_API_BASE", self.running.2.base_url()),
            ("X_ACCOUNT_ID", X_ACCOUNT.into()),
        ]
    }

    /// The first dozen sends of each channel meet dropped connections, then one is held.
    fn inject_faults(&self) {
        for _ in 0..3 {
            self.wa.inject(wa::Fault::delay(0).times(3)).unwrap();
            self.wa.inject(wa::Fault::drop_connection()).unwrap();
            self.x.inject(x::Fault::delay(0).times(3)).unwrap();
            self.x.inject(x::Fault::drop_connection()).unwrap();
        }
        for delivered in [true, true, false] {
            self.ms.inject(meta::Fault::none().times(3)).unwrap();
            self.ms
                .inject(meta::Fault::drop_connection(delivered))
                .unwrap();
        }
        self.wa.inject(wa::Fault::hold()).unwrap();
        self.ms.inject(meta::Fault::hold()).unwrap();
        self.x.inject(x::Fault::hold()).unwrap();
    }

    /// Every fault used up and one send of every channel held.
    fn all_held(&self) -> bool {
        let pending = self.wa.pending_faults() + self.ms.pending_faults() + self.x.pending_faults();
        pending == 0 && self.wa.held() == 1 && self.ms.held() == 1 && self.x.held() == 1
    }

    fn release(&self) {
        assert_eq!(self.wa.release(), 1);
        assert_eq!(self.ms.release(), 1);
        assert_eq!(self.x.release(), 1);
    }

    /// No send under way at any stand-in, and every WhatsApp status and Messenger echo of what
    /// was accepted has reached the service (none given up).
    fn settled(&self) -> bool {
        let (c, e) = (self.wa.callback_stats(), self.ms.echo_stats());
        assert_eq!(
            (c.given_up, e.given_up),
            (0, 0),
            "a status or echo was given up"
        );
        self.wa.under_way() + self.ms.under_way() + self.x.under_way() == 0
            && c.in_flight == 0
            && c.delivered as usize == 2 * self.wa.messages().len()
            && e.in_flight == 0
            && e.delivered as usize == self.ms.messages().len()
    }

    /// What each stand-in accepted, as (channel, resident, our outbox reference if the platform
    /// carries one), oldest first per stand-in.
    fn accepted(&self) -> Vec<(Channel, String, Option<String>)> {
        let mut all = Vec::new();
        for r in self.wa.messages() {
            let row = r.body["biz_opaque_callback_data"]
                .as_str()
                .map(str::to_owned);
            all.push((Channel::WhatsApp, r.to.unwrap_or_default(), row));
        }
        for r in self.ms.messages() {
            let row = r.body["message"]["metadata"].as_str().map(str::to_owned);
            all.push((Channel::Messenger, r.to, row));
        }
        for r in self.x.messages() {
            all.push((Channel::X, r.to, None));
        }
        all
    }
}

/// An outbox row as the database has it.
#[derive(Debug, Clone)]
struct Row {
    channel: Channel,
    resident: String,
    status: String,
}

fn outbox(db: &rusqlite::Connection) -> BTreeMap<i64, Row> {
    let mut stmt = db
        .prepare(
            "SELECT o.id, c.channel, c.resident, o.status FROM outbox o
             JOIN conversations c ON c.id = o.conversation_id",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            Row {
                channel: Channel::parse(&r.get::<_, String>(1)?).expect("a known channel"),
                resident: r.get(2)?,
                status: r.get(3)?,
            },
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_loses_nothing_and_sends_twice_only_where_x_cannot_tell() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let http = reqwest::Client::new();
    let standins = StandIns::start(port).await;
    let env = standins.env();
    let friday = DateTime::parse_from_rfc3339(FRIDAY_EVENING).unwrap();
    // Service time runs on from Friday evening as real time does, across the restart.
    let clock_set = Instant::now();
    let friday_now = || friday + chrono::Duration::from_std(clock_set.elapsed()).unwrap();

    // Run 1: the interleaved load, the faults, the holds, the kill.
    let mut server = Server::start(dir.path(), port, 1, friday, &env);
    server.ready(&http).await;
    standins.inject_faults();
    let hooks: Arc<Vec<Hook>> = Arc::new((0..LOAD).map(hook).collect());
    let acked: Arc<Vec<AtomicUsize>> = Arc::new((0..LOAD).map(|_| AtomicUsize::new(0)).collect());
    let acks = Arc::new(AtomicUsize::new(0));
    let next = Arc::new(AtomicUsize::new(0));
    let (open, gate) = watch::channel(false);
    let mut posting = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (hooks, acked, acks, next, base, http) = (
            hooks.clone(),
            acked.clone(),
            acks.clone(),
            next.clone(),
            server.base.clone(),
            http.clone(),
        );
        let mut gate = gate.clone();
        posting.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= LOAD {
                    break;
                }
                if i >= GATE {
                    let _ = gate.wait_for(|open| *open).await;
                }
                if post(&http, &base, &hooks[i]).await == Some(200) {
                    acked[i].store(1, Ordering::SeqCst);
                    acks.fetch_add(1, Ordering::SeqCst);
                }
                // Paced, so that the kill lands while webhooks are still coming in.
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
    }
    wait_for("the first webhooks and a held send per channel", 20, || {
        acks.load(Ordering::SeqCst) >= GATE && standins.all_held()
    })
    .await;
    open.send_replace(true);
    wait_for("more webhooks", 20, || {
        acks.load(Ordering::SeqCst) >= KILL_AFTER
    })
    .await;
    server.kill();
    while posting.join_next().await.is_some() {}
    let acked_in_run_1: Vec<bool> = acked
        .iter()
        .map(|a| a.load(Ordering::SeqCst) == 1)
        .collect();
    let n_acked = acked_in_run_1.iter().filter(|a| **a).count();
    assert!(
        (KILL_AFTER..LOAD).contains(&n_acked),
        "the kill must fall in the middle of the load: {n_acked} of {LOAD} acknowledged"
    );
    // The platforms had the held sends; their answers went nowhere.
    standins.release();
    wait_for("the stand-ins done with run 1's sends", 20, || {
        standins.wa.under_way() + standins.ms.under_way() + standins.x.under_way() == 0
    })
    .await;

    // What the crash left: every acknowledged webhook stored (durable before the 200), and on
    // every channel a row its platform accepted that is not recorded as sent.
    let (at_crash, stored_at_crash) = {
        let db = rusqlite::Connection::open(dir.path().join("triage.db")).unwrap();
        let mut stmt = db
            .prepare("SELECT provider_id FROM messages WHERE direction = 'in'")
            .unwrap();
        let stored: HashSet<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        (outbox(&db), stored)
    };
    for (i, h) in hooks.iter().enumerate() {
        if acked_in_run_1[i] {
            assert!(
                stored_at_crash.contains(&h.provider_id),
                "{} was lost",
                h.provider_id
            );
        }
    }
    let row_of: HashMap<(Channel, String), i64> = at_crash
        .iter()
        .map(|(id, r)| ((r.channel, r.resident.clone()), *id))
        .collect();
    // Rows a stand-in accepted in run 1 whose answer the service never recorded.
    let unanswered: BTreeSet<i64> = standins
        .accepted()
        .into_iter()
        .map(|(channel, to, _)| row_of[&(channel, to)])
        .filter(|id| at_crash[id].status != "sent")
        .collect();
    let unanswered_on = |c: Channel| {
        unanswered
            .iter()
            .filter(|id| at_crash[id].channel == c)
            .count()
    };
    for c in CHANNELS {
        assert!(
            unanswered_on(c) >= 1,
            "{c}: the crash left no accepted send unanswered"
        );
    }

    // Run 2: the same database and port. The platforms retry what got no 200 and deliver some
    // twice; the statuses and echoes that the crash kept from the service reach it now.
    let mut server = Server::start(dir.path(), port, 2, friday_now(), &env);
    server.ready(&http).await;
    let mut redelivered = 0;
    for (i, h) in hooks.iter().enumerate() {
        if !acked_in_run_1[i] || i % 5 == 0 {
            assert_eq!(
                post(&http, &server.base, h).await,
                Some(200),
                "{}",
                h.provider_id
            );
            if stored_at_crash.contains(&h.provider_id) {
                redelivered += 1;
            }
        }
    }
    server.rounds(&http).await;
    wait_for("the statuses and echoes", 40, || standins.settled()).await;
    // Past the send grace: what is still waiting is sent (again) now.
    server
        .set_clock(&http, friday_now() + chrono::Duration::seconds(120))
        .await;
    server.drained(&http, "after the restart").await;
    server.rounds(&http).await;
    wait_for("the last statuses and echoes", 40, || standins.settled()).await;
    assert_eq!(server.metric(&http, "triage_outbox_failed").await, 0.0);
    assert_eq!(
        server.metric(&http, "triage_duplicates_total").await as usize,
        redelivered,
        "re-deliveries of stored messages are recognised as duplicates"
    );
    server.kill();

    // The verdict, from the stand-ins' records and the database.
    let db = rusqlite::Connection::open(dir.path().join("triage.db")).unwrap();
    let rows = outbox(&db);
    let row_of: HashMap<(Channel, String), i64> = rows
        .iter()
        .map(|(id, r)| ((r.channel, r.resident.clone()), *id))
        .collect();
    assert_eq!(
        row_of.len(),
        rows.len(),
        "one reply per (channel, resident)"
    );
    assert_eq!(rows.len(), LOAD, "one reply per message");
    for (id, r) in &rows {
        assert_eq!(r.status, "sent", "outbox:{id} ({}) is sent", r.channel);
    }

    // Every message stored once, on its own channel, for its resident, with one decision.
    for h in hooks.iter() {
        let (stored, decided, channel, resident): (i64, i64, String, String) = db
            .query_row(
                "SELECT COUNT(DISTINCT m.id), COUNT(d.id), MIN(c.channel), MIN(c.resident)
                 FROM messages m JOIN conversations c ON c.id = m.conversation_id
                 LEFT JOIN decisions d ON d.message_id = m.id
                 WHERE m.provider_id = ?1 AND m.direction = 'in' AND m.processed = 1",
                [&h.provider_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(
            (stored, decided),
            (1, 1),
            "{}: stored once, one decision",
            h.provider_id
        );
        assert_eq!(
            (channel.as_str(), resident.as_str()),
            (h.channel.as_str(), h.from.as_str())
        );
    }

    // Every row reached its own channel's stand-in, for its own resident; none another's.
    let mut times: BTreeMap<i64, usize> = BTreeMap::new();
    for (channel, to, reference) in standins.accepted() {
        let Some(&id) = row_of.get(&(channel, to.clone())) else {
            panic!("{channel} stand-in got a reply for {to}, who has no conversation there");
        };
        if let Some(reference) = reference {
            assert_eq!(
                reference,
                format!("outbox:{id}"),
                "{channel} stand-in got another row's reply for {to}"
            );
        }
        *times.entry(id).or_default() += 1;
    }
    let mut twice_on_x = Vec::new();
    for (id, r) in &rows {
        let n = times.get(id).copied().unwrap_or(0);
        match r.channel {
            // WhatsApp and Messenger settle a lost answer: each row exactly once.
            Channel::WhatsApp | Channel::Messenger => {
                assert_eq!(n, 1, "outbox:{id} ({}) accepted {n} times", r.channel)
            }
            // X cannot: a row whose accepted send lost its answer goes again after the grace.
            _ => {
                let expected = if unanswered.contains(id) { 2 } else { 1 };
                assert_eq!(
                    n,
                    expected,
                    "outbox:{id} (x) accepted {n} times; its answer was lost: {}",
                    unanswered.contains(id)
                );
                if n == 2 {
                    twice_on_x.push(*id);
                }
            }
        }
    }
    assert!(!twice_on_x.is_empty(), "the held X send is resent");
    eprintln!(
        "accepted, answer lost at the crash: whatsapp {}, messenger {}, x {} (sent twice: {twice_on_x:?})",
        unanswered_on(Channel::WhatsApp),
        unanswered_on(Channel::Messenger),
        unanswered_on(Channel::X),
    );
}
