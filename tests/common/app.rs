//! The black-box harness of the service tests: the real server on port 0 with a temporary SQLite
//! database, the Graph API stand-in on its own loopback port and the test clock, talked to over
//! HTTP with signed webhooks.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::oneshot;
use triage::channels::whatsapp::standin::{Recorded, Running, StandIn};
use triage::service::clock::TestClock;
use triage::service::config::Config;
use triage::service::state::AppState;

/// The app secret the harness's webhooks are signed with.
pub const SECRET: &str = "test-app-secret";
/// The admin's token when the harness creates one ([`Setup::with_admin`]).
pub const ADMIN: &str = "test-admin-token";
/// Out of hours (Europe/Amsterdam, UTC+1 in November): where [`TestApp::start`] sets the clock.
pub const FRIDAY_EVENING: &str = "2026-11-27T19:30:00+01:00";

/// The crate's root: the shipped `flows/`, `rules/` and `fixtures/` are under it.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// How the service is started.
pub struct Setup {
    /// The directory with `flows/` and `rules/`.
    pub files: PathBuf,
    /// Whether an admin (token [`ADMIN`]) is created before the server runs; the harness's clock
    /// requests then carry that token, as the service requires once users exist.
    pub admin: bool,
    /// What the test clock reads when the service starts (RFC 3339); it runs on from there, from
    /// before the first worker round, so no test ever meets the real date.
    pub clock: &'static str,
    /// Changes to the configuration before the service starts (it may capture, e.g. another
    /// channel's stand-in address).
    pub configure: Box<dyn FnOnce(&mut Config) + Send>,
}

impl Default for Setup {
    /// The shipped flows, no users, the clock on [`FRIDAY_EVENING`].
    fn default() -> Setup {
        Setup {
            files: root(),
            admin: false,
            clock: FRIDAY_EVENING,
            configure: Box::new(|_| {}),
        }
    }
}

