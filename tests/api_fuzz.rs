//! Fuzzing the agents' API: arbitrary and mangled bodies to every route that changes something
//! (POST and DELETE; the API has no PUT or PATCH), as the admin's or an agent's bearer token or a
//! signed-in session with its CSRF token. Every answer is a 2xx, or a 4xx with a JSON error body;
//! never a 5xx. The server stays up (`/healthz` after every case), and a 4xx leaves every table
//! of the database as it was.
//!
//! A short run in `cargo test` (a few seconds); a long one on demand:
//! `PROPTEST_CASES=20000 cargo test --test api_fuzz`.

mod common;

use std::time::Duration;

use common::app::{text_message, Setup, TestApp, ADMIN};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Map, Value};

const PASSWORD: &str = "een lang wachtwoord";
/// The resident whose conversation the conversation routes act on.
const RESIDENT: &str = "31612345678";
/// A second resident, for the erasure route to erase once.
const OTHER: &str = "31687654321";
/// Every department: the agent sees every queue.
const DEPARTMENTS: [&str; 6] = [
    "kcc",
    "burgerzaken",
    "belastingen",
    "openbare-ruimte",
    "vergunningen",
    "sociaal-domein",
];

/// A route that changes something, and a body it takes when valid.
#[derive(Debug, Clone, Copy)]
enum Route {
    Claim,
    Reply,
    Forward,
    Resolve,
    Reopen,
    AddUser,
    RemoveUser,
    Login,
    Logout,
    EditorReload,
    EditorTry,
    EraseResident,
}

const ROUTES: &[Route] = &[
    Route::Claim,
    Route::Reply,
    Route::Forward,
    Route::Resolve,
    Route::Reopen,
    Route::AddUser,
    Route::RemoveUser,
    Route::Login,
    Route::Logout,
    Route::EditorReload,
    Route::EditorTry,
    Route::EraseResident,
];

impl Route {
    fn method(self) -> reqwest::Method {
        match self {
            Route::RemoveUser | Route::EraseResident => reqwest::Method::DELETE,
            _ => reqwest::Method::POST,
        }
    }

    /// The path, with `segment` (fuzzed) where the route takes one, else the real id.
    fn path(self, conversation: i64, segment: Option<&str>) -> String {
        let id = segment.map_or(conversation.to_string(), str::to_string);
        match self {
            Route::Claim => format!("/api/conversations/{id}/claim"),
            Route::Reply => format!("/api/conversations/{id}/reply"),
            Route::Forward => format!("/api/conversations/{id}/forward"),
            Route::Resolve => format!("/api/conversations/{id}/resolve"),
            Route::Reopen => format!("/api/conversations/{id}/reopen"),
            Route::AddUser => "/api/users".into(),
            Route::RemoveUser => format!("/api/users/{}", segment.unwrap_or("fz-gone")),
            Route::Login => "/auth/login".into(),
            Route::Logout => "/auth/logout".into(),
            Route::EditorReload => "/api/editor/reload".into(),
            Route::EditorTry => "/api/editor/try".into(),
            Route::EraseResident => format!("/api/residents/whatsapp/{}", segment.unwrap_or(OTHER)),
        }
    }

    /// Valid bodies of the route (the first one is what the mutations start from).
    fn valid(self, n: u32) -> Value {
        match self {
            Route::Reply => [
                json!({ "text": "Wij bellen u morgen terug." }),
                json!({ "template": "vraag_nog_open" }),
            ][n as usize % 2]
                .clone(),
            Route::Forward => json!({ "department": "burgerzaken", "note": "graag terugbellen" }),
            Route::AddUser => json!({
                "name": format!("fz-{n}"), "role": "agent", "departments": ["kcc"], "password": PASSWORD
            }),
            Route::Login => json!({ "name": "fz-agent", "password": PASSWORD }),
            Route::EditorTry => {
                json!({ "text": "ik wil een paspoort aanvragen", "at": "2026-11-24T10:00" })
            }
            _ => json!({}),
        }
    }
}

/// Who asks.
#[derive(Debug, Clone, Copy)]
enum Who {
    Admin,
    Agent,
    Session,
}

/// What is sent as the body.
#[derive(Debug, Clone)]
enum Body {
    /// The route's valid body.
    Valid(u32),
    /// The valid body with one field set to another value (a wrong type, a huge or odd string).
    Field(String, Value),
    /// The valid body without one of its fields.
    Without(String),
    /// The valid body with a field it does not know.
    Extra(String, Value),
    /// Any JSON value.
    Any(Value),
    /// Arrays or objects nested this deep.
    Deep(usize, bool),
    /// The valid body's bytes with some bytes changed, inserted or cut.
    Mangled(Vec<(usize, u8, u8)>, usize),
    /// Any bytes (mostly not UTF-8).
    Bytes(Vec<u8>),
    /// A string this long in the first field (the body limit is 64 KiB).
    Huge(usize),
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        "[a-z0-9 -]{0,20}".prop_map(Value::from),
        // Texts the service treats specially: personal data, template and department names.
        prop_oneof![
            Just("mijn bsn is 111222333"),
            Just("NL91ABNA0417164300"),
            Just("vraag_nog_open"),
            Just("burgerzaken"),
            Just("admin"),
            Just("\u{0}\u{202e}\u{feff}😀"),
            Just("2026-11-24T10:00"),
            Just(""),
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{0,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("text"),
        Just("template"),
        Just("department"),
        Just("note"),
        Just("name"),
        Just("role"),
        Just("departments"),
        Just("password"),
        Just("at"),
    ]
    .prop_map(str::to_string)
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        3 => (0u32..1000).prop_map(Body::Valid),
        6 => (field(), json_value()).prop_map(|(f, v)| Body::Field(f, v)),
        2 => field().prop_map(Body::Without),
        1 => ("[a-z]{1,8}", json_value()).prop_map(|(f, v)| Body::Extra(f, v)),
        3 => json_value().prop_map(Body::Any),
        1 => (1usize..5000, any::<bool>()).prop_map(|(d, a)| Body::Deep(d, a)),
        4 => (prop::collection::vec((any::<usize>(), 0u8..4, any::<u8>()), 1..6), any::<usize>())
            .prop_map(|(e, c)| Body::Mangled(e, c)),
        2 => prop::collection::vec(any::<u8>(), 0..300).prop_map(Body::Bytes),
        1 => prop_oneof![Just(4097usize), Just(60_000), Just(70_000), Just(300_000)].prop_map(Body::Huge),
    ]
}

fn content_type() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![
        6 => Just(Some("application/json")),
        1 => Just(None),
        1 => Just(Some("text/plain")),
        1 => Just(Some("application/x-www-form-urlencoded")),
        1 => Just(Some("multipart/form-data; boundary=x")),
        1 => Just(Some("application/json; charset=latin1")),
    ]
}

/// A path segment in place of an id or name: mostly none (the real one), else odd text,
/// percent-encoded so that it stays one segment.
fn segment() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        8 => Just(None),
        1 => any::<String>().prop_map(|s| Some(percent(&s))),
        1 => prop_oneof![
            Just("0"), Just("-1"), Just("99999999999999999999"), Just("1e3"), Just("%ZZ"),
            Just("%00"), Just("beheer"), Just("..%2F..%2Fetc"), Just("fz-1"),
        ]
        .prop_map(|s| Some(s.to_string())),
    ]
}

fn percent(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() {
        out.push('x');
    }
    out
}