impl Setup {
    /// The shipped flows and one admin (token [`ADMIN`]); the clock on [`FRIDAY_EVENING`].
    pub fn with_admin() -> Setup {
        Setup {
            admin: true,
            ..Setup::default()
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub graph: StandIn,
    pub state: Arc<AppState>,
    admin: bool,
    graph_server: Running,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<Result<(), String>>>,
    dir: Arc<tempfile::TempDir>,
}

impl TestApp {
    /// The shipped flows, no users, the clock on [`FRIDAY_EVENING`].
    pub async fn start() -> TestApp {
        TestApp::start_setup(Setup::default()).await
    }

    /// With the flows and rules under `files` instead of the shipped ones.
    pub async fn start_with_files(files: PathBuf) -> TestApp {
        TestApp::start_setup(Setup {
            files,
            ..Setup::default()
        })
        .await
    }

    /// A new database and stand-in, started as `setup` says.
    pub async fn start_setup(setup: Setup) -> TestApp {
        let dir = Arc::new(tempfile::tempdir().unwrap());
        let graph = StandIn::new();
        let running = graph.start().await.unwrap();
        TestApp::launch(dir, graph, running, setup).await
    }

    /// Again on the database and stand-in that [`TestApp::stop`] handed back.
    pub async fn start_with(
        dir: Arc<tempfile::TempDir>,
        graph: StandIn,
        running: Running,
    ) -> TestApp {
        TestApp::launch(dir, graph, running, Setup::default()).await
    }

    pub async fn launch(
        dir: Arc<tempfile::TempDir>,
        graph: StandIn,
        running: Running,
        setup: Setup,
    ) -> TestApp {
        let mut config = Config {
            database_url: format!("sqlite:{}", dir.path().join("triage.db").display()),
            flows: setup.files.join("flows"),
            rules: setup.files.join("rules"),
            ..Config::default()
        };
        config.whatsapp.app_secret = SECRET.into();
        config.whatsapp.verify_token = "verify-me".into();
        config.whatsapp.access_token = "test-token".into();
        config.whatsapp.api_base = running.base_url();
        (setup.configure)(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let local = listener.local_addr().unwrap();
        let clock = triage::convtest::parse_time(setup.clock).expect("an RFC 3339 time");
        let (state, client) =
            triage::service::build(config, Some(TestClock::starting_at(clock)), local).unwrap();
        if setup.admin {
            let admin = triage::service::api::new_user(
                &state.flows(),
                "beheer",
                "admin",
                &[],
                ADMIN,
                chrono::Utc::now(),
            )
            .unwrap();
            state.store.add_user(&admin, false).unwrap().unwrap();
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(triage::service::run(
            state.clone(),
            client,
            listener,
            async move {
                let _ = stopped.await;
            },
        ));
        let app = TestApp {
            base: format!("http://{local}"),
            http: reqwest::Client::new(),
            graph,
            state,
            admin: setup.admin,
            graph_server: running,
            stop: Some(stop),
            server: Some(server),
            dir,
        };
        app
    }

    /// The data directory: the database and its WAL.
    #[allow(dead_code)]
    pub fn data_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Stops the server and its workers, as a graceful shutdown does; hands back the database
    /// and the stand-in for [`TestApp::start_with`].
    pub async fn stop(mut self) -> (Arc<tempfile::TempDir>, StandIn, Running) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.server.take() {
            h.await.unwrap().unwrap();
        }
        (self.dir, self.graph, self.graph_server)
    }

    /// The service's SQLite file.
    #[allow(dead_code)]
    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("triage.db")
    }

    /// A GET as the user of `token`: the status and the JSON body (`Null` when there is none).
    #[allow(dead_code)]
    pub async fn get_as(&self, token: &str, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A POST of `body` as the user of `token`: the status and the JSON body.
    #[allow(dead_code)]
    pub async fn post_as(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Creates a user through the API as the admin ([`ADMIN`]); returns their token.
    #[allow(dead_code)]
    pub async fn user(&self, name: &str, role: &str, departments: &[&str]) -> String {
        let (status, v) = self
            .post_as(
                ADMIN,
                "/api/users",
                json!({ "name": name, "role": role, "departments": departments }),
            )
            .await;
        assert_eq!(status, 201, "{v}");
        v["token"].as_str().unwrap().to_string()
    }

    /// Sets the test clock (as the admin, when there is one).
    pub async fn set_clock(&self, at: &str) {
        let mut req = self
            .http
            .post(format!("{}/admin/clock", self.base))
            .json(&json!({ "at": at }));
        if self.admin {
            req = req.bearer_auth(ADMIN);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 200);
    }

    /// A webhook with this body and, if given, this `x-hub-signature-256`.
    pub async fn post_raw(&self, body: &[u8], signature: Option<String>) -> reqwest::Response {
        let mut req = webhook_request(&self.http, &self.base, body);
        if let Some(s) = signature {
            req = req.header("x-hub-signature-256", s);
        }
        req.send().await.unwrap()
    }

    /// A webhook signed as Meta signs it.
    pub async fn post(&self, payload: &Value) -> reqwest::Response {
        let body = serde_json::to_vec(payload).unwrap();
        let sig = triage::channels::whatsapp::sign(SECRET.as_bytes(), &body);
        self.post_raw(&body, Some(sig)).await
    }

    /// The text of `/metrics` (as the admin, when there is one).
    pub async fn metrics(&self) -> String {
        let mut req = self.http.get(format!("{}/metrics", self.base));
        if self.admin {
            req = req.bearer_auth(ADMIN);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 200);
        r.text().await.unwrap()
    }

    /// Waits until the workers have done all there is to do now: a whole processing round that
    /// began after this call (every stored message decided, due follow-ups asked), then a whole
    /// sending round that began after that one ended (every reply due now tried). What a test
    /// asserts afterwards has happened, or will not happen without something new.
    pub async fn drain(&self) {
        use std::sync::atomic::{AtomicU64, Ordering};
        let m = &self.state.metrics;
        let rounds = |c: &AtomicU64| c.load(Ordering::SeqCst);
        // The round under way when this is called may have read the store already: the next
        // one after it is the first that surely sees everything.
        let p = rounds(&m.processor_rounds);
        self.state.wake_processor.notify_one();
        wait_until("a processing round", || {
            rounds(&m.processor_rounds) >= p + 2
        })
        .await;
        let s = rounds(&m.sender_rounds);
        self.state.wake_sender.notify_one();
        wait_until("a sending round", || rounds(&m.sender_rounds) >= s + 2).await;
    }

    /// Waits until the stand-in has received `n` messages (or fails after 10 s).
    pub async fn sent(&self, n: usize) -> Vec<Recorded> {
        for _ in 0..200 {
            let sent = self.graph.messages();
            if sent.len() >= n {
                return sent;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "expected {n} messages at the Graph API, got {:#?}",
            self.graph.messages()
        );
    }
}

/// The status line's start of a POST to `path` that announces 1 MiB of JSON and sends its first
/// 64 KiB: a server refusing it answers before the rest comes (a client still writing the whole
/// body could see the connection close before it reads the answer). `header` is one more header
/// line such as `Authorization: Bearer …`, or empty.
#[allow(dead_code)]
pub async fn oversized_post(base: &str, path: &str, header: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
    let extra = if header.is_empty() {
        String::new()
    } else {
        format!("{header}\r\n")
    };
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{extra}Content-Length: 1048576\r\n\r\n"
    );
    c.write_all(head.as_bytes()).await.unwrap();
    c.write_all(&[b' '; 64 * 1024]).await.unwrap();
    let mut status = [0u8; 12];
    c.read_exact(&mut status).await.unwrap();
    String::from_utf8_lossy(&status).into_owned()
}

/// Every file of a data directory (the database, its WAL) as text, to look for a raw value.
#[allow(dead_code)]
pub fn stored_text(dir: &std::path::Path) -> String {
    let mut bytes = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        bytes.extend(std::fs::read(e.unwrap().path()).unwrap());
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Polls `done` until it holds; fails the test after 10 s.
pub async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

/// A POST of `body` to the service's `/webhook`, not yet signed.
pub fn webhook_request(http: &reqwest::Client, base: &str, body: &[u8]) -> reqwest::RequestBuilder {
    http.post(format!("{base}/webhook"))
        .header("content-type", "application/json")
        .body(body.to_vec())
}

/// The text of the service's `/metrics`.
pub async fn metrics_text(http: &reqwest::Client, base: &str) -> String {
    http.get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A resident's text message in a Cloud API webhook.
/// The provider's timestamp on test messages: 2100-01-01. A send time after the service's clock
/// counts as "now" (a phone's clock can be ahead), so tests that move the test clock need not
/// keep these in step; the 24-hour window then runs from the moment the service received them.
pub const SENT_AT: &str = "4102444800";

pub fn text_message(id: &str, from: &str, text: &str) -> Value {
    envelope(json!({
        "contacts": [{ "profile": { "name": "Fatima" }, "wa_id": from }],
        "messages": [{ "from": from, "id": id, "timestamp": SENT_AT, "type": "text", "text": { "body": text } }]
    }))
}

/// A webhook with `value` as the change of the test's business number.
pub fn envelope(value: Value) -> Value {
    let mut value = value;
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] =
        json!({ "display_phone_number": "31115000000", "phone_number_id": "123456" });
    json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": "1", "changes": [{ "field": "messages", "value": value }] }]
    })
}

/// The text of a message sent to the Graph API: a text body or an interactive one.
pub fn body_text(r: &Recorded) -> String {
    r.body["text"]["body"]
        .as_str()
        .or_else(|| r.body["interactive"]["body"]["text"].as_str())
        .unwrap_or_default()
        .to_string()
}