fn bytes_of(route: Route, body: &Body) -> Vec<u8> {
    let valid = route.valid(0);
    let with = |f: &dyn Fn(&mut Map<String, Value>)| {
        let mut m = valid.as_object().cloned().unwrap_or_default();
        f(&mut m);
        serde_json::to_vec(&Value::Object(m)).unwrap()
    };
    match body {
        Body::Valid(n) => serde_json::to_vec(&route.valid(*n)).unwrap(),
        Body::Field(k, v) => with(&|m| {
            m.insert(k.clone(), v.clone());
        }),
        Body::Without(k) => with(&|m| {
            m.remove(k);
        }),
        Body::Extra(k, v) => with(&|m| {
            m.insert(format!("x{k}"), v.clone());
        }),
        Body::Any(v) => serde_json::to_vec(v).unwrap(),
        Body::Deep(depth, arrays) => {
            let (open, close) = if *arrays {
                ("[", "]")
            } else {
                ("{\"a\":", "}")
            };
            let mut s = open.repeat(*depth);
            s.push('1');
            s.push_str(&close.repeat(*depth));
            s.into_bytes()
        }
        Body::Mangled(edits, cut) => {
            let mut b = serde_json::to_vec(&valid).unwrap();
            for (at, kind, byte) in edits {
                let at = at % (b.len() + 1);
                match kind {
                    0 if at < b.len() => b[at] = *byte,
                    1 => b.insert(at, *byte),
                    2 if at < b.len() => {
                        b.remove(at);
                    }
                    _ => b.insert(at, [b'"', b'{', b'\\', 0xff][*byte as usize % 4]),
                }
            }
            let keep = cut % (b.len() + 2);
            if keep <= b.len() {
                b.truncate(keep);
            }
            b
        }
        Body::Bytes(b) => b.clone(),
        Body::Huge(n) => {
            let key = valid
                .as_object()
                .and_then(|m| m.keys().next().cloned())
                .unwrap_or_else(|| "text".into());
            with(&|m| {
                m.insert(key.clone(), Value::from("é".repeat(n / 2)));
            })
        }
    }
}

/// Every table's rows, as text: what a 4xx must leave alone.
fn snapshot(db: &rusqlite::Connection) -> String {
    let mut out = String::new();
    let tables: Vec<String> = {
        let mut stmt = db
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    for t in tables {
        out.push_str(&format!("# {t}\n"));
        let mut stmt = db.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                (0..n)
                    .map(|i| r.get::<_, rusqlite::types::Value>(i))
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap();
        for row in rows {
            out.push_str(&format!("{:?}\n", row.unwrap()));
        }
    }
    out
}

struct Fixture {
    app: TestApp,
    conversation: i64,
    agent: String,
    /// The session's cookie and CSRF token (signed in again after a case signs it out).
    session: std::sync::Mutex<(String, String)>,
}

/// Signs the agent in: the session's cookie (`name=value`) and CSRF token.
async fn sign_in(app: &TestApp) -> (String, String) {
    let r = app
        .http
        .post(format!("{}/auth/login", app.base))
        .json(&json!({ "name": "fz-agent", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_string();
    let csrf = r.json::<Value>().await.unwrap()["csrf"]
        .as_str()
        .unwrap()
        .to_string();
    (cookie, csrf)
}

async fn fixture() -> Fixture {
    let app = TestApp::start_setup(Setup::with_admin()).await;
    // An agent of the KCC with a password, to sign in (the session) and to act (the token).
    let (status, v) = app
        .post_as(
            ADMIN,
            "/api/users",
            json!({ "name": "fz-agent", "role": "agent", "departments": DEPARTMENTS, "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    let agent = v["token"].as_str().unwrap().to_string();
    let session = std::sync::Mutex::new(sign_in(&app).await);
    for (id, from) in [("wamid.FZ1", RESIDENT), ("wamid.FZ2", OTHER)] {
        let r = app
            .post(&text_message(
                id,
                from,
                "ik heb een klacht over mijn buurman",
            ))
            .await;
        assert_eq!(r.status(), 200);
    }
    app.drain().await;
    // The first resident's conversation (the first one stored).
    let conversation = {
        let db = rusqlite::Connection::open(app.db_path()).unwrap();
        db.query_row("SELECT MIN(id) FROM conversations", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap()
    };
    let (status, v) = app
        .get_as(&agent, &format!("/api/conversations/{conversation}"))
        .await;
    assert_eq!(status, 200, "{v}");
    Fixture {
        app,
        conversation,
        agent,
        session,
    }
}

/// A client that keeps no connection for later.
fn fresh() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// Waits until no reply is waiting to be sent (the stand-in answers at once).
async fn settle(db: &rusqlite::Connection) {
    for _ in 0..2000 {
        let open: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        if open == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("a reply stays unsent");
}

async fn case(
    f: &Fixture,
    db: &rusqlite::Connection,
    route: Route,
    who: Who,
    body: &Body,
    ctype: Option<&str>,
    segment: Option<&str>,
) -> Result<(), TestCaseError> {
    let app = &f.app;
    let path = route.path(f.conversation, segment);
    let bytes = bytes_of(route, body);
    let before = snapshot(db);
    let mut req = app
        .http
        .request(route.method(), format!("{}{path}", app.base))
        .timeout(Duration::from_secs(20))
        .body(bytes.clone());
    if let Some(c) = ctype {
        req = req.header("content-type", c);
    }
    req = match who {
        Who::Admin => req.bearer_auth(ADMIN),
        Who::Agent => req.bearer_auth(&f.agent),
        Who::Session => {
            let (cookie, csrf) = f.session.lock().unwrap().clone();
            req.header("cookie", cookie)
                .header("x-csrf-token", csrf)
                .header("origin", app.base.replace("http://", "https://"))
        }
    };
    let what = format!(
        "{} {path} as {who:?}, {ctype:?}, {} bytes: {}",
        route.method(),
        bytes.len(),
        String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
    );
    let r = req.send().await;
    let r = match r {
        Ok(r) => r,
        // A body over the limit may be refused before it was all sent.
        Err(e) if bytes.len() > 64 * 1024 => {
            let _ = e;
            let health = fresh()
                .get(format!("{}/healthz", app.base))
                .send()
                .await
                .map(|r| r.status().as_u16());
            prop_assert_eq!(health.ok(), Some(200), "down after {}", what);
            prop_assert_eq!(
                &snapshot(db),
                &before,
                "a refused body changed the store: {}",
                what
            );
            return Ok(());
        }
        Err(e) => return Err(TestCaseError::fail(format!("no answer ({e}): {what}"))),
    };
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    prop_assert!(status < 500, "{} for {}: {}", status, what, text);
    if status >= 400 {
        let v: Value = serde_json::from_str(&text).map_err(|_| {
            TestCaseError::fail(format!(
                "{status} without a JSON body ({text:?}) for {what}"
            ))
        })?;
        prop_assert!(
            v["error"].is_string(),
            "{} without an error name ({}) for {}",
            status,
            text,
            what
        );
        prop_assert_eq!(
            &snapshot(db),
            &before,
            "a {} changed the store: {} ({})",
            status,
            what,
            text
        );
    }
    if status < 300 {
        // What it changed settles (a reply sent) before the next case takes its snapshot.
        settle(db).await;
        if matches!((route, who), (Route::Logout, Who::Session)) {
            let fresh = sign_in(app).await;
            *f.session.lock().unwrap() = fresh;
        }
    }
    // On a new connection: the server may close the one of a refused body.
    let health = fresh()
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .map(|r| r.status().as_u16());
    prop_assert_eq!(health.ok(), Some(200), "down after {}", what);
    Ok(())
}

#[test]
fn every_changing_route_answers_bad_bodies_with_a_4xx_and_changes_nothing() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let f = rt.block_on(fixture());
    let db = rusqlite::Connection::open_with_flags(
        f.app.db_path(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    db.busy_timeout(Duration::from_secs(10)).unwrap();
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let who = prop_oneof![Just(Who::Admin), Just(Who::Agent), Just(Who::Session)];
    let strategy = (0..ROUTES.len(), who, body(), content_type(), segment());
    let started = std::time::Instant::now();
    let result = runner.run(&strategy, |(route, who, body, ctype, segment)| {
        rt.block_on(case(
            &f,
            &db,
            ROUTES[route],
            who,
            &body,
            ctype,
            segment.as_deref(),
        ))
    });
    eprintln!("{cases} cases in {:.1} s", started.elapsed().as_secs_f64());
    if let Err(e) = result {
        panic!("{e}");
    }
}
